package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// seen is what a test server received.
type seen struct {
	mu       sync.Mutex
	requests []string
	auth     []string
	ctype    []string
	bodies   []string
}

func (s *seen) server(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.ctype = append(s.ctype, r.Header.Get("Content-Type"))
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHTTPClientPerform: an esapi request goes to the base URL (its path
// prefix kept) with basic auth, its typed query and its JSON body; without
// a user no Authorization header is sent.
func TestHTTPClientPerform(t *testing.T) {
	var s seen
	srv := s.server(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"accepted":true}`) })
	cl, err := NewESClient("node1", srv.URL+"/es/", "elastic", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	res, err := esapi.SnapshotCreateRequest{Repository: "repo", Snapshot: "snap", WaitForCompletion: esapi.BoolPtr(false),
		Body: strings.NewReader(`{"indices":"a"}`)}.Do(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != `{"accepted":true}` {
		t.Fatalf("answer %d %s", res.StatusCode, body)
	}
	anon, _ := NewHTTPClient("node1", "thehive", srv.URL, "", "", nil)
	if status, body, err := anon.Get(context.Background(), "/api/status?x=1"); err != nil || status != 200 || !strings.Contains(string(body), "accepted") {
		t.Fatalf("Get: %d %s %v", status, body, err)
	}
	want := []string{"PUT /es/_snapshot/repo/snap?wait_for_completion=false", "GET /api/status?x=1"}
	if strings.Join(s.requests, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests %q, want %q", s.requests, want)
	}
	if !strings.HasPrefix(s.auth[0], "Basic ") || s.auth[1] != "" {
		t.Errorf("Authorization headers %q: want basic auth with a user only", s.auth)
	}
	if s.ctype[0] != "application/json" || s.bodies[0] != `{"indices":"a"}` {
		t.Errorf("body %q (%s)", s.bodies[0], s.ctype[0])
	}
	if cl.URL() != srv.URL+"/es/" || cl.Node() != "node1" {
		t.Errorf("URL %s, node %s", cl.URL(), cl.Node())
	}
}

// TestHTTPClientBoundsTheBody: an answer larger than MaxBody fails to read,
// naming the node and the request, instead of filling memory.
func TestHTTPClientBoundsTheBody(t *testing.T) {
	var s seen
	chunk := strings.Repeat("x", 1<<20)
	srv := s.server(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i <= MaxBody>>20; i++ {
			io.WriteString(w, chunk)
		}
	})
	cl, _ := NewESClient("node1", srv.URL, "", "", nil)
	defer cl.Close()
	_, body, err := cl.Get(context.Background(), "/_cat/indices")
	if err == nil || !errors.Is(err, errTooLarge) || !strings.HasPrefix(err.Error(), "node1 (") || !strings.Contains(err.Error(), "elasticsearch GET /_cat/indices: answer larger than") {
		t.Fatalf("want the bound's error naming node1, got %v (%d bytes)", err, len(body))
	}
	exact := s.server(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, strings.Repeat("y", MaxBody)) })
	cl2, _ := NewESClient("node1", exact.URL, "", "", nil)
	defer cl2.Close()
	if _, body, err := cl2.Get(context.Background(), "/"); err != nil || len(body) != MaxBody {
		t.Fatalf("an answer of exactly MaxBody: %d bytes, %v", len(body), err)
	}
}

// TestHTTPClientRefusesUncleanPaths: a name that would change the path
// (dot segments, a fragment) is refused before anything is sent.
func TestHTTPClientRefusesUncleanPaths(t *testing.T) {
	var s seen
	srv := s.server(t, func(w http.ResponseWriter, r *http.Request) {})
	cl, _ := NewESClient("node1", srv.URL, "", "", nil)
	defer cl.Close()
	for _, req := range []esapi.Request{
		esapi.SnapshotDeleteRequest{Repository: "repo", Snapshot: []string{"x/../../thehive_global"}},
		esapi.SnapshotDeleteRequest{Repository: "repo", Snapshot: []string{"other#x"}},
		esapi.IndicesDeleteRequest{Index: []string{"."}},
	} {
		_, err := req.Do(context.Background(), cl)
		if err == nil || !strings.Contains(err.Error(), "refused to send") || !strings.HasPrefix(err.Error(), "node1 (") {
			t.Errorf("%T: want a refusal naming node1, got %v", req, err)
		}
	}
	if len(s.requests) != 0 {
		t.Fatalf("sent %q", s.requests)
	}
}

// TestHTTPClientNamesTheNode: a failure to connect (the tunnel's dial)
// names the node, its address and the request.
func TestHTTPClientNamesTheNode(t *testing.T) {
	dial := func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("ssh: rejected: connect failed (Connection refused)")
	}
	cl, _ := NewESClient("node1", "http://127.0.0.1:9200", "", "", dial)
	defer cl.Close()
	_, err := esapi.InfoRequest{}.Do(context.Background(), cl)
	if err == nil || err.Error() != "node1 (127.0.0.1:9200): elasticsearch GET /: ssh: rejected: connect failed (Connection refused)" {
		t.Fatalf("error %v", err)
	}
	var ne *NodeError
	if !errors.As(err, &ne) {
		t.Errorf("%T is not a *NodeError", err)
	}
}
