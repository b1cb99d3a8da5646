package main

import (
	"context"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
)

// TestE2EOpenSearch: hotsnap's Elasticsearch requests (go-elasticsearch's
// esapi request types through the SSH tunnel, not the v8 client, whose
// product check refuses OpenSearch) work against `lab up --search
// opensearch` with basic auth on: the backup records OpenSearch's version
// and a SUCCESS snapshot, and after the index is deleted the restore brings
// every document back.
func TestE2EOpenSearch(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hses0", Subnet: 170, Nodes: 1, Data: 2 << 20, Search: lab.SearchOpenSearch, Auth: true})
	pw, err := l.Secret(lab.SecretES)
	if err != nil {
		t.Fatal(err)
	}
	// The test's own view of the index, from op, with the lab's credentials.
	cl, err := remote.NewESClient("node1", "http://"+l.Nodes[0].IP+":9200", lab.ESUser, pw, l.OpDial)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	info, err := es.Info(ctx, cl)
	if err != nil || !info.IsOpenSearch() {
		t.Fatalf("the lab's search engine: %+v, %v", info, err)
	}
	before, err := es.Count(ctx, cl, lab.ESIndex)
	if err != nil || before == 0 {
		t.Fatalf("the lab's index holds %d documents (%v)", before, err)
	}
	hotsnapOK(t, l, "backup", "--yes", "--no-tui")
	id := newestBackup(t, l)
	m, err := repo.ReadManifest(t.Context(), mustStore(t, l.BackupsPath()), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Versions["opensearch"] != elastic.OSVersion || m.Elasticsearch == nil || m.Elasticsearch.State != "SUCCESS" || m.Elasticsearch.UUID == "" {
		t.Fatalf("the manifest records versions %v and snapshot %+v", m.Versions, m.Elasticsearch)
	}

	if err := es.DeleteIndices(ctx, cl, []string{lab.ESIndex}); err != nil {
		t.Fatal(err)
	}
	if es.Exists(ctx, cl, lab.ESIndex) {
		t.Fatal("the index is still there")
	}
	if out := hotsnapOK(t, l, "restore", id, "--yes", "--confirm", "lab", "--no-tui"); !strings.Contains(out, steps.SuccessLine) {
		t.Fatalf("restore did not end with %q:\n%s", steps.SuccessLine, out)
	}
	if after, err := es.Count(ctx, cl, lab.ESIndex); err != nil || after != before {
		t.Errorf("%d documents after the restore (%v), %d in the backup", after, err, before)
	}
}
