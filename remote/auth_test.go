package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// encryptedKeyEnv is a test server that accepts one client key, written to
// keyFile encrypted with passphrase.
type encryptedKeyEnv struct {
	*testEnv
	priv       ed25519.PrivateKey
	passphrase string
}

func newEncryptedKeyEnv(t *testing.T) *encryptedKeyEnv {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, true)
	env.srv = startTestServer(t, signer.PublicKey())
	kh := "[127.0.0.1]:" + portOf(env.srv.addr) + " " + string(ssh.MarshalAuthorizedKey(env.srv.hostKey.PublicKey()))
	if err := os.WriteFile(env.knownHosts, []byte(kh), 0o600); err != nil {
		t.Fatal(err)
	}
	const pass = "correct horse battery staple"
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(pass))
	if err != nil {
		t.Fatal(err)
	}
	env.keyFile = filepath.Join(env.dir, "id_encrypted")
	if err := os.WriteFile(env.keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return &encryptedKeyEnv{testEnv: env, priv: priv, passphrase: pass}
}

// prompter answers passphrase prompts from a list (the last one repeats)
// and counts them.
type prompter struct {
	mu      sync.Mutex
	answers []string
	asked   []string
	delay   time.Duration
}

func (p *prompter) ask(file string) ([]byte, error) {
	time.Sleep(p.delay)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, file)
	a := p.answers[min(len(p.asked), len(p.answers))-1]
	return []byte(a), nil
}

func (p *prompter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.asked)
}

// TestEncryptedKeyPassphraseAskedOnceForManyNodes: three nodes connected in
// parallel with one encrypted key ask for its passphrase once.
func TestEncryptedKeyPassphraseAskedOnceForManyNodes(t *testing.T) {
	env := newEncryptedKeyEnv(t)
	p := &prompter{answers: []string{env.passphrase}, delay: 50 * time.Millisecond}
	o := env.options()
	o.Passphrase = p.ask
	var targets []Target
	for _, n := range []string{"node1", "node2", "node3"} {
		targets = append(targets, env.target(n))
	}
	pool := NewPool(targets, o)
	defer pool.Close()
	for _, r := range pool.RunAll(context.Background(), pool.Nodes(), func(string) Command { return Command{Cmd: "true"} }) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Node, r.Err)
		}
	}
	if n := p.count(); n != 1 {
		t.Fatalf("passphrase asked %d times for 3 nodes, want 1", n)
	}
	if p.asked[0] != env.keyFile {
		t.Errorf("prompt named %q, want the key file %q", p.asked[0], env.keyFile)
	}
}

// TestWrongPassphraseIsAskedAgain: like ssh, three tries; then an error that
// names the node and the key file.
func TestWrongPassphraseIsAskedAgain(t *testing.T) {
	env := newEncryptedKeyEnv(t)
	p := &prompter{answers: []string{"wrong", "also wrong", env.passphrase}}
	o := env.options()
	o.Passphrase = p.ask
	c, err := Dial(context.Background(), env.target("node1"), o)
	if err != nil {
		t.Fatalf("third answer right: %v", err)
	}
	c.Close()
	if p.count() != 3 {
		t.Errorf("asked %d times, want 3", p.count())
	}

	env = newEncryptedKeyEnv(t)
	p = &prompter{answers: []string{"wrong"}}
	o = env.options()
	o.Passphrase = p.ask
	_, err = Dial(context.Background(), env.target("node2"), o)
	if err == nil || !strings.HasPrefix(err.Error(), "node2 (127.0.0.1:") || !strings.Contains(err.Error(), env.keyFile+": wrong passphrase (3 attempts)") {
		t.Fatalf("three wrong answers: %v", err)
	}
	if p.count() != 3 {
		t.Errorf("asked %d times, want 3", p.count())
	}
	if n := env.srv.execs.Load(); n != 0 {
		t.Errorf("%d commands ran without authentication", n)
	}
}

