package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/alien4cloud"
	"github.com/hotsnap/hotsnap/repo"
	a4c "github.com/hotsnap/hotsnap/steps/alien4cloud"
)

// End-to-end tests of Alien4Cloud's runbooks on labs of their own
// (names hse4a0…hse4a4, subnets 45–49).

// a4cLab brings up an Alien4Cloud lab for the test.
func a4cLab(t *testing.T, name string, subnet, nodes int, embedded bool) *lab.Lab {
	t.Helper()
	return ownLab(t, lab.Options{Name: name, Subnet: subnet, Nodes: nodes, Data: 2 << 20, Platform: lab.PlatformAlien4Cloud, A4CEmbedded: embedded})
}

// a4cClient is Alien4Cloud's REST client as the op namespace reaches node1.
func a4cClient(t *testing.T, l *lab.Lab) *a4c.Client {
	t.Helper()
	pw, err := os.ReadFile(l.SecretPath(lab.SecretA4CAdmin))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := a4c.New("node1", l.Alien4CloudURL(), lab.Alien4CloudAdminUser, strings.TrimSpace(string(pw)), l.OpDial)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// maintenanceOn reads whether Alien4Cloud is in maintenance mode.
func maintenanceOn(t *testing.T, l *lab.Lab) bool {
	t.Helper()
	m, err := a4cClient(t, l).GetMaintenance(t.Context())
	if err != nil {
		t.Fatalf("read maintenance mode: %v", err)
	}
	return m.On
}

// esGet reads path of node1's Elasticsearch from the op namespace.
func esGet(t *testing.T, l *lab.Lab, method, path string) []byte {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: l.OpDial}}
	req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+l.Nodes[0].IP+":9200"+path, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// docCounts is every non-system index's document count.
func docCounts(t *testing.T, l *lab.Lab) map[string]string {
	t.Helper()
	var rows []struct {
		Index string `json:"index"`
		Count string `json:"docs.count"`
	}
	if err := json.Unmarshal(esGet(t, l, http.MethodGet, "/_cat/indices?format=json&h=index,docs.count"), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if !strings.HasPrefix(r.Index, ".") {
			out[r.Index] = r.Count
		}
	}
	if len(out) == 0 || out["user"] != "1" {
		t.Fatalf("document counts %v: want Alien4Cloud's indices, its admin in user", out)
	}
	return out
}

// dataFiles lists node1's data directory without its transient folders:
// each file's name, size, mode, owner and SHA-256 (two finds, whatever the
// number of files).
func dataFiles(t *testing.T, l *lab.Lab) string {
	t.Helper()
	const find = `cd ` + lab.Alien4CloudDataDir + ` && find . \( -path ./work -o -path ./upload -o -path ./tmp -o -path ./eshome \) -prune -o ! -type d `
	sums := map[string]string{}
	for _, rec := range strings.Split(nodeSh(t, l, "node1", find+`-type f -exec sha256sum --zero {} +`), "\x00") {
		if sum, name, ok := strings.Cut(rec, "  "); ok {
			sums[name] = sum
		}
	}
	var lines []string
	for _, rec := range strings.Split(nodeSh(t, l, "node1", find+`-printf '%p\001%s %m %u:%g\0'`), "\x00") {
		if name, rest, ok := strings.Cut(rec, "\x01"); ok {
			lines = append(lines, name+" "+rest+" "+sums[name])
		}
	}
	slices.Sort(lines)
	if len(lines) == 0 || len(sums) == 0 {
		t.Fatal("no file in the data directory")
	}
	return strings.Join(lines, "\n")
}

func eventsWith(events []map[string]any, step, text string) bool {
	return hasEvent(events, func(ev map[string]any) bool {
		line, _ := ev["line"].(string)
		return ev["event"] == "output" && ev["step"] == step && strings.Contains(line, text)
	})
}

