package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Stream names the output stream a line came from.
type Stream int

// The two output streams of a remote command.
const (
	Stdout Stream = iota
	Stderr
)

// String names the stream ("stdout" or "stderr").
func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// Line is one line of a remote command's output.
type Line struct {
	Node   string
	Stream Stream
	Text   string
}

// Command is one command to run on a node.
type Command struct {
	// Cmd is a POSIX shell command line. Build it with Join/Quote: every
	// value in it must have gone through Quote.
	Cmd string
	// Sudo runs Cmd as root through sudo (see Options.Sudo).
	Sudo bool
	// Stdin, when set, is streamed to the command's standard input.
	Stdin io.Reader
	// Stdout and Stderr, when set, receive the raw bytes as they arrive.
	// When nil, output is split into lines and given to OnLine.
	Stdout, Stderr io.Writer
	// OnLine receives output lines of the streams that have no writer; it
	// is never called concurrently for one command.
	OnLine func(Line)
	// OnProgress, when set, is called with the running total of stdout
	// (or, when Stdin is set and stdout is quiet, stdin) bytes.
	OnProgress func(bytes int64)
}

// Result is what one command did on one node.
type Result struct {
	Node        string
	Cmd         string
	ExitCode    int // -1 when the command did not exit normally (signal, lost connection, cancelled)
	Duration    time.Duration
	StdoutBytes int64
	StderrBytes int64
	StdinBytes  int64
	StderrTail  []string // the last lines of stderr, for error messages
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Code       int
	Signal     string
	StderrTail []string
}

// Error gives the exit status and the tail of the command's stderr.
func (e *ExitError) Error() string {
	msg := "exit status " + strconv.Itoa(e.Code)
	if e.Signal != "" {
		msg = "killed by signal " + e.Signal
	}
	if len(e.StderrTail) > 0 {
		msg += ": " + strings.Join(e.StderrTail, " | ")
	}
	return msg
}

const pgidMarker = "\x1ehotsnap-pgid:"

// rootMarker is the line a command that proves sudo prints first, once
// sudo has let it through (sudoRun.proving).
const rootMarker = "\x1ehotsnap-root"

// errNUL is the error of a command line holding a NUL byte.
var errNUL = errors.New("command contains a NUL byte, which no remote shell can receive")

// cmdError is err, from running cmd on the node, naming the node and the
// command.
func (c *Client) cmdError(cmd string, err error) error {
	return &NodeError{Node: c.node, Addr: c.addr, Step: "run " + shorten(cmd), Err: err}
}

// Run runs cmd on the node and waits for it. A non-zero exit is an error
// wrapping *ExitError; the Result is filled in either way. Cancelling ctx
// stops the remote process group (TERM, then KILL) before Run returns.
func (c *Client) Run(ctx context.Context, cmd Command) (Result, error) {
	res := Result{Node: c.node, Cmd: cmd.Cmd, ExitCode: -1}
	if strings.IndexByte(cmd.Cmd, 0) >= 0 {
		return res, c.cmdError(cmd.Cmd, errNUL)
	}
	if err := ctx.Err(); err != nil {
		return res, c.cmdError(cmd.Cmd, err)
	}
	su, err := c.sudoFor(ctx, cmd)
	if err != nil {
		return res, c.cmdError(cmd.Cmd, err)
	}
	var proof sudoProof
	res, err = c.run(ctx, cmd, su, &proof)
	if !su.proving {
		return res, err
	}
	switch {
	case proof.root.Load():
		// settled as its marker arrived
	case proof.refused != nil:
		// sudo -n said no before running anything of cmd: find out how
		// this node's sudo takes a password, then run cmd that way, its
		// stdin from where it was.
		c.settle(c.passwordSudo(ctx, proof.refused))
		if err := su.rewind(); err != nil {
			return res, c.cmdError(cmd.Cmd, fmt.Errorf("rewind its stdin to run it with the sudo password: %w", err))
		}
		return c.Run(ctx, cmd)
	default:
		c.unsettle() // cancelled or cut off before sudo answered
	}
	return res, err
}

// sudoProof is what the command that finds out whether sudo -n works on
// the node (sudoRun.proving) showed: that sudo ran it, or sudo's refusal.
type sudoProof struct {
	root    atomic.Bool // set from the output's goroutine as the marker arrives
	refused error       // *ExitError: sudo's exit status and its message
}

