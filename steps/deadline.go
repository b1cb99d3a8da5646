package steps

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Deadline is an operation that can hang — a service that does not stop,
// a recovery that never ends: how long a run waits for it, and the flag
// that lengthens the wait (one family: --timeout-WHAT DURATION).
type Deadline struct {
	// Flag is the flag's name, without dashes ("timeout-stop").
	Flag string
	// Default is the wait without the flag.
	Default time.Duration
	// Usage is the flag's help.
	Usage string
}

// The deadlines of the operations that can hang.
var (
	// DeadlineStop bounds a service's stop on a node: `systemctl stop`
	// (which waits out the unit's own stop timeout, 90 s by default, or
	// forever with TimeoutStopSec=infinity) and the proof it stopped.
	DeadlineStop = Deadline{Flag: "timeout-stop", Default: 5 * time.Minute,
		Usage: "how long a service may take to stop on a node (systemctl stop, which waits out the unit's own stop timeout, then the proof it stopped; default 5m)"}
	// DeadlineRecovery bounds Elasticsearch's recovery of the indices a
	// restore brings back.
	DeadlineRecovery = Deadline{Flag: "timeout-recovery", Default: 2 * time.Hour,
		Usage: "how long Elasticsearch's recovery of the restored indices may take (GET _recovery followed until every shard is DONE; default 2h)"}
	// DeadlineSnapshot bounds `nodetool snapshot` on a node, which flushes
	// the memtables first and waits behind a stuck flush.
	DeadlineSnapshot = Deadline{Flag: "timeout-snapshot", Default: 15 * time.Minute,
		Usage: "how long `nodetool snapshot` may take on a node (it flushes first, and waits behind a stuck flush; default 15m)"}
	// DeadlineHealth bounds the wait for the application to answer
	// healthy after its start; a runbook may pass its own default
	// (TimeoutOr).
	DeadlineHealth = Deadline{Flag: "timeout-health", Default: 10 * time.Minute,
		Usage: "how long the application may take to answer healthy after its start (TheHive /api/status: 3m, Alien4Cloud /rest/admin/health: 10m)"}
)

// Deadlines lists every deadline, for the flags.
var Deadlines = []Deadline{DeadlineStop, DeadlineRecovery, DeadlineHealth, DeadlineSnapshot}

// ErrDeadline is wrapped by the error of an operation that was still not
// done when its deadline passed.
var ErrDeadline = errors.New("deadline passed")

// Timeout returns how long the run waits for d: the engine's Timeouts
// (the flag), else d's default.
func (rc *RunContext) Timeout(d Deadline) time.Duration { return rc.TimeoutOr(d, 0) }

// TimeoutOr returns how long the run waits for d: the engine's Timeouts
// (the flag), else fallback (a runbook's own default), else d's default.
func (rc *RunContext) TimeoutOr(d Deadline, fallback time.Duration) time.Duration {
	if t := rc.e.Timeouts[d.Flag]; t > 0 {
		return t
	}
	if fallback > 0 {
		return fallback
	}
	return d.Default
}

// WithDeadline runs f with ctx bounded by d (Timeout): when the deadline
// passes before f returns, the error says which node waited for what, how
// long, and which flag lengthens the wait. Cancelling ctx itself is
// reported as such.
func (rc *RunContext) WithDeadline(ctx context.Context, d Deadline, node, what string, f func(ctx context.Context) error) error {
	t := rc.Timeout(d)
	dctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	err := f(dctx)
	if err != nil && ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
		return d.Passed(node, what, t)
	}
	return err
}

// Passed is the error of an operation on node that was still not done
// after t: what it waited for (what), and the flag that lengthens the wait.
func (d Deadline) Passed(node, what string, t time.Duration) error {
	return fmt.Errorf("%s: %w: %s, still not done after %s; lengthen the wait with --%s DURATION", node, ErrDeadline, what, t, d.Flag)
}
