package lab

import (
	"archive/zip"
	"bytes"
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
	"time"

	"github.com/hotsnap/hotsnap/lab/alien4cloud"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/thehive"
)

// An Alien4Cloud lab (PlatformAlien4Cloud) is node1 installed as
// alien4cloud-spray installs Alien4Cloud 3.x: the a4c unit (user a4c,
// WorkingDirectory /opt/a4c/alien4cloud) under the systemctl shim, its
// configuration files, the data directory Alien4CloudDataDir, and an
// Elasticsearch 6.8 stand-in on every node (cluster escluster), or, with
// Options.A4CEmbedded, Elasticsearch inside Alien4Cloud on a single node.

const (
	// Alien4CloudPort is server.port: Alien4Cloud's REST API and health.
	Alien4CloudPort = alien4cloud.Port
	// Alien4CloudUnit is the unit name.
	Alien4CloudUnit = alien4cloud.Unit
	// Alien4CloudConfPath is alien4cloud-config.yml inside node1.
	Alien4CloudConfPath = alien4cloud.ConfigPath
	// Alien4CloudAdminUser is the admin login; its password is the secret
	// SecretA4CAdmin.
	Alien4CloudAdminUser = "admin"
	// SecretA4CAdmin names the file under STATE/secrets/ holding the admin
	// password (alien_security.admin.password).
	SecretA4CAdmin = "a4c-admin"
	// Alien4CloudESCluster is the Elasticsearch cluster name spray sets and
	// alien4cloud-config.yml names.
	Alien4CloudESCluster = "escluster"
	// Alien4CloudESRepository is the snapshot repository the lab registers
	// (the inventory's elasticsearch.repository).
	Alien4CloudESRepository = "hotsnap_repository"

	// a4cWait bounds how long Up waits for Alien4Cloud's health.
	a4cWait = 45 * time.Second
)

// alien4CloudMounts are node-private directories of the platform, mounted
// by the holder: the install and log directories, the Elasticsearch and
// systemd configuration, and the service manager's directory (so each
// node's systemctl sees its own units).
var alien4CloudMounts = []struct{ dir, target, owner string }{
	{"alien4cloud", "/opt/alien4cloud", ""},
	{"a4c", "/opt/a4c", alien4cloud.User},
	{"a4c-log", alien4cloud.LogDir, alien4cloud.User},
	{"es-etc", "/etc/elasticsearch", ""},
	{"systemd-system", "/etc/systemd/system", ""},
	{"thehive-services", thehive.DefaultServiceDir, ""},
}

// hostPath maps a path inside a node to the host directory behind its
// private mount.
func hostPath(nodeDir, inNode string) (string, error) {
	for _, m := range alien4CloudMounts {
		if rel, ok := strings.CutPrefix(inNode, m.target+"/"); ok {
			return filepath.Join(nodeDir, m.dir, rel), nil
		}
	}
	return "", fmt.Errorf("%s is not under one of the node's private directories", inNode)
}

// ensureA4CUser creates the a4c user (alien4cloud-spray's a4c_user, a
// regular user with a login shell) unless it exists.
func ensureA4CUser(ctx context.Context) error {
	if _, err := user.Lookup(alien4cloud.User); err == nil {
		return nil
	}
	_, err := run(ctx, "", "useradd", "--user-group", "--no-create-home", "--home-dir", "/home/"+alien4cloud.User,
		"--shell", "/bin/bash", alien4cloud.User)
	if err != nil {
		if _, lerr := user.Lookup(alien4cloud.User); lerr == nil {
			return nil // another lab made it meanwhile
		}
		return fmt.Errorf("create user %s: %w", alien4cloud.User, err)
	}
	return nil
}

// a4cESNodes returns the transport addresses alien4cloud-config.yml names:
// the local node, as spray writes it with use_localhost_for_local_connections.
func a4cESNodes() []string { return []string{"localhost:9300"} }

// a4cShards returns spray's shard and replica counts for n Elasticsearch
// nodes (shard_count = nodes, replica_count = 0 alone, else 1).
func a4cShards(n int) (shards, replicas int) {
	if n <= 1 {
		return 1, 0
	}
	return n, 1
}

// a4cESStateDir is where the cluster state lives: the shared stand-in
// state, or, embedded, the node's path.home under the data directory.
func a4cESStateDir(stateDir string, nodes []NodeInfo, embedded bool) string {
	if embedded {
		return filepath.Join(stateDir, "nodes", nodes[0].Name, "alien4cloud", "data", "eshome", "data")
	}
	return esStateDir(stateDir)
}

