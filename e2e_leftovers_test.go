package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps/host"
)

// esSnapshots returns the lab's Elasticsearch snapshots (name → state) in
// its repository thehive_repository.
func esSnapshots(t *testing.T, l *lab.Lab) map[string]string {
	t.Helper()
	return esSnapshotsIn(t, l, "thehive_repository")
}

// esSnapshotsIn returns the Elasticsearch snapshots (name → state) in the
// lab's repository esRepo.
func esSnapshotsIn(t *testing.T, l *lab.Lab, esRepo string) map[string]string {
	t.Helper()
	out := nodeSh(t, l, "node1", "curl -sf '127.0.0.1:9200/_cat/snapshots/"+esRepo+"?h=id,status'")
	snaps := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			snaps[f[0]] = f[1]
		}
	}
	return snaps
}

// runOf returns the run ID of a run's JSON events.
func runOf(events []map[string]any) string {
	for _, ev := range events {
		if ev["event"] == "run_started" {
			id, _ := ev["run"].(string)
			return id
		}
	}
	return ""
}

// failedBackupLeftNothing checks what a failed or cancelled backup (run)
// left, against what was there before it (folders of the repository dir,
// the ES snapshots): no Cassandra snapshot on nodes, no new ES
// snapshot, no manifest, and its folder in the repository — it exists
// from before the first snapshot — listed INCOMPLETE naming the run.
func failedBackupLeftNothing(t *testing.T, l *lab.Lab, inventory, dir string, before map[string]bool, esBefore map[string]string, run string, nodes ...string) {
	t.Helper()
	for _, n := range nodes {
		if left := snapshotsLeft(t, l, n); left != "" {
			t.Errorf("%s: Cassandra snapshots left:\n%s", n, left)
		}
	}
	for name, state := range esSnapshots(t, l) {
		if _, ok := esBefore[name]; !ok {
			t.Errorf("the Elasticsearch snapshot %s (%s) was left behind", name, state)
		}
	}
	var added []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if _, seen := before[e.Name()]; seen || !e.IsDir() || repo.CheckID(e.Name()) != nil {
			continue
		}
		added = append(added, e.Name())
		if _, err := os.Stat(filepath.Join(dir, e.Name(), repo.ManifestFile)); err == nil {
			t.Errorf("a failed run left a complete manifest: %s", e.Name())
		}
	}
	if len(added) != 1 {
		t.Fatalf("want the failed backup's one folder in %s (it exists before any snapshot starts), got %v", dir, added)
	}
	out := hotsnapOK(t, l, "list", "--inventory", inventory)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, added[0]) && (!strings.Contains(line, "INCOMPLETE") || !strings.Contains(line, "run "+run)) {
			t.Errorf("list does not show %s INCOMPLETE naming run %s:\n%s", added[0], run, out)
		}
	}
	if !strings.Contains(out, added[0]) {
		t.Errorf("list does not show %s:\n%s", added[0], out)
	}
}

// killBackup starts a backup and kills it (SIGKILL: no cleanup runs) as
// it starts streaming; it returns the backup's ID (its folder exists: it is
// opened before any snapshot starts) and run.
func killBackup(t *testing.T, l *lab.Lab) (id, run string) {
	t.Helper()
	before := backupsIn(t, l)
	code, events, _ := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
		if ev["event"] == "step_started" && ev["step"] == "stream" {
			cmd.Process.Kill()
		}
	})
	if code != -1 {
		t.Fatalf("exit %d, want the kill", code)
	}
	for name := range backupsIn(t, l) {
		if _, seen := before[name]; !seen && repo.CheckID(name) == nil {
			id = name
		}
	}
	if id == "" {
		t.Fatal("the killed backup left no folder in the repository")
	}
	run = runOf(events)
	dropLocksOf(t, l, run)
	t.Cleanup(func() { // t.Context() is done by now
		for _, n := range l.Nodes {
			if out, err := nodeCmd(context.Background(), l, n.Name, "nodetool", "clearsnapshot", "-t", id).CombinedOutput(); err != nil {
				t.Errorf("%s: clear %s: %v\n%s", n.Name, id, err, out)
			}
		}
	})
	return id, run
}

// dropLocksOf removes, as the test ends, the locks of killed run (the
// cluster's on node1, the repository's) if no run took them over: the
// tests after it share the lab.
func dropLocksOf(t *testing.T, l *lab.Lab, run string) {
	t.Cleanup(func() { // t.Context() is done by now
		unlock := l.NodeCommand(context.Background(), "node1", "sh", "-c", "grep -qs "+run+" "+host.LockFile+" && rm -f "+host.LockFile+"; true")
		if out, err := unlock.CombinedOutput(); err != nil {
			t.Errorf("node1: remove the killed run's lock: %v\n%s", err, out)
		}
		if b, err := os.ReadFile(filepath.Join(l.BackupsPath(), runbooks.LockPath)); err == nil && strings.Contains(string(b), run) {
			os.Remove(filepath.Join(l.BackupsPath(), runbooks.LockPath))
		}
	})
}

