package thehive

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/hotsnap/hotsnap/lab/internal/listflag"
)

// Version is the TheHive release the stand-in reports.
const Version = "5.7.3-1"

const daemonUsage = `usage: thehive-standin --listen ADDR[,ADDR] --cql HOST:PORT[,HOST:PORT] --es URL[,URL]
         [--keyspace thehive] [--cql-user U --cql-password-file F]
         [--index thehive_global] [--es-user U --es-password-file F]
         [--log FILE] [--name NODE] [--check-interval 5s] [--startup-timeout 0]
`

// IgnoreSIGTERMFault is the lab's fault switch for a service that ignores
// SIGTERM: while this file exists on a node, its TheHive stand-in goes on
// after SIGTERM (systemctl stop then waits out the unit's TimeoutStopSec
// before its SIGKILL). It lives in the node's own /etc/thehive.
const IgnoreSIGTERMFault = "/etc/thehive/lab-fault-ignore-sigterm"

// NeverReadyFault is the lab's fault switch for a TheHive that never gets
// ready: while this file exists on a node, its stand-in's database check
// fails as JanusGraph's does when its storage backend will not open (it
// retries, logging each attempt, and /api/status answers 503), so a wait
// for its health runs into its deadline.
const NeverReadyFault = "/etc/thehive/lab-fault-never-ready"

// Main runs the TheHive stand-in (thehive-standin) until SIGTERM or SIGINT
// and returns its exit code: 143 after SIGTERM and 130 after SIGINT (as the
// JVM does), 255 when --startup-timeout passes before the keyspace and index
// are found, 2 on usage errors, 1 when it cannot listen or open its log.
func Main(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	var code atomic.Int32
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGTERM {
					if _, err := os.Stat(IgnoreSIGTERMFault); err == nil {
						// The fault switch: a service that ignores SIGTERM
						// (a JVM stuck in a shutdown hook), which systemd
						// kills only at the unit's TimeoutStopSec.
						fmt.Fprintln(os.Stderr, "[warn] SIGTERM ignored (lab fault "+IgnoreSIGTERMFault+")")
						continue
					}
					code.Store(143)
				} else {
					code.Store(130)
				}
				cancel()
			case <-ctx.Done():
			}
			return
		}
	}()
	rc := runDaemon(ctx, args, os.Stdout, os.Stderr)
	if c := code.Load(); c != 0 && rc == 0 {
		return int(c)
	}
	return rc
}

type daemonConfig struct {
	listen         []string
	cqlHosts       []string
	keyspace       string
	cqlUser        string
	cqlPassword    string
	esURLs         []string
	index          string
	esUser         string
	esPassword     string
	logPath        string
	name           string
	checkInterval  time.Duration
	startupTimeout time.Duration
}

func parseDaemonArgs(args []string, stderr io.Writer) (*daemonConfig, error) {
	fs := flag.NewFlagSet("thehive-standin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "", "comma-separated HTTP listen addresses")
	cql := fs.String("cql", "", "comma-separated Cassandra contact points host:port")
	ks := fs.String("keyspace", "thehive", "Cassandra keyspace")
	cqlUser := fs.String("cql-user", "", "Cassandra user")
	cqlPassFile := fs.String("cql-password-file", "", "file holding the Cassandra password")
	es := fs.String("es", "", "comma-separated Elasticsearch URLs")
	index := fs.String("index", "thehive_global", "Elasticsearch index")
	esUser := fs.String("es-user", "", "Elasticsearch user")
	esPassFile := fs.String("es-password-file", "", "file holding the Elasticsearch password")
	logPath := fs.String("log", "", "application.log path")
	name := fs.String("name", "", "node name")
	interval := fs.Duration("check-interval", 5*time.Second, "how often the database and index are checked")
	startup := fs.Duration("startup-timeout", 0, "exit 255 when not ready after this long (0: retry forever)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c := &daemonConfig{listen: listflag.Split(*listen), cqlHosts: listflag.Split(*cql), keyspace: *ks, cqlUser: *cqlUser,
		esURLs: listflag.Split(*es), index: *index, esUser: *esUser, logPath: *logPath, name: *name,
		checkInterval: *interval, startupTimeout: *startup}
	if len(c.listen) == 0 || len(c.cqlHosts) == 0 || len(c.esURLs) == 0 {
		return nil, errors.New("--listen, --cql and --es are required")
	}
	if c.keyspace == "" || c.index == "" {
		return nil, errors.New("--keyspace and --index must not be empty")
	}
	if c.checkInterval <= 0 {
		return nil, fmt.Errorf("--check-interval %s must be positive", c.checkInterval)
	}
	for _, h := range c.cqlHosts {
		if _, _, err := net.SplitHostPort(h); err != nil {
			return nil, fmt.Errorf("--cql %q: %w", h, err)
		}
	}
	for i, u := range c.esURLs {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("--es %q: want an http:// or https:// URL", u)
		}
		c.esURLs[i] = strings.TrimRight(u, "/")
	}
	var err error
	if c.cqlPassword, err = readSecret(*cqlPassFile); err != nil {
		return nil, fmt.Errorf("--cql-password-file: %w", err)
	}
	if c.esPassword, err = readSecret(*esPassFile); err != nil {
		return nil, fmt.Errorf("--es-password-file: %w", err)
	}
	_ = stderr
	return c, nil
}

