package repo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/remote"
)

// TestSSHStore runs the Store tests against a directory on a lab node over
// SSH. It needs root (the lab makes namespaces); HOTSNAP_E2E_REQUIRED=1
// turns the skip into a failure.
func TestSSHStore(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("HOTSNAP_E2E_REQUIRED") != "" {
			t.Fatal("TestSSHStore needs root (HOTSNAP_E2E_REQUIRED is set)")
		}
		t.Skip("needs root to bring up the lab")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	state, err := os.MkdirTemp("", "hsrepo-state-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(state)
	if err := os.Chmod(state, 0o711); err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	o := lab.Options{Name: "hsrepo", Subnet: 15, Nodes: 1, StateDir: state, Log: &logb}
	_ = lab.Down(ctx, o) // left over by an interrupted run
	l, err := lab.Up(ctx, o)
	if err != nil {
		t.Fatalf("lab up: %v\n%s", err, logb.String())
	}
	defer func() {
		if err := lab.Down(context.Background(), o); err != nil {
			t.Errorf("lab down: %v", err)
		}
		if t.Failed() {
			t.Logf("lab log:\n%s", logb.String())
		}
	}()

	n := l.Nodes[0]
	dial := func(ctx context.Context, host string) (*remote.Client, error) {
		return remote.Dial(ctx, remote.Target{Name: n.Name, Host: host, Port: 22, User: lab.LoginUser, IdentityFiles: []string{l.KeyPath()}},
			remote.Options{KnownHostsFile: l.KnownHostsPath(), SSHConfigFile: "none", Agent: "none", Dial: l.OpDial})
	}
	root := fmt.Sprintf("/home/%s/backups/repo-test-%d", lab.LoginUser, os.Getpid())
	s, err := Open(ctx, "ssh://"+n.IP+root, Options{SSH: dial})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := dial(ctx, n.IP)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	defer func() { _, _ = cl.Output(context.Background(), "rm -rf -- "+remote.Quote(root), false) }()
	if s.String() != "ssh://"+n.IP+root {
		t.Errorf("String() = %q", s.String())
	}

	testStore(t, s, suiteOptions{newlineNames: true})

	t.Run("nothing executed from names", func(t *testing.T) {
		out, err := cl.Output(ctx, "ls -A ~ "+remote.Quote(root)+"/aw; test ! -e ~/pwned && test ! -e "+remote.Quote(root)+"/aw/pwned", false)
		if err != nil {
			t.Errorf("a file name ran as a command: %v\n%s", err, out)
		}
	})

	t.Run("stream 20 MB and verify", func(t *testing.T) {
		ix, err := streamToStore(ctx, s, "big/t.tar", 5, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		n, sum := tarStreamSum(5, 4<<20)
		if size, err := s.Stat(ctx, "big/t.tar"); err != nil || size != n || size != ix.Size || len(ix.Files) != 5 {
			t.Errorf("Stat = %d, %v; want %d", size, err, n)
		}
		out, err := cl.Output(ctx, "sha256sum < "+remote.Quote(root+"/big/t.tar"), false)
		if err != nil || !strings.HasPrefix(out, sum) {
			t.Errorf("sha256sum on the node = %q, %v; want %s", out, err, sum)
		}
		id := NewID(time.Now())
		makeBackup(t, s, id, time.Now().UTC())
		if probs, err := Verify(ctx, s, id, nil); err != nil || len(probs) != 0 {
			t.Errorf("Verify = %q, %v", probs, err)
		}
		// Damage it on the node: Verify over SSH sees it.
		if _, err := cl.Output(ctx, "printf x >> "+remote.Quote(root+"/"+id+"/"+FilesArchive), false); err != nil {
			t.Fatal(err)
		}
		probs, err := Verify(ctx, s, id, nil)
		if err != nil || len(probs) != 1 || !strings.Contains(probs[0].What, "size") {
			t.Errorf("Verify after damage = %q, %v", probs, err)
		}
	})

	t.Run("abort leaves no temporary file on the node", func(t *testing.T) {
		w, err := s.Create(ctx, "ab2/f")
		if err != nil {
			t.Fatal(err)
		}
		// More than the SSH window: the remote cat has surely written its
		// temporary file by the time these writes return.
		chunk := pattern(5, 1<<20)
		for range 8 {
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		if err := Abort(w); err != nil {
			t.Fatal(err)
		}
		out, err := cl.Output(ctx, "find "+remote.Quote(root+"/ab2")+" -type f", false)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("files left after Abort: %q, %v", out, err)
		}
	})

	t.Run("a folder the login user cannot write says whose it must be", func(t *testing.T) {
		ro := root + "-root-owned"
		if _, err := cl.Output(ctx, "install -d -m 0755 "+remote.Quote(ro), true); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = cl.Output(context.Background(), "rm -rf -- "+remote.Quote(ro), true) }()
		st, err := Open(ctx, "ssh://"+n.IP+ro, Options{SSH: dial})
		if err != nil {
			t.Fatal(err)
		}
		err = CreateOnce(ctx, st, "hotsnap.lock", []byte("x"))
		want := "must be " + lab.LoginUser + "'s: on " + n.IP + ", `sudo install -d -o " + lab.LoginUser + " " + ro + "` makes it, `sudo chown -R " + lab.LoginUser + " " + ro + "` gives it over"
		if err == nil || !strings.Contains(err.Error(), "Permission denied") || !strings.Contains(err.Error(), want) {
			t.Errorf("CreateOnce in a root-owned folder: %v; want Permission denied and %q", err, want)
		}
	})
}
