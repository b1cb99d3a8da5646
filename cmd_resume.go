package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

// runIDPattern is the shape of steps.NewRunID.
var runIDPattern = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$`)

// Parameters a restore or backup records in its journal for resume.
const (
	paramInventory   = "inventory"
	paramRepository  = "repository"
	paramNodes       = "nodes"
	paramBackup      = runbooks.ParamBackup
	paramManifest    = runbooks.ParamManifest
	paramS3Exact     = "s3_exact"
	paramSetRF       = "set_rf"
	paramOneNode     = "one_node"
	paramStopService = "stop_service"
	paramLabel       = "label"
	paramHot         = "hot"
	paramRedisRDB    = "redis_rdb"
)

// withRunParams is rb recording params (each map in turn) for resume, in
// addition to what its platform records.
func withRunParams(rb steps.Runbook, params ...map[string]string) steps.Runbook {
	all := map[string]string{}
	for _, p := range append([]map[string]string{rb.Params}, params...) {
		for k, v := range p {
			all[k] = v
		}
	}
	rb.Params = all
	return rb
}

// runParams are the parameters every resumable run records: where its
// inventory is (the file the session's inventory was read from), the
// repository, and the nodes (name=host) it ran on.
func runParams(s *session) map[string]string {
	p := map[string]string{paramRepository: s.inv.Repository.URL, paramNodes: nodeSet(s.inv)}
	if path := s.inv.Path; path != "" {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		p[paramInventory] = path
	}
	return p
}

// nodeSet is the inventory's nodes as sorted "name=host:port" pairs.
func nodeSet(inv *config.Inventory) string {
	var out []string
	for _, n := range inv.Nodes {
		out = append(out, n.Name+"="+n.Host+":"+strconv.Itoa(n.Port))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func newResumeCmd(g *globals) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "resume RUN",
		Short: "Continue a failed or interrupted restore or backup from its journal",
		Long: `Continue a restore or a backup that failed, was cancelled or was killed, from the
journal of its run (RUN is the run ID a run prints, e.g. in "journal:
~/.local/state/hotsnap/runs/RUN.jsonl", and the failure screen shows).

Before anything runs, resume checks that the world is the one the run left:
the same cluster (inventory cluster name and nodes), the same repository and
the same backup (its manifest unchanged). Otherwise it refuses and says why —
start a new run instead.

A restore is continued step by step: a destructive step that finished (the
keyspace, the Elasticsearch indices, the attachments) is never repeated; the
step that failed runs again from its start (each restore step can: the keyspace
is emptied and loaded again, the index deleted and restored again); every check
runs again (a node still down stops the run before anything changes) and every
gate asks again, so --yes and --confirm NAME are needed again when unattended.
A choice made at a gate (S3: keep or remove the objects created after the
backup; the keyspace's replication: keep the backup's or set this cluster's) is
offered again as the default — --yes takes the earlier choice, not the usual
default — and --s3-exact or --set-rf given to the earlier run still holds.
If an earlier attempt already started replacing data, TheHive stays stopped
when this attempt fails too.

A backup is continued by taking it again under the same backup ID: the parts of
a hot backup must all come from one moment, so nothing of the earlier attempt is
kept; the snapshots it may have left on the nodes (when it was killed before its
cleanup) are cleared first.`,
		Example: `  hotsnap resume 20261122-231502-4f2a9c
  hotsnap resume 20261122-231502-4f2a9c --yes --confirm prod-thehive   # unattended`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runID := strings.TrimSuffix(filepath.Base(args[0]), ".jsonl")
			if !runIDPattern.MatchString(runID) {
				return usageErr(fmt.Errorf("%q is not a run ID (like 20261122-231502-4f2a9c): a run prints it with its journal's path", args[0]))
			}
			inv, p, err := loadRunbookInventory(g)
			if err != nil {
				return err
			}
			dir := stateDir(inv)
			prior, err := steps.ReadJournal(dir, runID)
			if errors.Is(err, fs.ErrNotExist) {
				return usageErr(fmt.Errorf("no journal of run %s in %s: runs are journaled in the state directory of the inventory they ran with (pass --inventory FILE)", runID, filepath.Join(dir, "runs")))
			}
			if err != nil {
				return usageErr(err)
			}
			if err := resumable(prior, inv); err != nil {
				return usageErr(err)
			}
			if later := steps.ContinuedBy(dir, runID); len(later) > 0 {
				last := later[len(later)-1]
				if last.Finished && last.Err == "" {
					return usageErr(fmt.Errorf("run %s was completed by run %s (hotsnap resume): nothing to resume", runID, last.RunID))
				}
				return usageErr(fmt.Errorf("run %s was continued by run %s, which knows what was done since: hotsnap resume %s", runID, last.RunID, last.RunID))
			}
			s, err := newSession(g, inv, p)
			if err != nil {
				return err
			}
			defer s.pool.Close()
			if p := prior.Params[runbooks.ParamDocumentedPath]; prior.Runbook == "restore" && p != "" {
				return restoreLegacy(cmd.Context(), cmd, s, f, p, prior.Params[runbooks.ParamDocumentedAt], priorOpts(prior), prior)
			}
			store, closeStore, err := s.repository(cmd.Context())
			if err != nil {
				return err
			}
			defer closeStore()
			if err := sameWorld(prior, runParams(s)); err != nil {
				return usageErr(err)
			}
			switch prior.Runbook {
			case "restore":
				return resumeRestore(cmd, s, store, f, prior)
			default:
				return resumeBackup(cmd, s, store, f, prior)
			}
		},
	}
	addRunFlags(c, &f)
	addLockFlag(c, &f)
	addDeadlineFlags(c, &f)
	return c
}