// killedESBackup is a backup (args) of a platform whose only snapshot is
// Elasticsearch's (EclecticIQ, Alien4Cloud) killed with SIGKILL by kill
// (given each event and the command; it returns true once it has killed
// the run), once its snapshot in the repository esRepo started: preflight
// warns (exit 0) of the snapshot left, naming its run and the
// command that clears it; backup --clear-leftovers (taking the killed
// run's lock over) clears it and succeeds; preflight then finds none.
// preflight, when set, is given the killed run and the first preflight's
// events, for the platform's own checks.
func killedESBackup(t *testing.T, l *lab.Lab, esRepo string, kill func(ev map[string]any, cmd *exec.Cmd) bool, preflight func(run string, events []map[string]any), args ...string) {
	t.Helper()
	before := backupsIn(t, l)
	killed := false
	code, events, stderr := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
		if !killed {
			killed = kill(ev, cmd)
		}
	}, args...)
	run := runOf(events)
	dropLocksOf(t, l, run)
	if code != -1 || !killed {
		t.Fatalf("exit %d (killed: %v), want the kill\n%s", code, killed, stderr)
	}
	var id string
	for name := range backupsIn(t, l) {
		if _, seen := before[name]; !seen && repo.CheckID(name) == nil {
			id = name
		}
	}
	if st := esSnapshotsIn(t, l, esRepo)[id]; id == "" || st == "" {
		t.Fatalf("the killed backup %q left no Elasticsearch snapshot in %s: nothing to test", id, esRepo)
	}

	code, events, stderr = jsonRun(t, l, []string{"preflight", "--json"}, nil)
	if code != 0 {
		t.Fatalf("preflight exit %d: leftovers are a warning, not a failure\n%s", code, stderr)
	}
	if got := checkOf(events, "leftover snapshots", "hotsnap's, without a complete backup: "+id); !strings.Contains(got, "warn elasticsearch") ||
		!strings.Contains(got, "run "+run) || !strings.Contains(got, "/_snapshot/"+esRepo+"/"+id) || !strings.Contains(got, "backup --clear-leftovers") {
		t.Errorf("preflight does not warn of the Elasticsearch snapshot %s with its run and the command that clears it:\n%s", id, got)
	}
	if preflight != nil {
		preflight(run, events)
	}

	code, events, stderr = backupRun(t, l, nil, append([]string{"--clear-leftovers", runbooks.TakeOverLockFlag}, args...)...)
	if code != 0 {
		t.Fatalf("backup --clear-leftovers exit %d\n%s", code, stderr)
	}
	if !hasEvent(events, func(ev map[string]any) bool {
		line, _ := ev["line"].(string)
		return ev["event"] == "output" && ev["step"] == "clear-leftovers" && line == "deleted the snapshot "+id
	}) {
		t.Errorf("backup --clear-leftovers did not clear %s", id)
	}
	if st := esSnapshotsIn(t, l, esRepo)[id]; st != "" {
		t.Errorf("the Elasticsearch snapshot %s the killed run left is still there (%s)", id, st)
	}
	_, events, _ = jsonRun(t, l, []string{"preflight", "--json"}, nil)
	if got := checkOf(events, "leftover snapshots", "repository "+esRepo); !strings.HasPrefix(got, "pass elasticsearch") {
		t.Errorf("preflight after the clearing backup:\n%s", got)
	}
}

// killAt is killedESBackup's kill as step starts.
func killAt(step string) func(ev map[string]any, cmd *exec.Cmd) bool {
	return func(ev map[string]any, cmd *exec.Cmd) bool {
		if ev["event"] != "step_started" || ev["step"] != step {
			return false
		}
		cmd.Process.Kill()
		return true
	}
}

// checkOf returns the check events named check whose evidence mentions
// what, joined.
func checkOf(events []map[string]any, check, what string) (found string) {
	for _, ev := range events {
		c, ok := ev["check"].(map[string]any)
		if !ok || c["check"] != check {
			continue
		}
		if ev, _ := c["evidence"].(string); strings.Contains(ev, what) {
			rem, _ := c["remedy"].(string)
			found += fmt.Sprintf("%v %v: %s | %s\n", c["status"], c["node"], ev, rem)
		}
	}
	return found
}

