// Package lab builds and tears down hotsnap's practice cluster: a set of
// Linux network namespaces joined by a bridge, one per node, each with its
// own UTS, mount and PID namespace (with an init of its own, nodeinit.go)
// and a real OpenSSH sshd, plus an "op" namespace from which the tool
// under test talks to the nodes.
//
// Everything here needs root. The root network namespace gets no address
// of the lab's 10.77.0.0/16 range; instead an "unreachable" route for that
// range guards it while any lab exists, so that nothing run from the root
// namespace can leak traffic to a real network on those addresses.
package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const (
	// DefaultName is the lab name used when Options.Name is empty.
	DefaultName = "hs"
	// DefaultNodes is the number of nodes used when Options.Nodes is zero.
	DefaultNodes = 3
	// MaxNodes is the largest number of nodes a lab may have.
	MaxNodes = 12
	// DefaultStateRoot is the directory under which each lab keeps its
	// state directory (DefaultStateRoot/NAME) unless Options.StateDir is set.
	DefaultStateRoot = "/var/lib/hotsnap-lab"
	// GuardRoute is the route installed in the root network namespace while
	// any lab exists.
	GuardRoute = "10.77.0.0/16"
	// LoginUser is the SSH login user with passwordless sudo.
	LoginUser = "hotsnap"
	// PasswordUser is the SSH login user whose sudo asks for a password
	// (the one stored in STATE/sudo-password).
	PasswordUser = "hotsnap-pw"
	// SudoersFile is the sudoers drop-in the lab installs while any lab exists.
	SudoersFile = "/etc/sudoers.d/hotsnap-lab"
)

// The mount points that each node gets a private directory for, keyed by
// the name of the directory under STATE/nodes/NODE/, with the owner a new
// directory gets.
var privateMounts = []struct{ dir, target, owner string }{
	{"cassandra", "/var/lib/cassandra", "cassandra"},
	{"thehive-files", "/opt/thp/thehive/files", "thehive"},
	{"thehive-etc", "/etc/thehive", ""},
	// hotsnap's own: the cluster's lock (host.LockFile) lives there.
	{"hotsnap", "/var/lib/hotsnap", ""},
}

// privateHomes are the per-node /tmp, /root and /home (with the login
// users' homes), mounted after every other directory: a state dir that
// lives under one of them (a test's, under /tmp) stays visible inside the
// node at its own path (holderScript).
var privateHomes = []struct {
	dir, target string
	mode        os.FileMode
}{
	{"tmp", "/tmp", os.ModeSticky | 0o777},
	{"root", "/root", 0o700},
	{"home", "/home", 0o755},
}

const (
	sharedBackupTarget = "/mnt/backup"
	binTarget          = "/usr/local/bin"
	hostsTarget        = "/etc/hosts"
)

// Options selects a lab and how it is built.
type Options struct {
	// Name is the lab's name, [a-z][a-z0-9]{0,7}; it prefixes every
	// namespace. Empty means DefaultName.
	Name string
	// Subnet is the third octet of the lab's 10.77.S.0/24 network, 0..255.
	Subnet int
	// Nodes is the number of nodes, 1..MaxNodes; 0 means DefaultNodes.
	// Only Up uses it.
	Nodes int
	// StateDir holds keys, configs, logs and node data. Empty means
	// DefaultStateRoot/NAME, or for a running lab the directory it was
	// started with.
	StateDir string
	// Log receives one line per step; nil discards them.
	Log io.Writer
	// Purge makes Down also delete the state directory (keys, known_hosts,
	// node data, backups). Without it Down keeps them, so a later Up reuses
	// the same keys and known_hosts stays valid.
	Purge bool
	// Binary is the hotsnap executable that Up copies to STATE/bin/hotsnap
	// (each node's /usr/local/bin) and links the stand-ins' names to
	// (nodetool, cqlsh, sstableloader, cassandra-standin, es-standin). The
	// CLI passes os.Executable(). Empty means a lab of sshd only: no
	// Cassandra or Elasticsearch stand-ins and no seeded data.
	Binary string
	// Data is how many bytes of Cassandra data each node holds after
	// seeding (RF = node count, so every node holds every row); 0 means
	// DefaultData. Elasticsearch gets about a quarter of it, the
	// attachments on node1 about a tenth. With PlatformEclecticIQ it is the
	// size of node1's PostgreSQL database (the indices are built from it).
	// Only Up uses it.
	Data int64
	// Auth turns on Cassandra's PasswordAuthenticator (users admin and
	// thehive) and Elasticsearch basic authentication (user elastic), with
	// generated passwords stored 0600 under STATE/secrets/.
	Auth bool
	// Search is the search engine the ES stand-in impersonates:
	// SearchElasticsearch (default: Elasticsearch as the platform ships it,
	// 8.x, or 6.8 for Alien4Cloud), SearchES6 (6.8 explicitly) or
	// SearchOpenSearch.
	Search string
	// Platform is the platform the lab imitates: PlatformTheHive (default,
	// Cassandra + Elasticsearch + attachments), PlatformEclecticIQ
	// (PostgreSQL, Redis, Elasticsearch, config files on node1) or
	// PlatformAlien4Cloud (Elasticsearch + uploaded files on node1).
	Platform string
	// Storage is where TheHive's attachments live: StorageLocalFS (default,
	// node1's /opt/thp/thehive/files) or StorageS3 (a real S3 server on
	// node1, bucket S3Bucket). Only PlatformTheHive accepts StorageS3.
	Storage string
	// S3 is the S3 server built and run for StorageS3: s3.KindVersityGW
	// (default) or s3.KindMinIO.
	S3 string
	// S3CacheDir is where the S3 server binary is built and kept; empty
	// means s3.DefaultCacheDir.
	S3CacheDir string
	// A4CEmbedded runs PlatformAlien4Cloud with Elasticsearch inside
	// Alien4Cloud (alien4cloud-config.yml without a remote client, the
	// embedded elasticsearch.yml): no Elasticsearch daemons, one node.
	A4CEmbedded bool
	// Link shapes every link of the lab (the nodes', the operator's and
	// the backup host's); the zero LinkSpec leaves them unshaped.
	Link LinkSpec
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)

