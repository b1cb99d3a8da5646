package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/thehive"
)

const (
	// SecretPostgres names the password file (under STATE/secrets/) of the
	// EclecticIQ database role eclecticiq, written with Options.Auth.
	SecretPostgres = "postgres-eclecticiq"
	// SecretRedis names the Redis password file (requirepass), written with
	// Options.Auth.
	SecretRedis = "redis"
	// RedisBrokerDB is the Redis database of the EclecticIQ broker (REDIS_URL
	// in platform_settings.py).
	RedisBrokerDB = eclecticiq.BrokerDB
)

// eiqOverlays are the directories node1 of an EclecticIQ lab sees through
// an overlay: the host's content below, node1's own files on top (in
// STATE/nodes/node1/overlay/NAME/upper), so seed 003's configuration files
// are private to node1 and the host's directories are never touched —
// their modes and owners neither: a restore that copies /usr/lib/systemd
// back with its parents changes node1's /usr, not the host's (everything
// else, / itself included, is the host's).
var eiqOverlays = []struct{ name, target string }{
	{"etc", "/etc"},
	{"usr", "/usr"},
	{"opt", "/opt"},
	{"media", "/media"},
}

// eiqNode is the node that runs the EclecticIQ platform.
const eiqNode = "node1"

// overlayDir returns the host directory of one of node's overlays.
func overlayDir(stateDir, node, name string) string {
	return filepath.Join(stateDir, "nodes", node, "overlay", name)
}

// platformOverlays returns node's overlay mounts (mounted before its bind
// mounts): the eiqOverlays on node1 of an EclecticIQ lab.
func platformOverlays(stateDir, node, platform string) []Mount {
	if platform != PlatformEclecticIQ || node != eiqNode {
		return nil
	}
	var ms []Mount
	for _, o := range eiqOverlays {
		d := overlayDir(stateDir, node, o.name)
		ms = append(ms, Mount{Node: node, Target: o.target,
			Source: "overlay:lowerdir=" + o.target + ",upperdir=" + d + "/upper,workdir=" + d + "/work"})
	}
	return ms
}

// eiqHostPath returns where a path inside node1 lives on the host: in the
// upper directory of the overlay that holds it.
func eiqHostPath(stateDir, p string) (string, error) {
	if strings.HasPrefix(p, "/lib/") || p == "/lib" {
		p = "/usr" + p
	}
	for _, o := range eiqOverlays {
		if rel, ok := strings.CutPrefix(p, o.target+"/"); ok {
			return filepath.Join(overlayDir(stateDir, eiqNode, o.name), "upper", rel), nil
		}
	}
	return "", fmt.Errorf("%s is outside node1's private directories", p)
}

// EclecticIQPath returns the host path of a file inside node1 of an
// EclecticIQ lab (a configuration file, PostgreSQL's or Redis's data).
// Read it; write through the node, which sees it through an overlay.
func (l *Lab) EclecticIQPath(p string) (string, error) { return eiqHostPath(l.StateDir, p) }

// ensurePlatformUsers creates the service accounts a platform's processes
// run as (postgres and redis come with their Debian packages). The caller
// holds the global lock.
func ensurePlatformUsers(ctx context.Context, platform string) error {
	if platform != PlatformEclecticIQ {
		return nil
	}
	for _, u := range []struct{ name, home, shell string }{
		// seed 003 runs `sudo -i -u eclecticiq …`: a login shell.
		{eclecticiq.User, eclecticiq.BackendDir, "/bin/bash"},
		{"elasticsearch", "/nonexistent", "/usr/sbin/nologin"},
	} {
		if _, err := user.Lookup(u.name); err == nil {
			continue
		}
		if _, err := run(ctx, "", "useradd", "--system", "--user-group", "--no-create-home", "--home-dir", u.home, "--shell", u.shell, u.name); err != nil {
			return fmt.Errorf("create service user %s: %w", u.name, err)
		}
	}
	for _, u := range []string{"postgres", "redis"} {
		if _, err := user.Lookup(u); err != nil {
			return fmt.Errorf("user %s (from its Debian package) is missing: %w", u, err)
		}
	}
	return nil
}

