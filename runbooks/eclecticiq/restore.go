package eclecticiq

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/postgres"
	"github.com/hotsnap/hotsnap/steps/redis"
	"github.com/hotsnap/hotsnap/steps/service"
)

// restoreRun is one restore of a backup: what its steps found (for the
// destructive gate) and the report.
type restoreRun struct {
	s     *site
	store repo.Store
	m     *repo.Manifest

	mu     sync.Mutex
	dbs    map[string]int64 // the current sizes of the dump's databases
	docs   map[string]int64 // the current document counts of the backup's indices
	diffs  []string         // configuration files that differ
	counts redis.Counts     // queued work after the stop
	esDone bool             // the indices were restored whole
	report runbooks.Report
}

// runbook builds the restore (reference: "EclecticIQ restore"): the
// checks and the backup verified first; the platform stopped as the backup
// stops it; one destructive gate naming the databases (with sizes), the
// indices, the queued tasks and the configuration files that differ; the
// broker's queues emptied, the configuration put back (daemon-reload),
// PostgreSQL emptied and loaded and the indices restored at once; the
// failed-packages query; `eiq-platform search upgrade` judged by its exit
// status; the workers and services started; the queues drain; the report
// compares every table and index with the manifest.
func (r *restoreRun) runbook() steps.Runbook {
	s, env := r.s, r.s.env
	rb := steps.Runbook{Name: "restore", Cluster: env.Inv.Cluster, Resumable: true, Exclusive: true}
	rb.Steps = append(preflightSteps(s, nil, nil), r.verifyStep(), runbooks.PreflightVerdict(), r.gate(),
		stopForRestore("stop-services", "Stop "+UnitServices, s.services(), s.services()),
		stopForRestore("stop-workers", "Stop the Celery workers", s.workers(), s.workersUnit()),
		r.queuesStep(), r.destructiveGate(), r.deleteQueuesStep(), r.configStep())
	group := []steps.Step{r.postgresStep()}
	if r.m.Elasticsearch != nil && env.Inv.Elasticsearch != nil {
		group = append(group, r.esStep())
	}
	for i := range group {
		group[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, group...)
	rb.Steps = append(rb.Steps, r.failedPackagesStep(), r.upgradeStep(),
		startStep("start-workers", "Start the workers", s.workersUnit()), startStep("start-services", "Start the services", s.services()),
		r.drainStep(), r.reportStep())
	return rb
}

// verifyStep verifies the backup before anything changes: every hash and
// the dump's trailer, the snapshot SUCCESS and restorable into this
// cluster, the dump's PostgreSQL major not newer than the server's; it also
// reads what the destructive gate names.
func (r *restoreRun) verifyStep() steps.Step {
	s, m := r.s, r.m
	pg := s.pg()
	return steps.Step{
		ID: "verify", Title: "Verify the backup and what it replaces", Kind: steps.KindCheck, Component: steps.ComponentBackup,
		Why: "Nothing is stopped or changed until the backup is known good: every file's hash, the dump's completion trailer, the snapshot, and versions that can take it.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "repository", Cmd: "re-hash " + m.ID + " against its manifest"},
				{Node: s.pgNode, Cmd: pg.VersionCmd(), Sudo: true}, {Node: "elasticsearch", Cmd: "GET /_snapshot/<repository>/" + m.ID},
				{Node: s.platform, Cmd: "stat and sha256sum of every configuration file of the backup", Sudo: true}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if r.store != nil {
				probs, err := repo.Verify(ctx, r.store, m.ID, func(done, total int64) { rc.Progress("repository", done, total, "bytes") })
				if err != nil {
					return err
				}
				res := steps.CheckResult{Check: "backup files", Node: "repository", Status: steps.CheckPass, Evidence: fmt.Sprintf("%s: every hash matches, the dump is complete", m.ID)}
				if len(probs) > 0 {
					var ps []string
					for _, p := range probs {
						ps = append(ps, p.String())
					}
					res.Status, res.Evidence, res.Remedy = steps.CheckFail, strings.Join(ps, "; "), "restore another backup (`hotsnap list`)"
				}
				rc.Check(res)
			}
			if m.PostgreSQL != nil {
				_, server, err := pg.Versions(ctx, rc)
				res := steps.CheckResult{Check: "postgresql version", Node: s.pgNode, Status: steps.CheckPass}
				switch {
				case err != nil:
					res.Status, res.Evidence = steps.CheckFail, err.Error()
				case server.Major < m.PostgreSQL.Major:
					res.Status, res.Evidence = steps.CheckFail, fmt.Sprintf("the dump is from PostgreSQL %s, this server is %s", m.PostgreSQL.Version, server.Full)
					res.Remedy = "restore onto PostgreSQL " + strconv.Itoa(m.PostgreSQL.Major) + " or newer"
				default:
					res.Evidence = fmt.Sprintf("dump from %s into %s", m.PostgreSQL.Version, server.Full)
				}
				rc.Check(res)
				if dbs, err := pg.Databases(ctx, rc); err == nil {
					cur := map[string]int64{}
					for _, d := range dbs {
						if slices.Contains(m.PostgreSQL.DumpDatabases, d.Name) {
							cur[d.Name] = d.Size
						}
					}
					r.mu.Lock()
					r.dbs = cur
					r.mu.Unlock()
				}
			}
			if e := m.Elasticsearch; e != nil && s.env.Inv.Elasticsearch != nil {
				res := steps.CheckResult{Check: "es snapshot", Node: "elasticsearch", Status: steps.CheckPass, Evidence: fmt.Sprintf("snapshot %s SUCCESS: %s", e.Snapshot, strings.Join(e.Indices, ", "))}
				if why := es.CheckSnapshot(ctx, s.env, e); why != "" {
					res.Status, res.Evidence, res.Remedy = steps.CheckFail, why, "without the snapshot, restore with ES left as it is and run `eiq-platform search reindex` afterwards"
				}
				rc.Check(res)
				if e.Version != "" {
					rc.Check(es.VersionCompat(ctx, s.env, e.Version))
				}
				if cur, err := s.indexDocs(ctx, e.Indices); err == nil {
					r.mu.Lock()
					r.docs = cur
					r.mu.Unlock()
				}
			}
			if c := savedConfig(m); c != nil {
				diffs, err := s.conf().Diff(ctx, rc, c.Entries)
				if err != nil {
					rc.Check(steps.CheckResult{Check: "configuration", Node: s.platform, Status: steps.CheckFail, Evidence: err.Error()})
				} else {
					r.mu.Lock()
					r.diffs = diffs
					r.mu.Unlock()
					for _, d := range diffs {
						rc.Output(s.platform, "differs: "+d)
					}
					rc.Check(steps.CheckResult{Check: "configuration", Node: s.platform, Status: steps.CheckPass,
						Evidence: fmt.Sprintf("%d of the backup's files differ from the node's", len(diffs))})
				}
			}
			if m.Hot {
				rc.Check(steps.CheckResult{Check: "hot backup", Node: "repository", Status: steps.CheckWarn,
					Evidence: "taken with the platform running: its Elasticsearch snapshot may lag its PostgreSQL dump",
					Remedy:   "after the restore, `eiq-platform search reindex --index=NAME` rebuilds an index from PostgreSQL"})
			}
			return nil
		},
	}
}

