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
	"github.com/hotsnap/hotsnap/lab/thehive"
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
		steps = append(steps, func(ctx context.Context) (Daemon, error) { return l.startPostgres(ctx, logf) },
			func(ctx context.Context) (Daemon, error) { return l.startRedis(ctx, logf) })
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
	if s.platform() == PlatformEclecticIQ {
		return l.startEclecticIQUnits(ctx, logf)
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
	d := Daemon{Name: DaemonS3, Node: n.Name, PID: srv.PID, Addr: listen}
	logf("%s: %s answering on %s (pid %d)", n.Name, kind, listen, srv.PID)
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

// startPostgres initialises (once) and starts a PostgreSQL cluster of
// node1's own, then seeds database eclecticiq.
func (l *Lab) startPostgres(ctx context.Context, logf func(string, ...any)) (Daemon, error) {
	n := l.Nodes[0]
	fail := func(err error) error { return fmt.Errorf("%s: postgresql: %w", n.Name, err) }
	postgres, err := findTool("postgres")
	if err != nil {
		return Daemon{}, fail(err)
	}
	initdb, err := findTool("initdb")
	if err != nil {
		return Daemon{}, fail(err)
	}
	if _, err := os.Stat(filepath.Join(l.NodeDir(n.Name), "pgsql", "15", "data", "PG_VERSION")); err != nil {
		if err := os.MkdirAll(filepath.Join(l.NodeDir(n.Name), "pgsql", "15"), 0o755); err != nil {
			return Daemon{}, fail(err)
		}
		if err := chownTree(filepath.Join(l.NodeDir(n.Name), "pgsql"), "postgres"); err != nil {
			return Daemon{}, fail(err)
		}
		argv := asUser("postgres", initdb, "-D", PostgresDataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
		if _, err := l.runNode(ctx, n.Name, "", argv[0], argv[1:]...); err != nil {
			return Daemon{}, fail(fmt.Errorf("initdb: %w", err))
		}
		hba := fmt.Sprintf("# hotsnap lab\nlocal all all trust\nhost all all 127.0.0.1/32 trust\nhost all all 10.77.%d.0/24 trust\n", l.Subnet)
		if err := os.WriteFile(filepath.Join(l.NodeDir(n.Name), "pgsql", "15", "data", "pg_hba.conf"), []byte(hba), 0o600); err != nil {
			return Daemon{}, fail(err)
		}
		if err := chownTree(filepath.Join(l.NodeDir(n.Name), "pgsql"), "postgres"); err != nil {
			return Daemon{}, fail(err)
		}
	}
	logPath := filepath.Join(l.NodeDir(n.Name), "postgresql.log")
	logStart(logPath, "postgresql")
	argv := asUser("postgres", postgres, "-D", PostgresDataDir, "-p", strconv.Itoa(PostgresPort),
		"-c", "listen_addresses=127.0.0.1,"+n.IP, "-c", "unix_socket_directories=/run/postgresql",
		"-c", "dynamic_shared_memory_type=mmap", "-c", "logging_collector=off", "-c", "shared_buffers=16MB")
	pid, err := startDetached(l.detachedNodeCommand(n.Name, logPath, argv[0], argv[1:]...))
	if err != nil {
		return Daemon{}, fail(err)
	}
	addr := net.JoinHostPort(n.IP, strconv.Itoa(PostgresPort))
	d := Daemon{Name: DaemonPostgres, Node: n.Name, PID: pid, Addr: addr}
	if err := l.waitDaemon(ctx, d, logPath); err != nil {
		return d, fail(err)
	}
	// Accepting TCP is not accepting queries: wait for pg_isready-like success.
	psql, err := findTool("psql")
	if err != nil {
		return d, fail(err)
	}
	end := time.Now().Add(daemonWait)
	for {
		_, err := l.runNode(ctx, n.Name, "", psql, "-h", "127.0.0.1", "-U", "postgres", "-Atqc", "select 1")
		if err == nil {
			break
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return d, fail(fmt.Errorf("not answering queries: %w", err))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows := postgresRows(l.rec.Services.Data)
	out, err := l.runNode(ctx, n.Name, "", psql, "-h", "127.0.0.1", "-U", "postgres", "-Atqc",
		"select count(*) from pg_database where datname = '"+PostgresDatabase+"'")
	if err != nil {
		return d, fail(err)
	}
	if strings.TrimSpace(out) == "0" {
		if _, err := l.runNode(ctx, n.Name, postgresSeedSQL(rows), psql, "-h", "127.0.0.1", "-U", "postgres",
			"-v", "ON_ERROR_STOP=1", "-q", "-f", "-"); err != nil {
			return d, fail(fmt.Errorf("seed: %w", err))
		}
		logf("%s: seeded database %s (%d entities)", n.Name, PostgresDatabase, rows)
	}
	logf("%s: postgresql answering on 127.0.0.1:%d and %s (pid %d)", n.Name, PostgresPort, addr, pid)
	return d, nil
}

// postgresRows is the number of entity rows for a lab of data bytes:
// about one per 2 KB, between 100 and 50000.
func postgresRows(data int64) int64 { return min(max(data/2000, 100), 50000) }

// postgresSeedSQL creates database eclecticiq with EclecticIQ-like tables
// and rows entities (observables twice as many).
func postgresSeedSQL(rows int64) string {
	return fmt.Sprintf(`CREATE ROLE eclecticiq LOGIN;
CREATE DATABASE %[1]s OWNER eclecticiq;
\connect %[1]s
SET ROLE eclecticiq;
CREATE TABLE entity (id bigserial PRIMARY KEY, type text NOT NULL, title text NOT NULL, data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE observable (id bigserial PRIMARY KEY, type text NOT NULL, value text NOT NULL, maliciousness text NOT NULL);
CREATE TABLE entity_observable (entity_id bigint REFERENCES entity(id), observable_id bigint REFERENCES observable(id), PRIMARY KEY (entity_id, observable_id));
CREATE TABLE taxonomy (id serial PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE TABLE blob (id bigserial PRIMARY KEY, processing_status text NOT NULL, size bigint NOT NULL, sha256 text NOT NULL);
INSERT INTO taxonomy (name) SELECT 'tlp:' || c FROM unnest(ARRAY['white','green','amber','red']) AS c;
INSERT INTO entity (type, title, data)
  SELECT (ARRAY['indicator','report','threat-actor','campaign','ttp'])[1 + g %% 5], 'Entity ' || g || ' – ünïcødé ''quoted''',
         jsonb_build_object('description', repeat('lorem ipsum ', 8 + g %% 64), 'confidence', g %% 100)
  FROM generate_series(1, %[2]d) AS g;
INSERT INTO observable (type, value, maliciousness)
  SELECT (ARRAY['ipv4','domain','hash-sha256','uri'])[1 + g %% 4], md5(g::text) || '.example', (ARRAY['unknown','low','medium','high'])[1 + g %% 4]
  FROM generate_series(1, %[3]d) AS g;
INSERT INTO entity_observable SELECT e, 2 * e - 1 FROM generate_series(1, %[2]d) AS e;
INSERT INTO blob (processing_status, size, sha256)
  SELECT (ARRAY['success','success','success','pending','failed'])[1 + g %% 5], 1000 + g, md5(g::text) || md5((-g)::text)
  FROM generate_series(1, %[4]d) AS g;
`, PostgresDatabase, rows, 2*rows, max(rows/10, 10))
}

// startRedis starts redis-server on node1 with its own config file and
// seeds the Celery queues.
func (l *Lab) startRedis(ctx context.Context, logf func(string, ...any)) (Daemon, error) {
	n := l.Nodes[0]
	fail := func(err error) error { return fmt.Errorf("%s: redis: %w", n.Name, err) }
	server, err := findTool("redis-server")
	if err != nil {
		return Daemon{}, fail(err)
	}
	cli, err := findTool("redis-cli")
	if err != nil {
		return Daemon{}, fail(err)
	}
	conf := filepath.Join(l.NodeDir(n.Name), "redis.conf")
	if err := writeFileAtomic(conf, []byte(redisConf(n.IP)), 0o644); err != nil {
		return Daemon{}, fail(err)
	}
	logPath := filepath.Join(l.NodeDir(n.Name), "redis.log")
	logStart(logPath, "redis")
	argv := asUser("redis", server, conf)
	pid, err := startDetached(l.detachedNodeCommand(n.Name, logPath, argv[0], argv[1:]...))
	if err != nil {
		return Daemon{}, fail(err)
	}
	addr := net.JoinHostPort(n.IP, strconv.Itoa(RedisPort))
	d := Daemon{Name: DaemonRedis, Node: n.Name, PID: pid, Addr: addr}
	if err := l.waitDaemon(ctx, d, logPath); err != nil {
		return d, fail(err)
	}
	out, err := l.runNode(ctx, n.Name, "", cli, "-h", "127.0.0.1", "-p", strconv.Itoa(RedisPort), "exists", CeleryQueues[0])
	if err != nil {
		return d, fail(err)
	}
	if strings.TrimSpace(out) == "0" {
		if _, err := l.runNode(ctx, n.Name, celeryRESP(l.rec.Services.Data), cli, "-h", "127.0.0.1", "-p", strconv.Itoa(RedisPort), "--pipe"); err != nil {
			return d, fail(fmt.Errorf("seed queues: %w", err))
		}
		logf("%s: seeded %d Celery queues in redis", n.Name, len(CeleryQueues))
	}
	logf("%s: redis answering on 127.0.0.1:%d and %s (pid %d)", n.Name, RedisPort, addr, pid)
	return d, nil
}

// redisConf is node1's redis.conf: both addresses, no daemonizing, data
// in /var/lib/redis (node1's private directory).
func redisConf(ip string) string {
	return fmt.Sprintf(`# hotsnap lab: EclecticIQ Redis (written by lab up)
bind 127.0.0.1 %s
port %d
protected-mode no
daemonize no
supervised no
logfile ""
dir %s
dbfilename dump.rdb
save 60 1
appendonly no
`, ip, RedisPort, RedisDataDir)
}

// celeryRESP returns RPUSH commands in the Redis protocol that fill each
// Celery queue with Celery-style JSON messages (more for larger labs).
func celeryRESP(data int64) string {
	var b strings.Builder
	cmd := func(args ...string) {
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	per := int(min(max(data/(10<<20), 3), 200))
	for qi, q := range CeleryQueues {
		args := []string{"RPUSH", q}
		for i := 0; i < per+qi%3; i++ {
			id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", qi*1000+i, qi, i, qi, i*7919)
			msg := fmt.Sprintf(`{"body":"W1siZW50aXR5LSVkIl0sIHt9LCB7fV0=","content-encoding":"utf-8","content-type":"application/json","headers":{"lang":"py","task":"eiq.platform.tasks.%s.run","id":"%s","retries":0,"root_id":"%s","parent_id":null,"argsrepr":"('entity-%d',)","kwargsrepr":"{}","origin":"gen1@node1"},"properties":{"correlation_id":"%s","delivery_info":{"exchange":"","routing_key":"%s"},"priority":0,"body_encoding":"base64","delivery_tag":"%s"}}`,
				q, id, id, i, id, q, id)
			args = append(args, msg)
		}
		cmd(args...)
	}
	cmd("SET", "queue:ingestion:inbound:last", "0")
	return b.String()
}

// waitDaemon waits until d's address answers from op, failing early with
// the log's tail when the process exits.
func (l *Lab) waitDaemon(ctx context.Context, d Daemon, logPath string) error {
	return waitTCP(ctx, l.rec.OpNetns, []string{d.Addr}, daemonWait, func(string) error {
		if !pidAlive(d.PID) {
			return fmt.Errorf("%s (pid %d) exited: %s", d.Name, d.PID, logTail(logPath, 5))
		}
		return nil
	})
}

// stopDaemons stops the recorded platform daemons gracefully (PostgreSQL
// with a fast shutdown, so it leaves no shared memory behind) before Down
// kills whatever is left in the namespaces.
func stopDaemons(rec record, nodes map[string]NodeInfo, grace time.Duration) {
	var pids []int
	for _, d := range rec.Daemons {
		n, ok := nodes[d.Node]
		if !ok || !serviceAlive(d.PID, n.Netns) {
			continue
		}
		sig := syscall.SIGTERM
		if d.Name == DaemonPostgres {
			sig = syscall.SIGINT
		}
		_ = syscall.Kill(d.PID, sig)
		pids = append(pids, d.PID)
	}
	waitGone(pids, grace)
}

// eclecticIQServicesDir is node1's service-manager directory (under
// STATE/nodes/node1/), mounted at thehive.DefaultServiceDir inside node1 so
// that the lab's systemctl and journalctl shims find the platform's units.
const eclecticIQServicesDir = "services"

// eclecticIQUnit returns the shim unit of one EclecticIQ service: a
// trivial long-running process under the unit's real name.
func eclecticIQUnit(name string) thehive.Unit {
	return thehive.Unit{
		Name:           name,
		Description:    "EclecticIQ Platform " + strings.TrimPrefix(name, "eclecticiq-") + " (hotsnap lab shim)",
		FragmentPath:   "/lib/systemd/system/" + name + ".service",
		Enabled:        true,
		ExecStart:      []string{"/bin/sleep", "infinity"},
		TimeoutStopSec: 10,
	}
}

// startEclecticIQUnits installs the units of EclecticIQUnits in node1's
// own service directory and starts them with the lab's systemctl.
func (l *Lab) startEclecticIQUnits(ctx context.Context, logf func(string, ...any)) error {
	n := l.Nodes[0]
	fail := func(err error) error { return fmt.Errorf("%s: eclecticiq units: %w", n.Name, err) }
	src := filepath.Join(l.NodeDir(n.Name), eclecticIQServicesDir)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return fail(err)
	}
	target := thehive.DefaultServiceDir
	if _, err := os.Stat(target); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fail(fmt.Errorf("mount point %s: %w", target, err))
		}
	}
	if _, err := l.runNode(ctx, n.Name, "", "mount", "--bind", src, target); err != nil {
		return fail(err)
	}
	l.mu.Lock()
	l.rec.Mounts = append(l.rec.Mounts, Mount{Node: n.Name, Source: src, Target: target})
	serr := l.saveLocked()
	l.mu.Unlock()
	if serr != nil {
		return fail(serr)
	}
	for _, name := range EclecticIQUnits {
		if err := thehive.WriteUnit(src, eclecticIQUnit(name)); err != nil {
			return fail(err)
		}
	}
	c := l.NodeCommand(ctx, n.Name, filepath.Join(binTarget, "systemctl"), append([]string{"start"}, EclecticIQUnits...)...)
	c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	c.Dir = "/"
	if out, err := c.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("systemctl start: %w: %s", err, strings.TrimSpace(string(out))))
	}
	logf("%s: %d eclecticiq units started (systemctl shim)", n.Name, len(EclecticIQUnits))
	return nil
}
