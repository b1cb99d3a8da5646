package thehive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// pollMax is the longest wait between two polls of a snapshot, a
// recovery or a service starting (steps.Poll starts at 100 ms).
const pollMax = time.Second

// loaderTries is how many times sstableloader is run on a table it skips
// because the loading node does not see the new schema yet.
const loaderTries = 15

// Load paths of a restore.
const (
	LoadImport        = "import"        // same topology: each node imports its own SSTables
	LoadSSTableLoader = "sstableloader" // changed topology: stream to the nodes that own the data
)

// RestoreRun is one restore of a backup from the repository.
type RestoreRun struct {
	Store    repo.Store
	Manifest *repo.Manifest
	// S3Exact removes objects created after the backup from the bucket, for
	// an exact copy; by default they are kept. It starts as --s3-exact says
	// and is set by the choice at gate choose-s3 (S3ChoiceGate).
	S3Exact bool
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
	load        string
	byNode      map[string]repo.NodeArchive // current node → the backup node whose SSTables it imports
	esRestoring bool                        // an ES restore was started and has not finished
	imported    int                         // SSTables imported, checked against the manifest
	staged      bool                        // every node's archives are staged and verified
	started     time.Time
	report      []string
	s3          s3Count // the bucket compared with the backup (s3-compare)
}

// LoadPath returns how the keyspace is (or will be) loaded.
func (r *RestoreRun) LoadPath() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load
}

// Report returns the lines of the final report.
func (r *RestoreRun) Report() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.report...)
}

func (r *RestoreRun) note(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.report = append(r.report, s)
	r.mu.Unlock()
	return s
}

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
	rb := steps.Runbook{Name: "restore", Cluster: inv.Cluster}
	rb.Steps = append(rb.Steps, host.SSHCheck(env))
	if m.Keyspace != "" && inv.Cassandra != nil {
		// The topology decides the load path, which decides where the
		// Cassandra archives are verified: here, or while they are staged.
		rb.Steps = append(rb.Steps, ringUpStep(env), topologyStep(env, r))
	}
	rb.Steps = append(rb.Steps, verifyBackupStep(env, r))
	s3 := m.Files != nil && m.Files.Provider == repo.ProviderS3 && inv.Storage != nil && inv.Storage.S3 != nil
	rb.Steps = append(rb.Steps, restoreDiskStep(env, r))
	if s3 {
		rb.Steps = append(rb.Steps, s3CountStep(env, r))
	}
	rb.Steps = append(rb.Steps, preflightVerdictStep())
	if s3 {
		// Asked before TheHive stops and before the destructive gate, which
		// then says what the choice will remove.
		rb.Steps = append(rb.Steps, s3ChoiceGate(env, r))
	}
	thehive := env.NodesWith(config.RoleTheHive)
	stage := m.Keyspace != "" && inv.Cassandra != nil && r.Legacy == nil
	if len(thehive) > 0 {
		happens := "stop TheHive (systemctl stop thehive) and prove it stopped; Cassandra and Elasticsearch stay up"
		if stage {
			happens = "with the same topology, stage each node's SSTables next to its data directory while TheHive still runs (each archive verified as it streams), then " + happens
		}
		rb.Steps = append(rb.Steps, steps.Step{ID: "approve-stop", Title: "Stop TheHive on every node", Kind: steps.KindGate, Gate: &steps.GateRequest{
			Happens: happens, Nodes: thehive,
			Rollback: "sudo systemctl start thehive on each node (hotsnap does it if the restore stops before changing any data)"}})
	}
	if stage {
		rb.Steps = append(rb.Steps, stageStep(env, r))
	}
	if len(thehive) > 0 {
		rb.Steps = append(rb.Steps, stopTheHiveStep(env, r))
	}
	rb.Steps = append(rb.Steps, restoreGate(env, r))
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
		ID: "verify-backup", Title: "Verify the backup before touching anything", Kind: steps.KindCheck,
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
			if r.stagedVerify() {
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

func ringUpStep(env *steps.Env) steps.Step {
	nodes := env.NodesWith(config.RoleCassandra)
	return steps.Step{
		ID: "ring", Title: "Cassandra: every node UN", Kind: steps.KindCheck,
		Why:  "Loading SSTables needs every node that owns data up and normal.",
		Plan: steps.PlanEach(nodes[:1], "nodetool status", false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := rc.Stdout(ctx, nodes[0], "nodetool status", false)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "ring", Node: nodes[0], Status: steps.CheckFail, Evidence: err.Error(), Remedy: "start Cassandra on every node first"})
				return nil
			}
			ring, err := parse.ParseNodetoolStatus(out)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "ring", Node: nodes[0], Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			for _, n := range ring.Nodes() {
				if n.Up() {
					rc.Check(steps.CheckResult{Check: "ring state", Node: n.Address, Status: steps.CheckPass, Evidence: "UN"})
				} else {
					rc.Check(steps.CheckResult{Check: "ring state", Node: n.Address, Status: steps.CheckFail, Evidence: fmt.Sprintf("%c%c", n.Status, n.State),
						Remedy: "bring the node back (`sudo systemctl start cassandra`) and wait for UN"})
				}
			}
			return nil
		},
	}
}

