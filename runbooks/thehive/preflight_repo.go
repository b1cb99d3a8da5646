package thehive

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
)

// repositoryStep checks that the backup repository has room for the
// backup's estimated size: the keyspace's data directory on every Cassandra
// node and the attachments, which hotsnap streams into the repository (the
// Elasticsearch snapshot goes to Elasticsearch's own repository, checked by
// the elasticsearch step). It takes the sizes the checks beside it promised
// in du from there.
func repositoryStep(env *steps.Env, du *steps.Sizes) steps.Step {
	url := env.Inv.Repository.URL
	return steps.Step{
		ID: "repository", Title: "Free space in the backup repository for the backup's estimated size", Kind: steps.KindCheck, Component: "repository",
		Why: "Every node's snapshot and the attachments are streamed into the repository; a backup that fills it fails after hours of copying.",
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			if env.Inv.Cassandra != nil {
				for _, n := range env.NodesWith(config.RoleCassandra) {
					if !du.Promised(n) {
						out = append(out, steps.PlannedCommand{Node: n, Cmd: cassandra.KeyspaceDUCmd(env, n), Sudo: true})
					}
				}
			}
			if st := env.Inv.Storage; st != nil && st.Provider == config.StorageLocalFS {
				if n, p := files.Location(env); !du.Promised(files.SizeKey(n, p)) {
					out = append(out, steps.PlannedCommand{Node: n, Cmd: files.DUCmd(p), Sudo: true})
				}
			}
			return append(out, steps.PlannedCommand{Node: "repository", Cmd: "free space of " + url + " (statfs, or df -PB1 over SSH)"})
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			store, closeStore, err := env.OpenRepo(ctx)
			if err != nil {
				rc.Check(host.RepositoryUnreachable(err))
				return nil
			}
			defer closeStore()
			need, parts, problems := backupSize(ctx, rc, env, du)
			where := store.String()
			sp, ok := store.(repo.Spacer)
			if !ok {
				rc.Check(steps.CheckResult{Check: "repository space", Node: "repository", Status: steps.CheckPass,
					Evidence: fmt.Sprintf("%s reports no free space (object storage); the backup copies about %s (%s)", where, steps.HumanBytes(need), parts)})
				return nil
			}
			rc.Check(host.SpaceCheck(ctx, sp, where, need, parts, problems))
			return nil
		},
	}
}

// backupSize measures what a backup streams into the repository: the
// keyspace on every Cassandra node and the attachments. parts describes the
// sum; problems names what could not be measured.
func backupSize(ctx context.Context, rc *steps.RunContext, env *steps.Env, du *steps.Sizes) (need int64, parts string, problems []string) {
	var desc []string
	if env.Inv.Cassandra != nil {
		nodes := env.NodesWith(config.RoleCassandra)
		sizes, errs := cassandra.KeyspaceSizes(ctx, rc, env, nodes, du)
		var total int64
		for _, n := range sizes {
			total += n
		}
		need += total
		desc = append(desc, fmt.Sprintf("Cassandra %s from %d nodes", steps.HumanBytes(total), len(sizes)))
		if len(errs) > 0 {
			problems = append(problems, "the keyspace on "+strings.Join(slices.Sorted(maps.Keys(errs)), ", "))
		}
	}
	if env.Inv.Storage != nil {
		n, at, err := attachmentsSize(ctx, rc, env, du)
		if err != nil {
			problems = append(problems, "the attachments")
		} else {
			need += n
			desc = append(desc, fmt.Sprintf("attachments %s in %s", steps.HumanBytes(n), at))
		}
	}
	if len(desc) == 0 {
		return 0, "nothing to copy", problems
	}
	return need, strings.Join(desc, " + "), problems
}
