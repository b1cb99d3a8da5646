package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (l *Lab) hostKeyPath(node string) string {
	return filepath.Join(l.NodeDir(node), "ssh_host_ed25519_key")
}

// HostKey returns the node's current host public key in authorized_keys
// form ("ssh-ed25519 AAAA...").
func (l *Lab) HostKey(node string) (string, error) {
	if _, ok := l.Node(node); !ok {
		return "", fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
	}
	b, err := os.ReadFile(l.hostKeyPath(node) + ".pub")
	if err != nil {
		return "", fmt.Errorf("lab %s: %s: read host key: %w", l.Name, node, err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return "", fmt.Errorf("lab %s: %s: malformed host key file", l.Name, node)
	}
	return f[0] + " " + f[1], nil
}

// RotateHostKey gives the node a freshly generated ed25519 host key and
// restarts its sshd. known_hosts is left alone, so clients now see a
// changed host key (call WriteKnownHosts to trust the new one). It returns
// the new public key.
func (l *Lab) RotateHostKey(ctx context.Context, node string) (string, error) {
	if _, ok := l.Node(node); !ok {
		return "", fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
	}
	path := l.hostKeyPath(node)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("lab %s: %s: rotate host key: %w", l.Name, node, err)
	}
	if err := ensureKey(ctx, path, "hotsnap-lab-"+l.Name+"-"+node); err != nil {
		return "", fmt.Errorf("lab %s: %s: rotate host key: %w", l.Name, node, err)
	}
	if err := l.RestartSSHD(ctx, node); err != nil {
		return "", err
	}
	return l.HostKey(node)
}

// SetHostKey installs privateKey (an OpenSSH-format private key) as the
// node's host key and restarts its sshd. known_hosts is left alone.
func (l *Lab) SetHostKey(ctx context.Context, node string, privateKey []byte) error {
	if _, ok := l.Node(node); !ok {
		return fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
	}
	path := l.hostKeyPath(node)
	tmp := path + ".new"
	if err := os.WriteFile(tmp, privateKey, 0o600); err != nil {
		return fmt.Errorf("lab %s: %s: set host key: %w", l.Name, node, err)
	}
	defer os.Remove(tmp)
	pub, err := run(ctx, "", "ssh-keygen", "-y", "-f", tmp)
	if err != nil {
		return fmt.Errorf("lab %s: %s: set host key: not a usable private key: %w", l.Name, node, err)
	}
	if err := writeFileAtomic(path+".pub", []byte(pub+"\n"), 0o644); err != nil {
		return fmt.Errorf("lab %s: %s: set host key: %w", l.Name, node, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("lab %s: %s: set host key: %w", l.Name, node, err)
	}
	return l.RestartSSHD(ctx, node)
}

// WriteKnownHosts rewrites STATE/known_hosts from the nodes' current host
// keys.
func (l *Lab) WriteKnownHosts() error {
	l.mu.Lock()
	nodes := append([]NodeInfo(nil), l.Nodes...)
	l.mu.Unlock()
	if err := writeKnownHosts(l.StateDir, nodes); err != nil {
		return fmt.Errorf("lab %s: write known_hosts: %w", l.Name, err)
	}
	return nil
}

// RestartSSHD stops the node's listening sshd (open sessions keep running)
// and starts a new one, waiting until it accepts connections; the new PID
// is recorded in lab.json.
func (l *Lab) RestartSSHD(ctx context.Context, node string) error {
	fail := func(err error) error { return fmt.Errorf("lab %s: %s: restart sshd: %w", l.Name, node, err) }
	l.mu.Lock()
	defer l.mu.Unlock()
	idx := -1
	for i, n := range l.Nodes {
		if n.Name == node {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("lab %s: node %q: no such node", l.Name, node)
	}
	n := l.Nodes[idx]
	if err := checkHolder(n); err != nil {
		return fail(err)
	}
	if pidAlive(n.SSHDPID) {
		// Only signal the recorded PID if it still is this node's process.
		if same, err := sameNetns(n.SSHDPID, n.Netns); err == nil && same {
			if err := killPIDs([]int{n.SSHDPID}, killGrace); err != nil {
				return fail(err)
			}
		}
	}
	// Nothing may answer on port 22 when the new sshd starts, or the wait
	// below would take an old listener's answer for the new sshd's.
	if err := l.waitSSHDGone(ctx, n); err != nil {
		return fail(err)
	}
	pid, err := startSSHD(l.NodeDir(node), n.HolderPID)
	if err != nil {
		return fail(err)
	}
	l.Nodes[idx].SSHDPID = pid
	l.rec.PIDs = append(l.rec.PIDs, pid)
	if err := l.saveLocked(); err != nil {
		return fail(err)
	}
	wctx, cancel := context.WithTimeout(ctx, sshdWait)
	defer cancel()
	if err := l.waitSSHD(wctx, []NodeInfo{l.Nodes[idx]}); err != nil {
		return fail(err)
	}
	return nil
}

// sshdGoneWait bounds how long RestartSSHD waits for the stopped sshd's
// port to refuse connections.
const sshdGoneWait = 2 * time.Second

// waitSSHDGone waits until n's port 22 refuses connections from the op
// namespace; if something still listens there, the error names it (ss).
func (l *Lab) waitSSHDGone(ctx context.Context, n NodeInfo) error {
	addr := n.IP + ":22"
	for end := time.Now().Add(sshdGoneWait); time.Now().Before(end) && ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
		res, err := probeTCP(ctx, l.rec.OpNetns, []string{addr}, 200*time.Millisecond)
		if err != nil {
			return err
		}
		if res[addr] != nil {
			return nil // refused: nothing listens
		}
	}
	who, serr := run(ctx, "", "ip", "netns", "exec", n.Netns, "ss", "-Htlnp", "sport = :22")
	if serr != nil {
		who = serr.Error()
	}
	return fmt.Errorf("%s still accepts connections %s after its sshd (pid %d) was stopped; listening: %s", addr, sshdGoneWait, n.SSHDPID, who)
}
