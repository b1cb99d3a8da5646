package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hotsnap/hotsnap/steps"
)

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
	var parts []string
	if len(e.Cassandra) > 0 {
		nodes := make([]string, 0, len(e.Cassandra))
		for n := range e.Cassandra {
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		per := make([]string, len(nodes))
		for i, n := range nodes {
			per[i] = n + " " + steps.HumanBytes(e.Cassandra[n])
		}
		parts = append(parts, fmt.Sprintf("Cassandra %s (%s)", steps.HumanBytes(e.CassandraTotal()), strings.Join(per, " · ")))
	}
	if e.AttachmentsAt != "" {
		parts = append(parts, fmt.Sprintf("attachments %s (%s)", steps.HumanBytes(e.Attachments), e.AttachmentsAt))
	}
	text := fmt.Sprintf("%s to copy: %s", steps.HumanBytes(e.Copied()), strings.Join(parts, ", "))
	if len(e.ESIndices) > 0 {
		text += fmt.Sprintf("; Elasticsearch %s (%s) goes into its own snapshot repository", steps.HumanBytes(e.Elasticsearch), strings.Join(e.ESIndices, ", "))
	}
	out := m.wrapped(label+" "+text, "  ")
	if d := e.Duration(); d > 0 {
		out = append(out, m.wrapped(fmt.Sprintf("  time: about %s at %s/s, the throughput of backup %s", d, steps.HumanBytes(int64(e.Rate)), e.RateFrom), "    ")...)
	} else if e.Rate > 0 {
		out = append(out, fmt.Sprintf("  time: under a second at %s/s, the throughput of backup %s", steps.HumanBytes(int64(e.Rate)), e.RateFrom))
	} else {
		out = append(out, "  time: "+steps.NoEarlierBackup)
	}
	for _, p := range e.Problems {
		out = append(out, m.wrapped("  "+m.st.warn.Render("!")+" "+p, "    ")...)
	}
	return out
}
