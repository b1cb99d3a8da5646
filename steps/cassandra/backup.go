package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Snapshots are one backup's Cassandra snapshots: Tag on Nodes, of
// Keyspace.
type Snapshots struct {
	Tag, Keyspace string
	Nodes         []string
}

// SnapshotCmd takes the snapshot on a node.
func (s Snapshots) SnapshotCmd() string {
	return "nodetool snapshot -t " + remote.Quote(s.Tag) + " " + remote.Quote(s.Keyspace)
}

// ClearCmd clears the snapshot on a node.
func (s Snapshots) ClearCmd() string {
	return "nodetool clearsnapshot -t " + remote.Quote(s.Tag) + " " + remote.Quote(s.Keyspace)
}

// Take takes the snapshot on node; a nodetool error is named. nodetool
// runs as the login user, as in the preflight's nodetool checks, which
// proved it can reach the node's JMX port: Cassandra writes the snapshot
// itself, so root adds nothing but a sudo on the way.
// `nodetool snapshot` flushes first, so a stuck flush holds it: it has a
// deadline (steps.DeadlineSnapshot).
func (s Snapshots) Take(ctx context.Context, rc *steps.RunContext, node string) error {
	var out strings.Builder
	err := rc.WithDeadline(ctx, steps.DeadlineSnapshot, node, "`"+s.SnapshotCmd()+"` to return (it flushes the keyspace's memtables first: "+
		"a stuck flush holds it — `nodetool tpstats` shows MemtableFlushWriter pending)", func(ctx context.Context) error {
		_, err := rc.Run(ctx, node, remote.Command{Cmd: s.SnapshotCmd(), Stdout: &out})
		return err
	})
	if errors.Is(err, steps.ErrDeadline) {
		return err
	}
	if err != nil {
		if perr := parse.ParseNodetoolError(out.String()); perr != nil {
			err = fmt.Errorf("%s: %w", node, perr)
		}
		return err
	}
	rc.Output(node, strings.TrimSpace(LastLine(out.String())))
	return nil
}

// Clear clears the snapshot on every node at once, as the login user (see
// Take).
func (s Snapshots) Clear(ctx context.Context, rc *steps.RunContext) error {
	return rc.RunAll(ctx, s.Nodes, func(string) remote.Command { return remote.Command{Cmd: s.ClearCmd()} })
}

// tarCmd streams one table directory's snapshot of node n.
func (s Snapshots) tarCmd(env *steps.Env, n, tableDir string) string {
	return "tar -C " + remote.Quote(path.Join(DataDir(env, n), s.Keyspace, tableDir, "snapshots", s.Tag)) + " -cf - ."
}

// StreamPlan is what Stream runs on each node, the archives going into
// backup id.
func (s Snapshots) StreamPlan(env *steps.Env, id string) []steps.PlannedCommand {
	var out []steps.PlannedCommand
	for _, n := range s.Nodes {
		out = append(out, steps.PlannedCommand{Node: n, Cmd: snapshotDirsCmd(DataDir(env, n), s.Keyspace, s.Tag), Sudo: true},
			steps.PlannedCommand{Node: n, Cmd: s.tarCmd(env, n, "<table>-<id>"), Sudo: true, Note: "one per table, streamed into " + repo.TableArchivePath(id, n, s.Keyspace, "<table>", "<id>")})
	}
	return out
}

type snapshotDir struct {
	Table, TableID string
	Bytes          int64
}

// LastLine is the last line of s.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// snapshotDirsCmd lists, on a node, every table directory of the keyspace
// that holds the snapshot, with the snapshot's size in bytes: one du for
// them all, a "SIZE<TAB>TABLE-ID/snapshots/TAG" line each (du counts a file
// linked twice once, and no two tables' snapshots share a file); nothing
// when no table has the snapshot.
func snapshotDirsCmd(dataDir, ks, id string) string {
	return "cd " + remote.Quote(path.Join(dataDir, ks)) + " && set -- */snapshots/" + remote.Quote(id) +
		` && if [ -d "$1" ]; then du -sb -- "$@"; fi`
}

// parseSnapshotDirs reads snapshotDirsCmd's lines.
func parseSnapshotDirs(out string) ([]snapshotDir, error) {
	var dirs []snapshotDir
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		size, dir, ok := strings.Cut(l, "\t")
		name, _, _ := strings.Cut(dir, "/")
		i := strings.LastIndexByte(name, '-')
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || i <= 0 || err != nil {
			return nil, fmt.Errorf("unexpected line %q in the snapshot listing", l)
		}
		dirs = append(dirs, snapshotDir{Table: name[:i], TableID: name[i+1:], Bytes: n})
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Table < dirs[j].Table })
	return dirs, nil
}