// run runs cmd with su's sudo, and fills proof when su.proving, in a
// session of its own once the connection has room for one (acquire).
func (c *Client) run(ctx context.Context, cmd Command, su sudoRun, proof *sudoProof) (Result, error) {
	if err := c.acquire(ctx); err != nil {
		return Result{Node: c.node, Cmd: cmd.Cmd, ExitCode: -1}, c.cmdError(cmd.Cmd, err)
	}
	defer c.release()
	return c.runSession(ctx, cmd, su, proof)
}

// MaxSessions is OpenSSH's default MaxSessions: sshd refuses a session
// beyond it on one connection ("open failed"), counting a session until its
// process has exited. hotsnap's commands use one less at once and wait for
// room rather than fail; the last is kept for the killers of cancelled
// commands (stop). Port forwards (the CQL and Elasticsearch tunnels) are no
// sessions and do not count.
const MaxSessions = 10

// acquire takes room for one command's session on the connection (at most
// MaxSessions-1 at once), waiting for one to end.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		if err := ctx.Err(); err != nil { // cancelled as room came
			c.release()
			return err
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for one of the %d sessions open on this connection to end: %w", cap(c.slots), ctx.Err())
	case <-c.closed:
		return errors.New("connection closed")
	}
}

// release gives back the room acquire took.
func (c *Client) release() { <-c.slots }

// acquireKiller takes room for a killer: the session kept for killers, or
// a command's, whichever is free first; it returns its release.
func (c *Client) acquireKiller(ctx context.Context) (func(), error) {
	select {
	case c.killSlot <- struct{}{}:
		return func() { <-c.killSlot }, nil
	case c.slots <- struct{}{}:
		return c.release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, errors.New("connection closed")
	}
}

// refusedWait is how long openSession keeps asking when sshd refuses a
// session: sshd frees a session only once its process has exited, a moment
// after hotsnap saw the command end.
const refusedWait = 2 * time.Second

// openSession opens a session; refused, it asks again until sshd has room
// (refusedWait), then says what to check.
func (c *Client) openSession(ctx context.Context) (*ssh.Session, error) {
	deadline := time.Now().Add(refusedWait)
	for {
		sess, err := c.conn.NewSession()
		var oce *ssh.OpenChannelError
		switch {
		case err == nil:
			return sess, nil
		case !errors.As(err, &oce):
			return nil, fmt.Errorf("open session: %w", err)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("open session: %w (the node's sshd refused a session for %s: hotsnap opens at most %d at once on a connection, OpenSSH's default MaxSessions; is MaxSessions lower in its sshd_config?)", err, refusedWait, MaxSessions)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return nil, fmt.Errorf("open session: %w", ctx.Err())
		}
	}
}

