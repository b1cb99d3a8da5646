package es

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/steps"
)

// TestFollowRecoveryDeadline: a recovery that crawls (1 byte a second, as
// `es-standin fault --recovery-rate 1` makes it) is given up at its
// deadline, naming the node, the indices, how far it got and the flag.
func TestFollowRecoveryDeadline(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	c, err := elastic.NewCluster(t.TempDir(), elastic.Options{PathRepo: []string{root}, RecoveryRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Seed("thehive_global", 50, 1<<20); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(elastic.NewHandler(c, "es-1"))
	defer srv.Close()
	cl, node, err := Open(envFor(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if r, err := Do(ctx, cl, esapi.SnapshotCreateRepositoryRequest{Repository: "r",
		Body: strings.NewReader(`{"type":"fs","settings":{"location":"` + root + `/es"}}`)}); err != nil || r.Status != 200 {
		t.Fatalf("register the repository: %v %+v", err, r)
	}
	idx := []string{"thehive_global"}
	if err := StartSnapshot(ctx, cl, "r", "s", idx); err != nil {
		t.Fatal(err)
	}
	if _, err := FollowSnapshot(ctx, cl, "r", "s", 20*time.Millisecond, func(int64, int64) {}, nil); err != nil {
		t.Fatal(err)
	}
	if err := DeleteIndices(ctx, cl, idx); err != nil {
		t.Fatal(err)
	}
	if err := Restore(ctx, cl, "r", "s", idx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err = FollowRecovery(ctx, cl, idx, 20*time.Millisecond, 300*time.Millisecond, func(int64, int64) {})
	if !errors.Is(err, steps.ErrDeadline) {
		t.Fatalf("FollowRecovery = %v, want the deadline", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("gave up after %s, deadline 300ms", d)
	}
	for _, want := range []string{node + ":", "recovery of thehive_global", "not DONE", "300ms", "--timeout-recovery"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}
