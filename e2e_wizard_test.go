package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
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

// cursorTo presses Down, at most n times, until the backup picker's cursor
// is on backup id, then waits for that and every one of want, and returns
// the pane.
func (s *tmuxSession) cursorTo(id string, n int, want ...string) string {
	s.t.Helper()
	for i := 0; i < n && !strings.Contains(s.pane(), "› ✓ "+id); i++ {
		s.keys("Down")
		time.Sleep(100 * time.Millisecond)
	}
	return s.waitPane(5*time.Second, append([]string{"› ✓ " + id}, want...)...)
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// startTmux runs the shell line in a tmux session called name (120x40) on
// a server socket of the test's own, killed when the test ends.
func startTmux(t *testing.T, name, line string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the terminal e2e tests: %v", err)
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("hotsnap-e2e-%d-%s-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"), name), name: name}
	if out, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", line); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })
	return s
}

// startWizard runs the wizard against the lab in a tmux session of its own
// (120x40), killed when the test ends.
func startWizard(t *testing.T, l *lab.Lab) *tmuxSession {
	t.Helper()
	op := l.OpCommand(t.Context(), e2e.bin) // ip netns exec <op> BIN
	return startTmux(t, "wizard", fmt.Sprintf("env HOTSNAP_INVENTORY=%s TERM=xterm-256color %s; sleep 30", shellQuote([]string{l.InventoryPath()}), shellQuote(op.Args)))
}

// TestE2EWizardInTmux drives the wizard as an operator would, in a real
// terminal (tmux, 120×40) inside the lab's op namespace: preflight to the
// end; a backup through the plan review (with its estimate) and the gate to
// the summary; then a restore of that backup through the picker (an
// incomplete backup shown but not selectable), the verification and
// topology results, both gates (the cluster name typed) and the summary
// with "Successful full restore".
func TestE2EWizardInTmux(t *testing.T) {
	l := needLab(t)
	s := startWizard(t, l)
	home := s.waitPane(20*time.Second, "What do you want to do?", "Back up now", "Preflight only", "node1")
	if !strings.Contains(home, "Restore a backup") || strings.Contains(home, "not available") {
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
	plan := s.waitPane(30*time.Second, "Plan review: backup", "gates: 2, destructive steps: 0")
	if !strings.Contains(plan, "$ ") {
		t.Errorf("plan review shows no command:\n%s", plan)
	}
	// The estimate is measured on the nodes in the background.
	plan = s.waitPane(30*time.Second, "to copy: Cassandra", "time: ")
	// The estimate wraps where its numbers make it: compare word by word.
	words := " " + strings.Join(strings.Fields(plan), " ") + " "
	for _, want := range []string{" node1 ", " node2 ", " node3 ", " attachments ", " Elasticsearch "} {
		if !strings.Contains(words, want) {
			t.Errorf("the estimate lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "cannot measure") {
		t.Errorf("the estimate could not measure something on the lab:\n%s", plan)
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
	id := regexp.MustCompile(`Backup (hotsnap-\d{8}-\d{6}-[0-9a-f]{4})`).FindStringSubmatch(sum)
	if id == nil {
		t.Fatalf("no backup ID in the summary:\n%s", sum)
	}

	// Restore it through the picker. An incomplete backup (no manifest) is
	// listed with its reason and cannot be selected.
	dead := filepath.Join(l.BackupsPath(), "hotsnap-20200101-000000-dead")
	if err := os.MkdirAll(filepath.Join(dead, "cassandra"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dead) })
	if err := os.WriteFile(filepath.Join(dead, "cassandra", "part.tar"), []byte("half an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.keys("Enter")
	s.waitPane(10*time.Second, "What do you want to do?")
	s.keys("5")
	pick := s.waitPane(30*time.Second, "Restore: pick a backup", "✗ hotsnap-20200101-000000-dead", "incomplete: no manifest.json")
	if !regexp.MustCompile(`› ✓ hotsnap-`).MatchString(pick) || strings.Contains(pick, "› ✗") {
		t.Errorf("the cursor should be on a complete backup:\n%s", pick)
	}
	// Walk the cursor to the backup just taken (the list is newest first,
	// other tests may have added backups).
	s.cursorTo(id[1], 20)
	s.keys("Enter")
	plan = s.waitPane(30*time.Second, "Plan review: restore", "Backup "+id[1]+" · taken")
	if !regexp.MustCompile(`gates: 3, destructive steps: [1-9]`).MatchString(plan) {
		t.Errorf("the restore plan counts no destructive step:\n%s", plan)
	}
	s.keys("Enter")
	gate = s.waitPane(90*time.Second, "GATE: Stop TheHive on every node", "On nodes")
	for _, want := range []string{"Restore of " + id[1], "verified: ✓ backup files", "topology: ✓", "loading with import", "← backup of node1"} {
		if !strings.Contains(gate, want) {
			t.Errorf("the first gate does not show the verification and topology (%q):\n%s", want, gate)
		}
	}
	s.keys("y")
	gate = s.waitPane(60*time.Second, "DESTRUCTIVE GATE", "What is lost", "Type the cluster name (lab)")
	if !strings.Contains(gate, "keyspace thehive") {
		t.Errorf("the destructive gate does not say what is lost:\n%s", gate)
	}
	s.keys("l", "a", "b")
	s.keys("Enter")
	var sawComponents bool
	deadline = time.Now().Add(180 * time.Second)
	for time.Now().Before(deadline) {
		last = s.pane()
		if strings.Contains(last, "Progress") && strings.Contains(last, "cassandra ") {
			sawComponents = true
		}
		if strings.Contains(last, "✓ SUCCESS") || strings.Contains(last, "✗ FAILED") || strings.Contains(last, "⊘ ABORTED") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sawComponents {
		t.Errorf("never saw the per-component progress of the restore; last pane:\n%s", last)
	}
	sum = s.waitPane(5*time.Second, "✓ SUCCESS", "Successful full restore")
	for _, want := range []string{"Backup " + id[1], "Cassandra: keyspace thehive restored with import", "Elasticsearch:", "Attachments:", "TheHive: healthy on node1",
		"keyspace loaded with nodetool import", "Next: open TheHive"} {
		if !strings.Contains(sum, want) {
			t.Errorf("restore summary lacks %q:\n%s", want, sum)
		}
	}
	s.keys("q")
	theHiveHealthy(t, l)
}
