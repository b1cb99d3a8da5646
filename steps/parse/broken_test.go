package parse

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// truncate cuts a sample after n lines.
func truncate(t *testing.T, name string, n int) string {
	t.Helper()
	ls := strings.SplitAfter(loadSample(t, name), "\n")
	if n > len(ls) {
		t.Fatalf("%s has only %d lines", name, len(ls))
	}
	return strings.Join(ls[:n], "")
}

func TestBrokenInputs(t *testing.T) {
	text := func(f func(string) error) func(string) error { return f }
	status := text(func(s string) error { _, err := ParseNodetoolStatus(s); return err })
	version := text(func(s string) error { _, err := ParseNodetoolVersion(s); return err })
	info := text(func(s string) error { _, err := ParseNodetoolInfo(s); return err })
	describe := text(func(s string) error { _, err := ParseDescribeCluster(s); return err })
	netstats := text(func(s string) error { _, err := ParseNetstats(s); return err })
	list := text(func(s string) error { _, err := ParseListSnapshots(s); return err })
	snap := text(func(s string) error { _, err := ParseSnapshotOutput(s); return err })
	clear := text(func(s string) error { _, err := ParseClearSnapshot(s); return err })
	unit := text(func(s string) error { _, err := ParseSystemctlStatus(s); return err })
	isActive := text(func(s string) error { _, err := ParseIsActive(s, 0); return err })
	df := text(func(s string) error { _, err := ParseDF(s); return err })
	dateNS := text(func(s string) error { _, err := ParseDateNanos(s); return err })
	js := func(f func([]byte) error) func(string) error { return func(s string) error { return f([]byte(s)) } }
	root := js(func(b []byte) error { _, err := ParseESRoot(b); return err })
	health := js(func(b []byte) error { _, err := ParseClusterHealth(b); return err })
	esErr := js(func(b []byte) error { _, err := ParseESError(b); return err })
	snapGet := js(func(b []byte) error { _, err := ParseSnapshotGet(b); return err })
	snapStatus := js(func(b []byte) error { _, err := ParseSnapshotStatus(b); return err })
	create := js(func(b []byte) error { _, err := ParseSnapshotCreate(b); return err })
	restore := js(func(b []byte) error { _, err := ParseRestore(b); return err })
	recovery := js(func(b []byte) error { _, err := ParseRecovery(b); return err })
	catRecovery := js(func(b []byte) error { _, err := ParseCatRecovery(b); return err })
	count := js(func(b []byte) error { _, err := ParseCount(b); return err })
	repos := js(func(b []byte) error { _, err := ParseRepositories(b); return err })
	indices := js(func(b []byte) error { _, err := ParseCatIndices(b); return err })
	ack := js(func(b []byte) error { _, err := ParseAcknowledged(b); return err })
	verify := js(func(b []byte) error { _, err := ParseVerifyRepository(b); return err })
	hive := js(func(b []byte) error { _, err := ParseTheHiveStatus(b); return err })

	const statusSample = "cassandra/nodetool-status-4.x-2dc-with-DN-aligned-DERIVED.txt"
	cases := []struct {
		name  string
		parse func(string) error
		in    string
		want  []string
		is    error
	}{
		{"status empty", status, " \n\n", []string{"nodetool status: empty output"}, ErrEmptyOutput},
		{"status garbage", status, "hello world\n", []string{"nodetool status: line 1: unexpected line", `"hello world"`}, ErrUnexpectedLine},
		{"status cut before header", status, "Datacenter: dc1\n===============\nStatus=Up/Down\n", []string{`data center "dc1" has no column header`}, ErrTruncated},
		{"status header only", status, loadSample(t, statusSample)[:strings.Index(loadSample(t, statusSample), "UN ")], []string{"no node rows"}, ErrTruncated},
		{"status cut mid-row", status, truncate(t, statusSample, 5) + "UN  10.xx.xx.57  7.58 MiB  16\n", []string{"line 6", "1 cells after Load, header has 4", `"UN  10.xx.xx.57  7.58 MiB  16"`}, nil},
		{"status bad state", status, strings.Replace(truncate(t, statusSample, 6), "UN  ", "XN  ", 1), []string{`unknown status/state "XN"`}, nil},
		{"status bad host id", status, strings.Replace(truncate(t, statusSample, 6), "9299e226-", "zzzz", 1), []string{"is not a UUID"}, nil},
		{"status bad load unit", status, strings.Replace(truncate(t, statusSample, 6), "MiB", "MiX", 1), []string{`unknown unit "mix"`}, nil},
		{"status second dc cut", status, truncate(t, statusSample, 11), []string{`data center "dc2" has no column header`}, ErrTruncated},
		{"version empty", version, "", []string{"nodetool version: empty output"}, ErrEmptyOutput},
		{"version garbage", version, "Release: 4.0\n", []string{"line 1: unexpected line", `"Release: 4.0"`}, ErrUnexpectedLine},
		{"version not a version", version, "ReleaseVersion: banana\n", []string{`version "banana" is not MAJOR.MINOR`}, nil},
		{"info truncated", info, truncate(t, "cassandra/nodetool-info-4.x-DERIVED.txt", 5), []string{`nodetool info: no "Data Center" line`}, ErrTruncated},
		{"info garbage", info, "no colon here\n", []string{"nodetool info: line 1: unexpected line"}, ErrUnexpectedLine},
		{"info bad bool", info, "Gossip active          : maybe\n", []string{"line 1", `invalid syntax`, "Gossip active"}, nil},
		{"describe truncated", describe, "Cluster Information:\n\tName: thp\n\tSnitch: x\n", []string{"no schema versions"}, ErrTruncated},
		{"describe garbage", describe, "what\n", []string{"nodetool describecluster: line 1: unexpected line"}, ErrUnexpectedLine},
		{"describe bad schema", describe, "Cluster Information:\n\tName: thp\n\tSchema versions:\n\t\tnot-a-uuid: [10.0.0.1]\n", []string{`schema version "not-a-uuid" is not a UUID`}, nil},
		{"describe empty", describe, "", nil, ErrEmptyOutput},
		{"netstats truncated", netstats, "Mode: NORMAL\n", []string{`neither streams nor "Not sending any streams."`}, ErrTruncated},
		{"netstats garbage", netstats, "garbage\n", []string{"nodetool netstats: line 1: unexpected line"}, ErrUnexpectedLine},
		{"netstats bad pool row", netstats, "Mode: NORMAL\nNot sending any streams.\nPool Name Active Pending Completed Dropped\nLarge messages n/a x y z\n", []string{"line 4", `"Large messages n/a x y z"`}, ErrUnexpectedLine},
		{"listsnapshots truncated", list, truncate(t, "cassandra/nodetool-listsnapshots-4.0-apache-docs.txt", 4), []string{`no "Total TrueDiskSpaceUsed" line`}, ErrTruncated},
		{"listsnapshots header only", list, "Snapshot Details: \n", []string{"no snapshot table"}, ErrTruncated},
		{"listsnapshots garbage", list, "Snapshots:\n", []string{"nodetool listsnapshots: line 1: unexpected line"}, ErrUnexpectedLine},
		{"listsnapshots misaligned", list, "Snapshot Details: \nSnapshot name Keyspace name Column family name True size Size on disk\nabcdefghijklmnopqrstuvwxyz ks t 1 KiB 1 KiB\n", []string{"line 3", "not aligned"}, nil},
		{"listsnapshots empty", list, "", nil, ErrEmptyOutput},
		{"snapshot truncated", snap, truncate(t, "cassandra/nodetool-snapshot-tag-keyspace-success-4.x-DERIVED.txt", 1), []string{`no "Snapshot directory:" line`}, ErrTruncated},
		{"snapshot garbage", snap, "Snapshot taken\n", []string{"nodetool snapshot: line 1: unexpected line"}, ErrUnexpectedLine},
		{"snapshot tag mismatch", snap, "Requested creating snapshot(s) for [thehive] with snapshot name [a] and options {skipFlush=false}\nSnapshot directory: b\n", []string{`snapshot directory "b" differs from requested tag "a"`}, nil},
		{"snapshot bad request", snap, "Requested creating snapshot(s) for thehive\nSnapshot directory: b\n", []string{"request line not understood"}, ErrUnexpectedLine},
		{"snapshot empty", snap, "\n", nil, ErrEmptyOutput},
		{"snapshot usage", snap, "nodetool: Found unexpected parameters: [x]\nSee 'nodetool help' or 'nodetool help <command>'.\n", []string{"nodetool usage error: Found unexpected parameters"}, nil},
		{"clearsnapshot garbage", clear, "cleared\n", []string{"nodetool clearsnapshot: line 1: unexpected line"}, ErrUnexpectedLine},
		{"systemctl status empty", unit, "", nil, ErrEmptyOutput},
		{"systemctl status not found", unit, "Unit nope.service could not be found.\n", []string{"nope.service"}, ErrUnitNotFound},
		{"systemctl status truncated", unit, "● cassandra.service - Apache Cassandra\n   Loaded: loaded (/x; enabled)\n", []string{`no "Active:" line`}, ErrTruncated},
		{"systemctl status garbage", unit, "hello there world\n", []string{"systemctl status: line 1: unexpected line"}, ErrUnexpectedLine},
		{"systemctl status bad active", unit, "● c.service - C\n   Active: sleeping (zzz)\n", []string{"line 2: Active state not understood"}, ErrUnexpectedLine},
		{"is-active empty", isActive, "", []string{"systemctl is-active (exit 0): empty output"}, ErrEmptyOutput},
		{"is-active garbage", isActive, "running\n", []string{"unknown state", `"running"`}, ErrUnexpectedLine},
		{"is-active two units", isActive, "active\nfailed\n", []string{"2 lines, one unit expected"}, ErrUnexpectedLine},
		{"df empty", df, "", nil, ErrEmptyOutput},
		{"df garbage", df, "nothing here\n", []string{"df -PB1: line 1: unexpected line"}, ErrUnexpectedLine},
		{"df wrong block size", df, "Filesystem     1024-blocks    Used Available Capacity Mounted on\n/dev/sda1 100 50 50 50% /\n", []string{"block size is not 1 byte"}, nil},
		{"df truncated", df, "Filesystem     1-blocks    Used Available Capacity Mounted on\n", []string{"no file system line"}, ErrTruncated},
		{"df bad number", df, "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/sda1 1x 2 3 4% /\n", []string{"line 2", `parsing "1x"`}, nil},
		{"date empty", dateNS, "\n", nil, ErrEmptyOutput},
		{"date no %N", dateNS, "1704067200N\n", []string{"does not support %N"}, nil},
		{"date garbage", dateNS, "Mon Jan 1\n", []string{"not a nanosecond timestamp"}, ErrUnexpectedLine},
		{"date short", dateNS, "1704067200\n", []string{"10 digits, want 19"}, nil},
		{"es root empty", root, "", []string{"elasticsearch GET /: empty output"}, ErrEmptyOutput},
		{"es root garbage", root, "<html>", []string{"elasticsearch GET /", "invalid character '<'"}, nil},
		{"es root truncated", root, `{"name":"x","version":{"number"`, []string{"unexpected end of JSON input"}, nil},
		{"es root no version", root, `{"name":"x"}`, []string{"no version.number field"}, nil},
		{"es root plain-text 401", root, "Unauthorized", []string{"invalid character 'U'"}, nil},
		{"health unknown status", health, `{"status":"purple"}`, []string{`unknown status "purple"`}, nil},
		{"health no status", health, `{"cluster_name":"x"}`, []string{"no status field"}, nil},
		{"health empty", health, "", nil, ErrEmptyOutput},
		{"es error not an error", esErr, `{"acknowledged":true}`, []string{`no "error" field`}, ErrNotESError},
		{"es error garbage", esErr, "oops", []string{"elasticsearch error body", "invalid character 'o'"}, nil},
		{"es error empty", esErr, "", nil, ErrEmptyOutput},
		{"snapshot get wrong shape", snapGet, `{"acknowledged":true}`, []string{`neither "snapshots" nor "responses" field`}, nil},
		{"snapshot get nameless", snapGet, `{"snapshots":[{"uuid":"x"}]}`, []string{"snapshot 0 has no name or state"}, nil},
		{"snapshot status wrong shape", snapStatus, `{}`, []string{`no "snapshots" field`}, nil},
		{"snapshot status truncated", snapStatus, `{"snapshots":[{"snapshot":"a",`, []string{"unexpected end of JSON input"}, nil},
		{"create wrong shape", create, `{"acknowledged":true}`, []string{`neither "accepted" nor "snapshot" field`}, nil},
		{"restore wrong shape", restore, `{}`, []string{`neither "accepted" nor "snapshot" field`}, nil},
		{"recovery bad percent", recovery, `{"i":{"shards":[{"id":0,"stage":"DONE","index":{"size":{"percent":"x"},"files":{"percent":"1%"}}}]}}`, []string{`index "i" shard 0 size`, `no % sign`}, nil},
		{"recovery no stage", recovery, `{"i":{"shards":[{"id":0}]}}`, []string{`index "i" shard 0 has no stage`}, nil},
		{"cat recovery no index", catRecovery, `[{"stage":"done"}]`, []string{"row 0 has no index or stage"}, nil},
		{"count missing", count, `{"_shards":{"failed":0}}`, []string{`no "count" field`}, nil},
		{"count partial", count, `{"count":5,"_shards":{"failed":1}}`, []string{"1 shard(s) failed, count 5 is incomplete"}, nil},
		{"repos typeless", repos, `{"r":{"settings":{}}}`, []string{`repository "r" has no type`}, nil},
		{"cat indices bad count", indices, `[{"index":"a","docs.count":"many"}]`, []string{`index "a" docs.count`}, nil},
		{"ack missing", ack, `{"accepted":true}`, []string{`no "acknowledged" field`}, nil},
		{"verify no nodes", verify, `{"nodes":{}}`, []string{"no node verified the repository"}, nil},
		{"thehive no version", hive, `{"config":{}}`, []string{`neither "version" nor "versions.TheHive" field`}, nil},
		{"thehive garbage", hive, `<html>`, []string{"thehive status", "invalid character '<'"}, nil},
		{"thehive empty", hive, ``, nil, ErrEmptyOutput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.parse(c.in)
			if err == nil {
				t.Fatalf("no error for %q", c.in)
			}
			if c.is != nil {
				wantErrIs(t, err, c.is)
			}
			wantErrContains(t, err, c.want...)
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"96.71 KiB", 99031, ""},
		{"0 bytes", 0, ""},
		{"78,8 KiB", 80691, ""}, // comma-decimal JVM locale (cassandra-ccm#704)
		{"4.69 GiB", 5035849155, ""},
		{"1 TiB", 1 << 40, ""},
		{"88.1kb", 90214, ""},
		{"9928b", 9928, ""},
		{"12086", 12086, ""},
		{"", 0, "empty output"},
		{"KiB", 0, "no number"},
		{"1.2.3 KiB", 0, "invalid syntax"},
		{"5 parsecs", 0, `unknown unit "parsecs"`},
	} {
		got, err := ParseSize(c.in)
		if c.err != "" {
			wantErrContains(t, err, c.err)
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// The single-token 4.x layout and locale commas have no real capture; the
// rows below follow Status.java's header for non-vnode clusters.
func TestStatusSingleTokenAndLocale(t *testing.T) {
	in := "Datacenter: dc1\n===============\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n" +
		"--  Address    Load       Owns (effective)  Host ID                               Token                 Rack\n" +
		"UJ  127.0.0.1  78,8 KiB   33,3%             35ea8c9f-b7a2-40a7-b9c5-0ee8b91fdd0e  -9223372036854775808  r1\n"
	rs, err := ParseNodetoolStatus(in)
	if err != nil {
		t.Fatal(err)
	}
	n := rs.Nodes()[0]
	eq(t, "token", n.Token, "-9223372036854775808")
	eq(t, "tokens", n.Tokens, 0)
	eq(t, "owns", n.Owns, 33.3)
	eq(t, "load", n.LoadBytes, int64(80691))
	eq(t, "state", n.State, byte('J'))
	eq(t, "up", n.Up(), false)
}

// The pre-7.4 _status stats shape has no sample in the reference set; the
// field names are those of SnapshotStats.toXContent in ES 6.x/7.0-7.3.
func TestSnapshotStatusOldStatsShape(t *testing.T) {
	body := `{"snapshots":[{"snapshot":"s","repository":"r","state":"STARTED","shards_stats":{"started":1,"total":1},
	"stats":{"number_of_files":10,"processed_files":4,"total_size_in_bytes":1000,"processed_size_in_bytes":400,"start_time_in_millis":1,"time_in_millis":2}}]}`
	ss, err := ParseSnapshotStatus([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "total", ss[0].Stats.Total, SnapshotFileStats{Files: 10, Bytes: 1000})
	eq(t, "processed", ss[0].Stats.Processed, SnapshotFileStats{Files: 4, Bytes: 400})
	eq(t, "running", ss[0].Running(), true)
}

// df has no capture in the reference set; this is GNU coreutils' POSIX
// output for `df -PB1 /var/lib/cassandra`, with a mount point holding a space.
func TestParseDF(t *testing.T) {
	in := "Filesystem        1-blocks        Used   Available Capacity Mounted on\n" +
		"/dev/sda1      105089261568 41254875136 58448580608      42% /var/lib/my data\n"
	du, err := ParseDF(in)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "entries", len(du), 1)
	eq(t, "fs", du[0].Filesystem, "/dev/sda1")
	eq(t, "size", du[0].SizeBytes, int64(105089261568))
	eq(t, "used", du[0].UsedBytes, int64(41254875136))
	eq(t, "avail", du[0].AvailBytes, int64(58448580608))
	eq(t, "mount", du[0].MountPoint, "/var/lib/my data")
}

func TestParseDateNanos(t *testing.T) {
	got, err := ParseDateNanos("1704067200123456789\n")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "time", got, time.Date(2024, 1, 1, 0, 0, 0, 123456789, time.UTC))
}

func TestParseNodetoolErrorNone(t *testing.T) {
	if err := ParseNodetoolError("ReleaseVersion: 4.0.13\n"); err != nil {
		t.Errorf("ParseNodetoolError on a normal reply = %v, want nil", err)
	}
	err := ParseNodetoolError("nodetool: Failed to connect to '10.77.0.2:7199' - ConnectException: 'Connection refused'.\n")
	var je *JMXDownError
	if !errors.As(err, &je) || je.Addr != "10.77.0.2:7199" || je.Message != "Connection refused" {
		t.Errorf("JDK 17 JMX line: %#v", err)
	}
}

func TestParseCatPrimaryStore(t *testing.T) {
	got, err := ParseCatPrimaryStore([]byte(`[{"index":"a","pri.store.size":"10"},{"index":"b","store.size":"2kb"},{"index":"closed","status":"close"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != 10 || got["b"] != 2048 || got["closed"] != 0 || len(got) != 3 {
		t.Errorf("got %v", got)
	}
	if _, err := ParseCatPrimaryStore([]byte(`[{"pri.store.size":"10"}]`)); err == nil {
		t.Error("a row without an index must fail")
	}
	if _, err := ParseCatPrimaryStore([]byte(`{"error":{"type":"index_not_found_exception","reason":"no such index"},"status":404}`)); err == nil {
		t.Error("an error body must fail")
	}
}

func TestParseNodesPathRepo(t *testing.T) {
	// The shapes of GET _nodes/settings: nested (the default) with a list
	// or, from a one-directory elasticsearch.yml, a string; flat_settings;
	// a node without path.repo.
	body := `{"_nodes":{"total":4,"successful":4,"failed":0},"cluster_name":"c","nodes":{
	 "a1":{"name":"es-1","settings":{"path":{"repo":["/mnt/backup/elasticsearch","/mnt/other"],"home":"/usr/share/elasticsearch"}}},
	 "b2":{"name":"es-2","settings":{"path":{"repo":"/mnt/backup"}}},
	 "c3":{"name":"es-3","settings":{"path.repo":["/mnt/backup/elasticsearch"],"path.home":"/x"}},
	 "d4":{"name":"es-4","settings":{"path":{"home":"/usr/share/elasticsearch"}}}}}`
	got, err := ParseNodesPathRepo([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []NodePathRepo{{"es-1", []string{"/mnt/backup/elasticsearch", "/mnt/other"}}, {"es-2", []string{"/mnt/backup"}},
		{"es-3", []string{"/mnt/backup/elasticsearch"}}, {"es-4", nil}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	for _, bad := range []struct{ body, msg string }{
		{``, "empty"},
		{`{"error":{"root_cause":[],"type":"security_exception","reason":"action [cluster:monitor/nodes/info] is unauthorized"},"status":403}`, "unauthorized"},
		{`{"cluster_name":"c"}`, `no "nodes" object`},
		{`{"nodes":{"a":{"name":"x","settings":{"path":{"repo":[1]}}}}}`, "path.repo holds float64"},
		{`{"nodes":{"a":{"name":"x","settings":{"path":{"repo":{"a":1}}}}}}`, "path.repo is map"},
	} {
		if _, err := ParseNodesPathRepo([]byte(bad.body)); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: error %v, want one containing %q", bad.body, err, bad.msg)
		}
	}
	for _, c := range []struct {
		loc   string
		roots []string
		want  bool
	}{
		{"/mnt/backup/elasticsearch", []string{"/mnt/backup"}, true},
		{"/mnt/backup/elasticsearch/", []string{"/mnt/backup/elasticsearch"}, true},
		{"/mnt/backup2", []string{"/mnt/backup"}, false},
		{"/mnt/backup/../etc", []string{"/mnt/backup"}, false},
		{"relative", []string{"/mnt/backup"}, true},
		{"/mnt/backup", nil, false},
	} {
		if got := UnderPathRepo(c.loc, c.roots); got != c.want {
			t.Errorf("UnderPathRepo(%q, %q) = %v", c.loc, c.roots, got)
		}
	}
}
