package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Target is one node to connect to, as the inventory names it.
type Target struct {
	Name          string   // inventory name, used in every error and result
	Host          string   // address, DNS name or ~/.ssh/config alias
	Port          int      // 0: from ~/.ssh/config, else 22
	User          string   // "": from ~/.ssh/config, else the local user
	IdentityFiles []string // tried after the agent, before ~/.ssh/config's and the defaults
}

// ParseTarget reads "[user@]host[:port]" — the authority of an ssh:// URL,
// an IPv6 address in brackets — into a Target called name.
func ParseTarget(name, spec string) (Target, error) {
	t := Target{Name: name}
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		t.User, spec = spec[:i], spec[i+1:]
	}
	host, port, err := net.SplitHostPort(spec)
	if err != nil { // no port
		t.Host = strings.TrimSuffix(strings.TrimPrefix(spec, "["), "]")
	} else {
		p, perr := strconv.Atoi(port)
		if perr != nil || p < 1 || p > 65535 {
			return Target{}, fmt.Errorf("%s: port %q is not a number from 1 to 65535", spec, port)
		}
		t.Host, t.Port = host, p
	}
	if t.Host == "" {
		return Target{}, fmt.Errorf("%q: no host", spec)
	}
	return t, nil
}

// Sudo modes: how a command that needs root gets it.
const (
	SudoAuto     = "auto"     // sudo -n where it works, else the password over stdin
	SudoNoPasswd = "nopasswd" // sudo -n only
	SudoPassword = "password" // sudo -S with the password over stdin (sudo -n where that works)
	SudoNone     = "none"     // the login user is root: run as is
)

// Options are the connection settings shared by every node of a run.
type Options struct {
	KnownHostsFile string        // required: strict host-key checking against this file
	AcceptNewHosts bool          // add unknown host keys to KnownHostsFile instead of refusing
	SSHConfigFile  string        // "" → ~/.ssh/config when it exists; "none" → ignore
	ConnectTimeout time.Duration // TCP connect + SSH handshake; default 10s
	Keepalive      time.Duration // keepalive@openssh.com interval; default 15s, <0 disables
	Sudo           string        // one of the Sudo* modes; default SudoAuto
	// SudoPassword is asked for lazily, the first time a node needs it.
	SudoPassword func() (string, error)
	// Passphrase is asked for an encrypted key file's passphrase, the
	// first time a node accepts its public key; the key then stays
	// unlocked for the rest of the process (one prompt for every node), and
	// a wrong answer is asked again (three tries). The connect timeout does
	// not run while it is asked. nil (no terminal) leaves such files out,
	// and an authentication failure then names them and ssh-add.
	Passphrase func(file string) ([]byte, error)
	// Dial opens the TCP connection to a node or the first jump host;
	// nil uses net.Dialer. Tests and the lab use it to dial from a namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Agent overrides the ssh-agent socket from SSH_AUTH_SOCK ("none" disables).
	Agent string
}

// NodeError is an error on one node; it names the node, its address and the
// step that failed: "node2 (10.77.0.12:22): connect: connection refused".
type NodeError struct {
	Node string
	Addr string
	Step string
	Err  error
}

// Error names the node and its address before the cause.
func (e *NodeError) Error() string {
	who := e.Node
	if e.Addr != "" && e.Addr != e.Node {
		who += " (" + e.Addr + ")"
	}
	if e.Step == "" {
		return who + ": " + describe(e.Err)
	}
	return who + ": " + e.Step + ": " + describe(e.Err)
}

// Unwrap returns the cause.
func (e *NodeError) Unwrap() error { return e.Err }

// describe shortens the standard library's network errors to what an operator
// needs ("connection refused", "no route to host", "timed out").
func describe(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is sshd running and listening on this port?)"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out (check the address, the firewall, or raise ssh.connect_timeout)"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "cannot resolve host " + strconv.Quote(dnsErr.Name) + " (not a DNS name nor a ~/.ssh/config alias)"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Client is one authenticated SSH connection to a node. Many commands may run
// on it at once, each on its own session.
type Client struct {
	node     string
	addr     string
	user     string
	conn     *ssh.Client
	jumps    []*ssh.Client
	opts     Options
	closed   chan struct{}
	closeOne sync.Once
	// slots holds a token per command's session open on the connection, at
	// most MaxSessions-1 (acquire); killSlot one for a killer's (stop).
	slots, killSlot chan struct{}

	// How commands become root here, found out once (Client.sudoFor):
	// sudoWait is open while a command finds out.
	sudoMu   sync.Mutex
	sudoWait chan struct{}
	sudoDone bool
	sudoMode string // resolved: nopasswd, password or none
	sudoPass string
	sudoErr  error
}

