package config

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Where the other platforms keep the files init reads.
const (
	// EclecticIQSettingsPath is EclecticIQ's platform settings (Python).
	EclecticIQSettingsPath = "/etc/eclecticiq/platform_settings.py"
	// EclecticIQConfDir is EclecticIQ's configuration directory.
	EclecticIQConfDir = "/etc/eclecticiq"
	// DefaultRedisPort is Redis's port when a URL gives none.
	DefaultRedisPort = 6379
	// DefaultPostgresPort is PostgreSQL's port when a DSN gives none.
	DefaultPostgresPort = 5432
)

// EclecticIQElasticsearchYMLPaths are where an EclecticIQ node keeps
// elasticsearch.yml (seed 003), in the order init tries them.
var EclecticIQElasticsearchYMLPaths = []string{"/etc/eclecticiq-elasticsearch/elasticsearch.yml", "/etc/elasticsearch/elasticsearch.yml"}

// Alien4CloudConfigPaths are where init looks for A4C's own
// alien4cloud-config.yml (alien4cloud-spray's first) and the backup/restore
// tool's config.yml, in this order.
var Alien4CloudConfigPaths = []string{
	DefaultA4CConfig,
	"/opt/alien4cloud/backup-restore-tool/config/config.yml",
	"/opt/alien4cloud/alien4cloud-backup-restore-tools/config/config.yml",
	"/opt/alien4cloud/config/config.yml",
	"/opt/alien4cloud/alien4cloud-premium/config/alien4cloud-config.yml",
	"/opt/alien4cloud/config/alien4cloud-config.yml",
	"/etc/alien4cloud/alien4cloud-config.yml",
}

// yamlEntry is one flattened YAML value: scalars, or a sequence of scalars.
type yamlEntry struct {
	values    []string
	line, col int
}

// flattenYAML parses a YAML document whose top level is a mapping and
// flattens nested mappings into dotted keys ("path: {repo: x}" and
// "path.repo: x" both give "path.repo"). A comma-free scalar gives one
// value; a sequence of scalars gives each. Problems are *Error values.
func flattenYAML(file string, data []byte) (map[string]yamlEntry, error) {
	if len(data) > MaxPlatformConfSize {
		return nil, &Error{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf("file is larger than %d bytes", MaxPlatformConfSize)}
	}
	d := &decoder{file: file}
	f, err := parseYAML(data)
	if err != nil {
		return nil, d.syntaxError(err)
	}
	out := map[string]yamlEntry{}
	var errs []*Error
	var walk func(prefix string, n ast.Node)
	walk = func(prefix string, n ast.Node) {
		if t, ok := n.(*ast.TagNode); ok {
			n = t.Value
		}
		p := d.posOf(n)
		switch m := n.(type) {
		case nil, *ast.NullNode:
			if prefix != "" {
				out[prefix] = yamlEntry{line: p.line, col: p.col}
			}
		case *ast.MappingNode:
			for _, v := range m.Values {
				walk(prefix, v)
			}
		case *ast.MappingValueNode:
			k := ""
			if m.Key != nil {
				k = strings.TrimSpace(m.Key.String())
				k = strings.Trim(k, `"'`)
			}
			if prefix != "" {
				k = prefix + "." + k
			}
			walk(k, m.Value)
		case *ast.SequenceNode:
			e := yamlEntry{line: p.line, col: p.col}
			for _, item := range m.Values {
				s, ok := yamlScalar(item)
				if !ok {
					ip := d.posOf(item)
					errs = append(errs, &Error{File: file, Line: ip.line, Col: ip.col, Msg: fmt.Sprintf("%s: want a list of plain values, got %s", prefix, describe(item))})
					continue
				}
				e.values = append(e.values, s)
			}
			out[prefix] = e
		default:
			s, ok := yamlScalar(n)
			if !ok {
				errs = append(errs, &Error{File: file, Line: p.line, Col: p.col, Msg: fmt.Sprintf("%s: unsupported value (%s)", prefix, describe(n))})
				return
			}
			if prefix == "" {
				errs = append(errs, &Error{File: file, Line: p.line, Col: p.col, Msg: "want a mapping of settings at the top level"})
				return
			}
			out[prefix] = yamlEntry{values: []string{s}, line: p.line, col: p.col}
		}
	}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		walk("", doc.Body)
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	return out, nil
}

// yamlScalar returns the text of a scalar node.
func yamlScalar(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return strings.TrimRight(v.Value.Value, "\n"), true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return strings.TrimSpace(n.String()), true
	case *ast.NullNode:
		return "", true
	}
	return "", false
}

