package lab

// A node's init. Every node has its own PID namespace, as a real machine
// has its own process table: ps, pgrep and /proc on a node list that
// node's processes only. The first process of the namespace is its init:
// it is given every orphan of the node, which it must reap (the machine's
// own PID 1 does not), and when it ends the kernel kills the whole node.
//
// The init is the executable that runs the lab, run again as PID 1 (the
// way container runtimes re-execute themselves): startHolder starts
// /proc/self/exe in new PID, mount and UTS namespaces, from a thread in
// the node's network namespace, with nodeInitEnv set, and this package's
// init function turns that process into the node's init before any main
// runs — the hotsnap binary's, or a test binary's. It runs holderScript
// (hostname, the node's mounts, the node's own /proc), says "ready", and
// reaps until SIGTERM, when it stops every process of the node.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// nodeInitEnv, set to 1 in the environment of a process that is PID 1
	// of its namespace, makes that process a node's init.
	nodeInitEnv = "HOTSNAP_LAB_NODE_INIT"
	// nodeInitArgv0 is the init's command line as ps shows it on the node.
	nodeInitArgv0 = "/sbin/init"
	// nodeInitComm is the init's process name (ps -e, pgrep).
	nodeInitComm = "init"
	// nodeInitGrace bounds how long the init waits, once told to stop, for
	// the node's processes to end before it ends and the kernel kills them.
	nodeInitGrace = 5 * time.Second
	// nodePath is the PATH of the init and its setup script.
	nodePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

func init() {
	if os.Getenv(nodeInitEnv) == "1" && os.Getpid() == 1 {
		os.Exit(nodeInit(os.Stdin, os.Stdout, os.Stderr))
	}
}

// nodeInit is a node's init: it reads holderScript's arguments (a JSON
// list) from stdin, runs the script, writes "ready" on stdout, leaves the
// starter's stdin, stdout and stderr, and reaps orphans until SIGTERM.
func nodeInit(stdin io.Reader, stdout, stderr *os.File) int {
	if name, err := unix.BytePtrFromString(nodeInitComm); err == nil {
		_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	}
	var args []string
	if err := json.NewDecoder(stdin).Decode(&args); err != nil {
		fmt.Fprintf(stderr, "node init: read the node's set-up from stdin: %v\n", err)
		return 1
	}
	sh := exec.Command("/bin/sh", append([]string{"-c", holderScript, "hotsnap-lab-holder"}, args...)...)
	sh.Env = []string{nodePath}
	sh.Dir = "/"
	sh.Stdout, sh.Stderr = stderr, stderr
	if err := sh.Run(); err != nil {
		fmt.Fprintf(stderr, "node init: set-up script: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM)
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	fmt.Fprintln(stdout, "ready")
	if devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			_ = unix.Dup2(int(devnull.Fd()), fd)
		}
		devnull.Close()
	}
	for sig := range sigs {
		reapChildren()
		if sig == syscall.SIGTERM {
			break
		}
	}
	// Stop the node: SIGTERM to every process of the namespace, and leave
	// when they are gone (or the grace is over: the kernel kills the rest
	// when the init ends).
	_ = syscall.Kill(-1, syscall.SIGTERM)
	deadline := time.Now().Add(nodeInitGrace)
	for !aloneInNamespace() && time.Now().Before(deadline) {
		reapChildren()
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// reapChildren collects every child that has ended, without blocking.
func reapChildren() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}

// aloneInNamespace reports whether the init is the only live process of
// its PID namespace (its /proc lists no other that is not a zombie).
func aloneInNamespace() bool {
	pids, _ := allPIDs()
	for _, pid := range pids {
		if pid != 1 && pidAlive(pid) {
			return false
		}
	}
	return true
}
