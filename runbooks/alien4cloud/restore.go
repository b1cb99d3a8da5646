package alien4cloud

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	a4c "github.com/hotsnap/hotsnap/steps/alien4cloud"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
)

// RestoreRun is one restore of an Alien4Cloud backup.
type RestoreRun struct {
	Store    repo.Store
	Manifest *repo.Manifest
	// HealthTimeout bounds the wait for Alien4Cloud to answer after its
	// start (default healthTimeout).
	HealthTimeout time.Duration
	// DataDone says the run being resumed swapped the data directory in:
	// it is not staged again.
	DataDone bool

	s           *site
	mu          sync.Mutex
	report      runbooks.Report
	esRestoring bool               // a restore was started and has not finished
	unpacked    *repo.ArchiveIndex // what the stage step unpacked
	turnedOn    bool               // this run turned maintenance mode on (embedded)
}

// Report returns the lines of the final report.
func (r *RestoreRun) Report() []string { return r.report.Lines() }

// Restore builds Alien4Cloud's guided restore, the documented tool's
// "-restore -n NAME" done right: the backup verified first; the data
// directory unpacked beside the current one while Alien4Cloud still runs,
// checked as it streams; Alien4Cloud stopped and proven stopped (with
// Elasticsearch inside it, kept running in maintenance mode instead);
// behind a destructive gate, exactly the backup's indices deleted
// (Alien4Cloud recreates missing ones at start, and Elasticsearch refuses
// to restore over an open index) and restored, the recovery followed, and
// at the same time the staged data directory swapped in (the previous kept
// until the end); Alien4Cloud started and healthy, maintenance mode off if
// the snapshot brought it back; a report comparing document counts and
// files with the manifest.
func Restore(env *steps.Env, r *RestoreRun) steps.Runbook {
	if r.HealthTimeout == 0 {
		r.HealthTimeout = healthTimeout
	}
	r.s = newSite(env)
	m := r.Manifest
	rb := steps.Runbook{Name: "restore", Cluster: env.Inv.Cluster, Resumable: true, Exclusive: true}
	checks := []steps.Step{verifyBackupStep(r), restoreDiskStep(r)}
	for i := range checks {
		checks[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, host.SSHCheck(env), configStep(r.s, false))
	rb.Steps = append(rb.Steps, checks...)
	rb.Steps = append(rb.Steps, runbooks.PreflightVerdict(), quietGate(r))
	// Continuing a run that swapped the data directory in, there is
	// nothing to stage.
	if m.Files != nil && !r.DataDone {
		rb.Steps = append(rb.Steps, stageStep(r))
	}
	rb.Steps = append(rb.Steps, quietStep(r), restoreGate(r))
	var data []steps.Step
	if m.Elasticsearch != nil {
		data = append(data, esRestoreStep(r))
	}
	if m.Files != nil {
		data = append(data, swapStep(r))
	}
	for i := range data {
		data[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, data...)
	return appendSteps(rb, startStep(r), maintenanceClearStep(r), reportStep(r))
}

func appendSteps(rb steps.Runbook, s ...steps.Step) steps.Runbook {
	rb.Steps = append(rb.Steps, s...)
	return rb
}

func verifyBackupStep(r *RestoreRun) steps.Step {
	m := r.Manifest
	return steps.Step{
		ID: "verify-backup", Title: "Verify the backup before touching anything", Kind: steps.KindCheck, Component: steps.ComponentBackup,
		Why: "Every archive is re-hashed against the manifest (the data directory's as it is unpacked, before it replaces anything), the snapshot must exist and be SUCCESS, and Elasticsearch cannot restore a snapshot into an older version.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "repository", Cmd: "re-hash every file of " + m.ID + " but " + repo.DataArchive + " (hashed as it is unpacked); GET _snapshot/" + esRepo(m) + "/" + m.ID}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var skip func(string) bool
			if f := m.Files; f != nil {
				skip = func(p string) bool { return p == f.Archive }
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
				rc.Check(steps.CheckResult{Check: "backup files", Node: "repository", Status: steps.CheckPass,
					Evidence: fmt.Sprintf("every file of %s is there with its size and every one but the data directory's archive matches its manifest; that one is hashed as it is unpacked (%s in all)", m.ID, steps.HumanBytes(m.Size()))})
			}
			if m.Elasticsearch != nil {
				if p := es.CheckSnapshot(ctx, r.s.env, m.Elasticsearch); p != "" {
					rc.Check(steps.CheckResult{Check: "es snapshot", Status: steps.CheckFail, Evidence: p,
						Remedy: "the indices cannot be restored from this backup; is elasticsearch.repository the repository it was taken in?"})
				} else {
					rc.Check(steps.CheckResult{Check: "es snapshot", Status: steps.CheckPass, Evidence: fmt.Sprintf("%s is SUCCESS (%d indices)", m.Elasticsearch.Snapshot, len(m.Elasticsearch.Indices))})
				}
				rc.Check(es.VersionCompat(ctx, r.s.env, m.Elasticsearch.Version))
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

// restoreDiskStep checks the room beside the data directory for the
// archive unpacked there.
func restoreDiskStep(r *RestoreRun) steps.Step {
	return steps.Step{
		ID: "restore-disk", Title: "Free disk beside the data directory for the unpacked backup", Kind: steps.KindCheck, Component: host.Component,
		Why: "The backup's data directory is unpacked next to the current one, which stays until the restore succeeded: both must fit.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: r.s.node(), Cmd: "df -PB1 <the folder holding " + r.s.planDataDir() + ">", Sudo: true}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			f, dir := r.Manifest.Files, r.s.dataDirNow()
			if f == nil || dir == "" {
				return nil
			}
			host.RoomCheck(ctx, rc, "restore disk", []host.Need{{Node: r.s.node(), Dir: files.BesideFor(dir, r.Manifest.ID, nil).Stage,
				What: "the data directory, unpacked beside the current one", Bytes: f.Size}}, "old backups, "+dir+".pre-restore-* folders of earlier restores")
			return nil
		},
	}
}

// quietGate asks to stop Alien4Cloud (or, with Elasticsearch inside it,
// to turn maintenance mode on).
func quietGate(r *RestoreRun) steps.Step {
	a := r.s.a4cConf()
	return steps.Step{
		ID: "approve-stop", Title: "Stop Alien4Cloud", Kind: steps.KindGate, Component: a4c.Component, Gate: &steps.GateRequest{
			Happens: fmt.Sprintf("unpack the backup's data directory beside the current one while Alien4Cloud still runs (verified as it streams), then stop Alien4Cloud (systemctl stop %s) and prove it stopped; Elasticsearch stays up (with Elasticsearch inside Alien4Cloud: turn maintenance mode on instead, Alien4Cloud keeps running)", a.Service),
			Nodes:   []string{r.s.node()}, Rollback: "hotsnap starts it again (turns maintenance mode off) if the restore stops before changing any data"},
		Refine: func(g *steps.GateRequest) {
			stage := ""
			if r.Manifest.Files != nil && !r.DataDone {
				stage = "unpack the backup's data directory beside the current one while Alien4Cloud still runs (verified as it streams: a damaged archive stops the restore here, nothing changed), then "
			}
			if r.s.embedded() {
				g.Happens = stage + "turn Alien4Cloud's maintenance mode on: its Elasticsearch runs inside it, so it cannot be stopped (\"just make sure the platform is not used during the process\"); it is restarted once the data is back"
			} else {
				g.Happens = stage + fmt.Sprintf("stop Alien4Cloud (systemctl stop %s) and prove it stopped; Elasticsearch stays up", a.Service)
			}
		},
	}
}

// quietStep stops Alien4Cloud and proves it stopped, or, with Elasticsearch
// inside it, turns maintenance mode on.
func quietStep(r *RestoreRun) steps.Step {
	u, n := r.s.unit(), r.s.node()
	return steps.Step{
		ID: "stop-service", Title: "Stop Alien4Cloud and prove it stopped (maintenance mode when Elasticsearch is inside it)", Kind: steps.KindAction, Component: a4c.Component,
		Why:  "\"We recommend to stop Alien4Cloud before performing the restore. ElasticSearch MUST be up and running.\" A running Alien4Cloud would write into the indices being replaced and keep serving the old data.",
		Plan: steps.PlanEach([]string{n}, u.StopCmd()+"; "+u.StoppedProbe()+" (embedded Elasticsearch: POST "+u.URL+a4c.MaintenancePath+" instead)", true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if !r.s.embedded() {
				return u.Stop(ctx, rc, []string{n})
			}
			already, err := r.s.enableMaintenance(ctx)
			if err != nil {
				return fmt.Errorf("turn maintenance mode on: %w", err)
			}
			r.mu.Lock()
			r.turnedOn = !already
			r.mu.Unlock()
			rc.Output(n, "maintenance mode on: Elasticsearch runs inside Alien4Cloud, which keeps running")
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			if rc.DestructiveStarted() {
				rc.Output("", "Alien4Cloud stays stopped (in maintenance mode): its data was being replaced; finish the restore (hotsnap resume "+rc.RunID()+") first")
				return nil
			}
			if r.s.embedded() {
				r.mu.Lock()
				on := r.turnedOn
				r.mu.Unlock()
				if !on {
					return nil
				}
				_, err := r.s.disableMaintenance(ctx)
				return err
			}
			return u.Start(ctx, rc, []string{n})
		},
	}
}

func restoreGate(r *RestoreRun) steps.Step {
	m := r.Manifest
	var loses []string
	if e := m.Elasticsearch; e != nil {
		loses = append(loses, fmt.Sprintf("the current content of the %d indices the backup holds (Alien4Cloud's applications, topologies, users, deployments…)", len(e.Indices)))
	}
	if m.Files != nil {
		loses = append(loses, "the current content of the data directory (CSARs, artifacts, images, plugins, git repositories), kept beside it as <data dir>.pre-restore-"+m.ID+" until the restore succeeded")
	}
	return steps.Step{ID: "approve-restore", Title: "Replace Alien4Cloud's data with backup " + m.ID, Kind: steps.KindGate, Component: steps.ComponentBackup, Gate: &steps.GateRequest{
		Happens:     fmt.Sprintf("restore backup %s%s (taken %s) into %s", m.ID, labelOf(m), m.Started.Format(time.RFC3339), r.s.env.Inv.Cluster),
		Nodes:       r.s.env.AllNodes(),
		Loses:       strings.Join(loses, "; "),
		Rollback:    "restore another backup; the previous data directory is removed once the restore succeeded, the replaced indices are not kept",
		Destructive: true,
	}}
}

func labelOf(m *repo.Manifest) string {
	if m.Label == "" {
		return ""
	}
	return " (" + m.Label + ")"
}

// esRestoreStep deletes exactly the backup's indices (those Alien4Cloud
// recreated too), restores them, follows the recovery and counts each
// one's documents against the backup's.
func esRestoreStep(r *RestoreRun) steps.Step {
	s := r.Manifest.Elasticsearch
	return steps.Step{
		ID: "elasticsearch", Title: "Restore Alien4Cloud's indices", Kind: steps.KindAction, Component: es.Component, Destructive: true,
		Why: "Elasticsearch refuses to restore over an open index of the same name, and Alien4Cloud recreates any missing index at start: exactly the backup's indices are deleted (the 1.0.0 procedure closed _all, other applications' indices included), restored with wait_for_completion=false, and _recovery is followed to the end.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: es.Node(r.s.env), Cmd: fmt.Sprintf("DELETE /<each of the %d indices that exists> · POST /_snapshot/%s/%s/_restore?wait_for_completion=false {\"indices\": \"<the %d>\", \"include_global_state\": false} · GET /<indices>/_recovery until DONE · GET /<index>/_count each",
				len(s.Indices), s.Repository, s.Snapshot, len(s.Indices))}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, _, err := es.Open(r.s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := es.DeleteIndices(ctx, cl, s.Indices); err != nil {
				return err
			}
			rc.Output("elasticsearch", fmt.Sprintf("deleted the backup's %d indices (those Alien4Cloud had)", len(s.Indices)))
			if err := es.Restore(ctx, cl, s.Repository, s.Snapshot, s.Indices); err != nil {
				return err
			}
			r.mu.Lock()
			r.esRestoring = true
			r.mu.Unlock()
			if err := es.FollowRecovery(ctx, cl, s.Indices, pollMax, rc.Timeout(steps.DeadlineRecovery), func(done, total int64) { rc.Progress("elasticsearch", done, total, "bytes") }); err != nil {
				return err
			}
			r.mu.Lock()
			r.esRestoring = false
			r.mu.Unlock()
			// Counted now, before Alien4Cloud starts and writes (its
			// maintenance mode, its audit trail).
			counts, err := es.Counts(ctx, cl, s.Indices)
			if err != nil {
				return err
			}
			var diffs []string
			for _, ix := range s.Indices {
				if want, ok := s.Docs[ix]; ok && want != counts[ix] {
					diffs = append(diffs, fmt.Sprintf("%s %d (backup %d)", ix, counts[ix], want))
				}
			}
			docs := sum(counts)
			rc.Output("", r.report.Note("Elasticsearch: %d indices restored in %s, %d documents", len(s.Indices), time.Since(start).Round(time.Millisecond), docs))
			switch {
			case s.Docs == nil:
				rc.Output("", r.report.Note("Elasticsearch: the backup recorded no document counts to compare with"))
			case len(diffs) > 0:
				rc.Output("", r.report.Note("Elasticsearch: WARNING: document counts differ from the backup's: %s", strings.Join(diffs, ", ")))
			default:
				rc.Output("", r.report.Note("Elasticsearch: every index has the document count it had at the backup (%d documents)", sum(s.Docs)))
			}
			return nil
		},
		// A restore still recovering when the run stops is cancelled the
		// way Elasticsearch documents it: by deleting the indices being
		// restored (a resume restores them again).
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			r.mu.Lock()
			restoring := r.esRestoring
			r.mu.Unlock()
			if !restoring {
				return nil
			}
			cl, _, err := es.Open(r.s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := es.CancelRestore(ctx, cl, s.Indices); err != nil {
				return err
			}
			rc.Output("elasticsearch", "cancelled the unfinished restore (deleted the indices being restored); hotsnap resume "+rc.RunID()+" restores them again")
			return nil
		},
	}
}

// keep are the data directory's entries a restore leaves in place: with
// Elasticsearch inside Alien4Cloud, which runs meanwhile, its transient
// folders (eshome/ holds Elasticsearch's data); else none (they go aside
// with the rest, and Alien4Cloud makes them again at start).
func (r *RestoreRun) keep() []string {
	if r.s.embedded() {
		return transient
	}
	return nil
}

// stageStep unpacks the backup's data directory beside the current one
// while Alien4Cloud still runs, checking it against the manifest as it
// streams: the bulk of the restore happens before the outage, and a
// damaged archive stops the restore before anything is stopped or changed.
func stageStep(r *RestoreRun) steps.Step {
	f := r.Manifest.Files
	id := r.Manifest.ID
	return steps.Step{
		ID: "stage", Title: "Unpack the data directory beside the current one, verifying it", Kind: steps.KindAction, Component: dataComponent,
		Why: "\"Restore will do inversely\": the documented rm -r then cp -r, with Alien4Cloud stopped, leaves nothing when the copy fails, and owners become root's. Here the archive is unpacked next to the data directory with its owners and modes while Alien4Cloud still runs, hashed as it streams (a damaged one stops the restore, nothing changed); it only writes its own folder.",
		Plan: func() []steps.PlannedCommand {
			b := files.BesideFor(r.s.planDataDir(), id, nil)
			return []steps.PlannedCommand{{Node: r.s.node(), Cmd: b.Extract, Sudo: true, Note: "stdin: " + f.Archive + " from the repository, hashed as it streams"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n := r.s.node()
			b := files.BesideFor(r.s.dataDirNow(), id, nil)
			ix, err := b.Unpack(ctx, rc, n, r.Store, f.Archive, f.Size)
			if err != nil {
				return err
			}
			if ix.Digest != f.Digest || ix.Size != f.Size {
				return fmt.Errorf("%s: %s: %w: tar digest %s (%d bytes), the manifest says %s (%d bytes); nothing was changed", n, f.Archive, repo.ErrBackupDamaged, ix.Digest, ix.Size, f.Digest, f.Size)
			}
			r.mu.Lock()
			r.unpacked = ix
			r.mu.Unlock()
			rc.Output(n, fmt.Sprintf("%d files (%s) unpacked into %s and verified", len(ix.Files), steps.HumanBytes(ix.Size), b.Stage))
			return nil
		},
		// The staging folder goes when the run stops short; a resume
		// unpacks it again.
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			b := files.BesideFor(r.s.dataDirNow(), id, nil)
			_, err := rc.Run(ctx, r.s.node(), remote.Command{Cmd: b.Clean, Sudo: true})
			return err
		},
	}
}

// swapStep puts the staged data directory in place of the current one,
// which waits beside it until the restore succeeded.
func swapStep(r *RestoreRun) steps.Step {
	id := r.Manifest.ID
	return steps.Step{
		ID: "data", Title: "Swap the restored data directory in", Kind: steps.KindAction, Component: dataComponent, Destructive: true,
		Why: "The staged entries replace the current ones by renames (the folder itself stays: a running Alien4Cloud holds it); the previous ones wait in <dir>.pre-restore-ID until the restore succeeded.",
		Plan: func() []steps.PlannedCommand {
			b := files.BesideFor(r.s.planDataDir(), id, nil)
			return []steps.PlannedCommand{{Node: r.s.node(), Cmd: b.Replace, Sudo: true, Note: "with Elasticsearch inside Alien4Cloud, " + strings.Join(transient, "/ ") + "/ stay in place"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n := r.s.node()
			b := files.BesideFor(r.s.dataDirNow(), id, r.keep())
			if _, err := rc.Run(ctx, n, remote.Command{Cmd: b.Replace, Sudo: true}); err != nil {
				return fmt.Errorf("%s: swap the data directory in: %w", n, err)
			}
			rc.Output("", r.report.Note("Data directory: %d files (%s) restored into %s:%s; the previous content waits in %s", len(r.Manifest.Files.Entries), steps.HumanBytes(r.Manifest.Files.Size), n, b.Dir, b.Old))
			return nil
		},
	}
}

// startStep starts Alien4Cloud (restarts it with Elasticsearch inside it)
// and waits until it answers.
func startStep(r *RestoreRun) steps.Step {
	u, n := r.s.unit(), r.s.node()
	return steps.Step{
		ID: "start-service", Title: "Start Alien4Cloud and wait until it is healthy", Kind: steps.KindAction, Component: a4c.Component,
		Why:  "\"Alien4Cloud should be restarted once the restoration process is completed\": it reads its restored indices and data directory at start; the restore is finished when it answers " + a4c.HealthPath + ".",
		Plan: steps.PlanEach([]string{n}, u.StartCmd()+" (restart with Elasticsearch inside it); GET "+u.URL+u.Health+" until 200", true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			cmd := u.StartCmd()
			if r.s.embedded() {
				cmd = "systemctl restart " + remote.Quote(u.Name)
			}
			if _, err := rc.Run(ctx, n, remote.Command{Cmd: cmd, Sudo: true}); err != nil {
				return fmt.Errorf("%s: %s: %w", n, cmd, err)
			}
			start := time.Now()
			if err := u.WaitHealthy(ctx, rc, r.s.env, []string{n}, pollMax, r.HealthTimeout); err != nil {
				return err
			}
			rc.Output("", r.report.Note("Alien4Cloud: healthy on %s %s after its start", n, time.Since(start).Round(time.Millisecond)))
			return nil
		},
	}
}

// maintenanceClearStep turns maintenance mode off when the snapshot brought
// it back (a backup is taken in maintenance mode, whose state is a
// document of the snapshot).
func maintenanceClearStep(r *RestoreRun) steps.Step {
	a := r.s.a4cConf()
	return steps.Step{
		ID: "maintenance-off", Title: "Turn maintenance mode off if the snapshot brought it back", Kind: steps.KindAction, Component: a4c.Component,
		Why:  "The backup was taken in maintenance mode, and its state is a document in Elasticsearch: the restored Alien4Cloud starts in maintenance mode, answering 503 to everyone, until it is turned off.",
		Plan: steps.PlanEach([]string{r.s.node()}, "GET "+a.URL+a4c.MaintenancePath+"; DELETE "+a.URL+a4c.MaintenancePath+" when on", false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			cl, err := a4c.Open(r.s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			m, err := cl.GetMaintenance(ctx)
			if err != nil {
				return err
			}
			if !m.On {
				rc.Output("", r.report.Note("Maintenance mode: off"))
				return nil
			}
			if _, err := cl.DisableMaintenance(ctx); err != nil {
				return err
			}
			rc.Output("", r.report.Note("Maintenance mode: the restored state had it on (by %s); turned off", m.User))
			return nil
		},
	}
}

// reportStep compares the data directory and the configuration files with
// the manifest, then removes the previous data directory.
func reportStep(r *RestoreRun) steps.Step {
	m := r.Manifest
	return steps.Step{
		ID: "report", Title: "Compare the restored files with the backup; remove the previous data directory", Kind: steps.KindAction, Component: steps.ComponentBackup,
		Why: "The restore ends with proof: every file of the data directory with the name, size, mode and owner the manifest lists (its content hashed as it was unpacked), and the configuration files compared with the saved ones (hotsnap does not overwrite them). Only then is <dir>.pre-restore-ID removed.",
		Plan: func() []steps.PlannedCommand {
			b := files.BesideFor(r.s.planDataDir(), m.ID, nil)
			out := []steps.PlannedCommand{{Node: r.s.node(), Cmd: files.ListCmd(b.Dir, transient), Sudo: true}}
			for _, c := range m.Configs {
				out = append(out, steps.PlannedCommand{Node: c.Node, Cmd: "sha256sum <each saved configuration file>", Sudo: true})
			}
			return append(out, steps.PlannedCommand{Node: r.s.node(), Cmd: b.Finish, Sudo: true})
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n := r.s.node()
			b := files.BesideFor(r.s.dataDirNow(), m.ID, nil)
			if f := m.Files; f != nil {
				have, err := files.List(ctx, rc, n, b.Dir, transient)
				if err != nil {
					return err
				}
				diffs := files.Compare(have, f.Entries)
				if len(diffs) > 0 {
					return fmt.Errorf("%s: the restored data directory differs from the backup (%d differences: %s); the previous one is kept in %s",
						n, len(diffs), strings.Join(first(diffs, 5), "; "), b.Old)
				}
				r.mu.Lock()
				ix := r.unpacked
				r.mu.Unlock()
				how := "content hashed as it was unpacked, tar digest " + f.Digest[:12] + "… as in the manifest"
				if ix == nil {
					how = "content hashed as it was unpacked by the earlier run"
				}
				rc.Output("", r.report.Note("Data directory: every one of the %d files has the name, size, mode and owner of the backup (%s)", len(f.Entries), how))
			}
			r.compareConfigs(ctx, rc)
			if m.Files != nil {
				if _, err := rc.Run(ctx, n, remote.Command{Cmd: b.Finish, Sudo: true}); err != nil {
					return fmt.Errorf("%s: remove %s: %w", n, b.Old, err)
				}
				rc.Output("", r.report.Note("Data directory: the previous content (%s) is removed: the restore succeeded", b.Old))
			}
			return nil
		},
	}
}

// compareConfigs reports, per node, the configuration files that differ
// from (or are missing against) the ones the backup saved.
func (r *RestoreRun) compareConfigs(ctx context.Context, rc *steps.RunContext) {
	for _, c := range r.Manifest.Configs {
		want := map[string]string{}
		for _, e := range c.Entries {
			if e.SHA256 != "" && e.Type == "" {
				want["/"+strings.TrimPrefix(e.Name, "./")] = e.SHA256
			}
		}
		paths := slices.Sorted(maps.Keys(want))
		got, err := files.Sums(ctx, rc, c.Node, paths)
		if err != nil {
			rc.Output(c.Node, r.report.Note("Configuration on %s: cannot compare (%v)", c.Node, err))
			continue
		}
		var differ []string
		for _, p := range paths {
			switch g, ok := got[p]; {
			case !ok:
				differ = append(differ, p+" (missing)")
			case g != want[p]:
				differ = append(differ, p)
			}
		}
		if len(differ) == 0 {
			rc.Output(c.Node, r.report.Note("Configuration on %s: %s unchanged since the backup", c.Node, plural(len(paths), "saved file is", "saved files are")))
			continue
		}
		rc.Output(c.Node, r.report.Note("Configuration on %s: %d of %d files differ from the backup's (not restored; the saved copy is %s): %s",
			c.Node, len(differ), len(paths), c.Archive, strings.Join(differ, ", ")))
	}
}

// plural is "1 saved file is" or "3 saved files are".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), "…")
	}
	return s
}
