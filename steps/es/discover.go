package es

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Answers says whether Elasticsearch answers on the ring member
// node: a TCP connection through node's SSH connection to the port of
// esURL on the node's loopback when esURL is a loopback URL (Elasticsearch
// beside Cassandra, as the runbook's cluster has it), else whether node
// itself is one of the configured search hosts (host[:port]).
func Answers(ctx context.Context, dial remote.DialFunc, node, esURL string, searchHosts []string) bool {
	u, err := url.Parse(esURL)
	if err != nil || u.Host == "" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = "9200"
	}
	if !config.IsLocalHost(u.Hostname()) {
		for _, h := range searchHosts {
			if hh, _, err := net.SplitHostPort(h); err == nil {
				h = hh
			}
			if h == node {
				return true
			}
		}
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := dial(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Repositories lists the snapshot repositories registered on the cluster
// that node reaches at url.
func Repositories(ctx context.Context, dial remote.DialFunc, node, url, user, pass string) ([]parse.ESRepository, error) {
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
		if e, perr := parse.ParseESError(resp.Body); perr == nil && e != nil {
			return nil, fmt.Errorf("%s: GET /_snapshot: %w", node, e)
		}
		return nil, fmt.Errorf("%s: GET /_snapshot: HTTP %d", node, resp.Status)
	}
	return parse.ParseRepositories(resp.Body)
}

// InfoAndIndices returns the cluster's root document (version, cluster
// name) and its index names, sorted, as node reaches it at url.
func InfoAndIndices(ctx context.Context, dial remote.DialFunc, node, url, user, pass string) (*parse.ESInfo, []string, error) {
	cl, err := remote.NewESClient(node, url, user, pass, dial)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	resp, err := cl.Do(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: GET %s/: HTTP %d", node, url, resp.Status)
	}
	info, err := parse.ParseESRoot(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", node, err)
	}
	resp, err = cl.Do(ctx, http.MethodGet, "/_cat/indices?format=json&h=index,health,status", nil)
	if err != nil {
		return info, nil, err
	}
	if resp.Status != http.StatusOK {
		return info, nil, fmt.Errorf("%s: GET _cat/indices: HTTP %d", node, resp.Status)
	}
	rows, err := parse.ParseCatIndices(resp.Body)
	if err != nil {
		return info, nil, fmt.Errorf("%s: %w", node, err)
	}
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		names = append(names, r.Index)
	}
	slices.Sort(names)
	return info, names, nil
}

// PickIndex chooses the index an inventory names for a platform from the
// cluster's indices: the exact name or, failing that, the first that
// starts with it (EclecticIQ's "documents" is "documents_v2" on disk).
func PickIndex(indices []string, prefix, base string) string {
	want := prefix + base
	if slices.Contains(indices, want) {
		return want
	}
	for _, ix := range indices {
		if strings.HasPrefix(ix, want) {
			return ix
		}
	}
	return ""
}
