package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// SeedPartSize is the multipart part size Seed uses: objects up to this size
// are sent with one PUT (ETag = hex MD5), larger ones in parts of this size
// (ETag = MD5 of the parts' MD5s + "-N").
const SeedPartSize = 5 << 20

// Object is one object to seed. Its content is Data when Data is non-nil,
// else Size deterministic pseudo-random bytes derived from Key.
type Object struct {
	// Key is the object key.
	Key string
	// Size is the content length; it is len(Data) when Data is set.
	Size int64
	// Data is the literal content, or nil for generated content.
	Data []byte
}

// Open returns a reader of the object's content.
func (o Object) Open() io.Reader {
	if o.Data != nil {
		return bytes.NewReader(o.Data)
	}
	sum := sha256.Sum256([]byte(o.Key))
	var seed [32]byte
	copy(seed[:], sum[:])
	return io.LimitReader(rand.NewChaCha8(seed), o.Size)
}

// Length returns the content length.
func (o Object) Length() int64 {
	if o.Data != nil {
		return int64(len(o.Data))
	}
	return o.Size
}

// Digest returns the hex SHA-256 of the content and the ETag an S3 server
// gives the object when uploaded by Seed (see SeedPartSize).
func (o Object) Digest() (sha string, etag string, err error) {
	h := sha256.New()
	whole := md5.New()
	var parts []byte
	n := 0
	r := o.Open()
	buf := make([]byte, SeedPartSize)
	for {
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			h.Write(buf[:k])
			whole.Write(buf[:k])
			p := md5.Sum(buf[:k])
			parts = append(parts, p[:]...)
			n++
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return "", "", fmt.Errorf("digest %q: %w", o.Key, rerr)
		}
	}
	sha = hex.EncodeToString(h.Sum(nil))
	if n <= 1 {
		return sha, hex.EncodeToString(whole.Sum(nil)), nil
	}
	m := md5.Sum(parts)
	return sha, fmt.Sprintf("%s-%d", hex.EncodeToString(m[:]), n), nil
}

