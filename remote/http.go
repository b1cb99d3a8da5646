package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// DialFunc opens a connection; Client.DialContext (the SSH tunnel) is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// HTTPClient sends HTTP requests to a service on a node, usually through
// the SSH tunnel of that node so that "http://127.0.0.1:9200" means the
// node's own loopback, as the documented scripts assume. It adds basic
// auth, bounds every answer's body, names the node in its errors, and
// never retries a request (a retried snapshot start would find its own
// snapshot and fail).
//
// It is the esapi.Transport (Perform) over which steps/es performs
// go-elasticsearch's request types — instead of the top-level
// elasticsearch.Client, whose product check refuses OpenSearch — and it
// reads an application's health URL (Get).
type HTTPClient struct {
	node    string
	service string
	base    *url.URL
	user    string
	pass    string
	hc      *http.Client
}

// ESClient is the HTTPClient hotsnap reaches Elasticsearch or OpenSearch
// through.
type ESClient = HTTPClient

// MaxBody bounds what is read of one answer: reading more is an error.
const MaxBody = 64 << 20

// NewHTTPClient returns a client of service (named in errors, e.g.
// "elasticsearch") at rawURL (http or https, optionally with a path
// prefix) that dials with dial (nil: directly). node names the node in
// errors; user, when set, is sent with pass as basic auth.
func NewHTTPClient(node, service, rawURL, user, pass string, dial DialFunc) (*HTTPClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s url %q: want http(s)://host:port", service, rawURL)
	}
	u.User = nil
	tr := &http.Transport{ResponseHeaderTimeout: 60 * time.Second, MaxIdleConnsPerHost: 4}
	if dial != nil {
		tr.DialContext = dial
	}
	return &HTTPClient{node: node, service: service, base: u, user: user, pass: pass, hc: &http.Client{Transport: tr}}, nil
}

// NewESClient returns the client of the Elasticsearch or OpenSearch
// cluster at rawURL as node reaches it with dial (nil: directly).
func NewESClient(node, rawURL, user, pass string, dial DialFunc) (*ESClient, error) {
	return NewHTTPClient(node, "elasticsearch", rawURL, user, pass, dial)
}

// URL returns the base URL (without credentials).
func (c *HTTPClient) URL() string { return c.base.String() }

// Node returns the node the client reaches the service through.
func (c *HTTPClient) Node() string { return c.node }

// Perform sends req, whose URL is taken relative to the client's base
// (esapi builds "http:///_snapshot/…"), with the client's credentials. A
// failure to get an answer is a *NodeError naming the node, the service
// and the request; any status is an answer. The answer's body reads at
// most MaxBody bytes, then fails. A path that is not clean (a "." or ".."
// segment, "//") or a URL with a fragment is refused unsent: a name that
// escaped validation must not turn into another path.
func (c *HTTPClient) Perform(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	if p == "" {
		p = "/"
	}
	step := c.service + " " + req.Method + " " + p
	if path.Clean(p) != p || req.URL.Fragment != "" || req.URL.RawFragment != "" {
		return nil, &NodeError{Node: c.node, Addr: c.base.Host, Step: step, Err: fmt.Errorf("refused to send: the path %q is not a clean path", req.URL.String())}
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + p
	u.RawPath, u.RawQuery = "", req.URL.RawQuery
	out := req.Clone(req.Context())
	out.URL, out.Host = &u, ""
	if c.user != "" && out.Header.Get("Authorization") == "" {
		out.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(out)
	if err != nil {
		return nil, &NodeError{Node: c.node, Addr: c.base.Host, Step: step, Err: unwrapURLError(err)}
	}
	resp.Body = &boundedBody{rc: resp.Body, left: MaxBody, err: func(err error) error {
		return &NodeError{Node: c.node, Addr: c.base.Host, Step: step, Err: err}
	}}
	return resp, nil
}

// Get reads path (which may hold a query) and returns the status and the
// body of the answer, whatever its status.
func (c *HTTPClient) Get(ctx context.Context, path string) (int, []byte, error) {
	p, q, _ := strings.Cut(path, "?")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http:///"+strings.TrimPrefix(p, "/"), nil)
	if err != nil {
		return 0, nil, &NodeError{Node: c.node, Addr: c.base.Host, Step: c.service + " GET " + path, Err: err}
	}
	req.URL.RawQuery = q
	resp, err := c.Perform(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// boundedBody fails a read past left bytes; its errors name the node.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	err  func(error) error
}

// errTooLarge is the cause of a read past MaxBody.
var errTooLarge = fmt.Errorf("answer larger than %d bytes", MaxBody)

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err(errTooLarge)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), b.err(errTooLarge)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = b.err(err)
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// unwrapURLError drops net/http's "Get \"url\": " prefix; NodeError says it.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Close releases idle connections.
func (c *HTTPClient) Close() { c.hc.CloseIdleConnections() }
