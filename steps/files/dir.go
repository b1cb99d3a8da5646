package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// excludeArgs are tar's options leaving out the top-level entries names of
// the folder archived with "-C dir ." (anchored: ./work, not csar/x/work).
func excludeArgs(names []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" --anchored")
	for _, n := range names {
		b.WriteString(" --exclude=" + remote.Quote("./"+n))
	}
	return b.String()
}

// TarExcludingCmd archives folder dir to stdout with owners and modes,
// leaving out its top-level entries exclude (transient folders).
func TarExcludingCmd(dir string, exclude []string) string {
	return "tar -C " + remote.Quote(dir) + excludeArgs(exclude) + " --sparse -cf - ."
}

// DUExcludingCmd measures folder dir without its top-level entries exclude
// (bytes, du -sb).
func DUExcludingCmd(dir string, exclude []string) string {
	cmd := "du -sb"
	for _, n := range exclude {
		cmd += " --exclude=" + remote.Quote(path.Join(dir, n))
	}
	return cmd + " " + remote.Quote(dir)
}

// ArchiveExcluding is Archive, leaving out the folder's top-level entries
// exclude.
func ArchiveExcluding(ctx context.Context, rc *steps.RunContext, node, dir string, exclude []string, store repo.Store, p string, progress func(int64)) (*repo.ArchiveIndex, error) {
	ix, err := repo.WriteArchive(ctx, store, p, func(w io.Writer) error {
		_, err := rc.Run(ctx, node, remote.Command{Cmd: TarExcludingCmd(dir, exclude), Sudo: true, Stdout: w, OnProgress: progress})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", node, dir, err)
	}
	return ix, nil
}

// FilesTarCmd archives the files paths (absolute) that exist on the node
// to stdout, with owners and modes, as paths relative to /; it prints
// nothing when none exists.
func FilesTarCmd(paths []string) string {
	var b strings.Builder
	b.WriteString("cd / && set -- && for f in")
	for _, p := range paths {
		b.WriteString(" " + remote.Quote(strings.TrimPrefix(path.Clean(p), "/")))
	}
	b.WriteString(`; do if [ -e "$f" ]; then set -- "$@" "$f"; fi; done; if [ $# -gt 0 ]; then tar --sparse -cf - -- "$@"; fi`)
	return b.String()
}

// ArchiveFiles streams the files paths that exist on node into store at p
// as one tar (paths relative to /); an index without entries means none
// existed, and then nothing is left at p.
func ArchiveFiles(ctx context.Context, rc *steps.RunContext, node string, paths []string, store repo.Store, p string) (*repo.ArchiveIndex, error) {
	ix, err := repo.WriteArchive(ctx, store, p, func(w io.Writer) error {
		_, err := rc.Run(ctx, node, remote.Command{Cmd: FilesTarCmd(paths), Sudo: true, Stdout: w})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: configuration files: %w", node, err)
	}
	if len(ix.Files) == 0 {
		if err := store.RemoveAll(ctx, p); err != nil {
			return nil, err
		}
	}
	return ix, nil
}

// SumsCmd prints the SHA-256 of each of paths (absolute) that exists.
func SumsCmd(paths []string) string {
	var b strings.Builder
	b.WriteString("for f in")
	for _, p := range paths {
		b.WriteString(" " + remote.Quote(p))
	}
	b.WriteString(`; do if [ -f "$f" ]; then sha256sum -- "$f"; fi; done`)
	return b.String()
}

// Sums returns the SHA-256 of each of paths that is a file on node, by path.
func Sums(ctx context.Context, rc *steps.RunContext, node string, paths []string) (map[string]string, error) {
	out, err := rc.Stdout(ctx, node, SumsCmd(paths), true)
	if err != nil {
		return nil, fmt.Errorf("%s: hash files: %w", node, err)
	}
	sums := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		sum, p, ok := strings.Cut(l, "  ")
		if ok && len(sum) == 64 {
			sums[p] = sum
		}
	}
	return sums, nil
}

// Beside is how an archive replaces folder Dir wholesale: unpacked into a
// staging folder next to it (Dir.restore-ID), then its entries moved in
// place of the current ones, which are kept in Dir.pre-restore-ID until
// the restore succeeded (Finish). Dir itself stays (an application may
// hold it open): only its entries move, and the entries Keep (an embedded
// Elasticsearch's home, transient folders of a running service) stay in
// place. Every command can run again after an interruption.
type Beside struct {
	Dir, Stage, Old string
	Keep            []string
	// Extract unpacks the archive read on stdin into the staging folder,
	// which takes Dir's owner and mode (the archive's "./" entry then sets
	// them).
	Extract string
	// Replace moves Dir's entries (but Keep) into Old — or, run again after
	// they were moved, removes what an interrupted Replace moved in — then
	// the staged entries into Dir, which takes the staged owner and mode.
	Replace string
	// Finish removes Old; Clean removes the staging folder.
	Finish, Clean string
}

// BesideFor is the Beside of folder dir for the restore of backup id.
func BesideFor(dir, id string, keep []string) Beside {
	dir = path.Clean(dir)
	b := Beside{Dir: dir, Stage: dir + ".restore-" + id, Old: dir + ".pre-restore-" + id, Keep: keep}
	d, st, old := remote.Quote(dir), remote.Quote(b.Stage), remote.Quote(b.Old)
	marker := remote.Quote(b.Old + "/.hotsnap-moved-" + id)
	var notKept strings.Builder
	for _, k := range keep {
		notKept.WriteString(" ! -name " + remote.Quote(k))
	}
	entries := "find " + d + " -mindepth 1 -maxdepth 1" + notKept.String()
	b.Extract = "mkdir -p " + d + " && rm -rf " + st + " && mkdir " + st + " && chown --reference=" + d + " " + st +
		" && chmod --reference=" + d + " " + st + " && tar -x -p --same-owner -C " + st
	b.Replace = "set -e; mkdir -p " + old + "; " +
		"if [ -e " + marker + " ]; then " + entries + " -exec rm -rf -- {} +; " +
		"else " + entries + " -exec mv -t " + old + " -- {} +; touch " + marker + "; fi; " +
		"find " + st + " -mindepth 1 -maxdepth 1 -exec mv -t " + d + " -- {} +; " +
		"chown --reference=" + st + " " + d + "; chmod --reference=" + st + " " + d + "; rmdir " + st
	b.Finish = "rm -rf " + old
	b.Clean = "rm -rf " + st
	return b
}

// Unpack streams archive (size bytes) of store into the staging folder on
// node, indexing it on the way: the index says what was unpacked, for the
// caller to compare with the manifest before Replace.
func (b Beside) Unpack(ctx context.Context, rc *steps.RunContext, node string, store repo.Store, archive string, size int64) (*repo.ArchiveIndex, error) {
	f, err := store.Open(ctx, archive)
	if err != nil {
		return nil, fmt.Errorf("%s: unpack %s: open %s: %w", node, b.Dir, archive, err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	type indexed struct {
		ix  *repo.ArchiveIndex
		err error
	}
	idx := make(chan indexed, 1)
	go func() {
		ix, err := repo.IndexArchive(pr)
		pr.CloseWithError(err)
		idx <- indexed{ix, err}
	}()
	tee := io.TeeReader(f, pw)
	_, err = rc.Run(ctx, node, remote.Command{Cmd: b.Extract, Sudo: true, Stdin: tee,
		OnProgress: func(x int64) { rc.Progress(node, x, size, "bytes") }})
	if err == nil {
		// tar stops reading at the end-of-archive blocks: the padding after
		// them is part of what the manifest's digest covers.
		_, err = io.Copy(io.Discard, tee)
	}
	pw.CloseWithError(err)
	res := <-idx
	if res.err != nil && ctx.Err() == nil && (err == nil || !errors.Is(res.err, err)) {
		// The archive itself is damaged (not cut short by the node or the
		// link): what the node said is only its consequence.
		err = fmt.Errorf("read the archive as it streamed: %w: %w", repo.ErrBackupDamaged, res.err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: unpack %s beside %s: %w", node, archive, b.Dir, err)
	}
	return res.ix, nil
}

// Entry is one file of a folder as ListCmd prints it.
type Entry struct {
	Name         string // relative to the folder, as "./name" (tar's)
	Size         int64
	Mode         uint32
	Owner, Group string
	Symlink      bool
}

// ListCmd lists the files and symlinks of folder dir (not its top-level
// entries exclude): relative name, size, octal mode, owner, group, type.
func ListCmd(dir string, exclude []string) string {
	prune := ""
	for _, n := range exclude {
		prune += " -path " + remote.Quote("./"+n) + " -prune -o"
	}
	return "cd " + remote.Quote(dir) + " && find ." + prune + ` ! -type d -printf '%p\0%s\0%m\0%u\0%g\0%y\0'`
}

// List lists folder dir on node (ListCmd).
func List(ctx context.Context, rc *steps.RunContext, node, dir string, exclude []string) ([]Entry, error) {
	out, err := rc.Stdout(ctx, node, ListCmd(dir, exclude), true)
	if err != nil {
		return nil, fmt.Errorf("%s: list %s: %w", node, dir, err)
	}
	return parseList(out), nil
}

// parseList reads ListCmd's NUL-separated fields.
func parseList(out string) []Entry {
	f := strings.Split(out, "\x00")
	var es []Entry
	for i := 0; i+5 < len(f); i += 6 {
		size, _ := strconv.ParseInt(f[i+1], 10, 64)
		mode, _ := strconv.ParseUint(f[i+2], 8, 32)
		es = append(es, Entry{Name: f[i], Size: size, Mode: uint32(mode), Owner: f[i+3], Group: f[i+4], Symlink: f[i+5] == "l"})
	}
	return es
}

// Compare says how the files of a folder (List) differ from an archive's
// entries (a manifest's): missing, extra, or another size, mode or owner.
// Links count by name only (a symlink's size is its target's length).
func Compare(have []Entry, want []repo.FileEntry) []string {
	got := map[string]Entry{}
	for _, e := range have {
		got[e.Name] = e
	}
	var diffs []string
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.Name] = true
		e, ok := got[w.Name]
		switch {
		case !ok:
			diffs = append(diffs, w.Name+": missing")
		case w.Type == repo.TypeSymlink || w.Type == repo.TypeHardlink:
		case e.Size != w.Size:
			diffs = append(diffs, fmt.Sprintf("%s: %d bytes, the backup has %d", w.Name, e.Size, w.Size))
		case e.Mode != w.Mode:
			diffs = append(diffs, fmt.Sprintf("%s: mode %o, the backup has %o", w.Name, e.Mode, w.Mode))
		case w.Owner != "" && (e.Owner != w.Owner || e.Group != w.Group):
			diffs = append(diffs, fmt.Sprintf("%s: owner %s:%s, the backup has %s:%s", w.Name, e.Owner, e.Group, w.Owner, w.Group))
		}
	}
	for _, e := range have {
		if !seen[e.Name] {
			diffs = append(diffs, e.Name+": not in the backup")
		}
	}
	return diffs
}

// SizeExcluding measures folder dir on node without its top-level entries
// exclude.
func SizeExcluding(ctx context.Context, rc *steps.RunContext, node, dir string, exclude []string) (int64, error) {
	out, err := rc.Stdout(ctx, node, DUExcludingCmd(dir, exclude), true)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", node, err)
	}
	return parse.ParseDU(out), nil
}

// StatCmd prints folder dir's owner, group and octal mode.
func StatCmd(dir string) string { return "stat -c '%U %G %a' " + remote.Quote(dir) }

// Owner reads folder dir's owner, group and octal mode on node.
func Owner(ctx context.Context, rc *steps.RunContext, node, dir string) (owner, group, mode string, err error) {
	out, err := rc.Stdout(ctx, node, StatCmd(dir), true)
	if err != nil {
		return "", "", "", fmt.Errorf("%s: %s: %w", node, dir, err)
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		return "", "", "", fmt.Errorf("%s: stat %s printed %q", node, dir, out)
	}
	return f[0], f[1], f[2], nil
}