// TestEncryptedKeyNotAskedWhenTheNodeRefusesIt: an encrypted key the node
// does not accept is never unlocked; the next identity file logs in.
func TestEncryptedKeyNotAskedWhenTheNodeRefusesIt(t *testing.T) {
	env := newTestEnv(t, true) // accepts env.keyFile only
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(other, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(env.dir, "id_other")
	if err := os.WriteFile(locked, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &prompter{answers: []string{"secret"}}
	o := env.options()
	o.Passphrase = p.ask
	tg := env.target("node1")
	tg.IdentityFiles = []string{locked, env.keyFile}
	c, err := Dial(context.Background(), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if p.count() != 0 {
		t.Fatalf("asked for the passphrase of a key the node refuses")
	}
}

// TestAgentLogsInAndSparesThePassphrase: with the key in ssh-agent, the
// encrypted file of the same key is never unlocked.
func TestAgentLogsInAndSparesThePassphrase(t *testing.T) {
	env := newEncryptedKeyEnv(t)
	sock := startAgent(t, env.priv)
	p := &prompter{answers: []string{env.passphrase}}
	o := env.options()
	o.Agent = sock
	o.Passphrase = p.ask
	c, err := Dial(context.Background(), env.target("node1"), o)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Output(context.Background(), "echo via-agent", false); err != nil || out != "via-agent\n" {
		t.Fatalf("run: %q %v", out, err)
	}
	c.Close()
	if p.count() != 0 {
		t.Fatalf("asked for a passphrase although the agent holds the key")
	}
	// The agent alone, no identity file at all.
	tg := env.target("node2")
	tg.IdentityFiles = nil
	o.Passphrase = nil
	c, err = Dial(context.Background(), tg, o)
	if err != nil {
		t.Fatalf("agent only: %v", err)
	}
	c.Close()
}

func startAgent(t *testing.T, keys ...ed25519.PrivateKey) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "agent") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	return sock
}

// TestPassphrasePromptStopsTheConnectTimeout: the operator may take longer
// to type than the connect timeout allows the node to answer.
func TestPassphrasePromptStopsTheConnectTimeout(t *testing.T) {
	env := newEncryptedKeyEnv(t)
	p := &prompter{answers: []string{env.passphrase}, delay: 900 * time.Millisecond}
	o := env.options()
	o.ConnectTimeout = 300 * time.Millisecond
	o.Passphrase = p.ask
	c, err := Dial(context.Background(), env.target("node1"), o)
	if err != nil {
		t.Fatalf("a slow passphrase made the connection time out: %v", err)
	}
	c.Close()
}

// TestEncryptedKeyWithoutTerminal: with nobody to ask, the error says which
// key was locked and how to use it.
func TestEncryptedKeyWithoutTerminal(t *testing.T) {
	env := newEncryptedKeyEnv(t)
	o := env.options() // Passphrase nil: no terminal
	_, err := Dial(context.Background(), env.target("node1"), o)
	if err == nil || !strings.Contains(err.Error(), env.keyFile+" is passphrase-protected and there is no terminal") || !strings.Contains(err.Error(), "ssh-add "+env.keyFile) {
		t.Fatalf("got %v", err)
	}
	// With an agent that holds another key, the handshake runs and fails;
	// the hint is still there.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	o.Agent = startAgent(t, otherKey)
	_, err = Dial(context.Background(), env.target("node1"), o)
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), "ssh-add "+env.keyFile) {
		t.Fatalf("got %v", err)
	}
}

// TestConnectTimeoutNamesTheNode: a host that accepts TCP but never speaks
// SSH fails after the connect timeout, and cancelling stops the wait at once.
func TestConnectTimeoutNamesTheNode(t *testing.T) {
	env := newTestEnv(t, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the listener goes
		}
	}()
	tg := env.target("node2")
	tg.Port = atoiPort(t, ln.Addr().String())
	o := env.options()
	o.ConnectTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = Dial(context.Background(), tg, o)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s with a 300ms connect timeout", d)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "node2 ("+ln.Addr().String()+"): connect: timed out") {
		t.Fatalf("got %v", err)
	}

	o.ConnectTimeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = Dial(ctx, tg, o)
	if d := time.Since(start); d > 3*time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled dial: %v after %s", err, d)
	}
}

