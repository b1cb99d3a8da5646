package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotsnap/hotsnap/remote"
)

// Executor runs commands on nodes: remote.Pool in production,
// remotetest.Fake in tests.
type Executor interface {
	Run(ctx context.Context, node string, cmd remote.Command) (remote.Result, error)
}

// PlannedCommand is one command a step will run on one node.
type PlannedCommand struct {
	Node string
	Cmd  string // secrets masked
	Sudo bool
	Note string // where the output goes, how often, ...
}

// Step is one step of a runbook.
type Step struct {
	ID    string
	Title string
	Why   string // the runbook text it mirrors: why it exists
	Kind  Kind
	// Component names what the step works on, as the faces show it: a
	// system ("cassandra", "elasticsearch", "attachments", "thehive"), the
	// nodes themselves ("host"), the backup repository ("repository"), the
	// backup being restored ("backup"), the comparison of topologies
	// ("topology"). The faces group progress and results by it, never by a
	// runbook's step IDs.
	Component   string
	Destructive bool
	// Plan lists the exact commands the step will run, per node. It must
	// not touch anything.
	Plan func() []PlannedCommand
	// Run does the step. For a gate it is nil and Gate is set.
	Run func(ctx context.Context, rc *RunContext) error
	// Cleanup undoes what a started step leaves behind (e.g. clears a
	// snapshot); it runs when the run fails or is cancelled, for every
	// step that started, in reverse order, with a fresh context.
	Cleanup func(ctx context.Context, rc *RunContext) error
	// Gate is the question a gate step asks.
	Gate *GateRequest
	// Refine, when set, completes a gate's question when it is asked, from
	// what the steps before it found (a count, say); Gate is what the plan
	// shows. It may not make a gate destructive or not.
	Refine func(g *GateRequest)
	// Chose, when set, receives the Key of the choice taken at a choice
	// gate, before the next step starts: that is how the runbook learns it.
	Chose func(choice string)
	// Skip, when set, is asked as the step is reached (a gate too): a
	// reason skips it, reported as skipped with the reason (a question
	// made moot by what the steps before found, say).
	Skip func() string
	// Concurrent lets the engine run the step at the same time as the
	// steps next to it that are Concurrent too (a group; gates never join
	// one). A step may be Concurrent only when it reads nothing the other
	// steps of its group leave behind. Reporters still see the group one
	// step after another, in order: a step's events are held until the
	// steps before it have finished. A failed step of a group fails the run
	// once the whole group has finished.
	Concurrent bool
	// Then, when set, makes the rest of the run from what the step found:
	// once the step has finished, the engine asks it and runs the steps it
	// returns right after the step (before the steps that follow it), and
	// adds params to the runbook's Params (journaled, for resume). A
	// runbook whose steps depend on what is read first (the restore of a
	// backup of the documented scripts, built from its archives' headers)
	// starts with such a step. Only a step that runs alone may have one
	// (not a gate, not Concurrent).
	Then func() (next []Step, params map[string]string)
}

// ThenNote is what a plan says under a step that makes the steps after it
// (Step.Then): they are not known before it has run.
const ThenNote = "then: the next steps are made from what this step finds (they run in the same run; every gate still asks)"

// Runbook is an ordered list of steps.
type Runbook struct {
	Name    string
	Cluster string // typed to approve destructive gates
	Steps   []Step
	// Params are what rebuilds this runbook on `hotsnap resume` (the backup
	// ID, the repository, the inventory, ...); the journal records them.
	Params map[string]string
	// Resume, when set, continues that earlier run: a destructive step it
	// finished is not repeated (it is reported skipped); every check, gate
	// and other step runs again, so the state is re-checked and the
	// operator approves again.
	Resume *PriorRun
	// Resumable says a failed or interrupted run of this runbook can be
	// continued with `hotsnap resume RUN` (the runbook rebuilds itself from
	// Params).
	Resumable bool
	// Exclusive says the runbook changes the cluster or the repository:
	// the CLI runs it alone, behind the lock (runbooks.WithLock).
	Exclusive bool
}

