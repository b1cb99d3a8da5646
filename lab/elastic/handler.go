package elastic

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// handlerFunc serves one route.
type handlerFunc func(rc *reqCtx)

type route struct {
	segs    []string // literal segments or "{name}"
	methods map[string]handlerFunc
}

// server is the http.Handler of one node.
type server struct {
	c      *Cluster
	node   string
	routes []*route
}

// reqCtx carries one request through a handler.
type reqCtx struct {
	s      *server
	w      http.ResponseWriter
	r      *http.Request
	params map[string]string
	body   []byte
	pretty bool
	human  bool
}

// NewHandler returns the REST API of the cluster as served by the node
// nodeName. The node joins the cluster on its first request.
func NewHandler(c *Cluster, nodeName string) http.Handler {
	if nodeName == "" {
		nodeName = "node-1"
	}
	s := &server{c: c, node: nodeName}
	s.register()
	return s
}

func (s *server) handle(pattern string, method string, fn handlerFunc) {
	segs := splitPath(pattern)
	for _, r := range s.routes {
		if strings.Join(r.segs, "/") == strings.Join(segs, "/") {
			r.methods[method] = fn
			return
		}
	}
	s.routes = append(s.routes, &route{segs: segs, methods: map[string]handlerFunc{method: fn}})
}

func splitPath(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

// match finds the route for a path, preferring literal segments over
// parameters at each level, as ES's PathTrie does.
func (s *server) match(segs []string) (*route, map[string]string) {
	var best *route
	var bestScore []int
	for _, r := range s.routes {
		if len(r.segs) != len(segs) {
			continue
		}
		score := make([]int, len(segs))
		ok := true
		for i, p := range r.segs {
			if strings.HasPrefix(p, "{") {
				continue
			}
			if p != segs[i] {
				ok = false
				break
			}
			score[i] = 1
		}
		if !ok {
			continue
		}
		if best == nil || lexGreater(score, bestScore) {
			best, bestScore = r, score
		}
	}
	if best == nil {
		return nil, nil
	}
	params := map[string]string{}
	for i, p := range best.segs {
		if strings.HasPrefix(p, "{") {
			params[strings.Trim(p, "{}")] = segs[i]
		}
	}
	return best, params
}

func lexGreater(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := &reqCtx{s: s, w: w, r: r}
	q := r.URL.Query()
	rc.pretty = boolParam(q, "pretty")
	rc.human = boolParam(q, "human")
	if !s.authenticate(rc) {
		return
	}
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			rc.fail(errBadRequest("failed to read request body: " + err.Error()))
			return
		}
		rc.body = b
	}
	if len(strings.TrimSpace(string(rc.body))) > 0 {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !acceptedContentType(ct) {
			rc.fail(&apiError{status: http.StatusNotAcceptable, simple: true,
				reason: "Content-Type header [" + ct + "] is not supported"})
			return
		}
	}
	uri := r.URL.RequestURI()
	segs := splitPath(r.URL.Path)
	rt, params := s.match(segs)
	if rt == nil {
		e := errNoHandler(uri, r.Method)
		e.noStatus = s.c.es6()
		rc.fail(e)
		return
	}
	fn := rt.methods[r.Method]
	if fn == nil {
		var allowed []string
		for m := range rt.methods {
			allowed = append(allowed, m)
		}
		sort.Strings(allowed)
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", strings.Join(allowed, ","))
			rc.headers()
			w.WriteHeader(http.StatusOK)
			return
		}
		rc.fail(errMethod(uri, r.Method, allowed))
		return
	}
	rc.params = params
	if err := s.c.update(func(st *state) error { s.c.touchNode(st, s.node); return nil }); err != nil {
		rc.fail(err)
		return
	}
	fn(rc)
}

func acceptedContentType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	switch ct {
	case "application/json", "application/x-ndjson", "application/vnd.elasticsearch+json",
		"application/vnd.elasticsearch+x-ndjson", "application/yaml", "application/smile", "application/cbor":
		return true
	}
	return false
}

func boolParam(q map[string][]string, name string) bool {
	v, ok := q[name]
	if !ok {
		return false
	}
	return len(v) == 0 || v[0] == "" || v[0] == "true"
}

