package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// killGrace is how long Down waits after SIGTERM before SIGKILL.
const killGrace = 2 * time.Second

// Down stops every process in the lab's namespaces, deletes the namespaces
// (and with them the bridge and veths) and unregisters the lab; when no lab
// remains it also removes the sudoers drop-in and the guard route. It works
// from what exists (namespaces named NAME-br/op/nodeN and the registry),
// so it cleans up after an Up that died halfway, and it is idempotent. The
// state dir is kept unless o.Purge is set.
func Down(ctx context.Context, o Options) error {
	if err := RequireRoot(); err != nil {
		return fmt.Errorf("lab down: %w", err)
	}
	o, err := o.normalize(false)
	if err != nil {
		return fmt.Errorf("lab down: %w", err)
	}
	unlock, err := lockLab(ctx, o.Name)
	if err != nil {
		return fmt.Errorf("lab down: %s: %w", o.Name, err)
	}
	defer unlock()
	start := time.Now()
	if err := downLocked(ctx, o); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "lab %s: down in %s\n", o.Name, time.Since(start).Round(time.Millisecond))
	return nil
}

// downLocked does Down's work; the caller holds the lab's lock.
func downLocked(ctx context.Context, o Options) error {
	fail := func(step string, err error) error { return fmt.Errorf("lab down: %s: %s: %w", o.Name, step, err) }
	namespaces, err := labNetns(ctx, o.Name)
	if err != nil {
		return fail("namespaces", err)
	}

	// The operator's mount of the backup host's share (its client exits
	// with it), before anything that could leave it hanging.
	if gone, err := unmountUnder(ctx, o.StateDir); err != nil {
		return fail("unmount", err)
	} else if len(gone) > 0 {
		fmt.Fprintf(o.Log, "lab %s: unmounted %s\n", o.Name, strings.Join(gone, " "))
	}

	// Platform daemons first, each with its own clean stop.
	if rec, err := readRecord(o.StateDir); err == nil && rec.Name == o.Name && len(rec.Daemons) > 0 {
		nodes := map[string]NodeInfo{}
		for _, n := range rec.Nodes {
			nodes[n.Name] = n
		}
		stopDaemons(rec, nodes, 10*time.Second)
	}

	// Every process in the lab's network namespaces (holders, sshd and
	// their sessions, anything started with NodeCommand/OpCommand). A
	// second round catches sessions forked while the first was stopping.
	for round := 0; round < 3; round++ {
		var pids []int
		for _, ns := range namespaces {
			p, err := netnsPIDs(ctx, ns)
			if err != nil {
				return fail("processes", err)
			}
			pids = append(pids, p...)
		}
		if len(pids) == 0 {
			break
		}
		fmt.Fprintf(o.Log, "lab %s: stopping %d processes\n", o.Name, len(pids))
		if err := killPIDs(pids, killGrace); err != nil {
			return fail("stop processes", err)
		}
	}

	// Deleting a namespace destroys its interfaces; a veth dies with
	// either end, the bridge with the bridge namespace (deleted last).
	var errs []error
	for _, ns := range namespaces {
		if _, err := run(ctx, "", "ip", "netns", "del", ns); err != nil && netnsExists(ns) {
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", ns, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fail("namespaces", err)
	}
	if len(namespaces) > 0 {
		fmt.Fprintf(o.Log, "lab %s: deleted namespaces %s\n", o.Name, strings.Join(namespaces, " "))
	}
	if err := os.Remove(recordPath(o.StateDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail("lab record", err)
	}

	// Registry, and host-wide state when this was the last lab.
	unlockG, err := lockGlobal(ctx)
	if err != nil {
		return fail("lock registry", err)
	}
	defer unlockG()
	if err := unregister(o.Name); err != nil {
		return fail("registry", err)
	}
	rest, err := registeredLabs()
	if err != nil {
		return fail("registry", err)
	}
	if len(rest) == 0 {
		if err := releaseHost(ctx); err != nil {
			return fail("host cleanup", err)
		}
		fmt.Fprintf(o.Log, "lab %s: last lab gone: removed guard route and sudoers drop-in\n", o.Name)
	}

	if o.Purge {
		if err := purgeState(o.StateDir); err != nil {
			return fail("purge", err)
		}
		fmt.Fprintf(o.Log, "lab %s: removed state dir %s\n", o.Name, o.StateDir)
	}
	return nil
}

// purgeState removes a state dir, but only one that Up marked as such.
func purgeState(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, markerFile)); err != nil {
		return fmt.Errorf("%s has no %s marker; not deleting it: %w", dir, markerFile, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
