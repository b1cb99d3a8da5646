package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Secret kinds.
const (
	SecretEnv    = "env"    // Ref is an environment variable name
	SecretFile   = "file"   // Ref is a path (first line is the value; ~ expands)
	SecretPrompt = "prompt" // asked on the terminal; Ref is the label (the key's path)
)

// errInlineSecret is the message for a secret written as a literal value.
const errInlineSecret = "secrets are never stored inline: use env:NAME, file:PATH or prompt"

// Secret is a reference to a password or key, never the value itself.
// In YAML it is one of the strings "env:NAME", "file:PATH" or "prompt".
type Secret struct {
	Kind string // "", "env", "file", "prompt"
	Ref  string // env: variable name; file: path as written; prompt: label (may be empty)
}

// IsSet reports whether a secret is configured.
func (s Secret) IsSet() bool { return s.Kind != "" }

// String renders the reference as written in YAML ("env:NAME", "file:PATH",
// "prompt" or ""); it never holds a value.
func (s Secret) String() string {
	switch s.Kind {
	case SecretEnv, SecretFile:
		return s.Kind + ":" + s.Ref
	case SecretPrompt:
		return SecretPrompt
	case "":
		return ""
	}
	return "invalid-secret-kind"
}

// GoString keeps %#v from printing anything but the reference.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Resolve returns the secret's value: from the environment variable (error
// naming the variable if unset or empty), from the first line of the file
// (~ expanded; error naming the file), or from prompt, called with a label
// (error if prompt is nil, since there is no terminal to ask on). Errors
// never contain the value.
func (s Secret) Resolve(prompt func(label string) (string, error)) (string, error) {
	switch s.Kind {
	case SecretEnv:
		v, ok := os.LookupEnv(s.Ref)
		if !ok {
			return "", fmt.Errorf("secret env:%s: environment variable %s is not set", s.Ref, s.Ref)
		}
		if v == "" {
			return "", fmt.Errorf("secret env:%s: environment variable %s is empty", s.Ref, s.Ref)
		}
		return v, nil
	case SecretFile:
		return readSecretFile(s.Ref)
	case SecretPrompt:
		label := s.Ref
		if label == "" {
			label = "password"
		}
		if prompt == nil {
			return "", fmt.Errorf("secret for %s is set to prompt, which needs a terminal: set env:NAME or file:PATH instead", label)
		}
		v, err := prompt(label)
		if err != nil {
			return "", fmt.Errorf("prompt for %s: %w", label, err)
		}
		if v == "" {
			return "", fmt.Errorf("prompt for %s: empty answer", label)
		}
		return v, nil
	case "":
		return "", errors.New("no secret configured")
	}
	return "", fmt.Errorf("secret kind %q is not one of env, file, prompt", s.Kind)
}

// maxSecretFile bounds how much of a secret file is read.
const maxSecretFile = 64 << 10

// readSecretFile returns the first line of the file at path (~ expanded),
// without its line ending.
func readSecretFile(path string) (string, error) {
	full, err := ExpandHome(path)
	if err != nil {
		return "", fmt.Errorf("secret file:%s: %w", path, err)
	}
	f, err := os.Open(full)
	if err != nil {
		return "", fmt.Errorf("secret file:%s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReader(io.LimitReader(f, maxSecretFile))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("secret file:%s: read: %w", path, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("secret file:%s: the first line is empty", path)
	}
	return line, nil
}

// ExpandHome replaces a leading "~" or "~/" in path with the current user's
// home directory. Other paths are returned unchanged; "~user/..." is an error.
func ExpandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~") {
		return path, nil
	}
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return "", fmt.Errorf("%q: only ~/ is expanded, not ~user/", path)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %q: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

// parseSecret reads a secret reference from its YAML string. label is the
// key's path, kept as the prompt label. The returned message never quotes s.
func parseSecret(s, label string) (Secret, string) {
	switch {
	case s == "":
		return Secret{}, ""
	case s == SecretPrompt:
		return Secret{Kind: SecretPrompt, Ref: label}, ""
	case strings.HasPrefix(s, "env:"):
		name := s[len("env:"):]
		if !validEnvName(name) {
			return Secret{}, "env: needs an environment variable name (letters, digits and _, not starting with a digit), like env:HOTSNAP_PASSWORD"
		}
		return Secret{Kind: SecretEnv, Ref: name}, ""
	case strings.HasPrefix(s, "file:"):
		p := s[len("file:"):]
		if err := validLocalPath(p); err != nil {
			return Secret{}, "file: needs an absolute path or one starting with ~/, like file:~/.config/hotsnap/password"
		}
		return Secret{Kind: SecretFile, Ref: p}, ""
	}
	return Secret{}, errInlineSecret
}
