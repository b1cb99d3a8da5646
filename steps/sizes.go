package steps

import (
	"context"
	"fmt"
	"sync"
)

// Sizes are sizes a check measures for a step that runs beside it and needs
// the same figures (a backup's estimate, the repository check): measured
// once instead of twice. Each is under a key the two agree on (a node's
// name for its keyspace, the folder for the attachments). A step that waits
// on a size must run at the same time as the check that sets it (in its
// group of concurrent steps), never before it.
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

// entry is key's size, made on first use by the check or a waiter.
func (s *Sizes) entry(key string) *size {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		e = &size{ready: make(chan struct{})}
		s.m[key] = e
	}
	return e
}

// Set records key's size, or why it could not be measured; the first
// record stands.
func (s *Sizes) Set(key string, n int64, err error) {
	e := s.entry(key)
	e.once.Do(func() {
		e.n, e.err = n, err
		close(e.ready)
	})
}

// Size waits until key's size is set and returns it; it gives up with ctx.
func (s *Sizes) Size(ctx context.Context, key string) (int64, error) {
	e := s.entry(key)
	select {
	case <-e.ready:
		return e.n, e.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%s: the size from the check beside this step: %w", key, ctx.Err())
	}
}
