package thehive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/files"
)

// backupSteps builds the backup runbook of an inventory and returns its
// action steps by ID (preflight has checks of the same IDs).
func backupSteps(t *testing.T, inventory string) map[string]steps.Step {
	t.Helper()
	inv, err := config.Load(inventory)
	if err != nil {
		t.Fatal(err)
	}
	rb := Backup(&steps.Env{Inv: inv}, &BackupRun{ID: "hotsnap-20261122-100000-aaaa"})
	byID := map[string]steps.Step{}
	for _, s := range rb.Steps {
		if s.Kind == steps.KindAction {
			byID[s.ID] = s
		}
	}
	return byID
}

func TestBackupStreamsLocalAttachmentsWithTheTables(t *testing.T) {
	st := backupSteps(t, "../../testdata/inventory/thehive-cluster.yaml")
	if _, ok := st["files"]; ok {
		t.Fatal("attachments on local disk have a step of their own: they should stream in the stream step")
	}
	stream, ok := st["stream"]
	if !ok {
		t.Fatal("no stream step")
	}
	var tar bool
	for _, c := range stream.Plan() {
		if c.Node == "node3" && c.Cmd == "tar -C /opt/thp/thehive/files --sparse -cf - ." && c.Sudo {
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
	st := backupSteps(t, "../../testdata/inventory/thehive-s3.yaml")
	if _, ok := st["files"]; !ok {
		t.Fatal("attachments in S3 have no step")
	}
	for _, c := range st["stream"].Plan() {
		if strings.Contains(c.Cmd, "thehive/files") {
			t.Fatalf("the stream step archives attachments that are in S3: %+v", c)
		}
	}
}

// The attachments' progress takes its total from the measure step's
// estimate: the folder is not measured a second time (the fake fails on a
// du it was not told to expect).
func TestBackupFilesTakesItsTotalFromTheEstimate(t *testing.T) {
	ctx := context.Background()
	inv, err := config.Load("../../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := repo.Open(ctx, t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	if err := tw.WriteHeader(&tar.Header{Name: "./a", Mode: 0o640, Size: 5, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	env := &steps.Env{Inv: inv}
	node, dir := files.Location(env)
	f := remotetest.New(t)
	f.Expect(node, files.TarCmd(dir)).WithSudo(true).Stdout(archive.String())
	b := &BackupRun{Store: store, ID: "hotsnap-20261122-100000-aaaa",
		est: &steps.Estimate{Parts: []steps.EstimatePart{{Name: partAttachments, Bytes: 4096, Where: node + ":" + dir}}}}
	rec := &steps.Recorder{}
	e := &steps.Engine{Exec: f, Reporter: rec}
	step := steps.Step{ID: "files", Kind: steps.KindAction, Run: func(ctx context.Context, rc *steps.RunContext) error {
		return b.backupFiles(ctx, rc, env, filesProgressKey)
	}}
	if err := e.Run(ctx, steps.Runbook{Name: "t", Cluster: "prod", Steps: []steps.Step{step}}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("progress files %s %d/4096 bytes", filesProgressKey, archive.Len())
	if !rec.Has(want) {
		t.Fatalf("no %q in %q", want, rec.Events())
	}
	if m := b.Manifest(); m.Files == nil || len(m.Files.Entries) != 1 {
		t.Fatalf("manifest files: %+v", m.Files)
	}
}