// ownerIDs returns the uid of owner and the gid of group.
func ownerIDs(owner, group string) (int, int, error) {
	uid, _, err := lookupIDs(owner)
	if err != nil {
		return 0, 0, err
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, 0, fmt.Errorf("look up group %s: %w", group, err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("group %s: gid %q: %w", group, g.Gid, err)
	}
	return uid, gid, nil
}

// eiqFiles returns node1's files: the configuration files (with the
// lab's passwords when it has auth), unit files and commands.
func eiqFiles(stateDir string, subnet int, auth bool) ([]eclecticiq.File, error) {
	o := eclecticiq.FileOptions{Hostname: eiqNode, NodeIP: nodeIP(subnet, 1), Subnet: subnet,
		ESPathRepo: sharedBackupTarget + "/elasticsearch", ESClusterName: PlatformEclecticIQ, HotsnapBin: binTarget + "/hotsnap"}
	if auth {
		for name, dst := range map[string]*string{SecretPostgres: &o.PGPassword, SecretRedis: &o.RedisPassword, SecretES: &o.ESPassword} {
			b, err := os.ReadFile(secretPath(stateDir, name))
			if err != nil {
				return nil, fmt.Errorf("secret %s: %w", name, err)
			}
			*dst = strings.TrimRight(string(b), "\r\n")
		}
	}
	uo, err := eiqUnitOptions()
	if err != nil {
		return nil, err
	}
	o.Units = eclecticiq.Units(uo)
	return eclecticiq.Files(o)
}

// eiqUnitOptions finds the programs the data stores' units run.
func eiqUnitOptions() (eclecticiq.UnitOptions, error) {
	pg, err := findTool("postgres")
	if err != nil {
		return eclecticiq.UnitOptions{}, err
	}
	rs, err := findTool("redis-server")
	if err != nil {
		return eclecticiq.UnitOptions{}, err
	}
	return eclecticiq.UnitOptions{PGBinDir: filepath.Dir(pg), RedisServer: rs}, nil
}

// preparePlatformState writes, before the nodes' namespaces exist, what
// node1 of an EclecticIQ lab needs on disk: the passwords (with auth), the
// overlays' directories and, in their upper directories, seed 003's
// configuration files and the platform's commands with their owners and
// modes. Files an earlier lab left there are kept (a restore may have put
// them there); so is their content.
func preparePlatformState(o Options, rec record) error {
	if o.Platform != PlatformEclecticIQ || o.Binary == "" {
		return nil
	}
	fail := func(err error) error { return fmt.Errorf("%s: eclecticiq: %w", eiqNode, err) }
	if strings.ContainsAny(o.StateDir, ",:") {
		return fail(fmt.Errorf("state dir %s: must not contain ',' or ':' (it is written into overlay mount options)", o.StateDir))
	}
	if o.Auth {
		if err := ensureSecretFiles(o.StateDir, SecretPostgres, SecretRedis, SecretES); err != nil {
			return fail(err)
		}
	}
	for _, ov := range eiqOverlays {
		d := overlayDir(o.StateDir, eiqNode, ov.name)
		for _, sub := range []string{"upper", "work"} {
			if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
				return fail(err)
			}
		}
		if err := os.Chmod(filepath.Join(d, "upper"), 0o755); err != nil {
			return fail(err)
		}
	}
	files, err := eiqFiles(o.StateDir, o.Subnet, o.Auth)
	if err != nil {
		return fail(err)
	}
	for _, f := range files {
		if f.Path == eclecticiq.PGDataDir || strings.HasPrefix(f.Path, eclecticiq.PGDataDir+"/") {
			continue // initdb makes it; postgresql.conf comes after, through the node
		}
		if err := writeEIQFile(o.StateDir, f); err != nil {
			return fail(err)
		}
	}
	return nil
}

