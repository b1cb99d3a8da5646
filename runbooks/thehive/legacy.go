package thehive

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
)

// LegacyRestore is what a restore of a backup made by TheHive's documented
// scripts adds to a RestoreRun: the backup as read, and the store its
// archives are in (RestoreRun.Store is the per-table view of it).
type LegacyRestore struct {
	// Backup is the documented backup, read and checked by repo.ReadLegacy.
	Backup *repo.Legacy
	// Source is the store holding its archives (the backup root).
	Source repo.Store
	// ESFolder is the absolute path of the folder that held the .info
	// marker, when it is known on the nodes ("" otherwise): the ES fs
	// repository whose location it is holds the snapshot.
	ESFolder string
	// ESLookup is why es.FindSnapshot did not find the snapshot (nil
	// when it did): verification fails with it, before anything changes.
	ESLookup error
}

// LegacyTargetFor is what the inventory tells repo.Legacy.Restore: the
// platform and cluster, the attachment folder and its node (or the S3
// bucket), and the owner attachments get back.
func LegacyTargetFor(env *steps.Env) repo.LegacyTarget {
	inv := env.Inv
	t := repo.LegacyTarget{Platform: inv.Platform, Cluster: inv.Cluster, Owner: LegacyOwner(inv)}
	if st := inv.Storage; st != nil {
		if st.Provider == config.StorageS3 && st.S3 != nil {
			t.Bucket = st.S3.Bucket
		} else {
			t.FilesNode, t.FilesPath = files.Location(env)
		}
	}
	return t
}

// LegacyListing describes what was found, one line each: the set's
// archives with their sizes, the schema, the ES snapshot and its state, the
// attachments, and the notes on how the set was put together.
func LegacyListing(l *repo.Legacy, es *repo.ESSnapshot) []string {
	set := l.Set
	var out []string
	out = append(out, fmt.Sprintf("backup made by the documented scripts, %s (taken %s, local time of the node that ran them), in %s",
		set.Stamp, set.Cassandra.Time.Format("2006-01-02 15:04:05"), set.Root))
	var files int
	var bytes int64
	for _, t := range l.Tables {
		files += len(t.Files)
		bytes += t.Bytes
	}
	out = append(out, fmt.Sprintf("  cassandra      %s (%s): keyspace %s, %d tables, %d SSTable files (%s), one node's snapshot",
		set.Cassandra.Path, steps.HumanBytes(set.Cassandra.Size), l.Keyspace, len(l.Tables), files, steps.HumanBytes(bytes)))
	out = append(out, fmt.Sprintf("  schema         %s", l.SchemaFrom))
	switch {
	case l.ESSnapshot == "":
		out = append(out, "  elasticsearch  no elasticsearch_*.info marker in this set")
	case es == nil || es.State == "":
		out = append(out, fmt.Sprintf("  elasticsearch  snapshot %s (marker %s): not found in the cluster's repositories", l.ESSnapshot, set.Elasticsearch.Path))
	default:
		out = append(out, fmt.Sprintf("  elasticsearch  snapshot %s in repository %s: %s, %d/%d shards, indices %s",
			es.Snapshot, es.Repository, es.State, es.Shards.Successful, es.Shards.Total, strings.Join(es.Indices, ", ")))
	}
	if a := l.Files; a != nil {
		out = append(out, fmt.Sprintf("  attachments    %s (%s): %d entries, %s", a.Item.Path, steps.HumanBytes(a.Item.Size), len(a.Entries), steps.HumanBytes(a.Bytes)))
	} else {
		out = append(out, "  attachments    no storage/files_*.tar in this set")
	}
	if a := l.Mirror; a != nil {
		out = append(out, fmt.Sprintf("  s3 mirror      %s (%s): %d objects, %s", a.Item.Path, steps.HumanBytes(a.Item.Size), len(a.Entries), steps.HumanBytes(a.Bytes)))
	}
	for _, n := range set.Notes {
		out = append(out, "  note: "+n)
	}
	return out
}

