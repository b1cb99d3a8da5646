package repo

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunMarker: a folder holding only its marker is listed INCOMPLETE,
// naming the run; ESSnapshotOf finds the snapshot the marker names, and
// the manifest's once there is one; verify of a complete backup accepts
// its marker.
func TestRunMarker(t *testing.T) {
	s, _ := localStoreT(t)
	ctx := context.Background()
	id := "hotsnap-20261122-100000-0001"
	m := &RunMarker{ID: id, Run: "20261122T100000-abcd", Platform: "thehive", Cluster: "prod", Started: time.Now().UTC(),
		Keyspace: "thehive", Elasticsearch: &ESSnapshot{Repository: "hotsnap", Snapshot: id}}
	if err := WriteRun(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	sums, err := List(ctx, s)
	if err != nil || len(sums) != 1 {
		t.Fatalf("List = %+v, %v", sums, err)
	}
	if x := sums[0]; x.Complete || x.Run != m.Run || !strings.Contains(x.Problem, "did not finish (run "+m.Run+")") {
		t.Errorf("marked, unfinished backup: %+v", x)
	}
	if es := ESSnapshotOf(ctx, s, id); es == nil || es.Snapshot != id || es.Repository != "hotsnap" {
		t.Errorf("ESSnapshotOf(marker) = %+v", es)
	}
	if _, err := ReadRun(ctx, s, "hotsnap-20261122-100000-0002"); err == nil {
		t.Error("ReadRun of an absent marker: no error")
	}

	done := "hotsnap-20261123-100000-0001"
	makeBackup(t, s, done, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	if err := WriteRun(ctx, s, &RunMarker{ID: done, Run: "r2", Elasticsearch: &ESSnapshot{Repository: "other", Snapshot: done}}); err != nil {
		t.Fatal(err)
	}
	if es := ESSnapshotOf(ctx, s, done); es == nil || es.Repository != "hotsnap" {
		t.Errorf("ESSnapshotOf(complete) = %+v, want the manifest's", es)
	}
	probs, err := Verify(ctx, s, done, nil)
	if err != nil || len(probs) != 0 {
		t.Errorf("verify of a complete backup with its marker: %v %+v", err, probs)
	}
	if err := WriteRun(ctx, s, &RunMarker{ID: "../x"}); err == nil {
		t.Error("WriteRun accepted a bad ID")
	}
}
