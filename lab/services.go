package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/elastic"
)

const (
	// DefaultData is the Cassandra data each node holds when Options.Data
	// is zero (200 MB).
	DefaultData int64 = 200 * 1000 * 1000
	// SearchElasticsearch makes the search stand-in answer as Elasticsearch.
	SearchElasticsearch = "elasticsearch"
	// SearchOpenSearch makes the search stand-in answer as OpenSearch.
	SearchOpenSearch = "opensearch"
	// SearchES6 makes the search stand-in answer as Elasticsearch 6.8
	// (what PlatformAlien4Cloud runs with SearchElasticsearch too).
	SearchES6 = "es6"

	// Keyspace is the seeded Cassandra keyspace.
	Keyspace = "thehive"
	// ESIndex and ESAuditIndex are the seeded Elasticsearch indices.
	ESIndex      = "thehive_global"
	ESAuditIndex = "thehive-audits"

	// CassandraAdminUser and CassandraAppUser are the Cassandra login roles
	// created when Options.Auth is set; ESUser is the Elasticsearch user.
	CassandraAdminUser = "admin"
	CassandraAppUser   = "thehive"
	ESUser             = "elastic"

	// SecretCassandraAdmin, SecretCassandraApp and SecretES name the
	// password files under STATE/secrets/ (see Lab.SecretPath).
	SecretCassandraAdmin = "cassandra-admin"
	SecretCassandraApp   = "cassandra-thehive"
	SecretES             = "elasticsearch"

	// serviceWait bounds how long Up and StartNode wait for the stand-ins.
	serviceWait = 20 * time.Second
	// seedValue makes the Cassandra seed deterministic across nodes.
	seedValue = 1
)

// StandIns are the command names that STATE/bin links to the hotsnap binary.
var StandIns = []string{"nodetool", "cqlsh", "sstableloader", "cassandra-standin", "es-standin",
	"thehive-standin", "systemctl", "journalctl", "a4c-standin"}

// services is the stand-in configuration recorded in lab.json, so that
// StartNode can restart a daemon exactly as Up started it.
type services struct {
	Data     int64  `json:"data_bytes"`
	Auth     bool   `json:"auth"`
	Search   string `json:"search"`
	Platform string `json:"platform,omitempty"`
	Storage  string `json:"storage,omitempty"`
	S3       string `json:"s3,omitempty"`
	// Embedded is Options.A4CEmbedded.
	Embedded bool `json:"a4c_embedded,omitempty"`
}

// platform returns the recorded platform (records written before
// platforms existed are TheHive's).
func (s *services) platform() string {
	if s == nil || s.Platform == "" {
		return PlatformTheHive
	}
	return s.Platform
}

// cassandra reports whether the platform runs Cassandra stand-ins.
func (s *services) cassandra() bool { return s.platform() == PlatformTheHive }

// esDaemons reports whether every node runs an Elasticsearch stand-in
// (not when Alien4Cloud embeds it).
func (s *services) esDaemons() bool { return s == nil || !s.Embedded }

// esFlavour is the ES stand-in's --flavour.
func (s *services) esFlavour() elastic.Flavour {
	switch {
	case s.Search == SearchOpenSearch:
		return elastic.FlavourOpenSearch
	case s.Search == SearchES6 || s.platform() == PlatformAlien4Cloud:
		return elastic.FlavourElasticsearch6
	}
	return elastic.FlavourElasticsearch
}

// Service names, used for log files (STATE/nodes/NODE/<service>.log).
const (
	svcCassandra = "cassandra"
	svcES        = "elasticsearch"
)

// The users the stand-in daemons run as, as the real packages run them.
const (
	cassandraUser = "cassandra"
	esUser        = "elasticsearch"
)

// serviceUser is the user a stand-in daemon runs as.
var serviceUser = map[string]string{svcCassandra: cassandraUser, svcES: esUser}

// ParseSize parses a size such as 200MB, 2GB, 512KiB or 1048576 (bytes).
// SI units (kB, MB, GB) are powers of 1000, IEC units (KiB, MiB, GiB)
// powers of 1024.
func ParseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse size %q: %w", s, err)
	}
	if n > 1<<50 {
		return 0, fmt.Errorf("parse size %q: too large", s)
	}
	return int64(n), nil
}

