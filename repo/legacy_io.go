package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/remote"
)

// This file holds the store access the documented-layout reader needs beyond
// the Store interface: a shallow listing of one directory, ranged reads, and
// a tar scan that seeks over file contents instead of reading them.

// dirEntry is one name in a directory of a store.
type dirEntry struct {
	Name  string
	Size  int64
	IsDir bool
}

// listShallow lists the names directly in dir ("" is the root): regular
// files with their sizes, and directories. A missing directory is an empty
// list. Local and SSH stores look at the one directory only; other stores
// fall back to a recursive List.
func listShallow(ctx context.Context, s Store, dir string) ([]dirEntry, error) {
	if err := checkPrefix(dir); err != nil {
		return nil, err
	}
	var out []dirEntry
	switch st := s.(type) {
	case *localStore:
		ents, err := os.ReadDir(st.full(dir))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, st.wrap("list", dir, err)
		}
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				continue // removed while listing
			}
			switch {
			case e.IsDir():
				out = append(out, dirEntry{Name: e.Name(), IsDir: true})
			case info.Mode().IsRegular():
				out = append(out, dirEntry{Name: e.Name(), Size: info.Size()})
			}
		}
	case *sshStore:
		q := remote.Quote(st.full(dir))
		cmd := "if [ -d " + q + " ]; then cd " + q + " && exec find . -mindepth 1 -maxdepth 1 \\( -type f -o -type d \\) -printf '%y %s %P\\0'; fi"
		var b bytes.Buffer
		if _, err := st.c.Run(ctx, remote.Command{Cmd: cmd, Sudo: st.sudo, Stdout: &b}); err != nil {
			return nil, st.wrap("list", dir, err)
		}
		for _, rec := range strings.Split(b.String(), "\x00") {
			if rec == "" {
				continue
			}
			f := strings.SplitN(rec, " ", 3)
			if len(f) != 3 {
				return nil, st.wrap("list", dir, fmt.Errorf("unexpected find output %q", rec))
			}
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return nil, st.wrap("list", dir, fmt.Errorf("unexpected size in find output %q", rec))
			}
			out = append(out, dirEntry{Name: f[2], Size: n, IsDir: f[0] == "d"})
		}
	default:
		ents, err := s.List(ctx, dir)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, e := range ents {
			rel := strings.TrimPrefix(e.Path, dir)
			if dir != "" {
				rel = strings.TrimPrefix(rel, "/")
			}
			name, rest, isDir := strings.Cut(rel, "/")
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, dirEntry{Name: name, Size: e.Size, IsDir: isDir && rest != ""})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// openRange streams n bytes of the file at p from offset off. Local files
// are read from the offset, SSH files through `tail -c +N | head -c n`,
// S3 objects with a Range request; other stores read and discard up to off.
func openRange(ctx context.Context, s Store, p string, off, n int64) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("read %s: bad range %d+%d", p, off, n)
	}
	switch st := s.(type) {
	case *localStore:
		f, err := os.Open(st.full(p))
		if err != nil {
			return nil, st.wrap("open", p, err)
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, st.wrap("seek", p, err)
		}
		return &ctxReader{ctx: ctx, r: io.LimitReader(f, n), c: f}, nil
	case *sshStore:
		cmd := "tail -c +" + strconv.FormatInt(off+1, 10) + " -- " + remote.Quote(st.full(p)) + " | head -c " + strconv.FormatInt(n, 10)
		return st.stream(ctx, p, cmd), nil
	case *s3Store:
		if n == 0 {
			return io.NopCloser(strings.NewReader("")), nil
		}
		var o minio.GetObjectOptions
		if err := o.SetRange(off, off+n-1); err != nil {
			return nil, st.wrap("open", p, err)
		}
		obj, err := st.cl.GetObject(ctx, st.bucket, st.key(p), o)
		if err != nil {
			return nil, st.wrap("open", p, explainS3(err))
		}
		return obj, nil
	default:
		rc, err := s.Open(ctx, p)
		if err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, rc, off); err != nil {
			rc.Close()
			return nil, fmt.Errorf("read %s up to byte %d: %w", p, off, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(rc, n), rc}, nil
	}
}

// rangeFile is an io.ReadSeeker over a store file of known size, read in
// chunks through openRange, so that a tar scan can seek over file contents.
type rangeFile struct {
	ctx    context.Context
	s      Store
	path   string
	size   int64
	pos    int64
	buf    []byte
	bufOff int64
	chunk  int64
	reads  int // ranged reads made (tests)
}