func (r *restoreRun) gate() steps.Step {
	return steps.Step{
		ID: "approve", Title: "Stop the platform for the restore", Kind: steps.KindGate, Component: steps.ComponentBackup,
		Gate: &steps.GateRequest{Happens: fmt.Sprintf("stop %s, then the workers (%s), as the backup does; nothing is replaced before the next gate", UnitServices, WorkersGlob),
			Nodes: []string{r.s.platform}, Rollback: "they are started again if the restore stops before any data is replaced"},
	}
}

// stopForRestore stops units; its cleanup starts start again unless a
// destructive step began (the platform is not started on half-restored
// data).
func stopForRestore(id, title string, u, start service.Units) steps.Step {
	return steps.Step{
		ID: id, Title: title, Kind: steps.KindAction, Component: "platform",
		Plan: steps.PlanEach([]string{u.Node}, u.StopCmd()+"; "+u.ListCmd(), true),
		Run:  func(ctx context.Context, rc *steps.RunContext) error { return u.Stop(ctx, rc) },
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			if rc.DestructiveStarted() {
				rc.Output(u.Node, "left stopped: data was being replaced (resume the restore)")
				return nil
			}
			return start.Start(ctx, rc, startTimeout)
		},
	}
}

// queuesStep counts the work still queued: it refers to the state being
// replaced.
func (r *restoreRun) queuesStep() steps.Step {
	s := r.s
	return steps.Step{
		ID: "queues", Title: "Count the queued tasks", Kind: steps.KindCheck, Component: redis.Component,
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: redis.CountsCmds + " (database " + s.dbText() + ")"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			c, err := srv.Count(ctx, rc)
			if err != nil {
				return err
			}
			r.mu.Lock()
			r.counts = c
			r.mu.Unlock()
			rc.Output(s.redisNode, fmt.Sprintf("%d tasks queued: %s", c.Total, strings.Join(c.NonEmpty(), ", ")))
			return nil
		},
	}
}

