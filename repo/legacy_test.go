package repo

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const testSchema = `
CREATE KEYSPACE thehive WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3'}  AND durable_writes = true;

CREATE TABLE thehive.edgestore (
    key blob,
    column1 blob,
    value blob,
    PRIMARY KEY (key, column1)
) WITH CLUSTERING ORDER BY (column1 ASC);

CREATE TABLE thehive.edgestore_lock_with_a_rather_long_name_to_force_gnu_long_links (
    key blob PRIMARY KEY
);
`

// legacyTables are the table snapshots the test layout holds, with files.
var legacyTables = map[string]map[string]string{
	"edgestore-0a1b2c3d4e5f60718293a4b5c6d7e8f9": {
		"nb-1-big-Data.db": strings.Repeat("edgestore data ", 5000), "nb-1-big-Index.db": "index",
		"nb-1-big-TOC.txt": "Data.db\nIndex.db\n", "manifest.json": `{"files":["nb-1-big-Data.db"]}`, "schema.cql": "CREATE TABLE ...",
	},
	"edgestore_lock_with_a_rather_long_name_to_force_gnu_long_links-ffeeddccbbaa99887766554433221100": {
		"nb-2-big-Data.db-with-a-long-component-name-too.db": strings.Repeat("x", 700), "nb-2-big-TOC.txt": "Data.db\n",
	},
}

// writeLegacy writes what the documented scripts leave under root for
// stamp, with GNU tar as they do: cassandra/cassandra_<ts>.tar (schema
// inside unless schema is false), elasticsearch/elasticsearch_<esStamp>.info
// and storage/files_<filesStamp>.tar ("" leaves one out).
func writeLegacy(t *testing.T, root, stamp, esStamp, filesStamp string, schema bool) {
	t.Helper()
	name := "cassandra_" + stamp
	dir := filepath.Join(root, "cassandra", name)
	for table, files := range legacyTables {
		for f, content := range files {
			writeFile(t, filepath.Join(dir, "thehive", table, f), content)
		}
	}
	if schema {
		writeFile(t, filepath.Join(dir, "create_keyspace_thehive.cql"), testSchema)
	}
	runTar(t, filepath.Join(root, "cassandra"), name+".tar", name)
	os.RemoveAll(dir)
	if esStamp != "" {
		writeFile(t, filepath.Join(root, "elasticsearch", "elasticsearch_"+esStamp+".info"), "")
	}
	if filesStamp != "" {
		fname := "files_" + filesStamp
		fdir := filepath.Join(root, "storage", fname)
		writeFile(t, filepath.Join(fdir, "ab", "cd", "abcd0123"), "attachment bytes")
		writeFile(t, filepath.Join(fdir, "Case 0003", "line one\nline two.txt"), "awkward")
		writeFile(t, filepath.Join(fdir, "empty.txt"), "")
		if err := os.Symlink("ab/cd/abcd0123", filepath.Join(fdir, "latest")); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(fdir, "ab", "cd", "abcd0123"), 0o600); err != nil {
			t.Fatal(err)
		}
		runTar(t, filepath.Join(root, "storage"), fname+".tar", fname)
		os.RemoveAll(fdir)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runTar(t *testing.T, dir, archive, folder string) {
	t.Helper()
	if out, err := exec.Command("tar", "cf", filepath.Join(dir, archive), "-C", dir, folder).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
}

// readLegacyAt runs the whole detection on a local root.
func readLegacyAt(t *testing.T, root, at string) (*Legacy, Store, error) {
	t.Helper()
	s, set, err := legacySetAt(t, root, at)
	if err != nil {
		return nil, s, err
	}
	l, err := ReadLegacy(context.Background(), s, set, nil)
	return l, s, err
}

// legacySetAt opens a local root and selects the set stamped at in it.
func legacySetAt(t *testing.T, root, at string) (Store, *LegacySet, error) {
	t.Helper()
	s, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found, err := FindLegacy(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	set, err := found.SelectLegacy(at)
	return s, set, err
}

// untar reads a tar stream into name → content ("→target" for symlinks).
func untar(t *testing.T, r io.Reader) (map[string]string, map[string]*tar.Header) {
	t.Helper()
	out, hdrs := map[string]string{}, map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, hdrs
		}
		if err != nil {
			t.Fatalf("untar: %v", err)
		}
		b, _ := io.ReadAll(tr)
		if h.Typeflag == tar.TypeSymlink {
			b = []byte("→" + h.Linkname)
		}
		out[h.Name], hdrs[h.Name] = string(b), h
	}
}

