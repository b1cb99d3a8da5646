package alien4cloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	a4c "github.com/hotsnap/hotsnap/steps/alien4cloud"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
)

// pollMax is the longest wait between two polls of a snapshot, a recovery
// or a service starting (steps.Poll starts at 100 ms): a poll is one or two
// small GETs, and Alien4Cloud waits in maintenance mode (or stopped) until
// the poll sees the end, so the wait after the end stays short.
const pollMax = 250 * time.Millisecond

// healthTimeout bounds the wait for Alien4Cloud to answer after a start
// (spray's wait_a4c_fullstart allows 30 × 60 s; a restored one reads its
// indices first).
const healthTimeout = 10 * time.Minute

// Quiesce values of the manifest.
const (
	quiesceMaintenance = "maintenance mode"
	quiesceStopped     = "service stopped"
)

// BackupRun is one backup of Alien4Cloud: where it goes, its ID, and the
// manifest its steps fill in (written by the last step only).
type BackupRun struct {
	Store repo.Store
	ID    string
	Label string
	Tool  string
	// StopService stops the service for the backup instead of maintenance
	// mode (--stop-service; refused with an embedded Elasticsearch).
	StopService bool
	// Resume takes again a backup an earlier run left unfinished: its
	// snapshot is deleted first.
	Resume bool

	s        *site
	mu       sync.Mutex
	manifest repo.Manifest
	est      *steps.Estimate
	turnedOn bool      // this run turned maintenance mode on
	quiet    time.Time // when maintenance mode went on (or the service stopped)
}

// Manifest returns the manifest as the run left it.
func (b *BackupRun) Manifest() *repo.Manifest {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.manifest
	return &m
}

func (b *BackupRun) timing(name string, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.manifest.Timings == nil {
		b.manifest.Timings = map[string]float64{}
	}
	b.manifest.Timings[name] = d.Seconds()
}

// Backup builds Alien4Cloud's backup runbook, the documented tool's
// "-backup -n NAME" done right: the preflight checks and the estimate,
// the snapshots killed runs left offered for clearing, a gate, maintenance
// mode on (or, with --stop-service and a remote
// Elasticsearch, the service stopped), then at once the snapshot of
// Alien4Cloud's indices followed to SUCCESS, the data directory streamed
// as a tar and the configuration files, maintenance mode off again (also
// when the run fails or is cancelled), and the manifest last.
func Backup(env *steps.Env, b *BackupRun) steps.Runbook {
	inv := env.Inv
	b.s = newSite(env)
	b.manifest = repo.Manifest{Format: repo.ManifestFormat, ID: b.ID, Label: b.Label, Platform: inv.Platform, Cluster: inv.Cluster, Tool: b.Tool,
		Versions: map[string]string{}}
	rb := steps.Runbook{Name: "backup", Cluster: inv.Cluster, Resumable: true, Exclusive: true}
	// Hotsnap's own snapshots that killed runs left: found among the
	// checks, offered for clearing at a gate before the backup's own.
	left := runbooks.NewLeftovers(env, runbooks.StoreOpener(b.Store))
	rb.Steps = checks(env, b.s, b.StopService, left, measureStep(b))
	rb.Steps = append(rb.Steps, runbooks.PreflightVerdict(), left.Gate(), backupGate(b), runbooks.MarkBackup(env, b.Store, b.ID), left.Clear())
	if b.StopService {
		rb.Steps = append(rb.Steps, stopForBackupStep(b))
	} else {
		rb.Steps = append(rb.Steps, maintenanceOnStep(b))
	}
	// The three read what maintenance mode keeps still, and none reads
	// what another writes: at once.
	copies := []steps.Step{snapshotStep(b), dataBackupStep(b), configBackupStep(b)}
	for i := range copies {
		copies[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, copies...)
	if b.StopService {
		rb.Steps = append(rb.Steps, startAfterBackupStep(b))
	} else {
		rb.Steps = append(rb.Steps, maintenanceOffStep(b))
	}
	rb.Steps = append(rb.Steps, runbooks.ManifestStep(b.Store, b.ID, &b.mu, &b.manifest, func(m *repo.Manifest) {
		for _, n := range b.s.env.Inv.Nodes {
			m.Topology.Hosts = append(m.Topology.Hosts, repo.Host{Name: n.Name, Address: n.Host, Roles: n.Roles})
		}
	}))
	return rb
}

func measureStep(b *BackupRun) steps.Step {
	return steps.Step{
		ID: "measure", Title: "Estimate the size and time of the backup, and the room for it", Kind: steps.KindCheck, Component: "repository",
		Why:  "The operator sees how much will be copied, from where, into where and for how long, before approving; a repository too small for it stops the backup before maintenance mode goes on.",
		Plan: func() []steps.PlannedCommand { return measurePlan(b.s, runbooks.Where(b.Store)) },
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			est, err := estimate(ctx, rc, b.s, b.Store)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.est = est
			b.mu.Unlock()
			est.Report(rc)
			sp, _ := b.Store.(repo.Spacer)
			roomChecks(ctx, rc, b.s, est, sp, runbooks.Where(b.Store))
			return nil
		},
	}
}

