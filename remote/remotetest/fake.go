// Package remotetest is a scripted fake of the remote executor for unit tests
// of steps: each expected command gets a canned reply, every call is recorded,
// and an unexpected command fails the test with the command it saw.
//
//	f := remotetest.New(t)
//	f.Expect("node1", "nodetool status thehive").Stdout(statusSample)
//	f.Expect("*", `^nodetool snapshot -t \S+ thehive$`).Regexp().Exit(2).Stderr("error: ...")
//	res, err := f.Run(ctx, "node1", remote.Command{Cmd: "nodetool status thehive"})
package remotetest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote"
)

// Fake answers Run calls from a script of expectations.
type Fake struct {
	t testing.TB

	mu     sync.Mutex
	script []*Expectation
	calls  []Call
}

// Call is one command the code under test ran.
type Call struct {
	Node  string
	Cmd   string
	Sudo  bool
	Stdin string // what the code streamed in (read fully by the fake)
}

// Expectation is one scripted command and its reply.
type Expectation struct {
	node    string
	pattern string
	re      *regexp.Regexp
	times   int // remaining matches; -1 = any number
	stdout  string
	stderr  string
	exit    int
	err     error
	delay   time.Duration
	sudo    *bool
	used    int
}

// New returns a Fake that reports problems through t.
func New(t testing.TB) *Fake {
	f := &Fake{t: t}
	t.Cleanup(f.checkUsed)
	return f
}

// Expect scripts a command on node ("*" for any node). It matches the command
// line exactly unless Regexp is called. It matches once unless Times or Always
// says otherwise.
func (f *Fake) Expect(node, cmd string) *Expectation {
	e := &Expectation{node: node, pattern: cmd, times: 1}
	f.mu.Lock()
	f.script = append(f.script, e)
	f.mu.Unlock()
	return e
}

// Regexp makes the expectation match the command line by regular expression.
func (e *Expectation) Regexp() *Expectation { e.re = regexp.MustCompile(e.pattern); return e }

// Times sets how many calls the expectation answers.
func (e *Expectation) Times(n int) *Expectation { e.times = n; return e }

// Always lets the expectation answer any number of calls (including none).
func (e *Expectation) Always() *Expectation { e.times = -1; return e }

// Stdout sets the reply's standard output.
func (e *Expectation) Stdout(s string) *Expectation { e.stdout = s; return e }

// Stderr sets the reply's standard error.
func (e *Expectation) Stderr(s string) *Expectation { e.stderr = s; return e }

// Exit sets the reply's exit code (a non-zero code makes Run return an error
// wrapping *remote.ExitError, like the real executor).
func (e *Expectation) Exit(code int) *Expectation { e.exit = code; return e }

// Fail makes Run return err as if the node could not be reached.
func (e *Expectation) Fail(err error) *Expectation { e.err = err; return e }

// Delay makes the reply wait d, or until the context is cancelled.
func (e *Expectation) Delay(d time.Duration) *Expectation { e.delay = d; return e }

// WithSudo requires the command to be run (or not) through sudo.
func (e *Expectation) WithSudo(b bool) *Expectation { e.sudo = &b; return e }

func (e *Expectation) matches(node string, c remote.Command) bool {
	if e.times == 0 || (e.node != "*" && e.node != node) {
		return false
	}
	if e.sudo != nil && *e.sudo != c.Sudo {
		return false
	}
	if e.re != nil {
		return e.re.MatchString(c.Cmd)
	}
	return e.pattern == c.Cmd
}

// Run answers cmd from the script, feeding the reply to the command's writers
// or OnLine the way the real executor does.
func (f *Fake) Run(ctx context.Context, node string, cmd remote.Command) (res remote.Result, err error) {
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	var stdin string
	if cmd.Stdin != nil {
		b, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return remote.Result{Node: node, ExitCode: -1}, fmt.Errorf("%s: read stdin: %w", node, err)
		}
		stdin = string(b)
	}
	f.mu.Lock()
	f.calls = append(f.calls, Call{Node: node, Cmd: cmd.Cmd, Sudo: cmd.Sudo, Stdin: stdin})
	var e *Expectation
	for _, cand := range f.script {
		if cand.matches(node, cmd) {
			e = cand
			break
		}
	}
	if e != nil {
		e.used++
		if e.times > 0 {
			e.times--
		}
	}
	f.mu.Unlock()

	res = remote.Result{Node: node, Cmd: cmd.Cmd, ExitCode: -1, StdinBytes: int64(len(stdin))}
	if e == nil {
		f.t.Errorf("remotetest: unexpected command on %s (sudo=%v): %q", node, cmd.Sudo, cmd.Cmd)
		return res, fmt.Errorf("%s: unexpected command %q", node, cmd.Cmd)
	}
	if e.delay > 0 {
		select {
		case <-time.After(e.delay):
		case <-ctx.Done():
			return res, &remote.NodeError{Node: node, Step: "run", Err: ctx.Err()}
		}
	}
	if e.err != nil {
		return res, &remote.NodeError{Node: node, Step: "connect", Err: e.err}
	}
	deliver(cmd.Stdout, cmd.OnLine, node, remote.Stdout, e.stdout)
	deliver(cmd.Stderr, cmd.OnLine, node, remote.Stderr, e.stderr)
	if cmd.OnProgress != nil && len(e.stdout) > 0 {
		cmd.OnProgress(int64(len(e.stdout)))
	}
	res.ExitCode = e.exit
	res.StdoutBytes, res.StderrBytes = int64(len(e.stdout)), int64(len(e.stderr))
	res.StderrTail = tailLines(e.stderr, 5)
	if e.exit != 0 {
		return res, &remote.NodeError{Node: node, Step: "run `" + cmd.Cmd + "`", Err: &remote.ExitError{Code: e.exit, StderrTail: res.StderrTail}}
	}
	return res, nil
}

func deliver(w io.Writer, onLine func(remote.Line), node string, s remote.Stream, text string) {
	if text == "" {
		return
	}
	if w != nil {
		io.WriteString(w, text)
		return
	}
	if onLine == nil {
		return
	}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		onLine(remote.Line{Node: node, Stream: s, Text: l})
	}
}

func tailLines(s string, n int) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// Calls returns every command run so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// checkUsed fails the test for expectations that required calls never made.
func (f *Fake) checkUsed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.script {
		if e.times > 0 {
			f.t.Errorf("remotetest: expected command on %s not run (%d more time(s)): %q", e.node, e.times, e.pattern)
		}
	}
}
