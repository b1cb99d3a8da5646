package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// Inventory is what the Home screen shows of the inventory.
type Inventory struct {
	Path     string // where it was read from
	Platform string
	Cluster  string
	Nodes    []Node
	Problem  string // why no inventory could be read ("" when loaded)
}

// Node is one inventory node.
type Node struct {
	Name, Host string
	Roles      []string
}

// Operation is one thing the Home screen offers.
type Operation struct {
	Key   string // "backup", "preflight", ...
	Title string
	Help  string // one line under the title
	// Disabled, when set, says why the operation cannot be picked; it is
	// shown greyed out with the reason.
	Disabled string
	// Job builds a runbook run (backup, preflight). It may do I/O (open
	// the SSH pool); the wizard calls it from a command, never in Update.
	Job func(ctx context.Context) (*Job, error)
	// Text runs a short operation whose result is text (list, verify).
	Text func(ctx context.Context) (string, error)
	// Review shows the plan before running the job.
	Review bool
	// Pick, when set, makes the operation start with the backup picker:
	// Pick lists the repository's backups and PickJob builds the run for
	// the one chosen (both called from commands, never in Update).
	Pick    func(ctx context.Context) (*BackupList, error)
	PickJob func(ctx context.Context, id string) (*Job, error)
	// Init, when set, makes the operation the Init screen: a form whose
	// answers go to Init (called from a command, never in Update), which
	// reports its progress lines through progress and returns what it
	// found and wrote.
	Init func(ctx context.Context, req InitRequest, progress func(line string)) (*InitResult, error)
}

// Job is one runbook run the wizard drives.
type Job struct {
	// Runbook is what Plan review shows (Step.Plan per step).
	Runbook steps.Runbook
	// Run runs the runbook with rep and ap as the engine's reporter and
	// approver (the wizard's TUI), returning the engine's error.
	Run func(ctx context.Context, rep steps.Reporter, ap steps.Approver) error
	// Facts, for backups, returns the backup's facts once the run ended.
	Facts func() *BackupFacts
	// Estimate, for backups, measures on the nodes what the run would copy
	// and how long it should take; Plan review calls it from a command.
	Estimate func(ctx context.Context) (*steps.Estimate, error)
	// Restore, for restores, returns the restore's facts: the backup, and
	// once the run ended the load path and the report. It must not do I/O.
	Restore func() *RestoreFacts
	// Close releases what Job opened (the SSH pool); may be nil.
	Close func()
}

// BackupFacts are the facts of a finished backup the Summary shows.
type BackupFacts struct {
	ID         string
	Components []Component
	Total      int64
	Duration   time.Duration
	SkewMS     float64
	Location   string
	Warnings   []string
}

// Component is one part of a backup: its name, size, how long it took to
// copy (0 when not recorded) and a detail line.
type Component struct {
	Name     string
	Size     int64
	Duration time.Duration
	Detail   string
}

// RestoreFacts are the facts of a restore that Plan review and the
// Summary show.
type RestoreFacts struct {
	BackupID   string
	Taken      time.Time
	Size       int64
	Components []string
	// LoadedWith is the command that loads the keyspace ("nodetool import",
	// "sstableloader") once the topologies were compared ("" before).
	LoadedWith string
	// Report is the restore's report (RestoreRun.Report) once it ended.
	Report []string
}

// BackupList is what the backup picker shows.
type BackupList struct {
	Where   string         // the repository
	Backups []repo.Summary // newest first, complete or not
	// Documented are the backups made by TheHive's documented scripts found
	// in DocumentedWhere (their backup root on the nodes), newest first,
	// each ID "legacy-" and its stamp; DocumentedNote says what was looked
	// for when none is listed, or why it could not be.
	Documented      []repo.Summary
	DocumentedWhere string
	DocumentedNote  string
}

// rows are the backups the picker lists: the repository's, then the
// documented scripts'.
func (l *BackupList) rows() []repo.Summary {
	return append(append([]repo.Summary(nil), l.Backups...), l.Documented...)
}

