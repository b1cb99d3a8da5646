package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
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

// List returns every backup in the repository (every top-level directory),
// newest first (directories whose name is no backup ID last). A directory without a readable manifest is listed with
// Complete false and the reason in Problem.
func List(ctx context.Context, s Store) ([]Summary, error) {
	entries, err := s.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	type acc struct {
		size    int64
		oldest  time.Time
		comps   map[string]bool
		hasMani bool
		hasRun  bool
	}
	dirs := map[string]*acc{}
	var order []string
	for _, e := range entries {
		id, rest, ok := strings.Cut(e.Path, "/")
		if !ok {
			continue // a stray file at the top level is no backup
		}
		a := dirs[id]
		if a == nil {
			a = &acc{comps: map[string]bool{}}
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
	out := make([]Summary, 0, len(order))
	for _, id := range order {
		a := dirs[id]
		sum := Summary{ID: id, Size: a.size}
		var m *Manifest
		switch {
		case CheckID(id) != nil:
			sum.Problem = "not a backup directory (its name is not a backup ID)"
		case !a.hasMani:
			sum.Problem = "no manifest.json: the backup did not finish"
		default:
			m, err = ReadManifest(ctx, s, id)
			switch {
			case err == nil:
			case errors.Is(err, fs.ErrNotExist):
				sum.Problem = "no manifest.json: the backup did not finish"
			case errors.Is(err, ErrCorruptManifest):
				sum.Problem = "manifest.json is corrupt: " + err.Error()
			case ctx.Err() != nil:
				return nil, fmt.Errorf("list backups: %w", err)
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
		} else {
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
		}
		out = append(out, sum)
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
// of the newest complete backup in store; "" and 0 when there is none.
func LastThroughput(ctx context.Context, store Store) (string, float64, error) {
	sums, err := List(ctx, store)
	if err != nil {
		return "", 0, err
	}
	for _, s := range sums { // newest first
		if !s.Complete {
			continue
		}
		m, err := ReadManifest(ctx, store, s.ID)
		if err != nil {
			return "", 0, err
		}
		d := m.Finished.Sub(m.Started).Seconds()
		if d <= 0 || m.Size() <= 0 {
			return "", 0, nil
		}
		return m.ID, float64(m.Size()) / d, nil
	}
	return "", 0, nil
}
