package fidelity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"

	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/internal/testports"
	"github.com/hotsnap/hotsnap/lab/thehive"

	"github.com/hotsnap/hotsnap/steps/parse"
)

// samplesDir is the copy of reference/real-outputs/cassandra kept with the
// Cassandra stand-in (its own tests check it is complete).
const samplesDir = "../cassandra/testdata/real-outputs"

// TestMain lets the test binary be the systemctl shim's detached
// supervisor, which re-executes the running binary as "systemctl".
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "systemctl" {
		os.Exit(thehive.SystemctlMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	zerolog.SetGlobalLevel(zerolog.Disabled)
	os.Exit(m.Run())
}

// sample returns a sample's body (without its 3 "# " provenance lines) and
// the header, which states the exit status where the tool exits non-zero.
func sample(t *testing.T, name string) (body, header string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatalf("sample: %v", err)
	}
	parts := strings.SplitN(string(b), "\n", 4)
	if len(parts) < 4 || !strings.HasPrefix(parts[0], "# source:") {
		t.Fatalf("sample %s: no provenance header", name)
	}
	return parts[3], strings.Join(parts[:3], "\n")
}

// shape lists the fields a parser filled: one path per non-zero field,
// slices as path[] with their elements' fields merged, maps as path{}.
// Values are ignored; an error's shape is its type and the sentinels it
// matches.
func shape(v any, err error) map[string]bool {
	out := map[string]bool{}
	if err != nil {
		out["error "+fmt.Sprintf("%T", err)] = true
		for _, s := range []error{parse.ErrJMXDown, parse.ErrSnapshotExists, parse.ErrKeyspaceNotFound} {
			if errors.Is(err, s) {
				out["error is "+s.Error()] = true
			}
		}
		var ne *parse.NodetoolError
		if errors.As(err, &ne) {
			out["error *parse.NodetoolError"] = true
		}
		return out
	}
	walk(reflect.ValueOf(v), "$", out)
	return out
}

func walk(v reflect.Value, path string, out map[string]bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.IsZero() {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			out[path] = true
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				walk(v.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			out[path] = true
			return
		}
		out[path+"[]"] = true
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), path+"[]", out)
		}
	case reflect.Map:
		out[path+"{}"] = true
		for _, k := range v.MapKeys() {
			walk(v.MapIndex(k), path+"{}", out)
		}
	default:
		out[path] = true
	}
}

// run is one invocation's output and exit status.
type run struct {
	stdout, stderr string
	exit           int
}

// both is what a terminal (or hotsnap's combined capture) shows: stdout, then stderr.
func (r run) both() string { return r.stdout + r.stderr }

// ring is an in-process Cassandra stand-in ring on 127.0.0.1..3.
type ring struct {
	nodes    []*cassandra.Node
	cql, ctl int
	stopped  []bool
	started  time.Time
}

var ringIPs = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// freePorts finds two ports free on every ring address.
func freePorts(t *testing.T) (int, int) { return testports.FreePorts(t, ringIPs) }

