package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPlatformConfSize bounds a platform configuration file given to the
// readers of this file.
const MaxPlatformConfSize = 1 << 20

// PyValue is the value of one top-level assignment of a Python settings
// file.
type PyValue struct {
	// Text is the value: a string literal's content, a number, True, False
	// or None as written. Empty when Known is false.
	Text string
	// Known is false for expressions the reader does not evaluate (calls,
	// f-strings, dicts, names assigned nothing known...).
	Known bool
	// Line and Col are the 1-based position of the assigned name.
	Line, Col int
}

// PythonSettings holds the simple top-level assignments of a Python
// settings file (EclecticIQ's platform_settings.py). The file is never
// executed: string literals (adjacent ones concatenated, "+" between
// known strings too), numbers, True/False/None and names assigned earlier
// are evaluated; anything else is recorded as not Known.
type PythonSettings struct {
	// File is the name given to ParsePythonSettings.
	File string
	// Values maps each assigned name to its last value.
	Values map[string]PyValue
}

// Get returns the known value of name.
func (s *PythonSettings) Get(name string) (string, bool) {
	v, ok := s.Values[name]
	if !ok || !v.Known {
		return "", false
	}
	return v.Text, true
}

// pyToken is one lexical token of a logical line.
type pyToken struct {
	kind      byte // 's' string, 'n' name, '0' number, 'o' operator
	text      string
	fstring   bool
	line, col int
}

// pyLexer splits a Python file into logical lines of tokens.
type pyLexer struct {
	file      string
	data      string
	i         int
	line, col int
}

