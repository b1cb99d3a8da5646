package es

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// StartSnapshot starts snapshot name of indices (without the cluster's
// global state) in repository and returns once Elasticsearch accepted it
// (wait_for_completion=false): FollowSnapshot follows it.
func StartSnapshot(ctx context.Context, cl *remote.ESClient, repository, name string, indices []string) error {
	_, err := call(ctx, cl, "start the Elasticsearch snapshot "+name, esapi.SnapshotCreateRequest{
		Repository: repository, Snapshot: name, WaitForCompletion: esapi.BoolPtr(false), Body: withoutGlobalState(indices)})
	if e := (*parse.ESError)(nil); errors.As(err, &e) && e.Type == "concurrent_snapshot_execution_exception" {
		// A cluster that takes one snapshot at a time (before 7.9, or at
		// snapshot.max_concurrent_operations) is busy with another's.
		return fmt.Errorf("%w — another snapshot is running (GET /_snapshot/_status names it; preflight lists it): wait until it ends, "+
			"or pause the schedule that started it (POST /_slm/stop, and POST /_slm/start after the backup), then take the backup again", err)
	}
	return err
}

// FollowSnapshot polls snapshot name of repository (waits up to max
// between polls) until it ends, reporting progress from its _status, and
// returns it once SUCCESS with every shard saved; FAILED, PARTIAL or
// INCOMPATIBLE (or SUCCESS with failed shards) is an error with
// Elasticsearch's reason. status, when set, receives each read of the
// snapshot before it is judged (the last one is what ended it).
func FollowSnapshot(ctx context.Context, cl *remote.ESClient, repository, name string, max time.Duration, progress func(done, total int64), status func(parse.SnapshotInfo)) (*parse.SnapshotInfo, error) {
	var s parse.SnapshotInfo
	err := steps.Poll(ctx, max, 0, func() (bool, error) {
		got, err := getSnapshot(ctx, cl, repository, name)
		if err != nil {
			return false, err
		}
		s = *got
		if r, err := Do(ctx, cl, esapi.SnapshotStatusRequest{Repository: repository, Snapshot: []string{name}}); err == nil && r.Status == http.StatusOK {
			if st, err := parse.ParseSnapshotStatus(r.Body); err == nil && len(st) > 0 {
				progress(st[0].Stats.Processed.Bytes, st[0].Stats.Total.Bytes)
			}
		}
		if status != nil {
			status(s)
		}
		switch s.State {
		case "SUCCESS":
			if !s.Complete() {
				return false, fmt.Errorf("%s: elasticsearch snapshot %s: SUCCESS but %d shards failed", cl.Node(), name, s.Shards.Failed)
			}
			return true, nil
		case "FAILED", "PARTIAL", "INCOMPATIBLE":
			return false, fmt.Errorf("%s: elasticsearch snapshot %s ended %s: %s", cl.Node(), name, s.State, failureSummary(s.Failures))
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// failureSummary says why shards failed: each distinct reason once, with
// how many shards it took and the first of them (a snapshot of sixty
// indices can list a hundred failures for one full disk).
func failureSummary(rs []json.RawMessage) string {
	type reason struct {
		text, first string
		n           int
	}
	var rsns []*reason
	for _, r := range rs {
		var f struct {
			Index  string `json:"index"`
			Shard  *int   `json:"shard_id"`
			Reason string `json:"reason"`
		}
		text := string(r)
		if err := json.Unmarshal(r, &f); err == nil && f.Reason != "" {
			text = f.Reason
		}
		i := slices.IndexFunc(rsns, func(x *reason) bool { return x.text == text })
		if i < 0 {
			where := f.Index
			if f.Shard != nil {
				where = fmt.Sprintf("%s[%d]", f.Index, *f.Shard)
			}
			rsns = append(rsns, &reason{text: text, first: where})
			i = len(rsns) - 1
		}
		rsns[i].n++
	}
	if len(rsns) == 0 {
		return "no reason given"
	}
	var parts []string
	for i, r := range rsns {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d other reasons", len(rsns)-3))
			break
		}
		switch {
		case r.n > 1:
			parts = append(parts, fmt.Sprintf("%s (%d shards, %s first)", r.text, r.n, r.first))
		case r.first != "":
			parts = append(parts, fmt.Sprintf("%s (%s)", r.text, r.first))
		default:
			parts = append(parts, r.text)
		}
	}
	return strings.Join(parts, "; ")
}

// getSnapshot reads snapshot name of repository (GET
// /_snapshot/REPO/NAME): a 404 or an answer that lists no snapshot is an
// error.
func getSnapshot(ctx context.Context, cl *remote.ESClient, repository, name string) (*parse.SnapshotInfo, error) {
	return read(ctx, cl, "read the Elasticsearch snapshot "+name, esapi.SnapshotGetRequest{Repository: repository, Snapshot: []string{name}},
		func(body []byte) (*parse.SnapshotInfo, error) {
			snaps, err := parse.ParseSnapshotGet(body)
			if err == nil && len(snaps) == 0 {
				err = errors.New("the answer lists no snapshot")
			}
			if err != nil {
				return nil, err
			}
			return &snaps[0], nil
		})
}

// DeleteSnapshot deletes snapshot name of repository; one already gone is
// no error. deleted says whether there was one; what says why it is
// deleted, in errors.
func DeleteSnapshot(ctx context.Context, cl *remote.ESClient, repository, name, what string) (deleted bool, err error) {
	return del(ctx, cl, what, esapi.SnapshotDeleteRequest{Repository: repository, Snapshot: []string{name}})
}

// DeleteSnapshotOf is DeleteSnapshot on the inventory's Elasticsearch
// (opened and closed for it): the cleanup of whoever started the snapshot.
func DeleteSnapshotOf(ctx context.Context, env *steps.Env, repository, name, what string) (deleted bool, err error) {
	cl, _, err := Open(env)
	if err != nil {
		return false, err
	}
	defer cl.Close()
	return DeleteSnapshot(ctx, cl, repository, name, what)
}

// ListSnapshots returns every snapshot of repository (GET
// /_snapshot/REPO/_all), running ones included.
func ListSnapshots(ctx context.Context, cl *remote.ESClient, repository string) ([]parse.SnapshotInfo, error) {
	return read(ctx, cl, "list the snapshots of "+repository, esapi.SnapshotGetRequest{Repository: repository, Snapshot: []string{"_all"}}, parse.ParseSnapshotGet)
}

// SnapshotSize is the bytes snapshot name of repository holds (its
// _status), 0 when Elasticsearch does not say.
func SnapshotSize(ctx context.Context, cl *remote.ESClient, repository, name string) int64 {
	r, err := Do(ctx, cl, esapi.SnapshotStatusRequest{Repository: repository, Snapshot: []string{name}})
	if err != nil || r.Status != http.StatusOK {
		return 0
	}
	st, err := parse.ParseSnapshotStatus(r.Body)
	if err != nil || len(st) == 0 {
		return 0
	}
	return st[0].Stats.Total.Bytes
}

// DeleteCmd is the command an operator runs to delete snapshot name of
// repository from the cluster at url.
func DeleteCmd(url, repository, name string) string {
	return "curl -XDELETE " + strings.TrimSuffix(url, "/") + "/_snapshot/" + repository + "/" + name
}

// Record is the manifest's record of a snapshot Elasticsearch described,
// taken in repository (whose location is location).
func Record(s parse.SnapshotInfo, repository, location string) *repo.ESSnapshot {
	out := &repo.ESSnapshot{Repository: repository, Snapshot: s.Snapshot, UUID: s.UUID, Indices: s.Indices, State: s.State,
		Shards:   repo.Shards{Total: s.Shards.Total, Failed: s.Shards.Failed, Successful: s.Shards.Successful},
		Location: location, Version: s.Version}
	if s.StartTimeMillis > 0 {
		out.StartTime = time.UnixMilli(s.StartTimeMillis).UTC()
	}
	if s.EndTimeMillis > 0 {
		out.EndTime = time.UnixMilli(s.EndTimeMillis).UTC()
	}
	return out
}

// CheckSnapshot returns "" when the backup's snapshot s still exists and is
// SUCCESS (and the same one: its UUID), else what is wrong.
func CheckSnapshot(ctx context.Context, env *steps.Env, s *repo.ESSnapshot) string {
	cl, _, err := Open(env)
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	r, err := call(ctx, cl, "read the Elasticsearch snapshot "+s.Snapshot, esapi.SnapshotGetRequest{Repository: s.Repository, Snapshot: []string{s.Snapshot}}, http.StatusNotFound)
	if err != nil {
		return err.Error()
	}
	if r.Status == http.StatusNotFound {
		return fmt.Sprintf("the snapshot is gone from repository %s", s.Repository)
	}
	snaps, err := parse.ParseSnapshotGet(r.Body)
	if err != nil || len(snaps) == 0 {
		return fmt.Sprintf("unreadable answer to %s: %v", r.Request, err)
	}
	if !snaps[0].Complete() {
		return fmt.Sprintf("state %s, %d failed shards", snaps[0].State, snaps[0].Shards.Failed)
	}
	if s.UUID != "" && snaps[0].UUID != "" && s.UUID != snaps[0].UUID {
		return fmt.Sprintf("a different snapshot of that name (uuid %s, the backup recorded %s)", snaps[0].UUID, s.UUID)
	}
	return ""
}

// FindSnapshot looks for snapshot name in the cluster's snapshot
// repositories: first every fs repository whose location is folder (when
// known), then the inventory's elasticsearch.repository, then the others.
// It returns the snapshot as a restore needs it (repository, indices,
// state, version), or an error that says how to make it reachable.
func FindSnapshot(ctx context.Context, env *steps.Env, name, folder string) (*repo.ESSnapshot, error) {
	if env.Inv.Elasticsearch == nil {
		return nil, fmt.Errorf("snapshot %s: the inventory has no elasticsearch section", name)
	}
	cl, node, err := Open(env)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	repos, err := listRepositories(ctx, cl)
	if err != nil {
		return nil, err
	}
	var order []parse.ESRepository
	add := func(match func(parse.ESRepository) bool) {
		for _, r := range repos {
			if match(r) && !slices.ContainsFunc(order, func(o parse.ESRepository) bool { return o.Name == r.Name }) {
				order = append(order, r)
			}
		}
	}
	if folder != "" {
		add(func(r parse.ESRepository) bool { return r.Type == "fs" && path.Clean(r.Location) == path.Clean(folder) })
	}
	add(func(r parse.ESRepository) bool { return r.Name == env.Inv.Elasticsearch.Repository })
	add(func(parse.ESRepository) bool { return true })
	for _, r := range order {
		resp, err := Do(ctx, cl, esapi.SnapshotGetRequest{Repository: r.Name, Snapshot: []string{name}})
		if err != nil {
			return nil, err
		}
		if resp.Status != http.StatusOK {
			continue // not in this repository
		}
		snaps, err := parse.ParseSnapshotGet(resp.Body)
		if err != nil || len(snaps) == 0 {
			continue
		}
		return Record(snaps[0], r.Name, r.Location), nil
	}
	var names []string
	for _, r := range repos {
		names = append(names, r.Name+" ("+r.Type+" "+r.Location+")")
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	where := folder
	if where == "" {
		where = "<the folder that holds the .info file>"
	}
	return nil, fmt.Errorf("%s: snapshot %s is in none of the cluster's snapshot repositories (%s): register the folder that holds it, "+
		`e.g. PUT _snapshot/%s {"type":"fs","settings":{"location":"%s"}} (it must be in path.repo on every ES node)`,
		node, name, strings.Join(names, ", "), env.Inv.Elasticsearch.Repository, where)
}
