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
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

// plannable are the runbooks `plan` can show, by name, built from the
// platform's.
var plannable = map[string]func(runbooks.Platform, *steps.Env) (steps.Runbook, error){
	"preflight": func(p runbooks.Platform, env *steps.Env) (steps.Runbook, error) {
		// The plan shows the repository check; nothing opens the repository.
		env.OpenRepo = func(context.Context) (repo.Store, func(), error) {
			return nil, nil, errors.New("plan opens no repository")
		}
		return p.Preflight(env), nil
	},
	"restore": func(p runbooks.Platform, env *steps.Env) (steps.Runbook, error) {
		r, err := p.Restore(env, runbooks.RestoreRequest{})
		if err != nil {
			return steps.Runbook{}, err
		}
		return r.Runbook(), nil
	},
	"backup": func(p runbooks.Platform, env *steps.Env) (steps.Runbook, error) {
		b, err := p.Backup(env, runbooks.BackupRequest{ID: "<backup-id>"})
		if err != nil {
			return steps.Runbook{}, err
		}
		return b.Runbook(), nil
	},
}

func runbookNames() []string {
	var out []string
	for n := range plannable {
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
			build, ok := plannable[args[0]]
			if !ok {
				return usageErr(fmt.Errorf("unknown runbook %q: choose one of %s", args[0], strings.Join(runbookNames(), ", ")))
			}
			inv, p, err := loadRunbookInventory(g)
			if err != nil {
				return err
			}
			rb, err := build(p, &steps.Env{Inv: inv})
			if err != nil {
				return err
			}
			printPlan(cmd.OutOrStdout(), rb)
			if d, ok := p.(runbooks.Documented); ok && args[0] == "restore" {
				// restore PATH makes the steps above from what its first
				// step reads: show that step.
				r, _, err := d.RestoreDocumented(&steps.Env{Inv: inv}, runbooks.DocumentedRequest{Path: "PATH", Found: planLegacyFound()})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\nrestore PATH, a backup of the documented scripts: its first step reads it, then makes the steps above from what it found\n")
				printPlan(cmd.OutOrStdout(), r.Runbook())
			}
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
		if s.Then != nil {
			fmt.Fprintf(w, "   %s\n", steps.ThenNote)
		}
	}
}

// planLegacyFound is a stand-in for a folder of the documented scripts'
// backups, to plan a restore PATH without reading one.
func planLegacyFound() *repo.LegacyFound {
	const stamp = "<stamp>"
	f := &repo.LegacyFound{Root: "PATH"}
	for _, it := range []struct{ kind, path string }{
		{repo.LegacyCassandra, "cassandra/cassandra_" + stamp + ".tar"},
		{repo.LegacyElasticsearch, "elasticsearch/elasticsearch_" + stamp + ".info"},
		{repo.LegacyFiles, "storage/files_" + stamp + ".tar"},
	} {
		f.Items = append(f.Items, repo.LegacyItem{Kind: it.kind, Stamp: stamp, Path: it.path})
	}
	return f
}
