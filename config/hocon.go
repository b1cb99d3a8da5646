package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The reader below covers the HOCON that TheHive's application.conf uses
// (github.com/gurkankaymak/hocon v1.2.23 rejects TheHive's own docker
// configuration at `scalligraph.modules += org.thp...CortexModule`).

// Limits that keep hostile input from exhausting the parser.
const (
	// MaxHOCONSize bounds the size of one HOCON file (root or included).
	MaxHOCONSize = 1 << 20
	// maxHOCONDepth bounds the nesting of objects and lists.
	maxHOCONDepth = 100
	// maxIncludeDepth bounds include nesting.
	maxIncludeDepth = 16
	// maxIncludes bounds the number of files read through includes.
	maxIncludes = 64
	// maxResolveWork bounds the values created while resolving substitutions.
	maxResolveWork = 1 << 20
)

// HOCONOptions tells ParseHOCON where substitutions and includes come from.
type HOCONOptions struct {
	// Env holds the environment used by ${VAR} / ${?VAR} substitutions that
	// are not keys of the configuration. Nil means an empty environment.
	Env map[string]string
	// Include reads an included file, given its path resolved against the
	// directory of the including file (files usually live on a remote node).
	// An error matching fs.ErrNotExist means "not found": a plain include is
	// then skipped with a warning, as TheHive does, and a required(...) one
	// fails. Nil means no include can be found.
	Include func(path string) ([]byte, error)
}

// Conf is a parsed and resolved HOCON configuration.
type Conf struct {
	root *hnode
	// Warnings lists things skipped while reading: includes that were not
	// found, classpath includes. It never contains a configuration value.
	Warnings []string
}

type hkind uint8

const (
	kObject hkind = iota
	kList
	kScalar
	kConcat
	kSubst
	kUndefined // an optional substitution that found nothing
)

type stype uint8

const (
	sString stype = iota
	sNumber
	sBool
	sNull
	sSpace // whitespace between concatenated values
)

type hpos struct {
	file      string
	line, col int
}

// hnode is one value of the tree. Objects are mutable while parsing; after
// resolution the tree holds only objects, lists and scalars.
type hnode struct {
	kind hkind
	pos  hpos
	// kObject
	keys   []string
	fields map[string]*hnode
	// kList, and kConcat parts
	items []*hnode
	// kScalar
	text string
	st   stype
	// kSubst
	path     []string
	expr     string
	optional bool
	// kConcat and kSubst: the value this one replaced (used when this one is
	// undefined, or merged under it when both are objects).
	fallback  *hnode
	resolving bool
	resolved  *hnode
}

func newObject(p hpos) *hnode {
	return &hnode{kind: kObject, pos: p, fields: map[string]*hnode{}}
}

