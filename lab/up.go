package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotsnap/hotsnap/lab/thehive"
)

// markerFile marks a directory as a lab state dir; Down only purges
// directories that carry it.
const markerFile = ".hotsnap-lab"

// sshdWait bounds how long Up waits for every sshd to accept connections.
const sshdWait = 15 * time.Second

// Up builds the lab described by o and returns it once every node's sshd
// accepts TCP connections from the op namespace. If the same lab is already
// up and healthy it is returned unchanged; if a different or broken lab of
// that name exists, it is taken down first. On failure Up removes what it
// made and returns an error naming the step.
func Up(ctx context.Context, o Options) (*Lab, error) {
	if err := RequireRoot(); err != nil {
		return nil, fmt.Errorf("lab up: %w", err)
	}
	o, err := o.normalize(true)
	if err != nil {
		return nil, fmt.Errorf("lab up: %w", err)
	}
	unlock, err := lockLab(ctx, o.Name)
	if err != nil {
		return nil, fmt.Errorf("lab up: %s: %w", o.Name, err)
	}
	defer unlock()

	if l, err := Open(o); err == nil {
		if l.Subnet == o.Subnet && len(l.Nodes) == o.Nodes && l.sameServices(o) && l.healthy(ctx) {
			fmt.Fprintf(o.Log, "lab %s: already up (%d nodes on 10.77.%d.0/24)\n", o.Name, len(l.Nodes), l.Subnet)
			if l.Link() != o.Link {
				if err := l.SetLink(ctx, o.Link); err != nil {
					return nil, fmt.Errorf("lab up: %w", err)
				}
				fmt.Fprintf(o.Log, "lab %s: links now %s\n", o.Name, linkText(o.Link))
			}
			return l, nil
		}
		fmt.Fprintf(o.Log, "lab %s: running with another shape or unhealthy; taking it down first\n", o.Name)
	}
	if ns, _ := labNetns(ctx, o.Name); len(ns) > 0 || isRegistered(o.Name) {
		if err := downLocked(ctx, o); err != nil {
			return nil, fmt.Errorf("lab up: %s: clean previous lab: %w", o.Name, err)
		}
	}

	start := time.Now()
	l, err := up(ctx, o)
	if err != nil {
		// Undo whatever was made, even if ctx was cancelled.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := downLocked(cctx, o); derr != nil {
			err = errors.Join(err, fmt.Errorf("lab up: %s: clean up after failure: %w", o.Name, derr))
		}
		return nil, err
	}
	fmt.Fprintf(o.Log, "lab %s: up in %s (%d nodes, op %s, state %s)\n", o.Name, time.Since(start).Round(time.Millisecond), len(l.Nodes), l.OpIP, l.StateDir)
	return l, nil
}

func isRegistered(name string) bool {
	_, err := os.Stat(filepath.Join(RegistryDir, name))
	return err == nil
}

// healthy reports whether every node's holder and sshd are alive and port
// 22 answers from op.
func (l *Lab) healthy(ctx context.Context) bool {
	rep, err := l.status(ctx)
	return err == nil && rep.Healthy()
}

