// Package config reads, validates and writes the hotsnap inventory: the YAML
// file that names the platform, its nodes, how to reach them over SSH, where
// each component keeps its data, and where backups go.
//
// Every problem in an inventory is reported with its position
// ("file:line:col: msg"), all at once, sorted by position. Secrets are never
// stored in the file: they are references (env:NAME, file:PATH or prompt)
// resolved only when needed.
package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Platforms that hotsnap knows how to back up.
const (
	PlatformTheHive     = "thehive"
	PlatformEclecticIQ  = "eclecticiq"
	PlatformAlien4Cloud = "alien4cloud"
)

// Node roles: which components run on a node.
const (
	RoleCassandra     = "cassandra"
	RoleElasticsearch = "elasticsearch"
	RoleTheHive       = "thehive"
	RoleFiles         = "files"
	RolePostgreSQL    = "postgresql"
	RoleRedis         = "redis"
	RolePlatform      = "platform"
	RoleAlien4Cloud   = "alien4cloud"
)

// Sudo modes (ssh.sudo).
const (
	SudoAuto     = "auto"     // try sudo -n, then sudo with the password
	SudoNoPasswd = "nopasswd" // sudo -n only
	SudoPassword = "password" // sudo -S with ssh.sudo_password
	SudoNone     = "none"     // the login user is root: no sudo
)

// Storage providers (storage.provider).
const (
	StorageLocalFS = "localfs"
	StorageS3      = "s3"
)

// Keys of a node's paths map: per-node overrides of where a component keeps
// its files. Unknown keys are errors, so a typo cannot be silently ignored.
const (
	PathCassandraData      = "cassandra_data"      // overrides cassandra.data_dir
	PathCassandraCommitlog = "cassandra_commitlog" // /var/lib/cassandra/commitlog
	PathCassandraConf      = "cassandra_conf"      // /etc/cassandra
	PathElasticsearchData  = "elasticsearch_data"  // /var/lib/elasticsearch
	PathElasticsearchConf  = "elasticsearch_conf"  // /etc/elasticsearch
	PathElasticsearchRepo  = "elasticsearch_repo"  // overrides elasticsearch.repository_path
	PathAttachments        = "attachments"         // overrides storage.path
	PathTheHiveConf        = "thehive_conf"        // /etc/thehive
	PathTheHiveLogs        = "thehive_logs"        // /var/log/thehive
	PathPostgreSQLData     = "postgresql_data"
	PathRedisData          = "redis_data"
	PathPlatformConf       = "platform_conf"
	PathAlien4CloudData    = "alien4cloud_data"
)

// Defaults applied by Load and Parse to absent values.
const (
	DefaultSSHPort          = 22
	DefaultConnectTimeout   = 10 * time.Second
	DefaultKeepalive        = 15 * time.Second
	DefaultSudo             = SudoAuto
	DefaultCassandraPort    = 9042
	DefaultCassandraDataDir = "/var/lib/cassandra/data"
	DefaultKeyspace         = "thehive"
	DefaultESURL            = "http://127.0.0.1:9200"
	DefaultESIndex          = "thehive_global"
	DefaultESAuditIndex     = "thehive-audits"
	DefaultESRepository     = "thehive_repository"
	// DefaultOtherESRepository is the snapshot repository name for
	// platforms other than TheHive.
	DefaultOtherESRepository = "hotsnap_repository"
	DefaultRepositoryURL     = "~/.local/share/hotsnap/backups"
)

var (
	platforms = []string{PlatformTheHive, PlatformEclecticIQ, PlatformAlien4Cloud}
	roles     = []string{RoleCassandra, RoleElasticsearch, RoleTheHive, RoleFiles, RolePostgreSQL,
		RoleRedis, RolePlatform, RoleAlien4Cloud}
	sudoModes = []string{SudoAuto, SudoNoPasswd, SudoPassword, SudoNone}
	providers = []string{StorageLocalFS, StorageS3}
	pathKeys  = []string{PathCassandraData, PathCassandraCommitlog, PathCassandraConf,
		PathElasticsearchData, PathElasticsearchConf, PathElasticsearchRepo, PathAttachments,
		PathTheHiveConf, PathTheHiveLogs, PathPostgreSQLData, PathRedisData, PathPlatformConf,
		PathAlien4CloudData}
)

