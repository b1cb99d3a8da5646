package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EachResult is what one command of a RunEach did: its Result (its own exit
// code, duration and stderr's last lines), what it printed on stdout, and
// the error a Run of it alone would have returned.
type EachResult struct {
	Result
	Stdout string
	Err    error
}

// The markers a RunEach script prints after each command: on stdout with
// the command's exit status, and on stderr, so that both streams split at
// the same commands. \x1e (record separator) is in no command's output.
const (
	eachOutMarker = "\x1ehotsnap-end:"
	eachErrMarker = "\x1ehotsnap-end\n"
)

// eachMaxOutput caps what a RunEach keeps of its commands' stdout (all
// together): it is for short answers (versions, sizes, status).
const eachMaxOutput = 16 << 20

// ErrNotRun is the error of a command a RunEach did not run because the one
// before it failed (andThen).
var ErrNotRun = errors.New("not run: the command before it failed")

// RunEach runs short commands one after another in one session on the node
// (one login, one sudo), each in its own sh -c with stdin from /dev/null,
// and returns one EachResult per command, in order, as separate Runs would
// have: its stdout, its exit code, its stderr's last lines and, when it
// failed, the same error. A command that fails does not stop the next,
// unless andThen (as the shell's &&): then the commands after it are not
// run and carry ErrNotRun. When the session itself fails (connection lost,
// cancelled, sudo refused), the commands it did not finish carry that error.
func (c *Client) RunEach(ctx context.Context, cmds []string, sudo, andThen bool) []EachResult {
	out := make([]EachResult, len(cmds))
	var script strings.Builder
	for i, cmd := range cmds {
		out[i] = EachResult{Result: Result{Node: c.node, Cmd: cmd, ExitCode: -1}}
		if strings.IndexByte(cmd, 0) >= 0 {
			err := &NodeError{Node: c.node, Addr: c.addr, Step: "run " + shorten(cmd), Err: errors.New("command contains a NUL byte, which no remote shell can receive")}
			for j := range out {
				out[j].Err = err
			}
			return out
		}
		fmt.Fprintf(&script, "sh -c %s </dev/null; s=$?; printf '%s%%d\\n' \"$s\"; printf '%s' >&2\n", Quote(cmd), eachOutMarker, strings.ReplaceAll(eachErrMarker, "\n", "\\n"))
		if andThen {
			script.WriteString("[ \"$s\" -eq 0 ] || exit 0\n")
		}
	}
	_, pw, _ := c.sudoPrefix(ctx, sudo) // Run reports its error
	split := &eachSplitter{start: time.Now()}
	var errs bytes.Buffer
	_, err := c.Run(ctx, Command{Cmd: script.String(), Sudo: sudo, Stdout: split, Stderr: &limitedBuffer{buf: &errs, max: eachMaxOutput}})
	stdouts, codes, ends := split.results()
	stderrs := strings.Split(errs.String(), eachErrMarker)
	prev := split.start
	for i, cmd := range cmds {
		r := &out[i]
		if i >= len(codes) {
			// The session's error, naming this command (not the script).
			why := fmt.Errorf("did not run: the session ended after %d of %d commands", len(codes), len(cmds))
			var ne *NodeError
			switch {
			case errors.As(err, &ne):
				why = ne.Err
			case err == nil && andThen && len(codes) > 0 && codes[len(codes)-1] != 0:
				why = ErrNotRun
			}
			r.Err = &NodeError{Node: c.node, Addr: c.addr, Step: "run " + shorten(cmd), Err: why}
			continue
		}
		r.Stdout, r.ExitCode, r.Duration = stdouts[i], codes[i], ends[i].Sub(prev)
		prev = ends[i]
		r.StdoutBytes = int64(len(r.Stdout))
		if i < len(stderrs) {
			tail := &tailBuffer{max: 5}
			tail.Write([]byte(stderrs[i])) //nolint:errcheck // a tailBuffer never fails
			r.StderrTail = tail.lines()
			for k, l := range r.StderrTail {
				r.StderrTail[k] = maskSecret(l, pw)
			}
			r.StderrBytes = int64(len(stderrs[i]))
		}
		if r.ExitCode != 0 {
			r.Err = &NodeError{Node: c.node, Addr: c.addr, Step: "run " + shorten(cmd), Err: &ExitError{Code: r.ExitCode, StderrTail: r.StderrTail}}
		}
	}
	return out
}

// RunEach runs cmds on one node in one session (Client.RunEach).
func (p *Pool) RunEach(ctx context.Context, node string, cmds []string, sudo, andThen bool) []EachResult {
	c, err := p.Client(ctx, node)
	if err != nil {
		out := make([]EachResult, len(cmds))
		for i, cmd := range cmds {
			out[i] = EachResult{Result: Result{Node: node, Cmd: cmd, ExitCode: -1}, Err: err}
		}
		return out
	}
	return c.RunEach(ctx, cmds, sudo, andThen)
}

// eachSplitter receives a RunEach script's stdout: each command's output,
// then eachOutMarker, its exit status and a newline. It notes when each
// command's marker arrived (its end).
type eachSplitter struct {
	mu    sync.Mutex
	start time.Time
	buf   []byte
	scan  int // where to look for the next marker
	ends  []time.Time
}

func (s *eachSplitter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf)+len(p) > eachMaxOutput {
		return 0, fmt.Errorf("output larger than %d bytes", eachMaxOutput)
	}
	s.buf = append(s.buf, p...)
	for {
		i := bytes.Index(s.buf[s.scan:], []byte(eachOutMarker))
		if i < 0 {
			break
		}
		j := bytes.IndexByte(s.buf[s.scan+i:], '\n')
		if j < 0 {
			break // the status line is not complete yet
		}
		s.ends = append(s.ends, time.Now())
		s.scan += i + j + 1
	}
	return len(p), nil
}

// results splits what was received into each finished command's stdout,
// exit status and end time.
func (s *eachSplitter) results() (stdouts []string, codes []int, ends []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rest := s.buf
	for range s.ends {
		i := bytes.Index(rest, []byte(eachOutMarker))
		j := i + bytes.IndexByte(rest[i:], '\n')
		code, err := strconv.Atoi(string(rest[i+len(eachOutMarker) : j]))
		if err != nil {
			code = -1
		}
		stdouts = append(stdouts, string(rest[:i]))
		codes = append(codes, code)
		rest = rest[j+1:]
	}
	return stdouts, codes, append([]time.Time(nil), s.ends...)
}
