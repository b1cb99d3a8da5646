package steps

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncCounter replaces a journal's fsync: it counts the calls and notes
// how many entries the file held at each.
type syncCounter struct {
	mu    sync.Mutex
	calls int
	lines []int // lines in the file when each sync started
	delay time.Duration
	err   error
}

func (c *syncCounter) sync(f *os.File) error {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return err
	}
	time.Sleep(c.delay) // an operator's disk: milliseconds per fsync
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.lines = append(c.lines, strings.Count(string(b), "\n"))
	return c.err
}

func openCountedJournal(t *testing.T, c *syncCounter) *Journal {
	t.Helper()
	j, err := OpenJournal(t.TempDir(), "run-1")
	if err != nil {
		t.Fatal(err)
	}
	j.sync = c.sync
	return j
}

// TestJournalSyncsWhatACrashMustNotLose: commands and checks are written at
// once but synced with the next step boundary; a step's start is on disk,
// with everything written before it, when record returns; Close syncs the
// rest.
func TestJournalSyncsWhatACrashMustNotLose(t *testing.T) {
	c := &syncCounter{}
	j := openCountedJournal(t, c)
	for i := range 5 {
		j.record(entry{Type: "command", Step: "s", Node: "n", Cmd: fmt.Sprint("cmd", i)})
		j.record(entry{Type: "check", Step: "s", Node: "n", Check: "c"})
	}
	if c.calls != 0 {
		t.Fatalf("commands and checks synced %d times, want 0: each fsync is milliseconds on an operator's disk", c.calls)
	}
	if n := len(readJournal(t, j.Path)); n != 10 {
		t.Fatalf("%d entries written before any sync, want 10: a killed process would lose them", n)
	}
	j.record(entry{Type: "step_started", Step: "destroy"})
	if c.calls != 1 || c.lines[0] != 11 {
		t.Fatalf("after step_started: %d syncs covering %v lines, want 1 covering 11: a crash could lose that the step started", c.calls, c.lines)
	}
	j.record(entry{Type: "command", Step: "destroy", Node: "n", Cmd: "rm"})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if c.calls != 2 || c.lines[1] != 12 {
		t.Fatalf("Close: %d syncs covering %v lines, want the last command synced by Close", c.calls, c.lines)
	}
}

// TestJournalStepsRecordingAtOnceShareAnFsync: twenty steps start at once on
// a disk whose fsync takes 5 ms; each finds its entry on disk when record
// returns, and far fewer fsyncs than entries run.
func TestJournalStepsRecordingAtOnceShareAnFsync(t *testing.T) {
	c := &syncCounter{delay: 5 * time.Millisecond}
	j := openCountedJournal(t, c)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.record(entry{Type: "step_started", Step: fmt.Sprint("s", i)})
			j.syncMu.Lock()
			synced := j.synced
			j.syncMu.Unlock()
			b, err := os.ReadFile(j.Path)
			if err != nil {
				t.Error(err)
				return
			}
			before, _, _ := strings.Cut(string(b), fmt.Sprintf(`"step":"s%d"`, i))
			if line := strings.Count(before, "\n") + 1; line > synced {
				t.Errorf("step s%d: record returned with its entry (line %d) not synced (%d lines are)", i, line, synced)
			}
		}()
	}
	wg.Wait()
	if c.calls >= 20 || c.calls == 0 {
		t.Fatalf("%d fsyncs for 20 entries recorded at once, want fewer (shared)", c.calls)
	}
	if c.lines[len(c.lines)-1] != 20 {
		t.Fatalf("the last sync covered %d lines, want 20", c.lines[len(c.lines)-1])
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestJournalKeepsAFailedSync: a failed fsync is returned by Close and no
// entry is written after it.
func TestJournalKeepsAFailedSync(t *testing.T) {
	c := &syncCounter{err: errors.New("input/output error")}
	j := openCountedJournal(t, c)
	j.record(entry{Type: "step_started", Step: "a"})
	j.record(entry{Type: "step_started", Step: "b"})
	if n := len(readJournal(t, j.Path)); n != 1 {
		t.Fatalf("%d entries after a failed sync, want 1", n)
	}
	if err := j.Close(); err == nil || !strings.Contains(err.Error(), "input/output error") || !strings.Contains(err.Error(), j.Path) {
		t.Fatalf("Close: %v, want the sync's error naming the journal", err)
	}
}
