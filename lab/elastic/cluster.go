// Package elastic is the practice lab's Elasticsearch stand-in: an HTTP
// server that answers the subset of the Elasticsearch 8.x (or 6.8, or
// OpenSearch 2.x) REST API that backups and restores use, with the real
// status codes, headers and error bodies, an fs snapshot repository that
// writes real files, and a small document store (index, get and delete by
// id) whose documents travel with the snapshots.
//
// One logical cluster is kept as JSON in a state directory and guarded by
// flock, so several daemons (one per lab node) can share it. Completed
// snapshots live in the repository directory itself, as with real ES: a
// restored copy of the directory brings its snapshots back, a deleted one
// takes them away.
//
// Time is injected (Options.Clock), so tests drive snapshots and recoveries
// without sleeping.
package elastic

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Flavour selects which product the stand-in imitates.
type Flavour string

const (
	// FlavourElasticsearch imitates Elasticsearch 8.x (the default).
	FlavourElasticsearch Flavour = "elasticsearch"
	// FlavourOpenSearch imitates OpenSearch 2.x.
	FlavourOpenSearch Flavour = "opensearch"
	// FlavourElasticsearch6 imitates Elasticsearch 6.8, the version
	// Alien4Cloud 3.x ships: 6.x response shapes, typed document APIs, no
	// X-Elastic-Product header.
	FlavourElasticsearch6 Flavour = "elasticsearch6"
)

// Version numbers the stand-in reports.
const (
	ESVersion   = "8.17.3"
	esVersionID = 8170399
	esLucene    = "9.12.0"
	// ES6Version is the Elasticsearch 6.8 release Alien4Cloud 3.7 pins
	// (alien4cloud pom.xml, alien4cloud-spray's elasticsearch-6.8.22.rpm).
	ES6Version      = "6.8.22"
	es6VersionID    = 6082299
	es6Lucene       = "7.7.3"
	OSVersion       = "2.19.1"
	osVersionID     = 2190199 ^ 0x08000000
	osLucene        = "9.12.1"
	defaultRate     = 200 << 20
	emptyShardBytes = 225
)

// Options configure a Cluster. The zero value is usable.
type Options struct {
	// ClusterName is reported by GET / and health (default "hotsnap-lab").
	ClusterName string
	// Flavour is elasticsearch (default), elasticsearch6 or opensearch.
	Flavour Flavour
	// PathRepo lists the allowed fs repository roots (path.repo). Empty means
	// the setting is unset and every fs repository is refused.
	PathRepo []string
	// Auth, as "user:pass", turns on basic authentication.
	Auth string
	// SnapshotRate is how many bytes per second a snapshot copies (default 200 MiB/s).
	SnapshotRate int64
	// RecoveryRate is how many bytes per second a restore recovers (default 200 MiB/s).
	RecoveryRate int64
	// RecoveryInitDelay is how long a restored shard stays in stage INIT (default 200ms).
	RecoveryInitDelay time.Duration
	// NodeTTL, when positive, drops nodes not seen for that long from the
	// node count (daemons refresh themselves with Tick).
	NodeTTL time.Duration
	// Clock is the time source (default the wall clock).
	Clock Clock
}

