package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/baseline"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

// eiqRound is one round of the EclecticIQ bench: each tool's backup and
// restore, how long the platform's services were stopped during each, and
// hotsnap's peak RSS.
type eiqRound struct {
	Baseline, Hotsnap               time.Duration // backups
	BaselineOutage, HotsnapOutage   time.Duration
	BaselineRestore, HotsnapRestore time.Duration
	BaselineRestoreOutage           time.Duration
	HotsnapRestoreOutage            time.Duration
	BackupRSS, RestoreRSS           int64
	DumpBytes                       int64
}

// eiqBench measures EclecticIQ's documented procedure (lab/baseline's
// eclecticiq-backup.sh and -restore.sh) against hotsnap on one lab.
type eiqBench struct {
	l    *lab.Lab
	bin  string
	logf func(string, ...any)
}

// runEIQBench is `lab bench --platform eclecticiq`: a lab of the platform
// with o.Lab.Data of PostgreSQL data, a warm-up round and o.Runs measured
// rounds, each restore followed by the tables' check.
func runEIQBench(ctx context.Context, o benchOptions) (rounds []eiqRound, err error) {
	logf := o.logf
	lo := o.Lab
	logf("lab %s up: %d nodes, %s of PostgreSQL data", lo.Name, lo.Nodes, steps.HumanBytes(lo.Data))
	l, err := o.up(ctx, lo)
	defer o.down(lo, &err)
	if err != nil {
		return nil, err
	}
	if err := baseline.InstallEclecticIQ(l); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b := &eiqBench{l: l, bin: o.Lab.Binary, logf: logf}
	if _, err := b.node(ctx, b.curl()+` -XPUT 127.0.0.1:9200/_snapshot/hotsnap_repository -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}'`); err != nil {
		return nil, fmt.Errorf("bench: register the snapshot repository: %w", err)
	}
	want, err := b.tables(ctx)
	if err != nil {
		return nil, err
	}
	for i := 0; i <= o.Runs; i++ {
		r, err := b.round(ctx, want)
		if err != nil {
			return nil, fmt.Errorf("bench: round %d: %w", i, err)
		}
		logf("round %d: backup baseline %s (outage %s), hotsnap %s (outage %s, RSS %.1f MiB); restore baseline %s (outage %s), hotsnap %s (outage %s, RSS %.1f MiB)", i,
			r.Baseline.Round(time.Millisecond), r.BaselineOutage.Round(time.Millisecond), r.Hotsnap.Round(time.Millisecond), r.HotsnapOutage.Round(time.Millisecond), float64(r.BackupRSS)/(1<<20),
			r.BaselineRestore.Round(time.Millisecond), r.BaselineRestoreOutage.Round(time.Millisecond), r.HotsnapRestore.Round(time.Millisecond), r.HotsnapRestoreOutage.Round(time.Millisecond), float64(r.RestoreRSS)/(1<<20))
		if i > 0 {
			rounds = append(rounds, r)
		}
	}
	return rounds, nil
}

func (b *eiqBench) curl() string {
	if !b.l.Auth() {
		return "curl -sf"
	}
	pw, _ := b.l.Secret(lab.SecretES)
	return "curl -sf -u " + lab.ESUser + ":" + pw
}

