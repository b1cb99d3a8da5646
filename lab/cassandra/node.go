package cassandra

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/datastax/go-cassandra-native-protocol/client"
)

// Config configures one stand-in node.
type Config struct {
	// DataDir is the data directory (default /var/lib/cassandra/data).
	DataDir string
	// ListenAddress is the node's IP (listen_address = rpc_address).
	ListenAddress string
	// Peers are the other nodes' IPs; they use the same ports.
	Peers []string
	// CQLPort is the native transport port (default 9042).
	CQLPort int
	// ControlPort is the stand-in control port, in place of JMX (default 7199).
	ControlPort int
	// ClusterName is cluster_name (default "Test Cluster").
	ClusterName string
	// DC and Rack (defaults datacenter1 / rack1).
	DC, Rack string
	// Auth enables PasswordAuthenticator/CassandraAuthorizer.
	Auth bool
	// Users are the initial login roles (default cassandra/cassandra, superuser).
	Users map[string]string
	// ReleaseVersion is reported by nodetool version and system.local (default 4.1.12).
	ReleaseVersion string
}

const (
	defaultCQLPort     = 9042
	defaultControlPort = 7199
	storagePort        = 7000
	peerTimeout        = 700 * time.Millisecond
)

// Node is one stand-in Cassandra node: a Store plus the CQL and control servers.
type Node struct {
	cfg     Config
	store   *Store
	started time.Time

	mu        sync.Mutex
	peerSeen  map[string]NodeInfo
	roles     map[string]roleInfo
	prepared  map[string]string
	listeners []net.Listener
	httpSrv   *http.Server
	cqlSrv    *client.CqlServer
	cancel    context.CancelFunc
	done      chan struct{}

	streamsIn   atomic.Int64
	msgsSmall   atomic.Int64
	repairCount atomic.Int64
}

type roleInfo struct {
	Password  string `json:"password"`
	Superuser bool   `json:"superuser"`
	Login     bool   `json:"login"`
}

// NewNode validates cfg, fills defaults and opens the store.
func NewNode(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "/var/lib/cassandra/data"
	}
	if cfg.ListenAddress == "" {
		cfg.ListenAddress = "127.0.0.1"
	}
	if net.ParseIP(cfg.ListenAddress) == nil {
		return nil, fmt.Errorf("new node: listen address %q is not an IP", cfg.ListenAddress)
	}
	for _, p := range cfg.Peers {
		if net.ParseIP(p) == nil {
			return nil, fmt.Errorf("new node: peer %q is not an IP", p)
		}
	}
	if cfg.CQLPort == 0 {
		cfg.CQLPort = defaultCQLPort
	}
	if cfg.ControlPort == 0 {
		cfg.ControlPort = defaultControlPort
	}
	if cfg.ClusterName == "" {
		cfg.ClusterName = "Test Cluster"
	}
	if cfg.DC == "" {
		cfg.DC = "datacenter1"
	}
	if cfg.Rack == "" {
		cfg.Rack = "rack1"
	}
	if cfg.ReleaseVersion == "" {
		cfg.ReleaseVersion = "4.1.12"
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{"cassandra": "cassandra"}
	}
	st, err := OpenStore(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	n := &Node{cfg: cfg, store: st, peerSeen: map[string]NodeInfo{}, roles: map[string]roleInfo{}, prepared: map[string]string{}}
	for u, p := range cfg.Users {
		n.roles[u] = roleInfo{Password: p, Superuser: true, Login: true}
	}
	if b, err := os.ReadFile(n.rolesFile()); err == nil {
		var saved map[string]roleInfo
		if json.Unmarshal(b, &saved) == nil {
			for k, v := range saved {
				n.roles[k] = v
			}
		}
	}
	return n, nil
}

// Store returns the node's on-disk store.
func (n *Node) Store() *Store { return n.store }

// Config returns the effective configuration (defaults filled in).
func (n *Node) Config() Config { return n.cfg }

func (n *Node) rolesFile() string { return filepath.Join(n.store.StandInDir(), "roles.json") }

