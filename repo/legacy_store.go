package repo

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tarOwner is the owner given to every entry of a rewritten archive.
type tarOwner struct {
	Uname, Gname string
	Uid, Gid     int
}

// parseOwner reads "user:group" (names or numbers); "" means no change.
func parseOwner(s string) (*tarOwner, error) {
	if s == "" {
		return nil, nil
	}
	u, g, ok := strings.Cut(s, ":")
	if !ok || u == "" || g == "" {
		return nil, fmt.Errorf("owner %q: want user:group", s)
	}
	o := &tarOwner{}
	if n, err := strconv.Atoi(u); err == nil {
		o.Uid = n
	} else {
		o.Uname = u
	}
	if n, err := strconv.Atoi(g); err == nil {
		o.Gid = n
	} else {
		o.Gname = g
	}
	return o, nil
}

// newLegacyStream describes the archive made of members (contiguous runs of
// them become one byte range each), renamed by rename; it computes the size
// of the rewritten tar.
func newLegacyStream(src string, members []tarMember, rename func(string) (string, bool), owner *tarOwner) (*legacyStream, error) {
	st := &legacyStream{src: src, rename: rename, owner: owner, members: members}
	for _, m := range members {
		if n := len(st.ranges); n > 0 && st.ranges[n-1].End == m.Off {
			st.ranges[n-1].End = m.End
		} else {
			st.ranges = append(st.ranges, byteRange{m.Off, m.End})
		}
	}
	return st, st.computeSize()
}

// withOwner returns a copy of the stream that gives every entry owner.
func (st *legacyStream) withOwner(owner *tarOwner) (*legacyStream, error) {
	c := *st
	c.owner = owner
	return &c, c.computeSize()
}

// computeSize adds up the rewritten headers, the padded contents and the
// end-of-archive blocks.
func (st *legacyStream) computeSize() error {
	cw := &countWriter{}
	var data int64
	for _, m := range st.members {
		h, ok := st.header(m.Header)
		if !ok {
			continue
		}
		if err := tar.NewWriter(cw).WriteHeader(h); err != nil {
			return fmt.Errorf("entry %q: %w", m.Header.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			data += pad512(h.Size)
		}
	}
	st.size = cw.n + data + 1024
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// header returns the rewritten header of h, or false to leave it out.
func (st *legacyStream) header(h *tar.Header) (*tar.Header, bool) {
	name, ok := st.rename(h.Name)
	if !ok || name == "" || name == "./" {
		return nil, false
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	default:
		return nil, false // devices, fifos: not part of a backup
	}
	n := &tar.Header{Typeflag: h.Typeflag, Name: name, Mode: h.Mode & 0o7777, ModTime: h.ModTime.Truncate(time.Second),
		Uid: h.Uid, Gid: h.Gid, Uname: h.Uname, Gname: h.Gname, Linkname: h.Linkname}
	switch h.Typeflag {
	case tar.TypeReg:
		n.Size = h.Size
	case tar.TypeDir:
		if !strings.HasSuffix(n.Name, "/") {
			n.Name += "/"
		}
	case tar.TypeLink:
		if ln, ok := st.rename(h.Linkname); ok {
			n.Linkname = ln
		}
	}
	if o := st.owner; o != nil {
		n.Uid, n.Gid, n.Uname, n.Gname = o.Uid, o.Gid, o.Uname, o.Gname
	}
	return n, true
}

// open streams the rewritten archive: each byte range is read from the
// store (ranged reads: no copy of the whole archive), its entries renamed
// and written to a new tar.
func (st *legacyStream) open(ctx context.Context, s Store) io.ReadCloser {
	rctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(st.write(rctx, s, pw))
	}()
	return &pipeCloser{PipeReader: pr, cancel: cancel, done: done}
}

func (st *legacyStream) write(ctx context.Context, s Store, w io.Writer) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, 256<<10)
	for _, r := range st.ranges {
		rc, err := openRange(ctx, s, st.src, r.Off, r.End-r.Off)
		if err != nil {
			return err
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rc.Close()
				return fmt.Errorf("read %s at bytes %d-%d: %w", st.src, r.Off, r.End, err)
			}
			nh, ok := st.header(h)
			if !ok {
				continue
			}
			if err := tw.WriteHeader(nh); err != nil {
				rc.Close()
				return err
			}
			if nh.Typeflag == tar.TypeReg {
				if _, err := io.CopyBuffer(tw, tr, buf); err != nil {
					rc.Close()
					return fmt.Errorf("read %s: %q: %w", st.src, h.Name, err)
				}
			}
		}
		rc.Close()
	}
	return tw.Close()
}

