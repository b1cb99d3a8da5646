// Package cassandra is the practice lab's Cassandra 4.1 stand-in.
//
// A Node (one per lab host) keeps a Store rooted at a data directory
// (default /var/lib/cassandra/data) with the real layout
// <ks>/<table>-<32 hex id>/nb-<gen>-big-<Component> and
// <table dir>/snapshots/<tag>/{hard links, manifest.json, schema.cql}; the
// schema and roles live outside data/, in <data>/../stand-in/. Data.db uses
// the stand-in's own record format (see store.go) so row counts are real.
//
// The node serves:
//   - the CQL native protocol (v3-v5, github.com/datastax/go-cassandra-native-protocol
//     CqlServer) on CQLPort (9042): handshake with optional PasswordAuthenticator,
//     system.local/peers/peers_v2, system_schema.*, server-side DESCRIBE,
//     CREATE/ALTER/DROP KEYSPACE, CREATE/DROP TABLE, USE, CREATE ROLE, GRANT,
//     SELECT count(*) and SELECT of the blob rows; anything else gets a
//     Cassandra-shaped error. The real gocql v2 driver works against it.
//     count(*) reads the SSTables on disk, each row once, as consistency ONE
//     does: when the keyspace's replication factor covers every node (the
//     lab's keyspace, RF = node count) the coordinator replicates every
//     token range and counts its own SSTables; with a smaller factor it
//     merges the rows of every live node, or answers Unavailable when some
//     range has no live replica (count.go).
//   - a JSON control API on ControlPort (7199, the JMX port) used by the
//     stand-in tools and by peers (status, snapshots, import, repair, schema
//     propagation, SSTable stream-in for sstableloader).
//
// Fault switches: a file <data>/../stand-in/ring-state (StateFile) holding J,
// L or M makes the node joining, leaving or moving in every node's
// nodetool status (UJ, UL, UM); a file <data>/../stand-in/schema-version
// (SchemaFile) holding a UUID makes the node report that schema version in
// nodetool describecluster, as a node a schema change has not reached; a
// file <data>/../stand-in/release-version (ReleaseFile) holding a release
// makes the node report that Cassandra version, as a node a rolling upgrade
// has not reached yet.
//
// Peers share the node's ports on their own IPs (as in the lab's network
// namespaces; in tests 127.0.0.1-3). Host IDs and the 16 vnode tokens are
// derived from the listen address, so every node can describe a dead peer.
//
// NodetoolMain, SSTableLoaderMain and CqlshMain are busybox-style entry points
// printing like the 4.1 tools; sstableloader finds the control port of the
// replicas in $CASSANDRA_STANDIN_JMX_PORT (default 7199). ParseStatus,
// ParseListSnapshots, ParseDescribeCluster and ParseSnapshot parse real and
// stand-in tool output alike.
//
// The CQL server logs through zerolog's global logger; Main lowers it to
// ErrorLevel, in-process users may call zerolog.SetGlobalLevel themselves.
package cassandra
