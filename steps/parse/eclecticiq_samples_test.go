package parse

import (
	"errors"
	"strings"
	"testing"
)

// The samples of reference/real-outputs/eclecticiq: PostgreSQL 15, Redis 7
// and systemctl, as hotsnap's EclecticIQ runbooks read them.
func init() {
	sampleCases = append(sampleCases, eiqSampleCases...)
	for k, v := range eiqUnusedSamples {
		unusedSamples[k] = v
	}
}

var eiqUnusedSamples = map[string]string{
	"eclecticiq/psql-failed-packages-query-15.18.txt":         "the failed-packages query's rows are reported as psql prints them (-XAt), not parsed",
	"eclecticiq/redis-cli-connection-refused-7.0.15.txt":      "a refused connection is redis-cli's exit 1: the error quotes its stderr",
	"eclecticiq/redis-cli-wrongpass-stderr-7.0.15.txt":        "hotsnap never passes -a; a wrong REDISCLI_AUTH gives the NOAUTH/WRONGPASS reply parsed elsewhere",
	"eclecticiq/systemctl-template-name-errors.txt":           "hotsnap never names a template unit: instances come from list-units",
	"eclecticiq/systemctl-list-units-legend-footer.txt":       "read by TestListUnitsSkipsLegend (a row of another unit type)",
	"eclecticiq/redis-cli-e-llen-wrongtype-stderr-7.0.15.txt": "hotsnap does not use -e: it reads replies with --no-raw",
}

var eiqSampleCases = []sampleCase{
	{"eclecticiq/pg_dumpall-15.18-head-tail.sql.txt", func(t *testing.T, body string) {
		if err := CheckDumpallTrailer([]byte(body)); err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(body, "[...]")
		if err := CheckDumpallTrailer([]byte(head)); !errors.Is(err, ErrNoDumpTrailer) {
			t.Fatalf("a dump cut before its trailer: %v", err)
		}
	}},
	{"eclecticiq/pg_dumpall-version-15.18.txt", func(t *testing.T, body string) {
		v, err := ParsePGVersion(body)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "major", v.Major, 15)
		eq(t, "full", v.Full, "15.18")
	}},
	{"eclecticiq/psql-on-error-stop-empty-cluster-15.18.txt", func(t *testing.T, body string) {
		errs := ParsePsqlErrors(body)
		if len(errs) != 1 || !errs[0].Allowed() || errs[0].Line != 18 {
			t.Fatalf("errors %+v", errs)
		}
	}},
	{"eclecticiq/psql-restore-into-empty-cluster-15.18.txt", func(t *testing.T, body string) {
		errs := ParsePsqlErrors(body)
		if len(errs) != 1 || !errs[0].Allowed() || errs[0].Line != 0 {
			t.Fatalf("errors %+v", errs)
		}
	}},
	{"eclecticiq/psql-restore-into-nonempty-cluster-15.18.txt", func(t *testing.T, body string) {
		errs := ParsePsqlErrors(body)
		eq(t, "errors", len(errs), 7)
		var bad []string
		for _, e := range errs {
			if !e.Allowed() {
				bad = append(bad, e.String())
			}
		}
		eq(t, "not allowed", len(bad), 5)
		eq(t, "first", bad[0], `line 98: ERROR:  database "eclecticiq" already exists`)
		eq(t, "detail", bad[3], `line 171: ERROR:  duplicate key value violates unique constraint "blob_pkey" (DETAIL: Key (id)=(1) already exists.; CONTEXT: COPY blob, line 1)`)
	}},
	{"eclecticiq/psql-restore-stdin-into-nonempty-cluster-15.18.txt", func(t *testing.T, body string) {
		errs := ParsePsqlErrors(body)
		eq(t, "errors", len(errs), 7)
		eq(t, "allowed", errs[0].Allowed() && errs[1].Allowed() && !errs[2].Allowed(), true)
	}},
	{"eclecticiq/redis-cli-bgsave-lastsave-7.0.15.txt", func(t *testing.T, body string) {
		r, err := RedisReplies(body, 2)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "bgsave", r[0], "Background saving started")
		n, err := ParseRedisInteger(r[1])
		eq(t, "lastsave", n, int64(1796459312))
		eq(t, "err", err, nil)
	}},
	{"eclecticiq/redis-cli-info-persistence-7.0.15.txt", func(t *testing.T, body string) {
		m, err := ParseRedisInfo(strings.ReplaceAll(body, "\n", "\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "bgsave in progress", m["rdb_bgsave_in_progress"], "0")
		eq(t, "status", m["rdb_last_bgsave_status"], "ok")
	}},
	{"eclecticiq/redis-cli-llen-missing-piped-7.0.15.txt", func(t *testing.T, body string) {
		n, err := ParseRedisInteger(body)
		eq(t, "llen", n, int64(0))
		eq(t, "err", err, nil)
	}},
	{"eclecticiq/redis-cli-llen-tty-7.0.15.txt", func(t *testing.T, body string) {
		n, err := ParseRedisInteger(strings.ReplaceAll(body, "\n", "\r\n"))
		eq(t, "llen", n, int64(3))
		eq(t, "err", err, nil)
	}},
	{"eclecticiq/redis-cli-llen-wrongtype-piped-7.0.15.txt", func(t *testing.T, body string) {
		_, err := ParseRedisInteger(body)
		var re *RedisError
		if !errors.As(err, &re) || re.Code != "WRONGTYPE" {
			t.Fatalf("err = %v", err)
		}
		if _, err := RedisReplies(body, 1); !errors.As(err, &re) {
			t.Fatalf("replies: %v", err)
		}
	}},
	{"eclecticiq/redis-cli-llen-wrongtype-tty-7.0.15.txt", func(t *testing.T, body string) {
		_, err := ParseRedisInteger(body)
		var re *RedisError
		if !errors.As(err, &re) || re.Code != "WRONGTYPE" {
			t.Fatalf("err = %v", err)
		}
	}},
	{"eclecticiq/redis-cli-noauth-piped-7.0.15.txt", func(t *testing.T, body string) {
		err := ParseRedisPing(body)
		var re *RedisError
		if !errors.As(err, &re) || re.Code != "NOAUTH" {
			t.Fatalf("err = %v", err)
		}
	}},
	{"eclecticiq/redis-cli-ping-piped-7.0.15.txt", func(t *testing.T, body string) {
		eq(t, "ping", ParseRedisPing(body), nil)
	}},
	{"eclecticiq/systemctl-is-active-multi-and-glob-DERIVED.txt", func(t *testing.T, body string) {
		st, err := ParseIsActiveMany(body)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "states", len(st), 3)
		eq(t, "third", st[2], UnitInactive)
	}},
	{"eclecticiq/systemctl-list-units-manpage-example.txt", func(t *testing.T, body string) {
		us, err := ParseListUnits(body)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "units", len(us), 6)
		eq(t, "marked", us[5].Unit, "user@1000.service")
		eq(t, "desc", us[5].Description, "User Manager for UID 1000")
	}},
	{"eclecticiq/systemctl-list-units-template-instances-debian13.txt", func(t *testing.T, body string) {
		us, err := ParseListUnits(body)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "units", len(us), 2)
		eq(t, "instance", us[1].Unit, "nut-driver@apc.service")
		eq(t, "sub", us[1].Sub, "running")
	}},
}

