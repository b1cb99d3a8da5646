package repo

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A backup made by TheHive's documented hot-backup scripts (StrangeBee's
// runbook; lab/baseline/backup.sh reproduces it) is a set of archives under
// a backup root, one per component, each named after the `date` it was
// taken at (YYYYMMDD_HHhMMmSSs):
//
//	cassandra/cassandra_<ts>.tar         tar of the folder cassandra_<ts>/:
//	    cassandra_<ts>/create_keyspace_<ks>.cql   DESCRIBE KEYSPACE output
//	    cassandra_<ts>/<ks>/<table>-<id>/*        ONE node's snapshot of each table
//	elasticsearch/elasticsearch_<ts>.info  empty marker naming the ES snapshot
//	                                       (the folder is the fs repository)
//	storage/files_<ts>.tar               tar of files_<ts>/ (a cp -r of the attachments)
//	seaweedfs/seaweedfs_<ts>.tar, minio/minio_<ts>.tar   mirrors of an S3 bucket
//
// Nothing is hashed, owners are not kept (cp -r as root), and the stamps of
// the components come from separate `date` calls, so they may differ by
// seconds (or more, when the file backup runs on its own). The archives may
// also sit directly in the root. FindLegacy lists them, SelectLegacy picks
// one set, ReadLegacy reads it and Legacy.Restore turns it into the
// manifest and store the restore runbook takes.

// Kinds of archive in the documented layout.
const (
	LegacyCassandra     = "cassandra"
	LegacyElasticsearch = "elasticsearch"
	LegacyFiles         = "files"
	LegacySeaweedFS     = "seaweedfs"
	LegacyMinIO         = "minio"
)

// legacyKinds is the order components are listed in.
var legacyKinds = []string{LegacyCassandra, LegacyElasticsearch, LegacyFiles, LegacySeaweedFS, LegacyMinIO}

// LegacyStampLayout is the time layout of the scripts' `date +%Y%m%d_%Hh%Mm%Ss`.
const LegacyStampLayout = "20060102_15h04m05s"

var legacyNameRE = regexp.MustCompile(`^(cassandra|elasticsearch|files|seaweedfs|minio)_([0-9]{8}_[0-9]{2}h[0-9]{2}m[0-9]{2}s)\.(tar|info)$`)

// LegacyPairWindow is how far from the Cassandra archive's stamp the other
// components of one backup may be. The documented scripts stamp each
// component with its own `date` call, and the file backup is a separate
// script, so the stamps differ; the nearest one within the window is taken.
const LegacyPairWindow = time.Hour

// LegacyItem is one archive (or the ES marker) of the documented layout.
type LegacyItem struct {
	// Kind is LegacyCassandra, LegacyElasticsearch, ...
	Kind string
	// Stamp is the date in its name (YYYYMMDD_HHhMMmSSs), Time the same
	// parsed in the local time zone (the scripts' `date` used the node's).
	Stamp string
	Time  time.Time
	// Path is its path in the store; Size its size in bytes.
	Path string
	Size int64
}

// Name returns the file name without folder.
func (it LegacyItem) Name() string { return path.Base(it.Path) }

// LegacyFound is everything of the documented layout under a root.
type LegacyFound struct {
	// Root is the store's URL.
	Root string
	// Items lists every archive found, newest first within each kind.
	Items []LegacyItem
	// Folders are cassandra_<ts>/ or files_<ts>/ folders left next to the
	// archives (an interrupted script or restore); they are not used.
	Folders []string
}

// FindLegacy lists the archives of the documented layout in the store: in
// the folders the scripts write to (cassandra/, elasticsearch/, storage/,
// seaweedfs/, minio/) and in the root itself.
func FindLegacy(ctx context.Context, s Store) (*LegacyFound, error) {
	f := &LegacyFound{Root: s.String()}
	seen := map[string]bool{}
	for _, dir := range []string{"", "cassandra", "elasticsearch", "storage", "seaweedfs", "minio"} {
		ents, err := listShallow(ctx, s, dir)
		if err != nil {
			return nil, fmt.Errorf("look for the documented backup layout in %s: %w", s, err)
		}
		for _, e := range ents {
			p := e.Name
			if dir != "" {
				p = dir + "/" + e.Name
			}
			if e.IsDir {
				if strings.HasPrefix(e.Name, "cassandra_") || strings.HasPrefix(e.Name, "files_") {
					f.Folders = append(f.Folders, p)
				}
				continue
			}
			m := legacyNameRE.FindStringSubmatch(e.Name)
			if m == nil || seen[p] || (m[1] == LegacyElasticsearch) != (m[3] == "info") {
				continue
			}
			t, err := time.ParseInLocation(LegacyStampLayout, m[2], time.Local)
			if err != nil {
				continue // 20261399_...: not a date
			}
			seen[p] = true
			f.Items = append(f.Items, LegacyItem{Kind: m[1], Stamp: m[2], Time: t, Path: p, Size: e.Size})
		}
	}
	sort.SliceStable(f.Items, func(i, j int) bool {
		a, b := f.Items[i], f.Items[j]
		if a.Kind != b.Kind {
			return kindIndex(a.Kind) < kindIndex(b.Kind)
		}
		if !a.Time.Equal(b.Time) {
			return a.Time.After(b.Time)
		}
		return a.Path < b.Path
	})
	return f, nil
}

