// Package cassandra holds what hotsnap does with Cassandra: the checks of
// the nodes, the ring and the keyspace's replication; nodetool snapshots
// and their clearing; the schema and topology through CQL (the SSH tunnel,
// server-side DESCRIBE KEYSPACE); each node's snapshot streamed table by
// table into the repository; and the restore of the keyspace — topologies
// compared, SSTables staged and checked as they stream, the keyspace
// emptied or recreated, loaded with nodetool import or sstableloader,
// granted and counted.
package cassandra

import (
	"context"
	"fmt"
	"path"
	"sync"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Component is what the steps of this package work on (Step.Component).
const Component = "cassandra"

// Load paths of a restore.
const (
	LoadImport        = "import"        // same topology: each node imports its own SSTables
	LoadSSTableLoader = "sstableloader" // changed topology: stream to the nodes that own the data
)

// Nodes returns the names of the Cassandra nodes.
func Nodes(env *steps.Env) []string { return env.NodesWith(config.RoleCassandra) }

// DataDir is the Cassandra data directory of node: its
// paths.cassandra_data, else cassandra.data_dir.
func DataDir(env *steps.Env, node string) string {
	if n, ok := env.Inv.Node(node); ok {
		if p := n.Paths[config.PathCassandraData]; p != "" {
			return p
		}
	}
	return env.Inv.Cassandra.DataDir
}

// KeyspaceDUCmd measures the keyspace's data directory on node n.
func KeyspaceDUCmd(env *steps.Env, n string) string {
	ks := ""
	if env.Inv.Cassandra != nil {
		ks = env.Inv.Cassandra.Keyspace
	}
	return "du -sb " + remote.Quote(path.Join(DataDir(env, n), ks))
}

// KeyspaceSizes runs KeyspaceDUCmd on every node at once; a node that
// cannot be measured is missing from sizes and present in errs. With from
// (a disk check's measurements, that check running at the same time), it
// takes each node's size from there instead of measuring it again.
func KeyspaceSizes(ctx context.Context, rc *steps.RunContext, env *steps.Env, nodes []string, from *KeyspaceDU) (sizes map[string]int64, errs map[string]error) {
	got := make([]int64, len(nodes))
	failed := make([]error, len(nodes))
	steps.Parallel(nodes, func(i int, n string) error { //nolint:errcheck // kept per node in failed
		if from != nil {
			got[i], failed[i] = from.Size(ctx, n)
			return nil
		}
		var out string
		out, failed[i] = rc.Stdout(ctx, n, KeyspaceDUCmd(env, n), true)
		got[i] = parse.ParseDU(out)
		return nil
	})
	sizes, errs = map[string]int64{}, map[string]error{}
	for i, n := range nodes {
		if failed[i] != nil {
			errs[n] = failed[i]
			continue
		}
		sizes[n] = got[i]
	}
	return sizes, errs
}

// KeyspaceDU is the keyspace's size on each node as a disk check measured
// it (DiskCheck), for a step that runs beside the check and needs the same
// figure (a backup's estimate): one du per node instead of two. A step that
// waits on it must run at the same time as the disk check (in its group of
// concurrent steps), never before it.
type KeyspaceDU struct {
	mu    sync.Mutex
	nodes map[string]*nodeDU
}

// nodeDU is one node's keyspace size, or why it has none, once ready is
// closed.
type nodeDU struct {
	once  sync.Once
	ready chan struct{}
	size  int64
	err   error
}

// NewKeyspaceDU returns an empty KeyspaceDU, for a DiskCheck to fill.
func NewKeyspaceDU() *KeyspaceDU { return &KeyspaceDU{nodes: map[string]*nodeDU{}} }

// node is node's entry, made on first use by the check or a waiter.
func (k *KeyspaceDU) node(node string) *nodeDU {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.nodes[node]
	if !ok {
		e = &nodeDU{ready: make(chan struct{})}
		k.nodes[node] = e
	}
	return e
}

// set records node's size, or why it could not be measured; the first
// record stands.
func (k *KeyspaceDU) set(node string, n int64, err error) {
	e := k.node(node)
	e.once.Do(func() {
		e.size, e.err = n, err
		close(e.ready)
	})
}

// Size waits until the disk check has measured node, and returns what it
// found; it gives up with ctx.
func (k *KeyspaceDU) Size(ctx context.Context, node string) (int64, error) {
	e := k.node(node)
	select {
	case <-e.ready:
		return e.size, e.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%s: the keyspace's size from the disk check: %w", node, ctx.Err())
	}
}
