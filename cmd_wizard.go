package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/ui"
)

// isTerminal reports whether every one of the files is a terminal.
func isTerminal(files ...*os.File) bool {
	for _, f := range files {
		if !term.IsTerminal(int(f.Fd())) {
			return false
		}
	}
	return true
}

// useTUI says whether a runbook command shows the wizard's Run screen: a
// terminal on stdin, stdout and stderr, and neither --json nor --no-tui.
func useTUI(f runFlags, stdout io.Writer) bool {
	return !f.json && !f.noTUI && stdout == io.Writer(os.Stdout) && isTerminal(os.Stdin, os.Stdout, os.Stderr)
}

// runRunbookTUI runs rb with the wizard's Run screen on stderr as reporter
// and gate approver, then prints the journal's path on stdout.
func runRunbookTUI(ctx context.Context, s *session, rb steps.Runbook, f runFlags, stdout io.Writer) (steps.RunSummary, error) {
	t := ui.NewTUI()
	var sum steps.RunSummary
	rep := &summaryTap{Reporter: t, sum: &sum}
	var path string
	cfg := ui.Config{Title: "hotsnap " + versionString(), Inventory: inventoryFacts(s.inv)}
	err := ui.RunOne(ctx, t, cfg, func(ctx context.Context) error {
		var err error
		path, err = runEngine(ctx, s, rb, f, rep, t)
		return err
	}, ui.Options{Output: os.Stderr})
	if path != "" {
		fmt.Fprintf(stdout, "journal: %s\n", path)
	}
	return sum, err
}

func newWizardCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "wizard",
		Short: "Open the terminal wizard: inventory at a glance, init, preflight, backup, restore, verify, list",
		Long: `Open the terminal wizard (also what "hotsnap" alone does on a terminal): the
inventory at a glance and the operations — back up (a plan review with the size
measured on the nodes and the time at the last backup's throughput, the gate,
live progress per component and per node, a summary with sizes, durations,
throughput and skew), restore a backup (a picker of every backup with its age,
size and components — incomplete ones shown with the reason, not selectable —
then the plan, the verification and topology results, a gate to stop TheHive,
a destructive gate that wants the cluster name, progress per component, and the
restore report), preflight only (a live checklist of every check on every
node), verify the newest backup, list the backups, and discover an inventory
(init as a form).

A failed run shows the step and node that failed, the node's last output lines,
what to do next and the "hotsnap resume RUN" command when the run can be
resumed. It draws on stderr; Ctrl-C asks before aborting a run, then stops the
remote commands and shows the cleanup.`,
		Example: "  hotsnap wizard\n  sudo hotsnap lab exec -- hotsnap",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWizard(cmd.Context(), g)
		},
	}
}

// runWizard opens the wizard on the terminal.
func runWizard(ctx context.Context, g *globals) error {
	if !isTerminal(os.Stdin, os.Stderr) {
		return usageErr(errors.New("the wizard needs a terminal; use the commands (hotsnap backup --no-tui, hotsnap preflight, ...) in scripts"))
	}
	return ui.RunWizard(ctx, wizardConfig(g), ui.Options{Output: os.Stderr})
}

// inventoryFacts is what the wizard shows of the inventory inv.
func inventoryFacts(inv *config.Inventory) ui.Inventory {
	out := ui.Inventory{Path: inv.Path, Platform: inv.Platform, Cluster: inv.Cluster}
	for _, n := range inv.Nodes {
		out.Nodes = append(out.Nodes, ui.Node{Name: n.Name, Host: n.Host, Roles: n.Roles})
	}
	return out
}

