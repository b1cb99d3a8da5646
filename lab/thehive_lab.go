package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/lab/thehive"
)

const (
	// TheHivePort is the port TheHive listens on, on 127.0.0.1 and on the
	// node's IP.
	TheHivePort = 9000
	// TheHiveUnit is the systemd unit name of TheHive on every node.
	TheHiveUnit = "thehive"
	// TheHiveConfPath is TheHive's configuration file inside a node.
	TheHiveConfPath = "/etc/thehive/application.conf"
	// TheHiveLogPath is TheHive's application log inside a node.
	TheHiveLogPath = "/var/log/thehive/application.log"

	// theHiveWait bounds how long Up waits for TheHive's /api/status.
	theHiveWait = 45 * time.Second
	// theHiveSecretDir holds, inside a node, the copies of the lab's
	// passwords that TheHive (user thehive) reads when the lab has auth.
	theHiveSecretDir = "/etc/thehive/secret"
)

// theHiveMounts are the per-node directories mounted (after the holder has
// started, with nsenter) for TheHive: the service manager's state directory
// on the path systemctl uses by default, so that `sudo systemctl` (which
// resets the environment) finds the node's own units, and the log directory.
var theHiveMounts = []struct{ dir, target, owner string }{
	{"thehive-services", thehive.DefaultServiceDir, ""},
	{"thehive-log", "/var/log/thehive", "thehive"},
}

// TheHiveServiceDir returns the host directory that holds node's unit
// files, state and journal (mounted at thehive.DefaultServiceDir inside
// the node).
func (l *Lab) TheHiveServiceDir(node string) string {
	return theHiveServiceDir(l.StateDir, node)
}

func theHiveServiceDir(stateDir, node string) string {
	return filepath.Join(stateDir, "nodes", node, "thehive-services")
}

// TheHiveURL returns the base URL of node's TheHive on the lab network.
func (l *Lab) TheHiveURL(node string) (string, error) {
	n, ok := l.Node(node)
	if !ok {
		return "", fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
	}
	return "http://" + net.JoinHostPort(n.IP, strconv.Itoa(TheHivePort)), nil
}

// theHiveConf holds what TheHiveConf needs to render a node's
// application.conf.
type theHiveConf struct {
	// Node is the node the file is for; IP its address.
	Node, IP string
	// Peers are the IPs of every node of the cluster, in order.
	Peers []string
	// Auth adds the Cassandra and Elasticsearch credentials.
	Auth bool
	// CassandraPassword and ESPassword are written when Auth is set.
	CassandraPassword, ESPassword string
	// S3 selects S3 attachment storage on node1 instead of localfs.
	S3 bool
	// S3Endpoint, S3AccessKey and S3SecretKey describe the S3 server.
	S3Endpoint, S3AccessKey, S3SecretKey string
}

// hoconString quotes s as a HOCON quoted string (JSON string syntax).
func hoconString(s string) string { return strconv.Quote(s) }

