package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// freePort returns a 127.0.0.1 address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// buildKind builds (or finds cached) the server of kind. The first build
// compiles the whole server (about a minute for versitygw, three for MinIO,
// on 2 cores); in -short mode the test is skipped unless the binary is
// already cached.
func buildKind(t *testing.T, kind string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cache, err := DefaultCacheDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bin, _ := BinPath(kind, cache); testing.Short() && !isExecutable(bin) {
		t.Skipf("-short: %s not built yet in %s", kind, cache)
	}
	start := time.Now()
	var log strings.Builder
	bin, err := Build(ctx, kind, cache, &log)
	if err != nil {
		t.Fatalf("build %s: %v", kind, err)
	}
	t.Logf("%s ready in %s: %s", kind, time.Since(start).Round(10*time.Millisecond), bin)
	again := time.Now()
	if bin2, err := Build(ctx, kind, cache, nil); err != nil || bin2 != bin {
		t.Fatalf("cached Build = %q, %v", bin2, err)
	}
	if d := time.Since(again); d > time.Second {
		t.Errorf("cached Build took %s", d)
	}
	return bin
}

func TestVersityGWServer(t *testing.T) {
	bin := buildKind(t, KindVersityGW)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v1.8.0") {
		t.Errorf("versitygw --version = %q, %v; want v1.8.0 stamped", out, err)
	}
	testServer(t, KindVersityGW, bin)
}

func TestMinIOServer(t *testing.T) {
	bin := buildKind(t, KindMinIO)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DEVELOPMENT.2026-02-12T20-18-48Z (commit-id=7aac2a2c5b7c)") {
		t.Errorf("minio --version = %q, %v; want the pinned commit and date stamped", out, err)
	}
	testServer(t, KindMinIO, bin)
}

