package eclecticiq

import (
	"context"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

// Platform is EclecticIQ's runbooks, as the registry hands them out
// (runbooks.Platform).
type Platform struct{}

// Name is config.PlatformEclecticIQ.
func (Platform) Name() string { return config.PlatformEclecticIQ }

// Options: --hot and --redis-rdb.
func (Platform) Options() []runbooks.Option {
	return []runbooks.Option{runbooks.Hot, runbooks.RedisRDB}
}

// Preflight is the preflight runbook (Preflight).
func (Platform) Preflight(env *steps.Env) steps.Runbook { return Preflight(env) }

// Backup prepares the backup runbook; taken again under the same ID
// (req.Prior), the snapshot the earlier run left is deleted first and
// every part is taken anew.
func (Platform) Backup(env *steps.Env, req runbooks.BackupRequest) (runbooks.Backup, error) {
	b := &backupRun{s: newSite(env), store: req.Store, id: req.ID, hot: req.Hot, rdb: req.RedisRDB, resume: req.Prior != nil}
	rb := b.runbook()
	b.m.Tool, b.m.Label = req.Tool, req.Label
	rb.Resume = req.Prior
	return &backup{b: b, rb: rb}, nil
}

type backup struct {
	b  *backupRun
	rb steps.Runbook
}

func (x *backup) Runbook() steps.Runbook { return x.rb }

func (x *backup) Manifest() *repo.Manifest {
	x.b.mu.Lock()
	defer x.b.mu.Unlock()
	m := x.b.m
	return &m
}

// Estimate measures the databases and the indices; it changes nothing.
func (x *backup) Estimate(ctx context.Context) (*steps.Estimate, error) {
	st := x.b.measureStep()
	rc := steps.Detached(x.b.s.env.Exec, st.ID)
	if err := st.Run(ctx, rc); err != nil {
		return nil, err
	}
	x.b.mu.Lock()
	defer x.b.mu.Unlock()
	return x.b.est, nil
}

// Restore prepares the restore of req.Manifest (or, to plan, of a
// stand-in with every part); a resumed run skips the destructive steps
// its predecessor finished (the engine does).
func (Platform) Restore(env *steps.Env, req runbooks.RestoreRequest) (runbooks.Restore, error) {
	m := req.Manifest
	if m == nil {
		m = planManifest(env)
	}
	r := &restoreRun{s: newSite(env), store: req.Store, m: m}
	rb := r.runbook()
	rb.Resume = req.Prior
	return &restore{r: r, rb: rb}, nil
}

type restore struct {
	r  *restoreRun
	rb steps.Runbook
}

func (x *restore) Runbook() steps.Runbook     { return x.rb }
func (x *restore) Manifest() *repo.Manifest   { return x.r.m }
func (x *restore) Choices() map[string]string { return nil }
func (x *restore) LoadedWith() string         { return "psql" }
func (x *restore) Report() []string           { return x.r.report.Lines() }

// planManifest is a stand-in manifest for planning a restore without a
// backup at hand: every part the inventory has.
func planManifest(env *steps.Env) *repo.Manifest {
	m := &repo.Manifest{ID: "<backup-id>", Platform: env.Inv.Platform, Cluster: env.Inv.Cluster,
		PostgreSQL: &repo.PGBackup{DumpDatabases: []string{"<the dump's databases>"}},
		Configs:    []repo.FileStore{{Archive: repo.ConfigArchivePath("<backup-id>", "<node>")}}}
	if e := env.Inv.Elasticsearch; e != nil {
		m.Elasticsearch = &repo.ESSnapshot{Repository: e.Repository, Snapshot: "<backup-id>", Indices: []string{"<the backup's indices>"}}
	}
	return m
}
