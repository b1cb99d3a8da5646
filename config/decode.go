package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// MaxInventorySize bounds the size of an inventory file.
const MaxInventorySize = 1 << 20

// Load reads, parses and validates the inventory file at path. Problems in
// the file are reported as *Error values (one, or an errors.Join of all of
// them, sorted by position); a file that cannot be read gives a wrapped
// *fs.PathError instead.
func Load(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxInventorySize+1))
	if err != nil {
		return nil, fmt.Errorf("read inventory %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses and validates an inventory held in data; name is used as the
// file name in error positions and as Inventory.Path. Errors are *Error
// values (one, or an errors.Join of all of them, sorted by position), each
// with Line ≥ 1.
func Parse(name string, data []byte) (*Inventory, error) {
	d := &decoder{file: name, at: map[string]pos{}, keyAt: map[string]pos{}, has: map[string]bool{}, start: pos{1, 1}}
	if len(data) > MaxInventorySize {
		d.errorf(pos{1, 1}, "inventory is larger than %d bytes", MaxInventorySize)
		return nil, joinErrors(d.errs)
	}
	// A UTF-8 byte order mark (some Windows editors write one) is not content.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		d.errorf(invalidUTF8Pos(data), "the file is not valid UTF-8 text")
		return nil, joinErrors(d.errs)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		d.errorf(offsetPos(data, i), "the file contains a NUL byte")
		return nil, joinErrors(d.errs)
	}
	file, err := parseYAML(data)
	if err != nil {
		d.errs = append(d.errs, d.syntaxError(err))
		return nil, joinErrors(d.errs)
	}
	var body ast.Node
	for i, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			d.errorf(d.firstPos(doc.Body), "only one YAML document is allowed in an inventory (found a second after ---, document %d)", i+1)
			break
		}
		body = doc.Body
	}
	if body == nil {
		d.errorf(pos{1, 1}, "the inventory is empty: it needs at least version, platform, cluster and nodes")
		return nil, joinErrors(d.errs)
	}
	inv := d.inventory(body)
	d.validate(inv)
	if len(d.errs) > 0 {
		return nil, joinErrors(d.errs)
	}
	inv.Path = name
	inv.applyDefaults()
	return inv, nil
}

// parseYAML runs the YAML parser, turning a parser panic into an error.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the YAML parser failed on this input (%v)", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// pos is a 1-based line:column position.
type pos struct{ line, col int }

// decoder walks the YAML AST into an Inventory, collecting every problem.
type decoder struct {
	file  string
	errs  []*Error
	start pos             // first key of the document
	at    map[string]pos  // key path -> position of its value
	keyAt map[string]pos  // key path -> position of its key
	has   map[string]bool // key path -> written with a non-null value
	// nodePaths[i] is the YAML path ("nodes[2]") of Inventory.Nodes[i]:
	// items that are not mappings are skipped, so the indexes can differ.
	nodePaths []string
}

