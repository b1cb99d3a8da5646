package eclecticiq

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConfigPaths are the configuration locations of seed 003 ("Platform
// configuration", 95 entries), in its order, with the two entries the
// page's e-mail obfuscation mangled restored (the ingestion@ and worker@
// templates, reference/eclecticiq-alien4cloud.md) and the PostgreSQL 11
// paths written for the lab's PostgreSQL 15. Three are directories:
// /media/elasticsearch/{nodes,tmp} (Elasticsearch's live data, which a
// backup must leave out) and /opt/eclecticiq-rsyslog-forwarder.
var ConfigPaths = []string{
	"/etc/environment",
	"/etc/yum.repos.d/eclecticiq-ic.repo",
	"/etc/eclecticiq/platform_settings.py",
	"/etc/eclecticiq/opentaxii.yml",
	"/etc/eclecticiq/proxy_url",
	"/etc/default/eclecticiq-platform",
	"/etc/default/eclecticiq-platform-backend-worker-outgoing-transports",
	"/etc/default/eclecticiq-platform-backend-worker-common",
	"/etc/default/eclecticiq-platform-backend-worker-outgoing-transports-priority",
	"/etc/default/eclecticiq-platform-backend-worker-discovery",
	"/etc/default/eclecticiq-platform-backend-worker-reindexing",
	"/etc/default/eclecticiq-platform-backend-worker-discovery-priority",
	"/etc/default/eclecticiq-platform-backend-worker-retention-policies",
	"/etc/default/eclecticiq-platform-backend-worker-entity-rules-priority",
	"/etc/default/eclecticiq-platform-backend-worker-retention-policies-priority",
	"/etc/default/eclecticiq-platform-backend-worker-extract-rules-priority",
	"/etc/default/eclecticiq-platform-backend-worker-utilities",
	"/etc/default/eclecticiq-platform-backend-worker-incoming-transports",
	"/etc/default/eclecticiq-platform-backend-worker-utilities-priority",
	"/etc/default/eclecticiq-platform-backend-worker-incoming-transports-priority",
	"/lib/systemd/system/eclecticiq-platform-backend-ingestion.service",
	"/lib/systemd/system/eclecticiq-platform-backend-ingestion@.service",
	"/lib/systemd/system/eclecticiq-platform-backend-opentaxii.service",
	"/lib/systemd/system/eclecticiq-platform-backend-scheduler.service",
	"/lib/systemd/system/eclecticiq-platform-backend-searchindex.service",
	"/lib/systemd/system/eclecticiq-platform-backend-services.service",
	"/lib/systemd/system/eclecticiq-platform-backend-web.service",
	"/lib/systemd/system/eclecticiq-platform-backend-worker@.service",
	"/lib/systemd/system/eclecticiq-platform-backend-workers.service",
	"/lib/systemd/system/eclecticiq-secrets-setter.service",
	"/opt/eclecticiq-platform-backend/alembic.ini",
	"/etc/eclecticiq-elasticsearch/elasticsearch.yml",
	"/etc/eclecticiq-elasticsearch/jvm.options",
	"/etc/eclecticiq-elasticsearch/log4j2.properties",
	"/etc/elasticsearch/elasticsearch-plugins.example.yml",
	"/etc/elasticsearch/elasticsearch.keystore",
	"/etc/elasticsearch/elasticsearch.yml",
	"/etc/elasticsearch/jvm.options",
	"/etc/elasticsearch/log4j2.properties",
	"/etc/elasticsearch/role_mapping.yml",
	"/etc/elasticsearch/roles.yml",
	"/etc/elasticsearch/users",
	"/etc/elasticsearch/users_roles",
	"/etc/systemd/system/elasticsearch.service.d/20-eclecticiq.conf",
	"/etc/sysconfig/elasticsearch",
	"/media/elasticsearch/nodes",
	"/media/elasticsearch/tmp",
	"/etc/eclecticiq-kibana/kibana.yml",
	"/etc/kibana/kibana.yml",
	"/etc/kibana/node.options",
	"/etc/systemd/system/kibana.service.d/20-eclecticiq_es_hosts.conf",
	"/etc/logstash/logstash.yml",
	"/etc/logstash/jvm.options",
	"/etc/logstash/log4j2.properties",
	"/etc/logstash/logstash-sample.conf",
	"/etc/logstash/pipelines.yml",
	"/etc/logstash/startup.options",
	"/etc/logstash/conf.d/eclecticiq.conf",
	"/etc/default/logstash",
	"/etc/systemd/system/logstash.service.d/20-eclecticiq-env-vars.conf",
	"/etc/eclecticiq-neo4j/neo4j.conf",
	"/etc/eclecticiq-neo4j/template-neo4j.conf",
	"/etc/neo4j/certificates/neo4j.cert",
	"/etc/neo4j/certificates/neo4j.key",
	"/etc/eclecticiq-neo4jbatcher/neo4jbatcher.conf",
	"/lib/systemd/system/eclecticiq-neo4jbatcher.service",
	"/etc/systemd/system/eclecticiq-neo4jbatcher.service.d/20-eclecticiq.conf",
	"/opt/statsite/etc/statsite.conf",
	"/opt/statsite/etc/elasticsearch_template.json",
	"/opt/statsite/etc/statsite.service",
	"/etc/systemd/system/statsite.service.d/override.conf",
	"/etc/eclecticiq-redis/redis.conf",
	"/etc/eclecticiq-redis/local.conf",
	"/etc/systemd/system/redis.service.d/20-eclecticiq_data_dir.conf",
	"/etc/sysctl.d/10-eclecticiq_overcommit_memory.conf",
	"/etc/eclecticiq-nginx/locations.conf.d/neo4jbatcher.conf",
	"/etc/eclecticiq-nginx/locations.conf.d/platform-frontend.conf",
	"/etc/eclecticiq-nginx/locations.conf.d/tip-backend.conf",
	"/etc/eclecticiq-nginx/nginx.centos.conf",
	"/etc/eclecticiq-nginx/nginx.common.conf",
	"/etc/eclecticiq-nginx/nginx.conf",
	"/etc/eclecticiq-nginx/nginx.rhel.conf",
	"/etc/eclecticiq-nginx/nginx.ubuntu.conf",
	"/etc/eclecticiq-nginx/proxy_params.conf",
	"/etc/eclecticiq-nginx/sites.conf.d/eclecticiq-default.conf",
	"/etc/systemd/system/nginx.service.d/20-eclecticiq.conf",
	"/etc/eclecticiq-postgres/eclecticiq-postgres.conf",
	"/etc/eclecticiq-postgres/listen-addresses.conf",
	"/etc/eclecticiq-postgres/pg_hba.conf",
	"/etc/systemd/system/postgresql-15.service.d/eclecticiq-postgres.conf",
	"/media/pgsql/15/data/postgresql.conf",
	"/etc/postfix/main.cf",
	"/etc/logrotate.d/eclecticiq",
	"/opt/eclecticiq-rsyslog-forwarder",
	"/etc/rsyslog.d/eclecticiq.conf",
}

// ESDataDirs are the entries of ConfigPaths that hold Elasticsearch's
// live data: a configuration backup must leave them out.
var ESDataDirs = []string{ESDataDir + "/nodes", ESDataDir + "/tmp"}

// File is one file, directory or symlink the lab writes on node1.
type File struct {
	// Path is the absolute path inside node1.
	Path string
	// Mode holds the permission bits (and setgid for directories).
	Mode fs.FileMode
	// Owner and Group own it (user and group names).
	Owner, Group string
	// Dir makes it a directory; Link a symlink to Link.
	Dir  bool
	Link string
	// Data is a file's content.
	Data []byte
	// Secret marks a file holding a password, key or token.
	Secret bool
}

// FileOptions are what the configuration files depend on.
type FileOptions struct {
	// Hostname and NodeIP are node1's; Subnet the lab network's third octet.
	Hostname, NodeIP string
	Subnet           int
	// PGPassword, RedisPassword and ESPassword are the services' passwords
	// (--auth); empty without authentication.
	PGPassword, RedisPassword, ESPassword string
	// ESPathRepo is Elasticsearch's path.repo.
	ESPathRepo string
	// ESClusterName is Elasticsearch's cluster.name.
	ESClusterName string
	// Units are the platform's units (their unit files are written too);
	// empty means Units with Debian's paths.
	Units []PlatformUnit
	// HotsnapBin is the multi-call binary the platform commands link to.
	HotsnapBin string
}

// BrokerURL returns REDIS_URL: the broker database, with the password
// when Redis asks for one.
func (o FileOptions) BrokerURL() string {
	auth := ""
	if o.RedisPassword != "" {
		auth = ":" + o.RedisPassword + "@"
	}
	return fmt.Sprintf("redis://%s127.0.0.1:6379/%d", auth, BrokerDB)
}

// DatabaseURI returns SQLALCHEMY_DATABASE_URI.
func (o FileOptions) DatabaseURI() string {
	pw := ""
	if o.PGPassword != "" {
		pw = ":" + o.PGPassword
	}
	return "postgresql://" + User + pw + "@127.0.0.1:5432/" + Database
}

// Database is the platform's PostgreSQL database.
const Database = "eclecticiq"

// dirModes are the owners and modes of the directories that are not
// root:root 0755 on an EclecticIQ host.
var dirModes = map[string]File{
	"/etc/eclecticiq":                   {Owner: "root", Group: User, Mode: 0o750},
	"/etc/elasticsearch":                {Owner: "root", Group: "elasticsearch", Mode: fs.ModeSetgid | 0o750},
	"/etc/eclecticiq-elasticsearch":     {Owner: "root", Group: "elasticsearch", Mode: fs.ModeSetgid | 0o750},
	"/etc/eclecticiq-redis":             {Owner: "root", Group: "redis", Mode: 0o750},
	"/etc/eclecticiq-postgres":          {Owner: "root", Group: "postgres", Mode: 0o750},
	"/etc/neo4j/certificates":           {Owner: "root", Group: "root", Mode: 0o700},
	ESDataDir:                           {Owner: "elasticsearch", Group: "elasticsearch", Mode: 0o755},
	ESDataDir + "/nodes":                {Owner: "elasticsearch", Group: "elasticsearch", Mode: 0o750},
	ESDataDir + "/tmp":                  {Owner: "elasticsearch", Group: "elasticsearch", Mode: 0o750},
	"/media/pgsql":                      {Owner: "postgres", Group: "postgres", Mode: 0o755},
	"/media/pgsql/15":                   {Owner: "postgres", Group: "postgres", Mode: 0o700},
	RedisDataDir:                        {Owner: "redis", Group: "redis", Mode: 0o750},
	BackendDir:                          {Owner: "root", Group: "root", Mode: 0o755},
	"/opt/eclecticiq-rsyslog-forwarder": {Owner: "root", Group: "root", Mode: 0o755},
}

// Files returns every file the lab writes on node1: the configuration
// files of ConfigPaths (postgresql.conf included: the lab writes it after
// initdb), the unit files of the data stores, the platform's commands
// (symlinks to the multi-call binary) and the directories, parents first,
// with their owners and modes.
func Files(o FileOptions) ([]File, error) {
	if len(o.Units) == 0 {
		o.Units = Units(UnitOptions{PGBinDir: fmt.Sprintf("/usr/lib/postgresql/%d/bin", PGMajor), RedisServer: "/usr/bin/redis-server"})
	}
	c, err := contents(o)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, u := range o.Units {
		p := strings.Replace(u.FragmentPath, "/usr/lib/systemd/system/", "/lib/systemd/system/", 1)
		if _, ok := c[p]; !ok {
			c[p] = File{Data: []byte(u.UnitFile()), Mode: 0o644}
		}
	}
	c["/lib/systemd/system/eclecticiq-neo4jbatcher.service"] = File{Mode: 0o644, Data: []byte("[Unit]\nDescription=EclecticIQ Neo4j Batcher\nAfter=network.target\n\n" +
		"[Service]\nType=simple\nUser=eclecticiq\nEnvironmentFile=/etc/default/eclecticiq-platform\nExecStart=/opt/eclecticiq-neo4jbatcher/bin/neo4jbatcher --config /etc/eclecticiq-neo4jbatcher/neo4jbatcher.conf\n\n[Install]\nWantedBy=multi-user.target\n")}
	for _, p := range ConfigPaths {
		if _, ok := c[p]; !ok {
			return nil, fmt.Errorf("eclecticiq files: no content for %s", p)
		}
	}
	dirs := map[string]bool{}
	var addDir func(d string)
	addDir = func(d string) {
		if d == "/" || dirs[d] {
			return
		}
		addDir(path.Dir(d))
		dirs[d] = true
		f := File{Path: d, Dir: true, Owner: "root", Group: "root", Mode: 0o755}
		if m, ok := dirModes[d]; ok {
			f.Owner, f.Group, f.Mode = m.Owner, m.Group, m.Mode
		}
		files = append(files, f)
	}
	paths := make([]string, 0, len(c))
	for p := range c {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := c[p]
		f.Path = p
		if f.Owner == "" {
			f.Owner, f.Group = "root", "root"
		}
		if f.Dir {
			if dirs[p] {
				continue
			}
			addDir(path.Dir(p))
			dirs[p] = true
			if m, ok := dirModes[p]; ok {
				f.Owner, f.Group, f.Mode = m.Owner, m.Group, m.Mode
			}
			files = append(files, f)
			continue
		}
		addDir(path.Dir(p))
		files = append(files, f)
	}
	if o.HotsnapBin != "" {
		for _, l := range []string{PlatformBin, CeleryBin} {
			addDir(path.Dir(l))
			files = append(files, File{Path: l, Link: o.HotsnapBin, Owner: "root", Group: "root", Mode: 0o777})
		}
	}
	return files, nil
}

// secretKey returns n random bytes as hex.
func secretKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// contents returns the content, owner and mode of each configuration file.
func contents(o FileOptions) (map[string]File, error) {
	c := map[string]File{}
	put := func(p, owner, group string, mode fs.FileMode, secret bool, format string, args ...any) {
		c[p] = File{Owner: owner, Group: group, Mode: mode, Secret: secret, Data: []byte(fmt.Sprintf(format, args...))}
	}
	conf := func(p, format string, args ...any) { put(p, "root", "root", 0o644, false, format, args...) }
	pyStr := strconv.Quote

	conf("/etc/environment", "LANG=en_US.UTF-8\nEIQ_PLATFORM_SETTINGS=%s\n", SettingsPath)
	repoUser, repoPass := "customer-"+secretKey(3), secretKey(12)
	put("/etc/yum.repos.d/eclecticiq-ic.repo", "root", "root", 0o644, true, `[eclecticiq-ic]
name=EclecticIQ Intelligence Center
baseurl=https://downloads.eclecticiq.com/ic/3.0/rocky/$releasever/$basearch
username=%s
password=%s
enabled=1
gpgcheck=1
gpgkey=https://downloads.eclecticiq.com/EclecticIQ-GPG-KEY
`, repoUser, repoPass)

	// Platform.
	var settings strings.Builder
	fmt.Fprintf(&settings, `# EclecticIQ Intelligence Center platform settings (hotsnap lab, written by lab up).
# Every platform process reads this file through EIQ_PLATFORM_SETTINGS.

SECRET_KEY = %s
PLATFORM_HOSTNAME = %s

SQLALCHEMY_DATABASE_URI = %s
SQLALCHEMY_POOL_SIZE = 10

# Redis: the Celery broker and the ingestion pipeline queues (database %d).
REDIS_URL = %s
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = %d
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": %d}

SEARCH_URL = "http://127.0.0.1:9200"
`, pyStr(secretKey(32)), pyStr(o.Hostname), pyStr(o.DatabaseURI()), BrokerDB, pyStr(o.BrokerURL()), PrefetchMultiplier, VisibilityTimeout)
	if o.ESPassword != "" {
		fmt.Fprintf(&settings, "SEARCH_USERNAME = \"elastic\"\nSEARCH_PASSWORD = %s\n", pyStr(o.ESPassword))
	}
	settings.WriteString("\nLOG_LEVEL = \"INFO\"\nNEO4J_URL = \"bolt://127.0.0.1:7687\"\n")
	c[SettingsPath] = File{Owner: "root", Group: User, Mode: 0o640, Secret: true, Data: []byte(settings.String())}
	put("/etc/eclecticiq/opentaxii.yml", "root", User, 0o640, true, `# OpenTAXII configuration (hotsnap lab).
domain: "%s:9000"
persistence_api:
  class: opentaxii.persistence.sqldb.SQLDatabaseAPI
  parameters:
    db_connection: %s
    create_tables: no
auth_api:
  class: eiq.platform.taxii.auth.PlatformAuthAPI
  parameters:
    secret: %s
logging:
  opentaxii: info
  root: info
`, o.NodeIP, o.DatabaseURI(), secretKey(16))
	put("/etc/eclecticiq/proxy_url", "root", User, 0o640, false, "\n")
	conf("/etc/default/eclecticiq-platform", "EIQ_PLATFORM_SETTINGS=%s\nPYTHONUNBUFFERED=1\n", SettingsPath)
	for _, g := range WorkerGroups {
		conf("/etc/default/eclecticiq-platform-backend-worker-"+g.Name,
			"# Celery worker %s of the EclecticIQ platform (eclecticiq-platform-backend-worker@%s.service).\nEIQ_PLATFORM_SETTINGS=%s\nCELERY_QUEUES=%s\nCELERY_CONCURRENCY=%d\n",
			g.Name, g.Name, SettingsPath, strings.Join(g.Queues, ","), g.Concurrency)
	}
	for _, u := range o.Units {
		if strings.HasPrefix(u.FragmentPath, "/lib/systemd/system/") {
			conf(u.FragmentPath, "%s", u.UnitFile())
		}
	}
	put(BackendDir+"/alembic.ini", "root", User, 0o640, true, `[alembic]
script_location = eiq.platform:migrations
sqlalchemy.url = %s

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %%(levelname)-5.5s [%%(name)s] %%(message)s
`, o.DatabaseURI())

	// Elasticsearch.
	esYML := fmt.Sprintf(`# Elasticsearch configuration of the EclecticIQ platform (hotsnap lab).
cluster.name: %s
node.name: %s
path.data: %s
path.logs: /var/log/elasticsearch
path.repo: ["%s"]
network.host: ["127.0.0.1", "%s"]
http.port: 9200
discovery.type: single-node
xpack.security.enabled: %t
`, o.ESClusterName, o.Hostname, ESDataDir, o.ESPathRepo, o.NodeIP, o.ESPassword != "")
	for _, d := range []string{"/etc/eclecticiq-elasticsearch", "/etc/elasticsearch"} {
		put(d+"/elasticsearch.yml", "root", "elasticsearch", 0o660, false, "%s", esYML)
		put(d+"/jvm.options", "root", "elasticsearch", 0o660, false, "-Xms2g\n-Xmx2g\n-XX:+UseG1GC\n-Djava.io.tmpdir=%s/tmp\n-XX:HeapDumpPath=/var/lib/elasticsearch\n", ESDataDir)
		put(d+"/log4j2.properties", "root", "elasticsearch", 0o660, false, "status = error\nappender.console.type = Console\nappender.console.name = console\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = [%%d{ISO8601}][%%-5p][%%-25c{1.}] [%%node_name]%%marker %%m%%n\nrootLogger.level = info\nrootLogger.appenderRef.console.ref = console\n")
	}
	put("/etc/elasticsearch/elasticsearch-plugins.example.yml", "root", "elasticsearch", 0o660, false, "# Rename this file to elasticsearch-plugins.yml to use it.\n#\n# plugins:\n#   - id: analysis-icu\n")
	c["/etc/elasticsearch/elasticsearch.keystore"] = File{Owner: "root", Group: "elasticsearch", Mode: 0o660, Secret: true, Data: keystore()}
	put("/etc/elasticsearch/role_mapping.yml", "root", "elasticsearch", 0o660, false, "# Role mapping configuration file which has elasticsearch roles as keys\n# that map to one or more user or group distinguished names\n")
	put("/etc/elasticsearch/roles.yml", "root", "elasticsearch", 0o660, false, "eclecticiq_platform:\n  cluster: [ 'monitor', 'manage_index_templates' ]\n  indices:\n    - names: [ 'audit*', 'documents*', 'draft-entities*', 'extracts*', 'stix*', 'logstash*', 'statsite*' ]\n      privileges: [ 'all' ]\n")
	put("/etc/elasticsearch/users", "root", "elasticsearch", 0o660, true, "eclecticiq:$2a$10$%s\nkibana_system:$2a$10$%s\n", bcryptish(), bcryptish())
	put("/etc/elasticsearch/users_roles", "root", "elasticsearch", 0o660, false, "eclecticiq_platform:eclecticiq\nkibana_system:kibana_system\n")
	conf("/etc/systemd/system/elasticsearch.service.d/20-eclecticiq.conf", "[Service]\nEnvironment=ES_PATH_CONF=/etc/eclecticiq-elasticsearch\nLimitMEMLOCK=infinity\n")
	put("/etc/sysconfig/elasticsearch", "root", "elasticsearch", 0o660, false, "ES_PATH_CONF=/etc/eclecticiq-elasticsearch\nES_JAVA_OPTS=\"-Xms2g -Xmx2g\"\nES_STARTUP_SLEEP_TIME=5\n")
	esData(c)

	// Kibana, Logstash, Neo4j, statsite.
	kibanaPw := secretKey(10)
	for _, p := range []string{"/etc/eclecticiq-kibana/kibana.yml", "/etc/kibana/kibana.yml"} {
		put(p, "root", "root", 0o640, true, "server.host: \"127.0.0.1\"\nserver.basePath: \"/kibana\"\nelasticsearch.hosts: [\"http://127.0.0.1:9200\"]\nelasticsearch.username: \"kibana_system\"\nelasticsearch.password: \"%s\"\n", kibanaPw)
	}
	conf("/etc/kibana/node.options", "--max-old-space-size=1024\n--unhandled-rejections=warn\n")
	conf("/etc/systemd/system/kibana.service.d/20-eclecticiq_es_hosts.conf", "[Service]\nEnvironment=KBN_PATH_CONF=/etc/eclecticiq-kibana\n")
	conf("/etc/logstash/logstash.yml", "path.data: /var/lib/logstash\npath.logs: /var/log/logstash\npipeline.workers: 2\n")
	conf("/etc/logstash/jvm.options", "-Xms512m\n-Xmx512m\n-XX:+UseG1GC\n")
	conf("/etc/logstash/log4j2.properties", "status = error\nname = LogstashPropertiesConfig\nrootLogger.level = ${sys:ls.log.level}\n")
	conf("/etc/logstash/logstash-sample.conf", "input {\n  beats {\n    port => 5044\n  }\n}\n\noutput {\n  elasticsearch {\n    hosts => [\"http://localhost:9200\"]\n    index => \"%%{[@metadata][beat]}-%%{[@metadata][version]}-%%{+YYYY.MM.dd}\"\n  }\n}\n")
	conf("/etc/logstash/pipelines.yml", "- pipeline.id: eclecticiq\n  path.config: \"/etc/logstash/conf.d/eclecticiq.conf\"\n")
	conf("/etc/logstash/startup.options", "JAVACMD=/usr/bin/java\nLS_HOME=/usr/share/logstash\nLS_SETTINGS_DIR=/etc/logstash\nLS_USER=logstash\nLS_GROUP=logstash\n")
	put("/etc/logstash/conf.d/eclecticiq.conf", "root", "root", 0o640, true, "input {\n  syslog { port => 5514 }\n}\noutput {\n  elasticsearch {\n    hosts => [\"http://127.0.0.1:9200\"]\n    index => \"logstash-%%{+YYYY.MM.dd}\"\n    user => \"eclecticiq\"\n    password => \"%s\"\n  }\n}\n", secretKey(10))
	conf("/etc/default/logstash", "LS_JAVA_OPTS=\"-Xms512m -Xmx512m\"\n")
	conf("/etc/systemd/system/logstash.service.d/20-eclecticiq-env-vars.conf", "[Service]\nEnvironmentFile=/etc/default/logstash\n")
	neo := "dbms.default_listen_address=127.0.0.1\ndbms.connector.bolt.listen_address=:7687\ndbms.directories.data=/media/neo4j/data\ndbms.memory.heap.max_size=1g\ndbms.ssl.policy.bolt.enabled=true\ndbms.ssl.policy.bolt.base_directory=/etc/neo4j/certificates\n"
	conf("/etc/eclecticiq-neo4j/neo4j.conf", "%s", neo)
	conf("/etc/eclecticiq-neo4j/template-neo4j.conf", "# Template the platform renders neo4j.conf from.\n%s", neo)
	cert, key, err := selfSigned(o.Hostname)
	if err != nil {
		return nil, err
	}
	c["/etc/neo4j/certificates/neo4j.cert"] = File{Owner: "root", Group: "root", Mode: 0o644, Data: cert}
	c["/etc/neo4j/certificates/neo4j.key"] = File{Owner: "root", Group: "root", Mode: 0o600, Secret: true, Data: key}
	put("/etc/eclecticiq-neo4jbatcher/neo4jbatcher.conf", "root", User, 0o640, true, "[neo4j]\nurl = bolt://127.0.0.1:7687\nuser = neo4j\npassword = %s\n\n[redis]\nurl = %s\nqueue = queue:graph:inbound\n", secretKey(10), o.BrokerURL())
	conf("/etc/systemd/system/eclecticiq-neo4jbatcher.service.d/20-eclecticiq.conf", "[Service]\nRestart=always\nRestartSec=5\n")
	conf("/opt/statsite/etc/statsite.conf", "[statsite]\nport = 8125\nudp_port = 8125\nflush_interval = 10\nstream_cmd = python3 /opt/statsite/sinks/elasticsearch.py /opt/statsite/etc/elasticsearch_template.json\n")
	conf("/opt/statsite/etc/elasticsearch_template.json", "{\n  \"index_patterns\": [\"statsite-*\"],\n  \"settings\": {\"number_of_shards\": 1},\n  \"mappings\": {\"properties\": {\"@timestamp\": {\"type\": \"date\"}, \"value\": {\"type\": \"double\"}}}\n}\n")
	conf("/opt/statsite/etc/statsite.service", "[Unit]\nDescription=statsite metrics aggregator\n\n[Service]\nExecStart=/opt/statsite/bin/statsite -f /opt/statsite/etc/statsite.conf\n\n[Install]\nWantedBy=multi-user.target\n")
	conf("/etc/systemd/system/statsite.service.d/override.conf", "[Service]\nUser=statsite\n")

	// Redis.
	c[RedisDataDir] = File{Dir: true}
	put(RedisConf, "root", "redis", 0o640, false, `# Redis configuration of the EclecticIQ platform (hotsnap lab).
bind 127.0.0.1 %s
port 6379
protected-mode no
daemonize no
supervised no
logfile ""
databases 16
dir %s
dbfilename dump.rdb
save 900 1
save 300 10
save 60 10000
appendonly no
include /etc/eclecticiq-redis/local.conf
`, o.NodeIP, RedisDataDir)
	local := "# Local overrides (hotsnap lab).\nmaxmemory-policy noeviction\n"
	if o.RedisPassword != "" {
		local += "requirepass " + o.RedisPassword + "\n"
	}
	put("/etc/eclecticiq-redis/local.conf", "root", "redis", 0o640, o.RedisPassword != "", "%s", local)
	conf("/etc/systemd/system/redis.service.d/20-eclecticiq_data_dir.conf", "[Service]\nExecStart=\nExecStart=/usr/bin/redis-server %s\nReadWritePaths=%s\n", RedisConf, RedisDataDir)
	conf("/etc/sysctl.d/10-eclecticiq_overcommit_memory.conf", "vm.overcommit_memory = 1\n")

	// Nginx.
	for name, loc := range map[string]string{"neo4jbatcher.conf": "/neo4jbatcher/ { proxy_pass http://127.0.0.1:8090/; }",
		"platform-frontend.conf": "/ { root /opt/eclecticiq-platform-frontend/; try_files $uri /index.html; }",
		"tip-backend.conf":       "/api/ { proxy_pass http://127.0.0.1:8008/; include /etc/eclecticiq-nginx/proxy_params.conf; }"} {
		conf("/etc/eclecticiq-nginx/locations.conf.d/"+name, "location %s\n", loc)
	}
	for _, flavour := range []string{"centos", "rhel", "ubuntu"} {
		conf("/etc/eclecticiq-nginx/nginx."+flavour+".conf", "# %s specifics\nuser nginx;\npid /run/nginx.pid;\ninclude /etc/eclecticiq-nginx/nginx.common.conf;\n", flavour)
	}
	conf("/etc/eclecticiq-nginx/nginx.common.conf", "worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  include /etc/nginx/mime.types;\n  client_max_body_size 100m;\n  include /etc/eclecticiq-nginx/sites.conf.d/*.conf;\n}\n")
	conf("/etc/eclecticiq-nginx/nginx.conf", "include /etc/eclecticiq-nginx/nginx.rhel.conf;\n")
	conf("/etc/eclecticiq-nginx/proxy_params.conf", "proxy_set_header Host $http_host;\nproxy_set_header X-Real-IP $remote_addr;\nproxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\nproxy_set_header X-Forwarded-Proto $scheme;\n")
	conf("/etc/eclecticiq-nginx/sites.conf.d/eclecticiq-default.conf", "server {\n  listen 443 ssl http2;\n  server_name %s;\n  ssl_certificate /etc/eclecticiq-nginx/ssl/platform.crt;\n  ssl_certificate_key /etc/eclecticiq-nginx/ssl/platform.key;\n  include /etc/eclecticiq-nginx/locations.conf.d/*.conf;\n}\n", o.Hostname)
	conf("/etc/systemd/system/nginx.service.d/20-eclecticiq.conf", "[Service]\nExecStart=\nExecStart=/usr/sbin/nginx -c /etc/eclecticiq-nginx/nginx.conf\n")

	// PostgreSQL.
	put(PGConfDir+"/eclecticiq-postgres.conf", "root", "postgres", 0o640, false, `# PostgreSQL settings of the EclecticIQ platform (hotsnap lab).
port = 5432
unix_socket_directories = '/run/postgresql'
max_connections = 100
shared_buffers = 16MB
dynamic_shared_memory_type = mmap
logging_collector = off
log_line_prefix = '%%m [%%p] %%q%%u@%%d '
hba_file = '%s/pg_hba.conf'
`, PGConfDir)
	put(PGConfDir+"/listen-addresses.conf", "root", "postgres", 0o640, false, "listen_addresses = '127.0.0.1,%s'\n", o.NodeIP)
	hba := "# TYPE  DATABASE  USER  ADDRESS  METHOD (hotsnap lab)\n"
	if o.PGPassword != "" {
		hba += fmt.Sprintf("local   all  all                  peer\nhost    all  all  127.0.0.1/32     scram-sha-256\nhost    all  all  10.77.%d.0/24   scram-sha-256\n", o.Subnet)
	} else {
		hba += fmt.Sprintf("local   all  all                  trust\nhost    all  all  127.0.0.1/32     trust\nhost    all  all  10.77.%d.0/24   trust\n", o.Subnet)
	}
	put(PGConfDir+"/pg_hba.conf", "root", "postgres", 0o640, false, "%s", hba)
	conf(fmt.Sprintf("/etc/systemd/system/postgresql-%d.service.d/eclecticiq-postgres.conf", PGMajor), "[Service]\nEnvironment=PGDATA=%s\n", PGDataDir)
	put(PGDataDir+"/postgresql.conf", "postgres", "postgres", 0o600, false, `# PostgreSQL configuration file (hotsnap lab: the platform's settings are
# included from %[1]s).
include '%[1]s/eclecticiq-postgres.conf'
include '%[1]s/listen-addresses.conf'
datestyle = 'iso, mdy'
timezone = 'UTC'
lc_messages = 'C'
default_text_search_config = 'pg_catalog.english'
`, PGConfDir)

	// Postfix, logrotate, rsyslog.
	conf("/etc/postfix/main.cf", "myhostname = %s\nmydomain = eclecticiq.lab\ninet_interfaces = loopback-only\nrelayhost = [smtp.eclecticiq.lab]:587\nsmtp_tls_security_level = may\n", o.Hostname)
	conf("/etc/logrotate.d/eclecticiq", "/var/log/eclecticiq/*.log {\n    daily\n    rotate 14\n    compress\n    delaycompress\n    missingok\n    notifempty\n    copytruncate\n}\n")
	c["/opt/eclecticiq-rsyslog-forwarder"] = File{Dir: true}
	conf("/opt/eclecticiq-rsyslog-forwarder/forwarder.conf", "target = 127.0.0.1\nport = 5514\nprotocol = tcp\n")
	put("/opt/eclecticiq-rsyslog-forwarder/forward.sh", "root", "root", 0o755, false, "#!/bin/sh\nexec logger -n 127.0.0.1 -P 5514 -T \"$@\"\n")
	conf("/etc/rsyslog.d/eclecticiq.conf", "if $programname startswith 'eclecticiq' then /var/log/eclecticiq/platform.log\n& stop\n")
	return c, nil
}

// esData adds Elasticsearch's live data directories (nodes/, tmp/) with
// the files a node keeps there: the node lock, state and a shard's
// segments.
func esData(c map[string]File) {
	owner := func(p string, mode fs.FileMode, data []byte) {
		c[p] = File{Owner: "elasticsearch", Group: "elasticsearch", Mode: mode, Data: data}
	}
	for _, d := range ESDataDirs {
		c[d] = File{Dir: true}
	}
	rnd := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	base := ESDataDir + "/nodes/0"
	owner(base+"/node.lock", 0o660, nil)
	owner(base+"/_state/node-0.st", 0o660, rnd(90))
	owner(base+"/_state/manifest-7.st", 0o660, rnd(180))
	idx := base + "/indices/" + base64.RawURLEncoding.EncodeToString(rnd(16))[:22]
	owner(idx+"/_state/state-3.st", 0o660, rnd(900))
	owner(idx+"/0/_state/retention-leases-2.st", 0o660, rnd(80))
	owner(idx+"/0/index/segments_4", 0o660, rnd(400))
	owner(idx+"/0/index/_0.cfs", 0o660, rnd(512<<10))
	owner(idx+"/0/index/_0.cfe", 0o660, rnd(300))
	owner(idx+"/0/index/write.lock", 0o660, nil)
	owner(idx+"/0/translog/translog-9.tlog", 0o660, rnd(64<<10))
	owner(ESDataDir+"/tmp/elasticsearch-4021887214917/jna--1985354563/jna3826162711405424575.tmp", 0o660, rnd(4096))
}

// keystore returns bytes shaped like an elasticsearch.keystore: Lucene's
// codec header, the keystore's name and an encrypted (here random) body.
func keystore() []byte {
	b := []byte{0x3f, 0xd7, 0x6c, 0x17, 0x16}
	b = append(b, "elasticsearch.keystore"...)
	b = append(b, 0, 0, 0, 4, 0)
	body := make([]byte, 333)
	_, _ = rand.Read(body)
	return append(b, body...)
}

// bcryptish returns a random bcrypt-looking hash body.
func bcryptish() string {
	return strings.NewReplacer("+", ".", "=", "").Replace(base64.StdEncoding.EncodeToString([]byte(secretKey(20)))[:53])
}

// selfSigned returns a self-signed certificate and its PKCS#8 private key
// in PEM, as Neo4j keeps them.
func selfSigned(host string) (cert, key []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0), DNSNames: []string{host}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("neo4j certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("neo4j key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
}
