package ui

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/steps"
)

// JSON prints one JSON object per event on its writer (--json): the same
// facts as the plain printer, for scripts. Safe for concurrent use.
type JSON struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewJSON returns a JSON-lines reporter writing to w; node text is
// escaped (JSONSafeWriter), never raw control characters.
func NewJSON(w io.Writer) *JSON { return &JSON{enc: json.NewEncoder(JSONSafeWriter(w))} }

type jsonEvent struct {
	Time     time.Time          `json:"ts"`
	Event    string             `json:"event"`
	Run      string             `json:"run,omitempty"`
	Runbook  string             `json:"runbook,omitempty"`
	Step     string             `json:"step,omitempty"`
	Steps    []steps.StepInfo   `json:"steps,omitempty"`
	Info     *steps.StepInfo    `json:"info,omitempty"`
	Node     string             `json:"node,omitempty"`
	Line     string             `json:"line,omitempty"`
	Done     *int64             `json:"done,omitempty"`
	Total    *int64             `json:"total,omitempty"`
	Unit     string             `json:"unit,omitempty"`
	Check    *steps.CheckResult `json:"check,omitempty"`
	Gate     *steps.GateRequest `json:"gate,omitempty"`
	Approved *bool              `json:"approved,omitempty"`
	By       string             `json:"by,omitempty"`
	Choice   string             `json:"choice,omitempty"` // gate_decided of a choice gate: the Key taken
	State    string             `json:"state,omitempty"`
	Duration int64              `json:"duration_ms,omitempty"`
	Error    string             `json:"error,omitempty"`
	Aborted  bool               `json:"aborted,omitempty"`
}

func (j *JSON) emit(e jsonEvent) {
	e.Time = time.Now().UTC()
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(e)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// RunStarted emits run_started with every step.
func (j *JSON) RunStarted(runID, runbook string, s []steps.StepInfo) {
	j.emit(jsonEvent{Event: "run_started", Run: runID, Runbook: runbook, Steps: s})
}

// StepStarted emits step_started.
func (j *JSON) StepStarted(s steps.StepInfo) {
	j.emit(jsonEvent{Event: "step_started", Step: s.ID, Info: &s})
}

// StepsAdded emits steps_added with the steps a step made.
func (j *JSON) StepsAdded(after string, added []steps.StepInfo) {
	j.emit(jsonEvent{Event: "steps_added", Step: after, Steps: added})
}

// StepOutput emits output.
func (j *JSON) StepOutput(stepID, node, line string) {
	j.emit(jsonEvent{Event: "output", Step: stepID, Node: node, Line: line})
}

// StepProgress emits progress.
func (j *JSON) StepProgress(stepID, node string, done, total int64, unit string) {
	j.emit(jsonEvent{Event: "progress", Step: stepID, Node: node, Done: &done, Total: &total, Unit: unit})
}

// CheckReported emits check.
func (j *JSON) CheckReported(r steps.CheckResult) {
	j.emit(jsonEvent{Event: "check", Step: r.StepID, Node: r.Node, Check: &r})
}

// GateRequested emits gate_requested.
func (j *JSON) GateRequested(g steps.GateRequest) {
	j.emit(jsonEvent{Event: "gate_requested", Step: g.StepID, Gate: &g})
}

// GateDecided emits gate_decided, with the choice taken at a choice gate.
func (j *JSON) GateDecided(g steps.GateRequest, d steps.GateDecision) {
	j.emit(jsonEvent{Event: "gate_decided", Step: g.StepID, Approved: &d.Approved, By: d.By, Choice: d.Choice})
}

// StepFinished emits step_finished.
func (j *JSON) StepFinished(s steps.StepInfo, res steps.StepResult) {
	j.emit(jsonEvent{Event: "step_finished", Step: s.ID, State: string(res.State), Duration: res.Duration.Milliseconds(), Error: errString(res.Err)})
}

// CleanupRan emits cleanup.
func (j *JSON) CleanupRan(stepID string, err error) {
	j.emit(jsonEvent{Event: "cleanup", Step: stepID, Error: errString(err)})
}

// RunFinished emits run_finished.
func (j *JSON) RunFinished(sum steps.RunSummary) {
	j.emit(jsonEvent{Event: "run_finished", Run: sum.RunID, Runbook: sum.Runbook, Duration: sum.Duration.Milliseconds(), Error: errString(sum.Err), Aborted: sum.Aborted})
}