func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// health is the daemon's latest check result.
type health struct {
	ready  bool
	reason string
}

type daemon struct {
	cfg    *daemonConfig
	log    *appLog
	state  atomic.Pointer[health]
	client *http.Client
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseDaemonArgs(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "thehive-standin: %v\n%s", err, daemonUsage)
		return 2
	}
	d := &daemon{cfg: cfg, client: &http.Client{Timeout: 3 * time.Second}}
	d.log = &appLog{console: stdout, now: time.Now}
	if cfg.logPath != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.logPath), 0o755); err != nil {
			fmt.Fprintf(stderr, "thehive-standin: log directory: %v\n", err)
			return 1
		}
		f, err := os.OpenFile(cfg.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "thehive-standin: open log: %v\n", err)
			return 1
		}
		defer f.Close()
		d.log.file = f
	}
	d.state.Store(&health{reason: "Database is not ready"})
	node := cfg.name
	if node == "" {
		node = hostname()
	}
	d.log.log(levelInfo, "org.thp.scalligraph.ScalligraphApplicationLoader", "main", fmt.Sprintf("Starting TheHive %s on node %s", Version, node))

	var listeners []net.Listener
	for _, a := range cfg.listen {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, x := range listeners {
				x.Close()
			}
			d.log.log(levelError, "play.core.server.AkkaHttpServer", "main", fmt.Sprintf("Failed to bind to %s: java.net.BindException: %v", a, err))
			fmt.Fprintf(stderr, "thehive-standin: listen %s: %v\n", a, err)
			return 1
		}
		listeners = append(listeners, l)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	for _, l := range listeners {
		d.log.log(levelInfo, "play.core.server.AkkaHttpServer", "main", "Listening for HTTP on "+javaAddr(l.Addr()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.Serve(l) //nolint:errcheck // ErrServerClosed on shutdown
		}()
	}
	rc := d.checkLoop(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	srv.Shutdown(sctx) //nolint:errcheck // best effort
	cancel()
	wg.Wait()
	return rc
}

// javaAddr prints an address the way java.net.InetSocketAddress does ("/0:0:0:0:0:0:0:0:9000").
func javaAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "/" + a.String()
	}
	ip := ta.IP.String()
	if ta.IP.IsUnspecified() {
		ip = "0:0:0:0:0:0:0:0"
	}
	return fmt.Sprintf("/%s:%d", ip, ta.Port)
}