// authenticate enforces basic auth when configured and writes the 401.
func (s *server) authenticate(rc *reqCtx) bool {
	want := s.c.opts.Auth
	if want == "" {
		return true
	}
	user, pass, ok := rc.r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(user+":"+pass), []byte(want)) == 1 {
		return true
	}
	if s.c.opts.Flavour == FlavourOpenSearch {
		rc.w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
		rc.w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		rc.w.WriteHeader(http.StatusUnauthorized)
		if rc.r.Method != http.MethodHead {
			io.WriteString(rc.w, "Unauthorized")
		}
		return false
	}
	reason := "missing authentication credentials for REST request [" + rc.r.URL.RequestURI() + "]"
	challenges := []string{`Basic realm="security", charset="UTF-8"`, `Bearer realm="security"`, "ApiKey"}
	if s.c.es6() {
		// 6.x DefaultAuthenticationFailureHandler: "token", one challenge.
		reason = "missing authentication token for REST request [" + rc.r.URL.RequestURI() + "]"
		challenges = []string{`Basic realm="security" charset="UTF-8"`}
	}
	if ok {
		reason = "unable to authenticate user [" + user + "] for REST request [" + rc.r.URL.RequestURI() + "]"
	}
	// ElasticsearchException writes a one-value header as a string.
	var hv any = challenges
	if len(challenges) == 1 {
		hv = challenges[0]
	}
	hdr := obj{{"WWW-Authenticate", hv}}
	e := newErr(http.StatusUnauthorized, "security_exception", reason, kv{"header", hdr})
	for _, ch := range challenges {
		rc.w.Header().Add("WWW-Authenticate", ch)
	}
	rc.writeJSON(http.StatusUnauthorized, e.body(), false)
	return false
}

// ---- response helpers ----

// headers sets X-Elastic-Product, which Elasticsearch sends since 7.14
// (so never as 6.8) and OpenSearch never sends.
func (rc *reqCtx) headers() {
	if rc.s.c.opts.Flavour == FlavourElasticsearch {
		rc.w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
}

func (rc *reqCtx) contentType() string {
	if rc.s.c.es6() {
		// 6.x names the charset (BytesRestResponse's XContentType
		// mediaType "application/json; charset=UTF-8").
		return "application/json; charset=UTF-8"
	}
	acc := rc.r.Header.Get("Accept")
	if strings.Contains(acc, "compatible-with=") && strings.Contains(acc, "vnd.elasticsearch") {
		return "application/vnd.elasticsearch+json;compatible-with=8"
	}
	return "application/json"
}

func (rc *reqCtx) writeJSON(status int, v any, product bool) {
	raw, err := encodeES(v, rc.pretty)
	if err != nil {
		status = http.StatusInternalServerError
		raw = []byte(`{"error":"encode response","status":500}`)
	}
	if product {
		rc.headers()
	}
	rc.w.Header().Set("Content-Type", rc.contentType())
	rc.w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	rc.w.WriteHeader(status)
	if rc.r.Method != http.MethodHead {
		rc.w.Write(raw)
	}
}

func (rc *reqCtx) json(status int, v any) { rc.writeJSON(status, v, true) }

func (rc *reqCtx) text(status int, s string) {
	rc.headers()
	rc.w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	rc.w.Header().Set("Content-Length", strconv.Itoa(len(s)))
	rc.w.WriteHeader(status)
	if rc.r.Method != http.MethodHead {
		io.WriteString(rc.w, s)
	}
}

// fail writes err as an ES error body; non-API errors become a 500.
func (rc *reqCtx) fail(err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = newErr(http.StatusInternalServerError, "exception", err.Error())
	}
	for k, vs := range ae.header {
		for _, v := range vs {
			rc.w.Header().Add(k, v)
		}
	}
	rc.json(ae.status, ae.body())
}

// failHead is fail, except that a HEAD request gets the error's status
// without a body.
func (rc *reqCtx) failHead(err error) {
	var ae *apiError
	if rc.r.Method == http.MethodHead && errors.As(err, &ae) {
		rc.headers()
		rc.w.Header().Set("Content-Type", rc.contentType())
		rc.w.WriteHeader(ae.status)
		return
	}
	rc.fail(err)
}

