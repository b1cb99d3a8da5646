package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// Problem is one thing wrong with a stored backup.
type Problem struct {
	// Path is the repository path concerned; for a file inside an
	// archive, "archive.tar:name/in/archive".
	Path string
	// What says what is wrong.
	What string
}

// String returns "path: what".
func (p Problem) String() string { return p.Path + ": " + p.What }

// expected is one stored file the manifest accounts for.
type expected struct {
	path   string
	size   int64
	sha    string      // SHA-256 of the whole file (format 1 archives, objects)
	digest string      // tar digest (format 2 archives)
	files  []FileEntry // for archives: what IndexTar must find
	isTar  bool
	schema string // for schema.cql: its content
	dump   bool   // a pg_dumpall dump: it must end with the completion trailer
}

// Verify re-hashes every file of backup id against its manifest: each
// archive's size and SHA-256 and, reading each tar, every file in it; S3
// attachment objects; schema.cql. Every problem is reported (missing,
// extra, size or hash mismatch, manifest missing or corrupt), not only the
// first; an Elasticsearch snapshot whose recorded state is not SUCCESS is a
// problem too (the ES repository itself is checked by the caller, through
// ES). progress, when set, is called with bytes verified and the total.
// The error is for failures to reach the store, not for problems found.
func Verify(ctx context.Context, s Store, id string, progress func(done, total int64)) ([]Problem, error) {
	return VerifySkipping(ctx, s, id, nil, progress)
}

// VerifySkipping is Verify, except that the files for which skip returns
// true are only checked for presence and size, not read: their content is
// verified elsewhere (a restore verifies the Cassandra archives while it
// stages them on their nodes, with CheckArchive).
func VerifySkipping(ctx context.Context, s Store, id string, skip func(path string) bool, progress func(done, total int64)) ([]Problem, error) {
	if err := CheckID(id); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	manPath := id + "/" + ManifestFile
	entries, err := s.List(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", id, err)
	}
	m, err := ReadManifest(ctx, s, id)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		what := "missing: the backup is incomplete"
		if len(entries) == 0 {
			what = "missing: no backup with this ID in " + s.String()
		}
		return []Problem{{Path: manPath, What: what}}, nil
	case errors.Is(err, ErrCorruptManifest):
		return []Problem{{Path: manPath, What: err.Error()}}, nil
	default:
		if ctx.Err() != nil {
			return nil, fmt.Errorf("verify %s: %w", id, err)
		}
		return []Problem{{Path: manPath, What: err.Error()}}, nil
	}

	var probs []Problem
	add := func(p, format string, args ...any) {
		probs = append(probs, Problem{Path: p, What: fmt.Sprintf(format, args...)})
	}

	// What the manifest says is stored.
	var want []expected
	for _, na := range m.Cassandra {
		for _, t := range na.Tables {
			want = append(want, expected{path: t.Archive, size: t.Size, sha: t.SHA256, digest: t.Digest, files: t.Files, isTar: true})
		}
	}
	if f := m.Files; f != nil {
		if f.Archive != "" {
			want = append(want, expected{path: f.Archive, size: f.Size, sha: f.SHA256, digest: f.Digest, files: f.Entries, isTar: true})
		}
		for _, o := range f.Objects {
			want = append(want, expected{path: ObjectPath(id, o.Key), size: o.Size, sha: o.SHA256})
		}
	}
	for _, c := range m.Configs {
		want = append(want, expected{path: c.Archive, size: c.Size, sha: c.SHA256, digest: c.Digest, files: c.Entries, isTar: true})
	}
	want = append(want, m.eiqExpected()...)
	if m.Schema != "" {
		want = append(want, expected{path: id + "/" + SchemaFile, size: int64(len(m.Schema)), schema: m.Schema})
	}
	known := map[string]bool{manPath: true, id + "/" + ESSnapshotFile: true, id + "/" + RunFile: true}
	if es := m.Elasticsearch; es != nil && es.State != "SUCCESS" {
		add(manPath, "the Elasticsearch snapshot %s is %s, not SUCCESS: it cannot be restored whole", es.Snapshot, es.State)
	}
	var total int64
	for _, w := range want {
		total += w.size
	}

	stored := map[string]Entry{}
	for _, e := range entries {
		stored[e.Path] = e
	}
	var done int64
	for _, w := range want {
		if err := ctx.Err(); err != nil {
			return probs, fmt.Errorf("verify %s: %w", id, err)
		}
		if !strings.HasPrefix(w.path, id+"/") {
			add(w.path, "the manifest names a path outside backup %s", id)
			continue
		}
		if err := checkPath(w.path); err != nil {
			add(w.path, "the manifest names an invalid path: %v", err)
			continue
		}
		if known[w.path] {
			add(w.path, "listed twice in the manifest")
			continue
		}
		known[w.path] = true
		e, ok := stored[w.path]
		if !ok {
			add(w.path, "missing (the manifest lists %d bytes)", w.size)
			done += w.size
			report(progress, done, total)
			continue
		}
		if e.Size != w.size {
			if e.Size < w.size {
				add(w.path, "truncated: %d bytes, the manifest says %d", e.Size, w.size)
			} else {
				add(w.path, "size %d bytes, the manifest says %d", e.Size, w.size)
			}
			done += w.size
			report(progress, done, total)
			continue
		}
		if skip != nil && skip(w.path) {
			done += w.size
			report(progress, done, total)
			continue
		}
		base := done
		more, err := checkFile(ctx, s, w, func(n int64) { report(progress, base+n, total) })
		if err != nil {
			if ctx.Err() != nil {
				return probs, fmt.Errorf("verify %s: %w", id, err)
			}
			add(w.path, "unreadable: %v", err)
		}
		probs = append(probs, more...)
		done += w.size
		report(progress, done, total)
	}
	for _, e := range entries {
		if !known[e.Path] {
			add(e.Path, "unexpected file: not in the manifest (%d bytes)", e.Size)
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Path < probs[j].Path })
	return probs, nil
}