// wizardConfig is the Home screen: the inventory and the operations that
// exist today.
func wizardConfig(g *globals) ui.Config {
	cfg := ui.Config{Title: "hotsnap " + versionString()}
	inv, err := loadInventory(g)
	if err != nil {
		cfg.Inventory.Problem = strings.ReplaceAll(err.Error(), "\n", " ")
	} else {
		cfg.Inventory = inventoryFacts(inv)
	}
	noInv, noRunbook := "", ""
	if err != nil {
		noInv = "no inventory yet (hotsnap init NODE)"
	} else if _, err := requireRunbook(inv); err != nil {
		// The platform has no runbook: nothing may run another platform's.
		noRunbook = fmt.Sprintf("no runbook for platform %s yet (supported: %s)", inv.Platform, strings.Join(platforms.Names(), ", "))
	}
	noRun := cmp.Or(noInv, noRunbook)
	f := runFlags{}
	// runJob opens the session, lets build fill in the job (its runbook
	// and facts), and makes the job run the engine with the wizard's
	// reporter and approver; Close closes what build opened, then the pool.
	runJob := func(name string, build func(ctx context.Context, s *session, job *ui.Job) error) func(ctx context.Context) (*ui.Job, error) {
		return func(ctx context.Context) (*ui.Job, error) {
			s, err := openSession(g)
			if err != nil {
				return nil, err
			}
			job := &ui.Job{}
			if err := build(ctx, s, job); err != nil {
				if job.Close != nil {
					job.Close()
				}
				s.pool.Close()
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			rb, closeExtra := job.Runbook, job.Close
			job.Run = func(ctx context.Context, rep steps.Reporter, ap steps.Approver) error {
				_, err := runEngine(ctx, s, rb, f, rep, ap)
				return err
			}
			job.Close = func() {
				if closeExtra != nil {
					closeExtra()
				}
				s.pool.Close()
			}
			return job, nil
		}
	}
	cfg.Operations = []ui.Operation{
		{Key: "backup", Title: "Back up now", Review: true, Disabled: noRun,
			Help: "preflight, review the plan with the estimated size and time, one gate, snapshots streamed into the repository, a summary",
			Job: runJob("backup", func(ctx context.Context, s *session, job *ui.Job) error {
				store, closeStore, err := s.repository(ctx)
				if err != nil {
					return err
				}
				job.Close = closeStore
				id := repo.NewID(time.Now())
				b, err := backupOf(s, store, id, backupOpts{}, nil)
				if err != nil {
					return err
				}
				job.Runbook = backupRunbook(s, b, id, backupOpts{})
				job.Facts = func() *ui.BackupFacts { return backupFacts(b.Manifest(), store) }
				job.Estimate = b.Estimate
				return nil
			})},
		{Key: "preflight", Title: "Preflight only", Disabled: noRun,
			Help: "every check on every node, live; changes nothing",
			Job: runJob("preflight", func(_ context.Context, s *session, job *ui.Job) error {
				job.Runbook = preflightRunbook(s)
				return nil
			})},
		{Key: "verify", Title: "Verify the newest backup", Disabled: noRun,
			Help: "re-hash every archive against its manifest",
			Text: func(ctx context.Context) (string, error) { return verifyNewest(ctx, g) }},
		{Key: "list", Title: "List the backups", Disabled: noInv,
			Help: "ID, age, size, components, complete or not",
			Text: func(ctx context.Context) (string, error) { return listText(ctx, g) }},
		{Key: "restore", Title: "Restore a backup", Review: true, Disabled: noRun,
			Help: "pick a backup; verify it, stop the application (TheHive: topologies compared; S3 attachments add a keep-or-exact choice; Alien4Cloud with Elasticsearch inside: maintenance mode), gates (the destructive one wants the cluster name), restore, the application healthy",
			Pick: func(ctx context.Context) (*ui.BackupList, error) { return backupList(ctx, g) },
			PickJob: func(ctx context.Context, id string) (*ui.Job, error) {
				if stamp, ok := strings.CutPrefix(id, legacyIDPrefix); ok {
					return runJob("restore "+id, func(ctx context.Context, s *session, job *ui.Job) error {
						d, ok := s.platform.(runbooks.Documented)
						if !ok {
							return fmt.Errorf("platform %s restores no documented backup", s.platform.Name())
						}
						lr, err := legacyRestoreRun(ctx, s, d.DocumentedRoot(), stamp, restoreOpts{}, nil)
						if err != nil {
							return err
						}
						job.Close = lr.close
						restoreJob(s, job, lr.r, &lr.backup)
						return nil
					})(ctx)
				}
				return runJob("restore "+id, func(ctx context.Context, s *session, job *ui.Job) error {
					store, closeStore, err := s.repository(ctx)
					if err != nil {
						return err
					}
					job.Close = closeStore
					m, err := restoreManifest(ctx, s, store, id)
					if err != nil {
						return err
					}
					r, err := s.platform.Restore(s.env, runbooks.RestoreRequest{Store: store, Manifest: m})
					if err != nil {
						return err
					}
					restoreJob(s, job, r, nil)
					return nil
				})(ctx)
			}},
		{Key: "init", Title: "Discover an inventory (init)",
			Help: "log in to one node (TheHive, EclecticIQ, Alien4Cloud) and draft hotsnap.yaml",
			Init: func(ctx context.Context, req ui.InitRequest, progress func(string)) (*ui.InitResult, error) {
				return initFromWizard(ctx, g, req, progress)
			}},
		{Key: "lab", Title: "Practice on the lab",
			Help: "a 3-node practice cluster in network namespaces (root)",
			Text: func(context.Context) (string, error) {
				return "The practice cluster runs as root, side by side with nothing real:\n\n" +
					"  sudo make demo                  # lab up, this wizard inside it, lab down on exit\n" +
					"  sudo hotsnap lab up\n" +
					"  sudo hotsnap lab exec -- hotsnap   # the wizard against the lab\n" +
					"  sudo hotsnap lab down", nil
			}},
	}
	return cfg
}

// restoreJob makes job the restore r: its runbook and the facts the
// wizard shows; before is the backup as the picker listed it, for a
// restore that reads its backup in its first step (Manifest nil until
// then).
func restoreJob(s *session, job *ui.Job, r runbooks.Restore, before *repo.Summary) {
	job.Runbook = restoreRunbook(s, r, restoreOpts{})
	job.Restore = func() *ui.RestoreFacts {
		f := &ui.RestoreFacts{LoadedWith: r.LoadedWith(), Report: r.Report()}
		if m := r.Manifest(); m != nil {
			f.BackupID, f.Taken, f.Size, f.Components = m.ID, m.Started, m.Size(), m.Components()
		} else if before != nil {
			f.BackupID, f.Taken, f.Size, f.Components = before.ID, before.Started, before.Size, before.Components
		}
		return f
	}
}

// backupFacts turns a finished backup's manifest into the Summary's facts
// (the same facts printBackupSummary prints).
func backupFacts(m *repo.Manifest, store repo.Store) *ui.BackupFacts {
	if m == nil || m.ID == "" {
		return nil
	}
	f := &ui.BackupFacts{ID: m.ID, Total: m.Size(), Duration: m.Finished.Sub(m.Started), SkewMS: m.SkewMS,
		Location: fmt.Sprintf("%s/%s", store, m.ID), Warnings: m.Warnings}
	took := func(step string) time.Duration { return time.Duration(m.Timings[step] * float64(time.Second)) }
	cass, files := m.CassandraSize()
	if len(m.Cassandra) > 0 {
		f.Components = append(f.Components, ui.Component{Name: "cassandra", Size: cass, Duration: took("stream"), Detail: fmt.Sprintf("%d nodes, %d SSTable files", len(m.Cassandra), files)})
	}
	if e := m.Elasticsearch; e != nil {
		idx := strings.Join(e.Indices, ", ")
		if len(e.Indices) > 4 {
			idx = fmt.Sprintf("%d indices (%s, …)", len(e.Indices), strings.Join(e.Indices[:3], ", "))
		}
		f.Components = append(f.Components, ui.Component{Name: "elasticsearch", Size: e.SizeBytes, Duration: took("elasticsearch"), Detail: fmt.Sprintf("snapshot %s, %s", e.State, idx)})
	}
	if att := m.Files; att != nil {
		switch {
		case att.Provider == repo.ProviderS3:
			f.Components = append(f.Components, ui.Component{Name: "attachments", Size: objSize(att), Duration: took("files"), Detail: fmt.Sprintf("%d S3 objects from %s", len(att.Objects), att.Bucket)})
		case strings.HasSuffix(att.Archive, "/"+repo.DataArchive):
			f.Components = append(f.Components, ui.Component{Name: "data directory", Size: att.Size, Duration: took("data"), Detail: fmt.Sprintf("%d files from %s:%s", len(att.Entries), att.Node, att.Path)})
		default:
			f.Components = append(f.Components, ui.Component{Name: "attachments", Size: att.Size, Duration: took("files"), Detail: fmt.Sprintf("%d entries from %s:%s", len(att.Entries), att.Node, att.Path) + specialDetail(att)})
		}
	}
	if len(m.Configs) > 0 {
		var size int64
		var files int
		var nodes []string
		for _, c := range m.Configs {
			size, files, nodes = size+c.Size, files+len(c.Entries), append(nodes, c.Node)
		}
		f.Components = append(f.Components, ui.Component{Name: "configuration", Size: size, Detail: fmt.Sprintf("%d files from %s", files, strings.Join(nodes, ", "))})
	}
	if p := m.PostgreSQL; p != nil {
		f.Components = append(f.Components, ui.Component{Name: "postgresql", Size: p.Dump.Size, Duration: took("postgresql"), Detail: fmt.Sprintf("pg_dumpall of PostgreSQL %s on %s: %s", p.Version, p.Node, strings.Join(p.DumpDatabases, ", "))})
	}
	if r := m.Redis; r != nil {
		rdb := ""
		if r.RDB != nil {
			rdb = ", RDB " + steps.HumanBytes(r.RDB.Size)
		}
		f.Components = append(f.Components, ui.Component{Name: "redis", Detail: fmt.Sprintf("%d tasks queued after the workers stopped (database %d)%s", r.Total, r.DB, rdb)})
	}
	if d := took("quiesced"); m.Quiesce != "" && d > 0 {
		// How long the application did not serve: the backup's cost to it.
		f.Components = append(f.Components, ui.Component{Name: m.Platform, Duration: d, Detail: fmt.Sprintf("%s for %s", m.Quiesce, d.Round(time.Millisecond))})
	}
	return f
}

// backupList is the wizard's backup picker: every backup in the
// repository, newest first, complete or not.
func backupList(ctx context.Context, g *globals) (*ui.BackupList, error) {
	inv, err := loadInventory(g)
	if err != nil {
		return nil, err
	}
	store, closeStore, err := openStore(ctx, inv, g)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	sums, err := repo.List(ctx, store)
	if err != nil {
		return nil, err
	}
	list := &ui.BackupList{Where: store.String(), Backups: sums}
	documentedBackups(ctx, g, inv, list)
	return list, nil
}

// legacyIDPrefix starts the picker's ID of a documented scripts' backup
// (repo.LegacySet.ID).
const legacyIDPrefix = "legacy-"

// documentedBackups adds to list the backups of the platform's documented
// scripts in their default root, or a note saying none was found or why it
// could not look. It never fails the picker: the repository's backups are
// what it is for. inv is the inventory the picker read.
func documentedBackups(ctx context.Context, g *globals, inv *config.Inventory, list *ui.BackupList) {
	p, err := requireRunbook(inv)
	if err != nil {
		return
	}
	d, ok := p.(runbooks.Documented)
	if !ok {
		return
	}
	root := d.DocumentedRoot()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := newSession(g, inv, p)
	if err != nil {
		list.DocumentedNote = fmt.Sprintf("backups of the documented scripts in %s: not looked for (%v)", root, err)
		return
	}
	defer s.pool.Close()
	src, err := openLegacySource(ctx, s, root)
	if err != nil {
		list.DocumentedNote = fmt.Sprintf("no backup of TheHive's documented scripts in %s on this machine or the nodes (hotsnap restore PATH restores one from elsewhere)", root)
		if !errors.Is(err, errNoLegacyBackup) {
			list.DocumentedNote = fmt.Sprintf("backups of the documented scripts in %s: could not look (%v)", root, err)
		}
		return
	}
	defer src.close()
	list.DocumentedWhere = src.store.String()
	list.Documented = d.DocumentedBackups(src.found)
}

// restoreManifest reads the manifest of backup id for a restore into the
// session's cluster: it must exist (the backup complete) and be of the
// inventory's platform.
func restoreManifest(ctx context.Context, s *session, store repo.Store, id string) (*repo.Manifest, error) {
	m, err := repo.ReadManifest(ctx, store, id)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("backup %s has no manifest in %s: it is incomplete or does not exist (hotsnap list)", id, store)
	}
	if err != nil {
		return nil, err
	}
	if m.Platform != s.inv.Platform {
		return nil, fmt.Errorf("backup %s is of platform %s, the inventory is %s: pick a backup of this cluster", id, m.Platform, s.inv.Platform)
	}
	return m, nil
}

