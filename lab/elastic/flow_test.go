package elastic

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func repoBytes(t *testing.T, dir string) (total int64, names []string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			total += info.Size()
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, names
}

func TestFullBackupRestoreFlow(t *testing.T) {
	l := newLab(t, nil)
	const size = 3 << 20
	if err := l.c.Seed("thehive_global", 500, size); err != nil {
		t.Fatal(err)
	}
	l.registerRepo()

	r := l.must(200, "PUT", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s",
		`{"indices":"thehive_global", "ignore_unavailable":true, "include_global_state":false}`)
	if r.raw != `{"accepted":true}` {
		t.Fatalf("accepted body = %s", r.raw)
	}
	st := l.must(200, "GET", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s/_status", "")
	if got := get(st.body, "snapshots.0.state"); got != "STARTED" {
		t.Fatalf("_status state = %v, want STARTED", got)
	}
	l.clock.Advance(time.Second)
	st = l.must(200, "GET", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s/_status", "")
	proc := get(st.body, "snapshots.0.stats.processed.size_in_bytes").(float64)
	inc := get(st.body, "snapshots.0.stats.incremental.size_in_bytes").(float64)
	if proc <= 0 || proc >= inc {
		t.Fatalf("after 1s processed=%v incremental=%v, want 0 < processed < incremental", proc, inc)
	}
	state, polls := l.pollSnapshot("elasticsearch_20260824_10h00m00s", 500*time.Millisecond, 40)
	if state != "SUCCESS" {
		t.Fatalf("snapshot state %s", state)
	}
	// 3 MiB at 1 MiB/s: about 2 more seconds after the first one.
	if polls < 3 || polls > 6 {
		t.Fatalf("snapshot finished after %d polls of 500ms, want about 4 (time must grow with size)", polls)
	}
	total, names := repoBytes(t, l.repo)
	if total < size {
		t.Fatalf("repository holds %d bytes, want >= %d", total, size)
	}
	for _, want := range []string{"index-0", "index.latest"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Fatalf("repository lacks %s: %v", want, names)
		}
	}
	for _, pre := range []string{"snap-", "meta-", "indices/"} {
		found := false
		for _, n := range names {
			found = found || strings.HasPrefix(n, pre)
		}
		if !found {
			t.Fatalf("repository has no %s* file: %v", pre, names)
		}
	}

	// Restore over the open index is refused.
	r = l.must(500, "POST", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s/_restore", "")
	if get(r.body, "error.type") != "snapshot_restore_exception" ||
		!strings.Contains(get(r.body, "error.reason").(string), "because an open index with same name already exists") {
		t.Fatalf("restore over open index: %s", r.raw)
	}
	l.must(200, "POST", "/thehive_global/_close", "")
	r = l.must(400, "GET", "/thehive_global/_count", "")
	if get(r.body, "error.type") != "index_closed_exception" {
		t.Fatalf("count on closed index: %s", r.raw)
	}
	r = l.must(200, "POST", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s/_restore?wait_for_completion=false", "")
	if r.raw != `{"accepted":true}` {
		t.Fatalf("restore accepted body = %s", r.raw)
	}
	stages := []string{}
	for i := 0; i < 40; i++ {
		rec := l.must(200, "GET", "/thehive_global/_recovery", "")
		if get(rec.body, "thehive_global.shards.0.type") != "SNAPSHOT" {
			t.Fatalf("recovery type: %s", rec.raw)
		}
		stage := get(rec.body, "thehive_global.shards.0.stage").(string)
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
		if stage == "INDEX" {
			pct := get(rec.body, "thehive_global.shards.0.index.size.percent").(string)
			if pct == "100.0%" {
				t.Fatalf("INDEX stage at 100%%")
			}
			h := l.must(200, "GET", "/_cluster/health", "")
			if get(h.body, "status") != "yellow" || get(h.body, "initializing_shards").(float64) != 1 {
				t.Fatalf("health during restore: %s", h.raw)
			}
			if c := l.do("GET", "/thehive_global/_count", ""); c.status != 503 {
				t.Fatalf("count during restore: %d %s", c.status, c.raw)
			}
		}
		if stage == "DONE" {
			break
		}
		l.clock.Advance(300 * time.Millisecond)
	}
	if strings.Join(stages, ">") != "INIT>INDEX>DONE" {
		t.Fatalf("recovery stages %v, want INIT>INDEX>DONE", stages)
	}
	c := l.must(200, "GET", "/thehive_global/_count", "")
	if get(c.body, "count").(float64) != 500 {
		t.Fatalf("count after restore: %s", c.raw)
	}
	h := l.must(200, "GET", "/_cluster/health?wait_for_status=green&timeout=5s", "")
	if get(h.body, "status") != "green" {
		t.Fatalf("health after restore: %s", h.raw)
	}
	cat := l.must(200, "GET", "/_cat/recovery?v&h=i,ty,st,rep,snap,bp", "")
	if !strings.Contains(cat.raw, "thehive_global snapshot done thehive_repository elasticsearch_20260824_10h00m00s 100.0%") {
		t.Fatalf("_cat/recovery:\n%s", cat.raw)
	}

	// A second snapshot after new data only uploads the new segment.
	if err := l.c.Seed("thehive_global", 100, 64<<10); err != nil {
		t.Fatal(err)
	}
	r = l.must(200, "PUT", "/_snapshot/thehive_repository/second?wait_for_completion=true", `{"indices":["thehive_global"]}`)
	if get(r.body, "snapshot.state") != "SUCCESS" {
		t.Fatalf("second snapshot: %s", r.raw)
	}
	st = l.must(200, "GET", "/_snapshot/thehive_repository/second/_status", "")
	inc = get(st.body, "snapshots.0.stats.incremental.size_in_bytes").(float64)
	tot := get(st.body, "snapshots.0.stats.total.size_in_bytes").(float64)
	if inc >= tot/2 || inc < 64<<10 {
		t.Fatalf("second snapshot incremental=%v total=%v: not incremental", inc, tot)
	}
	// Deleting the first snapshot keeps the blobs the second one needs.
	l.must(200, "DELETE", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s", "")
	l.must(404, "GET", "/_snapshot/thehive_repository/elasticsearch_20260824_10h00m00s", "")
	l.must(200, "DELETE", "/thehive_global", "")
	r = l.must(200, "POST", "/_snapshot/thehive_repository/second/_restore?wait_for_completion=true", "")
	if get(r.body, "snapshot.shards.failed").(float64) != 0 {
		t.Fatalf("restore of second: %s", r.raw)
	}
	c = l.must(200, "GET", "/thehive_global/_count", "")
	if get(c.body, "count").(float64) != 600 {
		t.Fatalf("count after second restore: %s", c.raw)
	}
}

func TestRestoreReadsRepositoryFiles(t *testing.T) {
	l := newLab(t, nil)
	if err := l.c.Seed("thehive_global", 10, 200<<10); err != nil {
		t.Fatal(err)
	}
	l.registerRepo()
	l.must(200, "PUT", "/_snapshot/thehive_repository/s1?wait_for_completion=true", "")
	// Damage one data blob: the restore is accepted but recovery fails.
	_, names := repoBytes(t, l.repo)
	var blob string
	for _, n := range names {
		if strings.Contains(n, "/__") {
			blob = filepath.Join(l.repo, n)
			break
		}
	}
	if err := os.WriteFile(blob, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.must(200, "DELETE", "/thehive_global", "")
	r := l.must(200, "POST", "/_snapshot/thehive_repository/s1/_restore?wait_for_completion=true", "")
	if get(r.body, "snapshot.shards.failed").(float64) != 1 {
		t.Fatalf("restore from damaged repo: %s", r.raw)
	}
	h := l.must(200, "GET", "/_cluster/health", "")
	if get(h.body, "status") != "red" {
		t.Fatalf("health after failed restore: %s", h.raw)
	}
	// Removing the repository's files removes its snapshots.
	if err := os.RemoveAll(l.repo); err != nil {
		t.Fatal(err)
	}
	r = l.must(404, "POST", "/_snapshot/thehive_repository/s1/_restore", "")
	if get(r.body, "error.type") != "snapshot_missing_exception" || get(r.body, "error.reason") != "[thehive_repository:s1] is missing" {
		t.Fatalf("restore after repo removal: %s", r.raw)
	}
}

func TestErrorFlows(t *testing.T) {
	l := newLab(t, nil)
	if err := l.c.Seed("thehive_global", 5, 10<<10); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		typ, reason              string
	}{
		{"repo outside path.repo", "PUT", "/_snapshot/r1", `{"type":"fs","settings":{"location":"/tmp/elsewhere"}}`, 500,
			"repository_exception", "[r1] failed to create repository"},
		{"repo missing location", "PUT", "/_snapshot/r1", `{"type":"fs","settings":{"locaton":"x"}}`, 500,
			"repository_exception", "[r1] failed to create repository"},
		{"repo missing", "GET", "/_snapshot/nope", "", 404, "repository_missing_exception", "[nope] missing"},
		{"index missing", "GET", "/nope/_count", "", 404, "index_not_found_exception", "no such index [nope]"},
		{"uppercase index", "PUT", "/Bad", "", 400, "invalid_index_name_exception", "Invalid index name [Bad], must be lowercase"},
		{"wildcard delete", "DELETE", "/thehive*", "", 400, "illegal_argument_exception", "Wildcard expressions or all indices are not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := l.do(tc.method, tc.path, tc.body)
			if r.status != tc.status || get(r.body, "error.type") != tc.typ || get(r.body, "error.reason") != tc.reason {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if get(r.body, "status").(float64) != float64(tc.status) {
				t.Fatalf("body status mismatch: %s", r.raw)
			}
		})
	}
	r := l.do("PUT", "/_snapshot/r1", `{"type":"fs","settings":{"location":"/tmp/elsewhere"}}`)
	if want := "[r1] location [/tmp/elsewhere] doesn't match any of the locations specified by path.repo"; get(r.body, "error.caused_by.reason") != want ||
		get(r.body, "error.root_cause.0.reason") != want {
		t.Fatalf("location mismatch cause: %s", r.raw)
	}

	empty := newLab(t, func(o *Options) { o.PathRepo = nil })
	r = empty.must(500, "PUT", "/_snapshot/r1", `{"type":"fs","settings":{"location":"/mnt/backup"}}`)
	if !strings.HasSuffix(get(r.body, "error.caused_by.reason").(string), "specified by path.repo because this setting is empty") {
		t.Fatalf("empty path.repo: %s", r.raw)
	}

	l.registerRepo()
	r = l.must(404, "GET", "/_snapshot/thehive_repository/missing", "")
	if get(r.body, "error.reason") != "[thehive_repository:missing] is missing" {
		t.Fatalf("missing snapshot: %s", r.raw)
	}
	for name, why := range map[string]string{"Upper": "must be lowercase", "_x": "must not start with '_'", "a%23b": "must not contain '#'", "a*b": "must not contain the following characters"} {
		r = l.must(400, "PUT", "/_snapshot/thehive_repository/"+name, "")
		if get(r.body, "error.type") != "invalid_snapshot_name_exception" || !strings.Contains(get(r.body, "error.reason").(string), why) {
			t.Fatalf("snapshot name %q: %s", name, r.raw)
		}
	}
	l.must(200, "PUT", "/_snapshot/thehive_repository/dup?wait_for_completion=true", "")
	r = l.must(400, "PUT", "/_snapshot/thehive_repository/dup", "")
	if get(r.body, "error.reason") != "[thehive_repository:dup] Invalid snapshot name [dup], snapshot with the same name already exists" {
		t.Fatalf("duplicate: %s", r.raw)
	}

	// FAILED snapshot: reported with HTTP 200, refused by restore.
	if err := l.c.FailNextSnapshot("FAILED", "IndexShardSnapshotFailedException[disk full]"); err != nil {
		t.Fatal(err)
	}
	r = l.must(200, "PUT", "/_snapshot/thehive_repository/bad?wait_for_completion=true", "")
	if get(r.body, "snapshot.state") != "FAILED" || get(r.body, "snapshot.reason") != "IndexShardSnapshotFailedException[disk full]" ||
		get(r.body, "snapshot.shards.failed").(float64) != 1 || get(r.body, "snapshot.failures.0.index") != "thehive_global" {
		t.Fatalf("failed snapshot: %s", r.raw)
	}
	l.must(200, "POST", "/thehive_global/_close", "")
	r = l.must(500, "POST", "/_snapshot/thehive_repository/bad/_restore", "")
	if !strings.HasSuffix(get(r.body, "error.reason").(string), "unsupported snapshot state [FAILED]") {
		t.Fatalf("restore FAILED: %s", r.raw)
	}
	l.must(200, "POST", "/thehive_global/_open", "")
	if err := l.c.FailNextSnapshot("PARTIAL", "node left"); err != nil {
		t.Fatal(err)
	}
	l.must(200, "PUT", "/_snapshot/thehive_repository/part", "")
	if state, _ := l.pollSnapshot("part", time.Second, 5); state != "PARTIAL" {
		t.Fatalf("partial snapshot state %s", state)
	}

	// Serial mode reproduces the 503 of managed/older clusters.
	if err := l.c.SetSerialSnapshots(true); err != nil {
		t.Fatal(err)
	}
	if err := l.c.Seed("thehive_global", 1, 4<<20); err != nil {
		t.Fatal(err)
	}
	l.must(200, "PUT", "/_snapshot/thehive_repository/run1", "")
	r = l.must(503, "PUT", "/_snapshot/thehive_repository/run2", "")
	if get(r.body, "error.reason") != "[thehive_repository:run2]  a snapshot is already running" {
		t.Fatalf("concurrent: %s", r.raw)
	}

	// Routing errors.
	r = l.must(400, "GET", "/_nodes/x/y/z/w", "")
	if r.raw != `{"error":"no handler found for uri [/_nodes/x/y/z/w] and method [GET]","status":400}` {
		t.Fatalf("no handler: %s", r.raw)
	}
	r = l.must(405, "POST", "/_snapshot", "")
	if r.header.Get("Allow") != "GET" || !strings.Contains(r.raw, "Incorrect HTTP method for uri [/_snapshot] and method [POST], allowed: [GET]") {
		t.Fatalf("wrong method: %v %s", r.header, r.raw)
	}
	r = l.doReq("PUT", "/x", "{}", func(req *http.Request) { req.Header.Set("Content-Type", "application/x-www-form-urlencoded") })
	if r.status != 406 {
		t.Fatalf("form content type: %d %s", r.status, r.raw)
	}
}

func TestHealthWaitAndOverride(t *testing.T) {
	l := newLab(t, nil)
	if err := l.c.SetHealth("red"); err != nil {
		t.Fatal(err)
	}
	start := l.clock.Now()
	r := l.must(408, "GET", "/_cluster/health?wait_for_status=yellow&timeout=3s", "")
	if get(r.body, "timed_out") != true || get(r.body, "status") != "red" {
		t.Fatalf("timeout body: %s", r.raw)
	}
	if waited := l.clock.Now().Sub(start); waited < 3*time.Second || waited > 4*time.Second {
		t.Fatalf("waited %v of the manual clock, want 3s", waited)
	}
	if err := l.c.SetHealth("yellow"); err != nil {
		t.Fatal(err)
	}
	r = l.must(200, "GET", "/_cluster/health?wait_for_status=yellow&timeout=3s", "")
	if get(r.body, "status") != "yellow" || get(r.body, "timed_out") != false {
		t.Fatalf("yellow: %s", r.raw)
	}
	cat := l.must(200, "GET", "/_cat/health?v", "")
	lines := strings.Split(strings.TrimSpace(cat.raw), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "epoch      timestamp cluster status node.total") || !strings.Contains(lines[1], " thehive yellow ") {
		t.Fatalf("_cat/health:\n%s", cat.raw)
	}
	if err := l.c.SetHealth("blue"); err == nil {
		t.Fatal("SetHealth(blue) accepted")
	}
}

func TestBasicAuth(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Auth = "thehive:secret" })
	r := l.must(401, "GET", "/", "")
	if r.raw != `{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/]","header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]}}],"type":"security_exception","reason":"missing authentication credentials for REST request [/]","header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]}},"status":401}` {
		t.Fatalf("401 body differs from es8-401-missing-credentials-8.17.3.json:\n%s", r.raw)
	}
	if got := r.header.Values("WWW-Authenticate"); len(got) != 3 || got[0] != `Basic realm="security", charset="UTF-8"` {
		t.Fatalf("WWW-Authenticate = %q", got)
	}
	if r.header.Get("X-Elastic-Product") != "" {
		t.Fatal("401 must not carry X-Elastic-Product")
	}
	r = l.doReq("GET", "/", "", func(req *http.Request) { req.SetBasicAuth("thehive", "wrong") })
	if r.status != 401 || !strings.Contains(r.raw, "unable to authenticate user [thehive]") {
		t.Fatalf("wrong password: %d %s", r.status, r.raw)
	}
	r = l.doReq("GET", "/", "", func(req *http.Request) { req.SetBasicAuth("thehive", "secret") })
	if r.status != 200 || r.header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("good credentials: %d %v", r.status, r.header)
	}

	os := newLab(t, func(o *Options) { o.Auth = "admin:x"; o.Flavour = FlavourOpenSearch })
	r = os.do("GET", "/", "")
	if r.status != 401 || r.raw != "Unauthorized" {
		t.Fatalf("opensearch 401: %d %q", r.status, r.raw)
	}
}

func TestOpenSearchFlavour(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Flavour = FlavourOpenSearch })
	r := l.must(200, "GET", "/", "")
	if get(r.body, "version.distribution") != "opensearch" || r.header.Get("X-Elastic-Product") != "" ||
		get(r.body, "tagline") != "The OpenSearch Project: https://opensearch.org/" {
		t.Fatalf("opensearch root: %v %s", r.header, r.raw)
	}
	h := l.must(200, "GET", "/_cluster/health", "")
	if get(h.body, "discovered_cluster_manager") != true {
		t.Fatalf("opensearch health: %s", h.raw)
	}
}