func backupGate(b *BackupRun) steps.Step {
	a := b.s.a4cConf()
	quiet := "turn Alien4Cloud's maintenance mode on (its UI and REST API answer 503 meanwhile)"
	after := "turn maintenance mode off"
	if b.StopService {
		quiet, after = "stop Alien4Cloud (systemctl stop "+a.Service+") and prove it stopped", "start it and wait until it answers"
	}
	return steps.Step{
		ID: "approve", Title: "Start the backup", Kind: steps.KindGate, Component: steps.ComponentBackup,
		Gate: &steps.GateRequest{
			Happens: fmt.Sprintf("%s, snapshot Alien4Cloud's indices into Elasticsearch's repository %s as %s, stream the data directory %s (without %s) and the configuration files into %s, then %s",
				quiet, b.s.env.Inv.Elasticsearch.Repository, b.ID, b.s.planDataDir(), strings.Join(transient, "/ ")+"/", runbooks.Where(b.Store), after),
			Nodes:    b.s.env.AllNodes(),
			Rollback: "nothing to roll back: a backup only reads; maintenance mode goes off again (the service starts again) also when it fails or is cancelled",
		},
		Refine: func(g *steps.GateRequest) {
			b.mu.Lock()
			est := b.est
			b.mu.Unlock()
			if d := b.s.dataDirNow(); d != "" {
				g.Happens = strings.Replace(g.Happens, b.s.planDataDir(), d, 1)
			}
			if est != nil {
				g.Happens += ". " + est.Text() + "; time: " + est.TimeText()
			}
		},
	}
}

// maintenanceMessage is what a backup writes into maintenance mode's log
// once it turned it on: the UI shows it to whoever meets the 503, and a
// later run knows from it that a killed hotsnap run left it on.
func maintenanceMessage(id, run string) string {
	return fmt.Sprintf("hotsnap backup %s (run %s): Alien4Cloud's data is being copied", id, run)
}

// maintenanceLeftBy reads a maintenance log message of maintenanceMessage's
// back: who names the hotsnap run and its backup, run is the run's ID;
// both "" for anyone else's message.
func maintenanceLeftBy(message string) (who, run string) {
	m := leftByRE.FindStringSubmatch(message)
	if m == nil {
		return "", ""
	}
	return fmt.Sprintf("hotsnap run %s (backup %s)", m[2], m[1]), m[2]
}

// leftByRE reads maintenanceMessage's backup ID and run ID back.
var leftByRE = regexp.MustCompile(`^hotsnap backup (hotsnap-[0-9]{8}-[0-9]{6}-[0-9a-f]+) \(run ([0-9]{8}-[0-9]{6}-[0-9a-f]+)\)`)

