package repo

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/remote"
)

// onceCreator is a Store that can create a small file only when none is
// there, atomically: of two writers racing for one path, exactly one wins.
type onceCreator interface {
	createOnce(ctx context.Context, p string, data []byte) error
}

// CreateOnce writes data to the file at p only when no file is there: of
// concurrent callers exactly one succeeds, the others get an error wrapping
// fs.ErrExist. The file appears whole or not at all. A local directory
// links a finished temporary file to p (link(2) fails when p exists), an
// ssh:// one does the same with ln(1) on the host, and S3 puts the object
// with If-None-Match: * (the server answers 412 when it exists).
func CreateOnce(ctx context.Context, s Store, p string, data []byte) error {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("repository %s: create %s: %w", s, p, err)
	}
	oc, ok := s.(onceCreator)
	if !ok {
		return fmt.Errorf("repository %s: create %s: this kind of repository cannot create a file atomically", s, p)
	}
	return oc.createOnce(ctx, p, data)
}

func (s *localStore) createOnce(ctx context.Context, p string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return s.wrap("create", p, err)
	}
	final := s.full(p)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return s.wrap("create", p, err)
	}
	tmp := s.full(tmpName(p))
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return s.wrap("create", p, err)
	}
	defer os.Remove(tmp)
	if f, err := os.Open(tmp); err == nil {
		_ = f.Sync()
		f.Close()
	}
	if err := os.Link(tmp, final); err != nil {
		return s.wrap("create", p, err) // *LinkError wraps EEXIST: errors.Is(err, fs.ErrExist)
	}
	return nil
}

func (s *sshStore) createOnce(ctx context.Context, p string, data []byte) error {
	final := s.full(p)
	tmp := s.full(tmpName(p))
	// The content arrives on stdin into a temporary file; ln then gives it
	// its name only if nothing has that name (exit 17 says one does).
	cmd := "mkdir -p -- " + remote.Quote(path.Dir(final)) + " && cat > " + remote.Quote(tmp) +
		" && { if ln -- " + remote.Quote(tmp) + " " + remote.Quote(final) + " 2>/dev/null; then rc=0; else rc=17; fi; rm -f -- " + remote.Quote(tmp) + "; exit $rc; }"
	res, err := s.c.Run(ctx, remote.Command{Cmd: cmd, Sudo: s.sudo, Stdin: bytes.NewReader(data)})
	if res.ExitCode == 17 {
		return s.wrap("create", p, fs.ErrExist)
	}
	if err != nil {
		return s.wrap("create", p, err)
	}
	return nil
}

func (s *s3Store) createOnce(ctx context.Context, p string, data []byte) error {
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	opts.SetMatchETagExcept("*")
	_, err := s.cl.PutObject(ctx, s.bucket, s.key(p), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		if r := minio.ToErrorResponse(err); r.StatusCode == http.StatusPreconditionFailed || r.Code == minio.PreconditionFailed {
			return s.wrap("create", p, fmt.Errorf("%w: %w", fs.ErrExist, err))
		}
		return s.wrap("create", p, explainS3(err))
	}
	return nil
}
