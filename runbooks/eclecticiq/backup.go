package eclecticiq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/host"
	"github.com/hotsnap/hotsnap/steps/parse"
	"github.com/hotsnap/hotsnap/steps/redis"
)

// Choices of the drain gate (DrainGate).
const (
	DrainGate   = "drain-choice"
	DrainWait   = "wait"
	DrainDelete = "delete"
	DrainStop   = "stop"
)

// startTimeout bounds the wait for a started unit to be active.
const startTimeout = 2 * time.Minute

// pollMax is the longest wait between two polls (queues, snapshot).
const pollMax = 2 * time.Second

// backupRun is one backup: what it copies where, and the manifest its
// steps fill in (written by the last step only).
type backupRun struct {
	s        *site
	store    repo.Store
	id       string
	hot, rdb bool
	resume   bool

	mu      sync.Mutex
	m       repo.Manifest
	est     *steps.Estimate
	counts  redis.Counts // the broker's queues, as last seen
	drained bool
	choice  string
	stale   []string // PID files whose process is gone
	strays  []string // PIDs of PID files whose process still runs
}

func (b *backupRun) timing(name string, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m.Timings == nil {
		b.m.Timings = map[string]float64{}
	}
	b.m.Timings[name] = d.Seconds()
}

// Backup builds the backup runbook (reference: "EclecticIQ backup",
// seed 003's order): the preflight checks and the estimate, the snapshots
// killed runs left offered for clearing, a gate; then,
// unless hot, the services stopped, the queues drained (a choice when they
// do not), the workers stopped and beat's leftovers looked for; the
// pg_dumpall dump, the row counts, the Elasticsearch snapshot of the
// platform's indices, the configuration archive (and the RDB) at once;
// the workers and services started again (also when the run fails or is
// cancelled); the manifest last.
func (b *backupRun) runbook() steps.Runbook {
	s, env := b.s, b.s.env
	inv := env.Inv
	b.m = repo.Manifest{Format: repo.ManifestFormat, ID: b.id, Platform: inv.Platform, Cluster: inv.Cluster, Versions: map[string]string{}, Hot: b.hot}
	for _, n := range inv.Nodes {
		b.m.Topology.Hosts = append(b.m.Topology.Hosts, repo.Host{Name: n.Name, Address: n.Host, Roles: n.Roles})
	}
	measure := b.measureStep()
	rb := steps.Runbook{Name: "backup", Cluster: inv.Cluster, Resumable: true, Exclusive: true}
	// Hotsnap's own snapshots that killed runs left: found among the
	// checks, offered for clearing at a gate before the backup's own.
	left := runbooks.NewLeftovers(env, runbooks.StoreOpener(b.store))
	rb.Steps = append(preflightSteps(s, left, &measure), runbooks.PreflightVerdict(), left.Gate(), b.gate(), runbooks.MarkBackup(env, b.store, b.id), left.Clear())
	if !b.hot {
		rb.Steps = append(rb.Steps, stopServicesStep(s), b.drainStep(), b.drainChoice(), b.drainDecision(),
			b.deleteGate(), b.deleteStep(), stopWorkersStep(s, b), b.leftoversStep(), b.pidGate(), b.pidRemoveStep())
	}
	group := []steps.Step{b.dumpStep(), b.tablesStep(), b.configStep()}
	if inv.Elasticsearch != nil {
		group = append(group, b.snapshotStep())
	}
	if b.rdb {
		group = append(group, b.rdbStep())
	}
	for i := range group {
		group[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, group...)
	if !b.hot {
		rb.Steps = append(rb.Steps, startStep("start-workers", "Start the workers again", s.workersUnit()), startStep("start-services", "Start the services again", s.services()))
	}
	return append2(rb, runbooks.ManifestStep(b.store, b.id, &b.mu, &b.m, func(m *repo.Manifest) {
		if b.hot {
			m.Warnings = append(m.Warnings, "hot backup: the platform ran, so the Elasticsearch snapshot may lag the PostgreSQL dump (eiq-platform search reindex rebuilds an index from PostgreSQL)")
		}
	}))
}

func append2(rb steps.Runbook, st steps.Step) steps.Runbook {
	rb.Steps = append(rb.Steps, st)
	return rb
}

// where names the repository and the backup.
func (b *backupRun) where() string {
	if b.store == nil {
		return runbooks.Where(nil)
	}
	return runbooks.Where(b.store) + "/" + b.id
}

// measureStep is the estimate: the databases, the configuration and the
// indices, and the repository's room for what hotsnap copies.
func (b *backupRun) measureStep() steps.Step {
	s := b.s
	pg := s.pg()
	return steps.Step{
		ID: "measure", Title: "Estimate the size of the backup, and the room in the repository", Kind: steps.KindCheck, Component: "repository",
		Why: "The operator sees how much will be copied before approving; a repository too small for it stops the backup before anything is stopped.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.pgNode, Cmd: pg.Query("postgres", "SELECT sum(pg_database_size(oid)) …"), Sudo: true},
				{Node: "elasticsearch", Cmd: "GET /_cat/indices/" + strings.Join(s.eiq.IndexPatterns, ",")}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			est := &steps.Estimate{}
			if dbs, err := pg.Databases(ctx, rc); err != nil {
				est.Problems = append(est.Problems, "PostgreSQL: "+err.Error())
			} else {
				var n int64
				var names []string
				for _, d := range dbs {
					n += d.Size
					names = append(names, d.Name)
				}
				est.Parts = append(est.Parts, steps.EstimatePart{Name: "PostgreSQL", Bytes: n, Where: s.pgNode + ": " + strings.Join(names, ", ")})
			}
			if env := s.env; env.Inv.Elasticsearch != nil {
				if cl, _, err := es.Open(env); err == nil {
					ix, err := es.Indices(ctx, cl, s.eiq.IndexPatterns)
					cl.Close()
					if err == nil {
						var n int64
						var names []string
						for _, x := range ix {
							n += x.StoreBytes
							names = append(names, x.Index)
						}
						est.Elsewhere = append(est.Elsewhere, steps.EstimatePart{Name: "Elasticsearch", Bytes: n, Where: strings.Join(names, ", "), Into: "its own snapshot repository"})
					} else {
						est.Problems = append(est.Problems, "Elasticsearch: "+err.Error())
					}
				}
			}
			b.mu.Lock()
			b.est = est
			b.mu.Unlock()
			rc.Output("", est.Text())
			if sp, ok := b.store.(repo.Spacer); ok {
				rc.Check(host.SpaceCheck(ctx, sp, b.store.String(), est.Copied(), est.Text(), est.Problems))
			}
			return nil
		},
	}
}