// runSession is run in the room the caller holds.
func (c *Client) runSession(ctx context.Context, cmd Command, su sudoRun, proof *sudoProof) (Result, error) {
	res := Result{Node: c.node, Cmd: cmd.Cmd, ExitCode: -1}
	fail := func(err error) (Result, error) {
		return res, c.cmdError(cmd.Cmd, err)
	}
	prefix, pw := su.prefix, su.pw
	sess, err := c.openSession(ctx)
	if err != nil {
		return fail(err)
	}
	defer sess.Close()

	start := time.Now()
	var outCount, errCount, inCount atomic.Int64
	progress := func(n int64) {
		if cmd.OnProgress != nil {
			cmd.OnProgress(n)
		}
	}
	tail := &tailBuffer{max: 5}
	pgid := make(chan int, 1)

	var stdoutW, stderrW io.Writer
	var lineWriters []*lineWriter
	var lineMu sync.Mutex // OnLine is never called concurrently within one Run
	onLine := func(l Line) {
		if cmd.OnLine != nil {
			l.Text = maskSecret(l.Text, pw)
			lineMu.Lock()
			defer lineMu.Unlock()
			cmd.OnLine(l)
		}
	}
	if cmd.Stdout != nil {
		stdoutW = cmd.Stdout
	} else {
		lw := &lineWriter{fn: func(s string) { onLine(Line{Node: c.node, Stream: Stdout, Text: s}) }}
		lineWriters = append(lineWriters, lw)
		stdoutW = lw
	}
	if cmd.Stderr != nil {
		stderrW = io.MultiWriter(cmd.Stderr, tail)
	} else {
		lw := &lineWriter{fn: func(s string) { tail.addLine(s); onLine(Line{Node: c.node, Stream: Stderr, Text: s}) }}
		lineWriters = append(lineWriters, lw)
		stderrW = lw
	}
	// A failing writer (a full disk, a closed pipe) must stop the remote
	// command: otherwise it blocks on a full SSH window and Run never returns.
	writeErr := make(chan error, 1)
	sess.Stdout = &errWriter{w: &countingWriter{w: stdoutW, n: &outCount, progress: progress}, ch: writeErr}
	markers := &markerFilter{w: &countingWriter{w: stderrW, n: &errCount}, pgid: pgid}
	if su.proving {
		markers.root = func() { proof.root.Store(true); c.settle(SudoNoPasswd, "", nil) }
	}
	sess.Stderr = &errWriter{w: markers, ch: writeErr}

	var in io.Reader
	switch {
	case pw != "" && cmd.Stdin != nil:
		in = io.MultiReader(strings.NewReader(pw+"\n"), &countingReader{r: cmd.Stdin, n: &inCount, progress: progressIfQuiet(&outCount, progress)})
	case pw != "":
		in = strings.NewReader(pw + "\n")
	case cmd.Stdin != nil:
		in = &countingReader{r: cmd.Stdin, n: &inCount, progress: progressIfQuiet(&outCount, progress)}
	}
	if in != nil {
		sess.Stdin = in
	}

	line := cmd.Cmd
	if su.proving {
		// Printed once sudo has let the command through: before it, the
		// stderr is sudo's own.
		line = "printf '" + rootMarker + "\\n' >&2; " + line
	}
	wrapped := "printf '" + pgidMarker + "%s\\n' \"$$\" >&2; exec " + prefix + "sh -c " + Quote(line)
	if err := sess.Start(wrapped); err != nil {
		return fail(fmt.Errorf("start: %w", err))
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()

	var waitErr error
	var outErr error
	select {
	case waitErr = <-done:
	case outErr = <-writeErr:
		c.stop(sess, pgid, su)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	case <-ctx.Done():
		c.stop(sess, pgid, su)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		waitErr = ctx.Err()
	case <-c.closed:
		waitErr = errors.New("connection lost (the node stopped answering keepalives)")
	}
	for _, lw := range lineWriters {
		lw.flush()
	}
	res.Duration = time.Since(start)
	res.StdoutBytes, res.StderrBytes, res.StdinBytes = outCount.Load(), errCount.Load(), inCount.Load()
	res.StderrTail = tail.lines()
	for i, l := range res.StderrTail {
		res.StderrTail[i] = maskSecret(l, pw)
	}

	if ctx.Err() != nil {
		return fail(fmt.Errorf("cancelled: %w", ctx.Err()))
	}
	if outErr != nil {
		return fail(fmt.Errorf("the command was stopped: writing its output failed: %w", outErr))
	}
	var ee *ssh.ExitError
	if su.proving && !proof.root.Load() && errors.As(waitErr, &ee) && ee.Signal() == "" {
		proof.refused = &ExitError{Code: ee.ExitStatus(), StderrTail: markers.refusal()}
	}
	switch {
	case waitErr == nil:
		res.ExitCode = 0
		return res, nil
	case errors.As(waitErr, &ee):
		if ee.Signal() != "" {
			return fail(&ExitError{Code: -1, Signal: ee.Signal(), StderrTail: res.StderrTail})
		}
		res.ExitCode = ee.ExitStatus()
		if pw == "" && res.ExitCode == 1 && cmd.Sudo && sudoNeedsPassword(res.StderrTail) {
			return fail(errors.New("sudo needs a password on this node: set ssh.sudo to auto or password and ssh.sudo_password (env:NAME, file:PATH or prompt)"))
		}
		return fail(&ExitError{Code: res.ExitCode, StderrTail: res.StderrTail})
	default:
		var missing *ssh.ExitMissingError
		if errors.As(waitErr, &missing) {
			return fail(errors.New("the command ended without an exit status (connection lost or sshd killed it)"))
		}
		return fail(waitErr)
	}
}

// Output runs cmd and returns its stdout; stderr goes to the error when the
// command fails. Meant for short answers (versions, small files, status).
func (c *Client) Output(ctx context.Context, cmdline string, sudo bool) (string, error) {
	var out bytes.Buffer
	_, err := c.Run(ctx, Command{Cmd: cmdline, Sudo: sudo, Stdout: &limitedBuffer{buf: &out, max: 16 << 20}})
	return out.String(), err
}

// stop ends a cancelled command: a TERM to its process group through the SSH
// channel, then, through a new session, TERM and after a second KILL to the
// group — with the sudo the command ran under. The killer's session takes
// the room kept for killers, or a command's (acquireKiller): with every
// command's room taken by commands being stopped, it never waits on them.
func (c *Client) stop(sess *ssh.Session, pgid <-chan int, su sudoRun) {
	_ = sess.Signal(ssh.SIGTERM)
	var id int
	select {
	case id = <-pgid:
	case <-time.After(time.Second):
	}
	if id > 1 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if release, err := c.acquireKiller(ctx); err == nil {
			g := strconv.Itoa(id)
			// "kill -SIG -PGID", without "--": dash's kill rejects "--".
			killer := "kill -TERM -" + g + " 2>/dev/null; i=0; while kill -0 -" + g + " 2>/dev/null && [ $i -lt 10 ]; do sleep 0.2; i=$((i+1)); done; kill -KILL -" + g + " 2>/dev/null; true"
			_, _ = c.runSession(ctx, Command{Cmd: killer}, sudoRun{prefix: su.prefix, pw: su.pw}, nil)
			release()
		}
	}
	sess.Close()
}

