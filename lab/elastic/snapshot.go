package elastic

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- repositories ----

func (s *server) repoBody(name string, r *repoMeta) obj {
	o := obj{{"type", r.Type}}
	if s.c.opts.Flavour == FlavourElasticsearch { // not 6.x: the repository uuid came in 7.12
		o = o.add("uuid", r.UUID)
	}
	settings := obj{}
	keys := make([]string, 0, len(r.Settings))
	for k := range r.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		settings = settings.add(k, fmt.Sprint(r.Settings[k]))
	}
	return o.add("settings", settings)
}

func (s *server) getRepo(rc *reqCtx) {
	out := obj{}
	err := s.c.update(func(st *state) error {
		names := make([]string, 0, len(st.Repos))
		for n := range st.Repos {
			names = append(names, n)
		}
		sort.Strings(names)
		sel, missing := matchNames(names, rc.params["repo"])
		if missing != "" {
			return errRepoMissing(missing)
		}
		for _, n := range sel {
			out = out.add(n, s.repoBody(n, st.Repos[n]))
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, out)
}

// resolveLocation applies FsRepository's path.repo check.
func (c *Cluster) resolveLocation(repo, location string) (string, *apiError) {
	if location == "" {
		return "", errRepoCreate(repo, "missing location")
	}
	for _, root := range c.opts.PathRepo {
		p := location
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		p = filepath.Clean(p)
		if p == root || strings.HasPrefix(p, root+string(filepath.Separator)) {
			return p, nil
		}
	}
	if len(c.opts.PathRepo) == 0 {
		return "", errRepoCreate(repo, "location ["+location+"] doesn't match any of the locations specified by path.repo because this setting is empty")
	}
	return "", errRepoCreate(repo, "location ["+location+"] doesn't match any of the locations specified by path.repo")
}

// verifyLocation creates the location if needed and proves it is writable,
// as repository verification does.
func verifyLocation(repo, loc string) *apiError {
	fail := func(err error) *apiError {
		e := newErr(http.StatusInternalServerError, "repository_verification_exception", "["+repo+"] path  is not accessible on master node")
		e.cause = newErr(http.StatusInternalServerError, "access_denied_exception", err.Error())
		return e
	}
	if err := os.MkdirAll(loc, 0o755); err != nil {
		return fail(err)
	}
	dir := filepath.Join(loc, "tests-"+newUUID())
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "master.dat"), []byte(newUUID()), 0o644); err != nil {
		return fail(err)
	}
	return nil
}

func (s *server) putRepo(rc *reqCtx) {
	name := rc.params["repo"]
	var body struct {
		Type     string         `json:"type"`
		Settings map[string]any `json:"settings"`
	}
	if e := rc.decode(&body); e != nil {
		rc.fail(e)
		return
	}
	if body.Type == "" {
		rc.fail(newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: type is missing;"))
		return
	}
	if body.Type != "fs" {
		rc.fail(errRepoCreate(name, "repository type ["+body.Type+"] does not exist"))
		return
	}
	if strings.HasPrefix(name, "_") || strings.ContainsAny(name, `\/*?"<>| ,#`) {
		rc.fail(newErr(http.StatusBadRequest, "invalid_repository_name_exception",
			"["+name+"] Invalid repository name, must not start with '_' or contain the following characters "+invalidFilenameChars))
		return
	}
	loc, _ := body.Settings["location"].(string)
	abs, e := s.c.resolveLocation(name, loc)
	if e != nil {
		rc.fail(e)
		return
	}
	// A readonly repository is verified without writing into it.
	readonly := fmt.Sprint(body.Settings["readonly"]) == "true"
	if rc.flag("verify", true) && !readonly {
		if e := verifyLocation(name, abs); e != nil {
			rc.fail(e)
			return
		}
		others, failed, err := s.c.verifyOnNodes(s.node, name, abs)
		if err != nil {
			rc.fail(err)
			return
		}
		if len(failed) > 0 {
			rc.fail(errVerifyNodes(name, abs, others, failed))
			return
		}
	}
	err := s.c.update(func(st *state) error {
		uuid := ""
		if old := st.Repos[name]; old != nil && old.Location == abs {
			uuid = old.UUID
		}
		if rd, err := readRepoData(&repoMeta{Location: abs}); err == nil && rd.UUID != "" {
			uuid = rd.UUID
		}
		if uuid == "" {
			uuid = newUUID()
		}
		settings := map[string]any{}
		for k, v := range body.Settings {
			settings[k] = fmt.Sprint(v)
		}
		st.Repos[name] = &repoMeta{Type: "fs", UUID: uuid, Settings: settings, Location: abs}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}})
}

