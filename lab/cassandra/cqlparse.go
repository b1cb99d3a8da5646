package cassandra

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// token kinds of the small CQL lexer.
const (
	tkIdent  = iota // unquoted identifier or keyword (lower-cased in text, original in raw)
	tkQuoted        // "quoted identifier"
	tkString        // 'string literal'
	tkNumber
	tkSymbol
	tkMarker // ?
)

type token struct {
	kind int
	text string // identifiers lower-cased; strings unescaped
	raw  string
	pos  int
}

// lexCQL splits a statement into tokens.
func lexCQL(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line 1:%d mismatched input '<EOF>'", len(s))
			}
			i += end + 4
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("line 1:%d mismatched character '<EOF>' expecting '''", len(s))
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{tkString, b.String(), s[i : j+1], i})
			i = j + 1
		case c == '"':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("line 1:%d mismatched character '<EOF>' expecting '\"'", len(s))
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{tkQuoted, b.String(), s[i : j+1], i})
			i = j + 1
		case c == '?':
			out = append(out, token{tkMarker, "?", "?", i})
			i++
		case c >= '0' && c <= '9' || (c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' || s[j] == '-' || isHexLetter(s[j])) {
				j++
			}
			out = append(out, token{tkNumber, strings.ToLower(s[i:j]), s[i:j], i})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{tkIdent, strings.ToLower(s[i:j]), s[i:j], i})
			i = j
		default:
			out = append(out, token{tkSymbol, string(c), string(c), i})
			i++
		}
	}
	return out, nil
}

func isHexLetter(c byte) bool { return c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == 'x' }

// parser walks a token list.
type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) next() *token {
	t := p.peek()
	if t != nil {
		p.i++
	}
	return t
}

// is reports whether the next tokens are the given keywords/symbols (case-insensitive).
func (p *parser) is(words ...string) bool {
	for k, w := range words {
		if p.i+k >= len(p.toks) {
			return false
		}
		t := p.toks[p.i+k]
		if (t.kind != tkIdent && t.kind != tkSymbol) || t.text != w {
			return false
		}
	}
	return true
}

// accept consumes the words if present.
func (p *parser) accept(words ...string) bool {
	if p.is(words...) {
		p.i += len(words)
		return true
	}
	return false
}

// syntaxError is rendered like Cassandra's ANTLR errors.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func (p *parser) errAt() error {
	t := p.peek()
	if t == nil {
		return &syntaxError{fmt.Sprintf("line 1:%d mismatched input '<EOF>'", len(strings.TrimRight(p.src, "; \n")))}
	}
	rest := p.src[t.pos:]
	if len(rest) > 20 {
		rest = rest[:20]
	}
	return &syntaxError{fmt.Sprintf("line 1:%d no viable alternative at input '%s' ([%s]...)", t.pos, t.raw, strings.TrimSpace(rest))}
}

func (p *parser) expect(words ...string) error {
	if !p.accept(words...) {
		return p.errAt()
	}
	return nil
}

// ident reads an identifier (quoted ones keep case).
func (p *parser) ident() (string, error) {
	t := p.peek()
	if t == nil || (t.kind != tkIdent && t.kind != tkQuoted) {
		return "", p.errAt()
	}
	p.i++
	return t.text, nil
}

// qualified reads [ks.]name, falling back to the current keyspace.
func (p *parser) qualified(current string) (ks, name string, err error) {
	a, err := p.ident()
	if err != nil {
		return "", "", err
	}
	if p.accept(".") {
		b, err := p.ident()
		if err != nil {
			return "", "", err
		}
		return a, b, nil
	}
	return current, a, nil
}

// literal reads a constant: string, number, boolean, map or set/list, returning its normalised CQL text.
func (p *parser) literal() (string, error) {
	t := p.peek()
	if t == nil {
		return "", p.errAt()
	}
	switch {
	case t.kind == tkString:
		p.i++
		return "'" + strings.ReplaceAll(t.text, "'", "''") + "'", nil
	case t.kind == tkNumber:
		p.i++
		return t.raw, nil
	case t.kind == tkIdent && (t.text == "true" || t.text == "false"):
		p.i++
		return t.text, nil
	case t.kind == tkSymbol && t.text == "{":
		m, err := p.mapLiteral()
		if err != nil {
			return "", err
		}
		return renderMap(m), nil
	}
	return "", p.errAt()
}

// mapLiteral parses {'k': v, ...} into unquoted key/value strings.
func (p *parser) mapLiteral() (map[string]string, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for !p.accept("}") {
		k := p.next()
		if k == nil || (k.kind != tkString && k.kind != tkIdent && k.kind != tkQuoted) {
			p.i--
			return nil, p.errAt()
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		v := p.next()
		if v == nil || (v.kind != tkString && v.kind != tkNumber && v.kind != tkIdent) {
			p.i--
			return nil, p.errAt()
		}
		m[k.text] = v.text
		if !p.accept(",") {
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			break
		}
	}
	return m, nil
}

// renderMap renders a text map sorted by key: {'a': 'b', 'c': 'd'}.
func renderMap(m map[string]string) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("'%s': '%s'", k, strings.ReplaceAll(m[k], "'", "''")))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// parseMapText parses a rendered map literal back into a map (best effort).
func parseMapText(s string) map[string]string {
	toks, err := lexCQL(s)
	if err != nil {
		return nil
	}
	p := &parser{src: s, toks: toks}
	m, err := p.mapLiteral()
	if err != nil {
		return nil
	}
	return m
}

// splitStatements splits a CQL script on ';' outside quotes and comments,
// returning each statement with the 1-based line it starts on.
func splitStatements(script string) (stmts []string, lines []int) {
	var cur strings.Builder
	line, start := 1, 1
	inS, inD, inLine, inBlock := false, false, false, false
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			stmts = append(stmts, strings.TrimSpace(cur.String()))
			lines = append(lines, start)
		}
		cur.Reset()
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		if strings.TrimSpace(cur.String()) == "" && c != '\n' && c != ' ' && c != '\t' && !inLine && !inBlock {
			start = line
		}
		switch {
		case inLine:
			if c == '\n' {
				inLine = false
			}
		case inBlock:
			if c == '*' && i+1 < len(script) && script[i+1] == '/' {
				inBlock = false
				i++
			}
		case inS:
			cur.WriteByte(c)
			if c == '\'' {
				inS = false
			}
		case inD:
			cur.WriteByte(c)
			if c == '"' {
				inD = false
			}
		case c == '\'':
			inS = true
			cur.WriteByte(c)
		case c == '"':
			inD = true
			cur.WriteByte(c)
		case c == '-' && i+1 < len(script) && script[i+1] == '-', c == '/' && i+1 < len(script) && script[i+1] == '/':
			inLine = true
		case c == '/' && i+1 < len(script) && script[i+1] == '*':
			inBlock = true
			i++
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
		if c == '\n' {
			line++
		}
	}
	flush()
	return stmts, lines
}
