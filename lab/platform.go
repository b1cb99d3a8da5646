package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotsnap/hotsnap/lab/alien4cloud"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/s3"
)

// Platforms the lab can imitate (Options.Platform).
const (
	// PlatformTheHive is TheHive 5: Cassandra and Elasticsearch on every
	// node, attachments on node1 (or in S3).
	PlatformTheHive = "thehive"
	// PlatformEclecticIQ is an EclecticIQ-style platform: PostgreSQL,
	// Redis and configuration files on node1, Elasticsearch everywhere.
	PlatformEclecticIQ = "eclecticiq"
	// PlatformAlien4Cloud is Alien4Cloud 3.x: Elasticsearch 6.8 everywhere,
	// the a4c service and its data directory on node1 (alien4cloud_lab.go).
	PlatformAlien4Cloud = "alien4cloud"
)

// Attachment storage (Options.Storage).
const (
	// StorageLocalFS keeps attachments in node1's /opt/thp/thehive/files.
	StorageLocalFS = "localfs"
	// StorageS3 keeps attachments in bucket S3Bucket of a real S3 server
	// on node1.
	StorageS3 = "s3"
)

const (
	// S3Port is the port the lab's S3 server listens on (node1's IP).
	S3Port = 8333
	// S3Bucket is the seeded attachments bucket.
	S3Bucket = "thehive"
	// S3Region is the region the lab's S3 server reports.
	S3Region = "us-east-1"
	// SecretS3AccessKey and SecretS3SecretKey name the S3 root credential
	// files under STATE/secrets/ (written whenever Storage is s3).
	SecretS3AccessKey = "s3-access-key"
	SecretS3SecretKey = "s3-secret-key"

	// PostgresPort and RedisPort are the EclecticIQ profile's ports on
	// node1 (127.0.0.1 and the node's IP).
	PostgresPort = 5432
	RedisPort    = 6379
	// PostgresDatabase is the seeded EclecticIQ database.
	PostgresDatabase = "eclecticiq"
	// PostgresDataDir is PostgreSQL's data directory inside node1.
	PostgresDataDir = "/var/lib/pgsql/15/data"
	// RedisDataDir is Redis's dump directory inside node1.
	RedisDataDir = "/var/lib/redis"
	// EclecticIQConfDir is the platform's configuration directory (private
	// to each node; populated on node1).
	EclecticIQConfDir = "/etc/eclecticiq"
	// Alien4CloudDataDir is Alien4Cloud's data directory on node1
	// (directories.alien in alien4cloud-config.yml): the path of the backup
	// tool's own config.yml sample (alien4cloud.dir), which hotsnap init
	// finds on disk; spray's default would be /opt/a4c/workdir.
	Alien4CloudDataDir = "/opt/alien4cloud/data"

	// s3SeedObjects is how many objects the attachments bucket gets.
	s3SeedObjects = 45
)

// Daemon names (Daemon.Name).
const (
	DaemonS3       = "s3"
	DaemonPostgres = "postgresql"
	DaemonRedis    = "redis"
)

// Daemon is a platform service the lab runs on one node besides the
// Cassandra and Elasticsearch stand-ins: the S3 server, PostgreSQL, Redis.
type Daemon struct {
	// Name is DaemonS3, DaemonPostgres or DaemonRedis.
	Name string `json:"name"`
	// Node is the node it runs on.
	Node string `json:"node"`
	// PID is its main process.
	PID int `json:"pid"`
	// Addr is the host:port it answers on, on the node's IP.
	Addr string `json:"addr"`
}

// EclecticIQIndices are the Elasticsearch indices the EclecticIQ profile
// seeds (the default platform indices of seed 003).
var EclecticIQIndices = []string{"audit_v2", "documents_v2", "draft-entities_v4", "extracts_v2",
	"logstash-2017.07.28", "statsite-2017.07.28", "stix_v4"}

// EclecticIQIndex is the index named in the EclecticIQ inventory.
const EclecticIQIndex = "documents_v2"

// Alien4CloudIndices are the per-class Elasticsearch indices of
// Alien4Cloud 3.x (one per concrete @ESObject class, alien4cloud.Indices).
var Alien4CloudIndices = alien4cloud.Indices

// EclecticIQUnits are the platform's systemd units of seed 003, the ones
// `systemctl stop eclecticiq-platform-backend-services` and
// `systemctl stop eclecticiq-platform-backend-worker*.service` act on.
var EclecticIQUnits = []string{
	"eclecticiq-platform-backend-ingestion",
	"eclecticiq-platform-backend-opentaxii",
	"eclecticiq-platform-backend-scheduler",
	"eclecticiq-platform-backend-searchindex",
	"eclecticiq-platform-backend-services",
	"eclecticiq-platform-backend-web",
	"eclecticiq-platform-backend-workers",
	"eclecticiq-secrets-setter",
}