// Stream measures, then streams, every node's snapshot into store under
// backup id (repo.TableArchivePath), the nodes in parallel, each table as
// a tar indexed on the way; done receives each node's archives as that
// node finishes. It returns the bytes the snapshots hold.
func (s Snapshots) Stream(ctx context.Context, rc *steps.RunContext, env *steps.Env, store repo.Store, id string, done func(node string, archives []repo.TableArchive)) (int64, error) {
	nodes, ks := s.Nodes, s.Keyspace
	// Measure first, so progress has a total.
	totals := make([]int64, len(nodes))
	tables := make([][]snapshotDir, len(nodes))
	if err := steps.Parallel(nodes, func(i int, n string) error {
		out, err := rc.Stdout(ctx, n, snapshotDirsCmd(DataDir(env, n), ks, s.Tag), true)
		if err != nil {
			return err
		}
		dirs, err := parseSnapshotDirs(out)
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		if len(dirs) == 0 {
			return fmt.Errorf("%s: no table of %s has a snapshot %s", n, ks, s.Tag)
		}
		for _, d := range dirs {
			totals[i] += d.Bytes
		}
		tables[i] = dirs
		return nil
	}); err != nil {
		return 0, err
	}
	var total int64
	for _, t := range totals {
		total += t
	}
	err := steps.Parallel(nodes, func(i int, n string) error {
		archives, err := s.streamNode(ctx, rc, env, store, id, n, tables[i], totals[i])
		if err == nil {
			done(n, archives)
		}
		return err
	})
	return total, err
}

// tableStreams is how many of one node's tables stream at once, each over
// its own SSH session: the next table's session setup and the previous
// archive's sync overlap with the data, and one node's backup can use more
// than one core.
const tableStreams = 2

// streamNode streams one node's tables into the store, tableStreams at a
// time (the largest first, so that it does not end last). The first failure
// stops the node's other streams.
func (s Snapshots) streamNode(ctx context.Context, rc *steps.RunContext, env *steps.Env, store repo.Store, id, n string, dirs []snapshotDir, total int64) ([]repo.TableArchive, error) {
	ks := s.Keyspace
	order := make([]int, len(dirs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return dirs[order[i]].Bytes > dirs[order[j]].Bytes })

	// Progress: the payload of the finished tables plus the bytes of those
	// streaming.
	var pmu sync.Mutex
	var finished int64
	streaming := make([]int64, len(dirs))
	report := func() {
		cur := finished
		for _, x := range streaming {
			cur += x
		}
		rc.Progress(n, min(cur, total), total, "bytes")
	}
	rc.Progress(n, 0, total, "bytes")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	archives := make([]repo.TableArchive, len(dirs))
	errs := make([]error, len(dirs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(tableStreams, len(dirs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := dirs[i]
				p := repo.TableArchivePath(id, n, ks, d.Table, d.TableID)
				ix, err := streamTar(ctx, rc, n, s.tarCmd(env, n, d.Table+"-"+d.TableID), store, p, func(x int64) {
					pmu.Lock()
					streaming[i] = x
					report()
					pmu.Unlock()
				})
				if err != nil {
					errs[i] = fmt.Errorf("%s: table %s: %w", n, d.Table, err)
					cancel()
					continue
				}
				var payload int64
				for _, f := range ix.Files {
					payload += f.Size
				}
				pmu.Lock()
				streaming[i], finished = 0, finished+payload
				report()
				pmu.Unlock()
				archives[i] = repo.TableArchive{Keyspace: ks, Table: d.Table, TableID: d.TableID, Archive: p, Size: ix.Size, Digest: ix.Digest, Files: ix.Files}
			}
		}()
	}
feed:
	for _, i := range order {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := firstStreamError(errs); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	rc.Progress(n, total, total, "bytes")
	return archives, nil
}

// firstStreamError returns the error that stopped a node's streams: the
// first one that is not merely the cancellation it caused in the others.
func firstStreamError(errs []error) error {
	var cancelled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			if cancelled == nil {
				cancelled = err
			}
		default:
			return err
		}
	}
	return cancelled
}

// streamTar runs cmd (a tar writing to stdout) on node through sudo and
// streams its output into the store at p, indexed as it passes
// (repo.WriteArchive).
func streamTar(ctx context.Context, rc *steps.RunContext, node, cmd string, store repo.Store, p string, progress func(int64)) (*repo.ArchiveIndex, error) {
	return repo.WriteArchive(ctx, store, p, func(w io.Writer) error {
		_, err := rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdout: w, OnProgress: progress})
		return err
	})
}
