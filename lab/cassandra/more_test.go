package cassandra

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func TestProtocolVersionsAndPeers(t *testing.T) {
	c := startCluster(t, 3, false, 64<<10, 3)
	for _, v := range []int{4, 5} {
		cc := gocql.NewCluster(nodeIPs[1])
		cc.Port = c.cqlPort
		cc.ProtoVersion = v
		s, err := cc.CreateSession()
		if err != nil {
			t.Fatalf("proto v%d: %v", v, err)
		}
		var peers int
		if err := s.Query("SELECT count(*) FROM system.peers_v2").Scan(&peers); err != nil || peers != 2 {
			t.Fatalf("v%d peers_v2 count %d %v", v, peers, err)
		}
		km, err := s.KeyspaceMetadata("thehive")
		if err != nil || len(km.Tables) != 9 || km.StrategyClass != "org.apache.cassandra.locator.SimpleStrategy" {
			t.Fatalf("v%d keyspace metadata %+v %v", v, km, err)
		}
		s.Close()
	}
}

func TestSnapshotKTListAndTTL(t *testing.T) {
	c := startCluster(t, 1, false, 64<<10, 1)
	out, errOut, code := c.nodetool(0, "snapshot", "--kt-list", "thehive.edgestore,thehive.txlog", "-t", "kt", "--ttl", "1h")
	if code != 0 || out != "Requested creating snapshot(s) for [thehive.edgestore,thehive.txlog] with snapshot name [kt] and options {skipFlush=false, ttl=1h}\nSnapshot directory: kt\n" {
		t.Fatalf("kt snapshot %d %q %q", code, out, errOut)
	}
	out, _, _ = c.nodetool(0, "listsnapshots")
	l, err := ParseListSnapshots(out)
	if err != nil || len(l.Rows) != 2 || l.Rows[0].ExpirationTime == "" {
		t.Fatalf("listsnapshots %v %q", err, out)
	}
	_, errOut, code = c.nodetool(0, "snapshot", "-t", "z", "nosuchks")
	if code != 2 || !strings.HasPrefix(errOut, "error: Keyspace nosuchks does not exist\n-- StackTrace --\njava.io.IOException") {
		t.Fatalf("unknown keyspace: %d %q", code, errOut)
	}
	out, _, code = c.nodetool(0, "clearsnapshot", "--all", "thehive")
	if code != 0 || out != "Requested clearing snapshot(s) for [thehive] with [all snapshots]\n" {
		t.Fatalf("clear --all: %q", out)
	}
}

func TestSSTableLoaderPartialReplicationAndFailures(t *testing.T) {
	c := startCluster(t, 3, false, 1<<20, 2)
	t.Setenv(ControlPortEnv, strconv.Itoa(c.ctlPort))
	st := c.nodes[0].Store()
	ks, _ := st.Keyspace("thehive")
	edge := ks.Table("edgestore")
	total, _ := st.CountRows("thehive", "edgestore")
	src := filepath.Join(c.dirs[0], "thehive", edge.DirName())
	backup := filepath.Join(t.TempDir(), "thehive", edge.DirName())
	os.MkdirAll(backup, 0o755)
	files, _ := liveFiles(src)
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(src, f))
		os.WriteFile(filepath.Join(backup, f), b, 0o644)
	}
	if _, e, code := c.cqlsh(0, "-e", "DROP TABLE thehive.edgestore"); code != 0 {
		t.Fatalf("drop table: %q", e)
	}
	// Table missing: files are skipped, exit 0 (like the real tool).
	out, _, code := run(SSTableLoaderMain, "-d", nodeIPs[0], "-p", strconv.Itoa(c.cqlPort), backup)
	if code != 0 || !strings.Contains(out, "Skipping file nb-1-big-Data.db: table thehive.edgestore doesn't exist\n") || !strings.Contains(out, "Total files transferred : 0") {
		t.Fatalf("missing table: %d %q", code, out)
	}
	if _, e, code := c.cqlsh(0, "-e", edge.CreateStatement("thehive", false)); code != 0 {
		t.Fatalf("create table: %q", e)
	}
	out, errOut, code := run(SSTableLoaderMain, "-d", nodeIPs[0], "-p", strconv.Itoa(c.cqlPort), backup)
	if code != 0 || !strings.Contains(out, "to [/127.0.0.1:7000, /127.0.0.2:7000, /127.0.0.3:7000]\n") || !strings.Contains(out, "\rprogress: [/127.0.0.1:7000]0:1/1 100%") {
		t.Fatalf("load: %d %q %q", code, out, errOut)
	}
	var sum int64
	for i := range c.nodes {
		n, err := c.nodes[i].Store().CountRows("thehive", "edgestore")
		if err != nil || n == 0 || n == total {
			t.Fatalf("node %d holds %d of %d rows (%v): RF 2 of 3 should split", i, n, total, err)
		}
		sum += n
	}
	if sum != 2*total {
		t.Fatalf("replicas hold %d rows, want 2*%d", sum, total)
	}
	// count(*) reads every token range from a live replica, whichever node
	// coordinates: the whole table, not the coordinator's share.
	wantCount := "\n count\n-------\n" + fmt.Sprintf("%6d", total) + "\n\n(1 rows)\n"
	for i := range c.nodes {
		if out, e, code := c.cqlsh(i, "-e", "SELECT count(*) FROM thehive.edgestore"); code != 0 || !strings.HasPrefix(out, wantCount) {
			t.Errorf("count(*) coordinated by node %d: %d %q %q, want %d rows", i, code, out, e, total)
		}
	}
	// One replica down: RF 2 still has a live replica for every range.
	c.nodes[2].Stop()
	if out, e, code := c.cqlsh(0, "-e", "SELECT count(*) FROM thehive.edgestore"); code != 0 || !strings.HasPrefix(out, wantCount) {
		t.Errorf("count(*) with node 3 down: %d %q %q, want %d rows", code, out, e, total)
	}

	// A down replica fails the load with exit 1.
	out, errOut, code = run(SSTableLoaderMain, "-d", nodeIPs[0], "-p", strconv.Itoa(c.cqlPort), backup)
	if code != 1 || !strings.HasPrefix(errOut, "Streaming to the following hosts failed:\n[/127.0.0.3:7000]\njava.util.concurrent.ExecutionException") {
		t.Fatalf("down replica: %d %q %q", code, out, errOut)
	}
	// Two down: some ranges have no live replica, and consistency ONE fails.
	c.nodes[1].Stop()
	wantErr := `<stdin>:1:Unavailable: Error from server: code=1000 [Unavailable exception] message="Cannot achieve consistency level ONE"`
	if out, e, code := c.cqlsh(0, "-e", "SELECT count(*) FROM thehive.edgestore"); code != 2 || !strings.HasPrefix(e, wantErr) {
		t.Errorf("count(*) with nodes 2 and 3 down: %d %q %q, want exit 2 and %s", code, out, e, wantErr)
	}
}