func (rc *reqCtx) query(name string) string { return rc.r.URL.Query().Get(name) }

func (rc *reqCtx) flag(name string, def bool) bool {
	q := rc.r.URL.Query()
	if _, ok := q[name]; !ok {
		return def
	}
	return boolParam(q, name)
}

// decode parses the JSON request body into v (an empty body leaves v alone).
func (rc *reqCtx) decode(v any) *apiError {
	if len(strings.TrimSpace(string(rc.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(rc.body, v); err != nil {
		return newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:1] failed to parse request body: "+err.Error())
	}
	return nil
}

// wait polls cond under the cluster lock until it is true or timeout passes;
// it reports whether cond became true.
func (rc *reqCtx) wait(timeout time.Duration, cond func(st *state) bool) (bool, error) {
	clock := rc.s.c.opts.Clock
	deadline := clock.Now().Add(timeout)
	for {
		var ok bool
		if err := rc.s.c.update(func(st *state) error { ok = cond(st); return nil }); err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
		if !clock.Now().Before(deadline) {
			return false, nil
		}
		step := 100 * time.Millisecond
		if rem := deadline.Sub(clock.Now()); rem < step {
			step = rem
		}
		if !clock.Sleep(step, rc.r.Context().Done()) {
			return false, rc.r.Context().Err()
		}
	}
}

// parseTimeValue parses an ES time value (30s, 500ms, 1m, 2h, 1d, -1, 0).
func parseTimeValue(s string, def time.Duration) (time.Duration, *apiError) {
	if s == "" {
		return def, nil
	}
	if s == "-1" {
		return 365 * 24 * time.Hour, nil
	}
	if s == "0" {
		return 0, nil
	}
	units := []struct {
		suf string
		d   time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suf); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err == nil && f >= 0 {
				return time.Duration(f * float64(u.d)), nil
			}
		}
	}
	return 0, errParse("failed to parse setting [timeout] with value [" + s + "] as a time value: unit is missing or unrecognized")
}

// ---- index expressions ----

// resolveIndices expands an index expression (comma list, wildcards, _all,
// -exclusions) against the cluster's indices.
func resolveIndices(st *state, expr string, ignoreUnavailable, allowNoIndices bool) ([]*index, *apiError) {
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	seen := map[string]bool{}
	var names []string
	for i, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.HasPrefix(part, "-") && i > 0 {
			pat := part[1:]
			var keep []string
			for _, n := range names {
				if m, _ := path.Match(pat, n); !m && n != pat {
					keep = append(keep, n)
				} else {
					delete(seen, n)
				}
			}
			names = keep
			continue
		}
		if part == "_all" {
			part = "*"
		}
		if strings.Contains(part, "*") {
			for n, ix := range st.Indices {
				if ix.Hidden && !strings.HasPrefix(part, ".") {
					continue
				}
				if m, _ := path.Match(part, n); m && !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
			continue
		}
		if st.Indices[part] == nil {
			if ignoreUnavailable {
				continue
			}
			return nil, errIndexNotFound(part)
		}
		if !seen[part] {
			seen[part] = true
			names = append(names, part)
		}
	}
	sort.Strings(names)
	if len(names) == 0 && !allowNoIndices {
		return nil, errIndexNotFound(expr)
	}
	out := make([]*index, 0, len(names))
	for _, n := range names {
		out = append(out, st.Indices[n])
	}
	return out, nil
}

