package main

// The restore half of `hotsnap lab bench`: in each round, after the backup
// measurements, a restore phase takes a backup with each tool (untimed),
// then times the raw bound, the published procedure's restore and
// hotsnap's restore, each after the same damage, and checks what the
// application sees after every restore.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/baseline"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// Restore benchmark targets (issue 15, "Then make hotsnap ahead on it";
// the raw bound's from issue 7).
const (
	benchRestoreMaxVsBaseline = 0.7 // hotsnap's restore ≤ 0.7× the published restore
	benchMaxOutageVsBaseline  = 0.5 // TheHive down ≤ 0.5× as long as in the published restore
	benchRestoreMaxVsRaw      = 1.3 // within 1.3× of streaming the backup's archives into the nodes
)

// benchRawRestoreDir is where the raw restore bound unpacks on every node:
// beside the Cassandra data, where hotsnap stages what it imports.
const benchRawRestoreDir = "/var/lib/cassandra/hotsnap-bench-raw"

// restoreRound is one round's restore measurements.
type restoreRound struct {
	// Raw is the raw bound: every archive of hotsnap's backup streamed from
	// the repository over ssh and unpacked (tar -x) on the node it belongs to,
	// every node in parallel; RawBytes is the archives' size.
	Raw      time.Duration
	RawBytes int64
	// Baseline is the published restore (lab/baseline: TheHive stopped, the
	// two published scripts on node1, TheHive started);
	// BaselineHealthy runs from its start until TheHive answers /api/status
	// on every node (the script itself ends at `systemctl is-active`): it is
	// also the published restore's outage, TheHive being stopped from its
	// first command.
	// BaselineBytes is the baseline backup's archives (Cassandra + attachments).
	Baseline, BaselineHealthy time.Duration
	BaselineBytes             int64
	// Hotsnap is `hotsnap restore ID --yes --confirm CLUSTER`, every step
	// (verify, stop TheHive, keyspace, ES, attachments, start and healthy);
	// HotsnapBytes is the backup's size (its manifest), RSS its peak resident set.
	Hotsnap      time.Duration
	HotsnapBytes int64
	RSS          int64
	// Outage is how long hotsnap's restore kept TheHive down, from its
	// journal (benchRun.outage).
	Outage time.Duration
	// Steps are hotsnap's restore steps with their durations, as it
	// printed them (where the time goes).
	Steps []benchStep
	// Other is `hotsnap restore` of the same backup into the lab of
	// another node count (OtherNodes; sstableloader), with its outage,
	// peak RSS and steps; 0 when the bench has no such lab.
	Other, OtherOutage time.Duration
	OtherNodes         int
	OtherRSS           int64
	OtherSteps         []benchStep
}

// benchStep is one step of a hotsnap run and how long it took.
type benchStep struct {
	Title string
	D     time.Duration
}

var (
	stepTitleRE = regexp.MustCompile(`^\[\d+/\d+\] (.+?)(?: \[DESTRUCTIVE\])?$`)
	stepDoneRE  = regexp.MustCompile(`^\s+done in (\S+)$`)
)

// parseSteps reads the steps and their durations from hotsnap's plain
// output ("[9/12] Restore the keyspace" … "  done in 3.7s"); gates and
// steps that took under 50 ms are left out.
func parseSteps(out string) []benchStep {
	var steps []benchStep
	title := ""
	for _, line := range strings.Split(out, "\n") {
		if m := stepTitleRE.FindStringSubmatch(line); m != nil {
			title = m[1]
			continue
		}
		if m := stepDoneRE.FindStringSubmatch(line); m != nil && title != "" {
			if d, err := time.ParseDuration(m[1]); err == nil && d >= 50*time.Millisecond {
				steps = append(steps, benchStep{Title: title, D: d})
			}
			title = ""
		}
	}
	return steps
}

// benchAppState is what the application sees: rows per table, documents
// in TheHive's index, and every attachment with its type, owner, mode,
// size and SHA-256.
type benchAppState struct {
	Rows  map[string]int64
	Docs  int64
	Files map[string]benchFile
}

// benchFile is one entry of the attachments folder.
type benchFile struct {
	Type       byte // 'f' or 'd' or 'l'
	UID, GID   uint32
	Mode       fs.FileMode
	Size       int64
	SHA256     string
	LinkTarget string // the symlink's target, for 'l'
}

