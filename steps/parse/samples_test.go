package parse

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const sampleDir = "testdata/real-outputs"

// loadSample returns a real-output sample without its provenance header:
// the "# source/version/kind" lines of cassandra/ files, the leading "// "
// lines of elasticsearch/ files.
func loadSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir, name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	ls := strings.SplitAfter(string(b), "\n")
	i := 0
	for i < len(ls) {
		l := ls[i]
		if strings.HasPrefix(name, "cassandra/") && i < 3 && strings.HasPrefix(l, "# ") ||
			strings.HasPrefix(name, "eclecticiq/") && isEIQHeader(l) ||
			strings.HasPrefix(name, "elasticsearch/") && strings.HasPrefix(l, "// ") {
			i++
			continue
		}
		break
	}
	return strings.Join(ls[i:], "")
}

// isEIQHeader says whether l is a line of an eclecticiq/ sample's
// provenance header ("# source:", "# kind:", "# command:" and their
// indented continuations), not of the output ("# Persistence").
func isEIQHeader(l string) bool {
	for _, p := range []string{"# source", "# kind:", "# command:", "#  "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// wantErrIs fails unless err matches target.
func wantErrIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %v", err, target)
	}
}

// wantErrContains fails unless err's text contains every part.
func wantErrContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// unusedSamples lists the copied samples no parser reads, with the reason.
var unusedSamples = map[string]string{
	"cassandra/nodetool-import-failed-dirs-4.x-DERIVED.txt":           "restore uses sstableloader, not nodetool import",
	"cassandra/nodetool-import-quick-4.x-DERIVED.txt":                 "restore uses sstableloader, not nodetool import",
	"cassandra/nodetool-import-success-4.x-DERIVED.txt":               "restore uses sstableloader, not nodetool import (empty body)",
	"cassandra/nodetool-import-unknown-table-4.x-DERIVED.txt":         "restore uses sstableloader, not nodetool import",
	"cassandra/nodetool-refresh-4.x-DERIVED.txt":                      "nodetool refresh is not used by the runbooks",
	"cassandra/nodetool-repair-full-4.1-DERIVED.txt":                  "repair is the operator's job after restore; its log is shown, not parsed",
	"cassandra/nodetool-repair-full-apache-docs.txt":                  "repair is the operator's job after restore; its log is shown, not parsed",
	"cassandra/nodetool-repair-rf1-nothing-to-do-4.x-DERIVED.txt":     "repair is the operator's job after restore; its log is shown, not parsed",
	"cassandra/thehive-api-v1-status-openapi-schema-excerpt.yaml.txt": "OpenAPI schema, not a reply; its field names shaped TheHiveStatus",
	"elasticsearch/es-cat-recovery-snapshot-doc.txt":                  "text _cat output; the product asks for format=json",
	"elasticsearch/es-cat-recovery-v-store-doc.txt":                   "text _cat output; the product asks for format=json",
	"elasticsearch/es7-cat-indices-no-v-7.16.1.txt":                   "text _cat output; the product asks for format=json",
	"elasticsearch/es8-cat-health-v-green-8.17.3.txt":                 "text _cat output; the product uses _cluster/health JSON",
	"elasticsearch/es8-cat-indices-v-8.2.2.txt":                       "text _cat output; the product asks for format=json",
	"elasticsearch/es8-cat-snapshots-v-8.6.1.txt":                     "text _cat output; the product uses GET _snapshot JSON",
	"elasticsearch/es9-cat-count-v-9.5.2.txt":                         "text _cat output; the product uses _count JSON",
}

