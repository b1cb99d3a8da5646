package runbooks

import (
	"fmt"
	"slices"
	"sync"
)

// Report is a restore's final report: the lines its steps add as they
// learn what was done, in the order they add them; steps running at once
// may add to it.
type Report struct {
	mu    sync.Mutex
	lines []string
}

// Note adds a line to the report and returns it.
func (r *Report) Note(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.lines = append(r.lines, s)
	r.mu.Unlock()
	return s
}

// Lines returns the report's lines so far.
func (r *Report) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}
