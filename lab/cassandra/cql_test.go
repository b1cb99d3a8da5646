package cassandra

import (
	"errors"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/datastax/go-cassandra-native-protocol/client"
	"github.com/datastax/go-cassandra-native-protocol/frame"
	"github.com/datastax/go-cassandra-native-protocol/message"
	"github.com/datastax/go-cassandra-native-protocol/primitive"
)

func TestDriverConnectsAndCounts(t *testing.T) {
	c := startCluster(t, 3, false, 2<<20, 3)
	s := c.session(t, "", "")
	var cnt int64
	if err := s.Query("SELECT count(*) FROM thehive.edgestore").Scan(&cnt); err != nil {
		t.Fatalf("count: %v", err)
	}
	want, err := c.nodes[0].Store().CountRows("thehive", "edgestore")
	if err != nil || want == 0 || cnt != want {
		t.Fatalf("count = %d, store says %d (%v)", cnt, want, err)
	}
	var rel string
	if err := s.Query("SELECT release_version FROM system.local WHERE key = ?", "local").Scan(&rel); err != nil || rel != "4.1.12" {
		t.Fatalf("release_version = %q, %v", rel, err)
	}
}

func TestSchemaChangesPropagateAndRowsSelect(t *testing.T) {
	c := startCluster(t, 3, false, 256<<10, 3)
	s := c.session(t, "", "")
	if err := s.Query("ALTER KEYSPACE thehive WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 2}").Exec(); err != nil {
		t.Fatalf("alter: %v", err)
	}
	for i := range c.nodes {
		k, err := c.nodes[i].Store().Keyspace("thehive")
		if err != nil || k.Replication["datacenter1"] != "2" || k.Replication["class"] != "org.apache.cassandra.locator.NetworkTopologyStrategy" {
			t.Fatalf("node %d replication %v %v", i, k, err)
		}
	}
	if err := s.Query("CREATE TABLE thehive.extra (id int PRIMARY KEY, v text)").Exec(); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := c.nodes[2].Store().TableDir("thehive", "extra"); err != nil {
		t.Fatalf("table not propagated: %v", err)
	}
	iter := s.Query("SELECT key, value FROM thehive.edgestore LIMIT 3").Iter()
	var key, val []byte
	n := 0
	for iter.Scan(&key, &val) {
		if len(key) == 0 || len(val) == 0 {
			t.Fatalf("empty blob")
		}
		n++
	}
	if err := iter.Close(); err != nil || n != 3 {
		t.Fatalf("select rows: %d %v", n, err)
	}
	if err := s.Query("SELECT nope FROM thehive.edgestore").Exec(); err == nil || !strings.Contains(err.Error(), "Undefined column name nope") {
		t.Fatalf("undefined column: %v", err)
	}
	if err := s.Query("DROP KEYSPACE thehive").Exec(); err != nil {
		t.Fatalf("drop: %v", err)
	}
	for i := range c.nodes {
		if _, err := c.nodes[i].Store().Keyspace("thehive"); err == nil {
			t.Fatalf("node %d still has the keyspace", i)
		}
	}
	// auto_snapshot: the dropped data survives as dropped-<millis>-<table> snapshots.
	l, _ := c.nodes[1].Store().ListSnapshots()
	if len(l) == 0 || !strings.HasPrefix(l[0].Tag, "dropped-") {
		t.Fatalf("no auto snapshot on drop: %+v", l)
	}
	if err := s.Query("DROP KEYSPACE thehive").Exec(); err == nil || !strings.Contains(err.Error(), "Cannot drop non existing keyspace 'thehive'.") {
		t.Fatalf("second drop: %v", err)
	}
}

// TestEveryRequestIsAnswered: statements and messages the stand-in does not
// implement get a Cassandra error at once, never silence (the driver would
// wait for its timeout), and the connection stays usable.
func TestEveryRequestIsAnswered(t *testing.T) {
	c := startCluster(t, 1, false, 64<<10, 1)
	s := c.session(t, "", "")
	reqs := map[string]func() error{
		"INSERT": func() error {
			return s.Query("INSERT INTO thehive.edgestore (key, column1, value) VALUES (0x01, 0x02, 0x03)").Exec()
		},
		"UPDATE": func() error {
			return s.Query("UPDATE thehive.edgestore SET value = 0x03 WHERE key = 0x01 AND column1 = 0x02").Exec()
		},
		"TRUNCATE unknown": func() error { return s.Query("TRUNCATE nosuch.t").Exec() },
		"garbage":          func() error { return s.Query("FROBNICATE the cluster").Exec() },
		"SELECT WHERE":     func() error { return s.Query("SELECT * FROM thehive.edgestore WHERE key = 0x01").Exec() },
		"BATCH": func() error {
			b := s.Batch(gocql.LoggedBatch)
			b.Query("INSERT INTO thehive.edgestore (key, column1, value) VALUES (0x01, 0x02, 0x03)")
			return b.Exec()
		},
	}
	for name, do := range reqs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := do()
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("answered after %s", d)
			}
			if err == nil {
				return // implemented after all: answered
			}
			var re gocql.RequestError
			if !errors.As(err, &re) {
				t.Errorf("%v (%T): want a Cassandra error reply, not a client-side failure", err, err)
			}
		})
	}
	var rel string
	if err := s.Query("SELECT release_version FROM system.local").Scan(&rel); err != nil || rel == "" {
		t.Errorf("session unusable after the errors: %q %v", rel, err)
	}
}

func TestAnsweringTurnsAPanicIntoAServerError(t *testing.T) {
	h := answering(func(*frame.Frame, *client.CqlServerConnection, client.RequestHandlerContext) *frame.Frame {
		panic("boom")
	})
	req := frame.NewFrame(primitive.ProtocolVersion4, 7, &message.Query{Query: "SELECT 1"})
	resp := h(req, nil, nil)
	se, ok := resp.Body.Message.(*message.ServerError)
	if !ok || resp.Header.StreamId != 7 || !strings.Contains(se.ErrorMessage, "boom") {
		t.Fatalf("reply %+v", resp)
	}
}