// Approver answers gates on a terminal. The engine consults it only when
// the flags did not already decide.
type Approver interface {
	Approve(ctx context.Context, g GateRequest) (bool, error)
}

// Chooser is an Approver that can also answer a choice gate: it returns the
// Key of the choice the operator took, or "" when they declined. The TUI and
// LineApprover implement it; an Approver without it cannot answer a choice
// gate (the run then stops, naming the flags).
type Chooser interface {
	Choose(ctx context.Context, g GateRequest) (string, error)
}

// GatePolicy is how gates are answered: --yes approves ordinary gates,
// --confirm NAME approves destructive ones when NAME is the cluster name,
// otherwise the Approver (a TTY) is asked; without one the run fails with a
// message naming the flag, never waiting. A choice gate takes the choice a
// flag made (Choices), else the default with --yes, else asks the Approver
// (a Chooser), else fails naming the flags.
type GatePolicy struct {
	Yes      bool
	Confirm  string
	Approver Approver // nil: no terminal
	// Choices maps a choice gate's step ID to the Key of the choice a flag
	// made (e.g. "choose-s3" → "exact" for --s3-exact).
	Choices map[string]string
}

// Engine runs runbooks.
type Engine struct {
	checksMu sync.Mutex
	checks   []CheckResult

	Exec     Executor
	Reporter Reporter
	Gates    GatePolicy
	Journal  *Journal // nil: no journal
	// Secrets are masked wherever the engine records or reports text.
	Secrets []string
	// Timeouts are the deadlines the flags set, by Deadline.Flag; a
	// deadline without one waits its Default.
	Timeouts map[string]time.Duration
}

// ErrGateDeclined is returned when the operator (or the policy) said no.
var ErrGateDeclined = errors.New("declined at a gate")

// RunContext is what a running step gets: the executor wrapped so that
// every command is journaled and its output reported.
type RunContext struct {
	e     *Engine
	step  *Step
	info  StepInfo
	held  *[]CheckResult // when set, Check holds results for the caller to report
	run   string
	out   *ordered  // nil: report at once
	state *runState // nil outside a run
}

// runState is what the engine knows of a run while it goes.
type runState struct {
	rb          *Runbook
	destructive atomic.Bool // a destructive step started in this run
}

// DestructiveStarted says whether a destructive step of the runbook has
// started, in this run or in an earlier run this one resumes: the data may
// be half replaced. A cleanup asks it to leave an application stopped
// rather than start it on such data.
func (rc *RunContext) DestructiveStarted() bool {
	st := rc.state
	if st == nil {
		return false
	}
	return st.destructive.Load() || st.rb.Resume != nil && st.rb.Resume.ChangedData(*st.rb)
}

// emit reports through the step's ordered queue, or at once.
func (rc *RunContext) emit(f func(Reporter)) {
	if rc.out != nil {
		rc.out.emit(f)
		return
	}
	f(rc.e.Reporter)
}

// Detached returns a RunContext outside any run, for step stepID: its
// commands go to ex, and nothing is reported or journaled (an estimate
// made before the run starts).
func Detached(ex Executor, stepID string) *RunContext {
	return &RunContext{e: &Engine{Exec: ex, Reporter: NopReporter{}}, info: StepInfo{ID: stepID}}
}

// Resumes returns the ID of the earlier run this run continues (hotsnap
// resume), "" when it continues none.
func (rc *RunContext) Resumes() string {
	if rc.state == nil || rc.state.rb.Resume == nil {
		return ""
	}
	return rc.state.rb.Resume.RunID
}

// RunID returns the ID of the run the step is part of.
func (rc *RunContext) RunID() string { return rc.run }

// Run runs cmd on node, reporting output lines and recording the command,
// its exit code and duration in the journal.
func (rc *RunContext) Run(ctx context.Context, node string, cmd remote.Command) (remote.Result, error) {
	if cmd.OnLine == nil && (cmd.Stdout == nil || cmd.Stderr == nil) {
		cmd.OnLine = func(l remote.Line) { rc.Output(l.Node, l.Text) }
	}
	res, err := rc.e.Exec.Run(ctx, node, cmd)
	rc.journalCommand(node, cmd.Cmd, cmd.Sudo, res, err)
	return res, err
}

