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
	"path"

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
// cannot be measured is missing from sizes and present in errs. A node
// whose size a disk check beside it promised in from (under the node's
// name) is not measured again: its size comes from there.
func KeyspaceSizes(ctx context.Context, rc *steps.RunContext, env *steps.Env, nodes []string, from *steps.Sizes) (sizes map[string]int64, errs map[string]error) {
	got := make([]int64, len(nodes))
	failed := make([]error, len(nodes))
	steps.Parallel(nodes, func(i int, n string) error { //nolint:errcheck // kept per node in failed
		got[i], failed[i] = from.Size(ctx, n, func() (int64, error) {
			out, err := rc.Stdout(ctx, n, KeyspaceDUCmd(env, n), true)
			return parse.ParseDU(out), err
		})
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