func (b *backupRun) gate() steps.Step {
	happens := fmt.Sprintf("stop %s, wait for the Celery queues to drain, stop the workers (%s), then dump PostgreSQL, snapshot the platform's indices and archive the configuration into %s, and start the workers and services again",
		UnitServices, WorkersGlob, b.where())
	rollback := "the platform is started again even if the backup fails or is cancelled"
	if b.hot {
		happens = "dump PostgreSQL (pg_dumpall on the running platform, as seed 003 allows), snapshot the platform's indices and archive the configuration into " + b.where() + "; nothing is stopped, so Elasticsearch may lag PostgreSQL (recorded in the manifest)"
		rollback = "nothing to roll back: a hot backup only reads"
	}
	return steps.Step{
		ID: "approve", Title: "Start the backup", Kind: steps.KindGate, Component: steps.ComponentBackup,
		Gate: &steps.GateRequest{Happens: happens, Nodes: b.s.env.AllNodes(), Rollback: rollback},
		Refine: func(g *steps.GateRequest) {
			b.mu.Lock()
			est := b.est
			b.mu.Unlock()
			if est != nil {
				g.Happens += ". " + est.Text()
			}
		},
	}
}

// stopServicesStep stops the producers first (seed 003), proven stopped;
// its cleanup starts them again should the run fail after it.
func stopServicesStep(s *site) steps.Step {
	u := s.services()
	return steps.Step{
		ID: "stop-services", Title: "Stop " + UnitServices, Kind: steps.KindAction, Component: "platform",
		Why:  "Seed 003: stop the platform backend services first, so that nothing enqueues new Celery tasks while the queues drain.",
		Plan: steps.PlanEach([]string{s.platform}, u.StopCmd()+"; "+u.ListCmd(), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			return u.Stop(ctx, rc)
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return s.services().Start(ctx, rc, startTimeout)
		},
	}
}

