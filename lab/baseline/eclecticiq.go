package baseline

import (
	"embed"
	"fmt"
	"strings"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
)

// The EclecticIQ baseline: seed 003's backup guidelines as two bash
// scripts, run as root on node1 of an EclecticIQ lab.

//go:embed eclecticiq-backup.sh eclecticiq-restore.sh
var eiqScripts embed.FS

// EclecticIQScript returns the text of an EclecticIQ baseline script by its
// installed name.
func EclecticIQScript(name string) ([]byte, error) { return readScript(eiqScripts, name) }

// The EclecticIQ baseline's installed files, their paths inside a node and
// its last lines.
const (
	// EclecticIQBackupName and EclecticIQRestoreName are the installed
	// scripts; EclecticIQConfName their settings; EclecticIQPathsName the
	// configuration paths the backup copies (seed 003's list).
	EclecticIQBackupName  = "eclecticiq-backup.sh"
	EclecticIQRestoreName = "eclecticiq-restore.sh"
	EclecticIQConfName    = "eclecticiq-baseline.conf"
	EclecticIQPathsName   = "eclecticiq-config-paths.txt"
	// EclecticIQBackupPath and EclecticIQRestorePath are the scripts'
	// paths inside a node (run them as root on node1).
	EclecticIQBackupPath  = NodeBinDir + "/" + EclecticIQBackupName
	EclecticIQRestorePath = NodeBinDir + "/" + EclecticIQRestoreName
	// EclecticIQBackupRoot is where the backups go (one directory each,
	// printed on the backup's last line).
	EclecticIQBackupRoot = "/mnt/backup/eclecticiq"
	// SuccessEclecticIQBackup and SuccessEclecticIQRestore are the lines
	// the scripts print when they get to their end.
	SuccessEclecticIQBackup  = "=== ✓ EclecticIQ backup done ==="
	SuccessEclecticIQRestore = "=== ✓ EclecticIQ restore done ==="
)

// EclecticIQConf renders the EclecticIQ scripts' settings for l: the
// broker database, and the Redis and Elasticsearch passwords when the lab
// has auth.
func EclecticIQConf(l *lab.Lab) (string, error) {
	if l.Platform() != lab.PlatformEclecticIQ {
		return "", fmt.Errorf("baseline: lab %s is a %s lab, not %s", l.Name, l.Platform(), lab.PlatformEclecticIQ)
	}
	var b strings.Builder
	set := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, shQuote(v)) }
	fmt.Fprintf(&b, "# Settings of the hotsnap EclecticIQ baseline scripts for lab %s (written by baseline.InstallEclecticIQ).\n", l.Name)
	set("REDIS_DB", fmt.Sprint(lab.RedisBrokerDB))
	set("BACKUP_ROOT", EclecticIQBackupRoot)
	set("CONFIG_PATHS", NodeBinDir+"/"+EclecticIQPathsName)
	if l.Auth() {
		redis, err := l.Secret(lab.SecretRedis)
		if err != nil {
			return "", fmt.Errorf("baseline: %w", err)
		}
		es, err := l.Secret(lab.SecretES)
		if err != nil {
			return "", fmt.Errorf("baseline: %w", err)
		}
		set("REDIS_PASSWORD", redis)
		set("ES_AUTH", lab.ESUser+":"+es)
	}
	return b.String(), nil
}

// InstallEclecticIQ writes the EclecticIQ scripts (0755), their settings
// (0600: they may hold passwords) and the list of configuration paths
// into l.BinPath(), so that node1 runs them as EclecticIQBackupPath and
// EclecticIQRestorePath.
func InstallEclecticIQ(l *lab.Lab) error {
	conf, err := EclecticIQConf(l)
	if err != nil {
		return err
	}
	paths := "# seed 003's configuration files (lab/eclecticiq.ConfigPaths)\n" + strings.Join(eclecticiq.ConfigPaths, "\n") + "\n"
	return install(l, eiqScripts, []installFile{{src: EclecticIQBackupName, name: EclecticIQBackupName, mode: 0o755},
		{src: EclecticIQRestoreName, name: EclecticIQRestoreName, mode: 0o755},
		{name: EclecticIQConfName, data: conf, mode: 0o600}, {name: EclecticIQPathsName, data: paths, mode: 0o644}})
}
