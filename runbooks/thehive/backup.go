package thehive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	"github.com/hotsnap/hotsnap/steps/parse"
)

// BackupRun is one backup: where it goes, its ID, and the manifest its steps
// fill in. The manifest is written by the last step only.
type BackupRun struct {
	Store repo.Store
	ID    string
	Label string // backup --name, recorded in the manifest
	Tool  string // hotsnap version, recorded in the manifest
	// Resume says this run takes again a backup an earlier run left
	// unfinished, under the same ID: the snapshots that run may have left
	// (it was killed before its cleanup) are cleared first, so that every
	// part comes from the new snapshot.
	Resume bool
	// OneNode snapshots and copies one node only. It is allowed only when
	// preflight proved the keyspace replicated on every node (RF = node
	// count) and every node UN: then one node holds every row.
	OneNode bool

	mu       sync.Mutex
	manifest repo.Manifest
	esInfo   *parse.ESInfo
	started  map[string]time.Time // component → when its snapshot was started
	est      *steps.Estimate      // what the measure step found
}

// Manifest returns the manifest as the run left it (complete after the
// last step).
func (b *BackupRun) Manifest() *repo.Manifest {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.manifest
	return &m
}

func (b *BackupRun) timing(name string, d time.Duration) {
	b.mu.Lock()
	if b.manifest.Timings == nil {
		b.manifest.Timings = map[string]float64{}
	}
	b.manifest.Timings[name] = d.Seconds()
	b.mu.Unlock()
}

// Backup builds the hot backup runbook for TheHive (cluster or standalone):
// preflight, a gate, schema and topology, snapshots of every node and of
// Elasticsearch started together, streaming of every table into the
// repository, the ES snapshot followed to SUCCESS, attachments, snapshots
// cleared, and the manifest written last.
func Backup(env *steps.Env, b *BackupRun) steps.Runbook {
	inv := env.Inv
	b.manifest = repo.Manifest{Format: repo.ManifestFormat, ID: b.ID, Label: b.Label, Platform: inv.Platform, Cluster: inv.Cluster, Tool: b.Tool,
		Versions: map[string]string{}}
	b.started = map[string]time.Time{}
	rb := steps.Runbook{Name: "backup", Cluster: inv.Cluster, Resumable: true, Exclusive: true}
	// The estimate only reads, like the checks: it runs alongside them.
	// It takes the keyspace's size on each node from the disk check.
	du := steps.NewSizes()
	measure := measureStep(env, b, du)
	measure.Concurrent = true
	// Hotsnap's own snapshots that killed runs left: found among the
	// checks, offered for clearing at a gate before the backup's own.
	left := runbooks.NewLeftovers(env, runbooks.StoreOpener(b.Store))
	rb.Steps = withConcurrentCheck(preflight(env, left, du).Steps, measure)
	rb.Steps = append(rb.Steps, runbooks.PreflightVerdict())
	if b.OneNode {
		rb.Steps = append(rb.Steps, oneNodeStep(env, b))
	}
	rb.Steps = append(rb.Steps, left.Gate(), backupGate(env, b), runbooks.MarkBackup(env, b.Store, b.ID), left.Clear())
	// The schema and topology are read while the snapshots start: neither
	// reads what the other writes (each fills its own part of the manifest).
	snap := snapshotStep(env, b)
	if inv.Cassandra != nil {
		schema := schemaStep(env, b)
		schema.Concurrent, snap.Concurrent = true, true
		rb.Steps = append(rb.Steps, schema)
	}
	rb.Steps = append(rb.Steps, snap)
	// Attachments on local disk or NFS stream alongside the tables, in the
	// same step; attachments in S3 (or without Cassandra) have their own.
	withFiles := inv.Cassandra != nil && inv.Storage != nil && inv.Storage.Provider != config.StorageS3
	if inv.Cassandra != nil {
		rb.Steps = append(rb.Steps, streamStep(env, b, withFiles))
	}
	// Once the tables are streamed, the Cassandra snapshots are cleared
	// while Elasticsearch finishes its snapshot and the attachments in S3
	// are copied: none of them reads what another writes, and the
	// snapshots' hard links stop pinning SSTables sooner.
	var tail []steps.Step
	if inv.Elasticsearch != nil {
		tail = append(tail, esWaitStep(env, b))
	}
	if inv.Storage != nil && !withFiles {
		tail = append(tail, filesBackupStep(env, b))
	}
	if inv.Cassandra != nil {
		tail = append(tail, clearSnapshotStep(env, b))
	}
	for i := range tail {
		tail[i].Concurrent = len(tail) > 1
	}
	rb.Steps = append(rb.Steps, tail...)
	rb.Steps = append(rb.Steps, runbooks.ManifestStep(b.Store, b.ID, &b.mu, &b.manifest, nil))
	return rb
}

