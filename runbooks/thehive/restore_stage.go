package thehive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// ErrBackupDamaged is returned when an archive does not match the manifest
// while it is staged: nothing has been changed.
var ErrBackupDamaged = errors.New("the backup is damaged")

// stagingDir is where node n's archives are unpacked before nodetool
// import: next to its data directory, so the import's moves stay on one
// file system.
func (r *RestoreRun) stagingDir(env *steps.Env, n string) string {
	return path.Join(path.Dir(path.Clean(dataDir(env, n))), "hotsnap-restore", r.Manifest.ID)
}

// stagedVerify says the Cassandra archives are verified while they are
// staged (same topology, a hotsnap backup, the keyspace still to load),
// rather than read a second time by the verify step.
func (r *RestoreRun) stagedVerify() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load == LoadImport && r.Legacy == nil && !r.CassandraDone
}

// stageStep streams each node's own archives into its staging folder while
// TheHive still runs, checking each archive against the manifest as it
// streams: a damaged archive stops the restore here, before TheHive stops
// and before anything changes. The keyspace step then only imports.
func stageStep(env *steps.Env, r *RestoreRun) steps.Step {
	nodes := env.NodesWith(config.RoleCassandra)
	return steps.Step{
		ID: "stage", Title: "Stage each node's SSTables next to its data, verifying every archive", Kind: steps.KindAction,
		Why: "The bulk of a restore is moving bytes: done while TheHive still runs, it shortens the outage, and each archive is hashed as it streams, so a damaged one stops the restore before anything is stopped or changed. Staging writes only into its own folder.",
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			for _, n := range nodes {
				out = append(out, steps.PlannedCommand{Node: n, Sudo: true, Cmd: extractCmd(path.Join(r.stagingDir(env, n), "<table>")),
					Note: "same topology only: each node's own archives from the repository on stdin, hashed on the way"})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if !r.stagedVerify() {
				rc.Output("", "nothing to stage: the keyspace is loaded with sstableloader, or was restored by the earlier run")
				return nil
			}
			if err := steps.Parallel(nodes, func(i int, n string) error {
				return r.stageNode(ctx, rc, env, n)
			}); err != nil {
				return err
			}
			r.mu.Lock()
			r.staged = true
			r.mu.Unlock()
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return rc.RunAll(ctx, nodes, func(n string) remote.Command {
				return remote.Command{Cmd: "rm -rf " + remote.Quote(r.stagingDir(env, n)), Sudo: true}
			})
		},
	}
}

// stageNode unpacks node n's archives (those of the backup node with its
// host ID) into its staging folder, each checked as it streams.
func (r *RestoreRun) stageNode(ctx context.Context, rc *steps.RunContext, env *steps.Env, n string) error {
	b, total, err := r.archiveOf(n)
	if err != nil {
		return err
	}
	var done int64
	for _, t := range b.Tables {
		dir := path.Join(r.stagingDir(env, n), t.Table)
		base := done
		probs, err := r.streamChecked(ctx, rc, n, t, extractCmd(dir), func(x int64) { rc.Progress(n, base+x, total, "bytes") })
		if err != nil {
			return fmt.Errorf("%s: stage table %s: %w", n, t.Table, err)
		}
		if len(probs) > 0 {
			var what []string
			for _, p := range probs {
				what = append(what, p.String())
			}
			rc.Check(steps.CheckResult{Check: "backup files", Node: n, Status: steps.CheckFail, Evidence: strings.Join(what, "; "),
				Remedy: "this backup is damaged: restore another one (hotsnap list)"})
			return fmt.Errorf("%s: table %s: %w (%s): nothing has been changed; restore another backup (hotsnap list)", n, t.Table, ErrBackupDamaged, strings.Join(what, "; "))
		}
		done += t.Size
	}
	rc.Progress(n, total, total, "bytes")
	rc.Output(n, fmt.Sprintf("staged and verified %d tables (%s)", len(b.Tables), steps.HumanBytes(total)))
	return nil
}

// archiveOf returns the backup node whose SSTables node n imports (same
// host ID) and the bytes of its tables.
func (r *RestoreRun) archiveOf(n string) (repo.NodeArchive, int64, error) {
	r.mu.Lock()
	b, ok := r.byNode[n]
	r.mu.Unlock()
	if !ok {
		return b, 0, fmt.Errorf("%s: no backup node with its host ID", n)
	}
	return b, archiveBytes(b), nil
}

// archiveBytes is the size of every table of backup node a.
func archiveBytes(a repo.NodeArchive) int64 {
	var n int64
	for _, t := range a.Tables {
		n += t.Size
	}
	return n
}

// streamChecked streams archive t into cmd's stdin on node while checking it
// against the manifest; both see every byte once.
func (r *RestoreRun) streamChecked(ctx context.Context, rc *steps.RunContext, node string, t repo.TableArchive, cmd string, progress func(int64)) ([]repo.Problem, error) {
	f, err := r.Store.Open(ctx, t.Archive)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Archive, err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	type result struct {
		probs []repo.Problem
		err   error
	}
	done := make(chan result, 1)
	go func() {
		probs, err := repo.CheckArchive(pr, t.Archive, t)
		io.Copy(io.Discard, pr) //nolint:errcheck // drain: the stream must not block on a check that stopped early
		done <- result{probs, err}
	}()
	tee := io.TeeReader(f, pw)
	_, runErr := rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdin: tee, OnProgress: progress})
	if runErr == nil {
		// tar may stop reading at the end-of-archive blocks: the check
		// still reads the archive to its end.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			runErr = fmt.Errorf("read %s: %w", t.Archive, err)
		}
	}
	pw.CloseWithError(runErr) //nolint:errcheck // always nil
	res := <-done
	if runErr != nil {
		return nil, runErr
	}
	if res.err != nil {
		return nil, fmt.Errorf("check %s: %w", t.Archive, res.err)
	}
	return res.probs, nil
}
