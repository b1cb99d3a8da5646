package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runCLI runs the command tree with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var g globals
	root := newRoot(&g)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	code := exitOK
	if err != nil {
		code = exitFailed
		var ee *exitError
		switch {
		case errors.As(err, &ee):
			code = ee.code
		case isCobraUsageError(err):
			code = exitUsage
		}
		out.WriteString("error: " + err.Error())
	}
	return out.String(), code
}

func TestCLIUsageErrorsExit2(t *testing.T) {
	t.Setenv("HOTSNAP_INVENTORY", "")
	t.Chdir(t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"exec"}, "no command: put it after --"},
		{[]string{"exec", "--", "true"}, "no inventory: pass --inventory FILE"},
		{[]string{"exec", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"plan", "nothing", "-i", "testdata/inventory/thehive-cluster.yaml"}, `unknown runbook "nothing"`},
		{[]string{"preflight", "-i", "/nonexistent.yaml"}, "inventory /nonexistent.yaml is not valid"},
	} {
		out, code := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, output %q; want exit 2 and %q", c.args, code, out, c.want)
		}
	}
}

func TestCLIInventoryErrorsNamePosition(t *testing.T) {
	wd, _ := os.Getwd()
	bad := filepath.Join(wd, "testdata", "inventory", "bad-port.yaml")
	out, code := runCLI(t, "exec", "-i", bad, "--", "true")
	if code != exitUsage || !strings.Contains(out, "bad-port.yaml:") {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestCLIPlanPrintsExactCommands(t *testing.T) {
	out, code := runCLI(t, "plan", "preflight", "-i", "testdata/inventory/thehive-cluster.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{
		"runbook preflight · cluster prod-thehive",
		"node3    $ sudo sh -c 'df -PB1 /data/cassandra/data && du -sb /data/cassandra/data/thehive'", // per-node path override
		"node1    $ nodetool status thehive\n              # at once with the two below\n   node1    $ nodetool describecluster\n   node1    $ nodetool netstats",
		"why: The runbook requires all nodes `UN`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

func TestCLIVersionAndCompletion(t *testing.T) {
	out, code := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "hotsnap version ") {
		t.Fatalf("--version: %d %q", code, out)
	}
	out, code = runCLI(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_hotsnap") {
		t.Fatalf("completion bash: %d %.100q", code, out)
	}
}

// TestCLIHelpOnEveryCommand: every command and subcommand answers --help
// (exit 0, its usage and flags), and every one of hotsnap's own commands
// shows examples. Nothing is a placeholder: each has a Run or subcommands.
func TestCLIHelpOnEveryCommand(t *testing.T) {
	var g globals
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			path := strings.Fields(sub.CommandPath())[1:]
			out, code := runCLI(t, append(path, "--help")...)
			n++
			about := sub.Short
			if sub.Long != "" {
				about, _, _ = strings.Cut(sub.Long, "\n")
			}
			if code != exitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, about) {
				t.Errorf("%v --help: exit %d\n%s", path, code, out)
			}
			builtin := path[0] == "help" || path[0] == "completion"
			if !builtin && !strings.Contains(out, "Examples:") {
				t.Errorf("%v --help shows no example", path)
			}
			// Flags that do nothing for a command are not offered: the lab
			// commands read no inventory and dial no node.
			if path[0] == "lab" && (strings.Contains(out, "--inventory") || strings.Contains(out, "--accept-new-hosts")) {
				t.Errorf("%v --help offers --inventory or --accept-new-hosts, which the lab ignores", path)
			}
			if path[0] == "backup" && !strings.Contains(out, "--inventory") {
				t.Errorf("%v --help lost --inventory", path)
			}
			if !sub.Runnable() && !sub.HasSubCommands() {
				t.Errorf("%v does nothing: neither a Run nor subcommands", path)
			}
			walk(sub)
		}
	}
	walk(newRoot(&g))
	if n < 20 {
		t.Fatalf("walked %d commands: the tree is not what this test expects", n)
	}
}

// TestCLIExitCodesAsDocumented: the exit codes that --help and README.md
// list are the ones main returns.
func TestCLIExitCodesAsDocumented(t *testing.T) {
	out, code := runCLI(t, "--help")
	if code != exitOK {
		t.Fatalf("--help: exit %d", code)
	}
	help := strings.Join(strings.Fields(out), " ")
	want := fmt.Sprintf("Exit codes: %d ok, %d failed, %d usage or configuration error, %d preflight failed, %d aborted.",
		exitOK, exitFailed, exitUsage, exitPreflight, exitAborted)
	if !strings.Contains(help, want) {
		t.Errorf("--help lacks %q", want)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	wantReadme := fmt.Sprintf("Exit codes: `%d` ok · `%d` failed · `%d` usage or configuration error (bad flag, invalid inventory) · `%d` preflight failed · `%d` aborted (Ctrl-C, SIGTERM).",
		exitOK, exitFailed, exitUsage, exitPreflight, exitAborted)
	if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), wantReadme) {
		t.Errorf("README.md lacks %q", wantReadme)
	}
	// And run() maps errors to them.
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--version"}, exitOK},
		{[]string{"bogus"}, exitUsage},
		{[]string{"exec", "--bogus"}, exitUsage},
		{[]string{"preflight", "-i", "/nonexistent.yaml"}, exitUsage},
	} {
		if got := run(c.args); got != c.want {
			t.Errorf("run(%v) = %d, want %d", c.args, got, c.want)
		}
	}
}
