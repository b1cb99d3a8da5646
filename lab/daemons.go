package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/lab/s3"
)

// daemonWait bounds how long Up waits for a platform daemon to answer.
const daemonWait = 30 * time.Second

// Daemon returns the named platform daemon (DaemonS3, DaemonPostgres,
// DaemonRedis) of the lab, if it runs one.
func (l *Lab) Daemon(name string) (Daemon, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.rec.Daemons {
		if d.Name == name {
			return d, true
		}
	}
	return Daemon{}, false
}

// Platform returns the platform the lab imitates.
func (l *Lab) Platform() string { return l.rec.Services.platform() }

// S3Endpoint returns the S3 server's host:port on node1 (as the inventory
// names it, without the scheme).
func (l *Lab) S3Endpoint() string {
	return net.JoinHostPort(nodeIP(l.Subnet, 1), strconv.Itoa(S3Port))
}

// OpDial dials addr from inside the lab's op network namespace, the only
// place the nodes can be reached from. It suits s3.NewClient and
// net/http transports.
func (l *Lab) OpDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(l.rec.OpNetns, func() error {
		var err error
		c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// buildS3 builds (or finds in the cache) the S3 server binary.
func buildS3(ctx context.Context, o Options, logf func(string, ...any)) (string, error) {
	cache := o.S3CacheDir
	if cache == "" {
		var err error
		if cache, err = s3.DefaultCacheDir(ctx); err != nil {
			return "", err
		}
	}
	if bin, err := s3.BinPath(o.S3, cache); err == nil {
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
			return s3.Build(ctx, o.S3, cache, nil)
		}
	}
	r, err := s3.ReleaseFor(o.S3)
	if err != nil {
		return "", err
	}
	logf("building %s %s from the Go module proxy into %s (%s)", r.Kind, r.Version, cache, r.Note)
	t := time.Now()
	bin, err := s3.Build(ctx, o.S3, cache, nil)
	if err != nil {
		if o.S3 != s3.KindVersityGW {
			return "", fmt.Errorf("%w\n(--s3 %s, the default, is the other S3 server the lab can build)", err, s3.KindVersityGW)
		}
		return "", err
	}
	logf("built %s in %s", bin, time.Since(t).Round(100*time.Millisecond))
	return bin, nil
}

// startPlatform starts node1's platform daemons: the S3 server (storage
// s3), or PostgreSQL and Redis (eclecticiq), seeds them and records them.
func (l *Lab) startPlatform(ctx context.Context, s3Bin string, logf func(string, ...any)) error {
	s := l.rec.Services
	var steps []func(context.Context) (Daemon, error)
	switch {
	case s.S3 != "":
		steps = append(steps, func(ctx context.Context) (Daemon, error) { return l.startS3(ctx, s3Bin, logf) })
	case s.platform() == PlatformEclecticIQ:
		return l.startEclecticIQ(ctx, logf)
	}
	for _, step := range steps {
		d, err := step(ctx)
		if d.PID > 0 {
			l.mu.Lock()
			l.rec.Daemons = append(l.rec.Daemons, d)
			if !slices.Contains(l.rec.PIDs, d.PID) {
				l.rec.PIDs = append(l.rec.PIDs, d.PID)
			}
			serr := l.saveLocked()
			l.mu.Unlock()
			err = errors.Join(err, serr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// detachedNodeCommand returns a command that runs prog with args inside
// node's namespaces, in its own session, with stdin from /dev/null and
// stdout and stderr appended to logPath by the shell before it execs prog
// (so the daemon holds no pipe to this process and keeps the PID).
func (l *Lab) detachedNodeCommand(node, logPath, prog string, args ...string) *exec.Cmd {
	full := append([]string{"-c", `exec "$0" "$@" >>"$HOTSNAP_LAB_LOG" 2>&1 </dev/null`, prog}, args...)
	c := l.NodeCommand(context.Background(), node, "/bin/sh", full...)
	c.Env = append(os.Environ(), "HOTSNAP_LAB_LOG="+logPath)
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return c
}

// startDetached starts c, reaps it in the background and returns its PID.
func startDetached(c *exec.Cmd) (int, error) {
	if err := c.Start(); err != nil {
		return 0, err
	}
	go c.Wait() //nolint:errcheck // reap it whenever it ends
	return c.Process.Pid, nil
}

// logStart appends a start marker to a daemon's log.
func logStart(path, what string) {
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		fmt.Fprintf(f, "--- hotsnap lab: starting %s at %s\n", what, time.Now().Format(time.RFC3339))
		f.Close()
	}
}

// startS3 runs the S3 server on node1 (data in STATE/nodes/node1/s3) and
// seeds the attachments bucket from op.
func (l *Lab) startS3(ctx context.Context, bin string, logf func(string, ...any)) (Daemon, error) {
	n := l.Nodes[0]
	kind := l.rec.Services.S3
	fail := func(err error) error { return fmt.Errorf("%s: %s server: %w", n.Name, kind, err) }
	ak, err := l.Secret(SecretS3AccessKey)
	if err != nil {
		return Daemon{}, fail(err)
	}
	sk, err := l.Secret(SecretS3SecretKey)
	if err != nil {
		return Daemon{}, fail(err)
	}
	// The build cache is under the host's /root, which a node does not
	// see: the node runs a copy from its /usr/local/bin.
	nodeBin := filepath.Base(bin)
	if err := copyIntoBin(l.BinPath(), bin, nodeBin); err != nil {
		return Daemon{}, fail(err)
	}
	bin = filepath.Join(binTarget, nodeBin)
	logPath := filepath.Join(l.NodeDir(n.Name), "s3.log")
	logStart(logPath, kind)
	listen := l.S3Endpoint()
	srv, err := s3.StartWith(ctx, s3.Options{
		Kind: kind, Bin: bin, DataDir: filepath.Join(l.NodeDir(n.Name), "s3"), ListenAddr: listen,
		AccessKey: ak, SecretKey: sk, Dial: l.OpDial, ReadyTimeout: daemonWait,
		Command: func(name string, args ...string) *exec.Cmd {
			return l.detachedNodeCommand(n.Name, logPath, name, args...)
		},
	})
	if err != nil {
		return Daemon{}, fail(fmt.Errorf("%w (log %s: %s)", err, logPath, logTail(logPath, 5)))
	}
	// srv.PID is the nsenter that runs the server in node1.
	pid, err := enteredPID(srv.PID)
	if err != nil {
		return Daemon{}, fail(err)
	}
	d := Daemon{Name: DaemonS3, Node: n.Name, PID: pid, Addr: listen}
	logf("%s: %s answering on %s (pid %d)", n.Name, kind, listen, pid)
	cl, err := s3.NewClient(listen, ak, sk, l.OpDial)
	if err != nil {
		return d, fail(err)
	}
	seeded, err := seedS3(ctx, cl, l.rec.Services.Data/10)
	if err != nil {
		return d, fail(err)
	}
	if seeded {
		logf("%s: seeded bucket %s with %d objects", n.Name, S3Bucket, s3SeedObjects)
	}
	return d, nil
}

// S3Objects returns the attachment objects the lab seeds into bucket
// S3Bucket for a lab of data bytes (Options.Data).
func S3Objects(data int64) []s3.Object { return s3.Generate(s3SeedObjects, data/10) }

// seedS3 fills the attachments bucket unless it already holds objects; it
// reports whether it seeded.
func seedS3(ctx context.Context, cl *minio.Client, total int64) (bool, error) {
	ok, err := cl.BucketExists(ctx, S3Bucket)
	if err != nil {
		return false, fmt.Errorf("bucket %s: %w", S3Bucket, err)
	}
	if ok {
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// The first object listed (or error) decides: a seeded bucket is kept.
		if oi, any := <-cl.ListObjects(lctx, S3Bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 1}); any {
			if oi.Err != nil {
				return false, fmt.Errorf("bucket %s: list: %w", S3Bucket, oi.Err)
			}
			return false, nil
		}
	}
	return true, s3.Seed(ctx, cl, S3Bucket, s3.Generate(s3SeedObjects, total))
}

// runNode runs prog inside node with stdin and returns its combined output.
func (l *Lab) runNode(ctx context.Context, node, stdin, prog string, args ...string) (string, error) {
	c := l.NodeCommand(ctx, node, prog, args...)
	c.Dir = "/"
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s on %s: %w: %s", prog, strings.Join(args, " "), node, err, strings.TrimSpace(lastLinesOf(string(out), 10)))
	}
	return string(out), nil
}

func lastLinesOf(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// asUser prefixes a command line so that it runs as user (setpriv execs,
// so the PID stays the program's).
func asUser(user string, argv ...string) []string {
	return append([]string{"/usr/bin/setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"}, argv...)
}

// stopDaemons stops the recorded platform daemons gracefully (PostgreSQL
// with a fast shutdown, so it leaves no shared memory behind; a daemon
// run by a unit through its unit's current main process) before Down
// kills whatever is left in the namespaces.
func stopDaemons(rec record, nodes map[string]NodeInfo, grace time.Duration) {
	var pids []int
	for _, d := range rec.Daemons {
		n, ok := nodes[d.Node]
		pid := daemonPID(rec.StateDir, n, d)
		if !ok || !serviceAlive(pid, n.Netns) {
			continue
		}
		_ = syscall.Kill(pid, stopSignal(d))
		pids = append(pids, pid)
	}
	waitGone(pids, grace)
}