// resumable refuses a run that cannot or need not be continued.
func resumable(p *steps.PriorRun, inv *config.Inventory) error {
	switch {
	case p.Runbook != "restore" && p.Runbook != "backup":
		return fmt.Errorf("run %s is a %s run: only restores and backups are resumed; run it again", p.RunID, p.Runbook)
	case p.Finished && p.Err == "":
		return fmt.Errorf("run %s finished successfully: nothing to resume", p.RunID)
	case p.Cluster != inv.Cluster:
		return fmt.Errorf("run %s ran on cluster %q, the inventory is cluster %q: refusing to continue it on another cluster", p.RunID, p.Cluster, inv.Cluster)
	case p.Params[paramBackup] == "":
		return fmt.Errorf("run %s recorded no backup ID (a run of an older hotsnap?): start a new %s", p.RunID, p.Runbook)
	}
	return nil
}

// sameWorld refuses when the inventory's nodes or the repository changed
// since the run.
func sameWorld(p *steps.PriorRun, now map[string]string) error {
	for _, k := range []struct{ key, what string }{
		{paramNodes, "the inventory's nodes"},
		{paramRepository, "the backup repository"},
	} {
		if was := p.Params[k.key]; was != now[k.key] {
			return fmt.Errorf("%s changed since run %s (then %q, now %q): refusing to continue it; start a new run", k.what, p.RunID, was, now[k.key])
		}
	}
	return nil
}

func resumeRestore(cmd *cobra.Command, s *session, store repo.Store, f runFlags, prior *steps.PriorRun) error {
	id := prior.Params[paramBackup]
	m, err := repo.ReadManifest(cmd.Context(), store, id)
	if errors.Is(err, fs.ErrNotExist) {
		return usageErr(fmt.Errorf("backup %s of run %s is no longer in %s (pruned?): refusing to continue", id, prior.RunID, store))
	}
	if err != nil {
		return err
	}
	if d := runbooks.ManifestDigest(m); d != prior.Params[paramManifest] {
		return usageErr(fmt.Errorf("backup %s changed since run %s (its manifest is not the one restored then): refusing to continue; start a new restore", id, prior.RunID))
	}
	o := priorOpts(prior)
	r, err := s.platform.Restore(s.env, runbooks.RestoreRequest{Store: store, Manifest: m, S3Exact: o.s3Exact, SetRF: o.setRF, Prior: prior})
	if err != nil {
		return err
	}
	return runRestore(cmd, s, r, o, f, fromBackup(m), prior)
}

