package cassandra

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func run(main func([]string, io.Writer, io.Writer) int, args ...string) (string, string, int) {
	var o, e bytes.Buffer
	code := main(args, &o, &e)
	return o.String(), e.String(), code
}

func (c *cluster) nodetool(i int, args ...string) (string, string, int) {
	return run(NodetoolMain, append([]string{"-h", nodeIPs[i], "-p", strconv.Itoa(c.ctlPort)}, args...)...)
}

func (c *cluster) cqlsh(i int, args ...string) (string, string, int) {
	return run(CqlshMain, append([]string{nodeIPs[i], strconv.Itoa(c.cqlPort)}, args...)...)
}

func TestSeedSizeAndDeterminism(t *testing.T) {
	const size = 8 << 20
	var sums [2][32]byte
	for i := range sums {
		st, err := OpenStore(filepath.Join(t.TempDir(), "data"))
		if err != nil {
			t.Fatal(err)
		}
		if err := Seed(st, "thehive", 3, size, 7); err != nil {
			t.Fatal(err)
		}
		var total int64
		h := sha256.New()
		filepath.Walk(st.DataDir, func(p string, info os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(p, "-Data.db") {
				total += info.Size()
				b, _ := os.ReadFile(p)
				h.Write([]byte(filepath.Base(p)))
				h.Write(b)
			}
			return nil
		})
		copy(sums[i][:], h.Sum(nil))
		if total < size*95/100 || total > size*105/100 {
			t.Fatalf("Data.db total %d, want about %d", total, size)
		}
		if _, err := os.Stat(filepath.Join(st.StandInDir(), "schema", "thehive.json")); err != nil {
			t.Fatalf("schema not outside data dir: %v", err)
		}
		ks, _ := st.Keyspace("thehive")
		if len(ks.Tables) != 9 {
			t.Fatalf("tables = %d", len(ks.Tables))
		}
		edge, _ := st.CountRows("thehive", "edgestore")
		lock, _ := st.CountRows("thehive", "edgestore_lock_")
		if edge == 0 || lock != 0 {
			t.Fatalf("edgestore rows %d, lock rows %d", edge, lock)
		}
	}
	if sums[0] != sums[1] {
		t.Fatal("seeding is not deterministic")
	}
}