func atoiPort(t *testing.T, addr string) int {
	t.Helper()
	var p int
	for _, r := range portOf(addr) {
		p = p*10 + int(r-'0')
	}
	return p
}

// TestKeepaliveDropsAHungNode: a node that stops answering keepalives is
// closed, and the command running there fails instead of hanging.
func TestKeepaliveDropsAHungNode(t *testing.T) {
	env := newTestEnv(t, true)
	o := env.options()
	o.Keepalive = 100 * time.Millisecond
	c, err := Dial(context.Background(), env.target("node1"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(350 * time.Millisecond) // answered keepalives keep it open
	if out, err := c.Output(context.Background(), "echo alive", false); err != nil || out != "alive\n" {
		t.Fatalf("after answered keepalives: %q %v", out, err)
	}
	env.srv.deaf.Store(true)
	start := time.Now()
	_, err = c.Run(context.Background(), Command{Cmd: "sleep 5"})
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a hung node kept the command waiting %s", d)
	}
	if err == nil || !strings.Contains(err.Error(), "node1") || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("got %v", err)
	}
}

// TestOneConnectionPerNodeManySessions: a pool opens one SSH connection per
// node however many commands run on it at once.
func TestOneConnectionPerNodeManySessions(t *testing.T) {
	env := newTestEnv(t, true)
	pool := NewPool([]Target{env.target("node1")}, env.options())
	defer pool.Close()
	nodes := []string{"node1", "node1", "node1", "node1", "node1"}
	for _, r := range pool.RunAll(context.Background(), nodes, func(string) Command { return Command{Cmd: "sleep 0.2"} }) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if _, err := pool.Run(context.Background(), "node1", Command{Cmd: "true"}); err != nil {
		t.Fatal(err)
	}
	if n := env.srv.conns.Load(); n != 1 {
		t.Fatalf("%d connections for one node, want 1", n)
	}
	if n := env.srv.execs.Load(); n != 6 {
		t.Fatalf("%d sessions ran, want 6", n)
	}
}

// TestSSHConfigProxyJumpChains: a jump host's own ProxyJump is followed, a
// list of jump hosts is taken in order, and a loop is an error.
func TestSSHConfigProxyJumpChains(t *testing.T) {
	env := newTestEnv(t, true)
	port := portOf(env.srv.addr)
	cfg := filepath.Join(env.dir, "config")
	write := func(s string) {
		t.Helper()
		s = strings.NewReplacer("PORT", port, "KEY", env.keyFile).Replace(s)
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`
Host outer inner db-node db-list
  HostName 127.0.0.1
  Port PORT
  User tester
  IdentityFile KEY
Host inner
  ProxyJump outer
Host db-node
  ProxyJump inner
Host db-list
  ProxyJump ssh://tester@outer,inner
`)
	o := env.options()
	o.SSHConfigFile = cfg
	for host, jumps := range map[string]int{"db-node": 2, "db-list": 2, "inner": 1} {
		c, err := Dial(context.Background(), Target{Name: "node1", Host: host}, o)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if len(c.jumps) != jumps {
			t.Errorf("%s: %d jump hosts, want %d", host, len(c.jumps), jumps)
		}
		if out, err := c.Output(context.Background(), "echo through", false); err != nil || out != "through\n" {
			t.Errorf("%s: %q %v", host, out, err)
		}
		c.Close()
	}

	write(`
Host *
  HostName 127.0.0.1
  Port PORT
  ProxyJump loop
`)
	if _, err := Dial(context.Background(), Target{Name: "node1", Host: "db"}, o); err == nil || !strings.Contains(err.Error(), "ProxyJump chain to") {
		t.Errorf("loop: %v", err)
	}
	write(`
Host db
  ProxyCommand nc %h %p
`)
	if _, err := Dial(context.Background(), Target{Name: "node1", Host: "db"}, o); err == nil || !strings.Contains(err.Error(), "ProxyCommand (for db) is not supported") {
		t.Errorf("ProxyCommand: %v", err)
	}
}