// normalize validates o and fills in defaults. When the lab is registered
// as running and o.StateDir is empty, the registered state dir is used.
func (o Options) normalize(forUp bool) (Options, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if !nameRE.MatchString(o.Name) {
		return o, fmt.Errorf("invalid lab name %q: want [a-z][a-z0-9]{0,7}", o.Name)
	}
	if o.Subnet < 0 || o.Subnet > 255 {
		return o, fmt.Errorf("invalid subnet %d: want 0..255", o.Subnet)
	}
	if o.Nodes == 0 {
		o.Nodes = DefaultNodes
	}
	if forUp && (o.Nodes < 1 || o.Nodes > MaxNodes) {
		return o, fmt.Errorf("invalid node count %d: want 1..%d", o.Nodes, MaxNodes)
	}
	if o.StateDir == "" {
		if dir, err := registeredStateDir(o.Name); err == nil && dir != "" {
			o.StateDir = dir
		} else {
			o.StateDir = filepath.Join(DefaultStateRoot, o.Name)
		}
	}
	abs, err := filepath.Abs(o.StateDir)
	if err != nil {
		return o, fmt.Errorf("state dir %q: %w", o.StateDir, err)
	}
	o.StateDir = filepath.Clean(abs)
	if strings.ContainsAny(o.StateDir, " \t\r\n\"'\\#") {
		return o, fmt.Errorf("state dir %q: must not contain blanks, quotes, backslashes or '#' (it is written into sshd_config)", o.StateDir)
	}
	if o.Data < 0 {
		return o, fmt.Errorf("invalid data size %d: must not be negative", o.Data)
	}
	if o.Data == 0 {
		o.Data = DefaultData
	}
	switch o.Search {
	case "":
		o.Search = SearchElasticsearch
	case SearchElasticsearch, SearchES6, SearchOpenSearch:
	default:
		return o, fmt.Errorf("invalid search engine %q: want %s, %s or %s", o.Search, SearchElasticsearch, SearchES6, SearchOpenSearch)
	}
	if err := o.normalizePlatform(); err != nil {
		return o, err
	}
	if o.Binary != "" {
		abs, err := filepath.Abs(o.Binary)
		if err != nil {
			return o, fmt.Errorf("binary %q: %w", o.Binary, err)
		}
		o.Binary = abs
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

// RequireRoot returns an error unless the process runs as root.
func RequireRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("the lab needs root: run with sudo")
	}
	return nil
}

// NodeInfo describes one node of a running lab.
type NodeInfo struct {
	// Name is the node's name and hostname: node1, node2, ...
	Name string `json:"name"`
	// IP is the node's address on the lab network.
	IP string `json:"ip"`
	// Netns is the node's network namespace name (NAME-nodeX).
	Netns string `json:"netns"`
	// HolderPID is the node's init, which holds the node's PID, mount and
	// UTS namespaces (nodeinit.go). This and every PID below are the host's.
	HolderPID int `json:"holder_pid"`
	// SSHDPID is the node's listening sshd.
	SSHDPID int `json:"sshd_pid"`
	// CassandraPID is the node's cassandra-standin (0 when not running).
	CassandraPID int `json:"cassandra_pid,omitempty"`
	// ESPID is the node's es-standin (0 when not running).
	ESPID int `json:"es_pid,omitempty"`
	// SharePID is the node's GlusterFS client, which mounts the backup
	// host's share at /mnt/backup (0 when not mounted).
	SharePID int `json:"share_pid,omitempty"`
	// NetworkDown reports that StopNode took the node off the network.
	NetworkDown bool `json:"network_down,omitempty"`
}

