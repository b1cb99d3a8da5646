package thehive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/host"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// TheHiveConfPath is where TheHive keeps its configuration.
const TheHiveConfPath = "/etc/thehive/application.conf"

// ReadTheHiveConf reads /etc/thehive/application.conf on node (through sudo),
// following its includes on the same node, and extracts what hotsnap needs.
// When the files use substitutions (${VAR}, ${?VAR}), they are resolved with
// the environment of the running thehive service, as TheHive itself sees it
// (TheHiveEnvironment); when the service is not running, without it, and a
// warning says so. Errors name the node and the file with line:col.
func ReadTheHiveConf(ctx context.Context, ex steps.Executor, node string) (*config.TheHiveConf, error) {
	data, err := host.ReadFile(ctx, ex, node, TheHiveConfPath)
	if err != nil {
		return nil, fmt.Errorf("read TheHive configuration: %w", err)
	}
	substs := strings.Contains(string(data), "${")
	read := map[string][]byte{} // includes, read once for both passes
	include := func(p string) ([]byte, error) {
		if !path.IsAbs(p) {
			p = path.Join(path.Dir(TheHiveConfPath), p)
		}
		if b, ok := read[p]; ok {
			return b, nil
		}
		b, err := host.ReadFile(ctx, ex, node, p)
		if err == nil {
			read[p] = b
			substs = substs || strings.Contains(string(b), "${")
		}
		return b, err
	}
	opts := config.HOCONOptions{Env: map[string]string{}, Include: include}
	conf, err := config.ReadTheHiveConf(TheHiveConfPath, data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	if !substs {
		return conf, nil
	}
	env, err := TheHiveEnvironment(ctx, ex, node)
	if err != nil {
		conf.Warnings = append(conf.Warnings, fmt.Sprintf("the configuration uses ${...} substitutions, resolved without TheHive's environment: %v; check the values drafted from them", err))
		return conf, nil
	}
	opts.Env = env
	if conf, err = config.ReadTheHiveConf(TheHiveConfPath, data, opts); err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	return conf, nil
}

// theHiveEnvCmd prints the environment of the running thehive service,
// NUL-separated, or fails when it does not run.
const theHiveEnvCmd = `pid=$(systemctl show -p MainPID --value thehive 2>/dev/null); [ -n "$pid" ] && [ "$pid" != 0 ] && cat /proc/"$pid"/environ`

// TheHiveEnvironment returns the environment of the running thehive service
// on node (/proc/MAINPID/environ, through sudo): what TheHive resolves the
// ${VAR} and ${?VAR} substitutions of its configuration with. Values may be
// secrets: they are only used to resolve the configuration, never shown.
func TheHiveEnvironment(ctx context.Context, ex steps.Executor, node string) (map[string]string, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: theHiveEnvCmd, Sudo: true, Stdout: &b, Stderr: io.Discard})
	if err != nil {
		return nil, fmt.Errorf("%s: the environment of the thehive service could not be read (is it running?)", node)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(b.String(), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env, nil
}

// RingAddresses returns the addresses of every ring member, as `nodetool
// status` on node shows them.
func RingAddresses(ctx context.Context, ex steps.Executor, node, keyspace string) ([]string, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: "nodetool status " + remote.Quote(keyspace), Stdout: &b, Stderr: io.Discard})
	if err != nil {
		if perr := parse.ParseNodetoolError(b.String()); perr != nil {
			return nil, fmt.Errorf("%s: nodetool status: %w", node, perr)
		}
		return nil, err
	}
	ring, err := parse.ParseNodetoolStatus(b.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	var out []string
	for _, n := range ring.Nodes() {
		out = append(out, n.Address)
	}
	return out, nil
}

// NodeFacts is what init learns by logging in to a node.
type NodeFacts struct {
	Hostname string
	TheHive  bool // /etc/thehive/application.conf exists
}

// ProbeNode reads a node's short host name and whether TheHive is installed.
func ProbeNode(ctx context.Context, ex steps.Executor, node string) (NodeFacts, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: "hostname -s; if [ -e " + TheHiveConfPath + " ]; then echo thehive; fi", Sudo: true, Stdout: &b, Stderr: io.Discard})
	if err != nil {
		return NodeFacts{}, err
	}
	lines := strings.Fields(b.String())
	if len(lines) == 0 {
		return NodeFacts{}, fmt.Errorf("%s: hostname printed nothing", node)
	}
	return NodeFacts{Hostname: lines[0], TheHive: len(lines) > 1 && lines[1] == "thehive"}, nil
}

