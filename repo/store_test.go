package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// suiteOptions tunes the shared Store tests to a backend.
type suiteOptions struct {
	// newlineNames: the backend stores names holding a newline.
	newlineNames bool
}

// putString stores content at p through Create/Close.
func putString(t *testing.T, ctx context.Context, s Store, p, content string) {
	t.Helper()
	w, err := s.Create(ctx, p)
	if err != nil {
		t.Fatalf("Create(%q): %v", p, err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatalf("Write(%q): %v", p, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%q): %v", p, err)
	}
}

// getString reads p whole.
func getString(t *testing.T, ctx context.Context, s Store, p string) string {
	t.Helper()
	r, err := s.Open(ctx, p)
	if err != nil {
		t.Fatalf("Open(%q): %v", p, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", p, err)
	}
	return string(b)
}

func paths(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

// pattern returns n deterministic bytes depending on seed.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// testStore runs the behaviour every Store must have.
func testStore(t *testing.T, s Store, o suiteOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("create open stat list", func(t *testing.T) {
		w, err := s.Create(ctx, "b1/cassandra/node1/ks/t-1.tar")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, "hello "); err != nil {
			t.Fatal(err)
		}
		// Not visible before Close.
		if _, err := s.Stat(ctx, "b1/cassandra/node1/ks/t-1.tar"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat before Close = %v, want fs.ErrNotExist", err)
		}
		if es, err := s.List(ctx, "b1"); err != nil || len(es) != 0 {
			t.Errorf("List before Close = %v, %v; want nothing (no temporary file either)", paths(es), err)
		}
		if _, err := io.WriteString(w, "world"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err == nil {
			t.Error("second Close succeeded")
		}
		if n, err := s.Stat(ctx, "b1/cassandra/node1/ks/t-1.tar"); err != nil || n != 11 {
			t.Errorf("Stat = %d, %v; want 11", n, err)
		}
		if got := getString(t, ctx, s, "b1/cassandra/node1/ks/t-1.tar"); got != "hello world" {
			t.Errorf("content = %q", got)
		}
		putString(t, ctx, s, "b1/manifest.json", "{}")
		putString(t, ctx, s, "b1/a", "")
		if got := getString(t, ctx, s, "b1/a"); got != "" {
			t.Errorf("empty file reads %q", got)
		}
		putString(t, ctx, s, "b10/x", "x") // b10 is not under b1
		es, err := s.List(ctx, "b1")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"b1/a", "b1/cassandra/node1/ks/t-1.tar", "b1/manifest.json"}
		if got := paths(es); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("List(b1) = %q, want %q", got, want)
		}
		for _, e := range es {
			if e.Path == "b1/a" && e.Size != 0 || e.Path == "b1/manifest.json" && e.Size != 2 {
				t.Errorf("entry %+v: wrong size", e)
			}
			if e.ModTime.IsZero() || time.Since(e.ModTime) > time.Hour {
				t.Errorf("entry %+v: implausible ModTime", e)
			}
		}
		all, err := s.List(ctx, "")
		if err != nil || len(all) < 4 {
			t.Errorf("List(\"\") = %q, %v", paths(all), err)
		}
		if es, err := s.List(ctx, "b1/manifest.json"); err != nil || len(es) != 1 || es[0].Path != "b1/manifest.json" || es[0].Size != 2 {
			t.Errorf("List(a file) = %+v, %v; want that file", es, err)
		}
		if es, err := s.List(ctx, "nothing-here"); err != nil || len(es) != 0 {
			t.Errorf("List(missing) = %q, %v; want empty, nil", paths(es), err)
		}
		// Overwrite replaces.
		putString(t, ctx, s, "b1/a", "new")
		if got := getString(t, ctx, s, "b1/a"); got != "new" {
			t.Errorf("after overwrite: %q", got)
		}
	})

	t.Run("missing", func(t *testing.T) {
		if _, err := s.Open(ctx, "nope/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
		}
		if _, err := s.Stat(ctx, "nope/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(missing) = %v, want fs.ErrNotExist", err)
		}
	})

	t.Run("awkward names", func(t *testing.T) {
		names := []string{"aw/sp ace 'q' \"dq\" $(touch pwned) `x` ü 日本.bin", "aw/-leading-dash", "aw/*glob?[x]"}
		if o.newlineNames {
			names = append(names, "aw/new\nline")
		}
		for i, n := range names {
			putString(t, ctx, s, n, fmt.Sprintf("content %d", i))
		}
		es, err := s.List(ctx, "aw")
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(names) {
			t.Errorf("List(aw) = %q, want %d names", paths(es), len(names))
		}
		for i, n := range names {
			if got := getString(t, ctx, s, n); got != fmt.Sprintf("content %d", i) {
				t.Errorf("%q: content %q", n, got)
			}
		}
	})

	t.Run("abort", func(t *testing.T) {
		w, err := s.Create(ctx, "ab/file")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pattern(1, 1<<20)); err != nil {
			t.Fatal(err)
		}
		if err := Abort(w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err == nil {
			t.Error("Close after Abort succeeded")
		}
		if _, err := s.Stat(ctx, "ab/file"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat after Abort = %v, want fs.ErrNotExist", err)
		}
		if es, _ := s.List(ctx, "ab"); len(es) != 0 {
			t.Errorf("List after Abort = %q", paths(es))
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, ccancel := context.WithCancel(ctx)
		w, err := s.Create(cctx, "cc/file")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("partial"))
		ccancel()
		if err := w.Close(); err == nil {
			t.Error("Close after cancel succeeded")
		}
		if _, err := s.Stat(ctx, "cc/file"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat after cancelled write = %v, want fs.ErrNotExist", err)
		}
	})

	t.Run("8 concurrent writers", func(t *testing.T) {
		const n, size = 8, 512 << 10
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w, err := s.Create(ctx, fmt.Sprintf("conc/f%d", i))
				if err != nil {
					errs <- err
					return
				}
				data := pattern(i, size)
				for off := 0; off < len(data); off += 32 << 10 {
					if _, err := w.Write(data[off : off+32<<10]); err != nil {
						errs <- err
						return
					}
				}
				errs <- w.Close()
			}()
			// Concurrent writers of one path: the survivor is one of them, whole.
			wg.Add(1)
			go func() {
				defer wg.Done()
				w, err := s.Create(ctx, "conc/same")
				if err != nil {
					errs <- err
					return
				}
				if _, err := w.Write(pattern(100+i, 64<<10)); err != nil {
					errs <- err
					return
				}
				errs <- w.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for i := range n {
			if got := getString(t, ctx, s, fmt.Sprintf("conc/f%d", i)); sha([]byte(got)) != sha(pattern(i, size)) {
				t.Errorf("conc/f%d: content differs (%d bytes)", i, len(got))
			}
		}
		same := getString(t, ctx, s, "conc/same")
		ok := false
		for i := range n {
			ok = ok || sha([]byte(same)) == sha(pattern(100+i, 64<<10))
		}
		if !ok {
			t.Errorf("conc/same (%d bytes) is no writer's complete content", len(same))
		}
		es, err := s.List(ctx, "conc")
		if err != nil || len(es) != n+1 {
			t.Errorf("List(conc) = %q, %v; want %d files and no leftovers", paths(es), err, n+1)
		}
	})

	t.Run("path checks", func(t *testing.T) {
		bad := map[string]string{
			"../x":        "leaves the repository",
			"a/../../x":   "leaves the repository",
			"/etc/passwd": "absolute",
			"a/\x00b":     "NUL",
			"":            "empty path",
			"a//b":        "not clean",
			"./a":         "not clean",
			`a\..\b`:      "backslash",
		}
		for p, want := range bad {
			if _, err := s.Create(ctx, p); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Create(%q) = %v, want an error saying %q", p, err, want)
			}
			if _, err := s.Open(ctx, p); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Open(%q) = %v, want an error saying %q", p, err, want)
			}
			if _, err := s.Stat(ctx, p); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Stat(%q) = %v, want an error saying %q", p, err, want)
			}
			if p != "" {
				if err := s.RemoveAll(ctx, p); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("RemoveAll(%q) = %v, want an error saying %q", p, err, want)
				}
				if _, err := s.List(ctx, p); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("List(%q) = %v, want an error saying %q", p, err, want)
				}
			}
		}
	})

	t.Run("remove", func(t *testing.T) {
		putString(t, ctx, s, "rm/a/b", "1")
		putString(t, ctx, s, "rm/c", "2")
		putString(t, ctx, s, "rmx/keep", "3")
		if err := s.RemoveAll(ctx, ""); err == nil || !strings.Contains(err.Error(), "whole repository") {
			t.Errorf("RemoveAll(\"\") = %v, want a refusal", err)
		}
		if err := s.RemoveAll(ctx, "rm"); err != nil {
			t.Fatal(err)
		}
		if es, err := s.List(ctx, "rm"); err != nil || len(es) != 0 {
			t.Errorf("List after RemoveAll = %q, %v", paths(es), err)
		}
		if got := getString(t, ctx, s, "rmx/keep"); got != "3" {
			t.Errorf("RemoveAll(rm) touched rmx: %q", got)
		}
		if err := s.RemoveAll(ctx, "rm"); err != nil {
			t.Errorf("RemoveAll(absent) = %v", err)
		}
	})

	t.Run("create once", func(t *testing.T) {
		const n = 6
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- CreateOnce(ctx, s, "once.lock", []byte(strconv.Itoa(i))) }()
		}
		won := 0
		for range n {
			switch err := <-errs; {
			case err == nil:
				won++
			case !errors.Is(err, fs.ErrExist):
				t.Fatalf("CreateOnce lost with %v, want fs.ErrExist", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d racing CreateOnce won, want exactly 1", won, n)
		}
		if got := getString(t, ctx, s, "once.lock"); len(got) != 1 {
			t.Errorf("the lock holds %q, want one writer's content", got)
		}
		if es, _ := s.List(ctx, ""); slices.ContainsFunc(es, func(e Entry) bool { return strings.Contains(e.Path, "once.lock") && e.Path != "once.lock" }) {
			t.Errorf("temporary files left: %q", paths(es))
		}
		if err := s.RemoveAll(ctx, "once.lock"); err != nil {
			t.Fatal(err)
		}
		if err := CreateOnce(ctx, s, "once.lock", []byte("again")); err != nil {
			t.Fatalf("CreateOnce after the lock was removed: %v", err)
		}
		if err := s.RemoveAll(ctx, "once.lock"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLocalStore(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "repo")
	s, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != root {
		t.Errorf("String() = %q, want %q", s.String(), root)
	}
	testStore(t, s, suiteOptions{newlineNames: true})
	// Nothing escaped the root.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "repo" {
		t.Errorf("files beside the repository: %v", ents)
	}
	if _, err := os.Stat("pwned"); err == nil {
		t.Error("a file name was executed")
	}
}

// TestLocalWriteModes writes files of sizes around the direct I/O buffer
// and alignment, in odd-sized pieces, with O_DIRECT (where the file system
// allows it) and through the page cache: each reads back intact. Through the
// page cache, the writer hands the bytes to the kernel as it goes.
func TestLocalWriteModes(t *testing.T) {
	ctx := context.Background()
	sizes := []int{0, 1, directAlign - 1, directAlign, directAlign + 1, directChunk - 1, directChunk, directChunk + 1, 3*writebackChunk + 12345}
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			defer func(old bool) { directIO = old }(directIO)
			directIO = direct
			s, _ := localStoreT(t)
			for i, size := range sizes {
				data := pattern(i, size)
				p := fmt.Sprintf("b/f%d", size)
				w, err := s.Create(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				lw := w.(*localWriter)
				if direct && !lw.direct && i == 0 {
					t.Logf("the file system of %s refuses O_DIRECT: page cache path only", s)
				}
				if !direct && lw.direct {
					t.Fatal("O_DIRECT used while turned off")
				}
				for rest := data; len(rest) > 0; {
					n := min(len(rest), 100003)
					if _, err := w.Write(rest[:n]); err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
				}
				if !lw.direct && lw.written > writebackChunk && lw.flushed <= lw.written-writebackChunk {
					t.Errorf("size %d: written %d, handed to write-behind only %d", size, lw.written, lw.flushed)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if got := getString(t, ctx, s, p); len(got) != size || sha([]byte(got)) != sha(data) {
					t.Errorf("size %d: read back %d bytes, differing from those written", size, len(got))
				}
			}
		})
	}
}