func TestNodetoolSnapshotLifecycle(t *testing.T) {
	c := startCluster(t, 1, false, 1<<20, 1)
	out, errOut, code := c.nodetool(0, "snapshot", "-t", "b1", "thehive")
	if code != 0 || errOut != "" {
		t.Fatalf("snapshot: %d %q %q", code, out, errOut)
	}
	if out != "Requested creating snapshot(s) for [thehive] with snapshot name [b1] and options {skipFlush=false}\nSnapshot directory: b1\n" {
		t.Fatalf("snapshot output %q", out)
	}
	if r, err := ParseSnapshot(out); err != nil || r.Directory != "b1" {
		t.Fatalf("parse live snapshot output: %+v %v", r, err)
	}
	// Hard links, manifest, schema.cql.
	ks, _ := c.nodes[0].Store().Keyspace("thehive")
	edge := ks.Table("edgestore")
	tdir := filepath.Join(c.dirs[0], "thehive", edge.DirName())
	snap := filepath.Join(tdir, "snapshots", "b1")
	live, _ := liveFiles(tdir)
	if len(live) < 8 {
		t.Fatalf("live files %v", live)
	}
	for _, f := range live {
		a, err1 := os.Stat(filepath.Join(tdir, f))
		b, err2 := os.Stat(filepath.Join(snap, f))
		if err1 != nil || err2 != nil || a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino {
			t.Fatalf("%s not hard-linked: %v %v", f, err1, err2)
		}
	}
	man, _ := os.ReadFile(filepath.Join(snap, "manifest.json"))
	if !regexp.MustCompile(`^\{"files":\["nb-1-big-Data.db"(,"nb-\d+-big-Data.db")*\],"created_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","expires_at":null\}$`).Match(man) {
		t.Fatalf("manifest %s", man)
	}
	schema, _ := os.ReadFile(filepath.Join(snap, "schema.cql"))
	want := strings.Replace(sample(t, "snapshot-schema.cql-janusgraph-edgestore-4.1-DERIVED.txt"), "6f8c1a90-2f3b-11ef-9a5d-5b1f2c7c0e11", edge.ID, 1)
	if string(schema) != want {
		t.Fatalf("schema.cql\n%s\nwant\n%s", schema, want)
	}
	// Same tag again: stdout request line, stderr error, exit 2.
	out, errOut, code = c.nodetool(0, "snapshot", "-t", "b1", "thehive")
	if code != 2 || !strings.HasPrefix(out, "Requested creating snapshot(s)") || strings.Contains(out, "Snapshot directory") ||
		errOut != "error: Snapshot b1 already exists.\n-- StackTrace --\njava.io.IOException: Snapshot b1 already exists.\n" {
		t.Fatalf("duplicate tag: %d %q %q", code, out, errOut)
	}
	out, _, code = c.nodetool(0, "listsnapshots")
	l, err := ParseListSnapshots(out)
	if code != 0 || err != nil || len(l.Rows) != len(JanusGraphTables) || l.Columns != 7 || l.Rows[0].Name != "b1" || l.Rows[0].ExpirationTime != "" {
		t.Fatalf("listsnapshots %d %v %q", code, err, out)
	}
	liveHdr := strings.Split(out, "\n")[1]
	sampleHdr := strings.Split(sample(t, "nodetool-listsnapshots-4.1-with-creation-expiration-DERIVED.txt"), "\n")[1]
	if strings.Join(strings.Fields(liveHdr), " ") != strings.Join(strings.Fields(sampleHdr), " ") {
		t.Fatalf("listsnapshots header %q vs sample %q", liveHdr, sampleHdr)
	}
	_, errOut, code = c.nodetool(0, "clearsnapshot")
	if code != 2 || !strings.HasPrefix(errOut, "error: Specify snapshot name or --all\n-- StackTrace --\n") {
		t.Fatalf("clearsnapshot without tag: %d %q", code, errOut)
	}
	out, _, code = c.nodetool(0, "clearsnapshot", "-t", "b1")
	if code != 0 || out != "Requested clearing snapshot(s) for [all keyspaces] with snapshot name [b1]\n" {
		t.Fatalf("clearsnapshot: %d %q", code, out)
	}
	if _, err := os.Stat(snap); !os.IsNotExist(err) {
		t.Fatalf("snapshot dir still there: %v", err)
	}
	out, _, _ = c.nodetool(0, "listsnapshots")
	if out != "Snapshot Details: \nThere are no snapshots\n" {
		t.Fatalf("after clear: %q", out)
	}
	// Misc commands and their shapes.
	out, _, code = c.nodetool(0, "version")
	if code != 0 || out != "ReleaseVersion: 4.1.12\n" {
		t.Fatalf("version %q", out)
	}
	out, _, _ = c.nodetool(0, "status", "nosuchks")
	if out != "\nError: The keyspace nosuchks, does not exist\n" {
		t.Fatalf("status nosuchks %q", out)
	}
	out, _, code = c.nodetool(0, "repair", "thehive")
	if code != 0 || !strings.HasSuffix(out, "Replication factor is 1. No repair is needed for keyspace 'thehive'\n") {
		t.Fatalf("repair rf1 %d %q", code, out)
	}
	out, _, code = c.nodetool(0, "info")
	if code != 0 || !strings.Contains(out, "Native Transport active: true\n") || !strings.Contains(out, "Token                  : (invoke with -T/--tokens to see all 16 tokens)\n") {
		t.Fatalf("info %q", out)
	}
	out, _, code = c.nodetool(0, "netstats")
	if code != 0 || !strings.HasPrefix(out, "Mode: NORMAL\nNot sending any streams.\n") {
		t.Fatalf("netstats %q", out)
	}
	out, errOut, code = c.nodetool(0, "import", "thehive", "nosuch", "/tmp")
	if code != 1 || errOut != "ColumnFamilyStore for thehive/nosuch not found.\n" {
		t.Fatalf("import unknown table %d %q %q", code, out, errOut)
	}
	_, errOut, code = c.nodetool(0, "import", "thehive", "edgestore", "/does/not/exist")
	if code != 2 || !strings.HasPrefix(errOut, "error: Directory /does/not/exist does not exist\n") {
		t.Fatalf("import missing dir %d %q", code, errOut)
	}
	out, _, code = c.nodetool(0, "bogus")
	if code != 1 || !strings.HasPrefix(out, "nodetool: Found unexpected parameters: [bogus]\nSee 'nodetool help'") {
		t.Fatalf("bogus %d %q", code, out)
	}
}