func TestLegacyDetectAndStream(t *testing.T) {
	root := t.TempDir()
	// The documented script stamps ES with its own `date` call: a second later.
	writeLegacy(t, root, "20260314_02h00m00s", "20260314_02h00m01s", "20260314_02h03m10s", true)
	l, s, err := readLegacyAt(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.Keyspace != "thehive" || !strings.Contains(l.Schema, "CREATE TABLE thehive.edgestore (") ||
		l.SchemaFrom != "cassandra/cassandra_20260314_02h00m00s.tar:cassandra_20260314_02h00m00s/create_keyspace_thehive.cql" {
		t.Fatalf("keyspace %q, schema from %q:\n%s", l.Keyspace, l.SchemaFrom, l.Schema)
	}
	if l.ESSnapshot != "elasticsearch_20260314_02h00m01s" || l.ESFolder != "elasticsearch" {
		t.Errorf("ES snapshot %q in %q", l.ESSnapshot, l.ESFolder)
	}
	if len(l.Set.Notes) != 2 || !strings.Contains(l.Set.Notes[0], "+1s") || !strings.Contains(l.Set.Notes[1], "+3m10s") {
		t.Errorf("notes: %q", l.Set.Notes)
	}
	if len(l.Tables) != 2 || l.Tables[0].Table != "edgestore" || l.Tables[0].TableID != "0a1b2c3d4e5f60718293a4b5c6d7e8f9" || len(l.Tables[0].Files) != 5 {
		t.Fatalf("tables: %+v", l.Tables)
	}
	m, vs, err := l.Restore(s, LegacyTarget{Platform: "thehive", FilesPath: "/opt/thp/thehive/files", FilesNode: "node1", Owner: "thehive:thehive"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "legacy-20260314_02h00m00s" || CheckID(m.ID) != nil || len(m.Cassandra) != 1 || m.Cassandra[0].HostID != "" || m.Keyspace != "thehive" {
		t.Fatalf("manifest: %+v", m)
	}
	// Every table's archive holds exactly the snapshot's files, named as
	// hotsnap's own per-table archives (./<file>), and Stat tells its size.
	for _, ta := range m.Cassandra[0].Tables {
		rc, err := vs.Open(context.Background(), ta.Archive)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, rc); err != nil {
			t.Fatalf("%s: %v", ta.Archive, err)
		}
		rc.Close()
		if n, _ := vs.Stat(context.Background(), ta.Archive); n != int64(buf.Len()) || ta.Size != n {
			t.Errorf("%s: Stat %d, manifest %d, stream %d bytes", ta.Archive, n, ta.Size, buf.Len())
		}
		got, _ := untar(t, &buf)
		want := legacyTables[ta.Table+"-"+ta.TableID]
		if len(got) != len(want) {
			t.Errorf("%s: %d entries, want %d: %v", ta.Table, len(got), len(want), got)
		}
		for f, c := range want {
			if got["./"+f] != c {
				t.Errorf("%s: ./%s = %.40q, want %.40q", ta.Table, f, got["./"+f], c)
			}
		}
	}
	// The attachments come out relative to the folder, with the owner the
	// target asks for and the archive's modes.
	rc, err := vs.Open(context.Background(), m.Files.Archive)
	if err != nil {
		t.Fatal(err)
	}
	got, hdrs := untar(t, rc)
	rc.Close()
	for name, want := range map[string]string{"ab/cd/abcd0123": "attachment bytes", "Case 0003/line one\nline two.txt": "awkward", "empty.txt": "", "latest": "→ab/cd/abcd0123"} {
		if got[name] != want {
			t.Errorf("attachment %q = %q, want %q (all: %q)", name, got[name], want, got)
		}
	}
	if h := hdrs["ab/cd/abcd0123"]; h == nil || h.Uname != "thehive" || h.Gname != "thehive" || h.Mode != 0o600 {
		t.Errorf("attachment header: %+v", h)
	}
	for name := range got {
		if strings.HasPrefix(name, "files_") || name == "./" {
			t.Errorf("entry %q: the archive's top folder must not come back", name)
		}
	}
	if m.Files.Provider != ProviderLocalFS || m.Files.Path != "/opt/thp/thehive/files" || len(m.Files.Entries) != 4 {
		t.Errorf("files: %+v", m.Files)
	}
	// A full read verifies and hashes every archive.
	res, probs, err := VerifyLegacy(context.Background(), s, l, nil)
	if err != nil || len(probs) != 0 || len(res) != 2 || len(res[0].SHA256) != 64 || res[0].Entries < 9 {
		t.Fatalf("verify: %v %v %+v", err, probs, res)
	}
	if _, err := vs.Create(context.Background(), "x"); err == nil {
		t.Error("the documented backup's store accepted a write")
	}
}

// seekless hides the local store's type: reads go through the generic
// fallbacks (recursive List, Open and discard) that other stores use.
type seekless struct{ Store }

func TestLegacyGenericStoreFallbacks(t *testing.T) {
	root := t.TempDir()
	writeLegacy(t, root, "20260314_02h00m00s", "20260314_02h00m00s", "", true)
	local, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := seekless{local}
	found, err := FindLegacy(context.Background(), s)
	if err != nil || len(found.Items) != 2 {
		t.Fatalf("find: %v %+v", err, found)
	}
	set, err := found.SelectLegacy("")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ReadLegacy(context.Background(), s, set, nil)
	if err != nil || len(l.Tables) != 2 {
		t.Fatalf("read: %v %+v", err, l)
	}
	_, vs, err := l.Restore(s, LegacyTarget{})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := vs.List(context.Background(), "")
	if len(entries) != 2 {
		t.Fatalf("virtual store lists %+v", entries)
	}
	rc, err := vs.Open(context.Background(), entries[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := untar(t, rc)
	rc.Close()
	if got["./nb-1-big-Data.db"] != legacyTables["edgestore-0a1b2c3d4e5f60718293a4b5c6d7e8f9"]["nb-1-big-Data.db"] {
		t.Errorf("edgestore through the fallback: %d entries", len(got))
	}
}

func TestLegacyRangeFileChunks(t *testing.T) {
	root := t.TempDir()
	data := bytes.Repeat([]byte("0123456789"), 1000)
	writeFile(t, filepath.Join(root, "f"), string(data))
	s, _ := Open(context.Background(), root, Options{})
	f := newRangeFile(context.Background(), s, "f", int64(len(data)))
	f.chunk = 4096
	f.Seek(5000, io.SeekStart)
	b := make([]byte, 10)
	if _, err := io.ReadFull(f, b); err != nil || string(b) != "0123456789" {
		t.Fatalf("read at 5000: %q %v", b, err)
	}
	f.Seek(-5, io.SeekEnd)
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != "56789" {
		t.Fatalf("tail: %q %v", rest, err)
	}
	if f.reads != 2 {
		t.Errorf("%d ranged reads, want 2", f.reads)
	}
	// A file shorter than it was said to be is an error, not a silent EOF.
	g := newRangeFile(context.Background(), s, "f", int64(len(data))+100)
	g.Seek(int64(len(data))-10, io.SeekStart)
	if _, err := io.ReadAll(g); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short file: %v, want unexpected EOF", err)
	}
}

// TestLegacyBrokenLayouts: each broken layout is refused with an error that
// says what is wrong and what to do.
func TestLegacyBrokenLayouts(t *testing.T) {
	const ts = "20260314_02h00m00s"
	cases := []struct {
		name  string
		setup func(t *testing.T, root string)
		at    string
		want  []string
	}{
		{"empty folder", func(t *testing.T, root string) {}, "",
			[]string{"no Cassandra archive", "BACKUP_ROOT"}},
		{"folder left without its archive", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "cassandra", "cassandra_"+ts, "create_keyspace_thehive.cql"), testSchema)
		}, "", []string{"no Cassandra archive", "cassandra/cassandra_" + ts + " has no archive", "tar cf cassandra_" + ts + ".tar"}},
		{"missing schema", func(t *testing.T, root string) {
			writeLegacy(t, root, ts, ts, ts, false)
		}, "", []string{"no schema", "create_keyspace_thehive.cql", `DESCRIBE KEYSPACE thehive`}},
		{"empty schema", func(t *testing.T, root string) {
			writeLegacy(t, root, ts, ts, ts, false)
			writeFile(t, filepath.Join(root, "cassandra", "cassandra_"+ts, "create_keyspace_thehive.cql"), "\n")
		}, "", []string{"cassandra/cassandra_" + ts + "/create_keyspace_thehive.cql", "it is empty"}},
		{"schema without a table that has data", func(t *testing.T, root string) {
			writeLegacy(t, root, ts, ts, ts, false)
			writeFile(t, filepath.Join(root, "cassandra", "cassandra_"+ts, "create_keyspace_thehive.cql"), strings.SplitN(testSchema, "CREATE TABLE thehive.edgestore_lock", 2)[0])
		}, "", []string{"creates no table edgestore_lock_with_a_rather_long_name_to_force_gnu_long_links"}},
		{"truncated cassandra archive", func(t *testing.T, root string) {
			writeLegacy(t, root, ts, ts, ts, true)
			p := filepath.Join(root, "cassandra", "cassandra_"+ts+".tar")
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		}, "", []string{"cassandra/cassandra_" + ts + ".tar", "restore a good copy"}},
		{"archive cut between entries", func(t *testing.T, root string) {
			writeLegacy(t, root, ts, ts, ts, true)
			p := filepath.Join(root, "storage", "files_"+ts+".tar")
			cutAfterLastEntry(t, p)
		}, "", []string{"storage/files_" + ts + ".tar", "truncated", "end-of-archive"}},
		{"unknown --at", func(t *testing.T, root string) {
			writeLegacy(t, root, ts, ts, ts, true)
			writeLegacy(t, root, "20260315_02h00m00s", "20260315_02h00m00s", "", true)
		}, "20260101_00h00m00s", []string{"no Cassandra archive with stamp 20260101_00h00m00s", "20260315_02h00m00s, " + ts}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			c.setup(t, root)
			_, _, err := readLegacyAt(t, root, c.at)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// cutAfterLastEntry removes a tar's end-of-archive blocks (and padding).
func cutAfterLastEntry(t *testing.T, p string) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	sc, err := scanTar(f, st.Size(), nil, nil)
	f.Close()
	if err != nil || len(sc.Members) == 0 {
		t.Fatal(err)
	}
	if err := os.Truncate(p, sc.Members[len(sc.Members)-1].End); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyTwoTimestamps: several backups, and components whose stamps
// differ — the newest set is taken, --at takes another, and a component too
// far from the Cassandra archive is left out, saying why.
func TestLegacyTwoTimestamps(t *testing.T) {
	root := t.TempDir()
	writeLegacy(t, root, "20260314_02h00m00s", "20260314_02h00m02s", "20260314_02h00m00s", true)
	writeLegacy(t, root, "20260315_02h00m00s", "20260315_05h30m00s", "", true)

	l, _, err := readLegacyAt(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	set := l.Set
	if set.Stamp != "20260315_02h00m00s" || len(set.Others) != 1 || set.Others[0] != "20260314_02h00m00s" {
		t.Fatalf("newest: %+v", set)
	}
	if set.Elasticsearch != nil || set.Files != nil || l.ESSnapshot != "" {
		t.Errorf("the newest set has no ES marker or files within the window, got %+v %+v", set.Elasticsearch, set.Files)
	}
	notes := strings.Join(set.Notes, "\n")
	for _, w := range []string{"2 backups found; taking the newest, 20260315_02h00m00s (--at STAMP takes another: 20260314_02h00m00s)",
		"elasticsearch/elasticsearch_20260315_05h30m00s.info left out: its stamp is +3h30m0s"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
	for _, at := range []string{"20260314_02h00m00s", "cassandra_20260314_02h00m00s.tar", "/mnt/backup/cassandra/cassandra_20260314_02h00m00s.tar"} {
		l, _, err := readLegacyAt(t, root, at)
		if err != nil {
			t.Fatalf("--at %s: %v", at, err)
		}
		if l.Set.Stamp != "20260314_02h00m00s" || l.ESSnapshot != "elasticsearch_20260314_02h00m02s" || l.Files == nil || l.Files.Item.Stamp != "20260314_02h00m00s" {
			t.Errorf("--at %s: %+v", at, l.Set)
		}
	}
}

func TestLegacyFlatLayoutAndSchemaNextToArchive(t *testing.T) {
	root := t.TempDir()
	const ts = "20260314_02h00m00s"
	writeLegacy(t, root, ts, ts, ts, false)
	// An interrupted documented restore leaves the extracted folder: its
	// schema file serves.
	writeFile(t, filepath.Join(root, "cassandra", "cassandra_"+ts, "create_keyspace_thehive.cql"), testSchema)
	// Everything in one folder works too.
	flat := t.TempDir()
	for _, p := range []string{"cassandra/cassandra_" + ts + ".tar", "elasticsearch/elasticsearch_" + ts + ".info", "storage/files_" + ts + ".tar"} {
		if err := os.Rename(filepath.Join(root, p), filepath.Join(flat, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(flat, "cassandra_"+ts), 0o755)
	os.Rename(filepath.Join(root, "cassandra", "cassandra_"+ts, "create_keyspace_thehive.cql"), filepath.Join(flat, "cassandra_"+ts, "create_keyspace_thehive.cql"))
	l, _, err := readLegacyAt(t, flat, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.SchemaFrom != "cassandra_"+ts+"/create_keyspace_thehive.cql" || l.ESFolder != "" || l.Files == nil {
		t.Errorf("flat layout: schema from %q, ES folder %q, files %v", l.SchemaFrom, l.ESFolder, l.Files != nil)
	}
}

func TestLegacyVerifyFindsUnreadableArchive(t *testing.T) {
	root := t.TempDir()
	const ts = "20260314_02h00m00s"
	writeLegacy(t, root, ts, ts, ts, true)
	l, s, err := readLegacyAt(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	// Damage a header after the scan: the full read must see it.
	p := filepath.Join(root, "storage", "files_"+ts+".tar")
	b, _ := os.ReadFile(p)
	sc, err := scanTar(bytes.NewReader(b), int64(len(b)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := sc.Members[len(sc.Members)-1].Off
	copy(b[last+100:last+200], bytes.Repeat([]byte{0xff}, 100)) // the mode, owner and size fields
	os.WriteFile(p, b, 0o644)
	var seen int64
	_, probs, err := VerifyLegacy(context.Background(), s, l, func(done, total int64) { seen = done })
	if err != nil || len(probs) != 1 || probs[0].Path != "storage/files_"+ts+".tar" {
		t.Fatalf("verify: %v %v", err, probs)
	}
	if seen == 0 {
		t.Error("no progress reported")
	}
}

func TestCheckLegacySchema(t *testing.T) {
	for _, c := range []struct {
		schema string
		want   string
	}{
		{testSchema, ""},
		{`CREATE KEYSPACE "thehive" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};
create table if not exists thehive."edgestore" (key blob primary key);
CREATE TABLE thehive.edgestore_lock_with_a_rather_long_name_to_force_gnu_long_links (key blob PRIMARY KEY);`, ""},
		{"", "it is empty"},
		{"Connection error: ('Unable to connect to any servers')", "no CREATE KEYSPACE thehive"},
		{"CREATE KEYSPACE other WITH replication = {};", "no CREATE KEYSPACE thehive"},
	} {
		err := CheckLegacySchema(c.schema, "thehive", []string{"edgestore", "edgestore_lock_with_a_rather_long_name_to_force_gnu_long_links"})
		if got := fmt.Sprint(err); (c.want == "") != (err == nil) || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("schema %.40q: %v, want %q", c.schema, err, c.want)
		}
	}
}

func TestParseOwner(t *testing.T) {
	o, err := parseOwner("thehive:thehive")
	if err != nil || o.Uname != "thehive" || o.Gname != "thehive" {
		t.Errorf("names: %+v %v", o, err)
	}
	o, err = parseOwner("1000:1001")
	if err != nil || o.Uid != 1000 || o.Gid != 1001 || o.Uname != "" {
		t.Errorf("numbers: %+v %v", o, err)
	}
	if o, err := parseOwner(""); o != nil || err != nil {
		t.Errorf("empty: %+v %v", o, err)
	}
	if _, err := parseOwner("thehive"); err == nil {
		t.Error("owner without group accepted")
	}
}

// TestLegacyS3Mirror: a SeaweedFS mirror archive becomes the S3 objects of
// the manifest, each read from the archive by one ranged read.
func TestLegacyS3Mirror(t *testing.T) {
	root := t.TempDir()
	const ts = "20260314_02h00m00s"
	writeLegacy(t, root, ts, ts, "", true)
	name := "seaweedfs_" + ts
	dir := filepath.Join(root, "seaweedfs", name)
	writeFile(t, filepath.Join(dir, "ab", "abcdef"), "object one")
	writeFile(t, filepath.Join(dir, "top-level key"), strings.Repeat("2", 3000))
	runTar(t, filepath.Join(root, "seaweedfs"), name+".tar", name)
	os.RemoveAll(dir)
	l, s, err := readLegacyAt(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.Mirror == nil || l.Files != nil || len(l.Mirror.Entries) != 2 {
		t.Fatalf("mirror: %+v", l.Mirror)
	}
	m, vs, err := l.Restore(s, LegacyTarget{Bucket: "thehive"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Files == nil || m.Files.Provider != ProviderS3 || m.Files.Bucket != "thehive" || len(m.Files.Objects) != 2 {
		t.Fatalf("files: %+v", m.Files)
	}
	for _, o := range m.Files.Objects {
		rc, err := vs.Open(context.Background(), ObjectPath(m.ID, o.Key))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		n, _ := vs.Stat(context.Background(), ObjectPath(m.ID, o.Key))
		want := map[string]string{"ab/abcdef": "object one", "top-level key": strings.Repeat("2", 3000)}[o.Key]
		if err != nil || string(b) != want || n != int64(len(want)) || o.Size != n {
			t.Errorf("object %q: %q (%v), stat %d, manifest %d", o.Key, b, err, n, o.Size)
		}
	}
	if _, err := vs.Open(context.Background(), ObjectPath(m.ID, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent object: %v", err)
	}
}

func TestLegacyEmptyAndGarbageArchives(t *testing.T) {
	const ts = "20260314_02h00m00s"
	for name, content := range map[string]string{
		"empty":   "",
		"garbage": strings.Repeat("not a tar archive at all ", 100),
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "cassandra", "cassandra_"+ts+".tar"), content)
			_, _, err := readLegacyAt(t, root, "")
			if err == nil || !strings.Contains(err.Error(), "cassandra/cassandra_"+ts+".tar") || !strings.Contains(err.Error(), "good copy") {
				t.Fatalf("%s archive: %v", name, err)
			}
		})
	}
}

// FuzzScanTar: whatever the bytes, scanning ends with entries or an error,
// never a panic, and every entry found lies inside the file.
func FuzzScanTar(f *testing.F) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "cassandra_x/thehive/t-1/nb-1-big-Data.db", Size: 3, Mode: 0o644})
	tw.Write([]byte("abc"))
	tw.Close()
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:700])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scanTar(bytes.NewReader(data), int64(len(data)), func(string) bool { return true }, nil)
		if err != nil {
			return
		}
		for _, m := range sc.Members {
			if m.Off < 0 || m.DataOff < m.Off || m.DataOff+m.Header.Size > int64(len(data)) && m.Header.Typeflag == tar.TypeReg {
				t.Fatalf("entry %q at %d/%d size %d outside %d bytes", m.Header.Name, m.Off, m.DataOff, m.Header.Size, len(data))
			}
			cleanTarName(m.Header.Name)
		}
	})
}

// TestReadLegacyReportsProgress: the scan tells how far it is through the
// archives it reads (Cassandra's, the attachments'), never going back,
// and ends at their total.
func TestReadLegacyReportsProgress(t *testing.T) {
	root := t.TempDir()
	writeLegacy(t, root, "20260314_02h00m00s", "20260314_02h00m01s", "20260314_02h03m10s", true)
	s, set, err := legacySetAt(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, it := range set.Scanned() {
		want += it.Size
	}
	if len(set.Scanned()) != 2 || want == 0 {
		t.Fatalf("scanned %+v", set.Scanned())
	}
	var reports [][2]int64
	if _, err := ReadLegacy(context.Background(), s, set, func(done, total int64) { reports = append(reports, [2]int64{done, total}) }); err != nil {
		t.Fatal(err)
	}
	if len(reports) < 4 {
		t.Fatalf("%d progress reports: %v", len(reports), reports)
	}
	for i, r := range reports {
		if r[1] != want || r[0] > want || i > 0 && r[0] < reports[i-1][0] {
			t.Fatalf("report %d: %d/%d (total %d; before %v)", i, r[0], r[1], want, reports[:i])
		}
	}
	if last := reports[len(reports)-1]; last[0] != want {
		t.Errorf("the last report is %d/%d, want the whole %d", last[0], last[1], want)
	}
}
