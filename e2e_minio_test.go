package main

import (
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/lab"
	s3lab "github.com/hotsnap/hotsnap/lab/s3"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// TestE2EBackupRestoreMinIO: one backup and restore round with the
// attachments in a real MinIO (lab up --s3 minio) instead of versitygw.
// After the backup one object is overwritten and one deleted; the restore
// brings both back byte for byte (same ETags) and TheHive is healthy.
func TestE2EBackupRestoreMinIO(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse2m", Subnet: 24, Nodes: 1, Data: 2 << 20, Storage: lab.StorageS3, S3: s3lab.KindMinIO})
	cl, bucket := labBucket(t, l)
	before := bucketETags(t, cl, bucket)
	if len(before) == 0 {
		t.Fatal("MinIO's bucket has no attachment object")
	}
	hotsnapOK(t, l, "backup", "--yes", "--no-tui")
	id := newestBackup(t, l)
	m, err := repo.ReadManifest(t.Context(), mustStore(t, l.BackupsPath()), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Files == nil || len(m.Files.Objects) != len(before) {
		t.Fatalf("the backup's manifest lists S3 objects %+v, the bucket holds %d", m.Files, len(before))
	}
	for _, o := range m.Files.Objects {
		if o.ETag != "" && strings.Trim(o.ETag, `"`) != strings.Trim(before[o.Key], `"`) {
			t.Errorf("object %q: ETag %s in the manifest, %s in MinIO", o.Key, o.ETag, before[o.Key])
		}
	}

	var changed, deleted string
	for k := range before {
		switch {
		case changed == "":
			changed = k
		case deleted == "":
			deleted = k
		}
	}
	body := "changed since the backup"
	if _, err := cl.PutObject(t.Context(), bucket, changed, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cl.RemoveObject(t.Context(), bucket, deleted, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	if out := hotsnapOK(t, l, "restore", id, "--yes", "--confirm", "lab", "--no-tui"); !strings.Contains(out, steps.SuccessLine) {
		t.Fatalf("restore did not end with %q:\n%s", steps.SuccessLine, out)
	}
	after := bucketETags(t, cl, bucket)
	if len(after) != len(before) {
		t.Errorf("%d objects after the restore, %d in the backup", len(after), len(before))
	}
	for k, etag := range before {
		if after[k] != etag {
			t.Errorf("object %q: ETag %q after the restore, %q in the backup", k, after[k], etag)
		}
	}
	theHiveHealthy(t, l)
}