// Config is what the wizard needs from the command line.
type Config struct {
	Title      string // "hotsnap 1.2.3"
	Inventory  Inventory
	Operations []Operation
	// Now is the clock (tests fix it); nil is time.Now.
	Now func() time.Time
}

type screen int

const (
	screenHome screen = iota
	screenPlan
	screenRun
	screenText
	screenInit
	screenPick
)

// Messages of the wizard itself.
type (
	jobReadyMsg struct {
		op  string
		job *Job
		err error
	}
	textReadyMsg struct {
		title, text string
		err         error
	}
	abortMsg struct{}
	tickMsg  time.Time
	// pickReadyMsg brings the backups for the picker.
	pickReadyMsg struct {
		op   string
		list *BackupList
		err  error
	}
	// estimateMsg brings Plan review's estimate of job.
	estimateMsg struct {
		job *Job
		est *steps.Estimate
		err error
	}
)

type stepRow struct {
	info    steps.StepInfo
	state   steps.StepState
	started time.Time
	dur     time.Duration
	err     error
}

type progressRow struct {
	step, node  string
	done, total int64
	unit        string
	first, last time.Time
	firstDone   int64
}

type gateState struct {
	req    steps.GateRequest
	reply  chan<- bool
	pick   chan<- string // a choice gate's answer: the Key, "" declined
	choice int           // a choice gate's selected choice
	input  textinput.Model
	wrong  bool
}

// decline answers the gate with no.
func (g *gateState) decline() {
	if g.pick != nil {
		g.pick <- ""
		return
	}
	g.reply <- false
}

// model is the wizard: the Home screen, Plan review, the Run screen (steps,
// progress, log, checks), the gate modal, and the end of a run (Summary or
// Failure). All I/O happens in commands and in the work goroutine.
type model struct {
	cfg    Config
	b      *bridge
	width  int
	height int
	dark   bool
	st     styles
	single bool // one run, no Home (hotsnap backup on a terminal)
	// preparing is set while an operation's job, list or text is being
	// prepared (a command runs): a second enter must not prepare another
	// (it would open a second connection pool that nothing closes).
	preparing bool

	screen screen
	cursor int // Home: selected operation
	notice string

	// the current job
	op         string
	job        *Job
	planScroll int
	runID      string
	runbook    string
	rows       []stepRow
	progress   []*progressRow
	checks     []steps.CheckResult
	checkSel   int
	showChecks bool
	logLines   []string
	logOff     int // lines scrolled up from the end of the log
	stepLog    map[string][]string
	gate       *gateState
	confirmAbt bool
	aborting   bool
	cleanups   []string
	sum        *steps.RunSummary
	facts      *BackupFacts
	runCtx     context.Context
	cancel     context.CancelFunc
	workErr    chan error
	workDone   bool
	workResult error
	startedAt  time.Time

	textTitle, text string

	pick        *pickState // the backup picker (kept while its restore runs)
	estimate    *steps.Estimate
	estimateErr error
	estimating  bool
	restore     *RestoreFacts // the restore being reviewed or run
	topoMap     []string      // the topology step's map: current node ← backup node

	init *initState // the Init screen
}

func newModel(cfg Config, b *bridge) model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Title == "" {
		cfg.Title = "hotsnap"
	}
	m := model{cfg: cfg, b: b, width: 80, height: 24, dark: true}
	m.st = newStyles(m.dark)
	return m
}

// NewWizard returns the wizard's model for cfg with t as its engine face
// (tests drive it through Update; RunWizard runs it).
func NewWizard(cfg Config, t *TUI) tea.Model { return newModel(cfg, t.b) }

// RunWizard runs the wizard on the terminal until the operator quits.
func RunWizard(ctx context.Context, cfg Config, o Options) error {
	t := NewTUI()
	m := newModel(cfg, t.b)
	p := o.program(m)
	t.b.attach(p.Send)
	defer t.b.attach(nil)
	defer showing(p)()
	stop := context.AfterFunc(ctx, func() { p.Send(abortMsg{}) })
	defer stop()
	final, err := p.Run()
	if fm, ok := final.(model); ok && fm.job != nil && !fm.workDone && fm.workErr != nil {
		if fm.cancel != nil {
			fm.cancel()
		}
		<-fm.workErr
	}
	if err != nil {
		return fmt.Errorf("wizard screen: %w", err)
	}
	return nil
}

