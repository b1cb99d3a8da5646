package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
)

// TestE2EPassphrasePromptOnATerminal logs in to the lab with an encrypted
// copy of its key and no ssh-agent, on a real terminal (tmux): `exec` asks
// for the passphrase on the terminal — again after a wrong one, once for all
// three nodes — and the wizard hands the terminal over for the prompt, then
// runs preflight to the end.
func TestE2EPassphrasePromptOnATerminal(t *testing.T) {
	l := needLab(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "id_encrypted")
	b, err := os.ReadFile(l.KeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, b, 0o600); err != nil {
		t.Fatal(err)
	}
	const pass = "open sesame"
	if out, err := exec.Command("ssh-keygen", "-q", "-p", "-f", key, "-P", "", "-N", pass).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -p: %v: %s", err, out)
	}
	invPath := changedInventory(t, l, dir, func(inv *config.Inventory) { inv.SSH.IdentityFiles = []string{key} })
	prompt := "Enter passphrase for key " + key + ":"
	start := func(name string, args ...string) *tmuxSession {
		op := l.OpCommand(t.Context(), e2e.bin, args...)
		return startTmux(t, name, fmt.Sprintf("env -u SSH_AUTH_SOCK HOTSNAP_INVENTORY=%s TERM=xterm-256color %s; echo EXIT=$?; sleep 30",
			shellQuote([]string{invPath}), shellQuote(op.Args)))
	}

	s := start("exec", "exec", "--", "hostname")
	s.waitPane(20*time.Second, prompt)
	s.keys("wrong passphrase", "Enter")
	s.waitPane(10*time.Second, prompt+"\n"+prompt)
	s.keys(pass, "Enter")
	p := s.waitPane(20*time.Second, "EXIT=")
	if n := strings.Count(p, prompt); n != 2 || !strings.Contains(p, "EXIT=0") {
		t.Fatalf("want two prompts (one wrong answer) for three nodes and exit 0:\n%s", p)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		if !strings.Contains(p, "\n   "+n+"\n") {
			t.Errorf("no hostname from %s:\n%s", n, p)
		}
	}
	if strings.Contains(p, pass) {
		t.Errorf("the passphrase was echoed:\n%s", p)
	}

	w := start("wizard")
	w.waitPane(20*time.Second, "What do you want to do?")
	w.keys("2")
	w.waitPane(20*time.Second, prompt)
	w.keys(pass, "Enter")
	p = w.waitPane(60*time.Second, "Checks (finished)")
	if !strings.Contains(p, "0 fail") || strings.Contains(p, prompt) {
		t.Errorf("after the prompt the wizard should be back, preflight passed:\n%s", p)
	}
}
