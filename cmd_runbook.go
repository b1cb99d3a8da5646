package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/ui"
)

// runFlags are the flags of every command that runs a runbook.
type runFlags struct {
	yes     bool
	confirm string
	json    bool
	noTUI   bool
	// choices are the choice gates a flag answered (step ID → choice key):
	// the platform's (runbooks.Restore.Choices), e.g. for --s3-exact.
	choices map[string]string
	// takeOverLock approves taking over a lock whose holder is gone
	// (--take-over-lock).
	takeOverLock bool
	// timeouts are the deadlines set by --timeout-* (steps.Deadlines).
	timeouts map[string]*time.Duration
}

func addRunFlags(c *cobra.Command, f *runFlags) {
	c.Flags().BoolVarP(&f.yes, "yes", "y", false, "approve ordinary gates without asking")
	c.Flags().StringVar(&f.confirm, "confirm", "", "approve destructive gates: the cluster name, as in the inventory")
	c.Flags().BoolVar(&f.json, "json", false, "print one JSON event per line on stdout instead of text")
	c.Flags().BoolVar(&f.noTUI, "no-tui", false, "plain lines instead of the wizard (also when stdout is not a terminal)")
}

// addDeadlineFlags adds the --timeout-* family: one flag per operation
// that can hang (steps.Deadlines).
func addDeadlineFlags(c *cobra.Command, f *runFlags) {
	f.timeouts = map[string]*time.Duration{}
	for _, d := range steps.Deadlines {
		// 0: the deadline's default, or the runbook's own (the usage says).
		f.timeouts[d.Flag] = c.Flags().Duration(d.Flag, 0, d.Usage)
	}
}

// addLockFlag adds --take-over-lock to a command whose runbook takes the
// lock (an Exclusive runbook: backup, restore, prune).
func addLockFlag(c *cobra.Command, f *runFlags) {
	c.Flags().BoolVar(&f.takeOverLock, "take-over-lock", false, "take over the cluster's and the repository's lock when its holder is gone "+
		"(killed, or its machine lost); a lock held by a run still running on this machine is never taken")
}

// stateDir is where journals go: inventory state_dir, else
// $XDG_STATE_HOME/hotsnap, else ~/.local/state/hotsnap.
func stateDir(inv *config.Inventory) string {
	if inv.StateDir != "" {
		if p, err := config.ExpandHome(inv.StateDir); err == nil {
			return p
		}
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "hotsnap")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "hotsnap")
	}
	return filepath.Join(os.TempDir(), "hotsnap-state")
}

// session is what a runbook command needs: the inventory, a connection pool
// and the environment handed to the runbooks.
type session struct {
	g        *globals
	inv      *config.Inventory
	platform runbooks.Platform // the inventory's platform's runbooks
	pool     *remote.Pool
	env      *steps.Env
	// sudoPassword is ssh.sudo_password when it comes from the environment
	// or a file ("" otherwise), kept only to be masked.
	sudoPassword string

	repoMu    sync.Mutex // guards the fields below
	repoStore repo.Store // the repository, open while repoRefs > 0
	repoClose func()
	repoRefs  int
}

// repository opens the backup repository (repository.url) for the session,
// or shares the one already open: a run and its lock, its preflight's checks
// and the command around it use one connection to an ssh:// repository, not
// one each. done releases this use; the last one closes it.
func (s *session) repository(ctx context.Context) (repo.Store, func(), error) {
	s.repoMu.Lock()
	defer s.repoMu.Unlock()
	if s.repoRefs == 0 {
		st, closeStore, err := openStore(ctx, s.inv, s.g)
		if err != nil {
			return nil, nil, err
		}
		s.repoStore, s.repoClose = st, closeStore
	}
	s.repoRefs++
	var once sync.Once
	return s.repoStore, func() {
		once.Do(func() {
			s.repoMu.Lock()
			defer s.repoMu.Unlock()
			if s.repoRefs--; s.repoRefs == 0 {
				s.repoClose()
				s.repoStore, s.repoClose = nil, nil
			}
		})
	}, nil
}

// openSession reads the inventory, refuses a platform without a runbook,
// and opens the session on it.
func openSession(g *globals) (*session, error) {
	inv, p, err := loadRunbookInventory(g)
	if err != nil {
		return nil, err
	}
	return newSession(g, inv, p)
}