const rangeChunk = 1 << 20

func newRangeFile(ctx context.Context, s Store, p string, size int64) *rangeFile {
	return &rangeFile{ctx: ctx, s: s, path: p, size: size, chunk: rangeChunk}
}

func (f *rangeFile) Read(b []byte) (int, error) {
	if f.pos >= f.size {
		return 0, io.EOF
	}
	if f.pos < f.bufOff || f.pos >= f.bufOff+int64(len(f.buf)) {
		n := min(f.chunk, f.size-f.pos)
		rc, err := openRange(f.ctx, f.s, f.path, f.pos, n)
		if err != nil {
			return 0, err
		}
		buf := make([]byte, n)
		got, err := io.ReadFull(rc, buf)
		rc.Close()
		f.reads++
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("read %s at byte %d: %w (it was %d bytes; it shrank)", f.path, f.pos, io.ErrUnexpectedEOF, f.size)
		}
		if err != nil {
			return 0, fmt.Errorf("read %s at byte %d: %w", f.path, f.pos, err)
		}
		f.buf, f.bufOff = buf[:got], f.pos
	}
	n := copy(b, f.buf[f.pos-f.bufOff:])
	f.pos += int64(n)
	return n, nil
}

func (f *rangeFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += f.size
	default:
		return f.pos, errors.New("seek: bad whence")
	}
	if off < 0 {
		return f.pos, errors.New("seek: negative position")
	}
	f.pos = off
	return off, nil
}

// tarMember is one entry of a tar archive and where it lies in the file.
type tarMember struct {
	Header *tar.Header
	// Off is the offset of the entry's first header block (extended headers
	// included); DataOff that of its content; End is where the next entry
	// starts (content padded to 512 bytes).
	Off, DataOff, End int64
}

// tarScan is what scanning a tar archive found.
type tarScan struct {
	Members []tarMember
	// EndMarker reports whether the archive ends with the end-of-archive
	// blocks that tar always writes; an archive without them was cut at
	// an entry boundary.
	EndMarker bool
	// Size is the file's size.
	Size int64
	// Kept holds the content of the members for which keep returned true.
	Kept map[string][]byte
}

// posReader counts the position of the reader a tar.Reader reads through.
type posReader struct {
	r   io.ReadSeeker
	pos int64
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.r.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

func pad512(n int64) int64 { return (n + 511) &^ 511 }

// maxKept bounds the content kept by scanTar for one member (a schema file).
const maxKept = 16 << 20

// scanTar lists a tar archive of the given size, seeking over file
// contents; it keeps the content of the members keep selects (small files
// such as a schema), and tells at, when set, how far into the archive it
// is after each entry. A truncated or corrupt archive is an error naming
// the entry where it broke.
func scanTar(r io.ReadSeeker, size int64, keep func(name string) bool, at func(pos int64)) (*tarScan, error) {
	pr := &posReader{r: r}
	tr := tar.NewReader(pr)
	sc := &tarScan{Size: size, Kept: map[string][]byte{}}
	var prevEnd int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// tar.Reader reads the two zero blocks before it says EOF; an
			// archive cut right after an entry ends without them.
			sc.EndMarker = pr.pos >= prevEnd+1024
			return sc, nil
		}
		if err != nil {
			what := "at its start"
			if n := len(sc.Members); n > 0 {
				what = fmt.Sprintf("after %q (entry %d, byte %d)", sc.Members[n-1].Header.Name, n, prevEnd)
			}
			return sc, fmt.Errorf("tar archive broken %s: %w", what, err)
		}
		m := tarMember{Header: h, Off: prevEnd, DataOff: pr.pos}
		size := int64(0)
		if h.Typeflag == tar.TypeReg {
			size = h.Size
		}
		m.End = m.DataOff + pad512(size)
		if m.DataOff+size > sc.Size {
			return sc, fmt.Errorf("tar archive truncated: %q needs %d bytes from byte %d, the file ends at %d", h.Name, size, m.DataOff, sc.Size)
		}
		if keep != nil && keep(h.Name) && size <= maxKept {
			b, err := io.ReadAll(tr)
			if err != nil {
				return sc, fmt.Errorf("tar archive: read %q: %w", h.Name, err)
			}
			sc.Kept[h.Name] = b
		}
		sc.Members = append(sc.Members, m)
		prevEnd = m.End
		if at != nil {
			at(min(prevEnd, sc.Size))
		}
	}
}

// cleanTarName drops a leading "./" and trailing slashes from a member name.
func cleanTarName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(name, "./")), "/")
}
