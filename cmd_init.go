package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"charm.land/huh/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
	"github.com/hotsnap/hotsnap/ui"

	escomp "github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/host"

	"github.com/hotsnap/hotsnap/runbooks/alien4cloud"
	"github.com/hotsnap/hotsnap/runbooks/eclecticiq"
)

type initOpts struct {
	user, knownHosts, sshConfig, sudo, sudoPassword string
	port                                            int
	identities                                      []string
	connectTimeout                                  time.Duration
	cluster, repository, output                     string
	cassandraUser, cassandraPassword, esPassword    string
	force                                           bool
	platform, esIndex, esUser, a4cDir, a4cConfig    string
	a4cPassword                                     string
	pgData, redisData                               string
	// noTTY: never ask on the terminal (the wizard owns it); a value that
	// cannot be discovered is an error naming its flag.
	noTTY bool
}

// defaultInitOpts are init's flag defaults (the wizard's form starts from
// them too).
func defaultInitOpts() initOpts {
	return initOpts{knownHosts: "~/.ssh/known_hosts", connectTimeout: config.DefaultConnectTimeout, sudo: config.SudoAuto,
		cassandraUser: "admin", cassandraPassword: config.SecretPrompt, esPassword: config.SecretPrompt, output: "hotsnap.yaml"}
}

// ask is askValue, or an error naming the flag when o.noTTY.
func (o initOpts) ask(flag, what, have string) (string, error) {
	if have == "" && o.noTTY {
		return "", fmt.Errorf("%s could not be discovered: run hotsnap init with --%s", what, flag)
	}
	return askValue(flag, what, have)
}

// prompt is secretPrompt, or nil (prompt secrets fail) when o.noTTY.
func (o initOpts) prompt() func(label string) (string, error) {
	if o.noTTY {
		return nil
	}
	return secretPrompt()
}

