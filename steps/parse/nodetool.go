package parse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RingStatus is a parsed `nodetool status`.
type RingStatus struct {
	// Datacenters in the order nodetool printed them.
	Datacenters []Datacenter
	// Notes holds the text of each "Note: ..." line, e.g. "Non-system
	// keyspaces don't have the same replication settings, effective
	// ownership information is meaningless".
	Notes []string
	// EffectiveOwnership is true when the header said "Owns (effective)"
	// (a keyspace was given or all keyspaces share replication settings).
	EffectiveOwnership bool
}

// Datacenter is one "Datacenter: NAME" block of `nodetool status`.
type Datacenter struct {
	// Name is the data center name.
	Name string
	// Nodes are the node rows of this block (none when filtered by grep).
	Nodes []RingNode
}

// RingNode is one node row of `nodetool status`.
type RingNode struct {
	// Datacenter is the name of the block the row appeared in.
	Datacenter string
	// Status is 'U' (up), 'D' (down) or '?' (unknown).
	Status byte
	// State is 'N' (normal), 'L' (leaving), 'J' (joining) or 'M' (moving).
	State byte
	// Address is the node address as printed; docs show placeholders or
	// redacted addresses, so it is not validated as an IP.
	Address string
	// LoadBytes is the on-disk load in bytes, -1 when nodetool printed "?".
	LoadBytes int64
	// Load is the load exactly as printed ("96.71 KiB", "?").
	Load string
	// Tokens is the number of tokens (vnodes layout); 0 in the single-token layout.
	Tokens int
	// Token is the node's token in the single-token layout ("Token" column).
	Token string
	// Owns is the ownership percentage; OwnsKnown is false when nodetool printed "?".
	Owns      float64
	OwnsKnown bool
	// HostID is the node's host ID (a UUID).
	HostID string
	// Rack is the node's rack.
	Rack string
}

// Up reports whether the node is up and in the normal state ("UN").
func (n RingNode) Up() bool { return n.Status == 'U' && n.State == 'N' }

// Nodes returns all node rows of every data center, in printed order.
func (r *RingStatus) Nodes() []RingNode {
	var out []RingNode
	for _, dc := range r.Datacenters {
		out = append(out, dc.Nodes...)
	}
	return out
}

var headerSplitRE = regexp.MustCompile(`\s{2,}`)

// ParseNodetoolStatus parses `nodetool status [keyspace]` in both the 4.x
// TableBuilder layout (shared column widths, trailing spaces, blank line
// between data centers) and the 3.11 printf layout, including output
// filtered by grep. "Error: The keyspace X, does not exist" yields a
// *KeyspaceNotFoundError; a JMX failure a *JMXDownError.
func ParseNodetoolStatus(text string) (*RingStatus, error) {
	const what = "nodetool status"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	rs := &RingStatus{}
	var dc *Datacenter
	var cols []string // header columns after "--", e.g. Address, Load, Tokens, ...
	headerSeen := false
	for i, l := range lines(text) {
		n := i + 1
		switch {
		case l == "" || l == "Status=Up/Down" || strings.HasPrefix(l, "|/ State="):
			continue
		case strings.Trim(l, "=") == "" && dc != nil:
			continue // underline
		case strings.HasPrefix(l, "Datacenter: "):
			if dc != nil && !headerSeen {
				return nil, fmt.Errorf("%s: data center %q has no column header: %w", what, clip(dc.Name), ErrTruncated)
			}
			rs.Datacenters = append(rs.Datacenters, Datacenter{Name: strings.TrimSpace(strings.TrimPrefix(l, "Datacenter: "))})
			dc = &rs.Datacenters[len(rs.Datacenters)-1]
			headerSeen = false
		case strings.HasPrefix(l, "Note: "):
			rs.Notes = append(rs.Notes, strings.TrimPrefix(l, "Note: "))
		case strings.HasPrefix(l, "--"):
			if dc == nil {
				return nil, unexpected(what, n, l)
			}
			cols = headerSplitRE.Split(strings.TrimSpace(l), -1)[1:]
			if len(cols) < 5 || cols[0] != "Address" || cols[1] != "Load" {
				return nil, fmt.Errorf("%s: line %d: unknown column header: %q", what, n, clip(l))
			}
			rs.EffectiveOwnership = strings.Contains(l, "Owns (effective)")
			headerSeen = true
		default:
			if dc == nil || !headerSeen {
				return nil, unexpected(what, n, l)
			}
			node, err := parseRingRow(l, cols)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %w: %q", what, n, err, clip(l))
			}
			node.Datacenter = dc.Name
			dc.Nodes = append(dc.Nodes, node)
		}
	}
	if dc == nil {
		return nil, fmt.Errorf("%s: no \"Datacenter:\" line: %w", what, ErrUnexpectedLine)
	}
	if !headerSeen {
		return nil, fmt.Errorf("%s: data center %q has no column header: %w", what, clip(dc.Name), ErrTruncated)
	}
	if len(rs.Nodes()) == 0 {
		return nil, fmt.Errorf("%s: no node rows: %w", what, ErrTruncated)
	}
	return rs, nil
}