// sudoRun is how one command runs as root: what goes before "sh -c", the
// password sent first on stdin (password mode), and whether the command
// finds out on the way whether sudo -n works on the node (proving; rewind
// then puts its stdin back for a second run).
type sudoRun struct {
	prefix, pw string
	proving    bool
	rewind     func() error
}

// sudoFor returns how cmd becomes root (nothing when it does not need to).
// The node's sudo is found out once, by the first command that needs it:
// that command itself runs under sudo -n, marked so that the output shows
// whether sudo let it through (no session of its own for the proof);
// commands needing root meanwhile wait for the answer. Refused, it runs
// again with the password, its stdin rewound first; a command whose stdin
// cannot be rewound proves sudo first with "sudo -n true".
func (c *Client) sudoFor(ctx context.Context, cmd Command) (sudoRun, error) {
	if !cmd.Sudo {
		return sudoRun{}, nil
	}
	for {
		c.sudoMu.Lock()
		if c.sudoDone {
			su, err := c.settledRun()
			c.sudoMu.Unlock()
			return su, err
		}
		if w := c.sudoWait; w != nil {
			c.sudoMu.Unlock()
			select {
			case <-w:
				continue
			case <-ctx.Done():
				return sudoRun{}, ctx.Err()
			}
		}
		c.sudoWait = make(chan struct{})
		c.sudoMu.Unlock()
		if c.opts.Sudo != SudoNone && c.user != "root" {
			if r, ok := rewinder(cmd.Stdin); ok {
				return sudoRun{prefix: "sudo -n -- ", proving: true, rewind: r}, nil
			}
		}
		c.settle(c.setupSudo(ctx))
	}
}

// settledRun is how a command becomes root once the node's sudo is known
// (sudoMu held).
func (c *Client) settledRun() (sudoRun, error) {
	switch {
	case c.sudoErr != nil:
		return sudoRun{}, c.sudoErr
	case c.sudoMode == SudoNone:
		return sudoRun{}, nil
	case c.sudoMode == SudoPassword:
		// -k: always ask, so the password line is always consumed by sudo
		// and never reaches the command.
		return sudoRun{prefix: "sudo -S -k -p '' -- ", pw: c.sudoPass}, nil
	default:
		return sudoRun{prefix: "sudo -n -- "}, nil
	}
}

// rewinder returns what puts stdin back where it is now: nothing to do
// without stdin, a seek for one that seeks (a file, a buffer); ok is false
// for one that cannot (a pipe, a stream).
func rewinder(stdin io.Reader) (rewind func() error, ok bool) {
	if stdin == nil {
		return func() error { return nil }, true
	}
	s, ok := stdin.(io.Seeker)
	if !ok {
		return nil, false
	}
	at, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, false
	}
	return func() error { _, err := s.Seek(at, io.SeekStart); return err }, true
}

