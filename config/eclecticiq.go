package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// EclecticIQ is the eclecticiq: section of an EclecticIQ inventory: what
// its runbooks need besides the nodes and Elasticsearch. Every key has a
// default (seed 003's, or what `hotsnap init` found), so the section may
// be absent.
type EclecticIQ struct {
	// Settings is platform_settings.py on the platform node (read, never
	// executed: the broker's Redis database comes from REDIS_URL).
	Settings string
	Postgres EIQPostgres
	Redis    EIQRedis
	// ConfigPaths are the configuration files and directories backed up
	// on the platform node (default: seed 003's list,
	// DefaultEclecticIQConfigPaths); Exclude are left out of the archive
	// (Elasticsearch's live data).
	ConfigPaths []string
	Exclude     []string
	// IndexPatterns select the platform's Elasticsearch indices among
	// _cat/indices (seed 003's default indices; never _all).
	IndexPatterns []string
	// DrainTimeout is how long the backup waits for the Celery queues to
	// drain before it asks what to do.
	DrainTimeout time.Duration
	// RunDir holds the platform's PID files (celerybeat.pid …).
	RunDir string
	// PlatformBin is eiq-platform; PlatformUser the account it runs as.
	PlatformBin  string
	PlatformUser string
}

// EIQPostgres is how hotsnap reaches PostgreSQL on the postgresql node:
// pg_dumpall, pg_dump and psql run as OSUser (peer authentication, as
// seed 003's `sudo -i -u postgres`), on Port, from BinDir ("" = PATH).
type EIQPostgres struct {
	OSUser string
	Port   int
	BinDir string
	// Unit is PostgreSQL's systemd unit (postgresql-<major> as PGDG names
	// it); its drop-in is among the configuration files.
	Unit string
	// Database is the platform's database (the failed-packages query runs
	// there).
	Database string
}

// EIQRedis is the broker: Redis on the redis node at 127.0.0.1:Port,
// database DB (-1: REDIS_URL's, read from platform_settings.py), its
// password (requirepass) sent to redis-cli through REDISCLI_AUTH on stdin.
type EIQRedis struct {
	Port     int
	DB       int
	Password Secret
}

// Defaults of the eclecticiq section.
const (
	DefaultEIQPGUser       = "postgres"
	DefaultEIQPGUnit       = "postgresql-11"
	DefaultEIQDatabase     = "eclecticiq"
	DefaultEIQDrainTimeout = 10 * time.Minute
	DefaultEIQRunDir       = "/var/run/eclecticiq"
	DefaultEIQPlatformBin  = "/opt/eclecticiq-platform-backend/bin/eiq-platform"
	DefaultEIQPlatformUser = "eclecticiq"
)

// DefaultEIQIndexPatterns are seed 003's "default Elasticsearch indices for
// the platform".
var DefaultEIQIndexPatterns = []string{"audit*", "documents*", "draft-entities*", "extracts*", "logstash*", "statsite*", "stix*"}

// DefaultEIQExclude are the entries of seed 003's list that hold
// Elasticsearch's live data: copying them live is unsafe (only a snapshot
// is), so the archive leaves them out.
var DefaultEIQExclude = []string{"/media/elasticsearch/nodes", "/media/elasticsearch/tmp"}