// destructiveGate names everything the restore replaces.
func (r *restoreRun) destructiveGate() steps.Step {
	m := r.m
	return steps.Step{
		ID: "approve-restore", Title: "Replace the platform's data with backup " + m.ID, Kind: steps.KindGate, Component: steps.ComponentBackup,
		Gate: &steps.GateRequest{Destructive: true,
			Happens:  "empty the broker's queues, put the configuration back (daemon-reload), drop and load the dump's databases, delete and restore the backup's indices, then run eiq-platform search upgrade and start the platform",
			Loses:    "the current databases, indices, queued tasks and configuration files of the backup's list",
			Rollback: "none but another restore: take a backup first if the current data matters"},
		Refine: func(g *steps.GateRequest) {
			r.mu.Lock()
			defer r.mu.Unlock()
			var dbs, ix []string
			if m.PostgreSQL != nil {
				for _, d := range m.PostgreSQL.DumpDatabases {
					if n, ok := r.dbs[d]; ok {
						dbs = append(dbs, fmt.Sprintf("%s (%s)", d, steps.HumanBytes(n)))
					}
				}
			}
			if m.Elasticsearch != nil {
				for _, i := range m.Elasticsearch.Indices {
					if n, ok := r.docs[i]; ok {
						ix = append(ix, fmt.Sprintf("%s (%d documents)", i, n))
					}
				}
			}
			g.Loses = fmt.Sprintf("databases: %s; indices: %s; %d queued tasks; %d configuration files that differ",
				orNone(dbs), orNone(ix), r.counts.Total, len(r.diffs))
		},
	}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none present"
	}
	return strings.Join(xs, ", ")
}

// deleteQueuesStep empties the broker: its tasks refer to the state being
// replaced.
func (r *restoreRun) deleteQueuesStep() steps.Step {
	s := r.s
	return steps.Step{
		ID: "delete-queues", Title: "Empty the broker's queues", Kind: steps.KindAction, Component: redis.Component, Destructive: true,
		Why: "Queued tasks name entities of the state being replaced; the workers would run them against the restored one.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: "DEL <every queue key counted> unacked_index"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			c, err := srv.Count(ctx, rc)
			if err != nil {
				return err
			}
			keys := []string{"unacked_index"}
			for _, q := range c.Queues {
				keys = append(keys, q.Key)
			}
			n, err := srv.Delete(ctx, rc, keys)
			if err != nil {
				return err
			}
			rc.Output(s.redisNode, fmt.Sprintf("deleted %d keys holding %d tasks", n, c.Total))
			return nil
		},
	}
}

// configStep puts the configuration back and reloads systemd.
func (r *restoreRun) configStep() steps.Step {
	s, m := r.s, r.m
	return steps.Step{
		ID: "restore-configuration", Title: "Put the configuration files back", Kind: steps.KindAction, Component: files.ConfigComponent, Destructive: true,
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.platform, Cmd: files.RestoreCmd + " < " + repo.ConfigArchivePath(m.ID, s.platform) + "; systemctl daemon-reload", Sudo: true}}
		},
		Skip: func() string {
			if savedConfig(m) == nil {
				return "the backup has no configuration archive"
			}
			return ""
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			c := savedConfig(m)
			if err := s.conf().Restore(ctx, rc, r.store, c.Archive, c.Size); err != nil {
				return err
			}
			if _, err := rc.Stdout(ctx, s.platform, "systemctl daemon-reload", true); err != nil {
				return fmt.Errorf("%s: systemctl daemon-reload: %w", s.platform, err)
			}
			r.mu.Lock()
			n := len(r.diffs)
			r.mu.Unlock()
			r.report.Note("configuration: %d entries put back (%d files differed), owners and modes kept", len(c.Entries), n)
			return nil
		},
	}
}

