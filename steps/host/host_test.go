package host

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

func TestSSHRemedyNamesTheCause(t *testing.T) {
	env := &steps.Env{Inv: &config.Inventory{SSH: config.SSH{KnownHosts: "/etc/hotsnap/known_hosts"},
		Nodes: []config.Node{{Name: "node1", Host: "10.0.0.11"}, {Name: "node2", Host: "10.0.0.12"}}}}
	cases := []struct {
		err  error
		want []string
	}{
		{&remote.NodeError{Node: "node2", Step: "connect", Err: fmt.Errorf("ssh: handshake failed: %w", &remote.ChangedHostKeyError{Addr: "10.0.0.12:22", KeyType: "ssh-ed25519", Fingerprint: "SHA256:new"})},
			[]string{"host key of node2 changed", "man-in-the-middle", "ssh-keygen -R 10.0.0.12 -f /etc/hotsnap/known_hosts", "--accept-new-hosts"}},
		{&remote.NodeError{Node: "node2", Step: "connect", Err: &remote.UnknownHostError{Addr: "10.0.0.12:22", KeyType: "ssh-ed25519"}},
			[]string{"10.0.0.12 is not in /etc/hotsnap/known_hosts", "--accept-new-hosts"}},
		{errors.New("node2: sudo needs a password on this node"), []string{"ssh.sudo_password"}},
		{errors.New("node2: connection refused"), []string{"ssh.user", "ssh.identity_files"}},
	}
	for _, c := range cases {
		got := sshRemedy(env, "node2", c.err)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("remedy for %v = %q, want it to contain %q", c.err, got, w)
			}
		}
	}
}
