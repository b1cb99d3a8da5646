package thehive

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the busybox-style entry points:
// run as "systemctl" (the detached supervisor) or "thehive-standin" (the
// service, through a symlink) it dispatches like main.go does.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "systemctl":
		os.Exit(SystemctlMain(os.Args[1:], os.Stdout, os.Stderr))
	case "thehive-standin":
		os.Exit(Main(os.Args[1:]))
	}
	time.Local = time.UTC
	os.Exit(m.Run())
}

// sample reads a real-output sample without its 3-line provenance header.
func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "reference", "real-outputs", "cassandra", name))
	if err != nil {
		b, err = os.ReadFile(filepath.Join("/work/shared/reference/real-outputs/cassandra", name))
	}
	if err != nil {
		t.Skipf("sample %s not available: %v", name, err)
	}
	lines := strings.SplitN(string(b), "\n", 4)
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "# source:") {
		t.Fatalf("sample %s: unexpected header", name)
	}
	return lines[3]
}

// run calls a shim and returns its exit code, stdout and stderr.
func run(t *testing.T, f func([]string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

func sysctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return run(t, func(a []string, o, e *bytes.Buffer) int { return SystemctlMain(a, o, e) }, args...)
}

func journal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return run(t, func(a []string, o, e *bytes.Buffer) int { return JournalctlMain(a, o, e) }, args...)
}
