package cassandra

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// StatusRow is one node line of `nodetool status` (3.11 and 4.x layouts).
type StatusRow struct {
	// Datacenter is the DC block the row appeared in.
	Datacenter string
	// Status is U, D or ? and State is N, L, J or M.
	Status, State string
	// Address is the node address as printed (may be a placeholder).
	Address string
	// Load is the size text ("96.71 KiB") or "?".
	Load string
	// Tokens is the vnode count (0 for the single-token layout, see Token).
	Tokens int
	// Token is the token of single-token clusters ("Token" layout).
	Token string
	// Owns is the ownership text ("100.0%" or "?"); OwnsEffective tells which header was used.
	Owns          string
	OwnsEffective bool
	// HostID and Rack as printed.
	HostID, Rack string
}

// StatusReport is a parsed `nodetool status`.
type StatusReport struct {
	Rows []StatusRow
	// Note is the trailing "Note: ..." text, if any.
	Note string
}

var uuidLikeRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseStatus parses `nodetool status` output. It accepts the 4.x
// TableBuilder layout, the 3.11 printf layout and grep-filtered output, and
// returns an error for the "Error: ..." form or text without any header.
func ParseStatus(text string) (*StatusReport, error) {
	rep := &StatusReport{}
	dc := ""
	headers := 0
	singleToken := false
	effective := false
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimRight(line, " \r")
		switch {
		case t == "" || strings.HasPrefix(t, "====") || t == "Status=Up/Down" || strings.HasPrefix(t, "|/ State="):
			continue
		case strings.HasPrefix(t, "Error: "):
			return nil, fmt.Errorf("nodetool status: %s", strings.TrimPrefix(t, "Error: "))
		case strings.HasPrefix(t, "Datacenter: "):
			dc = strings.TrimPrefix(t, "Datacenter: ")
		case strings.HasPrefix(t, "Note: "):
			rep.Note = strings.TrimPrefix(t, "Note: ")
		case strings.HasPrefix(t, "--"):
			headers++
			f := strings.Fields(t)
			singleToken = !strings.Contains(t, "Tokens") && strings.Contains(t, "Token")
			effective = strings.Contains(t, "Owns (effective)")
			if len(f) < 6 || f[1] != "Address" {
				return nil, fmt.Errorf("nodetool status: line %d: unexpected header %q", i+1, t)
			}
		default:
			if headers == 0 {
				return nil, fmt.Errorf("nodetool status: line %d: row before header: %q", i+1, t)
			}
			r, err := parseStatusRow(t, singleToken)
			if err != nil {
				return nil, fmt.Errorf("nodetool status: line %d: %w", i+1, err)
			}
			r.Datacenter = dc
			r.OwnsEffective = effective
			rep.Rows = append(rep.Rows, r)
		}
	}
	if headers == 0 {
		return nil, fmt.Errorf("nodetool status: no table header found")
	}
	return rep, nil
}

func parseStatusRow(line string, singleToken bool) (StatusRow, error) {
	f := strings.Fields(line)
	var r StatusRow
	if len(f) < 6 || len(f[0]) != 2 {
		return r, fmt.Errorf("malformed row %q", line)
	}
	r.Status, r.State = f[0][:1], f[0][1:]
	if !strings.Contains("UD?", r.Status) || !strings.Contains("NLJM?", r.State) {
		return r, fmt.Errorf("bad status %q in %q", f[0], line)
	}
	r.Address = f[1]
	i := 2
	if f[i] == "?" {
		r.Load = "?"
		i++
	} else if i+1 < len(f) {
		r.Load = f[i] + " " + f[i+1]
		i += 2
	}
	next := func() string {
		if i >= len(f) {
			return ""
		}
		i++
		return f[i-1]
	}
	if singleToken {
		r.Owns = next()
		r.HostID = next()
		r.Token = next()
	} else {
		tok := next()
		n, err := strconv.Atoi(tok)
		if err != nil {
			return r, fmt.Errorf("bad token count %q in %q", tok, line)
		}
		r.Tokens = n
		r.Owns = next()
		r.HostID = next()
	}
	if r.Owns != "?" && !strings.HasSuffix(r.Owns, "%") {
		return r, fmt.Errorf("bad ownership %q in %q", r.Owns, line)
	}
	if !uuidLikeRE.MatchString(r.HostID) {
		return r, fmt.Errorf("bad host id %q in %q", r.HostID, line)
	}
	r.Rack = strings.Join(f[i:], " ")
	return r, nil
}

