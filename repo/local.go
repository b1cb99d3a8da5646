package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"unsafe"
)

// localStore is a repository in a local directory.
type localStore struct {
	root string
}

func openLocal(dir string) (Store, error) {
	if dir == "" {
		return nil, errors.New("open repository: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("open repository %s: not a directory", abs)
	}
	return &localStore{root: abs}, nil
}

func (s *localStore) String() string { return s.root }

func (s *localStore) full(p string) string { return filepath.Join(s.root, filepath.FromSlash(p)) }

func (s *localStore) wrap(op, p string, err error) error {
	return fmt.Errorf("repository %s: %s %s: %w", s.root, op, p, err)
}

func (s *localStore) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrap("create", p, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, s.wrap("create", p, err)
	}
	final := s.full(p)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return nil, s.wrap("create", p, err)
	}
	tmp := s.full(tmpName(p))
	var err error
	var f *os.File
	direct := false
	if directIO {
		f, direct, err = openDirect(tmp, 0o640)
	} else {
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	}
	if err != nil {
		return nil, s.wrap("create", p, err)
	}
	return &localWriter{ctx: ctx, s: s, p: p, f: f, tmp: tmp, final: final, direct: direct}, nil
}

// writebackChunk is how many bytes a localWriter writing through the page
// cache lets accumulate before it asks the kernel to start writing them to
// disk (startWriteback).
const writebackChunk = 8 << 20

// Direct I/O: a localWriter opened with O_DIRECT gathers what it is given
// into a directChunk-byte buffer aligned on directAlign bytes and writes
// whole buffers; Close writes the aligned part of the rest directly and
// the unaligned end through the page cache. It spares the CPU the page
// cache's work, which costs more than the copy into the buffer (on a
// virtual machine, several times more and unevenly).
const (
	directChunk = 1 << 20
	directAlign = 4096
)

// directIO lets local stores write with O_DIRECT where the file system
// allows it (tests turn it off to exercise the page-cache path).
var directIO = true

// directBufs recycles the aligned buffers of direct writers.
var directBufs = sync.Pool{New: func() any {
	raw := make([]byte, directChunk+directAlign)
	off := directAlign - int(uintptr(unsafe.Pointer(&raw[0]))%directAlign)
	if off == directAlign {
		off = 0
	}
	b := raw[off : off : off+directChunk]
	return &b
}}

// localWriter writes to a temporary file and renames it into place on Close.
type localWriter struct {
	ctx        context.Context
	s          *localStore
	p          string
	f          *os.File
	tmp, final string
	mu         sync.Mutex
	done       bool
	// written counts the bytes written; flushed those already handed to
	// startWriteback.
	written, flushed int64
	// direct is set while the file is open with O_DIRECT; buf then holds
	// what is not yet written (from directBufs).
	direct bool
	buf    *[]byte
}

func (w *localWriter) Write(b []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, w.s.wrap("write", w.p, err)
	}
	if w.direct {
		return w.writeDirect(b)
	}
	n, err := w.f.Write(b)
	w.written += int64(n)
	if err != nil {
		return n, w.s.wrap("write", w.p, err)
	}
	if w.written-w.flushed >= writebackChunk {
		startWriteback(w.f, w.flushed, w.written-w.flushed)
		w.flushed = w.written
	}
	return n, nil
}

// writeDirect gathers b into the aligned buffer, writing it out each time
// it is full.
func (w *localWriter) writeDirect(b []byte) (int, error) {
	if w.buf == nil {
		w.buf = directBufs.Get().(*[]byte)
	}
	n := 0
	for len(b) > 0 {
		buf := *w.buf
		k := copy(buf[len(buf):cap(buf)], b)
		*w.buf = buf[:len(buf)+k]
		b, n = b[k:], n+k
		if len(*w.buf) == cap(*w.buf) {
			if err := w.flushDirect(false); err != nil {
				return n, w.s.wrap("write", w.p, err)
			}
		}
	}
	return n, nil
}

