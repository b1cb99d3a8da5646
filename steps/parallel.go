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
	r := rc.stdoutResult(ctx, node, cmd, sudo)
	return r.Stdout, r.Err
}

// stdoutResult is Stdout's run of cmd with everything it found.
func (rc *RunContext) stdoutResult(ctx context.Context, node, cmd string, sudo bool) remote.EachResult {
	var b strings.Builder
	res, err := rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: sudo, Stdout: &b, Stderr: io.Discard})
	return remote.EachResult{Result: res, Stdout: b.String(), Err: err}
}

// eachRunner is an Executor that runs several short commands in one SSH
// session (remote.Pool): one login and one sudo for all of them.
type eachRunner interface {
	RunEach(ctx context.Context, node string, cmds []string, sudo, andThen bool) []remote.EachResult
}

// StdoutEach runs cmds on node one after another and returns, for each,
// what it printed on stdout and its error, as Stdout would; every command
// runs even when one before it failed. An executor that can (remote.Pool)
// runs them in one SSH session, which costs the node one login and one sudo
// instead of one per command. Each command is journaled as its own.
func (rc *RunContext) StdoutEach(ctx context.Context, node string, sudo bool, cmds ...string) []remote.EachResult {
	return rc.stdoutBatch(ctx, node, sudo, false, cmds)
}

// StdoutThen is StdoutEach where a command runs only when the one before
// it succeeded (the shell's &&); those not run carry remote.ErrNotRun.
func (rc *RunContext) StdoutThen(ctx context.Context, node string, sudo bool, cmds ...string) []remote.EachResult {
	return rc.stdoutBatch(ctx, node, sudo, true, cmds)
}

// StdoutAll runs cmds on node at once, each in its own session, and
// returns their results in order, as StdoutEach does. For commands slow to
// start, where one after another in one session would add up: each
// nodetool is a JVM start on a real node (a second or two).
func (rc *RunContext) StdoutAll(ctx context.Context, node string, sudo bool, cmds ...string) []remote.EachResult {
	out := make([]remote.EachResult, len(cmds))
	Parallel(cmds, func(i int, c string) error { //nolint:errcheck // kept per command in out
		out[i] = rc.stdoutResult(ctx, node, c, sudo)
		return nil
	})
	return out
}

func (rc *RunContext) stdoutBatch(ctx context.Context, node string, sudo, andThen bool, cmds []string) []remote.EachResult {
	er, ok := rc.e.Exec.(eachRunner)
	if !ok {
		out := make([]remote.EachResult, len(cmds))
		failed := false
		for i, c := range cmds {
			if failed {
				out[i] = remote.EachResult{Result: remote.Result{Node: node, Cmd: c, ExitCode: -1}, Err: &remote.NodeError{Node: node, Step: "run `" + c + "`", Err: remote.ErrNotRun}}
				continue
			}
			out[i] = rc.stdoutResult(ctx, node, c, sudo)
			failed = andThen && out[i].Err != nil
		}
		return out
	}
	out := er.RunEach(ctx, node, cmds, sudo, andThen)
	for _, r := range out {
		if !errors.Is(r.Err, remote.ErrNotRun) {
			rc.journalCommand(node, r.Cmd, sudo, r.Result, r.Err)
		}
	}
	return out
}
