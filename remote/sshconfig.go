package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshConfig is a parsed ~/.ssh/config (or nil when there is none).
type sshConfig struct{ cfg *ssh_config.Config }

// hop is a fully resolved destination: where to connect, as whom, with which
// keys, through which jump hosts.
type hop struct {
	host          string
	port          int
	user          string
	identityFiles []string
	jumps         []Target
}

func (h hop) addr() string { return net.JoinHostPort(h.host, strconv.Itoa(h.port)) }

func loadSSHConfig(path string) (sshConfig, error) {
	if path == "none" {
		return sshConfig{}, nil
	}
	explicit := path != ""
	if !explicit {
		path = "~/.ssh/config"
	}
	f, err := os.Open(expandHome(path))
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return sshConfig{}, nil
	}
	if err != nil {
		return sshConfig{}, err
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return sshConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return sshConfig{cfg}, nil
}

func (s sshConfig) get(alias, key string) string {
	if s.cfg == nil {
		return ""
	}
	v, _ := s.cfg.Get(alias, key)
	return v
}

func (s sshConfig) getAll(alias, key string) []string {
	if s.cfg == nil {
		return nil
	}
	v, _ := s.cfg.GetAll(alias, key)
	return v
}

// resolve applies ~/.ssh/config to t the way ssh(1) does for a host given on
// the command line: values set in the inventory (t) win, then the config's
// Host block, then the defaults (port 22, the local user, ~/.ssh/id_*).
func (s sshConfig) resolve(t Target) hop {
	h := hop{host: t.Host, port: t.Port, user: t.User}
	if hn := s.get(t.Host, "HostName"); hn != "" {
		h.host = strings.ReplaceAll(hn, "%h", t.Host)
	}
	if h.port == 0 {
		if p, err := strconv.Atoi(s.get(t.Host, "Port")); err == nil && p > 0 {
			h.port = p
		} else {
			h.port = 22
		}
	}
	if h.user == "" {
		h.user = s.get(t.Host, "User")
	}
	if h.user == "" {
		h.user = currentUser()
	}
	h.identityFiles = append(h.identityFiles, t.IdentityFiles...)
	h.identityFiles = append(h.identityFiles, s.getAll(t.Host, "IdentityFile")...)
	h.identityFiles = append(h.identityFiles, "~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
	if pj := s.get(t.Host, "ProxyJump"); pj != "" && !strings.EqualFold(pj, "none") {
		for _, j := range strings.Split(pj, ",") {
			h.jumps = append(h.jumps, parseJump(strings.TrimSpace(j)))
		}
	}
	return h
}

// maxHops bounds a ProxyJump chain, so that a loop in ~/.ssh/config (a
// "Host *" block with a ProxyJump that matches the jump host itself) is an
// error instead of endless recursion.
const maxHops = 8

// route returns the hosts to connect through, in order, ending with t
// itself, as ssh(1) builds them: ProxyJump "a,b" reaches b through a and
// the destination through b, and the first jump host's own ProxyJump
// applies to it in turn.
func (s sshConfig) route(t Target) ([]hop, error) { return s.routeDepth(t, 0) }

func (s sshConfig) routeDepth(t Target, depth int) ([]hop, error) {
	if depth > maxHops {
		return nil, fmt.Errorf("ProxyJump chain to %s is longer than %d hosts: is there a loop in the ssh config (a Host * block whose ProxyJump matches the jump host)?", t.Host, maxHops)
	}
	h := s.resolve(t)
	if len(h.jumps) == 0 {
		if pc := s.get(t.Host, "ProxyCommand"); pc != "" && !strings.EqualFold(pc, "none") {
			return nil, fmt.Errorf("ProxyCommand (for %s) is not supported: hotsnap does not run local commands to connect; use ProxyJump instead", t.Host)
		}
		return []hop{h}, nil
	}
	out, err := s.routeDepth(h.jumps[0], depth+1)
	if err != nil {
		return nil, err
	}
	for _, j := range h.jumps[1:] {
		jh := s.resolve(j)
		jh.jumps = nil // reached through the previous hop, as with ssh -J
		out = append(out, jh)
	}
	if len(out) > maxHops {
		return nil, fmt.Errorf("ProxyJump chain to %s is longer than %d hosts", t.Host, maxHops)
	}
	return append(out, h), nil
}

// parseJump reads one ProxyJump element: [ssh://][user@]host[:port].
func parseJump(s string) Target {
	var t Target
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndex(s, "@"); i >= 0 {
		t.User, s = s[:i], s[i+1:]
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		t.Host = host
		t.Port, _ = strconv.Atoi(port)
	} else {
		t.Host = strings.Trim(s, "[]")
	}
	t.Name = t.Host
	return t
}
