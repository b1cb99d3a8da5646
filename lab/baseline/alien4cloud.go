package baseline

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hotsnap/hotsnap/lab"
)

// The Alien4Cloud baseline: the documented procedure (the backup/restore
// tool's page, seed 004, and the 1.0.0 shell procedure it replaced) as two
// bash scripts, run as root on the Alien4Cloud node.

//go:embed alien4cloud-backup.sh alien4cloud-restore.sh
var a4cScripts embed.FS

const (
	// A4CBackupName and A4CRestoreName are the installed scripts in
	// STATE/bin; A4CConfName their settings file.
	A4CBackupName  = "alien4cloud-backup.sh"
	A4CRestoreName = "alien4cloud-restore.sh"
	A4CConfName    = "alien4cloud-baseline.conf"
	// A4CBackupPath and A4CRestorePath are the scripts inside a node. The
	// backup's last line is "backup <name> done"; the restore takes the
	// name and ends with "restore <name> done".
	A4CBackupPath  = NodeBinDir + "/" + A4CBackupName
	A4CRestorePath = NodeBinDir + "/" + A4CRestoreName
	// A4CFilesDir is backup.files_dir, on the Alien4Cloud node (the tool's
	// sample value); A4CESBackupDir the snapshot repository's location
	// under the lab's path.repo, inside the folder the runbook gives to
	// elasticsearch (the page: "must be accessible by the ElasticSearch process").
	A4CFilesDir    = "/opt/alien4cloud/backups/files"
	A4CESBackupDir = "/mnt/backup/elasticsearch/alien_backup"
)

// A4CScript returns the text of an Alien4Cloud baseline script by its
// installed name.
func A4CScript(name string) ([]byte, error) { return readScript(a4cScripts, name) }

// A4CConf renders the settings file for an Alien4Cloud lab, with
// backup.files_dir A4CFilesDir.
func A4CConf(l *lab.Lab) (string, error) { return a4cConf(l, A4CFilesDir) }

// a4cConf renders the settings file with backup.files_dir filesDir.
func a4cConf(l *lab.Lab, filesDir string) (string, error) {
	if len(l.Nodes) == 0 {
		return "", fmt.Errorf("baseline: lab %s has no nodes", l.Name)
	}
	var b strings.Builder
	set := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, shQuote(v)) }
	fmt.Fprintf(&b, "# Settings of the hotsnap Alien4Cloud baseline scripts for lab %s (written by baseline.InstallA4C).\n", l.Name)
	set("ALIEN_DIR", lab.Alien4CloudDataDir)
	set("FILES_DIR", filesDir)
	set("ES_URL", "http://localhost:9200")
	set("ES_BACKUP_DIR", A4CESBackupDir)
	set("A4C_UNIT", lab.Alien4CloudUnit)
	set("A4C_URL", fmt.Sprintf("http://localhost:%d", lab.Alien4CloudPort))
	if l.Auth() {
		es, err := l.Secret(lab.SecretES)
		if err != nil {
			return "", fmt.Errorf("baseline: %w", err)
		}
		set("ES_AUTH", lab.ESUser+":"+es)
	}
	return b.String(), nil
}

// InstallA4C writes the Alien4Cloud scripts (0755) and their settings file
// (0600) into l.BinPath(), so that node1 runs them as A4CBackupPath and
// A4CRestorePath.
func InstallA4C(l *lab.Lab) error { return InstallA4CFilesDir(l, A4CFilesDir) }

// InstallA4CFilesDir is InstallA4C with backup.files_dir filesDir (the
// bench puts it on the backup host's share, off the node, as hotsnap's
// repository is).
func InstallA4CFilesDir(l *lab.Lab, filesDir string) error {
	conf, err := a4cConf(l, filesDir)
	if err != nil {
		return err
	}
	if err := a4cSnapshotFolder(l); err != nil {
		return err
	}
	return install(l, a4cScripts, []installFile{{src: A4CBackupName, name: A4CBackupName, mode: 0o755},
		{src: A4CRestoreName, name: A4CRestoreName, mode: 0o755}, {name: A4CConfName, data: conf, mode: 0o600}})
}

// readScript reads an embedded script.
func readScript(fsys embed.FS, name string) ([]byte, error) {
	b, err := fsys.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("baseline script %s: %w", name, err)
	}
	return b, nil
}

// installFile is one file install writes: an embedded script (src) or
// data (settings, lists).
type installFile struct {
	src, name, data string
	mode            os.FileMode
}

// install writes files into l.BinPath().
func install(l *lab.Lab, fsys embed.FS, files []installFile) error {
	for _, f := range files {
		data := []byte(f.data)
		if f.src != "" {
			var err error
			if data, err = readScript(fsys, f.src); err != nil {
				return err
			}
		}
		if err := writeAtomic(filepath.Join(l.BinPath(), f.name), data, f.mode); err != nil {
			return fmt.Errorf("baseline: install %s in lab %s: %w", f.name, l.Name, err)
		}
	}
	return nil
}

// a4cSnapshotFolder makes A4CESBackupDir on the share as the page's setup
// does ("sudo -u elasticsearch mkdir -p …/backups"): owned by the user
// Elasticsearch writes as, the owner of the lab's own repository folder.
func a4cSnapshotFolder(l *lab.Lab) error {
	share := l.SharedBackupPath()
	fi, err := os.Stat(filepath.Join(share, "elasticsearch"))
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("baseline: no owner for %s", fi.Name())
	}
	dir := filepath.Join(share, strings.TrimPrefix(A4CESBackupDir, "/mnt/backup/"))
	if err := os.MkdirAll(dir, 0o770); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if err := os.Chown(dir, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	return nil
}
