package runbooks

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

// listSnapshots renders `nodetool listsnapshots` (4.1) of rows {tag,
// keyspace, table}.
func listSnapshots(rows ...[3]string) string {
	if len(rows) == 0 {
		return "Snapshot Details: \nThere are no snapshots\n"
	}
	const f = "%-29s %-13s %-18s %-9s %-12s %-24s %-24s\n"
	out := "Snapshot Details: \n" + fmt.Sprintf(f, "Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk", "Creation time", "Expiration time")
	for _, r := range rows {
		out += fmt.Sprintf(f, r[0], r[1], r[2], "4.86 KiB", "2 MiB", "2026-11-22T10:00:00.000Z", "")
	}
	return out + "\nTotal TrueDiskSpaceUsed: 9.72 KiB\n"
}

// TestLeftovers: hotsnap's own Cassandra snapshots are warnings naming the
// run (from the backup's marker), their size and the command that clears
// them; another tool's is reported and never cleared; the gate is skipped
// without leftovers, and the clear step clears only what it found, only
// when chosen.
func TestLeftovers(t *testing.T) {
	ctx := context.Background()
	store, err := repo.Open(ctx, t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	killed := "hotsnap-20261122-100000-aaaa"
	if err := repo.WriteRun(ctx, store, &repo.RunMarker{ID: killed, Run: "20261122-100000-abcdef", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	inv := &config.Inventory{Cluster: "prod", Cassandra: &config.Cassandra{Keyspace: "thehive"}}
	for i := range 3 {
		inv.Nodes = append(inv.Nodes, config.Node{Name: fmt.Sprintf("node%d", i+1), Host: fmt.Sprintf("10.0.0.%d", i+11), Roles: []string{config.RoleCassandra}})
	}
	env := &steps.Env{Inv: inv}

	f := remotetest.New(t)
	f.Expect("node1", "nodetool listsnapshots").Stdout(listSnapshots([3]string{killed, "thehive", "edges"}, [3]string{killed, "thehive", "vertices"}, [3]string{"before-upgrade", "thehive", "edges"}))
	f.Expect("node2", "nodetool listsnapshots").Stdout(listSnapshots())
	f.Expect("node3", "nodetool listsnapshots").Stdout(listSnapshots([3]string{"before-upgrade", "thehive", "edges"}))
	l := NewLeftovers(env, StoreOpener(store))
	rs := stepstest.Checks(t, f, l.Check())
	r := stepstest.Find(t, rs, "node1", "leftover snapshots")
	if r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, killed+" (thehive: 4.0 MiB on disk, 9.7 KiB only it holds); left by run 20261122-100000-abcdef") ||
		!strings.Contains(r.Evidence, "not hotsnap's, left alone): before-upgrade") || !strings.Contains(r.Remedy, "nodetool clearsnapshot -t "+killed+" thehive") {
		t.Errorf("node1: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node2", "leftover snapshots"); r.Status != steps.CheckPass {
		t.Errorf("node2: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node3", "leftover snapshots"); r.Status != steps.CheckPass || !strings.Contains(r.Evidence, "before-upgrade") {
		t.Errorf("node3, another tool's snapshot only: %+v", r)
	}

	gate, clear := l.Gate(), l.Clear()
	if why := gate.Skip(); why != "" {
		t.Fatalf("gate skipped with leftovers: %s", why)
	}
	g := *gate.Gate
	gate.Refine(&g)
	if !strings.Contains(g.Happens, "node1: "+killed) || !strings.Contains(g.Happens, "run 20261122-100000-abcdef") || g.Default != "keep" {
		t.Errorf("gate: %+v", g)
	}
	if why := clear.Skip(); why == "" {
		t.Error("the clear step runs without the choice")
	}
	gate.Chose(ClearLeftovers)
	f.Expect("node1", "nodetool clearsnapshot -t "+killed+" thehive").WithSudo(false)
	if err := (&steps.Engine{Exec: f, Reporter: steps.NopReporter{}}).Run(ctx, steps.Runbook{Name: "t", Steps: []steps.Step{clear}}); err != nil {
		t.Fatal(err)
	}

	none := NewLeftovers(env, nil)
	if why := none.Gate().Skip(); why == "" {
		t.Error("gate asked without leftovers")
	}
}

// TestLeftoversNodetoolFails: the leftovers check runs the preflight's
// only nodetool on every node, so a node where nodetool cannot run (JMX
// refusing, as nodetool prints it; not on the login user's PATH) fails it
// as the backup's snapshot would there; a listing it cannot read stays a
// warning.
func TestLeftoversNodetoolFails(t *testing.T) {
	inv := &config.Inventory{Cluster: "prod", Cassandra: &config.Cassandra{Keyspace: "thehive"}}
	for i := range 3 {
		inv.Nodes = append(inv.Nodes, config.Node{Name: fmt.Sprintf("node%d", i+1), Host: fmt.Sprintf("10.0.0.%d", i+11), Roles: []string{config.RoleCassandra}})
	}
	f := remotetest.New(t)
	f.Expect("node1", "nodetool listsnapshots").Exit(1).Stderr("nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused (Connection refused)'.\n")
	f.Expect("node2", "nodetool listsnapshots").Exit(127).Stderr("sh: 1: nodetool: not found\n")
	f.Expect("node3", "nodetool listsnapshots").Stdout("what\n")
	rs := stepstest.Checks(t, f, NewLeftovers(&steps.Env{Inv: inv}, nil).Check())
	for _, n := range []string{"node1", "node2"} {
		if r := stepstest.Find(t, rs, n, "nodetool"); r.Status != steps.CheckFail || !strings.Contains(r.Remedy, "`nodetool snapshot` on every node") {
			t.Errorf("%s: %+v", n, r)
		}
	}
	if r := stepstest.Find(t, rs, "node3", "leftover snapshots"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "could not list the snapshots") {
		t.Errorf("node3: %+v", r)
	}
}

// TestLeftoversRunningESSnapshot: a snapshot of hotsnap's that
// Elasticsearch (the lab's stand-in, copying a byte a second) is still
// taking is named with the run that takes it and the command that aborts
// it; the backup never clears it.
func TestLeftoversRunningESSnapshot(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	cl, err := elastic.NewCluster(filepath.Join(root, "state"), elastic.Options{PathRepo: []string{root}, SnapshotRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Seed("thehive_global", 10, 1<<20); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(elastic.NewHandler(cl, "es-1"))
	defer srv.Close()
	inv := &config.Inventory{Cluster: "prod", Elasticsearch: &config.Elasticsearch{URL: srv.URL, Repository: "thehive_repository"},
		Nodes: []config.Node{{Name: "node1", Host: "10.0.0.11", Roles: []string{config.RoleElasticsearch}}}}
	env := &steps.Env{Inv: inv, Dial: func(string) remote.DialFunc { return nil }}
	escl, _, err := es.Open(env)
	if err != nil {
		t.Fatal(err)
	}
	defer escl.Close()
	if resp, err := es.Do(ctx, escl, esapi.SnapshotCreateRepositoryRequest{Repository: "thehive_repository",
		Body: strings.NewReader(`{"type":"fs","settings":{"location":"` + root + `/repo"}}`)}); err != nil || resp.Status != 200 {
		t.Fatalf("register the repository: %v %+v", err, resp)
	}
	id, run := "hotsnap-20261206-060000-aaaa", "20261206-060000-abcdef"
	if err := es.StartSnapshot(ctx, escl, "thehive_repository", id, []string{"thehive_global"}); err != nil {
		t.Fatal(err)
	}
	store, err := repo.Open(ctx, t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.WriteRun(ctx, store, &repo.RunMarker{ID: id, Run: run, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	l := NewLeftovers(env, StoreOpener(store))
	r := stepstest.Find(t, stepstest.Checks(t, remotetest.New(t), l.Check()), "elasticsearch", "leftover snapshots")
	if r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "running now: "+id+" (taken by run "+run+", journal runs/"+run+".jsonl)") ||
		!strings.Contains(r.Remedy, "abort it: curl -XDELETE "+srv.URL+"/_snapshot/thehive_repository/"+id) {
		t.Errorf("a running snapshot: %+v", r)
	}
	if why := l.Gate().Skip(); why == "" {
		t.Error("the backup offers to clear a snapshot Elasticsearch is taking")
	}
}
