package steps

import (
	"context"
	"errors"
	"time"
)

// ErrPollTimeout is what Poll returns when its timeout passed before the
// check said done.
var ErrPollTimeout = errors.New("timed out")

// Poll calls check at once, then again after each wait, until check says
// done or fails, ctx ends (ctx.Err()), or timeout (0: none) has passed since
// the first call (ErrPollTimeout). The waits start at 100 ms and double up
// to max, so a short wait (a small index recovering, a service starting)
// ends early and a long one does not hammer the server.
func Poll(ctx context.Context, max, timeout time.Duration, check func() (done bool, err error)) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	b := backoff{max: max}
	for {
		done, err := check()
		if done || err != nil {
			return err
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return ErrPollTimeout
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(b.next()):
		}
	}
}

// backoff spaces polls: 100 ms at first, doubling up to max.
type backoff struct {
	d, max time.Duration
}

func (b *backoff) next() time.Duration {
	switch {
	case b.d == 0:
		b.d = 100 * time.Millisecond
	default:
		b.d *= 2
	}
	if b.max > 0 && b.d > b.max {
		b.d = b.max
	}
	return b.d
}
