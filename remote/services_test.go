package remote

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"

	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/elastic"
)

// The CQL stand-in logs through zerolog's global logger; keep tests quiet.
func init() { zerolog.SetGlobalLevel(zerolog.Disabled) }

// TestESClientThroughTunnel reaches the Elasticsearch stand-in through the
// SSH tunnel of the in-process server, as hotsnap reaches a node's
// 127.0.0.1:9200, performing go-elasticsearch's esapi request types over
// the client.
func TestESClientThroughTunnel(t *testing.T) {
	cl, err := elastic.NewCluster(t.TempDir(), elastic.Options{PathRepo: []string{t.TempDir()}, Auth: "elastic:pw"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(elastic.NewHandler(cl, "node1"))
	defer srv.Close()

	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	es, err := NewESClient("node1", srv.URL, "elastic", "pw", c.DialContext)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := esapi.ClusterHealthRequest{}.Do(context.Background(), es)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&h) != nil || h.Status == "" {
		t.Fatalf("health: %s", resp)
	}
	resp.Body.Close()
	// Wrong credentials come back as ES's own 401 answer, not an error.
	bad, _ := NewESClient("node1", srv.URL, "elastic", "nope", c.DialContext)
	status, body, err := bad.Get(context.Background(), "/")
	if err != nil || status != 401 || !strings.Contains(string(body), "security_exception") {
		t.Fatalf("401 expected: %v %d %s", err, status, body)
	}
	// A closed port is an error naming the node.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	gone, _ := NewESClient("node1", "http://"+addr, "", "", c.DialContext)
	if _, _, err := gone.Get(context.Background(), "/"); err == nil || !strings.HasPrefix(err.Error(), "node1 (") {
		t.Fatalf("want an error naming node1, got %v", err)
	}
	if _, err := NewESClient("node1", "ftp://x", "", "", nil); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

// TestCQLSessionThroughTunnel runs the real driver against the Cassandra
// stand-in, dialling through the SSH connection.
func TestCQLSessionThroughTunnel(t *testing.T) {
	port := freeTCPPort(t)
	dir := filepath.Join(t.TempDir(), "data")
	st, err := cassandra.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := cassandra.Seed(st, "thehive", 1, 2<<20, 1); err != nil {
		t.Fatal(err)
	}
	n, err := cassandra.NewNode(cassandra.Config{DataDir: dir, ListenAddress: "127.0.0.1", CQLPort: port, ControlPort: freeTCPPort(t),
		Auth: true, Users: map[string]string{"admin": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Stop()

	env := newTestEnv(t, true)
	c, err := Dial(context.Background(), env.target("node1"), env.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := NewCQLSession(CQLOptions{Hosts: []string{"127.0.0.1"}, Port: port, Username: "admin", Password: "s3cret", Dial: c.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var count int64
	if err := s.Query("SELECT count(*) FROM thehive.edgestore").Scan(&count); err != nil || count == 0 {
		t.Fatalf("count = %d, %v", count, err)
	}
	if _, err := NewCQLSession(CQLOptions{Hosts: []string{"127.0.0.1"}, Port: port, Username: "admin", Password: "wrong", Dial: c.DialContext}); err == nil {
		t.Fatal("wrong password accepted")
	}
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