// parseRingRow parses one node row given the header columns.
func parseRingRow(l string, cols []string) (RingNode, error) {
	f := strings.Fields(l)
	if len(f) < 3 || len(f[0]) != 2 {
		return RingNode{}, fmt.Errorf("not a node row")
	}
	node := RingNode{Status: f[0][0], State: f[0][1], Address: f[1], LoadBytes: -1}
	if !strings.ContainsRune("UD?", rune(node.Status)) || !strings.ContainsRune("NLJM", rune(node.State)) {
		return RingNode{}, fmt.Errorf("unknown status/state %q", clip(f[0]))
	}
	rest := f[2:]
	if rest[0] == "?" {
		node.Load = "?"
		rest = rest[1:]
	} else {
		if len(rest) < 2 {
			return RingNode{}, fmt.Errorf("row too short")
		}
		node.Load = rest[0] + " " + rest[1]
		b, err := ParseSize(node.Load)
		if err != nil {
			return RingNode{}, err
		}
		node.LoadBytes = b
		rest = rest[2:]
	}
	cols = cols[2:] // after Address, Load
	if len(rest) != len(cols) {
		return RingNode{}, fmt.Errorf("%d cells after Load, header has %d", len(rest), len(cols))
	}
	for i, c := range cols {
		v := rest[i]
		switch {
		case c == "Tokens":
			t, err := strconv.Atoi(v)
			if err != nil {
				return RingNode{}, fmt.Errorf("token count %q is not a number", clip(v))
			}
			node.Tokens = t
		case c == "Token":
			node.Token = v
		case strings.HasPrefix(c, "Owns"):
			if v != "?" {
				p, err := parsePercent(v)
				if err != nil {
					return RingNode{}, err
				}
				node.Owns, node.OwnsKnown = p, true
			}
		case c == "Host ID":
			if !isUUID(v) {
				return RingNode{}, fmt.Errorf("host ID %q is not a UUID", clip(v))
			}
			node.HostID = v
		case c == "Rack":
			node.Rack = v
		default:
			return RingNode{}, fmt.Errorf("unknown column %q", clip(c))
		}
	}
	return node, nil
}

// CassandraVersion is the release version printed by `nodetool version`.
type CassandraVersion struct {
	// Release is the version as printed, e.g. "4.0.13" or "4.1.6-SNAPSHOT".
	Release string
	// Major, Minor and Patch are its numeric parts.
	Major, Minor, Patch int
}

var releaseRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(?:[-.~+].*)?$`)

// ParseNodetoolVersion parses `nodetool version` ("ReleaseVersion: 4.0.13").
func ParseNodetoolVersion(text string) (*CassandraVersion, error) {
	const what = "nodetool version"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for i, l := range lines(text) {
		if l == "" {
			continue
		}
		v, ok := strings.CutPrefix(strings.TrimSpace(l), "ReleaseVersion:")
		if !ok {
			return nil, unexpected(what, i+1, l)
		}
		v = strings.TrimSpace(v)
		m := releaseRE.FindStringSubmatch(v)
		if m == nil {
			return nil, fmt.Errorf("%s: line %d: version %q is not MAJOR.MINOR[.PATCH]: %q", what, i+1, clip(v), clip(l))
		}
		cv := &CassandraVersion{Release: v}
		cv.Major, _ = strconv.Atoi(m[1])
		cv.Minor, _ = strconv.Atoi(m[2])
		if m[3] != "" {
			cv.Patch, _ = strconv.Atoi(m[3])
		}
		return cv, nil
	}
	return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
}

// NodeInfo is a parsed `nodetool info`.
type NodeInfo struct {
	// ID is the node's host ID.
	ID string
	// GossipActive and NativeTransportActive are the "... active" flags.
	GossipActive, NativeTransportActive bool
	// LoadBytes is the load in bytes; Load the text as printed.
	LoadBytes int64
	Load      string
	// UptimeSeconds is "Uptime (seconds)".
	UptimeSeconds int64
	// DataCenter and Rack of the node.
	DataCenter, Rack string
	// Joined is false when the Token line says the node is not joined.
	Joined bool
	// Fields holds every "Label : value" pair as printed, labels trimmed.
	Fields map[string]string
}

// ParseNodetoolInfo parses `nodetool info` (4.x, and 3.x with its
// "Thrift active" line). ID, Gossip active, Load, Data Center and Rack are
// required; a reply missing one of them is reported as truncated.
func ParseNodetoolInfo(text string) (*NodeInfo, error) {
	const what = "nodetool info"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ni := &NodeInfo{Fields: map[string]string{}, Joined: true}
	for i, l := range lines(text) {
		if l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, unexpected(what, i+1, l)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		ni.Fields[k] = v
		var err error
		switch k {
		case "ID":
			if !isUUID(v) {
				err = fmt.Errorf("ID %q is not a UUID", clip(v))
			}
			ni.ID = v
		case "Gossip active":
			ni.GossipActive, err = strconv.ParseBool(v)
		case "Native Transport active":
			ni.NativeTransportActive, err = strconv.ParseBool(v)
		case "Load":
			ni.Load = v
			ni.LoadBytes, err = ParseSize(v)
		case "Uptime (seconds)":
			ni.UptimeSeconds, err = strconv.ParseInt(v, 10, 64)
		case "Data Center":
			ni.DataCenter = v
		case "Rack":
			ni.Rack = v
		case "Token":
			if strings.Contains(v, "not joined") {
				ni.Joined = false
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w: %q", what, i+1, numErr(err), clip(l))
		}
	}
	for _, k := range []string{"ID", "Gossip active", "Load", "Data Center", "Rack"} {
		if _, ok := ni.Fields[k]; !ok {
			return nil, fmt.Errorf("%s: no %q line: %w", what, clip(k), ErrTruncated)
		}
	}
	return ni, nil
}

// ClusterDescription is a parsed `nodetool describecluster`.
type ClusterDescription struct {
	// Name, Snitch and Partitioner of the cluster.
	Name, Snitch, Partitioner string
	// SchemaVersions lists each schema version with the hosts reporting it.
	SchemaVersions []SchemaVersion
	// Unreachable lists the hosts of the "UNREACHABLE: [...]" pseudo version.
	Unreachable []string
	// Stats holds the "Stats for all nodes" counters (Live, Joining,
	// Moving, Leaving, Unreachable); empty on 3.x.
	Stats map[string]int
	// Datacenters holds the "Data Centers" lines; empty on 3.x.
	Datacenters []DatacenterSummary
	// DatabaseVersions maps each Cassandra version to its hosts (HOST:PORT),
	// live and unreachable; "" holds the hosts whose version gossip does
	// not know.
	DatabaseVersions map[string][]string
	// Keyspaces maps keyspace name to its replication text, e.g.
	// "SimpleStrategy {replication_factor=3}".
	Keyspaces map[string]string
}

// SchemaVersion is one schema version and the hosts that report it.
type SchemaVersion struct {
	// Version is the schema version UUID.
	Version string
	// Hosts are the addresses that report it.
	Hosts []string
}

// DatacenterSummary is a "DC #Nodes: N #Down: D" line of describecluster.
type DatacenterSummary struct {
	// Name of the data center; Nodes and Down its node counts.
	Name        string
	Nodes, Down int
}

// SchemaAgreed reports whether all reachable nodes share one schema version
// and no node is unreachable.
func (c *ClusterDescription) SchemaAgreed() bool {
	return len(c.SchemaVersions) == 1 && len(c.Unreachable) == 0
}

var (
	hostListRE = regexp.MustCompile(`^(\S+): \[(.*)\]$`)
	// dbVersionRE is a Database versions line: a node whose release gossip
	// does not know is listed under "" (Gossiper.getReleaseVersionsWithPort:
	// version == null ? "" : version.toString()).
	dbVersionRE  = regexp.MustCompile(`^(\S*): \[(.*)\]$`)
	dcSummaryRE  = regexp.MustCompile(`^(.+) #Nodes: (\d+) #Down: (\d+)$`)
	keyspaceRepl = regexp.MustCompile(`^(\S+) -> Replication class: (.*)$`)
)

