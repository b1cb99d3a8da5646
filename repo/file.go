package repo

import (
	"context"
	"fmt"
	"io"
)

// StoredFile is one file of a backup stored whole, with its SHA-256 (a
// database dump, a Redis RDB).
type StoredFile struct {
	// Path is the file's path in the repository (under the backup's ID).
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// WriteFile writes a file into store at p as produce writes it (a command
// streaming to its stdout, most often), hashing it on the way, nothing
// buffered whole. When produce fails, nothing is left at p.
func WriteFile(ctx context.Context, store Store, p string, produce func(w io.Writer) error) (*StoredFile, error) {
	w, err := store.Create(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("create %s in %s: %w", p, store, err)
	}
	hw := NewHashingWriter(w)
	if err := produce(hw); err != nil {
		Abort(w)
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("finish %s in %s: %w", p, store, err)
	}
	return &StoredFile{Path: p, Size: hw.N(), SHA256: hw.Sum()}, nil
}