// verifyLegacy is the verify-backup step for a documented backup: list
// what was found, read every archive whole (the layout has no hashes, so
// readable and complete is all that can be proven), check the components
// the inventory needs are there, the schema's replication, and the ES
// snapshot SUCCESS and restorable into this version.
func verifyLegacy(ctx context.Context, rc *steps.RunContext, env *steps.Env, r *RestoreRun) error {
	lg := r.Legacy
	l, m := lg.Backup, r.Manifest
	for _, line := range LegacyListing(l, m.Elasticsearch) {
		rc.Output("", line)
	}
	inv := env.Inv
	need := func(ok bool, check, missing, remedy string) {
		if !ok {
			rc.Check(steps.CheckResult{Check: check, Node: "repository", Status: steps.CheckFail, Evidence: missing, Remedy: remedy})
		}
	}
	other := "choose another set with --at (" + strings.Join(append([]string{l.Set.Stamp}, l.Set.Others...), ", ") + ")"
	if inv.Elasticsearch != nil {
		need(l.ESSnapshot != "", "backup elasticsearch", "no elasticsearch_*.info within "+repo.LegacyPairWindow.String()+" of "+l.Set.Cassandra.Name()+": the index cannot be restored from this set", other)
	}
	if st := inv.Storage; st != nil {
		if st.Provider == config.StorageS3 {
			need(l.Mirror != nil, "backup attachments", "no seaweedfs_*.tar or minio_*.tar in this set, and the attachments are in S3", other)
		} else {
			need(l.Files != nil, "backup attachments", "no storage/files_*.tar in this set: the attachments cannot be restored", other)
		}
	}
	results, probs, err := repo.VerifyLegacy(ctx, lg.Source, l, func(done, total int64) { rc.Progress("repository", done, total, "bytes") })
	if err != nil {
		return fmt.Errorf("read the documented backup %s: %w", l.Set.Stamp, err)
	}
	for _, p := range probs {
		rc.Check(steps.CheckResult{Check: "backup files", Node: "repository", Status: steps.CheckFail, Evidence: p.String(),
			Remedy: "this archive is damaged: restore a good copy of it, or " + other})
	}
	for _, res := range results {
		rc.Output("repository", fmt.Sprintf("%s: read whole, %d entries, %s, sha256 %s", res.Path, res.Entries, steps.HumanBytes(res.Size), res.SHA256))
	}
	if len(probs) == 0 {
		rc.Check(steps.CheckResult{Check: "backup files", Node: "repository", Status: steps.CheckPass,
			Evidence: fmt.Sprintf("%d archives read whole: complete, every entry readable; the schema creates keyspace %s and its %d tables", len(results), l.Keyspace, len(l.Tables))})
	}
	rc.Check(steps.CheckResult{Check: "backup hashes", Node: "repository", Status: steps.CheckWarn,
		Evidence: "the documented layout records no hashes, owners or host IDs: the contents cannot be checked against the time of the backup (compare the sha256 above with a copy kept elsewhere)",
		Remedy:   "nothing to do; hotsnap's own backups (hotsnap backup) record all three"})
	if n := len(env.NodesWith(config.RoleCassandra)); n > 0 {
		rf := cassandra.SchemaReplication(l.Schema)
		if rf < n {
			rc.Check(steps.CheckResult{Check: "backup replication", Status: steps.CheckWarn,
				Evidence: fmt.Sprintf("the archive is one node's snapshot and the schema's replication factor is %d for %d nodes now: it holds every row only if that node held them all (the runbook's step 5: RF = node count, repair before the backup)", rf, n),
				Remedy:   "if the cluster had more nodes than the replication factor at backup time, rows owned by other nodes are not in this backup"})
		} else {
			rc.Check(steps.CheckResult{Check: "backup replication", Status: steps.CheckPass, Evidence: fmt.Sprintf("replication factor %d: the one node's snapshot holds every row", rf)})
		}
	}
	if m.Files != nil && m.Files.Provider == repo.ProviderLocalFS && inv.Storage != nil {
		rc.Output("", "attachments: the documented archive records no owners (cp -r as root): they get "+LegacyOwner(inv)+" (storage.owner); modes are the archive's; the attachment folder keeps its own")
	}
	if m.Elasticsearch != nil && inv.Elasticsearch != nil {
		p := ""
		if lg.ESLookup != nil {
			p = lg.ESLookup.Error()
		} else {
			p = es.CheckSnapshot(ctx, env, m.Elasticsearch)
		}
		if p != "" {
			rc.Check(steps.CheckResult{Check: "es snapshot", Status: steps.CheckFail, Evidence: m.Elasticsearch.Snapshot + ": " + p,
				Remedy: "register the folder that holds elasticsearch_*.info as an fs snapshot repository (path.repo on every ES node), or " + other})
		} else {
			rc.Check(steps.CheckResult{Check: "es snapshot", Status: steps.CheckPass, Evidence: fmt.Sprintf("%s in %s is SUCCESS", m.Elasticsearch.Snapshot, m.Elasticsearch.Repository)})
		}
		rc.Check(es.VersionCompat(ctx, env, m.Elasticsearch.Version))
	}
	return nil
}

