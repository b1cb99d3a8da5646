package main

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
)

func TestBenchMedianAndVerdicts(t *testing.T) {
	const mb = 1 << 20
	fixed := func(d time.Duration) benchFixed { return benchFixed{Total: d, Wall: d + time.Second} }
	for _, tc := range []struct {
		name   string
		rounds []benchRound
		want   benchRound
		maxRSS int64
		// The restore phase's medians and max RSS.
		restore    restoreRound
		restoreMax int64
		// verdicts: each target's line (its start) and whether it passed;
		// absent lists lines that must not be printed.
		verdicts map[string]bool
		absent   []string
	}{
		{
			name: "odd rounds, every target met",
			rounds: []benchRound{
				{Raw: 10 * time.Second, Baseline: 30 * time.Second, Hotsnap: 10 * time.Second, RSS: 30 * mb, Fixed: fixed(800 * time.Millisecond),
					Restore: restoreRound{Raw: 4 * time.Second, Baseline: 9 * time.Second, BaselineHealthy: 10 * time.Second, Hotsnap: 5 * time.Second, Outage: 3 * time.Second, RSS: 20 * mb,
						Other: 7 * time.Second, OtherOutage: 5 * time.Second, OtherNodes: 2, OtherRSS: 35 * mb}},
				{Raw: 8 * time.Second, Baseline: 20 * time.Second, Hotsnap: 9 * time.Second, RSS: 20 * mb, Fixed: fixed(900 * time.Millisecond),
					Restore: restoreRound{Raw: 5 * time.Second, Baseline: 10 * time.Second, BaselineHealthy: 12 * time.Second, Hotsnap: 6 * time.Second, Outage: 4 * time.Second, RSS: 30 * mb,
						Other: 6 * time.Second, OtherOutage: 5 * time.Second, OtherNodes: 2, OtherRSS: 20 * mb}},
				{Raw: 9 * time.Second, Baseline: 40 * time.Second, Hotsnap: 10 * time.Second, RSS: 40 * mb, Fixed: fixed(700 * time.Millisecond),
					Restore: restoreRound{Raw: 6 * time.Second, Baseline: 11 * time.Second, BaselineHealthy: 11 * time.Second, Hotsnap: 7 * time.Second, Outage: 2 * time.Second, RSS: 25 * mb,
						Other: 5 * time.Second, OtherOutage: 5 * time.Second, OtherNodes: 2, OtherRSS: 20 * mb}},
			},
			restore: restoreRound{Raw: 5 * time.Second, Baseline: 10 * time.Second, BaselineHealthy: 11 * time.Second, Hotsnap: 6 * time.Second, Outage: 3 * time.Second, RSS: 25 * mb,
				Other: 6 * time.Second, OtherOutage: 5 * time.Second, OtherNodes: 2, OtherRSS: 20 * mb},
			restoreMax: 35 * mb,
			want:       benchRound{Raw: 9 * time.Second, Baseline: 30 * time.Second, Hotsnap: 10 * time.Second, RSS: 30 * mb, Fixed: benchFixed{Total: 800 * time.Millisecond}},
			maxRSS:     40 * mb,
			verdicts: map[string]bool{
				"hotsnap backup ≤ 1.0× the published procedure: 0.33×":                                                 true,
				"hotsnap backup (every node) ≤ 1.2× the raw bound (every node): 1.11×":                                 true,
				"hotsnap's fixed cost in a backup ≤ 1s on the 3-node lab: 800ms":                                       true,
				"hotsnap peak RSS under 100 MB":                                                                        true,
				"hotsnap restore ≤ 0.7× the published restore: 0.60×":                                                  true,
				"TheHive's outage in hotsnap's restore ≤ 0.5× the published restore's: 0.27× (3s vs 11s)":              true,
				"hotsnap restore into 2 nodes ≤ 0.7× the published restore: 0.60×":                                     true,
				"TheHive's outage in hotsnap's restore into 2 nodes ≤ 0.5× the published restore's: 0.45× (5s vs 11s)": true,
				"hotsnap restore within 1.3× of the raw bound: 1.20×":                                                  true,
				"hotsnap restore peak RSS under 100 MB: max 35.0 MiB":                                                  true,
			},
		},
		{
			name: "even rounds average the middle two; every target missed, one round over 100 MB",
			rounds: []benchRound{
				{Raw: 2 * time.Second, Baseline: 5 * time.Second, Hotsnap: 6 * time.Second, RSS: 50 * mb, Fixed: fixed(1500 * time.Millisecond),
					Restore: restoreRound{Raw: 2 * time.Second, Baseline: 4 * time.Second, BaselineHealthy: 5 * time.Second, Hotsnap: 5 * time.Second, Outage: 4 * time.Second, RSS: 90 * mb}},
				{Raw: 4 * time.Second, Baseline: 7 * time.Second, Hotsnap: 8 * time.Second, RSS: 150 * mb, Fixed: fixed(2 * time.Second),
					Restore: restoreRound{Raw: 4 * time.Second, Baseline: 6 * time.Second, BaselineHealthy: 7 * time.Second, Hotsnap: 7 * time.Second, Outage: 4 * time.Second, RSS: 120 * mb}},
			},
			restore:    restoreRound{Raw: 3 * time.Second, Baseline: 5 * time.Second, BaselineHealthy: 6 * time.Second, Hotsnap: 6 * time.Second, Outage: 4 * time.Second, RSS: 105 * mb},
			restoreMax: 120 * mb,
			want:       benchRound{Raw: 3 * time.Second, Baseline: 6 * time.Second, Hotsnap: 7 * time.Second, RSS: 100 * mb, Fixed: benchFixed{Total: 1750 * time.Millisecond}},
			maxRSS:     150 * mb,
			verdicts: map[string]bool{
				"hotsnap backup ≤ 1.0× the published procedure: 1.17×":                        false,
				"hotsnap backup (every node) ≤ 1.2× the raw bound (every node): 2.33×":        false,
				"hotsnap's fixed cost in a backup ≤ 1s on the 3-node lab: 1.75s":              false,
				"hotsnap peak RSS under 100 MB":                                               false,
				"hotsnap restore ≤ 0.7× the published restore: 1.20×":                         false,
				"TheHive's outage in hotsnap's restore ≤ 0.5× the published restore's: 0.67×": false,
				"hotsnap restore within 1.3× of the raw bound: 2.00×":                         false,
				"hotsnap restore peak RSS under 100 MB":                                       false,
			},
			absent: []string{"into 2 nodes", "hotsnap restore --set-rf into"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &benchReport{Nodes: 3, DataPerNode: 200 * mb, Rounds: tc.rounds}
			r.summarize()
			if r.Median.Raw != tc.want.Raw || r.Median.Baseline != tc.want.Baseline || r.Median.Hotsnap != tc.want.Hotsnap || r.Median.RSS != tc.want.RSS || r.Median.Fixed.Total != tc.want.Fixed.Total {
				t.Fatalf("median = %+v, want %+v", r.Median, tc.want)
			}
			if r.MaxRSS != tc.maxRSS {
				t.Errorf("MaxRSS = %d, want %d", r.MaxRSS, tc.maxRSS)
			}
			if got, want := r.RatioBaseline(), float64(tc.want.Hotsnap)/float64(tc.want.Baseline); got != want {
				t.Errorf("RatioBaseline = %v, want %v", got, want)
			}
			if got, want := r.RatioRaw(), float64(tc.want.Hotsnap)/float64(tc.want.Raw); got != want {
				t.Errorf("RatioRaw = %v, want %v", got, want)
			}
			if m := r.RestoreMedian; m.Raw != tc.restore.Raw || m.Baseline != tc.restore.Baseline || m.Hotsnap != tc.restore.Hotsnap || m.RSS != tc.restore.RSS ||
				m.BaselineHealthy != tc.restore.BaselineHealthy || m.Outage != tc.restore.Outage || m.Other != tc.restore.Other || m.OtherOutage != tc.restore.OtherOutage || m.OtherNodes != tc.restore.OtherNodes {
				t.Fatalf("restore median = %+v, want %+v", m, tc.restore)
			}
			if r.RestoreMaxRSS != tc.restoreMax {
				t.Errorf("RestoreMaxRSS = %d, want %d", r.RestoreMaxRSS, tc.restoreMax)
			}
			if got, want := r.RatioRestoreBaseline(), float64(tc.restore.Hotsnap)/float64(tc.restore.Baseline); got != want {
				t.Errorf("RatioRestoreBaseline = %v, want %v", got, want)
			}
			if got, want := r.RatioRestoreRaw(), float64(tc.restore.Hotsnap)/float64(tc.restore.Raw); got != want {
				t.Errorf("RatioRestoreRaw = %v, want %v", got, want)
			}
			if got, want := r.RatioOutageBaseline(), float64(tc.restore.Outage)/float64(tc.restore.BaselineHealthy); got != want {
				t.Errorf("RatioOutageBaseline = %v, want %v", got, want)
			}
			var out bytes.Buffer
			r.Print(&out)
			for line, pass := range tc.verdicts {
				want := "MISS  " + line
				if pass {
					want = "PASS  " + line
				}
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
			if n := len(regexp.MustCompile(`(?m)^(PASS|MISS)  `).FindAllString(out.String(), -1)); n != len(tc.verdicts) {
				t.Errorf("%d verdict lines, want %d:\n%s", n, len(tc.verdicts), out.String())
			}
			for _, a := range tc.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("report has %q, which was not measured:\n%s", a, out.String())
				}
			}
		})
	}
	// No baseline or raw time: ratios are 0, not a division by zero.
	if r := (&benchReport{Rounds: []benchRound{{Hotsnap: time.Second}}}); r.RatioRaw() != 0 || r.RatioBaseline() != 0 {
		t.Errorf("ratios with zero denominators: %v %v", r.RatioRaw(), r.RatioBaseline())
	}
	r := &benchReport{Rounds: []benchRound{{Restore: restoreRound{Hotsnap: time.Second, Outage: time.Second}}}}
	r.summarize()
	if r.RatioRestoreRaw() != 0 || r.RatioRestoreBaseline() != 0 || r.RatioOutageBaseline() != 0 {
		t.Errorf("restore ratios with zero denominators: %v %v %v", r.RatioRestoreRaw(), r.RatioRestoreBaseline(), r.RatioOutageBaseline())
	}
	// backup --one-node's target: ≤ 1× at 200 MB, ≤ 0.5× at 2 GB.
	for size, want := range map[string]float64{"200MB": 1, "1GB": 1, "2GB": 0.5, "2GiB": 0.5} {
		n, err := lab.ParseSize(size)
		if err != nil {
			t.Fatal(err)
		}
		if got := oneNodeTarget(n); got != want {
			t.Errorf("oneNodeTarget(%s) = %v, want %v", size, got, want)
		}
	}
}

