package repo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
)

// Space is the room left where a repository writes.
type Space struct {
	// Free is the number of bytes an unprivileged writer can still use.
	Free int64
	// At is the directory measured: the repository's own, or its nearest
	// existing parent when the repository is not created yet.
	At string
}

// Spacer is implemented by stores that can say how much room is left: the
// local and SSH stores. An S3 bucket has no such figure.
type Spacer interface {
	Space(ctx context.Context) (Space, error)
}

// Space runs df on the repository directory (or its nearest existing
// parent) on the SSH host.
func (s *sshStore) Space(ctx context.Context) (Space, error) {
	// Walk up to a directory that exists, then df it (POSIX output, bytes).
	cmd := "d=" + remote.Quote(s.root) + `; while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done; echo "$d"; df -PB1 "$d"`
	out, err := s.run(ctx, cmd)
	if err != nil {
		return Space{}, s.wrap("df", "", err)
	}
	sp, err := parseDFSpace(out)
	if err != nil {
		return Space{}, s.wrap("df", "", err)
	}
	return sp, nil
}

// parseDFSpace reads the directory line and `df -PB1` output that
// sshStore.Space prints: the directory, the header, then one data line whose
// fourth field is the available byte count.
func parseDFSpace(out string) (Space, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "Filesystem") {
		return Space{}, fmt.Errorf("unexpected df output %q", out)
	}
	f := strings.Fields(strings.Join(lines[2:], " ")) // a long device name may wrap
	if len(f) < 6 {
		return Space{}, fmt.Errorf("unexpected df output %q", out)
	}
	avail, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Space{}, fmt.Errorf("df: available %q is not a number", f[3])
	}
	return Space{Free: avail, At: strings.TrimSpace(lines[0])}, nil
}
