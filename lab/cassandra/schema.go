package cassandra

import (
	"crypto/sha1"
	"fmt"
	"sort"
	"strings"
)

// Column is one column of a table definition.
type Column struct {
	// Name is the column name.
	Name string `json:"name"`
	// Type is the CQL type as written in DESCRIBE output (e.g. "blob").
	Type string `json:"type"`
	// Kind is partition_key, clustering or regular (system_schema.columns kind).
	Kind string `json:"kind"`
	// Position is the index inside the partition key or clustering key, -1 for regular columns.
	Position int `json:"position"`
	// Order is the clustering order ("asc"/"desc"), "none" for non-clustering columns.
	Order string `json:"clustering_order"`
}

// Table is a table definition kept in the stand-in's schema files.
type Table struct {
	// Name is the table name.
	Name string `json:"name"`
	// ID is the table UUID in 8-4-4-4-12 form; the data directory is <name>-<id without dashes>.
	ID string `json:"id"`
	// Columns lists every column.
	Columns []Column `json:"columns"`
	// Options holds table options (raw CQL literals) that differ from the 4.1 defaults.
	Options map[string]string `json:"options,omitempty"`
}

// Keyspace is a keyspace definition with its tables.
type Keyspace struct {
	// Name is the keyspace name.
	Name string `json:"name"`
	// Replication is the replication map as stored in system_schema.keyspaces
	// (fully-qualified class name under "class").
	Replication map[string]string `json:"replication"`
	// DurableWrites mirrors the durable_writes flag.
	DurableWrites bool `json:"durable_writes"`
	// Tables lists the keyspace's tables.
	Tables []*Table `json:"tables"`
}

// Table returns the named table or nil.
func (k *Keyspace) Table(name string) *Table {
	for _, t := range k.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// DirName is the data directory name of the table: <name>-<32 hex id>.
func (t *Table) DirName() string { return t.Name + "-" + strings.ReplaceAll(t.ID, "-", "") }

// defaultTableOptions are the 4.1 defaults in DESCRIBE order.
var defaultTableOptions = [][2]string{
	{"additional_write_policy", "'99p'"},
	{"bloom_filter_fp_chance", "0.01"},
	{"caching", "{'keys': 'ALL', 'rows_per_partition': 'NONE'}"},
	{"cdc", "false"},
	{"comment", "''"},
	{"compaction", "{'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}"},
	{"compression", "{'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}"},
	{"memtable", "'default'"},
	{"crc_check_chance", "1.0"},
	{"default_time_to_live", "0"},
	{"extensions", "{}"},
	{"gc_grace_seconds", "864000"},
	{"max_index_interval", "2048"},
	{"memtable_flush_period_in_ms", "0"},
	{"min_index_interval", "128"},
	{"read_repair", "'BLOCKING'"},
	{"speculative_retry", "'99p'"},
}

// knownTableOption reports whether name is a 4.1 table option.
func knownTableOption(name string) bool {
	for _, o := range defaultTableOptions {
		if o[0] == name {
			return true
		}
	}
	return false
}

func (t *Table) option(name string) string {
	if v, ok := t.Options[name]; ok {
		return v
	}
	for _, o := range defaultTableOptions {
		if o[0] == name {
			return o[1]
		}
	}
	return ""
}

func (t *Table) columnsOfKind(kind string) []Column {
	var out []Column
	for _, c := range t.Columns {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if kind == "regular" {
			return out[i].Name < out[j].Name
		}
		return out[i].Position < out[j].Position
	})
	return out
}

// CreateStatement renders the table like Cassandra 4.1's TableMetadata.toCqlString.
// internals=true renders the snapshot schema.cql variant
// ("CREATE TABLE IF NOT EXISTS" and "WITH ID = ...").
func (t *Table) CreateStatement(keyspace string, internals bool) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	if internals {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(quoteIdent(keyspace) + "." + quoteIdent(t.Name) + " (\n")
	pk := t.columnsOfKind("partition_key")
	ck := t.columnsOfKind("clustering")
	reg := t.columnsOfKind("regular")
	inlinePK := len(pk) == 1 && len(ck) == 0
	for _, c := range append(append(append([]Column{}, pk...), ck...), reg...) {
		b.WriteString("    " + quoteIdent(c.Name) + " " + c.Type)
		if inlinePK && c.Kind == "partition_key" {
			b.WriteString(" PRIMARY KEY")
		}
		b.WriteString(",\n")
	}
	if !inlinePK {
		var pkNames []string
		for _, c := range pk {
			pkNames = append(pkNames, quoteIdent(c.Name))
		}
		key := strings.Join(pkNames, ", ")
		if len(pk) > 1 {
			key = "(" + key + ")"
		}
		for _, c := range ck {
			key += ", " + quoteIdent(c.Name)
		}
		b.WriteString("    PRIMARY KEY (" + key + ")\n")
	} else {
		// drop the trailing comma of the last column line
		s := strings.TrimSuffix(b.String(), ",\n") + "\n"
		b.Reset()
		b.WriteString(s)
	}
	b.WriteString(")")
	first := true
	and := func(s string) {
		if first {
			b.WriteString(" WITH " + s)
			first = false
		} else {
			b.WriteString("\n    AND " + s)
		}
	}
	if internals {
		and("ID = " + t.ID)
	}
	if len(ck) > 0 {
		var parts []string
		for _, c := range ck {
			o := strings.ToUpper(c.Order)
			if o == "" || o == "NONE" {
				o = "ASC"
			}
			parts = append(parts, quoteIdent(c.Name)+" "+o)
		}
		and("CLUSTERING ORDER BY (" + strings.Join(parts, ", ") + ")")
	}
	for _, o := range defaultTableOptions {
		and(o[0] + " = " + t.option(o[0]))
	}
	b.WriteString(";")
	return b.String()
}

