package thehive

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
)

// pollMax is the longest wait between two polls of a snapshot, a
// recovery or a service starting (steps.Poll starts at 100 ms).
const pollMax = time.Second

// RestoreRun is one restore of a backup from the repository.
type RestoreRun struct {
	Store    repo.Store
	Manifest *repo.Manifest
	// S3Exact removes objects created after the backup from the bucket, for
	// an exact copy; by default they are kept. It starts as --s3-exact says
	// and is set by the choice at gate choose-s3 (S3ChoiceGate).
	S3Exact bool
	// SetRF sets the replication this cluster needs after loading when the
	// backup's does not fit it; by default it is kept. It starts as
	// --set-rf says and is set by the choice at gate choose-rf
	// (cassandra.RFChoiceGate).
	SetRF bool
	// HealthTimeout bounds the wait for TheHive to answer healthy (default 3 min).
	HealthTimeout time.Duration
	// CassandraDone says the run being resumed finished the keyspace: its
	// archives are neither staged nor needed.
	CassandraDone bool
	// Legacy is set for a backup made by TheHive's documented scripts: the
	// Manifest and Store are then its per-table view (repo.Legacy.Restore),
	// verification reads the archives whole (they have no hashes) and the
	// keyspace is loaded with sstableloader (one node's snapshot, no host IDs).
	Legacy *LegacyRestore

	mu          sync.Mutex
	ks          *cassandra.Restore // the keyspace's part (keyspace())
	esRestoring bool               // an ES restore was started and has not finished
	started     time.Time
	startedApp  bool // the last step started TheHive again (start-thehive)
	report      runbooks.Report
	s3          s3Count // the bucket compared with the backup (s3-compare)
}

// LoadPath returns how the keyspace is (or will be) loaded
// (cassandra.LoadImport, cassandra.LoadSSTableLoader).
func (r *RestoreRun) LoadPath() string { return r.keyspace().Load() }

// LoadedWith names the command the keyspace is (or will be) loaded with:
// "nodetool import", "sstableloader", or "" before the topologies are
// compared.
func (r *RestoreRun) LoadedWith() string {
	if l := r.LoadPath(); l != cassandra.LoadImport {
		return l
	}
	return "nodetool import"
}

// keyspace is the keyspace's part of the restore.
func (r *RestoreRun) keyspace() *cassandra.Restore {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ks == nil {
		r.ks = &cassandra.Restore{Store: r.Store, Manifest: r.Manifest, Done: r.CassandraDone}
		r.ks.SetReplication(r.SetRF)
	}
	return r.ks
}

// Report returns the lines of the final report.
func (r *RestoreRun) Report() []string { return r.report.Lines() }

