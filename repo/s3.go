package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Store is a repository under a prefix of an S3 bucket.
type s3Store struct {
	cl       *minio.Client
	bucket   string
	prefix   string // "" or ends with "/"
	partSize uint64
}

func openS3(ctx context.Context, u *url.URL, o Options) (Store, error) {
	bucket := u.Host
	pfx := strings.Trim(u.Path, "/")
	name := "s3://" + bucket + "/" + pfx
	if u.User != nil {
		return nil, fmt.Errorf("open repository s3://%s: credentials do not belong in the URL; give them as options", bucket)
	}
	if err := config.ValidS3BucketName(bucket); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", name, err)
	}
	if pfx != "" {
		if err := checkPrefix(pfx); err != nil {
			return nil, fmt.Errorf("open repository %s: prefix: %w", name, err)
		}
		pfx += "/"
	}
	if o.S3AccessKey == "" || o.S3SecretKey == "" {
		return nil, fmt.Errorf("open repository %s: S3 access key and secret key are required", name)
	}
	endpoint, secure := o.S3Endpoint, true
	switch {
	case endpoint == "":
		endpoint = "s3.amazonaws.com"
	case strings.HasPrefix(endpoint, "http://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "http://"), false
	case strings.HasPrefix(endpoint, "https://"):
		endpoint = strings.TrimPrefix(endpoint, "https://")
	case strings.Contains(endpoint, "://"):
		return nil, fmt.Errorf("open repository %s: endpoint %q: use host:port, http:// or https://", name, o.S3Endpoint)
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", name, err)
	}
	tr.Proxy = nil
	if o.S3Dial != nil {
		tr.DialContext = o.S3Dial
	} else {
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	lookup := minio.BucketLookupAuto
	if o.S3PathStyle {
		lookup = minio.BucketLookupPath
	}
	cl, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(o.S3AccessKey, o.S3SecretKey, ""),
		Secure:       secure,
		Region:       o.S3Region,
		BucketLookup: lookup,
		Transport:    http.RoundTripper(tr),
	})
	if err != nil {
		return nil, fmt.Errorf("open repository %s: endpoint %s: %w", name, endpoint, err)
	}
	s := &s3Store{cl: cl, bucket: bucket, prefix: pfx, partSize: o.S3PartSize}
	if s.partSize == 0 {
		s.partSize = DefaultS3PartSize
	}
	ok, err := cl.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("open repository %s at %s: %w", name, endpoint, explainS3(err))
	}
	if !ok {
		return nil, fmt.Errorf("open repository %s at %s: bucket %s does not exist", name, endpoint, bucket)
	}
	return s, nil
}

// explainS3 adds a hint to the S3 errors an operator can fix.
func explainS3(err error) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidSecretKey":
		return fmt.Errorf("the server rejected the credentials (check the S3 access key and secret key): %w", err)
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("the server rejected the credentials (check the S3 access key and secret key): %w", err)
	}
	return err
}

func (s *s3Store) String() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *s3Store) key(p string) string { return s.prefix + p }

func (s *s3Store) wrap(op, p string, err error) error {
	return fmt.Errorf("repository %s: %s %s: %w", s.String(), op, p, err)
}

func (s *s3Store) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrap("create", p, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, s.wrap("create", p, err)
	}
	pr, pw := io.Pipe()
	w := &s3Writer{s: s, p: p, pw: pw, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		// Unknown size: a multipart upload, one part buffered at a time;
		// the object only exists once the upload completes. On error
		// minio-go aborts the multipart upload.
		_, err := s.cl.PutObject(ctx, s.bucket, s.key(p), pr, -1, minio.PutObjectOptions{
			PartSize:    s.partSize,
			ContentType: "application/octet-stream",
		})
		w.err = err
		pr.CloseWithError(errUploadEnded)
	}()
	return w, nil
}

// s3Writer streams into a PutObject of unknown size.
type s3Writer struct {
	s      *s3Store
	p      string
	pw     *io.PipeWriter
	done   chan struct{}
	err    error
	mu     sync.Mutex
	closed bool
}

