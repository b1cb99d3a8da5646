package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The grammars below are the single place where hotsnap decides which names
// may reach a remote shell, a CQL statement or an Elasticsearch URL. Every
// validator returns an error that says what is allowed; none echoes control
// characters back (values are printed with %q).

var (
	cqlIdentRE   = boundedName(`^[a-zA-Z][a-zA-Z0-9_]*$`, 48)
	nodeNameRE   = boundedName(`^[a-z0-9][a-z0-9._-]*$`, 63)
	clusterRE    = boundedName(`^[A-Za-z0-9._-]+$`, 64)
	esRepoRE     = regexp.MustCompile(`^[a-z0-9_-]+$`)
	snapshotRE   = boundedName(`^[a-z0-9][a-z0-9._-]*$`, 128)
	hostRE       = regexp.MustCompile(`^[A-Za-z0-9._:%-]+$`)
	userRE       = boundedName(`^[A-Za-z0-9_][A-Za-z0-9._@-]*$`, 64)
	ownerPartRE  = boundedName(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`, 32)
	envNameRE    = boundedName(`^[A-Za-z_][A-Za-z0-9_]*$`, 128)
	s3BucketRE   = boundedName(`^[a-z0-9][a-z0-9.-]+[a-z0-9]$`, 63)
	regionRE     = boundedName(`^[a-z0-9][a-z0-9-]*$`, 63)
	errEmptyName = errors.New("must not be empty")
)

// namePattern is a name's pattern and its longest length in bytes. The
// bound is not in the pattern: a bounded repetition ({0,127}) compiles to
// a program as long as its bound, and every start of the binary (the lab's
// stand-ins too) compiles the patterns.
type namePattern struct {
	re  *regexp.Regexp
	max int
}

// boundedName compiles pattern, for names of at most longest bytes.
func boundedName(pattern string, longest int) namePattern {
	return namePattern{re: regexp.MustCompile(pattern), max: longest}
}

// MatchString says whether s is such a name.
func (p namePattern) MatchString(s string) bool { return len(s) <= p.max && p.re.MatchString(s) }

// cqlReserved are the reserved keywords of CQL (Cassandra 4.x, appendix A of
// the CQL reference): they cannot be used as unquoted identifiers.
var cqlReserved = map[string]bool{
	"add": true, "allow": true, "alter": true, "and": true, "apply": true, "asc": true,
	"authorize": true, "batch": true, "begin": true, "by": true, "columnfamily": true,
	"create": true, "delete": true, "desc": true, "describe": true, "drop": true,
	"entries": true, "execute": true, "from": true, "full": true, "grant": true, "if": true,
	"in": true, "index": true, "infinity": true, "insert": true, "into": true, "keyspace": true,
	"limit": true, "modify": true, "nan": true, "norecursive": true, "not": true, "null": true,
	"of": true, "on": true, "or": true, "order": true, "primary": true, "rename": true,
	"replace": true, "revoke": true, "schema": true, "select": true, "set": true, "table": true,
	"to": true, "token": true, "truncate": true, "unlogged": true, "update": true, "use": true,
	"using": true, "view": true, "where": true, "with": true,
}

// ValidCQLIdentifier reports whether s is usable as an unquoted CQL identifier
// (keyspace, table or role name): a letter, then up to 47 letters, digits or
// underscores, and not a reserved CQL keyword.
func ValidCQLIdentifier(s string) error {
	if s == "" {
		return errEmptyName
	}
	if !cqlIdentRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid CQL identifier: use a letter followed by up to 47 letters, digits or underscores", s)
	}
	if cqlReserved[strings.ToLower(s)] {
		return fmt.Errorf("%q is a reserved CQL keyword and cannot be used as a name", s)
	}
	return nil
}

// ValidESIndexName reports whether s is a valid Elasticsearch/OpenSearch index
// name: lowercase, at most 255 bytes, not starting with - _ or +, and not "."
// or "..". ES itself forbids \ / * ? " < > | , # : and spaces; hotsnap is
// stricter and allows only letters, digits, . _ - and +, so no shell or URL
// metacharacter ($ ` ' ; & ( ) ...) can appear in an index name.
func ValidESIndexName(s string) error {
	if s == "" {
		return errEmptyName
	}
	if len(s) > 255 {
		return fmt.Errorf("index name is %d bytes long: at most 255 are allowed", len(s))
	}
	if !utf8.ValidString(s) {
		return errors.New("index name is not valid UTF-8")
	}
	if s == "." || s == ".." {
		return fmt.Errorf("%q is not a valid index name", s)
	}
	if strings.ContainsAny(s[:1], "-_+") {
		return fmt.Errorf("index name %q must not start with -, _ or +", s)
	}
	if strings.ToLower(s) != s {
		return fmt.Errorf("index name %q must be lowercase", s)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-+", r) {
			return fmt.Errorf("index name %q contains %q: use lowercase letters, digits, . _ - and +", s, r)
		}
	}
	return nil
}

// ValidESRepositoryName reports whether s is usable as an Elasticsearch
// snapshot repository name: 1 to 255 of [a-z0-9_-], not starting with - or _.
func ValidESRepositoryName(s string) error {
	if s == "" {
		return errEmptyName
	}
	if len(s) > 255 || !esRepoRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid repository name: use 1 to 255 lowercase letters, digits, _ or -", s)
	}
	if s[0] == '-' || s[0] == '_' {
		return fmt.Errorf("repository name %q must not start with - or _", s)
	}
	return nil
}

