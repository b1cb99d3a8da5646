package host

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/stepstest"
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

// TestRateClocksNamesTheNodeThatIsOff: each clock is compared with the
// median of all of them, this machine's included, so the one that is off is
// named — not the pair with the largest gap.
func TestRateClocksNamesTheNodeThatIsOff(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name    string
		offsets map[string]time.Duration
		want    []string // "node status evidence-part"
	}{
		{"in sync", map[string]time.Duration{"node1": 2 * ms, "node2": -3 * ms, "node3": 40 * ms},
			[]string{" pass every clock within 500ms of the median; the farthest: node3 +39ms"}},
		{"node2 10 s ahead", map[string]time.Duration{"node1": 1 * ms, "node2": 10 * time.Second, "node3": -2 * ms},
			[]string{"node2 fail node2's clock is 10s ahead of the median of the clocks (offsets from this machine: node1 +1ms, node2 +10s, node3 -2ms)"}},
		{"node3 a second behind", map[string]time.Duration{"node1": 0, "node2": 5 * ms, "node3": -time.Second},
			[]string{"node3 warn node3's clock is 1s behind the median"}},
		{"two nodes, one off: this machine breaks the tie", map[string]time.Duration{"node1": 3 * ms, "node2": 8 * time.Second},
			[]string{"node2 fail node2's clock is 7.997s ahead of"}},
		{"this machine off", map[string]time.Duration{"node1": -20 * time.Second, "node2": -20 * time.Second, "node3": -20*time.Second + 4*ms},
			[]string{" warn this machine's clock is 19.998s ahead of the median"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := rateClocks(c.offsets)
			if len(rs) != len(c.want) {
				t.Fatalf("got %d checks, want %d: %+v", len(rs), len(c.want), rs)
			}
			for i, r := range rs {
				got := r.Node + " " + string(r.Status) + " " + r.Evidence
				if !strings.HasPrefix(got, c.want[i]) {
					t.Errorf("got %q\nwant prefix %q", got, c.want[i])
				}
				if r.Status != steps.CheckPass && r.Remedy == "" {
					t.Errorf("%s without a remedy", r.Status)
				}
			}
		})
	}
}

// The clock check rates the clocks the SSH check's probe read (no command
// of its own); a node the probe could not read is read by the clock check.
func TestSSHAndClockChecksShareTheProbe(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	inv := &config.Inventory{}
	for _, n := range []string{"node1", "node2", "node3"} {
		inv.Nodes = append(inv.Nodes, config.Node{Name: n, Host: n})
	}
	env := &steps.Env{Inv: inv, Now: func() time.Time { return now }}
	at := func(d time.Duration) string { return fmt.Sprintf("%d\n", now.Add(d).UnixNano()) }
	f := remotetest.New(t)
	f.Expect("node1", sshProbe).Stdout("root\nLinux 6.1.0\n" + at(0))
	f.Expect("node2", sshProbe).Stdout("root\nLinux 6.1.0\n" + at(10*time.Second))
	f.Expect("node3", sshProbe).Stdout("root\nLinux 6.1.0\n") // no date: read again
	f.Expect("node3", dateCmd).Stdout(at(0))
	ssh, clock := SSHAndClockChecks(env)
	if clock.Plan != nil {
		t.Errorf("the clock check plans commands of its own: %v", clock.Plan())
	}
	rs := stepstest.Checks(t, f, ssh)
	if r := stepstest.Find(t, rs, "node1", "ssh+sudo"); r.Status != steps.CheckPass || r.Evidence != "sudo to root works · Linux 6.1.0" {
		t.Errorf("ssh on node1: %+v", r)
	}
	rs = stepstest.Checks(t, f, clock)
	if r := stepstest.Find(t, rs, "node2", "clock skew"); r.Status != steps.CheckFail || !strings.Contains(r.Evidence, "node2's clock is 10s ahead") {
		t.Errorf("node2 10 s ahead: %+v", rs)
	}
	var dates int
	for _, c := range f.Calls() {
		if c.Cmd == dateCmd {
			dates++
		}
	}
	if dates != 1 {
		t.Errorf("the clock check ran date %d times, want once (node3, which the probe did not read)", dates)
	}
}