func TestNodetoolImportRestoresSnapshot(t *testing.T) {
	c := startCluster(t, 1, false, 1<<20, 1)
	st := c.nodes[0].Store()
	before, _ := st.CountRows("thehive", "graphindex")
	if _, _, code := c.nodetool(0, "snapshot", "-t", "x", "thehive"); code != 0 {
		t.Fatal("snapshot failed")
	}
	ks, _ := st.Keyspace("thehive")
	src := filepath.Join(c.dirs[0], "thehive", ks.Table("graphindex").DirName(), "snapshots", "x")
	backup := filepath.Join(t.TempDir(), "thehive", ks.Table("graphindex").DirName())
	os.MkdirAll(backup, 0o755)
	files, _ := os.ReadDir(src)
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(src, f.Name()))
		os.WriteFile(filepath.Join(backup, f.Name()), b, 0o644)
	}
	if _, errOut, code := c.cqlsh(0, "-e", "DROP KEYSPACE thehive"); code != 0 {
		t.Fatalf("drop: %q", errOut)
	}
	if _, errOut, code := c.cqlsh(0, "-e", JanusGraphKeyspace("thehive", 1, 1).CreateStatement()+ks.Table("graphindex").CreateStatement("thehive", false)); code != 0 {
		t.Fatalf("recreate: %q", errOut)
	}
	if n, _ := st.CountRows("thehive", "graphindex"); n != 0 {
		t.Fatalf("recreated table has %d rows", n)
	}
	out, errOut, code := c.nodetool(0, "import", "thehive", "graphindex", backup)
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if after, _ := st.CountRows("thehive", "graphindex"); after != before {
		t.Fatalf("rows after import %d, want %d", after, before)
	}
}