func up(ctx context.Context, o Options) (*Lab, error) {
	fail := func(step string, err error) error { return fmt.Errorf("lab up: %s: %w", step, err) }
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.Log, "lab %s: "+format+"\n", append([]any{o.Name}, args...)...)
	}
	t0 := time.Now()

	if o.Binary != "" {
		if err := checkPlatformTools(o.Platform); err != nil {
			return nil, fail("platform "+o.Platform, err)
		}
	}
	if err := checkShareTools(); err != nil {
		return nil, fail("backup host", err)
	}

	// 1. Host-wide setup, guarded by the global lock: registry entry, the
	// guard route (before anything else exists), users, sudoers.
	unlockG, err := lockGlobal(ctx)
	if err != nil {
		return nil, fail("lock registry", err)
	}
	others, err := registeredLabs()
	if err != nil {
		unlockG()
		return nil, fail("registry", err)
	}
	othersRunning := false
	for _, n := range others {
		if n == o.Name {
			continue
		}
		othersRunning = true
		// Two labs on one subnet would not share packets (each has its own
		// namespaces) but would share addresses in known_hosts files,
		// inventories and logs: refuse, naming the way out.
		if sub, err := registeredSubnet(n); err == nil && sub == o.Subnet {
			unlockG()
			return nil, fail("subnet", fmt.Errorf("lab %s already uses 10.77.%d.0/24: give this lab another --subnet, or take that one down (hotsnap lab down --name %s)", n, o.Subnet, n))
		}
	}
	if err := register(o.Name, o.StateDir, o.Subnet); err != nil {
		unlockG()
		return nil, fail("registry", err)
	}
	if err := installGuardRoute(ctx); err != nil {
		unlockG()
		return nil, fail("guard route", err)
	}
	logf("guard route: unreachable %s", GuardRoute)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		unlockG()
		return nil, fail("sshd privilege separation dir", err)
	}
	pw, err := ensureUsers(ctx, othersRunning)
	if err == nil {
		err = ensurePlatformUsers(ctx, o.Platform)
	}
	unlockG()
	if err != nil {
		return nil, fail("users", err)
	}
	logf("users %s (sudo without password) and %s (sudo with password) ready", LoginUser, PasswordUser)

	// 2. State directory, keys and config files.
	rec := record{
		Name: o.Name, Subnet: o.Subnet, StateDir: o.StateDir,
		OpNetns: opNetns(o.Name), OpIP: opIP(o.Subnet),
		BrNetns: brNetns(o.Name), Bridge: "br0", Route: "unreachable " + GuardRoute,
		BhNetns: bhNetns(o.Name), BhIP: backupHostIP(o.Subnet), Link: o.Link,
	}
	for i := 1; i <= o.Nodes; i++ {
		rec.Nodes = append(rec.Nodes, NodeInfo{Name: nodeName(i), IP: nodeIP(o.Subnet, i), Netns: nodeNetns(o.Name, nodeName(i))})
	}
	if err := prepareState(ctx, o, rec, pw); err != nil {
		return nil, fail("state dir "+o.StateDir, err)
	}
	rec.Namespaces = append(rec.Namespaces, rec.BrNetns, rec.OpNetns, rec.BhNetns)
	for _, n := range rec.Nodes {
		rec.Namespaces = append(rec.Namespaces, n.Netns)
	}
	rec.Veths = append(rec.Veths, Veth{Bridge: "op", Netns: rec.OpNetns, Peer: "eth0", IP: rec.OpIP},
		Veth{Bridge: "bh", Netns: rec.BhNetns, Peer: "eth0", IP: rec.BhIP})
	for _, n := range rec.Nodes {
		rec.Veths = append(rec.Veths, Veth{Bridge: n.Name, Netns: n.Netns, Peer: "eth0", IP: n.IP})
		for _, m := range nodeMounts(o.StateDir, n.Name, o.Platform) {
			rec.Mounts = append(rec.Mounts, Mount{Node: n.Name, Source: m.Source, Target: m.Target})
		}
	}
	if o.Binary != "" {
		rec.Services = &services{Data: o.Data, Auth: o.Auth, Search: o.Search, Platform: o.Platform, Storage: o.Storage,
			Embedded: o.A4CEmbedded}
		if o.Storage == StorageS3 {
			rec.Services.S3 = o.S3
		}
	}
	if err := writeRecord(rec); err != nil {
		return nil, fail("lab record", err)
	}
	logf("state dir %s ready (%s)", o.StateDir, time.Since(t0).Round(time.Millisecond))

	// Seed data and install the binary while the network and sshd come up.
	prepDone := make(chan error, 1)
	var s3Bin string
	if rec.Services != nil {
		go func() {
			ts := time.Now()
			if err := installBinary(o.StateDir, o.Binary); err != nil {
				prepDone <- fmt.Errorf("lab up: binary: %w", err)
				return
			}
			if rec.Services.S3 != "" {
				bin, err := buildS3(ctx, o, logf)
				if err != nil {
					prepDone <- fmt.Errorf("lab up: s3 server: %w", err)
					return
				}
				s3Bin = bin
			}
			if err := seedAll(ctx, o.StateDir, rec.Nodes, *rec.Services, logf); err != nil {
				prepDone <- fmt.Errorf("lab up: seed: %w", err)
				return
			}
			logf("binary installed and data seeded (%s)", time.Since(ts).Round(time.Millisecond))
			prepDone <- nil
		}()
	} else {
		prepDone <- nil
	}
	// Every early return below must wait for the seeding first, so that
	// the cleanup never races it.
	prepWaited := false
	waitPrep := func() error {
		if prepWaited {
			return nil
		}
		prepWaited = true
		return <-prepDone
	}
	defer waitPrep() //nolint:errcheck // only on early returns; the error is reported below otherwise

	// 3. Network: namespaces, bridge, veth pairs, addresses.
	t1 := time.Now()
	if err := buildNetwork(ctx, rec); err != nil {
		return nil, fail("network", err)
	}
	if !o.Link.IsZero() {
		if err := shapeLinks(ctx, rec, o.Link); err != nil {
			return nil, fail("shape links "+o.Link.String(), err)
		}
	}
	logf("network ready: %d namespaces, bridge br0 in %s, links %s (%s)", len(rec.Namespaces), rec.BrNetns, linkText(o.Link), time.Since(t1).Round(time.Millisecond))

	// 4. Nodes: holder (UTS + mount namespace with the bind mounts), sshd.
	t2 := time.Now()
	l := newLab(rec, o.Log)
	var wg sync.WaitGroup
	errs := make([]error, len(l.Nodes))
	for i := range l.Nodes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := &l.Nodes[i]
			holder, err := startHolder(o.StateDir, n.Name, n.Netns, o.Platform)
			if err != nil {
				errs[i] = fmt.Errorf("lab up: %s: start namespace holder: %w", n.Name, err)
				return
			}
			n.HolderPID = holder
			pid, err := startSSHD(l.NodeDir(n.Name), holder)
			if err != nil {
				errs[i] = fmt.Errorf("lab up: %s: start sshd: %w", n.Name, err)
				return
			}
			n.SSHDPID = pid
		}(i)
	}
	wg.Wait()
	l.mu.Lock()
	for _, n := range l.Nodes {
		if n.HolderPID > 0 {
			l.rec.PIDs = append(l.rec.PIDs, n.HolderPID)
		}
		if n.SSHDPID > 0 {
			l.rec.PIDs = append(l.rec.PIDs, n.SSHDPID)
		}
	}
	serr := l.saveLocked()
	l.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fail("lab record", serr)
	}

	// 5. Wait until every sshd answers on :22, seen from op.
	if err := l.waitSSHD(ctx, l.Nodes); err != nil {
		return nil, fail("wait for sshd", err)
	}
	logf("%d sshd answering on port 22 (%s)", len(l.Nodes), time.Since(t2).Round(time.Millisecond))

	// 5b. The backup host's share, on the operator's machine and at
	// /mnt/backup on every node.
	t4 := time.Now()
	if err := l.startShare(ctx); err != nil {
		return nil, fail("backup host", err)
	}
	logf("backup host %s: /mnt/backup shared over GlusterFS with op and %d nodes (%s)", rec.BhIP, len(l.Nodes), time.Since(t4).Round(time.Millisecond))

	// 6. Stand-ins: Cassandra and Elasticsearch on every node.
	if err := waitPrep(); err != nil {
		return nil, err
	}
	if rec.Services == nil {
		logf("no hotsnap binary given: no Cassandra or Elasticsearch stand-ins")
		return l, nil
	}
	t3 := time.Now()
	all := make([]int, len(l.Nodes))
	for i := range all {
		all[i] = i
	}
	if err := l.startServices(all); err != nil {
		return nil, fail("start stand-ins", err)
	}
	if err := l.waitServices(ctx, l.Nodes); err != nil {
		return nil, fail("wait for stand-ins", err)
	}
	if rec.Services.cassandra() {
		logf("cassandra (9042, 7199) and %s (9200) answering on %d nodes (%s)", rec.Services.Search, len(l.Nodes), time.Since(t3).Round(time.Millisecond))
	} else if !rec.Services.esDaemons() {
		logf("no elasticsearch daemons: alien4cloud holds an embedded one")
	} else {
		logf("%s (9200) answering on %d nodes (%s)", rec.Services.Search, len(l.Nodes), time.Since(t3).Round(time.Millisecond))
	}

	// 7. Platform daemons on node1: the S3 server, PostgreSQL and Redis.
	if err := l.startPlatform(ctx, s3Bin, logf); err != nil {
		return nil, fail("platform "+rec.Services.Platform, err)
	}
	// 8. TheHive on every node (thehive_lab.go), and the snapshot
	// repository registered as the runbook's preparation asks.
	if rec.Services.platform() == PlatformTheHive {
		if err := l.RegisterESRepository(ctx); err != nil {
			return nil, fail("register ES repository", err)
		}
		if err := l.StartTheHive(ctx); err != nil {
			return nil, fail("start thehive", err)
		}
	}
	if rec.Services.platform() == PlatformAlien4Cloud {
		if err := l.StartAlien4Cloud(ctx); err != nil {
			return nil, fail("start alien4cloud", err)
		}
	}
	return l, nil
}