func TestListUnitsSkipsLegend(t *testing.T) {
	us, err := ParseListUnits(loadSample(t, "eclecticiq/systemctl-list-units-legend-footer.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].Sub != "waiting" {
		t.Fatalf("units %+v", us)
	}
}

func TestPsqlErrorsAndRedisArgs(t *testing.T) {
	errs := ParsePsqlErrors("psql:<stdin>:42: ERROR:  syntax error at or near \"bogus\"\nLINE 1: bogus;\n        ^\nNOTICE:  hello\npsql: error: connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: No such file or directory\n")
	eq(t, "errors", len(errs), 2)
	eq(t, "line", errs[0].Line, 42)
	eq(t, "more", len(errs[0].More), 2)
	eq(t, "fatal", errs[1].Severity, "FATAL")
	eq(t, "arg", RedisArg("q\x06\x163 \"x\\"), `"q\x06\x163 \"x\\"`)
	eq(t, "text", RedisKeyText("q\x06\x163"), `q\x06\x163`)
	eq(t, "create db", ParseCreateDatabase(`CREATE DATABASE "we""ird" WITH TEMPLATE = template0;`), `we"ird`)
	eq(t, "create db", ParseCreateDatabase(`CREATE DATABASE eclecticiq WITH TEMPLATE = template0 ENCODING = 'UTF8';`), "eclecticiq")
	if _, err := RedisReplies("(integer) 1\n(error) NOAUTH Authentication required.\n", 2); err == nil {
		t.Fatal("an error reply among replies must fail")
	}
	dbs, err := ParsePGDatabases("eclecticiq\t123\npostgres\t7\n")
	eq(t, "dbs", len(dbs), 2)
	eq(t, "err", err, nil)
}
