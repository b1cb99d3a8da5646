package elastic

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The fs repository keeps the layout of a real Elasticsearch fs repository:
//
//	index-N, index.latest          repository data (generation N; JSON as in ES)
//	snap-<uuid>.dat, meta-<uuid>.dat  snapshot info and global metadata
//	indices/<id>/meta-<blob>.dat   index metadata
//	indices/<id>/<shard>/index-<gen>, snap-<uuid>.dat, __<blob>  shard data
//
// Metadata blobs are plain JSON (real ES writes SMILE behind a Lucene codec
// header); data blobs are pseudo-random bytes whose CRC32 is recorded in the
// shard metadata and checked when a restore reads them back.

// blobFile is one Lucene file stored in the repository.
type blobFile struct {
	Shard    int    `json:"shard"`
	Name     string `json:"name"`
	Physical string `json:"physical_name"`
	Length   int64  `json:"length"`
	Checksum string `json:"checksum"`
	Seed     string `json:"seed"`
	New      bool   `json:"new,omitempty"`
	Written  bool   `json:"written,omitempty"`
}

// fileInfo is the per-file entry of shard-level metadata blobs.
type fileInfo struct {
	Name      string `json:"name"`
	Physical  string `json:"physical_name"`
	Length    int64  `json:"length"`
	Checksum  string `json:"checksum"`
	Seed      string `json:"seed"`
	PartSize  int64  `json:"part_size"`
	WrittenBy string `json:"written_by"`
}

type snapIndex struct {
	Name         string    `json:"name"`
	Lineage      string    `json:"lineage"`
	RepoID       string    `json:"repo_id"`
	Shards       int       `json:"shards"`
	Replicas     int       `json:"replicas"`
	Segments     []segment `json:"segments"`
	Files        []blobFile
	FailedShards []int `json:"failed_shards,omitempty"`
	// Stored, DocType and NextSeqNo carry the stored documents.
	Stored    map[string]*storedDoc `json:"stored,omitempty"`
	DocType   string                `json:"doc_type,omitempty"`
	NextSeqNo int64                 `json:"next_seq_no,omitempty"`
}

func (si *snapIndex) shardFailed(s int) bool {
	for _, f := range si.FailedShards {
		if f == s {
			return true
		}
	}
	return false
}

type running struct {
	Repo          string         `json:"repo"`
	Name          string         `json:"name"`
	UUID          string         `json:"uuid"`
	StartMs       int64          `json:"start_ms"`
	Indices       []*snapIndex   `json:"indices"`
	IncludeGlobal bool           `json:"include_global_state"`
	Metadata      map[string]any `json:"metadata,omitempty"`
	Fault         *fault         `json:"fault,omitempty"`
	Rate          int64          `json:"rate,omitempty"` // bytes per second (0: Options.SnapshotRate)
}

// snapshotRate is the bytes per second snapshot rs copies at.
func (c *Cluster) snapshotRate(rs *running) int64 {
	if rs.Rate > 0 {
		return rs.Rate
	}
	return c.opts.SnapshotRate
}

// snapInfo is what snap-<uuid>.dat holds.
type snapInfo struct {
	Snapshot      string            `json:"snapshot"`
	UUID          string            `json:"uuid"`
	Repository    string            `json:"repository"`
	VersionID     int               `json:"version_id"`
	Version       string            `json:"version"`
	Indices       []string          `json:"indices"`
	IncludeGlobal bool              `json:"include_global_state"`
	Metadata      map[string]any    `json:"metadata,omitempty"`
	State         string            `json:"state"`
	Reason        string            `json:"reason,omitempty"`
	StartMs       int64             `json:"start_time"`
	EndMs         int64             `json:"end_time"`
	TotalShards   int               `json:"total_shards"`
	SuccessShards int               `json:"successful_shards"`
	Failures      []shardFailure    `json:"failures"`
	IndexRepoIDs  map[string]string `json:"index_ids"`
}

