package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// thenRunbook: a step that reads what the rest is made of and makes it
// (Then), then a last step that was there from the start.
func thenRunbook(made func(found string) []Step, order *[]string) Runbook {
	var found string
	step := func(id string) Step {
		return Step{ID: id, Title: id, Kind: KindAction, Component: "test", Run: func(context.Context, *RunContext) error {
			*order = append(*order, id)
			return nil
		}}
	}
	scan := Step{ID: "scan", Title: "Read the backup", Kind: KindCheck, Component: "backup",
		Run: func(_ context.Context, rc *RunContext) error {
			rc.Progress("repository", 10, 10, "bytes")
			found = "b1"
			*order = append(*order, "scan")
			return nil
		},
		Then: func() ([]Step, map[string]string) {
			return made(found), map[string]string{"digest": "d-" + found}
		}}
	return Runbook{Name: "restore", Cluster: "prod", Params: map[string]string{"path": "/mnt/backup"}, Resumable: true,
		Steps: []Step{step("lock"), scan, step("unlock")}}
}

// TestEngineRunsTheStepsAStepMakes: the steps Then returns run right after
// the step, before the steps that followed it; the reporters are told
// (numbers and totals count them), the journal records them and their
// params, and a resume reads those params back with the run's.
func TestEngineRunsTheStepsAStepMakes(t *testing.T) {
	var order []string
	made := func(found string) []Step {
		mk := func(id string) Step {
			return Step{ID: id, Title: id, Kind: KindAction, Component: "test", Run: func(context.Context, *RunContext) error {
				order = append(order, id+"@"+found)
				return nil
			}}
		}
		return []Step{mk("verify"), mk("load")}
	}
	rec := &Recorder{}
	dir := t.TempDir()
	j, err := OpenJournal(dir, "run1")
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Exec: nil, Reporter: rec, Journal: j}
	if err := e.Run(context.Background(), thenRunbook(made, &order)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if got := strings.Join(order, " "); got != "lock scan verify@b1 load@b1 unlock" {
		t.Errorf("steps ran as %q", got)
	}
	ev := strings.Join(rec.Events(), "\n")
	for _, want := range []string{"run restore 3 steps", "progress scan repository 10/10 bytes\nfinish scan done\nadded scan 2 steps\nstart verify"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
	sum := rec.Summary()
	var ids []string
	for _, s := range sum.Steps {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, " ") != "lock scan verify load unlock" {
		t.Errorf("summary steps %v", ids)
	}
	p, err := ReadJournal(dir, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Params["path"] != "/mnt/backup" || p.Params["digest"] != "d-b1" || p.Done["load"] != "run1" {
		t.Errorf("the journal read back: params %v, done %v", p.Params, p.Done)
	}
	var added []string
	for _, en := range readJournal(t, j.Path) {
		if en.Type == "steps_added" {
			added = append(added, en.Step+":"+strings.Join(en.Added, ","))
		}
	}
	if strings.Join(added, " ") != "scan:verify,load" {
		t.Errorf("steps_added entries %v", added)
	}
}

// infoRecorder keeps the StepInfo the engine gives each step.
type infoRecorder struct {
	NopReporter
	started []StepInfo
	added   []StepInfo
}

func (r *infoRecorder) StepStarted(s StepInfo)            { r.started = append(r.started, s) }
func (r *infoRecorder) StepsAdded(_ string, a []StepInfo) { r.added = append(r.added, a...) }

// TestEngineNumbersTheStepsAStepMakes: after the steps are made, every
// step's number and the total count them.
func TestEngineNumbersTheStepsAStepMakes(t *testing.T) {
	var order []string
	made := func(string) []Step {
		return []Step{{ID: "a", Title: "a", Kind: KindCheck, Component: "test", Run: func(context.Context, *RunContext) error { return nil }}}
	}
	rep := &infoRecorder{}
	if err := (&Engine{Reporter: rep}).Run(context.Background(), thenRunbook(made, &order)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range rep.started {
		got = append(got, fmt.Sprintf("%s %d/%d", s.ID, s.Index, s.Total))
	}
	if strings.Join(got, ", ") != "lock 1/3, scan 2/3, a 3/4, unlock 4/4" {
		t.Errorf("steps numbered %v", got)
	}
	if len(rep.added) != 1 || rep.added[0].Index != 3 || rep.added[0].Total != 4 {
		t.Errorf("added %+v", rep.added)
	}
}

// TestEngineRefusesAMadeDestructiveStepWithoutAGate: a destructive step
// made after the run started still needs a destructive gate before it; the
// run fails at the step that made it, and the cleanups of the steps that
// started run.
func TestEngineRefusesAMadeDestructiveStepWithoutAGate(t *testing.T) {
	var order []string
	dropped := false
	made := func(string) []Step {
		return []Step{{ID: "drop", Title: "drop", Kind: KindAction, Component: "test", Destructive: true,
			Run: func(context.Context, *RunContext) error { dropped = true; return nil }}}
	}
	rb := thenRunbook(made, &order)
	cleaned := false
	rb.Steps[0].Cleanup = func(context.Context, *RunContext) error { cleaned = true; return nil }
	err := (&Engine{Reporter: NopReporter{}}).Run(context.Background(), rb)
	if err == nil || !strings.Contains(err.Error(), "step scan: runbook restore: step drop is destructive but no destructive gate comes before it") {
		t.Fatalf("err = %v", err)
	}
	if dropped || !cleaned {
		t.Errorf("dropped %v, cleaned %v", dropped, cleaned)
	}
	// With the gate made first, it runs.
	made = func(string) []Step {
		return []Step{{ID: "drop?", Title: "drop?", Kind: KindGate, Component: "test", Gate: &GateRequest{Destructive: true}},
			{ID: "drop", Title: "drop", Kind: KindAction, Component: "test", Destructive: true,
				Run: func(context.Context, *RunContext) error { dropped = true; return nil }}}
	}
	if err := (&Engine{Reporter: NopReporter{}, Gates: GatePolicy{Confirm: "prod"}}).Run(context.Background(), thenRunbook(made, &order)); err != nil || !dropped {
		t.Fatalf("with its gate: err %v, dropped %v", err, dropped)
	}
}

// TestEngineMakesNoStepsAfterAFailure: a step that fails makes nothing,
// and a Then on a gate or a concurrent step is refused before the run.
func TestEngineMakesNoStepsAfterAFailure(t *testing.T) {
	var order []string
	called := false
	rb := thenRunbook(func(string) []Step { called = true; return nil }, &order)
	rb.Steps[1].Run = func(context.Context, *RunContext) error { return errors.New("archive damaged") }
	err := (&Engine{Reporter: NopReporter{}}).Run(context.Background(), rb)
	if err == nil || !strings.Contains(err.Error(), "step scan: archive damaged") || called {
		t.Fatalf("err %v, Then called %v", err, called)
	}
	rb = thenRunbook(func(string) []Step { return nil }, &order)
	rb.Steps[1].Concurrent = true
	if err := (&Engine{Reporter: NopReporter{}}).Run(context.Background(), rb); err == nil || !strings.Contains(err.Error(), "step scan makes the next steps (Then) but is a gate or Concurrent") {
		t.Fatalf("a concurrent step with Then: %v", err)
	}
}