func TestClusterStatusDownNodeAndJMXError(t *testing.T) {
	c := startCluster(t, 3, false, 256<<10, 3)
	out, _, code := c.nodetool(0, "status")
	rep, err := ParseStatus(out)
	if code != 0 || err != nil || len(rep.Rows) != 3 {
		t.Fatalf("status: %d %v %q", code, err, out)
	}
	for _, r := range rep.Rows {
		if r.Status+r.State != "UN" || r.Tokens != 16 || r.Owns != "100.0%" || !r.OwnsEffective {
			t.Fatalf("row %+v", r)
		}
	}
	want := sample(t, "nodetool-status-4.x-2dc-with-DN-aligned-DERIVED.txt")
	header := func(text string) string {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "--") {
				return strings.Join(strings.Fields(l), " ")
			}
		}
		return ""
	}
	if h := header(out); h == "" || h != header(want) {
		t.Fatalf("live header %q differs from sample header %q", h, header(want))
	}
	// TableBuilder pads every cell, the last included: header and rows have one length.
	var widths []int
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "--") || strings.HasPrefix(l, "UN") {
			widths = append(widths, len(l))
		}
	}
	if len(widths) != 4 || widths[0] != widths[1] || widths[0] != widths[3] || !strings.Contains(out, "Rack \n") {
		t.Fatalf("table lines not uniformly padded: %v\n%q", widths, out)
	}
	if strings.Split(out, "\n")[0] != "Datacenter: datacenter1" || !strings.HasSuffix(out, "\n\n") || !strings.HasSuffix(want, "\n\n") {
		t.Fatalf("layout differs from 4.x sample: %q", out)
	}
	c.nodes[2].Stop()
	out, _, code = c.nodetool(0, "status")
	rep, err = ParseStatus(out)
	if code != 0 || err != nil || len(rep.Rows) != 3 || rep.Rows[2].Status != "D" || rep.Rows[2].Address != "127.0.0.3" || rep.Rows[0].Status != "U" {
		t.Fatalf("status with node down: %v %q", err, out)
	}
	out, errOut, code := c.nodetool(2, "status")
	if code != 1 || out != "" || errOut != "nodetool: Failed to connect to '127.0.0.3:"+strconv.Itoa(c.ctlPort)+"' - ConnectException: 'Connection refused (Connection refused)'.\n" {
		t.Fatalf("jmx down: %d %q %q", code, out, errOut)
	}
	out, _, _ = c.nodetool(0, "describecluster")
	d, err := ParseDescribeCluster(out)
	if err != nil || d.Live != 2 || d.UnreachableCount != 1 || len(d.Unreachable) != 1 || d.DataCenters["datacenter1"] != [2]int{3, 1} || d.Keyspaces["thehive"] != "SimpleStrategy {replication_factor=3}" {
		t.Fatalf("describecluster %+v %v\n%s", d, err, out)
	}
	// Database versions lists unreachable members too, as Cassandra's
	// Gossiper does (live and unreachable), with the release last known.
	if !strings.Contains(out, "\nDatabase versions:\n\t4.1.12: [127.0.0.1:7000, 127.0.0.2:7000, 127.0.0.3:7000]\n\n") {
		t.Fatalf("describecluster's Database versions with node 3 down:\n%s", out)
	}
	out, errOut, code = c.nodetool(0, "repair", "-full", "thehive")
	if code != 2 || !strings.Contains(out, "Starting repair command #1") || !strings.Contains(errOut, "Endpoint not alive: /127.0.0.3:7000") {
		t.Fatalf("repair with node down %d %q %q", code, out, errOut)
	}
}