// matchNames filters names by a comma list of patterns; it reports the first
// literal name that matched nothing.
func matchNames(all []string, expr string) (out []string, missing string) {
	if expr == "" || expr == "_all" || expr == "*" {
		return append([]string(nil), all...), ""
	}
	seen := map[string]bool{}
	for i, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		if strings.HasPrefix(part, "-") && i > 0 {
			var keep []string
			for _, n := range out {
				if m, _ := path.Match(part[1:], n); !m {
					keep = append(keep, n)
				}
			}
			out = keep
			continue
		}
		found := false
		for _, n := range all {
			m, _ := path.Match(part, n)
			if m || n == part {
				found = true
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
		if !found && !strings.Contains(part, "*") && missing == "" {
			missing = part
		}
	}
	return out, missing
}

// stringList accepts "a,b" or ["a","b"] from a JSON body.
func stringList(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case []any:
		var parts []string
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

func fmtTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

func (c *Cluster) version() string {
	switch c.opts.Flavour {
	case FlavourOpenSearch:
		return OSVersion
	case FlavourElasticsearch6:
		return ES6Version
	}
	return ESVersion
}

func (c *Cluster) versionID() int {
	switch c.opts.Flavour {
	case FlavourOpenSearch:
		return osVersionID
	case FlavourElasticsearch6:
		return es6VersionID
	}
	return esVersionID
}

func (c *Cluster) lucene() string {
	switch c.opts.Flavour {
	case FlavourOpenSearch:
		return osLucene
	case FlavourElasticsearch6:
		return es6Lucene
	}
	return esLucene
}

// es6 reports whether the cluster answers as Elasticsearch 6.8.
func (c *Cluster) es6() bool { return c.opts.Flavour == FlavourElasticsearch6 }

// ---- routes ----

func (s *server) register() {
	s.handle("/", "GET", s.root)
	s.handle("/", "HEAD", s.root)
	s.handle("/_cluster/health", "GET", s.health)
	s.handle("/_cluster/health/{index}", "GET", s.health)
	s.handle("/_nodes/settings", "GET", s.nodesSettings)
	s.handle("/_cat/health", "GET", s.catHealth)
	s.handle("/_cat/indices", "GET", s.catIndices)
	s.handle("/_cat/indices/{index}", "GET", s.catIndices)
	s.handle("/_cat/recovery", "GET", s.catRecovery)
	s.handle("/_cat/recovery/{index}", "GET", s.catRecovery)
	s.handle("/_cat/snapshots", "GET", s.catSnapshots)
	s.handle("/_cat/snapshots/{repo}", "GET", s.catSnapshots)
	s.handle("/_cat/count", "GET", s.catCount)
	s.handle("/_cat/count/{index}", "GET", s.catCount)
	s.handle("/_count", "GET", s.count)
	s.handle("/_count", "POST", s.count)
	s.handle("/{index}/_count", "GET", s.count)
	s.handle("/{index}/_count", "POST", s.count)
	s.handle("/{index}", "PUT", s.createIndex)
	s.handle("/{index}", "DELETE", s.deleteIndex)
	s.handle("/{index}", "HEAD", s.getIndex)
	s.handle("/{index}", "GET", s.getIndex)
	s.handle("/{index}/_close", "POST", s.closeIndex)
	s.handle("/{index}/{type}/{id}", "PUT", s.indexDoc)
	s.handle("/{index}/{type}/{id}", "POST", s.indexDoc)
	s.handle("/{index}/{type}/{id}", "GET", s.getDoc)
	s.handle("/{index}/{type}/{id}", "HEAD", s.getDoc)
	s.handle("/{index}/{type}/{id}", "DELETE", s.deleteDoc)
	s.handle("/{index}/_open", "POST", s.openIndex)
	s.handle("/_recovery", "GET", s.recoveryAPI)
	s.handle("/{index}/_recovery", "GET", s.recoveryAPI)
	s.handle("/_bulk", "POST", s.bulk)
	s.handle("/_bulk", "PUT", s.bulk)
	s.handle("/{index}/_bulk", "POST", s.bulk)
	s.handle("/{index}/_bulk", "PUT", s.bulk)
	s.handle("/_snapshot", "GET", s.getRepo)
	s.handle("/_snapshot/{repo}", "GET", s.getRepo)
	s.handle("/_snapshot/{repo}", "PUT", s.putRepo)
	s.handle("/_snapshot/{repo}", "POST", s.putRepo)
	s.handle("/_snapshot/{repo}", "DELETE", s.deleteRepo)
	s.handle("/_snapshot/{repo}/_verify", "POST", s.verifyRepo)
	s.handle("/_snapshot/_status", "GET", s.snapshotStatus)
	s.handle("/_snapshot/{repo}/_status", "GET", s.snapshotStatus)
	s.handle("/_snapshot/{repo}/{snapshot}", "GET", s.getSnapshot)
	s.handle("/_snapshot/{repo}/{snapshot}", "PUT", s.createSnapshot)
	s.handle("/_snapshot/{repo}/{snapshot}", "POST", s.createSnapshot)
	s.handle("/_snapshot/{repo}/{snapshot}", "DELETE", s.deleteSnapshot)
	s.handle("/_snapshot/{repo}/{snapshot}/_status", "GET", s.snapshotStatus)
	s.handle("/_snapshot/{repo}/{snapshot}/_restore", "POST", s.restore)
}

func (s *server) root(rc *reqCtx) {
	var uuid string
	if err := s.c.update(func(st *state) error { uuid = st.ClusterUUID; return nil }); err != nil {
		rc.fail(err)
		return
	}
	var ver obj
	tagline := "You Know, for Search"
	if s.c.opts.Flavour == FlavourOpenSearch {
		ver = obj{{"distribution", "opensearch"}, {"number", OSVersion}, {"build_type", "tar"},
			{"build_hash", "f8d4a7b2c1e0d9f6a3b5c7e8d1f2a4b6c8e0d2f4"}, {"build_date", "2025-02-27T01:16:47.726162386Z"},
			{"build_snapshot", false}, {"lucene_version", osLucene}, {"minimum_wire_compatibility_version", "7.10.0"},
			{"minimum_index_compatibility_version", "7.0.0"}}
		tagline = "The OpenSearch Project: https://opensearch.org/"
	} else if s.c.es6() {
		// The rpm build of 6.8.22 as captured in a public transcript
		// (testdata/real-outputs/es6-root-info-6.8.22-rpm.json): 6.x prints
		// the short build hash.
		ver = obj{{"number", ES6Version}, {"build_flavor", "default"}, {"build_type", "rpm"},
			{"build_hash", "71fcb50"}, {"build_date", "2021-12-19T01:10:56.497443Z"},
			{"build_snapshot", false}, {"lucene_version", es6Lucene}, {"minimum_wire_compatibility_version", "5.6.0"},
			{"minimum_index_compatibility_version", "5.0.0"}}
	} else {
		ver = obj{{"number", ESVersion}, {"build_flavor", "default"}, {"build_type", "tar"},
			{"build_hash", "a091390de485bd4b127884f7e565c0cad59b10d2"}, {"build_date", "2025-02-28T10:07:26.089129809Z"},
			{"build_snapshot", false}, {"lucene_version", esLucene}, {"minimum_wire_compatibility_version", "7.17.0"},
			{"minimum_index_compatibility_version", "7.0.0"}}
	}
	rc.json(http.StatusOK, obj{{"name", s.node}, {"cluster_name", s.c.opts.ClusterName}, {"cluster_uuid", uuid},
		{"version", ver}, {"tagline", tagline}})
}

// ---- health ----

var statusRank = map[string]int{"green": 0, "yellow": 1, "red": 2}

func (s *server) health(rc *reqCtx) {
	timeout, perr := parseTimeValue(rc.query("timeout"), 30*time.Second)
	if perr != nil {
		rc.fail(perr)
		return
	}
	want := rc.query("wait_for_status")
	if want != "" {
		if _, ok := statusRank[want]; !ok {
			rc.fail(errBadRequest("unknown cluster health status [" + want + "]"))
			return
		}
	}
	noInit := rc.flag("wait_for_no_initializing_shards", false)
	waiting := want != "" || noInit
	var body obj
	var apiErr *apiError
	satisfied := func(st *state) bool {
		var only []*index
		if expr := rc.params["index"]; expr != "" {
			list, e := resolveIndices(st, expr, false, true)
			if e != nil {
				apiErr = e
				return true
			}
			only = list
			if only == nil {
				only = []*index{}
			}
		}
		h := s.c.clusterHealth(st, only)
		ok := (want == "" || statusRank[h.status] <= statusRank[want]) && (!noInit || h.init == 0)
		body = s.healthBody(st, h, false)
		return ok
	}
	if !waiting {
		timeout = 0
	}
	ok, err := rc.wait(timeout, satisfied)
	if err != nil {
		rc.fail(err)
		return
	}
	if apiErr != nil {
		rc.fail(apiErr)
		return
	}
	if waiting && !ok {
		for i := range body {
			if body[i].k == "timed_out" {
				body[i].v = true
			}
		}
		rc.json(http.StatusRequestTimeout, body)
		return
	}
	rc.json(http.StatusOK, body)
}

func (s *server) healthBody(st *state, h health, timedOut bool) obj {
	nodes := len(s.c.liveNodes(st))
	if nodes == 0 {
		nodes = 1
	}
	o := obj{{"cluster_name", s.c.opts.ClusterName}, {"status", h.status}, {"timed_out", timedOut},
		{"number_of_nodes", nodes}, {"number_of_data_nodes", nodes}}
	if s.c.opts.Flavour == FlavourOpenSearch {
		o = o.add("discovered_master", true).add("discovered_cluster_manager", true)
	}
	o = o.add("active_primary_shards", h.activePri).add("active_shards", h.active).add("relocating_shards", 0).
		add("initializing_shards", h.init).add("unassigned_shards", h.unassigned)
	if s.c.opts.Flavour == FlavourElasticsearch {
		o = o.add("unassigned_primary_shards", h.unassignedPri)
	}
	pct := 100.0
	if tot := h.active + h.init + h.unassigned; tot > 0 {
		pct = float64(h.active) * 100 / float64(tot)
	}
	return o.add("delayed_unassigned_shards", 0).add("number_of_pending_tasks", 0).add("number_of_in_flight_fetch", 0).
		add("task_max_waiting_in_queue_millis", 0).add("active_shards_percent_as_number", jfloat(pct))
}

// ---- indices ----

func (s *server) count(rc *reqCtx) {
	var total int64
	var shards int
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], rc.flag("ignore_unavailable", false), rc.flag("allow_no_indices", true))
		if e != nil {
			return e
		}
		for _, ix := range list {
			if ix.Status != "open" {
				if rc.params["index"] == "" || strings.Contains(rc.params["index"], "*") {
					continue
				}
				return errIndexClosed(ix.Name, ix.UUID)
			}
			if ix.Failed != "" || (ix.Recovery != nil && !ix.Recovery.done()) || (ix.Recovery != nil && ix.Recovery.Failed != "") {
				return &apiError{status: http.StatusServiceUnavailable, typ: "search_phase_execution_exception",
					reason: "all shards failed", extra: obj{{"phase", "query"}, {"grouped", true}, {"failed_shards", []obj{}}}}
			}
			total += ix.docs()
			shards += ix.Shards
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"count", total}, {"_shards", obj{{"total", shards}, {"successful", shards}, {"skipped", 0}, {"failed", 0}}}})
}

