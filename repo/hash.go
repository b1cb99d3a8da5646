package repo

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// HashingWriter passes bytes on to another writer while counting them and
// computing their SHA-256. Wrap a Store file with it to learn what was
// stored without reading it back.
type HashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewHashingWriter returns a HashingWriter writing to w (io.Discard to only
// hash).
func NewHashingWriter(w io.Writer) *HashingWriter {
	return &HashingWriter{w: w, h: sha256.New()}
}

// Write writes b to the underlying writer and hashes what it accepted.
func (hw *HashingWriter) Write(b []byte) (int, error) {
	n, err := hw.w.Write(b)
	hw.h.Write(b[:n])
	hw.n += int64(n)
	return n, err
}

// Sum returns the hex SHA-256 of the bytes written so far.
func (hw *HashingWriter) Sum() string { return hex.EncodeToString(hw.h.Sum(nil)) }

// N returns the number of bytes written so far.
func (hw *HashingWriter) N() int64 { return hw.n }

// FileEntry is one file in a tar archive, as recorded in the manifest.
type FileEntry struct {
	// Name is the path inside the archive, as tar stored it.
	Name string `json:"name"`
	// Size is the content size in bytes (0 for links).
	Size int64 `json:"size"`
	// Mode is the permission bits (and setuid/setgid/sticky).
	Mode uint32 `json:"mode"`
	// Owner and Group are the owner's user and group names.
	Owner string `json:"owner,omitempty"`
	Group string `json:"group,omitempty"`
	// SHA256 is the hex SHA-256 of the content; for a hard link, that of
	// the file it links to; empty for a symlink.
	SHA256 string `json:"sha256,omitempty"`
	// Link is a symlink's target, or a hard link's target name.
	Link string `json:"link,omitempty"`
	// Type is "" for a regular file, "symlink" or "hardlink".
	Type string `json:"type,omitempty"`
}

// Types of FileEntry other than a regular file.
const (
	TypeSymlink  = "symlink"
	TypeHardlink = "hardlink"
	// TypeFIFO, TypeCharDevice and TypeBlockDevice are the special files
	// tar archives as themselves, with no content (ArchiveIndex.Special).
	TypeFIFO        = "fifo"
	TypeCharDevice  = "chardev"
	TypeBlockDevice = "blockdev"
)

// SpecialNote says, for the summary and the manifest's warnings, which
// special files an archive holds as themselves ("" when none): a FIFO's
// or a device's name is kept, never what reading it would give.
func SpecialNote(special []FileEntry) string {
	if len(special) == 0 {
		return ""
	}
	var names []string
	for i, e := range special {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(special)-5))
			break
		}
		names = append(names, e.Name+" ("+e.Type+")")
	}
	what := "special files"
	if len(special) == 1 {
		what = "special file"
	}
	return fmt.Sprintf("%d %s archived as such, without content: %s", len(special), what, strings.Join(names, ", "))
}

// ArchiveIndex is what IndexArchive learns from one pass over a tar stream.
type ArchiveIndex struct {
	// Files lists the archive's regular files and links (see IndexTar).
	Files []FileEntry
	// Special lists the FIFOs and device files: tar archives them as
	// themselves (name, owner, mode, device numbers), never what they
	// would give when read.
	Special []FileEntry
	// Size is the number of bytes read, the end-of-archive padding
	// included: the archive's size.
	Size int64
	// Digest is the archive's tar digest, in hex: the SHA-256 of the
	// archive's bytes in which the content of every regular file is
	// replaced by the file's 32-byte SHA-256. A change to any byte of the
	// archive (a header, padding, or a file's content, through that file's
	// SHA-256) changes it, yet every content byte is hashed once only.
	Digest string
}

// skeletonReader counts every byte read from r and hashes those that are
// not file content (headers, padding, end-of-archive blocks).
type skeletonReader struct {
	r       io.Reader
	h       hash.Hash
	n       int64
	content bool // a file's content is being read: not hashed into h
}

func (s *skeletonReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.n += int64(n)
	if !s.content {
		s.h.Write(b[:n])
	}
	return n, err
}

