package repo

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab/s3"
	"github.com/minio/minio-go/v7"
)

const testAK, testSK = "hotsnap-repo", "repo-secret-0123456789"

// startS3Server starts an S3 server of kind (the lab's versitygw or MinIO)
// on 127.0.0.1 with bucket "backups" and returns its endpoint. It builds the
// binary once (cached).
func startS3Server(t *testing.T, kind string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cache, err := s3.DefaultCacheDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := s3.BinPath(kind, cache)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
		if testing.Short() {
			t.Skipf("-short: %s not built yet in %s", kind, cache)
		}
		if bin, err = s3.Build(ctx, kind, cache, nil); err != nil {
			t.Fatalf("build %s: %v", kind, err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	srv, err := s3.StartWith(ctx, s3.Options{Kind: kind, Bin: bin, DataDir: filepath.Join(t.TempDir(), "s3"), ListenAddr: addr, AccessKey: testAK, SecretKey: testSK})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cl, err := s3.NewClient(srv.Endpoint, testAK, testSK, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.MakeBucket(ctx, "backups", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	return srv.Endpoint
}

func s3Opts(endpoint string) Options {
	return Options{S3AccessKey: testAK, S3SecretKey: testSK, S3Endpoint: "http://" + endpoint, S3Region: "us-east-1", S3PathStyle: true, S3PartSize: 5 << 20}
}

// TestS3Store runs the store suite against both S3 servers the lab builds.
func TestS3Store(t *testing.T) {
	for _, kind := range s3.Kinds() {
		t.Run(kind, func(t *testing.T) { testS3Store(t, kind) })
	}
}

func testS3Store(t *testing.T, kind string) {
	ep := startS3Server(t, kind)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Open(ctx, "s3://backups/prod/hotsnap", s3Opts(ep))
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "s3://backups/prod/hotsnap" {
		t.Errorf("String() = %q", s.String())
	}
	testStore(t, s, suiteOptions{})

	t.Run("20 MB streamed, unknown size", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix, err := streamToStore(ctx, s, "big/t.tar", 5, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if len(ix.Files) != 5 {
			t.Errorf("indexed %d files", len(ix.Files))
		}
		hw := struct {
			n   int64
			sum string
		}{}
		hw.n, hw.sum = tarStreamSum(5, 4<<20)
		if n, err := s.Stat(ctx, "big/t.tar"); err != nil || n != hw.n || n != ix.Size || n < 20<<20 {
			t.Errorf("Stat = %d, %v; want %d", n, err, hw.n)
		}
		r, err := s.Open(ctx, "big/t.tar")
		if err != nil {
			t.Fatal(err)
		}
		back := NewHashingWriter(io.Discard)
		if _, err := io.Copy(back, r); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if back.Sum() != hw.sum {
			t.Error("object read back differs from what was streamed")
		}
		// One 5 MiB part buffered at a time, not the whole 20 MB object.
		grew := int64(after.TotalAlloc - before.TotalAlloc)
		if grew > 16<<20 {
			t.Errorf("allocated %d bytes to stream %d: the upload buffers the object", grew, hw.n)
		}
		t.Logf("allocated %d bytes for %d streamed (part size 5 MiB)", grew, hw.n)
		// The object's key is under the repository prefix.
		cl, _ := s3.NewClient(ep, testAK, testSK, nil)
		if _, err := cl.StatObject(ctx, "backups", "prod/hotsnap/big/t.tar", minio.StatObjectOptions{}); err != nil {
			t.Errorf("object not at prod/hotsnap/big/t.tar: %v", err)
		}
	})

	t.Run("verify a backup in S3", func(t *testing.T) {
		id := NewID(time.Now())
		m := makeBackup(t, s, id, time.Now().UTC())
		if probs, err := Verify(ctx, s, id, nil); err != nil || len(probs) != 0 {
			t.Errorf("Verify = %q, %v", probs, err)
		}
		sums, err := List(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range sums {
			found = found || x.ID == id && x.Complete
		}
		if !found {
			t.Errorf("List = %+v, want %s complete", sums, id)
		}
		if err := s.RemoveAll(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadManifest(ctx, s, id); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after RemoveAll: %v", err)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		o := s3Opts(ep)
		o.S3SecretKey = "wrong-secret"
		_, err := Open(ctx, "s3://backups/x", o)
		if err == nil || !strings.Contains(err.Error(), "rejected the credentials") {
			t.Errorf("Open with a wrong secret = %v, want a credentials error", err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("error shows the secret: %v", err)
		}
	})

	t.Run("missing bucket", func(t *testing.T) {
		_, err := Open(ctx, "s3://no-such-bucket/x", s3Opts(ep))
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Open(missing bucket) = %v", err)
		}
	})
}
