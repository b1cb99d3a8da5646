package main

// What the bench reads from a hotsnap run's own journal (steps.Journal):
// when each step started and finished. From it come hotsnap's fixed cost
// in a backup (everything but moving the data) and TheHive's outage in a
// restore (TheHive stopped → started and healthy).

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/hotsnap/hotsnap/steps"
)

// benchDataSteps are the backup's steps that move the data: the stream of
// every node's tables (and the attachments on disk with them), the
// attachments' own archive (S3), and following Elasticsearch's snapshot
// while it writes its files; they come after the gate benchBackupGate (the
// preflight has a check "files" too). Every other step is hotsnap's fixed
// cost.
var benchDataSteps = []string{"stream", "files", "es-wait"}

// benchBackupGate is the backup's gate "Start the backup".
const benchBackupGate = "approve"

// The restore's steps between which TheHive is down: the outage runs from
// the start of the first (TheHive stopped) to the end of the second
// (TheHive started and answering on every node).
const (
	benchStopStep  = "stop-thehive"
	benchStartStep = "start-thehive"
)

// benchRun is a hotsnap run as its journal tells it.
type benchRun struct {
	Start, End time.Time   // run_started, run_finished
	Steps      []benchSpan // every step that ran, in the order it started
}

// benchSpan is one step that ran: from step_started to step_finished.
type benchSpan struct {
	ID         string
	Start, End time.Time
}

// D is how long the step ran.
func (s benchSpan) D() time.Duration { return s.End.Sub(s.Start) }

// parseJournal reads a run's journal: the run's start and end and every
// step that ran (skipped steps, which never start, are left out). A run
// without its end, or a step without its end, is an error.
func parseJournal(r io.Reader) (benchRun, error) {
	var run benchRun
	open := map[string]int{} // step → index in run.Steps while it runs
	dec := json.NewDecoder(r)
	for line := 1; ; line++ {
		var e struct {
			TS   time.Time `json:"ts"`
			Type string    `json:"type"`
			Step string    `json:"step"`
		}
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return run, fmt.Errorf("journal entry %d: %w", line, err)
		}
		switch e.Type {
		case "run_started":
			run.Start = e.TS
		case "step_started":
			open[e.Step] = len(run.Steps)
			run.Steps = append(run.Steps, benchSpan{ID: e.Step, Start: e.TS})
		case "step_finished":
			if i, ok := open[e.Step]; ok {
				run.Steps[i].End = e.TS
				delete(open, e.Step)
			}
		case "run_finished":
			run.End = e.TS
		}
	}
	switch {
	case run.Start.IsZero():
		return run, errors.New("journal: no run_started entry")
	case run.End.IsZero():
		return run, errors.New("journal: no run_finished entry: the run did not end")
	case len(open) > 0:
		for _, s := range run.Steps {
			if s.End.IsZero() {
				return run, fmt.Errorf("journal: step %s started and never finished", s.ID)
			}
		}
	}
	return run, nil
}

// D is the run's wall time, run_started to run_finished.
func (r benchRun) D() time.Duration { return r.End.Sub(r.Start) }

// span returns the step id, and whether it ran.
func (r benchRun) span(id string) (benchSpan, bool) {
	i := slices.IndexFunc(r.Steps, func(s benchSpan) bool { return s.ID == id })
	if i < 0 {
		return benchSpan{}, false
	}
	return r.Steps[i], true
}

// covered is the wall time the spans cover together: steps that ran at
// once count once.
func covered(spans []benchSpan) time.Duration {
	s := slices.SortedFunc(slices.Values(spans), func(a, b benchSpan) int { return a.Start.Compare(b.Start) })
	var total time.Duration
	var end time.Time
	for _, x := range s {
		switch {
		case x.Start.After(end):
			total += x.D()
			end = x.End
		case x.End.After(end):
			total += x.End.Sub(end)
			end = x.End
		}
	}
	return total
}

// outage is how long TheHive was down in a restore run: from the start of
// the step that stops it to the end of the step that starts it and waits
// until it answers.
func (r benchRun) outage() (time.Duration, error) {
	stop, ok1 := r.span(benchStopStep)
	start, ok2 := r.span(benchStartStep)
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("journal: no %s and %s steps: not a restore that stops TheHive", benchStopStep, benchStartStep)
	}
	return start.End.Sub(stop.Start), nil
}

// benchFixed is hotsnap's fixed cost in one backup: the command's wall
// time less the wall time of the steps that move the data.
type benchFixed struct {
	Total   time.Duration // Wall − Data
	Wall    time.Duration // the command, as the bench timed it
	Data    time.Duration // the data steps' wall time (benchDataSteps)
	Outside time.Duration // Wall less the run: process start, inventory, the summary
	Between time.Duration // inside the run but in no step: the engine's own
	// DataSteps are the data steps, in the order they started; Steps the
	// others (gates and checks included), steps that ran at once as one
	// ("ring ∥ cql ∥ … (9 at once)"), so that Outside, Steps and Between
	// add up to Total.
	DataSteps, Steps []benchStep
}