// Restore builds the guided restore runbook for TheHive: verify the backup
// before touching anything, compare topologies, stop TheHive everywhere and
// prove it stopped, then — behind a destructive gate — restore the keyspace,
// the index and the attachments, start TheHive and wait until it is healthy.
func Restore(env *steps.Env, r *RestoreRun) steps.Runbook {
	if r.HealthTimeout == 0 {
		r.HealthTimeout = 3 * time.Minute
	}
	m := r.Manifest
	inv := env.Inv
	rb := steps.Runbook{Name: "restore", Cluster: inv.Cluster, Resumable: true, Exclusive: true}
	rb.Steps = append(rb.Steps, host.SSHCheck(env))
	if m.Keyspace != "" && inv.Cassandra != nil {
		// The topology decides the load path, which decides where the
		// Cassandra archives are verified: here, or while they are staged.
		rb.Steps = append(rb.Steps, cassandra.RingUpCheck(env), topologyStep(env, r))
	}
	rb.Steps = append(rb.Steps, verifyBackupStep(env, r))
	s3 := m.Files != nil && m.Files.Provider == repo.ProviderS3 && inv.Storage != nil && inv.Storage.S3 != nil
	rb.Steps = append(rb.Steps, restoreDiskStep(env, r))
	if s3 {
		rb.Steps = append(rb.Steps, s3CountStep(env, r))
	}
	rb.Steps = append(rb.Steps, runbooks.PreflightVerdict())
	if s3 {
		// Asked before TheHive stops and before the destructive gate, which
		// then says what the choice will remove.
		rb.Steps = append(rb.Steps, s3ChoiceGate(env, r))
	}
	if m.Keyspace != "" && inv.Cassandra != nil {
		// Asked when the backup's replication does not fit this cluster;
		// the destructive gate then says what is done about it.
		rb.Steps = append(rb.Steps, r.keyspace().RFChoice())
	}
	thehive := env.NodesWith(config.RoleTheHive)
	stage := m.Keyspace != "" && inv.Cassandra != nil && r.Legacy == nil
	if len(thehive) > 0 {
		const stop = "stop TheHive (systemctl stop thehive) and prove it stopped; Cassandra and Elasticsearch stay up"
		happens := stop
		if stage {
			happens = "with the same topology, stage each node's SSTables next to its data directory while TheHive still runs (each archive verified as it streams), then " + stop +
				"; with another topology, the keyspace is loaded with sstableloader once TheHive is stopped"
		}
		gate := steps.Step{ID: "approve-stop", Title: "Stop TheHive on every node", Kind: steps.KindGate, Component: theHive.Name, Gate: &steps.GateRequest{
			Happens: happens, Nodes: thehive,
			Rollback: "sudo systemctl start thehive on each node (hotsnap does it if the restore stops before changing any data)"}}
		if stage {
			// The topology step has decided by now: say only what will happen.
			gate.Refine = func(g *steps.GateRequest) {
				if r.keyspace().StagesAndVerifies() {
					g.Happens = "with the same topology, stage each node's SSTables next to its data directory while TheHive still runs (each archive verified as it streams), then " + stop
				} else {
					g.Happens = stop + "; nothing is staged: the keyspace is loaded with sstableloader once TheHive is stopped (another topology), or was restored by the earlier run"
				}
			}
		}
		rb.Steps = append(rb.Steps, gate)
	}
	if stage {
		rb.Steps = append(rb.Steps, stageStep(env, r))
	}
	if len(thehive) > 0 {
		rb.Steps = append(rb.Steps, stopTheHiveStep(env, r))
	}
	rb.Steps = append(rb.Steps, restoreGate(env, r))
	if s3 {
		rb.Steps = append(rb.Steps, s3AnswersStep(env))
	}
	// The keyspace, the index and the attachments are three systems: they
	// are restored at once, so TheHive is down for the longest of them, not
	// their sum. A failure in one lets the others finish (a resume then
	// skips them) and fails the run; TheHive stays stopped.
	var data []steps.Step
	if m.Keyspace != "" && inv.Cassandra != nil {
		data = append(data, cassandraRestoreStep(env, r))
	}
	if m.Elasticsearch != nil && inv.Elasticsearch != nil {
		data = append(data, esRestoreStep(env, r))
	}
	if m.Files != nil && inv.Storage != nil {
		data = append(data, filesRestoreStep(env, r))
	}
	for i := range data {
		data[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, data...)
	if len(thehive) > 0 {
		rb.Steps = append(rb.Steps, startTheHiveStep(env, r))
	}
	return rb
}

func verifyBackupStep(env *steps.Env, r *RestoreRun) steps.Step {
	m := r.Manifest
	return steps.Step{
		ID: "verify-backup", Title: "Verify the backup before touching anything", Kind: steps.KindCheck, Component: steps.ComponentBackup,
		Why: "\"Ensure you have an up-to-date backup before starting the restore operation, as errors during the restoration could lead to data loss\": every archive is re-hashed, the ES snapshot must exist and be SUCCESS, and ES cannot restore a snapshot into an older version.",
		Plan: func() []steps.PlannedCommand {
			if r.Legacy != nil {
				return []steps.PlannedCommand{{Node: "repository", Cmd: "read every archive of the documented backup " + r.Legacy.Backup.Set.Stamp + " whole (it records no hashes); GET _snapshot/" + esRepo(m) + "/" + r.Legacy.Backup.ESSnapshot}}
			}
			return []steps.PlannedCommand{{Node: "repository", Cmd: "re-hash every file of " + m.ID + " against its manifest; GET _snapshot/" + esRepo(m) + "/" + m.ID}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if r.Legacy != nil {
				return verifyLegacy(ctx, rc, env, r)
			}
			var skip func(string) bool
			if r.keyspace().StagesAndVerifies() {
				tables := map[string]bool{}
				for _, n := range m.Cassandra {
					for _, t := range n.Tables {
						tables[t.Archive] = true
					}
				}
				skip = func(p string) bool { return tables[p] }
				rc.Output("repository", "the Cassandra archives are verified as they are staged on their nodes, before anything changes; here: their presence and size, and every other file's content")
			}
			probs, err := repo.VerifySkipping(ctx, r.Store, m.ID, skip, func(done, total int64) { rc.Progress("repository", done, total, "bytes") })
			if err != nil {
				return fmt.Errorf("verify backup %s: %w", m.ID, err)
			}
			for _, p := range probs {
				rc.Check(steps.CheckResult{Check: "backup files", Node: "repository", Status: steps.CheckFail, Evidence: p.String(),
					Remedy: "this backup is damaged: restore another one (hotsnap list)"})
			}
			if len(probs) == 0 {
				ev := fmt.Sprintf("every file of %s matches its manifest (%s)", m.ID, steps.HumanBytes(m.Size()))
				if skip != nil {
					ev = fmt.Sprintf("every file of %s is there with its size, and every file but the Cassandra archives matches its manifest; those are hashed as they are staged on their nodes (%s in all)", m.ID, steps.HumanBytes(m.Size()))
				}
				rc.Check(steps.CheckResult{Check: "backup files", Node: "repository", Status: steps.CheckPass, Evidence: ev})
			}
			if m.Elasticsearch != nil && env.Inv.Elasticsearch != nil {
				if p := es.CheckSnapshot(ctx, env, m.Elasticsearch); p != "" {
					rc.Check(steps.CheckResult{Check: "es snapshot", Status: steps.CheckFail, Evidence: p, Remedy: "the index cannot be restored from this backup; is elasticsearch.repository the same repository?"})
				} else {
					rc.Check(steps.CheckResult{Check: "es snapshot", Status: steps.CheckPass, Evidence: m.Elasticsearch.Snapshot + " is SUCCESS"})
				}
				rc.Check(es.VersionCompat(ctx, env, m.Elasticsearch.Version))
			}
			return nil
		},
	}
}

func esRepo(m *repo.Manifest) string {
	if m.Elasticsearch == nil {
		return "-"
	}
	return m.Elasticsearch.Repository
}

func topologyStep(env *steps.Env, r *RestoreRun) steps.Step {
	return steps.Step{
		ID: "topology", Title: "Compare the backup's topology with the cluster now", Kind: steps.KindCheck, Component: steps.ComponentTopology,
		Why: "The same nodes (same host IDs) can take back their own SSTables with `nodetool import`; a changed topology (nodes added, removed, renamed, a migration) needs `sstableloader`, which streams every row to the nodes that own it now.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: env.NodesWith(config.RoleCassandra)[0], Cmd: "CQL: SELECT host_id, data_center, rack, tokens FROM system.local / system.peers_v2"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if r.Legacy != nil {
				r.keyspace().SetTopology(cassandra.LoadSSTableLoader, nil)
				rc.Check(steps.CheckResult{Check: "topology", Status: steps.CheckPass, Evidence: "the documented backup is one node's snapshot and records no host IDs: loading with sstableloader, which streams every row to the nodes that own it now"})
				r.keyspace().CompareReplication(ctx, rc, env)
				return nil
			}
			r.keyspace().CompareTopology(ctx, rc, env)
			return nil
		},
	}
}