// startRing starts three nodes holding the seeded JanusGraph keyspace (RF 3).
func startRing(t *testing.T) *ring {
	t.Helper()
	cql, ctl := freePorts(t)
	r := &ring{cql: cql, ctl: ctl, stopped: make([]bool, len(ringIPs)), started: time.Now()}
	base := t.TempDir()
	for i, ip := range ringIPs {
		var peers []string
		for _, p := range ringIPs {
			if p != ip {
				peers = append(peers, p)
			}
		}
		dir := filepath.Join(base, "n"+strconv.Itoa(i+1), "data")
		n, err := cassandra.NewNode(cassandra.Config{DataDir: dir, ListenAddress: ip, Peers: peers, CQLPort: cql, ControlPort: ctl, ClusterName: "thp"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cassandra.Seed(n.Store(), "thehive", len(ringIPs), 1<<20, 42); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		r.nodes = append(r.nodes, n)
	}
	t.Cleanup(func() {
		for i, n := range r.nodes {
			if !r.stopped[i] {
				n.Stop()
			}
		}
	})
	return r
}

func (r *ring) stop(i int) {
	if !r.stopped[i] {
		r.nodes[i].Stop()
		r.stopped[i] = true
	}
}

// nodetool runs the stand-in nodetool against node i.
func (r *ring) nodetool(i int, args ...string) run {
	var o, e bytes.Buffer
	code := cassandra.NodetoolMain(append([]string{"-h", ringIPs[i], "-p", strconv.Itoa(r.ctl)}, args...), &o, &e)
	return run{o.String(), e.String(), code}
}

// cqlsh runs the stand-in cqlsh against node i.
func (r *ring) cqlsh(i int, args ...string) run {
	var o, e bytes.Buffer
	code := cassandra.CqlshMain(append([]string{ringIPs[i], strconv.Itoa(r.cql)}, args...), &o, &e)
	return run{o.String(), e.String(), code}
}

// parser is hotsnap's parser for one kind of output, given the text and
// the exit status.
type parser func(text string, exit int) (any, error)

func ignoreExit(f func(string) (any, error)) parser {
	return func(text string, _ int) (any, error) { return f(text) }
}

var (
	parseStatus = ignoreExit(func(s string) (any, error) { return parse.ParseNodetoolStatus(s) })
	parseErr    = ignoreExit(func(s string) (any, error) { return nil, parse.ParseNodetoolError(s) })
	parseVer    = ignoreExit(func(s string) (any, error) { return parse.ParseNodetoolVersion(s) })
	parseInfo   = ignoreExit(func(s string) (any, error) { return parse.ParseNodetoolInfo(s) })
	parseDesc   = ignoreExit(func(s string) (any, error) { return parse.ParseDescribeCluster(s) })
	parseNet    = ignoreExit(func(s string) (any, error) { return parse.ParseNetstats(s) })
	parseList   = ignoreExit(func(s string) (any, error) { return parse.ParseListSnapshots(s) })
	parseSnap   = ignoreExit(func(s string) (any, error) { return parse.ParseSnapshotOutput(s) })
	parseClear  = ignoreExit(func(s string) (any, error) { return parse.ParseClearSnapshot(s) })
	parseActive = func(s string, exit int) (any, error) { return parse.ParseIsActive(s, exit) }
	parseUnit   = ignoreExit(func(s string) (any, error) { return parse.ParseSystemctlStatus(s) })
	parseTH     = ignoreExit(func(s string) (any, error) { return parse.ParseTheHiveStatus([]byte(s)) })
)

// fcase compares one sample with one live invocation.
type fcase struct {
	sample string
	// exit is the sample's exit status (its header must say so when it is
	// not 0); -1 for a sample that lists several outputs.
	exit  int
	parse parser
	// live names the recorded live invocation.
	live string
	// differs documents expected shape differences: path -> reason.
	differs map[string]string
}

// exitREs find the exit status a sample's header states, most explicit first.
var exitREs = []*regexp.Regexp{
	regexp.MustCompile(`exit status (\d)\b`),
	regexp.MustCompile(`System\.exit\((\d)\)`),
	regexp.MustCompile(`\bexit (\d)[;)]`),
}

// statedExit returns the exit status header states, if it states one.
func statedExit(header string) (int, bool) {
	for _, re := range exitREs {
		if m := re.FindStringSubmatch(header); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n, true
		}
	}
	return 0, false
}

// elsewhere accounts for every sample of the directory that no case above
// compares: no hotsnap parser reads it, or no live counterpart exists; the
// reason says which, and where the stand-in's text is checked against it.
var elsewhere = map[string]string{
	"cql-server-side-describe-keyspace-rows-4.1-DERIVED.jsonl.txt":             "no hotsnap parser; lab/cassandra TestCQLDescribeAuthAndErrors compares the CQL server's DESCRIBE rows with it",
	"cqlsh-describe-keyspace-thehive-janusgraph-4.0-DERIVED.txt":               "no hotsnap parser (the schema is kept as text); the 4.1 form is compared byte for byte by lab/cassandra TestCQLDescribeAuthAndErrors",
	"cqlsh-describe-keyspace-thehive-janusgraph-4.1-DERIVED.txt":               "no hotsnap parser; compared byte for byte with cqlsh DESCRIBE KEYSPACE by lab/cassandra TestCQLDescribeAuthAndErrors",
	"cqlsh-describe-keyspaces-4.x-DERIVED.txt":                                 "no hotsnap parser; lab/cassandra TestColumnizeMatchesCqlshSamples",
	"cqlsh-describe-tables-thehive-4.x-DERIVED.txt":                            "no hotsnap parser; lab/cassandra TestCqlshDescribeTablesAndUse compares the live output byte for byte",
	"cqlsh-select-system_schema.keyspaces-FRAGMENT.txt":                        "no hotsnap parser: hotsnap reads system_schema through the driver, not cqlsh's table",
	"cqlsh-select-system_schema.keyspaces-thehive-docs.txt":                    "no hotsnap parser: hotsnap reads system_schema through the driver, not cqlsh's table",
	"cqlsh-select-system_schema.tables-thehive-gc_grace-thehive-docs.txt":      "no hotsnap parser: hotsnap reads system_schema through the driver, not cqlsh's table",
	"journalctl-u-service-header-and-lines-systemd219.txt":                     "no hotsnap parser (journal lines are shown, not parsed); lab/thehive TestJournalctlFormatAndFilters checks the header shape",
	"nodetool-import-failed-dirs-4.x-DERIVED.txt":                              "no hotsnap parser: restore imports through tar and sstableloader/nodetool import success only (steps' unusedSamples)",
	"nodetool-import-quick-4.x-DERIVED.txt":                                    "no hotsnap parser (steps' unusedSamples)",
	"nodetool-import-success-4.x-DERIVED.txt":                                  "empty body: nothing to parse; lab/cassandra TestNodetoolImportRestoresSnapshot checks the stand-in prints nothing",
	"nodetool-import-unknown-table-4.x-DERIVED.txt":                            "no hotsnap parser; lab/cassandra TestNodetoolSnapshotLifecycle compares the stand-in's text",
	"nodetool-netstats-streaming-4.x-DERIVED.txt":                              "no live counterpart: the stand-in streams in milliseconds, so no netstats run catches a session; formatNetstats prints the sample's Receiving line format",
	"nodetool-refresh-4.x-DERIVED.txt":                                         "no hotsnap parser (steps' unusedSamples)",
	"nodetool-repair-full-4.1-DERIVED.txt":                                     "no hotsnap parser: repair's log is shown, not parsed (steps' unusedSamples)",
	"nodetool-repair-full-apache-docs.txt":                                     "no hotsnap parser: repair's log is shown, not parsed (steps' unusedSamples)",
	"nodetool-repair-rf1-nothing-to-do-4.x-DERIVED.txt":                        "no hotsnap parser; lab/cassandra TestNodetoolSnapshotLifecycle checks the stand-in's line",
	"snapshot-dir-listing-ls-1-4.x-DERIVED.txt":                                "a directory listing (ls), not a tool's output; lab/cassandra TestNodetoolSnapshotLifecycle checks the snapshot folder's files",
	"snapshot-dir-listing-ls-l-apache-docs.txt":                                "a directory listing (ls), not a tool's output",
	"snapshot-dirs-find-apache-docs.txt":                                       "a directory listing (find), not a tool's output",
	"snapshot-dirs-per-table-ls-l-apache-docs.txt":                             "a directory listing (ls), not a tool's output",
	"snapshot-manifest.json-4.0-DERIVED.txt":                                   "hotsnap archives manifest.json as a file and never parses it; lab/cassandra TestNodetoolSnapshotLifecycle checks the stand-in writes the 4.1 form",
	"snapshot-manifest.json-4.1-DERIVED.txt":                                   "hotsnap archives manifest.json as a file and never parses it; lab/cassandra TestNodetoolSnapshotLifecycle checks the stand-in's",
	"snapshot-manifest.json-4.1-with-ttl-DERIVED.txt":                          "hotsnap archives manifest.json as a file and never parses it",
	"snapshot-schema.cql-janusgraph-edgestore-4.0-DERIVED.txt":                 "hotsnap archives schema.cql as a file; the 4.1 form is compared byte for byte by lab/cassandra TestNodetoolSnapshotLifecycle",
	"snapshot-schema.cql-janusgraph-edgestore-4.1-DERIVED.txt":                 "hotsnap archives schema.cql as a file; compared byte for byte by lab/cassandra TestNodetoolSnapshotLifecycle",
	"sstableloader-4.0-exact-format-DERIVED.txt":                               "no hotsnap parser (its exit status decides); lab/cassandra TestBackupRestoreWithSSTableLoader checks the stand-in's progress and summary lines",
	"sstableloader-error-connect-storage-port-4.0-medusa-issue-FRAGMENT.txt":   "no hotsnap parser (its exit status decides)",
	"sstableloader-error-missing-nodes-apache-docs.txt":                        "no hotsnap parser (its exit status decides)",
	"sstableloader-error-stream-failed-4.0.6-medusa-issue-FRAGMENT.txt":        "no hotsnap parser; lab/cassandra TestSSTableLoaderPartialReplicationAndFailures checks the stand-in's failure lines and exit 1",
	"sstableloader-progress-and-summary-apache-docs.txt":                       "no hotsnap parser (its exit status decides); lab/cassandra TestBackupRestoreWithSSTableLoader",
	"system-tables-columns-local-peers_v2-keyspaces-4.0-4.1-DERIVED.txt":       "column lists, read through the driver: TestSystemTablesColumns below compares them with the CQL server's",
	"systemctl-is-active-possible-outputs-DERIVED.txt":                         "one line per possible state; the shim's three (active, failed, inactive) are the is-active cases above",
	"thehive-api-v1-status-openapi-schema-excerpt.yaml.txt":                    "an OpenAPI schema, not a reply (steps' unusedSamples)",
	"thehive4-docker-startup-retry-index-error.txt":                            "no hotsnap parser (log lines are shown); lab/thehive TestAppLogMatchesSamplePatterns",
	"thehive4-startup-error-cassandra-not-ready-NoHostAvailable.txt":           "no hotsnap parser (log lines are shown)",
	"thehive5-application-log-lines-upgrade-strangebee-docs.txt":               "no hotsnap parser (log lines are shown); lab/thehive TestAppLogMatchesSamplePatterns",
	"thehive5-startup-error-cassandra-unreachable-AllNodesFailed-FRAGMENT.txt": "no hotsnap parser (log lines are shown); lab/thehive TestServiceFailures checks the stand-in's AllNodesFailedException lines",
}

// pre4Describe: describecluster before 4.0 printed only the Cluster
// Information block; the sample's header says 4.x adds the sections.
const pre4Describe = "3.11 prints no Stats, Data Centers or Database versions sections; 4.x (and the stand-in) does"

// TestCassandraSamplesAgainstStandIns: every sample a hotsnap parser reads
// (as parse.TestEverySampleIsClaimed lists them) is compared with a live
// stand-in output parsed by the same parser.
func TestCassandraSamplesAgainstStandIns(t *testing.T) {
	r := startRing(t)
	live := map[string]run{}
	rec := func(name string, v run) { live[name] = v }

	// nodetool, ring up.
	rec("status", r.nodetool(0, "status"))
	rec("status ks", r.nodetool(0, "status", "thehive"))
	rec("status system", r.nodetool(0, "status", "system"))
	rec("status nosuchks", r.nodetool(0, "status", "nosuchks"))
	rec("version", r.nodetool(0, "version"))
	// Uptime and the gossip counters are whole seconds: let one pass.
	time.Sleep(time.Until(r.started.Add(1100 * time.Millisecond)))
	rec("info", r.nodetool(0, "info"))
	rec("describecluster", r.nodetool(0, "describecluster"))
	rec("netstats", r.nodetool(0, "netstats"))
	rec("listsnapshots none", r.nodetool(0, "listsnapshots"))
	rec("snapshot -t ks", r.nodetool(0, "snapshot", "-t", "fid1", "thehive"))
	rec("snapshot -t ks again", r.nodetool(0, "snapshot", "-t", "fid1", "thehive"))
	rec("snapshot -kt", r.nodetool(0, "snapshot", "-t", "fid2", "-kt", "thehive.edgestore,thehive.txlog"))
	rec("snapshot -cf", r.nodetool(0, "snapshot", "-t", "fid3", "-cf", "edgestore", "thehive"))
	rec("snapshot --ttl", r.nodetool(0, "snapshot", "--ttl", "1h", "-t", "fid4", "thehive"))
	rec("snapshot", r.nodetool(0, "snapshot"))
	rec("listsnapshots", r.nodetool(0, "listsnapshots"))
	c1, c2, c3 := r.nodetool(0, "clearsnapshot", "-t", "fid1"), r.nodetool(0, "clearsnapshot", "-t", "fid2", "thehive"), r.nodetool(0, "clearsnapshot", "--all")
	rec("clearsnapshot x3", run{c1.stdout + c2.stdout + c3.stdout, c1.stderr + c2.stderr + c3.stderr, max(c1.exit, c2.exit, c3.exit)})
	rec("clearsnapshot", r.nodetool(0, "clearsnapshot"))
	rec("import missing dir", r.nodetool(0, "import", "thehive", "edgestore", "/does/not/exist"))
	// A second user keyspace with another replication factor: ownership
	// without a keyspace is no longer meaningful.
	if v := r.cqlsh(0, "-e", "CREATE KEYSPACE other WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}"); v.exit != 0 {
		t.Fatalf("create keyspace other: %+v", v)
	}
	rec("status 2 keyspaces", r.nodetool(0, "status"))
	// A node down: DN on the others, and nodetool on it fails to connect.
	r.stop(2)
	rec("status DN", r.nodetool(0, "status", "thehive"))
	rec("describecluster DN", r.nodetool(0, "describecluster"))
	rec("jmx down", r.nodetool(2, "status"))

	// systemctl: the shim running units (its supervisor is this binary).
	svc := t.TempDir()
	t.Setenv(thehive.ServiceDirEnv, svc)
	units := []thehive.Unit{
		{Name: "sleeper", Description: "A running service", ExecStart: []string{"/bin/sleep", "300"}, Enabled: true},
		{Name: "broken", Description: "A failing service", ExecStart: []string{"/bin/false"}, Enabled: true},
		{Name: "idle", Description: "A stopped service", ExecStart: []string{"/bin/sleep", "300"}, Enabled: true},
	}
	for _, u := range units {
		if err := thehive.WriteUnit(svc, u); err != nil {
			t.Fatal(err)
		}
	}
	sysctl := func(args ...string) run {
		var o, e bytes.Buffer
		code := thehive.SystemctlMain(args, &o, &e)
		return run{o.String(), e.String(), code}
	}
	t.Cleanup(func() { sysctl("stop", "sleeper") })
	if v := sysctl("start", "sleeper"); v.exit != 0 {
		t.Fatalf("systemctl start sleeper: %+v", v)
	}
	sysctl("start", "broken") // fails: /bin/false exits 1
	deadline := time.Now().Add(10 * time.Second)
	for sysctl("is-active", "broken").stdout != "failed\n" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	rec("is-active active", sysctl("is-active", "sleeper"))
	rec("is-active failed", sysctl("is-active", "broken"))
	rec("is-active inactive", sysctl("is-active", "idle"))
	rec("status active", sysctl("status", "sleeper", "--no-pager"))
	rec("status failed", sysctl("status", "broken", "--no-pager"))
	rec("thehive status", run{stdout: string(thehive.StatusJSON())})

	cases := []fcase{
		{sample: "nodetool-status-1dc-2nodes-UN-after-join-thehive-docs.txt", parse: parseStatus, live: "status ks"},
		{sample: "nodetool-status-1dc-3nodes-UN-4.0-k8ssandra.txt", parse: parseStatus, live: "status ks"},
		{sample: "nodetool-status-1dc-3nodes-UN-apache-docs.txt", parse: parseStatus, live: "status ks"},
		{sample: "nodetool-status-1dc-3nodes-after-removenode-4.0-k8ssandra-redacted.txt", parse: parseStatus, live: "status ks"},
		{sample: "nodetool-status-1dc-3nodes-placeholder-ips-thehive-docs.txt", parse: parseStatus, live: "status ks"},
		{sample: "nodetool-status-2dc-6nodes-UN-3.11-layout-k8ssandra.txt", parse: parseStatus, live: "status ks"},
		{sample: "nodetool-status-2dc-DN-grep-filtered-apache-docs.txt", parse: parseStatus, live: "status DN"},
		{sample: "nodetool-status-4.x-2dc-with-DN-aligned-DERIVED.txt", parse: parseStatus, live: "status DN"},
		{sample: "nodetool-status-4.x-note-nonsystem-keyspaces-DERIVED.txt", parse: parseStatus, live: "status 2 keyspaces"},
		{sample: "nodetool-status-localstrategy-keyspace-note-4.x-DERIVED.txt", parse: parseStatus, live: "status system"},
		{sample: "nodetool-status-note-nonsystem-keyspaces-3.x-layout-scylla-issue.txt", parse: parseStatus, live: "status 2 keyspaces"},
		{sample: "nodetool-status-keyspace-not-found-error-4.x-DERIVED.txt", exit: 1, parse: parseStatus, live: "status nosuchks"},
		{sample: "nodetool-error-jmx-connection-refused-java8-11.txt", exit: 1, parse: parseErr, live: "jmx down"},
		{sample: "nodetool-error-jmx-down-4.x-DERIVED.txt", exit: 1, parse: parseErr, live: "jmx down"},
		{sample: "nodetool-clearsnapshot-missing-tag-error-4.x-DERIVED.txt", exit: 2, parse: parseClear, live: "clearsnapshot"},
		{sample: "nodetool-import-missing-dir-error-4.x-DERIVED.txt", exit: 2, parse: parseErr, live: "import missing dir"},
		{sample: "nodetool-version-4.x-DERIVED.txt", parse: parseVer, live: "version", differs: map[string]string{
			"$.Minor": "the sample is 4.0.x (minor 0, a zero value the shape omits); the stand-in reports 4.1"}},
		{sample: "nodetool-info-4.x-DERIVED.txt", parse: parseInfo, live: "info"},
		{sample: "nodetool-describecluster-4.x-DERIVED.txt", parse: parseDesc, live: "describecluster"},
		{sample: "nodetool-describecluster-3.11-unreachable-bitnami-issue.txt", parse: parseDesc, live: "describecluster DN", differs: map[string]string{
			"$.DatabaseVersions{}[]": pre4Describe,
			"$.Datacenters[]":        pre4Describe,
			"$.Datacenters[].Down":   pre4Describe,
			"$.Datacenters[].Name":   pre4Describe,
			"$.Datacenters[].Nodes":  pre4Describe,
		}},
		{sample: "nodetool-netstats-idle-4.x-DERIVED.txt", parse: parseNet, live: "netstats"},
		{sample: "nodetool-listsnapshots-4.0-apache-docs.txt", parse: parseList, live: "listsnapshots", differs: map[string]string{
			"$.Snapshots[].Created": "4.1 added the Creation time column; the sample is 4.0",
			"$.Snapshots[].Expires": "4.1 added the Expiration time column; the sample is 4.0"}},
		{sample: "nodetool-listsnapshots-4.1-with-creation-expiration-DERIVED.txt", parse: parseList, live: "listsnapshots"},
		{sample: "nodetool-listsnapshots-none-4.x-DERIVED.txt", parse: parseList, live: "listsnapshots none"},
		{sample: "nodetool-snapshot-all-keyspaces-no-tag-4.x-DERIVED.txt", parse: parseSnap, live: "snapshot"},
		{sample: "nodetool-snapshot-kt-list-quoted-ks-apache-docs.txt", parse: parseSnap, live: "snapshot -kt"},
		{sample: "nodetool-snapshot-kt-list-success-apache-docs.txt", parse: parseSnap, live: "snapshot -kt"},
		{sample: "nodetool-snapshot-tag-keyspace-success-4.x-DERIVED.txt", parse: parseSnap, live: "snapshot -t ks"},
		{sample: "nodetool-snapshot-tag-keyspace-success-apache-docs.txt", parse: parseSnap, live: "snapshot -t ks"},
		{sample: "nodetool-snapshot-tag-table-keyspace-success-apache-docs.txt", parse: parseSnap, live: "snapshot -cf"},
		{sample: "nodetool-snapshot-with-ttl-4.1-DERIVED.txt", parse: parseSnap, live: "snapshot --ttl"},
		{sample: "nodetool-snapshot-tag-already-exists-error-4.x-DERIVED.txt", exit: 2, parse: parseSnap, live: "snapshot -t ks again"},
		{sample: "nodetool-clearsnapshot-tag-4.x-DERIVED.txt", parse: parseClear, live: "clearsnapshot x3"},
		{sample: "systemctl-is-active-active-DERIVED.txt", parse: parseActive, live: "is-active active"},
		{sample: "systemctl-is-active-failed-DERIVED.txt", exit: 3, parse: parseActive, live: "is-active failed"},
		{sample: "systemctl-is-active-inactive-DERIVED.txt", exit: 3, parse: parseActive, live: "is-active inactive"},
		{sample: "systemctl-status-active-running-java-service-scylla-jmx.txt", parse: parseUnit, live: "status active"},
		{sample: "systemctl-status-cassandra-failed-exitcode-203.txt", exit: 3, parse: parseUnit, live: "status failed"},
		{sample: "systemctl-status-cassandra-sysv-active-exited-centos7.txt", parse: parseUnit, live: "status active", differs: map[string]string{
			"$.Enabled": "a unit generated from a SysV script has no enablement; the shim's units are native, like TheHive's",
			"$.MainPID": "active (exited): the SysV script has exited, so there is no main PID; a native service keeps running"}},
		{sample: "systemctl-status-thehive-failed-status255-centos.txt", exit: 3, parse: parseUnit, live: "status failed", differs: map[string]string{
			"$.Journal[]": "the sample was pasted without the journal lines systemctl status prints after the header"}},
		{sample: "thehive-api-status-5.1.4-strangebee-docs.json.txt", parse: parseTH, live: "thehive status"},
	}
	compared := map[string]bool{}
	for _, c := range cases {
		if compared[c.sample] || elsewhere[c.sample] != "" {
			t.Errorf("sample %s is compared twice or also listed in elsewhere", c.sample)
		}
		compared[c.sample] = true
	}
	ents, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		if e.Name() == "INDEX.md" {
			continue
		}
		seen[e.Name()] = true
		if !compared[e.Name()] && elsewhere[e.Name()] == "" {
			t.Errorf("sample %s is neither compared with a stand-in nor accounted for in elsewhere", e.Name())
		}
	}
	for name := range elsewhere {
		if !seen[name] {
			t.Errorf("elsewhere names %s, which is not in %s", name, samplesDir)
		}
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.sample, ".txt"), func(t *testing.T) {
			body, header := sample(t, c.sample)
			// Captured samples rarely record the exit status; where the
			// header states one, the case must agree with it.
			if stated, ok := statedExit(header); ok && stated != c.exit {
				t.Errorf("the sample's header states exit %d, the case says %d", stated, c.exit)
			}
			lv, ok := live[c.live]
			if !ok {
				t.Fatalf("no live run %q", c.live)
			}
			if lv.exit != c.exit {
				t.Errorf("live %q exited %d, the sample %d\nstdout %q\nstderr %q", c.live, lv.exit, c.exit, lv.stdout, lv.stderr)
			}
			sv, serr := c.parse(body, c.exit)
			gv, gerr := c.parse(lv.both(), lv.exit)
			want, got := shape(sv, serr), shape(gv, gerr)
			var diffs []string
			for p := range want {
				if !got[p] && c.differs[p] == "" {
					diffs = append(diffs, "missing live: "+p)
				}
			}
			for p := range got {
				if !want[p] && c.differs[p] == "" {
					diffs = append(diffs, "extra live: "+p)
				}
			}
			for p := range c.differs {
				if want[p] == got[p] {
					t.Errorf("documented difference %s is stale: both sides agree", p)
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Errorf("shape of the live %q differs from the sample:\n  %s\nsample error: %v\nlive error: %v\nlive output:\n%s",
					c.live, strings.Join(diffs, "\n  "), serr, gerr, lv.both())
			}
		})
	}
}

