package cassandra

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

func TestSchemaReplication(t *testing.T) {
	for schema, want := range map[string]int{
		"CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}  AND durable_writes = true;\n\nCREATE TABLE thehive.x (a int PRIMARY KEY);": 3,
		"CREATE KEYSPACE thehive WITH replication = {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2'}  AND durable_writes = true;":             5,
		"CREATE TABLE thehive.x (a int PRIMARY KEY);": 0,
		"": 0,
	} {
		if got := SchemaReplication(schema); got != want {
			t.Errorf("%.60q: got %d want %d", schema, got, want)
		}
	}
}

func TestSSTableCountsAndFields(t *testing.T) {
	files := []repo.FileEntry{{Name: "./nb-1-big-Data.db"}, {Name: "./nb-1-big-Index.db"}, {Name: "nb-2-big-Data.db"},
		{Name: "./.idx/nb-3-big-Data.db"}, {Name: "./manifest.json"}}
	if n := sstablesIn(files); n != 2 {
		t.Errorf("sstablesIn = %d, want 2 (top-level Data.db only)", n)
	}
	out := "staged=7\nleft=0\n"
	if countField(out, "staged") != 7 || countField(out, "left") != 0 || countField(out, "other") != -1 || countField("left=x", "left") != -1 {
		t.Errorf("countField misreads %q", out)
	}
}

// TestRestoreReplicationChoice: a backup's RF 3 restored into 5 nodes or 1
// node is rated against this cluster (what it needs, and more replicas than
// nodes said); the choice gate is skipped when it fits, keeps it by
// default, and the destructive gate says what is done either way.
func TestRestoreReplicationChoice(t *testing.T) {
	const schema = "CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}  AND durable_writes = true;"
	ring := func(n int) []Host {
		var out []Host
		for i := range n {
			out = append(out, Host{Address: fmt.Sprintf("10.0.0.%d", 11+i), DC: "datacenter1"})
		}
		return out
	}
	rate := func(r *Restore, now []Host) steps.CheckResult {
		rs := stepstest.Checks(t, remotetest.New(t), steps.Step{ID: "topology", Kind: steps.KindCheck,
			Run: func(_ context.Context, rc *steps.RunContext) error { r.compareReplication(rc, now); return nil }})
		return stepstest.Find(t, rs, "", "replication")
	}
	r := &Restore{Manifest: &repo.Manifest{Keyspace: "thehive", Schema: schema}}
	gate := r.RFChoice()

	if c := rate(r, ring(3)); c.Status != steps.CheckPass || r.Replication() != nil || gate.Skip() == "" || r.ReplicationPlan() != "" {
		t.Errorf("RF 3 on 3 nodes: %+v, change %+v, skip %q", c, r.Replication(), gate.Skip())
	}

	c := rate(r, ring(5))
	if c.Status != steps.CheckWarn || !strings.Contains(c.Evidence, "thehive: SimpleStrategy, RF 3 on 5 nodes; this cluster needs RF 5 in datacenter1") ||
		!strings.Contains(c.Remedy, "`ALTER KEYSPACE thehive WITH REPLICATION = { 'class' : 'NetworkTopologyStrategy', 'datacenter1' : 5 };` then `nodetool repair -full thehive` on every node") ||
		!strings.Contains(c.Remedy, RFFlag) || strings.Contains(c.Remedy, "QUORUM") {
		t.Errorf("RF 3 on 5 nodes: %+v", c)
	}
	if gate.Skip() != "" || gate.Gate.Default != RFKeep || gate.Gate.Destructive {
		t.Errorf("choice gate: skip %q, %+v", gate.Skip(), gate.Gate)
	}
	if ch, _ := gate.Gate.Choice(RFSet); ch.Flag != "--set-rf" {
		t.Errorf("set choice: %+v", ch)
	}
	g := *gate.Gate
	gate.Refine(&g)
	if !strings.Contains(g.Happens, "this cluster needs RF 5 in datacenter1") {
		t.Errorf("choice gate says %q", g.Happens)
	}
	if p := r.ReplicationPlan(); !strings.Contains(p, "the backup's replication is kept") || !strings.Contains(p, "--set-rf sets it") {
		t.Errorf("kept: destructive gate says %q", p)
	}
	gate.Chose(RFSet)
	if p := r.ReplicationPlan(); !r.SetsReplication() || !strings.Contains(p, "then the replication set to what this cluster needs (RF 5 in datacenter1)") || !strings.Contains(p, "nodetool repair -full") {
		t.Errorf("set: destructive gate says %q", p)
	}
	// Into another topology (sstableloader), it is set before loading and
	// nothing is repaired: sstableloader writes every replica.
	r.SetTopology(LoadSSTableLoader, nil)
	if p := r.ReplicationPlan(); !strings.Contains(p, "the replication set to what this cluster needs (RF 5 in datacenter1) before loading") || !strings.Contains(p, "no repair needed") || strings.Contains(p, "nodetool repair") {
		t.Errorf("set, sstableloader: destructive gate says %q", p)
	}
	g = *gate.Gate
	gate.Refine(&g)
	if set, _ := g.Choice(RFSet); !strings.Contains(g.Happens, "set it before loading") || set.Label != "set this cluster's replication before loading" {
		t.Errorf("choice gate, sstableloader: %q, %+v", g.Happens, g.Choices)
	}
	if orig, _ := gate.Gate.Choice(RFSet); orig.Label == "set this cluster's replication before loading" {
		t.Error("Refine changed the step's own gate")
	}
	r.SetTopology(LoadImport, nil)
	gate.Chose(RFKeep)
	if r.SetsReplication() {
		t.Error("keep did not undo set")
	}

	if c := rate(r, ring(1)); c.Status != steps.CheckWarn || !strings.Contains(c.Evidence, "RF 3 on 1 nodes; this cluster needs RF 1 in datacenter1") ||
		!strings.Contains(c.Remedy, "more replicas than nodes: QUORUM reads and writes (TheHive's) fail") || !strings.Contains(r.ReplicationPlan(), "QUORUM reads and writes fail") {
		t.Errorf("RF 3 on 1 node: %+v; plan %q", c, r.ReplicationPlan())
	}
	r.Done = true
	if gate.Skip() == "" {
		t.Error("the gate is asked although the earlier run restored the keyspace")
	}
}
