package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/hotsnap/hotsnap/config"
)

// ManifestFormat is the manifest format this package writes and the newest
// it reads. Format 1 recorded each archive's SHA-256 (TableArchive.SHA256,
// FileStore.SHA256); format 2 records its tar digest instead
// (ArchiveIndex.Digest), so that a backup hashes every byte once. Both are
// read and verified.
const ManifestFormat = 2

// Paths inside a backup directory.
const (
	ManifestFile   = "manifest.json"
	SchemaFile     = "schema.cql"
	ESSnapshotFile = "elasticsearch/snapshot.json"
	FilesArchive   = "files/attachments.tar"
	// DataArchive is an application's data directory (Alien4Cloud's
	// directories.alien), ConfigDir the folder of each node's archive of
	// configuration files (ConfigArchivePath).
	DataArchive     = "files/data.tar"
	ConfigDir       = "config"
	FilesS3Dir      = "files/s3"
	CassandraDir    = "cassandra"
	maxManifestSize = 256 << 20
)

// Manifest describes one complete backup. It is JSON, versioned by Format.
type Manifest struct {
	// Format is ManifestFormat.
	Format int `json:"format"`
	// ID is the backup ID, also the Cassandra snapshot tag and ES
	// snapshot name.
	ID string `json:"id"`
	// Label is the operator's name for the backup (backup --name), shown
	// by list; the ID stays the backup's unique name.
	Label string `json:"label,omitempty"`
	// Platform is the platform backed up (e.g. "thehive").
	Platform string `json:"platform"`
	// Cluster is the cluster's name from the inventory.
	Cluster string `json:"cluster"`
	// Started and Finished bound the backup run.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Tool is the hotsnap version that made the backup.
	Tool string `json:"tool"`
	// Topology is the cluster's shape when it was backed up.
	Topology Topology `json:"topology"`
	// Versions maps a component to its version ("cassandra": "4.1.3").
	Versions map[string]string `json:"versions,omitempty"`
	// Keyspace is the Cassandra keyspace backed up.
	Keyspace string `json:"keyspace,omitempty"`
	// Schema is the keyspace's CQL schema (DESCRIBE KEYSPACE).
	Schema string `json:"schema,omitempty"`
	// Cassandra lists every node's table archives.
	Cassandra []NodeArchive `json:"cassandra,omitempty"`
	// Elasticsearch is the ES snapshot, nil when not backed up.
	Elasticsearch *ESSnapshot `json:"elasticsearch,omitempty"`
	// Files is the attachments store (or the application's data
	// directory), nil when not backed up.
	Files *FileStore `json:"files,omitempty"`
	// Configs are the configuration files saved from each node, one
	// archive per node (paths relative to /), nil when none were.
	Configs []FileStore `json:"configs,omitempty"`
	// Quiesce says how the application was kept from writing while the
	// backup was taken ("maintenance mode", "service stopped"), "" when
	// it ran as usual (a hot backup).
	Quiesce string `json:"quiesce,omitempty"`
	// PostgreSQL and Redis are an EclecticIQ backup's dump and its broker
	// (manifest_eiq.go); its configuration archive is in Configs.
	PostgreSQL *PGBackup    `json:"postgresql,omitempty"`
	Redis      *RedisBackup `json:"redis,omitempty"`
	// Hot says the platform ran during the backup (EclecticIQ --hot): its
	// Elasticsearch snapshot may lag the PostgreSQL dump.
	Hot bool `json:"hot,omitempty"`
	// Resumes is the interrupted run whose backup this one took again
	// under the ID that run gave it (hotsnap resume): the ID's time is
	// then older than Started. "" for a backup taken in one run.
	Resumes string `json:"resumes,omitempty"`
	// Timings maps a step to its duration in seconds.
	Timings map[string]float64 `json:"timings,omitempty"`
	// SkewMS is the spread of the snapshot start times, in milliseconds.
	SkewMS float64 `json:"skew_ms"`
	// Warnings are non-fatal problems seen during the backup.
	Warnings []string `json:"warnings,omitempty"`
}

// Topology is the cluster's shape.
type Topology struct {
	// DC is the Cassandra datacenter (the first one when several).
	DC string `json:"dc,omitempty"`
	// Hosts lists every node.
	Hosts []Host `json:"hosts"`
}