type shardFailure struct {
	Index     string `json:"index"`
	IndexUUID string `json:"index_uuid"`
	ShardID   int    `json:"shard_id"`
	Reason    string `json:"reason"`
	NodeID    string `json:"node_id"`
	Status    string `json:"status"`
}

// repoData is the JSON in index-N.
type repoData struct {
	MinVersion string               `json:"min_version"`
	UUID       string               `json:"uuid"`
	ClusterID  string               `json:"cluster_id"`
	Snapshots  []repoSnap           `json:"snapshots"`
	Indices    map[string]repoIndex `json:"indices"`
	IndexMeta  map[string]string    `json:"index_metadata_identifiers"`
	gen        int64
}

type repoSnap struct {
	Name      string            `json:"name"`
	UUID      string            `json:"uuid"`
	State     int               `json:"state"`
	IndexMeta map[string]string `json:"index_metadata_lookup"`
	Version   string            `json:"version"`
	StartMs   int64             `json:"start_time_millis"`
	EndMs     int64             `json:"end_time_millis"`
	SlmPolicy string            `json:"slm_policy"`
}

type repoIndex struct {
	ID        string   `json:"id"`
	Snapshots []string `json:"snapshots"`
	ShardGens []string `json:"shard_generations"`
}

// shardGenFile is indices/<id>/<shard>/index-<gen>.
type shardGenFile struct {
	Files     []fileInfo          `json:"files"`
	Snapshots map[string][]string `json:"snapshots"`
}

// shardSnapFile is indices/<id>/<shard>/snap-<uuid>.dat.
type shardSnapFile struct {
	Name                 string     `json:"name"`
	StartTime            int64      `json:"start_time"`
	Time                 int64      `json:"time"`
	IncrementalFileCount int        `json:"incremental_file_count"`
	IncrementalSize      int64      `json:"incremental_size"`
	Files                []fileInfo `json:"files"`
}

// indexMetaFile is indices/<id>/meta-<blob>.dat.
type indexMetaFile struct {
	Name     string    `json:"name"`
	UUID     string    `json:"uuid"`
	Lineage  string    `json:"lineage"`
	Shards   int       `json:"number_of_shards"`
	Replicas int       `json:"number_of_replicas"`
	Segments []segment `json:"segments"`
	// Stored documents (real ES keeps them in the segments; the stand-in
	// keeps them with the index metadata), their type and sequence.
	Stored    map[string]*storedDoc `json:"stored,omitempty"`
	DocType   string                `json:"doc_type,omitempty"`
	NextSeqNo int64                 `json:"next_seq_no,omitempty"`
}

var stateCode = map[string]int{"IN_PROGRESS": 0, "SUCCESS": 1, "FAILED": 2, "PARTIAL": 3}

// ---- content ----

// genContent writes length pseudo-random bytes derived from seed to w and
// returns their CRC32.
func genContent(seed string, length int64, w io.Writer) (uint32, error) {
	key := sha256.Sum256([]byte(seed))
	rng := rand.NewChaCha8(key)
	h := crc32.NewIEEE()
	buf := make([]byte, 64<<10)
	for left := length; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		if _, err := rng.Read(buf[:n]); err != nil {
			return 0, fmt.Errorf("generate content: %w", err)
		}
		h.Write(buf[:n])
		if w != nil {
			if _, err := w.Write(buf[:n]); err != nil {
				return 0, err
			}
		}
		left -= n
	}
	return h.Sum32(), nil
}

func fmtChecksum(c uint32) string { return strconv.FormatUint(uint64(c), 36) }

