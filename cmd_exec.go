package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/ui"
)

type execOpts struct {
	nodes   []string
	role    string
	sudo    bool
	outDir  string
	json    bool
	timeout time.Duration
}

func newExecCmd(g *globals) *cobra.Command {
	var o execOpts
	c := &cobra.Command{
		Use:   "exec [flags] -- COMMAND [ARG...]",
		Short: "Run a command on inventory nodes in parallel, output grouped per node",
		Long: `Run a command on every inventory node (or those chosen with --nodes or --role) at
the same time, over one SSH connection per node, and print each node's output
as one block. The exit code is 0 only when the command succeeded on every node.

With one argument after --, it is a shell command line, run as written:
  hotsnap exec -- 'df -h /var/lib/cassandra | tail -1'
With several, each is quoted and passed as one argument:
  hotsnap exec -- ls -l '/opt/thp/thehive/files/a name with spaces'

Large outputs: each node keeps the last 1 MiB in memory; use --out DIR to
stream everything into DIR/<node>.stdout and DIR/<node>.stderr instead.

A node's output is untrusted: it is shown without terminal escape sequences,
control characters or invalid UTF-8 (a command cannot retitle or clear your
terminal); --json carries every byte, escaped; --out writes it unchanged.`,
		Example: `  hotsnap exec -- hostname
  hotsnap exec --role cassandra -- nodetool status thehive
  hotsnap exec --nodes node1,node3 --sudo -- systemctl is-active thehive
  hotsnap exec --json -- uptime | jq .`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(errors.New("no command: put it after --, e.g. hotsnap exec -- hostname"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), g, o, args, cmd.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringSliceVarP(&o.nodes, "nodes", "n", nil, "run only on these nodes (comma-separated inventory names)")
	f.StringVar(&o.role, "role", "", "run only on nodes with this role ("+strings.Join(config.Roles(), ", ")+")")
	f.BoolVar(&o.sudo, "sudo", false, "run as root through sudo (ssh.sudo decides how)")
	f.StringVar(&o.outDir, "out", "", "stream each node's output into files in this directory instead of printing it")
	f.BoolVar(&o.json, "json", false, "print one JSON object per node (node, addr, exit_code, duration_ms, stdout, stderr, error)")
	f.DurationVar(&o.timeout, "timeout", 0, "stop the command on every node after this long (0: no limit)")
	return c
}

// execCommandLine turns the words after -- into one shell command line.
func execCommandLine(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return remote.Join(args...)
}

// nodeOutput collects one node's output: the tail in memory, or files.
type nodeOutput struct {
	mu      sync.Mutex
	lines   []remote.Line
	bytes   int
	dropped int
	files   []*os.File
}

const execKeepBytes = 1 << 20

func (n *nodeOutput) add(l remote.Line) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lines = append(n.lines, l)
	n.bytes += len(l.Text) + 1
	for n.bytes > execKeepBytes && len(n.lines) > 1 {
		n.bytes -= len(n.lines[0].Text) + 1
		n.lines = n.lines[1:]
		n.dropped++
	}
}

func (n *nodeOutput) text(s remote.Stream) string {
	var b strings.Builder
	for _, l := range n.lines {
		if l.Stream == s {
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func runExec(ctx context.Context, g *globals, o execOpts, args []string, stdout io.Writer) error {
	inv, err := loadInventory(g)
	if err != nil {
		return err
	}
	nodes := inv.Nodes
	if len(o.nodes) > 0 {
		if nodes, err = inv.SelectNodes(o.nodes); err != nil {
			return usageErr(err)
		}
	}
	if o.role != "" {
		var keep []config.Node
		for _, n := range nodes {
			if n.HasRole(o.role) {
				keep = append(keep, n)
			}
		}
		if len(keep) == 0 {
			return usageErr(fmt.Errorf("no selected node has role %q", o.role))
		}
		nodes = keep
	}
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o700); err != nil {
			return usageErr(fmt.Errorf("--out: %w", err))
		}
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	line := execCommandLine(args)
	pool := remote.NewPool(targets(inv, nodes), sshOptions(inv, g))
	defer pool.Close()

	outs := map[string]*nodeOutput{}
	var openErr error
	for _, n := range nodes {
		no := &nodeOutput{}
		outs[n.Name] = no
		if o.outDir != "" {
			for _, s := range []string{"stdout", "stderr"} {
				f, err := os.OpenFile(filepath.Join(o.outDir, n.Name+"."+s), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
				if err != nil {
					openErr = err
					break
				}
				no.files = append(no.files, f)
			}
		}
	}
	defer func() {
		for _, no := range outs {
			for _, f := range no.files {
				f.Close()
			}
		}
	}()
	if openErr != nil {
		return fmt.Errorf("--out: %w", openErr)
	}

	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	results := pool.RunAll(ctx, names, func(node string) remote.Command {
		no := outs[node]
		c := remote.Command{Cmd: line, Sudo: o.sudo, OnLine: no.add}
		if len(no.files) == 2 {
			c.Stdout, c.Stderr = no.files[0], no.files[1]
		}
		return c
	})

	failed := 0
	enc := json.NewEncoder(ui.JSONSafeWriter(stdout))
	for i, r := range results {
		no := outs[r.Node]
		addr := nodes[i].Host
		if c, err := pool.Client(ctx, r.Node); err == nil {
			addr = c.Addr()
		}
		if r.Err != nil {
			failed++
		}
		if o.json {
			rec := map[string]any{
				"node": r.Node, "addr": addr, "exit_code": r.ExitCode,
				"duration_ms": r.Duration.Milliseconds(), "stdout": no.text(remote.Stdout), "stderr": no.text(remote.Stderr),
				"stdout_bytes": r.StdoutBytes, "stderr_bytes": r.StderrBytes,
			}
			if r.Err != nil {
				rec["error"] = r.Err.Error()
			}
			if err := enc.Encode(rec); err != nil {
				return err
			}
			continue
		}
		status := fmt.Sprintf("exit %d", r.ExitCode)
		if r.ExitCode < 0 {
			status = "failed"
		}
		fmt.Fprintf(stdout, "── %s (%s) · %s · %s\n", r.Node, addr, status, r.Duration.Round(time.Millisecond))
		if no.dropped > 0 {
			fmt.Fprintf(stdout, "   [%d earlier lines not kept; use --out DIR to keep everything]\n", no.dropped)
		}
		if o.outDir != "" {
			fmt.Fprintf(stdout, "   %d bytes → %s, %d bytes → %s\n", r.StdoutBytes, no.files[0].Name(), r.StderrBytes, no.files[1].Name())
		}
		for _, l := range no.lines {
			if l.Stream == remote.Stderr {
				fmt.Fprintf(stdout, "   ! %s\n", ui.Printable(l.Text))
			} else {
				fmt.Fprintf(stdout, "   %s\n", ui.Printable(l.Text))
			}
		}
		if r.Err != nil {
			var ee *remote.ExitError
			if !errors.As(r.Err, &ee) {
				fmt.Fprintf(stdout, "   error: %s\n", ui.Printable(r.Err.Error()))
			}
		}
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("stopped after --timeout %s on %d of %d nodes", o.timeout, failed, len(results))
		}
		return ctx.Err()
	}
	if failed > 0 {
		return fmt.Errorf("the command failed on %d of %d nodes", failed, len(results))
	}
	return nil
}
