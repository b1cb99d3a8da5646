package cassandra

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// toolClient is the HTTP client of the CLI tools (nodetool waits for long operations).
var toolClient = &http.Client{Timeout: 10 * time.Minute}

// nodetoolUsage prints airline's usage error and returns exit status 1.
func nodetoolUsage(stdout io.Writer, msg string) int {
	fmt.Fprintf(stdout, "nodetool: %s\nSee 'nodetool help' or 'nodetool help <command>'.\n", msg)
	return 1
}

// javaError prints a server-side exception like NodeTool.err() and returns 2.
func javaError(stderr io.Writer, err error) int {
	var ce *ControlError
	if errors.As(err, &ce) {
		if ce.Plain {
			fmt.Fprintln(stderr, ce.Message)
			if ce.Exit != 0 {
				return ce.Exit
			}
			return 1
		}
		fmt.Fprintf(stderr, "error: %s\n-- StackTrace --\n%s: %s\n", ce.Message, ce.Class, ce.Message)
		if ce.Exit != 0 {
			return ce.Exit
		}
		return 2
	}
	fmt.Fprintf(stderr, "error: %s\n-- StackTrace --\njava.lang.RuntimeException: %s\n", err.Error(), err.Error())
	return 2
}

// NodetoolMain is the stand-in `nodetool` (4.1 output formats). Global options
// -h/--host, -p/--port, -u/--username, -pw/--password may appear anywhere.
func NodetoolMain(args []string, stdout, stderr io.Writer) int {
	host, port := "127.0.0.1", strconv.Itoa(defaultControlPort)
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		takeVal := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		switch a {
		case "-h", "--host":
			v, ok := takeVal()
			if !ok {
				return nodetoolUsage(stdout, "Required values for option 'host' not provided")
			}
			host = v
		case "-p", "--port":
			v, ok := takeVal()
			if !ok {
				return nodetoolUsage(stdout, "Required values for option 'port' not provided")
			}
			port = v
		case "-u", "--username", "-pw", "--password", "-pwf", "--password-file":
			// Accepted and unused: the stand-in's JMX port has no
			// authentication. airline names an option by its field.
			if _, ok := takeVal(); !ok {
				field := map[string]string{"-u": "username", "--username": "username", "-pw": "password", "--password": "password",
					"-pwf": "passwordFilePath", "--password-file": "passwordFilePath"}[a]
				return nodetoolUsage(stdout, "Required values for option '"+field+"' not provided")
			}
		case "-pp", "--print-port":
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 {
		fmt.Fprintln(stdout, "usage: nodetool [(-h <host> | --host <host>)] [(-p <port> | --port <port>)]\n        [(-u <username> | --username <username>)]\n        [(-pw <password> | --password <password>)] <command> [<args>]")
		return 1
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nodetoolUsage(stdout, "port: can not convert \""+port+"\" to a int")
	}
	hp := net.JoinHostPort(host, port)
	cmd, cargs := rest[0], rest[1:]
	known := map[string]bool{"status": true, "snapshot": true, "clearsnapshot": true, "listsnapshots": true, "describecluster": true, "info": true, "version": true, "flush": true, "import": true, "refresh": true, "repair": true, "netstats": true, "help": true}
	if !known[cmd] {
		return nodetoolUsage(stdout, "Found unexpected parameters: ["+strings.Join(rest, ", ")+"]")
	}
	if cmd == "help" {
		fmt.Fprintln(stdout, "usage: nodetool [(-h <host> | --host <host>)] [(-p <port> | --port <port>)] <command> [<args>]\n\nThe most commonly used nodetool commands are:\n    clearsnapshot   Remove the snapshot with the given name from the given keyspaces\n    describecluster Print the name, snitch, partitioner and schema version of a cluster\n    flush           Flush one or more tables\n    import          Import new SSTables to the system\n    info            Print node information (uptime, load, ...)\n    listsnapshots   Lists all the snapshots along with the size on disk and true size.\n    netstats        Print network information on provided host (connecting node by default)\n    refresh         Load newly placed SSTables to the system without restart\n    repair          Repair one or more tables\n    snapshot        Take a snapshot of specified keyspaces or a snapshot of the specified table\n    status          Print cluster information (state, load, IDs, ...)\n    version         Print cassandra version")
		return 0
	}
	// Connect first (NodeProbe): a dead JMX port yields the single-line error.
	var self NodeInfo
	if err := controlCall(toolClient, hp, "GET", "/v1/info", nil, &self); err != nil {
		var ce *ControlError
		if !errors.As(err, &ce) {
			fmt.Fprintf(stderr, "nodetool: Failed to connect to '%s:%s' - ConnectException: 'Connection refused (Connection refused)'.\n", host, port)
			return 1
		}
	}
	call := func(method, path string, body, out any) error {
		return controlCall(toolClient, hp, method, path, body, out)
	}
	switch cmd {
	case "status":
		return ntStatus(cargs, call, stdout, stderr)
	case "snapshot":
		return ntSnapshot(cargs, call, stdout, stderr)
	case "clearsnapshot":
		return ntClearSnapshot(cargs, call, stdout, stderr)
	case "listsnapshots":
		var l []SnapshotDetail
		if err := call("GET", "/v1/snapshots", nil, &l); err != nil {
			return javaError(stderr, err)
		}
		fmt.Fprint(stdout, FormatListSnapshots(l))
		return 0
	case "describecluster":
		var d DescribeClusterInfo
		if err := call("GET", "/v1/describecluster", nil, &d); err != nil {
			return javaError(stderr, err)
		}
		fmt.Fprint(stdout, FormatDescribeCluster(d))
		return 0
	case "info":
		tokens := len(cargs) > 0 && (cargs[0] == "-T" || cargs[0] == "--tokens")
		fmt.Fprint(stdout, formatInfo(self, tokens))
		return 0
	case "version":
		fmt.Fprintf(stdout, "ReleaseVersion: %s\n", self.ReleaseVersion)
		return 0
	case "flush":
		ks := ""
		if len(cargs) > 0 {
			ks = cargs[0]
		}
		if err := call("POST", "/v1/flush", map[string]string{"keyspace": ks}, nil); err != nil {
			return javaError(stderr, err)
		}
		return 0
	case "import":
		return ntImport(cargs, call, stdout, stderr)
	case "refresh":
		fmt.Fprintln(stdout, "nodetool refresh is deprecated, use nodetool import instead")
		if len(cargs) != 2 {
			return nodetoolUsage(stdout, "refresh requires ks and cf args")
		}
		if err := call("POST", "/v1/refresh", ImportRequest{Keyspace: cargs[0], Table: cargs[1]}, nil); err != nil {
			return javaError(stderr, err)
		}
		return 0
	case "repair":
		return ntRepair(cargs, call, stdout, stderr)
	case "netstats":
		var ns NetstatsInfo
		if err := call("GET", "/v1/netstats", nil, &ns); err != nil {
			return javaError(stderr, err)
		}
		fmt.Fprint(stdout, formatNetstats(ns))
		return 0
	}
	return nodetoolUsage(stdout, "Found unexpected parameters: ["+strings.Join(rest, ", ")+"]")
}

type callFn func(method, path string, body, out any) error

func ntStatus(args []string, call callFn, stdout, stderr io.Writer) int {
	ks := ""
	for _, a := range args {
		if a == "-r" || a == "--resolve-ip" {
			continue
		}
		if strings.HasPrefix(a, "-") {
			return nodetoolUsage(stdout, "Found unexpected parameters: ["+a+"]")
		}
		if ks != "" {
			return nodetoolUsage(stdout, "Found unexpected parameters: ["+a+"]")
		}
		ks = a
	}
	var st StatusInfo
	if err := call("GET", "/v1/status?keyspace="+url.QueryEscape(ks), nil, &st); err != nil {
		var ce *ControlError
		if errors.As(err, &ce) && strings.HasPrefix(ce.Message, "The keyspace ") {
			fmt.Fprintf(stdout, "\nError: %s\n", ce.Message)
			return 1
		}
		return javaError(stderr, err)
	}
	fmt.Fprint(stdout, FormatStatus(st))
	return 0
}

// FormatStatus renders nodetool status exactly like 4.x (shared column
// widths across DCs, padded last column, final blank line, optional Note).
func FormatStatus(st StatusInfo) string {
	var dcs []string
	byDC := map[string][]StatusRowInfo{}
	for _, r := range st.Rows {
		if _, ok := byDC[r.DC]; !ok {
			dcs = append(dcs, r.DC)
		}
		byDC[r.DC] = append(byDC[r.DC], r)
	}
	sort.Strings(dcs)
	owns := "Owns (effective)"
	if !st.Effective {
		owns = "Owns"
	}
	var tables []*tableBuilder
	for _, dc := range dcs {
		tb := &tableBuilder{sep: "  "}
		tb.add("--", "Address", "Load", "Tokens", owns, "Host ID", "Rack")
		for _, r := range byDC[dc] {
			o := "?"
			if st.Effective {
				o = strconv.FormatFloat(r.Owns*100, 'f', 1, 64) + "%"
			}
			tb.add(r.Status, r.Address, r.Load, strconv.Itoa(r.Tokens), o, r.HostID, r.Rack)
		}
		tables = append(tables, tb)
	}
	w := sharedWidths(tables...)
	var b strings.Builder
	for i, dc := range dcs {
		if i > 0 {
			b.WriteString("\n")
		}
		h := "Datacenter: " + dc
		b.WriteString(h + "\n" + strings.Repeat("=", len(h)) + "\n")
		b.WriteString("Status=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n")
		b.WriteString(tables[i].render(w))
	}
	b.WriteString("\n")
	if st.Note != "" {
		b.WriteString("Note: " + st.Note + "\n")
	}
	return b.String()
}

// SnapshotBlocksFault is the lab's fault switch for a `nodetool snapshot`
// stuck behind a flush: while this file exists on a node (in its own
// /var/lib/cassandra), the command blocks before the snapshot is taken.
const SnapshotBlocksFault = "/var/lib/cassandra/lab-fault-snapshot-blocks"

func ntSnapshot(args []string, call callFn, stdout, stderr io.Writer) int {
	var req SnapshotRequest
	table := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, true
			}
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		name := a
		if k, _, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "--") {
			name = k
		}
		switch name {
		case "-t", "--tag":
			v, ok := val()
			if !ok {
				return nodetoolUsage(stdout, "Required values for option 'snapshotName' not provided")
			}
			req.Tag = v
		case "-kt", "--kt-list", "-kc", "--kc.list":
			v, ok := val()
			if !ok {
				return nodetoolUsage(stdout, "Required values for option 'ktList' not provided")
			}
			for _, x := range strings.Split(v, ",") {
				req.KTList = append(req.KTList, strings.TrimSpace(x))
			}
		case "-cf", "--column-family", "--table":
			v, ok := val()
			if !ok {
				return nodetoolUsage(stdout, "Required values for option 'table' not provided")
			}
			table = v
		case "--ttl":
			v, ok := val()
			if !ok {
				return nodetoolUsage(stdout, "Required values for option 'ttl' not provided")
			}
			req.TTL = v
		case "-sf", "--skip-flush":
		default:
			if strings.HasPrefix(a, "-") {
				return nodetoolUsage(stdout, "Found unexpected parameters: ["+a+"]")
			}
			req.Keyspaces = append(req.Keyspaces, a)
		}
	}
	if req.Tag == "" {
		req.Tag = strconv.FormatInt(time.Now().UnixMilli(), 10)
	}
	opts := "{skipFlush=false}"
	if req.TTL != "" {
		opts = "{skipFlush=false, ttl=" + req.TTL + "}"
	}
	var target string
	switch {
	case len(req.KTList) > 0:
		if len(req.Keyspaces) > 0 || table != "" {
			return javaError(stderr, &ControlError{Class: "java.io.IOException", Message: "When specifying the Keyspace table list (using -kt,--kt-list,-kc,--kc.list), you must not also specify keyspaces to snapshot"})
		}
		target = "[" + strings.Join(req.KTList, ",") + "]"
	case table != "":
		if len(req.Keyspaces) != 1 {
			return javaError(stderr, &ControlError{Class: "java.io.IOException", Message: "When specifying the table for a snapshot, you must specify one and only one keyspace"})
		}
		target = "[" + req.Keyspaces[0] + "]"
		req.KTList = []string{req.Keyspaces[0] + "." + table}
		req.Keyspaces = nil
	case len(req.Keyspaces) == 0:
		target = "[all keyspaces]"
	default:
		target = "[" + strings.Join(req.Keyspaces, ", ") + "]"
	}
	fmt.Fprintf(stdout, "Requested creating snapshot(s) for %s with snapshot name [%s] and options %s\n", target, req.Tag, opts)
	// The fault switch: a snapshot stuck behind a flush (the memtable
	// flush it waits for never ends) blocks while the file exists.
	for {
		if _, err := os.Stat(SnapshotBlocksFault); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := call("POST", "/v1/snapshot", req, nil); err != nil {
		return javaError(stderr, err)
	}
	fmt.Fprintf(stdout, "Snapshot directory: %s\n", req.Tag)
	return 0
}