// luceneFiles lists the files of one shard of an index, as Lucene would name
// them: a segment per Seed call plus a segments_N commit point.
func luceneFiles(lineage string, shards, shard int, segs []segment) []blobFile {
	var out []blobFile
	maxGen := 0
	live := 0
	for _, sg := range segs {
		b := sg.Bytes / int64(shards)
		if shard == 0 {
			b += sg.Bytes % int64(shards)
		}
		if sg.Gen > maxGen {
			maxGen = sg.Gen
		}
		if b == 0 {
			continue
		}
		live++
		name := "_" + strconv.FormatInt(int64(sg.Gen-1), 36)
		parts := splitSegment(b)
		for _, p := range parts {
			out = append(out, blobFile{Shard: shard, Physical: name + p.ext, Length: p.n})
		}
	}
	out = append(out, blobFile{Shard: shard, Physical: "segments_" + strconv.FormatInt(int64(maxGen+1), 36), Length: int64(155 + 60*live)})
	for i := range out {
		out[i].Seed = fmt.Sprintf("%s/%d/%s/%d", lineage, shard, out[i].Physical, out[i].Length)
	}
	return out
}

type part struct {
	ext string
	n   int64
}

func splitSegment(b int64) []part {
	take := func(want int64) int64 {
		if want > b {
			want = b
		}
		b -= want
		return want
	}
	if b < 16<<20 {
		si := take(360)
		cfe := take(300)
		ps := []part{{".si", si}}
		if cfe > 0 {
			ps = append(ps, part{".cfe", cfe})
		}
		if b > 0 {
			ps = append(ps, part{".cfs", b})
		}
		return ps
	}
	total := b
	ps := []part{{".si", take(360)}, {".fnm", take(1200)}}
	fdt := take(total * 40 / 100)
	tim := take(total * 25 / 100)
	doc := take(total * 20 / 100)
	ps = append(ps, part{".fdt", fdt}, part{".tim", tim}, part{".doc", doc}, part{".dvd", b})
	return ps
}

// ---- repository files ----

func (r *repoMeta) path(parts ...string) string {
	return filepath.Join(append([]string{r.Location}, parts...)...)
}

func writeJSONFile(path string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return writeFileAtomic(path, raw)
}

