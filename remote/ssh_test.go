package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestUnknownHostIsRefusedWithFingerprint(t *testing.T) {
	env := newTestEnv(t, false)
	_, err := Dial(context.Background(), env.target("node2"), env.options())
	var u *UnknownHostError
	if !errors.As(err, &u) {
		t.Fatalf("want UnknownHostError, got %v", err)
	}
	for _, want := range []string{"node2 (127.0.0.1:", "SHA256:", "--accept-new-hosts", "ssh-ed25519"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n := env.srv.execs.Load(); n != 0 {
		t.Fatalf("%d commands ran on an unknown host", n)
	}
}

func TestAcceptNewHostsRecordsKeyThenTrustsIt(t *testing.T) {
	env := newTestEnv(t, false)
	o := env.options()
	o.AcceptNewHosts = true
	c, err := Dial(context.Background(), env.target("node1"), o)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	kh, _ := os.ReadFile(env.knownHosts)
	if !strings.Contains(string(kh), "[127.0.0.1]:"+portOf(env.srv.addr)+" ssh-ed25519 ") {
		t.Fatalf("known_hosts not updated: %q", kh)
	}
	c, err = Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatalf("second dial without --accept-new-hosts: %v", err)
	}
	c.Close()
}

func TestChangedHostKeyIsRefusedAndNothingRuns(t *testing.T) {
	env := newTestEnv(t, true)
	other, _ := newKey(t)
	// Replace the known key with another host's key of the same type.
	line := fmt.Sprintf("[127.0.0.1]:%s %s", portOf(env.srv.addr), ssh.MarshalAuthorizedKey(other.PublicKey()))
	if err := os.WriteFile(env.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	o := env.options()
	o.AcceptNewHosts = true // must not override a changed key
	_, err := Dial(context.Background(), env.target("node3"), o)
	var ch *ChangedHostKeyError
	if !errors.As(err, &ch) {
		t.Fatalf("want ChangedHostKeyError, got %v", err)
	}
	if !strings.Contains(err.Error(), "node3") || !strings.Contains(err.Error(), "ssh-keygen -R") {
		t.Errorf("error lacks node or remedy: %v", err)
	}
	if n := env.srv.execs.Load(); n != 0 {
		t.Fatalf("%d commands ran on a host with a changed key", n)
	}
}

func TestConnectionRefusedNamesNode(t *testing.T) {
	env := newTestEnv(t, true)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	tg := env.target("node2")
	fmt.Sscan(portOf(addr), &tg.Port)
	_, err := Dial(context.Background(), tg, env.options())
	if err == nil || !strings.HasPrefix(err.Error(), "node2 ("+addr+"): connect: connection refused") {
		t.Fatalf("got %v", err)
	}
}

func TestRunLinesExitCodeAndStderrTail(t *testing.T) {
	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var lines []Line
	res, err := c.Run(context.Background(), Command{
		Cmd:    "printf 'a\\nb\\n'; echo oops >&2; exit 3",
		OnLine: func(l Line) { lines = append(lines, l) },
	})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || res.ExitCode != 3 {
		t.Fatalf("want exit 3, got res=%+v err=%v", res, err)
	}
	if !strings.Contains(err.Error(), "node1") || !strings.Contains(err.Error(), "oops") {
		t.Errorf("error should name the node and quote stderr: %v", err)
	}
	var out, errs []string
	for _, l := range lines {
		if l.Stream == Stdout {
			out = append(out, l.Text)
		} else {
			errs = append(errs, l.Text)
		}
	}
	if strings.Join(out, ",") != "a,b" || strings.Join(errs, ",") != "oops" {
		t.Fatalf("stdout %q stderr %q (the pgid marker must not leak)", out, errs)
	}
	got, err := c.Output(context.Background(), Join("printf", "%s", "it's $(x)"), false)
	if err != nil || got != "it's $(x)" {
		t.Fatalf("Output = %q, %v", got, err)
	}
}

func TestRefusesNUL(t *testing.T) {
	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Run(context.Background(), Command{Cmd: "echo a\x00b"}); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("want NUL refusal, got %v", err)
	}
	if env.srv.execs.Load() != 0 {
		t.Fatal("a command with NUL reached the node")
	}
}

