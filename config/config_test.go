package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const dataDir = "../testdata/inventory"

func load(t *testing.T, name string) *Inventory {
	t.Helper()
	inv, err := Load(filepath.Join(dataDir, name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return inv
}

func TestLoadClusterExample(t *testing.T) {
	inv := load(t, "thehive-cluster.yaml")
	if inv.Path != filepath.Join(dataDir, "thehive-cluster.yaml") {
		t.Errorf("Path = %q", inv.Path)
	}
	if inv.Version != 1 || inv.Platform != PlatformTheHive || inv.Cluster != "prod-thehive" {
		t.Errorf("header = %d %q %q", inv.Version, inv.Platform, inv.Cluster)
	}
	wantSSH := SSH{
		User: "ops", Port: 22, IdentityFiles: []string{"~/.ssh/id_ed25519"},
		KnownHosts: "~/.ssh/known_hosts", ConfigFile: "~/.ssh/config",
		ConnectTimeout: 10 * time.Second, Keepalive: 15 * time.Second, Sudo: SudoAuto,
		SudoPassword: Secret{Kind: SecretEnv, Ref: "HOTSNAP_SUDO_PASSWORD"},
	}
	if !equalSSH(inv.SSH, wantSSH) {
		t.Errorf("SSH = %+v, want %+v", inv.SSH, wantSSH)
	}
	if got := inv.NodeNames(); !slices.Equal(got, []string{"node1", "node2", "node3"}) {
		t.Fatalf("nodes = %v", got)
	}
	n3 := inv.Nodes[2]
	if n3.Host != "10.0.0.13" || n3.Port != 2222 || n3.User != "admin" || n3.Line != 28 {
		t.Errorf("node3 = %+v", n3)
	}
	if n3.Paths[PathCassandraData] != "/data/cassandra/data" || len(n3.Paths) != 1 {
		t.Errorf("node3 paths = %v", n3.Paths)
	}
	if inv.Nodes[0].Line != 22 || inv.Nodes[1].Line != 25 {
		t.Errorf("node lines = %d, %d; want 22, 25", inv.Nodes[0].Line, inv.Nodes[1].Line)
	}
	c := inv.Cassandra
	if c == nil || *c != (Cassandra{Keyspace: "thehive", Port: 9042, DataDir: "/var/lib/cassandra/data",
		Username: "admin", Password: Secret{SecretEnv, "CASSANDRA_ADMIN_PASSWORD"}, AppRole: "thehive"}) {
		t.Errorf("cassandra = %+v", c)
	}
	e := inv.Elasticsearch
	if e == nil || *e != (Elasticsearch{URL: "http://127.0.0.1:9200", Index: "thehive_global",
		AuditIndex: "thehive-audits", Username: "elastic", Password: Secret{SecretFile, "~/.config/hotsnap/es-password"},
		Repository: "thehive_repository", RepositoryPath: "/mnt/backup/elasticsearch"}) {
		t.Errorf("elasticsearch = %+v", e)
	}
	if s := inv.Storage; s == nil || s.Provider != StorageLocalFS || s.Path != "/opt/thp/thehive/files" ||
		s.Owner != "thehive:thehive" || s.S3 != nil {
		t.Errorf("storage = %+v", s)
	}
	if inv.Repository.URL != "/var/backups/hotsnap" || inv.StateDir != "" {
		t.Errorf("repository = %q, state_dir = %q", inv.Repository.URL, inv.StateDir)
	}
}

func equalSSH(a, b SSH) bool {
	return a.User == b.User && a.Port == b.Port && slices.Equal(a.IdentityFiles, b.IdentityFiles) &&
		a.KnownHosts == b.KnownHosts && a.ConfigFile == b.ConfigFile && a.ConnectTimeout == b.ConnectTimeout &&
		a.Keepalive == b.Keepalive && a.Sudo == b.Sudo && a.SudoPassword == b.SudoPassword
}

func TestLoadStandaloneDefaults(t *testing.T) {
	inv := load(t, "thehive-standalone.yaml")
	if inv.SSH.Port != 22 || inv.SSH.ConnectTimeout != 10*time.Second || inv.SSH.Keepalive != 15*time.Second || inv.SSH.Sudo != SudoNone {
		t.Errorf("ssh defaults = %+v", inv.SSH)
	}
	if c := inv.Cassandra; c.Keyspace != "thehive" || c.Port != 9042 || c.DataDir != "/var/lib/cassandra/data" {
		t.Errorf("cassandra defaults = %+v", c)
	}
	if c := inv.Cassandra; c.Password != (Secret{Kind: SecretPrompt, Ref: "cassandra.password"}) {
		t.Errorf("cassandra password = %#v", c.Password)
	}
	e := inv.Elasticsearch
	if e.URL != DefaultESURL || e.Index != "thehive_global" || e.AuditIndex != "thehive-audits" || e.Repository != "thehive_repository" {
		t.Errorf("es defaults = %+v", e)
	}
	if inv.Repository.URL != "~/.local/share/hotsnap/backups" {
		t.Errorf("repository default = %q", inv.Repository.URL)
	}
	if inv.SSH.User != "root" || inv.EffectivePort(inv.Nodes[0]) != 22 || inv.EffectiveUser(inv.Nodes[0]) != "root" {
		t.Errorf("effective = %q %d", inv.EffectiveUser(inv.Nodes[0]), inv.EffectivePort(inv.Nodes[0]))
	}
}

func TestLoadS3(t *testing.T) {
	inv := load(t, "thehive-s3.yaml")
	s := inv.Storage
	if s == nil || s.Provider != StorageS3 || s.S3 == nil {
		t.Fatalf("storage = %+v", s)
	}
	want := S3{Endpoint: "http://minio.soc.internal:9000", Bucket: "thehive-attachments", Region: "us-east-1",
		PathStyle: true, AccessKey: Secret{SecretEnv, "MINIO_ACCESS_KEY"}, SecretKey: Secret{SecretEnv, "MINIO_SECRET_KEY"}}
	if *s.S3 != want {
		t.Errorf("s3 = %+v", *s.S3)
	}
	if inv.SSH.Keepalive != time.Minute || inv.SSH.ConnectTimeout != 5*time.Second || inv.SSH.Port != 2200 {
		t.Errorf("ssh = %+v", inv.SSH)
	}
	if inv.Repository.URL != "s3://soc-backups/thehive/prod" || inv.StateDir != "~/.local/state/hotsnap" {
		t.Errorf("repository/state = %q %q", inv.Repository.URL, inv.StateDir)
	}
	search, ok := inv.Node("search1")
	if !ok || search.Host != "fe80::1%eth0" {
		t.Fatalf("search1 = %+v %v", search, ok)
	}
	if got := inv.EffectiveIdentityFiles(search); !slices.Equal(got, []string{"~/.ssh/search_key"}) {
		t.Errorf("search1 identity files = %v", got)
	}
	db1, _ := inv.Node("db1")
	if got := inv.EffectiveIdentityFiles(db1); !slices.Equal(got, []string{"~/.ssh/id_ed25519", "/etc/hotsnap/id_rsa"}) {
		t.Errorf("db1 identity files = %v", got)
	}
	if inv.EffectivePort(db1) != 2200 || inv.EffectivePort(search) != 22 {
		t.Errorf("ports = %d %d", inv.EffectivePort(db1), inv.EffectivePort(search))
	}
	if inv.EffectiveUser(db1) != "backup" || inv.EffectiveUser(search) != "admin" {
		t.Errorf("users = %q %q", inv.EffectiveUser(db1), inv.EffectiveUser(search))
	}
}

func TestLoadAlien4CloudDefaults(t *testing.T) {
	inv := load(t, "alien4cloud.yaml")
	if inv.Cassandra != nil || inv.Storage != nil {
		t.Errorf("absent sections must stay nil: %+v %+v", inv.Cassandra, inv.Storage)
	}
	e := inv.Elasticsearch
	if e.Index != "" || e.AuditIndex != "" || e.Repository != "a4c_repository" || e.URL != DefaultESURL {
		t.Errorf("es = %+v", e)
	}
	a := inv.Alien4Cloud
	if a == nil || a.URL != DefaultA4CURL || a.Username != "admin" || a.Password.String() != "env:A4C_ADMIN_PASSWORD" ||
		a.Config != DefaultA4CConfig || a.Service != "a4c" || a.DataDir != "" || len(a.ExtraFiles) != 1 {
		t.Errorf("alien4cloud = %+v", a)
	}
	if inv.SSH.User != "" || inv.EffectiveUser(inv.Nodes[0]) != "" {
		t.Errorf("user must stay empty to let ssh_config decide, got %q", inv.SSH.User)
	}
}

func TestLoadEclecticIQ(t *testing.T) {
	inv := load(t, "eclecticiq.yaml")
	e := inv.EclecticIQ
	if e == nil || e.Redis.DB != 3 || e.Redis.Password.String() != "env:EIQ_REDIS_PASSWORD" || e.Postgres.Port != 5432 || e.Postgres.OSUser != "postgres" {
		t.Fatalf("eclecticiq = %+v", e)
	}
	if len(e.ConfigPaths) != 95 || !slices.Contains(e.ConfigPaths, "/media/pgsql/11/data/postgresql.conf") ||
		!slices.Contains(e.ConfigPaths, "/etc/systemd/system/postgresql-11.service.d/eclecticiq-postgres.conf") {
		t.Errorf("config paths: %d, %v", len(e.ConfigPaths), e.ConfigPaths[len(e.ConfigPaths)-8:])
	}
	if e.DrainTimeout != 5*time.Minute || len(e.IndexPatterns) != 7 || len(e.Exclude) != 2 {
		t.Errorf("eclecticiq = %+v", e)
	}
	// Written and read back, it is the same.
	out, err := Parse("w.yaml", render(normalized(inv)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.EclecticIQ, e) {
		t.Errorf("written and read back:\n%+v\n%+v", out.EclecticIQ, e)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte("# "+strings.Repeat("x", MaxInventorySize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	es := Errors(err)
	if len(es) != 1 || !strings.Contains(es[0].Msg, "larger than") {
		t.Errorf("err = %v", err)
	}
}

type wantErr struct {
	line, col int
	msg       string
}

func TestBadInventories(t *testing.T) {
	tests := []struct {
		file string
		want []wantErr
	}{
		{"bad-syntax.yaml", []wantErr{{4, 10, "YAML syntax error: mapping value is not allowed"}}},
		{"bad-empty.yaml", []wantErr{{1, 1, "the inventory is empty"}}},
		{"bad-duplicate-key.yaml", []wantErr{{5, 1, `duplicate key "cluster" (first defined at line 4, column 1)`}}},
		{"bad-multidoc.yaml", []wantErr{{9, 1, "only one YAML document"}}},
		{"bad-alien4cloud.yaml", []wantErr{
			{7, 3, "nodes: platform alien4cloud needs a node with role alien4cloud"},
			{9, 10, "elasticsearch.index: is not used for platform alien4cloud"},
			{10, 1, "alien4cloud.password: is required for platform alien4cloud"},
			{11, 8, "alien4cloud.url:"},
			{12, 12, `alien4cloud.service: "a4c; reboot" is not a systemd unit name`},
			{13, 11, "alien4cloud.config:"},
			{14, 35, "alien4cloud.extra_files[1]:"},
			{15, 3, `alien4cloud.maintenance: unknown key "maintenance"`},
		}},
		{"bad-unknown-key.yaml", []wantErr{
			{9, 5, "nodes[1]: host is required"},
			{10, 5, `nodes[1].hots: unknown key "hots" (did you mean "host"?)`},
			{14, 1, `backups: unknown key "backups" (allowed: version, platform, cluster`},
		}},
		{"bad-duplicate-node.yaml", []wantErr{{9, 11, `nodes[1].name: node "node1" is already defined at line 6 (nodes[0])`}}},
		{"bad-port.yaml", []wantErr{
			{6, 9, "ssh.port: 0 is out of range: must be between 1 and 65535"},
			{10, 11, "nodes[0].port: 65536 is out of range"},
			{13, 9, "cassandra.port: must be a whole number between 1 and 65535, not a string"},
		}},
		{"bad-inline-secret.yaml", []wantErr{
			{6, 18, "ssh.sudo_password: secrets are never stored inline: use env:NAME, file:PATH or prompt"},
			{12, 13, "cassandra.password: secrets are never stored inline"},
			{14, 13, "elasticsearch.password: secrets are never stored inline"},
			{20, 17, "storage.s3.access_key: env: needs an environment variable name"},
			{21, 17, "storage.s3.secret_key: file: needs an absolute path"},
		}},
		{"bad-keyspace.yaml", []wantErr{
			{10, 13, `cassandra.keyspace: "thehive; DROP KEYSPACE system" is not a valid CQL identifier`},
			{11, 13, `cassandra.app_role: "select" is a reserved CQL keyword`},
		}},
		{"bad-index.yaml", []wantErr{
			{11, 8, "elasticsearch.url: URL must start with http:// or https://"},
			{12, 10, `elasticsearch.index: index name "TheHive_Global" must be lowercase`},
			{13, 16, `elasticsearch.audit_index: index name "_audits" must not start with -, _ or +`},
			{14, 15, `elasticsearch.repository: "my repo" is not a valid repository name`},
		}},
		{"bad-missing-nodes.yaml", []wantErr{{2, 1, "nodes: is required: list at least one node"}}},
		{"bad-empty-nodes.yaml", []wantErr{{5, 8, "nodes: is empty"}}},
		{"bad-wrong-types.yaml", []wantErr{
			{2, 10, "version: must be the number 1, not a string"},
			{3, 11, "platform: must be a string, not a list"},
			{5, 6, "ssh: must be a mapping of keys (key: value), not a string"},
			{7, 5, "nodes[0]: must be a mapping with name, host and roles, not a string"},
			{10, 12, "nodes[1].roles: must be a list"},
			{11, 21, "nodes[1].identity_files: must be a list"},
			{15, 10, "elasticsearch.index: must be a string, not true/false (quote it"},
			{21, 17, "storage.s3.path_style: must be true or false, not a string"},
		}},
		{"bad-host.yaml", []wantErr{
			{7, 11, `nodes[0].host: "a;rm -rf /" is not a valid host`},
			{10, 11, `nodes[1].host: "-oProxyCommand=id" is not a valid host`},
			{11, 11, `nodes[1].user: "$(id)" is not a valid user name`},
		}},
		{"bad-version.yaml", []wantErr{
			{2, 1, "cluster: is required"},
			{2, 1, "platform: is required: one of thehive, eclecticiq, alien4cloud"},
			{2, 10, "version: 2 is not supported: this hotsnap reads version 1"},
		}},
		{"bad-eclecticiq.yaml", []wantErr{
			{7, 3, "nodes: platform eclecticiq needs a node with role postgresql"},
			{7, 3, "nodes: platform eclecticiq needs a node with role redis"},
			{14, 11, "eclecticiq.postgres.port: 70000 is out of range"},
			{15, 11, `eclecticiq.postgres.unit: "postgresql-*" is not a systemd unit name`},
			{17, 9, "eclecticiq.redis.db: 16 is out of range"},
			{18, 15, "eclecticiq.redis.password: secrets are never stored inline"},
			{19, 20, `eclecticiq.index_patterns[0]: "_all" is not an index pattern hotsnap takes`},
			{20, 17, "eclecticiq.config_paths: is empty"},
			{21, 18, "eclecticiq.drain_timeout: 2h is out of range"},
		}},
		{"bad-platform-rules.yaml", []wantErr{
			{4, 11, "platform: thehive needs a cassandra section"},
			{4, 11, "platform: thehive needs an elasticsearch section"},
			{7, 9, "ssh.sudo: password needs ssh.sudo_password"},
			{9, 3, "nodes: platform thehive needs at least one node with role cassandra"},
		}},
		{"bad-storage.yaml", []wantErr{
			{13, 9, `storage.path: "opt/thp/thehive/files" must be an absolute path`},
			{14, 10, `storage.owner: "thehive thehive" is not a valid owner`},
			{16, 8, "repository.url: not a repository location: use a local absolute path, ~/path, ssh://host/path or s3://bucket/prefix"},
		}},
		{"bad-s3-missing.yaml", []wantErr{
			{13, 3, "storage.s3.bucket: is required for provider s3"},
			{13, 3, "storage.s3.endpoint: is required for provider s3"},
		}},
		{"bad-anchor.yaml", []wantErr{
			{4, 10, "cluster: YAML tags (!!type) are not supported"},
			{6, 3, "nodes: platform thehive needs at least one node with role cassandra"},
			{8, 12, "nodes[0].roles: anchors and aliases (& and *) are not supported"},
			{11, 12, "nodes[1].roles: anchors and aliases"},
		}},
		{"bad-durations.yaml", []wantErr{
			{6, 20, "ssh.connect_timeout: a duration needs a unit, like 10s"},
			{7, 14, "ssh.keepalive: 2h is out of range: must be between 1ms and 1h"},
			{8, 9, `ssh.sudo: "sometimes" is not one of auto, nopasswd, password, none`},
			{12, 26, `nodes[0].roles[1]: "cassandar" is not a role`},
			{14, 7, `nodes[0].paths.atachments: unknown key "atachments" (did you mean "attachments"?)`},
			{15, 25, `nodes[0].paths.alien4cloud_data: "../data" must be an absolute path`},
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dataDir, tt.file)
			inv, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", inv)
			}
			if inv != nil {
				t.Errorf("Load returned an inventory with an error")
			}
			got := Errors(err)
			if len(got) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i >= len(got) {
					break
				}
				g := got[i]
				if g.File != path || g.Line != w.line || g.Col != w.col || !strings.Contains(g.Msg, w.msg) {
					t.Errorf("error %d = %v\nwant %s:%d:%d: …%s…", i, g, path, w.line, w.col, w.msg)
				}
				prefix := path + ":" + strconv.Itoa(w.line) + ":" + strconv.Itoa(w.col) + ": "
				if !strings.HasPrefix(g.Error(), prefix) {
					t.Errorf("Error() = %q, want prefix %q", g.Error(), prefix)
				}
			}
		})
	}
	// Every bad-*.yaml sample must have an entry above.
	files, _ := filepath.Glob(filepath.Join(dataDir, "bad-*.yaml"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no test case", f)
		}
	}
}

func TestErrorsAreSortedAndJoined(t *testing.T) {
	_, err := Load(filepath.Join(dataDir, "bad-wrong-types.yaml"))
	if _, single := err.(*Error); single {
		t.Fatal("several problems must come as a joined list")
	}
	lines := strings.Split(err.Error(), "\n")
	es := Errors(err)
	if len(lines) != len(es) {
		t.Fatalf("%d lines for %d errors", len(lines), len(es))
	}
	for i := 1; i < len(es); i++ {
		a, b := es[i-1], es[i]
		if a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
			t.Errorf("not sorted: %v before %v", a, b)
		}
	}
	_, err = Load(filepath.Join(dataDir, "bad-duplicate-node.yaml"))
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 9 {
		t.Errorf("a single problem must be an *Error, got %T %v", err, err)
	}
}

func TestErrorWithoutFile(t *testing.T) {
	e := &Error{Line: 3, Col: 4, Msg: "bad"}
	if e.Error() != "3:4: bad" {
		t.Errorf("Error() = %q", e.Error())
	}
	if Errors(nil) != nil {
		t.Error("Errors(nil) must be nil")
	}
	if got := Errors(errors.New("plain")); len(got) != 0 {
		t.Errorf("Errors(plain) = %v", got)
	}
}

// base is a small valid inventory that the cases below modify.
const base = `version: 1
platform: eclecticiq
cluster: eiq
nodes:
  - name: n1
    host: h1
    roles: [postgresql, redis, elasticsearch, platform]
`

func TestParseCases(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // substring of the error; "" means valid
		line int
	}{
		{"valid base", base, "", 0},
		{"flow node", "version: 1\nplatform: alien4cloud\ncluster: a\nnodes: [{name: n, host: h, roles: [alien4cloud]}]\nelasticsearch: {url: \"http://127.0.0.1:9200\"}\nalien4cloud: {password: prompt}\n", "", 0},
		{"byte order mark", "\xef\xbb\xbf" + base, "", 0},
		{"alien4cloud section elsewhere", base + "alien4cloud:\n  service: a4c\n", "alien4cloud: is only used with platform alien4cloud (this inventory is eclecticiq)", 8},
		{"float port", base + "ssh:\n  port: 22.0\n", "ssh.port: must be a whole number between 1 and 65535, not a decimal number", 9},
		{"crlf line endings", strings.ReplaceAll(base, "\n", "\r\n"), "", 0},
		{"numeric node name", strings.Replace(base, "name: n1", "name: 1", 1), "", 0},
		{"explicit empty string", base + "state_dir: \"\"\n", "state_dir: is empty", 8},
		{"null value is unset", base + "state_dir:\n", "", 0},
		{"relative state_dir", base + "state_dir: state\n", "must be an absolute path or start with ~/", 8},
		{"top-level list", "- a\n- b\n", "the inventory: must be a mapping", 1},
		{"scalar document", "hello\n", "must be a mapping", 1},
		{"tab indentation", "version: 1\n\tplatform: x\n", "YAML syntax error", 2},
		{"invalid utf8", base + "cluster2: \xff\n", "not valid UTF-8", 8},
		{"nul byte", "version: 1\x00\n", "NUL byte", 1},
		{"merge key", base + "ssh:\n  <<: {port: 22}\n", "merge keys (<<) are not supported", 9},
		{"unknown platform", strings.Replace(base, "eclecticiq", "eclectic", 1), `did you mean "eclecticiq"?`, 2},
		{"cluster with slash", strings.Replace(base, "cluster: eiq", "cluster: a/b", 1), "not a valid cluster name", 3},
		{"cluster dotdot", strings.Replace(base, "cluster: eiq", `cluster: ".."`, 1), "not a valid cluster name", 3},
		{"node name too long", strings.Replace(base, "name: n1", "name: "+strings.Repeat("a", 64), 1), "not a valid node name", 5},
		{"duplicate role", strings.Replace(base, "[postgresql,", "[redis, postgresql,", 1), `"redis" is already listed as nodes[0].roles[0]`, 7},
		{"no roles key", strings.Replace(base, "    roles: [postgresql, redis, elasticsearch, platform]\n", "", 1), "nodes[0]: roles is required", 5},
		{"no name", strings.Replace(base, "  - name: n1\n    host: h1", "  - host: h1", 1), "nodes[0]: name is required", 5},
		{"sudo password unused", base + "ssh:\n  sudo: none\n  sudo_password: env:X\n", "is not used with sudo: none", 10},
		{"sudo password ok", base + "ssh:\n  sudo: password\n  sudo_password: prompt\n", "", 0},
		{"es index required elsewhere", base + "elasticsearch:\n  url: http://10.1.1.1:9200\n", "elasticsearch.index: is required for platform eclecticiq", 8},
		{"es url port", base + "elasticsearch:\n  index: eiq\n  url: http://h:99999\n", "must be a number between 1 and 65535", 10},
		{"es url query", base + "elasticsearch:\n  index: eiq\n  url: http://h:9200/?pretty\n", "must not have a query", 10},
		{"es url credentials not echoed", base + "elasticsearch:\n  index: eiq\n  url: http://u:TopSecret@h:9200\n", "credentials do not belong in the URL", 10},
		{"ssh repository", base + "repository:\n  url: ssh://bk@vault:2222/srv/b\n", "", 0},
		{"ssh repository without path", base + "repository:\n  url: ssh://vault\n", "needs a path", 9},
		{"ssh repository bad host", base + "repository:\n  url: ssh://-oProxyCommand=x/srv\n", "repository URL host", 9},
		{"s3 repository bad bucket", base + "repository:\n  url: s3://B/x\n", "repository URL bucket", 9},
		{"relative repository", base + "repository:\n  url: backups\n", "not a repository location", 9},
		{"home repository", base + "repository:\n  url: ~/b\n", "", 0},
		{"localfs without path", base + "storage:\n  provider: localfs\n", "storage.path: provider localfs needs path", 9},
		{"localfs with s3", base + "storage:\n  provider: localfs\n  path: /f\n  s3:\n    bucket: abc\n", "storage.s3: is only used with provider: s3", 11},
		{"storage without provider", base + "storage:\n  path: /f\n", "storage.provider: is required: localfs or s3", 8},
		{"s3 bucket is an ip", base + "storage:\n  provider: s3\n  s3:\n    endpoint: http://m:9000\n    bucket: 10.0.0.1\n", "must not be an IP address", 12},
		{"s3 region", base + "storage:\n  provider: s3\n  s3:\n    endpoint: http://m:9000\n    bucket: abc\n    region: EU West\n", "not a region name", 13},
		{"secret not a string", base + "cassandra:\n  password: [a]\n", "cassandra.password: must be a string: env:NAME, file:PATH or prompt", 9},
		{"secret empty", base + "cassandra:\n  password: ''\n", "cassandra.password: is empty", 9},
		{"secret bool", base + "cassandra:\n  password: true\n", "secrets are never stored inline", 9},
		{"secret block scalar", base + "cassandra:\n  password: |\n    hunter2\n", "secrets are never stored inline", 9},
		{"cassandra defaults for other platforms", base + "cassandra:\n", "", 0},
		{"version zero", strings.Replace(base, "version: 1", "version: 0", 1), "version: 0 is not supported", 1},
		{"version null", strings.Replace(base, "version: 1", "version:", 1), "version: is required", 1},
		{"huge version", strings.Replace(base, "version: 1", "version: 99999999999999999999", 1), "version:", 1},
		{"complex key", base + "? a\n: b\n", "complex keys", 8},
		{"node paths not a map", strings.Replace(base, "    roles:", "    paths: /x\n    roles:", 1), "nodes[0].paths: must be a mapping", 7},
		{"identity file relative", strings.Replace(base, "    roles:", "    identity_files: [id_rsa]\n    roles:", 1), `nodes[0].identity_files[0]: "id_rsa" must be an absolute path or start with ~/`, 7},
		{"empty list item", strings.Replace(base, "    roles: [postgresql, redis, elasticsearch, platform]", "    roles:\n      -\n      - redis", 1), "nodes[0].roles[0]: is empty", 8},
		{"duration zero", base + "ssh:\n  keepalive: 0s\n", "out of range", 9},
		{"duration garbage", base + "ssh:\n  keepalive: soon\n", `"soon" is not a duration`, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse("t.yaml", []byte(tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if inv.Path != "t.yaml" || len(inv.Nodes) == 0 {
					t.Errorf("inventory = %+v", inv)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			found := false
			for _, e := range Errors(err) {
				if strings.Contains(e.Msg, tt.want) {
					found = true
					if e.Line != tt.line {
						t.Errorf("error %v: line %d, want %d", e, e.Line, tt.line)
					}
					if e.File != "t.yaml" {
						t.Errorf("file = %q", e.File)
					}
				}
			}
			if !found {
				t.Errorf("no error contains %q:\n%v", tt.want, err)
			}
			if strings.Contains(err.Error(), "TopSecret") {
				t.Errorf("error echoes a credential: %v", err)
			}
		})
	}
}

func TestNodeSelection(t *testing.T) {
	inv := load(t, "thehive-cluster.yaml")
	if got := inv.NodesWithRole(RoleFiles); len(got) != 1 || got[0].Name != "node3" {
		t.Errorf("files nodes = %v", got)
	}
	if got := inv.NodesWithRole(RoleCassandra); len(got) != 3 {
		t.Errorf("cassandra nodes = %d", len(got))
	}
	if got := inv.NodesWithRole(RoleRedis); got != nil {
		t.Errorf("redis nodes = %v", got)
	}
	if _, ok := inv.Node("node9"); ok {
		t.Error("Node(node9) found")
	}
	got, err := inv.SelectNodes([]string{"node3", "node1", "node3"})
	if err != nil || len(got) != 2 || got[0].Name != "node3" || got[1].Name != "node1" {
		t.Errorf("SelectNodes = %v, %v", got, err)
	}
	all, err := inv.SelectNodes(nil)
	if err != nil || len(all) != 3 {
		t.Errorf("SelectNodes(nil) = %v, %v", all, err)
	}
	all[0].Name = "changed"
	if inv.Nodes[0].Name != "node1" {
		t.Error("SelectNodes must return a copy")
	}
	_, err = inv.SelectNodes([]string{"node1", "nod2", "x"})
	if err == nil {
		t.Fatal("unknown nodes accepted")
	}
	for _, want := range []string{`"nod2"`, `"x"`, "unknown nodes", "node1, node2, node3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestEffectiveDefaultsWithoutParse(t *testing.T) {
	inv := &Inventory{}
	n := Node{Name: "a"}
	if inv.EffectivePort(n) != 22 || inv.EffectiveUser(n) != "" || inv.EffectiveIdentityFiles(n) != nil {
		t.Errorf("zero inventory effective values wrong")
	}
	inv.SSH.IdentityFiles = []string{"/k"}
	got := inv.EffectiveIdentityFiles(n)
	got[0] = "changed"
	if inv.SSH.IdentityFiles[0] != "/k" {
		t.Error("EffectiveIdentityFiles must return a copy")
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	r := Roles()
	r[0] = "x"
	if Roles()[0] != RoleCassandra {
		t.Error("Roles() shares its slice")
	}
	if len(Platforms()) != 3 || !slices.Contains(PathKeys(), PathAttachments) {
		t.Errorf("Platforms/PathKeys = %v %v", Platforms(), PathKeys())
	}
}
