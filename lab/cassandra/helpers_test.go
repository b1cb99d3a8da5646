package cassandra

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"

	"github.com/hotsnap/hotsnap/lab/internal/testports"
)

func TestMain(m *testing.M) {
	zerolog.SetGlobalLevel(zerolog.Disabled)
	os.Exit(m.Run())
}

var nodeIPs = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// freePorts finds two ports free on every node address.
func freePorts(t *testing.T) (int, int) { return testports.FreePorts(t, nodeIPs) }

type cluster struct {
	nodes   []*Node
	cqlPort int
	ctlPort int
	dirs    []string
}

// startCluster starts count nodes on 127.0.0.1..count sharing ports.
func startCluster(t *testing.T, count int, auth bool, seedBytes int64, rf int) *cluster {
	t.Helper()
	cq, ct := freePorts(t)
	c := &cluster{cqlPort: cq, ctlPort: ct}
	base := t.TempDir()
	for i := 0; i < count; i++ {
		var peers []string
		for j := 0; j < count; j++ {
			if j != i {
				peers = append(peers, nodeIPs[j])
			}
		}
		dir := filepath.Join(base, fmt.Sprintf("n%d", i+1), "data")
		n, err := NewNode(Config{DataDir: dir, ListenAddress: nodeIPs[i], Peers: peers, CQLPort: cq, ControlPort: ct, Auth: auth, ClusterName: "thp",
			Users: map[string]string{"cassandra": "cassandra", "admin": "s3cret"}})
		if err != nil {
			t.Fatalf("new node: %v", err)
		}
		if seedBytes > 0 {
			if err := Seed(n.Store(), "thehive", rf, seedBytes, 42); err != nil {
				t.Fatalf("seed: %v", err)
			}
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatalf("start: %v", err)
		}
		c.nodes = append(c.nodes, n)
		c.dirs = append(c.dirs, dir)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.Stop()
		}
	})
	return c
}

func (c *cluster) session(t *testing.T, user, pass string) *gocql.Session {
	t.Helper()
	cc := gocql.NewCluster(nodeIPs[0])
	cc.Port = c.cqlPort
	cc.Timeout = 5 * time.Second
	cc.ConnectTimeout = 5 * time.Second
	if user != "" {
		cc.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: pass}
	}
	s, err := cc.CreateSession()
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}
