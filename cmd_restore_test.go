package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsLegacyPath(t *testing.T) {
	for arg, want := range map[string]bool{
		"hotsnap-20261122-213000-a1b2": false, "/mnt/backup": true, "node1:/mnt/backup": true, "ssh://h/mnt/backup": true,
		"./backup": true, ".": true, "~": true, "~/backups": true, "backup": false,
	} {
		if got := isLegacyPath(arg); got != want {
			t.Errorf("isLegacyPath(%q) = %v, want %v", arg, got, want)
		}
	}
	if m := nodePathRE.FindStringSubmatch("node1:/mnt/backup"); m == nil || m[1] != "node1" || m[2] != "/mnt/backup" {
		t.Errorf("node1:/mnt/backup: %q", m)
	}
	for _, s := range []string{"/tmp/a:/b", "./x:/y", "node1:relative", "ssh://h/p"} {
		if nodePathRE.MatchString(s) {
			t.Errorf("%q taken for node:/path", s)
		}
	}
}

// TestCLIRestoreDocumentedBackupRefusals: what is wrong with a PATH is said
// before any node is contacted (the inventory's only node is a closed port
// on the loopback, so a connection attempt would fail the test loudly).
// The archives themselves are read by the restore's first step, under the
// lock: a damaged one fails that step (TestDocumentedRestoreReadsFirst in
// runbooks/thehive, and TestE2ERestoreDocumentedBackup).
func TestCLIRestoreDocumentedBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	inv := closedPortInventory(t, dir)
	// A documented backup whose Cassandra archive was cut short: it is
	// listed (--at names it), not read.
	const ts = "20260314_02h00m00s"
	root := filepath.Join(dir, "backup")
	snap := filepath.Join(root, "cassandra", "cassandra_"+ts)
	os.MkdirAll(filepath.Join(snap, "thehive", "edgestore-0a1b2c3d4e5f60718293a4b5c6d7e8f9"), 0o755)
	os.WriteFile(filepath.Join(snap, "thehive", "edgestore-0a1b2c3d4e5f60718293a4b5c6d7e8f9", "nb-1-big-Data.db"), []byte(strings.Repeat("d", 100000)), 0o644)
	os.WriteFile(filepath.Join(snap, "create_keyspace_thehive.cql"), []byte("CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};\nCREATE TABLE thehive.edgestore (key blob PRIMARY KEY);\n"), 0o644)
	tarPath := filepath.Join(root, "cassandra", "cassandra_"+ts+".tar")
	if out, err := exec.Command("tar", "cf", tarPath, "-C", filepath.Join(root, "cassandra"), "cassandra_"+ts).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	os.RemoveAll(snap)
	if err := os.Truncate(tarPath, 50000); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"restore", "hotsnap-20261122-213000-a1b2", "--at", ts}, exitUsage, []string{"--at chooses among the backups of the documented scripts"}},
		{[]string{"restore", "./elsewhere"}, exitUsage, []string{"no backup of the documented scripts in " + filepath.Join(dir, "elsewhere") + " on this machine", "node:/path"}},
		{[]string{"restore", "node9:/mnt/backup"}, exitUsage, []string{`no node "node9" in the inventory (node1)`, "ssh://host/mnt/backup"}},
		{[]string{"restore", root, "--at", "20200101_00h00m00s"}, exitUsage, []string{"no Cassandra archive with stamp 20200101_00h00m00s", "the backups there are: " + ts}},
	} {
		out, code := runCLI(t, append(c.args, "-i", inv)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d:\n%s", c.args, code, c.code, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out)
			}
		}
	}
}

// TestIsLegacyBackupMissingRecognised: a PATH holding no documented backup,
// here or on the nodes, is errNoLegacyBackup (the wizard's picker tells it
// from a failure to look), with the text the operator reads unchanged.
func TestIsLegacyBackupMissingRecognised(t *testing.T) {
	dir := t.TempDir()
	inv := closedPortInventory(t, dir)
	s, err := openSession(&globals{inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	defer s.pool.Close()
	for _, arg := range []string{filepath.Join(dir, "nothing-here"), "./nothing-here"} {
		_, err := openLegacySource(t.Context(), s, arg)
		if !errors.Is(err, errNoLegacyBackup) || !strings.Contains(err.Error(), "no backup of the documented scripts") {
			t.Errorf("%s: %v, want errNoLegacyBackup", arg, err)
		}
	}
	_, err = openLegacySource(t.Context(), s, "node9:/mnt/backup")
	if err == nil || errors.Is(err, errNoLegacyBackup) {
		t.Errorf("an unknown node: %v, want another error", err)
	}
}

// closedPortInventory writes, in dir, an inventory whose only node is a
// closed port on the loopback: a connection attempt fails at once.
func closedPortInventory(t *testing.T, dir string) string {
	t.Helper()
	inv := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(inv, []byte(`version: 1
platform: thehive
cluster: test
ssh:
  user: nobody
  sudo: none
  connect_timeout: 1s
nodes:
  - name: node1
    host: 127.0.0.1
    port: 1
    roles: [cassandra, elasticsearch, thehive, files]
cassandra:
  keyspace: thehive
elasticsearch:
  url: http://127.0.0.1:9200
storage:
  provider: localfs
  path: /opt/thp/thehive/files
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return inv
}