// withConcurrentCheck inserts s after the last concurrent step of steps
// (the preflight checks that run at once), or at the end when none is.
func withConcurrentCheck(steps []steps.Step, s steps.Step) []steps.Step {
	at := len(steps)
	for i, st := range steps {
		if st.Concurrent {
			at = i + 1
		}
	}
	return slices.Insert(steps, at, s)
}

// clearLeftovers removes what an earlier, killed run of this backup ID may
// have left: the Cassandra snapshot on each node and the ES snapshot.
func (b *BackupRun) clearLeftovers(ctx context.Context, rc *steps.RunContext, snaps cassandra.Snapshots, cl *remote.ESClient, ec *config.Elasticsearch) error {
	if len(snaps.Nodes) > 0 {
		if err := snaps.Clear(ctx, rc); err != nil {
			return fmt.Errorf("clear the snapshot %s left by the earlier run: %w", b.ID, err)
		}
	}
	if cl == nil {
		return nil
	}
	deleted, err := es.DeleteSnapshot(ctx, cl, ec.Repository, b.ID, "DELETE")
	if err != nil {
		return fmt.Errorf("delete the Elasticsearch snapshot %s left by the earlier run: %w", b.ID, err)
	}
	if deleted {
		rc.Output("", "deleted the Elasticsearch snapshot "+b.ID+" the earlier run left")
	}
	return nil
}

func oneNodeStep(env *steps.Env, b *BackupRun) steps.Step {
	return steps.Step{
		ID: "one-node", Title: "One node holds every row?", Kind: steps.KindCheck, Component: cassandra.Component,
		Why: "Copying one node instead of every node is safe only when the keyspace is replicated on every node (RF = node count) and every node is UN, as the runbook's cluster procedure assumes.",
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var rf, ring bool
			for _, c := range rc.Checks() {
				switch {
				case c.Check == "replication" && c.Status == steps.CheckPass:
					rf = true
				case c.Check == "ring state" && c.Status == steps.CheckPass:
					ring = true
				}
			}
			if !rf || !ring || len(rc.FailedChecks()) > 0 {
				return fmt.Errorf("--one-node needs preflight to prove RF = node count and every node UN (replication proven: %v, ring proven: %v): back up every node instead", rf, ring)
			}
			rc.Output("", fmt.Sprintf("RF = %d nodes and every node UN: backing up %s only", len(env.NodesWith(config.RoleCassandra)), b.snapshotNodes(env)[0]))
			return nil
		},
	}
}