// Clock is the time source of a Cluster; tests use a ManualClock.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until done is closed; it reports whether it waited fully.
	Sleep(d time.Duration, done <-chan struct{}) bool
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// ManualClock is a Clock that only moves when told to; Sleep advances it
// instantly, so server-side waits (wait_for_completion, wait_for_status)
// finish at once in tests.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock set to t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (m *ManualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// Advance moves the clock forward by d.
func (m *ManualClock) Advance(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

// Sleep advances the clock by d and returns true (false if done is already closed).
func (m *ManualClock) Sleep(d time.Duration, done <-chan struct{}) bool {
	select {
	case <-done:
		return false
	default:
	}
	m.Advance(d)
	return true
}

// Cluster is one logical cluster whose state lives in a directory shared by
// every node process.
type Cluster struct {
	dir  string
	opts Options
	mu   sync.Mutex
}

// NewCluster opens (creating if needed) the cluster state in stateDir.
func NewCluster(stateDir string, opts Options) (*Cluster, error) {
	if stateDir == "" {
		return nil, errors.New("elastic: state directory is empty")
	}
	if opts.ClusterName == "" {
		opts.ClusterName = "hotsnap-lab"
	}
	switch opts.Flavour {
	case "":
		opts.Flavour = FlavourElasticsearch
	case FlavourElasticsearch, FlavourElasticsearch6, FlavourOpenSearch:
	default:
		return nil, fmt.Errorf("elastic: unknown flavour %q (want elasticsearch, elasticsearch6 or opensearch)", opts.Flavour)
	}
	if opts.SnapshotRate <= 0 {
		opts.SnapshotRate = defaultRate
	}
	if opts.RecoveryRate <= 0 {
		opts.RecoveryRate = defaultRate
	}
	if opts.RecoveryInitDelay == 0 {
		opts.RecoveryInitDelay = 200 * time.Millisecond
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Auth != "" && !strings.Contains(opts.Auth, ":") {
		return nil, errors.New("elastic: auth must be user:pass")
	}
	for i, p := range opts.PathRepo {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("elastic: path.repo %q: %w", p, err)
		}
		opts.PathRepo[i] = filepath.Clean(abs)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("elastic: create state dir: %w", err)
	}
	c := &Cluster{dir: stateDir, opts: opts}
	if err := c.update(func(*state) error { return nil }); err != nil {
		return nil, err
	}
	return c, nil
}

// state is the shared cluster state persisted as state.json.
type state struct {
	ClusterUUID    string               `json:"cluster_uuid"`
	Nodes          []*nodeInfo          `json:"nodes"`
	Indices        map[string]*index    `json:"indices"`
	Repos          map[string]*repoMeta `json:"repositories"`
	Running        []*running           `json:"running_snapshots"`
	HealthOverride string               `json:"health_override,omitempty"`
	NextFault      *fault               `json:"next_snapshot_fault,omitempty"`
	Serial         bool                 `json:"serial_snapshots,omitempty"`
	RecoveryRate   int64                `json:"recovery_rate,omitempty"` // overrides Options.RecoveryRate for new restores
	SnapshotRate   int64                `json:"snapshot_rate,omitempty"` // overrides Options.SnapshotRate for new snapshots
	Verify         []*verifyReq         `json:"verify_requests,omitempty"`
	nowMs          int64
}

type nodeInfo struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	LastSeen int64  `json:"last_seen_ms"`
}

type segment struct {
	Gen   int   `json:"gen"`
	Docs  int64 `json:"docs"`
	Bytes int64 `json:"bytes"`
}

type index struct {
	Name      string     `json:"name"`
	UUID      string     `json:"uuid"`
	Status    string     `json:"status"` // open | close
	Shards    int        `json:"shards"`
	Replicas  int        `json:"replicas"`
	CreatedMs int64      `json:"created_ms"`
	Segments  []segment  `json:"segments"`
	NextGen   int        `json:"next_gen"`
	Recovery  *recovery  `json:"recovery,omitempty"`
	Hidden    bool       `json:"hidden,omitempty"`
	Failed    string     `json:"failed,omitempty"`
	Restored  *restoreID `json:"restored_from,omitempty"`
	// Stored are the documents indexed through the document API, by id;
	// DocType is their mapping type (6.x) and NextSeqNo the next sequence
	// number.
	Stored    map[string]*storedDoc `json:"stored,omitempty"`
	DocType   string                `json:"doc_type,omitempty"`
	NextSeqNo int64                 `json:"next_seq_no,omitempty"`
}

type restoreID struct {
	Repo, Snapshot, UUID string
}

func (ix *index) docs() int64 {
	var n int64
	for _, s := range ix.Segments {
		n += s.Docs
	}
	return n + int64(len(ix.Stored))
}

// priBytes is the primary store size.
func (ix *index) priBytes() int64 {
	var n int64
	for _, s := range ix.Segments {
		n += s.Bytes
	}
	n += ix.storedBytes()
	if n == 0 {
		n = int64(emptyShardBytes * ix.Shards)
	}
	return n
}

type repoMeta struct {
	Type     string         `json:"type"`
	UUID     string         `json:"uuid"`
	Settings map[string]any `json:"settings"`
	Location string         `json:"location"` // resolved absolute path
}

// readonly says the repository was registered with "readonly": true (a
// cluster that only reads another cluster's repository): Elasticsearch
// verifies it without writing and refuses to create or delete snapshots
// in it.
func (r *repoMeta) readonly() bool { return fmt.Sprint(r.Settings["readonly"]) == "true" }

type fault struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// ---- locking and persistence ----

func (c *Cluster) statePath() string { return filepath.Join(c.dir, "state.json") }

