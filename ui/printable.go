package ui

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Printable is node text made safe for the operator's terminal: escape
// sequences (CSI, OSC such as a window title, DCS …) removed, the remaining
// control characters (C0 but tab and newline, DEL, C1) dropped, and bytes
// that are not UTF-8 shown as U+FFFD. A node's reply is untrusted: a
// command may print binary junk or sequences that would retitle, clear or
// reprogram the terminal.
func Printable(s string) string {
	if isPrintable(s) {
		return s
	}
	s = ansi.Strip(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || !isControl(r) {
			return r
		}
		return -1
	}, s)
}

// isControl reports whether r is a C0 or C1 control or DEL.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

// isPrintable reports whether s needs no change (the common case: plain
// ASCII or UTF-8 text).
func isPrintable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || (isControl(r) && r != '\t' && r != '\n') {
			return false
		}
	}
	return true
}

// printable is an error whose text is Printable (it may quote a node);
// errors.Is and errors.As still see the error it wraps.
type printable struct{ err error }

func (p printable) Error() string { return Printable(p.err.Error()) }
func (p printable) Unwrap() error { return p.err }

// printableErr wraps err so that its text is Printable; nil stays nil.
func printableErr(err error) error {
	if err == nil {
		return nil
	}
	return printable{err}
}

// jsonSafeWriter escapes, in JSON text, the characters encoding/json leaves
// raw that a terminal still obeys: DEL and the C1 controls (U+0080–U+009F,
// 8-bit CSI among them). encoding/json already escapes C0 (ESC as \u001b)
// and replaces invalid UTF-8; each Encode is one Write, so no character is
// split between writes.
type jsonSafeWriter struct{ w io.Writer }

func (j jsonSafeWriter) Write(b []byte) (int, error) {
	if bytes.IndexByte(b, 0x7f) < 0 && bytes.IndexByte(b, 0xc2) < 0 {
		return j.w.Write(b)
	}
	var out bytes.Buffer
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0x7f:
			out.WriteString(`\u007f`)
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] < 0xa0:
			fmt.Fprintf(&out, `\u%04x`, b[i+1])
			i++
		default:
			out.WriteByte(b[i])
		}
	}
	if _, err := j.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

// JSONSafeWriter returns a writer for JSON lines that escapes DEL and the
// C1 controls as encoding/json escapes the C0 ones.
func JSONSafeWriter(w io.Writer) io.Writer { return jsonSafeWriter{w} }
