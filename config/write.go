package config

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Write saves inv as a commented YAML inventory at path, with mode 0600,
// atomically (a temporary file in the same directory, then a rename).
// Defaults are written out explicitly. Before anything touches the disk the
// text is parsed back; Write refuses an inventory that Load would reject or
// that would not read back identically (apart from Path and Node.Line).
func Write(path string, inv *Inventory) error {
	if inv == nil {
		return fmt.Errorf("write inventory %s: no inventory given", path)
	}
	want := normalized(inv)
	text := render(want)
	got, err := Parse(path, text)
	if err != nil {
		return fmt.Errorf("write inventory %s: the inventory is not valid: %w", path, err)
	}
	want.Path = got.Path
	for i := range want.Nodes {
		if i < len(got.Nodes) {
			want.Nodes[i].Line = got.Nodes[i].Line
		}
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("write inventory %s: the written text would not read back identically (a value cannot be represented)", path)
	}
	if err := writeAtomic(path, text, 0o600); err != nil {
		return fmt.Errorf("write inventory %s: %w", path, err)
	}
	return nil
}

// writeAtomic writes data to a temporary file next to path, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp.Name(), err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // best effort: make the rename durable
		_ = d.Close()
	}
	return nil
}

// normalized returns a deep copy of inv in the form Parse produces:
// defaults applied, empty lists and maps nil, prompt labels set.
func normalized(in *Inventory) *Inventory {
	inv := *in
	inv.SSH.IdentityFiles = nilIfEmpty(in.SSH.IdentityFiles)
	inv.SSH.SudoPassword = promptLabel(in.SSH.SudoPassword, "ssh.sudo_password")
	inv.Nodes = nil
	for _, n := range in.Nodes {
		n.IdentityFiles = nilIfEmpty(n.IdentityFiles)
		n.Roles = nilIfEmpty(n.Roles)
		if len(n.Paths) == 0 {
			n.Paths = nil
		} else {
			n.Paths = maps.Clone(n.Paths)
		}
		inv.Nodes = append(inv.Nodes, n)
	}
	if in.Cassandra != nil {
		c := *in.Cassandra
		c.Password = promptLabel(c.Password, "cassandra.password")
		inv.Cassandra = &c
	}
	if in.Elasticsearch != nil {
		e := *in.Elasticsearch
		e.Password = promptLabel(e.Password, "elasticsearch.password")
		inv.Elasticsearch = &e
	}
	if in.Storage != nil {
		s := *in.Storage
		if in.Storage.S3 != nil {
			b := *in.Storage.S3
			b.AccessKey = promptLabel(b.AccessKey, "storage.s3.access_key")
			b.SecretKey = promptLabel(b.SecretKey, "storage.s3.secret_key")
			s.S3 = &b
		}
		inv.Storage = &s
	}
	if in.Alien4Cloud != nil {
		a := *in.Alien4Cloud
		a.Password = promptLabel(a.Password, "alien4cloud.password")
		a.ExtraFiles = nilIfEmpty(a.ExtraFiles)
		inv.Alien4Cloud = &a
	}
	if in.EclecticIQ != nil {
		e := *in.EclecticIQ
		e.Redis.Password = promptLabel(e.Redis.Password, "eclecticiq.redis.password")
		inv.EclecticIQ = &e
	}
	inv.applyDefaults()
	return &inv
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func promptLabel(s Secret, label string) Secret {
	if s.Kind == SecretPrompt {
		s.Ref = label
	}
	return s
}

// yamlWriter builds the YAML text line by line.
type yamlWriter struct{ b strings.Builder }

func (w *yamlWriter) line(indent int, text, comment string) {
	w.b.WriteString(strings.Repeat("  ", indent))
	w.b.WriteString(text)
	if comment != "" {
		w.b.WriteString("  # ")
		w.b.WriteString(comment)
	}
	w.b.WriteByte('\n')
}

func (w *yamlWriter) comment(indent int, lines ...string) {
	for _, l := range lines {
		w.line(indent, "# "+l, "")
	}
}

func (w *yamlWriter) blank() { w.b.WriteByte('\n') }

// str writes key: value when value is not empty.
func (w *yamlWriter) str(indent int, key, value, comment string) {
	if value != "" {
		w.line(indent, key+": "+yamlString(value), comment)
	}
}

func (w *yamlWriter) num(indent int, key string, value int, comment string) {
	if value != 0 {
		w.line(indent, key+": "+strconv.Itoa(value), comment)
	}
}

func (w *yamlWriter) dur(indent int, key string, value time.Duration, comment string) {
	if value != 0 {
		w.line(indent, key+": "+value.String(), comment)
	}
}

func (w *yamlWriter) secret(indent int, key string, s Secret, comment string) {
	if s.IsSet() {
		w.line(indent, key+": "+yamlString(s.String()), comment)
	}
}

func (w *yamlWriter) list(indent int, key string, values []string, comment string) {
	if len(values) == 0 {
		return
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = yamlFlowString(v)
	}
	w.line(indent, key+": ["+strings.Join(quoted, ", ")+"]", comment)
}

var plainRE = regexp.MustCompile(`^[A-Za-z0-9_/~][A-Za-z0-9_./~:@+%-]*$`)

// yamlString renders s as a YAML scalar that reads back as the same string:
// plain when the YAML parser agrees it is that string, else double-quoted.
func yamlString(s string) string {
	if plainRE.MatchString(s) && !strings.HasSuffix(s, ":") && readsAsString(s) {
		return s
	}
	return strconv.Quote(s)
}

// yamlFlowString is yamlString for items of a [a, b] list.
func yamlFlowString(s string) string {
	if strings.ContainsAny(s, "[]{},") {
		return strconv.Quote(s)
	}
	return yamlString(s)
}

// readsAsString reports whether "k: s" parses with s as that same string.
func readsAsString(s string) bool {
	f, err := parser.ParseBytes([]byte("k: "+s+"\n"), 0)
	if err != nil || len(f.Docs) != 1 {
		return false
	}
	m, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok || len(m.Values) != 1 {
		return false
	}
	v, ok := m.Values[0].Value.(*ast.StringNode)
	return ok && v.Value == s
}

// render writes inv (already normalized) as commented YAML.
func render(inv *Inventory) []byte {
	w := &yamlWriter{}
	w.comment(0,
		fmt.Sprintf("hotsnap inventory — %s, cluster %s (%d nodes). Written by hotsnap.", inv.Platform, inv.Cluster, len(inv.Nodes)),
		"Secrets are references, never values:",
		"  env:NAME      read from the environment variable NAME",
		"  file:PATH     read from a file (first line, trailing newline stripped; ~ expands)",
		"  prompt        asked on the terminal when needed (fails without a TTY)")
	w.num(0, "version", inv.Version, "")
	w.str(0, "platform", inv.Platform, strings.Join(platforms, " | "))
	w.str(0, "cluster", inv.Cluster, "typed by the operator to approve destructive gates")
	w.str(0, "state_dir", inv.StateDir, "where run journals are kept")

	w.blank()
	w.line(0, "ssh:", "")
	s := inv.SSH
	w.str(1, "user", s.User, "default login user for every node")
	w.num(1, "port", s.Port, "")
	w.list(1, "identity_files", s.IdentityFiles, "tried after ssh-agent")
	w.str(1, "known_hosts", s.KnownHosts, "")
	w.str(1, "config_file", s.ConfigFile, "Host aliases, HostName, User, Port, IdentityFile, ProxyJump")
	w.dur(1, "connect_timeout", s.ConnectTimeout, "")
	w.dur(1, "keepalive", s.Keepalive, "")
	w.str(1, "sudo", s.Sudo, "auto (sudo -n, then password) | nopasswd | password | none (already root)")
	w.secret(1, "sudo_password", s.SudoPassword, "")

	w.blank()
	w.line(0, "nodes:", "")
	for _, n := range inv.Nodes {
		w.line(1, "- name: "+yamlString(n.Name), "")
		w.str(2, "host", n.Host, "")
		w.num(2, "port", n.Port, "")
		w.str(2, "user", n.User, "")
		w.list(2, "identity_files", n.IdentityFiles, "")
		w.list(2, "roles", n.Roles, "")
		if len(n.Paths) > 0 {
			w.line(2, "paths:", "")
			for _, k := range pathKeys {
				if v, ok := n.Paths[k]; ok {
					w.str(3, k, v, "")
				}
			}
		}
	}

	if c := inv.Cassandra; c != nil {
		w.blank()
		w.line(0, "cassandra:", "")
		w.str(1, "keyspace", c.Keyspace, "")
		w.num(1, "port", c.Port, "")
		w.str(1, "data_dir", c.DataDir, "")
		w.str(1, "username", c.Username, "")
		w.secret(1, "password", c.Password, "")
		w.str(1, "app_role", c.AppRole, "role granted ALL PERMISSIONS on the keyspace after a restore")
	}
	if e := inv.Elasticsearch; e != nil {
		w.blank()
		w.line(0, "elasticsearch:", "")
		w.str(1, "url", e.URL, "as seen from each node")
		w.str(1, "index", e.Index, "")
		w.str(1, "audit_index", e.AuditIndex, "")
		w.str(1, "username", e.Username, "")
		w.secret(1, "password", e.Password, "")
		w.str(1, "repository", e.Repository, "snapshot repository name")
		w.str(1, "repository_path", e.RepositoryPath, "path.repo of the fs repository")
	}
	if st := inv.Storage; st != nil {
		w.blank()
		w.line(0, "storage:", "")
		w.str(1, "provider", st.Provider, strings.Join(providers, " | "))
		w.str(1, "path", st.Path, "")
		w.str(1, "owner", st.Owner, "")
		if b := st.S3; b != nil {
			w.line(1, "s3:", "")
			w.str(2, "endpoint", b.Endpoint, "")
			w.str(2, "bucket", b.Bucket, "")
			w.str(2, "region", b.Region, "")
			if b.PathStyle {
				w.line(2, "path_style: true", "required by SeaweedFS")
			}
			w.secret(2, "access_key", b.AccessKey, "")
			w.secret(2, "secret_key", b.SecretKey, "")
		}
	}
	w.alien4cloud(inv.Alien4Cloud)
	renderEclecticIQ(w, inv)
	w.blank()
	w.line(0, "repository:", "")
	w.str(1, "url", inv.Repository.URL, "a local directory, ssh://host/path or s3://bucket/prefix")
	return []byte(w.b.String())
}
