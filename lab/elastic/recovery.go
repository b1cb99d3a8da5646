package elastic

import (
	"fmt"
	"strconv"
	"strings"
)

// recovery is the state of a snapshot restore of one index.
type recovery struct {
	Repo        string     `json:"repo"`
	Snapshot    string     `json:"snapshot"`
	SnapUUID    string     `json:"snapshot_uuid"`
	RestoreUUID string     `json:"restore_uuid"`
	SourceIndex string     `json:"source_index"`
	RepoIndexID string     `json:"repo_index_id"`
	Location    string     `json:"location"`
	StartMs     int64      `json:"start_ms"`
	DoneMs      int64      `json:"done_ms,omitempty"`
	Node        string     `json:"node"`
	Shards      []shardRec `json:"shards"`
	Failed      string     `json:"failed,omitempty"`
	// Rate overrides the cluster's recovery rate (bytes per second) for
	// this restore: set by `es-standin fault --recovery-rate`.
	Rate int64 `json:"rate,omitempty"`
}

type shardRec struct {
	Shard   int        `json:"shard"`
	Files   []blobFile `json:"files"`
	Checked int        `json:"checked"`
	Failed  string     `json:"failed,omitempty"`
}

// rate is the bytes per second recovery r goes at.
func (c *Cluster) rate(r *recovery) int64 {
	if r.Rate > 0 {
		return r.Rate
	}
	return c.opts.RecoveryRate
}

func (r *recovery) done() bool { return r.DoneMs > 0 || r.Failed != "" }

func (s *shardRec) total() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Length
	}
	return n
}

// shardProgress is a shard's recovery position at a point in time.
type shardProgress struct {
	stage                   string
	bytes, total            int64
	files, totalFiles       int
	startMs, stopMs, tookMs int64
}

// progress computes where a shard's recovery stands at nowMs.
func (c *Cluster) progress(r *recovery, s *shardRec, nowMs int64) shardProgress {
	p := shardProgress{total: s.total(), totalFiles: len(s.Files), startMs: r.StartMs}
	init := c.opts.RecoveryInitDelay.Milliseconds()
	if init < 0 {
		init = 0
	}
	el := nowMs - r.StartMs - init
	switch {
	case r.DoneMs > 0:
		p.stage, p.bytes, p.files, p.stopMs = "DONE", p.total, p.totalFiles, r.DoneMs
		p.tookMs = r.DoneMs - r.StartMs
		return p
	case el < 0:
		p.stage = "INIT"
	default:
		p.stage = "INDEX"
		p.bytes = el * c.rate(r) / 1000
		if p.bytes > p.total {
			p.bytes = p.total
		}
	}
	if s.Failed != "" && s.Checked < len(s.Files) {
		var cum int64
		for _, f := range s.Files[:s.Checked] {
			cum += f.Length
		}
		if p.bytes > cum {
			p.bytes = cum
		}
	}
	var cum int64
	for _, f := range s.Files {
		if cum+f.Length > p.bytes {
			break
		}
		cum += f.Length
		p.files++
	}
	p.tookMs = nowMs - r.StartMs
	return p
}

// recoverDue reads back the blobs a recovery has reached and completes it
// when every shard has all its bytes.
func (c *Cluster) recoverDue(st *state, ix *index) {
	r := ix.Recovery
	allDone := true
	var finish int64
	for i := range r.Shards {
		s := &r.Shards[i]
		if s.Failed != "" {
			r.Failed = s.Failed
			continue
		}
		p := c.progress(r, s, st.nowMs)
		var cum int64
		for j, f := range s.Files {
			cum += f.Length
			if cum > p.bytes {
				break
			}
			if j < s.Checked {
				continue
			}
			if err := checkBlob(r.Location, r.RepoIndexID, f); err != nil {
				s.Failed = fmt.Sprintf("failed recovery, failure RecoveryFailedException[[%s][%d]: Recovery failed from {%s}]; nested: IndexShardRestoreFailedException[restore failed]; nested: %v",
					ix.Name, s.Shard, r.Repo+":"+r.Snapshot, err)
				r.Failed = s.Failed
				break
			}
			s.Checked = j + 1
		}
		if s.Failed != "" || s.Checked < len(s.Files) {
			allDone = false
			continue
		}
		end := r.StartMs + c.opts.RecoveryInitDelay.Milliseconds() + (s.total()*1000+c.rate(r)-1)/c.rate(r)
		if end > finish {
			finish = end
		}
	}
	if r.Failed != "" {
		return
	}
	if allDone {
		if finish > st.nowMs || finish < r.StartMs {
			finish = st.nowMs
		}
		r.DoneMs = finish
	}
}

