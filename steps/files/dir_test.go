package files

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// sh runs script with sh, stdin from in, and returns stdout.
func sh(t *testing.T, script string, in []byte) []byte {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, errb.String())
	}
	return out.Bytes()
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestBesideSwap runs the commands with sh and GNU tar: the archive leaves
// the transient folders out; unpacked beside the folder and swapped in, it
// replaces every entry but the kept ones, the previous ones wait in
// .pre-restore-ID until Finish; run again after an interruption (the
// current entries already moved), Replace gives the same result; the
// listing then matches the archive's index.
func TestBesideSwap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir")
	write(t, filepath.Join(dir, "csar/app/1.0/app.csar"), "csar v1", 0o640)
	write(t, filepath.Join(dir, "plugins/p.zip"), "plugin", 0o644)
	write(t, filepath.Join(dir, "work/x"), "transient", 0o644)
	write(t, filepath.Join(dir, "eshome/node.lock"), "es", 0o644)
	keep := []string{"eshome", "work"}
	archive := sh(t, TarExcludingCmd(dir, keep), nil)
	ix, err := repo.IndexArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range ix.Files {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"./csar/app/1.0/app.csar", "./plugins/p.zip"}) && !slices.Equal(names, []string{"./plugins/p.zip", "./csar/app/1.0/app.csar"}) {
		t.Fatalf("archived %v: the transient folders must be left out", names)
	}
	// Changed and added since the backup.
	write(t, filepath.Join(dir, "csar/app/1.0/app.csar"), "csar v2, changed", 0o600)
	write(t, filepath.Join(dir, "images/new.png"), "png", 0o644)
	os.Remove(filepath.Join(dir, "plugins/p.zip"))

	b := BesideFor(dir, "hotsnap-20261122-100000-aaaa", keep)
	if b.Stage != dir+".restore-hotsnap-20261122-100000-aaaa" || b.Old != dir+".pre-restore-hotsnap-20261122-100000-aaaa" {
		t.Fatalf("staging %q, previous %q", b.Stage, b.Old)
	}
	for round := range 2 {
		sh(t, b.Extract, archive)
		sh(t, b.Replace, nil)
		if round == 0 {
			// An interruption after the swap: the next attempt unpacks and
			// replaces again, over what the first moved in.
			write(t, filepath.Join(dir, "csar/partial"), "half moved", 0o644)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "csar/app/1.0/app.csar"))
	if string(got) != "csar v1" {
		t.Errorf("csar = %q, want the backup's", got)
	}
	for p, want := range map[string]bool{"plugins/p.zip": true, "images/new.png": false, "csar/partial": false, "work/x": true, "eshome/node.lock": true} {
		if _, err := os.Stat(filepath.Join(dir, p)); (err == nil) != want {
			t.Errorf("%s: present %v, want %v", p, err == nil, want)
		}
	}
	if prev, err := os.ReadFile(filepath.Join(b.Old, "csar/app/1.0/app.csar")); err != nil || string(prev) != "csar v2, changed" {
		t.Errorf("the previous data is not kept in %s: %q %v", b.Old, prev, err)
	}
	if _, err := os.Stat(b.Stage); err == nil {
		t.Error("the staging folder is left")
	}
	list := sh(t, ListCmd(dir, keep), nil)
	if d := Compare(parseList(string(list)), ix.Files); len(d) != 0 {
		t.Errorf("the restored folder differs from the archive: %v", d)
	}
	os.Chmod(filepath.Join(dir, "plugins/p.zip"), 0o600)
	if d := Compare(parseList(string(sh(t, ListCmd(dir, keep), nil))), ix.Files); len(d) != 1 || !strings.Contains(d[0], "mode 600, the backup has 644") {
		t.Errorf("Compare after a chmod = %v", d)
	}
	sh(t, b.Finish, nil)
	if _, err := os.Stat(b.Old); err == nil {
		t.Error("Finish left the previous data")
	}
}

// TestFilesTarAndSums: the configuration files that exist are archived
// relative to /, the missing ones skipped; none existing prints nothing;
// sums name each file.
func TestFilesTarAndSums(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "config", "alien4cloud-config.yml")
	write(t, conf, "server:\n  port: 8088\n", 0o640)
	ix, err := repo.IndexArchive(bytes.NewReader(sh(t, FilesTarCmd([]string{conf, filepath.Join(dir, "a4c.env")}), nil)))
	if err != nil || len(ix.Files) != 1 || ix.Files[0].Name != strings.TrimPrefix(conf, "/") || ix.Files[0].Mode != 0o640 {
		t.Fatalf("index %+v, %v", ix, err)
	}
	if out := sh(t, FilesTarCmd([]string{filepath.Join(dir, "none")}), nil); len(out) != 0 {
		t.Errorf("no file: %d bytes printed", len(out))
	}
	sums := string(sh(t, SumsCmd([]string{conf, filepath.Join(dir, "none")}), nil))
	if !strings.HasPrefix(sums, ix.Files[0].SHA256+"  "+conf+"\n") || strings.Count(sums, "\n") != 1 {
		t.Errorf("sums %q", sums)
	}
}

// TestUnpackTellsDamageFromALostNode: an archive cut short by the node
// (the command fails) is the node's error; a damaged archive is
// repo.ErrBackupDamaged.
func TestUnpackTellsDamageFromALostNode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a"), strings.Repeat("x", 5000), 0o644)
	archive := sh(t, TarExcludingCmd(dir, nil), nil)
	store, err := repo.Open(ctx, t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := BesideFor("/data", "hotsnap-20261122-100000-aaaa", nil)
	for _, tt := range []struct {
		name    string
		data    []byte
		fail    error
		damaged bool
	}{
		{"node lost", archive, errors.New("node1: ssh: connection lost"), false},
		{"damaged archive", append(append([]byte{}, archive[:600]...), bytes.Repeat([]byte{0xff}, 2000)...), nil, true},
	} {
		putFile(t, store, "x/files/data.tar", tt.data)
		f := remotetest.New(t)
		exp := f.Expect("node1", b.Extract).WithSudo(true).Always() // a damaged stdin ends the fake before it counts
		if tt.fail != nil {
			exp.Fail(tt.fail)
		}
		err := (&steps.Engine{Exec: f, Reporter: steps.NopReporter{}}).Run(ctx, steps.Runbook{Name: "t", Steps: []steps.Step{{ID: "stage", Kind: steps.KindAction,
			Run: func(ctx context.Context, rc *steps.RunContext) error {
				_, err := b.Unpack(ctx, rc, "node1", store, "x/files/data.tar", int64(len(tt.data)))
				return err
			}}}})
		if err == nil || errors.Is(err, repo.ErrBackupDamaged) != tt.damaged {
			t.Errorf("%s: %v (damaged: %v, want %v)", tt.name, err, errors.Is(err, repo.ErrBackupDamaged), tt.damaged)
		}
	}
}

func putFile(t *testing.T, s repo.Store, p string, data []byte) {
	t.Helper()
	w, err := s.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
