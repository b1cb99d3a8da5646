package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
)

// TestE2EInitDraftsTheLabInventory runs init against node1 of the lab and
// compares the result with the inventory `lab up` wrote (comments aside).
func TestE2EInitDraftsTheLabInventory(t *testing.T) {
	l := needLab(t)
	out := filepath.Join(t.TempDir(), "drafted.yaml")
	cmd := hotsnapInOp(t.Context(), l, "init", l.Nodes[0].IP,
		"--user", "hotsnap", "--identity", l.KeyPath(), "--known-hosts", l.KnownHostsPath(), "--connect-timeout", "5s",
		"--sudo-password", "file:"+filepath.Join(l.StateDir, "sudo-password"), "--cluster", "lab",
		"--repository", l.BackupsPath(), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, b)
	}
	sameInventory(t, out, l.InventoryPath(), "")
	// Where backups go cannot be discovered: without a terminal, the flag
	// is named and nothing is written.
	o2 := filepath.Join(t.TempDir(), "no-repo.yaml")
	b, err := hotsnapInOp(t.Context(), l, "init", l.Nodes[0].IP,
		"--user", "hotsnap", "--identity", l.KeyPath(), "--known-hosts", l.KnownHostsPath(), "--connect-timeout", "5s",
		"--sudo-password", "file:"+filepath.Join(l.StateDir, "sudo-password"), "-o", o2).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage || !strings.Contains(string(b), "could not be discovered: pass --repository") {
		t.Errorf("init without --repository nor a terminal: %v\n%s", err, b)
	}
	if _, err := os.Stat(o2); err == nil {
		t.Error("init wrote an inventory without a repository")
	}
	// And refuses to overwrite without --force.
	cmd = hotsnapInOp(t.Context(), l, "init", l.Nodes[0].IP, "-o", out)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "exists: choose another --output or pass --force") {
		t.Fatalf("overwrote without --force: %v %s", err, b)
	}
}

// platformLab brings up a one-node lab of platform for the test and
// removes it when the test ends.
func platformLab(t *testing.T, platform, name string, subnet int) *lab.Lab {
	t.Helper()
	return ownLab(t, lab.Options{Name: name, Subnet: subnet, Nodes: 1, Data: 2 << 20, Platform: platform})
}

// initAndCompare runs init (platform detected) in l and compares the
// drafted inventory with the lab's.
func initAndCompare(t *testing.T, l *lab.Lab, wantPlatform string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "drafted.yaml")
	args := append([]string{"init", l.Nodes[0].IP,
		"--user", "hotsnap", "--identity", l.KeyPath(), "--known-hosts", l.KnownHostsPath(), "--connect-timeout", "5s",
		"--sudo-password", "file:" + filepath.Join(l.StateDir, "sudo-password"), "--cluster", "lab",
		"--repository", l.BackupsPath(), "-o", out}, extra...)
	b, err := hotsnapInOp(t.Context(), l, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "runs "+wantPlatform) {
		t.Errorf("init did not detect %s:\n%s", wantPlatform, b)
	}
	sameInventory(t, out, l.InventoryPath(), string(b))
	return string(b)
}

// sameInventory fails unless the inventory init drafted at gotPath equals
// the lab's at wantPath up to comments: the same YAML document once
// comments (and quoting) are dropped — every key, written or defaulted,
// with the same value — and the same inventory once loaded.
func sameInventory(t *testing.T, gotPath, wantPath, initOutput string) {
	t.Helper()
	doc := func(p string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return m
	}
	if got, want := doc(gotPath), doc(wantPath); !reflect.DeepEqual(got, want) {
		t.Fatalf("drafted inventory differs from the lab's (comments aside):\n got  %v\n want %v\n%s", got, want, initOutput)
	}
	got, err := config.Load(gotPath)
	if err != nil {
		t.Fatalf("init wrote an invalid inventory: %v", err)
	}
	want, err := config.Load(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	got.Path, want.Path = "", ""
	for i := range want.Nodes {
		if i < len(got.Nodes) {
			got.Nodes[i].Line, want.Nodes[i].Line = 0, 0
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("drafted inventory loads differently from the lab's:\n got  %#v\n want %#v\n%s", got, want, initOutput)
	}
}

// TestE2EInitEclecticIQ drafts the inventory of an EclecticIQ lab from
// platform_settings.py, PostgreSQL's and Redis's answers and the ES cluster.
func TestE2EInitEclecticIQ(t *testing.T) {
	l := platformLab(t, lab.PlatformEclecticIQ, "hsie", 16)
	out := initAndCompare(t, l, config.PlatformEclecticIQ)
	for _, want := range []string{`postgresql: 127.0.0.1:5432 database "eclecticiq" user "eclecticiq"`, "redis: 127.0.0.1:6379 db 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
}

// TestE2EInitAlien4Cloud drafts the inventory of an Alien4Cloud lab from
// spray's alien4cloud-config.yml (directories.alien, server.port, the
// remote Elasticsearch on localhost) with the admin password's reference.
func TestE2EInitAlien4Cloud(t *testing.T) {
	l := platformLab(t, lab.PlatformAlien4Cloud, "hsa4", 17)
	out := initAndCompare(t, l, config.PlatformAlien4Cloud, "--alien4cloud-password", "file:"+l.SecretPath(lab.SecretA4CAdmin))
	if !strings.Contains(out, "reading "+config.DefaultA4CConfig) {
		t.Errorf("init output does not say which configuration it read:\n%s", out)
	}
	// An index that is not there cannot be picked: the flag wins, unchecked;
	// a wrong platform fails naming what is missing.
	o2 := filepath.Join(t.TempDir(), "x.yaml")
	b, err := hotsnapInOp(t.Context(), l, "init", l.Nodes[0].IP, "--platform", "eclecticiq",
		"--user", "hotsnap", "--identity", l.KeyPath(), "--known-hosts", l.KnownHostsPath(), "-o", o2).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "platform_settings.py") {
		t.Errorf("init --platform eclecticiq on an Alien4Cloud node: %v\n%s", err, b)
	}
}
