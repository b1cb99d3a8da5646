package thehive

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
)

// Estimate is what a backup is expected to copy, measured on the nodes
// before it starts, and how long that should take at the throughput of the
// newest complete backup in the repository.
type Estimate struct {
	// Cassandra maps a node to the bytes of the keyspace's data directory
	// there (du -sb), for every node the backup snapshots.
	Cassandra map[string]int64
	// Elasticsearch is the primary store size of the indices the backup
	// snapshots (they go into Elasticsearch's own snapshot repository).
	Elasticsearch int64
	// ESIndices are the indices measured.
	ESIndices []string
	// Attachments is the size of the attachment folder or S3 bucket, and
	// AttachmentsAt where it was measured ("node3:/opt/thp/thehive/files",
	// "s3://bucket"; "" when not measured).
	Attachments   int64
	AttachmentsAt string
	// Problems says what could not be measured, naming the node or
	// component and what to do; the sizes above leave it out.
	Problems []string

	// Rate is the throughput (bytes copied per second) of the newest
	// complete backup in the repository, 0 when there is none.
	Rate float64
	// RateFrom is the ID of that backup.
	RateFrom string
}

// CassandraTotal is the sum over the nodes.
func (e *Estimate) CassandraTotal() int64 {
	var n int64
	for _, b := range e.Cassandra {
		n += b
	}
	return n
}

// Copied is what hotsnap itself will stream into the repository: the
// Cassandra data and the attachments (the Elasticsearch snapshot is written
// by Elasticsearch into its own repository, at the same time).
func (e *Estimate) Copied() int64 { return e.CassandraTotal() + e.Attachments }

// Duration is the expected time of the copy at Rate, 0 when no earlier
// backup gives a rate.
func (e *Estimate) Duration() time.Duration {
	if e.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(e.Copied()) / e.Rate * float64(time.Second)).Round(time.Second)
}

// Text says what will be copied, per component and per node: "593 MiB to
// copy: Cassandra 560 MiB (node1 187 MiB · …), attachments 33 MiB (node1:/…);
// Elasticsearch 50 MiB (thehive_global) goes into its own snapshot
// repository".
func (e *Estimate) Text() string {
	var parts []string
	if len(e.Cassandra) > 0 {
		nodes := slices.Sorted(maps.Keys(e.Cassandra))
		per := make([]string, len(nodes))
		for i, n := range nodes {
			per[i] = n + " " + steps.HumanBytes(e.Cassandra[n])
		}
		parts = append(parts, fmt.Sprintf("Cassandra %s (%s)", steps.HumanBytes(e.CassandraTotal()), strings.Join(per, " · ")))
	}
	if e.AttachmentsAt != "" {
		parts = append(parts, fmt.Sprintf("attachments %s (%s)", steps.HumanBytes(e.Attachments), e.AttachmentsAt))
	}
	text := fmt.Sprintf("%s to copy: %s", steps.HumanBytes(e.Copied()), strings.Join(parts, ", "))
	if len(e.ESIndices) > 0 {
		text += fmt.Sprintf("; Elasticsearch %s (%s) goes into its own snapshot repository", steps.HumanBytes(e.Elasticsearch), strings.Join(e.ESIndices, ", "))
	}
	return text
}

// TimeText says how long the copy should take and from which backup's
// throughput, or NoEarlierBackup.
func (e *Estimate) TimeText() string {
	switch d := e.Duration(); {
	case d > 0:
		return fmt.Sprintf("about %s at %s/s, the throughput of backup %s", d, steps.HumanBytes(int64(e.Rate)), e.RateFrom)
	case e.Rate > 0:
		return fmt.Sprintf("under a second at %s/s, the throughput of backup %s", steps.HumanBytes(int64(e.Rate)), e.RateFrom)
	}
	return NoEarlierBackup
}

// NoEarlierBackup is what the plan says instead of a time when the
// repository holds no complete backup to take a throughput from.
const NoEarlierBackup = "no earlier backup to estimate time from"

// EstimateBackup measures, on the nodes, what the backup b would copy: the
// keyspace's data directory on every node b snapshots (the same du the
// backup's "measure" step runs), the primary store size of the indices, the
// attachments; and takes the throughput of the newest complete backup in
// b.Store. It changes nothing. A part that cannot be measured is named in
// Problems; the error is only for a cancelled ctx.
func EstimateBackup(ctx context.Context, env *steps.Env, b *BackupRun) (*Estimate, error) {
	return estimateBackup(ctx, steps.Detached(env.Exec, "estimate"), env, b)
}

