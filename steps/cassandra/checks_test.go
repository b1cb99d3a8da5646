package cassandra

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
	"github.com/hotsnap/hotsnap/steps/stepstest"
)

// threeNodes is a three-node Cassandra inventory.
func threeNodes() *config.Inventory {
	inv := &config.Inventory{Cluster: "prod", Cassandra: &config.Cassandra{Keyspace: "thehive", DataDir: "/var/lib/cassandra/data"}}
	for i, h := range []string{"10.0.0.11", "10.0.0.12", "10.0.0.13"} {
		inv.Nodes = append(inv.Nodes, config.Node{Name: fmt.Sprintf("node%d", i+1), Host: h, Roles: []string{config.RoleCassandra}})
	}
	return inv
}

func TestToolsCheck(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", tarVersionCmd).Stdout("tar (GNU tar) 1.34\n")
	f.Expect("node2", tarVersionCmd).Stdout("tar (GNU tar) 1.35\n")
	f.Expect("node3", tarVersionCmd).Stderr("sh: 1: tar: not found\n") // head exits 0 with nothing
	f.Expect("node1", sstableloaderCmd).Exit(1)
	env := &steps.Env{Inv: threeNodes()}
	rs := stepstest.Checks(t, f, ToolsCheck(env))

	if r := stepstest.Find(t, rs, "node2", "tar"); r.Status != steps.CheckPass || r.Evidence != "tar (GNU tar) 1.35" {
		t.Errorf("tar on node2: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node3", "tar"); r.Status != steps.CheckFail || !strings.Contains(r.Remedy, "install tar") {
		t.Errorf("tar missing on node3: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node1", "sstableloader"); r.Status != steps.CheckWarn || !strings.Contains(r.Remedy, "changed topology") {
		t.Errorf("sstableloader missing on the restore node: %+v", r)
	}
	for _, r := range rs {
		if r.Check == "sstableloader" && r.Node != "node1" {
			t.Errorf("sstableloader looked for on %s, not only on the restore node", r.Node)
		}
	}
	for _, c := range f.Calls() {
		if strings.HasPrefix(c.Cmd, "nodetool") {
			t.Errorf("the tools check ran %q on %s: a JVM start on a real node, and the ring check reads every version", c.Cmd, c.Node)
		}
	}
}

// TestRingCheckVersions: every node's Cassandra version comes from the
// Database versions of the one `nodetool describecluster` (the real
// sample's format, its addresses made the inventory's): each node's rated,
// two versions fail, a node up in the ring but not listed is a warning,
// and Cassandra 3.11's describecluster (no such section) says the versions
// were not checked.
func TestRingCheckVersions(t *testing.T) {
	inv := threeNodes()
	for i, h := range []string{"10.244.1.5", "10.244.2.4", "10.244.3.4"} { // the status sample's addresses
		inv.Nodes[i].Host = h
	}
	env := &steps.Env{Inv: inv}
	status := realOutput(t, "nodetool-status-1dc-3nodes-UN-4.0-k8ssandra.txt")
	describe := strings.NewReplacer("10.0.0.1", "10.244.1.5", "10.0.0.2", "10.244.2.4", "10.0.0.3", "10.244.3.4").Replace(realOutput(t, "nodetool-describecluster-4.x-DERIVED.txt"))
	netstats := realOutput(t, "nodetool-netstats-idle-4.x-DERIVED.txt")
	ring := func(describe string) []steps.CheckResult {
		f := remotetest.New(t)
		f.Expect("node1", "nodetool status thehive").Stdout(status)
		f.Expect("node1", "nodetool describecluster").Stdout(describe)
		f.Expect("node1", "nodetool netstats").Stdout(netstats)
		var seen []string
		rs := stepstest.Checks(t, f, RingCheck(env, Checks{Seen: func(v string) { seen = append(seen, v) },
			Supported: func(v string) (steps.CheckStatus, string) {
				if v != "4.0.13" {
					return steps.CheckWarn, "not 4.0.13"
				}
				return steps.CheckPass, ""
			}}))
		if !strings.Contains(describe, "Database versions") {
			return rs
		}
		if len(seen) == 0 {
			t.Errorf("no version handed to Seen: %+v", rs)
		}
		return rs
	}

	rs := ring(describe)
	for _, n := range []string{"node1", "node2", "node3"} {
		if r := stepstest.Find(t, rs, n, "cassandra version"); r.Status != steps.CheckPass || !strings.Contains(r.Evidence, "Cassandra 4.0.13 (Database versions in `nodetool describecluster` seen from node1)") {
			t.Errorf("%s: %+v", n, r)
		}
	}
	for _, r := range rs {
		if r.Check == "one cassandra version" {
			t.Errorf("one version flagged: %+v", r)
		}
	}

	// node3 upgraded (4.1.5), node2 not listed.
	mixed := strings.Replace(describe, "\t4.0.13: [10.244.1.5:7000, 10.244.2.4:7000, 10.244.3.4:7000]", "\t4.0.13: [10.244.1.5:7000]\n\n\t4.1.5: [10.244.3.4:7000]", 1)
	if mixed == describe {
		t.Fatal("the sample's Database versions line moved")
	}
	rs = ring(mixed)
	if r := stepstest.Find(t, rs, "", "one cassandra version"); r.Status != steps.CheckFail || r.Evidence != "nodes run different versions: map[4.0.13:[node1] 4.1.5:[node3]]" {
		t.Errorf("mixed versions: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node3", "cassandra version"); r.Status != steps.CheckWarn || r.Remedy != "not 4.0.13" {
		t.Errorf("node3's version rated: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node2", "cassandra version"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "up in `nodetool status` but not under Database versions") || !strings.Contains(r.Remedy, "nodetool version") {
		t.Errorf("node2 not listed: %+v", r)
	}

	// A node gossip knows no release of, listed under "" (Cassandra's
	// Gossiper): a warning naming it, not a second version.
	rs = ring(strings.Replace(describe, "\t4.0.13: [10.244.1.5:7000, 10.244.2.4:7000, 10.244.3.4:7000]", "\t4.0.13: [10.244.1.5:7000, 10.244.2.4:7000]\n\n\t: [10.244.3.4:7000]", 1))
	if r := stepstest.Find(t, rs, "node3", "cassandra version"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "no release known to gossip") || !strings.Contains(r.Remedy, "`nodetool version` on node3") {
		t.Errorf("node3's release unknown: %+v", r)
	}
	for _, r := range rs {
		if r.Check == "one cassandra version" {
			t.Errorf("an unknown release counted as a second version: %+v", r)
		}
	}

	// Cassandra 3.11: no Database versions.
	old := describe[:strings.Index(describe, "\nStats for all nodes:")]
	rs = ring(old)
	if r := stepstest.Find(t, rs, "node1", "cassandra version"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "not checked") || !strings.Contains(r.Remedy, "`nodetool version` on every node") {
		t.Errorf("3.11's describecluster: %+v", r)
	}
}

func TestRateReplication(t *testing.T) {
	nts := func(kv ...string) map[string]string {
		m := map[string]string{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	simple := func(rf string) map[string]string {
		return map[string]string{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": rf}
	}
	cases := []struct {
		name     string
		repl     map[string]string
		perDC    map[string]int
		nodes    int
		status   steps.CheckStatus
		evidence string
		remedy   string
	}{
		{"simple RF 3 on 3", simple("3"), map[string]int{"dc1": 3}, 3, steps.CheckPass, "SimpleStrategy, RF 3 on 3 nodes", ""},
		{"simple RF 1 on 3", simple("1"), map[string]int{"dc1": 3}, 3, steps.CheckFail, "RF 1 on 3 nodes",
			"ALTER KEYSPACE thehive WITH REPLICATION = { 'class' : 'NetworkTopologyStrategy', 'dc1' : 3 };"},
		{"simple RF 1, DCs unknown", simple("1"), nil, 3, steps.CheckFail, "RF 1 on 3 nodes", "'<datacenter_name>' : 3 }"},
		{"two DCs full", nts("dc1", "3", "dc2", "2"), map[string]int{"dc1": 3, "dc2": 2}, 5, steps.CheckPass, "dc1: RF 3 on 3 nodes, dc2: RF 2 on 2 nodes", ""},
		{"two DCs, one short", nts("dc1", "3", "dc2", "1"), map[string]int{"dc1": 3, "dc2": 2}, 5, steps.CheckFail, "dc2: RF 1 on 2 nodes",
			"'dc1' : 3, 'dc2' : 2 };`, then `nodetool repair -full thehive` on every node"},
		{"a DC without replicas", nts("dc1", "3"), map[string]int{"dc1": 3, "dc2": 3}, 6, steps.CheckFail, "dc2: RF 0 on 3 nodes", "'dc2' : 3"},
		{"simple RF 3 on 1 (restored into a smaller cluster)", simple("3"), map[string]int{"datacenter1": 1}, 1, steps.CheckFail, "SimpleStrategy, RF 3 on 1 nodes",
			"more replicas than nodes in the cluster (a restore into a smaller cluster keeps the backup's RF): QUORUM reads and writes (TheHive's) cannot reach a majority of the replicas and fail; replicate 100% of the data on every node (runbook, \"Replicate Cassandra data to all nodes\"): in cqlsh `ALTER KEYSPACE thehive WITH REPLICATION = { 'class' : 'NetworkTopologyStrategy', 'datacenter1' : 1 };`"},
		{"two DCs, one over", nts("dc1", "3", "dc2", "3"), map[string]int{"dc1": 3, "dc2": 2}, 5, steps.CheckFail, "dc2: RF 3 on 2 nodes", "more replicas than nodes in dc2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rateReplication("thehive", c.repl, c.perDC, c.nodes)
			if r.Status != c.status || !strings.Contains(r.Evidence, c.evidence) || !strings.Contains(r.Remedy, c.remedy) {
				t.Fatalf("got %+v\nwant %s, evidence ~%q, remedy ~%q", r, c.status, c.evidence, c.remedy)
			}
			if c.status == steps.CheckFail && !strings.Contains(r.Remedy, "replicate 100% of the data") {
				t.Errorf("remedy does not quote the runbook: %q", r.Remedy)
			}
		})
	}
}

// spaceStore is a repository with a fixed amount of free space.

// TestLoginRemedy: a refused password, a login the server requires and
// none given, and anything else each get their own remedy; the remedy names
// the password's reference, never its value.
func TestLoginRemedy(t *testing.T) {
	c := &config.Cassandra{Port: 9042, Username: "admin", Password: config.Secret{Kind: config.SecretEnv, Ref: "CASS_PW"}}
	refused := fmt.Errorf("cql 10.0.0.11:9042: gocql: unable to create session: unable to discover protocol version: Provided username admin and/or password are incorrect")
	if got := loginRemedy(c, refused); !strings.HasPrefix(got, "Cassandra refused the login of admin: the password of cassandra.password (env:CASS_PW) is not admin's") {
		t.Errorf("refused: %q", got)
	}
	required := fmt.Errorf(`cql 10.0.0.11:9042: gocql: unable to create session: authentication required (using "org.apache.cassandra.auth.PasswordAuthenticator")`)
	if got := loginRemedy(&config.Cassandra{Port: 9042}, required); !strings.HasPrefix(got, "Cassandra requires a login (PasswordAuthenticator): set cassandra.username and cassandra.password") {
		t.Errorf("required: %q", got)
	}
	if got := loginRemedy(c, fmt.Errorf("connection refused")); !strings.Contains(got, "port 9042 listens") {
		t.Errorf("unreachable: %q", got)
	}
}

func TestRateDisk(t *testing.T) {
	const mib = 1 << 20
	df := func(avail int64) parse.DiskUsage {
		return parse.DiskUsage{Filesystem: "/dev/sdb1", SizeBytes: 100 << 30, AvailBytes: avail, MountPoint: "/var/lib/cassandra"}
	}
	cases := []struct {
		name          string
		avail, used   int64
		status        steps.CheckStatus
		evidence, rem string
	}{
		{"full", 0, 20 * mib, steps.CheckFail, "0 B free on /var/lib/cassandra (/dev/sdb1), below the 512.0 MiB a snapshot needs", "No space left on device"},
		{"just below the floor", SnapshotFloor - 1, 20 * mib, steps.CheckFail, "below the 512.0 MiB", "until at least 532.0 MiB is free"},
		{"above the floor, below floor + keyspace", SnapshotFloor + 10*mib, 20 * mib, steps.CheckWarn, "less than 532.0 MiB", "compaction during the backup fills the disk"},
		{"comfortable", SnapshotFloor + 20*mib, 20 * mib, steps.CheckPass, "532.0 MiB free on /var/lib/cassandra (/dev/sdb1); keyspace thehive uses 20.0 MiB", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rateDisk("thehive", df(c.avail), c.used)
			if r.Status != c.status || !strings.Contains(r.Evidence, c.evidence) || !strings.Contains(r.Remedy, c.rem) {
				t.Fatalf("got %+v\nwant %s, evidence ~%q, remedy ~%q", r, c.status, c.evidence, c.rem)
			}
			if c.status != steps.CheckPass && !strings.Contains(r.Remedy, "nodetool listsnapshots") {
				t.Errorf("remedy does not say how to make room: %q", r.Remedy)
			}
		})
	}
}

func TestRingRemedyByState(t *testing.T) {
	for st, want := range map[string]string{"DN": "sudo systemctl start cassandra", "UJ": "joining (bootstrapping)", "UL": "leaving (decommissioning)", "UM": "moving to new tokens"} {
		if got := ringRemedy(parse.RingNode{Status: st[0], State: st[1]}); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", st, got, want)
		}
	}
}

// TestRateSchema: one schema version passes; two fail, naming the node
// with the minority's version by its inventory name, on the sample's shape.
func TestRateSchema(t *testing.T) {
	text := "Cluster Information:\n\tName: lab\n\tSnitch: org.apache.cassandra.locator.SimpleSnitch\n\tDynamicEndPointSnitch: enabled\n\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\tSchema versions:\n" +
		"\t\tea63e099-37c5-3d7b-9ace-32f4c833653d: [10.0.0.11, 10.0.0.12]\n\n\t\t59adb24e-f3cd-3e02-97f0-5b395827453f: [10.0.0.13]\n\n"
	d, err := parse.ParseDescribeCluster(text)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"10.0.0.11": "node1", "10.0.0.12": "node2", "10.0.0.13": "node3"}
	r := rateSchema(d, "node1", names)
	if r.Status != steps.CheckFail || !strings.Contains(r.Evidence, "2 schema versions") || !strings.Contains(r.Evidence, "59adb24e-f3cd-3e02-97f0-5b395827453f on 10.0.0.13") ||
		!strings.Contains(r.Remedy, "has not reached node3") || !strings.Contains(r.Remedy, "nodetool resetlocalschema") || strings.Contains(r.Remedy, "node2") {
		t.Errorf("disagreement: %+v", r)
	}
	d.SchemaVersions = d.SchemaVersions[:1]
	if r := rateSchema(d, "node1", names); r.Status != steps.CheckPass || !strings.Contains(r.Evidence, "on 2 nodes") {
		t.Errorf("agreement: %+v", r)
	}
}

// realOutput is a sample of reference/real-outputs (steps/parse's copy),
// without its "# " header.
func realOutput(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "parse", "testdata", "real-outputs", "cassandra", name))
	if err != nil {
		t.Fatal(err)
	}
	var body []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(l, "# ") || len(body) > 0 {
			body = append(body, l)
		}
	}
	return strings.Join(body, "")
}