func ntClearSnapshot(args []string, call callFn, stdout, stderr io.Writer) int {
	var req ClearSnapshotRequest
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-t", "--tag":
			if i+1 >= len(args) {
				return nodetoolUsage(stdout, "Required values for option 'snapshotName' not provided")
			}
			i++
			req.Tag = args[i]
		case "--all":
			req.All = true
		default:
			if strings.HasPrefix(a, "-") {
				return nodetoolUsage(stdout, "Found unexpected parameters: ["+a+"]")
			}
			req.Keyspaces = append(req.Keyspaces, a)
		}
	}
	if req.Tag == "" && !req.All {
		return javaError(stderr, &ControlError{Class: "java.lang.RuntimeException", Message: "Specify snapshot name or --all"})
	}
	if req.Tag != "" && req.All {
		return javaError(stderr, &ControlError{Class: "java.lang.RuntimeException", Message: "Specify only one of snapshot name or --all"})
	}
	target := "[all keyspaces]"
	if len(req.Keyspaces) > 0 {
		target = "[" + strings.Join(req.Keyspaces, ", ") + "]"
	}
	if req.All {
		fmt.Fprintf(stdout, "Requested clearing snapshot(s) for %s with [all snapshots]\n", target)
	} else {
		fmt.Fprintf(stdout, "Requested clearing snapshot(s) for %s with snapshot name [%s]\n", target, req.Tag)
	}
	if err := call("POST", "/v1/clearsnapshot", req, nil); err != nil {
		return javaError(stderr, err)
	}
	return 0
}