// ESURLFor picks the Elasticsearch URL as seen from the nodes: the node's
// own loopback when Elasticsearch runs on the TheHive nodes (as the
// documented scripts assume), else the first configured host.
func ESURLFor(conf *config.TheHiveConf, nodeAddrs []string) string {
	scheme := conf.ESScheme
	if scheme == "" {
		scheme = config.DefaultESScheme
	}
	local := map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true}
	for _, a := range nodeAddrs {
		local[a] = true
	}
	for _, h := range conf.ESHosts {
		host, port := h, "9200"
		if hh, pp, err := net.SplitHostPort(h); err == nil {
			host, port = hh, pp
		}
		if local[host] {
			return scheme + "://127.0.0.1:" + port
		}
	}
	if len(conf.ESHosts) > 0 {
		h := conf.ESHosts[0]
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "9200")
		}
		return scheme + "://" + h
	}
	return config.DefaultESURL
}

// ConfigPath is TheHive's application.conf: a node that has it runs
// TheHive.
func (Platform) ConfigPath() string { return TheHiveConfPath }

// Discover drafts a TheHive inventory from req.Seed: its application.conf
// (includes and ${VAR}s resolved), the ring, every ring member visited (its
// host name, TheHive installed or not, Elasticsearch answering or not),
// the snapshot repository, the attachment storage and the cluster name.
func (Platform) Discover(ctx context.Context, req runbooks.DiscoverRequest) (*config.Inventory, error) {
	seed, seedPool, out := req.Seed, req.SeedPool, req.Out
	casPw, esPw := req.CassandraPassword, req.ESPassword
	// 1. The seed node's configuration.
	fmt.Fprintf(out, "reading %s on %s …\n", TheHiveConfPath, seed)
	conf, err := ReadTheHiveConf(ctx, seedPool, seed)
	if err != nil {
		return nil, err
	}
	for _, w := range conf.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}

	// 2. The ring, from the seed (else the configured hosts).
	addrs, err := RingAddresses(ctx, seedPool, seed, conf.Keyspace)
	if err != nil {
		fmt.Fprintf(out, "  nodetool status on %s failed (%v); using the hosts of db.janusgraph.storage.hostname\n", seed, err)
		addrs = conf.CassandraHosts
	}
	if len(addrs) == 0 {
		return nil, errors.New("no Cassandra node found: neither nodetool status nor application.conf names one")
	}
	sort.Strings(addrs)

	// 3. Visit every ring member.
	pool := req.Connect(addrs)
	defer pool.Close()
	inv := &config.Inventory{Version: 1, Platform: config.PlatformTheHive}
	names := map[string]string{}
	esURL := ESURLFor(conf, addrs)
	facts := make([]NodeFacts, len(addrs))
	esOn := make([]bool, len(addrs))
	for i, a := range addrs {
		if facts[i], err = ProbeNode(ctx, pool, a); err != nil {
			return nil, fmt.Errorf("visit ring member %s: %w", a, err)
		}
		esOn[i] = es.Answers(ctx, pool.Dialer(a), a, esURL, conf.ESHosts)
	}
	// The Elasticsearch nodes are the ring members where it answers (on
	// the loopback when TheHive's configuration names it there, else at
	// a configured search host); when none does, the TheHive nodes.
	anyES := slices.Contains(esOn, true)
	if !anyES {
		fmt.Fprintf(out, "  Elasticsearch (%s) answered on no ring member: giving the elasticsearch role to the TheHive nodes\n", esURL)
	}
	for i, a := range addrs {
		name := facts[i].Hostname
		if config.ValidNodeName(name) != nil || names[name] != "" {
			name = fmt.Sprintf("node%d", len(inv.Nodes)+1)
		}
		names[name] = a
		roles := []string{config.RoleCassandra}
		if esOn[i] || (!anyES && facts[i].TheHive) {
			roles = append(roles, config.RoleElasticsearch)
		}
		if facts[i].TheHive {
			roles = append(roles, config.RoleTheHive)
		}
		inv.Nodes = append(inv.Nodes, config.Node{Name: name, Host: a, Roles: roles})
		fmt.Fprintf(out, "  %s (%s): %s\n", name, a, strings.Join(roles, ", "))
	}
	sort.Slice(inv.Nodes, func(i, j int) bool { return inv.Nodes[i].Name < inv.Nodes[j].Name })

	// 4. Components.
	inv.Cassandra = &config.Cassandra{Keyspace: conf.Keyspace, Port: conf.CassandraPort, DataDir: config.DefaultCassandraDataDir, AppRole: "thehive"}
	if conf.CassandraUser != "" {
		inv.Cassandra.AppRole = conf.CassandraUser
	}
	if conf.CassandraAuth {
		inv.Cassandra.Username, inv.Cassandra.Password = req.CassandraUser, casPw
	}
	inv.Elasticsearch = &config.Elasticsearch{URL: esURL, Index: conf.ESGlobalIndex(), AuditIndex: conf.AuditIndex,
		Repository: config.DefaultESRepository, RepositoryPath: "/mnt/backup/elasticsearch"}
	if conf.ESAuth {
		inv.Elasticsearch.Username, inv.Elasticsearch.Password = conf.ESUser, esPw
	}
	first := firstTheHive(inv)
	if !conf.ESAuth || esPw.Kind != config.SecretPrompt {
		pw := ""
		if conf.ESAuth {
			if pw, err = esPw.Resolve(req.Prompt); err != nil {
				fmt.Fprintf(out, "  cannot read the Elasticsearch password (%v): repository not discovered\n", err)
			}
		}
		if repos, err := es.Repositories(ctx, pool.Dialer(names[first]), first, esURL, inv.Elasticsearch.Username, pw); err == nil {
			for _, r := range repos {
				if r.Type == "fs" {
					inv.Elasticsearch.Repository, inv.Elasticsearch.RepositoryPath = r.Name, r.Location
					fmt.Fprintf(out, "  snapshot repository %s at %s\n", r.Name, r.Location)
					break
				}
			}
		} else {
			fmt.Fprintf(out, "  could not list snapshot repositories (%v): defaults written\n", err)
		}
	}
	switch conf.StorageProvider {
	case config.StorageS3:
		inv.Storage = &config.Storage{Provider: config.StorageS3, S3: &config.S3{Endpoint: conf.S3Endpoint, Bucket: conf.S3Bucket, Region: conf.S3Region,
			PathStyle: conf.S3PathStyle, AccessKey: config.Secret{Kind: config.SecretPrompt}, SecretKey: config.Secret{Kind: config.SecretPrompt}}}
	default:
		inv.Storage = &config.Storage{Provider: config.StorageLocalFS, Path: conf.StoragePath}
		var b strings.Builder
		if _, err := pool.Run(ctx, names[first], remote.Command{Cmd: "stat -c %U:%G " + remote.Quote(conf.StoragePath), Sudo: true, Stdout: &b}); err == nil {
			inv.Storage.Owner = strings.TrimSpace(b.String())
		}
		for i := range inv.Nodes {
			if inv.Nodes[i].Name == first {
				inv.Nodes[i].Roles = append(inv.Nodes[i].Roles, config.RoleFiles)
			}
		}
	}

	// 5. Names.
	inv.Cluster = req.Cluster
	if inv.Cluster == "" {
		var b strings.Builder
		if _, err := pool.Run(ctx, names[first], remote.Command{Cmd: "nodetool describecluster", Stdout: &b}); err == nil {
			if d, err := parse.ParseDescribeCluster(b.String()); err == nil {
				inv.Cluster = config.SanitizeClusterName(d.Name)
			}
		}
		if inv.Cluster == "" {
			inv.Cluster = "thehive"
		}
	}
	return inv, nil
}

// firstTheHive is the first node with the thehive role, else the first.
func firstTheHive(inv *config.Inventory) string {
	for _, n := range inv.Nodes {
		if n.HasRole(config.RoleTheHive) {
			return n.Name
		}
	}
	return inv.Nodes[0].Name
}