// Node returns the inventory name of the node.
func (c *Client) Node() string { return c.node }

// Addr returns the host:port the client is connected to.
func (c *Client) Addr() string { return c.addr }

// User returns the login user.
func (c *Client) User() string { return c.user }

// Close closes the connection and any jump-host connections under it.
func (c *Client) Close() error {
	var err error
	c.closeOne.Do(func() {
		close(c.closed)
		err = c.conn.Close()
		for i := len(c.jumps) - 1; i >= 0; i-- {
			c.jumps[i].Close()
		}
	})
	return err
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Keepalive == 0 {
		o.Keepalive = 15 * time.Second
	}
	if o.Sudo == "" {
		o.Sudo = SudoAuto
	}
	return o
}

// Dial connects and authenticates to t. It checks the host key strictly against
// Options.KnownHostsFile; an unknown key is an *UnknownHostError (unless
// AcceptNewHosts), a changed one a *ChangedHostKeyError, and nothing is run.
// Jump hosts (ProxyJump in ~/.ssh/config, also their own ProxyJump) are
// checked and authenticated the same way.
func Dial(ctx context.Context, t Target, o Options) (*Client, error) {
	o = o.withDefaults()
	if t.Name == "" {
		t.Name = t.Host
	}
	if o.KnownHostsFile == "" {
		return nil, &NodeError{Node: t.Name, Addr: t.Host, Step: "connect", Err: errors.New("no known_hosts file configured (set ssh.known_hosts in the inventory)")}
	}
	sc, err := loadSSHConfig(o.SSHConfigFile)
	if err != nil {
		return nil, &NodeError{Node: t.Name, Addr: t.Host, Step: "read ssh config", Err: err}
	}
	route, err := sc.route(t)
	if err != nil {
		return nil, &NodeError{Node: t.Name, Addr: t.Host, Step: "read ssh config", Err: err}
	}
	dest := route[len(route)-1]

	var jumps []*ssh.Client
	var via *ssh.Client
	for i, h := range route {
		last := i == len(route)-1
		step := fmt.Sprintf("connect via jump host %d (%s)", i+1, h.addr())
		if last {
			step = "connect"
		}
		clock := &connectClock{}
		auth, err := authMethods(o, h.identityFiles, clock)
		if err != nil {
			closeAll(jumps)
			keys := "load keys"
			if !last {
				keys = fmt.Sprintf("load keys for jump host %s", h.addr())
			}
			return nil, &NodeError{Node: t.Name, Addr: dest.addr(), Step: keys, Err: err}
		}
		conn, err := handshake(ctx, via, h, auth, clock, o)
		auth.Close() // the agent is needed for the handshake only
		if err != nil {
			closeAll(jumps)
			return nil, &NodeError{Node: t.Name, Addr: dest.addr(), Step: step, Err: err}
		}
		if last {
			c := &Client{node: t.Name, addr: dest.addr(), user: dest.user, conn: conn, jumps: jumps, opts: o, closed: make(chan struct{}),
				slots: make(chan struct{}, MaxSessions-1), killSlot: make(chan struct{}, 1)}
			if o.Keepalive > 0 {
				go c.keepalive(o.Keepalive)
			}
			return c, nil
		}
		jumps = append(jumps, conn)
		via = conn
	}
	panic("unreachable: a route ends with its destination")
}

func closeAll(cs []*ssh.Client) {
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i].Close()
	}
}

