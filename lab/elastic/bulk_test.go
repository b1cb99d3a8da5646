package elastic

import (
	"strings"
	"testing"
)

// TestBulk: _bulk adds the documents of index and create actions (an index
// missing is created, as ES's auto-create does), answers one item per
// action with its status, fails the items of a closed index with
// index_closed_exception (errors:true, HTTP 200), and refuses a body that
// does not end in a newline, as ES does.
func TestBulk(t *testing.T) {
	l := newLab(t, nil)
	l.must(200, "PUT", "/docs", `{"settings":{"index":{"number_of_shards":1,"number_of_replicas":0}}}`)
	body := `{"index":{"_index":"docs","_id":"1"}}` + "\n" + `{"title":"one"}` + "\n" +
		`{"create":{"_id":"2"}}` + "\n" + `{"title":"two"}` + "\n" +
		`{"index":{"_index":"fresh"}}` + "\n" + `{"x":1}` + "\n"
	r := l.doReq("POST", "/docs/_bulk", body, nil)
	if r.status != 200 || get(r.body, "errors") != false {
		t.Fatalf("bulk: %d %s", r.status, r.raw)
	}
	items, _ := get(r.body, "items").([]any)
	if len(items) != 3 || get(items[0], "index.status") != float64(201) || get(items[1], "create._index") != "docs" ||
		get(items[2], "index._index") != "fresh" || get(items[0], "index.result") != "created" {
		t.Errorf("items: %s", r.raw)
	}
	if c := l.must(200, "GET", "/docs/_count", ""); get(c.body, "count") != float64(2) {
		t.Errorf("docs count after bulk: %s", c.raw)
	}
	if c := l.must(200, "GET", "/fresh/_count", ""); get(c.body, "count") != float64(1) {
		t.Errorf("auto-created index count: %s", c.raw)
	}
	if info, ok, err := l.c.Index("docs"); err != nil || !ok || info.Docs != 2 || info.Bytes != int64(len(`{"title":"one"}`)+len(`{"title":"two"}`)) {
		t.Errorf("docs index: %+v %v %v", info, ok, err)
	}

	l.must(200, "POST", "/docs/_close", "")
	r = l.doReq("POST", "/_bulk", `{"index":{"_index":"docs","_id":"3"}}`+"\n{}\n", nil)
	if r.status != 200 || get(r.body, "errors") != true || !strings.Contains(r.raw, `"type":"index_closed_exception"`) {
		t.Errorf("bulk into a closed index: %d %s", r.status, r.raw)
	}
	r = l.doReq("POST", "/_bulk", `{"index":{"_index":"docs"}}`+"\n{}", nil)
	if r.status != 400 || !strings.Contains(r.raw, "The bulk request must be terminated by a newline") {
		t.Errorf("bulk without the final newline: %d %s", r.status, r.raw)
	}
}
