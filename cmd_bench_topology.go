package main

// The changed-topology contender of `hotsnap lab bench`: hotsnap's backup
// of the bench's lab restored into a second lab of another node count,
// which hotsnap loads with sstableloader, as an operator migrating a
// cluster would (the ES repository copied along, the inventory's
// repository pointed at the backups).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
)

// Defaults of the changed-topology lab (--topology-nodes, --topology-subnet).
const (
	benchTopologyNodes  = 2
	benchTopologySubnet = 25
)

// topologyLab is the lab a changed-topology restore goes into: the bench
// lab's options (links, binary) with o.Topology's name, subnet, node count
// and state dir, and 1 MB of data of its own, which every restore replaces.
func (o benchOptions) topologyLab() lab.Options {
	lo := o.Lab
	lo.Name, lo.Subnet, lo.Nodes, lo.StateDir, lo.Data = o.Topology.Name, o.Topology.Subnet, o.Topology.Nodes, o.Topology.StateDir, 1<<20
	return lo
}

// topologyName is the changed-topology lab's name for a bench lab named
// name: the same with a "t" (lab names have at most 8 characters).
func topologyName(name string) string { return name[:min(len(name), 7)] + "t" }

// withOther gives b the changed-topology lab dst: a bench of its own, and
// dst's inventory with the repository of b's lab, written into dst's state.
func (b *bench) withOther(dst *lab.Lab) error {
	inv, err := config.Load(dst.InventoryPath())
	if err != nil {
		return fmt.Errorf("bench: lab %s's inventory: %w", dst.Name, err)
	}
	inv.Repository.URL = b.l.BackupsPath()
	p := filepath.Join(dst.StateDir, "inventory-from-"+b.l.Name+".yaml")
	if err := config.Write(p, inv); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	b.other, b.otherInv = &bench{l: dst, bin: b.bin, logf: b.logf}, p
	return nil
}

// restoreIntoOther times hotsnap's restore of backup id into the other lab
// after the same damage as every restore (--set-rf: the replication made
// to fit its node count, as a migration would), then checks what the
// application sees there.
func (b *bench) restoreIntoOther(ctx context.Context, id string, want benchAppState, tables []string, rep *benchReport) (hr benchRestore, err error) {
	o := b.other
	defer func() {
		if cerr := o.clearAutoSnapshots(context.Background()); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// The ES repository is the shared folder: a migration brings it along
	// (untimed), as a copy of this round's into an emptied folder: copied
	// over the last round's (index.latest rewritten in place through the
	// operator's mount of the share), the second lab's Elasticsearch did not
	// find the new snapshot (cause not pinned down: a stale read through
	// the node's mount is the likely one).
	src, dst := filepath.Join(b.l.SharedBackupPath(), "elasticsearch"), filepath.Join(o.l.SharedBackupPath(), "elasticsearch")
	ents, err := os.ReadDir(dst)
	if err != nil {
		return hr, fmt.Errorf("the ES repository of lab %s: %w", o.l.Name, err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
			return hr, fmt.Errorf("empty the ES repository of lab %s: %w", o.l.Name, err)
		}
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		return hr, fmt.Errorf("copy the ES repository %s to %s: %w: %s", src, dst, err, out)
	}
	if err := o.damage(ctx, tables); err != nil {
		return hr, err
	}
	settle()
	if hr, err = o.hotsnapRestore(ctx, id, "--inventory", b.otherInv, "--set-rf"); err != nil {
		return hr, err
	}
	return hr, o.check(ctx, fmt.Sprintf("hotsnap restore into %d nodes", len(o.l.Nodes)), want, tables, true, rep)
}
