package cassandra

import (
	"path/filepath"
	"testing"
)

// BenchmarkSeed200MB measures seeding a 200 MiB JanusGraph-shaped keyspace
// (run: go test ./lab/cassandra -run '^$' -bench Seed200MB -benchtime 3x).
func BenchmarkSeed200MB(b *testing.B) {
	b.SetBytes(200 << 20)
	for b.Loop() {
		st, err := OpenStore(filepath.Join(b.TempDir(), "data"))
		if err != nil {
			b.Fatal(err)
		}
		if err := Seed(st, "thehive", 3, 200<<20, 1); err != nil {
			b.Fatal(err)
		}
		if l := st.LoadBytes(); l < 200<<20 || l > 230<<20 {
			b.Fatalf("load %d not about 200 MiB", l)
		}
	}
}
