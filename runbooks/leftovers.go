package runbooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// LeftoversGate is the ID of the backup's choice gate that offers to clear
// the snapshots earlier runs left; ClearLeftovers is the choice (backup
// --clear-leftovers) that clears them.
const (
	LeftoversGate  = "leftovers"
	ClearLeftovers = "clear"
)

// Leftovers are hotsnap's own snapshots that earlier runs left behind: a
// run killed before its cleanup (kill -9, the operator's machine lost)
// leaves its Cassandra snapshots (tagged hotsnap-…) on the nodes and its
// Elasticsearch snapshot (named hotsnap-…, without a complete backup in the
// repository). Check finds them (preflight), Gate offers to clear them and
// Clear clears them (backup). Other tools' snapshots are reported, never
// touched.
type Leftovers struct {
	env  *steps.Env
	open func(ctx context.Context) (repo.Store, func(), error)

	mu    sync.Mutex
	cass  []cassandra.NodeSnapshot
	es    []string // Elasticsearch snapshots of the inventory's repository
	runs  []string // the runs that left them, as far as known
	clear bool
}

// NewLeftovers prepares the search for leftovers; open opens the backup
// repository (its markers name the run that left a snapshot, its manifests
// tell a backup's Elasticsearch snapshot from a leftover); nil leaves the
// Elasticsearch snapshots unjudged.
func NewLeftovers(env *steps.Env, open func(ctx context.Context) (repo.Store, func(), error)) *Leftovers {
	return &Leftovers{env: env, open: open}
}

// StoreOpener is an opener (for NewLeftovers) of a repository already open.
func StoreOpener(s repo.Store) func(context.Context) (repo.Store, func(), error) {
	if s == nil {
		return nil
	}
	return func(context.Context) (repo.Store, func(), error) { return s, func() {}, nil }
}

func (l *Leftovers) cassandraNodes() []string {
	if l.env.Inv.Cassandra == nil {
		return nil
	}
	return l.env.NodesWith(config.RoleCassandra)
}

// Check is the preflight check: `nodetool listsnapshots` on every
// Cassandra node and the snapshots of the Elasticsearch repository. It is
// also the preflight's proof that nodetool runs on every node: one that
// fails there fails the check, as the backup's snapshot would. Each
// leftover of hotsnap's is a warning with its size, the run that left it
// (from its backup's marker) and the command that clears it. It is
// skipped when the inventory has neither Cassandra nor Elasticsearch.
func (l *Leftovers) Check() steps.Step {
	nodes := l.cassandraNodes()
	ec := l.env.Inv.Elasticsearch
	return steps.Step{
		ID: "leftover-snapshots", Title: "Snapshots left by earlier runs", Kind: steps.KindCheck, Component: steps.ComponentBackup,
		Why: "A run killed before its cleanup leaves its snapshots: Cassandra's hard links pin SSTables compaction replaced, Elasticsearch's hold segments. hotsnap's own (hotsnap-…, without a complete backup) are listed with their size and the command that clears them; other tools' snapshots are reported, never touched.",
		Skip: func() string {
			if len(nodes) == 0 && ec == nil {
				return "no Cassandra or Elasticsearch in the inventory: no snapshot to leave"
			}
			return ""
		},
		Plan: func() []steps.PlannedCommand {
			out := steps.PlanEach(nodes, cassandra.ListSnapshotsCmd, false)()
			if ec != nil {
				out = append(out, steps.PlannedCommand{Node: es.Node(l.env), Cmd: "GET " + ec.URL + "/_snapshot/" + ec.Repository + "/_all"})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var store repo.Store
			if l.open != nil {
				if s, done, err := l.open(ctx); err == nil {
					store = s
					defer done()
				}
			}
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) { l.checkNode(ctx, rc, store, n) })
			if ec != nil {
				l.checkES(ctx, rc, store, ec)
			}
			return nil
		},
	}
}

// whose says which run left the snapshot of backup id, from the backup's
// marker, and records it.
func (l *Leftovers) whose(ctx context.Context, store repo.Store, id string) string {
	if store == nil {
		return ""
	}
	if _, err := repo.ReadManifest(ctx, store, id); err == nil {
		return "; its backup completed in " + store.String() + " but the snapshot was not cleared"
	}
	run := markedBy(ctx, store, id)
	if run == "" {
		return "; no backup folder in " + store.String() + " names the run that left it"
	}
	l.mu.Lock()
	if !strings.Contains(strings.Join(l.runs, " "), run) {
		l.runs = append(l.runs, run)
	}
	l.mu.Unlock()
	return fmt.Sprintf("; left by run %s (journal runs/%s.jsonl; its backup, incomplete: %s)", run, run, id)
}

// markedBy is the run that marked backup id's folder in store, "" when
// none did.
func markedBy(ctx context.Context, store repo.Store, id string) string {
	if r, err := repo.ReadRun(ctx, store, id); err == nil {
		return r.Run
	}
	return ""
}

