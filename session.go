package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/ui"
)

// inventoryPath finds the inventory: --inventory, $HOTSNAP_INVENTORY,
// ./hotsnap.yaml, then ~/.config/hotsnap/inventory.yaml.
func inventoryPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("HOTSNAP_INVENTORY"); env != "" {
		return env, nil
	}
	candidates := []string{"hotsnap.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		candidates = append(candidates, filepath.Join(dir, "hotsnap", "inventory.yaml"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", errors.New("no inventory: pass --inventory FILE, set HOTSNAP_INVENTORY, or create ./hotsnap.yaml " +
		"(README.md, \"Inventory\", shows one; `sudo hotsnap lab up` writes one for the practice cluster)")
}

// loadInventory reads and validates the inventory; its errors are usage errors
// (exit 2) that name file:line:col.
func loadInventory(g *globals) (*config.Inventory, error) {
	path, err := inventoryPath(g.inventory)
	if err != nil {
		return nil, usageErr(err)
	}
	inv, err := config.Load(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("inventory %s is not valid:\n%w", path, err))
	}
	return inv, nil
}

// requireRunbook returns the registry's platform of inventory inv, or
// refuses, as a usage error (exit 2), a platform without runbooks: no
// command may run another platform's runbook on it. It is called before
// anything connects.
func requireRunbook(inv *config.Inventory) (runbooks.Platform, error) {
	p, err := platforms.Lookup(inv.Platform)
	if err == nil {
		return p, nil
	}
	return nil, usageErr(fmt.Errorf("platform %q (inventory %s) has no runbook in this hotsnap yet; supported today: %s. "+
		"Nothing was contacted: hotsnap never runs another platform's runbook. "+
		"`hotsnap exec`, `list`, `init` and `lab` work for every platform",
		inv.Platform, inv.Path, strings.Join(platforms.Names(), ", ")))
}

// loadRunbookInventory is loadInventory for the commands that build a
// runbook: it also returns the inventory's platform, refusing a platform
// without one (requireRunbook).
func loadRunbookInventory(g *globals) (*config.Inventory, runbooks.Platform, error) {
	inv, err := loadInventory(g)
	if err != nil {
		return nil, nil, err
	}
	p, err := requireRunbook(inv)
	if err != nil {
		return nil, nil, err
	}
	return inv, p, nil
}

// targets maps inventory nodes to SSH targets. A port left at the default is
// passed as 0 so that ~/.ssh/config may set it for an alias.
func targets(inv *config.Inventory, nodes []config.Node) []remote.Target {
	out := make([]remote.Target, 0, len(nodes))
	for _, n := range nodes {
		port := n.Port
		if port == 0 && inv.SSH.Port != config.DefaultSSHPort {
			port = inv.SSH.Port
		}
		out = append(out, remote.Target{
			Name:          n.Name,
			Host:          n.Host,
			Port:          port,
			User:          inv.EffectiveUser(n),
			IdentityFiles: inv.EffectiveIdentityFiles(n),
		})
	}
	return out
}

// hostTarget is the SSH target of a host outside the inventory's nodes (an
// ssh:// repository or backup folder), named name, from spec
// "[user@]host[:port]": it is reached as a node the inventory would list
// with that host (targets): what spec leaves out comes from ssh.user,
// ssh.port and ssh.identity_files, and ~/.ssh/config may still set a port
// or keys for the host.
func hostTarget(inv *config.Inventory, name, spec string) (remote.Target, error) {
	t, err := remote.ParseTarget(name, spec)
	if err != nil {
		return t, err
	}
	return targets(inv, []config.Node{{Name: name, Host: t.Host, User: t.User, Port: t.Port}})[0], nil
}

// sshOptions builds the connection options from the inventory and flags.
// Secrets are resolved lazily, once, and prompted for only on a terminal.
func sshOptions(inv *config.Inventory, g *globals) remote.Options {
	knownHosts := inv.SSH.KnownHosts
	if knownHosts == "" {
		knownHosts = "~/.ssh/known_hosts"
	}
	var once sync.Once
	var pw string
	var pwErr error
	o := remote.Options{
		KnownHostsFile: knownHosts,
		AcceptNewHosts: g.acceptNewHosts,
		SSHConfigFile:  inv.SSH.ConfigFile,
		ConnectTimeout: inv.SSH.ConnectTimeout,
		Keepalive:      inv.SSH.Keepalive,
		Sudo:           inv.SSH.Sudo,
		Passphrase:     passphrasePrompt(),
	}
	if inv.SSH.SudoPassword.IsSet() {
		o.SudoPassword = func() (string, error) {
			once.Do(func() { pw, pwErr = inv.SSH.SudoPassword.Resolve(secretPrompt()) })
			return pw, pwErr
		}
	}
	return o
}

// ttyMu keeps two nodes from prompting on the terminal at once.
var ttyMu sync.Mutex

// secretPrompt asks on the controlling terminal, without echo, or is nil
// without one (so a `prompt` secret fails with advice instead of hanging).
// While the wizard or a run screen is on the terminal, it hands the
// terminal over for the prompt (ui.WithTerminal).
func secretPrompt() func(label string) (string, error) {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return func(label string) (string, error) {
		ttyMu.Lock()
		defer ttyMu.Unlock()
		var answer []byte
		err := ui.WithTerminal(func() error {
			fmt.Fprintf(os.Stderr, "%s: ", label)
			var err error
			answer, err = term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return err
		})
		return string(answer), err
	}
}

// passphrasePrompt asks for an SSH key's passphrase on the terminal (nil
// without one). remote asks it once per key and run, only when a node
// accepts the key, and three times at most.
func passphrasePrompt() func(file string) ([]byte, error) {
	p := secretPrompt()
	if p == nil {
		return nil
	}
	return func(file string) ([]byte, error) {
		s, err := p("Enter passphrase for key " + file)
		return []byte(s), err
	}
}
