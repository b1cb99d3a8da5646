package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/remote"
)

// Store is where backups live. Paths are slash-separated and relative to the
// repository root; "..", ".", empty elements, absolute paths and NUL bytes
// are refused.
type Store interface {
	// Create starts writing the file at path, creating parent directories.
	// The data streams (nothing is held whole in memory) and the file
	// appears under path only after Close returns nil: until then it is
	// written under a temporary name that List hides. Cancelling ctx, or
	// calling Abort on the writer (every Store's writers implement
	// Aborter), discards the file.
	Create(ctx context.Context, path string) (io.WriteCloser, error)
	// Open streams the file at path; an absent file is an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Stat returns the size of the file at path; an absent file is an
	// error wrapping fs.ErrNotExist.
	Stat(ctx context.Context, path string) (size int64, err error)
	// List returns every complete file under the directory prefix
	// ("" for the whole repository), recursively, sorted by path.
	// A missing directory is an empty list.
	List(ctx context.Context, prefix string) ([]Entry, error)
	// RemoveAll removes the directory (or file) prefix and everything
	// under it; prefix must not be empty. Removing what is absent is not
	// an error.
	RemoveAll(ctx context.Context, prefix string) error
	// String returns the repository's URL, without credentials.
	String() string
}

// Aborter is implemented by the writers Store.Create returns: Abort discards
// what was written (no file appears under the final name) and releases the
// writer; Close after Abort returns an error.
type Aborter interface {
	Abort() error
}

// Abort discards a file being written by a Store writer (see Aborter); for
// other writers it just closes them.
func Abort(w io.WriteCloser) error {
	if a, ok := w.(Aborter); ok {
		return a.Abort()
	}
	return w.Close()
}

// Entry is one file in a Store.
type Entry struct {
	// Path is slash-separated and relative to the repository root.
	Path string
	// Size is the file's size in bytes.
	Size int64
	// ModTime is the file's modification time (S3: last modified).
	ModTime time.Time
}

// DefaultS3PartSize is the multipart part size used for S3 uploads of
// unknown length: one part is buffered at a time, and an object can grow to
// 10000 parts (here 320 GiB).
const DefaultS3PartSize = 32 << 20

// Options are what Open needs beyond the URL.
type Options struct {
	// SSH dials the host of an ssh:// URL (the CLI dials with the
	// inventory's SSH settings). host is the URL's authority as written:
	// "host", "host:port" or "user@host:port". The Store uses the client
	// it returns and never closes it: the caller owns it.
	SSH func(ctx context.Context, host string) (*remote.Client, error)

	// S3AccessKey and S3SecretKey are the credentials for s3:// URLs.
	S3AccessKey, S3SecretKey string
	// S3Endpoint is host:port, or http(s)://host:port (http means no TLS);
	// empty means s3.amazonaws.com over TLS.
	S3Endpoint string
	// S3Region is the bucket's region; empty lets the client discover it.
	S3Region string
	// S3PathStyle selects path-style requests (MinIO, versitygw, SeaweedFS).
	S3PathStyle bool
	// S3Dial, when set, opens the TCP connections to the S3 endpoint (for
	// example through an SSH tunnel).
	S3Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// S3PartSize is the multipart part size; 0 means DefaultS3PartSize.
	S3PartSize uint64
}

// Open opens the repository at rawURL: a local directory (a path, or
// file:///path), ssh://host/abs/path or s3://bucket/prefix. For S3 it
// checks that the bucket exists and the credentials work.
func Open(ctx context.Context, rawURL string, o Options) (Store, error) {
	switch {
	case rawURL == "":
		return nil, errors.New("open repository: empty URL")
	case strings.IndexByte(rawURL, 0) >= 0:
		return nil, errors.New("open repository: URL contains a NUL byte")
	case strings.HasPrefix(rawURL, "ssh://"), strings.HasPrefix(rawURL, "s3://"), strings.HasPrefix(rawURL, "file://"):
	case strings.Contains(rawURL, "://"):
		return nil, fmt.Errorf("open repository %q: unknown scheme (use a directory, ssh://host/path or s3://bucket/prefix)", rawURL)
	default:
		return openLocal(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("open repository %q: file:// URLs name a local path (file:///path)", rawURL)
		}
		return openLocal(u.Path)
	case "ssh":
		return openSSH(ctx, u, o)
	default:
		return openS3(ctx, u, o)
	}
}

// checkPath validates a file path given to a Store.
func checkPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	return checkPrefix(p)
}

// checkPrefix validates a path that may be empty (the repository root).
func checkPrefix(p string) error {
	switch {
	case p == "":
		return nil
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("path %q contains a NUL byte", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute; repository paths are relative to its root", p)
	case strings.Contains(p, `\`):
		return fmt.Errorf("path %q contains a backslash", p)
	}
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "..":
			return fmt.Errorf("path %q leaves the repository (\"..\")", p)
		case "", ".":
			return fmt.Errorf("path %q is not clean (empty or \".\" element)", p)
		}
	}
	return nil
}

// tmpMarker is part of every temporary name; List hides such files.
const tmpMarker = ".hotsnap-tmp-"

// tmpName returns a temporary name beside p (same directory, hidden).
func tmpName(p string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	dir, base := path.Split(p)
	return dir + "." + base + tmpMarker + hex.EncodeToString(b[:])
}

// isTemp reports whether a path's last element is a temporary name.
func isTemp(p string) bool {
	base := path.Base(p)
	return strings.HasPrefix(base, ".") && strings.Contains(base, tmpMarker)
}

// underPrefix reports whether p is prefix or lies under the directory prefix.
func underPrefix(p, prefix string) bool {
	return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
}
