package repo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/remote"
)

// sshStore is a repository in a directory on an SSH host. Every value in
// the command lines it runs goes through remote.Quote.
type sshStore struct {
	c    *remote.Client
	host string
	root string // absolute, clean, no trailing slash
	sudo bool   // run every command through sudo (NewSSHStoreAsRoot)
}

func openSSH(ctx context.Context, u *url.URL, o Options) (Store, error) {
	host := u.Host
	if u.User != nil {
		host = u.User.Username() + "@" + host
	}
	if _, hasPw := u.User.Password(); hasPw {
		return nil, errors.New("open repository ssh://: passwords do not belong in the URL; use keys or the agent")
	}
	name := "ssh://" + host + u.Path
	if u.Host == "" {
		return nil, fmt.Errorf("open repository %s: no host", name)
	}
	root := path.Clean(u.Path)
	if !strings.HasPrefix(u.Path, "/") || root == "/" {
		return nil, fmt.Errorf("open repository %s: need an absolute directory below / (ssh://host/srv/backups)", name)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("open repository %s: unexpected query or fragment", name)
	}
	if o.SSH == nil {
		return nil, fmt.Errorf("open repository %s: no SSH dialer configured", name)
	}
	c, err := o.SSH(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", name, err)
	}
	return NewSSHStore(c, host, root)
}

// NewSSHStore returns a Store in the absolute directory root on the host
// that c is connected to; host is only used in String and errors.
func NewSSHStore(c *remote.Client, host, root string) (Store, error) {
	if c == nil {
		return nil, errors.New("ssh repository: nil client")
	}
	clean := path.Clean(root)
	if !strings.HasPrefix(root, "/") || clean == "/" || strings.IndexByte(root, 0) >= 0 {
		return nil, fmt.Errorf("ssh repository %s:%s: need an absolute directory below /", host, root)
	}
	return &sshStore{c: c, host: host, root: clean}, nil
}

// NewSSHStoreAsRoot is NewSSHStore with every command run through sudo: for
// reading what root wrote on a node (the documented backup scripts run as
// root and may leave their folders unreadable to the login user).
func NewSSHStoreAsRoot(c *remote.Client, host, root string) (Store, error) {
	s, err := NewSSHStore(c, host, root)
	if err != nil {
		return nil, err
	}
	s.(*sshStore).sudo = true
	return s, nil
}

func (s *sshStore) String() string { return "ssh://" + s.host + s.root }

func (s *sshStore) full(p string) string {
	if p == "" {
		return s.root
	}
	return s.root + "/" + p
}

func (s *sshStore) wrap(op, p string, err error) error {
	if !s.sudo && strings.Contains(err.Error(), "Permission denied") {
		// The repository is written as the login user, not root.
		u, root := s.c.User(), remote.Quote(s.root)
		return fmt.Errorf("repository %s: %s %s: %w; the repository's folder and what is in it must be %s's: on %s, `sudo install -d -o %s %s` makes it, `sudo chown -R %s %s` gives it over", s.String(), op, p, err, u, s.host, u, root, u, root)
	}
	return fmt.Errorf("repository %s: %s %s: %w", s.String(), op, p, err)
}

// run runs a short command and returns its stdout.
func (s *sshStore) run(ctx context.Context, cmd string) (string, error) {
	return s.c.Output(ctx, cmd, s.sudo)
}

func (s *sshStore) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrap("create", p, err)
	}
	final := s.full(p)
	tmp := s.full(tmpName(p))
	rctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	w := &sshWriter{s: s, p: p, tmp: tmp, final: final, ctx: ctx, cancel: cancel, pw: pw, done: make(chan struct{})}
	// The upload only writes the temporary file; the rename is a separate
	// command run by Close after the upload succeeded, so an interrupted
	// stream can never end up under the final name.
	cmd := "mkdir -p -- " + remote.Quote(path.Dir(final)) + " && exec cat > " + remote.Quote(tmp)
	go func() {
		defer close(w.done)
		_, err := s.c.Run(rctx, remote.Command{Cmd: cmd, Sudo: s.sudo, Stdin: pr})
		w.runErr = err
		pr.CloseWithError(errUploadEnded) // unblock a writer if the remote side died
	}()
	return w, nil
}