func measureStep(env *steps.Env, b *BackupRun, du *steps.Sizes) steps.Step {
	return steps.Step{
		ID: "measure", Title: "Estimate the size and time of the backup, and the room in the repository", Kind: steps.KindCheck, Component: "repository",
		Why: "The operator sees how much will be copied, from where, into where and for how long, before approving; a repository too small for it stops the backup before anything is copied.",
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			// The keyspace's size on each node comes from the disk check's du,
			// the attachments' from the attachments check's.
			if ec := env.Inv.Elasticsearch; ec != nil {
				out = append(out, steps.PlannedCommand{Node: es.Node(env), Cmd: "GET " + ec.URL + "/_cat/indices?format=json&bytes=b&h=index,pri.store.size,store.size"})
			}
			if st := env.Inv.Storage; st != nil && st.Provider == config.StorageS3 && st.S3 != nil {
				out = append(out, steps.PlannedCommand{Node: appNode(env), Cmd: "S3: list s3://" + st.S3.Bucket + " (sizes)"})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			est, err := estimateBackup(ctx, rc, env, b, du)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.est = est
			b.mu.Unlock()
			est.Report(rc)
			// A repository too small for the estimate stops the backup here,
			// not hours into the copy.
			if sp, ok := b.Store.(repo.Spacer); ok {
				rc.Check(host.SpaceCheck(ctx, sp, b.Store.String(), est.Copied(), est.Text(), est.Problems))
			}
			return nil
		},
	}
}

func backupGate(env *steps.Env, b *BackupRun) steps.Step {
	var nodes []string
	for _, n := range env.Inv.Nodes {
		nodes = append(nodes, n.Name)
	}
	return steps.Step{
		ID: "approve", Title: "Start the backup", Kind: steps.KindGate, Component: steps.ComponentBackup,
		Gate: &steps.GateRequest{
			Happens: fmt.Sprintf("snapshot keyspace and index on every node under tag %s, stream every table and the attachments into %s, then clear the snapshots", b.ID, runbooks.Where(b.Store)),
			Nodes:   nodes, Rollback: "nothing to roll back: a backup only reads (snapshots are cleared even if it fails)",
		},
		// The question shows what the measure step found: the size per
		// component and node, and the time at the last backup's throughput.
		Refine: func(g *steps.GateRequest) {
			b.mu.Lock()
			est := b.est
			b.mu.Unlock()
			if est != nil {
				g.Happens += ". " + est.Text() + "; time: " + est.TimeText()
			}
		},
	}
}

func schemaStep(env *steps.Env, b *BackupRun) steps.Step {
	c := env.Inv.Cassandra
	return steps.Step{
		ID: "schema", Title: "Export the keyspace schema and the topology", Kind: steps.KindAction, Component: cassandra.Component,
		Why: "The restore recreates the keyspace from this schema (server-side DESCRIBE, so no cqlsh/Python 3.9 is needed) and compares topologies.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: env.NodesWith(config.RoleCassandra)[0], Cmd: "CQL: DESCRIBE KEYSPACE " + c.Keyspace + "; SELECT host_id, data_center, rack, tokens, release_version FROM system.local / system.peers_v2"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			q, err := cassandra.Open(env)
			if err != nil {
				return err
			}
			defer q.Close()
			schema, err := q.DescribeKeyspace(ctx, c.Keyspace)
			if err != nil {
				return fmt.Errorf("DESCRIBE KEYSPACE %s: %w", c.Keyspace, err)
			}
			hosts, err := q.Topology(ctx)
			if err != nil {
				return fmt.Errorf("read topology: %w", err)
			}
			byAddr := map[string]config.Node{}
			for _, n := range env.Inv.Nodes {
				byAddr[n.Host] = n
			}
			snapNodes := b.snapshotNodes(env)
			b.mu.Lock()
			defer b.mu.Unlock()
			b.manifest.Keyspace, b.manifest.Schema = c.Keyspace, schema
			for _, h := range hosts {
				n, ok := byAddr[h.Address]
				name := n.Name
				if !ok {
					name = h.Address
					b.manifest.Warnings = append(b.manifest.Warnings, "ring member "+h.Address+" is not in the inventory: its data is not in this backup")
				}
				b.manifest.Topology.Hosts = append(b.manifest.Topology.Hosts, repo.Host{Name: name, Address: h.Address, Roles: n.Roles, HostID: h.HostID, DC: h.DC, Rack: h.Rack})
				if slices.Contains(snapNodes, name) {
					b.manifest.Cassandra = append(b.manifest.Cassandra, repo.NodeArchive{Node: name, Host: h.Address, HostID: h.HostID, DC: h.DC, Rack: h.Rack, Tokens: h.Tokens})
				}
				if b.manifest.Topology.DC == "" {
					b.manifest.Topology.DC = h.DC
				}
				if h.Version != "" {
					b.manifest.Versions["cassandra"] = h.Version
				}
			}
			rc.Output("", fmt.Sprintf("schema of %s: %d bytes; %d ring members", c.Keyspace, len(schema), len(hosts)))
			return nil
		},
	}
}

