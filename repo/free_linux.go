package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Space measures the file system that holds the repository directory (or
// its nearest existing parent).
func (s *localStore) Space(ctx context.Context) (Space, error) {
	dir := s.root
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return Space{Free: int64(st.Bavail) * int64(st.Bsize), At: dir}, nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return Space{}, fmt.Errorf("repository %s: free space of %s: %w", s.root, dir, err)
		}
		dir = parent
	}
}
