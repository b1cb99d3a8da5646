package s3

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		n     int
		total int64
	}{
		{1, 100},
		{9, 1 << 20},
		{60, 24 << 20},
		{200, 7},
		{4, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%d", tt.n, tt.total), func(t *testing.T) {
			objs := Generate(tt.n, tt.total)
			if len(objs) != tt.n {
				t.Fatalf("got %d objects, want %d", len(objs), tt.n)
			}
			var sum int64
			seen := map[string]bool{}
			empties := 0
			for _, o := range objs {
				if seen[o.Key] {
					t.Errorf("duplicate key %q", o.Key)
				}
				seen[o.Key] = true
				if !utf8.ValidString(o.Key) || strings.HasPrefix(o.Key, "/") || strings.HasSuffix(o.Key, "/") || strings.Contains(o.Key, "//") {
					t.Errorf("key %q is not a valid file-backed S3 key", o.Key)
				}
				if o.Size < 0 {
					t.Errorf("key %q: negative size %d", o.Key, o.Size)
				}
				if o.Size == 0 {
					empties++
				}
				n, err := io.Copy(io.Discard, o.Open())
				if err != nil || n != o.Size {
					t.Errorf("key %q: Open gave %d bytes (%v), want %d", o.Key, n, err, o.Size)
				}
				sum += o.Size
			}
			if sum != tt.total {
				t.Errorf("sizes total %d, want %d", sum, tt.total)
			}
			if tt.n > emptyPattern && empties == 0 {
				t.Errorf("no empty object among %d", tt.n)
			}
			again := Generate(tt.n, tt.total)
			for i := range objs {
				if objs[i].Key != again[i].Key || objs[i].Size != again[i].Size {
					t.Fatalf("not deterministic at %d: %+v vs %+v", i, objs[i], again[i])
				}
			}
		})
	}
	if got := Generate(0, 10); got != nil {
		t.Errorf("Generate(0) = %v, want nil", got)
	}
}

func TestGenerateAwkwardKeys(t *testing.T) {
	objs := Generate(len(keyPatterns), 1000)
	all := ""
	for _, o := range objs {
		all += o.Key + "\n"
	}
	for _, want := range []string{" ", "é", "日本語", "📎", "%", "+", "&", "'", `"`, "a/b/c/d/e/f/g/h/i/j/k/"} {
		if !strings.Contains(all, want) {
			t.Errorf("no generated key contains %q:\n%s", want, all)
		}
	}
}

func TestDigest(t *testing.T) {
	small := []byte("hello attachment")
	sm := md5.Sum(small)
	ss := sha256.Sum256(small)

	big := Object{Key: "big", Size: 2*SeedPartSize + 17}
	content, err := io.ReadAll(big.Open())
	if err != nil {
		t.Fatal(err)
	}
	var partSums []byte
	for off := 0; off < len(content); off += SeedPartSize {
		end := min(off+SeedPartSize, len(content))
		p := md5.Sum(content[off:end])
		partSums = append(partSums, p[:]...)
	}
	bm := md5.Sum(partSums)
	bs := sha256.Sum256(content)

	exact := Object{Key: "exact", Size: SeedPartSize}
	exactContent, _ := io.ReadAll(exact.Open())
	em := md5.Sum(exactContent)

	tests := []struct {
		name     string
		o        Object
		sha, tag string
	}{
		{"literal", Object{Key: "x", Data: small}, hex.EncodeToString(ss[:]), hex.EncodeToString(sm[:])},
		{"empty", Object{Key: "e", Data: []byte{}}, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "d41d8cd98f00b204e9800998ecf8427e"},
		{"one part exactly", exact, "", hex.EncodeToString(em[:])},
		{"multipart", big, hex.EncodeToString(bs[:]), hex.EncodeToString(bm[:]) + "-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sha, tag, err := tt.o.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if tt.sha != "" && sha != tt.sha {
				t.Errorf("sha = %s, want %s", sha, tt.sha)
			}
			if tag != tt.tag {
				t.Errorf("etag = %s, want %s", tag, tt.tag)
			}
		})
	}
	// Generated content depends on the key, not only the size.
	a, _, _ := Object{Key: "a", Size: 64}.Digest()
	b, _, _ := Object{Key: "b", Size: 64}.Digest()
	if a == b {
		t.Error("different keys gave the same generated content")
	}
}

