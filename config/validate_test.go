package config

import (
	"strings"
	"testing"
)

// hostile are inputs that must never pass an identifier validator.
var hostile = []string{
	"",
	"a;rm -rf /",
	"$(id)",
	"`id`",
	"a\nb",
	"a\x00b",
	"a b",
	"../../etc",
	"a|b",
	"a'b",
	`a"b`,
	"-rf",
	strings.Repeat("a", 300),
}

func TestValidatorsRejectHostile(t *testing.T) {
	validators := map[string]func(string) error{
		"ValidCQLIdentifier":    ValidCQLIdentifier,
		"ValidESIndexName":      ValidESIndexName,
		"ValidESRepositoryName": ValidESRepositoryName,
		"ValidNodeName":         ValidNodeName,
		"ValidSnapshotTag":      ValidSnapshotTag,
		"ValidS3BucketName":     ValidS3BucketName,
		"validHost":             validHost,
		"validClusterName":      validClusterName,
	}
	for name, v := range validators {
		for _, s := range hostile {
			if err := v(s); err == nil {
				t.Errorf("%s(%q) accepted", name, s)
			} else if strings.ContainsAny(err.Error(), "\n\x00") {
				t.Errorf("%s(%q) error holds a raw control character: %q", name, s, err)
			}
		}
	}
}

func TestValidCQLIdentifier(t *testing.T) {
	ok := []string{"thehive", "TheHive", "a", "thehive_2", "a" + strings.Repeat("b", 47)}
	bad := []string{"_x", "1abc", "the-hive", "thé", "a" + strings.Repeat("b", 48), "select", "KEYSPACE", "with"}
	for _, s := range ok {
		if err := ValidCQLIdentifier(s); err != nil {
			t.Errorf("ValidCQLIdentifier(%q) = %v", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidCQLIdentifier(s); err == nil {
			t.Errorf("ValidCQLIdentifier(%q) accepted", s)
		}
	}
}

func TestValidESIndexName(t *testing.T) {
	ok := []string{"thehive_global", "thehive-audits", ".kibana", "a.b", "índice", "a" + strings.Repeat("b", 254)}
	bad := []string{".", "..", "-a", "_a", "+a", "A", "Índice", "a:b", "a#b", "a,b", "a*", "a?", "a<b", "a>b", "a\\b", "a/b", "a\tb",
		"a" + strings.Repeat("b", 255), "\xff"}
	for _, s := range ok {
		if err := ValidESIndexName(s); err != nil {
			t.Errorf("ValidESIndexName(%q) = %v", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidESIndexName(s); err == nil {
			t.Errorf("ValidESIndexName(%q) accepted", s)
		}
	}
}

func TestValidNamesAndTags(t *testing.T) {
	tests := []struct {
		fn   func(string) error
		name string
		ok   []string
		bad  []string
	}{
		{ValidESRepositoryName, "repo", []string{"thehive_repository", "a-b", "0"}, []string{"A", "a.b", "a b", "é"}},
		{ValidNodeName, "node", []string{"node1", "0", "a.b_c-d", strings.Repeat("a", 63)}, []string{"Node1", "-a", ".a", "_a", "nœud", strings.Repeat("a", 64)}},
		{ValidSnapshotTag, "tag", []string{"20240101-120000", "hotsnap-2024.01.01", "a", "a" + strings.Repeat("b", 127)},
			[]string{"A", "a..b", "-a", ".a", "a/b", "a" + strings.Repeat("b", 128), "ñ"}},
		{ValidS3BucketName, "bucket", []string{"abc", "my.bucket-1"}, []string{"ab", "Abc", "a..b", "-ab", "ab-", "192.168.1.1", "a_b"}},
		{validHost, "host", []string{"10.0.0.1", "fe80::1%eth0", "db1.example.org", "my_alias"}, []string{"-oProxyCommand=x", "a@b", "[::1]", "höst"}},
		{validUser, "user", []string{"root", "ops", "a.b-c_d", "user@DOMAIN"}, []string{"", "-u", "a b", "$(id)", ".x"}},
		{validOwner, "owner", []string{"thehive", "thehive:thehive", "1000:1000"}, []string{"", "a:", ":b", "a b", "a:b:c"}},
		{validClusterName, "cluster", []string{"prod-thehive", "SOC.prod_2"}, []string{"-x", ".", "..", "a/b", strings.Repeat("a", 65)}},
	}
	for _, tt := range tests {
		for _, s := range tt.ok {
			if err := tt.fn(s); err != nil {
				t.Errorf("%s %q rejected: %v", tt.name, s, err)
			}
		}
		for _, s := range tt.bad {
			if err := tt.fn(s); err == nil {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
}

func TestValidURLsAndPaths(t *testing.T) {
	httpOK := []string{"http://127.0.0.1:9200", "https://es.example.org", "http://[::1]:9200/prefix"}
	httpBad := []string{"", "127.0.0.1:9200", "ftp://x", "http://", "http://u:p@h", "http://h/?q=1", "http://h:0", "http://h:70000", "http://h\n"}
	for _, s := range httpOK {
		if err := validHTTPURL(s); err != nil {
			t.Errorf("validHTTPURL(%q) = %v", s, err)
		}
	}
	for _, s := range httpBad {
		if err := validHTTPURL(s); err == nil {
			t.Errorf("validHTTPURL(%q) accepted", s)
		}
	}
	repoOK := []string{"/var/backups", "~/b", "ssh://vault/srv/b", "ssh://u@vault:2222/srv", "s3://bucket", "s3://bucket/a/b"}
	repoBad := []string{"", "rel", "~bob/x", "/a/../b", "ssh://vault", "ssh://u:pw@vault/x", "s3://Bad/x", "s3://k:s@bucket/x", "http://x/y", "ssh://vault/a/../b"}
	for _, s := range repoOK {
		if err := validRepositoryURL(s); err != nil {
			t.Errorf("validRepositoryURL(%q) = %v", s, err)
		}
	}
	for _, s := range repoBad {
		if err := validRepositoryURL(s); err == nil {
			t.Errorf("validRepositoryURL(%q) accepted", s)
		} else if strings.Contains(s, "pw@") && strings.Contains(err.Error(), "pw") {
			t.Errorf("validRepositoryURL echoes a password: %v", err)
		}
	}
	for _, s := range []string{"/", "/var/lib/cassandra", "/opt/thp/thehive/files/"} {
		if err := validRemotePath(s); err != nil {
			t.Errorf("validRemotePath(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "rel", "~/x", "/a/../b", "/a\nb"} {
		if err := validRemotePath(s); err == nil {
			t.Errorf("validRemotePath(%q) accepted", s)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"name", "host", "port", "user", "identity_files", "roles", "paths"}
	tests := []struct{ in, want string }{
		{"hots", "host"}, {"Host", "host"}, {"identity_file", "identity_files"}, {"role", "roles"}, {"prot", "port"},
		{"zzzzzz", ""}, {"ab", ""}, {strings.Repeat("x", 100), ""},
	}
	for _, tt := range tests {
		got, ok := suggest(tt.in, keys)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("suggest(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}