// checkLoop re-checks the keyspace and index until ctx ends.
func (d *daemon) checkLoop(ctx context.Context) int {
	start := time.Now()
	everReady, wasReady := false, false
	attempt := 0
	driverLogged := false
	for {
		h, reached := d.check(ctx)
		if ctx.Err() != nil {
			return 0
		}
		if reached && !driverLogged {
			driverLogged = true
			d.log.log(levelInfo, "com.datastax.oss.driver.internal.core.DefaultMavenCoordinates", "main",
				"DataStax Java driver for Apache Cassandra(R) (com.datastax.oss:java-driver-core) version 4.17.0")
			d.log.log(levelInfo, "org.janusgraph.diskstorage.Backend", "main", "Configuring index [search]")
		}
		d.state.Store(h)
		switch {
		case h.ready && !wasReady:
			attempt = 0
			d.log.log(levelInfo, "org.thp.scalligraph.janus.JanusDatabaseProvider", "main",
				fmt.Sprintf("Database and index are ready (keyspace %s, index %s)", d.cfg.keyspace, d.cfg.index))
		case !h.ready && wasReady:
			d.log.log(levelError, "org.thp.scalligraph.janus.JanusDatabase", "application-akka.actor.default-dispatcher-5",
				"Database or index is no longer available: "+h.reason)
		case !h.ready:
			attempt++
			d.log.log(levelWarn, "org.thp.scalligraph.utils.Retry", "main",
				fmt.Sprintf("An error occurs (%s), retrying (%d)", h.reason, attempt))
		}
		wasReady = h.ready
		everReady = everReady || h.ready
		if !everReady && d.cfg.startupTimeout > 0 && time.Since(start) >= d.cfg.startupTimeout {
			d.log.log(levelError, "play.core.server.ProdServerStart", "main", "Oops, cannot start the server.")
			d.log.log(levelError, "play.core.server.ProdServerStart", "main", h.reason)
			return 255
		}
		t := time.NewTimer(d.cfg.checkInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0
		case <-t.C:
		}
	}
}

// check runs one round; reached reports whether Cassandra answered at all.
func (d *daemon) check(ctx context.Context) (h *health, reached bool) {
	if _, err := os.Stat(NeverReadyFault); err == nil {
		return &health{reason: "Database is not ready: Could not open the storage backend (lab fault " + NeverReadyFault + ")"}, true
	}
	if err := d.checkCQL(ctx); err != nil {
		var ce *cqlReachErr
		return &health{reason: err.Error()}, !errors.As(err, &ce)
	}
	if err := d.checkES(ctx); err != nil {
		return &health{reason: err.Error()}, true
	}
	return &health{ready: true}, true
}

// cqlReachErr is a failure to reach any contact point.
type cqlReachErr struct{ msg string }

func (e *cqlReachErr) Error() string { return e.msg }

type nopLogger struct{}

func (nopLogger) Error(string, ...gocql.LogField)   {}
func (nopLogger) Warning(string, ...gocql.LogField) {}
func (nopLogger) Info(string, ...gocql.LogField)    {}
func (nopLogger) Debug(string, ...gocql.LogField)   {}

func (d *daemon) checkCQL(ctx context.Context) error {
	cc := gocql.NewCluster(d.cfg.cqlHosts...)
	cc.ConnectTimeout = 2 * time.Second
	cc.Timeout = 2 * time.Second
	cc.DisableInitialHostLookup = true
	cc.NumConns = 1
	cc.Logger = nopLogger{}
	if d.cfg.cqlUser != "" {
		cc.Authenticator = gocql.PasswordAuthenticator{Username: d.cfg.cqlUser, Password: d.cfg.cqlPassword}
	}
	sess, err := cc.CreateSession()
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "incorrect") || strings.Contains(strings.ToLower(msg), "authenticat") || strings.Contains(msg, "credentials") {
			return fmt.Errorf("com.datastax.oss.driver.api.core.auth.AuthenticationException: Authentication error on node /%s: server replied with 'Provided username %s and/or password are incorrect' to AuthResponse request",
				d.cfg.cqlHosts[0], d.cfg.cqlUser)
		}
		return &cqlReachErr{allNodesFailed(d.cfg.cqlHosts)}
	}
	defer sess.Close()
	iter := sess.Query("SELECT keyspace_name FROM system_schema.keyspaces").IterContext(ctx)
	var name string
	found := false
	for iter.Scan(&name) {
		if name == d.cfg.keyspace {
			found = true
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("com.datastax.oss.driver.api.core.DriverException: query system_schema.keyspaces: %v", err)
	}
	if !found {
		return fmt.Errorf("com.datastax.oss.driver.api.core.servererrors.InvalidQueryException: Keyspace '%s' does not exist", d.cfg.keyspace)
	}
	return nil
}