// Host is one node of the topology.
type Host struct {
	// Name is the inventory name.
	Name string `json:"name"`
	// Address is the address hotsnap reached it at.
	Address string `json:"address"`
	// Roles are the node's inventory roles (cassandra, elasticsearch, ...).
	Roles []string `json:"roles,omitempty"`
	// HostID is the Cassandra host ID.
	HostID string `json:"host_id,omitempty"`
	// DC and Rack are the node's Cassandra datacenter and rack.
	DC   string `json:"dc,omitempty"`
	Rack string `json:"rack,omitempty"`
}

// NodeArchive is one Cassandra node's part of the backup.
type NodeArchive struct {
	Node   string   `json:"node"`
	Host   string   `json:"host"`
	HostID string   `json:"host_id,omitempty"`
	DC     string   `json:"dc,omitempty"`
	Rack   string   `json:"rack,omitempty"`
	Tokens []string `json:"tokens,omitempty"`
	// Tables lists one archive per table.
	Tables []TableArchive `json:"tables"`
}

// TableArchive is one table's snapshot on one node, stored as a tar.
type TableArchive struct {
	Keyspace string `json:"keyspace"`
	Table    string `json:"table"`
	TableID  string `json:"table_id"`
	// Archive is the tar's path in the repository (TableArchivePath).
	Archive string `json:"archive"`
	// Size is the archive's size in bytes.
	Size int64 `json:"size"`
	// Digest is the archive's tar digest (ArchiveIndex.Digest), from
	// format 2 on.
	Digest string `json:"digest,omitempty"`
	// SHA256 is the SHA-256 of the whole archive, in format 1 manifests.
	SHA256 string `json:"sha256,omitempty"`
	// Files lists every file in the archive (IndexTar).
	Files []FileEntry `json:"files"`
	// Rows is the table's row count when known.
	Rows int64 `json:"rows,omitempty"`
}

// ESSnapshot is the Elasticsearch snapshot of the backup. The data stays in
// ES's own snapshot repository.
type ESSnapshot struct {
	Repository string    `json:"repository"`
	Snapshot   string    `json:"snapshot"`
	UUID       string    `json:"uuid"`
	Indices    []string  `json:"indices"`
	State      string    `json:"state"`
	StartTime  time.Time `json:"start_time"`
	EndTime    time.Time `json:"end_time"`
	Shards     Shards    `json:"shards"`
	SizeBytes  int64     `json:"size_bytes,omitempty"`
	// Location is the ES repository's path (settings.location).
	Location string `json:"location,omitempty"`
	// Version is the ES (or OpenSearch) version that took it.
	Version string `json:"version,omitempty"`
	// Docs is each index's document count when the snapshot started, for
	// a restore to compare with (nil when not counted).
	Docs map[string]int64 `json:"docs,omitempty"`
}

// Shards counts a snapshot's shards.
type Shards struct {
	Total      int `json:"total"`
	Failed     int `json:"failed"`
	Successful int `json:"successful"`
}

// Providers of a FileStore.
const (
	ProviderLocalFS = "localfs"
	ProviderS3      = "s3"
)

// FileStore is the attachments part of the backup.
type FileStore struct {
	// Provider is ProviderLocalFS or ProviderS3.
	Provider string `json:"provider"`
	// Path is the local directory (localfs); Bucket the S3 bucket.
	Path   string `json:"path,omitempty"`
	Bucket string `json:"bucket,omitempty"`
	// Node is the node the local directory was read from.
	Node string `json:"node,omitempty"`
	// Archive and Size describe the tar of a localfs store
	// (FilesArchive); Digest is its tar digest (ArchiveIndex.Digest, from
	// format 2 on), SHA256 its whole SHA-256 (format 1).
	Archive string `json:"archive,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Digest  string `json:"digest,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	// Entries lists the files in the archive (localfs).
	Entries []FileEntry `json:"entries,omitempty"`
	// Special lists the FIFOs and device files in the archive (localfs):
	// archived as themselves, without content (ArchiveIndex.Special).
	Special []FileEntry `json:"special,omitempty"`
	// Objects lists every object copied from S3, stored under FilesS3Dir.
	Objects []ObjectEntry `json:"objects,omitempty"`
}

// ObjectEntry is one S3 object of the attachments store.
type ObjectEntry struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	ETag   string `json:"etag,omitempty"`
}