func snapshotStep(env *steps.Env, b *BackupRun) steps.Step {
	snaps := b.snapshots(env)
	cnodes := snaps.Nodes
	ec := env.Inv.Elasticsearch
	var esStarted atomic.Bool // the ES snapshot was asked for and not refused
	return steps.Step{
		ID: "snapshot", Title: "Snapshot Cassandra on every node and Elasticsearch, together", Kind: steps.KindAction, Component: steps.ComponentBackup,
		Why: "\"Coordinate your Apache Cassandra, Elasticsearch, and file storage backups to run at the same time\": every snapshot starts behind one barrier, under one ID, and the start skew is recorded.",
		Plan: func() []steps.PlannedCommand {
			out := steps.PlanEach(cnodes, snaps.SnapshotCmd(), false)()
			if ec != nil {
				out = append(out, steps.PlannedCommand{Node: "elasticsearch", Cmd: fmt.Sprintf("PUT %s/_snapshot/%s/%s?wait_for_completion=false {\"indices\": %q, \"include_global_state\": false}", ec.URL, ec.Repository, b.ID, ec.Index+","+ec.AuditIndex)})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var cl *remote.ESClient
			var indices []string
			if ec != nil {
				var err error
				if cl, _, err = es.Open(env); err != nil {
					return err
				}
				defer cl.Close()
				indices = b.esIndices(ctx, cl, ec)
			}
			if b.Resume {
				if err := b.clearLeftovers(ctx, rc, snaps, cl, ec); err != nil {
					return err
				}
			}
			starts := make([]func() error, 0, len(cnodes)+1)
			for _, n := range cnodes {
				starts = append(starts, func() error {
					b.mark("cassandra:"+n, time.Now())
					return snaps.Take(ctx, rc, n)
				})
			}
			if cl != nil {
				starts = append(starts, func() error {
					b.mark("elasticsearch", time.Now())
					esStarted.Store(true)
					if err := es.StartSnapshot(ctx, cl, ec.Repository, b.ID, indices); err != nil {
						// Refused by Elasticsearch (a read-only repository, a
						// name taken): nothing was started, nothing to delete.
						var refused *parse.ESError
						esStarted.Store(!errors.As(err, &refused))
						return err
					}
					rc.Output("elasticsearch", fmt.Sprintf("snapshot %s of %s accepted", b.ID, strings.Join(indices, ", ")))
					return nil
				})
			}
			err := startTogether(starts)
			rc.Output("", fmt.Sprintf("snapshots started within %.1f ms of each other", b.recordStart(ec, indices)))
			return err
		},
		// Whoever starts a snapshot clears it: the Cassandra snapshots and
		// the Elasticsearch snapshot (finished or not, it is no backup
		// without its manifest), whichever step the run failed in.
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			err := snaps.Clear(ctx, rc)
			if ec != nil && esStarted.Load() {
				if _, derr := es.DeleteSnapshotOf(ctx, env, ec.Repository, b.ID, "delete the unfinished snapshot"); derr != nil {
					err = errors.Join(err, derr)
				}
			}
			return err
		},
	}
}

