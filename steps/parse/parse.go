// Package parse reads what nodes reply: nodetool's outputs and errors,
// Elasticsearch's and OpenSearch's JSON bodies, systemctl, df, du, date,
// PostgreSQL's and redis-cli's replies (postgres.go, redis.go) and
// TheHive's /api/status. Every parser takes the reply exactly as the node
// printed it and returns typed data, or an error that names what was being
// parsed and quotes the offending line. The parsers are tested against the
// real outputs in testdata/real-outputs (copied from
// reference/real-outputs), not against the lab's stand-ins; the package
// uses the standard library only.
package parse

// This file holds helpers shared by the parsers (nodetool.go, es.go,
// system.go).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrEmptyOutput is wrapped by every parser when the reply holds nothing but
// white space: the command printed nothing where an answer was expected.
var ErrEmptyOutput = errors.New("empty output")

// ErrUnexpectedLine is wrapped by the text parsers when a line does not fit
// the expected layout. The error text quotes the line.
var ErrUnexpectedLine = errors.New("unexpected line")

// ErrTruncated is wrapped when a reply stops before a part that is always
// printed (for example the "Total TrueDiskSpaceUsed" line of listsnapshots).
var ErrTruncated = errors.New("output looks truncated")

// lines splits text into lines without their "\r" and trailing spaces.
// Cassandra's TableBuilder pads every cell, so trailing spaces carry no
// meaning for any of the layouts parsed here.
func lines(text string) []string {
	raw := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	out := make([]string, len(raw))
	for i, l := range raw {
		out[i] = strings.TrimRight(l, " \t\r")
	}
	return out
}

// unexpected builds the error for line n (1-based) of what.
func unexpected(what string, n int, line string) error {
	return fmt.Errorf("%s: line %d: %w: %q", what, n, ErrUnexpectedLine, clip(line))
}

// isBlank reports whether text holds only white space.
func isBlank(text string) bool { return strings.TrimSpace(text) == "" }

// sizeUnits maps the size suffixes printed by Cassandra
// (FileUtils.stringifyFileSize: bytes, KiB, MiB, GiB, TiB; 2.x printed KB,
// MB...) and by Elasticsearch's _cat APIs (b, kb, mb, gb, tb, pb) to their
// byte multipliers. Both tools use powers of 1024.
var sizeUnits = map[string]float64{
	"b": 1, "bytes": 1, "byte": 1,
	"kb": 1 << 10, "kib": 1 << 10,
	"mb": 1 << 20, "mib": 1 << 20,
	"gb": 1 << 30, "gib": 1 << 30,
	"tb": 1 << 40, "tib": 1 << 40,
	"pb": 1 << 50, "pib": 1 << 50,
}

// ParseSize converts a human-readable size as printed by nodetool
// ("96.71 KiB", "0 bytes", "78,8 KiB" from a JVM with a comma-decimal
// locale) or by the Elasticsearch _cat APIs ("88.1kb", "9928b") to bytes.
// The result is rounded to the nearest byte; sizes printed with two
// decimals are therefore approximate.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("parse size: %w", ErrEmptyOutput)
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.' || t[i] == ',') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("parse size %q: no number", clip(s))
	}
	// DecimalFormat("#.##") never groups thousands, so a comma can only be
	// the decimal separator of a non-English JVM locale.
	f, err := strconv.ParseFloat(strings.Replace(num, ",", ".", 1), 64)
	if err != nil {
		return 0, fmt.Errorf("parse size %q: %w", clip(s), numErr(err))
	}
	if unit == "" {
		unit = "b"
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("parse size %q: unknown unit %q", clip(s), clip(unit))
	}
	return int64(f*mult + 0.5), nil
}

// parsePercent converts "48.8%" (or "48,8%") to 48.8.
func parsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "%") {
		return 0, fmt.Errorf("percentage %q: no %% sign", clip(s))
	}
	f, err := strconv.ParseFloat(strings.Replace(strings.TrimSuffix(t, "%"), ",", ".", 1), 64)
	if err != nil {
		return 0, fmt.Errorf("percentage %q: %w", clip(s), numErr(err))
	}
	return f, nil
}

// isUUID reports whether s has the 8-4-4-4-12 hex layout of a UUID, as
// printed for Cassandra host IDs and schema versions.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// splitList splits the inside of a Java List.toString() ("a, b, c") or a
// comma list ("a,b"), dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// maxQuoted is how much of a node's text an error quotes: a reply is
// untrusted and may hold a megabyte-long line.
const maxQuoted = 200

// clip is node text an error quotes; it prints at most maxQuoted bytes of
// it (cut on a rune boundary), then how long it was.
type clip string

// Format implements fmt.Formatter.
func (c clip) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), clipped(string(c)))
}

// clipped is s cut to maxQuoted bytes on a rune boundary, with its length.
func clipped(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// numErr is err with the number strconv quotes in it (the node's text)
// clipped, for the errors that wrap it.
func numErr(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) && len(ne.Num) > maxQuoted {
		return &strconv.NumError{Func: ne.Func, Num: clipped(ne.Num), Err: ne.Err}
	}
	return err
}
