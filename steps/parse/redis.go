package parse

// This file parses redis-cli's replies. Piped, redis-cli prints raw
// replies and an error reply as its text followed by an empty line, with
// exit status 0 (samples redis-cli-*-piped); hotsnap sends its commands
// with --no-raw, so that every reply is one line and errors are marked
// "(error) …" as on a terminal. Both forms are read.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RedisError is an error reply ("WRONGTYPE Operation against a key …",
// "NOAUTH Authentication required.").
type RedisError struct {
	Code string // WRONGTYPE, NOAUTH, ERR, WRONGPASS, LOADING …
	Msg  string // the whole reply
}

func (e *RedisError) Error() string { return "redis: " + e.Msg }

var redisErrRE = regexp.MustCompile(`^(?:\(error\) )?([A-Z][A-Z_]+) (.*)$`)

// redisErrCodes are the reply prefixes Redis uses for errors.
var redisErrCodes = map[string]bool{"ERR": true, "WRONGTYPE": true, "NOAUTH": true, "WRONGPASS": true, "NOPERM": true,
	"LOADING": true, "BUSY": true, "MISCONF": true, "READONLY": true, "OOM": true, "EXECABORT": true, "NOSCRIPT": true,
	"MOVED": true, "ASK": true, "CLUSTERDOWN": true, "MASTERDOWN": true, "NOREPLICAS": true}

// redisReplyError returns the error a reply line is, or nil.
func redisReplyError(l string) *RedisError {
	if rest, ok := strings.CutPrefix(l, "(error) "); ok {
		code, _, _ := strings.Cut(rest, " ")
		return &RedisError{Code: code, Msg: rest}
	}
	if m := redisErrRE.FindStringSubmatch(l); m != nil && redisErrCodes[m[1]] {
		return &RedisError{Code: m[1], Msg: l}
	}
	return nil
}

// RedisReplies splits redis-cli's output of n commands into their n reply
// lines, each of which must not be an error. The empty line redis-cli
// prints after an error reply in raw mode is dropped.
func RedisReplies(out string, n int) ([]string, error) {
	var replies []string
	ls := lines(out)
	for len(ls) > 0 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		if e := redisReplyError(l); e != nil {
			return nil, e
		}
		replies = append(replies, l)
	}
	if len(replies) != n {
		return nil, fmt.Errorf("redis-cli: %d replies for %d commands: %w", len(replies), n, ErrUnexpectedLine)
	}
	return replies, nil
}

// ParseRedisInteger reads an integer reply: "3" piped, "(integer) 3" on a
// terminal or with --no-raw. An error reply is a *RedisError.
func ParseRedisInteger(reply string) (int64, error) {
	l := strings.TrimSpace(reply)
	if e := redisReplyError(l); e != nil {
		return 0, e
	}
	l = strings.TrimPrefix(l, "(integer) ")
	n, err := strconv.ParseInt(l, 10, 64)
	if err != nil {
		if l == "" {
			return 0, fmt.Errorf("redis-cli: integer reply: %w", ErrEmptyOutput)
		}
		return 0, fmt.Errorf("redis-cli: not an integer reply: %w: %q", ErrUnexpectedLine, clip(l))
	}
	return n, nil
}

// Redis key types, as TYPE replies them.
var redisTypes = map[string]bool{"none": true, "string": true, "list": true, "set": true, "zset": true, "hash": true, "stream": true}

// ParseRedisType reads a TYPE reply ("list", "hash", "none" …).
func ParseRedisType(reply string) (string, error) {
	l := strings.TrimSpace(reply)
	if e := redisReplyError(l); e != nil {
		return "", e
	}
	if !redisTypes[l] {
		return "", fmt.Errorf("redis-cli: TYPE: %w: %q", ErrUnexpectedLine, clip(l))
	}
	return l, nil
}

// ParseRedisPing reads PING's reply: PONG, or the error (NOAUTH without
// the password, exit status 0: sample redis-cli-noauth-piped).
func ParseRedisPing(out string) error {
	ls := lines(strings.TrimSpace(out))
	if len(ls) == 0 || ls[0] == "" {
		return fmt.Errorf("redis-cli PING: %w", ErrEmptyOutput)
	}
	if e := redisReplyError(ls[0]); e != nil {
		return e
	}
	if ls[0] != "PONG" {
		return fmt.Errorf("redis-cli PING: %w: %q", ErrUnexpectedLine, clip(ls[0]))
	}
	return nil
}

// ParseRedisInfo reads an INFO reply (lines end in CRLF even piped) into
// its fields; "# Section" lines are skipped.
func ParseRedisInfo(out string) (map[string]string, error) {
	m := map[string]string{}
	for _, l := range lines(out) {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if e := redisReplyError(l); e != nil {
			return nil, e
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("redis-cli INFO: %w: %q", ErrUnexpectedLine, clip(l))
		}
		m[k] = v
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("redis-cli INFO: %w", ErrEmptyOutput)
	}
	return m, nil
}

// RedisArg quotes s as one argument of a command line redis-cli reads
// from its standard input (sdssplitargs: double quotes with \xHH
// escapes), so that kombu's priority lists ("q\x06\x163") and any other
// byte reach the server unchanged.
func RedisArg(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// RedisKeyText renders a key for people: bytes that are not printable as
// \xHH ("utilities\x06\x163").
func RedisKeyText(s string) string {
	q := RedisArg(s)
	q = q[1 : len(q)-1]
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(q)
}