func TestFromFiles(t *testing.T) {
	objs := FromFiles(map[string][]byte{"b/x y": []byte("12345"), "a": nil})
	if len(objs) != 2 || objs[0].Key != "a" || objs[1].Key != "b/x y" {
		t.Fatalf("FromFiles = %+v", objs)
	}
	if objs[0].Length() != 0 || objs[0].Data == nil || objs[1].Length() != 5 {
		t.Errorf("lengths: %d %d", objs[0].Length(), objs[1].Length())
	}
}

func TestCheckLabEndpoint(t *testing.T) {
	tests := []struct {
		ep string
		ok bool
	}{
		{"127.0.0.1:9000", true},
		{"127.3.4.5:1", true},
		{"localhost:9000", true},
		{"[::1]:9000", true},
		{"10.77.0.11:9000", true},
		{"10.77.3.250:9000", true},
		{"10.78.0.1:9000", false},
		{"192.168.1.10:9000", false},
		{"8.8.8.8:443", false},
		{"s3.amazonaws.com:443", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		err := checkLabEndpoint(tt.ep)
		if (err == nil) != tt.ok {
			t.Errorf("checkLabEndpoint(%q) = %v, want ok=%v", tt.ep, err, tt.ok)
		}
		if _, err := NewClient(tt.ep, "k", "s", nil); (err == nil) != tt.ok {
			t.Errorf("NewClient(%q) = %v, want ok=%v", tt.ep, err, tt.ok)
		}
	}
}

func TestClientEndpoint(t *testing.T) {
	tests := []struct{ listen, want string }{
		{"127.0.0.1:9000", "127.0.0.1:9000"},
		{":9000", "127.0.0.1:9000"},
		{"0.0.0.0:9000", "127.0.0.1:9000"},
		{"10.77.0.11:7070", "10.77.0.11:7070"},
		{"127.0.0.1:0", ""},
		{"127.0.0.1", ""},
		{"203.0.113.5:9000", ""},
	}
	for _, tt := range tests {
		got, err := clientEndpoint(tt.listen)
		if tt.want == "" {
			if err == nil {
				t.Errorf("clientEndpoint(%q) = %q, want an error", tt.listen, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("clientEndpoint(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
}

func TestServerArgs(t *testing.T) {
	o := Options{Kind: KindVersityGW, DataDir: "/data", ListenAddr: "127.0.0.1:7070", AccessKey: "AK", SecretKey: "SK-secret"}
	args, env, err := serverArgs(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(args, " "); got != "--port 127.0.0.1:7070 --region us-east-1 posix /data" {
		t.Errorf("versitygw args = %q", got)
	}
	if strings.Contains(strings.Join(args, " "), "SK-secret") {
		t.Error("secret on the command line")
	}
	if strings.Join(env, " ") != "ROOT_ACCESS_KEY=AK ROOT_SECRET_KEY=SK-secret" {
		t.Errorf("versitygw env = %q", env)
	}
	o.Kind = KindMinIO
	args, env, err = serverArgs(o)
	if err != nil || strings.Join(args, " ") != "server /data --address 127.0.0.1:7070 --config-dir /data.minio --certs-dir /data.minio/certs --quiet" ||
		strings.Join(env, " ") != "MINIO_ROOT_USER=AK MINIO_ROOT_PASSWORD=SK-secret MINIO_SITE_REGION=us-east-1 MINIO_BROWSER=off MINIO_UPDATE=off" {
		t.Errorf("minio args %q env %q err %v", args, env, err)
	}
	o.Kind = "ceph"
	if _, _, err := serverArgs(o); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("unknown kind: err = %v", err)
	}
}

func TestReleases(t *testing.T) {
	if got := strings.Join(Kinds(), ","); got != "minio,versitygw" {
		t.Errorf("Kinds() = %s", got)
	}
	r, err := ReleaseFor(KindVersityGW)
	if err != nil || r.Version != "v1.8.0" || r.Package != "github.com/versity/versitygw/cmd/versitygw" {
		t.Errorf("versitygw release = %+v, %v", r, err)
	}
	for _, k := range Kinds() {
		r, _ := ReleaseFor(k)
		if !strings.HasPrefix(r.Package, r.Module) || strings.Contains(r.Version, "latest") || r.Version == "" {
			t.Errorf("release %s not pinned to an exact version: %+v", k, r)
		}
	}
	if _, err := ReleaseFor("seaweedfs"); err == nil {
		t.Error("unknown kind accepted")
	}
	r, err = ReleaseFor(KindMinIO)
	if err != nil || r.Version != "v0.0.0-20260212201848-7aac2a2c5b7c" || r.Package != "github.com/minio/minio" ||
		!strings.Contains(r.LDFlags, "cmd.CommitID=7aac2a2c5b7c") {
		t.Errorf("minio release = %+v, %v", r, err)
	}
	// The stamp derived from the pin is the one MinIO's release build makes.
	if want := "-X=github.com/minio/minio/cmd.Version=2026-02-12T20:18:48Z" +
		" -X=github.com/minio/minio/cmd.ReleaseTag=DEVELOPMENT.2026-02-12T20-18-48Z" +
		" -X=github.com/minio/minio/cmd.CommitID=7aac2a2c5b7c" +
		" -X=github.com/minio/minio/cmd.ShortCommitID=7aac2a2c5b7c" +
		" -X=github.com/minio/minio/cmd.CopyrightYear=2026"; r.LDFlags != want {
		t.Errorf("minio ldflags = %q, want %q", r.LDFlags, want)
	}
	p, err := BinPath(KindVersityGW, "/c")
	if err != nil || p != "/c/versitygw-v1.8.0/versitygw" {
		t.Errorf("BinPath = %q, %v", p, err)
	}
}

func TestBuildSkipsWhenPresent(t *testing.T) {
	dir := t.TempDir()
	bin, _ := BinPath(KindVersityGW, dir)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no go tool reachable: Build must not need it
	start := time.Now()
	got, err := Build(context.Background(), KindVersityGW, dir, nil)
	if err != nil || got != bin {
		t.Fatalf("Build = %q, %v; want %q", got, err, bin)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cached Build took %s", d)
	}
}

func TestBuildFailureReportsGoOutput(t *testing.T) {
	fake := t.TempDir()
	script := "#!/bin/sh\necho \"fake go: $*\" >&2\necho \"GOBIN=$GOBIN CGO_ENABLED=$CGO_ENABLED\" >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake)
	cache := t.TempDir()
	var log strings.Builder
	_, err := Build(context.Background(), KindMinIO, cache, &log)
	if err == nil {
		t.Fatal("Build with a failing go tool succeeded")
	}
	for _, want := range []string{"build minio", "install -trimpath -ldflags=-X=github.com/minio/minio/cmd.Version=", " github.com/minio/minio@v0.0.0-", "CGO_ENABLED=0", "GOBIN=" + cache} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !strings.Contains(log.String(), "fake go: install") {
		t.Errorf("log lacks the go tool's output: %q", log.String())
	}
	if bin, _ := BinPath(KindMinIO, cache); isExecutable(bin) {
		t.Error("a failed build left a binary behind")
	}
	if _, err := Build(context.Background(), "nope", cache, nil); err == nil {
		t.Error("unknown kind built")
	}
	if _, err := Build(context.Background(), KindVersityGW, "", nil); err == nil {
		t.Error("empty cache dir accepted")
	}
}

func TestBuildWaitsForLockAndHonoursContext(t *testing.T) {
	cache := t.TempDir()
	unlock, err := lockFile(context.Background(), filepath.Join(cache, ".versitygw-v1.8.0.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = Build(ctx, KindVersityGW, cache, nil)
	if err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("Build while locked = %v, want a lock wait error", err)
	}
}

func TestStartFailures(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"unknown kind", Options{Kind: "x", Bin: "/bin/true", DataDir: dir, ListenAddr: "127.0.0.1:1", AccessKey: "a", SecretKey: "s"}, "unknown"},
		{"no credentials", Options{Kind: KindVersityGW, Bin: "/bin/true", DataDir: dir, ListenAddr: "127.0.0.1:1"}, "credentials"},
		{"outside lab", Options{Kind: KindVersityGW, Bin: "/bin/true", DataDir: dir, ListenAddr: "192.0.2.1:9000", AccessKey: "a", SecretKey: "s"}, "outside"},
		{"missing binary", Options{Kind: KindVersityGW, Bin: filepath.Join(dir, "nope"), DataDir: dir, ListenAddr: "127.0.0.1:1", AccessKey: "a", SecretKey: "s"}, "nope"},
		{"exits at once", Options{Kind: KindVersityGW, Bin: "/bin/false", DataDir: dir, ListenAddr: "127.0.0.1:1", AccessKey: "a", SecretKey: "s"}, "exited before answering"},
		{"never answers", Options{Kind: KindVersityGW, Bin: "/bin/sleep", DataDir: dir, ListenAddr: "127.0.0.1:1", AccessKey: "a", SecretKey: "s",
			Command: func(string, ...string) *exec.Cmd { return exec.Command("/bin/sleep", "30") }, ReadyTimeout: 500 * time.Millisecond}, "not answering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := StartWith(context.Background(), tt.o)
			if err == nil {
				_ = s.Stop()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SK-") {
				t.Error("secret in error")
			}
		})
	}
}