// ParseDescribeCluster parses `nodetool describecluster` (4.x with all its
// sections, and the 3.x first block), including the "UNREACHABLE: [...]"
// pseudo schema version.
func ParseDescribeCluster(text string) (*ClusterDescription, error) {
	const what = "nodetool describecluster"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	cd := &ClusterDescription{Stats: map[string]int{}, DatabaseVersions: map[string][]string{}, Keyspaces: map[string]string{}}
	section := ""
	for i, raw := range lines(text) {
		n := i + 1
		l := strings.TrimSpace(raw)
		if l == "" {
			continue
		}
		switch l {
		case "Cluster Information:", "Stats for all nodes:", "Data Centers:", "Database versions:", "Keyspaces:":
			section = l
			continue
		case "Schema versions:":
			if section != "Cluster Information:" {
				return nil, unexpected(what, n, raw)
			}
			section = l
			continue
		}
		switch section {
		case "Cluster Information:":
			k, v, ok := strings.Cut(l, ": ")
			if !ok {
				return nil, unexpected(what, n, raw)
			}
			switch k {
			case "Name":
				cd.Name = v
			case "Snitch":
				cd.Snitch = v
			case "Partitioner":
				cd.Partitioner = v
			}
		case "Schema versions:":
			m := hostListRE.FindStringSubmatch(l)
			if m == nil {
				return nil, unexpected(what, n, raw)
			}
			if m[1] == "UNREACHABLE" {
				cd.Unreachable = append(cd.Unreachable, splitList(m[2])...)
			} else if isUUID(m[1]) {
				cd.SchemaVersions = append(cd.SchemaVersions, SchemaVersion{Version: m[1], Hosts: splitList(m[2])})
			} else {
				return nil, fmt.Errorf("%s: line %d: schema version %q is not a UUID: %q", what, n, clip(m[1]), clip(raw))
			}
		case "Stats for all nodes:":
			k, v, ok := strings.Cut(l, ": ")
			c, err := strconv.Atoi(v)
			if !ok || err != nil {
				return nil, unexpected(what, n, raw)
			}
			cd.Stats[k] = c
		case "Data Centers:":
			m := dcSummaryRE.FindStringSubmatch(l)
			if m == nil {
				return nil, unexpected(what, n, raw)
			}
			nodes, _ := strconv.Atoi(m[2])
			down, _ := strconv.Atoi(m[3])
			cd.Datacenters = append(cd.Datacenters, DatacenterSummary{Name: m[1], Nodes: nodes, Down: down})
		case "Database versions:":
			m := dbVersionRE.FindStringSubmatch(l)
			if m == nil {
				return nil, unexpected(what, n, raw)
			}
			cd.DatabaseVersions[m[1]] = splitList(m[2])
		case "Keyspaces:":
			m := keyspaceRepl.FindStringSubmatch(l)
			if m == nil {
				return nil, unexpected(what, n, raw)
			}
			cd.Keyspaces[m[1]] = m[2]
		default:
			return nil, unexpected(what, n, raw)
		}
	}
	if cd.Name == "" {
		return nil, fmt.Errorf("%s: no cluster Name line: %w", what, ErrTruncated)
	}
	if len(cd.SchemaVersions) == 0 && len(cd.Unreachable) == 0 {
		return nil, fmt.Errorf("%s: no schema versions: %w", what, ErrTruncated)
	}
	return cd, nil
}

// Netstats is a parsed `nodetool netstats`.
type Netstats struct {
	// Mode is the node's operation mode: NORMAL, JOINING, LEAVING,
	// DECOMMISSIONED, MOVING, DRAINING, DRAINED or STARTING.
	Mode string
	// Streams lists the active stream sessions; empty when nodetool said
	// "Not sending any streams.".
	Streams []StreamSession
	// Pools lists the message pool rows (Large/Small/Gossip messages).
	Pools []MessagePool
}

// StreamSession is one stream plan of netstats ("Bootstrap <planID>") and
// one peer's progress in it.
type StreamSession struct {
	// Operation is the stream operation, e.g. "Bootstrap", "Rebuild", "Repair".
	Operation string
	// PlanID is the stream plan UUID.
	PlanID string
	// Peer is the peer address as printed ("/10.0.0.3").
	Peer string
	// Receiving and Sending are the per-direction summaries, nil when absent.
	Receiving, Sending *StreamProgress
}

// StreamProgress is a "Receiving/Sending N files, B bytes total. Already
// received/sent n files (p%), b bytes total (p%)" summary.
type StreamProgress struct {
	// Files and Bytes are the totals; DoneFiles and DoneBytes the progress so far.
	Files, DoneFiles int64
	Bytes, DoneBytes int64
}

