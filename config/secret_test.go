package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretResolveEnv(t *testing.T) {
	t.Setenv("HOTSNAP_TEST_SECRET", "s3cr3t-env")
	t.Setenv("HOTSNAP_TEST_EMPTY", "")
	v, err := Secret{Kind: SecretEnv, Ref: "HOTSNAP_TEST_SECRET"}.Resolve(nil)
	if err != nil || v != "s3cr3t-env" {
		t.Errorf("Resolve = %q, %v", v, err)
	}
	_, err = Secret{Kind: SecretEnv, Ref: "HOTSNAP_TEST_EMPTY"}.Resolve(nil)
	if err == nil || !strings.Contains(err.Error(), "HOTSNAP_TEST_EMPTY is empty") {
		t.Errorf("empty env: %v", err)
	}
	_, err = Secret{Kind: SecretEnv, Ref: "HOTSNAP_TEST_UNSET_XYZ"}.Resolve(nil)
	if err == nil || !strings.Contains(err.Error(), "HOTSNAP_TEST_UNSET_XYZ is not set") {
		t.Errorf("unset env: %v", err)
	}
}

func TestSecretResolveFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		content string
		want    string
		err     string
	}{
		{"pa55word\n", "pa55word", ""},
		{"pa55word\r\nsecond line\n", "pa55word", ""},
		{"no-newline", "no-newline", ""},
		{" spaced \n", " spaced ", ""},
		{"", "", "the first line is empty"},
		{"\nsecond\n", "", "the first line is empty"},
	}
	for i, tt := range tests {
		p := write(fmt.Sprintf("s%d", i), tt.content)
		v, err := Secret{Kind: SecretFile, Ref: p}.Resolve(nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), p) {
				t.Errorf("%q: err = %v, want %q naming the file", tt.content, err, tt.err)
			}
			continue
		}
		if err != nil || v != tt.want {
			t.Errorf("%q: Resolve = %q, %v; want %q", tt.content, v, err, tt.want)
		}
	}
	missing := filepath.Join(dir, "missing")
	_, err := Secret{Kind: SecretFile, Ref: missing}.Resolve(nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSecretResolveFileHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "pw"), []byte("from-home\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := Secret{Kind: SecretFile, Ref: "~/.config/pw"}.Resolve(nil)
	if err != nil || v != "from-home" {
		t.Errorf("Resolve(~) = %q, %v", v, err)
	}
	if p, err := ExpandHome("~"); err != nil || p != home {
		t.Errorf("ExpandHome(~) = %q, %v", p, err)
	}
	if p, err := ExpandHome("/abs/~x"); err != nil || p != "/abs/~x" {
		t.Errorf("ExpandHome(/abs) = %q, %v", p, err)
	}
	if _, err := ExpandHome("~bob/x"); err == nil {
		t.Error("ExpandHome(~bob/x) must fail")
	}
}

func TestSecretResolvePrompt(t *testing.T) {
	s := Secret{Kind: SecretPrompt, Ref: "cassandra.password"}
	var asked string
	v, err := s.Resolve(func(label string) (string, error) {
		asked = label
		return "typed", nil
	})
	if err != nil || v != "typed" || asked != "cassandra.password" {
		t.Errorf("Resolve = %q, %v (label %q)", v, err, asked)
	}
	_, err = s.Resolve(nil)
	if err == nil || !strings.Contains(err.Error(), "needs a terminal: set env:NAME or file:PATH instead") {
		t.Errorf("nil prompter: %v", err)
	}
	boom := errors.New("boom")
	_, err = s.Resolve(func(string) (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Errorf("prompter error not wrapped: %v", err)
	}
	_, err = s.Resolve(func(string) (string, error) { return "", nil })
	if err == nil {
		t.Error("empty answer accepted")
	}
	_, err = Secret{}.Resolve(nil)
	if err == nil {
		t.Error("unset secret resolved")
	}
	_, err = Secret{Kind: "vault", Ref: "x"}.Resolve(nil)
	if err == nil || !strings.Contains(err.Error(), "vault") {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestSecretString(t *testing.T) {
	tests := []struct {
		s    Secret
		want string
		set  bool
	}{
		{Secret{}, "", false},
		{Secret{Kind: SecretEnv, Ref: "A"}, "env:A", true},
		{Secret{Kind: SecretFile, Ref: "~/p"}, "file:~/p", true},
		{Secret{Kind: SecretPrompt, Ref: "label"}, "prompt", true},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if tt.s.IsSet() != tt.set {
			t.Errorf("%v IsSet = %v", tt.s, tt.s.IsSet())
		}
		if got := fmt.Sprintf("%v|%+v|%s|%#v", tt.s, tt.s, tt.s, tt.s); strings.Count(got, tt.want) < 4 {
			t.Errorf("formatting = %q", got)
		}
	}
}

func TestParseSecretForms(t *testing.T) {
	tests := []struct {
		in   string
		want Secret
		bad  bool
	}{
		{"env:CASSANDRA_PASSWORD", Secret{SecretEnv, "CASSANDRA_PASSWORD"}, false},
		{"env:_x1", Secret{SecretEnv, "_x1"}, false},
		{"file:/etc/pw", Secret{SecretFile, "/etc/pw"}, false},
		{"file:~/pw", Secret{SecretFile, "~/pw"}, false},
		{"prompt", Secret{SecretPrompt, "k.p"}, false},
		{"env:", Secret{}, true},
		{"env:1ABC", Secret{}, true},
		{"env:A B", Secret{}, true},
		{"env:$(id)", Secret{}, true},
		{"file:", Secret{}, true},
		{"file:relative", Secret{}, true},
		{"file:/a\nb", Secret{}, true},
		{"Prompt", Secret{}, true},
		{"hunter2", Secret{}, true},
		{"ENV:X", Secret{}, true},
	}
	for _, tt := range tests {
		got, msg := parseSecret(tt.in, "k.p")
		if tt.bad != (msg != "") || got != tt.want {
			t.Errorf("parseSecret(%q) = %#v, %q", tt.in, got, msg)
		}
		if msg != "" && len(tt.in) > len("file:") && strings.Contains(msg, tt.in) {
			t.Errorf("message %q echoes the value %q", msg, tt.in)
		}
	}
}

// TestSecretsNeverInErrors loads the sample with inline secrets and checks
// that no value from it reaches any error string.
func TestSecretsNeverInErrors(t *testing.T) {
	_, err := Load(filepath.Join(dataDir, "bad-inline-secret.yaml"))
	if err == nil {
		t.Fatal("inline secrets accepted")
	}
	for _, secret := range []string{"Sup3rS3cret", "hunter2", "12345678", "9LIVES", "relative/secret"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error output contains %q:\n%v", secret, err)
		}
	}
	// A YAML syntax error on a line holding a secret must not quote the line.
	_, err = Parse("s.yaml", []byte("cassandra:\n  password: env:X\n  username: a: Sup3rS3cret\n"))
	if err == nil || strings.Contains(err.Error(), "Sup3rS3cret") {
		t.Errorf("syntax error leaks the line: %v", err)
	}
}