// TestE2EKilledBackup: a backup killed with SIGKILL runs no cleanup. Its
// folder, opened before any snapshot started, is listed INCOMPLETE naming
// the run; preflight warns of its snapshots (size, run, the command that
// clears them) and reports another tool's snapshot without touching it;
// the next backup keeps them unless told to clear them (--clear-leftovers),
// and prune removes the folder with the Elasticsearch snapshot its marker
// names.
func TestE2EKilledBackup(t *testing.T) {
	l := needLab(t)
	// Another tool's snapshot: reported, never touched.
	nodeSh(t, l, "node1", "nodetool snapshot -t before-upgrade thehive >/dev/null")
	defer nodeSh(t, l, "node1", "nodetool clearsnapshot -t before-upgrade thehive >/dev/null")

	a, runA := killBackup(t, l)
	if st := esSnapshots(t, l)[a]; st == "" {
		t.Fatalf("the killed run's Elasticsearch snapshot %s is not there: nothing to test", a)
	}
	if out := hotsnapOK(t, l, "list"); !strings.Contains(out, a) || !strings.Contains(out, "INCOMPLETE") || !strings.Contains(out, "run "+runA) {
		t.Errorf("list does not show %s INCOMPLETE naming run %s:\n%s", a, runA, out)
	}

	// Preflight: a warning per node and for Elasticsearch, not a failure.
	code, events, stderr := jsonRun(t, l, []string{"preflight", "--json"}, nil)
	if code != 0 {
		t.Fatalf("preflight exit %d: leftovers are a warning, not a failure\n%s", code, stderr)
	}
	for _, n := range l.Nodes {
		got := checkOf(events, "leftover snapshots", a)
		if !strings.Contains(got, "warn "+n.Name+":") || !strings.Contains(got, "run "+runA) || !strings.Contains(got, "on disk") ||
			!strings.Contains(got, "nodetool clearsnapshot -t "+a+" thehive") {
			t.Errorf("preflight does not warn of %s on %s with its size, run and command:\n%s", a, n.Name, got)
		}
	}
	if got := checkOf(events, "leftover snapshots", "hotsnap's, without a complete backup: "+a); !strings.Contains(got, "warn elasticsearch") ||
		!strings.Contains(got, "run "+runA) || !strings.Contains(got, "/_snapshot/thehive_repository/"+a) {
		t.Errorf("preflight does not warn of the Elasticsearch snapshot %s with its run and command:\n%s", a, got)
	}
	if got := checkOf(events, "leftover snapshots", "before-upgrade"); !strings.Contains(got, "not hotsnap's, left alone") {
		t.Errorf("preflight does not report the other tool's snapshot as such:\n%s", got)
	}

	// The next backup offers to clear them; --yes keeps them. (The killed
	// run's lock is taken over behind its gate: --take-over-lock.)
	code, events, stderr = backupRun(t, l, nil, "--take-over-lock")
	if code != 0 {
		t.Fatalf("backup exit %d\n%s", code, stderr)
	}
	if !hasEvent(events, func(ev map[string]any) bool {
		return ev["event"] == "gate_decided" && ev["step"] == "leftovers" && ev["choice"] == "keep"
	}) {
		t.Error("the backup did not offer to clear the leftovers (or --yes did not keep them)")
	}
	if !strings.Contains(snapshotsLeft(t, l, "node2"), a) || esSnapshots(t, l)[a] == "" {
		t.Errorf("--yes cleared the leftovers of %s without being told to", a)
	}

	// prune removes the killed backup and the Elasticsearch snapshot its
	// marker names.
	hotsnapOK(t, l, "prune", "--keep-last", "1", "--confirm", "lab", "--no-tui")
	if _, err := os.Stat(filepath.Join(l.BackupsPath(), a)); err == nil {
		t.Errorf("prune left the killed backup %s", a)
	}
	if st := esSnapshots(t, l)[a]; st != "" {
		t.Errorf("prune left the killed backup's Elasticsearch snapshot %s (%s)", a, st)
	}

	// Killed again; the next backup told to clear clears both runs'
	// leftovers, and only hotsnap's.
	b, _ := killBackup(t, l)
	code, events, stderr = backupRun(t, l, nil, "--clear-leftovers", "--take-over-lock")
	if code != 0 {
		t.Fatalf("backup --clear-leftovers exit %d\n%s", code, stderr)
	}
	if !hasEvent(events, func(ev map[string]any) bool {
		return ev["event"] == "gate_decided" && ev["step"] == "leftovers" && ev["choice"] == "clear"
	}) {
		t.Error("--clear-leftovers did not choose to clear at the gate")
	}
	for _, n := range l.Nodes {
		if left := snapshotsLeft(t, l, n.Name); strings.Contains(left, a) || strings.Contains(left, b) {
			t.Errorf("%s: leftovers not cleared:\n%s", n.Name, left)
		}
	}
	if !strings.Contains(snapshotsLeft(t, l, "node1"), "before-upgrade") {
		t.Error("the other tool's snapshot was touched")
	}
	if st := esSnapshots(t, l)[b]; st != "" {
		t.Errorf("the Elasticsearch snapshot %s the killed run left is still there (%s)", b, st)
	}
}
