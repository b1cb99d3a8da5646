package main

import (
	"strings"
	"testing"
)

// TestE2ELabNodeStartAfterSSHDKilled: `lab node start` brings back a node
// whose sshd was killed (the backup faults kill it mid-stream): sshd runs
// again and hotsnap reaches the node.
func TestE2ELabNodeStartAfterSSHDKilled(t *testing.T) {
	l := needLab(t)
	killNodeSSHD(t, l, "node3")
	if recs, code := runJSON(t, hotsnapInOp(t.Context(), l, "exec", "--json", "--nodes", "node3", "--", "hostname")); code == 0 {
		t.Fatalf("node3 answered with its sshd killed: %+v", recs)
	}
	if err := l.StartNode(t.Context(), "node3"); err != nil {
		t.Fatalf("lab node start node3 after its sshd was killed: %v", err)
	}
	recs, code := runJSON(t, hotsnapInOp(t.Context(), l, "exec", "--json", "--nodes", "node3", "--", "hostname"))
	if code != 0 || strings.TrimSpace(recs["node3"].Stdout) != "node3" {
		t.Fatalf("node3 after lab node start: exit %d %+v", code, recs)
	}
}