// FormatListSnapshots renders nodetool listsnapshots (4.1, seven columns).
func FormatListSnapshots(l []SnapshotDetail) string {
	var b strings.Builder
	b.WriteString("Snapshot Details: \n")
	if len(l) == 0 {
		b.WriteString("There are no snapshots\n")
		return b.String()
	}
	tb := &tableBuilder{sep: " "}
	tb.add("Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk", "Creation time", "Expiration time")
	var total int64
	for _, d := range l {
		tb.add(d.Tag, d.Keyspace, d.Table, StringifyFileSize(float64(d.TrueSize)), StringifyFileSize(float64(d.SizeOnDisk)), d.CreatedAt, d.ExpiresAt)
		total += d.TrueSize
	}
	b.WriteString(tb.render(sharedWidths(tb)))
	b.WriteString("\nTotal TrueDiskSpaceUsed: " + StringifyFileSize(float64(total)) + "\n\n")
	return b.String()
}

// FormatDescribeCluster renders nodetool describecluster (4.x).
func FormatDescribeCluster(d DescribeClusterInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster Information:\n\tName: %s\n\tSnitch: org.apache.cassandra.locator.SimpleSnitch\n\tDynamicEndPointSnitch: enabled\n\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\tSchema versions:\n", d.Name)
	var versions []string
	for v := range d.Schema {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	for _, v := range versions {
		fmt.Fprintf(&b, "\t\t%s: [%s]\n\n", v, strings.Join(d.Schema[v], ", "))
	}
	if len(d.Unreachable) > 0 {
		fmt.Fprintf(&b, "\t\tUNREACHABLE: [%s]\n\n", strings.Join(d.Unreachable, ", "))
	}
	fmt.Fprintf(&b, "Stats for all nodes:\n\tLive: %d\n\tJoining: 0\n\tMoving: 0\n\tLeaving: 0\n\tUnreachable: %d\n\n", d.Live, len(d.Unreachable))
	b.WriteString("Data Centers: \n")
	var dcs []string
	for dc := range d.DCs {
		dcs = append(dcs, dc)
	}
	sort.Strings(dcs)
	for _, dc := range dcs {
		fmt.Fprintf(&b, "\t%s #Nodes: %d #Down: %d\n", dc, d.DCs[dc][0], d.DCs[dc][1])
	}
	b.WriteString("\nDatabase versions:\n")
	var rels []string
	for r := range d.Versions {
		rels = append(rels, r)
	}
	sort.Strings(rels)
	for _, r := range rels {
		fmt.Fprintf(&b, "\t%s: [%s]\n\n", r, strings.Join(d.Versions[r], ", "))
	}
	b.WriteString("Keyspaces:\n")
	for _, k := range d.Keyspaces {
		fmt.Fprintf(&b, "\t%s -> Replication class: %s\n", k[0], k[1])
	}
	return b.String()
}

func formatInfo(self NodeInfo, tokens bool) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%-23s: %s\n", k, v) }
	line("ID", self.HostID)
	line("Gossip active", "true")
	line("Native Transport active", "true")
	line("Load", StringifyFileSize(float64(self.Load)))
	line("Generation No", strconv.FormatInt(self.Generation, 10))
	line("Uptime (seconds)", strconv.FormatInt(self.UptimeSeconds, 10))
	line("Heap Memory (MB)", "512.34 / 1024.00")
	line("Off Heap Memory (MB)", "0.12")
	line("Data Center", self.DC)
	line("Rack", self.Rack)
	line("Exceptions", "0")
	line("Key Cache", "entries 39, size 3.46 KiB, capacity 51 MiB, 199 hits, 240 requests, 0.829 recent hit rate, 14400 save period in seconds")
	line("Row Cache", "entries 0, size 0 bytes, capacity 0 bytes, 0 hits, 0 requests, NaN recent hit rate, 0 save period in seconds")
	line("Counter Cache", "entries 0, size 0 bytes, capacity 25 MiB, 0 hits, 0 requests, NaN recent hit rate, 7200 save period in seconds")
	line("Chunk Cache", "entries 6, size 384 KiB, capacity 224 MiB, 111 misses, 3472 requests, 0.968 recent hit rate, NaN microseconds miss latency")
	line("Network Cache", "size 0 bytes, overflow size: 0 bytes, capacity 128 MiB")
	line("Percent Repaired", "100.0%")
	if tokens {
		for _, t := range self.Tokens {
			line("Token", t)
		}
	} else {
		line("Token", fmt.Sprintf("(invoke with -T/--tokens to see all %d tokens)", len(self.Tokens)))
	}
	return b.String()
}