var errUploadEnded = errors.New("the remote upload ended")

// sshWriter streams into `cat > tmp` on the host.
type sshWriter struct {
	s          *sshStore
	p          string
	tmp, final string
	ctx        context.Context
	cancel     context.CancelFunc
	pw         *io.PipeWriter
	done       chan struct{}
	runErr     error
	mu         sync.Mutex
	closed     bool
}

func (w *sshWriter) Write(b []byte) (int, error) {
	n, err := w.pw.Write(b)
	if err != nil {
		select {
		case <-w.done:
			if w.runErr != nil {
				return n, w.s.wrap("write", w.p, w.runErr)
			}
		default:
		}
		return n, w.s.wrap("write", w.p, err)
	}
	return n, nil
}

func (w *sshWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.s.wrap("close", w.p, errors.New("already closed or aborted"))
	}
	w.closed = true
	if err := w.ctx.Err(); err != nil {
		w.abort()
		return w.s.wrap("close", w.p, err)
	}
	_ = w.pw.Close() // EOF: cat finishes
	<-w.done
	w.cancel()
	if w.runErr != nil {
		w.cleanup()
		return w.s.wrap("upload", w.p, w.runErr)
	}
	if _, err := w.s.run(w.ctx, "mv -f -- "+remote.Quote(w.tmp)+" "+remote.Quote(w.final)); err != nil {
		w.cleanup()
		return w.s.wrap("rename into place", w.p, err)
	}
	return nil
}

func (w *sshWriter) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return w.abort()
}

// abort stops the upload (cancelling kills the remote cat before its stdin
// sees EOF) and removes the temporary file.
func (w *sshWriter) abort() error {
	w.cancel()
	<-w.done
	w.pw.CloseWithError(errors.New("upload aborted"))
	return w.cleanup()
}

func (w *sshWriter) cleanup() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 30*time.Second)
	defer cancel()
	if _, err := w.s.run(ctx, "rm -f -- "+remote.Quote(w.tmp)); err != nil {
		return w.s.wrap("remove temporary file", w.p, err)
	}
	return nil
}

// sshMissingExit is the exit status of Open's and Stat's commands when the
// file is not there (or is no regular file).
const sshMissingExit = 44

// ifFile is a command that runs cmd when path q (quoted) is a regular file,
// and exits sshMissingExit otherwise.
func ifFile(q, cmd string) string {
	return "if [ -f " + q + " ]; then " + cmd + "; else exit " + strconv.Itoa(sshMissingExit) + "; fi"
}

// missing says whether err is a command's sshMissingExit.
func missing(err error) bool {
	var ee *remote.ExitError
	return errors.As(err, &ee) && ee.Code == sshMissingExit
}

