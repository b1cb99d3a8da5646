package eclecticiq

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/host"
	"github.com/hotsnap/hotsnap/steps/parse"
	"github.com/hotsnap/hotsnap/steps/postgres"
	"github.com/hotsnap/hotsnap/steps/redis"
	"github.com/hotsnap/hotsnap/steps/service"
)

// Preflight builds the preflight runbook (reference: "EclecticIQ preflight",
// P1–P6): the units and their states, PostgreSQL (login as the postgres OS
// user, versions, databases and sizes), Elasticsearch (health, the
// repository registered, under path.repo, verified), Redis (PING with the
// password through REDISCLI_AUTH, the broker's database, the queue keys by
// type), every configuration path, and the repository's room. It changes
// nothing.
func Preflight(env *steps.Env) steps.Runbook {
	s := newSite(env)
	return steps.Runbook{Name: "preflight", Cluster: env.Inv.Cluster, Steps: preflightSteps(s, runbooks.NewLeftovers(env, env.OpenRepo), nil)}
}

// preflightSteps are the checks, SSH first, the others at once; left
// looks for the snapshots earlier runs left (the backup keeps what it
// finds for its gate; nil: not looked for, as in a restore); extra (the
// backup's estimate) runs with them.
func preflightSteps(s *site, left *runbooks.Leftovers, extra *steps.Step) []steps.Step {
	env := s.env
	checks := []steps.Step{unitsCheck(s), pgCheck(s), redisCheck(s)}
	if env.Inv.Elasticsearch != nil {
		st := es.Check(env, es.CheckOptions{})
		st.Why = "The platform's indices are snapshotted into an fs repository under path.repo (seed 003's example), registered once on the cluster."
		checks = append(checks, st)
	}
	checks = append(checks, configCheck(s))
	if left != nil {
		checks = append(checks, left.Check())
	}
	if extra != nil {
		checks = append(checks, *extra)
	}
	for i := range checks {
		checks[i].Concurrent = true
	}
	return append([]steps.Step{host.SSHCheck(env)}, checks...)
}

func pgCheck(s *site) steps.Step {
	return postgres.Check(s.pg(), nil)
}

func redisCheck(s *site) steps.Step {
	return redis.Check(s.redisNode, s.broker)
}

// unitsCheck lists the platform's units (P1): the services and workers
// units must exist; their state is what a backup will stop.
func unitsCheck(s *site) steps.Step {
	u := service.Units{Node: s.platform, Patterns: unitPatterns}
	return steps.Step{
		ID: "units", Title: "The platform's systemd units and their states", Kind: steps.KindCheck, Component: "platform",
		Why:  "Seed 003 stops eclecticiq-platform-backend-services, then the workers (worker*.service), and a restore starts them again: each must be there.",
		Plan: steps.PlanEach([]string{s.platform}, u.ListCmd(), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			us, err := u.List(ctx, rc)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "units", Node: s.platform, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			byState := map[parse.UnitActiveState][]string{}
			for _, x := range us {
				byState[x.Active] = append(byState[x.Active], strings.TrimSuffix(x.Unit, ".service"))
			}
			var ev []string
			for _, st := range []parse.UnitActiveState{parse.UnitActive, parse.UnitActivating, parse.UnitDeactivating, parse.UnitInactive, parse.UnitFailed} {
				if n := byState[st]; len(n) > 0 {
					ev = append(ev, fmt.Sprintf("%d %s", len(n), st))
				}
			}
			r := steps.CheckResult{Check: "units", Node: s.platform, Status: steps.CheckPass, Evidence: fmt.Sprintf("%d units: %s", len(us), strings.Join(ev, ", "))}
			for _, want := range []string{UnitServices, UnitWorkers} {
				if !slices.ContainsFunc(us, func(x parse.ListedUnit) bool { return x.Unit == want+".service" }) {
					r.Status = steps.CheckFail
					r.Evidence += "; no " + want
					r.Remedy = "run hotsnap against the node with the platform's units (role platform in the inventory)"
				}
			}
			if f := byState[parse.UnitFailed]; len(f) > 0 && r.Status == steps.CheckPass {
				r.Status, r.Remedy = steps.CheckWarn, "failed: "+strings.Join(f, ", ")+" — `journalctl -u UNIT` says why"
			}
			rc.Check(r)
			return nil
		},
	}
}

// secretFiles are the configuration files that hold secrets (reference
// P6): the archive keeps their modes, and it is mode 0600 in the
// repository.
var secretFiles = []string{"platform_settings.py", "elasticsearch.keystore", "users", "neo4j.key"}

// configCheck finds every configuration path (P6): missing ones warn.
func configCheck(s *site) steps.Step {
	c := s.conf()
	cmd := "for p in " + quoteAll(c.Listed()) + `; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done; [ -d /etc/neo4j ] && echo neo4j-present; true`
	return steps.Step{
		ID: "configuration", Title: "The configuration files of seed 003's list", Kind: steps.KindCheck, Component: "configuration",
		Why:  "The configuration is archived with owners and modes; Elasticsearch's live data directories in the list are left out (only a snapshot copies them safely).",
		Plan: steps.PlanEach([]string{s.platform}, "for p in <the "+fmt.Sprint(len(c.Listed()))+" configuration paths>; do [ -e \"$p\" ] || echo \"$p\"; done", true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := rc.Stdout(ctx, s.platform, cmd, true)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "configuration", Node: s.platform, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			var missing []string
			neo4j := false
			for _, l := range strings.Fields(out) {
				if l == "neo4j-present" {
					neo4j = true
					continue
				}
				missing = append(missing, l)
			}
			n := len(c.Listed())
			var secrets []string
			for _, p := range c.Listed() {
				if slices.Contains(secretFiles, path.Base(p)) && !slices.Contains(missing, p) {
					secrets = append(secrets, p)
				}
			}
			r := steps.CheckResult{Check: "configuration", Node: s.platform, Status: steps.CheckPass,
				Evidence: fmt.Sprintf("%d of %d paths present (%d excluded: live data); secrets among them: %s", n-len(missing), n, len(c.Paths)-n, strings.Join(secrets, ", "))}
			if len(missing) > 0 {
				r.Status = steps.CheckWarn
				r.Evidence += "; missing: " + strings.Join(missing, ", ")
				r.Remedy = "nothing to do if these parts are not installed here; otherwise list the right paths in eclecticiq.config_paths"
			}
			rc.Check(r)
			if neo4j {
				rc.Check(steps.CheckResult{Check: "neo4j", Node: s.platform, Status: steps.CheckWarn, Evidence: "/etc/neo4j exists: Neo4j's data is in no part of seed 003's backup",
					Remedy: "back up Neo4j's data directory with its own tools"})
			}
			return nil
		},
	}
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = remote.Quote(x)
	}
	return strings.Join(q, " ")
}