// TestE2EAlien4CloudRoundTrip: a labelled backup in maintenance mode (its
// indices discovered, the transient folders left out, the configuration
// saved), then the indices deleted and recreated empty by a restart of the
// service, uploaded files changed, removed and re-owned: the restore
// brings back every document count and every file's content, owner and
// mode, and clears the maintenance mode the snapshot brought back.
func TestE2EAlien4CloudRoundTrip(t *testing.T) {
	l := a4cLab(t, "hse4a0", 45, 2, false)
	files, counts := dataFiles(t, l), docCounts(t, l)
	code, events, stderr := backupRun(t, l, nil, "--name", "before the upgrade")
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	if maintenanceOn(t, l) {
		t.Error("maintenance mode is still on after the backup")
	}
	if !eventsWith(events, "maintenance-on", "maintenance mode on") {
		t.Error("the backup did not turn maintenance mode on")
	}
	id := newestBackup(t, l)
	m, err := repo.ReadManifest(t.Context(), mustStore(t, l.BackupsPath()), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Label != "before the upgrade" || m.Quiesce != "maintenance mode" || m.Elasticsearch == nil || len(m.Elasticsearch.Indices) != len(counts) ||
		slices.Contains(m.Elasticsearch.Indices, "_all") || len(m.Elasticsearch.Docs) != len(counts) || m.Files == nil || len(m.Configs) != 2 {
		t.Fatalf("manifest: label %q, quiesce %q, es %+v, files %v, configs %d", m.Label, m.Quiesce, m.Elasticsearch, m.Files != nil, len(m.Configs))
	}
	for _, f := range m.Files.Entries {
		for _, tr := range []string{"./work/", "./upload/", "./tmp/"} {
			if strings.HasPrefix(f.Name, tr) {
				t.Errorf("transient file backed up: %s", f.Name)
			}
		}
	}
	if out, err := hotsnapInOp(t.Context(), l, "list").CombinedOutput(); err != nil || !strings.Contains(string(out), "before the upgrade") {
		t.Errorf("list does not show the label: %v\n%s", err, out)
	}

	esGet(t, l, http.MethodDelete, "/csar,application")
	nodeSh(t, l, "node1", `cd `+lab.Alien4CloudDataDir+` && f=$(find csar -type f -name '*.csar' | head -1) && echo changed >> "$f" && `+
		`rm -rf images && chown root:root plugins/* && chmod 600 $(find artifacts -type f | head -1) && systemctl restart a4c`)
	if err := l.WaitAlien4Cloud(t.Context(), a4cWaitE2E); err != nil {
		t.Fatal(err)
	}
	if c := docCounts(t, l); c["csar"] != "0" || c["application"] != "0" {
		t.Fatalf("the restarted service did not recreate the deleted indices empty: csar %q application %q", c["csar"], c["application"])
	}
	if dataFiles(t, l) == files {
		t.Fatal("the damage changed nothing")
	}

	code, _, events, stderr = restoreJSON(t, l, id, nil)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, stderr)
	}
	if got := dataFiles(t, l); got != files {
		t.Errorf("the data directory differs from before the backup:\n got  %s\n want %s", got, files)
	}
	if got := docCounts(t, l); !mapsEqual(got, counts) {
		t.Errorf("document counts after the restore %v, before the backup %v", got, counts)
	}
	if !eventsWith(events, "maintenance-off", "the restored state had it on") || maintenanceOn(t, l) {
		t.Error("the maintenance mode the snapshot brought back was not found and cleared")
	}
	if out := nodeSh(t, l, "node1", "ls -d "+lab.Alien4CloudDataDir+".* 2>/dev/null || true"); strings.TrimSpace(out) != "" {
		t.Errorf("left beside the data directory: %s", out)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// a4cWaitE2E bounds the wait for Alien4Cloud in the tests.
const a4cWaitE2E = 60 * time.Second

// TestE2EAlien4CloudBackupFaults: a repository node2's Elasticsearch cannot
// write fails _verify naming node2; a snapshot that ends FAILED and a
// Ctrl-C while the snapshot runs both leave maintenance mode off, no
// manifest and no snapshot; the snapshot a killed backup left is found
// and cleared (killedESBackup).
func TestE2EAlien4CloudBackupFaults(t *testing.T) {
	l := a4cLab(t, "hse4a1", 46, 2, false)
	state := filepath.Join(l.StateDir, "shared", "es-state")
	t.Run("repository not writable on node2", func(t *testing.T) {
		// The page's sshfs setup, wrong: node2 mounts something else there.
		nodeSh(t, l, "node2", "mount -t tmpfs -o mode=755 tmpfs /mnt/backup/elasticsearch")
		defer nodeSh(t, l, "node2", "umount /mnt/backup/elasticsearch")
		code, bad, stderr := preflightJSON(t, l)
		v := bad["node1/es repository verify"]
		if code != exitPreflight || !strings.Contains(v, "node2 cannot write the repository /mnt/backup/elasticsearch") || !strings.Contains(v, "→ on node2:") {
			t.Errorf("exit %d, es repository verify %q\n%v\n%s", code, v, bad, stderr)
		}
	})
	noBackup := func(t *testing.T, before map[string]bool, events []map[string]any) {
		t.Helper()
		for name, complete := range backupsIn(t, l) {
			if !before[name] && complete {
				t.Errorf("a failed backup left a manifest: %s", name)
			}
		}
		if maintenanceOn(t, l) {
			t.Error("maintenance mode is still on")
		}
		if !hasEvent(events, func(ev map[string]any) bool {
			return ev["event"] == "cleanup" && ev["step"] == "maintenance-on" && ev["error"] == nil
		}) {
			t.Error("no successful cleanup of maintenance-on reported")
		}
		if snaps := string(esGet(t, l, http.MethodGet, "/_cat/snapshots/"+lab.Alien4CloudESRepository)); strings.TrimSpace(snaps) != "" {
			t.Errorf("snapshots left in the repository:\n%s", snaps)
		}
	}
	t.Run("snapshot FAILED", func(t *testing.T) {
		before := backupsIn(t, l)
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --fail-next-snapshot FAILED --reason 'disk of node2 is full'")
		code, events, stderr := backupRun(t, l, nil)
		if code != exitFailed || !strings.Contains(stderr, "ended FAILED: disk of node2 is full") {
			t.Fatalf("exit %d; stderr should carry Elasticsearch's reason:\n%s", code, stderr)
		}
		noBackup(t, before, events)
	})
	t.Run("Ctrl-C while the snapshot runs", func(t *testing.T) {
		before := backupsIn(t, l)
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --snapshot-rate 1KB")
		defer nodeSh(t, l, "node1", "es-standin fault --state "+state+" --snapshot-rate auto")
		code, events, stderr := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
			if line, _ := ev["line"].(string); ev["event"] == "output" && strings.Contains(line, "indices accepted") {
				cmd.Process.Signal(syscall.SIGINT)
			}
		})
		if code != exitAborted {
			t.Fatalf("exit %d, want %d\n%s", code, exitAborted, stderr)
		}
		noBackup(t, before, events)
	})
	t.Run("killed once the snapshot started", func(t *testing.T) {
		// The killed run leaves maintenance mode on, saying in its log which
		// run turned it on: preflight names that run, and the next backup
		// (holding the lock, so that run no longer runs) turns it off when
		// done. Turning it off hangs until the killed run is gone, so the
		// kill as that step starts always lands first.
		hangs := func(on bool) {
			t.Helper()
			if err := l.SetAlien4CloudFaults(alien4cloud.Faults{MaintenanceOffHangs: on}); err != nil {
				t.Fatal(err)
			}
		}
		hangs(true)
		t.Cleanup(func() { hangs(false) })
		killedESBackup(t, l, lab.Alien4CloudESRepository, killAt("maintenance-off"), func(run string, events []map[string]any) {
			hangs(false) // before the next backup, which turns it off
			if got := checkOf(events, "alien4cloud maintenance", "turned on by hotsnap run "+run); !strings.HasPrefix(got, "warn ") || !strings.Contains(got, "the next backup turns it off") {
				t.Errorf("preflight does not name the killed run %s as the one that left maintenance mode on:\n%s", run, checkOf(events, "alien4cloud maintenance", ""))
			}
		})
		if m, err := a4cClient(t, l).GetMaintenance(t.Context()); err != nil || m.On {
			t.Errorf("maintenance mode after the backup that found a killed run's: %+v, %v; want off", m, err)
		}
	})
}

