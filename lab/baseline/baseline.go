// Package baseline runs TheHive 5's published hot backup and restore
// procedure (StrangeBee's runbook, reference/thehive-runbook.md §1 and §2)
// on a lab: the yardstick hotsnap is measured against.
//
// The scripts are StrangeBee's own, verbatim (published/*.sh, each with a
// header saying where it comes from); Install sets only the variables the
// documentation says to edit and puts them in every node's /usr/local/bin.
// Their bugs stay: the Elasticsearch block leaves with `exit 0` as soon as
// the snapshot is accepted (the backup never waits for SUCCESS), the
// restore's `DESCRIBE … || true > file` always drops the keyspace, the
// Cassandra and Elasticsearch names come from two `date` calls, the
// attachments come back owned by root.
//
// Beside it, named so, WaitFixed is the same backup script with the ES
// block's early `exit 0` removed and its poll made every second (no 5 s
// sleep first): the published procedure as it would be if it waited.
package baseline

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/lab"
)

//go:embed published/*.sh
var published embed.FS

// The published scripts (files in published/, installed under these names).
const (
	// BackupCassandraES is §1 step 6: Cassandra + Elasticsearch snapshots.
	BackupCassandraES = "hot-backup-cassandra-elasticsearch-snapshots.sh"
	// BackupFiles is §1 step 7, NFS/local attachments.
	BackupFiles = "hot-backup-file-storage-local-nfs.sh"
	// RestoreCassandraES is §2 step 2 (cluster): Cassandra + Elasticsearch.
	RestoreCassandraES = "hot-restore-cassandra-elasticsearch-snapshots-cluster.sh"
	// RestoreFiles is §2 step 3, NFS/local attachments.
	RestoreFiles = "hot-restore-file-storage-local-nfs.sh"
	// BackupCassandraESWaitFixed is BackupCassandraES with the ES wait fixed.
	BackupCassandraESWaitFixed = "hot-backup-cassandra-elasticsearch-snapshots-wait-fixed.sh"
)

// Paths and the scripts' own success lines.
const (
	// NodeBinDir is where a lab node sees STATE/bin.
	NodeBinDir = "/usr/local/bin"
	// SuccessBackup is the Cassandra + ES backup script's success line.
	SuccessBackup = "=== ✓ Full backup successful ==="
	// SuccessFilesBackup is the attachments backup script's last message.
	SuccessFilesBackup = "TheHive attachment files backup done! Keep the following backup archive safe:"
	// SuccessRestore is the Cassandra + ES restore script's success line.
	SuccessRestore = "=== ✓ Successful full restore ==="
	// SuccessFilesRestore is the attachments restore script's last line.
	SuccessFilesRestore = "attachment files data restoration done!"
)

// Variant is a backup baseline of the bench.
type Variant string

const (
	// Published is the published procedure as it runs (ratios are taken
	// against it).
	Published Variant = "published"
	// WaitFixed is the published procedure with the ES wait fixed.
	WaitFixed Variant = "published + the ES wait fixed"
)

// Script returns the text of a published script (one of the names above,
// the wait-fixed one included), before any substitution.
func Script(name string) ([]byte, error) {
	if name == BackupCassandraESWaitFixed {
		return waitFixed()
	}
	b, err := published.ReadFile("published/" + name)
	if err != nil {
		return nil, fmt.Errorf("baseline script %s: %w", name, err)
	}
	return b, nil
}

// body returns a script without its shebang and header comment.
func body(script []byte) []byte {
	lines := strings.SplitAfter(string(script), "\n")
	i := 1
	for i < len(lines) && strings.HasPrefix(lines[i], "#") {
		i++
	}
	return []byte(strings.Join(lines[i:], ""))
}

// The wait fix: the ES block's `exit 0` after "started successfully" goes,
// and the loop polls first, then every second.
const (
	earlyExit = "        echo \"[ES] ✓ Elasticsearch snapshot started successfully\"\n        exit 0\n"
	noExit    = "        echo \"[ES] ✓ Elasticsearch snapshot started successfully\"\n"
	sleep5    = "        echo \"Snapshot in progress, waiting 5 seconds before checking status again...\"\n        sleep 5\n"
	sleep1    = "        [ \"${state}\" = \"NONE\" ] || { echo \"Snapshot in progress, waiting 1 second before checking status again...\"; sleep 1; }\n"
)

