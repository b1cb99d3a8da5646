package main

import (
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

	cmd := hotsnapInOp(t.Context(), l, "restore", "/mnt/backup", "--yes", "--confirm", "lab", "--no-tui")
	start := time.Now()
	res, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(res), steps.SuccessLine) {
		t.Fatalf("restore: %v\n%s", err, res)
	}
	t.Logf("hotsnap restore of the documented backup: %s, peak RSS %.1f MB (archives: %d bytes)", time.Since(start).Round(time.Millisecond),
		float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, archiveBytes(t, shared))
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
