package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testServer is a minimal in-process SSH server for unit tests: public-key
// auth, "exec" through sh -c in a new session (so process groups behave as
// under sshd), "signal", exit-status, keepalives and direct-tcpip.
type testServer struct {
	addr    string
	hostKey ssh.Signer
	execs   atomic.Int64
	conns   atomic.Int64 // SSH connections accepted
	ln      net.Listener
	wg      sync.WaitGroup

	// env is added to every command's environment (set before use).
	env []string
	// deaf, once set, leaves keepalives unanswered: a node that hangs.
	deaf atomic.Bool
	// maxSessions, when set (before use), refuses a session beyond it on a
	// connection as sshd's MaxSessions does: a session counts until its
	// process has exited (one without a process, until its channel closes).
	maxSessions int64
	// peak is the most sessions open at once on one connection; refused
	// counts the sessions refused.
	peak, refused atomic.Int64

	mu    sync.Mutex
	lines []string // every exec request's command line
}

// commandLines returns the command lines the server was asked to run.
func (s *testServer) commandLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

type testEnv struct {
	srv        *testServer
	keyFile    string
	knownHosts string
	dir        string
}

func newKey(t testing.TB) (ssh.Signer, []byte) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return s, pem.EncodeToMemory(block)
}

// newTestEnv starts a server and writes a client key and a known_hosts that
// trusts it (unless trust is false).
func newTestEnv(t testing.TB, trust bool) *testEnv {
	dir := t.TempDir()
	clientSigner, clientPEM := newKey(t)
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, clientPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startTestServer(t, clientSigner.PublicKey())
	kh := filepath.Join(dir, "known_hosts")
	var content string
	if trust {
		content = fmt.Sprintf("[127.0.0.1]:%s %s", portOf(srv.addr), ssh.MarshalAuthorizedKey(srv.hostKey.PublicKey()))
	}
	if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testEnv{srv: srv, keyFile: keyFile, knownHosts: kh, dir: dir}
}

func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func (e *testEnv) target(name string) Target {
	host, port, _ := net.SplitHostPort(e.srv.addr)
	var p int
	fmt.Sscan(port, &p)
	return Target{Name: name, Host: host, Port: p, User: "tester", IdentityFiles: []string{e.keyFile}}
}

// dial connects to the test server as node1, closed when the test ends.
func (e *testEnv) dial(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(context.Background(), e.target("node1"), e.options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *testEnv) options() Options {
	return Options{KnownHostsFile: e.knownHosts, SSHConfigFile: "none", Agent: "none", Sudo: SudoNone}
}

func startTestServer(t testing.TB, authorized ssh.PublicKey) *testServer {
	hostKey, _ := newKey(t)
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(authorized.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("unknown key")
		},
	}
	cfg.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{addr: ln.Addr().String(), hostKey: hostKey, ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serveConn(c, cfg)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *testServer) serveConn(c net.Conn, cfg *ssh.ServerConfig) {
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	defer sc.Close()
	s.conns.Add(1)
	go func() {
		for r := range reqs {
			if s.deaf.Load() {
				continue
			}
			r.Reply(r.Type == "keepalive@openssh.com", nil)
		}
	}()
	var open atomic.Int64 // sessions in use on this connection
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			if s.maxSessions > 0 && open.Load() >= s.maxSessions {
				s.refused.Add(1)
				nc.Reject(ssh.ConnectionFailed, "open failed") // as sshd words it
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			n := open.Add(1)
			for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
			}
			// The session leaves the count once its process has exited,
			// before the server closes the channel: sshd handles the
			// client's answering close before a later open (one thread,
			// messages in order), so a client that opens a session only
			// after one ended is never refused for it. Freed when the
			// session ends without a process too.
			go s.serveSession(ch, creqs, sync.OnceFunc(func() { open.Add(-1) }))
		case "direct-tcpip":
			var m struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			dst, err := net.Dial("tcp", net.JoinHostPort(m.Host, fmt.Sprint(m.Port)))
			if err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				dst.Close()
				continue
			}
			go ssh.DiscardRequests(creqs)
			go func() { io.Copy(ch, dst); ch.CloseWrite() }()
			go func() { io.Copy(dst, ch); dst.Close() }()
		default:
			nc.Reject(ssh.UnknownChannelType, "no")
		}
	}
}

func (s *testServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request, free func()) {
	defer free()
	defer ch.Close()
	var cmd *exec.Cmd
	exited := make(chan struct{})
	for r := range reqs {
		switch r.Type {
		case "exec":
			if cmd != nil {
				r.Reply(false, nil)
				continue
			}
			s.execs.Add(1)
			line := string(r.Payload[4:])
			s.mu.Lock()
			s.lines = append(s.lines, line)
			s.mu.Unlock()
			cmd = exec.Command("sh", "-c", line)
			cmd.Env = append(os.Environ(), s.env...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			cmd.Stdout = ch
			cmd.Stderr = ch.Stderr()
			stdin, _ := cmd.StdinPipe()
			if err := cmd.Start(); err != nil {
				r.Reply(false, nil)
				return
			}
			r.Reply(true, nil)
			go func() { io.Copy(stdin, ch); stdin.Close() }()
			go func() {
				err := cmd.Wait()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
					if code < 0 {
						code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
					}
				}
				b := make([]byte, 4)
				binary.BigEndian.PutUint32(b, uint32(code))
				free()
				ch.SendRequest("exit-status", false, b)
				close(exited)
				ch.Close()
			}()
		case "signal":
			if cmd != nil && cmd.Process != nil {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			}
			r.Reply(true, nil)
		default:
			r.Reply(false, nil)
		}
	}
	if cmd != nil {
		<-exited
	}
}