// pipeCloser is the read end of a stream written by a goroutine.
type pipeCloser struct {
	*io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *pipeCloser) Close() error {
	p.cancel()
	p.PipeReader.CloseWithError(errors.New("reader closed"))
	<-p.done
	return nil
}

// LegacyTarget is what the restore target adds to a documented backup.
type LegacyTarget struct {
	// Platform and Cluster name the target (the inventory's).
	Platform, Cluster string
	// FilesPath and FilesNode are the attachment folder and its node.
	FilesPath, FilesNode string
	// Owner is the user:group every attachment gets back: the documented
	// archive only knows root (cp -r as root). Empty keeps the archive's.
	Owner string
	// Bucket is the S3 bucket the mirror's objects go back into; when it
	// is set the attachments are in S3 and a files_*.tar is not used.
	Bucket string
}

// NodeName is the name the archive's one node goes by in the manifest:
// the script ran on a node it does not record.
func (l *Legacy) NodeName() string { return "cassandra_" + l.Set.Stamp }

// Restore turns the backup into what the restore runbook takes: a manifest
// (without hashes and without host IDs: one node's snapshot, so a changed
// topology, loaded with sstableloader) and a read-only store whose files
// are the per-table archives, the attachment archive and the S3 objects,
// each streamed from the documented archives through ranged reads. The
// manifest's Elasticsearch part is left for the caller, who asks ES.
func (l *Legacy) Restore(src Store, t LegacyTarget) (*Manifest, Store, error) {
	id := l.Set.ID()
	owner, err := parseOwner(t.Owner)
	if err != nil {
		return nil, nil, fmt.Errorf("attachments: %w", err)
	}
	m := &Manifest{Format: ManifestFormat, ID: id, Platform: t.Platform, Cluster: t.Cluster,
		Started: l.Set.Cassandra.Time, Finished: l.Set.Cassandra.Time, Tool: "TheHive's documented backup scripts",
		Keyspace: l.Keyspace, Schema: l.Schema}
	vs := &legacyStore{src: src, set: l.Set, files: map[string]*legacyStream{}}
	na := NodeArchive{Node: l.NodeName()}
	for _, tb := range l.Tables {
		p := TableArchivePath(id, na.Node, l.Keyspace, tb.Table, tb.TableID)
		vs.files[p] = tb.stream
		na.Tables = append(na.Tables, TableArchive{Keyspace: l.Keyspace, Table: tb.Table, TableID: tb.TableID,
			Archive: p, Size: tb.stream.size, Files: tb.Files})
	}
	m.Cassandra = []NodeArchive{na}
	if a := l.Files; a != nil && t.Bucket == "" {
		st, err := a.stream.withOwner(owner)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", a.Item.Path, err)
		}
		p := id + "/" + FilesArchive
		vs.files[p] = st
		entries := append([]FileEntry(nil), a.Entries...)
		if owner != nil {
			for i := range entries {
				entries[i].Owner, entries[i].Group = owner.Uname, owner.Gname
			}
		}
		m.Files = &FileStore{Provider: ProviderLocalFS, Path: t.FilesPath, Node: t.FilesNode, Archive: p, Size: st.size, Entries: entries}
	} else if a := l.Mirror; a != nil && t.Bucket != "" { // the attachments are in S3
		fstore := &FileStore{Provider: ProviderS3, Bucket: t.Bucket}
		for _, e := range a.Entries {
			if e.Type != "" {
				continue
			}
			fstore.Objects = append(fstore.Objects, ObjectEntry{Key: e.Name, Size: e.Size})
			vs.objects = append(vs.objects, legacyObject{path: ObjectPath(id, e.Name), member: a.Top + "/" + e.Name})
		}
		vs.mirror = a
		m.Files = fstore
	}
	if err := m.CheckNames(); err != nil {
		return nil, nil, fmt.Errorf("documented backup %s: %w", id, err)
	}
	return m, vs, nil
}

// legacyObject is one S3 object of a mirror archive.
type legacyObject struct {
	path   string // in the virtual store
	member string // in the archive
}

// legacyStore is the read-only Store a documented backup is restored
// from: virtual per-table archives, attachment archive and S3 objects.
type legacyStore struct {
	src     Store
	set     *LegacySet
	files   map[string]*legacyStream
	mirror  *LegacyArchive
	objects []legacyObject
}

func (s *legacyStore) String() string {
	return "documented backup " + s.set.Stamp + " in " + s.src.String()
}

var errLegacyReadOnly = errors.New("a backup of the documented scripts is read-only")

func (s *legacyStore) Create(context.Context, string) (io.WriteCloser, error) {
	return nil, errLegacyReadOnly
}

func (s *legacyStore) RemoveAll(context.Context, string) error { return errLegacyReadOnly }