func TestMainRejectsBadFlags(t *testing.T) {
	var e bytes.Buffer
	if code := mainWith([]string{"--listen", "not-an-ip", "--data", t.TempDir()}, &e); code != 1 || !strings.Contains(e.String(), "not an IP") {
		t.Fatalf("bad listen: %d %q", code, e.String())
	}
	e.Reset()
	if code := mainWith([]string{"--bogus"}, &e); code != 2 {
		t.Fatalf("bad flag exit %d", code)
	}
}

func TestCqlshRunbookInvocations(t *testing.T) {
	c := startCluster(t, 1, true, 64<<10, 1)
	// Documented auth string without -u: 'admin' is taken as the port.
	_, errOut, code := run(CqlshMain, nodeIPs[0], "admin", "-p", "s3cret", "-e", "DESCRIBE KEYSPACE thehive")
	if code != 2 || !strings.Contains(errOut, "cqlsh.py: error: 'admin' is not a valid port number.") {
		t.Fatalf("runbook auth string: %d %q", code, errOut)
	}
	out, errOut, code := c.cqlsh(0, "-u", "admin", "-p", "s3cret", "--request-timeout=120", "-e", "DROP KEYSPACE IF EXISTS thehive;")
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("drop if exists: %d %q %q", code, out, errOut)
	}
	out, _, code = c.cqlsh(0, "-u", "admin", "-p", "s3cret", "-e", "DROP KEYSPACE IF EXISTS thehive;")
	if code != 0 || out != "" {
		t.Fatalf("second drop if exists: %d %q", code, out)
	}
	_, errOut, code = c.cqlsh(0, "-e", "DESCRIBE KEYSPACES")
	if code != 1 || !strings.Contains(errOut, "AuthenticationFailed('Remote end requires authentication')") {
		t.Fatalf("no credentials: %d %q", code, errOut)
	}
	c.nodes[0].Stop()
	_, errOut, code = c.cqlsh(0, "-u", "admin", "-p", "s3cret", "-e", "DESCRIBE KEYSPACES")
	if code != 1 || !strings.Contains(errOut, "Connection refused") {
		t.Fatalf("node down: %d %q", code, errOut)
	}
}

func TestCqlshDescribeTablesAndUse(t *testing.T) {
	c := startCluster(t, 1, false, 64<<10, 1)
	out, errOut, code := c.cqlsh(0, "-e", "DESCRIBE TABLES")
	if code != 0 || out != sample(t, "cqlsh-describe-tables-thehive-4.x-DERIVED.txt") {
		t.Fatalf("describe tables: %d %q %q", code, out, errOut)
	}
	out, _, code = c.cqlsh(0, "-e", "USE thehive; DESCRIBE TABLES")
	if code != 0 || strings.Contains(out, "Keyspace thehive") || !strings.Contains(out, "edgestore") {
		t.Fatalf("describe tables after USE: %d %q", code, out)
	}
	_, errOut, code = c.cqlsh(0, "-e", "USE nosuch")
	if code != 2 || !strings.Contains(errOut, `message="Keyspace 'nosuch' does not exist"`) {
		t.Fatalf("use nosuch: %d %q", code, errOut)
	}
}
