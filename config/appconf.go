package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Defaults applied by ReadTheHiveConf when application.conf leaves a key
// out (runbook §4), besides DefaultKeyspace, DefaultCassandraPort and
// DefaultESAuditIndex.
const (
	// DefaultESIndexName is TheHive's index.search.index-name.
	DefaultESIndexName = "thehive"
	// DefaultS3Region is used when storage.s3.aws.region.default-region is unset.
	DefaultS3Region = "us-east-1"
	// DefaultESScheme is used when neither ssl.enabled nor a host name says https.
	DefaultESScheme = "http"
)

// Key prefixes of TheHive's application.conf.
const (
	keyStorage = "db.janusgraph.storage"
	keySearch  = "db.janusgraph.index.search"
)

// TheHiveConf is what hotsnap needs from TheHive's application.conf.
// Secrets are not kept: only whether one is set.
type TheHiveConf struct {
	// Keyspace is the Cassandra keyspace (db.janusgraph.storage.cql.keyspace).
	Keyspace string
	// CassandraHosts lists db.janusgraph.storage.hostname.
	CassandraHosts []string
	// CassandraPort is db.janusgraph.storage.port.
	CassandraPort int
	// CassandraAuth is true when a Cassandra username or password is set.
	CassandraAuth bool
	// CassandraUser is db.janusgraph.storage.username.
	CassandraUser string
	// CassandraSSL is db.janusgraph.storage.cql.ssl.enabled.
	CassandraSSL bool
	// ESHosts lists the Elasticsearch hosts as host[:port], scheme removed.
	ESHosts []string
	// ESScheme is http or https (from ...elasticsearch.ssl.enabled or a
	// scheme written in the host names).
	ESScheme string
	// ESIndex is index.search.index-name: the JanusGraph index name, from
	// which JanusGraph names the Elasticsearch index; see ESGlobalIndex.
	ESIndex string
	// ESAuth is true when Elasticsearch basic authentication is configured.
	ESAuth bool
	// ESUser is ...elasticsearch.http.auth.basic.username.
	ESUser string
	// StorageProvider is storage.provider: localfs or s3.
	StorageProvider string
	// StoragePath is storage.localfs.location.
	StoragePath string
	// S3Bucket is storage.s3.bucket.
	S3Bucket string
	// S3Endpoint is storage.s3.endpoint-url.
	S3Endpoint string
	// S3Region is storage.s3.aws.region.default-region.
	S3Region string
	// S3PathStyle is true when storage.s3.access-style is path.
	S3PathStyle bool
	// S3AccessKeySet is true when storage.s3.aws.credentials.access-key-id is set.
	S3AccessKeySet bool
	// AuditStorage is audit.storage ("" when unset: TheHive keeps the audit
	// trail in its database).
	AuditStorage string
	// AuditIndex is audit.elasticsearch.index-name.
	AuditIndex string
	// Warnings lists what looked wrong or was skipped (a key with an
	// unexpected type, a missing include, an unsupported backend). They name
	// keys, never secret values.
	Warnings []string
}

// ESGlobalIndex is the Elasticsearch index that holds TheHive's data.
// JanusGraph's ElasticSearchIndex names the index of each mixed index
// "<index-name>_<store name in lower case>" (generateIndexStoreName:
// indexName + INDEX_NAME_SEPARATOR + store.toLowerCase(), separator "_"),
// and TheHive's mixed index store is "global": hence "thehive_global", the
// name the runbook's snapshot scripts use.
func (t *TheHiveConf) ESGlobalIndex() string {
	return t.ESIndex + "_global"
}

// ReadTheHiveConf parses TheHive's application.conf (see ParseHOCON) and
// extracts what hotsnap needs, applying TheHive's defaults.
func ReadTheHiveConf(name string, data []byte, opts HOCONOptions) (*TheHiveConf, error) {
	c, err := ParseHOCON(name, data, opts)
	if err != nil {
		return nil, fmt.Errorf("read TheHive configuration: %w", err)
	}
	return c.TheHive(), nil
}