// CeleryQueues are the Redis lists seeded as Celery queues (seed 003's
// `llen` list, plus Celery's default queue).
var CeleryQueues = []string{"celery", "enrichers", "integrations", "priority_enrichers", "priority_high",
	"priority_providers", "priority_utilities", "providers", "reindexing", "utilities"}

// normalizePlatform validates and defaults Platform, Storage and S3.
func (o *Options) normalizePlatform() error {
	switch o.Platform {
	case "":
		o.Platform = PlatformTheHive
	case PlatformTheHive, PlatformEclecticIQ, PlatformAlien4Cloud:
	default:
		return fmt.Errorf("invalid platform %q: want %s, %s or %s", o.Platform, PlatformTheHive, PlatformEclecticIQ, PlatformAlien4Cloud)
	}
	switch o.Storage {
	case "":
		o.Storage = StorageLocalFS
	case StorageLocalFS:
	case StorageS3:
		if o.Platform != PlatformTheHive {
			return fmt.Errorf("storage s3 holds TheHive attachments: platform %s has none", o.Platform)
		}
	default:
		return fmt.Errorf("invalid storage %q: want %s or %s", o.Storage, StorageLocalFS, StorageS3)
	}
	if o.Platform == PlatformAlien4Cloud && o.Search == SearchOpenSearch {
		return fmt.Errorf("platform %s runs Elasticsearch 6.8: --search %s is not supported", o.Platform, SearchOpenSearch)
	}
	if o.A4CEmbedded && (o.Platform != PlatformAlien4Cloud || o.Nodes > 1) {
		return fmt.Errorf("an embedded Elasticsearch runs inside Alien4Cloud on a single node: it needs platform %s and one node", PlatformAlien4Cloud)
	}
	if o.S3 == "" {
		o.S3 = s3.KindVersityGW
	}
	if _, err := s3.ReleaseFor(o.S3); err != nil {
		return fmt.Errorf("invalid --s3: %w", err)
	}
	return nil
}

// platformMounts are the extra per-node private directories of each
// platform, keyed by the directory under STATE/nodes/NODE/, with the
// owner a new directory gets.
var platformMounts = map[string][]struct{ dir, target, owner string }{
	PlatformEclecticIQ: {
		{"eclecticiq-etc", EclecticIQConfDir, ""},
		{"etc-default", "/etc/default", ""},
		{"pgsql", "/var/lib/pgsql", "postgres"},
		{"pg-run", "/run/postgresql", "postgres"},
		{"redis", RedisDataDir, "redis"},
	},
	PlatformAlien4Cloud: alien4CloudMounts,
}

// platformTools lists, per platform, the programs the lab runs and the
// Debian package that provides each.
var platformTools = map[string][]struct{ prog, pkg string }{
	PlatformEclecticIQ: {
		{"postgres", "postgresql"}, {"initdb", "postgresql"}, {"psql", "postgresql-client"},
		{"redis-server", "redis-server"}, {"redis-cli", "redis-tools"},
	},
}

// pgBinDirs are searched for PostgreSQL's server programs, which Debian
// keeps off PATH.
var pgBinDirs = []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"}

// findTool returns the absolute path of prog: /usr/bin, /bin, /usr/sbin,
// then the PostgreSQL version directories. /usr/local/bin is skipped: on a
// node it is the lab's STATE/bin.
func findTool(prog string) (string, error) {
	dirs := []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}
	for _, g := range pgBinDirs {
		m, _ := filepath.Glob(g)
		// Newest version first.
		for i := len(m) - 1; i >= 0; i-- {
			dirs = append(dirs, m[i])
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, prog)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", prog, strings.Join(dirs, ", "))
}

// checkPlatformTools fails, naming the Debian package, when a program the
// platform needs is missing.
func checkPlatformTools(platform string) error {
	var errs []error
	for _, t := range platformTools[platform] {
		if _, err := findTool(t.prog); err != nil {
			errs = append(errs, fmt.Errorf("platform %s needs %s from the Debian package %s (apt-get install %s): %w", platform, t.prog, t.pkg, t.pkg, err))
		}
	}
	return errors.Join(errs...)
}