func listText(ctx context.Context, g *globals) (string, error) {
	inv, err := loadInventory(g)
	if err != nil {
		return "", err
	}
	store, closeStore, err := openStore(ctx, inv, g)
	if err != nil {
		return "", err
	}
	defer closeStore()
	sums, err := repo.List(ctx, store)
	if err != nil {
		return "", err
	}
	if len(sums) == 0 {
		return fmt.Sprintf("no backups in %s", store), nil
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "backups in %s\n\nID\tSIZE\tCOMPONENTS\tSTATUS\n", store)
	for _, s := range sums {
		status := "complete"
		if !s.Complete {
			status = "INCOMPLETE: " + s.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, steps.HumanBytes(s.Size), strings.Join(s.Components, ","), status)
	}
	tw.Flush()
	return b.String(), nil
}

func verifyNewest(ctx context.Context, g *globals) (string, error) {
	s, store, done, err := openSessionStore(ctx, g)
	if err != nil {
		return "", err
	}
	defer done()
	sums, err := repo.List(ctx, store)
	if err != nil {
		return "", err
	}
	id := newestComplete(sums)
	if id == "" {
		return "", fmt.Errorf("no complete backup in %s", store)
	}
	probs, m, err := runbooks.Verify(ctx, s.env, store, id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range probs {
		fmt.Fprintf(&b, "✗ %s\n", p)
	}
	if len(probs) > 0 {
		return b.String(), fmt.Errorf("backup %s is damaged: %d problems", id, len(probs))
	}
	if m == nil {
		return "", fmt.Errorf("backup %s has no readable manifest", id)
	}
	fmt.Fprintf(&b, "✓ backup %s verified: every file matches its manifest (%s); Elasticsearch snapshot SUCCESS", id, steps.HumanBytes(m.Size()))
	return b.String(), nil
}

// newestComplete returns the ID of the newest complete backup, or "".
func newestComplete(sums []repo.Summary) string {
	var id string
	for _, b := range sums {
		if b.Complete && (id == "" || b.ID > id) {
			id = b.ID
		}
	}
	return id
}
