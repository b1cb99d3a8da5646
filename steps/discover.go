package steps

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
)

// TheHiveConfPath is where TheHive keeps its configuration.
const TheHiveConfPath = "/etc/thehive/application.conf"

// maxConfBytes bounds a configuration file read from a node.
const maxConfBytes = 1 << 20

// readRemoteFile returns a file's content read through sudo, or
// fs.ErrNotExist (wrapped) when it is absent.
func readRemoteFile(ctx context.Context, ex Executor, node, file string) ([]byte, error) {
	var b strings.Builder
	q := remote.Quote(file)
	cmd := "if [ -e " + q + " ]; then head -c " + strconv.Itoa(maxConfBytes+1) + " " + q + "; else exit 66; fi"
	res, err := ex.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdout: &b, Stderr: errTail{}})
	if res.ExitCode == 66 {
		return nil, fmt.Errorf("%s: %s: %w", node, file, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if b.Len() > maxConfBytes {
		return nil, fmt.Errorf("%s: %s is larger than %d bytes", node, file, maxConfBytes)
	}
	return []byte(b.String()), nil
}

// ReadTheHiveConf reads /etc/thehive/application.conf on node (through sudo),
// following its includes on the same node, and extracts what hotsnap needs.
// Errors name the node and the file with line:col.
func ReadTheHiveConf(ctx context.Context, ex Executor, node string) (*config.TheHiveConf, error) {
	data, err := readRemoteFile(ctx, ex, node, TheHiveConfPath)
	if err != nil {
		return nil, fmt.Errorf("read TheHive configuration: %w", err)
	}
	include := func(p string) ([]byte, error) {
		if !path.IsAbs(p) {
			p = path.Join(path.Dir(TheHiveConfPath), p)
		}
		return readRemoteFile(ctx, ex, node, p)
	}
	conf, err := config.ReadTheHiveConf(TheHiveConfPath, data, config.HOCONOptions{Env: map[string]string{}, Include: include})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	return conf, nil
}

// RingAddresses returns the addresses of every ring member, as `nodetool
// status` on node shows them.
func RingAddresses(ctx context.Context, ex Executor, node, keyspace string) ([]string, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: "nodetool status " + remote.Quote(keyspace), Stdout: &b, Stderr: errTail{}})
	if err != nil {
		if perr := ParseNodetoolError(b.String()); perr != nil {
			return nil, fmt.Errorf("%s: nodetool status: %w", node, perr)
		}
		return nil, err
	}
	ring, err := ParseNodetoolStatus(b.String())
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
func ProbeNode(ctx context.Context, ex Executor, node string) (NodeFacts, error) {
	var b strings.Builder
	_, err := ex.Run(ctx, node, remote.Command{Cmd: "hostname -s; if [ -e " + TheHiveConfPath + " ]; then echo thehive; fi", Sudo: true, Stdout: &b, Stderr: errTail{}})
	if err != nil {
		return NodeFacts{}, err
	}
	lines := strings.Fields(b.String())
	if len(lines) == 0 {
		return NodeFacts{}, fmt.Errorf("%s: hostname printed nothing", node)
	}
	return NodeFacts{Hostname: lines[0], TheHive: len(lines) > 1 && lines[1] == "thehive"}, nil
}

// ESRepositories lists the snapshot repositories registered on the cluster
// that node reaches at url.
func ESRepositories(ctx context.Context, dial remote.DialFunc, node, url, user, pass string) ([]ESRepository, error) {
	cl, err := remote.NewESClient(node, url, user, pass, dial)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	resp, err := cl.Do(ctx, http.MethodGet, "/_snapshot", nil)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		if e, perr := ParseESError(resp.Body); perr == nil && e != nil {
			return nil, fmt.Errorf("%s: GET /_snapshot: %w", node, e)
		}
		return nil, fmt.Errorf("%s: GET /_snapshot: HTTP %d", node, resp.Status)
	}
	return ParseRepositories(resp.Body)
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
