package elastic

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bulk is POST /_bulk and /{index}/_bulk: newline-delimited action and
// source lines. index and create actions add their documents to the index
// (a new segment per request and index, the source's size as its bytes),
// creating a missing index as ES's auto-create does (1 shard, 1 replica);
// a closed index fails its items with index_closed_exception. The
// stand-in keeps no document ids, so an id indexed twice counts twice and
// delete and update answer not_found. The answer has ES's shape: took,
// errors and one item per action.
func (s *server) bulk(rc *reqCtx) {
	body := rc.body
	if len(bytes.TrimSpace(body)) == 0 {
		rc.fail(newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;"))
		return
	}
	if body[len(body)-1] != '\n' {
		rc.fail(errBadRequest("The bulk request must be terminated by a newline [\\n]"))
		return
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	type item struct {
		op, index, id string
		source        int64
	}
	var items []item
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &action); err != nil || len(action) != 1 {
			rc.fail(errBadRequest("Malformed action/metadata line [" + strconv.Itoa(i+1) + "], expected a simple value for field [_index] but found [START_OBJECT]"))
			return
		}
		for op, meta := range action {
			it := item{op: op, index: meta.Index, id: meta.ID}
			if it.index == "" {
				it.index = rc.params["index"]
			}
			if it.index == "" {
				rc.fail(newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index is missing;"))
				return
			}
			switch op {
			case "index", "create", "update":
				if i+1 >= len(lines) {
					rc.fail(errBadRequest("The bulk request must be terminated by a newline [\\n]"))
					return
				}
				i++
				it.source = int64(len(lines[i]))
			case "delete":
			default:
				rc.fail(errBadRequest("Malformed action/metadata line [" + strconv.Itoa(i+1) + "], expected one of [create, delete, index, update] but found [" + op + "]"))
				return
			}
			if it.id == "" {
				it.id = newUUID()[:20]
			}
			items = append(items, it)
		}
	}
	start := time.Now()
	errs := false
	out := make([]any, len(items))
	err := s.c.update(func(st *state) error {
		type add struct{ docs, bytes int64 }
		adds := map[string]*add{}
		for i, it := range items {
			ix := st.Indices[it.index]
			if ix == nil && (it.op == "index" || it.op == "create") {
				if e := validateIndexName(it.index); e != nil {
					out[i] = obj{{it.op, obj{{"_index", it.index}, {"_id", it.id}, {"status", e.status}, {"error", e.inner()}}}}
					errs = true
					continue
				}
				ix = newIndex(st, it.index, 1, 1)
				st.Indices[it.index] = ix
			}
			switch {
			case ix == nil || it.op == "delete" || it.op == "update":
				uuid := "_na_"
				if ix != nil {
					uuid = ix.UUID
				}
				out[i] = obj{{it.op, obj{{"_index", it.index}, {"_id", it.id}, {"_version", 1}, {"result", "not_found"},
					{"_shards", obj{{"total", 2}, {"successful", 1}, {"failed", 0}}}, {"status", http.StatusNotFound},
					{"_index_uuid", uuid}}}}
				if it.op == "update" || ix == nil {
					out[i] = obj{{it.op, obj{{"_index", it.index}, {"_id", it.id}, {"status", http.StatusNotFound},
						{"error", obj{{"type", "document_missing_exception"}, {"reason", "[" + it.id + "]: document missing"},
							{"index_uuid", uuid}, {"shard", "0"}, {"index", it.index}}}}}}
					errs = true
				}
			case ix.Status != "open":
				out[i] = obj{{it.op, obj{{"_index", it.index}, {"_id", it.id}, {"status", http.StatusBadRequest},
					{"error", obj{{"type", "index_closed_exception"}, {"reason", "closed"}, {"index_uuid", ix.UUID}, {"index", it.index}}}}}}
				errs = true
			default:
				a := adds[it.index]
				if a == nil {
					a = &add{}
					adds[it.index] = a
				}
				seq := ix.docs() + a.docs
				a.docs++
				a.bytes += it.source
				out[i] = obj{{it.op, obj{{"_index", it.index}, {"_id", it.id}, {"_version", 1}, {"result", "created"},
					{"_shards", obj{{"total", 1 + ix.Replicas}, {"successful", 1}, {"failed", 0}}}, {"_seq_no", seq},
					{"_primary_term", 1}, {"status", http.StatusCreated}}}}
			}
		}
		for name, a := range adds {
			ix := st.Indices[name]
			ix.NextGen++
			ix.Segments = append(ix.Segments, segment{Gen: ix.NextGen, Docs: a.docs, Bytes: a.bytes})
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"took", time.Since(start).Milliseconds()}, {"errors", errs}, {"items", out}})
}
