// Package s3 runs a real S3 server for the practice lab: versitygw (default)
// or MinIO, built from the Go module proxy at pinned versions into a local
// cache, started and stopped by PID, and seeded with TheHive-like attachment
// objects through github.com/minio/minio-go/v7.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Server kinds understood by Build and Start.
const (
	// KindVersityGW is the Versity S3 gateway with its posix backend (the default).
	KindVersityGW = "versitygw"
	// KindMinIO is the MinIO server.
	KindMinIO = "minio"
)

// Release pins one S3 server build: the main package installed with
// `go install Package@Version`.
type Release struct {
	// Kind is KindVersityGW or KindMinIO.
	Kind string
	// Module is the Go module path.
	Module string
	// Package is the main package path inside Module.
	Package string
	// Version is the exact module version (the proxy refuses @latest for some modules).
	Version string
	// Binary is the name of the installed executable.
	Binary string
	// LDFlags are passed to the linker (-ldflags), e.g. to stamp the version.
	LDFlags string
	// Note records what is known about this release building here (how
	// long its first build takes), for the lab's log.
	Note string
}

// releases holds the pinned versions. versitygw v1.8.0 builds with Go 1.26.8
// (go.mod says go 1.25.0). MinIO has no tagged module versions; the pin is the
// pseudo-version of commit 7aac2a2c5b7c (2026-02-12T20:18:48Z), which the Go
// module proxy serves. Its first build here takes about 3 minutes on 2 cores
// (218 modules to fetch and compile), later ones reuse the Go build cache. The
// linker stamps the commit and date, as MinIO's own release build does
// (buildscripts/gen-ldflags.go), so `minio --version` says what it is instead
// of DEVELOPMENT.GOGET.
var releases = map[string]Release{
	KindVersityGW: {
		Kind:    KindVersityGW,
		Module:  "github.com/versity/versitygw",
		Package: "github.com/versity/versitygw/cmd/versitygw",
		Version: "v1.8.0",
		Binary:  "versitygw",
		LDFlags: "-X=main.Version=v1.8.0 -X=main.Build=proxy",
		Note:    "first build about a minute on 2 cores; builds with Go 1.26.8",
	},
	KindMinIO: {
		Kind:    KindMinIO,
		Module:  "github.com/minio/minio",
		Package: "github.com/minio/minio",
		Version: minioVersion,
		Binary:  "minio",
		LDFlags: "-X=github.com/minio/minio/cmd.Version=" + minioTime +
			" -X=github.com/minio/minio/cmd.ReleaseTag=DEVELOPMENT." + strings.ReplaceAll(minioTime, ":", "-") +
			" -X=github.com/minio/minio/cmd.CommitID=" + minioCommit +
			" -X=github.com/minio/minio/cmd.ShortCommitID=" + minioCommit +
			" -X=github.com/minio/minio/cmd.CopyrightYear=" + minioTime[:4],
		Note: "first build about 3 minutes on 2 cores (go install from the module proxy)",
	},
}

// The MinIO pin: commit minioCommit, committed at minioTime; minioVersion
// is the Go pseudo-version the two make.
const (
	minioCommit = "7aac2a2c5b7c"
	minioTime   = "2026-02-12T20:18:48Z"
)

var minioVersion = "v0.0.0-" + strings.NewReplacer("-", "", "T", "", ":", "", "Z", "").Replace(minioTime) + "-" + minioCommit

// Kinds returns the server kinds Build and Start accept, sorted.
func Kinds() []string {
	out := make([]string, 0, len(releases))
	for k := range releases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReleaseFor returns the pinned release for kind.
func ReleaseFor(kind string) (Release, error) {
	r, ok := releases[kind]
	if !ok {
		return Release{}, fmt.Errorf("s3 server kind %q: unknown (want one of %s)", kind, strings.Join(Kinds(), ", "))
	}
	return r, nil
}

// BinPath returns where Build puts the binary of kind under cacheDir:
// cacheDir/<kind>-<version>/<binary>.
func BinPath(kind, cacheDir string) (string, error) {
	r, err := ReleaseFor(kind)
	if err != nil {
		return "", err
	}
	return filepath.Join(cacheDir, r.Kind+"-"+r.Version, r.Binary), nil
}

// DefaultCacheDir returns a stable build cache for the S3 server binaries:
// $HOTSNAP_S3_CACHE if set, else "hotsnap-s3" beside the Go build cache
// (`go env GOCACHE`/..), else the user cache directory.
func DefaultCacheDir(ctx context.Context) (string, error) {
	if d := os.Getenv("HOTSNAP_S3_CACHE"); d != "" {
		return d, nil
	}
	if goBin, err := goCommand(); err == nil {
		out, err := exec.CommandContext(ctx, goBin, "env", "GOCACHE").Output()
		if gc := strings.TrimSpace(string(out)); err == nil && gc != "" && gc != "off" {
			return filepath.Join(filepath.Dir(gc), "hotsnap-s3"), nil
		}
	}
	uc, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("s3 build cache directory: %w", err)
	}
	return filepath.Join(uc, "hotsnap-s3"), nil
}