// The ring check's schema and streams checks never vanish: a describecluster
// that fails, or a netstats it could not run, is a warning that says so. On
// the real samples: `nodetool status` of three UN nodes (k8ssandra's docs),
// `describecluster` (Cassandra 4.x's format), nodetool's refusal when JMX
// does not answer.
func TestRingCheckWarnsWhatItCouldNotCheck(t *testing.T) {
	inv := threeNodes()
	for i, h := range []string{"10.244.1.5", "10.244.2.4", "10.244.3.4"} { // the sample's addresses
		inv.Nodes[i].Host = h
	}
	env := &steps.Env{Inv: inv}
	status := realOutput(t, "nodetool-status-1dc-3nodes-UN-4.0-k8ssandra.txt")
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive").Stdout(status)
	f.Expect("node1", "nodetool describecluster").Exit(1).Stderr(realOutput(t, "nodetool-error-jmx-connection-refused-java8-11.txt"))
	f.Expect("node1", "nodetool netstats").Exit(1).Stderr(realOutput(t, "nodetool-error-jmx-connection-refused-java8-11.txt"))
	rs := stepstest.Checks(t, f, RingCheck(env, Checks{}))
	if r := stepstest.Find(t, rs, "node2", "ring state"); r.Status != steps.CheckPass {
		t.Errorf("node2 UN: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node1", "schema agreement"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "not checked: node1: run `nodetool describecluster`: exit status 1: nodetool: Failed to connect to '127.0.0.1:7199'") {
		t.Errorf("describecluster failed: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node1", "cassandra version"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "not checked: node1: run `nodetool describecluster`") {
		t.Errorf("describecluster failed, versions unread: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node1", "streams"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "not checked") {
		t.Errorf("netstats refused: %+v", r)
	}

	// Both answer, netstats with something it cannot read.
	f = remotetest.New(t)
	f.Expect("node1", "nodetool status thehive").Stdout(status)
	f.Expect("node1", "nodetool describecluster").Stdout(realOutput(t, "nodetool-describecluster-4.x-DERIVED.txt"))
	f.Expect("node1", "nodetool netstats").Stdout("what\n")
	rs = stepstest.Checks(t, f, RingCheck(env, Checks{}))
	if r := stepstest.Find(t, rs, "node1", "schema agreement"); r.Status != steps.CheckPass {
		t.Errorf("one schema version: %+v", r)
	}
	if r := stepstest.Find(t, rs, "node1", "streams"); r.Status != steps.CheckWarn || !strings.Contains(r.Evidence, "not checked: nodetool netstats") {
		t.Errorf("netstats unreadable: %+v", r)
	}
}

// The disk check hands each node's keyspace size to a step beside it (the
// backup's estimate), which measures nothing itself: one du per node.
func TestDiskCheckSharesTheKeyspaceSize(t *testing.T) {
	// `df -PB1` as coreutils 9.1 (Debian 12) prints it.
	const dfOut = "Filesystem         1-blocks        Used   Available Capacity Mounted on\n/dev/vdb       270553174016 39016636416 58776657920      40% /var/lib/cassandra\n"
	f := remotetest.New(t)
	f.Expect("node1", "df -PB1 /var/lib/cassandra/data").Stdout(dfOut)
	f.Expect("node2", "df -PB1 /var/lib/cassandra/data").Stdout(dfOut)
	f.Expect("node3", "df -PB1 /var/lib/cassandra/data").Exit(1).Stderr("df: /var/lib/cassandra/data: No such file or directory\n")
	f.Expect("node1", "du -sb /var/lib/cassandra/data/thehive").Stdout("100\t/var/lib/cassandra/data/thehive\n")
	f.Expect("node2", "du -sb /var/lib/cassandra/data/thehive").Stdout("200\t/var/lib/cassandra/data/thehive\n")
	env := &steps.Env{Inv: threeNodes()}
	du := steps.NewSizes()
	var sizes map[string]int64
	var errs map[string]error
	disk := DiskCheck(env, du)
	disk.Concurrent = true
	rb := steps.Runbook{Name: "backup", Steps: []steps.Step{disk, {ID: "measure", Title: "measure", Kind: steps.KindCheck, Concurrent: true,
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			sizes, errs = KeyspaceSizes(ctx, rc, env, []string{"node1", "node2", "node3"}, du)
			return nil
		}}}}
	if err := (&steps.Engine{Exec: f, Reporter: steps.NopReporter{}}).Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	if sizes["node1"] != 100 || sizes["node2"] != 200 || len(sizes) != 2 {
		t.Errorf("sizes %v", sizes)
	}
	// node3's df failed, so its du did not run: the estimate says why.
	if err := errs["node3"]; err == nil || !strings.Contains(err.Error(), "No such file or directory") {
		t.Errorf("node3: %v", err)
	}
	du3 := 0
	for _, c := range f.Calls() {
		if strings.HasPrefix(c.Cmd, "du ") {
			du3++
		}
	}
	if du3 != 2 {
		t.Errorf("du ran %d times, want 2 (node1 and node2, once each)", du3)
	}

}

// TestRingCheckRunsItsNodetoolsAtOnce: on a real node each nodetool is a
// JVM start; the ring check's three do not wait for one another.
func TestRingCheckRunsItsNodetoolsAtOnce(t *testing.T) {
	inv := threeNodes()
	for i, h := range []string{"10.244.1.5", "10.244.2.4", "10.244.3.4"} { // the sample's addresses
		inv.Nodes[i].Host = h
	}
	const slow = 300 * time.Millisecond
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive").Delay(slow).Stdout(realOutput(t, "nodetool-status-1dc-3nodes-UN-4.0-k8ssandra.txt"))
	f.Expect("node1", "nodetool describecluster").Delay(slow).Stdout(realOutput(t, "nodetool-describecluster-4.x-DERIVED.txt"))
	f.Expect("node1", "nodetool netstats").Delay(slow).Stdout(realOutput(t, "nodetool-netstats-idle-4.x-DERIVED.txt"))
	start := time.Now()
	rs := stepstest.Checks(t, f, RingCheck(&steps.Env{Inv: inv}, Checks{}))
	if took := time.Since(start); took >= 2*slow {
		t.Errorf("the ring check took %s for three nodetools of %s each: one after another", took, slow)
	}
	if r := stepstest.Find(t, rs, "node1", "streams"); r.Status != steps.CheckPass {
		t.Errorf("streams: %+v", r)
	}
}