// TestE2EAlien4CloudRestoreSSHLost: node1's sshd dies while the restore
// streams the data directory into its staging folder: the restore fails
// naming node1 with nothing changed, Alien4Cloud still serving. Resumed,
// it dies again as Elasticsearch restores: Alien4Cloud stays stopped on
// half-restored data. Resumed once more, the restore finishes (the
// destructive steps again, as they did not finish) and everything is as
// backed up.
func TestE2EAlien4CloudRestoreSSHLost(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse4a2", Subnet: 47, Nodes: 1, Data: 16 << 20, Platform: lab.PlatformAlien4Cloud})
	files, counts := dataFiles(t, l), docCounts(t, l)
	if code, _, stderr := backupRun(t, l, nil); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	id := newestBackup(t, l)
	nodeSh(t, l, "node1", "rm -rf "+lab.Alien4CloudDataDir+"/csar/*")
	esGet(t, l, http.MethodDelete, "/csar")
	damaged := dataFiles(t, l)
	a4cState := func() string { return strings.TrimSpace(nodeSh(t, l, "node1", "systemctl is-active a4c || true")) }
	// killAt runs args and kills node1's sshd when step starts.
	killAt := func(step string, args ...string) (int, string, string) {
		t.Helper()
		killed, runID := false, ""
		code, _, stderr := jsonRun(t, l, args, func(ev map[string]any, _ *exec.Cmd) {
			if ev["event"] == "run_started" {
				runID, _ = ev["run"].(string)
			}
			if ev["event"] == "step_started" && ev["step"] == step && !killed {
				killed = true
				killNodeSSHD(t, l, "node1")
			}
		})
		if err := l.RestartSSHD(context.Background(), "node1"); err != nil {
			t.Fatal(err)
		}
		if !killed || code != exitFailed || !strings.Contains(stderr, "node1") {
			t.Fatalf("%v with node1's sshd killed at %s: exit %d, want %d naming node1\n%s", args, step, code, exitFailed, stderr)
		}
		return code, runID, stderr
	}
	_, run1, _ := killAt("stage", "restore", id, "--yes", "--confirm", "lab", "--json")
	if st := a4cState(); st != "active" || dataFiles(t, l) != damaged {
		t.Fatalf("SSH lost while staging: Alien4Cloud %s, data directory changed: %v; want it serving and untouched", st, dataFiles(t, l) != damaged)
	}
	_, run2, _ := killAt("elasticsearch", "resume", run1, "--yes", "--confirm", "lab", "--json")
	if st := a4cState(); st == "active" {
		t.Error("Alien4Cloud was started on half-restored data")
	}
	out, err := hotsnapInOp(t.Context(), l, "resume", run2, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Successful full restore") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if got := dataFiles(t, l); got != files {
		t.Errorf("the data directory differs from before the backup after the resume")
	}
	if got := docCounts(t, l); !mapsEqual(got, counts) {
		t.Errorf("document counts after the resume %v, before the backup %v", got, counts)
	}
	if maintenanceOn(t, l) {
		t.Error("maintenance mode is on after the resume")
	}
}