func (m model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor}
	if m.screen == screenRun && m.workErr != nil {
		cmds = append(cmds, m.runCmd(), tick())
	}
	return tea.Batch(cmds...)
}

func tick() tea.Cmd {
	return tea.Tick(500*time.Millisecond, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// startJob switches to the Run screen for job; the work starts with the
// command runCmd returns.
func (m model) startJob(job *Job, op string) model {
	m.op, m.job = op, job
	m.screen = screenRun
	m.rows, m.progress, m.checks, m.logLines, m.cleanups = nil, nil, nil, nil, nil
	m.sum, m.facts, m.gate, m.aborting, m.confirmAbt = nil, nil, nil, false, false
	m.workDone, m.workResult, m.checkSel = false, nil, 0
	m.showChecks = op == "preflight"
	m.workErr = make(chan error, 1)
	m.startedAt = m.cfg.Now()
	m.logOff, m.stepLog, m.topoMap = 0, map[string][]string{}, nil
	m.runCtx, m.cancel = context.WithCancel(context.Background())
	return m
}

func (m model) runCmd() tea.Cmd {
	ctx, cancel := m.runCtx, m.cancel
	job, done := m.job, m.workErr
	t := &TUI{b: m.b}
	return func() tea.Msg {
		defer cancel()
		err := job.Run(ctx, t, t)
		done <- err
		return workDoneMsg{err: err}
	}
}

func (m model) running() bool { return m.screen == screenRun && m.workErr != nil && !m.workDone }

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 40), max(msg.Height, 12)
		return m, nil
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.st = newStyles(m.dark)
		return m, nil
	case tickMsg:
		if m.running() {
			return m, tick()
		}
		return m, nil
	case abortMsg:
		// SIGTERM / the parent context: cancel without asking.
		if m.running() {
			m.aborting = true
			if m.gate != nil {
				m.gate.decline()
				m.gate = nil
			}
			m.cancel()
			return m, nil
		}
		return m, tea.Quit
	case jobReadyMsg:
		m.preparing = false
		if msg.err == nil && msg.job != nil && m.screen != screenHome && m.screen != screenPick {
			// Not asked for any more (the operator moved on): release it.
			if msg.job.Close != nil {
				msg.job.Close()
			}
			return m, nil
		}
		if msg.err != nil {
			m.notice = fmt.Sprintf("✗ %s: %v", msg.op, msg.err)
			if m.screen != screenPick {
				m.screen = screenHome
			}
			return m, nil
		}
		m.notice = ""
		m.restore, m.estimate, m.estimateErr, m.estimating = nil, nil, nil, false
		if msg.job.Restore != nil {
			m.restore = msg.job.Restore()
		}
		op := m.findOp(msg.op)
		if op != nil && op.Review {
			m.op, m.job, m.screen, m.planScroll = msg.op, msg.job, screenPlan, 0
			if est := msg.job.Estimate; est != nil {
				m.estimating = true
				job := msg.job
				return m, func() tea.Msg {
					e, err := est(context.Background())
					return estimateMsg{job: job, est: e, err: err}
				}
			}
			return m, nil
		}
		m = m.startJob(msg.job, msg.op)
		return m, tea.Batch(m.runCmd(), tick())
	case estimateMsg:
		if msg.job == m.job { // not a plan left since
			m.estimating, m.estimate, m.estimateErr = false, msg.est, msg.err
		}
		return m, nil
	case pickReadyMsg:
		m.preparing = false
		return m.pickReady(msg)
	case textReadyMsg:
		m.preparing = false
		m.screen, m.textTitle, m.text = screenText, msg.title, msg.text
		if msg.err != nil {
			m.text = strings.TrimSpace(msg.text + "\n✗ " + msg.err.Error())
		}
		m.planScroll = 0
		return m, nil
	case initLogMsg, initDoneMsg:
		return m.initMsg(msg)
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	if m.screen == screenRun {
		return m.engineEvent(msg)
	}
	return m, nil
}