const waitFixedHeader = `#!/bin/bash
# hotsnap baseline "published + the ES wait fixed": StrangeBee's published
# hot-backup-cassandra-elasticsearch-snapshots.sh (published/, verbatim)
# with two changes and no other: the ES block no longer leaves with
# "exit 0" right after the snapshot is accepted, so its documented wait
# loop runs; and that loop polls first, then every second (instead of
# sleeping 5 s before every poll). Written by lab/baseline from the
# published file.
`

// waitFixed derives the wait-fixed backup script from the published one.
func waitFixed() ([]byte, error) {
	b, err := published.ReadFile("published/" + BackupCassandraES)
	if err != nil {
		return nil, fmt.Errorf("baseline script %s: %w", BackupCassandraES, err)
	}
	s := string(body(b))
	for _, r := range [][2]string{{earlyExit, noExit}, {sleep5, sleep1}} {
		if strings.Count(s, r[0]) != 1 {
			return nil, fmt.Errorf("baseline: %s no longer has %q once: the wait fix does not apply", BackupCassandraES, r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return []byte(waitFixedHeader + s), nil
}

// Substitute sets the variables the documentation says to edit: each NAME
// in vars must be assigned exactly once at the start of a line of the
// script (NAME=...), and that line becomes NAME="value".
func Substitute(script []byte, vars map[string]string) ([]byte, error) {
	out := script
	for name, value := range vars {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `=.*$`)
		if n := len(re.FindAll(out, -1)); n != 1 {
			return nil, fmt.Errorf("baseline: variable %s is assigned %d times in the script, want once", name, n)
		}
		if strings.ContainsAny(value, "\"$`\\\n") {
			return nil, fmt.Errorf("baseline: value of %s: quotes, $, backquotes, backslashes and newlines are not substituted", name)
		}
		out = re.ReplaceAllLiteral(out, []byte(name+`="`+value+`"`))
	}
	return out, nil
}

// Vars returns the variables the documentation says to edit, for lab l:
// CASSANDRA_CONNECTION is node1 (the keyspace, the ES repository and the
// attachment folder are the documented defaults, which the lab uses). A
// lab with authentication is refused: the documented auth string
// "<ip> admin -p <password>" lacks cqlsh's -u (the runbook's note), so
// the published scripts cannot log in as written.
func Vars(l *lab.Lab) (map[string]string, error) {
	if len(l.Nodes) == 0 {
		return nil, fmt.Errorf("baseline: lab %s has no nodes", l.Name)
	}
	if l.Auth() {
		return nil, fmt.Errorf("baseline: lab %s has authentication: the published scripts' documented CASSANDRA_CONNECTION \"<ip> admin -p <password>\" lacks -u and cannot log in; run the baseline on a lab without --auth", l.Name)
	}
	return map[string]string{"CASSANDRA_CONNECTION": l.Nodes[0].IP}, nil
}

// installed lists the scripts Install writes and which take the variables.
var installed = []struct {
	name string
	vars bool
}{{BackupCassandraES, true}, {BackupCassandraESWaitFixed, true}, {BackupFiles, false}, {RestoreCassandraES, true}, {RestoreFiles, false}}

// Install writes the scripts, with the lab's variables, into l.BinPath()
// (0755), so that every node runs them from NodeBinDir.
func Install(l *lab.Lab) error {
	vars, err := Vars(l)
	if err != nil {
		return err
	}
	for _, s := range installed {
		text, err := Script(s.name)
		if err != nil {
			return err
		}
		if s.vars {
			if text, err = Substitute(text, vars); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		if err := writeAtomic(filepath.Join(l.BinPath(), s.name), text, 0o755); err != nil {
			return fmt.Errorf("baseline: install %s in lab %s: %w", s.name, l.Name, err)
		}
	}
	return nil
}

// BackupCommand is the shell command, run as root on a node that has
// Cassandra and Elasticsearch, that takes a backup the published way: the
// Cassandra + ES script (v's), then the attachments script.
func BackupCommand(v Variant) string {
	first := BackupCassandraES
	if v == WaitFixed {
		first = BackupCassandraESWaitFixed
	}
	return NodeBinDir + "/" + first + " && " + NodeBinDir + "/" + BackupFiles
}

// Backup runs BackupCommand(v) on node1 with sudo over SSH from the op
// namespace, as an operator would, and returns its output and how long it
// took. It fails unless both scripts report success.
func Backup(ctx context.Context, l *lab.Lab, v Variant) (string, time.Duration, error) {
	start := time.Now()
	out, err := SSH(ctx, l, l.Nodes[0], "sudo sh -c "+shQuote(BackupCommand(v)))
	d := time.Since(start)
	if err != nil {
		return out, d, fmt.Errorf("baseline %s backup on %s: %w\n%s", v, l.Nodes[0].Name, err, out)
	}
	for _, want := range []string{SuccessBackup, SuccessFilesBackup} {
		if !strings.Contains(out, want) {
			return out, d, fmt.Errorf("baseline %s backup on %s ended without %q:\n%s", v, l.Nodes[0].Name, want, out)
		}
	}
	return out, d, nil
}

// RestoreTimes are the published restore's phases.
type RestoreTimes struct {
	// Stop is step 1: TheHive stopped (and shown inactive) on every node.
	Stop time.Duration
	// CassandraES is step 2, the Cassandra + ES restore script on node1.
	CassandraES time.Duration
	// Files is step 3, the attachments restore script on node1.
	Files time.Duration
	// Start is step 4: TheHive started (and shown active) on every node.
	Start time.Duration
	// Total runs from the first stop to the last start.
	Total time.Duration
}

// Restore runs the published restore (runbook §2) from the op namespace as
// an operator would: step 1 stops TheHive on every node (in parallel),
// steps 2 and 3 run the two scripts on node1 with sudo, step 4 starts
// TheHive on every node. It returns the scripts' output and the phases'
// times; it fails unless each step reports success.
func Restore(ctx context.Context, l *lab.Lab) (string, RestoreTimes, error) {
	var t RestoreTimes
	var log bytes.Buffer
	start := time.Now()
	if err := onEveryNode(ctx, l, "sudo systemctl stop thehive; sudo systemctl is-active thehive", "inactive"); err != nil {
		return log.String(), t, fmt.Errorf("baseline restore, step 1 (stop TheHive): %w", err)
	}
	t.Stop = time.Since(start)
	for _, s := range []struct {
		script, success string
		d               *time.Duration
	}{{RestoreCassandraES, SuccessRestore, &t.CassandraES}, {RestoreFiles, SuccessFilesRestore, &t.Files}} {
		t0 := time.Now()
		out, err := SSH(ctx, l, l.Nodes[0], "sudo "+NodeBinDir+"/"+s.script)
		*s.d = time.Since(t0)
		log.WriteString(out)
		if err == nil && !strings.Contains(out, s.success) {
			err = fmt.Errorf("ended without %q", s.success)
		}
		if err != nil {
			return log.String(), t, fmt.Errorf("baseline restore, %s on %s: %w\n%s", s.script, l.Nodes[0].Name, err, out)
		}
	}
	t0 := time.Now()
	if err := onEveryNode(ctx, l, "sudo systemctl start thehive; sudo systemctl is-active thehive", "active"); err != nil {
		return log.String(), t, fmt.Errorf("baseline restore, step 4 (start TheHive): %w", err)
	}
	t.Start = time.Since(t0)
	t.Total = time.Since(start)
	return log.String(), t, nil
}

// onEveryNode runs cmd on every node in parallel; each must print want as
// its last line.
func onEveryNode(ctx context.Context, l *lab.Lab, cmd, want string) error {
	errs := make([]error, len(l.Nodes))
	var wg sync.WaitGroup
	for i, n := range l.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _ := SSH(ctx, l, n, cmd) // is-active exits 3 when inactive
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := lines[len(lines)-1]; got != want {
				errs[i] = fmt.Errorf("%s: TheHive is %q, want %s:\n%s", n.Name, got, want, out)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// SSH runs remote on n with the real OpenSSH client from the op namespace,
// as lab.LoginUser with the lab's key and known_hosts, and returns its
// output (stdout and stderr).
func SSH(ctx context.Context, l *lab.Lab, n lab.NodeInfo, remote string) (string, error) {
	cmd := l.OpCommand(ctx, "ssh", "-i", l.KeyPath(), "-o", "UserKnownHostsFile="+l.KnownHostsPath(),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		lab.LoginUser+"@"+n.IP, remote)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// shQuote quotes s for a POSIX shell (single quotes).
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

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