// update runs fn on the current state under the in-process mutex and an
// exclusive flock, after advancing time-driven work, and saves the result.
func (c *Cluster) update(fn func(*state) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	lf, err := os.OpenFile(filepath.Join(c.dir, "state.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("elastic: open lock file: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("elastic: lock state: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	st, err := c.load()
	if err != nil {
		return err
	}
	st.nowMs = c.opts.Clock.Now().UnixMilli()
	c.advance(st)
	ferr := fn(st)
	if err := c.save(st); err != nil {
		return err
	}
	return ferr
}

func (c *Cluster) load() (*state, error) {
	raw, err := os.ReadFile(c.statePath())
	st := &state{}
	switch {
	case errors.Is(err, os.ErrNotExist):
		st.ClusterUUID = newUUID()
	case err != nil:
		return nil, fmt.Errorf("elastic: read state: %w", err)
	default:
		if err := json.Unmarshal(raw, st); err != nil {
			return nil, fmt.Errorf("elastic: parse %s: %w", c.statePath(), err)
		}
	}
	if st.Indices == nil {
		st.Indices = map[string]*index{}
	}
	if st.Repos == nil {
		st.Repos = map[string]*repoMeta{}
	}
	return st, nil
}

func (c *Cluster) save(st *state) error {
	raw, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fmt.Errorf("elastic: encode state: %w", err)
	}
	return writeFileAtomic(c.statePath(), raw)
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ---- ids ----

// newUUID returns a 22-character URL-safe base64 id like ES UUIDs.Base64UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on Linux; fall back to time so we never panic.
		binaryTime := time.Now().UnixNano()
		for i := range b {
			b[i] = byte(binaryTime >> (8 * (i % 8)))
		}
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// stableID derives a 22-character id from a string.
func stableID(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// ---- nodes ----

func (c *Cluster) touchNode(st *state, name string) *nodeInfo {
	for _, n := range st.Nodes {
		if n.Name == name {
			n.LastSeen = st.nowMs
			return n
		}
	}
	n := &nodeInfo{Name: name, ID: stableID("node:" + st.ClusterUUID + ":" + name), LastSeen: st.nowMs}
	st.Nodes = append(st.Nodes, n)
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Name < st.Nodes[j].Name })
	return n
}

func (c *Cluster) liveNodes(st *state) []*nodeInfo {
	var out []*nodeInfo
	for _, n := range st.Nodes {
		if c.opts.NodeTTL > 0 && st.nowMs-n.LastSeen > c.opts.NodeTTL.Milliseconds() {
			continue
		}
		out = append(out, n)
	}
	return out
}

// RegisterNode records a node as a member of the cluster (NewHandler and
// Tick do this too).
func (c *Cluster) RegisterNode(name string) error {
	return c.update(func(st *state) error { c.touchNode(st, name); return nil })
}

// Tick advances time-driven work (snapshot uploads, recoveries) and refreshes
// node's liveness; daemons call it periodically.
func (c *Cluster) Tick(node string) error {
	err := c.update(func(st *state) error {
		if node != "" {
			c.touchNode(st, node)
		}
		return nil
	})
	if err != nil || node == "" {
		return err
	}
	return c.answerVerifications(node)
}

// ---- admin hooks ----

// Seed adds docs documents and bytes bytes of store to index (a new Lucene
// segment), creating the index (1 shard, 0 replicas) when it does not exist.
func (c *Cluster) Seed(name string, docs, bytes int64) error {
	if err := validateIndexName(name); err != nil {
		return fmt.Errorf("elastic: seed %s: %w", name, err)
	}
	if docs < 0 || bytes < 0 {
		return fmt.Errorf("elastic: seed %s: negative docs or bytes", name)
	}
	return c.update(func(st *state) error {
		ix := st.Indices[name]
		if ix == nil {
			ix = newIndex(st, name, 1, 0)
			st.Indices[name] = ix
		}
		if ix.Status != "open" {
			return fmt.Errorf("elastic: seed %s: index is closed", name)
		}
		if ix.Recovery != nil && !ix.Recovery.done() {
			return fmt.Errorf("elastic: seed %s: index is recovering", name)
		}
		ix.NextGen++
		ix.Segments = append(ix.Segments, segment{Gen: ix.NextGen, Docs: docs, Bytes: bytes})
		return nil
	})
}

// CreateIndex creates an empty index with the given shard and replica
// counts unless it exists (as PUT /<index> with those settings).
func (c *Cluster) CreateIndex(name string, shards, replicas int) error {
	if err := validateIndexName(name); err != nil {
		return fmt.Errorf("elastic: create %s: %w", name, err)
	}
	if shards < 1 || replicas < 0 {
		return fmt.Errorf("elastic: create %s: %d shards, %d replicas", name, shards, replicas)
	}
	return c.update(func(st *state) error {
		if st.Indices[name] == nil {
			st.Indices[name] = newIndex(st, name, shards, replicas)
		}
		return nil
	})
}

func newIndex(st *state, name string, shards, replicas int) *index {
	return &index{Name: name, UUID: newUUID(), Status: "open", Shards: shards, Replicas: replicas,
		CreatedMs: st.nowMs, Hidden: strings.HasPrefix(name, ".")}
}

// SetHealth forces the reported cluster health to green, yellow or red; ""
// returns to the computed health.
func (c *Cluster) SetHealth(status string) error {
	switch status {
	case "", "green", "yellow", "red":
	default:
		return fmt.Errorf("elastic: set health: unknown status %q", status)
	}
	return c.update(func(st *state) error { st.HealthOverride = status; return nil })
}

// FailNextSnapshot makes the next snapshot end in state FAILED or PARTIAL
// with the given reason.
func (c *Cluster) FailNextSnapshot(snapState, reason string) error {
	if snapState != "FAILED" && snapState != "PARTIAL" {
		return fmt.Errorf("elastic: fail next snapshot: state %q is not FAILED or PARTIAL", snapState)
	}
	if reason == "" {
		reason = "simulated failure"
	}
	return c.update(func(st *state) error { st.NextFault = &fault{State: snapState, Reason: reason}; return nil })
}

// SetSerialSnapshots makes a second concurrent snapshot fail with the 503
// concurrent_snapshot_execution_exception of pre-7.9 and managed clusters.
func (c *Cluster) SetSerialSnapshots(on bool) error {
	return c.update(func(st *state) error { st.Serial = on; return nil })
}

// SetRecoveryRate makes the restores started from now on recover at rate
// bytes per second (0: the rate the cluster was started with), so a test
// can act while a restore is recovering.
func (c *Cluster) SetRecoveryRate(rate int64) error {
	return c.update(func(st *state) error { st.RecoveryRate = rate; return nil })
}

// SetSnapshotRate makes the snapshots started from now on copy at rate
// bytes per second (0: the rate the cluster was started with), so a test
// can act while a snapshot runs.
func (c *Cluster) SetSnapshotRate(rate int64) error {
	return c.update(func(st *state) error { st.SnapshotRate = rate; return nil })
}

// IndexInfo is a summary of one index, for tests and lab checks.
type IndexInfo struct {
	Name, UUID, Status, Health string
	Docs, Bytes                int64
	Recovering                 bool
}

// Index returns the current summary of an index and whether it exists.
func (c *Cluster) Index(name string) (IndexInfo, bool, error) {
	var out IndexInfo
	var ok bool
	err := c.update(func(st *state) error {
		ix := st.Indices[name]
		if ix == nil {
			return nil
		}
		ok = true
		out = IndexInfo{Name: ix.Name, UUID: ix.UUID, Status: ix.Status, Health: c.indexHealth(st, ix).status,
			Docs: ix.docs(), Bytes: ix.priBytes(), Recovering: ix.Recovery != nil && !ix.Recovery.done()}
		return nil
	})
	return out, ok, err
}

// ---- health ----

type health struct {
	status                    string
	activePri, active, init   int
	unassigned, unassignedPri int
}

func worse(a, b string) string {
	rank := map[string]int{"green": 0, "yellow": 1, "red": 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func (c *Cluster) indexHealth(st *state, ix *index) health {
	h := health{status: "green"}
	nodes := len(c.liveNodes(st))
	if nodes < 1 {
		nodes = 1
	}
	assignable := ix.Replicas
	if assignable > nodes-1 {
		assignable = nodes - 1
	}
	for s := 0; s < ix.Shards; s++ {
		switch {
		case ix.Failed != "" || (ix.Recovery != nil && ix.Recovery.Failed != ""):
			h.unassigned += 1 + ix.Replicas
			h.unassignedPri++
			h.status = "red"
		case ix.Recovery != nil && !ix.Recovery.done():
			h.init++
			h.unassigned += ix.Replicas
			h.status = worse(h.status, "yellow")
		default:
			h.activePri++
			h.active += 1 + assignable
			h.unassigned += ix.Replicas - assignable
			if ix.Replicas > assignable {
				h.status = worse(h.status, "yellow")
			}
		}
	}
	return h
}

func (c *Cluster) clusterHealth(st *state, only []*index) health {
	h := health{status: "green"}
	list := only
	if list == nil {
		for _, ix := range st.Indices {
			list = append(list, ix)
		}
	}
	for _, ix := range list {
		ih := c.indexHealth(st, ix)
		h.status = worse(h.status, ih.status)
		h.activePri += ih.activePri
		h.active += ih.active
		h.init += ih.init
		h.unassigned += ih.unassigned
		h.unassignedPri += ih.unassignedPri
	}
	if st.HealthOverride != "" && only == nil {
		h.status = st.HealthOverride
	}
	return h
}
