package lab

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The lab tests need root; CI runs them as root. They use their own lab
// name and subnet so they never collide with other packages' labs.
const (
	testName   = "hslab"
	testSubnet = 9
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab tests need root")
	}
}

// stateDir returns a fresh state dir that the login user can traverse.
func stateDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hslab-state-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// hostSnapshot captures `ip netns list` and `ip route`, leaving out what
// other packages' concurrently running labs own.
func hostSnapshot(t *testing.T) (netns, routes string) {
	t.Helper()
	others, err := registeredLabs()
	if err != nil {
		t.Fatal(err)
	}
	var foreign []string
	for _, o := range others {
		if o != testName {
			foreign = append(foreign, o+"-")
		}
	}
	keep := func(line string) bool {
		for _, p := range foreign {
			if strings.HasPrefix(line, p) {
				return false
			}
		}
		if len(foreign) > 0 && strings.HasPrefix(line, "unreachable "+GuardRoute) {
			return false
		}
		return true
	}
	filter := func(out []byte) string {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" && keep(l) {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	a, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("ip", "route").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filter(a), filter(b)
}

func output(t *testing.T, cmd *exec.Cmd) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), errors.Join(err, errors.New(strings.TrimSpace(errb.String())))
	}
	return strings.TrimSpace(out.String()), nil
}

func sshArgs(l *Lab, user, ip string, remote ...string) []string {
	return append([]string{
		"-i", l.KeyPath(),
		"-o", "UserKnownHostsFile=" + l.KnownHostsPath(),
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=5",
		"-o", "LogLevel=ERROR",
		user + "@" + ip,
	}, remote...)
}