// handshake opens TCP (directly, or through via) and runs the SSH handshake
// within the connect timeout; clock stops while a passphrase is typed.
func handshake(ctx context.Context, via *ssh.Client, h hop, auth *hopAuth, clock *connectClock, o Options) (*ssh.Client, error) {
	addr := h.addr()
	hk, algos, err := hostKeyPolicy(o.KnownHostsFile, o.AcceptNewHosts, addr)
	if err != nil {
		return nil, err
	}
	dialCtx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	var raw net.Conn
	switch {
	case via != nil:
		raw, err = via.DialContext(dialCtx, "tcp", addr)
	case o.Dial != nil:
		raw, err = o.Dial(dialCtx, "tcp", addr)
	default:
		var d net.Dialer
		raw, err = d.DialContext(dialCtx, "tcp", addr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	clock.start(raw, o.ConnectTimeout)
	stop := context.AfterFunc(ctx, clock.cancel)
	defer stop()
	cfg := &ssh.ClientConfig{
		User:              h.user,
		Auth:              auth.methods,
		HostKeyCallback:   hk,
		HostKeyAlgorithms: algos,
		Timeout:           o.ConnectTimeout,
		ClientVersion:     "SSH-2.0-hotsnap",
	}
	cc, chans, reqs, err := ssh.NewClientConn(newReadBufferedConn(raw), addr, cfg)
	timedOut := clock.stop()
	if err != nil {
		raw.Close()
		switch {
		case isHostKeyError(err):
			return nil, err
		case ctx.Err() != nil:
			return nil, fmt.Errorf("ssh handshake: %w", ctx.Err())
		case timedOut:
			return nil, fmt.Errorf("ssh handshake: %w", context.DeadlineExceeded)
		}
		return nil, authHint(err, h.user, auth.locked)
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

func isHostKeyError(err error) bool {
	var u *UnknownHostError
	var ch *ChangedHostKeyError
	return errors.As(err, &u) || errors.As(err, &ch)
}

// authHint turns the library's "unable to authenticate" into advice.
func authHint(err error, user string, locked []string) error {
	if strings.Contains(err.Error(), "unable to authenticate") {
		hint := "no key from ssh-agent or the identity files was accepted; check ssh.user, ssh.identity_files, or `ssh-add -l`"
		if len(locked) > 0 {
			hint += "; " + lockedHint(locked)
		}
		return fmt.Errorf("authentication failed for user %q (%s): %w", user, hint, err)
	}
	return err
}

// keepalive sends keepalive@openssh.com and closes the connection when the
// node stops answering, so a dead node fails the run instead of hanging it.
func (c *Client) keepalive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		done := make(chan error, 1)
		go func() {
			_, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				c.Close()
				return
			}
		case <-time.After(3 * every):
			c.Close()
			return
		case <-c.closed:
			return
		}
	}
}

// DialContext opens a TCP connection from the node to addr (direct-tcpip), so
// CQL, Elasticsearch and S3 clients reach services that listen only on the
// node (for example 127.0.0.1:9200) with nothing but SSH open.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.conn.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &NodeError{Node: c.node, Addr: c.addr, Step: "tunnel to " + addr, Err: err}
	}
	return withDeadlines(conn), nil
}

// withDeadlines puts an in-memory pipe in front of an SSH channel, whose
// SetDeadline methods only return errors, so that clients relying on
// deadlines (the CQL driver sets write and read deadlines) work through
// the tunnel.
func withDeadlines(ch net.Conn) net.Conn {
	local, inner := net.Pipe()
	go func() { io.Copy(inner, ch); inner.Close() }()
	go func() { io.Copy(ch, inner); ch.Close() }()
	return &tunnelConn{Conn: local, ch: ch}
}

// tunnelConn is the local end of a tunnel; it reports the channel's addresses.
type tunnelConn struct {
	net.Conn
	ch net.Conn
}

func (t *tunnelConn) LocalAddr() net.Addr  { return t.ch.LocalAddr() }
func (t *tunnelConn) RemoteAddr() net.Addr { return t.ch.RemoteAddr() }

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// connReadBuffer is how much of a connection's incoming bytes one read
// system call may take. The SSH library reads each packet in two reads (a
// few bytes of header, then the rest) through a 4 KiB buffer; behind this
// one, a stream of 32 KiB packets costs one system call per batch of
// packets that arrived instead of two per packet.
const connReadBuffer = 256 << 10

// readBufferedConn is a net.Conn whose reads go through a connReadBuffer
// buffer; everything else is the connection's own.
type readBufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func newReadBufferedConn(c net.Conn) net.Conn {
	return &readBufferedConn{Conn: c, r: bufio.NewReaderSize(c, connReadBuffer)}
}

func (c *readBufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