// Start opens the CQL and control listeners and returns once they accept connections.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done != nil {
		return fmt.Errorf("start node %s: already started", n.cfg.ListenAddress)
	}
	ctx, cancel := context.WithCancel(ctx)
	n.started = time.Now()
	mux := n.controlMux()
	n.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	addrs := []string{net.JoinHostPort(n.cfg.ListenAddress, strconv.Itoa(n.cfg.ControlPort))}
	if ip := net.ParseIP(n.cfg.ListenAddress); !ip.IsLoopback() {
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(n.cfg.ControlPort)))
	}
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			cancel()
			for _, x := range n.listeners {
				x.Close()
			}
			n.listeners = nil
			return fmt.Errorf("start node: control listener %s: %w", a, err)
		}
		n.listeners = append(n.listeners, l)
	}
	n.cqlSrv = client.NewCqlServer(net.JoinHostPort(n.cfg.ListenAddress, strconv.Itoa(n.cfg.CQLPort)), nil)
	n.cqlSrv.MaxConnections = 256
	n.cqlSrv.IdleTimeout = 24 * time.Hour
	n.cqlSrv.RequestHandlers = []client.RequestHandler{answering(n.handleCQL)}
	if err := n.cqlSrv.Start(ctx); err != nil {
		cancel()
		for _, x := range n.listeners {
			x.Close()
		}
		n.listeners = nil
		return fmt.Errorf("start node: native transport: %w", err)
	}
	// The library queues every accepted connection for Accept/AcceptAny in a
	// bounded channel, under a lock: nobody reading it wedges the whole
	// server after MaxConnections connections in its lifetime. Drain it.
	srv := n.cqlSrv
	go func() {
		for !srv.IsClosed() {
			srv.AcceptAny() //nolint:errcheck // timeouts just loop
		}
	}()
	for _, l := range n.listeners {
		go n.httpSrv.Serve(l) //nolint:errcheck // returns ErrServerClosed on shutdown
	}
	n.cancel = cancel
	n.done = make(chan struct{})
	done := n.done
	go func() {
		<-ctx.Done()
		n.shutdown()
		close(done)
	}()
	return nil
}

func (n *Node) shutdown() {
	n.mu.Lock()
	srv, cql := n.httpSrv, n.cqlSrv
	n.mu.Unlock()
	if srv != nil {
		sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx) //nolint:errcheck // best effort on stop
		c()
		srv.Close()
	}
	if cql != nil {
		cql.Close() //nolint:errcheck // best effort on stop
	}
}

// Stop shuts the node down and waits until its ports are closed.
func (n *Node) Stop() {
	n.mu.Lock()
	cancel, done := n.cancel, n.done
	n.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	n.mu.Lock()
	n.done, n.cancel, n.listeners = nil, nil, nil
	n.mu.Unlock()
}

// Serve runs the node until ctx is cancelled.
func (n *Node) Serve(ctx context.Context) error {
	if err := n.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	n.Stop()
	return nil
}

// NodeInfo is what a node reports about itself on the control port.
type NodeInfo struct {
	// Address is the node's listen address; HostID its deterministic host ID.
	Address string `json:"address"`
	HostID  string `json:"host_id"`
	// DC and Rack locate the node.
	DC   string `json:"dc"`
	Rack string `json:"rack"`
	// Load is the live SSTable size in bytes (valid when LoadKnown).
	Load int64 `json:"load"`
	// Tokens are the node's vnode tokens.
	Tokens []string `json:"tokens"`
	// ReleaseVersion, SchemaVersion and ClusterName as in system.local.
	ReleaseVersion string `json:"release_version"`
	SchemaVersion  string `json:"schema_version"`
	ClusterName    string `json:"cluster_name"`
	// Generation is the gossip generation (start time); UptimeSeconds the uptime.
	Generation    int64 `json:"generation"`
	UptimeSeconds int64 `json:"uptime_seconds"`
	// Up is false for peers that did not answer; LoadKnown false when never seen.
	Up        bool `json:"up"`
	LoadKnown bool `json:"load_known"`
	// State is the node's ring state as nodetool status prints it: "N"
	// (normal), "J" (joining), "L" (leaving), "M" (moving). It is N unless
	// the fault file <stand-in>/ring-state says otherwise (StateFile).
	State string `json:"state,omitempty"`
}

// StateFile is the fault switch of a node's ring state, in the stand-in's
// own directory: a file holding J, L or M makes the node joining, leaving
// or moving in every node's nodetool status (UJ, UL, UM), as a node being
// bootstrapped, decommissioned or moved is; removed, the node is normal.
const StateFile = "ring-state"

// ringState reads the fault switch StateFile: "N" unless it holds J, L or M.
func (n *Node) ringState() string {
	b, err := os.ReadFile(filepath.Join(n.store.StandInDir(), StateFile))
	if s := strings.TrimSpace(string(b)); err == nil && (s == "J" || s == "L" || s == "M") {
		return s
	}
	return "N"
}

func (n *Node) selfInfo() NodeInfo {
	var toks []string
	for _, t := range NodeTokens(n.cfg.ListenAddress) {
		toks = append(toks, strconv.FormatInt(t, 10))
	}
	return NodeInfo{
		Address: n.cfg.ListenAddress, HostID: HostID(n.cfg.ListenAddress), DC: n.cfg.DC, Rack: n.cfg.Rack,
		Load: n.store.LoadBytes(), Tokens: toks, ReleaseVersion: n.releaseVersion(),
		SchemaVersion: n.schemaVersion(), ClusterName: n.cfg.ClusterName,
		Generation: n.started.Unix(), UptimeSeconds: uptimeSeconds(n.started), Up: true, LoadKnown: true, State: n.ringState(),
	}
}