func (d *decoder) errorf(p pos, format string, args ...any) {
	if p.line < 1 {
		p = pos{1, 1}
	}
	if p.col < 1 {
		p.col = 1
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

// fail reports err for the key at path, positioned at p.
func (d *decoder) fail(p pos, path string, err error) {
	d.errorf(p, "%s: %v", path, err)
}

// posOf returns the position of n's token, or the document start.
func (d *decoder) posOf(n ast.Node) pos {
	if n == nil {
		return d.start
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line >= 1 {
		return pos{tk.Position.Line, max(tk.Position.Column, 1)}
	}
	return d.start
}

// firstPos is the position of a mapping's first key, else of n itself.
func (d *decoder) firstPos(n ast.Node) pos {
	switch m := n.(type) {
	case *ast.MappingNode:
		if len(m.Values) > 0 && m.Values[0] != nil && m.Values[0].Key != nil {
			return d.posOf(m.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if m.Key != nil {
			return d.posOf(m.Key)
		}
	}
	return d.posOf(n)
}

var dupKeyRE = regexp.MustCompile(`^mapping key "(.*)" already defined at \[(\d+):(\d+)\]$`)

// syntaxError converts a parser error into an *Error. Only the parser's
// message is kept, never its source excerpt (which could quote a secret).
func (d *decoder) syntaxError(err error) *Error {
	e := &Error{File: d.file, Line: 1, Col: 1, Msg: "YAML syntax error"}
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line >= 1 {
			e.Line, e.Col = tk.Position.Line, max(tk.Position.Column, 1)
		}
		msg := ye.GetMessage()
		if m := dupKeyRE.FindStringSubmatch(msg); m != nil {
			e.Msg = fmt.Sprintf("duplicate key %q (first defined at line %s, column %s)", m[1], m[2], m[3])
		} else {
			e.Msg = "YAML syntax error: " + msg
		}
		return e
	}
	e.Msg = "YAML syntax error: " + err.Error()
	return e
}

// invalidUTF8Pos finds the position of the first invalid UTF-8 sequence.
func invalidUTF8Pos(data []byte) pos {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return offsetPos(data, i)
		}
		i += size
	}
	return pos{1, 1}
}

// offsetPos converts a byte offset into a line:column position (columns
// count runes).
func offsetPos(data []byte, off int) pos {
	line, col := 1, 1
	for i := 0; i < off && i < len(data); {
		if data[i] == '\n' {
			line, col = line+1, 1
			i++
			continue
		}
		_, size := utf8.DecodeRune(data[i:])
		i += size
		col++
	}
	return pos{line, col}
}

// field is one accepted key of a mapping and what to do with its value.
type field struct {
	name string
	set  func(path string, v ast.Node)
}

func fieldNames(fields []field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// plain rejects YAML features the inventory does not use (anchors, aliases,
// tags): it reports them and returns false.
func (d *decoder) plain(path string, n ast.Node) bool {
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		d.errorf(d.posOf(n), "%s: anchors and aliases (& and *) are not supported in an inventory: write the value out", path)
		return false
	case *ast.TagNode:
		d.errorf(d.posOf(n), "%s: YAML tags (!!type) are not supported in an inventory: quote the value instead", path)
		return false
	}
	return true
}

// describe names the YAML type of n for error messages (never its value).
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode:
		return "a whole number"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a decimal number"
	case *ast.BoolNode:
		return "true/false"
	case *ast.NullNode:
		return "nothing"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	}
	return "an unsupported value"
}

func isNull(n ast.Node) bool {
	_, ok := n.(*ast.NullNode)
	return n == nil || ok
}

// mapping decodes the mapping n at path using fields. A null value counts as
// an empty mapping. It returns false when n is not a mapping.
func (d *decoder) mapping(path string, n ast.Node, fields []field) bool {
	if isNull(n) {
		return true
	}
	if !d.plain(path, n) {
		return false
	}
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		what := path
		if what == "" {
			what = "the inventory"
		}
		d.errorf(d.posOf(n), "%s: must be a mapping of keys (key: value), not %s", what, describe(n))
		return false
	}
	for _, mv := range values {
		if mv == nil || mv.Key == nil {
			continue
		}
		kp := d.posOf(mv.Key)
		var key string
		switch k := mv.Key.(type) {
		case *ast.MergeKeyNode:
			d.errorf(kp, "%s: merge keys (<<) are not supported in an inventory", orTop(path))
			continue
		case *ast.StringNode:
			key = k.Value
		case *ast.MappingKeyNode:
			d.errorf(kp, "%s: complex keys (?) are not supported in an inventory", orTop(path))
			continue
		default:
			if tk := mv.Key.GetToken(); tk != nil {
				key = tk.Value
			}
		}
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == key })
		if i < 0 {
			d.unknownKey(kp, path, key, fieldNames(fields))
			continue
		}
		child := join(path, key)
		d.keyAt[child] = kp
		v := mv.Value
		if v == nil {
			d.at[child] = kp
			continue
		}
		d.at[child] = d.posOf(v)
		if isNull(v) {
			// "key:" with no value: leave the field unset.
			continue
		}
		d.has[child] = true
		if !d.plain(child, v) {
			continue
		}
		fields[i].set(child, v)
	}
	return true
}

func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

func (d *decoder) unknownKey(p pos, path, key string, allowed []string) {
	where := ""
	if path != "" {
		where = " in " + path
	}
	if s, ok := suggest(key, allowed); ok {
		d.errorf(p, "%s: unknown key %q (did you mean %q?)", join(path, key), key, s)
		return
	}
	d.errorf(p, "%s: unknown key %q%s (allowed: %s)", join(path, key), key, where, strings.Join(allowed, ", "))
}

