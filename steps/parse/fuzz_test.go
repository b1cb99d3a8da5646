package parse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parser is one of the package's parsers, reading a node's reply.
type parser struct {
	name  string
	parse func(reply string) (any, error)
}

func text[T any](name string, f func(string) (T, error)) parser {
	return parser{name, func(s string) (any, error) { return f(s) }}
}

func body[T any](name string, f func([]byte) (T, error)) parser {
	return parser{name, func(s string) (any, error) { return f([]byte(s)) }}
}

// The parsers by family, one fuzz target each.
var (
	nodetoolParsers = []parser{
		text("nodetool status", ParseNodetoolStatus),
		text("nodetool version", ParseNodetoolVersion),
		text("nodetool info", ParseNodetoolInfo),
		text("nodetool describecluster", ParseDescribeCluster),
		text("nodetool netstats", ParseNetstats),
		text("nodetool listsnapshots", ParseListSnapshots),
		text("nodetool snapshot", ParseSnapshotOutput),
		text("nodetool clearsnapshot", ParseClearSnapshot),
		{"nodetool error", func(s string) (any, error) { return nil, ParseNodetoolError(s) }},
		text("size", ParseSize),
	}
	systemParsers = []parser{
		{"systemctl is-active (0)", func(s string) (any, error) { return ParseIsActive(s, 0) }},
		{"systemctl is-active (3)", func(s string) (any, error) { return ParseIsActive(s, 3) }},
		text("systemctl status", ParseSystemctlStatus),
		text("systemctl list-units", ParseListUnits),
		text("systemctl is-active many", ParseIsActiveMany),
		text("df", ParseDF),
		text("date +%s%N", ParseDateNanos),
		{"du", func(s string) (any, error) { return ParseDU(s), nil }},
		body("thehive status", ParseTheHiveStatus),
	}
	esParsers = []parser{
		body("es error", ParseESError),
		body("es root", ParseESRoot),
		body("es health", ParseClusterHealth),
		body("es snapshot get", ParseSnapshotGet),
		body("es snapshot create", ParseSnapshotCreate),
		body("es restore", ParseRestore),
		body("es snapshot status", ParseSnapshotStatus),
		body("es recovery", ParseRecovery),
		body("es cat recovery", ParseCatRecovery),
		body("es count", ParseCount),
		body("es repositories", ParseRepositories),
		body("es cat indices", ParseCatIndices),
		body("es acknowledged", ParseAcknowledged),
		body("es verify", ParseVerifyRepository),
		body("es nodes path.repo", ParseNodesPathRepo),
		body("es cat primary store", ParseCatPrimaryStore),
		{"es unverified nodes", func(s string) (any, error) {
			e, err := ParseESError([]byte(s))
			if err != nil {
				return nil, err
			}
			return UnverifiedNodes(e), nil
		}},
	}
	pgRedisParsers = []parser{
		{"pg_dumpall trailer", func(s string) (any, error) { return nil, CheckDumpallTrailer([]byte(s)) }},
		text("postgresql version", ParsePGVersion),
		{"psql errors", func(s string) (any, error) { return ParsePsqlErrors(s), nil }},
		text("postgresql databases", ParsePGDatabases),
		text("postgresql table stats", ParsePGTableStats),
		{"create database", func(s string) (any, error) { return ParseCreateDatabase(s), nil }},
		{"redis replies", func(s string) (any, error) { return RedisReplies(s, 2) }},
		text("redis integer", ParseRedisInteger),
		text("redis type", ParseRedisType),
		{"redis ping", func(s string) (any, error) { return nil, ParseRedisPing(s) }},
		text("redis info", ParseRedisInfo),
		{"redis arg", func(s string) (any, error) { return RedisArg(s), nil }},
		{"redis key text", func(s string) (any, error) { return RedisKeyText(s), nil }},
	}
)

