package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote/remotetest"
)

// choosingApprover answers ordinary gates yes and choice gates with key.
type choosingApprover struct {
	key   string
	asked []GateRequest
}

func (a *choosingApprover) Approve(context.Context, GateRequest) (bool, error) { return true, nil }
func (a *choosingApprover) Choose(_ context.Context, g GateRequest) (string, error) {
	a.asked = append(a.asked, g)
	return a.key, nil
}

// choiceRunbook: a check that counts, a choice gate refined by the count,
// a destructive gate, and a destructive step that acts on the choice.
func choiceRunbook(chosen *string, acted *bool) Runbook {
	count := 0
	return Runbook{Name: "restore", Cluster: "prod", Steps: []Step{
		{ID: "count", Title: "count", Kind: KindCheck, Run: func(context.Context, *RunContext) error { count = 3; return nil }},
		{ID: "choose-s3", Title: "Objects created after the backup", Kind: KindGate,
			Gate: &GateRequest{Happens: "objects created after the backup", Default: "keep", Choices: []GateChoice{
				{Key: "keep", Label: "keep them"},
				{Key: "exact", Label: "remove them", Flag: "--s3-exact", Destructive: true}}},
			Refine: func(g *GateRequest) { g.Happens = strings.Repeat("x", count) },
			Chose:  func(k string) { *chosen = k }},
		{ID: "approve", Title: "Replace", Kind: KindGate, Gate: &GateRequest{Destructive: true}},
		{ID: "files", Title: "files", Kind: KindAction, Destructive: true, Run: func(context.Context, *RunContext) error { *acted = true; return nil }},
	}}
}