// TableArchivePath returns where a table's archive lives in backup id:
// <ID>/cassandra/<node>/<ks>/<table>-<tableid>.tar.
func TableArchivePath(id, node, keyspace, table, tableID string) string {
	return id + "/" + CassandraDir + "/" + node + "/" + keyspace + "/" + table + "-" + tableID + ".tar"
}

// ConfigArchivePath returns where node's configuration files live in
// backup id: <ID>/config/<node>.tar.
func ConfigArchivePath(id, node string) string { return id + "/" + ConfigDir + "/" + node + ".tar" }

// ObjectPath returns where an S3 attachment object lives in backup id.
func ObjectPath(id, key string) string { return id + "/" + FilesS3Dir + "/" + key }

// Components lists what the backup holds: "cassandra", "elasticsearch",
// "files", "config".
func (m *Manifest) Components() []string {
	var c []string
	if len(m.Cassandra) > 0 {
		c = append(c, "cassandra")
	}
	if m.Elasticsearch != nil {
		c = append(c, "elasticsearch")
	}
	if m.Files != nil {
		c = append(c, "files")
	}
	if len(m.Configs) > 0 {
		c = append(c, ConfigDir)
	}
	return append(c, m.eiqComponents()...)
}

// Size returns the bytes the manifest accounts for in the repository.
func (m *Manifest) Size() int64 {
	n, _ := m.CassandraSize()
	if m.Files != nil {
		n += m.Files.Size
		for _, o := range m.Files.Objects {
			n += o.Size
		}
	}
	for _, c := range m.Configs {
		n += c.Size
	}
	return n + m.eiqSize()
}

// CassandraSize returns the bytes of every table archive and the number of
// files (SSTable components) in them.
func (m *Manifest) CassandraSize() (bytes int64, files int) {
	for _, na := range m.Cassandra {
		for _, t := range na.Tables {
			bytes += t.Size
			files += len(t.Files)
		}
	}
	return bytes, files
}

// NewID returns a new backup ID for a backup started at now, e.g.
// "hotsnap-20261122-213000-a1b2" (UTC, 4 random hex digits). It is valid as
// a Cassandra snapshot tag and an Elasticsearch snapshot name.
func NewID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return "hotsnap-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// IDTime returns the time encoded in an ID made by NewID (UTC): when its
// first run started; a resumed backup keeps it.
func IDTime(id string) (time.Time, bool) {
	const layout = "hotsnap-20060102-150405"
	if len(id) < len(layout) {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, id[:len(layout)])
	return t, err == nil
}

// IsHotsnapName reports whether name is one hotsnap gives its backups (and
// so their Cassandra snapshots and Elasticsearch snapshots): NewID's form.
func IsHotsnapName(name string) bool {
	_, ok := IDTime(name)
	return ok && CheckID(name) == nil
}

// CheckID reports whether id can name a backup: a valid snapshot name (see
// config.ValidSnapshotTag).
func CheckID(id string) error {
	if err := config.ValidSnapshotTag(id); err != nil {
		return fmt.Errorf("backup ID: %w", err)
	}
	return nil
}

// maxLabel bounds a backup's label.
const maxLabel = 128

// CheckLabel reports whether s can label a backup (backup --name): at most
// 128 characters, printable, no line breaks; "" is no label.
func CheckLabel(s string) error {
	if len(s) > maxLabel {
		return fmt.Errorf("label is %d bytes long: at most %d", len(s), maxLabel)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("label %q holds a character that is not printable", s)
		}
	}
	return nil
}

// WriteManifest stores m as <ID>/manifest.json, atomically (the store
// writes a temporary file and renames it, or completes one S3 upload), so a
// reader sees either no manifest or the whole one. When m.Schema is set it
// first writes <ID>/schema.cql. Call it last: its presence marks the backup
// complete.
func WriteManifest(ctx context.Context, s Store, m *Manifest) error {
	if m == nil {
		return errors.New("write manifest: nil manifest")
	}
	if err := CheckID(m.ID); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if m.Format == 0 {
		m.Format = ManifestFormat
	}
	if m.Format != ManifestFormat {
		return fmt.Errorf("write manifest %s: format %d, this hotsnap writes %d", m.ID, m.Format, ManifestFormat)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest %s: %w", m.ID, err)
	}
	data = append(data, '\n')
	if m.Schema != "" {
		if err := putFile(ctx, s, m.ID+"/"+SchemaFile, []byte(m.Schema)); err != nil {
			return fmt.Errorf("write manifest %s: schema: %w", m.ID, err)
		}
	}
	if err := putFile(ctx, s, m.ID+"/"+ManifestFile, data); err != nil {
		return fmt.Errorf("write manifest %s: %w", m.ID, err)
	}
	return nil
}