// TheHive extracts TheHiveConf from a parsed application.conf.
func (c *Conf) TheHive() *TheHiveConf {
	x := &extractor{c: c}
	t := &TheHiveConf{}
	t.Warnings = append(t.Warnings, c.Warnings...)

	// Cassandra.
	if b := x.str(keyStorage+".backend", ""); b != "" && b != "cql" {
		x.warn("%s.backend is %q, not cql: hot backup needs Cassandra", keyStorage, b)
	}
	t.Keyspace = x.str(keyStorage+".cql.keyspace", DefaultKeyspace)
	t.CassandraHosts = x.list(keyStorage + ".hostname")
	t.CassandraPort = x.int(keyStorage+".port", DefaultCassandraPort)
	t.CassandraUser = x.str(keyStorage+".username", "")
	t.CassandraAuth = t.CassandraUser != "" || x.str(keyStorage+".password", "") != ""
	t.CassandraSSL = x.bool(keyStorage + ".cql.ssl.enabled")

	// Elasticsearch.
	if b := x.str(keySearch+".backend", ""); b != "" && b != "elasticsearch" {
		x.warn("%s.backend is %q, not elasticsearch: hot backup needs Elasticsearch", keySearch, b)
	}
	t.ESScheme = ""
	for _, h := range x.list(keySearch + ".hostname") {
		host, scheme := splitScheme(h)
		if scheme != "" {
			if t.ESScheme != "" && t.ESScheme != scheme {
				x.warn("%s.hostname mixes http and https", keySearch)
			}
			t.ESScheme = scheme
		}
		t.ESHosts = append(t.ESHosts, host)
	}
	if x.bool(keySearch + ".elasticsearch.ssl.enabled") {
		t.ESScheme = "https"
	}
	if t.ESScheme == "" {
		t.ESScheme = DefaultESScheme
	}
	t.ESIndex = x.str(keySearch+".index-name", DefaultESIndexName)
	t.ESUser = x.str(keySearch+".elasticsearch.http.auth.basic.username", "")
	authType := x.str(keySearch+".elasticsearch.http.auth.type", "")
	t.ESAuth = strings.EqualFold(authType, "basic") || t.ESUser != ""

	// Attachments.
	t.StorageProvider = x.str("storage.provider", "localfs")
	t.StoragePath = x.str("storage.localfs.location", "")
	t.S3Bucket = x.str("storage.s3.bucket", "")
	t.S3Endpoint = x.str("storage.s3.endpoint-url", "")
	t.S3Region = x.str("storage.s3.aws.region.default-region", DefaultS3Region)
	t.S3PathStyle = strings.EqualFold(x.str("storage.s3.access-style", ""), "path")
	t.S3AccessKeySet = x.str("storage.s3.aws.credentials.access-key-id", "") != ""
	switch t.StorageProvider {
	case "localfs":
		if t.StoragePath == "" {
			x.warn("storage.localfs.location is not set: the attachment folder must be given by hand")
		}
	case "s3":
		if t.S3Bucket == "" {
			x.warn("storage.provider is s3 but storage.s3.bucket is not set")
		}
	default:
		x.warn("storage.provider is %q: hotsnap handles localfs and s3 only", t.StorageProvider)
	}

	// Audit.
	t.AuditStorage = x.str("audit.storage", "")
	t.AuditIndex = x.str("audit.elasticsearch.index-name", DefaultESAuditIndex)
	t.Warnings = append(t.Warnings, x.warnings...)
	return t
}

// splitScheme turns "https://h:9200/" into ("h:9200", "https").
func splitScheme(h string) (string, string) {
	h = strings.TrimSpace(h)
	if i := strings.Index(h, "://"); i > 0 {
		if u, err := url.Parse(h); err == nil && u.Host != "" {
			return u.Host, strings.ToLower(u.Scheme)
		}
		return strings.TrimSuffix(h[i+3:], "/"), strings.ToLower(h[:i])
	}
	return h, ""
}

// extractor reads typed keys and records a warning for each key that holds
// an unexpected type (the warning names the key, never its value).
type extractor struct {
	c        *Conf
	warnings []string
}

func (x *extractor) warn(format string, args ...any) {
	x.warnings = append(x.warnings, fmt.Sprintf(format, args...))
}

func (x *extractor) str(key, def string) string {
	if !x.c.Has(key) {
		return def
	}
	s, ok := x.c.String(key)
	if !ok {
		x.warn("%s is %s, expected a string; using %q", key, article(x.c.Kind(key)), def)
		return def
	}
	return s
}

func (x *extractor) int(key string, def int) int {
	if !x.c.Has(key) {
		return def
	}
	v, ok := x.c.Int(key)
	if !ok {
		x.warn("%s is not an integer; using %d", key, def)
		return def
	}
	return v
}

func (x *extractor) bool(key string) bool {
	if !x.c.Has(key) {
		return false
	}
	v, ok := x.c.Bool(key)
	if !ok {
		x.warn("%s is not a boolean; using false", key)
	}
	return v
}

// list reads a list of host names; a single string is split on commas, as
// JanusGraph does.
func (x *extractor) list(key string) []string {
	if !x.c.Has(key) {
		return nil
	}
	if l, ok := x.c.Strings(key); ok {
		var out []string
		for _, s := range l {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := x.c.String(key); ok {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	x.warn("%s is %s, expected a list of host names", key, article(x.c.Kind(key)))
	return nil
}

func article(kind string) string {
	if kind == "object" {
		return "an object"
	}
	return "a " + kind
}