// SecretPath returns the path of a password file under STATE/secrets/
// (SecretCassandraAdmin, SecretCassandraApp or SecretES).
func (l *Lab) SecretPath(name string) string { return secretPath(l.StateDir, name) }

func secretPath(stateDir, name string) string { return filepath.Join(stateDir, "secrets", name) }

// Secret reads a password written by Up with Options.Auth.
func (l *Lab) Secret(name string) (string, error) {
	b, err := os.ReadFile(l.SecretPath(name))
	if err != nil {
		return "", fmt.Errorf("lab %s: read secret %s: %w", l.Name, name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// ensureSecrets creates the password files (0600) unless they exist, so a
// lab brought up again over the same state keeps its passwords.
func ensureSecrets(stateDir string) error {
	return ensureSecretFiles(stateDir, SecretCassandraAdmin, SecretCassandraApp, SecretES)
}

// ensureSecretFiles creates the named password files (0600) under
// STATE/secrets/ unless they exist.
func ensureSecretFiles(stateDir string, names ...string) error {
	dir := filepath.Join(stateDir, "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	for _, name := range names {
		p := secretPath(stateDir, name)
		if _, err := os.Stat(p); err == nil {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("secret %s: %w", name, err)
			}
			continue
		}
		pw, err := newPassword()
		if err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
		if err := writeFileAtomic(p, []byte(pw+"\n"), 0o600); err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
	}
	return nil
}

// installBinary copies the hotsnap binary to STATE/bin/hotsnap (through a
// rename, so a copy in use is never overwritten in place) and links the
// stand-ins' names to it.
func installBinary(stateDir, src string) error {
	binDir := filepath.Join(stateDir, "bin")
	if err := copyIntoBin(binDir, src, "hotsnap"); err != nil {
		return err
	}
	for _, name := range StandIns {
		link := filepath.Join(binDir, name)
		if t, err := os.Readlink(link); err == nil && t == "hotsnap" {
			continue
		}
		if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("link %s: %w", link, err)
		}
		if err := os.Symlink("hotsnap", link); err != nil {
			return fmt.Errorf("link %s: %w", link, err)
		}
	}
	return nil
}

// copyIntoBin copies the executable src to binDir/name (every node's
// /usr/local/bin/name) through a rename, so that a copy in use is never
// overwritten in place; nothing is copied when dst is src.
func copyIntoBin(binDir, src, name string) error {
	dst := filepath.Join(binDir, name)
	sst, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("install %s: %w", src, err)
	}
	if !sst.Mode().IsRegular() {
		return fmt.Errorf("install %s: not a regular file", src)
	}
	if dstat, err := os.Stat(dst); err != nil || !os.SameFile(sst, dstat) {
		in, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("install %s: %w", src, err)
		}
		defer in.Close()
		tmp, err := os.CreateTemp(binDir, ".hotsnap.*")
		if err != nil {
			return fmt.Errorf("install %s: %w", dst, err)
		}
		defer os.Remove(tmp.Name())
		if _, err := io.Copy(tmp, in); err != nil {
			tmp.Close()
			return fmt.Errorf("install %s: %w", dst, err)
		}
		if err := tmp.Chmod(0o755); err != nil {
			tmp.Close()
			return fmt.Errorf("install %s: %w", dst, err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("install %s: %w", dst, err)
		}
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return fmt.Errorf("install %s: %w", dst, err)
		}
	}
	return nil
}

// esStateDir is the ES stand-in's shared cluster state (a host path every
// node sees, since it is not under one of the nodes' private mounts).
func esStateDir(stateDir string) string { return filepath.Join(stateDir, "shared", "es-state") }

