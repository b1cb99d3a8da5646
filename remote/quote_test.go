package remote

import (
	"os/exec"
	"testing"
)

func TestQuoteShapes(t *testing.T) {
	for in, want := range map[string]string{
		"":             "''",
		"thehive":      "thehive",
		"/var/lib/x-1": "/var/lib/x-1",
		"a b":          "'a b'",
		"it's":         `'it'\''s'`,
		"$(id)":        "'$(id)'",
		"-rf":          "-rf",
		"*":            "'*'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestQuoteRoundTripThroughShell runs hostile strings through a real sh and
// checks that each arrives as one unchanged argument.
func TestQuoteRoundTripThroughShell(t *testing.T) {
	hostile := []string{
		"", " ", "a b", "it's", `"double"`, "$(touch /tmp/hotsnap-pwned)", "`id`", "a;rm -rf /",
		"x\ny", "\t", "-n", "--", "*", "~root", "${HOME}", `back\slash`, "'", "''", `'\''`,
		"ünïcødé ☃", "a&&b||c", "<in >out 2>&1", "!event", "#comment", "%s%n",
	}
	for _, s := range hostile {
		cmd := exec.Command("sh", "-c", "printf '%s' "+Quote(s))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh failed for %q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("round trip of %q gave %q", s, out)
		}
	}
	// Join keeps argument boundaries.
	out, err := exec.Command("sh", "-c", "for a in "+Join("a b", "", "c'd")+"; do printf '[%s]' \"$a\"; done").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "[a b][][c'd]" {
		t.Errorf("Join boundaries: got %s", got)
	}
}

func FuzzQuote(f *testing.F) {
	f.Add("a'b")
	f.Add("$(x)\n`y`")
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i < len(s); i++ {
			if s[i] == 0 {
				return
			}
		}
		out, err := exec.Command("sh", "-c", "printf '%s' "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("sh failed for %q: %v", s, err)
		}
		if string(out) != s {
			t.Fatalf("round trip of %q gave %q", s, out)
		}
	})
}
