package eclecticiq

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab/thehive"
)

// TestMain lets the test binary be the platform's commands (through a
// symlink named like them) and the systemctl shim's supervisor.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "celery":
		os.Exit(CeleryMain(os.Args[1:]))
	case "eiq-platform":
		os.Exit(PlatformMain(os.Args[1:]))
	case "systemctl":
		os.Exit(thehive.SystemctlMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// command links the test binary as name (so TestMain runs that command)
// and returns the link.
func command(t *testing.T, name string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return link
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// redisServer is a real redis-server for a test.
type redisServer struct {
	port int
	dir  string
}

// startRedis runs redis-server with the lab's redis.conf and local.conf
// (what Files writes, with password when not empty), listening on
// 127.0.0.1 only, on a free port, with its data in a temporary directory.
func startRedis(t *testing.T, password string) *redisServer {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli is not installed (apt-get install redis-tools)")
	}
	files, err := Files(FileOptions{Hostname: "node1", NodeIP: "127.0.0.1", RedisPassword: password})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rs := &redisServer{port: freePort(t), dir: dir}
	for _, f := range files {
		switch f.Path {
		case RedisConf:
			var b strings.Builder
			for _, line := range strings.Split(string(f.Data), "\n") {
				switch {
				case strings.HasPrefix(line, "bind "):
					line = "bind 127.0.0.1"
				case strings.HasPrefix(line, "port "):
					line = "port " + strconv.Itoa(rs.port)
				case strings.HasPrefix(line, "dir "):
					line = "dir " + dir
				case strings.HasPrefix(line, "include "):
					line = "include " + filepath.Join(dir, "local.conf")
				}
				b.WriteString(line + "\n")
			}
			if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
		case "/etc/eclecticiq-redis/local.conf":
			if err := os.WriteFile(filepath.Join(dir, "local.conf"), f.Data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(server, filepath.Join(dir, "redis.conf"))
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(rs.port))
		if err == nil {
			c.Close()
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %d: %v", rs.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// url returns the broker URL of db (the password in it when set).
func (rs *redisServer) url(password string, db int) string {
	auth := ""
	if password != "" {
		auth = ":" + password + "@"
	}
	return fmt.Sprintf("redis://%s127.0.0.1:%d/%d", auth, rs.port, db)
}

// broker connects to the broker database (closed when the test ends).
func (rs *redisServer) broker(t *testing.T, password string) *Broker {
	t.Helper()
	b, err := OpenBroker(testCtx(t), rs.url(password, BrokerDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// platformOnRedis starts a Redis with password (may be empty), writes the
// platform's settings naming it, points the stand-ins at a fresh knob
// directory, and returns a broker client and that directory.
func platformOnRedis(t *testing.T, password string) (context.Context, *Broker, string) {
	t.Helper()
	rs := startRedis(t, password)
	settings(t, rs.url(password, BrokerDB), "postgresql://eclecticiq@127.0.0.1:1/eclecticiq", "http://127.0.0.1:1")
	return testCtx(t), rs.broker(t, password), knobsDir(t)
}

// settings writes a platform_settings.py naming the broker and points
// $EIQ_PLATFORM_SETTINGS at it.
func settings(t *testing.T, broker, dbURI, search string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "platform_settings.py")
	body := fmt.Sprintf("SQLALCHEMY_DATABASE_URI = %q\nREDIS_URL = %q\nCELERY_BROKER_URL = REDIS_URL\nSEARCH_URL = %q\n", dbURI, broker, search)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(SettingsEnv, p)
	return p
}

// knobsDir points the stand-ins at a fresh knob directory.
func knobsDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Setenv(KnobDirEnv, d)
	return d
}

func setKnob(t *testing.T, dir, name, value string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lines reads a process's output line by line into a channel.
func lines(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	ch := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

func waitLine(t *testing.T, ch <-chan string, substr string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("output ended before %q", substr)
			}
			if strings.Contains(l, substr) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line with %q after %s", substr, timeout)
		}
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
