// Package es holds what hotsnap asks of Elasticsearch (or OpenSearch),
// reached through a node's SSH tunnel: the checks of the cluster and its
// snapshot repository, snapshots (start, follow to SUCCESS, delete, find,
// check), the restore of indices (delete, restore, follow _recovery,
// count, cancel), index sizes, and what `hotsnap init` reads. Remedies name
// the inventory's keys and the cluster's own files; what a platform adds
// (the versions it supports) comes from the caller.
//
// Every request is one of go-elasticsearch's esapi request types (typed
// path parts and query parameters), performed by Do over the tunnelled
// remote.ESClient — not through the top-level elasticsearch.Client, whose
// product check refuses OpenSearch and Elasticsearch 6.8, which send no
// X-Elastic-Product header.
package es

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

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

// Open returns a client of the cluster (elasticsearch.url, as seen from
// Node) and the node it goes through.
func Open(env *steps.Env) (*remote.ESClient, string, error) {
	node, es := Node(env), env.Inv.Elasticsearch
	cl, err := remote.NewESClient(node, es.URL, es.Username, env.ESPassword, env.Dial(node))
	return cl, node, err
}

// Response is Elasticsearch's answer to one request.
type Response struct {
	// Node is the node the request went through; Request is its method
	// and path ("PUT /_snapshot/repo/name").
	Node, Request string
	// Status is the HTTP status; Body the answer (at most remote.MaxBody).
	Status int
	Body   []byte
}

// Do performs req (an esapi request type) through cl and reads the
// answer. Only a failure to get an answer is an error, naming the node
// and the request; every status is an answer, for the caller to judge
// (HTTPError).
func Do(ctx context.Context, cl *remote.ESClient, req esapi.Request) (*Response, error) {
	t := &recorder{cl: cl}
	res, err := req.Do(ctx, t)
	if err != nil {
		if t.request == "" { // esapi could not build the request
			return nil, fmt.Errorf("%s: elasticsearch request: %w", cl.Node(), err)
		}
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Node: cl.Node(), Request: t.request, Status: res.StatusCode, Body: body}, nil
}

// recorder notes the method and path of the request it passes on.
type recorder struct {
	cl      *remote.ESClient
	request string
}

func (r *recorder) Perform(req *http.Request) (*http.Response, error) {
	r.request = req.Method + " " + req.URL.Path
	return r.cl.Perform(req)
}

// call performs req and returns the answer when its status is 200 or one
// of also; any other status is HTTPError(what).
func call(ctx context.Context, cl *remote.ESClient, what string, req esapi.Request, also ...int) (*Response, error) {
	r, err := Do(ctx, cl, req)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK && !slices.Contains(also, r.Status) {
		return nil, HTTPError(what, r)
	}
	return r, nil
}

// read performs req and returns its 200 answer as parse reads it; an
// answer it cannot read is an error naming the node, what was being done
// and the request, like any other status (HTTPError).
func read[T any](ctx context.Context, cl *remote.ESClient, what string, req esapi.Request, parse func([]byte) (T, error)) (T, error) {
	var v T
	r, err := call(ctx, cl, what, req)
	if err != nil {
		return v, err
	}
	if v, err = parse(r.Body); err != nil {
		return v, r.wrap(what, err)
	}
	return v, nil
}

// HTTPError is the error of an answer that is not a success: the node,
// what was being done, the request, the status and Elasticsearch's error
// (type and reason) when the body is one, else the start of the body.
func HTTPError(what string, r *Response) error {
	err := r.wrap(what, answerError(r))
	if r.Status == http.StatusUnauthorized {
		return fmt.Errorf("%w: check elasticsearch.username and elasticsearch.password in the inventory", err)
	}
	return err
}

// wrap names the node, what was being done and the request before err.
func (r *Response) wrap(what string, err error) error {
	return fmt.Errorf("%s: %s (%s): %w", r.Node, what, r.Request, err)
}

// answerError is what an answer that is not a success says: Elasticsearch's
// error (a *parse.ESError) when the body is one.
func answerError(r *Response) error {
	if e, err := parse.ParseESError(r.Body); err == nil && e != nil {
		if e.Status == 0 {
			e.Status = r.Status
		}
		return e
	}
	if body := strings.TrimSpace(string(r.Body)); body != "" {
		return fmt.Errorf("HTTP %d: %.300s", r.Status, body)
	}
	return fmt.Errorf("HTTP %d", r.Status)
}

// del performs a delete request; a 404 (already gone) is no error.
// deleted says whether there was something to delete.
func del(ctx context.Context, cl *remote.ESClient, what string, req esapi.Request) (deleted bool, err error) {
	r, err := call(ctx, cl, what, req, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	return r.Status == http.StatusOK, nil
}

// indicesBody is the body of a snapshot's start and of a restore: the
// indices, without the cluster's global state.
type indicesBody struct {
	Indices            string `json:"indices"`
	IncludeGlobalState bool   `json:"include_global_state"`
}

func (b indicesBody) reader() io.Reader {
	j, _ := json.Marshal(b) // a string and a bool always encode
	return bytes.NewReader(j)
}

// withoutGlobalState is the body that names indices.
func withoutGlobalState(indices []string) io.Reader {
	return indicesBody{Indices: strings.Join(indices, ",")}.reader()
}

// Info reads the cluster's root document (distribution, version, name).
func Info(ctx context.Context, cl *remote.ESClient) (*parse.ESInfo, error) {
	return read(ctx, cl, "read the cluster's version", esapi.InfoRequest{}, parse.ParseESRoot)
}

// Exists says whether index exists (HEAD /index answers 200).
func Exists(ctx context.Context, cl *remote.ESClient, index string) bool {
	r, err := Do(ctx, cl, esapi.IndicesExistsRequest{Index: []string{index}})
	return err == nil && r.Status == http.StatusOK
}
