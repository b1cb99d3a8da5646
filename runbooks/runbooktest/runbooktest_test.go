package runbooktest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

// TestProblemsFindsEveryBreach: each broken runbook is caught, a good one
// passes.
func TestProblemsFindsEveryBreach(t *testing.T) {
	run := func(context.Context, *steps.RunContext) error { return nil }
	plan := func() []steps.PlannedCommand { return nil }
	ok := func(id string) steps.Step {
		return steps.Step{ID: id, Kind: steps.KindAction, Component: "c", Run: run, Plan: plan}
	}
	gate := steps.Step{ID: "g", Kind: steps.KindGate, Component: "c", Gate: &steps.GateRequest{Destructive: true}}
	for _, c := range []struct {
		name  string
		steps []steps.Step
		want  string
	}{
		{"good", []steps.Step{ok("a"), gate, {ID: "d", Kind: steps.KindAction, Component: "c", Run: run, Plan: plan, Destructive: true}}, ""},
		{"duplicate ID", []steps.Step{ok("a"), ok("a")}, "its ID is taken"},
		{"no component", []steps.Step{{ID: "a", Kind: steps.KindAction, Run: run, Plan: plan}}, "names no component"},
		{"no plan", []steps.Step{{ID: "a", Kind: steps.KindAction, Component: "c", Run: run}}, "an action without a Plan"},
		{"unguarded", []steps.Step{{ID: "d", Kind: steps.KindAction, Component: "c", Run: run, Plan: plan, Destructive: true}, gate}, "no destructive gate before it"},
		{"concurrent gate", []steps.Step{{ID: "g", Kind: steps.KindGate, Component: "c", Gate: &steps.GateRequest{}, Concurrent: true}}, "a gate is concurrent"},
		{"gate without question", []steps.Step{{ID: "g", Kind: steps.KindGate, Component: "c"}}, "a gate without its question"},
		{"not exclusive", []steps.Step{gate, {ID: "d", Kind: steps.KindAction, Component: "c", Run: run, Plan: plan, Destructive: true}}, "not Exclusive"},
	} {
		got := strings.Join(Problems(steps.Runbook{Name: c.name, Steps: c.steps, Exclusive: c.name != "not exclusive"}), "; ")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.want)
		}
	}
}

// TestEnvFailsOnContact: a Plan that runs a command fails the test.
func TestEnvFailsOnContact(t *testing.T) {
	ft := &fakeT{TB: t}
	env := Env(ft, nil)
	env.Exec.Run(context.Background(), "node1", remote.Command{Cmd: "nodetool status"}) //nolint:errcheck // the call is the point
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "node1: command run while building or planning a runbook: nodetool status") {
		t.Fatalf("errors %q", ft.errs)
	}
}

// fakeT keeps the errors instead of failing.
type fakeT struct {
	testing.TB
	errs []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Error(args ...any) { f.errs = append(f.errs, fmt.Sprint(args...)) }
func (f *fakeT) Helper()           {}
