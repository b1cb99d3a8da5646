package es

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"8.17.3", "8.17.3", false}, {"8.9.0", "8.17.3", true}, {"9.0.0", "8.17.3", false}, {"7.17.1", "8.0.0", true}, {"2.19.1", "2.9.0", false}} {
		if got := versionLess(c.a, c.b); got != c.less {
			t.Errorf("versionLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

// TestFailureSummary: a hundred shards failed for one reason read as one
// line with the count; distinct reasons each once.
func TestFailureSummary(t *testing.T) {
	var rs []json.RawMessage
	for i := range 100 {
		rs = append(rs, json.RawMessage(fmt.Sprintf(`{"index":"csar","index_uuid":"csar","shard_id":%d,"reason":"disk of node2 is full","status":"INTERNAL_SERVER_ERROR"}`, i)))
	}
	rs = append(rs, json.RawMessage(`{"index":"user","shard_id":0,"reason":"node left"}`))
	if got, want := failureSummary(rs), "disk of node2 is full (100 shards, csar[0] first); node left (user[0])"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := failureSummary(nil); got != "no reason given" {
		t.Errorf("no failures: %q", got)
	}
}
