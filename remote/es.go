package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DialFunc opens a connection; Client.DialContext (the SSH tunnel) is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ESClient talks to the Elasticsearch or OpenSearch REST API, usually through
// the SSH tunnel of a node so that "http://127.0.0.1:9200" means the node's
// own loopback, as the documented scripts assume. It speaks plain REST on
// purpose: the official v8 client refuses OpenSearch, which TheHive supports.
type ESClient struct {
	node string
	base *url.URL
	user string
	pass string
	hc   *http.Client
}

// ESResponse is an HTTP answer; non-2xx statuses are answers too, for the
// caller to read ES's error body.
type ESResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxESBody bounds what is read from one answer.
const maxESBody = 64 << 20

// NewESClient returns a client for rawURL (http or https) that dials with
// dial (nil: directly). node names the node in errors.
func NewESClient(node, rawURL, user, pass string, dial DialFunc) (*ESClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("elasticsearch url %q: want http(s)://host:port", rawURL)
	}
	tr := &http.Transport{
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   4,
		DisableCompression:    false,
	}
	if dial != nil {
		tr.DialContext = dial
	}
	return &ESClient{node: node, base: u, user: user, pass: pass, hc: &http.Client{Transport: tr}}, nil
}

// URL returns the base URL (without credentials).
func (c *ESClient) URL() string { return c.base.String() }

// Do sends method path (path may hold a query) with body (nil, []byte, or a
// value to encode as JSON) and returns the answer.
func (c *ESClient) Do(ctx context.Context, method, path string, body any) (*ESResponse, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s: elasticsearch %s %s: encode body: %w", c.node, method, path, err)
		}
		rd = bytes.NewReader(j)
	}
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(p, "/")
	u.RawQuery = q
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: elasticsearch %s %s: %w", c.node, method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &NodeError{Node: c.node, Addr: c.base.Host, Step: "elasticsearch " + method + " " + p, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxESBody+1))
	if err != nil {
		return nil, &NodeError{Node: c.node, Addr: c.base.Host, Step: "elasticsearch " + method + " " + p, Err: err}
	}
	if len(data) > maxESBody {
		return nil, &NodeError{Node: c.node, Addr: c.base.Host, Step: "elasticsearch " + method + " " + p, Err: fmt.Errorf("answer larger than %d bytes", maxESBody)}
	}
	return &ESResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// unwrapURLError drops net/http's "Get \"url\": " prefix; NodeError says it.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Close releases idle connections.
func (c *ESClient) Close() { c.hc.CloseIdleConnections() }
