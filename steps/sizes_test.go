package steps

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSizes: a waiter gets the first size set, or why there is none; one
// waiting for a size the check never sets gives up with its context; a key
// no check promised is not waited on: the step measures it.
func TestSizes(t *testing.T) {
	s := NewSizes()
	for _, k := range []string{"node1", "node2", "node9"} {
		s.Promise(k)
	}
	got := make(chan int64)
	go func() {
		n, _ := s.Size(context.Background(), "node1", unmeasured(t))
		got <- n
	}()
	s.Set("node1", 100, nil)
	s.Set("node1", 200, nil) // the first record stands
	if n := <-got; n != 100 {
		t.Errorf("node1: %d, want 100", n)
	}
	failed := errors.New("du: No such file or directory")
	s.Set("node2", 0, failed)
	if _, err := s.Size(context.Background(), "node2", unmeasured(t)); !errors.Is(err, failed) {
		t.Errorf("node2: %v, want the check's error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Size(ctx, "node9", unmeasured(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting on a size never set: %v", err)
	}
	if s.Promised("node4") || (*Sizes)(nil).Promised("node1") {
		t.Error("a key nobody promised is promised")
	}
	if n, err := s.Size(context.Background(), "node4", func() (int64, error) { return 7, nil }); n != 7 || err != nil {
		t.Errorf("a key nobody promised: %d %v, want what the step measures itself", n, err)
	}
}

// unmeasured is a measure that must not run: the size is promised.
func unmeasured(t *testing.T) func() (int64, error) {
	return func() (int64, error) {
		t.Error("measured a size a check promised")
		return 0, nil
	}
}
