package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/repo"
)

// esSnapshots returns the lab's Elasticsearch snapshots (name → state) in
// its repository thehive_repository.
func esSnapshots(t *testing.T, l *lab.Lab) map[string]string {
	t.Helper()
	out := nodeSh(t, l, "node1", "curl -sf '127.0.0.1:9200/_cat/snapshots/thehive_repository?h=id,status'")
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
		if _, seen := before[e.Name()]; seen || repo.CheckID(e.Name()) != nil {
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

// foldersIn returns the entries of the repository folder dir.
func foldersIn(dir string) map[string]bool {
	out := map[string]bool{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		out[e.Name()] = true
	}
	return out
}

// TestE2EKilledBackup: a backup killed with SIGKILL runs no cleanup. Its
// folder, opened before any snapshot started, is listed INCOMPLETE naming
// the run; prune removes it and the Elasticsearch snapshot its marker names.
func TestE2EKilledBackup(t *testing.T) {
	l := needLab(t)
	before := backupsIn(t, l)
	code, events, _ := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
		if ev["event"] == "step_started" && ev["step"] == "stream" {
			cmd.Process.Kill()
		}
	})
	if code != -1 {
		t.Fatalf("exit %d, want the kill", code)
	}
	run := runOf(events)
	var id string
	for name := range backupsIn(t, l) {
		if !before[name] && repo.CheckID(name) == nil {
			id = name
		}
	}
	if id == "" {
		t.Fatal("the killed backup left no folder in the repository")
	}
	defer func() {
		for _, n := range l.Nodes {
			nodeSh(t, l, n.Name, "nodetool clearsnapshot -t "+id+" >/dev/null")
		}
	}()
	if st := esSnapshots(t, l)[id]; st == "" {
		t.Fatalf("the killed run's Elasticsearch snapshot %s is not there: nothing to test", id)
	}
	if out := hotsnapOK(t, l, "list"); !strings.Contains(out, id) || !strings.Contains(out, "INCOMPLETE") || !strings.Contains(out, "run "+run) {
		t.Errorf("list does not show %s INCOMPLETE naming run %s:\n%s", id, run, out)
	}

	hotsnapOK(t, l, "backup", "--yes", "--no-tui")
	hotsnapOK(t, l, "prune", "--keep-last", "1", "--confirm", "lab", "--no-tui")
	if _, err := os.Stat(filepath.Join(l.BackupsPath(), id)); err == nil {
		t.Errorf("prune left the killed backup %s", id)
	}
	if st := esSnapshots(t, l)[id]; st != "" {
		t.Errorf("prune left the killed backup's Elasticsearch snapshot %s (%s)", id, st)
	}
}