// ReleaseFile is the fault switch of a node's Cassandra version, in the
// stand-in's own directory: a file holding a release ("4.0.13") makes the
// node report it (nodetool version, system.local, and the Database versions
// of every node's nodetool describecluster), as a node not yet upgraded in
// a rolling upgrade does; removed, it reports its own again.
const ReleaseFile = "release-version"

// releaseVersion is the node's configured release, unless the fault switch
// ReleaseFile names another.
func (n *Node) releaseVersion() string {
	if b, err := os.ReadFile(filepath.Join(n.store.StandInDir(), ReleaseFile)); err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			return v
		}
	}
	return n.cfg.ReleaseVersion
}

// SchemaFile is the fault switch of a node's schema version, in the
// stand-in's own directory: a file holding a UUID makes the node report
// that version (in every node's nodetool describecluster), as a node a
// schema change has not reached does; removed, the node agrees again.
const SchemaFile = "schema-version"

// schemaVersion hashes the user schema so that agreeing nodes report the
// same UUID, unless the fault switch SchemaFile names another.
func (n *Node) schemaVersion() string {
	if b, err := os.ReadFile(filepath.Join(n.store.StandInDir(), SchemaFile)); err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			return v
		}
	}
	kss, _ := n.store.Keyspaces()
	b, _ := json.Marshal(kss)
	return deterministicUUID("schema/" + string(b))
}

// clusterView asks every peer for its info (short timeout); unreachable peers are Down.
func (n *Node) clusterView() []NodeInfo {
	out := []NodeInfo{n.selfInfo()}
	var wg sync.WaitGroup
	res := make([]NodeInfo, len(n.cfg.Peers))
	for i, p := range n.cfg.Peers {
		wg.Add(1)
		go func(i int, p string) {
			defer wg.Done()
			var info NodeInfo
			if err := n.peerCall(p, "GET", "/v1/info", nil, &info); err == nil {
				info.Up = true
				n.mu.Lock()
				n.peerSeen[p] = info
				n.mu.Unlock()
				res[i] = info
				return
			}
			n.mu.Lock()
			last, ok := n.peerSeen[p]
			n.mu.Unlock()
			if !ok {
				var toks []string
				for _, t := range NodeTokens(p) {
					toks = append(toks, strconv.FormatInt(t, 10))
				}
				last = NodeInfo{Address: p, HostID: HostID(p), DC: n.cfg.DC, Rack: n.cfg.Rack, Tokens: toks, ReleaseVersion: n.cfg.ReleaseVersion}
			}
			last.Up = false
			res[i] = last
		}(i, p)
	}
	wg.Wait()
	return append(out, res...)
}

var peerClient = &http.Client{Timeout: peerTimeout}

func (n *Node) peerCall(peer, method, path string, body, out any) error {
	return controlCall(peerClient, net.JoinHostPort(peer, strconv.Itoa(n.cfg.ControlPort)), method, path, body, out)
}

// ControlError is the error envelope of the control API (a Java exception).
type ControlError struct {
	// Class is the Java exception class; Message its message.
	Class   string `json:"class"`
	Message string `json:"message"`
	// Exit is the nodetool exit status to use (default 2).
	Exit int `json:"exit,omitempty"`
	// Plain means: print Message alone on stderr (no "error:" / stack trace).
	Plain bool `json:"plain,omitempty"`
}

// Error implements error.
func (e *ControlError) Error() string { return e.Class + ": " + e.Message }

