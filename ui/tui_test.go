package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hotsnap/hotsnap/steps"
)

// fakeRun plays an engine run: one check step, a gate, one progress step.
// It records the gate's answer in approved.
func fakeRun(gate steps.GateRequest, approved *bool) func(ctx context.Context, rep steps.Reporter, ap steps.Approver) error {
	return func(ctx context.Context, rep steps.Reporter, ap steps.Approver) error {
		infos := []steps.StepInfo{
			{Index: 1, Total: 3, ID: "ring", Title: "Cassandra ring", Kind: steps.KindCheck, Component: "cassandra"},
			{Index: 2, Total: 3, ID: "approve", Title: "Start the backup", Kind: steps.KindGate, Component: "backup"},
			{Index: 3, Total: 3, ID: "stream", Title: "Stream every table", Kind: steps.KindAction, Component: "cassandra"},
		}
		rep.RunStarted("run-1", "backup", infos)
		rep.StepStarted(infos[0])
		rep.CheckReported(steps.CheckResult{StepID: "ring", Check: "ring state", Node: "node1", Status: steps.CheckPass, Evidence: "UN"})
		rep.StepFinished(infos[0], steps.StepResult{ID: "ring", State: steps.StateDone, Duration: time.Millisecond})
		rep.StepStarted(infos[1])
		ok, err := ap.Approve(ctx, gate)
		*approved = ok
		d := steps.GateDecision{Approved: ok, By: "tty"}
		res := steps.StepResult{ID: "approve", State: steps.StateDone}
		var runErr error
		if !ok || err != nil {
			d.By = "refused: declined by the operator"
			res.State, res.Err = steps.StateFailed, steps.ErrGateDeclined
			runErr = fmt.Errorf("step approve: %w", steps.ErrGateDeclined)
		}
		rep.GateDecided(gate, d)
		rep.StepFinished(infos[1], res)
		if runErr == nil {
			rep.StepStarted(infos[2])
			for i := int64(0); i <= 4; i++ {
				rep.StepProgress("stream", "node1", i*5<<20, 20<<20, "bytes")
			}
			rep.StepFinished(infos[2], steps.StepResult{ID: "stream", State: steps.StateDone, Duration: time.Millisecond})
		}
		rep.RunFinished(steps.RunSummary{RunID: "run-1", Runbook: "backup", Resumable: true, Err: runErr, Aborted: runErr != nil})
		return runErr
	}
}

func waitFor(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte(want)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func TestFlowBackupGateApproved(t *testing.T) {
	c := testClock()
	cfg := testConfig(c)
	var approved bool
	job := testJob()
	job.Run = fakeRun(steps.GateRequest{StepID: "approve", Title: "Start the backup", Nodes: []string{"node1"}, Cluster: "lab-thehive"}, &approved)
	cfg.Operations[0].Job = func(context.Context) (*Job, error) { return job, nil }
	tui := NewTUI()
	tm := teatest.NewTestModel(t, NewWizard(cfg, tui), teatest.WithInitialTermSize(100, 30))
	tui.b.attach(tm.Send)
	waitFor(t, tm, "What do you want to do?")
	tm.Type("1")
	waitFor(t, tm, "Plan review")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "GATE: Start the backup")
	tm.Type("y")
	waitFor(t, tm, "SUCCESS")
	tm.Type("q")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(model)
	if !approved {
		t.Error("the gate was not approved by typing y")
	}
	if fm.sum == nil || fm.sum.Err != nil || !fm.workDone {
		t.Errorf("final model: summary %+v, work done %v", fm.sum, fm.workDone)
	}
	if p := fm.progress; len(p) != 1 || p[0].done != 20<<20 {
		t.Errorf("progress rows: %+v", p)
	}
}

