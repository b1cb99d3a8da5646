package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Summary is one backup as `hotsnap list` shows it.
type Summary struct {
	// ID is the backup's directory name.
	ID string
	// Label is the manifest's label (backup --name), "" without one.
	Label string
	// Started is the manifest's start time; for an incomplete backup, the
	// time in its ID, else its oldest file's modification time.
	Started time.Time
	// Size is the bytes stored under <ID>/.
	Size int64
	// Components lists what it holds: "cassandra", "elasticsearch",
	// "files" (for an incomplete backup, what is present so far).
	Components []string
	// Complete is true when the manifest is present and readable.
	Complete bool
	// Problem says why an incomplete backup is incomplete.
	Problem string
	// Run is the run that left an incomplete backup, from its marker
	// (RunFile); "" when unknown.
	Run string
	// Resumes is the manifest's Resumes: the interrupted run whose backup
	// this one took again under its ID ("" when taken in one run).
	Resumes string
}

// dirStats is what one listing of the repository says about one backup
// directory.
type dirStats struct {
	size    int64
	oldest  time.Time
	comps   map[string]bool
	hasMani bool
	hasRun  bool
}

// scan lists the repository once and sums it up per top-level directory,
// in the order the listing gives them.
func scan(ctx context.Context, s Store) (map[string]*dirStats, []string, error) {
	entries, err := s.List(ctx, "")
	if err != nil {
		return nil, nil, fmt.Errorf("list backups: %w", err)
	}
	dirs := map[string]*dirStats{}
	var order []string
	for _, e := range entries {
		id, rest, ok := strings.Cut(e.Path, "/")
		if !ok {
			continue // a stray file at the top level is no backup
		}
		a := dirs[id]
		if a == nil {
			a = &dirStats{comps: map[string]bool{}}
			dirs[id] = a
			order = append(order, id)
		}
		a.size += e.Size
		if !e.ModTime.IsZero() && (a.oldest.IsZero() || e.ModTime.Before(a.oldest)) {
			a.oldest = e.ModTime
		}
		switch rest {
		case ManifestFile:
			a.hasMani = true
		case RunFile:
			a.hasRun = true
		}
		if top, _, _ := strings.Cut(rest, "/"); top == CassandraDir || top == "elasticsearch" || top == "files" || top == ConfigDir {
			a.comps[top] = true
		}
	}
	return dirs, order, nil
}

// listReaders is how many backups' manifests List reads at once: over SSH
// each is a session, one after another a second per 25 backups.
const listReaders = 8

