package remote

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRunEachOneSessionSameResultsAsRun(t *testing.T) {
	env := newTestEnv(t, true)
	c := env.dial(t)
	cmds := []string{
		"echo a; echo 'to stderr' >&2",
		"printf 'no newline'; echo 'why it failed' >&2; exit 3",
		"cat; echo c", // stdin is /dev/null: cat ends at once
		"echo 'quoted \"$HOME\"' | tr a-z A-Z",
	}
	before := env.srv.execs.Load()
	rs := c.RunEach(context.Background(), cmds, false, false)
	if got := env.srv.execs.Load() - before; got != 1 {
		t.Errorf("%d commands ran in %d sessions, want 1", len(cmds), got)
	}
	want := []struct {
		out  string
		code int
		tail []string
	}{{"a\n", 0, []string{"to stderr"}}, {"no newline", 3, []string{"why it failed"}}, {"c\n", 0, nil}, {"QUOTED \"$HOME\"\n", 0, nil}}
	for i, w := range want {
		r := rs[i]
		if r.Stdout != w.out || r.ExitCode != w.code || strings.Join(r.StderrTail, "|") != strings.Join(w.tail, "|") || r.Cmd != cmds[i] || r.Node != "node1" {
			t.Errorf("command %d: %+v, want stdout %q exit %d stderr %q", i, r, w.out, w.code, w.tail)
		}
		// The error a command alone would have returned.
		_, alone := c.Run(context.Background(), Command{Cmd: cmds[i], Stdout: &strings.Builder{}, Stderr: &strings.Builder{}})
		if (r.Err == nil) != (alone == nil) || r.Err != nil && r.Err.Error() != alone.Error() {
			t.Errorf("command %d: error %v, alone %v", i, r.Err, alone)
		}
	}
	var ee *ExitError
	if !errors.As(rs[1].Err, &ee) || ee.Code != 3 {
		t.Errorf("command 1's error is not an ExitError 3: %#v", rs[1].Err)
	}
}

func TestRunEachCancelledMidway(t *testing.T) {
	env := newTestEnv(t, true)
	c := env.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rs := c.RunEach(ctx, []string{"echo first", "sleep 30", "echo never"}, false, false)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancelled after 0.5 s, returned after %s", d)
	}
	if rs[0].Err != nil || rs[0].Stdout != "first\n" {
		t.Errorf("the command that finished: %+v", rs[0])
	}
	for _, r := range rs[1:] {
		if !errors.Is(r.Err, context.DeadlineExceeded) || !strings.Contains(r.Err.Error(), "run `"+r.Cmd+"`") || r.ExitCode != -1 {
			t.Errorf("%q did not finish, its error should say so: %+v", r.Cmd, r)
		}
	}
}

func TestRunEachAndThenStopsAtTheFirstFailure(t *testing.T) {
	env := newTestEnv(t, true)
	c := env.dial(t)
	rs := c.RunEach(context.Background(), []string{"echo a", "echo no >&2; exit 4", "touch " + env.dir + "/ran"}, false, true)
	if rs[0].Err != nil || rs[1].ExitCode != 4 || !strings.Contains(rs[1].Err.Error(), "exit status 4: no") {
		t.Errorf("first two: %+v %+v", rs[0], rs[1])
	}
	if !errors.Is(rs[2].Err, ErrNotRun) || rs[2].ExitCode != -1 || !strings.Contains(rs[2].Err.Error(), "run `touch") {
		t.Errorf("the third, after a failure: %+v", rs[2])
	}
	if _, err := os.Stat(env.dir + "/ran"); err == nil {
		t.Error("the command after the failure ran")
	}
}