// Bounds on what a parser gives back for a reply: an error message a
// terminal can show (a quoted line is cut short, whatever the reply held),
// a result no larger than the reply by more than a constant factor, and an
// answer within the deadline.
const (
	maxErrorBytes  = 4 << 10
	resultFactor   = 8
	resultSlack    = 4 << 10
	parserDeadline = 5 * time.Second
)

// checkBounded runs every parser on reply: no panic (the fuzzer reports
// one), no hang, bounded error and result.
func checkBounded(t *testing.T, parsers []parser, reply string) {
	t.Helper()
	for _, p := range parsers {
		start := time.Now()
		res, err := p.parse(reply)
		if d := time.Since(start); d > parserDeadline {
			t.Errorf("%s: %s on a %d-byte reply", p.name, d, len(reply))
		}
		if err != nil && len(err.Error()) > maxErrorBytes {
			t.Errorf("%s: a %d-byte error on a %d-byte reply: %.200s…", p.name, len(err.Error()), len(reply), err)
		}
		if res != nil {
			b, jerr := json.Marshal(res)
			if jerr == nil && len(b) > resultFactor*len(reply)+resultSlack {
				t.Errorf("%s: a %d-byte result from a %d-byte reply", p.name, len(b), len(reply))
			}
		}
	}
}

// addSamples seeds f with every real output of testdata and a few
// hand-made shapes.
func addSamples(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(sampleDir, "*", "*"))
	if err != nil || len(files) < 100 {
		f.Fatalf("samples: %d files, %v", len(files), err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{"", "\n", "\x00\xff\xfe", "\x1b]0;pwned\x07\x1b[2J", "{}", "[]", "null", `{"error":{}}`, "Datacenter: dc1\n=====\n"} {
		f.Add(s)
	}
}

func fuzzFamily(f *testing.F, parsers []parser) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, reply string) { checkBounded(t, parsers, reply) })
}

// FuzzNodetool: nodetool's replies (status, version, info, describecluster,
// netstats, listsnapshots, snapshot, clearsnapshot, its errors) and sizes.
func FuzzNodetool(f *testing.F) { fuzzFamily(f, nodetoolParsers) }

// FuzzSystem: systemctl, df, du, date and TheHive's /api/status.
func FuzzSystem(f *testing.F) { fuzzFamily(f, systemParsers) }

// FuzzElasticsearch: every Elasticsearch/OpenSearch JSON body.
func FuzzElasticsearch(f *testing.F) { fuzzFamily(f, esParsers) }

// FuzzPostgresRedis: pg_dumpall's trailer, psql's and redis-cli's replies.
func FuzzPostgresRedis(f *testing.F) { fuzzFamily(f, pgRedisParsers) }

// TestParsersBoundedOnHugeReplies: a reply of one 1 MiB line (junk, binary
// bytes, terminal escapes) or of many lines gives every parser an error
// or a result of bounded size, quickly.
func TestParsersBoundedOnHugeReplies(t *testing.T) {
	junk := strings.Repeat("\x1b]0;x\x07\xff\x00é", 1<<20/12)
	replies := []string{
		junk,
		"Datacenter: dc1\n==============\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n--  Address    Load       Tokens  Owns (effective)  Host ID                               Rack\n" + junk,
		"ID                                     : " + junk,
		`{"error":{"type":"` + strings.Repeat("x", 1<<20) + `"},"status":500}`,
		`{"version":{"number":"` + strings.Repeat("9", 1<<20) + `"}}`,
		strings.Repeat("UN  10.0.0.1  1 KiB  16  100%  x  rack1\n", 1<<14),
		"Filesystem 1B-blocks Used Available Use% Mounted on\n" + junk,
		"Active: " + junk,
		strings.Repeat("9", 1<<20),
	}
	for _, fam := range [][]parser{nodetoolParsers, systemParsers, esParsers, pgRedisParsers} {
		for _, r := range replies {
			checkBounded(t, fam, r)
		}
	}
}
