package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	s3lab "github.com/hotsnap/hotsnap/lab/s3"
	"github.com/hotsnap/hotsnap/repo"
)

// backupRun runs `hotsnap backup --yes --json` in the lab, calling onEvent
// for every event as it arrives; it returns the exit code, the events and
// stderr.
func backupRun(t *testing.T, l *lab.Lab, onEvent func(ev map[string]any, cmd *exec.Cmd), extra ...string) (int, []map[string]any, string) {
	t.Helper()
	return jsonRun(t, l, append([]string{"backup", "--yes", "--json"}, extra...), onEvent)
}

// jsonRun runs hotsnap with args (which include --json) in the lab, calling
// onEvent for every event as it arrives; it returns the exit code, the
// events and stderr.
func jsonRun(t *testing.T, l *lab.Lab, args []string, onEvent func(ev map[string]any, cmd *exec.Cmd)) (int, []map[string]any, string) {
	t.Helper()
	cmd := hotsnapInOp(t.Context(), l, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad JSON line %q", sc.Text())
		}
		events = append(events, ev)
		if onEvent != nil {
			onEvent(ev, cmd)
		}
	}
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, events, errb.String()
}

func backupsIn(t *testing.T, l *lab.Lab) map[string]bool {
	t.Helper()
	ents, _ := os.ReadDir(l.BackupsPath())
	out := map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() {
			continue // the repository's lock (hotsnap.lock) is no backup
		}
		_, err := os.Stat(filepath.Join(l.BackupsPath(), e.Name(), repo.ManifestFile))
		out[e.Name()] = err == nil
	}
	return out
}

// snapshotsLeft lists snapshot tags still on a node (nodetool listsnapshots).
// Cassandra's own automatic snapshots of dropped or truncated tables (other
// tests drop and truncate) are left out: no run of hotsnap takes them.
func snapshotsLeft(t *testing.T, l *lab.Lab, node string) string {
	t.Helper()
	var rows []string
	for _, line := range strings.Split(nodeSh(t, l, node, "nodetool listsnapshots"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] == "Snapshot" || f[0] == "There" || strings.HasPrefix(f[0], "Total") ||
			strings.HasPrefix(f[0], "dropped-") || strings.HasPrefix(f[0], "truncated-") {
			continue
		}
		rows = append(rows, line)
	}
	return strings.Join(rows, "\n")
}

