package alien4cloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	a4c "github.com/hotsnap/hotsnap/steps/alien4cloud"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Preflight builds the preflight runbook: every check a backup or a
// restore of Alien4Cloud depends on, changing nothing.
func Preflight(env *steps.Env) steps.Runbook {
	s := newSite(env)
	var extra []steps.Step
	if env.OpenRepo != nil {
		extra = append(extra, repositoryStep(env, s))
	}
	return steps.Runbook{Name: "preflight", Cluster: env.Inv.Cluster, Steps: checks(env, s, false, runbooks.NewLeftovers(env, env.OpenRepo), extra...)}
}

// checks are the preflight's steps: SSH, then Alien4Cloud's configuration
// (the others need its data directory), then at once Elasticsearch, the
// service, its REST API, the data directory, extra and the snapshots
// earlier runs left (left: the backup keeps what it finds for its gate).
func checks(env *steps.Env, s *site, stopService bool, left *runbooks.Leftovers, extra ...steps.Step) []steps.Step {
	group := []steps.Step{esStep(env), indicesStep(env), serviceStep(s), apiStep(s), dataStep(s)}
	group = append(append(group, extra...), left.Check())
	for i := range group {
		group[i].Concurrent = true
	}
	return append([]steps.Step{host.SSHCheck(env), configStep(s, stopService)}, group...)
}

// esSupported rates the cluster's version: Alien4Cloud 3.x ships
// Elasticsearch 6.8 (alien4cloud 3.7.0's pom.xml: 6.8.22; the 3.0.0 docs
// say 6.6.2).
func esSupported(dist, version string) (steps.CheckStatus, string) {
	if dist == "elasticsearch" && strings.HasPrefix(version, "6.") {
		return steps.CheckPass, ""
	}
	return steps.CheckWarn, "Alien4Cloud 3.x runs on Elasticsearch 6.x (6.8.22 since 3.7.0); its transport client does not talk to other versions"
}

func esStep(env *steps.Env) steps.Step {
	st := es.Check(env, es.CheckOptions{Supported: esSupported})
	st.Why = "Alien4Cloud's per-class indices are backed up with the snapshot API into an fs repository registered once, whose location must be under path.repo on every node and writable by every node's elasticsearch user: _verify proves it (the page's sshfs mount is exactly where that fails)."
	return st
}

func serviceStep(s *site) steps.Step {
	st := s.unit().StateCheck([]string{s.node()})
	st.Why = "A backup runs with Alien4Cloud up, in maintenance mode; a restore stops it (or, with Elasticsearch embedded, keeps it in maintenance mode)."
	return st
}

