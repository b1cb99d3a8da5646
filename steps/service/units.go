package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Units are systemd units of one node named by name or by glob
// ("eclecticiq-platform-backend-worker*.service"), always quoted so that
// no shell expands a glob against its current directory. systemctl
// matches a glob against the units loaded in memory only (systemctl(1)),
// which running units are.
type Units struct {
	Node     string
	Patterns []string
}

// quoted is the patterns, quoted, a bare name given its ".service"
// (list-units matches patterns against whole unit names).
func (u Units) quoted() string {
	q := make([]string, len(u.Patterns))
	for i, p := range u.Patterns {
		q[i] = remote.Quote(unitName(p))
	}
	return strings.Join(q, " ")
}

// unitName is p, with ".service" added to a name without a unit type.
func unitName(p string) string {
	if strings.ContainsAny(p, "*?[") || strings.Contains(p, ".") {
		return p
	}
	return p + ".service"
}

// ListCmd lists the units the patterns match, loaded or not running.
func (u Units) ListCmd() string {
	return "systemctl list-units --all --plain --no-legend --no-pager " + u.quoted()
}

// StopCmd stops the units.
func (u Units) StopCmd() string { return "systemctl stop " + u.quoted() }

// StartCmd starts the units.
func (u Units) StartCmd() string { return "systemctl start " + u.quoted() }

// List returns the units the patterns match, with their states.
func (u Units) List(ctx context.Context, rc *steps.RunContext) ([]parse.ListedUnit, error) {
	var b strings.Builder
	if _, err := rc.Run(ctx, u.Node, remote.Command{Cmd: u.ListCmd(), Sudo: true, Stdout: &b, Stderr: io.Discard}); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", u.Node, u.ListCmd(), err)
	}
	us, err := parse.ParseListUnits(b.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Node, err)
	}
	return us, nil
}

// Running returns the units the patterns match that are not stopped:
// active, activating, deactivating or reloading.
func (u Units) Running(ctx context.Context, rc *steps.RunContext) ([]string, error) {
	us, err := u.List(ctx, rc)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, x := range us {
		if x.Active != parse.UnitInactive && x.Active != parse.UnitFailed {
			out = append(out, x.Unit+" "+string(x.Active))
		}
	}
	return out, nil
}

// ErrNotStopped is wrapped by Stop's error when units still run after
// systemctl stop returned.
var ErrNotStopped = errors.New("units did not stop")

// Stop stops the units and proves them stopped: list-units shows none of
// them running. systemctl stop waits for the stop jobs, which a unit that
// ignores SIGTERM holds until its TimeoutStopSec (then systemd kills it);
// meanwhile what still runs is reported every few seconds. The error
// names the units still running.
func (u Units) Stop(ctx context.Context, rc *steps.RunContext) error {
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if r, err := u.Running(ctx, rc); err == nil && len(r) > 0 {
					rc.Output(u.Node, "waiting for systemd to stop: "+strings.Join(r, ", "))
				}
			}
		}
	}()
	err := rc.WithDeadline(ctx, steps.DeadlineStop, u.Node, stopWhat(u.StopCmd()), func(ctx context.Context) error {
		_, err := rc.Run(ctx, u.Node, remote.Command{Cmd: u.StopCmd(), Sudo: true})
		return err
	})
	close(done)
	<-watched
	if errors.Is(err, steps.ErrDeadline) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", u.Node, u.StopCmd(), err)
	}
	var running []string
	err = steps.Poll(ctx, time.Second, 10*time.Second, func() (bool, error) {
		var err error
		running, err = u.Running(ctx, rc)
		return len(running) == 0, err
	})
	if errors.Is(err, steps.ErrPollTimeout) {
		return fmt.Errorf("%s: %w: %s still running after `%s` (see `journalctl -u UNIT`)", u.Node, ErrNotStopped, strings.Join(running, ", "), u.StopCmd())
	}
	if err != nil {
		return err
	}
	rc.Output(u.Node, "stopped: "+strings.Join(u.Patterns, " ")+" (no matching unit running)")
	return nil
}

// Start starts the units and proves them active: every unit the patterns
// name (and, for a glob, every instance loaded) is active, polled up to
// timeout.
func (u Units) Start(ctx context.Context, rc *steps.RunContext, timeout time.Duration) error {
	if _, err := rc.Run(ctx, u.Node, remote.Command{Cmd: u.StartCmd(), Sudo: true}); err != nil {
		return fmt.Errorf("%s: %s: %w", u.Node, u.StartCmd(), err)
	}
	var notActive []string
	err := steps.Poll(ctx, time.Second, timeout, func() (bool, error) {
		us, err := u.List(ctx, rc)
		if err != nil {
			return false, err
		}
		notActive = notActive[:0]
		for _, p := range u.Patterns {
			if strings.ContainsAny(p, "*?[") {
				continue
			}
			name := unitName(p)
			if !slices.ContainsFunc(us, func(x parse.ListedUnit) bool { return x.Unit == name }) {
				notActive = append(notActive, name+" not loaded")
			}
		}
		for _, x := range us {
			if x.Active != parse.UnitActive {
				notActive = append(notActive, x.Unit+" "+string(x.Active))
			}
		}
		return len(notActive) == 0, nil
	})
	if errors.Is(err, steps.ErrPollTimeout) {
		return fmt.Errorf("%s: started, but not active after %s: %s (see `journalctl -u UNIT`)", u.Node, timeout, strings.Join(notActive, ", "))
	}
	if err != nil {
		return err
	}
	rc.Output(u.Node, "active: "+strings.Join(u.Patterns, " "))
	return nil
}