// prepareNodePlatform creates a node's platform directories (and, for
// Alien4Cloud, its user first); the eclecticiq /etc/default copy starts as
// the host's /etc/default.
func prepareNodePlatform(ctx context.Context, nodeDir, platform string) error {
	if platform == PlatformAlien4Cloud {
		if err := ensureA4CUser(ctx); err != nil {
			return err
		}
	}
	for _, pm := range platformMounts[platform] {
		dir := filepath.Join(nodeDir, pm.dir)
		if err := mkdirOwned(dir, pm.owner); err != nil {
			return err
		}
		if pm.dir == "etc-default" {
			if err := copyFlatDir("/etc/default", dir); err != nil {
				return fmt.Errorf("copy /etc/default: %w", err)
			}
		}
	}
	return nil
}

// copyFlatDir copies the regular files directly in src into dst unless
// dst already has a file of that name.
func copyFlatDir(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		to := filepath.Join(dst, e.Name())
		if _, err := os.Lstat(to); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// seedESIndices creates each index with about total/len(names) bytes in
// the shared ES state unless it exists.
func seedESIndices(stateDir string, names []string, total, perDoc int64) error {
	c, err := elastic.NewCluster(esStateDir(stateDir), elastic.Options{})
	if err != nil {
		return fmt.Errorf("seed elasticsearch: %w", err)
	}
	each := total / int64(len(names))
	for _, name := range names {
		if _, ok, err := c.Index(name); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		} else if ok {
			continue
		}
		if err := c.Seed(name, each/perDoc+1, each); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		}
	}
	return nil
}

// eclecticIQFiles returns the configuration files of seed 003 that the
// lab writes on node1, keyed by their path inside the node.
func eclecticIQFiles(nodeIP string) map[string]string {
	settings := fmt.Sprintf(`# EclecticIQ Platform settings (hotsnap lab).
SQLALCHEMY_DATABASE_URI = "postgresql://eclecticiq@127.0.0.1:%d/%s"
SEARCH_URL = "http://127.0.0.1:9200"
REDIS_URL = "redis://127.0.0.1:%d/0"
CELERY_BROKER_URL = REDIS_URL
CELERY_DEFAULT_QUEUE = "celery"
PLATFORM_HOSTNAME = "%s"
LOG_LEVEL = "INFO"
`, PostgresPort, PostgresDatabase, RedisPort, nodeIP)
	files := map[string]string{
		EclecticIQConfDir + "/platform_settings.py": settings,
		EclecticIQConfDir + "/opentaxii.yml": fmt.Sprintf(`# OpenTAXII configuration (hotsnap lab).
domain: "%s:9000"
persistence_api:
  class: opentaxii.persistence.sqldb.SQLDatabaseAPI
  parameters:
    db_connection: postgresql://eclecticiq@127.0.0.1:%d/%s
    create_tables: no
auth_api:
  class: eiq.platform.taxii.auth.PlatformAuthAPI
logging:
  opentaxii: info
  root: info
`, nodeIP, PostgresPort, PostgresDatabase),
		EclecticIQConfDir + "/proxy_url":   "\n",
		"/etc/default/eclecticiq-platform": "EIQ_PLATFORM_SETTINGS=/etc/eclecticiq/platform_settings.py\n",
	}
	for _, w := range []string{"outgoing-transports", "common", "outgoing-transports-priority", "discovery",
		"reindexing", "discovery-priority", "retention-policies", "entity-rules-priority",
		"retention-policies-priority", "extract-rules-priority", "utilities", "incoming-transports",
		"utilities-priority", "incoming-transports-priority"} {
		q := strings.ReplaceAll(w, "-", "_")
		files["/etc/default/eclecticiq-platform-backend-worker-"+w] = fmt.Sprintf(
			"EIQ_PLATFORM_SETTINGS=/etc/eclecticiq/platform_settings.py\nCELERY_QUEUES=%s\nCELERY_CONCURRENCY=2\n", q)
	}
	return files
}

// writeEclecticIQFiles writes eclecticIQFiles under node1's private
// directories (STATE/nodes/node1/eclecticiq-etc and etc-default).
func writeEclecticIQFiles(nodeDir, nodeIP string) error {
	for path, content := range eclecticIQFiles(nodeIP) {
		var host string
		switch {
		case strings.HasPrefix(path, EclecticIQConfDir+"/"):
			host = filepath.Join(nodeDir, "eclecticiq-etc", strings.TrimPrefix(path, EclecticIQConfDir+"/"))
		case strings.HasPrefix(path, "/etc/default/"):
			host = filepath.Join(nodeDir, "etc-default", strings.TrimPrefix(path, "/etc/default/"))
		default:
			return fmt.Errorf("eclecticiq file %s: outside the node's private directories", path)
		}
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			return fmt.Errorf("eclecticiq file %s: %w", path, err)
		}
		if err := writeFileAtomic(host, []byte(content), 0o644); err != nil {
			return fmt.Errorf("eclecticiq file %s: %w", path, err)
		}
	}
	return nil
}
