package cassandra

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Checks is what a platform adds to the Cassandra checks.
type Checks struct {
	// Seen, when set, receives each release version a node runs.
	Seen func(release string)
	// Supported rates a release for the platform: a warning and its
	// remedy, or a pass ("" remedy).
	Supported func(release string) (steps.CheckStatus, string)
	// KeyspaceConf says where the platform configures its keyspace
	// ("db.janusgraph.storage.cql.keyspace in /etc/thehive/application.conf").
	KeyspaceConf string
}

// Commands of the tools check: the restore node (the first Cassandra node,
// which runs sstableloader when the topology changed) also looks for
// sstableloader.
const (
	tarVersionCmd    = "tar --version | head -n 1"
	sstableloaderCmd = "command -v sstableloader"
)

// ToolsCheck is the check of the tools on every node: tar, and
// sstableloader on the restore node (the first Cassandra node). nodetool
// is not run here: on a real node each nodetool is a JVM start, and the
// preflight already runs one on every node (`nodetool listsnapshots`, which
// proves it works there) and reads every node's Cassandra version from the
// ring check's `nodetool describecluster` (RingCheck).
func ToolsCheck(env *steps.Env) steps.Step {
	nodes := env.NodesWith(config.RoleCassandra)
	loader := nodes[0]
	return steps.Step{
		ID: "cassandra-tools", Title: "Tools on every node: tar; sstableloader on the restore node", Kind: steps.KindCheck, Component: Component,
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			for _, n := range nodes {
				c := tarVersionCmd
				if n == loader {
					c += "; " + sstableloaderCmd
				}
				out = append(out, steps.PlannedCommand{Node: n, Cmd: c})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
				cmds := []string{tarVersionCmd}
				if n == loader {
					cmds = append(cmds, sstableloaderCmd)
				}
				rs := rc.StdoutEach(ctx, n, false, cmds...)
				if tv, err := rs[0].Stdout, rs[0].Err; err != nil || strings.TrimSpace(tv) == "" {
					rc.Check(steps.CheckResult{Check: "tar", Node: n, Status: steps.CheckFail, Evidence: fmt.Sprintf("tar --version: %v", orNotFound(err)),
						Remedy: "install tar on this node (`sudo apt-get install tar` or `sudo dnf install tar`): the backup streams every table with it"})
				} else {
					rc.Check(steps.CheckResult{Check: "tar", Node: n, Status: steps.CheckPass, Evidence: strings.TrimSpace(tv)})
				}
				if n != loader {
					return
				}
				if p, err := rs[1].Stdout, rs[1].Err; err != nil || strings.TrimSpace(p) == "" {
					rc.Check(steps.CheckResult{Check: "sstableloader", Node: n, Status: steps.CheckWarn, Evidence: "sstableloader not found on the restore node",
						Remedy: "install Cassandra's tools on " + n + " (the cassandra package ships sstableloader in its bin/ or tools/bin/): a restore to a changed topology loads with it"})
				} else {
					rc.Check(steps.CheckResult{Check: "sstableloader", Node: n, Status: steps.CheckPass, Evidence: "sstableloader at " + strings.TrimSpace(p)})
				}
			})
			return nil
		},
	}
}

// NodetoolFailed is the check result for a node where nodetool did not run
// (not on the login user's PATH, or JMX not answering): the backup's
// `nodetool snapshot` would fail there.
func NodetoolFailed(node string, err error) steps.CheckResult {
	return steps.CheckResult{Check: "nodetool", Node: node, Status: steps.CheckFail, Evidence: err.Error(),
		Remedy: "start Cassandra on this node (`sudo systemctl start cassandra`) and check `nodetool status` there as the SSH user: the backup runs `nodetool snapshot` on every node"}
}

// orNotFound is err, or "not found" for a command that printed nothing.
func orNotFound(err error) string {
	if err == nil {
		return "not found"
	}
	return err.Error()
}

