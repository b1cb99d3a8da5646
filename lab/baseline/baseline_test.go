package baseline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/thehive"
)

// The test binary doubles as the hotsnap binary the lab installs: run
// under a stand-in's name it is that stand-in, as main.go dispatches.
var standIns = map[string]func(args []string) int{
	"nodetool":          func(a []string) int { return cassandra.NodetoolMain(a, os.Stdout, os.Stderr) },
	"cqlsh":             func(a []string) int { return cassandra.CqlshMain(a, os.Stdout, os.Stderr) },
	"sstableloader":     func(a []string) int { return cassandra.SSTableLoaderMain(a, os.Stdout, os.Stderr) },
	"cassandra-standin": cassandra.Main,
	"es-standin":        elastic.Main,
	"thehive-standin":   thehive.Main,
	"systemctl":         func(a []string) int { return thehive.SystemctlMain(a, os.Stdout, os.Stderr) },
	"journalctl":        func(a []string) int { return thehive.JournalctlMain(a, os.Stdout, os.Stderr) },
	"celery":            eclecticiq.CeleryMain,
	"eiq-platform":      eclecticiq.PlatformMain,
}

func TestMain(m *testing.M) {
	if f, ok := standIns[filepath.Base(os.Args[0])]; ok {
		os.Exit(f(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestScriptsEmbedded(t *testing.T) {
	for name, want := range map[string][]string{
		"backup.sh": {SuccessBackup, "nodetool snapshot -t", "DESCRIBE KEYSPACE", "_snapshot/$ES_REPO/$es_name",
			"verbose=false", "SUCCESS", "cp -p --remove-destination", "nodetool clearsnapshot", "files_$stamp"},
		"restore.sh": {SuccessRestore, "systemctl stop thehive", "DROP KEYSPACE IF EXISTS", "-f \"$cass_dir/create_keyspace_$KEYSPACE.cql\"",
			"sstableloader -d", "_restore?wait_for_completion=true", "systemctl start thehive"},
		"eclecticiq-backup.sh": {SuccessEclecticIQBackup, "systemctl stop eclecticiq-platform-backend-services",
			"llen \"$q\"", "systemctl stop eclecticiq-platform-backend-worker*.service", "ps auxf | grep beat",
			"sudo -i -u postgres pg_dumpall >", "?wait_for_completion=true", `cp -a "$real" "$dir/config$real"`},
		"eclecticiq-restore.sh": {SuccessEclecticIQRestore, "sudo -i -u postgres psql -X -q <", "/_restore\"", "_recovery/",
			"eiq-platform search upgrade", "processing_status NOT IN ('success', 'pending')"},
	} {
		b, err := Script(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("#!/bin/bash\n")) {
			t.Errorf("%s: no bash shebang", name)
		}
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
		if out, err := exec.Command("bash", "-n", "-c", string(b)).CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v\n%s", name, err, out)
		}
	}
	if _, err := Script("nope.sh"); err == nil {
		t.Error("Script(nope.sh): no error")
	}
}

func TestShQuote(t *testing.T) {
	for in, want := range map[string]string{"": "''", "a b": "'a b'", "it's": `'it'\''s'`, "$x": "'$x'"} {
		if got := shQuote(in); got != want {
			t.Errorf("shQuote(%q) = %s, want %s", in, got, want)
		}
		out, err := exec.Command("bash", "-c", "printf %s "+shQuote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("bash reads %s as %q (%v), want %q", shQuote(in), out, err, in)
		}
	}
}

// sshNode runs remote on node over SSH from the op namespace as lab.LoginUser.
func sshNode(ctx context.Context, l *lab.Lab, node, remote string) (string, error) {
	n, ok := l.Node(node)
	if !ok {
		return "", errors.New("no node " + node)
	}
	cmd := l.OpCommand(ctx, "ssh", "-i", l.KeyPath(), "-o", "UserKnownHostsFile="+l.KnownHostsPath(),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		lab.LoginUser+"@"+n.IP, remote)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

var countRE = regexp.MustCompile(`(?m)^\s*(\d+)\s*$`)

// state is what the restore must bring back.
type state struct {
	rows  map[string]int
	docs  string
	files map[string]string
}

func snapshotState(t *testing.T, ctx context.Context, l *lab.Lab, cql, es string) state {
	t.Helper()
	s := state{rows: map[string]int{}, files: map[string]string{}}
	dirs, err := filepath.Glob(filepath.Join(l.NodeDir("node1"), "cassandra", "data", lab.Keyspace, "*-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no table directories on node1: %v", err)
	}
	for _, d := range dirs {
		table := strings.SplitN(filepath.Base(d), "-", 2)[0]
		if _, seen := s.rows[table]; seen {
			continue
		}
		out, err := sshNode(ctx, l, "node2", cql+` -e "SELECT count(*) FROM `+lab.Keyspace+`.`+table+`"`)
		m := countRE.FindStringSubmatch(out)
		if err != nil || m == nil {
			s.rows[table] = -1
			continue
		}
		s.rows[table], _ = strconv.Atoi(m[1])
	}
	out, err := sshNode(ctx, l, "node3", es+" 127.0.0.1:9200/"+lab.ESIndex+"/_count | jq -r .count")
	if err != nil {
		out = "error: " + err.Error()
	}
	s.docs = strings.TrimSpace(out)
	root := filepath.Join(l.NodeDir("node1"), "thehive-files")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		s.files[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatalf("hash attachments: %v", err)
	}
	return s
}

// baselineLab brings up a lab for a baseline test: its state in a fresh
// directory, the test binary as its stand-ins, HOTSNAP_BASELINE_DATA
// (default 20MB) as its data; it comes down when the test ends. It
// returns the lab and its data size.
func baselineLab(t *testing.T, ctx context.Context, o lab.Options) (*lab.Lab, int64) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab tests need root")
	}
	o.Data = 20_000_000
	if v := os.Getenv("HOTSNAP_BASELINE_DATA"); v != "" {
		var err error
		if o.Data, err = lab.ParseSize(v); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", o.Name+"-state-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var logb bytes.Buffer
	o.StateDir, o.Log, o.Binary = dir, &logb, self
	_ = lab.Down(ctx, o)
	l, err := lab.Up(ctx, o)
	if err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, logb.String())
	}
	t.Cleanup(func() { lab.Down(context.Background(), o) })
	return l, o.Data
}

// runScript runs a baseline script as root on node1, fails the test
// unless it ends with success, and returns its output and duration.
func runScript(t *testing.T, ctx context.Context, l *lab.Lab, path, success string) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	out, err := sshNode(ctx, l, "node1", "sudo "+path+" 2>&1")
	took := time.Since(start)
	if err != nil || !strings.Contains(out, success) {
		t.Fatalf("%s: %v\n%s", path, err, out)
	}
	if testing.Verbose() {
		t.Logf("%s output:\n%s", path, out)
	}
	return out, took
}

