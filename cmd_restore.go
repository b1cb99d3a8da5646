package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/repo"
)

func newRestoreCmd(g *globals) *cobra.Command {
	var f runFlags
	var s3Exact bool
	c := &cobra.Command{
		Use:   "restore ID",
		Short: "Restore a backup: verified, gated, with TheHive stopped and started again",
		Long: `Restore a backup of the repository into the cluster of the inventory:

 1. verify the backup before touching anything (every hash, the Elasticsearch
    snapshot SUCCESS, a version ES can restore into), every Cassandra node UN;
 2. compare topologies: the same nodes (host IDs) take back their own SSTables
    with "nodetool import"; a changed topology (a migration, nodes added or
    removed, a standalone target) loads them with "sstableloader";
 3. gate, then stop TheHive on every node and prove it stopped (state, process,
    port) — if it does not stop, nothing is changed;
 4. destructive gate (type the cluster name, or --confirm NAME), then the
    keyspace (dropped only when its schema differs from the backup's, else its
    tables are truncated; recreated from the backup's schema; loaded; granted to
    TheHive's role), the Elasticsearch indices (deleted, restored, recovery
    followed), the attachments (with owners and modes, or S3 objects);
 5. start TheHive, wait until /api/status answers and its log shows no error,
    and print "=== ✓ Successful full restore ===".`,
		Example: `  hotsnap list
  hotsnap restore hotsnap-20261122-213000-a1b2
  hotsnap restore hotsnap-20261122-213000-a1b2 --yes --confirm prod-thehive   # unattended`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id := args[0]
			if err := repo.CheckID(id); err != nil {
				return usageErr(fmt.Errorf("%q is not a backup ID (hotsnap list shows them): %w", id, err))
			}
			s, store, done, err := openSessionStore(ctx, g)
			if err != nil {
				return err
			}
			defer done()
			m, err := repo.ReadManifest(ctx, store, id)
			if errors.Is(err, fs.ErrNotExist) {
				return usageErr(fmt.Errorf("backup %s has no manifest in %s: it is incomplete or does not exist (hotsnap list)", id, store))
			}
			if err != nil {
				return err
			}
			if m.Platform != s.inv.Platform {
				return usageErr(fmt.Errorf("backup %s is of platform %s, the inventory is %s", id, m.Platform, s.inv.Platform))
			}
			return runRestore(cmd, s, store, m, s3Exact, f, nil)
		},
	}
	c.Flags().BoolVar(&s3Exact, "s3-exact", false, "S3 attachments: remove objects created after the backup (an exact copy); by default they are kept")
	addRunFlags(c, &f)
	return c
}