// Open streams the file in one session: the test that it exists and its
// cat are one command, and Open returns once its first bytes (or its end)
// arrived, so that a missing file is Open's error, as with the other stores.
func (s *sshStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrap("open", p, err)
	}
	q := remote.Quote(s.full(p))
	r := s.stream(ctx, p, ifFile(q, "exec cat -- "+q))
	if err := r.peek(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// stream runs cmd, which prints (part of) the file p, and returns a reader
// of its stdout; a failure of cmd is the reader's error, naming p (exit
// sshMissingExit: fs.ErrNotExist).
func (s *sshStore) stream(ctx context.Context, p, cmd string) *sshReader {
	rctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	r := &sshReader{pr: pr, br: bufio.NewReaderSize(pr, 32<<10), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_, err := s.c.Run(rctx, remote.Command{Cmd: cmd, Sudo: s.sudo, Stdout: pw})
		switch {
		case missing(err):
			pw.CloseWithError(s.wrap("open", p, fs.ErrNotExist))
		case err != nil:
			pw.CloseWithError(s.wrap("read", p, err))
		default:
			pw.Close()
		}
	}()
	return r
}

// sshReader streams the stdout of a remote command (stream).
type sshReader struct {
	pr     *io.PipeReader
	br     *bufio.Reader // over pr: what peek saw is read first
	cancel context.CancelFunc
	done   chan struct{}
}

// peek waits for the first bytes of the stream, or its end; it returns
// the stream's error if it failed before sending anything.
func (r *sshReader) peek() error {
	if _, err := r.br.Peek(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

func (r *sshReader) Read(b []byte) (int, error) { return r.br.Read(b) }

func (r *sshReader) Close() error {
	r.cancel()
	r.pr.CloseWithError(errors.New("reader closed"))
	<-r.done
	return nil
}

func (s *sshStore) Stat(ctx context.Context, p string) (int64, error) {
	if err := checkPath(p); err != nil {
		return 0, s.wrap("stat", p, err)
	}
	q := remote.Quote(s.full(p))
	out, err := s.run(ctx, ifFile(q, "stat -c %s -- "+q))
	if missing(err) {
		return 0, s.wrap("stat", p, fs.ErrNotExist)
	}
	if err != nil {
		return 0, s.wrap("stat", p, err)
	}
	out = strings.TrimSpace(out)
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return 0, s.wrap("stat", p, fmt.Errorf("unexpected stat output %q", out))
	}
	return n, nil
}

func (s *sshStore) List(ctx context.Context, prefix string) ([]Entry, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	dir := remote.Quote(s.full(prefix))
	// NUL-terminated records "size mtime path": names may hold newlines.
	cmd := "if [ -d " + dir + " ]; then cd " + dir + " && exec find . -type f -printf '%s %T@ %P\\0'; " +
		"elif [ -f " + dir + " ]; then cd " + remote.Quote(path.Dir(s.full(prefix))) + " && exec find " +
		remote.Quote("./"+path.Base(s.full(prefix))) + " -maxdepth 0 -type f -printf '%s %T@ %P\\0'; fi"
	var out bytes.Buffer
	if _, err := s.c.Run(ctx, remote.Command{Cmd: cmd, Sudo: s.sudo, Stdout: &out}); err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	var entries []Entry
	isFile := false
	for _, rec := range strings.Split(out.String(), "\x00") {
		if rec == "" {
			continue
		}
		parts := strings.SplitN(rec, " ", 3)
		if len(parts) != 3 {
			return nil, s.wrap("list", prefix, fmt.Errorf("unexpected find output %q", rec))
		}
		size, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return nil, s.wrap("list", prefix, fmt.Errorf("unexpected size in find output %q", rec))
		}
		mt, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return nil, s.wrap("list", prefix, fmt.Errorf("unexpected mtime in find output %q", rec))
		}
		rel := parts[2]
		if rel == "" { // -maxdepth 0 on a file prints an empty %P
			isFile = true
		}
		var p string
		switch {
		case isFile || rel == "":
			p = prefix
		case prefix == "":
			p = rel
		default:
			p = prefix + "/" + rel
		}
		if isTemp(p) {
			continue
		}
		sec := int64(mt)
		entries = append(entries, Entry{Path: p, Size: size, ModTime: time.Unix(sec, int64((mt-float64(sec))*1e9))})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, nil
}

func (s *sshStore) RemoveAll(ctx context.Context, prefix string) error {
	if prefix == "" {
		return s.wrap("remove", prefix, errors.New("refusing to remove the whole repository"))
	}
	if err := checkPrefix(prefix); err != nil {
		return s.wrap("remove", prefix, err)
	}
	if _, err := s.run(ctx, "rm -rf -- "+remote.Quote(s.full(prefix))); err != nil {
		return s.wrap("remove", prefix, err)
	}
	return nil
}
