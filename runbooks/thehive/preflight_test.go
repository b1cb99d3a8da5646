package thehive

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

// preflightInv is a three-node TheHive inventory for the preflight checks.
func preflightInv(t *testing.T, esURL string) *config.Inventory {
	t.Helper()
	inv, err := config.Parse("inv.yaml", []byte(`version: 1
platform: thehive
cluster: prod
ssh:
  user: ops
  known_hosts: /etc/hotsnap/known_hosts
nodes:
  - {name: node1, host: 10.0.0.11, roles: [cassandra, elasticsearch, thehive, files]}
  - {name: node2, host: 10.0.0.12, roles: [cassandra, elasticsearch, thehive]}
  - {name: node3, host: 10.0.0.13, roles: [cassandra, elasticsearch, thehive]}
cassandra: {keyspace: thehive}
elasticsearch:
  url: `+esURL+`
  index: thehive_global
  repository: thehive_repository
  repository_path: /mnt/backup/elasticsearch
storage: {provider: localfs, path: /opt/thp/thehive/files}
repository: {url: /srv/backups}
`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

type spaceStore struct {
	repo.Store
	free int64
	err  error
}

func (s spaceStore) Space(context.Context) (repo.Space, error) {
	return repo.Space{Free: s.free, At: "/srv"}, s.err
}
func (s spaceStore) String() string { return "/srv/backups" }

// objectStore is a repository without a free-space figure (S3).
type objectStore struct{ repo.Store }

func (objectStore) String() string { return "s3://backups/hotsnap" }

func TestRepositoryCheck(t *testing.T) {
	const mib = 1 << 20
	expectSizes := func(f *remotetest.Fake) {
		for i, n := range []string{"node1", "node2", "node3"} {
			f.Expect(n, "du -sb /var/lib/cassandra/data/thehive").Stdout(fmt.Sprintf("%d\t/var/lib/cassandra/data/thehive\n", (10+i)*mib))
		}
		f.Expect("node1", "du -sb /opt/thp/thehive/files").Stdout(fmt.Sprintf("%d\t/opt/thp/thehive/files\n", 3*mib))
	}
	// The backup copies 10+11+12 MiB of tables and 3 MiB of attachments.
	const need = 36 * mib
	cases := []struct {
		name     string
		store    repo.Store
		openErr  error
		status   steps.CheckStatus
		evidence string
		remedy   string
	}{
		{"room", spaceStore{free: 10 * need}, nil, steps.CheckPass, "the backup copies about 36.0 MiB (Cassandra 33.0 MiB from 3 nodes + attachments 3.0 MiB in node1:/opt/thp/thehive/files)", ""},
		{"too small", spaceStore{free: 20 * mib}, nil, steps.CheckFail, "20.0 MiB free at /srv", "free at least 16.0 MiB in /srv/backups"},
		{"tight", spaceStore{free: need + need/20}, nil, steps.CheckWarn, "free at /srv", "less than 10% would be left"},
		{"cannot measure", spaceStore{err: errors.New("statfs /srv: permission denied")}, nil, steps.CheckFail, "permission denied", "repository.url"},
		{"object storage", objectStore{}, nil, steps.CheckPass, "s3://backups/hotsnap reports no free space", ""},
		{"cannot open", nil, errors.New("open repository ssh://bk/srv: connection refused"), steps.CheckFail, "connection refused", "set repository.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := remotetest.New(t)
			if c.openErr == nil {
				expectSizes(f)
			}
			env := &steps.Env{Inv: preflightInv(t, "http://127.0.0.1:9200"), OpenRepo: func(context.Context) (repo.Store, func(), error) {
				return c.store, func() {}, c.openErr
			}}
			rb := Preflight(env)
			if at := slices.IndexFunc(rb.Steps, func(s steps.Step) bool { return s.ID == "repository" }); at < 0 || !rb.Steps[at].Concurrent {
				t.Fatalf("preflight with OpenRepo has no repository check running with the others (at %d)", at)
			}
			r := stepstest.Find(t, stepstest.Checks(t, f, repositoryStep(env, nil)), "repository", "repository space")
			if r.Status != c.status || !strings.Contains(r.Evidence, c.evidence) || !strings.Contains(r.Remedy, c.remedy) {
				t.Fatalf("got %+v\nwant %s, evidence ~%q, remedy ~%q", r, c.status, c.evidence, c.remedy)
			}
		})
	}
	// Without OpenRepo (the backup runbook, whose measure step checks the
	// room against its own estimate), the check is left out.
	for _, s := range Preflight(&steps.Env{Inv: preflightInv(t, "http://127.0.0.1:9200")}).Steps {
		if s.ID == "repository" {
			t.Fatal("repository check without OpenRepo")
		}
	}
}

// TestElasticsearchCheckPathRepo runs the elasticsearch check against the
// lab's Elasticsearch stand-in in-process: the repository's location under
// path.repo passes; a node whose path.repo does not hold it fails with the
// runbook's elasticsearch.yml line as the remedy.
func TestElasticsearchCheckPathRepo(t *testing.T) {
	for _, c := range []struct {
		other  bool // the answering node's path.repo is another folder
		status steps.CheckStatus
		want   string
	}{
		{false, steps.CheckPass, "is under path.repo [ROOT] on all 1 nodes"},
		{true, steps.CheckFail, "is not under path.repo on es-1 (path.repo [ROOT/other])"},
	} {
		state, root := t.TempDir(), t.TempDir()
		loc := root + "/elasticsearch"
		cl, err := elastic.NewCluster(state, elastic.Options{PathRepo: []string{root}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(elastic.NewHandler(cl, "es-1"))
		defer srv.Close()
		escl, err := remote.NewESClient("node1", srv.URL, "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := es.Do(context.Background(), escl, esapi.SnapshotCreateRepositoryRequest{Repository: "thehive_repository",
			Body: strings.NewReader(`{"type":"fs","settings":{"location":"` + loc + `"}}`)})
		escl.Close()
		if err != nil || resp.Status != 200 {
			t.Fatalf("register the repository: %v %+v", err, resp)
		}
		if c.other {
			// The same cluster state, answered by a node started with
			// another path.repo (its elasticsearch.yml was rewritten).
			cl2, err := elastic.NewCluster(state, elastic.Options{PathRepo: []string{root + "/other"}})
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = elastic.NewHandler(cl2, "es-1")
		}
		inv := preflightInv(t, srv.URL)
		inv.Elasticsearch.RepositoryPath = loc
		env := &steps.Env{Inv: inv, Dial: func(string) remote.DialFunc { return nil }}
		r := stepstest.Find(t, stepstest.Checks(t, remotetest.New(t), esStep(env, &foundVersions{})), "node1", "es path.repo")
		want := strings.ReplaceAll(c.want, "ROOT", root)
		if r.Status != c.status || !strings.Contains(r.Evidence, want) {
			t.Fatalf("got %+v\nwant %s, evidence ~%q", r, c.status, want)
		}
		if c.status == steps.CheckFail && !strings.Contains(r.Remedy, "`path.repo: "+loc+"`; then `sudo systemctl restart elasticsearch`") {
			t.Errorf("remedy %q does not give the runbook's elasticsearch.yml line", r.Remedy)
		}
	}
}

// TestRepositoryCheckSizesFromTheChecksBeside: run beside the disk and the
// attachments checks, the repository check takes the keyspace's and the
// attachments' sizes from them: each folder measured once.
func TestRepositoryCheckSizesFromTheChecksBeside(t *testing.T) {
	const mib = 1 << 20
	const dfOut = "Filesystem         1-blocks        Used   Available Capacity Mounted on\n/dev/vdb       270553174016 39016636416 58776657920      40% /var/lib/cassandra\n"
	f := remotetest.New(t)
	for i, n := range []string{"node1", "node2", "node3"} {
		f.Expect(n, "df -PB1 /var/lib/cassandra/data").Stdout(dfOut)
		f.Expect(n, "du -sb /var/lib/cassandra/data/thehive").Stdout(fmt.Sprintf("%d\t/var/lib/cassandra/data/thehive\n", (10+i)*mib))
	}
	f.Expect("node1", "stat -c '%U:%G %a' /opt/thp/thehive/files && du -sb /opt/thp/thehive/files").Stdout(fmt.Sprintf("thehive:thehive 750\n%d\t/opt/thp/thehive/files\n", 3*mib))
	env := &steps.Env{Inv: preflightInv(t, "http://127.0.0.1:9200"), OpenRepo: func(context.Context) (repo.Store, func(), error) {
		return spaceStore{free: 1 << 40}, func() {}, nil
	}}
	sizes := steps.NewSizes()
	rb := steps.Runbook{Name: "preflight", Steps: []steps.Step{cassandra.DiskCheck(env, sizes), filesStep(env, sizes), repositoryStep(env, sizes)}}
	for i := range rb.Steps {
		rb.Steps[i].Concurrent = true
	}
	rec := &steps.Recorder{}
	if err := (&steps.Engine{Exec: f, Reporter: rec}).Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	r := stepstest.Find(t, rec.Summary().Checks, "repository", "repository space")
	if want := "Cassandra 33.0 MiB from 3 nodes + attachments 3.0 MiB in node1:/opt/thp/thehive/files"; r.Status != steps.CheckPass || !strings.Contains(r.Evidence, want) {
		t.Errorf("repository check %+v, want the sizes the checks beside it measured (%s)", r, want)
	}
	dus := 0
	for _, c := range f.Calls() {
		dus += strings.Count(c.Cmd, "du -sb ")
	}
	if dus != 4 {
		t.Errorf("du ran %d times, want 4 (each node's keyspace and the attachments, once each)", dus)
	}
}
