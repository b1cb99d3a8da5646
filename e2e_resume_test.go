package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/steps"
)

// restoreJSON runs `hotsnap restore ID --yes --confirm lab --json`, calling
// onEvent for each event; it returns the exit code, the run ID, the events
// and stderr.
func restoreJSON(t *testing.T, l *lab.Lab, id string, onEvent func(ev map[string]any, cmd *exec.Cmd)) (int, string, []map[string]any, string) {
	t.Helper()
	var runID string
	code, events, stderr := jsonRun(t, l, []string{"restore", id, "--yes", "--confirm", "lab", "--json"}, func(ev map[string]any, cmd *exec.Cmd) {
		if ev["event"] == "run_started" {
			runID, _ = ev["run"].(string)
		}
		if onEvent != nil {
			onEvent(ev, cmd)
		}
	})
	if runID == "" {
		t.Fatalf("no run_started event (exit %d):\n%s", code, stderr)
	}
	return code, runID, events, stderr
}

// damageAll drops the keyspace, deletes the index and the attachments.
func damageAll(t *testing.T, l *lab.Lab) {
	t.Helper()
	nodeSh(t, l, "node1", "cqlsh "+l.Nodes[0].IP+" -e 'DROP KEYSPACE IF EXISTS thehive' && curl -s -XDELETE 127.0.0.1:9200/thehive_global >/dev/null && rm -rf /opt/thp/thehive/files/*")
}

func theHiveState(t *testing.T, l *lab.Lab, node string) string {
	t.Helper()
	return strings.TrimSpace(nodeSh(t, l, node, "systemctl is-active thehive || true"))
}

func hasEvent(events []map[string]any, match func(ev map[string]any) bool) bool {
	for _, ev := range events {
		if match(ev) {
			return true
		}
	}
	return false
}

