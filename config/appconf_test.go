package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const confDir = "../testdata/thehive-conf"

// mapReader serves includes from a map of path → content.
func mapReader(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return []byte(s), nil
	}
}

func readConf(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(confDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestAllTestdataParse parses every stored configuration.
func TestAllTestdataParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(confDir, "*"))
	if err != nil || len(files) < 8 {
		t.Fatalf("expected the thehive-conf samples, got %d files (%v)", len(files), err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".source") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseHOCON(f, data, HOCONOptions{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestReadTheHiveConf(t *testing.T) {
	docker := HOCONOptions{Include: mapReader(map[string]string{
		"/etc/thehive/index.conf":  string(readConf(t, "thehive5-docker-prod1-index.conf.template")),
		"/etc/thehive/secret.conf": string(readConf(t, "thehive5-docker-prod1-secret.conf.template")),
	})}
	base := func(mod func(*TheHiveConf)) TheHiveConf {
		c := TheHiveConf{Keyspace: "thehive", CassandraPort: 9042, ESScheme: "http", ESIndex: "thehive",
			StorageProvider: "localfs", S3Region: "us-east-1", AuditIndex: "thehive-audits"}
		mod(&c)
		return c
	}
	tests := []struct {
		file     string
		opts     HOCONOptions
		want     TheHiveConf
		warnings []string // substrings, in order
	}{
		{"thehive5-docker-prod1-application.conf", docker, base(func(c *TheHiveConf) {
			c.CassandraHosts = []string{"cassandra"}
			c.ESHosts = []string{"elasticsearch"}
			c.ESAuth, c.ESUser = true, "elastic"
			c.StoragePath = "/opt/thp/thehive/files"
		}), nil},
		{"thehive5-docker-prod1-application.conf", HOCONOptions{}, base(func(c *TheHiveConf) {
			c.CassandraHosts = []string{"cassandra"}
			c.StoragePath = "/opt/thp/thehive/files"
		}), []string{`include "/etc/thehive/secret.conf" not found`, `include "/etc/thehive/index.conf" not found`}},
		{"thehive5-docs-cluster-db-index.conf", HOCONOptions{}, base(func(c *TheHiveConf) {
			c.CassandraHosts = []string{"<ip_node_1>", "<ip_node_2>", "<ip_node_3>"}
			c.CassandraAuth, c.CassandraUser = true, "thehive"
			c.ESHosts = []string{"<ip_node>"}
			c.ESAuth, c.ESUser = true, "httpuser"
		}), []string{"storage.localfs.location is not set"}},
		{"thehive5-docs-standalone-db-index-auth.conf", HOCONOptions{}, base(func(c *TheHiveConf) {
			c.CassandraHosts = []string{"127.0.0.1"}
			c.CassandraAuth, c.CassandraUser = true, "thehive"
			c.ESHosts = []string{"127.0.0.1"}
			c.ESAuth, c.ESUser = true, "thehive"
		}), []string{"storage.localfs.location is not set"}},
		{"thehive4-application.sample.conf", HOCONOptions{}, base(func(c *TheHiveConf) {}),
			[]string{`secret.conf" not found`, `backend is "berkeleyje", not cql`, `backend is "lucene", not elasticsearch`, "localfs.location is not set"}},
		{"thehive5-docs-cluster-pekko.conf", HOCONOptions{}, base(func(c *TheHiveConf) {}), []string{"localfs.location is not set"}},
		{"runbook-s3-ssl.conf", HOCONOptions{}, TheHiveConf{
			Keyspace: "thehive_prod", CassandraHosts: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, CassandraPort: 9142,
			CassandraAuth: true, CassandraUser: "thehive", CassandraSSL: true,
			ESHosts: []string{"es1:9200", "es2:9200"}, ESScheme: "https", ESIndex: "hive", ESAuth: true, ESUser: "httpuser",
			StorageProvider: "s3", S3Bucket: "thehive-files", S3Endpoint: "https://s3.example.internal:8333",
			S3Region: "us-east-1", S3PathStyle: true, S3AccessKeySet: true,
			AuditStorage: "elasticsearch", AuditIndex: "hive-audits",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ReadTheHiveConf("/etc/thehive/application.conf", readConf(t, tt.file), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			warnings := got.Warnings
			got.Warnings = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %d matching %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
			}
			for _, w := range warnings {
				for _, secret := range []string{"PASSWORD", "httppassword", "secretexample", "CHANGEME", "AKIAEXAMPLE"} {
					if strings.Contains(w, secret) {
						t.Errorf("warning %q leaks a secret", w)
					}
				}
			}
		})
	}
}

func TestTheHiveConfDetails(t *testing.T) {
	src := `
db.janusgraph.storage.cql.keyspace = [a]
db.janusgraph.storage.port = "nine"
db.janusgraph.storage.hostname = "c1, c2 ,c3"
db.janusgraph.index.search.hostname = ["https://es1:9200/", "es2"]
db.janusgraph.index.search.index-name = ${?INDEX}
storage.provider = hdfs
`
	got, err := ReadTheHiveConf("a.conf", []byte(src), HOCONOptions{Env: map[string]string{"INDEX": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Keyspace != "thehive" || got.CassandraPort != 9042 {
		t.Errorf("bad-typed keys should fall back to defaults: %q %d", got.Keyspace, got.CassandraPort)
	}
	if !reflect.DeepEqual(got.CassandraHosts, []string{"c1", "c2", "c3"}) {
		t.Errorf("hosts %q", got.CassandraHosts)
	}
	if !reflect.DeepEqual(got.ESHosts, []string{"es1:9200", "es2"}) || got.ESScheme != "https" {
		t.Errorf("es hosts %q scheme %q", got.ESHosts, got.ESScheme)
	}
	if got.ESIndex != "prod" || got.ESGlobalIndex() != "prod_global" {
		t.Errorf("index %q / %q", got.ESIndex, got.ESGlobalIndex())
	}
	want := []string{"cql.keyspace is a list, expected a string", "port is not an integer", `storage.provider is "hdfs"`}
	if len(got.Warnings) != len(want) {
		t.Fatalf("warnings %q", got.Warnings)
	}
	for i, w := range want {
		if !strings.Contains(got.Warnings[i], w) {
			t.Errorf("warning %d = %q, want %q", i, got.Warnings[i], w)
		}
	}
	def := &TheHiveConf{ESIndex: DefaultESIndexName}
	if def.ESGlobalIndex() != "thehive_global" || DefaultESIndex != def.ESGlobalIndex() {
		t.Errorf("default global index %q, inventory default %q", def.ESGlobalIndex(), DefaultESIndex)
	}
}