func (s *legacyStore) Stat(ctx context.Context, p string) (int64, error) {
	if st, ok := s.files[p]; ok {
		return st.size, nil
	}
	for _, o := range s.objects {
		if o.path == p {
			for _, e := range s.mirror.Entries {
				if s.mirror.Top+"/"+e.Name == o.member {
					return e.Size, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("%s: %s: %w", s, p, fs.ErrNotExist)
}

func (s *legacyStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if st, ok := s.files[p]; ok {
		return st.open(ctx, s.src), nil
	}
	for _, o := range s.objects {
		if o.path == p {
			return s.openObject(ctx, o.member)
		}
	}
	return nil, fmt.Errorf("%s: %s: %w", s, p, fs.ErrNotExist)
}

// openObject streams one file of the mirror archive: its content only,
// through one ranged read.
func (s *legacyStore) openObject(ctx context.Context, member string) (io.ReadCloser, error) {
	it := s.mirror.Item
	for _, m := range s.mirror.index.Members {
		if cleanTarName(m.Header.Name) == member && m.Header.Typeflag == tar.TypeReg {
			return openRange(ctx, s.src, it.Path, m.DataOff, m.Header.Size)
		}
	}
	return nil, fmt.Errorf("%s: %s: %w", it.Path, member, fs.ErrNotExist)
}

func (s *legacyStore) List(ctx context.Context, prefix string) ([]Entry, error) {
	var out []Entry
	t := s.set.Cassandra.Time
	for p, st := range s.files {
		if underPrefix(p, prefix) {
			out = append(out, Entry{Path: p, Size: st.size, ModTime: t})
		}
	}
	for _, o := range s.objects {
		if underPrefix(o.path, prefix) {
			n, _ := s.Stat(ctx, o.path)
			out = append(out, Entry{Path: o.path, Size: n, ModTime: t})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// LegacyReadResult is what reading an archive of the backup whole found.
type LegacyReadResult struct {
	// Path and Size name the archive; SHA256 is its hash, for comparing
	// with a copy kept elsewhere (the layout records none).
	Path   string
	Size   int64
	SHA256 string
	// Entries is how many entries it holds.
	Entries int
}

// VerifyLegacy reads every archive of the backup from the first byte to
// the last — the only check the layout allows, as it records no hashes:
// every entry readable, the archive complete — and hashes it on the way.
// progress, when set, gets the bytes read and the total.
func VerifyLegacy(ctx context.Context, s Store, l *Legacy, progress func(done, total int64)) ([]LegacyReadResult, []Problem, error) {
	var items []LegacyItem
	items = append(items, *l.Set.Cassandra)
	if l.Files != nil {
		items = append(items, l.Files.Item)
	}
	if l.Mirror != nil {
		items = append(items, l.Mirror.Item)
	}
	var total, done int64
	sizes := make([]int64, len(items))
	for i, it := range items {
		n, err := s.Stat(ctx, it.Path)
		if err != nil {
			return nil, []Problem{{Path: it.Path, What: err.Error()}}, nil
		}
		sizes[i] = n
		total += n
	}
	var out []LegacyReadResult
	var probs []Problem
	for i, it := range items {
		rc, err := s.Open(ctx, it.Path)
		if err != nil {
			if ctx.Err() != nil {
				return out, probs, err
			}
			probs = append(probs, Problem{Path: it.Path, What: err.Error()})
			continue
		}
		base := done
		hw := NewHashingWriter(&progressWriter{fn: func(n int64) { report(progress, base+n, total) }})
		n, err := readWholeTar(io.TeeReader(rc, hw))
		rc.Close()
		done += sizes[i]
		if err != nil {
			if ctx.Err() != nil {
				return out, probs, ctx.Err()
			}
			probs = append(probs, Problem{Path: it.Path, What: fmt.Sprintf("unreadable after %d entries: %v", n, err)})
			continue
		}
		if hw.N() != sizes[i] {
			probs = append(probs, Problem{Path: it.Path, What: fmt.Sprintf("read %d bytes, the file is %d", hw.N(), sizes[i])})
		}
		out = append(out, LegacyReadResult{Path: it.Path, Size: hw.N(), SHA256: hw.Sum(), Entries: n})
	}
	return out, probs, nil
}

// readWholeTar reads every entry of a tar stream and what follows it.
func readWholeTar(r io.Reader) (int, error) {
	tr := tar.NewReader(r)
	buf := make([]byte, 256<<10)
	n := 0
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		n++
		if _, err := io.CopyBuffer(io.Discard, tr, buf); err != nil {
			return n, err
		}
	}
	_, err := io.CopyBuffer(io.Discard, r, buf)
	return n, err
}