// allNodesFailed renders the java driver's AllNodesFailedException as TheHive 5 logs it.
func allNodesFailed(hosts []string) string {
	var nodes []string
	for _, h := range hosts {
		f := fnv.New32a()
		f.Write([]byte(h))
		nodes = append(nodes, fmt.Sprintf("Node(endPoint=/%s, hostId=null, hashCode=%x): [com.datastax.oss.driver.api.core.connection.ConnectionInitException: [JanusGraph Session|control|connecting...] Protocol initialization request, step 1 (OPTIONS): failed to send request (io.netty.channel.StacklessClosedChannelException)]", h, f.Sum32()))
	}
	return fmt.Sprintf("com.datastax.oss.driver.api.core.AllNodesFailedException: Could not reach any contact point, make sure you've provided valid addresses (showing first %d nodes, use getAllErrors() for more): %s",
		len(hosts), strings.Join(nodes, ", "))
}

func (d *daemon) checkES(ctx context.Context) error {
	var last error
	for _, base := range d.cfg.esURLs {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, base+"/"+d.cfg.index, nil)
		if err != nil {
			return fmt.Errorf("java.lang.IllegalArgumentException: %v", err)
		}
		if d.cfg.esUser != "" {
			req.SetBasicAuth(d.cfg.esUser, d.cfg.esPassword)
		}
		resp, err := d.client.Do(req)
		if err != nil {
			last = errors.New("java.net.ConnectException: Connection refused")
			continue
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // HEAD has no body
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusNotFound:
			return fmt.Errorf("org.janusgraph.diskstorage.PermanentBackendException: index_not_found_exception: no such index [%s]", d.cfg.index)
		default:
			return fmt.Errorf("org.elasticsearch.client.ResponseException: method [HEAD], host [%s], URI [/%s], status line [HTTP/1.1 %s]",
				base, d.cfg.index, resp.Status)
		}
	}
	return last
}

// statusDoc is GET /api/status in TheHive 5's field order.
type statusDoc struct {
	Versions struct {
		Scalligraph string `json:"Scalligraph"`
		TheHive     string `json:"TheHive"`
		Play        string `json:"Play"`
	} `json:"versions"`
	Config struct {
		ProtectDownloadsWith string   `json:"protectDownloadsWith"`
		AuthType             []string `json:"authType"`
		Capabilities         []string `json:"capabilities"`
		SSOAutoLogin         bool     `json:"ssoAutoLogin"`
		PollingDuration      int      `json:"pollingDuration"`
		FreeTagDefaultColour string   `json:"freeTagDefaultColour"`
	} `json:"config"`
}

// StatusJSON is the stand-in's GET /api/status body when healthy, compact
// like the TheHive 5.1.4 sample.
func StatusJSON() []byte {
	var s statusDoc
	s.Versions.Scalligraph, s.Versions.TheHive, s.Versions.Play = Version, Version, "2.8.x"
	s.Config.ProtectDownloadsWith = "malware"
	s.Config.AuthType = []string{"session", "local", "key"}
	s.Config.Capabilities = []string{"changePassword", "setPassword", "authByKey", "mfa"}
	s.Config.PollingDuration = 1000
	s.Config.FreeTagDefaultColour = "#000000"
	b, _ := json.Marshal(s) // a fixed struct always marshals
	return b
}

func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/status", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "BadRequest", "Method not allowed: "+r.Method)
			return
		}
		h := d.state.Load()
		if !h.ready {
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", h.reason)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(StatusJSON()) //nolint:errcheck // client may be gone
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("No action for %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"type": typ, "message": msg}) // strings always marshal
	w.Write(b)                                                           //nolint:errcheck // client may be gone
}
