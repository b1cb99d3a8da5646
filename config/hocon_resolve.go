package config

import (
	"fmt"
	"strconv"
	"strings"
)

// maxSubstChain bounds how many substitutions may be resolved inside one
// another.
const maxSubstChain = 1000

// resolver replaces substitutions and concatenations by their values.
type resolver struct {
	root  *hnode
	env   map[string]string
	errs  []*Error
	work  int
	chain int
}

func (r *resolver) fail(at hpos, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: at.file, Line: at.line, Col: at.col, Msg: fmt.Sprintf(format, args...)})
}

// spend counts created values; false once the budget is exhausted.
func (r *resolver) spend(n int, at hpos) bool {
	r.work += n
	if r.work > maxResolveWork {
		if r.work-n <= maxResolveWork {
			r.fail(at, "substitutions expand to more than %d values", maxResolveWork)
		}
		return false
	}
	return true
}

// resolveObject resolves every field of obj in place; undefined fields
// (optional substitutions that found nothing) are removed.
func (r *resolver) resolveObject(obj *hnode) {
	for _, k := range append([]string(nil), obj.keys...) {
		f := obj.fields[k]
		if f == nil { // removed by a nested resolution of this object
			continue
		}
		v := r.resolve(f)
		if v == nil || v.kind == kUndefined {
			obj.del(k)
			continue
		}
		obj.fields[k] = v
	}
}

// resolve returns n's value: an object or list (resolved in place), a
// scalar, kUndefined, or nil after recording an error.
func (r *resolver) resolve(n *hnode) *hnode {
	switch n.kind {
	case kObject:
		r.resolveObject(n)
		return n
	case kList:
		out := n.items[:0]
		for _, it := range n.items {
			v := r.resolve(it)
			if v == nil || v.kind == kUndefined {
				continue
			}
			out = append(out, v)
		}
		n.items = out
		return n
	case kConcat, kSubst:
	default:
		return n
	}
	if n.resolved != nil {
		return n.resolved
	}
	if n.resolving {
		what := "this value"
		if n.kind == kSubst {
			what = n.expr
		}
		r.fail(n.pos, "bad substitution: %s is part of a cycle of substitutions", what)
		return nil
	}
	if r.chain >= maxSubstChain {
		r.fail(n.pos, "bad substitution: more than %d substitutions nested", maxSubstChain)
		return nil
	}
	n.resolving = true
	r.chain++
	defer func() { n.resolving = false; r.chain-- }()
	var v *hnode
	if n.kind == kSubst {
		v = r.substitute(n)
	} else {
		v = r.concat(n)
	}
	if v == nil {
		return nil
	}
	if n.fallback != nil {
		switch v.kind {
		case kUndefined:
			v = r.resolve(n.fallback)
		case kObject:
			if fb := r.resolve(n.fallback); fb != nil && fb.kind == kObject {
				v = r.merge(fb, v)
			}
		}
		if v == nil {
			return nil
		}
	}
	n.resolved = v
	return v
}

func (r *resolver) substitute(n *hnode) *hnode {
	v, found, failed := r.lookup(n.path)
	if failed {
		return nil
	}
	if found {
		return v
	}
	if val, ok := r.env[n.text]; ok {
		return &hnode{kind: kScalar, pos: n.pos, text: val, st: sString}
	}
	if n.optional {
		return &hnode{kind: kUndefined, pos: n.pos}
	}
	r.fail(n.pos, "bad substitution %s: not a key of the configuration and not in the environment", n.expr)
	return nil
}

// lookup finds the resolved value at path; failed means an error was
// recorded on the way.
func (r *resolver) lookup(path []string) (v *hnode, found, failed bool) {
	node := r.root
	for _, k := range path {
		if node.kind != kObject {
			node = r.resolve(node)
			if node == nil {
				return nil, false, true
			}
			if node.kind != kObject {
				return nil, false, false
			}
		}
		child := node.fields[k]
		if child == nil {
			return nil, false, false
		}
		node = child
	}
	node = r.resolve(node)
	if node == nil {
		return nil, false, true
	}
	if node.kind == kUndefined {
		return nil, false, false
	}
	return node, true, false
}

