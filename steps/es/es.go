// Package es holds what hotsnap asks of Elasticsearch (or OpenSearch),
// reached through a node's SSH tunnel: the checks of the cluster and its
// snapshot repository, snapshots (start, follow to SUCCESS, delete, find,
// check), the restore of indices (delete, restore, follow _recovery,
// count, cancel), index sizes, and what `hotsnap init` reads. Remedies name
// the inventory's keys and the cluster's own files; what a platform adds
// (the versions it supports) comes from the caller.
package es

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Component is what the steps of this package work on (Step.Component).
const Component = "elasticsearch"

// Node is the node through whose tunnel Elasticsearch is reached: the
// first with the elasticsearch role.
func Node(env *steps.Env) string { return env.FirstWith(config.RoleElasticsearch) }

// Open returns a REST client of the cluster (elasticsearch.url, as seen
// from Node) and the node it goes through.
func Open(env *steps.Env) (*remote.ESClient, string, error) {
	node, es := Node(env), env.Inv.Elasticsearch
	cl, err := remote.NewESClient(node, es.URL, es.Username, env.ESPassword, env.Dial(node))
	return cl, node, err
}

// HTTPError is the error of an answer that is not a success: what was
// being done, the status, and Elasticsearch's error (type and reason) when
// the body is one.
func HTTPError(what string, r *remote.ESResponse) error {
	if e, err := parse.ParseESError(r.Body); err == nil && e != nil {
		return fmt.Errorf("%s: HTTP %d: %w", what, r.Status, e)
	}
	return fmt.Errorf("%s: HTTP %d: %.300s", what, r.Status, r.Body)
}

// Info reads the cluster's root document (distribution, version, name).
func Info(ctx context.Context, cl *remote.ESClient) (*parse.ESInfo, error) {
	r, err := cl.Do(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, HTTPError("GET /", r)
	}
	return parse.ParseESRoot(r.Body)
}

// Exists says whether index exists (HEAD /index answers 200).
func Exists(ctx context.Context, cl *remote.ESClient, index string) bool {
	r, err := cl.Do(ctx, http.MethodHead, "/"+index, nil)
	return err == nil && r.Status == http.StatusOK
}

// del sends DELETE path; a 404 (already gone) is no error. deleted says
// whether there was something to delete.
func del(ctx context.Context, cl *remote.ESClient, path, what string) (deleted bool, err error) {
	r, err := cl.Do(ctx, http.MethodDelete, path, nil)
	switch {
	case err != nil:
		return false, err
	case r.Status == http.StatusNotFound:
		return false, nil
	case r.Status != http.StatusOK:
		return false, HTTPError(what, r)
	}
	return true, nil
}

// snapshotPath is /_snapshot/REPO/NAME.
func snapshotPath(repository, name string) string {
	return "/_snapshot/" + url.PathEscape(repository) + "/" + url.PathEscape(name)
}