// journalCommand records a command that ran on node: its line (redacted),
// exit code, duration and error.
func (rc *RunContext) journalCommand(node, cmd string, sudo bool, res remote.Result, err error) {
	rc.e.Journal.record(entry{Type: "command", Step: rc.info.ID, Node: node, Cmd: rc.e.redact(cmd), Sudo: sudo,
		Exit: &res.ExitCode, DurationMS: res.Duration.Milliseconds(), Error: rc.e.redactErr(err)})
}

// RunAll runs the command mk builds for each node in parallel and returns
// the first error, wrapped with the node and step (all nodes finish first).
func (rc *RunContext) RunAll(ctx context.Context, nodes []string, mk func(node string) remote.Command) error {
	return Parallel(nodes, func(_ int, n string) error {
		_, err := rc.Run(ctx, n, mk(n))
		return err
	})
}

// Output reports a line the step itself produced about node.
func (rc *RunContext) Output(node, line string) {
	line = rc.e.redact(line)
	rc.emit(func(r Reporter) { r.StepOutput(rc.info.ID, node, line) })
}

// Check reports the result of one check (redacted) and records it.
func (rc *RunContext) Check(r CheckResult) {
	if rc.held != nil {
		*rc.held = append(*rc.held, r)
		return
	}
	r.StepID = rc.info.ID
	r.Evidence, r.Remedy = rc.e.redact(r.Evidence), rc.e.redact(r.Remedy)
	// Held with the step's events, so that the run's checks keep step order.
	rc.emit(func(rep Reporter) {
		rc.e.checksMu.Lock()
		rc.e.checks = append(rc.e.checks, r)
		rc.e.checksMu.Unlock()
		rep.CheckReported(r)
		rc.e.Journal.record(entry{Type: "check", Step: r.StepID, Node: r.Node, Check: r.Check, State: string(r.Status), Evidence: r.Evidence, Remedy: r.Remedy})
	})
}

// Checks returns every check reported so far in this run.
func (rc *RunContext) Checks() []CheckResult {
	rc.e.checksMu.Lock()
	defer rc.e.checksMu.Unlock()
	return append([]CheckResult(nil), rc.e.checks...)
}

// FailedChecks returns the checks that failed so far in this run.
func (rc *RunContext) FailedChecks() []CheckResult {
	rc.e.checksMu.Lock()
	defer rc.e.checksMu.Unlock()
	var out []CheckResult
	for _, c := range rc.e.checks {
		if c.Status == CheckFail {
			out = append(out, c)
		}
	}
	return out
}

// Progress reports progress of the step on node.
func (rc *RunContext) Progress(node string, done, total int64, unit string) {
	f := func(r Reporter) { r.StepProgress(rc.info.ID, node, done, total, unit) }
	if rc.out != nil {
		rc.out.emitProgress(node, f)
		return
	}
	f(rc.e.Reporter)
}