// rows sums the rows of every table.
func (s benchAppState) rows() int64 {
	var n int64
	for _, r := range s.Rows {
		n += r
	}
	return n
}

// diff lists how got differs from want (at most 10 lines); withOwners also
// compares owners and modes, which the documented restore does not keep.
func (want benchAppState) diff(got benchAppState, withOwners bool) []string {
	var out []string
	add := func(format string, a ...any) {
		if len(out) < 10 {
			out = append(out, fmt.Sprintf(format, a...))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(want.Rows)) {
		if got.Rows[t] != want.Rows[t] {
			add("table %s: %d rows, want %d", t, got.Rows[t], want.Rows[t])
		}
	}
	if got.Docs != want.Docs {
		add("index %s: %d documents, want %d", lab.ESIndex, got.Docs, want.Docs)
	}
	for _, p := range slices.Sorted(maps.Keys(want.Files)) {
		g, ok := got.Files[p]
		w := want.Files[p]
		switch {
		case !ok:
			add("attachment %s: missing", p)
		case g.Type != w.Type || g.Size != w.Size || g.SHA256 != w.SHA256 || g.LinkTarget != w.LinkTarget:
			add("attachment %s: content differs (%c %d bytes %.12s, want %c %d bytes %.12s)", p, g.Type, g.Size, g.SHA256, w.Type, w.Size, w.SHA256)
		case withOwners && (g.UID != w.UID || g.GID != w.GID || g.Mode != w.Mode):
			add("attachment %s: %d:%d %v, want %d:%d %v", p, g.UID, g.GID, g.Mode, w.UID, w.GID, w.Mode)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got.Files)) {
		if _, ok := want.Files[p]; !ok {
			add("attachment %s: not in the backup", p)
		}
	}
	return out
}

// ownersLost counts the attachments whose content came back but whose
// owner or mode did not.
func (want benchAppState) ownersLost(got benchAppState) int {
	n := 0
	for p, w := range want.Files {
		if g, ok := got.Files[p]; ok && (g.UID != w.UID || g.GID != w.GID || g.Mode != w.Mode) {
			n++
		}
	}
	return n
}

// cqlCountRE matches cqlsh's count line.
var cqlCountRE = regexp.MustCompile(`(?m)^\s+(\d+)\s*$`)

// cqlsh runs cqlsh against node1 inside node1 (untimed checks and damage).
func (b *bench) cqlsh(ctx context.Context, stmt string) (string, error) {
	args := []string{b.l.Nodes[0].IP}
	if b.l.Auth() {
		pw, err := b.l.Secret(lab.SecretCassandraAdmin)
		if err != nil {
			return "", err
		}
		args = append(args, "-u", lab.CassandraAdminUser, "-p", pw)
	}
	args = append(args, "-e", stmt)
	out, err := b.l.NodeCommand(ctx, b.l.Nodes[0].Name, baseline.NodeBinDir+"/cqlsh", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("cqlsh -e %q: %w: %s", stmt, err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// appState reads what the application sees (tables are the backup's).
func (b *bench) appState(ctx context.Context, tables []string) (benchAppState, error) {
	s := benchAppState{Rows: map[string]int64{}, Files: map[string]benchFile{}}
	for _, t := range tables {
		out, err := b.cqlsh(ctx, "SELECT count(*) FROM "+lab.Keyspace+"."+t)
		if err != nil {
			return s, fmt.Errorf("count the rows of %s.%s: %w", lab.Keyspace, t, err)
		}
		m := cqlCountRE.FindStringSubmatch(out)
		if m == nil {
			return s, fmt.Errorf("count the rows of %s.%s: no count in %q", lab.Keyspace, t, out)
		}
		s.Rows[t], _ = strconv.ParseInt(m[1], 10, 64)
	}
	body, err := b.es(ctx, "GET", "/"+lab.ESIndex+"/_count")
	if err != nil {
		return s, fmt.Errorf("count the documents of %s: %w", lab.ESIndex, err)
	}
	var c struct {
		Count *int64 `json:"count"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Count == nil {
		return s, fmt.Errorf("count the documents of %s: no count in %.200q (%v)", lab.ESIndex, body, err)
	}
	s.Docs = *c.Count
	root := b.filesDir()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		f := benchFile{Type: 'f', Mode: fi.Mode(), Size: fi.Size()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			f.UID, f.GID = st.Uid, st.Gid
		}
		switch {
		case fi.IsDir():
			f.Type, f.Size = 'd', 0
		case fi.Mode()&fs.ModeSymlink != 0:
			f.Type = 'l'
			f.LinkTarget, _ = os.Readlink(p)
		case fi.Mode().IsRegular():
			fh, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, fh)
			fh.Close()
			if err != nil {
				return err
			}
			f.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		s.Files[rel] = f
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("read the attachments in %s: %w", root, err)
	}
	return s, nil
}

// filesDir is node1's attachments folder, seen from the host.
func (b *bench) filesDir() string {
	return filepath.Join(b.l.NodeDir(b.l.Nodes[0].Name), "thehive-files")
}

// damage wrecks the data the same way before every restore — the keyspace
// dropped, TheHive's index deleted, the attachments removed and a stray file
// left — and checks that it took, so that every restore does real work.
func (b *bench) damage(ctx context.Context, tables []string) error {
	if _, err := b.cqlsh(ctx, "DROP KEYSPACE "+lab.Keyspace); err != nil {
		return fmt.Errorf("damage: %w", err)
	}
	if _, err := b.es(ctx, "DELETE", "/"+lab.ESIndex); err != nil {
		return fmt.Errorf("damage: delete the index %s: %w", lab.ESIndex, err)
	}
	root := b.filesDir()
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("damage: %w", err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			return fmt.Errorf("damage: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "created-after-the-backup"), []byte("stray\n"), 0o644); err != nil {
		return fmt.Errorf("damage: %w", err)
	}
	// It took: no keyspace, no index.
	if out, err := b.cqlsh(ctx, "SELECT count(*) FROM "+lab.Keyspace+"."+tables[0]); err == nil {
		return fmt.Errorf("damage: keyspace %s still answers after DROP:\n%s", lab.Keyspace, out)
	}
	if _, err := b.es(ctx, "GET", "/"+lab.ESIndex+"/_count"); err == nil {
		return fmt.Errorf("damage: index %s still answers after DELETE", lab.ESIndex)
	}
	return nil
}

// clearAutoSnapshots removes the dropped-*/truncated-* snapshots Cassandra
// keeps of the damaged keyspace, so that rounds do not fill the disk.
func (b *bench) clearAutoSnapshots(ctx context.Context) error {
	for _, n := range b.l.Nodes {
		if err := b.nodetool(ctx, n.Name, "clearsnapshot", "--all", lab.Keyspace); err != nil {
			return err
		}
	}
	return nil
}

// restorePhase runs the round's restore measurements: a backup with each
// tool (untimed), then raw bound, baseline and hotsnap, each restore after
// the same damage and followed by an application-level check.
func (b *bench) restorePhase(ctx context.Context, rep *benchReport) (r restoreRound, err error) {
	defer func() {
		if _, rerr := b.removeBaselineArchives(); rerr != nil && err == nil {
			err = rerr
		}
		if derr := b.deleteESSnapshots(context.Background()); derr != nil && err == nil {
			err = derr
		}
		if cerr := b.clearAutoSnapshots(context.Background()); cerr != nil && err == nil {
			err = cerr
		}
	}()

	// The backups to restore, and the state they hold.
	if r.BaselineBytes, err = b.baselineBackup(ctx); err != nil {
		return r, fmt.Errorf("baseline backup: %w", err)
	}
	id, m, err := b.hotsnapBackupKept(ctx)
	if id != "" {
		defer func() {
			if rerr := os.RemoveAll(filepath.Join(b.l.BackupsPath(), id)); rerr != nil && err == nil {
				err = fmt.Errorf("remove the backup %s: %w", id, rerr)
			}
		}()
	}
	if err != nil {
		return r, fmt.Errorf("hotsnap backup: %w", err)
	}
	r.HotsnapBytes = m.Size()
	var tables []string
	for _, n := range m.Cassandra {
		for _, t := range n.Tables {
			if !slices.Contains(tables, t.Table) {
				tables = append(tables, t.Table)
			}
		}
	}
	slices.Sort(tables)
	want, err := b.appState(ctx, tables)
	if err != nil {
		return r, fmt.Errorf("before the restores: %w", err)
	}
	if want.rows() == 0 || want.Docs == 0 || len(want.Files) == 0 {
		return r, fmt.Errorf("before the restores: nothing to restore (%d rows, %d documents, %d attachments)", want.rows(), want.Docs, len(want.Files))
	}

	settle()
	if r.Raw, r.RawBytes, err = b.rawRestore(ctx, m); err != nil {
		return r, fmt.Errorf("raw restore bound: %w", err)
	}

	// The published procedure: its restore, as an operator runs it.
	if err := b.damage(ctx, tables); err != nil {
		return r, err
	}
	settle()
	if r.Baseline, r.BaselineHealthy, err = b.baselineRestore(ctx); err != nil {
		return r, fmt.Errorf("baseline restore: %w", err)
	}
	if err := b.check(ctx, "baseline restore", want, tables, false, rep); err != nil {
		return r, err
	}

	// hotsnap.
	if err := b.damage(ctx, tables); err != nil {
		return r, err
	}
	settle()
	hr, err := b.hotsnapRestore(ctx, id)
	if err != nil {
		return r, fmt.Errorf("hotsnap restore: %w", err)
	}
	r.Hotsnap, r.RSS, r.Steps, r.Outage = hr.D, hr.RSS, hr.Steps, hr.Outage
	if err := b.check(ctx, "hotsnap restore", want, tables, true, rep); err != nil {
		return r, err
	}

	// hotsnap into another topology: the same backup, into the other lab.
	if b.other != nil {
		r.OtherNodes = len(b.other.l.Nodes)
		if hr, err = b.restoreIntoOther(ctx, id, want, tables, rep); err != nil {
			return r, fmt.Errorf("hotsnap restore into %d nodes: %w", r.OtherNodes, err)
		}
		r.Other, r.OtherRSS, r.OtherSteps, r.OtherOutage = hr.D, hr.RSS, hr.Steps, hr.Outage
	}
	return r, nil
}

// settle writes the dirty page cache out (untimed) before a timed backup
// or restore, so that no measurement pays for the writeback of what the
// contender before it wrote. The lab's nodes share this host's disk.
func settle() { syscall.Sync() }

// check compares the application's state after a restore with want and
// waits for TheHive healthy on every node; withOwners also compares
// attachment owners and modes (hotsnap keeps them; the documented restore,
// `cp -r` as root, does not: that loss is counted, not failed).
func (b *bench) check(ctx context.Context, what string, want benchAppState, tables []string, withOwners bool, rep *benchReport) error {
	if err := b.l.WaitTheHive(ctx, time.Minute); err != nil {
		return fmt.Errorf("%s: TheHive is not healthy: %w", what, err)
	}
	got, err := b.appState(ctx, tables)
	if err != nil {
		return fmt.Errorf("%s: check: %w", what, err)
	}
	if d := want.diff(got, withOwners); len(d) > 0 {
		return fmt.Errorf("%s: the application does not see the backup's data:\n  %s", what, strings.Join(d, "\n  "))
	}
	lost := ""
	if !withOwners {
		if n := want.ownersLost(got); n > 0 {
			lost = fmt.Sprintf(" (owner or mode lost on %d of %d, as documented)", n, len(want.Files))
		}
	}
	line := fmt.Sprintf("%s: %d rows in %d tables, %d documents in %s, %d attachments identical%s, TheHive healthy on %d nodes",
		what, got.rows(), len(got.Rows), got.Docs, lab.ESIndex, len(got.Files), lost, len(b.l.Nodes))
	b.logf("check passed: %s", line)
	rep.Checks = append(rep.Checks, line)
	return nil
}

// baselineBackup runs the published backup (untimed) and returns its
// archives' size; the archives stay for baselineRestore.
func (b *bench) baselineBackup(ctx context.Context) (int64, error) {
	if _, _, err := baseline.Backup(ctx, b.l, baseline.Published); err != nil {
		return 0, err
	}
	var size int64
	for _, g := range []string{"cassandra/cassandra_*.tar", "storage/files_*.tar"} {
		m, _ := filepath.Glob(filepath.Join(b.l.SharedBackupPath(), g))
		if len(m) != 1 {
			return 0, fmt.Errorf("want one archive %s in %s, found %v", g, b.l.SharedBackupPath(), m)
		}
		fi, err := os.Stat(m[0])
		if err != nil {
			return 0, err
		}
		size += fi.Size()
	}
	return size, nil
}

// sshOutput runs remoteCmd on n with the real OpenSSH client from op.
func (b *bench) sshOutput(ctx context.Context, n lab.NodeInfo, remoteCmd string) (string, error) {
	cmd := b.l.OpCommand(ctx, "ssh", b.sshArgs(n, remoteCmd)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// hotsnapBackupKept runs `hotsnap backup --yes --no-tui` (untimed) and
// returns the new backup's ID and manifest; the caller removes it.
func (b *bench) hotsnapBackupKept(ctx context.Context) (string, *repo.Manifest, error) {
	before := map[string]bool{}
	ents, _ := os.ReadDir(b.l.BackupsPath())
	for _, e := range ents {
		before[e.Name()] = true
	}
	out, runErr := b.hotsnapCmd(ctx, "backup", "--yes", "--no-tui").CombinedOutput()
	var ids []string
	ents, _ = os.ReadDir(b.l.BackupsPath())
	for _, e := range ents {
		if !before[e.Name()] {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) != 1 {
		for _, id := range ids {
			os.RemoveAll(filepath.Join(b.l.BackupsPath(), id))
		}
		return "", nil, fmt.Errorf("want one new backup in %s, found %v (%v)\n%s", b.l.BackupsPath(), ids, runErr, out)
	}
	if runErr != nil {
		return ids[0], nil, fmt.Errorf("%w\n%s", runErr, out)
	}
	store, err := repo.Open(ctx, b.l.BackupsPath(), repo.Options{})
	if err != nil {
		return ids[0], nil, fmt.Errorf("open the repository: %w", err)
	}
	m, err := repo.ReadManifest(ctx, store, ids[0])
	if err != nil {
		return ids[0], nil, fmt.Errorf("read the manifest of %s: %w", ids[0], err)
	}
	return ids[0], m, nil
}

// rawRestore is the restore's lower bound: the bytes a restore must move,
// every archive of the backup, read from the repository and streamed over
// ssh into the node it belongs to (each Cassandra node its own tables,
// node1 the attachments too), where `tar -x` unpacks them onto the node's
// disk, every node in parallel. It unpacks rather than `cat > /dev/null`
// because a restore cannot finish before the data is on the nodes' disks;
// tar --backup=numbered keeps every table's files although the archives
// repeat SSTable names. It leaves out what no byte count can bound:
// stopping and starting TheHive, the schema and the ES recovery.
func (b *bench) rawRestore(ctx context.Context, m *repo.Manifest) (time.Duration, int64, error) {
	files := make([][]string, len(b.l.Nodes))
	var total int64
	for i, n := range b.l.Nodes {
		for _, na := range m.Cassandra {
			if na.Node != n.Name {
				continue
			}
			for _, t := range na.Tables {
				files[i] = append(files[i], filepath.Join(b.l.BackupsPath(), filepath.FromSlash(t.Archive)))
				total += t.Size
			}
		}
	}
	if m.Files != nil && m.Files.Archive != "" {
		files[0] = append(files[0], filepath.Join(b.l.BackupsPath(), filepath.FromSlash(m.Files.Archive)))
		total += m.Files.Size
	}
	if total != m.Size() {
		return 0, 0, fmt.Errorf("the backup's archives do not map onto the lab's nodes (%d of %d bytes): is it of another topology?", total, m.Size())
	}
	dir := remote.Quote(benchRawRestoreDir)
	defer func() {
		for _, n := range b.l.Nodes {
			if out, err := b.sshOutput(context.Background(), n, "sudo rm -rf "+dir); err != nil {
				b.logf("%s: remove %s: %v %s", n.Name, benchRawRestoreDir, err, out)
			}
		}
	}()
	errs := make([]error, len(b.l.Nodes))
	var wg sync.WaitGroup
	start := time.Now()
	for i, n := range b.l.Nodes {
		if len(files[i]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rs []io.Reader
			for _, p := range files[i] {
				f, err := os.Open(p)
				if err != nil {
					errs[i] = err
					return
				}
				defer f.Close()
				rs = append(rs, f)
			}
			cmd := b.l.OpCommand(ctx, "ssh", b.sshArgs(n, "sudo sh -c "+remote.Quote("rm -rf "+dir+" && mkdir -p "+dir+" && tar -x -i --backup=numbered -C "+dir))...)
			var errb bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = io.MultiReader(rs...), nil, &errb
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("%s: ssh tar -x: %w: %s", n.Name, err, bytes.TrimSpace(errb.Bytes()))
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	// The bound did the work: every byte is on the nodes' disks.
	var landed int64
	for _, n := range b.l.Nodes {
		size, err := dirSize(filepath.Join(b.l.NodeDir(n.Name), "cassandra", filepath.Base(benchRawRestoreDir)), "")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, 0, fmt.Errorf("%s: size of %s: %w", n.Name, benchRawRestoreDir, err)
		}
		landed += size
	}
	if landed < total*9/10 {
		return 0, 0, fmt.Errorf("the raw bound unpacked %d bytes of %d", landed, total)
	}
	return d, total, nil
}

// baselineRestore times the published restore (runbook §2: TheHive
// stopped on every node, the two scripts on node1, TheHive started) and,
// from the same start, until TheHive answers on every node.
func (b *bench) baselineRestore(ctx context.Context) (script, healthy time.Duration, err error) {
	start := time.Now()
	if _, _, err := baseline.Restore(ctx, b.l); err != nil {
		return 0, 0, err
	}
	script = time.Since(start)
	if err := b.l.WaitTheHive(ctx, time.Minute); err != nil {
		return 0, 0, fmt.Errorf("TheHive after the published restore: %w", err)
	}
	return script, time.Since(start), nil
}

// benchRestore is one timed hotsnap restore.
type benchRestore struct {
	D      time.Duration
	RSS    int64
	Outage time.Duration // TheHive down, from the run's journal
	Steps  []benchStep   // as printed
}

// hotsnapRestore times `hotsnap restore ID --yes --confirm CLUSTER
// --no-tui [extra]` inside op and reads its peak RSS, its steps and, from
// its journal, TheHive's outage.
func (b *bench) hotsnapRestore(ctx context.Context, id string, extra ...string) (benchRestore, error) {
	var r benchRestore
	inv, err := config.Load(b.l.InventoryPath())
	if err != nil {
		return r, fmt.Errorf("the lab's inventory: %w", err)
	}
	cmd := b.hotsnapCmd(ctx, append([]string{"restore", id, "--yes", "--confirm", inv.Cluster, "--no-tui"}, extra...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	r.D = time.Since(start)
	r.RSS = peakRSS(cmd)
	if runErr != nil || !strings.Contains(out.String(), steps.SuccessLine) {
		return r, fmt.Errorf("%v\n%s", runErr, out.String())
	}
	r.Steps = parseSteps(out.String())
	seen := map[string]bool{} // the report repeats the step's last line
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if !seen[line] && (strings.Contains(line, "restored with") || strings.Contains(line, "loading with sstableloader") || strings.Contains(line, "Elasticsearch:") && strings.Contains(line, "restored in")) {
			seen[line] = true
			b.logf("hotsnap: %s", line)
		}
	}
	run, err := readRun(benchStateHome(b.l.StateDir), out.String())
	if err == nil {
		r.Outage, err = run.outage()
	}
	if err != nil {
		return r, fmt.Errorf("hotsnap restore: %w", err)
	}
	return r, nil
}

// summarizeRestore fills the restore medians from Rounds.
func (r *benchReport) summarizeRestore() {
	pick := func(f func(restoreRound) int64) int64 {
		return medianOf(r.Rounds, func(x benchRound) int64 { return f(x.Restore) })
	}
	r.RestoreMedian = restoreRound{
		Raw:             time.Duration(pick(func(x restoreRound) int64 { return int64(x.Raw) })),
		RawBytes:        pick(func(x restoreRound) int64 { return x.RawBytes }),
		Baseline:        time.Duration(pick(func(x restoreRound) int64 { return int64(x.Baseline) })),
		BaselineHealthy: time.Duration(pick(func(x restoreRound) int64 { return int64(x.BaselineHealthy) })),
		BaselineBytes:   pick(func(x restoreRound) int64 { return x.BaselineBytes }),
		Hotsnap:         time.Duration(pick(func(x restoreRound) int64 { return int64(x.Hotsnap) })),
		HotsnapBytes:    pick(func(x restoreRound) int64 { return x.HotsnapBytes }),
		RSS:             pick(func(x restoreRound) int64 { return x.RSS }),
		Outage:          time.Duration(pick(func(x restoreRound) int64 { return int64(x.Outage) })),
		Other:           time.Duration(pick(func(x restoreRound) int64 { return int64(x.Other) })),
		OtherOutage:     time.Duration(pick(func(x restoreRound) int64 { return int64(x.OtherOutage) })),
		OtherRSS:        pick(func(x restoreRound) int64 { return x.OtherRSS }),
		OtherNodes:      int(pick(func(x restoreRound) int64 { return int64(x.OtherNodes) })),
	}
	r.RestoreMaxRSS = 0
	for _, x := range r.Rounds {
		r.RestoreMaxRSS = max(r.RestoreMaxRSS, x.Restore.RSS, x.Restore.OtherRSS)
	}
}

// RatioOutageBaseline is TheHive's median outage in hotsnap's restore over
// the published restore's.
func (r *benchReport) RatioOutageBaseline() float64 {
	return ratio(r.RestoreMedian.Outage, r.RestoreMedian.BaselineHealthy)
}

// RatioRestoreBaseline is hotsnap's median restore time over the documented
// restore script's.
func (r *benchReport) RatioRestoreBaseline() float64 {
	return ratio(r.RestoreMedian.Hotsnap, r.RestoreMedian.Baseline)
}

// RatioRestoreRaw is hotsnap's median restore time over the raw bound's.
func (r *benchReport) RatioRestoreRaw() float64 {
	return ratio(r.RestoreMedian.Hotsnap, r.RestoreMedian.Raw)
}

// printRestore writes the restore table, its verdicts and the checks.
func (r *benchReport) printRestore(w io.Writer, verdict func(bool, string)) {
	m := r.RestoreMedian
	fmt.Fprintf(w, "\nhotsnap restore benchmark (same lab, same rounds; before each restore: keyspace dropped, %s deleted, attachments removed, dirty pages synced):\n", lab.ESIndex)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  \ttime\t/ published\tTheHive down\t/ published's\tbytes\tthroughput\trounds (time, down)")
	row := func(name string, d, down time.Duration, n int64, get func(restoreRound) (time.Duration, time.Duration)) {
		var rs []string
		for _, x := range r.Rounds {
			t, o := get(x.Restore)
			if o > 0 {
				rs = append(rs, fmt.Sprintf("%s (%s)", t.Round(10*time.Millisecond), o.Round(10*time.Millisecond)))
			} else {
				rs = append(rs, t.Round(10*time.Millisecond).String())
			}
		}
		downs, downRatio := "-", "-"
		if down > 0 {
			downs, downRatio = down.Round(10*time.Millisecond).String(), fmt.Sprintf("%.2f×", ratio(down, m.BaselineHealthy))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.2f×\t%s\t%s\t%s\t%s\t%s\n", name, d.Round(10*time.Millisecond), ratio(d, m.Baseline), downs, downRatio, steps.HumanBytes(n), throughput(n, d), strings.Join(rs, " "))
	}
	row("raw bound (archives → ssh → tar -x on their node, nodes in parallel)", m.Raw, 0, m.RawBytes, func(x restoreRound) (time.Duration, time.Duration) { return x.Raw, 0 })
	row("baseline: the published restore (stop, 2 scripts, start)", m.Baseline, m.BaselineHealthy, m.BaselineBytes, func(x restoreRound) (time.Duration, time.Duration) { return x.Baseline, x.BaselineHealthy })
	row("hotsnap restore --yes --confirm (verify … healthy)", m.Hotsnap, m.Outage, m.HotsnapBytes, func(x restoreRound) (time.Duration, time.Duration) { return x.Hotsnap, x.Outage })
	if m.Other > 0 {
		row(fmt.Sprintf("hotsnap restore --set-rf into %d nodes (sstableloader)", m.OtherNodes), m.Other, m.OtherOutage, m.HotsnapBytes, func(x restoreRound) (time.Duration, time.Duration) { return x.Other, x.OtherOutage })
	}
	tw.Flush()
	fmt.Fprintln(w, "  raw bound: every byte a restore must move (the backup's archives) onto the disks of the nodes that take them;")
	fmt.Fprintln(w, "  it leaves out stopping/starting TheHive, the schema, the ES recovery and hotsnap's verification (re-hash) of the backup.")
	fmt.Fprintln(w, "  TheHive down: published, from its first `systemctl stop` until TheHive answers /api/status on every node;")
	fmt.Fprintln(w, "  hotsnap, from the start of its stop-thehive step to the end of start-thehive (started, healthy on every node), from its journal.")
	var rss []string
	for _, x := range r.Rounds {
		rss = append(rss, fmt.Sprintf("%.1f", float64(max(x.Restore.RSS, x.Restore.OtherRSS))/(1<<20)))
	}
	fmt.Fprintf(w, "hotsnap restore peak RSS: median %.1f MiB (same topology), max %.1f MiB (rounds, either restore: %s MiB)\n", float64(m.RSS)/(1<<20), float64(r.RestoreMaxRSS)/(1<<20), strings.Join(rss, " "))
	if n := len(r.Rounds); n > 0 {
		last := r.Rounds[n-1].Restore
		for _, x := range []struct {
			what  string
			steps []benchStep
		}{{"hotsnap restore steps (last round)", last.Steps}, {fmt.Sprintf("into %d nodes", last.OtherNodes), last.OtherSteps}} {
			if len(x.steps) > 0 {
				var parts []string
				for _, s := range x.steps {
					parts = append(parts, fmt.Sprintf("%s %s", s.Title, s.D))
				}
				fmt.Fprintf(w, "%s: %s\n", x.what, strings.Join(parts, " · "))
			}
		}
	}
	verdict(r.RatioRestoreBaseline() <= benchRestoreMaxVsBaseline, fmt.Sprintf("hotsnap restore ≤ %.1f× the published restore: %.2f×", benchRestoreMaxVsBaseline, r.RatioRestoreBaseline()))
	verdict(r.RatioOutageBaseline() <= benchMaxOutageVsBaseline, fmt.Sprintf("TheHive's outage in hotsnap's restore ≤ %.1f× the published restore's: %.2f× (%s vs %s)", benchMaxOutageVsBaseline,
		r.RatioOutageBaseline(), m.Outage.Round(10*time.Millisecond), m.BaselineHealthy.Round(10*time.Millisecond)))
	if m.Other > 0 {
		verdict(ratio(m.Other, m.Baseline) <= benchRestoreMaxVsBaseline, fmt.Sprintf("hotsnap restore into %d nodes ≤ %.1f× the published restore: %.2f×", m.OtherNodes, benchRestoreMaxVsBaseline, ratio(m.Other, m.Baseline)))
		verdict(ratio(m.OtherOutage, m.BaselineHealthy) <= benchMaxOutageVsBaseline, fmt.Sprintf("TheHive's outage in hotsnap's restore into %d nodes ≤ %.1f× the published restore's: %.2f× (%s vs %s)", m.OtherNodes, benchMaxOutageVsBaseline,
			ratio(m.OtherOutage, m.BaselineHealthy), m.OtherOutage.Round(10*time.Millisecond), m.BaselineHealthy.Round(10*time.Millisecond)))
	}
	verdict(r.RatioRestoreRaw() <= benchRestoreMaxVsRaw, fmt.Sprintf("hotsnap restore within %.1f× of the raw bound: %.2f×", benchRestoreMaxVsRaw, r.RatioRestoreRaw()))
	verdict(r.RestoreMaxRSS < benchMaxRSS, fmt.Sprintf("hotsnap restore peak RSS under %d MB: max %.1f MiB over %d rounds", benchMaxRSS>>20, float64(r.RestoreMaxRSS)/(1<<20), len(r.Rounds)))
	warm := " (warm-up included)"
	if r.NoWarmUp {
		warm = ""
	}
	fmt.Fprintf(w, "application-level checks passed after %d restores%s, the last:\n", len(r.Checks), warm)
	for _, c := range lastOf(r.Checks, 3) {
		fmt.Fprintf(w, "  ✓ %s\n", c)
	}
}

func lastOf(xs []string, n int) []string {
	if len(xs) > n {
		return xs[len(xs)-n:]
	}
	return xs
}
