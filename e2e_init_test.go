package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
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
	got, err := config.Load(out)
	if err != nil {
		t.Fatalf("init wrote an invalid inventory: %v", err)
	}
	want, err := config.Load(l.InventoryPath())
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
		t.Fatalf("drafted inventory differs from the lab's:\n got  %#v\n want %#v", got, want)
	}
	// And refuses to overwrite without --force.
	cmd = hotsnapInOp(t.Context(), l, "init", l.Nodes[0].IP, "-o", out)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "exists: choose another --output or pass --force") {
		t.Fatalf("overwrote without --force: %v %s", err, b)
	}
}
