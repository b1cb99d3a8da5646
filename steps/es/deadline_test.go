package es

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/steps"
)

// TestFollowRecoveryDeadline: a recovery that crawls (1 byte a second, as
// `es-standin fault --recovery-rate 1` makes it) is given up at its
// deadline, naming the node, the indices, how far it got and the flag.
func TestFollowRecoveryDeadline(t *testing.T) {
	ctx := context.Background()
	_, _, cl, _ := standin(t, elastic.Options{RecoveryRate: 1}, 50)
	node := cl.Node()
	idx := []string{"thehive_global"}
	if err := StartSnapshot(ctx, cl, "thehive_repository", "s", idx); err != nil {
		t.Fatal(err)
	}
	if _, err := FollowSnapshot(ctx, cl, "thehive_repository", "s", 20*time.Millisecond, func(int64, int64) {}, nil); err != nil {
		t.Fatal(err)
	}
	if err := DeleteIndices(ctx, cl, idx); err != nil {
		t.Fatal(err)
	}
	if err := Restore(ctx, cl, "thehive_repository", "s", idx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err := FollowRecovery(ctx, cl, idx, 20*time.Millisecond, 300*time.Millisecond, func(int64, int64) {})
	if !errors.Is(err, steps.ErrDeadline) {
		t.Fatalf("FollowRecovery = %v, want the deadline", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("gave up after %s, deadline 300ms", d)
	}
	for _, want := range []string{node + ":", "recovery of thehive_global", "not DONE", "300ms", "--timeout-recovery"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}
