package thehive

import (
	"context"
	"fmt"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
)

// Platform is TheHive's runbooks, as the registry hands them out
// (runbooks.Platform, runbooks.Documented, runbooks.Discoverer).
type Platform struct{}

// Name is config.PlatformTheHive.
func (Platform) Name() string { return config.PlatformTheHive }

// Options: --one-node, --s3-exact, --set-rf and restore PATH.
func (Platform) Options() []runbooks.Option {
	return []runbooks.Option{runbooks.OneNode, runbooks.S3Exact, runbooks.SetRF, runbooks.DocumentedBackups}
}

// Preflight is the preflight runbook (Preflight).
func (Platform) Preflight(env *steps.Env) steps.Runbook { return Preflight(env) }

// Backup prepares the backup runbook (Backup); a backup taken again under
// the same ID (req.Prior) first clears what the earlier run left.
func (Platform) Backup(env *steps.Env, req runbooks.BackupRequest) (runbooks.Backup, error) {
	b := &BackupRun{Store: req.Store, ID: req.ID, Label: req.Label, Tool: req.Tool, OneNode: req.OneNode, Resume: req.Prior != nil}
	rb := Backup(env, b)
	rb.Resume = req.Prior
	return &backup{env: env, b: b, rb: rb}, nil
}

// backup is a prepared TheHive backup.
type backup struct {
	env *steps.Env
	b   *BackupRun
	rb  steps.Runbook
}

func (x *backup) Runbook() steps.Runbook   { return x.rb }
func (x *backup) Manifest() *repo.Manifest { return x.b.Manifest() }
func (x *backup) Estimate(ctx context.Context) (*steps.Estimate, error) {
	return EstimateBackup(ctx, x.env, x.b)
}

// Restore prepares the restore runbook (Restore). Continuing an earlier
// run (req.Prior), the keyspace it restored is neither staged nor needed,
// and once it put the attachments back, comparing the bucket and asking
// what to do with it would decide nothing: those two steps go.
func (Platform) Restore(env *steps.Env, req runbooks.RestoreRequest) (runbooks.Restore, error) {
	m := req.Manifest
	if m == nil {
		m = planManifest(env)
	}
	return newRestore(env, &RestoreRun{Store: req.Store, Manifest: m, S3Exact: req.S3Exact, SetRF: req.SetRF}, req.Prior), nil
}

// newRestore builds the restore r, continuing prior when set.
func newRestore(env *steps.Env, r *RestoreRun, prior *steps.PriorRun) *restore {
	if prior != nil {
		r.CassandraDone = prior.Done["cassandra"] != ""
	}
	rb := Restore(env, r)
	if l := r.Legacy; l != nil && l.Backup != nil && l.Backup.Set != nil {
		rb.Params = map[string]string{runbooks.ParamDocumentedPath: l.Backup.Source, runbooks.ParamDocumentedAt: l.Backup.Set.Stamp}
	}
	if prior != nil {
		rb.Resume = prior
		if prior.Done["files"] != "" {
			var keep []steps.Step
			for _, st := range rb.Steps {
				if st.ID != S3ChoiceGate && st.ID != "s3-compare" {
					keep = append(keep, st)
				}
			}
			rb.Steps = keep
		}
	}
	return &restore{r: r, rb: rb}
}

// restore is a prepared TheHive restore.
type restore struct {
	r  *RestoreRun
	rb steps.Runbook
}

func (x *restore) Runbook() steps.Runbook   { return x.rb }
func (x *restore) Manifest() *repo.Manifest { return x.r.Manifest }
func (x *restore) LoadedWith() string       { return x.r.LoadedWith() }
func (x *restore) Report() []string         { return x.r.Report() }

// Choices: --s3-exact answers the S3 choice gate, --set-rf the
// replication's.
func (x *restore) Choices() map[string]string {
	c := map[string]string{}
	if x.r.S3Exact {
		c[S3ChoiceGate] = S3ChoiceExact
	}
	if x.r.SetRF {
		c[cassandra.RFChoiceGate] = cassandra.RFSet
	}
	if len(c) == 0 {
		return nil
	}
	return c
}

// planManifest is a stand-in manifest for planning a restore without a
// backup at hand: it has every component the inventory has.
func planManifest(env *steps.Env) *repo.Manifest {
	m := &repo.Manifest{ID: "<backup-id>", Platform: env.Inv.Platform, Cluster: env.Inv.Cluster}
	if c := env.Inv.Cassandra; c != nil {
		m.Keyspace = c.Keyspace
	}
	if e := env.Inv.Elasticsearch; e != nil {
		m.Elasticsearch = &repo.ESSnapshot{Repository: e.Repository, Snapshot: "<backup-id>", Indices: []string{e.Index, e.AuditIndex}}
	}
	if st := env.Inv.Storage; st != nil {
		m.Files = &repo.FileStore{Provider: st.Provider, Path: st.Path}
	}
	return m
}

// DocumentedRoot is the documented scripts' default BACKUP_ROOT.
func (Platform) DocumentedRoot() string { return "/mnt/backup" }

// DocumentedBackups lists the documented scripts' backups found, each with
// the components and size of its set.
func (Platform) DocumentedBackups(found *repo.LegacyFound) []repo.Summary {
	var out []repo.Summary
	for _, stamp := range found.Stamps() {
		set, err := found.SelectLegacy(stamp)
		if err != nil {
			continue
		}
		sum := repo.Summary{ID: set.ID(), Started: set.Cassandra.Time, Complete: true}
		for _, it := range []*repo.LegacyItem{set.Cassandra, set.Elasticsearch, set.Files, set.SeaweedFS, set.MinIO} {
			if it != nil {
				sum.Size += it.Size
				sum.Components = append(sum.Components, it.Kind)
			}
		}
		out = append(out, sum)
	}
	return out
}

// RestoreDocumented picks the documented scripts' backup of req (the
// newest, or the one stamped req.At) and prepares its restore, which reads
// it first: see documentedRestore. It contacts nothing.
func (Platform) RestoreDocumented(env *steps.Env, req runbooks.DocumentedRequest) (runbooks.Restore, string, error) {
	set, err := req.Found.SelectLegacy(req.At)
	if err != nil {
		return nil, "", &runbooks.Refusal{Err: err}
	}
	return &documentedRestore{env: env, req: req, set: set}, fmt.Sprintf("%s in %s", set.Stamp, req.Source), nil
}
