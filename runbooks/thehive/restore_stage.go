package thehive

import (
	"context"

	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
)

// stageStep streams each node's own archives into its staging folder while
// TheHive still runs, checking each archive against the manifest as it
// streams: a damaged archive stops the restore here, before TheHive stops
// and before anything changes. The keyspace step then only imports.
func stageStep(env *steps.Env, r *RestoreRun) steps.Step {
	return steps.Step{
		ID: "stage", Title: "Stage each node's SSTables next to its data, verifying every archive", Kind: steps.KindAction, Component: cassandra.Component,
		Why:  "The bulk of a restore is moving bytes: done while TheHive still runs, it shortens the outage, and each archive is hashed as it streams, so a damaged one stops the restore before anything is stopped or changed. Staging writes only into its own folder.",
		Plan: func() []steps.PlannedCommand { return r.keyspace().StagePlan(env) },
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			return r.keyspace().Stage(ctx, rc, env)
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return r.keyspace().Unstage(ctx, rc, env)
		},
	}
}