// str decodes a string. Numbers are taken as written (so name: 1 is "1");
// true/false, lists and mappings are errors. An explicitly empty string is
// an error: remove the key to get the default.
func (d *decoder) str(path string, n ast.Node) (string, bool) {
	var s string
	switch v := n.(type) {
	case *ast.StringNode:
		s = v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			s = v.Value.Value
		}
	case *ast.IntegerNode, *ast.FloatNode:
		s = n.GetToken().Value
	default:
		hint := ""
		if _, ok := n.(*ast.BoolNode); ok {
			hint = " (quote it if you mean the text)"
		}
		d.errorf(d.posOf(n), "%s: must be a string, not %s%s", path, describe(n), hint)
		return "", false
	}
	if s == "" {
		d.errorf(d.posOf(n), "%s: is empty: give a value or remove the key", path)
		return "", false
	}
	return s, true
}

// oneOf decodes a string that must be one of allowed.
func (d *decoder) oneOf(path string, n ast.Node, allowed []string) (string, bool) {
	s, ok := d.str(path, n)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		msg := fmt.Sprintf("%s: %q is not one of %s", path, s, strings.Join(allowed, ", "))
		if sug, ok := suggest(s, allowed); ok {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		d.errorf(d.posOf(n), "%s", msg)
		return "", false
	}
	return s, true
}

// checked decodes a string and runs check on it.
func (d *decoder) checked(path string, n ast.Node, check func(string) error) (string, bool) {
	s, ok := d.str(path, n)
	if !ok {
		return "", false
	}
	if err := check(s); err != nil {
		d.fail(d.posOf(n), path, err)
		return "", false
	}
	return s, true
}

// integer decodes a whole number within [lo, hi].
func (d *decoder) integer(path string, n ast.Node, lo, hi int) (int, bool) {
	v, ok := n.(*ast.IntegerNode)
	if !ok {
		d.errorf(d.posOf(n), "%s: must be a whole number between %d and %d, not %s", path, lo, hi, describe(n))
		return 0, false
	}
	var x int64
	switch val := v.Value.(type) {
	case int64:
		x = val
	case uint64:
		if val > math.MaxInt32 {
			x = math.MaxInt32
		} else {
			x = int64(val)
		}
	default:
		d.errorf(d.posOf(n), "%s: must be a whole number between %d and %d", path, lo, hi)
		return 0, false
	}
	if x < int64(lo) || x > int64(hi) {
		d.errorf(d.posOf(n), "%s: %s is out of range: must be between %d and %d", path, v.GetToken().Value, lo, hi)
		return 0, false
	}
	return int(x), true
}

func (d *decoder) port(path string, n ast.Node) (int, bool) { return d.integer(path, n, 1, 65535) }

// boolean decodes true or false.
func (d *decoder) boolean(path string, n ast.Node) (bool, bool) {
	v, ok := n.(*ast.BoolNode)
	if !ok {
		d.errorf(d.posOf(n), "%s: must be true or false, not %s", path, describe(n))
		return false, false
	}
	return v.Value, true
}

// duration decodes a Go duration with a unit ("10s", "1m30s"), 1ms to 1h.
func (d *decoder) duration(path string, n ast.Node) (time.Duration, bool) {
	if _, isNum := n.(*ast.IntegerNode); isNum {
		d.errorf(d.posOf(n), "%s: a duration needs a unit, like %ss", path, n.GetToken().Value)
		return 0, false
	}
	s, ok := d.str(path, n)
	if !ok {
		return 0, false
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(d.posOf(n), "%s: %q is not a duration: use a number and a unit, like 10s, 1m or 1m30s", path, s)
		return 0, false
	}
	if v < time.Millisecond || v > time.Hour {
		d.errorf(d.posOf(n), "%s: %s is out of range: must be between 1ms and 1h", path, s)
		return 0, false
	}
	return v, true
}