// TestE2EResumeRestore: a restore that loses node2 while loading, and one
// cancelled while Elasticsearch recovers, are both completed by `hotsnap
// resume` — which re-checks the cluster first, never repeats a finished
// destructive step, and refuses what it must not continue.
func TestE2EResumeRestore(t *testing.T) {
	l := needLab(t)
	before := readAppState(t, l)
	if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	resume := func(runID string) (string, error) {
		out, err := hotsnapInOp(t.Context(), l, "resume", runID, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
		return string(out), err
	}

	t.Run("node2 lost during loading", func(t *testing.T) {
		damageAll(t, l)
		killed := false
		code, runID, events, stderr := restoreJSON(t, l, id, func(ev map[string]any, _ *exec.Cmd) {
			// The SSTables are staged (while TheHive still runs); node2 is
			// lost as the keyspace step starts loading them.
			if !killed && ev["event"] == "step_started" && ev["step"] == "cassandra" {
				killed = true
				killNodeSSHD(t, l, "node2")
			}
		})
		restarted := false
		defer func() {
			if !restarted {
				l.RestartSSHD(context.Background(), "node2") //nolint:errcheck // best effort after a failure
			}
		}()
		if !killed || code != exitFailed || !strings.Contains(stderr, "node2") {
			t.Fatalf("killed=%v exit %d, want %d naming node2:\n%s", killed, code, exitFailed, stderr)
		}
		if !hasEvent(events, func(ev map[string]any) bool {
			line, _ := ev["line"].(string)
			return ev["event"] == "output" && ev["step"] == "stop-thehive" && strings.Contains(line, "TheHive stays stopped") && strings.Contains(line, "hotsnap resume "+runID)
		}) {
			t.Errorf("the cleanup did not say TheHive stays stopped and how to resume")
		}
		if st := theHiveState(t, l, "node1"); st != "inactive" {
			t.Errorf("TheHive on node1 is %q after a half-done restore, want inactive", st)
		}

		// node2 still down: resume re-checks and stops before changing anything.
		out, err := resume(runID)
		if err == nil || !strings.Contains(out, "node2") || strings.Contains(out, steps.SuccessLine) {
			t.Fatalf("resume with node2 still down: %v\n%s", err, out)
		}
		// That attempt is now the one to continue; the first run points to it.
		out, _ = resume(runID)
		m := regexp.MustCompile(`continued by run (\S+), which knows what was done since: hotsnap resume (\S+)`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] {
			t.Fatalf("resuming the first run again should point to the failed resume:\n%s", out)
		}
		runID = m[1]
		if st := theHiveState(t, l, "node1"); st != "inactive" {
			t.Errorf("TheHive on node1 is %q after a failed resume, want inactive (the data is half restored)", st)
		}

		if err := l.RestartSSHD(context.Background(), "node2"); err != nil {
			t.Fatal(err)
		}
		restarted = true
		out, err = resume(runID)
		if err != nil || !strings.Contains(out, steps.SuccessLine) {
			t.Fatalf("resume after node2 returned: %v\n%s", err, out)
		}
		before.equal(t, readAppState(t, l))
		theHiveHealthy(t, l)
	})

	t.Run("cancelled during the Elasticsearch restore", func(t *testing.T) {
		damageAll(t, l)
		esState := filepath.Join(l.StateDir, "shared", "es-state")
		nodeSh(t, l, "node1", "es-standin fault --state "+esState+" --recovery-rate 100KB")
		defer nodeSh(t, l, "node1", "es-standin fault --state "+esState+" --recovery-rate auto")
		sent := false
		code, runID, events, stderr := restoreJSON(t, l, id, func(ev map[string]any, cmd *exec.Cmd) {
			if !sent && ev["event"] == "progress" && ev["step"] == "elasticsearch" {
				sent = true
				cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // the exit code tells
			}
		})
		if !sent || code != exitAborted {
			t.Fatalf("sent=%v exit %d, want %d:\n%s", sent, code, exitAborted, stderr)
		}
		if !hasEvent(events, func(ev map[string]any) bool {
			return ev["event"] == "cleanup" && ev["step"] == "elasticsearch" && ev["error"] == nil
		}) || !hasEvent(events, func(ev map[string]any) bool {
			line, _ := ev["line"].(string)
			return ev["event"] == "output" && strings.Contains(line, "cancelled the unfinished restore of") && strings.Contains(line, "thehive_global")
		}) {
			t.Errorf("no cleanup cancelling the Elasticsearch restore in the events:\n%v", events[max(0, len(events)-15):])
		}
		if got := nodeSh(t, l, "node1", "curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:9200/thehive_global"); got != "404" {
			t.Errorf("the half-restored index is still there after the cleanup (HTTP %s)", got)
		}
		nodeSh(t, l, "node1", "es-standin fault --state "+esState+" --recovery-rate auto")

		out, err := resume(runID)
		if err != nil || !strings.Contains(out, steps.SuccessLine) {
			t.Fatalf("resume: %v\n%s", err, out)
		}
		if !strings.Contains(out, "finished in run "+runID+": not repeated") || !strings.Contains(out, "restored by the earlier run, not repeated: cassandra (run "+runID+")") {
			t.Errorf("the keyspace, restored by the cancelled run, should not be restored again:\n%s", out)
		}
		before.equal(t, readAppState(t, l))
		theHiveHealthy(t, l)

		// Nothing left to resume: the run was completed by the resume.
		out, err = resume(runID)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || !strings.Contains(out, "was completed by run") {
			t.Errorf("resuming run %s again: %v\n%s", runID, err, out)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		out, err := hotsnapInOp(t.Context(), l, "resume", "not-a-run").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is not a run ID") {
			t.Errorf("bogus run ID: %v\n%s", err, out)
		}
		out, err = hotsnapInOp(t.Context(), l, "resume", "20200101-000000-abcdef").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no journal of run 20200101-000000-abcdef") {
			t.Errorf("unknown run: %v\n%s", err, out)
		}
	})
}

