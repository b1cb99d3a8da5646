package steps

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Journal is a run's audit trail: one JSON object per line, mode 0600, in
// the state directory. Text in it has been redacted by the engine. It is
// also what `resume` will read.
//
// Every entry is written when it is recorded, so a killed process loses
// nothing. What a machine's crash must not lose — a step started or
// finished, a gate answered, the run's start and end — is on disk before
// record returns; an entry in between (a command, a check) reaches the
// disk with the next of those. Steps recording at once share one fsync.
type Journal struct {
	RunID string
	Path  string

	mu      sync.Mutex // guards f's writes, enc, err, written
	f       *os.File
	enc     *json.Encoder
	err     error
	written int // entries written

	syncMu sync.Mutex // held while syncing; guards synced
	synced int        // entries on disk
	sync   func(*os.File) error
}

type entry struct {
	Time     time.Time `json:"ts"`
	Run      string    `json:"run"`
	Type     string    `json:"type"`
	Runbook  string    `json:"runbook,omitempty"`
	Cluster  string    `json:"cluster,omitempty"`
	Step     string    `json:"step,omitempty"`
	Node     string    `json:"node,omitempty"`
	Cmd      string    `json:"cmd,omitempty"`
	Check    string    `json:"check,omitempty"`
	Evidence string    `json:"evidence,omitempty"`
	Remedy   string    `json:"remedy,omitempty"`
	Sudo     bool      `json:"sudo,omitempty"`
	Exit     *int      `json:"exit,omitempty"`
	State    string    `json:"state,omitempty"`
	Approved *bool     `json:"approved,omitempty"`
	By       string    `json:"by,omitempty"`
	// Choice (gate) is the Key of the choice taken at a choice gate.
	Choice     string `json:"choice,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`
	// Params (run_started, steps_added) are what rebuilds the runbook on
	// resume; those of steps_added join those of run_started.
	Params map[string]string `json:"params,omitempty"`
	// Added (steps_added) are the IDs of the steps Step names made
	// (Step.Then), in the order they run.
	Added []string `json:"added,omitempty"`
	// Resumes (run_started) is the run this one continues.
	Resumes string `json:"resumes,omitempty"`
	// DoneIn (step_finished, state skipped) is the run that finished the step.
	DoneIn string `json:"done_in,omitempty"`
	// DoneBefore and StartedBefore (run_started of a resume) carry what the
	// runs it continues did, so that resuming this run in turn knows it
	// even when this run stops before reaching those steps.
	DoneBefore    map[string]string `json:"done_before,omitempty"`
	StartedBefore []string          `json:"started_before,omitempty"`
	// ChoseBefore (run_started of a resume) carries the choices the runs it
	// continues made at choice gates, step ID → choice Key.
	ChoseBefore map[string]string `json:"chose_before,omitempty"`
}

// OpenJournal creates the journal of a new run in dir/runs/RUNID.jsonl.
func OpenJournal(dir, runID string) (*Journal, error) {
	runs := filepath.Join(dir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	path := filepath.Join(runs, runID+".jsonl")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{RunID: runID, Path: path, f: f, enc: json.NewEncoder(f), sync: (*os.File).Sync}, nil
}

// durable says which entries must be on disk before the run goes on: those
// resume and the audit rely on after a crash. A command's or a check's
// entry is synced with the next of these.
func durable(typ string) bool {
	switch typ {
	case "command", "check":
		return false
	}
	return true
}

// record appends an entry, and, for a durable one, waits until it is on
// disk; a nil journal records nothing. The first write or sync error is
// kept and returned by Close.
func (j *Journal) record(e entry) {
	if j == nil {
		return
	}
	if n, ok := j.write(e); ok && durable(e.Type) {
		j.syncTo(n)
	}
}

// write appends e and returns how many entries are written with it; false
// once an entry could not be written or synced (nothing is written after).
func (j *Journal) write(e entry) (int, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, false
	}
	e.Time, e.Run = time.Now().UTC(), j.RunID
	if err := j.enc.Encode(e); err != nil {
		j.err = fmt.Errorf("journal %s: %w", j.Path, err)
		return 0, false
	}
	j.written++
	return j.written, true
}

// syncTo returns once the first n entries are on disk. One fsync covers
// every entry written before it starts: a caller that waited for another's
// sync finds its entry already synced (group commit).
func (j *Journal) syncTo(n int) {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= n {
		return
	}
	j.mu.Lock()
	upTo := j.written
	j.mu.Unlock()
	err := j.sync(j.f)
	j.mu.Lock()
	if err != nil && j.err == nil {
		j.err = fmt.Errorf("journal %s: %w", j.Path, err)
	}
	j.mu.Unlock()
	if err == nil {
		j.synced = upTo
	}
}

