package cassandra

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
)

// JanusGraphTables are the nine tables JanusGraph creates in TheHive's keyspace.
var JanusGraphTables = []string{"edgestore", "edgestore_lock_", "graphindex", "graphindex_lock_", "janusgraph_ids", "system_properties", "system_properties_lock_", "systemlog", "txlog"}

// seedShare is each table's share (per mille) of the seeded bytes; lock tables stay empty as in a real cluster.
var seedShare = map[string]int{"edgestore": 640, "graphindex": 300, "janusgraph_ids": 5, "system_properties": 5, "systemlog": 20, "txlog": 30}

// maxSSTableBytes splits big tables over several generations.
const maxSSTableBytes = 64 << 20

// JanusGraphKeyspace returns the definition of a JanusGraph keyspace with
// SimpleStrategy and the given replication factor; table IDs derive from seed.
func JanusGraphKeyspace(name string, rf int, seed int64) *Keyspace {
	ks := &Keyspace{
		Name:          name,
		Replication:   map[string]string{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": strconv.Itoa(rf)},
		DurableWrites: true,
	}
	for _, t := range JanusGraphTables {
		ks.Tables = append(ks.Tables, janusTable(t, deterministicUUID(fmt.Sprintf("%s/%s/%d", name, t, seed))))
	}
	return ks
}

// Seed creates (if absent) a JanusGraph-shaped keyspace in store and writes
// about totalBytes of Data.db across its tables, streaming, deterministically
// for a given seed: seeding every node of a cluster with the same arguments
// yields identical replicas.
func Seed(store *Store, keyspace string, rf int, totalBytes int64, seed int64) error {
	if rf < 1 {
		return fmt.Errorf("seed %s: replication factor %d must be at least 1", keyspace, rf)
	}
	if totalBytes < 0 {
		return fmt.Errorf("seed %s: negative size %d", keyspace, totalBytes)
	}
	if _, err := store.CreateKeyspace(JanusGraphKeyspace(keyspace, rf, seed), true); err != nil {
		return fmt.Errorf("seed %s: %w", keyspace, err)
	}
	ks, err := store.Keyspace(keyspace)
	if err != nil {
		return fmt.Errorf("seed %s: %w", keyspace, err)
	}
	for i, name := range JanusGraphTables {
		share := seedShare[name]
		if share == 0 {
			continue
		}
		t := ks.Table(name)
		if t == nil {
			return fmt.Errorf("seed %s: table %s missing from existing keyspace", keyspace, name)
		}
		budget := totalBytes * int64(share) / 1000
		if budget < 256 {
			budget = 256 // every non-lock table gets at least a few rows
		}
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(i+1)))
		if err := seedTable(filepath.Join(store.DataDir, keyspace, t.DirName()), name, budget, rng); err != nil {
			return fmt.Errorf("seed %s.%s: %w", keyspace, name, err)
		}
	}
	return nil
}

func seedTable(dir, table string, budget int64, rng *rand.Rand) error {
	var w *SSTableWriter
	var written int64
	valueBuf := make([]byte, 4096)
	key := make([]byte, 8)
	col := make([]byte, 12)
	var partition uint64
	for written < budget {
		if w == nil {
			var err error
			if w, err = NewSSTableWriter(dir); err != nil {
				return err
			}
		}
		partition++
		binary.BigEndian.PutUint64(key, partition*0x9E3779B97F4A7C15^rng.Uint64()&0xffff)
		cols := 1 + rng.IntN(12)
		for c := 0; c < cols && written < budget; c++ {
			binary.BigEndian.PutUint32(col[0:4], uint32(c))
			binary.BigEndian.PutUint64(col[4:12], rng.Uint64())
			size := 16 + rng.IntN(len(valueBuf)-16)
			if table != "edgestore" && table != "graphindex" {
				size = 16 + rng.IntN(240)
			}
			v := valueBuf[:size]
			fillValue(v, rng)
			before := w.Bytes()
			w.Append(Row{Key: key, Column1: col, Value: v})
			written += w.Bytes() - before
		}
		if w.Bytes() >= maxSSTableBytes {
			if err := w.Close(); err != nil {
				return err
			}
			w = nil
		}
	}
	if w != nil {
		return w.Close()
	}
	return nil
}

// fillValue writes pseudo-random but cheap bytes.
func fillValue(b []byte, rng *rand.Rand) {
	x := rng.Uint64()
	for i := 0; i+8 <= len(b); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(b[i:], x)
	}
}
