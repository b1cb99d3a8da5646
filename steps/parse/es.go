package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ErrNotESError is wrapped by ParseESError when the body is not an
// Elasticsearch/OpenSearch error object.
var ErrNotESError = errors.New("not an Elasticsearch error body")

// ESCause is one entry of an error's root_cause list, or its caused_by.
type ESCause struct {
	// Type is the exception type, e.g. "repository_exception".
	Type string `json:"type"`
	// Reason is the human-readable message.
	Reason string `json:"reason"`
	// CausedBy is the nested cause, if any.
	CausedBy *ESCause `json:"caused_by,omitempty"`
}

// ESError is an Elasticsearch or OpenSearch error response
// ({"error":{...},"status":N}). Every ES parser returns it (as the error)
// when handed an error body, so callers can errors.As it.
type ESError struct {
	// Status is the "status" field (the HTTP status); 0 when absent.
	Status int
	// Type and Reason of the top-level exception.
	Type, Reason string
	// RootCauses is the root_cause list.
	RootCauses []ESCause
	// CausedBy is the top-level caused_by, nil when absent.
	CausedBy *ESCause
	// Index is the "index" field of index_not_found_exception, when present.
	Index string
}

// Error implements error; it names the type, reason and the deepest cause.
func (e *ESError) Error() string {
	var b strings.Builder
	b.WriteString("elasticsearch")
	if e.Status != 0 {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	b.WriteString(": " + e.Reason)
	if c := e.CausedBy; c != nil {
		for c.CausedBy != nil {
			c = c.CausedBy
		}
		if c.Reason != e.Reason {
			fmt.Fprintf(&b, " (caused by %s: %s)", c.Type, c.Reason)
		}
	}
	return b.String()
}

// Has reports whether the error, a root cause or a cause has type typ
// (e.g. "snapshot_missing_exception").
func (e *ESError) Has(typ string) bool {
	if e.Type == typ {
		return true
	}
	for _, c := range e.RootCauses {
		if c.Type == typ {
			return true
		}
	}
	for c := e.CausedBy; c != nil; c = c.CausedBy {
		if c.Type == typ {
			return true
		}
	}
	return false
}

type esErrorObject struct {
	ESCause
	RootCause []ESCause `json:"root_cause"`
	Index     string    `json:"index"`
}

type esErrorBody struct {
	Error      json.RawMessage `json:"error"`
	Status     int             `json:"status"`
	StatusCode int             `json:"statusCode"` // Kibana wrapper
	Message    string          `json:"message"`    // Kibana wrapper
	Attributes *struct {
		Error json.RawMessage `json:"error"`
	} `json:"attributes"` // Kibana wrapper
}

// ParseESError parses an error body: the usual {"error":{type, reason,
// root_cause, caused_by},"status":N}, the legacy {"error":"text"} form, and
// Kibana's proxy wrapper (the ES error under attributes.error). It returns
// an error wrapping ErrNotESError when the body is JSON without an error
// object, or the JSON decoder's error when the body is not valid JSON
// (such as a truncated paste).
func ParseESError(body []byte) (*ESError, error) {
	const what = "elasticsearch error body"
	if isBlank(string(body)) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	var eb esErrorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	raw := eb.Error
	status := eb.Status
	if eb.Attributes != nil && len(eb.Attributes.Error) > 0 && eb.Attributes.Error[0] == '{' {
		raw, status = eb.Attributes.Error, eb.StatusCode
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, fmt.Errorf("%s: no \"error\" field: %w", what, ErrNotESError)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return &ESError{Status: status, Reason: s}, nil
	}
	var obj esErrorObject
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s: \"error\" field: %w", what, err)
	}
	if obj.Reason == "" {
		return nil, fmt.Errorf("%s: error object without reason: %w", what, ErrNotESError)
	}
	return &ESError{Status: status, Type: obj.Type, Reason: obj.Reason, RootCauses: obj.RootCause, CausedBy: obj.CausedBy, Index: obj.Index}, nil
}

