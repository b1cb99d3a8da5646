package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

// openStore opens the backup repository of inventory inv. ssh://
// repositories are reached with the inventory's SSH settings; s3:// ones
// with HOTSNAP_REPO_S3_ACCESS_KEY / _SECRET_KEY / _ENDPOINT / _REGION.
func openStore(ctx context.Context, inv *config.Inventory, g *globals) (repo.Store, func(), error) {
	url := inv.Repository.URL
	if p, err := config.ExpandHome(url); err == nil {
		url = p
	}
	var clients []*remote.Client
	closeAll := func() {
		for _, c := range clients {
			c.Close()
		}
	}
	o := repo.Options{
		SSH: func(ctx context.Context, host string) (*remote.Client, error) {
			t, err := remote.ParseTarget("repository", host)
			if err != nil {
				return nil, err
			}
			c, err := remote.Dial(ctx, t, sshOptions(inv, g))
			if err == nil {
				clients = append(clients, c)
			}
			return c, err
		},
		S3AccessKey: os.Getenv(repoS3Env[0]), S3SecretKey: os.Getenv(repoS3Env[1]),
		S3Endpoint: os.Getenv("HOTSNAP_REPO_S3_ENDPOINT"), S3Region: os.Getenv("HOTSNAP_REPO_S3_REGION"), S3PathStyle: true,
	}
	st, err := repo.Open(ctx, url, o)
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("backup repository %s: %w", inv.Repository.URL, err)
	}
	return st, closeAll, nil
}

// openSessionStore opens the session (inventory, SSH pool, secrets) and the
// backup repository; done closes both.
func openSessionStore(ctx context.Context, g *globals) (*session, repo.Store, func(), error) {
	s, err := openSession(g)
	if err != nil {
		return nil, nil, nil, err
	}
	store, closeStore, err := openStore(ctx, s.inv, g)
	if err != nil {
		s.pool.Close()
		return nil, nil, nil, err
	}
	return s, store, func() { closeStore(); s.pool.Close() }, nil
}

func newBackupCmd(g *globals) *cobra.Command {
	var f runFlags
	var o backupOptions
	c := &cobra.Command{
		Use:   "backup",
		Short: "Take a consistent hot backup of every component into the repository",
		Long: `Take a hot backup of TheHive while it runs: the preflight checks (at once, after
the SSH check), the estimate (the size per component and node measured on the
nodes, the time at the last backup's throughput; a repository without room for
it stops the backup here, exit 3), a gate that shows what will run where and the
estimate, the keyspace schema and topology, then one backup ID for
everything — "nodetool snapshot" on every node and the Elasticsearch snapshot
started together behind one barrier (the start skew is recorded) — every table
streamed as tar over SSH straight into the repository and hashed on the fly, the
Elasticsearch snapshot followed to SUCCESS, the attachments archived with owners
and modes (or every S3 object copied), the snapshots cleared (also when the run
fails or is cancelled), and manifest.json written last.

EclecticIQ (seed 003's order): the services stopped and proven stopped, the
Celery queues drained with live counts (every list of the broker's database, by
type; past eclecticiq.drain_timeout a choice: stop, the default with --yes, keep
waiting, or delete the pipeline queues behind a destructive gate), the workers
stopped (the quoted worker*.service glob), beat's leftovers; then pg_dumpall
streamed and hashed (its completion trailer required), the row counts, the
snapshot of the platform's indices and the configuration archive at once; the
workers and services started again, also on failure or Ctrl-C. --hot stops
nothing (the manifest records that Elasticsearch may lag PostgreSQL);
--redis-rdb also copies Redis' RDB.

The repository is repository.url in the inventory: a directory, ssh://host/path
or s3://bucket/prefix (credentials in HOTSNAP_REPO_S3_ACCESS_KEY/_SECRET_KEY,
endpoint in HOTSNAP_REPO_S3_ENDPOINT).`,
		Example: `  hotsnap backup
  hotsnap backup --yes --no-tui     # unattended (cron): approve the gate
  hotsnap backup --hot --yes        # EclecticIQ: without stopping the platform`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openSession(g)
			if err != nil {
				return err
			}
			defer s.pool.Close()
			// Options are refused before anything is contacted.
			for _, x := range []struct {
				set bool
				o   runbooks.Option
			}{{o.OneNode, runbooks.OneNode}, {o.Hot, runbooks.Hot}, {o.RedisRDB, runbooks.RedisRDB}} {
				if x.set {
					if err := runbooks.Require(s.platform, x.o); err != nil {
						return usageErr(err)
					}
				}
			}
			store, closeStore, err := openStore(cmd.Context(), s.inv, g)
			if err != nil {
				return err
			}
			defer closeStore()
			return runBackup(cmd, s, store, f, repo.NewID(time.Now()), o, nil)
		},
	}
	c.Flags().BoolVar(&o.Hot, "hot", false, "eclecticiq: back up without stopping the platform (pg_dumpall runs on a live database; the manifest records that Elasticsearch may lag PostgreSQL)")
	c.Flags().BoolVar(&o.RedisRDB, "redis-rdb", false, "eclecticiq: also copy Redis' RDB (BGSAVE, then the file once LASTSAVE moved)")
	c.Flags().BoolVar(&o.OneNode, "one-node", false, "copy one node's snapshot only (a platform option: refused by a platform without it); refused unless preflight proves RF = node count and every node UN")
	addRunFlags(c, &f)
	return c
}

