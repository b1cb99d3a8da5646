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
			t, err := hostTarget(inv, "repository", host)
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
	store, closeStore, err := s.repository(ctx)
	if err != nil {
		s.pool.Close()
		return nil, nil, nil, err
	}
	return s, store, func() { closeStore(); s.pool.Close() }, nil
}

// backupOpts are a backup's options: the platform's (--one-node,
// --stop-service, --hot, --redis-rdb) and its label (--name).
type backupOpts struct {
	oneNode, stopService, hot, redisRDB bool
	label                               string
}

func newBackupCmd(g *globals) *cobra.Command {
	var f runFlags
	var o backupOpts
	var clearLeftovers bool
	c := &cobra.Command{
		Use:   "backup",
		Short: "Take a consistent hot backup of every component into the repository",
		Long: `TheHive: take a hot backup while it runs: the preflight checks (at once, after
the SSH check), the estimate (the size per component and node measured on the
nodes, the time at the last backup's throughput; a repository without room for
it stops the backup here, exit 3), a gate that shows what will run where and the
estimate, the keyspace schema and topology, then one backup ID for
everything — "nodetool snapshot" on every node and the Elasticsearch snapshot
started together behind one barrier (the start skew is recorded) — every table
streamed as tar over SSH straight into the repository and hashed on the fly, the
Elasticsearch snapshot followed to SUCCESS, the attachments archived with owners
and modes (or every S3 object copied), the snapshots cleared (also when the run
fails or is cancelled), and manifest.json written last. Snapshots of hotsnap's own
that a killed run left (preflight lists them, naming the run) are offered for
clearing at a gate before the backup's own: kept by default and with --yes,
cleared with --clear-leftovers; other tools' snapshots are never touched, nor
is a snapshot Elasticsearch is still taking (preflight names the run taking it).
Alien4Cloud's and EclecticIQ's backups do the same with the Elasticsearch
snapshot a killed backup left.

Alien4Cloud (platform: alien4cloud): the checks (alien4cloud-config.yml read on
the node: the data directory, Elasticsearch remote or embedded; Elasticsearch,
its repository verified on every node; the service, its REST API and the admin
login; the data directory's owner and size) and the estimate, a gate, then
maintenance mode on (every other REST call answers 503, so nothing changes while
the data is copied; --stop-service stops the service instead, when Elasticsearch
runs on its own), at once the snapshot of Alien4Cloud's indices (every index but
the system ones, never _all; each one's document count recorded) followed to
SUCCESS, the data directory streamed as one tar without work/ upload/ tmp/ eshome/,
and the configuration files of every node; maintenance mode off again (also when
the run fails or is cancelled), and manifest.json last. --name LABEL names the
backup (the old tool's -n); its ID stays unique.

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
(reached with the inventory's ssh.user, ssh.port and ssh.identity_files where
the URL names none, and written as that user, who must own the folder) or
s3://bucket/prefix (credentials in HOTSNAP_REPO_S3_ACCESS_KEY/_SECRET_KEY,
endpoint in HOTSNAP_REPO_S3_ENDPOINT).`,
		Example: `  hotsnap backup
  hotsnap backup --yes --no-tui     # unattended (cron): approve the gate
  hotsnap backup --yes --clear-leftovers   # also clear the snapshots a killed run left
  hotsnap backup --name "before the 3.8 upgrade"
  hotsnap backup --stop-service     # Alien4Cloud with its own Elasticsearch: stopped instead of maintenance mode
  hotsnap backup --hot --yes        # EclecticIQ: without stopping the platform`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := repo.CheckLabel(o.label); err != nil {
				return usageErr(fmt.Errorf("--name: %w", err))
			}
			s, err := openSession(g)
			if err != nil {
				return err
			}
			defer s.pool.Close()
			// Options are refused before anything is contacted.
			for _, opt := range []struct {
				on     bool
				option runbooks.Option
			}{{o.oneNode, runbooks.OneNode}, {o.stopService, runbooks.StopService}, {o.hot, runbooks.Hot}, {o.redisRDB, runbooks.RedisRDB}} {
				if opt.on {
					if err := runbooks.Require(s.platform, opt.option); err != nil {
						return usageErr(err)
					}
				}
			}
			store, closeStore, err := s.repository(cmd.Context())
			if err != nil {
				return err
			}
			defer closeStore()
			if clearLeftovers {
				f.choices = map[string]string{runbooks.LeftoversGate: runbooks.ClearLeftovers}
			}
			return runBackup(cmd, s, store, f, repo.NewID(time.Now()), o, nil)
		},
	}
	c.Flags().BoolVar(&o.oneNode, "one-node", false, "TheHive: copy one node's snapshot only, the first Cassandra node that does not also send the attachments on disk (a platform option: refused by a platform without it); refused unless preflight proves RF = node count and every node UN")
	c.Flags().BoolVar(&o.stopService, "stop-service", false, "Alien4Cloud: stop the service for the backup instead of maintenance mode (a platform option; refused with Elasticsearch inside Alien4Cloud)")
	c.Flags().StringVar(&o.label, "name", "", "a label for the backup, kept in its manifest and shown by list (the documented tool's -n); the ID stays unique")
	c.Flags().BoolVar(&o.hot, "hot", false, "EclecticIQ: back up without stopping the platform (pg_dumpall runs on a live database; the manifest records that Elasticsearch may lag PostgreSQL)")
	c.Flags().BoolVar(&clearLeftovers, "clear-leftovers", false, "clear the snapshots of hotsnap's own that killed runs left (preflight lists them; only when no other hotsnap run is taking them) before taking this backup's; without it the gate offers it on a terminal and --yes keeps them")
	c.Flags().BoolVar(&o.redisRDB, "redis-rdb", false, "EclecticIQ: also copy Redis' RDB (BGSAVE, then the file once LASTSAVE moved)")
	addRunFlags(c, &f)
	addLockFlag(c, &f)
	addDeadlineFlags(c, &f)
	return c
}

