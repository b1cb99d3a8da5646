package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readSample(t *testing.T, name string) (string, []byte) {
	t.Helper()
	p := filepath.Join("..", "testdata", "platform-conf", name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return name, b
}

func TestReadEclecticIQSettingsSamples(t *testing.T) {
	tests := []struct {
		file string
		want EclecticIQConf
		warn []string // substrings of expected warnings
	}{
		{"eiq-lab-platform_settings.py", EclecticIQConf{
			Postgres: PostgresDSN{Host: "127.0.0.1", Port: 5432, Database: "eclecticiq", User: "eclecticiq"},
			RedisURL: "redis://127.0.0.1:6379/0", RedisHost: "127.0.0.1", RedisPort: 6379, RedisDB: 0,
			ESURL: "http://127.0.0.1:9200"}, nil},
		{"eiq-rocky-platform_settings.py", EclecticIQConf{
			Postgres: PostgresDSN{Host: "db.internal", Port: 5433, Database: "eclecticiq_prod", User: "eiq_user", HasPassword: true},
			RedisURL: "redis://cache.internal:6380/2", RedisHost: "cache.internal", RedisPort: 6380, RedisDB: 2,
			ESURL: "https://search.internal:9201", ESIndexPrefix: "eiq_"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name, data := readSample(t, tt.file)
			got, err := ReadEclecticIQSettings(name, data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Warnings != nil {
				t.Errorf("warnings: %q", got.Warnings)
			}
			got.Warnings = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestPythonSettingsValues(t *testing.T) {
	name, data := readSample(t, "eiq-rocky-platform_settings.py")
	s, err := ParsePythonSettings(name, data)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"DEBUG": "False", "MAX_WORKERS": "8", "CELERY_BROKER_URL": "redis://cache.internal:6380/2",
		"DOC": "multi\nline = \"ignored\"\n", "_PG_HOST": "db.internal"} {
		if got, ok := s.Get(k); !ok || got != want {
			t.Errorf("%s = %q, %v; want %q", k, got, ok, want)
		}
	}
	for _, k := range []string{"SECRET_KEY", "CELERY_QUEUES", "_PG_PASS"} {
		if v, ok := s.Values[k]; !ok || v.Known {
			t.Errorf("%s: want recorded as unknown, got %+v (present %v)", k, v, ok)
		}
	}
	if _, ok := s.Values["line"]; ok {
		t.Error("an assignment inside a triple-quoted string was read")
	}
	if v := s.Values["SQLALCHEMY_DATABASE_URI"]; v.Line != 8 || v.Col != 1 {
		t.Errorf("position of SQLALCHEMY_DATABASE_URI = %d:%d, want 8:1", v.Line, v.Col)
	}
}

func TestEclecticIQWarnings(t *testing.T) {
	c, err := ReadEclecticIQSettings("s.py", []byte("import os\nSQLALCHEMY_DATABASE_URI = os.environ['DSN']\n"))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(c.Warnings, "\n")
	for _, want := range []string{"s.py:2:1: SQLALCHEMY_DATABASE_URI is not a plain literal", "no REDIS_URL"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", c.Warnings, want)
		}
	}
}

func TestPlatformConfBroken(t *testing.T) {
	tests := []struct {
		file string
		read func(string, []byte) error
		want string
	}{
		{"broken-unterminated.py", func(f string, b []byte) error { _, err := ReadEclecticIQSettings(f, b); return err },
			"broken-unterminated.py:2:13: string literal is never closed on its line"},
		{"broken-bracket.py", func(f string, b []byte) error { _, err := ReadEclecticIQSettings(f, b); return err },
			`broken-bracket.py:4:1: unbalanced "}"`},
		{"broken-dsn.py", func(f string, b []byte) error { _, err := ReadEclecticIQSettings(f, b); return err },
			`broken-dsn.py:1:1: SQLALCHEMY_DATABASE_URI: database URL scheme "mysql" is not postgresql`},
		{"broken-a4c.yml", func(f string, b []byte) error { _, err := ReadAlien4CloudConf(f, b); return err },
			"broken-a4c.yml:"},
		{"broken-es-port.yml", func(f string, b []byte) error { _, err := ReadElasticsearchYML(f, b); return err },
			`broken-es-port.yml:2:12: http.port: "nine" is not a port number`},
		{"broken-a4c-relative.yml", func(f string, b []byte) error { _, err := ReadAlien4CloudConf(f, b); return err },
			`broken-a4c-relative.yml:1:18: alien4cloud.dir: "data/relative" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name, data := readSample(t, tt.file)
			err := tt.read(name, data)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want prefix %q", err, tt.want)
			}
			if len(Errors(err)) == 0 {
				t.Errorf("error %v is not a positioned *Error", err)
			}
		})
	}
	// Unclosed bracket at the end of the file names the bracket.
	_, err := ParsePythonSettings("x.py", []byte("A = 1\nB = [1,\n  2\n"))
	if err == nil || err.Error() != `x.py:2:5: "[" is never closed` {
		t.Errorf("unclosed bracket: %v", err)
	}
	_, err = ParsePythonSettings("x.py", []byte("A = \"\xff\"\n"))
	if err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestReadElasticsearchYML(t *testing.T) {
	name, data := readSample(t, "eiq-elasticsearch.yml")
	got, err := ReadElasticsearchYML(name, data)
	if err != nil {
		t.Fatal(err)
	}
	want := &ElasticsearchYML{ClusterName: "eclecticiq", PathRepo: []string{"/db-backup/elasticsearch"}, PathData: []string{"/media/elasticsearch"},
		SeedHosts: []string{"10.0.0.11", "10.0.0.12"}, NetworkHost: "127.0.0.1", HTTPPort: 9200}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	c := &EclecticIQConf{}
	c.MergeElasticsearchYML(got)
	if c.ESClusterName != "eclecticiq" || c.ESURL != "http://127.0.0.1:9200" || c.ESPathRepo[0] != "/db-backup/elasticsearch" {
		t.Errorf("merge: %+v", c)
	}
	// Nested and comma-separated forms mean the same.
	got2, err := ReadElasticsearchYML("n.yml", []byte("path:\n  repo: /a, /b\n  data: [/d1, /d2]\ncluster:\n  name: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got2.PathRepo, []string{"/a", "/b"}) || !reflect.DeepEqual(got2.PathData, []string{"/d1", "/d2"}) || got2.ClusterName != "x" {
		t.Errorf("nested: %+v", got2)
	}
}

func TestReadAlien4CloudConf(t *testing.T) {
	tests := []struct {
		file string
		want Alien4CloudConf
	}{
		{"a4c-config.yml", Alien4CloudConf{ESClusterName: "alien4cloud", ESAddresses: []string{"localhost:9300", "129.185.67.26:9300"},
			BackupFilesDir: "/opt/alien4cloud/backups/files", DataDir: "/opt/alien4cloud/data", Port: 8088}},
		{"a4c-alien4cloud-config.yml", Alien4CloudConf{ESClusterName: "escluster", ESAddresses: []string{"129.185.67.112:9300"},
			DataDir: "/var/lib/alien4cloud", Own: true, Port: 8088}},
		// The distribution's: directories.alien relative to the folder
		// above config/, client/transportClient false (embedded), SSL.
		{"a4c-spray-relative.yml", Alien4CloudConf{ESClusterName: "escluster", DataDir: "/opt/a4c/alien4cloud/runtime", Own: true, Embedded: true,
			Port: 8443, SSL: true, Keystore: "/opt/a4c/alien4cloud/config/ssl/server-keystore.jks"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, data := readSample(t, tt.file)
			got, err := ReadAlien4CloudConf("/opt/a4c/alien4cloud/config/"+tt.file, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
	if _, err := ReadAlien4CloudConf("e.yml", []byte("foo: bar\n")); err == nil || !strings.Contains(err.Error(), "not an Alien4Cloud config.yml") {
		t.Errorf("unrelated YAML accepted: %v", err)
	}
}

func TestParsePostgresDSN(t *testing.T) {
	tests := []struct {
		in      string
		want    PostgresDSN
		wantErr string
	}{
		{"postgresql://eclecticiq@127.0.0.1:5432/eclecticiq", PostgresDSN{"127.0.0.1", 5432, "eclecticiq", "eclecticiq", false}, ""},
		{"postgres://u:p%40ss@[::1]/db", PostgresDSN{"::1", 5432, "db", "u", true}, ""},
		{"postgresql:///db?host=/run/postgresql&port=5433&user=x", PostgresDSN{"/run/postgresql", 5433, "db", "x", false}, ""},
		{"host=db port=6000 dbname=eiq user=eiq password='x'", PostgresDSN{"db", 6000, "eiq", "eiq", true}, ""},
		{"postgresql://u:secretpw@h:99999/db", PostgresDSN{}, "port"},
		{"just text", PostgresDSN{}, "not a postgresql:// URL"},
		{"host=db port=abc", PostgresDSN{}, `port "abc"`},
	}
	for _, tt := range tests {
		got, err := ParsePostgresDSN(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "secretpw") {
				t.Errorf("%q: error %v, want one containing %q without the password", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRedisURL(t *testing.T) {
	for _, tt := range []struct {
		in       string
		host     string
		port, db int
		err      bool
	}{
		{"redis://127.0.0.1:6379/0", "127.0.0.1", 6379, 0, false},
		{"rediss://:pw@cache/3", "cache", 6379, 3, false},
		{"redis://", "localhost", 6379, 0, false},
		{"unix:///run/redis.sock", "", 0, 0, true},
		{"redis://h:0/1", "", 0, 0, true},
		{"redis://h/x", "", 0, 0, true},
	} {
		h, p, db, err := parseRedisURL(tt.in)
		if (err != nil) != tt.err || (!tt.err && (h != tt.host || p != tt.port || db != tt.db)) {
			t.Errorf("%q: %q %d %d %v", tt.in, h, p, db, err)
		}
	}
}
