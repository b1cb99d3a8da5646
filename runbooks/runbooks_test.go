package runbooks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks/runbooktest"
	"github.com/hotsnap/hotsnap/steps"
)

// fake is a platform with a name and options, nothing else.
type fake struct {
	Platform
	name string
	opts []Option
}

func (f fake) Name() string      { return f.name }
func (f fake) Options() []Option { return f.opts }

func TestRegistry(t *testing.T) {
	r := NewRegistry(fake{name: "a"}, fake{name: "b", opts: []Option{OneNode}})
	if p, err := r.Lookup("b"); err != nil || p.Name() != "b" {
		t.Fatalf("Lookup(b) = %v, %v", p, err)
	}
	_, err := r.Lookup("c")
	if !errors.Is(err, ErrNoRunbook) || !strings.Contains(err.Error(), `platform "c"`) || !strings.Contains(err.Error(), "supported today: a, b") {
		t.Errorf("Lookup(c): %v", err)
	}
	if strings.Join(r.Names(), ",") != "a,b" {
		t.Errorf("Names = %v", r.Names())
	}
	p, _ := r.Lookup("b")
	var rf *Refusal
	if err := Require(p, OneNode); err != nil {
		t.Errorf("b takes --one-node: %v", err)
	}
	if err := Require(p, S3Exact); !errors.As(err, &rf) || rf.Unfit || !strings.Contains(err.Error(), "platform b has no --s3-exact") {
		t.Errorf("Require(b, --s3-exact) = %v", err)
	}
}

// TestPreflightVerdictSentinel: a failed check stops the run with an error
// the CLI tells by errors.Is, not by its text.
func TestPreflightVerdictSentinel(t *testing.T) {
	failing := steps.Step{ID: "ring", Kind: steps.KindCheck, Component: "cassandra", Run: func(_ context.Context, rc *steps.RunContext) error {
		rc.Check(steps.CheckResult{Check: "ring state", Node: "node2", Status: steps.CheckFail, Evidence: "DN"})
		return nil
	}}
	err := (&steps.Engine{Exec: remotetest.New(t), Reporter: steps.NopReporter{}}).Run(context.Background(),
		steps.Runbook{Name: "t", Steps: []steps.Step{failing, PreflightVerdict()}})
	if !errors.Is(err, ErrPreflightFailed) || !strings.Contains(err.Error(), "1 preflight checks failed (node2: ring state): fix them") {
		t.Fatalf("error %v", err)
	}
}

// TestPruneConforms: the shared prune runbook passes the conformance test.
func TestPruneConforms(t *testing.T) {
	inv, err := config.Load("../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := repo.Open(context.Background(), t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runbooktest.Conform(t, Prune(runbooktest.Env(t, inv), store, []repo.Summary{{ID: "hotsnap-20261101-020000-dead"}}))
}
