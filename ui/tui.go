package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/hotsnap/hotsnap/steps"
)

// The engine's events, as Bubble Tea messages. The TUI reporter turns each
// Reporter call into one of these and hands it to Program.Send; the model's
// Update is the only place that reads them.
type (
	runStartedMsg struct {
		runID, runbook string
		steps          []steps.StepInfo
	}
	stepStartedMsg struct{ info steps.StepInfo }
	stepsAddedMsg  struct {
		after string
		added []steps.StepInfo
	}
	stepOutputMsg   struct{ step, node, line string }
	stepProgressMsg struct {
		step, node  string
		done, total int64
		unit        string
	}
	checkMsg        struct{ r steps.CheckResult }
	gateDecidedMsg  struct{ d steps.GateDecision }
	stepFinishedMsg struct {
		info steps.StepInfo
		res  steps.StepResult
	}
	cleanupMsg struct {
		step string
		err  error
	}
	runFinishedMsg struct{ sum steps.RunSummary }
	// gateAskMsg opens the gate modal; the answer goes back on reply, or
	// for a choice gate (req.Choices) on pick: a choice's Key, "" declined.
	gateAskMsg struct {
		req   steps.GateRequest
		reply chan<- bool
		pick  chan<- string
	}
	// workDoneMsg says the work behind a run returned (after RunFinished).
	workDoneMsg struct{ err error }
)

// bridge forwards messages to the running program. Before the program
// exists, and after it has exited, messages are dropped: the engine never
// blocks on a screen that is not there.
type bridge struct {
	mu   sync.Mutex
	send func(tea.Msg)
}

func (b *bridge) Send(msg tea.Msg) {
	b.mu.Lock()
	send := b.send
	b.mu.Unlock()
	if send != nil {
		send(msg)
	}
}

func (b *bridge) attach(send func(tea.Msg)) {
	b.mu.Lock()
	b.send = send
	b.mu.Unlock()
}

// TUI is the terminal face of the engine: a steps.Reporter and a
// steps.Approver that forward every event to a Bubble Tea program. Its
// methods are safe for concurrent use and never block for long.
type TUI struct {
	b *bridge
}

var (
	_ steps.Reporter = (*TUI)(nil)
	_ steps.Approver = (*TUI)(nil)
	_ steps.Chooser  = (*TUI)(nil)
)

// RunStarted forwards the runbook's step list.
func (t *TUI) RunStarted(runID, runbook string, s []steps.StepInfo) {
	t.b.Send(runStartedMsg{runID: runID, runbook: runbook, steps: append([]steps.StepInfo(nil), s...)})
}

// StepStarted forwards a step start.
func (t *TUI) StepStarted(s steps.StepInfo) { t.b.Send(stepStartedMsg{info: s}) }

// StepsAdded forwards the steps a step made.
func (t *TUI) StepsAdded(after string, added []steps.StepInfo) {
	t.b.Send(stepsAddedMsg{after: after, added: append([]steps.StepInfo(nil), added...)})
}

// StepOutput forwards a line of node output.
func (t *TUI) StepOutput(stepID, node, line string) {
	t.b.Send(stepOutputMsg{step: stepID, node: node, line: Printable(line)})
}

// StepProgress forwards progress of a step on a node.
func (t *TUI) StepProgress(stepID, node string, done, total int64, unit string) {
	t.b.Send(stepProgressMsg{step: stepID, node: node, done: done, total: total, unit: unit})
}

// CheckReported forwards a check verdict.
func (t *TUI) CheckReported(r steps.CheckResult) {
	r.Evidence, r.Remedy = Printable(r.Evidence), Printable(r.Remedy)
	t.b.Send(checkMsg{r: r})
}

// GateRequested does nothing: the modal opens when Approve asks, and a gate
// the flags decide shows up through GateDecided.
func (t *TUI) GateRequested(steps.GateRequest) {}

// GateDecided forwards how a gate was answered.
func (t *TUI) GateDecided(_ steps.GateRequest, d steps.GateDecision) {
	t.b.Send(gateDecidedMsg{d: d})
}

// StepFinished forwards how a step ended.
func (t *TUI) StepFinished(s steps.StepInfo, res steps.StepResult) {
	res.Err = printableErr(res.Err)
	t.b.Send(stepFinishedMsg{info: s, res: res})
}