// esIndices are the indices the backup snapshots: the index, and the
// audit index when it exists (the documented script forgets it). The
// cluster's version goes into the manifest.
func (b *BackupRun) esIndices(ctx context.Context, cl *remote.ESClient, ec *config.Elasticsearch) []string {
	indices := []string{ec.Index}
	if ec.AuditIndex != "" && es.Exists(ctx, cl, ec.AuditIndex) {
		indices = append(indices, ec.AuditIndex)
	}
	if info, err := es.Info(ctx, cl); err == nil {
		b.mu.Lock()
		b.esInfo = info
		b.manifest.Versions[info.Distribution] = info.Version
		b.mu.Unlock()
	}
	return indices
}

// startTogether runs every start at once, behind one barrier, so that no
// snapshot starts before every goroutine is ready; it joins their errors.
func startTogether(starts []func() error) error {
	barrier := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, len(starts))
	for i, start := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-barrier
			errs[i] = start()
		}()
	}
	close(barrier)
	wg.Wait()
	return errors.Join(errs...)
}

// recordStart records in the manifest when the snapshots started and
// their skew (returned, in ms), and the Elasticsearch snapshot of indices
// (ec nil: none).
func (b *BackupRun) recordStart(ec *config.Elasticsearch, indices []string) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lo, hi time.Time
	for _, t := range b.started {
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	b.manifest.SkewMS = float64(hi.Sub(lo).Microseconds()) / 1000
	b.manifest.Started = lo
	if ec != nil {
		b.manifest.Elasticsearch = &repo.ESSnapshot{Repository: ec.Repository, Snapshot: b.ID, Indices: indices, Location: ec.RepositoryPath}
		if b.esInfo != nil {
			b.manifest.Elasticsearch.Version = b.esInfo.Version
		}
	}
	return b.manifest.SkewMS
}

// snapshots are the Cassandra snapshots the backup takes.
func (b *BackupRun) snapshots(env *steps.Env) cassandra.Snapshots {
	var ks string
	if env.Inv.Cassandra != nil {
		ks = env.Inv.Cassandra.Keyspace
	}
	return cassandra.Snapshots{Tag: b.ID, Keyspace: ks, Nodes: b.snapshotNodes(env)}
}

// snapshotNodes are the Cassandra nodes whose snapshots the backup takes:
// every node, or with OneNode one: the first that is not also the node of
// the attachments on disk (they stream at the same time, so the two go
// out over two nodes' links instead of sharing one), else the first.
func (b *BackupRun) snapshotNodes(env *steps.Env) []string {
	nodes := env.NodesWith(config.RoleCassandra)
	if !b.OneNode || len(nodes) <= 1 {
		return nodes
	}
	if st := env.Inv.Storage; st != nil && st.Provider != config.StorageS3 {
		filesNode, _ := files.Location(env)
		for _, n := range nodes {
			if n != filesNode {
				return []string{n}
			}
		}
	}
	return nodes[:1]
}

func (b *BackupRun) mark(what string, t time.Time) {
	b.mu.Lock()
	b.started[what] = t
	b.mu.Unlock()
}

