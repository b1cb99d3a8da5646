package runbooks

import (
	"context"
	"time"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// MarkBackup is the step that opens backup id's folder in store with its
// marker (repo.RunFile: the run, the keyspace and the Elasticsearch snapshot
// it is about to start), before any snapshot starts: a run that fails, is
// cancelled or killed before its manifest leaves a folder `list` shows as
// INCOMPLETE, naming the run, and that prune removes with its Elasticsearch
// snapshot. Every platform's backup puts it right after its gate.
func MarkBackup(env *steps.Env, store repo.Store, id string) steps.Step {
	where := Where(store)
	return steps.Step{
		ID: "mark", Title: "Open the backup's folder in the repository", Kind: steps.KindAction, Component: "repository",
		Why: "The folder and its marker exist before any snapshot starts, so that a run that never reaches its manifest is still listed (INCOMPLETE, naming its run) and pruned with its Elasticsearch snapshot.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "repository", Cmd: "write " + id + "/" + repo.RunFile + " in " + where}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			m := &repo.RunMarker{ID: id, Run: rc.RunID(), Platform: env.Inv.Platform, Cluster: env.Inv.Cluster, Started: time.Now().UTC()}
			if c := env.Inv.Cassandra; c != nil {
				m.Keyspace = c.Keyspace
			}
			if ec := env.Inv.Elasticsearch; ec != nil {
				m.Elasticsearch = &repo.ESSnapshot{Repository: ec.Repository, Snapshot: id, Location: ec.RepositoryPath}
			}
			return repo.WriteRun(ctx, store, m)
		},
	}
}
