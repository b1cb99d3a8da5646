package main

// `hotsnap lab bench --platform alien4cloud`: Alien4Cloud's documented
// procedure (lab/baseline's alien4cloud-backup.sh and -restore.sh, from
// the backup tool's page and the 1.0.0 script) against hotsnap's backup and
// restore, on a lab of its own, round after round.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/baseline"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// a4cBenchFilesDir is the baseline's backup.files_dir in the bench: on the
// backup host's share, off the node, as hotsnap's repository is.
const a4cBenchFilesDir = "/mnt/backup/alien4cloud-files"

// a4cRound is one round's measurements.
type a4cRound struct {
	// Baseline and Hotsnap are the backups' times, *Bytes what they
	// copied (the baseline: its copy of the data directory; hotsnap: its
	// manifest's size); Quiesced how long hotsnap kept Alien4Cloud in
	// maintenance mode (the baseline never does); RSS hotsnap's peak.
	Baseline, Hotsnap           time.Duration
	BaselineBytes, HotsnapBytes int64
	Quiesced                    time.Duration
	RSS                         int64
	// RBaseline and RHotsnap are the restores' times, *Down how long
	// Alien4Cloud was stopped (or in maintenance) until it answered again;
	// RRSS hotsnap's peak.
	RBaseline, RHotsnap         time.Duration
	RBaselineDown, RHotsnapDown time.Duration
	RRSS                        int64
}

// a4cReport is an Alien4Cloud benchmark's rounds and medians.
type a4cReport struct {
	Link   lab.LinkSpec
	Nodes  int
	Data   int64 // --data
	DataOn int64 // the data directory on node1, transient folders excluded
	Docs   int64 // documents in Alien4Cloud's indices
	Rounds []a4cRound
	Median a4cRound
	MaxRSS int64
	// Checks has one line per restore whose check passed.
	Checks []string
}

func (r *a4cReport) summarize() {
	pick := func(f func(a4cRound) int64) int64 { return medianOf(r.Rounds, f) }
	d := func(f func(a4cRound) time.Duration) time.Duration { return medianOf(r.Rounds, f) }
	r.Median = a4cRound{
		Baseline: d(func(x a4cRound) time.Duration { return x.Baseline }), Hotsnap: d(func(x a4cRound) time.Duration { return x.Hotsnap }),
		BaselineBytes: pick(func(x a4cRound) int64 { return x.BaselineBytes }), HotsnapBytes: pick(func(x a4cRound) int64 { return x.HotsnapBytes }),
		Quiesced: d(func(x a4cRound) time.Duration { return x.Quiesced }), RSS: pick(func(x a4cRound) int64 { return x.RSS }),
		RBaseline: d(func(x a4cRound) time.Duration { return x.RBaseline }), RHotsnap: d(func(x a4cRound) time.Duration { return x.RHotsnap }),
		RBaselineDown: d(func(x a4cRound) time.Duration { return x.RBaselineDown }), RHotsnapDown: d(func(x a4cRound) time.Duration { return x.RHotsnapDown }),
		RRSS: pick(func(x a4cRound) int64 { return x.RRSS }),
	}
	r.MaxRSS = 0
	for _, x := range r.Rounds {
		r.MaxRSS = max(r.MaxRSS, x.RSS, x.RRSS)
	}
}