func readJSONFile(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// latestGen finds the repository generation: index.latest, else the highest
// index-N, else -1 (empty repository).
func latestGen(loc string) int64 {
	if raw, err := os.ReadFile(filepath.Join(loc, "index.latest")); err == nil && len(raw) == 8 {
		g := int64(binary.BigEndian.Uint64(raw))
		if _, err := os.Stat(filepath.Join(loc, "index-"+strconv.FormatInt(g, 10))); err == nil {
			return g
		}
	}
	ents, err := os.ReadDir(loc)
	if err != nil {
		return -1
	}
	best := int64(-1)
	for _, e := range ents {
		if s, ok := strings.CutPrefix(e.Name(), "index-"); ok {
			if g, err := strconv.ParseInt(s, 10, 64); err == nil && g > best {
				best = g
			}
		}
	}
	return best
}

// readRepoData loads the current repository data (empty when none).
func readRepoData(r *repoMeta) (*repoData, error) {
	gen := latestGen(r.Location)
	rd := &repoData{UUID: r.UUID, Indices: map[string]repoIndex{}, IndexMeta: map[string]string{}, gen: gen}
	if gen < 0 {
		return rd, nil
	}
	if err := readJSONFile(r.path("index-"+strconv.FormatInt(gen, 10)), rd); err != nil {
		return nil, fmt.Errorf("read repository data: %w", err)
	}
	rd.gen = gen
	if rd.Indices == nil {
		rd.Indices = map[string]repoIndex{}
	}
	if rd.IndexMeta == nil {
		rd.IndexMeta = map[string]string{}
	}
	return rd, nil
}

// writeRepoData writes index-(gen+1) and index.latest and drops the old generation.
func writeRepoData(r *repoMeta, rd *repoData) error {
	next := rd.gen + 1
	if err := writeJSONFile(r.path("index-"+strconv.FormatInt(next, 10)), rd); err != nil {
		return err
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(next))
	if err := writeFileAtomic(r.path("index.latest"), b[:]); err != nil {
		return err
	}
	if rd.gen >= 0 {
		os.Remove(r.path("index-" + strconv.FormatInt(rd.gen, 10)))
	}
	rd.gen = next
	return nil
}

func (rd *repoData) find(name string) *repoSnap {
	for i := range rd.Snapshots {
		if rd.Snapshots[i].Name == name {
			return &rd.Snapshots[i]
		}
	}
	return nil
}

// readShardGen loads the newest shard generation file of an index shard.
func readShardGen(r *repoMeta, ri repoIndex, shard int) shardGenFile {
	var sg shardGenFile
	if shard < len(ri.ShardGens) && ri.ShardGens[shard] != "" {
		_ = readJSONFile(r.path("indices", ri.ID, strconv.Itoa(shard), "index-"+ri.ShardGens[shard]), &sg)
	}
	if sg.Snapshots == nil {
		sg.Snapshots = map[string][]string{}
	}
	return sg
}

// writeBlob writes a data blob with its generated content.
func writeBlob(r *repoMeta, repoID string, f *blobFile) error {
	dir := r.path("indices", repoID, strconv.Itoa(f.Shard))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, f.Name)
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	bw := bufio.NewWriterSize(fh, 256<<10)
	if _, err := genContent(f.Seed, f.Length, bw); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkBlob reads a blob back and compares its length and CRC32.
func checkBlob(loc, repoID string, f blobFile) error {
	path := filepath.Join(loc, "indices", repoID, strconv.Itoa(f.Shard), f.Name)
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := crc32.NewIEEE()
	n, err := io.Copy(h, bufio.NewReaderSize(fh, 256<<10))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if n != f.Length {
		return fmt.Errorf("file %s has length %d, expected %d (physical %s)", path, n, f.Length, f.Physical)
	}
	if got := fmtChecksum(h.Sum32()); got != f.Checksum {
		return fmt.Errorf("checksum failed (hardware problem?) : expected=%s actual=%s (resource=%s)", f.Checksum, got, f.Physical)
	}
	return nil
}

// ---- snapshot lifecycle ----

// checksum returns the CRC32 of a file's generated content, cached per seed.
func checksum(cache map[string]string, seed string, length int64) (string, error) {
	if c, ok := cache[seed]; ok {
		return c, nil
	}
	crc, err := genContent(seed, length, nil)
	if err != nil {
		return "", err
	}
	cache[seed] = fmtChecksum(crc)
	return cache[seed], nil
}

// planSnapshot lists every file of every shard and marks those the
// repository lacks (matched by physical name, length and checksum).
func planSnapshot(r *repoMeta, rd *repoData, st *state, ix *index, cache map[string]string) (*snapIndex, error) {
	si := &snapIndex{Name: ix.Name, Lineage: lineageOf(ix), Shards: ix.Shards, Replicas: ix.Replicas,
		Segments: append([]segment(nil), ix.Segments...), Stored: copyStored(ix.Stored), DocType: ix.DocType, NextSeqNo: ix.NextSeqNo}
	ri, known := rd.Indices[ix.Name]
	if known {
		si.RepoID = ri.ID
	} else {
		si.RepoID = newUUID()
	}
	for s := 0; s < ix.Shards; s++ {
		existing := map[string]fileInfo{}
		if known {
			for _, f := range readShardGen(r, ri, s).Files {
				existing[f.Physical+"/"+strconv.FormatInt(f.Length, 10)+"/"+f.Checksum] = f
			}
		}
		for _, f := range luceneFiles(si.Lineage, ix.Shards, s, ix.Segments) {
			c, err := checksum(cache, f.Seed, f.Length)
			if err != nil {
				return nil, err
			}
			f.Checksum = c
			if old, ok := existing[f.Physical+"/"+strconv.FormatInt(f.Length, 10)+"/"+c]; ok {
				f.Name = old.Name
			} else {
				f.Name = "__" + newUUID()
				f.New = true
			}
			si.Files = append(si.Files, f)
		}
	}
	return si, nil
}

// copyStored copies the stored documents as they are when a snapshot starts.
func copyStored(m map[string]*storedDoc) map[string]*storedDoc {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*storedDoc, len(m))
	for id, d := range m {
		c := *d
		out[id] = &c
	}
	return out
}