// TestBaselineBackupRestore runs the documented procedure on a 3-node lab:
// backup, wreck everything, restore, compare. HOTSNAP_BASELINE_DATA sets the
// Cassandra data per node (default 20MB).
func TestBaselineBackupRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l, data := baselineLab(t, ctx, lab.Options{Name: "hsbl", Subnet: 14, Nodes: 3, Auth: true})
	if err := Install(l); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(l.BinPath(), ConfName))
	if err != nil || !strings.Contains(string(conf), "CQL_AUTH='-u admin -p ") || !strings.Contains(string(conf), "THEHIVE_NODES='"+l.Nodes[0].IP+" ") {
		t.Fatalf("settings file: %v\n%s", err, conf)
	}
	if st, err := os.Stat(filepath.Join(l.BinPath(), ConfName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode: %v %v, want 0600", st, err)
	}
	admin, err := l.Secret(lab.SecretCassandraAdmin)
	if err != nil {
		t.Fatal(err)
	}
	espw, err := l.Secret(lab.SecretES)
	if err != nil {
		t.Fatal(err)
	}
	cql := "cqlsh " + l.Nodes[0].IP + " -u admin -p " + shQuote(admin)
	es := "curl -s -u " + shQuote("elastic:"+espw)

	// Runbook §1 step 3: register the snapshot repository once.
	out, err := sshNode(ctx, l, "node1", es+` -X PUT 127.0.0.1:9200/_snapshot/thehive_repository -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}'`)
	if err != nil || !strings.Contains(out, `"acknowledged":true`) {
		t.Fatalf("register repository: %q %v", out, err)
	}
	before := snapshotState(t, ctx, l, cql, es)
	for table, n := range before.rows {
		if n < 0 {
			t.Fatalf("before: count rows of table %s failed", table)
		}
	}
	if before.rows["edgestore"] <= 0 {
		t.Fatalf("before: edgestore has %d rows", before.rows["edgestore"])
	}
	if before.docs == "" || before.docs == "0" || len(before.files) == 0 {
		t.Fatalf("before: %s docs, %d files", before.docs, len(before.files))
	}

	_, backupTime := runScript(t, ctx, l, BackupPath, SuccessBackup)
	t.Logf("backup of %d MB per node took %s", data/1_000_000, backupTime.Round(time.Millisecond))
	shared := l.SharedBackupPath()
	for _, g := range []string{"cassandra/cassandra_????????_??h??m??s.tar", "elasticsearch/elasticsearch_????????_??h??m??s.info",
		"storage/files_????????_??h??m??s.tar"} {
		if m, _ := filepath.Glob(filepath.Join(shared, g)); len(m) != 1 {
			t.Errorf("archives %s: %v, want one", g, m)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(shared, "cassandra", "cassandra_*.tar")); len(m) == 1 {
		list, err := exec.CommandContext(ctx, "tar", "tf", m[0]).Output()
		name := strings.TrimSuffix(filepath.Base(m[0]), ".tar")
		if err != nil || !bytes.Contains(list, []byte(name+"/create_keyspace_thehive.cql")) || !bytes.Contains(list, []byte(name+"/thehive/edgestore-")) {
			t.Errorf("cassandra archive content: %v\n%s", err, list)
		}
	}
	if snaps, _ := filepath.Glob(filepath.Join(l.NodeDir("node1"), "cassandra", "data", lab.Keyspace, "*", "snapshots", "*")); len(snaps) != 0 {
		t.Errorf("snapshots left on node1: %v", snaps)
	}

	// Wreck: keyspace, index, attachments.
	for _, c := range []string{
		cql + ` -e "DROP KEYSPACE ` + lab.Keyspace + `"`,
		es + " -X DELETE 127.0.0.1:9200/" + lab.ESIndex,
		"sudo find /opt/thp/thehive/files -mindepth 1 -delete",
	} {
		if out, err := sshNode(ctx, l, "node1", c); err != nil {
			t.Fatalf("wreck: %s: %v\n%s", c, err, out)
		}
	}
	wrecked := snapshotState(t, ctx, l, cql, es)
	if len(wrecked.files) != 0 || wrecked.docs == before.docs {
		t.Fatalf("wreck did not take: %d files, %s docs", len(wrecked.files), wrecked.docs)
	}

	out, restoreTime := runScript(t, ctx, l, RestorePath, SuccessRestore)
	t.Logf("restore of %d MB per node took %s", data/1_000_000, restoreTime.Round(time.Millisecond))
	if !strings.Contains(out, "Stopping TheHive on "+l.Nodes[2].IP) {
		t.Errorf("restore did not stop TheHive on node3:\n%s", out)
	}

	after := snapshotState(t, ctx, l, cql, es)
	for table, n := range before.rows {
		if after.rows[table] != n {
			t.Errorf("table %s: %d rows after restore, want %d", table, after.rows[table], n)
		}
	}
	if after.docs != before.docs {
		t.Errorf("%s: %s docs after restore, want %s", lab.ESIndex, after.docs, before.docs)
	}
	if len(after.files) != len(before.files) {
		t.Errorf("%d attachments after restore, want %d", len(after.files), len(before.files))
	}
	for p, h := range before.files {
		if after.files[p] != h {
			t.Errorf("attachment %q: hash %q after restore, want %q", p, after.files[p], h)
		}
	}
	if err := l.WaitTheHive(ctx, 30*time.Second); err != nil {
		t.Errorf("TheHive after restore: %v", err)
	}
}