// DiskCheck is the check of the free disk for snapshots on every Cassandra
// node, against SnapshotFloor and the keyspace's size there (rateDisk).
// It promises each node's keyspace size in sizes (under the node's name)
// and hands it, or why it has none, to the steps that wait on it
// (KeyspaceSizes): one du per node instead of two.
func DiskCheck(env *steps.Env, sizes *steps.Sizes) steps.Step {
	nodes := env.NodesWith(config.RoleCassandra)
	for _, n := range nodes {
		sizes.Promise(n)
	}
	ks := env.Inv.Cassandra.Keyspace
	dfCmd := func(n string) string { return "df -PB1 " + remote.Quote(DataDir(env, n)) }
	duCmd := func(n string) string { return KeyspaceDUCmd(env, n) }
	cmdFor := func(n string) string { return dfCmd(n) + " && " + duCmd(n) }
	return steps.Step{
		ID: "disk", Title: "Free disk for snapshots on every Cassandra node", Kind: steps.KindCheck, Component: Component,
		Why: "A snapshot is hard links: it costs little at first (a flush of the memtables, a manifest and a schema per table), but holds every SSTable until it is cleared, so compaction needs room for new files next to it. A node whose disk cannot take the snapshot fails it after the other nodes and Elasticsearch have taken theirs.",
		Plan: func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			for _, n := range nodes {
				out = append(out, steps.PlannedCommand{Node: n, Cmd: cmdFor(n), Sudo: true})
			}
			return out
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
				rs := rc.StdoutThen(ctx, n, true, dfCmd(n), duCmd(n))
				out, du, err := rs[0].Stdout, rs[1].Stdout, rs[0].Err
				if err == nil {
					err = rs[1].Err
				}
				// When df fails, du does not run: df's error says why.
				sizes.Set(n, parse.ParseDU(du), err)
				if err != nil {
					rc.Check(steps.CheckResult{Check: "disk", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
						Remedy: "check that " + path.Join(DataDir(env, n), ks) + " exists (cassandra.data_dir / nodes[].paths.cassandra_data)"})
					return
				}
				dfs, err := parse.ParseDF(out)
				if err != nil || len(dfs) == 0 {
					rc.Check(steps.CheckResult{Check: "disk", Node: n, Status: steps.CheckFail, Evidence: fmt.Sprintf("df: %v", err)})
					return
				}
				r := rateDisk(ks, dfs[0], parse.ParseDU(du))
				r.Node = n
				rc.Check(r)
			})
			return nil
		},
	}
}

// SnapshotFloor is the free space below which a Cassandra data disk fails
// the disk check: `nodetool snapshot` first flushes the memtables into new
// SSTables (up to memtable_heap_space_in_mb, a quarter of the heap by
// default), then writes a manifest.json and a schema.cql into a new
// directory per table; on a disk without room for them it fails with
// ENOSPC after the other nodes and Elasticsearch have taken theirs.
const SnapshotFloor = 512 << 20

// rateDisk rates the free space of a Cassandra data disk (df of the data
// directory) for a snapshot of keyspace ks, which uses used bytes there:
// below SnapshotFloor it fails; below SnapshotFloor plus the keyspace's
// size it warns, as compaction during the backup writes new SSTables while
// the snapshot's hard links keep the old ones, up to the keyspace's size.
func rateDisk(ks string, df parse.DiskUsage, used int64) steps.CheckResult {
	free, fs := steps.HumanBytes(df.AvailBytes), fmt.Sprintf("%s (%s)", df.MountPoint, df.Filesystem)
	r := steps.CheckResult{Check: "disk", Status: steps.CheckPass,
		Evidence: fmt.Sprintf("%s free on %s; keyspace %s uses %s", free, fs, ks, steps.HumanBytes(used))}
	comfortable := SnapshotFloor + used
	makeRoom := fmt.Sprintf("make room on %s: `nodetool listsnapshots` lists the snapshots whose hard links pin old SSTables (`nodetool clearsnapshot -t NAME` clears one), then old heap dumps, logs and commit log archives on that file system, or grow it", df.MountPoint)
	switch {
	case df.AvailBytes < SnapshotFloor:
		r.Status = steps.CheckFail
		r.Evidence = fmt.Sprintf("%s free on %s, below the %s a snapshot needs; keyspace %s uses %s", free, fs, steps.HumanBytes(SnapshotFloor), ks, steps.HumanBytes(used))
		r.Remedy = fmt.Sprintf("%s, until at least %s is free: `nodetool snapshot` flushes the memtables into new SSTables and writes each table's manifest and schema, and fails with \"No space left on device\" on this node after the others have taken theirs", makeRoom, steps.HumanBytes(comfortable))
	case df.AvailBytes < comfortable:
		r.Status = steps.CheckWarn
		r.Evidence = fmt.Sprintf("%s free on %s, less than %s (%s for the snapshot's flush, manifests, schemas and directories, plus the keyspace's %s); keyspace %s uses %s", free, fs, steps.HumanBytes(comfortable), steps.HumanBytes(SnapshotFloor), steps.HumanBytes(used), ks, steps.HumanBytes(used))
		r.Remedy = fmt.Sprintf("the snapshot fits, but while it exists its hard links keep every SSTable compaction replaces, so compaction during the backup fills the disk with new files next to the old ones (up to the keyspace's size); %s", makeRoom)
	}
	return r
}

