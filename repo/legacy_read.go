package repo

import (
	"archive/tar"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Legacy is one backup of the documented layout, read and checked: what the
// restore needs from it.
type Legacy struct {
	// Set is the archives it is made of.
	Set *LegacySet
	// Source is the PATH the operator gave (node:/path, ssh://, a local
	// folder); with Set.Stamp it identifies the backup again (resume).
	Source string
	// Keyspace is the keyspace folder in the Cassandra archive; Schema its
	// create_keyspace_<ks>.cql, found at SchemaFrom.
	Keyspace   string
	Schema     string
	SchemaFrom string
	// Tables are the table snapshots in the Cassandra archive, by name.
	Tables []LegacyTable
	// Files is the attachments archive, nil when there is none.
	Files *LegacyArchive
	// Mirror is the SeaweedFS or MinIO archive of an S3 bucket, nil when
	// there is none.
	Mirror *LegacyArchive
	// ESSnapshot is the Elasticsearch snapshot the .info marker names, ""
	// without one; ESFolder is the store folder that holds the marker.
	ESSnapshot string
	ESFolder   string
}

// LegacyTable is one table's snapshot inside the Cassandra archive.
type LegacyTable struct {
	// Table and TableID come from the folder name <table>-<id>.
	Table, TableID string
	// Files lists the snapshot's files (no hashes: the layout has none).
	Files []FileEntry
	// Bytes is the size of the files' contents.
	Bytes int64

	stream *legacyStream
}

// LegacyArchive is a tar of a folder (attachments, or an S3 mirror).
type LegacyArchive struct {
	// Item is the archive.
	Item LegacyItem
	// Top is the folder inside the archive that holds everything.
	Top string
	// Entries lists what is in it, relative to Top.
	Entries []FileEntry
	// Bytes is the size of the files' contents.
	Bytes int64

	stream *legacyStream
	index  *tarScan
}

// byteRange is a part of a file: [Off, End).
type byteRange struct{ Off, End int64 }

// legacyStream is a virtual archive: tar entries taken from byte ranges of
// one archive of the store, renamed (and given an owner) on the way.
type legacyStream struct {
	src     string
	members []tarMember
	ranges  []byteRange
	rename  func(name string) (string, bool)
	owner   *tarOwner
	size    int64 // of the rewritten tar
}

var schemaNameRE = regexp.MustCompile(`^create_keyspace_(.+)\.cql$`)

// ReadLegacy reads the set's archives without reading their contents: the
// Cassandra archive's keyspace, schema and tables, the attachment archive's
// and S3 mirror's entries. It checks what can be checked without hashes —
// each archive complete (every entry within the file, the end-of-archive
// blocks present), a schema that creates the keyspace and every table that
// has data — and returns every problem found, joined, with what was read.
// progress, when set, gets how far the scan is through the archives (the
// position of the last header read in each, the contents between headers
// skipped) and their total size.
func ReadLegacy(ctx context.Context, s Store, set *LegacySet, progress func(done, total int64)) (*Legacy, error) {
	l := &Legacy{Set: set}
	sp := &scanProgress{fn: progress}
	for _, it := range set.Scanned() {
		sp.total += it.Size
	}
	var errs []error
	if err := l.readCassandra(ctx, s, sp); err != nil {
		errs = append(errs, err)
	}
	if it := set.Elasticsearch; it != nil {
		l.ESSnapshot = strings.TrimSuffix(it.Name(), ".info")
		l.ESFolder = path.Dir(it.Path)
		if l.ESFolder == "." {
			l.ESFolder = ""
		}
	}
	for _, a := range []struct {
		it  *LegacyItem
		dst **LegacyArchive
	}{{set.Files, &l.Files}, {set.SeaweedFS, &l.Mirror}, {set.MinIO, &l.Mirror}} {
		if a.it == nil || *a.dst != nil {
			continue
		}
		arch, err := readFolderArchive(ctx, s, *a.it, sp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*a.dst = arch
	}
	return l, errors.Join(errs...)
}

// Scanned returns the archives ReadLegacy scans: the Cassandra archive, the
// attachments' and the S3 mirror's (SeaweedFS's, else MinIO's).
func (set *LegacySet) Scanned() []LegacyItem {
	out := []LegacyItem{*set.Cassandra}
	if set.Files != nil {
		out = append(out, *set.Files)
	}
	if m := cmp.Or(set.SeaweedFS, set.MinIO); m != nil {
		out = append(out, *m)
	}
	return out
}

// scanProgress adds up how far ReadLegacy's scans are through the archives.
type scanProgress struct {
	fn          func(done, total int64)
	done, total int64 // done: the sizes of the archives scanned whole
}

// scanArchive scans one archive of the store, which must be complete.
func scanArchive(ctx context.Context, s Store, it LegacyItem, keep func(string) bool, sp *scanProgress) (*tarScan, error) {
	size, err := s.Stat(ctx, it.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", it.Path, err)
	}
	base := sp.done
	defer func() { sp.done = base + size; report(sp.fn, sp.done, max(sp.total, sp.done)) }()
	at := func(pos int64) { report(sp.fn, base+pos, max(sp.total, base+size)) }
	sc, err := scanTar(newRangeFile(ctx, s, it.Path, size), size, keep, at)
	if err != nil {
		return nil, fmt.Errorf("%s (%d bytes) is damaged: %w: restore a good copy of it", it.Path, size, err)
	}
	if len(sc.Members) == 0 && size < 1024 {
		return nil, fmt.Errorf("%s (%d bytes) is empty or not a tar archive: the script that made it failed; restore a good copy of it", it.Path, size)
	}
	if !sc.EndMarker {
		return nil, fmt.Errorf("%s (%d bytes) is truncated: it ends after %d entries without tar's end-of-archive blocks (a copy cut short?): restore a good copy of it", it.Path, size, len(sc.Members))
	}
	if len(sc.Members) == 0 {
		return nil, fmt.Errorf("%s is an empty archive", it.Path)
	}
	return sc, nil
}

func (l *Legacy) readCassandra(ctx context.Context, s Store, sp *scanProgress) error {
	it := *l.Set.Cassandra
	sc, err := scanArchive(ctx, s, it, func(name string) bool {
		dir, base := path.Split(cleanTarName(name))
		return strings.Count(dir, "/") == 1 && schemaNameRE.MatchString(base)
	}, sp)
	if err != nil {
		return err
	}
	// <top>/create_keyspace_<ks>.cql, <top>/<ks>/<table>-<id>/<file>
	type tableAcc struct {
		t       LegacyTable
		members []tarMember
	}
	tables := map[string]*tableAcc{}
	var order []string
	keyspaces := map[string]bool{}
	tops := map[string]bool{}
	var schemaName string
	for _, m := range sc.Members {
		name := cleanTarName(m.Header.Name)
		if name == "" {
			continue
		}
		parts := strings.Split(name, "/")
		tops[parts[0]] = true
		switch {
		case len(parts) == 2 && m.Header.Typeflag == tar.TypeReg && schemaNameRE.MatchString(parts[1]):
			schemaName = name
			l.Schema = string(sc.Kept[m.Header.Name])
		case len(parts) == 2 && m.Header.Typeflag == tar.TypeDir:
			keyspaces[parts[1]] = true
		case len(parts) >= 3:
			keyspaces[parts[1]] = true
			dir := strings.Join(parts[:3], "/")
			acc := tables[dir]
			if acc == nil {
				table, id, _ := strings.Cut(parts[2], "-")
				acc = &tableAcc{t: LegacyTable{Table: table, TableID: id}}
				tables[dir] = acc
				order = append(order, dir)
			}
			acc.members = append(acc.members, m)
			if len(parts) > 3 {
				if e, ok := fileEntry(m.Header, "./"+strings.Join(parts[3:], "/")); ok {
					acc.t.Files = append(acc.t.Files, e)
					acc.t.Bytes += e.Size
				}
			}
		}
	}
	var errs []error
	if len(tops) != 1 {
		errs = append(errs, fmt.Errorf("%s: expected one folder (cassandra_%s/) at the top of the archive, found %d", it.Path, it.Stamp, len(tops)))
	}
	switch len(keyspaces) {
	case 0:
		return errors.Join(append(errs, fmt.Errorf("%s holds no keyspace folder (cassandra_%s/<keyspace>/<table>-<id>/): it is not a backup of the documented script", it.Path, it.Stamp))...)
	case 1:
		for k := range keyspaces {
			l.Keyspace = k
		}
	default:
		var ks []string
		for k := range keyspaces {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return errors.Join(append(errs, fmt.Errorf("%s holds several keyspace folders (%s); the documented backup holds one", it.Path, strings.Join(ks, ", ")))...)
	}
	for _, dir := range order {
		acc := tables[dir]
		t := acc.t
		if t.Table == "" || t.TableID == "" {
			errs = append(errs, fmt.Errorf("%s: table folder %s is not named <table>-<id>", it.Path, dir))
			continue
		}
		if len(t.Files) == 0 {
			continue // a table without a snapshot file: nothing to load
		}
		prefix := dir + "/"
		rename := func(name string) (string, bool) {
			n := cleanTarName(name)
			if !strings.HasPrefix(n, prefix) {
				return "", false
			}
			return "./" + strings.TrimPrefix(n, prefix), true
		}
		t.stream, err = newLegacyStream(it.Path, acc.members, rename, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: table %s: %w", it.Path, t.Table, err))
			continue
		}
		l.Tables = append(l.Tables, t)
	}
	sort.Slice(l.Tables, func(i, j int) bool { return l.Tables[i].Table < l.Tables[j].Table })
	if len(l.Tables) == 0 {
		errs = append(errs, fmt.Errorf("%s holds no table snapshot under %s/", it.Path, l.Keyspace))
	}
	if schemaName != "" {
		l.SchemaFrom = it.Path + ":" + schemaName
	} else if err := l.schemaNextTo(ctx, s, it); err != nil {
		errs = append(errs, err)
	}
	if l.SchemaFrom != "" {
		if err := CheckLegacySchema(l.Schema, l.Keyspace, l.tableNames()); err != nil {
			errs = append(errs, fmt.Errorf("the schema %s: %w", l.SchemaFrom, err))
		}
	}
	return errors.Join(errs...)
}

func (l *Legacy) tableNames() []string {
	var out []string
	for _, t := range l.Tables {
		out = append(out, t.Table)
	}
	return out
}

// schemaNextTo looks for create_keyspace_<ks>.cql in a cassandra_<ts>/
// folder next to the archive (where the script writes it before taring, and
// where the documented restore unpacks it).
func (l *Legacy) schemaNextTo(ctx context.Context, s Store, it LegacyItem) error {
	want := "create_keyspace_" + l.Keyspace + ".cql"
	dir := path.Join(path.Dir(it.Path), "cassandra_"+it.Stamp)
	p := path.Join(dir, want)
	if size, err := s.Stat(ctx, p); err == nil && size <= maxKept {
		rc, err := s.Open(ctx, p)
		if err != nil {
			return fmt.Errorf("read the schema %s: %w", p, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxKept))
		if err != nil {
			return fmt.Errorf("read the schema %s: %w", p, err)
		}
		l.Schema, l.SchemaFrom = string(b), p
		return nil
	}
	return fmt.Errorf("no schema: neither %s holds cassandra_%s/%s nor is it next to the archive (%s): "+
		"the keyspace cannot be recreated without it; write it from a cluster with the same schema (cqlsh -e \"DESCRIBE KEYSPACE %s\" > %s) and try again",
		it.Path, it.Stamp, want, p, l.Keyspace, p)
}

var (
	createKeyspaceRE = regexp.MustCompile(`(?is)^CREATE\s+KEYSPACE\s+(?:IF\s+NOT\s+EXISTS\s+)?("?)([A-Za-z0-9_]+)("?)\s+WITH\s+.*replication\s*=`)
	createTableRE    = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([A-Za-z0-9_]+)"?\s*\.\s*"?([A-Za-z0-9_]+)"?\s*\(`)
)

// CheckLegacySchema checks a create_keyspace_<ks>.cql (cqlsh's DESCRIBE
// KEYSPACE output): a CREATE KEYSPACE of ks with its replication, and a
// CREATE TABLE ks.<table> for every table that has data (sstableloader
// skips the files of a table the schema does not create).
func CheckLegacySchema(schema, ks string, tables []string) error {
	stmts := 0
	created := map[string]bool{}
	keyspace := false
	for _, st := range strings.Split(schema, ";") {
		var lines []string
		for _, ln := range strings.Split(st, "\n") {
			if t := strings.TrimSpace(ln); t != "" && !strings.HasPrefix(t, "--") && !strings.HasPrefix(t, "//") {
				lines = append(lines, t)
			}
		}
		st = strings.Join(lines, "\n")
		if st == "" {
			continue
		}
		stmts++
		if m := createKeyspaceRE.FindStringSubmatch(st); m != nil && m[2] == ks {
			keyspace = true
		}
		if m := createTableRE.FindStringSubmatch(st); m != nil && m[1] == ks {
			created[m[2]] = true
		}
	}
	switch {
	case stmts == 0:
		return errors.New("it is empty (cqlsh failed when the backup ran?): the keyspace cannot be recreated from it")
	case !keyspace:
		return fmt.Errorf("it has no CREATE KEYSPACE %s ... WITH replication: it is not the DESCRIBE KEYSPACE output of %s", ks, ks)
	}
	var missing []string
	for _, t := range tables {
		if !created[t] {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("it creates no table %s, whose data is in the archive: the data of these tables would not load", strings.Join(missing, ", "))
	}
	return nil
}

// readFolderArchive reads a tar of one folder (files_<ts>/, seaweedfs_<ts>/).
func readFolderArchive(ctx context.Context, s Store, it LegacyItem, sp *scanProgress) (*LegacyArchive, error) {
	sc, err := scanArchive(ctx, s, it, nil, sp)
	if err != nil {
		return nil, err
	}
	a := &LegacyArchive{Item: it, index: sc}
	var members []tarMember
	for _, m := range sc.Members {
		name := cleanTarName(m.Header.Name)
		if name == "" {
			continue
		}
		top, rest, _ := strings.Cut(name, "/")
		if a.Top == "" {
			a.Top = top
		}
		if top != a.Top {
			return nil, fmt.Errorf("%s: expected everything under one folder (%s/), found %s too", it.Path, a.Top, top)
		}
		if rest == "" {
			continue
		}
		members = append(members, m)
		if e, ok := fileEntry(m.Header, rest); ok {
			a.Entries = append(a.Entries, e)
			a.Bytes += e.Size
		}
	}
	prefix := a.Top + "/"
	rename := func(name string) (string, bool) {
		n := cleanTarName(name)
		if !strings.HasPrefix(n, prefix) {
			return "", false
		}
		return strings.TrimPrefix(n, prefix), true
	}
	a.stream, err = newLegacyStream(it.Path, members, rename, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", it.Path, err)
	}
	return a, nil
}

// fileEntry describes a regular file or link of an archive under name.
func fileEntry(h *tar.Header, name string) (FileEntry, bool) {
	e := FileEntry{Name: name, Mode: uint32(h.Mode & 0o7777), Owner: h.Uname, Group: h.Gname}
	switch h.Typeflag {
	case tar.TypeReg:
		e.Size = h.Size
	case tar.TypeSymlink:
		e.Type, e.Link = TypeSymlink, h.Linkname
	case tar.TypeLink:
		e.Type, e.Link = TypeHardlink, h.Linkname
	default:
		return e, false
	}
	return e, true
}
