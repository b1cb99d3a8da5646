package cassandra

import "testing"

// TestTruncateEmptiesTheTableOnEveryNode: TRUNCATE through one node leaves
// no row on any node and keeps a truncated-* snapshot, as Cassandra does.
func TestTruncateEmptiesTheTableOnEveryNode(t *testing.T) {
	c := startCluster(t, 3, false, 2<<20, 3)
	s := c.session(t, "", "")
	var before int64
	if err := s.Query("SELECT count(*) FROM thehive.edgestore").Scan(&before); err != nil || before == 0 {
		t.Fatalf("seeded table: %d rows, %v", before, err)
	}
	if err := s.Query("TRUNCATE thehive.edgestore").Exec(); err != nil {
		t.Fatal(err)
	}
	for i, node := range c.nodes {
		n, err := node.Store().CountRows("thehive", "edgestore")
		if err != nil || n != 0 {
			t.Errorf("node %d: %d rows after TRUNCATE (%v)", i+1, n, err)
		}
		snaps, err := node.Store().ListSnapshots()
		if err != nil || len(snaps) == 0 {
			t.Errorf("node %d: no truncated-* snapshot (%v)", i+1, err)
		}
	}
	if err := s.Query("TRUNCATE thehive.nosuch").Exec(); err == nil {
		t.Error("TRUNCATE of a missing table succeeded")
	}
}
