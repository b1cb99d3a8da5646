package eclecticiq

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/lab/internal/realoutput"
)

// sample returns a sample of testdata/real-outputs (the copy of
// reference/real-outputs/eclecticiq) without its provenance lines.
func sample(t *testing.T, name string) string {
	t.Helper()
	body, _, err := realoutput.Read(filepath.Join("testdata", "real-outputs", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// redisCLI runs redis-cli against port, piped (not a terminal) unless tty,
// and returns stdout, stderr and the exit status.
func redisCLI(t *testing.T, tty bool, port int, args ...string) (string, string, int) {
	t.Helper()
	argv := append([]string{"-p", strconv.Itoa(port)}, args...)
	var cmd *exec.Cmd
	if tty {
		if _, err := exec.LookPath("script"); err != nil {
			t.Skip("script(1) is not installed (util-linux)")
		}
		quoted := []string{"redis-cli"}
		for _, a := range argv {
			quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
		}
		cmd = exec.Command("script", "-qec", strings.Join(quoted, " "), "/dev/null")
	} else {
		cmd = exec.Command("redis-cli", argv...)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REDISCLI_AUTH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestRedisAnswersLikeTheSamples runs redis-cli against a Redis started
// with the lab's redis.conf and local.conf and compares its answers with
// the captured ones (reference/real-outputs/eclecticiq/redis-cli-*):
// plain values when piped, "(integer)"/"(error)" on a terminal, WRONGTYPE
// on stdout with exit 0 (on stderr with exit 1 under -e), NOAUTH with exit
// 0 against requirepass, AUTH failed on stderr with a wrong password, the
// refused connection on stderr with exit 1, BGSAVE's and INFO's shapes.
func TestRedisAnswersLikeTheSamples(t *testing.T) {
	rs := startRedis(t, "")
	p := rs.port
	if _, _, code := redisCLI(t, false, p, "RPUSH", "utilities", "a", "b", "c"); code != 0 {
		t.Fatal("RPUSH")
	}
	redisCLI(t, false, p, "SET", "queue:search:inbound", "x")
	check := func(name string, tty bool, wantCode int, onStderr bool, args ...string) {
		t.Helper()
		want := sample(t, name)
		out, errs, code := redisCLI(t, tty, p, args...)
		got := out
		if onStderr {
			got = errs
		}
		if tty {
			got = strings.ReplaceAll(got, "\r\n", "\n")
		}
		if got != want || code != wantCode {
			t.Errorf("%s: redis-cli %v = %q (exit %d), sample %q (exit %d); stderr %q", name, args, got, code, want, wantCode, errs)
		}
		if !onStderr && errs != "" && !strings.Contains(name, "wrongpass") {
			t.Errorf("%s: unexpected stderr %q", name, errs)
		}
	}
	check("redis-cli-llen-missing-piped-7.0.15.txt", false, 0, false, "LLEN", "enrichers")
	check("redis-cli-llen-tty-7.0.15.txt", true, 0, false, "LLEN", "utilities")
	check("redis-cli-llen-wrongtype-piped-7.0.15.txt", false, 0, false, "LLEN", "queue:search:inbound")
	check("redis-cli-llen-wrongtype-tty-7.0.15.txt", true, 0, false, "LLEN", "queue:search:inbound")
	check("redis-cli-e-llen-wrongtype-stderr-7.0.15.txt", false, 1, true, "-e", "LLEN", "queue:search:inbound")
	check("redis-cli-ping-piped-7.0.15.txt", false, 0, false, "PING")

	// BGSAVE, then LASTSAVE's integer; INFO persistence's fields in order,
	// lines ending in CRLF even when piped.
	want := sample(t, "redis-cli-bgsave-lastsave-7.0.15.txt")
	out, _, _ := redisCLI(t, false, p, "BGSAVE")
	last, _, _ := redisCLI(t, false, p, "LASTSAVE")
	if first, _, _ := strings.Cut(want, "\n"); out != first+"\n" || !regexp.MustCompile(`^\d{10}\n$`).MatchString(last) {
		t.Errorf("BGSAVE/LASTSAVE = %q %q, sample %q", out, last, want)
	}
	want = sample(t, "redis-cli-info-persistence-7.0.15.txt")
	out, _, _ = redisCLI(t, false, p, "INFO", "persistence")
	keys := func(s string) []string {
		var ks []string
		for _, l := range strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r", "")), "\n") {
			k, _, _ := strings.Cut(l, ":")
			ks = append(ks, k)
		}
		return ks
	}
	if !strings.Contains(out, "\r\n") || strings.Join(keys(out), ",") != strings.Join(keys(want), ",") {
		t.Errorf("INFO persistence fields:\n%v\nsample\n%v", keys(out), keys(want))
	}

	// With the lab's --auth, requirepass comes from local.conf.
	ra := startRedis(t, "lab-Secret")
	p = ra.port
	check("redis-cli-noauth-piped-7.0.15.txt", false, 0, false, "LLEN", "utilities")
	check("redis-cli-wrongpass-stderr-7.0.15.txt", false, 0, true, "-a", "wrong", "LLEN", "utilities")
	cmd := exec.Command("redis-cli", "-p", strconv.Itoa(p), "-n", strconv.Itoa(BrokerDB), "PING")
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH=lab-Secret")
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "PONG\n" {
		t.Errorf("PING with REDISCLI_AUTH: %q %v", out, err)
	}

	// Nothing listening.
	want = sample(t, "redis-cli-connection-refused-7.0.15.txt")
	free := freePort(t)
	_, errs, code := redisCLI(t, false, free, "PING")
	if errs != strings.ReplaceAll(want, "16399", strconv.Itoa(free)) || code != 1 {
		t.Errorf("refused: %q exit %d, sample %q exit 1", errs, code, want)
	}
}