// node runs a shell command inside node1 (untimed setup and checks).
func (b *eiqBench) node(ctx context.Context, script string) (string, error) {
	cmd := b.l.NodeCommand(ctx, b.l.Nodes[0].Name, "sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("node1: %s: %w: %s", script, err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// tables reads every table's row count.
func (b *eiqBench) tables(ctx context.Context) (string, error) {
	var q []string
	for _, t := range eclecticiq.Tables {
		q = append(q, fmt.Sprintf("SELECT '%s', count(*) FROM %s", t, t))
	}
	// In table order: PostgreSQL may return a UNION ALL's parts in any order
	// (a parallel append does, on large tables).
	return b.node(ctx, "runuser -u postgres -- psql -XAt -d eclecticiq -c "+remote.Quote("SELECT * FROM ("+strings.Join(q, " UNION ALL ")+") AS t ORDER BY 1"))
}

// damage drops the database and deletes an index, as a restore's reason.
func (b *eiqBench) damage(ctx context.Context) error {
	_, err := b.node(ctx, "runuser -u postgres -- psql -XAtqc 'DROP DATABASE eclecticiq WITH (FORCE)' && "+b.curl()+" -XDELETE 127.0.0.1:9200/documents_v2 >/dev/null")
	return err
}

// script runs a baseline script on node1 over ssh as root, timing it and
// the services' outage: from its "Stopping eclecticiq-platform-backend-
// services" line to its end (it starts the platform last).
func (b *eiqBench) script(ctx context.Context, cmdline string) (out string, d, outage time.Duration, err error) {
	n := b.l.Nodes[0]
	cmd := b.l.OpCommand(ctx, "ssh", "-i", b.l.KeyPath(), "-o", "UserKnownHostsFile="+b.l.KnownHostsPath(),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		lab.LoginUser+"@"+n.IP, "sudo "+cmdline+" 2>&1")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", 0, 0, err
	}
	var stopped time.Time
	var all strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		if stopped.IsZero() && strings.HasPrefix(sc.Text(), "Stopping eclecticiq-platform-backend-services") {
			stopped = time.Now()
		}
		all.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	d = time.Since(start)
	if !stopped.IsZero() {
		outage = time.Since(stopped)
	}
	if err != nil {
		return all.String(), d, outage, fmt.Errorf("%s: %w\n%s", cmdline, err, all.String())
	}
	return all.String(), d, outage, nil
}

// hotsnap runs hotsnap with --json in op, timing it, the services' outage
// (from stop-services starting to start-services finishing) and its peak
// RSS.
func (b *eiqBench) hotsnap(ctx context.Context, args ...string) (d, outage time.Duration, rss int64, err error) {
	cmd := b.l.OpCommand(ctx, b.bin, append(args, "--json")...)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	var down, up time.Time
	var last []string
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev["event"] == "step_started" && ev["step"] == "stop-services":
			down = time.Now()
		case ev["event"] == "step_finished" && ev["step"] == "start-services":
			up = time.Now()
		case ev["event"] == "output":
			if line, _ := ev["line"].(string); line != "" {
				last = append(last[max(0, len(last)-8):], line)
			}
		}
	}
	err = cmd.Wait()
	d = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	if !down.IsZero() && !up.IsZero() {
		outage = up.Sub(down)
	}
	if err != nil {
		return d, outage, rss, fmt.Errorf("hotsnap %s: %w\n%s\n%s", strings.Join(args, " "), err, strings.Join(last, "\n"), stderr.String())
	}
	return d, outage, rss, nil
}

// round backs up with each tool, then restores each tool's backup after
// the same damage and checks the tables.
func (b *eiqBench) round(ctx context.Context, want string) (r eiqRound, err error) {
	out, d, outage, err := b.script(ctx, baseline.EclecticIQBackupPath)
	if err != nil {
		return r, err
	}
	r.Baseline, r.BaselineOutage = d, outage
	lines := strings.Split(strings.TrimSpace(out), "\n")
	dir := lines[len(lines)-1]
	if fi, err := os.Stat(filepath.Join(b.l.SharedBackupPath(), strings.TrimPrefix(dir, "/mnt/backup/"), "db_dump.sql")); err == nil {
		r.DumpBytes = fi.Size()
	}
	before := map[string]bool{}
	ents, _ := os.ReadDir(b.l.BackupsPath())
	for _, e := range ents {
		before[e.Name()] = true
	}
	if r.Hotsnap, r.HotsnapOutage, r.BackupRSS, err = b.hotsnap(ctx, "backup", "--yes"); err != nil {
		return r, err
	}
	var id string
	ents, _ = os.ReadDir(b.l.BackupsPath())
	for _, e := range ents {
		if !before[e.Name()] {
			id = e.Name()
		}
	}
	if err := b.damage(ctx); err != nil {
		return r, err
	}
	if _, r.BaselineRestore, r.BaselineRestoreOutage, err = b.script(ctx, baseline.EclecticIQRestorePath+" "+dir); err != nil {
		return r, err
	}
	if got, err := b.tables(ctx); err != nil || got != want {
		return r, fmt.Errorf("after the baseline's restore the tables differ (%v):\n%s\nwant\n%s", err, got, want)
	}
	if err := b.damage(ctx); err != nil {
		return r, err
	}
	if r.HotsnapRestore, r.HotsnapRestoreOutage, r.RestoreRSS, err = b.hotsnap(ctx, "restore", id, "--yes", "--confirm", "lab"); err != nil {
		return r, err
	}
	if got, err := b.tables(ctx); err != nil || got != want {
		return r, fmt.Errorf("after hotsnap's restore the tables differ (%v):\n%s\nwant\n%s", err, got, want)
	}
	// Every round starts from the same state.
	if err := os.RemoveAll(filepath.Join(b.l.BackupsPath(), id)); err != nil {
		return r, err
	}
	if err := os.RemoveAll(filepath.Join(b.l.SharedBackupPath(), strings.TrimPrefix(dir, "/mnt/backup/"))); err != nil {
		return r, err
	}
	_, err = b.node(ctx, b.curl()+" -XDELETE '127.0.0.1:9200/_snapshot/hotsnap_repository/*' >/dev/null; "+b.curl()+" -XDELETE '127.0.0.1:9200/_snapshot/backup/*' >/dev/null; true")
	return r, err
}