// SnapshotRow is one line of `nodetool listsnapshots`.
type SnapshotRow struct {
	Name, Keyspace, Table string
	TrueSize, SizeOnDisk  string
	// CreationTime and ExpirationTime are only present in 4.1 output.
	CreationTime, ExpirationTime string
}

// SnapshotList is a parsed `nodetool listsnapshots`.
type SnapshotList struct {
	Rows []SnapshotRow
	// TotalTrueDiskSpaceUsed is the size text of the "Total TrueDiskSpaceUsed" line.
	TotalTrueDiskSpaceUsed string
	// Columns is 5 (4.0) or 7 (4.1); 0 when there are no snapshots.
	Columns int
}

var listSnapshotHeaders = []string{"Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk", "Creation time", "Expiration time"}

// ParseListSnapshots parses `nodetool listsnapshots` (4.0 five-column and 4.1
// seven-column layouts, with or without trailing spaces).
func ParseListSnapshots(text string) (*SnapshotList, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "Snapshot Details:" {
		return nil, fmt.Errorf("listsnapshots: missing \"Snapshot Details:\" line")
	}
	out := &SnapshotList{}
	var offs []int
	for i, l := range lines[1:] {
		t := strings.TrimRight(l, " ")
		switch {
		case t == "":
			continue
		case t == "There are no snapshots":
			return out, nil
		case strings.HasPrefix(t, "Total TrueDiskSpaceUsed: "):
			out.TotalTrueDiskSpaceUsed = strings.TrimPrefix(t, "Total TrueDiskSpaceUsed: ")
		case strings.HasPrefix(t, "Snapshot name "):
			offs = nil
			for _, h := range listSnapshotHeaders {
				k := strings.Index(l, h)
				if k < 0 {
					break
				}
				offs = append(offs, k)
			}
			if len(offs) != 5 && len(offs) != 7 {
				return nil, fmt.Errorf("listsnapshots: line %d: unexpected header %q", i+2, t)
			}
			out.Columns = len(offs)
		default:
			if offs == nil {
				return nil, fmt.Errorf("listsnapshots: line %d: row before header", i+2)
			}
			cell := func(c int) string {
				if offs[c] >= len(l) {
					return ""
				}
				end := len(l)
				if c+1 < len(offs) && offs[c+1] < end {
					end = offs[c+1]
				}
				return strings.TrimSpace(l[offs[c]:end])
			}
			r := SnapshotRow{Name: cell(0), Keyspace: cell(1), Table: cell(2), TrueSize: cell(3), SizeOnDisk: cell(4)}
			if len(offs) == 7 {
				r.CreationTime, r.ExpirationTime = cell(5), cell(6)
			}
			if r.Name == "" || r.Keyspace == "" || r.Table == "" || r.SizeOnDisk == "" {
				return nil, fmt.Errorf("listsnapshots: line %d: malformed row %q", i+2, t)
			}
			out.Rows = append(out.Rows, r)
		}
	}
	if offs == nil {
		return nil, fmt.Errorf("listsnapshots: no table header and no \"There are no snapshots\"")
	}
	return out, nil
}

// ClusterDescription is a parsed `nodetool describecluster`.
type ClusterDescription struct {
	Name, Snitch, Partitioner string
	// SchemaVersions maps a schema UUID to its node addresses.
	SchemaVersions map[string][]string
	// Unreachable lists the UNREACHABLE schema entry (nodes that are down).
	Unreachable []string
	// Live and UnreachableCount come from "Stats for all nodes" (4.x only, -1 when absent).
	Live, UnreachableCount int
	// DataCenters maps a DC to [nodes, down] (4.x only).
	DataCenters map[string][2]int
	// Keyspaces maps a keyspace to its "Replication class" text (4.x only).
	Keyspaces map[string]string
}

