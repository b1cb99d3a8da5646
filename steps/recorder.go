package steps

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Recorder is a Reporter that keeps every event as a line of text
// ("start ID", "added AFTER N steps", "out ID NODE LINE", "progress ID NODE DONE/TOTAL UNIT",
// "check ID NODE CHECK STATUS", "gate ID APPROVED BY", "finish ID STATE",
// "cleanup ID ERR", ...): what tests of runbooks and of the engine read.
type Recorder struct {
	mu     sync.Mutex
	events []string
	sum    RunSummary
}

func (r *Recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

// RunStarted records "run RUNBOOK N steps".
func (r *Recorder) RunStarted(id, rb string, s []StepInfo) { r.add("run %s %d steps", rb, len(s)) }

// StepStarted records "start ID".
func (r *Recorder) StepStarted(s StepInfo) { r.add("start %s", s.ID) }

// StepsAdded records "added AFTER N steps".
func (r *Recorder) StepsAdded(after string, s []StepInfo) { r.add("added %s %d steps", after, len(s)) }

// StepOutput records "out ID NODE LINE".
func (r *Recorder) StepOutput(id, node, line string) { r.add("out %s %s %s", id, node, line) }

// StepProgress records "progress ID NODE DONE/TOTAL UNIT".
func (r *Recorder) StepProgress(id, node string, d, t int64, u string) {
	r.add("progress %s %s %d/%d %s", id, node, d, t, u)
}

// CheckReported records "check ID NODE CHECK STATUS".
func (r *Recorder) CheckReported(c CheckResult) {
	r.add("check %s %s %s %s", c.StepID, c.Node, c.Check, c.Status)
}

// GateRequested records "gate? ID".
func (r *Recorder) GateRequested(g GateRequest) { r.add("gate? %s", g.StepID) }

// GateDecided records "gate ID APPROVED BY".
func (r *Recorder) GateDecided(g GateRequest, d GateDecision) {
	r.add("gate %s %v %s", g.StepID, d.Approved, d.By)
}

// StepFinished records "finish ID STATE".
func (r *Recorder) StepFinished(s StepInfo, res StepResult) { r.add("finish %s %s", s.ID, res.State) }

// CleanupRan records "cleanup ID ERR".
func (r *Recorder) CleanupRan(id string, err error) { r.add("cleanup %s %v", id, err) }

// RunFinished records "end aborted=BOOL err=BOOL" and keeps the summary.
func (r *Recorder) RunFinished(sum RunSummary) {
	r.add("end aborted=%v err=%v", sum.Aborted, sum.Err != nil)
	r.mu.Lock()
	r.sum = sum
	r.mu.Unlock()
}

// Summary returns the summary of the run that finished last.
func (r *Recorder) Summary() RunSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum
}

// Has says whether an event equals s or starts with it.
func (r *Recorder) Has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == s || strings.HasPrefix(e, s) {
			return true
		}
	}
	return false
}

// Events returns the events recorded so far, in order.
func (r *Recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}
