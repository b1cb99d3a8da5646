package thehive

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
)

// Names of the parts of TheHive's estimate.
const (
	partCassandra   = "Cassandra"
	partAttachments = "attachments"
	partES          = "Elasticsearch"
)

// EstimateBackup measures, on the nodes, what the backup b would copy: the
// keyspace's data directory on every node b snapshots (the same du the
// backup's "measure" step runs), the primary store size of the indices, the
// attachments; and takes the throughput of the newest complete backup in
// b.Store. It changes nothing. A part that cannot be measured is named in
// Problems; the error is only for a cancelled ctx.
func EstimateBackup(ctx context.Context, env *steps.Env, b *BackupRun) (*steps.Estimate, error) {
	return estimateBackup(ctx, steps.Detached(env.Exec, "estimate"), env, b, nil)
}

// estimateBackup is EstimateBackup with its commands run through rc (the
// backup's "measure" step journals them), and the sizes the checks beside
// it promised in du taken from there.
func estimateBackup(ctx context.Context, rc *steps.RunContext, env *steps.Env, b *BackupRun, du *steps.Sizes) (*steps.Estimate, error) {
	est := &steps.Estimate{}
	// The parts measured, in the order the text names them.
	var cass, att, search *steps.EstimatePart
	// Each part fills its own fields of est and returns what it could not
	// measure; the parts run at once.
	var parts []func() []string
	if env.Inv.Cassandra != nil {
		parts = append(parts, func() (problems []string) {
			sizes, errs := cassandra.KeyspaceSizes(ctx, rc, env, b.snapshotNodes(env), du)
			if len(sizes) > 0 {
				cass = &steps.EstimatePart{Name: partCassandra, Nodes: sizes}
			}
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
			search = &steps.EstimatePart{Name: partES, Bytes: size, Where: strings.Join(idx, ", "), Into: "its own snapshot repository"}
			return nil
		})
	}
	if env.Inv.Storage != nil {
		parts = append(parts, func() []string {
			size, at, err := attachmentsSize(ctx, rc, env, du)
			if err != nil {
				return []string{fmt.Sprintf("attachments: cannot measure them: %v", err)}
			}
			att = &steps.EstimatePart{Name: partAttachments, Bytes: size, Where: at}
			return nil
		})
	}
	if b.Store != nil {
		parts = append(parts, func() []string {
			id, rate, err := repo.LastThroughput(ctx, b.Store)
			if err != nil {
				return []string{fmt.Sprintf("repository: cannot read the earlier backups: %v", err)}
			}
			est.RateFrom, est.Rate = id, rate
			return nil
		})
	}
	est.Problems = steps.Measure(parts...)
	for _, p := range []*steps.EstimatePart{cass, att} {
		if p != nil {
			est.Parts = append(est.Parts, *p)
		}
	}
	if search != nil {
		est.Elsewhere = append(est.Elsewhere, *search)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("estimate the backup: %w", err)
	}
	return est, nil
}

// attachmentsSize is the size of the local attachment folder (du on the
// files node, or from the attachments check beside the step, through from) or
// of every object in the S3 bucket, and where that is.
func attachmentsSize(ctx context.Context, rc *steps.RunContext, env *steps.Env, from *steps.Sizes) (int64, string, error) {
	st := env.Inv.Storage
	if st.Provider == config.StorageS3 {
		if st.S3 == nil {
			return 0, "", fmt.Errorf("storage.provider is s3 but storage.s3 is not set")
		}
		n, err := files.BucketSize(ctx, env, appNode(env))
		return n, "s3://" + st.S3.Bucket, err
	}
	n, p := files.Location(env)
	size, err := files.Size(ctx, rc, n, p, from)
	if err != nil {
		return 0, "", err
	}
	return size, n + ":" + p, nil
}