// controlCall performs one JSON request against a control endpoint.
func controlCall(c *http.Client, hostport, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s request: %w", path, err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, "http://"+hostport+path, rd)
	if err != nil {
		return fmt.Errorf("build %s request: %w", path, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("call %s on %s: %w", path, hostport, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s response from %s: %w", path, hostport, err)
	}
	if resp.StatusCode != http.StatusOK {
		var ce ControlError
		if json.Unmarshal(data, &ce) == nil && ce.Class != "" {
			return &ce
		}
		return fmt.Errorf("call %s on %s: HTTP %d: %s", path, hostport, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode %s response from %s: %w", path, hostport, err)
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // client gone
}

func writeErr(w http.ResponseWriter, e *ControlError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	json.NewEncoder(w).Encode(e) //nolint:errcheck // client gone
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "bad request: " + err.Error()})
		return false
	}
	return true
}

// StatusRowInfo is one node line of nodetool status as computed by the server.
type StatusRowInfo struct {
	// DC is the datacenter; Status the two-letter state ("UN", "DN").
	DC     string `json:"dc"`
	Status string `json:"status"`
	// Address, Load (already formatted), Tokens count and Owns (0..1).
	Address string  `json:"address"`
	Load    string  `json:"load"`
	Tokens  int     `json:"tokens"`
	Owns    float64 `json:"owns"`
	// HostID and Rack of the node.
	HostID string `json:"host_id"`
	Rack   string `json:"rack"`
}

// StatusInfo is the control-API answer for nodetool status.
type StatusInfo struct {
	// Rows are the node lines.
	Rows []StatusRowInfo `json:"rows"`
	// Effective selects the "Owns (effective)" header; otherwise "Owns" with "?" cells.
	Effective bool `json:"effective"`
	// Note is printed after the table as "Note: <Note>".
	Note string `json:"note,omitempty"`
}

func (n *Node) status(keyspace string) (*StatusInfo, *ControlError) {
	view := n.clusterView()
	var addrs []string
	for _, v := range view {
		addrs = append(addrs, v.Address)
	}
	rg := newRing(addrs)
	rf := 1
	res := &StatusInfo{Effective: true}
	if keyspace != "" {
		if isSystemKeyspace(keyspace) {
			for _, k := range systemKeyspaces() {
				if k.Name == keyspace {
					rf = k.ReplicationFactor()
				}
			}
			if rf == 0 {
				res.Effective = false
				res.Note = "Ownership values for keyspaces with LocalStrategy are meaningless"
			}
		} else {
			k, err := n.store.Keyspace(keyspace)
			if err != nil {
				return nil, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "The keyspace " + keyspace + ", does not exist"}
			}
			rf = k.ReplicationFactor()
		}
	} else {
		kss, _ := n.store.Keyspaces()
		distinct := map[string]bool{}
		for _, k := range kss {
			distinct[replicationCQL(k.Replication, false)] = true
			rf = k.ReplicationFactor()
		}
		if len(distinct) > 1 {
			res.Effective = false
			res.Note = "Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless"
		}
	}
	own := rg.Ownership(rf)
	for _, v := range view {
		st := "UN"
		if v.State != "" {
			st = "U" + v.State
		}
		if !v.Up {
			st = "DN"
		}
		load := "?"
		if v.LoadKnown {
			load = StringifyFileSize(float64(v.Load))
		}
		res.Rows = append(res.Rows, StatusRowInfo{DC: v.DC, Status: st, Address: v.Address, Load: load, Tokens: len(v.Tokens), Owns: own[v.Address], HostID: v.HostID, Rack: v.Rack})
	}
	sort.SliceStable(res.Rows, func(i, j int) bool {
		if res.Rows[i].DC != res.Rows[j].DC {
			return res.Rows[i].DC < res.Rows[j].DC
		}
		return ipLess(res.Rows[i].Address, res.Rows[j].Address)
	})
	return res, nil
}

func ipLess(a, b string) bool {
	ia, ib := net.ParseIP(a).To16(), net.ParseIP(b).To16()
	if ia == nil || ib == nil {
		return a < b
	}
	return string(ia) < string(ib)
}

// SnapshotRequest is the body of /v1/snapshot.
type SnapshotRequest struct {
	// Tag is the snapshot name.
	Tag string `json:"tag"`
	// Keyspaces and KTList (keyspace.table) select what to snapshot; both empty means everything.
	Keyspaces []string `json:"keyspaces"`
	KTList    []string `json:"kt_list"`
	// TTL is an optional duration ("1h", "2d").
	TTL string `json:"ttl"`
}

// ClearSnapshotRequest is the body of /v1/clearsnapshot.
type ClearSnapshotRequest struct {
	// Tag is the snapshot to clear, or All for every snapshot.
	Tag string `json:"tag"`
	All bool   `json:"all"`
	// Keyspaces limits the clearing (empty: all keyspaces).
	Keyspaces []string `json:"keyspaces"`
}

// ImportRequest is the body of /v1/import and /v1/refresh.
type ImportRequest struct {
	// Keyspace and Table name the target table.
	Keyspace string `json:"keyspace"`
	Table    string `json:"table"`
	// Dirs are the directories holding SSTables to import.
	Dirs []string `json:"dirs"`
}

// ImportResult lists directories that failed to import.
type ImportResult struct {
	// Failed lists the directories whose import failed.
	Failed []string `json:"failed"`
}

// RepairRequest is the body of /v1/repair.
type RepairRequest struct {
	// Keyspaces to repair (empty: all user keyspaces).
	Keyspaces []string `json:"keyspaces"`
	// Full requests a full (non-incremental) repair.
	Full bool `json:"full"`
}

// RepairResult describes what a repair did, for nodetool to print.
type RepairResult struct {
	// Keyspaces holds one outcome per repaired keyspace.
	Keyspaces []RepairKeyspace `json:"keyspaces"`
}

// RepairKeyspace is the repair outcome of one keyspace.
type RepairKeyspace struct {
	// Name and RF (replication factor) of the keyspace; RF 1 means nothing to do.
	Name string `json:"name"`
	RF   int    `json:"rf"`
	// Command is the repair command number, ID its session UUID, Ranges the range count.
	Command int64  `json:"command"`
	ID      string `json:"id"`
	Ranges  int    `json:"ranges"`
	// Failed is the failure cause (e.g. an endpoint not alive), empty on success.
	Failed string `json:"failed,omitempty"`
}

