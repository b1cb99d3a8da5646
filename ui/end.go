package ui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

// endView is Summary or Failure, after the run.
func (m model) endView(room int) []string {
	sum := m.sum
	if sum == nil {
		sum = &steps.RunSummary{Err: m.workResult}
	}
	pass, warn, fail := countChecks(sum.Checks)
	// The box's lines are wrapped to its inside: in is the model as wide
	// as that.
	w := min(m.width-2, 100)
	in := m
	in.width = w - 4 + 1
	var b []string
	box := m.st.okBox
	switch {
	case sum.Err != nil && sum.Aborted:
		box = m.st.gateBox
		b = append(b, m.st.warn.Render("⊘ ABORTED")+fmt.Sprintf(" after %s", dur(sum.Duration)))
		b = append(b, in.wrapped("  "+sum.Err.Error(), "  ")...)
		if r := steps.ResumeCommand(*sum); r != "" {
			b = append(b, "Continue later: "+m.st.bold.Render(r))
		}
	case sum.Err != nil:
		box = m.st.failBox
		b = append(b, m.st.fail.Render("✗ FAILED")+fmt.Sprintf(" after %s", dur(sum.Duration)))
		b = append(b, in.failure(sum, fail > 0)...)
	default:
		b = append(b, m.st.ok.Render("✓ SUCCESS")+fmt.Sprintf(" · %s finished in %s", m.runbook, dur(sum.Duration)))
	}
	if len(sum.Checks) > 0 {
		b = append(b, fmt.Sprintf("checks: ✓ %d pass · ! %d warn · ✗ %d fail", pass, warn, fail))
		for _, c := range sum.Checks {
			if c.Status == steps.CheckPass {
				continue
			}
			where := c.Node
			if where == "" {
				where = "cluster"
			}
			b = append(b, fmt.Sprintf("  %s %-4s %s %s: %s", m.checkMark(c, true), strings.ToUpper(string(c.Status)), where, c.Check, c.Evidence))
			if c.Remedy != "" {
				b = append(b, "       → "+c.Remedy)
			}
		}
	}
	switch {
	case sum.Err != nil:
	case m.facts != nil:
		b = append(b, in.backupSummary(m.facts)...)
	case m.restore != nil:
		b = append(b, in.restoreSummary()...)
	case m.runbook == "preflight":
		b = append(b, "", "Next: hotsnap backup (from Home: Back up)")
	}
	if len(m.cleanups) > 0 {
		b = append(b, "", "Cleanup:")
		for _, c := range m.cleanups {
			b = append(b, "  "+c)
		}
	}
	var stepLines []string
	stepLines = append(stepLines, "Steps:")
	for _, r := range m.rows {
		if r.state == steps.StatePending {
			continue
		}
		stepLines = append(stepLines, fmt.Sprintf("  %s %-40s %s %s", m.stateMark(r.state), ansi.Truncate(r.info.Title, 40, "…"), r.state, dur(r.dur)))
	}
	out := strings.Split(box.Width(w).Render(strings.Join(b, "\n")), "\n")
	if len(out)+len(stepLines) < room {
		out = append(out, stepLines...)
	}
	if len(out) > room {
		out = out[:room]
	}
	return out
}

// countChecks counts the checks by verdict.
func countChecks(cs []steps.CheckResult) (pass, warn, fail int) {
	for _, c := range cs {
		switch c.Status {
		case steps.CheckPass:
			pass++
		case steps.CheckWarn:
			warn++
		default:
			fail++
		}
	}
	return pass, warn, fail
}

