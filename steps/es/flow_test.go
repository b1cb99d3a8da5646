package es

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

// standin starts the lab's Elasticsearch stand-in with o (basic auth
// elastic:pw, path.repo a folder of the test's) and thehive_global seeded
// with docs documents, registers the repository thehive_repository, and
// returns the cluster, the environment, a client and path.repo.
func standin(t *testing.T, o elastic.Options, docs int64) (*elastic.Cluster, *steps.Env, *remote.ESClient, string) {
	t.Helper()
	root := t.TempDir()
	o.PathRepo, o.Auth = []string{root}, "elastic:pw"
	c, err := elastic.NewCluster(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Seed("thehive_global", docs, 1<<20); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(elastic.NewHandler(c, "es-1"))
	t.Cleanup(srv.Close)
	env := envFor(t, srv.URL)
	cl, _, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	// The repository is the operator's, registered once.
	if r, err := Do(t.Context(), cl, esapi.SnapshotCreateRepositoryRequest{Repository: "thehive_repository",
		Body: strings.NewReader(`{"type":"fs","settings":{"location":"` + root + `/elasticsearch"}}`)}); err != nil || r.Status != 200 {
		t.Fatalf("register the repository: %v %+v", err, r)
	}
	env.Inv.Elasticsearch.RepositoryPath = root + "/elasticsearch"
	return c, env, cl, root
}

// TestFlowEveryFlavour runs what a backup and a restore ask of the cluster
// against the lab's stand-in as Elasticsearch 8, Elasticsearch 6.8
// (Alien4Cloud's; no X-Elastic-Product header) and OpenSearch 2 (plain-text
// 401), with basic auth: the esapi request types depend on no product
// header, and every answer reads.
func TestFlowEveryFlavour(t *testing.T) {
	ctx := context.Background()
	for _, fl := range []elastic.Flavour{elastic.FlavourElasticsearch, elastic.FlavourElasticsearch6, elastic.FlavourOpenSearch} {
		t.Run(string(fl), func(t *testing.T) {
			c, env, cl, root := standin(t, elastic.Options{Flavour: fl}, 120)

			for _, r := range stepstest.Checks(t, remotetest.New(t), Check(env, CheckOptions{})) {
				if r.Status == steps.CheckFail {
					t.Errorf("check %s failed: %s", r.Check, r.Evidence)
				}
			}
			info, err := Info(ctx, cl)
			if err != nil || info.IsOpenSearch() != (fl == elastic.FlavourOpenSearch) {
				t.Fatalf("Info = %+v, %v", info, err)
			}
			if size, found, err := IndexSize(ctx, env, "thehive_global", "thehive-audits"); err != nil || size <= 0 || len(found) != 1 {
				t.Errorf("IndexSize = %d %v %v", size, found, err)
			}
			if Exists(ctx, cl, "thehive-audits") || !Exists(ctx, cl, "thehive_global") {
				t.Error("Exists is wrong")
			}
			if _, names, err := InfoAndIndices(ctx, nil, "node1", env.Inv.Elasticsearch.URL, "elastic", "pw"); err != nil || !strings.Contains(strings.Join(names, " "), "thehive_global") {
				t.Errorf("InfoAndIndices: %v %v", names, err)
			}

			idx := []string{"thehive_global"}
			if err := StartSnapshot(ctx, cl, "thehive_repository", "snap-1", idx); err != nil {
				t.Fatal(err)
			}
			s, err := FollowSnapshot(ctx, cl, "thehive_repository", "snap-1", 20*time.Millisecond, func(int64, int64) {}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := Record(*s, "thehive_repository", root+"/elasticsearch")
			if p := CheckSnapshot(ctx, env, rec); p != "" {
				t.Errorf("CheckSnapshot: %s", p)
			}
			if found, err := FindSnapshot(ctx, env, "snap-1", root+"/elasticsearch"); err != nil || found.UUID != s.UUID {
				t.Errorf("FindSnapshot = %+v, %v", found, err)
			}
			if r := VersionCompat(ctx, env, s.Version); r.Status != steps.CheckPass {
				t.Errorf("VersionCompat: %+v", r)
			}

			if err := DeleteIndices(ctx, cl, idx); err != nil {
				t.Fatal(err)
			}
			if err := Restore(ctx, cl, "thehive_repository", "snap-1", idx); err != nil {
				t.Fatal(err)
			}
			if err := FollowRecovery(ctx, cl, idx, 20*time.Millisecond, 0, func(int64, int64) {}); err != nil {
				t.Fatal(err)
			}
			if n, err := Count(ctx, cl, "thehive_global"); err != nil || n != 120 {
				t.Errorf("Count = %d, %v", n, err)
			}

			// A snapshot that ends PARTIAL fails, naming the node; it is
			// then deleted, and deleting it again is no error.
			if err := c.FailNextSnapshot("PARTIAL", "simulated shard failure"); err != nil {
				t.Fatal(err)
			}
			if err := StartSnapshot(ctx, cl, "thehive_repository", "snap-2", idx); err != nil {
				t.Fatal(err)
			}
			if _, err := FollowSnapshot(ctx, cl, "thehive_repository", "snap-2", 20*time.Millisecond, func(int64, int64) {}, nil); err == nil ||
				!strings.HasPrefix(err.Error(), "node1: elasticsearch snapshot snap-2 ended PARTIAL: ") || !strings.Contains(err.Error(), "simulated shard failure") {
				t.Errorf("PARTIAL: %v", err)
			}
			for _, want := range []bool{true, false} {
				if deleted, err := DeleteSnapshot(ctx, cl, "thehive_repository", "snap-2", "delete"); err != nil || deleted != want {
					t.Errorf("DeleteSnapshot = %v, %v; want %v", deleted, err, want)
				}
			}
			if p := CheckSnapshot(ctx, env, &repo.ESSnapshot{Repository: "thehive_repository", Snapshot: "snap-2"}); !strings.Contains(p, "gone") {
				t.Errorf("CheckSnapshot of a deleted snapshot: %q", p)
			}
			if err := CancelRestore(ctx, cl, []string{"thehive_global", "thehive-audits"}); err != nil || Exists(ctx, cl, "thehive_global") {
				t.Errorf("CancelRestore: %v", err)
			}

			// Wrong credentials: the error names the node and the request
			// (OpenSearch answers in plain text).
			bad, _ := remote.NewESClient("node1", env.Inv.Elasticsearch.URL, "elastic", "nope", nil)
			defer bad.Close()
			if _, err := Info(ctx, bad); err == nil || !strings.HasPrefix(err.Error(), "node1: read the cluster's version (GET /): ") ||
				!strings.HasSuffix(err.Error(), "check elasticsearch.username and elasticsearch.password in the inventory") {
				t.Errorf("401: %v", err)
			}
		})
	}
}