// Platforms returns the accepted values of platform.
func Platforms() []string { return slices.Clone(platforms) }

// Roles returns the accepted node roles.
func Roles() []string { return slices.Clone(roles) }

// PathKeys returns the accepted keys of a node's paths map.
func PathKeys() []string { return slices.Clone(pathKeys) }

// Inventory is a parsed and validated inventory file, with defaults applied.
type Inventory struct {
	Path          string // file it came from (the name given to Parse)
	Version       int
	Platform      string
	Cluster       string
	SSH           SSH
	Nodes         []Node
	Cassandra     *Cassandra     // nil when the section is absent
	Elasticsearch *Elasticsearch // nil when the section is absent
	Storage       *Storage       // nil when the section is absent
	Alien4Cloud   *Alien4Cloud   // nil when the section is absent
	EclecticIQ    *EclecticIQ    // platform eclecticiq: always set (defaults)
	Repository    Repository
	StateDir      string // yaml state_dir; "" means the tool's default
}

// SSH holds how hotsnap logs in to every node (per-node values override it).
type SSH struct {
	User           string   // "" lets ~/.ssh/config or the current user decide
	Port           int      // default 22
	IdentityFiles  []string // tried after ssh-agent; absolute or ~/ paths
	KnownHosts     string   // "" means ~/.ssh/known_hosts
	ConfigFile     string   // ssh_config to read Host aliases from; "" means ~/.ssh/config
	ConnectTimeout time.Duration
	Keepalive      time.Duration
	Sudo           string // auto | nopasswd | password | none
	SudoPassword   Secret
}

// Node is one machine of the platform.
type Node struct {
	Name          string
	Host          string
	Port          int // 0: use ssh.port
	User          string
	IdentityFiles []string
	Roles         []string
	Paths         map[string]string // keys from PathKeys: cassandra_data, attachments, ...
	Line          int               // line of the node's entry in the file
}

// HasRole reports whether the node carries role.
func (n Node) HasRole(role string) bool { return slices.Contains(n.Roles, role) }

// Cassandra holds the Cassandra settings shared by every cassandra node.
type Cassandra struct {
	Keyspace string
	Port     int
	DataDir  string
	Username string
	Password Secret
	AppRole  string // role granted ALL PERMISSIONS on the keyspace after a restore
}

// Elasticsearch holds the Elasticsearch (or OpenSearch) settings.
type Elasticsearch struct {
	URL            string // as seen from each node
	Index          string // default thehive_global (TheHive); required for other platforms
	AuditIndex     string // default thehive-audits (TheHive); "" means none
	Username       string
	Password       Secret
	Repository     string // snapshot repository name
	RepositoryPath string // path.repo of the fs repository, when hotsnap registers it
}

// Storage describes where the application keeps attachments.
type Storage struct {
	Provider string // localfs | s3
	Path     string // localfs: the directory on the nodes
	Owner    string // localfs: user:group to restore ownership to
	S3       *S3    // s3: the bucket
}

// S3 is an S3-compatible bucket (MinIO, SeaweedFS, AWS).
type S3 struct {
	Endpoint  string
	Bucket    string
	Region    string
	PathStyle bool
	AccessKey Secret
	SecretKey Secret
}

// Repository is where backups are written.
type Repository struct {
	URL string // local absolute or ~/ path, ssh://host/path or s3://bucket/prefix
}

// NodesWithRole returns the nodes that carry role, in file order.
func (inv *Inventory) NodesWithRole(role string) []Node {
	var out []Node
	for _, n := range inv.Nodes {
		if n.HasRole(role) {
			out = append(out, n)
		}
	}
	return out
}