// RingCheck is the check of the ring from the first node that answers:
// every node UN, the keyspace present, no streams pending; a ring member
// missing from the inventory is a warning.
func RingCheck(env *steps.Env, o Checks) steps.Step {
	nodes := env.NodesWith(config.RoleCassandra)
	ks := env.Inv.Cassandra.Keyspace
	status := "nodetool status " + remote.Quote(ks)
	const describeCluster, netstats = "nodetool describecluster", "nodetool netstats"
	return steps.Step{
		ID: "ring", Title: "Cassandra ring: every node UN, keyspace present, one schema, one Cassandra version, no pending streams", Kind: steps.KindCheck, Component: Component,
		Why: "The runbook requires all nodes `UN` in `nodetool status` and a clean `nodetool netstats` before a backup; the schema saved with it must be every node's (`nodetool describecluster`: one schema version), and every node must run one Cassandra version (its Database versions).",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: nodes[0], Cmd: status, Note: "at once with the two below"},
				{Node: nodes[0], Cmd: describeCluster}, {Node: nodes[0], Cmd: netstats}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var out, from string
			var err error
			var rs []remote.EachResult // status, describecluster, netstats from the node that answers
			missing := false
			for _, n := range nodes { // the first node that answers
				from = n
				// At once: on a real node each is a JVM start.
				rs = rc.StdoutAll(ctx, n, false, status, describeCluster, netstats)
				if out, err = rs[0].Stdout, rs[0].Err; err == nil {
					break
				}
				// nodetool prints "Error: The keyspace X, does not exist" on stdout.
				if missing = errors.Is(parse.ParseNodetoolError(out), parse.ErrKeyspaceNotFound); missing {
					break
				}
			}
			if missing {
				rc.Check(steps.CheckResult{Check: "keyspace", Node: from, Status: steps.CheckFail, Evidence: strings.TrimSpace(out),
					Remedy: fmt.Sprintf("keyspace %s is missing: check cassandra.keyspace against %s; if it was dropped, restore it from a backup (`hotsnap restore ID`)", ks, o.KeyspaceConf)})
				return nil
			}
			if err != nil {
				rc.Check(steps.CheckResult{Check: "ring", Node: from, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "start Cassandra on the nodes (`sudo systemctl start cassandra`) and check `nodetool status`"})
				return nil
			}
			ring, err := parse.ParseNodetoolStatus(out)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "ring", Node: from, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			want := map[string]string{} // address → inventory name
			for _, n := range env.Inv.NodesWithRole(config.RoleCassandra) {
				want[n.Host] = n.Name
			}
			for _, r := range ring.Nodes() {
				where := nameOf(want, r.Address)
				if r.Up() {
					rc.Check(steps.CheckResult{Check: "ring state", Node: where, Status: steps.CheckPass, Evidence: fmt.Sprintf("UN %s load %s owns %.1f%% (dc %s)", r.Address, r.Load, r.Owns, r.Datacenter)})
				} else {
					rc.Check(steps.CheckResult{Check: "ring state", Node: where, Status: steps.CheckFail, Evidence: fmt.Sprintf("%c%c %s in `nodetool status` seen from %s", r.Status, r.State, r.Address, from),
						Remedy: ringRemedy(r)})
				}
				if _, ok := want[r.Address]; !ok {
					rc.Check(steps.CheckResult{Check: "inventory", Node: r.Address, Status: steps.CheckWarn, Evidence: "ring member not in the inventory",
						Remedy: "add it to the inventory (hotsnap init discovers every ring member)"})
				}
			}
			// A reply that cannot be read leaves its check undone: a
			// warning that says so, never a silent gap.
			notChecked := func(check, cmd string, err error) {
				rc.Check(steps.CheckResult{Check: check, Node: from, Status: steps.CheckWarn, Evidence: "not checked: " + err.Error(),
					Remedy: "run `" + cmd + "` on " + from + " and read it yourself before the backup, or fix what stops it and run the preflight again"})
			}
			d, err := rs[1].Stdout, rs[1].Err
			var dc *parse.ClusterDescription
			if err == nil {
				dc, err = parse.ParseDescribeCluster(d)
			}
			if err != nil {
				notChecked("schema agreement", describeCluster, err)
				notChecked("cassandra version", describeCluster, err)
			} else {
				rc.Check(rateSchema(dc, from, want))
				for _, r := range rateVersions(dc, ring.Nodes(), from, want, o) {
					rc.Check(r)
				}
			}
			ns, err := rs[2].Stdout, rs[2].Err
			var st *parse.Netstats
			if err == nil {
				st, err = parse.ParseNetstats(ns)
			}
			switch {
			case err != nil:
				notChecked("streams", netstats, err)
			case !st.Idle():
				rc.Check(steps.CheckResult{Check: "streams", Node: from, Status: steps.CheckWarn, Evidence: "streaming or pending work in `nodetool netstats`",
					Remedy: "wait for streaming to finish (`nodetool netstats`) before the backup"})
			default:
				rc.Check(steps.CheckResult{Check: "streams", Node: from, Status: steps.CheckPass, Evidence: "no streams in progress"})
			}
			return nil
		},
	}
}

