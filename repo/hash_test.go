package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
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

// skeletonDigest computes the tar digest of an archive made by makeTar
// (one 512-byte header per file, short names) from the layout alone: each
// content range replaced by its SHA-256.
func skeletonDigest(archive []byte, sizes []int) string {
	h := sha256.New()
	off := 0
	for _, n := range sizes {
		h.Write(archive[off : off+512])
		off += 512
		sum := sha256.Sum256(archive[off : off+n])
		h.Write(sum[:])
		off += n
		pad := (512 - n%512) % 512
		h.Write(archive[off : off+pad])
		off += pad
	}
	h.Write(archive[off:])
	return hex.EncodeToString(h.Sum(nil))
}

func TestIndexArchiveDigest(t *testing.T) {
	files := map[string][]byte{"a": pattern(1, 1500), "empty": {}, "b": pattern(2, 512), "c": pattern(3, 5000)}
	order := []string{"a", "empty", "b", "c"}
	archive := makeTar(t, files, order)
	ix, err := IndexArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, n := range order {
		sizes = append(sizes, len(files[n]))
	}
	if want := skeletonDigest(archive, sizes); ix.Digest != want {
		t.Errorf("digest %s, want %s (headers, padding and each file's SHA-256)", ix.Digest, want)
	}
	if ix.Size != int64(len(archive)) || len(ix.Files) != 4 || ix.Files[3].SHA256 != sha(files["c"]) {
		t.Errorf("index: size %d of %d, files %+v", ix.Size, len(archive), ix.Files)
	}
	// Any single flipped byte (header, content, padding, end blocks)
	// changes the digest or makes the archive unreadable.
	for off := range archive {
		bit := byte(1) << (off % 8)
		archive[off] ^= bit
		got, err := IndexArchive(bytes.NewReader(archive))
		archive[off] ^= bit
		if err == nil && got.Digest == ix.Digest {
			t.Fatalf("byte %d ^ %#x: same digest", off, bit)
		}
	}
	// The digest does not depend on how the stream is cut into reads.
	got, err := IndexArchive(iotest.OneByteReader(bytes.NewReader(archive)))
	if err != nil || got.Digest != ix.Digest {
		t.Errorf("one byte at a time: %v, %v", got.Digest, err)
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

// tarStreamSum returns the size and SHA-256 of the archive tarStream
// writes (it is deterministic), to compare with what a store holds.
func tarStreamSum(n int, size int64) (int64, string) {
	pr, pw := io.Pipe()
	go tarStream(pw, n, size)
	hw := NewHashingWriter(io.Discard)
	_, _ = io.Copy(hw, pr)
	return hw.N(), hw.Sum()
}

// streamToStore streams a generated tar through IndexArchive into s at p,
// as the backup does.
func streamToStore(ctx context.Context, s Store, p string, n int, size int64) (*ArchiveIndex, error) {
	pr, pw := io.Pipe()
	go tarStream(pw, n, size)
	w, err := s.Create(ctx, p)
	if err != nil {
		return nil, err
	}
	ix, err := IndexArchive(io.TeeReader(pr, w))
	if err != nil {
		_ = Abort(w)
		return nil, err
	}
	return ix, w.Close()
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
	ix, err := streamToStore(context.Background(), s, "b/t.tar", 16, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(ix.Files) != 16 || ix.Size < 64<<20 {
		t.Fatalf("streamed %d files, %d bytes", len(ix.Files), ix.Size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes to stream %d: memory grows with the data", alloc, ix.Size)
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

// BenchmarkStream200MB streams a 200 MB tar through IndexArchive into a
// local store, as the backup does; B/op stays flat (it does not grow with
// size).
func BenchmarkStream200MB(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(200 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := streamToStore(context.Background(), s, "b/t.tar", 50, 4<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIndexArchiveSpecialFiles: FIFOs and devices are listed apart, as
// archived without content, and named in SpecialNote; regular files are
// indexed as before.
func TestIndexArchiveSpecialFiles(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "./a-fifo", Typeflag: tar.TypeFifo, Mode: 0o600, Uname: "thehive"},
		{Name: "./null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Name: "./file", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("hi"))
		}
	}
	tw.Close()
	ix, err := IndexArchive(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Files) != 1 || ix.Files[0].Name != "./file" || len(ix.Special) != 2 ||
		ix.Special[0] != (FileEntry{Name: "./a-fifo", Type: TypeFIFO, Mode: 0o600, Owner: "thehive"}) || ix.Special[1].Type != TypeCharDevice {
		t.Fatalf("files %+v, special %+v", ix.Files, ix.Special)
	}
	if got := SpecialNote(ix.Special); got != "2 special files archived as such, without content: ./a-fifo (fifo), ./null (chardev)" {
		t.Errorf("note %q", got)
	}
	if SpecialNote(nil) != "" {
		t.Error("a note without special files")
	}
}