// waitSSHD waits for the given nodes' sshd to accept connections from op.
func (l *Lab) waitSSHD(ctx context.Context, nodes []NodeInfo) error {
	byAddr := map[string]NodeInfo{}
	var addrs []string
	for _, n := range nodes {
		a := n.IP + ":22"
		byAddr[a] = n
		addrs = append(addrs, a)
	}
	return waitTCP(ctx, l.rec.OpNetns, addrs, sshdWait, func(addr string) error {
		n := byAddr[addr]
		if !pidAlive(n.SSHDPID) {
			return fmt.Errorf("%s: sshd (pid %d) exited: %s", n.Name, n.SSHDPID, logTail(filepath.Join(l.NodeDir(n.Name), "sshd.log"), 5))
		}
		return nil
	})
}

// logTail returns the last n lines of a log file, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// nodeMounts lists a node's bind mounts, source on the host and target
// inside the node.
func nodeMounts(stateDir, node, platform string) []Mount {
	nodeDir := filepath.Join(stateDir, "nodes", node)
	ms := platformOverlays(stateDir, node, platform)
	for _, pm := range privateMounts {
		ms = append(ms, Mount{Node: node, Source: filepath.Join(nodeDir, pm.dir), Target: pm.target})
	}
	for _, pm := range platformMounts[platform] {
		ms = append(ms, Mount{Node: node, Source: filepath.Join(nodeDir, pm.dir), Target: pm.target})
	}
	ms = append(ms,
		Mount{Node: node, Source: filepath.Join(stateDir, "bin"), Target: binTarget},
		Mount{Node: node, Source: filepath.Join(nodeDir, "hosts"), Target: hostsTarget},
	)
	for _, h := range privateHomes {
		ms = append(ms, Mount{Node: node, Source: filepath.Join(nodeDir, h.dir), Target: h.target})
	}
	return ms
}

