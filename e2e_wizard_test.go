package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a detached tmux session on a private server socket, so the
// test never touches anyone else's tmux.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func (s *tmuxSession) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	return string(out), err
}

func (s *tmuxSession) pane() string {
	out, err := s.tmux("capture-pane", "-p", "-t", s.name)
	if err != nil {
		s.t.Logf("capture-pane: %v: %s", err, out)
	}
	return out
}

func (s *tmuxSession) keys(keys ...string) {
	if out, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("send-keys %v: %v: %s", keys, err, out)
	}
}

// waitPane waits until the pane shows every one of want, and returns it.
func (s *tmuxSession) waitPane(d time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	var p string
	for time.Now().Before(deadline) {
		p = s.pane()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(p, w)
		}
		if ok {
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("the pane never showed %q; last capture:\n%s", want, p)
	return ""
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// TestE2EWizardInTmux drives the wizard as an operator would, in a real
// terminal (tmux, 120×40) inside the lab's op namespace: preflight to the
// end, then a backup through the plan review and the gate to the summary.
func TestE2EWizardInTmux(t *testing.T) {
	l := needLab(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the wizard e2e test: %v", err)
	}
	op := l.OpCommand(t.Context(), e2e.bin) // ip netns exec <op> BIN
	line := fmt.Sprintf("env HOTSNAP_INVENTORY=%s TERM=xterm-256color %s; sleep 30", shellQuote([]string{l.InventoryPath()}), shellQuote(op.Args))
	s := &tmuxSession{t: t, socket: fmt.Sprintf("hotsnap-e2e-%d", os.Getpid()), name: "wizard"}
	if out, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", line); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })

	home := s.waitPane(20*time.Second, "What do you want to do?", "Back up now", "Preflight only", "node1")
	if !strings.Contains(home, "Restore the newest backup") || strings.Contains(home, "not available") {
		t.Errorf("home should offer every operation, restore included:\n%s", home)
	}

	// Preflight: the checklist fills in, then the run finishes.
	s.keys("2")
	p := s.waitPane(60*time.Second, "Checks (finished)")
	for _, want := range []string{"✓ PASS", "node1", "node2", "node3", "0 fail"} {
		if !strings.Contains(p, want) {
			t.Errorf("preflight pane lacks %q:\n%s", want, p)
		}
	}
	s.keys("Tab")
	s.waitPane(10*time.Second, "✓ SUCCESS", "preflight finished")
	s.keys("Enter")
	s.waitPane(10*time.Second, "What do you want to do?")

	// Backup: plan review, the gate, progress, the summary.
	s.keys("1")
	plan := s.waitPane(30*time.Second, "Plan review: backup", "gates: 1, destructive steps: 0")
	if !strings.Contains(plan, "$ ") {
		t.Errorf("plan review shows no command:\n%s", plan)
	}
	s.keys("Enter")
	gate := s.waitPane(60*time.Second, "GATE: Start the backup", "What happens", "On nodes")
	if !strings.Contains(gate, "node1, node2, node3") {
		t.Errorf("the gate does not name the nodes:\n%s", gate)
	}
	s.keys("y")
	var sawProgress bool
	deadline := time.Now().Add(120 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		last = s.pane()
		if strings.Contains(last, "Progress · ") || strings.Contains(last, "running") {
			sawProgress = true
		}
		if strings.Contains(last, "✓ SUCCESS") || strings.Contains(last, "✗ FAILED") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sawProgress {
		t.Errorf("never saw the run in progress; last pane:\n%s", last)
	}
	sum := s.waitPane(5*time.Second, "✓ SUCCESS", "Backup hotsnap-")
	for _, want := range []string{"cassandra", "elasticsearch", "total", "snapshot start skew", "Next: copy it off-site", "hotsnap verify"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	s.keys("q")
}