func (s *server) createIndex(rc *reqCtx) {
	name := rc.params["index"]
	if e := validateIndexName(name); e != nil {
		rc.fail(e)
		return
	}
	var body struct {
		Settings map[string]any `json:"settings"`
	}
	if e := rc.decode(&body); e != nil {
		rc.fail(e)
		return
	}
	shards, replicas := 1, 1
	settings := flattenSettings("", body.Settings)
	if _, ok := settings["index.number_of_shards"]; !ok && s.c.es6() {
		// 6.x defaults to 5 shards and warns about 7.0's 1.
		shards = 5
		rc.w.Header().Add("Warning", es6ShardsWarning)
	}
	if v, ok := settings["index.number_of_shards"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			rc.fail(errBadRequest("Failed to parse value [" + v + "] for setting [index.number_of_shards] must be >= 1"))
			return
		}
		shards = n
	}
	if v, ok := settings["index.number_of_replicas"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			rc.fail(errBadRequest("Failed to parse value [" + v + "] for setting [index.number_of_replicas] must be >= 0"))
			return
		}
		replicas = n
	}
	err := s.c.update(func(st *state) error {
		if ix := st.Indices[name]; ix != nil {
			return newErr(http.StatusBadRequest, "resource_already_exists_exception", "index ["+name+"/"+ix.UUID+"] already exists",
				kv{"index_uuid", ix.UUID}, kv{"index", name})
		}
		st.Indices[name] = newIndex(st, name, shards, replicas)
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}, {"shards_acknowledged", true}, {"index", name}})
}