// ValidNodeName reports whether s is a valid inventory node name: a lowercase
// letter or digit, then up to 62 of [a-z0-9._-].
func ValidNodeName(s string) error {
	if s == "" {
		return errEmptyName
	}
	if !nodeNameRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid node name: use a lowercase letter or digit, then up to 62 of a-z 0-9 . _ -", s)
	}
	return nil
}

// ValidSnapshotTag reports whether s is valid both as a Cassandra snapshot tag
// (a directory name under snapshots/) and an Elasticsearch snapshot name: a
// lowercase letter or digit, then up to 127 of [a-z0-9._-], without "..".
func ValidSnapshotTag(s string) error {
	if s == "" {
		return errEmptyName
	}
	if !snapshotRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid snapshot name: use a lowercase letter or digit, then up to 127 of a-z 0-9 . _ -", s)
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("snapshot name %q must not contain \"..\"", s)
	}
	return nil
}

// ValidS3BucketName reports whether s follows the S3 bucket naming rules:
// 3 to 63 of [a-z0-9.-], starting and ending with a letter or digit, no "..",
// and not shaped like an IP address.
func ValidS3BucketName(s string) error {
	if s == "" {
		return errEmptyName
	}
	if !s3BucketRE.MatchString(s) || strings.Contains(s, "..") {
		return fmt.Errorf("%q is not a valid bucket name: use 3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit", s)
	}
	if net.ParseIP(s) != nil {
		return fmt.Errorf("bucket name %q must not be an IP address", s)
	}
	return nil
}

// validClusterName checks the cluster name typed to approve destructive gates.
func validClusterName(s string) error {
	if s == "" {
		return errEmptyName
	}
	if !clusterRE.MatchString(s) || s == "." || s == ".." || s[0] == '-' {
		return fmt.Errorf("%q is not a valid cluster name: use 1 to 64 of A-Z a-z 0-9 . _ -, not starting with -", s)
	}
	return nil
}

// validHost checks an SSH host: an address, a DNS name or an ssh_config alias.
// It must not start with "-" (it would be read as an ssh option) and must not
// hold whitespace or shell metacharacters.
func validHost(s string) error {
	if s == "" {
		return errEmptyName
	}
	if len(s) > 255 || !hostRE.MatchString(s) || s[0] == '-' {
		return fmt.Errorf("%q is not a valid host: use an IP address, a DNS name or an ssh_config alias (letters, digits, . _ : %% -, not starting with -)", s)
	}
	return nil
}

// validUser checks a login user name.
func validUser(s string) error {
	if !userRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid user name: use up to 64 of letters, digits, . _ @ -, not starting with - . or @", s)
	}
	return nil
}

// validOwner checks "user" or "user:group" (names or numeric ids).
func validOwner(s string) error {
	user, group, hasGroup := strings.Cut(s, ":")
	if !ownerPartRE.MatchString(user) || (hasGroup && !ownerPartRE.MatchString(group)) {
		return fmt.Errorf("%q is not a valid owner: use user or user:group, like thehive:thehive", s)
	}
	return nil
}

