package steps

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote/remotetest"
)

func TestResumeCommand(t *testing.T) {
	fail := errors.New("step cassandra: node2: connection lost")
	for _, c := range []struct {
		sum  RunSummary
		want string
	}{
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "restore", Resumable: true, Err: fail}, "hotsnap resume 20261122-230000-abcdef"},
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "backup", Resumable: true, Err: fail}, "hotsnap resume 20261122-230000-abcdef"},
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "restore", Resumable: true}, ""},
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "preflight", Err: fail}, ""},
		{RunSummary{Runbook: "restore", Resumable: true, Err: fail}, ""},
	} {
		if got := ResumeCommand(c.sum); got != c.want {
			t.Errorf("ResumeCommand(%s, err=%v) = %q, want %q", c.sum.Runbook, c.sum.Err, got, c.want)
		}
	}
}

// resumeRunbook: a check, a destructive gate, two destructive steps; the
// second fails while failSecond is set.
func resumeRunbook(ran *[]string, failSecond *bool) Runbook {
	return resumeRunbookRing(ran, failSecond, new(bool))
}

func resumeRunbookRing(ran *[]string, failSecond, failRing *bool) Runbook {
	step := func(id string) Step {
		return Step{ID: id, Title: id, Kind: KindAction, Destructive: true, Run: func(ctx context.Context, rc *RunContext) error {
			*ran = append(*ran, id)
			if id == "load" && *failSecond {
				return errors.New("node2: connection lost")
			}
			return nil
		}}
	}
	check := Step{ID: "ring", Title: "ring", Kind: KindCheck, Run: func(ctx context.Context, rc *RunContext) error {
		*ran = append(*ran, "ring")
		if *failRing {
			return errors.New("node2: connection refused")
		}
		return nil
	}}
	return Runbook{Name: "restore", Cluster: "prod", Params: map[string]string{"backup": "b1"}, Steps: []Step{
		check,
		{ID: "approve", Title: "Replace the data", Kind: KindGate, Gate: &GateRequest{Destructive: true}},
		step("truncate"), step("load"),
	}}
}

