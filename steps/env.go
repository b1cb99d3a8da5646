package steps

import (
	"context"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
)

// Env is what a runbook needs from the outside world: the inventory, the
// way to run commands on its nodes and to reach services through them, the
// secrets, the clock and the backup repository. It holds no state of a
// run: what one step learns for another lives in the runbook that built
// them.
type Env struct {
	Inv  *config.Inventory
	Exec Executor
	// Dial returns the tunnel from a node (remote.Pool.Dialer).
	Dial func(node string) remote.DialFunc
	// Secrets, resolved by the caller ("" when not configured).
	CassandraPassword string
	ESPassword        string
	S3AccessKey       string
	S3SecretKey       string
	// Alien4CloudPassword is alien4cloud.password (the admin's).
	Alien4CloudPassword string
	// RedisPassword is EclecticIQ's broker password (requirepass).
	RedisPassword string
	// Now is the local clock (tests may fix it).
	Now func() time.Time
	// OpenRepo, when set, opens the backup repository (repository.url) for
	// the preflight check of its free space; nil leaves that check out
	// (the backup runbook meets a full repository as it writes, and says
	// so). `plan` sets one that is never called.
	OpenRepo func(ctx context.Context) (repo.Store, func(), error)
}

// Clock returns the local time: Now(), or time.Now when Now is not set.
func (e *Env) Clock() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// NodesWith returns the names of the nodes with role, in inventory order.
func (e *Env) NodesWith(role string) []string {
	var out []string
	for _, n := range e.Inv.NodesWithRole(role) {
		out = append(out, n.Name)
	}
	return out
}

// AllNodes returns the names of every node, in inventory order.
func (e *Env) AllNodes() []string {
	out := make([]string, len(e.Inv.Nodes))
	for i, n := range e.Inv.Nodes {
		out[i] = n.Name
	}
	return out
}

// FirstWith returns the first node with role, else the first node.
func (e *Env) FirstWith(role string) string {
	if n := e.NodesWith(role); len(n) > 0 {
		return n[0]
	}
	return e.Inv.Nodes[0].Name
}