// NewRunID returns a run ID: UTC time plus randomness, sortable and unique.
func NewRunID(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// Run runs rb from the first step. It returns nil when every step finished,
// ErrGateDeclined (wrapped) when a gate was declined, ctx.Err() (wrapped)
// when cancelled, or the failing step's error wrapped with its ID.
func (e *Engine) Run(ctx context.Context, rb Runbook) error {
	runID := NewRunID(time.Now())
	if e.Journal != nil {
		runID = e.Journal.RunID
	}
	if err := rb.check(0); err != nil {
		return err
	}
	infos := rb.infos()
	e.checksMu.Lock()
	e.checks = nil
	e.checksMu.Unlock()
	e.Reporter.RunStarted(runID, rb.Name, infos)
	first := entry{Type: "run_started", Runbook: rb.Name, Cluster: rb.Cluster, Params: rb.Params}
	if p := rb.Resume; p != nil {
		first.Resumes, first.DoneBefore, first.ChoseBefore = p.RunID, p.Done, p.Chose
		first.StartedBefore = slices.Sorted(maps.Keys(p.Started))
	}
	e.Journal.record(first)
	start := time.Now()
	state := &runState{rb: &rb}
	sum := RunSummary{RunID: runID, Runbook: rb.Name, Resumable: rb.Resumable}
	var started []int
	var runErr error
	for i := 0; i < len(rb.Steps) && runErr == nil; {
		end := rb.groupEnd(i)
		if err := ctx.Err(); err != nil {
			runErr = fmt.Errorf("before step %s: %w", rb.Steps[i].ID, err)
			break
		}
		for k := i; k < end; k++ {
			if rb.Steps[k].Kind != KindGate && rb.doneEarlier(&rb.Steps[k]) == "" {
				started = append(started, k)
			}
		}
		for _, res := range e.runGroup(ctx, rb, infos[i:end], runID, state) {
			sum.Steps = append(sum.Steps, res)
			if res.Err != nil && runErr == nil {
				runErr = fmt.Errorf("step %s: %w", res.ID, res.Err)
			}
		}
		if s := rb.Steps[i]; runErr == nil && end == i+1 && s.Then != nil && sum.Steps[len(sum.Steps)-1].State == StateDone {
			infos, runErr = e.insert(&rb, i, runID)
		}
		i = end
	}
	if runErr != nil {
		e.cleanup(rb, infos, started, runID, state)
	}
	e.checksMu.Lock()
	sum.Checks = append([]CheckResult(nil), e.checks...)
	e.checksMu.Unlock()
	sum.Err, sum.Duration = runErr, time.Since(start)
	sum.Aborted = errors.Is(runErr, context.Canceled) || errors.Is(runErr, ErrGateDeclined)
	e.Journal.record(entry{Type: "run_finished", Error: e.redactErr(runErr), DurationMS: sum.Duration.Milliseconds()})
	e.Reporter.RunFinished(sum)
	return runErr
}

// check refuses the runbook when one of its steps from the one at index
// from on is destructive with no destructive gate before it, or has a Then
// it may not have.
func (rb Runbook) check(from int) error {
	for i := from; i < len(rb.Steps); i++ {
		s := rb.Steps[i]
		if s.Destructive && s.Kind != KindGate && !precededByDestructiveGate(rb.Steps[:i]) {
			return fmt.Errorf("runbook %s: step %s is destructive but no destructive gate comes before it", rb.Name, s.ID)
		}
		if s.Then != nil && (s.Kind == KindGate || s.Concurrent) {
			return fmt.Errorf("runbook %s: step %s makes the next steps (Then) but is a gate or Concurrent", rb.Name, s.ID)
		}
	}
	return nil
}

// infos describes every step of rb to the reporters.
func (rb Runbook) infos() []StepInfo {
	infos := make([]StepInfo, len(rb.Steps))
	for i, s := range rb.Steps {
		infos[i] = StepInfo{Index: i + 1, Total: len(rb.Steps), ID: s.ID, Title: s.Title, Why: s.Why, Kind: s.Kind, Component: s.Component, Destructive: s.Destructive}
	}
	return infos
}

// insert puts the steps that step i of rb makes (Step.Then) right after
// it, adds its params to rb's, records both in the journal and tells the
// reporters; it returns every step's description now. A step it makes
// that the runbook refuses (a destructive step with no destructive gate
// before it) fails the run.
func (e *Engine) insert(rb *Runbook, i int, runID string) ([]StepInfo, error) {
	s := rb.Steps[i]
	next, params := s.Then()
	grown := *rb
	grown.Steps = slices.Concat(rb.Steps[:i+1], next, rb.Steps[i+1:])
	if err := grown.check(i + 1); err != nil {
		return rb.infos(), fmt.Errorf("step %s: %w", s.ID, err)
	}
	if len(params) > 0 {
		grown.Params = maps.Clone(rb.Params)
		if grown.Params == nil {
			grown.Params = map[string]string{}
		}
		maps.Copy(grown.Params, params)
	}
	*rb = grown
	infos := rb.infos()
	var ids []string
	for _, n := range next {
		ids = append(ids, n.ID)
	}
	e.Journal.record(entry{Type: "steps_added", Step: s.ID, Added: ids, Params: params})
	e.Reporter.StepsAdded(s.ID, infos[i+1:i+1+len(next)])
	return infos, nil
}

// groupEnd returns the index after the group of concurrent steps that
// starts at i: i+1 when step i runs alone.
func (rb Runbook) groupEnd(i int) int {
	end := i + 1
	for end < len(rb.Steps) && rb.concurrent(i) && rb.concurrent(end) {
		end++
	}
	return end
}

// Group returns the first and last index of the group of steps the engine
// runs at once that holds step i (both are i when it runs alone).
func (rb Runbook) Group(i int) (first, last int) {
	for start := 0; start < len(rb.Steps); {
		end := rb.groupEnd(start)
		if i < end {
			return start, end - 1
		}
		start = end
	}
	return i, i
}

func (rb Runbook) concurrent(i int) bool {
	s := &rb.Steps[i]
	return s.Concurrent && s.Kind != KindGate && rb.doneEarlier(s) == ""
}

// runGroup runs the steps of infos (one, or a group of concurrent steps)
// and returns their results in step order. Each step reports through its
// own ordered queue, released when the steps before it have finished, so
// reporters and the journal's checks read as if the steps ran one by one.
func (e *Engine) runGroup(ctx context.Context, rb Runbook, infos []StepInfo, runID string, state *runState) []StepResult {
	if len(infos) == 1 {
		return []StepResult{e.runStep(ctx, rb, infos[0], runID, nil, state)}
	}
	res := make([]StepResult, len(infos))
	outs := make([]*ordered, len(infos))
	done := make([]chan struct{}, len(infos))
	for k, info := range infos {
		outs[k], done[k] = &ordered{to: e.Reporter}, make(chan struct{})
		go func() {
			defer close(done[k])
			res[k] = e.runStep(ctx, rb, info, runID, outs[k], state)
		}()
	}
	for k := range infos {
		outs[k].release()
		<-done[k]
	}
	return res
}

// runStep runs one step (a gate asks its question; a destructive step an
// earlier run finished is skipped) and reports it through out (nil: at
// once).
func (e *Engine) runStep(ctx context.Context, rb Runbook, info StepInfo, runID string, out *ordered, state *runState) StepResult {
	s := &rb.Steps[info.Index-1]
	rc := &RunContext{e: e, step: s, info: info, run: runID, out: out, state: state}
	rc.emit(func(r Reporter) { r.StepStarted(info) })
	if doneIn := rb.doneEarlier(s); doneIn != "" {
		rc.Output("", "finished in run "+doneIn+": not repeated")
		res := StepResult{ID: s.ID, State: StateSkipped}
		rc.emit(func(r Reporter) { r.StepFinished(info, res) })
		e.Journal.record(entry{Type: "step_finished", Step: s.ID, State: string(StateSkipped), DoneIn: doneIn})
		return res
	}
	if s.Skip != nil {
		if why := s.Skip(); why != "" {
			rc.Output("", "skipped: "+why)
			res := StepResult{ID: s.ID, State: StateSkipped}
			rc.emit(func(r Reporter) { r.StepFinished(info, res) })
			e.Journal.record(entry{Type: "step_finished", Step: s.ID, State: string(StateSkipped)})
			return res
		}
	}
	e.Journal.record(entry{Type: "step_started", Step: s.ID})
	if s.Destructive && s.Kind != KindGate {
		state.destructive.Store(true)
	}
	t0 := time.Now()
	var err error
	if s.Kind == KindGate {
		err = e.gate(ctx, rb, s)
	} else {
		err = s.Run(ctx, rc)
	}
	// Masked here, so that the reporter, the summary and the run's error
	// never carry a secret (errors.Is still sees the cause).
	err = MaskError(err, e.Secrets)
	res := StepResult{ID: s.ID, State: StateDone, Duration: time.Since(t0), Err: err}
	if err != nil {
		res.State = StateFailed
		if ctx.Err() != nil {
			res.State = StateCanceled
		}
	}
	rc.emit(func(r Reporter) { r.StepFinished(info, res) })
	e.Journal.record(entry{Type: "step_finished", Step: s.ID, State: string(res.State), DurationMS: res.Duration.Milliseconds(), Error: e.redactErr(err)})
	return res
}

// ordered holds a step's reporter events until release, then passes them
// on at once. While held, a node's progress keeps only its latest report
// (progress is cumulative), so a long wait holds little.
type ordered struct {
	mu       sync.Mutex
	to       Reporter
	live     bool
	held     []func(Reporter)
	progress map[string]int // node → index in held of its progress report
}

// emitProgress is emit for a progress report of node.
func (o *ordered) emitProgress(node string, f func(Reporter)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.live {
		f(o.to)
		return
	}
	if i, ok := o.progress[node]; ok {
		o.held[i] = f
		return
	}
	if o.progress == nil {
		o.progress = map[string]int{}
	}
	o.progress[node] = len(o.held)
	o.held = append(o.held, f)
}

func (o *ordered) emit(f func(Reporter)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.live {
		f(o.to)
		return
	}
	o.held = append(o.held, f)
}

// release reports what was held, in order, and lets later events through.
func (o *ordered) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.held {
		f(o.to)
	}
	o.held, o.progress, o.live = nil, nil, true
}

