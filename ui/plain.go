// Package ui holds hotsnap's three faces of the engine: plain lines
// (--no-tui, or stdout not a terminal), JSON lines (--json), and the
// terminal wizard. Each implements steps.Reporter.
package ui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/steps"
)

// Plain prints one readable line per event. Safe for concurrent use.
type Plain struct {
	mu       sync.Mutex
	w        io.Writer
	progress map[string]time.Time // last progress line per step/node, to print at most one a second
}

// NewPlain returns a plain-line reporter writing to w.
func NewPlain(w io.Writer) *Plain { return &Plain{w: w, progress: map[string]time.Time{}} }

func (p *Plain) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, Printable(fmt.Sprintf(format, args...)))
}

// RunStarted prints the runbook's name and length.
func (p *Plain) RunStarted(runID, runbook string, s []steps.StepInfo) {
	p.printf("hotsnap %s · run %s · %d steps\n", runbook, runID, len(s))
}

// StepStarted prints the step's number and title.
func (p *Plain) StepStarted(s steps.StepInfo) {
	mark := ""
	if s.Destructive {
		mark = " [DESTRUCTIVE]"
	}
	p.printf("\n[%d/%d] %s%s\n", s.Index, s.Total, s.Title, mark)
}

// StepsAdded says how many steps the step made from what it found.
func (p *Plain) StepsAdded(after string, added []steps.StepInfo) {
	if len(added) == 0 {
		return
	}
	p.printf("      → %d steps made from what it found: %d in all\n", len(added), added[0].Total)
}

// StepOutput prints a node's output line, indented.
func (p *Plain) StepOutput(stepID, node, line string) {
	if node == "" {
		p.printf("      %s\n", line)
		return
	}
	p.printf("      %s │ %s\n", node, line)
}

// StepProgress prints progress at most once a second per node, and at 100%.
func (p *Plain) StepProgress(stepID, node string, done, total int64, unit string) {
	key := stepID + "/" + node
	p.mu.Lock()
	last := p.progress[key]
	now := time.Now()
	if now.Sub(last) < time.Second && done != total {
		p.mu.Unlock()
		return
	}
	p.progress[key] = now
	p.mu.Unlock()
	pct := ""
	if total > 0 {
		pct = fmt.Sprintf(" (%.0f%%)", 100*float64(done)/float64(total))
	}
	p.printf("      %s │ %s / %s%s\n", node, amount(done, unit), amount(total, unit), pct)
}

// Column widths of the check table: a node name, a check name. A longer
// value pushes the rest of its row right and the table stays readable.
const (
	nodeCol  = 10
	checkCol = 21
)

// CheckReported prints a check verdict as a row of the check table: the
// verdict as a word (not only a colour or a symbol), the node, the check,
// what was seen; a remedy follows on its own line under the evidence.
func (p *Plain) CheckReported(r steps.CheckResult) {
	p.printf("%s", checkRow(r))
}

// checkRow renders a check as a table row (and its remedy line).
func checkRow(r steps.CheckResult) string {
	where := r.Node
	if where == "" {
		where = "cluster"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %-4s %-*s %-*s %s\n", statusMark(r.Status), strings.ToUpper(string(r.Status)), nodeCol, where, checkCol, r.Check, r.Evidence)
	if r.Remedy != "" && r.Status != steps.CheckPass {
		fmt.Fprintf(&b, "  %*s → %s\n", 7+nodeCol+1+checkCol, "", r.Remedy)
	}
	return b.String()
}

func statusMark(s steps.CheckStatus) string {
	switch s {
	case steps.CheckPass:
		return "✓"
	case steps.CheckWarn:
		return "!"
	}
	return "✗"
}

// GateRequested prints what the gate is about to allow.
func (p *Plain) GateRequested(g steps.GateRequest) {
	var b strings.Builder
	fmt.Fprintf(&b, "  GATE: %s\n", g.Title)
	if g.Happens != "" {
		fmt.Fprintf(&b, "    what happens: %s\n", g.Happens)
	}
	if len(g.Nodes) > 0 {
		fmt.Fprintf(&b, "    on: %s\n", strings.Join(g.Nodes, ", "))
	}
	if g.Loses != "" {
		fmt.Fprintf(&b, "    what is lost: %s\n", g.Loses)
	}
	if g.Rollback != "" {
		fmt.Fprintf(&b, "    roll back: %s\n", g.Rollback)
	}
	for _, c := range g.Choices {
		note := ""
		if c.Key == g.Default {
			note = " (the default, --yes)"
		} else if c.Flag != "" {
			note = " (" + c.Flag + ")"
		}
		fmt.Fprintf(&b, "    choice %s: %s%s\n", c.Key, c.Label, note)
	}
	p.printf("%s", b.String())
}

// GateDecided prints the decision and who made it.
func (p *Plain) GateDecided(g steps.GateRequest, d steps.GateDecision) {
	if c, ok := g.Choice(d.Choice); ok && d.Approved {
		p.printf("  chose %s: %s (%s)\n", c.Key, c.Label, d.By)
	} else if d.Approved {
		p.printf("  approved (%s)\n", d.By)
	} else {
		p.printf("  NOT approved: %s\n", strings.TrimPrefix(d.By, "refused: "))
	}
}

// StepFinished prints how the step ended.
func (p *Plain) StepFinished(s steps.StepInfo, res steps.StepResult) {
	if res.Err != nil {
		p.printf("  %s after %s: %v\n", strings.ToUpper(string(res.State)), round(res.Duration), res.Err)
		return
	}
	p.printf("  done in %s\n", round(res.Duration))
}

// CleanupRan prints a cleanup's outcome.
func (p *Plain) CleanupRan(stepID string, err error) {
	if err != nil {
		p.printf("cleanup of %s FAILED: %v\n", stepID, err)
		return
	}
	p.printf("cleanup of %s done\n", stepID)
}

// RunFinished prints the summary line.
func (p *Plain) RunFinished(sum steps.RunSummary) {
	pass, warn, fail := countChecks(sum.Checks)
	checks := ""
	if len(sum.Checks) > 0 {
		checks = fmt.Sprintf(" · checks: %d pass, %d warn, %d fail", pass, warn, fail)
	}
	var notPassing strings.Builder
	for _, c := range sum.Checks {
		if c.Status != steps.CheckPass {
			notPassing.WriteString(checkRow(c))
		}
	}
	if notPassing.Len() > 0 {
		p.printf("\nnot passing (%d of %d checks):\n%s", warn+fail, len(sum.Checks), notPassing.String())
	}
	switch {
	case sum.Err != nil && sum.Aborted:
		p.printf("\nABORTED after %s%s: %v\n", round(sum.Duration), checks, sum.Err)
	case sum.Err != nil:
		p.printf("\nFAILED after %s%s: %v\n", round(sum.Duration), checks, sum.Err)
	default:
		p.printf("\nfinished in %s%s\n", round(sum.Duration), checks)
	}
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func amount(n int64, unit string) string {
	if unit != "bytes" {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return steps.HumanBytes(n)
}