func TestLocalCrashMidWrite(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, "file://"+root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	putString(t, ctx, s, "b/manifest.json", `{"old":true}`)
	// A writer that is never closed, as after a crash: the old content
	// stays under the final name, the new one only in a hidden temp file.
	w, err := s.Create(ctx, "b/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(`{"new":`)); err != nil {
		t.Fatal(err)
	}
	if got := getString(t, ctx, s, "b/manifest.json"); got != `{"old":true}` {
		t.Errorf("final name shows %q mid-write", got)
	}
	files, _ := os.ReadDir(filepath.Join(root, "b"))
	if len(files) != 2 {
		t.Errorf("on disk: %v; want the file and one temporary file", files)
	}
	es, err := s.List(ctx, "")
	if err != nil || len(es) != 1 || es[0].Path != "b/manifest.json" {
		t.Errorf("List = %q, %v; want only the complete file", paths(es), err)
	}
	_ = Abort(w)
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"", "empty URL"},
		{"ftp://x/y", "unknown scheme"},
		{"ssh://host/srv/backups", "no SSH dialer"},
		{"ssh://host/", "absolute directory"},
		{"ssh://host", "absolute directory"},
		{"ssh://u:pw@host/x", "passwords do not belong"},
		{"s3://Bad_Bucket/x", "not a valid bucket name"},
		{"s3://bucket/../x", "leaves the repository"},
		{"s3://bucket/x", "access key and secret key are required"},
		{"s3://key:secret@bucket/x", "credentials do not belong"},
		{"file://otherhost/x", "local path"},
		{"a\x00b", "NUL"},
	} {
		_, err := Open(ctx, tc.url, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error saying %q", tc.url, err, tc.want)
		}
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, f, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(file) = %v", err)
	}
}

func TestHashingWriter(t *testing.T) {
	var buf bytes.Buffer
	hw := NewHashingWriter(&buf)
	data := pattern(7, 100000)
	for off := 0; off < len(data); off += 333 {
		end := min(off+333, len(data))
		if _, err := hw.Write(data[off:end]); err != nil {
			t.Fatal(err)
		}
	}
	if hw.N() != int64(len(data)) || hw.Sum() != sha(data) || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("N=%d Sum=%s; want %d %s and the data passed through", hw.N(), hw.Sum(), len(data), sha(data))
	}
	if NewHashingWriter(io.Discard).Sum() != sha(nil) {
		t.Error("empty sum wrong")
	}
}

// TestLocalDirectOnlyOnDisks: on a file system that is not a local disk's
// (tmpfs here, NFS in the field), the local store writes through the page
// cache, not with O_DIRECT.
func TestLocalDirectOnlyOnDisks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("O_DIRECT is Linux's")
	}
	dir, err := os.MkdirTemp("/dev/shm", "hotsnap-repo-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(context.Background(), "b/f")
	if err != nil {
		t.Fatal(err)
	}
	defer Abort(w)
	if w.(*localWriter).direct {
		t.Error("O_DIRECT used on tmpfs")
	}
}
