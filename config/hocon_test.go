package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string, opts HOCONOptions) *Conf {
	t.Helper()
	c, err := ParseHOCON("/etc/thehive/application.conf", []byte(src), opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func wantString(t *testing.T, c *Conf, path, want string) {
	t.Helper()
	got, ok := c.String(path)
	if !ok || got != want {
		t.Errorf("%s = %q (%v), want %q", path, got, ok, want)
	}
}

func TestHOCONSyntax(t *testing.T) {
	src := `
# comment
// another comment
a.b.c = 1
a { b { d: "two" }, e = true }
a.b { f = 3 }           // merged with the earlier a.b
plain = hello world  # trailing comment
timeout = 1 minute
quoted = "x\ty\"z\u00e9"
triple = """line1
"quoted" line2"""""
"dotted.key" = dk
list = [1, "two",
  three
  [4], {five: 5},
]
empty {}
num = -1.5e3
nul = null
onoff = on
sep1 : v1, sep2 = v2
override = { x = 1 }
override = 7
scalligraph.modules += org.thp.thehive.connector.cortex.CortexModule
scalligraph.modules += org.thp.thehive.connector.misp.MispModule
path = /usr
path = ${path}":/bin"
ref = ${a.b.d}-${plain}
obj = ${a.b} { g = 9 }
late = ${later}
later = 42
port = 9042
port = ${?CQL_PORT}
host = localhost
host = ${?CQL_HOST}
home = ${HOME}
maybe = ${?NOPE}
`
	c := mustParse(t, src, HOCONOptions{Env: map[string]string{"HOME": "/root", "CQL_HOST": "db1"}})
	wantString(t, c, "a.b.c", "1")
	wantString(t, c, "a.b.d", "two")
	wantString(t, c, "a.b.f", "3")
	if v, ok := c.Bool("a.e"); !ok || !v {
		t.Errorf("a.e = %v %v", v, ok)
	}
	wantString(t, c, "plain", "hello world")
	wantString(t, c, "timeout", "1 minute")
	wantString(t, c, "quoted", "x\ty\"zé")
	wantString(t, c, "triple", "line1\n\"quoted\" line2\"\"")
	wantString(t, c, `"dotted.key"`, "dk")
	if c.Has("dotted.key") {
		t.Error("a quoted key must not be split on its dot")
	}
	if c.Kind("list") != "list" || c.Kind("list.x") != "" {
		t.Errorf("kinds %q %q", c.Kind("list"), c.Kind("list.x"))
	}
	if _, ok := c.Strings("list"); ok {
		t.Error("Strings must refuse a list holding a list and an object")
	}
	if c.Kind("empty") != "object" || c.Kind("num") != "number" || c.Kind("nul") != "null" || c.Kind("a.e") != "boolean" {
		t.Errorf("kinds empty=%q num=%q nul=%q a.e=%q", c.Kind("empty"), c.Kind("num"), c.Kind("nul"), c.Kind("a.e"))
	}
	if c.Has("nul") {
		t.Error("Has(null key) should be false")
	}
	if v, ok := c.Bool("onoff"); !ok || !v {
		t.Errorf("onoff = %v %v", v, ok)
	}
	wantString(t, c, "sep1", "v1")
	wantString(t, c, "sep2", "v2")
	if v, ok := c.Int("override"); !ok || v != 7 {
		t.Errorf("override = %d %v", v, ok)
	}
	mods, ok := c.Strings("scalligraph.modules")
	if want := []string{"org.thp.thehive.connector.cortex.CortexModule", "org.thp.thehive.connector.misp.MispModule"}; !ok || !reflect.DeepEqual(mods, want) {
		t.Errorf("modules = %q %v", mods, ok)
	}
	wantString(t, c, "path", "/usr:/bin")
	wantString(t, c, "ref", "two-hello world")
	wantString(t, c, "obj.d", "two")
	wantString(t, c, "obj.g", "9")
	wantString(t, c, "late", "42")
	if v, ok := c.Int("port"); !ok || v != 9042 {
		t.Errorf("port with absent ${?CQL_PORT} = %d %v, want the earlier 9042", v, ok)
	}
	wantString(t, c, "host", "db1")
	wantString(t, c, "home", "/root")
	if c.Kind("maybe") != "" {
		t.Error("an absent ${?NOPE} must leave the key unset")
	}
}

func TestHOCONBracedRootAndListSubst(t *testing.T) {
	c := mustParse(t, "{ a = [${?X}, 1, ${?Y}], b = [x] [y] }", HOCONOptions{Env: map[string]string{"Y": "y"}})
	got, _ := c.Strings("a")
	if !reflect.DeepEqual(got, []string{"1", "y"}) {
		t.Errorf("a = %q", got)
	}
	got, _ = c.Strings("b")
	if !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("b = %q", got)
	}
}

func TestHOCONIncludes(t *testing.T) {
	files := map[string]string{
		"/etc/thehive/secret.conf":       `play.http.secret.key="k"`,
		"/etc/thehive/conf.d/index.conf": `index.name = idx` + "\n" + `include "more.conf"`,
		"/etc/thehive/conf.d/more.conf":  `extra = ${base}`,
		"/etc/thehive/nested.conf":       `x = 1, y = ${x}`, // relative to the include point: inner.x
	}
	src := `
base = b
include "secret.conf"
include file("conf.d/index.conf")
inner { include required("/etc/thehive/nested.conf") }
include "absent.conf"
`
	c := mustParse(t, src, HOCONOptions{Include: mapReader(files)})
	wantString(t, c, "play.http.secret.key", "k")
	wantString(t, c, "index.name", "idx")
	wantString(t, c, "extra", "b")
	wantString(t, c, "inner.x", "1")
	wantString(t, c, "inner.y", "1")
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], `"/etc/thehive/absent.conf" not found`) {
		t.Errorf("warnings %q", c.Warnings)
	}

	// A required include that is missing fails, naming the file.
	_, err := ParseHOCON("/etc/thehive/application.conf", []byte("a = 1\ninclude required(file(\"gone.conf\"))\n"), HOCONOptions{Include: mapReader(files)})
	checkErr(t, err, "/etc/thehive/application.conf", 2, 1, `required include "/etc/thehive/gone.conf" not found`)

	// A read failure other than "not found" is an error that wraps the cause.
	boom := errors.New("ssh: connection lost")
	_, err = ParseHOCON("/etc/thehive/application.conf", []byte(`include "x.conf"`), HOCONOptions{Include: func(string) ([]byte, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the read failure", err)
	}
	checkErr(t, err, "/etc/thehive/application.conf", 1, 1, `cannot read included file "/etc/thehive/x.conf"`)

	// Errors inside an included file carry that file's name and position.
	files["/etc/thehive/bad.conf"] = "ok = 1\nbad = \"open\n"
	_, err = ParseHOCON("/etc/thehive/application.conf", []byte(`include "bad.conf"`), HOCONOptions{Include: mapReader(files)})
	checkErr(t, err, "/etc/thehive/bad.conf", 2, 7, "unterminated string")
}

// checkErr asserts err holds an *Error at file:line:col whose message
// contains msg.
func checkErr(t *testing.T, err error, file string, line, col int, msg string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	if ce.File != file || ce.Line != line || ce.Col != col || !strings.Contains(ce.Msg, msg) {
		t.Errorf("got %q, want %s:%d:%d: …%s…", ce.Error(), file, line, col, msg)
	}
}

func TestHOCONErrors(t *testing.T) {
	cycle := map[string]string{
		"/c/a.conf": "x = 1\ninclude \"b.conf\"",
		"/c/b.conf": "\n\n  include \"a.conf\"",
	}
	tests := []struct {
		name, src  string
		file       string
		line, col  int
		msg        string
		opts       HOCONOptions
		rootAsFile string
	}{
		{name: "unterminated string", src: "a = 1\nb = \"abc\n", line: 2, col: 5, msg: "unterminated string"},
		{name: "unterminated triple", src: "a = \"\"\"abc\n\n", line: 1, col: 5, msg: "unterminated string"},
		{name: "unclosed brace", src: "a {\n  b = 1\n", line: 1, col: 3, msg: "unbalanced brace"},
		{name: "extra brace", src: "a = 1\n}\n", line: 2, col: 1, msg: "unbalanced '}'"},
		{name: "unclosed list", src: "a = [1,\n2\n", line: 1, col: 5, msg: "unbalanced bracket"},
		{name: "unterminated subst", src: "a = ${b\n", line: 1, col: 5, msg: "unterminated ${"},
		{name: "empty subst", src: "a = ${}", line: 1, col: 5, msg: "${} names no key"},
		{name: "undefined subst", src: "a = 1\nb = x ${nope.key}\n", line: 2, col: 7, msg: "bad substitution ${nope.key}: not a key"},
		{name: "self subst without value", src: "a = ${a}", line: 1, col: 5, msg: "refers to the key being set"},
		{name: "subst cycle", src: "a = ${b}\nb = ${a}\n", line: 1, col: 5, msg: "cycle"},
		{name: "mixed concat", src: "a = [1]\nb = x ${a}\n", line: 2, col: 5, msg: "cannot concatenate a string with a list"},
		{name: "missing value", src: "a =\n", line: 1, col: 4, msg: "missing value for key a"},
		{name: "missing separator", src: "a b\n", line: 1, col: 4, msg: `expected '=', ':', '+=' or '{' after key "a b"`},
		{name: "doc elision", src: "[..]\na = 1\n", line: 1, col: 1, msg: "not a list"},
		{name: "forbidden char", src: "url = http://x\n", line: 1, col: 11, msg: "unexpected ':'"},
		{name: "bad escape", src: `a = "x\q"`, line: 1, col: 7, msg: `bad escape "\\q"`},
		{name: "double comma", src: "a = 1,,\n", line: 1, col: 7, msg: "expected a key, found ','"},
		{name: "empty key element", src: "a..b = 1", line: 1, col: 3, msg: "empty element"},
		{name: "include cycle", src: cycle["/c/a.conf"], rootAsFile: "/c/a.conf", file: "/c/b.conf", line: 3, col: 3,
			msg: "include cycle: /c/a.conf → /c/b.conf → /c/a.conf", opts: HOCONOptions{Include: mapReader(cycle)}},
		{name: "url include", src: `include url("http://x/y.conf")`, line: 1, col: 1, msg: "not supported"},
		{name: "too deep", src: strings.Repeat("a{", 200), line: 1, col: 201, msg: "nested deeper than"},
		{name: "invalid utf8", src: "a = \"\xff\"", line: 1, col: 6, msg: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "t.conf"
			if tt.rootAsFile != "" {
				name = tt.rootAsFile
			}
			file := tt.file
			if file == "" {
				file = name
			}
			c, err := ParseHOCON(name, []byte(tt.src), tt.opts)
			if err == nil {
				t.Fatalf("no error; parsed %+v", c)
			}
			if c != nil {
				t.Error("a Conf was returned with the error")
			}
			checkErr(t, err, file, tt.line, tt.col, tt.msg)
		})
	}
}

func TestHOCONExpansionBounded(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("a0 = [1, 2]\n")
	for i := 1; i < 40; i++ {
		sb.WriteString(fmt.Sprintf("a%d = ${a%d} ${a%d}\n", i, i-1, i-1))
	}
	_, err := ParseHOCON("t.conf", []byte(sb.String()), HOCONOptions{})
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "expand to more than") {
		t.Fatalf("exponential expansion not stopped: %v", err)
	}
}

func TestHOCONNilInclude(t *testing.T) {
	c := mustParse(t, `include "x.conf"`+"\na = 1", HOCONOptions{})
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "not found") {
		t.Errorf("warnings %q", c.Warnings)
	}
	_, err := ParseHOCON("t.conf", []byte(`include required("x.conf")`), HOCONOptions{})
	checkErr(t, err, "t.conf", 1, 1, `required include "x.conf" not found`)
}