// Node returns the node called name.
func (inv *Inventory) Node(name string) (Node, bool) {
	for _, n := range inv.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// NodeNames returns the names of all nodes, in file order.
func (inv *Inventory) NodeNames() []string {
	names := make([]string, len(inv.Nodes))
	for i, n := range inv.Nodes {
		names[i] = n.Name
	}
	return names
}

// SelectNodes returns the named nodes in the order given, without
// duplicates; with no names it returns every node. The error names every
// unknown node and lists the known ones.
func (inv *Inventory) SelectNodes(names []string) ([]Node, error) {
	if len(names) == 0 {
		return slices.Clone(inv.Nodes), nil
	}
	var out []Node
	var unknown []string
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		n, ok := inv.Node(name)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", name))
			continue
		}
		out = append(out, n)
	}
	if len(unknown) > 0 {
		word := "node"
		if len(unknown) > 1 {
			word = "nodes"
		}
		return nil, fmt.Errorf("unknown %s %s: the inventory has %s", word,
			strings.Join(unknown, ", "), strings.Join(inv.NodeNames(), ", "))
	}
	return out, nil
}

// EffectiveUser is the login user for n: the node's user, else ssh.user.
// "" means "let ~/.ssh/config or the current user decide".
func (inv *Inventory) EffectiveUser(n Node) string {
	if n.User != "" {
		return n.User
	}
	return inv.SSH.User
}

// EffectivePort is the SSH port for n: the node's port, else ssh.port, else 22.
func (inv *Inventory) EffectivePort(n Node) int {
	if n.Port != 0 {
		return n.Port
	}
	if inv.SSH.Port != 0 {
		return inv.SSH.Port
	}
	return DefaultSSHPort
}

// EffectiveIdentityFiles is the identity files for n: the node's list when it
// has one, else ssh.identity_files. Paths are as written (~ not expanded).
func (inv *Inventory) EffectiveIdentityFiles(n Node) []string {
	if len(n.IdentityFiles) > 0 {
		return slices.Clone(n.IdentityFiles)
	}
	return slices.Clone(inv.SSH.IdentityFiles)
}

// applyDefaults fills absent values with their defaults. It is idempotent.
func (inv *Inventory) applyDefaults() {
	if inv.SSH.Port == 0 {
		inv.SSH.Port = DefaultSSHPort
	}
	if inv.SSH.ConnectTimeout == 0 {
		inv.SSH.ConnectTimeout = DefaultConnectTimeout
	}
	if inv.SSH.Keepalive == 0 {
		inv.SSH.Keepalive = DefaultKeepalive
	}
	if inv.SSH.Sudo == "" {
		inv.SSH.Sudo = DefaultSudo
	}
	if c := inv.Cassandra; c != nil {
		if c.Keyspace == "" {
			c.Keyspace = DefaultKeyspace
		}
		if c.Port == 0 {
			c.Port = DefaultCassandraPort
		}
		if c.DataDir == "" {
			c.DataDir = DefaultCassandraDataDir
		}
	}
	if e := inv.Elasticsearch; e != nil {
		if e.URL == "" {
			e.URL = DefaultESURL
		}
		// TheHive's index names are defaults only for TheHive: other platforms
		// name their index (required) and have no audit index unless given.
		if inv.Platform == PlatformTheHive {
			if e.Index == "" {
				e.Index = DefaultESIndex
			}
			if e.AuditIndex == "" {
				e.AuditIndex = DefaultESAuditIndex
			}
		}
		if e.Repository == "" {
			if inv.Platform == PlatformTheHive {
				e.Repository = DefaultESRepository
			} else {
				e.Repository = DefaultOtherESRepository
			}
		}
	}
	if a := inv.Alien4Cloud; a != nil {
		a.applyDefaults()
	}
	if inv.Repository.URL == "" {
		inv.Repository.URL = DefaultRepositoryURL
	}
	inv.applyEclecticIQDefaults()
}