// flattenSettings turns {"index":{"number_of_shards":1}} or
// {"number_of_shards":"1"} into index.number_of_shards=1.
func flattenSettings(prefix string, m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			for sk, sv := range flattenSettings(key, sub) {
				out[sk] = sv
			}
			continue
		}
		if !strings.HasPrefix(key, "index.") {
			key = "index." + key
		}
		out[key] = fmt.Sprint(v)
	}
	return out
}

func (s *server) deleteIndex(rc *reqCtx) {
	expr := rc.params["index"]
	// action.destructive_requires_name defaults to true since 8.0; 6.x
	// deletes what a wildcard or _all matches.
	if (strings.Contains(expr, "*") || expr == "_all") && !s.c.es6() {
		rc.fail(errBadRequest("Wildcard expressions or all indices are not allowed"))
		return
	}
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, expr, rc.flag("ignore_unavailable", false), true)
		if e != nil {
			return e
		}
		for _, ix := range list {
			delete(st.Indices, ix.Name)
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}})
}

func (s *server) getIndex(rc *reqCtx) {
	var out obj
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], rc.flag("ignore_unavailable", false), true)
		if e != nil {
			return e
		}
		for _, ix := range list {
			idx := obj{{"creation_date", strconv.FormatInt(ix.CreatedMs, 10)}, {"number_of_shards", strconv.Itoa(ix.Shards)},
				{"number_of_replicas", strconv.Itoa(ix.Replicas)}, {"uuid", ix.UUID}, {"version", obj{{"created", strconv.Itoa(s.c.versionID())}}},
				{"provided_name", ix.Name}}
			if ix.Status == "close" {
				idx = append(obj{{"verified_before_close", "true"}}, idx...)
			}
			out = out.add(ix.Name, obj{{"aliases", obj{}}, {"mappings", obj{}}, {"settings", obj{{"index", idx}}}})
		}
		return nil
	})
	if err != nil {
		rc.failHead(err)
		return
	}
	if out == nil {
		out = obj{}
	}
	rc.json(http.StatusOK, out)
}