// TestSystemTablesColumns: the CQL server's system.local, system.peers_v2,
// system_schema.keyspaces and system_schema.tables answer SELECT * with the
// columns (names and types, as far as the result metadata carries them)
// Cassandra 4.1 declares for them.
func TestSystemTablesColumns(t *testing.T) {
	body, _ := sample(t, "system-tables-columns-local-peers_v2-keyspaces-4.0-4.1-DERIVED.txt")
	want := map[string]map[string]string{}
	in41 := false
	createRE := regexp.MustCompile(`^CREATE TABLE (\S+) \((.*),PRIMARY KEY`)
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "-- ") {
			in41 = strings.HasPrefix(l, "-- 4.1 ")
			continue
		}
		m := createRE.FindStringSubmatch(l)
		if !in41 || m == nil {
			continue
		}
		cols := map[string]string{}
		depth, start := 0, 0
		for i, ch := range m[2] + "," {
			switch ch {
			case '<':
				depth++
			case '>':
				depth--
			case ',':
				if depth == 0 {
					name, typ, _ := strings.Cut(strings.TrimSpace(m[2][start:i]), " ")
					cols[name] = wireType(typ)
					start = i + 1
				}
			}
		}
		want[m[1]] = cols
	}
	if len(want) != 4 {
		t.Fatalf("parsed %d 4.1 tables from the sample, want 4", len(want))
	}
	r := startRing(t)
	cc := gocql.NewCluster(ringIPs[0])
	cc.Port = r.cql
	cc.Timeout, cc.ConnectTimeout = 5*time.Second, 5*time.Second
	s, err := cc.CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tables := make([]string, 0, len(want))
	for tb := range want {
		tables = append(tables, tb)
	}
	sort.Strings(tables)
	for _, tb := range tables {
		t.Run(tb, func(t *testing.T) {
			it := s.Query("SELECT * FROM " + tb).Iter()
			got := map[string]string{}
			for _, c := range it.Columns() {
				got[c.Name] = cqlType(c.TypeInfo)
			}
			if err := it.Close(); err != nil {
				t.Fatal(err)
			}
			var diffs []string
			for name, typ := range want[tb] {
				switch g, ok := got[name]; {
				case !ok:
					diffs = append(diffs, "missing "+name+" "+typ)
				case g != typ:
					diffs = append(diffs, name+" is "+g+", sample "+typ)
				}
			}
			for name, typ := range got {
				if _, ok := want[tb][name]; !ok {
					diffs = append(diffs, "extra "+name+" "+typ)
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Errorf("SELECT * FROM %s: columns differ from 4.1's:\n  %s", tb, strings.Join(diffs, "\n  "))
			}
		})
	}
}

