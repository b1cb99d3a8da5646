// Package baseline holds the documented backup and restore procedures as
// bash scripts, the yardsticks hotsnap is measured against: TheHive 5's
// hot backup and restore (StrangeBee's runbook,
// reference/thehive-runbook.md §1 and §2; backup.sh and restore.sh) and
// EclecticIQ's (seed 003's backup guidelines; eclecticiq-backup.sh and
// eclecticiq-restore.sh). Install and InstallEclecticIQ put them, with a
// settings file for the lab, in a lab's STATE/bin, which every node sees
// as /usr/local/bin.
package baseline

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
)

//go:embed backup.sh restore.sh eclecticiq-backup.sh eclecticiq-restore.sh
var scripts embed.FS

// Names of the installed files in STATE/bin, and their paths inside a node.
const (
	// BackupName is the installed backup script.
	BackupName = "thehive-hot-backup.sh"
	// RestoreName is the installed restore script.
	RestoreName = "thehive-hot-restore.sh"
	// ConfName is the settings file the scripts read from their directory.
	ConfName = "thehive-baseline.conf"
	// NodeBinDir is where a lab node sees STATE/bin.
	NodeBinDir = "/usr/local/bin"
	// BackupPath and RestorePath are the scripts' paths inside a node.
	BackupPath  = NodeBinDir + "/" + BackupName
	RestorePath = NodeBinDir + "/" + RestoreName
	// SuccessBackup and SuccessRestore are the scripts' last lines on success.
	SuccessBackup  = "=== ✓ Full backup successful ==="
	SuccessRestore = "=== ✓ Successful full restore ==="
)

// Script returns the text of "backup.sh", "restore.sh",
// "eclecticiq-backup.sh" or "eclecticiq-restore.sh".
func Script(name string) ([]byte, error) {
	b, err := scripts.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("baseline script %s: %w", name, err)
	}
	return b, nil
}

// shQuote quotes s for a POSIX shell (single quotes).
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Conf renders the settings file for l: Cassandra reached at node1, the
// lab's secrets when it has auth, TheHive stopped and started on every node
// over ssh with the lab's client key and known_hosts, as user lab.LoginUser.
func Conf(l *lab.Lab) (string, error) {
	if len(l.Nodes) == 0 {
		return "", fmt.Errorf("baseline: lab %s has no nodes", l.Name)
	}
	var ips []string
	for _, n := range l.Nodes {
		ips = append(ips, n.IP)
	}
	var b strings.Builder
	set := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, shQuote(v)) }
	fmt.Fprintf(&b, "# Settings of the hotsnap baseline scripts for lab %s (written by baseline.Install).\n", l.Name)
	set("CQL_HOST", l.Nodes[0].IP)
	set("THEHIVE_NODES", strings.Join(ips, " "))
	set("NODE_SSH", strings.Join([]string{"ssh", "-i", l.KeyPath(), "-o", "UserKnownHostsFile=" + l.KnownHostsPath(),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		"-l", lab.LoginUser}, " "))
	if l.Auth() {
		admin, err := l.Secret(lab.SecretCassandraAdmin)
		if err != nil {
			return "", fmt.Errorf("baseline: %w", err)
		}
		es, err := l.Secret(lab.SecretES)
		if err != nil {
			return "", fmt.Errorf("baseline: %w", err)
		}
		set("CQL_AUTH", "-u "+lab.CassandraAdminUser+" -p "+admin)
		set("ES_AUTH", lab.ESUser+":"+es)
		set("THEHIVE_ROLE", lab.CassandraAppUser)
	}
	return b.String(), nil
}

// Install writes the scripts (0755) and their settings file (0600: it may
// hold passwords; the scripts run as root) into l.BinPath(), so that every
// node runs them as BackupPath and RestorePath.
func Install(l *lab.Lab) error {
	conf, err := Conf(l)
	if err != nil {
		return err
	}
	return install(l, []file{{src: "backup.sh", name: BackupName, mode: 0o755}, {src: "restore.sh", name: RestoreName, mode: 0o755},
		{name: ConfName, data: conf, mode: 0o600}})
}

// file is one file install writes: an embedded script (src) or data.
type file struct {
	src, name, data string
	mode            os.FileMode
}

// install writes files into l.BinPath().
func install(l *lab.Lab, files []file) error {
	for _, f := range files {
		data := []byte(f.data)
		if f.src != "" {
			var err error
			if data, err = Script(f.src); err != nil {
				return err
			}
		}
		if err := writeAtomic(filepath.Join(l.BinPath(), f.name), data, f.mode); err != nil {
			return fmt.Errorf("baseline: install %s in lab %s: %w", f.name, l.Name, err)
		}
	}
	return nil
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

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
	return install(l, []file{{src: "eclecticiq-backup.sh", name: EclecticIQBackupName, mode: 0o755},
		{src: "eclecticiq-restore.sh", name: EclecticIQRestoreName, mode: 0o755},
		{name: EclecticIQConfName, data: conf, mode: 0o600}, {name: EclecticIQPathsName, data: paths, mode: 0o644}})
}
