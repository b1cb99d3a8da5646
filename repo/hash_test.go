package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// gnuTar makes a tar of dir's contents with GNU tar, as the nodes do.
func gnuTar(t *testing.T, dir string) []byte {
	t.Helper()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar")
	}
	if out, _ := exec.Command("tar", "--version").Output(); !bytes.Contains(out, []byte("GNU tar")) {
		t.Skipf("tar is not GNU tar: %s", out)
	}
	var out, errb bytes.Buffer
	c := exec.Command("tar", "--format=gnu", "-C", dir, "-cf", "-", ".")
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("tar: %v: %s", err, errb.String())
	}
	return out.Bytes()
}

func TestIndexTarGNU(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"with space.db":                      []byte("spaces"),
		"unicodé 日本語.txt":                    []byte("unicode"),
		"new\nline":                          []byte("newline in the name"),
		"-leading-dash":                      []byte("dash"),
		"empty":                              {},
		"sub/dir/nb-1-big-Data.db":           pattern(3, 3<<20+17),
		strings.Repeat("long-name-", 15):     []byte("a name longer than 100 bytes"),
		"sub/" + strings.Repeat("deep/", 30): nil, // directory only
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub/dir/nb-1-big-Data.db", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "with space.db"), filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	archive := gnuTar(t, dir)

	// Through a TeeReader, as the backup does: the tee must see every byte.
	hw := NewHashingWriter(io.Discard)
	got, err := IndexTar(io.TeeReader(bytes.NewReader(archive), hw))
	if err != nil {
		t.Fatal(err)
	}
	if hw.N() != int64(len(archive)) || hw.Sum() != sha(archive) {
		t.Errorf("tee saw %d of %d bytes: IndexTar did not read to the end", hw.N(), len(archive))
	}
	byName := map[string]FileEntry{}
	for _, e := range got {
		byName[strings.TrimPrefix(e.Name, "./")] = e
	}
	for name, data := range files {
		if strings.HasSuffix(name, "/") {
			if _, ok := byName[name]; ok {
				t.Errorf("directory %q indexed", name)
			}
			continue
		}
		e, ok := byName[name]
		if !ok {
			t.Errorf("%q not indexed; got %d entries", name, len(got))
			continue
		}
		// sha256sum of the original file, by the system tool when present.
		want := sha(data)
		if out, err := exec.Command("sha256sum", "--", filepath.Join(dir, name)).Output(); err == nil && !strings.Contains(name, "\n") {
			want = strings.Fields(string(out))[0]
		}
		if e.SHA256 != want || e.Size != int64(len(data)) || e.Mode != 0o640 || e.Type != "" {
			t.Errorf("%q: %+v; want sha %s size %d mode 0640", name, e, want, len(data))
		}
		if e.Owner == "" || e.Group == "" {
			t.Errorf("%q: owner/group not recorded: %+v", name, e)
		}
	}
	if l := byName["link"]; l.Type != TypeSymlink || l.Link != "sub/dir/nb-1-big-Data.db" || l.SHA256 != "" {
		t.Errorf("symlink: %+v", l)
	}
	h1, h2 := byName["hard"], byName["with space.db"]
	if (h1.Type == TypeHardlink) == (h2.Type == TypeHardlink) || h1.SHA256 != sha([]byte("spaces")) || h2.SHA256 != h1.SHA256 {
		t.Errorf("hard link pair: %+v / %+v; want one regular, one hardlink, same sha", h1, h2)
	}
}

func TestIndexTarErrors(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	data := pattern(9, 50000)
	_ = tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(data)
	_ = tw.Close()
	full := buf.Bytes()

	got, err := IndexTar(bytes.NewReader(full[:30000]))
	if err == nil || !strings.Contains(err.Error(), `file "a"`) {
		t.Errorf("truncated archive: %v, %v; want an error naming the file", got, err)
	}
	if _, err := IndexTar(strings.NewReader(strings.Repeat("not a tar ", 100))); err == nil {
		t.Error("garbage accepted as tar")
	}
	if got, err := IndexTar(bytes.NewReader(nil)); err != nil || len(got) != 0 {
		t.Errorf("empty stream: %v, %v", got, err)
	}
}

// tarStream writes a tar of n files of size bytes each to w, generating the
// content on the fly (never holding a file in memory).
func tarStream(w io.WriteCloser, n int, size int64) {
	tw := tar.NewWriter(w)
	chunk := pattern(11, 64<<10)
	for i := range n {
		if err := tw.WriteHeader(&tar.Header{Name: "nb-" + string(rune('a'+i%26)) + "-Data.db", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			w.Close()
			return
		}
		for left := size; left > 0; {
			k := min(left, int64(len(chunk)))
			if _, err := tw.Write(chunk[:k]); err != nil {
				w.Close()
				return
			}
			left -= k
		}
	}
	_ = tw.Close()
	_ = w.Close()
}

// streamToStore streams a generated tar through IndexTar into s at p.
func streamToStore(ctx context.Context, s Store, p string, n int, size int64) (*HashingWriter, []FileEntry, error) {
	pr, pw := io.Pipe()
	go tarStream(pw, n, size)
	w, err := s.Create(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	hw := NewHashingWriter(w)
	files, err := IndexTar(io.TeeReader(pr, hw))
	if err != nil {
		_ = Abort(w)
		return nil, nil, err
	}
	return hw, files, w.Close()
}

// TestStreamMemoryFlat streams 64 MB through IndexTar into a local store
// and checks the heap did not grow with the data.
func TestStreamMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hw, files, err := streamToStore(context.Background(), s, "b/t.tar", 16, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(files) != 16 || hw.N() < 64<<20 {
		t.Fatalf("streamed %d files, %d bytes", len(files), hw.N())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes to stream %d: memory grows with the data", alloc, hw.N())
	}
}

func BenchmarkHashingWriter(b *testing.B) {
	data := pattern(1, 1<<20)
	hw := NewHashingWriter(io.Discard)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = hw.Write(data)
	}
}

// BenchmarkStream200MB streams a 200 MB tar through IndexTar and a hashing
// writer into a local store; B/op stays flat (it does not grow with size).
func BenchmarkStream200MB(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(200 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := streamToStore(context.Background(), s, "b/t.tar", 50, 4<<20); err != nil {
			b.Fatal(err)
		}
	}
}