// hoconList renders a list of quoted strings.
func hoconList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = hoconString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// renderTheHiveConf renders a TheHive 5 application.conf in the shape of
// the documentation's cluster example (deploying-a-cluster.md) and the
// StrangeBee docker configuration.
func renderTheHiveConf(c theHiveConf) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# TheHive 5 configuration of lab node %s (written by hotsnap lab up).", c.Node)
	p("# Secret key used by Play to sign session cookies.")
	p("play.http.secret.key = %s", hoconString("hotsnap-lab-"+c.Node+"-not-a-secret"))
	p("")
	p("## Database configuration")
	p("db.janusgraph {")
	p("  storage {")
	p("    backend = cql")
	p("    hostname = %s", hoconList(c.Peers))
	if c.Auth {
		p("    # Cassandra authentication")
		p("    username = %s", hoconString(CassandraAppUser))
		p("    password = %s", hoconString(c.CassandraPassword))
	}
	p("    cql {")
	p("      cluster-name = thp")
	p("      keyspace = %s", Keyspace)
	p("    }")
	p("  }")
	p("  index.search {")
	p("    backend = elasticsearch")
	p("    hostname = [%s]", hoconString("127.0.0.1"))
	p("    index-name = thehive")
	if c.Auth {
		p("    # Elasticsearch authentication")
		p("    elasticsearch {")
		p("      http {")
		p("        auth {")
		p("          type = basic")
		p("          basic {")
		p("            username = %s", hoconString(ESUser))
		p("            password = %s", hoconString(c.ESPassword))
		p("          }")
		p("        }")
		p("      }")
		p("    }")
	}
	p("  }")
	p("}")
	p("")
	p("## Cluster configuration")
	p("pekko {")
	p("  cluster.enable = on")
	p("  actor {")
	p("    provider = cluster")
	p("  }")
	p("  remote.artery {")
	p("    canonical {")
	p("      hostname = %s", hoconString(c.IP))
	p("      port = 2551")
	p("    }")
	p("  }")
	p("  # seed node list contains at least one active node")
	seeds := make([]string, len(c.Peers))
	for i, ip := range c.Peers {
		seeds[i] = "pekko://application@" + ip + ":2551"
	}
	p("  cluster.seed-nodes = %s", hoconList(seeds))
	p("  cluster.min-nr-of-members = %d", min(2, len(c.Peers)))
	p("}")
	p("")
	p("## Attachment storage configuration")
	p("storage {")
	if c.S3 {
		p("  provider: s3")
		p("  s3 {")
		p("    bucket = %s", hoconString(S3Bucket))
		p("    readTimeout = 1 minute")
		p("    writeTimeout = 1 minute")
		p("    chunkSize = 1 MB")
		p("    endpoint-url = %s", hoconString(c.S3Endpoint))
		p("    aws.credentials.provider = \"static\"")
		p("    aws.credentials.access-key-id = %s", hoconString(c.S3AccessKey))
		p("    aws.credentials.secret-access-key = %s", hoconString(c.S3SecretKey))
		p("    access-style = path")
		p("    aws.region.provider = \"static\"")
		p("    aws.region.default-region = %s", hoconString(S3Region))
		p("  }")
	} else {
		p("  provider: localfs")
		p("  localfs {")
		p("    location: /opt/thp/thehive/files")
		p("  }")
	}
	p("}")
	p("")
	p("## Service configuration")
	p("application.baseUrl = %s", hoconString("http://"+c.IP+":"+strconv.Itoa(TheHivePort)))
	p("play.http.context = \"/\"")
	p("play.http.parser.maxDiskBuffer = 1GB")
	p("play.http.parser.maxMemoryBuffer = 256kB")
	p("")
	p("# Audit logs are kept in Elasticsearch (index thehive-audits).")
	p("audit.storage = elasticsearch")
	return b.String()
}

// theHiveArgv returns the ExecStart of node n's TheHive unit.
func theHiveArgv(n NodeInfo, auth bool) []string {
	argv := []string{filepath.Join(binTarget, "thehive-standin"),
		"--listen", "127.0.0.1:" + strconv.Itoa(TheHivePort) + "," + n.IP + ":" + strconv.Itoa(TheHivePort),
		"--cql", n.IP + ":9042", "--keyspace", Keyspace,
		"--es", "http://127.0.0.1:9200", "--index", ESIndex,
		"--log", TheHiveLogPath, "--name", n.Name}
	if auth {
		argv = append(argv,
			"--cql-user", CassandraAppUser, "--cql-password-file", theHiveSecretDir+"/cassandra-password",
			"--es-user", ESUser, "--es-password-file", theHiveSecretDir+"/elasticsearch-password")
	}
	return argv
}

