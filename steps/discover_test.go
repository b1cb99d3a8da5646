package steps

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote/remotetest"
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
	sample, err := os.ReadFile("testdata/real-outputs/cassandra/nodetool-status-1dc-3nodes-UN-apache-docs.txt")
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
	if _, err := RingAddresses(context.Background(), f, "node2", "thehive"); !errors.Is(err, ErrKeyspaceNotFound) {
		t.Fatalf("want ErrKeyspaceNotFound, got %v", err)
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