// postgresStep drops the dump's databases (ending their sessions) and
// loads the dump, reading psql's errors.
func (r *restoreRun) postgresStep() steps.Step {
	s, m := r.s, r.m
	pg := s.pg()
	return steps.Step{
		ID: "load-postgresql", Title: "Drop the dump's databases and load the dump", Kind: steps.KindAction, Component: postgres.Component, Destructive: true,
		Why: "Seed 003's `psql -U postgres < dump` exits 0 on every error and fails on relations that exist: the dump's databases are dropped first, and psql's errors are read — `role \"…\" already exists` is the only one expected.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.pgNode, Cmd: pg.DropCmd("<each database the dump creates>"), Sudo: true},
				{Node: s.pgNode, Cmd: pg.LoadCmd() + " < " + m.ID + "/" + repo.PostgresDumpFile, Sudo: true}}
		},
		Skip: func() string {
			if m.PostgreSQL == nil {
				return "the backup has no PostgreSQL dump"
			}
			return ""
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			if err := pg.Drop(ctx, rc, m.PostgreSQL.DumpDatabases); err != nil {
				return err
			}
			f, err := r.store.Open(ctx, m.PostgreSQL.Dump.Path)
			if err != nil {
				return fmt.Errorf("open the dump: %w", err)
			}
			defer f.Close()
			size := m.PostgreSQL.Dump.Size
			if err := pg.Load(ctx, rc, f, func(n int64) { rc.Progress(s.pgNode, n, size, "bytes") }); err != nil {
				return err
			}
			r.report.Note("postgresql: %s loaded into %s in %s", steps.HumanBytes(size), strings.Join(m.PostgreSQL.DumpDatabases, ", "), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// esStep deletes exactly the backup's indices, restores them and follows
// _recovery.
func (r *restoreRun) esStep() steps.Step {
	s, e := r.s, r.m.Elasticsearch
	return steps.Step{
		ID: "restore-elasticsearch", Title: "Restore the platform's indices", Kind: steps.KindAction, Component: es.Component, Destructive: true,
		Why: "Seed 003's bare _restore restores every index and fails on an open one (HTTP 500: close or delete it first): exactly the backup's indices are deleted, restored, and followed through _recovery.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "elasticsearch", Cmd: fmt.Sprintf("DELETE /%s; POST /_snapshot/%s/%s/_restore {indices}; GET /%s/_recovery until DONE",
				strings.Join(e.Indices, ","), e.Repository, e.Snapshot, strings.Join(e.Indices, ","))}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, _, err := es.Open(s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := es.DeleteIndices(ctx, cl, e.Indices); err != nil {
				return err
			}
			if err := es.Restore(ctx, cl, e.Repository, e.Snapshot, e.Indices); err != nil {
				return err
			}
			if err := es.FollowRecovery(ctx, cl, e.Indices, pollMax, rc.Timeout(steps.DeadlineRecovery), func(done, total int64) { rc.Progress("elasticsearch", done, total, "bytes") }); err != nil {
				return err
			}
			r.mu.Lock()
			r.esDone = true
			r.mu.Unlock()
			r.report.Note("elasticsearch: %s restored from snapshot %s in %s", strings.Join(e.Indices, ", "), e.Snapshot, time.Since(start).Round(time.Millisecond))
			return nil
		},
		// An unfinished restore is cancelled as Elasticsearch documents it
		// (its indices deleted); a finished one stays when another step
		// failed (resume does not repeat it).
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			r.mu.Lock()
			done := r.esDone
			r.mu.Unlock()
			if done {
				return nil
			}
			cl, _, err := es.Open(s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			return es.CancelRestore(ctx, cl, e.Indices)
		},
	}
}

// FailedPackagesSQL is seed 003's query of the packages that were not
// ingested whole.
const FailedPackagesSQL = "SELECT id, processing_status FROM blob WHERE processing_status NOT IN ('success', 'pending');"

