package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
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
	}{
		{
			name: "odd rounds, every target met",
			rounds: []benchRound{
				{Raw: 10 * time.Second, Baseline: 30 * time.Second, Hotsnap: 12 * time.Second, RSS: 30 * mb},
				{Raw: 8 * time.Second, Baseline: 20 * time.Second, Hotsnap: 10 * time.Second, RSS: 20 * mb},
				{Raw: 9 * time.Second, Baseline: 40 * time.Second, Hotsnap: 11 * time.Second, RSS: 40 * mb},
			},
			want:   benchRound{Raw: 9 * time.Second, Baseline: 30 * time.Second, Hotsnap: 11 * time.Second, RSS: 30 * mb},
			maxRSS: 40 * mb,
			pass:   [3]bool{true, true, true},
		},
		{
			name: "even rounds average the middle two; slower than raw, one round over 100 MB",
			rounds: []benchRound{
				{Raw: 2 * time.Second, Baseline: 5 * time.Second, Hotsnap: 6 * time.Second, RSS: 50 * mb},
				{Raw: 4 * time.Second, Baseline: 7 * time.Second, Hotsnap: 8 * time.Second, RSS: 150 * mb},
			},
			want:   benchRound{Raw: 3 * time.Second, Baseline: 6 * time.Second, Hotsnap: 7 * time.Second, RSS: 100 * mb},
			maxRSS: 150 * mb,
			pass:   [3]bool{false, false, false},
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
			var out bytes.Buffer
			r.Print(&out)
			for i, prefix := range []string{"hotsnap no slower than the baseline", "hotsnap within 1.3× of the raw bound", "hotsnap peak RSS under 100 MB"} {
				want := "MISS  " + prefix
				if tc.pass[i] {
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
	if len(verdicts) != 3 || !strings.Contains(out.String(), "hotsnap peak RSS: median ") {
		t.Errorf("report: want 3 verdict lines and the RSS line:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
	if _, err := lab.Open(lab.Options{Name: "hsbt", StateDir: o.Lab.StateDir}); err == nil {
		t.Error("the bench lab is still up after runBench without Keep")
	}
	if _, err := os.Stat(filepath.Join(o.Lab.StateDir, "backups")); err == nil {
		t.Error("the bench lab's state was not purged")
	}
}
