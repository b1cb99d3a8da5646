package es

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/hotsnap/hotsnap/remote"
)

func TestAnswers(t *testing.T) {
	dialOK := func(_ context.Context, network, addr string) (net.Conn, error) {
		if addr != "127.0.0.1:9201" {
			return nil, fmt.Errorf("dial %s: connection refused", addr)
		}
		a, b := net.Pipe()
		b.Close()
		return a, nil
	}
	dialFail := func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("connection refused") }
	for _, c := range []struct {
		name  string
		dial  remote.DialFunc
		node  string
		url   string
		hosts []string
		want  bool
	}{
		{"answers on the node's loopback", dialOK, "10.0.0.1", "http://127.0.0.1:9201", nil, true},
		{"nothing listens there", dialFail, "10.0.0.1", "http://127.0.0.1:9201", nil, false},
		{"another port", dialOK, "10.0.0.1", "https://127.0.0.1:9200", nil, false},
		{"a configured search host", dialFail, "10.0.0.5", "http://es1:9200", []string{"es1:9200", "10.0.0.5:9200"}, true},
		{"not a search host", dialOK, "10.0.0.6", "http://es1:9200", []string{"es1:9200", "10.0.0.5"}, false},
	} {
		if got := Answers(context.Background(), c.dial, c.node, c.url, c.hosts); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPickIndex(t *testing.T) {
	idx := []string{"audit_v2", "csar", "csargitrepository", "documents_v2", "eiq_documents_v3"}
	for _, tt := range []struct{ prefix, base, want string }{{"", "csar", "csar"}, {"", "documents", "documents_v2"}, {"eiq_", "documents", "eiq_documents_v3"}, {"", "stix", ""}} {
		if got := PickIndex(idx, tt.prefix, tt.base); got != tt.want {
			t.Errorf("PickIndex(%q,%q) = %q, want %q", tt.prefix, tt.base, got, tt.want)
		}
	}
}
