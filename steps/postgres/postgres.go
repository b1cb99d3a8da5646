// Package postgres holds what hotsnap does with a PostgreSQL cluster over
// SSH: pg_dumpall, pg_dump and psql run as the postgres OS user on its
// node (peer authentication, as `sudo -i -u postgres` in EclecticIQ's
// guidelines), never with a password in argv. A dump streams from the
// node into the repository, hashed on the fly, and counts only with
// pg_dumpall's completion trailer; a dump loads through psql with its
// stderr read, since psql exits 0 on errors in a script. It also reads
// versions, databases with their sizes, and row counts and a content hash
// per table for the reports.
package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Component is what the steps of this package work on (Step.Component).
const Component = "postgresql"

// Cluster is a PostgreSQL cluster as reached on its node.
type Cluster struct {
	Node   string // the inventory node it runs on
	OSUser string // the superuser's OS account (peer authentication)
	Port   int
	BinDir string // where its client programs are ("" = PATH)
}

// prog returns the command name of a client program.
func (c Cluster) prog(name string) string {
	if c.BinDir == "" {
		return name
	}
	return remote.Quote(strings.TrimSuffix(c.BinDir, "/") + "/" + name)
}

// As returns cmd (a client program and its arguments, quoted) run as the
// cluster's OS user from /, on its port.
func (c Cluster) As(prog string, args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = remote.Quote(a)
	}
	return "cd / && runuser -u " + remote.Quote(c.OSUser) + " -- " + c.prog(prog) + " -p " + strconv.Itoa(c.Port) + " " + strings.Join(q, " ")
}

// psql is psql without ~/.psqlrc, quiet, unaligned and tuples only,
// tab-separated, on database db.
func (c Cluster) psql(db string, args ...string) string {
	return c.As("psql", append([]string{"-X", "-q", "-A", "-t", "-F", "\t", "-d", db}, args...)...)
}

// Query returns the command that runs sql on database db and prints its
// rows tab-separated.
func (c Cluster) Query(db, sql string) string { return c.psql(db, "-c", sql) }

// QueryOut runs sql on database db and returns its rows.
func (c Cluster) QueryOut(ctx context.Context, rc *steps.RunContext, db, sql string) (string, error) {
	out, err := rc.Stdout(ctx, c.Node, c.Query(db, sql), true)
	if err != nil {
		return "", fmt.Errorf("%s: psql: %w", c.Node, err)
	}
	return out, nil
}

// VersionCmd prints pg_dumpall's version, then the server's.
func (c Cluster) VersionCmd() string {
	return c.prog("pg_dumpall") + " --version && " + c.Query("postgres", "SHOW server_version")
}

// Versions returns pg_dumpall's version and the server's.
func (c Cluster) Versions(ctx context.Context, rc *steps.RunContext) (client, server parse.PGVersion, err error) {
	out, err := rc.Stdout(ctx, c.Node, c.VersionCmd(), true)
	if err != nil {
		return client, server, fmt.Errorf("%s: %w", c.Node, err)
	}
	first, rest, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if client, err = parse.ParsePGVersion(first); err != nil {
		return client, server, fmt.Errorf("%s: %w", c.Node, err)
	}
	if server, err = parse.ParsePGVersion(rest); err != nil {
		return client, server, fmt.Errorf("%s: server version: %w", c.Node, err)
	}
	return client, server, nil
}

// DatabasesSQL lists the databases one can connect to, with their sizes.
const DatabasesSQL = "SELECT datname, pg_database_size(oid) FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1"

// Databases returns the cluster's databases and their sizes.
func (c Cluster) Databases(ctx context.Context, rc *steps.RunContext) ([]parse.PGDatabase, error) {
	out, err := c.QueryOut(ctx, rc, "postgres", DatabasesSQL)
	if err != nil {
		return nil, err
	}
	dbs, err := parse.ParsePGDatabases(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Node, err)
	}
	return dbs, nil
}