// TestE2EAlien4CloudEmbedded: with Elasticsearch inside Alien4Cloud the
// preflight explains it, --stop-service is refused before anything
// changes, and backup and restore keep Alien4Cloud running in maintenance
// mode (restarting it at the end of the restore).
func TestE2EAlien4CloudEmbedded(t *testing.T) {
	l := a4cLab(t, "hse4a3", 48, 1, true)
	code, bad, stderr := preflightJSON(t, l)
	if code != 0 || !strings.Contains(bad["node1/elasticsearch mode"], "inside Alien4Cloud's JVM") {
		t.Fatalf("preflight: exit %d, %v\n%s", code, bad, stderr)
	}
	if code, _, stderr := backupRun(t, l, nil, "--stop-service"); code != exitPreflight || !strings.Contains(stderr, "elasticsearch mode") || maintenanceOn(t, l) {
		t.Fatalf("backup --stop-service with Elasticsearch embedded: exit %d\n%s", code, stderr)
	}
	files, counts := dataFiles(t, l), docCounts(t, l)
	if code, _, stderr := backupRun(t, l, nil); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	nodeSh(t, l, "node1", "rm -rf "+lab.Alien4CloudDataDir+"/git/*")
	esGet(t, l, http.MethodDelete, "/topology")
	code, _, events, stderr := restoreJSON(t, l, newestBackup(t, l), nil)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, stderr)
	}
	if !eventsWith(events, "stop-service", "maintenance mode on") {
		t.Error("the restore did not keep Alien4Cloud in maintenance mode")
	}
	if got := dataFiles(t, l); got != files {
		t.Error("the data directory differs from before the backup")
	}
	if got := docCounts(t, l); !mapsEqual(got, counts) {
		t.Errorf("document counts %v, before the backup %v", got, counts)
	}
	if maintenanceOn(t, l) {
		t.Error("maintenance mode is on after the restore")
	}
	if out := nodeSh(t, l, "node1", "test -d "+lab.Alien4CloudDataDir+"/eshome && echo kept"); strings.TrimSpace(out) != "kept" {
		t.Error("the embedded Elasticsearch's home was moved")
	}
}
