package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps/host"
)

// lockLeft returns the cluster's lock file on node1 and the repository's
// lock ("" each when absent).
func lockLeft(t *testing.T, l *lab.Lab) (string, string) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(l.BackupsPath(), runbooks.LockPath))
	return nodeSh(t, l, "node1", "cat "+host.LockFile+" 2>/dev/null || true"), string(b)
}

// TestE2ELockOneRunAtATime: while a backup holds the lock (its process
// stopped as it streams the tables, so that nothing races), a second backup, a
// restore and a prune are each refused before they change anything, naming
// the holder (run, host, PID) and what to do; once the backup ends the lock
// is gone from node1 and the repository, and the prune goes through.
func TestE2ELockOneRunAtATime(t *testing.T) {
	l := needLab(t)
	if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	done := newestBackup(t, l)
	if c, r := lockLeft(t, l); c != "" || r != "" {
		t.Fatalf("a finished backup left its lock: node1 %q, repository %q", c, r)
	}
	// An old, incomplete backup for prune to remove.
	stale := filepath.Join(l.BackupsPath(), "hotsnap-20200101-000000-0a0a")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "schema.cql"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var runID string
	checked := false
	code, _, stderr := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
		if ev["event"] == "run_started" {
			runID, _ = ev["run"].(string)
		}
		// Stopped as it streams the tables: well after the lock is taken.
		if checked || ev["event"] != "step_started" || ev["step"] != "stream" {
			return
		}
		checked = true
		pid := cmd.Process.Pid
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT) //nolint:errcheck // the run's exit code tells
		c, r := lockLeft(t, l)
		for where, lock := range map[string]string{"node1": c, "repository": r} {
			if !strings.Contains(lock, `"run":"`+runID+`"`) || !strings.Contains(lock, `"pid":`+strconv.Itoa(pid)) {
				t.Errorf("%s's lock does not name run %s, PID %d: %q", where, runID, pid, lock)
			}
		}
		before := backupsIn(t, l)
		for _, args := range [][]string{
			{"backup", "--yes", "--no-tui"},
			{"restore", done, "--yes", "--confirm", "lab", "--no-tui"},
			{"prune", "--older-than", "8760h", "--confirm", "lab", "--no-tui"},
			{"backup", "--yes", "--no-tui", "--take-over-lock"}, // a live holder is never taken over
		} {
			out, err := hotsnapInOp(t.Context(), l, args...).CombinedOutput()
			ee, _ := err.(*exec.ExitError)
			if ee == nil || ee.ExitCode() != exitFailed {
				t.Errorf("%v beside a running backup: %v, want exit %d\n%s", args, err, exitFailed, out)
				continue
			}
			for _, want := range []string{"locked by another run", "run " + runID + " (backup)", "PID " + strconv.Itoa(pid), "still runs on this machine", "Wait for it to finish"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("%v beside a running backup: the refusal lacks %q:\n%s", args, want, out)
				}
			}
		}
		if st := theHiveState(t, l, "node1"); st != "active" {
			t.Errorf("TheHive %s after a refused restore", st)
		}
		for id := range backupsIn(t, l) {
			if _, ok := before[id]; !ok {
				t.Errorf("a refused run left %s in the repository", id)
			}
		}
		if _, err := os.Stat(stale); err != nil {
			t.Errorf("a refused prune removed %s", stale)
		}
	})
	if !checked || code != 0 {
		t.Fatalf("the backup holding the lock: checked=%v exit %d\n%s", checked, code, stderr)
	}
	if c, r := lockLeft(t, l); c != "" || r != "" {
		t.Fatalf("the backup left its lock: node1 %q, repository %q", c, r)
	}
	if out, err := hotsnapInOp(t.Context(), l, "prune", "--older-than", "8760h", "--confirm", "lab", "--no-tui").CombinedOutput(); err != nil || !strings.Contains(string(out), "removed "+filepath.Base(stale)) {
		t.Fatalf("prune once the lock is released: %v\n%s", err, out)
	}
}