// validEnvName checks an environment variable name used by env:NAME.
func validEnvName(s string) bool { return envNameRE.MatchString(s) }

// hasControl reports whether s holds a control character or invalid UTF-8.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// hasDotDot reports whether path has a ".." component.
func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// validRemotePath checks a path on a node: absolute, no ".." component, no
// control characters.
func validRemotePath(p string) error {
	switch {
	case p == "":
		return errEmptyName
	case hasControl(p):
		return errors.New("path contains control characters")
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q must be an absolute path (starting with /)", p)
	case hasDotDot(p):
		return fmt.Errorf("%q must not contain a .. component", p)
	}
	return nil
}

// validLocalPath checks a path on the operator's machine: absolute or starting
// with ~/ (so it does not depend on the working directory).
func validLocalPath(p string) error {
	switch {
	case p == "":
		return errEmptyName
	case hasControl(p):
		return errors.New("path contains control characters")
	case !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") && p != "~":
		return fmt.Errorf("%q must be an absolute path or start with ~/", p)
	}
	return nil
}

// validHTTPURL checks an http(s) URL without credentials, query or fragment.
// The URL itself is not echoed, in case it holds a password.
func validHTTPURL(s string) error {
	if hasControl(s) {
		return errors.New("URL contains control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL: use http://host:port or https://host:port")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("URL must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("URL has no host: use http://host:port or https://host:port")
	}
	if u.User != nil {
		return errors.New("credentials do not belong in the URL: use username and password")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return errors.New("URL must not have a query or fragment")
	}
	if p := u.Port(); p != "" {
		if err := validPortString(p); err != nil {
			return err
		}
	}
	return nil
}

func validPortString(p string) error {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' || n > 65535 {
			return fmt.Errorf("port %q must be a number between 1 and 65535", p)
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %q must be a number between 1 and 65535", p)
	}
	return nil
}

// validRepositoryURL checks repository.url: a local absolute path, ~/path,
// ssh://[user@]host[:port]/path or s3://bucket[/prefix].
func validRepositoryURL(s string) error {
	const allowed = "use a local absolute path, ~/path, ssh://host/path or s3://bucket/prefix"
	if hasControl(s) {
		return errors.New("repository URL contains control characters")
	}
	switch {
	case strings.HasPrefix(s, "/"), strings.HasPrefix(s, "~/"):
		if hasDotDot(s) {
			return fmt.Errorf("%q must not contain a .. component", s)
		}
		return nil
	case strings.HasPrefix(s, "ssh://"):
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("not a valid ssh:// URL: %s", allowed)
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				return errors.New("passwords do not belong in the repository URL")
			}
			if err := validUser(u.User.Username()); err != nil {
				return fmt.Errorf("repository URL user: %w", err)
			}
		}
		if err := validHost(u.Hostname()); err != nil {
			return fmt.Errorf("repository URL host: %w", err)
		}
		if p := u.Port(); p != "" {
			if err := validPortString(p); err != nil {
				return fmt.Errorf("repository URL: %w", err)
			}
		}
		if u.Path == "" || u.Path == "/" {
			return errors.New("ssh:// repository URL needs a path: ssh://host/path")
		}
		if u.RawQuery != "" || u.Fragment != "" || hasDotDot(u.Path) {
			return errors.New("ssh:// repository URL must be ssh://host/path, without query, fragment or .. components")
		}
		return nil
	case strings.HasPrefix(s, "s3://"):
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("not a valid s3:// URL: %s", allowed)
		}
		if u.User != nil {
			return errors.New("credentials do not belong in the repository URL")
		}
		if err := ValidS3BucketName(u.Host); err != nil {
			return fmt.Errorf("repository URL bucket: %w", err)
		}
		if u.RawQuery != "" || u.Fragment != "" || hasDotDot(u.Path) {
			return errors.New("s3:// repository URL must be s3://bucket/prefix, without query, fragment or .. components")
		}
		return nil
	}
	return fmt.Errorf("not a repository location: %s", allowed)
}

// SanitizeClusterName turns a discovered name (Cassandra's cluster_name)
// into a valid inventory cluster name ("Test Cluster" → "Test-Cluster").
func SanitizeClusterName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}