// TestStreamsBothWays moves 32 MiB node→local and local→node and compares hashes.
func TestStreamsBothWays(t *testing.T) {
	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 32 << 20
	gen := fmt.Sprintf("yes hotsnap-stream-test | head -c %d", size)
	want, _ := exec.Command("sh", "-c", gen+" | sha256sum").Output()

	h := sha256.New()
	var last int64
	res, err := c.Run(context.Background(), Command{Cmd: gen, Stdout: h, OnProgress: func(n int64) { last = n }})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.HasPrefix(string(want), got) {
		t.Fatalf("download hash %s, want %s", got, want)
	}
	if res.StdoutBytes != size || last != size {
		t.Fatalf("counted %d bytes (progress %d), want %d", res.StdoutBytes, last, size)
	}

	src := exec.Command("sh", "-c", gen)
	pipe, _ := src.StdoutPipe()
	src.Start()
	var remoteSum bytes.Buffer
	res, err = c.Run(context.Background(), Command{Cmd: "sha256sum", Stdin: pipe, Stdout: &remoteSum})
	src.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if remoteSum.String() != string(want) || res.StdinBytes != size {
		t.Fatalf("upload: remote sum %q want %q, stdin bytes %d", remoteSum.String(), want, res.StdinBytes)
	}
}

// TestCancelStopsRemoteProcess checks that cancelling Run leaves nothing running.
func TestCancelStopsRemoteProcess(t *testing.T) {
	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	marker := fmt.Sprintf("%d.%d", 300+os.Getpid()%100, time.Now().UnixNano()%1000)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	// A child that ignores nothing, in a pipeline, so the whole group must go.
	go func() { _, err := c.Run(ctx, Command{Cmd: "sleep " + marker + " | cat"}); errc <- err }()
	waitFor(t, 5*time.Second, func() bool { return pgrep("sleep "+marker) > 0 })
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	waitFor(t, 5*time.Second-time.Since(start), func() bool { return pgrep("sleep "+marker) == 0 })
}

func pgrep(pattern string) int {
	out, _ := exec.Command("pgrep", "-f", "-x", pattern).Output()
	return len(strings.Fields(string(out)))
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTunnelDialsFromTheNode(t *testing.T) {
	env := newTestEnv(t, true)
	echo, _ := net.Listen("tcp", "127.0.0.1:0")
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.DialContext(context.Background(), "tcp", echo.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "ping through ssh")
	buf := make([]byte, 16)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping through ssh" {
		t.Fatalf("echo through tunnel = %q, %v", buf, err)
	}
	if _, err := c.DialContext(context.Background(), "tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "node1") {
		t.Fatalf("tunnel to a closed port should fail naming the node, got %v", err)
	}
}