// CleanupRan forwards a cleanup's outcome.
func (t *TUI) CleanupRan(stepID string, err error) {
	t.b.Send(cleanupMsg{step: stepID, err: printableErr(err)})
}

// RunFinished forwards the run summary.
func (t *TUI) RunFinished(sum steps.RunSummary) {
	sum.Err = printableErr(sum.Err)
	t.b.Send(runFinishedMsg{sum: sum})
}

// Approve opens the gate modal and waits for the operator's answer. A
// cancelled ctx, or a program that has gone, is a refusal.
func (t *TUI) Approve(ctx context.Context, g steps.GateRequest) (bool, error) {
	reply := make(chan bool, 1)
	if err := t.ask(gateAskMsg{req: g, reply: reply}); err != nil {
		return false, err
	}
	select {
	case ok := <-reply:
		return ok, nil
	case <-ctx.Done():
		return false, fmt.Errorf("gate %s: %w", g.StepID, ctx.Err())
	}
}

// Choose opens the gate modal with the choices of a choice gate and waits
// for the Key of the one the operator takes ("" when they decline). A
// cancelled ctx, or a program that has gone, is a refusal.
func (t *TUI) Choose(ctx context.Context, g steps.GateRequest) (string, error) {
	pick := make(chan string, 1)
	if err := t.ask(gateAskMsg{req: g, pick: pick}); err != nil {
		return "", err
	}
	select {
	case k := <-pick:
		return k, nil
	case <-ctx.Done():
		return "", fmt.Errorf("gate %s: %w", g.StepID, ctx.Err())
	}
}

// ask opens the modal, or says why it cannot.
func (t *TUI) ask(msg gateAskMsg) error {
	t.b.mu.Lock()
	attached := t.b.send != nil
	t.b.mu.Unlock()
	if !attached {
		return errors.New("the wizard is not running")
	}
	t.b.Send(msg)
	return nil
}

// Options configure a TUI program.
type Options struct {
	// Output is where the TUI draws (os.Stderr, so stdout stays pipeable).
	Output io.Writer
	// Input is the keyboard (nil: the terminal).
	Input io.Reader
	// Width and Height fix the size (tests); 0 asks the terminal.
	Width, Height int
	// Extra are more program options (tests).
	Extra []tea.ProgramOption
}

func (o Options) program(m tea.Model) *tea.Program {
	opts := []tea.ProgramOption{tea.WithoutSignalHandler()}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.Width > 0 && o.Height > 0 {
		opts = append(opts, tea.WithWindowSize(o.Width, o.Height))
	}
	opts = append(opts, o.Extra...)
	return tea.NewProgram(m, opts...)
}

// Work is what a TUI run does: usually Engine.Run with the TUI as reporter
// and approver. It runs in its own goroutine with a context the TUI cancels
// when the operator aborts.
type Work func(ctx context.Context) error

// RunOne shows one run on the terminal: the step list, progress, the log,
// gates, then the summary or the failure, until the operator leaves. It
// returns work's error (or the program's, when the screen failed).
func RunOne(ctx context.Context, t *TUI, cfg Config, work Work, o Options) error {
	m := newModel(cfg, t.b)
	m.single = true
	job := &Job{Run: func(ctx context.Context, _ steps.Reporter, _ steps.Approver) error { return work(ctx) }}
	m = m.startJob(job, "")
	p := o.program(m)
	t.b.attach(p.Send)
	defer t.b.attach(nil)
	defer showing(p)()
	stop := context.AfterFunc(ctx, func() { p.Send(abortMsg{}) })
	defer stop()
	final, err := p.Run()
	fm, ok := final.(model)
	if !ok || !fm.workDone {
		// The program ended before the work did (killed, or the screen
		// failed): stop the engine and wait for its cleanup.
		m.cancel()
		workErr := <-m.workErr
		if err != nil {
			return fmt.Errorf("wizard screen: %w (the run: %v)", err, workErr)
		}
		return workErr
	}
	if err != nil {
		return fmt.Errorf("wizard screen: %w", err)
	}
	return fm.workResult
}

// NewTUI returns a TUI whose events go nowhere until a program runs it
// (RunOne or RunWizard).
func NewTUI() *TUI { return &TUI{b: &bridge{}} }