// estimateBackup is EstimateBackup with its commands run through rc (the
// backup's "measure" step journals them).
func estimateBackup(ctx context.Context, rc *steps.RunContext, env *steps.Env, b *BackupRun) (*Estimate, error) {
	est := &Estimate{Cassandra: map[string]int64{}}
	// Each part fills its own fields of est and returns what it could not
	// measure; the parts run at once.
	var parts []func() []string
	if env.Inv.Cassandra != nil {
		parts = append(parts, func() (problems []string) {
			sizes, errs := cassandra.KeyspaceSizes(ctx, rc, env, b.snapshotNodes(env))
			est.Cassandra = sizes
			for _, n := range slices.Sorted(maps.Keys(errs)) {
				problems = append(problems, fmt.Sprintf("%s: cannot measure the keyspace (%v): check cassandra.data_dir / nodes[].paths.cassandra_data", n, errs[n]))
			}
			return problems
		})
	}
	if env.Inv.Elasticsearch != nil {
		parts = append(parts, func() []string {
			size, idx, err := es.IndexSize(ctx, env, env.Inv.Elasticsearch.Index, env.Inv.Elasticsearch.AuditIndex)
			if err != nil {
				return []string{fmt.Sprintf("elasticsearch: cannot measure the indices: %v", err)}
			}
			est.Elasticsearch, est.ESIndices = size, idx
			return nil
		})
	}
	if env.Inv.Storage != nil {
		parts = append(parts, func() []string {
			size, at, err := attachmentsSize(ctx, rc, env)
			if err != nil {
				return []string{fmt.Sprintf("attachments: cannot measure them: %v", err)}
			}
			est.Attachments, est.AttachmentsAt = size, at
			return nil
		})
	}
	if b.Store != nil {
		parts = append(parts, func() []string {
			id, rate, err := lastThroughput(ctx, b.Store)
			if err != nil {
				return []string{fmt.Sprintf("repository: cannot read the earlier backups: %v", err)}
			}
			est.RateFrom, est.Rate = id, rate
			return nil
		})
	}
	problems := make([][]string, len(parts))
	steps.Parallel(parts, func(i int, part func() []string) error { //nolint:errcheck // kept per part in problems
		problems[i] = part()
		return nil
	})
	for _, p := range problems {
		est.Problems = append(est.Problems, p...)
	}
	sort.Strings(est.Problems)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("estimate the backup: %w", err)
	}
	return est, nil
}

// attachmentsSize is the size of the local attachment folder (du on the
// files node) or of every object in the S3 bucket, and where that is.
func attachmentsSize(ctx context.Context, rc *steps.RunContext, env *steps.Env) (int64, string, error) {
	st := env.Inv.Storage
	if st.Provider == config.StorageS3 {
		if st.S3 == nil {
			return 0, "", fmt.Errorf("storage.provider is s3 but storage.s3 is not set")
		}
		n, err := files.BucketSize(ctx, env, appNode(env))
		return n, "s3://" + st.S3.Bucket, err
	}
	n, p := files.Location(env)
	size, err := files.Size(ctx, rc, n, p)
	if err != nil {
		return 0, "", err
	}
	return size, n + ":" + p, nil
}

// lastThroughput is the ID and throughput (bytes per second, from its
// manifest: bytes stored over the time from the snapshots to the manifest)
// of the newest complete backup in store; "" and 0 when there is none.
func lastThroughput(ctx context.Context, store repo.Store) (string, float64, error) {
	sums, err := repo.List(ctx, store)
	if err != nil {
		return "", 0, err
	}
	for _, s := range sums { // newest first
		if !s.Complete {
			continue
		}
		m, err := repo.ReadManifest(ctx, store, s.ID)
		if err != nil {
			return "", 0, err
		}
		d := m.Finished.Sub(m.Started).Seconds()
		if d <= 0 || m.Size() <= 0 {
			return "", 0, nil
		}
		return m.ID, float64(m.Size()) / d, nil
	}
	return "", 0, nil
}
