package remote

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// nopasswdSudo replaces env's sudo with one that needs no password and runs
// pre (shell) before the command: a warning, a delay.
func nopasswdSudo(t *testing.T, env *testEnv, pre string) {
	t.Helper()
	script := "#!/bin/sh\n" + pre + "\nwhile [ $# -gt 0 ]; do case \"$1\" in -n|-S|-k) ;; -p) shift ;; --) shift; break ;; *) break ;; esac; shift; done\nexec \"$@\"\n"
	if err := os.WriteFile(filepath.Join(env.dir, "bin", "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// linesOf runs cmd and returns its output lines as "stdout: x" / "stderr: x".
func linesOf(t *testing.T, c *Client, cmd Command) []string {
	t.Helper()
	var lines []string
	cmd.OnLine = func(l Line) { lines = append(lines, l.Stream.String()+": "+l.Text) }
	if _, err := c.Run(context.Background(), cmd); err != nil {
		t.Fatalf("%s: %v", cmd.Cmd, err)
	}
	return lines
}

// TestSudoProvedByTheFirstCommand: where sudo -n works, the first command
// that needs root finds that out itself: no session of its own for the
// proof, and nothing of the proof in its output; the commands after it run
// plainly under sudo -n.
func TestSudoProvedByTheFirstCommand(t *testing.T) {
	env, pw, _ := sudoEnv(t, true)
	c, _, asked := dialSudo(t, env, SudoAuto, pw)
	for i := range 2 {
		got := linesOf(t, c, Command{Cmd: "id -un >/dev/null; echo out; echo err >&2", Sudo: true})
		if stdout, stderr := byStream(got); stdout != "out" || stderr != "err" {
			t.Fatalf("command %d under sudo printed %q, want only its own output", i+1, got)
		}
	}
	lines := env.srv.commandLines()
	if len(lines) != 2 {
		t.Fatalf("%d sessions for two commands, want 2: %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], "sudo -n -- ") || !strings.Contains(lines[0], "hotsnap-root") || strings.Contains(lines[1], "hotsnap-root") {
		t.Errorf("the first command should prove sudo -n, the second only use it: %q", lines)
	}
	if asked.Load() != 0 {
		t.Errorf("the password was resolved although sudo -n works")
	}
}

// TestSudoProofRefusedRunsTheCommandOnce: where sudo needs a password, the
// first command is refused by sudo -n before any of it runs, and runs once,
// with the password; sudo's refusal reaches no output.
func TestSudoProofRefusedRunsTheCommandOnce(t *testing.T) {
	env, pw, _ := sudoEnv(t, false)
	c, _, asked := dialSudo(t, env, SudoAuto, pw)
	count := filepath.Join(env.dir, "count")
	got := linesOf(t, c, Command{Cmd: "echo ran >> " + Quote(count) + "; echo done", Sudo: true})
	if strings.Join(got, "|") != "stdout: done" {
		t.Errorf("output %q, want only the command's", got)
	}
	b, err := os.ReadFile(count)
	if err != nil || string(b) != "ran\n" {
		t.Errorf("the command ran %q times (%v), want once", b, err)
	}
	if asked.Load() != 1 {
		t.Errorf("password resolved %d times, want once", asked.Load())
	}

	// ssh.sudo: nopasswd on that node: the refusal, named.
	c2, _, _ := dialSudo(t, env, SudoNoPasswd, pw)
	_, err = c2.Run(context.Background(), Command{Cmd: "true", Sudo: true})
	if err == nil || !strings.Contains(err.Error(), "sudo -n failed (ssh.sudo is nopasswd): exit status 1: sudo: a password is required") {
		t.Errorf("nopasswd mode where sudo asks for a password: %v", err)
	}
}

// TestSudoWarningsBeforeTheProofReachTheOutput: what sudo prints before
// letting the command through (a warning) is passed on, in order.
func TestSudoWarningsBeforeTheProofReachTheOutput(t *testing.T) {
	env, pw, _ := sudoEnv(t, true)
	nopasswdSudo(t, env, "echo 'sudo: unable to resolve host node1: Name or service not known' >&2")
	c, _, _ := dialSudo(t, env, SudoAuto, pw)
	got := linesOf(t, c, Command{Cmd: "echo err >&2; echo out", Sudo: true})
	stdout, stderr := byStream(got)
	want := "sudo: unable to resolve host node1: Name or service not known|err"
	if stderr != want || stdout != "out" {
		t.Errorf("output %q, want stderr %q and stdout out", got, want)
	}
}

// byStream splits linesOf's lines into each stream's, joined with "|": the
// two streams arrive on their own, so only each one's order is kept.
func byStream(lines []string) (stdout, stderr string) {
	var out, errs []string
	for _, l := range lines {
		if s, ok := strings.CutPrefix(l, "stderr: "); ok {
			errs = append(errs, s)
		} else {
			out = append(out, strings.TrimPrefix(l, "stdout: "))
		}
	}
	return strings.Join(out, "|"), strings.Join(errs, "|")
}

// TestSudoCommandsWaitForTheProof: commands needing root while the first
// proves sudo wait for its answer, then run without a proof of their own;
// a command with stdin proves sudo with its own "sudo -n true" (it cannot
// be run twice); a proof cut off by its context leaves the question open.
func TestSudoCommandsWaitForTheProof(t *testing.T) {
	env, pw, _ := sudoEnv(t, true)
	nopasswdSudo(t, env, "sleep 0.3")
	c, _, _ := dialSudo(t, env, SudoAuto, pw)

	// Cancelled before sudo answers: the next command proves again.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := c.Run(ctx, Command{Cmd: "true", Sudo: true})
	cancel()
	if err == nil {
		t.Fatal("a command cancelled while sudo answered succeeded")
	}
	before := len(env.srv.commandLines())
	var wg sync.WaitGroup
	errs := make([]error, 3)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second) // a waiter left waiting fails
	defer cancel()
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Run(ctx, Command{Cmd: "true", Sudo: true})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("command %d: %v", i, err)
		}
	}
	proofs := 0
	for i, l := range env.srv.commandLines() {
		if strings.Contains(l, "hotsnap-root") && i >= before {
			proofs++
		}
		if strings.Contains(l, "sudo -n true") {
			t.Errorf("a separate proof ran: %q", l)
		}
	}
	// The cancelled command left the question open: one of the three proved.
	if proofs != 1 {
		t.Errorf("%d of the three commands proved sudo, want 1: %q", proofs, env.srv.commandLines())
	}

	env2, pw2, _ := sudoEnv(t, true)
	c2, _, _ := dialSudo(t, env2, SudoAuto, pw2)
	var out strings.Builder
	pipe, w := io.Pipe()
	go func() { w.Write([]byte("data\n")); w.Close() }() //nolint:errcheck // the test reads what arrives
	if _, err := c2.Run(context.Background(), Command{Cmd: "cat", Sudo: true, Stdin: pipe, Stdout: &out}); err != nil || out.String() != "data\n" {
		t.Fatalf("cat under sudo: %q %v", out.String(), err)
	}
	if l := env2.srv.commandLines(); len(l) != 2 || !strings.Contains(l[0], "'sudo -n true'") {
		t.Errorf("a first command whose stdin cannot be rewound should follow a separate proof: %q", l)
	}
}

// TestSudoProofRefusedRewindsStdin: a first command with stdin that seeks
// proves sudo itself; refused, it runs with the password and its whole
// stdin, from where it was.
func TestSudoProofRefusedRewindsStdin(t *testing.T) {
	env, pw, _ := sudoEnv(t, false)
	c, _, _ := dialSudo(t, env, SudoAuto, pw)
	in := strings.NewReader("skip|data\n")
	in.Seek(5, io.SeekStart) //nolint:errcheck // a strings.Reader seeks
	var out strings.Builder
	if _, err := c.Run(context.Background(), Command{Cmd: "cat", Sudo: true, Stdin: in, Stdout: &out}); err != nil || out.String() != "data\n" {
		t.Fatalf("cat under sudo: %q %v, want the stdin from where it was", out.String(), err)
	}
	l := env.srv.commandLines()
	if len(l) < 2 || !strings.Contains(l[0], "hotsnap-root") || strings.Contains(strings.Join(l, "\n"), "'sudo -n true'") {
		t.Errorf("the command should prove sudo itself, then run with the password: %q", l)
	}
}