func TestCQLDescribeAuthAndErrors(t *testing.T) {
	c := startCluster(t, 1, true, 256<<10, 1)
	// Driver with good credentials; bad ones are refused.
	s := c.session(t, "admin", "s3cret")
	iter := s.Query("DESCRIBE KEYSPACE thehive").Iter()
	var rows []map[string]any
	for {
		m := map[string]any{}
		if !iter.MapScan(m) {
			break
		}
		rows = append(rows, m)
	}
	if err := iter.Close(); err != nil || len(rows) != 10 {
		t.Fatalf("describe rows %d %v", len(rows), err)
	}
	lines := strings.Split(strings.TrimSpace(sample(t, "cql-server-side-describe-keyspace-rows-4.1-DERIVED.jsonl.txt")), "\n")
	for i, l := range lines {
		var want map[string]string
		if err := json.Unmarshal([]byte(l), &want); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if rows[i][k] != v {
				t.Fatalf("row %d %s = %q, want %q", i, k, rows[i][k], v)
			}
		}
	}
	out, errOut, code := c.cqlsh(0, "-u", "admin", "-p", "s3cret", "-e", "DESCRIBE KEYSPACE thehive")
	if code != 0 || out != sample(t, "cqlsh-describe-keyspace-thehive-janusgraph-4.1-DERIVED.txt") {
		t.Fatalf("cqlsh describe %d %q\n%s", code, errOut, out)
	}
	_, errOut, code = c.cqlsh(0, "-u", "admin", "-p", "wrong", "-e", "DESCRIBE KEYSPACES")
	if code != 1 || !strings.Contains(errOut, "Provided username admin and/or password are incorrect") || !strings.HasPrefix(errOut, "Connection error: ('Unable to connect to any servers'") {
		t.Fatalf("bad password: %d %q", code, errOut)
	}
	cases := []struct{ stmt, want string }{
		{"SELECT count(*) FROM nosuch.t", `<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] message="keyspace nosuch does not exist"`},
		{"SELECT count(*) FROM thehive.nosuch", `<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] message="unconfigured table nosuch"`},
		{"DESCRIBE KEYSPACE nosuch", `<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] message="'nosuch' not found in keyspaces"`},
		{"FOO BAR", `<stdin>:1:SyntaxException: Error from server: code=2000 [Syntax error in CQL query] message="line 1:0 no viable alternative at input 'FOO' ([FOO BAR]...)"`},
		{"GRANT ALL PERMISSIONS ON KEYSPACE thehive TO 'nobody'", `<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] message="Role nobody doesn't exist"`},
		{"CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}", `<stdin>:1:AlreadyExists: Keyspace 'thehive' already exists`},
	}
	for _, tc := range cases {
		_, errOut, code := c.cqlsh(0, "-u", "admin", "-p", "s3cret", "-e", tc.stmt)
		if code != 2 || strings.TrimSpace(errOut) != tc.want {
			t.Errorf("%s: %d %q\nwant %q", tc.stmt, code, errOut, tc.want)
		}
	}
	// Role creation then the install docs' GRANT ... TO 'thehive' form (string literal role).
	for _, st := range []string{"CREATE ROLE thehive WITH LOGIN = true AND PASSWORD = 'pw'", "GRANT ALL PERMISSIONS ON KEYSPACE thehive TO 'thehive'", "GRANT ALL PERMISSIONS ON KEYSPACE thehive TO thehive"} {
		if _, errOut, code := c.cqlsh(0, "-u", "admin", "-p", "s3cret", "-e", st); code != 0 {
			t.Fatalf("%s: %q", st, errOut)
		}
	}
	out, _, code = c.cqlsh(0, "-u", "thehive", "-p", "pw", "-e", "SELECT count(*) FROM thehive.janusgraph_ids")
	n, _ := c.nodes[0].Store().CountRows("thehive", "janusgraph_ids")
	want := "\n count\n-------\n" + strings.Repeat(" ", 6-len(strconv.FormatInt(n, 10))) + strconv.FormatInt(n, 10) + "\n\n(1 rows)\n\nWarnings :\nAggregation query used without partition key\n\n"
	if code != 0 || out != want {
		t.Fatalf("count output %q want %q", out, want)
	}
}

func TestGrantWithoutAuthIsRefused(t *testing.T) {
	c := startCluster(t, 1, false, 0, 1)
	_, errOut, code := c.cqlsh(0, "-e", "CREATE KEYSPACE thehive WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': '3' } AND durable_writes = 'true'; GRANT ALL PERMISSIONS ON KEYSPACE thehive TO 'thehive';")
	if code != 2 || strings.TrimSpace(errOut) != `<stdin>:1:Unauthorized: Error from server: code=2100 [Unauthorized] message="You have to be logged in and not anonymous to perform this request"` {
		t.Fatalf("grant without auth: %d %q", code, errOut)
	}
	out, _, _ := c.cqlsh(0, "-e", "DESCRIBE KEYSPACE thehive")
	if out != "\nCREATE KEYSPACE thehive WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': '3'}  AND durable_writes = true;\n" {
		t.Fatalf("NTS keyspace: %q", out)
	}
}