var dcLineRE = regexp.MustCompile(`^(\S+) #Nodes: (\d+) #Down: (\d+)$`)

// ParseDescribeCluster parses `nodetool describecluster` (3.11 and 4.x, tabs or spaces).
func ParseDescribeCluster(text string) (*ClusterDescription, error) {
	d := &ClusterDescription{SchemaVersions: map[string][]string{}, DataCenters: map[string][2]int{}, Keyspaces: map[string]string{}, Live: -1, UnreachableCount: -1}
	section := ""
	seenHeader := false
	list := func(s string) []string {
		s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
		var out []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		switch line {
		case "Cluster Information:":
			seenHeader = true
			section = "cluster"
			continue
		case "Stats for all nodes:":
			section = "stats"
			continue
		case "Data Centers:":
			section = "dcs"
			continue
		case "Database versions:":
			section = "versions"
			continue
		case "Keyspaces:":
			section = "keyspaces"
			continue
		}
		k, v, _ := strings.Cut(line, ": ")
		k = strings.TrimSuffix(k, ":")
		switch section {
		case "cluster":
			switch k {
			case "Name":
				d.Name = v
			case "Snitch":
				d.Snitch = v
			case "Partitioner":
				d.Partitioner = v
			case "DynamicEndPointSnitch", "Schema versions":
			case "UNREACHABLE":
				d.Unreachable = list(v)
			default:
				if uuidLikeRE.MatchString(k) {
					d.SchemaVersions[k] = list(v)
				}
			}
		case "stats":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("describecluster: bad stats line %q", line)
			}
			switch k {
			case "Live":
				d.Live = n
			case "Unreachable":
				d.UnreachableCount = n
			}
		case "dcs":
			m := dcLineRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("describecluster: bad data center line %q", line)
			}
			a, _ := strconv.Atoi(m[2])
			b, _ := strconv.Atoi(m[3])
			d.DataCenters[m[1]] = [2]int{a, b}
		case "keyspaces":
			name, repl, ok := strings.Cut(line, " -> Replication class: ")
			if !ok {
				return nil, fmt.Errorf("describecluster: bad keyspace line %q", line)
			}
			d.Keyspaces[name] = repl
		}
	}
	if !seenHeader || d.Name == "" {
		return nil, fmt.Errorf("describecluster: missing \"Cluster Information:\" block")
	}
	return d, nil
}

// SnapshotResult is the parsed stdout of `nodetool snapshot`.
type SnapshotResult struct {
	// Targets is the bracketed target text: "thehive", "all keyspaces", "ks.t,ks.t".
	Targets string
	// Tag is the snapshot name; Options the Java map text ("{skipFlush=false}").
	Tag, Options string
	// Directory is the "Snapshot directory:" value; empty when the snapshot failed.
	Directory string
}

var snapshotReqRE = regexp.MustCompile(`Requested creating snapshot\(s\) for \[(.*?)\] with snapshot\s+name \[(.*?)\] and\s+options (\{.*?\})`)

// ParseSnapshot parses the stdout of `nodetool snapshot` (hard-wrapped doc
// copies included). A result without Directory means the snapshot failed
// (the error went to stderr).
func ParseSnapshot(text string) (*SnapshotResult, error) {
	joined := strings.Join(strings.Fields(text), " ")
	m := snapshotReqRE.FindStringSubmatch(joined)
	if m == nil {
		return nil, fmt.Errorf("nodetool snapshot: no \"Requested creating snapshot(s)\" line in %q", strings.TrimSpace(text))
	}
	r := &SnapshotResult{Targets: m[1], Tag: m[2], Options: m[3]}
	if i := strings.Index(joined, "Snapshot directory: "); i >= 0 {
		if f := strings.Fields(joined[i+len("Snapshot directory: "):]); len(f) > 0 {
			r.Directory = f[0]
		}
	}
	return r, nil
}