// seedAll seeds, once, every node's Cassandra store, the ES indices and
// node1's attachments. Data already there is kept (a lab brought up again
// over the same state keeps its data).
func seedAll(ctx context.Context, stateDir string, nodes []NodeInfo, s services, logf func(string, ...any)) error {
	switch s.platform() {
	case PlatformEclecticIQ:
		// PostgreSQL, Redis and the indices built from PostgreSQL are seeded
		// once they run (startEclecticIQ); the files before the nodes start
		// (preparePlatformState).
		return seedOther(stateDir, nodes, s, func() error { return nil })
	case PlatformAlien4Cloud:
		return seedOther(stateDir, nodes, s, func() error { return seedAlien4Cloud(ctx, stateDir, nodes, s, logf) })
	}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes)+2)
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			root := filepath.Join(stateDir, "nodes", n.Name, "cassandra")
			seeded, err := seedCassandra(filepath.Join(root, "data"), len(nodes), s.Data)
			if err != nil {
				errs[i] = fmt.Errorf("%s: seed cassandra: %w", n.Name, err)
				return
			}
			if err := chownTree(root, "cassandra"); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name, err)
				return
			}
			if seeded {
				logf("%s: seeded keyspace %s (%s, RF %d)", n.Name, Keyspace, humanize.Bytes(uint64(s.Data)), len(nodes))
			} else if i == 0 {
				logf("kept the keyspace %s an earlier lab up seeded in %s (its size stays; --data %s applies to a fresh state: lab down --purge first)",
					Keyspace, stateDir, humanize.Bytes(uint64(s.Data)))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(nodes)] = seedES(stateDir, s.Data)
	}()
	if s.Storage != StorageS3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(stateDir, "nodes", nodes[0].Name, "thehive-files")
			if err := seedAttachments(dir, s.Data/10); err != nil {
				errs[len(nodes)+1] = fmt.Errorf("%s: attachments: %w", nodes[0].Name, err)
			}
		}()
	}
	wg.Wait()
	errs = append(errs, chownTree(esStateDir(stateDir), esUser))
	return errors.Join(errs...)
}

// seedOther runs a platform's seeding and gives the ES state (made when
// nothing seeded it yet) to the user the ES stand-ins run as; an
// Elasticsearch embedded in Alien4Cloud keeps no state of its own here.
func seedOther(stateDir string, nodes []NodeInfo, s services, seed func() error) error {
	if len(nodes) == 0 {
		return errors.New("no nodes")
	}
	if err := seed(); err != nil {
		return err
	}
	if !s.esDaemons() {
		return nil
	}
	if err := os.MkdirAll(esStateDir(stateDir), 0o755); err != nil {
		return err
	}
	return chownTree(esStateDir(stateDir), esUser)
}

// seedCassandra seeds keyspace thehive into the store at dataDir unless
// it exists; it reports whether it seeded.
func seedCassandra(dataDir string, rf int, bytes int64) (bool, error) {
	st, err := cassandra.OpenStore(dataDir)
	if err != nil {
		return false, err
	}
	kss, err := st.Keyspaces()
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(kss, func(k *cassandra.Keyspace) bool { return k.Name == Keyspace }) {
		return false, nil
	}
	if err := cassandra.Seed(st, Keyspace, rf, bytes, seedValue); err != nil {
		return false, err
	}
	return true, nil
}

// seedES creates the two indices in the shared ES state unless present.
func seedES(stateDir string, data int64) error {
	c, err := elastic.NewCluster(esStateDir(stateDir), elastic.Options{})
	if err != nil {
		return fmt.Errorf("seed elasticsearch: %w", err)
	}
	for _, ix := range []struct {
		name  string
		bytes int64
		per   int64
	}{{ESIndex, data / 4, 2048}, {ESAuditIndex, data / 50, 512}} {
		if _, ok, err := c.Index(ix.name); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		} else if ok {
			continue
		}
		docs := ix.bytes/ix.per + 1
		if err := c.Seed(ix.name, docs, ix.bytes); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		}
	}
	return nil
}

