package thehive

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// estimateEnv is the 3-node cluster inventory (node3 keeps its Cassandra
// data in /data/cassandra/data and the attachments) with Elasticsearch
// answered by es, reached through every node's "tunnel".
func estimateEnv(t *testing.T, f *remotetest.Fake, es http.HandlerFunc) *steps.Env {
	t.Helper()
	inv, err := config.Load("../../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	dial := func(string) remote.DialFunc {
		return func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
		}
	}
	return &steps.Env{Inv: inv, Exec: f, Dial: dial}
}

// catIndices is a real-shaped GET _cat/indices?format=json&bytes=b reply:
// the index, the audit index, and an unrelated one.
const catIndices = `[
 {"index":"thehive_global","pri.store.size":"3145728","store.size":"6291456"},
 {"index":"thehive-audits","pri.store.size":"1048576","store.size":"2097152"},
 {"index":"other","pri.store.size":"999999999","store.size":"999999999"}]`

func TestEstimateBackupMeasuresEveryComponentAndTheLastThroughput(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "du -sb /var/lib/cassandra/data/thehive").WithSudo(true).Stdout("10485760\t/var/lib/cassandra/data/thehive\n")
	f.Expect("node2", "du -sb /var/lib/cassandra/data/thehive").WithSudo(true).Stdout("20971520\t/var/lib/cassandra/data/thehive\n")
	f.Expect("node3", "du -sb /data/cassandra/data/thehive").WithSudo(true).Stdout("31457280\t/data/cassandra/data/thehive\n")
	f.Expect("node3", "du -sb /opt/thp/thehive/files").WithSudo(true).Stdout("2097152\t/opt/thp/thehive/files\n")
	var asked string
	env := estimateEnv(t, f, func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.Path + "?" + r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(catIndices))
	})

	store, err := repo.Open(context.Background(), t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Two complete backups: the newer one's throughput counts (8 MiB in 2 s).
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, b := range []struct {
		id   string
		size int64
		dur  time.Duration
	}{{"hotsnap-20261120-100000-aaaa", 1 << 20, 10 * time.Second}, {"hotsnap-20261121-100000-bbbb", 8 << 20, 2 * time.Second}} {
		m := &repo.Manifest{ID: b.id, Platform: "thehive", Started: start, Finished: start.Add(b.dur),
			Cassandra: []repo.NodeArchive{{Node: "node1", Tables: []repo.TableArchive{{Table: "t", Size: b.size}}}}}
		if err := repo.WriteManifest(context.Background(), store, m); err != nil {
			t.Fatal(err)
		}
		start = start.Add(24 * time.Hour)
	}

	est, err := EstimateBackup(context.Background(), env, &BackupRun{Store: store, ID: "hotsnap-20261122-100000-cccc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(est.Problems) > 0 {
		t.Fatalf("problems: %q", est.Problems)
	}
	cass, search, att := est.Part(partCassandra), est.Part(partES), est.Part(partAttachments)
	if cass.Nodes["node1"] != 10<<20 || cass.Nodes["node2"] != 20<<20 || cass.Nodes["node3"] != 30<<20 || cass.Total() != 60<<20 {
		t.Errorf("cassandra = %v", cass.Nodes)
	}
	if search.Bytes != 4<<20 || search.Where != "thehive_global, thehive-audits" {
		t.Errorf("elasticsearch = %d %v (want the primaries of the index and the audit index only)", search.Bytes, search.Where)
	}
	if !strings.HasPrefix(asked, "/_cat/indices?") || !strings.Contains(asked, "bytes=b") {
		t.Errorf("asked ES %q", asked)
	}
	if att.Bytes != 2<<20 || att.Where != "node3:/opt/thp/thehive/files" {
		t.Errorf("attachments = %d at %q", att.Bytes, att.Where)
	}
	if est.RateFrom != "hotsnap-20261121-100000-bbbb" || est.Rate != 4<<20 {
		t.Errorf("rate = %v from %s, want 4 MiB/s from the newer backup", est.Rate, est.RateFrom)
	}
	// 62 MiB copied by hotsnap at 4 MiB/s.
	if est.Copied() != 62<<20 || est.Duration() != 16*time.Second {
		t.Errorf("copied %d in %s", est.Copied(), est.Duration())
	}
}

func TestEstimateBackupNamesWhatItCannotMeasure(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "du -sb /var/lib/cassandra/data/thehive").Stdout("100\t/var/lib/cassandra/data/thehive\n")
	f.Expect("node2", "du -sb /var/lib/cassandra/data/thehive").Stdout("200\t/var/lib/cassandra/data/thehive\n")
	f.Expect("node3", "du -sb /data/cassandra/data/thehive").Exit(1).Stderr("du: cannot access '/data/cassandra/data/thehive': No such file or directory")
	f.Expect("node3", "du -sb /opt/thp/thehive/files").Stdout("7\t/opt/thp/thehive/files\n")
	env := estimateEnv(t, f, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/_cat/indices]"}],"type":"security_exception","reason":"missing authentication credentials for REST request [/_cat/indices]"},"status":401}`))
	})
	store, err := repo.Open(context.Background(), t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	est, err := EstimateBackup(context.Background(), env, &BackupRun{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if est.Part(partCassandra).Total() != 300 || est.Part(partAttachments).Bytes != 7 || est.Part(partES) != nil {
		t.Errorf("sizes: %+v", est.Parts)
	}
	all := strings.Join(est.Problems, "\n")
	if len(est.Problems) != 2 || !strings.Contains(all, "node3: cannot measure the keyspace") || !strings.Contains(all, "cassandra.data_dir") ||
		!strings.Contains(all, "elasticsearch") || !strings.Contains(all, "401") {
		t.Errorf("problems:\n%s", all)
	}
	if est.Rate != 0 || est.Duration() != 0 || est.RateFrom != "" {
		t.Errorf("an empty repository gives no rate: %v %s", est.Rate, est.Duration())
	}
}

func TestEstimateOneNodeMeasuresOneNode(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "du -sb /var/lib/cassandra/data/thehive").Stdout("100\t/var/lib/cassandra/data/thehive\n")
	f.Expect("node3", "du -sb /opt/thp/thehive/files").Stdout("7\t/opt/thp/thehive/files\n")
	env := estimateEnv(t, f, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(catIndices)) })
	est, err := EstimateBackup(context.Background(), env, &BackupRun{OneNode: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := est.Part(partCassandra); len(c.Nodes) != 1 || c.Nodes["node1"] != 100 {
		t.Errorf("--one-node measures the node it copies: %v", c.Nodes)
	}
}

// --one-node copies the first Cassandra node that does not also stream the
// attachments on disk (two nodes' links instead of one), else the first.
func TestOneNodeAvoidsTheAttachmentsNode(t *testing.T) {
	inv := &config.Inventory{Platform: "thehive", Cassandra: &config.Cassandra{Keyspace: "thehive"}, Storage: &config.Storage{Provider: config.StorageLocalFS, Path: "/opt/thp/thehive/files"}}
	for _, n := range []string{"node1", "node2", "node3"} {
		roles := []string{config.RoleCassandra}
		if n == "node1" {
			roles = append(roles, config.RoleFiles)
		}
		inv.Nodes = append(inv.Nodes, config.Node{Name: n, Host: n, Roles: roles})
	}
	env := &steps.Env{Inv: inv}
	b := &BackupRun{OneNode: true}
	if got := b.snapshotNodes(env); len(got) != 1 || got[0] != "node2" {
		t.Errorf("attachments on node1: --one-node copies %v, want node2", got)
	}
	inv.Storage = &config.Storage{Provider: config.StorageS3}
	if got := b.snapshotNodes(env); len(got) != 1 || got[0] != "node1" {
		t.Errorf("attachments in S3: --one-node copies %v, want node1", got)
	}
	if got := (&BackupRun{}).snapshotNodes(env); len(got) != 3 {
		t.Errorf("every node: %v", got)
	}
}
