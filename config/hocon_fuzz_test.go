package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParseHOCON checks that ParseHOCON never panics or hangs and that every
// failure carries a position. Includes resolve to the input itself (so
// cycles and depth limits are exercised) or to a small fixed file.
func FuzzParseHOCON(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(confDir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, ".source") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`a = ${?X} ${b}, b = [1] [2]`,
		`include "self.conf"`,
		`include required(file("other.conf"))` + "\nx = ${y}",
		`a = """x""""`,
		`a { b = ${a.c}, c = ${a.b} }`,
		`m += 1, m += ${m}`,
		"a{0=${a.c},c=${a}}",                               // once crashed: a nested resolution removed a field mid-loop
		"include \"a/self.conf\"\ninclude \"b/self.conf\"", // include fan-out
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := HOCONOptions{
			Env: map[string]string{"X": "x", "HOME": "/root"},
			Include: func(p string) ([]byte, error) {
				switch filepath.Base(p) {
				case "self.conf", "application.conf":
					return data, nil
				case "other.conf":
					return []byte("y = 1\nz = [${?X}]"), nil
				}
				return nil, os.ErrNotExist
			},
		}
		start := time.Now()
		c, err := ParseHOCON("/etc/thehive/application.conf", data, opts)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("parse took %v", d)
		}
		if err == nil {
			if c == nil {
				t.Fatal("nil Conf without error")
			}
			_ = c.TheHive()
			return
		}
		if c != nil {
			t.Fatal("Conf returned with an error")
		}
		errs := Errors(err)
		if len(errs) == 0 {
			t.Fatalf("error %v (%T) holds no *Error", err, err)
		}
		for _, e := range errs {
			if e.Line < 1 || e.Col < 1 || e.File == "" || e.Msg == "" {
				t.Fatalf("unpositioned error %#v", e)
			}
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("errors.As found no *Error in %v", err)
		}
	})
}