// maintenanceOnStep turns maintenance mode on and says so in its log. One
// already on is left as it is, and left on after the backup: someone
// else's work is under way — unless a killed hotsnap run left it on (its
// log says so, and this run holds the lock, so that run no longer runs):
// then it goes off after this backup.
func maintenanceOnStep(b *BackupRun) steps.Step {
	a := b.s.a4cConf()
	return steps.Step{
		ID: "maintenance-on", Title: "Turn Alien4Cloud's maintenance mode on", Kind: steps.KindAction, Component: a4c.Component,
		Why: "Alien4Cloud's maintenance mode answers every other REST call with 503, so no upload, deployment or change lands in the data while it is copied; its state is a document in Elasticsearch, so the snapshot carries it (a restore turns it off again).",
		Plan: steps.PlanEach([]string{b.s.node()}, "POST "+a.URL+a4c.LoginPath+" (as "+a.Username+"); POST "+a.URL+a4c.MaintenancePath+
			" (already on: GET it, for the run its log names); PUT "+a.URL+a4c.MaintenancePath+" with this backup and run in its log", false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			return b.s.withClient(func(cl *a4c.Client) error {
				already, err := cl.EnableMaintenance(ctx)
				if err != nil {
					return fmt.Errorf("turn maintenance mode on: %w (Elasticsearch refuses writes when its disk passed the flood-stage watermark; or back up with --stop-service)", err)
				}
				ours := !already
				if already {
					m, err := cl.GetMaintenance(ctx)
					if who, run := maintenanceLeftBy(m.Message); err == nil && who != "" && run != rc.RunID() {
						ours = true
						rc.Output(b.s.node(), fmt.Sprintf("maintenance mode was left on by %s, which no longer runs (this run holds the lock): it goes off after this backup", who))
					} else {
						rc.Output(b.s.node(), "maintenance mode was already on: it stays on after the backup")
					}
				} else {
					rc.Output(b.s.node(), "maintenance mode on")
				}
				b.mu.Lock()
				b.turnedOn, b.quiet = ours, time.Now()
				b.manifest.Quiesce = quiesceMaintenance
				b.mu.Unlock()
				if ours {
					if err := cl.SayMaintenance(ctx, maintenanceMessage(b.ID, rc.RunID())); err != nil {
						rc.Output(b.s.node(), "could not say in maintenance mode's log which run turned it on: "+err.Error())
					}
				}
				return nil
			})
		},
		// Off again when the run fails or is cancelled.
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error { return b.maintenanceOff(ctx, rc) },
	}
}

// maintenanceOff turns maintenance mode off if this run turned it on.
func (b *BackupRun) maintenanceOff(ctx context.Context, rc *steps.RunContext) error {
	b.mu.Lock()
	on, since := b.turnedOn, b.quiet
	b.mu.Unlock()
	if !on {
		return nil
	}
	if _, err := b.s.disableMaintenance(ctx); err != nil {
		return fmt.Errorf("turn maintenance mode off: %w: it is still on — turn it off in the UI or with DELETE %s", err, a4c.MaintenancePath)
	}
	b.mu.Lock()
	b.turnedOn = false
	b.mu.Unlock()
	b.timing("quiesced", time.Since(since))
	rc.Output(b.s.node(), fmt.Sprintf("maintenance mode off after %s", time.Since(since).Round(time.Millisecond)))
	return nil
}

func maintenanceOffStep(b *BackupRun) steps.Step {
	a := b.s.a4cConf()
	return steps.Step{
		ID: "maintenance-off", Title: "Turn Alien4Cloud's maintenance mode off", Kind: steps.KindAction, Component: a4c.Component,
		Why:  "Alien4Cloud serves again as soon as its data is copied; the snapshot keeps the state it was in.",
		Plan: steps.PlanEach([]string{b.s.node()}, "DELETE "+a.URL+a4c.MaintenancePath, false),
		Run:  b.maintenanceOff,
	}
}