// TestEverySampleIsClaimed fails on a sample that neither a sample test nor
// unusedSamples accounts for, and on stale entries.
func TestEverySampleIsClaimed(t *testing.T) {
	claimed := map[string]bool{}
	for _, c := range sampleCases {
		if claimed[c.file] {
			t.Errorf("sample %s claimed twice", c.file)
		}
		claimed[c.file] = true
		if _, ok := unusedSamples[c.file]; ok {
			t.Errorf("sample %s is both tested and listed unused", c.file)
		}
	}
	var files []string
	for _, dir := range []string{"cassandra", "elasticsearch", "eclecticiq"} {
		ents, err := os.ReadDir(filepath.Join(sampleDir, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() != "INDEX.md" {
				files = append(files, dir+"/"+e.Name())
			}
		}
	}
	sort.Strings(files)
	if len(files) < 100 {
		t.Fatalf("only %d samples found under %s", len(files), sampleDir)
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f] = true
		if !claimed[f] && unusedSamples[f] == "" {
			t.Errorf("sample %s is neither tested nor listed in unusedSamples", f)
		}
	}
	for f := range claimed {
		if !seen[f] {
			t.Errorf("sampleCases names missing sample %s", f)
		}
	}
	for f := range unusedSamples {
		if !seen[f] {
			t.Errorf("unusedSamples names missing sample %s", f)
		}
	}
}

type sampleCase struct {
	file  string
	check func(t *testing.T, body string)
}

func TestSamples(t *testing.T) {
	for _, c := range sampleCases {
		t.Run(strings.TrimSuffix(filepath.Base(c.file), filepath.Ext(c.file)), func(t *testing.T) {
			c.check(t, loadSample(t, c.file))
		})
	}
}

// statusCheck returns a check of ParseNodetoolStatus: DC names, node
// count, and the first node's fields.
func statusCheck(dcs []string, nodes int, first RingNode, effective bool, note string) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		rs, err := ParseNodetoolStatus(body)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, dc := range rs.Datacenters {
			names = append(names, dc.Name)
		}
		eq(t, "datacenters", strings.Join(names, ","), strings.Join(dcs, ","))
		all := rs.Nodes()
		if len(all) != nodes {
			t.Fatalf("nodes = %d, want %d: %+v", len(all), nodes, all)
		}
		if all[0] != first {
			t.Errorf("first node = %+v\nwant %+v", all[0], first)
		}
		eq(t, "effective ownership", rs.EffectiveOwnership, effective)
		eq(t, "notes", strings.Join(rs.Notes, "|"), note)
	}
}

const noteNonSystem = "Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless"

func esErrCheck(status int, typ, reasonPart string, roots int, causeType string) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		e, err := ParseESError([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "status", e.Status, status)
		eq(t, "type", e.Type, typ)
		if !strings.Contains(e.Reason, reasonPart) {
			t.Errorf("reason %q lacks %q", e.Reason, reasonPart)
		}
		eq(t, "root causes", len(e.RootCauses), roots)
		got := ""
		if e.CausedBy != nil {
			got = e.CausedBy.Type
		}
		eq(t, "caused_by type", got, causeType)
		if !e.Has(typ) {
			t.Errorf("Has(%q) = false", typ)
		}
		// Every other ES parser hands the error back as *ESError.
		_, err = ParseSnapshotGet([]byte(body))
		var as *ESError
		if !errors.As(err, &as) || as.Type != typ {
			t.Errorf("ParseSnapshotGet on an error body: %v, want *ESError %s", err, typ)
		}
	}
}

func ackCheck(t *testing.T, body string) {
	ok, err := ParseAcknowledged([]byte(body))
	if err != nil || !ok {
		t.Fatalf("ParseAcknowledged = %v, %v; want true", ok, err)
	}
}

func healthCheck(name, status string, nodes, unassigned int, pct float64) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		h, err := ParseClusterHealth([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "cluster", h.ClusterName, name)
		eq(t, "status", h.Status, status)
		eq(t, "nodes", h.NumberOfNodes, nodes)
		eq(t, "unassigned", h.UnassignedShards, unassigned)
		eq(t, "percent", h.ActiveShardsPercent, pct)
	}
}

func rootCheck(version, dist string, major int, cluster string) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		i, err := ParseESRoot([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "version", i.Version, version)
		eq(t, "distribution", i.Distribution, dist)
		eq(t, "major", i.Major, major)
		eq(t, "cluster", i.ClusterName, cluster)
		eq(t, "IsOpenSearch", i.IsOpenSearch(), dist == "opensearch")
	}
}