func (lx *pyLexer) errorf(line, col int, format string, args ...any) *Error {
	return &Error{File: lx.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (lx *pyLexer) peek(k int) byte {
	if lx.i+k < len(lx.data) {
		return lx.data[lx.i+k]
	}
	return 0
}

func (lx *pyLexer) advance(n int) {
	for ; n > 0 && lx.i < len(lx.data); n-- {
		if lx.data[lx.i] == '\n' {
			lx.line, lx.col = lx.line+1, 1
			lx.i++
			continue
		}
		_, size := utf8.DecodeRuneInString(lx.data[lx.i:])
		lx.i += size
		lx.col++
	}
}

// logicalLine returns the tokens of the next logical line (brackets and
// backslashes join physical lines), whether it began at column 1, and
// io-like done=true at the end of input.
func (lx *pyLexer) logicalLine() (toks []pyToken, indented bool, done bool, err *Error) {
	var depth []pyToken // open brackets
	first := true
	for {
		if lx.i >= len(lx.data) {
			if len(depth) > 0 {
				b := depth[len(depth)-1]
				return nil, false, true, lx.errorf(b.line, b.col, "%q is never closed", b.text)
			}
			return toks, indented, len(toks) == 0, nil
		}
		c := lx.data[lx.i]
		switch {
		case c == '\n':
			lx.advance(1)
			if len(depth) == 0 && len(toks) > 0 {
				return toks, indented, false, nil
			}
			first = true
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			if first && len(toks) == 0 && len(depth) == 0 {
				indented = true
			}
			lx.advance(1)
			continue
		case c == '#':
			for lx.i < len(lx.data) && lx.data[lx.i] != '\n' {
				lx.advance(1)
			}
			continue
		case c == '\\' && lx.peek(1) == '\n':
			lx.advance(2)
			continue
		}
		if first && len(toks) == 0 && len(depth) == 0 && lx.col > 1 {
			indented = true
		}
		first = false
		line, col := lx.line, lx.col
		// String literal, with an optional prefix (r, b, f, u, rb, fr...).
		if p := lx.stringPrefixLen(); p >= 0 {
			prefix := strings.ToLower(lx.data[lx.i : lx.i+p])
			lx.advance(p)
			s, serr := lx.stringLiteral(strings.Contains(prefix, "r"), line, col)
			if serr != nil {
				return nil, false, true, serr
			}
			toks = append(toks, pyToken{kind: 's', text: s, fstring: strings.Contains(prefix, "f"), line: line, col: col})
			continue
		}
		r, size := utf8.DecodeRuneInString(lx.data[lx.i:])
		switch {
		case r == '_' || unicode.IsLetter(r):
			j := lx.i
			for j < len(lx.data) {
				r2, s2 := utf8.DecodeRuneInString(lx.data[j:])
				if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j += s2
			}
			toks = append(toks, pyToken{kind: 'n', text: lx.data[lx.i:j], line: line, col: col})
			lx.advance(utf8.RuneCountInString(lx.data[lx.i:j]))
		case unicode.IsDigit(r) || (r == '.' && unicode.IsDigit(rune(lx.peek(1)))):
			j := lx.i
			for j < len(lx.data) && (isAlnum(lx.data[j]) || lx.data[j] == '.' || lx.data[j] == '_') {
				j++
			}
			toks = append(toks, pyToken{kind: '0', text: lx.data[lx.i:j], line: line, col: col})
			lx.advance(j - lx.i)
		case strings.ContainsRune("([{", r):
			t := pyToken{kind: 'o', text: string(r), line: line, col: col}
			depth = append(depth, t)
			toks = append(toks, t)
			lx.advance(1)
		case strings.ContainsRune(")]}", r):
			want := map[rune]string{')': "(", ']': "[", '}': "{"}[r]
			if len(depth) == 0 || depth[len(depth)-1].text != want {
				return nil, false, true, lx.errorf(line, col, "unbalanced %q", string(r))
			}
			depth = depth[:len(depth)-1]
			toks = append(toks, pyToken{kind: 'o', text: string(r), line: line, col: col})
			lx.advance(1)
		case r == '=' && lx.peek(1) == '=':
			toks = append(toks, pyToken{kind: 'o', text: "==", line: line, col: col})
			lx.advance(2)
		case r == utf8.RuneError && size <= 1:
			return nil, false, true, lx.errorf(line, col, "invalid UTF-8")
		default:
			toks = append(toks, pyToken{kind: 'o', text: string(r), line: line, col: col})
			lx.advance(1)
		}
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// stringPrefixLen returns the length of a string prefix at the cursor when
// a string literal starts there, else -1.
func (lx *pyLexer) stringPrefixLen() int {
	for p := 0; p <= 2; p++ {
		q := lx.peek(p)
		if q == '"' || q == '\'' {
			if p > 0 && lx.i > 0 && (isAlnum(lx.data[lx.i-1]) || lx.data[lx.i-1] == '_') {
				return -1
			}
			return p
		}
		if !strings.ContainsRune("rRbBfFuU", rune(q)) || q == 0 {
			return -1
		}
	}
	return -1
}

// stringLiteral reads a quoted literal at the cursor (after its prefix).
func (lx *pyLexer) stringLiteral(raw bool, line, col int) (string, *Error) {
	q := lx.data[lx.i]
	triple := lx.peek(1) == q && lx.peek(2) == q
	n := 1
	if triple {
		n = 3
	}
	lx.advance(n)
	var b strings.Builder
	for {
		if lx.i >= len(lx.data) {
			return "", lx.errorf(line, col, "string literal is never closed")
		}
		c := lx.data[lx.i]
		switch {
		case c == q && (!triple || (lx.peek(1) == q && lx.peek(2) == q)):
			lx.advance(n)
			return b.String(), nil
		case c == '\n' && !triple:
			return "", lx.errorf(line, col, "string literal is never closed on its line")
		case c == '\\' && lx.i+1 < len(lx.data):
			e := lx.data[lx.i+1]
			if raw {
				b.WriteByte('\\')
				b.WriteByte(e)
				lx.advance(2)
				continue
			}
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			lx.advance(2)
		default:
			r, size := utf8.DecodeRuneInString(lx.data[lx.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", lx.errorf(lx.line, lx.col, "invalid UTF-8")
			}
			b.WriteString(lx.data[lx.i : lx.i+size])
			lx.advance(1)
		}
	}
}

// ParsePythonSettings reads the top-level assignments of a Python settings
// file without executing it. Syntax problems the reader cannot skip (an
// unterminated string, an unbalanced bracket, invalid UTF-8) are *Error
// values with file:line:col.
func ParsePythonSettings(file string, data []byte) (*PythonSettings, error) {
	if len(data) > MaxPlatformConfSize {
		return nil, &Error{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf("file is larger than %d bytes", MaxPlatformConfSize)}
	}
	s := &PythonSettings{File: file, Values: map[string]PyValue{}}
	lx := &pyLexer{file: file, data: string(data), line: 1, col: 1}
	for {
		toks, indented, done, err := lx.logicalLine()
		if err != nil {
			return nil, err
		}
		if done {
			return s, nil
		}
		if indented || len(toks) < 2 || toks[0].kind != 'n' {
			continue
		}
		// NAME = value, or NAME: annotation = value.
		eq := -1
		switch {
		case toks[1].kind == 'o' && toks[1].text == "=":
			eq = 1
		case toks[1].kind == 'o' && toks[1].text == ":":
			for i := 2; i < len(toks); i++ {
				if toks[i].kind == 'o' && toks[i].text == "=" {
					eq = i
					break
				}
			}
		}
		if eq < 0 || isPyKeyword(toks[0].text) {
			continue
		}
		text, known := s.eval(toks[eq+1:])
		s.Values[toks[0].text] = PyValue{Text: text, Known: known, Line: toks[0].line, Col: toks[0].col}
	}
}

func isPyKeyword(s string) bool {
	switch s {
	case "if", "elif", "else", "for", "while", "def", "class", "with", "try", "except", "finally",
		"import", "from", "return", "global", "nonlocal", "del", "assert", "pass", "raise", "lambda":
		return true
	}
	return false
}

// eval evaluates a value expression: literals, earlier names, "+"-joined or
// adjacent strings. Anything else is unknown.
func (s *PythonSettings) eval(toks []pyToken) (string, bool) {
	// A parenthesised expression: ("a" "b").
	for len(toks) >= 2 && toks[0].text == "(" && toks[0].kind == 'o' && toks[len(toks)-1].text == ")" && toks[len(toks)-1].kind == 'o' {
		depth := 0
		whole := true
		for i, t := range toks {
			if t.kind == 'o' && strings.ContainsAny(t.text, "([{") {
				depth++
			} else if t.kind == 'o' && strings.ContainsAny(t.text, ")]}") {
				depth--
				if depth == 0 && i != len(toks)-1 {
					whole = false
				}
			}
		}
		if !whole {
			break
		}
		toks = toks[1 : len(toks)-1]
	}
	if len(toks) == 0 {
		return "", false
	}
	if len(toks) == 1 {
		switch t := toks[0]; t.kind {
		case '0':
			return t.text, true
		case 'n':
			switch t.text {
			case "True", "False", "None":
				return t.text, true
			}
			return s.Get(t.text)
		}
	}
	var b strings.Builder
	wantOperand := true
	for _, t := range toks {
		switch {
		case t.kind == 's' && !t.fstring:
			b.WriteString(t.text)
			wantOperand = false
		case t.kind == 'n' && wantOperand:
			v, ok := s.Values[t.text]
			if !ok || !v.Known {
				return "", false
			}
			b.WriteString(v.Text)
			wantOperand = false
		case t.kind == 'o' && t.text == "+" && !wantOperand:
			wantOperand = true
		default:
			return "", false
		}
	}
	if wantOperand {
		return "", false
	}
	return b.String(), true
}

// PostgresDSN is a PostgreSQL connection string taken apart. The password
// is never kept, only whether one is written.
type PostgresDSN struct {
	Host     string
	Port     int
	Database string
	User     string
	// HasPassword is true when the DSN carries a password.
	HasPassword bool
}

// ParsePostgresDSN parses a postgresql:// URL (SQLAlchemy's
// postgresql+driver:// too) or a libpq keyword string ("host=… port=…").
// Host defaults to localhost and port to 5432. Errors never quote the
// password.
func ParsePostgresDSN(dsn string) (PostgresDSN, error) {
	d := PostgresDSN{Host: "localhost", Port: 5432}
	dsn = strings.TrimSpace(dsn)
	scheme, rest, isURL := strings.Cut(dsn, "://")
	if isURL {
		if !strings.HasPrefix(scheme, "postgres") {
			return d, fmt.Errorf("database URL scheme %q is not postgresql", scheme)
		}
		hostPart, path, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(hostPart, "@"); at >= 0 {
			userinfo := hostPart[:at]
			hostPart = hostPart[at+1:]
			user, _, hasPw := strings.Cut(userinfo, ":")
			d.User, d.HasPassword = pctDecode(user), hasPw
		}
		db, query, _ := strings.Cut(path, "?")
		d.Database = pctDecode(db)
		if hostPart != "" {
			h, p, err := splitHostPortDefault(hostPart)
			if err != nil {
				return d, fmt.Errorf("database URL host %q: %w", hostPart, err)
			}
			d.Host = h
			if p != 0 {
				d.Port = p
			}
		}
		for kv := range strings.SplitSeq(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "host":
				d.Host = pctDecode(v)
			case "port":
				p, err := strconv.Atoi(v)
				if err != nil || p < 1 || p > 65535 {
					return d, fmt.Errorf("database URL port %q is not a port number", v)
				}
				d.Port = p
			case "user":
				d.User = pctDecode(v)
			case "dbname":
				d.Database = pctDecode(v)
			}
		}
		return d, nil
	}
	if !strings.Contains(dsn, "=") {
		return d, fmt.Errorf("not a postgresql:// URL nor a key=value connection string")
	}
	for _, f := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(f, "=")
		v = strings.Trim(v, "'")
		switch k {
		case "host":
			d.Host = v
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return d, fmt.Errorf("port %q is not a port number", v)
			}
			d.Port = p
		case "dbname":
			d.Database = v
		case "user":
			d.User = v
		case "password":
			d.HasPassword = true
		}
	}
	return d, nil
}

// pctDecode decodes %XX escapes, leaving malformed ones as they are.
func pctDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitHostPortDefault splits "host", "host:port", "[v6]" or "[v6]:port";
// port 0 means none was written.
func splitHostPortDefault(s string) (string, int, error) {
	host, portStr := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, fmt.Errorf("unclosed '['")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", 0, fmt.Errorf("junk after ']'")
			}
			portStr = rest[1:]
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		host, portStr = s[:i], s[i+1:]
	}
	if host == "" {
		return "", 0, fmt.Errorf("empty host")
	}
	if portStr == "" {
		return host, 0, nil
	}
	p, err := strconv.Atoi(portStr)
	if err != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("port %q is not a port number", portStr)
	}
	return host, p, nil
}