// seedAlien4Cloud creates Alien4Cloud's indices with the configured shard
// counts and about total/4 bytes of documents, fills node1's data
// directory with about total bytes, and writes every node's files.
func seedAlien4Cloud(ctx context.Context, stateDir string, nodes []NodeInfo, s services, logf func(string, ...any)) error {
	shards, replicas := a4cShards(len(nodes))
	c, err := elastic.NewCluster(a4cESStateDir(stateDir, nodes, s.Embedded), elastic.Options{})
	if err != nil {
		return fmt.Errorf("seed elasticsearch: %w", err)
	}
	each := s.Data / 4 / int64(len(alien4cloud.Indices))
	for _, name := range alien4cloud.Indices {
		if _, ok, err := c.Index(name); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		} else if ok {
			continue
		}
		if err := c.CreateIndex(name, shards, replicas); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		}
		if name == alien4cloud.MaintenanceIndex || name == alien4cloud.UserIndex {
			continue // written by Alien4Cloud itself
		}
		if err := c.Seed(name, each/1024+1, each); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		}
	}
	node1 := filepath.Join(stateDir, "nodes", nodes[0].Name)
	data := filepath.Join(node1, "alien4cloud", "data")
	t0 := time.Now()
	st, err := alien4cloud.Seed(ctx, data, s.Data, seedValue)
	if err != nil {
		return fmt.Errorf("%s: alien4cloud data: %w", nodes[0].Name, err)
	}
	if st.Files > 0 {
		d := time.Since(t0)
		logf("%s: seeded %s in %d files, %d git repositories (%s, %.0f MB/s)", nodes[0].Name, Alien4CloudDataDir, st.Files, st.GitRepos,
			d.Round(time.Millisecond), float64(st.Bytes)/1e6/max(d.Seconds(), 1e-3))
	}
	if err := chownTree(data, alien4cloud.User); err != nil {
		return err
	}
	return writeAlien4CloudFiles(stateDir, nodes, s)
}

// writeAlien4CloudFiles writes node1's installation (launcher, war, env
// file, configuration, keystore, unit) and every Elasticsearch node's
// elasticsearch.yml, owned and moded as spray leaves them. Existing files
// are rewritten (the keystore is kept).
func writeAlien4CloudFiles(stateDir string, nodes []NodeInfo, s services) error {
	pw, err := os.ReadFile(secretPath(stateDir, SecretA4CAdmin))
	if err != nil {
		return fmt.Errorf("alien4cloud admin password: %w", err)
	}
	shards, replicas := a4cShards(len(nodes))
	node1 := filepath.Join(stateDir, "nodes", nodes[0].Name)
	a4c := alien4cloud.User
	type file struct {
		path  string
		data  []byte
		mode  os.FileMode
		owner string
	}
	files := []file{
		{alien4cloud.LauncherPath, []byte(alien4cloud.Launcher(filepath.Join(binTarget, "a4c-standin"))), 0o755, a4c},
		{alien4cloud.WarPath, warFile(), 0o644, a4c},
		{alien4cloud.EnvPath, []byte(alien4cloud.EnvFile()), 0o444, a4c},
		{alien4cloud.ConfigPath, []byte(alien4cloud.ConfigYAML(alien4cloud.ConfigOptions{DataDir: Alien4CloudDataDir,
			Hosts: a4cESNodes(), Embedded: s.Embedded, Shards: shards, Replicas: replicas,
			AdminPassword: strings.TrimSpace(string(pw))})), 0o644, a4c},
		{alien4cloud.Log4jPath, []byte(alien4cloud.Log4j2XML()), 0o644, a4c},
		{alien4cloud.UnitPath, []byte(alien4cloud.UnitFile()), 0o444, ""},
	}
	if s.Embedded {
		files = append(files, file{alien4cloud.EmbeddedESConfigPath,
			[]byte(alien4cloud.EmbeddedESYAML(Alien4CloudDataDir+"/eshome", []string{sharedBackupTarget})), 0o644, a4c})
	}
	ks, err := hostPath(node1, alien4cloud.KeystorePath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(ks); errors.Is(err, fs.ErrNotExist) {
		b, err := alien4cloud.Keystore("alien4cloud", nodes[0].Name, alien4cloud.KeystorePassword, time.Now())
		if err != nil {
			return err
		}
		files = append(files, file{alien4cloud.KeystorePath, b, 0o600, a4c})
	}
	for _, f := range files {
		if err := writeNodeFile(node1, f.path, f.data, f.mode, f.owner); err != nil {
			return fmt.Errorf("%s: %w", nodes[0].Name, err)
		}
	}
	for _, d := range []string{"/opt/a4c", alien4cloud.InstallDir, alien4cloud.InstallDir + "/config", alien4cloud.InstallDir + "/config/ssl"} {
		h, _ := hostPath(node1, d+"/x")
		if err := chownTree(filepath.Dir(h), a4c); err != nil {
			return err
		}
	}
	if s.Embedded {
		return nil
	}
	var ips []string
	for _, n := range nodes {
		ips = append(ips, n.IP)
	}
	for _, n := range nodes {
		text := alien4cloud.ESYAML(n.Name, ips, []string{sharedBackupTarget})
		if err := writeNodeFile(filepath.Join(stateDir, "nodes", n.Name), alien4cloud.ESConfigPath, []byte(text), 0o660, ""); err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
	}
	return nil
}

// warFile is a stand-in for alien4cloud-ui-3.7.0.war: a zip holding only
// the Spring Boot manifest (the launcher only checks the war is there).
func warFile() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("META-INF/MANIFEST.MF")
	io.WriteString(w, "Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.WarLauncher\r\n"+
		"Start-Class: org.alien4cloud.bootstrap.Bootstrap\r\n\r\n") //nolint:errcheck // bytes.Buffer does not fail
	zw.Close()
	return b.Bytes()
}