// drainStep polls every queue key with live counts until all are empty or
// the deadline passes (then the choice gate asks).
func (b *backupRun) drainStep() steps.Step {
	s := b.s
	timeout := s.eiq.DrainTimeout
	return steps.Step{
		ID: "drain", Title: "Wait for the Celery queues to drain", Kind: steps.KindAction, Component: "redis",
		Why: "Seed 003 checks eight queues with llen; the work is also in kombu's priority lists and the unacked hash, and in queues named after the workers: every list of the broker's database is counted (TYPE before LLEN), until all are empty.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: redis.CountsCmds + " (database " + s.dbText() + ")", Note: "every " + pollMax.String() + " at most, up to " + timeout.String()}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			drained, err := b.drain(ctx, rc, srv, timeout)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.drained = drained
			b.mu.Unlock()
			return nil
		},
	}
}

// drain polls the queues until they are empty (true) or timeout passes
// (false; 0: no deadline), reporting the counts as they change.
func (b *backupRun) drain(ctx context.Context, rc *steps.RunContext, srv redis.Server, timeout time.Duration) (bool, error) {
	var first int64 = -1
	last := ""
	err := steps.Poll(ctx, pollMax, timeout, func() (bool, error) {
		c, err := srv.Count(ctx, rc)
		if err != nil {
			var re *parse.RedisError
			if errors.As(err, &re) && re.Code == "WRONGTYPE" {
				return false, nil // a key changed type between TYPE and LLEN: count again
			}
			return false, err
		}
		b.mu.Lock()
		b.counts = c
		b.mu.Unlock()
		if first < 0 {
			first = c.Total
		}
		if first > 0 {
			rc.Progress(srv.Node, max(first-c.Total, 0), first, "tasks")
		}
		if now := strings.Join(c.NonEmpty(), ", "); now != last {
			last = now
			if c.Total == 0 {
				rc.Output(srv.Node, "every queue is empty")
			} else {
				rc.Output(srv.Node, fmt.Sprintf("%d tasks: %s", c.Total, now))
			}
		}
		return c.Total == 0, nil
	})
	if errors.Is(err, steps.ErrPollTimeout) {
		return false, nil
	}
	return err == nil, err
}

// drainChoice asks, when the queues did not drain in time, what to do:
// keep waiting, delete the pipeline lists seed 003 names (losing their
// work, behind a destructive gate), or stop and start the platform again.
func (b *backupRun) drainChoice() steps.Step {
	return steps.Step{
		ID: DrainGate, Title: "The Celery queues did not drain", Kind: steps.KindGate, Component: "redis",
		Gate: &steps.GateRequest{
			Happens: "the queues still hold tasks after eclecticiq.drain_timeout",
			Choices: []steps.GateChoice{
				{Key: DrainStop, Label: "stop here and start the services again (nothing is lost; no backup)"},
				{Key: DrainWait, Label: "keep waiting until every queue is empty"},
				{Key: DrainDelete, Label: "delete the pipeline queues seed 003 names (queue:{ingestion,graph,search}:inbound): their tasks are lost", Destructive: true},
			},
			Default: DrainStop,
		},
		Skip: func() string {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.drained {
				return "every queue drained"
			}
			return ""
		},
		Refine: func(g *steps.GateRequest) {
			b.mu.Lock()
			c := b.counts
			b.mu.Unlock()
			g.Happens = fmt.Sprintf("%d tasks are still queued after %s: %s", c.Total, b.s.eiq.DrainTimeout, strings.Join(c.NonEmpty(), ", "))
			g.Loses = fmt.Sprintf("deleting loses the %d tasks of the pipeline queues", pipelineCount(c))
		},
		Chose: func(k string) {
			b.mu.Lock()
			b.choice = k
			b.mu.Unlock()
		},
	}
}

// pipelineCount is the work in seed 003's pipeline lists.
func pipelineCount(c redis.Counts) int64 {
	var n int64
	for _, q := range c.Queues {
		if slices.Contains(PipelineQueues, q.Key) {
			n += q.Count
		}
	}
	return n
}