func formatNetstats(ns NetstatsInfo) string {
	var b strings.Builder
	b.WriteString("Mode: NORMAL\n")
	if ns.Receiving > 0 {
		fmt.Fprintf(&b, "Bulk Load %s\n    /127.0.0.1\n        Receiving %d files, 0 bytes total. Already received 0 files (0.00%%), 0 bytes total (0.00%%)\n", deterministicUUID("bulk"), ns.Receiving)
	} else {
		b.WriteString("Not sending any streams.\n")
	}
	b.WriteString("Read Repair Statistics:\nAttempted: 0\nMismatch (Blocking): 0\nMismatch (Background): 0\n")
	fmt.Fprintf(&b, "%-25s%10s%10s%15s%10s\n", "Pool Name", "Active", "Pending", "Completed", "Dropped")
	fmt.Fprintf(&b, "%-25s%10s%10d%15d%10d\n", "Large messages", "n/a", 0, 0, 0)
	fmt.Fprintf(&b, "%-25s%10s%10d%15d%10d\n", "Small messages", "n/a", 0, ns.Small, 0)
	fmt.Fprintf(&b, "%-25s%10s%10d%15d%10d\n", "Gossip messages", "n/a", 0, ns.Gossip, 0)
	return b.String()
}

func ntImport(args []string, call callFn, stdout, stderr io.Writer) int {
	var pos []string
	quick := false
	for _, a := range args {
		switch a {
		case "-q", "--quick":
			quick = true
		case "-c", "--copy-data", "-e", "--extended-verify", "-t", "--no-tokens", "-v", "--no-verify", "-r", "--keep-repaired", "-l", "--keep-level", "-ivi", "--no-invalidate-caches":
		default:
			if strings.HasPrefix(a, "-") {
				return nodetoolUsage(stdout, "Found unexpected parameters: ["+a+"]")
			}
			pos = append(pos, a)
		}
	}
	if len(pos) < 3 {
		return nodetoolUsage(stdout, "import requires keyspace, table name and directories")
	}
	if quick {
		fmt.Fprintln(stdout, "Doing a quick import - skipping sstable verification and row cache invalidation")
	}
	var res ImportResult
	if err := call("POST", "/v1/import", ImportRequest{Keyspace: pos[0], Table: pos[1], Dirs: pos[2:]}, &res); err != nil {
		return javaError(stderr, err)
	}
	if len(res.Failed) > 0 {
		fmt.Fprintln(stderr, "Some directories failed to import, check server logs for details:")
		for _, d := range res.Failed {
			fmt.Fprintln(stderr, d)
		}
		return 1
	}
	return 0
}