func TestSharedStateAcrossNodes(t *testing.T) {
	l := newLab(t, nil)
	c2, err := NewCluster(l.state, Options{PathRepo: []string{l.repo}, Clock: l.clock})
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := NewHandler(l.c, "node1"), NewHandler(c2, "node2")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			h := h1
			if i%2 == 1 {
				h = h2
			}
			req, _ := http.NewRequest("PUT", fmt.Sprintf("/idx-%02d", i), nil)
			w := &recorder{header: http.Header{}}
			h.ServeHTTP(w, req)
			if w.status != 200 {
				t.Errorf("create idx-%02d: %d %s", i, w.status, w.body.String())
			}
		}(i)
	}
	wg.Wait()
	r := l.must(200, "GET", "/_cat/indices?h=index&s=index", "")
	if n := len(strings.Fields(r.raw)); n != 20 {
		t.Fatalf("%d indices after concurrent creates through two nodes, want 20:\n%s", n, r.raw)
	}
	h := l.must(200, "GET", "/_cluster/health", "")
	if get(h.body, "number_of_nodes").(float64) != 2 {
		t.Fatalf("nodes: %s", h.raw)
	}
	// replicas=1 (PUT default) on two nodes: green.
	if get(h.body, "status") != "green" {
		t.Fatalf("health: %s", h.raw)
	}
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

