package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
)

// NodeStatus is one node's line in a StatusReport.
type NodeStatus struct {
	// Name is the node name (node1...).
	Name string
	// IP is the node's address ("" when no lab record exists).
	IP string
	// Netns is the node's network namespace name.
	Netns string
	// NetnsExists reports whether the namespace exists.
	NetnsExists bool
	// HolderPID is the recorded holder process (0 when unknown).
	HolderPID int
	// HolderAlive reports whether the holder runs in the node's namespace.
	HolderAlive bool
	// SSHDPID is the recorded sshd process (0 when unknown).
	SSHDPID int
	// SSHDAlive reports whether that sshd process is alive.
	SSHDAlive bool
	// PortOpen reports whether IP:22 accepted a TCP connection from op.
	PortOpen bool
	// Services reports whether the lab runs stand-ins (it was brought up
	// with a hotsnap binary); the fields below are meaningful only then.
	Services bool
	// CassandraPID is the recorded cassandra-standin (0 when stopped).
	CassandraPID int
	// CassandraAlive reports whether it runs in the node's namespace.
	CassandraAlive bool
	// ESPID is the recorded es-standin (0 when stopped).
	ESPID int
	// ESAlive reports whether it runs in the node's namespace.
	ESAlive bool
	// NetworkDown reports that StopNode took the node off the network.
	NetworkDown bool
	// NoCassandra reports that the lab's platform runs no Cassandra
	// stand-in (eclecticiq, alien4cloud), so none is needed to be healthy.
	NoCassandra bool
	// NoES reports that the node runs no Elasticsearch stand-in because
	// Alien4Cloud holds an embedded one (Options.A4CEmbedded).
	NoES bool
	// DataBytes is the size of the node's Cassandra data directory
	// (snapshots' hard links counted once).
	DataBytes int64
	// TheHive is the state of the node's thehive unit as `systemctl
	// is-active` reports it (active, inactive, failed...), "" when the
	// platform runs no TheHive; TheHivePID its main process when active
	// (the host's PID, as every PID here; the node's own is what
	// `systemctl show -p MainPID` prints there).
	TheHive    string
	TheHivePID int
	// ShareMounted reports whether /mnt/backup is the backup host's share
	// inside the node (checked when the lab records a backup host).
	ShareMounted bool
	// shareRecorded reports whether the lab records a backup host.
	shareRecorded bool
}

// Healthy reports whether the node is fully up.
func (n NodeStatus) Healthy() bool {
	ok := n.NetnsExists && n.HolderAlive && n.SSHDAlive && n.PortOpen && (n.ShareMounted || !n.shareRecorded)
	if n.Services {
		ok = ok && (n.CassandraAlive || n.NoCassandra) && (n.ESAlive || n.NoES) && !n.NetworkDown
	}
	return ok
}

// StatusReport describes a lab's state as found on the machine.
type StatusReport struct {
	// Name is the lab's name.
	Name string
	// Subnet is the recorded subnet (-1 when no record exists).
	Subnet int
	// StateDir is the lab's state directory.
	StateDir string
	// Recorded reports whether STATE/lab.json exists.
	Recorded bool
	// Registered reports whether the lab is in the registry.
	Registered bool
	// GuardRoute reports whether the unreachable guard route is installed.
	GuardRoute bool
	// OpNetns reports whether the op namespace exists.
	OpNetns bool
	// BridgeNetns reports whether the bridge namespace exists.
	BridgeNetns bool
	// Nodes lists the recorded nodes, plus any stray node namespaces.
	Nodes []NodeStatus
	// Platform is the recorded platform ("" without stand-ins).
	Platform string
	// Daemons lists the recorded platform daemons (S3, PostgreSQL, Redis).
	Daemons []DaemonStatus
	// Search is the search engine flavour (elasticsearch or opensearch),
	// Storage where the attachments live (localfs or s3), S3 the S3 server
	// kind with storage s3, and Auth whether Cassandra and the search
	// engine ask for passwords; all from the lab's record.
	Search, Storage, S3 string
	Auth                bool
	// Share is the backup host and its share ("" IP when not recorded).
	Share ShareStatus
}

// ShareStatus is the state of the backup host and its share.
type ShareStatus struct {
	// IP is the backup host's address; ServerPID its brick (glusterfsd).
	IP        string
	ServerPID int
	// ServerAlive reports whether the brick runs in the backup host's
	// namespace; OpMounted whether the operator's mount is in place.
	ServerAlive, OpMounted bool
	// Link is the links' shaping ("" when unshaped).
	Link string
}

// DaemonStatus is one platform daemon's state.
type DaemonStatus struct {
	Daemon
	// Alive reports whether its process runs in its node's namespace.
	Alive bool
}

