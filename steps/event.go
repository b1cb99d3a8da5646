// Package steps is hotsnap's runbook engine. A runbook is an ordered list of
// steps; the Engine runs them in order (a group of concurrent steps at
// once; a step may make the steps that follow it from what it found,
// Step.Then), fans out across nodes, stops at gates, records a journal, resumes
// an earlier run without repeating its finished destructive steps, and on
// failure or cancellation runs the cleanups of the steps it started. It
// reports through Reporter: the TUI, plain and JSON printers are three
// faces of one engine, and StepInfo.Component tells them what a step works
// on without their knowing any runbook's step IDs.
//
// Besides the engine it holds what every runbook uses: Env (the inventory,
// the executor, the tunnels, the secrets, the clock), Poll (deadline and
// backoff), Parallel, PlanEach and EachNode, and the generic Estimate. It
// imports no component (steps/<component>) and no runbook (runbooks/...);
// the parsers of node replies are in steps/parse.
package steps

import "time"

// SuccessLine is what the faces print when a restore finished and the
// application answers healthy again.
const SuccessLine = "=== ✓ Successful full restore ==="

// Components the faces give a place of their own (Step.Component): a
// restore shows the checks of its verification of the backup and its
// comparison of topologies apart.
const (
	ComponentBackup   = "backup"   // the backup itself: verified, approved, taken
	ComponentTopology = "topology" // the backup's topology against the cluster's now
)

// Kind says what a step does.
type Kind string

// Step kinds.
const (
	KindCheck  Kind = "check"  // reads state, changes nothing
	KindAction Kind = "action" // changes state
	KindGate   Kind = "gate"   // asks the operator before the next steps
)

// StepInfo describes a step to a reporter.
type StepInfo struct {
	Index int    `json:"index"` // 1-based position in the runbook
	Total int    `json:"total"`
	ID    string `json:"id"`
	Title string `json:"title"`
	Why   string `json:"why,omitempty"` // the runbook text the step mirrors
	Kind  Kind   `json:"kind"`
	// Component is Step.Component: what the step works on, as the faces
	// name it.
	Component   string `json:"component,omitempty"`
	Destructive bool   `json:"destructive,omitempty"`
}

// GateRequest is what a gate asks: what will happen, where, what is lost,
// how to roll back. Destructive gates need the cluster name typed. A choice
// gate (Choices set) asks which way to go rather than whether to go on.
type GateRequest struct {
	StepID      string   `json:"step"`
	Title       string   `json:"title"`
	Happens     string   `json:"happens,omitempty"`  // what the next steps will do
	Nodes       []string `json:"nodes,omitempty"`    // where
	Loses       string   `json:"loses,omitempty"`    // what will be lost ("" for none)
	Rollback    string   `json:"rollback,omitempty"` // how to undo
	Destructive bool     `json:"destructive,omitempty"`
	Cluster     string   `json:"cluster,omitempty"` // the name to type for a destructive gate
	// Choices, when set, make this a choice gate: the operator picks one
	// (or declines, which stops the run like any declined gate).
	Choices []GateChoice `json:"choices,omitempty"`
	// Default is the Key of the choice --yes takes and the terminal offers
	// first.
	Default string `json:"default,omitempty"`
}

// GateChoice is one answer a choice gate offers.
type GateChoice struct {
	Key   string `json:"key"`   // recorded in the journal and events ("keep", "exact")
	Label string `json:"label"` // what the operator reads
	// Flag is the command-line flag that takes this choice without asking
	// ("--s3-exact"); the default choice is also taken by --yes.
	Flag string `json:"flag,omitempty"`
	// Destructive marks a choice that removes data; it is still only acted
	// on after the runbook's destructive gate.
	Destructive bool `json:"destructive,omitempty"`
}

// Choice returns the choice with key k, and whether there is one.
func (g GateRequest) Choice(k string) (GateChoice, bool) {
	for _, c := range g.Choices {
		if c.Key == k {
			return c, true
		}
	}
	return GateChoice{}, false
}

// GateDecision is how a gate was answered.
type GateDecision struct {
	Approved bool
	By       string // "tty", "--yes", "--confirm", a choice's flag, or "refused: <why>"
	// Choice is the Key of the choice taken at a choice gate ("" otherwise,
	// and when declined).
	Choice string
}

// RunSummary is the end of a run.
type RunSummary struct {
	RunID   string
	Runbook string
	// Resumable is the runbook's: its failed run can be resumed.
	Resumable bool
	Err       error
	Aborted   bool
	Duration  time.Duration
	Steps     []StepResult
	Checks    []CheckResult
}

// Failed returns the checks that failed.
func (s RunSummary) Failed() []CheckResult {
	var out []CheckResult
	for _, c := range s.Checks {
		if c.Status == CheckFail {
			out = append(out, c)
		}
	}
	return out
}

// StepResult is how one step ended.
type StepResult struct {
	ID       string
	State    StepState
	Duration time.Duration
	Err      error
}

// StepState is where a step is.
type StepState string

// Step states.
const (
	StatePending  StepState = "pending"
	StateRunning  StepState = "running"
	StateDone     StepState = "done"
	StateFailed   StepState = "failed"
	StateSkipped  StepState = "skipped"
	StateCanceled StepState = "canceled"
)

// CheckStatus is the verdict of one check.
type CheckStatus string

// Check verdicts.
const (
	CheckPass CheckStatus = "pass"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

// CheckResult is one check on one node (Node "" for cluster-wide checks):
// what was seen and, when it is not a pass, what to do.
type CheckResult struct {
	StepID   string      `json:"step"`
	Check    string      `json:"check"`
	Node     string      `json:"node,omitempty"`
	Status   CheckStatus `json:"status"`
	Evidence string      `json:"evidence"`
	Remedy   string      `json:"remedy,omitempty"`
}

// Reporter receives the engine's events. Implementations must be safe for
// concurrent calls (steps fan out across nodes) and must not block for long:
// the TUI forwards them with Program.Send, the printers write a line.
type Reporter interface {
	RunStarted(runID, runbook string, steps []StepInfo)
	StepStarted(s StepInfo)
	// StepsAdded tells the steps a step made (Step.Then) once it finished:
	// they run next, right after step after; their Index and Total count
	// them, and the steps after them move down.
	StepsAdded(after string, added []StepInfo)
	StepOutput(stepID, node, line string)
	StepProgress(stepID, node string, done, total int64, unit string)
	CheckReported(r CheckResult)
	GateRequested(g GateRequest)
	GateDecided(g GateRequest, d GateDecision)
	StepFinished(s StepInfo, res StepResult)
	CleanupRan(stepID string, err error)
	RunFinished(sum RunSummary)
}
