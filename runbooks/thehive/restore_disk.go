package thehive

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/parse"
)

// diskNeed is the room one node needs on one file system for a restore.
type diskNeed struct {
	node, dir, what string
	bytes           int64
}

// restoreDiskNeeds works out, from the backup and the load path the topology
// step chose, how many bytes each node must be able to take:
//   - import: each node stages its own archives next to its data directory,
//     then imports (moves) them;
//   - sstableloader: the loading node stages one table at a time in /tmp,
//     and every node receives its share of the rows (size × RF / nodes);
//   - attachments: unpacked inside their folder before the swap.
func restoreDiskNeeds(env *steps.Env, r *RestoreRun) []diskNeed {
	m := r.Manifest
	var out []diskNeed
	if m.Keyspace != "" && env.Inv.Cassandra != nil {
		nodes := env.NodesWith(config.RoleCassandra)
		r.mu.Lock()
		load, byNode := r.load, r.byNode
		r.mu.Unlock()
		switch load {
		case LoadImport:
			for _, n := range nodes {
				out = append(out, diskNeed{n, dataDir(env, n), "its own SSTables, staged then imported", archiveBytes(byNode[n])})
			}
		case LoadSSTableLoader:
			var total, largest int64
			sources := loaderSources(m)
			rf := schemaReplication(m.Schema)
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
			out = append(out, diskNeed{nodes[0], "/tmp", "the largest table, staged for sstableloader", largest})
			for _, n := range nodes {
				out = append(out, diskNeed{n, dataDir(env, n), "its share of the rows sstableloader streams", share})
			}
		}
	}
	if f := m.Files; f != nil && f.Provider != repo.ProviderS3 && env.Inv.Storage != nil {
		node, dir := filesLocation(env)
		out = append(out, diskNeed{node, dir, "the attachments, unpacked before the swap", f.Size})
	}
	return out
}

// restoreDiskStep checks that every node has room for what the restore will
// write there, before anything is stopped or changed.
func restoreDiskStep(env *steps.Env, r *RestoreRun) steps.Step {
	return steps.Step{
		ID: "restore-disk", Title: "Free disk on every node for what the restore writes", Kind: steps.KindCheck,
		Why: "A restore that fills a disk half-way leaves a broken keyspace and a stopped TheHive: check the room first (the old data is still there until the load replaces it; Cassandra's auto_snapshot keeps truncated tables on disk too).",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "each node", Cmd: "df -PB1 <data dir> (Cassandra), df -PB1 /tmp (sstableloader staging), df -PB1 <attachment folder>", Sudo: true}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			needs := restoreDiskNeeds(env, r)
			byNode := map[string][]diskNeed{}
			var nodes []string
			for _, d := range needs {
				if byNode[d.node] == nil {
					nodes = append(nodes, d.node)
				}
				byNode[d.node] = append(byNode[d.node], d)
			}
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
				// Needs on the same file system add up.
				type fsNeed struct {
					mount string
					avail int64
					need  int64
					what  []string
				}
				var fss []*fsNeed
				for _, d := range byNode[n] {
					dir := d.dir
					// The folder may not exist yet (a new node): ask df about its parent.
					out, err := rc.Stdout(ctx, n, "df -PB1 "+remote.Quote(dir)+" 2>/dev/null || df -PB1 "+remote.Quote(path.Dir(dir)), true)
					var dfs []parse.DiskUsage
					if err == nil {
						dfs, err = parse.ParseDF(out)
					}
					if err != nil || len(dfs) == 0 {
						rc.Check(steps.CheckResult{Check: "restore disk", Node: n, Status: steps.CheckFail, Evidence: fmt.Sprintf("df %s: %v", dir, err),
							Remedy: "check that " + dir + " (or its parent) exists on " + n})
						return
					}
					var f *fsNeed
					for _, x := range fss {
						if x.mount == dfs[0].MountPoint {
							f = x
						}
					}
					if f == nil {
						f = &fsNeed{mount: dfs[0].MountPoint, avail: dfs[0].AvailBytes}
						fss = append(fss, f)
					}
					f.need += d.bytes
					f.what = append(f.what, fmt.Sprintf("%s for %s (%s)", steps.HumanBytes(d.bytes), d.what, dir))
				}
				for _, f := range fss {
					res := steps.CheckResult{Check: "restore disk", Node: n, Status: steps.CheckPass,
						Evidence: fmt.Sprintf("%s free on %s; needs %s: %s", steps.HumanBytes(f.avail), f.mount, steps.HumanBytes(f.need), strings.Join(f.what, ", "))}
					if f.avail < f.need {
						res.Status = steps.CheckFail
						res.Remedy = fmt.Sprintf("free %s on %s of %s first (old snapshots: nodetool listsnapshots / clearsnapshot), or restore onto bigger disks", steps.HumanBytes(f.need-f.avail), f.mount, n)
					}
					rc.Check(res)
				}
			})
			return nil
		},
	}
}
