package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// Restore is the keyspace's part of a restore of backup Manifest from
// Store: how it is loaded (the topologies compared), where each node's
// SSTables come from, and what was staged and imported.
type Restore struct {
	Store    repo.Store
	Manifest *repo.Manifest
	// Done says the run being resumed finished the keyspace: its archives
	// are neither staged nor needed.
	Done bool

	mu       sync.Mutex
	load     string
	byNode   map[string]repo.NodeArchive // current node → the backup node whose SSTables it imports
	imported int                         // SSTables imported, checked against the manifest
	staged   bool                        // every node's archives are staged and verified
	change   *ReplicationChange          // the replication this cluster needs, when the backup's differs
	setRF    bool                        // apply change after loading (gate RFChoiceGate, --set-rf)
	rfLine   string                      // what was done about the replication, for the report
}

// ReplicationChange is the replication a restore into this cluster needs
// when the backup's differs from the runbook's RF = node count in every data
// center: a restore into another topology keeps the backup's schema, so
// 3 → 5 nodes leaves two nodes without a full copy (hotsnap's next backup
// fails its preflight) and 3 → 1 node leaves more replicas than nodes
// (QUORUM reads and writes fail).
type ReplicationChange struct {
	// Backup is the backup's replication against this cluster's nodes
	// ("thehive: SimpleStrategy, RF 3 on 5 nodes").
	Backup string
	// Needs says what this cluster needs ("RF 5 in datacenter1").
	Needs string
	// Alter is the runbook's ALTER KEYSPACE that sets it.
	Alter string
	// Over says a data center has more replicas than nodes.
	Over bool
}

// The choice gate of a restore whose backup's replication does not fit
// this cluster (ReplicationChange): keep it (the default, --yes) or set the
// runbook's after loading (--set-rf).
const (
	RFChoiceGate = "choose-rf" // the gate's step ID (steps.GatePolicy.Choices key)
	RFKeep       = "keep"
	RFSet        = "set"
	// RFFlag is the restore's flag that takes RFSet.
	RFFlag = "--set-rf"
)

// Replication returns the change of replication this cluster needs (nil
// when the backup's fits, or before the topologies are compared).
func (r *Restore) Replication() *ReplicationChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.change
}

// SetReplication says whether the restore sets the replication this cluster
// needs after loading (RFSet) or keeps the backup's.
func (r *Restore) SetReplication(set bool) {
	r.mu.Lock()
	r.setRF = set
	r.mu.Unlock()
}

// SetsReplication says whether the restore sets the replication.
func (r *Restore) SetsReplication() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.setRF
}

// ReplicationReport is the report's line on the replication ("" when the
// backup's fits this cluster or the keyspace was not restored).
func (r *Restore) ReplicationReport() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rfLine
}

// Load returns how the keyspace is (or will be) loaded: LoadImport,
// LoadSSTableLoader, or "" before the topologies are compared.
func (r *Restore) Load() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load
}

// SetTopology records how the keyspace is loaded and, for LoadImport, the
// backup node each current node takes its SSTables from.
func (r *Restore) SetTopology(load string, byNode map[string]repo.NodeArchive) {
	r.mu.Lock()
	r.load, r.byNode = load, byNode
	r.mu.Unlock()
}

// NodeBytes is the size of the SSTables node n imports (0 when it takes
// none).
func (r *Restore) NodeBytes(n string) int64 {
	r.mu.Lock()
	b := r.byNode[n]
	r.mu.Unlock()
	return ArchiveBytes(b)
}

