package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/cassandra"
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
}

func TestMain(m *testing.M) {
	if f, ok := standIns[filepath.Base(os.Args[0])]; ok {
		os.Exit(f(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestPublishedScripts: the published scripts are StrangeBee's (their
// known lines, bugs included), valid bash, and the wait-fixed one differs
// from the published backup by exactly its two changes.
func TestPublishedScripts(t *testing.T) {
	for name, want := range map[string][]string{
		BackupCassandraES: {SuccessBackup, `CASSANDRA_CONNECTION="<ip_node_cassandra>"`, `CASSANDRA_SNAPSHOT_NAME="cassandra_$(date +%Y%m%d_%Hh%Mm%Ss)"`,
			`ELASTICSEARCH_SNAPSHOT_NAME="elasticsearch_$(date +%Y%m%d_%Hh%Mm%Ss)"`, earlyExit, sleep5, "cp -p --remove-destination", "nodetool clearsnapshot"},
		BackupFiles:        {SuccessFilesBackup, "cp -r ${ATTACHMENT_FOLDER}/. ${ATTACHMENT_ARCHIVE_PATH}/"},
		RestoreCassandraES: {SuccessRestore, `-e "DESCRIBE KEYSPACE ${CASSANDRA_KEYSPACE}" || true > "${CASSANDRA_SNAPSHOT_FOLDER}/target_keyspace_`, "sleep 5s", "sstableloader -d ${CASSANDRA_CONNECTION/-p /-pw }", "_restore?wait_for_completion=true"},
		RestoreFiles:       {SuccessFilesRestore, "rm -rf ${ATTACHMENT_FOLDER}/*", "cp -r ${ATTACHMENT_SNAPSHOT_FOLDER}/* ${ATTACHMENT_FOLDER}/"},
	} {
		b, err := Script(name)
		checkScript(t, name, b, err, want)
		if !bytes.HasPrefix(b, []byte("#!/bin/bash\n# hotsnap baseline: StrangeBee's published script, VERBATIM, from\n")) {
			t.Errorf("%s: no provenance header", name)
		}
	}
	pub, _ := Script(BackupCassandraES)
	fixed, err := Script(BackupCassandraESWaitFixed)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", "-c", string(fixed)).CombinedOutput(); err != nil {
		t.Errorf("wait-fixed: bash -n: %v\n%s", err, out)
	}
	// Line by line, past the headers: one line gone (exit 0), two lines
	// (echo, sleep 5) become one; nothing else.
	a, b := strings.Split(string(body(pub)), "\n"), strings.Split(string(body(fixed)), "\n")
	onlyA, onlyB := minus(a, b), minus(b, a)
	wantA := []string{`echo "Snapshot in progress, waiting 5 seconds before checking status again..."`, "exit 0", "sleep 5"}
	slices.Sort(onlyA)
	if strings.Join(onlyA, "|") != strings.Join(wantA, "|") || len(onlyB) != 1 || !strings.Contains(onlyB[0], "sleep 1") {
		t.Errorf("wait-fixed differs from the published script by\n- %q\n+ %q", onlyA, onlyB)
	}
	if _, err := Script("nope.sh"); err == nil {
		t.Error("Script(nope.sh): no error")
	}
}

// minus returns the lines of a that b lacks (as multisets), trimmed.
func minus(a, b []string) []string {
	in := map[string]int{}
	for _, l := range b {
		in[l]++
	}
	var out []string
	for _, l := range a {
		if in[l] > 0 {
			in[l]--
		} else {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

func TestSubstitute(t *testing.T) {
	script := []byte("#!/bin/bash\nA=1\nCASSANDRA_CONNECTION=\"<ip_node_cassandra>\"\necho $CASSANDRA_CONNECTION\n")
	got, err := Substitute(script, map[string]string{"CASSANDRA_CONNECTION": "10.77.50.11"})
	if err != nil || string(got) != "#!/bin/bash\nA=1\nCASSANDRA_CONNECTION=\"10.77.50.11\"\necho $CASSANDRA_CONNECTION\n" {
		t.Errorf("Substitute = %q, %v", got, err)
	}
	for name, vars := range map[string]map[string]string{
		"missing":  {"NOPE": "x"},
		"twice":    {"A": "x"},
		"injected": {"CASSANDRA_CONNECTION": `x"; rm -rf /; "`},
	} {
		in := script
		if name == "twice" {
			in = append(append([]byte{}, script...), "A=2\n"...)
		}
		if _, err := Substitute(in, vars); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if BackupCommand(Published) != "/usr/local/bin/"+BackupCassandraES+" && /usr/local/bin/"+BackupFiles ||
		BackupCommand(WaitFixed) != "/usr/local/bin/"+BackupCassandraESWaitFixed+" && /usr/local/bin/"+BackupFiles {
		t.Errorf("BackupCommand: %q %q", BackupCommand(Published), BackupCommand(WaitFixed))
	}
}

var countRE = regexp.MustCompile(`(?m)^\s*(\d+)\s*$`)

// appState is what the restore must bring back.
type appState struct {
	rows  map[string]int
	docs  string
	files map[string]string
}

// node1 runs a shell command inside node1 (untimed checks and damage).
func node1(t *testing.T, ctx context.Context, l *lab.Lab, script string) string {
	t.Helper()
	cmd := l.NodeCommand(ctx, "node1", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node1: %s: %v\n%s", script, err, out)
	}
	return string(out)
}

func readState(t *testing.T, ctx context.Context, l *lab.Lab) appState {
	t.Helper()
	s := appState{rows: map[string]int{}, files: map[string]string{}}
	dirs, err := filepath.Glob(filepath.Join(l.NodeDir("node1"), "cassandra", "data", lab.Keyspace, "*-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no table directories on node1: %v", err)
	}
	for _, d := range dirs {
		table := strings.SplitN(filepath.Base(d), "-", 2)[0]
		if _, seen := s.rows[table]; seen {
			continue
		}
		out, err := SSH(ctx, l, l.Nodes[1], "cqlsh "+l.Nodes[0].IP+` -e "SELECT count(*) FROM `+lab.Keyspace+`.`+table+`"`)
		m := countRE.FindStringSubmatch(out)
		if err != nil || m == nil {
			s.rows[table] = -1
			continue
		}
		s.rows[table], _ = strconv.Atoi(m[1])
	}
	out, err := SSH(ctx, l, l.Nodes[2], "curl -s 127.0.0.1:9200/"+lab.ESIndex+"/_count | jq -r .count")
	if err != nil {
		out = "error: " + err.Error()
	}
	s.docs = strings.TrimSpace(out)
	s.files = hashTree(t, filepath.Join(l.NodeDir("node1"), "thehive-files"))
	return s
}

// snapshots returns the ES snapshots of the lab's repository by name, with
// their state.
func snapshots(t *testing.T, ctx context.Context, l *lab.Lab) map[string]string {
	t.Helper()
	var list struct {
		Snapshots []struct{ Snapshot, State string } `json:"snapshots"`
	}
	out := node1(t, ctx, l, "curl -s 127.0.0.1:9200/_snapshot/"+lab.ESRepository+"/_all")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list snapshots: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, s := range list.Snapshots {
		m[s.Snapshot] = s.State
	}
	return m
}

// clearBackups removes the scripts' archives and ES snapshots, so that the
// next backup is alone (their names have a one-second resolution).
func clearBackups(t *testing.T, ctx context.Context, l *lab.Lab) {
	t.Helper()
	for name := range snapshots(t, ctx, l) {
		node1(t, ctx, l, "curl -sf -XDELETE 127.0.0.1:9200/_snapshot/"+lab.ESRepository+"/"+name)
	}
	node1(t, ctx, l, "rm -rf /mnt/backup/cassandra /mnt/backup/storage /mnt/backup/elasticsearch/elasticsearch_*.info")
}

// ownedBy fails unless every entry under the host path root is user's.
func ownedBy(t *testing.T, root, user string) int {
	t.Helper()
	uid := -1
	if out, err := exec.Command("id", "-u", user).Output(); err == nil {
		uid, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
			t.Errorf("%s: owner uid %d, want %s (%d)", p, st.Uid, user, uid)
			return filepath.SkipAll
		}
		n++
		return nil
	})
	if err != nil {
		t.Errorf("walk %s: %v", root, err)
	}
	return n
}

// TestBaselineOnLab runs the published procedure on a 3-node lab (subnet
// 50): the published backup reports success without waiting for the ES
// snapshot (it does so for one that FAILED); the wait-fixed one waits for
// SUCCESS; then a published backup, the data wrecked, the published
// restore, and the application sees its rows, documents and attachments
// again. HOTSNAP_BASELINE_DATA sets the Cassandra data per node (20MB).
func TestBaselineOnLab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the lab tests need root")
	}
	data := int64(20_000_000)
	if v := os.Getenv("HOTSNAP_BASELINE_DATA"); v != "" {
		var err error
		if data, err = lab.ParseSize(v); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l := upTestLab(t, ctx, lab.Options{Name: "hsnl0", Subnet: 50, Nodes: 3, Data: data})
	if err := Install(l); err != nil {
		t.Fatal(err)
	}
	for _, s := range installed {
		b, err := os.ReadFile(filepath.Join(l.BinPath(), s.name))
		if err != nil {
			t.Fatal(err)
		}
		if s.vars != bytes.Contains(b, []byte(`CASSANDRA_CONNECTION="`+l.Nodes[0].IP+`"`)) || bytes.Contains(b, []byte("<ip_node_cassandra>")) {
			t.Errorf("%s: CASSANDRA_CONNECTION not set to node1 (%s)", s.name, l.Nodes[0].IP)
		}
	}
	state := filepath.Join(l.StateDir, "shared", "es-state")

	t.Run("published backup does not wait for SUCCESS", func(t *testing.T) {
		node1(t, ctx, l, "es-standin fault --state "+state+" --fail-next-snapshot FAILED --reason 'disk of node-2 is full'")
		out, d, err := Backup(ctx, l, Published)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("published backup: %s", d.Round(time.Millisecond))
		if strings.Contains(out, "Snapshot finished") || strings.Contains(out, "waiting 5 seconds") || !strings.Contains(out, "[ES] ✓ Elasticsearch snapshot started successfully") {
			t.Errorf("the published ES block ran its wait loop:\n%s", out)
		}
		snaps := snapshots(t, ctx, l)
		if len(snaps) != 1 {
			t.Fatalf("want one ES snapshot, got %v", snaps)
		}
		for name, st := range snaps {
			if st != "FAILED" {
				t.Errorf("snapshot %s is %s, want FAILED (the published backup reported success for it)", name, st)
			}
		}
		// The ES repository is elasticsearch's, the archives root's with
		// the Cassandra folder given to cassandra, as the script does.
		if n := ownedBy(t, filepath.Join(l.SharedBackupPath(), "elasticsearch", "indices"), "elasticsearch"); n == 0 {
			t.Error("no ES repository files")
		}
		clearBackups(t, ctx, l)
	})

	t.Run("wait-fixed backup waits for SUCCESS", func(t *testing.T) {
		out, d, err := Backup(ctx, l, WaitFixed)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wait-fixed backup: %s", d.Round(time.Millisecond))
		if !strings.Contains(out, "Snapshot finished") {
			t.Errorf("the wait-fixed ES block did not wait:\n%s", out)
		}
		for name, st := range snapshots(t, ctx, l) {
			if st != "SUCCESS" {
				t.Errorf("snapshot %s is %s after the wait-fixed backup, want SUCCESS", name, st)
			}
		}
		clearBackups(t, ctx, l)
	})

	t.Run("published backup and restore bring the data back", func(t *testing.T) {
		before := readState(t, ctx, l)
		for table, n := range before.rows {
			if n < 0 {
				t.Fatalf("before: count rows of table %s failed", table)
			}
		}
		if before.rows["edgestore"] <= 0 || before.docs == "" || before.docs == "0" || len(before.files) == 0 {
			t.Fatalf("before: %v rows, %s docs, %d files", before.rows, before.docs, len(before.files))
		}
		out, d, err := Backup(ctx, l, Published)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("published backup of %d MB per node: %s", data/1_000_000, d.Round(time.Millisecond))
		shared := l.SharedBackupPath()
		for _, g := range []string{"cassandra/cassandra_????????_??h??m??s.tar", "elasticsearch/elasticsearch_????????_??h??m??s.info",
			"storage/files_????????_??h??m??s.tar"} {
			if m, _ := filepath.Glob(filepath.Join(shared, g)); len(m) != 1 {
				t.Errorf("archives %s: %v, want one\n%s", g, m, out)
			}
		}
		if m, _ := filepath.Glob(filepath.Join(shared, "cassandra", "cassandra_*.tar")); len(m) == 1 {
			f, err := os.Open(m[0])
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, "tar", "tvf", "-")
			cmd.Stdin = f
			list, err := cmd.Output()
			f.Close()
			name := strings.TrimSuffix(filepath.Base(m[0]), ".tar")
			if err != nil || !bytes.Contains(list, []byte(name+"/create_keyspace_thehive.cql")) || !bytes.Contains(list, []byte(name+"/thehive/edgestore-")) ||
				!bytes.Contains(list, []byte(" cassandra/cassandra ")) {
				t.Errorf("cassandra archive content (the snapshot copied with cp -p, owned by cassandra): %v\n%.2000s", err, list)
			}
		}
		if snaps, _ := filepath.Glob(filepath.Join(l.NodeDir("node1"), "cassandra", "data", lab.Keyspace, "*", "snapshots", "*")); len(snaps) != 0 {
			t.Errorf("snapshots left on node1: %v", snaps)
		}

		// Wreck: keyspace, index, attachments.
		node1(t, ctx, l, `cqlsh `+l.Nodes[0].IP+` -e "DROP KEYSPACE `+lab.Keyspace+`" && curl -sf -X DELETE 127.0.0.1:9200/`+lab.ESIndex+
			` >/dev/null && find /opt/thp/thehive/files -mindepth 1 -delete`)
		if wrecked := readState(t, ctx, l); len(wrecked.files) != 0 || wrecked.docs == before.docs {
			t.Fatalf("wreck did not take: %d files, %s docs", len(wrecked.files), wrecked.docs)
		}

		out, times, err := Restore(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("published restore of %d MB per node: %+v", data/1_000_000, times)
		if !strings.Contains(out, "does not match the one in the backup, dropping it") {
			t.Errorf("the published restore kept the keyspace (its DESCRIBE redirect never captures, so it always drops):\n%s", out)
		}
		after := readState(t, ctx, l)
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
		// What sstableloader streamed in, Cassandra (user cassandra) wrote.
		for _, n := range l.Nodes {
			if c := ownedBy(t, filepath.Join(l.NodeDir(n.Name), "cassandra", "data", lab.Keyspace), "cassandra"); c < 2 {
				t.Errorf("%s: %d entries in the keyspace after the restore", n.Name, c)
			}
		}
	})
}
