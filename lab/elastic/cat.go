package elastic

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// catCol is one _cat column: its name, aliases and alignment.
type catCol struct {
	name    string
	aliases []string
	right   bool
	hidden  bool // not shown unless asked for with h=
}

// catTable renders _cat output as text (optionally with a ?v header) or JSON.
type catTable struct {
	cols []catCol
	rows [][]string
}

// drop removes the named columns (and their cells) from the table: the
// columns a release did not have yet.
func (t *catTable) drop(names ...string) {
	for _, name := range names {
		i := t.colIndex(name)
		if i < 0 {
			continue
		}
		t.cols = append(t.cols[:i:i], t.cols[i+1:]...)
		for r, row := range t.rows {
			if i < len(row) {
				t.rows[r] = append(row[:i:i], row[i+1:]...)
			}
		}
	}
}

func (t *catTable) colIndex(name string) int {
	for i, c := range t.cols {
		if c.name == name {
			return i
		}
		for _, a := range c.aliases {
			if a == name {
				return i
			}
		}
	}
	return -1
}

// write renders the table honouring v, h, s and format.
func (t *catTable) write(rc *reqCtx) {
	type sel struct {
		idx   int
		label string
	}
	var cols []sel
	if h := rc.query("h"); h != "" {
		for _, name := range strings.Split(h, ",") {
			name = strings.TrimSpace(name)
			if strings.Contains(name, "*") {
				for i, c := range t.cols {
					if ok, _ := pathMatch(name, c.name); ok {
						cols = append(cols, sel{i, c.name})
					}
				}
				continue
			}
			if i := t.colIndex(name); i >= 0 {
				cols = append(cols, sel{i, name})
			}
		}
	} else {
		for i, c := range t.cols {
			if !c.hidden {
				cols = append(cols, sel{i, c.name})
			}
		}
	}
	rows := append([][]string(nil), t.rows...)
	if s := rc.query("s"); s != "" {
		keys := strings.Split(s, ",")
		sort.SliceStable(rows, func(a, b int) bool {
			for _, k := range keys {
				name, dir, _ := strings.Cut(k, ":")
				i := t.colIndex(name)
				if i < 0 {
					continue
				}
				x, y := rows[a][i], rows[b][i]
				if x == y {
					continue
				}
				less := x < y
				if xf, err1 := strconv.ParseFloat(x, 64); err1 == nil {
					if yf, err2 := strconv.ParseFloat(y, 64); err2 == nil {
						less = xf < yf
					}
				}
				if dir == "desc" {
					return !less
				}
				return less
			}
			return false
		})
	}
	if rc.query("format") == "json" {
		out := make([]obj, 0, len(rows))
		for _, r := range rows {
			o := obj{}
			for _, c := range cols {
				var v any = r[c.idx]
				if r[c.idx] == "" {
					v = nil
				}
				o = o.add(c.label, v)
			}
			out = append(out, o)
		}
		rc.json(http.StatusOK, out)
		return
	}
	widths := make([]int, len(cols))
	verbose := rc.flag("v", false)
	for i, c := range cols {
		if verbose {
			widths[i] = len(c.label)
		}
		for _, r := range rows {
			if l := len(r[c.idx]); l > widths[i] {
				widths[i] = l
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, cell := range cells {
			right := t.cols[cols[i].idx].right
			last := i == len(cells)-1
			pad := strings.Repeat(" ", widths[i]-len(cell))
			if right {
				b.WriteString(pad + cell)
			} else {
				b.WriteString(cell)
				if !last {
					b.WriteString(pad)
				}
			}
			if !last {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	if verbose {
		// Headers are always left-aligned, as in the captured outputs.
		var b2 strings.Builder
		for i, c := range cols {
			b2.WriteString(c.label)
			if i < len(cols)-1 {
				b2.WriteString(strings.Repeat(" ", widths[i]-len(c.label)+1))
			}
		}
		b.WriteString(b2.String() + "\n")
	}
	for _, r := range rows {
		var cells []string
		for _, c := range cols {
			cells = append(cells, r[c.idx])
		}
		line(cells)
	}
	rc.text(http.StatusOK, b.String())
}

func pathMatch(pattern, name string) (bool, error) {
	if pattern == "*" {
		return true, nil
	}
	pre, suf, _ := strings.Cut(pattern, "*")
	return strings.HasPrefix(name, pre) && strings.HasSuffix(name, suf), nil
}

// sizeCell formats a byte count for a _cat size column, honouring ?bytes=.
func sizeCell(rc *reqCtx, n int64) string {
	div := map[string]int64{"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}
	if d, ok := div[rc.query("bytes")]; ok {
		return strconv.FormatInt(n/d, 10)
	}
	return humanBytes(n)
}

func (s *server) catHealth(rc *reqCtx) {
	t := &catTable{cols: []catCol{{name: "epoch", aliases: []string{"t", "time"}}, {name: "timestamp", aliases: []string{"ts", "hms", "hhmmss"}},
		{name: "cluster", aliases: []string{"cl"}}, {name: "status", aliases: []string{"st"}},
		{name: "node.total", aliases: []string{"nt", "nodeTotal"}, right: true}, {name: "node.data", aliases: []string{"nd", "nodeData"}, right: true},
		{name: "shards", aliases: []string{"t", "sh", "shards.total", "shardsTotal"}, right: true}, {name: "pri", aliases: []string{"p", "shards.primary", "shardsPrimary"}, right: true},
		{name: "relo", aliases: []string{"r", "shards.relocating", "shardsRelocating"}, right: true}, {name: "init", aliases: []string{"i", "shards.initializing", "shardsInitializing"}, right: true},
		{name: "unassign", aliases: []string{"u", "shards.unassigned", "shardsUnassigned"}, right: true}, {name: "unassign.pri", aliases: []string{"up", "shards.unassigned.primary"}, right: true},
		{name: "pending_tasks", aliases: []string{"pt", "pendingTasks"}, right: true}, {name: "max_task_wait_time", aliases: []string{"mtwt", "maxTaskWaitTime"}, right: true},
		{name: "active_shards_percent", aliases: []string{"asp", "activeShardsPercent"}, right: true}}}
	err := s.c.update(func(st *state) error {
		h := s.c.clusterHealth(st, nil)
		nodes := len(s.c.liveNodes(st))
		if nodes == 0 {
			nodes = 1
		}
		now := time.UnixMilli(st.nowMs).UTC()
		pct := 100.0
		if tot := h.active + h.init + h.unassigned; tot > 0 {
			pct = float64(h.active) * 100 / float64(tot)
		}
		t.rows = append(t.rows, []string{strconv.FormatInt(now.Unix(), 10), now.Format("15:04:05"), s.c.opts.ClusterName, h.status,
			strconv.Itoa(nodes), strconv.Itoa(nodes), strconv.Itoa(h.active), strconv.Itoa(h.activePri), "0", strconv.Itoa(h.init),
			strconv.Itoa(h.unassigned), strconv.Itoa(h.unassignedPri), "0", "-", strconv.FormatFloat(pct, 'f', 1, 64) + "%"})
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if s.c.es6() {
		t.drop("unassign.pri") // 8.x column (CatHealthAction)
	}
	t.write(rc)
}

func (s *server) catIndices(rc *reqCtx) {
	t := &catTable{cols: []catCol{{name: "health", aliases: []string{"h"}}, {name: "status", aliases: []string{"s"}},
		{name: "index", aliases: []string{"i", "idx"}}, {name: "uuid", aliases: []string{"id"}},
		{name: "pri", aliases: []string{"p", "shards.primary", "shardsPrimary"}, right: true}, {name: "rep", aliases: []string{"r", "shards.replica", "shardsReplica"}, right: true},
		{name: "docs.count", aliases: []string{"dc", "docsCount"}, right: true}, {name: "docs.deleted", aliases: []string{"dd", "docsDeleted"}, right: true},
		{name: "store.size", aliases: []string{"ss", "storeSize"}, right: true}, {name: "pri.store.size", right: true},
		{name: "dataset.size", right: true}, {name: "creation.date", aliases: []string{"cd"}, right: true, hidden: true},
		{name: "creation.date.string", aliases: []string{"cds"}, hidden: true}}}
	err := s.c.update(func(st *state) error {
		expr := rc.params["index"]
		list, e := resolveIndices(st, expr, false, true)
		if e != nil {
			return e
		}
		if expr == "" {
			list = list[:0]
			for _, ix := range st.Indices {
				list = append(list, ix)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		}
		want := rc.query("health")
		for _, ix := range list {
			h := s.c.indexHealth(st, ix)
			if want != "" && h.status != want {
				continue
			}
			row := []string{h.status, ix.Status, ix.Name, ix.UUID, strconv.Itoa(ix.Shards), strconv.Itoa(ix.Replicas)}
			if ix.Status == "open" && h.activePri > 0 {
				pri := ix.priBytes()
				assigned := h.active / max(1, h.activePri)
				row = append(row, strconv.FormatInt(ix.docs(), 10), "0", sizeCell(rc, pri*int64(assigned)), sizeCell(rc, pri), sizeCell(rc, pri))
			} else {
				row = append(row, "", "", "", "", "")
			}
			row = append(row, strconv.FormatInt(ix.CreatedMs, 10), fmtTime(ix.CreatedMs))
			t.rows = append(t.rows, row)
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if s.c.es6() {
		t.drop("dataset.size") // 8.x column
	}
	t.write(rc)
}

func (s *server) catRecovery(rc *reqCtx) {
	names := []struct{ n, a string }{{"index", "i,idx"}, {"shard", "s,sh"}, {"time", "t,ti,primaryOrReplica"}, {"type", "ty"}, {"stage", "st"},
		{"source_host", "shost"}, {"source_node", "snode"}, {"target_host", "thost"}, {"target_node", "tnode"}, {"repository", "rep"},
		{"snapshot", "snap"}, {"files", "f"}, {"files_recovered", "fr"}, {"files_percent", "fp"}, {"files_total", "tf"},
		{"bytes", "b"}, {"bytes_recovered", "br"}, {"bytes_percent", "bp"}, {"bytes_total", "tb"},
		{"translog_ops", "to"}, {"translog_ops_recovered", "tor"}, {"translog_ops_percent", "top"}}
	t := &catTable{}
	rightCols := map[string]bool{"shard": true, "time": true, "files": true, "files_recovered": true, "files_percent": true, "files_total": true,
		"bytes": true, "bytes_recovered": true, "bytes_percent": true, "bytes_total": true, "translog_ops": true, "translog_ops_recovered": true, "translog_ops_percent": true}
	for _, n := range names {
		t.cols = append(t.cols, catCol{name: n.n, aliases: strings.Split(n.a, ","), right: rightCols[n.n]})
	}
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], false, true)
		if e != nil {
			return e
		}
		t.rows = s.c.catRecoveryRows(st, list, rc.flag("active_only", false))
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	t.write(rc)
}

func (s *server) catSnapshots(rc *reqCtx) {
	t := &catTable{cols: []catCol{{name: "id", aliases: []string{"snapshot"}}, {name: "repository", aliases: []string{"re", "repo"}},
		{name: "status", aliases: []string{"s"}}, {name: "start_epoch", aliases: []string{"ste", "startEpoch"}},
		{name: "start_time", aliases: []string{"sti", "startTime"}}, {name: "end_epoch", aliases: []string{"ete", "endEpoch"}},
		{name: "end_time", aliases: []string{"eti", "endTime"}, right: true}, {name: "duration", aliases: []string{"dur"}, right: true},
		{name: "indices", aliases: []string{"i"}, right: true}, {name: "successful_shards", aliases: []string{"ss"}, right: true},
		{name: "failed_shards", aliases: []string{"fs"}, right: true}, {name: "total_shards", aliases: []string{"ts"}, right: true},
		{name: "reason", aliases: []string{"r"}, hidden: true}}}
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
		for _, rn := range sel {
			snaps, _, err := s.c.snapshotsOf(st, rn)
			if err != nil {
				return err
			}
			sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].StartMs < snaps[j].StartMs })
			for _, si := range snaps {
				start := time.UnixMilli(si.StartMs).UTC()
				end := time.UnixMilli(si.EndMs).UTC()
				dur := si.EndMs - si.StartMs
				if si.State == "IN_PROGRESS" {
					dur = st.nowMs - si.StartMs
					end = time.UnixMilli(0).UTC()
				}
				t.rows = append(t.rows, []string{si.Snapshot, rn, si.State, strconv.FormatInt(start.Unix(), 10), start.Format("15:04:05"),
					strconv.FormatInt(end.Unix(), 10), end.Format("15:04:05"), humanMillis(dur), strconv.Itoa(len(si.Indices)),
					strconv.Itoa(si.SuccessShards), strconv.Itoa(si.TotalShards - si.SuccessShards), strconv.Itoa(si.TotalShards), si.Reason})
			}
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	t.write(rc)
}

func (s *server) catCount(rc *reqCtx) {
	t := &catTable{cols: []catCol{{name: "epoch", aliases: []string{"t", "time"}}, {name: "timestamp", aliases: []string{"ts", "hms", "hhmmss"}},
		{name: "count", aliases: []string{"dc", "docs.count", "docsCount"}, right: true}}}
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], false, true)
		if e != nil {
			return e
		}
		var n int64
		for _, ix := range list {
			if ix.Status == "open" && (ix.Recovery == nil || ix.Recovery.done()) {
				n += ix.docs()
			}
		}
		now := time.UnixMilli(st.nowMs).UTC()
		t.rows = append(t.rows, []string{strconv.FormatInt(now.Unix(), 10), now.Format("15:04:05"), strconv.FormatInt(n, 10)})
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	t.write(rc)
}