// wireType reduces a CQL column type to what the protocol's result
// metadata can tell: no frozen<>, and varchar is text.
func wireType(typ string) string {
	typ = strings.ReplaceAll(typ, "varchar", "text")
	for strings.Contains(typ, "frozen<") {
		i := strings.Index(typ, "frozen<")
		depth, j := 0, i+len("frozen")
		for ; j < len(typ); j++ {
			if typ[j] == '<' {
				depth++
			} else if typ[j] == '>' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		typ = typ[:i] + typ[i+len("frozen<"):j] + typ[j+1:]
	}
	return typ
}

// cqlType renders a driver type as wireType writes it.
func cqlType(ti gocql.TypeInfo) string {
	switch x := ti.(type) {
	case gocql.CollectionType:
		switch x.Type() {
		case gocql.TypeMap:
			return "map<" + cqlType(x.Key) + ", " + cqlType(x.Elem) + ">"
		case gocql.TypeSet:
			return "set<" + cqlType(x.Elem) + ">"
		case gocql.TypeList:
			return "list<" + cqlType(x.Elem) + ">"
		}
	}
	switch ti.Type() {
	case gocql.TypeVarchar, gocql.TypeText:
		return "text"
	case gocql.TypeInet:
		return "inet"
	case gocql.TypeInt:
		return "int"
	case gocql.TypeUUID:
		return "uuid"
	case gocql.TypeBoolean:
		return "boolean"
	case gocql.TypeDouble:
		return "double"
	case gocql.TypeBlob:
		return "blob"
	}
	return fmt.Sprintf("%v", ti)
}