// Veth records one veth pair: Bridge end in the bridge namespace, Peer end
// (always eth0) in Netns.
type Veth struct {
	Bridge string `json:"bridge_end"`
	Netns  string `json:"netns"`
	Peer   string `json:"peer_end"`
	IP     string `json:"ip"`
}

// Mount records one bind mount made inside a node's mount namespace.
type Mount struct {
	Node   string `json:"node"`
	Source string `json:"source"`
	Target string `json:"target"`
}

// record is the content of STATE/lab.json.
type record struct {
	Name     string `json:"name"`
	Subnet   int    `json:"subnet"`
	StateDir string `json:"state_dir"`
	OpNetns  string `json:"op_netns"`
	OpIP     string `json:"op_ip"`
	BrNetns  string `json:"bridge_netns"`
	BhNetns  string `json:"backup_host_netns"`
	BhIP     string `json:"backup_host_ip"`
	// ShareServerPID is the backup host's brick (glusterfsd), ShareOpPID
	// the operator's machine's client (its mount is SharedBackupPath).
	ShareServerPID int        `json:"share_server_pid,omitempty"`
	ShareOpPID     int        `json:"share_op_pid,omitempty"`
	Bridge         string     `json:"bridge"`
	Namespaces     []string   `json:"namespaces"`
	Veths          []Veth     `json:"veths"`
	Mounts         []Mount    `json:"mounts"`
	Nodes          []NodeInfo `json:"nodes"`
	Route          string     `json:"guard_route"`
	PIDs           []int      `json:"pids"`
	Services       *services  `json:"services,omitempty"`
	Daemons        []Daemon   `json:"daemons,omitempty"`
	Link           LinkSpec   `json:"link,omitzero"`
}

// Lab is a running practice cluster.
type Lab struct {
	// Name is the lab's name (namespace prefix).
	Name string
	// Subnet is the third octet of the lab network 10.77.Subnet.0/24.
	Subnet int
	// StateDir is the lab's state directory.
	StateDir string
	// OpIP is the address of the op namespace.
	OpIP string
	// Nodes lists the nodes in order node1..nodeN.
	Nodes []NodeInfo

	mu  sync.Mutex
	rec record
	log io.Writer
}

// Open attaches to a running lab by reading STATE/lab.json. It fails when
// the lab is not up (no lab.json, or a node's namespaces are gone).
func Open(o Options) (*Lab, error) {
	if err := RequireRoot(); err != nil {
		return nil, fmt.Errorf("lab open: %w", err)
	}
	o, err := o.normalize(false)
	if err != nil {
		return nil, fmt.Errorf("lab open: %w", err)
	}
	rec, err := readRecord(o.StateDir)
	if err != nil {
		return nil, fmt.Errorf("lab open: %s: %w", o.Name, err)
	}
	if rec.Name != o.Name {
		return nil, fmt.Errorf("lab open: %s: %s belongs to lab %q", o.Name, recordPath(o.StateDir), rec.Name)
	}
	for _, n := range rec.Nodes {
		if err := checkHolder(n); err != nil {
			return nil, fmt.Errorf("lab open: %s: %s: lab is not up: %w", o.Name, n.Name, err)
		}
	}
	return newLab(rec, o.Log), nil
}

func newLab(rec record, log io.Writer) *Lab {
	if log == nil {
		log = io.Discard
	}
	l := &Lab{Name: rec.Name, Subnet: rec.Subnet, StateDir: rec.StateDir, OpIP: rec.OpIP, rec: rec, log: log}
	l.Nodes = append([]NodeInfo(nil), rec.Nodes...)
	return l
}

func recordPath(stateDir string) string { return filepath.Join(stateDir, "lab.json") }

func readRecord(stateDir string) (record, error) {
	var rec record
	b, err := os.ReadFile(recordPath(stateDir))
	if err != nil {
		return rec, fmt.Errorf("read lab record: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("parse %s: %w", recordPath(stateDir), err)
	}
	return rec, nil
}

func writeRecord(rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab record: %w", err)
	}
	return writeFileAtomic(recordPath(rec.StateDir), append(b, '\n'), 0o644)
}

// InventoryPath returns the path of the lab's inventory.yaml.
func (l *Lab) InventoryPath() string { return filepath.Join(l.StateDir, "inventory.yaml") }

