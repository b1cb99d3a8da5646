package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/thehive"
)

// listeningInventory writes an inventory of platform whose only node is a
// listener on the loopback, and returns its path and how many connections
// the listener accepted so far.
func listeningInventory(t *testing.T, platform string) (string, func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	role := map[string]string{"eclecticiq": "[platform, postgresql, redis, elasticsearch]", "alien4cloud": "[alien4cloud, elasticsearch]"}[platform]
	// Alien4Cloud's indices are discovered; it needs its admin password.
	index := map[string]string{"eclecticiq": "\n  index: documents_v2", "alien4cloud": "\nalien4cloud:\n  password: env:A4C_PW"}[platform]
	path := filepath.Join(t.TempDir(), platform+".yaml")
	text := fmt.Sprintf(`version: 1
platform: %s
cluster: other
ssh:
  user: nobody
  sudo: none
  connect_timeout: 2s
nodes:
  - name: node1
    host: 127.0.0.1
    port: %d
    roles: %s
elasticsearch:
  url: http://127.0.0.1:%d%s
repository:
  url: ssh://127.0.0.1:%d/srv/backups
`, platform, port, role, port, index, port)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, accepted.Load
}

// withRegistry runs the test against a registry of only ps: what is
// refused must not depend on which platforms the CLI registers.
func withRegistry(t *testing.T, ps ...runbooks.Platform) {
	t.Helper()
	old := platforms
	platforms = runbooks.NewRegistry(ps...)
	t.Cleanup(func() { platforms = old })
}

// TestPlatformWithoutRunbookRefused: every command that builds a runbook
// refuses an inventory whose platform has none (exit 2, naming the platform
// and what is supported), before it contacts anything — an EclecticIQ or
// Alien4Cloud inventory never reaches TheHive's runbook.
func TestPlatformWithoutRunbookRefused(t *testing.T) {
	withRegistry(t, thehive.Platform{})
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, platform := range []string{"eclecticiq", "alien4cloud"} {
		inv, accepted := listeningInventory(t, platform)
		for _, args := range [][]string{
			{"preflight"},
			{"plan", "preflight"},
			{"plan", "backup"},
			{"plan", "restore"},
			{"backup", "--yes", "--no-tui"},
			{"restore", "hotsnap-20261122-213000-a1b2", "--yes", "--confirm", "other", "--no-tui"},
			{"restore", "node1:/mnt/backup", "--yes", "--confirm", "other", "--no-tui"},
			{"resume", "20261122-231502-4f2a9c", "--yes", "--confirm", "other", "--no-tui"},
			{"verify", "hotsnap-20261122-213000-a1b2"},
			{"prune", "--keep-last", "1", "--yes", "--confirm", "other", "--no-tui"},
		} {
			out, code := runCLI(t, append(args, "-i", inv)...)
			want := []string{`platform "` + platform + `"`, "has no runbook", "supported today: thehive", "Nothing was contacted"}
			if code != exitUsage {
				t.Errorf("%s %v: exit %d, want 2:\n%s", platform, args, code, out)
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("%s %v: output lacks %q:\n%s", platform, args, w, out)
				}
			}
			if strings.Contains(out, "TheHive") || strings.Contains(out, "Cassandra") {
				t.Errorf("%s %v: output speaks of TheHive's runbook:\n%s", platform, args, out)
			}
		}
		if n := accepted(); n != 0 {
			t.Errorf("%s: the node was contacted %d times", platform, n)
		}
	}
}

// TestWizardDisablesRunbooksWithoutPlatform: the wizard lists an
// EclecticIQ or Alien4Cloud inventory but offers none of the operations
// that run a runbook on it; the repository's list stays open.
func TestWizardDisablesRunbooksWithoutPlatform(t *testing.T) {
	withRegistry(t, thehive.Platform{})
	for _, platform := range []string{"eclecticiq", "alien4cloud"} {
		inv, accepted := listeningInventory(t, platform)
		cfg := wizardConfig(&globals{inventory: inv})
		if cfg.Inventory.Platform != platform {
			t.Fatalf("%s: the wizard shows platform %q", platform, cfg.Inventory.Platform)
		}
		for _, op := range cfg.Operations {
			runs := op.Key == "backup" || op.Key == "preflight" || op.Key == "verify" || op.Key == "restore"
			switch {
			case runs && !strings.Contains(op.Disabled, "no runbook for platform "+platform):
				t.Errorf("%s: operation %s is not disabled (%q)", platform, op.Key, op.Disabled)
			case !runs && op.Disabled != "":
				t.Errorf("%s: operation %s is disabled: %q", platform, op.Key, op.Disabled)
			}
		}
		if n := accepted(); n != 0 {
			t.Errorf("%s: the node was contacted %d times", platform, n)
		}
	}
}

// TestTheHiveInventoryHasRunbook: the refusal is for platforms without a
// runbook only.
func TestTheHiveInventoryHasRunbook(t *testing.T) {
	out, code := runCLI(t, "plan", "backup", "-i", "testdata/inventory/thehive-cluster.yaml")
	if code != exitOK || strings.Contains(out, "has no runbook") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestRegistryDecides: a platform is run only when the registry holds it —
// a TheHive inventory too is refused by a registry without TheHive, before
// anything is contacted.
func TestRegistryDecides(t *testing.T) {
	withRegistry(t)
	out, code := runCLI(t, "plan", "backup", "-i", "testdata/inventory/thehive-cluster.yaml")
	if code != exitUsage || !strings.Contains(out, `platform "thehive"`) || !strings.Contains(out, "has no runbook") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestOptionsThePlatformLacksAreRefused: --s3-exact, --set-rf and a
// documented backup's PATH reach a platform only when it takes them.
func TestOptionsThePlatformLacksAreRefused(t *testing.T) {
	if err := requireOptions(thehive.Platform{}, restoreOpts{s3Exact: true, setRF: true}, true); err != nil {
		t.Fatalf("TheHive takes them all: %v", err)
	}
	for _, c := range []struct {
		o          restoreOpts
		documented bool
		want       string
	}{{restoreOpts{s3Exact: true}, false, "has no --s3-exact"}, {restoreOpts{setRF: true}, false, "has no --set-rf"}, {restoreOpts{}, true, "has no restore PATH"}} {
		err := requireOptions(bare{}, c.o, c.documented)
		var ee *exitError
		if err == nil || !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// bare is a platform without options.
type bare struct{ runbooks.Platform }

func (bare) Name() string               { return "bare" }
func (bare) Options() []runbooks.Option { return nil }