// streamStep streams every node's snapshot into the repository and, with
// withFiles, the attachments on local disk or NFS at the same time: the
// attachments' node streams them while the tables stream, instead of after.
func streamStep(env *steps.Env, b *BackupRun, withFiles bool) steps.Step {
	snaps := b.snapshots(env)
	title := "Stream every node's snapshot into the repository"
	why := "Tar over SSH straight into the repository, hashed on the fly: no copy on the node's disk, nothing held whole in memory, all nodes at once."
	if withFiles {
		title = "Stream every node's snapshot and the attachments into the repository"
		why += " " + filesWhy + " They stream alongside the tables."
	}
	return steps.Step{
		ID: "stream", Title: title, Kind: steps.KindAction, Component: cassandra.Component,
		Why: why,
		Plan: func() []steps.PlannedCommand {
			out := snaps.StreamPlan(env, b.ID)
			if withFiles {
				out = append(out, b.filesPlan(env)...)
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			if withFiles {
				// The attachments stream while the tables are measured and
				// streamed; a failure of either stops the other.
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				filesDone := make(chan error, 1)
				go func() {
					err := b.backupFiles(ctx, rc, env, filesProgressKey)
					if err != nil {
						cancel()
					}
					filesDone <- err
				}()
				err := b.streamTables(ctx, rc, env, snaps, start)
				if err != nil {
					cancel()
				}
				ferr := <-filesDone
				if err != nil && (ferr == nil || errors.Is(ferr, context.Canceled)) {
					return err
				}
				if ferr != nil && (err == nil || errors.Is(err, context.Canceled)) {
					return ferr
				}
				return errors.Join(err, ferr)
			}
			return b.streamTables(ctx, rc, env, snaps, start)
		},
	}
}

// filesProgressKey names the attachments' progress when they stream in the
// same step as the tables (their node's name is taken by its tables).
const filesProgressKey = "attachments"

// streamTables streams every node's snapshot into the store, records each
// node's archives in the manifest as it finishes, and says how fast.
func (b *BackupRun) streamTables(ctx context.Context, rc *steps.RunContext, env *steps.Env, snaps cassandra.Snapshots, start time.Time) error {
	total, err := snaps.Stream(ctx, rc, env, b.Store, b.ID, func(n string, archives []repo.TableArchive) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i := range b.manifest.Cassandra {
			if b.manifest.Cassandra[i].Node == n {
				b.manifest.Cassandra[i].Tables = archives
				return
			}
		}
		host := n
		if node, ok := env.Inv.Node(n); ok {
			host = node.Host
		}
		b.manifest.Cassandra = append(b.manifest.Cassandra, repo.NodeArchive{Node: n, Host: host, Tables: archives})
	})
	b.timing("stream", time.Since(start))
	if err != nil {
		return err
	}
	rc.Output("", fmt.Sprintf("%s streamed from %d nodes in %s (%s/s)", steps.HumanBytes(total), len(snaps.Nodes), time.Since(start).Round(time.Millisecond),
		steps.HumanBytes(int64(float64(total)/time.Since(start).Seconds()))))
	return nil
}

func esWaitStep(env *steps.Env, b *BackupRun) steps.Step {
	ec := env.Inv.Elasticsearch
	return steps.Step{
		ID: "es-wait", Title: "Follow the Elasticsearch snapshot to SUCCESS", Kind: steps.KindAction, Component: es.Component,
		Why: "The documented script returns as soon as ES accepts the snapshot; a backup is only a backup once the snapshot is SUCCESS, so it is polled (never wait_for_completion=true) and FAILED or PARTIAL fails the run.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "elasticsearch", Cmd: fmt.Sprintf("GET /_snapshot/%s/%s (every %s at most) and /_snapshot/%s/%s/_status for progress", ec.Repository, b.ID, pollMax, ec.Repository, b.ID)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, _, err := es.Open(env)
			if err != nil {
				return err
			}
			defer cl.Close()
			progress := func(done, total int64) {
				rc.Progress("elasticsearch", done, total, "bytes")
				b.mu.Lock()
				b.manifest.Elasticsearch.SizeBytes = total
				b.mu.Unlock()
			}
			// The manifest takes what a SUCCESS snapshot says of itself,
			// also when failed shards make it no backup.
			record := func(s parse.SnapshotInfo) {
				if s.State != "SUCCESS" {
					return
				}
				b.mu.Lock()
				m := b.manifest.Elasticsearch
				m.UUID, m.State, m.Indices = s.UUID, s.State, s.Indices
				m.StartTime, m.EndTime = time.UnixMilli(s.StartTimeMillis).UTC(), time.UnixMilli(s.EndTimeMillis).UTC()
				m.Shards = repo.Shards{Total: s.Shards.Total, Failed: s.Shards.Failed, Successful: s.Shards.Successful}
				b.mu.Unlock()
			}
			s, err := es.FollowSnapshot(ctx, cl, ec.Repository, b.ID, pollMax, progress, record)
			if err != nil {
				return err
			}
			b.timing("elasticsearch", time.Since(start))
			rc.Output("elasticsearch", fmt.Sprintf("snapshot %s SUCCESS: %d shards, indices %s", b.ID, s.Shards.Successful, strings.Join(s.Indices, ", ")))
			return nil
		},
	}
}