// LegacyDefaultOwner is the attachments' owner when storage.owner is not
// set: the one the runbook's install asks for.
const LegacyDefaultOwner = "thehive:thehive"

// LegacyOwner returns the user:group the attachments of a documented
// backup are restored with: storage.owner, else thehive:thehive.
func LegacyOwner(inv *config.Inventory) string {
	if inv.Storage != nil && inv.Storage.Owner != "" {
		return inv.Storage.Owner
	}
	return LegacyDefaultOwner
}

// documentedRestore is the restore of a backup made by TheHive's
// documented scripts. The layout has no manifest: what the restore is made
// of (the keyspace, its tables, the attachments, the ES snapshot) is in the
// archives' headers. So its runbook starts with one step, read-backup,
// which scans them (with progress) and checks what the layout lets be
// checked, finds the Elasticsearch snapshot, and then makes the restore's
// steps from what it found (steps.Step.Then); they run in the same run,
// journaled and timed with it.
type documentedRestore struct {
	env *steps.Env
	req runbooks.DocumentedRequest
	set *repo.LegacySet
	// r is the restore made by read-backup (nil before), digest its
	// manifest's digest as read (runbooks.ManifestDigest).
	r      *restore
	digest string
}

func (d *documentedRestore) Runbook() steps.Runbook {
	return steps.Runbook{Name: "restore", Cluster: d.env.Inv.Cluster, Resumable: true, Exclusive: true, Resume: d.req.Prior,
		Params: map[string]string{runbooks.ParamDocumentedPath: d.req.Path, runbooks.ParamDocumentedAt: d.set.Stamp, runbooks.ParamBackup: d.set.ID()},
		Steps:  []steps.Step{d.readStep()}}
}

// Manifest is nil until read-backup has read the backup.
func (d *documentedRestore) Manifest() *repo.Manifest {
	if d.r == nil {
		return nil
	}
	return d.r.Manifest()
}

func (d *documentedRestore) Choices() map[string]string {
	return (&restore{r: &RestoreRun{S3Exact: d.req.S3Exact, SetRF: d.req.SetRF}}).Choices()
}

func (d *documentedRestore) LoadedWith() string {
	if d.r == nil {
		return ""
	}
	return d.r.LoadedWith()
}

func (d *documentedRestore) Report() []string {
	if d.r == nil {
		return nil
	}
	return d.r.Report()
}