// Close syncs what is not yet on disk and closes the journal.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	n := j.written
	j.mu.Unlock()
	j.syncTo(n)
	j.mu.Lock()
	defer j.mu.Unlock()
	cerr := j.f.Close()
	if j.err != nil {
		return j.err
	}
	return cerr
}

// PriorRun is what a journal says about an earlier run: enough to rebuild
// its runbook and to know which steps finished.
type PriorRun struct {
	RunID   string
	Path    string
	Runbook string
	Cluster string
	Params  map[string]string
	// Resumes is the run the earlier run itself continued, if any.
	Resumes string
	// Done maps each step that finished to the run that finished it.
	Done map[string]string
	// Started holds every step that started (or finished in a run this one
	// resumed).
	Started map[string]bool
	// Chose maps each choice gate answered (here or in a run this one
	// resumed) to the Key of the choice taken; a resume offers it as the
	// default.
	Chose map[string]string
	// Failed is the step that failed or was cancelled, if any.
	Failed string
	// Finished says the run reached its end; Err is its error ("" when it
	// succeeded). A run without an end was killed or crashed.
	Finished bool
	Err      string
	// At is when the run started.
	At time.Time
}

// JournalPath returns where the journal of run runID lives under dir.
func JournalPath(dir, runID string) string {
	return filepath.Join(dir, "runs", runID+".jsonl")
}

// ReadJournal reads the journal of run runID in dir. A torn last line (the
// process died while writing it) is ignored; any other malformed line is an
// error naming the file and line.
func ReadJournal(dir, runID string) (*PriorRun, error) {
	path := JournalPath(dir, runID)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal of run %s: %w", runID, err)
	}
	p := &PriorRun{RunID: runID, Path: path, Done: map[string]string{}, Started: map[string]bool{}, Chose: map[string]string{}}
	torn := !strings.HasSuffix(string(b), "\n")
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var e entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			if torn && i == len(lines)-1 {
				break // the process died while writing its last line
			}
			return nil, fmt.Errorf("%s:%d: not a journal entry (%v): the journal was edited or damaged", path, i+1, err)
		}
		if e.Run != "" && e.Run != runID {
			return nil, fmt.Errorf("%s:%d: entry of run %s in the journal of run %s", path, i+1, e.Run, runID)
		}
		switch e.Type {
		case "run_started":
			p.Runbook, p.Cluster, p.Params, p.Resumes, p.At = e.Runbook, e.Cluster, e.Params, e.Resumes, e.Time
			for id, run := range e.DoneBefore {
				p.Done[id], p.Started[id] = run, true
			}
			for _, id := range e.StartedBefore {
				p.Started[id] = true
			}
			for id, k := range e.ChoseBefore {
				p.Chose[id] = k
			}
		case "steps_added":
			if len(e.Params) > 0 && p.Params == nil {
				p.Params = map[string]string{}
			}
			maps.Copy(p.Params, e.Params)
		case "gate":
			if e.Choice != "" {
				p.Chose[e.Step] = e.Choice
			}
		case "step_started":
			p.Started[e.Step] = true
		case "step_finished":
			switch {
			case e.State == string(StateDone):
				p.Done[e.Step] = runID
			case e.State == string(StateSkipped) && e.DoneIn != "":
				p.Done[e.Step], p.Started[e.Step] = e.DoneIn, true
			case e.State == string(StateFailed) || e.State == string(StateCanceled):
				p.Failed = e.Step
			}
		case "run_finished":
			p.Finished, p.Err = true, e.Error
		}
	}
	if p.Runbook == "" {
		return nil, fmt.Errorf("%s: no run_started entry: not the journal of a run", path)
	}
	return p, nil
}

// ChangedData says whether the earlier run (or one it resumed) started one of
// rb's destructive steps: the data may be half replaced.
func (p *PriorRun) ChangedData(rb Runbook) bool {
	for _, s := range rb.Steps {
		if s.Destructive && s.Kind != KindGate && p.Started[s.ID] {
			return true
		}
	}
	return false
}

// ContinuedBy returns the runs in dir that resumed run runID, oldest first.
// Journals that cannot be read are skipped: they cannot have continued it.
func ContinuedBy(dir, runID string) []*PriorRun {
	paths, _ := filepath.Glob(filepath.Join(dir, "runs", "*.jsonl"))
	sort.Strings(paths) // run IDs sort by time
	var out []*PriorRun
	for _, p := range paths {
		id := strings.TrimSuffix(filepath.Base(p), ".jsonl")
		if id == runID {
			continue
		}
		if r, err := ReadJournal(dir, id); err == nil && r.Resumes == runID {
			out = append(out, r)
		}
	}
	return out
}