// fixedCost splits a backup's wall time (as timed from outside) into the
// data steps and the rest, which is hotsnap's fixed cost.
func fixedCost(wall time.Duration, run benchRun) benchFixed {
	f := benchFixed{Wall: wall, Outside: max(wall-run.D(), 0), Between: max(run.D()-covered(run.Steps), 0)}
	var data, other []benchSpan
	gate, _ := run.span(benchBackupGate)
	for _, s := range run.Steps {
		if slices.Contains(benchDataSteps, s.ID) && !s.Start.Before(gate.End) {
			data = append(data, s)
			f.DataSteps = append(f.DataSteps, benchStep{Title: s.ID, D: s.D()})
		} else {
			other = append(other, s)
		}
	}
	f.Data = covered(data)
	f.Total = max(wall-f.Data, 0)
	f.Steps = atOnce(other, data)
	return f
}

// atOnce merges the steps that ran at once (overlapping spans) into one
// step each, named by its steps, longest first, and lasting from the first
// one's start to the last one's end, less the time data steps ran beside
// it (clearing the Cassandra snapshots while the attachments are copied
// costs nothing on top of the copy).
func atOnce(spans, data []benchSpan) []benchStep {
	s := slices.SortedFunc(slices.Values(spans), func(a, b benchSpan) int { return a.Start.Compare(b.Start) })
	var out []benchStep
	for i := 0; i < len(s); {
		j, end := i+1, s[i].End
		for ; j < len(s) && !s[j].Start.After(end); j++ {
			if s[j].End.After(end) {
				end = s[j].End
			}
		}
		group := slices.SortedStableFunc(slices.Values(s[i:j]), func(a, b benchSpan) int { return cmp.Compare(b.D(), a.D()) })
		title := group[0].ID
		for k, g := range group[1:] {
			if k == 2 {
				title += " ∥ …"
				break
			}
			title += " ∥ " + g.ID
		}
		if len(group) > 1 {
			title += fmt.Sprintf(" (%d at once)", len(group))
		}
		out = append(out, benchStep{Title: title, D: covered(append(slices.Clip(data), benchSpan{Start: s[i].Start, End: end})) - covered(data)})
		i = j
	}
	return out
}

// String names the fixed cost's parts, which add up to it: outside the
// run, each step (or steps at once) of 10 ms or more, slowest first, the
// rest of the steps, and the engine's time between steps.
func (f benchFixed) String() string {
	s := fmt.Sprintf("%s = %s wall − %s moving data (%s); outside the runbook (process start, inventory, summary) %s",
		f.Total.Round(time.Millisecond), f.Wall.Round(time.Millisecond), f.Data.Round(time.Millisecond), joinSteps(f.DataSteps, 0), f.Outside.Round(time.Millisecond))
	big := slices.SortedStableFunc(slices.Values(f.Steps), func(a, b benchStep) int { return cmp.Compare(b.D, a.D) })
	return s + "; steps: " + joinSteps(big, 10*time.Millisecond) + fmt.Sprintf("; between steps %s", f.Between.Round(time.Millisecond))
}

// joinSteps writes "id 1.2s · id 30ms", the steps of min or more and how
// many shorter ones there were.
func joinSteps(ss []benchStep, minD time.Duration) string {
	out := ""
	short, shortD := 0, time.Duration(0)
	for _, s := range ss {
		if s.D < minD {
			short++
			shortD += s.D
			continue
		}
		if out != "" {
			out += " · "
		}
		out += s.Title + " " + s.D.Round(time.Millisecond).String()
	}
	if short > 0 {
		if out != "" {
			out += " · "
		}
		out += fmt.Sprintf("%d more under %s, %s together", short, minD, shortD.Round(time.Millisecond))
	}
	if out == "" {
		return "none"
	}
	return out
}

// runIDRE finds the run's ID in hotsnap's plain output ("hotsnap backup ·
// run 20261205-162659-fbb968 · 31 steps").
var runIDRE = regexp.MustCompile(`(?m)^hotsnap \S+ · run (\S+) · \d+ steps$`)

// benchStateHome is the XDG_STATE_HOME the bench gives every hotsnap it
// runs on lab l, so that it finds their journals (inside the lab's state,
// removed with it).
func benchStateHome(stateDir string) string { return filepath.Join(stateDir, "bench-state") }

// readRun reads the journal of the run whose plain output is out, from
// the state home the bench gave it.
func readRun(stateHome, out string) (benchRun, error) {
	m := runIDRE.FindStringSubmatch(out)
	if m == nil {
		return benchRun{}, errors.New("no run ID in hotsnap's output")
	}
	p := steps.JournalPath(filepath.Join(stateHome, "hotsnap"), m[1])
	f, err := os.Open(p)
	if err != nil {
		return benchRun{}, fmt.Errorf("the run's journal: %w", err)
	}
	defer f.Close()
	run, err := parseJournal(f)
	if err != nil {
		return run, fmt.Errorf("%s: %w", p, err)
	}
	return run, nil
}
