package thehive

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/runbooktest"
	"github.com/hotsnap/hotsnap/steps"
)

const docStamp = "20260314_02h00m00s"

// documentedBackup writes, under a new root, the Cassandra archive of the
// documented script (schema inside, one table) and the attachments'
// archive, and returns the root.
func documentedBackup(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, content string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tarUp := func(dir, name string) {
		if out, err := exec.Command("tar", "cf", filepath.Join(dir, name+".tar"), "-C", dir, name).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v %s", err, out)
		}
		os.RemoveAll(filepath.Join(dir, name))
	}
	snap := filepath.Join(root, "cassandra", "cassandra_"+docStamp)
	for _, f := range []string{"nb-1-big-Data.db", "nb-1-big-Index.db", "nb-1-big-TOC.txt"} {
		write(filepath.Join(snap, "thehive", "edgestore-0a1b2c3d4e5f60718293a4b5c6d7e8f9", f), strings.Repeat(f, 2000))
	}
	write(filepath.Join(snap, "create_keyspace_thehive.cql"), "CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};\nCREATE TABLE thehive.edgestore (key blob PRIMARY KEY);\n")
	tarUp(filepath.Join(root, "cassandra"), "cassandra_"+docStamp)
	write(filepath.Join(root, "storage", "files_"+docStamp, "ab", "cd", "abcd0123"), "attachment bytes")
	tarUp(filepath.Join(root, "storage"), "files_"+docStamp)
	return root
}

// documentedRun prepares the restore of the documented backup in root for
// the cluster inventory without Elasticsearch (nothing to look up), and the
// runbook made of its first step alone, whose Then hands what it made to
// made instead of running it.
func documentedRun(t *testing.T, root string, prior *steps.PriorRun, made *[]string, params map[string]string) (runbooks.Restore, steps.Runbook) {
	t.Helper()
	inv, err := config.Load("../../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv.Elasticsearch = nil
	ctx := context.Background()
	src, err := repo.Open(ctx, root, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found, err := repo.FindLegacy(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	r, what, err := Platform{}.RestoreDocumented(runbooktest.Env(t, inv), runbooks.DocumentedRequest{Path: root, Source: src, Found: found, Prior: prior})
	if err != nil {
		t.Fatal(err)
	}
	if what != docStamp+" in "+src.String() || r.Manifest() != nil {
		t.Fatalf("prepared %q, manifest %v: want the stamp and no manifest before the read", what, r.Manifest())
	}
	rb := r.Runbook()
	if len(rb.Steps) != 1 || rb.Steps[0].ID != "read-backup" || rb.Steps[0].Then == nil || rb.Params[runbooks.ParamBackup] != "legacy-"+docStamp {
		t.Fatalf("runbook before the read: %+v", rb)
	}
	then := rb.Steps[0].Then
	rb.Steps[0].Then = func() ([]steps.Step, map[string]string) {
		next, p := then()
		for _, s := range next {
			*made = append(*made, s.ID)
		}
		for k, v := range p {
			params[k] = v
		}
		return nil, p
	}
	return r, rb
}

// TestDocumentedRestoreReadsFirst: the restore of a documented backup reads
// it in its first step, a step of the run with progress in bytes of the
// archives; then it makes the restore's steps from what it read, records
// the manifest's digest for a resume, and the restore has its manifest.
func TestDocumentedRestoreReadsFirst(t *testing.T) {
	root := documentedBackup(t)
	var made []string
	params := map[string]string{}
	r, rb := documentedRun(t, root, nil, &made, params)
	rec := &steps.Recorder{}
	if err := (&steps.Engine{Reporter: rec}).Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range []string{"cassandra/cassandra_" + docStamp + ".tar", "storage/files_" + docStamp + ".tar"} {
		st, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	ev := strings.Join(rec.Events(), "\n")
	for _, want := range []string{"start read-backup", "out read-backup repository cassandra/cassandra_" + docStamp + ".tar (",
		"progress read-backup repository " + itoa(total) + "/" + itoa(total) + " bytes",
		"out read-backup repository keyspace thehive: 1 tables, 3 SSTable files; attachments: 1 entries", "finish read-backup done"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
	m := r.Manifest()
	if m == nil || m.ID != "legacy-"+docStamp || m.Keyspace != "thehive" {
		t.Fatalf("manifest after the read: %+v", m)
	}
	// The restore of what was read: the keyspace and the attachments (no
	// ES in this inventory), loaded as another topology (no staging).
	if want := "ssh ring topology verify-backup restore-disk preflight-verdict choose-rf approve-stop stop-thehive approve-restore cassandra files start-thehive"; strings.Join(made, " ") != want {
		t.Errorf("steps made: %v, want %s", made, want)
	}
	if params[runbooks.ParamManifest] != runbooks.ManifestDigest(m) || params[runbooks.ParamDocumentedAt] != docStamp {
		t.Errorf("params made: %v", params)
	}
}

// TestDocumentedRestoreFailsOnADamagedArchive: an archive cut short fails
// the read step, naming the folder and the archive (exit 3 in the CLI:
// repo.ErrBackupDamaged), and no step is made.
func TestDocumentedRestoreFailsOnADamagedArchive(t *testing.T) {
	root := documentedBackup(t)
	tarPath := filepath.Join(root, "cassandra", "cassandra_"+docStamp+".tar")
	if err := os.Truncate(tarPath, 5000); err != nil {
		t.Fatal(err)
	}
	var made []string
	_, rb := documentedRun(t, root, nil, &made, map[string]string{})
	err := (&steps.Engine{Reporter: steps.NopReporter{}}).Run(context.Background(), rb)
	if err == nil || !errors.Is(err, repo.ErrBackupDamaged) || len(made) > 0 {
		t.Fatalf("err %v, made %v", err, made)
	}
	for _, want := range []string{"step read-backup", "the documented backup " + docStamp + " in " + root + " cannot be restored, nothing was changed",
		"cassandra/cassandra_" + docStamp + ".tar (5000 bytes)", "restore a good copy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}

// TestDocumentedRestoreResumeSeesAChangedBackup: a resume reads the backup
// again and refuses to go on when it is not the one the run read.
func TestDocumentedRestoreResumeSeesAChangedBackup(t *testing.T) {
	root := documentedBackup(t)
	var made []string
	prior := &steps.PriorRun{RunID: "r1", Params: map[string]string{runbooks.ParamManifest: "0123"}, Done: map[string]string{}, Started: map[string]bool{}}
	_, rb := documentedRun(t, root, prior, &made, map[string]string{})
	err := (&steps.Engine{Reporter: steps.NopReporter{}}).Run(context.Background(), rb)
	if err == nil || !strings.Contains(err.Error(), "the documented backup "+docStamp+" in "+root+" changed since run r1") || len(made) > 0 {
		t.Fatalf("err %v, made %v", err, made)
	}
	// The same backup goes on; a run that failed before reading it recorded
	// no digest, and goes on too.
	params := map[string]string{}
	_, rb = documentedRun(t, root, nil, &made, params)
	if err := (&steps.Engine{Reporter: steps.NopReporter{}}).Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	for _, digest := range []string{params[runbooks.ParamManifest], ""} {
		prior.Params[runbooks.ParamManifest] = digest
		made = nil
		_, rb = documentedRun(t, root, prior, &made, map[string]string{})
		if err := (&steps.Engine{Reporter: steps.NopReporter{}}).Run(context.Background(), rb); err != nil || len(made) == 0 {
			t.Errorf("resume with digest %q: %v, made %v", digest, err, made)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