// DescribeClusterInfo is the control-API answer for nodetool describecluster.
type DescribeClusterInfo struct {
	// Name is the cluster name.
	Name string `json:"name"`
	// Schema maps schema versions to the live nodes reporting them.
	Schema map[string][]string `json:"schema"`
	// Unreachable lists the down nodes; Live counts the live ones.
	Unreachable []string `json:"unreachable"`
	Live        int      `json:"live"`
	// DCs maps a datacenter to [nodes, down].
	DCs map[string][2]int `json:"dcs"`
	// Versions maps release versions to "ip:7000" endpoints.
	Versions map[string][]string `json:"versions"`
	// Keyspaces are [name, "Class {options}"] pairs in print order.
	Keyspaces [][2]string `json:"keyspaces"`
}

// NetstatsInfo is the control-API answer for nodetool netstats.
type NetstatsInfo struct {
	// Receiving counts stream sessions in progress; Small completed small
	// messages; Gossip completed gossip messages. A real node's gossip task
	// runs once a second and gossips with one random live peer (SYN, ACK,
	// ACK2), and answers the peers that picked it: about three messages a
	// second whatever the ring's size, none without a peer; counted over
	// uptimeSeconds, as a node that answers JMX has gossiped already.
	Receiving int64 `json:"receiving"`
	Small     int64 `json:"small"`
	Gossip    int64 `json:"gossip"`
}

// SchemaOp replicates a DDL change to peers (the stand-in's schema gossip).
type SchemaOp struct {
	// Op is create_keyspace, alter_keyspace, drop_keyspace, create_table, drop_table or put_role.
	Op string `json:"op"`
	// Keyspace and Table carry definitions for create/alter ops.
	Keyspace *Keyspace `json:"keyspace,omitempty"`
	Table    *Table    `json:"table,omitempty"`
	// Name is the keyspace name; TableName the table for drop_table.
	Name      string `json:"name,omitempty"`
	TableName string `json:"table_name,omitempty"`
	// Role and RoleInfo describe put_role.
	Role     string    `json:"role,omitempty"`
	RoleInfo *roleInfo `json:"role_info,omitempty"`
}

func (n *Node) applySchemaOp(op SchemaOp) error {
	var err error
	switch op.Op {
	case "create_keyspace":
		_, err = n.store.CreateKeyspace(op.Keyspace, true)
	case "alter_keyspace":
		err = n.store.PutKeyspace(op.Keyspace)
	case "drop_keyspace":
		_, err = n.store.DropKeyspace(op.Name, true)
	case "create_table":
		_, err = n.store.CreateTable(op.Name, op.Table, true)
	case "drop_table":
		_, err = n.store.DropTable(op.Name, op.TableName, true)
	case "truncate":
		err = n.store.TruncateTable(op.Name, op.TableName)
	case "put_role":
		n.mu.Lock()
		n.roles[op.Role] = *op.RoleInfo
		err = n.saveRolesLocked()
		n.mu.Unlock()
	default:
		err = fmt.Errorf("unknown schema op %q", op.Op)
	}
	return err
}

func (n *Node) saveRolesLocked() error {
	b, _ := json.Marshal(n.roles)
	if err := os.WriteFile(n.rolesFile(), b, 0o600); err != nil {
		return fmt.Errorf("save roles: %w", err)
	}
	return nil
}

// propagate sends a schema op to every peer, ignoring unreachable ones.
func (n *Node) propagate(op SchemaOp) {
	var wg sync.WaitGroup
	for _, p := range n.cfg.Peers {
		wg.Add(1)
		go func(p string) {
			defer wg.Done()
			n.peerCall(p, "POST", "/v1/schema", op, nil) //nolint:errcheck // a down peer catches up never; like a real node missing schema
		}(p)
	}
	wg.Wait()
}

