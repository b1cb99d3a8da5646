package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

func newRestoreCmd(g *globals) *cobra.Command {
	var f runFlags
	var o restoreOpts
	var at string
	c := &cobra.Command{
		Use:   "restore ID|PATH",
		Short: "Restore a backup: verified, gated, with the application stopped and started again",
		Long: `Restore a backup of the repository into the cluster of the inventory. TheHive:

 1. compare topologies: the same nodes (host IDs) take back their own SSTables
    with "nodetool import"; a changed topology (a migration, nodes added or
    removed, a standalone target) loads them with "sstableloader"; when the
    backup's replication does not fit this cluster (RF = node count in every
    data center: 3 → 5 nodes, 3 → 1 node) it says what RF this cluster needs,
    and a gate asks whether to keep the backup's (the default, what --yes
    takes) or set it (--set-rf: ALTER KEYSPACE ... NetworkTopologyStrategy:
    with sstableloader before loading, which then writes every replica, no
    repair; with nodetool import after it, then nodetool repair -full on
    every node);
 2. verify the backup before touching anything (every hash, the Elasticsearch
    snapshot SUCCESS, a version ES can restore into), every Cassandra node UN,
    free disk on every node for what the restore writes there;
 3. with attachments in S3, the bucket is compared with the backup and a gate
    asks what to do with the objects created after the backup: keep them (the
    default, what --yes takes) or remove them for an exact copy (--s3-exact);
    without a terminal and without either flag the restore stops there;
    then a gate; with the same topology each node's SSTables are staged next
    to its data directory while TheHive still runs, every archive hashed as it
    streams (a damaged one stops the restore here, exit 3, nothing changed);
    then TheHive is stopped on every node and proven stopped (state, process,
    port) — if it does not stop, nothing is changed;
 4. destructive gate (type the cluster name, or --confirm NAME), then, all
    three at once (if one fails the others finish and TheHive stays stopped;
    "hotsnap resume" skips what finished), the keyspace (dropped only when its schema differs from the backup's, else its
    tables are truncated; recreated from the backup's schema; loaded; granted to
    TheHive's role), the Elasticsearch indices (deleted, restored, recovery
    followed), the attachments (with owners and modes, or S3 objects, removing
    those created after the backup only when that was chosen — the gate says
    how many);
 5. start TheHive, wait until /api/status answers and its log shows no error,
    and print "=== ✓ Successful full restore ===".

Alien4Cloud (platform: alien4cloud): the backup verified first (every archive
re-hashed, the data directory's as it is unpacked; the snapshot SUCCESS and
restorable into this Elasticsearch), room beside the data directory; a gate, then
Alien4Cloud stopped and proven stopped (with Elasticsearch inside it: kept
running in maintenance mode instead); a destructive gate, then at once exactly
the backup's indices deleted (Alien4Cloud recreates missing ones at start, and
Elasticsearch refuses to restore over an open index), restored, the recovery
followed and each index's documents counted against the backup, and the data
directory unpacked beside the current one and swapped in (the previous one kept
as DIR.pre-restore-ID until the end); Alien4Cloud started (restarted when it holds
Elasticsearch) and healthy, maintenance mode turned off when the snapshot brought
it back, the files compared with the manifest and the configuration files with
the saved ones (not overwritten), and the previous data directory removed.

EclecticIQ: verify (hashes, the dump's trailer, the snapshot, the PostgreSQL
major), stop the services and workers as the backup does, one destructive gate
naming the databases with sizes, the indices, the queued tasks and the
configuration files that differ; then the broker's queues emptied, the
configuration put back (daemon-reload), the dump's databases dropped and the
dump loaded with psql (any error but role "…" already exists fails, naming the
dump's line) while exactly the backup's indices are restored; the
failed-packages query, eiq-platform search upgrade judged by its exit status,
workers and services started, the queues drain, and every table and index
compared with the manifest.

A backup made by TheHive's documented hot-backup scripts is restored the same way:
give the backup root they write to (BACKUP_ROOT, /mnt/backup by default) as PATH.
hotsnap finds cassandra/cassandra_<stamp>.tar (with create_keyspace_<ks>.cql
inside or next to it), elasticsearch/elasticsearch_<stamp>.info (the snapshot in
the ES fs repository), storage/files_<stamp>.tar and seaweedfs_/minio_<stamp>.tar
(also when they all sit in PATH itself), takes the newest set — or the one of
--at STAMP — pairing each component with the nearest stamp within an hour (the
scripts call "date" once per component), and lists what it found. The run's
first step (after the lock) reads the archives' tar headers, with progress, and
makes the restore's steps from what it read; a damaged archive fails it (exit 3)
naming the node, the folder and the archive. These backups
have no hashes, no owners and no host IDs: verification reads every archive
whole (complete, readable; its sha256 is shown) and checks the schema and the ES
snapshot; the one node's snapshot is loaded with sstableloader, streamed table by
table from the archive by ranged reads (no copy of the whole archive anywhere);
attachments get storage.owner (default thehive:thehive) and keep the archive's
modes. Where PATH is read:

  node1:/mnt/backup          on inventory node node1, over its SSH connection
  ssh://[user@]host[:port]/path
                             on that host (an inventory node's address or name
                             uses the node's connection; another host is reached
                             with the inventory's ssh.user, ssh.port and keys)
  /mnt/backup                on this machine when the layout is there; otherwise
                             on the inventory's nodes (Cassandra nodes first), the
                             first that has it — the scripts write to a mount on
                             the nodes
  ./dir, file:///dir         on this machine
Files there are read with sudo (the scripts run as root).`,
		Example: `  hotsnap list
  hotsnap restore hotsnap-20261122-213000-a1b2
  hotsnap restore hotsnap-20261122-213000-a1b2 --yes --confirm prod-thehive   # unattended
  hotsnap restore hotsnap-20261122-213000-a1b2 --s3-exact --yes --confirm prod-thehive   # S3: exact copy
  hotsnap restore hotsnap-20261122-213000-a1b2 --set-rf --yes --confirm new-thehive   # into 5 nodes: RF 5
  hotsnap restore /mnt/backup                        # the documented scripts' newest backup
  hotsnap restore node1:/mnt/backup --at 20261122_02h00m00s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if isLegacyPath(args[0]) {
				s, err := openSession(g)
				if err != nil {
					return err
				}
				defer s.pool.Close()
				if err := requireOptions(s.platform, o, true); err != nil {
					return err
				}
				return restoreLegacy(ctx, cmd, s, f, args[0], at, o, nil)
			}
			if at != "" {
				return usageErr(errors.New("--at chooses among the backups of the documented scripts under a PATH; a backup ID names one backup already"))
			}
			id := args[0]
			if err := repo.CheckID(id); err != nil {
				return usageErr(fmt.Errorf("%q is not a backup ID (hotsnap list shows them) nor a PATH (write ./%s for a folder here): %w", id, id, err))
			}
			s, store, done, err := openSessionStore(ctx, g)
			if err != nil {
				return err
			}
			defer done()
			m, err := repo.ReadManifest(ctx, store, id)
			if errors.Is(err, fs.ErrNotExist) {
				return usageErr(fmt.Errorf("backup %s has no manifest in %s: it is incomplete or does not exist (hotsnap list; a folder here is ./%s)", id, store, id))
			}
			if err != nil {
				return err
			}
			if m.Platform != s.inv.Platform {
				return usageErr(fmt.Errorf("backup %s is of platform %s, the inventory is %s", id, m.Platform, s.inv.Platform))
			}
			if err := requireOptions(s.platform, o, false); err != nil {
				return err
			}
			r, err := s.platform.Restore(s.env, runbooks.RestoreRequest{Store: store, Manifest: m, S3Exact: o.s3Exact, SetRF: o.setRF})
			if err != nil {
				return err
			}
			return runRestore(cmd, s, r, o, f, fromBackup(m), nil)
		},
	}
	c.Flags().BoolVar(&o.s3Exact, "s3-exact", false, "S3 attachments: answer the choice gate with \"remove the objects created after the backup\" (an exact copy); --yes alone keeps them; on a terminal the gate asks")
	c.Flags().BoolVar(&o.setRF, "set-rf", false, "TheHive, restored into another topology whose node counts the backup's replication does not fit: answer the choice gate with \"set this cluster's replication\" (ALTER KEYSPACE ... NetworkTopologyStrategy with RF = node count in every data center: before sstableloader loads the keyspace, which then writes every replica, no repair; after nodetool import, then nodetool repair -full on every node); --yes alone keeps the backup's; on a terminal the gate asks")
	c.Flags().StringVar(&at, "at", "", "with a PATH of the documented scripts' backups: the stamp of the one to restore (20261122_02h00m00s, or its cassandra_*.tar name); default the newest")
	addRunFlags(c, &f)
	addLockFlag(c, &f)
	addDeadlineFlags(c, &f)
	return c
}

// nodePathRE matches node:/abs/path (not a URL's scheme://).
var nodePathRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_.-]*):(/(?:[^/].*)?)$`)

// isLegacyPath tells a PATH (of the documented scripts' backups) from a
// backup ID, which never holds a slash.
func isLegacyPath(arg string) bool {
	return strings.Contains(arg, "/") || arg == "." || arg == ".." || arg == "~"
}

// restoreOpts are the platform-specific options of a restore, each the
// answer to one of its choice gates.
type restoreOpts struct {
	s3Exact bool // --s3-exact
	setRF   bool // --set-rf
}

// requireOptions refuses (exit 2) the platform-specific options of a
// restore the platform does not take: --s3-exact, --set-rf, and a PATH of
// its documented scripts' backups.
func requireOptions(p runbooks.Platform, o restoreOpts, documented bool) error {
	for _, opt := range []struct {
		set bool
		o   runbooks.Option
	}{{o.s3Exact, runbooks.S3Exact}, {o.setRF, runbooks.SetRF}} {
		if !opt.set {
			continue
		}
		if err := runbooks.Require(p, opt.o); err != nil {
			return usageErr(err)
		}
	}
	if documented {
		if err := runbooks.Require(p, runbooks.DocumentedBackups); err != nil {
			return usageErr(err)
		}
		if _, ok := p.(runbooks.Documented); !ok {
			return usageErr(fmt.Errorf("platform %s restores no documented backup: nothing was contacted", p.Name()))
		}
	}
	return nil
}

// restoreLegacy restores a backup made by the documented scripts, over the
// session s (the caller closes it).
func restoreLegacy(ctx context.Context, cmd *cobra.Command, s *session, f runFlags, arg, at string, o restoreOpts, prior *steps.PriorRun) error {
	d, err := legacyRestoreRun(ctx, s, arg, at, o, prior)
	if err != nil {
		return err
	}
	defer d.close()
	if prior != nil {
		// The backup itself is compared with the one the run read once the
		// restore's first step has read it again.
		if err := sameWorld(prior, runParams(s)); err != nil {
			return usageErr(err)
		}
	}
	return runRestore(cmd, s, d.r, o, f, "from the documented backup "+d.what, prior)
}

// legacyRestore is the restore of a documented scripts' backup, prepared.
type legacyRestore struct {
	r runbooks.Restore
	// what names the backup: "<stamp> in <where>".
	what string
	// backup is the backup as the wizard's picker lists it.
	backup repo.Summary
	// close closes what was opened.
	close func()
}

// legacyRestoreRun finds the documented scripts' backup in PATH arg (the
// newest, or the one stamped at), and has the platform prepare its restore
// (continuing prior when set), which reads the backup in its first step.
// It lists the folder and changes nothing.
func legacyRestoreRun(ctx context.Context, s *session, arg, at string, o restoreOpts, prior *steps.PriorRun) (*legacyRestore, error) {
	d, ok := s.platform.(runbooks.Documented)
	if !ok {
		return nil, usageErr(fmt.Errorf("platform %s restores no documented backup: nothing was contacted", s.platform.Name()))
	}
	ls, err := openLegacySource(ctx, s, arg)
	if err != nil {
		return nil, err
	}
	r, what, err := d.RestoreDocumented(s.env, runbooks.DocumentedRequest{Path: arg, Source: ls.store, NodeDir: ls.nodeDir, Found: ls.found,
		At: at, S3Exact: o.s3Exact, SetRF: o.setRF, Prior: prior})
	if err != nil {
		ls.close()
		var rf *runbooks.Refusal
		if errors.As(err, &rf) && rf.Unfit {
			return nil, &exitError{code: exitPreflight, err: err}
		}
		if errors.As(err, &rf) {
			return nil, usageErr(err)
		}
		return nil, err
	}
	lr := &legacyRestore{r: r, what: what, close: ls.close}
	if id := r.Runbook().Params[paramBackup]; id != "" {
		for _, b := range d.DocumentedBackups(ls.found) {
			if b.ID == id {
				lr.backup = b
				break
			}
		}
	}
	return lr, nil
}

// legacySource is the folder a restore PATH names, opened and listed.
type legacySource struct {
	store repo.Store
	// nodeDir is the folder's absolute path on the node it is on ("" for a
	// local folder).
	nodeDir string
	// found is what the folder holds (repo.FindLegacy), listed once.
	found *repo.LegacyFound
	// close closes what was opened.
	close func()
}

// errNoLegacyBackup is openLegacySource's error when PATH, looked for on
// this machine and the nodes, holds no backup of the documented scripts.
var errNoLegacyBackup = errors.New("no backup of the documented scripts")

// openLegacySource opens the folder PATH names (see restore --help) and
// lists the documented scripts' backups in it.
func openLegacySource(ctx context.Context, s *session, arg string) (*legacySource, error) {
	nothing := func() {}
	onNode := func(node, dir string) (repo.Store, error) {
		c, err := s.pool.Client(ctx, node)
		if err != nil {
			return nil, fmt.Errorf("%s: read %s there: %w", node, dir, err)
		}
		st, err := repo.NewSSHStoreAsRoot(c, node, dir)
		if err != nil {
			return nil, usageErr(err)
		}
		return st, nil
	}
	// listed lists the folder given explicitly (on a node or a host).
	listed := func(st repo.Store, dir string, closeSt func()) (*legacySource, error) {
		found, err := repo.FindLegacy(ctx, st)
		if err != nil {
			closeSt()
			return nil, err
		}
		return &legacySource{store: st, nodeDir: path.Clean(dir), found: found, close: closeSt}, nil
	}
	if m := nodePathRE.FindStringSubmatch(arg); m != nil {
		if _, ok := s.inv.Node(m[1]); !ok {
			return nil, usageErr(fmt.Errorf("%s: no node %q in the inventory (%s); for another host write ssh://host%s", arg, m[1], strings.Join(nodeNames(s.inv), ", "), m[2]))
		}
		st, err := onNode(m[1], m[2])
		if err != nil {
			return nil, err
		}
		return listed(st, m[2], nothing)
	}
	if strings.HasPrefix(arg, "ssh://") {
		u, err := url.Parse(arg)
		if err != nil || u.Host == "" || !strings.HasPrefix(u.Path, "/") {
			return nil, usageErr(fmt.Errorf("%s: want ssh://[user@]host[:port]/absolute/path", arg))
		}
		if u.User == nil && u.Port() == "" {
			for _, n := range s.inv.Nodes {
				if n.Name == u.Hostname() || n.Host == u.Hostname() {
					st, err := onNode(n.Name, u.Path)
					if err != nil {
						return nil, err
					}
					return listed(st, u.Path, nothing)
				}
			}
		}
		spec := u.Host
		if u.User != nil {
			spec = u.User.Username() + "@" + spec
		}
		t, err := hostTarget(s.inv, u.Host, spec)
		if err != nil {
			return nil, usageErr(fmt.Errorf("%s: %w", arg, err))
		}
		c, err := remote.Dial(ctx, t, sshOptions(s.inv, s.g))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		st, err := repo.NewSSHStoreAsRoot(c, u.Host, u.Path)
		if err != nil {
			c.Close()
			return nil, usageErr(err)
		}
		return listed(st, u.Path, func() { c.Close() })
	}
	local := strings.TrimPrefix(arg, "file://")
	if p, err := config.ExpandHome(local); err == nil {
		local = p
	}
	abs, err := filepath.Abs(local)
	if err != nil {
		return nil, usageErr(err)
	}
	if st, err := repo.Open(ctx, abs, repo.Options{}); err == nil {
		if found, err := repo.FindLegacy(ctx, st); err == nil && (len(found.Items) > 0 || len(found.Folders) > 0) {
			return &legacySource{store: st, found: found, close: nothing}, nil
		}
	}
	if !filepath.IsAbs(local) {
		return nil, usageErr(fmt.Errorf("%s: %w in %s on this machine (a folder on a node is node:/path)", arg, errNoLegacyBackup, abs))
	}
	// The documented scripts write to a mount on the nodes: look there.
	var tried []string
	for _, n := range nodesCassandraFirst(s.inv) {
		st, err := onNode(n, abs)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", n, err))
			continue
		}
		found, err := repo.FindLegacy(ctx, st)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", n, err))
			continue
		}
		if len(found.Of(repo.LegacyCassandra)) > 0 {
			return &legacySource{store: st, nodeDir: path.Clean(abs), found: found, close: nothing}, nil
		}
		tried = append(tried, n)
	}
	return nil, usageErr(fmt.Errorf("%w (cassandra/cassandra_YYYYMMDD_HHhMMmSSs.tar ...) in %s on this machine nor on %s: "+
		"give the backup root they write to (their BACKUP_ROOT), as node:/path to name the node", errNoLegacyBackup, abs, strings.Join(tried, ", ")))
}

func nodeNames(inv *config.Inventory) []string {
	var out []string
	for _, n := range inv.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// nodesCassandraFirst lists the nodes, those with the cassandra role first:
// the documented scripts run on a node with Cassandra and Elasticsearch.
func nodesCassandraFirst(inv *config.Inventory) []string {
	var first, rest []string
	for _, n := range inv.Nodes {
		if n.HasRole(config.RoleCassandra) {
			first = append(first, n.Name)
		} else {
			rest = append(rest, n.Name)
		}
	}
	return append(first, rest...)
}