// backupOptions are the platform options of a backup (--one-node, --hot,
// --redis-rdb).
type backupOptions struct{ OneNode, Hot, RedisRDB bool }

// runBackup takes backup id (again, under the same ID, when prior is the run
// it continues) and prints the summary.
func runBackup(cmd *cobra.Command, s *session, store repo.Store, f runFlags, id string, o backupOptions, prior *steps.PriorRun) error {
	b, err := backupOf(s, store, id, o, prior)
	if err != nil {
		return err
	}
	sum, err := runRunbook(cmd.Context(), s, backupRunbook(s, b, id, o), f, cmd.OutOrStdout())
	if err != nil {
		if len(sum.Failed()) > 0 && errors.Is(err, runbooks.ErrPreflightFailed) {
			return &exitError{code: exitPreflight, err: err}
		}
		if c := steps.ResumeCommand(sum); c != "" && !f.json {
			fmt.Fprintf(cmd.OutOrStdout(), "to take this backup again after fixing the cause: %s\n", c)
		}
		return err
	}
	if !f.json {
		printBackupSummary(cmd.OutOrStdout(), b.Manifest(), store)
	}
	return nil
}

// backupOf prepares backup id of the session's platform; prior, when
// set, is the run it takes again.
func backupOf(s *session, store repo.Store, id string, o backupOptions, prior *steps.PriorRun) (runbooks.Backup, error) {
	return s.platform.Backup(s.env, runbooks.BackupRequest{Store: store, ID: id, Tool: "hotsnap " + versionString(), OneNode: o.OneNode,
		Hot: o.Hot, RedisRDB: o.RedisRDB, Prior: prior})
}

// backupRunbook is b's runbook with the parameters resume needs.
func backupRunbook(s *session, b runbooks.Backup, id string, o backupOptions) steps.Runbook {
	return withRunParams(b.Runbook(), runParams(s), map[string]string{paramBackup: id, paramOneNode: strconv.FormatBool(o.OneNode),
		paramHot: strconv.FormatBool(o.Hot), paramRedisRDB: strconv.FormatBool(o.RedisRDB)})
}