// eiqConfigPaths is seed 003's configuration list ("Platform
// configuration", 95 entries) with the two entries the page's e-mail
// obfuscation mangled restored (the ingestion@ and worker@ templates);
// the two PostgreSQL entries are added by DefaultEclecticIQConfigPaths for
// the cluster's unit and data directory.
var eiqConfigPaths = strings.Fields(`
/etc/environment /etc/yum.repos.d/eclecticiq-ic.repo
/etc/eclecticiq/platform_settings.py /etc/eclecticiq/opentaxii.yml /etc/eclecticiq/proxy_url
/etc/default/eclecticiq-platform
/etc/default/eclecticiq-platform-backend-worker-outgoing-transports
/etc/default/eclecticiq-platform-backend-worker-common
/etc/default/eclecticiq-platform-backend-worker-outgoing-transports-priority
/etc/default/eclecticiq-platform-backend-worker-discovery
/etc/default/eclecticiq-platform-backend-worker-reindexing
/etc/default/eclecticiq-platform-backend-worker-discovery-priority
/etc/default/eclecticiq-platform-backend-worker-retention-policies
/etc/default/eclecticiq-platform-backend-worker-entity-rules-priority
/etc/default/eclecticiq-platform-backend-worker-retention-policies-priority
/etc/default/eclecticiq-platform-backend-worker-extract-rules-priority
/etc/default/eclecticiq-platform-backend-worker-utilities
/etc/default/eclecticiq-platform-backend-worker-incoming-transports
/etc/default/eclecticiq-platform-backend-worker-utilities-priority
/etc/default/eclecticiq-platform-backend-worker-incoming-transports-priority
/lib/systemd/system/eclecticiq-platform-backend-ingestion.service
/lib/systemd/system/eclecticiq-platform-backend-ingestion@.service
/lib/systemd/system/eclecticiq-platform-backend-opentaxii.service
/lib/systemd/system/eclecticiq-platform-backend-scheduler.service
/lib/systemd/system/eclecticiq-platform-backend-searchindex.service
/lib/systemd/system/eclecticiq-platform-backend-services.service
/lib/systemd/system/eclecticiq-platform-backend-web.service
/lib/systemd/system/eclecticiq-platform-backend-worker@.service
/lib/systemd/system/eclecticiq-platform-backend-workers.service
/lib/systemd/system/eclecticiq-secrets-setter.service
/opt/eclecticiq-platform-backend/alembic.ini
/etc/eclecticiq-elasticsearch/elasticsearch.yml /etc/eclecticiq-elasticsearch/jvm.options
/etc/eclecticiq-elasticsearch/log4j2.properties
/etc/elasticsearch/elasticsearch-plugins.example.yml /etc/elasticsearch/elasticsearch.keystore
/etc/elasticsearch/elasticsearch.yml /etc/elasticsearch/jvm.options /etc/elasticsearch/log4j2.properties
/etc/elasticsearch/role_mapping.yml /etc/elasticsearch/roles.yml /etc/elasticsearch/users
/etc/elasticsearch/users_roles /etc/systemd/system/elasticsearch.service.d/20-eclecticiq.conf
/etc/sysconfig/elasticsearch /media/elasticsearch/nodes /media/elasticsearch/tmp
/etc/eclecticiq-kibana/kibana.yml /etc/kibana/kibana.yml /etc/kibana/node.options
/etc/systemd/system/kibana.service.d/20-eclecticiq_es_hosts.conf
/etc/logstash/logstash.yml /etc/logstash/jvm.options /etc/logstash/log4j2.properties
/etc/logstash/logstash-sample.conf /etc/logstash/pipelines.yml /etc/logstash/startup.options
/etc/logstash/conf.d/eclecticiq.conf /etc/default/logstash
/etc/systemd/system/logstash.service.d/20-eclecticiq-env-vars.conf
/etc/eclecticiq-neo4j/neo4j.conf /etc/eclecticiq-neo4j/template-neo4j.conf
/etc/neo4j/certificates/neo4j.cert /etc/neo4j/certificates/neo4j.key
/etc/eclecticiq-neo4jbatcher/neo4jbatcher.conf /lib/systemd/system/eclecticiq-neo4jbatcher.service
/etc/systemd/system/eclecticiq-neo4jbatcher.service.d/20-eclecticiq.conf
/opt/statsite/etc/statsite.conf /opt/statsite/etc/elasticsearch_template.json
/opt/statsite/etc/statsite.service /etc/systemd/system/statsite.service.d/override.conf
/etc/eclecticiq-redis/redis.conf /etc/eclecticiq-redis/local.conf
/etc/systemd/system/redis.service.d/20-eclecticiq_data_dir.conf
/etc/sysctl.d/10-eclecticiq_overcommit_memory.conf
/etc/eclecticiq-nginx/locations.conf.d/neo4jbatcher.conf
/etc/eclecticiq-nginx/locations.conf.d/platform-frontend.conf
/etc/eclecticiq-nginx/locations.conf.d/tip-backend.conf
/etc/eclecticiq-nginx/nginx.centos.conf /etc/eclecticiq-nginx/nginx.common.conf
/etc/eclecticiq-nginx/nginx.conf /etc/eclecticiq-nginx/nginx.rhel.conf
/etc/eclecticiq-nginx/nginx.ubuntu.conf /etc/eclecticiq-nginx/proxy_params.conf
/etc/eclecticiq-nginx/sites.conf.d/eclecticiq-default.conf
/etc/systemd/system/nginx.service.d/20-eclecticiq.conf
/etc/eclecticiq-postgres/eclecticiq-postgres.conf /etc/eclecticiq-postgres/listen-addresses.conf
/etc/eclecticiq-postgres/pg_hba.conf
/etc/postfix/main.cf /etc/logrotate.d/eclecticiq /opt/eclecticiq-rsyslog-forwarder
/etc/rsyslog.d/eclecticiq.conf`)