// rateSchema judges `nodetool describecluster` seen from node from: one
// schema version passes; several fail, naming the nodes that hold a
// version the most nodes do not (names maps addresses to inventory names).
// Unreachable nodes are the ring check's to report.
func rateSchema(d *parse.ClusterDescription, from string, names map[string]string) steps.CheckResult {
	r := steps.CheckResult{Check: "schema agreement", Node: from}
	if len(d.SchemaVersions) <= 1 {
		r.Status, r.Evidence = steps.CheckPass, "one schema version in `nodetool describecluster`"
		if len(d.SchemaVersions) == 1 {
			r.Evidence = fmt.Sprintf("one schema version (%s) on %d nodes", d.SchemaVersions[0].Version, len(d.SchemaVersions[0].Hosts))
		}
		return r
	}
	most := 0
	for i, v := range d.SchemaVersions {
		if len(v.Hosts) > len(d.SchemaVersions[most].Hosts) {
			most = i
		}
	}
	var parts, behind []string
	for i, v := range d.SchemaVersions {
		parts = append(parts, fmt.Sprintf("%s on %s", v.Version, strings.Join(v.Hosts, ", ")))
		if i == most {
			continue
		}
		for _, h := range v.Hosts {
			behind = append(behind, nameOf(names, h))
		}
	}
	r.Status = steps.CheckFail
	r.Evidence = fmt.Sprintf("%d schema versions in `nodetool describecluster` seen from %s: %s", len(d.SchemaVersions), from, strings.Join(parts, "; "))
	r.Remedy = fmt.Sprintf("the nodes disagree on the schema (a change has not reached %s): a backup now would save a schema not every node has. "+
		"Wait until `nodetool describecluster` lists one version; if %s stays behind, run `nodetool resetlocalschema` on it (it takes the schema from the others) and check again", strings.Join(behind, ", "), strings.Join(behind, ", "))
	return r
}

// nameOf is the inventory name of the node at addr (names maps addresses
// to names), or addr when the inventory has no node there.
func nameOf(names map[string]string, addr string) string {
	if n := names[addr]; n != "" {
		return n
	}
	return addr
}

