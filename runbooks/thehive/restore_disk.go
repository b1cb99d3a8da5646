package thehive

import (
	"context"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
)

// restoreDiskNeeds works out, from the backup and the load path the topology
// step chose, how many bytes each node must be able to take:
//   - import: each node stages its own archives next to its data directory,
//     then imports (moves) them;
//   - sstableloader: the loading node stages one table at a time in /tmp,
//     and every node receives its share of the rows (size × RF / nodes);
//   - attachments: unpacked inside their folder before the swap.
func restoreDiskNeeds(env *steps.Env, r *RestoreRun) []host.Need {
	m := r.Manifest
	var out []host.Need
	if m.Keyspace != "" && env.Inv.Cassandra != nil {
		nodes := env.NodesWith(config.RoleCassandra)
		ks := r.keyspace()
		load := ks.Load()
		switch load {
		case cassandra.LoadImport:
			for _, n := range nodes {
				out = append(out, host.Need{Node: n, Dir: cassandra.DataDir(env, n), What: "its own SSTables, staged then imported", Bytes: ks.NodeBytes(n)})
			}
		case cassandra.LoadSSTableLoader:
			var total, largest int64
			sources := cassandra.LoaderSources(m)
			rf := cassandra.SchemaReplication(m.Schema)
			for _, n := range sources {
				for _, t := range n.Tables {
					total += t.Size
					largest = max(largest, t.Size)
				}
			}
			share := total
			if len(sources) == 1 && len(nodes) > 0 {
				share = total * int64(min(max(rf, 1), len(nodes))) / int64(len(nodes))
			}
			out = append(out, host.Need{Node: nodes[0], Dir: "/tmp", What: "the largest table, staged for sstableloader", Bytes: largest})
			for _, n := range nodes {
				out = append(out, host.Need{Node: n, Dir: cassandra.DataDir(env, n), What: "its share of the rows sstableloader streams", Bytes: share})
			}
		}
	}
	if f := m.Files; f != nil && f.Provider != repo.ProviderS3 && env.Inv.Storage != nil {
		node, dir := files.Location(env)
		out = append(out, host.Need{Node: node, Dir: dir, What: "the attachments, unpacked before the swap", Bytes: f.Size})
	}
	return out
}

// restoreDiskStep checks that every node has room for what the restore will
// write there, before anything is stopped or changed.
func restoreDiskStep(env *steps.Env, r *RestoreRun) steps.Step {
	return steps.Step{
		ID: "restore-disk", Title: "Free disk on every node for what the restore writes", Kind: steps.KindCheck, Component: host.Component,
		Why: "A restore that fills a disk half-way leaves a broken keyspace and a stopped TheHive: check the room first (the old data is still there until the load replaces it; Cassandra's auto_snapshot keeps truncated tables on disk too).",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "each node", Cmd: "df -PB1 <data dir> (Cassandra), df -PB1 /tmp (sstableloader staging), df -PB1 <attachment folder>", Sudo: true}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			host.RoomCheck(ctx, rc, "restore disk", restoreDiskNeeds(env, r), "old snapshots: nodetool listsnapshots / clearsnapshot")
			return nil
		},
	}
}
