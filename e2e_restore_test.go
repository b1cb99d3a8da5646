package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// appState is what an application-level check compares: rows per table,
// documents per index, and every attachment with its owner, mode and hash.
type appState struct {
	rows        map[string]string
	docs        map[string]string
	attachments string
}

var countRE = regexp.MustCompile(`(?m)^\s+(\d+)\s*$`)

func readAppState(t *testing.T, l *lab.Lab) appState {
	t.Helper()
	st := appState{rows: map[string]string{}, docs: map[string]string{}}
	ip := l.Nodes[0].IP
	for _, tb := range []string{"edgestore", "graphindex", "janusgraph_ids", "system_properties", "systemlog", "txlog"} {
		out := nodeSh(t, l, "node1", "cqlsh "+ip+" -e 'SELECT count(*) FROM thehive."+tb+"' 2>&1 || true")
		m := countRE.FindStringSubmatch(out)
		if m == nil {
			st.rows[tb] = "error: " + strings.TrimSpace(out)
		} else {
			st.rows[tb] = m[1]
		}
	}
	for _, idx := range []string{"thehive_global", "thehive-audits"} {
		st.docs[idx] = strings.TrimSpace(nodeSh(t, l, "node1", "curl -s 127.0.0.1:9200/"+idx+"/_count | jq -r .count"))
	}
	list := nodeSh(t, l, "node1", `cd /opt/thp/thehive/files && find . -printf '%p\0%y %u:%g %m %s\0' | sort -z | tr '\0' '\n'; `+
		`find . -type f -print0 | sort -z | xargs -0 -r sha256sum`)
	st.attachments = list
	return st
}

func (a appState) equal(t *testing.T, b appState) {
	t.Helper()
	keys := func(m map[string]string) []string {
		var k []string
		for x := range m {
			k = append(k, x)
		}
		sort.Strings(k)
		return k
	}
	for _, k := range keys(a.rows) {
		if a.rows[k] != b.rows[k] {
			t.Errorf("rows of %s: %s before, %s after", k, a.rows[k], b.rows[k])
		}
	}
	for _, k := range keys(a.docs) {
		if a.docs[k] != b.docs[k] {
			t.Errorf("documents of %s: %s before, %s after", k, a.docs[k], b.docs[k])
		}
	}
	if a.attachments != b.attachments {
		t.Errorf("attachments differ (names, owners, modes or hashes):\nbefore:\n%.2000s\nafter:\n%.2000s", a.attachments, b.attachments)
	}
}

func newestBackup(t *testing.T, l *lab.Lab) string {
	t.Helper()
	sums, err := repo.List(t.Context(), mustStore(t, l.BackupsPath()))
	if err != nil || len(sums) == 0 || !sums[0].Complete {
		t.Fatalf("no complete backup: %v %+v", err, sums)
	}
	return sums[0].ID
}