func (m model) findOp(key string) *Operation {
	for i := range m.cfg.Operations {
		if m.cfg.Operations[i].Key == key {
			return &m.cfg.Operations[i]
		}
	}
	return nil
}

func (m model) engineEvent(msg tea.Msg) (tea.Model, tea.Cmd) {
	now := m.cfg.Now()
	switch msg := msg.(type) {
	case runStartedMsg:
		m.runID, m.runbook = msg.runID, msg.runbook
		m.rows = make([]stepRow, len(msg.steps))
		for i, s := range msg.steps {
			m.rows[i] = stepRow{info: s, state: steps.StatePending}
		}
	case stepsAddedMsg:
		m.rows = addRows(m.rows, msg.after, msg.added)
	case stepStartedMsg:
		if r := m.row(msg.info.ID); r != nil {
			r.state, r.started = steps.StateRunning, now
		}
	case stepFinishedMsg:
		if r := m.row(msg.info.ID); r != nil {
			r.state, r.dur, r.err = msg.res.State, msg.res.Duration, msg.res.Err
		}
	case stepOutputMsg:
		m.addLog(msg.node, msg.line)
		if m.component(msg.step) == steps.ComponentTopology && msg.node == "" {
			m.topoMap = append(m.topoMap, msg.line)
		}
		tail := append(m.stepLog[msg.step], m.logLines[len(m.logLines)-1])
		if len(tail) > 8 {
			tail = tail[len(tail)-8:]
		}
		m.stepLog[msg.step] = tail
	case stepProgressMsg:
		m.addProgress(msg, now)
	case checkMsg:
		m.checks = append(m.checks, msg.r)
	case gateAskMsg:
		g := &gateState{req: msg.req, reply: msg.reply, pick: msg.pick}
		for i, c := range msg.req.Choices {
			if c.Key == msg.req.Default {
				g.choice = i
			}
		}
		if msg.req.Destructive && msg.pick == nil {
			g.input = textinput.New()
			g.input.Placeholder = msg.req.Cluster
			g.input.Prompt = "cluster name › "
			g.input.SetWidth(30)
			g.input.Focus()
		}
		m.gate = g
		m.confirmAbt = false
	case gateDecidedMsg:
		if m.gate != nil { // decided elsewhere (cancelled)
			m.gate = nil
		}
		word := "approved"
		if !msg.d.Approved {
			word = "NOT approved"
		}
		if msg.d.Choice != "" {
			word += ": " + msg.d.Choice
		}
		m.addLog("", fmt.Sprintf("gate %s (%s)", word, strings.TrimPrefix(msg.d.By, "refused: ")))
	case cleanupMsg:
		line := "cleanup of " + msg.step + " done"
		if msg.err != nil {
			line = fmt.Sprintf("cleanup of %s FAILED: %v", msg.step, msg.err)
		}
		m.cleanups = append(m.cleanups, line)
		m.addLog("", line)
	case runFinishedMsg:
		sum := msg.sum
		m.sum = &sum
		if m.job != nil && m.job.Facts != nil && sum.Err == nil {
			m.facts = m.job.Facts()
		}
		if m.job != nil && m.job.Restore != nil {
			m.restore = m.job.Restore()
		}
		m.confirmAbt = false
	case workDoneMsg:
		m.workDone, m.workResult = true, msg.err
		m.aborting = false
		if m.job != nil && m.job.Close != nil {
			m.job.Close()
		}
		if m.sum == nil { // the work failed before the engine ran
			m.sum = &steps.RunSummary{Err: msg.err, Aborted: errors.Is(msg.err, context.Canceled)}
		}
	}
	return m, nil
}