// list decodes a list of strings, each checked by check (if not nil).
// Duplicates are errors.
func (d *decoder) list(path string, n ast.Node, check func(string) error) ([]string, bool) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(d.posOf(n), "%s: must be a list, like [a, b] or lines starting with \"- \", not %s", path, describe(n))
		return nil, false
	}
	var out []string
	good := true
	seen := map[string]int{}
	for i, item := range seq.Values {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if item == nil || !d.plain(ip, item) {
			good = false
			continue
		}
		if isNull(item) {
			d.errorf(d.posOf(item), "%s: is empty: give a value or remove the entry", ip)
			good = false
			continue
		}
		s, ok := d.str(ip, item)
		if !ok {
			good = false
			continue
		}
		if check != nil {
			if err := check(s); err != nil {
				d.fail(d.posOf(item), ip, err)
				good = false
				continue
			}
		}
		if j, dup := seen[s]; dup {
			d.errorf(d.posOf(item), "%s: %q is already listed as %s[%d]", ip, s, path, j)
			good = false
			continue
		}
		seen[s] = i
		out = append(out, s)
	}
	return out, good
}

// secret decodes a secret reference.
func (d *decoder) secret(path string, n ast.Node) Secret {
	var s string
	switch v := n.(type) {
	case *ast.StringNode:
		s = v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			s = v.Value.Value
		}
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		d.errorf(d.posOf(n), "%s: must be a string: env:NAME, file:PATH or prompt", path)
		return Secret{}
	default:
		// A number or true/false is an inline value too.
		d.errorf(d.posOf(n), "%s: %s", path, errInlineSecret)
		return Secret{}
	}
	if s == "" {
		d.errorf(d.posOf(n), "%s: is empty: use env:NAME, file:PATH or prompt, or remove the key", path)
		return Secret{}
	}
	sec, msg := parseSecret(s, path)
	if msg != "" {
		d.errorf(d.posOf(n), "%s: %s", path, msg)
	}
	return sec
}

// inventory decodes the top-level mapping.
func (d *decoder) inventory(body ast.Node) *Inventory {
	d.start = d.firstPos(body)
	inv := &Inventory{}
	d.mapping("", body, []field{
		{"version", func(p string, v ast.Node) {
			if _, ok := v.(*ast.IntegerNode); !ok {
				d.errorf(d.posOf(v), "version: must be the number 1, not %s", describe(v))
				return
			}
			if n, ok := d.integer(p, v, math.MinInt32, math.MaxInt32); ok {
				if n != 1 {
					d.errorf(d.posOf(v), "version: %d is not supported: this hotsnap reads version 1", n)
					return
				}
				inv.Version = n
			}
		}},
		{"platform", func(p string, v ast.Node) { inv.Platform, _ = d.oneOf(p, v, platforms) }},
		{"cluster", func(p string, v ast.Node) { inv.Cluster, _ = d.checked(p, v, validClusterName) }},
		{"ssh", func(p string, v ast.Node) { d.ssh(p, v, &inv.SSH) }},
		{"nodes", func(p string, v ast.Node) { inv.Nodes = d.nodes(p, v) }},
		{"cassandra", func(p string, v ast.Node) { inv.Cassandra = d.cassandra(p, v) }},
		{"elasticsearch", func(p string, v ast.Node) { inv.Elasticsearch = d.elasticsearch(p, v) }},
		{"storage", func(p string, v ast.Node) { inv.Storage = d.storage(p, v) }},
		{"alien4cloud", func(p string, v ast.Node) { inv.Alien4Cloud = d.alien4cloud(p, v) }},
		{"eclecticiq", func(p string, v ast.Node) { inv.EclecticIQ = d.eclecticiq(p, v) }},
		{"repository", func(p string, v ast.Node) {
			d.mapping(p, v, []field{
				{"url", func(p string, v ast.Node) { inv.Repository.URL, _ = d.checked(p, v, validRepositoryURL) }},
			})
		}},
		{"state_dir", func(p string, v ast.Node) { inv.StateDir, _ = d.checked(p, v, validLocalPath) }},
	})
	// Sections written as "cassandra:" with no value are present, with defaults.
	for _, sec := range []string{"cassandra", "elasticsearch", "storage", "alien4cloud", "eclecticiq"} {
		if _, present := d.keyAt[sec]; !present {
			continue
		}
		switch {
		case sec == "cassandra" && inv.Cassandra == nil:
			inv.Cassandra = &Cassandra{}
		case sec == "elasticsearch" && inv.Elasticsearch == nil:
			inv.Elasticsearch = &Elasticsearch{}
		case sec == "storage" && inv.Storage == nil:
			inv.Storage = &Storage{}
		case sec == "alien4cloud" && inv.Alien4Cloud == nil:
			inv.Alien4Cloud = &Alien4Cloud{}
		case sec == "eclecticiq" && inv.EclecticIQ == nil:
			inv.EclecticIQ = &EclecticIQ{Redis: EIQRedis{DB: -1}}
		}
	}
	return inv
}