func (n *Node) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/info", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, n.selfInfo()) })
	mux.HandleFunc("GET /v1/ring", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, n.clusterView()) })
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, ce := n.status(r.URL.Query().Get("keyspace"))
		if ce != nil {
			writeErr(w, ce)
			return
		}
		writeJSON(w, st)
	})
	mux.HandleFunc("GET /v1/describecluster", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, n.describeCluster()) })
	mux.HandleFunc("GET /v1/snapshots", func(w http.ResponseWriter, r *http.Request) {
		l, err := n.store.ListSnapshots()
		if err != nil {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: err.Error()})
			return
		}
		writeJSON(w, l)
	})
	mux.HandleFunc("POST /v1/snapshot", n.handleSnapshot)
	mux.HandleFunc("POST /v1/clearsnapshot", func(w http.ResponseWriter, r *http.Request) {
		var req ClearSnapshotRequest
		if !decodeBody(w, r, &req) {
			return
		}
		if req.Tag == "" && !req.All {
			writeErr(w, &ControlError{Class: "java.lang.RuntimeException", Message: "Specify snapshot name or --all"})
			return
		}
		if err := n.store.ClearSnapshot(req.Tag, req.Keyspaces); err != nil {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: err.Error()})
			return
		}
		writeJSON(w, struct{}{})
	})
	mux.HandleFunc("POST /v1/flush", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Keyspace string `json:"keyspace"`
		}
		if !decodeBody(w, r, &req) {
			return
		}
		if req.Keyspace != "" && !isSystemKeyspace(req.Keyspace) {
			if _, err := n.store.Keyspace(req.Keyspace); err != nil {
				writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "Unknown keyspace/cf pair (" + req.Keyspace + ")"})
				return
			}
		}
		writeJSON(w, struct{}{}) // the stand-in has no memtables: data is always flushed
	})
	mux.HandleFunc("POST /v1/import", func(w http.ResponseWriter, r *http.Request) {
		var req ImportRequest
		if !decodeBody(w, r, &req) {
			return
		}
		if _, err := n.store.TableDir(req.Keyspace, req.Table); err != nil {
			writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "ColumnFamilyStore for " + req.Keyspace + "/" + req.Table + " not found.", Exit: 1, Plain: true})
			return
		}
		var res ImportResult
		for _, d := range req.Dirs {
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				writeErr(w, &ControlError{Class: "java.lang.RuntimeException", Message: "Directory " + d + " does not exist"})
				return
			}
		}
		for _, d := range req.Dirs {
			if _, err := n.store.ImportSSTables(req.Keyspace, req.Table, d); err != nil {
				// The server log nodetool's "check server logs" points to.
				fmt.Fprintf(os.Stderr, "ERROR [RMI TCP Connection(2)-127.0.0.1] %s SSTableImporter.java:102 - Failed importing sstables in directory %s\njava.lang.RuntimeException: %v\n",
					time.Now().Format("2006-01-02 15:04:05,000"), d, err)
				res.Failed = append(res.Failed, d)
			}
		}
		writeJSON(w, res)
	})
	mux.HandleFunc("POST /v1/refresh", func(w http.ResponseWriter, r *http.Request) {
		var req ImportRequest
		if !decodeBody(w, r, &req) {
			return
		}
		if _, err := n.store.TableDir(req.Keyspace, req.Table); err != nil {
			writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "ColumnFamilyStore for " + req.Keyspace + "/" + req.Table + " not found.", Exit: 1, Plain: true})
			return
		}
		writeJSON(w, struct{}{})
	})
	mux.HandleFunc("POST /v1/repair", n.handleRepair)
	mux.HandleFunc("POST /v1/repairpush", n.handleRepairPush)
	mux.HandleFunc("GET /v1/netstats", func(w http.ResponseWriter, r *http.Request) {
		var gossip int64
		if len(n.cfg.Peers) > 0 {
			gossip = 3 * uptimeSeconds(n.started)
		}
		writeJSON(w, NetstatsInfo{Receiving: n.streamsIn.Load(), Small: n.msgsSmall.Load(), Gossip: gossip})
	})
	mux.HandleFunc("POST /v1/schema", func(w http.ResponseWriter, r *http.Request) {
		var op SchemaOp
		if !decodeBody(w, r, &op) {
			return
		}
		if err := n.applySchemaOp(op); err != nil {
			writeErr(w, &ControlError{Class: "org.apache.cassandra.exceptions.ConfigurationException", Message: err.Error()})
			return
		}
		writeJSON(w, struct{}{})
	})
	mux.HandleFunc("POST /v1/stream", n.handleStream)
	mux.HandleFunc("POST /v1/rowhashes", n.handleRowHashes)
	return mux
}

func (n *Node) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	var req SnapshotRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := parseJavaDuration(req.TTL)
		if err != nil {
			writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "Invalid duration: " + req.TTL})
			return
		}
		ttl = d
	}
	var targets []SnapshotTarget
	for _, ks := range req.Keyspaces {
		if isSystemKeyspace(ks) {
			continue
		}
		if _, err := n.store.Keyspace(ks); err != nil {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: "Keyspace " + ks + " does not exist"})
			return
		}
		targets = append(targets, SnapshotTarget{Keyspace: ks})
	}
	for _, kt := range req.KTList {
		ks, t, ok := strings.Cut(kt, ".")
		if !ok {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: "Cannot snapshot " + kt + ": keyspace.table expected"})
			return
		}
		if _, err := n.store.TableDir(ks, t); err != nil {
			writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "Unknown keyspace/cf pair (" + ks + "." + t + ")"})
			return
		}
		targets = append(targets, SnapshotTarget{Keyspace: ks, Table: t})
	}
	if len(req.Keyspaces) > 0 && len(targets) == 0 && len(req.KTList) == 0 {
		writeJSON(w, struct{}{}) // only system keyspaces requested
		return
	}
	if err := n.store.Snapshot(req.Tag, targets, ttl); err != nil {
		if errors.Is(err, ErrExists) {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: "Snapshot " + req.Tag + " already exists."})
			return
		}
		writeErr(w, &ControlError{Class: "java.io.IOException", Message: err.Error()})
		return
	}
	writeJSON(w, struct{}{})
}