func lineageOf(ix *index) string {
	if ix.Restored != nil && ix.Restored.UUID != "" {
		return ix.Restored.UUID
	}
	return ix.UUID
}

// incBytes is the number of bytes a running snapshot must upload.
func (rs *running) incBytes() int64 {
	var n int64
	for _, si := range rs.Indices {
		for _, f := range si.Files {
			if f.New && !si.shardFailed(f.Shard) {
				n += f.Length
			}
		}
	}
	return n
}

func (rs *running) processedBytes(nowMs, rate int64) int64 {
	el := nowMs - rs.StartMs
	if el < 0 {
		el = 0
	}
	p := el * rate / 1000
	if inc := rs.incBytes(); p > inc {
		p = inc
	}
	return p
}

// advance performs due work: uploads blobs of running snapshots, finalizes
// finished ones, and reads back blobs of restores in progress.
func (c *Cluster) advance(st *state) {
	var keep []*running
	for _, rs := range st.Running {
		repo := st.Repos[rs.Repo]
		if repo == nil {
			continue // repository unregistered: the snapshot is abandoned
		}
		done := c.uploadDue(st, repo, rs)
		if done {
			if err := c.finalize(st, repo, rs); err != nil {
				fmt.Fprintf(os.Stderr, "es-standin: finalize snapshot %s:%s: %v\n", rs.Repo, rs.Name, err)
			}
			continue
		}
		keep = append(keep, rs)
	}
	st.Running = keep
	for _, ix := range st.Indices {
		if ix.Recovery != nil && !ix.Recovery.done() {
			c.recoverDue(st, ix)
		}
	}
}

// uploadDue writes the blobs whose turn has come and reports whether the
// snapshot has uploaded everything.
func (c *Cluster) uploadDue(st *state, repo *repoMeta, rs *running) bool {
	processed := rs.processedBytes(st.nowMs, c.snapshotRate(rs))
	var cum int64
	for _, si := range rs.Indices {
		for i := range si.Files {
			f := &si.Files[i]
			if !f.New || si.shardFailed(f.Shard) {
				continue
			}
			cum += f.Length
			if cum > processed {
				return false
			}
			if !f.Written {
				if err := writeBlob(repo, si.RepoID, f); err != nil {
					// Storage failure: the shard fails, as in ES.
					si.FailedShards = append(si.FailedShards, f.Shard)
					if rs.Fault == nil {
						rs.Fault = &fault{State: "PARTIAL", Reason: err.Error()}
					}
					continue
				}
				f.Written = true
			}
		}
	}
	return true
}