// writeEIQFile creates f in node1's overlays unless it exists. An
// overlay's own directory, and the directories above it, are the host's.
func writeEIQFile(stateDir string, f eclecticiq.File) error {
	target := f.Path
	if strings.HasPrefix(target, "/lib/") || target == "/lib" {
		target = "/usr" + target
	}
	for _, o := range eiqOverlays {
		if target == o.target || strings.HasPrefix(o.target, target+"/") || target == "/" {
			return nil
		}
	}
	p, err := eiqHostPath(stateDir, f.Path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	uid, gid, err := ownerIDs(f.Owner, f.Group)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	switch {
	case f.Dir:
		if err := os.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	case f.Link != "":
		if err := os.Symlink(f.Link, p); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		return os.Lchown(p, uid, gid)
	default:
		if err := os.WriteFile(p, f.Data, 0o600); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	if err := os.Chown(p, uid, gid); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := os.Chmod(p, f.Mode); err != nil { // after chown, which clears setgid
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

// eiqServicesDir is node1's service-manager directory (under
// STATE/nodes/node1/), mounted at thehive.DefaultServiceDir inside node1 so
// that the lab's systemctl and journalctl shims find the platform's units.
const eiqServicesDir = "services"

// EclecticIQServiceDir returns the host directory of node1's units, their
// state and journals.
func (l *Lab) EclecticIQServiceDir() string {
	return filepath.Join(l.NodeDir(eiqNode), eiqServicesDir)
}

// nodeSystemctl runs the lab's systemctl inside node as root.
func (l *Lab) nodeSystemctl(ctx context.Context, node string, args ...string) (string, error) {
	c := l.NodeCommand(ctx, node, filepath.Join(binTarget, "systemctl"), args...)
	c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	c.Dir = "/"
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// asPostgres runs psql (or another PostgreSQL program) as the postgres OS
// user over the local socket, with stdin.
func (l *Lab) asPostgres(ctx context.Context, stdin, prog string, args ...string) (string, error) {
	p, err := findTool(prog)
	if err != nil {
		return "", err
	}
	argv := asUser("postgres", append([]string{p}, args...)...)
	return l.runNode(ctx, eiqNode, stdin, argv[0], argv[1:]...)
}

// startEclecticIQ brings node1's platform up through its units: the
// service directory with every unit, PostgreSQL (initdb the first time,
// the platform's postgresql.conf, seeding), Redis (the queued work),
// Elasticsearch on node1 under its unit (the stand-in Up started directly
// is handed over), the indices built from PostgreSQL, then the secrets,
// workers and services units.
func (l *Lab) startEclecticIQ(ctx context.Context, logf func(string, ...any)) error {
	n := l.Nodes[0]
	fail := func(err error) error { return fmt.Errorf("%s: eclecticiq: %w", n.Name, err) }
	src := l.EclecticIQServiceDir()
	if err := os.MkdirAll(src, 0o755); err != nil {
		return fail(err)
	}
	// A lab brought up again finds its units' state from before: every
	// process it names is gone.
	if err := thehive.ForgetRuns(src); err != nil {
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
	uo, err := eiqUnitOptions()
	if err != nil {
		return fail(err)
	}
	prog, args, env, err := l.serviceArgs(n, svcES)
	if err != nil {
		return fail(err)
	}
	uo.ESArgv, uo.ESEnv = append([]string{prog}, args...), env
	for _, u := range eclecticiq.Units(uo) {
		if err := thehive.WriteUnit(src, u.Unit); err != nil {
			return fail(err)
		}
	}

	// PostgreSQL.
	t := time.Now()
	pgData, err := eiqHostPath(l.StateDir, eclecticiq.PGDataDir)
	if err != nil {
		return fail(err)
	}
	if _, err := os.Stat(filepath.Join(pgData, "PG_VERSION")); err != nil {
		if _, err := l.asPostgres(ctx, "", "initdb", "-D", eclecticiq.PGDataDir, "-U", "postgres", "-E", "UTF8", "--locale=C",
			"--auth-local=peer", "--auth-host=scram-sha-256", "--no-sync"); err != nil {
			return fail(fmt.Errorf("initdb: %w", err))
		}
		files, err := eiqFiles(l.StateDir, l.Subnet, l.rec.Services.Auth)
		if err != nil {
			return fail(err)
		}
		for _, f := range files {
			if f.Path != eclecticiq.PGDataDir+"/postgresql.conf" {
				continue
			}
			// Through the node: its overlay must see the new content.
			argv := asUser("postgres", "/bin/sh", "-c", `cat >"$0"`, f.Path)
			if _, err := l.runNode(ctx, n.Name, string(f.Data), argv[0], argv[1:]...); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := l.nodeSystemctl(ctx, n.Name, "start", eclecticiq.PGUnit, eclecticiq.UnitRedis); err != nil {
		return fail(err)
	}
	pg := Daemon{Name: DaemonPostgres, Node: n.Name, Unit: eclecticiq.PGUnit, Addr: net.JoinHostPort(n.IP, strconv.Itoa(PostgresPort))}
	rd := Daemon{Name: DaemonRedis, Node: n.Name, Unit: eclecticiq.UnitRedis, Addr: net.JoinHostPort(n.IP, strconv.Itoa(RedisPort))}
	for _, d := range []*Daemon{&pg, &rd} {
		if err := l.waitUnitDaemon(ctx, d); err != nil {
			return fail(err)
		}
	}
	end := time.Now().Add(daemonWait)
	for {
		_, err := l.asPostgres(ctx, "", "psql", "-XAtqc", "select 1")
		if err == nil {
			break
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return fail(fmt.Errorf("postgresql not answering queries: %w", err))
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.mu.Lock()
	l.rec.Daemons = append(l.rec.Daemons, pg, rd)
	serr = l.saveLocked()
	l.mu.Unlock()
	if serr != nil {
		return fail(serr)
	}
	logf("%s: %s and redis answering on %s and %s (units %s, %s; %s)", n.Name, DaemonPostgres, pg.Addr, rd.Addr,
		eclecticiq.PGUnit, eclecticiq.UnitRedis, time.Since(t).Round(time.Millisecond))
	if err := l.seedEclecticIQ(ctx, logf); err != nil {
		return fail(err)
	}

	// Elasticsearch on node1 moves under its unit.
	if n.ESPID > 0 {
		if err := killPIDs([]int{n.ESPID}, killGrace); err != nil {
			return fail(err)
		}
	}
	if _, err := l.nodeSystemctl(ctx, n.Name, "start", eclecticiq.UnitElasticsearch); err != nil {
		return fail(err)
	}
	_, esPID, err := unitStatus(n, src, eclecticiq.UnitElasticsearch)
	if err != nil {
		return fail(err)
	}
	l.mu.Lock()
	l.Nodes[0].ESPID = esPID
	l.rec.PIDs = append(l.rec.PIDs, esPID)
	serr = l.saveLocked()
	node := l.Nodes[0]
	l.mu.Unlock()
	if serr != nil {
		return fail(serr)
	}
	if err := l.waitServices(ctx, []NodeInfo{node}); err != nil {
		return fail(err)
	}

	t = time.Now()
	if _, err := l.nodeSystemctl(ctx, n.Name, "start", eclecticiq.UnitSecretsSetter, eclecticiq.UnitWorkers, eclecticiq.UnitServices); err != nil {
		return fail(err)
	}
	if out, err := l.nodeSystemctl(ctx, n.Name, "is-active", "eclecticiq-*"); err != nil {
		return fail(fmt.Errorf("platform units not all active: %w\n%s", err, out))
	}
	logf("%s: eclecticiq units active (%d workers, services; %s)", n.Name, len(eclecticiq.WorkerGroups), time.Since(t).Round(time.Millisecond))
	return nil
}

// waitUnitDaemon waits until a unit's daemon answers on its address and
// records its main PID.
func (l *Lab) waitUnitDaemon(ctx context.Context, d *Daemon) error {
	dir := l.EclecticIQServiceDir()
	n, _ := l.Node(d.Node)
	_, pid, err := unitStatus(n, dir, d.Unit)
	if err != nil {
		return err
	}
	d.PID = pid
	return waitTCP(ctx, l.rec.OpNetns, []string{d.Addr}, daemonWait, func(string) error {
		if s, _, err := unitStatus(n, dir, d.Unit); err == nil && s.Active != "active" {
			out, _ := l.nodeSystemctl(context.WithoutCancel(ctx), eiqNode, "status", "-n", "5", d.Unit)
			return fmt.Errorf("unit %s is %s:\n%s", d.Unit, s.Active, out)
		}
		return nil
	})
}

// seedEclecticIQ fills, once, the platform's database (about
// Options.Data bytes), its Elasticsearch indices (built from it, as
// `eiq-platform search reindex` would) and the broker's queues.
func (l *Lab) seedEclecticIQ(ctx context.Context, logf func(string, ...any)) error {
	data := l.rec.Services.Data
	out, err := l.asPostgres(ctx, "", "psql", "-XAtqc", "select count(*) from pg_database where datname = '"+eclecticiq.Database+"'")
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) == "0" {
		pw := ""
		if l.rec.Services.Auth {
			if pw, err = l.Secret(SecretPostgres); err != nil {
				return err
			}
		}
		t := time.Now()
		entities := eclecticiq.Entities(data)
		if _, err := l.asPostgres(ctx, eclecticiq.SeedSQL(entities, pw), "psql", "-X", "-q", "-f", "-"); err != nil {
			return fmt.Errorf("seed postgresql: %w", err)
		}
		size, _ := l.asPostgres(ctx, "", "psql", "-XAtqc", "select pg_database_size('"+eclecticiq.Database+"')")
		b, _ := strconv.ParseInt(strings.TrimSpace(size), 10, 64)
		el := time.Since(t)
		logf("%s: seeded database %s: %d entities, %s in %s (%.0f MB/s)", eiqNode, eclecticiq.Database, entities,
			humanBytes(b), el.Round(time.Millisecond), float64(b)/1e6/el.Seconds())
	}
	c, err := elastic.NewCluster(esStateDir(l.StateDir), elastic.Options{})
	if err != nil {
		return fmt.Errorf("seed elasticsearch: %w", err)
	}
	built := 0
	for _, spec := range eclecticiq.PlatformIndices {
		if _, ok, err := c.Index(spec.Name); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		} else if ok {
			continue
		}
		out, err := l.asPostgres(ctx, "", "psql", "-XAtq", "-F", " ", "-d", eclecticiq.Database, "-c", spec.CountSQL())
		if err != nil {
			return fmt.Errorf("seed elasticsearch: count %s: %w", spec.Name, err)
		}
		var docs, bytes int64
		if _, err := fmt.Sscan(out, &docs, &bytes); err != nil {
			return fmt.Errorf("seed elasticsearch: count %s: %q: %w", spec.Name, out, err)
		}
		if err := c.Seed(spec.Name, docs, bytes); err != nil {
			return fmt.Errorf("seed elasticsearch: %w", err)
		}
		built++
	}
	if err := seedESIndices(l.StateDir, eclecticiq.OtherIndices, data/50, 512); err != nil {
		return err
	}
	if built > 0 {
		logf("%s: built %d elasticsearch indices from postgresql", eiqNode, built)
	}
	b, err := l.EclecticIQBroker(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	k, _ := eclecticiq.Binding(eclecticiq.DocumentQueues[0])
	if n, err := b.Client().Exists(ctx, k).Result(); err != nil {
		return fmt.Errorf("seed queues: %w", err)
	} else if n == 0 {
		per := int(min(max(data/(10<<20), 5), 100))
		if err := eclecticiq.SeedQueues(ctx, b, per); err != nil {
			return err
		}
		logf("%s: queued %d tasks on each of %d celery queues and %d items on each pipeline list (redis db %d)", eiqNode, per,
			len(eclecticiq.CeleryQueues()), per, RedisBrokerDB)
	}
	return nil
}

// humanBytes renders a size as "123 MB".
func humanBytes(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// EclecticIQBroker connects, from the op namespace, to the broker
// database of an EclecticIQ lab's Redis (with its password when the lab
// has auth).
func (l *Lab) EclecticIQBroker(ctx context.Context) (*eclecticiq.Broker, error) {
	pw := ""
	if l.rec.Services != nil && l.rec.Services.Auth {
		var err error
		if pw, err = l.Secret(SecretRedis); err != nil {
			return nil, err
		}
	}
	opt := &redis.Options{Addr: net.JoinHostPort(l.Nodes[0].IP, strconv.Itoa(RedisPort)), Password: pw, DB: RedisBrokerDB,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) { return l.OpDial(ctx, network, addr) }}
	return eclecticiq.NewBroker(ctx, opt)
}

// EclecticIQKnob sets a knob file of node1's eclecticiq.KnobDir (a fault
// switch or a pace: eclecticiq.KnobStuckWorkers, KnobStuckQueues,
// KnobTaskTime, KnobRate) to value, one item a line; an empty value
// removes it. The stand-ins read it within a second.
func (l *Lab) EclecticIQKnob(name, value string) error {
	switch name {
	case eclecticiq.KnobStuckWorkers, eclecticiq.KnobStuckQueues, eclecticiq.KnobTaskTime, eclecticiq.KnobRate:
	default:
		return fmt.Errorf("lab %s: unknown eclecticiq knob %q", l.Name, name)
	}
	p := filepath.Join(l.NodeDir(eiqNode), "eiq-knobs", name)
	if value == "" {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lab %s: knob %s: %w", l.Name, name, err)
		}
		return nil
	}
	if err := writeFileAtomic(p, []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("lab %s: knob %s: %w", l.Name, name, err)
	}
	return nil
}

// unitMainPID returns the (host) PID of the main process of a unit of
// node n's service directory (0 when it does not run).
func unitMainPID(stateDir string, n NodeInfo, unit string) int {
	us, pid, err := unitStatus(n, filepath.Join(stateDir, "nodes", n.Name, eiqServicesDir), unit)
	if err != nil || us.Active != "active" {
		return 0
	}
	return pid
}

// daemonPID returns a daemon's current main process (the host's PID): its
// unit's, for a daemon run by a unit; n is the node it runs on.
func daemonPID(stateDir string, n NodeInfo, d Daemon) int {
	if d.Unit != "" {
		return unitMainPID(stateDir, n, d.Unit)
	}
	return d.PID
}

// stopSignal is the signal that stops a daemon cleanly: PostgreSQL's fast
// shutdown leaves no shared memory behind.
func stopSignal(d Daemon) syscall.Signal {
	if d.Name == DaemonPostgres {
		return syscall.SIGINT
	}
	return syscall.SIGTERM
}
