package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDir is where iproute2 keeps named network namespaces.
const netnsDir = "/run/netns"

func brNetns(name string) string         { return name + "-br" }
func opNetns(name string) string         { return name + "-op" }
func nodeNetns(name, node string) string { return name + "-" + node }
func nodeName(i int) string              { return "node" + strconv.Itoa(i) }
func nodeIP(subnet, i int) string        { return fmt.Sprintf("10.77.%d.%d", subnet, 10+i) }
func opIP(subnet int) string             { return fmt.Sprintf("10.77.%d.2", subnet) }

// listNetns returns the names of all named network namespaces.
func listNetns(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "", "ip", "netns", "list")
	if err != nil {
		return nil, fmt.Errorf("list network namespaces: %w", err)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		// Lines look like "name" or "name (id: 3)".
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// labNetns returns the namespaces that belong to lab name: NAME-br,
// NAME-op, NAME-bh (the backup host) and NAME-nodeN, the bridge last.
func labNetns(ctx context.Context, name string) ([]string, error) {
	all, err := listNetns(ctx)
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `-(br|op|bh|node[0-9]+)$`)
	var mine []string
	for _, n := range all {
		if re.MatchString(n) {
			mine = append(mine, n)
		}
	}
	sort.Slice(mine, func(i, j int) bool {
		bi, bj := strings.HasSuffix(mine[i], "-br"), strings.HasSuffix(mine[j], "-br")
		if bi != bj {
			return bj
		}
		return mine[i] < mine[j]
	})
	return mine, nil
}

func netnsExists(name string) bool {
	_, err := os.Stat(netnsDir + "/" + name)
	return err == nil
}

// netnsPIDs returns the processes whose network namespace is ns.
func netnsPIDs(ctx context.Context, ns string) ([]int, error) {
	out, err := run(ctx, "", "ip", "netns", "pids", ns)
	if err != nil {
		return nil, fmt.Errorf("list processes in %s: %w", ns, err)
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, _, err := procStat(pid)
	return err == nil && st != 'Z' && st != 'X'
}

// killPIDs sends SIGTERM to every pid, waits up to grace for them to go,
// then SIGKILLs the rest and waits again briefly.
func killPIDs(pids []int, grace time.Duration) error {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	if waitGone(pids, grace) {
		return nil
	}
	for _, pid := range pids {
		if pidAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if waitGone(pids, 2*time.Second) {
		return nil
	}
	var left []string
	for _, pid := range pids {
		if pidAlive(pid) {
			left = append(left, strconv.Itoa(pid))
		}
	}
	return fmt.Errorf("processes still alive after SIGKILL: %s", strings.Join(left, " "))
}

func waitGone(pids []int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		alive := false
		for _, pid := range pids {
			if pidAlive(pid) {
				alive = true
				break
			}
		}
		if !alive {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inNetns runs fn on an OS thread switched into the named network
// namespace. The thread is switched back afterwards; if that fails the
// thread is left locked so the runtime discards it.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open current network namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open(netnsDir + "/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open network namespace %s: %w", ns, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Keep the thread locked: it exits with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("leave network namespace %s: %w", ns, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// dialOnce tries a TCP connection to addr from the current thread.
func dialOnce(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp4", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// probeTCP reports, from inside network namespace ns, which of addrs accept
// a TCP connection within timeout each.
func probeTCP(ctx context.Context, ns string, addrs []string, timeout time.Duration) (map[string]error, error) {
	res := make(map[string]error, len(addrs))
	err := inNetns(ns, func() error {
		for _, a := range addrs {
			res[a] = dialOnce(ctx, a, timeout)
		}
		return nil
	})
	return res, err
}

// waitTCP waits, from inside ns, until every addr accepts TCP connections,
// or until ctx ends or deadline passes. alive, when not nil, is polled to
// stop early when the server behind an address has died.
func waitTCP(ctx context.Context, ns string, addrs []string, deadline time.Duration, alive func(addr string) error) error {
	pending := append([]string(nil), addrs...)
	end := time.Now().Add(deadline)
	return inNetns(ns, func() error {
		for {
			var still []string
			var last error
			for _, a := range pending {
				if err := dialOnce(ctx, a, 200*time.Millisecond); err != nil {
					if alive != nil {
						if aerr := alive(a); aerr != nil {
							return fmt.Errorf("%s: %w", a, aerr)
						}
					}
					still = append(still, a)
					last = err
				}
			}
			pending = still
			if len(pending) == 0 {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for %s: %w", strings.Join(pending, ", "), ctx.Err())
			}
			if time.Now().After(end) {
				return fmt.Errorf("%s not accepting connections after %s: %w", strings.Join(pending, ", "), deadline, last)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
