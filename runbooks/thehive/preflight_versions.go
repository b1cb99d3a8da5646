package thehive

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/parse"
	"github.com/hotsnap/hotsnap/steps/service"
)

// VersionSet is what preflight learned of the component versions.
type VersionSet struct {
	// TheHive is TheHive's version ("5.2.16-1"); "" when unknown.
	TheHive string
	// Cassandra lists the Cassandra release versions seen ("4.1.12").
	Cassandra []string
	// ESDistribution is "elasticsearch" or "opensearch"; ES its version.
	ESDistribution, ES string
	// AuditInES is true when TheHive's audit logs are stored in the search
	// cluster (elasticsearch.audit_index set).
	AuditInES bool
}

// theHiveRow is one row of runbook §5's supported-versions table.
type theHiveRow struct {
	from, to       [3]int // TheHive range, inclusive
	esMin, esMax   [2]int // Elasticsearch major.minor range, inclusive
	openSearch     bool   // OpenSearch supported
	osNoAuditLogs  bool   // … except for audit log storage
	label, esLabel string
}

// theHiveMatrix is runbook §5, newest first.
var theHiveMatrix = []theHiveRow{
	{[3]int{5, 5, 10}, [3]int{5, 7, 3}, [2]int{7, 11}, [2]int{9, 1}, true, true, "5.5.10–5.7.3", "7.11.x–9.1.x"},
	{[3]int{5, 5, 0}, [3]int{5, 5, 9}, [2]int{7, 11}, [2]int{8, 999}, true, true, "5.5.0–5.5.9", "7.11.x–8.x"},
	{[3]int{5, 3, 0}, [3]int{5, 4, 11}, [2]int{7, 10}, [2]int{8, 999}, true, false, "5.3.0–5.4.11", "7.10.x–8.x"},
	{[3]int{5, 0, 0}, [3]int{5, 2, 16}, [2]int{7, 2}, [2]int{7, 17}, false, false, "5.0.0–5.2.16", "7.2.x–7.17.x"},
}

// parseVersion reads "a.b.c" (a suffix such as "-1" or "-SNAPSHOT" is
// ignored); n is how many numbers were read.
func parseVersion(s string) (v [3]int, n int) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "v"))
	if i := strings.IndexAny(s, "-+ "); i >= 0 {
		s = s[:i]
	}
	for i, p := range strings.SplitN(s, ".", 3) {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			break
		}
		v[i], n = x, i+1
	}
	return v, n
}