// doneEarlier returns the run that finished s when this run resumes it and
// s is a destructive action (never repeated), else "".
func (rb Runbook) doneEarlier(s *Step) string {
	if rb.Resume == nil || !s.Destructive || s.Kind == KindGate {
		return ""
	}
	return rb.Resume.Done[s.ID]
}

func precededByDestructiveGate(prev []Step) bool {
	for _, s := range prev {
		if s.Kind == KindGate && s.Gate != nil && s.Gate.Destructive {
			return true
		}
	}
	return false
}

// cleanup runs the cleanups of started steps in reverse order with a fresh,
// bounded context, so a cancelled run still cleans up.
func (e *Engine) cleanup(rb Runbook, infos []StepInfo, started []int, runID string, state *runState) {
	for j := len(started) - 1; j >= 0; j-- {
		i := started[j]
		s := &rb.Steps[i]
		if s.Cleanup == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := MaskError(s.Cleanup(ctx, &RunContext{e: e, step: s, info: infos[i], run: runID, state: state}), e.Secrets)
		cancel()
		e.Reporter.CleanupRan(s.ID, err)
		e.Journal.record(entry{Type: "cleanup", Step: s.ID, Error: e.redactErr(err)})
	}
}

// gate applies the policy: flags first, then the terminal, else refuse.
func (e *Engine) gate(ctx context.Context, rb Runbook, s *Step) error {
	if s.Gate == nil {
		return fmt.Errorf("gate step %s has no question", s.ID)
	}
	g := *s.Gate
	g.Nodes = append([]string(nil), g.Nodes...)
	g.Choices = append([]GateChoice(nil), g.Choices...)
	if s.Refine != nil {
		s.Refine(&g)
		g.Destructive = s.Gate.Destructive
	}
	g.StepID, g.Cluster = s.ID, rb.Cluster
	if g.Title == "" {
		g.Title = s.Title
	}
	if p := rb.Resume; p != nil && len(g.Choices) > 0 {
		// A resumed run offers what the earlier run chose, so that --yes or
		// a hasty enter does not silently flip it.
		if c, ok := g.Choice(p.Chose[s.ID]); ok {
			g.Default = c.Key
			g.Happens = strings.TrimSpace(g.Happens + fmt.Sprintf(" (run %s chose %q here: it is the default now)", p.RunID, c.Label))
		}
	}
	e.Reporter.GateRequested(g)
	d := e.decide(ctx, g)
	d.By = e.redact(d.By)
	e.Reporter.GateDecided(g, d)
	e.Journal.record(entry{Type: "gate", Step: s.ID, Approved: &d.Approved, By: d.By, Choice: d.Choice})
	if !d.Approved {
		return fmt.Errorf("%w: %s", ErrGateDeclined, d.By)
	}
	if s.Chose != nil && d.Choice != "" {
		s.Chose(d.Choice)
	}
	return nil
}