// prepareState creates the state dir, keys, configs and the host mount
// points.
func prepareState(ctx context.Context, o Options, rec record, pw string) error {
	dir := o.StateDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	// sshd reads authorized_keys as the login user: every ancestor must be
	// searchable by others.
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s (mode %04o) is not searchable by user %s, who must read %s/authorized_keys: choose another state dir or chmod o+x it", p, st.Mode().Perm(), LoginUser, dir)
		}
		if p == "/" {
			break
		}
	}
	if err := os.WriteFile(filepath.Join(dir, markerFile), []byte("hotsnap lab "+o.Name+"\n"), 0o644); err != nil {
		return err
	}
	for _, d := range []string{"bin", "backups", filepath.Join("shared", "backup")} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := prepareShare(dir, o.Subnet); err != nil {
		return err
	}
	// Client key, authorized by both login users.
	key := filepath.Join(dir, "id_ed25519")
	if err := ensureKey(ctx, key, "hotsnap-lab-"+o.Name); err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "authorized_keys"), pub, 0o644); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "sudo-password"), []byte(pw+"\n"), 0o600); err != nil {
		return err
	}
	// Per-node directories, host key and configs.
	for _, n := range rec.Nodes {
		nd := filepath.Join(dir, "nodes", n.Name)
		if err := os.MkdirAll(nd, 0o755); err != nil {
			return err
		}
		for _, pm := range privateMounts {
			if err := mkdirOwned(filepath.Join(nd, pm.dir), pm.owner); err != nil {
				return fmt.Errorf("%s: %w", n.Name, err)
			}
		}
		if err := prepareHomes(nd); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		// A node comes up with no unit running: the state an earlier lab
		// left names processes of PID namespaces that are gone.
		if err := thehive.ForgetRuns(theHiveServiceDir(dir, n.Name)); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if err := prepareNodePlatform(ctx, nd, o.Platform); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if err := ensureKey(ctx, filepath.Join(nd, "ssh_host_ed25519_key"), "hotsnap-lab-"+o.Name+"-"+n.Name); err != nil {
			return fmt.Errorf("%s: host key: %w", n.Name, err)
		}
		if err := writeFileAtomic(filepath.Join(nd, "sshd_config"), []byte(sshdConfig(dir, nd, n.IP)), 0o644); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if err := writeFileAtomic(filepath.Join(nd, "hosts"), []byte(hostsFile(o.Subnet, o.Nodes)), 0o644); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
	}
	if err := writeKnownHosts(dir, rec.Nodes); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	if o.Auth {
		if err := ensureSecrets(dir); err != nil {
			return err
		}
	}
	if o.Storage == StorageS3 {
		if err := ensureSecretFiles(dir, SecretS3AccessKey, SecretS3SecretKey); err != nil {
			return err
		}
	}
	if o.Platform == PlatformAlien4Cloud {
		if err := ensureSecretFiles(dir, SecretA4CAdmin); err != nil {
			return err
		}
	}
	if err := preparePlatformState(o, rec); err != nil {
		return err
	}
	inv := renderInventory(invSpec{Name: o.Name, StateDir: dir, Subnet: o.Subnet, Nodes: o.Nodes, Auth: o.Auth,
		Platform: o.Platform, Storage: o.Storage})
	if err := writeFileAtomic(filepath.Join(dir, "inventory.yaml"), []byte(inv), 0o644); err != nil {
		return err
	}
	// Mount points on the host, only where absent.
	for _, m := range append(nodeMounts(dir, "x", o.Platform), Mount{Target: sharedBackupTarget}) {
		if m.Target == hostsTarget {
			continue
		}
		if _, err := os.Stat(m.Target); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(m.Target, 0o755); err != nil {
				return fmt.Errorf("mount point: %w", err)
			}
		}
	}
	return nil
}