func TestE2EBackup(t *testing.T) {
	l := needLab(t)
	before := backupsIn(t, l)
	code, events, stderr := backupRun(t, l, nil)
	if code != 0 {
		t.Fatalf("backup exit %d\n%s", code, stderr)
	}
	var id string
	for name, complete := range backupsIn(t, l) {
		if _, seen := before[name]; !seen && complete {
			id = name
		}
	}
	if id == "" {
		t.Fatalf("no new complete backup in %s", l.BackupsPath())
	}
	store, err := repo.Open(t.Context(), l.BackupsPath(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := repo.ReadManifest(t.Context(), store, id)
	if err != nil {
		t.Fatal(err)
	}
	// Every node, every table, every file with the hash of the live SSTable it links.
	if len(m.Cassandra) != 3 || m.Elasticsearch == nil || m.Elasticsearch.State != "SUCCESS" || m.Files == nil || m.Schema == "" {
		t.Fatalf("manifest incomplete: %d nodes, es %+v, files %v", len(m.Cassandra), m.Elasticsearch, m.Files != nil)
	}
	if len(m.Elasticsearch.Indices) != 2 {
		t.Errorf("the audit index must be backed up too: indices %v", m.Elasticsearch.Indices)
	}
	for _, n := range m.Cassandra {
		sums := nodeSh(t, l, n.Node, "cd /var/lib/cassandra/data/thehive && sha256sum */nb-*")
		live := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(sums), "\n") {
			f := strings.Fields(line)
			live[f[1]] = f[0]
		}
		files := 0
		for _, tb := range n.Tables {
			for _, f := range tb.Files {
				if !strings.HasPrefix(filepath.Base(f.Name), "nb-") {
					continue // manifest.json and schema.cql of the snapshot
				}
				files++
				key := tb.Table + "-" + tb.TableID + "/" + filepath.Base(f.Name)
				if live[key] != f.SHA256 {
					t.Errorf("%s %s: manifest sha256 %s, live file %s", n.Node, key, f.SHA256, live[key])
				}
			}
		}
		if files == 0 || files != len(live) {
			t.Errorf("%s: manifest lists %d SSTable files, the node has %d", n.Node, files, len(live))
		}
		if left := snapshotsLeft(t, l, n.Node); left != "" {
			t.Errorf("%s: snapshots left after the backup:\n%s", n.Node, left)
		}
	}
	var skewSeen bool
	for _, ev := range events {
		if ev["event"] == "output" && strings.Contains(ev["line"].(string), "snapshots started within") {
			skewSeen = true
		}
	}
	if !skewSeen || m.SkewMS < 0 || m.Started.IsZero() {
		t.Errorf("start skew not recorded: %v ms, reported %v", m.SkewMS, skewSeen)
	}
	// The gate shows the plan with what was measured on the nodes: the size
	// per node (the data the manifest then holds) and a time or why none.
	var happens string
	for _, ev := range events {
		if g, ok := ev["gate"].(map[string]any); ok && ev["event"] == "gate_requested" {
			happens, _ = g["happens"].(string)
		}
	}
	for _, want := range []string{"to copy: Cassandra", "node1 ", "node3 ", "attachments ", "Elasticsearch ", "time: "} {
		if !strings.Contains(happens, want) {
			t.Errorf("the gate does not show the estimate (%q missing): %q", want, happens)
		}
	}

	// verify passes, then names a flipped byte.
	if out, err := hotsnapInOp(t.Context(), l, "verify", id).CombinedOutput(); err != nil || !strings.Contains(string(out), "verified") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	arch := filepath.Join(l.BackupsPath(), m.Cassandra[1].Tables[0].Archive)
	flipByte(t, arch, 2000)
	out, err := hotsnapInOp(t.Context(), l, "verify", id).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed || !strings.Contains(string(out), m.Cassandra[1].Tables[0].Archive) {
		t.Fatalf("verify after a flipped byte: %v\n%s", err, out)
	}
	flipByte(t, arch, 2000) // put it back

	// list shows it complete.
	out, err = hotsnapInOp(t.Context(), l, "list").CombinedOutput()
	if err != nil || !strings.Contains(string(out), id) || !strings.Contains(string(out), "complete") {
		t.Fatalf("list: %v\n%s", err, out)
	}
}

// killNodeSSHD kills node's sshd and every sshd session process, and only
// those: the lab has no PID namespaces, so the processes are picked by the
// node's network namespace, never by name alone.
func killNodeSSHD(t *testing.T, l *lab.Lab, node string) {
	t.Helper()
	n, ok := l.Node(node)
	if !ok {
		t.Fatalf("no node %s", node)
	}
	out, err := exec.Command("ip", "netns", "pids", n.Netns).Output()
	if err != nil {
		t.Fatalf("ip netns pids %s: %v", n.Netns, err)
	}
	killed := 0
	for _, f := range strings.Fields(string(out)) {
		comm, err := os.ReadFile("/proc/" + f + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "sshd" {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil && syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	if killed == 0 {
		t.Fatalf("no sshd process found in %s", n.Netns)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestE2EBackupFaults(t *testing.T) {
	l := needLab(t)
	noNewManifest := func(t *testing.T, before map[string]bool) {
		t.Helper()
		for name, complete := range backupsIn(t, l) {
			if _, seen := before[name]; !seen && complete {
				t.Errorf("a failed run left a complete manifest: %s", name)
			}
		}
	}
	stepStarted := func(ev map[string]any, step string) bool {
		return ev["event"] == "step_started" && ev["step"] == step
	}

	t.Run("node2 sshd killed during the transfer", func(t *testing.T) {
		before, esBefore := backupsIn(t, l), esSnapshots(t, l)
		killed := false
		code, events, stderr := backupRun(t, l, func(ev map[string]any, _ *exec.Cmd) {
			if stepStarted(ev, "stream") && !killed {
				killed = true
				killNodeSSHD(t, l, "node2")
			}
		})
		defer func() {
			if err := l.RestartSSHD(context.Background(), "node2"); err != nil {
				t.Fatal(err)
			}
			nodeSh(t, l, "node2", "nodetool clearsnapshot --all >/dev/null")
		}()
		if code != exitFailed || !strings.Contains(stderr, "node2") {
			t.Fatalf("exit %d, want %d naming node2:\n%s", code, exitFailed, stderr)
		}
		// node2's snapshot stays (its sshd is gone): the others' and the
		// Elasticsearch snapshot are cleared.
		failedBackupLeftNothing(t, l, l.InventoryPath(), l.BackupsPath(), before, esBefore, runOf(events), "node1", "node3")
	})

	// Ctrl-C and SIGTERM (systemd, a CI timeout) cancel the run alike: the
	// started steps' cleanups run, the journal records them, exit 130.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run("cancelled during the transfer by "+sig.String(), func(t *testing.T) {
			before, esBefore := backupsIn(t, l), esSnapshots(t, l)
			stateDir := t.TempDir()
			p := changedInventory(t, l, stateDir, func(inv *config.Inventory) { inv.StateDir = stateDir })
			runID := ""
			code, events, stderr := backupRun(t, l, func(ev map[string]any, cmd *exec.Cmd) {
				if ev["event"] == "run_started" {
					runID, _ = ev["run"].(string)
				}
				if stepStarted(ev, "stream") {
					cmd.Process.Signal(sig)
				}
			}, "--inventory", p)
			if code != exitAborted {
				t.Fatalf("exit %d, want %d\n%s", code, exitAborted, stderr)
			}
			if !hasEvent(events, func(ev map[string]any) bool {
				return ev["event"] == "cleanup" && ev["step"] == "snapshot" && ev["error"] == nil
			}) {
				t.Errorf("no successful cleanup of the snapshot step reported")
			}
			journal, err := os.ReadFile(filepath.Join(stateDir, "runs", runID+".jsonl"))
			if err != nil {
				t.Fatalf("journal of run %q: %v", runID, err)
			}
			for _, want := range []string{`"type":"step_finished","step":"stream","state":"canceled"`, `"type":"cleanup","step":"snapshot"}`, "context canceled"} {
				if !strings.Contains(string(journal), want) {
					t.Errorf("the journal lacks %s:\n%s", want, journal)
				}
			}
			failedBackupLeftNothing(t, l, p, l.BackupsPath(), before, esBefore, runID, "node1", "node2", "node3")
			if c, r := lockLeft(t, l); c != "" || r != "" {
				t.Errorf("the lock is left after %s: node1 %q, repository %q", sig, c, r)
			}
		})
	}

	t.Run("elasticsearch snapshot FAILED", func(t *testing.T) {
		before := backupsIn(t, l)
		state := filepath.Join(l.StateDir, "shared", "es-state")
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --fail-next-snapshot FAILED --reason 'disk of node-2 is full'")
		code, _, stderr := backupRun(t, l, nil)
		if code != exitFailed || !strings.Contains(stderr, "FAILED") || !strings.Contains(stderr, "disk of node-2 is full") {
			t.Fatalf("exit %d; stderr should carry ES's reason:\n%s", code, stderr)
		}
		noNewManifest(t, before)
	})

	t.Run("elasticsearch already taking another snapshot", func(t *testing.T) {
		// A cluster that takes one snapshot at a time (before 7.9), busy with
		// a scheduled policy's snapshot that crawls: an index with new data
		// (so the snapshot has files to copy) at one byte a second.
		state := filepath.Join(l.StateDir, "shared", "es-state")
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --serial-snapshots true --snapshot-rate 1B && "+
			`curl -sf -XPUT '127.0.0.1:9200/slm-probe/_doc/1?refresh=true' -H 'Content-Type: application/json' -d '{"probe":"scheduled"}' >/dev/null && `+
			`curl -sf -XPUT '127.0.0.1:9200/_snapshot/thehive_repository/nightly-slm?wait_for_completion=false' -H 'Content-Type: application/json' -d '{"indices":"slm-probe"}' >/dev/null`)
		defer nodeSh(t, l, "node1", "curl -sf -XDELETE 127.0.0.1:9200/_snapshot/thehive_repository/nightly-slm >/dev/null; curl -sf -XDELETE 127.0.0.1:9200/slm-probe >/dev/null; "+
			"es-standin fault --state "+state+" --serial-snapshots false --snapshot-rate auto")
		code, bad, stderr := preflightJSON(t, l)
		if got := bad["node1/es snapshots running"]; code != 0 || !strings.HasPrefix(got, "warn: ") || !strings.Contains(got, "nightly-slm in thehive_repository (STARTED") ||
			!strings.Contains(got, "concurrent_snapshot_execution_exception") {
			t.Fatalf("preflight: exit %d, want 0 with a warning naming the running snapshot; not passing: %v\n%s", code, bad, stderr)
		}
		before, esBefore := backupsIn(t, l), esSnapshots(t, l)
		code, events, stderr := backupRun(t, l, nil)
		if code != exitFailed || !strings.Contains(stderr, "concurrent_snapshot_execution_exception") || !strings.Contains(stderr, "a snapshot is already running") ||
			!strings.Contains(stderr, "POST /_slm/stop") {
			t.Fatalf("exit %d, want %d with Elasticsearch's refusal and what to do:\n%s", code, exitFailed, stderr)
		}
		// Its Cassandra snapshots cleared; the other tool's snapshot untouched.
		failedBackupLeftNothing(t, l, l.InventoryPath(), l.BackupsPath(), before, esBefore, runOf(events), "node1", "node2", "node3")
		if st := esSnapshots(t, l)["nightly-slm"]; st != "IN_PROGRESS" {
			t.Errorf("the other tool's snapshot is %q, want it still IN_PROGRESS", st)
		}
	})

	t.Run("repository too small: stopped before anything is copied", func(t *testing.T) {
		dir, inv := tmpfsRepo(t, l, 2<<20, "")
		code, _, stderr := backupRun(t, l, nil, "--inventory", inv)
		if code != exitPreflight || !strings.Contains(stderr, "repository space") || !strings.Contains(stderr, "preflight checks failed") {
			t.Fatalf("exit %d, want %d naming the repository space check:\n%s", code, exitPreflight, stderr)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("a refused backup wrote into the repository: %v", ents)
		}
		for _, n := range l.Nodes {
			if left := snapshotsLeft(t, l, n.Name); left != "" {
				t.Errorf("%s: snapshot taken by a refused backup:\n%s", n.Name, left)
			}
		}
	})
	t.Run("repository fills up during the transfer", func(t *testing.T) {
		// Room for the estimate (what du measures on the nodes) and a few
		// KiB: the check passes, but the archives' tar headers and the
		// snapshots' own files do not fit, so a write fails half-way.
		var need int64
		for _, n := range l.Nodes {
			need += duBytes(t, l, n.Name, "/var/lib/cassandra/data/thehive")
		}
		need += duBytes(t, l, "node1", "/opt/thp/thehive/files")
		dir, inv := tmpfsRepo(t, l, need+64<<20, "")
		esBefore := esSnapshots(t, l)
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		fill := int64(st.Bavail)*int64(st.Bsize) - need - 16<<10
		if out, err := exec.Command("fallocate", "-l", strconv.FormatInt(fill, 10), filepath.Join(dir, ".fill")).CombinedOutput(); err != nil {
			t.Fatalf("fallocate: %v %s", err, out)
		}
		code, events, stderr := backupRun(t, l, nil, "--inventory", inv)
		if code != exitFailed || !strings.Contains(stderr, "no space left on device") {
			t.Fatalf("exit %d, want a clear ENOSPC failure:\n%s", code, stderr)
		}
		if !hasEvent(events, func(ev map[string]any) bool { return ev["event"] == "step_started" && ev["step"] == "stream" }) {
			t.Error("the backup stopped before streaming: the space check should have let it start")
		}
		failedBackupLeftNothing(t, l, inv, dir, map[string]bool{".fill": true}, esBefore, runOf(events), "node1", "node2", "node3")
	})
	t.Run("node2's data disk full: its snapshot fails", func(t *testing.T) {
		// One table's snapshots folder on node2 is a file system without a
		// free inode: nodetool snapshot fails there with ENOSPC, as on a
		// full disk, while the other snapshots (and Elasticsearch's) start.
		tableDir := strings.TrimSpace(nodeSh(t, l, "node2", "cd /var/lib/cassandra/data/thehive && ls -d */ | head -1"))
		snapDir := "/var/lib/cassandra/data/thehive/" + strings.TrimSuffix(tableDir, "/") + "/snapshots"
		nodeSh(t, l, "node2", "mkdir -p "+snapDir+" && mount -t tmpfs -o size=1m,nr_inodes=2,mode=777 tmpfs "+snapDir+" && touch "+snapDir+"/fill")
		defer nodeSh(t, l, "node2", "umount "+snapDir+" && rmdir "+snapDir)
		before, esBefore := backupsIn(t, l), esSnapshots(t, l)
		code, events, stderr := backupRun(t, l, nil)
		if code != exitFailed || !strings.Contains(stderr, "node2") || !strings.Contains(strings.ToLower(stderr), "no space left on device") {
			t.Fatalf("exit %d, want %d naming node2 and ENOSPC:\n%s", code, exitFailed, stderr)
		}
		failedBackupLeftNothing(t, l, l.InventoryPath(), l.BackupsPath(), before, esBefore, runOf(events), "node1", "node2", "node3")
	})
}

// tmpfsRepo mounts a tmpfs of size bytes, unmounted when the test ends,
// and writes an inventory of l whose repository is sub inside it ("": the
// mount itself); it returns the mount and the inventory.
func tmpfsRepo(t *testing.T, l *lab.Lab, size int64, sub string) (mount, inventory string) {
	t.Helper()
	mount = t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", mount).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mount).Run() })
	return mount, changedInventory(t, l, "", func(inv *config.Inventory) { inv.Repository.URL = filepath.Join(mount, sub) })
}

// duBytes is `du -sb PATH` on node.
func duBytes(t *testing.T, l *lab.Lab, node, p string) int64 {
	t.Helper()
	out := strings.Fields(nodeSh(t, l, node, "du -sb "+p))
	if len(out) == 0 {
		t.Fatalf("du %s on %s: no output", p, node)
	}
	n, err := strconv.ParseInt(out[0], 10, 64)
	if err != nil {
		t.Fatalf("du %s on %s: %v", p, node, err)
	}
	return n
}

// TestE2EBackupS3 backs up a lab whose attachments are in S3 into an s3://
// repository on the same real S3 server, then verifies it, catches a changed
// object, and lists it.
func TestE2EBackupS3(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse2r", Subnet: 5, Nodes: 2, Data: 4 << 20, Storage: lab.StorageS3})
	ak, err := l.Secret(lab.SecretS3AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := l.Secret(lab.SecretS3SecretKey)
	cl, err := s3lab.NewClient(l.S3Endpoint(), ak, sk, l.OpDial)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.MakeBucket(t.Context(), "backups", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	inv.Repository.URL = "s3://backups/thehive"
	p := filepath.Join(filepath.Dir(l.StateDir), "inv.yaml") // the folder ownLab made for this lab
	if err := config.Write(p, inv); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOTSNAP_REPO_S3_ACCESS_KEY=" + ak, "HOTSNAP_REPO_S3_SECRET_KEY=" + sk, "HOTSNAP_REPO_S3_ENDPOINT=http://" + l.S3Endpoint()}
	run := func(args ...string) (string, error) {
		cmd := hotsnapInOp(t.Context(), l, append(args, "--inventory", p)...)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("backup", "--yes", "--no-tui")
	if err != nil || !strings.Contains(out, "=== ✓ Backup ") {
		t.Fatalf("backup into S3: %v\n%s", err, out)
	}
	id := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "hotsnap-") && repo.CheckID(f) == nil {
			id = f
		}
	}
	if id == "" {
		t.Fatalf("no backup ID in:\n%s", out)
	}
	if out, err := run("verify", id); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// The attachments went in object by object.
	n := 0
	for obj := range cl.ListObjects(t.Context(), "backups", minio.ListObjectsOptions{Prefix: "thehive/" + id + "/files/s3/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no attachment object in the S3 repository")
	}
	// Replace one table archive with other bytes: verify names it.
	var victim string
	for obj := range cl.ListObjects(t.Context(), "backups", minio.ListObjectsOptions{Prefix: "thehive/" + id + "/cassandra/", Recursive: true}) {
		victim = obj.Key
		break
	}
	if _, err := cl.PutObject(t.Context(), "backups", victim, strings.NewReader("not a tar"), 9, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err = run("verify", id)
	if err == nil || !strings.Contains(out, strings.TrimPrefix(victim, "thehive/")) {
		t.Fatalf("verify after a changed object: %v\n%s", err, out)
	}
	if out, err := run("list"); err != nil || !strings.Contains(out, id) {
		t.Fatalf("list: %v\n%s", err, out)
	}

	// The S3 server goes away mid-run (killed once preflight passed, as the
	// snapshots start; the repository is the lab's folder): the run fails
	// naming the endpoint and the object, writes no manifest, and clears
	// its snapshots. Last: the server stays down.
	d, ok := l.Daemon(lab.DaemonS3)
	if !ok || d.PID <= 0 {
		t.Fatal("the lab records no S3 server")
	}
	before, esBefore := backupsIn(t, l), esSnapshots(t, l)
	code, events, stderr := backupRun(t, l, func(ev map[string]any, _ *exec.Cmd) {
		if ev["event"] == "step_started" && ev["step"] == "snapshot" {
			if err := syscall.Kill(d.PID, syscall.SIGKILL); err != nil {
				t.Errorf("kill the S3 server (pid %d): %v", d.PID, err)
			}
		}
	})
	// The kill lands before the step lists the bucket: the bucket is named
	// (an object when one fails mid-copy: "s3://BUCKET/KEY at ENDPOINT").
	where := "s3://" + inv.Storage.S3.Bucket + " at " + inv.Storage.S3.Endpoint
	if code != exitFailed || !strings.Contains(stderr, "step files") || !strings.Contains(stderr, where) {
		t.Fatalf("exit %d, want %d naming the step and %s:\n%s", code, exitFailed, where, stderr)
	}
	failedBackupLeftNothing(t, l, l.InventoryPath(), l.BackupsPath(), before, esBefore, runOf(events), "node1", "node2")
}

// TestE2EPrune keeps the newest backup and removes the others and their ES
// snapshots, behind a destructive gate.
func TestE2EPrune(t *testing.T) {
	l := needLab(t)
	for i := 0; i < 2; i++ {
		if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
	}
	sums, err := repo.List(t.Context(), mustStore(t, l.BackupsPath()))
	if err != nil || len(sums) < 2 {
		t.Fatalf("backups: %v %d", err, len(sums))
	}
	newest, oldest := sums[0].ID, sums[len(sums)-1].ID
	out, err := hotsnapInOp(t.Context(), l, "prune", "--keep-last", "1", "--dry-run").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "remove "+oldest) || strings.Contains(string(out), "remove "+newest) {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	// Without --confirm and without a terminal the destructive gate refuses.
	out, err = hotsnapInOp(t.Context(), l, "prune", "--keep-last", "1", "--no-tui").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--confirm lab") {
		t.Fatalf("prune without --confirm must refuse, naming the flag: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(l.BackupsPath(), oldest)); err != nil {
		t.Fatalf("a refused prune removed %s", oldest)
	}
	out, err = hotsnapInOp(t.Context(), l, "prune", "--keep-last", "1", "--confirm", "lab", "--no-tui").CombinedOutput()
	if err != nil {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	left, _ := repo.List(t.Context(), mustStore(t, l.BackupsPath()))
	if len(left) != 1 || left[0].ID != newest {
		t.Fatalf("after prune: %+v", left)
	}
	code := nodeSh(t, l, "node1", "curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:9200/_snapshot/thehive_repository/"+oldest)
	if code != "404" {
		t.Errorf("the ES snapshot of %s is still there (HTTP %s)", oldest, code)
	}
}