// drainDecision acts on the choice: keep waiting (no deadline: Ctrl-C
// stops and the platform is started again), or stop the run.
func (b *backupRun) drainDecision() steps.Step {
	s := b.s
	return steps.Step{
		ID: "drain-decision", Title: "Act on the drain choice", Kind: steps.KindAction, Component: "redis",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: redis.CountsCmds, Note: "keep waiting: until every queue is empty"}}
		},
		Skip: func() string {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.drained {
				return "every queue drained"
			}
			if b.choice == DrainDelete {
				return "the pipeline queues are deleted next, behind a destructive gate"
			}
			return ""
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			b.mu.Lock()
			choice, c := b.choice, b.counts
			b.mu.Unlock()
			if choice != DrainWait {
				return fmt.Errorf("stopped at the operator's choice: %d tasks still queued (%s); nothing was lost and the platform is started again", c.Total, strings.Join(c.NonEmpty(), ", "))
			}
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			_, err = b.drain(ctx, rc, srv, 0)
			return err
		},
	}
}

// deleteGate is the destructive gate before the pipeline lists go.
func (b *backupRun) deleteGate() steps.Step {
	return steps.Step{
		ID: "approve-delete-queues", Title: "Approve deleting the pipeline queues", Kind: steps.KindGate, Component: "redis",
		Gate: &steps.GateRequest{Destructive: true, Happens: "DEL " + strings.Join(PipelineQueues, " "),
			Loses: "the tasks queued in the platform's ingestion pipeline", Rollback: "none: the data they carried must be ingested again"},
		Skip: b.unlessDelete,
		Refine: func(g *steps.GateRequest) {
			b.mu.Lock()
			n := pipelineCount(b.counts)
			b.mu.Unlock()
			g.Loses = fmt.Sprintf("%d tasks queued in the platform's ingestion pipeline (%s)", n, strings.Join(PipelineQueues, ", "))
		},
	}
}

func (b *backupRun) unlessDelete() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drained || b.choice != DrainDelete {
		return "the pipeline queues are kept"
	}
	return ""
}

func (b *backupRun) deleteStep() steps.Step {
	s := b.s
	return steps.Step{
		ID: "delete-queues", Title: "Delete the pipeline queues", Kind: steps.KindAction, Component: "redis", Destructive: true,
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: "redis-cli -n " + s.dbText() + " DEL " + strings.Join(PipelineQueues, " ")}}
		},
		Skip: b.unlessDelete,
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			n, err := srv.Delete(ctx, rc, PipelineQueues)
			if err != nil {
				return err
			}
			rc.Output(s.redisNode, fmt.Sprintf("deleted %d pipeline queues", n))
			b.mu.Lock()
			b.m.Warnings = append(b.m.Warnings, "the pipeline queues were deleted at the operator's choice: their tasks are lost")
			b.mu.Unlock()
			return nil
		},
	}
}

// stopWorkersStep stops every worker (seed 003's worker*.service, quoted),
// proves none runs, and counts the queues again: a stopped worker requeues
// what it held. Its cleanup starts the workers again.
func stopWorkersStep(s *site, b *backupRun) steps.Step {
	u := s.workers()
	return steps.Step{
		ID: "stop-workers", Title: "Stop the Celery workers", Kind: steps.KindAction, Component: "platform",
		Why:  "Seed 003: stop the remaining Celery workers (`systemctl stop eclecticiq-platform-backend-worker*.service`, quoted here so no shell expands it); a worker requeues its unacknowledged tasks as it stops, so the queues are counted again.",
		Plan: steps.PlanEach([]string{s.platform}, u.StopCmd()+"; "+u.ListCmd()+"; "+redis.CountsCmds, true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if err := u.Stop(ctx, rc); err != nil {
				return err
			}
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			c, err := srv.Count(ctx, rc)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.counts = c
			b.m.Redis = &repo.RedisBackup{Node: srv.Node, DB: srv.DB, Queues: c.Map(), Total: c.Total}
			b.mu.Unlock()
			if c.Total > 0 {
				rc.Output(srv.Node, fmt.Sprintf("after the workers stopped: %d tasks queued (%s): the workers take them up when they start again", c.Total, strings.Join(c.NonEmpty(), ", ")))
			}
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return s.workersUnit().Start(ctx, rc, startTimeout)
		},
	}
}

