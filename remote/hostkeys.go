package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UnknownHostError is returned when a node's host key is not in known_hosts.
// Nothing has been run on the node.
type UnknownHostError struct {
	Addr        string
	KeyType     string
	Fingerprint string // SHA256:...
	File        string
}

// Error gives the offered key's fingerprint and says how to check and accept it.
func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("unknown host key %s %s (not in %s): check it out of band (on the node: ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then re-run with --accept-new-hosts to trust it",
		e.KeyType, e.Fingerprint, e.File, keyFileStem(e.KeyType))
}

// ChangedHostKeyError is returned when a node offers a key other than the one
// known_hosts holds for it. The node is refused; nothing has been run on it.
type ChangedHostKeyError struct {
	Addr        string
	KeyType     string
	Fingerprint string
	Known       []string // "file:line SHA256:..." of the keys on record
}

// Error names the node, the known and the offered keys.
func (e *ChangedHostKeyError) Error() string {
	return fmt.Sprintf("HOST KEY CHANGED: the node offers %s %s but known_hosts has %v; refusing to connect (this can be a man-in-the-middle). If the change is expected (node reinstalled), remove the old entry with `ssh-keygen -R %s` and re-run with --accept-new-hosts",
		e.KeyType, e.Fingerprint, e.Known, hostForKeygen(e.Addr))
}

func keyFileStem(keyType string) string {
	switch keyType {
	case ssh.KeyAlgoED25519:
		return "ed25519"
	case ssh.KeyAlgoRSA:
		return "rsa"
	default:
		return "ecdsa"
	}
}

func hostForKeygen(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "22" {
		return host
	}
	return "[" + host + "]:" + port
}

// knownHostsMu serialises appends to known_hosts from parallel connects.
var knownHostsMu sync.Mutex

// hostKeyPolicy returns the host-key callback for addr and the host-key
// algorithms to offer: those of the keys on record for addr, so that the
// server is not asked for a key type we have no record of (which would look
// like a changed key).
func hostKeyPolicy(file string, acceptNew bool, addr string) (ssh.HostKeyCallback, []string, error) {
	file = expandHome(file)
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if !acceptNew {
			return nil, nil, fmt.Errorf("known_hosts file %s does not exist: create it (ssh-keyscan, or connect once with ssh) or re-run with --accept-new-hosts", file)
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, nil, fmt.Errorf("create %s: %w", filepath.Dir(file), err)
		}
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			return nil, nil, fmt.Errorf("create %s: %w", file, err)
		}
	}
	check, err := knownhosts.New(file)
	if err != nil {
		return nil, nil, fmt.Errorf("read known_hosts %s: %w", file, err)
	}
	algos := knownAlgorithms(check, addr)
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var ke *knownhosts.KeyError
		if err == nil || !errors.As(err, &ke) {
			return err
		}
		if len(ke.Want) > 0 {
			known := make([]string, len(ke.Want))
			for i, w := range ke.Want {
				known[i] = fmt.Sprintf("%s:%d %s", w.Filename, w.Line, ssh.FingerprintSHA256(w.Key))
			}
			return &ChangedHostKeyError{Addr: hostname, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Known: known}
		}
		if !acceptNew {
			return &UnknownHostError{Addr: hostname, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), File: file}
		}
		return appendKnownHost(file, hostname, key)
	}
	return cb, algos, nil
}

// knownAlgorithms asks the known_hosts database which key types it holds for
// addr, by checking a throwaway key: the resulting KeyError lists them.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	probe, err := ssh.NewPublicKey(probeKey)
	if err != nil {
		return nil
	}
	err = check(addr, &net.TCPAddr{IP: net.IPv4zero}, probe)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil // unknown host: let the server pick
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range ke.Want {
		for _, a := range algorithmsFor(w.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

func appendKnownHost(file, hostname string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("add host key to %s: %w", file, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key)
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return fmt.Errorf("add host key to %s: %w", file, err)
	}
	return f.Close()
}

// probeKey is a key no host has, used by knownAlgorithms.
var probeKey = ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