// settle records how this node's sudo works (or why it does not), for
// every later command, and wakes the commands waiting for it.
func (c *Client) settle(mode, pass string, err error) {
	c.sudoMu.Lock()
	defer c.sudoMu.Unlock()
	if c.sudoDone {
		return
	}
	c.sudoDone, c.sudoMode, c.sudoPass, c.sudoErr = true, mode, pass, err
	close(c.sudoWait)
	c.sudoWait = nil
}

// unsettle gives up finding out (the proving command was cancelled or cut
// off before sudo answered): the next command that needs root tries again.
func (c *Client) unsettle() {
	c.sudoMu.Lock()
	defer c.sudoMu.Unlock()
	if !c.sudoDone {
		close(c.sudoWait)
		c.sudoWait = nil
	}
}

// sudoPassword is the sudo password in use on this node, "" when none.
func (c *Client) sudoPassword() string {
	c.sudoMu.Lock()
	defer c.sudoMu.Unlock()
	return c.sudoPass
}

// setupSudo finds out with "sudo -n true" how to become root on this node.
func (c *Client) setupSudo(ctx context.Context) (string, string, error) {
	if c.opts.Sudo == SudoNone || c.user == "root" {
		return SudoNone, "", nil
	}
	_, err := c.Run(ctx, Command{Cmd: "sudo -n true"})
	if err == nil {
		return SudoNoPasswd, "", nil
	}
	return c.passwordSudo(ctx, err)
}

// passwordSudo is the way to root where sudo -n was refused (refused says
// how): sudo -S with ssh.sudo_password, once sudo has accepted it. sudo -n
// is tried first in password mode too: where sudo asks for no password
// (NOPASSWD), a password sent on stdin would not be read by sudo and would
// reach the command instead.
func (c *Client) passwordSudo(ctx context.Context, refused error) (string, string, error) {
	if c.opts.Sudo == SudoNoPasswd {
		return "", "", fmt.Errorf("sudo -n failed (ssh.sudo is nopasswd): %w", refused)
	}
	if c.opts.SudoPassword == nil {
		return "", "", errors.New("sudo needs a password on this node: set ssh.sudo_password in the inventory (env:NAME, file:PATH or prompt)")
	}
	pw, err := c.opts.SudoPassword()
	if err != nil {
		return "", "", fmt.Errorf("sudo password: %w", err)
	}
	if strings.ContainsAny(pw, "\n\r") {
		return "", "", errors.New("sudo password contains a newline, which sudo -S cannot read")
	}
	var errOut bytes.Buffer
	if err := c.acquire(ctx); err != nil {
		return "", "", err
	}
	defer c.release()
	sess, err := c.openSession(ctx)
	if err != nil {
		return "", "", err
	}
	defer sess.Close()
	sess.Stdin = strings.NewReader(pw + "\n")
	sess.Stderr = &limitedBuffer{buf: &errOut, max: 4096}
	if err := sess.Run("sudo -S -k -p '' -- true"); err != nil {
		return "", "", errors.New("sudo rejected the password (check ssh.sudo_password): " + maskSecret(strings.TrimSpace(errOut.String()), pw))
	}
	return SudoPassword, pw, nil
}

// maskSecret replaces every occurrence of secret in s with "***": the
// sudo password never reaches a command's output, but if a command prints
// it anyway, no line, error or journal entry carries it.
func maskSecret(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "***")
}

func sudoNeedsPassword(tail []string) bool {
	for _, l := range tail {
		if strings.Contains(l, "a password is required") || strings.Contains(l, "a terminal is required") {
			return true
		}
	}
	return false
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return "`" + s[:77] + "...`"
	}
	return "`" + s + "`"
}

// progressIfQuiet reports stdin progress only while stdout has said nothing,
// so an upload's progress is its stdin and a download's its stdout.
func progressIfQuiet(out *atomic.Int64, p func(int64)) func(int64) {
	return func(n int64) {
		if out.Load() == 0 {
			p(n)
		}
	}
}

type countingWriter struct {
	w        io.Writer
	n        *atomic.Int64
	progress func(int64)
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	total := cw.n.Add(int64(n))
	if cw.progress != nil {
		cw.progress(total)
	}
	return n, err
}

// errWriter reports the first write error on ch.
type errWriter struct {
	w  io.Writer
	ch chan<- error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		select {
		case e.ch <- err:
		default:
		}
	}
	return n, err
}

