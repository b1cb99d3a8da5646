package lab

// PIDs seen from the host and from a node. Each node has a PID namespace
// of its own (nodeinit.go). What the lab records — lab.json, NodeInfo,
// Daemon, StatusReport — are host PIDs: Down, StopNode and every liveness
// check work on them. What a node records — the systemctl shim's MainPID,
// pid files, what ps and pgrep print there — are the node's PIDs; hostPID
// turns one into the host's, as /proc/PID/status's NSpid line pairs them.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hotsnap/hotsnap/lab/thehive"
)

// enteredWait bounds how long enteredPID waits for nsenter's child.
const enteredWait = 5 * time.Second

// procStat returns the state letter and parent PID of process pid, from
// /proc/PID/stat.
func procStat(pid int) (state byte, ppid int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// Format: pid (comm) state ppid ...; comm may contain blanks and parens.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %q", pid, s)
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0][0], ppid, err
}

// allPIDs lists the processes in this process's /proc.
func allPIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// childOf returns a child of process ppid, 0 when it has none.
func childOf(ppid int) int {
	pids, _ := allPIDs()
	for _, pid := range pids {
		if _, p, err := procStat(pid); err == nil && p == ppid {
			return pid
		}
	}
	return 0
}

// nsPIDs returns process pid's NSpid line: its PID in each PID namespace
// from this process's down to its own.
func nsPIDs(pid int) ([]int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			var ids []int
			for _, f := range strings.Fields(rest) {
				id, err := strconv.Atoi(f)
				if err != nil {
					return nil, fmt.Errorf("/proc/%d/status: NSpid %q: %w", pid, rest, err)
				}
				ids = append(ids, id)
			}
			return ids, nil
		}
	}
	return nil, fmt.Errorf("/proc/%d/status has no NSpid line", pid)
}

// hostPID returns the host's PID of the process whose PID is pid in the
// PID namespace of process holder (a node's init).
func hostPID(holder, pid int) (int, error) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", holder))
	if err != nil {
		return 0, fmt.Errorf("PID namespace of process %d: %w", holder, err)
	}
	pids, err := allPIDs()
	if err != nil {
		return 0, err
	}
	for _, p := range pids {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); err != nil || l != ns {
			continue
		}
		if ids, err := nsPIDs(p); err == nil && len(ids) > 0 && ids[len(ids)-1] == pid {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no process %d in the PID namespace of process %d", pid, holder)
}

// nodeProc is the node's /proc, where its own PIDs are found, as the host
// sees it through the node's init.
func nodeProc(holder int) string { return fmt.Sprintf("/proc/%d/root/proc", holder) }

// unitStatus reads a unit's state from service directory dir of node n
// (on the host): its processes are looked up in the node's PID namespace,
// and hostMain is its main process as the host numbers it (0 when none
// runs, or the node is not up).
func unitStatus(n NodeInfo, dir, unit string) (us thehive.UnitStatus, hostMain int, err error) {
	up := checkHolder(n) == nil
	proc := nodeProc(n.HolderPID)
	if !up {
		proc = os.DevNull // the node is down: no process of it runs
	}
	us, err = thehive.ReadStatus(proc, dir, unit)
	if err != nil || us.MainPID == 0 || !up {
		return us, 0, err
	}
	hostMain, err = hostPID(n.HolderPID, us.MainPID)
	if err != nil {
		return us, 0, fmt.Errorf("%s: unit %s: main process: %w", n.Name, unit, err)
	}
	return us, hostMain, nil
}

// startEntered starts c, a NodeCommand (or another nsenter into a node's
// PID namespace), reaps it in the background and returns the host PID of
// the program it runs in the node.
func startEntered(c *exec.Cmd) (int, error) {
	if err := c.Start(); err != nil {
		return 0, err
	}
	go c.Wait() //nolint:errcheck // reap it whenever it ends
	return enteredPID(c.Process.Pid)
}

// enteredPID returns the host PID of the program that nsenter (process
// ns) runs in a node: nsenter forks it into the node's PID namespace and
// waits for it.
func enteredPID(ns int) (int, error) {
	deadline := time.Now().Add(enteredWait)
	for {
		if pid := childOf(ns); pid > 0 {
			return pid, nil
		}
		if !pidAlive(ns) {
			return 0, fmt.Errorf("nsenter (pid %d) ended before its program started", ns)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("nsenter (pid %d) started no program within %s", ns, enteredWait)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopEntered kills a NodeCommand's process: nsenter, which does not pass
// signals on, is stopped first (it forks no more), then its child in the
// node is killed, then nsenter.
func stopEntered(p *os.Process) error {
	if err := p.Signal(syscall.SIGSTOP); errors.Is(err, os.ErrProcessDone) {
		return err
	}
	if c := childOf(p.Pid); c > 0 {
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	return p.Kill()
}