func stopTheHiveStep(env *steps.Env, r *RestoreRun) steps.Step {
	nodes := env.NodesWith(config.RoleTheHive)
	return steps.Step{
		ID: "stop-thehive", Title: "Stop TheHive and prove it stopped", Kind: steps.KindAction, Component: theHive.Name,
		Why:  "Both hot and cold restores require TheHive stopped on every node: a running TheHive would write into the keyspace being replaced.",
		Plan: steps.PlanEach(nodes, theHive.StopCmd()+"; "+theHive.StoppedProbe(), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			r.mu.Lock()
			r.started = time.Now()
			r.mu.Unlock()
			return theHive.Stop(ctx, rc, nodes)
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			// The engine knows whether a destructive step started, here or
			// in the run this one resumes.
			r.mu.Lock()
			startedApp := r.startedApp
			r.mu.Unlock()
			switch {
			case startedApp:
				rc.Output("", "TheHive was started again once the data was restored, and did not get healthy (see the error); once it does, hotsnap resume "+rc.RunID()+" checks it again")
				return nil
			case rc.DestructiveStarted():
				rc.Output("", "TheHive stays stopped: the data was being replaced; finish the restore (hotsnap resume "+rc.RunID()+") before starting it")
				return nil
			}
			return theHive.Start(ctx, rc, nodes)
		},
	}
}

