// Command hotsnap guides an operator through a hot backup and a guided
// restore of a multi-component platform (TheHive 5: Cassandra, Elasticsearch,
// attachments) over SSH.
//
//	$ hotsnap exec -- nodetool status thehive
//	$ sudo hotsnap lab up && sudo hotsnap lab exec -- hotsnap exec -- hostname
//
// Exit codes: 0 ok, 1 failed, 2 usage or configuration error, 3 preflight
// failed, 130 aborted (Ctrl-C or SIGTERM).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/lab/alien4cloud"
	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/thehive"
)

// Exit codes, as documented in README.md and --help.
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitPreflight = 3
	exitAborted   = 130
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; a
// `go install`ed binary reports its module version instead.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// exitError carries the exit code a failure should produce.
type exitError struct {
	code   int
	err    error
	silent bool // the failing child already said why: print nothing more
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as a usage or configuration error (exit 2).
func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

// globals are the flags every command shares.
type globals struct {
	inventory      string
	acceptNewHosts bool
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "hotsnap",
		Short: "Hot backup and guided restore of TheHive (Cassandra + Elasticsearch + files) over SSH",
		Long: `hotsnap runs the documented backup and restore runbooks for you, over SSH, on every
node of the cluster: preflight checks, snapshots, service stops, restores and
verification, with a confirmation gate before anything destructive. On a terminal,
"hotsnap" alone opens the wizard. The inventory's platform: chooses the runbooks
(platforms with runbooks today: ` + strings.Join(platforms.Names(), ", ") + `); another platform is refused
before any node is contacted.

Start with the practice cluster (needs root):

  sudo hotsnap lab up                                  # 3 nodes with data, in network namespaces
  sudo hotsnap lab exec -- hotsnap                     # the wizard, inside the lab
  sudo hotsnap lab exec -- hotsnap preflight           # or any command
  sudo hotsnap lab down

Point it at a real cluster:

  hotsnap init th-node-1 --cluster prod-thehive        # drafts ./hotsnap.yaml
  hotsnap preflight                                    # every check, changes nothing
  hotsnap backup                                       # a gate, then the hot backup
  hotsnap list && hotsnap verify ID
  hotsnap restore ID                                   # gates; the destructive one wants the cluster name
  hotsnap restore node1:/mnt/backup                    # a backup made by TheHive's documented scripts
  hotsnap resume RUN                                   # continue a failed restore or backup (its journal)

Exit codes: 0 ok, 1 failed, 2 usage or configuration error, 3 preflight failed,
130 aborted.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.inventory, "inventory", "i", "", "inventory file (default: $HOTSNAP_INVENTORY, ./hotsnap.yaml, ~/.config/hotsnap/inventory.yaml)")
	root.PersistentFlags().BoolVar(&g.acceptNewHosts, "accept-new-hosts", false, "trust and record host keys not yet in known_hosts (a changed key is always refused)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath()))
	})
	root.AddCommand(newInitCmd(g), newPreflightCmd(g), newPlanCmd(g), newBackupCmd(g), newRestoreCmd(g), newResumeCmd(g), newListCmd(g), newVerifyCmd(g), newPruneCmd(g), newExecCmd(g), newLabCmd(g), newWizardCmd(g))
	// "hotsnap" alone opens the wizard on a terminal, and prints the help
	// otherwise.
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if !isTerminal(os.Stdin, os.Stderr) {
			return cmd.Help()
		}
		return runWizard(cmd.Context(), g)
	}
	return root
}

func main() {
	// The practice lab links the stand-ins' command names (nodetool, cqlsh,
	// sstableloader, ...) to this binary; those names run the stand-in.
	if standIn, ok := labStandIns[filepath.Base(os.Args[0])]; ok {
		os.Exit(standIn(os.Args[1:]))
	}
	os.Exit(run(os.Args[1:]))
}

// labStandIns are the lab's stand-in tools, reached by argv[0]. They exist
// only for the practice cluster; the product never runs them.
var labStandIns = map[string]func(args []string) int{
	"nodetool":          stdio(cassandra.NodetoolMain),
	"cqlsh":             stdio(cassandra.CqlshMain),
	"sstableloader":     stdio(cassandra.SSTableLoaderMain),
	"cassandra-standin": cassandra.Main,
	"es-standin":        elastic.Main,
	"thehive-standin":   thehive.Main,
	"systemctl":         stdio(thehive.SystemctlMain),
	"journalctl":        stdio(thehive.JournalctlMain),
	"a4c-standin":       alien4cloud.Main,
	"celery":            eclecticiq.CeleryMain,
	"eiq-platform":      eclecticiq.PlatformMain,
}

func stdio(f func(args []string, stdout, stderr io.Writer) int) func([]string) int {
	return func(args []string) int { return f(args, os.Stdout, os.Stderr) }
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if p := os.Getenv(cpuProfileEnv); p != "" {
		stopProfile, err := startCPUProfile(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "hotsnap: %s: %v\n", cpuProfileEnv, err)
			return exitUsage
		}
		defer stopProfile()
	}
	var g globals
	root := newRoot(&g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) || !ee.silent {
		fmt.Fprintln(os.Stderr, "hotsnap:", err)
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitAborted
	case errors.As(err, &ee):
		return ee.code
	case isCobraUsageError(err):
		return exitUsage
	}
	return exitFailed
}

// cpuProfileEnv names the environment variable that, when set to a file
// path, makes hotsnap write a CPU profile of its run there (for `go tool
// pprof`; `hotsnap lab bench --cpuprofile DIR` sets it for each backup).
const cpuProfileEnv = "HOTSNAP_CPUPROFILE"

// startCPUProfile starts profiling the CPU into the file at path; the
// returned function stops and closes it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start the CPU profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "hotsnap: write the CPU profile %s: %v\n", path, err)
		}
	}, nil
}

// isCobraUsageError recognises cobra's own argument errors (unknown command,
// wrong number of arguments), which it returns as plain errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
