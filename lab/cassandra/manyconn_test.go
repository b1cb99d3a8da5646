package cassandra

import (
	"testing"
)

// TestServerSurvivesManyConnections: the CQL server keeps answering after
// more connections than its MaxConnections over its lifetime (a node in a
// long lab session sees thousands).
func TestServerSurvivesManyConnections(t *testing.T) {
	c := startCluster(t, 1, false, 64<<10, 1)
	for i := 0; i < 300; i++ {
		s := c.session(t, "", "")
		var n int64
		if err := s.Query("SELECT count(*) FROM thehive.edgestore").Scan(&n); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		s.Close()
	}
}
