package parse

// This file parses what PostgreSQL's client programs print: pg_dumpall's
// version and its dump's completion trailer, psql's errors while a dump
// loads, and the -XAt (unaligned, tuples only) rows of hotsnap's queries.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DumpallTrailer is the comment pg_dumpall writes after everything else: a
// dump without it was cut short.
const DumpallTrailer = "-- PostgreSQL database cluster dump complete"

// ErrNoDumpTrailer is wrapped by CheckDumpallTrailer for a dump that does
// not end with DumpallTrailer.
var ErrNoDumpTrailer = errors.New("the dump does not end with pg_dumpall's completion trailer")

// CheckDumpallTrailer checks the last bytes of a pg_dumpall dump: its last
// line that is neither blank nor a bare "--" must be DumpallTrailer.
func CheckDumpallTrailer(tail []byte) error {
	ls := lines(string(tail))
	for i := len(ls) - 1; i >= 0; i-- {
		l := ls[i]
		if l == "" || l == "--" {
			continue
		}
		if l == DumpallTrailer {
			return nil
		}
		return fmt.Errorf("%w (%q): it was cut short", ErrNoDumpTrailer, clip(shortLine(l)))
	}
	return fmt.Errorf("%w: it is empty", ErrNoDumpTrailer)
}

func shortLine(l string) string {
	if len(l) > 80 {
		return l[:80] + "…"
	}
	return l
}

// PGVersion is a PostgreSQL program's version ("pg_dumpall (PostgreSQL)
// 15.18 (Debian 15.18-0+deb12u1)", or the server's "15.18 (Debian …)").
type PGVersion struct {
	Major int    // 15; 9 for 9.6
	Full  string // "15.18"
}

var pgVersionRE = regexp.MustCompile(`(?:^|\(PostgreSQL\) |PostgreSQL )(\d+)(?:\.(\d+))?(?:\.\d+)?`)

// ParsePGVersion reads the version from `PROG --version` or from `SHOW
// server_version`.
func ParsePGVersion(text string) (PGVersion, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return PGVersion{}, fmt.Errorf("postgresql version: %w", ErrEmptyOutput)
	}
	first := lines(t)[0]
	m := pgVersionRE.FindStringSubmatch(first)
	if m == nil {
		return PGVersion{}, fmt.Errorf("postgresql version: %w: %q", ErrUnexpectedLine, clip(first))
	}
	major, _ := strconv.Atoi(m[1])
	full := m[1]
	if m[2] != "" {
		full += "." + m[2]
	}
	return PGVersion{Major: major, Full: full}, nil
}

// PsqlError is one ERROR (or FATAL, PANIC) psql printed while it ran a
// script, with the DETAIL, HINT and CONTEXT lines after it.
type PsqlError struct {
	// File and Line are where in the script ("psql:FILE:LINE: ERROR: …"),
	// when psql said (with -f; reading stdin without -f it does not).
	File string
	Line int
	// Severity is ERROR, FATAL or PANIC; Message follows it.
	Severity, Message string
	// More holds the DETAIL, HINT and CONTEXT lines.
	More []string
}

// String renders the error as psql printed it, on one line.
func (e PsqlError) String() string {
	s := e.Severity + ":  " + e.Message
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: %s", e.Line, s)
	}
	if len(e.More) > 0 {
		s += " (" + strings.Join(e.More, "; ") + ")"
	}
	return s
}

// roleExistsRE is the one error pg_dumpall(1) says a restore into a cluster
// that has the dumped roles prints: "role "X" already exists" (the
// bootstrap superuser always does).
var roleExistsRE = regexp.MustCompile(`^role ".*" already exists$`)

// Allowed says whether the error is the harmless one of a dump loaded into
// a cluster that already has its roles.
func (e PsqlError) Allowed() bool {
	return e.Severity == "ERROR" && roleExistsRE.MatchString(e.Message)
}