// newSession opens the session on inv, an inventory already read: the SSH
// pool (which connects lazily) and the secrets, resolved now (prompted for
// on a terminal).
func newSession(g *globals, inv *config.Inventory, p runbooks.Platform) (*session, error) {
	var err error
	pool := remote.NewPool(targets(inv, inv.Nodes), sshOptions(inv, g))
	env := &steps.Env{Inv: inv, Exec: pool, Dial: pool.Dialer}
	prompt := secretPrompt()
	if c := inv.Cassandra; c != nil && c.Password.IsSet() {
		if env.CassandraPassword, err = c.Password.Resolve(prompt); err != nil {
			pool.Close()
			return nil, usageErr(fmt.Errorf("cassandra.password: %w", err))
		}
	}
	if e := inv.Elasticsearch; e != nil && e.Password.IsSet() {
		if env.ESPassword, err = e.Password.Resolve(prompt); err != nil {
			pool.Close()
			return nil, usageErr(fmt.Errorf("elasticsearch.password: %w", err))
		}
	}
	if a := inv.Alien4Cloud; a != nil && a.Password.IsSet() {
		if env.Alien4CloudPassword, err = a.Password.Resolve(prompt); err != nil {
			pool.Close()
			return nil, usageErr(fmt.Errorf("alien4cloud.password: %w", err))
		}
	}
	if e := inv.EclecticIQ; e != nil && e.Redis.Password.IsSet() {
		if env.RedisPassword, err = e.Redis.Password.Resolve(prompt); err != nil {
			pool.Close()
			return nil, usageErr(fmt.Errorf("eclecticiq.redis.password: %w", err))
		}
	}
	if st := inv.Storage; st != nil && st.S3 != nil {
		for _, sec := range []struct {
			name string
			ref  config.Secret
			dst  *string
		}{{"storage.s3.access_key", st.S3.AccessKey, &env.S3AccessKey}, {"storage.s3.secret_key", st.S3.SecretKey, &env.S3SecretKey}} {
			if !sec.ref.IsSet() {
				continue
			}
			if *sec.dst, err = sec.ref.Resolve(prompt); err != nil {
				pool.Close()
				return nil, usageErr(fmt.Errorf("%s: %w", sec.name, err))
			}
		}
	}
	s := &session{g: g, inv: inv, platform: p, pool: pool, env: env}
	// A sudo password from the environment or a file is read now, so that
	// the journal and the reports mask it (one that cannot be read is not
	// an error yet: sudo may not need it, and the node that does says so).
	// One typed at a prompt is asked only when a node needs it, and only
	// sudo's stdin ever sees it.
	if pw := inv.SSH.SudoPassword; pw.IsSet() && pw.Kind != config.SecretPrompt {
		s.sudoPassword, _ = pw.Resolve(nil)
	}
	return s, nil
}

// repoS3Env names the environment variables that hold the S3 repository's
// keys (openStore reads them).
var repoS3Env = []string{"HOTSNAP_REPO_S3_ACCESS_KEY", "HOTSNAP_REPO_S3_SECRET_KEY"}

