package thehive

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote/remotetest"

	"github.com/hotsnap/hotsnap/steps/parse"
)

func catCmd(file string) string {
	return "if [ -e " + file + " ]; then head -c 1048577 " + file + "; else exit 66; fi"
}

func TestReadTheHiveConfFollowsIncludesOnTheNode(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", catCmd(TheHiveConfPath)).WithSudo(true).Stdout(`
include "secret.conf"
include "/etc/thehive/missing.conf"
db.janusgraph.storage.hostname = ["10.0.0.1", "10.0.0.2"]
db.janusgraph.storage.cql.keyspace = thehive_prod
db.janusgraph.index.search.hostname = ["127.0.0.1"]
storage.provider = localfs
storage.localfs.location = /data/files
`)
	f.Expect("node1", catCmd("/etc/thehive/secret.conf")).WithSudo(true).Stdout("db.janusgraph.storage.username = thehive\ndb.janusgraph.storage.password = sekret\n")
	f.Expect("node1", catCmd("/etc/thehive/missing.conf")).WithSudo(true).Exit(66)
	conf, err := ReadTheHiveConf(context.Background(), f, "node1")
	if err != nil {
		t.Fatal(err)
	}
	if conf.Keyspace != "thehive_prod" || !conf.CassandraAuth || conf.CassandraUser != "thehive" || conf.StoragePath != "/data/files" || len(conf.CassandraHosts) != 2 {
		t.Fatalf("conf = %+v", conf)
	}
	if len(conf.Warnings) == 0 || !strings.Contains(strings.Join(conf.Warnings, " "), "missing.conf") {
		t.Errorf("a missing plain include should be a warning: %q", conf.Warnings)
	}
	for _, w := range conf.Warnings {
		if strings.Contains(w, "sekret") {
			t.Fatal("a warning carries the password")
		}
	}
}

// TestReadTheHiveConfResolvesWithTheServiceEnvironment: ${?VAR} overrides
// (in the file or an include) take the values of the running thehive
// service's environment, as TheHive does; without the service, the
// defaults stay and a warning says why.
func TestReadTheHiveConfResolvesWithTheServiceEnvironment(t *testing.T) {
	conf := `include "cluster.conf"
db.janusgraph.storage.cql.keyspace = thehive
db.janusgraph.storage.cql.keyspace = ${?KEYSPACE}
storage.provider = localfs
storage.localfs.location = /opt/thp/thehive/files
`
	cluster := `db.janusgraph.storage.hostname = ["127.0.0.1"]
db.janusgraph.storage.hostname = ${?CQL_HOSTS}
db.janusgraph.storage.password = ${?CQL_PASSWORD}
`
	for _, c := range []struct {
		name     string
		env      string // "" : thehive not running
		keyspace string
		hosts    []string
		warning  string
	}{
		{"running", "PATH=/usr/bin\x00KEYSPACE=thehive_prod\x00CQL_HOSTS=10.0.0.1,10.0.0.2\x00CQL_PASSWORD=s3cr=t\x00", "thehive_prod", []string{"10.0.0.1", "10.0.0.2"}, ""},
		{"stopped", "", "thehive", []string{"127.0.0.1"}, "resolved without TheHive's environment: node1: the environment of the thehive service could not be read (is it running?)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := remotetest.New(t)
			f.Expect("node1", catCmd(TheHiveConfPath)).WithSudo(true).Stdout(conf)
			f.Expect("node1", catCmd("/etc/thehive/cluster.conf")).WithSudo(true).Stdout(cluster) // read once for both passes
			env := f.Expect("node1", theHiveEnvCmd).WithSudo(true).Stdout(c.env)
			if c.env == "" {
				env.Exit(1)
			}
			got, err := ReadTheHiveConf(context.Background(), f, "node1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Keyspace != c.keyspace || strings.Join(got.CassandraHosts, ",") != strings.Join(c.hosts, ",") {
				t.Errorf("keyspace %q hosts %q, want %q %q", got.Keyspace, got.CassandraHosts, c.keyspace, c.hosts)
			}
			if got.CassandraAuth != (c.env != "") {
				t.Errorf("auth %v: the password comes from the environment", got.CassandraAuth)
			}
			w := strings.Join(got.Warnings, "; ")
			if (c.warning == "") != (w == "") || !strings.Contains(w, c.warning) || strings.Contains(w, "s3cr=t") {
				t.Errorf("warnings %q, want %q", got.Warnings, c.warning)
			}
		})
	}
	// Without substitutions the environment is not read at all.
	f := remotetest.New(t)
	f.Expect("node1", catCmd(TheHiveConfPath)).WithSudo(true).Stdout("db.janusgraph.storage.hostname = [a]\n")
	if _, err := ReadTheHiveConf(context.Background(), f, "node1"); err != nil {
		t.Fatal(err)
	}
}

func TestReadTheHiveConfErrors(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", catCmd(TheHiveConfPath)).Exit(66)
	_, err := ReadTheHiveConf(context.Background(), f, "node1")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "node1") {
		t.Fatalf("missing file: %v", err)
	}
	f.Expect("node2", catCmd(TheHiveConfPath)).Stdout("db {\n  keyspace = \"unterminated\n}\n")
	_, err = ReadTheHiveConf(context.Background(), f, "node2")
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(err.Error(), "node2") {
		t.Fatalf("syntax error should be positioned and name the node: %v", err)
	}
}

func TestRingAddressesFromRealStatus(t *testing.T) {
	sample, err := os.ReadFile("../../steps/parse/testdata/real-outputs/cassandra/nodetool-status-1dc-3nodes-UN-apache-docs.txt")
	if err != nil {
		t.Fatal(err)
	}
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive").Stdout(stripHeader(string(sample)))
	addrs, err := RingAddresses(context.Background(), f, "node1", "thehive")
	if err != nil || len(addrs) != 3 {
		t.Fatalf("addrs %v, %v", addrs, err)
	}
	f.Expect("node2", "nodetool status thehive").Exit(1).Stdout("\nError: The keyspace thehive, does not exist\n")
	if _, err := RingAddresses(context.Background(), f, "node2", "thehive"); !errors.Is(err, parse.ErrKeyspaceNotFound) {
		t.Fatalf("want parse.ErrKeyspaceNotFound, got %v", err)
	}
}

// stripHeader drops the provenance lines (# ...) of a reference sample.
func stripHeader(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "# ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestESURLFor(t *testing.T) {
	for _, c := range []struct {
		hosts  []string
		scheme string
		want   string
	}{
		{[]string{"127.0.0.1"}, "", "http://127.0.0.1:9200"},
		{[]string{"10.0.0.1:9201"}, "https", "https://127.0.0.1:9201"}, // a node's own address: its loopback
		{[]string{"es.example:9200"}, "http", "http://es.example:9200"},
		{[]string{"es.example"}, "http", "http://es.example:9200"},
		{nil, "", config.DefaultESURL},
	} {
		got := ESURLFor(&config.TheHiveConf{ESHosts: c.hosts, ESScheme: c.scheme}, []string{"10.0.0.1", "10.0.0.2"})
		if got != c.want {
			t.Errorf("%v %s: got %s want %s", c.hosts, c.scheme, got, c.want)
		}
	}
}
