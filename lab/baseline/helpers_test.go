package baseline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
)

// upTestLab brings up o (this test binary as the stand-ins, a fresh state
// dir the login user can traverse) and takes it down when the test ends.
func upTestLab(t *testing.T, ctx context.Context, o lab.Options) *lab.Lab {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", o.Name+"-state-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var logb bytes.Buffer
	o.StateDir, o.Log, o.Binary = dir, &logb, self
	_ = lab.Down(ctx, o)
	l, err := lab.Up(ctx, o)
	if err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, logb.String())
	}
	t.Cleanup(func() { lab.Down(context.Background(), o) })
	return l
}

// checkScript checks an embedded script: bash, the lines wanted, and
// bash -n's approval.
func checkScript(t *testing.T, name string, b []byte, err error, want []string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("#!/bin/bash\n")) {
		t.Errorf("%s: no bash shebang", name)
	}
	for _, w := range want {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("%s lacks %q", name, w)
		}
	}
	if out, err := exec.Command("bash", "-n", "-c", string(b)).CombinedOutput(); err != nil {
		t.Errorf("%s: bash -n: %v\n%s", name, err, out)
	}
}

// hashTree returns the SHA-256 of every regular file under root, by path
// relative to root.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatalf("hash %s: %v", root, err)
	}
	return out
}

// sshNode runs remote on the lab's node named node (SSH).
func sshNode(ctx context.Context, l *lab.Lab, node, remote string) (string, error) {
	n, ok := l.Node(node)
	if !ok {
		return "", fmt.Errorf("no node %s in lab %s", node, l.Name)
	}
	return SSH(ctx, l, n, remote)
}

// baselineLab brings up a lab for a baseline test (upTestLab) with
// HOTSNAP_BASELINE_DATA (default 20MB) as its data, and returns the lab and
// its data size.
func baselineLab(t *testing.T, ctx context.Context, o lab.Options) (*lab.Lab, int64) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab tests need root")
	}
	o.Data = 20_000_000
	if v := os.Getenv("HOTSNAP_BASELINE_DATA"); v != "" {
		var err error
		if o.Data, err = lab.ParseSize(v); err != nil {
			t.Fatal(err)
		}
	}
	return upTestLab(t, ctx, o), o.Data
}

// runScript runs a baseline script as root on node1, fails the test
// unless it ends with success, and returns its output and duration.
func runScript(t *testing.T, ctx context.Context, l *lab.Lab, path, success string) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	out, err := sshNode(ctx, l, "node1", "sudo "+path+" 2>&1")
	took := time.Since(start)
	if err != nil || !strings.Contains(out, success) {
		t.Fatalf("%s: %v\n%s", path, err, out)
	}
	if testing.Verbose() {
		t.Logf("%s output:\n%s", path, out)
	}
	return out, took
}