// readStep scans the archives' headers and makes the restore from them.
func (d *documentedRestore) readStep() steps.Step {
	set := d.set
	return steps.Step{
		ID: "read-backup", Title: "Read the documented backup's archives", Kind: steps.KindCheck, Component: steps.ComponentBackup,
		Why: "The documented layout has no manifest: the keyspace, its schema, every table's files and the attachments are read from the archives' tar headers (their contents skipped) where they lie; the restore's steps are made from what is found.",
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			for _, it := range set.Scanned() {
				size := ""
				if it.Size > 0 {
					size = " (" + steps.HumanBytes(it.Size) + ")"
				}
				out = append(out, steps.PlannedCommand{Node: "repository", Cmd: fmt.Sprintf("read the tar headers of %s%s in %s", it.Path, size, d.req.Path),
					Note: "ranged reads from header to header, the contents skipped; progress in bytes of the archives"})
			}
			if it := set.Elasticsearch; it != nil && d.env.Inv.Elasticsearch != nil {
				out = append(out, steps.PlannedCommand{Node: "elasticsearch", Cmd: "GET _snapshot, then GET _snapshot/<repository>/" + strings.TrimSuffix(it.Name(), ".info") + " in each until found",
					Note: "the fs repository whose location is the marker's folder first"})
			}
			return out
		},
		Run:  d.read,
		Then: d.then,
	}
}

// read is read-backup: scan, check, find the snapshot, make the restore.
func (d *documentedRestore) read(ctx context.Context, rc *steps.RunContext) error {
	env, req, set := d.env, d.req, d.set
	src := req.Source
	for _, it := range set.Scanned() {
		rc.Output("repository", fmt.Sprintf("%s (%s): reading its headers in %s", it.Path, steps.HumanBytes(it.Size), src))
	}
	l, err := repo.ReadLegacy(ctx, src, set, func(done, total int64) { rc.Progress("repository", done, total, "bytes") })
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the documented backup %s in %s cannot be restored, nothing was changed: %w:\n%w", set.Stamp, src, repo.ErrBackupDamaged, err)
	}
	l.Source = req.Path
	var files int
	for _, t := range l.Tables {
		files += len(t.Files)
	}
	line := fmt.Sprintf("keyspace %s: %d tables, %d SSTable files", l.Keyspace, len(l.Tables), files)
	if l.Files != nil {
		line += fmt.Sprintf("; attachments: %d entries", len(l.Files.Entries))
	}
	if l.Mirror != nil {
		line += fmt.Sprintf("; S3 mirror: %d objects", len(l.Mirror.Entries))
	}
	rc.Output("repository", line)
	m, vs, err := l.Restore(src, LegacyTargetFor(env))
	if err != nil {
		return fmt.Errorf("documented backup %s: %w", set.Stamp, err)
	}
	lr := &LegacyRestore{Backup: l, Source: src}
	if req.NodeDir != "" {
		lr.ESFolder = path.Join(req.NodeDir, l.ESFolder)
	}
	if l.ESSnapshot != "" && env.Inv.Elasticsearch != nil {
		snap, err := es.FindSnapshot(ctx, env, l.ESSnapshot, lr.ESFolder)
		if err != nil {
			// The verify step reports it as a failed check, before anything changes.
			lr.ESLookup = err
			snap = &repo.ESSnapshot{Repository: env.Inv.Elasticsearch.Repository, Snapshot: l.ESSnapshot, Indices: []string{env.Inv.Elasticsearch.Index}}
		}
		m.Elasticsearch = snap
	}
	d.digest = runbooks.ManifestDigest(m)
	if p := req.Prior; p != nil {
		if was := p.Params[runbooks.ParamManifest]; was != "" && was != d.digest {
			return fmt.Errorf("the documented backup %s in %s changed since run %s (its archives or its snapshot are not what they were then): refusing to continue; start a new restore", set.Stamp, src, p.RunID)
		}
	}
	d.r = newRestore(env, &RestoreRun{Store: vs, Manifest: m, S3Exact: req.S3Exact, SetRF: req.SetRF, Legacy: lr}, req.Prior)
	return nil
}

// then is the restore's steps, made by read, and what identifies the
// backup read for a resume (its manifest's digest as read, before the run
// changes the manifest).
func (d *documentedRestore) then() ([]steps.Step, map[string]string) {
	rb := d.r.Runbook()
	params := map[string]string{runbooks.ParamManifest: d.digest}
	for k, v := range rb.Params {
		params[k] = v
	}
	return rb.Steps, params
}
