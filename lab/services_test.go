package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/remote"
)

// The test binary doubles as the hotsnap binary the lab installs: run
// under a stand-in's name (through the STATE/bin symlinks) it is that
// stand-in, exactly as main.go dispatches. This keeps the lab tests
// independent of the root package, which other work may be changing.
var testStandIns = map[string]func(args []string) int{
	"nodetool":          func(a []string) int { return cassandra.NodetoolMain(a, os.Stdout, os.Stderr) },
	"cqlsh":             func(a []string) int { return cassandra.CqlshMain(a, os.Stdout, os.Stderr) },
	"sstableloader":     func(a []string) int { return cassandra.SSTableLoaderMain(a, os.Stdout, os.Stderr) },
	"cassandra-standin": cassandra.Main,
	"es-standin":        elastic.Main,
}

func TestMain(m *testing.M) {
	if f, ok := testStandIns[filepath.Base(os.Args[0])]; ok {
		os.Exit(f(os.Args[1:]))
	}
	if os.Geteuid() == 0 { // two runs of this suite on one machine take turns
		unlock, err := LockTestSuite(context.Background(), "lab")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		code := m.Run()
		unlock()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const (
	svcTestName   = "hssvc"
	svcTestSubnet = 10
)

// opDialer dials from inside the lab's op network namespace; gocql dials
// from its own goroutines, so every connection goes through it.
type opDialer struct{ ns string }

func (d opDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(d.ns, func() error {
		var err error
		c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

func ssh(t *testing.T, ctx context.Context, l *Lab, node, remote string) (string, error) {
	t.Helper()
	n, ok := l.Node(node)
	if !ok {
		t.Fatalf("no node %s", node)
	}
	return output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, n.IP, remote)...))
}

// statusRows runs nodetool status on node over SSH and returns Status+State
// per address.
func statusRows(t *testing.T, ctx context.Context, l *Lab, node string) map[string]string {
	t.Helper()
	out, err := ssh(t, ctx, l, node, "nodetool status")
	if err != nil {
		t.Fatalf("%s: nodetool status: %v\n%s", node, err, out)
	}
	rep, err := cassandra.ParseStatus(out)
	if err != nil {
		t.Fatalf("%s: parse nodetool status: %v\n%s", node, err, out)
	}
	rows := map[string]string{}
	for _, r := range rep.Rows {
		rows[r.Address] = r.Status + r.State
	}
	return rows
}

func TestLabServices(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	o := Options{Name: svcTestName, Subnet: svcTestSubnet, Nodes: 3, StateDir: stateDir(t), Log: &logb,
		Binary: self, Data: 50 << 20, Auth: true}
	_ = Down(ctx, o) // a lab left over by an interrupted run
	start := time.Now()
	l, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, logb.String())
	}
	t.Cleanup(func() { Down(context.Background(), o) })
	t.Logf("lab up with stand-ins and 50 MiB per node took %s", time.Since(start))
	defer func() {
		if t.Failed() {
			t.Logf("log:\n%s", logb.String())
			for _, n := range l.Nodes {
				for _, svc := range []string{svcCassandra, svcES} {
					t.Logf("%s %s.log: %s", n.Name, svc, logTail(filepath.Join(l.NodeDir(n.Name), svc+".log"), 10))
				}
			}
		}
	}()

	t.Run("binary and links", func(t *testing.T) {
		for _, name := range StandIns {
			if target, err := os.Readlink(filepath.Join(l.BinPath(), name)); err != nil || target != "hotsnap" {
				t.Errorf("STATE/bin/%s -> %q %v, want hotsnap", name, target, err)
			}
		}
		st, err := os.Stat(filepath.Join(l.BinPath(), "hotsnap"))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("STATE/bin/hotsnap: %v %v", st, err)
		}
	})

	t.Run("nodetool status and snapshot", func(t *testing.T) {
		rows := statusRows(t, ctx, l, "node2")
		if len(rows) != 3 {
			t.Fatalf("nodetool status on node2: %d rows, want 3: %v", len(rows), rows)
		}
		for _, n := range l.Nodes {
			if rows[n.IP] != "UN" {
				t.Errorf("nodetool status on node2: %s is %q, want UN", n.IP, rows[n.IP])
			}
		}
		if out, err := ssh(t, ctx, l, "node2", "nodetool snapshot -t t1 thehive"); err != nil || !strings.Contains(out, "Snapshot directory: t1") {
			t.Fatalf("nodetool snapshot: %q %v", out, err)
		}
		dirs, _ := filepath.Glob(filepath.Join(l.NodeDir("node2"), "cassandra", "data", Keyspace, "edgestore-*", "snapshots", "t1"))
		if len(dirs) != 1 {
			t.Fatalf("snapshot dir of edgestore on node2: %v", dirs)
		}
		links, _ := filepath.Glob(filepath.Join(dirs[0], "*-Data.db"))
		if len(links) == 0 {
			t.Fatalf("no Data.db in %s", dirs[0])
		}
		var st syscall.Stat_t
		if err := syscall.Stat(links[0], &st); err != nil || st.Nlink < 2 {
			t.Errorf("%s: nlink %d %v, want a hard link", links[0], st.Nlink, err)
		}
		other, _ := filepath.Glob(filepath.Join(l.NodeDir("node1"), "cassandra", "data", Keyspace, "*", "snapshots", "t1"))
		if len(other) != 0 {
			t.Errorf("node2's snapshot appeared on node1: %v", other)
		}
	})

	t.Run("elasticsearch", func(t *testing.T) {
		pw, err := l.Secret(SecretES)
		if err != nil {
			t.Fatal(err)
		}
		cmd := l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, l.Nodes[0].IP, "curl -s -K - 127.0.0.1:9200/_cluster/health")...)
		cmd.Stdin = strings.NewReader("user = \"elastic:" + pw + "\"\n")
		out, err := output(t, cmd)
		if err != nil {
			t.Fatalf("curl _cluster/health: %v", err)
		}
		var h struct {
			Status string `json:"status"`
			Nodes  int    `json:"number_of_nodes"`
		}
		if err := json.Unmarshal([]byte(out), &h); err != nil || h.Nodes != 3 || h.Status != "green" {
			t.Errorf("_cluster/health: %+v %v (%s), want green with 3 nodes", h, err, out)
		}
		out, err = ssh(t, ctx, l, "node3", "curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:9200/_cluster/health")
		if err != nil || out != "401" {
			t.Errorf("_cluster/health without credentials: %q %v, want 401", out, err)
		}
		c, err := elastic.NewCluster(esStateDir(l.StateDir), elastic.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range []string{ESIndex, ESAuditIndex} {
			if info, ok, err := c.Index(ix); err != nil || !ok {
				t.Errorf("index %s: %+v %v %v", ix, info, ok, err)
			}
		}
		// As the runbook's step 2 sets it up on the NFS server.
		st, err := os.Stat(filepath.Join(l.SharedBackupPath(), "elasticsearch"))
		if err != nil || st.Mode().Perm() != 0o770 || int(st.Sys().(*syscall.Stat_t).Uid) != uidOf(t, "elasticsearch") {
			t.Errorf("/mnt/backup/elasticsearch: %v %v, want elasticsearch's, mode 0770", st, err)
		}
	})

	t.Run("gocql from op", func(t *testing.T) {
		pw, err := l.Secret(SecretCassandraAdmin)
		if err != nil {
			t.Fatal(err)
		}
		cc := gocql.NewCluster(l.Nodes[0].IP)
		cc.Dialer = opDialer{l.rec.OpNetns}
		cc.Timeout, cc.ConnectTimeout = 5*time.Second, 5*time.Second
		cc.Authenticator = gocql.PasswordAuthenticator{Username: CassandraAdminUser, Password: "wrong"}
		if s, err := cc.CreateSession(); err == nil {
			s.Close()
			t.Error("a wrong Cassandra password was accepted")
		}
		cc.Authenticator = gocql.PasswordAuthenticator{Username: CassandraAdminUser, Password: pw}
		s, err := cc.CreateSession()
		if err != nil {
			t.Fatalf("gocql session as %s: %v", CassandraAdminUser, err)
		}
		defer s.Close()
		var ks []string
		it := s.Query("SELECT keyspace_name FROM system_schema.keyspaces").Iter()
		var name string
		for it.Scan(&name) {
			ks = append(ks, name)
		}
		if err := it.Close(); err != nil {
			t.Fatalf("list keyspaces: %v", err)
		}
		if !strings.Contains(","+strings.Join(ks, ",")+",", ","+Keyspace+",") {
			t.Errorf("keyspaces %v lack %s", ks, Keyspace)
		}
		var count int64
		if err := s.Query("SELECT count(*) FROM thehive.edgestore").Scan(&count); err != nil || count == 0 {
			t.Errorf("SELECT count(*) FROM thehive.edgestore: %d %v, want > 0", count, err)
		}
	})

	t.Run("gocql through the SSH tunnel from op", func(t *testing.T) {
		// As hotsnap does it: one SSH connection from op to node1 (real
		// sshd, strict host keys), every driver connection a direct-tcpip
		// channel through it, and the row counts those of the SSTables.
		pw, err := l.Secret(SecretCassandraAdmin)
		if err != nil {
			t.Fatal(err)
		}
		n1 := l.Nodes[0]
		c, err := remote.Dial(ctx, remote.Target{Name: n1.Name, Host: n1.IP, Port: 22, User: LoginUser, IdentityFiles: []string{l.KeyPath()}},
			remote.Options{KnownHostsFile: l.KnownHostsPath(), SSHConfigFile: "none", Agent: "none", Dial: l.OpDial})
		if err != nil {
			t.Fatalf("ssh to %s from op: %v", n1.Name, err)
		}
		defer c.Close()
		var mu sync.Mutex
		tunnelled := 0
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			tunnelled++
			mu.Unlock()
			return c.DialContext(ctx, network, addr)
		}
		s, err := remote.NewCQLSession(remote.CQLOptions{Hosts: []string{n1.IP}, Username: CassandraAdminUser, Password: pw, Dial: dial, Pin: true})
		if err != nil {
			t.Fatalf("gocql session through the tunnel: %v", err)
		}
		defer s.Close()
		var repl map[string]string
		if err := s.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", Keyspace).Scan(&repl); err != nil {
			t.Fatalf("keyspace %s: %v", Keyspace, err)
		}
		if repl["replication_factor"] != strconv.Itoa(o.Nodes) {
			t.Errorf("keyspace %s replication %v, want RF %d", Keyspace, repl, o.Nodes)
		}
		st, err := cassandra.OpenStore(filepath.Join(l.NodeDir(n1.Name), "cassandra", "data"))
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, tb := range cassandra.JanusGraphTables {
			var got int64
			if err := s.Query("SELECT count(*) FROM " + Keyspace + "." + tb).Scan(&got); err != nil {
				t.Errorf("count(*) of %s: %v", tb, err)
				continue
			}
			want, err := st.CountRows(Keyspace, tb)
			if err != nil || got != want {
				t.Errorf("count(*) of %s = %d, the SSTables on %s hold %d (%v)", tb, got, n1.Name, want, err)
			}
			rows += got
		}
		if rows == 0 || tunnelled == 0 {
			t.Errorf("%d rows counted over %d tunnelled connections", rows, tunnelled)
		}
	})

	t.Run("attachments", func(t *testing.T) {
		dir := filepath.Join(l.NodeDir("node1"), "thehive-files")
		u, err := user.Lookup("thehive")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		for _, name := range append(append([]string{AttachmentLink}, AwkwardNames...), EmptyAttachments...) {
			var st syscall.Stat_t
			if err := syscall.Lstat(filepath.Join(dir, name), &st); err != nil {
				t.Errorf("attachment %q: %v", name, err)
				continue
			}
			if int(st.Uid) != uid {
				t.Errorf("attachment %q owned by uid %d, want thehive (%d)", name, st.Uid, uid)
			}
		}
		if fi, err := os.Lstat(filepath.Join(dir, AttachmentLink)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%q is not a symlink: %v %v", AttachmentLink, fi, err)
		}
		total := dirSize(dir)
		if want := o.Data / 10; total < want*8/10 || total > want*12/10 {
			t.Errorf("attachments total %d bytes, want about %d", total, want)
		}
		// Seen from node1 through SSH, with the name that has a newline.
		out, err := ssh(t, ctx, l, "node1", "stat -c %U \"/opt/thp/thehive/files/Case 0003/line one\nline two.txt\"")
		if err != nil || out != "thehive" {
			t.Errorf("stat of the newline name on node1: %q %v", out, err)
		}
		if out, err := ssh(t, ctx, l, "node2", "ls -A /opt/thp/thehive/files | wc -l"); err != nil || out != "0" {
			t.Errorf("node2 has attachments: %q %v", out, err)
		}
	})

	t.Run("inventory", func(t *testing.T) {
		inv, err := os.ReadFile(l.InventoryPath())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"file:" + l.SecretPath(SecretCassandraAdmin), "file:" + l.SecretPath(SecretES), "url: http://127.0.0.1:9200"} {
			if !strings.Contains(string(inv), want) {
				t.Errorf("inventory lacks %q", want)
			}
		}
		for _, name := range []string{SecretCassandraAdmin, SecretCassandraApp, SecretES} {
			st, err := os.Stat(l.SecretPath(name))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("secret %s: %v %v, want 0600", name, st, err)
			}
		}
	})

	t.Run("stop and start a node", func(t *testing.T) {
		n3, _ := l.Node("node3")
		if err := l.StopNode(ctx, "node3", false); err != nil {
			t.Fatal(err)
		}
		if pidAlive(n3.CassandraPID) {
			t.Errorf("node3's cassandra (pid %d) still alive", n3.CassandraPID)
		}
		if rows := statusRows(t, ctx, l, "node1"); rows[n3.IP] != "DN" || rows[l.Nodes[1].IP] != "UN" {
			t.Errorf("after StopNode(node3), nodetool status on node1: %v, want node3 DN", rows)
		}
		out, err := ssh(t, ctx, l, "node3", "nodetool status")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(err.Error(), "Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused (Connection refused)'") {
			t.Errorf("nodetool on a stopped node3: %q %v, want exit 1 and the JMX error", out, err)
		}
		if rep, err := Status(ctx, o); err != nil || rep.Healthy() || !strings.Contains(rep.String(), "down") {
			t.Errorf("status with node3 stopped: %v\n%s", err, rep)
		}
		if err := l.StartNode(ctx, "node3"); err != nil {
			t.Fatal(err)
		}
		if rows := statusRows(t, ctx, l, "node1"); rows[n3.IP] != "UN" {
			t.Errorf("after StartNode(node3), nodetool status on node1: %v, want UN", rows)
		}
	})

	t.Run("stop and start a node's network", func(t *testing.T) {
		if err := l.StopNode(ctx, "node3", true); err != nil {
			t.Fatal(err)
		}
		n3, _ := l.Node("node3")
		if !n3.NetworkDown || n3.ESPID != 0 {
			t.Errorf("node3 after network stop: %+v", n3)
		}
		res, err := probeTCP(ctx, l.rec.OpNetns, []string{n3.IP + ":22", n3.IP + ":9200"}, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for a, e := range res {
			if e == nil {
				t.Errorf("%s reachable from op with node3's network down", a)
			}
		}
		if rows := statusRows(t, ctx, l, "node2"); rows[n3.IP] != "DN" {
			t.Errorf("nodetool status on node2 with node3 off the network: %v", rows)
		}
		if err := l.StartNode(ctx, "node3"); err != nil {
			t.Fatal(err)
		}
		if rows := statusRows(t, ctx, l, "node3"); rows[n3.IP] != "UN" || len(rows) != 3 {
			t.Errorf("nodetool status on node3 after StartNode: %v", rows)
		}
		rep, err := Status(ctx, o)
		if err != nil || !rep.Healthy() {
			t.Fatalf("status after StartNode: %v\n%s", err, rep)
		}
		for _, n := range rep.Nodes {
			if !n.CassandraAlive || !n.ESAlive || n.DataBytes < o.Data {
				t.Errorf("status of %s: %+v", n.Name, n)
			}
		}
		if s := rep.String(); !strings.Contains(s, "CASSANDRA") || !strings.Contains(s, "up (") {
			t.Errorf("status table:\n%s", s)
		}
	})

	t.Run("up again keeps the data", func(t *testing.T) {
		var lb bytes.Buffer
		o2 := o
		o2.Log = &lb
		if _, err := Up(ctx, o2); err != nil || !strings.Contains(lb.String(), "already up") {
			t.Errorf("second Up: %v %q", err, lb.String())
		}
	})

	var pids []int
	for _, n := range l.Nodes {
		pids = append(pids, n.CassandraPID, n.ESPID)
	}
	if err := Down(ctx, o); err != nil {
		t.Fatalf("Down: %v", err)
	}
	for _, p := range pids {
		if pidAlive(p) {
			t.Errorf("stand-in %d alive after Down", p)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"200MB", 200_000_000, false},
		{"2GB", 2_000_000_000, false},
		{"512KiB", 512 << 10, false},
		{"1048576", 1 << 20, false},
		{" 50 MiB ", 50 << 20, false},
		{"", 0, true},
		{"lots", 0, true},
		{"-5MB", 0, true},
		{"99999PB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSeedAttachmentsOffline(t *testing.T) {
	if _, err := user.Lookup("thehive"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and the thehive user (created by lab up)")
	}
	dir := t.TempDir()
	if err := seedAttachments(dir, 1<<20); err != nil {
		t.Fatal(err)
	}
	if got := dirSize(dir); got < 800_000 || got > 1_300_000 {
		t.Errorf("seeded %d bytes, want about 1 MiB", got)
	}
	before := dirSize(dir)
	// A second run leaves a non-empty directory alone.
	if err := seedAttachments(dir, 1<<20); err != nil || dirSize(dir) != before {
		t.Errorf("second seed changed the directory: %v (%d -> %d bytes)", err, before, dirSize(dir))
	}
}

func TestInventoryWithAuth(t *testing.T) {
	inv := inventoryYAML("hslab", "/s", 9, 3, true)
	for _, want := range []string{
		"  username: admin\n  password: \"file:/s/secrets/cassandra-admin\"\n",
		"  username: elastic\n  password: \"file:/s/secrets/elasticsearch\"\n",
		"  app_role: thehive\n",
	} {
		if !strings.Contains(inv, want) {
			t.Errorf("inventory with auth lacks %q:\n%s", want, inv)
		}
	}
	if strings.Contains(inventoryYAML("hslab", "/s", 9, 3, false), "password: \"file:/s/secrets") {
		t.Error("inventory without auth references a secret")
	}
	cfg, err := config.Parse("inventory.yaml", []byte(inv))
	if err != nil {
		t.Fatalf("config.Parse rejects the lab inventory with auth: %v", err)
	}
	if cfg.Cassandra.Username != CassandraAdminUser || cfg.Elasticsearch.Username != ESUser {
		t.Errorf("parsed users: cassandra %q, elasticsearch %q", cfg.Cassandra.Username, cfg.Elasticsearch.Username)
	}
}

func TestServiceArgs(t *testing.T) {
	dir := t.TempDir()
	if err := ensureSecrets(dir); err != nil {
		t.Fatal(err)
	}
	rec := record{Name: "hslab", StateDir: dir, Nodes: []NodeInfo{
		{Name: "node1", IP: "10.77.9.11"}, {Name: "node2", IP: "10.77.9.12"}, {Name: "node3", IP: "10.77.9.13"}}}
	l := newLab(rec, nil)
	if _, _, _, err := l.serviceArgs(l.Nodes[0], svcCassandra); err == nil {
		t.Error("serviceArgs without stand-ins succeeded")
	}
	l.rec.Services = &services{Data: 1, Auth: true, Search: SearchOpenSearch}
	admin, _ := l.Secret(SecretCassandraAdmin)
	app, _ := l.Secret(SecretCassandraApp)
	espw, _ := l.Secret(SecretES)
	if len(admin) < 16 || admin == app || app == espw {
		t.Fatalf("weak or repeated generated passwords: %q %q %q", admin, app, espw)
	}
	// The passwords go in the environment, never in argv (the node's
	// process list).
	prog, args, env, err := l.serviceArgs(l.Nodes[1], svcCassandra)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(args, " ")
	want := "--data /var/lib/cassandra/data --listen 10.77.9.12 --peers 10.77.9.11,10.77.9.13 --dc datacenter1 --rack rack1 --auth"
	if prog != "/usr/local/bin/cassandra-standin" || got != want || strings.Join(env, " ") != cassandra.UsersEnv+"=admin:"+admin+",thehive:"+app {
		t.Errorf("cassandra: %s %s (env %q)\nwant %s", prog, got, env, want)
	}
	prog, args, env, err = l.serviceArgs(l.Nodes[2], svcES)
	if err != nil {
		t.Fatal(err)
	}
	got = strings.Join(args, " ")
	want = "--state " + dir + "/shared/es-state --listen 127.0.0.1:9200,10.77.9.13:9200 --node node3 --path-repo /mnt/backup --flavour opensearch"
	if prog != "/usr/local/bin/es-standin" || got != want || strings.Join(env, " ") != elastic.AuthEnv+"=elastic:"+espw {
		t.Errorf("es: %s %s (env %q)\nwant %s", prog, got, env, want)
	}
	l.rec.Services = &services{Data: 1, Search: SearchElasticsearch}
	_, args, env, _ = l.serviceArgs(l.Nodes[0], svcES)
	if got := strings.Join(args, " "); strings.Contains(got, "--auth") || strings.Contains(got, "--flavour") || len(env) != 0 {
		t.Errorf("es without auth, elasticsearch: %s %q", got, env)
	}
	if _, _, _, err := l.serviceArgs(l.Nodes[0], "redis"); err == nil {
		t.Error("unknown service accepted")
	}
}

func TestStatusReportServices(t *testing.T) {
	n := NodeStatus{Name: "node1", IP: "10.77.9.11", NetnsExists: true, HolderPID: 10, HolderAlive: true, SSHDPID: 11, SSHDAlive: true, PortOpen: true,
		Services: true, CassandraPID: 12, CassandraAlive: true, ESPID: 13, ESAlive: true, DataBytes: 200_000_000, TheHive: "active", TheHivePID: 14}
	rep := &StatusReport{Name: "hslab", Subnet: 9, StateDir: "/s", Recorded: true, Registered: true, GuardRoute: true, OpNetns: true, BridgeNetns: true, Nodes: []NodeStatus{n},
		Platform: PlatformTheHive, Search: "opensearch", Storage: StorageS3, S3: "minio", Daemons: []DaemonStatus{{Daemon: Daemon{Name: DaemonS3, Node: "node1", PID: 15, Addr: "10.77.9.11:8333"}, Alive: true}}}
	if !rep.Healthy() {
		t.Error("healthy node with stand-ins not Healthy")
	}
	s := rep.String()
	for _, w := range []string{"CASSANDRA", "ES", "THEHIVE", "DATA", "up (12)", "up (13)", "active (14)", "200 MB",
		"platform thehive  search opensearch  attachments s3 (minio)  auth off", "  s3 (minio)       node1  10.77.9.11:8333       up (15)"} {
		if !strings.Contains(s, w) {
			t.Errorf("table lacks %q:\n%s", w, s)
		}
	}
	thStopped := n
	thStopped.TheHive, thStopped.TheHivePID = "inactive", 0
	rep.Nodes = []NodeStatus{thStopped}
	if !rep.Healthy() || !strings.Contains(rep.String(), " inactive ") {
		t.Errorf("TheHive stopped (as the backup procedure does) must show, and leave the lab healthy:\n%s", rep)
	}
	stopped := n
	stopped.CassandraPID, stopped.CassandraAlive = 0, false
	rep.Nodes = []NodeStatus{stopped}
	if rep.Healthy() || !strings.Contains(rep.String(), "down") {
		t.Errorf("node with cassandra stopped:\n%s", rep)
	}
	off := n
	off.NetworkDown = true
	if off.Healthy() {
		t.Error("node off the network is Healthy")
	}
	plain := n
	plain.Services, plain.CassandraAlive, plain.ESAlive = false, false, false
	if !plain.Healthy() {
		t.Error("node of a lab without stand-ins needs them to be Healthy")
	}
}
