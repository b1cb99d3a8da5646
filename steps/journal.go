package steps

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Journal is a run's audit trail: one JSON object per line, mode 0600, in
// the state directory. Text in it has been redacted by the engine. It is
// also what `resume` will read.
type Journal struct {
	RunID string
	Path  string

	mu  sync.Mutex
	f   *os.File
	enc *json.Encoder
	err error
}

type entry struct {
	Time       time.Time `json:"ts"`
	Run        string    `json:"run"`
	Type       string    `json:"type"`
	Runbook    string    `json:"runbook,omitempty"`
	Cluster    string    `json:"cluster,omitempty"`
	Step       string    `json:"step,omitempty"`
	Node       string    `json:"node,omitempty"`
	Cmd        string    `json:"cmd,omitempty"`
	Check      string    `json:"check,omitempty"`
	Evidence   string    `json:"evidence,omitempty"`
	Sudo       bool      `json:"sudo,omitempty"`
	Exit       *int      `json:"exit,omitempty"`
	State      string    `json:"state,omitempty"`
	Approved   *bool     `json:"approved,omitempty"`
	By         string    `json:"by,omitempty"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	Error      string    `json:"error,omitempty"`
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
	return &Journal{RunID: runID, Path: path, f: f, enc: json.NewEncoder(f)}, nil
}

// record appends an entry; a nil journal records nothing. The first write
// error is kept and returned by Close.
func (j *Journal) record(e entry) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	e.Time, e.Run = time.Now().UTC(), j.RunID
	if err := j.enc.Encode(e); err != nil {
		j.err = fmt.Errorf("journal %s: %w", j.Path, err)
		return
	}
	j.err = j.f.Sync()
}

// Close flushes and closes the journal.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	cerr := j.f.Close()
	if j.err != nil {
		return j.err
	}
	return cerr
}