func createWaitCheck(name, version string, indices, shards int) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		r, err := ParseSnapshotCreate([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if r.Snapshot == nil {
			t.Fatal("no snapshot in a wait_for_completion reply")
		}
		s := r.Snapshot
		eq(t, "name", s.Snapshot, name)
		eq(t, "version", s.Version, version)
		eq(t, "indices", len(s.Indices), indices)
		eq(t, "shards", s.Shards.Successful, shards)
		eq(t, "complete", s.Complete(), true)
	}
}

func acceptedCheck(parse func([]byte) (bool, error)) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		ok, err := parse([]byte(body))
		if err != nil || !ok {
			t.Fatalf("accepted = %v, %v; want true", ok, err)
		}
	}
}

func createAccepted(b []byte) (bool, error) {
	r, err := ParseSnapshotCreate(b)
	if err != nil {
		return false, err
	}
	return r.Accepted && r.Snapshot == nil, nil
}

func restoreAccepted(b []byte) (bool, error) {
	r, err := ParseRestore(b)
	if err != nil {
		return false, err
	}
	return r.Accepted && !r.Waited, nil
}

func restoreWaitCheck(snap string, indices []string, shards int) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		r, err := ParseRestore([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "waited", r.Waited, true)
		eq(t, "snapshot", r.Snapshot, snap)
		eq(t, "indices", strings.Join(r.Indices, ","), strings.Join(indices, ","))
		eq(t, "shards", r.Shards.Total, shards)
	}
}

func repoCheck(name, typ, uuid, location string) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		rs, err := ParseRepositories([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 {
			t.Fatalf("repositories = %d, want 1", len(rs))
		}
		eq(t, "name", rs[0].Name, name)
		eq(t, "type", rs[0].Type, typ)
		eq(t, "uuid", rs[0].UUID, uuid)
		eq(t, "location", rs[0].Location, location)
	}
}

func verifyCheck(node string) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		nodes, err := ParseVerifyRepository([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "nodes", strings.Join(nodes, ","), node)
	}
}

// placeholderCheck: doc examples with <version_id> placeholders are not
// JSON; the parser must say so rather than guess.
func placeholderCheck(parse func([]byte) error) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		wantErrContains(t, parse([]byte(body)), "invalid character '<'")
	}
}

func snapshotCheck(targets string, all bool, tag, options string) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		r, err := ParseSnapshotOutput(body)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "targets", strings.Join(r.Targets, "|"), targets)
		eq(t, "all keyspaces", r.AllKeyspaces, all)
		eq(t, "tag", r.Tag, tag)
		eq(t, "directory", r.Directory, tag)
		eq(t, "options", r.Options, options)
	}
}

func isActiveCheck(exit int, want UnitActiveState, running bool) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		r, err := ParseIsActive(body, exit)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "state", r.State, want)
		eq(t, "running", r.Running(), running)
	}
}

func unitCheck(want UnitStatus, journal int) func(*testing.T, string) {
	return func(t *testing.T, body string) {
		us, err := ParseSystemctlStatus(body)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "unit", us.Unit, want.Unit)
		eq(t, "description", us.Description, want.Description)
		eq(t, "load state", us.LoadState, want.LoadState)
		eq(t, "unit file", us.UnitFile, want.UnitFile)
		eq(t, "enabled", us.Enabled, want.Enabled)
		eq(t, "active", us.ActiveState, want.ActiveState)
		eq(t, "sub", us.SubState, want.SubState)
		eq(t, "result", us.Result, want.Result)
		eq(t, "since", us.Since.UTC().Format(time.RFC3339), want.Since.UTC().Format(time.RFC3339))
		eq(t, "main pid", us.MainPID, want.MainPID)
		eq(t, "main exit", us.MainExit, want.MainExit)
		eq(t, "journal lines", len(us.Journal), journal)
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