// choose applies the policy to a choice gate: a flag's choice, else the
// default with --yes, else the terminal, else refuse naming the flags.
func (e *Engine) choose(ctx context.Context, g GateRequest) GateDecision {
	p := e.Gates
	if k, ok := p.Choices[g.StepID]; ok && k != "" {
		c, found := g.Choice(k)
		if !found {
			return GateDecision{By: fmt.Sprintf("refused: gate %s offers no choice %q", g.StepID, k)}
		}
		by := c.Flag
		if by == "" {
			by = "flag"
		}
		return GateDecision{Approved: true, By: by, Choice: c.Key}
	}
	if def, ok := g.Choice(g.Default); ok && p.Yes {
		return GateDecision{Approved: true, By: "--yes", Choice: def.Key}
	}
	ch, ok := p.Approver.(Chooser)
	if !ok {
		why := "no terminal to ask"
		if p.Approver != nil {
			why = "this terminal cannot offer the choice"
		}
		return GateDecision{By: fmt.Sprintf("refused: %s %q; %s", why, g.Title, choiceFlags(g))}
	}
	k, err := ch.Choose(ctx, g)
	if err != nil {
		return GateDecision{By: "refused: " + err.Error()}
	}
	if k == "" {
		return GateDecision{By: "refused: declined by the operator"}
	}
	if _, found := g.Choice(k); !found {
		return GateDecision{By: fmt.Sprintf("refused: the terminal answered %q, not one of the choices", k)}
	}
	return GateDecision{Approved: true, By: "tty", Choice: k}
}