// TestSSHConfigAliasAndProxyJump resolves a Host alias (HostName, Port, User,
// IdentityFile) and reaches it through a ProxyJump host.
func TestSSHConfigAliasAndProxyJump(t *testing.T) {
	env := newTestEnv(t, true)
	port := portOf(env.srv.addr)
	cfg := filepath.Join(env.dir, "config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
Host bastion
  HostName 127.0.0.1
  Port %[1]s
  User jumper
  IdentityFile %[2]s

Host db-node
  HostName 127.0.0.1
  Port %[1]s
  User tester
  IdentityFile %[2]s
  ProxyJump bastion
`, port, env.keyFile)), 0o600)
	o := env.options()
	o.SSHConfigFile = cfg
	c, err := Dial(context.Background(), Target{Name: "node1", Host: "db-node"}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Addr() != "127.0.0.1:"+port || c.User() != "tester" || len(c.jumps) != 1 {
		t.Fatalf("resolved addr=%s user=%s jumps=%d", c.Addr(), c.User(), len(c.jumps))
	}
	if out, err := c.Output(context.Background(), "echo via-jump", false); err != nil || out != "via-jump\n" {
		t.Fatalf("run through jump: %q %v", out, err)
	}
}

func TestPoolRunAllIsParallelAndPerNode(t *testing.T) {
	env := newTestEnv(t, true)
	var targets []Target
	for _, n := range []string{"node1", "node2", "node3"} {
		targets = append(targets, env.target(n))
	}
	bad := env.target("node4")
	bad.Port = 1
	targets = append(targets, bad)
	p := NewPool(targets, env.options())
	defer p.Close()
	start := time.Now()
	res := p.RunAll(context.Background(), p.Nodes(), func(n string) Command { return Command{Cmd: "sleep 0.5; echo " + n} })
	if d := time.Since(start); d > 1400*time.Millisecond {
		t.Fatalf("4 nodes × 0.5 s took %s: not parallel", d)
	}
	for i, r := range res[:3] {
		if r.Err != nil || r.Node != targets[i].Name || r.ExitCode != 0 {
			t.Fatalf("node %d: %+v", i, r)
		}
	}
	if res[3].Err == nil || !strings.HasPrefix(res[3].Err.Error(), "node4 (127.0.0.1:1): connect:") {
		t.Fatalf("node4 should fail to connect with its name: %v", res[3].Err)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, fmt.Errorf("no space left on device")
	}
	return len(p), nil
}

// TestFailingWriterStopsTheCommand: a writer that fails (a full disk) must
// stop the remote command and return, not wait on a full SSH window.
func TestFailingWriterStopsTheCommand(t *testing.T) {
	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	marker := fmt.Sprintf("yes hotsnap-full-%d", time.Now().UnixNano())
	start := time.Now()
	_, err = c.Run(context.Background(), Command{Cmd: marker, Stdout: &failAfter{n: 1 << 20}})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("want the write error, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
	waitFor(t, 5*time.Second, func() bool { return pgrep(marker) == 0 })
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		spec, user, host string
		port             int
		err              string
	}{
		{spec: "backup.example", host: "backup.example"},
		{spec: "ops@backup.example", user: "ops", host: "backup.example"},
		{spec: "ops@backup.example:2222", user: "ops", host: "backup.example", port: 2222},
		{spec: "10.0.0.5:22", host: "10.0.0.5", port: 22},
		{spec: "[2001:db8::1]:2200", host: "2001:db8::1", port: 2200},
		{spec: "[2001:db8::1]", host: "2001:db8::1"},
		{spec: "host:0", err: `port "0"`},
		{spec: "host:ssh", err: `port "ssh"`},
		{spec: "ops@", err: "no host"},
	} {
		got, err := ParseTarget("repository", c.spec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.spec, err, c.err)
			}
			continue
		}
		if err != nil || got.Name != "repository" || got.User != c.user || got.Host != c.host || got.Port != c.port {
			t.Errorf("%s: %+v %v", c.spec, got, err)
		}
	}
}

func TestPoolPreconnectDialsOnceInTheBackground(t *testing.T) {
	env := newTestEnv(t, true)
	var targets []Target
	for _, n := range []string{"node1", "node2", "node3"} {
		targets = append(targets, env.target(n))
	}
	p := NewPool(targets, env.options())
	p.Preconnect(context.Background(), p.Nodes())
	res := p.RunAll(context.Background(), p.Nodes(), func(n string) Command { return Command{Cmd: "echo " + n} })
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Node, r.Err)
		}
	}
	if got := env.srv.conns.Load(); got != 3 {
		t.Errorf("3 nodes preconnected then used: %d connections, want 3 (one per node)", got)
	}
	p.Close()

	// Closed while its dials may still run: Close waits for them, so that
	// no connection is left open behind it.
	p2 := NewPool(targets, env.options())
	p2.Preconnect(context.Background(), p2.Nodes())
	p2.Close()
	for _, n := range p2.Nodes() {
		c := p2.conns[n]
		if c == nil || c.client == nil {
			t.Fatalf("%s: Close returned before its dial ended", n)
		}
		if s, err := c.client.conn.NewSession(); err == nil {
			s.Close()
			t.Errorf("%s: connection still open after Close", n)
		}
	}
}

// TestSessionsWaitForRoomOnTheConnection: against a server that refuses a
// session beyond OpenSSH's default MaxSessions, forty commands at once on
// one connection all run: at most MaxSessions open at a time, the others
// waiting for room instead of failing with "open failed".
func TestSessionsWaitForRoomOnTheConnection(t *testing.T) {
	env := newTestEnv(t, true)
	env.srv.maxSessions = MaxSessions
	c := env.dial(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Run(context.Background(), Command{Cmd: fmt.Sprintf("sleep 0.05; echo %d", i)}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := env.srv.peak.Load(); p > MaxSessions || p < 2 {
		t.Errorf("at most %d sessions open at once, want 2 to %d", p, MaxSessions)
	}
	// A command opens its session only once another's has ended on the
	// server: not one refusal.
	if r := env.srv.refused.Load(); r > 0 {
		t.Errorf("the server refused %d sessions: the commands did not wait for room", r)
	}
}

// TestCancelWhenEverySessionIsBusy: every command's room on the connection
// is taken by commands that are then cancelled at once; each is stopped
// (its killer takes the session kept for killers, or a freed one) and none
// waits for ever.
func TestCancelWhenEverySessionIsBusy(t *testing.T) {
	env := newTestEnv(t, true)
	env.srv.maxSessions = MaxSessions
	c := env.dial(t)
	marker := fmt.Sprintf("%d.%d", 400+os.Getpid()%100, time.Now().UnixNano()%1000)
	ctx, cancel := context.WithCancel(context.Background())
	n := MaxSessions + 2 // every command's room, and two waiting for it
	errc := make(chan error, n)
	for range n {
		go func() { _, err := c.Run(ctx, Command{Cmd: "sleep " + marker + " | cat"}); errc <- err }()
	}
	waitFor(t, 5*time.Second, func() bool { return pgrep("sleep "+marker) == MaxSessions-1 })
	start := time.Now()
	cancel()
	for range n {
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("want context.Canceled, got %v", err)
			}
		case <-time.After(6*time.Second - time.Since(start)):
			// A killer waiting for a command's room would wait for its
			// context (10 s).
			t.Fatal("a cancelled command did not return within 6 s")
		}
	}
	waitFor(t, 5*time.Second, func() bool { return pgrep("sleep "+marker) == 0 })
}