// priorOpts are the restore options the run being resumed was given.
func priorOpts(prior *steps.PriorRun) restoreOpts {
	return restoreOpts{s3Exact: prior.Params[paramS3Exact] == "true", setRF: prior.Params[paramSetRF] == "true"}
}

// fromBackup is the report's last line for a backup of the repository.
func fromBackup(m *repo.Manifest) string {
	return fmt.Sprintf("from backup %s (taken %s)", m.ID, m.Started.Format("2006-01-02 15:04:05 MST"))
}

func resumeBackup(cmd *cobra.Command, s *session, store repo.Store, f runFlags, prior *steps.PriorRun) error {
	id := prior.Params[paramBackup]
	if _, err := repo.ReadManifest(cmd.Context(), store, id); err == nil {
		return usageErr(fmt.Errorf("backup %s of run %s is complete in %s: nothing to resume", id, prior.RunID, store))
	}
	cmd.Printf("resuming run %s: taking backup %s again (every part of a hot backup must come from one moment)\n", prior.RunID, id)
	return runBackup(cmd, s, store, f, id, backupOpts{oneNode: prior.Params[paramOneNode] == "true",
		stopService: prior.Params[paramStopService] == "true", label: prior.Params[paramLabel],
		hot: prior.Params[paramHot] == "true", redisRDB: prior.Params[paramRedisRDB] == "true"}, prior)
}

// runRestore runs the restore r (continuing prior when set) and prints the
// report, ending with from (which backup it was).
func runRestore(cmd *cobra.Command, s *session, r runbooks.Restore, o restoreOpts, f runFlags, from string, prior *steps.PriorRun) error {
	rb := restoreRunbook(s, r, o)
	// --s3-exact and --set-rf (or a run that had them) answer the
	// platform's choice gates.
	f.choices = r.Choices()
	sum, err := runRunbook(cmd.Context(), s, rb, f, cmd.OutOrStdout())
	if err != nil {
		if len(sum.Failed()) > 0 && errors.Is(err, runbooks.ErrPreflightFailed) || errors.Is(err, repo.ErrBackupDamaged) {
			return &exitError{code: exitPreflight, err: err}
		}
		if c := steps.ResumeCommand(sum); c != "" && !f.json && !errors.Is(err, runbooks.ErrLocked) { // locked: nothing was done, run it again later
			fmt.Fprintf(cmd.OutOrStdout(), "to continue after fixing the cause: %s\n", c)
		}
		return err
	}
	if !f.json {
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "\n%s\n", steps.SuccessLine)
		for _, l := range r.Report() {
			fmt.Fprintf(w, "  %s\n", l)
		}
		if prior != nil {
			var earlier []string
			for _, st := range sum.Steps {
				// Skipped because the earlier run finished it; a step skipped
				// for another reason (a gate made moot) is not the earlier run's.
				if run := prior.Done[st.ID]; st.State == steps.StateSkipped && run != "" {
					earlier = append(earlier, st.ID+" (run "+run+")")
				}
			}
			if len(earlier) > 0 {
				fmt.Fprintf(w, "  restored by the earlier run, not repeated: %s\n", strings.Join(earlier, ", "))
			}
		}
		fmt.Fprintf(w, "  %s\n", from)
	}
	return nil
}

// restoreRunbook is r's runbook with the parameters resume needs (the
// platform's own, and the repository, nodes, backup, manifest and
// --s3-exact, --set-rf); s3_exact and set_rf record the flags: a choice
// made at the gate instead is in the journal's gate entry, and a resume
// offers it as the default. A restore that reads its backup in its first
// step (a documented backup's) records the backup and manifest itself.
func restoreRunbook(s *session, r runbooks.Restore, o restoreOpts) steps.Runbook {
	params := map[string]string{paramS3Exact: strconv.FormatBool(o.s3Exact), paramSetRF: strconv.FormatBool(o.setRF)}
	if m := r.Manifest(); m != nil {
		params[paramBackup], params[paramManifest] = m.ID, runbooks.ManifestDigest(m)
	}
	return withRunParams(r.Runbook(), runParams(s), params)
}
