package es

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/remote"
)

// TestDeleteIndicesAndCounts: several indices go in one request; one of
// them missing, each is deleted alone, and none is left; Counts reads each.
func TestDeleteIndicesAndCounts(t *testing.T) {
	c, err := elastic.NewCluster(t.TempDir(), elastic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range []string{"a", "b", "c", "d"} {
		if err := c.Seed(ix, 3, 1000); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(elastic.NewHandler(c, "node1"))
	defer srv.Close()
	cl, err := remote.NewESClient("node1", srv.URL, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := Counts(ctx, cl, []string{"a", "b", "c", "d"}); err != nil || len(n) != 4 || n["c"] != 3 {
		t.Fatalf("Counts = %v, %v", n, err)
	}
	if err := DeleteIndices(ctx, cl, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := DeleteIndices(ctx, cl, []string{"c", "missing", "d"}); err != nil {
		t.Fatal(err)
	}
	for _, ix := range []string{"a", "b", "c", "d"} {
		if Exists(ctx, cl, ix) {
			t.Errorf("%s is still there", ix)
		}
	}
}
