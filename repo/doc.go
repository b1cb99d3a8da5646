// Package repo is hotsnap's backup repository: where backups are stored (a
// local directory, ssh://host/path or s3://bucket/prefix, with the same
// layout in each), the manifest that describes one backup, and the
// operations on backups (list, verify, prune policy).
//
// Layout of one backup, relative to the repository root:
//
//	<ID>/manifest.json                               written last, atomically
//	<ID>/schema.cql                                  the keyspace schema (also in the manifest)
//	<ID>/cassandra/<node>/<ks>/<table>-<tableid>.tar one archive per node and table
//	<ID>/files/attachments.tar                       local/NFS attachments
//	<ID>/files/s3/<key>                              S3 attachments, one object per key
//	<ID>/elasticsearch/snapshot.json                 the ES snapshot metadata
//
// A backup without a readable manifest is incomplete by definition.
//
// Data is streamed: Store.Create returns a writer that never holds a whole
// file in memory, and IndexArchive lists a tar archive's files (with their
// SHA-256) and computes its tar digest while it streams, hashing each byte
// once; HashingWriter hashes other files as bytes pass.
package repo
