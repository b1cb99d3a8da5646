package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

var pg = Cluster{Node: "db1", OSUser: "postgres", Port: 5432}

const dump = "--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE eclecticiq;\n\\connect template1\n" +
	"CREATE DATABASE eclecticiq WITH TEMPLATE = template0 ENCODING = 'UTF8';\nCOPY blob (id) FROM stdin;\n1\n\\.\n\n--\n" +
	"-- PostgreSQL database cluster dump complete\n--\n\n"

func store(t *testing.T) repo.Store {
	s, err := repo.Open(context.Background(), t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDumpAllKeepsOnlyAWholeDump(t *testing.T) {
	ctx := context.Background()
	f := remotetest.New(t)
	f.Expect("db1", "cd / && runuser -u postgres -- pg_dumpall -p 5432 ").Stdout(dump)
	f.Expect("db1", "cd / && runuser -u postgres -- pg_dumpall -p 5432 ").Stdout(dump[:len(dump)/2])
	f.Expect("db1", "cd / && runuser -u postgres -- pg_dumpall -p 5432 ").Stdout(dump).Exit(1).Stderr("pg_dumpall: error: query failed")
	s := store(t)
	rc := steps.Detached(f, "dump")
	d, err := pg.DumpAll(ctx, rc, s, "b/postgresql/dumpall.sql", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Size != int64(len(dump)) || len(d.Databases) != 1 || d.Databases[0] != "eclecticiq" || len(d.SHA256) != 64 {
		t.Fatalf("dump %+v", d)
	}
	for _, want := range []string{"cut short", "exit status 1"} {
		_, err := pg.DumpAll(ctx, rc, s, "b/postgresql/again.sql", nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
		if _, err := s.Stat(ctx, "b/postgresql/again.sql"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a failed dump left a file: %v", err)
		}
	}
}

func TestLoadAllowsOnlyTheRoleError(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("db1", pg.LoadCmd()).Stderr("psql:<stdin>:18: ERROR:  role \"postgres\" already exists\n")
	f.Expect("db1", pg.LoadCmd()).Stderr("psql:<stdin>:18: ERROR:  role \"postgres\" already exists\npsql:<stdin>:98: ERROR:  database \"eclecticiq\" already exists\n")
	rc := steps.Detached(f, "load")
	if err := pg.Load(context.Background(), rc, strings.NewReader(dump), nil); err != nil {
		t.Fatal(err)
	}
	err := pg.Load(context.Background(), rc, strings.NewReader(dump), nil)
	if err == nil || !strings.Contains(err.Error(), `line 98 of the dump: ERROR:  database "eclecticiq" already exists`) {
		t.Fatalf("err = %v", err)
	}
	if c := f.Calls(); c[0].Stdin != dump || !c[0].Sudo {
		t.Fatalf("calls %+v", c)
	}
}

func TestCheckNewerServer(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("db1", pg.VersionCmd()).Stdout("pg_dumpall (PostgreSQL) 11.22\n15.18 (Debian 15.18-0+deb12u1)\n")
	f.Expect("db1", pg.Query("postgres", DatabasesSQL)).Stdout("eclecticiq\t8100000\npostgres\t7500000\n")
	rs := stepstest.Checks(t, f, Check(pg, nil))
	if r := stepstest.Find(t, rs, "db1", "postgresql versions"); r.Status != steps.CheckFail || !strings.Contains(r.Remedy, "bin_dir") {
		t.Errorf("versions %+v", r)
	}
	if r := stepstest.Find(t, rs, "db1", "postgresql databases"); !strings.Contains(r.Evidence, "eclecticiq 7.7 MiB") {
		t.Errorf("databases %+v", r)
	}
}