// addRows puts the rows of the steps added after step after (pending) in
// their place, and counts them in every row's total.
func addRows(rows []stepRow, after string, added []steps.StepInfo) []stepRow {
	if len(added) == 0 {
		return rows
	}
	at := len(rows)
	for i, r := range rows {
		if r.info.ID == after {
			at = i + 1
		}
	}
	var add []stepRow
	for _, s := range added {
		add = append(add, stepRow{info: s, state: steps.StatePending})
	}
	out := slices.Concat(rows[:at], add, rows[at:])
	for i := range out {
		out[i].info.Index, out[i].info.Total = i+1, added[0].Total
	}
	return out
}

func (m *model) row(id string) *stepRow {
	for i := range m.rows {
		if m.rows[i].info.ID == id {
			return &m.rows[i]
		}
	}
	return nil
}

const maxLogLines = 2000

func (m *model) addLog(node, line string) {
	if node != "" {
		line = node + " │ " + line
	}
	m.logLines = append(m.logLines, line)
	if len(m.logLines) > maxLogLines {
		m.logLines = m.logLines[len(m.logLines)-maxLogLines:]
	}
	if m.logOff > 0 { // keep the lines the operator scrolled to in place
		m.logOff = min(m.logOff+1, len(m.logLines))
	}
}

func (m *model) addProgress(msg stepProgressMsg, now time.Time) {
	for _, p := range m.progress {
		if p.step == msg.step && p.node == msg.node {
			p.done, p.total, p.last = msg.done, msg.total, now
			return
		}
	}
	m.progress = append(m.progress, &progressRow{step: msg.step, node: msg.node, done: msg.done, total: msg.total,
		unit: msg.unit, first: now, last: now, firstDone: msg.done})
}

func (m model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	s := k.String()
	if m.gate != nil && m.running() {
		return m.gateKey(k)
	}
	if s == "ctrl+c" {
		switch {
		case m.running() && m.aborting:
			return m, nil
		case m.running() && m.confirmAbt:
			return m.abort()
		case m.running():
			m.confirmAbt = true
			return m, nil
		}
		return m, tea.Quit
	}
	if m.confirmAbt {
		switch s {
		case "y", "Y":
			return m.abort()
		default:
			m.confirmAbt = false
		}
		return m, nil
	}
	switch m.screen {
	case screenHome:
		return m.homeKey(s)
	case screenPlan:
		return m.planKey(s)
	case screenInit:
		return m.initKey(k)
	case screenPick:
		return m.pickKey(s)
	case screenText:
		switch s {
		case "up", "k":
			m.planScroll = max(0, m.planScroll-1)
		case "down", "j":
			m.planScroll++
		case "q":
			return m, tea.Quit
		case "esc", "enter", "backspace":
			m.screen = screenHome
		}
		return m, nil
	}
	return m.runKey(s)
}

func (m model) abort() (tea.Model, tea.Cmd) {
	m.confirmAbt = false
	m.aborting = true
	if m.cancel != nil {
		m.cancel()
	}
	m.addLog("", "aborting: cancelling the remote commands, then cleaning up…")
	return m, nil
}

func (m model) gateKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	g := m.gate
	s := k.String()
	answer := func(ok bool) (tea.Model, tea.Cmd) {
		g.reply <- ok
		m.gate = nil
		return m, nil
	}
	if s == "esc" || s == "ctrl+c" {
		g.decline()
		m.gate = nil
		return m, nil
	}
	if g.pick != nil {
		return m.choiceKey(s)
	}
	if !g.req.Destructive {
		switch s {
		case "y", "Y", "enter":
			return answer(true)
		case "n", "N":
			return answer(false)
		}
		return m, nil
	}
	if s == "enter" {
		if g.input.Value() == g.req.Cluster {
			return answer(true)
		}
		g.wrong = true
		return m, nil
	}
	var cmd tea.Cmd
	g.input, cmd = g.input.Update(k)
	g.wrong = false
	return m, cmd
}

// choiceKey moves among a choice gate's choices (↑/↓, k/j, or the number)
// and takes the selected one with enter.
func (m model) choiceKey(s string) (tea.Model, tea.Cmd) {
	g := m.gate
	n := len(g.req.Choices)
	switch s {
	case "up", "k":
		g.choice = max(0, g.choice-1)
	case "down", "j", "tab":
		g.choice = min(n-1, g.choice+1)
	case "enter":
		g.pick <- g.req.Choices[g.choice].Key
		m.gate = nil
	default:
		if len(s) == 1 && s[0] >= '1' && int(s[0]-'0') <= n {
			g.choice = int(s[0] - '1')
		}
	}
	return m, nil
}