// parseJavaDuration accepts Cassandra DurationSpec-like values: 30s, 5m, 1h, 2d.
func parseJavaDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		v, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(v) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

func (n *Node) handleRepair(w http.ResponseWriter, r *http.Request) {
	var req RepairRequest
	if !decodeBody(w, r, &req) {
		return
	}
	names := req.Keyspaces
	if len(names) == 0 {
		kss, _ := n.store.Keyspaces()
		for _, k := range kss {
			names = append(names, k.Name)
		}
	}
	var res RepairResult
	for _, name := range names {
		k, err := n.store.Keyspace(name)
		if err != nil {
			writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "Keyspace [" + name + "] does not exist."})
			return
		}
		rk := RepairKeyspace{Name: name, RF: k.ReplicationFactor()}
		if rk.RF > 1 {
			rk.Command = n.repairCount.Add(1)
			rk.ID = deterministicUUID(fmt.Sprintf("repair/%s/%d/%d", n.cfg.ListenAddress, rk.Command, time.Now().UnixNano()))
			rk.Ranges = NumTokens * (1 + len(n.cfg.Peers))
			if rk.RF < rk.Ranges {
				rk.Ranges = NumTokens * rk.RF
			}
			view := n.clusterView()
			for _, v := range view {
				if !v.Up {
					rk.Failed = "Endpoint not alive: /" + v.Address + ":" + strconv.Itoa(storagePort)
				}
			}
			if rk.Failed == "" {
				rk.Failed = n.repairStreams(k, view)
			}
		}
		res.Keyspaces = append(res.Keyspaces, rk)
	}
	writeJSON(w, res)
}

// repairStreams makes the replicas of keyspace k agree, as a repair's
// streaming does: this node streams its rows to the other replicas of
// each, and every peer streams to this node the rows this node replicates
// (a replica counts a row it already had once). After a full repair on
// every node, every replica holds every row of its ranges, whatever the
// replication factor was when the rows were written. It returns the
// failure, or "".
func (n *Node) repairStreams(k *Keyspace, view []NodeInfo) string {
	self := n.cfg.ListenAddress
	var peers []string
	for _, v := range view {
		if v.Address != self {
			peers = append(peers, v.Address)
		}
	}
	if err := n.repairPush(k, view, peers); err != nil {
		return err.Error()
	}
	for _, p := range peers {
		if err := controlCall(toolClient, net.JoinHostPort(p, strconv.Itoa(n.cfg.ControlPort)), "POST", "/v1/repairpush",
			repairPushRequest{Keyspace: k.Name, Targets: []string{self}}, nil); err != nil {
			return fmt.Sprintf("Sync failed between /%s:%d and /%s:%d: %v", self, storagePort, p, storagePort, err)
		}
	}
	return ""
}

// repairPushRequest asks a node to stream its rows of a keyspace to those
// of targets that replicate them.
type repairPushRequest struct {
	Keyspace string   `json:"keyspace"`
	Targets  []string `json:"targets"`
}

// handleRepairPush serves POST /v1/repairpush, a repairing peer's request.
func (n *Node) handleRepairPush(w http.ResponseWriter, r *http.Request) {
	var req repairPushRequest
	if !decodeBody(w, r, &req) {
		return
	}
	k, err := n.store.Keyspace(req.Keyspace)
	if err != nil {
		writeErr(w, &ControlError{Class: "java.lang.IllegalArgumentException", Message: "Keyspace [" + req.Keyspace + "] does not exist."})
		return
	}
	if err := n.repairPush(k, n.clusterView(), req.Targets); err != nil {
		writeErr(w, &ControlError{Class: "org.apache.cassandra.streaming.StreamException", Message: err.Error()})
		return
	}
	writeJSON(w, struct{}{})
}

