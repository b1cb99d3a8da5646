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
	for _, tc := range []struct {
		name   string
		rounds []benchRound
		want   benchRound
		maxRSS int64
		pass   [3]bool // baseline, raw, RSS
		// The restore phase's medians, max RSS and verdicts.
		restore     restoreRound
		restoreMax  int64
		restorePass [3]bool
	}{
		{
			name: "odd rounds, every target met",
			rounds: []benchRound{
				{Raw: 10 * time.Second, Baseline: 30 * time.Second, Hotsnap: 12 * time.Second, RSS: 30 * mb,
					Restore: restoreRound{Raw: 4 * time.Second, Baseline: 9 * time.Second, Hotsnap: 5 * time.Second, RSS: 20 * mb}},
				{Raw: 8 * time.Second, Baseline: 20 * time.Second, Hotsnap: 10 * time.Second, RSS: 20 * mb,
					Restore: restoreRound{Raw: 5 * time.Second, Baseline: 8 * time.Second, Hotsnap: 6 * time.Second, RSS: 30 * mb}},
				{Raw: 9 * time.Second, Baseline: 40 * time.Second, Hotsnap: 11 * time.Second, RSS: 40 * mb,
					Restore: restoreRound{Raw: 6 * time.Second, Baseline: 7 * time.Second, Hotsnap: 7 * time.Second, RSS: 25 * mb}},
			},
			restore:     restoreRound{Raw: 5 * time.Second, Baseline: 8 * time.Second, Hotsnap: 6 * time.Second, RSS: 25 * mb},
			restoreMax:  30 * mb,
			restorePass: [3]bool{true, true, true},
			want:        benchRound{Raw: 9 * time.Second, Baseline: 30 * time.Second, Hotsnap: 11 * time.Second, RSS: 30 * mb},
			maxRSS:      40 * mb,
			pass:        [3]bool{true, true, true},
		},
		{
			name: "even rounds average the middle two; slower than raw, one round over 100 MB",
			rounds: []benchRound{
				{Raw: 2 * time.Second, Baseline: 5 * time.Second, Hotsnap: 6 * time.Second, RSS: 50 * mb,
					Restore: restoreRound{Raw: 2 * time.Second, Baseline: 4 * time.Second, Hotsnap: 5 * time.Second, RSS: 90 * mb}},
				{Raw: 4 * time.Second, Baseline: 7 * time.Second, Hotsnap: 8 * time.Second, RSS: 150 * mb,
					Restore: restoreRound{Raw: 4 * time.Second, Baseline: 6 * time.Second, Hotsnap: 7 * time.Second, RSS: 120 * mb}},
			},
			restore:     restoreRound{Raw: 3 * time.Second, Baseline: 5 * time.Second, Hotsnap: 6 * time.Second, RSS: 105 * mb},
			restoreMax:  120 * mb,
			restorePass: [3]bool{false, false, false},
			want:        benchRound{Raw: 3 * time.Second, Baseline: 6 * time.Second, Hotsnap: 7 * time.Second, RSS: 100 * mb},
			maxRSS:      150 * mb,
			pass:        [3]bool{false, false, false},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &benchReport{Nodes: 3, DataPerNode: 200 * mb, Rounds: tc.rounds}
			r.summarize()
			if r.Median.Raw != tc.want.Raw || r.Median.Baseline != tc.want.Baseline || r.Median.Hotsnap != tc.want.Hotsnap || r.Median.RSS != tc.want.RSS {
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
			if m := r.RestoreMedian; m.Raw != tc.restore.Raw || m.Baseline != tc.restore.Baseline || m.Hotsnap != tc.restore.Hotsnap || m.RSS != tc.restore.RSS {
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
			var out bytes.Buffer
			r.Print(&out)
			prefixes := []string{"hotsnap no slower than the baseline", "hotsnap within 1.3× of the raw bound", "hotsnap peak RSS under 100 MB",
				"hotsnap restore no slower than the baseline restore", "hotsnap restore within 1.3× of the raw bound", "hotsnap restore peak RSS under 100 MB"}
			pass := append(tc.pass[:], tc.restorePass[:]...)
			for i, prefix := range prefixes {
				want := "MISS  " + prefix
				if pass[i] {
					want = "PASS  " + prefix
				}
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
	// No baseline or raw time: ratios are 0, not a division by zero.
	if r := (&benchReport{Rounds: []benchRound{{Hotsnap: time.Second}}}); r.RatioRaw() != 0 || r.RatioBaseline() != 0 {
		t.Errorf("ratios with zero denominators: %v %v", r.RatioRaw(), r.RatioBaseline())
	}
	r := &benchReport{Rounds: []benchRound{{Restore: restoreRound{Hotsnap: time.Second}}}}
	r.summarize()
	if r.RatioRestoreRaw() != 0 || r.RatioRestoreBaseline() != 0 {
		t.Errorf("restore ratios with zero denominators: %v %v", r.RatioRestoreRaw(), r.RatioRestoreBaseline())
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
	if len(verdicts) != 6 || !strings.Contains(out.String(), "hotsnap peak RSS: median ") || !strings.Contains(out.String(), "hotsnap restore peak RSS: median ") {
		t.Errorf("report: want 6 verdict lines (backup, restore) and both RSS lines:\n%s", out.String())
	}
	// The restore rows: measured, and each restore checked at the
	// application level (a failed check fails runBench).
	rm := r.RestoreMedian
	if rm.Raw <= 0 || rm.Baseline <= 0 || rm.Hotsnap <= 0 || rm.BaselineHealthy < rm.Baseline || rm.RSS <= 0 || r.RestoreMaxRSS < rm.RSS {
		t.Errorf("restore timings and RSS must be > 0 (baseline until healthy ≥ the script): %+v", rm)
	}
	if rm.RawBytes <= 0 || rm.RawBytes != rm.HotsnapBytes || rm.BaselineBytes <= 0 {
		t.Errorf("restore bytes: the raw bound moves the backup's archives: %+v", rm)
	}
	if r.RatioRestoreBaseline() != float64(rm.Hotsnap)/float64(rm.Baseline) || r.RatioRestoreRaw() != float64(rm.Hotsnap)/float64(rm.Raw) {
		t.Errorf("restore ratios %v %v not computed from %+v", r.RatioRestoreBaseline(), r.RatioRestoreRaw(), rm)
	}
	for _, row := range []string{"raw bound (archives → ssh → tar -x", "baseline: the published restore (stop, 2 scripts, start)", "hotsnap restore --yes --confirm"} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("report lacks the restore row %q:\n%s", row, out.String())
		}
	}
	// Two restores per round (baseline, hotsnap), warm-up included.
	if len(r.Checks) != 4 {
		t.Fatalf("want 4 application-level checks (2 rounds × baseline, hotsnap), got %d: %q", len(r.Checks), r.Checks)
	}
	checkRE := regexp.MustCompile(`^(baseline|hotsnap) restore: ([1-9]\d*) rows in [1-9]\d* tables, ([1-9]\d*) documents in thehive_global, ([1-9]\d*) attachments identical.*, TheHive healthy on 3 nodes$`)
	for i, c := range r.Checks {
		m := checkRE.FindStringSubmatch(c)
		if m == nil || m[1] != []string{"baseline", "hotsnap"}[i%2] {
			t.Errorf("check %d: %q", i, c)
		}
	}
	if !strings.Contains(out.String(), "hotsnap restore steps (last round): ") || !strings.Contains(out.String(), "Restore the keyspace ") {
		t.Errorf("report lacks hotsnap's restore steps:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "application-level checks passed after 4 restores") {
		t.Errorf("report lacks the checks:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
	if _, err := lab.Open(lab.Options{Name: "hsbt", StateDir: o.Lab.StateDir}); err == nil {
		t.Error("the bench lab is still up after runBench without Keep")
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
