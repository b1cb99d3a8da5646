package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

// TestE2EExecReplyBounded: what a node prints neither exhausts hotsnap's
// memory nor reaches the operator's terminal unfiltered.
func TestE2EExecReplyBounded(t *testing.T) {
	l := needLab(t)

	// 2 GiB in lines of 1000 bytes: the last 1 MiB is shown, the rest
	// counted, and hotsnap's peak RSS stays flat.
	t.Run("2 GiB", func(t *testing.T) {
		gen := `yes "$(head -c 999 /dev/zero | tr '\0' x)" | head -c 2147483648`
		cmd := hotsnapInOp(t.Context(), l, "exec", "--nodes", "node1", "--", gen)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v\n%.2000s", err, out)
		}
		maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
		t.Logf("2 GiB from node1: %d bytes shown, hotsnap peak RSS %.1f MB", len(out), float64(maxRSS)/(1<<20))
		if !strings.Contains(string(out), "earlier lines not kept; use --out DIR to keep everything]") || len(out) < 1<<20 || len(out) > 1<<20+64<<10 {
			t.Errorf("%d bytes shown, want the last 1 MiB and the count of the lines not kept:\n%.500s", len(out), out)
		}
		if maxRSS > 64<<20 {
			t.Errorf("peak RSS %d MB for 2 GiB of output, want < 64 MB", maxRSS>>20)
		}
	})

	// Binary bytes and sequences that would retitle the terminal (OSC 0 and
	// 2), clear it (CSI 2J, 3J), switch to the alternate screen, or do so
	// through the 8-bit CSI (U+009B).
	const script = `printf 'ok-start\033]0;pwned-title\007\033[2J\033[3J\033[?1049h\302\233Hcsi\377\376bin\000nul\177del\r\nok-end\n'; printf 'on-stderr\033]2;pwned\007\n' >&2`
	bad := func(out []byte) string {
		switch {
		case !utf8.Valid(out):
			return "invalid UTF-8"
		case bytes.ContainsAny(out, "\x1b\x07\x00\r\x7f"):
			return "a raw control character"
		case bytes.Contains(out, []byte("\u009b")):
			return "a raw C1 control"
		}
		return ""
	}
	t.Run("escapes and binary, human", func(t *testing.T) {
		out, err := hotsnapInOp(t.Context(), l, "exec", "--nodes", "node1", "--", script).Output()
		if err != nil {
			t.Fatalf("%v\n%q", err, out)
		}
		if why := bad(out); why != "" {
			t.Errorf("the output holds %s: %q", why, out)
		}
		for _, want := range []string{"ok-start", "Hcsi", "bin", "nul", "del", "ok-end", "on-stderr"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the output lacks the text %q: %q", want, out)
			}
		}
		if strings.Contains(string(out), "pwned") {
			t.Errorf("an OSC title's text came through: %q", out)
		}
	})
	t.Run("escapes and binary, JSON", func(t *testing.T) {
		out, err := hotsnapInOp(t.Context(), l, "exec", "--json", "--nodes", "node1", "--", script).Output()
		if err != nil {
			t.Fatalf("%v\n%q", err, out)
		}
		if why := bad(bytes.TrimSuffix(out, []byte("\n"))); why != "" {
			t.Errorf("the JSON holds %s: %q", why, out)
		}
		var rec execRecord
		if err := json.Unmarshal(out, &rec); err != nil {
			t.Fatal(err)
		}
		// Escaped, not lost: the JSON carries what the node printed.
		if !strings.Contains(rec.Stdout, "ok-start\x1b]0;pwned-title\x07\x1b[2J") || !strings.Contains(rec.Stdout, "\u009bHcsi") || !strings.Contains(rec.Stderr, "on-stderr\x1b]2;pwned\x07") {
			t.Errorf("the JSON does not carry the node's bytes: stdout %q, stderr %q", rec.Stdout, rec.Stderr)
		}
	})
}
