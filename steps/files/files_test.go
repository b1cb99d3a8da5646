package files

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// TestSwapCommands: the folder is quoted, the staging and replaced folders
// sit inside it and carry the backup ID, the staged folder takes the
// folder's owner and mode before the archive's "./" entry may set them.
func TestSwapCommands(t *testing.T) {
	s := SwapFor("/opt/thp/the hive/files", "hotsnap-20261122-100000-aaaa")
	for _, want := range []string{"mkdir -p '/opt/thp/the hive/files' && cd '/opt/thp/the hive/files' && rm -rf .hotsnap-restore-hotsnap-20261122-100000-aaaa",
		"chown --reference=. .hotsnap-restore-hotsnap-20261122-100000-aaaa", "tar -x -p --same-owner -C .hotsnap-restore-hotsnap-20261122-100000-aaaa"} {
		if !strings.Contains(s.Extract, want) {
			t.Errorf("Extract %q lacks %q", s.Extract, want)
		}
	}
	if !strings.Contains(s.Replace, "! -name .hotsnap-restore-hotsnap-20261122-100000-aaaa ! -name .hotsnap-replaced-hotsnap-20261122-100000-aaaa") ||
		!strings.HasSuffix(s.Replace, "rm -rf .hotsnap-restore-hotsnap-20261122-100000-aaaa .hotsnap-replaced-hotsnap-20261122-100000-aaaa") {
		t.Errorf("Replace %q", s.Replace)
	}
	if s.Clean != "cd '/opt/thp/the hive/files' && rm -rf .hotsnap-restore-hotsnap-20261122-100000-aaaa" {
		t.Errorf("Clean %q", s.Clean)
	}
}

// TestArchiveIndexesWhatItStores: the tar a node streams lands in the
// repository whole, with every file's size, mode and hash in the index.
func TestArchiveIndexesWhatItStores(t *testing.T) {
	ctx := context.Background()
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	if err := tw.WriteHeader(&tar.Header{Name: "./a b", Mode: 0o640, Size: 5, Typeflag: tar.TypeReg, Uname: "thehive"}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("hello"))
	tw.Close()
	store, err := repo.Open(ctx, t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := remotetest.New(t)
	f.Expect("node3", TarCmd("/opt/files")).WithSudo(true).Stdout(archive.String())
	var ix *repo.ArchiveIndex
	err = (&steps.Engine{Exec: f, Reporter: steps.NopReporter{}}).Run(ctx, steps.Runbook{Name: "t", Steps: []steps.Step{{ID: "files", Kind: steps.KindAction,
		Run: func(ctx context.Context, rc *steps.RunContext) (err error) {
			ix, err = Archive(ctx, rc, "node3", "/opt/files", store, "b/files/attachments.tar", nil)
			return err
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Size != int64(archive.Len()) || len(ix.Files) != 1 || ix.Files[0].Name != "./a b" || ix.Files[0].Size != 5 {
		t.Fatalf("index %+v", ix)
	}
	r, err := store.Open(ctx, "b/files/attachments.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got bytes.Buffer
	got.ReadFrom(r)
	if !bytes.Equal(got.Bytes(), archive.Bytes()) {
		t.Error("the stored archive differs from the streamed one")
	}
}
