package steps

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Estimate is what a backup is expected to copy, measured on the nodes
// before it starts, and how long that should take at the throughput of the
// newest complete backup in the repository. A runbook fills it; the faces
// print Text and TimeText.
type Estimate struct {
	// Parts are what hotsnap itself streams into the repository, one per
	// component, in the order the text names them.
	Parts []EstimatePart
	// Elsewhere are parts measured that the component writes itself, at
	// the same time (an Elasticsearch snapshot into its own repository).
	Elsewhere []EstimatePart
	// Problems says what could not be measured, naming the node or
	// component and what to do; the parts leave it out.
	Problems []string

	// Rate is the throughput (bytes copied per second) of the newest
	// complete backup in the repository, 0 when there is none.
	Rate float64
	// RateFrom is the ID of that backup.
	RateFrom string
}

// EstimatePart is one component's share of an Estimate.
type EstimatePart struct {
	// Name is the component as the text names it ("Cassandra",
	// "attachments").
	Name string
	// Nodes holds the bytes per node when the component was measured on
	// each; else Bytes and Where (where it was measured:
	// "node3:/opt/thp/thehive/files", "thehive_global, thehive-audits").
	Nodes map[string]int64
	Bytes int64
	Where string
	// Into says where an Elsewhere part goes ("its own snapshot
	// repository").
	Into string
}

// Total is the part's bytes: the sum over its nodes, or Bytes.
func (p EstimatePart) Total() int64 {
	if p.Nodes == nil {
		return p.Bytes
	}
	var n int64
	for _, b := range p.Nodes {
		n += b
	}
	return n
}

// text is "Cassandra 60.0 MiB (node1 20.0 MiB · …)" or "attachments
// 2.0 MiB (node3:/opt/…)".
func (p EstimatePart) text() string {
	where := p.Where
	if p.Nodes != nil {
		nodes := slices.Sorted(maps.Keys(p.Nodes))
		per := make([]string, len(nodes))
		for i, n := range nodes {
			per[i] = n + " " + HumanBytes(p.Nodes[n])
		}
		where = strings.Join(per, " · ")
	}
	return fmt.Sprintf("%s %s (%s)", p.Name, HumanBytes(p.Total()), where)
}

// Part returns the part named name (in Parts or Elsewhere), or nil.
func (e *Estimate) Part(name string) *EstimatePart {
	if e == nil {
		return nil
	}
	for _, ps := range [][]EstimatePart{e.Parts, e.Elsewhere} {
		for i := range ps {
			if ps[i].Name == name {
				return &ps[i]
			}
		}
	}
	return nil
}

// Copied is what hotsnap itself will stream into the repository: the sum
// of Parts.
func (e *Estimate) Copied() int64 {
	var n int64
	for _, p := range e.Parts {
		n += p.Total()
	}
	return n
}

// Duration is the expected time of the copy at Rate, 0 when no earlier
// backup gives a rate.
func (e *Estimate) Duration() time.Duration {
	if e.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(e.Copied()) / e.Rate * float64(time.Second)).Round(time.Second)
}

// Text says what will be copied, per component and per node: "593 MiB to
// copy: Cassandra 560 MiB (node1 187 MiB · …), attachments 33 MiB (node1:/…);
// Elasticsearch 50 MiB (thehive_global) goes into its own snapshot
// repository".
func (e *Estimate) Text() string {
	parts := make([]string, len(e.Parts))
	for i, p := range e.Parts {
		parts[i] = p.text()
	}
	text := fmt.Sprintf("%s to copy: %s", HumanBytes(e.Copied()), strings.Join(parts, ", "))
	for _, p := range e.Elsewhere {
		text += "; " + p.text() + " goes into " + p.Into
	}
	return text
}

// TimeText says how long the copy should take and from which backup's
// throughput, or NoEarlierBackup.
func (e *Estimate) TimeText() string {
	switch d := e.Duration(); {
	case d > 0:
		return fmt.Sprintf("about %s at %s/s, the throughput of backup %s", d, HumanBytes(int64(e.Rate)), e.RateFrom)
	case e.Rate > 0:
		return fmt.Sprintf("under a second at %s/s, the throughput of backup %s", HumanBytes(int64(e.Rate)), e.RateFrom)
	}
	return NoEarlierBackup
}

// NoEarlierBackup is what the plan says instead of a time when the
// repository holds no complete backup to take a throughput from.
const NoEarlierBackup = "no earlier backup to estimate time from"

// Report says the estimate on rc: what will be copied and how long it
// should take, and a warning check for each part it could not measure.
func (e *Estimate) Report(rc *RunContext) {
	rc.Output("", e.Text())
	rc.Output("", "time: "+e.TimeText())
	for _, p := range e.Problems {
		rc.Check(CheckResult{Check: "estimate", Status: CheckWarn, Evidence: p,
			Remedy: "the backup can still run; its progress has no total for what was not measured"})
	}
}

// Measure runs every part at once and returns what they could not
// measure, sorted: each part fills its own share of an estimate and
// returns its problems.
func Measure(parts ...func() []string) []string {
	problems := make([][]string, len(parts))
	Parallel(parts, func(i int, part func() []string) error { //nolint:errcheck // kept per part in problems
		problems[i] = part()
		return nil
	})
	var out []string
	for _, p := range problems {
		out = append(out, p...)
	}
	slices.Sort(out)
	return out
}