// prepareHomes creates a node's own /tmp, /root and /home, the latter with
// a home for each login user (sshd starts their sessions there).
func prepareHomes(nodeDir string) error {
	for _, h := range privateHomes {
		dir := filepath.Join(nodeDir, h.dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(dir, h.mode); err != nil {
			return err
		}
	}
	for _, u := range []string{LoginUser, PasswordUser} {
		home := filepath.Join(nodeDir, "home", u)
		if err := mkdirOwned(home, u); err != nil {
			return err
		}
		if err := os.Chmod(home, 0o750); err != nil {
			return err
		}
	}
	return nil
}

// mkdirOwned creates dir (0755) and, when it is new and owner is set,
// gives it to owner:owner as on a real node.
func mkdirOwned(dir, owner string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if owner == "" {
		return nil
	}
	u, err := user.Lookup(owner)
	if err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	return nil
}

// ensureKey generates an ed25519 key pair at path with ssh-keygen unless
// both halves exist.
func ensureKey(ctx context.Context, path, comment string) error {
	_, e1 := os.Stat(path)
	_, e2 := os.Stat(path + ".pub")
	if e1 == nil && e2 == nil {
		return os.Chmod(path, 0o600)
	}
	os.Remove(path)
	os.Remove(path + ".pub")
	if _, err := run(ctx, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path); err != nil {
		return err
	}
	return nil
}

// buildNetwork creates the namespaces, the bridge and one veth pair per
// endpoint (op and each node), created directly inside the namespaces so
// no interface or address ever appears in the root namespace.
func buildNetwork(ctx context.Context, rec record) error {
	var add strings.Builder
	for _, ns := range rec.Namespaces {
		fmt.Fprintf(&add, "netns add %s\n", ns)
	}
	if _, err := run(ctx, add.String(), "ip", "-batch", "-"); err != nil {
		return fmt.Errorf("create namespaces: %w", err)
	}
	var br strings.Builder
	br.WriteString("link set lo up\nlink add br0 type bridge\nlink set br0 up\n")
	for _, v := range rec.Veths {
		fmt.Fprintf(&br, "link add %s type veth peer name %s netns %s\n", v.Bridge, v.Peer, v.Netns)
		fmt.Fprintf(&br, "link set %s master br0\nlink set %s up\n", v.Bridge, v.Bridge)
	}
	if _, err := run(ctx, br.String(), "ip", "-n", rec.BrNetns, "-batch", "-"); err != nil {
		return fmt.Errorf("%s: bridge and veths: %w", rec.BrNetns, err)
	}
	for _, v := range rec.Veths {
		script := fmt.Sprintf("link set lo up\naddr add %s/24 dev %s\nlink set %s up\n", v.IP, v.Peer, v.Peer)
		if _, err := run(ctx, script, "ip", "-n", v.Netns, "-batch", "-"); err != nil {
			return fmt.Errorf("%s: address %s: %w", v.Netns, v.IP, err)
		}
	}
	return nil
}

// holderScript sets a node up, run by the node's init (nodeinit.go) in the
// node's new namespaces: the mounts made private to the node, the
// hostname, then the mounts given as source/target pairs (a source
// "overlay:OPTIONS" is an overlay mount, any other a bind mount), then the
// network namespace's /sys and the PID namespace's /proc. A bind target
// that holds the state dir (a state dir under /tmp, say) gets the state dir
// bound at the same path inside its new content first, so that every path
// of the state dir (sshd_config, authorized_keys, the stand-ins' state)
// stays valid in the node.
const holderScript = `set -e
mount --make-rprivate /
hostname "$1"; state=$2; shift 2
while [ "$#" -gt 1 ]; do
	case "$1" in
	overlay:*) mount -t overlay overlay -o "${1#overlay:}" "$2" ;;
	*)
		case $state in
		"$2"/*)
			rel=${state#"$2"/}
			mkdir -p "$1/$rel"
			mount --bind "$state" "$1/$rel"
			mount --rbind "$1" "$2" ;;
		*) mount --bind "$1" "$2" ;;
		esac ;;
	esac
	shift 2
done
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t proc -o nosuid,nodev,noexec proc /proc`

// startHolder starts the node's init (nodeinit.go) in new PID, mount and
// UTS namespaces inside the node's network namespace, and returns its PID
// (the host's) once the hostname, the mounts and the node's /proc are in
// place. The init holds the node's namespaces: NodeCommand enters them
// through it.
func startHolder(stateDir, node, netns, platform string) (int, error) {
	args := []string{node, stateDir}
	for _, m := range nodeMounts(stateDir, node, platform) {
		args = append(args, m.Source, m.Target)
	}
	setup, err := json.Marshal(args)
	if err != nil {
		return 0, err
	}
	var stderr bytes.Buffer
	// Not CommandContext: the init must outlive this call and process.
	cmd := &exec.Cmd{
		Path: "/proc/self/exe", Args: []string{nodeInitArgv0},
		Env: []string{nodeInitEnv + "=1", nodePath}, Dir: "/",
		Stdin: bytes.NewReader(setup), Stderr: &stderr,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true,
			Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS},
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	// Started from a thread in the node's network namespace, the init is
	// born in it.
	if err := inNetns(netns, cmd.Start); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	type result struct {
		line string
		err  error
	}
	rc := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		rc <- result{line, err}
	}()
	var r result
	select {
	case r = <-rc:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		r = <-rc
		r.err = errors.New("timed out waiting for the node's init to report ready")
	}
	if strings.TrimSpace(r.line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		msg := strings.TrimSpace(stderr.String())
		if r.err == nil {
			r.err = fmt.Errorf("unexpected output %q", r.line)
		}
		return 0, fmt.Errorf("%w: %s", r.err, msg)
	}
	go cmd.Wait() // reap it whenever it ends
	return pid, nil
}

// startSSHD starts sshd in the holder's namespaces, logging to
// NODEDIR/sshd.log, and returns its (host) PID.
func startSSHD(nodeDir string, holder int) (int, error) {
	logPath := filepath.Join(nodeDir, "sshd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- hotsnap lab: starting sshd at %s\n", time.Now().Format(time.RFC3339))
	cmd := exec.Command("nsenter", enterArgs(holder, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(nodeDir, "sshd_config"))...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pid, err := startEntered(cmd)
	if err != nil {
		// sshd refusing its configuration exits at once, often before its
		// PID is seen: its complaint is in its log.
		return 0, fmt.Errorf("%w (sshd's log %s: %s)", err, logPath, logTail(logPath, 5))
	}
	return pid, nil
}
