package alien4cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab/elastic"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// bed is an Elasticsearch 6.8 stand-in and an Alien4Cloud configuration
// pointing at it.
type bed struct {
	t      *testing.T
	es     *elastic.Cluster
	esURL  string
	dir    string
	config string
	faults string
	port   int
	log    *syncBuffer
}

func newBed(t *testing.T) *bed {
	t.Helper()
	c, err := elastic.NewCluster(t.TempDir(), elastic.Options{ClusterName: "escluster", Flavour: elastic.FlavourElasticsearch6})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(elastic.NewHandler(c, "node1"))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	_, esPort, _ := net.SplitHostPort(u.Host)
	n, _ := strconv.Atoi(esPort)
	b := &bed{t: t, es: c, esURL: srv.URL, dir: t.TempDir(), port: freePort(t), log: &syncBuffer{}}
	b.faults = filepath.Join(b.dir, FaultFileName)
	b.writeConfig("127.0.0.1:" + strconv.Itoa(n+100))
	return b
}

// writeConfig writes alien4cloud-config.yml with one transport host.
func (b *bed) writeConfig(host string) {
	b.t.Helper()
	text := strings.Replace(ConfigYAML(ConfigOptions{DataDir: filepath.Join(b.dir, "data"), Hosts: []string{host},
		Shards: 1, Replicas: 0, AdminPassword: "s3cret"}), "port: 8088", "port: "+strconv.Itoa(b.port), 1)
	b.config = filepath.Join(b.dir, "alien4cloud-config.yml")
	if err := os.WriteFile(b.config, []byte(text), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// start runs the stand-in until the test ends (or stop is called) and
// waits for its health when wait is set.
func (b *bed) start(wait bool) (stop func() int) {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", b.config, "--faults", b.faults}, b.log, b.log) }()
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	b.t.Cleanup(func() { stop() })
	if wait {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if st, _ := b.get(nil, "/rest/admin/health"); st == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				b.t.Fatalf("not healthy after 10s; log:\n%s", b.log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return stop
}

func (b *bed) url(p string) string { return "http://127.0.0.1:" + strconv.Itoa(b.port) + p }

func (b *bed) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (b *bed) do(c *http.Client, method, p, form string) (int, string, http.Header) {
	b.t.Helper()
	if c == nil {
		c = b.client()
	}
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, b.url(p), body)
	if err != nil {
		b.t.Fatal(err)
	}
	if strings.HasPrefix(form, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

func (b *bed) get(c *http.Client, p string) (int, string) {
	st, body, _ := b.do(c, http.MethodGet, p, "")
	return st, body
}

// login returns a client holding admin's session.
func (b *bed) login(pw string) (*http.Client, int, string) {
	b.t.Helper()
	c := b.client()
	st, _, h := b.do(c, http.MethodPost, "/login", "username=admin&password="+url.QueryEscape(pw)+"&submit=Login")
	return c, st, h.Get("Location")
}

func (b *bed) esDoc(index, id string) (int, map[string]any) {
	b.t.Helper()
	resp, err := http.Get(b.esURL + "/" + index + "/_doc/" + id)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v) //nolint:errcheck // checked by the caller
	return resp.StatusCode, v
}

func TestStartCreatesIndicesAndAdmin(t *testing.T) {
	b := newBed(t)
	if err := b.es.Seed("csar", 10, 1<<10); err != nil {
		t.Fatal(err)
	}
	b.start(true)
	for _, ix := range Indices {
		if _, ok, err := b.es.Index(ix); err != nil || !ok {
			t.Errorf("index %s not created: %v", ix, err)
		}
	}
	if info, _, _ := b.es.Index("csar"); info.Docs != 10 {
		t.Errorf("existing index csar was recreated: %+v", info)
	}
	st, doc := b.esDoc(UserIndex, "admin")
	if st != http.StatusOK || !strings.HasPrefix(doc["_source"].(map[string]any)["password"].(string), "$2a$") {
		t.Errorf("admin user: %d %v", st, doc)
	}
	for _, d := range []string{"csar", "artifacts", "images", "plugins", "git", "work/plugins/content", "upload"} {
		if fi, err := os.Stat(filepath.Join(b.dir, "data", d)); err != nil || !fi.IsDir() {
			t.Errorf("data dir %s: %v", d, err)
		}
	}
	// Health: Spring Boot's actuator, no login needed.
	st, body, h := b.do(nil, http.MethodGet, "/rest/admin/health", "")
	if st != 200 || body != `{"status":"UP"}` || h.Get("Content-Type") != "application/vnd.spring-boot.actuator.v1+json;charset=UTF-8" {
		t.Errorf("health: %d %q %v", st, body, h)
	}
	// Login: a wrong password is redirected to authenticationfailed.
	if _, st, loc := b.login("wrong"); st != http.StatusFound || !strings.HasSuffix(loc, "/rest/auth/authenticationfailed") {
		t.Errorf("bad login: %d %q", st, loc)
	}
	if st, body := b.get(nil, "/rest/auth/authenticationfailed"); st != 401 || body != `{"data":null,"error":{"code":101,"message":"Authentication failed, check username and password."}}` {
		t.Errorf("authenticationfailed: %d %s", st, body)
	}
	c, st, loc := b.login("s3cret")
	if st != http.StatusFound || !strings.HasSuffix(loc, "/rest/auth/status") {
		t.Fatalf("login: %d %q\n%s", st, loc, b.log.String())
	}
	if st, body := b.get(c, "/rest/latest/auth/status"); st != 200 || !strings.Contains(body, `"isLogged":true,"username":"admin"`) {
		t.Errorf("auth status: %d %s", st, body)
	}
	if !strings.Contains(b.log.String(), "Started Bootstrap in") || !strings.Contains(b.log.String(), "Mapping class <Maintenancemodestate> to index <maintenancemodestate>") {
		t.Errorf("log:\n%s", b.log.String())
	}
}

func TestMaintenanceMode(t *testing.T) {
	b := newBed(t)
	stop := b.start(true)
	// Anonymous: the method's @PreAuthorize answers 403, code 100.
	if st, body := b.get(nil, "/rest/latest/maintenance"); st != 403 || body != `{"data":null,"error":{"code":100,"message":"Authentication required for this request : "}}` {
		t.Errorf("anonymous GET: %d %s", st, body)
	}
	c, _, _ := b.login("s3cret")
	if st, body := b.get(c, "/rest/latest/maintenance"); st != 200 || body != `{"data":null,"error":null}` {
		t.Errorf("GET when off: %d %s", st, body)
	}
	if st, body, _ := b.do(c, http.MethodDelete, "/rest/latest/maintenance", ""); st != 404 || body != `{"data":null,"error":{"code":504,"message":"Maintenance mode is not enabled."}}` {
		t.Errorf("DELETE when off: %d %s", st, body)
	}
	if st, body, _ := b.do(c, http.MethodPost, "/rest/latest/maintenance", ""); st != 201 || body != `{"data":null,"error":null}` {
		t.Fatalf("POST: %d %s", st, body)
	}
	if st, body, _ := b.do(c, http.MethodPost, "/rest/maintenance", ""); st != 409 || body != `{"data":null,"error":{"code":502,"message":"The posted object already exist."}}` {
		t.Errorf("second POST: %d %s", st, body)
	}
	st, body := b.get(c, "/rest/v1/maintenance")
	if st != 200 || !strings.Contains(body, `"id":"mms_id","user":"admin","log":[{"date":`) || !strings.Contains(body, `"progressPercent":1,"userTriggered":true}`) {
		t.Errorf("GET when on: %d %s", st, body)
	}
	if st, doc := b.esDoc(MaintenanceIndex, MaintenanceID); st != 200 || doc["_source"].(map[string]any)["userTriggered"] != true {
		t.Errorf("state in Elasticsearch: %d %v", st, doc)
	}
	// Everything else under /rest is refused; health and auth still answer.
	if st, body, h := b.do(c, http.MethodPost, "/rest/latest/applications/search", `{"from":0,"size":1}`); st != 503 ||
		body != `{"data":null,"error":{"code":0,"message":"Maintenance mode is enabled."}}` || h.Get("Content-Type") != "" {
		t.Errorf("search during maintenance: %d %s %v", st, body, h)
	}
	if st, _ := b.get(nil, "/rest/admin/health"); st != 200 {
		t.Errorf("health during maintenance: %d", st)
	}
	if st, _, _ := b.do(c, http.MethodPut, "/rest/latest/maintenance", `{"message":"backup","progressPercentage":50}`); st != 201 {
		t.Errorf("PUT: %d", st)
	}
	// The state survives a restart: it is read from Elasticsearch.
	if code := stop(); code != 0 {
		t.Errorf("stop: exit %d", code)
	}
	b.start(true)
	c, _, _ = b.login("s3cret")
	if st, body := b.get(c, "/rest/latest/maintenance"); st != 200 || !strings.Contains(body, `"message":"backup"`) || !strings.Contains(body, `"progressPercent":50`) {
		t.Errorf("GET after restart: %d %s", st, body)
	}
	if !strings.Contains(b.log.String(), "MaintenanceModeService:41 - Maintenance mode is enabled") {
		t.Errorf("log lacks the restored state:\n%s", b.log.String())
	}
	if st, body, _ := b.do(c, http.MethodDelete, "/rest/latest/maintenance", ""); st != 200 || body != `{"data":null,"error":null}` {
		t.Errorf("DELETE: %d %s", st, body)
	}
	if st, _ := b.esDoc(MaintenanceIndex, MaintenanceID); st != 404 {
		t.Errorf("state still in Elasticsearch after DELETE: %d", st)
	}
	if st, body, _ := b.do(c, http.MethodPost, "/rest/latest/applications/search", `{"from":0,"size":1}`); st != 200 || !strings.Contains(body, `"totalResults":0`) {
		t.Errorf("search after maintenance: %d %s", st, body)
	}
}

func TestMaintenanceCannotBeSet(t *testing.T) {
	b := newBed(t)
	b.start(true)
	if err := WriteFaults(b.faults, Faults{MaintenanceFails: true}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := b.login("s3cret")
	st, body, _ := b.do(c, http.MethodPost, "/rest/latest/maintenance", "")
	if st != 500 || !strings.Contains(body, `"error":{"code":500,"message":"blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];"}`) {
		t.Errorf("POST with the fault: %d %s", st, body)
	}
	if st, _ := b.esDoc(MaintenanceIndex, MaintenanceID); st != 404 {
		t.Errorf("state written despite the fault: %d", st)
	}
	// As the real service, the mode is on in memory; DELETE clears it.
	if st, _ := b.get(c, "/rest/latest/maintenance"); st != 200 {
		t.Errorf("GET: %d", st)
	}
	if st, _, _ := b.do(c, http.MethodDelete, "/rest/latest/maintenance", ""); st != 200 {
		t.Errorf("DELETE: %d", st)
	}
}

func TestMaintenanceWriteHangs(t *testing.T) {
	b := newBed(t)
	b.start(true)
	c, _, _ := b.login("s3cret")
	if st, _, _ := b.do(c, http.MethodPost, "/rest/latest/maintenance", ""); st != 201 {
		t.Fatalf("POST: %d", st)
	}
	if err := WriteFaults(b.faults, Faults{MaintenanceOffHangs: true}); err != nil {
		t.Fatal(err)
	}
	// A client that gives up while the DELETE hangs changes nothing.
	req, _ := http.NewRequest(http.MethodDelete, b.url("/rest/latest/maintenance"), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if resp, err := c.Do(req.WithContext(ctx)); err == nil {
		resp.Body.Close()
		t.Fatalf("DELETE answered %d with the switch on", resp.StatusCode)
	}
	if st, body := b.get(c, "/rest/latest/maintenance"); st != 200 || !strings.Contains(body, `"data":{`) {
		t.Errorf("GET after the abandoned DELETE: %d %s; want the mode still on", st, body)
	}
	// One that waits is answered once the switch is off.
	done := make(chan int, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case st := <-done:
		t.Fatalf("DELETE answered %d with the switch on", st)
	case <-time.After(200 * time.Millisecond):
	}
	if err := WriteFaults(b.faults, Faults{}); err != nil {
		t.Fatal(err)
	}
	if st := <-done; st != 200 {
		t.Errorf("DELETE once the switch is off: %d", st)
	}
}

func TestStartWaitsForElasticsearch(t *testing.T) {
	b := newBed(t)
	closed := freePort(t)
	b.writeConfig("127.0.0.1:" + strconv.Itoa(closed+100))
	stop := b.start(false)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(b.log.String(), "NoNodeAvailableException[None of the configured nodes are available: [{#transport#-1}{127.0.0.1:") {
		if time.Now().After(deadline) {
			t.Fatalf("no NoNodeAvailableException logged:\n%s", b.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := b.get(nil, "/rest/admin/health"); st != 0 {
		t.Errorf("health answered %d while Elasticsearch is down", st)
	}
	stop()
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yml")
	os.WriteFile(p, []byte(ConfigYAML(ConfigOptions{DataDir: "/opt/alien4cloud/data", Hosts: []string{"localhost:9300", "10.0.0.2:9300"},
		Shards: 3, Replicas: 1, AdminPassword: "pw"})), 0o644)
	c, err := ReadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8088 || c.DataDir != "/opt/alien4cloud/data" || c.Embedded() || c.Shards != 3 || c.Replicas != 1 ||
		c.AdminUser != "admin" || c.AdminPassword != "pw" || strings.Join(c.ESURLs(), " ") != "http://localhost:9200 http://10.0.0.2:9200" {
		t.Errorf("config: %+v %v", c, c.ESURLs())
	}
	os.WriteFile(p, []byte(ConfigYAML(ConfigOptions{DataDir: "/d", Hosts: []string{"localhost"}, Embedded: true})), 0o644)
	if c, err := ReadConfig(p); err != nil || !c.Embedded() {
		t.Errorf("embedded: %+v %v", c, err)
	}
	os.WriteFile(p, []byte("server:\n  port: x\n"), 0o644)
	if _, err := ReadConfig(p); err == nil || !strings.Contains(err.Error(), "server.port") || !strings.Contains(err.Error(), "directories.alien is not set") {
		t.Errorf("bad config: %v", err)
	}
	es := filepath.Join(dir, "es.yml")
	os.WriteFile(es, []byte(EmbeddedESYAML("/opt/alien4cloud/data/eshome", []string{"/mnt/backup"})), 0o644)
	if e, err := ReadEmbeddedES(es); err != nil || e.Home != "/opt/alien4cloud/data/eshome" || e.Port != 9200 || e.ClusterName != "escluster" ||
		len(e.PathRepo) != 1 || e.PathRepo[0] != "/mnt/backup" || e.Host != "0.0.0.0" {
		t.Errorf("embedded es: %+v %v", e, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// httpGet returns the status and body of a GET (status 0 when nothing
// answers).
func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