func (d *decoder) ssh(path string, n ast.Node, s *SSH) {
	d.mapping(path, n, []field{
		{"user", func(p string, v ast.Node) { s.User, _ = d.checked(p, v, validUser) }},
		{"port", func(p string, v ast.Node) { s.Port, _ = d.port(p, v) }},
		{"identity_files", func(p string, v ast.Node) { s.IdentityFiles, _ = d.list(p, v, validLocalPath) }},
		{"known_hosts", func(p string, v ast.Node) { s.KnownHosts, _ = d.checked(p, v, validLocalPath) }},
		{"config_file", func(p string, v ast.Node) { s.ConfigFile, _ = d.checked(p, v, validLocalPath) }},
		{"connect_timeout", func(p string, v ast.Node) { s.ConnectTimeout, _ = d.duration(p, v) }},
		{"keepalive", func(p string, v ast.Node) { s.Keepalive, _ = d.duration(p, v) }},
		{"sudo", func(p string, v ast.Node) { s.Sudo, _ = d.oneOf(p, v, sudoModes) }},
		{"sudo_password", func(p string, v ast.Node) { s.SudoPassword = d.secret(p, v) }},
	})
}

func (d *decoder) nodes(path string, n ast.Node) []Node {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(d.posOf(n), "%s: must be a list of nodes (lines starting with \"- name:\"), not %s", path, describe(n))
		return nil
	}
	if len(seq.Values) == 0 {
		d.errorf(d.posOf(n), "%s: is empty: list at least one node with name, host and roles", path)
		return nil
	}
	var out []Node
	for i, item := range seq.Values {
		np := fmt.Sprintf("%s[%d]", path, i)
		if item == nil || !d.plain(np, item) {
			continue
		}
		if _, isMap := item.(*ast.MappingNode); !isMap {
			if _, isMV := item.(*ast.MappingValueNode); !isMV {
				d.errorf(d.posOf(item), "%s: must be a mapping with name, host and roles, not %s", np, describe(item))
				continue
			}
		}
		node := Node{}
		start := d.firstPos(item)
		node.Line = start.line
		d.at[np] = start
		d.mapping(np, item, []field{
			{"name", func(p string, v ast.Node) { node.Name, _ = d.checked(p, v, ValidNodeName) }},
			{"host", func(p string, v ast.Node) { node.Host, _ = d.checked(p, v, validHost) }},
			{"port", func(p string, v ast.Node) { node.Port, _ = d.port(p, v) }},
			{"user", func(p string, v ast.Node) { node.User, _ = d.checked(p, v, validUser) }},
			{"identity_files", func(p string, v ast.Node) { node.IdentityFiles, _ = d.list(p, v, validLocalPath) }},
			{"roles", func(p string, v ast.Node) {
				var ok bool
				if node.Roles, ok = d.list(p, v, validRole); ok && len(node.Roles) == 0 {
					d.errorf(d.posOf(v), "%s: is empty: list one or more of %s", p, strings.Join(roles, ", "))
				}
			}},
			{"paths", func(p string, v ast.Node) { node.Paths = d.paths(p, v) }},
		})
		out = append(out, node)
		d.nodePaths = append(d.nodePaths, np)
	}
	return out
}

func validRole(s string) error {
	if slices.Contains(roles, s) {
		return nil
	}
	msg := fmt.Sprintf("%q is not a role: use %s", s, strings.Join(roles, ", "))
	if sug, ok := suggest(s, roles); ok {
		msg += fmt.Sprintf(" (did you mean %q?)", sug)
	}
	return errors.New(msg)
}

