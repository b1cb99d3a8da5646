package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Check is the preflight check of the cluster: psql logs in as its OS user,
// pg_dumpall's version is not older than the server's (pg_dumpall refuses
// a newer server), and the databases with their sizes. seen, when set,
// receives the server's version and the databases.
func Check(c Cluster, seen func(server parse.PGVersion, dbs []parse.PGDatabase)) steps.Step {
	return steps.Step{
		ID: "postgresql", Title: "PostgreSQL: login, versions, databases", Kind: steps.KindCheck, Component: Component,
		Why: "The backup runs pg_dumpall as the postgres OS user (peer authentication, as the guidelines' `sudo -i -u postgres`); pg_dumpall cannot dump a newer server.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: c.Node, Cmd: c.VersionCmd(), Sudo: true}, {Node: c.Node, Cmd: c.Query("postgres", DatabasesSQL), Sudo: true}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			client, server, err := c.Versions(ctx, rc)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "postgresql login", Node: c.Node, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: fmt.Sprintf("check that PostgreSQL runs on %s port %d and that `sudo -u %s psql -p %d -c 'select 1'` works there (eclecticiq.postgres.os_user, port, bin_dir in the inventory)", c.Node, c.Port, c.OSUser, c.Port)})
				return nil
			}
			ver := steps.CheckResult{Check: "postgresql versions", Node: c.Node, Status: steps.CheckPass,
				Evidence: fmt.Sprintf("server %s, pg_dumpall %s", server.Full, client.Full)}
			if client.Major < server.Major {
				ver.Status, ver.Remedy = steps.CheckFail, fmt.Sprintf("pg_dumpall %d cannot dump a PostgreSQL %d server: set eclecticiq.postgres.bin_dir to the server's bin directory (/usr/pgsql-%d/bin)", client.Major, server.Major, server.Major)
			}
			rc.Check(ver)
			dbs, err := c.Databases(ctx, rc)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "postgresql databases", Node: c.Node, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			var parts []string
			for _, d := range dbs {
				parts = append(parts, d.Name+" "+steps.HumanBytes(d.Size))
			}
			rc.Check(steps.CheckResult{Check: "postgresql databases", Node: c.Node, Status: steps.CheckPass, Evidence: strings.Join(parts, ", ")})
			if seen != nil {
				seen(server, dbs)
			}
			return nil
		},
	}
}
