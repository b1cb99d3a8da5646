package alien4cloud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotsnap/hotsnap/lab/elastic"
)

const usage = `usage:
  a4c-standin [--config config/alien4cloud-config.yml] [--es-config config/elasticsearch.yml] [--faults FILE]
  a4c-standin fault [--faults FILE] [--ignore-sigterm on|off] [--maintenance-fails on|off] [--maintenance-off-hangs on|off]
`

// Main runs the a4c-standin command with args (without the program name)
// and returns its exit code: 0 after a clean stop (143 after SIGTERM, as a
// JVM), 1 on a runtime failure, 2 on a usage error.
func Main(args []string) int {
	return run(context.Background(), args, os.Stdout, os.Stderr)
}

// Run is Main until ctx ends, writing to stdout and stderr: tests of the
// REST clients run the stand-in in-process with it.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "fault":
			return runFault(args[1:], stderr)
		case "-h", "--help", "help":
			fmt.Fprint(stderr, usage)
			return 0
		}
	}
	fs := flag.NewFlagSet("a4c-standin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "config/alien4cloud-config.yml", "")
	esConfig := fs.String("es-config", "config/elasticsearch.yml", "")
	faults := fs.String("faults", DefaultFaultFile(), "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "a4c-standin: bad arguments\n%s", usage)
		return 2
	}
	cfg, err := ReadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "a4c-standin: %v\n", err)
		return 2
	}
	s := &service{cfg: cfg, log: &logger{w: stdout}, faults: *faults, sessions: map[string]string{}, started: time.Now()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sig, stopSignals := s.watchSignals(cancel)
	defer stopSignals()
	code := s.serve(ctx, *esConfig)
	if code == 0 {
		switch sig() {
		case syscall.SIGTERM:
			code = 143
		case syscall.SIGINT:
			code = 130
		}
	}
	return code
}

// logger writes Alien4Cloud's console lines (log4j2 pattern
// "%d{yyyy-MM-dd HH:mm:ss} %-5p [%t] %c{1}:%L - %m%n"), which the service
// manager puts in the journal.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(level, class string, line int, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %-5s [main] %s:%d - %s\n", time.Now().Format("2006-01-02 15:04:05"), level, class, line,
		fmt.Sprintf(format, args...))
}

// service is one running Alien4Cloud.
type service struct {
	cfg     Config
	es      *esClient
	log     *logger
	faults  string
	started time.Time

	mu       sync.Mutex
	maint    *maintenanceState // nil: maintenance mode off
	sessions map[string]string // JSESSIONID -> user
}

// watchSignals cancels ctx on SIGINT, and on SIGTERM unless the fault
// switch says to ignore it; got reports the signal that stopped the
// service, stop ends the watch.
func (s *service) watchSignals(cancel context.CancelFunc) (got func() os.Signal, stop func()) {
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	var mu sync.Mutex
	var last os.Signal
	go func() {
		for sg := range sigc {
			if sg == syscall.SIGTERM {
				if f, err := ReadFaults(s.faults); err == nil && f.IgnoreSIGTERM {
					continue
				}
			}
			mu.Lock()
			last = sg
			mu.Unlock()
			cancel()
		}
	}()
	got = func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
	return got, func() { signal.Stop(sigc); close(sigc) }
}