// putFile writes data to p in one Create/Write/Close.
func putFile(ctx context.Context, s Store, p string, data []byte) error {
	w, err := s.Create(ctx, p)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = Abort(w)
		return err
	}
	return w.Close()
}

// ErrCorruptManifest is wrapped by ReadManifest's errors for a manifest that
// exists but cannot be used.
var ErrCorruptManifest = errors.New("corrupt manifest")

// ReadManifest reads backup id's manifest. An absent manifest is an error
// wrapping fs.ErrNotExist; an unreadable one wraps ErrCorruptManifest.
func ReadManifest(ctx context.Context, s Store, id string) (*Manifest, error) {
	if err := CheckID(id); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	r, err := s.Open(ctx, id+"/"+ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", id, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", id, err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("read manifest %s: %w: larger than %d bytes", id, ErrCorruptManifest, maxManifestSize)
	}
	return parseManifest(id, data)
}

func parseManifest(id string, data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w: %w", id, ErrCorruptManifest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("read manifest %s: %w: data after the JSON object", id, ErrCorruptManifest)
	}
	switch {
	case m.Format == 0:
		return nil, fmt.Errorf("read manifest %s: %w: no format field", id, ErrCorruptManifest)
	case m.Format > ManifestFormat:
		return nil, fmt.Errorf("read manifest %s: format %d is newer than this hotsnap understands (%d): upgrade hotsnap", id, m.Format, ManifestFormat)
	case m.ID != id:
		return nil, fmt.Errorf("read manifest %s: %w: it names backup %q", id, ErrCorruptManifest, m.ID)
	}
	if err := m.CheckNames(); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w: %w", id, ErrCorruptManifest, err)
	}
	return &m, nil
}

// safeNameRE is what a keyspace, table, node or table ID may look like in a
// manifest: names that become path elements and command arguments on the
// nodes, so that a damaged or hostile manifest cannot point a restore
// outside its staging folders ("../").
var safeNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`) // and at most 128 bytes

// CheckNames refuses a manifest whose keyspace, node, table or table ID
// names could escape the folders a restore writes into.
func (m *Manifest) CheckNames() error {
	check := func(what, v string, optional bool) error {
		if v == "" && optional {
			return nil
		}
		if !(len(v) <= 128 && safeNameRE.MatchString(v)) || strings.Contains(v, "..") {
			return fmt.Errorf("%s %q is not a plain name (letters, digits, _ . -)", what, v)
		}
		return nil
	}
	if err := check("keyspace", m.Keyspace, true); err != nil {
		return err
	}
	// Index names go into DELETE /<index> on restore: no wildcard, no _all.
	if e := m.Elasticsearch; e != nil {
		for _, i := range e.Indices {
			if err := config.ValidESIndexName(i); err != nil {
				return fmt.Errorf("elasticsearch index: %w", err)
			}
		}
		if err := config.ValidESRepositoryName(e.Repository); err != nil && e.Repository != "" {
			return fmt.Errorf("elasticsearch repository: %w", err)
		}
		if err := config.ValidSnapshotTag(e.Snapshot); err != nil && e.Snapshot != "" {
			return fmt.Errorf("elasticsearch snapshot: %w", err)
		}
	}
	for _, c := range m.Configs {
		if err := check("node", c.Node, false); err != nil {
			return err
		}
	}
	if err := CheckLabel(m.Label); err != nil {
		return err
	}
	for _, n := range m.Cassandra {
		if err := check("node", n.Node, false); err != nil {
			return err
		}
		for _, t := range n.Tables {
			if err := check("keyspace", t.Keyspace, true); err != nil {
				return err
			}
			if err := check("table", t.Table, false); err != nil {
				return fmt.Errorf("node %s: %w", n.Node, err)
			}
			if err := check("table id", t.TableID, true); err != nil {
				return fmt.Errorf("node %s: table %s: %w", n.Node, t.Table, err)
			}
		}
	}
	return nil
}
