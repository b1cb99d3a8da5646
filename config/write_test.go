package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// sameInventory compares two inventories, ignoring Path and Node.Line
// (which depend on the file they were read from).
func sameInventory(t *testing.T, a, b *Inventory) {
	t.Helper()
	ca, cb := *a, *b
	ca.Path, cb.Path = "", ""
	ca.Nodes = append([]Node(nil), a.Nodes...)
	cb.Nodes = append([]Node(nil), b.Nodes...)
	for i := range ca.Nodes {
		ca.Nodes[i].Line = 0
	}
	for i := range cb.Nodes {
		cb.Nodes[i].Line = 0
	}
	if !reflect.DeepEqual(&ca, &cb) {
		t.Errorf("inventories differ:\n%#v\n%#v", ca, cb)
	}
}

func TestWriteRoundTripSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dataDir, "*.yaml"))
	n := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad-") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			orig, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "inventory.yaml")
			if err := Write(out, orig); err != nil {
				t.Fatalf("Write: %v", err)
			}
			back, err := Load(out)
			if err != nil {
				text, _ := os.ReadFile(out)
				t.Fatalf("Load(written): %v\n%s", err, text)
			}
			if back.Path != out {
				t.Errorf("Path = %q", back.Path)
			}
			sameInventory(t, orig, back)
			st, err := os.Stat(out)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, %v", st.Mode(), err)
			}
			// Writing what was read back gives the same bytes.
			first, _ := os.ReadFile(out)
			if err := Write(out, back); err != nil {
				t.Fatal(err)
			}
			second, _ := os.ReadFile(out)
			if string(first) != string(second) {
				t.Errorf("second write differs:\n%s\n---\n%s", first, second)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 1 {
				t.Errorf("temporary files left behind: %v", entries)
			}
			if !strings.HasPrefix(string(first), "# hotsnap inventory") || !strings.Contains(string(first), "# auto (sudo -n") {
				t.Errorf("written file lacks comments:\n%s", first)
			}
		})
	}
	if n < 3 {
		t.Errorf("only %d valid samples", n)
	}
}