func TestLabUpDown(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nsBefore, routesBefore := hostSnapshot(t)
	var logb bytes.Buffer
	o := Options{Name: testName, Subnet: testSubnet, Nodes: 3, StateDir: stateDir(t), Log: &logb}

	start := time.Now()
	l, err := Up(ctx, o)
	upTime := time.Since(start)
	if err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, logb.String())
	}
	t.Cleanup(func() { Down(context.Background(), o) })
	t.Logf("lab up took %s", upTime)

	if len(l.Nodes) != 3 {
		t.Fatalf("got %d nodes, want 3", len(l.Nodes))
	}

	t.Run("a second lab on the same subnet is refused", func(t *testing.T) {
		dup := Options{Name: testName + "d", Subnet: testSubnet, Nodes: 1, StateDir: stateDir(t)}
		_, err := Up(ctx, dup)
		t.Cleanup(func() { Down(context.Background(), dup) })
		if err == nil || !strings.Contains(err.Error(), "lab "+testName+" already uses 10.77.9.0/24") || !strings.Contains(err.Error(), "--subnet") {
			t.Fatalf("want a refusal naming the lab on the subnet and --subnet, got %v", err)
		}
		if netnsExists(nodeNetns(dup.Name, "node1")) || isRegistered(dup.Name) {
			t.Error("the refused lab left a namespace or its registration")
		}
	})

	t.Run("ssh hostname", func(t *testing.T) {
		for i, n := range l.Nodes {
			want := nodeName(i + 1)
			if n.IP != nodeIP(testSubnet, i+1) {
				t.Errorf("%s: IP %s, want %s", n.Name, n.IP, nodeIP(testSubnet, i+1))
			}
			got, err := output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, n.IP, "hostname")...))
			if err != nil {
				t.Fatalf("%s: ssh hostname: %v", n.Name, err)
			}
			if got != want {
				t.Errorf("%s: ssh hostname printed %q, want %q", n.Name, got, want)
			}
		}
	})

	t.Run("sudo", func(t *testing.T) {
		ip := l.Nodes[1].IP
		if _, err := output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, ip, "sudo -n true && sudo -n id -u")...)); err != nil {
			t.Errorf("%s: sudo -n true failed: %v", LoginUser, err)
		}
		if _, err := output(t, l.OpCommand(ctx, "ssh", sshArgs(l, PasswordUser, ip, "sudo -n true")...)); err == nil {
			t.Errorf("%s: sudo -n true succeeded, want a password to be required", PasswordUser)
		}
		pw, err := l.SudoPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) < 16 {
			t.Errorf("sudo password %q is too short", pw)
		}
		if st, err := os.Stat(filepath.Join(l.StateDir, "sudo-password")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("sudo-password mode: %v %v, want 0600", st.Mode(), err)
		}
		cmd := l.OpCommand(ctx, "ssh", sshArgs(l, PasswordUser, ip, "sudo -S -p '' id -u")...)
		cmd.Stdin = strings.NewReader(pw + "\n")
		got, err := output(t, cmd)
		if err != nil || got != "0" {
			t.Errorf("%s: sudo -S id -u with the stored password: %q %v, want 0", PasswordUser, got, err)
		}
		cmd = l.OpCommand(ctx, "ssh", sshArgs(l, PasswordUser, ip, "sudo -S -p '' true")...)
		cmd.Stdin = strings.NewReader("wrong-password\n")
		if _, err := output(t, cmd); err == nil {
			t.Errorf("%s: sudo -S with a wrong password succeeded", PasswordUser)
		}
	})

	t.Run("root login refused", func(t *testing.T) {
		if _, err := output(t, l.OpCommand(ctx, "ssh", sshArgs(l, "root", l.Nodes[0].IP, "true")...)); err == nil {
			t.Error("ssh root@node1 succeeded")
		}
	})

	t.Run("mounts", func(t *testing.T) {
		marker := "private-" + time.Now().Format("150405.000000")
		if _, err := output(t, l.NodeCommand(ctx, "node1", "sh", "-c", "echo one > /var/lib/cassandra/"+marker+" && echo shared > /mnt/backup/"+marker)); err != nil {
			t.Fatalf("write on node1: %v", err)
		}
		if _, err := output(t, l.NodeCommand(ctx, "node2", "test", "-e", "/var/lib/cassandra/"+marker)); err == nil {
			t.Error("node1's /var/lib/cassandra file is visible on node2")
		}
		if _, err := os.Stat(filepath.Join("/var/lib/cassandra", marker)); err == nil {
			t.Error("node1's /var/lib/cassandra file is visible on the host")
		}
		if _, err := os.Stat(filepath.Join(l.NodeDir("node1"), "cassandra", marker)); err != nil {
			t.Errorf("node1's file is not in its state dir: %v", err)
		}
		got, err := output(t, l.NodeCommand(ctx, "node3", "cat", "/mnt/backup/"+marker))
		if err != nil || got != "shared" {
			t.Errorf("node3 reads /mnt/backup/%s: %q %v, want shared", marker, got, err)
		}
		if err := os.WriteFile(filepath.Join(l.BinPath(), "hs-probe"), []byte("#!/bin/sh\necho probe-$(hostname)\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err = output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, l.Nodes[1].IP, "hs-probe")...))
		if err != nil || got != "probe-node2" {
			t.Errorf("tool in STATE/bin run on node2: %q %v, want probe-node2", got, err)
		}
		got, err = output(t, l.NodeCommand(ctx, "node2", "getent", "hosts", "node3"))
		if err != nil || !strings.HasPrefix(got, nodeIP(testSubnet, 3)) {
			t.Errorf("node2 resolves node3: %q %v", got, err)
		}
		if _, err := output(t, l.NodeCommand(ctx, "node9", "true")); err == nil {
			t.Error("NodeCommand on an unknown node ran")
		}
	})

	t.Run("op namespace", func(t *testing.T) {
		got, err := output(t, l.OpCommand(ctx, "sh", "-c", "echo $HOTSNAP_INVENTORY"))
		if err != nil || got != l.InventoryPath() {
			t.Errorf("HOTSNAP_INVENTORY in op: %q %v, want %q", got, err, l.InventoryPath())
		}
		got, err = output(t, l.OpCommand(ctx, "ip", "-4", "-o", "addr", "show", "dev", "eth0"))
		if err != nil || !strings.Contains(got, " "+opIP(testSubnet)+"/24 ") {
			t.Errorf("op eth0: %q %v, want %s/24", got, err, opIP(testSubnet))
		}
		// Nodes reach each other: node2 reads node3's SSH banner.
		got, err = output(t, l.NodeCommand(ctx, "node2", "bash", "-c", "exec 3<>/dev/tcp/"+nodeIP(testSubnet, 3)+"/22 && head -c 8 <&3"))
		if err != nil || got != "SSH-2.0-" {
			t.Errorf("node2 -> node3:22 banner: %q %v", got, err)
		}
	})

	t.Run("guard route and root namespace", func(t *testing.T) {
		out, err := exec.Command("ip", "route", "show", "type", "unreachable", GuardRoute).Output()
		if err != nil || !strings.Contains(string(out), GuardRoute) {
			t.Errorf("guard route missing while up: %q %v", out, err)
		}
		addrs, err := exec.Command("ip", "-o", "addr").Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(addrs), " 10.77.") {
			t.Errorf("root namespace has a 10.77 address:\n%s", addrs)
		}
		t0 := time.Now()
		c, err := net.DialTimeout("tcp4", l.Nodes[0].IP+":22", 3*time.Second)
		if err == nil {
			c.Close()
			t.Fatal("connected to a lab node from the root namespace")
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("connect from the root namespace took %s to fail, want fast", d)
		}
		if !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, syscall.ENETUNREACH) {
			t.Errorf("connect from the root namespace: %v, want host/network unreachable", err)
		}
	})

	t.Run("files", func(t *testing.T) {
		st, err := os.Stat(l.KeyPath())
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("client key mode: %v %v, want 0600", st, err)
		}
		kh, err := os.ReadFile(l.KnownHostsPath())
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
		if len(lines) != 3 {
			t.Fatalf("known_hosts has %d lines, want 3:\n%s", len(lines), kh)
		}
		for i, n := range l.Nodes {
			hk, err := l.HostKey(n.Name)
			if err != nil {
				t.Fatal(err)
			}
			if lines[i] != n.IP+" "+hk {
				t.Errorf("known_hosts line %d = %q, want %q", i, lines[i], n.IP+" "+hk)
			}
		}
		inv, err := os.ReadFile(l.InventoryPath())
		if err != nil {
			t.Fatal(err)
		}
		if want := inventoryYAML(testName, l.StateDir, testSubnet, 3, false); string(inv) != want {
			t.Errorf("inventory.yaml differs from inventoryYAML output")
		}
		rec, err := readRecord(l.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		// Namespaces: bridge, op, backup host, 3 nodes; a veth each but the
		// bridge's; per node 3 private directories, /usr/local/bin,
		// /etc/hosts, /tmp, /root, /home, /var/lib/hotsnap (hotsnap's lock)
		// and the backup host's share.
		if len(rec.Namespaces) != 6 || len(rec.Veths) != 5 || len(rec.Mounts) != 3*10 {
			t.Errorf("lab.json: %d namespaces, %d veths, %d mounts; want 6, 5, 30", len(rec.Namespaces), len(rec.Veths), len(rec.Mounts))
		}
		for _, n := range rec.Nodes {
			if !pidAlive(n.HolderPID) || !pidAlive(n.SSHDPID) {
				t.Errorf("lab.json %s: holder %d sshd %d not alive", n.Name, n.HolderPID, n.SSHDPID)
			}
		}
	})

	t.Run("status and open", func(t *testing.T) {
		rep, err := Status(ctx, Options{Name: testName})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Healthy() || len(rep.Nodes) != 3 || rep.StateDir != l.StateDir {
			t.Errorf("status not healthy or wrong state dir:\n%s", rep)
		}
		s := rep.String()
		for _, want := range []string{"lab hslab: up", "10.77.9.0/24", "node1", "10.77.9.13", "PORT 22"} {
			if !strings.Contains(s, want) {
				t.Errorf("status table lacks %q:\n%s", want, s)
			}
		}
		l2, err := Open(Options{Name: testName})
		if err != nil {
			t.Fatal(err)
		}
		if l2.StateDir != l.StateDir || len(l2.Nodes) != 3 || l2.Nodes[2].SSHDPID != l.Nodes[2].SSHDPID {
			t.Errorf("Open: %+v, want the running lab %+v", l2.Nodes, l.Nodes)
		}
		var lb bytes.Buffer
		o2 := o
		o2.Log = &lb
		l3, err := Up(ctx, o2)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(lb.String(), "already up") || l3.Nodes[0].HolderPID != l.Nodes[0].HolderPID {
			t.Errorf("second Up did not reuse the running lab: %q", lb.String())
		}
	})

	t.Run("sshd failure is reported", func(t *testing.T) {
		cfg := filepath.Join(l.NodeDir("node3"), "sshd_config")
		good, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, append(good, []byte("NoSuchOption yes\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
		err = l.RestartSSHD(ctx, "node3")
		if err == nil || !strings.Contains(err.Error(), "node3: restart sshd") || !strings.Contains(err.Error(), "NoSuchOption") {
			t.Errorf("RestartSSHD with a bad config: %v; want the step and sshd's complaint", err)
		}
		if err := os.WriteFile(cfg, good, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.RestartSSHD(ctx, "node3"); err != nil {
			t.Fatalf("RestartSSHD with the good config: %v", err)
		}
		if rep, err := Status(ctx, o); err != nil || !rep.Healthy() {
			t.Errorf("status after restart: %v\n%s", err, rep)
		}
	})

	t.Run("a listener left on port 22 is named", func(t *testing.T) {
		// A recorded PID that is not the listener's: the old sshd is not
		// stopped, and RestartSSHD must say so, not take its answer for
		// the new sshd's.
		l.mu.Lock()
		real := l.Nodes[2].SSHDPID
		l.Nodes[2].SSHDPID = 0
		l.mu.Unlock()
		err := l.RestartSSHD(ctx, "node3")
		l.mu.Lock()
		l.Nodes[2].SSHDPID = real
		l.mu.Unlock()
		if err == nil || !strings.Contains(err.Error(), "still accepts connections") || !strings.Contains(err.Error(), "pid="+strconv.Itoa(real)) {
			t.Errorf("RestartSSHD with the listener not stopped: %v; want the listener named (pid %d)", err, real)
		}
		if err := l.RestartSSHD(ctx, "node3"); err != nil {
			t.Fatalf("RestartSSHD: %v", err)
		}
	})

	t.Run("changed host key", func(t *testing.T) {
		old, _ := l.HostKey("node2")
		newKey, err := l.RotateHostKey(ctx, "node2")
		if err != nil {
			t.Fatal(err)
		}
		if newKey == old {
			t.Fatal("RotateHostKey kept the old key")
		}
		_, err = output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, l.Nodes[1].IP, "true")...))
		if err == nil || !strings.Contains(err.Error(), "REMOTE HOST IDENTIFICATION HAS CHANGED") {
			t.Errorf("ssh after key rotation: %v, want a changed-key failure", err)
		}
		if err := l.WriteKnownHosts(); err != nil {
			t.Fatal(err)
		}
		if got, err := output(t, l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, l.Nodes[1].IP, "hostname")...)); err != nil || got != "node2" {
			t.Errorf("ssh after WriteKnownHosts: %q %v", got, err)
		}
		rec, _ := readRecord(l.StateDir)
		if n, _ := l.Node("node2"); rec.Nodes[1].SSHDPID != n.SSHDPID || !pidAlive(n.SSHDPID) {
			t.Errorf("restarted sshd pid %d not recorded (lab.json has %d)", n.SSHDPID, rec.Nodes[1].SSHDPID)
		}
	})

	// A long-running session must not keep the lab alive.
	sess := l.NodeCommand(context.Background(), "node3", "sleep", "300")
	if err := sess.Start(); err != nil {
		t.Fatal(err)
	}
	go sess.Wait()

	holders := []int{}
	for _, n := range l.Nodes {
		holders = append(holders, n.HolderPID)
	}
	n2, _ := l.Node("node2")
	holders = append(holders, n2.SSHDPID, sess.Process.Pid)

	start = time.Now()
	if err := Down(ctx, o); err != nil {
		t.Fatalf("Down: %v", err)
	}
	t.Logf("lab down took %s", time.Since(start))
	for _, pid := range holders {
		if pidAlive(pid) {
			t.Errorf("process %d still alive after Down", pid)
		}
	}
	nsAfter, routesAfter := hostSnapshot(t)
	if nsAfter != nsBefore {
		t.Errorf("ip netns list after down:\n%s\nbefore up:\n%s", nsAfter, nsBefore)
	}
	if routesAfter != routesBefore {
		t.Errorf("ip route after down:\n%s\nbefore up:\n%s", routesAfter, routesBefore)
	}
	if err := Down(ctx, o); err != nil {
		t.Errorf("second Down: %v", err)
	}
	if _, err := Open(o); err == nil {
		t.Error("Open succeeded after Down")
	}
	rep, err := Status(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Healthy() || rep.OpNetns || len(rep.Nodes) != 0 || !strings.Contains(rep.String(), "lab hslab: down") {
		t.Errorf("status after down:\n%s", rep)
	}
	// Keys survive Down (without Purge) so known_hosts stays valid.
	if _, err := os.Stat(l.KeyPath()); err != nil {
		t.Errorf("client key removed by Down: %v", err)
	}
	if others, _ := registeredLabs(); len(others) == 0 {
		if _, err := os.Stat(SudoersFile); err == nil {
			t.Errorf("%s left behind with no lab running", SudoersFile)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logb.String())
	}
}

