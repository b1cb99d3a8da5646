package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
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
			err := c.cmdError(cmd, errNUL)
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
	start := time.Now()
	split := &eachSplitter{}
	var errs bytes.Buffer
	_, err := c.Run(ctx, Command{Cmd: script.String(), Sudo: sudo, Stdout: split, Stderr: &limitedBuffer{buf: &errs, max: eachMaxOutput}})
	pw := c.sudoPassword()
	done := split.finished()
	stderrs := strings.Split(errs.String(), eachErrMarker)
	prev := start
	for i, cmd := range cmds {
		r := &out[i]
		if i >= len(done) {
			// The session's error, naming this command (not the script).
			why := fmt.Errorf("did not run: the session ended after %d of %d commands", len(done), len(cmds))
			var ne *NodeError
			switch {
			case errors.As(err, &ne):
				why = ne.Err
			case err == nil && andThen && len(done) > 0 && done[len(done)-1].code != 0:
				why = ErrNotRun
			}
			r.Err = c.cmdError(cmd, why)
			continue
		}
		r.Stdout, r.ExitCode, r.Duration = done[i].stdout, done[i].code, done[i].end.Sub(prev)
		prev = done[i].end
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
			r.Err = c.cmdError(cmd, &ExitError{Code: r.ExitCode, StderrTail: r.StderrTail})
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
// then eachOutMarker, its exit status and a newline. It cuts each command
// off as its status line arrives, noting when (the command's end).
type eachSplitter struct {
	mu   sync.Mutex
	buf  []byte // what came after the last complete status line
	size int    // every byte received, against eachMaxOutput
	done []eachDone
}

// eachDone is one command a RunEach script finished.
type eachDone struct {
	stdout string
	code   int // -1 when the status line does not read
	end    time.Time
}

func (s *eachSplitter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size += len(p); s.size > eachMaxOutput {
		return 0, fmt.Errorf("output larger than %d bytes", eachMaxOutput)
	}
	s.buf = append(s.buf, p...)
	for {
		i := bytes.Index(s.buf, []byte(eachOutMarker))
		if i < 0 {
			break
		}
		j := bytes.IndexByte(s.buf[i:], '\n')
		if j < 0 {
			break // the status line is not complete yet
		}
		code, err := strconv.Atoi(string(s.buf[i+len(eachOutMarker) : i+j]))
		if err != nil {
			code = -1
		}
		s.done = append(s.done, eachDone{stdout: string(s.buf[:i]), code: code, end: time.Now()})
		s.buf = s.buf[i+j+1:]
	}
	return len(p), nil
}

// finished returns the commands whose status line arrived, in order.
func (s *eachSplitter) finished() []eachDone {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.done)
}