// List returns every backup in the repository (every top-level directory),
// newest first (directories whose name is no backup ID last). A directory without a readable manifest is listed with
// Complete false and the reason in Problem.
func List(ctx context.Context, s Store) ([]Summary, error) {
	dirs, order, err := scan(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(order))
	var g errgroup.Group
	g.SetLimit(listReaders)
	for i, id := range order {
		g.Go(func() error {
			sum, err := summarize(ctx, s, id, dirs[id])
			out[i] = sum
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		bi, bj := CheckID(out[i].ID) == nil, CheckID(out[j].ID) == nil
		if bi != bj {
			return bi // directories that are not backups last
		}
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.After(out[j].Started)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// Complete returns which of ids are backups in s with a readable
// manifest, reading the manifests listReaders at a time (over SSH each is
// a session: one after another, they would take a session's time per
// backup kept).
func Complete(ctx context.Context, s Store, ids []string) map[string]bool {
	ok := make([]bool, len(ids))
	var g errgroup.Group
	g.SetLimit(listReaders)
	for i, id := range ids {
		g.Go(func() error {
			_, err := ReadManifest(ctx, s, id)
			ok[i] = err == nil
			return nil
		})
	}
	_ = g.Wait() // the readers return no error
	out := map[string]bool{}
	for i, id := range ids {
		if ok[i] {
			out[id] = true
		}
	}
	return out
}

// summarize is List's line for backup directory id, reading its manifest
// (or, without one, its run marker); the error is only for a cancelled ctx.
func summarize(ctx context.Context, s Store, id string, a *dirStats) (Summary, error) {
	sum := Summary{ID: id, Size: a.size}
	var m *Manifest
	switch {
	case CheckID(id) != nil:
		sum.Problem = "not a backup directory (its name is not a backup ID)"
	case !a.hasMani:
		sum.Problem = "no manifest.json: the backup did not finish"
	default:
		var err error
		m, err = ReadManifest(ctx, s, id)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrNotExist):
			sum.Problem = "no manifest.json: the backup did not finish"
		case errors.Is(err, ErrCorruptManifest):
			sum.Problem = "manifest.json is corrupt: " + err.Error()
		case ctx.Err() != nil:
			return sum, fmt.Errorf("list backups: %w", err)
		default:
			sum.Problem = "manifest.json unreadable: " + err.Error()
		}
	}
	if a.hasRun && m == nil && CheckID(id) == nil {
		// The marker names the run that did not finish it.
		if r, err := ReadRun(ctx, s, id); err == nil && r.Run != "" {
			sum.Run = r.Run
			sum.Problem += " (run " + r.Run + ")"
		}
	}
	if m != nil {
		sum.Complete, sum.Started, sum.Components, sum.Label, sum.Resumes = true, m.Started, m.Components(), m.Label, m.Resumes
		return sum, nil
	}
	if t, ok := IDTime(id); ok {
		sum.Started = t
	} else {
		sum.Started = a.oldest
	}
	for _, c := range []string{CassandraDir, "elasticsearch", "files", ConfigDir} {
		if a.comps[c] {
			sum.Components = append(sum.Components, c)
		}
	}
	return sum, nil
}

// Select applies the prune policy to sums and returns the backups to
// remove, oldest first. A backup is kept when any rule keeps it:
//   - keepLast > 0 keeps the keepLast newest complete backups;
//   - olderThan > 0 keeps every backup started less than olderThan before now.
//
// With neither rule set nothing is removed. Whatever the rules, the newest
// complete backup is never removed, nor is an incomplete backup newer than
// it (it may still be running); incomplete backups older than it count as
// removable and never count toward keepLast.
func Select(sums []Summary, keepLast int, olderThan time.Duration, now time.Time) (remove []Summary) {
	if keepLast <= 0 && olderThan <= 0 {
		return nil
	}
	sorted := append([]Summary(nil), sums...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Started.After(sorted[j].Started) })
	var newestComplete time.Time
	haveComplete := false
	for _, s := range sorted {
		if s.Complete {
			newestComplete, haveComplete = s.Started, true
			break
		}
	}
	cutoff := now.Add(-olderThan)
	complete := 0
	for _, s := range sorted {
		kept := false
		if s.Complete {
			complete++
			if complete == 1 || (keepLast > 0 && complete <= keepLast) {
				kept = true
			}
		} else if !haveComplete || !s.Started.Before(newestComplete) {
			kept = true // possibly still running
		}
		if olderThan > 0 && s.Started.After(cutoff) {
			kept = true
		}
		if !kept {
			remove = append(remove, s)
		}
	}
	sort.SliceStable(remove, func(i, j int) bool { return remove[i].Started.Before(remove[j].Started) })
	return remove
}

// LastThroughput is the ID and throughput (bytes per second, from its
// manifest: bytes stored over the time from the snapshots to the manifest)
// of the newest complete backup in store; "" and 0 when there is none. It
// lists the repository once and reads manifests newest first (by the time
// in the ID) until one reads: one manifest, where List reads them all.
func LastThroughput(ctx context.Context, store Store) (string, float64, error) {
	dirs, order, err := scan(ctx, store)
	if err != nil {
		return "", 0, err
	}
	var ids []string
	for _, id := range order {
		if _, ok := IDTime(id); ok && dirs[id].hasMani && CheckID(id) == nil {
			ids = append(ids, id)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids))) // NewID's IDs sort by time
	for _, id := range ids {
		m, err := ReadManifest(ctx, store, id)
		if err != nil {
			if ctx.Err() != nil {
				return "", 0, err
			}
			continue // incomplete: List shows why
		}
		d := m.Finished.Sub(m.Started).Seconds()
		if d <= 0 || m.Size() <= 0 {
			return "", 0, nil
		}
		return m.ID, float64(m.Size()) / d, nil
	}
	return "", 0, nil
}
