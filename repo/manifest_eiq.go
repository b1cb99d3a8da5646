package repo

import "strings"

// This file holds the parts of a manifest an EclecticIQ backup adds: the
// PostgreSQL dump with its databases and tables, the broker's queues (and
// RDB), and whether it ran hot; its configuration archive is one of
// Manifest.Configs, as Alien4Cloud's are.

// Paths of an EclecticIQ backup inside its directory.
const (
	PostgresDumpFile = "postgresql/dumpall.sql"
	RedisRDBFile     = "redis/dump.rdb"
)

// PGBackup is a PostgreSQL cluster's dump (pg_dumpall) and what the
// cluster held when it was taken.
type PGBackup struct {
	// Node is where the cluster ran; Version its server version
	// ("15.18"), Major its major version; DumpVersion pg_dumpall's.
	Node        string `json:"node"`
	Version     string `json:"version"`
	Major       int    `json:"major"`
	DumpVersion string `json:"dump_version,omitempty"`
	// Dump is the pg_dumpall file; it ends with the completion trailer.
	Dump StoredFile `json:"dump"`
	// DumpDatabases are the databases the dump creates (its CREATE
	// DATABASE lines): a restore drops these first.
	DumpDatabases []string `json:"dump_databases"`
	// Databases are the cluster's databases with their sizes and tables.
	Databases []PGDatabase `json:"databases"`
}

// PGDatabase is one database of the cluster.
type PGDatabase struct {
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	Tables []PGTable `json:"tables,omitempty"`
}

// PGTable is one table with its row count and content hash (the sum of
// its rows' md5 prefixes: equal content, equal hash, in any order).
type PGTable struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
	Hash string `json:"hash"`
}

// RedisBackup is what the broker held: the queued work seen before the
// workers stopped, and its RDB when asked.
type RedisBackup struct {
	Node   string           `json:"node"`
	DB     int              `json:"db"`
	Queues map[string]int64 `json:"queues"`
	Total  int64            `json:"total"`
	RDB    *StoredFile      `json:"rdb,omitempty"`
}

// dumpallTrailer is the comment pg_dumpall writes last
// (parse.DumpallTrailer).
const dumpallTrailer = "-- PostgreSQL database cluster dump complete"

// tailWriter keeps the last 4 KiB written to it.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8192 {
		t.b = append(t.b[:0], t.b[len(t.b)-4096:]...)
	}
	return len(p), nil
}

// endsWithDumpTrailer says whether the last line that is neither blank nor
// "--" is pg_dumpall's trailer.
func (t *tailWriter) endsWithDumpTrailer() bool {
	ls := strings.Split(strings.ReplaceAll(string(t.b), "\r\n", "\n"), "\n")
	for i := len(ls) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(ls[i]); l != "" && l != "--" {
			return l == dumpallTrailer
		}
	}
	return false
}

// eiqComponents lists the EclecticIQ parts m holds.
func (m *Manifest) eiqComponents() []string {
	var c []string
	if m.PostgreSQL != nil {
		c = append(c, "postgresql")
	}
	if m.Redis != nil && m.Redis.RDB != nil {
		c = append(c, "redis")
	}
	return c
}

// eiqSize is the bytes of the EclecticIQ parts.
func (m *Manifest) eiqSize() int64 {
	var n int64
	if m.PostgreSQL != nil {
		n += m.PostgreSQL.Dump.Size
	}
	if m.Redis != nil && m.Redis.RDB != nil {
		n += m.Redis.RDB.Size
	}
	return n
}

// eiqExpected is what Verify checks of the EclecticIQ parts.
func (m *Manifest) eiqExpected() []expected {
	var out []expected
	if p := m.PostgreSQL; p != nil {
		out = append(out, expected{path: p.Dump.Path, size: p.Dump.Size, sha: p.Dump.SHA256, dump: true})
	}
	if r := m.Redis; r != nil && r.RDB != nil {
		out = append(out, expected{path: r.RDB.Path, size: r.RDB.Size, sha: r.RDB.SHA256})
	}
	return out
}