// backupOptions are the platform options of a backup (--one-node, --hot,
// --redis-rdb).

// runBackup takes backup id (again, under the same ID, when prior is the run
// it continues) and prints the summary.
func runBackup(cmd *cobra.Command, s *session, store repo.Store, f runFlags, id string, o backupOpts, prior *steps.PriorRun) error {
	b, err := backupOf(s, store, id, o, prior)
	if err != nil {
		return err
	}
	sum, err := runRunbook(cmd.Context(), s, backupRunbook(s, b, id, o), f, cmd.OutOrStdout())
	if err != nil {
		if len(sum.Failed()) > 0 && errors.Is(err, runbooks.ErrPreflightFailed) {
			return &exitError{code: exitPreflight, err: err}
		}
		if c := steps.ResumeCommand(sum); c != "" && !f.json && !errors.Is(err, runbooks.ErrLocked) { // locked: nothing was done, run it again later
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
func backupOf(s *session, store repo.Store, id string, o backupOpts, prior *steps.PriorRun) (runbooks.Backup, error) {
	return s.platform.Backup(s.env, runbooks.BackupRequest{Store: store, ID: id, Tool: "hotsnap " + versionString(), OneNode: o.oneNode,
		StopService: o.stopService, Label: o.label, Hot: o.hot, RedisRDB: o.redisRDB, Prior: prior})
}

// backupRunbook is b's runbook with the parameters resume needs.
func backupRunbook(s *session, b runbooks.Backup, id string, o backupOpts) steps.Runbook {
	return withRunParams(b.Runbook(), runParams(s), map[string]string{paramBackup: id, paramOneNode: strconv.FormatBool(o.oneNode),
		paramStopService: strconv.FormatBool(o.stopService), paramLabel: o.label,
		paramHot: strconv.FormatBool(o.hot), paramRedisRDB: strconv.FormatBool(o.redisRDB)})
}

func printBackupSummary(w io.Writer, m *repo.Manifest, store repo.Store) {
	dur := m.Finished.Sub(m.Started)
	fmt.Fprintf(w, "\n=== ✓ Backup %s complete ===\n", m.ID)
	if m.Label != "" {
		fmt.Fprintf(w, "  label %q\n", m.Label)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range backupFacts(m, store).Components {
		size := "-"
		if c.Size > 0 {
			size = steps.HumanBytes(c.Size)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, size, c.Detail)
	}
	tw.Flush()
	rate, skew := "", ""
	if s := dur.Seconds(); s > 0 {
		rate = fmt.Sprintf(" (%s/s)", steps.HumanBytes(int64(float64(m.Size())/s)))
	}
	if len(m.Cassandra) > 0 {
		skew = fmt.Sprintf(" · snapshot start skew %.1f ms", m.SkewMS)
	}
	fmt.Fprintf(w, "  total %s in %s%s%s\n  in %s/%s\n", steps.HumanBytes(m.Size()), dur.Round(10*time.Millisecond), rate, skew, store, m.ID)
	fmt.Fprintf(w, "next: hotsnap verify %s · copy it off-site · test a restore\n", m.ID)
}

// specialDetail is "; " and the store's note on its special files, or "".
func specialDetail(f *repo.FileStore) string {
	if n := repo.SpecialNote(f.Special); n != "" {
		return "; " + n
	}
	return ""
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
		Long: `List the backups in the inventory's repository (repository.url), newest first by
when their data was taken: ID, label (backup --name), when it was taken (the manifest's
start, UTC — a resumed backup's ID keeps its first run's time, and the list says so), age,
size, components, and complete or not — a backup without its
manifest is incomplete (interrupted) and shown with the reason and the run that left it
(its journal: ~/.local/state/hotsnap/runs/RUN.jsonl).`,
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
			fmt.Fprintln(tw, "ID\tLABEL\tTAKEN (UTC)\tAGE\tSIZE\tCOMPONENTS\tSTATUS")
			for _, b := range sums {
				status := "complete"
				if !b.Complete {
					status = "INCOMPLETE: " + b.Problem
				}
				age, taken := "?", "?"
				if !b.Started.IsZero() {
					age = time.Since(b.Started).Round(time.Second).String()
					taken = b.Started.UTC().Format("2006-01-02 15:04:05")
				}
				if t, ok := repo.IDTime(b.ID); ok && b.Complete && b.Resumes != "" {
					// Listed by when its data was taken, not by its ID.
					status += fmt.Sprintf(" (resumed: its ID keeps the first run's time, %s)", t.Format("15:04:05"))
				}
				label := b.Label
				if label == "" {
					label = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, label, taken, age, steps.HumanBytes(b.Size), strings.Join(b.Components, ","), status)
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
keeps it. The newest complete backup is never removed. An incomplete backup loses
the Elasticsearch snapshot its run started with it. Removing is destructive:
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
	addLockFlag(c, &f)
	return c
}
