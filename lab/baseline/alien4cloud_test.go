package baseline

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/alien4cloud"
)

func init() {
	standIns["a4c-standin"] = alien4cloud.Main
}

func TestA4CScriptsEmbedded(t *testing.T) {
	for name, want := range map[string][]string{
		A4CBackupName: {`date '+%d_%m_%Y_%H_%M'`, "_snapshot/alien_backup", `"compress\": true`, "wait_for_completion=false",
			`grep "{\"accepted\":true}"`, `cp -r "$ALIEN_DIR"/. "$FS_BACKUP_DIR"/`, "/_status", "backup $BACKUP_NAME done"},
		A4CRestoreName: {`systemctl stop "$A4C_UNIT"`, `-XPOST "$ES_URL/_all/_close"`, "/_restore\")", `rm -r "$ALIEN_DIR"`,
			`cp -r "$FS_BACKUP_DIR" "$ALIEN_DIR"`, `systemctl start "$A4C_UNIT"`, "restore $BACKUP_NAME done"},
	} {
		b, err := A4CScript(name)
		checkScript(t, name, b, err, want)
	}
}

// a4cState is what the restore must bring back: documents per index and
// the data directory's files.
type a4cState struct {
	docs  map[string]string
	files map[string]string
}

func a4cSnapshotState(t *testing.T, ctx context.Context, l *lab.Lab) a4cState {
	t.Helper()
	s := a4cState{docs: map[string]string{}, files: map[string]string{}}
	out, err := sshNode(ctx, l, "node2", "curl -sS '127.0.0.1:9200/_cat/indices?h=index,status,docs.count'")
	if err != nil {
		t.Fatalf("_cat/indices: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			s.docs[f[0]] = strings.Join(f[1:], " ")
		}
	}
	s.files = hashTree(t, filepath.Join(l.NodeDir("node1"), "alien4cloud", "data"))
	return s
}

var backupNameRE = regexp.MustCompile(`(?m)^backup (\d\d_\d\d_\d{4}_\d\d_\d\d) done$`)

// TestA4CBaselineBackupRestore runs the documented Alien4Cloud procedure
// on a 2-node lab: backup, wreck indices and files, restore, compare; and
// shows the gaps it keeps.
func TestA4CBaselineBackupRestore(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the lab tests need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l := upTestLab(t, ctx, lab.Options{Name: "hsal3", Subnet: 43, Nodes: 2, Data: 8 << 20, Platform: lab.PlatformAlien4Cloud})
	if err := InstallA4C(l); err != nil {
		t.Fatal(err)
	}
	before := a4cSnapshotState(t, ctx, l)
	if len(before.docs) != len(alien4cloud.Indices) || len(before.files) < 50 {
		t.Fatalf("before: %d indices, %d files", len(before.docs), len(before.files))
	}

	t0 := time.Now()
	out, err := sshNode(ctx, l, "node1", "sudo "+A4CBackupPath)
	m := backupNameRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	name := m[1]
	t.Logf("backup %s took %s", name, time.Since(t0).Round(time.Millisecond))
	copyDir := filepath.Join(l.NodeDir("node1"), "alien4cloud", "backups", "files", name)
	if _, err := os.Stat(filepath.Join(copyDir, "csar", "petclinic", "2.1.0", "petclinic-2.1.0.csar")); err != nil {
		t.Errorf("files copy: %v", err)
	}
	if _, err := os.Stat(filepath.Join(copyDir, "work")); err != nil {
		t.Errorf("the documented copy includes work/: %v", err)
	}

	// Wreck: indices deleted and emptied, files changed and removed, an
	// index and a file the backup does not know.
	for _, c := range []string{
		"curl -sS -XDELETE 127.0.0.1:9200/csar",
		"curl -sS -XDELETE 127.0.0.1:9200/application",
		"curl -sS -XPUT 127.0.0.1:9200/afterbackup",
		"sudo sh -c 'rm -r " + lab.Alien4CloudDataDir + "/csar/petclinic; echo changed > " + lab.Alien4CloudDataDir + "/images/x.png; " +
			"for f in " + lab.Alien4CloudDataDir + "/artifacts/*; do echo tampered > \"$f\"; break; done'",
	} {
		if out, err := sshNode(ctx, l, "node1", c); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	if mid := a4cSnapshotState(t, ctx, l); len(mid.files) == len(before.files) && mid.docs["csar"] == before.docs["csar"] {
		t.Fatal("the wreck changed nothing")
	}

	t0 = time.Now()
	out, err = sshNode(ctx, l, "node1", "sudo "+A4CRestorePath+" "+name)
	if err != nil || !strings.Contains(out, "restore "+name+" done") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	t.Logf("restore took %s", time.Since(t0).Round(time.Millisecond))
	if _, err := sshNode(ctx, l, "node2", "curl -sS -f '127.0.0.1:9200/_cluster/health?wait_for_status=green&timeout=60s'"); err != nil {
		t.Fatalf("cluster not green after the restore: %v", err)
	}
	after := a4cSnapshotState(t, ctx, l)
	for ix, want := range before.docs {
		if got := after.docs[ix]; got != want {
			t.Errorf("index %s: %q after the restore, %q before", ix, got, want)
		}
	}
	for f, h := range before.files {
		if after.files[f] != h {
			t.Errorf("file %s not restored", f)
		}
	}
	if len(after.files) != len(before.files) {
		t.Errorf("%d files after the restore, %d before", len(after.files), len(before.files))
	}
	// The gaps it keeps: an index the snapshot lacks stays closed, and
	// the data directory comes back owned by root.
	if got := after.docs["afterbackup"]; got != "close" {
		t.Errorf("index created after the backup: %q, want it left closed", got)
	}
	if out, err := sshNode(ctx, l, "node1", "stat -c %U "+lab.Alien4CloudDataDir+"/csar"); err != nil || strings.TrimSpace(out) != "root" {
		t.Errorf("owner after the restore: %q %v (cp -r as root)", out, err)
	}
}
