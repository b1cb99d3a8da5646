// Package stepstest helps the tests of components and runbooks: run one
// step on a fresh engine and read the checks it reported.
package stepstest

import (
	"context"
	"testing"

	"github.com/hotsnap/hotsnap/steps"
)

// Checks runs step s alone on a fresh engine with executor ex and returns
// the checks it reported; the run failing fails t.
func Checks(t testing.TB, ex steps.Executor, s steps.Step) []steps.CheckResult {
	t.Helper()
	rec := &steps.Recorder{}
	e := &steps.Engine{Exec: ex, Reporter: rec}
	if err := e.Run(context.Background(), steps.Runbook{Name: "t", Cluster: "prod", Steps: []steps.Step{s}}); err != nil {
		t.Fatal(err)
	}
	return rec.Summary().Checks
}

// Find returns the check named name on node, failing t when there is none.
func Find(t testing.TB, rs []steps.CheckResult, node, name string) steps.CheckResult {
	t.Helper()
	for _, r := range rs {
		if r.Node == node && r.Check == name {
			return r
		}
	}
	t.Fatalf("no check %s/%s in %+v", node, name, rs)
	return steps.CheckResult{}
}