// apiStep checks Alien4Cloud's REST API: health, the admin's login, and
// whether maintenance mode is already on.
func apiStep(s *site) steps.Step {
	a := s.a4cConf()
	return steps.Step{
		ID: "a4c-api", Title: "Alien4Cloud's REST API: health, admin login, maintenance mode", Kind: steps.KindCheck, Component: a4c.Component,
		Why: "The backup turns maintenance mode on through the REST API (every other call answers 503 meanwhile, so nothing changes the data it copies) and off again; that takes the admin's login.",
		Plan: steps.PlanEach([]string{s.node()}, fmt.Sprintf("GET %s%s · POST %s%s (form login as %s) · GET %s%s (through the SSH tunnel)",
			a.URL, a4c.HealthPath, a.URL, a4c.LoginPath, a.Username, a.URL, a4c.MaintenancePath), false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n := s.node()
			cl, err := a4c.Open(s.env)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "alien4cloud api", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			defer cl.Close()
			if err := cl.Health(ctx); err != nil {
				rc.Check(steps.CheckResult{Check: "alien4cloud health", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: fmt.Sprintf("start it (`sudo systemctl start %s`) and see why it is not up (`journalctl -u %s`); it waits for Elasticsearch before it listens; check alien4cloud.url (as seen from %s)", a.Service, a.Service, n)})
				return nil
			}
			rc.Check(steps.CheckResult{Check: "alien4cloud health", Node: n, Status: steps.CheckPass, Evidence: "GET " + a4c.HealthPath + ": UP"})
			m, err := cl.GetMaintenance(ctx)
			leftBy, _ := maintenanceLeftBy(m.Message)
			switch {
			case errors.Is(err, a4c.ErrLogin):
				rc.Check(steps.CheckResult{Check: "alien4cloud login", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "set alien4cloud.username and alien4cloud.password to an admin's (alien_security.admin in alien4cloud-config.yml creates the first one)"})
			case err != nil:
				rc.Check(steps.CheckResult{Check: "alien4cloud maintenance", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
			case m.On && leftBy != "":
				rc.Check(steps.CheckResult{Check: "alien4cloud maintenance", Node: n, Status: steps.CheckWarn,
					Evidence: fmt.Sprintf("maintenance mode is on, turned on by %s and not off again: that run was killed, unless it still runs (by %s: %s)", leftBy, m.User, m.Message),
					Remedy:   "if no hotsnap run is under way (its lock would name it), the next backup turns it off when it is done; or turn it off now in the UI (or DELETE " + a4c.MaintenancePath + ")"})
			case m.On:
				rc.Check(steps.CheckResult{Check: "alien4cloud maintenance", Node: n, Status: steps.CheckWarn,
					Evidence: fmt.Sprintf("maintenance mode is already on (by %s: %s)", m.User, m.Message),
					Remedy:   "a backup leaves it on as it found it; turn it off in the UI (or DELETE " + a4c.MaintenancePath + ") once the work it protects is done"})
			default:
				rc.Check(steps.CheckResult{Check: "alien4cloud login", Node: n, Status: steps.CheckPass, Evidence: fmt.Sprintf("logged in as %s; maintenance mode off", a.Username)})
			}
			return nil
		},
	}
}

// dataStep checks the data directory: there, its owner (the service's
// user) and mode, and its size without the transient folders.
func dataStep(s *site) steps.Step {
	return steps.Step{
		ID: "a4c-data", Title: "The data directory (directories.alien): owner and size", Kind: steps.KindCheck, Component: dataComponent,
		Why: "The uploaded CSARs, artifacts, images, plugins and git repositories are archived with their owners and modes; work/, upload/, tmp/ and an embedded eshome/ are left out (the documented tool copies the whole directory).",
		Plan: func() []steps.PlannedCommand {
			d := s.planDataDir()
			return []steps.PlannedCommand{{Node: s.node(), Cmd: files.StatCmd(d) + " && " + files.DUExcludingCmd(d, transient), Sudo: true}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n, dir := s.node(), s.dataDirNow()
			if dir == "" {
				rc.Check(steps.CheckResult{Check: "data directory", Node: n, Status: steps.CheckFail, Evidence: "not known: Alien4Cloud's configuration could not be read"})
				return nil
			}
			owner, group, mode, err := files.Owner(ctx, rc, n, dir)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "data directory", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "check directories.alien in alien4cloud-config.yml (or alien4cloud.data_dir)"})
				return nil
			}
			size, err := files.SizeExcluding(ctx, rc, n, dir, transient)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "data directory", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			r := steps.CheckResult{Check: "data directory", Node: n, Status: steps.CheckPass,
				Evidence: fmt.Sprintf("%s owner %s:%s mode %s, %s without %s", dir, owner, group, mode, steps.HumanBytes(size), strings.Join(transient, "/ ")+"/")}
			s.mu.Lock()
			user := s.user
			s.mu.Unlock()
			if user != "" && owner != user {
				r.Status = steps.CheckWarn
				r.Remedy = fmt.Sprintf("the service runs as %s: `sudo chown -R %s: %s`; a restore gives every file the owner it had at the backup", user, user, dir)
			}
			rc.Check(r)
			return nil
		},
	}
}

// indicesStep lists the indices a backup snapshots and names those that
// are no class of Alien4Cloud 3.x.
func indicesStep(env *steps.Env) steps.Step {
	ec := env.Inv.Elasticsearch
	return steps.Step{
		ID: "a4c-indices", Title: "Alien4Cloud's indices on the cluster", Kind: steps.KindCheck, Component: es.Component,
		Why:  "Alien4Cloud 3.x keeps one index per class (about sixty, no prefix): the backup snapshots every index but the system ones, never _all, and a restore deletes and restores exactly those.",
		Plan: steps.PlanEach([]string{es.Node(env)}, "GET "+ec.URL+"/_cat/indices?format=json&h=index,health,status", false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n := es.Node(env)
			_, idx, unknown, err := indicesOf(ctx, env)
			switch {
			case err != nil:
				rc.Check(steps.CheckResult{Check: "alien4cloud indices", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "start Alien4Cloud once on this cluster (it creates its indices), or check elasticsearch.url"})
			case len(unknown) > 0:
				rc.Check(steps.CheckResult{Check: "alien4cloud indices", Node: n, Status: steps.CheckWarn,
					Evidence: fmt.Sprintf("%d indices; %d are no class of Alien4Cloud 3.x: %s", len(idx), len(unknown), strings.Join(unknown, ", ")),
					Remedy:   "they are backed up and restored with Alien4Cloud's (a premium plugin's are); if another application shares this cluster, give it its own"})
			default:
				rc.Check(steps.CheckResult{Check: "alien4cloud indices", Node: n, Status: steps.CheckPass, Evidence: fmt.Sprintf("%d indices, every one a class of Alien4Cloud 3.x", len(idx))})
			}
			return nil
		},
	}
}