// decodeES decodes body into v for the parser what. An error body becomes
// the *ESError itself (wrapped with what).
func decodeES(what string, body []byte, v any) error {
	if isBlank(string(body)) {
		return fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if e, err := ParseESError(body); err == nil {
		return fmt.Errorf("%s: %w", what, e)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ESInfo is the reply of GET / on Elasticsearch or OpenSearch.
type ESInfo struct {
	// Name is the node name; ClusterName and ClusterUUID the cluster's.
	Name, ClusterName, ClusterUUID string
	// Version is version.number, e.g. "8.6.1" or "2.13.0".
	Version string
	// Major and Minor are the numeric parts of Version.
	Major, Minor int
	// Distribution is "opensearch" for OpenSearch and "elasticsearch" otherwise.
	Distribution string
	// BuildFlavor is version.build_flavor (Elasticsearch only).
	BuildFlavor string
	// MinWireCompat is version.minimum_wire_compatibility_version.
	MinWireCompat string
	// Tagline is the tagline text.
	Tagline string
}

// IsOpenSearch reports whether the server is OpenSearch.
func (i *ESInfo) IsOpenSearch() bool { return i.Distribution == "opensearch" }

var esVersionRE = regexp.MustCompile(`^(\d+)\.(\d+)`)

// ParseESRoot parses the reply of GET /. OpenSearch is recognised by
// version.distribution "opensearch" or its tagline. Checking the
// X-Elastic-Product header is the caller's job.
func ParseESRoot(body []byte) (*ESInfo, error) {
	const what = "elasticsearch GET /"
	var r struct {
		Name        string `json:"name"`
		ClusterName string `json:"cluster_name"`
		ClusterUUID string `json:"cluster_uuid"`
		Version     *struct {
			Number        string `json:"number"`
			Distribution  string `json:"distribution"`
			BuildFlavor   string `json:"build_flavor"`
			MinWireCompat string `json:"minimum_wire_compatibility_version"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	if r.Version == nil || r.Version.Number == "" {
		return nil, fmt.Errorf("%s: no version.number field", what)
	}
	m := esVersionRE.FindStringSubmatch(r.Version.Number)
	if m == nil {
		return nil, fmt.Errorf("%s: version.number %q is not MAJOR.MINOR[.PATCH]", what, clip(r.Version.Number))
	}
	info := &ESInfo{Name: r.Name, ClusterName: r.ClusterName, ClusterUUID: r.ClusterUUID,
		Version: r.Version.Number, BuildFlavor: r.Version.BuildFlavor, MinWireCompat: r.Version.MinWireCompat,
		Tagline: r.Tagline, Distribution: "elasticsearch"}
	info.Major, _ = strconv.Atoi(m[1])
	info.Minor, _ = strconv.Atoi(m[2])
	if strings.EqualFold(r.Version.Distribution, "opensearch") || strings.Contains(r.Tagline, "OpenSearch") {
		info.Distribution = "opensearch"
	}
	return info, nil
}

// ClusterHealth is the reply of GET _cluster/health.
type ClusterHealth struct {
	ClusterName             string  `json:"cluster_name"`
	Status                  string  `json:"status"` // green, yellow or red
	TimedOut                bool    `json:"timed_out"`
	NumberOfNodes           int     `json:"number_of_nodes"`
	NumberOfDataNodes       int     `json:"number_of_data_nodes"`
	ActivePrimaryShards     int     `json:"active_primary_shards"`
	ActiveShards            int     `json:"active_shards"`
	RelocatingShards        int     `json:"relocating_shards"`
	InitializingShards      int     `json:"initializing_shards"`
	UnassignedShards        int     `json:"unassigned_shards"`
	UnassignedPrimaryShards int     `json:"unassigned_primary_shards"` // 8.16+
	DelayedUnassignedShards int     `json:"delayed_unassigned_shards"`
	PendingTasks            int     `json:"number_of_pending_tasks"`
	ActiveShardsPercent     float64 `json:"active_shards_percent_as_number"`
}

// ParseClusterHealth parses GET _cluster/health (ES 7-9, OpenSearch). The
// status must be green, yellow or red.
func ParseClusterHealth(body []byte) (*ClusterHealth, error) {
	const what = "elasticsearch cluster health"
	var h ClusterHealth
	if err := decodeES(what, body, &h); err != nil {
		return nil, err
	}
	switch h.Status {
	case "green", "yellow", "red":
	case "":
		return nil, fmt.Errorf("%s: no status field", what)
	default:
		return nil, fmt.Errorf("%s: unknown status %q", what, clip(h.Status))
	}
	return &h, nil
}

// ESShards is the shards summary of a snapshot or restore.
type ESShards struct {
	Total      int `json:"total"`
	Failed     int `json:"failed"`
	Successful int `json:"successful"`
}

// SnapshotInfo is one snapshot as Elasticsearch describes it, in GET
// _snapshot/REPO/SNAP and PUT _snapshot/REPO/SNAP?wait_for_completion=true.
// What a backup records of its snapshot is repo.ESSnapshot (es.Record).
type SnapshotInfo struct {
	Snapshot           string            `json:"snapshot"`
	UUID               string            `json:"uuid"`
	Repository         string            `json:"repository"` // absent before 7.x and on OpenSearch docs
	Version            string            `json:"version"`
	Indices            []string          `json:"indices"`
	DataStreams        []string          `json:"data_streams"`
	IncludeGlobalState bool              `json:"include_global_state"`
	State              string            `json:"state"` // SUCCESS, IN_PROGRESS, PARTIAL, FAILED, INCOMPATIBLE
	StartTimeMillis    int64             `json:"start_time_in_millis"`
	EndTimeMillis      int64             `json:"end_time_in_millis"`
	DurationMillis     int64             `json:"duration_in_millis"`
	Failures           []json.RawMessage `json:"failures"`
	Shards             ESShards          `json:"shards"`
}

// Complete reports whether the snapshot finished with every shard saved:
// state SUCCESS and no failed shard. PARTIAL snapshots come back with
// HTTP 200 too, so callers must check this.
func (s *SnapshotInfo) Complete() bool {
	return s.State == "SUCCESS" && s.Shards.Failed == 0 && len(s.Failures) == 0
}

// ParseSnapshotGet parses GET _snapshot/REPO/SNAP[,...] in the current
// {"snapshots":[...]} shape and the old 7.x {"responses":[{"repository",
// "snapshots":[...]}]} shape (the repository is then copied into each
// snapshot). A snapshot_missing_exception body yields an *ESError.
func ParseSnapshotGet(body []byte) ([]SnapshotInfo, error) {
	const what = "elasticsearch snapshot get"
	var r struct {
		Snapshots *[]SnapshotInfo `json:"snapshots"`
		Responses []struct {
			Repository string         `json:"repository"`
			Snapshots  []SnapshotInfo `json:"snapshots"`
		} `json:"responses"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	var out []SnapshotInfo
	switch {
	case r.Snapshots != nil:
		out = *r.Snapshots
	case r.Responses != nil:
		for _, resp := range r.Responses {
			for _, s := range resp.Snapshots {
				if s.Repository == "" {
					s.Repository = resp.Repository
				}
				out = append(out, s)
			}
		}
	default:
		return nil, fmt.Errorf("%s: neither \"snapshots\" nor \"responses\" field", what)
	}
	for i, s := range out {
		if s.Snapshot == "" || s.State == "" {
			return nil, fmt.Errorf("%s: snapshot %d has no name or state", what, i)
		}
	}
	return out, nil
}

// SnapshotCreateReply is the reply of PUT _snapshot/REPO/SNAP: either
// {"accepted":true} (without wait_for_completion) or the finished snapshot.
type SnapshotCreateReply struct {
	// Accepted is true for the {"accepted":true} reply.
	Accepted bool
	// Snapshot is the finished snapshot (wait_for_completion=true), else nil.
	Snapshot *SnapshotInfo
}

// ParseSnapshotCreate parses the reply of PUT _snapshot/REPO/SNAP.
func ParseSnapshotCreate(body []byte) (*SnapshotCreateReply, error) {
	const what = "elasticsearch snapshot create"
	var r struct {
		Accepted bool          `json:"accepted"`
		Snapshot *SnapshotInfo `json:"snapshot"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	if !r.Accepted && r.Snapshot == nil {
		return nil, fmt.Errorf("%s: neither \"accepted\" nor \"snapshot\" field", what)
	}
	if r.Snapshot != nil && (r.Snapshot.Snapshot == "" || r.Snapshot.State == "") {
		return nil, fmt.Errorf("%s: snapshot has no name or state", what)
	}
	return &SnapshotCreateReply{Accepted: r.Accepted || r.Snapshot != nil, Snapshot: r.Snapshot}, nil
}

// RestoreReply is the reply of POST _snapshot/REPO/SNAP/_restore.
type RestoreReply struct {
	// Accepted is true when the restore was started (with or without wait).
	Accepted bool
	// Snapshot is the snapshot name (wait_for_completion=true only).
	Snapshot string
	// Indices are the restored index names, after any rename.
	Indices []string
	// Shards is the shard summary (wait_for_completion=true only).
	Shards ESShards
	// Waited is true when the body held the finished restore.
	Waited bool
}

// ParseRestore parses the reply of POST _snapshot/REPO/SNAP/_restore:
// {"accepted":true} or {"snapshot":{snapshot, indices, shards}}. An open
// index with the same name yields an *ESError (snapshot_restore_exception).
func ParseRestore(body []byte) (*RestoreReply, error) {
	const what = "elasticsearch restore"
	var r struct {
		Accepted bool `json:"accepted"`
		Snapshot *struct {
			Snapshot string   `json:"snapshot"`
			Indices  []string `json:"indices"`
			Shards   ESShards `json:"shards"`
		} `json:"snapshot"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Snapshot != nil:
		return &RestoreReply{Accepted: true, Waited: true, Snapshot: r.Snapshot.Snapshot, Indices: r.Snapshot.Indices, Shards: r.Snapshot.Shards}, nil
	case r.Accepted:
		return &RestoreReply{Accepted: true}, nil
	}
	return nil, fmt.Errorf("%s: neither \"accepted\" nor \"snapshot\" field", what)
}

// SnapshotFileStats is a {file_count, size_in_bytes} pair of _status.
// Counts are -1 when the stats are missing (node left during the snapshot).
type SnapshotFileStats struct {
	Files int64 `json:"file_count"`
	Bytes int64 `json:"size_in_bytes"`
}

// SnapshotStats is the stats object of _status, normalised over the
// 7.4+/8.x shape (incremental/processed/total) and the older 7.x shape
// (number_of_files, processed_files, total_size_in_bytes,
// processed_size_in_bytes).
type SnapshotStats struct {
	// Incremental is what this snapshot adds to the repository.
	Incremental SnapshotFileStats
	// Processed is what has been copied so far.
	Processed SnapshotFileStats
	// Total is the full size of the snapshot.
	Total SnapshotFileStats
	// StartMillis and TimeMillis are the start time and elapsed time.
	StartMillis, TimeMillis int64
}

// UnmarshalJSON accepts both _status stats shapes.
func (s *SnapshotStats) UnmarshalJSON(b []byte) error {
	var r struct {
		Incremental *SnapshotFileStats `json:"incremental"`
		Processed   *SnapshotFileStats `json:"processed"`
		Total       *SnapshotFileStats `json:"total"`
		Start       int64              `json:"start_time_in_millis"`
		Time        int64              `json:"time_in_millis"`
		// Before 7.4:
		NumberOfFiles  *int64 `json:"number_of_files"`
		ProcessedFiles int64  `json:"processed_files"`
		TotalSize      int64  `json:"total_size_in_bytes"`
		ProcessedSize  int64  `json:"processed_size_in_bytes"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("snapshot stats: %w", err)
	}
	*s = SnapshotStats{StartMillis: r.Start, TimeMillis: r.Time}
	if r.NumberOfFiles != nil {
		s.Total = SnapshotFileStats{Files: *r.NumberOfFiles, Bytes: r.TotalSize}
		s.Incremental = s.Total
		s.Processed = SnapshotFileStats{Files: r.ProcessedFiles, Bytes: r.ProcessedSize}
		return nil
	}
	if r.Incremental != nil {
		s.Incremental = *r.Incremental
	}
	if r.Total != nil {
		s.Total = *r.Total
	}
	// A finished snapshot has no "processed": everything incremental was copied.
	if r.Processed != nil {
		s.Processed = *r.Processed
	} else {
		s.Processed = s.Incremental
	}
	return nil
}

// ShardsStats is the shards_stats object of _status.
type ShardsStats struct {
	Initializing int `json:"initializing"`
	Started      int `json:"started"`
	Finalizing   int `json:"finalizing"`
	Done         int `json:"done"`
	Failed       int `json:"failed"`
	Total        int `json:"total"`
}

// SnapshotStatus is one snapshot of GET _snapshot/REPO/SNAP/_status.
type SnapshotStatus struct {
	Snapshot   string `json:"snapshot"`
	Repository string `json:"repository"`
	UUID       string `json:"uuid"`
	// State is STARTED while running (not IN_PROGRESS), then SUCCESS,
	// FAILED, ABORTED or PARTIAL.
	State       string        `json:"state"`
	ShardsStats ShardsStats   `json:"shards_stats"`
	Stats       SnapshotStats `json:"stats"`
	// Indices maps each index to its shard stats and stats.
	Indices map[string]struct {
		ShardsStats ShardsStats   `json:"shards_stats"`
		Stats       SnapshotStats `json:"stats"`
	} `json:"indices"`
}

// Running reports whether the snapshot is still being taken.
func (s *SnapshotStatus) Running() bool {
	switch s.State {
	case "STARTED", "IN_PROGRESS", "INIT":
		return true
	}
	return false
}

// ParseSnapshotStatus parses GET _snapshot/REPO/SNAP/_status.
func ParseSnapshotStatus(body []byte) ([]SnapshotStatus, error) {
	const what = "elasticsearch snapshot status"
	var r struct {
		Snapshots *[]SnapshotStatus `json:"snapshots"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	if r.Snapshots == nil {
		return nil, fmt.Errorf("%s: no \"snapshots\" field", what)
	}
	for i, s := range *r.Snapshots {
		if s.Snapshot == "" || s.State == "" {
			return nil, fmt.Errorf("%s: snapshot %d has no name or state", what, i)
		}
	}
	return *r.Snapshots, nil
}

// ShardRecovery is one shard of GET _recovery (or one row of _cat/recovery
// with format=json).
type ShardRecovery struct {
	// Index and Shard identify the shard.
	Index string
	Shard int
	// Type is SNAPSHOT, PEER, EXISTING_STORE, ... (upper case).
	Type string
	// Stage is INIT, INDEX, VERIFY_INDEX, TRANSLOG, FINALIZE or DONE (upper case).
	Stage string
	// Repository and Snapshot are set for snapshot recoveries.
	Repository, Snapshot string
	// BytesPercent and FilesPercent are the recovered percentages.
	BytesPercent, FilesPercent float64
	// TotalBytes and RecoveredBytes when the reply gives them, else -1.
	TotalBytes, RecoveredBytes int64
}

// Done reports whether the shard recovery finished.
func (r ShardRecovery) Done() bool { return r.Stage == "DONE" }

// ParseRecovery parses GET [INDEX/]_recovery: an object keyed by index with
// a "shards" list. Shards are returned sorted by index then shard.
func ParseRecovery(body []byte) ([]ShardRecovery, error) {
	const what = "elasticsearch recovery"
	var r map[string]struct {
		Shards []struct {
			ID     int    `json:"id"`
			Type   string `json:"type"`
			Stage  string `json:"stage"`
			Source struct {
				Repository string `json:"repository"`
				Snapshot   string `json:"snapshot"`
			} `json:"source"`
			Index struct {
				Size struct {
					Total     int64  `json:"total_in_bytes"`
					Recovered int64  `json:"recovered_in_bytes"`
					Percent   string `json:"percent"`
				} `json:"size"`
				Files struct {
					Percent string `json:"percent"`
				} `json:"files"`
			} `json:"index"`
		} `json:"shards"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	var out []ShardRecovery
	for idx, v := range r {
		for _, s := range v.Shards {
			if s.Stage == "" {
				return nil, fmt.Errorf("%s: index %q shard %d has no stage", what, clip(idx), s.ID)
			}
			sr := ShardRecovery{Index: idx, Shard: s.ID, Type: strings.ToUpper(s.Type), Stage: strings.ToUpper(s.Stage),
				Repository: s.Source.Repository, Snapshot: s.Source.Snapshot,
				TotalBytes: s.Index.Size.Total, RecoveredBytes: s.Index.Size.Recovered}
			var err error
			if sr.BytesPercent, err = parsePercent(s.Index.Size.Percent); err != nil {
				return nil, fmt.Errorf("%s: index %q shard %d size: %w", what, clip(idx), s.ID, err)
			}
			if sr.FilesPercent, err = parsePercent(s.Index.Files.Percent); err != nil {
				return nil, fmt.Errorf("%s: index %q shard %d files: %w", what, clip(idx), s.ID, err)
			}
			out = append(out, sr)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Index != out[j].Index {
			return out[i].Index < out[j].Index
		}
		return out[i].Shard < out[j].Shard
	})
	return out, nil
}

// ParseCatRecovery parses GET _cat/recovery?format=json, with the long
// column names (index, shard, type, stage, bytes_percent, ...) or the short
// ones (i, s, ty, st, bp, fp, rep, snap). Every value is a string there.
func ParseCatRecovery(body []byte) ([]ShardRecovery, error) {
	const what = "elasticsearch _cat/recovery"
	var rows []map[string]string
	if err := decodeES(what, body, &rows); err != nil {
		return nil, err
	}
	get := func(row map[string]string, long, short string) string {
		if v, ok := row[long]; ok {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(row[short])
	}
	out := make([]ShardRecovery, 0, len(rows))
	for i, row := range rows {
		sr := ShardRecovery{Index: get(row, "index", "i"), Type: strings.ToUpper(get(row, "type", "ty")),
			Stage: strings.ToUpper(get(row, "stage", "st")), TotalBytes: -1, RecoveredBytes: -1}
		if sr.Index == "" || sr.Stage == "" {
			return nil, fmt.Errorf("%s: row %d has no index or stage", what, i)
		}
		var err error
		if sr.Shard, err = strconv.Atoi(get(row, "shard", "s")); err != nil {
			return nil, fmt.Errorf("%s: row %d shard: %w", what, i, numErr(err))
		}
		if rep := get(row, "repository", "rep"); rep != "n/a" {
			sr.Repository = rep
		}
		if snap := get(row, "snapshot", "snap"); snap != "n/a" {
			sr.Snapshot = snap
		}
		if sr.BytesPercent, err = parsePercent(get(row, "bytes_percent", "bp")); err != nil {
			return nil, fmt.Errorf("%s: row %d bytes: %w", what, i, err)
		}
		if sr.FilesPercent, err = parsePercent(get(row, "files_percent", "fp")); err != nil {
			return nil, fmt.Errorf("%s: row %d files: %w", what, i, err)
		}
		if t := get(row, "bytes_total", "tb"); t != "" {
			if sr.TotalBytes, err = ParseSize(t); err != nil {
				return nil, fmt.Errorf("%s: row %d: %w", what, i, err)
			}
		}
		out = append(out, sr)
	}
	return out, nil
}

// ParseCount parses GET INDEX/_count and returns the count.
func ParseCount(body []byte) (int64, error) {
	const what = "elasticsearch count"
	var r struct {
		Count  *int64 `json:"count"`
		Shards struct {
			Failed int `json:"failed"`
		} `json:"_shards"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return 0, err
	}
	if r.Count == nil {
		return 0, fmt.Errorf("%s: no \"count\" field", what)
	}
	if r.Shards.Failed > 0 {
		return 0, fmt.Errorf("%s: %d shard(s) failed, count %d is incomplete", what, r.Shards.Failed, *r.Count)
	}
	return *r.Count, nil
}

// ESRepository is one repository of GET _snapshot[/REPO].
type ESRepository struct {
	// Name is the repository name (the object key).
	Name string
	// Type is "fs", "s3", "gcs", ...
	Type string
	// UUID is absent before 8.x.
	UUID string
	// Location is settings.location for fs repositories.
	Location string
	// Settings holds every setting as text (7.x prints "true" as a string,
	// later versions may print booleans).
	Settings map[string]string
}

// ParseRepositories parses GET _snapshot or GET _snapshot/REPO, returned
// sorted by name. A repository_missing_exception body yields an *ESError.
func ParseRepositories(body []byte) ([]ESRepository, error) {
	const what = "elasticsearch repository get"
	var r map[string]struct {
		Type     string                     `json:"type"`
		UUID     string                     `json:"uuid"`
		Settings map[string]json.RawMessage `json:"settings"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	out := make([]ESRepository, 0, len(r))
	for name, v := range r {
		if v.Type == "" {
			return nil, fmt.Errorf("%s: repository %q has no type", what, clip(name))
		}
		repo := ESRepository{Name: name, Type: v.Type, UUID: v.UUID, Settings: map[string]string{}}
		for k, raw := range v.Settings {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw)
			}
			repo.Settings[k] = s
		}
		repo.Location = repo.Settings["location"]
		out = append(out, repo)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CatIndex is one row of GET _cat/indices?format=json.
type CatIndex struct {
	Health, Status, Index, UUID string
	// Primaries and Replicas are "pri" and "rep".
	Primaries, Replicas int
	// DocsCount is "docs.count"; StoreBytes is "store.size" in bytes.
	DocsCount  int64
	StoreBytes int64
}

// ParseCatIndices parses GET _cat/indices?format=json (every value a
// string; closed indices have empty counts).
func ParseCatIndices(body []byte) ([]CatIndex, error) {
	const what = "elasticsearch _cat/indices"
	var rows []map[string]*string
	if err := decodeES(what, body, &rows); err != nil {
		return nil, err
	}
	out := make([]CatIndex, 0, len(rows))
	for i, row := range rows {
		get := func(k string) string {
			if v := row[k]; v != nil {
				return strings.TrimSpace(*v)
			}
			return ""
		}
		ci := CatIndex{Health: get("health"), Status: get("status"), Index: get("index"), UUID: get("uuid")}
		if ci.Index == "" {
			return nil, fmt.Errorf("%s: row %d has no index", what, i)
		}
		var err error
		for _, f := range []struct {
			key string
			dst *int64
		}{{"docs.count", &ci.DocsCount}} {
			if v := get(f.key); v != "" {
				if *f.dst, err = strconv.ParseInt(v, 10, 64); err != nil {
					return nil, fmt.Errorf("%s: index %q %s: %w", what, clip(ci.Index), f.key, numErr(err))
				}
			}
		}
		for _, f := range []struct {
			key string
			dst *int
		}{{"pri", &ci.Primaries}, {"rep", &ci.Replicas}} {
			if v := get(f.key); v != "" {
				if *f.dst, err = strconv.Atoi(v); err != nil {
					return nil, fmt.Errorf("%s: index %q %s: %w", what, clip(ci.Index), f.key, numErr(err))
				}
			}
		}
		if v := get("store.size"); v != "" {
			if ci.StoreBytes, err = ParseSize(v); err != nil {
				return nil, fmt.Errorf("%s: index %q store.size: %w", what, clip(ci.Index), err)
			}
		}
		out = append(out, ci)
	}
	return out, nil
}

// ParseAcknowledged parses {"acknowledged":true,...} replies (PUT repo,
// DELETE snapshot, DELETE index, POST _close) and returns the flag; an
// error body yields an *ESError.
func ParseAcknowledged(body []byte) (bool, error) {
	const what = "elasticsearch acknowledgement"
	var r struct {
		Acknowledged *bool `json:"acknowledged"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return false, err
	}
	if r.Acknowledged == nil {
		return false, fmt.Errorf("%s: no \"acknowledged\" field", what)
	}
	return *r.Acknowledged, nil
}

// ParseVerifyRepository parses POST _snapshot/REPO/_verify and returns the
// names of the nodes that verified the repository, sorted.
func ParseVerifyRepository(body []byte) ([]string, error) {
	const what = "elasticsearch repository verify"
	var r struct {
		Nodes map[string]struct {
			Name string `json:"name"`
		} `json:"nodes"`
	}
	if err := decodeES(what, body, &r); err != nil {
		return nil, err
	}
	if len(r.Nodes) == 0 {
		return nil, fmt.Errorf("%s: no node verified the repository", what)
	}
	var out []string
	for id, n := range r.Nodes {
		if n.Name == "" {
			n.Name = id
		}
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out, nil
}

// NodePathRepo is one node's path.repo, from GET _nodes/settings.
type NodePathRepo struct {
	// Node is the node's name.
	Node string
	// Roots lists path.repo: the directories fs repositories may live in
	// (empty when the node has none).
	Roots []string
}

// ParseNodesPathRepo parses GET _nodes/settings (nested settings, or flat
// with ?flat_settings=true) into each node's path.repo, sorted by node
// name. path.repo is a list, or a string when elasticsearch.yml gives one
// directory.
func ParseNodesPathRepo(body []byte) ([]NodePathRepo, error) {
	const what = "elasticsearch _nodes/settings"
	var raw struct {
		Nodes *map[string]struct {
			Name     string         `json:"name"`
			Settings map[string]any `json:"settings"`
		} `json:"nodes"`
	}
	if err := decodeES(what, body, &raw); err != nil {
		return nil, err
	}
	if raw.Nodes == nil {
		return nil, fmt.Errorf("%s: no \"nodes\" object", what)
	}
	var out []NodePathRepo
	for id, n := range *raw.Nodes {
		name := n.Name
		if name == "" {
			name = id
		}
		v, ok := n.Settings["path.repo"]
		if !ok {
			if p, isObj := n.Settings["path"].(map[string]any); isObj {
				v = p["repo"]
			}
		}
		var roots []string
		switch r := v.(type) {
		case nil:
		case string:
			roots = strings.Split(r, ",") // "a,b" is how a comma-separated yml value reads back
		case []any:
			for _, x := range r {
				s, isStr := x.(string)
				if !isStr {
					return nil, fmt.Errorf("%s: node %s: path.repo holds %T, not a string", what, name, x)
				}
				roots = append(roots, s)
			}
		default:
			return nil, fmt.Errorf("%s: node %s: path.repo is %T, not a list", what, name, v)
		}
		for i := range roots {
			roots[i] = strings.TrimSpace(roots[i])
		}
		out = append(out, NodePathRepo{Node: name, Roots: roots})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// UnderPathRepo says whether an fs repository location is inside one of
// roots, as Elasticsearch resolves it: a relative location is taken under
// the first root.
func UnderPathRepo(location string, roots []string) bool {
	if len(roots) == 0 {
		return false
	}
	if !path.IsAbs(location) {
		return true
	}
	loc := path.Clean(location)
	for _, r := range roots {
		r = path.Clean(r)
		if loc == r || strings.HasPrefix(loc, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

// ParseCatPrimaryStore reads GET _cat/indices?format=json&bytes=b: index →
// primary store bytes ("pri.store.size", else "store.size"; a closed index
// has neither and counts 0).
func ParseCatPrimaryStore(body []byte) (map[string]int64, error) {
	var rows []map[string]*string
	if err := decodeES("elasticsearch _cat/indices", body, &rows); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, row := range rows {
		idx := row["index"]
		if idx == nil || *idx == "" {
			return nil, fmt.Errorf("elasticsearch _cat/indices: a row has no index")
		}
		var n int64
		for _, k := range []string{"pri.store.size", "store.size"} {
			if v := row[k]; v != nil && strings.TrimSpace(*v) != "" {
				var err error
				if n, err = strconv.ParseInt(strings.TrimSpace(*v), 10, 64); err != nil {
					if n, err = ParseSize(*v); err != nil {
						return nil, fmt.Errorf("elasticsearch _cat/indices: index %q %s: %w", clip(*idx), k, err)
					}
				}
				break
			}
		}
		out[*idx] = n
	}
	return out, nil
}

// notAccessibleRE finds each node a repository_verification_exception
// says cannot write the repository: "... is not accessible on the node
// [{NAME}{ID}...".
var notAccessibleRE = regexp.MustCompile(`is not accessible on the node \[\{([^}]+)\}`)

// UnverifiedNodes returns the names of the nodes a failed repository
// verification names as unable to write the repository (none when it is
// the master that failed, "path is not accessible on master node", or
// another error).
func UnverifiedNodes(e *ESError) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, m := range notAccessibleRE.FindAllStringSubmatch(e.Reason, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}