func (d *decoder) paths(path string, n ast.Node) map[string]string {
	out := map[string]string{}
	fields := make([]field, len(pathKeys))
	for i, k := range pathKeys {
		fields[i] = field{k, func(p string, v ast.Node) {
			if s, ok := d.checked(p, v, validRemotePath); ok {
				out[k] = s
			}
		}}
	}
	d.mapping(path, n, fields)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (d *decoder) cassandra(path string, n ast.Node) *Cassandra {
	c := &Cassandra{}
	d.mapping(path, n, []field{
		{"keyspace", func(p string, v ast.Node) { c.Keyspace, _ = d.checked(p, v, ValidCQLIdentifier) }},
		{"port", func(p string, v ast.Node) { c.Port, _ = d.port(p, v) }},
		{"data_dir", func(p string, v ast.Node) { c.DataDir, _ = d.checked(p, v, validRemotePath) }},
		{"username", func(p string, v ast.Node) { c.Username, _ = d.checked(p, v, validAccountName) }},
		{"password", func(p string, v ast.Node) { c.Password = d.secret(p, v) }},
		{"app_role", func(p string, v ast.Node) { c.AppRole, _ = d.checked(p, v, ValidCQLIdentifier) }},
	})
	return c
}

func (d *decoder) elasticsearch(path string, n ast.Node) *Elasticsearch {
	e := &Elasticsearch{}
	d.mapping(path, n, []field{
		{"url", func(p string, v ast.Node) { e.URL, _ = d.checked(p, v, validHTTPURL) }},
		{"index", func(p string, v ast.Node) { e.Index, _ = d.checked(p, v, ValidESIndexName) }},
		{"audit_index", func(p string, v ast.Node) { e.AuditIndex, _ = d.checked(p, v, ValidESIndexName) }},
		{"username", func(p string, v ast.Node) { e.Username, _ = d.checked(p, v, validAccountName) }},
		{"password", func(p string, v ast.Node) { e.Password = d.secret(p, v) }},
		{"repository", func(p string, v ast.Node) { e.Repository, _ = d.checked(p, v, ValidESRepositoryName) }},
		{"repository_path", func(p string, v ast.Node) { e.RepositoryPath, _ = d.checked(p, v, validRemotePath) }},
	})
	return e
}

func (d *decoder) storage(path string, n ast.Node) *Storage {
	s := &Storage{}
	d.mapping(path, n, []field{
		{"provider", func(p string, v ast.Node) { s.Provider, _ = d.oneOf(p, v, providers) }},
		{"path", func(p string, v ast.Node) { s.Path, _ = d.checked(p, v, validRemotePath) }},
		{"owner", func(p string, v ast.Node) { s.Owner, _ = d.checked(p, v, validOwner) }},
		{"s3", func(p string, v ast.Node) {
			b := &S3{}
			s.S3 = b
			d.mapping(p, v, []field{
				{"endpoint", func(p string, v ast.Node) { b.Endpoint, _ = d.checked(p, v, validHTTPURL) }},
				{"bucket", func(p string, v ast.Node) { b.Bucket, _ = d.checked(p, v, ValidS3BucketName) }},
				{"region", func(p string, v ast.Node) { b.Region, _ = d.checked(p, v, validRegion) }},
				{"path_style", func(p string, v ast.Node) { b.PathStyle, _ = d.boolean(p, v) }},
				{"access_key", func(p string, v ast.Node) { b.AccessKey = d.secret(p, v) }},
				{"secret_key", func(p string, v ast.Node) { b.SecretKey = d.secret(p, v) }},
			})
		}},
	})
	if _, present := d.keyAt[join(path, "s3")]; present && s.S3 == nil {
		s.S3 = &S3{}
	}
	return s
}

func validRegion(s string) error {
	if !regionRE.MatchString(s) {
		return fmt.Errorf("%q is not a region name: use lowercase letters, digits and -, like us-east-1", s)
	}
	return nil
}

// validAccountName checks a database/ES user name: no control characters,
// at most 256 bytes.
func validAccountName(s string) error {
	if hasControl(s) || len(s) > 256 {
		return errors.New("user name must be at most 256 characters, without control characters")
	}
	return nil
}

// validate runs the checks that involve more than one key.
func (d *decoder) validate(inv *Inventory) {
	// pick returns the position of the first path that was seen, else the
	// document start.
	pick := func(paths ...string) pos {
		for _, p := range paths {
			if v, ok := d.at[p]; ok {
				return v
			}
		}
		return d.start
	}
	// keyPos is the position of the key at path, else of the nearest
	// enclosing key that was written, else the document start.
	keyPos := func(path string) pos {
		for {
			if v, ok := d.keyAt[path]; ok {
				return v
			}
			i := strings.LastIndexByte(path, '.')
			if i < 0 {
				return d.start
			}
			path = path[:i]
		}
	}
	// required reports a missing key at its key (when written empty) or at
	// the document start.
	required := func(path, format string, args ...any) {
		if !d.has[path] {
			d.errorf(keyPos(path), "%s: is required: "+format, append([]any{path}, args...)...)
		}
	}
	required("version", "add \"version: 1\" at the top")
	required("platform", "one of %s", strings.Join(platforms, ", "))
	required("cluster", "a name (1 to 64 of A-Z a-z 0-9 . _ -) that the operator types to approve destructive steps")

	// SSH.
	if inv.SSH.Sudo == SudoPassword && !d.has["ssh.sudo_password"] {
		d.errorf(pick("ssh.sudo"), "ssh.sudo: password needs ssh.sudo_password (env:NAME, file:PATH or prompt)")
	}
	if inv.SSH.SudoPassword.IsSet() && (inv.SSH.Sudo == SudoNoPasswd || inv.SSH.Sudo == SudoNone) {
		d.errorf(pick("ssh.sudo_password"), "ssh.sudo_password: is not used with sudo: %s: remove it, or use sudo: auto or password", inv.SSH.Sudo)
	}

	// Nodes.
	required("nodes", "list at least one node with name, host and roles")
	names := map[string]int{}
	for i, n := range inv.Nodes {
		np := d.nodePaths[i]
		if !d.has[np+".name"] {
			d.errorf(pick(np), "%s: name is required", np)
		} else if n.Name != "" {
			if j, dup := names[n.Name]; dup {
				d.errorf(pick(np+".name"), "%s.name: node %q is already defined at line %d (%s)", np, n.Name, inv.Nodes[j].Line, d.nodePaths[j])
			} else {
				names[n.Name] = i
			}
		}
		if !d.has[np+".host"] {
			d.errorf(pick(np), "%s: host is required: an address, a DNS name or a ~/.ssh/config alias", np)
		}
		if !d.has[np+".roles"] {
			d.errorf(pick(np), "%s: roles is required: list one or more of %s", np, strings.Join(roles, ", "))
		}
	}

	// Platform requirements.
	if inv.Platform == PlatformTheHive {
		if inv.Cassandra == nil {
			d.errorf(pick("platform"), "platform: thehive needs a cassandra section (keyspace, username, password)")
		}
		if inv.Elasticsearch == nil {
			d.errorf(pick("platform"), "platform: thehive needs an elasticsearch section (url, index, repository)")
		}
		if len(inv.Nodes) > 0 && len(inv.NodesWithRole(RoleCassandra)) == 0 {
			d.errorf(pick("nodes"), "nodes: platform thehive needs at least one node with role cassandra")
		}
	}

	d.validateAlien4Cloud(inv, pick, keyPos)
	if inv.Platform != "" && inv.Platform != PlatformTheHive && inv.Platform != PlatformAlien4Cloud && inv.Elasticsearch != nil && !d.has["elasticsearch.index"] {
		d.errorf(keyPos("elasticsearch"), "elasticsearch.index: is required for platform %s (the index to snapshot)", inv.Platform)
	}

	d.validateEclecticIQ(inv, pick, keyPos)

	// Storage.
	if s := inv.Storage; s != nil {
		required("storage.provider", "localfs or s3")
		switch s.Provider {
		case StorageLocalFS:
			if !d.has["storage.path"] {
				d.errorf(pick("storage.provider"), "storage.path: provider localfs needs path, the absolute directory holding the files on the nodes")
			}
			if s.S3 != nil {
				d.errorf(keyPos("storage.s3"), "storage.s3: is only used with provider: s3")
			}
		case StorageS3:
			if s.S3 == nil {
				d.errorf(pick("storage.provider"), "storage.s3: provider s3 needs an s3 section with endpoint and bucket")
				break
			}
			if !d.has["storage.s3.endpoint"] {
				d.errorf(keyPos("storage.s3"), "storage.s3.endpoint: is required for provider s3 (an http:// or https:// URL)")
			}
			if !d.has["storage.s3.bucket"] {
				d.errorf(keyPos("storage.s3"), "storage.s3.bucket: is required for provider s3")
			}
		}
	}
}