// Print writes the table and one verdict line per target.
func (r *a4cReport) Print(w io.Writer) {
	link := "unshaped (veth pairs)"
	if !r.Link.IsZero() {
		link = "shaped to " + r.Link.String() + " with tc"
	}
	fmt.Fprintf(w, "hotsnap Alien4Cloud benchmark: %d nodes, --data %s; data directory %s, %d documents in Alien4Cloud's indices; links %s\n",
		r.Nodes, steps.HumanBytes(r.Data), steps.HumanBytes(r.DataOn), r.Docs, link)
	fmt.Fprintf(w, "baseline: the backup tool's page and its 1.0.0 procedure (lab/baseline), backup.files_dir on the backup host's share; hotsnap's repository on the operator's machine\n")
	fmt.Fprintf(w, "median of %d rounds (after 1 warm-up round):\n", len(r.Rounds))
	m := r.Median
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  \ttime\tbytes\thotsnap / this\tAlien4Cloud in maintenance or stopped\trounds")
	row := func(name string, d time.Duration, n int64, rt, down string, get func(a4cRound) time.Duration) {
		var rs []string
		for _, x := range r.Rounds {
			rs = append(rs, get(x).Round(10*time.Millisecond).String())
		}
		bytesCol := "-"
		if n > 0 {
			bytesCol = steps.HumanBytes(n)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", name, d.Round(10*time.Millisecond), bytesCol, rt, down, strings.Join(rs, " "))
	}
	row("backup: documented procedure (no maintenance mode, cp -r)", m.Baseline, m.BaselineBytes, fmt.Sprintf("%.2f×", ratio(m.Hotsnap, m.Baseline)),
		"0 (never quiesced: not consistent)", func(x a4cRound) time.Duration { return x.Baseline })
	row("backup: hotsnap backup --yes --no-tui", m.Hotsnap, m.HotsnapBytes, "1.00×", m.Quiesced.Round(10*time.Millisecond).String()+" (maintenance mode)",
		func(x a4cRound) time.Duration { return x.Hotsnap })
	row("restore: documented procedure (stop, _all/_close, _restore, rm -r + cp -r, start)", m.RBaseline, 0, fmt.Sprintf("%.2f×", ratio(m.RHotsnap, m.RBaseline)),
		m.RBaselineDown.Round(10*time.Millisecond).String()+" (stopped)", func(x a4cRound) time.Duration { return x.RBaseline })
	row("restore: hotsnap restore ID --yes --confirm", m.RHotsnap, 0, "1.00×", m.RHotsnapDown.Round(10*time.Millisecond).String()+" (stopped)",
		func(x a4cRound) time.Duration { return x.RHotsnap })
	tw.Flush()
	fmt.Fprintf(w, "hotsnap peak RSS: backup median %.1f MiB, restore median %.1f MiB, max %.1f MiB\n", float64(m.RSS)/(1<<20), float64(m.RRSS)/(1<<20), float64(r.MaxRSS)/(1<<20))
	for _, c := range r.Checks {
		fmt.Fprintf(w, "check: %s\n", c)
	}
	verdict := func(ok bool, what string) {
		v := "MISS"
		if ok {
			v = "PASS"
		}
		fmt.Fprintf(w, "%s  %s\n", v, what)
	}
	verdict(ratio(m.Hotsnap, m.Baseline) <= benchMaxVsBaseline, fmt.Sprintf("hotsnap's backup no slower than the documented one: %.2f×", ratio(m.Hotsnap, m.Baseline)))
	verdict(ratio(m.RHotsnap, m.RBaseline) <= benchRestoreMaxVsBaseline, fmt.Sprintf("hotsnap's restore no slower than the documented one: %.2f×", ratio(m.RHotsnap, m.RBaseline)))
	verdict(r.MaxRSS < benchMaxRSS, fmt.Sprintf("hotsnap peak RSS under %d MB: max %.1f MiB", benchMaxRSS>>20, float64(r.MaxRSS)/(1<<20)))
}

// a4cBench runs the measurements on one lab.
type a4cBench struct {
	l    *lab.Lab
	bin  string
	logf func(string, ...any)
}

// runA4CBench brings up an Alien4Cloud lab, runs a warm-up round and the
// measured rounds, and takes the lab down (unless Keep).
func runA4CBench(ctx context.Context, o benchOptions) (rep *a4cReport, err error) {
	logf := o.logf
	lo := o.Lab
	lo.Platform = lab.PlatformAlien4Cloud
	logf("lab %s up: Alien4Cloud, %d nodes, %s of uploaded content", lo.Name, lo.Nodes, steps.HumanBytes(lo.Data))
	l, err := o.up(ctx, lo) // the data directory is seeded only when there is none: up purges first
	defer o.down(lo, &err)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(l.SharedBackupPath(), strings.TrimPrefix(a4cBenchFilesDir, "/mnt/backup/")), 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := baseline.InstallA4CFilesDir(l, a4cBenchFilesDir); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b := &a4cBench{l: l, bin: o.Lab.Binary, logf: logf}
	before, err := b.state(ctx)
	if err != nil {
		return nil, err
	}
	rep = &a4cReport{Link: l.Link(), Nodes: len(l.Nodes), Data: lo.Data}
	for _, f := range before.files {
		rep.DataOn += f.size
	}
	for _, n := range before.docs {
		rep.Docs += n
	}
	for i := 0; i <= o.Runs; i++ {
		r, err := b.round(ctx, before, rep)
		if err != nil {
			return nil, fmt.Errorf("bench: round %d: %w", i, err)
		}
		logf("round %d: backup documented %s, hotsnap %s (maintenance %s, RSS %.1f MiB); restore documented %s, hotsnap %s (stopped %s, RSS %.1f MiB)", i,
			r.Baseline.Round(time.Millisecond), r.Hotsnap.Round(time.Millisecond), r.Quiesced.Round(time.Millisecond), float64(r.RSS)/(1<<20),
			r.RBaseline.Round(time.Millisecond), r.RHotsnap.Round(time.Millisecond), r.RHotsnapDown.Round(time.Millisecond), float64(r.RRSS)/(1<<20))
		if i > 0 {
			rep.Rounds = append(rep.Rounds, r)
		}
	}
	rep.summarize()
	return rep, nil
}

// a4cState is what a restore must bring back: each index's documents and
// each file of the data directory (transient folders aside).
type a4cState struct {
	docs  map[string]int64
	files map[string]a4cFile
}

type a4cFile struct {
	size         int64
	sum, ownMode string
}

// state reads the documents per index (from op) and the data directory's
// files with their hashes, owners and modes (inside node1).
func (b *a4cBench) state(ctx context.Context) (a4cState, error) {
	st := a4cState{docs: map[string]int64{}, files: map[string]a4cFile{}}
	body, err := b.es(ctx, http.MethodGet, "/_cat/indices?format=json&h=index,docs.count")
	if err != nil {
		return st, err
	}
	var rows []struct {
		Index string `json:"index"`
		Count string `json:"docs.count"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return st, fmt.Errorf("bench: _cat/indices: %w", err)
	}
	for _, r := range rows {
		var n int64
		fmt.Sscan(r.Count, &n)
		st.docs[r.Index] = n
	}
	find := `cd ` + lab.Alien4CloudDataDir + ` && find . \( -path ./work -o -path ./upload -o -path ./tmp -o -path ./eshome \) -prune -o -type f `
	sums, err := b.node(ctx, find+`-exec sha256sum --zero {} +`)
	if err != nil {
		return st, err
	}
	meta, err := b.node(ctx, find+`-printf '%p\001%s\001%u:%g %m\0'`)
	if err != nil {
		return st, err
	}
	hash := map[string]string{}
	for _, rec := range strings.Split(sums, "\x00") {
		if sum, name, ok := strings.Cut(rec, "  "); ok {
			hash[name] = sum
		}
	}
	for _, rec := range strings.Split(meta, "\x00") {
		f := strings.Split(rec, "\x01")
		if len(f) != 3 {
			continue
		}
		var size int64
		fmt.Sscan(f[1], &size)
		st.files[f[0]] = a4cFile{size: size, sum: hash[f[0]], ownMode: f[2]}
	}
	if len(st.files) == 0 || len(st.docs) == 0 {
		return st, errors.New("bench: no file or no index to compare")
	}
	return st, nil
}

// check compares the state after a restore with before: every index's
// documents and every file's content (and, with owners, its owner and mode).
func (b *a4cBench) check(ctx context.Context, before a4cState, who string, owners bool) (string, error) {
	after, err := b.state(ctx)
	if err != nil {
		return "", err
	}
	var diffs []string
	for ix, n := range before.docs {
		if after.docs[ix] != n {
			diffs = append(diffs, fmt.Sprintf("index %s: %d documents, %d before", ix, after.docs[ix], n))
		}
	}
	for name, f := range before.files {
		g, ok := after.files[name]
		switch {
		case !ok:
			diffs = append(diffs, name+": missing")
		case g.sum != f.sum || g.size != f.size:
			diffs = append(diffs, name+": content differs")
		case owners && g.ownMode != f.ownMode:
			diffs = append(diffs, fmt.Sprintf("%s: %s, %s before", name, g.ownMode, f.ownMode))
		}
	}
	if len(after.files) != len(before.files) {
		diffs = append(diffs, fmt.Sprintf("%d files, %d before", len(after.files), len(before.files)))
	}
	if len(diffs) > 0 {
		return "", fmt.Errorf("bench: after the %s restore: %s", who, strings.Join(first(diffs, 5), "; "))
	}
	what := "content"
	if owners {
		what = "content, owner and mode"
	}
	return fmt.Sprintf("%s restore: %d indices with their documents, %d files with their %s", who, len(before.docs), len(before.files), what), nil
}

// first is s's first n items, "…" added when there are more.
func first(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), "…")
	}
	return s
}

// damage deletes some of Alien4Cloud's indices and uploaded files.
func (b *a4cBench) damage(ctx context.Context) error {
	if _, err := b.es(ctx, http.MethodDelete, "/csar,application,topology"); err != nil {
		return err
	}
	_, err := b.node(ctx, "rm -rf "+lab.Alien4CloudDataDir+"/csar/* "+lab.Alien4CloudDataDir+"/images")
	return err
}

var a4cBackupNameRE = regexp.MustCompile(`(?m)^backup (\S+) done$`)

// round times the documented backup and hotsnap's, then, after the same
// damage, the documented restore and hotsnap's, each checked.
func (b *a4cBench) round(ctx context.Context, before a4cState, rep *a4cReport) (a4cRound, error) {
	var r a4cRound
	node1 := b.l.Nodes[0]
	settle()
	start := time.Now()
	out, err := baseline.SSH(ctx, b.l, node1, "sudo "+baseline.A4CBackupPath)
	r.Baseline = time.Since(start)
	m := a4cBackupNameRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		return r, fmt.Errorf("documented backup: %v\n%s", err, out)
	}
	name := m[1]
	copyDir := filepath.Join(b.l.SharedBackupPath(), strings.TrimPrefix(a4cBenchFilesDir, "/mnt/backup/"), name)
	defer os.RemoveAll(copyDir)
	if r.BaselineBytes, err = dirSize(copyDir, ""); err != nil {
		return r, err
	}
	settle()
	id, err := b.hotsnapBackup(ctx, &r)
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(filepath.Join(b.l.BackupsPath(), id))
	defer b.deleteSnapshots(context.Background())

	if err := b.damage(ctx); err != nil {
		return r, err
	}
	if err := b.cold(ctx, id); err != nil {
		return r, err
	}
	start = time.Now()
	out, err = baseline.SSH(ctx, b.l, node1, "sudo "+baseline.A4CRestorePath+" "+name)
	r.RBaseline = time.Since(start)
	// The script stops Alien4Cloud first and ends when it answers again.
	r.RBaselineDown = r.RBaseline
	if err != nil || !strings.Contains(out, "restore "+name+" done") {
		return r, fmt.Errorf("documented restore: %v\n%s", err, out)
	}
	c, err := b.check(ctx, before, "documented", false)
	if err != nil {
		return r, err
	}
	rep.Checks = append(rep.Checks, c)
	if err := b.damage(ctx); err != nil {
		return r, err
	}
	if err := b.cold(ctx, id); err != nil {
		return r, err
	}
	if err := b.hotsnapRestore(ctx, id, &r); err != nil {
		return r, err
	}
	c, err = b.check(ctx, before, "hotsnap", true)
	if err != nil {
		return r, err
	}
	rep.Checks = append(rep.Checks, c)
	return r, nil
}

// cold writes the dirty pages out and drops the cached pages of what the
// restores read — both tools' copies of the data directory (the baseline's
// through node1's mount of the share, hotsnap's in the repository) and the
// snapshots' blobs — so that neither reads back from memory what it wrote
// moments ago, as no real restore does: through node1's mount of the
// share, in hotsnap's repository and on the backup host's disk behind the
// share. (posix_fadvise DONTNEED per file, through dd's nocache: the
// machine's other caches are left alone.)
func (b *a4cBench) cold(ctx context.Context, id string) error {
	settle()
	const drop = ` -type f -exec dd iflag=nocache count=0 status=none if={} \;`
	if _, err := b.node(ctx, "find "+a4cBenchFilesDir+" /mnt/backup/elasticsearch "+baseline.A4CESBackupDir+drop); err != nil {
		return err
	}
	// hotsnap's repository, and the backup host's disk behind the share
	// (its brick, which the share's server reads).
	brick := filepath.Join(b.l.StateDir, "backup-host", "export")
	cmd := exec.CommandContext(ctx, "sh", "-c", "find "+filepath.Join(b.l.BackupsPath(), id)+" "+brick+drop)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: drop the cached backups: %w: %s", err, out)
	}
	return nil
}

// run runs hotsnap inside op and returns its output and peak RSS.
func (b *a4cBench) run(ctx context.Context, args ...string) (string, int64, time.Duration, error) {
	cmd := b.l.OpCommand(ctx, b.bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss * 1024
		}
	}
	if err != nil {
		return out.String(), rss, d, fmt.Errorf("hotsnap %s: %w\n%s", args[0], err, out.String())
	}
	return out.String(), rss, d, nil
}

// hotsnapBackup times hotsnap's backup and returns its ID.
func (b *a4cBench) hotsnapBackup(ctx context.Context, r *a4cRound) (string, error) {
	before, _ := os.ReadDir(b.l.BackupsPath())
	out, rss, d, err := b.run(ctx, "backup", "--yes", "--json")
	r.RSS, r.Hotsnap = rss, d
	if err != nil {
		return "", err
	}
	b.logf("hotsnap backup steps: %s", stepTimes(out))
	after, _ := os.ReadDir(b.l.BackupsPath())
	var ids []string
	for _, e := range after {
		if !slices.ContainsFunc(before, func(x os.DirEntry) bool { return x.Name() == e.Name() }) {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("hotsnap backup: want one new backup, found %v", ids)
	}
	store, err := repo.Open(ctx, b.l.BackupsPath(), repo.Options{})
	if err != nil {
		return "", err
	}
	m, err := repo.ReadManifest(ctx, store, ids[0])
	if err != nil {
		return "", err
	}
	r.HotsnapBytes = m.Size()
	r.Quiesced = time.Duration(m.Timings["quiesced"] * float64(time.Second))
	return ids[0], nil
}

// hotsnapRestore times hotsnap's restore; Alien4Cloud is down from the
// start of its stop to the end of its start (when it answers again).
func (b *a4cBench) hotsnapRestore(ctx context.Context, id string, r *a4cRound) error {
	out, rss, d, err := b.run(ctx, "restore", id, "--yes", "--confirm", "lab", "--json")
	r.RHotsnap, r.RRSS = d, rss
	if err != nil {
		return err
	}
	var down, up time.Time
	for _, ev := range jsonEvents(out) {
		switch {
		case ev.Event == "step_started" && ev.Step == "stop-service":
			down = ev.Time
		case ev.Event == "step_finished" && ev.Step == "start-service":
			up = ev.Time
		}
	}
	if down.IsZero() || up.IsZero() {
		return fmt.Errorf("hotsnap restore: no stop or start in its events:\n%s", out)
	}
	b.logf("hotsnap restore steps: %s", stepTimes(out))
	r.RHotsnapDown = up.Sub(down)
	return nil
}

// benchEvent is what the bench reads of hotsnap's JSON events.
type benchEvent struct {
	Time     time.Time `json:"ts"`
	Event    string    `json:"event"`
	Step     string    `json:"step"`
	Duration int64     `json:"duration_ms"`
}

// jsonEvents reads hotsnap's --json output.
func jsonEvents(out string) []benchEvent {
	var evs []benchEvent
	for _, line := range strings.Split(out, "\n") {
		var ev benchEvent
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event != "" {
			evs = append(evs, ev)
		}
	}
	return evs
}

// stepTimes lists the steps that took 100 ms or more, for the log.
func stepTimes(out string) string {
	var took []string
	for _, ev := range jsonEvents(out) {
		if ev.Event == "step_finished" && ev.Duration >= 100 {
			took = append(took, fmt.Sprintf("%s %dms", ev.Step, ev.Duration))
		}
	}
	return strings.Join(took, ", ")
}

// deleteSnapshots deletes every snapshot of both tools' repositories, so
// that each round's snapshot is a full one.
func (b *a4cBench) deleteSnapshots(ctx context.Context) {
	for _, repoName := range []string{lab.Alien4CloudESRepository, "alien_backup"} {
		body, err := b.es(ctx, http.MethodGet, "/_snapshot/"+repoName+"/_all")
		if err != nil {
			continue // the baseline's is registered by its first backup
		}
		var list struct {
			Snapshots []struct {
				Snapshot string `json:"snapshot"`
			} `json:"snapshots"`
		}
		if json.Unmarshal(body, &list) != nil {
			continue
		}
		for _, s := range list.Snapshots {
			if _, err := b.es(ctx, http.MethodDelete, "/_snapshot/"+repoName+"/"+s.Snapshot); err != nil {
				b.logf("delete the snapshot %s: %v", s.Snapshot, err)
			}
		}
	}
}

// node runs script as root inside node1 (setup and checks, untimed).
func (b *a4cBench) node(ctx context.Context, script string) (string, error) {
	cmd := b.l.NodeCommand(ctx, b.l.Nodes[0].Name, "sh", "-c", script)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("bench: node1: %s: %w: %s", script, err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.String(), nil
}

// es sends a request without a body to node1's Elasticsearch from op, as
// the TheHive bench does.
func (b *a4cBench) es(ctx context.Context, method, path string) ([]byte, error) {
	return (&bench{l: b.l}).es(ctx, method, path)
}
