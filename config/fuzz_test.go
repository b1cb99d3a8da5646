package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that every failure is an
// *Error with a position (Line ≥ 1, Col ≥ 1), or an errors.Join of them.
// A successful parse must survive Write and read back the same.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(dataDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(base))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("nodes: [{name: n, host: h, roles: [x]}, ~, [], {}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("f.yaml", data)
		if err == nil {
			if inv == nil {
				t.Fatal("nil inventory without error")
			}
			checkRoundTrip(t, inv)
			return
		}
		if inv != nil {
			t.Fatal("inventory returned with an error")
		}
		checkPositioned(t, err)
	})
}

// checkPositioned fails unless err is a positioned *Error or a join of them.
func checkPositioned(t *testing.T, err error) {
	t.Helper()
	if ce, ok := err.(*Error); ok {
		if ce.Line < 1 || ce.Col < 1 || ce.File != "f.yaml" || ce.Msg == "" {
			t.Fatalf("bad position or message: %#v", ce)
		}
		return
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error is %T, not *Error or a joined list: %v", err, err)
	}
	list := j.Unwrap()
	if len(list) < 2 {
		t.Fatalf("joined list of %d errors", len(list))
	}
	for _, e := range list {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("member %T is not *Error: %v", e, e)
		}
		checkPositioned(t, e)
	}
}

// checkRoundTrip writes inv and reads it back.
func checkRoundTrip(t *testing.T, inv *Inventory) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "rt.yaml")
	if err := Write(out, inv); err != nil {
		t.Fatalf("Write of a parsed inventory failed: %v", err)
	}
	back, err := Load(out)
	if err != nil {
		t.Fatalf("Load of a written inventory failed: %v", err)
	}
	sameInventory(t, inv, back)
}
