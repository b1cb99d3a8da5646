package steps

import (
	"context"
	"fmt"
	"sync"
)

// Sizes are sizes a check measures for a step that runs beside it and needs
// the same figures (a backup's estimate, the repository check): measured
// once instead of twice. Each is under a key the two agree on (a node's
// name for its keyspace, the folder for the attachments). The check
// promises its keys as it is made (Promise) and sets them as it runs
// (Set); a step's Size waits only for what a check will set and measures
// the rest itself, so nothing waits on a size no check measures. The waiting step
// must run at the same time as the check (in its group of concurrent
// steps), never before it. A nil *Sizes promises nothing.
type Sizes struct {
	mu sync.Mutex
	m  map[string]*size
}

// size is one size, or why it could not be measured, once ready is closed.
type size struct {
	once  sync.Once
	ready chan struct{}
	n     int64
	err   error
}

// NewSizes returns an empty Sizes.
func NewSizes() *Sizes { return &Sizes{m: map[string]*size{}} }

func (s *Sizes) entry(key string) (*size, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	return e, ok
}

// Promise says a check will set key: called as the check is made.
func (s *Sizes) Promise(key string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		s.m[key] = &size{ready: make(chan struct{})}
	}
}

// Promised says whether a check will set key.
func (s *Sizes) Promised(key string) bool {
	if s == nil {
		return false
	}
	_, ok := s.entry(key)
	return ok
}

// Set records key's size, or why it could not be measured; the first
// record stands. A key nobody promised is not recorded.
func (s *Sizes) Set(key string, n int64, err error) {
	if s == nil {
		return
	}
	if e, ok := s.entry(key); ok {
		e.once.Do(func() {
			e.n, e.err = n, err
			close(e.ready)
		})
	}
}

// Size returns key's size: the one the check that promised it sets (waiting
// for it, giving up with ctx), else what measure finds.
func (s *Sizes) Size(ctx context.Context, key string, measure func() (int64, error)) (int64, error) {
	if !s.Promised(key) {
		return measure()
	}
	e, _ := s.entry(key)
	select {
	case <-e.ready:
		return e.n, e.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%s: the size from the check beside this step: %w", key, ctx.Err())
	}
}