// chownTree gives root and everything under it to owner:owner (symlinks
// themselves, not their targets).
func chownTree(root, owner string) error {
	u, err := user.Lookup(owner)
	if err != nil {
		return fmt.Errorf("chown %s: %w", root, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("chown %s to %s: %w", root, owner, err)
	}
	return nil
}

// peersOf returns the IPs of every node but n.
func peersOf(nodes []NodeInfo, n NodeInfo) []string {
	var ps []string
	for _, p := range nodes {
		if p.Name != n.Name {
			ps = append(ps, p.IP)
		}
	}
	return ps
}

// serviceArgs returns the program (inside the node), arguments and extra
// environment (KEY=VALUE) of a node's stand-in daemon. Passwords go in the
// environment, never in the arguments: a node's process list shows no
// secret, as with the real daemons.
func (l *Lab) serviceArgs(n NodeInfo, svc string) (string, []string, []string, error) {
	s := l.rec.Services
	if s == nil {
		return "", nil, nil, fmt.Errorf("lab %s was brought up without stand-ins", l.Name)
	}
	switch svc {
	case svcCassandra:
		args := []string{"--data", "/var/lib/cassandra/data", "--listen", n.IP,
			"--peers", strings.Join(peersOf(l.Nodes, n), ","), "--dc", "datacenter1", "--rack", "rack1"}
		var env []string
		if s.Auth {
			admin, err := l.Secret(SecretCassandraAdmin)
			if err != nil {
				return "", nil, nil, err
			}
			app, err := l.Secret(SecretCassandraApp)
			if err != nil {
				return "", nil, nil, err
			}
			args = append(args, "--auth")
			env = append(env, cassandra.UsersEnv+"="+CassandraAdminUser+":"+admin+","+CassandraAppUser+":"+app)
		}
		return filepath.Join(binTarget, "cassandra-standin"), args, env, nil
	case svcES:
		args := []string{"--state", esStateDir(l.StateDir), "--listen", "127.0.0.1:9200," + n.IP + ":9200",
			"--node", n.Name, "--path-repo", sharedBackupTarget}
		if f := s.esFlavour(); f != elastic.FlavourElasticsearch {
			args = append(args, "--flavour", string(f))
		}
		switch p := s.platform(); p {
		case PlatformTheHive:
		case PlatformAlien4Cloud:
			args = append(args, "--cluster-name", Alien4CloudESCluster)
		default:
			args = append(args, "--cluster-name", p)
		}
		var env []string
		if s.Auth {
			pw, err := l.Secret(SecretES)
			if err != nil {
				return "", nil, nil, err
			}
			env = append(env, elastic.AuthEnv+"="+ESUser+":"+pw)
		}
		return filepath.Join(binTarget, "es-standin"), args, env, nil
	}
	return "", nil, nil, fmt.Errorf("unknown service %q", svc)
}

// startService starts one stand-in daemon on node, detached (own session),
// logging to NODEDIR/<svc>.log, and returns its (host) PID. The caller
// records it.
func (l *Lab) startService(n NodeInfo, svc string) (int, error) {
	prog, args, env, err := l.serviceArgs(n, svc)
	if err != nil {
		return 0, fmt.Errorf("%s: start %s: %w", n.Name, svc, err)
	}
	logPath := filepath.Join(l.NodeDir(n.Name), svc+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("%s: start %s: %w", n.Name, svc, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- hotsnap lab: starting %s at %s\n", svc, time.Now().Format(time.RFC3339))
	// Not bound to a context: the daemon outlives this call. setpriv
	// execs, so the PID stays the daemon's.
	argv := asUser(serviceUser[svc], append([]string{prog}, args...)...)
	cmd := l.NodeCommand(context.Background(), n.Name, argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pid, err := startEntered(cmd)
	if err != nil {
		return 0, fmt.Errorf("%s: start %s: %w", n.Name, svc, err)
	}
	return pid, nil
}

// startServices starts the missing daemons of the given nodes (by index
// into l.Nodes), records their PIDs and saves lab.json.
func (l *Lab) startServices(idx []int) error {
	var errs []error
	l.mu.Lock()
	nodes := append([]NodeInfo(nil), l.Nodes...)
	l.mu.Unlock()
	for _, i := range idx {
		n := &nodes[i]
		if l.rec.Services.cassandra() && !serviceAlive(n.CassandraPID, n.Netns) {
			pid, err := l.startService(*n, svcCassandra)
			errs = append(errs, err)
			n.CassandraPID = pid
		}
		if l.rec.Services.esDaemons() && !serviceAlive(n.ESPID, n.Netns) {
			pid, err := l.startService(*n, svcES)
			errs = append(errs, err)
			n.ESPID = pid
		}
	}
	l.mu.Lock()
	for _, i := range idx {
		l.Nodes[i].CassandraPID, l.Nodes[i].ESPID = nodes[i].CassandraPID, nodes[i].ESPID
		for _, p := range []int{nodes[i].CassandraPID, nodes[i].ESPID} {
			if p > 0 && !slices.Contains(l.rec.PIDs, p) {
				l.rec.PIDs = append(l.rec.PIDs, p)
			}
		}
	}
	errs = append(errs, l.saveLocked())
	l.mu.Unlock()
	return errors.Join(errs...)
}

// serviceAlive reports whether pid is alive and runs in network namespace ns.
func serviceAlive(pid int, ns string) bool {
	if !pidAlive(pid) {
		return false
	}
	same, err := sameNetns(pid, ns)
	return err == nil && same
}

// waitServices waits until the given nodes' stand-ins answer: CQL 9042 and
// HTTP 9200 on the node IP from op, and the control (JMX) port 7199 and
// 9200 on 127.0.0.1 inside the node.
func (l *Lab) waitServices(ctx context.Context, nodes []NodeInfo) error {
	type target struct {
		n   NodeInfo
		svc string
	}
	byAddr := map[string]target{}
	var addrs []string
	cass := l.rec.Services.cassandra()
	if !cass && !l.rec.Services.esDaemons() {
		return nil // Alien4Cloud starts its embedded Elasticsearch itself
	}
	ports := []struct {
		port string
		svc  string
	}{{"9200", svcES}}
	if cass {
		ports = append(ports, struct {
			port string
			svc  string
		}{"9042", svcCassandra})
	}
	for _, n := range nodes {
		for _, t := range ports {
			a := n.IP + ":" + t.port
			byAddr[a] = target{n, t.svc}
			addrs = append(addrs, a)
		}
	}
	dead := func(t target) error {
		pid := t.n.CassandraPID
		if t.svc == svcES {
			pid = t.n.ESPID
		}
		if !pidAlive(pid) {
			return fmt.Errorf("%s: %s (pid %d) exited: %s", t.n.Name, t.svc, pid, logTail(filepath.Join(l.NodeDir(t.n.Name), t.svc+".log"), 5))
		}
		return nil
	}
	if err := waitTCP(ctx, l.rec.OpNetns, addrs, serviceWait, func(a string) error { return dead(byAddr[a]) }); err != nil {
		return err
	}
	for _, n := range nodes {
		local := map[string]target{"127.0.0.1:7199": {n, svcCassandra}, "127.0.0.1:9200": {n, svcES}}
		la := []string{"127.0.0.1:9200"}
		if cass {
			la = append(la, "127.0.0.1:7199")
		}
		if err := waitTCP(ctx, n.Netns, la, serviceWait, func(a string) error { return dead(local[a]) }); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
	}
	return nil
}

// nodeIndex returns the index of node in l.Nodes.
func (l *Lab) nodeIndex(node string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, n := range l.Nodes {
		if n.Name == node {
			return i, nil
		}
	}
	return -1, fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
}

// setLink brings a node's bridge-side veth up or down.
func (l *Lab) setLink(ctx context.Context, node string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	if _, err := run(ctx, "", "ip", "-n", l.rec.BrNetns, "link", "set", node, state); err != nil {
		return fmt.Errorf("set %s's link %s: %w", node, state, err)
	}
	return nil
}

// StopNode stops node's Cassandra stand-in, so that its peers show it DN
// and nodetool on it fails as with a dead JMX port. With network it also
// takes the node off the lab network (its bridge port goes down) and stops
// its Elasticsearch stand-in, which then drops out of the ES cluster.
func (l *Lab) StopNode(ctx context.Context, node string, network bool) error {
	fail := func(err error) error { return fmt.Errorf("lab %s: stop %s: %w", l.Name, node, err) }
	unlock, err := lockLab(ctx, l.Name)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	i, err := l.nodeIndex(node)
	if err != nil {
		return err
	}
	l.mu.Lock()
	n := l.Nodes[i]
	l.mu.Unlock()
	var kill []int
	if serviceAlive(n.CassandraPID, n.Netns) {
		kill = append(kill, n.CassandraPID)
	}
	if network && serviceAlive(n.ESPID, n.Netns) {
		kill = append(kill, n.ESPID)
	}
	if len(kill) > 0 {
		if err := killPIDs(kill, killGrace); err != nil {
			return fail(err)
		}
	}
	if network {
		if err := l.setLink(ctx, node, false); err != nil {
			return fail(err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Nodes[i].CassandraPID = 0
	if network {
		l.Nodes[i].ESPID = 0
		l.Nodes[i].NetworkDown = true
	}
	if err := l.saveLocked(); err != nil {
		return fail(err)
	}
	if network {
		l.logf("lab %s: %s: cassandra and elasticsearch stopped, network down", l.Name, node)
	} else {
		l.logf("lab %s: %s: cassandra stopped", l.Name, node)
	}
	return nil
}

// StartNode reverses StopNode: it brings the node's network back, starts
// whichever stand-in is not running, and sshd if it died (killed by a
// test, as a node that lost its ssh.service), and waits until they and
// sshd answer.
func (l *Lab) StartNode(ctx context.Context, node string) error {
	fail := func(err error) error { return fmt.Errorf("lab %s: start %s: %w", l.Name, node, err) }
	unlock, err := lockLab(ctx, l.Name)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	i, err := l.nodeIndex(node)
	if err != nil {
		return err
	}
	if err := l.setLink(ctx, node, true); err != nil {
		return fail(err)
	}
	// An sshd that died (killed, crashed) is started again, as systemd
	// would restart ssh.service on a real node.
	l.mu.Lock()
	n := l.Nodes[i]
	l.mu.Unlock()
	sshdPID := n.SSHDPID
	if !serviceAlive(n.SSHDPID, n.Netns) {
		if err := checkHolder(n); err != nil {
			return fail(err)
		}
		if sshdPID, err = startSSHD(l.NodeDir(node), n.HolderPID); err != nil {
			return fail(fmt.Errorf("start sshd: %w", err))
		}
		l.logf("lab %s: %s: sshd was not running: started it again", l.Name, node)
	}
	l.mu.Lock()
	l.Nodes[i].NetworkDown = false
	l.Nodes[i].SSHDPID = sshdPID
	if !slices.Contains(l.rec.PIDs, sshdPID) {
		l.rec.PIDs = append(l.rec.PIDs, sshdPID)
	}
	serr := l.saveLocked()
	hasServices := l.rec.Services != nil
	l.mu.Unlock()
	if serr != nil {
		return fail(serr)
	}
	if hasServices {
		if err := l.startServices([]int{i}); err != nil {
			return fail(err)
		}
	}
	l.mu.Lock()
	n = l.Nodes[i]
	l.mu.Unlock()
	if err := l.waitSSHD(ctx, []NodeInfo{n}); err != nil {
		return fail(err)
	}
	// Back on the network, the node's share client reconnects to the
	// backup host by itself; wait until /mnt/backup answers again.
	if n.SharePID > 0 {
		if err := waitShare(ctx, n.HolderPID, n.SharePID, sharedBackupTarget, filepath.Join(l.NodeDir(n.Name), "backup-mount.log")); err != nil {
			return fail(fmt.Errorf("%s: %w", sharedBackupTarget, err))
		}
	}
	if hasServices {
		if err := l.waitServices(ctx, []NodeInfo{n}); err != nil {
			return fail(err)
		}
	}
	l.logf("lab %s: %s started", l.Name, node)
	return nil
}

// dirSize sums the sizes of the regular files under root, counting hard
// links (snapshots) once.
func dirSize(root string) int64 {
	type key struct{ dev, ino uint64 }
	seen := map[key]bool{}
	var total int64
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			k := key{uint64(st.Dev), st.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		total += info.Size()
		return nil
	})
	return total
}

// sameServices reports whether the running lab has the stand-ins that o
// asks for (none without a binary; else the same data size, auth and
// search engine).
func (l *Lab) sameServices(o Options) bool {
	s := l.rec.Services
	if o.Binary == "" || s == nil {
		return (o.Binary == "") == (s == nil)
	}
	s3kind := ""
	if o.Storage == StorageS3 {
		s3kind = o.S3
	}
	storage := s.Storage
	if storage == "" {
		storage = StorageLocalFS
	}
	return s.Data == o.Data && s.Auth == o.Auth && s.Search == o.Search &&
		s.platform() == o.Platform && storage == o.Storage && s.S3 == s3kind && s.Embedded == o.A4CEmbedded
}