// failedPackagesStep runs seed 003's query and reports what it finds,
// never failing the restore.
func (r *restoreRun) failedPackagesStep() steps.Step {
	s := r.s
	pg := s.pg()
	db := s.eiq.Postgres.Database
	return steps.Step{
		ID: "failed-packages", Title: "Look for packages that were not ingested whole", Kind: steps.KindCheck, Component: postgres.Component,
		Why:  "Seed 003: the scenario that called for the restore may have left packages partly ingested; they are listed for the operator to ingest again.",
		Plan: steps.PlanEach([]string{s.pgNode}, pg.Query(db, FailedPackagesSQL), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := pg.QueryOut(ctx, rc, db, FailedPackagesSQL)
			res := steps.CheckResult{Check: "failed packages", Node: s.pgNode, Status: steps.CheckPass}
			rows := strings.Fields(out)
			switch {
			case err != nil:
				res.Status, res.Evidence = steps.CheckWarn, err.Error()
			case len(rows) == 0:
				res.Evidence = "none"
			default:
				res.Status = steps.CheckWarn
				res.Evidence = fmt.Sprintf("%d packages (id|status): %s", len(rows), strings.Join(rows[:min(len(rows), 20)], " "))
				res.Remedy = "examine them and ingest them again if needed"
			}
			rc.Check(res)
			r.report.Note("failed packages: %s", res.Evidence)
			return nil
		},
	}
}

// upgradeCmd starts `eiq-platform search upgrade` as seed 003 runs it,
// detached from the SSH session (it survives a lost connection, as the
// document says it should), its output and exit status kept in a folder
// whose path it prints.
func (s *site) upgradeCmd() string {
	inner := "EIQ_PLATFORM_SETTINGS=" + remote.Quote(s.eiq.Settings) + " " + remote.Quote(s.eiq.PlatformBin) + " search upgrade"
	run := "runuser -l " + remote.Quote(s.eiq.PlatformUser) + " -c " + remote.Quote(inner) + ` >"$0/out" 2>&1; echo $? >"$0/status.tmp" && mv "$0/status.tmp" "$0/status"`
	return `d=$(mktemp -d /tmp/hotsnap-eiq-upgrade.XXXXXX) && (setsid sh -c ` + remote.Quote(run) + ` "$d" </dev/null >/dev/null 2>&1 &) && echo "$d"`
}

