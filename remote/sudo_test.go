package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeSudo writes a sudo stand-in into dir: -n fails ("a password is
// required") unless nopasswd; otherwise the first line of stdin must be the
// password in pwFile. Like sudo, it reads no further than that line.
func fakeSudo(t *testing.T, dir, pwFile string, nopasswd bool) {
	t.Helper()
	np := "0"
	if nopasswd {
		np = "1"
	}
	script := `#!/bin/sh
nopasswd=` + np + `
n=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=1 ;; -S|-k) ;; -p) shift ;; --) shift; break ;; *) break ;;
  esac
  shift
done
if [ "$nopasswd" != 1 ]; then
  if [ $n = 1 ]; then echo "sudo: a password is required" >&2; exit 1; fi
  IFS= read -r pw || { echo "sudo: no password was provided" >&2; exit 1; }
  if [ "$pw" != "$(cat ` + pwFile + `)" ]; then echo "Sorry, try again." >&2; echo "sudo: 1 incorrect password attempt" >&2; exit 1; fi
fi
exec "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// sudoEnv is a test server whose sudo is fakeSudo.
func sudoEnv(t *testing.T, nopasswd bool) (*testEnv, string, string) {
	env := newTestEnv(t, true)
	bin := filepath.Join(env.dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	const pw = "s3cr3t-sudo-pw"
	pwFile := filepath.Join(env.dir, "pw")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fakeSudo(t, bin, pwFile, nopasswd)
	env.srv.env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	return env, pw, pwFile
}

// dialSudo connects to env's node1 with ssh.sudo mode and the sudo
// password pw; asked counts how often the password is resolved, and o are
// the options used (to dial again with a change).
func dialSudo(t *testing.T, env *testEnv, mode, pw string) (c *Client, o Options, asked *atomic.Int64) {
	t.Helper()
	asked = new(atomic.Int64)
	o = env.options()
	o.Sudo = mode
	o.SudoPassword = func() (string, error) { asked.Add(1); return pw, nil }
	c, err := Dial(context.Background(), env.target("node1"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, o, asked
}

// TestSudoPasswordOnlyOnSudosStdin: the password goes to sudo on stdin and
// nowhere else: not in any command line the node receives, not to the
// command's stdin, not in output lines or errors.
func TestSudoPasswordOnlyOnSudosStdin(t *testing.T) {
	env, pw, pwFile := sudoEnv(t, false)
	c, o, asked := dialSudo(t, env, SudoAuto, pw)

	out, err := c.Output(context.Background(), "cat", true)
	if err != nil || out != "" {
		t.Fatalf("cat under sudo read %q (%v): the password must not reach the command", out, err)
	}
	var got strings.Builder
	_, err = c.Run(context.Background(), Command{Cmd: "cat", Sudo: true, Stdin: strings.NewReader("data\n"), Stdout: &got})
	if err != nil || got.String() != "data\n" {
		t.Fatalf("stdin under sudo: %q %v, want only the data", got.String(), err)
	}
	var lines []string
	_, err = c.Run(context.Background(), Command{Cmd: "cat " + Quote(pwFile) + "; cat " + Quote(pwFile) + " >&2; exit 3", Sudo: true,
		OnLine: func(l Line) { lines = append(lines, l.Text) }})
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Fatalf("error carries the password: %v", err)
	}
	if strings.Join(lines, "|") != "***|***" {
		t.Errorf("output lines %q: the password should be masked", lines)
	}
	for _, l := range env.srv.commandLines() {
		if strings.Contains(l, pw) {
			t.Fatalf("a command line holds the password: %q", l)
		}
	}
	if asked.Load() != 1 {
		t.Errorf("password resolved %d times, want once per node", asked.Load())
	}

	// A wrong password: refused, and the error does not echo it.
	o.SudoPassword = func() (string, error) { return "not-the-password", nil }
	c2, err := Dial(context.Background(), env.target("node2"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = c2.Run(context.Background(), Command{Cmd: "true", Sudo: true})
	if err == nil || !strings.Contains(err.Error(), "sudo rejected the password") || strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestSudoPasswordModeSendsNothingWhereSudoNeedsNone: with ssh.sudo:
// password on a node whose sudo asks for no password, nothing is sent on
// stdin (sudo would not read it and the command would).
func TestSudoPasswordModeSendsNothingWhereSudoNeedsNone(t *testing.T) {
	env, pw, _ := sudoEnv(t, true)
	c, _, asked := dialSudo(t, env, SudoPassword, pw)
	out, err := c.Output(context.Background(), "cat", true)
	if err != nil || out != "" {
		t.Fatalf("cat under sudo read %q (%v), want nothing", out, err)
	}
	if asked.Load() != 0 {
		t.Errorf("the password was resolved although sudo -n works")
	}
}