// recoveryShard renders one shard of GET _recovery.
func (c *Cluster) recoveryShard(st *state, ix *index, shard int, human bool) obj {
	node := c.localNodeFor(st)
	out := obj{{"id", shard}}
	var p shardProgress
	var src obj
	typ := "EMPTY_STORE"
	if r := ix.Recovery; r != nil && shard < len(r.Shards) {
		typ = "SNAPSHOT"
		p = c.progress(r, &r.Shards[shard], st.nowMs)
		src = obj{{"repository", r.Repo}, {"snapshot", r.Snapshot}, {"version", c.version()}, {"index", r.SourceIndex}}
		if !c.es6() {
			src = src.add("restoreUUID", r.RestoreUUID) // 7.x+ SnapshotRecoverySource
		}
	} else {
		p = shardProgress{stage: "DONE", startMs: ix.CreatedMs, stopMs: ix.CreatedMs + 40, tookMs: 40}
		src = obj{}
	}
	out = out.add("type", typ).add("stage", p.stage).add("primary", true)
	out = timeField(out, "start_time", p.startMs, human, true)
	out = timeField(out, "stop_time", p.stopMs, human, true)
	out = durField(out, "total_time", p.tookMs, human)
	out = out.add("source", src)
	out = out.add("target", obj{{"id", node.ID}, {"host", "127.0.0.1"}, {"transport_address", "127.0.0.1:9300"}, {"ip", "127.0.0.1"}, {"name", node.Name}})
	size := obj{}
	size = sizeField(size, "total", p.total, human)
	size = sizeField(size, "reused", 0, human)
	size = sizeField(size, "recovered", p.bytes, human)
	if !c.es6() {
		size = sizeField(size, "recovered_from_snapshot", p.bytes, human) // 7.15+
	}
	size = size.add("percent", percent(p.bytes, p.total))
	files := obj{{"total", p.totalFiles}, {"reused", 0}, {"recovered", p.files}, {"percent", percent(int64(p.files), int64(p.totalFiles))}}
	idx := obj{{"size", size}, {"files", files}}
	idx = durField(idx, "total_time", p.tookMs, human)
	idx = durField(idx, "source_throttle_time", 0, human)
	idx = durField(idx, "target_throttle_time", 0, human)
	out = out.add("index", idx)
	tl := obj{{"recovered", 0}, {"total", 0}, {"percent", "100.0%"}, {"total_on_start", 0}}
	tl = durField(tl, "total_time", 0, human)
	out = out.add("translog", tl)
	vi := durField(obj{}, "check_index_time", 0, human)
	vi = durField(vi, "total_time", 0, human)
	return out.add("verify_index", vi)
}

func (c *Cluster) localNodeFor(st *state) *nodeInfo {
	ns := c.liveNodes(st)
	if len(ns) == 0 {
		return &nodeInfo{Name: "node-0", ID: stableID("node-0")}
	}
	return ns[0]
}

func timeField(o obj, name string, ms int64, human, always bool) obj {
	if human {
		s := "0s"
		if ms > 0 {
			s = fmtTime(ms)
		}
		o = o.add(name, s)
	}
	return o.add(name+"_in_millis", ms)
}

func durField(o obj, name string, ms int64, human bool) obj {
	if human {
		o = o.add(name, humanMillis(ms))
	}
	return o.add(name+"_in_millis", ms)
}

func sizeField(o obj, name string, n int64, human bool) obj {
	if human {
		o = o.add(name, humanBytes(n))
	}
	return o.add(name+"_in_bytes", n)
}

// catRecoveryRows lists _cat/recovery rows for the given indices.
func (c *Cluster) catRecoveryRows(st *state, list []*index, activeOnly bool) [][]string {
	var rows [][]string
	for _, ix := range list {
		if ix.Status != "open" {
			continue
		}
		for s := 0; s < ix.Shards; s++ {
			var p shardProgress
			typ, rep, snap := "empty_store", "n/a", "n/a"
			if r := ix.Recovery; r != nil && s < len(r.Shards) {
				p = c.progress(r, &r.Shards[s], st.nowMs)
				typ, rep, snap = "snapshot", r.Repo, r.Snapshot
			} else {
				p = shardProgress{stage: "DONE", tookMs: 40}
			}
			if activeOnly && p.stage == "DONE" {
				continue
			}
			node := c.localNodeFor(st)
			rows = append(rows, []string{ix.Name, strconv.Itoa(s), humanMillis(p.tookMs), typ, strings.ToLower(p.stage),
				"n/a", "n/a", "127.0.0.1", node.Name, rep, snap,
				strconv.Itoa(p.totalFiles), strconv.Itoa(p.files), percent(int64(p.files), int64(p.totalFiles)), strconv.Itoa(p.totalFiles),
				humanBytes(p.total), humanBytes(p.bytes), percent(p.bytes, p.total), humanBytes(p.total),
				"0", "0", "100.0%"})
		}
	}
	return rows
}