// TestBackupRestoreWithSSTableLoader follows the documented cluster flow:
// snapshot, copy, DESCRIBE to file, drop, recreate with cqlsh -f, sstableloader per table.
func TestBackupRestoreWithSSTableLoader(t *testing.T) {
	c := startCluster(t, 3, true, 2<<20, 3)
	t.Setenv(ControlPortEnv, strconv.Itoa(c.ctlPort))
	auth := []string{"-u", "admin", "-p", "s3cret"}
	want := map[string]int64{}
	for _, tb := range JanusGraphTables {
		want[tb], _ = c.nodes[1].Store().CountRows("thehive", tb)
	}
	if _, _, code := c.nodetool(0, "snapshot", "-t", "bk", "thehive"); code != 0 {
		t.Fatal("snapshot failed")
	}
	schema, errOut, code := c.cqlsh(0, append(auth, "-e", "DESCRIBE KEYSPACE thehive")...)
	if code != 0 {
		t.Fatalf("describe: %q", errOut)
	}
	backup := filepath.Join(t.TempDir(), "bk")
	os.MkdirAll(backup, 0o755)
	schemaFile := filepath.Join(backup, "create_keyspace_thehive.cql")
	os.WriteFile(schemaFile, []byte(schema), 0o644)
	tdirs, _ := os.ReadDir(filepath.Join(c.dirs[0], "thehive"))
	for _, td := range tdirs {
		src := filepath.Join(c.dirs[0], "thehive", td.Name(), "snapshots", "bk")
		dst := filepath.Join(backup, "thehive", td.Name())
		os.MkdirAll(dst, 0o755)
		files, _ := os.ReadDir(src)
		for _, f := range files {
			b, _ := os.ReadFile(filepath.Join(src, f.Name()))
			os.WriteFile(filepath.Join(dst, f.Name()), b, 0o644)
		}
	}
	c.nodetool(0, "clearsnapshot", "-t", "bk")
	if _, errOut, code := c.cqlsh(0, append(auth, "-e", "DROP KEYSPACE IF EXISTS thehive;")...); code != 0 {
		t.Fatalf("drop: %q", errOut)
	}
	if _, errOut, code := c.cqlsh(1, append(auth, "-f", schemaFile)...); code != 0 {
		t.Fatalf("recreate from DESCRIBE output: %q", errOut)
	}
	for i := range c.nodes {
		if n, err := c.nodes[i].Store().CountRows("thehive", "edgestore"); err != nil || n != 0 {
			t.Fatalf("node %d after recreate: %d %v", i, n, err)
		}
	}
	tdirs, _ = os.ReadDir(filepath.Join(backup, "thehive"))
	for _, td := range tdirs {
		out, errOut, code := run(SSTableLoaderMain, "-d", nodeIPs[0], "-p", strconv.Itoa(c.cqlPort), "-u", "admin", "-pw", "s3cret", filepath.Join(backup, "thehive", td.Name()))
		if code != 0 {
			t.Fatalf("sstableloader %s: %d %q %q", td.Name(), code, out, errOut)
		}
		if !strings.HasPrefix(out, "Established connection to initial hosts\nOpening sstables and calculating sections to stream\n") || !strings.Contains(out, "\nSummary statistics: \n   Connections per host    : 1         \n") {
			t.Fatalf("sstableloader output %q", out)
		}
	}
	for i := range c.nodes {
		for tb, w := range want {
			if n, err := c.nodes[i].Store().CountRows("thehive", tb); err != nil || n != w {
				t.Fatalf("node %d %s: %d rows (%v), want %d", i, tb, n, err, w)
			}
		}
	}
	// Missing -d and bad credentials.
	_, errOut, code = run(SSTableLoaderMain, backup)
	if code != 1 || errOut != "Initial hosts must be specified (-d)\n" {
		t.Fatalf("no -d: %d %q", code, errOut)
	}
	_, errOut, code = run(SSTableLoaderMain, "-d", nodeIPs[0], "-p", strconv.Itoa(c.cqlPort), "-u", "admin", "-pw", "bad", filepath.Join(backup, "thehive", tdirs[0].Name()))
	if code != 1 || !strings.Contains(errOut, "Provided username admin and/or password are incorrect") {
		t.Fatalf("bad creds: %d %q", code, errOut)
	}
}