func TestChoiceGatePolicy(t *testing.T) {
	for _, c := range []struct {
		name     string
		policy   GatePolicy
		approver Approver
		want     string // the choice taken; "" = refused
		by       string // By, or what the refusal says
	}{
		{"flag takes its choice", GatePolicy{Choices: map[string]string{"choose-s3": "exact"}}, nil, "exact", "--s3-exact"},
		{"flag wins over --yes", GatePolicy{Yes: true, Choices: map[string]string{"choose-s3": "exact"}}, nil, "exact", "--s3-exact"},
		{"--yes takes the default", GatePolicy{Yes: true}, nil, "keep", "--yes"},
		{"--yes takes the default before asking", GatePolicy{Yes: true}, &choosingApprover{key: "exact"}, "keep", "--yes"},
		{"no terminal, no flag: refused naming the flags", GatePolicy{}, nil, "",
			`no terminal to ask "Objects created after the backup"; pass --yes to keep them, or --s3-exact to remove them`},
		{"a terminal that cannot choose: refused", GatePolicy{}, &fixedApprover{ok: true}, "", "this terminal cannot offer the choice"},
		{"terminal chooses exact", GatePolicy{}, &choosingApprover{key: "exact"}, "exact", "tty"},
		{"terminal chooses keep", GatePolicy{}, &choosingApprover{key: "keep"}, "keep", "tty"},
		{"terminal declines", GatePolicy{}, &choosingApprover{key: ""}, "", "declined by the operator"},
		{"terminal answers nonsense", GatePolicy{}, &choosingApprover{key: "all"}, "", `answered "all"`},
		{"unknown flag choice", GatePolicy{Choices: map[string]string{"choose-s3": "wipe"}}, nil, "", `offers no choice "wipe"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.policy
			p.Confirm = "prod"
			p.Approver = c.approver
			rec := &Recorder{}
			var chosen string
			var acted bool
			dir := t.TempDir()
			j, err := OpenJournal(dir, NewRunID(time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			err = (&Engine{Exec: remotetest.New(t), Reporter: rec, Gates: p, Journal: j}).Run(context.Background(), choiceRunbook(&chosen, &acted))
			j.Close()
			if c.want == "" {
				if !errors.Is(err, ErrGateDeclined) || !strings.Contains(err.Error(), c.by) {
					t.Fatalf("err = %v, want ErrGateDeclined containing %q", err, c.by)
				}
				if acted || chosen != "" {
					t.Fatalf("a refused choice gate let the run go on (chosen %q, acted %v)", chosen, acted)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if chosen != c.want || !acted {
				t.Fatalf("chosen %q (acted %v), want %q", chosen, acted, c.want)
			}
			if !rec.Has("gate choose-s3 true " + c.by) {
				t.Errorf("events lack the decision by %s: %v", c.by, rec.Events())
			}
			prior, err := ReadJournal(dir, j.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if prior.Chose["choose-s3"] != c.want {
				t.Errorf("journal records choice %q, want %q", prior.Chose["choose-s3"], c.want)
			}
			if a, ok := c.approver.(*choosingApprover); ok && len(a.asked) == 1 {
				if g := a.asked[0]; g.Happens != "xxx" || g.Default != "keep" || len(g.Choices) != 2 {
					t.Errorf("the terminal was asked %+v, want the refined question with 2 choices and default keep", g)
				}
			}
		})
	}
}

// TestResumeOffersTheEarlierChoice: a run that chose "exact" at the gate and
// failed later is resumed with --yes: it takes "exact" again, says so, and
// a resume of that resume still knows.
func TestResumeOffersTheEarlierChoice(t *testing.T) {
	dir := t.TempDir()
	run := func(p GatePolicy, prior *PriorRun, fail bool) (string, *Recorder, string, error) {
		j, err := OpenJournal(dir, NewRunID(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		var chosen string
		var acted bool
		rb := choiceRunbook(&chosen, &acted)
		if fail {
			rb.Steps[3].Run = func(context.Context, *RunContext) error { return errors.New("node2: put failed") }
		}
		rb.Resume = prior
		rec := &Recorder{}
		p.Confirm = "prod"
		runErr := (&Engine{Exec: remotetest.New(t), Reporter: rec, Gates: p, Journal: j}).Run(context.Background(), rb)
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		return j.RunID, rec, chosen, runErr
	}
	a, _, chosen, err := run(GatePolicy{Approver: &choosingApprover{key: "exact"}}, nil, true)
	if err == nil || chosen != "exact" {
		t.Fatalf("run A: %v, chose %q", err, chosen)
	}
	pa, err := ReadJournal(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	// Run B resumes A with --yes: --yes now takes A's choice, not "keep".
	ap := &choosingApprover{key: "exact"}
	b, _, chosen, err := run(GatePolicy{Yes: true, Approver: ap}, pa, true)
	if err == nil || chosen != "exact" {
		t.Fatalf("run B (--yes, resuming A): %v, chose %q, want exact", err, chosen)
	}
	pb, _ := ReadJournal(dir, b)
	// Run C resumes B on a terminal: the terminal is offered "exact" first.
	ap = &choosingApprover{key: "exact"}
	_, _, chosen, err = run(GatePolicy{Approver: ap}, pb, false)
	if err != nil || chosen != "exact" {
		t.Fatalf("run C: %v, chose %q", err, chosen)
	}
	if len(ap.asked) != 1 || ap.asked[0].Default != "exact" || !strings.Contains(ap.asked[0].Happens, "run "+b+` chose "remove them" here`) {
		t.Errorf("run C asked %+v, want default exact and a note naming run %s", ap.asked, b)
	}
	// A chain through a run that stopped before the gate keeps the choice.
	pc := &PriorRun{RunID: "c", Runbook: "restore", Done: map[string]string{}, Started: map[string]bool{}, Chose: pb.Chose}
	j, _ := OpenJournal(dir, NewRunID(time.Now().Add(time.Second)))
	rb := choiceRunbook(new(string), new(bool))
	rb.Resume = pc
	rb.Steps[0].Run = func(context.Context, *RunContext) error { return errors.New("node1: down") }
	_ = (&Engine{Exec: remotetest.New(t), Reporter: &Recorder{}, Journal: j}).Run(context.Background(), rb)
	j.Close()
	pd, err := ReadJournal(dir, j.RunID)
	if err != nil || pd.Chose["choose-s3"] != "exact" {
		t.Errorf("a resume that stopped before the gate lost the choice: %v %+v", err, pd)
	}
}
