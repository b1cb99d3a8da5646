package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab/baseline"
	"github.com/hotsnap/hotsnap/steps"
)

// TestE2ERestoreDocumentedBackup: a backup made by TheHive's documented
// script (the lab's baseline reproduction, run on node1 into the shared
// /mnt/backup), then the damage (keyspace dropped, index deleted,
// attachments deleted), then `hotsnap restore /mnt/backup`, which finds the
// backup on the nodes, lists it, verifies it and restores it; the
// application sees everything as it was.
func TestE2ERestoreDocumentedBackup(t *testing.T) {
	l := needLab(t)
	if err := baseline.Install(l); err != nil {
		t.Fatal(err)
	}
	shared := l.SharedBackupPath()
	t.Cleanup(func() {
		// Leave the shared lab as the other tests expect it: no documented
		// archives, no snapshot of theirs in the ES repository.
		infos, _ := filepath.Glob(filepath.Join(shared, "elasticsearch", "elasticsearch_*.info"))
		for _, info := range infos {
			name := strings.TrimSuffix(filepath.Base(info), ".info")
			l.NodeCommand(t.Context(), "node1", "curl", "-s", "-XDELETE", "127.0.0.1:9200/_snapshot/thehive_repository/"+name).Run()
			os.Remove(info)
		}
		os.RemoveAll(filepath.Join(shared, "cassandra"))
		os.RemoveAll(filepath.Join(shared, "storage"))
		os.RemoveAll(filepath.Join(shared, "damaged"))
	})
	before := readAppState(t, l)
	if before.rows["edgestore"] == "0" || strings.HasPrefix(before.rows["edgestore"], "error") || !strings.Contains(before.attachments, "thehive:thehive") {
		t.Fatalf("the lab has no data to back up: %+v", before)
	}
	out := nodeSh(t, l, "node1", "{ "+baseline.BackupCommand(baseline.Published)+"; } 2>&1")
	if !strings.Contains(out, baseline.SuccessBackup) || !strings.Contains(out, baseline.SuccessFilesBackup) {
		t.Fatalf("documented backup:\n%s", out)
	}
	tars, _ := filepath.Glob(filepath.Join(shared, "cassandra", "cassandra_*.tar"))
	files, _ := filepath.Glob(filepath.Join(shared, "storage", "files_*.tar"))
	infos, _ := filepath.Glob(filepath.Join(shared, "elasticsearch", "elasticsearch_*.info"))
	if len(tars) != 1 || len(files) != 1 || len(infos) != 1 {
		t.Fatalf("documented backup left %v %v %v", tars, files, infos)
	}
	stamp := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(tars[0]), "cassandra_"), ".tar")
	// The attachments script runs after the Cassandra one, with its own
	// `date`: its stamp may be a second or two later.
	filesStamp := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(files[0]), "files_"), ".tar")
	esName := strings.TrimSuffix(filepath.Base(infos[0]), ".info") // its own `date` call too

	// A stamp that is not there is refused before anything, naming the one that is.
	res, err := hotsnapInOp(t.Context(), l, "restore", "node1:/mnt/backup", "--at", "20000101_00h00m00s", "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage || !strings.Contains(string(res), "the backups there are: "+stamp) {
		t.Fatalf("unknown --at: %v (want exit %d naming %s)\n%s", err, exitUsage, stamp, res)
	}

	// A copy of the Cassandra archive cut short: the restore reads it in its
	// first step, which fails naming the node, the folder and the archive
	// (exit 3), before anything is asked or changed.
	cut := filepath.Join(shared, "damaged", "cassandra", filepath.Base(tars[0]))
	copyHalf(t, tars[0], cut)
	res, err = hotsnapInOp(t.Context(), l, "restore", "node1:/mnt/backup/damaged", "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitPreflight {
		t.Fatalf("a damaged archive: %v (want exit %d)\n%s", err, exitPreflight, res)
	}
	for _, want := range []string{"Read the documented backup's archives\n", "FAILED after", "step read-backup: the documented backup " + stamp + " in ssh://node1/mnt/backup/damaged cannot be restored, nothing was changed",
		"cassandra/cassandra_" + stamp + ".tar (", "truncated", "restore a good copy of it"} {
		if !strings.Contains(string(res), want) {
			t.Errorf("the failure on a damaged archive lacks %q:\n%s", want, res)
		}
	}
	if strings.Contains(string(res), "GATE") {
		t.Errorf("a gate was asked before the archives were read:\n%s", res)
	}

	// The wizard's picker lists it with the documented scripts' backups
	// found on the nodes; picking it reads and checks it and shows the
	// restore's plan, which changes nothing.
	w := startWizard(t, l)
	w.waitPane(20*time.Second, "What do you want to do?")
	w.keys("5")
	w.waitPane(30*time.Second, "Made by TheHive's documented scripts", "in ssh://node1/mnt/backup", "legacy-"+stamp)
	w.cursorTo("legacy-"+stamp, 30, "(documented scripts, ssh://node1/mnt/backup)")
	w.keys("Enter")
	w.waitPane(60*time.Second, "Plan review: restore", "Backup legacy-"+stamp)
	w.tmux("kill-server")

	damageAll(t, l)
	damaged := readAppState(t, l)
	if damaged.attachments == before.attachments || !strings.HasPrefix(damaged.rows["edgestore"], "error") || damaged.docs["thehive_global"] == before.docs["thehive_global"] {
		t.Fatalf("the damage did not take: %+v", damaged)
	}

	// The first attempt stops at the destructive gate (no --confirm): it
	// read the backup in its first step and recorded what it read; the
	// resume reads it again, finds it the same, and restores it.
	res, err = hotsnapInOp(t.Context(), l, "restore", "/mnt/backup", "--yes", "--no-tui").CombinedOutput()
	resume := regexp.MustCompile(`to continue after fixing the cause: hotsnap resume (\S+)`).FindStringSubmatch(string(res))
	if err == nil || !strings.Contains(string(res), "pass --confirm lab") || resume == nil {
		t.Fatalf("restore without --confirm should stop at the destructive gate, resumable: %v\n%s", err, res)
	}
	first := readRunJournal(t, string(res))
	if added := first.entry("steps_added", "read-backup"); added == nil || added.Params[paramManifest] == "" || first.entry("run_started", "").Params[paramBackup] != "legacy-"+stamp {
		t.Errorf("the first attempt's journal does not record what it read (backup, manifest digest): %+v", first)
	}
	cmd := hotsnapInOp(t.Context(), l, "resume", resume[1], "--yes", "--confirm", "lab", "--no-tui")
	start := time.Now()
	res, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(res), steps.SuccessLine) {
		t.Fatalf("resume of the restore: %v\n%s", err, res)
	}
	t.Logf("hotsnap restore of the documented backup (resumed): %s, peak RSS %.1f MB (archives: %d bytes)", time.Since(start).Round(time.Millisecond),
		float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, archiveBytes(t, shared))
	scanIsAStep(t, string(res), readRunJournal(t, string(res)))
	for _, want := range []string{
		// found on the nodes, and listed
		"backup made by the documented scripts, " + stamp + " ",
		"in ssh://node1/mnt/backup",
		"cassandra/cassandra_" + stamp + ".tar (",
		"schema         cassandra/cassandra_" + stamp + ".tar:cassandra_" + stamp + "/create_keyspace_thehive.cql",
		"snapshot " + esName + " in repository thehive_repository: SUCCESS",
		"storage/files_" + filesStamp + ".tar (",
		// verified as far as it can be, and said so
		"records no hashes",
		"read whole",
		// loaded as a changed topology, attachments given their owner
		"loading with sstableloader",
		"they get thehive:thehive",
		"from the documented backup " + stamp,
	} {
		if !strings.Contains(string(res), want) {
			t.Errorf("the restore output lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^.*sha256 [0-9a-f]{64}$`).FindString(string(res)) == "" {
		t.Errorf("no archive hash in the verification output")
	}
	if t.Failed() {
		t.Logf("restore output:\n%s", res)
	} else if testing.Verbose() {
		t.Logf("restore output:\n%s", res)
	}
	before.equal(t, readAppState(t, l))
	theHiveHealthy(t, l)
	// Nothing staged is left on the nodes, and the archives are untouched.
	if left := nodeSh(t, l, "node1", "ls -a /opt/thp/thehive/files | grep hotsnap; ls /tmp | grep -F legacy-"+stamp+"; true"); strings.TrimSpace(left) != "" {
		t.Errorf("staging left behind: %s", left)
	}
	if _, err := os.Stat(tars[0]); err != nil {
		t.Errorf("the documented archive is gone: %v", err)
	}
}

// archiveBytes adds up the documented archives under the shared backup root.
func archiveBytes(t *testing.T, shared string) int64 {
	var n int64
	for _, g := range []string{"cassandra/*.tar", "storage/*.tar"} {
		m, _ := filepath.Glob(filepath.Join(shared, g))
		for _, p := range m {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
	}
	return n
}

// runJournal is a run's journal, entry by entry.
type runJournal []journalEntry

// journalEntry is what these tests read of a journal entry.
type journalEntry struct {
	TS         time.Time         `json:"ts"`
	Type       string            `json:"type"`
	Step       string            `json:"step"`
	Node       string            `json:"node"`
	Cmd        string            `json:"cmd"`
	State      string            `json:"state"`
	DurationMS int64             `json:"duration_ms"`
	Params     map[string]string `json:"params"`
}

// readRunJournal reads the journal a run's output names ("journal: PATH").
func readRunJournal(t *testing.T, out string) runJournal {
	t.Helper()
	m := regexp.MustCompile(`journal: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the run names no journal:\n%s", out)
	}
	b, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var j runJournal
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e journalEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%s: %v", m[1], err)
		}
		j = append(j, e)
	}
	return j
}

// entry returns the first entry of type typ (of step, when given), or nil.
func (j runJournal) entry(typ, step string) *journalEntry {
	for i := range j {
		if j[i].Type == typ && (step == "" || j[i].Step == step) {
			return &j[i]
		}
	}
	return nil
}

// scanIsAStep checks that the restore of a documented backup read its
// archives in a step of the run: shown with progress, journaled, and timed
// inside the run's "finished in".
func scanIsAStep(t *testing.T, out string, j runJournal) {
	t.Helper()
	// Shown as a step, with progress to the whole of the archives, before
	// the steps it made.
	m := regexp.MustCompile(`(?s)\n\[(\d+)/(\d+)\] Read the documented backup's archives\n(.*?)\n\[(\d+)/(\d+)\] `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no step reading the archives in the output:\n%s", out)
	}
	if body := m[3]; !regexp.MustCompile(`repository │ \S+ \S+ / \S+ \S+ \(100%\)`).MatchString(body) || !strings.Contains(body, "steps made from what it found: "+m[5]+" in all") {
		t.Errorf("the step reading the archives shows no progress to 100%% or not the steps it made:\n%s", body)
	}
	if m[2] == m[5] {
		t.Errorf("the run's total did not grow with the steps made (%s, then %s)", m[2], m[5])
	}
	// Journaled, inside the run.
	run, started, finished, end := j.entry("run_started", ""), j.entry("step_started", "read-backup"), j.entry("step_finished", "read-backup"), j.entry("run_finished", "")
	if run == nil || started == nil || finished == nil || end == nil || j.entry("steps_added", "read-backup") == nil {
		t.Fatalf("the journal lacks the run, the step reading the archives or the steps it made: %+v", j)
	}
	if finished.State != "done" || started.TS.Before(run.TS) || end.TS.Before(finished.TS) || finished.DurationMS > end.DurationMS {
		t.Errorf("the step reading the archives is not inside the run: run %v–%v (%d ms), step %v–%v (%d ms, %s)",
			run.TS, end.TS, end.DurationMS, started.TS, finished.TS, finished.DurationMS, finished.State)
	}
	// "finished in" is the run's time, which holds the step's.
	f := regexp.MustCompile(`\nfinished in (\S+?)(?: ·|\n)`).FindStringSubmatch(out)
	if f == nil {
		t.Fatalf("no \"finished in\" in the output:\n%s", out)
	}
	d, err := time.ParseDuration(f[1])
	if err != nil {
		t.Fatal(err)
	}
	if diff := d - time.Duration(end.DurationMS)*time.Millisecond; diff < -100*time.Millisecond || diff > 100*time.Millisecond || d < time.Duration(finished.DurationMS)*time.Millisecond {
		t.Errorf("finished in %s, the journal's run %d ms, the step reading the archives %d ms", d, end.DurationMS, finished.DurationMS)
	}
	t.Logf("the archives read in %d ms of the run's %s", finished.DurationMS, d)
}

// copyHalf copies the first half of file src to dst (its folder made).
func copyHalf(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(out, in, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