func cmpVersion(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// RateVersions rates a TheHive × Cassandra × Elasticsearch/OpenSearch
// combination against runbook §5: fail when a component is older than its
// row allows (or the row says not supported), warn when a version is
// unknown or newer than the table documents, pass otherwise. Evidence
// lists every finding.
func RateVersions(v VersionSet) (steps.CheckStatus, string, string) {
	status := steps.CheckPass
	var ev, remedy []string
	worse := func(s steps.CheckStatus, e, r string) {
		if s == steps.CheckFail || (s == steps.CheckWarn && status == steps.CheckPass) {
			status = s
		}
		ev = append(ev, e)
		if r != "" {
			remedy = append(remedy, r)
		}
	}
	// Cassandra: 4.0.x–4.1.x for every TheHive 5.
	if len(v.Cassandra) == 0 {
		worse(steps.CheckWarn, "Cassandra version unknown (the ring check's `nodetool describecluster` listed none)", "run `nodetool version` on a node and check it against runbook §5 by hand")
	}
	for _, c := range v.Cassandra {
		cv, n := parseVersion(c)
		switch {
		case n < 2:
			worse(steps.CheckWarn, fmt.Sprintf("Cassandra version %q not understood", c), "")
		case cv[0] == 4 && cv[1] <= 1:
		default:
			worse(steps.CheckFail, fmt.Sprintf("Cassandra %s is outside 4.0.x–4.1.x", c), "TheHive 5 supports Cassandra 4.0 and 4.1 (runbook §5)")
		}
	}
	// TheHive's row.
	var row *theHiveRow
	tv, tn := parseVersion(v.TheHive)
	switch {
	case v.TheHive == "" || tn < 2:
		worse(steps.CheckWarn, "TheHive version unknown (GET /api/status)", "start TheHive, or check the versions against runbook §5 by hand")
	case tv[0] != 5:
		worse(steps.CheckFail, fmt.Sprintf("TheHive %s is not 5.x", v.TheHive), "hotsnap follows TheHive 5's runbook")
	default:
		for i := range theHiveMatrix {
			if cmpVersion(tv, theHiveMatrix[i].from) >= 0 {
				row = &theHiveMatrix[i]
				break
			}
		}
		if cmpVersion(tv, theHiveMatrix[0].to) > 0 {
			worse(steps.CheckWarn, fmt.Sprintf("TheHive %s is newer than runbook §5 documents (up to 5.7.3): rated as 5.7.3", v.TheHive), "")
		}
	}
	// The search cluster, against the row (or the widest range if unknown).
	ev0 := len(ev)
	esv, en := parseVersion(v.ES)
	mm := [2]int{esv[0], esv[1]}
	in := func(lo, hi [2]int) int {
		switch {
		case mm[0] < lo[0] || (mm[0] == lo[0] && mm[1] < lo[1]):
			return -1
		case mm[0] > hi[0] || (mm[0] == hi[0] && mm[1] > hi[1]):
			return 1
		}
		return 0
	}
	switch {
	case v.ES == "" || en < 2:
		worse(steps.CheckWarn, "Elasticsearch version unknown", "")
	case v.ESDistribution == "opensearch":
		switch {
		case row == nil:
		case !row.openSearch:
			worse(steps.CheckFail, fmt.Sprintf("OpenSearch %s with TheHive %s: TheHive %s does not support OpenSearch", v.ES, v.TheHive, row.label),
				"use Elasticsearch "+row.esLabel+", or upgrade TheHive to 5.3+")
		case row.osNoAuditLogs && v.AuditInES:
			worse(steps.CheckWarn, fmt.Sprintf("OpenSearch %s with TheHive %s: audit log storage is not supported on OpenSearch", v.ES, v.TheHive),
				"store audit logs in Elasticsearch 7.17+ or leave elasticsearch.audit_index empty")
		}
	case row == nil:
		if in([2]int{7, 2}, [2]int{9, 1}) < 0 {
			worse(steps.CheckFail, fmt.Sprintf("Elasticsearch %s is older than any TheHive 5 supports (7.2)", v.ES), "upgrade Elasticsearch")
		}
	default:
		switch in(row.esMin, row.esMax) {
		case -1:
			worse(steps.CheckFail, fmt.Sprintf("Elasticsearch %s with TheHive %s: %s needs Elasticsearch %s", v.ES, v.TheHive, row.label, row.esLabel),
				"upgrade Elasticsearch to "+row.esLabel+" (runbook §5)")
		case 1:
			worse(steps.CheckWarn, fmt.Sprintf("Elasticsearch %s with TheHive %s: newer than the %s that TheHive %s is documented with", v.ES, v.TheHive, row.esLabel, row.label),
				"upgrade TheHive to a release documented with this Elasticsearch (runbook §5)")
		}
		if v.AuditInES && in([2]int{7, 17}, [2]int{99, 0}) < 0 && in(row.esMin, row.esMax) == 0 {
			worse(steps.CheckWarn, fmt.Sprintf("Elasticsearch %s: audit log storage needs 7.17+", v.ES), "upgrade Elasticsearch to 7.17+ or leave elasticsearch.audit_index empty")
		}
	}
	if len(ev) == ev0 && v.ES != "" {
		ev = append(ev, fmt.Sprintf("%s %s", v.ESDistribution, v.ES))
	}
	if status == steps.CheckPass {
		ev = []string{fmt.Sprintf("TheHive %s · Cassandra %s · %s %s: supported (runbook §5)", v.TheHive, strings.Join(v.Cassandra, ", "), v.ESDistribution, v.ES)}
	}
	return status, strings.Join(ev, "; "), strings.Join(remedy, "; ")
}

// foundVersions is filled by the Cassandra and Elasticsearch checks.
type foundVersions struct {
	mu        sync.Mutex
	cassandra []string
	esDist    string
	es        string
}

func (f *foundVersions) addCassandra(v string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.cassandra, v) {
		f.cassandra = append(f.cassandra, v)
		slices.Sort(f.cassandra)
	}
}