// IndexTar reads a tar stream and records each regular file's (and each
// link's) name, size, mode, owner and SHA-256 without buffering file
// contents. It reads r to its very end (past the end-of-archive blocks), so
// when r is an io.TeeReader into the store, everything reaches the store.
// Directories and other entries are skipped. A truncated or corrupt archive
// is an error; the entries read before it are returned with it.
func IndexTar(r io.Reader) ([]FileEntry, error) {
	ix, err := IndexArchive(r)
	return ix.Files, err
}

// IndexArchive reads a tar stream once, to its very end, and returns its
// files (as IndexTar does), its size and its tar digest (see
// ArchiveIndex.Digest). A truncated or corrupt archive is an error; the
// index of what was read before it is returned with it (never nil).
func IndexArchive(r io.Reader) (*ArchiveIndex, error) {
	sr := &skeletonReader{r: r, h: sha256.New()}
	tr := tar.NewReader(sr)
	ix := &ArchiveIndex{}
	done := func(err error) (*ArchiveIndex, error) {
		ix.Size, ix.Digest = sr.n, hex.EncodeToString(sr.h.Sum(nil))
		return ix, err
	}
	byName := map[string]int{}
	buf := make([]byte, 64<<10)
	hs := sha256.New()
	var sum [sha256.Size]byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return done(fmt.Errorf("read tar archive after %d files: %w", len(ix.Files), err))
		}
		e := FileEntry{Name: h.Name, Mode: uint32(h.Mode & 0o7777), Owner: h.Uname, Group: h.Gname}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse: // archive/tar maps the old '\x00' type to TypeReg and expands sparse files
			hs.Reset()
			sr.content = true
			n, err := io.CopyBuffer(hs, tr, buf)
			sr.content = false
			if err != nil {
				return done(fmt.Errorf("read tar archive: file %q: %w", h.Name, err))
			}
			hs.Sum(sum[:0])
			sr.h.Write(sum[:])
			e.Size, e.SHA256 = n, hex.EncodeToString(sum[:])
		case tar.TypeSymlink:
			e.Type, e.Link = TypeSymlink, h.Linkname
		case tar.TypeLink:
			e.Type, e.Link = TypeHardlink, h.Linkname
			if i, ok := byName[h.Linkname]; ok {
				e.SHA256 = ix.Files[i].SHA256
			}
		case tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
			e.Type = map[byte]string{tar.TypeFifo: TypeFIFO, tar.TypeChar: TypeCharDevice, tar.TypeBlock: TypeBlockDevice}[h.Typeflag]
			ix.Special = append(ix.Special, e)
			continue
		default:
			continue
		}
		byName[e.Name] = len(ix.Files)
		ix.Files = append(ix.Files, e)
	}
	// Drain the padding after the end-of-archive marker.
	if _, err := io.CopyBuffer(io.Discard, sr, buf); err != nil {
		return done(fmt.Errorf("read tar archive: trailing data: %w", err))
	}
	return done(nil)
}

// WriteArchive writes a tar archive into store at p as produce writes it
// (a command streaming tar to its stdout, most often), indexing it on the
// way: every file's SHA-256 and the archive's tar digest, each byte hashed
// once, nothing buffered whole. When produce or the index fails, nothing
// is left at p.
func WriteArchive(ctx context.Context, store Store, p string, produce func(w io.Writer) error) (*ArchiveIndex, error) {
	w, err := store.Create(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("create %s in %s: %w", p, store, err)
	}
	pr, pw := io.Pipe()
	type indexed struct {
		ix  *ArchiveIndex
		err error
	}
	idx := make(chan indexed, 1)
	go func() {
		ix, err := IndexArchive(pr)
		pr.CloseWithError(err)
		idx <- indexed{ix, err}
	}()
	err = produce(io.MultiWriter(w, pw))
	pw.CloseWithError(err)
	res := <-idx
	if err == nil && res.err != nil {
		err = fmt.Errorf("read the archive as it streamed: %w", res.err)
	}
	if err != nil {
		Abort(w)
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("finish %s in %s: %w", p, store, err)
	}
	return res.ix, nil
}
