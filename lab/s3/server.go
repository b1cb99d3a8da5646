package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DialFunc dials a TCP address; the lab passes one that connects from inside
// a network namespace. nil means a plain net.Dialer.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Options describes one server to start. Start fills it from its arguments;
// StartWith takes it whole.
type Options struct {
	// Kind is KindVersityGW or KindMinIO.
	Kind string
	// Bin is the server binary (from Build).
	Bin string
	// DataDir is the storage directory; it is created if missing. Each
	// top-level directory is a bucket. versitygw's posix backend keeps each
	// object as a plain file DataDir/bucket/key; MinIO keeps its own format
	// (DataDir/bucket/key/xl.meta and parts) and its .minio.sys folder.
	DataDir string
	// ListenAddr is host:port to listen on, e.g. 127.0.0.1:9000 or 10.77.0.11:9000.
	ListenAddr string
	// AccessKey and SecretKey are the root credentials. They are passed in
	// the environment, never on the command line, so they stay out of the
	// process list.
	AccessKey, SecretKey string
	// Command builds the process (the lab wraps it in `ip netns exec`);
	// nil means exec.Command. The returned command's PID must be the
	// server's (exec, not fork), since Stop signals that PID.
	Command func(name string, args ...string) *exec.Cmd
	// Dial reaches ListenAddr for the readiness probe; nil dials directly.
	Dial DialFunc
	// ReadyTimeout bounds the wait for the server to answer; 0 means 30s.
	ReadyTimeout time.Duration
	// Log receives the server's stdout and stderr; nil discards them
	// (the last 64 KiB are kept for Server.Output either way).
	Log io.Writer
}

// Server is a running S3 server process.
type Server struct {
	// Kind is the server kind.
	Kind string
	// Endpoint is the host:port clients use (ListenAddr with an unspecified
	// host replaced by 127.0.0.1).
	Endpoint string
	// PID is the server process id.
	PID int

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	out      *tailBuffer
	stopOnce sync.Once
	stopErr  error
}

// Start starts a server of kind from bin storing under dataDir, listening on
// listenAddr with the given root credentials, and waits (bounded by ctx and
// 30 s) until it answers an authenticated ListBuckets. cmd builds the process
// (nil: exec.Command). The server keeps running after ctx ends; call Stop.
func Start(ctx context.Context, kind, bin, dataDir, listenAddr, accessKey, secretKey string,
	cmd func(name string, args ...string) *exec.Cmd) (*Server, error) {
	return StartWith(ctx, Options{
		Kind: kind, Bin: bin, DataDir: dataDir, ListenAddr: listenAddr,
		AccessKey: accessKey, SecretKey: secretKey, Command: cmd,
	})
}

// serverArgs returns the command line and extra environment for o.
func serverArgs(o Options) (args, env []string, err error) {
	switch o.Kind {
	case KindVersityGW:
		// versitygw [global flags] posix DIR; ROOT_ACCESS_KEY/ROOT_SECRET_KEY
		// are the env forms of --access/--secret.
		return []string{"--port", o.ListenAddr, "--region", "us-east-1", "posix", o.DataDir},
			[]string{"ROOT_ACCESS_KEY=" + o.AccessKey, "ROOT_SECRET_KEY=" + o.SecretKey}, nil
	case KindMinIO:
		// minio server DIR (one drive: single-node single-drive mode) on
		// --address; its (legacy) config and TLS folders beside DIR instead
		// of ~/.minio, so the lab writes nothing outside its state
		// directory. The root credentials, the region (versitygw's,
		// us-east-1) and no console or update checks come from the
		// environment.
		cfg := minioConfigDir(o.DataDir)
		return []string{"server", o.DataDir, "--address", o.ListenAddr,
				"--config-dir", cfg, "--certs-dir", filepath.Join(cfg, "certs"), "--quiet"},
			[]string{"MINIO_ROOT_USER=" + o.AccessKey, "MINIO_ROOT_PASSWORD=" + o.SecretKey,
				"MINIO_SITE_REGION=us-east-1", "MINIO_BROWSER=off", "MINIO_UPDATE=off"}, nil
	default:
		_, err := ReleaseFor(o.Kind)
		return nil, nil, err
	}
}

// minioConfigDir is MinIO's --config-dir for a server storing in dataDir:
// "<dataDir>.minio", beside it (MinIO would take a folder inside dataDir for
// a bucket). Its certs/ folder is the --certs-dir.
func minioConfigDir(dataDir string) string {
	return filepath.Clean(dataDir) + ".minio"
}

// clientEndpoint turns a listen address into the address a client dials.
func clientEndpoint(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("listen address %q: needs a fixed port", listen)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ep := net.JoinHostPort(host, port)
	if err := checkLabEndpoint(ep); err != nil {
		return "", err
	}
	return ep, nil
}

// StartWith starts the server described by o; see Start.
func StartWith(ctx context.Context, o Options) (*Server, error) {
	if o.Bin == "" || o.DataDir == "" || o.AccessKey == "" || o.SecretKey == "" {
		return nil, fmt.Errorf("start %s server: binary, data directory and credentials are required", o.Kind)
	}
	args, env, err := serverArgs(o)
	if err != nil {
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	ep, err := clientEndpoint(o.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("start %s server: %w", o.Kind, err)
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("start %s server: data directory: %w", o.Kind, err)
	}
	mk := o.Command
	if mk == nil {
		mk = exec.Command
	}
	c := mk(o.Bin, args...)
	if c == nil {
		return nil, fmt.Errorf("start %s server: command hook returned nil", o.Kind)
	}
	if c.Env == nil {
		c.Env = os.Environ()
	}
	c.Env = append(c.Env, env...)
	if c.SysProcAttr == nil {
		// Own process group: a terminal's Ctrl-C goes to the test, not the server.
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	s := &Server{Kind: o.Kind, Endpoint: ep, cmd: c, done: make(chan struct{}), out: &tailBuffer{max: 64 << 10}}
	var w io.Writer = s.out
	if o.Log != nil {
		w = io.MultiWriter(o.Log, s.out)
	}
	c.Stdout, c.Stderr = w, w
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s server %s: %w", o.Kind, o.Bin, err)
	}
	s.PID = c.Process.Pid
	go func() {
		s.waitErr = c.Wait()
		close(s.done)
	}()

	timeout := o.ReadyTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.waitReady(rctx, o); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("start %s server on %s: %w\n%s", o.Kind, o.ListenAddr, err, lastLines(s.Output(), 20))
	}
	return s, nil
}

// waitReady polls an authenticated ListBuckets until it succeeds, the
// process exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context, o Options) error {
	cl, err := newClient(s.Endpoint, o.AccessKey, o.SecretKey, o.Dial, 1)
	if err != nil {
		return err
	}
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		go func() { // a probe must not outlive the process it probes
			select {
			case <-s.done:
				cancel()
			case <-pctx.Done():
			}
		}()
		_, err := cl.ListBuckets(pctx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-s.done:
			return fmt.Errorf("server exited before answering: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not answering: %w (last probe: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Output returns the last 64 KiB the server wrote to stdout and stderr.
func (s *Server) Output() string { return s.out.String() }

// Stop ends the server by its PID: SIGTERM, then SIGKILL after 10 s. It
// waits until the process is reaped and is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(10 * time.Second) })
	return s.stopErr
}

func (s *Server) stop(grace time.Duration) error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s server (pid %d): %w", s.Kind, s.PID, err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(grace):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s server (pid %d): %w", s.Kind, s.PID, err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("stop %s server (pid %d): still running after SIGKILL", s.Kind, s.PID)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
