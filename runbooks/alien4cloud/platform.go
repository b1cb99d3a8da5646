package alien4cloud

import (
	"context"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

// Platform is Alien4Cloud 3.x's runbooks, as the registry hands them out
// (runbooks.Platform).
type Platform struct{}

// Name is config.PlatformAlien4Cloud.
func (Platform) Name() string { return config.PlatformAlien4Cloud }

// Options: --stop-service.
func (Platform) Options() []runbooks.Option { return []runbooks.Option{runbooks.StopService} }

// Preflight is the preflight runbook (Preflight).
func (Platform) Preflight(env *steps.Env) steps.Runbook { return Preflight(env) }

// Backup prepares the backup runbook (Backup); a backup taken again under
// the same ID (req.Prior) first deletes the snapshot the earlier run left.
func (Platform) Backup(env *steps.Env, req runbooks.BackupRequest) (runbooks.Backup, error) {
	b := &BackupRun{Store: req.Store, ID: req.ID, Label: req.Label, Tool: req.Tool, StopService: req.StopService, Resume: req.Prior != nil}
	rb := Backup(env, b)
	rb.Resume = req.Prior
	return &backup{env: env, b: b, rb: rb}, nil
}

// backup is a prepared Alien4Cloud backup.
type backup struct {
	env *steps.Env
	b   *BackupRun
	rb  steps.Runbook
}

func (x *backup) Runbook() steps.Runbook   { return x.rb }
func (x *backup) Manifest() *repo.Manifest { return x.b.Manifest() }

// Estimate reads Alien4Cloud's configuration (for its data directory) and
// measures what the backup would copy; it changes nothing.
func (x *backup) Estimate(ctx context.Context) (*steps.Estimate, error) {
	rc := steps.Detached(x.env.Exec, "estimate")
	s := newSite(x.env)
	if s.override() == "" {
		if _, err := s.read(ctx, rc); err != nil {
			return &steps.Estimate{Problems: []string{err.Error()}}, nil
		}
	}
	return estimate(ctx, rc, s, x.b.Store)
}

// Restore prepares the restore runbook (Restore); continuing an earlier
// run (req.Prior), the destructive steps it finished are not repeated, and
// once it swapped the data directory in, nothing is staged again.
func (Platform) Restore(env *steps.Env, req runbooks.RestoreRequest) (runbooks.Restore, error) {
	m := req.Manifest
	if m == nil {
		m = planManifest(env)
	}
	r := &RestoreRun{Store: req.Store, Manifest: m}
	if p := req.Prior; p != nil {
		r.DataDone = p.Done["data"] != ""
	}
	rb := Restore(env, r)
	rb.Resume = req.Prior
	return &restore{r: r, rb: rb}, nil
}

// restore is a prepared Alien4Cloud restore.
type restore struct {
	r  *RestoreRun
	rb steps.Runbook
}

func (x *restore) Runbook() steps.Runbook     { return x.rb }
func (x *restore) Manifest() *repo.Manifest   { return x.r.Manifest }
func (x *restore) Choices() map[string]string { return nil }
func (x *restore) LoadedWith() string         { return "" }
func (x *restore) Report() []string           { return x.r.Report() }

// planManifest is a stand-in manifest for planning a restore without a
// backup at hand: an Elasticsearch snapshot, the data directory and the
// configuration files.
func planManifest(env *steps.Env) *repo.Manifest {
	m := &repo.Manifest{ID: "<backup-id>", Platform: env.Inv.Platform, Cluster: env.Inv.Cluster,
		Files: &repo.FileStore{Provider: repo.ProviderLocalFS, Archive: "<backup-id>/" + repo.DataArchive}}
	if e := env.Inv.Elasticsearch; e != nil {
		m.Elasticsearch = &repo.ESSnapshot{Repository: e.Repository, Snapshot: "<backup-id>", Indices: ClassIndices}
	}
	return m
}