func repairStamp() string { return time.Now().Format("2006-01-02 15:04:05,000") }

func ntRepair(args []string, call callFn, stdout, stderr io.Writer) int {
	var req RepairRequest
	for _, a := range args {
		switch a {
		case "-full", "--full":
			req.Full = true
		case "-pr", "--partitioner-range", "-seq", "--sequential", "-os", "--optimise-streams":
		default:
			if strings.HasPrefix(a, "-") {
				return nodetoolUsage(stdout, "Found unexpected parameters: ["+a+"]")
			}
			req.Keyspaces = append(req.Keyspaces, a)
		}
	}
	var res RepairResult
	if err := call("POST", "/v1/repair", req, &res); err != nil {
		return javaError(stderr, err)
	}
	for _, k := range res.Keyspaces {
		if k.RF <= 1 {
			fmt.Fprintf(stdout, "[%s] Replication factor is 1. No repair is needed for keyspace '%s'\n", repairStamp(), k.Name)
			continue
		}
		start := time.Now()
		fmt.Fprintf(stdout, "[%s] Starting repair command #%d (%s), repairing keyspace %s with repair options (parallelism: parallel, primary range: false, incremental: %t, job threads: 1, ColumnFamilies: [], dataCenters: [], hosts: [], previewKind: NONE, # of ranges: %d, pull repair: false, force repair: false, optimise streams: false, ignore unreplicated keyspaces: false, repairPaxos: true, paxosOnly: false)\n",
			repairStamp(), k.Command, k.ID, k.Name, !req.Full, k.Ranges)
		if k.Failed != "" {
			msg := fmt.Sprintf("Repair command #%d failed with error %s", k.Command, k.Failed)
			fmt.Fprintf(stdout, "[%s] %s\n", repairStamp(), msg)
			fmt.Fprintf(stdout, "[%s] Repair command #%d finished with error\n", repairStamp(), k.Command)
			full := "Repair job has failed with the error message: " + msg + ". Check the logs on the repair participants for further details"
			return javaError(stderr, &ControlError{Class: "java.lang.RuntimeException", Message: full})
		}
		fmt.Fprintf(stdout, "[%s] Repair completed successfully\n", repairStamp())
		fmt.Fprintf(stdout, "[%s] Repair command #%d finished in %d seconds\n", repairStamp(), k.Command, int(time.Since(start).Seconds()))
	}
	return 0
}