// upgradeStep runs `eiq-platform search upgrade` supervised: started
// detached, polled to its end, judged by its exit status (seed 003 says
// "no message = success").
func (r *restoreRun) upgradeStep() steps.Step {
	s := r.s
	return steps.Step{
		ID: "search-upgrade", Title: "Migrate the Elasticsearch indices (eiq-platform search upgrade)", Kind: steps.KindAction, Component: "platform",
		Why:  "Seed 003 migrates the indices after a restore and calls silence success; here the command runs detached from SSH (it keeps running on a lost connection) and its exit status decides.",
		Plan: steps.PlanEach([]string{s.platform}, s.upgradeCmd(), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := rc.Stdout(ctx, s.platform, s.upgradeCmd(), true)
			if err != nil {
				return fmt.Errorf("%s: start eiq-platform search upgrade: %w", s.platform, err)
			}
			dir := strings.TrimSpace(out)
			if !strings.HasPrefix(dir, "/tmp/hotsnap-eiq-upgrade.") || strings.ContainsAny(dir, " \n'") {
				return fmt.Errorf("%s: start eiq-platform search upgrade: unexpected reply %q", s.platform, out)
			}
			q := remote.Quote(dir)
			var status string
			err = steps.Poll(ctx, pollMax, 0, func() (bool, error) {
				o, err := rc.Stdout(ctx, s.platform, "cat "+q+"/status 2>/dev/null; true", true)
				status = strings.TrimSpace(o)
				return status != "", err
			})
			if err != nil {
				return fmt.Errorf("%s: eiq-platform search upgrade still runs (%s holds its output): %w", s.platform, dir, err)
			}
			log, _ := rc.Stdout(ctx, s.platform, "cat "+q+"/out; rm -rf "+q, true)
			for l := range strings.Lines(log) {
				rc.Output(s.platform, strings.TrimRight(l, "\n"))
			}
			if status != "0" {
				return fmt.Errorf("%s: eiq-platform search upgrade exited %s: %s", s.platform, status, lastLine(log))
			}
			r.report.Note("search upgrade: exit 0")
			return nil
		},
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

// drainStep checks that the started workers take up the work: the queues
// empty, or shrink while the producers add to them.
func (r *restoreRun) drainStep() steps.Step {
	s := r.s
	return steps.Step{
		ID: "queues-drain", Title: "The workers take up the queued tasks", Kind: steps.KindCheck, Component: redis.Component,
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: redis.CountsCmds, Note: "until empty or shrinking, up to 1 minute"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			var first, last int64 = -1, 0
			err = steps.Poll(ctx, pollMax, time.Minute, func() (bool, error) {
				c, err := srv.Count(ctx, rc)
				if err != nil {
					return false, nil
				}
				last = c.Total
				if first < 0 {
					first = c.Total
					return c.Total == 0, nil
				}
				return c.Total == 0 || c.Total < first, nil
			})
			res := steps.CheckResult{Check: "queues drain", Node: s.redisNode, Status: steps.CheckPass, Evidence: fmt.Sprintf("%d queued, then %d: the workers consume", max(first, 0), last)}
			if errors.Is(err, steps.ErrPollTimeout) {
				res.Status, res.Evidence, res.Remedy = steps.CheckWarn, fmt.Sprintf("%d tasks queued and not shrinking after a minute", last), "check the workers: `journalctl -u 'eclecticiq-platform-backend-worker@*'`"
			} else if err != nil {
				return err
			}
			rc.Check(res)
			r.report.Note("queues: %s", res.Evidence)
			return nil
		},
	}
}

// reportStep compares every table's row count and content hash, and
// every index's document count, with the manifest.
func (r *restoreRun) reportStep() steps.Step {
	s, m := r.s, r.m
	pg := s.pg()
	return steps.Step{
		ID: "report", Title: "Compare the restored data with the backup", Kind: steps.KindCheck, Component: steps.ComponentBackup,
		Why: "The restore is proven at the application's level: the same rows in every table, the same documents in every index.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.pgNode, Cmd: pg.TableStatsCmd("<each database of the backup>"), Sudo: true}, {Node: "elasticsearch", Cmd: "GET /_cat/indices/<the backup's indices>"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var bad []string
			if p := m.PostgreSQL; p != nil {
				tables, same := 0, 0
				for _, d := range p.Databases {
					if len(d.Tables) == 0 {
						continue
					}
					st, err := pg.TableStats(ctx, rc, d.Name)
					if err != nil {
						return err
					}
					now := map[string][2]string{}
					for _, t := range st {
						now[t.Table] = [2]string{strconv.FormatInt(t.Rows, 10), t.Hash}
					}
					for _, t := range d.Tables {
						tables++
						got, ok := now[t.Name]
						switch {
						case !ok:
							bad = append(bad, fmt.Sprintf("%s.%s: missing", d.Name, t.Name))
						case got[0] != strconv.FormatInt(t.Rows, 10):
							bad = append(bad, fmt.Sprintf("%s.%s: %s rows, the backup had %d", d.Name, t.Name, got[0], t.Rows))
						case got[1] != t.Hash:
							bad = append(bad, fmt.Sprintf("%s.%s: %d rows but other content", d.Name, t.Name, t.Rows))
						default:
							same++
						}
					}
				}
				r.report.Note("tables: %d of %d equal to the backup (row counts and content)", same, tables)
			}
			if e := m.Elasticsearch; e != nil && len(e.Docs) > 0 && s.env.Inv.Elasticsearch != nil {
				now, err := s.indexDocs(ctx, e.Indices)
				if err != nil {
					return err
				}
				same := 0
				for _, i := range slices.Sorted(maps.Keys(e.Docs)) {
					if now[i] == e.Docs[i] {
						same++
						continue
					}
					msg := fmt.Sprintf("index %s: %d documents, the backup had %d", i, now[i], e.Docs[i])
					if m.Hot {
						rc.Output("elasticsearch", msg+" (hot backup: ES may lag PostgreSQL)")
						continue
					}
					bad = append(bad, msg)
				}
				r.report.Note("indices: %d of %d with the backup's document counts", same, len(e.Docs))
			}
			if len(bad) > 0 {
				for _, b := range bad {
					r.report.Note("✗ %s", b)
				}
				return fmt.Errorf("the restored data differs from the backup: %s", strings.Join(bad, "; "))
			}
			return nil
		},
	}
}

// savedConfig is the backup's archive of the platform node's configuration
// files (EclecticIQ saves one node's), nil when it has none.
func savedConfig(m *repo.Manifest) *repo.FileStore {
	if len(m.Configs) == 0 {
		return nil
	}
	return &m.Configs[0]
}