// lookupIDs returns the uid and gid of a local user.
func lookupIDs(name string) (int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("look up user %s: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return uid, gid, nil
}

// writeTheHiveFile writes a file readable by root and group thehive only
// (0640 root:thehive), as the packages install /etc/thehive.
func writeTheHiveFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := writeFileAtomic(path, data, 0o640); err != nil {
		return err
	}
	_, gid, err := lookupIDs("thehive")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chown(path, 0, gid); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// prepareTheHiveNode writes node n's application.conf, password copies and
// unit, creates its TheHive directories and mounts them inside the node.
func (l *Lab) prepareTheHiveNode(ctx context.Context, n NodeInfo, conf theHiveConf, auth bool) error {
	nd := l.NodeDir(n.Name)
	etc := filepath.Join(nd, "thehive-etc")
	if err := writeTheHiveFile(filepath.Join(etc, "application.conf"), []byte(renderTheHiveConf(conf))); err != nil {
		return err
	}
	if auth {
		secrets := filepath.Join(etc, "secret")
		if err := writeTheHiveFile(filepath.Join(secrets, "cassandra-password"), []byte(conf.CassandraPassword+"\n")); err != nil {
			return err
		}
		if err := writeTheHiveFile(filepath.Join(secrets, "elasticsearch-password"), []byte(conf.ESPassword+"\n")); err != nil {
			return err
		}
		_, gid, err := lookupIDs("thehive")
		if err != nil {
			return err
		}
		if err := os.Chown(secrets, 0, gid); err != nil {
			return fmt.Errorf("chown %s: %w", secrets, err)
		}
		if err := os.Chmod(secrets, 0o750); err != nil {
			return fmt.Errorf("chmod %s: %w", secrets, err)
		}
	}
	var mounts []Mount
	for _, m := range theHiveMounts {
		src := filepath.Join(nd, m.dir)
		if err := mkdirOwned(src, m.owner); err != nil {
			return fmt.Errorf("%s: %w", m.dir, err)
		}
		// The mount point must exist on the host, which the node's mount
		// namespace shares outside its bind mounts.
		if _, err := os.Stat(m.target); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(m.target, 0o755); err != nil {
				return fmt.Errorf("mount point %s: %w", m.target, err)
			}
		}
		if mounted, err := mountedIn(n.HolderPID, m.target); err != nil {
			return err
		} else if mounted {
			continue
		}
		out, err := l.NodeCommand(ctx, n.Name, "mount", "--bind", src, m.target).CombinedOutput()
		if err != nil {
			return fmt.Errorf("bind %s on %s: %w: %s", src, m.target, err, strings.TrimSpace(string(out)))
		}
		mounts = append(mounts, Mount{Node: n.Name, Source: src, Target: m.target})
	}
	l.mu.Lock()
	l.rec.Mounts = append(l.rec.Mounts, mounts...)
	serr := l.saveLocked()
	l.mu.Unlock()
	if serr != nil {
		return serr
	}
	// State left by a previous lab over the same state dir names processes
	// that are gone; systemctl notices (it checks PID and start time) and
	// treats the unit as stopped.
	u := thehive.TheHiveUnit(theHiveArgv(n, auth))
	u.User = "thehive"
	if err := thehive.WriteUnit(l.TheHiveServiceDir(n.Name), u); err != nil {
		return err
	}
	return nil
}

// theHiveConfs builds every node's theHiveConf from the lab's record.
func (l *Lab) theHiveConfs(storage string) ([]theHiveConf, bool, error) {
	l.mu.Lock()
	nodes := append([]NodeInfo(nil), l.Nodes...)
	var auth bool
	if l.rec.Services != nil {
		auth = l.rec.Services.Auth
	}
	l.mu.Unlock()
	var peers []string
	for _, n := range nodes {
		peers = append(peers, n.IP)
	}
	base := theHiveConf{Peers: peers, Auth: auth}
	if auth {
		var err error
		if base.CassandraPassword, err = l.Secret(SecretCassandraApp); err != nil {
			return nil, false, err
		}
		if base.ESPassword, err = l.Secret(SecretES); err != nil {
			return nil, false, err
		}
	}
	if storage == StorageS3 && len(nodes) > 0 {
		base.S3 = true
		base.S3Endpoint = "http://" + net.JoinHostPort(nodes[0].IP, strconv.Itoa(S3Port))
		// The S3 credentials are written by the S3 set-up; a lab without
		// them still gets a valid file.
		base.S3AccessKey, _ = l.Secret(SecretS3AccessKey)
		base.S3SecretKey, _ = l.Secret(SecretS3SecretKey)
	}
	confs := make([]theHiveConf, len(nodes))
	for i, n := range nodes {
		c := base
		c.Node, c.IP = n.Name, n.IP
		confs[i] = c
	}
	return confs, auth, nil
}

// StartTheHive installs and starts TheHive on every node of a TheHive lab
// brought up with stand-ins: per node it writes /etc/thehive/application.conf
// and the unit, mounts the node's own service and log directories, runs
// `systemctl start thehive` inside the node and waits until
// GET http://<node IP>:9000/api/status answers 200 from the op namespace.
// The attachment storage in application.conf follows the lab's
// Options.Storage. Up calls it for PlatformTheHive; calling it again
// restarts nothing that runs (systemctl start of an active unit is a no-op).
func (l *Lab) StartTheHive(ctx context.Context) error {
	fail := func(err error) error { return fmt.Errorf("lab %s: thehive: %w", l.Name, err) }
	l.mu.Lock()
	hasServices := l.rec.Services != nil
	var storage string
	if hasServices {
		storage = l.rec.Services.Storage
	}
	nodes := append([]NodeInfo(nil), l.Nodes...)
	l.mu.Unlock()
	if !hasServices {
		return fail(errors.New("the lab was brought up without stand-ins"))
	}
	confs, auth, err := l.theHiveConfs(storage)
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.prepareTheHiveNode(ctx, n, confs[i], auth); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name, err)
				return
			}
			if err := l.systemctl(ctx, n.Name, "start", TheHiveUnit); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	if err := l.WaitTheHive(ctx, theHiveWait); err != nil {
		return fail(err)
	}
	l.logf("lab %s: thehive answering on port %d on %d nodes (%s)", l.Name, TheHivePort, len(nodes), time.Since(t0).Round(time.Millisecond))
	return nil
}

