package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
)

// batching is an executor that runs a RunEach as one call (a session), each
// command through the fake.
type batching struct {
	*remotetest.Fake
	sessions int
}

func (b *batching) RunEach(ctx context.Context, node string, cmds []string, sudo, andThen bool) []remote.EachResult {
	b.sessions++
	out := make([]remote.EachResult, len(cmds))
	for i, c := range cmds {
		if andThen && i > 0 && out[i-1].Err != nil {
			out[i] = remote.EachResult{Result: remote.Result{Node: node, Cmd: c, ExitCode: -1}, Err: remote.ErrNotRun}
			continue
		}
		var s strings.Builder
		res, err := b.Run(ctx, node, remote.Command{Cmd: c, Sudo: sudo, Stdout: &s})
		out[i] = remote.EachResult{Result: res, Stdout: s.String(), Err: err}
	}
	return out
}

// StdoutEach gives each command's stdout and error, in one session where
// the executor can, and journals every command as its own; an executor
// that cannot runs them one by one with the same answers.
func TestStdoutEachAnswersAndJournalsEveryCommand(t *testing.T) {
	for _, batch := range []bool{true, false} {
		f := remotetest.New(t)
		f.Expect("node1", "nodetool version").Stdout("ReleaseVersion: 4.1.3\n").WithSudo(true)
		f.Expect("node1", "tar --version").Exit(127).Stderr("sh: 1: tar: not found\n").WithSudo(true)
		f.Expect("node1", "command -v sstableloader").Stdout("/usr/bin/sstableloader\n").WithSudo(true)
		var ex Executor = f
		b := &batching{Fake: f}
		if batch {
			ex = b
		}
		j, err := OpenJournal(t.TempDir(), "r")
		if err != nil {
			t.Fatal(err)
		}
		var rs []remote.EachResult
		rb := Runbook{Name: "preflight", Steps: []Step{{ID: "tools", Title: "tools", Kind: KindCheck, Run: func(ctx context.Context, rc *RunContext) error {
			rs = rc.StdoutEach(ctx, "node1", true, "nodetool version", "tar --version", "command -v sstableloader")
			return nil
		}}}}
		if err := (&Engine{Exec: ex, Reporter: NopReporter{}, Journal: j}).Run(context.Background(), rb); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if len(rs) != 3 || rs[0].Stdout != "ReleaseVersion: 4.1.3\n" || rs[0].Err != nil || rs[1].Err == nil || rs[1].ExitCode != 127 || rs[2].Stdout != "/usr/bin/sstableloader\n" {
			t.Errorf("batch %v: %+v", batch, rs)
		}
		if batch && b.sessions != 1 {
			t.Errorf("3 commands in %d sessions", b.sessions)
		}
		var cmds []string
		for _, e := range readJournal(t, j.Path) {
			if e.Type == "command" {
				cmds = append(cmds, e.Cmd+" exit "+map[bool]string{true: "set", false: "unset"}[e.Exit != nil])
				if e.Cmd == "tar --version" && (e.Exit == nil || *e.Exit != 127 || !strings.Contains(e.Error, "not found")) {
					t.Errorf("batch %v: the failed command's entry: %+v", batch, e)
				}
			}
		}
		if strings.Join(cmds, ", ") != "nodetool version exit set, tar --version exit set, command -v sstableloader exit set" {
			t.Errorf("batch %v: journaled commands %v", batch, cmds)
		}
	}
}

// StdoutThen stops at the first command that fails: those after it are not
// run (nor journaled) and say so.
func TestStdoutThenStopsAtTheFirstFailure(t *testing.T) {
	for _, batch := range []bool{true, false} {
		f := remotetest.New(t)
		f.Expect("node1", "nodetool status thehive").Exit(1).Stderr("nodetool: Failed to connect to '127.0.0.1:7199'\n")
		var ex Executor = f
		if batch {
			ex = &batching{Fake: f}
		}
		var rs []remote.EachResult
		rb := Runbook{Name: "preflight", Steps: []Step{{ID: "ring", Title: "ring", Kind: KindCheck, Run: func(ctx context.Context, rc *RunContext) error {
			rs = rc.StdoutThen(ctx, "node1", false, "nodetool status thehive", "nodetool describecluster")
			return nil
		}}}}
		if err := (&Engine{Exec: ex, Reporter: NopReporter{}}).Run(context.Background(), rb); err != nil {
			t.Fatal(err)
		}
		if rs[0].Err == nil || !errors.Is(rs[1].Err, remote.ErrNotRun) || rs[1].ExitCode != -1 {
			t.Errorf("batch %v: %+v", batch, rs)
		}
		if n := len(f.Calls()); n != 1 {
			t.Errorf("batch %v: %d commands ran, want 1", batch, n)
		}
	}
}