// choiceFlags says which flag takes which choice: "pass --yes to keep …, or
// --s3-exact to remove …".
func choiceFlags(g GateRequest) string {
	var parts []string
	for _, c := range g.Choices {
		flag := c.Flag
		if c.Key == g.Default {
			flag = "--yes"
			if c.Flag != "" {
				flag = "--yes (or " + c.Flag + ")"
			}
		}
		if flag != "" {
			parts = append(parts, flag+" to "+c.Label)
		}
	}
	if len(parts) == 0 {
		return "no flag answers it: run on a terminal"
	}
	return "pass " + strings.Join(parts, ", or ")
}

func (e *Engine) decide(ctx context.Context, g GateRequest) GateDecision {
	if len(g.Choices) > 0 {
		return e.choose(ctx, g)
	}
	p := e.Gates
	if g.Destructive {
		switch {
		case p.Confirm != "" && p.Confirm == g.Cluster:
			return GateDecision{Approved: true, By: "--confirm"}
		case p.Confirm != "":
			return GateDecision{By: fmt.Sprintf("refused: --confirm %q does not match the cluster name %q", p.Confirm, g.Cluster)}
		}
	} else if p.Yes {
		return GateDecision{Approved: true, By: "--yes"}
	}
	if p.Approver == nil {
		flag := "--yes"
		if g.Destructive {
			flag = "--confirm " + g.Cluster
		}
		return GateDecision{By: fmt.Sprintf("refused: no terminal to ask on; pass %s to approve %q", flag, g.Title)}
	}
	ok, err := p.Approver.Approve(ctx, g)
	switch {
	case err != nil:
		return GateDecision{By: "refused: " + err.Error()}
	case !ok:
		return GateDecision{By: "refused: declined by the operator"}
	}
	return GateDecision{Approved: true, By: "tty"}
}

// redact masks every secret in s.
func (e *Engine) redact(s string) string { return Redact(s, e.Secrets) }

func (e *Engine) redactErr(err error) string {
	if err == nil {
		return ""
	}
	return e.redact(err.Error())
}
