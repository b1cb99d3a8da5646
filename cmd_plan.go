package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/runbooks/thehive"
)

// runbooks are the runbooks `plan` can show, by name.
var runbooks = map[string]func(*steps.Env) steps.Runbook{
	"preflight": func(env *steps.Env) steps.Runbook {
		// The plan shows the repository check; nothing opens the repository.
		env.OpenRepo = func(context.Context) (repo.Store, func(), error) {
			return nil, nil, errors.New("plan opens no repository")
		}
		return thehive.Preflight(env)
	},
	"restore": func(env *steps.Env) steps.Runbook {
		return thehive.Restore(env, &thehive.RestoreRun{Manifest: planManifest(env)})
	},
	"backup": func(env *steps.Env) steps.Runbook {
		return thehive.Backup(env, &thehive.BackupRun{ID: "<backup-id>"})
	},
}

func runbookNames() []string {
	var out []string
	for n := range runbooks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func newPlanCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "plan RUNBOOK",
		Short: "Print every step of a runbook with the exact command per node; change nothing",
		Long: `Print a runbook as it would run against the inventory: each step in order, why
it exists (the runbook text it follows), whether it is destructive, which steps
run at the same time, and the exact commands per node, with secrets masked.
Nothing is run and no node is contacted.

Runbooks: ` + strings.Join(runbookNames(), ", "),
		Example:   "  hotsnap plan preflight",
		Args:      cobra.ExactArgs(1),
		ValidArgs: runbookNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			build, ok := runbooks[args[0]]
			if !ok {
				return usageErr(fmt.Errorf("unknown runbook %q: choose one of %s", args[0], strings.Join(runbookNames(), ", ")))
			}
			inv, err := loadRunbookInventory(g)
			if err != nil {
				return err
			}
			printPlan(cmd.OutOrStdout(), build(&steps.Env{Inv: inv}))
			return nil
		},
	}
}

func printPlan(w io.Writer, rb steps.Runbook) {
	fmt.Fprintf(w, "runbook %s · cluster %s · %d steps\n", rb.Name, rb.Cluster, len(rb.Steps))
	for i, s := range rb.Steps {
		mark := ""
		if s.Destructive {
			mark = "  [DESTRUCTIVE]"
		}
		fmt.Fprintf(w, "\n%d. %s (%s)%s\n", i+1, s.Title, s.Kind, mark)
		if s.Why != "" {
			fmt.Fprintf(w, "   why: %s\n", s.Why)
		}
		if s.Gate != nil {
			fmt.Fprintf(w, "   gate: %s\n", s.Gate.Happens)
		}
		if first, last := rb.Group(i); first != last {
			fmt.Fprintf(w, "   runs at the same time as steps %d–%d (their output is shown in step order)\n", first+1, last+1)
		}
		if s.Plan == nil {
			continue
		}
		for _, c := range s.Plan() {
			line := c.Cmd
			if c.Sudo {
				line = "sudo sh -c " + remote.Quote(c.Cmd)
			}
			fmt.Fprintf(w, "   %-8s $ %s\n", c.Node, line)
			if c.Note != "" {
				fmt.Fprintf(w, "   %-8s   # %s\n", "", c.Note)
			}
		}
	}
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