// indicesOf lists Alien4Cloud's indices: every index of the cluster but
// the system ones (a name starting with "."), never _all. Alien4Cloud 3.x
// has one per class; the names that are none of its 3.x classes are
// returned apart (a premium plugin's, or another application's sharing
// the cluster: they are backed up and restored with the others).
func indicesOf(ctx context.Context, env *steps.Env) (info *parse.ESInfo, indices, unknown []string, err error) {
	n, ec := es.Node(env), env.Inv.Elasticsearch
	info, names, err := es.InfoAndIndices(ctx, env.Dial(n), n, ec.URL, ec.Username, env.ESPassword)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, ix := range names {
		if strings.HasPrefix(ix, ".") {
			continue
		}
		indices = append(indices, ix)
		if !slices.Contains(ClassIndices, ix) {
			unknown = append(unknown, ix)
		}
	}
	if len(indices) == 0 {
		return info, nil, nil, fmt.Errorf("%s: the cluster has no index of Alien4Cloud (has it ever started on it?)", n)
	}
	return info, indices, unknown, nil
}

// ClassIndices are Alien4Cloud 3.x's per-class indices: every concrete
// @ESObject class, named by its lowercase simple name (derived from
// alien4cloud/alien4cloud 3.7.0, reference/real-outputs/alien4cloud/).
var ClassIndices = []string{"application", "applicationenvironment", "applicationversion", "artifacttype",
	"auditconfiguration", "audittrace", "capabilitytype", "csar", "csargitrepository", "dataobjectversion",
	"datatype", "deployment", "deploymentinputs", "deploymentmatchingconfiguration", "deploymenttopology",
	"deploymentunprocessedtopology", "execution", "executioninputs", "gitlocation", "group", "imagedata",
	"location", "locationresourcetemplate", "maintenancemodestate", "metapropconfiguration", "nodetype",
	"orchestrator", "orchestratorconfiguration", "orchestratordeploymentproperties", "paasdeploymentlog",
	"paasdeploymentstatusmonitorevent", "paasinstancepersistentresourcemonitorevent",
	"paasinstancestatemonitorevent", "paasmessagemonitorevent", "paasworkflowcancelledevent",
	"paasworkflowfailedevent", "paasworkflowmonitorevent", "paasworkflowstartedevent",
	"paasworkflowstepmonitorevent", "paasworkflowsucceededevent", "plugin", "pluginconfiguration",
	"policylocationresourcetemplate", "policytype", "primitivedatatype", "relationshiptype", "repository",
	"serviceresource", "simplesuggestionentry", "suggestioncontextdata", "suggestionentry", "task",
	"taskcancelledevent", "taskfailedevent", "tasksentevent", "taskstartedevent", "tasksucceededevent",
	"topology", "user", "workflowstepcompletedevent", "workflowstepinstance", "workflowstepstartedevent"}

// Names of the parts of the estimate.
const (
	partData = "data directory"
	partES   = "Elasticsearch"
)