// testServer runs one server of kind from bin on loopback and checks what
// the lab and hotsnap rely on: seeding (awkward keys, empty and multipart
// objects), listing, content, path-style URLs, refused credentials, Stop by
// PID, and a restart on the same data through a command hook.
func testServer(t *testing.T, kind, bin string) {
	const ak, sk = "hotsnap-lab", "lab-secret-0123456789"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	data := filepath.Join(t.TempDir(), "s3") // MinIO's certs folder goes beside it
	addr := freePort(t)
	var slog strings.Builder
	started := time.Now()
	srv, err := StartWith(ctx, Options{Kind: kind, Bin: bin, DataDir: data, ListenAddr: addr,
		AccessKey: ak, SecretKey: sk, Log: &slog})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s answering after %s (pid %d, %s)", kind, time.Since(started).Round(time.Millisecond), srv.PID, srv.Endpoint)
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop()
		}
	}()
	if srv.Endpoint != addr {
		t.Errorf("Endpoint = %s, want %s", srv.Endpoint, addr)
	}
	if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(srv.PID) + "/cmdline"); err == nil && strings.Contains(string(cmdline), sk) {
		t.Error("secret key visible in the server's command line")
	}

	if kind == KindMinIO {
		if st, err := os.Stat(filepath.Join(minioConfigDir(data), "certs", "CAs")); err != nil || !st.IsDir() {
			t.Errorf("MinIO's certs folder under %s: %v", minioConfigDir(data), err)
		}
	}

	// Seed: generated awkward objects, literal files, and one multipart object.
	objs := Generate(45, 6<<20)
	objs = append(objs, FromFiles(map[string][]byte{
		"attachments/literal/hello.txt":      []byte("hello thehive\n"),
		"attachments/literal/zero byte file": {},
	})...)
	objs = append(objs, Object{Key: "attachments/big/multi part.bin", Size: 2*SeedPartSize + 12345})
	seedStart := time.Now()
	if err := SeedBucket(ctx, srv.Endpoint, ak, sk, "thehive", objs); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range objs {
		total += o.Length()
	}
	t.Logf("seeded %d objects, %d bytes in %s", len(objs), total, time.Since(seedStart).Round(time.Millisecond))
	// Seeding again is idempotent (bucket exists, objects overwritten).
	if err := SeedBucket(ctx, srv.Endpoint, ak, sk, "thehive", objs[:2]); err != nil {
		t.Fatalf("re-seed: %v", err)
	}

	cl, err := NewClient(srv.Endpoint, ak, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, cl, "thehive", objs); err != nil {
		t.Fatal(err)
	}
	// Verify must notice a difference.
	if err := Verify(ctx, cl, "thehive", objs[1:]); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("Verify with one object too few = %v, want an 'unexpected' problem", err)
	}

	// Listing: every key, size and ETag; multipart ETag has the part count.
	listed := map[string]minio.ObjectInfo{}
	for oi := range cl.ListObjects(ctx, "thehive", minio.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			t.Fatal(oi.Err)
		}
		listed[oi.Key] = oi
	}
	if len(listed) != len(objs) {
		t.Errorf("listed %d objects, want %d", len(listed), len(objs))
	}
	if et := strings.Trim(listed["attachments/big/multi part.bin"].ETag, `"`); !strings.HasSuffix(et, "-3") {
		t.Errorf("multipart ETag %q, want a -3 suffix", et)
	}
	// Prefix listing through a deep, unicode prefix.
	n := 0
	for oi := range cl.ListObjects(ctx, "thehive", minio.ListObjectsOptions{Prefix: "attachments/unicode/résumé-日本語-", Recursive: true}) {
		if oi.Err != nil {
			t.Fatal(oi.Err)
		}
		n++
	}
	if n != 5 { // indexes 1, 10, 19, 28, 37 of 45
		t.Errorf("unicode prefix listed %d objects, want 5", n)
	}

	// Content: GET every object and compare SHA-256; versitygw's posix
	// backend keeps each object as a plain file DataDir/bucket/key, MinIO
	// as DataDir/bucket/key/xl.meta (small objects inline, larger ones with
	// part files beside it).
	for _, o := range objs {
		wantSHA, _, err := o.Digest()
		if err != nil {
			t.Fatal(err)
		}
		r, err := cl.GetObject(ctx, "thehive", o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatalf("get %q: %v", o.Key, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		_ = r.Close()
		if err != nil {
			t.Fatalf("read %q: %v", o.Key, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
			t.Errorf("%q: sha256 %s, want %s", o.Key, got, wantSHA)
		}
		switch kind {
		case KindVersityGW:
			st, err := os.Stat(filepath.Join(data, "thehive", o.Key))
			if err != nil || st.Size() != o.Length() {
				t.Errorf("%q on disk: %v, size mismatch (want %d)", o.Key, err, o.Length())
			}
		case KindMinIO:
			if _, err := os.Stat(filepath.Join(data, "thehive", o.Key, "xl.meta")); err != nil {
				t.Errorf("%q on disk: %v", o.Key, err)
			}
		}
	}

	// Path-style: a presigned URL is http://host:port/thehive/<key> and a
	// plain HTTP client can fetch it.
	key := "attachments/specials/plus+and&amp=semi;colon 4.dat"
	u, err := cl.PresignedGetObject(ctx, "thehive", key, time.Minute, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != srv.Endpoint || !strings.HasPrefix(u.EscapedPath(), "/thehive/attachments/specials/") {
		t.Errorf("presigned URL %s is not path-style on %s", u, srv.Endpoint)
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := hc.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	wantLen := int64(-1)
	for _, o := range objs {
		if o.Key == key {
			wantLen = o.Length()
		}
	}
	if resp.StatusCode != http.StatusOK || int64(len(body)) != wantLen {
		t.Errorf("path-style GET: %s, %d bytes; want 200 and %d bytes", resp.Status, len(body), wantLen)
	}

	// Wrong credentials are refused.
	bad, err := NewClient(srv.Endpoint, ak, "wrong-secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.ListBuckets(ctx); err == nil {
		t.Error("wrong secret accepted")
	} else if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" && code != "InvalidAccessKeyId" && code != "AccessDenied" {
		t.Errorf("wrong secret: code %q (%v)", code, err)
	}

	// Stop: the process is reaped and the port closed.
	pid := srv.PID
	stopStart := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	t.Logf("stopped in %s", time.Since(stopStart).Round(time.Millisecond))
	select {
	case <-srv.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("pid %d after Stop: kill(0) = %v, want ESRCH", pid, err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Errorf("%s still accepts connections after Stop", addr)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if strings.Contains(slog.String(), sk) {
		t.Error("secret key in the server's output")
	}

	// Restart through a command hook (as the lab does with `ip netns exec`;
	// here env(1), which also execs, so the PID is the server's) on the same
	// data directory: the objects are still there.
	hooked := false
	addr2 := freePort(t)
	srv2, err := Start(ctx, kind, bin, data, addr2, ak, sk, func(name string, args ...string) *exec.Cmd {
		hooked = true
		return exec.Command("/usr/bin/env", append([]string{"HOTSNAP_S3_HOOK=1", name}, args...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Stop()
	if !hooked {
		t.Error("command hook not used")
	}
	if env, err := os.ReadFile("/proc/" + strconv.Itoa(srv2.PID) + "/environ"); err != nil || !strings.Contains(string(env), "HOTSNAP_S3_HOOK=1") {
		t.Errorf("server pid %d environment lacks the hook's variable (%v)", srv2.PID, err)
	}
	cl2, err := NewClient(srv2.Endpoint, ak, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, cl2, "thehive", objs); err != nil {
		t.Errorf("after restart: %v", err)
	}
	pid2 := srv2.PID
	if err := srv2.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid2, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("pid %d after Stop: kill(0) = %v, want ESRCH", pid2, err)
	}
}