// TestE2EResumeBackup: a backup killed mid-transfer (no cleanup: SIGKILL)
// leaves its snapshots on the nodes; resume clears them and takes the backup
// again under the same ID, which then verifies.
func TestE2EResumeBackup(t *testing.T) {
	l := needLab(t)
	// Restores leave Cassandra's own auto-snapshots (dropped-*, truncated-*):
	// only hotsnap's tags matter here.
	tags := func(node string) map[string]bool {
		out := map[string]bool{}
		for _, f := range strings.Fields(nodeSh(t, l, node, "nodetool listsnapshots")) {
			if strings.HasPrefix(f, "hotsnap-") {
				out[f] = true
			}
		}
		return out
	}
	before := tags("node1")
	var runID string
	killed := false
	code, _, stderr := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
		if ev["event"] == "run_started" {
			runID, _ = ev["run"].(string)
		}
		if !killed && ev["event"] == "step_started" && ev["step"] == "stream" {
			killed = true
			cmd.Process.Kill() //nolint:errcheck // the exit code tells
		}
	})
	if !killed || code != -1 {
		t.Fatalf("killed=%v exit %d, want killed by a signal:\n%s", killed, code, stderr)
	}
	var left string
	for tag := range tags("node1") {
		if !before[tag] {
			left = tag
		}
	}
	if left == "" {
		t.Fatal("a killed backup should have left its snapshot on node1 (no cleanup ran)")
	}
	// The killed run's lock stays on node1 and in the repository; the next
	// run finds it, names it, and takes it over only behind the gate.
	if c, r := lockLeft(t, l); !strings.Contains(c, `"run":"`+runID+`"`) || !strings.Contains(r, `"run":"`+runID+`"`) {
		t.Fatalf("the killed run's lock should stay: node1 %q, repository %q", c, r)
	}
	out, err := hotsnapInOp(t.Context(), l, "resume", runID, "--yes", "--no-tui").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Take over the lock of run "+runID) || !strings.Contains(string(out), "pass --take-over-lock") ||
		!strings.Contains(string(out), "is gone") {
		t.Fatalf("resume without --take-over-lock should stop at the gate, naming the killed run and the flag: %v\n%s", err, out)
	}
	// The refused run continues the killed one: the resume named is its.
	next := regexp.MustCompile(`hotsnap resume (\S+)`).FindStringSubmatch(string(out))
	if next == nil {
		t.Fatalf("the refused resume names no run to resume:\n%s", out)
	}
	// Another backup, taken between the kill and the resume, takes the
	// lock over behind the gate; the journal says whose it was.
	out, err = hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui", "--take-over-lock").CombinedOutput()
	if err != nil {
		t.Fatalf("a backup with --take-over-lock: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`=== ✓ Backup (\S+) complete`).FindStringSubmatch(string(out))
	if m == nil || m[1] == left {
		t.Fatalf("the backup between names no new backup:\n%s", out)
	}
	between := m[1]
	journal := regexp.MustCompile(`journal: (\S+)`).FindStringSubmatch(string(out))
	if journal == nil {
		t.Fatalf("no journal named:\n%s", out)
	}
	b, err := os.ReadFile(journal[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"step":"lock-take-over","approved":true,"by":"--take-over-lock","choice":"take-over"`, `"check":"lock taken over"`, "was held by run " + runID} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the journal does not record the takeover (%s):\n%s", want, b)
		}
	}
	out, err = hotsnapInOp(t.Context(), l, "resume", next[1], "--yes", "--no-tui").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "=== ✓ Backup "+left+" complete") || !strings.Contains(string(out), "taking backup "+left+" again") {
		t.Fatalf("resume should take backup %s again under the same ID: %v\n%s", left, err, out)
	}
	// The resumed backup keeps the killed run's time in its ID, older than
	// the backup taken between: list orders by when the data was taken,
	// so it comes first (newest), and says it was resumed.
	list := hotsnapOK(t, l, "list")
	iLeft, iBetween := strings.Index(list, "\n"+left+" "), strings.Index(list, "\n"+between+" ")
	if iLeft < 0 || iBetween < 0 || iLeft > iBetween || !strings.Contains(list, "(resumed: its ID keeps the first run's time") {
		t.Errorf("list should show the resumed %s (taken last) above %s, saying it was resumed:\n%s", left, between, list)
	}
	if c, r := lockLeft(t, l); c != "" || r != "" {
		t.Errorf("the resumed backup left the lock: node1 %q, repository %q", c, r)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		if tags(n)[left] {
			t.Errorf("%s: snapshot %s left after the resumed backup", n, left)
		}
	}
	if out, err := hotsnapInOp(t.Context(), l, "verify", left).CombinedOutput(); err != nil {
		t.Errorf("verify %s: %v\n%s", left, err, out)
	}
	out, err = hotsnapInOp(t.Context(), l, "resume", next[1], "--yes", "--no-tui").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "was completed by run") {
		t.Errorf("resuming the killed backup again: %v\n%s", err, out)
	}
}
