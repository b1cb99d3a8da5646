package cassandra

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// ListSnapshotsCmd lists a node's snapshots.
const ListSnapshotsCmd = "nodetool listsnapshots"

// NodeSnapshot is one snapshot tag on one node (nodetool listsnapshots),
// summed over its tables.
type NodeSnapshot struct {
	Node, Tag string
	Keyspaces []string
	// OnDisk is its "Size on disk"; Own its "True size" (what only it
	// holds: clearing it frees that much).
	OnDisk, Own int64
}

// ClearCmd clears the snapshot on its node.
func (s NodeSnapshot) ClearCmd() string {
	cmd := "nodetool clearsnapshot -t " + remote.Quote(s.Tag)
	for _, ks := range s.Keyspaces {
		cmd += " " + remote.Quote(ks)
	}
	return cmd
}

// Describe says what it is and how big.
func (s NodeSnapshot) Describe() string {
	return fmt.Sprintf("%s (%s: %s on disk, %s only it holds)", s.Tag, strings.Join(s.Keyspaces, ", "), steps.HumanBytes(s.OnDisk), steps.HumanBytes(s.Own))
}

// ListSnapshots returns the snapshots on node, one per tag, in the order
// nodetool lists them.
func ListSnapshots(ctx context.Context, rc *steps.RunContext, node string) ([]NodeSnapshot, error) {
	out, err := rc.Stdout(ctx, node, ListSnapshotsCmd, false)
	if err != nil {
		return nil, err
	}
	l, err := parse.ParseListSnapshots(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	var snaps []NodeSnapshot
	for _, e := range l.Snapshots {
		i := slices.IndexFunc(snaps, func(s NodeSnapshot) bool { return s.Tag == e.Tag })
		if i < 0 {
			snaps = append(snaps, NodeSnapshot{Node: node, Tag: e.Tag})
			i = len(snaps) - 1
		}
		s := &snaps[i]
		if !slices.Contains(s.Keyspaces, e.Keyspace) {
			s.Keyspaces = append(s.Keyspaces, e.Keyspace)
		}
		s.OnDisk += e.SizeOnDiskBytes
		s.Own += e.TrueBytes
	}
	return snaps, nil
}

// ClearSnapshot clears snapshot s on its node, as the login user (see
// Snapshots.Take).
func ClearSnapshot(ctx context.Context, rc *steps.RunContext, s NodeSnapshot) error {
	_, err := rc.Run(ctx, s.Node, remote.Command{Cmd: s.ClearCmd()})
	return err
}
