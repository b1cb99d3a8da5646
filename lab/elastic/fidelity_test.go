package elastic

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fidelity test compares the shape (JSON key paths and value types,
// values ignored) of the stand-in's live responses with every real sample in
// testdata/real-outputs (copied from reference/real-outputs/elasticsearch).

const samplesDir = "testdata/real-outputs"

type sample struct {
	file   string
	status int
	body   string
}

func loadSamples(t *testing.T) map[string]sample {
	t.Helper()
	ents, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sample{}
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(samplesDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := sample{file: e.Name()}
		lines := strings.Split(string(raw), "\n")
		i := 0
		for ; i < len(lines) && strings.HasPrefix(lines[i], "// "); i++ {
			if v, ok := strings.CutPrefix(lines[i], "// http-status: "); ok {
				s.status, _ = strconv.Atoi(strings.Fields(v)[0])
			}
		}
		s.body = strings.Join(lines[i:], "\n")
		out[e.Name()] = s
	}
	return out
}

// shape flattens a JSON value into path -> type. Objects at wildcard paths
// have data keys (index, repository, node names) replaced by "*".
func shape(v any, path string, wild map[string]bool, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if wild[path] {
				k = "*"
			}
			p := path + "." + k
			out[p] = typeName(c)
			shape(c, p, wild, out)
		}
	case []any:
		for _, c := range t {
			p := path + "[]"
			out[p] = typeName(c)
			shape(c, p, wild, out)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

// exception documents one accepted difference for a sample.
type exception struct{ path, why string }

// check describes how one sample is compared.
type check struct {
	kind string   // live response key
	wild []string // paths whose object keys are data
	// subset: only the sample's paths must exist live (the sample is a
	// deliberately minimal fixture).
	subset bool
	// pick extracts the part of the sample that is an ES body (wrappers).
	pick func(any) any
	exc  []exception
}

var noFeatureStates = []exception{
	{"$.snapshot.feature_states[]", "the stand-in has no system indices, so feature_states is always empty"},
	{"$.snapshot.feature_states[].feature_name", "as above"},
	{"$.snapshot.feature_states[].indices", "as above"},
	{"$.snapshot.feature_states[].indices[]", "as above"},
	{"$.snapshot.data_streams[]", "the stand-in has no data streams, so data_streams is always empty"},
}

var pre8Snapshot = []exception{
	{"$.snapshot.repository", "7.2 SnapshotInfo had no repository field"},
	{"$.snapshot.data_streams", "data streams arrived in 7.9"},
	{"$.snapshot.feature_states", "feature states arrived in 7.12"},
	{"$.snapshot.metadata", "metadata is only present when the request sets it (the live request does)"},
	{"$.snapshot.metadata.*", "as above"},
}

var healthExc = []exception{{"$.unassigned_primary_shards", "added in 8.16 (elasticsearch-specification); these samples predate it"}}

// checks maps every JSON sample to its comparison; skipped lists the ones
// deliberately not compared.
var checks = map[string]check{
	"es-cat-indices-json-doc.json":           {kind: "cat-indices-json"},
	"es-cat-recovery-json-doc.json":          {kind: "cat-recovery-json"},
	"es-cat-recovery-snapshot-json-doc.json": {kind: "cat-recovery-h-json"},
	"es-close-index-ack-doc.json":            {kind: "close-ack", wild: []string{"$.indices"}},
	"es-count-doc.json":                      {kind: "count"},
	"es-create-snapshot-concurrent-503.json": {kind: "err-concurrent"},
	"es-delete-snapshot-ack-doc.json":        {kind: "delete-snap-ack"},
	"es-get-repo-doc.json":                   {kind: "get-repo", wild: []string{"$"}},
	"es-get-snapshot-missing-404.json":       {kind: "err-snap-missing"},
	"es-recovery-snapshot-doc.json":          {kind: "recovery", wild: []string{"$"}},
	"es-snapshot-status-success-doc.json":    {kind: "status-done", wild: []string{"$.snapshots[].indices", "$.snapshots[].indices.*.shards"}},
	"es-repository-verification-exception-not-accessible-500.json": {kind: "err-verification", exc: []exception{
		{"$.error.caused_by", "2016-era (2.x/5.0) bodies had no caused_by; current ones do (es8-repository-verification-exception-500.json)"},
		{"$.error.caused_by.type", "as above"}, {"$.error.caused_by.reason", "as above"}}},
	"es-snapshot-status-running-doc.json": {kind: "status-running", wild: []string{"$.snapshots[].indices", "$.snapshots[].indices.*.shards"},
		exc: []exception{{"$.snapshots[].indices.*.shards.*.description", "only when shard stats are missing because a node left the cluster; the stand-in never loses nodes mid-snapshot"}}},
	"es-create-snapshot-wait-doc-placeholders.json": {kind: "snap-wait", wild: []string{"$.snapshot.metadata"},
		exc: []exception{{"$.snapshot.indices[]", "the doc example snapshots no index; the live one snapshots thehive_global"}}},
	"es-get-snapshot-doc-placeholders.json": {kind: "snap-get-all", exc: []exception{
		{"$.snapshots[].indices[]", "the doc example snapshots no index; the live ones do"},
		{"$.snapshots[].metadata", "metadata is only present when the request set it (live snap1 did)"},
		{"$.snapshots[].metadata.*", "as above"}}, wild: []string{"$.snapshots[].metadata"}},
	"es7-cat-indices-no-v-7.16.1.txt":             {kind: "cat-indices", exc: []exception{{"dataset.size", "column added in 8.x (spec example es-cat-indices-json-doc.json has it)"}}},
	"es7-cluster-health-green-7.16.0.json":        {kind: "health", exc: healthExc},
	"es7-cluster-health-red-7.14.0.json":          {kind: "health", exc: healthExc},
	"es7-create-snapshot-already-exists-400.json": {kind: "err-already-exists"},
	"es7-create-snapshot-wait-7.16.0-compact.json": {kind: "snap-wait", wild: []string{"$.snapshot.metadata"},
		exc: append(append([]exception{}, noFeatureStates...), exception{"$.snapshot.metadata", "metadata is only present when the request sets it (the live request does)"},
			exception{"$.snapshot.metadata.*", "as above"})},
	"es7-create-snapshot-wait-7.2.1.json": {kind: "snap-wait", wild: []string{"$.snapshot.metadata"}, exc: pre8Snapshot},
	"es7-get-repo-7.16.0.json": {kind: "get-repo", wild: []string{"$"}, exc: []exception{
		{"$.*.uuid", "repository uuid was added to GET _snapshot/<repo> in 7.12+/8.x (es-get-repo-doc.json has it)"},
		{"$.*.settings.compress", "optional setting; the live repository is registered without it"}}},
	"es7-get-snapshot-in-progress-7.8.1.json": {kind: "snap-get-running", exc: []exception{
		{"$.snapshots[].repository", "7.8 SnapshotInfo had no repository field"},
		{"$.snapshots[].data_streams", "data streams arrived in 7.9"},
		{"$.snapshots[].feature_states", "feature states arrived in 7.12"},
		{"$.total", "total/remaining came with paginated GET _snapshot in 7.14"},
		{"$.remaining", "as above"}}},
	"es7-put-repo-location-mismatch-kibana-wrapped.json": {kind: "err-location-mismatch", pick: func(v any) any {
		return map[string]any{"error": get(v, "attributes.error"), "status": float64(500)}
	}},
	"es7-put-repo-path-repo-empty-500.json":          {kind: "err-path-repo-empty"},
	"es7-restore-open-index-exists-500-7.2.1.json":   {kind: "err-restore-open"},
	"es7-restore-wait-7.16.3.json":                   {kind: "restore-wait"},
	"es7-restore-wait-7.2.1.json":                    {kind: "restore-wait"},
	"es7-root-info-7.16.1.json":                      {kind: "root"},
	"es8-401-missing-credentials-8.17.3.json":        {kind: "err-401"},
	"es8-cat-health-v-green-8.17.3.txt":              {kind: "cat-health-v"},
	"es8-cat-indices-v-8.2.2.txt":                    {kind: "cat-indices-v", exc: []exception{{"dataset.size", "column added in 8.x after 8.2 (es-cat-indices-json-doc.json has it)"}}},
	"es8-cat-snapshots-v-8.6.1.txt":                  {kind: "cat-snapshots-v"},
	"es8-cluster-health-yellow-8.6.1.json":           {kind: "health", exc: healthExc},
	"es8-create-snapshot-accepted-8.6.1.json":        {kind: "snap-accepted"},
	"es8-delete-index-ack-8.6.1.json":                {kind: "delete-index-ack"},
	"es8-delete-index-ack-compact-8.17.3.json":       {kind: "delete-index-ack"},
	"es8-get-snapshot-all-repos-8.1.2.json":          {kind: "get-all-repos", wild: []string{"$"}},
	"es8-get-snapshot-verbose-false-8.1.2.json":      {kind: "snap-get-brief"},
	"es8-put-repo-fs-ack-8.6.1.json":                 {kind: "put-repo-ack"},
	"es8-repository-verification-exception-500.json": {kind: "err-verification"},
	"es8-restore-accepted-8.2.2.json":                {kind: "restore-accepted"},
	"es8-restore-open-index-exists-500-ci.json":      {kind: "err-restore-open"},
	"es8-root-info-8.6.1.json":                       {kind: "root"},
	"es8-root-info-go-elasticsearch-mock.json":       {kind: "root", subset: true},
	"es8-verify-repo-8.1.2.json":                     {kind: "verify", wild: []string{"$.nodes"}},
	"es9-cat-count-v-9.5.2.txt":                      {kind: "cat-count-v"},
	"es9-cluster-health-yellow-doc.json":             {kind: "health", exc: healthExc},
	"es9-count-9.5.2.json":                           {kind: "count"},
	"es9-index-not-found-404-9.2.1.json":             {kind: "err-index-not-found"},
	"es9-put-repo-fs-ack-9.5.2.json":                 {kind: "put-repo-ack"},
	"es9-put-repo-location-mismatch-500.json":        {kind: "err-location-mismatch"},
	"es9-put-repo-missing-location-500.json":         {kind: "err-missing-location"},
	"es-cat-recovery-snapshot-doc.txt":               {kind: "cat-recovery-h"},
	"es-cat-recovery-v-store-doc.txt":                {kind: "cat-recovery-v"},
	// OpenSearch flavour.
	"os2-close-index-ack-doc.json":          {kind: "os:close-ack", wild: []string{"$.indices"}},
	"os2-cluster-health-yellow-doc.json":    {kind: "os:health"},
	"os2-create-snapshot-accepted-doc.json": {kind: "os:snap-accepted"},
	"os2-create-snapshot-wait-2.0.1-doc.json": {kind: "os:snap-wait", wild: []string{"$.snapshot.metadata"}, exc: []exception{
		{"$.snapshot.metadata", "metadata is only present when the request sets it (the live request does)"}, {"$.snapshot.metadata.*", "as above"}}},
	"os2-get-snapshot-2.0.1-doc.json": {kind: "os:snap-get-all", wild: []string{"$.snapshots[].metadata"}, exc: []exception{
		{"$.snapshots[].metadata", "metadata is only present when the request set it (live snap1 did)"}, {"$.snapshots[].metadata.*", "as above"}}},
	"os2-get-snapshot-missing-404-test-fixture.json": {kind: "os:err-snap-missing"},
	"os2-put-repo-ack-doc.json":                      {kind: "os:put-repo-ack"},
	"os2-restore-open-index-exists-500-doc.json":     {kind: "os:err-restore-open"},
	"os2-restore-wait-doc.json":                      {kind: "os:restore-wait", exc: []exception{{"$.snapshot.indices[]", "the doc example restores no index; the live one does"}}},
	"os2-root-info-2.13.0.json":                      {kind: "os:root"},
	"os2-verify-repo-doc.json":                       {kind: "os:verify", wild: []string{"$.nodes"}},
	// Elasticsearch 6.8 flavour (Alien4Cloud 3.x).
	"es6-root-info-6.8.22-rpm.json":          {kind: "es6:root"},
	"es6-get-repos-6.8.0.json":               {kind: "es6:get-all-repos", wild: []string{"$"}},
	"es6-verify-repo-6.8.0.json":             {kind: "es6:verify", wild: []string{"$.nodes"}},
	"es6-get-snapshot-all-6.8.0-elided.json": {kind: "es6:snap-get-all"},
	"es6-create-snapshot-wait-6.8.23.json":   {kind: "es6:snap-wait"},
	"es6-401-missing-token-6.1.3.json":       {kind: "es6:err-401"},
	"es6-cat-indices-no-v-6.1.3.txt":         {kind: "es6:cat-indices"},
	"es6-cat-indices-v-6.8-doc.txt":          {kind: "es6:cat-indices-v"},
	"es6-index-doc-created-6.8-doc.json":     {kind: "es6:doc-created"},
	"es6-index-doc-updated-6.1.3.json":       {kind: "es6:doc-updated"},
	"es6-get-doc-6.8-doc.json":               {kind: "es6:doc-get"},
	"es6-get-doc-6.1.3.json":                 {kind: "es6:doc-get-typed", exc: es61Get},
	"es6-get-doc-missing-6.1.3.json":         {kind: "es6:doc-get-missing"},
	"es6-delete-doc-6.1.3.json":              {kind: "es6:doc-deleted"},
	"es6-406-content-type-6.1.3.json":        {kind: "es6:err-406"},
	"es6-nodes-process-6.8.11.json":          {kind: "es6:nodes-settings", wild: []string{"$.nodes", "$.nodes.*.attributes"}, exc: es6Nodes},
	"es6-snapshot-status-doc-6.x.json": {kind: "es6:status-done", subset: true, exc: []exception{
		{"$.snapshots[].stats.processed", "the doc example shows processed for a finished snapshot; SnapshotStats writes it only while it differs from incremental (live: a finished snapshot)"},
		{"$.snapshots[].stats.processed.file_count", "as above"}, {"$.snapshots[].stats.processed.size_in_bytes", "as above"}}},
}

// es61Get: the 6.1.3 capture predates _seq_no/_primary_term in GET (6.8's
// getting started shows them: es6-get-doc-6.8-doc.json).
var es61Get = []exception{{"$._seq_no", "GET returns _seq_no/_primary_term in 6.8 (es6-get-doc-6.8-doc.json), not yet in 6.1"},
	{"$._primary_term", "as above"}}

// es6Nodes: the sample is _nodes/process, the live one _nodes/settings.
var es6Nodes = []exception{{"$.nodes.*.process", "the sample asked for _nodes/process; the live request is _nodes/settings"},
	{"$.nodes.*.process.refresh_interval_in_millis", "as above"}, {"$.nodes.*.process.id", "as above"}, {"$.nodes.*.process.mlockall", "as above"},
	{"$.nodes.*.settings", "the live request is _nodes/settings (path.repo is what hotsnap reads)"},
	{"$.nodes.*.settings.cluster", "as above"}, {"$.nodes.*.settings.cluster.name", "as above"},
	{"$.nodes.*.settings.node", "as above"}, {"$.nodes.*.settings.node.name", "as above"},
	{"$.nodes.*.settings.path", "as above"}, {"$.nodes.*.settings.path.logs", "as above"}, {"$.nodes.*.settings.path.home", "as above"},
	{"$.nodes.*.settings.path.repo", "as above"}, {"$.nodes.*.settings.path.repo[]", "as above"}}

// skipped samples are loaded but not compared, for the reason given.
var skipped = map[string]string{
	"es5-403-action-unauthorized-5.5.2.json":                 "authorization (roles, API keys) is not modelled: any valid user may do anything",
	"es9-403-api-key-repository-put-9.5.2.json":              "authorization (roles, API keys) is not modelled",
	"es9-403-api-key-snapshot-delete-9.5.2.json":             "authorization (roles, API keys) is not modelled",
	"os1-403-restore-no-permissions-1.2.4.json":              "OpenSearch security plugin roles are not modelled",
	"es-get-snapshot-doc-responses-format-placeholders.json": "pre-8 'responses' wrapper; 8.x answers with the flat snapshots/total/remaining shape compared above",
	"os2-get-repo-s3-doc.json":                               "s3 repositories are not supported by the stand-in (fs only); the fs GET repo shape is compared via es-get-repo-doc.json",
}

// liveResponses drives Elasticsearch- and OpenSearch-flavoured stand-ins
// through a backup/restore and records one response per kind.
func liveResponses(t *testing.T) map[string]resp {
	t.Helper()
	out := map[string]resp{}
	for _, flavour := range []Flavour{FlavourElasticsearch, FlavourOpenSearch} {
		pre := ""
		if flavour == FlavourOpenSearch {
			pre = "os:"
		}
		l := newLab(t, func(o *Options) { o.Flavour = flavour })
		rec := func(kind string, r resp) { out[pre+kind] = r }
		if err := l.c.Seed("thehive_global", 100, 2<<20); err != nil {
			t.Fatal(err)
		}
		if err := l.c.Seed("big", 10, 8<<20); err != nil {
			t.Fatal(err)
		}
		rec("root", l.do("GET", "/", ""))
		rec("health", l.do("GET", "/_cluster/health", ""))
		rec("put-repo-ack", l.do("PUT", "/_snapshot/thehive_repository", `{"type":"fs","settings":{"location":"`+l.repo+`"}}`))
		rec("get-repo", l.do("GET", "/_snapshot/thehive_repository", ""))
		rec("get-all-repos", l.do("GET", "/_snapshot", ""))
		rec("verify", l.do("POST", "/_snapshot/thehive_repository/_verify", ""))
		rec("snap-wait", l.do("PUT", "/_snapshot/thehive_repository/snap1?wait_for_completion=true",
			`{"indices":"thehive_global","include_global_state":false,"metadata":{"taken_by":"hotsnap"}}`))
		rec("err-already-exists", l.do("PUT", "/_snapshot/thehive_repository/snap1", `{"indices":"thehive_global"}`))
		rec("snap-get-brief", l.do("GET", "/_snapshot/thehive_repository/*?verbose=false", ""))
		rec("status-done", l.do("GET", "/_snapshot/thehive_repository/snap1/_status", ""))
		rec("snap-accepted", l.do("PUT", "/_snapshot/thehive_repository/snap2", `{"indices":"big,thehive_global"}`))
		l.clock.Advance(time.Second)
		rec("status-running", l.do("GET", "/_snapshot/thehive_repository/snap2/_status", ""))
		rec("snap-get-running", l.do("GET", "/_snapshot/thehive_repository/snap2", ""))
		if err := l.c.SetSerialSnapshots(true); err != nil {
			t.Fatal(err)
		}
		rec("err-concurrent", l.do("PUT", "/_snapshot/thehive_repository/snap3", ""))
		if err := l.c.SetSerialSnapshots(false); err != nil {
			t.Fatal(err)
		}
		l.pollSnapshot("snap2", time.Second, 30)
		rec("snap-get-all", l.do("GET", "/_snapshot/thehive_repository/_all", ""))
		rec("err-snap-missing", l.do("GET", "/_snapshot/thehive_repository/nope", ""))
		rec("err-restore-open", l.do("POST", "/_snapshot/thehive_repository/snap1/_restore", ""))
		rec("close-ack", l.do("POST", "/thehive_global/_close", ""))
		rec("restore-accepted", l.do("POST", "/_snapshot/thehive_repository/snap1/_restore", `{"indices":"thehive_global"}`))
		l.clock.Advance(500 * time.Millisecond)
		rec("recovery", l.do("GET", "/_recovery?human", ""))
		rec("cat-recovery-json", l.do("GET", "/_cat/recovery?format=json", ""))
		rec("cat-recovery-h-json", l.do("GET", "/_cat/recovery?v=true&h=i,s,t,ty,st,rep,snap,f,fp,b,bp&format=json", ""))
		rec("cat-recovery-h", l.do("GET", "/_cat/recovery?v&h=i,s,t,ty,st,rep,snap,f,fp,b,bp", ""))
		rec("cat-recovery-v", l.do("GET", "/_cat/recovery?v", ""))
		l.must(200, "GET", "/_cluster/health?wait_for_status=green&timeout=60s", "")
		rec("count", l.do("GET", "/thehive_global/_count", ""))
		l.must(200, "POST", "/thehive_global/_close", "")
		rec("restore-wait", l.do("POST", "/_snapshot/thehive_repository/snap1/_restore?wait_for_completion=true", ""))
		rec("delete-snap-ack", l.do("DELETE", "/_snapshot/thehive_repository/snap2", ""))
		rec("cat-indices-json", l.do("GET", "/_cat/indices?format=json", ""))
		rec("cat-indices-v", l.do("GET", "/_cat/indices?v", ""))
		rec("cat-indices", l.do("GET", "/_cat/indices", ""))
		rec("cat-health-v", l.do("GET", "/_cat/health?v", ""))
		rec("cat-snapshots-v", l.do("GET", "/_cat/snapshots/thehive_repository?v", ""))
		rec("cat-count-v", l.do("GET", "/_cat/count/thehive_global?v", ""))
		rec("delete-index-ack", l.do("DELETE", "/big", ""))
		rec("err-index-not-found", l.do("GET", "/big/_count", ""))
		rec("err-location-mismatch", l.do("PUT", "/_snapshot/r2", `{"type":"fs","settings":{"location":"/tmp/not-in-path-repo"}}`))
		rec("err-missing-location", l.do("PUT", "/_snapshot/r2", `{"type":"fs","settings":{"locaton":"/x"}}`))
		notDir := filepath.Join(l.repo, "plainfile")
		if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		rec("err-verification", l.do("PUT", "/_snapshot/r3", `{"type":"fs","settings":{"location":"`+notDir+`"}}`))
	}
	es6Responses(t, out)
	empty := newLab(t, func(o *Options) { o.PathRepo = nil })
	out["err-path-repo-empty"] = empty.do("PUT", "/_snapshot/r", `{"type":"fs","settings":{"location":"/mnt/backup"}}`)
	auth := newLab(t, func(o *Options) { o.Auth = "elastic:changeme" })
	out["err-401"] = auth.do("GET", "/", "")
	return out
}

// es6Responses drives an Elasticsearch 6.8 stand-in (Alien4Cloud's) through
// the calls its samples show, recording them as "es6:" kinds.
func es6Responses(t *testing.T, out map[string]resp) {
	t.Helper()
	l := newLab(t, func(o *Options) { o.Flavour = FlavourElasticsearch6 })
	rec := func(kind string, r resp) { out["es6:"+kind] = r }
	if err := l.c.Seed("csar", 100, 2<<20); err != nil {
		t.Fatal(err)
	}
	rec("root", l.do("GET", "/", ""))
	l.must(200, "PUT", "/_snapshot/thehive_repository", `{"type":"fs","settings":{"location":"`+l.repo+`"}}`)
	rec("get-all-repos", l.do("GET", "/_snapshot", ""))
	rec("verify", l.do("POST", "/_snapshot/thehive_repository/_verify", ""))
	rec("doc-created", l.do("PUT", "/customer/_doc/1", `{"name": "John Doe"}`))
	rec("doc-get", l.do("GET", "/customer/_doc/1", ""))
	l.must(201, "PUT", "/i1/t1/1", `{"a":"a","b":"b","c":"c"}`)
	rec("doc-updated", l.do("PUT", "/i1/t1/1", `{"a":"a","b":"b","c":"c"}`))
	l.must(201, "PUT", "/i1/t1/2", `{"a":"a","b":"b","c":"c"}`)
	rec("doc-get-typed", l.do("GET", "/i1/t1/2", ""))
	rec("doc-deleted", l.do("DELETE", "/i1/t1/1", ""))
	rec("doc-get-missing", l.do("GET", "/i1/t1/1", ""))
	rec("err-406", l.doReq("PUT", "/i1/t1/3", `{"a":"a"}`, func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}))
	rec("snap-wait", l.do("PUT", "/_snapshot/thehive_repository/snap1?wait_for_completion=true", `{"indices":"csar,customer","include_global_state":false}`))
	l.must(200, "PUT", "/_snapshot/thehive_repository/snap2", `{"indices":"i1"}`)
	l.pollSnapshot("snap2", time.Second, 30)
	rec("snap-get-all", l.do("GET", "/_snapshot/thehive_repository/_all", ""))
	rec("status-done", l.do("GET", "/_snapshot/thehive_repository/snap1/_status", ""))
	rec("cat-indices", l.do("GET", "/_cat/indices", ""))
	rec("cat-indices-v", l.do("GET", "/_cat/indices?v", ""))
	rec("nodes-settings", l.do("GET", "/_nodes/settings", ""))
	auth := newLab(t, func(o *Options) { o.Flavour = FlavourElasticsearch6; o.Auth = "elastic:changeme" })
	rec("err-401", auth.do("GET", "/_cat/indices?pretty=true", ""))
}

func parseSampleJSON(t *testing.T, s sample) any {
	t.Helper()
	body := s.body
	if strings.Contains(s.file, "-elided") {
		// The author replaced index names with "..." lines (see the header).
		var keep []string
		for _, line := range strings.Split(body, "\n") {
			if strings.TrimSpace(line) != "..." {
				keep = append(keep, line)
			}
		}
		body = strings.Join(keep, "\n")
		body = strings.ReplaceAll(body, "\",\n      ],", "\"\n      ],")
	}
	// Documented repairs (see INDEX.md): placeholders and a truncated paste.
	body = strings.ReplaceAll(body, "<version_id>", "0")
	body = strings.ReplaceAll(body, "<version>", `"x"`)
	if s.file == "es7-put-repo-path-repo-empty-500.json" {
		body = strings.TrimSpace(body) + `,"status":500}`
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%s: %v", s.file, err)
	}
	return v
}

func TestFidelityAgainstRealSamples(t *testing.T) {
	samples := loadSamples(t)
	live := liveResponses(t)
	for name := range samples {
		_, c := checks[name]
		_, s := skipped[name]
		if !c && !s {
			t.Errorf("sample %s is neither compared nor listed as skipped", name)
		}
	}
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ck := checks[name]
		t.Run(name, func(t *testing.T) {
			s, ok := samples[name]
			if !ok {
				t.Fatalf("sample file missing from %s", samplesDir)
			}
			r, ok := live[ck.kind]
			if !ok {
				t.Fatalf("no live response recorded for kind %q", ck.kind)
			}
			if s.status != 0 && r.status != s.status {
				t.Errorf("HTTP status %d, sample %d\n%s", r.status, s.status, r.raw)
			}
			exc := map[string]string{}
			for _, e := range ck.exc {
				exc[e.path] = e.why
			}
			if strings.HasSuffix(name, ".txt") {
				compareText(t, s.body, r.raw, exc)
				return
			}
			sv := parseSampleJSON(t, s)
			if ck.pick != nil {
				sv = ck.pick(sv)
			}
			wild := map[string]bool{}
			for _, w := range ck.wild {
				wild[w] = true
			}
			want, got := map[string]string{}, map[string]string{}
			shape(sv, "$", wild, want)
			shape(r.body, "$", wild, got)
			if typeName(sv) != typeName(r.body) {
				t.Fatalf("top-level %s, sample %s\n%s", typeName(r.body), typeName(sv), r.raw)
			}
			var diffs []string
			for p, typ := range want {
				g, ok := got[p]
				switch {
				case !ok && exc[p] == "":
					diffs = append(diffs, "missing "+p+" ("+typ+")")
				case ok && g != typ && exc[p] == "":
					diffs = append(diffs, "type of "+p+": "+g+", sample "+typ)
				}
			}
			if !ck.subset {
				for p := range got {
					if _, ok := want[p]; !ok && exc[p] == "" {
						diffs = append(diffs, "extra "+p)
					}
				}
			}
			for p := range exc {
				_, inWant := want[p]
				_, inGot := got[p]
				if inWant == inGot && want[p] == got[p] {
					t.Errorf("exception for %s is stale: no difference there any more", p)
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Errorf("shape differs from the sample:\n  %s\nlive: %s", strings.Join(diffs, "\n  "), r.raw)
			}
		})
	}
}

// compareText checks a _cat text sample: same header columns (with ?v) or
// the same number of columns per row (without), less documented columns.
func compareText(t *testing.T, sampleBody, liveBody string, exc map[string]string) {
	t.Helper()
	sl := strings.Split(strings.TrimRight(sampleBody, "\n"), "\n")
	ll := strings.Split(strings.TrimRight(liveBody, "\n"), "\n")
	if len(ll) == 0 || len(sl) == 0 {
		t.Fatalf("empty output: live %q", liveBody)
	}
	sh, lh := strings.Fields(sl[0]), strings.Fields(ll[0])
	if _, err := strconv.ParseInt(sh[len(sh)-1][:1], 10, 64); err == nil || strings.HasSuffix(sh[len(sh)-1], "b") {
		// No header (no ?v): compare column counts of data rows.
		extra := len(exc)
		if len(lh) != len(sh)+extra {
			t.Errorf("live row has %d columns, sample %d (+%d documented)\nlive: %s", len(lh), len(sh), extra, ll[0])
		}
		return
	}
	var filtered []string
	for _, h := range lh {
		if exc[h] == "" {
			filtered = append(filtered, h)
		}
	}
	if strings.Join(filtered, " ") != strings.Join(sh, " ") {
		t.Errorf("header differs\n live:   %s\n sample: %s", ll[0], sl[0])
	}
	if len(ll) < 2 {
		t.Errorf("no data row:\n%s", liveBody)
		return
	}
	if len(strings.Fields(ll[1])) != len(lh) {
		t.Errorf("data row has %d fields, header %d:\n%s", len(strings.Fields(ll[1])), len(lh), liveBody)
	}
}