// MessagePool is one row of the netstats pool table.
type MessagePool struct {
	// Name is the pool name, e.g. "Small messages".
	Name string
	// Active is printed as "n/a" in 4.x, so it is kept as text.
	Active string
	// Pending, Completed and Dropped message counts.
	Pending, Completed, Dropped int64
}

// Idle reports whether no stream is running and no message is pending.
func (n *Netstats) Idle() bool {
	for _, p := range n.Pools {
		if p.Pending > 0 {
			return false
		}
	}
	return len(n.Streams) == 0
}

var (
	streamHeaderRE = regexp.MustCompile(`^(\S.*) ([0-9a-fA-F-]{36})$`)
	streamSumRE    = regexp.MustCompile(`^(Receiving|Sending) (\d+) files, (\d+) bytes total\. Already (?:received|sent) (\d+) files \([0-9.,]+%\), (\d+) bytes total \([0-9.,]+%\)$`)
	poolRowRE      = regexp.MustCompile(`^(.*\S)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)$`)
)

// ParseNetstats parses `nodetool netstats`: the mode, stream sessions with
// their receive/send summaries (per-file lines are skipped), and the
// message pool table.
func ParseNetstats(text string) (*Netstats, error) {
	const what = "nodetool netstats"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ns := &Netstats{}
	section := "streams"
	sawStreamsLine := false
	for i, raw := range lines(text) {
		n := i + 1
		l := strings.TrimSpace(raw)
		if l == "" {
			continue
		}
		indented := raw != strings.TrimLeft(raw, " \t")
		switch {
		case strings.HasPrefix(l, "Mode: ") && ns.Mode == "":
			ns.Mode = strings.TrimPrefix(l, "Mode: ")
			continue
		case l == "Not sending any streams.":
			sawStreamsLine = true
			continue
		case l == "Read Repair Statistics:":
			section = "readrepair"
			continue
		case strings.HasPrefix(l, "Pool Name") && strings.Contains(l, "Pending"):
			section = "pools"
			continue
		}
		if ns.Mode == "" {
			return nil, unexpected(what, n, raw)
		}
		switch section {
		case "streams":
			if m := streamHeaderRE.FindStringSubmatch(l); m != nil && !indented {
				ns.Streams = append(ns.Streams, StreamSession{Operation: m[1], PlanID: m[2]})
				sawStreamsLine = true
				continue
			}
			if len(ns.Streams) == 0 || !indented {
				return nil, unexpected(what, n, raw)
			}
			s := &ns.Streams[len(ns.Streams)-1]
			if m := streamSumRE.FindStringSubmatch(l); m != nil {
				p := &StreamProgress{}
				p.Files, _ = strconv.ParseInt(m[2], 10, 64)
				p.Bytes, _ = strconv.ParseInt(m[3], 10, 64)
				p.DoneFiles, _ = strconv.ParseInt(m[4], 10, 64)
				p.DoneBytes, _ = strconv.ParseInt(m[5], 10, 64)
				if m[1] == "Receiving" {
					s.Receiving = p
				} else {
					s.Sending = p
				}
			} else if strings.HasPrefix(l, "/") && s.Peer == "" && !strings.Contains(l, " ") {
				s.Peer = l
			}
			// Other indented lines are per-file progress lines.
		case "readrepair":
			if _, v, ok := strings.Cut(l, ": "); !ok || strings.Trim(v, "0123456789") != "" {
				return nil, unexpected(what, n, raw)
			}
		case "pools":
			m := poolRowRE.FindStringSubmatch(l)
			if m == nil {
				return nil, unexpected(what, n, raw)
			}
			p := MessagePool{Name: m[1], Active: m[2]}
			p.Pending, _ = strconv.ParseInt(m[3], 10, 64)
			p.Completed, _ = strconv.ParseInt(m[4], 10, 64)
			p.Dropped, _ = strconv.ParseInt(m[5], 10, 64)
			ns.Pools = append(ns.Pools, p)
		}
	}
	if ns.Mode == "" {
		return nil, fmt.Errorf("%s: no \"Mode:\" line: %w", what, ErrUnexpectedLine)
	}
	if !sawStreamsLine {
		return nil, fmt.Errorf("%s: neither streams nor \"Not sending any streams.\": %w", what, ErrTruncated)
	}
	return ns, nil
}