// TestBenchTinyLab runs the whole benchmark on a 4 MB lab of its own: a
// well-formed report (not a timing target: benchmarks are not timed tests),
// and the lab gone afterwards.
func TestBenchTinyLab(t *testing.T) {
	needLab(t)
	dir, err := os.MkdirTemp("", "hotsnap-bench-") // not t.TempDir: its parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil { // the lab users reach their authorized_keys inside
		t.Fatal(err)
	}
	var logb bytes.Buffer
	o := benchOptions{
		Lab:  lab.Options{Name: "hsbt", Subnet: 21, Nodes: 3, Data: 4 << 20, StateDir: filepath.Join(dir, "lab"), Binary: e2e.bin},
		Runs: 1, Log: &logb,
		Topology: lab.Options{Name: topologyName("hsbt"), Subnet: 214, Nodes: 2, StateDir: filepath.Join(dir, "lab-topology")},
	}
	r, err := runBench(t.Context(), o)
	if err != nil {
		t.Fatalf("runBench: %v\nlog:\n%s", err, logb.String())
	}
	if len(r.Rounds) != 1 || !strings.Contains(logb.String(), "warm-up round: raw ") {
		t.Fatalf("want one measured round after a warm-up, got %d rounds; log:\n%s", len(r.Rounds), logb.String())
	}
	m := r.Median
	if m.Raw <= 0 || m.Baseline <= 0 || m.Hotsnap <= 0 {
		t.Errorf("timings must be > 0: %+v", m)
	}
	if m.RSS <= 0 || r.MaxRSS < m.RSS {
		t.Errorf("peak RSS %d (max %d): want > 0", m.RSS, r.MaxRSS)
	}
	if m.RawBytes <= 0 || m.BaselineBytes <= 0 || m.HotsnapBytes <= 0 || r.CassandraOn <= 0 || r.FilesOn <= 0 {
		t.Errorf("sizes must be > 0: round %+v, report %+v", m, r)
	}
	// The raw bound tars every node's snapshot: the Cassandra data on disk.
	if m.RawBytes < r.CassandraOn*9/10 {
		t.Errorf("raw bound tarred %d bytes of %d on disk", m.RawBytes, r.CassandraOn)
	}
	if r.RatioBaseline() != float64(m.Hotsnap)/float64(m.Baseline) || r.RatioRaw() != float64(m.Hotsnap)/float64(m.Raw) {
		t.Errorf("ratios %v %v not computed from %+v", r.RatioBaseline(), r.RatioRaw(), m)
	}
	var out bytes.Buffer
	r.Print(&out)
	verdicts := regexp.MustCompile(`(?m)^(PASS|MISS)  `).FindAllString(out.String(), -1)
	if len(verdicts) != 10 || !strings.Contains(out.String(), "hotsnap peak RSS: median ") || !strings.Contains(out.String(), "hotsnap restore peak RSS: median ") {
		t.Errorf("report: want 10 verdict lines (backup 4, restore 6) and both RSS lines:\n%s", out.String())
	}
	// The fixed cost, from the backup's journal: part of its time, made of
	// named steps.
	if f := r.Rounds[0].Fixed; f.Total <= 0 || f.Total >= m.Hotsnap || f.Data <= 0 || f.Wall != m.Hotsnap || len(f.Steps) < 5 || !slices.ContainsFunc(f.DataSteps, func(s benchStep) bool { return s.Title == "stream" }) {
		t.Errorf("fixed cost %+v of a %s backup", f, m.Hotsnap)
	}
	if m.OneNodeFixed <= 0 || m.OneNodeFixed >= m.OneNode {
		t.Errorf("--one-node's fixed cost %s of %s", m.OneNodeFixed, m.OneNode)
	}
	if !regexp.MustCompile(`hotsnap fixed cost \(backup less the steps that move data, from its journal\): median \S+ \(rounds: \S+\), --one-node \S+\n  last round: \S+ = \S+ wall − \S+ moving data \(stream [^)]*\); outside the runbook [^;]*; steps: .*\(\d+ at once\).*; between steps \S+\n`).MatchString(out.String()) {
		t.Errorf("report lacks the fixed cost and its steps:\n%s", out.String())
	}
	// The restore rows: measured, and each restore checked at the
	// application level (a failed check fails runBench).
	rm := r.RestoreMedian
	if rm.Raw <= 0 || rm.Baseline <= 0 || rm.Hotsnap <= 0 || rm.BaselineHealthy < rm.Baseline || rm.RSS <= 0 || r.RestoreMaxRSS < rm.RSS {
		t.Errorf("restore timings and RSS must be > 0 (baseline until healthy ≥ the script): %+v", rm)
	}
	// TheHive's outage: part of each hotsnap restore; the restore into 2 nodes measured too.
	if rm.Outage <= 0 || rm.Outage >= rm.Hotsnap || rm.OtherNodes != 2 || rm.Other <= 0 || rm.OtherOutage <= 0 || rm.OtherOutage >= rm.Other || rm.OtherRSS <= 0 || r.RestoreMaxRSS < rm.OtherRSS {
		t.Errorf("outages and the restore into 2 nodes: %+v", rm)
	}
	if r.RatioOutageBaseline() != float64(rm.Outage)/float64(rm.BaselineHealthy) {
		t.Errorf("outage ratio %v not computed from %+v", r.RatioOutageBaseline(), rm)
	}
	if rm.RawBytes <= 0 || rm.RawBytes != rm.HotsnapBytes || rm.BaselineBytes <= 0 {
		t.Errorf("restore bytes: the raw bound moves the backup's archives: %+v", rm)
	}
	if r.RatioRestoreBaseline() != float64(rm.Hotsnap)/float64(rm.Baseline) || r.RatioRestoreRaw() != float64(rm.Hotsnap)/float64(rm.Raw) {
		t.Errorf("restore ratios %v %v not computed from %+v", r.RatioRestoreBaseline(), r.RatioRestoreRaw(), rm)
	}
	for _, row := range []string{"raw bound (archives → ssh → tar -x", "baseline: the published restore (stop, 2 scripts, start)", "hotsnap restore --yes --confirm", "hotsnap restore --set-rf into 2 nodes (sstableloader)"} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("report lacks the restore row %q:\n%s", row, out.String())
		}
	}
	// Three restores per round (baseline, hotsnap, hotsnap into 2 nodes), warm-up included.
	if len(r.Checks) != 6 {
		t.Fatalf("want 6 application-level checks (2 rounds × baseline, hotsnap, into 2 nodes), got %d: %q", len(r.Checks), r.Checks)
	}
	checkRE := regexp.MustCompile(`^(baseline restore|hotsnap restore|hotsnap restore into 2 nodes): ([1-9]\d*) rows in [1-9]\d* tables, ([1-9]\d*) documents in thehive_global, ([1-9]\d*) attachments identical.*, TheHive healthy on (\d) nodes$`)
	for i, c := range r.Checks {
		m := checkRE.FindStringSubmatch(c)
		if m == nil || m[1] != []string{"baseline restore", "hotsnap restore", "hotsnap restore into 2 nodes"}[i%3] || m[5] != []string{"3", "3", "2"}[i%3] {
			t.Errorf("check %d: %q", i, c)
		}
	}
	if !strings.Contains(out.String(), "hotsnap restore steps (last round): ") || !strings.Contains(out.String(), "Restore the keyspace ") {
		t.Errorf("report lacks hotsnap's restore steps:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "application-level checks passed after 6 restores") {
		t.Errorf("report lacks the checks:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
	for _, lo := range []lab.Options{o.Lab, o.Topology} {
		if _, err := lab.Open(lab.Options{Name: lo.Name, StateDir: lo.StateDir}); err == nil {
			t.Errorf("the bench lab %s is still up after runBench without Keep", lo.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(o.Lab.StateDir, "backups")); err == nil {
		t.Error("the bench lab's state was not purged")
	}
}

// TestBenchAppStateDiff: the restore check fails on a missing row, document
// or attachment, changed content or a stray file, and on owners and modes
// only when asked (the documented restore loses them).
func TestBenchAppStateDiff(t *testing.T) {
	want := benchAppState{
		Rows: map[string]int64{"edgestore": 10, "graphindex": 5},
		Docs: 7,
		Files: map[string]benchFile{
			"a":   {Type: 'd', UID: 1000, GID: 1000, Mode: fs.ModeDir | 0o750},
			"a/b": {Type: 'f', UID: 1000, GID: 1000, Mode: 0o640, Size: 3, SHA256: "abc"},
		},
	}
	clone := func() benchAppState {
		return benchAppState{Rows: maps.Clone(want.Rows), Docs: want.Docs, Files: maps.Clone(want.Files)}
	}
	if d := want.diff(clone(), true); len(d) != 0 {
		t.Fatalf("identical states differ: %q", d)
	}
	rootOwned := clone()
	for p, f := range rootOwned.Files {
		f.UID, f.GID, f.Mode = 0, 0, f.Mode&^0o077|0o055
		rootOwned.Files[p] = f
	}
	if d := want.diff(rootOwned, false); len(d) != 0 {
		t.Errorf("owners compared although not asked: %q", d)
	}
	if d := want.diff(rootOwned, true); len(d) != 2 {
		t.Errorf("owners and modes: want 2 differences, got %q", d)
	}
	if n := want.ownersLost(rootOwned); n != 2 {
		t.Errorf("ownersLost = %d, want 2", n)
	}
	for name, mutate := range map[string]func(*benchAppState){
		"a row short":      func(s *benchAppState) { s.Rows["edgestore"]-- },
		"a table gone":     func(s *benchAppState) { delete(s.Rows, "graphindex") },
		"a document short": func(s *benchAppState) { s.Docs-- },
		"a file missing":   func(s *benchAppState) { delete(s.Files, "a/b") },
		"content changed":  func(s *benchAppState) { f := s.Files["a/b"]; f.SHA256 = "abd"; s.Files["a/b"] = f },
		"a stray file":     func(s *benchAppState) { s.Files["created-after-the-backup"] = benchFile{Type: 'f'} },
	} {
		got := clone()
		mutate(&got)
		if d := want.diff(got, false); len(d) != 1 {
			t.Errorf("%s: want 1 difference, got %q", name, d)
		}
	}
}

// TestBenchParseSteps reads the step durations from hotsnap's plain output.
func TestBenchParseSteps(t *testing.T) {
	out := `hotsnap restore · run 20261122-232149-51385a · 12 steps

[2/12] Verify the backup before touching anything
      repository │ 592.7 MiB / 592.7 MiB (100%)
  ✓ PASS repository backup files: every file matches its manifest (592.7 MiB)
  done in 1s

[5/12] Preflight verdict
  done in 0s

[9/12] Restore the keyspace [DESTRUCTIVE]
      thehive.edgestore: 61790 rows
  done in 1m2.8s

[10/12] Restore the Elasticsearch indices [DESTRUCTIVE]
  FAILED after 1s: boom
`
	got := parseSteps(out)
	want := []benchStep{{"Verify the backup before touching anything", time.Second}, {"Restore the keyspace", 62800 * time.Millisecond}}
	if !slices.Equal(got, want) {
		t.Errorf("parseSteps = %+v, want %+v", got, want)
	}
	if s := parseSteps("no steps here\n  done in 3s\n"); len(s) != 0 {
		t.Errorf("a duration without a step title: %+v", s)
	}
}

// TestBenchJournalFixedCost derives hotsnap's fixed cost from a recorded
// backup journal (testdata/bench: a real run's journal, its commands and
// checks left out): the wall time less the data steps (stream, es-wait,
// files), the time outside the run, and the engine's time between steps.
func TestBenchJournalFixedCost(t *testing.T) {
	run := readJournalFile(t, "testdata/bench/backup-journal.jsonl")
	ts := func(s string) time.Time {
		x, err := time.Parse(time.RFC3339Nano, "2026-12-05T16:"+s+"Z")
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if got, want := run.D(), ts("27:02.866413786").Sub(ts("26:59.03472484")); got != want {
		t.Errorf("run D = %s, want %s", got, want)
	}
	// 24 steps ran; the skipped ones (lock-take-over, leftovers, …) did not.
	if len(run.Steps) != 24 {
		t.Errorf("%d steps ran, want 24: %+v", len(run.Steps), run.Steps)
	}
	if _, ok := run.span("leftovers"); ok {
		t.Error("a skipped step counted as run")
	}
	data := ts("27:02.048145063").Sub(ts("27:00.538279742")) + // stream
		ts("27:02.0675354").Sub(ts("27:02.0483703")) + // es-wait
		ts("27:02.550318829").Sub(ts("27:02.067889391")) // files
	wall := 4 * time.Second // as the bench timed the command
	f := fixedCost(wall, run)
	if f.Data != data || f.Total != wall-data || f.Wall != wall || f.Outside != wall-run.D() {
		t.Errorf("fixedCost = %+v, want data %s, total %s, outside %s", f, data, wall-data, wall-run.D())
	}
	// The preflight's 10 checks ran at once, and snapshot ∥ schema: 21
	// other steps in 11 parts, which with the time outside the run and
	// between steps add up to the fixed cost.
	if len(f.DataSteps) != 3 || len(f.Steps) != 11 {
		t.Errorf("data steps %+v, other steps %+v", f.DataSteps, f.Steps)
	}
	sum := f.Outside + f.Between
	for _, s := range f.Steps {
		sum += s.D
	}
	if sum != f.Total {
		t.Errorf("the parts add up to %s, the fixed cost is %s: %+v", sum, f.Total, f)
	}
	// Between steps: the run less what its steps cover, the preflight's
	// concurrent checks (ring … disk) and schema ∥ snapshot counted once.
	stepsCover := run.D() - f.Between
	var each time.Duration
	for _, s := range run.Steps {
		each += s.D()
	}
	if f.Between <= 0 || f.Between > 20*time.Millisecond || stepsCover >= each {
		t.Errorf("between steps %s (steps cover %s, add up to %s): concurrent steps must count once", f.Between, stepsCover, each)
	}
	// A lab with attachments on disk has a preflight check "files" (the
	// attachments' storage) among the checks run at once: not data.
	b, err := os.ReadFile("testdata/bench/backup-journal.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	local, err := parseJournal(strings.NewReader(strings.ReplaceAll(string(b), `"step":"s3"`, `"step":"files"`)))
	if err != nil {
		t.Fatal(err)
	}
	if g := fixedCost(wall, local); g.Data != f.Data || g.Total != f.Total || len(g.DataSteps) != 3 || len(g.Steps) != len(f.Steps) {
		t.Errorf("with the preflight check files: %+v, want data %s as %+v", g, f.Data, f)
	}
	// Clearing the snapshots while the attachments are copied (the steps
	// run at once): only its time after the copy is fixed cost.
	at := strings.ReplaceAll(string(b), `"ts":"2026-12-05T16:27:02.550832092Z","run":"20261205-162659-fbb968","type":"step_started","step":"clearsnapshot"`,
		`"ts":"2026-12-05T16:27:02.067889391Z","run":"20261205-162659-fbb968","type":"step_started","step":"clearsnapshot"`)
	beside, err := parseJournal(strings.NewReader(at))
	if err != nil {
		t.Fatal(err)
	}
	g := fixedCost(wall, beside)
	var clear time.Duration
	sum = g.Outside + g.Between
	for _, s := range g.Steps {
		sum += s.D
		if s.Title == "clearsnapshot" {
			clear = s.D
		}
	}
	if want := ts("27:02.678360863").Sub(ts("27:02.550318829")); clear != want || sum != g.Total || g.Total != f.Total {
		t.Errorf("clearsnapshot beside the copy: %s of fixed cost, want %s (after the copy); parts %s, total %s (was %s)", clear, want, sum, g.Total, f.Total)
	}
	line := f.String()
	for _, want := range []string{"1.989s = 4s wall − 2.011s moving data (stream 1.51s · es-wait 19ms · files 482ms)", "outside the runbook (process start, inventory, summary) 168ms",
		"steps: ring ∥ cassandra-tools ∥ disk ∥ … (10 at once) 876ms · lock 216ms · ssh 199ms · snapshot ∥ schema (2 at once) 191ms · clearsnapshot 128ms ·", "mark 10ms · 3 more under 10ms, 3ms together; between steps 10ms"} {
		if !strings.Contains(line, want) {
			t.Errorf("fixed cost line lacks %q:\n%s", want, line)
		}
	}
}

// TestBenchJournalOutage reads TheHive's outage from a recorded restore
// journal: stop-thehive's start to start-thehive's end (staging before it
// does not count).
func TestBenchJournalOutage(t *testing.T) {
	run := readJournalFile(t, "testdata/bench/restore-journal.jsonl")
	got, err := run.outage()
	if want := 5139230898 * time.Nanosecond; err != nil || got != want {
		t.Errorf("outage = %s, %v; want %s", got, err, want)
	}
	backup := readJournalFile(t, "testdata/bench/backup-journal.jsonl")
	if _, err := backup.outage(); err == nil || !strings.Contains(err.Error(), "no stop-thehive and start-thehive steps") {
		t.Errorf("a backup's outage: %v", err)
	}
}

// TestBenchJournalBroken: a journal without its end, or with a step that
// never finished, is an error, not a figure.
func TestBenchJournalBroken(t *testing.T) {
	b, err := os.ReadFile("testdata/bench/restore-journal.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for name, tc := range map[string]struct{ text, want string }{
		"killed":            {strings.Join(lines[:len(lines)-2], ""), "no run_finished entry"},
		"a step unfinished": {strings.Join(slices.Delete(slices.Clone(lines), 35, 36), ""), "step start-thehive started and never finished"},
		"not JSON":          {"{\"type\":\"run_started\"}\nnot json\n", "journal entry 2"},
		"empty":             {"", "no run_started entry"},
	} {
		if _, err := parseJournal(strings.NewReader(tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	// The run's ID from hotsnap's plain output finds its journal.
	home := t.TempDir()
	dir := filepath.Join(home, "hotsnap", "runs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "20261205-162227-d28405.jsonl"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	run, err := readRun(home, "hotsnap restore · run 20261205-162227-d28405 · 23 steps\n\n[1/23] Take the lock\n")
	if err != nil || len(run.Steps) != 16 {
		t.Errorf("readRun: %d steps, %v", len(run.Steps), err)
	}
	if _, err := readRun(home, "no header\n"); err == nil {
		t.Error("readRun without a run ID in the output")
	}
}

func readJournalFile(t *testing.T, p string) benchRun {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := parseJournal(f)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