// first returns the first value of key, or "".
func first(m map[string]yamlEntry, keys ...string) string {
	for _, k := range keys {
		if e, ok := m[k]; ok && len(e.values) > 0 {
			return strings.TrimSpace(e.values[0])
		}
	}
	return ""
}

// list returns key's values, splitting comma-separated scalars.
func list(m map[string]yamlEntry, keys ...string) []string {
	for _, k := range keys {
		e, ok := m[k]
		if !ok {
			continue
		}
		var out []string
		for _, v := range e.values {
			v = strings.Trim(strings.TrimSpace(v), "[]")
			for p := range strings.SplitSeq(v, ",") {
				if p = strings.Trim(strings.TrimSpace(p), `"'`); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	return nil
}

// ElasticsearchYML is what hotsnap needs from an elasticsearch.yml.
type ElasticsearchYML struct {
	// ClusterName is cluster.name.
	ClusterName string
	// PathRepo lists path.repo (where fs snapshot repositories may live).
	PathRepo []string
	// PathData lists path.data.
	PathData []string
	// SeedHosts lists discovery.seed_hosts (discovery.zen.ping.unicast.hosts
	// before 7.x).
	SeedHosts []string
	// NetworkHost is network.host.
	NetworkHost string
	// HTTPPort is http.port (0 when unset).
	HTTPPort int
}

// ReadElasticsearchYML parses an elasticsearch.yml. Problems are *Error
// values with file:line:col.
func ReadElasticsearchYML(file string, data []byte) (*ElasticsearchYML, error) {
	m, err := flattenYAML(file, data)
	if err != nil {
		return nil, err
	}
	es := &ElasticsearchYML{
		ClusterName: first(m, "cluster.name"),
		PathRepo:    list(m, "path.repo"),
		PathData:    list(m, "path.data"),
		SeedHosts:   list(m, "discovery.seed_hosts", "discovery.zen.ping.unicast.hosts"),
		NetworkHost: first(m, "network.host"),
	}
	if p := first(m, "http.port"); p != "" {
		lo, _, _ := strings.Cut(p, "-") // a range "9200-9300": the first is used
		n, perr := strconv.Atoi(strings.TrimSpace(lo))
		if perr != nil || n < 1 || n > 65535 {
			e := m["http.port"]
			return nil, &Error{File: file, Line: e.line, Col: e.col, Msg: fmt.Sprintf("http.port: %q is not a port number", p)}
		}
		es.HTTPPort = n
	}
	return es, nil
}

// Alien4CloudConf is what hotsnap needs from Alien4Cloud's backup/restore
// tool config.yml (seed 004) or A4C's own alien4cloud-config.yml.
type Alien4CloudConf struct {
	// ESClusterName is elasticsearch.cluster_name (elasticSearch.clusterName).
	ESClusterName string
	// ESAddresses lists elasticsearch.addresses (elasticSearch.hosts):
	// host:port pairs of the transport protocol (9300), not HTTP.
	ESAddresses []string
	// BackupFilesDir is backup.files_dir.
	BackupFilesDir string
	// DataDir is alien4cloud.dir (directories.alien): the uploaded files.
	// A relative directories.alien ("runtime", the distribution's) is
	// resolved against the installation folder, the process's working
	// directory: the folder that holds config/.
	DataDir string
	// Own says the file is Alien4Cloud's own alien4cloud-config.yml (it
	// has directories.* or elasticSearch.* keys), not the tool's config.yml.
	Own bool
	// Embedded says Elasticsearch runs inside Alien4Cloud's JVM: an
	// alien4cloud-config.yml whose elasticSearch.client and
	// transportClient are not both true (ElasticSearchClient then starts
	// an in-JVM node, "not suitable for production").
	Embedded bool
	// Port is server.port (8088 when absent), SSL whether
	// server.ssl.key-store is set (the REST API is then https).
	Port int
	SSL  bool
	// Keystore is server.ssl.key-store, when set.
	Keystore string
}

// a4cDefaultPort is Alien4Cloud's server.port when the file sets none.
const a4cDefaultPort = 8088

// ReadAlien4CloudConf parses config.yml of Alien4Cloud's backup tool (or
// alien4cloud-config.yml, file being its path on the node). A file naming
// neither the data directory nor an Elasticsearch setting is an error: it
// is not such a file.
func ReadAlien4CloudConf(file string, data []byte) (*Alien4CloudConf, error) {
	m, err := flattenYAML(file, data)
	if err != nil {
		return nil, err
	}
	c := &Alien4CloudConf{
		ESClusterName:  first(m, "elasticsearch.cluster_name", "elasticSearch.clusterName"),
		ESAddresses:    list(m, "elasticsearch.addresses", "elasticSearch.hosts"),
		BackupFilesDir: first(m, "backup.files_dir"),
		DataDir:        first(m, "alien4cloud.dir", "directories.alien"),
		Port:           a4cDefaultPort,
		Keystore:       first(m, "server.ssl.key-store"),
	}
	for k := range m {
		if strings.HasPrefix(k, "elasticSearch.") || strings.HasPrefix(k, "directories.") {
			c.Own = true
		}
	}
	if c.DataDir == "" && c.ESClusterName == "" && len(c.ESAddresses) == 0 {
		return nil, &Error{File: file, Line: 1, Col: 1, Msg: "neither alien4cloud.dir nor elasticsearch.cluster_name/addresses: not an Alien4Cloud config.yml"}
	}
	for _, k := range []string{"alien4cloud.dir", "directories.alien", "backup.files_dir"} {
		e, ok := m[k]
		if !ok || len(e.values) == 0 || e.values[0] == "" || strings.HasPrefix(e.values[0], "/") || strings.HasPrefix(e.values[0], "~") {
			continue
		}
		if k != "directories.alien" || !strings.HasPrefix(file, "/") {
			return nil, &Error{File: file, Line: e.line, Col: e.col, Msg: fmt.Sprintf("%s: %q is not an absolute path", k, e.values[0])}
		}
		// Alien4Cloud resolves it against its working directory, the
		// folder above config/ (the unit's WorkingDirectory).
		c.DataDir = path.Join(path.Dir(path.Dir(file)), e.values[0])
	}
	if c.Own {
		c.Embedded = !(isTrue(first(m, "elasticSearch.client")) && isTrue(first(m, "elasticSearch.transportClient")))
	}
	if p := first(m, "server.port"); p != "" {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			e := m["server.port"]
			return nil, &Error{File: file, Line: e.line, Col: e.col, Msg: fmt.Sprintf("server.port: %q is not a port number", p)}
		}
		c.Port = n
	}
	c.SSL = c.Keystore != ""
	return c, nil
}

// isTrue reads a YAML boolean as Spring Boot binds one.
func isTrue(s string) bool {
	b, err := strconv.ParseBool(strings.ToLower(s))
	return err == nil && b
}

// EclecticIQConf is what hotsnap needs from EclecticIQ's
// platform_settings.py (and elasticsearch.yml, see MergeElasticsearchYML).
// Passwords are never kept.
type EclecticIQConf struct {
	// Postgres is the main database (SQLALCHEMY_DATABASE_URI).
	Postgres PostgresDSN
	// RedisURL is REDIS_URL (else CELERY_BROKER_URL).
	RedisURL string
	// RedisHost, RedisPort and RedisDB are RedisURL taken apart.
	RedisHost string
	RedisPort int
	RedisDB   int
	// ESURL is the search URL (SEARCH_URL, ELASTICSEARCH_URL, ES_URL...).
	ESURL string
	// ESIndexPrefix is the index prefix, when the settings name one.
	ESIndexPrefix string
	// ESClusterName, ESPathRepo and ESPathData come from elasticsearch.yml.
	ESClusterName string
	ESPathRepo    []string
	ESPathData    []string
	// Warnings lists settings that could not be read (not evaluated, or
	// absent), for the operator to check.
	Warnings []string
}

// Settings names tried, in order, for each EclecticIQ value.
var (
	eiqDSNKeys    = []string{"SQLALCHEMY_DATABASE_URI", "DATABASE_URI", "DATABASE_URL", "POSTGRES_DSN", "DB_DSN"}
	eiqRedisKeys  = []string{"REDIS_URL", "CELERY_BROKER_URL", "BROKER_URL"}
	eiqSearchKeys = []string{"SEARCH_URL", "ELASTICSEARCH_URL", "ES_URL", "SEARCH_HOST", "ELASTICSEARCH_HOST"}
	eiqPrefixKeys = []string{"SEARCH_INDEX_PREFIX", "ELASTICSEARCH_INDEX_PREFIX", "ES_INDEX_PREFIX", "INDEX_PREFIX"}
)

// ReadEclecticIQSettings parses platform_settings.py (never executing it)
// and extracts the PostgreSQL DSN, the Redis URL and the Elasticsearch URL
// and index prefix. A DSN or URL that is present but malformed is an
// *Error at its assignment; one that is absent or not a plain literal is a
// warning.
func ReadEclecticIQSettings(file string, data []byte) (*EclecticIQConf, error) {
	s, err := ParsePythonSettings(file, data)
	if err != nil {
		return nil, err
	}
	c := &EclecticIQConf{}
	lookup := func(what string, keys []string) (string, PyValue, string) {
		for _, k := range keys {
			if v, ok := s.Values[k]; ok {
				if !v.Known {
					c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d:%d: %s is not a plain literal: %s not read", file, v.Line, v.Col, k, what))
					continue
				}
				return v.Text, v, k
			}
		}
		return "", PyValue{}, ""
	}
	atErr := func(v PyValue, format string, args ...any) error {
		return &Error{File: file, Line: v.Line, Col: v.Col, Msg: fmt.Sprintf(format, args...)}
	}
	if dsn, v, k := lookup("PostgreSQL DSN", eiqDSNKeys); k != "" {
		d, perr := ParsePostgresDSN(dsn)
		if perr != nil {
			return nil, atErr(v, "%s: %v", k, perr)
		}
		c.Postgres = d
	} else {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: no %s: PostgreSQL connection not found", file, eiqDSNKeys[0]))
	}
	if ru, v, k := lookup("Redis URL", eiqRedisKeys); k != "" {
		h, p, db, perr := parseRedisURL(ru)
		if perr != nil {
			return nil, atErr(v, "%s: %v", k, perr)
		}
		c.RedisURL, c.RedisHost, c.RedisPort, c.RedisDB = ru, h, p, db
	} else {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: no REDIS_URL: Redis not found", file))
	}
	if su, v, k := lookup("Elasticsearch URL", eiqSearchKeys); k != "" {
		u, perr := normalizeHTTPURL(su)
		if perr != nil {
			return nil, atErr(v, "%s: %v", k, perr)
		}
		c.ESURL = u
	}
	c.ESIndexPrefix, _, _ = lookup("index prefix", eiqPrefixKeys)
	return c, nil
}

// MergeElasticsearchYML adds elasticsearch.yml's cluster name and paths.
func (c *EclecticIQConf) MergeElasticsearchYML(es *ElasticsearchYML) {
	if es == nil {
		return
	}
	c.ESClusterName = es.ClusterName
	c.ESPathRepo = slices.Clone(es.PathRepo)
	c.ESPathData = slices.Clone(es.PathData)
	if c.ESURL == "" && es.HTTPPort != 0 {
		c.ESURL = "http://127.0.0.1:" + strconv.Itoa(es.HTTPPort)
	}
}

// parseRedisURL takes redis://[user:pw@]host[:port][/db] apart.
func parseRedisURL(s string) (host string, port, db int, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", 0, 0, fmt.Errorf("not a URL (%v)", redactURLError(err))
	}
	switch u.Scheme {
	case "redis", "rediss":
	case "unix":
		return "", 0, 0, fmt.Errorf("a unix socket (%s) is not supported for Redis: give a redis:// URL", u.Path)
	default:
		return "", 0, 0, fmt.Errorf("scheme %q: want redis:// or rediss://", u.Scheme)
	}
	host, port = u.Hostname(), DefaultRedisPort
	if host == "" {
		host = "localhost"
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", 0, 0, fmt.Errorf("port %q is not a port number", p)
		}
	}
	if d := strings.Trim(u.Path, "/"); d != "" {
		if db, err = strconv.Atoi(d); err != nil || db < 0 {
			return "", 0, 0, fmt.Errorf("database %q is not a number", d)
		}
	}
	return host, port, db, nil
}

// normalizeHTTPURL accepts "http(s)://host[:port]" or a bare host[:port]
// (http assumed) and returns scheme://host:port, port 9200 by default.
func normalizeHTTPURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL (%v)", redactURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("no host")
	}
	port := u.Port()
	if port == "" {
		port = "9200"
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// redactURLError drops the URL (which may hold a password) from a
// url.Parse error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// IsLocalHost reports whether host names the node itself: loopback,
// localhost, a unix socket directory, or one of addrs.
func IsLocalHost(host string, addrs ...string) bool {
	switch host {
	case "", "localhost", "127.0.0.1", "::1", "0.0.0.0":
		return true
	}
	return strings.HasPrefix(host, "/") || strings.HasPrefix(host, "127.") || slices.Contains(addrs, host)
}