func TestWriteConstructedInventory(t *testing.T) {
	// What lab up builds: no defaults filled in, awkward values.
	inv := &Inventory{
		Version: 1, Platform: PlatformTheHive, Cluster: "lab",
		SSH: SSH{User: "root", IdentityFiles: []string{"/tmp/lab key/id_ed25519"}, KnownHosts: "/tmp/lab/known_hosts",
			Sudo: SudoNone, ConnectTimeout: 1500 * time.Millisecond},
		Nodes: []Node{
			{Name: "node1", Host: "10.77.0.11", Roles: []string{RoleCassandra, RoleElasticsearch, RoleTheHive, RoleFiles},
				Paths: map[string]string{PathCassandraData: "/var/lib/cassandra/data", PathAttachments: "/opt/files #1"}},
			{Name: "123", Host: "10.77.0.12", Port: 2222, Roles: []string{RoleCassandra}, IdentityFiles: []string{}},
			{Name: "true", Host: "null", Roles: []string{RoleCassandra}},
		},
		Cassandra:     &Cassandra{Username: "cassandra", Password: Secret{Kind: SecretPrompt}},
		Elasticsearch: &Elasticsearch{Password: Secret{Kind: SecretFile, Ref: "/tmp/lab/es: pw"}},
		Storage: &Storage{Provider: StorageS3, S3: &S3{Endpoint: "http://10.77.0.2:7070", Bucket: "files",
			AccessKey: Secret{Kind: SecretEnv, Ref: "AK"}, SecretKey: Secret{Kind: SecretEnv, Ref: "SK"}}},
		Repository: Repository{URL: "/tmp/lab/backups"},
		StateDir:   "/tmp/lab/state",
	}
	out := filepath.Join(t.TempDir(), "lab.yaml")
	if err := Write(out, inv); err != nil {
		t.Fatal(err)
	}
	back, err := Load(out)
	if err != nil {
		text, _ := os.ReadFile(out)
		t.Fatalf("%v\n%s", err, text)
	}
	if back.SSH.Port != 22 || back.SSH.Keepalive != DefaultKeepalive || back.SSH.ConnectTimeout != 1500*time.Millisecond {
		t.Errorf("ssh = %+v", back.SSH)
	}
	if back.Nodes[1].Name != "123" || back.Nodes[2].Name != "true" || back.Nodes[2].Host != "null" {
		t.Errorf("names that look like other YAML types changed: %+v", back.Nodes)
	}
	if back.Nodes[0].Paths[PathAttachments] != "/opt/files #1" || back.SSH.IdentityFiles[0] != "/tmp/lab key/id_ed25519" {
		t.Errorf("awkward strings changed: %+v %+v", back.Nodes[0].Paths, back.SSH.IdentityFiles)
	}
	if back.Cassandra.Password != (Secret{Kind: SecretPrompt, Ref: "cassandra.password"}) || back.Elasticsearch.Password.Ref != "/tmp/lab/es: pw" {
		t.Errorf("secrets = %#v %#v", back.Cassandra.Password, back.Elasticsearch.Password)
	}
	if back.Cassandra.Keyspace != "thehive" || back.Elasticsearch.Index != "thehive_global" {
		t.Errorf("defaults not written: %+v %+v", back.Cassandra, back.Elasticsearch)
	}
	// The caller's inventory is not modified.
	if inv.SSH.Port != 0 || inv.Cassandra.Keyspace != "" || inv.Cassandra.Password.Ref != "" {
		t.Error("Write modified its argument")
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.yaml")
	tests := []struct {
		name string
		inv  *Inventory
		want string
	}{
		{"nil", nil, "no inventory"},
		{"no nodes", &Inventory{Version: 1, Platform: PlatformAlien4Cloud, Cluster: "a"}, "nodes: is required"},
		{"bad host", &Inventory{Version: 1, Platform: PlatformAlien4Cloud, Cluster: "a",
			Nodes: []Node{{Name: "n", Host: "a;b", Roles: []string{RoleAlien4Cloud}}}}, "not a valid host"},
		{"bad secret kind", &Inventory{Version: 1, Platform: PlatformAlien4Cloud, Cluster: "a",
			Nodes:         []Node{{Name: "n", Host: "h", Roles: []string{RoleAlien4Cloud}}},
			Elasticsearch: &Elasticsearch{Index: "x", Password: Secret{Kind: "inline", Ref: "pw"}}}, "not valid"},
	}
	for _, tt := range tests {
		err := Write(out, tt.inv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written for invalid inventories: %v", entries)
	}
	if err := Write(filepath.Join(dir, "missing-dir", "x.yaml"), load(t, "alien4cloud.yaml")); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestYAMLString(t *testing.T) {
	for _, s := range []string{"plain", "10.0.0.1", "1", "0x1F", "true", "null", "~", "yes", "a: b", "a #b", "-x", "[a]", "{a}",
		"'q'", `"dq"`, "tab\there", "ünï", "env:X", "file:~/p", "http://h:9200", "*alias", "&anchor", "!tag", "%x", "@x", "`x`"} {
		f, err := parseScalar(yamlString(s))
		if err != nil || f != s {
			t.Errorf("yamlString(%q) = %s reads back as %q (%v)", s, yamlString(s), f, err)
		}
	}
}

// parseScalar reads "k: <text>" and returns k's string value.
func parseScalar(text string) (string, error) {
	d := &decoder{at: map[string]pos{}, keyAt: map[string]pos{}, has: map[string]bool{}}
	f, err := parseYAML([]byte("k: " + text + "\n"))
	if err != nil {
		return "", err
	}
	var got string
	d.mapping("", f.Docs[0].Body, []field{{"k", func(p string, v ast.Node) { got, _ = d.str(p, v) }}})
	if len(d.errs) > 0 {
		return "", d.errs[0]
	}
	return got, nil
}