func (r *resolver) concat(n *hnode) *hnode {
	var parts []*hnode
	var kinds [3]bool // scalar, list, object
	for _, it := range n.items {
		v := r.resolve(it)
		if v == nil {
			return nil
		}
		if v.kind == kUndefined {
			continue
		}
		parts = append(parts, v)
		switch {
		case v.kind == kScalar && v.st != sSpace:
			kinds[0] = true
		case v.kind == kList:
			kinds[1] = true
		case v.kind == kObject:
			kinds[2] = true
		}
	}
	count := 0
	for _, k := range kinds {
		if k {
			count++
		}
	}
	switch {
	case count == 0:
		return &hnode{kind: kUndefined, pos: n.pos}
	case count > 1:
		r.fail(n.pos, "cannot concatenate %s in one value", mixDescription(kinds))
		return nil
	case kinds[0]:
		if len(parts) == 1 {
			return parts[0]
		}
		var sb strings.Builder
		for _, p := range parts {
			sb.WriteString(p.text)
		}
		if !r.spend(1, n.pos) {
			return nil
		}
		return &hnode{kind: kScalar, pos: n.pos, text: strings.TrimSpace(sb.String()), st: sString}
	case kinds[1]:
		out := &hnode{kind: kList, pos: n.pos}
		for _, p := range parts {
			if p.kind != kList {
				continue
			}
			if !r.spend(len(p.items), n.pos) {
				return nil
			}
			out.items = append(out.items, p.items...)
		}
		return out
	}
	var out *hnode
	for _, p := range parts {
		if p.kind != kObject {
			continue
		}
		if out == nil {
			out = p
			continue
		}
		if out = r.merge(out, p); out == nil {
			return nil
		}
	}
	return out
}

func mixDescription(k [3]bool) string {
	var names []string
	for i, n := range []string{"a string", "a list", "an object"} {
		if k[i] {
			names = append(names, n)
		}
	}
	return strings.Join(names, " with ")
}

// merge returns a new object with over's fields merged onto base's
// (objects merge recursively; anything else in over wins).
func (r *resolver) merge(base, over *hnode) *hnode {
	if !r.spend(len(base.keys)+len(over.keys), over.pos) {
		return nil
	}
	out := newObject(over.pos)
	for _, k := range base.keys {
		out.set(k, base.fields[k])
	}
	for _, k := range over.keys {
		o := over.fields[k]
		if b := out.fields[k]; b != nil && b.kind == kObject && o.kind == kObject {
			if o = r.merge(b, o); o == nil {
				return nil
			}
		}
		out.set(k, o)
	}
	return out
}

// splitPath parses a path expression such as a.b."c.d"; a path that does
// not parse is split on dots.
func splitPath(s string) []string {
	p := &hparser{src: []rune(s), line: 1, col: 1}
	p.skip(false)
	elems, err := p.parseKey("path")
	if err != nil || !p.eof() {
		return strings.Split(s, ".")
	}
	return elems
}

func (c *Conf) get(path string) *hnode {
	if c == nil || c.root == nil {
		return nil
	}
	node := c.root
	for _, k := range splitPath(path) {
		if node.kind != kObject {
			return nil
		}
		if node = node.fields[k]; node == nil {
			return nil
		}
	}
	return node
}

// Has reports whether path is set to a value other than null.
func (c *Conf) Has(path string) bool {
	n := c.get(path)
	return n != nil && !(n.kind == kScalar && n.st == sNull)
}

// String returns the value at path as text; ok is false when path is
// missing, null, a list or an object.
func (c *Conf) String(path string) (string, bool) {
	n := c.get(path)
	if n == nil || n.kind != kScalar || n.st == sNull {
		return "", false
	}
	return n.text, true
}

// Strings returns the list at path as text; ok is false when path is
// missing, is not a list, or holds a list or object element.
func (c *Conf) Strings(path string) ([]string, bool) {
	n := c.get(path)
	if n == nil || n.kind != kList {
		return nil, false
	}
	out := make([]string, 0, len(n.items))
	for _, it := range n.items {
		if it.kind != kScalar {
			return nil, false
		}
		out = append(out, it.text)
	}
	return out, true
}

// Int returns the integer at path (a number, or a string holding one).
func (c *Conf) Int(path string) (int, bool) {
	s, ok := c.String(path)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return v, true
}

// Bool returns the boolean at path; like TheHive's configuration library it
// accepts true/false, yes/no and on/off.
func (c *Conf) Bool(path string) (bool, bool) {
	s, ok := c.String(path)
	if !ok {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// Kind names the type of the value at path ("object", "list", "string",
// "number", "boolean", "null"), or "" when path is missing.
func (c *Conf) Kind(path string) string {
	n := c.get(path)
	if n == nil {
		return ""
	}
	switch n.kind {
	case kObject:
		return "object"
	case kList:
		return "list"
	}
	switch n.st {
	case sNumber:
		return "number"
	case sBool:
		return "boolean"
	case sNull:
		return "null"
	}
	return "string"
}
