package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPIDHelpers: the PID look-ups on this process and a child of it (one
// PID namespace: the host's PID is the PID).
func TestPIDHelpers(t *testing.T) {
	self := os.Getpid()
	if ids, err := nsPIDs(self); err != nil || len(ids) == 0 || ids[len(ids)-1] != self {
		t.Errorf("nsPIDs(self) = %v, %v; want ending in %d", ids, err, self)
	}
	if p, err := hostPID(self, self); err != nil || p != self {
		t.Errorf("hostPID(self, self) = %d, %v; want %d", p, err, self)
	}
	if p, err := hostPID(self, 1<<30); err == nil {
		t.Errorf("hostPID of no process = %d, want an error", p)
	}
	if _, err := hostPID(-1, self); err == nil {
		t.Error("hostPID with no holder: no error")
	}
	// sh forks the sleep (the ":" after it keeps sh from exec'ing it).
	c := exec.Command("/bin/sh", "-c", "sleep 30; :")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Wait() //nolint:errcheck // killed below
	defer c.Process.Kill()
	if st, ppid, err := procStat(c.Process.Pid); err != nil || ppid != self || st == 'Z' {
		t.Errorf("procStat(sh) = %c %d %v, want a live child of %d", st, ppid, err, self)
	}
	var child int
	waitFor(t, 5*time.Second, "sh's child", func() bool { child = childOf(c.Process.Pid); return child > 0 })
	defer syscall.Kill(child, syscall.SIGKILL) //nolint:errcheck // may be gone
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child)); err != nil || string(comm) != "sleep\n" {
		t.Errorf("childOf(sh) = %d, running %q (%v), want the sleep", child, comm, err)
	}
	if got := childOf(child); got != 0 {
		t.Errorf("childOf(sleep) = %d, want 0", got)
	}
}

