package es

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// DeleteIndices deletes each index; one that does not exist is no error.
// Several go in one request (DELETE /a,b,c: explicit names, never a
// wildcard); when one of them is missing Elasticsearch deletes none, and
// each is then deleted alone.
func DeleteIndices(ctx context.Context, cl *remote.ESClient, indices []string) error {
	if len(indices) > 1 {
		if deleted, err := del(ctx, cl, "delete the indices "+strings.Join(indices, ","), esapi.IndicesDeleteRequest{Index: indices}); err != nil || deleted {
			return err
		}
	}
	return deleteIndices(ctx, cl, "delete the index", indices)
}

// deleteIndices deletes each index by itself (DELETE /a,b deletes nothing
// when one of them is missing); what says why, in errors.
func deleteIndices(ctx context.Context, cl *remote.ESClient, what string, indices []string) error {
	for _, i := range indices {
		if _, err := del(ctx, cl, what+" "+i, esapi.IndicesDeleteRequest{Index: []string{i}}); err != nil {
			return err
		}
	}
	return nil
}

// Restore starts the restore of indices from snapshot name of repository
// (without the global state; wait_for_completion=false): FollowRecovery
// follows it.
func Restore(ctx context.Context, cl *remote.ESClient, repository, name string, indices []string) error {
	_, err := call(ctx, cl, "restore the Elasticsearch snapshot "+name, esapi.SnapshotRestoreRequest{
		Repository: repository, Snapshot: name, WaitForCompletion: esapi.BoolPtr(false), Body: withoutGlobalState(indices)})
	return err
}

// FollowRecovery polls GET /INDICES/_recovery (waits up to max between
// polls) until every shard is DONE, reporting the bytes recovered, for at
// most timeout (steps.DeadlineRecovery; 0: its default): a recovery still
// going then fails, naming the node it was followed through, the indices
// and how far it got. An index not there yet (404) is polled again; any
// other answer that is not a success ends it.
func FollowRecovery(ctx context.Context, cl *remote.ESClient, indices []string, max, timeout time.Duration, progress func(done, total int64)) error {
	const what = "follow the restore's recovery"
	if timeout <= 0 {
		timeout = steps.DeadlineRecovery.Default
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var done, total int64
	shards, pending := 0, 0
	err := steps.Poll(dctx, max, timeout, func() (bool, error) {
		resp, err := call(dctx, cl, what, esapi.IndicesRecoveryRequest{Index: indices}, http.StatusNotFound)
		if err != nil || resp.Status == http.StatusNotFound {
			return false, err
		}
		recs, err := parse.ParseRecovery(resp.Body)
		if err != nil {
			return false, resp.wrap(what, err)
		}
		var allDone bool
		done, total, allDone = recoveryProgress(recs)
		shards, pending = len(recs), 0
		for _, r := range recs {
			if !strings.EqualFold(r.Stage, "DONE") {
				pending++
			}
		}
		progress(done, total)
		return allDone && len(recs) > 0, nil
	})
	if err != nil && ctx.Err() == nil && (errors.Is(err, steps.ErrPollTimeout) || errors.Is(dctx.Err(), context.DeadlineExceeded)) {
		return steps.DeadlineRecovery.Passed(cl.Node(), fmt.Sprintf("Elasticsearch's recovery of %s (%d of %d shards not DONE, %s of %s recovered; GET _cat/recovery?active_only=true shows it)",
			strings.Join(indices, ", "), pending, shards, steps.HumanBytes(done), steps.HumanBytes(total)), timeout)
	}
	return err
}

func recoveryProgress(recs []parse.ShardRecovery) (done, total int64, allDone bool) {
	allDone = true
	for _, r := range recs {
		if r.TotalBytes > 0 {
			done += max(r.RecoveredBytes, 0)
			total += r.TotalBytes
		}
		if !strings.EqualFold(r.Stage, "DONE") {
			allDone = false
		}
	}
	return done, total, allDone
}

// Count returns the documents of index (GET /index/_count).
func Count(ctx context.Context, cl *remote.ESClient, index string) (int64, error) {
	return read(ctx, cl, "count the documents of "+index, esapi.CountRequest{Index: []string{index}}, parse.ParseCount)
}

// Counts returns each index's documents (GET /index/_count), a few
// indices at a time.
func Counts(ctx context.Context, cl *remote.ESClient, indices []string) (map[string]int64, error) {
	const parallel = 8
	counts := make([]int64, len(indices))
	sem := make(chan struct{}, parallel)
	err := steps.Parallel(indices, func(i int, ix string) error {
		sem <- struct{}{}
		defer func() { <-sem }()
		n, err := Count(ctx, cl, ix)
		counts[i] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(indices))
	for i, ix := range indices {
		out[ix] = counts[i]
	}
	return out, nil
}

// CancelRestore cancels a restore still recovering the way Elasticsearch
// documents it: by deleting the indices being restored.
func CancelRestore(ctx context.Context, cl *remote.ESClient, indices []string) error {
	return deleteIndices(ctx, cl, "cancel the Elasticsearch restore: delete the index", indices)
}

// VersionCompat is the check that a snapshot taken by version backup
// restores into the cluster: the same or a newer version, never an older
// one.
func VersionCompat(ctx context.Context, env *steps.Env, backup string) steps.CheckResult {
	cl, node, err := Open(env)
	if err != nil {
		return steps.CheckResult{Check: "es version", Status: steps.CheckFail, Evidence: err.Error()}
	}
	defer cl.Close()
	info, err := Info(ctx, cl)
	if err != nil {
		return steps.CheckResult{Check: "es version", Node: node, Status: steps.CheckFail, Evidence: err.Error()}
	}
	if backup != "" && versionLess(info.Version, backup) {
		return steps.CheckResult{Check: "es version", Node: node, Status: steps.CheckFail,
			Evidence: fmt.Sprintf("the snapshot was taken by %s, the cluster runs %s", backup, info.Version),
			Remedy:   "Elasticsearch cannot restore a snapshot into an older version: upgrade the cluster first"}
	}
	return steps.CheckResult{Check: "es version", Node: node, Status: steps.CheckPass, Evidence: fmt.Sprintf("snapshot from %s restores into %s", backup, info.Version)}
}

// versionLess compares dotted versions numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(strings.SplitN(pa[i], "-", 2)[0])
		y, _ := strconv.Atoi(strings.SplitN(pb[i], "-", 2)[0])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// IndexSize is the primary store size of the indices that exist among
// names (from _cat/indices), and which they are; none existing is an
// error naming the first.
func IndexSize(ctx context.Context, env *steps.Env, names ...string) (int64, []string, error) {
	cl, node, err := Open(env)
	if err != nil {
		return 0, nil, err
	}
	defer cl.Close()
	sizes, err := read(ctx, cl, "read the indices' sizes", esapi.CatIndicesRequest{Format: "json", Bytes: "b", H: []string{"index", "pri.store.size", "store.size"}}, parse.ParseCatPrimaryStore)
	if err != nil {
		return 0, nil, err
	}
	var total int64
	var found []string
	for _, idx := range names {
		if n, ok := sizes[idx]; ok && idx != "" {
			total += n
			found = append(found, idx)
		}
	}
	if len(found) == 0 {
		return 0, nil, fmt.Errorf("%s: index %s not found: check elasticsearch.index", node, names[0])
	}
	return total, found, nil
}