// tableStatsSQL makes, with \gexec, one query per table of the database:
// its name, row count and the sum of its rows' md5 prefixes (60 bits), an
// order-independent hash of its content as text.
const tableStatsSQL = `SELECT format('SELECT %L, count(*), coalesce(sum((''x'' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0) FROM %I.%I t', schemaname || '.' || tablename, schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY schemaname, tablename
\gexec
`

// TableStatsCmd is the command TableStats runs on database db (the SQL on
// its stdin).
func (c Cluster) TableStatsCmd(db string) string { return c.psql(db, "-f", "-") }

// TableStats returns every table of database db with its row count and
// content hash.
func (c Cluster) TableStats(ctx context.Context, rc *steps.RunContext, db string) ([]parse.PGTableStat, error) {
	var b strings.Builder
	if _, err := rc.Run(ctx, c.Node, remote.Command{Cmd: c.TableStatsCmd(db), Sudo: true, Stdin: strings.NewReader(tableStatsSQL), Stdout: &b, Stderr: io.Discard}); err != nil {
		return nil, fmt.Errorf("%s: count the rows of %s: %w", c.Node, db, err)
	}
	st, err := parse.ParsePGTableStats(b.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.Node, db, err)
	}
	return st, nil
}

// DumpAllCmd is pg_dumpall of the whole cluster (roles, tablespaces and
// every database) to stdout.
func (c Cluster) DumpAllCmd() string { return c.As("pg_dumpall") }

// Dump is a pg_dumpall dump written into the repository.
type Dump struct {
	Path   string
	Size   int64
	SHA256 string
	// Databases are the databases it creates (its CREATE DATABASE lines).
	Databases []string
}

// DumpAll streams pg_dumpall from the node into store at p, hashing it on
// the way (no file on the node, nothing held whole in memory). The dump
// counts only when pg_dumpall exits 0 and its last line is the completion
// trailer; otherwise nothing is left at p. progress gets the bytes so far.
func (c Cluster) DumpAll(ctx context.Context, rc *steps.RunContext, store repo.Store, p string, progress func(int64)) (*Dump, error) {
	w, err := store.Create(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("create %s in %s: %w", p, store, err)
	}
	dw := newDumpWriter(w)
	_, err = rc.Run(ctx, c.Node, remote.Command{Cmd: c.DumpAllCmd(), Sudo: true, Stdout: dw, OnProgress: progress})
	if err == nil {
		err = parse.CheckDumpallTrailer(dw.tail())
	}
	if err != nil {
		repo.Abort(w)
		return nil, fmt.Errorf("%s: pg_dumpall: %w (no dump was kept)", c.Node, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("finish %s in %s: %w", p, store, err)
	}
	return &Dump{Path: p, Size: dw.n, SHA256: hex.EncodeToString(dw.h.Sum(nil)), Databases: dw.dbs}, nil
}

// tailSize is how much of a dump's end is kept to find its trailer.
const tailSize = 4096

// dumpWriter passes a dump on, hashing it, keeping its last bytes and the
// databases its CREATE DATABASE lines name.
type dumpWriter struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	last []byte // the end of the stream, at most 2*tailSize
	line []byte // the start of the current line (at most 256 bytes)
	dbs  []string
}

func newDumpWriter(w io.Writer) *dumpWriter {
	h := sha256.New()
	return &dumpWriter{w: w, h: h}
}

func (d *dumpWriter) Write(b []byte) (int, error) {
	n, err := d.w.Write(b)
	d.h.Write(b[:n])
	d.n += int64(n)
	d.last = append(d.last, b[:n]...)
	if len(d.last) > 2*tailSize {
		d.last = append(d.last[:0], d.last[len(d.last)-tailSize:]...)
	}
	for rest := b[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		part := rest
		if i >= 0 {
			part = rest[:i]
		}
		if room := 256 - len(d.line); room > 0 {
			d.line = append(d.line, part[:min(room, len(part))]...)
		}
		if i < 0 {
			break
		}
		if name := parse.ParseCreateDatabase(string(d.line)); name != "" {
			d.dbs = append(d.dbs, name)
		}
		d.line = d.line[:0]
		rest = rest[i+1:]
	}
	return n, err
}