func TestResumeSkipsFinishedDestructiveStepsOnly(t *testing.T) {
	dir := t.TempDir()
	var ran []string
	fail := true
	run := func(rb Runbook) (string, *Recorder, error) {
		j, err := OpenJournal(dir, NewRunID(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		rec := &Recorder{}
		e := &Engine{Exec: remotetest.New(t), Reporter: rec, Gates: GatePolicy{Confirm: "prod"}, Journal: j}
		runErr := e.Run(context.Background(), rb)
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		return j.RunID, rec, runErr
	}

	first, _, err := run(resumeRunbook(&ran, &fail))
	if err == nil || !strings.Contains(err.Error(), "node2") {
		t.Fatalf("first run error = %v, want node2's failure", err)
	}
	prior, err := ReadJournal(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if !prior.Finished || prior.Err == "" || prior.Failed != "load" || prior.Done["truncate"] != first || prior.Done["load"] != "" ||
		prior.Runbook != "restore" || prior.Cluster != "prod" || prior.Params["backup"] != "b1" {
		t.Fatalf("prior run = %+v", prior)
	}

	ran, fail = nil, false
	rb := resumeRunbook(&ran, &fail)
	rb.Resume = prior
	second, rec, err := run(rb)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if got := strings.Join(ran, ","); got != "ring,load" {
		t.Errorf("resumed run ran %s, want ring,load (truncate finished in run 1; the check re-runs)", got)
	}
	if !rec.Has("finish truncate skipped") || !rec.Has("out truncate  finished in run "+first) || !rec.Has("gate approve true --confirm") {
		t.Errorf("events: %v", rec.Events())
	}
	after, err := ReadJournal(dir, second)
	if err != nil {
		t.Fatal(err)
	}
	if after.Resumes != first || after.Done["truncate"] != first || after.Done["load"] != second || after.Err != "" || !after.Finished {
		t.Errorf("resumed run's journal = %+v", after)
	}
	if later := ContinuedBy(dir, first); len(later) != 1 || later[0].RunID != second {
		t.Errorf("ContinuedBy(%s) = %+v, want run %s", first, later, second)
	}
	if later := ContinuedBy(dir, second); len(later) != 0 {
		t.Errorf("ContinuedBy(%s) = %+v, want none", second, later)
	}

	// A chain: run A fails loading, its resume B fails at the first check,
	// and B's resume C still knows that A emptied the tables and changed data.
	ran, fail = nil, true
	a, _, _ := run(resumeRunbook(&ran, &fail))
	pa, _ := ReadJournal(dir, a)
	ringDown := true
	rb = resumeRunbookRing(&ran, &fail, &ringDown)
	rb.Resume = pa
	b, _, err := run(rb)
	if err == nil {
		t.Fatal("run B should fail at the ring check")
	}
	pb, err := ReadJournal(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if pb.Done["truncate"] != a || !pb.Started["load"] || !pb.ChangedData(rb) {
		t.Errorf("run B's journal lost what run A did: %+v", pb)
	}
	ran, fail, ringDown = nil, false, false
	rb = resumeRunbookRing(&ran, &fail, &ringDown)
	rb.Resume = pb
	if _, _, err := run(rb); err != nil || strings.Join(ran, ",") != "ring,load" {
		t.Errorf("run C: %v, ran %v; want ring,load", err, ran)
	}
}

func TestReadJournalDamage(t *testing.T) {
	dir := t.TempDir()
	write := func(id, body string) {
		if err := os.MkdirAll(dir+"/runs", 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(JournalPath(dir, id), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := `{"ts":"2026-11-22T23:00:00Z","run":"r1","type":"run_started","runbook":"restore","cluster":"prod"}` + "\n"
	done := `{"ts":"2026-11-22T23:00:01Z","run":"r1","type":"step_finished","step":"cassandra","state":"done"}` + "\n"

	write("r1", start+done+`{"ts":"2026-11-22T23:00:02Z","run":"r1","type":"step_fin`) // killed mid-write
	p, err := ReadJournal(dir, "r1")
	if err != nil || p.Finished || p.Done["cassandra"] != "r1" {
		t.Errorf("torn last line: %+v, %v", p, err)
	}
	write("r1", start+"garbage\n"+done)
	if _, err := ReadJournal(dir, "r1"); err == nil || !strings.Contains(err.Error(), "r1.jsonl:2:") {
		t.Errorf("damaged line: %v, want the file and line 2", err)
	}
	write("r1", done)
	if _, err := ReadJournal(dir, "r1"); err == nil || !strings.Contains(err.Error(), "no run_started") {
		t.Errorf("no start: %v", err)
	}
	if _, err := ReadJournal(dir, "nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing journal: %v", err)
	}
}

// TestDestructiveStartedComesFromTheEngine: a cleanup learns from the engine
// whether a destructive step started — in this run, or in the run it
// resumes — without the runbook tracking it.
func TestDestructiveStartedComesFromTheEngine(t *testing.T) {
	for _, c := range []struct {
		name             string
		failRing, resume bool
		want             bool
	}{
		{"failed before the destructive steps", true, false, false},
		{"failed in a destructive step", false, false, true},
		{"failed before them, resuming a run that started them", true, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ran []string
			failSecond, failRing := true, c.failRing
			rb := resumeRunbookRing(&ran, &failSecond, &failRing)
			var seen *bool
			rb.Steps = append([]Step{{ID: "stop", Title: "stop", Kind: KindAction, Run: func(context.Context, *RunContext) error { return nil },
				Cleanup: func(_ context.Context, rc *RunContext) error {
					v := rc.DestructiveStarted()
					seen = &v
					return nil
				}}}, rb.Steps...)
			if c.resume {
				rb.Resume = &PriorRun{RunID: "r0", Done: map[string]string{"truncate": "r0"}, Started: map[string]bool{"truncate": true, "load": true}}
			}
			e := &Engine{Exec: remotetest.New(t), Reporter: &Recorder{}, Gates: GatePolicy{Confirm: "prod"}}
			if err := e.Run(context.Background(), rb); err == nil {
				t.Fatal("the run should fail")
			}
			if seen == nil || *seen != c.want {
				t.Fatalf("DestructiveStarted in the cleanup = %v, want %v (ran %v)", seen, c.want, ran)
			}
		})
	}
}