func topologyStep(env *steps.Env, r *RestoreRun) steps.Step {
	m := r.Manifest
	return steps.Step{
		ID: "topology", Title: "Compare the backup's topology with the cluster now", Kind: steps.KindCheck,
		Why: "The same nodes (same host IDs) can take back their own SSTables with `nodetool import`; a changed topology (nodes added, removed, renamed, a migration) needs `sstableloader`, which streams every row to the nodes that own it now.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: env.NodesWith(config.RoleCassandra)[0], Cmd: "CQL: SELECT host_id, data_center, rack, tokens FROM system.local / system.peers_v2"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if r.Legacy != nil {
				r.mu.Lock()
				r.load = LoadSSTableLoader
				r.mu.Unlock()
				rc.Check(steps.CheckResult{Check: "topology", Status: steps.CheckPass, Evidence: "the documented backup is one node's snapshot and records no host IDs: loading with sstableloader, which streams every row to the nodes that own it now"})
				return nil
			}
			q, closeFn, err := openCQL(env)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "cql", Status: steps.CheckFail, Evidence: err.Error(), Remedy: "check cassandra.username/password and that Cassandra is up"})
				return nil
			}
			defer closeFn()
			now, err := q.topology(ctx)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "topology", Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			backup := map[string]repo.NodeArchive{}
			for _, n := range m.Cassandra {
				backup[n.HostID] = n
			}
			byNode := map[string]repo.NodeArchive{}
			same := len(now) == len(m.Cassandra)
			for _, h := range now {
				name := h.Address
				for _, n := range env.Inv.NodesWithRole(config.RoleCassandra) {
					if n.Host == h.Address {
						name = n.Name
					}
				}
				if b, ok := backup[h.HostID]; ok {
					byNode[name] = b
					rc.Output("", fmt.Sprintf("%-8s %s host %s ← backup of %s", name, h.Address, short(h.HostID), b.Node))
				} else {
					same = false
					rc.Output("", fmt.Sprintf("%-8s %s host %s ← new (not in the backup)", name, h.Address, short(h.HostID)))
				}
			}
			r.mu.Lock()
			if same {
				r.load, r.byNode = LoadImport, byNode
			} else {
				r.load = LoadSSTableLoader
			}
			load := r.load
			r.mu.Unlock()
			rc.Check(steps.CheckResult{Check: "topology", Status: steps.CheckPass, Evidence: fmt.Sprintf("backup: %d nodes, now: %d nodes; loading with %s", len(m.Cassandra), len(now), load)})
			return nil
		},
	}
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func stopTheHiveStep(env *steps.Env, r *RestoreRun) steps.Step {
	nodes := env.NodesWith(config.RoleTheHive)
	return steps.Step{
		ID: "stop-thehive", Title: "Stop TheHive and prove it stopped", Kind: steps.KindAction,
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
			if rc.DestructiveStarted() {
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
	step := steps.Step{ID: "approve-restore", Title: "Replace the data with backup " + m.ID, Kind: steps.KindGate, Gate: &steps.GateRequest{
		Happens:     fmt.Sprintf("restore backup %s (taken %s) into %s", m.ID, m.Started.Format(time.RFC3339), env.Inv.Cluster),
		Nodes:       env.AllNodes(),
		Loses:       strings.Join(loses, "; "),
		Rollback:    "restore another backup; the replaced data is not kept (Cassandra's own auto-snapshots of dropped/truncated tables remain on the nodes)",
		Destructive: true,
	}}
	if m.Files != nil && m.Files.Provider == repo.ProviderS3 {
		// What the attachments lose depends on the count and the choice
		// made before this gate.
		step.Refine = func(g *steps.GateRequest) {
			loses[len(loses)-1] = r.s3Loses()
			g.Loses = strings.Join(loses, "; ")
		}
	}
	return step
}

// liveSchema reads the keyspace's current schema, or "" when it does not exist.
func liveSchema(ctx context.Context, q cqlSession, ks string) (string, error) {
	s, err := q.describeKeyspace(ctx, ks)
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "not found") || err != nil && strings.Contains(err.Error(), "does not exist") {
		return "", nil
	}
	return s, err
}

// schemaStatements splits a DESCRIBE output into statements.
func schemaStatements(schema string) []string {
	var out []string
	for _, s := range strings.Split(schema, ";\n") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func normalizeSchema(s string) string { return strings.Join(strings.Fields(s), " ") }

func cassandraRestoreStep(env *steps.Env, r *RestoreRun) steps.Step {
	m := r.Manifest
	c := env.Inv.Cassandra
	ks := m.Keyspace
	nodes := env.NodesWith(config.RoleCassandra)
	staging := func(n string) string { return r.stagingDir(env, n) }
	return steps.Step{
		ID: "cassandra", Title: "Restore the keyspace", Kind: steps.KindAction, Destructive: true,
		Why: "Compare the live schema with the backup's; drop the keyspace only when they differ (the documented script always drops it, through a redirect bug), recreate it from the backup's schema through CQL, load every table, then grant the keyspace to TheHive's role.",
		Plan: func() []steps.PlannedCommand {
			out := []steps.PlannedCommand{{Node: nodes[0], Cmd: "CQL: DESCRIBE KEYSPACE " + ks + " → same as the backup: TRUNCATE each table; different: DROP KEYSPACE; then CREATE from the backup's schema"}}
			for _, n := range nodes {
				out = append(out, steps.PlannedCommand{Node: n, Sudo: true, Cmd: "nodetool import " + ks + " <table> " + staging(n) + "/<table>",
					Note: "same topology: each node imports its own tables, staged (and verified) by the stage step"})
			}
			out = append(out, steps.PlannedCommand{Node: nodes[0], Sudo: true, Cmd: "tar -x -C /tmp/hotsnap-restore-" + m.ID + "/" + ks + "/<table> && sstableloader -d <every node> /tmp/hotsnap-restore-" + m.ID + "/" + ks + "/<table>",
				Note: "changed topology: every archive of every backed-up node is loaded"})
			if c.Username != "" {
				out = append(out, steps.PlannedCommand{Node: nodes[0], Cmd: "CQL: GRANT ALL PERMISSIONS ON KEYSPACE " + ks + " TO " + c.AppRole})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			r.mu.Lock()
			load := r.load
			r.mu.Unlock()
			q, closeFn, err := openCQL(env)
			if err != nil {
				return err
			}
			defer closeFn()
			cur, err := liveSchema(ctx, q, ks)
			if err != nil {
				return fmt.Errorf("read the live schema of %s: %w", ks, err)
			}
			exec := func(stmt string) error { return q.exec(ctx, stmt) }
			switch {
			case cur == "":
				rc.Output("", "keyspace "+ks+" does not exist: creating it from the backup's schema")
			case normalizeSchema(cur) == normalizeSchema(m.Schema):
				rc.Output("", "the live schema equals the backup's: emptying each table (TRUNCATE), keeping the keyspace")
				for _, t := range tablesOf(m) {
					if err := exec("TRUNCATE " + quoteCQLIdent(ks) + "." + quoteCQLIdent(t)); err != nil {
						return err
					}
				}
			default:
				rc.Output("", "the live schema differs from the backup's: dropping keyspace "+ks)
				if err := exec("DROP KEYSPACE " + quoteCQLIdent(ks)); err != nil {
					return err
				}
				cur = ""
			}
			if cur == "" {
				for _, stmt := range schemaStatements(m.Schema) {
					if err := exec(stmt); err != nil {
						return err
					}
				}
			}
			// Every node must see the schema before it is loaded.
			if err := q.awaitSchemaAgreement(ctx); err != nil {
				return fmt.Errorf("wait for schema agreement: %w", err)
			}
			start := time.Now()
			if load == LoadImport {
				err = r.importAll(ctx, rc, env)
			} else {
				err = r.loadAll(ctx, rc, env)
			}
			if err != nil {
				return err
			}
			if c.Username != "" && c.AppRole != "" {
				// The right grammar: the role, not the user, and the keyspace.
				if err := exec("GRANT ALL PERMISSIONS ON KEYSPACE " + quoteCQLIdent(ks) + " TO " + quoteCQLIdent(c.AppRole)); err != nil {
					return err
				}
				rc.Output("", "granted ALL PERMISSIONS on "+ks+" to "+c.AppRole)
			}
			var total int64
			for _, t := range tablesOf(m) {
				n, err := q.count(ctx, ks, t)
				if err != nil {
					return err
				}
				total += n
				rc.Output("", fmt.Sprintf("%s.%s: %d rows", ks, t, n))
			}
			files := ""
			if load == LoadImport {
				r.mu.Lock()
				files = fmt.Sprintf(", %d SSTables imported as the backup lists them", r.imported)
				r.mu.Unlock()
			}
			rc.Output("", r.note("Cassandra: keyspace %s restored with %s in %s, %d rows in %d tables%s", ks, load, time.Since(start).Round(time.Millisecond), total, len(tablesOf(m)), files))
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return rc.RunAll(ctx, nodes, func(n string) remote.Command {
				return remote.Command{Cmd: "rm -rf " + remote.Quote(staging(n)) + " " + remote.Quote("/tmp/hotsnap-restore-"+m.ID), Sudo: true}
			})
		},
	}
}

func tablesOf(m *repo.Manifest) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range m.Cassandra {
		for _, t := range n.Tables {
			if !seen[t.Table] {
				seen[t.Table] = true
				out = append(out, t.Table)
			}
		}
	}
	sort.Strings(out)
	return out
}

// extractCmd unpacks the SSTable components of an archive read on stdin.
func extractCmd(dir string) string {
	q := remote.Quote(dir)
	return "rm -rf " + q + " && mkdir -p " + q + " && tar -x -C " + q + " --exclude=./manifest.json --exclude=./schema.cql && chown -R --reference=" + remote.Quote(path.Dir(path.Dir(dir))) + " " + q + " 2>/dev/null; true"
}

// importAll: each node imports the tables of the backup node with its host ID.
func (r *RestoreRun) importAll(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
	ks := r.Manifest.Keyspace
	nodes := env.NodesWith(config.RoleCassandra)
	r.mu.Lock()
	staged := r.staged
	r.mu.Unlock()
	if !staged {
		// The stage step precedes this one whenever the load path is import.
		return errors.New("the SSTables were not staged: run the restore again (hotsnap resume)")
	}
	return steps.Parallel(nodes, func(_ int, n string) error {
		b, total, err := r.archiveOf(n)
		if err != nil {
			return err
		}
		var done int64
		for _, t := range b.Tables {
			dir := path.Join(r.stagingDir(env, n), t.Table)
			// File counts against the manifest: every SSTable of the
			// archive staged, and none left behind by the import (it
			// moves what it takes).
			var out strings.Builder
			count := "find " + remote.Quote(dir) + " -maxdepth 1 -name '*-Data.db' | wc -l"
			cmd := "echo staged=$(" + count + ") && nodetool import " + remote.Quote(ks) + " " + remote.Quote(t.Table) + " " + remote.Quote(dir) + " && echo left=$(" + count + ")"
			if _, err := rc.Run(ctx, n, remote.Command{Cmd: cmd, Sudo: true, Stdout: &out}); err != nil {
				return fmt.Errorf("%s: nodetool import %s: %w", n, t.Table, err)
			}
			want := sstablesIn(t.Files)
			got, left := countField(out.String(), "staged"), countField(out.String(), "left")
			if got != want || left != 0 {
				return fmt.Errorf("%s: table %s: the backup lists %d SSTables, %d were staged and %d were not imported: see the node's Cassandra system.log (Loading new SSTables ...)", n, t.Table, want, got, left)
			}
			r.mu.Lock()
			r.imported += got
			r.mu.Unlock()
			rc.Run(ctx, n, remote.Command{Cmd: "rm -rf " + remote.Quote(dir), Sudo: true})
			done += t.Size
			rc.Progress(n, done, total, "bytes")
		}
		return nil
	})
}

// loaderSources are the backed-up nodes whose SSTables sstableloader loads:
// every node's, or one node's when every node held every row (RF = node
// count, every node UN at backup time).
func loaderSources(m *repo.Manifest) []repo.NodeArchive {
	if rf := schemaReplication(m.Schema); rf >= len(m.Cassandra) && len(m.Cassandra) > 1 {
		return m.Cassandra[:1]
	}
	return m.Cassandra
}

// sstablesIn counts the SSTables (Data.db components) an archive lists.
func sstablesIn(files []repo.FileEntry) int {
	n := 0
	for _, f := range files {
		name := strings.TrimPrefix(f.Name, "./")
		if strings.HasSuffix(name, "-Data.db") && !strings.Contains(name, "/") {
			n++
		}
	}
	return n
}

// countField reads "name=N" from a command's output (-1 when absent).
func countField(out, name string) int {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+"="); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}

// loadAll streams every backed-up node's tables through sstableloader on the
// first node, one table at a time (a staging copy is unavoidable:
// sstableloader reads a directory).
func (r *RestoreRun) loadAll(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
	m := r.Manifest
	c := env.Inv.Cassandra
	loader := env.NodesWith(config.RoleCassandra)[0]
	var hosts []string
	for _, n := range env.Inv.NodesWithRole(config.RoleCassandra) {
		hosts = append(hosts, n.Host)
	}
	sources := loaderSources(m)
	if len(sources) < len(m.Cassandra) {
		rc.Output(loader, fmt.Sprintf("replication factor %d on %d nodes: loading the SSTables of %s only", schemaReplication(m.Schema), len(m.Cassandra), sources[0].Node))
	}
	var total, done int64
	for _, n := range sources {
		total += archiveBytes(n)
	}
	for _, n := range sources {
		for _, t := range n.Tables {
			dir := "/tmp/hotsnap-restore-" + m.ID + "/" + m.Keyspace + "/" + t.Table
			base := done
			if err := r.streamArchive(ctx, rc, loader, t.Archive, extractCmd(dir), func(x int64) { rc.Progress(loader, base+x, total, "bytes") }); err != nil {
				return fmt.Errorf("%s: stage %s of %s: %w", loader, t.Table, n.Node, err)
			}
			cmd := "sstableloader -d " + remote.Quote(strings.Join(hosts, ","))
			if c.Username != "" {
				// sstableloader takes the password only as an argument.
				cmd += " -u " + remote.Quote(c.Username) + " -pw " + remote.Quote(env.CassandraPassword)
			}
			cmd += " " + remote.Quote(dir)
			// sstableloader skips a table it does not see yet ("Skipping file
			// ...: table ks.t doesn't exist") and still exits 0: a node that
			// has not caught up with the new schema must not make a silent
			// partial restore. Retry, then fail.
			var out strings.Builder
			try := 0
			if err := steps.Poll(ctx, time.Second, 0, func() (bool, error) {
				try++
				out.Reset()
				if _, err := rc.Run(ctx, loader, remote.Command{Cmd: cmd, Sudo: true, Stdout: &out}); err != nil {
					return false, fmt.Errorf("%s: sstableloader %s (from %s): %w", loader, t.Table, n.Node, err)
				}
				if !strings.Contains(out.String(), "Skipping file") {
					return true, nil
				}
				if try == loaderTries {
					return false, fmt.Errorf("%s: sstableloader skipped the files of %s (from %s): %s", loader, t.Table, n.Node, firstLineWith(out.String(), "Skipping file"))
				}
				return false, nil
			}); err != nil {
				return err
			}
			rc.Output(loader, fmt.Sprintf("%s from %s: %s", t.Table, n.Node, lastLine(out.String())))
			rc.Run(ctx, loader, remote.Command{Cmd: "rm -rf " + remote.Quote(dir), Sudo: true})
			done += t.Size
		}
	}
	rc.Progress(loader, total, total, "bytes")
	// The per-table folders are gone; their parents too.
	rc.Run(ctx, loader, remote.Command{Cmd: "rm -rf " + remote.Quote("/tmp/hotsnap-restore-"+m.ID), Sudo: true})
	return nil
}

// streamArchive streams a repository file into cmd's stdin on node.
func (r *RestoreRun) streamArchive(ctx context.Context, rc *steps.RunContext, node, archive, cmd string, progress func(int64)) error {
	f, err := r.Store.Open(ctx, archive)
	if err != nil {
		return fmt.Errorf("open %s: %w", archive, err)
	}
	defer f.Close()
	_, err = rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdin: f, OnProgress: progress})
	return err
}