// secrets lists every secret value the session knows, for the engine to
// mask in its journal and reports: the Cassandra, Elasticsearch and
// Alien4Cloud passwords, the attachment store's S3 keys, the S3
// repository's keys and the sudo password (when read from the environment
// or a file).
func (s *session) secrets() []string {
	vals := []string{s.env.CassandraPassword, s.env.ESPassword, s.env.S3AccessKey, s.env.S3SecretKey, s.env.Alien4CloudPassword, s.env.RedisPassword, s.sudoPassword}
	for _, name := range repoS3Env {
		vals = append(vals, os.Getenv(name))
	}
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// runRunbook runs rb with the reporter the flags and the terminal call for,
// a journal in the state directory, and the gate policy of the flags. On a
// terminal (stdin, stdout and stderr), without --json or --no-tui, the run is
// shown by the wizard's Run screen on stderr.
func runRunbook(ctx context.Context, s *session, rb steps.Runbook, f runFlags, stdout io.Writer) (steps.RunSummary, error) {
	if useTUI(f, stdout) {
		return runRunbookTUI(ctx, s, rb, f, stdout)
	}
	var rep steps.Reporter
	if f.json {
		rep = ui.NewJSON(stdout)
	} else {
		rep = ui.NewPlain(stdout)
	}
	var sum steps.RunSummary
	rep = &summaryTap{Reporter: rep, sum: &sum}
	var approver steps.Approver
	if term.IsTerminal(int(os.Stdin.Fd())) && !f.json {
		approver = ui.LineApprover{In: os.Stdin, Out: os.Stderr}
	}
	path, runErr := runEngine(ctx, s, rb, f, rep, approver)
	if !f.json && path != "" {
		fmt.Fprintf(stdout, "journal: %s\n", path)
	}
	return sum, runErr
}

// runEngine runs rb with rep and approver (nil: no terminal to ask on) and a
// journal, returning the journal's path.
func runEngine(ctx context.Context, s *session, rb steps.Runbook, f runFlags, rep steps.Reporter, approver steps.Approver) (string, error) {
	choices := maps.Clone(f.choices)
	if f.takeOverLock {
		if choices == nil {
			choices = map[string]string{}
		}
		choices[runbooks.LockTakeOverGate] = "take-over"
	}
	policy := steps.GatePolicy{Yes: f.yes, Confirm: f.confirm, Approver: approver, Choices: choices}
	now := time.Now()
	runID := steps.NewRunID(now)
	j, err := steps.OpenJournal(stateDir(s.inv), runID)
	if err != nil {
		return "", err
	}
	if rb.Exclusive && len(s.inv.Nodes) > 0 {
		// One run at a time per cluster and per repository, whatever the
		// platform: the lock wraps every runbook that changes either.
		rb = runbooks.WithLock(rb, runbooks.LockOptions{Holder: runbooks.ThisRun(runID, rb.Name, s.inv.Cluster, now), Node: s.inv.Nodes[0].Name,
			OpenRepo: s.repository,
			Ended: func(h runbooks.Holder) bool {
				if !runIDPattern.MatchString(h.Run) {
					return false // a lock names a run; never a path
				}
				p, err := steps.ReadJournal(stateDir(s.inv), h.Run)
				return err == nil && p.Finished
			}})
	}
	secrets := s.secrets()
	// The engine masks every secret in what it records and reports: the
	// lines, the checks, the errors (which carry failed command lines), the
	// gate decisions and the run's error printed on stderr.
	e := &steps.Engine{Exec: s.pool, Reporter: rep, Gates: policy, Journal: j, Secrets: secrets, Timeouts: map[string]time.Duration{}}
	for flag, d := range f.timeouts {
		e.Timeouts[flag] = *d
	}
	// Every node is dialled now, in the background, while the lock is
	// taken: the SSH check finds its connections open (a node that does not
	// answer fails there, as it would have).
	s.pool.Preconnect(ctx, s.pool.Nodes())
	runErr := e.Run(ctx, rb)
	if err := j.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return j.Path, runErr
}

// summaryTap keeps the run summary for the exit code.
type summaryTap struct {
	steps.Reporter
	sum *steps.RunSummary
}

func (t *summaryTap) RunFinished(s steps.RunSummary) {
	*t.sum = s
	t.Reporter.RunFinished(s)
}

// preflightRunbook is the preflight runbook of the session, with the check
// of the backup repository's free space (which opens repository.url).
func preflightRunbook(s *session) steps.Runbook {
	env := *s.env
	env.OpenRepo = s.repository
	return s.platform.Preflight(&env)
}

func newPreflightCmd(g *globals) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "preflight",
		Short: "Run every check the runbooks ask for; change nothing",
		Long: `Check everything a backup or a restore depends on, on every node at once, and say
for each check pass, warn or fail, what was seen and what to do:

  TheHive: SSH and sudo on every node · clock skew · Cassandra tools and one
  version · free disk for snapshots · every node UN, the keyspace present, no
  streams · CQL login and replication factor = node count · Elasticsearch
  version, health and the snapshot repository (registered, verified, under
  path.repo) · TheHive service · attachment storage · the supported-versions
  matrix · free space in the backup repository for the backup's estimated size
  · snapshots left by earlier runs: hotsnap's own (named with the run that
  left them and the command that clears them), one Elasticsearch is still
  taking (with the run that takes it and the curl -XDELETE that aborts it,
  for when that run is gone), other tools' (reported, never touched)

  Alien4Cloud: SSH and sudo · alien4cloud-config.yml (data directory,
  Elasticsearch remote or embedded — then explained) · Elasticsearch version,
  health, repository under path.repo and verified on every node · its indices
  · the a4c service, REST health, admin login, maintenance mode · the data
  directory's owner and size · free space in both repositories

Nothing is changed on any node. Exit code 3 when a check fails.`,
		Example: `  hotsnap preflight
  hotsnap preflight --json | jq 'select(.event=="check" and .check.status!="pass")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openSession(g)
			if err != nil {
				return err
			}
			defer s.pool.Close()
			sum, err := runRunbook(cmd.Context(), s, preflightRunbook(s), f, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if failed := sum.Failed(); len(failed) > 0 {
				var names []string
				for _, c := range failed {
					where := c.Node
					if where == "" {
						where = "cluster"
					}
					names = append(names, where+": "+c.Check)
				}
				return &exitError{code: exitPreflight, err: fmt.Errorf("preflight failed: %s", strings.Join(names, "; "))}
			}
			return nil
		},
	}
	addRunFlags(c, &f)
	return c
}
