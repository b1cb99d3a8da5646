package es

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

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
	return listRepositories(ctx, cl)
}

// listRepositories lists the cluster's snapshot repositories (GET
// /_snapshot).
func listRepositories(ctx context.Context, cl *remote.ESClient) ([]parse.ESRepository, error) {
	return read(ctx, cl, "list the snapshot repositories", esapi.SnapshotGetRepositoryRequest{}, parse.ParseRepositories)
}

// InfoAndIndices returns the cluster's root document (version, cluster
// name) and its index names, sorted, as node reaches it at url.
func InfoAndIndices(ctx context.Context, dial remote.DialFunc, node, url, user, pass string) (*parse.ESInfo, []string, error) {
	cl, err := remote.NewESClient(node, url, user, pass, dial)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	info, err := Info(ctx, cl)
	if err != nil {
		return nil, nil, err
	}
	rows, err := read(ctx, cl, "list the indices", esapi.CatIndicesRequest{Format: "json", H: []string{"index", "health", "status"}}, parse.ParseCatIndices)
	if err != nil {
		return info, nil, err
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
