package repo

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
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
)

// IndexTar reads a tar stream and records each regular file's (and each
// link's) name, size, mode, owner and SHA-256 without buffering file
// contents. It reads r to its very end (past the end-of-archive blocks), so
// when r is an io.TeeReader into the store, everything reaches the store.
// Directories and other entries are skipped. A truncated or corrupt archive
// is an error; the entries read before it are returned with it.
func IndexTar(r io.Reader) ([]FileEntry, error) {
	tr := tar.NewReader(r)
	var out []FileEntry
	byName := map[string]int{}
	buf := make([]byte, 64<<10)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("read tar archive after %d files: %w", len(out), err)
		}
		e := FileEntry{Name: h.Name, Mode: uint32(h.Mode & 0o7777), Owner: h.Uname, Group: h.Gname}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse: // archive/tar maps the old '\x00' type to TypeReg and expands sparse files
			hs := sha256.New()
			n, err := io.CopyBuffer(hs, tr, buf)
			if err != nil {
				return out, fmt.Errorf("read tar archive: file %q: %w", h.Name, err)
			}
			e.Size, e.SHA256 = n, hex.EncodeToString(hs.Sum(nil))
		case tar.TypeSymlink:
			e.Type, e.Link = TypeSymlink, h.Linkname
		case tar.TypeLink:
			e.Type, e.Link = TypeHardlink, h.Linkname
			if i, ok := byName[h.Linkname]; ok {
				e.SHA256 = out[i].SHA256
			}
		default:
			continue
		}
		byName[e.Name] = len(out)
		out = append(out, e)
	}
	// Drain the padding after the end-of-archive marker.
	if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
		return out, fmt.Errorf("read tar archive: trailing data: %w", err)
	}
	return out, nil
}