// DefaultEclecticIQConfigPaths is seed 003's list for a PostgreSQL run by
// unit with its data in dataDir ("" leaves postgresql.conf out): the
// document's /etc/systemd/system/postgresql-11.service.d drop-in and
// /media/pgsql/11/data/postgresql.conf, for this cluster.
func DefaultEclecticIQConfigPaths(unit, dataDir string) []string {
	out := slices.Clone(eiqConfigPaths)
	i := slices.Index(out, "/etc/postfix/main.cf")
	add := []string{"/etc/systemd/system/" + unit + ".service.d/eclecticiq-postgres.conf"}
	if dataDir != "" {
		add = append(add, strings.TrimSuffix(dataDir, "/")+"/postgresql.conf")
	}
	return slices.Insert(out, i, add...)
}

var (
	indexPatternRE = boundedName(`^[a-z0-9][a-z0-9._*-]*$`, 255)
	unitNameRE     = boundedName(`^[A-Za-z0-9:_.@-]+$`, 200)
)

// validIndexPattern checks an index pattern of _cat/indices: an index name
// with * wildcards, never _all or a system index.
func validIndexPattern(s string) error {
	if s == "*" || s == "_all" || !indexPatternRE.MatchString(s) {
		return fmt.Errorf("%q is not an index pattern hotsnap takes: lowercase letters, digits, . _ - and * wildcards, starting with a letter or digit (never * alone or _all)", s)
	}
	return nil
}

func validUnitName(s string) error {
	if !unitNameRE.MatchString(s) || strings.Contains(s, "*") {
		return fmt.Errorf("%q is not a systemd unit name", s)
	}
	return nil
}

func validDBName(s string) error {
	if s == "" || len(s) > 63 || hasControl(s) {
		return errors.New("database name must be 1 to 63 characters, without control characters")
	}
	return nil
}

// eclecticiq decodes the eclecticiq section.
func (d *decoder) eclecticiq(path string, n ast.Node) *EclecticIQ {
	e := &EclecticIQ{Redis: EIQRedis{DB: -1}}
	d.mapping(path, n, []field{
		{"settings", func(p string, v ast.Node) { e.Settings, _ = d.checked(p, v, validRemotePath) }},
		{"postgres", func(p string, v ast.Node) {
			d.mapping(p, v, []field{
				{"os_user", func(p string, v ast.Node) { e.Postgres.OSUser, _ = d.checked(p, v, validUser) }},
				{"port", func(p string, v ast.Node) { e.Postgres.Port, _ = d.port(p, v) }},
				{"bin_dir", func(p string, v ast.Node) { e.Postgres.BinDir, _ = d.checked(p, v, validRemotePath) }},
				{"unit", func(p string, v ast.Node) { e.Postgres.Unit, _ = d.checked(p, v, validUnitName) }},
				{"database", func(p string, v ast.Node) { e.Postgres.Database, _ = d.checked(p, v, validDBName) }},
			})
		}},
		{"redis", func(p string, v ast.Node) {
			d.mapping(p, v, []field{
				{"port", func(p string, v ast.Node) { e.Redis.Port, _ = d.port(p, v) }},
				{"db", func(p string, v ast.Node) {
					if n, ok := d.integer(p, v, 0, 15); ok {
						e.Redis.DB = n
					}
				}},
				{"password", func(p string, v ast.Node) { e.Redis.Password = d.secret(p, v) }},
			})
		}},
		{"config_paths", func(p string, v ast.Node) { e.ConfigPaths, _ = d.list(p, v, validRemotePath) }},
		{"exclude", func(p string, v ast.Node) { e.Exclude, _ = d.list(p, v, validRemotePath) }},
		{"index_patterns", func(p string, v ast.Node) { e.IndexPatterns, _ = d.list(p, v, validIndexPattern) }},
		{"drain_timeout", func(p string, v ast.Node) { e.DrainTimeout, _ = d.duration(p, v) }},
		{"run_dir", func(p string, v ast.Node) { e.RunDir, _ = d.checked(p, v, validRemotePath) }},
		{"platform_bin", func(p string, v ast.Node) { e.PlatformBin, _ = d.checked(p, v, validRemotePath) }},
		{"platform_user", func(p string, v ast.Node) { e.PlatformUser, _ = d.checked(p, v, validUser) }},
	})
	for k, n := range map[string]int{"config_paths": len(e.ConfigPaths), "index_patterns": len(e.IndexPatterns)} {
		if kp := join(path, k); d.has[kp] && n == 0 {
			d.errorf(d.at[kp], "%s: is empty: remove the key for the default, or list at least one", kp)
		}
	}
	return e
}