func stopForBackupStep(b *BackupRun) steps.Step {
	u, n := b.s.unit(), b.s.node()
	return steps.Step{
		ID: "stop-service", Title: "Stop Alien4Cloud and prove it stopped", Kind: steps.KindAction, Component: a4c.Component,
		Why:  "--stop-service: with Elasticsearch on its own, Alien4Cloud can be stopped for the backup, the page's \"cold\" way; it is started again when the data is copied.",
		Plan: steps.PlanEach([]string{n}, u.StopCmd()+"; "+u.StoppedProbe(), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if b.s.embedded() {
				return errors.New("--stop-service would stop the Elasticsearch that runs inside Alien4Cloud: back up without it")
			}
			b.mu.Lock()
			b.quiet = time.Now()
			b.manifest.Quiesce = quiesceStopped
			b.mu.Unlock()
			return u.Stop(ctx, rc, []string{n})
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error { return b.startService(ctx, rc) },
	}
}

// startService starts Alien4Cloud and waits until it answers.
func (b *BackupRun) startService(ctx context.Context, rc *steps.RunContext) error {
	u, n := b.s.unit(), b.s.node()
	if err := u.Start(ctx, rc, []string{n}); err != nil {
		return err
	}
	if err := u.WaitHealthy(ctx, rc, b.s.env, []string{n}, pollMax, healthTimeout); err != nil {
		return err
	}
	b.mu.Lock()
	since := b.quiet
	b.mu.Unlock()
	b.timing("quiesced", time.Since(since))
	return nil
}

func startAfterBackupStep(b *BackupRun) steps.Step {
	u, n := b.s.unit(), b.s.node()
	return steps.Step{
		ID: "start-service", Title: "Start Alien4Cloud and wait until it answers", Kind: steps.KindAction, Component: a4c.Component,
		Why:  "Alien4Cloud serves again as soon as its data is copied.",
		Plan: steps.PlanEach([]string{n}, u.StartCmd()+"; GET "+u.URL+u.Health, true),
		Run:  b.startService,
	}
}

// snapshotStep snapshots Alien4Cloud's indices (each one's documents
// counted first, for the restore to compare with) and follows the
// snapshot to SUCCESS.
func snapshotStep(b *BackupRun) steps.Step {
	ec := b.s.env.Inv.Elasticsearch
	return steps.Step{
		ID: "es-snapshot", Title: "Snapshot Alien4Cloud's indices and follow it to SUCCESS", Kind: steps.KindAction, Component: es.Component,
		Why: "\"The backup relies on the snapshot capability of Elasticsearch\": of Alien4Cloud's indices (every one but the system indices, never _all), started with wait_for_completion=false and polled until SUCCESS — FAILED or PARTIAL fails the backup and the snapshot is deleted.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: es.Node(b.s.env), Cmd: fmt.Sprintf("GET %s/_cat/indices (every index but .*) · GET /INDEX/_count each · PUT /_snapshot/%s/%s?wait_for_completion=false {\"indices\": \"<those>\", \"include_global_state\": false} · GET /_snapshot/%s/%s (every %s at most) and its _status",
				ec.URL, ec.Repository, b.ID, ec.Repository, b.ID, pollMax)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			info, indices, unknown, err := indicesOf(ctx, b.s.env)
			if err != nil {
				return err
			}
			if len(unknown) > 0 {
				rc.Output("elasticsearch", "not classes of Alien4Cloud 3.x, backed up with the others: "+strings.Join(unknown, ", "))
			}
			cl, _, err := es.Open(b.s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			docs, err := es.Counts(ctx, cl, indices)
			if err != nil {
				return err
			}
			if b.Resume {
				if deleted, err := es.DeleteSnapshot(ctx, cl, ec.Repository, b.ID, "delete the snapshot the earlier run left"); err != nil {
					return err
				} else if deleted {
					rc.Output("elasticsearch", "deleted the snapshot "+b.ID+" the earlier run left")
				}
			}
			if err := es.StartSnapshot(ctx, cl, ec.Repository, b.ID, indices); err != nil {
				return err
			}
			b.mu.Lock()
			b.manifest.Started = start
			b.manifest.Versions[info.Distribution] = info.Version
			b.mu.Unlock()
			rc.Output("elasticsearch", fmt.Sprintf("snapshot %s of %d indices accepted", b.ID, len(indices)))
			var size int64
			s, err := es.FollowSnapshot(ctx, cl, ec.Repository, b.ID, pollMax, func(done, total int64) {
				size = total
				rc.Progress("elasticsearch", done, total, "bytes")
			}, nil)
			if err != nil {
				return err
			}
			rec := es.Record(*s, ec.Repository, ec.RepositoryPath)
			rec.Version, rec.SizeBytes, rec.Docs = info.Version, size, docs
			b.mu.Lock()
			b.manifest.Elasticsearch = rec
			b.mu.Unlock()
			b.timing("elasticsearch", time.Since(start))
			rc.Output("elasticsearch", fmt.Sprintf("snapshot %s SUCCESS: %d indices, %d shards, %d documents", b.ID, len(s.Indices), s.Shards.Successful, sum(docs)))
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			// An unfinished or failed snapshot is deleted: it is no backup.
			cl, _, err := es.Open(b.s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			_, err = es.DeleteSnapshot(ctx, cl, ec.Repository, b.ID, "delete the unfinished snapshot")
			return err
		},
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// dataBackupStep streams the data directory into the repository.
func dataBackupStep(b *BackupRun) steps.Step {
	return steps.Step{
		ID: "data", Title: "Stream the data directory into the repository", Kind: steps.KindAction, Component: dataComponent,
		Why: "\"User uploaded content like CSAR, Artifacts, Plugins\": one tar over SSH straight into the repository, with owners and modes, hashed on the fly (the documented cp -r loses owners and copies work/ and temporary files too).",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: b.s.node(), Cmd: files.TarExcludingCmd(b.s.planDataDir(), transient), Sudo: true, Note: "streamed into " + b.ID + "/" + repo.DataArchive}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			n, dir := b.s.node(), b.s.dataDirNow()
			var total int64
			b.mu.Lock()
			if p := b.est.Part(partData); p != nil {
				total = p.Bytes
			}
			b.mu.Unlock()
			p := b.ID + "/" + repo.DataArchive
			ix, err := files.ArchiveExcluding(ctx, rc, n, dir, transient, b.Store, p, func(x int64) { rc.Progress(n, x, total, "bytes") })
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.manifest.Files = &repo.FileStore{Provider: repo.ProviderLocalFS, Path: dir, Node: n, Archive: p, Size: ix.Size, Digest: ix.Digest, Entries: ix.Files}
			b.mu.Unlock()
			d := time.Since(start)
			b.timing("data", d)
			rc.Output(n, fmt.Sprintf("data directory: %d files, %s in %s (%s/s)", len(ix.Files), steps.HumanBytes(ix.Size), d.Round(time.Millisecond),
				steps.HumanBytes(int64(float64(ix.Size)/max(d.Seconds(), 1e-3)))))
			return nil
		},
	}
}

// configBackupStep saves the configuration files of every node.
func configBackupStep(b *BackupRun) steps.Step {
	return steps.Step{
		ID: "config", Title: "Save the configuration files", Kind: steps.KindAction, Component: "configuration",
		Why: "\"Configuration files won't be backed up\" by the documented tool: hotsnap saves alien4cloud-config.yml with its folder (log4j2.xml, the keystore), the env file, the unit, alien4cloud.extra_files and each node's elasticsearch.yml (path.repo), for the report to compare and the operator to take back.",
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			byNode := b.s.configFiles()
			for _, n := range slices.Sorted(maps.Keys(byNode)) {
				out = append(out, steps.PlannedCommand{Node: n, Cmd: files.FilesTarCmd(byNode[n]), Sudo: true, Note: "streamed into " + repo.ConfigArchivePath(b.ID, n)})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			byNode := b.s.configFiles()
			nodes := slices.Sorted(maps.Keys(byNode))
			stores := make([]*repo.FileStore, len(nodes))
			err := steps.Parallel(nodes, func(i int, n string) error {
				p := repo.ConfigArchivePath(b.ID, n)
				ix, err := files.ArchiveFiles(ctx, rc, n, byNode[n], b.Store, p)
				if err != nil {
					return err
				}
				if len(ix.Files) == 0 {
					rc.Output(n, "no configuration file found: "+strings.Join(byNode[n], ", "))
					return nil
				}
				stores[i] = &repo.FileStore{Provider: repo.ProviderLocalFS, Path: "/", Node: n, Archive: p, Size: ix.Size, Digest: ix.Digest, Entries: ix.Files}
				rc.Output(n, plural(len(ix.Files), "configuration file saved", "configuration files saved"))
				return nil
			})
			if err != nil {
				return err
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			for _, st := range stores {
				if st != nil {
					b.manifest.Configs = append(b.manifest.Configs, *st)
				}
			}
			return nil
		},
	}
}