func report(progress func(done, total int64), done, total int64) {
	if progress != nil {
		progress(done, total)
	}
}

// progressWriter reports the running count of bytes written to it.
type progressWriter struct {
	n  int64
	fn func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	p.fn(p.n)
	return len(b), nil
}

// checkFile reads one stored file once: hashing it and, for a tar, indexing
// it. The error is a failure to read the file.
func checkFile(ctx context.Context, s Store, w expected, progress func(int64)) ([]Problem, error) {
	r, err := s.Open(ctx, w.path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return checkReader(r, w, progress)
}

// CheckArchive verifies a table archive read from r (to its end) against
// the manifest's entry t, naming it path in the problems: the same checks
// Verify makes. The error is a failure to read r.
func CheckArchive(r io.Reader, path string, t TableArchive) ([]Problem, error) {
	return checkReader(r, expected{path: path, size: t.Size, sha: t.SHA256, digest: t.Digest, files: t.Files, isTar: true}, func(int64) {})
}

// checkReader reads one file once from r: hashing it and, for a tar,
// indexing it.
func checkReader(r io.Reader, w expected, progress func(int64)) ([]Problem, error) {
	var probs []Problem
	add := func(p, format string, args ...any) {
		probs = append(probs, Problem{Path: p, What: fmt.Sprintf(format, args...)})
	}
	if w.isTar {
		// A format 2 archive is checked by its tar digest, which hashes
		// each byte once, with the files; a format 1 archive by the
		// SHA-256 of the whole file as well.
		var sink io.Writer = &progressWriter{fn: progress}
		var hw *HashingWriter
		if w.sha != "" {
			hw = NewHashingWriter(sink)
			sink = hw
		}
		tee := io.TeeReader(r, sink)
		ix, ierr := IndexArchive(tee)
		if ierr != nil {
			if _, err := io.Copy(io.Discard, tee); err != nil { // hash the rest anyway
				return probs, err
			}
			add(w.path, "not a readable tar archive: %v", ierr)
		}
		got, want, mismatch := ix.Digest, w.digest, "SHA-256 mismatch (tar digest)"
		if hw != nil {
			got, want, mismatch = hw.Sum(), w.sha, "SHA-256 mismatch"
		}
		switch {
		case want == "":
			add(w.path, "the manifest records no checksum for this archive: it cannot be verified")
		case got != want:
			add(w.path, "%s: %s, the manifest says %s", mismatch, got, want)
			probs = append(probs, compareFiles(w.path, w.files, ix.Files, ierr == nil)...)
		}
		return probs, nil
	}
	hw := NewHashingWriter(&progressWriter{fn: progress})
	tee := io.TeeReader(r, hw)
	switch {
	case w.schema != "":
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(tee, w.size+1)); err != nil {
			return nil, err
		}
		if buf.String() != w.schema {
			add(w.path, "differs from the schema in the manifest")
		}
	default:
		var sink io.Writer = io.Discard
		tail := &tailWriter{}
		if w.dump {
			sink = tail
		}
		if _, err := io.Copy(sink, tee); err != nil {
			return nil, err
		}
		if hw.Sum() != w.sha {
			add(w.path, "SHA-256 mismatch: %s, the manifest says %s", hw.Sum(), w.sha)
		}
		if w.dump && !tail.endsWithDumpTrailer() {
			add(w.path, "does not end with pg_dumpall's completion trailer (%q): it was cut short", dumpallTrailer)
		}
	}
	return probs, nil
}

// compareFiles names the files inside an archive that differ from the
// manifest. complete is false when the archive could not be read to its end
// (then files not reached are not reported as missing).
func compareFiles(archive string, want, got []FileEntry, complete bool) []Problem {
	var probs []Problem
	add := func(name, format string, args ...any) {
		probs = append(probs, Problem{Path: archive + ":" + name, What: fmt.Sprintf(format, args...)})
	}
	have := map[string]FileEntry{}
	for _, g := range got {
		have[g.Name] = g
	}
	listed := map[string]bool{}
	for _, f := range want {
		listed[f.Name] = true
		g, ok := have[f.Name]
		switch {
		case !ok:
			if complete {
				add(f.Name, "missing from the archive")
			}
		case g.Size != f.Size:
			add(f.Name, "size %d bytes, the manifest says %d", g.Size, f.Size)
		case g.SHA256 != f.SHA256:
			add(f.Name, "SHA-256 mismatch: %s, the manifest says %s", g.SHA256, f.SHA256)
		case g.Link != f.Link:
			add(f.Name, "link target %q, the manifest says %q", g.Link, f.Link)
		}
	}
	for _, g := range got {
		if !listed[g.Name] {
			add(g.Name, "in the archive but not in the manifest")
		}
	}
	return probs
}

// ErrBackupDamaged is returned when an archive does not match the manifest
// while it is staged on a node: nothing has been changed.
var ErrBackupDamaged = errors.New("the backup is damaged")