// leftoversStep looks for beat processes and PID files left behind
// (seed 003: `ps auxf | grep beat`, "remove any leftover PID files").
func (b *backupRun) leftoversStep() steps.Step {
	s := b.s
	cmd := leftoversCmd(s.eiq.RunDir)
	return steps.Step{
		ID: "beat-leftovers", Title: "Look for leftover beat processes and PID files", Kind: steps.KindCheck, Component: "platform",
		Why:  "Seed 003: no platform process (Celery beat) may still run, and stale PID files keep the scheduler from starting again.",
		Plan: steps.PlanEach([]string{s.platform}, cmd, true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := rc.Stdout(ctx, s.platform, cmd, true)
			if err != nil {
				return fmt.Errorf("%s: %w", s.platform, err)
			}
			var beats, stale, strays []string
			for l := range strings.Lines(out) {
				f := strings.Fields(l)
				switch {
				case len(f) >= 2 && f[0] == "beat":
					beats = append(beats, strings.Join(f[1:], " "))
				case len(f) == 3 && f[0] == "pidfile" && f[2] == "dead":
					stale = append(stale, f[1])
				case len(f) == 3 && f[0] == "pidfile":
					strays = append(strays, f[1]+" (pid "+f[2]+" still runs)")
				}
			}
			b.mu.Lock()
			b.stale = stale
			b.strays = strays
			b.mu.Unlock()
			r := steps.CheckResult{Check: "leftovers", Node: s.platform, Status: steps.CheckPass, Evidence: "no stale PID file in " + s.eiq.RunDir}
			if len(beats) > 0 {
				// The lab's nodes share the host's process list: a beat
				// named here may be another host's; only the PID files
				// of this node's run directory are acted on.
				r.Evidence += "; beat processes seen: " + strings.Join(beats, "; ")
			}
			if len(stale)+len(strays) > 0 {
				r.Status = steps.CheckWarn
				r.Evidence = "stale PID files: " + strings.Join(append(stale, strays...), ", ")
				r.Remedy = "the next gate offers to remove them (a running one is stopped first)"
			}
			rc.Check(r)
			return nil
		},
	}
}

// leftoversCmd prints "beat PID ARGS" for each Celery beat process and
// "pidfile PATH PID|dead" for each PID file of runDir.
func leftoversCmd(runDir string) string {
	return `pgrep -af 'celery.*beat' | sed 's/^/beat /'; for f in ` + remote.Quote(runDir) + `/*.pid; do [ -e "$f" ] || continue; ` +
		`p=$(head -c 32 "$f" | tr -dc 0-9); if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "pidfile $f $p"; else echo "pidfile $f dead"; fi; done; true`
}

// noPIDFiles skips the PID files' gate and removal when there are none.
func (b *backupRun) noPIDFiles() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.stale)+len(b.strays) == 0 {
		return "no stale PID file"
	}
	return ""
}

func (b *backupRun) pidGate() steps.Step {
	return steps.Step{
		ID: "approve-pidfiles", Title: "Approve removing the stale PID files", Kind: steps.KindGate, Component: "platform",
		Gate: &steps.GateRequest{Happens: "remove the PID files left in " + b.s.eiq.RunDir + " (and stop the process a PID file names that still runs after its unit stopped)"},
		Skip: b.noPIDFiles,
		Refine: func(g *steps.GateRequest) {
			b.mu.Lock()
			defer b.mu.Unlock()
			g.Happens = "remove " + strings.Join(append(append([]string(nil), b.stale...), b.strays...), ", ")
		},
	}
}

func (b *backupRun) pidRemoveStep() steps.Step {
	s := b.s
	return steps.Step{
		ID: "remove-pidfiles", Title: "Remove the stale PID files", Kind: steps.KindAction, Component: "platform",
		Plan: steps.PlanEach([]string{s.platform}, "kill PID (when its process still runs); rm -f "+s.eiq.RunDir+"/<stale>.pid", true),
		Skip: b.noPIDFiles,
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			b.mu.Lock()
			stale, strays := b.stale, b.strays
			b.mu.Unlock()
			var cmds []string
			for _, x := range strays {
				f, rest, _ := strings.Cut(x, " (pid ")
				pid := strings.TrimSuffix(rest, " still runs)")
				if _, err := strconv.Atoi(pid); err == nil {
					cmds = append(cmds, "kill "+pid+" 2>/dev/null; rm -f "+remote.Quote(f))
				}
			}
			for _, f := range stale {
				cmds = append(cmds, "rm -f "+remote.Quote(f))
			}
			if _, err := rc.Stdout(ctx, s.platform, strings.Join(cmds, "; "), true); err != nil {
				return fmt.Errorf("%s: %w", s.platform, err)
			}
			rc.Output(s.platform, fmt.Sprintf("removed %d PID files", len(cmds)))
			return nil
		},
	}
}