// serve starts Alien4Cloud as Bootstrap does and serves until ctx ends.
func (s *service) serve(ctx context.Context, esConfig string) int {
	host, _ := os.Hostname()
	wd, _ := os.Getwd()
	s.log.printf("INFO", "Bootstrap", 48, "Starting Bootstrap v3.7.0 on %s with PID %d (%s/alien4cloud-ui-3.7.0.war started by %s in %s)",
		host, os.Getpid(), wd, currentUser(), wd)
	urls := s.cfg.ESURLs()
	if s.cfg.Embedded() {
		stop, u, err := s.startEmbedded(esConfig)
		if err != nil {
			s.log.printf("ERROR", "SpringApplication", 842, "Application startup failed: %v", err)
			return 1
		}
		defer stop()
		urls = []string{u}
	}
	s.es = &esClient{urls: urls, hc: &http.Client{Timeout: 40 * time.Second}}
	if err := s.waitForES(ctx); err != nil {
		return 0
	}
	s.log.printf("INFO", "ElasticSearchClient", 96, "Initialized ElasticSearch client for cluster <%s>", s.cfg.ClusterName)
	if err := s.initIndices(ctx); err != nil {
		s.log.printf("ERROR", "SpringApplication", 842, "Application startup failed: %v", err)
		return 1
	}
	if err := s.makeDirs(); err != nil {
		s.log.printf("ERROR", "SpringApplication", 842, "Application startup failed: %v", err)
		return 1
	}
	if err := s.ensureAdmin(ctx); err != nil {
		s.log.printf("ERROR", "SpringApplication", 842, "Application startup failed: %v", err)
		return 1
	}
	if err := s.loadMaintenance(ctx); err != nil {
		s.log.printf("ERROR", "SpringApplication", 842, "Application startup failed: %v", err)
		return 1
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(s.cfg.Port))
	if err != nil {
		s.log.printf("ERROR", "SpringApplication", 842, "Application startup failed: %v", err)
		return 1
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	s.log.printf("INFO", "JettyEmbeddedServletContainer", 208, "Jetty started on port(s) %d (http/1.1)", s.cfg.Port)
	s.log.printf("INFO", "Bootstrap", 57, "Started Bootstrap in %.3f seconds (JVM running for %.3f)",
		time.Since(s.started).Seconds(), time.Since(s.started).Seconds()+1.2)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx) //nolint:errcheck // best effort on exit
	s.log.printf("INFO", "ElasticSearchClient", 108, "Closed ElasticSearch client for cluster <%s>", s.cfg.ClusterName)
	return 0
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return strconv.Itoa(os.Getuid())
}

// startEmbedded runs the Elasticsearch node Alien4Cloud holds in embedded
// mode, configured by elasticsearch.yml, and returns its stop function and URL.
func (s *service) startEmbedded(esConfig string) (func(), string, error) {
	e, err := ReadEmbeddedES(esConfig)
	if err != nil {
		return nil, "", err
	}
	c, err := elastic.NewCluster(filepath.Join(e.Home, "data"), elastic.Options{ClusterName: e.ClusterName,
		Flavour: elastic.FlavourElasticsearch6, PathRepo: e.PathRepo})
	if err != nil {
		return nil, "", err
	}
	host := e.Host
	if host == "0.0.0.0" {
		host = ""
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(e.Port)))
	if err != nil {
		return nil, "", fmt.Errorf("embedded elasticsearch: %w", err)
	}
	srv := &http.Server{Handler: elastic.NewHandler(c, "alien"), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	s.log.printf("WARN", "ElasticSearchClient", 88, "This embedded mode is not suitable for production (path.home %s)", e.Home)
	return func() { srv.Close() }, "http://127.0.0.1:" + strconv.Itoa(e.Port), nil
}