// FromFiles turns a key → content map into objects, sorted by key.
func FromFiles(files map[string][]byte) []Object {
	out := make([]Object, 0, len(files))
	for k, v := range files {
		if v == nil {
			v = []byte{}
		}
		out = append(out, Object{Key: k, Size: int64(len(v)), Data: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// keyPatterns are the awkward key shapes Generate cycles through; %d is the
// object's index, which keeps keys unique. The empty-object pattern gets no
// content.
var keyPatterns = []string{
	"attachments/%03d/report with spaces.pdf",
	"attachments/unicode/résumé-日本語-%d.txt",
	"attachments/deep/a/b/c/d/e/f/g/h/i/j/k/%d.bin",
	"attachments/empty/%d.empty",
	"attachments/specials/plus+and&amp=semi;colon %d.dat",
	"attachments/emoji/📎 clip %d.png",
	"attachments/percent/100%% done %%20 %d.log",
	"attachments/quotes/it's \"quoted\" %d",
	"attachments/hash/sha256-%08x",
}

const emptyPattern = 3

// Generate returns n objects totalling exactly total bytes, with awkward key
// names (spaces, unicode, emoji, %, +, quotes, deep prefixes) and an empty
// object every len(keyPatterns) keys. The same (n, total) gives the same
// objects. total is ignored (all objects empty) when every object is empty.
func Generate(n int, total int64) []Object {
	if n <= 0 {
		return nil
	}
	if total < 0 {
		total = 0
	}
	objs := make([]Object, n)
	var weights []int64
	var sumW int64
	for i := range objs {
		p := i % len(keyPatterns)
		objs[i].Key = fmt.Sprintf(keyPatterns[p], i)
		if p == emptyPattern {
			weights = append(weights, 0)
			continue
		}
		w := int64(1 + (i*7919)%13)
		weights = append(weights, w)
		sumW += w
	}
	if sumW == 0 {
		return objs
	}
	var given int64
	last := -1
	for i := range objs {
		if weights[i] == 0 {
			continue
		}
		objs[i].Size = total * weights[i] / sumW
		given += objs[i].Size
		last = i
	}
	objs[last].Size += total - given
	return objs
}

// checkLabEndpoint refuses endpoints outside loopback and the lab's
// 10.77.0.0/16, so no lab traffic can leave the machine.
func checkLabEndpoint(endpoint string) error {
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("endpoint %q: want an IP address in 127.0.0.0/8 or 10.77.0.0/16", endpoint)
	}
	lab := netip.MustParsePrefix("10.77.0.0/16")
	if ip.Unmap().IsLoopback() || lab.Contains(ip.Unmap()) {
		return nil
	}
	return fmt.Errorf("endpoint %q: outside loopback and the lab network 10.77.0.0/16", endpoint)
}

// NewClient returns a minio-go client for the lab server at endpoint
// (host:port, plain HTTP, path-style bucket addressing, region us-east-1).
// dial, when set, makes every connection (e.g. from inside a namespace).
// Proxies from the environment are ignored and endpoints outside loopback
// and 10.77.0.0/16 are refused.
func NewClient(endpoint, accessKey, secretKey string, dial DialFunc) (*minio.Client, error) {
	return newClient(endpoint, accessKey, secretKey, dial, 0)
}

// newClient is NewClient with minio-go's retry count (0: its default).
func newClient(endpoint, accessKey, secretKey string, dial DialFunc, maxRetries int) (*minio.Client, error) {
	if err := checkLabEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	if dial == nil {
		d := &net.Dialer{Timeout: 5 * time.Second}
		dial = d.DialContext
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}
	cl, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:       false,
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
		Transport:    tr,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", endpoint, err)
	}
	return cl, nil
}

// SeedBucket creates bucket on the lab server at endpoint (if missing) and
// uploads objs; see Seed.
func SeedBucket(ctx context.Context, endpoint, accessKey, secretKey, bucket string, objs []Object) error {
	cl, err := NewClient(endpoint, accessKey, secretKey, nil)
	if err != nil {
		return err
	}
	return Seed(ctx, cl, bucket, objs)
}

// Seed creates bucket (if missing) and uploads objs with 4 concurrent PUTs,
// multipart above SeedPartSize. The first failure cancels the rest and is
// returned naming the key.
func Seed(ctx context.Context, cl *minio.Client, bucket string, objs []Object) error {
	exists, err := cl.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("seed bucket %q: check bucket: %w", bucket, err)
	}
	if !exists {
		if err := cl.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
			return fmt.Errorf("seed bucket %q: create bucket: %w", bucket, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan Object)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				_, err := cl.PutObject(ctx, bucket, o.Key, o.Open(), o.Length(), minio.PutObjectOptions{
					ContentType: "application/octet-stream",
					PartSize:    SeedPartSize,
				})
				if err != nil {
					once.Do(func() {
						firstErr = fmt.Errorf("seed bucket %q: put %q (%d bytes): %w", bucket, o.Key, o.Length(), err)
						cancel()
					})
				}
			}
		}()
	}
feed:
	for _, o := range objs {
		select {
		case jobs <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("seed bucket %q: %w", bucket, err)
	}
	return nil
}

// Verify lists bucket and checks it holds exactly want: same keys, sizes
// and ETags (see Object.Digest). It reports every difference, not just the first.
func Verify(ctx context.Context, cl *minio.Client, bucket string, want []Object) error {
	got := map[string]minio.ObjectInfo{}
	for oi := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("verify bucket %q: list: %w", bucket, oi.Err)
		}
		got[oi.Key] = oi
	}
	var problems []string
	for _, o := range want {
		oi, ok := got[o.Key]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing %q", o.Key))
			continue
		}
		delete(got, o.Key)
		if oi.Size != o.Length() {
			problems = append(problems, fmt.Sprintf("%q: size %d, want %d", o.Key, oi.Size, o.Length()))
			continue
		}
		_, etag, err := o.Digest()
		if err != nil {
			return fmt.Errorf("verify bucket %q: %w", bucket, err)
		}
		if g := strings.Trim(oi.ETag, `"`); g != etag {
			problems = append(problems, fmt.Sprintf("%q: etag %s, want %s", o.Key, g, etag))
		}
	}
	extra := make([]string, 0, len(got))
	for k := range got {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	for _, k := range extra {
		problems = append(problems, fmt.Sprintf("unexpected %q", k))
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify bucket %q: %d problem(s): %s", bucket, len(problems), strings.Join(problems, "; "))
	}
	return nil
}
