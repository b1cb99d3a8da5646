package main

import (
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	s3lab "github.com/hotsnap/hotsnap/lab/s3"
	"github.com/hotsnap/hotsnap/steps"
)

// TestE2ERestoreS3Choice: attachments in a real S3 bucket; after the backup
// an object is created and one of the backup's is changed. Without a
// terminal and without a flag the restore stops at the choice gate, naming
// the flags, before anything changes; with --yes it keeps the new object;
// with --s3-exact it removes it. Both times the backup's objects come back
// byte for byte and TheHive is healthy.
func TestE2ERestoreS3Choice(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse2c", Subnet: 19, Nodes: 1, Data: 2 << 20, Storage: lab.StorageS3})
	cl, bucket := labBucket(t, l)
	run := func(args ...string) (string, error) {
		out, err := hotsnapInOp(t.Context(), l, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("backup", "--yes", "--no-tui"); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	before := bucketETags(t, cl, bucket)
	if len(before) == 0 {
		t.Fatal("the lab's bucket has no attachment object")
	}
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	changed := keys[0]
	const created = "created-after-the-backup/attachment-1"
	damage := func() {
		t.Helper()
		for k, body := range map[string]string{created: "new since the backup", changed: "changed since the backup"} {
			if _, err := cl.PutObject(t.Context(), bucket, k, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	damage()

	// No terminal, no flag: the choice gate refuses, naming the flags,
	// before TheHive is stopped or anything is written.
	out, err := run("restore", id, "--confirm", "lab", "--no-tui")
	if err == nil || !strings.Contains(out, "--s3-exact") || !strings.Contains(out, "--yes") || !strings.Contains(out, "no terminal to ask") {
		t.Fatalf("restore without a choice must refuse, naming --yes and --s3-exact: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 created after the backup") {
		t.Errorf("the bucket comparison does not count the new object:\n%s", out)
	}
	if strings.Contains(out, "Stop TheHive and prove it stopped") {
		t.Errorf("TheHive was stopped before the choice:\n%s", out)
	}
	if now := bucketETags(t, cl, bucket); now[created] == "" || now[changed] == before[changed] {
		t.Fatal("a refused restore changed the bucket")
	}
	theHiveHealthy(t, l)

	check := func(out string, keep bool) {
		t.Helper()
		now := bucketETags(t, cl, bucket)
		for k, etag := range before {
			if now[k] != etag {
				t.Errorf("object %s: ETag %s after the restore, %s in the backup", k, now[k], etag)
			}
		}
		if _, ok := now[created]; ok != keep {
			t.Errorf("object created after the backup present = %v, want %v\n%s", ok, keep, out)
		}
		theHiveHealthy(t, l)
	}
	// --yes: the default, keep.
	out, err = run("restore", id, "--yes", "--confirm", "lab", "--no-tui")
	if err != nil || !strings.Contains(out, steps.SuccessLine) {
		t.Fatalf("restore --yes: %v\n%s", err, out)
	}
	if !strings.Contains(out, "chose keep") || !strings.Contains(out, "(0 removed)") || !strings.Contains(out, "objects created after the backup are kept: 1 object") {
		t.Errorf("restore --yes did not say it keeps the new object:\n%s", out)
	}
	check(out, true)

	// --s3-exact: remove it, and the destructive gate says so first.
	damage()
	out, err = run("restore", id, "--s3-exact", "--yes", "--confirm", "lab", "--no-tui")
	if err != nil || !strings.Contains(out, steps.SuccessLine) {
		t.Fatalf("restore --s3-exact: %v\n%s", err, out)
	}
	if !strings.Contains(out, "chose exact") || !strings.Contains(out, "(1 removed)") || !strings.Contains(out, "objects created after the backup: 1 object (20 B), removed for an exact copy") {
		t.Errorf("restore --s3-exact did not say it removes the new object:\n%s", out)
	}
	check(out, false)

	// The S3 server goes away mid-run (killed as the restore stages the
	// SSTables, once the bucket was compared): the restore stops before
	// anything destructive, naming the endpoint, and starts TheHive again.
	// Last: the server stays down.
	d, ok := l.Daemon(lab.DaemonS3)
	if !ok || d.PID <= 0 {
		t.Fatal("the lab records no S3 server")
	}
	code, events, stderr := jsonRun(t, l, []string{"restore", id, "--yes", "--confirm", "lab", "--json"}, func(ev map[string]any, _ *exec.Cmd) {
		if ev["event"] == "step_started" && ev["step"] == "stage" {
			if err := syscall.Kill(d.PID, syscall.SIGKILL); err != nil {
				t.Errorf("kill the S3 server (pid %d): %v", d.PID, err)
			}
		}
	})
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	where := "s3://" + bucket + " at " + inv.Storage.S3.Endpoint
	if code != exitFailed || !strings.Contains(stderr, "step s3-answers") || !strings.Contains(stderr, where) || !strings.Contains(stderr, "nothing has been changed") {
		t.Fatalf("exit %d, want %d from step s3-answers naming %s:\n%s", code, exitFailed, where, stderr)
	}
	var started []string
	for _, ev := range events {
		if ev["event"] == "step_started" {
			started = append(started, fmt.Sprint(ev["step"]))
			if info, _ := ev["info"].(map[string]any); info["destructive"] == true {
				t.Errorf("the destructive step %s started after the S3 server went away", ev["step"])
			}
		}
	}
	if !slices.Contains(started, "stage") || !slices.Contains(started, "s3-answers") {
		t.Errorf("steps started: %v, want stage … s3-answers", started)
	}
	if left := nodeSh(t, l, "node1", "ls /var/lib/cassandra/hotsnap-restore/"+id+" 2>/dev/null || true"); strings.TrimSpace(left) != "" {
		t.Errorf("node1: the staged SSTables were left:\n%s", left)
	}
	theHiveHealthy(t, l)
}

// labBucket connects to the lab's S3 server with the lab's keys and returns
// the client and the bucket of the attachments (the lab's inventory's).
func labBucket(t *testing.T, l *lab.Lab) (*minio.Client, string) {
	t.Helper()
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	ak, err := l.Secret(lab.SecretS3AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := l.Secret(lab.SecretS3SecretKey)
	cl, err := s3lab.NewClient(l.S3Endpoint(), ak, sk, l.OpDial)
	if err != nil {
		t.Fatal(err)
	}
	return cl, inv.Storage.S3.Bucket
}

// bucketETags lists every object of bucket with its ETag (the lab's objects
// are put whole, so the ETag is the MD5 of the bytes).
func bucketETags(t *testing.T, cl *minio.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for obj := range cl.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		out[obj.Key] = obj.ETag
	}
	return out
}