// estimate measures what a backup copies: the data directory without its
// transient folders (into the repository) and the primary store of
// Alien4Cloud's indices (into Elasticsearch's own repository), and takes
// the throughput of the newest complete backup in store (nil: none). The
// error is only for a cancelled ctx.
func estimate(ctx context.Context, rc *steps.RunContext, s *site, store repo.Store) (*steps.Estimate, error) {
	est := &steps.Estimate{}
	var data, search *steps.EstimatePart
	parts := []func() []string{
		func() []string {
			n, dir := s.node(), s.dataDirNow()
			if dir == "" {
				return []string{"data directory: not known (Alien4Cloud's configuration could not be read)"}
			}
			size, err := files.SizeExcluding(ctx, rc, n, dir, transient)
			if err != nil {
				return []string{fmt.Sprintf("data directory: cannot measure it: %v", err)}
			}
			data = &steps.EstimatePart{Name: partData, Bytes: size, Where: n + ":" + dir}
			return nil
		},
		func() []string {
			_, idx, _, err := indicesOf(ctx, s.env)
			if err != nil {
				return []string{fmt.Sprintf("elasticsearch: cannot list the indices: %v", err)}
			}
			size, _, err := es.IndexSize(ctx, s.env, idx...)
			if err != nil {
				return []string{fmt.Sprintf("elasticsearch: cannot measure the indices: %v", err)}
			}
			search = &steps.EstimatePart{Name: partES, Bytes: size, Where: fmt.Sprintf("%d indices", len(idx)), Into: "its own snapshot repository"}
			return nil
		},
	}
	if store != nil {
		parts = append(parts, func() []string {
			id, rate, err := repo.LastThroughput(ctx, store)
			if err != nil {
				return []string{fmt.Sprintf("repository: cannot read the earlier backups: %v", err)}
			}
			est.RateFrom, est.Rate = id, rate
			return nil
		})
	}
	est.Problems = steps.Measure(parts...)
	if data != nil {
		est.Parts = append(est.Parts, *data)
	}
	if search != nil {
		est.Elsewhere = append(est.Elsewhere, *search)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("estimate the backup: %w", err)
	}
	return est, nil
}

// roomChecks judge the estimate against the room left: in the backup
// repository for the data directory (when store can say) and in
// Elasticsearch's repository folder on its node for the snapshot.
func roomChecks(ctx context.Context, rc *steps.RunContext, s *site, est *steps.Estimate, sp repo.Spacer, where string) {
	if sp != nil {
		rc.Check(host.SpaceCheck(ctx, sp, where, est.Copied(), est.Text(), est.Problems))
	}
	ec := s.env.Inv.Elasticsearch
	if p := est.Part(partES); p != nil && ec.RepositoryPath != "" {
		host.RoomCheck(ctx, rc, "es repository space", []host.Need{{Node: es.Node(s.env), Dir: ec.RepositoryPath,
			What: "the snapshot of " + p.Where + " (at most their primary store; a snapshot copies only the segments the repository lacks)", Bytes: p.Bytes}},
			"`hotsnap prune` removes old backups and their snapshots")
	}
}

// repositoryStep is the preflight's check of the room in the backup
// repository and in Elasticsearch's, for the backup's estimated size.
func repositoryStep(env *steps.Env, s *site) steps.Step {
	return steps.Step{
		ID: "repository", Title: "Free space for the backup's estimated size (backup repository, Elasticsearch's repository)", Kind: steps.KindCheck, Component: "repository",
		Why:  "The data directory streams into the backup repository, the snapshot into Elasticsearch's: a backup that fills either fails after the copy began.",
		Plan: func() []steps.PlannedCommand { return measurePlan(s, env.Inv.Repository.URL) },
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			store, closeStore, err := env.OpenRepo(ctx)
			if err != nil {
				rc.Check(host.RepositoryUnreachable(err))
				return nil
			}
			defer closeStore()
			est, err := estimate(ctx, rc, s, nil)
			if err != nil {
				return err
			}
			sp, _ := store.(repo.Spacer)
			roomChecks(ctx, rc, s, est, sp, store.String())
			return nil
		},
	}
}

// measurePlan is what measuring the backup runs.
func measurePlan(s *site, where string) []steps.PlannedCommand {
	ec := s.env.Inv.Elasticsearch
	out := []steps.PlannedCommand{{Node: s.node(), Cmd: files.DUExcludingCmd(s.planDataDir(), transient), Sudo: true},
		{Node: es.Node(s.env), Cmd: "GET " + ec.URL + "/_cat/indices?format=json&bytes=b&h=index,pri.store.size,store.size"}}
	if ec.RepositoryPath != "" {
		out = append(out, steps.PlannedCommand{Node: es.Node(s.env), Cmd: "df -PB1 " + ec.RepositoryPath, Sudo: true})
	}
	return append(out, steps.PlannedCommand{Node: "repository", Cmd: "free space of " + where + " (statfs, or df -PB1 over SSH)"})
}