func printBackupSummary(w io.Writer, m *repo.Manifest, store repo.Store) {
	dur := m.Finished.Sub(m.Started)
	fmt.Fprintf(w, "\n=== ✓ Backup %s complete ===\n", m.ID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if cass, files := m.CassandraSize(); len(m.Cassandra) > 0 {
		fmt.Fprintf(tw, "  cassandra\t%s\t%d nodes, %d SSTable files\n", steps.HumanBytes(cass), len(m.Cassandra), files)
	}
	if p := m.PostgreSQL; p != nil {
		fmt.Fprintf(tw, "  postgresql\t%s\tpg_dumpall of PostgreSQL %s on %s: %s\n", steps.HumanBytes(p.Dump.Size), p.Version, p.Node, strings.Join(p.DumpDatabases, ", "))
	}
	if c := m.Config; c != nil {
		fmt.Fprintf(tw, "  configuration\t%s\t%d entries from %s\n", steps.HumanBytes(c.Size), len(c.Entries), c.Node)
	}
	if r := m.Redis; r != nil {
		rdb := ""
		if r.RDB != nil {
			rdb = ", RDB " + steps.HumanBytes(r.RDB.Size)
		}
		fmt.Fprintf(tw, "  redis\t\t%d tasks queued after the workers stopped (database %d)%s\n", r.Total, r.DB, rdb)
	}
	if e := m.Elasticsearch; e != nil {
		fmt.Fprintf(tw, "  elasticsearch\t%s\tsnapshot %s in %s: %s, %s\n", steps.HumanBytes(e.SizeBytes), e.Snapshot, e.Repository, e.State, strings.Join(e.Indices, ", "))
	}
	if f := m.Files; f != nil {
		if f.Provider == repo.ProviderS3 {
			fmt.Fprintf(tw, "  attachments\t%s\t%d S3 objects from %s\n", steps.HumanBytes(objSize(f)), len(f.Objects), f.Bucket)
		} else {
			fmt.Fprintf(tw, "  attachments\t%s\t%d entries from %s:%s\n", steps.HumanBytes(f.Size), len(f.Entries), f.Node, f.Path)
		}
	}
	tw.Flush()
	rate := ""
	if s := dur.Seconds(); s > 0 {
		rate = fmt.Sprintf(" (%s/s)", steps.HumanBytes(int64(float64(m.Size())/s)))
	}
	fmt.Fprintf(w, "  total %s in %s%s · snapshot start skew %.1f ms\n  in %s/%s\n", steps.HumanBytes(m.Size()), dur.Round(10*time.Millisecond), rate, m.SkewMS, store, m.ID)
	fmt.Fprintf(w, "next: hotsnap verify %s · copy it off-site · test a restore\n", m.ID)
}

func objSize(f *repo.FileStore) int64 {
	var n int64
	for _, o := range f.Objects {
		n += o.Size
	}
	return n
}

func newListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the backups in the repository: ID, age, size, components, complete or not",
		Long: `List the backups in the inventory's repository (repository.url), newest first:
ID, age, size, components, and complete or not — a backup without its
manifest is incomplete (interrupted) and shown with the reason.`,
		Example: `  hotsnap list
  hotsnap list -i prod.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventory(g)
			if err != nil {
				return err
			}
			store, closeStore, err := openStore(cmd.Context(), inv, g)
			if err != nil {
				return err
			}
			defer closeStore()
			sums, err := repo.List(cmd.Context(), store)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(sums) == 0 {
				fmt.Fprintf(w, "no backups in %s\n", store)
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tAGE\tSIZE\tCOMPONENTS\tSTATUS")
			for _, b := range sums {
				status := "complete"
				if !b.Complete {
					status = "INCOMPLETE: " + b.Problem
				}
				age := "?"
				if !b.Started.IsZero() {
					age = time.Since(b.Started).Round(time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.ID, age, steps.HumanBytes(b.Size), strings.Join(b.Components, ","), status)
			}
			return tw.Flush()
		},
	}
}

func newVerifyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify ID",
		Short: "Re-hash a backup against its manifest and check its Elasticsearch snapshot is SUCCESS",
		Long: `Read every archive of the backup again and compare its size and SHA-256, and the
SHA-256 of every file inside it, with the manifest; check that nothing is missing
or extra, and that the Elasticsearch snapshot still exists and is SUCCESS. Exit 1
naming every problem found.`,
		Example: "  hotsnap verify hotsnap-20261122-213000-a1b2",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, store, done, err := openSessionStore(ctx, g)
			if err != nil {
				return err
			}
			defer done()
			w := cmd.OutOrStdout()
			probs, m, err := runbooks.Verify(ctx, s.env, store, args[0])
			if err != nil {
				return err
			}
			for _, p := range probs {
				fmt.Fprintf(w, "✗ %s\n", p)
			}
			if len(probs) > 0 {
				return fmt.Errorf("backup %s is damaged: %d problems", args[0], len(probs))
			}
			if m == nil {
				return fmt.Errorf("backup %s has no readable manifest", args[0])
			}
			fmt.Fprintf(w, "✓ backup %s verified: every file matches its manifest (%s); Elasticsearch snapshot SUCCESS\n", args[0], steps.HumanBytes(m.Size()))
			return nil
		},
	}
}

func newPruneCmd(g *globals) *cobra.Command {
	var f runFlags
	var keepLast int
	var olderThan time.Duration
	var dryRun bool
	c := &cobra.Command{
		Use:   "prune --keep-last N | --older-than D [--dry-run]",
		Short: "Remove old backups and their Elasticsearch snapshots, behind a gate",
		Long: `Remove backups by policy: keep the newest N (--keep-last), or remove those older
than a duration (--older-than 720h); with both, a backup is kept if either rule
keeps it. The newest complete backup is never removed. Removing is destructive:
approve by typing the cluster name, or --confirm NAME. --dry-run only lists.`,
		Example: `  hotsnap prune --keep-last 7 --dry-run
  hotsnap prune --older-than 720h --confirm prod-thehive`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keepLast <= 0 && olderThan <= 0 {
				return usageErr(errors.New("say what to keep: --keep-last N and/or --older-than DURATION"))
			}
			ctx := cmd.Context()
			s, store, done, err := openSessionStore(ctx, g)
			if err != nil {
				return err
			}
			defer done()
			sums, err := repo.List(ctx, store)
			if err != nil {
				return err
			}
			remove := repo.Select(sums, keepLast, olderThan, time.Now())
			w := cmd.OutOrStdout()
			if len(remove) == 0 {
				fmt.Fprintln(w, "nothing to remove")
				return nil
			}
			for _, r := range remove {
				fmt.Fprintf(w, "remove %s (%s, %s)\n", r.ID, r.Started.Format(time.RFC3339), steps.HumanBytes(r.Size))
			}
			if dryRun {
				return nil
			}
			_, err = runRunbook(ctx, s, runbooks.Prune(s.env, store, remove), f, w)
			return err
		},
	}
	c.Flags().IntVar(&keepLast, "keep-last", 0, "keep the newest N backups")
	c.Flags().DurationVar(&olderThan, "older-than", 0, "remove backups older than this (e.g. 720h)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be removed, remove nothing")
	addRunFlags(c, &f)
	return c
}