// waitForES retries until Elasticsearch answers, logging what the
// transport client reports meanwhile; it fails only when ctx ends.
func (s *service) waitForES(ctx context.Context) error {
	last := time.Time{}
	for {
		st, _, err := s.es.do(ctx, http.MethodGet, "/", nil)
		if err == nil && st == http.StatusOK {
			return nil
		}
		if time.Since(last) >= 5*time.Second {
			var nodes []string
			for i, h := range s.cfg.Hosts {
				nodes = append(nodes, fmt.Sprintf("{#transport#-%d}{%s}", i+1, h))
			}
			s.log.printf("WARN", "ESIndexMapper", 260, "NoNodeAvailableException[None of the configured nodes are available: [%s]]",
				strings.Join(nodes, ", "))
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// initIndices creates every missing index as ESIndexMapper.initIndices
// does, then waits (30 s at most) for green.
func (s *service) initIndices(ctx context.Context) error {
	settings := map[string]any{}
	if s.cfg.Shards > 0 {
		settings["index.number_of_shards"] = s.cfg.Shards
	}
	if s.cfg.Replicas >= 0 {
		settings["index.number_of_replicas"] = s.cfg.Replicas
	}
	for _, name := range Indices {
		st, _, err := s.es.do(ctx, http.MethodHead, "/"+name, nil)
		if err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
		s.log.printf("INFO", "ESIndexMapper", 349, "Mapping class <%s> to index <%s>", className(name), name)
		if st == http.StatusOK {
			continue
		}
		body, _ := json.Marshal(map[string]any{"settings": settings, "mappings": map[string]any{docType: map[string]any{
			"properties": map[string]any{"alienScore": map[string]any{"type": "long", "index": "true", "store": "false"}}}}})
		st, raw, err := s.es.do(ctx, http.MethodPut, "/"+name, body)
		if err != nil || st != http.StatusOK {
			s.log.printf("WARN", "ESIndexMapper", 211, "Not able to init indice for index %s, maybe it has been created elsewhere", name)
			s.log.printf("ERROR", "ESIndexMapper", 212, "%s", strings.TrimSpace(string(raw)))
		}
	}
	s.es.do(ctx, http.MethodGet, "/_cluster/health/"+strings.Join(Indices, ",")+"?wait_for_status=green&timeout=30s", nil) //nolint:errcheck // A4C ignores a timed-out wait
	return nil
}

// className is the simple class name an index is named after, for the log.
func className(index string) string { return strings.ToUpper(index[:1]) + index[1:] }

// makeDirs creates the data directory's sub-directories, as the CSAR,
// artifact and image repositories, the git path resolver and the plugin
// manager do at start.
func (s *service) makeDirs() error {
	for _, d := range []string{"csar", "artifacts", "images", "plugins", "git", "upload", "work/plugins/content", "work/plugins/ui"} {
		if err := os.MkdirAll(filepath.Join(s.cfg.DataDir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// user is the part of Alien4Cloud's User document the stand-in uses.
type user struct {
	Username          string   `json:"username"`
	Email             string   `json:"email,omitempty"`
	Roles             []string `json:"roles"`
	Password          string   `json:"password"`
	InternalDirectory bool     `json:"internalDirectory"`
	Enabled           bool     `json:"enabled"`
}

// ensureAdmin creates the configured admin user unless it exists
// (alien_security.admin.ensure).
func (s *service) ensureAdmin(ctx context.Context) error {
	st, _, err := s.es.do(ctx, http.MethodGet, "/"+UserIndex+"/"+docType+"/"+url.PathEscape(s.cfg.AdminUser), nil)
	if err != nil {
		return err
	}
	if st == http.StatusOK || s.cfg.AdminPassword == "" {
		return nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(s.cfg.AdminPassword), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(user{Username: s.cfg.AdminUser, Email: "admin@mycompany.com", Roles: []string{"ADMIN"},
		Password: string(hash), InternalDirectory: true, Enabled: true})
	st, raw, err := s.es.do(ctx, http.MethodPut, "/"+UserIndex+"/"+docType+"/"+url.PathEscape(s.cfg.AdminUser)+"?refresh=true", body)
	if err != nil {
		return err
	}
	if st != http.StatusCreated && st != http.StatusOK {
		return fmt.Errorf("create user %s: HTTP %d: %s", s.cfg.AdminUser, st, raw)
	}
	s.log.printf("INFO", "AdminUserEnsurer", 52, "No admin user found, created default admin user <%s>", s.cfg.AdminUser)
	return nil
}

// maintenanceState is MaintenanceModeState as Jackson writes it.
type maintenanceState struct {
	ID              string           `json:"id"`
	User            string           `json:"user"`
	Log             []maintenanceLog `json:"log"`
	ProgressPercent *int             `json:"progressPercent"`
	UserTriggered   bool             `json:"userTriggered"`
}

type maintenanceLog struct {
	Date    int64  `json:"date"`
	User    string `json:"user"`
	Message string `json:"message"`
}

// loadMaintenance reads the state MaintenanceModeService.init loads.
func (s *service) loadMaintenance(ctx context.Context) error {
	st, raw, err := s.es.do(ctx, http.MethodGet, "/"+MaintenanceIndex+"/"+docType+"/"+MaintenanceID, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return nil
	}
	var doc struct {
		Source maintenanceState `json:"_source"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("read maintenance state: %w", err)
	}
	s.mu.Lock()
	s.maint = &doc.Source
	s.mu.Unlock()
	s.log.printf("INFO", "MaintenanceModeService", 41, "Maintenance mode is enabled")
	return nil
}

// esClient talks HTTP to the first configured node that answers.
type esClient struct {
	urls []string
	hc   *http.Client
}

func (c *esClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var errs []error
	for _, u := range c.urls {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u+path, rd)
		if err != nil {
			return 0, nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp.StatusCode, raw, err
	}
	return 0, nil, errors.Join(errs...)
}

// ---- HTTP ----

// authorizedInMaintenance are the paths MaintenanceFilter lets through.
var authorizedInMaintenance = []string{"/maintenance", "/modules", "/auth", "/admin/health", "/configuration"}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/rest/admin/health":
		// Ignored by Spring Security; the actuator hides details from
		// anonymous callers.
		w.Header().Set("Content-Type", "application/vnd.spring-boot.actuator.v1+json;charset=UTF-8")
		io.WriteString(w, `{"status":"UP"}`)
		return
	case p == "/login" && r.Method == http.MethodPost:
		s.login(w, r)
		return
	case !strings.HasPrefix(p, "/rest/"):
		springError(w, r, http.StatusNotFound)
		return
	}
	who := s.sessionUser(r)
	if strings.HasPrefix(p, "/rest/admin/") && who == "" {
		// FailureAuthenticationEntryPoint: JsonUtil's pretty, non-null JSON.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "{\n  \"error\" : {\n    \"code\" : 100,\n    \"message\" : \"Authentication required for this request : %s\"\n  }\n}\n", r.URL.Path)
		return
	}
	if s.maintenanceOn() && !maintenanceAllowed(p) {
		// MaintenanceFilter writes its JSON without a content type.
		w.Header()["Content-Type"] = nil
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"data":null,"error":{"code":0,"message":"Maintenance mode is enabled."}}`)
		return
	}
	rest := restPath(p)
	switch {
	case rest == "/auth/status" && r.Method == http.MethodGet:
		s.authStatus(w, who)
	case rest == "/auth/authenticationfailed":
		restReply(w, http.StatusUnauthorized, nil, 101, "Authentication failed, check username and password.")
	case rest == "/maintenance":
		s.maintenance(w, r, who)
	case rest == "/applications/search" && r.Method == http.MethodPost:
		s.searchApplications(w, r, who)
	default:
		springError(w, r, http.StatusNotFound)
	}
}

// restPath strips /rest, /rest/v1 or /rest/latest.
func restPath(p string) string {
	for _, pre := range []string{"/rest/latest", "/rest/v1", "/rest"} {
		if rest, ok := strings.CutPrefix(p, pre); ok && strings.HasPrefix(rest, "/") {
			return rest
		}
	}
	return p
}

func maintenanceAllowed(p string) bool {
	for _, a := range authorizedInMaintenance {
		for _, pre := range []string{"/rest", "/rest/v1", "/rest/latest"} {
			if strings.Contains(p, pre+a) {
				return true
			}
		}
	}
	return false
}

func (s *service) maintenanceOn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maint != nil
}

// restError is RestError.
type restError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// restReply writes a RestResponse as A4C's RestMapper does (nulls kept).
func restReply(w http.ResponseWriter, status int, data any, code int, msg string) {
	var body struct {
		Data  any        `json:"data"`
		Error *restError `json:"error"`
	}
	body.Data = data
	if msg != "" || code != 0 {
		body.Error = &restError{Code: code, Message: msg}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

// springError is Spring Boot's BasicErrorController body.
func springError(w http.ResponseWriter, r *http.Request, status int) {
	b, _ := json.Marshal(struct {
		Timestamp int64  `json:"timestamp"`
		Status    int    `json:"status"`
		Error     string `json:"error"`
		Message   string `json:"message"`
		Path      string `json:"path"`
	}{time.Now().UnixMilli(), status, http.StatusText(status), "No message available", r.URL.Path})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

// notLogged answers as RestTechnicalExceptionHandler does for an anonymous
// caller of an @PreAuthorize("isAuthenticated()") method.
func notLogged(w http.ResponseWriter) {
	restReply(w, http.StatusForbidden, nil, 100, "Authentication required for this request : ")
}

const sessionCookie = "JSESSIONID"

func (s *service) sessionUser(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	id, _, _ := strings.Cut(c.Value, ".")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// login is Spring Security's form login: 302 to rest/auth/status with a
// session cookie, or to rest/auth/authenticationfailed.
func (s *service) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	base := "http://" + r.Host
	ok := false
	if name != "" {
		st, raw, err := s.es.do(r.Context(), http.MethodGet, "/"+UserIndex+"/"+docType+"/"+url.PathEscape(name), nil)
		var doc struct {
			Source user `json:"_source"`
		}
		if err == nil && st == http.StatusOK && json.Unmarshal(raw, &doc) == nil && doc.Source.Enabled {
			ok = bcrypt.CompareHashAndPassword([]byte(doc.Source.Password), []byte(pw)) == nil
		}
	}
	if !ok {
		http.Redirect(w, r, base+"/rest/auth/authenticationfailed", http.StatusFound)
		return
	}
	id := newSessionID()
	s.mu.Lock()
	s.sessions[id] = name
	s.mu.Unlock()
	w.Header().Set("Set-Cookie", sessionCookie+"="+id+".node0;Path=/")
	w.Header().Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	http.Redirect(w, r, base+"/rest/auth/status", http.StatusFound)
}

// newSessionID makes a Jetty 9.4-style session id (node0…0).
func newSessionID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail on Linux
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "node0" + string(b) + "0"
}

func (s *service) authStatus(w http.ResponseWriter, who string) {
	type status struct {
		IsLogged       bool     `json:"isLogged"`
		Username       *string  `json:"username"`
		GithubUsername *string  `json:"githubUsername"`
		Groups         []string `json:"groups"`
		Roles          []string `json:"roles"`
		AuthSystem     string   `json:"authSystem"`
	}
	st := status{Roles: []string{}, AuthSystem: "alien"}
	if who != "" {
		st.IsLogged, st.Username, st.Roles = true, &who, []string{"ADMIN"}
	} else {
		anon := "anonymousUser"
		st.Username, st.Roles = &anon, []string{"ROLE_ANONYMOUS"}
	}
	restReply(w, http.StatusOK, st, 0, "")
}

// maintenance is MaintenanceModeController.
func (s *service) maintenance(w http.ResponseWriter, r *http.Request, who string) {
	if who == "" {
		notLogged(w)
		return
	}
	if r.Method == http.MethodDelete && !s.offAnswers(r.Context()) {
		return // the client went away while the DELETE hung
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		var data any
		if s.maint != nil {
			data = s.maint
		}
		restReply(w, http.StatusOK, data, 0, "")
	case http.MethodPost:
		if s.maint != nil {
			restReply(w, http.StatusConflict, nil, 502, "The posted object already exist.")
			return
		}
		one := 1
		s.maint = &maintenanceState{ID: MaintenanceID, User: who, ProgressPercent: &one, UserTriggered: true,
			Log: []maintenanceLog{{Date: time.Now().UnixMilli(), User: who, Message: "Maintenance operation started on alien4cloud."}}}
		s.log.printf("INFO", "MaintenanceModeService", 75, "Maintenance mode is enabled")
		if err := s.saveMaintenance(r.Context()); err != nil {
			s.uncategorized(w, err)
			return
		}
		restReply(w, http.StatusCreated, nil, 0, "")
	case http.MethodPut:
		var dto struct {
			Message            *string `json:"message"`
			ProgressPercentage *int    `json:"progressPercentage"`
		}
		if err := json.NewDecoder(r.Body).Decode(&dto); err != nil {
			restReply(w, http.StatusBadRequest, nil, 501, "Method argument is invalid "+err.Error())
			return
		}
		if s.maint == nil {
			restReply(w, http.StatusNotFound, nil, 504, "Maintenance mode is not enabled.")
			return
		}
		if dto.Message != nil {
			s.maint.Log = append(s.maint.Log, maintenanceLog{Date: time.Now().UnixMilli(), User: who, Message: *dto.Message})
		}
		if dto.ProgressPercentage != nil {
			s.maint.ProgressPercent = dto.ProgressPercentage
		}
		if err := s.saveMaintenance(r.Context()); err != nil {
			s.uncategorized(w, err)
			return
		}
		restReply(w, http.StatusCreated, nil, 0, "")
	case http.MethodDelete:
		if s.maint == nil {
			restReply(w, http.StatusNotFound, nil, 504, "Maintenance mode is not enabled.")
			return
		}
		st, raw, err := s.es.do(r.Context(), http.MethodDelete, "/"+MaintenanceIndex+"/"+docType+"/"+MaintenanceID+"?refresh=true", nil)
		if err == nil && st != http.StatusOK && st != http.StatusNotFound {
			err = fmt.Errorf("HTTP %d: %s", st, raw)
		}
		if err != nil {
			s.uncategorized(w, err)
			return
		}
		s.maint = nil
		s.log.printf("INFO", "MaintenanceModeService", 160, "Maintenance mode is disabled")
		restReply(w, http.StatusOK, nil, 0, "")
	default:
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
		springError(w, r, http.StatusMethodNotAllowed)
	}
}

// offAnswers waits while the fault switch MaintenanceOffHangs is on, and
// says whether the client is still there.
func (s *service) offAnswers(ctx context.Context) bool {
	for {
		if f, err := ReadFaults(s.faults); err != nil || !f.MaintenanceOffHangs {
			return ctx.Err() == nil
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// errIndexBlocked is Elasticsearch's refusal to write into a read-only
// index (the flood-stage disk watermark sets index.blocks.read_only_allow_delete).
var errIndexBlocked = errors.New("blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];")

// saveMaintenance writes the state to Elasticsearch (dao.save); the caller
// holds s.mu. With the fault switch, Elasticsearch refuses the write as a
// read-only index does; the state stays set in memory, as the real
// service assigns it before saving.
func (s *service) saveMaintenance(ctx context.Context) error {
	if f, err := ReadFaults(s.faults); err == nil && f.MaintenanceFails {
		return errIndexBlocked
	}
	body, _ := json.Marshal(s.maint)
	st, raw, err := s.es.do(ctx, http.MethodPut, "/"+MaintenanceIndex+"/"+docType+"/"+MaintenanceID+"?refresh=true", body)
	if err != nil {
		return err
	}
	if st != http.StatusOK && st != http.StatusCreated {
		return fmt.Errorf("HTTP %d: %s", st, raw)
	}
	return nil
}

// uncategorized is the catch-all exception handler: 500, code 500, the
// stack trace as data.
func (s *service) uncategorized(w http.ResponseWriter, err error) {
	s.log.printf("WARN", "RestTechnicalExceptionHandler", 51, "Uncategorized error")
	class := "org.elasticsearch.ElasticsearchException"
	if errors.Is(err, errIndexBlocked) {
		class = "org.elasticsearch.cluster.block.ClusterBlockException"
	}
	trace := class + ": " + err.Error() +
		"\n\tat org.elasticsearch.cluster.block.ClusterBlocks.indexBlockedException(ClusterBlocks.java:183)" +
		"\n\tat alien4cloud.dao.ESGenericSearchDAO.save(ESGenericSearchDAO.java:116)" +
		"\n\tat org.alien4cloud.server.MaintenanceModeService.doEnable(MaintenanceModeService.java:84)\n"
	restReply(w, http.StatusInternalServerError, trace, 500, err.Error())
}

// searchApplications answers the application search spray's
// wait_a4c_fullstart uses, with the number of applications in
// Elasticsearch.
func (s *service) searchApplications(w http.ResponseWriter, r *http.Request, who string) {
	if who == "" {
		notLogged(w)
		return
	}
	st, raw, err := s.es.do(r.Context(), http.MethodGet, "/application/_count", nil)
	var c struct {
		Count int64 `json:"count"`
	}
	if err != nil || st != http.StatusOK || json.Unmarshal(raw, &c) != nil {
		s.uncategorized(w, fmt.Errorf("search applications: HTTP %d %v", st, err))
		return
	}
	restReply(w, http.StatusOK, map[string]any{"types": []string{}, "data": []any{}, "queryDuration": 1,
		"totalResults": c.Count, "from": 0, "to": 0, "facets": map[string]any{}}, 0, "")
}