// TestNodetoolFlushRefreshAndCredentials: flush prints nothing, refresh its
// 4.x deprecation line (the sample's text), and the JMX credential options
// the runbooks pass (-u, -pw) are taken anywhere on the line.
func TestNodetoolFlushRefreshAndCredentials(t *testing.T) {
	c := startCluster(t, 1, false, 64<<10, 1)
	if out, errOut, code := c.nodetool(0, "-u", "cassandra", "-pw", "cassandra", "flush", "thehive"); code != 0 || out != "" || errOut != "" {
		t.Errorf("flush thehive: %d %q %q, want exit 0 and no output", code, out, errOut)
	}
	if _, errOut, code := c.nodetool(0, "flush", "nosuch"); code != 2 || !strings.HasPrefix(errOut, "error: Unknown keyspace/cf pair (nosuch)\n-- StackTrace --\n") {
		t.Errorf("flush nosuch: %d %q, want exit 2 and the Java error", code, errOut)
	}
	if out, errOut, code := c.nodetool(0, "refresh", "thehive", "edgestore", "--username", "u", "--password", "p"); code != 0 || out != sample(t, "nodetool-refresh-4.x-DERIVED.txt") || errOut != "" {
		t.Errorf("refresh: %d %q %q, want the sample's line", code, out, errOut)
	}
	if out, _, code := c.nodetool(0, "status", "-pw"); code != 1 || !strings.Contains(out, "Required values for option 'password' not provided") {
		t.Errorf("-pw without a value: %d %q", code, out)
	}
}

// TestRepairStreamsMissingRows: a full repair makes the replicas agree, as
// Cassandra's streaming does: a node that lost a table's rows gets them back
// from its peers when it is repaired (pull), and when a peer is (push).
func TestRepairStreamsMissingRows(t *testing.T) {
	c := startCluster(t, 3, false, 1<<20, 3)
	t.Setenv(ControlPortEnv, strconv.Itoa(c.ctlPort))
	want, err := c.nodes[0].Store().CountRows("thehive", "edgestore")
	if err != nil || want == 0 {
		t.Fatalf("seeded rows: %d %v", want, err)
	}
	for _, x := range []struct{ lost, repaired int }{{2, 2}, {1, 0}} {
		if err := c.nodes[x.lost].Store().TruncateTable("thehive", "edgestore"); err != nil {
			t.Fatal(err)
		}
		if n, _ := c.nodes[x.lost].Store().CountRows("thehive", "edgestore"); n != 0 {
			t.Fatalf("node %d after truncate: %d rows", x.lost, n)
		}
		out, errOut, code := c.nodetool(x.repaired, "repair", "-full", "thehive")
		if code != 0 || !strings.Contains(out, "Repair completed successfully") {
			t.Fatalf("repair on node %d: %d %q %q", x.repaired, code, out, errOut)
		}
		for i, n := range c.nodes {
			if got, err := n.Store().CountRows("thehive", "edgestore"); err != nil || got != want {
				t.Errorf("node %d lost its rows, node %d repaired: node %d has %d rows (%v), want %d", x.lost, x.repaired, i, got, err, want)
			}
		}
	}
}

// TestRingStateFault: the fault file makes a node joining, leaving or moving
// in every node's nodetool status, printed as 4.1 prints it.
func TestRingStateFault(t *testing.T) {
	c := startCluster(t, 3, false, 0, 3)
	for _, st := range []string{"J", "L", "M"} {
		if err := os.WriteFile(filepath.Join(c.nodes[1].Store().StandInDir(), StateFile), []byte(st+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, code := c.nodetool(0, "status")
		if code != 0 || !strings.Contains(out, "\nU"+st+"  "+nodeIPs[1]+" ") || !strings.Contains(out, "\nUN  "+nodeIPs[0]+" ") {
			t.Fatalf("state %s: %d\n%s", st, code, out)
		}
		if _, err := ParseStatus(out); err != nil {
			t.Errorf("state %s: the status does not parse: %v", st, err)
		}
	}
	os.Remove(filepath.Join(c.nodes[1].Store().StandInDir(), StateFile))
	if out, _, _ := c.nodetool(2, "status"); strings.Contains(out, "UM") || !strings.Contains(out, "\nUN  "+nodeIPs[1]+" ") {
		t.Errorf("fault removed, still not UN:\n%s", out)
	}
}