// backupSummary is the Summary of a finished backup: its ID, every
// component with its size and copy time, the total with the throughput,
// the snapshot skew, where it is, and what to do next.
func (m model) backupSummary(f *BackupFacts) []string {
	b := []string{"", m.st.bold.Render("Backup " + f.ID)}
	timed := false
	for _, c := range f.Components {
		timed = timed || c.Duration > 0
	}
	for _, c := range f.Components {
		line := fmt.Sprintf("  %-13s %10s ", c.Name, steps.HumanBytes(c.Size))
		if timed {
			took := ""
			if c.Duration > 0 {
				took = "in " + dur(c.Duration)
			}
			line += fmt.Sprintf(" %-9s", took)
		}
		b = append(b, m.hang(line+" ", c.Detail)...)
	}
	rate := ""
	if s := f.Duration.Seconds(); s > 0 {
		rate = fmt.Sprintf(" (%s/s)", steps.HumanBytes(int64(float64(f.Total)/s)))
	}
	b = append(b, fmt.Sprintf("  total %s in %s%s", steps.HumanBytes(f.Total), dur(f.Duration), rate),
		fmt.Sprintf("  snapshot start skew %.1f ms", f.SkewMS),
		"  in "+f.Location)
	for _, w := range f.Warnings {
		b = append(b, m.st.warn.Render("  ! "+w))
	}
	b = append(b, "")
	return append(b, m.wrapped("Next: copy it off-site · hotsnap verify "+f.ID+" · test a restore on the lab", "  ")...)
}

// failure says which step failed and on which node, the error, the last
// lines of that node's output in the step, what to do next, and the
// command that resumes the run when it can be resumed.
func (m model) failure(sum *steps.RunSummary, remedies bool) []string {
	var out []string
	var failed *stepRow
	for i := range m.rows {
		if m.rows[i].state == steps.StateFailed || m.rows[i].state == steps.StateCanceled {
			failed = &m.rows[i]
			break
		}
	}
	node := ""
	switch {
	case failed != nil:
		node = m.failedNode(failed.err)
		where := fmt.Sprintf("step %d/%d %s", failed.info.Index, failed.info.Total, failed.info.Title)
		if node != "" {
			where += " · on " + m.st.bold.Render(node)
		}
		out = append(out, where)
		if failed.err != nil {
			out = append(out, m.wrapped("  "+failed.err.Error(), "  ")...)
		}
		tail := m.stepLog[failed.info.ID]
		if node != "" {
			var mine []string
			for _, l := range tail {
				if strings.HasPrefix(l, node+" │ ") {
					mine = append(mine, l)
				}
			}
			if len(mine) > 0 {
				tail = mine
			}
		}
		if len(tail) > 0 {
			out = append(out, "last output:")
			for _, l := range tail[max(0, len(tail)-4):] {
				out = append(out, m.hang("  ", l)...)
			}
		}
	case sum.Err != nil:
		out = append(out, m.wrapped("  "+sum.Err.Error(), "  ")...)
	}
	out = append(out, m.wrapped("What to do: "+m.whatNext(remedies), "  ")...)
	if r := steps.ResumeCommand(*sum); r != "" {
		out = append(out, "Resume: "+m.st.bold.Render(r))
		for _, l := range m.wrapped("  continues from the failed step; finished steps are not repeated", "  ") {
			out = append(out, m.st.faint.Render(l))
		}
	}
	return out
}

// whatNext is the advice after a failure: whether anything was changed,
// and how to go on.
func (m model) whatNext(remedies bool) string {
	cause := "fix the cause above"
	if remedies {
		cause = "fix the cause above (the remedies below say how)"
	}
	again := "hotsnap " + m.runbook
	if m.runbook == "" {
		again = "hotsnap " + m.op
	}
	if m.restore == nil {
		return cause + ", then run it again: " + again
	}
	again = "hotsnap restore " + m.restore.BackupID
	for _, r := range m.rows {
		if r.info.Destructive && r.info.Kind != steps.KindGate && r.state != steps.StatePending {
			return "the restore had begun replacing data, so TheHive stays stopped; " + cause + ", then resume it (below)"
		}
	}
	return "nothing was changed (the cleanup starts TheHive again if it was stopped); " + cause + ", then run it again: " + again
}

// failedNode names the node an error is about: the node of a remote error,
// else the inventory node named first in its text ("" when none is).
func (m model) failedNode(err error) string {
	if err == nil {
		return ""
	}
	var ne *remote.NodeError
	if errors.As(err, &ne) && ne.Node != "" {
		return ne.Node
	}
	text := err.Error()
	best, at := "", -1
	for _, n := range m.cfg.Inventory.Nodes {
		loc := regexp.MustCompile(`\b` + regexp.QuoteMeta(n.Name) + `\b`).FindStringIndex(text)
		if loc != nil && (at < 0 || loc[0] < at) {
			best, at = n.Name, loc[0]
		}
	}
	return best
}
