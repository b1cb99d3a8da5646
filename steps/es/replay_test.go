package es

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

// samples is where steps/parse keeps the real Elasticsearch and OpenSearch
// answers (copied from reference/real-outputs/elasticsearch).
const samples = "../parse/testdata/real-outputs/elasticsearch"

// answer is what the fake cluster sends for one request.
type answer struct {
	status int
	body   string
	ctype  string
}

// real is the sample name as Elasticsearch sent it: its body without the
// "// " provenance lines, with the HTTP status they record.
func real(t *testing.T, name string) answer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: http.StatusOK, ctype: "application/json"}
	lines := strings.SplitAfter(string(b), "\n")
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "// "); i++ {
		if v, ok := strings.CutPrefix(lines[i], "// http-status: "); ok {
			if a.status, err = strconv.Atoi(strings.Fields(v)[0]); err != nil {
				t.Fatalf("%s: http-status %q", name, v)
			}
		}
	}
	a.body = strings.Join(lines[i:], "")
	return a
}

// openSearch401 is what OpenSearch's security plugin answers without
// valid credentials: plain text, not an error object (INDEX.md, "Status
// codes seen"; the lab's stand-in sends the same).
var openSearch401 = answer{status: http.StatusUnauthorized, body: "Unauthorized", ctype: "text/plain; charset=UTF-8"}

// partial is a real GET snapshot answer (OpenSearch 2.0.1's documented
// one) turned into the HTTP 200 a PARTIAL snapshot gets: state PARTIAL,
// one failed shard and its failure as SnapshotShardFailure writes it.
func partial(t *testing.T) answer {
	a := real(t, "os2-get-snapshot-2.0.1-doc.json")
	for _, r := range [][2]string{
		{`"state" : "SUCCESS"`, `"state" : "PARTIAL"`},
		{`"failed" : 0`, `"failed" : 1`},
		{`"successful" : 7`, `"successful" : 6`},
		{`"failures" : [ ]`, `"failures" : [ {"index" : "shakespeare", "index_uuid" : "shakespeare", "shard_id" : 0, "reason" : "IndexShardSnapshotFailedException[Failed to snapshot]", "node_id" : "Ew2nFVaQQHmUJ_VNbm6Tzg", "status" : "INTERNAL_SERVER_ERROR"} ]`},
	} {
		if !strings.Contains(a.body, r[0]) {
			t.Fatalf("the sample has no %s", r[0])
		}
		a.body = strings.Replace(a.body, r[0], r[1], 1)
	}
	return a
}

// recovered is the documented _recovery answer of a restore (stage
// INDEX) as it reads once the shard is recovered: stage DONE, every byte.
func recovered(t *testing.T) answer {
	a := real(t, "es-recovery-snapshot-doc.json")
	for _, r := range [][2]string{{`"stage" : "INDEX"`, `"stage" : "DONE"`}, {`"recovered_in_bytes" : 68891939`, `"recovered_in_bytes" : 79063092`}} {
		if !strings.Contains(a.body, r[0]) {
			t.Fatalf("the sample has no %s", r[0])
		}
		a.body = strings.Replace(a.body, r[0], r[1], 1)
	}
	return a
}

// fakeES answers each "METHOD /path" with its answers in turn (the last
// repeats; none is a 599) and records every request as "METHOD /path?query
// body" (the query decoded), checking each carried the credentials.
type fakeES struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string][]answer
	got     []string
}