func TestDownHalfMade(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nsBefore, routesBefore := hostSnapshot(t)
	o := Options{Name: testName, Subnet: testSubnet, StateDir: stateDir(t)}
	for _, ns := range []string{testName + "-br", testName + "-node1"} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v %s", ns, err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", testName+"-br").Run()
		exec.Command("ip", "netns", "del", testName+"-node1").Run()
	})
	// A process left in a half-made node namespace.
	stray := exec.Command("ip", "netns", "exec", testName+"-node1", "sleep", "300")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	go stray.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if same, _ := sameNetns(stray.Process.Pid, testName+"-node1"); same {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stray process never entered the namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rep, err := Status(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Healthy() || len(rep.Nodes) != 1 || !rep.Nodes[0].NetnsExists || !strings.Contains(rep.String(), "degraded") {
		t.Errorf("status of a half-made lab:\n%s", rep)
	}
	if err := Down(ctx, o); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if pidAlive(stray.Process.Pid) {
		t.Error("stray process survived Down")
	}
	nsAfter, routesAfter := hostSnapshot(t)
	if nsAfter != nsBefore {
		t.Errorf("ip netns list after down:\n%s\nbefore:\n%s", nsAfter, nsBefore)
	}
	if routesAfter != routesBefore {
		t.Errorf("ip route after down:\n%s\nbefore:\n%s", routesAfter, routesBefore)
	}
	if err := Down(ctx, o); err != nil {
		t.Errorf("second Down: %v", err)
	}
}

func TestUpFailureCleansUp(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nsBefore, routesBefore := hostSnapshot(t)
	// A state dir that the login user cannot traverse makes Up fail after
	// the host-wide setup, so the cleanup path runs.
	parent := stateDir(t)
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	o := Options{Name: testName, Subnet: testSubnet, Nodes: 1, StateDir: filepath.Join(parent, "state")}
	_, err := Up(ctx, o)
	if err == nil {
		Down(ctx, o)
		t.Fatal("Up succeeded with an untraversable state dir")
	}
	if !regexp.MustCompile(`lab up: state dir .*not searchable by user hotsnap`).MatchString(err.Error()) {
		t.Errorf("error %q does not name the step and cause", err)
	}
	nsAfter, routesAfter := hostSnapshot(t)
	if nsAfter != nsBefore || routesAfter != routesBefore {
		t.Errorf("failed Up left state behind:\nnetns %q (was %q)\nroutes %q (was %q)", nsAfter, nsBefore, routesAfter, routesBefore)
	}
	if isRegistered(testName) {
		t.Error("failed Up left its registry entry")
	}
}
