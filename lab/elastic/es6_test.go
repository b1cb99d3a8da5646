package elastic

import (
	"strings"
	"testing"
	"time"
)

// TestES6Flavour checks what Alien4Cloud's Elasticsearch 6.8 answers
// differently from 8.x: no product header, 6.x shapes and defaults.
func TestES6Flavour(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Flavour = FlavourElasticsearch6 })
	r := l.must(200, "GET", "/", "")
	if got := r.header.Get("X-Elastic-Product"); got != "" {
		t.Errorf("X-Elastic-Product %q: 6.8 never sends it", got)
	}
	if get(r.body, "version.number") != "6.8.22" || get(r.body, "version.lucene_version") != "7.7.3" {
		t.Errorf("root: %s", r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	// 5 shards by default, with the 6.x deprecation warning.
	r = l.must(200, "PUT", "/plain", "")
	if w := r.header.Get("Warning"); !strings.Contains(w, "the default number of shards will change from [5] to [1] in 7.0.0") {
		t.Errorf("Warning %q", w)
	}
	r = l.must(200, "PUT", "/maintenancemodestate", `{"settings":{"index":{"number_of_shards":1,"number_of_replicas":0}},"mappings":{"_doc":{"properties":{}}}}`)
	if r.header.Get("Warning") != "" {
		t.Errorf("warning with explicit shards: %q", r.header.Get("Warning"))
	}
	if got := l.must(200, "GET", "/plain", "").body; get(got, "plain.settings.index.number_of_shards") != "5" {
		t.Errorf("plain index: %v", got)
	}
	// Health has no unassigned_primary_shards (8.16+).
	if h := l.must(200, "GET", "/_cluster/health", "").raw; strings.Contains(h, "unassigned_primary_shards") {
		t.Errorf("health: %s", h)
	}
	// A typed document API: one type per index, _doc allowed.
	l.must(201, "PUT", "/maintenancemodestate/_doc/mms_id?refresh=true", `{"id":"mms_id","user":"admin"}`)
	r = l.must(400, "PUT", "/maintenancemodestate/other/1", `{"a":1}`)
	if !strings.Contains(r.raw, "would have more than 1 type: [_doc, other]") {
		t.Errorf("second type: %s", r.raw)
	}
	r = l.must(400, "PUT", "/maintenancemodestate/_x/1", `{"a":1}`)
	if get(r.body, "error.type") != "invalid_type_name_exception" {
		t.Errorf("_x type: %s", r.raw)
	}
	// Closing answers a bare acknowledgement; wildcard deletes are allowed.
	if r := l.must(200, "POST", "/plain/_close", ""); strings.TrimSpace(r.raw) != `{"acknowledged":true}` {
		t.Errorf("close: %s", r.raw)
	}
	l.must(400, "GET", "/plain/_doc/1", "")
	l.must(200, "DELETE", "/pla*", "")
	l.must(404, "GET", "/plain", "")
	// No handler: 6.x writes no status member.
	if r := l.must(400, "GET", "/_nope/x/y/z", ""); strings.Contains(r.raw, `"status"`) || !strings.Contains(r.raw, "no handler found for uri") {
		t.Errorf("no handler: %s", r.raw)
	}
}

// TestES6DocumentsTravelWithSnapshots: a document indexed through the API
// (A4C's maintenance state) is in the snapshot, gone after a delete, back
// after the restore; a restore over an open index fails as in 6.8.
func TestES6DocumentsTravelWithSnapshots(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Flavour = FlavourElasticsearch6 })
	l.must(200, "PUT", "/maintenancemodestate", `{"settings":{"number_of_shards":1,"number_of_replicas":0}}`)
	l.must(201, "PUT", "/maintenancemodestate/_doc/mms_id", `{"id":"mms_id","user":"admin","progressPercent":1}`)
	if err := l.c.Seed("csar", 40, 1<<20); err != nil {
		t.Fatal(err)
	}
	l.must(200, "PUT", "/_snapshot/thehive_repository", `{"type":"fs","settings":{"location":"`+l.repo+`","compress":true}}`)
	if r := l.must(200, "PUT", "/_snapshot/thehive_repository/b1?wait_for_completion=false", `{"indices":"maintenancemodestate,csar"}`); strings.TrimSpace(r.raw) != `{"accepted":true}` {
		t.Fatalf("create: %s", r.raw)
	}
	if st, _ := l.pollSnapshot("b1", time.Second, 30); st != "SUCCESS" {
		t.Fatalf("snapshot %s", st)
	}
	st := l.must(200, "GET", "/_snapshot/thehive_repository/b1/_status", "")
	if get(st.body, "snapshots.0.stats.number_of_files") == nil || get(st.body, "snapshots.0.stats.total_size_in_bytes") == nil {
		t.Errorf("6.x _status lacks the BWC fields: %s", st.raw)
	}
	l.must(200, "DELETE", "/maintenancemodestate/_doc/mms_id", "")
	l.must(404, "GET", "/maintenancemodestate/_doc/mms_id", "")
	r := l.must(500, "POST", "/_snapshot/thehive_repository/b1/_restore", `{"indices":"maintenancemodestate"}`)
	if !strings.Contains(get(r.body, "error.reason").(string), "cannot restore index [maintenancemodestate] because an open index with same name already exists in the cluster") {
		t.Errorf("open index: %s", r.raw)
	}
	l.must(200, "POST", "/maintenancemodestate/_close", "")
	l.must(200, "POST", "/_snapshot/thehive_repository/b1/_restore?wait_for_completion=true", `{"indices":"maintenancemodestate"}`)
	r = l.must(200, "GET", "/maintenancemodestate/_doc/mms_id", "")
	if get(r.body, "_source.user") != "admin" || get(r.body, "_version") != float64(1) {
		t.Errorf("restored document: %s", r.raw)
	}
	if c := l.must(200, "GET", "/maintenancemodestate/_count", ""); get(c.body, "count") != float64(1) {
		t.Errorf("count after restore: %s", c.raw)
	}
	rec := l.must(200, "GET", "/maintenancemodestate/_recovery", "")
	if strings.Contains(rec.raw, "restoreUUID") || strings.Contains(rec.raw, "recovered_from_snapshot") {
		t.Errorf("6.8 recovery has 7.x fields: %s", rec.raw)
	}
}

// TestDocumentsES8: 8.x takes documents only under _doc and answers without
// _type.
func TestDocumentsES8(t *testing.T) {
	l := newLab(t, nil)
	r := l.must(201, "PUT", "/idx/_doc/1", `{"a":1}`)
	if strings.Contains(r.raw, "_type") {
		t.Errorf("8.x response has _type: %s", r.raw)
	}
	l.must(400, "PUT", "/idx/t1/1", `{"a":1}`)
	l.must(400, "PUT", "/idx/_doc/2", `[1]`)
	l.must(409, "PUT", "/idx/_doc/1?op_type=create", `{"a":2}`)
	if r := l.must(200, "GET", "/idx/_doc/1?pretty", ""); !strings.Contains(r.raw, "\"_source\" : {\n    \"a\" : 1\n  }") {
		t.Errorf("pretty source: %s", r.raw)
	}
	l.must(404, "DELETE", "/idx/_doc/9", "")
	l.must(404, "GET", "/nope/_doc/1", "")
}
