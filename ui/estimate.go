package ui

// estimateLines are Plan review's estimate of a backup: the bytes per
// component measured on the nodes and the time at the throughput of the
// newest complete backup (or why there is no time).
func (m model) estimateLines() []string {
	if m.job == nil || m.job.Estimate == nil {
		return nil
	}
	label := m.st.bold.Render("Estimate")
	switch {
	case m.estimating:
		return []string{label + " " + m.st.faint.Render("measuring the data on the nodes…")}
	case m.estimateErr != nil:
		return m.wrapped(m.st.warn.Render("!")+" "+label+" could not be made: "+m.estimateErr.Error(), "  ")
	case m.estimate == nil:
		return nil
	}
	e := m.estimate
	out := m.wrapped(label+" "+e.Text(), "  ")
	out = append(out, m.wrapped("  time: "+e.TimeText(), "    ")...)
	for _, p := range e.Problems {
		out = append(out, m.wrapped("  "+m.st.warn.Render("!")+" "+p, "    ")...)
	}
	return out
}
