package elastic

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// nodeVerifyRE is the reason of a repository_verification_exception for a
// node that cannot write the location, with the repository's name, as the
// sample words it.
var nodeVerifyRE = regexp.MustCompile(`^\[(\w+)\] \[[A-Za-z0-9_-]+, 'RemoteTransportException\[\[[\w.-]+\]\[[0-9.]+:9300\]\[internal:admin/repository/verify\]\]; ` +
	`nested: RepositoryVerificationException\[\[(\w+)\] store location \[/[^\]]+\] is not accessible on the node \[\{[\w.-]+\}\{[A-Za-z0-9_-]+\}\{[0-9.]+\}\{[0-9.]+:9300\}[^\]]*\]\]; ` +
	`nested: NotSerializableExceptionWrapper\[access_denied_exception: /\S+\];'\]\]$`)

// TestNodeVerificationError: the error for a node that cannot write the
// repository reads as the captured one (same shape, node named).
func TestNodeVerificationError(t *testing.T) {
	b, err := os.ReadFile("testdata/real-outputs/es-repository-verification-exception-not-accessible-500.json")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "//") {
			lines = append(lines, l)
		}
	}
	var sample struct {
		Error struct{ Reason string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(strings.Join(lines, "\n")), &sample); err != nil {
		t.Fatal(err)
	}
	if !nodeVerifyRE.MatchString(sample.Error.Reason) {
		t.Fatalf("the pattern does not read the sample: %s", sample.Error.Reason)
	}
	e := errVerifyNodes("hotsnap_repository", "/mnt/backup/elasticsearch", []*nodeInfo{{Name: "node1", ID: "aaa"}, {Name: "node2", ID: "Bx9_q"}},
		map[string]string{"node2": "/mnt/backup/elasticsearch/tests-x/data-Bx9_q.dat"})
	m := nodeVerifyRE.FindStringSubmatch(e.reason)
	if e.status != 500 || e.typ != "repository_verification_exception" || m == nil || m[1] != "hotsnap_repository" || !strings.Contains(e.reason, "{node2}") || strings.Contains(e.reason, "node1") {
		t.Errorf("stand-in's error: %d %s %q", e.status, e.typ, e.reason)
	}
}