func (w *s3Writer) Write(b []byte) (int, error) {
	n, err := w.pw.Write(b)
	if err != nil {
		select {
		case <-w.done:
			if w.err != nil {
				return n, w.s.wrap("write", w.p, explainS3(w.err))
			}
		default:
		}
		return n, w.s.wrap("write", w.p, err)
	}
	return n, nil
}

func (w *s3Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.s.wrap("close", w.p, errors.New("already closed or aborted"))
	}
	w.closed = true
	_ = w.pw.Close()
	<-w.done
	if w.err != nil {
		return w.s.wrap("upload", w.p, explainS3(w.err))
	}
	return nil
}

func (w *s3Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	// A read error makes PutObject fail and abort the multipart upload
	// instead of completing it.
	w.pw.CloseWithError(errors.New("upload aborted"))
	<-w.done
	return nil
}

func (s *s3Store) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, s.wrap("open", p, err)
	}
	obj, err := s.cl.GetObject(ctx, s.bucket, s.key(p), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("open", p, explainS3(err))
	}
	if _, err := obj.Stat(); err != nil { // forces the request: absent → ErrNotExist now
		obj.Close()
		return nil, s.wrap("open", p, explainS3(err))
	}
	return obj, nil
}

func (s *s3Store) Stat(ctx context.Context, p string) (int64, error) {
	if err := checkPath(p); err != nil {
		return 0, s.wrap("stat", p, err)
	}
	info, err := s.cl.StatObject(ctx, s.bucket, s.key(p), minio.StatObjectOptions{})
	if err != nil {
		return 0, s.wrap("stat", p, explainS3(err))
	}
	return info.Size, nil
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]Entry, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	var out []Entry
	add := func(listPrefix string) error {
		for oi := range s.cl.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: listPrefix, Recursive: true}) {
			if oi.Err != nil {
				return explainS3(oi.Err)
			}
			rel := strings.TrimPrefix(oi.Key, s.prefix)
			if !underPrefix(rel, prefix) || isTemp(rel) || checkPath(rel) != nil {
				continue
			}
			out = append(out, Entry{Path: rel, Size: oi.Size, ModTime: oi.LastModified})
		}
		return nil
	}
	var err error
	if prefix == "" {
		err = add(s.prefix)
	} else {
		err = add(s.key(prefix) + "/")
		if err == nil { // prefix may name a single object
			if size, serr := s.Stat(ctx, prefix); serr == nil {
				out = append(out, Entry{Path: prefix, Size: size})
			}
		}
	}
	if err != nil {
		return nil, s.wrap("list", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (s *s3Store) RemoveAll(ctx context.Context, prefix string) error {
	if prefix == "" {
		return s.wrap("remove", prefix, errors.New("refusing to remove the whole repository"))
	}
	if err := checkPrefix(prefix); err != nil {
		return s.wrap("remove", prefix, err)
	}
	// Every key under prefix, including leftover objects List hides.
	keys := make(chan minio.ObjectInfo)
	listErr := make(chan error, 1)
	go func() {
		defer close(keys)
		var err error
		for oi := range s.cl.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(prefix) + "/", Recursive: true}) {
			if oi.Err != nil {
				err = oi.Err
				break
			}
			select {
			case keys <- minio.ObjectInfo{Key: oi.Key}:
			case <-ctx.Done():
				listErr <- ctx.Err()
				return
			}
		}
		if err == nil {
			select {
			case keys <- minio.ObjectInfo{Key: s.key(prefix)}: // a single object named prefix
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		listErr <- err
	}()
	var first error
	for re := range s.cl.RemoveObjects(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		if re.Err != nil && first == nil && minio.ToErrorResponse(re.Err).Code != "NoSuchKey" {
			first = fmt.Errorf("%s: %w", re.ObjectName, explainS3(re.Err))
		}
	}
	if err := <-listErr; err != nil {
		return s.wrap("remove", prefix, explainS3(err))
	}
	if first != nil {
		return s.wrap("remove", prefix, first)
	}
	return nil
}
