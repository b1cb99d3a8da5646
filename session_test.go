package main

import (
	"slices"
	"testing"

	"github.com/hotsnap/hotsnap/config"
)

// TestHostTargetTakesTheInventorysSSHSettings: an ssh:// repository or
// backup folder on a host outside the inventory's nodes is reached as the
// nodes are — ssh.user, ssh.port, ssh.identity_files — unless its URL
// names a user or a port.
func TestHostTargetTakesTheInventorysSSHSettings(t *testing.T) {
	inv := &config.Inventory{SSH: config.SSH{User: "backup", Port: 2222, IdentityFiles: []string{"/etc/hotsnap/id_ed25519"}}}
	for _, c := range []struct {
		spec, user string
		port       int
	}{
		{"vault", "backup", 2222},
		{"ops@vault", "ops", 2222},
		{"vault:22", "backup", 22},
		{"ops@vault:2022", "ops", 2022},
	} {
		tg, err := hostTarget(inv, "repository", c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if tg.Name != "repository" || tg.Host != "vault" || tg.User != c.user || tg.Port != c.port || !slices.Equal(tg.IdentityFiles, inv.SSH.IdentityFiles) {
			t.Errorf("%s: %+v, want user %s, port %d, the inventory's identity files", c.spec, tg, c.user, c.port)
		}
	}
	// The default port is left to ~/.ssh/config, as for a node.
	inv.SSH.Port = config.DefaultSSHPort
	if tg, _ := hostTarget(inv, "repository", "vault"); tg.Port != 0 {
		t.Errorf("port %d with ssh.port at its default, want 0 (~/.ssh/config may set it)", tg.Port)
	}
	if _, err := hostTarget(inv, "repository", "vault:99999"); err == nil {
		t.Error("port 99999 accepted")
	}
}