// goCommand finds the go tool: on PATH, else the usual install location.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	const fallback = "/usr/local/go/bin/go"
	if st, err := os.Stat(fallback); err == nil && !st.IsDir() {
		return fallback, nil
	}
	return "", errors.New("go tool not found on PATH or at /usr/local/go/bin/go")
}

// Build installs the pinned release of kind into cacheDir/<kind>-<version>/
// with `go install <package>@<version>` (CGO_ENABLED=0, so the binary runs in
// any mount namespace) and returns the binary's path. It does nothing when
// the binary is already there. Concurrent Builds of the same release (other
// test processes) wait for each other on a lock file. The go tool's output
// goes to log (nil discards it); its tail is also in the error on failure.
func Build(ctx context.Context, kind string, cacheDir string, log io.Writer) (binPath string, err error) {
	r, err := ReleaseFor(kind)
	if err != nil {
		return "", err
	}
	if log == nil {
		log = io.Discard
	}
	if cacheDir == "" {
		return "", fmt.Errorf("build %s %s: empty cache directory", r.Kind, r.Version)
	}
	abs, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", fmt.Errorf("build %s %s: cache directory %q: %w", r.Kind, r.Version, cacheDir, err)
	}
	dir := filepath.Join(abs, r.Kind+"-"+r.Version)
	bin := filepath.Join(dir, r.Binary)
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("build %s %s: %w", r.Kind, r.Version, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(abs, "."+r.Kind+"-"+r.Version+".lock"))
	if err != nil {
		return "", fmt.Errorf("build %s %s: %w", r.Kind, r.Version, err)
	}
	defer unlock()
	if isExecutable(bin) { // another process built it while we waited
		return bin, nil
	}

	goBin, err := goCommand()
	if err != nil {
		return "", fmt.Errorf("build %s %s: %w", r.Kind, r.Version, err)
	}
	tmp, err := os.MkdirTemp(abs, ".build-"+r.Kind+"-")
	if err != nil {
		return "", fmt.Errorf("build %s %s: %w", r.Kind, r.Version, err)
	}
	defer os.RemoveAll(tmp)

	args := []string{"install", "-trimpath"}
	if r.LDFlags != "" {
		args = append(args, "-ldflags="+r.LDFlags)
	}
	args = append(args, r.Package+"@"+r.Version)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = tmp // outside any module: `go install pkg@version` ignores it anyway
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = io.MultiWriter(log, tail)
	fmt.Fprintf(log, "building %s %s: go %s\n", r.Kind, r.Version, strings.Join(args, " "))
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("build %s %s: %w", r.Kind, r.Version, ctx.Err())
		}
		return "", fmt.Errorf("build %s %s (go install %s@%s): %w\n%s",
			r.Kind, r.Version, r.Package, r.Version, err, strings.TrimSpace(tail.String()))
	}
	built := filepath.Join(tmp, r.Binary)
	if !isExecutable(built) {
		return "", fmt.Errorf("build %s %s: go install succeeded but %s is missing", r.Kind, r.Version, built)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s %s: %w", r.Kind, r.Version, err)
	}
	if err := os.Rename(built, bin); err != nil {
		return "", fmt.Errorf("build %s %s: install binary: %w", r.Kind, r.Version, err)
	}
	fmt.Fprintf(log, "built %s %s in %s: %s\n", r.Kind, r.Version, time.Since(start).Round(100*time.Millisecond), bin)
	return bin, nil
}

// isExecutable reports whether path is a non-empty regular file with an execute bit.
func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0 && st.Mode().Perm()&0o111 != 0
}

// lockFile takes an exclusive flock on path, polling so ctx can cancel the wait.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tailBuffer keeps the last max bytes written to it. It is safe for the
// concurrent writes of a command's stdout and stderr copiers.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

// Write appends p, dropping the oldest bytes beyond max.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; t.max > 0 && over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

// String returns the kept bytes.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