var psqlLineRE = regexp.MustCompile(`^(?:psql:(.*):(\d+): )?(ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DETAIL|HINT|CONTEXT|LOCATION|STATEMENT|QUERY):  ?(.*)$`)

// ParsePsqlErrors reads psql's stderr (psql exits 0 on every error in a
// script: samples psql-restore-*): every ERROR, FATAL and PANIC with its
// position and the lines that explain it. Notices and warnings are not
// errors; a line psql prints for itself ("psql: error: connection to server
// … failed") is a FATAL without a position.
func ParsePsqlErrors(stderr string) []PsqlError {
	var out []PsqlError
	var last *PsqlError
	for _, l := range lines(stderr) {
		if l == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(l, "psql: error: "); ok {
			out = append(out, PsqlError{Severity: "FATAL", Message: rest})
			last = &out[len(out)-1]
			continue
		}
		m := psqlLineRE.FindStringSubmatch(l)
		if m == nil {
			// A continuation (a multi-line DETAIL or CONTEXT).
			if last != nil {
				last.More = append(last.More, strings.TrimSpace(l))
			}
			continue
		}
		switch m[3] {
		case "ERROR", "FATAL", "PANIC":
			n, _ := strconv.Atoi(m[2])
			out = append(out, PsqlError{File: m[1], Line: n, Severity: m[3], Message: m[4]})
			last = &out[len(out)-1]
		case "DETAIL", "HINT", "CONTEXT", "LOCATION", "STATEMENT", "QUERY":
			if last != nil {
				last.More = append(last.More, m[3]+": "+m[4])
			}
		default: // WARNING, NOTICE, INFO: not errors
			last = nil
		}
	}
	return out
}

// PGDatabase is a database of the cluster with its size in bytes.
type PGDatabase struct {
	Name string
	Size int64
}

// ParsePGDatabases reads `psql -XAt -F '\t' -c 'SELECT datname,
// pg_database_size(oid) FROM pg_database …'`: one "name<TAB>bytes" row per
// database.
func ParsePGDatabases(text string) ([]PGDatabase, error) {
	var out []PGDatabase
	for i, l := range lines(text) {
		if l == "" {
			continue
		}
		name, size, ok := strings.Cut(l, "\t")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || name == "" || err != nil {
			return nil, unexpected("psql databases", i+1, l)
		}
		out = append(out, PGDatabase{Name: name, Size: n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("psql databases: %w", ErrEmptyOutput)
	}
	return out, nil
}

// PGTableStat is one table's row count and a hash of its rows' text.
type PGTableStat struct {
	Table string // schema.table
	Rows  int64
	Hash  string // order-independent: the sum of the rows' md5 prefixes, in hex
}

// ParsePGTableStats reads `psql -XAt -F '\t'` rows of "schema.table<TAB>
// rows<TAB>hash".
func ParsePGTableStats(text string) ([]PGTableStat, error) {
	var out []PGTableStat
	for i, l := range lines(text) {
		if l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			return nil, unexpected("psql table counts", i+1, l)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || f[0] == "" {
			return nil, unexpected("psql table counts", i+1, l)
		}
		out = append(out, PGTableStat{Table: f[0], Rows: n, Hash: f[2]})
	}
	return out, nil
}

// ParseCreateDatabase returns the database a line of a pg_dumpall dump
// creates ("CREATE DATABASE eclecticiq WITH TEMPLATE = template0 …",
// with the name double-quoted when it needs quotes), or "".
func ParseCreateDatabase(line string) string {
	rest, ok := strings.CutPrefix(line, "CREATE DATABASE ")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, `"`) {
		var b strings.Builder
		for i := 1; i < len(rest); i++ {
			if rest[i] == '"' {
				if i+1 < len(rest) && rest[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				return b.String()
			}
			b.WriteByte(rest[i])
		}
		return ""
	}
	name, _, _ := strings.Cut(rest, " ")
	return strings.TrimSuffix(name, ";")
}
