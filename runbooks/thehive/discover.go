package thehive

import (
	"context"
	"fmt"
	"io"
	"net"
	"path"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/host"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// TheHiveConfPath is where TheHive keeps its configuration.
const TheHiveConfPath = "/etc/thehive/application.conf"

// ReadTheHiveConf reads /etc/thehive/application.conf on node (through sudo),
// following its includes on the same node, and extracts what hotsnap needs.
// When the files use substitutions (${VAR}, ${?VAR}), they are resolved with
// the environment of the running thehive service, as TheHive itself sees it
// (TheHiveEnvironment); when the service is not running, without it, and a
// warning says so. Errors name the node and the file with line:col.
func ReadTheHiveConf(ctx context.Context, ex steps.Executor, node string) (*config.TheHiveConf, error) {
	data, err := host.ReadFile(ctx, ex, node, TheHiveConfPath)
	if err != nil {
		return nil, fmt.Errorf("read TheHive configuration: %w", err)
	}
	substs := strings.Contains(string(data), "${")
	read := map[string][]byte{} // includes, read once for both passes
	include := func(p string) ([]byte, error) {
		if !path.IsAbs(p) {
			p = path.Join(path.Dir(TheHiveConfPath), p)
		}
		if b, ok := read[p]; ok {
			return b, nil
		}
		b, err := host.ReadFile(ctx, ex, node, p)
		if err == nil {
			read[p] = b
			substs = substs || strings.Contains(string(b), "${")
		}
		return b, err
	}
	opts := config.HOCONOptions{Env: map[string]string{}, Include: include}
	conf, err := config.ReadTheHiveConf(TheHiveConfPath, data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	if !substs {
		return conf, nil
	}
	env, err := TheHiveEnvironment(ctx, ex, node)
	if err != nil {
		conf.Warnings = append(conf.Warnings, fmt.Sprintf("the configuration uses ${...} substitutions, resolved without TheHive's environment: %v; check the values drafted from them", err))
		return conf, nil
	}
	opts.Env = env
	if conf, err = config.ReadTheHiveConf(TheHiveConfPath, data, opts); err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	return conf, nil
}

// theHiveEnvCmd prints the environment of the running thehive service,
// NUL-separated, or fails when it does not run.
const theHiveEnvCmd = `pid=$(systemctl show -p MainPID --value thehive 2>/dev/null); [ -n "$pid" ] && [ "$pid" != 0 ] && cat /proc/"$pid"/environ`

// TheHiveEnvironment returns the environment of the running thehive service
// on node (/proc/MAINPID/environ, through sudo): what TheHive resolves the
// ${VAR} and ${?VAR} substitutions of its configuration with. Values may be
// secrets: they are only used to resolve the configuration, never shown.
func TheHiveEnvironment(ctx context.Context, ex steps.Executor, node string) (map[string]string, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: theHiveEnvCmd, Sudo: true, Stdout: &b, Stderr: io.Discard})
	if err != nil {
		return nil, fmt.Errorf("%s: the environment of the thehive service could not be read (is it running?)", node)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(b.String(), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env, nil
}

// RingAddresses returns the addresses of every ring member, as `nodetool
// status` on node shows them.
func RingAddresses(ctx context.Context, ex steps.Executor, node, keyspace string) ([]string, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: "nodetool status " + remote.Quote(keyspace), Stdout: &b, Stderr: io.Discard})
	if err != nil {
		if perr := parse.ParseNodetoolError(b.String()); perr != nil {
			return nil, fmt.Errorf("%s: nodetool status: %w", node, perr)
		}
		return nil, err
	}
	ring, err := parse.ParseNodetoolStatus(b.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	var out []string
	for _, n := range ring.Nodes() {
		out = append(out, n.Address)
	}
	return out, nil
}

// NodeFacts is what init learns by logging in to a node.
type NodeFacts struct {
	Hostname string
	TheHive  bool // /etc/thehive/application.conf exists
}

// ProbeNode reads a node's short host name and whether TheHive is installed.
func ProbeNode(ctx context.Context, ex steps.Executor, node string) (NodeFacts, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: "hostname -s; if [ -e " + TheHiveConfPath + " ]; then echo thehive; fi", Sudo: true, Stdout: &b, Stderr: io.Discard})
	if err != nil {
		return NodeFacts{}, err
	}
	lines := strings.Fields(b.String())
	if len(lines) == 0 {
		return NodeFacts{}, fmt.Errorf("%s: hostname printed nothing", node)
	}
	return NodeFacts{Hostname: lines[0], TheHive: len(lines) > 1 && lines[1] == "thehive"}, nil
}

// ESURLFor picks the Elasticsearch URL as seen from the nodes: the node's
// own loopback when Elasticsearch runs on the TheHive nodes (as the
// documented scripts assume), else the first configured host.
func ESURLFor(conf *config.TheHiveConf, nodeAddrs []string) string {
	scheme := conf.ESScheme
	if scheme == "" {
		scheme = config.DefaultESScheme
	}
	local := map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true}
	for _, a := range nodeAddrs {
		local[a] = true
	}
	for _, h := range conf.ESHosts {
		host, port := h, "9200"
		if hh, pp, err := net.SplitHostPort(h); err == nil {
			host, port = hh, pp
		}
		if local[host] {
			return scheme + "://127.0.0.1:" + port
		}
	}
	if len(conf.ESHosts) > 0 {
		h := conf.ESHosts[0]
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "9200")
		}
		return scheme + "://" + h
	}
	return config.DefaultESURL
}
