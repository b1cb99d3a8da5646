package cassandra

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/fnv"
	"sort"
	"strconv"
)

// NumTokens is the number of vnode tokens of every stand-in node (num_tokens: 16).
const NumTokens = 16

// NodeTokens returns the deterministic tokens of the node listening on address.
func NodeTokens(address string) []int64 {
	out := make([]int64, NumTokens)
	for i := range out {
		h := sha256.Sum256([]byte(address + "#" + strconv.Itoa(i)))
		out[i] = int64(binary.BigEndian.Uint64(h[:8]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// HostID returns the deterministic host ID of the node listening on address.
func HostID(address string) string { return deterministicUUID("host-id/" + address) }

// RowToken is the partitioner token of a partition key. The stand-in uses
// 64-bit FNV-1a instead of Murmur3; only the ring placement matters here.
func RowToken(key []byte) int64 {
	h := fnv.New64a()
	h.Write(key)
	return int64(h.Sum64())
}

type ringEntry struct {
	token int64
	node  string
}

// ring is the token ring of a set of node addresses.
type ring struct {
	entries []ringEntry
	nodes   []string
}

func newRing(nodes []string) *ring {
	r := &ring{nodes: append([]string(nil), nodes...)}
	for _, n := range nodes {
		for _, t := range NodeTokens(n) {
			r.entries = append(r.entries, ringEntry{t, n})
		}
	}
	sort.Slice(r.entries, func(i, j int) bool { return r.entries[i].token < r.entries[j].token })
	return r
}

// replicasAt returns the rf distinct nodes (SimpleStrategy) owning the range ending at entry index i.
func (r *ring) replicasAt(i, rf int) []string {
	if rf > len(r.nodes) {
		rf = len(r.nodes)
	}
	var out []string
	seen := map[string]bool{}
	for k := 0; len(out) < rf && k < len(r.entries); k++ {
		e := r.entries[(i+k)%len(r.entries)]
		if !seen[e.node] {
			seen[e.node] = true
			out = append(out, e.node)
		}
	}
	return out
}

// Replicas returns the replicas of a token.
func (r *ring) Replicas(token int64, rf int) []string {
	if len(r.entries) == 0 {
		return nil
	}
	i := sort.Search(len(r.entries), func(i int) bool { return r.entries[i].token >= token })
	if i == len(r.entries) {
		i = 0
	}
	return r.replicasAt(i, rf)
}

// Ownership returns each node's effective ownership (0..1) for replication factor rf.
func (r *ring) Ownership(rf int) map[string]float64 {
	own := map[string]float64{}
	n := len(r.entries)
	for i := 0; i < n; i++ {
		prev := r.entries[(i-1+n)%n].token
		size := float64(uint64(r.entries[i].token-prev)) / 18446744073709551616.0
		if n == 1 {
			size = 1
		}
		for _, node := range r.replicasAt(i, rf) {
			own[node] += size
		}
	}
	return own
}
