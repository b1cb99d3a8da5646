package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// storedDoc is a document indexed through the document API. Seeded data is
// only counted (segments); stored documents keep their source, and travel
// with snapshots in the index metadata.
type storedDoc struct {
	Source  json.RawMessage `json:"source"`
	Version int64           `json:"version"`
	SeqNo   int64           `json:"seq_no"`
}

// es6ShardsWarning is the deprecation warning 6.x adds when an index is
// created without index.number_of_shards.
const es6ShardsWarning = `299 Elasticsearch-6.8.22-71fcb50 "the default number of shards will change from [5] to [1] in 7.0.0; ` +
	`if you wish to continue using the default of [5] shards, you must manage this on the create index request or with an index template"`

func (ix *index) storedBytes() int64 {
	var n int64
	for id, d := range ix.Stored {
		n += int64(len(d.Source) + len(id) + 64)
	}
	return n
}

// docType checks the type segment of a document URL: 6.x accepts one
// custom type per index (or _doc); later releases only _doc.
func (s *server) docType(rc *reqCtx, ix *index) (string, *apiError) {
	typ := rc.params["type"]
	if !s.c.es6() {
		if typ != "_doc" {
			return "", errNoHandler(rc.r.URL.RequestURI(), rc.r.Method)
		}
		return typ, nil
	}
	if strings.HasPrefix(typ, "_") && typ != "_doc" {
		return "", newErr(http.StatusBadRequest, "invalid_type_name_exception",
			"mapping type name ["+typ+"] can't start with '_' unless it is called [_doc]")
	}
	if ix != nil && ix.DocType != "" && ix.DocType != typ {
		return "", errBadRequest("Rejecting mapping update to [" + ix.Name + "] as the final mapping would have more than 1 type: [" +
			ix.DocType + ", " + typ + "]")
	}
	return typ, nil
}

// docHeader is the _index/_type/_id prefix of every document response.
func (s *server) docHeader(index, typ, id string) obj {
	o := obj{{"_index", index}}
	if s.c.es6() {
		o = o.add("_type", typ)
	}
	return o.add("_id", id)
}

// shardsHeader is the _shards member of a write response.
func (s *server) shardsHeader(st *state, ix *index) obj {
	assigned := min(ix.Replicas, max(len(s.c.liveNodes(st)), 1)-1)
	return obj{{"total", 1 + ix.Replicas}, {"successful", 1 + assigned}, {"failed", 0}}
}

// writable returns the index a document write or read goes to, or the
// error ES gives for a closed or recovering one.
func writable(ix *index) *apiError {
	if ix.Status != "open" {
		return errIndexClosed(ix.Name, ix.UUID)
	}
	if ix.Recovery != nil && !ix.Recovery.done() {
		return newErr(http.StatusServiceUnavailable, "unavailable_shards_exception",
			"["+ix.Name+"][0] primary shard is not active Timeout: [1m]")
	}
	return nil
}

func (s *server) indexDoc(rc *reqCtx) {
	name, id := rc.params["index"], rc.params["id"]
	if e := validateIndexName(name); e != nil {
		rc.fail(e)
		return
	}
	src := bytes.TrimSpace(rc.body)
	if len(src) == 0 {
		rc.fail(newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: source is missing;"))
		return
	}
	if !json.Valid(src) || src[0] != '{' {
		rc.fail(newErr(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse"))
		return
	}
	create := rc.query("op_type") == "create"
	var out obj
	status := http.StatusOK
	err := s.c.update(func(st *state) error {
		ix := st.Indices[name]
		typ, e := s.docType(rc, ix)
		if e != nil {
			return e
		}
		if ix == nil {
			shards := 1
			if s.c.es6() {
				shards = 5
			}
			ix = newIndex(st, name, shards, 1)
			st.Indices[name] = ix
		}
		if e := writable(ix); e != nil {
			return e
		}
		if ix.Stored == nil {
			ix.Stored = map[string]*storedDoc{}
		}
		ix.DocType = typ
		d := ix.Stored[id]
		result := "updated"
		if d == nil {
			d = &storedDoc{}
			ix.Stored[id] = d
			result, status = "created", http.StatusCreated
		} else if create {
			return newErr(http.StatusConflict, "version_conflict_engine_exception",
				"["+typ+"]["+id+"]: version conflict, document already exists (current version ["+strconv.FormatInt(d.Version, 10)+"])",
				kv{"index_uuid", ix.UUID}, kv{"shard", "0"}, kv{"index", name})
		}
		d.Source = append(json.RawMessage(nil), src...)
		d.Version++
		d.SeqNo = ix.NextSeqNo
		ix.NextSeqNo++
		out = s.docHeader(name, typ, id).add("_version", d.Version).add("result", result)
		if r, ok := rc.r.URL.Query()["refresh"]; ok && (len(r) == 0 || r[0] == "" || r[0] == "true") {
			out = out.add("forced_refresh", true)
		}
		out = out.add("_shards", s.shardsHeader(st, ix)).add("_seq_no", d.SeqNo).add("_primary_term", 1)
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(status, out)
}

func (s *server) getDoc(rc *reqCtx) {
	name, id := rc.params["index"], rc.params["id"]
	var out obj
	found := false
	err := s.c.update(func(st *state) error {
		ix := st.Indices[name]
		if ix == nil {
			return errIndexNotFound(name)
		}
		typ, e := s.docType(rc, nil)
		if e != nil {
			return e
		}
		if e := writable(ix); e != nil {
			return e
		}
		out = s.docHeader(name, typ, id)
		d := ix.Stored[id]
		if d == nil || (ix.DocType != "" && ix.DocType != typ) {
			out = out.add("found", false)
			return nil
		}
		found = true
		src, err := orderedJSON(d.Source)
		if err != nil {
			return err
		}
		out = out.add("_version", d.Version).add("_seq_no", d.SeqNo).add("_primary_term", 1).add("found", true).add("_source", src)
		return nil
	})
	if err != nil {
		rc.failHead(err)
		return
	}
	if !found {
		rc.json(http.StatusNotFound, out)
		return
	}
	rc.json(http.StatusOK, out)
}

func (s *server) deleteDoc(rc *reqCtx) {
	name, id := rc.params["index"], rc.params["id"]
	var out obj
	status := http.StatusOK
	err := s.c.update(func(st *state) error {
		ix := st.Indices[name]
		if ix == nil {
			return errIndexNotFound(name)
		}
		typ, e := s.docType(rc, ix)
		if e != nil {
			return e
		}
		if e := writable(ix); e != nil {
			return e
		}
		d := ix.Stored[id]
		version, result := int64(1), "not_found"
		if d != nil {
			version, result = d.Version+1, "deleted"
			delete(ix.Stored, id)
		} else {
			status = http.StatusNotFound
		}
		seq := ix.NextSeqNo
		ix.NextSeqNo++
		out = s.docHeader(name, typ, id).add("_version", version).add("result", result).
			add("_shards", s.shardsHeader(st, ix)).add("_seq_no", seq).add("_primary_term", 1)
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(status, out)
}

// orderedJSON decodes raw JSON keeping object members in their order, so
// that ?pretty re-indents a stored _source as Jackson does.
func orderedJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("stored source: trailing data")
	}
	return v, nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := obj{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o = o.add(k, v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, errors.New("stored source: unexpected delimiter")
	default:
		return t, nil
	}
}
