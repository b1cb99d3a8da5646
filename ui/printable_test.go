package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPrintable: escape sequences that retitle, clear or switch the screen,
// raw C0/C1 controls, DEL and invalid UTF-8 never come through; text,
// tabs and non-ASCII letters do.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text\twith a tab, é and 日本": "plain text\twith a tab, é and 日本",
		"a\x1b]0;pwned title\x07b":         "ab",
		"a\x1b]2;pwned\x1b\\b":             "ab",
		"\x1b[2J\x1b[H\x1b[?1049hscreen":   "screen",
		"\x1b[31mred\x1b[0m":               "red",
		"bell\x07 back\b cr\r nul\x00":     "bell back cr nul",
		"del\x7f c1\u009b2J":               "del c1",       // C1 CSI as UTF-8: the control goes; its parameters are text
		"bin\xff\xfe\x9bary":               "bin\uFFFDary", // a run of invalid bytes becomes one U+FFFD,
	} {
		got := Printable(in)
		if strings.HasPrefix(want, "del") {
			if strings.ContainsAny(got, "\x7f\u009b") {
				t.Errorf("Printable(%q) = %q: control left", in, got)
			}
			continue
		}
		if got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Printable(%q) = %q: not UTF-8", in, got)
		}
	}
}

// TestPlainStripsNodeText: the plain printer shows a node's line, a
// check's evidence and an error without a control sequence.
func TestPlainStripsNodeText(t *testing.T) {
	var b bytes.Buffer
	p := NewPlain(&b)
	p.StepOutput("s", "node1", "ok\x1b]0;pwned\x07\x1b[2Jdone")
	if out := b.String(); strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "okdone") {
		t.Fatalf("plain output %q", out)
	}
}

// TestJSONEscapesEveryControl: JSON lines carry node text faithfully but
// escaped: no raw C0, DEL or C1 byte reaches the writer.
func TestJSONEscapesEveryControl(t *testing.T) {
	var b bytes.Buffer
	j := NewJSON(&b)
	line := "a\x1b]0;t\x07\x7f\u009b2J\u0085é"
	j.StepOutput("s", "node1", line)
	raw := b.Bytes()
	for i, c := range raw[:len(raw)-1] {
		if c < 0x20 || c == 0x7f || c == 0xc2 && raw[i+1] >= 0x80 && raw[i+1] < 0xa0 {
			t.Fatalf("raw control %#x at %d in %q", c, i, raw)
		}
	}
	var ev struct{ Line string }
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Line != line {
		t.Fatalf("decoded %q (%v), want %q", ev.Line, err, line)
	}
}

// TestPrintableErr: an error shown by the TUI loses its control sequences
// and keeps what errors.Is finds in it.
func TestPrintableErr(t *testing.T) {
	base := errors.New("node1: tar: \x1b]0;pwned\x07bad\x1b[2J")
	err := printableErr(fmt.Errorf("step: %w", base))
	if err.Error() != "step: node1: tar: bad" || !errors.Is(err, base) || printableErr(nil) != nil {
		t.Fatalf("%q, is %v", err, errors.Is(err, base))
	}
}
