package cassandra

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSeed200MB(t *testing.T) {
	if os.Getenv("HOTSNAP_SEED_BENCH") == "" {
		t.Skip("set HOTSNAP_SEED_BENCH=1")
	}
	st, _ := OpenStore(filepath.Join(t.TempDir(), "data"))
	start := time.Now()
	if err := Seed(st, "thehive", 3, 200<<20, 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed 200MB: %v, load %d", time.Since(start), st.LoadBytes())
	if l := st.LoadBytes(); l < 200<<20 || l > 230<<20 {
		t.Fatalf("load %d not about 200 MiB", l)
	}
	start = time.Now()
	n, _ := st.CountRows("thehive", "edgestore")
	t.Logf("count %d rows: %v", n, time.Since(start))
}