// printEIQBench prints the medians, ratios, outages and the targets.
func printEIQBench(w io.Writer, o benchOptions, rounds []eiqRound) {
	med := func(f func(eiqRound) time.Duration) time.Duration { return medianOf(rounds, f) }
	var rss, rrss, dump int64
	for _, r := range rounds {
		rss, rrss, dump = max(rss, r.BackupRSS), max(rrss, r.RestoreRSS), r.DumpBytes
	}
	fmt.Fprintf(w, "EclecticIQ bench: %d nodes, %s of PostgreSQL data asked (dump %s), %d measured rounds, links %s\n", o.Lab.Nodes, steps.HumanBytes(o.Lab.Data), steps.HumanBytes(dump), len(rounds), map[bool]string{true: "unshaped", false: o.Lab.Link.String()}[o.Lab.Link.IsZero()])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tbaseline (seed 003)\thotsnap\tratio\tservices stopped: baseline\thotsnap\thotsnap peak RSS")
	bb, hb := med(func(r eiqRound) time.Duration { return r.Baseline }), med(func(r eiqRound) time.Duration { return r.Hotsnap })
	br, hr := med(func(r eiqRound) time.Duration { return r.BaselineRestore }), med(func(r eiqRound) time.Duration { return r.HotsnapRestore })
	fmt.Fprintf(tw, "backup\t%s\t%s\t%.2f×\t%s\t%s\t%.1f MiB\n", bb.Round(time.Millisecond), hb.Round(time.Millisecond), ratio(hb, bb),
		med(func(r eiqRound) time.Duration { return r.BaselineOutage }).Round(time.Millisecond), med(func(r eiqRound) time.Duration { return r.HotsnapOutage }).Round(time.Millisecond), float64(rss)/(1<<20))
	fmt.Fprintf(tw, "restore\t%s\t%s\t%.2f×\t%s\t%s\t%.1f MiB\n", br.Round(time.Millisecond), hr.Round(time.Millisecond), ratio(hr, br),
		med(func(r eiqRound) time.Duration { return r.BaselineRestoreOutage }).Round(time.Millisecond), med(func(r eiqRound) time.Duration { return r.HotsnapRestoreOutage }).Round(time.Millisecond), float64(rrss)/(1<<20))
	tw.Flush()
	verdict := func(ok bool, what string) {
		fmt.Fprintf(w, "%s %s\n", map[bool]string{true: "PASS", false: "MISS"}[ok], what)
	}
	verdict(ratio(hb, bb) <= benchMaxVsBaseline, fmt.Sprintf("backup: hotsnap no slower than the baseline (%.2f×)", ratio(hb, bb)))
	verdict(ratio(hr, br) <= benchMaxVsBaseline, fmt.Sprintf("restore: hotsnap no slower than the baseline (%.2f×)", ratio(hr, br)))
	verdict(max(rss, rrss) < benchMaxRSS, fmt.Sprintf("peak RSS under 100 MB (%.1f MiB)", float64(max(rss, rrss))/(1<<20)))
	fmt.Fprintln(w, "every restore was followed by a check of every table's row count (hotsnap's own report also compares content and documents)")
}
