package realoutput

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	body, header, err := Read(write("a", "# source: x\n#         more of it\n# kind: derived\n# Persistence\nloading:0\n"))
	if err != nil || body != "# Persistence\nloading:0\n" || header != "# source: x\n#         more of it\n# kind: derived\n" {
		t.Errorf("Read = %q %q %v", body, header, err)
	}
	if _, _, err := Read(write("b", "no header\n")); err == nil {
		t.Error("a sample without provenance lines read without an error")
	}
	if _, _, err := Read(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing sample read without an error")
	}
}