func esRestoreStep(env *steps.Env, r *RestoreRun) steps.Step {
	s := r.Manifest.Elasticsearch
	idx := strings.Join(s.Indices, ",")
	return steps.Step{
		ID: "elasticsearch", Title: "Restore the Elasticsearch indices", Kind: steps.KindAction, Destructive: true,
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
			if err := es.FollowRecovery(ctx, cl, s.Indices, pollMax, func(done, total int64) { rc.Progress("elasticsearch", done, total, "bytes") }); err != nil {
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
			rc.Output("", r.note("Elasticsearch: %s restored in %s, %d documents", idx, time.Since(start).Round(time.Millisecond), docs))
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
		ID: "files", Title: "Restore the attachments with their owners and modes", Kind: steps.KindAction, Destructive: true,
		Why:  "The archive is unpacked into a staging folder with owners and modes (the documented restore loses thehive:thehive), then swapped in, so a failure while unpacking leaves the current files untouched.",
		Plan: steps.PlanEach([]string{node}, swap.Extract+" ; "+swap.Replace, true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if err := swap.Restore(ctx, rc, node, r.Store, f.Archive, f.Size); err != nil {
				return err
			}
			rc.Output("", r.note("Attachments: %d entries restored into %s:%s", len(f.Entries), node, p))
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
		ID: "files", Title: "Put every attachment object back into the bucket", Kind: steps.KindAction, Destructive: true,
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
			rc.Output("", r.note("Attachments: %d objects restored into s3://%s (%d removed)", len(f.Objects), s3.Bucket, removed))
			return nil
		},
	}
}

func startTheHiveStep(env *steps.Env, r *RestoreRun) steps.Step {
	nodes := env.NodesWith(config.RoleTheHive)
	return steps.Step{
		ID: "start-thehive", Title: "Start TheHive and wait until it is healthy", Kind: steps.KindAction,
		Why:  "The restore is finished only when TheHive answers /api/status and its log since the start shows no error.",
		Plan: steps.PlanEach(nodes, "systemctl start thehive; GET http://127.0.0.1:9000/api/status; journalctl -u thehive --since <start> | grep ERROR", true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			since := time.Now().Add(-time.Second)
			if err := theHive.Start(ctx, rc, nodes); err != nil {
				return err
			}
			if err := theHive.WaitHealthy(ctx, rc, env, nodes, pollMax, r.HealthTimeout); err != nil {
				return err
			}
			if err := theHive.LogErrorsSince(ctx, rc, nodes, since); err != nil {
				return err
			}
			rc.Output("", r.note("TheHive: healthy on %s", strings.Join(nodes, ", ")))
			return nil
		},
	}
}

var replicationRE = regexp.MustCompile(`(?is)CREATE KEYSPACE[^;]*?replication\s*=\s*\{([^}]*)\}`)
var replEntryRE = regexp.MustCompile(`'([^']+)'\s*:\s*'([^']*)'`)

// schemaReplication returns the keyspace's total replication factor from
// its CREATE KEYSPACE statement (the sum over data centres), or 0.
func schemaReplication(schema string) int {
	m := replicationRE.FindStringSubmatch(schema)
	if m == nil {
		return 0
	}
	total := 0
	for _, e := range replEntryRE.FindAllStringSubmatch(m[1], -1) {
		if e[1] == "class" {
			continue
		}
		if n, err := strconv.Atoi(e[2]); err == nil {
			total += n
		}
	}
	return total
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