func newInitCmd(g *globals) *cobra.Command {
	o := defaultInitOpts()
	c := &cobra.Command{
		Use:   "init NODE",
		Short: "Draft an inventory from a node's platform configuration (TheHive, EclecticIQ, Alien4Cloud)",
		Long: `Log in to one node (an address or a ~/.ssh/config alias), find which platform
it runs (--platform, else: /etc/thehive/application.conf → thehive,
/etc/eclecticiq/platform_settings.py → eclecticiq, an Alien4Cloud config.yml or
/opt/alien4cloud/data → alien4cloud) and draft the inventory.

EclecticIQ: platform_settings.py is read (never executed) for the PostgreSQL DSN,
the Redis URL and the search URL, elasticsearch.yml for path.repo; PostgreSQL
and Redis are asked for their data directories. Alien4Cloud: the backup tool's
alien4cloud-config.yml (alien4cloud-spray's, else the backup tool's config.yml)
gives the data directory (directories.alien), the REST port and whether
Elasticsearch is remote or embedded; the admin's password is a reference
(--alien4cloud-password). A value that cannot be found is asked with a form on a
terminal, else its flag is required.

TheHive: read
/etc/thehive/application.conf through sudo (with its include files; ${VAR} and
${?VAR} resolved with the environment of the running thehive service), and draft
the inventory: keyspace, Cassandra hosts and whether authentication is on,
Elasticsearch URL (scheme, host), authentication and index, the audit index, the
snapshot repository already registered, attachment storage (local path and
owner, or S3 endpoint, bucket and path-style). Every ring member is found with
"nodetool status" and visited to learn its host name, whether TheHive runs there
and whether Elasticsearch answers there. Where backups go cannot be discovered:
--repository, else it is asked with a form on a terminal.

Passwords are written as references (env:NAME, file:PATH or prompt), never as
values. Review the file, then run "hotsnap preflight".`,
		Example: `  hotsnap init th-node-1 --cluster prod-thehive
  hotsnap init eiq-1 --platform eclecticiq --repository /mnt/backup/hotsnap
  hotsnap init a4c-1 --platform alien4cloud --alien4cloud-dir /opt/alien4cloud/data
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
	f.StringVar(&o.knownHosts, "known-hosts", o.knownHosts, "known_hosts file")
	f.StringVar(&o.sshConfig, "ssh-config", "", "ssh_config file (default ~/.ssh/config)")
	f.DurationVar(&o.connectTimeout, "connect-timeout", o.connectTimeout, "SSH connect timeout")
	f.StringVar(&o.sudo, "sudo", o.sudo, "how to become root: auto, nopasswd, password, none")
	f.StringVar(&o.sudoPassword, "sudo-password", "", "sudo password reference: env:NAME, file:PATH or prompt")
	f.StringVar(&o.cluster, "cluster", "", "cluster name, typed to approve destructive steps (default: Cassandra's cluster name)")
	f.StringVar(&o.repository, "repository", "", "where backups go: a directory, ssh://host/path or s3://bucket/prefix")
	f.StringVar(&o.cassandraUser, "cassandra-user", o.cassandraUser, "Cassandra superuser hotsnap logs in as when authentication is on")
	f.StringVar(&o.cassandraPassword, "cassandra-password", o.cassandraPassword, "reference to its password: env:NAME, file:PATH or prompt")
	f.StringVar(&o.esPassword, "es-password", o.esPassword, "reference to the Elasticsearch password, when authentication is on")
	f.StringVarP(&o.output, "output", "o", o.output, "inventory file to write")
	f.BoolVar(&o.force, "force", false, "overwrite the output file")
	f.StringVar(&o.platform, "platform", "", "thehive, eclecticiq or alien4cloud (default: detected from the node's files)")
	f.StringVar(&o.esIndex, "es-index", "", "eclecticiq: the index the inventory names (default: documents* found on the cluster)")
	f.StringVar(&o.esUser, "es-user", "", "eclecticiq/alien4cloud: Elasticsearch user, when authentication is on")
	f.StringVar(&o.a4cConfig, "alien4cloud-config", "", "alien4cloud: path of alien4cloud-config.yml (or the backup tool's config.yml) on the node (default: searched)")
	f.StringVar(&o.a4cDir, "alien4cloud-dir", "", "alien4cloud: the data directory (directories.alien), when no configuration names it")
	f.StringVar(&o.a4cPassword, "alien4cloud-password", config.SecretPrompt, "alien4cloud: reference to the admin's password (env:NAME, file:PATH or prompt), for maintenance mode")
	f.StringVar(&o.pgData, "postgres-data", "", "eclecticiq: PostgreSQL data directory, when it cannot be asked")
	f.StringVar(&o.redisData, "redis-data", "", "eclecticiq: Redis dump directory, when it cannot be asked")
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
	inv, err := discoverInventory(ctx, g, o, seed, out)
	if err != nil {
		return err
	}
	if err := config.Write(o.output, inv); err != nil {
		return fmt.Errorf("write %s: %w", o.output, err)
	}
	fmt.Fprintf(out, "wrote %s (%s, cluster %q, %d nodes). Review it, then run: hotsnap preflight --inventory %s\n", o.output, inv.Platform, inv.Cluster, len(inv.Nodes), o.output)
	return nil
}

// discoverInventory logs in to seed and drafts its inventory (SSH settings
// and repository from o), printing what it finds on out; it writes nothing.
func discoverInventory(ctx context.Context, g *globals, o initOpts, seed string, out io.Writer) (*config.Inventory, error) {
	sudoPw, err := parseSecretRef("sudo-password", o.sudoPassword)
	if err != nil {
		return nil, usageErr(err)
	}
	casPw, err := parseSecretRef("cassandra-password", o.cassandraPassword)
	if err != nil {
		return nil, usageErr(err)
	}
	esPw, err := parseSecretRef("es-password", o.esPassword)
	if err != nil {
		return nil, usageErr(err)
	}
	ssh := config.SSH{User: o.user, Port: config.DefaultSSHPort, IdentityFiles: o.identities, KnownHosts: o.knownHosts,
		ConfigFile: o.sshConfig, ConnectTimeout: o.connectTimeout, Keepalive: config.DefaultKeepalive, Sudo: o.sudo, SudoPassword: sudoPw}
	if o.port != 0 {
		ssh.Port = o.port
	}
	probe := &config.Inventory{SSH: ssh}
	opts := sshOptions(probe, g)
	if o.noTTY { // nothing may read the terminal: an encrypted key needs the agent
		opts.Passphrase = nil
		if sudoPw.Kind == config.SecretPrompt {
			opts.SudoPassword = nil
		}
	}

	seedPool := remote.NewPool([]remote.Target{{Name: seed, Host: seed, Port: o.port, User: o.user, IdentityFiles: o.identities}}, opts)
	defer seedPool.Close()
	var a4c platformFiles
	switch o.platform {
	case config.PlatformTheHive, config.PlatformEclecticIQ, config.PlatformAlien4Cloud:
		if o.platform == config.PlatformAlien4Cloud && o.a4cConfig == "" && o.a4cDir == "" {
			if a4c, err = detectPlatform(ctx, seedPool, seed); err != nil {
				return nil, err
			}
		}
	case "":
		pf, err := detectPlatform(ctx, seedPool, seed)
		if err != nil {
			return nil, err
		}
		if pf.Platform == "" {
			var known []string
			for _, d := range discoverers() {
				known = append(known, d.ConfigPath())
			}
			known = append(known, config.EclecticIQSettingsPath, "an Alien4Cloud config.yml")
			return nil, usageErr(fmt.Errorf("%s: no platform configuration found (%s): pass --platform", seed, strings.Join(known, ", ")))
		}
		fmt.Fprintf(out, "%s runs %s\n", seed, pf.Platform)
		o.platform, a4c = pf.Platform, pf
	default:
		return nil, usageErr(fmt.Errorf("--platform %q: want %s", o.platform, strings.Join(config.Platforms(), ", ")))
	}
	var inv *config.Inventory
	switch o.platform {
	case config.PlatformEclecticIQ:
		inv, err = initEclecticIQ(ctx, o, seed, seedPool, opts, esPw, out)
	case config.PlatformAlien4Cloud:
		inv, err = initAlien4Cloud(ctx, o, seed, seedPool, a4c, esPw, out)
	default:
		p, lerr := platforms.Lookup(o.platform)
		d, ok := p.(runbooks.Discoverer)
		if lerr != nil || !ok {
			return nil, usageErr(fmt.Errorf("--platform %s: hotsnap init cannot discover it", o.platform))
		}
		inv, err = d.Discover(ctx, runbooks.DiscoverRequest{Seed: seed, SeedPool: seedPool,
			Connect: func(addrs []string) *remote.Pool {
				var ts []remote.Target
				for _, a := range addrs {
					ts = append(ts, remote.Target{Name: a, Host: a, Port: o.port, User: o.user, IdentityFiles: o.identities})
				}
				return remote.NewPool(ts, opts)
			},
			CassandraUser: o.cassandraUser, CassandraPassword: casPw, ESPassword: esPw, Cluster: o.cluster, Prompt: o.prompt(), Out: out})
	}
	if err != nil {
		return nil, err
	}
	inv.SSH = ssh
	inv.Repository.URL = o.repository
	// Where backups go cannot be discovered: init asks on a terminal, and
	// fails naming --repository without one. The wizard's form leaves it
	// for the operator to fill in (its result lists it as missing).
	if inv.Repository.URL == "" && !o.noTTY {
		if inv.Repository.URL, err = askValue("repository", "where backups go (a directory, ssh://host/path or s3://bucket/prefix)", ""); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// initNodes collects the nodes of a drafted inventory, one per host.
type initNodes struct {
	inv    *config.Inventory
	byHost map[string]int
}

// add gives host role (and paths), creating its node on first use; name
// is used when valid and free, else nodeN.
func (ns *initNodes) add(host, name, role string, paths map[string]string) {
	i, ok := ns.byHost[host]
	if !ok {
		if config.ValidNodeName(name) != nil {
			name = ""
		}
		for _, n := range ns.inv.Nodes {
			if n.Name == name {
				name = ""
			}
		}
		if name == "" {
			name = fmt.Sprintf("node%d", len(ns.inv.Nodes)+1)
		}
		ns.inv.Nodes = append(ns.inv.Nodes, config.Node{Name: name, Host: host})
		i = len(ns.inv.Nodes) - 1
		ns.byHost[host] = i
	}
	n := &ns.inv.Nodes[i]
	if role != "" && !n.HasRole(role) {
		n.Roles = append(n.Roles, role)
	}
	for k, v := range paths {
		if n.Paths == nil {
			n.Paths = map[string]string{}
		}
		n.Paths[k] = v
	}
}

// askValue returns have when set; otherwise it asks on a terminal with a
// one-field form, or fails naming the flag to pass.
func askValue(flag, what, have string) (string, error) {
	if have != "" {
		return have, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", usageErr(fmt.Errorf("%s could not be discovered: pass --%s", what, flag))
	}
	ttyMu.Lock()
	defer ttyMu.Unlock()
	var v string
	// ACCESSIBLE (huh's convention) turns the form into plain prompts, for
	// screen readers.
	err := askForm(flag, what, &v).WithOutput(os.Stderr).WithAccessible(os.Getenv("ACCESSIBLE") != "").Run()
	if err != nil {
		return "", usageErr(fmt.Errorf("%s: %w: pass --%s", what, err, flag))
	}
	return v, nil
}

// askForm is the form that asks for what discovery could not find: one
// required field, saying which flag gives it next time.
func askForm(flag, what string, v *string) *huh.Form {
	return huh.NewForm(huh.NewGroup(huh.NewInput().
		Title(what).
		Description("hotsnap init could not discover it (next time: --" + flag + ")").
		Value(v).
		Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("required: it could not be discovered")
			}
			return nil
		})))
}

// serviceHostName is a node name for a service host: the host's first
// label when it is a valid node name.
func serviceHostName(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	label, _, _ := strings.Cut(host, ".")
	return label
}

// initElasticsearch fills inv.Elasticsearch for a non-TheHive platform:
// the URL as seen from the seed, the index (--es-index, else found with
// base; none when base is ""), the fs snapshot repository if one is
// registered, and the cluster name when --cluster is not given.
func initElasticsearch(ctx context.Context, o initOpts, inv *config.Inventory, seed string, seedPool *remote.Pool, url, indexPrefix, base string, pathRepo []string, esPw config.Secret, out io.Writer) (clusterName string, err error) {
	es := &config.Elasticsearch{URL: url, Repository: config.DefaultOtherESRepository, RepositoryPath: "/mnt/backup/elasticsearch"}
	if len(pathRepo) > 0 {
		es.RepositoryPath = pathRepo[0]
	}
	pw := ""
	if o.esUser != "" {
		es.Username, es.Password = o.esUser, esPw
		if pw, err = esPw.Resolve(o.prompt()); err != nil {
			fmt.Fprintf(out, "  cannot read the Elasticsearch password (%v): index and repository not discovered\n", err)
		}
	}
	dial := seedPool.Dialer(seed)
	info, indices, ierr := escomp.InfoAndIndices(ctx, dial, seed, url, es.Username, pw)
	if ierr != nil {
		fmt.Fprintf(out, "  elasticsearch at %s: %v\n", url, ierr)
	}
	if info != nil {
		clusterName = info.ClusterName
		fmt.Fprintf(out, "  %s %s at %s, cluster %q, %d indices\n", info.Distribution, info.Version, url, info.ClusterName, len(indices))
	}
	if base != "" {
		es.Index = o.esIndex
		if es.Index == "" {
			es.Index = escomp.PickIndex(indices, indexPrefix, base)
		}
		if es.Index, err = o.ask("es-index", "Elasticsearch index to name in the inventory", es.Index); err != nil {
			return "", err
		}
	}
	if repos, rerr := escomp.Repositories(ctx, dial, seed, url, es.Username, pw); rerr == nil {
		for _, r := range repos {
			if r.Type == "fs" {
				es.Repository, es.RepositoryPath = r.Name, r.Location
				fmt.Fprintf(out, "  snapshot repository %s at %s\n", r.Name, r.Location)
				break
			}
		}
	}
	inv.Elasticsearch = es
	return clusterName, nil
}

// localURL rewrites an http(s) URL whose host is the seed itself to
// 127.0.0.1 (as the nodes see it) and reports whether it did.
func localURL(u, seed string) (string, string, bool) {
	scheme, rest, _ := strings.Cut(u, "://")
	hostport, _, _ := strings.Cut(rest, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "9200"
	}
	if config.IsLocalHost(host, seed) {
		return scheme + "://127.0.0.1:" + port, host, true
	}
	return u, host, false
}

// initEclecticIQ drafts an EclecticIQ inventory from platform_settings.py
// and elasticsearch.yml on the seed, PostgreSQL's and Redis's own answers.
func initEclecticIQ(ctx context.Context, o initOpts, seed string, seedPool *remote.Pool, opts remote.Options, esPw config.Secret, out io.Writer) (*config.Inventory, error) {
	fmt.Fprintf(out, "reading %s on %s …\n", config.EclecticIQSettingsPath, seed)
	conf, err := eclecticiq.ReadConf(ctx, seedPool, seed)
	if err != nil {
		return nil, err
	}
	for _, w := range conf.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}
	hostname, err := host.Hostname(ctx, seedPool, seed)
	if err != nil {
		return nil, fmt.Errorf("visit %s: %w", seed, err)
	}
	inv := &config.Inventory{Version: 1, Platform: config.PlatformEclecticIQ}
	ns := &initNodes{inv: inv, byHost: map[string]int{}}
	// A service on another host is asked over SSH on that host.
	remoteRun := func(host string, fn func(ex steps.Executor, node string) (string, error)) (string, error) {
		if config.IsLocalHost(host, seed) {
			return fn(seedPool, seed)
		}
		p := remote.NewPool([]remote.Target{{Name: host, Host: host, Port: o.port, User: o.user, IdentityFiles: o.identities}}, opts)
		defer p.Close()
		return fn(p, host)
	}

	// PostgreSQL.
	pg := conf.Postgres
	if pg.Host == "" {
		pg.Host, pg.Port = "localhost", config.DefaultPostgresPort
	}
	pgHost := seed
	if !config.IsLocalHost(pg.Host, seed) {
		pgHost = pg.Host
	}
	fmt.Fprintf(out, "  postgresql: %s:%d database %q user %q\n", pg.Host, pg.Port, pg.Database, pg.User)
	pgData := o.pgData
	if pgData == "" {
		d, err := remoteRun(pg.Host, func(ex steps.Executor, node string) (string, error) {
			return eclecticiq.PostgresDataDir(ctx, ex, node, pg.Port)
		})
		if err != nil {
			fmt.Fprintf(out, "  %v\n", err)
		}
		pgData = d
	}
	if pgData, err = o.ask("postgres-data", "PostgreSQL data directory on "+pgHost, pgData); err != nil {
		return nil, err
	}
	// Redis.
	redisHost := seed
	redisData := o.redisData
	if conf.RedisHost != "" {
		if !config.IsLocalHost(conf.RedisHost, seed) {
			redisHost = conf.RedisHost
		}
		fmt.Fprintf(out, "  redis: %s:%d db %d\n", conf.RedisHost, conf.RedisPort, conf.RedisDB)
		if redisData == "" {
			d, err := remoteRun(conf.RedisHost, func(ex steps.Executor, node string) (string, error) {
				h := conf.RedisHost
				if config.IsLocalHost(h, seed) {
					h = "127.0.0.1"
				}
				return eclecticiq.RedisDataDir(ctx, ex, node, h, conf.RedisPort)
			})
			if err != nil {
				fmt.Fprintf(out, "  %v\n", err)
			}
			redisData = d
		}
	}
	if redisData, err = o.ask("redis-data", "Redis dump directory on "+redisHost, redisData); err != nil {
		return nil, err
	}
	// Nodes, in the lab's role order: services, platform, search.
	seedName := hostname
	ns.add(pgHost, map[bool]string{true: seedName, false: serviceHostName(pgHost)}[pgHost == seed], config.RolePostgreSQL, map[string]string{config.PathPostgreSQLData: pgData})
	ns.add(redisHost, map[bool]string{true: seedName, false: serviceHostName(redisHost)}[redisHost == seed], config.RoleRedis, map[string]string{config.PathRedisData: redisData})
	ns.add(seed, seedName, config.RolePlatform, map[string]string{config.PathPlatformConf: path.Dir(config.EclecticIQSettingsPath)})
	// Elasticsearch.
	esURL := conf.ESURL
	if esURL == "" {
		esURL = config.DefaultESURL
		fmt.Fprintf(out, "  no search URL in %s: using %s\n", config.EclecticIQSettingsPath, esURL)
	}
	esURL, esHost, local := localURL(esURL, seed)
	if local {
		ns.add(seed, seedName, config.RoleElasticsearch, nil)
	} else {
		ns.add(esHost, serviceHostName(esHost), config.RoleElasticsearch, nil)
	}
	inv.EclecticIQ = eiqSection(ctx, conf, pg, func(fn func(ex steps.Executor, node string) (string, error)) (string, error) {
		return remoteRun(pg.Host, fn)
	}, out)
	clusterName, err := initElasticsearch(ctx, o, inv, seed, seedPool, esURL, conf.ESIndexPrefix, "documents", conf.ESPathRepo, esPw, out)
	if err != nil {
		return nil, err
	}
	if clusterName == "" {
		clusterName = conf.ESClusterName
	}
	inv.Cluster = clusterNameOr(o.cluster, clusterName, config.PlatformEclecticIQ)
	printNodes(inv, out)
	return inv, nil
}

// eiqSection drafts the inventory's eclecticiq section: PostgreSQL's port
// and database from the DSN and its unit as systemd lists it (on the host
// onPG runs on), the broker's port and database from REDIS_URL, and a
// prompt for the Redis password when REDIS_URL carries one (never the
// password itself).
func eiqSection(ctx context.Context, conf *config.EclecticIQConf, pg config.PostgresDSN, onPG func(func(ex steps.Executor, node string) (string, error)) (string, error), out io.Writer) *config.EclecticIQ {
	e := &config.EclecticIQ{Redis: config.EIQRedis{Port: conf.RedisPort, DB: conf.RedisDB}}
	if conf.RedisURL == "" {
		e.Redis.DB = -1
	}
	e.Postgres.Port, e.Postgres.Database = pg.Port, pg.Database
	if u, err := url.Parse(conf.RedisURL); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			e.Redis.Password = config.Secret{Kind: config.SecretPrompt, Ref: "eclecticiq.redis.password"}
		}
	}
	unit, err := onPG(func(ex steps.Executor, node string) (string, error) {
		var b strings.Builder
		_, err := ex.Run(ctx, node, remote.Command{Cmd: "systemctl list-units --all --plain --no-legend --no-pager 'postgresql*'", Sudo: true, Stdout: &b, Stderr: io.Discard})
		if err != nil {
			return "", err
		}
		us, err := parse.ParseListUnits(b.String())
		for _, u := range us {
			if strings.HasSuffix(u.Unit, ".service") && !strings.Contains(u.Unit, "@") {
				return strings.TrimSuffix(u.Unit, ".service"), nil
			}
		}
		return "", err
	})
	if unit != "" {
		e.Postgres.Unit = unit
		fmt.Fprintf(out, "  postgresql unit: %s\n", unit)
	} else {
		fmt.Fprintf(out, "  postgresql unit not found (%v): eclecticiq.postgres.unit keeps its default %s\n", err, config.DefaultEIQPGUnit)
	}
	return e
}

// initAlien4Cloud drafts an Alien4Cloud inventory from alien4cloud-config.yml
// (else the backup tool's config.yml, else the documented data directory)
// and the ES cluster.
func initAlien4Cloud(ctx context.Context, o initOpts, seed string, seedPool *remote.Pool, found platformFiles, esPw config.Secret, out io.Writer) (*config.Inventory, error) {
	var conf config.Alien4CloudConf
	file := o.a4cConfig
	if file == "" {
		file = found.Alien4CloudConfig
	}
	if file != "" {
		fmt.Fprintf(out, "reading %s on %s …\n", file, seed)
		c, err := alien4cloud.ReadConf(ctx, seedPool, seed, file)
		if err != nil {
			return nil, err
		}
		conf = *c
	} else {
		fmt.Fprintf(out, "no Alien4Cloud config.yml on %s (looked in %s)\n", seed, strings.Join(config.Alien4CloudConfigPaths, ", "))
	}
	hostname, err := host.Hostname(ctx, seedPool, seed)
	if err != nil {
		return nil, fmt.Errorf("visit %s: %w", seed, err)
	}
	dataDir := o.a4cDir
	switch {
	case dataDir != "":
	case conf.DataDir != "":
		dataDir = conf.DataDir
	case found.Alien4CloudDataDir != "":
		dataDir = found.Alien4CloudDataDir
		fmt.Fprintf(out, "  using the documented alien4cloud.dir %s, which exists on %s\n", dataDir, seed)
	}
	if dataDir, err = o.ask("alien4cloud-dir", "Alien4Cloud data directory (directories.alien) on "+seed, dataDir); err != nil {
		return nil, err
	}
	a4cPw, err := parseSecretRef("alien4cloud-password", o.a4cPassword)
	if err != nil {
		return nil, usageErr(err)
	}
	inv := &config.Inventory{Version: 1, Platform: config.PlatformAlien4Cloud}
	inv.Alien4Cloud = alien4cloud.Section(file, &conf, dataDir, a4cPw)
	if conf.Embedded {
		fmt.Fprintf(out, "  Elasticsearch runs inside Alien4Cloud (elasticSearch.client/transportClient false): backups and restores keep it in maintenance mode\n")
	}
	ns := &initNodes{inv: inv, byHost: map[string]int{}}
	ns.add(seed, hostname, config.RoleAlien4Cloud, nil)
	// The configuration's hosts are transport (9300) endpoints: HTTP is 9200.
	esURL := config.DefaultESURL
	local := len(conf.ESAddresses) == 0 || conf.Embedded
	for _, a := range conf.ESAddresses {
		host := a
		if h, _, err := net.SplitHostPort(a); err == nil {
			host = h
		}
		if conf.Embedded || config.IsLocalHost(host, seed) {
			local = true
			continue
		}
		ns.add(host, serviceHostName(host), config.RoleElasticsearch, nil)
	}
	if local {
		ns.add(seed, hostname, config.RoleElasticsearch, nil)
	} else {
		h, _, err := net.SplitHostPort(conf.ESAddresses[0])
		if err != nil {
			h = conf.ESAddresses[0]
		}
		esURL = "http://" + net.JoinHostPort(h, "9200")
	}
	// Alien4Cloud's indices are discovered at every run: none is named.
	clusterName, err := initElasticsearch(ctx, o, inv, seed, seedPool, esURL, "", "", nil, esPw, out)
	if err != nil {
		return nil, err
	}
	if conf.ESClusterName != "" && clusterName != "" && conf.ESClusterName != clusterName {
		fmt.Fprintf(out, "  warning: %s says cluster_name %q but Elasticsearch reports %q: the backup tool would not connect\n", file, conf.ESClusterName, clusterName)
	}
	if clusterName == "" {
		clusterName = conf.ESClusterName
	}
	inv.Cluster = clusterNameOr(o.cluster, clusterName, config.PlatformAlien4Cloud)
	printNodes(inv, out)
	return inv, nil
}

// clusterNameOr is flag, else the sanitized discovered name, else def.
func clusterNameOr(flag, discovered, def string) string {
	if flag != "" {
		return flag
	}
	if s := config.SanitizeClusterName(discovered); s != "" {
		return s
	}
	return def
}

func printNodes(inv *config.Inventory, out io.Writer) {
	for _, n := range inv.Nodes {
		fmt.Fprintf(out, "  %s (%s): %s\n", n.Name, n.Host, strings.Join(n.Roles, ", "))
	}
}

// initFromWizard runs init for the wizard's Init form: the form's answers
// over init's defaults, nothing asked on the terminal, progress lines to
// progress. It refuses an existing file unless req.Overwrite (wrapping
// ui.ErrInventoryExists), writes the inventory, points g at it and returns
// what was found, what is missing and the Home for the new inventory.
func initFromWizard(ctx context.Context, g *globals, req ui.InitRequest, progress func(string)) (*ui.InitResult, error) {
	o := defaultInitOpts()
	o.noTTY, o.user, o.cluster, o.force, o.sudoPassword = true, req.User, req.Cluster, req.Overwrite, req.SudoPassword
	if o.sudoPassword == config.SecretPrompt {
		return nil, errors.New("sudo password: the wizard cannot ask it; give env:NAME or file:PATH")
	}
	if req.Identity != "" {
		o.identities = []string{req.Identity}
	}
	if req.KnownHosts != "" {
		o.knownHosts = req.KnownHosts
	}
	if req.Output != "" {
		o.output = req.Output
	}
	if strings.TrimSpace(req.Node) == "" {
		return nil, errors.New("no node given: an address or a ~/.ssh/config alias")
	}
	if _, err := os.Stat(o.output); err == nil && !o.force {
		return nil, fmt.Errorf("%s: %w", o.output, ui.ErrInventoryExists)
	}
	lw := &lineWriter{emit: progress}
	inv, err := discoverInventory(ctx, g, o, strings.TrimSpace(req.Node), lw)
	lw.Flush()
	if err != nil {
		return nil, fmt.Errorf("discover from %s: %w", req.Node, err)
	}
	if err := config.Write(o.output, inv); err != nil {
		return nil, fmt.Errorf("write %s: %w", o.output, err)
	}
	res := initResult(inv, o.output, lw.lines)
	g.inventory = o.output
	home := wizardConfig(g)
	res.Home = &home
	return res, nil
}

// initResult sorts a drafted inventory into what was found and what is
// missing (prompt references, an empty repository, the discovery's
// warnings and fallbacks among log).
func initResult(inv *config.Inventory, path string, log []string) *ui.InitResult {
	facts := inventoryFacts(inv)
	facts.Path = path
	r := &ui.InitResult{Path: path, Inventory: facts, Log: log}
	found := func(label, value string) { r.Found = append(r.Found, [2]string{label, value}) }
	prompt := func(what string, s config.Secret) {
		if s.Kind == config.SecretPrompt {
			r.Missing = append(r.Missing, what+" is written as prompt: asked at every run (write env:NAME or file:PATH to run unattended)")
		}
	}
	if c := inv.Cassandra; c != nil {
		v := "keyspace " + c.Keyspace
		if c.Username != "" {
			v += ", authentication on (user " + c.Username + ")"
		}
		found("cassandra", v)
		prompt("the Cassandra password", c.Password)
	}
	if e := inv.Elasticsearch; e != nil {
		if e.Index != "" {
			found("elasticsearch", e.URL+" index "+e.Index)
		} else {
			found("elasticsearch", e.URL+" (indices discovered at every run)")
		}
		found("snapshot repository", e.Repository+" at "+e.RepositoryPath)
		prompt("the Elasticsearch password", e.Password)
	}
	if a := inv.Alien4Cloud; a != nil {
		found("alien4cloud", a.URL+" as "+a.Username+", "+a.Config)
		prompt("the Alien4Cloud admin password", a.Password)
	}
	if s := inv.Storage; s != nil {
		switch {
		case s.S3 != nil:
			found("storage", "s3 "+s.S3.Endpoint+" bucket "+s.S3.Bucket)
			prompt("the S3 access key", s.S3.AccessKey)
			prompt("the S3 secret key", s.S3.SecretKey)
		default:
			v := "local " + s.Path
			if s.Owner != "" {
				v += " (" + s.Owner + ")"
			}
			found("storage", v)
		}
	}
	if inv.Repository.URL == "" {
		r.Missing = append(r.Missing, "repository.url is empty: set where backups go (a directory, ssh://host/path or s3://bucket/prefix)")
	}
	for _, l := range log {
		t := strings.TrimSpace(l)
		for _, w := range []string{"warning", "failed", "could not", "cannot", "defaults written", "using "} {
			if strings.Contains(t, w) {
				r.Missing = append(r.Missing, strings.TrimPrefix(t, "warning: "))
				break
			}
		}
	}
	return r
}

// lineWriter turns what discovery prints into lines: each is kept and
// passed to emit (when set) as soon as it ends.
type lineWriter struct {
	emit  func(string)
	buf   []byte
	lines []string
}

// Write splits p into lines.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// Flush emits a last line left without its newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) line(l string) {
	w.lines = append(w.lines, l)
	if w.emit != nil {
		w.emit(l)
	}
}
