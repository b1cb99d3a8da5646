package es

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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
		r, err := cl.Do(ctx, http.MethodDelete, "/"+strings.Join(indices, ","), nil)
		switch {
		case err != nil:
			return err
		case r.Status == http.StatusOK:
			return nil
		case r.Status != http.StatusNotFound:
			return HTTPError("delete indices "+strings.Join(indices, ","), r)
		}
	}
	for _, i := range indices {
		if _, err := del(ctx, cl, "/"+i, "delete index "+i); err != nil {
			return err
		}
	}
	return nil
}

// Restore starts the restore of indices from snapshot name of repository
// (without the global state; wait_for_completion=false): FollowRecovery
// follows it.
func Restore(ctx context.Context, cl *remote.ESClient, repository, name string, indices []string) error {
	resp, err := cl.Do(ctx, http.MethodPost, snapshotPath(repository, name)+"/_restore?wait_for_completion=false",
		map[string]any{"indices": strings.Join(indices, ","), "include_global_state": false})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return HTTPError("restore the snapshot", resp)
	}
	return nil
}

// FollowRecovery polls GET /INDICES/_recovery (waits up to max between
// polls) until every shard is DONE, reporting the bytes recovered.
func FollowRecovery(ctx context.Context, cl *remote.ESClient, indices []string, max time.Duration, progress func(done, total int64)) error {
	idx := strings.Join(indices, ",")
	return steps.Poll(ctx, max, 0, func() (bool, error) {
		resp, err := cl.Do(ctx, http.MethodGet, "/"+idx+"/_recovery", nil)
		if err != nil || resp.Status != http.StatusOK {
			return false, err
		}
		recs, err := parse.ParseRecovery(resp.Body)
		if err != nil {
			return false, err
		}
		done, total, allDone := recoveryProgress(recs)
		progress(done, total)
		return allDone && len(recs) > 0, nil
	})
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
	resp, err := cl.Do(ctx, http.MethodGet, "/"+index+"/_count", nil)
	if err != nil {
		return 0, err
	}
	n, err := parse.ParseCount(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", index, err)
	}
	return n, nil
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
	idx := strings.Join(indices, ",")
	resp, err := cl.Do(ctx, http.MethodDelete, "/"+idx, nil)
	if err != nil {
		return fmt.Errorf("cancel the Elasticsearch restore (DELETE /%s): %w", idx, err)
	}
	if resp.Status != http.StatusOK && resp.Status != http.StatusNotFound {
		return HTTPError("cancel the Elasticsearch restore (DELETE /"+idx+")", resp)
	}
	return nil
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
	resp, err := cl.Do(ctx, http.MethodGet, "/", nil)
	if err != nil || resp.Status != 200 {
		return steps.CheckResult{Check: "es version", Node: node, Status: steps.CheckFail, Evidence: fmt.Sprintf("cannot read the cluster's version: %v", err)}
	}
	info, err := parse.ParseESRoot(resp.Body)
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
	resp, err := cl.Do(ctx, http.MethodGet, "/_cat/indices?format=json&bytes=b&h=index,pri.store.size,store.size", nil)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", node, err)
	}
	if resp.Status != http.StatusOK {
		return 0, nil, fmt.Errorf("%s: %w", node, HTTPError("list the indices", resp))
	}
	sizes, err := parse.ParseCatPrimaryStore(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", node, err)
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