// writeNodeFile writes a file at its path inside the node (through the
// host directory behind the mount) with mode and owner (root when empty;
// /etc/elasticsearch files go to group elasticsearch when it exists, as
// the rpm installs them).
func writeNodeFile(nodeDir, inNode string, data []byte, mode os.FileMode, owner string) error {
	p, err := hostPath(nodeDir, inNode)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", inNode, err)
	}
	if err := writeFileAtomic(p, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", inNode, err)
	}
	uid, gid := 0, 0
	switch {
	case owner != "":
		if uid, gid, err = lookupIDs(owner); err != nil {
			return fmt.Errorf("write %s: %w", inNode, err)
		}
	case strings.HasPrefix(inNode, "/etc/elasticsearch/"):
		if g, err := user.LookupGroup("elasticsearch"); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	if err := os.Chown(p, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", inNode, err)
	}
	return nil
}

// StartAlien4Cloud installs the a4c unit on node1 and starts it with
// `systemctl start a4c`, registers the snapshot repository the inventory
// names, and waits until GET /rest/admin/health answers 200 from the op
// namespace. Up calls it for PlatformAlien4Cloud; calling it again starts
// nothing that runs.
func (l *Lab) StartAlien4Cloud(ctx context.Context) error {
	fail := func(err error) error { return fmt.Errorf("lab %s: alien4cloud: %w", l.Name, err) }
	l.mu.Lock()
	s := l.rec.Services
	nodes := append([]NodeInfo(nil), l.Nodes...)
	l.mu.Unlock()
	if s == nil || len(nodes) == 0 {
		return fail(errors.New("the lab was brought up without stand-ins"))
	}
	n := nodes[0]
	u := thehive.Unit{Name: alien4cloud.Unit, Description: "Alien4Cloud Webapp", FragmentPath: alien4cloud.UnitPath, Enabled: true,
		ExecStart: alien4cloud.UnitArgv(), WorkingDirectory: alien4cloud.InstallDir, User: alien4cloud.User}
	if err := thehive.WriteUnit(l.TheHiveServiceDir(n.Name), u); err != nil {
		return fail(err)
	}
	t0 := time.Now()
	if err := l.systemctl(ctx, n.Name, "start", alien4cloud.Unit); err != nil {
		return fail(fmt.Errorf("%s: %w", n.Name, err))
	}
	if err := l.WaitAlien4Cloud(ctx, a4cWait); err != nil {
		return fail(err)
	}
	if err := l.registerESRepository(ctx, Alien4CloudESRepository); err != nil {
		return fail(err)
	}
	l.logf("lab %s: alien4cloud answering on %s:%d (%s)", l.Name, n.IP, Alien4CloudPort, time.Since(t0).Round(time.Millisecond))
	return nil
}

// Alien4CloudURL returns the base URL of Alien4Cloud on node1, as the op
// namespace reaches it.
func (l *Lab) Alien4CloudURL() string {
	return "http://" + net.JoinHostPort(l.Nodes[0].IP, strconv.Itoa(Alien4CloudPort))
}

// WaitAlien4Cloud waits until node1's GET /rest/admin/health answers 200
// from the op namespace, or timeout passes; the error gives the last
// answer and the tail of the unit's journal.
func (l *Lab) WaitAlien4Cloud(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{DialContext: l.OpDial, DisableKeepAlives: true}, Timeout: 3 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.Alien4CloudURL()+"/rest/admin/health", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /rest/admin/health: HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not healthy after %s: %w; journal: %s", l.Nodes[0].Name, timeout, last,
				logTail(filepath.Join(l.TheHiveServiceDir(l.Nodes[0].Name), alien4cloud.Unit+".journal"), 3))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// SetAlien4CloudFaults sets the stand-in's fault switches (read by the
// running service when they matter).
func (l *Lab) SetAlien4CloudFaults(f alien4cloud.Faults) error {
	if err := alien4cloud.WriteFaults(filepath.Join(l.TheHiveServiceDir(l.Nodes[0].Name), alien4cloud.FaultFileName), f); err != nil {
		return fmt.Errorf("lab %s: %w", l.Name, err)
	}
	return nil
}
