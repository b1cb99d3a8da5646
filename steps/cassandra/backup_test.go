package cassandra

import (
	"context"
	"errors"
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
