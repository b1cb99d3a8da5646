package cassandra

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/steps"
)

// TestTakeHasADeadline: a `nodetool snapshot` that does not return (stuck
// behind a flush) fails at --timeout-snapshot, naming the node, the command
// and the flag.
func TestTakeHasADeadline(t *testing.T) {
	s := Snapshots{Tag: "hotsnap-20261205-120000-abcd", Keyspace: "thehive", Nodes: []string{"node2"}}
	f := remotetest.New(t)
	f.Expect("node2", s.SnapshotCmd()).WithSudo(false).Delay(time.Hour)
	t0 := time.Now()
	err := (&steps.Engine{Exec: f, Reporter: &steps.Recorder{}, Timeouts: map[string]time.Duration{steps.DeadlineSnapshot.Flag: 200 * time.Millisecond}}).Run(context.Background(),
		steps.Runbook{Name: "t", Steps: []steps.Step{{ID: "snapshot", Kind: steps.KindAction,
			Run: func(ctx context.Context, rc *steps.RunContext) error { return s.Take(ctx, rc, "node2") }}}})
	if !errors.Is(err, steps.ErrDeadline) || time.Since(t0) > 5*time.Second {
		t.Fatalf("Take = %v after %s, want the deadline at 200ms", err, time.Since(t0))
	}
	for _, want := range []string{"node2: deadline passed", "`nodetool snapshot -t hotsnap-20261205-120000-abcd thehive` to return", "MemtableFlushWriter", "--timeout-snapshot"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}

// TestSnapshotDirs: the listing is one du over every table's snapshot
// folder, run here by a real shell on a keyspace folder laid out as
// Cassandra's (one table without the snapshot, one folder that is no table).
func TestSnapshotDirs(t *testing.T) {
	dir := t.TempDir()
	const tag = "hotsnap-20261205-120000-abcd"
	write := func(p string, n int) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("thehive/edgestore-b38e2200d089160b824deb554c893114/snapshots/"+tag+"/nb-1-big-Data.db", 10000)
	write("thehive/edgestore-b38e2200d089160b824deb554c893114/nb-1-big-Data.db", 10000)
	write("thehive/graphindex-7f80cdb0f0d71b8a9e64bf55dc1b76ba/snapshots/"+tag+"/nb-1-big-Data.db", 3000)
	write("thehive/txlog-e3589e112ebc1c3c8c41919ca9635aa2/nb-1-big-Data.db", 50)
	out, err := exec.Command("sh", "-c", snapshotDirsCmd(dir, "thehive", tag)).Output()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := parseSnapshotDirs(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 2 || dirs[0].Table != "edgestore" || dirs[0].TableID != "b38e2200d089160b824deb554c893114" || dirs[0].Bytes < 10000 ||
		dirs[1].Table != "graphindex" || dirs[1].Bytes < 3000 || dirs[1].Bytes >= 10000 {
		t.Errorf("snapshot folders %+v from %q", dirs, out)
	}
	// No table has the snapshot: nothing, and no error.
	out, err = exec.Command("sh", "-c", snapshotDirsCmd(dir, "thehive", "other")).Output()
	if err != nil || len(out) != 0 {
		t.Errorf("no snapshot: %q %v", out, err)
	}
	// A keyspace folder that is not there: an error.
	if err := exec.Command("sh", "-c", snapshotDirsCmd(dir, "missing", tag)).Run(); err == nil {
		t.Error("a missing keyspace folder lists nothing without an error")
	}
}