func filesBackupStep(env *steps.Env, b *BackupRun) steps.Step {
	st := env.Inv.Storage
	if st.Provider == config.StorageS3 {
		return s3BackupStep(env, b)
	}
	return steps.Step{
		ID: "files", Title: "Archive the attachments", Kind: steps.KindAction, Component: files.Component,
		Why:  filesWhy,
		Plan: func() []steps.PlannedCommand { return b.filesPlan(env) },
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			node, _ := files.Location(env)
			return b.backupFiles(ctx, rc, env, node)
		},
	}
}

const filesWhy = "Attachments on local disk or NFS are archived as a tar stream from one node, keeping owners, modes and awkward names (the documented restore loses thehive:thehive ownership; this archive keeps it)."

// filesPlan is what archiving the attachments on local disk or NFS runs.
func (b *BackupRun) filesPlan(env *steps.Env) []steps.PlannedCommand {
	node, p := files.Location(env)
	return []steps.PlannedCommand{{Node: node, Cmd: files.TarCmd(p), Sudo: true, Note: "streamed into " + b.ID + "/" + repo.FilesArchive}}
}

// backupFiles streams the attachments on local disk or NFS into the store
// as one tar, reporting progress under progressKey.
func (b *BackupRun) backupFiles(ctx context.Context, rc *steps.RunContext, env *steps.Env, progressKey string) error {
	node, p := files.Location(env)
	start := time.Now()
	// The progress's total is what the measure step found; du only when it
	// could not measure the folder.
	b.mu.Lock()
	est := b.est
	b.mu.Unlock()
	var total int64
	if a := est.Part(partAttachments); a != nil && a.Where == node+":"+p {
		total = a.Bytes
	} else if n, err := files.Size(ctx, rc, node, p, nil); err == nil {
		total = n
	}
	ix, err := files.Archive(ctx, rc, node, p, b.Store, b.ID+"/"+repo.FilesArchive, func(x int64) { rc.Progress(progressKey, x, total, "bytes") })
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.manifest.Files = &repo.FileStore{Provider: repo.ProviderLocalFS, Path: p, Node: node, Archive: b.ID + "/" + repo.FilesArchive, Size: ix.Size, Digest: ix.Digest, Entries: ix.Files, Special: ix.Special}
	note := repo.SpecialNote(ix.Special)
	if note != "" {
		b.manifest.Warnings = append(b.manifest.Warnings, "attachments: "+note)
	}
	b.mu.Unlock()
	b.timing("files", time.Since(start))
	rc.Output(node, fmt.Sprintf("attachments: %d entries, %s", len(ix.Files), steps.HumanBytes(ix.Size)))
	if note != "" {
		rc.Output(node, "attachments: "+note)
	}
	return nil
}

func clearSnapshotStep(env *steps.Env, b *BackupRun) steps.Step {
	snaps := b.snapshots(env)
	return steps.Step{
		ID: "clearsnapshot", Title: "Clear the Cassandra snapshots", Kind: steps.KindAction, Component: cassandra.Component,
		Why:  "A snapshot holds every SSTable it links until it is cleared; once streamed it only costs disk.",
		Plan: steps.PlanEach(snaps.Nodes, snaps.ClearCmd(), false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			return snaps.Clear(ctx, rc)
		},
	}
}
