package thehive

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
)

func diskEnv() *steps.Env {
	inv := &config.Inventory{Cluster: "prod",
		Nodes: []config.Node{
			{Name: "node1", Host: "10.0.0.1", Roles: []string{config.RoleCassandra, config.RoleFiles}},
			{Name: "node2", Host: "10.0.0.2", Roles: []string{config.RoleCassandra}, Paths: map[string]string{config.PathCassandraData: "/data/cassandra"}},
		},
		Cassandra: &config.Cassandra{Keyspace: "thehive", DataDir: "/var/lib/cassandra/data"},
		Storage:   &config.Storage{Provider: "localfs", Path: "/opt/thp/thehive/files"},
	}
	return &steps.Env{Inv: inv}
}

func diskManifest() *repo.Manifest {
	tables := func(sizes ...int64) []repo.TableArchive {
		var out []repo.TableArchive
		for i, s := range sizes {
			out = append(out, repo.TableArchive{Table: string(rune('a' + i)), Size: s})
		}
		return out
	}
	return &repo.Manifest{ID: "b1", Keyspace: "thehive",
		Schema: "CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '2'};",
		Cassandra: []repo.NodeArchive{
			{Node: "node1", HostID: "h1", Tables: tables(100, 300)},
			{Node: "node2", HostID: "h2", Tables: tables(50, 50)},
		},
		Files: &repo.FileStore{Size: 1000},
	}
}

func TestRestoreDiskNeeds(t *testing.T) {
	env := diskEnv()
	m := diskManifest()
	r := &RestoreRun{Manifest: m}
	r.keyspace().SetTopology(cassandra.LoadImport, map[string]repo.NodeArchive{"node1": m.Cassandra[0], "node2": m.Cassandra[1]})
	got := map[string]int64{}
	for _, d := range restoreDiskNeeds(env, r) {
		got[d.Node+":"+d.Dir] += d.Bytes
	}
	want := map[string]int64{"node1:/var/lib/cassandra/data": 400, "node2:/data/cassandra": 100, "node1:/opt/thp/thehive/files": 1000}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("import: need %s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}

	// RF 2 on 2 nodes: one node's SSTables hold every row; each node gets all of them back.
	r = &RestoreRun{Manifest: m}
	r.keyspace().SetTopology(cassandra.LoadSSTableLoader, nil)
	got = map[string]int64{}
	for _, d := range restoreDiskNeeds(env, r) {
		got[d.Node+":"+d.Dir] += d.Bytes
	}
	want = map[string]int64{"node1:/tmp": 300, "node1:/var/lib/cassandra/data": 400, "node2:/data/cassandra": 400}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sstableloader: need %s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

func TestRestoreDiskStepFailsWhenFull(t *testing.T) {
	env := diskEnv()
	m := diskManifest()
	r := &RestoreRun{Manifest: m}
	r.keyspace().SetTopology(cassandra.LoadImport, map[string]repo.NodeArchive{"node1": m.Cassandra[0], "node2": m.Cassandra[1]})
	f := remotetest.New(t)
	df := func(mount string, avail int) string {
		return "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/sda1 100000 1 " + strconv.Itoa(avail) + " 1% " + mount + "\n"
	}
	f.Expect("node1", "df -PB1 /var/lib/cassandra/data 2>/dev/null || df -PB1 /var/lib/cassandra").Stdout(df("/", 1200))
	f.Expect("node1", "df -PB1 /opt/thp/thehive/files 2>/dev/null || df -PB1 /opt/thp/thehive").Stdout(df("/", 1200))
	f.Expect("node2", "df -PB1 /data/cassandra 2>/dev/null || df -PB1 /data").Stdout(df("/data", 99))
	rec := &steps.Recorder{}
	e := &steps.Engine{Exec: f, Reporter: rec}
	var checks []steps.CheckResult
	step := restoreDiskStep(env, r)
	err := e.Run(context.Background(), steps.Runbook{Name: "t", Steps: []steps.Step{step, {ID: "collect", Kind: steps.KindCheck, Run: func(ctx context.Context, rc *steps.RunContext) error {
		checks = rc.Checks()
		return nil
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	var n1, n2 steps.CheckResult
	for _, c := range checks {
		switch c.Node {
		case "node1":
			n1 = c
		case "node2":
			n2 = c
		}
	}
	// node1: 400 B of SSTables and 1000 B of attachments on the same file system: 1400 > 1200.
	if n1.Status != steps.CheckFail || !strings.Contains(n1.Remedy, "free ") {
		t.Errorf("node1 (1400 B needed on /, 1200 free) = %+v", n1)
	}
	if n2.Status != steps.CheckFail || !strings.Contains(n2.Evidence, "/data") {
		t.Errorf("node2 (100 B needed on /data, 99 free) = %+v", n2)
	}
}