// validateEclecticIQ checks what an EclecticIQ inventory needs: the nodes
// the runbooks run on, and no eclecticiq section on another platform.
func (d *decoder) validateEclecticIQ(inv *Inventory, pick func(...string) pos, keyPos func(string) pos) {
	if inv.Platform != PlatformEclecticIQ {
		if inv.EclecticIQ != nil && inv.Platform != "" {
			d.errorf(keyPos("eclecticiq"), "eclecticiq: is only read for platform: eclecticiq (this inventory is %s): remove it", inv.Platform)
		}
		return
	}
	if len(inv.Nodes) == 0 {
		return
	}
	for _, r := range []struct{ role, what string }{
		{RolePlatform, "its units, configuration files and eiq-platform"},
		{RolePostgreSQL, "PostgreSQL (pg_dumpall and psql run there)"},
		{RoleRedis, "the Celery broker (redis-cli runs there)"},
	} {
		if len(inv.NodesWithRole(r.role)) == 0 {
			d.errorf(pick("nodes"), "nodes: platform eclecticiq needs a node with role %s: %s", r.role, r.what)
		}
	}
}

// applyEclecticIQDefaults fills the eclecticiq section of an EclecticIQ
// inventory (making it when absent).
func (inv *Inventory) applyEclecticIQDefaults() {
	if inv.Platform != PlatformEclecticIQ {
		return
	}
	if inv.EclecticIQ == nil {
		inv.EclecticIQ = &EclecticIQ{Redis: EIQRedis{DB: -1}}
	}
	e := inv.EclecticIQ
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&e.Settings, EclecticIQSettingsPath)
	def(&e.Postgres.OSUser, DefaultEIQPGUser)
	def(&e.Postgres.Unit, DefaultEIQPGUnit)
	def(&e.Postgres.Database, DefaultEIQDatabase)
	def(&e.RunDir, DefaultEIQRunDir)
	def(&e.PlatformBin, DefaultEIQPlatformBin)
	def(&e.PlatformUser, DefaultEIQPlatformUser)
	if e.Postgres.Port == 0 {
		e.Postgres.Port = DefaultPostgresPort
	}
	if e.Redis.Port == 0 {
		e.Redis.Port = DefaultRedisPort
	}
	if e.DrainTimeout == 0 {
		e.DrainTimeout = DefaultEIQDrainTimeout
	}
	if len(e.IndexPatterns) == 0 {
		e.IndexPatterns = slices.Clone(DefaultEIQIndexPatterns)
	}
	if e.Exclude == nil {
		e.Exclude = slices.Clone(DefaultEIQExclude)
	}
	if len(e.ConfigPaths) == 0 {
		dataDir := ""
		if ns := inv.NodesWithRole(RolePostgreSQL); len(ns) > 0 {
			dataDir = ns[0].Paths[PathPostgreSQLData]
		}
		e.ConfigPaths = DefaultEclecticIQConfigPaths(e.Postgres.Unit, dataDir)
	}
}

// renderEclecticIQ writes the eclecticiq section of an EclecticIQ
// inventory (Write); the configuration list only when it is not seed
// 003's.
func renderEclecticIQ(w *yamlWriter, inv *Inventory) {
	e := inv.EclecticIQ
	if e == nil || inv.Platform != PlatformEclecticIQ {
		return
	}
	w.blank()
	w.line(0, "eclecticiq:", "")
	w.str(1, "settings", e.Settings, "platform_settings.py: read, never executed")
	w.line(1, "postgres:", "")
	w.str(2, "os_user", e.Postgres.OSUser, "pg_dumpall and psql run as this user (peer authentication)")
	w.num(2, "port", e.Postgres.Port, "")
	w.str(2, "bin_dir", e.Postgres.BinDir, "where pg_dumpall and psql are (default: PATH)")
	w.str(2, "unit", e.Postgres.Unit, "")
	w.str(2, "database", e.Postgres.Database, "the platform's database")
	w.line(1, "redis:", "")
	w.num(2, "port", e.Redis.Port, "")
	if e.Redis.DB >= 0 {
		w.line(2, "db: "+strconv.Itoa(e.Redis.DB), "the broker's database (REDIS_URL in platform_settings.py)")
	}
	w.secret(2, "password", e.Redis.Password, "requirepass; sent to redis-cli through REDISCLI_AUTH on stdin")
	dataDir := ""
	if ns := inv.NodesWithRole(RolePostgreSQL); len(ns) > 0 {
		dataDir = ns[0].Paths[PathPostgreSQLData]
	}
	if !slices.Equal(e.ConfigPaths, DefaultEclecticIQConfigPaths(e.Postgres.Unit, dataDir)) {
		w.list(1, "config_paths", e.ConfigPaths, "")
	}
	w.list(1, "index_patterns", e.IndexPatterns, "the platform's indices (never _all)")
	w.dur(1, "drain_timeout", e.DrainTimeout, "how long the backup waits for the Celery queues to drain")
}