func (n *hnode) set(key string, v *hnode) {
	if _, ok := n.fields[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.fields[key] = v
}

func (n *hnode) del(key string) {
	if _, ok := n.fields[key]; !ok {
		return
	}
	delete(n.fields, key)
	for i, k := range n.keys {
		if k == key {
			n.keys = append(n.keys[:i:i], n.keys[i+1:]...)
			break
		}
	}
}

// ParseHOCON parses and resolves the HOCON file held in data; name is the
// file's path, used in error positions and to resolve relative includes.
// Syntax and substitution problems are *Error values with the line and
// column (of the included file when the problem is there); a failing
// opts.Include other than "not found" is wrapped next to its *Error.
func ParseHOCON(name string, data []byte, opts HOCONOptions) (*Conf, error) {
	st := &parseState{opts: opts, conf: &Conf{}}
	root := newObject(hpos{name, 1, 1})
	if err := st.parseFile(name, data, root, nil); err != nil {
		return nil, err
	}
	r := &resolver{root: root, env: opts.Env}
	r.resolveObject(root)
	if len(r.errs) > 0 {
		return nil, joinErrors(r.errs)
	}
	st.conf.root = root
	return st.conf, nil
}

// parseState is shared by the root file and its includes.
type parseState struct {
	opts     HOCONOptions
	conf     *Conf
	stack    []string // files being parsed, outermost first
	included int      // files read through includes so far
}

func (st *parseState) parseFile(name string, data []byte, obj *hnode, prefix []string) error {
	if len(data) > MaxHOCONSize {
		return &Error{File: name, Line: 1, Col: 1, Msg: fmt.Sprintf("file is larger than %d bytes", MaxHOCONSize)}
	}
	data = trimBOM(data)
	if !utf8.Valid(data) {
		l, c := offsetLineCol(data, firstInvalidUTF8(data))
		return &Error{File: name, Line: l, Col: c, Msg: "the file is not valid UTF-8 text"}
	}
	st.stack = append(st.stack, name)
	defer func() { st.stack = st.stack[:len(st.stack)-1] }()
	p := &hparser{st: st, file: name, src: []rune(string(data)), line: 1, col: 1, prefix: prefix}
	return p.parseRoot(obj)
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func offsetLineCol(b []byte, off int) (int, int) {
	line, col := 1, 1
	for _, r := range string(b[:off]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

type hparser struct {
	st        *parseState
	file      string
	src       []rune
	i         int
	line, col int
	prefix    []string // path of the object the file is included into
	depth     int
	anon      int // >0 inside objects that are not the value of a key (in lists, concatenations)
}

func (p *hparser) pos() hpos { return hpos{p.file, p.line, p.col} }

func (p *hparser) errAt(at hpos, format string, args ...any) error {
	return &Error{File: at.file, Line: at.line, Col: at.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *hparser) errf(format string, args ...any) error { return p.errAt(p.pos(), format, args...) }

func (p *hparser) eof() bool { return p.i >= len(p.src) }

func (p *hparser) peek() rune {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *hparser) peekAt(k int) rune {
	if p.i+k < len(p.src) {
		return p.src[p.i+k]
	}
	return 0
}

func (p *hparser) next() rune {
	r := p.src[p.i]
	p.i++
	if r == '\n' {
		p.line, p.col = p.line+1, 1
	} else {
		p.col++
	}
	return r
}

func isHSpace(r rune) bool {
	return r != '\n' && (unicode.IsSpace(r) || r == '\ufeff')
}

func (p *hparser) atComment() bool {
	return p.peek() == '#' || (p.peek() == '/' && p.peekAt(1) == '/')
}

// skip skips spaces and comments, and newlines too when nl is set.
func (p *hparser) skip(nl bool) {
	for !p.eof() {
		r := p.peek()
		switch {
		case isHSpace(r) || (nl && r == '\n'):
			p.next()
		case p.atComment():
			for !p.eof() && p.peek() != '\n' {
				p.next()
			}
		default:
			return
		}
	}
}

// forbidden reports characters that cannot appear in unquoted text.
func forbidden(r rune) bool {
	return strings.ContainsRune("$\"{}[]:=,+#`^?!@*&\\", r)
}

func describeRune(r rune) string {
	switch r {
	case 0:
		return "end of file"
	case '\n':
		return "end of line"
	}
	return strconv.QuoteRune(r)
}

func (p *hparser) parseRoot(obj *hnode) error {
	p.skip(true)
	switch p.peek() {
	case '[':
		return p.errf("the file must hold an object (keys and values), not a list")
	case '{':
		open := p.pos()
		p.next()
		if err := p.parseBody(obj, p.prefix, '}', open); err != nil {
			return err
		}
		p.skip(true)
		if !p.eof() {
			return p.errf("unexpected %s after the closing '}' of the file's object", describeRune(p.peek()))
		}
		return nil
	}
	return p.parseBody(obj, p.prefix, 0, p.pos())
}

// parseBody parses fields into obj (whose path is objPath) up to the closing
// rune (0: end of file). open is where the object started.
func (p *hparser) parseBody(obj *hnode, objPath []string, closing rune, open hpos) error {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxHOCONDepth {
		return p.errf("objects and lists nested deeper than %d levels", maxHOCONDepth)
	}
	for {
		p.skip(true)
		if p.eof() {
			if closing != 0 {
				return p.errAt(open, "unbalanced brace: the '{' opened here is never closed")
			}
			return nil
		}
		r := p.peek()
		if closing != 0 && r == closing {
			p.next()
			return nil
		}
		if r == '}' || r == ']' {
			return p.errf("unbalanced %s: nothing open to close", describeRune(r))
		}
		if r == ',' {
			return p.errf("expected a key, found ','")
		}
		if p.atInclude() {
			if err := p.parseInclude(obj, objPath); err != nil {
				return err
			}
		} else if err := p.parseField(obj, objPath); err != nil {
			return err
		}
		p.skip(false)
		switch r := p.peek(); {
		case p.eof() || r == '\n':
		case r == ',':
			p.next()
		case closing != 0 && r == closing:
		default:
			return p.errf("expected ',' or a new line after a value, found %s", describeRune(r))
		}
	}
}

// atInclude reports whether the field starts with the include keyword.
func (p *hparser) atInclude() bool {
	const kw = "include"
	if p.i+len(kw) >= len(p.src) || string(p.src[p.i:p.i+len(kw)]) != kw {
		return false
	}
	return isHSpace(p.src[p.i+len(kw)])
}

// parseKey reads a path expression up to its separator.
func (p *hparser) parseKey(what string) ([]string, error) {
	var elems []string
	var cur strings.Builder
	have, pendingSpace := false, ""
	start := p.pos()
	for {
		if p.eof() {
			break
		}
		r := p.peek()
		if isHSpace(r) {
			var sp strings.Builder
			for !p.eof() && isHSpace(p.peek()) {
				sp.WriteRune(p.next())
			}
			pendingSpace = sp.String()
			continue
		}
		if r == '\n' || p.atComment() || (forbidden(r) && r != '"') {
			break
		}
		if pendingSpace != "" && have {
			cur.WriteString(pendingSpace)
		}
		pendingSpace = ""
		if r == '"' {
			if p.peekAt(1) == '"' && p.peekAt(2) == '"' {
				return nil, p.errf("triple-quoted strings cannot be used in a %s", what)
			}
			s, err := p.parseQuoted()
			if err != nil {
				return nil, err
			}
			cur.WriteString(s)
			have = true
			continue
		}
		if r == '.' && !have {
			return nil, p.errf("empty element before '.' in %s", what)
		}
		p.next()
		if r == '.' {
			elems = append(elems, cur.String())
			cur.Reset()
			have = false
			continue
		}
		cur.WriteRune(r)
		have = true
	}
	if !have {
		if len(elems) > 0 {
			return nil, p.errf("%s ends with '.'", what)
		}
		return nil, p.errAt(start, "expected a %s, found %s", what, describeRune(p.peek()))
	}
	return append(elems, cur.String()), nil
}

func joinPath(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func pathString(ps []string) string {
	parts := make([]string, len(ps))
	for i, s := range ps {
		if s == "" || strings.ContainsAny(s, ". \"\t") || strings.ContainsFunc(s, forbidden) {
			s = strconv.Quote(s)
		}
		parts[i] = s
	}
	return strings.Join(parts, ".")
}

func (p *hparser) parseField(obj *hnode, objPath []string) error {
	keyAt := p.pos()
	key, err := p.parseKey("key")
	if err != nil {
		return err
	}
	full := joinPath(objPath, key)
	// Walk to the parent object, creating objects for dotted keys.
	parent := obj
	for _, k := range key[:len(key)-1] {
		child := parent.fields[k]
		if child == nil || child.kind != kObject {
			child = newObject(keyAt)
			parent.set(k, child)
		}
		parent = child
	}
	last := key[len(key)-1]
	r := p.peek()
	appendTo := false
	switch {
	case r == '{':
	case r == '=' || r == ':':
		p.next()
		p.skip(false)
	case r == '+' && p.peekAt(1) == '=':
		p.next()
		p.next()
		p.skip(false)
		appendTo = true
	default:
		return p.errf("expected '=', ':', '+=' or '{' after key %s, found %s", pathString(full), describeRune(r))
	}
	if !appendTo && p.peek() == '{' {
		// An object literal merges into an earlier object at the same key.
		open := p.pos()
		p.next()
		target := parent.fields[last]
		if target == nil || target.kind != kObject {
			target = newObject(open)
			parent.set(last, target)
		}
		if err := p.parseBody(target, full, '}', open); err != nil {
			return err
		}
		p.skip(false)
		if r := p.peek(); !p.eof() && r != '\n' && r != ',' && r != '}' {
			return p.errf("unexpected %s after the '}' closing the value of %s", describeRune(r), pathString(full))
		}
		return nil
	}
	v, err := p.parseValue(full)
	if err != nil {
		return err
	}
	if appendTo {
		self := &hnode{kind: kSubst, pos: keyAt, path: full, expr: "${?" + pathString(full) + "}", optional: true}
		v = &hnode{kind: kConcat, pos: keyAt, items: []*hnode{self, {kind: kList, pos: v.pos, items: []*hnode{v}}}}
	}
	prev := parent.fields[last]
	if p.anon == 0 {
		if v, err = replaceSelf(v, full, prev, 0); err != nil {
			return err
		}
	}
	if prev != nil && (v.kind == kConcat || v.kind == kSubst) {
		v.fallback = prev
	}
	parent.set(last, v)
	return nil
}

// replaceSelf replaces substitutions of full (the key being set) in v by
// prev, the key's earlier value; a required one without an earlier value is
// an error, an optional one becomes undefined.
func replaceSelf(v *hnode, full []string, prev *hnode, depth int) (*hnode, error) {
	if depth > maxHOCONDepth {
		return v, nil
	}
	switch v.kind {
	case kSubst:
		if !samePath(v.path, full) {
			return v, nil
		}
		if prev != nil {
			return prev, nil
		}
		if v.optional {
			return &hnode{kind: kUndefined, pos: v.pos}, nil
		}
		return nil, &Error{File: v.pos.file, Line: v.pos.line, Col: v.pos.col,
			Msg: fmt.Sprintf("bad substitution %s: it refers to the key being set, which has no earlier value", v.expr)}
	case kConcat, kList:
		for i, it := range v.items {
			n, err := replaceSelf(it, full, prev, depth+1)
			if err != nil {
				return nil, err
			}
			v.items[i] = n
		}
	}
	return v, nil
}

func samePath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseValue reads one value (a concatenation of simple values, lists,
// objects and substitutions) up to a separator.
func (p *hparser) parseValue(full []string) (*hnode, error) {
	start := p.pos()
	var parts []*hnode
	for !p.eof() {
		r := p.peek()
		if r == '\n' || r == ',' || r == '}' || r == ']' || p.atComment() {
			break
		}
		at := p.pos()
		switch {
		case isHSpace(r):
			var sb strings.Builder
			for !p.eof() && isHSpace(p.peek()) {
				sb.WriteRune(p.next())
			}
			parts = append(parts, &hnode{kind: kScalar, pos: at, text: sb.String(), st: sSpace})
		case r == '"':
			var s string
			var err error
			if p.peekAt(1) == '"' && p.peekAt(2) == '"' {
				s, err = p.parseTriple()
			} else {
				s, err = p.parseQuoted()
			}
			if err != nil {
				return nil, err
			}
			parts = append(parts, &hnode{kind: kScalar, pos: at, text: s, st: sString})
		case r == '{':
			p.next()
			obj := newObject(at)
			p.anon++
			err := p.parseBody(obj, nil, '}', at)
			p.anon--
			if err != nil {
				return nil, err
			}
			parts = append(parts, obj)
		case r == '[':
			l, err := p.parseList(at)
			if err != nil {
				return nil, err
			}
			parts = append(parts, l)
		case r == '$' && p.peekAt(1) == '{':
			s, err := p.parseSubst()
			if err != nil {
				return nil, err
			}
			parts = append(parts, s)
		case forbidden(r):
			return nil, p.errf("unexpected %s in the value of %s (quote the value if it contains this character)", describeRune(r), pathString(full))
		default:
			var sb strings.Builder
			for !p.eof() {
				c := p.peek()
				if isHSpace(c) || c == '\n' || forbidden(c) || p.atComment() {
					break
				}
				sb.WriteRune(p.next())
			}
			parts = append(parts, unquoted(at, sb.String()))
		}
	}
	for len(parts) > 0 && parts[0].st == sSpace && parts[0].kind == kScalar {
		parts = parts[1:]
	}
	for len(parts) > 0 && parts[len(parts)-1].st == sSpace && parts[len(parts)-1].kind == kScalar {
		parts = parts[:len(parts)-1]
	}
	switch len(parts) {
	case 0:
		if full == nil {
			return nil, p.errf("expected a value, found %s", describeRune(p.peek()))
		}
		return nil, p.errAt(start, "missing value for key %s", pathString(full))
	case 1:
		return parts[0], nil
	}
	return &hnode{kind: kConcat, pos: start, items: parts}, nil
}

var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func unquoted(at hpos, s string) *hnode {
	n := &hnode{kind: kScalar, pos: at, text: s, st: sString}
	switch {
	case s == "true" || s == "false":
		n.st = sBool
	case s == "null":
		n.st = sNull
	case numberRE.MatchString(s):
		n.st = sNumber
	}
	return n
}

func (p *hparser) parseList(open hpos) (*hnode, error) {
	p.next() // [
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxHOCONDepth {
		return nil, p.errAt(open, "objects and lists nested deeper than %d levels", maxHOCONDepth)
	}
	l := &hnode{kind: kList, pos: open}
	for {
		p.skip(true)
		if p.eof() {
			return nil, p.errAt(open, "unbalanced bracket: the '[' opened here is never closed")
		}
		if p.peek() == ']' {
			p.next()
			return l, nil
		}
		if p.peek() == ',' {
			return nil, p.errf("expected a list element, found ','")
		}
		if p.peek() == '}' {
			return nil, p.errf("unbalanced brace: '}' inside the list opened at %d:%d", open.line, open.col)
		}
		v, err := p.parseValue(nil)
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, v)
		p.skip(false)
		switch r := p.peek(); {
		case r == ',':
			p.next()
		case r == '\n' || r == ']' || p.eof():
		default:
			return nil, p.errf("expected ',' or ']' in the list opened at %d:%d, found %s", open.line, open.col, describeRune(r))
		}
	}
}

func (p *hparser) parseQuoted() (string, error) {
	open := p.pos()
	p.next() // "
	var sb strings.Builder
	for {
		if p.eof() || p.peek() == '\n' {
			return "", p.errAt(open, "unterminated string: the '\"' opened here is not closed on its line")
		}
		r := p.next()
		if r == '"' {
			return sb.String(), nil
		}
		if r != '\\' {
			sb.WriteRune(r)
			continue
		}
		escAt := hpos{p.file, p.line, p.col - 1}
		if p.eof() {
			return "", p.errAt(open, "unterminated string: the '\"' opened here is not closed on its line")
		}
		e := p.next()
		switch e {
		case '"', '\\', '/':
			sb.WriteRune(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			var hex string
			for k := 0; k < 4 && !p.eof(); k++ {
				hex += string(p.next())
			}
			v, err := strconv.ParseUint(hex, 16, 32)
			if err != nil || len(hex) != 4 {
				return "", p.errAt(escAt, "bad escape \\u%s in string: need 4 hex digits", hex)
			}
			sb.WriteRune(rune(v))
		default:
			return "", p.errAt(escAt, "bad escape %s in string", strconv.Quote("\\"+string(e)))
		}
	}
}

func (p *hparser) parseTriple() (string, error) {
	open := p.pos()
	p.next()
	p.next()
	p.next()
	var sb strings.Builder
	for {
		if p.eof() {
			return "", p.errAt(open, "unterminated string: the '\"\"\"' opened here is never closed")
		}
		if p.peek() == '"' && p.peekAt(1) == '"' && p.peekAt(2) == '"' {
			// Extra quotes before the closing three belong to the string.
			for p.peekAt(3) == '"' {
				sb.WriteRune(p.next())
			}
			p.next()
			p.next()
			p.next()
			return sb.String(), nil
		}
		sb.WriteRune(p.next())
	}
}

func (p *hparser) parseSubst() (*hnode, error) {
	at := p.pos()
	p.next()
	p.next() // ${
	optional := false
	if p.peek() == '?' {
		p.next()
		optional = true
	}
	p.skip(false)
	if p.peek() == '}' {
		return nil, p.errAt(at, "bad substitution: ${} names no key")
	}
	if p.atComment() {
		return nil, p.errAt(at, "bad substitution: unterminated ${")
	}
	path, err := p.parseKey("substitution path")
	if err != nil {
		if p.eof() || p.peek() == '\n' {
			return nil, p.errAt(at, "bad substitution: unterminated ${")
		}
		return nil, err
	}
	p.skip(false)
	if p.peek() != '}' {
		if p.eof() || p.peek() == '\n' || p.atComment() {
			return nil, p.errAt(at, "bad substitution: unterminated ${ (missing '}')")
		}
		return nil, p.errf("bad substitution: unexpected %s in ${...}", describeRune(p.peek()))
	}
	p.next()
	q := ""
	if optional {
		q = "?"
	}
	expr := "${" + q + pathString(path) + "}"
	return &hnode{kind: kSubst, pos: at, path: joinPath(p.prefix, path), expr: expr, optional: optional,
		text: strings.Join(path, ".")}, nil
}

// parseInclude handles `include "f"`, `include file("f")`,
// `include required(...)`, `include classpath(...)` and `include url(...)`.
func (p *hparser) parseInclude(obj *hnode, objPath []string) error {
	at := p.pos()
	for range len("include") {
		p.next()
	}
	p.skip(false)
	required := false
	kind := "file"
	var closers int
	for {
		if p.peek() == '"' {
			break
		}
		word := ""
		for !p.eof() && unicode.IsLetter(p.peek()) {
			word += string(p.next())
		}
		if p.peek() != '(' || word == "" {
			return p.errf("bad include: expected a quoted file name or file(...), required(...), found %s", describeRune(p.peek()))
		}
		p.next()
		p.skip(false)
		closers++
		switch word {
		case "required":
			if required || closers > 1 {
				return p.errAt(at, "bad include: required(...) must come first and only once")
			}
			required = true
			continue
		case "file", "classpath", "url":
			kind = word
		default:
			return p.errAt(at, "bad include: unknown include form %s(...)", word)
		}
		if p.peek() != '"' {
			return p.errf("bad include: expected a quoted name in %s(...), found %s", word, describeRune(p.peek()))
		}
		break
	}
	name, err := p.parseQuoted()
	if err != nil {
		return err
	}
	for ; closers > 0; closers-- {
		p.skip(false)
		if p.peek() != ')' {
			return p.errf("bad include: expected ')', found %s", describeRune(p.peek()))
		}
		p.next()
	}
	switch kind {
	case "url":
		return p.errAt(at, "include url(%q) is not supported", name)
	case "classpath":
		p.st.conf.Warnings = append(p.st.conf.Warnings,
			fmt.Sprintf("%s:%d:%d: include classpath(%q) skipped (resources inside TheHive's jar are not read)", at.file, at.line, at.col, name))
		return nil
	}
	target := name
	if !path.IsAbs(target) && p.file != "" {
		target = path.Join(path.Dir(p.file), target)
	}
	for _, f := range p.st.stack {
		if f == target {
			chain := append(append([]string{}, p.st.stack...), target)
			return p.errAt(at, "include cycle: %s", strings.Join(chain, " → "))
		}
	}
	if len(p.st.stack) > maxIncludeDepth {
		return p.errAt(at, "includes nested deeper than %d files", maxIncludeDepth)
	}
	if p.st.included++; p.st.included > maxIncludes {
		return p.errAt(at, "more than %d included files", maxIncludes)
	}
	var data []byte
	if p.st.opts.Include == nil {
		err = fs.ErrNotExist
	} else {
		data, err = p.st.opts.Include(target)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if required {
				return p.errAt(at, "required include %q not found", target)
			}
			p.st.conf.Warnings = append(p.st.conf.Warnings,
				fmt.Sprintf("%s:%d:%d: include %q not found; skipped, so its keys are missing", at.file, at.line, at.col, target))
			return nil
		}
		return fmt.Errorf("%w: %w", p.errAt(at, "cannot read included file %q", target), err)
	}
	return p.st.parseFile(target, data, obj, objPath)
}
