package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
)

// makeTar builds a tar of the named files in order.
func makeTar(t *testing.T, files map[string][]byte, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range order {
		d := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(d)), Typeflag: tar.TypeReg, Uname: "cassandra", Gname: "cassandra"}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// storeArchive streams data into s at p the way the backup does and
// returns its index (size, tar digest and file list).
func storeArchive(t *testing.T, s Store, p string, data []byte) *ArchiveIndex {
	t.Helper()
	w, err := s.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := IndexArchive(io.TeeReader(bytes.NewReader(data), w))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if ix.Size != int64(len(data)) {
		t.Fatalf("IndexArchive read %d of %d bytes", ix.Size, len(data))
	}
	return ix
}

// makeBackup stores a small complete backup and returns its manifest.
func makeBackup(t *testing.T, s Store, id string, started time.Time) *Manifest {
	t.Helper()
	ctx := context.Background()
	m := &Manifest{
		ID: id, Platform: "thehive", Cluster: "prod", Started: started, Finished: started.Add(90 * time.Second),
		Tool: "hotsnap test", Keyspace: "thehive",
		Schema:   "CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n",
		Topology: Topology{DC: "dc1", Hosts: []Host{{Name: "node1", Address: "10.77.0.11", Roles: []string{"cassandra", "elasticsearch"}, HostID: "3b5a-…", DC: "dc1", Rack: "rack1"}}},
		Versions: map[string]string{"cassandra": "4.1.3", "elasticsearch": "7.17.9"},
		Timings:  map[string]float64{"snapshot": 1.5}, SkewMS: 12.5, Warnings: []string{"audit index empty"},
	}
	na := NodeArchive{Node: "node1", Host: "10.77.0.11", HostID: "3b5a", DC: "dc1", Rack: "rack1", Tokens: []string{"-9223372036854775808"}}
	for i, table := range []string{"table_a", "table_b"} {
		files := map[string][]byte{
			"nb-1-big-Data.db":  pattern(i, 40000+i),
			"nb-1-big-Index.db": pattern(i+10, 3000),
			"manifest.json":     []byte(`{"files":["nb-1-big-Data.db"]}`),
		}
		data := makeTar(t, files, []string{"manifest.json", "nb-1-big-Data.db", "nb-1-big-Index.db"})
		p := TableArchivePath(id, "node1", "thehive", table, fmt.Sprintf("%032x", i))
		ix := storeArchive(t, s, p, data)
		na.Tables = append(na.Tables, TableArchive{Keyspace: "thehive", Table: table, TableID: fmt.Sprintf("%032x", i), Archive: p, Size: ix.Size, Digest: ix.Digest, Files: ix.Files, Rows: 42})
	}
	m.Cassandra = []NodeArchive{na}
	att := makeTar(t, map[string][]byte{"ab/attachment 1": []byte("pdf bytes")}, []string{"ab/attachment 1"})
	ix := storeArchive(t, s, id+"/"+FilesArchive, att)
	m.Files = &FileStore{Provider: ProviderLocalFS, Path: "/opt/thp/thehive/files", Node: "node1", Archive: id + "/" + FilesArchive, Size: ix.Size, Digest: ix.Digest, Entries: ix.Files}
	m.Elasticsearch = &ESSnapshot{Repository: "hotsnap", Snapshot: id, UUID: "u-1", Indices: []string{"thehive_global", "thehive-audits"}, State: "SUCCESS",
		StartTime: started, EndTime: started.Add(time.Second), Shards: Shards{Total: 2, Successful: 2}}
	putString(t, ctx, s, id+"/"+ESSnapshotFile, `{"snapshot":"`+id+`"}`)
	if err := WriteManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func localStoreT(t *testing.T) (Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestNewID(t *testing.T) {
	now := time.Date(2026, 11, 22, 21, 30, 0, 0, time.FixedZone("CET", 3600))
	id := NewID(now)
	if !strings.HasPrefix(id, "hotsnap-20261122-203000-") || len(id) != len("hotsnap-20261122-203000-a1b2") {
		t.Errorf("NewID = %q", id)
	}
	if err := config.ValidSnapshotTag(id); err != nil {
		t.Errorf("NewID not a valid snapshot tag: %v", err)
	}
	if a, b := NewID(now), NewID(now); id == a && id == b {
		t.Error("NewID is not random")
	}
	if tm, ok := IDTime(id); !ok || !tm.Equal(now) {
		t.Errorf("IDTime(%q) = %v, %v", id, tm, ok)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	s, _ := localStoreT(t)
	ctx := context.Background()
	started := time.Date(2026, 11, 22, 21, 30, 0, 0, time.UTC)
	id := NewID(started)
	m := makeBackup(t, s, id, started)
	got, err := ReadManifest(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != ManifestFormat {
		t.Errorf("format %d", got.Format)
	}
	if !reflect.DeepEqual(got, m) {
		a, _ := json.MarshalIndent(m, "", " ")
		b, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("round trip differs:\nwrote %s\nread  %s", a, b)
	}
	if got := getString(t, ctx, s, id+"/"+SchemaFile); got != m.Schema {
		t.Errorf("schema.cql = %q", got)
	}
	if len(got.Cassandra[0].Tables[0].Files) != 3 || got.Cassandra[0].Tables[0].Files[0].Owner != "cassandra" {
		t.Errorf("table files: %+v", got.Cassandra[0].Tables[0].Files)
	}
	if c := got.Components(); strings.Join(c, ",") != "cassandra,elasticsearch,files" {
		t.Errorf("components %v", c)
	}

	for _, tc := range []struct {
		name, data, want string
		corrupt          bool
	}{
		{"not json", "{\"format\": 1, \"id\": ", "unexpected EOF", true},
		{"no format", `{"id":"` + id + `"}`, "no format field", true},
		{"other id", `{"format":1,"id":"hotsnap-other"}`, "names backup", true},
		{"newer", `{"format":` + fmt.Sprint(ManifestFormat+1) + `,"id":"` + id + `"}`, "upgrade hotsnap", false},
		{"trailing", `{"format":1,"id":"` + id + `"} {}`, "data after", true},
	} {
		if _, err := parseManifest(id, []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrCorruptManifest) != tc.corrupt {
			t.Errorf("%s: %v; want %q (corrupt=%v)", tc.name, err, tc.want, tc.corrupt)
		}
	}
	if _, err := ReadManifest(ctx, s, "hotsnap-absent"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadManifest(absent) = %v", err)
	}
	if _, err := ReadManifest(ctx, s, "../etc"); err == nil {
		t.Error("ReadManifest accepted a bad ID")
	}
	if err := WriteManifest(ctx, s, &Manifest{ID: "Bad ID"}); err == nil || !strings.Contains(err.Error(), "not a valid snapshot name") {
		t.Errorf("WriteManifest(bad id) = %v", err)
	}
}

// TestWriteManifestAtomic rewrites a large manifest while readers read it:
// a reader sees a whole manifest, never part of one.
func TestWriteManifestAtomic(t *testing.T) {
	s, _ := localStoreT(t)
	ctx := context.Background()
	id := "hotsnap-20261122-213000-a1b2"
	m := &Manifest{ID: id, Started: time.Now().UTC()}
	for i := range 3000 { // ~ 400 KB of JSON: many write calls
		m.Warnings = append(m.Warnings, fmt.Sprintf("warning %d %s", i, strings.Repeat("x", 100)))
	}
	if err := WriteManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, bad atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := ReadManifest(ctx, s, id)
				reads.Add(1)
				if err != nil || len(got.Warnings) != 3000 {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		m.Tool = fmt.Sprint("v", i)
		if err := WriteManifest(ctx, s, m); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 || reads.Load() == 0 {
		t.Errorf("%d of %d reads saw a partial or missing manifest", bad.Load(), reads.Load())
	}
}

func TestList(t *testing.T) {
	s, dir := localStoreT(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	older, newer := NewID(t0), NewID(t0.Add(24*time.Hour))
	makeBackup(t, s, older, t0)
	makeBackup(t, s, newer, t0.Add(24*time.Hour))
	// An unfinished one: archives but no manifest.
	unfinished := "hotsnap-20261122-100000-0000"
	putString(t, ctx, s, TableArchivePath(unfinished, "node1", "thehive", "t", "1"), "partial")
	// A corrupt manifest.
	corrupt := "hotsnap-20261119-100000-0000"
	putString(t, ctx, s, corrupt+"/files/attachments.tar", "x")
	putString(t, ctx, s, corrupt+"/manifest.json", "{garbage")
	// Not backups: a stray top-level file, a directory with an odd name.
	putString(t, ctx, s, "README", "hi")
	putString(t, ctx, s, "Not A Backup/x", "y")
	// A leftover temporary file is hidden.
	if err := os.WriteFile(filepath.Join(dir, newer, ".manifest.json"+tmpMarker+"abc"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	sums, err := List(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Summary{}
	var order []string
	for _, x := range sums {
		byID[x.ID] = x
		order = append(order, x.ID)
	}
	if len(sums) != 5 {
		t.Fatalf("List = %+v", sums)
	}
	if order[0] != unfinished || order[1] != newer || order[2] != older || order[3] != corrupt {
		t.Errorf("order = %v, want newest first", order)
	}
	if x := byID[newer]; !x.Complete || x.Problem != "" || !x.Started.Equal(t0.Add(24*time.Hour)) ||
		strings.Join(x.Components, ",") != "cassandra,elasticsearch,files" || x.Size < 90000 {
		t.Errorf("complete backup: %+v", x)
	}
	if x := byID[unfinished]; x.Complete || !strings.Contains(x.Problem, "no manifest.json") ||
		strings.Join(x.Components, ",") != "cassandra" || x.Size != 7 || x.Started.Format("20060102-150405") != "20261122-100000" {
		t.Errorf("unfinished backup: %+v", x)
	}
	if x := byID[corrupt]; x.Complete || !strings.Contains(x.Problem, "corrupt") {
		t.Errorf("corrupt backup: %+v", x)
	}
	if x := byID["Not A Backup"]; x.Complete || !strings.Contains(x.Problem, "not a backup directory") {
		t.Errorf("odd directory: %+v", x)
	}
}

func TestVerify(t *testing.T) {
	started := time.Date(2026, 11, 22, 21, 30, 0, 0, time.UTC)
	ctx := context.Background()
	setup := func(t *testing.T) (Store, string, string, *Manifest) {
		s, dir := localStoreT(t)
		id := NewID(started)
		return s, dir, id, makeBackup(t, s, id, started)
	}
	// Each case damages a fresh backup and expects these problems.
	type want struct{ path, what string }
	cases := []struct {
		name   string
		damage func(t *testing.T, dir, id string, m *Manifest)
		want   []want
	}{
		{"clean", func(*testing.T, string, string, *Manifest) {}, nil},
		{"flipped byte", func(t *testing.T, dir, id string, m *Manifest) {
			p := filepath.Join(dir, m.Cassandra[0].Tables[0].Archive)
			b, _ := os.ReadFile(p)
			b[1536+1000] ^= 0x40 // inside nb-1-big-Data.db: manifest.json header+block, then its header
			b[1536+2000] ^= 0x01
			if err := os.WriteFile(p, b, 0o640); err != nil {
				t.Fatal(err)
			}
		}, []want{
			{"table_a-", "SHA-256 mismatch"},
			{"table_a-00000000000000000000000000000000.tar:nb-1-big-Data.db", "SHA-256 mismatch"},
		}},
		{"header byte", func(t *testing.T, dir, id string, m *Manifest) {
			// The owner name in the first header (offset 265, "cassandra"):
			// the tar still reads and every file's content is intact, yet
			// the archive differs from what was backed up.
			p := filepath.Join(dir, m.Cassandra[0].Tables[1].Archive)
			b, _ := os.ReadFile(p)
			b[265] ^= 0x20
			copy(b[148:156], "        ") // the header checksum, recomputed
			var sum int
			for _, c := range b[:512] {
				sum += int(c)
			}
			copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
			if err := os.WriteFile(p, b, 0o640); err != nil {
				t.Fatal(err)
			}
		}, []want{{"table_b-", "SHA-256 mismatch (tar digest)"}}},
		{"truncated", func(t *testing.T, dir, id string, m *Manifest) {
			p := filepath.Join(dir, m.Cassandra[0].Tables[1].Archive)
			if err := os.Truncate(p, 20000); err != nil {
				t.Fatal(err)
			}
		}, []want{{"table_b-", "truncated: 20000 bytes"}}},
		{"missing", func(t *testing.T, dir, id string, m *Manifest) {
			if err := os.Remove(filepath.Join(dir, m.Files.Archive)); err != nil {
				t.Fatal(err)
			}
		}, []want{{"files/attachments.tar", "missing"}}},
		{"extra", func(t *testing.T, dir, id string, m *Manifest) {
			if err := os.WriteFile(filepath.Join(dir, id, "cassandra", "stray.tar"), []byte("?"), 0o640); err != nil {
				t.Fatal(err)
			}
		}, []want{{"cassandra/stray.tar", "unexpected file: not in the manifest"}}},
		{"schema changed", func(t *testing.T, dir, id string, m *Manifest) {
			if err := os.WriteFile(filepath.Join(dir, id, SchemaFile), []byte(strings.ToUpper(m.Schema)), 0o640); err != nil {
				t.Fatal(err)
			}
		}, []want{{"schema.cql", "differs from the schema"}}},
		{"several at once", func(t *testing.T, dir, id string, m *Manifest) {
			_ = os.Remove(filepath.Join(dir, m.Cassandra[0].Tables[0].Archive))
			_ = os.Truncate(filepath.Join(dir, m.Cassandra[0].Tables[1].Archive), 10)
			_ = os.WriteFile(filepath.Join(dir, id, "extra"), nil, 0o640)
		}, []want{{"table_a-", "missing"}, {"table_b-", "truncated"}, {"/extra", "unexpected file"}}},
		{"corrupt manifest", func(t *testing.T, dir, id string, m *Manifest) {
			if err := os.WriteFile(filepath.Join(dir, id, ManifestFile), []byte(`{"format":1,"id":`), 0o640); err != nil {
				t.Fatal(err)
			}
		}, []want{{"manifest.json", "corrupt manifest"}}},
		{"manifest missing", func(t *testing.T, dir, id string, m *Manifest) {
			_ = os.Remove(filepath.Join(dir, id, ManifestFile))
		}, []want{{"manifest.json", "missing: the backup is incomplete"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, dir, id, m := setup(t)
			tc.damage(t, dir, id, m)
			var last, total int64
			probs, err := Verify(ctx, s, id, func(d, tt int64) { last, total = d, tt })
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) != len(tc.want) {
				t.Errorf("problems = %q, want %d", probs, len(tc.want))
			}
			for _, w := range tc.want {
				found := false
				for _, p := range probs {
					found = found || strings.Contains(p.Path, w.path) && strings.Contains(p.What, w.what)
				}
				if !found {
					t.Errorf("no problem {%s: %s} in %q", w.path, w.what, probs)
				}
			}
			if tc.name == "clean" && (total == 0 || last != total || total != m.Size()+int64(len(m.Schema))) {
				t.Errorf("progress ended at %d/%d, want %d", last, total, m.Size()+int64(len(m.Schema)))
			}
		})
	}
	t.Run("es snapshot partial and s3 objects", func(t *testing.T) {
		s, _ := localStoreT(t)
		id := "hotsnap-20200103-000000-0000"
		obj := []byte("attachment object")
		putString(t, ctx, s, ObjectPath(id, "ab/c d.pdf"), string(obj))
		putString(t, ctx, s, ObjectPath(id, "ab/gone"), "x")
		m := &Manifest{ID: id, Elasticsearch: &ESSnapshot{Snapshot: id, State: "PARTIAL"},
			Files: &FileStore{Provider: ProviderS3, Bucket: "thehive", Objects: []ObjectEntry{
				{Key: "ab/c d.pdf", Size: int64(len(obj)), SHA256: sha(obj)},
				{Key: "ab/gone", Size: 1, SHA256: sha([]byte("y"))},
				{Key: "ab/missing", Size: 5, SHA256: sha([]byte("12345"))},
			}}}
		if err := WriteManifest(ctx, s, m); err != nil {
			t.Fatal(err)
		}
		probs, err := Verify(ctx, s, id, nil)
		got := fmt.Sprint(probs)
		if err != nil || len(probs) != 3 || !strings.Contains(got, "PARTIAL, not SUCCESS") ||
			!strings.Contains(got, "files/s3/ab/gone: SHA-256 mismatch") || !strings.Contains(got, "files/s3/ab/missing: missing") {
			t.Errorf("Verify = %s, %v", got, err)
		}
	})
	t.Run("no such backup", func(t *testing.T) {
		s, _ := localStoreT(t)
		probs, err := Verify(ctx, s, "hotsnap-20200101-000000-0000", nil)
		if err != nil || len(probs) != 1 || !strings.Contains(probs[0].What, "no backup with this ID") {
			t.Errorf("Verify(absent) = %q, %v", probs, err)
		}
		if _, err := Verify(ctx, s, "../x", nil); err == nil {
			t.Error("Verify accepted a bad ID")
		}
	})
	t.Run("manifest path outside the backup", func(t *testing.T) {
		s, _ := localStoreT(t)
		other := makeBackup(t, s, "hotsnap-20200101-000000-0000", started)
		id := "hotsnap-20200102-000000-0000"
		m := &Manifest{ID: id, Files: &FileStore{Provider: ProviderLocalFS, Archive: other.Files.Archive, Size: other.Files.Size, Digest: other.Files.Digest}}
		if err := WriteManifest(ctx, s, m); err != nil {
			t.Fatal(err)
		}
		probs, err := Verify(ctx, s, id, nil)
		if err != nil || len(probs) != 1 || !strings.Contains(probs[0].What, "outside backup") {
			t.Errorf("Verify = %q, %v", probs, err)
		}
	})
}

func TestSelect(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	b := func(id string, age time.Duration, complete bool) Summary {
		return Summary{ID: id, Started: now.Add(-age), Complete: complete}
	}
	// Newest first: c1 (1d), i1 (2d, incomplete), c2 (3d), c3 (10d), i2 (12d, incomplete), c4 (20d).
	all := []Summary{b("c3", 10*day, true), b("c1", day, true), b("i2", 12*day, false), b("c4", 20*day, true), b("i1", 2*day, false), b("c2", 3*day, true)}
	running := b("i0", time.Hour, false) // newer than every complete backup
	for _, tc := range []struct {
		name    string
		sums    []Summary
		keep    int
		older   time.Duration
		wantIDs string
	}{
		{"no rules", all, 0, 0, ""},
		{"keep last 2", all, 2, 0, "c4,i2,c3,i1"},
		{"keep last 1", all, 1, 0, "c4,i2,c3,c2,i1"},
		{"keep last 10", all, 10, 0, "i2,i1"},
		{"older than 5d", all, 0, 5 * day, "c4,i2,c3"},
		{"older than 1h keeps the newest complete", all, 0, time.Hour, "c4,i2,c3,c2,i1"},
		{"both rules: kept by either", all, 3, 15 * day, "c4"},
		{"running backup never removed", append([]Summary{running}, all...), 1, time.Minute, "c4,i2,c3,c2,i1"},
		{"no complete backup: nothing removed", []Summary{b("i1", 30*day, false), b("i2", 40*day, false)}, 1, day, ""},
		{"only complete", []Summary{b("a", 30*day, true)}, 0, day, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Select(tc.sums, tc.keep, tc.older, now)
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if strings.Join(ids, ",") != tc.wantIDs {
				t.Errorf("Select = %s, want %s", strings.Join(ids, ","), tc.wantIDs)
			}
		})
	}
}

// TestVerifyFormat1 verifies a backup whose manifest is in format 1 (each
// archive's whole SHA-256, no tar digest), as hotsnap wrote them before:
// it still passes clean and still names a damaged file.
func TestVerifyFormat1(t *testing.T) {
	ctx := context.Background()
	s, dir := localStoreT(t)
	id := "hotsnap-20261101-120000-0001"
	data := makeTar(t, map[string][]byte{"nb-1-big-Data.db": pattern(5, 9000), "nb-1-big-TOC.txt": []byte("Data.db\n")}, []string{"nb-1-big-TOC.txt", "nb-1-big-Data.db"})
	p := TableArchivePath(id, "node1", "thehive", "edgestore", "0123")
	ix := storeArchive(t, s, p, data)
	// The manifest as format 1 wrote it: "sha256" of the archive, no "digest".
	old := fmt.Sprintf(`{"format": 1, "id": %q, "platform": "thehive", "cluster": "prod", "started": "2026-11-01T12:00:00Z", "finished": "2026-11-01T12:01:00Z",
  "tool": "hotsnap 0.1", "topology": {"hosts": []}, "skew_ms": 0,
  "cassandra": [{"node": "node1", "host": "10.77.0.11", "tables": [{"keyspace": "thehive", "table": "edgestore", "table_id": "0123",
    "archive": %q, "size": %d, "sha256": %q, "files": %s}]}]}`, id, p, ix.Size, sha(data), mustJSON(t, ix.Files))
	putString(t, ctx, s, id+"/"+ManifestFile, old)
	m, err := ReadManifest(ctx, s, id)
	if err != nil || m.Format != 1 || m.Cassandra[0].Tables[0].SHA256 != sha(data) || m.Cassandra[0].Tables[0].Digest != "" {
		t.Fatalf("ReadManifest(format 1) = %+v, %v", m, err)
	}
	if probs, err := Verify(ctx, s, id, nil); err != nil || len(probs) != 0 {
		t.Fatalf("Verify(format 1, clean) = %q, %v", probs, err)
	}
	full := filepath.Join(dir, p)
	b, _ := os.ReadFile(full)
	b[1024+512+100] ^= 0x04 // in nb-1-big-Data.db, after the TOC's header and block and its own header
	if err := os.WriteFile(full, b, 0o640); err != nil {
		t.Fatal(err)
	}
	probs, err := Verify(ctx, s, id, nil)
	got := fmt.Sprint(probs)
	if err != nil || len(probs) != 2 || !strings.Contains(got, p+": SHA-256 mismatch") || !strings.Contains(got, p+":nb-1-big-Data.db: SHA-256 mismatch") {
		t.Errorf("Verify(format 1, flipped byte) = %s, %v", got, err)
	}
}

// TestVerifyNoChecksum: an archive the manifest gives no checksum for is a
// problem, not silently accepted.
func TestVerifyNoChecksum(t *testing.T) {
	ctx := context.Background()
	s, _ := localStoreT(t)
	id := "hotsnap-20261101-120000-0002"
	ix := storeArchive(t, s, id+"/"+FilesArchive, makeTar(t, map[string][]byte{"a": []byte("x")}, []string{"a"}))
	m := &Manifest{ID: id, Files: &FileStore{Provider: ProviderLocalFS, Archive: id + "/" + FilesArchive, Size: ix.Size, Entries: ix.Files}}
	if err := WriteManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	probs, err := Verify(ctx, s, id, nil)
	if err != nil || len(probs) != 1 || !strings.Contains(probs[0].What, "no checksum") {
		t.Errorf("Verify = %q, %v", probs, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestManifestRefusesPathNames: names in a manifest become path elements on
// the nodes; one that climbs out ("../") makes the manifest corrupt.
func TestManifestRefusesPathNames(t *testing.T) {
	for _, c := range []struct{ field, json string }{
		{"table", `{"format":2,"id":"hotsnap-20261122-230000-abcd","keyspace":"thehive","cassandra":[{"node":"node1","host":"10.0.0.1","tables":[{"keyspace":"thehive","table":"../../../../etc","table_id":"0a","archive":"x","size":1}]}]}`},
		{"node", `{"format":2,"id":"hotsnap-20261122-230000-abcd","keyspace":"thehive","cassandra":[{"node":"a/b","host":"10.0.0.1","tables":[]}]}`},
		{"keyspace", `{"format":2,"id":"hotsnap-20261122-230000-abcd","keyspace":"the hive"}`},
		{"elasticsearch index", `{"format":2,"id":"hotsnap-20261122-230000-abcd","elasticsearch":{"repository":"r","snapshot":"s","indices":["*"]}}`},
		{"table id", `{"format":2,"id":"hotsnap-20261122-230000-abcd","keyspace":"thehive","cassandra":[{"node":"node1","host":"10.0.0.1","tables":[{"keyspace":"thehive","table":"edgestore","table_id":"..","archive":"x","size":1}]}]}`},
	} {
		_, err := parseManifest("hotsnap-20261122-230000-abcd", []byte(c.json))
		if !errors.Is(err, ErrCorruptManifest) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want a corrupt manifest naming the %s", c.field, err, c.field)
		}
	}
	ok := `{"format":2,"id":"hotsnap-20261122-230000-abcd","keyspace":"thehive","cassandra":[{"node":"node1","host":"10.0.0.1","tables":[{"keyspace":"thehive","table":"system_properties_lock_","table_id":"3f2a9c00a1b211efb6c1d5a2c4e0f111","archive":"x","size":1}]}]}`
	if _, err := parseManifest("hotsnap-20261122-230000-abcd", []byte(ok)); err != nil {
		t.Errorf("a plain manifest: %v", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"format":2,"id":"hotsnap-20261122-230000-abcd","keyspace":"thehive"}`))
	f.Add([]byte(`{"format":1,"id":"hotsnap-20261122-230000-abcd","cassandra":[{"node":"n","tables":[{"table":"t"}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest("hotsnap-20261122-230000-abcd", b)
		if err == nil && (m == nil || m.CheckNames() != nil) {
			t.Fatalf("accepted a manifest with unsafe names: %s", b)
		}
	})
}

// TestConfigsAndLabel: the configuration archives are verified like the
// others and counted as a component; the label travels to list and is
// checked.
func TestConfigsAndLabel(t *testing.T) {
	ctx := context.Background()
	s, dir := localStoreT(t)
	started := time.Date(2026, 11, 22, 21, 30, 0, 0, time.UTC)
	id := NewID(started)
	m := makeBackup(t, s, id, started)
	data := makeTar(t, map[string][]byte{"etc/elasticsearch/elasticsearch.yml": []byte("path.repo: [/mnt/backup]\n")}, []string{"etc/elasticsearch/elasticsearch.yml"})
	p := ConfigArchivePath(id, "node2")
	ix := storeArchive(t, s, p, data)
	m.Configs = []FileStore{{Provider: ProviderLocalFS, Path: "/", Node: "node2", Archive: p, Size: ix.Size, Digest: ix.Digest, Entries: ix.Files}}
	m.Label = "before the 3.8 upgrade"
	if err := WriteManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	sums, err := List(ctx, s)
	if err != nil || len(sums) != 1 || sums[0].Label != m.Label || !strings.Contains(strings.Join(sums[0].Components, ","), ConfigDir) {
		t.Fatalf("List = %+v, %v", sums, err)
	}
	if probs, err := Verify(ctx, s, id, nil); err != nil || len(probs) != 0 {
		t.Fatalf("Verify(clean) = %v, %v", probs, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, p))
	b[512+3] ^= 0x01 // in elasticsearch.yml's content
	if err := os.WriteFile(filepath.Join(dir, p), b, 0o640); err != nil {
		t.Fatal(err)
	}
	if probs, err := Verify(ctx, s, id, nil); err != nil || !strings.Contains(fmt.Sprint(probs), p+":etc/elasticsearch/elasticsearch.yml: SHA-256 mismatch") {
		t.Errorf("Verify(flipped config byte) = %v, %v", probs, err)
	}
	for _, bad := range []string{"two\nlines", strings.Repeat("x", 200)} {
		if CheckLabel(bad) == nil {
			t.Errorf("CheckLabel(%q) accepted", bad)
		}
	}
}