// rateVersions reads every node's Cassandra version from `nodetool
// describecluster` seen from node from: its Database versions, gossip's
// view of each node's release (live and unreachable), printed by Cassandra
// 4.0 and later (one nodetool for the whole ring instead of a `nodetool
// version`, a JVM start, on every node). Each node's version is rated by
// o.Supported and handed to o.Seen; two versions fail; a node gossip knows
// no release of (listed under ""), or one up in the ring but not listed,
// is a warning, never a gap (names maps addresses to inventory names).
func rateVersions(d *parse.ClusterDescription, ring []parse.RingNode, from string, names map[string]string, o Checks) []steps.CheckResult {
	if len(d.DatabaseVersions) == 0 {
		return []steps.CheckResult{{Check: "cassandra version", Node: from, Status: steps.CheckWarn,
			Evidence: "not checked: `nodetool describecluster` on " + from + " lists no Database versions (Cassandra before 4.0 prints none)",
			Remedy:   "run `nodetool version` on every node: each must run the same version, one the platform supports"}}
	}
	var out []steps.CheckResult
	unknown := func(who, why string) {
		out = append(out, steps.CheckResult{Check: "cassandra version", Node: who, Status: steps.CheckWarn, Evidence: why,
			Remedy: "run `nodetool version` on " + who + ": it must run the others' version"})
	}
	listed := map[string]bool{}        // addresses
	byVersion := map[string][]string{} // release → nodes
	for _, v := range slices.Sorted(maps.Keys(d.DatabaseVersions)) {
		st, rem := steps.CheckPass, ""
		if v != "" {
			if o.Supported != nil {
				st, rem = o.Supported(v)
			}
			if o.Seen != nil {
				o.Seen(v)
			}
		}
		for _, h := range d.DatabaseVersions[v] {
			addr := h // HOST:PORT
			if a, _, err := net.SplitHostPort(h); err == nil {
				addr = a
			}
			listed[addr] = true
			who := nameOf(names, addr)
			if v == "" {
				unknown(who, "no release known to gossip (listed without one under Database versions in `nodetool describecluster` seen from "+from+")")
				continue
			}
			byVersion[v] = append(byVersion[v], who)
			out = append(out, steps.CheckResult{Check: "cassandra version", Node: who, Status: st, Remedy: rem,
				Evidence: fmt.Sprintf("Cassandra %s (Database versions in `nodetool describecluster` seen from %s)", v, from)})
		}
	}
	for _, r := range ring {
		if r.Up() && !listed[r.Address] {
			unknown(nameOf(names, r.Address), "up in `nodetool status` but not under Database versions in `nodetool describecluster` seen from "+from)
		}
	}
	if len(byVersion) > 1 {
		out = append(out, steps.CheckResult{Check: "one cassandra version", Status: steps.CheckFail, Evidence: fmt.Sprintf("nodes run different versions: %v", byVersion),
			Remedy: "finish the rolling upgrade before taking a backup"})
	}
	return out
}

// ringRemedy says what to do about a ring member that is not UN: a node
// down is brought back; one joining, leaving or moving is changing which
// ranges it owns, so a snapshot taken now misses the ranges in flight.
func ringRemedy(r parse.RingNode) string {
	if r.Status != 'U' {
		return "bring the node back (`sudo systemctl start cassandra` on it) and wait for UN; a backup needs every replica"
	}
	what := map[byte]string{'J': "joining (bootstrapping)", 'L': "leaving (decommissioning)", 'M': "moving to new tokens"}[r.State]
	return fmt.Sprintf("the node is %s: its ranges are being streamed and a snapshot now would miss what is in flight; wait until `nodetool status` shows it UN (or gone) and `nodetool netstats` shows no streams, then back up", what)
}

// ReplicationCheck logs in with CQL (through the first node's tunnel) and
// checks the keyspace's replication against the node count in every data
// center (rateReplication).
func ReplicationCheck(env *steps.Env, o Checks) steps.Step {
	c := env.Inv.Cassandra
	nodes := env.Inv.NodesWithRole(config.RoleCassandra)
	return steps.Step{
		ID: "cql", Title: "CQL: login, keyspace replication against the node count", Kind: steps.KindCheck, Component: Component,
		Why: "The runbook asks for the keyspace to replicate 100% of the data on every node (RF = node count), so that every node's snapshot is a full copy.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: nodes[0].Name, Cmd: fmt.Sprintf("CQL via SSH tunnel to %s:%d: SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = '%s'", nodes[0].Host, c.Port, c.Keyspace)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			var hosts []string
			for _, n := range nodes {
				hosts = append(hosts, n.Host)
			}
			s, err := remote.NewCQLSession(remote.CQLOptions{Hosts: hosts, Port: c.Port, Username: c.Username, Password: env.CassandraPassword, Dial: env.Dial(nodes[0].Name)})
			if err != nil {
				r := steps.CheckResult{Check: "cql login", Node: nodes[0].Name, Status: steps.CheckFail, Evidence: err.Error(), Remedy: loginRemedy(c, err)}
				rc.Check(r)
				return nil
			}
			defer s.Close()
			auth := "without authentication"
			if c.Username != "" {
				auth = "as " + c.Username
			}
			rc.Check(steps.CheckResult{Check: "cql login", Node: nodes[0].Name, Status: steps.CheckPass, Evidence: "connected " + auth})
			var repl map[string]string
			if err := s.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", c.Keyspace).ScanContext(ctx, &repl); err != nil {
				rc.Check(steps.CheckResult{Check: "replication", Status: steps.CheckFail, Evidence: fmt.Sprintf("keyspace %s: %v", c.Keyspace, err),
					Remedy: "check cassandra.keyspace against " + o.KeyspaceConf})
				return nil
			}
			// Nodes per data center, from one coordinator's system.local
			// and system.peers_v2 (a pinned session); unknown if it fails.
			var perDC map[string]int
			if ps, err := remote.NewCQLSession(remote.CQLOptions{Hosts: hosts, Port: c.Port, Username: c.Username, Password: env.CassandraPassword, Dial: env.Dial(nodes[0].Name), Pin: true}); err == nil {
				if ring, err := (Session{ps}).Topology(ctx); err == nil {
					perDC = map[string]int{}
					for _, h := range ring {
						perDC[h.DC]++
					}
				}
				ps.Close()
			}
			r := rateReplication(c.Keyspace, repl, perDC, len(nodes))
			rc.Check(r)
			return nil
		},
	}
}

