package runbooks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/host"
)

// shExec runs the node's commands with this machine's sh, the lock file
// moved into dir (sudo is left out: the test owns dir).
type shExec struct{ dir string }

func (x shExec) Run(ctx context.Context, node string, cmd remote.Command) (remote.Result, error) {
	c := exec.CommandContext(ctx, "sh", "-c", strings.ReplaceAll(cmd.Cmd, host.LockFile, filepath.Join(x.dir, "lock")))
	c.Stdin = cmd.Stdin
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if cmd.Stdout != nil {
		c.Stdout = cmd.Stdout
	}
	if cmd.Stderr != nil {
		c.Stderr = cmd.Stderr
	}
	err := c.Run()
	res := remote.Result{Node: node, ExitCode: c.ProcessState.ExitCode()}
	if cmd.OnLine != nil {
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			cmd.OnLine(remote.Line{Node: node, Text: l})
		}
	}
	return res, err
}

type lockBed struct {
	t     *testing.T
	node  string // the node's directory
	store repo.Store
	gone  bool // what Gone says of every holder
	ended bool
}

func newLockBed(t *testing.T) *lockBed {
	st, err := repo.Open(t.Context(), t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &lockBed{t: t, node: t.TempDir(), store: st}
}

// run runs a backup runbook of one step (body) under the lock as run id.
func (b *lockBed) run(id string, policy steps.GatePolicy, body func(ctx context.Context) error) (steps.RunSummary, error) {
	rb := steps.Runbook{Name: "backup", Cluster: "c", Steps: []steps.Step{{ID: "work", Title: "work", Kind: steps.KindAction,
		Run: func(ctx context.Context, _ *steps.RunContext) error { return body(ctx) }}}}
	h := ThisRun(id, "backup", "c", time.Now())
	rb = WithLock(rb, LockOptions{Holder: h, Node: "node1",
		OpenRepo: func(context.Context) (repo.Store, func(), error) { return b.store, func() {}, nil },
		Gone: func(Holder) (bool, string) {
			if b.gone {
				return true, "its process is gone"
			}
			return false, "its process still runs on this machine"
		},
		Ended: func(Holder) bool { return b.ended }})
	var sum steps.RunSummary
	rep := &tap{sum: &sum}
	err := (&steps.Engine{Exec: shExec{b.node}, Reporter: rep, Gates: policy}).Run(b.t.Context(), rb)
	return sum, err
}

type tap struct {
	steps.NopReporter
	sum *steps.RunSummary
}

func (t *tap) RunFinished(s steps.RunSummary) { *t.sum = s }

// locks returns the node's and the repository's lock ("" when absent).
func (b *lockBed) locks() (string, string) {
	n, _ := os.ReadFile(filepath.Join(b.node, "lock"))
	r, _ := os.ReadFile(filepath.Join(b.store.String(), LockPath))
	return string(n), string(r)
}

func nothing(context.Context) error { return nil }

func TestLockRefusesASecondRunAndIsReleased(t *testing.T) {
	b := newLockBed(t)
	held, release := make(chan struct{}), make(chan struct{})
	errA := make(chan error, 1)
	go func() {
		_, err := b.run("run-a", steps.GatePolicy{}, func(context.Context) error { close(held); <-release; return nil })
		errA <- err
	}()
	<-held
	_, err := b.run("run-b", steps.GatePolicy{Yes: true, Choices: map[string]string{LockTakeOverGate: "take-over"}}, nothing)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "run run-a (backup)") || !strings.Contains(err.Error(), "still runs") {
		t.Fatalf("a second run beside a running one: %v, want ErrLocked naming run-a", err)
	}
	if n, r := b.locks(); !strings.Contains(n, `"run":"run-a"`) || !strings.Contains(r, `"run":"run-a"`) {
		t.Fatalf("the refused run touched run-a's lock: %q %q", n, r)
	}
	close(release)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if n, r := b.locks(); n != "" || r != "" {
		t.Fatalf("lock left after success: %q %q", n, r)
	}
	// Released on failure too (the first step's cleanup).
	if _, err := b.run("run-c", steps.GatePolicy{}, func(context.Context) error { return errors.New("boom") }); err == nil {
		t.Fatal("want the failure")
	}
	if n, r := b.locks(); n != "" || r != "" {
		t.Fatalf("lock left after a failure: %q %q", n, r)
	}
}

// stale leaves the lock of a run that was killed.
func (b *lockBed) stale(host string) {
	h := ThisRun("run-dead", "restore", "c", time.Now())
	if host != "" {
		h.Host = host
	}
	data := []byte(`{"run":"run-dead","runbook":"restore","host":"` + h.Host + `","user":"u","pid":1,"token":"dead"}` + "\n")
	if err := os.WriteFile(filepath.Join(b.node, "lock"), data, 0o600); err != nil {
		b.t.Fatal(err)
	}
	if err := repo.CreateOnce(b.t.Context(), b.store, LockPath, data); err != nil {
		b.t.Fatal(err)
	}
}

func TestLockOfAGoneRunIsTakenOverOnlyBehindTheGate(t *testing.T) {
	for _, other := range []string{"", "elsewhere"} {
		b := newLockBed(t)
		b.gone = other == ""
		b.stale(other)
		ran := false
		_, err := b.run("run-b", steps.GatePolicy{Yes: true, Confirm: "c"}, func(context.Context) error { ran = true; return nil })
		if !errors.Is(err, steps.ErrGateDeclined) || !strings.Contains(err.Error(), "--take-over-lock") || !strings.Contains(err.Error(), "run-dead") || ran {
			t.Fatalf("host %q: --yes --confirm must not take a lock over: %v (ran %v)", other, err, ran)
		}
		if n, r := b.locks(); !strings.Contains(n, `"token":"dead"`) || !strings.Contains(r, `"token":"dead"`) {
			t.Fatalf("host %q: the refused run changed the lock: %q %q", other, n, r)
		}
		sum, err := b.run("run-b", steps.GatePolicy{Choices: map[string]string{LockTakeOverGate: "take-over"}}, func(context.Context) error { ran = true; return nil })
		if err != nil || !ran {
			t.Fatalf("host %q: --take-over-lock: %v", other, err)
		}
		var took []string
		for _, c := range sum.Checks {
			if c.Check == "lock taken over" {
				took = append(took, c.Evidence)
			}
		}
		if len(took) != 2 || !strings.Contains(took[0], "run run-dead (restore)") {
			t.Errorf("host %q: the takeover is not recorded for both locks: %q", other, took)
		}
		if n, r := b.locks(); n != "" || r != "" {
			t.Fatalf("host %q: lock left after the run: %q %q", other, n, r)
		}
	}
}

func TestLockOfAnEndedRunIsTakenOverWithoutAsking(t *testing.T) {
	b := newLockBed(t)
	b.stale("")
	b.ended = true
	sum, err := b.run("run-b", steps.GatePolicy{}, nothing)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Checks) != 2 || !strings.Contains(sum.Checks[0].Evidence, "ended") {
		t.Errorf("the takeover of an ended run's lock is not recorded: %+v", sum.Checks)
	}
}

func TestCreateOnceHasOneWinner(t *testing.T) {
	st, err := repo.Open(t.Context(), t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() { errs <- repo.CreateOnce(t.Context(), st, "x/lock", []byte{byte(i)}) }()
	}
	won := 0
	for range 8 {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errors.Is(err, os.ErrExist):
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d winners", won)
	}
}