func restoreGate(env *steps.Env, r *RestoreRun) steps.Step {
	m := r.Manifest
	var loses []string
	if m.Keyspace != "" {
		loses = append(loses, "the current data of keyspace "+m.Keyspace+" on every node")
	}
	if m.Elasticsearch != nil {
		loses = append(loses, "the current indices "+strings.Join(m.Elasticsearch.Indices, ", "))
	}
	if m.Files != nil {
		if m.Files.Provider == repo.ProviderS3 {
			loses = append(loses, "attachment objects in the bucket that differ from the backup")
		} else {
			loses = append(loses, "the current attachments in "+m.Files.Path)
		}
	}
	step := steps.Step{ID: "approve-restore", Title: "Replace the data with backup " + m.ID, Kind: steps.KindGate, Component: steps.ComponentBackup, Gate: &steps.GateRequest{
		Happens:     fmt.Sprintf("restore backup %s (taken %s) into %s", m.ID, m.Started.Format(time.RFC3339), env.Inv.Cluster),
		Nodes:       env.AllNodes(),
		Loses:       strings.Join(loses, "; "),
		Rollback:    "restore another backup; the replaced data is not kept (Cassandra's own auto-snapshots of dropped/truncated tables remain on the nodes)",
		Destructive: true,
	}}
	// What the attachments lose depends on the count and the choice made
	// before this gate; what is done about the keyspace's replication, on
	// the topology and the choice made before it.
	step.Refine = func(g *steps.GateRequest) {
		if m.Files != nil && m.Files.Provider == repo.ProviderS3 {
			loses[len(loses)-1] = r.s3Loses()
			g.Loses = strings.Join(loses, "; ")
		}
		if m.Keyspace != "" && env.Inv.Cassandra != nil {
			if rf := r.keyspace().ReplicationPlan(); rf != "" {
				g.Happens += "; " + rf
			}
		}
	}
	return step
}

func cassandraRestoreStep(env *steps.Env, r *RestoreRun) steps.Step {
	return steps.Step{
		ID: "cassandra", Title: "Restore the keyspace", Kind: steps.KindAction, Component: cassandra.Component, Destructive: true,
		Why:  "Compare the live schema with the backup's; drop the keyspace only when they differ (the documented script always drops it, through a redirect bug), recreate it from the backup's schema through CQL, load every table, then grant the keyspace to TheHive's role.",
		Plan: func() []steps.PlannedCommand { return r.keyspace().KeyspacePlan(env) },
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			line, err := r.keyspace().RestoreKeyspace(ctx, rc, env)
			if err != nil {
				return err
			}
			rc.Output("", r.report.Note("%s", line))
			if rf := r.keyspace().ReplicationReport(); rf != "" {
				rc.Output("", r.report.Note("%s", rf))
			}
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return r.keyspace().Clean(ctx, rc, env)
		},
	}
}

func esRestoreStep(env *steps.Env, r *RestoreRun) steps.Step {
	s := r.Manifest.Elasticsearch
	idx := strings.Join(s.Indices, ",")
	return steps.Step{
		ID: "elasticsearch", Title: "Restore the Elasticsearch indices", Kind: steps.KindAction, Component: es.Component, Destructive: true,
		Why: "ES refuses to restore over an open index of the same name: the indices are deleted, restored with wait_for_completion=false, and _recovery is followed to the end.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "elasticsearch", Cmd: fmt.Sprintf("DELETE /%s; POST /_snapshot/%s/%s/_restore?wait_for_completion=false {\"indices\": %q, \"include_global_state\": false}; GET /%s/_recovery until DONE", idx, s.Repository, s.Snapshot, idx, idx)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, _, err := es.Open(env)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := es.DeleteIndices(ctx, cl, s.Indices); err != nil {
				return err
			}
			if err := es.Restore(ctx, cl, s.Repository, s.Snapshot, s.Indices); err != nil {
				return err
			}
			r.mu.Lock()
			r.esRestoring = true
			r.mu.Unlock()
			if err := es.FollowRecovery(ctx, cl, s.Indices, pollMax, rc.Timeout(steps.DeadlineRecovery), func(done, total int64) { rc.Progress("elasticsearch", done, total, "bytes") }); err != nil {
				return err
			}
			var docs int64
			for _, i := range s.Indices {
				n, err := es.Count(ctx, cl, i)
				if err != nil {
					return err
				}
				docs += n
				rc.Output("elasticsearch", fmt.Sprintf("%s: %d documents", i, n))
			}
			r.mu.Lock()
			r.esRestoring = false
			r.mu.Unlock()
			rc.Output("", r.report.Note("Elasticsearch: %s restored in %s, %d documents", idx, time.Since(start).Round(time.Millisecond), docs))
			return nil
		},
		// A restore still recovering when the run stops is cancelled the
		// way ES documents it: by deleting the indices being restored.
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			r.mu.Lock()
			restoring := r.esRestoring
			r.mu.Unlock()
			if !restoring {
				return nil
			}
			cl, _, err := es.Open(env)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := es.CancelRestore(ctx, cl, s.Indices); err != nil {
				return err
			}
			rc.Output("elasticsearch", "cancelled the unfinished restore of "+idx+" (deleted the indices being restored); hotsnap resume "+rc.RunID()+" restores them again")
			return nil
		},
	}
}

