package main

import (
	"context"
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

// TestSessionSharesOneRepository: the run, its lock and its checks share
// the repository the session opened (one SSH connection to an ssh://
// repository); it is closed when the last of them is done with it, and
// opened again for the next.
func TestSessionSharesOneRepository(t *testing.T) {
	dir := t.TempDir()
	s := &session{g: &globals{}, inv: &config.Inventory{Repository: config.Repository{URL: dir}}}
	ctx := context.Background()
	a, doneA, err := s.repository(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, doneB, err := s.repository(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("a second use of the repository opened it again")
	}
	doneA()
	doneA() // twice: released once
	if s.repoStore == nil || s.repoRefs != 1 {
		t.Fatalf("after the first release: store %v, %d uses; want it open for the second", s.repoStore, s.repoRefs)
	}
	doneB()
	if s.repoStore != nil || s.repoRefs != 0 {
		t.Fatalf("after the last release: store %v, %d uses; want it closed", s.repoStore, s.repoRefs)
	}
	c, doneC, err := s.repository(ctx)
	if err != nil || c == nil {
		t.Fatalf("opened again: %v, %v", c, err)
	}
	doneC()
}