// KeyPath returns the path of the lab's client private key; the public key
// is KeyPath()+".pub".
func (l *Lab) KeyPath() string { return filepath.Join(l.StateDir, "id_ed25519") }

// KnownHostsPath returns the path of the known_hosts file holding every
// node's host key.
func (l *Lab) KnownHostsPath() string { return filepath.Join(l.StateDir, "known_hosts") }

// BackupsPath returns the lab's backup repository directory (the
// inventory's repository.url).
func (l *Lab) BackupsPath() string { return filepath.Join(l.StateDir, "backups") }

// BinPath returns the host directory mounted at /usr/local/bin on every node.
func (l *Lab) BinPath() string { return filepath.Join(l.StateDir, "bin") }

// SharedBackupPath returns where the operator's machine (this host) mounts
// the backup host's share, the one every node mounts at /mnt/backup (the
// runbook's NFS share). Reads and writes there cross the lab network.
func (l *Lab) SharedBackupPath() string { return filepath.Join(l.StateDir, "shared", "backup") }

// NodeDir returns the host directory holding a node's config, keys, logs
// and private data directories.
func (l *Lab) NodeDir(node string) string { return filepath.Join(l.StateDir, "nodes", node) }

// SudoPassword returns the sudo password of PasswordUser, read from
// STATE/sudo-password.
func (l *Lab) SudoPassword() (string, error) {
	b, err := os.ReadFile(filepath.Join(l.StateDir, "sudo-password"))
	if err != nil {
		return "", fmt.Errorf("lab %s: read sudo password: %w", l.Name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Node returns the named node.
func (l *Lab) Node(name string) (NodeInfo, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeInfo{}, false
}

// NodeCommand returns a command that runs name with args inside the node's
// network, mount, UTS and PID namespaces (entered through the node's init
// with nsenter, which forks the program into the node's PID namespace and
// waits for it: the command's own PID is nsenter's, which passes no signal
// on; the program's is enteredPID's). Cancelling ctx kills the program and
// nsenter. If the node is unknown or its init is gone, the returned
// command's Err is set, so Start/Run fail with that error.
func (l *Lab) NodeCommand(ctx context.Context, node string, name string, args ...string) *exec.Cmd {
	n, ok := l.Node(node)
	var holder int
	var err error
	if !ok {
		err = fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
	} else if err = checkHolder(n); err != nil {
		err = fmt.Errorf("lab %s: %s: %w", l.Name, node, err)
	} else {
		holder = n.HolderPID
	}
	cmd := exec.CommandContext(ctx, "nsenter", enterArgs(holder, name, args...)...)
	cmd.Cancel = func() error { return stopEntered(cmd.Process) }
	if err != nil {
		cmd.Err = err
	}
	return cmd
}

// enterArgs are nsenter's arguments that run name with args in every
// namespace of the node whose init is holder.
func enterArgs(holder int, name string, args ...string) []string {
	return append([]string{"--target", strconv.Itoa(holder), "--net", "--mount", "--uts", "--pid", "--", name}, args...)
}

// OpCommand returns a command that runs name with args in the op network
// namespace, with HOTSNAP_INVENTORY set to the lab's inventory.
func (l *Lab) OpCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	full := append([]string{"netns", "exec", l.rec.OpNetns, name}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	cmd.Env = append(os.Environ(), "HOTSNAP_INVENTORY="+l.InventoryPath())
	return cmd
}

// checkHolder verifies that n.HolderPID is alive and lives in n's network
// namespace, so that a reused PID is never entered.
func checkHolder(n NodeInfo) error {
	if n.HolderPID <= 0 {
		return errors.New("no holder process recorded")
	}
	if !pidAlive(n.HolderPID) {
		return fmt.Errorf("holder process %d is gone", n.HolderPID)
	}
	same, err := sameNetns(n.HolderPID, n.Netns)
	if err != nil {
		return fmt.Errorf("holder process %d: %w", n.HolderPID, err)
	}
	if !same {
		return fmt.Errorf("process %d is not in network namespace %s (PID reused?)", n.HolderPID, n.Netns)
	}
	return nil
}

// sameNetns reports whether pid's network namespace is the named one.
func sameNetns(pid int, netns string) (bool, error) {
	var a, b syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &a); err != nil {
		return false, fmt.Errorf("stat network namespace: %w", err)
	}
	if err := syscall.Stat(filepath.Join(netnsDir, netns), &b); err != nil {
		return false, fmt.Errorf("stat network namespace %s: %w", netns, err)
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

func (l *Lab) logf(format string, args ...any) {
	fmt.Fprintf(l.log, format+"\n", args...)
}

func (l *Lab) saveLocked() error {
	l.rec.Nodes = append([]NodeInfo(nil), l.Nodes...)
	return writeRecord(l.rec)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