func TestMainServesAndAdminCommands(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	var errb bytes.Buffer
	if code := run([]string{"seed", "--state", state, "--index", "thehive_global", "--docs", "42", "--bytes", "1MB"}, &errb, nil); code != 0 {
		t.Fatalf("seed exit %d: %s", code, errb.String())
	}
	if code := run([]string{"fault", "--state", state, "--health", "yellow"}, &errb, nil); code != 0 {
		t.Fatalf("fault exit %d: %s", code, errb.String())
	}
	if code := run([]string{"--state", state}, &errb, nil); code != 2 {
		t.Fatalf("usage error exit %d, want 2", code)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		done <- run([]string{"--state", state, "--listen", addr, "--node", "node1", "--path-repo", dir}, &bytes.Buffer{}, stop)
	}()
	var res *http.Response
	for i := 0; i < 50; i++ {
		res, err = http.Get("http://" + addr + "/thehive_global/_count")
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.HasPrefix(buf.String(), `{"count":42,`) {
		t.Fatalf("count via daemon: %s", buf.String())
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("daemon exit %d", code)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0b", 225: "225b", 1024: "1kb", 90214: "88.1kb", 43201331: "41.2mb", 1 << 30: "1gb"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %s, want %s", n, got, want)
		}
	}
	for ms, want := range map[int64]string{13: "13ms", 1978: "2s", 175576: "2.9m"} {
		if got := humanMillis(ms); got != want {
			t.Errorf("humanMillis(%d) = %s, want %s", ms, got, want)
		}
	}
	raw, err := encodeES(obj{{"acknowledged", true}, {"list", []string{}}, {"pct", jfloat(100)}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != "{\n  \"acknowledged\" : true,\n  \"list\" : [ ],\n  \"pct\" : 100.0\n}\n" {
		t.Fatalf("pretty output:\n%s", raw)
	}
	for in, want := range map[string]int64{"200MB": 200 << 20, "1.5kb": 1536, "7": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := parseSize("lots"); err == nil {
		t.Error("parseSize(lots) accepted")
	}
}

// TestSlowRecoveryFault: `fault --recovery-rate` slows the restores started
// after it, so a test can act while one is recovering; auto undoes it.
func TestSlowRecoveryFault(t *testing.T) {
	l := newLab(t, nil)
	if err := l.c.Seed("thehive_global", 10, 400<<10); err != nil {
		t.Fatal(err)
	}
	l.registerRepo()
	l.must(200, "PUT", "/_snapshot/thehive_repository/s1?wait_for_completion=true", "")
	if err := l.c.SetRecoveryRate(100 << 10); err != nil {
		t.Fatal(err)
	}
	l.must(200, "DELETE", "/thehive_global", "")
	l.must(200, "POST", "/_snapshot/thehive_repository/s1/_restore", `{"indices":"thehive_global"}`)
	// At the lab's 1 MiB/s, 400 KiB would be done 0.5 s after the start;
	// at 100 KiB/s it is still being recovered 2 s after it.
	l.clock.Advance(2 * time.Second)
	r := l.must(200, "GET", "/thehive_global/_recovery", "")
	if !strings.Contains(r.raw, `"stage":"INDEX"`) {
		t.Fatalf("2 s into a 4 s recovery: %s", r.raw)
	}
	if info, _, _ := l.c.Index("thehive_global"); !info.Recovering {
		t.Errorf("index not recovering: %+v", info)
	}
	// Deleting the index being restored cancels the restore.
	l.must(200, "DELETE", "/thehive_global", "")
	if err := l.c.SetRecoveryRate(0); err != nil {
		t.Fatal(err)
	}
	l.must(200, "POST", "/_snapshot/thehive_repository/s1/_restore?wait_for_completion=true", `{"indices":"thehive_global"}`)
	if info, ok, _ := l.c.Index("thehive_global"); !ok || info.Recovering || info.Docs != 10 {
		t.Errorf("after auto: %+v %v", info, ok)
	}
}

// GET _nodes/settings lists each live node with path.repo nested as a list,
// the shape hotsnap's path.repo check reads.
func TestNodesSettingsListsPathRepo(t *testing.T) {
	l := newLab(t, nil)
	r := l.must(200, "GET", "/_nodes/settings", "")
	nodes, _ := get(r.body, "nodes").(map[string]any)
	if get(r.body, "_nodes.total") != float64(len(nodes)) || len(nodes) == 0 || get(r.body, "cluster_name") != "thehive" {
		t.Fatalf("_nodes/settings: %s", r.raw)
	}
	for id, n := range nodes {
		if repo := get(n, "settings.path.repo"); !reflect.DeepEqual(repo, []any{l.repo}) {
			t.Errorf("node %s path.repo = %v, want [%s]", id, repo, l.repo)
		}
	}
}

// TestReadonlyRepository: a repository registered with "readonly": true
// shows the setting, verifies, and refuses to create or delete snapshots
// with Elasticsearch's repository_exception (HTTP 500).
func TestReadonlyRepository(t *testing.T) {
	l := newLab(t, nil)
	if err := l.c.Seed("thehive_global", 10, 1<<10); err != nil {
		t.Fatal(err)
	}
	l.registerRepo()
	l.must(200, "PUT", "/_snapshot/thehive_repository/s1", `{"indices":"thehive_global"}`)
	if st, _ := l.pollSnapshot("s1", 500*time.Millisecond, 40); st != "SUCCESS" {
		t.Fatalf("snapshot s1: %s", st)
	}
	l.must(200, "PUT", "/_snapshot/thehive_repository", `{"type":"fs","settings":{"location":"`+l.repo+`","readonly":true}}`)
	if got := get(l.must(200, "GET", "/_snapshot/thehive_repository", "").body, "thehive_repository.settings.readonly"); got != "true" {
		t.Errorf("settings.readonly = %v", got)
	}
	l.must(200, "POST", "/_snapshot/thehive_repository/_verify", "")
	r := l.must(500, "PUT", "/_snapshot/thehive_repository/s2", `{"indices":"thehive_global"}`)
	if get(r.body, "error.type") != "repository_exception" || get(r.body, "error.reason") != "[thehive_repository] cannot create snapshot in a readonly repository" {
		t.Errorf("create in a readonly repository: %s", r.raw)
	}
	r = l.must(500, "DELETE", "/_snapshot/thehive_repository/s1", "")
	if get(r.body, "error.reason") != "[thehive_repository] cannot delete snapshot from a readonly repository" {
		t.Errorf("delete from a readonly repository: %s", r.raw)
	}
	l.must(200, "GET", "/_snapshot/thehive_repository/s1", "") // still readable
}