// Healthy reports whether the lab is up and every node is healthy.
func (r *StatusReport) Healthy() bool {
	if !r.Recorded || !r.Registered || !r.GuardRoute || !r.OpNetns || !r.BridgeNetns || len(r.Nodes) == 0 {
		return false
	}
	if r.Share.IP != "" && (!r.Share.ServerAlive || !r.Share.OpMounted) {
		return false
	}
	for _, n := range r.Nodes {
		if !n.Healthy() {
			return false
		}
	}
	for _, d := range r.Daemons {
		if !d.Alive {
			return false
		}
	}
	return true
}

// String renders the report as a table with a summary line.
func (r *StatusReport) String() string {
	var b strings.Builder
	state := "down"
	switch {
	case r.Healthy():
		state = "up"
	case r.Recorded || r.Registered || r.OpNetns || r.BridgeNetns || len(r.Nodes) > 0:
		state = "degraded"
	}
	subnet := "?"
	if r.Subnet >= 0 {
		subnet = fmt.Sprintf("10.77.%d.0/24", r.Subnet)
	}
	fmt.Fprintf(&b, "lab %s: %s  subnet %s  state %s  guard route %s\n", r.Name, state, subnet, r.StateDir, yesNo(r.GuardRoute))
	if len(r.Nodes) == 0 {
		return b.String()
	}
	if r.Platform != "" {
		storage := orDash(r.Storage)
		if r.S3 != "" {
			storage += " (" + r.S3 + ")"
		}
		auth := "off"
		if r.Auth {
			auth = "on"
		}
		fmt.Fprintf(&b, "platform %s  search %s  attachments %s  auth %s\n", r.Platform, orDash(r.Search), storage, auth)
	}
	if sh := r.Share; sh.IP != "" {
		mounted := 0
		for _, n := range r.Nodes {
			if n.ShareMounted {
				mounted++
			}
		}
		link := "unshaped"
		if sh.Link != "" {
			link = sh.Link
		}
		fmt.Fprintf(&b, "backup host %s  glusterfsd %s  /mnt/backup mounted on %d/%d nodes, op %s  links %s\n", sh.IP,
			svcState(sh.ServerPID, sh.ServerAlive), mounted, len(r.Nodes), yesNo(sh.OpMounted), link)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tIP\tNAMESPACE\tHOLDER\tSSHD\tPORT 22\tNETWORK\tCASSANDRA\tES\tTHEHIVE\tDATA")
	for _, n := range r.Nodes {
		cass, es, th, data := "-", "-", "-", "-"
		if n.Services {
			cass, es, data = svcState(n.CassandraPID, n.CassandraAlive), svcState(n.ESPID, n.ESAlive), humanize.Bytes(uint64(n.DataBytes))
			if n.NoCassandra {
				cass, data = "-", "-"
			}
			if n.NoES {
				es = "embedded"
			}
			if n.TheHive != "" {
				th = n.TheHive
				if n.TheHivePID != 0 {
					th += " (" + strconv.Itoa(n.TheHivePID) + ")"
				}
			}
		}
		network := "up"
		if n.NetworkDown {
			network = "down"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, orDash(n.IP), yesNo(n.NetnsExists),
			pidState(n.HolderPID, n.HolderAlive), pidState(n.SSHDPID, n.SSHDAlive), yesNo(n.PortOpen),
			network, cass, es, th, data)
	}
	tw.Flush()
	if len(r.Daemons) > 0 {
		fmt.Fprintf(&b, "platform %s daemons:\n", r.Platform)
		for _, d := range r.Daemons {
			name := d.Name
			if d.Name == DaemonS3 && r.S3 != "" {
				name += " (" + r.S3 + ")"
			}
			fmt.Fprintf(&b, "  %-16s %-6s %-21s %s\n", name, d.Node, d.Addr, svcState(d.PID, d.Alive))
		}
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// svcState renders a stand-in daemon as "up (PID)" or "down".
func svcState(pid int, alive bool) string {
	switch {
	case alive:
		return "up (" + strconv.Itoa(pid) + ")"
	case pid == 0:
		return "down"
	}
	return "down (" + strconv.Itoa(pid) + " gone)"
}

func pidState(pid int, alive bool) string {
	if pid == 0 {
		return "-"
	}
	if alive {
		return strconv.Itoa(pid)
	}
	return strconv.Itoa(pid) + " (gone)"
}

// Status inspects the lab named by o: per node whether its namespace
// exists, its holder and sshd are alive and port 22 answers from op.
func Status(ctx context.Context, o Options) (*StatusReport, error) {
	if err := RequireRoot(); err != nil {
		return nil, fmt.Errorf("lab status: %w", err)
	}
	o, err := o.normalize(false)
	if err != nil {
		return nil, fmt.Errorf("lab status: %w", err)
	}
	rep, err := statusOf(ctx, o.Name, o.StateDir)
	if err != nil {
		return nil, fmt.Errorf("lab status: %s: %w", o.Name, err)
	}
	return rep, nil
}

// status is Status for an open lab.
func (l *Lab) status(ctx context.Context) (*StatusReport, error) {
	return statusOf(ctx, l.Name, l.StateDir)
}

func statusOf(ctx context.Context, name, stateDir string) (*StatusReport, error) {
	rep := &StatusReport{Name: name, Subnet: -1, StateDir: stateDir}
	rep.Registered = isRegistered(name)
	rep.GuardRoute = guardRoutePresent(ctx)
	rep.OpNetns = netnsExists(opNetns(name))
	rep.BridgeNetns = netnsExists(brNetns(name))
	known := map[string]bool{}
	if rec, err := readRecord(stateDir); err == nil && rec.Name == name {
		rep.Recorded = true
		rep.Subnet = rec.Subnet
		if sv := rec.Services; sv != nil {
			rep.Platform = sv.platform()
			rep.Search, rep.Storage, rep.S3, rep.Auth = sv.Search, sv.Storage, sv.S3, sv.Auth
			if rep.Storage == "" {
				rep.Storage = StorageLocalFS
			}
		}
		nodes := map[string]NodeInfo{}
		for _, n := range rec.Nodes {
			nodes[n.Name] = n
		}
		for _, d := range rec.Daemons {
			n, ok := nodes[d.Node]
			if pid := daemonPID(stateDir, n, d); pid != 0 {
				d.PID = pid
			}
			rep.Daemons = append(rep.Daemons, DaemonStatus{Daemon: d, Alive: ok && serviceAlive(d.PID, n.Netns)})
		}
		if rec.BhNetns != "" {
			rep.Share = ShareStatus{IP: rec.BhIP, ServerPID: rec.ShareServerPID, Link: rec.Link.String(),
				ServerAlive: serviceAlive(rec.ShareServerPID, rec.BhNetns)}
			rep.Share.OpMounted, _ = shareMountedIn(os.Getpid(), filepath.Join(stateDir, "shared", "backup"))
		}
		for _, n := range rec.Nodes {
			ns := NodeStatus{Name: n.Name, IP: n.IP, Netns: n.Netns, HolderPID: n.HolderPID, SSHDPID: n.SSHDPID,
				Services: rec.Services != nil, CassandraPID: n.CassandraPID, ESPID: n.ESPID, NetworkDown: n.NetworkDown,
				NoCassandra: rec.Services != nil && !rec.Services.cassandra(), NoES: rec.Services != nil && !rec.Services.esDaemons()}
			if ns.Services {
				ns.CassandraAlive = serviceAlive(n.CassandraPID, n.Netns)
				ns.ESAlive = serviceAlive(n.ESPID, n.Netns)
				ns.DataBytes = dirSize(filepath.Join(stateDir, "nodes", n.Name, "cassandra", "data"))
				if rep.Platform == PlatformTheHive {
					ns.TheHive = "inactive"
					if us, pid, err := unitStatus(n, theHiveServiceDir(stateDir, n.Name), TheHiveUnit); err == nil {
						ns.TheHive, ns.TheHivePID = us.Active, pid
					}
				}
			}
			ns.NetnsExists = netnsExists(n.Netns)
			ns.HolderAlive = ns.NetnsExists && checkHolder(n) == nil
			if ns.shareRecorded = rec.BhNetns != ""; ns.shareRecorded && ns.HolderAlive {
				ns.ShareMounted, _ = shareMountedIn(n.HolderPID, sharedBackupTarget)
			}
			if ns.SSHDAlive = pidAlive(n.SSHDPID); ns.SSHDAlive && ns.NetnsExists {
				same, err := sameNetns(n.SSHDPID, n.Netns)
				ns.SSHDAlive = err == nil && same
			}
			rep.Nodes = append(rep.Nodes, ns)
			known[n.Netns] = true
		}
	}
	// Stray node namespaces (e.g. from an Up that died before lab.json).
	all, err := labNetns(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, ns := range all {
		if known[ns] || !strings.HasPrefix(ns, name+"-node") {
			continue
		}
		rep.Nodes = append(rep.Nodes, NodeStatus{Name: strings.TrimPrefix(ns, name+"-"), Netns: ns, NetnsExists: true})
	}
	sort.SliceStable(rep.Nodes, func(i, j int) bool { return nodeNum(rep.Nodes[i].Name) < nodeNum(rep.Nodes[j].Name) })

	if rep.OpNetns {
		var addrs []string
		for _, n := range rep.Nodes {
			if n.IP != "" && n.NetnsExists {
				addrs = append(addrs, n.IP+":22")
			}
		}
		if len(addrs) > 0 {
			res, err := probeTCP(ctx, opNetns(name), addrs, 500*time.Millisecond)
			if err != nil {
				return nil, fmt.Errorf("probe port 22: %w", err)
			}
			for i := range rep.Nodes {
				if e, ok := res[rep.Nodes[i].IP+":22"]; ok && e == nil {
					rep.Nodes[i].PortOpen = true
				}
			}
		}
	}
	return rep, nil
}

func nodeNum(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "node"))
	if err != nil {
		return 1 << 30
	}
	return n
}
