package runbooks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
)

// Prune builds the runbook that removes backups (any platform's): a destructive gate naming
// them, then each backup's files and its Elasticsearch snapshot (an
// incomplete backup's: the one its marker names).
func Prune(env *steps.Env, store repo.Store, remove []repo.Summary) steps.Runbook {
	var ids []string
	for _, r := range remove {
		ids = append(ids, r.ID)
	}
	return steps.Runbook{Name: "prune", Cluster: env.Inv.Cluster, Exclusive: true, Steps: []steps.Step{
		{ID: "approve", Title: "Remove old backups", Kind: steps.KindGate, Component: steps.ComponentBackup, Gate: &steps.GateRequest{
			Happens: fmt.Sprintf("remove %d backups from %s and their Elasticsearch snapshots: %s", len(ids), store, strings.Join(ids, ", ")),
			Loses:   "these backups, for good", Destructive: true, Rollback: "none: copy them elsewhere first if in doubt"}},
		{ID: "remove", Title: "Remove the backups", Kind: steps.KindAction, Component: "repository", Destructive: true,
			Plan: func() []steps.PlannedCommand {
				var out []steps.PlannedCommand
				for _, id := range ids {
					out = append(out, steps.PlannedCommand{Node: "repository", Cmd: "rm -r " + id + " in " + store.String()})
				}
				return out
			},
			Run: func(ctx context.Context, rc *steps.RunContext) error {
				var errs []error
				for _, id := range ids {
					// An incomplete backup's marker names the snapshot its run
					// started.
					if snap := repo.ESSnapshotOf(ctx, store, id); snap != nil && env.Inv.Elasticsearch != nil {
						if cl, _, err := es.Open(env); err == nil {
							_, err := es.DeleteSnapshot(ctx, cl, snap.Repository, snap.Snapshot, "delete ES snapshot")
							cl.Close()
							if err != nil {
								errs = append(errs, fmt.Errorf("%s: %w", id, err))
								continue
							}
						}
					}
					if err := store.RemoveAll(ctx, id); err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", id, err))
						continue
					}
					rc.Output("", "removed "+id)
				}
				return errors.Join(errs...)
			}},
	}}
}

// Verify re-hashes backup id against its manifest and checks that its
// Elasticsearch snapshot still exists and is SUCCESS. The manifest is nil
// when it cannot be read (Verify then reports why among the problems).
func Verify(ctx context.Context, env *steps.Env, store repo.Store, id string) ([]repo.Problem, *repo.Manifest, error) {
	probs, err := repo.Verify(ctx, store, id, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("verify %s: %w", id, err)
	}
	m, err := repo.ReadManifest(ctx, store, id)
	if err != nil {
		return probs, nil, nil
	}
	if m.Elasticsearch != nil && env.Inv.Elasticsearch != nil {
		if p := es.CheckSnapshot(ctx, env, m.Elasticsearch); p != "" {
			probs = append(probs, repo.Problem{Path: "elasticsearch:" + m.Elasticsearch.Snapshot, What: p})
		}
	}
	return probs, m, nil
}
