package thehive

import (
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/files"
)

func s3RestoreRunbook(t *testing.T) (steps.Runbook, *RestoreRun) {
	t.Helper()
	inv, err := config.Load("../../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv.Storage = &config.Storage{Provider: "s3", S3: &config.S3{Endpoint: "10.0.0.1:9000", Bucket: "thehive"}}
	m := &repo.Manifest{ID: "b1", Keyspace: "thehive", Elasticsearch: &repo.ESSnapshot{Indices: []string{"thehive_global"}},
		Files: &repo.FileStore{Provider: repo.ProviderS3, Bucket: "thehive", Objects: []repo.ObjectEntry{{Key: "a", Size: 1}}}, Cassandra: []repo.NodeArchive{{Node: "node1"}}}
	r := &RestoreRun{Manifest: m}
	return Restore(&steps.Env{Inv: inv}, r), r
}

// TestRestoreS3ChoiceGateOrder: the bucket is compared before the preflight
// verdict, the choice is asked before TheHive stops and before the
// destructive gate, and removing objects stays behind that gate.
func TestRestoreS3ChoiceGateOrder(t *testing.T) {
	rb, _ := s3RestoreRunbook(t)
	pos := map[string]int{}
	for i, s := range rb.Steps {
		pos[s.ID] = i
	}
	order := []string{"s3-compare", "preflight-verdict", S3ChoiceGate, "approve-stop", "approve-restore", "files"}
	for i := 1; i < len(order); i++ {
		a, okA := pos[order[i-1]]
		b, okB := pos[order[i]]
		if !okA || !okB || a >= b {
			t.Fatalf("steps %v: want %s before %s", pos, order[i-1], order[i])
		}
	}
	g := rb.Steps[pos[S3ChoiceGate]]
	if g.Kind != steps.KindGate || g.Gate.Destructive || g.Gate.Default != S3ChoiceKeep || len(g.Gate.Choices) != 2 {
		t.Errorf("choice gate = %+v", g.Gate)
	}
	if c, _ := g.Gate.Choice(S3ChoiceExact); c.Flag != "--s3-exact" || !c.Destructive {
		t.Errorf("exact choice = %+v", c)
	}
	if !rb.Steps[pos["files"]].Destructive {
		t.Error("the S3 attachments step is not destructive")
	}
}

// TestRestoreS3ChoiceTellsTheDestructiveGate: the choice sets S3Exact, and
// the destructive gate says what it will remove, with the count.
func TestRestoreS3ChoiceTellsTheDestructiveGate(t *testing.T) {
	rb, r := s3RestoreRunbook(t)
	var choice, approve *steps.Step
	for i := range rb.Steps {
		switch rb.Steps[i].ID {
		case S3ChoiceGate:
			choice = &rb.Steps[i]
		case "approve-restore":
			approve = &rb.Steps[i]
		}
	}
	loses := func() string {
		g := *approve.Gate
		approve.Refine(&g)
		return g.Loses
	}
	if l := loses(); !strings.Contains(l, "attachment objects that differ from the backup") || strings.Contains(l, "removed") {
		t.Errorf("uncounted, keep: loses %q", l)
	}
	choice.Chose(S3ChoiceExact)
	if !r.S3Exact {
		t.Fatal("choosing exact did not set S3Exact")
	}
	if l := loses(); !strings.Contains(l, "the objects created after the backup, removed for an exact copy") {
		t.Errorf("uncounted, exact: loses %q", l)
	}
	r.s3 = s3Count{counted: true, BucketDiff: files.BucketDiff{After: 2, AfterBytes: 2048, Changed: 1}}
	if l := loses(); !strings.Contains(l, "objects created after the backup: 2 objects (2.0 KiB), removed for an exact copy") ||
		!strings.Contains(l, "attachment objects changed since the backup: 1 object (overwritten)") || !strings.Contains(l, "keyspace thehive") {
		t.Errorf("counted, exact: loses %q", l)
	}
	g := *choice.Gate
	choice.Refine(&g)
	if !strings.Contains(g.Happens, "objects created after the backup (counted before TheHive stopped): 2 objects (2.0 KiB)") {
		t.Errorf("choice gate says %q", g.Happens)
	}
	choice.Chose(S3ChoiceKeep)
	if l := loses(); r.S3Exact || !strings.Contains(l, "(objects created after the backup are kept: 2 objects)") {
		t.Errorf("counted, keep: S3Exact %v, loses %q", r.S3Exact, l)
	}
}

// TestRestoreRFChoiceGate: the replication's choice gate comes after the
// topology step and before TheHive stops and the destructive gate;
// --set-rf answers it.
func TestRestoreRFChoiceGate(t *testing.T) {
	rb, r := s3RestoreRunbook(t)
	pos := map[string]int{}
	for i, s := range rb.Steps {
		pos[s.ID] = i
	}
	order := []string{"topology", "preflight-verdict", cassandra.RFChoiceGate, "approve-stop", "approve-restore", "cassandra"}
	for i := 1; i < len(order); i++ {
		a, okA := pos[order[i-1]]
		b, okB := pos[order[i]]
		if !okA || !okB || a >= b {
			t.Fatalf("steps %v: want %s before %s", pos, order[i-1], order[i])
		}
	}
	if c := (&restore{r: r}).Choices(); c[cassandra.RFChoiceGate] != "" {
		t.Errorf("without --set-rf: choices %v", c)
	}
	r.SetRF = true
	if c := (&restore{r: r}).Choices(); c[cassandra.RFChoiceGate] != cassandra.RFSet {
		t.Errorf("--set-rf: choices %v", c)
	}
}

// TestRestoreStopGateSaysWhatHappens: the gate before TheHive stops speaks
// of staging only when the topology step chose to stage (same topology);
// on another topology it says the keyspace is loaded with sstableloader.
func TestRestoreStopGateSaysWhatHappens(t *testing.T) {
	rb, r := s3RestoreRunbook(t)
	var gate *steps.Step
	for i := range rb.Steps {
		if rb.Steps[i].ID == "approve-stop" {
			gate = &rb.Steps[i]
		}
	}
	if gate == nil || gate.Refine == nil {
		t.Fatalf("no approve-stop gate with Refine in %v", rb.Steps)
	}
	for _, c := range []struct {
		load, want, not string
	}{{cassandra.LoadImport, "with the same topology, stage each node's SSTables", "sstableloader"},
		{cassandra.LoadSSTableLoader, "nothing is staged: the keyspace is loaded with sstableloader", "with the same topology"}} {
		r.keyspace().SetTopology(c.load, nil)
		g := *gate.Gate
		gate.Refine(&g)
		if !strings.Contains(g.Happens, c.want) || strings.Contains(g.Happens, c.not) {
			t.Errorf("%s: %q", c.load, g.Happens)
		}
	}
}
