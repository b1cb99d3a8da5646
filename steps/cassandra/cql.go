package cassandra

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

// Host is one ring member as the system tables describe it.
type Host struct {
	Address, HostID, DC, Rack, Version string
	Tokens                             []string
}

// Session is a CQL session through a node's tunnel, with what the
// runbooks ask of it.
type Session struct{ s *gocql.Session }

// Close closes the session.
func (q Session) Close() { q.s.Close() }

// Exec runs a statement (DDL, GRANT, TRUNCATE).
func (q Session) Exec(ctx context.Context, stmt string) error {
	if err := q.s.Query(stmt).ExecContext(ctx); err != nil {
		return fmt.Errorf("CQL %.80s: %w", stmt, err)
	}
	return nil
}

// AwaitSchemaAgreement waits until every node sees the same schema.
func (q Session) AwaitSchemaAgreement(ctx context.Context) error {
	return q.s.AwaitSchemaAgreement(ctx)
}

// Count returns the rows of ks.table (SELECT count(*)).
func (q Session) Count(ctx context.Context, ks, table string) (int64, error) {
	var n int64
	if err := q.s.Query("SELECT count(*) FROM "+QuoteIdent(ks)+"."+QuoteIdent(table)).ScanContext(ctx, &n); err != nil {
		return 0, fmt.Errorf("count %s.%s: %w", ks, table, err)
	}
	return n, nil
}

// DescribeKeyspace runs the server-side DESCRIBE KEYSPACE (Cassandra 4.0+)
// and joins the create statements, in the order the server gives them.
func (q Session) DescribeKeyspace(ctx context.Context, ks string) (string, error) {
	iter := q.s.Query("DESCRIBE KEYSPACE " + QuoteIdent(ks)).IterContext(ctx)
	var ksName, typ, name, stmt string
	var b strings.Builder
	for iter.Scan(&ksName, &typ, &name, &stmt) {
		b.WriteString(strings.TrimSpace(stmt))
		b.WriteString("\n\n")
	}
	if err := iter.Close(); err != nil {
		return "", err
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("keyspace %s: DESCRIBE returned nothing", ks)
	}
	return b.String(), nil
}

// Topology reads the ring from system.local and system.peers_v2: every
// member\'s address, host ID, data center, rack, version and tokens,
// sorted by address.
func (q Session) Topology(ctx context.Context) ([]Host, error) {
	var hosts []Host
	var addr net.IP
	var h Host
	var hostID gocql.UUID
	var tokens []string
	if err := q.s.Query("SELECT broadcast_address, host_id, data_center, rack, release_version, tokens FROM system.local").
		ScanContext(ctx, &addr, &hostID, &h.DC, &h.Rack, &h.Version, &tokens); err != nil {
		return nil, fmt.Errorf("system.local: %w", err)
	}
	h.Address, h.HostID, h.Tokens = addr.String(), hostID.String(), sortedTokens(tokens)
	hosts = append(hosts, h)
	iter := q.s.Query("SELECT peer, host_id, data_center, rack, release_version, tokens FROM system.peers_v2").IterContext(ctx)
	for {
		var p Host
		var pid gocql.UUID
		var ptok []string
		if !iter.Scan(&addr, &pid, &p.DC, &p.Rack, &p.Version, &ptok) {
			break
		}
		p.Address, p.HostID, p.Tokens = addr.String(), pid.String(), sortedTokens(ptok)
		hosts = append(hosts, p)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("system.peers_v2: %w", err)
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Address < hosts[j].Address })
	return hosts, nil
}

func sortedTokens(t []string) []string {
	out := append([]string(nil), t...)
	sort.Strings(out)
	return out
}

// QuoteIdent quotes a CQL identifier when it needs it.
func QuoteIdent(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}

// Open opens a CQL session through the first Cassandra node's tunnel,
// pinned to that node.
func Open(env *steps.Env) (Session, error) {
	c := env.Inv.Cassandra
	nodes := env.Inv.NodesWithRole(config.RoleCassandra)
	var hosts []string
	for _, n := range nodes {
		hosts = append(hosts, n.Host)
	}
	s, err := remote.NewCQLSession(remote.CQLOptions{Hosts: hosts, Port: c.Port, Username: c.Username, Password: env.CassandraPassword, Dial: env.Dial(nodes[0].Name), Pin: true})
	if err != nil {
		return Session{}, fmt.Errorf("cql via %s: %w", nodes[0].Name, err)
	}
	return Session{s}, nil
}
