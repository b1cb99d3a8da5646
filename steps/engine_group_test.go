package steps

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote/remotetest"
)

// groupRunbook: a check alone, then three concurrent checks a, b, c where a
// can only finish once c has started (a deadlock if they ran one by one),
// then a check that reads what the group reported.
func groupRunbook(t *testing.T, failB bool, seen *[]CheckResult) Runbook {
	cStarted := make(chan struct{})
	return Runbook{Name: "group", Cluster: "prod", Steps: []Step{
		{ID: "ssh", Kind: KindCheck, Run: func(_ context.Context, rc *RunContext) error {
			rc.Check(CheckResult{Node: "node1", Check: "ssh", Status: CheckPass})
			return nil
		}},
		{ID: "a", Kind: KindCheck, Concurrent: true, Run: func(ctx context.Context, rc *RunContext) error {
			select {
			case <-cStarted:
			case <-time.After(5 * time.Second):
				t.Error("step a waited 5 s for step c: the group did not run at once")
			}
			rc.Output("node1", "a saw c start")
			rc.Progress("node1", 1, 1, "bytes")
			rc.Check(CheckResult{Node: "node1", Check: "a", Status: CheckPass})
			return nil
		}},
		{ID: "b", Kind: KindCheck, Concurrent: true, Run: func(ctx context.Context, rc *RunContext) error {
			rc.Check(CheckResult{Node: "node2", Check: "b", Status: CheckWarn})
			if failB {
				return errors.New("b broke on node2")
			}
			return nil
		}, Cleanup: func(context.Context, *RunContext) error { return nil }},
		{ID: "c", Kind: KindCheck, Concurrent: true, Run: func(ctx context.Context, rc *RunContext) error {
			close(cStarted)
			rc.Check(CheckResult{Node: "node3", Check: "c", Status: CheckFail})
			return nil
		}, Cleanup: func(context.Context, *RunContext) error { return nil }},
		{ID: "after", Kind: KindCheck, Run: func(_ context.Context, rc *RunContext) error {
			*seen = rc.Checks()
			return nil
		}},
	}}
}

func TestConcurrentStepsRunAtOnceAndReportInOrder(t *testing.T) {
	rec := &Recorder{}
	var seen []CheckResult
	err := (&Engine{Exec: remotetest.New(t), Reporter: rec}).Run(context.Background(), groupRunbook(t, false, &seen))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"run group 5 steps",
		"start ssh", "check ssh node1 ssh pass", "finish ssh done",
		"start a", "out a node1 a saw c start", "progress a node1 1/1 bytes", "check a node1 a pass", "finish a done",
		"start b", "check b node2 b warn", "finish b done",
		"start c", "check c node3 c fail", "finish c done",
		"start after", "finish after done",
		"end aborted=false err=false",
	}
	if !slices.Equal(rec.Events(), want) {
		t.Fatalf("events out of step order:\n got %q\nwant %q", rec.Events(), want)
	}
	var order []string
	for _, c := range seen {
		order = append(order, c.Check)
	}
	if !slices.Equal(order, []string{"ssh", "a", "b", "c"}) {
		t.Fatalf("checks a later step reads are not in step order: %v", order)
	}
}

func TestConcurrentGroupFailureFailsTheRunAfterTheGroup(t *testing.T) {
	rec := &Recorder{}
	var seen []CheckResult
	err := (&Engine{Exec: remotetest.New(t), Reporter: rec}).Run(context.Background(), groupRunbook(t, true, &seen))
	if err == nil || !strings.Contains(err.Error(), "step b: b broke on node2") {
		t.Fatalf("want the failing step and its cause, got %v", err)
	}
	// Every step of the group ran and is reported as it ended; the step
	// after the group never starts; the cleanups of the group's started
	// steps run in reverse order.
	for _, e := range []string{"finish a done", "finish b failed", "finish c done", "cleanup c <nil>", "cleanup b <nil>"} {
		if !rec.Has(e) {
			t.Errorf("missing %q in %q", e, rec.Events())
		}
	}
	if rec.Has("start after") || seen != nil {
		t.Error("the step after a failed group ran")
	}
	ic, ib := slices.Index(rec.Events(), "cleanup c <nil>"), slices.Index(rec.Events(), "cleanup b <nil>")
	if ic < 0 || ib < ic {
		t.Errorf("cleanups not in reverse step order: %q", rec.Events())
	}
}

func TestGatesAndSkippedStepsBreakAGroup(t *testing.T) {
	noop := func(context.Context, *RunContext) error { return nil }
	rb := Runbook{Steps: []Step{
		{ID: "x", Kind: KindCheck, Concurrent: true, Run: noop},
		{ID: "y", Kind: KindCheck, Concurrent: true, Run: noop},
		{ID: "g", Kind: KindGate, Concurrent: true, Gate: &GateRequest{}},
		{ID: "z", Kind: KindAction, Concurrent: true, Run: noop},
		{ID: "w", Kind: KindAction, Run: noop},
		{ID: "d", Kind: KindAction, Concurrent: true, Destructive: true, Run: noop},
		{ID: "e", Kind: KindAction, Concurrent: true, Run: noop},
	}, Resume: &PriorRun{RunID: "r0", Done: map[string]string{"d": "r0"}}}
	var ends []int
	for i := 0; i < len(rb.Steps); i = rb.groupEnd(i) {
		ends = append(ends, rb.groupEnd(i))
	}
	if want := []int{2, 3, 4, 5, 6, 7}; !slices.Equal(ends, want) {
		t.Fatalf("group ends %v, want %v (x+y together; the gate, z, w, the skipped d and e alone)", ends, want)
	}
}

// TestHeldProgressKeepsTheLatest: a step whose turn has not come holds a
// node's progress as its latest report only, so a long wait behind an
// earlier step holds little, and the reporter still ends at the real total.
func TestHeldProgressKeepsTheLatest(t *testing.T) {
	bDone := make(chan struct{})
	rb := Runbook{Name: "held", Steps: []Step{
		{ID: "slow", Kind: KindAction, Concurrent: true, Run: func(ctx context.Context, rc *RunContext) error {
			<-bDone // finishes only after the held step reported everything
			return nil
		}},
		{ID: "copy", Kind: KindAction, Concurrent: true, Run: func(ctx context.Context, rc *RunContext) error {
			defer close(bDone)
			for i := int64(1); i <= 10000; i++ {
				rc.Progress("node1", i, 10000, "bytes")
				rc.Progress("node2", i/2, 5000, "bytes")
			}
			rc.Output("node1", "copied")
			return nil
		}},
	}}
	rec := &Recorder{}
	if err := (&Engine{Exec: remotetest.New(t), Reporter: rec}).Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	want := []string{"run held 2 steps", "start slow", "finish slow done",
		"start copy", "progress copy node1 10000/10000 bytes", "progress copy node2 5000/5000 bytes", "out copy node1 copied", "finish copy done",
		"end aborted=false err=false"}
	if !slices.Equal(rec.Events(), want) {
		t.Fatalf("held progress not kept as the latest per node:\n got %q\nwant %q", rec.Events(), want)
	}
}