func TestFlowDestructiveGateNeedsTheName(t *testing.T) {
	c := testClock()
	var approved bool
	gate := steps.GateRequest{StepID: "approve", Title: "Remove old backups", Destructive: true, Cluster: "lab-thehive"}
	tui := NewTUI()
	m := newModel(testConfig(c), tui.b)
	m.single = true
	// The program runs the job as soon as it starts: the job waits until
	// the bridge is attached, as RunOne attaches it before starting.
	attached := make(chan struct{})
	run := fakeRun(gate, &approved)
	m = m.startJob(&Job{Run: func(ctx context.Context, rep steps.Reporter, ap steps.Approver) error {
		<-attached
		return run(ctx, rep, ap)
	}}, "prune")
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	tui.b.attach(tm.Send)
	close(attached)
	waitFor(t, tm, "DESTRUCTIVE GATE")
	tm.Type("y") // not the name: must not approve
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "not the cluster name")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	tm.Type("lab-thehive")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "SUCCESS")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // single run: enter leaves
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(model)
	if !approved {
		t.Error("typing the cluster name did not approve the destructive gate")
	}
	if !fm.workDone || fm.workResult != nil {
		t.Errorf("work done %v, result %v", fm.workDone, fm.workResult)
	}
}

func TestGateKeys(t *testing.T) {
	for _, tc := range []struct {
		name        string
		destructive bool
		keys        []tea.Msg
		want        bool
		answered    bool
	}{
		{"y approves", false, []tea.Msg{key("y")}, true, true},
		{"enter approves", false, []tea.Msg{key("enter")}, true, true},
		{"n declines", false, []tea.Msg{key("n")}, false, true},
		{"esc declines", false, []tea.Msg{key("esc")}, false, true},
		{"other keys wait", false, []tea.Msg{key("x")}, false, false},
		{"name approves", true, append(keysOf("prod"), key("enter")), true, true},
		{"y does not approve a destructive gate", true, []tea.Msg{key("y"), key("enter")}, false, false},
		{"esc declines a destructive gate", true, []tea.Msg{key("esc")}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply := make(chan bool, 1)
			m := update(running(&fakeClock{}, "backup"), gateAskMsg{reply: reply, req: steps.GateRequest{Title: "g", Destructive: tc.destructive, Cluster: "prod"}})
			m = update(m, tc.keys...)
			checkAnswer(t, m, reply, tc.answered, tc.want)
		})
	}
}

// checkAnswer checks what the gate modal of m sent on ch after the keys:
// want when answered (and the modal closed), nothing otherwise.
func checkAnswer[T comparable](t *testing.T, m tea.Model, ch <-chan T, answered bool, want T) {
	t.Helper()
	select {
	case got := <-ch:
		if !answered || got != want {
			t.Errorf("answered %#v, want answered=%v with %#v", got, answered, want)
		}
		if m.(model).gate != nil {
			t.Error("the modal is still open after the answer")
		}
	default:
		if answered {
			t.Error("no answer")
		}
	}
}

func keysOf(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

func TestCtrlCAsksThenCancels(t *testing.T) {
	m := running(&fakeClock{}, "backup")
	ctx := m.runCtx
	m2 := update(m, key("ctrl+c")).(model)
	if !m2.confirmAbt || ctx.Err() != nil {
		t.Fatalf("first ctrl+c: confirm %v, ctx %v (want a question, not a cancel)", m2.confirmAbt, ctx.Err())
	}
	m3 := update(m2, key("n")).(model)
	if m3.confirmAbt || ctx.Err() != nil {
		t.Fatalf("n: confirm %v, ctx %v", m3.confirmAbt, ctx.Err())
	}
	m4 := update(m3, key("ctrl+c"), key("y")).(model)
	if !errors.Is(ctx.Err(), context.Canceled) || !m4.aborting {
		t.Fatalf("ctrl+c y: ctx %v, aborting %v", ctx.Err(), m4.aborting)
	}
	m5 := update(m4, cleanupMsg{step: "snapshot"}, runFinishedMsg{sum: steps.RunSummary{Err: context.Canceled, Aborted: true}}, workDoneMsg{err: context.Canceled})
	if v := view(m5); !bytes.Contains([]byte(v), []byte("ABORTED")) || !bytes.Contains([]byte(v), []byte("cleanup of snapshot done")) {
		t.Errorf("after the abort the screen lacks ABORTED or the cleanup:\n%s", v)
	}
}

func TestApproveWithoutProgramRefuses(t *testing.T) {
	ok, err := NewTUI().Approve(context.Background(), steps.GateRequest{StepID: "g"})
	if ok || err == nil {
		t.Fatalf("Approve with no program: %v %v, want a refusal with an error", ok, err)
	}
	tui := NewTUI()
	tui.b.attach(func(tea.Msg) {})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, err := tui.Approve(ctx, steps.GateRequest{StepID: "g"}); ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("Approve with a cancelled ctx: %v %v", ok, err)
	}
}