func kindIndex(k string) int {
	for i, x := range legacyKinds {
		if x == k {
			return i
		}
	}
	return len(legacyKinds)
}

// Of returns the items of one kind, newest first.
func (f *LegacyFound) Of(kind string) []LegacyItem {
	var out []LegacyItem
	for _, it := range f.Items {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// Stamps returns the stamps of the Cassandra archives, newest first: the
// backups that can be chosen with --at.
func (f *LegacyFound) Stamps() []string {
	var out []string
	for _, it := range f.Of(LegacyCassandra) {
		out = append(out, it.Stamp)
	}
	return out
}

// LegacySet is one backup of the documented layout: a Cassandra archive and
// the other components taken nearest to it.
type LegacySet struct {
	// Root is the store's URL.
	Root string
	// Stamp is the Cassandra archive's stamp; it names the set.
	Stamp string
	// Cassandra is always set; the others are nil when no archive of that
	// kind lies within LegacyPairWindow of the Cassandra stamp.
	Cassandra, Elasticsearch, Files, SeaweedFS, MinIO *LegacyItem
	// Others are the stamps of the other Cassandra archives found.
	Others []string
	// Notes say how the set was put together (stamps that differ,
	// archives left out).
	Notes []string
}

// ID returns the name hotsnap gives the set as a backup ID (staging
// folders, reports): "legacy-" and the stamp.
func (s *LegacySet) ID() string { return "legacy-" + s.Stamp }

// NormalizeLegacyStamp accepts a stamp as --at takes it: the bare stamp
// (20260314_02h00m00s) or an archive's name (cassandra_20260314_02h00m00s.tar).
func NormalizeLegacyStamp(at string) string {
	at = strings.TrimSpace(path.Base(at))
	for _, suf := range []string{".tar", ".info"} {
		at = strings.TrimSuffix(at, suf)
	}
	for _, k := range legacyKinds {
		at = strings.TrimPrefix(at, k+"_")
	}
	return at
}

// SelectLegacy picks the backup with Cassandra stamp at (any form
// NormalizeLegacyStamp takes), or the newest when at is empty, and pairs it
// with the nearest archive of every other kind within LegacyPairWindow.
func (f *LegacyFound) SelectLegacy(at string) (*LegacySet, error) {
	cass := f.Of(LegacyCassandra)
	if len(cass) == 0 {
		msg := fmt.Sprintf("no Cassandra archive (cassandra/cassandra_YYYYMMDD_HHhMMmSSs.tar) in %s", f.Root)
		if len(f.Items) > 0 {
			var names []string
			for _, it := range f.Items {
				names = append(names, it.Path)
			}
			msg += "; found only " + strings.Join(names, ", ")
		}
		for _, d := range f.Folders {
			if strings.HasPrefix(path.Base(d), "cassandra_") {
				msg += fmt.Sprintf("; the folder %s has no archive: an interrupted backup or restore left it (tar it first: tar cf %s.tar -C %s %s)", d, path.Base(d), path.Dir(d), path.Base(d))
				break
			}
		}
		return nil, errors.New(msg + ": give the backup root the documented scripts write to (their BACKUP_ROOT, /mnt/backup by default)")
	}
	pick := cass[0]
	if at != "" {
		want := NormalizeLegacyStamp(at)
		found := false
		for _, c := range cass {
			if c.Stamp == want {
				pick, found = c, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no Cassandra archive with stamp %s in %s; the backups there are: %s", want, f.Root, strings.Join(f.Stamps(), ", "))
		}
	}
	set := &LegacySet{Root: f.Root, Stamp: pick.Stamp, Cassandra: &pick}
	for _, c := range cass {
		if c.Path != pick.Path {
			set.Others = append(set.Others, c.Stamp)
		}
	}
	if len(cass) > 1 && at == "" {
		set.Notes = append(set.Notes, fmt.Sprintf("%d backups found; taking the newest, %s (--at STAMP takes another: %s)", len(cass), pick.Stamp, strings.Join(set.Others, ", ")))
	}
	for _, k := range []struct {
		kind string
		dst  **LegacyItem
	}{{LegacyElasticsearch, &set.Elasticsearch}, {LegacyFiles, &set.Files}, {LegacySeaweedFS, &set.SeaweedFS}, {LegacyMinIO, &set.MinIO}} {
		items := f.Of(k.kind)
		var best *LegacyItem
		for i := range items {
			if best == nil || absDur(items[i].Time.Sub(pick.Time)) < absDur(best.Time.Sub(pick.Time)) {
				best = &items[i]
			}
		}
		if best == nil {
			continue
		}
		d := best.Time.Sub(pick.Time)
		if absDur(d) > LegacyPairWindow {
			set.Notes = append(set.Notes, fmt.Sprintf("%s left out: its stamp is %s from the Cassandra archive's (more than %s), so it belongs to another backup", best.Path, signedDur(d), LegacyPairWindow))
			continue
		}
		it := *best
		*k.dst = &it
		if d != 0 {
			set.Notes = append(set.Notes, fmt.Sprintf("%s is stamped %s from the Cassandra archive (the documented scripts call `date` once per component)", it.Name(), signedDur(d)))
		}
	}
	return set, nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func signedDur(d time.Duration) string {
	if d < 0 {
		return "-" + (-d).String()
	}
	return "+" + d.String()
}