// loginRemedy is the remedy of a failed CQL login: Cassandra refusing the
// credentials (its "Provided username … and/or password are incorrect",
// error 0x0100), asking for a login none was given for, or not answering.
// The driver flattens its errors with %v, so the text is what tells them apart.
func loginRemedy(c *config.Cassandra, err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "authentication required"):
		return "Cassandra requires a login (PasswordAuthenticator): set cassandra.username and cassandra.password (env:NAME, file:PATH or prompt) to the runbook's admin superuser"
	case c.Username != "" && !c.Password.IsSet() && (strings.Contains(msg, "and/or password are incorrect") || strings.Contains(msg, "Bad credentials")):
		return fmt.Sprintf("Cassandra refused the login of %s without a password: set cassandra.password (env:NAME, file:PATH or prompt)", c.Username)
	case c.Username != "" && (strings.Contains(msg, "and/or password are incorrect") || strings.Contains(msg, "Bad credentials")):
		return fmt.Sprintf("Cassandra refused the login of %s: the password of cassandra.password (%s) is not %s's; set the right one there (try it on a node: `cqlsh -u %s`), or cassandra.username to another superuser", c.Username, c.Password, c.Username, c.Username)
	}
	return "check cassandra.username/password (the runbook's admin superuser) and that port " + strconv.Itoa(c.Port) + " listens on the node addresses"
}

// rateReplication checks the runbook's "replicate 100% of the data": the
// keyspace's replication factor equals the node count, in every data center
// (perDC: node count per DC from system.local/peers; nil when unknown, then
// the sum of the factors is compared with nodes). Fewer replicas than nodes
// leaves a node's snapshot without every row; more replicas than nodes (a
// restore into a smaller cluster) makes QUORUM reads and writes — TheHive's,
// JanusGraph's default — fail on real Cassandra. Either fails; the remedy
// is the runbook's ALTER KEYSPACE with this cluster's data centers and
// counts (AlterReplication).
func rateReplication(ks string, repl map[string]string, perDC map[string]int, nodes int) steps.CheckResult {
	g := compareReplication(ks, repl, perDC, nodes)
	r := steps.CheckResult{Check: "replication", Status: steps.CheckPass, Evidence: g.evidence}
	if !g.differs() {
		return r
	}
	r.Status = steps.CheckFail
	r.Remedy = fmt.Sprintf("replicate 100%% of the data on every node (runbook, \"Replicate Cassandra data to all nodes\"): in cqlsh `%s`, then `nodetool repair -full %s` on every node and wait for it, then `nodetool netstats` shows nothing pending",
		AlterReplication(ks, perDC, nodes), ks)
	if len(g.over) > 0 {
		r.Remedy = fmt.Sprintf("more replicas than nodes in %s (a restore into a smaller cluster keeps the backup's RF): QUORUM reads and writes (TheHive's) cannot reach a majority of the replicas and fail; %s", strings.Join(g.over, ", "), r.Remedy)
	}
	return r
}