func (s *server) deleteRepo(rc *reqCtx) {
	err := s.c.update(func(st *state) error {
		names := make([]string, 0, len(st.Repos))
		for n := range st.Repos {
			names = append(names, n)
		}
		sel, missing := matchNames(names, rc.params["repo"])
		if missing != "" || len(sel) == 0 {
			return errRepoMissing(rc.params["repo"])
		}
		for _, n := range sel {
			for _, r := range st.Running {
				if r.Repo == n {
					return newErr(http.StatusBadRequest, "illegal_state_exception",
						"trying to modify or unregister repository ["+n+"] that is currently used (snapshot is in progress)")
				}
			}
		}
		for _, n := range sel {
			delete(st.Repos, n)
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}})
}

func (s *server) verifyRepo(rc *reqCtx) {
	name := rc.params["repo"]
	var loc string
	var readonly bool
	nodes := obj{}
	err := s.c.update(func(st *state) error {
		r := st.Repos[name]
		if r == nil {
			return errRepoMissing(name)
		}
		loc, readonly = r.Location, r.readonly()
		for _, n := range s.c.liveNodes(st) {
			nodes = nodes.add(n.ID, obj{{"name", n.Name}})
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if readonly { // nothing is written into it: it verifies as read-only
		rc.json(http.StatusOK, obj{{"nodes", nodes}})
		return
	}
	if e := verifyLocation(name, loc); e != nil {
		rc.fail(e)
		return
	}
	// Every other node writes into it from its own mounts too.
	others, failed, err := s.c.verifyOnNodes(s.node, name, loc)
	if err != nil {
		rc.fail(err)
		return
	}
	if len(failed) > 0 {
		rc.fail(errVerifyNodes(name, loc, others, failed))
		return
	}
	rc.json(http.StatusOK, obj{{"nodes", nodes}})
}

// ---- snapshot create ----

type createBody struct {
	Indices           any            `json:"indices"`
	IgnoreUnavailable bool           `json:"ignore_unavailable"`
	IncludeGlobal     *bool          `json:"include_global_state"`
	Partial           bool           `json:"partial"`
	Metadata          map[string]any `json:"metadata"`
}

func (s *server) createSnapshot(rc *reqCtx) {
	repoName, name := rc.params["repo"], rc.params["snapshot"]
	var body createBody
	if e := rc.decode(&body); e != nil {
		rc.fail(e)
		return
	}
	expr, ok := stringList(body.Indices)
	if !ok {
		rc.fail(errBadRequest("malformed indices section, should be an array of strings"))
		return
	}
	err := s.c.update(func(st *state) error {
		repo := st.Repos[repoName]
		if repo == nil {
			return errRepoMissing(repoName)
		}
		if e := validateSnapshotName(repoName, name); e != nil {
			return e
		}
		if repo.readonly() {
			return errReadonly(repoName, "create snapshot in")
		}
		rd, err := readRepoData(repo)
		if err != nil {
			return err
		}
		if rd.find(name) != nil {
			return errInvalidSnapshotName(repoName, name, "snapshot with the same name already exists")
		}
		for _, r := range st.Running {
			if r.Repo == repoName && r.Name == name {
				return errInvalidSnapshotName(repoName, name, "snapshot with the same name is already in-progress")
			}
		}
		if st.Serial && len(st.Running) > 0 {
			return newErr(http.StatusServiceUnavailable, "concurrent_snapshot_execution_exception",
				"["+repoName+":"+name+"]  a snapshot is already running")
		}
		list, e := resolveIndices(st, expr, body.IgnoreUnavailable, true)
		if e != nil {
			return e
		}
		rs := &running{Repo: repoName, Name: name, UUID: newUUID(), StartMs: st.nowMs, IncludeGlobal: true, Metadata: body.Metadata}
		if body.IncludeGlobal != nil {
			rs.IncludeGlobal = *body.IncludeGlobal
		}
		cache := map[string]string{}
		for _, ix := range list {
			si, err := planSnapshot(repo, rd, st, ix, cache)
			if err != nil {
				return fmt.Errorf("plan snapshot of [%s]: %w", ix.Name, err)
			}
			rs.Indices = append(rs.Indices, si)
		}
		if st.NextFault != nil {
			rs.Fault = st.NextFault
			st.NextFault = nil
		}
		rs.Rate = st.SnapshotRate
		st.Running = append(st.Running, rs)
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if !rc.flag("wait_for_completion", false) {
		rc.json(http.StatusOK, obj{{"accepted", true}})
		return
	}
	var info obj
	_, err = rc.wait(365*24*time.Hour, func(st *state) bool {
		for _, r := range st.Running {
			if r.Repo == repoName && r.Name == name {
				return false
			}
		}
		repo := st.Repos[repoName]
		if repo == nil {
			return true
		}
		rd, err := readRepoData(repo)
		if err != nil {
			return true
		}
		if rsn := rd.find(name); rsn != nil {
			if si, err := loadSnapInfo(repo, rsn); err == nil {
				info = s.snapshotJSON(si, true)
			}
		}
		return true
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if info == nil {
		rc.fail(errSnapshotMissing(repoName, name))
		return
	}
	rc.json(http.StatusOK, obj{{"snapshot", info}})
}

// snapshotJSON renders a SnapshotInfo as GET _snapshot does.
func (s *server) snapshotJSON(si *snapInfo, verbose bool) obj {
	indices := append([]string{}, si.Indices...)
	o := obj{{"snapshot", si.Snapshot}, {"uuid", si.UUID}}
	if s.c.es6() {
		return s.snapshotJSON6(si, indices, verbose)
	}
	es := s.c.opts.Flavour == FlavourElasticsearch
	if es || !verbose {
		o = o.add("repository", si.Repository)
	}
	if !verbose {
		return o.add("indices", indices).add("data_streams", []string{}).add("state", si.State)
	}
	o = o.add("version_id", si.VersionID).add("version", si.Version).add("indices", indices).add("data_streams", []string{})
	if es {
		o = o.add("feature_states", []any{})
	}
	o = o.add("include_global_state", si.IncludeGlobal)
	if len(si.Metadata) > 0 {
		o = o.add("metadata", si.Metadata)
	}
	o = o.add("state", si.State)
	if si.Reason != "" {
		o = o.add("reason", si.Reason)
	}
	end := fmtTime(si.EndMs)
	dur := si.EndMs - si.StartMs
	if si.State == "IN_PROGRESS" {
		dur = 0
	}
	o = o.add("start_time", fmtTime(si.StartMs)).add("start_time_in_millis", si.StartMs).
		add("end_time", end).add("end_time_in_millis", si.EndMs).add("duration_in_millis", dur)
	var failures []obj
	for _, f := range si.Failures {
		failures = append(failures, obj{{"index", f.Index}, {"index_uuid", f.IndexUUID}, {"shard_id", f.ShardID},
			{"reason", f.Reason}, {"node_id", f.NodeID}, {"status", f.Status}})
	}
	if failures == nil {
		failures = []obj{}
	}
	o = o.add("failures", failures)
	return o.add("shards", obj{{"total", si.TotalShards}, {"failed", si.TotalShards - si.SuccessShards}, {"successful", si.SuccessShards}})
}

// snapshotJSON6 renders a SnapshotInfo as Elasticsearch 6.8 does: no
// repository, data_streams, feature_states or metadata (7.2, 7.9, 7.12,
// 7.3), and version_id/version before indices (samples
// es6-get-snapshot-all-6.8.0.json, es6-create-snapshot-wait-6.8.23.json).
func (s *server) snapshotJSON6(si *snapInfo, indices []string, verbose bool) obj {
	o := obj{{"snapshot", si.Snapshot}, {"uuid", si.UUID}}
	if !verbose {
		return o.add("indices", indices).add("state", si.State)
	}
	o = o.add("version_id", si.VersionID).add("version", si.Version).add("indices", indices).
		add("include_global_state", si.IncludeGlobal).add("state", si.State)
	if si.Reason != "" {
		o = o.add("reason", si.Reason)
	}
	dur := si.EndMs - si.StartMs
	if si.State == "IN_PROGRESS" {
		dur = 0
	}
	o = o.add("start_time", fmtTime(si.StartMs)).add("start_time_in_millis", si.StartMs).
		add("end_time", fmtTime(si.EndMs)).add("end_time_in_millis", si.EndMs).add("duration_in_millis", dur)
	failures := []obj{}
	for _, f := range si.Failures {
		failures = append(failures, obj{{"index", f.Index}, {"index_uuid", f.IndexUUID}, {"shard_id", f.ShardID},
			{"reason", f.Reason}, {"node_id", f.NodeID}, {"status", f.Status}})
	}
	o = o.add("failures", failures)
	return o.add("shards", obj{{"total", si.TotalShards}, {"failed", si.TotalShards - si.SuccessShards}, {"successful", si.SuccessShards}})
}

func runningInfo(c *Cluster, rs *running) *snapInfo {
	si := &snapInfo{Snapshot: rs.Name, UUID: rs.UUID, Repository: rs.Repo, VersionID: c.versionID(), Version: c.version(),
		IncludeGlobal: rs.IncludeGlobal, Metadata: rs.Metadata, State: "IN_PROGRESS", StartMs: rs.StartMs}
	for _, ix := range rs.Indices {
		si.Indices = append(si.Indices, ix.Name)
	}
	sort.Strings(si.Indices)
	return si
}

// ---- snapshot get / delete ----

// snapshotsOf lists a repository's snapshots: completed ones from the
// repository, running ones from the cluster state.
func (c *Cluster) snapshotsOf(st *state, repoName string) ([]*snapInfo, map[string]error, error) {
	repo := st.Repos[repoName]
	rd, err := readRepoData(repo)
	if err != nil {
		return nil, nil, err
	}
	var out []*snapInfo
	broken := map[string]error{}
	for i := range rd.Snapshots {
		si, err := loadSnapInfo(repo, &rd.Snapshots[i])
		if err != nil {
			broken[rd.Snapshots[i].Name] = err
			continue
		}
		out = append(out, si)
	}
	for _, rs := range st.Running {
		if rs.Repo == repoName {
			out = append(out, runningInfo(c, rs))
		}
	}
	return out, broken, nil
}

func (s *server) getSnapshot(rc *reqCtx) {
	verbose := rc.flag("verbose", true)
	var list []obj
	err := s.c.update(func(st *state) error {
		repoNames := make([]string, 0, len(st.Repos))
		for n := range st.Repos {
			repoNames = append(repoNames, n)
		}
		sort.Strings(repoNames)
		repos, missing := matchNames(repoNames, rc.params["repo"])
		if missing != "" {
			return errRepoMissing(missing)
		}
		expr := rc.params["snapshot"]
		var found []*snapInfo
		for _, rn := range repos {
			snaps, broken, err := s.c.snapshotsOf(st, rn)
			if err != nil {
				return err
			}
			var names []string
			byName := map[string]*snapInfo{}
			for _, si := range snaps {
				names = append(names, si.Snapshot)
				byName[si.Snapshot] = si
			}
			if expr == "_current" {
				for _, si := range snaps {
					if si.State == "IN_PROGRESS" {
						found = append(found, si)
					}
				}
				continue
			}
			sel, miss := matchNames(names, expr)
			if miss != "" && !rc.flag("ignore_unavailable", false) {
				if err, ok := broken[miss]; ok {
					return errSnapUnreadable(rn, miss, err)
				}
				return errSnapshotMissing(rn, miss)
			}
			for _, n := range sel {
				found = append(found, byName[n])
			}
		}
		order := rc.query("order")
		switch rc.query("sort") {
		case "name":
			sort.SliceStable(found, func(i, j int) bool { return found[i].Snapshot < found[j].Snapshot })
		default:
			sort.SliceStable(found, func(i, j int) bool { return found[i].StartMs < found[j].StartMs })
		}
		if order == "desc" {
			for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
				found[i], found[j] = found[j], found[i]
			}
		}
		for _, si := range found {
			list = append(list, s.snapshotJSON(si, verbose))
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if list == nil {
		list = []obj{}
	}
	out := obj{{"snapshots", list}}
	if s.c.opts.Flavour == FlavourElasticsearch { // not 6.x: total/remaining came in 7.14
		out = out.add("total", len(list)).add("remaining", 0)
	}
	rc.json(http.StatusOK, out)
}

func (s *server) deleteSnapshot(rc *reqCtx) {
	repoName, expr := rc.params["repo"], rc.params["snapshot"]
	err := s.c.update(func(st *state) error {
		repo := st.Repos[repoName]
		if repo == nil {
			return errRepoMissing(repoName)
		}
		if repo.readonly() {
			return errReadonly(repoName, "delete snapshot from")
		}
		rd, err := readRepoData(repo)
		if err != nil {
			return err
		}
		var names []string
		for _, sn := range rd.Snapshots {
			names = append(names, sn.Name)
		}
		var runningNames []string
		for _, r := range st.Running {
			if r.Repo == repoName {
				runningNames = append(runningNames, r.Name)
			}
		}
		sel, miss := matchNames(append(append([]string{}, names...), runningNames...), expr)
		if miss != "" || len(sel) == 0 {
			if miss == "" {
				miss = expr
			}
			return errSnapshotMissing(repoName, miss)
		}
		for _, n := range sel {
			aborted := false
			var keep []*running
			for _, r := range st.Running {
				if r.Repo == repoName && r.Name == n {
					aborted = true
					// Abort: remove what it uploaded that no completed snapshot uses.
					for _, si := range r.Indices {
						for _, f := range si.Files {
							if f.New && f.Written {
								os.Remove(repo.path("indices", si.RepoID, strconv.Itoa(f.Shard), f.Name))
							}
						}
					}
					continue
				}
				keep = append(keep, r)
			}
			st.Running = keep
			if aborted {
				continue
			}
			if err := s.c.deleteSnapshot(repo, rd, n); err != nil {
				var ae *apiError
				if errors.As(err, &ae) {
					return errSnapshotMissing(repoName, n)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}})
}

// ---- snapshot status ----

type statCounts struct {
	incN, procN, totN int
	incB, procB, totB int64
}

// statsObj renders SnapshotStats; es6 adds the fields 6.x kept "for
// backward compatibility with 5.x and 6.x" and 7.0 removed (number_of_files,
// processed_files, total_size_in_bytes, processed_size_in_bytes, counting
// the incremental files).
func statsObj(sc statCounts, withProcessed bool, startMs, tookMs int64, es6 bool) obj {
	o := obj{{"incremental", obj{{"file_count", sc.incN}, {"size_in_bytes", sc.incB}}}}
	if withProcessed && (sc.procN != sc.incN || sc.procB != sc.incB) {
		o = o.add("processed", obj{{"file_count", sc.procN}, {"size_in_bytes", sc.procB}})
	}
	o = o.add("total", obj{{"file_count", sc.totN}, {"size_in_bytes", sc.totB}}).
		add("start_time_in_millis", startMs).add("time_in_millis", tookMs)
	if es6 {
		procN, procB := sc.procN, sc.procB
		if !withProcessed {
			procN, procB = sc.incN, sc.incB
		}
		o = o.add("number_of_files", sc.incN).add("processed_files", procN).
			add("total_size_in_bytes", sc.incB).add("processed_size_in_bytes", procB)
	}
	return o
}

func shardsStats(init, started, done, failed, total int) obj {
	return obj{{"initializing", init}, {"started", started}, {"finalizing", 0}, {"done", done}, {"failed", failed}, {"total", total}}
}

// runningStatus renders _status for an in-progress snapshot.
func (s *server) runningStatus(st *state, rs *running) obj {
	processed := rs.processedBytes(st.nowMs, s.c.snapshotRate(rs))
	node := s.c.localNodeFor(st)
	var cum int64
	var top statCounts
	var tStarted, tDone, tTotal int
	indices := obj{}
	took := st.nowMs - rs.StartMs
	for _, si := range rs.Indices {
		var isc statCounts
		var iStarted, iDone int
		shards := obj{}
		for sh := 0; sh < si.Shards; sh++ {
			var sc statCounts
			for _, f := range si.Files {
				if f.Shard != sh {
					continue
				}
				sc.totN++
				sc.totB += f.Length
				if !f.New {
					continue
				}
				sc.incN++
				sc.incB += f.Length
				if si.shardFailed(sh) {
					continue
				}
				if cum+f.Length <= processed {
					sc.procN++
					sc.procB += f.Length
				} else if cum < processed {
					sc.procB += processed - cum
				}
				cum += f.Length
			}
			stage := "STARTED"
			if sc.procN == sc.incN {
				stage = "DONE"
				iDone++
			} else {
				iStarted++
			}
			shards = shards.add(strconv.Itoa(sh), obj{{"stage", stage}, {"stats", statsObj(sc, true, rs.StartMs, took, s.c.es6())}, {"node", node.ID}})
			isc.incN += sc.incN
			isc.incB += sc.incB
			isc.procN += sc.procN
			isc.procB += sc.procB
			isc.totN += sc.totN
			isc.totB += sc.totB
		}
		indices = indices.add(si.Name, obj{{"shards_stats", shardsStats(0, iStarted, iDone, 0, si.Shards)},
			{"stats", statsObj(isc, true, rs.StartMs, took, s.c.es6())}, {"shards", shards}})
		tStarted += iStarted
		tDone += iDone
		tTotal += si.Shards
		top.incN += isc.incN
		top.incB += isc.incB
		top.procN += isc.procN
		top.procB += isc.procB
		top.totN += isc.totN
		top.totB += isc.totB
	}
	return obj{{"snapshot", rs.Name}, {"repository", rs.Repo}, {"uuid", rs.UUID}, {"state", "STARTED"},
		{"include_global_state", rs.IncludeGlobal}, {"shards_stats", shardsStats(0, tStarted, tDone, 0, tTotal)},
		{"stats", statsObj(top, true, rs.StartMs, took, s.c.es6())}, {"indices", indices}}
}

// doneStatus renders _status for a completed snapshot from its repository files.
func (s *server) doneStatus(repo *repoMeta, si *snapInfo) obj {
	var top statCounts
	indices := obj{}
	var tDone, tFailed, tTotal int
	failed := map[string]bool{}
	for _, f := range si.Failures {
		failed[f.Index+"/"+strconv.Itoa(f.ShardID)] = true
	}
	for _, name := range si.Indices {
		id := si.IndexRepoIDs[name]
		var isc statCounts
		var iDone, iFailed int
		shards := obj{}
		ents, _ := os.ReadDir(repo.path("indices", id))
		nShards := 0
		for _, e := range ents {
			if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && n+1 > nShards {
				nShards = n + 1
			}
		}
		for _, f := range si.Failures {
			if f.Index == name && f.ShardID+1 > nShards {
				nShards = f.ShardID + 1
			}
		}
		var ist, iend int64
		for sh := 0; sh < nShards; sh++ {
			if failed[name+"/"+strconv.Itoa(sh)] {
				iFailed++
				shards = shards.add(strconv.Itoa(sh), obj{{"stage", "FAILURE"}, {"stats", statsObj(statCounts{}, false, 0, 0, s.c.es6())}})
				continue
			}
			var sf shardSnapFile
			if err := readJSONFile(repo.path("indices", id, strconv.Itoa(sh), "snap-"+si.UUID+".dat"), &sf); err != nil {
				continue
			}
			var sc statCounts
			sc.incN, sc.incB = sf.IncrementalFileCount, sf.IncrementalSize
			sc.procN, sc.procB = sc.incN, sc.incB
			for _, f := range sf.Files {
				sc.totN++
				sc.totB += f.Length
			}
			iDone++
			shards = shards.add(strconv.Itoa(sh), obj{{"stage", "DONE"}, {"stats", statsObj(sc, false, sf.StartTime, sf.Time, s.c.es6())}})
			ist, iend = sf.StartTime, sf.StartTime+sf.Time
			isc.incN += sc.incN
			isc.incB += sc.incB
			isc.totN += sc.totN
			isc.totB += sc.totB
		}
		indices = indices.add(name, obj{{"shards_stats", shardsStats(0, 0, iDone, iFailed, iDone+iFailed)},
			{"stats", statsObj(isc, false, ist, iend-ist, s.c.es6())}, {"shards", shards}})
		tDone += iDone
		tFailed += iFailed
		tTotal += iDone + iFailed
		top.incN += isc.incN
		top.incB += isc.incB
		top.totN += isc.totN
		top.totB += isc.totB
	}
	return obj{{"snapshot", si.Snapshot}, {"repository", si.Repository}, {"uuid", si.UUID}, {"state", si.State},
		{"include_global_state", si.IncludeGlobal}, {"shards_stats", shardsStats(0, 0, tDone, tFailed, tTotal)},
		{"stats", statsObj(top, false, si.StartMs, si.EndMs-si.StartMs, s.c.es6())}, {"indices", indices}}
}

func (s *server) snapshotStatus(rc *reqCtx) {
	repoName, expr := rc.params["repo"], rc.params["snapshot"]
	var list []obj
	err := s.c.update(func(st *state) error {
		if expr == "" {
			// currently running snapshots, optionally of one repository
			if repoName != "" && st.Repos[repoName] == nil {
				return errRepoMissing(repoName)
			}
			for _, rs := range st.Running {
				if repoName == "" || rs.Repo == repoName {
					list = append(list, s.runningStatus(st, rs))
				}
			}
			return nil
		}
		repo := st.Repos[repoName]
		if repo == nil {
			return errRepoMissing(repoName)
		}
		rd, err := readRepoData(repo)
		if err != nil {
			return err
		}
		for _, name := range strings.Split(expr, ",") {
			handled := false
			for _, rs := range st.Running {
				if rs.Repo == repoName && rs.Name == name {
					list = append(list, s.runningStatus(st, rs))
					handled = true
				}
			}
			if handled {
				continue
			}
			rsn := rd.find(name)
			if rsn == nil {
				if rc.flag("ignore_unavailable", false) {
					continue
				}
				return errSnapshotMissing(repoName, name)
			}
			si, err := loadSnapInfo(repo, rsn)
			if err != nil {
				return errSnapUnreadable(repoName, name, err)
			}
			list = append(list, s.doneStatus(repo, si))
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if list == nil {
		list = []obj{}
	}
	rc.json(http.StatusOK, obj{{"snapshots", list}})
}

// ---- restore ----

type restoreBody struct {
	Indices           any            `json:"indices"`
	IgnoreUnavailable bool           `json:"ignore_unavailable"`
	IncludeGlobal     bool           `json:"include_global_state"`
	Partial           bool           `json:"partial"`
	RenamePattern     string         `json:"rename_pattern"`
	RenameReplacement string         `json:"rename_replacement"`
	IndexSettings     map[string]any `json:"index_settings"`
}

var javaGroupRef = regexp.MustCompile(`\$(\d+)`)

func (s *server) restore(rc *reqCtx) {
	repoName, name := rc.params["repo"], rc.params["snapshot"]
	var body restoreBody
	if e := rc.decode(&body); e != nil {
		rc.fail(e)
		return
	}
	expr, ok := stringList(body.Indices)
	if !ok {
		rc.fail(errBadRequest("malformed indices section, should be an array of strings"))
		return
	}
	var rename *regexp.Regexp
	if body.RenamePattern != "" {
		re, err := regexp.Compile(body.RenamePattern)
		if err != nil {
			rc.fail(errBadRequest("invalid rename_pattern [" + body.RenamePattern + "]: " + err.Error()))
			return
		}
		rename = re
	}
	replacement := javaGroupRef.ReplaceAllString(body.RenameReplacement, "$${$1}")
	var targets []string
	var shardsTotal int
	err := s.c.update(func(st *state) error {
		repo := st.Repos[repoName]
		if repo == nil {
			return errRepoMissing(repoName)
		}
		rd, err := readRepoData(repo)
		if err != nil {
			return err
		}
		rsn := rd.find(name)
		if rsn == nil {
			return errSnapshotMissing(repoName, name)
		}
		info, err := loadSnapInfo(repo, rsn)
		if err != nil {
			return errSnapUnreadable(repoName, name, err)
		}
		if info.State == "FAILED" || info.State == "IN_PROGRESS" {
			return errRestore(repoName, name, info.UUID, "unsupported snapshot state ["+info.State+"]")
		}
		sel, miss := matchNames(info.Indices, expr)
		if miss != "" && !body.IgnoreUnavailable {
			return errIndexNotFound(miss)
		}
		failedShards := map[string][]int{}
		for _, f := range info.Failures {
			failedShards[f.Index] = append(failedShards[f.Index], f.ShardID)
		}
		type plan struct {
			src, dst string
			meta     indexMetaFile
		}
		var plans []plan
		seen := map[string]bool{}
		for _, src := range sel {
			if len(failedShards[src]) > 0 && !body.Partial {
				return errRestore(repoName, name, info.UUID, "index ["+src+"] wasn't fully snapshotted - cannot restore")
			}
			dst := src
			if rename != nil {
				dst = rename.ReplaceAllString(src, replacement)
			}
			if e := validateIndexName(dst); e != nil {
				return e
			}
			if seen[dst] {
				return errRestore(repoName, name, info.UUID, "indices ["+dst+"] and ["+src+"] are renamed into the same index ["+dst+"]")
			}
			seen[dst] = true
			id := info.IndexRepoIDs[src]
			blob := rsn.IndexMeta[id]
			var meta indexMetaFile
			if err := readJSONFile(repo.path("indices", id, "meta-"+blob+".dat"), &meta); err != nil {
				return errRestore(repoName, name, info.UUID, "failed to read metadata of index ["+src+"]: "+err.Error())
			}
			if cur := st.Indices[dst]; cur != nil {
				if cur.Status == "open" {
					return errRestore(repoName, name, info.UUID, "cannot restore index ["+dst+"] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name")
				}
				if cur.Shards != meta.Shards {
					return errRestore(repoName, name, info.UUID, fmt.Sprintf("cannot restore index [%s] with [%d] shards from a snapshot of index [%s] with [%d] shards", dst, cur.Shards, src, meta.Shards))
				}
			}
			plans = append(plans, plan{src: src, dst: dst, meta: meta})
		}
		restoreUUID := newUUID()
		node := s.c.localNodeFor(st)
		for _, p := range plans {
			id := info.IndexRepoIDs[p.src]
			rec := &recovery{Repo: repoName, Snapshot: name, SnapUUID: info.UUID, RestoreUUID: restoreUUID, SourceIndex: p.src,
				RepoIndexID: id, Location: repo.Location, StartMs: st.nowMs, Node: node.Name, Rate: st.RecoveryRate}
			for sh := 0; sh < p.meta.Shards; sh++ {
				sr := shardRec{Shard: sh}
				var sf shardSnapFile
				if err := readJSONFile(repo.path("indices", id, strconv.Itoa(sh), "snap-"+info.UUID+".dat"), &sf); err != nil {
					sr.Failed = "failed to read shard snapshot file: " + err.Error()
				}
				for _, f := range sf.Files {
					sr.Files = append(sr.Files, blobFile{Shard: sh, Name: f.Name, Physical: f.Physical, Length: f.Length, Checksum: f.Checksum, Seed: f.Seed})
				}
				rec.Shards = append(rec.Shards, sr)
			}
			replicas := p.meta.Replicas
			if v, ok := flattenSettings("", body.IndexSettings)["index.number_of_replicas"]; ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					replicas = n
				}
			}
			ix := newIndex(st, p.dst, p.meta.Shards, replicas)
			if cur := st.Indices[p.dst]; cur != nil {
				ix.UUID = cur.UUID
			}
			ix.Segments = p.meta.Segments
			ix.Stored, ix.DocType, ix.NextSeqNo = p.meta.Stored, p.meta.DocType, p.meta.NextSeqNo
			for _, sg := range ix.Segments {
				if sg.Gen > ix.NextGen {
					ix.NextGen = sg.Gen
				}
			}
			ix.Restored = &restoreID{Repo: repoName, Snapshot: name, UUID: p.meta.Lineage}
			ix.Recovery = rec
			st.Indices[p.dst] = ix
			targets = append(targets, p.dst)
			shardsTotal += p.meta.Shards
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if !rc.flag("wait_for_completion", false) {
		rc.json(http.StatusOK, obj{{"accepted", true}})
		return
	}
	failed := 0
	_, err = rc.wait(365*24*time.Hour, func(st *state) bool {
		failed = 0
		for _, t := range targets {
			ix := st.Indices[t]
			if ix == nil || ix.Recovery == nil {
				continue
			}
			if !ix.Recovery.done() {
				return false
			}
			for _, sh := range ix.Recovery.Shards {
				if sh.Failed != "" {
					failed++
				}
			}
		}
		return true
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if targets == nil {
		targets = []string{}
	}
	rc.json(http.StatusOK, obj{{"snapshot", obj{{"snapshot", name}, {"indices", targets},
		{"shards", obj{{"total", shardsTotal}, {"failed", failed}, {"successful", shardsTotal - failed}}}}}})
}