// CompareTopology reads the ring through CQL and compares it with the
// backup's: the same host IDs take back their own SSTables (LoadImport),
// anything else is loaded with sstableloader. It reports the map current
// node ← backup node, and a "topology" check.
func (r *Restore) CompareTopology(ctx context.Context, rc *steps.RunContext, env *steps.Env) {
	m := r.Manifest
	now, ok := ringNow(ctx, rc, env)
	if !ok {
		return
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
	load := LoadSSTableLoader
	if same {
		load = LoadImport
	} else {
		byNode = nil
	}
	r.SetTopology(load, byNode)
	rc.Check(steps.CheckResult{Check: "topology", Status: steps.CheckPass, Evidence: fmt.Sprintf("backup: %d nodes, now: %d nodes; loading with %s", len(m.Cassandra), len(now), load)})
	r.compareReplication(rc, now)
}

// CompareReplication reads the ring through CQL and compares the backup's
// replication with it, as CompareTopology does (for a backup without host
// IDs, which is always loaded with sstableloader).
func (r *Restore) CompareReplication(ctx context.Context, rc *steps.RunContext, env *steps.Env) {
	if now, ok := ringNow(ctx, rc, env); ok {
		r.compareReplication(rc, now)
	}
}

// ringNow reads the ring through CQL; a failure is a failed check.
func ringNow(ctx context.Context, rc *steps.RunContext, env *steps.Env) ([]Host, bool) {
	q, err := Open(env)
	if err != nil {
		rc.Check(steps.CheckResult{Check: "cql", Status: steps.CheckFail, Evidence: err.Error(), Remedy: "check cassandra.username/password and that Cassandra is up"})
		return nil, false
	}
	defer q.Close()
	now, err := q.Topology(ctx)
	if err != nil {
		rc.Check(steps.CheckResult{Check: "topology", Status: steps.CheckFail, Evidence: err.Error()})
		return nil, false
	}
	return now, true
}

// compareReplication rates the backup's replication against the ring now
// (the runbook's RF = node count in every data center) and records the
// change this cluster needs; a "replication" check says it.
func (r *Restore) compareReplication(rc *steps.RunContext, now []Host) {
	ks := r.Manifest.Keyspace
	repl := SchemaReplicationMap(r.Manifest.Schema)
	if len(repl) == 0 {
		return // no CREATE KEYSPACE in the backup's schema: the verify step says so
	}
	perDC := map[string]int{}
	for _, h := range now {
		perDC[h.DC]++
	}
	g := compareReplication(ks, repl, perDC, len(now))
	r.mu.Lock()
	r.change = nil
	r.mu.Unlock()
	if !g.differs() {
		rc.Check(steps.CheckResult{Check: "replication", Status: steps.CheckPass, Evidence: "the backup's replication fits this cluster (RF = node count in every data center): " + g.evidence})
		return
	}
	var needs []string
	for _, dc := range slices.Sorted(maps.Keys(perDC)) {
		needs = append(needs, fmt.Sprintf("RF %d in %s", perDC[dc], dc))
	}
	ch := &ReplicationChange{Backup: g.evidence, Needs: strings.Join(needs, ", "), Alter: AlterReplication(ks, perDC, len(now)), Over: len(g.over) > 0}
	r.mu.Lock()
	r.change = ch
	r.mu.Unlock()
	remedy := fmt.Sprintf("take %q at gate %s (or restore %s): after loading, `%s` then `nodetool repair -full %s` on every node; kept, hotsnap's next backup fails its preflight", RFSet, RFChoiceGate, RFFlag, ch.Alter, ks)
	if ch.Over {
		remedy = "more replicas than nodes: QUORUM reads and writes (TheHive's) fail until it is set; " + remedy
	}
	rc.Check(steps.CheckResult{Check: "replication", Status: steps.CheckWarn,
		Evidence: fmt.Sprintf("the backup's keyspace: %s; this cluster needs %s (the runbook's RF = node count in every data center); a restore keeps the backup's unless told", g.evidence, ch.Needs),
		Remedy:   remedy})
}

// RFChoice is the choice gate of a restore whose backup's replication does
// not fit this cluster: keep it (the default) or set the runbook's after
// loading. It is skipped when the replication fits or the keyspace was
// restored by the run being resumed; it changes nothing itself.
func (r *Restore) RFChoice() steps.Step {
	ks := r.Manifest.Keyspace
	return steps.Step{
		ID: RFChoiceGate, Title: "Keep the backup's replication or set this cluster's", Kind: steps.KindGate, Component: Component,
		Why: "A restore into another topology recreates the keyspace with the backup's replication; the runbook asks for RF = node count in every data center (`ALTER KEYSPACE … NetworkTopologyStrategy`, then `nodetool repair`).",
		Gate: &steps.GateRequest{
			Happens:  "the keyspace " + ks + " is recreated with the backup's replication; keep it, or set the one this cluster needs after loading (ALTER KEYSPACE, then nodetool repair -full on every node)",
			Loses:    "nothing yet: the choice is acted on only after the destructive gate",
			Rollback: "decline (esc) to stop here: nothing has been changed",
			Default:  RFKeep,
			Choices: []steps.GateChoice{
				{Key: RFKeep, Label: "keep the backup's replication"},
				{Key: RFSet, Label: "set this cluster's replication after loading, then repair", Flag: RFFlag},
			},
		},
		Skip: func() string {
			if r.Done {
				return "the keyspace was restored by the earlier run"
			}
			if r.Replication() == nil {
				return "the backup's replication fits this cluster: nothing to choose"
			}
			return ""
		},
		Refine: func(g *steps.GateRequest) {
			ch := r.Replication()
			switch {
			case ch != nil && r.Load() == LoadSSTableLoader:
				g.Happens = fmt.Sprintf("the keyspace %s is recreated with the backup's replication (%s); this cluster needs %s: keep the backup's, or set it before loading (`%s`: sstableloader then writes every replica, no repair needed)", ks, ch.Backup, ch.Needs, ch.Alter)
				g.Choices = slices.Clone(g.Choices)
				for i := range g.Choices {
					if g.Choices[i].Key == RFSet {
						g.Choices[i].Label = "set this cluster's replication before loading"
					}
				}
			case ch != nil:
				g.Happens = fmt.Sprintf("the keyspace %s is recreated with the backup's replication (%s); this cluster needs %s: keep the backup's, or set it after loading (`%s`, then `nodetool repair -full %s` on every node)", ks, ch.Backup, ch.Needs, ch.Alter, ks)
			}
		},
		Chose: func(k string) { r.SetReplication(k == RFSet) },
	}
}

// ReplicationPlan is what the destructive gate says of the replication
// ("" when the backup's fits this cluster).
func (r *Restore) ReplicationPlan() string {
	ch := r.Replication()
	switch {
	case ch == nil:
		return ""
	case r.setsBeforeLoading():
		return fmt.Sprintf("the replication set to what this cluster needs (%s) before loading: `%s`; sstableloader then writes every replica (no repair needed)", ch.Needs, ch.Alter)
	case r.SetsReplication():
		return fmt.Sprintf("then the replication set to what this cluster needs (%s): `%s`, then `nodetool repair -full` on every node", ch.Needs, ch.Alter)
	case ch.Over:
		return fmt.Sprintf("the backup's replication is kept (%s), more replicas than nodes: QUORUM reads and writes fail (restore %s sets %s)", ch.Backup, RFFlag, ch.Needs)
	default:
		return fmt.Sprintf("the backup's replication is kept (%s; this cluster needs %s, restore %s sets it)", ch.Backup, ch.Needs, RFFlag)
	}
}

// StagePlan is what Stage runs on each node.
func (r *Restore) StagePlan(env *steps.Env) []steps.PlannedCommand {
	var out []steps.PlannedCommand
	for _, n := range Nodes(env) {
		out = append(out, steps.PlannedCommand{Node: n, Sudo: true, Cmd: ExtractCmd(path.Join(r.StagingDir(env, n), "<table>"), DataDir(env, n)),
			Note: "same topology only: each node's own archives from the repository on stdin, hashed on the way"})
	}
	return out
}

// Stage streams each node's own archives into its staging folder, every
// node at once, each archive checked against the manifest as it streams:
// a damaged one fails with repo.ErrBackupDamaged. It stages nothing when
// the keyspace is loaded with sstableloader or was restored already.
func (r *Restore) Stage(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
	if !r.StagesAndVerifies() {
		rc.Output("", "nothing to stage: the keyspace is loaded with sstableloader, or was restored by the earlier run")
		return nil
	}
	if err := steps.Parallel(Nodes(env), func(i int, n string) error {
		return r.stageNode(ctx, rc, env, n)
	}); err != nil {
		return err
	}
	r.mu.Lock()
	r.staged = true
	r.mu.Unlock()
	return nil
}

// Unstage removes every node's staging folder.
func (r *Restore) Unstage(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
	return rc.RunAll(ctx, Nodes(env), func(n string) remote.Command {
		return remote.Command{Cmd: "rm -rf " + remote.Quote(r.StagingDir(env, n)), Sudo: true}
	})
}

// loaderDir is where sstableloader's SSTables are staged on the loading
// node, per table.
func (r *Restore) loaderDir() string { return "/tmp/hotsnap-restore-" + r.Manifest.ID }

// KeyspacePlan is what RestoreKeyspace runs.
func (r *Restore) KeyspacePlan(env *steps.Env) []steps.PlannedCommand {
	m, c := r.Manifest, env.Inv.Cassandra
	ks := m.Keyspace
	nodes := Nodes(env)
	out := []steps.PlannedCommand{{Node: nodes[0], Cmd: "CQL: DESCRIBE KEYSPACE " + ks + " → same as the backup: TRUNCATE each table; different: DROP KEYSPACE; then CREATE from the backup's schema"}}
	for _, n := range nodes {
		out = append(out, steps.PlannedCommand{Node: n, Sudo: true, Cmd: "nodetool import " + ks + " <table> " + r.StagingDir(env, n) + "/<table>",
			Note: "same topology: each node imports its own tables, staged (and verified) by the stage step"})
	}
	out = append(out, steps.PlannedCommand{Node: nodes[0], Sudo: true, Cmd: "tar -x -C " + r.loaderDir() + "/" + ks + "/<table> && sstableloader -d <every node> " + r.loaderDir() + "/" + ks + "/<table>",
		Note: "changed topology: every backed-up node's archives are loaded (one node's when every node held every row)"})
	out = append(out, steps.PlannedCommand{Node: nodes[0], Cmd: "CQL: ALTER KEYSPACE " + ks + " WITH REPLICATION = { 'class' : 'NetworkTopologyStrategy', '<dc>' : <nodes in dc>, … }",
		Note: "only when the backup's replication does not fit this cluster and \"set\" was chosen at gate " + RFChoiceGate + " (" + RFFlag + "): before sstableloader, after nodetool import"})
	for _, n := range nodes {
		out = append(out, steps.PlannedCommand{Node: n, Cmd: RepairCmd(ks), Note: "only after that ALTER KEYSPACE following nodetool import (sstableloader writes every replica), one node at a time"})
	}
	if c.Username != "" {
		out = append(out, steps.PlannedCommand{Node: nodes[0], Cmd: "CQL: GRANT ALL PERMISSIONS ON KEYSPACE " + ks + " TO " + c.AppRole})
	}
	return out
}

// RestoreKeyspace compares the live schema with the backup's: the same,
// each table is emptied (TRUNCATE); different, the keyspace is dropped;
// missing or dropped, it is created from the backup's schema. Once every
// node agrees on the schema, the SSTables are loaded (nodetool import of
// the staged ones, or sstableloader), the keyspace is granted to the
// application's role (cassandra.app_role) and every table is counted. It
// returns the line of the restore's report.
func (r *Restore) RestoreKeyspace(ctx context.Context, rc *steps.RunContext, env *steps.Env) (string, error) {
	m, c := r.Manifest, env.Inv.Cassandra
	ks := m.Keyspace
	load := r.Load()
	q, err := Open(env)
	if err != nil {
		return "", err
	}
	defer q.Close()
	cur, err := liveSchema(ctx, q, ks)
	if err != nil {
		return "", fmt.Errorf("read the live schema of %s: %w", ks, err)
	}
	switch {
	case cur == "":
		rc.Output("", "keyspace "+ks+" does not exist: creating it from the backup's schema")
	case normalizeSchema(cur) == normalizeSchema(m.Schema):
		rc.Output("", "the live schema equals the backup's: emptying each table (TRUNCATE), keeping the keyspace")
		for _, t := range tablesOf(m) {
			if err := q.Exec(ctx, "TRUNCATE "+QuoteIdent(ks)+"."+QuoteIdent(t)); err != nil {
				return "", err
			}
		}
	default:
		rc.Output("", "the live schema differs from the backup's: dropping keyspace "+ks)
		if err := q.Exec(ctx, "DROP KEYSPACE "+QuoteIdent(ks)); err != nil {
			return "", err
		}
		cur = ""
	}
	if cur == "" {
		for _, stmt := range schemaStatements(m.Schema) {
			if err := q.Exec(ctx, stmt); err != nil {
				return "", err
			}
		}
	}
	// Every node must see the schema before it is loaded.
	if err := q.AwaitSchemaAgreement(ctx); err != nil {
		return "", fmt.Errorf("wait for schema agreement: %w", err)
	}
	start := time.Now()
	if r.setsBeforeLoading() {
		if err := r.alterReplication(ctx, rc, q); err != nil {
			return "", err
		}
	}
	if load == LoadImport {
		err = r.importAll(ctx, rc, env)
	} else {
		err = r.loadAll(ctx, rc, env)
	}
	if err != nil {
		return "", err
	}
	if err := r.applyReplication(ctx, rc, env, q); err != nil {
		return "", err
	}
	if c.Username != "" && c.AppRole != "" {
		// The right grammar: the role, not the user, and the keyspace.
		if err := q.Exec(ctx, "GRANT ALL PERMISSIONS ON KEYSPACE "+QuoteIdent(ks)+" TO "+QuoteIdent(c.AppRole)); err != nil {
			return "", err
		}
		rc.Output("", "granted ALL PERMISSIONS on "+ks+" to "+c.AppRole)
	}
	var total int64
	for _, t := range tablesOf(m) {
		n, err := q.Count(ctx, ks, t)
		if err != nil {
			return "", err
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
	return fmt.Sprintf("Cassandra: keyspace %s restored with %s in %s, %d rows in %d tables%s", ks, load, time.Since(start).Round(time.Millisecond), total, len(tablesOf(m)), files), nil
}

// setsBeforeLoading says the replication this cluster needs is set on
// the empty keyspace, before loading: sstableloader writes each row to
// every replica the keyspace has as it streams, so nothing needs a repair
// after it (nodetool import, which puts each node's own SSTables back,
// does).
func (r *Restore) setsBeforeLoading() bool {
	return r.SetsReplication() && r.Load() == LoadSSTableLoader
}

// alterReplication sets the replication this cluster needs (the ALTER
// KEYSPACE of the change) and waits until every node sees it.
func (r *Restore) alterReplication(ctx context.Context, rc *steps.RunContext, q Session) error {
	ch, ks := r.Replication(), r.Manifest.Keyspace
	if ch == nil {
		return nil
	}
	if err := q.Exec(ctx, strings.TrimSuffix(ch.Alter, ";")); err != nil {
		return fmt.Errorf("set the replication of %s: %w", ks, err)
	}
	if err := q.AwaitSchemaAgreement(ctx); err != nil {
		return fmt.Errorf("wait for schema agreement after ALTER KEYSPACE %s: %w", ks, err)
	}
	rc.Output("", "replication of "+ks+" set: "+ch.Alter)
	return nil
}

// applyReplication, once the keyspace is loaded, finishes what the
// operator chose about the replication and records the report's line. Set
// and loaded with nodetool import: the runbook's ALTER KEYSPACE, then
// `nodetool repair -full` on every node, one after the other. Set and
// loaded with sstableloader: it was set before loading (RestoreKeyspace),
// and sstableloader wrote every replica: nothing to repair.
func (r *Restore) applyReplication(ctx context.Context, rc *steps.RunContext, env *steps.Env, q Session) error {
	ch := r.Replication()
	if ch == nil {
		return nil
	}
	ks := r.Manifest.Keyspace
	line := fmt.Sprintf("Cassandra: replication kept as the backup's (%s); this cluster needs %s: `%s`, then `nodetool repair -full %s` on every node", ch.Backup, ch.Needs, ch.Alter, ks)
	if ch.Over {
		line += " (more replicas than nodes: QUORUM reads and writes fail until then)"
	}
	switch {
	case r.setsBeforeLoading():
		line = fmt.Sprintf("Cassandra: replication set from the backup's (%s) to %s before loading: `%s`; sstableloader wrote every replica, no repair needed", ch.Backup, ch.Needs, ch.Alter)
	case r.SetsReplication():
		if err := r.alterReplication(ctx, rc, q); err != nil {
			return err
		}
		nodes := env.NodesWith(config.RoleCassandra)
		for _, n := range nodes { // one repair at a time, as Cassandra advises
			out, err := rc.Stdout(ctx, n, RepairCmd(ks), false)
			if err != nil {
				return fmt.Errorf("%s: nodetool repair -full %s after ALTER KEYSPACE: %w", n, ks, err)
			}
			rc.Output(n, LastLine(out))
		}
		line = fmt.Sprintf("Cassandra: replication set from the backup's (%s) to %s: `%s`, then `nodetool repair -full %s` on %s", ch.Backup, ch.Needs, ch.Alter, ks, strings.Join(nodes, ", "))
	}
	r.mu.Lock()
	r.rfLine = line
	r.mu.Unlock()
	return nil
}

// RepairCmd is the full repair of keyspace ks on one node.
func RepairCmd(ks string) string { return "nodetool repair -full " + remote.Quote(ks) }

// Clean removes what a failed keyspace restore leaves: every node's
// staging folder and the loading node's sstableloader folder.
func (r *Restore) Clean(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
	return rc.RunAll(ctx, Nodes(env), func(n string) remote.Command {
		return remote.Command{Cmd: "rm -rf " + remote.Quote(r.StagingDir(env, n)) + " " + remote.Quote(r.loaderDir()), Sudo: true}
	})
}

// loaderTries is how many times sstableloader is run on a table it skips
// because the loading node does not see the new schema yet.
const loaderTries = 15

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// liveSchema reads the keyspace's current schema, or "" when it does not exist.
func liveSchema(ctx context.Context, q Session, ks string) (string, error) {
	s, err := q.DescribeKeyspace(ctx, ks)
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

// ExtractCmd unpacks the SSTable components of an archive read on stdin
// into dir and, when owner names a path (the node's Cassandra data
// directory), gives them that path's owner: Cassandra, running as its own
// user, must be able to move them out (nodetool import), as the real one
// must.
func ExtractCmd(dir, owner string) string {
	q := remote.Quote(dir)
	cmd := "rm -rf " + q + " && mkdir -p " + q + " && tar -x -C " + q + " --exclude=./manifest.json --exclude=./schema.cql"
	if owner != "" {
		cmd += " && chown -R --reference=" + remote.Quote(owner) + " " + q
	}
	return cmd
}

// importAll: each node imports the tables of the backup node with its host ID.
func (r *Restore) importAll(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
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
		b, total, err := r.ArchiveOf(n)
		if err != nil {
			return err
		}
		var done int64
		for _, t := range b.Tables {
			dir := path.Join(r.StagingDir(env, n), t.Table)
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
			// The import moved every SSTable out of dir: it holds nothing
			// but empty room, removed with the staging folder below (one
			// command per table fewer while TheHive is down).
			done += t.Size
			rc.Progress(n, done, total, "bytes")
		}
		// Every table imported: the node's staging folder holds only the
		// tables' emptied folders; it goes, and hotsnap-restore/ with it
		// unless another restore stages there.
		st := r.StagingDir(env, n)
		if _, err := rc.Run(ctx, n, remote.Command{Cmd: "rm -rf " + remote.Quote(st) + " && rmdir --ignore-fail-on-non-empty " + remote.Quote(path.Dir(st)), Sudo: true}); err != nil {
			rc.Output(n, fmt.Sprintf("the empty staging folder %s is left (remove it): %v", st, err))
		}
		return nil
	})
}

// LoaderSources are the backed-up nodes whose SSTables sstableloader loads:
// every node's, or one node's when every node held every row (RF = node
// count, every node UN at backup time).
func LoaderSources(m *repo.Manifest) []repo.NodeArchive {
	if rf := SchemaReplication(m.Schema); rf >= len(m.Cassandra) && len(m.Cassandra) > 1 {
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
func (r *Restore) loadAll(ctx context.Context, rc *steps.RunContext, env *steps.Env) error {
	m := r.Manifest
	c := env.Inv.Cassandra
	loader := env.NodesWith(config.RoleCassandra)[0]
	var hosts []string
	for _, n := range env.Inv.NodesWithRole(config.RoleCassandra) {
		hosts = append(hosts, n.Host)
	}
	sources := LoaderSources(m)
	if len(sources) < len(m.Cassandra) {
		rc.Output(loader, fmt.Sprintf("replication factor %d on %d nodes: loading the SSTables of %s only", SchemaReplication(m.Schema), len(m.Cassandra), sources[0].Node))
	}
	var total, done int64
	for _, n := range sources {
		total += ArchiveBytes(n)
	}
	for _, n := range sources {
		for _, t := range n.Tables {
			dir := "/tmp/hotsnap-restore-" + m.ID + "/" + m.Keyspace + "/" + t.Table
			base := done
			if err := r.streamArchive(ctx, rc, loader, t.Archive, ExtractCmd(dir, ""), func(x int64) { rc.Progress(loader, base+x, total, "bytes") }); err != nil {
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
			rc.Output(loader, fmt.Sprintf("%s from %s: %s", t.Table, n.Node, LastLine(out.String())))
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
func (r *Restore) streamArchive(ctx context.Context, rc *steps.RunContext, node, archive, cmd string, progress func(int64)) error {
	f, err := r.Store.Open(ctx, archive)
	if err != nil {
		return fmt.Errorf("open %s: %w", archive, err)
	}
	defer f.Close()
	_, err = rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdin: f, OnProgress: progress})
	return err
}

var replicationRE = regexp.MustCompile(`(?is)CREATE KEYSPACE[^;]*?replication\s*=\s*\{([^}]*)\}`)

var replEntryRE = regexp.MustCompile(`'([^']+)'\s*:\s*'([^']*)'`)

// SchemaReplication returns the keyspace's total replication factor from
// its CREATE KEYSPACE statement (the sum over data centres), or 0.
func SchemaReplication(schema string) int {
	return replicationFactor(SchemaReplicationMap(schema))
}

// SchemaReplicationMap returns the replication map of the keyspace's
// CREATE KEYSPACE statement ("class" and the factors, as
// system_schema.keyspaces holds them), or nil.
func SchemaReplicationMap(schema string) map[string]string {
	m := replicationRE.FindStringSubmatch(schema)
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for _, e := range replEntryRE.FindAllStringSubmatch(m[1], -1) {
		out[e[1]] = e[2]
	}
	return out
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// StagingDir is where node n's archives are unpacked before nodetool
// import: next to its data directory, so the import's moves stay on one
// file system.
func (r *Restore) StagingDir(env *steps.Env, n string) string {
	return path.Join(path.Dir(path.Clean(DataDir(env, n))), "hotsnap-restore", r.Manifest.ID)
}

// StagesAndVerifies says the Cassandra archives are verified while they are
// staged (same topology, a hotsnap backup, the keyspace still to load),
// rather than read a second time by the verify step.
func (r *Restore) StagesAndVerifies() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load == LoadImport && !r.Done
}

// stageNode unpacks node n's archives (those of the backup node with its
// host ID) into its staging folder, each checked as it streams.
func (r *Restore) stageNode(ctx context.Context, rc *steps.RunContext, env *steps.Env, n string) error {
	b, total, err := r.ArchiveOf(n)
	if err != nil {
		return err
	}
	var done int64
	for _, t := range b.Tables {
		dir := path.Join(r.StagingDir(env, n), t.Table)
		base := done
		probs, err := r.streamChecked(ctx, rc, n, t, ExtractCmd(dir, DataDir(env, n)), func(x int64) { rc.Progress(n, base+x, total, "bytes") })
		if err != nil {
			return fmt.Errorf("%s: stage table %s: %w", n, t.Table, err)
		}
		if len(probs) > 0 {
			var what []string
			for _, p := range probs {
				what = append(what, p.String())
			}
			rc.Check(steps.CheckResult{Check: "backup files", Node: n, Status: steps.CheckFail, Evidence: strings.Join(what, "; "),
				Remedy: "this backup is damaged: restore another one (hotsnap list)"})
			return fmt.Errorf("%s: table %s: %w (%s): nothing has been changed; restore another backup (hotsnap list)", n, t.Table, repo.ErrBackupDamaged, strings.Join(what, "; "))
		}
		done += t.Size
	}
	rc.Progress(n, total, total, "bytes")
	rc.Output(n, fmt.Sprintf("staged and verified %d tables (%s)", len(b.Tables), steps.HumanBytes(total)))
	return nil
}

// ArchiveOf returns the backup node whose SSTables node n imports (same
// host ID) and the bytes of its tables.
func (r *Restore) ArchiveOf(n string) (repo.NodeArchive, int64, error) {
	r.mu.Lock()
	b, ok := r.byNode[n]
	r.mu.Unlock()
	if !ok {
		return b, 0, fmt.Errorf("%s: no backup node with its host ID", n)
	}
	return b, ArchiveBytes(b), nil
}

// ArchiveBytes is the size of every table of backup node a.
func ArchiveBytes(a repo.NodeArchive) int64 {
	var n int64
	for _, t := range a.Tables {
		n += t.Size
	}
	return n
}

// streamChecked streams archive t into cmd's stdin on node while checking it
// against the manifest; both see every byte once.
func (r *Restore) streamChecked(ctx context.Context, rc *steps.RunContext, node string, t repo.TableArchive, cmd string, progress func(int64)) ([]repo.Problem, error) {
	f, err := r.Store.Open(ctx, t.Archive)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Archive, err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	type result struct {
		probs []repo.Problem
		err   error
	}
	done := make(chan result, 1)
	go func() {
		probs, err := repo.CheckArchive(pr, t.Archive, t)
		io.Copy(io.Discard, pr) //nolint:errcheck // drain: the stream must not block on a check that stopped early
		done <- result{probs, err}
	}()
	tee := io.TeeReader(f, pw)
	_, runErr := rc.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdin: tee, OnProgress: progress})
	if runErr == nil {
		// tar may stop reading at the end-of-archive blocks: the check
		// still reads the archive to its end.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			runErr = fmt.Errorf("read %s: %w", t.Archive, err)
		}
	}
	pw.CloseWithError(runErr) //nolint:errcheck // always nil
	res := <-done
	if runErr != nil {
		return nil, runErr
	}
	if res.err != nil {
		return nil, fmt.Errorf("check %s: %w", t.Archive, res.err)
	}
	return res.probs, nil
}
