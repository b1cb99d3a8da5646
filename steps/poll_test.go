package steps

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{max: time.Second}
	var got []time.Duration
	for range 6 {
		got = append(got, b.next())
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff = %v, want %v", got, want)
		}
	}
	if d := (&backoff{max: 50 * time.Millisecond}).next(); d != 50*time.Millisecond {
		t.Errorf("a max below 100 ms: %v", d)
	}
}

// TestPoll: Poll stops when the check says done or fails, and when its
// timeout or the context ends.
func TestPoll(t *testing.T) {
	ctx := context.Background()
	calls := 0
	if err := Poll(ctx, time.Millisecond, 0, func() (bool, error) { calls++; return calls == 3, nil }); err != nil || calls != 3 {
		t.Errorf("done on the third call: err %v after %d calls", err, calls)
	}
	boom := errors.New("boom")
	if err := Poll(ctx, time.Millisecond, 0, func() (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("a failed check: %v", err)
	}
	if err := Poll(ctx, time.Millisecond, 20*time.Millisecond, func() (bool, error) { return false, nil }); !errors.Is(err, ErrPollTimeout) {
		t.Errorf("past the timeout: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Poll(cctx, time.Second, 0, func() (bool, error) { return false, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}
}
