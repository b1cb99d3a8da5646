// Package files holds an application's stored files: a folder on a node's
// disk or NFS mount, archived as a tar with owners, modes and awkward names
// into the repository and hashed on the fly, and restored into a staging
// folder that is then swapped in; or the objects of an S3 bucket, copied
// into the repository, compared with a backup and put back.
package files

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Component is what the steps of this package work on (Step.Component).
const Component = "attachments"

// Location is the node that reads the local attachment folder, and the
// folder there (storage.path, or the node's paths.attachments).
func Location(env *steps.Env) (node, dir string) {
	node = env.FirstWith(config.RoleFiles)
	dir = env.Inv.Storage.Path
	if n, ok := env.Inv.Node(node); ok && n.Paths[config.PathAttachments] != "" {
		dir = n.Paths[config.PathAttachments]
	}
	return node, dir
}

// DUCmd measures folder dir (bytes, du -sb).
func DUCmd(dir string) string { return "du -sb " + remote.Quote(dir) }

// TarCmd archives folder dir to stdout, with owners and modes; --sparse
// stores a sparse file's holes as holes (tar restores them so), not as
// gigabytes of zeros.
func TarCmd(dir string) string { return "tar -C " + remote.Quote(dir) + " --sparse -cf - ." }

// SizeKey is where a Check puts the size of folder dir on node in its Sizes.
func SizeKey(node, dir string) string { return node + ":" + dir }

// Size measures folder dir on node; when a Check beside the step promised
// it in from (SizeKey), it takes the size from there instead.
func Size(ctx context.Context, rc *steps.RunContext, node, dir string, from *steps.Sizes) (int64, error) {
	return from.Size(ctx, SizeKey(node, dir), func() (int64, error) {
		out, err := rc.Stdout(ctx, node, DUCmd(dir), true)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", node, err)
		}
		return parse.ParseDU(out), nil
	})
}

// Check is the check of folder dir on node: there, its owner (a warning
// when it is not owner, if set) and its size. conf says where the
// application configures the folder ("storage.localfs.location in
// application.conf").
// It promises the folder's size in sizes and hands it, or why it has none,
// to the steps that wait on it (Size).
func Check(node, dir, owner, conf string, sizes *steps.Sizes) steps.Step {
	sizes.Promise(SizeKey(node, dir))
	cmd := "stat -c '%U:%G %a' " + remote.Quote(dir) + " && " + DUCmd(dir)
	return steps.Step{
		ID: "files", Title: "Attachment storage", Kind: steps.KindCheck, Component: Component,
		Plan: steps.PlanEach([]string{node}, cmd, true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := rc.Stdout(ctx, node, cmd, true)
			sizes.Set(SizeKey(node, dir), parse.ParseDU(out), err)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "attachments", Node: node, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "check storage.path against " + conf})
				return nil
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			r := steps.CheckResult{Check: "attachments", Node: node, Status: steps.CheckPass, Evidence: fmt.Sprintf("%s owner %s, %s", dir, lines[0], steps.HumanBytes(parse.ParseDU(out)))}
			if owner != "" && !strings.HasPrefix(lines[0], owner+" ") {
				r.Status, r.Remedy = steps.CheckWarn, "owner differs from storage.owner "+owner
			}
			rc.Check(r)
			return nil
		},
	}
}

// Archive streams folder dir on node into store at p as one tar (owners,
// modes and names kept), indexed on the way; progress gets the bytes
// streamed so far.
func Archive(ctx context.Context, rc *steps.RunContext, node, dir string, store repo.Store, p string, progress func(int64)) (*repo.ArchiveIndex, error) {
	ix, err := repo.WriteArchive(ctx, store, p, func(w io.Writer) error {
		_, err := rc.Run(ctx, node, remote.Command{Cmd: TarCmd(dir), Sudo: true, Stdout: w, OnProgress: progress})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: attachments %s: %w", node, dir, err)
	}
	return ix, nil
}

// Swap is how an archive replaces folder Dir: unpacked into a staging
// folder inside it (often a mount point, NFS: nothing outside it is on the
// same file system, and renames inside it are cheap and safe), then swapped
// in, so a failure while unpacking leaves the current files untouched.
type Swap struct {
	Dir string
	// Extract unpacks the archive read on stdin into the staging folder,
	// which starts with the folder's own owner and mode: an archive with a
	// "./" entry (hotsnap's) sets them, one without (the documented
	// scripts') leaves the folder's as they are.
	Extract string
	// Replace moves the current files aside, the staged ones in, and
	// removes the old ones.
	Replace string
	// Clean removes the staging folder (a cleanup after a failure).
	Clean string
}

// SwapFor is the Swap of folder dir for the restore of backup id.
func SwapFor(dir, id string) Swap {
	stage := ".hotsnap-restore-" + id
	old := ".hotsnap-replaced-" + id
	cd := "cd " + remote.Quote(dir) + " && "
	return Swap{
		Dir: dir,
		Extract: "mkdir -p " + remote.Quote(dir) + " && " + cd + "rm -rf " + stage + " && mkdir " + stage +
			" && chown --reference=. " + stage + " && chmod --reference=. " + stage + " && tar -x -p --same-owner -C " + stage,
		Replace: cd + "rm -rf " + old + " && mkdir " + old +
			" && find . -mindepth 1 -maxdepth 1 ! -name " + stage + " ! -name " + old + " -exec mv -t " + old + " -- {} +" +
			" && find " + stage + " -mindepth 1 -maxdepth 1 -exec mv -t . -- {} +" +
			" && chown --reference=" + stage + " . && chmod --reference=" + stage + " . && rm -rf " + stage + " " + old,
		Clean: cd + "rm -rf " + stage,
	}
}

// Restore unpacks archive (size bytes) of store into the staging folder on
// node, then swaps it in.
func (s Swap) Restore(ctx context.Context, rc *steps.RunContext, node string, store repo.Store, archive string, size int64) error {
	f, err := store.Open(ctx, archive)
	if err != nil {
		return fmt.Errorf("%s: unpack the attachments: open %s: %w", node, archive, err)
	}
	defer f.Close()
	if _, err := rc.Run(ctx, node, remote.Command{Cmd: s.Extract, Sudo: true, Stdin: f, OnProgress: func(x int64) { rc.Progress(node, x, size, "bytes") }}); err != nil {
		return fmt.Errorf("%s: unpack the attachments: %w", node, err)
	}
	if _, err := rc.Run(ctx, node, remote.Command{Cmd: s.Replace, Sudo: true}); err != nil {
		return fmt.Errorf("%s: put the attachments in place: %w", node, err)
	}
	return nil
}