func (d *dumpWriter) tail() []byte { return d.last }

// LoadCmd is psql reading a dump on its stdin into database postgres,
// without ~/.psqlrc, its query output discarded, not stopping on errors
// (they are read afterwards).
func (c Cluster) LoadCmd() string {
	return c.As("psql", "-X", "-q", "-o", "/dev/null", "-d", "postgres", "-f", "-")
}

// maxStderr bounds what is kept of psql's stderr while a dump loads.
const maxStderr = 1 << 20

// Load streams dump (size bytes) into the cluster through psql and reads
// its stderr: `role "…" already exists` is the only error allowed (a dump
// loaded into a cluster that has its roles); any other fails the load,
// naming the dump's line. progress gets the bytes sent so far.
func (c Cluster) Load(ctx context.Context, rc *steps.RunContext, dump io.Reader, progress func(int64)) error {
	stderr := &limited{max: maxStderr}
	_, err := rc.Run(ctx, c.Node, remote.Command{Cmd: c.LoadCmd(), Sudo: true, Stdin: dump, Stdout: io.Discard, Stderr: stderr, OnProgress: progress})
	if err != nil {
		return fmt.Errorf("%s: psql: %w", c.Node, err)
	}
	var allowed []string
	for _, e := range parse.ParsePsqlErrors(stderr.String()) {
		if e.Allowed() {
			allowed = append(allowed, e.Message)
			continue
		}
		where := "the dump"
		if e.Line > 0 {
			where = "line " + strconv.Itoa(e.Line) + " of the dump"
		}
		return fmt.Errorf("%s: psql failed at %s: %s:  %s%s (only `role \"…\" already exists` is expected)", c.Node, where, e.Severity, e.Message, more(e.More))
	}
	for _, a := range allowed {
		rc.Output(c.Node, "psql: "+a+" (expected: the cluster has this role)")
	}
	if stderr.cut {
		rc.Output(c.Node, "psql wrote more than 1 MiB on stderr: only its start was read")
	}
	return nil
}

func more(m []string) string {
	if len(m) == 0 {
		return ""
	}
	return " (" + strings.Join(m, "; ") + ")"
}

// limited keeps the first max bytes written to it.
type limited struct {
	b   bytes.Buffer
	max int
	cut bool
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	if l.b.Len() >= l.max {
		l.cut = true
	}
	return len(p), nil
}

func (l *limited) String() string { return l.b.String() }

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a PostgreSQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// DropCmd ends the sessions on database db, then drops it.
func (c Cluster) DropCmd(db string) string {
	return c.psql("postgres",
		"-c", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "+quoteLiteral(db)+" AND pid <> pg_backend_pid()",
		"-c", "DROP DATABASE IF EXISTS "+quoteIdent(db))
}

// Drop drops each database of dbs, ending its sessions first (the
// platform is stopped, but a client left connected would block it).
func (c Cluster) Drop(ctx context.Context, rc *steps.RunContext, dbs []string) error {
	for _, db := range dbs {
		out, err := rc.Stdout(ctx, c.Node, c.DropCmd(db), true)
		if err != nil {
			return fmt.Errorf("%s: drop database %s: %w", c.Node, db, err)
		}
		if n := strings.TrimSpace(out); n != "" && n != "0" {
			rc.Output(c.Node, "ended "+n+" sessions on "+db)
		}
		rc.Output(c.Node, "dropped database "+db)
	}
	return nil
}

// SessionsSQL lists the sessions other than psql's own, per database and
// application.
const SessionsSQL = "SELECT coalesce(datname, ''), coalesce(nullif(application_name, ''), usename), count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1, 2 ORDER BY 1, 2"