func filesRestoreStep(env *steps.Env, r *RestoreRun) steps.Step {
	f := r.Manifest.Files
	if f.Provider == repo.ProviderS3 {
		return s3RestoreStep(env, r)
	}
	node, p := files.Location(env)
	swap := files.SwapFor(p, r.Manifest.ID)
	return steps.Step{
		ID: "files", Title: "Restore the attachments with their owners and modes", Kind: steps.KindAction, Component: files.Component, Destructive: true,
		Why:  "The archive is unpacked into a staging folder with owners and modes (the documented restore loses thehive:thehive), then swapped in, so a failure while unpacking leaves the current files untouched.",
		Plan: steps.PlanEach([]string{node}, swap.Extract+" ; "+swap.Replace, true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if err := swap.Restore(ctx, rc, node, r.Store, f.Archive, f.Size); err != nil {
				return err
			}
			rc.Output("", r.report.Note("Attachments: %d entries restored into %s:%s", len(f.Entries), node, p))
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			_, err := rc.Run(ctx, node, remote.Command{Cmd: swap.Clean, Sudo: true})
			return err
		},
	}
}

func s3RestoreStep(env *steps.Env, r *RestoreRun) steps.Step {
	s3 := env.Inv.Storage.S3
	f := r.Manifest.Files
	node := appNode(env)
	return steps.Step{
		ID: "files", Title: "Put every attachment object back into the bucket", Kind: steps.KindAction, Component: files.Component, Destructive: true,
		Why: "Every object of the backup is written back; objects created after the backup are kept unless an exact copy was asked for.",
		Plan: func() []steps.PlannedCommand {
			mode := "objects created after the backup are kept or removed as chosen at gate " + S3ChoiceGate
			if r.exact() {
				mode = "objects not in the backup are removed (exact copy)"
			}
			return []steps.PlannedCommand{{Node: node, Cmd: fmt.Sprintf("S3 via SSH tunnel: PutObject %d objects into %s/%s; %s", len(f.Objects), s3.Endpoint, s3.Bucket, mode)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			cl, err := files.S3Client(env, node)
			if err != nil {
				return err
			}
			removed, err := files.PutBack(ctx, rc, cl, s3.Bucket, r.Store, r.Manifest.ID, f.Objects, r.exact())
			if err != nil {
				return err
			}
			rc.Output("", r.report.Note("Attachments: %d objects restored into s3://%s (%d removed)", len(f.Objects), s3.Bucket, removed))
			return nil
		},
	}
}

func startTheHiveStep(env *steps.Env, r *RestoreRun) steps.Step {
	nodes := env.NodesWith(config.RoleTheHive)
	return steps.Step{
		ID: "start-thehive", Title: "Start TheHive and wait until it is healthy", Kind: steps.KindAction, Component: theHive.Name,
		Why:  "The restore is finished only when TheHive answers /api/status and its log since the start shows no error.",
		Plan: steps.PlanEach(nodes, "systemctl start thehive; GET http://127.0.0.1:9000/api/status; journalctl -u thehive --since <start> | grep ERROR", true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			since := time.Now().Add(-time.Second)
			r.mu.Lock()
			r.startedApp = true
			r.mu.Unlock()
			if err := theHive.Start(ctx, rc, nodes); err != nil {
				return err
			}
			if err := theHive.WaitHealthy(ctx, rc, env, nodes, pollMax, r.HealthTimeout); err != nil {
				return err
			}
			if err := theHive.LogErrorsSince(ctx, rc, nodes, since); err != nil {
				return err
			}
			rc.Output("", r.report.Note("TheHive: healthy on %s", strings.Join(nodes, ", ")))
			return nil
		},
	}
}
