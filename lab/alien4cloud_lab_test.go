package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab/alien4cloud"
	"github.com/hotsnap/hotsnap/lab/thehive"
)

func init() {
	testStandIns["a4c-standin"] = alien4cloud.Main
}

// inNode runs a shell command as root inside node and returns its output.
func inNode(t *testing.T, ctx context.Context, l *Lab, node, script string) string {
	t.Helper()
	out, err := output(t, l.NodeCommand(ctx, node, "/bin/sh", "-c", script))
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", node, script, err, out)
	}
	return out
}

// a4cClient is an HTTP client in the op namespace holding a session.
type a4cClient struct {
	t  *testing.T
	l  *Lab
	hc *http.Client
}

func newA4CClient(t *testing.T, l *Lab) *a4cClient {
	jar, _ := cookiejar.New(nil)
	return &a4cClient{t: t, l: l, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport:     &http.Transport{DialContext: l.OpDial, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *a4cClient) do(method, url, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if strings.Contains(body, "=") && !strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// login logs in as admin with the lab's secret.
func (c *a4cClient) login() {
	c.t.Helper()
	pw, err := c.l.Secret(SecretA4CAdmin)
	if err != nil {
		c.t.Fatal(err)
	}
	st, _ := c.do(http.MethodPost, c.l.Alien4CloudURL()+"/login", "username="+Alien4CloudAdminUser+"&password="+url.QueryEscape(pw))
	if st != http.StatusFound {
		c.t.Fatalf("login: %d", st)
	}
	if st, body := c.do(http.MethodGet, c.l.Alien4CloudURL()+"/rest/latest/auth/status", ""); !strings.Contains(body, `"isLogged":true`) {
		c.t.Fatalf("not logged in: %d %s", st, body)
	}
}

func (c *a4cClient) es(method, path, body string) (int, string) {
	c.t.Helper()
	return c.do(method, "http://"+c.l.Nodes[len(c.l.Nodes)-1].IP+":9200"+path, body)
}

// a4cMainPID is the stand-in's PID on node1 as the host numbers it, 0
// when none runs (the unit's main process is the bash that runs it).
func a4cMainPID(t *testing.T, ctx context.Context, l *Lab) int {
	t.Helper()
	out := inNode(t, ctx, l, "node1", `pgrep -u a4c -f '^/usr/local/bin/a4c-standin '; true`)
	pid, _ := strconv.Atoi(strings.Fields(out + " 0")[0])
	if pid == 0 {
		return 0
	}
	host, err := hostPID(l.Nodes[0].HolderPID, pid)
	if err != nil {
		t.Fatalf("a4c-standin (pid %d on node1): %v", pid, err)
	}
	return host
}

// TestLabAlien4CloudService: `lab up --platform alien4cloud` is an
// Alien4Cloud 3.x node as spray installs it, on Elasticsearch 6.8; the
// service keeps its maintenance state in Elasticsearch, recreates missing
// indices at start and is not healthy while Elasticsearch is down.
func TestLabAlien4CloudService(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o := Options{Name: "hsal0", Subnet: 40, Nodes: 3, Data: 8 << 20, Platform: PlatformAlien4Cloud}
	l, _ := upPlatformLab(t, ctx, o)
	c := newA4CClient(t, l)

	// Elasticsearch 6.8 everywhere, no product header, A4C's indices with
	// spray's shard counts (3 nodes: 3 shards, 1 replica), green.
	hdr := inNode(t, ctx, l, "node2", "curl -sS -D - -o /dev/null 127.0.0.1:9200/")
	if strings.Contains(strings.ToLower(hdr), "x-elastic-product") || !strings.Contains(hdr, "application/json; charset=UTF-8") {
		t.Errorf("6.8 headers:\n%s", hdr)
	}
	st, body := c.es(http.MethodGet, "/_cat/indices?h=index,pri,rep,health", "")
	rows := strings.Split(strings.TrimSpace(body), "\n")
	if st != 200 || len(rows) != len(alien4cloud.Indices) {
		t.Fatalf("_cat/indices: %d, %d rows, want %d\n%s", st, len(rows), len(alien4cloud.Indices), body)
	}
	for _, r := range rows {
		if f := strings.Fields(r); len(f) != 4 || f[1] != "3" || f[2] != "1" || f[3] != "green" {
			t.Errorf("index row %q: want 3 shards, 1 replica, green", r)
		}
	}

	// The unit, its user, working directory and files.
	if out := inNode(t, ctx, l, "node1", "systemctl is-active a4c; systemctl is-enabled a4c"); out != "active\nenabled" {
		t.Errorf("a4c unit: %q", out)
	}
	pid := a4cMainPID(t, ctx, l)
	if pid == 0 {
		t.Fatal("no a4c-standin process running as a4c")
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil || !strings.HasSuffix(cwd, "/a4c/alien4cloud") {
		t.Errorf("working directory: %q %v", cwd, err)
	}
	want := map[string]string{
		alien4cloud.ConfigPath:   "a4c:a4c 644",
		alien4cloud.EnvPath:      "a4c:a4c 444",
		alien4cloud.LauncherPath: "a4c:a4c 755",
		alien4cloud.KeystorePath: "a4c:a4c 600",
		alien4cloud.Log4jPath:    "a4c:a4c 644",
		alien4cloud.UnitPath:     "root:root 444",
		"/opt/a4c":               "a4c:a4c 755",
		Alien4CloudDataDir:       "a4c:a4c 755",
	}
	for p, w := range want {
		if got := inNode(t, ctx, l, "node1", "stat -c '%U:%G %a' "+p); got != w {
			t.Errorf("%s: %s, want %s", p, got, w)
		}
	}
	if out := inNode(t, ctx, l, "node1", "find "+Alien4CloudDataDir+" ! -user a4c | wc -l; ls "+Alien4CloudDataDir+" | tr '\\n' ' '"); out != "0\nartifacts csar git images plugins tmp upload work" {
		t.Errorf("data directory: %q", out)
	}
	if out := inNode(t, ctx, l, "node1", "file -b "+alien4cloud.KeystorePath+" 2>/dev/null || od -An -tx1 -N4 "+alien4cloud.KeystorePath); !strings.Contains(out, "Java KeyStore") && !strings.Contains(out, "fe ed fe ed") {
		t.Errorf("keystore: %q", out)
	}
	for _, n := range l.Nodes {
		if out := inNode(t, ctx, l, n.Name, "grep -E '^(cluster.name|path.repo)' "+alien4cloud.ESConfigPath); out != "cluster.name: escluster\npath.repo: [\"/mnt/backup\"]" {
			t.Errorf("%s elasticsearch.yml: %q", n.Name, out)
		}
	}
	conf := inNode(t, ctx, l, "node1", "cat "+alien4cloud.ConfigPath)
	if cfg, err := config.ReadAlien4CloudConf(alien4cloud.ConfigPath, []byte(conf)); err != nil || cfg.DataDir != Alien4CloudDataDir || cfg.ESClusterName != Alien4CloudESCluster {
		t.Errorf("alien4cloud-config.yml as hotsnap reads it: %+v %v", cfg, err)
	}

	// Maintenance mode: kept in Elasticsearch, and across a restart.
	c.login()
	a4c := l.Alien4CloudURL()
	if st, body := c.do(http.MethodPost, a4c+"/rest/latest/maintenance", ""); st != 201 {
		t.Fatalf("enable maintenance: %d %s", st, body)
	}
	if st, body := c.es(http.MethodGet, "/maintenancemodestate/_doc/mms_id", ""); st != 200 || !strings.Contains(body, `"userTriggered":true`) {
		t.Errorf("state in Elasticsearch: %d %s", st, body)
	}
	inNode(t, ctx, l, "node1", "systemctl restart a4c")
	if err := l.WaitAlien4Cloud(ctx, a4cWait); err != nil {
		t.Fatal(err)
	}
	c.login() // sessions die with the process
	if st, body := c.do(http.MethodGet, a4c+"/rest/latest/maintenance", ""); st != 200 || !strings.Contains(body, `"userTriggered":true`) {
		t.Errorf("maintenance after restart: %d %s", st, body)
	}
	if st, body := c.do(http.MethodDelete, a4c+"/rest/latest/maintenance", ""); st != 200 {
		t.Errorf("disable maintenance: %d %s", st, body)
	}

	// A missing index is recreated at start, empty, with A4C's settings.
	inNode(t, ctx, l, "node1", "systemctl stop a4c")
	if st, body := c.es(http.MethodDelete, "/csar", ""); st != 200 {
		t.Fatalf("delete csar: %d %s", st, body)
	}
	inNode(t, ctx, l, "node1", "systemctl start a4c")
	if err := l.WaitAlien4Cloud(ctx, a4cWait); err != nil {
		t.Fatal(err)
	}
	if st, body := c.es(http.MethodGet, "/_cat/indices/csar?h=docs.count,pri,rep", ""); st != 200 || strings.Join(strings.Fields(body), " ") != "0 3 1" {
		t.Errorf("recreated csar: %d %q", st, body)
	}

	// Elasticsearch down at start: not healthy, the journal says why;
	// healthy once Elasticsearch is back.
	inNode(t, ctx, l, "node1", "systemctl stop a4c")
	n1, _ := l.Node("node1")
	if err := killPIDs([]int{n1.ESPID}, killGrace); err != nil {
		t.Fatal(err)
	}
	inNode(t, ctx, l, "node1", "systemctl start a4c")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(inNode(t, ctx, l, "node1", "journalctl -u a4c --no-pager -n 20"), "NoNodeAvailableException") {
		if time.Now().After(deadline) {
			t.Fatal("no NoNodeAvailableException in the journal while Elasticsearch is down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := l.WaitAlien4Cloud(ctx, time.Second); err == nil {
		t.Error("alien4cloud healthy while its Elasticsearch is down")
	}
	if err := l.StartNode(ctx, "node1"); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitAlien4Cloud(ctx, a4cWait); err != nil {
		t.Fatal(err)
	}

	inv, err := config.Load(l.InventoryPath())
	if err != nil || inv.Elasticsearch.Repository != Alien4CloudESRepository || inv.Alien4Cloud == nil || inv.Alien4Cloud.Config != Alien4CloudConfPath {
		t.Errorf("inventory: %+v %v", inv, err)
	}
	if st, body := c.es(http.MethodGet, "/_snapshot/"+Alien4CloudESRepository, ""); st != 200 || !strings.Contains(body, "/mnt/backup/elasticsearch") {
		t.Errorf("repository: %d %s", st, body)
	}
	pid = a4cMainPID(t, ctx, l)
	downAndCheck(t, ctx, l, o)
	if pidAlive(pid) {
		t.Errorf("a4c-standin %d alive after Down", pid)
	}
}

// TestLabAlien4CloudFaults: the service that will not stop, and the
// maintenance mode that cannot be set.
func TestLabAlien4CloudFaults(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := Options{Name: "hsal1", Subnet: 41, Nodes: 1, Data: 2 << 20, Platform: PlatformAlien4Cloud}
	l, _ := upPlatformLab(t, ctx, o)
	c := newA4CClient(t, l)
	a4c := l.Alien4CloudURL()

	if err := l.SetAlien4CloudFaults(alien4cloud.Faults{MaintenanceFails: true}); err != nil {
		t.Fatal(err)
	}
	c.login()
	st, body := c.do(http.MethodPost, a4c+"/rest/latest/maintenance", "")
	if st != 500 || !strings.Contains(body, "index read-only / allow delete") {
		t.Errorf("maintenance with the fault: %d %s", st, body)
	}
	if st, _ := c.es(http.MethodGet, "/maintenancemodestate/_doc/mms_id", ""); st != 404 {
		t.Errorf("state written despite the fault: %d", st)
	}
	if st, _ := c.do(http.MethodDelete, a4c+"/rest/latest/maintenance", ""); st != 200 {
		t.Errorf("disable after the failed enable: %d", st)
	}

	if err := l.SetAlien4CloudFaults(alien4cloud.Faults{IgnoreSIGTERM: true}); err != nil {
		t.Fatal(err)
	}
	pid := a4cMainPID(t, ctx, l)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // give a SIGTERM the time to be (not) acted on
	if !pidAlive(pid) || l.WaitAlien4Cloud(ctx, 2*time.Second) != nil {
		t.Fatalf("a4c-standin %d stopped on SIGTERM despite the fault", pid)
	}
	// systemctl stop waits TimeoutStopSec (90 s by default; 2 s here),
	// then kills it: the unit fails with result timeout.
	dir := l.TheHiveServiceDir("node1")
	u, err := thehive.ReadUnit(dir, "a4c")
	if err != nil {
		t.Fatal(err)
	}
	u.TimeoutStopSec = 2
	if err := thehive.WriteUnit(dir, u); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	inNode(t, ctx, l, "node1", "systemctl stop a4c")
	if d := time.Since(t0); d < 2*time.Second || pidAlive(pid) {
		t.Errorf("stop took %s; stand-in alive: %v", d, pidAlive(pid))
	}
	out, _ := output(t, l.NodeCommand(ctx, "node1", "systemctl", "status", "a4c"))
	if !strings.Contains(out, "Active: failed (Result: timeout)") {
		t.Errorf("status after a timed-out stop:\n%s", out)
	}
	if err := l.SetAlien4CloudFaults(alien4cloud.Faults{}); err != nil {
		t.Fatal(err)
	}
	inNode(t, ctx, l, "node1", "systemctl start a4c")
	if err := l.WaitAlien4Cloud(ctx, a4cWait); err != nil {
		t.Fatal(err)
	}
	downAndCheck(t, ctx, l, o)
}

// TestLabAlien4CloudEmbedded: with A4CEmbedded, Elasticsearch lives in
// Alien4Cloud's process: no Elasticsearch daemon, a configuration without a
// remote client, and stopping a4c stops Elasticsearch.
func TestLabAlien4CloudEmbedded(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := Options{Name: "hsal2", Subnet: 42, Nodes: 1, Data: 2 << 20, Platform: PlatformAlien4Cloud, A4CEmbedded: true}
	l, _ := upPlatformLab(t, ctx, o)
	c := newA4CClient(t, l)
	if l.Nodes[0].ESPID != 0 {
		t.Errorf("an es-standin runs (pid %d) in embedded mode", l.Nodes[0].ESPID)
	}
	if out := inNode(t, ctx, l, "node1", "grep -E '^  (client|transportClient):' "+alien4cloud.ConfigPath+"; grep -c 'home: "+Alien4CloudDataDir+"/eshome' "+alien4cloud.EmbeddedESConfigPath); out != "client: false\n  transportClient: false\n1" { // output() trims the first line's blanks
		t.Errorf("embedded configuration: %q", out)
	}
	st, body := c.es(http.MethodGet, "/_cat/indices?h=index", "")
	if st != 200 || len(strings.Fields(body)) != len(alien4cloud.Indices) {
		t.Errorf("embedded indices: %d %d", st, len(strings.Fields(body)))
	}
	var info struct {
		Version struct{ Number string } `json:"version"`
	}
	if _, body := c.es(http.MethodGet, "/", ""); json.Unmarshal([]byte(body), &info) != nil || info.Version.Number != "6.8.22" {
		t.Errorf("embedded root: %s", body)
	}
	if _, err := os.Stat(filepath.Join(l.NodeDir("node1"), "alien4cloud", "data", "eshome", "data", "state.json")); err != nil {
		t.Errorf("embedded state not under eshome: %v", err)
	}
	if out := inNode(t, ctx, l, "node1", "ls "+Alien4CloudDataDir+" | tr '\\n' ' '"); out != "artifacts csar eshome git images plugins tmp upload work" {
		t.Errorf("embedded data directory: %q", out)
	}
	if rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir}); err != nil || !rep.Healthy() || !strings.Contains(rep.String(), "embedded") {
		t.Errorf("status of an embedded lab: %v\n%s", err, rep)
	}
	inNode(t, ctx, l, "node1", "systemctl stop a4c")
	if st, _ := c.es(http.MethodGet, "/", ""); st != 0 {
		t.Errorf("Elasticsearch answers %d with Alien4Cloud stopped", st)
	}
	inNode(t, ctx, l, "node1", "systemctl start a4c")
	if err := l.WaitAlien4Cloud(ctx, a4cWait); err != nil {
		t.Fatal(err)
	}
	downAndCheck(t, ctx, l, o)
}
