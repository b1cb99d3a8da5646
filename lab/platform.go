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
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/s3"
	"github.com/hotsnap/hotsnap/lab/thehive"
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
	// PostgresDataDir is PostgreSQL's data directory inside node1 (seed
	// 003's configuration list has /media/pgsql/<major>/data/postgresql.conf).
	PostgresDataDir = eclecticiq.PGDataDir
	// RedisDataDir is Redis's dump directory inside node1 (set by seed 003's
	// redis.service drop-in 20-eclecticiq_data_dir.conf).
	RedisDataDir = eclecticiq.RedisDataDir
	// EclecticIQConfDir is the platform's configuration directory (node1's
	// own, through its /etc overlay).
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
	// PID is its main process, as the host numbers it.
	PID int `json:"pid"`
	// Addr is the host:port it answers on, on the node's IP.
	Addr string `json:"addr"`
	// Unit is the systemd unit (under the lab's systemctl) that runs it,
	// when one does: PID is then its main process when the lab came up,
	// and the unit's state says which runs now.
	Unit string `json:"unit,omitempty"`
}

// EclecticIQIndices are the Elasticsearch indices of the EclecticIQ
// profile (the default platform indices of seed 003): the ones built from
// PostgreSQL, then the logs and metrics ones.
var EclecticIQIndices = func() []string {
	var names []string
	for _, spec := range eclecticiq.PlatformIndices {
		names = append(names, spec.Name)
	}
	return append(names, eclecticiq.OtherIndices...)
}()

// EclecticIQIndex is the index named in the EclecticIQ inventory.
const EclecticIQIndex = "documents_v2"

// Alien4CloudIndices are the per-class Elasticsearch indices of
// Alien4Cloud 3.x (one per concrete @ESObject class, alien4cloud.Indices).
var Alien4CloudIndices = alien4cloud.Indices

// Alien4CloudIndex is the index named in the Alien4Cloud inventory.
const Alien4CloudIndex = "csar"

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
		// node1's /etc, /usr/lib/systemd/system, /opt and /media are
		// overlays (platformOverlays); these run directories are binds.
		{"pg-run", "/run/postgresql", "postgres"},
		{"eiq-run", "/run/eclecticiq", eclecticiq.User},
		{"eiq-knobs", eclecticiq.KnobDir, ""},
	},
	PlatformAlien4Cloud: alien4CloudMounts,
}

// platformTools lists, per platform, the programs the lab runs and the
// Debian package that provides each.
var platformTools = map[string][]struct{ prog, pkg string }{
	PlatformEclecticIQ: {
		{"postgres", "postgresql"}, {"initdb", "postgresql"}, {"psql", "postgresql-client"},
		{"pg_dumpall", "postgresql-client"}, {"redis-server", "redis-server"}, {"redis-cli", "redis-tools"},
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
// Alien4Cloud, its user first).
func prepareNodePlatform(ctx context.Context, nodeDir, platform string) error {
	if platform == PlatformAlien4Cloud {
		if err := ensureA4CUser(ctx); err != nil {
			return err
		}
	}
	for _, pm := range platformMounts[platform] {
		dir := filepath.Join(nodeDir, pm.dir)
		if strings.HasPrefix(pm.target, "/run/") && pm.target != thehive.DefaultServiceDir {
			// A node's /run starts empty, as after a boot: the pid and
			// lock files an earlier lab left there name processes of PID
			// namespaces that are gone, whose numbers the node's new one
			// gives out again. (The shim's service directory keeps its
			// units and journals; it knows a process by PID and start
			// time.)
			ents, err := os.ReadDir(dir)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			for _, e := range ents {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		if err := mkdirOwned(dir, pm.owner); err != nil {
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