func (m model) homeKey(s string) (tea.Model, tea.Cmd) {
	ops := m.cfg.Operations
	switch s {
	case "q", "esc":
		return m, tea.Quit
	case "up", "k":
		if m.cursor > 0 {
			m.cursor--
		}
	case "down", "j", "tab":
		if m.cursor < len(ops)-1 {
			m.cursor++
		}
	case "enter", "space":
		if m.cursor >= len(ops) {
			return m, nil
		}
		op := ops[m.cursor]
		if op.Disabled != "" {
			m.notice = fmt.Sprintf("%s is not available: %s", op.Title, op.Disabled)
			return m, nil
		}
		if m.preparing {
			return m, nil // the first enter is being acted on
		}
		m.notice = fmt.Sprintf("… %s: starting", op.Title)
		m.preparing = op.Pick != nil || op.Job != nil || op.Text != nil
		switch {
		case op.Init != nil:
			return m.startInit(&ops[m.cursor])
		case op.Pick != nil:
			return m, func() tea.Msg {
				list, err := op.Pick(context.Background())
				return pickReadyMsg{op: op.Key, list: list, err: err}
			}
		case op.Job != nil:
			return m, func() tea.Msg {
				job, err := op.Job(context.Background())
				return jobReadyMsg{op: op.Key, job: job, err: err}
			}
		case op.Text != nil:
			return m, func() tea.Msg {
				text, err := op.Text(context.Background())
				return textReadyMsg{title: op.Title, text: text, err: err}
			}
		}
	default:
		// digits pick an operation directly
		if len(s) == 1 && s[0] >= '1' && s[0] <= '9' && int(s[0]-'1') < len(ops) {
			m.cursor = int(s[0] - '1')
			return m.homeKey("enter")
		}
	}
	return m, nil
}

func (m model) planKey(s string) (tea.Model, tea.Cmd) {
	switch s {
	case "esc", "backspace":
		if m.job != nil && m.job.Close != nil {
			m.job.Close()
		}
		m.screen, m.job = screenHome, nil
		if m.pick != nil { // back to the backup picker
			m.screen = screenPick
		}
		m.notice = ""
	case "up", "k":
		m.planScroll = max(0, m.planScroll-1)
	case "down", "j":
		m.planScroll++
	case "pgdown", "space":
		m.planScroll += m.height / 2
	case "pgup":
		m.planScroll = max(0, m.planScroll-m.height/2)
	case "enter", "r":
		m = m.startJob(m.job, m.op)
		return m, tea.Batch(m.runCmd(), tick())
	case "q":
		return m, tea.Quit
	}
	return m, nil
}

func (m model) runKey(s string) (tea.Model, tea.Cmd) {
	switch s {
	case "tab", "c":
		m.showChecks = !m.showChecks
		return m, nil
	}
	if m.showChecks {
		switch s {
		case "up", "k":
			m.checkSel = max(0, m.checkSel-1)
			return m, nil
		case "down", "j":
			m.checkSel = min(len(m.checks)-1, m.checkSel+1)
			return m, nil
		}
	}
	if m.workDone {
		switch s {
		case "q":
			return m, tea.Quit
		case "enter", "esc":
			if m.single {
				return m, tea.Quit
			}
			m.screen, m.job, m.workErr, m.pick = screenHome, nil, nil, nil
			m.notice = ""
			return m, nil
		}
	}
	switch s {
	case "pgup", "up", "k":
		step := 1
		if s == "pgup" {
			step = 10
		}
		m.logOff = min(m.logOff+step, max(0, len(m.logLines)-1))
	case "pgdown", "down", "j":
		step := 1
		if s == "pgdown" {
			step = 10
		}
		m.logOff = max(0, m.logOff-step)
	case "end", "G":
		m.logOff = 0
	}
	return m, nil
}
