package runbooks

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// TestManifestStep: the step completes the run's manifest under its lock
// (finish time, a start time when none was set, the platform's last facts)
// and writes it into the repository, where ReadManifest finds it.
func TestManifestStep(t *testing.T) {
	ctx := context.Background()
	store, err := repo.Open(ctx, t.TempDir(), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := repo.NewID(time.Now())
	var mu sync.Mutex
	m := repo.Manifest{Format: repo.ManifestFormat, ID: id, Platform: "thehive", Cluster: "prod"}
	s := ManifestStep(store, id, &mu, &m, func(m *repo.Manifest) { m.Warnings = append(m.Warnings, "added last") })
	if p := s.Plan(); len(p) != 1 || p[0].Cmd != "write "+id+"/manifest.json in "+store.String() {
		t.Errorf("plan: %+v", p)
	}
	e := &steps.Engine{Reporter: &steps.Recorder{}}
	if err := e.Run(ctx, steps.Runbook{Name: "t", Cluster: "prod", Steps: []steps.Step{s}}); err != nil {
		t.Fatal(err)
	}
	if m.Finished.IsZero() || !m.Started.Equal(m.Finished) || len(m.Warnings) != 1 {
		t.Errorf("the run's manifest was not completed: %+v", m)
	}
	got, err := repo.ReadManifest(ctx, store, id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Finished.Equal(m.Finished) || len(got.Warnings) != 1 || got.Warnings[0] != "added last" {
		t.Errorf("written manifest: %+v", got)
	}
}

func TestManifestDigestSeesChanges(t *testing.T) {
	m := &repo.Manifest{ID: "b1", Keyspace: "thehive"}
	a := ManifestDigest(m)
	if a != ManifestDigest(&repo.Manifest{ID: "b1", Keyspace: "thehive"}) {
		t.Error("digest of equal manifests differs")
	}
	m.Keyspace = "thehive2"
	if ManifestDigest(m) == a {
		t.Error("digest did not change with the manifest")
	}
}
