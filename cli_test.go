package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		"node1    $ nodetool status thehive; nodetool netstats",
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