func mustStore(t *testing.T, url string) repo.Store {
	t.Helper()
	s, err := repo.Open(t.Context(), url, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func theHiveHealthy(t *testing.T, l *lab.Lab) {
	t.Helper()
	for _, n := range l.Nodes {
		out := nodeSh(t, l, n.Name, "curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:9000/api/status")
		if out != "200" {
			t.Errorf("%s: /api/status answered %s", n.Name, out)
		}
	}
}

// TestE2ERestoreRoundTrip: backup, damage everything, restore, and compare
// what the application sees.
func TestE2ERestoreRoundTrip(t *testing.T) {
	l := needLab(t)
	before := readAppState(t, l)
	if before.rows["edgestore"] == "0" || strings.HasPrefix(before.rows["edgestore"], "error") || before.docs["thehive_global"] == "0" || !strings.Contains(before.attachments, "thehive:thehive") {
		t.Fatalf("the lab has no data to back up: %+v", before)
	}
	if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	// Damage: the keyspace, the index, the attachments.
	nodeSh(t, l, "node1", "cqlsh "+l.Nodes[0].IP+" -e 'DROP KEYSPACE thehive' && curl -sf -XDELETE 127.0.0.1:9200/thehive_global >/dev/null && rm -rf /opt/thp/thehive/files/* && touch /opt/thp/thehive/files/created-after-the-backup")
	damaged := readAppState(t, l)
	if damaged.attachments == before.attachments || !strings.HasPrefix(damaged.rows["edgestore"], "error") {
		t.Fatalf("the damage did not take: %+v", damaged.rows)
	}
	out, err := hotsnapInOp(t.Context(), l, "restore", id, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if err != nil || !strings.Contains(string(out), steps.SuccessLine) {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "keyspace thehive does not exist: creating it") || !strings.Contains(string(out), "loading with import") ||
		!regexp.MustCompile(`[1-9][0-9]* SSTables imported as the backup lists them`).MatchString(string(out)) {
		t.Errorf("expected the create + import path:\n%s", out)
	}
	before.equal(t, readAppState(t, l))
	theHiveHealthy(t, l)
	for _, n := range l.Nodes {
		// The staging folders go once their tables are imported.
		if left := nodeSh(t, l, n.Name, "ls -d /var/lib/cassandra/hotsnap-restore 2>/dev/null || true"); strings.TrimSpace(left) != "" {
			t.Errorf("%s: the restore left its staging folder: %s", n.Name, left)
		}
	}

	// Restoring again over the restored data: the schema is the same, so the
	// keyspace is kept and its tables are emptied, not dropped.
	out, err = hotsnapInOp(t.Context(), l, "restore", id, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "the live schema equals the backup's") {
		t.Fatalf("second restore: %v\n%s", err, out)
	}
	before.equal(t, readAppState(t, l))
}

// TestE2ERestoreCorruptedArchiveStopsEarly: a damaged backup is refused
// before TheHive is stopped or any data is touched.
func TestE2ERestoreCorruptedArchiveStopsEarly(t *testing.T) {
	l := needLab(t)
	if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	m, err := repo.ReadManifest(t.Context(), mustStore(t, l.BackupsPath()), id)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, filepath.Join(l.BackupsPath(), m.Cassandra[0].Tables[0].Archive), 1500)
	before := readAppState(t, l)
	out, err := hotsnapInOp(t.Context(), l, "restore", id, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitPreflight || !strings.Contains(string(out), m.Cassandra[0].Tables[0].Archive) {
		t.Fatalf("restore of a damaged backup: %v (want exit %d naming the archive)\n%s", err, exitPreflight, out)
	}
	if strings.Contains(string(out), "Stop TheHive and prove it stopped") {
		t.Errorf("TheHive was stopped for a damaged backup:\n%s", out)
	}
	// The damage was caught while staging, as the archive streamed: the
	// staged files are gone again.
	for _, n := range []string{"node1", "node2", "node3"} {
		if left := nodeSh(t, l, n, "ls /var/lib/cassandra/hotsnap-restore/"+id+" 2>/dev/null || true"); strings.TrimSpace(left) != "" {
			t.Errorf("%s: staging left after the refused restore: %s", n, left)
		}
	}
	before.equal(t, readAppState(t, l))
	theHiveHealthy(t, l)
}

// TestE2ERestoreIntoOtherTopologies migrates a 3-node backup into a 1-node,
// a 4-node and a 5-node lab: the topology differs, so sstableloader loads
// it. The backup's RF 3 does not fit any of them: the restore says so; it
// is kept by default (then preflight fails) and set with --set-rf.
func TestE2ERestoreIntoOtherTopologies(t *testing.T) {
	src := needLab(t)
	if out, err := hotsnapInOp(t.Context(), src, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, src)
	want := readAppState(t, src)
	for _, c := range []struct {
		name   string
		subnet int
		nodes  int
		setRF  bool // restore --set-rf: RF = node count, set before loading; else the backup's RF 3 is kept
	}{{"hse2t", 6, 1, false}, {"hse2f", 8, 4, false}, {"hsr20", 63, 5, true}} {
		t.Run(fmt.Sprintf("%d nodes", c.nodes), func(t *testing.T) {
			dst := ownLab(t, lab.Options{Name: c.name, Subnet: c.subnet, Nodes: c.nodes, Data: 1 << 20})
			// The ES repository is the shared folder: a migration brings it along.
			if out, err := exec.Command("cp", "-a", filepath.Join(src.SharedBackupPath(), "elasticsearch")+"/.", filepath.Join(dst.SharedBackupPath(), "elasticsearch")).CombinedOutput(); err != nil {
				t.Fatalf("copy the ES repository: %v %s", err, out)
			}
			// In the folder ownLab made for this lab.
			p := changedInventory(t, dst, filepath.Dir(dst.StateDir), func(inv *config.Inventory) { inv.Repository.URL = src.BackupsPath() })
			args := []string{"restore", id, "--inventory", p, "--yes", "--confirm", "lab", "--no-tui"}
			if c.setRF {
				args = append(args, "--set-rf")
			}
			out, err := hotsnapInOp(t.Context(), dst, args...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), steps.SuccessLine) || !strings.Contains(string(out), "loading with sstableloader") {
				t.Fatalf("restore into %d nodes: %v\n%s", c.nodes, err, out)
			}
			// The topology step says what RF this cluster needs; the report
			// says what was done about it.
			needs := fmt.Sprintf("this cluster needs RF %d in datacenter1", c.nodes)
			report := "replication kept as the backup's (thehive: SimpleStrategy, RF 3 on " + fmt.Sprint(c.nodes) + " nodes)"
			if c.setRF {
				// Set before sstableloader, which writes every replica: no
				// repair (the 5 nodes' disks are counted below).
				report = fmt.Sprintf("replication set from the backup's (thehive: SimpleStrategy, RF 3 on %d nodes) to RF %d in datacenter1 before loading", c.nodes, c.nodes)
				for _, e := range readRunJournal(t, string(out)) {
					if e.Type == "command" && strings.Contains(e.Cmd, "nodetool repair") {
						t.Errorf("--set-rf into %d nodes: %s ran on %s (sstableloader wrote every replica)", c.nodes, e.Cmd, e.Node)
					}
				}
			}
			if !strings.Contains(string(out), needs) || !strings.Contains(string(out), report) {
				t.Errorf("the restore into %d nodes does not say %q and %q:\n%s", c.nodes, needs, report, out)
			}
			// The gate before TheHive stops says what will happen on this
			// topology: nothing staged, sstableloader after the stop.
			if gate := "what happens: stop TheHive (systemctl stop thehive) and prove it stopped; Cassandra and Elasticsearch stay up; nothing is staged: the keyspace is loaded with sstableloader"; !strings.Contains(string(out), gate) || strings.Contains(string(out), "with the same topology, stage") {
				t.Errorf("the stop gate of a restore into %d nodes does not say %q (or speaks of staging):\n%s", c.nodes, gate, out)
			}
			// count(*) through node1 (readAppState) covers the whole ring,
			// as Cassandra's does: it must equal the backup's rows.
			got := readAppState(t, dst)
			if c.nodes > 3 {
				// RF 3 on 4 nodes: sstableloader streamed each row to exactly
				// its 3 replicas, so the SSTables on the nodes' disks add up
				// to 3 × the rows of the backup; set to RF 5 before loading,
				// every node holds every row.
				copies := int64(3)
				if c.setRF {
					copies = int64(c.nodes)
				}
				for tb, n := range want.rows {
					var sum int64
					for _, node := range dst.Nodes {
						st, err := cassandra.OpenStore(filepath.Join(dst.NodeDir(node.Name), "cassandra", "data"))
						if err != nil {
							t.Fatal(err)
						}
						x, err := st.CountRows("thehive", tb)
						if err != nil {
							t.Fatalf("%s on %s: %v", tb, node.Name, err)
						}
						sum += x
					}
					var w int64
					fmt.Sscan(n, &w)
					if sum != copies*w {
						t.Errorf("%s: %d rows on the %d nodes' disks, want %d × %d", tb, sum, c.nodes, copies, w)
					}
				}
			}
			want.equal(t, got)
			theHiveHealthy(t, dst)
			// Kept, the next preflight fails on the replication: fewer
			// replicas than nodes, or more (QUORUM fails); set, it passes.
			_, bad, stderr := preflightJSON(t, dst, "--inventory", p)
			rf, failed := bad["/replication"]
			switch {
			case c.setRF && failed:
				t.Errorf("preflight after --set-rf: replication %s\n%s", rf, stderr)
			case !c.setRF && (!strings.HasPrefix(rf, "fail: thehive: SimpleStrategy, RF 3 on "+fmt.Sprint(c.nodes)+" nodes") || !strings.Contains(rf, fmt.Sprintf("'datacenter1' : %d", c.nodes))):
				t.Errorf("preflight after a restore that kept RF 3 on %d nodes: replication %q\n%s", c.nodes, rf, stderr)
			case c.nodes < 3 && !strings.Contains(rf, "more replicas than nodes"):
				t.Errorf("RF 3 on 1 node: the failure does not say QUORUM fails: %q", rf)
			}
		})
	}
}

// TestE2ERestoreStopsWhenTheHiveWillNotStop: if TheHive does not stop on a
// node, the restore ends before any destructive step and the other nodes'
// TheHive is started again.
func TestE2ERestoreStopsWhenTheHiveWillNotStop(t *testing.T) {
	l := needLab(t)
	if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	// node1's systemctl ignores "stop thehive" (a hung service, a unit that refuses).
	bin := l.BinPath()
	link := filepath.Join(bin, "systemctl")
	if err := os.Rename(link, link+".real"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		os.Remove(link)
		if err := os.Rename(link+".real", link); err != nil {
			t.Fatal(err)
		}
	}()
	script := "#!/bin/bash\nif [ \"$1\" = stop ] && [ \"$(hostname)\" = node1 ]; then exit 0; fi\nexec -a systemctl /usr/local/bin/hotsnap \"$@\"\n"
	if err := os.WriteFile(link, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	before := readAppState(t, l)
	out, err := hotsnapInOp(t.Context(), l, "restore", id, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed || !strings.Contains(string(out), "node1: TheHive did not stop") {
		t.Fatalf("want a failure naming node1: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "Restore the keyspace") {
		t.Errorf("a destructive step ran although TheHive did not stop:\n%s", out)
	}
	before.equal(t, readAppState(t, l))
	theHiveHealthy(t, l) // node2 and node3 were started again by the cleanup
}

// TestE2EOneNodeBackupRestoresEveryNode: a --one-node backup (allowed
// because RF = 3 on 3 nodes) comes back on every node through sstableloader.
func TestE2EOneNodeBackupRestoresEveryNode(t *testing.T) {
	l := needLab(t)
	before := readAppState(t, l)
	// node1 holds the attachments on disk: node2's replica is copied, so
	// that the two streams leave over two links.
	out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui", "--one-node").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "backing up node2 only") {
		t.Fatalf("backup --one-node: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	nodeSh(t, l, "node1", "cqlsh "+l.Nodes[0].IP+" -e 'DROP KEYSPACE thehive'")
	out, err = hotsnapInOp(t.Context(), l, "restore", id, "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if err != nil || !strings.Contains(string(out), steps.SuccessLine) || !strings.Contains(string(out), "loading with sstableloader") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	before.equal(t, readAppState(t, l))
	// Every node holds every row again (with RF = node count, each replica holds
	// every range, so a node's count(*) counts its own SSTables).
	for _, n := range l.Nodes[1:] {
		got := nodeSh(t, l, n.Name, "cqlsh "+n.IP+" -e 'SELECT count(*) FROM thehive.txlog'")
		if m := countRE.FindStringSubmatch(got); m == nil || m[1] != before.rows["txlog"] {
			t.Errorf("%s: txlog %q after the restore, want %s rows", n.Name, got, before.rows["txlog"])
		}
	}
}