// copyBufSize is the buffer a command's output is read through. The SSH
// library acknowledges what each read consumed with a window adjustment (a
// packet and a write on the connection): reading every packet queued at
// once, instead of io.Copy's 32 KiB at a time, sends a fraction of them and
// hands the output on in fewer, larger writes.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// ReadFrom copies r into the writer through a copyBufSize buffer (the SSH
// session's io.Copy of a command's output lands here), reporting the first
// write error like Write.
func (e *errWriter) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{e}, r, *bp)
}

type countingReader struct {
	r        io.Reader
	n        *atomic.Int64
	progress func(int64)
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	total := cr.n.Add(int64(n))
	if cr.progress != nil && n > 0 {
		cr.progress(total)
	}
	return n, err
}

// markerFilter takes the wrapper's process-group line off the front of
// stderr and passes everything else through. With root set (a command that
// proves sudo), it also takes rootMarker off, calling root as it arrives;
// the lines before it are sudo's: passed on once the marker has come (its
// warnings), kept as the refusal when it never comes.
type markerFilter struct {
	w     io.Writer
	pgid  chan<- int
	root  func()
	head  []byte
	state markerState
	held  []byte
}

// markerState is where a markerFilter is in its stream.
type markerState int

const (
	beforePgid markerState = iota // the wrapper's process-group line comes first
	beforeRoot                    // sudo's lines until rootMarker
	passing                       // the command's own stderr
)

// maxHeld bounds what sudo may say before the marker (a warning or two).
const maxHeld = 4096

func (m *markerFilter) Write(p []byte) (int, error) {
	if m.state == passing {
		return m.w.Write(p)
	}
	m.head = append(m.head, p...)
	for m.state != passing {
		i := bytes.IndexByte(m.head, '\n')
		if m.state == beforePgid {
			if i < 0 && len(m.head) < 64 {
				return len(p), nil
			}
			if i >= 0 && bytes.HasPrefix(m.head, []byte(pgidMarker)) {
				if id, err := strconv.Atoi(string(m.head[len(pgidMarker):i])); err == nil {
					m.pgid <- id
				}
				m.head = m.head[i+1:]
			}
			m.state = passing
			if m.root != nil {
				m.state = beforeRoot
			}
			continue
		}
		if i < 0 {
			return len(p), nil // the rest of a line
		}
		line := m.head[:i]
		m.head = m.head[i+1:]
		if string(line) != rootMarker {
			if len(m.held) < maxHeld {
				m.held = append(m.held, line...)
				m.held = append(m.held, '\n')
			}
			continue
		}
		m.root()
		m.state = passing
		m.head = append(m.held, m.head...)
		m.held = nil
	}
	rest := m.head
	m.head = nil
	if len(rest) > 0 {
		if _, err := m.w.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// refusal is what sudo said when it did not let a proving command through:
// its last lines.
func (m *markerFilter) refusal() []string {
	t := &tailBuffer{max: 5}
	t.Write(append(m.held, m.head...)) //nolint:errcheck // a tailBuffer never fails
	return t.lines()
}

// lineWriter splits a byte stream into lines (at most 64 KiB each).
type lineWriter struct {
	mu  sync.Mutex
	fn  func(string)
	buf []byte
}

const maxLine = 64 << 10

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLine {
				l.fn(string(l.buf[:maxLine]))
				l.buf = append(l.buf[:0], l.buf[maxLine:]...)
				continue
			}
			break
		}
		l.fn(strings.TrimSuffix(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) == 0 {
		l.buf = nil
	}
	return len(p), nil
}

func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.fn(string(l.buf))
		l.buf = nil
	}
}

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	partial []byte
	ls      []string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.push(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > maxLine {
		t.partial = t.partial[len(t.partial)-maxLine:]
	}
	return len(p), nil
}

func (t *tailBuffer) addLine(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.push(s)
}

func (t *tailBuffer) push(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	t.ls = append(t.ls, s)
	if len(t.ls) > t.max {
		t.ls = t.ls[len(t.ls)-t.max:]
	}
}

func (t *tailBuffer) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := strings.TrimSpace(string(t.partial)); p != "" {
		t.push(p)
		t.partial = nil
	}
	return append([]string(nil), t.ls...)
}

// limitedBuffer stops growing at max bytes and reports an error past it, so a
// command that answers far more than expected cannot exhaust memory.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.max {
		return 0, fmt.Errorf("output larger than %d bytes", l.max)
	}
	return l.buf.Write(p)
}