// repairPush streams the rows of this node's SSTables of every table of k
// to each of their replicas (under k's replication now, on the ring of
// view) that is among targets.
func (n *Node) repairPush(k *Keyspace, view []NodeInfo, targets []string) error {
	var addrs []string
	for _, v := range view {
		addrs = append(addrs, v.Address)
	}
	rg, rf := newRing(addrs), k.ReplicationFactor()
	for _, t := range k.Tables {
		dir, err := n.store.TableDir(k.Name, t.Name)
		if err != nil {
			return err
		}
		gens, err := generations(dir)
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp("", "repair-")
		if err != nil {
			return err
		}
		writers := map[string]*SSTableWriter{}
		for _, g := range gens {
			err = ReadDataFile(filepath.Join(dir, fmt.Sprintf("nb-%d-big-Data.db", g)), func(r Row) error {
				for _, rep := range rg.Replicas(RowToken(r.Key), rf) {
					if !slices.Contains(targets, rep) {
						continue
					}
					wr := writers[rep]
					if wr == nil {
						var err error
						if wr, err = newSSTableWriterGen(filepath.Join(tmp, rep), 1); err != nil {
							return err
						}
						writers[rep] = wr
					}
					wr.Append(r)
				}
				return nil
			})
			if err != nil {
				break
			}
		}
		for rep, wr := range writers {
			if cerr := wr.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err == nil {
				_, err = streamDir(filepath.Join(tmp, rep), []int{1}, net.JoinHostPort(rep, strconv.Itoa(n.cfg.ControlPort)), k.Name, t.Name)
			}
		}
		os.RemoveAll(tmp)
		if err != nil {
			return fmt.Errorf("repair %s.%s: %w", k.Name, t.Name, err)
		}
	}
	return nil
}

func (n *Node) describeCluster() DescribeClusterInfo {
	view := n.clusterView()
	d := DescribeClusterInfo{Name: n.cfg.ClusterName, Schema: map[string][]string{}, DCs: map[string][2]int{}, Versions: map[string][]string{}}
	for _, v := range view {
		c := d.DCs[v.DC]
		c[0]++
		// Database versions lists live and unreachable members, each with
		// the release gossip last knew (Gossiper.getReleaseVersionsWithPort).
		d.Versions[v.ReleaseVersion] = append(d.Versions[v.ReleaseVersion], v.Address+":"+strconv.Itoa(storagePort))
		if v.Up {
			d.Live++
			d.Schema[v.SchemaVersion] = append(d.Schema[v.SchemaVersion], v.Address)
		} else {
			c[1]++
			d.Unreachable = append(d.Unreachable, v.Address)
		}
		d.DCs[v.DC] = c
	}
	kss, _ := n.store.Keyspaces()
	sys := systemKeyspaces()
	for _, k := range sys[:3] {
		d.Keyspaces = append(d.Keyspaces, [2]string{k.Name, shortClass(k.Replication["class"]) + " " + javaMapString(k.Replication)})
	}
	for _, k := range kss {
		d.Keyspaces = append(d.Keyspaces, [2]string{k.Name, shortClass(k.Replication["class"]) + " " + javaMapString(k.Replication)})
	}
	for _, k := range sys[3:] {
		d.Keyspaces = append(d.Keyspaces, [2]string{k.Name, shortClass(k.Replication["class"]) + " " + javaMapString(k.Replication)})
	}
	return d
}

// handleStream receives one SSTable as a tar of its component files
// (sstableloader's stream session) and adds it under a new generation.
func (n *Node) handleStream(w http.ResponseWriter, r *http.Request) {
	ks, table := r.URL.Query().Get("keyspace"), r.URL.Query().Get("table")
	live, err := n.store.TableDir(ks, table)
	if err != nil {
		writeErr(w, &ControlError{Class: "org.apache.cassandra.streaming.StreamException", Message: "Unknown keyspace/table " + ks + "." + table})
		return
	}
	n.streamsIn.Add(1)
	defer n.streamsIn.Add(-1)
	staging, err := os.MkdirTemp(filepath.Dir(live), ".stream-")
	if err != nil {
		writeErr(w, &ControlError{Class: "java.io.IOException", Message: err.Error()})
		return
	}
	defer os.RemoveAll(staging)
	tr := tar.NewReader(r.Body)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: "stream truncated: " + err.Error()})
			return
		}
		name := filepath.Base(h.Name)
		if !sstableNameRE.MatchString(name) {
			continue
		}
		f, err := os.Create(filepath.Join(staging, name))
		if err != nil {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: err.Error()})
			return
		}
		_, cerr := io.Copy(f, tr)
		if err := errors.Join(cerr, f.Close()); err != nil {
			writeErr(w, &ControlError{Class: "java.io.IOException", Message: "stream truncated: " + err.Error()})
			return
		}
	}
	if _, err := n.store.ImportSSTables(ks, table, staging); err != nil {
		writeErr(w, &ControlError{Class: "java.io.IOException", Message: err.Error()})
		return
	}
	n.msgsSmall.Add(1)
	writeJSON(w, struct{}{})
}

// uptimeSeconds is the node's uptime as nodetool info prints it. A real
// node's JVM has run for seconds before JMX answers, so it is never 0:
// the stand-in, which answers at once, counts a started second as one.
func uptimeSeconds(started time.Time) int64 {
	return int64(math.Ceil(time.Since(started).Seconds()))
}