// replicationGap is a keyspace's replication compared with the node count
// of every data center.
type replicationGap struct {
	evidence    string   // "thehive: NetworkTopologyStrategy, dc1: RF 3 on 3 nodes"
	short, over []string // the data centers with fewer, more replicas than nodes ("" for all)
}

func (g replicationGap) differs() bool { return len(g.short)+len(g.over) > 0 }

// compareReplication compares replication repl (system_schema.keyspaces'
// map) with the node count of every data center (perDC, or nodes in all
// when it is unknown).
func compareReplication(ks string, repl map[string]string, perDC map[string]int, nodes int) replicationGap {
	class := repl["class"]
	if i := strings.LastIndex(class, "."); i >= 0 {
		class = class[i+1:]
	}
	var g replicationGap
	if class == "NetworkTopologyStrategy" && len(perDC) > 0 {
		var have []string
		for _, dc := range slices.Sorted(maps.Keys(perDC)) {
			rf, _ := strconv.Atoi(repl[dc])
			have = append(have, fmt.Sprintf("%s: RF %d on %d nodes", dc, rf, perDC[dc]))
			if rf < perDC[dc] {
				g.short = append(g.short, dc)
			} else if rf > perDC[dc] {
				g.over = append(g.over, dc)
			}
		}
		g.evidence = fmt.Sprintf("%s: %s, %s", ks, class, strings.Join(have, ", "))
		return g
	}
	rf := replicationFactor(repl)
	g.evidence = fmt.Sprintf("%s: %s, RF %d on %d nodes", ks, class, rf, nodes)
	if rf < nodes {
		g.short = append(g.short, "the cluster")
	} else if rf > nodes {
		g.over = append(g.over, "the cluster")
	}
	return g
}

// AlterReplication is the runbook's statement that replicates keyspace ks
// on every node: NetworkTopologyStrategy with each data center's node count
// (perDC; when it is unknown, nodes in a placeholder data center).
func AlterReplication(ks string, perDC map[string]int, nodes int) string {
	want := []string{"'class' : 'NetworkTopologyStrategy'"}
	if len(perDC) > 0 {
		for _, dc := range slices.Sorted(maps.Keys(perDC)) {
			want = append(want, fmt.Sprintf("'%s' : %d", strings.ReplaceAll(dc, "'", "''"), perDC[dc]))
		}
	} else {
		want = append(want, fmt.Sprintf("'<datacenter_name>' : %d", nodes))
	}
	return fmt.Sprintf("ALTER KEYSPACE %s WITH REPLICATION = { %s };", QuoteIdent(ks), strings.Join(want, ", "))
}

// replicationFactor sums the per-DC factors (NetworkTopologyStrategy) or
// reads replication_factor (SimpleStrategy).
func replicationFactor(repl map[string]string) int {
	total := 0
	keys := make([]string, 0, len(repl))
	for k := range repl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "class" {
			continue
		}
		if n, err := strconv.Atoi(repl[k]); err == nil {
			total += n
		}
	}
	return total
}

// RingUpCheck is the restore's check that every node is UN.
func RingUpCheck(env *steps.Env) steps.Step {
	nodes := env.NodesWith(config.RoleCassandra)
	return steps.Step{
		ID: "ring", Title: "Cassandra: every node UN", Kind: steps.KindCheck, Component: Component,
		Why:  "Loading SSTables needs every node that owns data up and normal.",
		Plan: steps.PlanEach(nodes[:1], "nodetool status", false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			out, err := rc.Stdout(ctx, nodes[0], "nodetool status", false)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "ring", Node: nodes[0], Status: steps.CheckFail, Evidence: err.Error(), Remedy: "start Cassandra on every node first"})
				return nil
			}
			ring, err := parse.ParseNodetoolStatus(out)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "ring", Node: nodes[0], Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			for _, n := range ring.Nodes() {
				if n.Up() {
					rc.Check(steps.CheckResult{Check: "ring state", Node: n.Address, Status: steps.CheckPass, Evidence: "UN"})
				} else {
					rc.Check(steps.CheckResult{Check: "ring state", Node: n.Address, Status: steps.CheckFail, Evidence: fmt.Sprintf("%c%c", n.Status, n.State),
						Remedy: "bring the node back (`sudo systemctl start cassandra`) and wait for UN"})
				}
			}
			return nil
		},
	}
}