// shortClass strips the org.apache.cassandra.locator. prefix.
func shortClass(c string) string { return strings.TrimPrefix(c, "org.apache.cassandra.locator.") }

// fullClass adds the org.apache.cassandra.locator. prefix to a short strategy name.
func fullClass(c string) string {
	if strings.Contains(c, ".") {
		return c
	}
	return "org.apache.cassandra.locator." + c
}

// replicationCQL renders a replication map as DESCRIBE does: class first (short name), others sorted.
func replicationCQL(r map[string]string, short bool) string {
	parts := []string{}
	cls := r["class"]
	if short {
		cls = shortClass(cls)
	}
	parts = append(parts, fmt.Sprintf("'class': '%s'", cls))
	var keys []string
	for k := range r {
		if k != "class" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("'%s': '%s'", k, r[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// CreateStatement renders the keyspace like DESCRIBE KEYSPACE (note the two spaces before AND).
func (k *Keyspace) CreateStatement() string {
	return fmt.Sprintf("CREATE KEYSPACE %s WITH replication = %s  AND durable_writes = %t;",
		quoteIdent(k.Name), replicationCQL(k.Replication, true), k.DurableWrites)
}

// ReplicationFactor returns the total replication factor of the keyspace (sum over DCs for
// NetworkTopologyStrategy, 0 for LocalStrategy).
func (k *Keyspace) ReplicationFactor() int {
	total := 0
	for key, v := range k.Replication {
		if key == "class" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err == nil {
			total += n
		}
	}
	return total
}

// javaMapString renders the replication options (without class) like java.util.HashMap.toString.
func javaMapString(r map[string]string) string {
	var keys []string
	for k := range r {
		if k != "class" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+r[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// quoteIdent double-quotes identifiers that are not lower-case unquoted names.
func quoteIdent(s string) string {
	ok := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || (i > 0 && r >= '0' && r <= '9')) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// deterministicUUID derives a version-1-looking UUID from a string.
func deterministicUUID(seed string) string {
	h := sha1.Sum([]byte(seed))
	h[6] = (h[6] & 0x0f) | 0x10
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// janusTable returns the JanusGraph table shape (key blob, column1 blob, value blob).
func janusTable(name, id string) *Table {
	return &Table{
		Name: name,
		ID:   id,
		Columns: []Column{
			{Name: "key", Type: "blob", Kind: "partition_key", Position: 0, Order: "none"},
			{Name: "column1", Type: "blob", Kind: "clustering", Position: 0, Order: "asc"},
			{Name: "value", Type: "blob", Kind: "regular", Position: -1, Order: "none"},
		},
		// JanusGraph creates its tables with 64 KiB LZ4 chunks.
		Options: map[string]string{
			"compression": "{'chunk_length_in_kb': '64', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}",
		},
	}
}

// systemKeyspaces returns the replication of the built-in keyspaces.
func systemKeyspaces() []*Keyspace {
	ss := func(rf string) map[string]string {
		return map[string]string{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": rf}
	}
	local := map[string]string{"class": "org.apache.cassandra.locator.LocalStrategy"}
	return []*Keyspace{
		{Name: "system_auth", Replication: ss("1"), DurableWrites: true},
		{Name: "system_distributed", Replication: ss("3"), DurableWrites: true},
		{Name: "system_traces", Replication: ss("2"), DurableWrites: true},
		{Name: "system_schema", Replication: local, DurableWrites: true},
		{Name: "system", Replication: local, DurableWrites: true},
	}
}

// isSystemKeyspace reports whether name is a built-in (or virtual) keyspace.
func isSystemKeyspace(name string) bool {
	switch name {
	case "system", "system_auth", "system_distributed", "system_traces", "system_schema", "system_views", "system_virtual_schema":
		return true
	}
	return false
}