func (f *foundVersions) setES(dist, v string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.esDist, f.es = dist, v
}

// TheHiveStatusURL is where the versions check reads TheHive's version,
// as seen from a thehive node.
const TheHiveStatusURL = "http://127.0.0.1:9000"

// theHive is TheHive's service: the restore stops it, proves it stopped,
// starts it and waits until /api/status answers.
var theHive = service.Unit{Name: "thehive", Label: "TheHive", Port: 9000, URL: TheHiveStatusURL, Health: "/api/status",
	Up: func(body []byte) string {
		if st, err := parse.ParseTheHiveStatus(body); err == nil {
			return "TheHive " + st.Version
		}
		return ""
	}}

// TheHiveVersion reads GET /api/status from a node through its tunnel.
func TheHiveVersion(ctx context.Context, dial remote.DialFunc, node string) (string, error) {
	body, err := theHive.Get(ctx, dial, node)
	if err != nil {
		return "", err
	}
	st, err := parse.ParseTheHiveStatus(body)
	if err != nil {
		return "", fmt.Errorf("%s: %w", node, err)
	}
	return st.Version, nil
}

// versionsStep rates the combination of versions against runbook §5, once
// for the cluster, after the Cassandra and Elasticsearch checks.
func versionsStep(env *steps.Env, found *foundVersions) steps.Step {
	nodes := env.NodesWith(config.RoleTheHive)
	return steps.Step{
		ID: "versions", Title: "TheHive, Cassandra and Elasticsearch versions against the supported matrix", Kind: steps.KindCheck, Component: theHive.Name,
		Why: "Runbook §5: each TheHive release supports given Cassandra and Elasticsearch/OpenSearch versions; a backup of an unsupported mix may not restore.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: nodes[0], Cmd: "GET " + TheHiveStatusURL + "/api/status (through the SSH tunnel); the Cassandra and Elasticsearch versions found above"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			v := VersionSet{AuditInES: env.Inv.Elasticsearch != nil && env.Inv.Elasticsearch.AuditIndex != ""}
			var why string
			for _, n := range nodes {
				tv, err := TheHiveVersion(ctx, env.Dial(n), n)
				if err == nil {
					v.TheHive = tv
					break
				}
				why = err.Error()
			}
			found.mu.Lock()
			v.Cassandra, v.ESDistribution, v.ES = slices.Clone(found.cassandra), found.esDist, found.es
			found.mu.Unlock()
			st, ev, rem := RateVersions(v)
			if v.TheHive == "" && why != "" {
				ev += " (" + why + ")"
			}
			rc.Check(steps.CheckResult{Check: "versions", Status: st, Evidence: ev, Remedy: rem})
			return nil
		},
	}
}

// esSupported rates an Elasticsearch or OpenSearch version for TheHive 5.5+
// (runbook §5): any OpenSearch, Elasticsearch 7.11–9.1; a warning otherwise.
func esSupported(dist, version string) (steps.CheckStatus, string) {
	return esVersionStatus(dist, version), "TheHive 5.5+ supports Elasticsearch 7.11–9.1 and OpenSearch (runbook §5)"
}

func esVersionStatus(dist, version string) steps.CheckStatus {
	if dist == "opensearch" {
		return steps.CheckPass
	}
	major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	minor := 0
	if parts := strings.Split(version, "."); len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	switch {
	case major == 7 && minor >= 11, major == 8, major == 9 && minor <= 1:
		return steps.CheckPass
	}
	return steps.CheckWarn
}