// finalize writes the shard, index and snapshot metadata and a new
// repository generation.
func (c *Cluster) finalize(st *state, repo *repoMeta, rs *running) error {
	rd, err := readRepoData(repo)
	if err != nil {
		return err
	}
	if rd.UUID == "" {
		rd.UUID = repo.UUID
	}
	rd.ClusterID = st.ClusterUUID
	rd.MinVersion = c.version()
	info := &snapInfo{Snapshot: rs.Name, UUID: rs.UUID, Repository: rs.Repo, VersionID: c.versionID(), Version: c.version(),
		IncludeGlobal: rs.IncludeGlobal, Metadata: rs.Metadata, StartMs: rs.StartMs, EndMs: st.nowMs,
		IndexRepoIDs: map[string]string{}, Failures: []shardFailure{}}
	nodeID := ""
	if ns := c.liveNodes(st); len(ns) > 0 {
		nodeID = ns[0].ID
	}
	lookup := map[string]string{}
	for i, si := range rs.Indices {
		if rs.Fault != nil {
			switch {
			case rs.Fault.State == "FAILED":
				si.FailedShards = allShards(si.Shards)
			case i == 0 && len(si.FailedShards) == 0:
				si.FailedShards = []int{0}
			}
		}
		info.Indices = append(info.Indices, si.Name)
		info.IndexRepoIDs[si.Name] = si.RepoID
		info.TotalShards += si.Shards
		ri := rd.Indices[si.Name]
		ri.ID = si.RepoID
		for len(ri.ShardGens) < si.Shards {
			ri.ShardGens = append(ri.ShardGens, "")
		}
		for s := 0; s < si.Shards; s++ {
			if si.shardFailed(s) {
				reason := "simulated failure"
				if rs.Fault != nil {
					reason = rs.Fault.Reason
				}
				info.Failures = append(info.Failures, shardFailure{Index: si.Name, IndexUUID: si.Name, ShardID: s,
					Reason: reason, NodeID: nodeID, Status: "INTERNAL_SERVER_ERROR"})
				continue
			}
			info.SuccessShards++
			var files []fileInfo
			var incN int
			var incB int64
			for _, f := range si.Files {
				if f.Shard != s {
					continue
				}
				files = append(files, fileInfo{Name: f.Name, Physical: f.Physical, Length: f.Length, Checksum: f.Checksum,
					Seed: f.Seed, PartSize: 1 << 62, WrittenBy: c.lucene()})
				if f.New {
					incN++
					incB += f.Length
				}
			}
			sdir := repo.path("indices", si.RepoID, strconv.Itoa(s))
			if err := writeJSONFile(filepath.Join(sdir, "snap-"+rs.UUID+".dat"), shardSnapFile{Name: rs.Name,
				StartTime: rs.StartMs, Time: st.nowMs - rs.StartMs, IncrementalFileCount: incN, IncrementalSize: incB, Files: files}); err != nil {
				return err
			}
			sg := readShardGen(repo, ri, s)
			seen := map[string]bool{}
			for _, f := range sg.Files {
				seen[f.Name] = true
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				if !seen[f.Name] {
					sg.Files = append(sg.Files, f)
					seen[f.Name] = true
				}
			}
			sg.Snapshots[rs.Name] = names
			if err := c.writeShardGen(repo, &ri, s, sg); err != nil {
				return err
			}
		}
		metaBlob := newUUID()
		if err := writeJSONFile(repo.path("indices", si.RepoID, "meta-"+metaBlob+".dat"), indexMetaFile{Name: si.Name,
			UUID: si.Lineage, Lineage: si.Lineage, Shards: si.Shards, Replicas: si.Replicas, Segments: si.Segments,
			Stored: si.Stored, DocType: si.DocType, NextSeqNo: si.NextSeqNo}); err != nil {
			return err
		}
		lookup[si.RepoID] = metaBlob
		rd.IndexMeta[metaBlob] = metaBlob
		ri.Snapshots = append(ri.Snapshots, rs.UUID)
		rd.Indices[si.Name] = ri
	}
	sort.Strings(info.Indices)
	switch {
	case rs.Fault != nil && rs.Fault.State == "FAILED":
		info.State, info.Reason = "FAILED", rs.Fault.Reason
	case rs.Fault != nil:
		info.State, info.Reason = "PARTIAL", rs.Fault.Reason
	default:
		info.State = "SUCCESS"
	}
	if err := writeJSONFile(repo.path("meta-"+rs.UUID+".dat"), map[string]any{"meta-data": map[string]any{
		"cluster_uuid": st.ClusterUUID, "cluster_uuid_committed": true}}); err != nil {
		return err
	}
	if err := writeJSONFile(repo.path("snap-"+rs.UUID+".dat"), info); err != nil {
		return err
	}
	rd.Snapshots = append(rd.Snapshots, repoSnap{Name: rs.Name, UUID: rs.UUID, State: stateCode[info.State],
		IndexMeta: lookup, Version: c.version(), StartMs: rs.StartMs, EndMs: st.nowMs})
	return writeRepoData(repo, rd)
}