func (s *server) closeIndex(rc *reqCtx) {
	var closed obj
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], rc.flag("ignore_unavailable", false), true)
		if e != nil {
			return e
		}
		var restoring []string
		for _, ix := range list {
			if ix.Recovery != nil && !ix.Recovery.done() {
				restoring = append(restoring, "["+ix.Name+"/"+ix.UUID+"]")
			}
		}
		if len(restoring) > 0 {
			return errBadRequest("Cannot close indices that are being restored: [" + strings.Join(restoring, ", ") + "]")
		}
		for _, ix := range list {
			ix.Status = "close"
			closed = closed.add(ix.Name, obj{{"closed", true}})
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	if s.c.es6() {
		// 6.x CloseIndexResponse is a bare AcknowledgedResponse
		// (shards_acknowledged and indices arrived in 7.2 and 7.3).
		rc.json(http.StatusOK, obj{{"acknowledged", true}})
		return
	}
	if closed == nil {
		closed = obj{}
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}, {"shards_acknowledged", true}, {"indices", closed}})
}

func (s *server) openIndex(rc *reqCtx) {
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], rc.flag("ignore_unavailable", false), true)
		if e != nil {
			return e
		}
		for _, ix := range list {
			ix.Status = "open"
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"acknowledged", true}, {"shards_acknowledged", true}})
}

func (s *server) recoveryAPI(rc *reqCtx) {
	out := obj{}
	activeOnly := rc.flag("active_only", false)
	err := s.c.update(func(st *state) error {
		list, e := resolveIndices(st, rc.params["index"], rc.flag("ignore_unavailable", false), true)
		if e != nil {
			return e
		}
		for _, ix := range list {
			if ix.Status != "open" {
				continue
			}
			var shards []obj
			for sh := 0; sh < ix.Shards; sh++ {
				o := s.c.recoveryShard(st, ix, sh, rc.human)
				if activeOnly && o[2].v == "DONE" {
					continue
				}
				shards = append(shards, o)
			}
			if len(shards) > 0 {
				out = out.add(ix.Name, obj{{"shards", shards}})
			}
		}
		return nil
	})
	if err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, out)
}