// systemctl runs the lab's systemctl inside node as root, with the
// environment sudo would leave (so the default service directory, the
// node's own, is used).
func (l *Lab) systemctl(ctx context.Context, node string, args ...string) error {
	cmd := l.NodeCommand(ctx, node, filepath.Join(binTarget, "systemctl"), args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// WaitTheHive waits until every node's GET /api/status answers 200 from
// the op namespace, or until timeout passes. The error names the nodes
// still not ready, with the last answer and the tail of their journal.
func (l *Lab) WaitTheHive(ctx context.Context, timeout time.Duration) error {
	l.mu.Lock()
	nodes := append([]NodeInfo(nil), l.Nodes...)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pending := nodes
	last := map[string]error{}
	for {
		var still []NodeInfo
		for _, n := range pending {
			code, err := l.theHiveStatus(ctx, n)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("GET /api/status: HTTP %d", code)
			}
			if err != nil {
				last[n.Name] = err
				still = append(still, n)
			}
		}
		pending = still
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var errs []error
			for _, n := range pending {
				errs = append(errs, fmt.Errorf("%s: not ready after %s: %w; journal: %s", n.Name, timeout, last[n.Name],
					logTail(filepath.Join(l.TheHiveServiceDir(n.Name), TheHiveUnit+".journal"), 3)))
			}
			return errors.Join(errs...)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// theHiveStatus does GET http://<IP>:9000/api/status from the op
// namespace and returns the HTTP status code.
func (l *Lab) theHiveStatus(ctx context.Context, n NodeInfo) (int, error) {
	ns := l.rec.OpNetns
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNetns(ns, func() error {
				var err error
				c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 3 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(n.IP, strconv.Itoa(TheHivePort))+"/api/status", nil)
	if err != nil {
		return 0, fmt.Errorf("GET /api/status: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /api/status: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
	return resp.StatusCode, nil
}

// mountedIn reports whether target is a mount point in the mount namespace
// of process pid (field 5 of /proc/PID/mountinfo).
func mountedIn(pid int, target string) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		return false, fmt.Errorf("read mount table of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == target {
			return true, nil
		}
	}
	return false, nil
}

// Auth reports whether the lab was brought up with Options.Auth (Cassandra
// and Elasticsearch passwords under STATE/secrets/).
func (l *Lab) Auth() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec.Services != nil && l.rec.Services.Auth
}

// ESRepository and ESRepositoryPath are the snapshot repository the runbook
// registers once (path.repo is the shared /mnt/backup).
const (
	ESRepository     = "thehive_repository"
	ESRepositoryPath = "/mnt/backup/elasticsearch"
)

// RegisterESRepository registers the fs snapshot repository on the cluster,
// as the runbook's preparation asks, so that a new lab passes preflight.
func (l *Lab) RegisterESRepository(ctx context.Context) error {
	return l.registerESRepository(ctx, ESRepository)
}

// registerESRepository registers fs repository name at ESRepositoryPath
// through node1.
func (l *Lab) registerESRepository(ctx context.Context, name string) error {
	if len(l.Nodes) == 0 {
		return fmt.Errorf("lab %s: no nodes", l.Name)
	}
	url := "http://" + net.JoinHostPort(l.Nodes[0].IP, "9200") + "/_snapshot/" + name
	body := `{"type":"fs","settings":{"location":"` + ESRepositoryPath + `"}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if l.Auth() {
		pw, err := l.Secret(SecretES)
		if err != nil {
			return err
		}
		req.SetBasicAuth(ESUser, pw)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: l.OpDial}, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("lab %s: register ES repository: %w", l.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("lab %s: register ES repository: HTTP %d: %s", l.Name, resp.StatusCode, b)
	}
	return nil
}
