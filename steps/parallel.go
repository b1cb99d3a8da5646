package steps

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/hotsnap/hotsnap/remote"
)

// Parallel runs fn for every item (a node, most often) at once, waits for
// all, and joins their errors.
func Parallel[T any](items []T, fn func(i int, item T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, n := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PlanEach is the Plan of a step that runs cmd on each of nodes.
func PlanEach(nodes []string, cmd string, sudo bool) func() []PlannedCommand {
	return func() []PlannedCommand {
		out := make([]PlannedCommand, len(nodes))
		for i, n := range nodes {
			out[i] = PlannedCommand{Node: n, Cmd: cmd, Sudo: sudo}
		}
		return out
	}
}

// EachNode runs fn on every node in parallel; the checks each node's fn
// reports are held and then reported in node order, so that output reads
// the same from one run to the next.
func EachNode(rc *RunContext, nodes []string, fn func(rc *RunContext, node string)) {
	held := make([][]CheckResult, len(nodes))
	Parallel(nodes, func(i int, n string) error { //nolint:errcheck // fn reports through checks, never an error
		sub := *rc
		sub.held = &held[i]
		fn(&sub, n)
		return nil
	})
	for _, rs := range held {
		for _, r := range rs {
			rc.Check(r)
		}
	}
}

// Stdout runs cmd on node and returns what it printed on stdout; stderr
// is not reported (the executor keeps its last lines for the error).
func (rc *RunContext) Stdout(ctx context.Context, node, cmd string, sudo bool) (string, error) {
	var b strings.Builder
	_, err := rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: sudo, Stdout: &b, Stderr: io.Discard})
	return b.String(), err
}
