package thehive

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// ringHost is one ring member as the system tables describe it.
type ringHost struct {
	Address, HostID, DC, Rack, Version string
	Tokens                             []string
}

// cqlSession is a CQL session through a node's tunnel, with what the
// runbooks ask of it.
type cqlSession struct{ s *gocql.Session }

// exec runs a statement (DDL, GRANT, TRUNCATE).
func (q cqlSession) exec(ctx context.Context, stmt string) error {
	if err := q.s.Query(stmt).ExecContext(ctx); err != nil {
		return fmt.Errorf("CQL %.80s: %w", stmt, err)
	}
	return nil
}

// awaitSchemaAgreement waits until every node sees the same schema.
func (q cqlSession) awaitSchemaAgreement(ctx context.Context) error {
	return q.s.AwaitSchemaAgreement(ctx)
}

// count returns the rows of ks.table (SELECT count(*)).
func (q cqlSession) count(ctx context.Context, ks, table string) (int64, error) {
	var n int64
	if err := q.s.Query("SELECT count(*) FROM "+quoteCQLIdent(ks)+"."+quoteCQLIdent(table)).ScanContext(ctx, &n); err != nil {
		return 0, fmt.Errorf("count %s.%s: %w", ks, table, err)
	}
	return n, nil
}

// describeKeyspace runs the server-side DESCRIBE KEYSPACE (Cassandra 4.0+)
// and joins the create statements, in the order the server gives them.
func (q cqlSession) describeKeyspace(ctx context.Context, ks string) (string, error) {
	iter := q.s.Query("DESCRIBE KEYSPACE " + quoteCQLIdent(ks)).IterContext(ctx)
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

func (q cqlSession) topology(ctx context.Context) ([]ringHost, error) {
	var hosts []ringHost
	var addr net.IP
	var h ringHost
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
		var p ringHost
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

// quoteCQLIdent quotes a CQL identifier when it needs it.
func quoteCQLIdent(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}
