package lab

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uidOf returns a local user's uid.
func uidOf(t *testing.T, user string) int {
	t.Helper()
	uid, _, err := lookupIDs(user)
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// procUID returns the real uid of a running process.
func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("process %d: no Uid line", pid)
	return -1
}

// ownerUID returns the owner of a host path.
func ownerUID(t *testing.T, p string) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid)
}

// nodeSh runs a shell script inside node (as root, or as user with setpriv
// when user is set) and returns its trimmed combined output.
func nodeSh(ctx context.Context, l *Lab, node, user, script string) (string, error) {
	argv := []string{"/bin/sh", "-c", script}
	if user != "" {
		argv = asUser(user, argv...)
	}
	cmd := l.NodeCommand(ctx, node, argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestNetLab checks what makes the lab cost what production costs: the
// backup host's share (a network file system with NFS's ownership rules),
// the stand-ins as their own users, each node's own /tmp, /root and /home,
// shaped links, and that Down leaves none of it behind.
func TestNetLab(t *testing.T) {
	needRoot(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var logb bytes.Buffer
	o := Options{Name: "hsnl1", Subnet: 51, Nodes: 3, StateDir: stateDir(t), Log: &logb, Binary: self, Data: 2 << 20,
		Link: LinkSpec{Rate: 200e6}}
	l, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, logb.String())
	}
	downed := false
	t.Cleanup(func() {
		if !downed {
			Down(context.Background(), o)
		}
	})

	t.Run("stand-ins run as their users", func(t *testing.T) {
		rep, err := l.status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Healthy() || !rep.Share.ServerAlive || !rep.Share.OpMounted || !strings.Contains(rep.String(), "/mnt/backup mounted on 3/3 nodes, op yes  links 200mbit") {
			t.Errorf("status:\n%s", rep)
		}
		for i, n := range l.Nodes {
			if got, want := procUID(t, n.CassandraPID), uidOf(t, "cassandra"); got != want {
				t.Errorf("%s: cassandra-standin runs as uid %d, want cassandra (%d)", n.Name, got, want)
			}
			if got, want := procUID(t, n.ESPID), uidOf(t, "elasticsearch"); got != want {
				t.Errorf("%s: es-standin runs as uid %d, want elasticsearch (%d)", n.Name, got, want)
			}
			if got, want := procUID(t, rep.Nodes[i].TheHivePID), uidOf(t, "thehive"); got != want {
				t.Errorf("%s: thehive-standin runs as uid %d, want thehive (%d)", n.Name, got, want)
			}
		}
		// A snapshot is written by Cassandra: its files are cassandra's.
		if out, err := nodeSh(ctx, l, "node2", "", "nodetool snapshot -t owners "+Keyspace); err != nil {
			t.Fatalf("nodetool snapshot: %v %s", err, out)
		}
		snaps, _ := filepath.Glob(filepath.Join(l.NodeDir("node2"), "cassandra", "data", Keyspace, "*", "snapshots", "owners", "*"))
		if len(snaps) == 0 {
			t.Fatal("no snapshot files")
		}
		for _, p := range snaps {
			if got := ownerUID(t, p); got != uidOf(t, "cassandra") {
				t.Errorf("%s: owner uid %d, want cassandra", p, got)
			}
		}
		// Cassandra refuses to import from a folder it cannot write (it
		// moves the files out), as the real one does; once it is
		// cassandra's, the import goes through.
		table := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(snaps[0]))))
		stage := "mkdir -p /var/lib/cassandra/imp && cp -p /var/lib/cassandra/data/" + Keyspace + "/" + table + "/snapshots/owners/nb-* /var/lib/cassandra/imp/"
		imp := "nodetool import " + Keyspace + " " + strings.SplitN(table, "-", 2)[0] + " /var/lib/cassandra/imp"
		if out, err := nodeSh(ctx, l, "node2", "", stage+" && "+imp); err == nil || !strings.Contains(out, "Some directories failed to import, check server logs for details:") {
			t.Errorf("import from a root-owned folder: %v %s", err, out)
		}
		if log, _ := os.ReadFile(filepath.Join(l.NodeDir("node2"), "cassandra.log")); !bytes.Contains(log, []byte("java.lang.RuntimeException: Insufficient permissions on directory /var/lib/cassandra/imp")) {
			t.Errorf("node2's cassandra.log does not say why:\n%s", log)
		}
		if out, err := nodeSh(ctx, l, "node2", "", "chown -R cassandra:cassandra /var/lib/cassandra/imp && "+imp+" && rm -r /var/lib/cassandra/imp"); err != nil {
			t.Errorf("import from cassandra's folder: %v %s", err, out)
		}
		if out, err := nodeSh(ctx, l, "node2", "", "nodetool clearsnapshot -t owners"); err != nil {
			t.Errorf("nodetool clearsnapshot: %v %s", err, out)
		}
	})

	t.Run("the share keeps owners and refuses who lacks the rights", func(t *testing.T) {
		// The runbook's step 2 made the repository folder elasticsearch's, 770.
		repo := filepath.Join(l.SharedBackupPath(), "elasticsearch")
		if st, err := os.Stat(repo); err != nil || st.Mode().Perm() != 0o770 || ownerUID(t, repo) != uidOf(t, "elasticsearch") {
			t.Errorf("%s: %v %v, want elasticsearch 0770", repo, st, err)
		}
		if out, err := nodeSh(ctx, l, "node2", "elasticsearch", "echo es > /mnt/backup/elasticsearch/by-es"); err != nil {
			t.Fatalf("elasticsearch writes its repository: %v %s", err, out)
		}
		if got := ownerUID(t, filepath.Join(repo, "by-es")); got != uidOf(t, "elasticsearch") {
			t.Errorf("a file elasticsearch wrote on node2 is uid %d on the operator's mount, want elasticsearch", got)
		}
		if out, err := nodeSh(ctx, l, "node3", "", "stat -c %U /mnt/backup/elasticsearch/by-es && cat /mnt/backup/elasticsearch/by-es"); err != nil || out != "elasticsearch\nes" {
			t.Errorf("node3 sees %q %v, want elasticsearch's file", out, err)
		}
		if out, err := nodeSh(ctx, l, "node3", "cassandra", "echo x > /mnt/backup/elasticsearch/by-cassandra"); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("cassandra wrote into elasticsearch's 770 folder: %v %s", err, out)
		}
		// The docs' chown works (root on a node is root on the share), and
		// an ES that does not own its repository fails verification.
		if out, err := nodeSh(ctx, l, "node1", "", "mkdir -p /mnt/backup/notmine && chmod 755 /mnt/backup/notmine"); err != nil {
			t.Fatal(err, out)
		}
		put := `curl -s -XPUT 127.0.0.1:9200/_snapshot/notmine -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/notmine"}}'`
		out, err := nodeSh(ctx, l, "node1", "", put)
		if err != nil || !strings.Contains(out, `"type":"repository_verification_exception"`) || !strings.Contains(out, `"status":500`) {
			t.Errorf("ES registered a repository it cannot write: %v %s", err, out)
		}
		if out, err := nodeSh(ctx, l, "node1", "", "chown elasticsearch:elasticsearch /mnt/backup/notmine && "+put); err != nil || !strings.Contains(out, `"acknowledged":true`) {
			t.Errorf("after chown elasticsearch:elasticsearch: %v %s", err, out)
		}
		if out, err := nodeSh(ctx, l, "node1", "", "curl -s -XDELETE 127.0.0.1:9200/_snapshot/notmine; rm -rf /mnt/backup/notmine /mnt/backup/elasticsearch/by-es"); err != nil {
			t.Error(err, out)
		}
	})

	t.Run("each node has its own /tmp, /root and /home", func(t *testing.T) {
		marker := "hsnl-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		for _, dir := range []string{"/tmp", "/root"} {
			if out, err := nodeSh(ctx, l, "node1", "", "echo one > "+dir+"/"+marker); err != nil {
				t.Fatal(err, out)
			}
			if out, err := nodeSh(ctx, l, "node2", "", "test -e "+dir+"/"+marker); err == nil {
				t.Errorf("node1's %s/%s is visible on node2 %s", dir, marker, out)
			}
			if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
				t.Errorf("node1's %s/%s is visible on the host", dir, marker)
			}
		}
		if _, err := os.Stat(filepath.Join(l.NodeDir("node1"), "tmp", marker)); err != nil {
			t.Errorf("node1's /tmp file is not in its state dir: %v", err)
		}
		out, err := nodeSh(ctx, l, "node2", "", "stat -c '%A %U' /tmp /root /home/"+LoginUser+" && ls /home")
		if want := "drwxrwxrwt root\ndrwx------ root\ndrwxr-x--- " + LoginUser + "\n" + LoginUser + "\n" + PasswordUser; err != nil || out != want {
			t.Errorf("node2's /tmp, /root, /home: %q %v, want %q", out, err, want)
		}
		// sshd still finds the state dir (a test's, under the host's /tmp)
		// and the session starts in the node's own home.
		got, err := output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, l.Nodes[2].IP, "pwd; echo hi > ~/f && ls ~")...))
		if err != nil || got != "/home/"+LoginUser+"\nf" {
			t.Errorf("ssh node3 pwd: %q %v", got, err)
		}
	})

	t.Run("shaped links", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, "tc", "-n", nodeNetns(o.Name, "node1"), "qdisc", "show", "dev", "eth0").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "tbf") || !strings.Contains(string(out), "rate 200Mbit") {
			t.Errorf("node1 eth0 qdisc: %v %s", err, out)
		}
		out, err = exec.CommandContext(ctx, "tc", "-n", brNetns(o.Name), "qdisc", "show", "dev", "bh").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "rate 200Mbit") {
			t.Errorf("the backup host's bridge port: %v %s", err, out)
		}
		const mb = 24
		write := fmt.Sprintf("dd if=/dev/zero of=/mnt/backup/speed bs=1M count=%d conv=fsync 2>/dev/null && rm /mnt/backup/speed", mb)
		speed := func() float64 {
			t0 := time.Now()
			if out, err := nodeSh(ctx, l, "node1", "", write); err != nil {
				t.Fatal(err, out)
			}
			return mb * 8 / time.Since(t0).Seconds() // Mbit/s
		}
		shaped := speed()
		if shaped > 200*1.15 || shaped < 200*0.3 {
			t.Errorf("writing to /mnt/backup over a 200 Mbit/s link: %.0f Mbit/s", shaped)
		}
		if err := l.SetLink(ctx, LinkSpec{}); err != nil {
			t.Fatal(err)
		}
		if out, _ := exec.CommandContext(ctx, "tc", "-n", nodeNetns(o.Name, "node1"), "qdisc", "show", "dev", "eth0").CombinedOutput(); strings.Contains(string(out), "tbf") {
			t.Errorf("unshaped, node1 eth0 still has %s", out)
		}
		unshaped := speed()
		t.Logf("/mnt/backup write throughput from node1: %.0f Mbit/s on a 200 Mbit/s link, %.0f Mbit/s unshaped", shaped, unshaped)
		if unshaped < 1.5*shaped {
			t.Errorf("unshaped %.0f Mbit/s, not faster than shaped %.0f", unshaped, shaped)
		}
		err = l.SetLink(ctx, LinkSpec{Delay: 200 * time.Microsecond})
		if hasNetem() {
			if err != nil {
				t.Errorf("a delay on a kernel with netem: %v", err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "netem") {
			t.Errorf("a delay on a kernel without netem: %v, want an error naming netem", err)
		}
	})

	t.Run("the share comes back with a node's network", func(t *testing.T) {
		if err := l.StopNode(ctx, "node2", true); err != nil {
			t.Fatal(err)
		}
		if err := l.StartNode(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		if out, err := nodeSh(ctx, l, "node2", "", "echo back > /mnt/backup/back && cat /mnt/backup/back && rm /mnt/backup/back"); err != nil || out != "back" {
			t.Errorf("node2's /mnt/backup after StartNode: %q %v", out, err)
		}
	})

	t.Run("down leaves nothing", func(t *testing.T) {
		rec, err := readRecord(l.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		var pids []int
		pids = append(pids, rec.PIDs...)
		for _, n := range l.Nodes {
			pids = append(pids, n.CassandraPID, n.ESPID, n.SharePID)
		}
		if err := Down(ctx, o); err != nil {
			t.Fatal(err)
		}
		downed = true
		for _, pid := range pids {
			if pidAlive(pid) {
				b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				t.Errorf("process %d left: %s", pid, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
			}
		}
		if ns, _ := labNetns(ctx, o.Name); len(ns) != 0 {
			t.Errorf("namespaces left: %v", ns)
		}
		ms, err := mountsOf(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if strings.HasPrefix(m.target, l.StateDir) || m.fstype == shareFSType && strings.Contains(m.target, o.Name) {
				t.Errorf("mount left: %s (%s)", m.target, m.fstype)
			}
		}
		out, _ := exec.Command("pgrep", "-af", l.StateDir).Output()
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("processes naming the state dir left:\n%s", s)
		}
	})
}

// hasNetem reports whether this kernel has the netem qdisc (built in or
// as a module), from its configuration; true when it cannot tell.
func hasNetem() bool {
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return true
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return true
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return true
	}
	return bytes.Contains(b, []byte("\nCONFIG_NET_SCH_NETEM=y")) || bytes.Contains(b, []byte("\nCONFIG_NET_SCH_NETEM=m"))
}