const clearLater = "or let the next backup clear them: hotsnap backup --clear-leftovers"

func (l *Leftovers) checkNode(ctx context.Context, rc *steps.RunContext, store repo.Store, n string) {
	snaps, err := cassandra.ListSnapshots(ctx, rc, n)
	// nodetool ran and failed: this is the preflight's nodetool on every
	// node (the tools check runs none), so it fails as the snapshot would.
	if ee := (*remote.ExitError)(nil); errors.As(err, &ee) {
		rc.Check(cassandra.NodetoolFailed(n, err))
		return
	}
	if err != nil {
		rc.Check(steps.CheckResult{Check: "leftover snapshots", Node: n, Status: steps.CheckWarn, Evidence: "could not list the snapshots: " + err.Error(),
			Remedy: "run `" + cassandra.ListSnapshotsCmd + "` on the node"})
		return
	}
	var own, others, cmds []string
	for _, s := range snaps {
		if !repo.IsHotsnapName(s.Tag) {
			others = append(others, s.Describe())
			continue
		}
		l.mu.Lock()
		l.cass = append(l.cass, s)
		l.mu.Unlock()
		own = append(own, s.Describe()+l.whose(ctx, store, s.Tag))
		cmds = append(cmds, s.ClearCmd())
	}
	r := steps.CheckResult{Check: "leftover snapshots", Node: n, Status: steps.CheckPass, Evidence: "none of hotsnap's"}
	if len(own) > 0 {
		r.Status, r.Evidence = steps.CheckWarn, "hotsnap's own, left by an earlier run: "+strings.Join(own, "; ")
		r.Remedy = strings.Join(cmds, " && ") + "; " + clearLater
	}
	if len(others) > 0 {
		r.Evidence += ". Other snapshots (not hotsnap's, left alone): " + strings.Join(others, "; ")
	}
	rc.Check(r)
}

func (l *Leftovers) checkES(ctx context.Context, rc *steps.RunContext, store repo.Store, ec *config.Elasticsearch) {
	node := es.Node(l.env)
	r := steps.CheckResult{Check: "leftover snapshots", Node: "elasticsearch", Status: steps.CheckPass}
	cl, _, err := es.Open(l.env)
	if err == nil {
		defer cl.Close()
		var snaps []parse.SnapshotInfo
		if snaps, err = es.ListSnapshots(ctx, cl, ec.Repository); err == nil {
			var own, running, cmds, abort, elsewhere []string
			backups, others := 0, 0
			// Which of hotsnap's snapshots belong to a complete backup:
			// their manifests read at once, not one per snapshot in turn.
			var ids []string
			for _, s := range snaps {
				if repo.IsHotsnapName(s.Snapshot) && store != nil && s.State != "IN_PROGRESS" {
					ids = append(ids, s.Snapshot)
				}
			}
			complete := repo.Complete(ctx, store, ids)
			for _, s := range snaps {
				switch {
				case !repo.IsHotsnapName(s.Snapshot):
					others++
				case store == nil:
					backups++ // not judged without the repository
				case s.State == "IN_PROGRESS":
					// Taken now, by a run that may still run: named, with
					// the command that aborts it, never cleared by hotsnap.
					by := "no backup folder in " + store.String() + " names its run"
					if run := markedBy(ctx, store, s.Snapshot); run != "" {
						by = "taken by run " + run + ", journal runs/" + run + ".jsonl"
					}
					running = append(running, s.Snapshot+" ("+by+")")
					abort = append(abort, es.DeleteCmd(ec.URL, ec.Repository, s.Snapshot))
				default:
					if complete[s.Snapshot] {
						backups++
						continue
					}
					// Only a snapshot whose run marked its folder here is
					// this repository's: another repository's backups
					// (repository.url changed) keep theirs.
					if _, err := repo.ReadRun(ctx, store, s.Snapshot); err != nil {
						elsewhere = append(elsewhere, s.Snapshot)
						continue
					}
					l.mu.Lock()
					l.es = append(l.es, s.Snapshot)
					l.mu.Unlock()
					own = append(own, fmt.Sprintf("%s (%s, %s)%s", s.Snapshot, s.State, steps.HumanBytes(es.SnapshotSize(ctx, cl, ec.Repository, s.Snapshot)), l.whose(ctx, store, s.Snapshot)))
					cmds = append(cmds, es.DeleteCmd(ec.URL, ec.Repository, s.Snapshot))
				}
			}
			r.Evidence = fmt.Sprintf("repository %s: %d snapshots of complete backups, %d of other tools (left alone)", ec.Repository, backups, others)
			if store == nil {
				r.Evidence = fmt.Sprintf("repository %s: %d snapshots named like hotsnap's (not compared with the backup repository), %d of other tools (left alone)", ec.Repository, backups, others)
			}
			if len(elsewhere) > 0 {
				r.Evidence += fmt.Sprintf("; %d named like hotsnap's of no backup in %s (another repository's?), left alone: %s", len(elsewhere), store, few(elsewhere))
			}
			var remedies []string
			if len(running) > 0 {
				r.Status = steps.CheckWarn
				r.Evidence += "; running now: " + strings.Join(running, "; ") + " (another backup may be taking it)"
				remedies = append(remedies, "wait for it to end; if the run taking it is gone (killed, its machine lost), abort it: "+
					strings.Join(abort, " && ")+" (Elasticsearch stops a running snapshot it is told to delete)")
			}
			if len(own) > 0 {
				r.Status = steps.CheckWarn
				r.Evidence += "; hotsnap's, without a complete backup: " + strings.Join(own, "; ")
				remedies = append(remedies, strings.Join(cmds, " && ")+"; "+clearLater)
			}
			r.Remedy = strings.Join(remedies, "; ")
		}
	}
	if err != nil {
		r.Status, r.Evidence, r.Remedy = steps.CheckWarn, node+": could not list the snapshots: "+err.Error(), "check the elasticsearch check above"
	}
	rc.Check(r)
}

