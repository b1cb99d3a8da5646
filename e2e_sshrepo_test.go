package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// TestE2EBackupSSHRepository backs up a 5-node lab into an ssh:// repository
// on a host the inventory names by address only (no user, no key in the
// URL): it is reached with the inventory's SSH settings — ssh.user and the
// key file only the inventory names — as the README says, and its sshd
// keeps OpenSSH's default MaxSessions (10) while five nodes stream two
// tables each into it. Then list and verify read it back over SSH, a
// second backup's estimate takes the throughput of the first from it, and a
// restore from it brings back what was damaged.
func TestE2EBackupSSHRepository(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse2s", Subnet: 61, Nodes: 5, Data: 4 << 20})
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	// The lab is this test's own: its share and its Elasticsearch go with it.
	host, dir := l.Nodes[1], "/mnt/backup/hotsnap"
	nodeSh(t, l, host.Name, "install -d -o "+inv.SSH.User+" -g "+inv.SSH.User+" -m 0750 "+dir)
	inv.Repository.URL = "ssh://" + host.IP + dir
	p := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := config.Write(p, inv); err != nil {
		t.Fatal(err)
	}
	backup := func() (string, string) {
		t.Helper()
		out := hotsnapOK(t, l, "backup", "--yes", "--no-tui", "--inventory", p)
		_, rest, ok := strings.Cut(out, "=== ✓ Backup ")
		id, _, _ := strings.Cut(rest, " ")
		if !ok || repo.CheckID(id) != nil {
			t.Fatalf("backup into %s: no \"=== ✓ Backup ID complete ===\":\n%s", inv.Repository.URL, out)
		}
		return id, out
	}
	first, _ := backup()
	if out := nodeSh(t, l, host.Name, "ls "+dir+"/"+first); !strings.Contains(out, repo.ManifestFile) {
		t.Fatalf("no manifest in %s:%s/%s: %s", host.Name, dir, first, out)
	}
	if out := hotsnapOK(t, l, "list", "--inventory", p); !strings.Contains(out, first) || !strings.Contains(out, "complete") {
		t.Errorf("list of %s:\n%s", inv.Repository.URL, out)
	}
	if out := hotsnapOK(t, l, "verify", first, "--inventory", p); !strings.Contains(out, "verified") {
		t.Errorf("verify %s:\n%s", first, out)
	}
	second, out := backup()
	if !strings.Contains(out, "the throughput of backup "+first) {
		t.Errorf("the second backup's estimate does not take the first's throughput:\n%s", out)
	}
	out = hotsnapOK(t, l, "list", "--inventory", p)
	if second == first || !strings.Contains(out, second) || strings.Index(out, second) > strings.Index(out, first) {
		t.Errorf("list: want %s, then %s (newest first):\n%s", second, first, out)
	}
	before := readAppState(t, l)
	nodeSh(t, l, "node1", "cqlsh "+l.Nodes[0].IP+" -e 'DROP KEYSPACE thehive' && curl -sf -XDELETE 127.0.0.1:9200/thehive_global >/dev/null && rm -rf /opt/thp/thehive/files/*")
	b, err := hotsnapInOp(t.Context(), l, "restore", second, "--yes", "--confirm", inv.Cluster, "--no-tui", "--inventory", p).CombinedOutput()
	if err != nil || !strings.Contains(string(b), steps.SuccessLine) {
		t.Fatalf("restore from %s: %v\n%s", inv.Repository.URL, err, b)
	}
	before.equal(t, readAppState(t, l))
	theHiveHealthy(t, l)
}