// flushDirect writes the buffer out: whole when it is full; at the end
// (last), its aligned part directly and the rest through the page cache.
// The buffer goes back to the pool at the end.
func (w *localWriter) flushDirect(last bool) error {
	if w.buf == nil {
		return nil
	}
	buf := *w.buf
	aligned := len(buf) &^ (directAlign - 1)
	err := w.writeOut(buf[:aligned])
	if err == nil && last && aligned < len(buf) {
		if err = clearDirect(w.f); err == nil {
			w.direct = false
			err = w.writeOut(buf[aligned:])
		}
	}
	if err == nil && !last {
		copy(buf, buf[aligned:])
		*w.buf = buf[:len(buf)-aligned]
		return nil
	}
	w.releaseBuf()
	return err
}

// writeOut writes p at the end of the file. Should the file system refuse
// a direct write (EINVAL), it goes on through the page cache.
func (w *localWriter) writeOut(p []byte) error {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if err != nil && w.direct && errors.Is(err, syscall.EINVAL) {
		if err = clearDirect(w.f); err == nil {
			w.direct = false
			n, err = w.f.Write(p[n:])
			w.written += int64(n)
		}
	}
	return err
}

func (w *localWriter) releaseBuf() {
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
		directBufs.Put(w.buf)
		w.buf = nil
	}
}

func (w *localWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.s.wrap("close", w.p, errors.New("already closed or aborted"))
	}
	w.done = true
	fail := func(err error) error {
		_ = w.f.Close()
		_ = os.Remove(w.tmp)
		return w.s.wrap("close", w.p, err)
	}
	if err := w.ctx.Err(); err != nil {
		w.releaseBuf()
		return fail(err)
	}
	if err := w.flushDirect(true); err != nil {
		return fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.tmp)
		return w.s.wrap("close", w.p, err)
	}
	if err := os.Rename(w.tmp, w.final); err != nil {
		_ = os.Remove(w.tmp)
		return w.s.wrap("close", w.p, err)
	}
	if d, err := os.Open(filepath.Dir(w.final)); err == nil {
		_ = d.Sync() // make the rename durable
		_ = d.Close()
	}
	return nil
}

func (w *localWriter) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	w.releaseBuf()
	_ = w.f.Close()
	if err := os.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return w.s.wrap("abort", w.p, err)
	}
	return nil
}

func (s *localStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrap("open", p, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, s.wrap("open", p, err)
	}
	f, err := os.Open(s.full(p))
	if err != nil {
		return nil, s.wrap("open", p, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, s.wrap("open", p, fmt.Errorf("is a directory: %w", fs.ErrNotExist))
	}
	return &ctxReader{ctx: ctx, r: f, c: f}, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	c   io.Closer
}

func (r *ctxReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}

func (r *ctxReader) Close() error { return r.c.Close() }

func (s *localStore) Stat(ctx context.Context, p string) (int64, error) {
	if err := checkPath(p); err != nil {
		return 0, s.wrap("stat", p, err)
	}
	st, err := os.Stat(s.full(p))
	if err != nil {
		return 0, s.wrap("stat", p, err)
	}
	if st.IsDir() {
		return 0, s.wrap("stat", p, fmt.Errorf("is a directory: %w", fs.ErrNotExist))
	}
	return st.Size(), nil
}

func (s *localStore) List(ctx context.Context, prefix string) ([]Entry, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	var out []Entry
	start := s.full(prefix)
	err := filepath.WalkDir(start, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && fp == start {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.root, fp)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if isTemp(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // removed while listing
				return nil
			}
			return err
		}
		out = append(out, Entry{Path: rel, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (s *localStore) RemoveAll(ctx context.Context, prefix string) error {
	if prefix == "" {
		return s.wrap("remove", prefix, errors.New("refusing to remove the whole repository"))
	}
	if err := checkPrefix(prefix); err != nil {
		return s.wrap("remove", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return s.wrap("remove", prefix, err)
	}
	if err := os.RemoveAll(s.full(prefix)); err != nil {
		return s.wrap("remove", prefix, err)
	}
	return nil
}
