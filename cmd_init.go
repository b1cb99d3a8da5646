package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

type initOpts struct {
	user, knownHosts, sshConfig, sudo, sudoPassword string
	port                                            int
	identities                                      []string
	connectTimeout                                  time.Duration
	cluster, repository, output                     string
	cassandraUser, cassandraPassword, esPassword    string
	force                                           bool
}

func newInitCmd(g *globals) *cobra.Command {
	var o initOpts
	c := &cobra.Command{
		Use:   "init NODE",
		Short: "Draft an inventory from a TheHive node's application.conf and the Cassandra ring",
		Long: `Log in to one TheHive node (an address or a ~/.ssh/config alias), read
/etc/thehive/application.conf through sudo (with its include files), and draft the
inventory: keyspace, Cassandra hosts and whether authentication is on,
Elasticsearch URL and index, the snapshot repository already registered,
attachment storage (local path and owner, or S3 endpoint and bucket). Every ring
member is found with "nodetool status" and visited to learn its host name and
whether TheHive runs there.

Passwords are written as references (env:NAME, file:PATH or prompt), never as
values. Review the file, then run "hotsnap preflight".`,
		Example: `  hotsnap init th-node-1 --cluster prod-thehive
  hotsnap init 10.0.0.11 --user ops --identity ~/.ssh/ops_ed25519 -o prod.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(cmd.Context(), g, o, args[0], cmd.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringVar(&o.user, "user", "", "SSH user (default: ~/.ssh/config, else the local user)")
	f.IntVar(&o.port, "port", 0, "SSH port (default: ~/.ssh/config, else 22)")
	f.StringSliceVar(&o.identities, "identity", nil, "SSH private key file (repeatable; the agent is tried first)")
	f.StringVar(&o.knownHosts, "known-hosts", "~/.ssh/known_hosts", "known_hosts file")
	f.StringVar(&o.sshConfig, "ssh-config", "", "ssh_config file (default ~/.ssh/config)")
	f.DurationVar(&o.connectTimeout, "connect-timeout", config.DefaultConnectTimeout, "SSH connect timeout")
	f.StringVar(&o.sudo, "sudo", config.SudoAuto, "how to become root: auto, nopasswd, password, none")
	f.StringVar(&o.sudoPassword, "sudo-password", "", "sudo password reference: env:NAME, file:PATH or prompt")
	f.StringVar(&o.cluster, "cluster", "", "cluster name, typed to approve destructive steps (default: Cassandra's cluster name)")
	f.StringVar(&o.repository, "repository", "", "where backups go: a directory, ssh://host/path or s3://bucket/prefix")
	f.StringVar(&o.cassandraUser, "cassandra-user", "admin", "Cassandra superuser hotsnap logs in as when authentication is on")
	f.StringVar(&o.cassandraPassword, "cassandra-password", "prompt", "reference to its password: env:NAME, file:PATH or prompt")
	f.StringVar(&o.esPassword, "es-password", "prompt", "reference to the Elasticsearch password, when authentication is on")
	f.StringVarP(&o.output, "output", "o", "hotsnap.yaml", "inventory file to write")
	f.BoolVar(&o.force, "force", false, "overwrite the output file")
	return c
}

func parseSecretRef(flag, s string) (config.Secret, error) {
	switch {
	case s == "":
		return config.Secret{}, nil
	case s == config.SecretPrompt:
		return config.Secret{Kind: config.SecretPrompt}, nil
	case strings.HasPrefix(s, "env:") && len(s) > 4:
		return config.Secret{Kind: config.SecretEnv, Ref: s[4:]}, nil
	case strings.HasPrefix(s, "file:") && len(s) > 5:
		return config.Secret{Kind: config.SecretFile, Ref: s[5:]}, nil
	}
	return config.Secret{}, fmt.Errorf("--%s %q: want env:NAME, file:PATH or prompt (a password is never given inline)", flag, s)
}

func runInit(ctx context.Context, g *globals, o initOpts, seed string, out io.Writer) error {
	if _, err := os.Stat(o.output); err == nil && !o.force {
		return usageErr(fmt.Errorf("%s exists: choose another --output or pass --force", o.output))
	}
	sudoPw, err := parseSecretRef("sudo-password", o.sudoPassword)
	if err != nil {
		return usageErr(err)
	}
	casPw, err := parseSecretRef("cassandra-password", o.cassandraPassword)
	if err != nil {
		return usageErr(err)
	}
	esPw, err := parseSecretRef("es-password", o.esPassword)
	if err != nil {
		return usageErr(err)
	}
	ssh := config.SSH{User: o.user, Port: config.DefaultSSHPort, IdentityFiles: o.identities, KnownHosts: o.knownHosts,
		ConfigFile: o.sshConfig, ConnectTimeout: o.connectTimeout, Keepalive: config.DefaultKeepalive, Sudo: o.sudo, SudoPassword: sudoPw}
	if o.port != 0 {
		ssh.Port = o.port
	}
	probe := &config.Inventory{SSH: ssh}
	opts := sshOptions(probe, g)

	// 1. The seed node's configuration.
	seedPool := remote.NewPool([]remote.Target{{Name: seed, Host: seed, Port: o.port, User: o.user, IdentityFiles: o.identities}}, opts)
	defer seedPool.Close()
	fmt.Fprintf(out, "reading %s on %s …\n", steps.TheHiveConfPath, seed)
	conf, err := steps.ReadTheHiveConf(ctx, seedPool, seed)
	if err != nil {
		return err
	}
	for _, w := range conf.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}

	// 2. The ring, from the seed (else the configured hosts).
	addrs, err := steps.RingAddresses(ctx, seedPool, seed, conf.Keyspace)
	if err != nil {
		fmt.Fprintf(out, "  nodetool status on %s failed (%v); using the hosts of db.janusgraph.storage.hostname\n", seed, err)
		addrs = conf.CassandraHosts
	}
	if len(addrs) == 0 {
		return errors.New("no Cassandra node found: neither nodetool status nor application.conf names one")
	}
	sort.Strings(addrs)

	// 3. Visit every ring member.
	var ts []remote.Target
	for _, a := range addrs {
		ts = append(ts, remote.Target{Name: a, Host: a, Port: o.port, User: o.user, IdentityFiles: o.identities})
	}
	pool := remote.NewPool(ts, opts)
	defer pool.Close()
	inv := &config.Inventory{Version: 1, Platform: config.PlatformTheHive, SSH: ssh}
	names := map[string]string{}
	for _, a := range addrs {
		facts, err := steps.ProbeNode(ctx, pool, a)
		if err != nil {
			return fmt.Errorf("visit ring member %s: %w", a, err)
		}
		name := facts.Hostname
		if config.ValidNodeName(name) != nil || names[name] != "" {
			name = fmt.Sprintf("node%d", len(inv.Nodes)+1)
		}
		names[name] = a
		roles := []string{config.RoleCassandra}
		if facts.TheHive {
			roles = append(roles, config.RoleElasticsearch, config.RoleTheHive)
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
		inv.Cassandra.Username, inv.Cassandra.Password = o.cassandraUser, casPw
	}
	esURL := steps.ESURLFor(conf, addrs)
	inv.Elasticsearch = &config.Elasticsearch{URL: esURL, Index: conf.ESGlobalIndex(), AuditIndex: conf.AuditIndex,
		Repository: config.DefaultESRepository, RepositoryPath: "/mnt/backup/elasticsearch"}
	if conf.ESAuth {
		inv.Elasticsearch.Username, inv.Elasticsearch.Password = conf.ESUser, esPw
	}
	first := firstTheHive(inv)
	if !conf.ESAuth || esPw.Kind != config.SecretPrompt {
		pw := ""
		if conf.ESAuth {
			if pw, err = esPw.Resolve(secretPrompt()); err != nil {
				fmt.Fprintf(out, "  cannot read the Elasticsearch password (%v): repository not discovered\n", err)
			}
		}
		if repos, err := steps.ESRepositories(ctx, pool.Dialer(names[first]), first, esURL, inv.Elasticsearch.Username, pw); err == nil {
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
	inv.Cluster = o.cluster
	if inv.Cluster == "" {
		var b strings.Builder
		if _, err := pool.Run(ctx, names[first], remote.Command{Cmd: "nodetool describecluster", Stdout: &b}); err == nil {
			if d, err := steps.ParseDescribeCluster(b.String()); err == nil {
				inv.Cluster = sanitizeClusterName(d.Name)
			}
		}
		if inv.Cluster == "" {
			inv.Cluster = "thehive"
		}
	}
	inv.Repository.URL = o.repository
	if err := config.Write(o.output, inv); err != nil {
		return fmt.Errorf("write %s: %w", o.output, err)
	}
	fmt.Fprintf(out, "wrote %s (cluster %q, %d nodes). Review it, then run: hotsnap preflight --inventory %s\n", o.output, inv.Cluster, len(inv.Nodes), o.output)
	return nil
}

func firstTheHive(inv *config.Inventory) string {
	for _, n := range inv.Nodes {
		if n.HasRole(config.RoleTheHive) {
			return n.Name
		}
	}
	return inv.Nodes[0].Name
}

// sanitizeClusterName turns Cassandra's cluster_name into a valid inventory
// cluster name ("Test Cluster" → "Test-Cluster").
func sanitizeClusterName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}