func newFake(t *testing.T, answers map[string][]answer) (*fakeES, *remote.ESClient) {
	f := &fakeES{t: t, answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := remote.NewESClient("node1", srv.URL, "elastic", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return f, cl
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q, _ := url.QueryUnescape(r.URL.RawQuery)
	line := r.Method + " " + r.URL.Path
	if q != "" {
		line += "?" + q
	}
	if len(body) > 0 {
		line += " " + string(body)
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "elastic" || p != "pw" {
		f.t.Errorf("%s: sent without the credentials", line)
	}
	if len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("%s: Content-Type %q", line, r.Header.Get("Content-Type"))
	}
	f.mu.Lock()
	f.got = append(f.got, line)
	key := r.Method + " " + r.URL.Path
	as := f.answers[key]
	a := answer{status: 599, body: "no answer for " + key}
	if len(as) > 0 {
		a = as[0]
		if len(as) > 1 {
			f.answers[key] = as[1:]
		}
	}
	f.mu.Unlock()
	if a.ctype != "" {
		w.Header().Set("Content-Type", a.ctype)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (f *fakeES) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

const (
	snapBody    = `{"indices":"thehive_global,thehive-audits","include_global_state":false}`
	restoreBody = `{"indices":"thehive_global","include_global_state":false}`
)

// TestRequests replays real answers to each call of the package: the
// method, path, query and body it sends, and its error, which names the
// node, what was being done and the request.
func TestRequests(t *testing.T) {
	ctx := context.Background()
	idx := []string{"thehive_global", "thehive-audits"}
	for _, c := range []struct {
		name    string
		answers map[string][]answer
		run     func(cl *remote.ESClient) error
		want    []string
		err     string // the whole error text; "" for none
	}{
		{"start a snapshot",
			map[string][]answer{"PUT /_snapshot/thehive_repository/snap": {real(t, "es8-create-snapshot-accepted-8.6.1.json")}},
			func(cl *remote.ESClient) error { return StartSnapshot(ctx, cl, "thehive_repository", "snap", idx) },
			[]string{"PUT /_snapshot/thehive_repository/snap?wait_for_completion=false " + snapBody}, ""},
		{"start a snapshot while another runs (503)",
			map[string][]answer{"PUT /_snapshot/thehive_repository/snap": {real(t, "es-create-snapshot-concurrent-503.json")}},
			func(cl *remote.ESClient) error { return StartSnapshot(ctx, cl, "thehive_repository", "snap", idx) },
			[]string{"PUT /_snapshot/thehive_repository/snap?wait_for_completion=false " + snapBody},
			"node1: start the Elasticsearch snapshot snap (PUT /_snapshot/thehive_repository/snap): elasticsearch 503 concurrent_snapshot_execution_exception: [logs-xyz-index-snapshot-repo:2019-10-18-15-x]  a snapshot is already running — another snapshot is running (GET /_snapshot/_status names it; preflight lists it): wait until it ends, or pause the schedule that started it (POST /_slm/stop, and POST /_slm/start after the backup), then take the backup again"},
		{"start a snapshot whose name exists (400)",
			map[string][]answer{"PUT /_snapshot/thehive_repository/snap": {real(t, "es7-create-snapshot-already-exists-400.json")}},
			func(cl *remote.ESClient) error { return StartSnapshot(ctx, cl, "thehive_repository", "snap", idx) },
			[]string{"PUT /_snapshot/thehive_repository/snap?wait_for_completion=false " + snapBody},
			"node1: start the Elasticsearch snapshot snap (PUT /_snapshot/thehive_repository/snap): elasticsearch 400 invalid_snapshot_name_exception: [hamlet_backup:hamlet_snapshot_1] Invalid snapshot name [hamlet_snapshot_1], snapshot with the same name already exists"},
		{"start a snapshot on OpenSearch without credentials (plain-text 401)",
			map[string][]answer{"PUT /_snapshot/thehive_repository/snap": {openSearch401}},
			func(cl *remote.ESClient) error { return StartSnapshot(ctx, cl, "thehive_repository", "snap", idx) },
			[]string{"PUT /_snapshot/thehive_repository/snap?wait_for_completion=false " + snapBody},
			"node1: start the Elasticsearch snapshot snap (PUT /_snapshot/thehive_repository/snap): HTTP 401: Unauthorized: check elasticsearch.username and elasticsearch.password in the inventory"},
		{"follow a snapshot to SUCCESS",
			map[string][]answer{
				"GET /_snapshot/thehive_repository/snap":         {real(t, "es7-get-snapshot-in-progress-7.8.1.json"), real(t, "os2-get-snapshot-2.0.1-doc.json")},
				"GET /_snapshot/thehive_repository/snap/_status": {real(t, "es-snapshot-status-running-doc.json"), real(t, "es-snapshot-status-success-doc.json")}},
			func(cl *remote.ESClient) error {
				var seen []string
				s, err := FollowSnapshot(ctx, cl, "thehive_repository", "snap", time.Millisecond, func(done, total int64) { seen = append(seen, fmt.Sprint(done, "/", total)) }, nil)
				if err == nil && (s.State != "SUCCESS" || s.Shards.Successful != 7 || len(seen) != 2 || seen[0] != "658/5412") {
					return fmt.Errorf("snapshot %+v, progress %v", s, seen)
				}
				return err
			},
			[]string{"GET /_snapshot/thehive_repository/snap", "GET /_snapshot/thehive_repository/snap/_status",
				"GET /_snapshot/thehive_repository/snap", "GET /_snapshot/thehive_repository/snap/_status"}, ""},
		{"follow a snapshot that ends PARTIAL (HTTP 200)",
			map[string][]answer{"GET /_snapshot/thehive_repository/snap": {partial(t)}, "GET /_snapshot/thehive_repository/snap/_status": {real(t, "es-snapshot-status-success-doc.json")}},
			func(cl *remote.ESClient) error {
				_, err := FollowSnapshot(ctx, cl, "thehive_repository", "snap", time.Millisecond, func(int64, int64) {}, nil)
				return err
			},
			[]string{"GET /_snapshot/thehive_repository/snap", "GET /_snapshot/thehive_repository/snap/_status"},
			"node1: elasticsearch snapshot snap ended PARTIAL: IndexShardSnapshotFailedException[Failed to snapshot] (shakespeare[0])"},
		{"follow a snapshot that is gone (404)",
			map[string][]answer{"GET /_snapshot/thehive_repository/snap": {real(t, "es-get-snapshot-missing-404.json")}},
			func(cl *remote.ESClient) error {
				_, err := FollowSnapshot(ctx, cl, "thehive_repository", "snap", time.Millisecond, func(int64, int64) {}, nil)
				return err
			},
			[]string{"GET /_snapshot/thehive_repository/snap"},
			"node1: read the Elasticsearch snapshot snap (GET /_snapshot/thehive_repository/snap): elasticsearch 404 snapshot_missing_exception: [repo2:snap1] is missing"},
		{"delete a snapshot",
			map[string][]answer{"DELETE /_snapshot/thehive_repository/snap": {real(t, "es-delete-snapshot-ack-doc.json")}},
			func(cl *remote.ESClient) error {
				return wantDeleted(DeleteSnapshot(ctx, cl, "thehive_repository", "snap", "prune"))
			},
			[]string{"DELETE /_snapshot/thehive_repository/snap"}, ""},
		{"delete a snapshot already gone (404 is no error)",
			map[string][]answer{"DELETE /_snapshot/thehive_repository/snap": {real(t, "os2-get-snapshot-missing-404-test-fixture.json")}},
			func(cl *remote.ESClient) error {
				deleted, err := DeleteSnapshot(ctx, cl, "thehive_repository", "snap", "prune")
				if err == nil && deleted {
					return fmt.Errorf("deleted, for a snapshot already gone")
				}
				return err
			},
			[]string{"DELETE /_snapshot/thehive_repository/snap"}, ""},
		{"delete a snapshot without the privilege (403)",
			map[string][]answer{"DELETE /_snapshot/thehive_repository/snap": {real(t, "es9-403-api-key-snapshot-delete-9.5.2.json")}},
			func(cl *remote.ESClient) error {
				return wantDeleted(DeleteSnapshot(ctx, cl, "thehive_repository", "snap", "delete the unfinished snapshot"))
			},
			[]string{"DELETE /_snapshot/thehive_repository/snap"},
			"node1: delete the unfinished snapshot (DELETE /_snapshot/thehive_repository/snap): elasticsearch 403 security_exception: action [cluster:admin/snapshot/delete] is unauthorized for API key id [3SiKNqABSRpdinXwHfxg] of user [elastic], this action is granted by the cluster privileges [manage,all]"},
		{"delete indices in one request",
			map[string][]answer{"DELETE /thehive_global,thehive-audits": {real(t, "es8-delete-index-ack-8.6.1.json")}},
			func(cl *remote.ESClient) error { return DeleteIndices(ctx, cl, idx) },
			[]string{"DELETE /thehive_global,thehive-audits"}, ""},
		{"delete indices: one missing (404 for the request), then one by one, a missing one is no error",
			map[string][]answer{"DELETE /thehive_global,thehive-audits": {real(t, "es9-index-not-found-404-9.2.1.json")},
				"DELETE /thehive_global": {real(t, "es8-delete-index-ack-8.6.1.json")}, "DELETE /thehive-audits": {real(t, "es9-index-not-found-404-9.2.1.json")}},
			func(cl *remote.ESClient) error { return DeleteIndices(ctx, cl, idx) },
			[]string{"DELETE /thehive_global,thehive-audits", "DELETE /thehive_global", "DELETE /thehive-audits"}, ""},
		{"cancel a restore: the same deletes",
			map[string][]answer{"DELETE /thehive_global": {real(t, "es9-index-not-found-404-9.2.1.json")}, "DELETE /thehive-audits": {real(t, "es9-403-api-key-snapshot-delete-9.5.2.json")}},
			func(cl *remote.ESClient) error { return CancelRestore(ctx, cl, idx) },
			[]string{"DELETE /thehive_global", "DELETE /thehive-audits"},
			"node1: cancel the Elasticsearch restore: delete the index thehive-audits (DELETE /thehive-audits): elasticsearch 403 security_exception: action [cluster:admin/snapshot/delete] is unauthorized for API key id [3SiKNqABSRpdinXwHfxg] of user [elastic], this action is granted by the cluster privileges [manage,all]"},
		{"restore",
			map[string][]answer{"POST /_snapshot/thehive_repository/snap/_restore": {real(t, "es8-restore-accepted-8.2.2.json")}},
			func(cl *remote.ESClient) error { return Restore(ctx, cl, "thehive_repository", "snap", idx[:1]) },
			[]string{"POST /_snapshot/thehive_repository/snap/_restore?wait_for_completion=false " + restoreBody}, ""},
		{"restore over an open index (500)",
			map[string][]answer{"POST /_snapshot/thehive_repository/snap/_restore": {real(t, "os2-restore-open-index-exists-500-doc.json")}},
			func(cl *remote.ESClient) error { return Restore(ctx, cl, "thehive_repository", "snap", idx[:1]) },
			[]string{"POST /_snapshot/thehive_repository/snap/_restore?wait_for_completion=false " + restoreBody},
			"node1: restore the Elasticsearch snapshot snap (POST /_snapshot/thehive_repository/snap/_restore): " + esErrorText(t, "os2-restore-open-index-exists-500-doc.json")},
		{"follow the recovery",
			map[string][]answer{"GET /thehive_global,thehive-audits/_recovery": {real(t, "es-recovery-snapshot-doc.json"), recovered(t)}},
			func(cl *remote.ESClient) error {
				var seen []string
				err := FollowRecovery(ctx, cl, idx, time.Millisecond, 0, func(done, total int64) { seen = append(seen, fmt.Sprint(done, "/", total)) })
				if err == nil && fmt.Sprint(seen) != "[68891939/79063092 79063092/79063092]" {
					return fmt.Errorf("progress %v", seen)
				}
				return err
			},
			[]string{"GET /thehive_global,thehive-audits/_recovery", "GET /thehive_global,thehive-audits/_recovery"}, ""},
		{"follow the recovery without the privilege (403 ends it)",
			map[string][]answer{"GET /thehive_global/_recovery": {real(t, "es5-403-action-unauthorized-5.5.2.json")}},
			func(cl *remote.ESClient) error {
				return FollowRecovery(ctx, cl, idx[:1], time.Millisecond, 0, func(int64, int64) {})
			},
			[]string{"GET /thehive_global/_recovery"},
			"node1: follow the restore's recovery (GET /thehive_global/_recovery): " + esErrorText(t, "es5-403-action-unauthorized-5.5.2.json")},
		{"count",
			map[string][]answer{"POST /thehive_global/_count": {real(t, "es9-count-9.5.2.json")}},
			func(cl *remote.ESClient) error {
				n, err := Count(ctx, cl, "thehive_global")
				if err == nil && n != 3500 {
					return fmt.Errorf("count %d", n)
				}
				return err
			},
			[]string{"POST /thehive_global/_count"}, ""},
		{"count a missing index (404)",
			map[string][]answer{"POST /thehive_global/_count": {real(t, "es9-index-not-found-404-9.2.1.json")}},
			func(cl *remote.ESClient) error { _, err := Count(ctx, cl, "thehive_global"); return err },
			[]string{"POST /thehive_global/_count"},
			"node1: count the documents of thehive_global (POST /thehive_global/_count): elasticsearch 404 index_not_found_exception: no such index [serilog-test]"},
		{"the cluster's version on OpenSearch",
			map[string][]answer{"GET /": {real(t, "os2-root-info-2.13.0.json")}},
			func(cl *remote.ESClient) error {
				i, err := Info(ctx, cl)
				if err == nil && (!i.IsOpenSearch() || i.Version != "2.13.0") {
					return fmt.Errorf("info %+v", i)
				}
				return err
			},
			[]string{"GET /"}, ""},
		{"the cluster's version without credentials (401)",
			map[string][]answer{"GET /": {real(t, "es8-401-missing-credentials-8.17.3.json")}},
			func(cl *remote.ESClient) error { _, err := Info(ctx, cl); return err },
			[]string{"GET /"},
			"node1: read the cluster's version (GET /): " + esErrorText(t, "es8-401-missing-credentials-8.17.3.json") + ": check elasticsearch.username and elasticsearch.password in the inventory"},
		{"an index exists (HEAD)",
			map[string][]answer{"HEAD /thehive-audits": {{status: 200}}, "HEAD /thehive_global": {{status: 404}}},
			func(cl *remote.ESClient) error {
				if !Exists(ctx, cl, "thehive-audits") || Exists(ctx, cl, "thehive_global") {
					return fmt.Errorf("Exists got 200 and 404 the wrong way")
				}
				return nil
			},
			[]string{"HEAD /thehive-audits", "HEAD /thehive_global"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, cl := newFake(t, c.answers)
			err := c.run(cl)
			if got := fmt.Sprint(err); c.err == "" && err != nil || c.err != "" && got != c.err {
				t.Errorf("error:\n got %v\nwant %s", err, c.err)
			}
			if got := f.requests(); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("requests:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func wantDeleted(deleted bool, err error) error {
	if err == nil && !deleted {
		return fmt.Errorf("not deleted")
	}
	return err
}

// esErrorText is what the package says of the error body of sample name.
func esErrorText(t *testing.T, name string) string {
	a := real(t, name)
	return answerError(&Response{Status: a.status, Body: []byte(a.body)}).Error()
}

// envFor is a one-node inventory whose Elasticsearch is the fake at cl's URL.
func envFor(t *testing.T, url string) *steps.Env {
	inv, err := config.Parse("inv.yaml", []byte(`version: 1
platform: thehive
cluster: prod
ssh: {user: ops, known_hosts: /etc/hotsnap/known_hosts}
nodes:
  - {name: node1, host: 10.0.0.11, roles: [cassandra, elasticsearch, thehive, files]}
cassandra: {keyspace: thehive}
elasticsearch: {url: `+url+`, index: thehive_global, repository: thehive_repository, repository_path: /mnt/backup/elasticsearch, username: elastic}
storage: {provider: localfs, path: /opt/thp/thehive/files}
repository: {url: /srv/backups}
`))
	if err != nil {
		t.Fatal(err)
	}
	return &steps.Env{Inv: inv, ESPassword: "pw", Dial: func(string) remote.DialFunc { return nil }}
}

// TestEnvRequests: the calls that open their own client (from the
// inventory) send what they should and read real answers.
func TestEnvRequests(t *testing.T) {
	ctx := context.Background()
	newEnv := func(answers map[string][]answer) (*fakeES, *steps.Env) {
		f, cl := newFake(t, answers)
		return f, envFor(t, cl.URL())
	}
	t.Run("index size", func(t *testing.T) {
		f, env := newEnv(map[string][]answer{"GET /_cat/indices": {real(t, "es-cat-indices-json-doc.json")}})
		n, found, err := IndexSize(ctx, env, "my-index-000002", "absent")
		if err != nil || n != 260 || fmt.Sprint(found) != "[my-index-000002]" {
			t.Errorf("IndexSize = %d %v %v", n, found, err)
		}
		if got := f.requests(); fmt.Sprint(got) != "[GET /_cat/indices?bytes=b&format=json&h=index,pri.store.size,store.size]" {
			t.Errorf("requests %q", got)
		}
	})
	t.Run("check a snapshot: PARTIAL, gone, SUCCESS", func(t *testing.T) {
		_, env := newEnv(map[string][]answer{"GET /_snapshot/thehive_repository/snap": {partial(t), real(t, "es-get-snapshot-missing-404.json"), real(t, "os2-get-snapshot-2.0.1-doc.json")}})
		s := &repo.ESSnapshot{Repository: "thehive_repository", Snapshot: "snap", UUID: "3P7Qa-M8RU6l16Od5n7Lxg"}
		for _, want := range []string{"state PARTIAL, 1 failed shards", "the snapshot is gone from repository thehive_repository", ""} {
			if got := CheckSnapshot(ctx, env, s); got != want {
				t.Errorf("CheckSnapshot = %q, want %q", got, want)
			}
		}
	})
	t.Run("find a snapshot", func(t *testing.T) {
		f, env := newEnv(map[string][]answer{
			"GET /_snapshot": {real(t, "es8-get-snapshot-all-repos-8.1.2.json")},
			"GET /_snapshot/netology_backup/my-first-snapshot": {real(t, "os2-get-snapshot-2.0.1-doc.json")}})
		s, err := FindSnapshot(ctx, env, "my-first-snapshot", "/elasticsearch-8.1.2/snapshots")
		if err != nil || s.Repository != "netology_backup" || s.Location != "/elasticsearch-8.1.2/snapshots" || s.State != "SUCCESS" {
			t.Fatalf("FindSnapshot = %+v, %v", s, err)
		}
		if got := f.requests(); fmt.Sprint(got) != "[GET /_snapshot GET /_snapshot/netology_backup/my-first-snapshot]" {
			t.Errorf("requests %q", got)
		}
	})
	t.Run("find a snapshot in no repository", func(t *testing.T) {
		_, env := newEnv(map[string][]answer{
			"GET /_snapshot": {real(t, "es7-get-repo-7.16.0.json")},
			"GET /_snapshot/netology_backup/elasticsearch_x": {real(t, "es-get-snapshot-missing-404.json")}})
		_, err := FindSnapshot(ctx, env, "elasticsearch_x", "")
		if err == nil || !strings.HasPrefix(err.Error(), "node1: snapshot elasticsearch_x is in none of the cluster's snapshot repositories (netology_backup (fs /var/lib/elasticsearch/snapshots))") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("version compatibility", func(t *testing.T) {
		_, env := newEnv(map[string][]answer{"GET /": {real(t, "es8-root-info-8.6.1.json"), openSearch401}})
		if r := VersionCompat(ctx, env, "8.17.3"); r.Status != steps.CheckFail || !strings.Contains(r.Evidence, "the snapshot was taken by 8.17.3, the cluster runs 8.6.1") {
			t.Errorf("older cluster: %+v", r)
		}
		if r := VersionCompat(ctx, env, "8.6.1"); r.Status != steps.CheckFail || r.Evidence != "node1: read the cluster's version (GET /): HTTP 401: Unauthorized: check elasticsearch.username and elasticsearch.password in the inventory" {
			t.Errorf("401: %+v", r)
		}
	})
	t.Run("discovery: repositories, version and indices", func(t *testing.T) {
		f, env := newEnv(map[string][]answer{"GET /_snapshot": {real(t, "es7-get-repo-7.16.0.json")}, "GET /": {real(t, "es7-root-info-7.16.1.json")},
			"GET /_cat/indices": {real(t, "es-cat-indices-json-doc.json")}})
		url := env.Inv.Elasticsearch.URL
		repos, err := Repositories(ctx, nil, "node1", url, "elastic", "pw")
		if err != nil || len(repos) != 1 || repos[0].Location != "/var/lib/elasticsearch/snapshots" {
			t.Errorf("Repositories = %+v, %v", repos, err)
		}
		info, names, err := InfoAndIndices(ctx, nil, "node1", url, "elastic", "pw")
		if err != nil || info.Version != "7.16.1" || fmt.Sprint(names) != "[my-index-000001 my-index-000002]" {
			t.Errorf("InfoAndIndices = %+v %v %v", info, names, err)
		}
		want := "[GET /_snapshot GET / GET /_cat/indices?format=json&h=index,health,status]"
		if got := f.requests(); fmt.Sprint(got) != want {
			t.Errorf("requests %q, want %s", got, want)
		}
	})
}

// TestCheckRequests: the cluster check sends GET /, _cluster/health, the
// repository, _nodes/settings, _verify and the running snapshots' _status,
// and reports what real answers say (a snapshot running is a warning); OpenSearch's plain-text 401 fails "es reachable" with its text.
func TestCheckRequests(t *testing.T) {
	health := real(t, "es8-cluster-health-yellow-8.6.1.json")
	f, cl := newFake(t, map[string][]answer{
		"GET /":                                      {real(t, "es8-root-info-8.6.1.json")},
		"GET /_cluster/health":                       {health},
		"GET /_snapshot/thehive_repository":          {{status: 200, ctype: "application/json", body: `{"thehive_repository":{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}}`}},
		"GET /_nodes/settings":                       {{status: 200, ctype: "application/json", body: `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"c","nodes":{"x":{"name":"es-1","settings":{"path":{"repo":["/mnt/backup"]}}}}}`}},
		"POST /_snapshot/thehive_repository/_verify": {real(t, "es-repository-verification-exception-not-accessible-500.json")},
		"GET /_snapshot/_status":                     {real(t, "es-snapshot-status-running-doc.json")},
	})
	env := envFor(t, cl.URL())
	rs := stepstest.Checks(t, remotetest.New(t), Check(env, CheckOptions{}))
	want := []string{"GET /", "GET /_cluster/health", "GET /_snapshot/thehive_repository", "GET /_nodes/settings", "POST /_snapshot/thehive_repository/_verify", "GET /_snapshot/_status"}
	if got := f.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests %q, want %q", got, want)
	}
	for _, c := range []struct {
		check  string
		status steps.CheckStatus
		ev     string
	}{
		{"es version", steps.CheckPass, "elasticsearch 8.6.1"},
		{"es health", steps.CheckWarn, "yellow"},
		{"es repository", steps.CheckPass, "thehive_repository registered, location /mnt/backup/elasticsearch"},
		{"es path.repo", steps.CheckPass, "is under path.repo [/mnt/backup] on all 1 nodes"},
		{"es repository verify", steps.CheckFail, "POST /_snapshot/thehive_repository/_verify: " + esErrorText(t, "es-repository-verification-exception-not-accessible-500.json")},
		{"es snapshots running", steps.CheckWarn, "running now: snapshot_2 in my_repository (STARTED, "},
	} {
		if r := stepstest.Find(t, rs, "node1", c.check); r.Status != c.status || !strings.Contains(r.Evidence, c.ev) {
			t.Errorf("%s: %+v, want %s ~%q", c.check, r, c.status, c.ev)
		}
	}

	_, cl = newFake(t, map[string][]answer{"GET /": {openSearch401}})
	r := stepstest.Find(t, stepstest.Checks(t, remotetest.New(t), Check(envFor(t, cl.URL()), CheckOptions{})), "node1", "es reachable")
	if r.Status != steps.CheckFail || r.Evidence != "GET /: HTTP 401: Unauthorized" || !strings.Contains(r.Remedy, "refused the login of elastic without a password: set elasticsearch.password") {
		t.Errorf("OpenSearch's 401: %+v", r)
	}
}

// TestCheckReadonlyRepository: a repository registered with "readonly":
// "true" (as ES 8 prints it) verifies, but fails the repository check: no
// snapshot can be created in it; the remedy registers it again at its
// location, unless another cluster writes there.
func TestCheckReadonlyRepository(t *testing.T) {
	_, cl := newFake(t, map[string][]answer{
		"GET /":                                      {real(t, "es8-root-info-8.6.1.json")},
		"GET /_cluster/health":                       {real(t, "es8-cluster-health-yellow-8.6.1.json")},
		"GET /_snapshot/thehive_repository":          {{status: 200, ctype: "application/json", body: `{"thehive_repository":{"type":"fs","uuid":"u","settings":{"location":"/mnt/other","readonly":"true"}}}`}},
		"GET /_nodes/settings":                       {{status: 200, ctype: "application/json", body: `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"c","nodes":{"x":{"name":"es-1","settings":{"path":{"repo":["/mnt"]}}}}}`}},
		"POST /_snapshot/thehive_repository/_verify": {{status: 200, ctype: "application/json", body: `{"nodes":{"x":{"name":"es-1"}}}`}},
	})
	rs := stepstest.Checks(t, remotetest.New(t), Check(envFor(t, cl.URL()), CheckOptions{}))
	r := stepstest.Find(t, rs, "node1", "es repository")
	if r.Status != steps.CheckFail || !strings.Contains(r.Evidence, "registered read-only (settings.readonly: true), location /mnt/other") ||
		!strings.Contains(r.Remedy, `without readonly: curl -X PUT '`) || !strings.Contains(r.Remedy, `"location":"/mnt/other"`) || !strings.Contains(r.Remedy, "another cluster") {
		t.Errorf("read-only repository: %+v", r)
	}
}
