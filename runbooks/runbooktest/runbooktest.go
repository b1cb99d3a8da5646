// Package runbooktest is the conformance test every runbook package runs
// on each runbook it builds, for each of its testdata inventories: step IDs
// unique, every action with a Plan, planning contacts nothing, every
// destructive step behind a destructive gate and in an Exclusive runbook,
// no gate in a concurrent group, every step naming its component.
package runbooktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// Env returns an Env of inv whose executor, tunnels and repository fail t
// when anything uses them: building a runbook and planning it must contact
// nothing.
func Env(t testing.TB, inv *config.Inventory) *steps.Env {
	return &steps.Env{Inv: inv, Exec: noExec{t},
		Dial: func(node string) remote.DialFunc {
			return func(context.Context, string, string) (net.Conn, error) {
				t.Errorf("a tunnel from %s was dialled while building or planning a runbook", node)
				return nil, errors.New("runbooktest: no tunnels")
			}
		},
		OpenRepo: func(context.Context) (repo.Store, func(), error) {
			t.Error("the repository was opened while building or planning a runbook")
			return nil, nil, errors.New("runbooktest: no repository")
		}}
}

type noExec struct{ t testing.TB }

func (x noExec) Run(_ context.Context, node string, cmd remote.Command) (remote.Result, error) {
	x.t.Errorf("%s: command run while building or planning a runbook: %s", node, cmd.Cmd)
	return remote.Result{}, errors.New("runbooktest: no commands")
}

// Conform fails t with every problem Problems finds in rb.
func Conform(t testing.TB, rb steps.Runbook) {
	t.Helper()
	for _, p := range Problems(rb) {
		t.Errorf("runbook %s: %s", rb.Name, p)
	}
}

// Problems lists what is wrong with rb: duplicate step IDs, an action
// without a Plan, a destructive step with no destructive gate before it, a
// gate in a concurrent group or without its question, a step without a
// component or without a Run, a destructive step in a runbook that does not
// run alone (Exclusive). It calls every Plan.
func Problems(rb steps.Runbook) []string {
	var out []string
	seen := map[string]bool{}
	gate := false // a destructive gate came before
	for i, s := range rb.Steps {
		at := fmt.Sprintf("step %d (%s)", i+1, s.ID)
		switch {
		case s.ID == "":
			out = append(out, at+": no ID")
		case seen[s.ID]:
			out = append(out, at+": its ID is taken by an earlier step")
		}
		seen[s.ID] = true
		if s.Component == "" {
			out = append(out, at+": names no component")
		}
		if s.Kind == steps.KindGate {
			if s.Gate == nil {
				out = append(out, at+": a gate without its question")
			} else if s.Gate.Destructive {
				gate = true
			}
			if s.Concurrent {
				out = append(out, at+": a gate is concurrent")
			}
			continue
		}
		if s.Run == nil {
			out = append(out, at+": nothing to run")
		}
		if s.Kind == steps.KindAction && s.Plan == nil {
			out = append(out, at+": an action without a Plan")
		}
		if s.Plan != nil {
			s.Plan()
		}
		if s.Destructive && !gate {
			out = append(out, at+": destructive, with no destructive gate before it")
		}
		if s.Destructive && !rb.Exclusive {
			out = append(out, at+": destructive in a runbook that is not Exclusive (it would run without the lock)")
		}
	}
	return out
}