// TestLabPIDNamespaces: every node has its own PID namespace, with an init
// that reaps orphans and a /proc of its own: ps and pgrep on a node see
// that node's processes only (not another node's, not another lab's), the
// systemctl shim's MainPID is a process of the node, the lab records host
// PIDs, and Down leaves no process of any node's namespace.
func TestLabPIDNamespaces(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ao := Options{Name: "hspn0", Subnet: 55, Nodes: 2, Data: 1 << 20}
	a, _ := upPlatformLab(t, ctx, ao)
	bo := Options{Name: "hspn1", Subnet: 56, Nodes: 1, StateDir: stateDir(t)}
	_ = Down(ctx, bo)
	b, err := Up(ctx, bo)
	if err != nil {
		t.Fatalf("Up %s: %v", bo.Name, err)
	}
	t.Cleanup(func() { Down(context.Background(), bo) })

	run := func(l *Lab, node string, argv ...string) (string, error) {
		return output(t, l.NodeCommand(ctx, node, argv[0], argv[1:]...))
	}

	t.Run("ps lists the node's processes only", func(t *testing.T) {
		for _, n := range a.Nodes {
			out, err := run(a, n.Name, "ps", "-e", "-o", "pid=,stat=,comm=")
			if err != nil {
				t.Fatalf("%s: ps: %v", n.Name, err)
			}
			var comms []string
			for _, line := range strings.Split(out, "\n") {
				f := strings.Fields(line)
				if len(f) != 3 {
					t.Fatalf("%s: ps line %q", n.Name, line)
				}
				pid, _ := strconv.Atoi(f[0])
				comms = append(comms, f[2])
				if pid == 1 && f[2] != nodeInitComm {
					t.Errorf("%s: PID 1 is %q, want %s", n.Name, f[2], nodeInitComm)
				}
				if f[2] == "ps" || strings.HasPrefix(f[1], "Z") {
					continue // gone by now, or dead
				}
				host, err := hostPID(n.HolderPID, pid)
				if err != nil {
					t.Errorf("%s: ps lists %d %s: %v", n.Name, pid, f[2], err)
					continue
				}
				if same, err := sameNetns(host, n.Netns); err != nil || !same {
					t.Errorf("%s: ps lists %d %s (host pid %d), not in %s (%v)", n.Name, pid, f[2], host, n.Netns, err)
				}
			}
			for _, want := range []string{nodeInitComm, "sshd", "cassandra-stand", "es-standin", "thehive-standin"} {
				if !slices.Contains(comms, want) {
					t.Errorf("%s: ps -e lacks %s: %q", n.Name, want, comms)
				}
			}
		}
		if args, err := run(a, "node1", "ps", "-o", "args=", "-p", "1"); err != nil || args != nodeInitArgv0 {
			t.Errorf("node1's PID 1 runs %q (%v), want %s", args, err, nodeInitArgv0)
		}
	})

	t.Run("pgrep does not find another node's or lab's process", func(t *testing.T) {
		n2 := a.Nodes[1]
		node2Cassandra := "--listen " + n2.IP + " "
		otherSSHD := filepath.Join(b.NodeDir("node1"), "sshd_config")
		// The patterns are right: the host sees both processes (and the
		// nsenter that started each).
		for pat, pid := range map[string]int{node2Cassandra: n2.CassandraPID, otherSSHD: b.Nodes[0].SSHDPID} {
			if out, err := exec.CommandContext(ctx, "pgrep", "-f", "--", pat).Output(); err != nil || !slices.Contains(strings.Fields(string(out)), strconv.Itoa(pid)) {
				t.Fatalf("pgrep -f %q on the host = %q %v, want pid %d among them", pat, out, err, pid)
			}
		}
		for _, c := range []struct {
			l    *Lab
			node string
			pat  string
			want int // the host PID of the one process found, 0 for none
		}{
			{a, "node1", node2Cassandra, 0},
			{a, "node1", otherSSHD, 0},
			{b, "node1", node2Cassandra, 0},
			{a, "node2", node2Cassandra, n2.CassandraPID},
			{b, "node1", otherSSHD, b.Nodes[0].SSHDPID},
		} {
			out, err := run(c.l, c.node, "pgrep", "-f", "--", c.pat)
			if c.want == 0 {
				if err == nil || out != "" {
					t.Errorf("%s %s: pgrep -f %q = %q %v, want nothing", c.l.Name, c.node, c.pat, out, err)
				}
				continue
			}
			pid, perr := strconv.Atoi(out)
			n, _ := c.l.Node(c.node)
			if err != nil || perr != nil {
				t.Errorf("%s %s: pgrep -f %q = %q %v, want one process", c.l.Name, c.node, c.pat, out, err)
			} else if host, err := hostPID(n.HolderPID, pid); err != nil || host != c.want {
				t.Errorf("%s %s: pgrep found %d, host pid %d (%v); lab.json records %d", c.l.Name, c.node, pid, host, err, c.want)
			}
		}
	})

	t.Run("the shim's MainPID is the node's", func(t *testing.T) {
		n := a.Nodes[0]
		main, err := run(a, n.Name, "systemctl", "show", "-p", "MainPID", "--value", TheHiveUnit)
		if err != nil {
			t.Fatal(err)
		}
		if comm, err := run(a, n.Name, "ps", "-o", "comm=", "-p", main); err != nil || comm != "thehive-standin" {
			t.Errorf("MainPID %s on %s runs %q (%v), want thehive-standin", main, n.Name, comm, err)
		}
		rep, err := Status(ctx, Options{Name: a.Name, StateDir: a.StateDir})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := nsPIDs(rep.Nodes[0].TheHivePID)
		if err != nil || len(ids) < 2 || strconv.Itoa(ids[len(ids)-1]) != main {
			t.Errorf("lab status: TheHive's pid %d is %v on the node (%v), want the host's pid of %s", rep.Nodes[0].TheHivePID, ids, err, main)
		}
	})

	t.Run("orphans are reaped", func(t *testing.T) {
		out, err := run(a, "node1", "/bin/sh", "-c", "sleep 1 >/dev/null 2>&1 & echo $!")
		if err != nil {
			t.Fatal(err)
		}
		proc := filepath.Join(nodeProc(a.Nodes[0].HolderPID), out)
		if _, err := os.Stat(proc); err != nil {
			t.Fatalf("the orphan %s is not in node1's /proc: %v", out, err)
		}
		waitFor(t, 5*time.Second, "the orphan "+out+" adopted by node1's init", func() bool {
			b, err := os.ReadFile(filepath.Join(proc, "stat"))
			i := strings.LastIndexByte(string(b), ')')
			return err != nil || i > 0 && strings.HasPrefix(string(b[i:]), ") S 1 ")
		})
		waitFor(t, 5*time.Second, "the orphan "+out+" reaped once it ended", func() bool {
			_, err := os.Stat(proc)
			return err != nil
		})
	})

	t.Run("cancelling a node command ends its program", func(t *testing.T) {
		cctx, stop := context.WithCancel(ctx)
		c := a.NodeCommand(cctx, "node2", "sleep", "300")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		pid, err := enteredPID(c.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		stop()
		if err := c.Wait(); err == nil {
			t.Error("cancelled command: no error")
		}
		waitFor(t, 2*time.Second, fmt.Sprintf("sleep (pid %d) killed", pid), func() bool { return !pidAlive(pid) })
	})

	// Down: no process of any node's PID namespace remains.
	var inits []int
	var namespaces []string
	for _, n := range append(append([]NodeInfo(nil), a.Nodes...), b.Nodes...) {
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n.HolderPID))
		if err != nil {
			t.Fatal(err)
		}
		inits, namespaces = append(inits, n.HolderPID), append(namespaces, ns)
	}
	if err := Down(ctx, bo); err != nil {
		t.Fatal(err)
	}
	downAndCheck(t, ctx, a, Options{Name: a.Name})
	for _, p := range inits {
		if pidAlive(p) {
			t.Errorf("a node's init (pid %d) alive after Down", p)
		}
	}
	pids, err := allPIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); err == nil && slices.Contains(namespaces, ns) && pidAlive(p) {
			t.Errorf("process %d of a node's PID namespace (%s) alive after Down", p, ns)
		}
	}

	// Up again over the same state: the units' state names PIDs of the
	// namespaces that are gone, and the new ones number their processes
	// from 1 again. node1's names PID 1 (the new init, surely alive) as
	// TheHive's supervisor: systemctl must see that it is another process
	// (its start time differs) and start TheHive.
	statePath := filepath.Join(a.TheHiveServiceDir("node1"), TheHiveUnit+".state.json")
	raw, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	st["active"], st["sub"], st["supervisor_pid"], st["supervisor_start"] = "active", "running", 1, 1
	if raw, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statePath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ao.StateDir, ao.Binary = a.StateDir, self
	a2, err := Up(ctx, ao)
	if err != nil {
		t.Fatalf("Up again over the same state: %v", err)
	}
	for _, n := range a2.Nodes {
		if out, err := run(a2, n.Name, "systemctl", "is-active", TheHiveUnit); err != nil || out != "active" {
			t.Errorf("%s after up again: systemctl is-active thehive = %q %v", n.Name, out, err)
		}
	}
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
