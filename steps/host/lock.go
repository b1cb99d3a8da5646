package host

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

// LockFile is the cluster's lock on its first node: a file in a directory
// of root's that outlives the run and the operator's SSH connection (not
// /run, which a reboot empties while the cluster may be half restored).
const LockFile = "/var/lib/hotsnap/lock"

// lockScripts are the node's side of the lock, run through sudo. The lock's
// content arrives on stdin into a temporary file; ln(1) gives it the lock's
// name only when no file has it — link(2) is atomic and fails on an
// existing name, so of two runs racing, exactly one takes the lock, and the
// lock is never seen half written.
var lockScripts = struct{ take, release, replace string }{
	take: `d=$(dirname "$1"); mkdir -p -m 0700 "$d" || exit 1; t="$d/.lock.$$"; cat > "$t" || exit 1; ` +
		`if ln "$t" "$1" 2>/dev/null; then rm -f "$t"; echo taken; else rm -f "$t"; echo held; cat "$1" 2>/dev/null; fi`,
	// release and replace act only while the lock still holds $2 (the
	// token of the run it names): a run never removes another's lock.
	release: `if grep -qF -- "$2" "$1" 2>/dev/null; then rm -f -- "$1"; echo released; fi`,
	replace: `t="$(dirname "$1")/.lock.$$"; if grep -qF -- "$2" "$1" 2>/dev/null; then cat > "$t" && mv -f -- "$t" "$1" && echo replaced; fi`,
}

// lockCmd is script run by sh with its arguments.
func lockCmd(script string, args ...string) string {
	return remote.Join(append([]string{"sh", "-c", script, "hotsnap-lock"}, args...)...)
}

// TakeLock creates the lock file on node holding data, unless one is
// there: then it returns the content of the lock that is (held, which may
// be empty when its holder released it as it was read).
func TakeLock(ctx context.Context, rc *steps.RunContext, node string, data []byte) (taken bool, held []byte, err error) {
	var out bytes.Buffer
	_, err = rc.Run(ctx, node, remote.Command{Cmd: lockCmd(lockScripts.take, LockFile), Sudo: true, Stdin: bytes.NewReader(data), Stdout: &out, Stderr: &out})
	if err != nil {
		return false, nil, fmt.Errorf("%s: take the lock %s: %w", node, LockFile, err)
	}
	first, rest, _ := strings.Cut(out.String(), "\n")
	switch first {
	case "taken":
		return true, nil, nil
	case "held":
		return false, []byte(rest), nil
	}
	return false, nil, fmt.Errorf("%s: take the lock %s: unexpected answer %q", node, LockFile, out.String())
}

// ReleaseLock removes the lock on node if it still holds match (the
// releasing run's token); released says whether it did.
func ReleaseLock(ctx context.Context, rc *steps.RunContext, node, match string) (released bool, err error) {
	out, err := rc.Stdout(ctx, node, lockCmd(lockScripts.release, LockFile, match), true)
	if err != nil {
		return false, fmt.Errorf("%s: release the lock %s: %w", node, LockFile, err)
	}
	return strings.TrimSpace(out) == "released", nil
}

// ReplaceLock replaces the lock on node with data if it still holds match
// (the token of the holder being taken over); replaced says whether it did.
func ReplaceLock(ctx context.Context, rc *steps.RunContext, node, match string, data []byte) (replaced bool, err error) {
	var out bytes.Buffer
	_, err = rc.Run(ctx, node, remote.Command{Cmd: lockCmd(lockScripts.replace, LockFile, match), Sudo: true, Stdin: bytes.NewReader(data), Stdout: &out, Stderr: &out})
	if err != nil {
		return false, fmt.Errorf("%s: take over the lock %s: %w", node, LockFile, err)
	}
	return strings.TrimSpace(out.String()) == "replaced", nil
}
