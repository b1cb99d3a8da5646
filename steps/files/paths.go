package files

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// ConfigComponent is what the configuration steps work on
// (Step.Component).
const ConfigComponent = "configuration"

// Paths is a list of files and directories of one node (a platform's
// configuration) archived together as one tar relative to /, owners and
// modes kept. A path under a symlinked directory (/lib → usr/lib) is
// archived under its real path, so that it is put back there. Exclude are
// left out, also inside a listed directory (live data).
type Paths struct {
	Node    string
	Paths   []string
	Exclude []string
}

// missingMark starts the line the archive command writes on stderr for a
// path that does not exist.
const missingMark = "hotsnap-missing: "

// Listed returns the paths without the excluded ones.
func (p Paths) Listed() []string {
	var out []string
	for _, x := range p.Paths {
		if !slices.ContainsFunc(p.Exclude, func(e string) bool { return x == e || strings.HasPrefix(x, strings.TrimSuffix(e, "/")+"/") }) {
			out = append(out, x)
		}
	}
	return out
}

// TarCmd writes the tar of the paths to stdout; a missing path is named on
// stderr (missingMark), not an error. It is a bash script.
func (p Paths) TarCmd() string {
	q := make([]string, 0, len(p.Paths))
	for _, x := range p.Listed() {
		q = append(q, remote.Quote(x))
	}
	ex := ""
	for _, e := range p.Exclude {
		ex += " --exclude=" + remote.Quote(strings.TrimPrefix(e, "/"))
	}
	// bash builtins only per path (cd -P finds the real parent): no
	// process per path.
	return "for p in " + strings.Join(q, " ") + "; do " +
		`if [ -e "$p" ] || [ -L "$p" ]; then cd -P "${p%/*}/" && printf '%s\0' "${PWD#/}/${p##*/}"; cd /; ` +
		`else printf '` + missingMark + `%s\n' "$p" >&2; fi; done | tar -C / --null` + ex + " --sparse -cf - -T -"
}

// Archive streams the tar of the paths on the node into store at path,
// indexed on the way (every file's SHA-256, owner and mode), and returns
// the paths that were missing.
func (p Paths) Archive(ctx context.Context, rc *steps.RunContext, store repo.Store, path string, progress func(int64)) (*repo.ArchiveIndex, []string, error) {
	var missing []string
	ix, err := repo.WriteArchive(ctx, store, path, func(w io.Writer) error {
		_, err := rc.Run(ctx, p.Node, remote.Command{Cmd: "bash -c " + remote.Quote("set -o pipefail; "+p.TarCmd()), Sudo: true, Stdout: w, OnProgress: progress,
			OnLine: func(l remote.Line) {
				if m, ok := strings.CutPrefix(l.Text, missingMark); ok {
					missing = append(missing, m)
					return
				}
				rc.Output(l.Node, l.Text)
			}})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: archive the configuration: %w", p.Node, err)
	}
	return ix, missing, nil
}

// statScript prints, for every name read (NUL-separated) relative to /,
// "mode owner group<TAB>sha256<TAB>name", or "missing<TAB>-<TAB>name".
const statScript = `cd / && while IFS= read -r -d '' f; do if [ -f "$f" ] && [ ! -L "$f" ]; then ` +
	`printf '%s\t%s\t%s\n' "$(stat -c '%a %U %G' -- "$f")" "$(sha256sum -- "$f" | cut -d' ' -f1)" "$f"; ` +
	`else printf 'missing\t-\t%s\n' "$f"; fi; done`

// Diff compares the regular files of an archive (its manifest entries)
// with the node's: content, mode and owner. It returns one line per
// difference ("etc/x: content differs", "…: mode 644, the backup has
// 640", "…: missing on the node").
func (p Paths) Diff(ctx context.Context, rc *steps.RunContext, entries []repo.FileEntry) ([]string, error) {
	var names strings.Builder
	want := map[string]repo.FileEntry{}
	for _, e := range entries {
		if e.Type != "" || strings.HasSuffix(e.Name, "/") {
			continue
		}
		want[e.Name] = e
		names.WriteString(e.Name + "\x00")
	}
	var out strings.Builder
	if _, err := rc.Run(ctx, p.Node, remote.Command{Cmd: "bash -c " + remote.Quote(statScript), Sudo: true, Stdin: strings.NewReader(names.String()), Stdout: &out, Stderr: io.Discard}); err != nil {
		return nil, fmt.Errorf("%s: compare the configuration: %w", p.Node, err)
	}
	var diffs []string
	for l := range strings.Lines(out.String()) {
		f := strings.SplitN(strings.TrimSuffix(l, "\n"), "\t", 3)
		if len(f) != 3 {
			continue
		}
		e, ok := want[f[2]]
		if !ok {
			continue
		}
		if f[0] == "missing" {
			diffs = append(diffs, "/"+e.Name+": missing on the node")
			continue
		}
		st := strings.Fields(f[0])
		if len(st) != 3 {
			continue
		}
		if f[1] != e.SHA256 {
			diffs = append(diffs, "/"+e.Name+": content differs")
		}
		if mode, err := strconv.ParseUint(st[0], 8, 32); err == nil && uint32(mode) != e.Mode&0o7777 {
			diffs = append(diffs, fmt.Sprintf("/%s: mode %o, the backup has %o", e.Name, mode, e.Mode&0o7777))
		}
		if e.Owner != "" && (st[1] != e.Owner || st[2] != e.Group) {
			diffs = append(diffs, fmt.Sprintf("/%s: owner %s:%s, the backup has %s:%s", e.Name, st[1], st[2], e.Owner, e.Group))
		}
	}
	return diffs, nil
}

// RestoreCmd unpacks an archive read on stdin over /, owners and modes
// kept.
const RestoreCmd = "tar -x -p --same-owner -C / -f -"

// Restore unpacks archive (size bytes) of store over / on the node: every
// file of the archive is written back with its owner and mode; files not
// in it are left alone.
func (p Paths) Restore(ctx context.Context, rc *steps.RunContext, store repo.Store, archive string, size int64) error {
	f, err := store.Open(ctx, archive)
	if err != nil {
		return fmt.Errorf("%s: restore the configuration: open %s: %w", p.Node, archive, err)
	}
	defer f.Close()
	if _, err := rc.Run(ctx, p.Node, remote.Command{Cmd: RestoreCmd, Sudo: true, Stdin: f, OnProgress: func(x int64) { rc.Progress(p.Node, x, size, "bytes") }}); err != nil {
		return fmt.Errorf("%s: restore the configuration: %w", p.Node, err)
	}
	return nil
}