func allShards(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func (c *Cluster) writeShardGen(repo *repoMeta, ri *repoIndex, shard int, sg shardGenFile) error {
	gen := newUUID()
	dir := repo.path("indices", ri.ID, strconv.Itoa(shard))
	if err := writeJSONFile(filepath.Join(dir, "index-"+gen), sg); err != nil {
		return err
	}
	if old := ri.ShardGens[shard]; old != "" {
		os.Remove(filepath.Join(dir, "index-"+old))
	}
	ri.ShardGens[shard] = gen
	return nil
}

// deleteSnapshot removes a completed snapshot and every blob only it used.
func (c *Cluster) deleteSnapshot(repo *repoMeta, rd *repoData, name string) error {
	rsn := rd.find(name)
	if rsn == nil {
		return errSnapshotMissing("", name)
	}
	uuid := rsn.UUID
	for iname, ri := range rd.Indices {
		pos := -1
		for i, u := range ri.Snapshots {
			if u == uuid {
				pos = i
			}
		}
		if pos < 0 {
			continue
		}
		ri.Snapshots = append(ri.Snapshots[:pos], ri.Snapshots[pos+1:]...)
		if blob := rsn.IndexMeta[ri.ID]; blob != "" {
			os.Remove(repo.path("indices", ri.ID, "meta-"+blob+".dat"))
			delete(rd.IndexMeta, blob)
		}
		if len(ri.Snapshots) == 0 {
			if err := os.RemoveAll(repo.path("indices", ri.ID)); err != nil {
				return fmt.Errorf("delete index data %s: %w", ri.ID, err)
			}
			delete(rd.Indices, iname)
			continue
		}
		for s := range ri.ShardGens {
			sg := readShardGen(repo, ri, s)
			delete(sg.Snapshots, name)
			used := map[string]bool{}
			for _, names := range sg.Snapshots {
				for _, n := range names {
					used[n] = true
				}
			}
			var keep []fileInfo
			for _, f := range sg.Files {
				if used[f.Name] {
					keep = append(keep, f)
				} else {
					os.Remove(repo.path("indices", ri.ID, strconv.Itoa(s), f.Name))
				}
			}
			sg.Files = keep
			os.Remove(repo.path("indices", ri.ID, strconv.Itoa(s), "snap-"+uuid+".dat"))
			if err := c.writeShardGen(repo, &ri, s, sg); err != nil {
				return err
			}
		}
		rd.Indices[iname] = ri
	}
	os.Remove(repo.path("snap-" + uuid + ".dat"))
	os.Remove(repo.path("meta-" + uuid + ".dat"))
	var snaps []repoSnap
	for _, s := range rd.Snapshots {
		if s.Name != name {
			snaps = append(snaps, s)
		}
	}
	rd.Snapshots = snaps
	return writeRepoData(repo, rd)
}

// loadSnapInfo reads snap-<uuid>.dat for a snapshot listed in the repository data.
func loadSnapInfo(repo *repoMeta, rs *repoSnap) (*snapInfo, error) {
	var info snapInfo
	if err := readJSONFile(repo.path("snap-"+rs.UUID+".dat"), &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// errSnapUnreadable is the 404 ES gives when a listed snapshot's blob is gone.
func errSnapUnreadable(repo, snap string, err error) *apiError {
	e := errSnapshotMissing(repo, snap)
	typ := "i_o_exception"
	if errors.Is(err, os.ErrNotExist) {
		typ = "no_such_file_exception"
	}
	e.cause = newErr(http500, typ, err.Error())
	return e
}

const http500 = 500
