package thehive

import (
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/steps"
)

func TestRateVersions(t *testing.T) {
	c41 := []string{"4.1.12"}
	tests := []struct {
		name string
		v    VersionSet
		want steps.CheckStatus
		ev   string // substring of the evidence
	}{
		{"5.7.3 ES 9.1", VersionSet{"5.7.3-1", c41, "elasticsearch", "9.1.0", true}, steps.CheckPass, "supported"},
		{"5.5.10 ES 7.11", VersionSet{"5.5.10", c41, "elasticsearch", "7.11.2", false}, steps.CheckPass, "supported"},
		{"5.5 ES 7.10 fails", VersionSet{"5.5.0-1", c41, "elasticsearch", "7.10.2", false}, steps.CheckFail, "needs Elasticsearch 7.11.x–8.x"},
		{"5.5.9 ES 9.0 newer than documented", VersionSet{"5.5.9", c41, "elasticsearch", "9.0.1", false}, steps.CheckWarn, "newer than the 7.11.x–8.x"},
		{"5.4 ES 7.10 ok", VersionSet{"5.4.11", c41, "elasticsearch", "7.10.2", false}, steps.CheckPass, "supported"},
		{"5.2 ES 7.17 ok", VersionSet{"5.2.16-1", []string{"4.0.11"}, "elasticsearch", "7.17.9", true}, steps.CheckPass, "supported"},
		{"5.2 ES 7.1 fails", VersionSet{"5.2.0", c41, "elasticsearch", "7.1.1", false}, steps.CheckFail, "needs Elasticsearch 7.2.x–7.17.x"},
		{"5.2 ES 8 warns", VersionSet{"5.2.16-1", c41, "elasticsearch", "8.17.3", true}, steps.CheckWarn, "newer than"},
		{"OpenSearch with audit in ES warns", VersionSet{"5.6.0", c41, "opensearch", "2.13.0", true}, steps.CheckWarn, "audit log storage is not supported"},
		{"OpenSearch without audit passes", VersionSet{"5.6.0", c41, "opensearch", "2.13.0", false}, steps.CheckPass, "supported"},
		{"Cassandra unknown warns", VersionSet{"5.6.0", nil, "elasticsearch", "8.17.3", false}, steps.CheckWarn, "Cassandra version unknown"},
		{"OpenSearch 5.3 with audit passes", VersionSet{"5.3.2", c41, "opensearch", "2.13.0", true}, steps.CheckPass, "supported"},
		{"OpenSearch with 5.2 fails", VersionSet{"5.2.1", c41, "opensearch", "2.13.0", false}, steps.CheckFail, "does not support OpenSearch"},
		{"unknown TheHive warns", VersionSet{"", c41, "elasticsearch", "8.17.3", true}, steps.CheckWarn, "TheHive version unknown"},
		{"unknown TheHive, ES 6 fails", VersionSet{"", c41, "elasticsearch", "6.8.0", true}, steps.CheckFail, "older than any TheHive 5 supports"},
		{"Cassandra 3.11 fails", VersionSet{"5.7.0", []string{"3.11.4"}, "elasticsearch", "8.17.3", true}, steps.CheckFail, "Cassandra 3.11.4 is outside"},
		{"Cassandra 5.0 fails", VersionSet{"5.7.0", []string{"4.1.3", "5.0.1"}, "elasticsearch", "8.17.3", true}, steps.CheckFail, "Cassandra 5.0.1"},
		{"TheHive 4 fails", VersionSet{"4.1.24", c41, "elasticsearch", "7.17.0", false}, steps.CheckFail, "is not 5.x"},
		{"TheHive newer than table warns", VersionSet{"5.8.0", c41, "elasticsearch", "8.17.3", true}, steps.CheckWarn, "newer than runbook §5"},
		{"ES 7.16 audit warns", VersionSet{"5.4.0", c41, "elasticsearch", "7.16.3", true}, steps.CheckWarn, "audit log storage needs 7.17+"},
		{"unknown ES warns", VersionSet{"5.7.3", c41, "", "", true}, steps.CheckWarn, "Elasticsearch version unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ev, rem := RateVersions(tt.v)
			if st != tt.want || !strings.Contains(ev, tt.ev) {
				t.Errorf("RateVersions(%+v) = %s %q, want %s containing %q", tt.v, st, ev, tt.want, tt.ev)
			}
			if st != steps.CheckPass && st != steps.CheckWarn && rem == "" {
				t.Errorf("failing rating without a remedy: %q", ev)
			}
		})
	}
}