// found describes the leftovers found, "" when none.
func (l *Leftovers) found() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, s := range l.cass {
		parts = append(parts, s.Node+": "+s.Tag)
	}
	for _, s := range l.es {
		parts = append(parts, "elasticsearch: "+s)
	}
	if len(parts) == 0 {
		return ""
	}
	by := "runs not named by any backup folder"
	if len(l.runs) > 0 {
		by = "run " + strings.Join(l.runs, ", run ")
	}
	return fmt.Sprintf("%d snapshots of hotsnap's own, left by %s (preflight lists their sizes): %s", len(parts), by, strings.Join(parts, ", "))
}

// Gate is the backup's choice gate: keep the leftovers (the default, also
// with --yes) or clear them before the backup takes its own snapshots
// (backup --clear-leftovers). It is skipped when there are none.
func (l *Leftovers) Gate() steps.Step {
	return steps.Step{
		ID: LeftoversGate, Title: "Clear the snapshots earlier runs left?", Kind: steps.KindGate, Component: steps.ComponentBackup,
		Why: "They are hotsnap's own and of no complete backup, but only the operator knows that no other hotsnap run is taking them now.",
		Gate: &steps.GateRequest{
			Happens: "clear the snapshots of hotsnap's own that earlier runs left (preflight lists them)",
			Choices: []steps.GateChoice{
				{Key: "keep", Label: "keep them (preflight shows the commands that clear them)"},
				{Key: ClearLeftovers, Label: "clear them: no other hotsnap run is taking them", Flag: "--clear-leftovers"},
			},
			Default:  "keep",
			Rollback: "none needed: they belong to no complete backup",
		},
		Skip: func() string {
			if l.found() == "" {
				return "no snapshot left by an earlier run"
			}
			return ""
		},
		Refine: func(g *steps.GateRequest) { g.Happens = "clear " + l.found() },
		Chose: func(k string) {
			l.mu.Lock()
			l.clear = k == ClearLeftovers
			l.mu.Unlock()
		},
	}
}

// Clear clears the leftovers when the gate chose so: the Cassandra
// snapshots on their nodes and the Elasticsearch snapshots.
func (l *Leftovers) Clear() steps.Step {
	ec := l.env.Inv.Elasticsearch
	return steps.Step{
		ID: "clear-leftovers", Title: "Clear the snapshots earlier runs left", Kind: steps.KindAction, Component: steps.ComponentBackup,
		Why: "Chosen at the gate: a leftover snapshot pins disk until it is cleared.",
		Plan: func() []steps.PlannedCommand {
			out := steps.PlanEach(l.cassandraNodes(), "nodetool clearsnapshot -t <leftover tag> <keyspace>", false)()
			if ec != nil {
				out = append(out, steps.PlannedCommand{Node: es.Node(l.env), Cmd: "DELETE " + ec.URL + "/_snapshot/" + ec.Repository + "/<leftover>"})
			}
			return out
		},
		Skip: func() string {
			l.mu.Lock()
			defer l.mu.Unlock()
			if !l.clear {
				return "kept at the gate (or none found)"
			}
			return ""
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			l.mu.Lock()
			cass, names := append([]cassandra.NodeSnapshot(nil), l.cass...), append([]string(nil), l.es...)
			l.mu.Unlock()
			var errs []error
			for _, s := range cass {
				if err := cassandra.ClearSnapshot(ctx, rc, s); err != nil {
					errs = append(errs, fmt.Errorf("clear the snapshot %s on %s: %w", s.Tag, s.Node, err))
					continue
				}
				rc.Output(s.Node, "cleared the snapshot "+s.Tag)
			}
			for _, n := range names {
				if _, err := es.DeleteSnapshotOf(ctx, l.env, ec.Repository, n, "delete the snapshot an earlier run left"); err != nil {
					errs = append(errs, err)
					continue
				}
				rc.Output("elasticsearch", "deleted the snapshot "+n)
			}
			return errors.Join(errs...)
		},
	}
}

// few names the first of names, and how many more.
func few(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}
