package steps

import (
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
)

// backupSteps builds the backup runbook of an inventory and returns its
// action steps by ID (preflight has checks of the same IDs).
func backupSteps(t *testing.T, inventory string) map[string]Step {
	t.Helper()
	inv, err := config.Load(inventory)
	if err != nil {
		t.Fatal(err)
	}
	rb := Backup(&Env{Inv: inv}, &BackupRun{ID: "hotsnap-20261122-100000-aaaa"})
	byID := map[string]Step{}
	for _, s := range rb.Steps {
		if s.Kind == KindAction {
			byID[s.ID] = s
		}
	}
	return byID
}

func TestBackupStreamsLocalAttachmentsWithTheTables(t *testing.T) {
	st := backupSteps(t, "../testdata/inventory/thehive-cluster.yaml")
	if _, ok := st["files"]; ok {
		t.Fatal("attachments on local disk have a step of their own: they should stream in the stream step")
	}
	stream, ok := st["stream"]
	if !ok {
		t.Fatal("no stream step")
	}
	var tar bool
	for _, c := range stream.Plan() {
		if c.Node == "node3" && c.Cmd == "tar -C /opt/thp/thehive/files -cf - ." && c.Sudo {
			tar = true
		}
	}
	if !tar {
		t.Fatalf("the stream step's plan does not archive the attachments on node3: %+v", stream.Plan())
	}
	if !strings.Contains(stream.Title, "attachments") {
		t.Fatalf("the stream step's title does not say it copies the attachments: %q", stream.Title)
	}
}

func TestBackupCopiesS3AttachmentsInTheirOwnStep(t *testing.T) {
	st := backupSteps(t, "../testdata/inventory/thehive-s3.yaml")
	if _, ok := st["files"]; !ok {
		t.Fatal("attachments in S3 have no step")
	}
	for _, c := range st["stream"].Plan() {
		if strings.Contains(c.Cmd, "thehive/files") {
			t.Fatalf("the stream step archives attachments that are in S3: %+v", c)
		}
	}
}
