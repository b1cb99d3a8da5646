package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/baseline"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// Benchmark targets (issue 15, "Then make hotsnap ahead on it").
const (
	benchMaxVsBaseline = 1.0         // Alien4Cloud and EclecticIQ: hotsnap no slower than the documented procedure
	benchMaxVsRaw      = 1.2         // every-node backup within 1.2× of `ssh node tar cf - snapshot > /dev/null`, nodes in parallel
	benchMaxFixed      = time.Second // hotsnap's fixed cost in a backup (benchFixed)
	benchMaxRSS        = 100 << 20   // peak RSS under 100 MB
	// benchBigData is the data per node from which backup --one-node must
	// take at most half the published procedure's time (≤ 1× below it).
	benchBigData = 2_000_000_000
)

// oneNodeTarget is the target of backup --one-node over the published
// procedure for perNode bytes of data per node: ≤ 0.5× at 2 GB, ≤ 1× at
// 200 MB.
func oneNodeTarget(perNode int64) float64 {
	if perNode >= benchBigData {
		return 0.5
	}
	return 1
}

// benchOptions configures one benchmark run.
type benchOptions struct {
	Lab  lab.Options // name, subnet, state dir, nodes, data; Binary is the hotsnap under test
	Runs int         // measured rounds (a warm-up round comes first and is discarded)
	// NoWarmUp skips the warm-up round (thehive): at 2 GB per node a round
	// takes long, and every round starts from the same state anyway.
	NoWarmUp bool
	Keep     bool      // leave the lab up at the end
	Log      io.Writer // progress lines; nil discards them
	ESPoll   time.Duration
	// CPUProfileDir, when set, receives a CPU profile of every hotsnap
	// backup measured (backup-<n>[-one-node].pprof).
	CPUProfileDir string
	// Topology is the lab of another node count that hotsnap's backup is
	// also restored into (name, subnet, nodes, state dir; TheHive only);
	// Nodes 0: no such restore.
	Topology lab.Options
}

// benchRound is one round's measurements.
type benchRound struct {
	Raw, Baseline, Hotsnap time.Duration
	RawBytes               int64 // snapshot bytes tarred by the raw bound, every node
	BaselineBytes          int64 // archives the published procedure wrote (Cassandra tar + attachments tar)
	// WaitFixed is the published procedure with the ES wait fixed
	// (baseline.WaitFixed); Baseline is the published one as it runs,
	// which ratios are taken against.
	WaitFixed      time.Duration
	WaitFixedBytes int64
	HotsnapBytes   int64 // manifest size: every node's tables + attachments
	RSS            int64 // hotsnap's peak resident set, bytes
	// OneNode and OneNodeBytes are hotsnap's `backup --one-node`: one
	// replica, like the documented procedure (0 when not measured).
	OneNode      time.Duration
	OneNodeBytes int64
	// Fixed is hotsnap's fixed cost in the every-node backup, from its
	// journal: its wall time less the steps that move the data;
	// OneNodeFixed is the same for --one-node.
	Fixed        benchFixed
	OneNodeFixed time.Duration
	// Restore is the round's restore phase (cmd_bench_restore.go).
	Restore restoreRound
}

// benchReport is the result of a benchmark: every measured round and
// their medians.
type benchReport struct {
	Link        lab.LinkSpec // the lab's links (zero: unshaped)
	NoWarmUp    bool         // measured from the first round (--no-warm-up)
	Nodes       int
	DataPerNode int64 // as asked (--data)
	CassandraOn int64 // Cassandra data actually on disk, every node, snapshots excluded
	FilesOn     int64 // attachments on node1's disk
	ESSnapshot  int64 // size of hotsnap's Elasticsearch snapshot (last round)
	Rounds      []benchRound
	Median      benchRound
	MaxRSS      int64
	// RestoreMedian and RestoreMaxRSS are the restore phase's medians and
	// hotsnap's largest peak RSS while restoring.
	RestoreMedian restoreRound
	RestoreMaxRSS int64
	// Checks has one line per restore whose application-level check passed
	// (warm-up round included).
	Checks []string
}

// RatioOneNodeBaseline is hotsnap --one-node's median time over the
// baseline's: the like-for-like comparison (both copy one replica); it
// falls back to RatioBaseline when --one-node was not measured.
func (r *benchReport) RatioOneNodeBaseline() float64 {
	if r.Median.OneNode == 0 {
		return r.RatioBaseline()
	}
	return ratio(r.Median.OneNode, r.Median.Baseline)
}

// RatioBaseline is hotsnap's median time over the baseline's.
func (r *benchReport) RatioBaseline() float64 { return ratio(r.Median.Hotsnap, r.Median.Baseline) }

// RatioRaw is hotsnap's median time over the raw bound's.
func (r *benchReport) RatioRaw() float64 { return ratio(r.Median.Hotsnap, r.Median.Raw) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func throughput(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return steps.HumanBytes(int64(float64(n)/d.Seconds())) + "/s"
}

// medianOf is the median of f over the rounds.
func medianOf[R any, T int64 | time.Duration](rounds []R, f func(R) T) T {
	xs := make([]T, len(rounds))
	for i, r := range rounds {
		xs[i] = f(r)
	}
	return median(xs)
}

func median[T int64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summarize fills Median and MaxRSS from Rounds.
func (r *benchReport) summarize() {
	pick := func(f func(benchRound) int64) int64 { return medianOf(r.Rounds, f) }
	r.Median = benchRound{
		Raw:            time.Duration(pick(func(x benchRound) int64 { return int64(x.Raw) })),
		Baseline:       time.Duration(pick(func(x benchRound) int64 { return int64(x.Baseline) })),
		Hotsnap:        time.Duration(pick(func(x benchRound) int64 { return int64(x.Hotsnap) })),
		RawBytes:       pick(func(x benchRound) int64 { return x.RawBytes }),
		BaselineBytes:  pick(func(x benchRound) int64 { return x.BaselineBytes }),
		WaitFixed:      time.Duration(pick(func(x benchRound) int64 { return int64(x.WaitFixed) })),
		WaitFixedBytes: pick(func(x benchRound) int64 { return x.WaitFixedBytes }),
		HotsnapBytes:   pick(func(x benchRound) int64 { return x.HotsnapBytes }),
		RSS:            pick(func(x benchRound) int64 { return x.RSS }),
		OneNode:        time.Duration(pick(func(x benchRound) int64 { return int64(x.OneNode) })),
		OneNodeBytes:   pick(func(x benchRound) int64 { return x.OneNodeBytes }),
		Fixed:          benchFixed{Total: time.Duration(pick(func(x benchRound) int64 { return int64(x.Fixed.Total) }))},
		OneNodeFixed:   time.Duration(pick(func(x benchRound) int64 { return int64(x.OneNodeFixed) })),
	}
	r.MaxRSS = 0
	for _, x := range r.Rounds {
		r.MaxRSS = max(r.MaxRSS, x.RSS)
	}
	r.summarizeRestore()
}

// Print writes the table and one verdict line per target.
func (r *benchReport) Print(w io.Writer) {
	fmt.Fprintf(w, "hotsnap backup benchmark: %d nodes, --data %s per node; on disk: Cassandra %s (all nodes), attachments %s, ES snapshot %s\n",
		r.Nodes, steps.HumanBytes(r.DataPerNode), steps.HumanBytes(r.CassandraOn), steps.HumanBytes(r.FilesOn), steps.HumanBytes(r.ESSnapshot))
	link := "unshaped (veth pairs)"
	if !r.Link.IsZero() {
		link = "every node's, the operator's and the backup host's shaped to " + r.Link.String() + " with tc"
	}
	fmt.Fprintf(w, "links: %s; /mnt/backup: the backup host's GlusterFS share\n", link)
	warm := "after 1 warm-up round"
	if r.NoWarmUp {
		warm = "no warm-up round"
	}
	fmt.Fprintf(w, "median of %d rounds (%s; dirty pages synced before each backup):\n", len(r.Rounds), warm)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  \ttime\tbytes\tthroughput\thotsnap / this\trounds")
	m := r.Median
	row := func(name string, d time.Duration, n int64, rt string, get func(benchRound) time.Duration) {
		var rs []string
		for _, x := range r.Rounds {
			rs = append(rs, get(x).Round(10*time.Millisecond).String())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", name, d.Round(10*time.Millisecond), steps.HumanBytes(n), throughput(n, d), rt, strings.Join(rs, " "))
	}
	row("raw bound (ssh tar > /dev/null, nodes in parallel)", m.Raw, m.RawBytes, fmt.Sprintf("%.2f×", r.RatioRaw()), func(x benchRound) time.Duration { return x.Raw })
	row("baseline: the published procedure as it runs (never waits for ES)", m.Baseline, m.BaselineBytes, fmt.Sprintf("%.2f×", r.RatioBaseline()), func(x benchRound) time.Duration { return x.Baseline })
	if m.WaitFixed > 0 {
		row("published + the ES wait fixed (poll every 1 s)", m.WaitFixed, m.WaitFixedBytes, fmt.Sprintf("%.2f×", ratio(m.Hotsnap, m.WaitFixed)), func(x benchRound) time.Duration { return x.WaitFixed })
	}
	row("hotsnap backup --yes --no-tui", m.Hotsnap, m.HotsnapBytes, "1.00×", func(x benchRound) time.Duration { return x.Hotsnap })
	if m.OneNode > 0 {
		row("hotsnap backup --one-node (one replica)", m.OneNode, m.OneNodeBytes, fmt.Sprintf("baseline %.2f×", r.RatioOneNodeBaseline()), func(x benchRound) time.Duration { return x.OneNode })
	}
	tw.Flush()
	var rss []string
	for _, x := range r.Rounds {
		rss = append(rss, fmt.Sprintf("%.1f", float64(x.RSS)/(1<<20)))
	}
	fmt.Fprintf(w, "hotsnap peak RSS: median %.1f MiB, max %.1f MiB (rounds: %s MiB)\n", float64(m.RSS)/(1<<20), float64(r.MaxRSS)/(1<<20), strings.Join(rss, " "))
	verdict := func(ok bool, what string) {
		v := "MISS"
		if ok {
			v = "PASS"
		}
		fmt.Fprintf(w, "%s  %s\n", v, what)
	}
	if n := len(r.Rounds); n > 0 && r.Rounds[n-1].Fixed.Wall > 0 {
		var fs []string
		for _, x := range r.Rounds {
			fs = append(fs, x.Fixed.Total.Round(10*time.Millisecond).String())
		}
		fmt.Fprintf(w, "hotsnap fixed cost (backup less the steps that move data, from its journal): median %s (rounds: %s), --one-node %s\n",
			m.Fixed.Total.Round(10*time.Millisecond), strings.Join(fs, " "), m.OneNodeFixed.Round(10*time.Millisecond))
		fmt.Fprintf(w, "  last round: %s\n", r.Rounds[n-1].Fixed)
	}
	target := oneNodeTarget(r.DataPerNode)
	if m.OneNode > 0 {
		verdict(r.RatioOneNodeBaseline() <= target, fmt.Sprintf("hotsnap backup --one-node ≤ %.1f× the published procedure (both copy one replica; %s per node): %.2f× (every node: %.2f×)", target, steps.HumanBytes(r.DataPerNode), r.RatioOneNodeBaseline(), r.RatioBaseline()))
	} else {
		verdict(r.RatioBaseline() <= target, fmt.Sprintf("hotsnap backup ≤ %.1f× the published procedure: %.2f×", target, r.RatioBaseline()))
	}
	verdict(r.RatioRaw() <= benchMaxVsRaw, fmt.Sprintf("hotsnap backup (every node) ≤ %.1f× the raw bound (every node): %.2f×", benchMaxVsRaw, r.RatioRaw()))
	verdict(m.Fixed.Total <= benchMaxFixed, fmt.Sprintf("hotsnap's fixed cost in a backup ≤ %s on the %d-node lab: %s", benchMaxFixed, r.Nodes, m.Fixed.Total.Round(10*time.Millisecond)))
	verdict(r.MaxRSS < benchMaxRSS, fmt.Sprintf("hotsnap peak RSS under %d MB: max %.1f MiB over %d rounds", benchMaxRSS>>20, float64(r.MaxRSS)/(1<<20), len(r.Rounds)))
	r.printRestore(w, verdict)
}

func newLabBenchCmd(o *lab.Options) *cobra.Command {
	var dataSize string
	var nodes, runs int
	var keep bool
	var cpuProfile, link, platform string
	var topoNodes, topoSubnet int
	var noWarmUp bool
	c := &cobra.Command{
		Use:   "bench [--platform thehive|alien4cloud|eclecticiq] [--data 200MB] [--nodes 3] [--runs 3] [--topology-nodes 2] [--keep]",
		Short: "Time hotsnap's backup and restore against the published procedure and a raw ssh+tar bound (root)",
		Long: `Bring up a lab of its own (default name "hsbench", subnet 20) with every link
shaped (--link, default 1gbit: tc on each node's, the operator's and the
backup host's link) and /mnt/backup served by the backup host over a network
file system, and, for a warm-up round (none with --no-warm-up) and then --runs measured rounds, time
in this order:

  raw bound  ssh NODE sudo tar cf - <every table's snapshot dir> > /dev/null,
             every node in parallel (the real OpenSSH client from op)
  published  StrangeBee's published backup scripts, verbatim (lab/baseline:
             Cassandra + ES snapshots, then the attachments), sudo over ssh
             on node1: the procedure as it runs, which never waits for the
             ES snapshot; ratios are taken against it
  wait fixed the same with the ES block's early exit 0 removed, polling
             every second until SUCCESS
  hotsnap    hotsnap backup --yes --no-tui inside op (peak RSS measured),
             and hotsnap backup --one-node; from each run's journal, its
             fixed cost: the wall time less the steps that move data
             (stream, files, es-wait), printed with the steps it is made of

then, in the same round, the restore: a backup with each tool (untimed), and

  raw bound  every archive of hotsnap's backup streamed from the repository
             over ssh into the node it belongs to and unpacked there
             (ssh NODE sudo tar -x), every node in parallel
  published  the published restore: TheHive stopped on every node, the two
             published restore scripts on node1, TheHive started (also timed
             until TheHive answers)
  hotsnap    hotsnap restore ID --yes --confirm CLUSTER --no-tui inside op:
             verify, stop TheHive, keyspace, ES, attachments, start, healthy
  topology   the same backup restored with --set-rf into a second lab of
             --topology-nodes nodes (default 2, subnet --topology-subnet,
             named as the bench's lab with a "t"; 0: not run): another
             topology, so hotsnap loads it with sstableloader; the ES
             repository is copied along (untimed), as a migration would

each restore after the same damage (keyspace dropped, TheHive's index
deleted, attachments removed) and followed by an application-level check:
rows per table, documents, every attachment (hotsnap: owners and modes too)
as before, TheHive healthy on every node; a failed check fails the bench.
Beside each restore's time, TheHive's outage: the published restore's from
its first systemctl stop until TheHive answers on every node, hotsnap's
from its journal (stop-thehive's start to start-thehive's end).

Snapshots, archives, backups and ES snapshots are removed after each step, so
every round starts from the same state. It prints the medians, the ratios
(within the run), throughput, peak RSS and one PASS/MISS line per target of
issue 15: backup --one-node ≤ 1× the published procedure (≤ 0.5× from 2 GB
per node), the every-node backup ≤ 1.2× the every-node raw bound, the fixed
cost ≤ 1 s, each hotsnap restore ≤ 0.7× the published restore and TheHive's
outage ≤ 0.5× the published one, peak RSS < 100 MB; and the restore within
1.3× of its raw bound. The labs are removed at the end unless --keep.

--platform alien4cloud (default --data 1GB of uploaded content, 1 node):
Alien4Cloud's documented procedure (lab/baseline's alien4cloud-backup.sh and
alien4cloud-restore.sh, from the backup tool's page and the 1.0.0 script, with
backup.files_dir on the backup host's share) against hotsnap backup and hotsnap
restore, each restore after the same damage (indices deleted, uploaded files
removed) and checked (documents per index, every file's content; hotsnap's
owners and modes too); it prints the ratios, peak RSS, and how long Alien4Cloud
was in maintenance mode or stopped.

--platform eclecticiq (lab "hse9q3", subnet 38, one node, --data is
PostgreSQL's): each round times seed 003's procedure (lab/baseline's
eclecticiq-backup.sh over ssh as root) and hotsnap backup --yes, then, after
the same damage (database dropped, an index deleted), eclecticiq-restore.sh
and hotsnap restore, each followed by a check of every table's row count; it
prints the ratios, hotsnap's peak RSS and how long the platform's services
were stopped by each tool (the outage).`,
		Example: "  sudo hotsnap lab bench --data 200MB\n  sudo hotsnap lab bench --data 2GB --runs 3\n  sudo hotsnap lab bench --link off   # unshaped links\n  sudo hotsnap lab bench --platform alien4cloud --runs 1\n  sudo hotsnap lab bench --platform eclecticiq --data 200MB",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lab.RequireRoot(); err != nil {
				return usageErr(err)
			}
			size, err := lab.ParseSize(dataSize)
			if err != nil {
				return usageErr(fmt.Errorf("--data: %w", err))
			}
			if runs < 1 {
				return usageErr(fmt.Errorf("--runs %d: want at least 1", runs))
			}
			bo := benchOptions{Lab: *o, Runs: runs, NoWarmUp: noWarmUp, Keep: keep, Log: cmd.ErrOrStderr(), CPUProfileDir: cpuProfile}
			if platform == lab.PlatformEclecticIQ {
				bo.Lab.Platform, bo.Lab.Name, bo.Lab.Subnet, bo.Lab.Nodes, bo.Lab.Data = platform, "hse9q3", 38, 1, size
				for flag, set := range map[string]func(){"name": func() { bo.Lab.Name = o.Name }, "subnet": func() { bo.Lab.Subnet = o.Subnet }, "nodes": func() { bo.Lab.Nodes = nodes }} {
					if cmd.Flags().Changed(flag) {
						set()
					}
				}
				if bo.Lab.Link, err = lab.ParseLink(link); err != nil {
					return usageErr(fmt.Errorf("--link: %w", err))
				}
				if bo.Lab.Binary, err = os.Executable(); err != nil {
					return fmt.Errorf("lab bench: locate the hotsnap binary: %w", err)
				}
				rounds, err := runEIQBench(cmd.Context(), bo)
				if err != nil {
					return err
				}
				printEIQBench(cmd.OutOrStdout(), bo, rounds)
				return nil
			}
			if !cmd.Flags().Changed("name") {
				bo.Lab.Name = "hsbench"
			}
			if !cmd.Flags().Changed("subnet") {
				bo.Lab.Subnet = 20
			}
			bo.Lab.Nodes, bo.Lab.Data = nodes, size
			if bo.Lab.Link, err = lab.ParseLink(link); err != nil {
				return usageErr(fmt.Errorf("--link: %w", err))
			}
			if bo.Lab.Binary, err = os.Executable(); err != nil {
				return fmt.Errorf("lab bench: locate the hotsnap binary: %w", err)
			}
			switch platform {
			case lab.PlatformTheHive:
				if topoNodes > 0 {
					if topoNodes == bo.Lab.Nodes {
						return usageErr(fmt.Errorf("--topology-nodes %d: the same node count as --nodes; want another (or 0: no such restore)", topoNodes))
					}
					if topoSubnet == bo.Lab.Subnet {
						return usageErr(fmt.Errorf("--topology-subnet %d: the bench's own lab uses it; give another", topoSubnet))
					}
					bo.Topology = lab.Options{Name: topologyName(bo.Lab.Name), Subnet: topoSubnet, Nodes: topoNodes}
				}
			case lab.PlatformAlien4Cloud:
				if !cmd.Flags().Changed("nodes") {
					bo.Lab.Nodes = 1 // as alien4cloud-spray installs it
				}
				if !cmd.Flags().Changed("data") {
					bo.Lab.Data = 1 << 30
				}
				r, err := runA4CBench(cmd.Context(), bo)
				if err != nil {
					return err
				}
				r.Print(cmd.OutOrStdout())
				return nil
			default:
				return usageErr(fmt.Errorf("--platform %q: the bench runs thehive, alien4cloud or eclecticiq", platform))
			}
			r, err := runBench(cmd.Context(), bo)
			if err != nil {
				return err
			}
			r.Print(cmd.OutOrStdout())
			return nil
		},
	}
	c.Flags().StringVar(&platform, "platform", lab.PlatformTheHive, "thehive, alien4cloud (the backup tool's page) or eclecticiq (seed 003's procedure)")
	c.Flags().StringVar(&dataSize, "data", "200MB", "Cassandra data per node (e.g. 200MB, 2GB); alien4cloud: uploaded content (default 1GB); eclecticiq: PostgreSQL's")
	c.Flags().IntVar(&nodes, "nodes", 3, fmt.Sprintf("number of nodes (1-%d)", lab.MaxNodes))
	c.Flags().IntVar(&runs, "runs", 3, "measured rounds (after one warm-up round)")
	c.Flags().BoolVar(&noWarmUp, "no-warm-up", false, "thehive: measure from the first round (no warm-up round: at 2 GB per node a round is long)")
	c.Flags().BoolVar(&keep, "keep", false, "leave the lab up at the end")
	c.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of each hotsnap backup into this directory (go tool pprof)")
	c.Flags().IntVar(&topoNodes, "topology-nodes", benchTopologyNodes, "thehive: also restore hotsnap's backup into a second lab of this many nodes (another topology: sstableloader); 0: not")
	c.Flags().IntVar(&topoSubnet, "topology-subnet", benchTopologySubnet, "thehive: the subnet of that second lab (its name is the bench lab's with a \"t\")")
	c.Flags().StringVar(&link, "link", "1gbit", "shape every link of the lab with tc: RATE[,DELAY] (e.g. 1gbit, 10gbit,0.2ms) or off")
	return c
}

// runBench brings up the lab, runs the warm-up and measured rounds, and
// takes the lab down (unless Keep), also when it fails or is cancelled.
func runBench(ctx context.Context, o benchOptions) (rep *benchReport, err error) {
	logf := o.logf
	if o.Runs < 1 {
		return nil, fmt.Errorf("bench: %d runs: want at least 1", o.Runs)
	}
	if o.Lab.Binary == "" {
		return nil, errors.New("bench: no hotsnap binary to measure")
	}
	lo := o.Lab
	logf("lab %s up: %d nodes, %s of Cassandra data each, links %s", lo.Name, lo.Nodes, steps.HumanBytes(lo.Data), map[bool]string{true: "unshaped", false: lo.Link.String()}[lo.Link.IsZero()])
	l, err := o.up(ctx, lo)
	defer o.down(lo, &err)
	if err != nil {
		return nil, err
	}
	if err := baseline.Install(l); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b := &bench{l: l, bin: o.Lab.Binary, logf: logf, profDir: o.CPUProfileDir}
	if o.Topology.Nodes > 0 {
		to := o.topologyLab()
		logf("lab %s up for the restore into another topology: %d nodes", to.Name, to.Nodes)
		dst, uerr := o.up(ctx, to)
		defer o.down(to, &err)
		if uerr != nil {
			return nil, uerr
		}
		if err := b.withOther(dst); err != nil {
			return nil, err
		}
	}
	rep = &benchReport{Nodes: len(l.Nodes), DataPerNode: lo.Data, Link: l.Link()}
	if rep.CassandraOn, err = b.cassandraOnDisk(); err != nil {
		return nil, err
	}
	if rep.FilesOn, err = dirSize(filepath.Join(l.NodeDir(l.Nodes[0].Name), "thehive-files"), ""); err != nil {
		return nil, fmt.Errorf("bench: size of the attachments: %w", err)
	}
	rep.NoWarmUp = o.NoWarmUp
	first := 0
	if o.NoWarmUp {
		first = 1
	}
	for i := first; i <= o.Runs; i++ {
		name := fmt.Sprintf("round %d/%d", i, o.Runs)
		if i == 0 {
			name = "warm-up round"
		}
		r, err := b.round(ctx, i, rep)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", name, err)
		}
		logf("%s: raw %s, published %s, wait fixed %s, hotsnap %s (fixed cost %s), --one-node %s, RSS %.1f MiB; restore: raw %s, published %s (outage %s), hotsnap %s (outage %s), into %d nodes %s (outage %s), RSS %.1f MiB", name, r.Raw.Round(time.Millisecond),
			r.Baseline.Round(time.Millisecond), r.WaitFixed.Round(time.Millisecond), r.Hotsnap.Round(time.Millisecond), r.Fixed.Total.Round(time.Millisecond), r.OneNode.Round(time.Millisecond), float64(r.RSS)/(1<<20),
			r.Restore.Raw.Round(time.Millisecond), r.Restore.Baseline.Round(time.Millisecond), r.Restore.BaselineHealthy.Round(time.Millisecond), r.Restore.Hotsnap.Round(time.Millisecond), r.Restore.Outage.Round(time.Millisecond),
			r.Restore.OtherNodes, r.Restore.Other.Round(time.Millisecond), r.Restore.OtherOutage.Round(time.Millisecond), float64(max(r.Restore.RSS, r.Restore.OtherRSS))/(1<<20))
		if i == o.Runs {
			logf("hotsnap fixed cost, last round: %s", r.Fixed)
		}
		if i > 0 {
			rep.Rounds = append(rep.Rounds, r)
		}
	}
	rep.summarize()
	return rep, nil
}

// logf prints a progress line of the bench to o.Log.
func (o benchOptions) logf(format string, a ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, "bench: "+format+"\n", a...)
	}
}

// up brings up the bench's lab lo, after taking down one a bench left
// behind when it was interrupted; lab up's log is in the error.
func (o benchOptions) up(ctx context.Context, lo lab.Options) (*lab.Lab, error) {
	var labLog bytes.Buffer
	lo.Log = &labLog
	purge := lo
	purge.Purge = true
	_ = lab.Down(context.Background(), purge)
	t0 := time.Now()
	l, err := lab.Up(ctx, lo)
	if err != nil {
		return l, fmt.Errorf("bench: lab up: %w\n%s", err, labLog.String())
	}
	o.logf("lab up in %s; state in %s", time.Since(t0).Round(10*time.Millisecond), l.StateDir)
	return l, nil
}

// down takes the bench's lab lo down with its data (a 2 GB lab's is large)
// unless o.Keep; its error becomes *err when there was none.
func (o benchOptions) down(lo lab.Options, err *error) {
	if o.Keep {
		o.logf("lab %s left up (--keep): sudo hotsnap lab --name %s down", lo.Name, lo.Name)
		return
	}
	lo.Purge = true
	if derr := lab.Down(context.Background(), lo); derr != nil && *err == nil {
		*err = fmt.Errorf("bench: lab down: %w", derr)
	}
}

// bench runs the three measurements on one lab.
type bench struct {
	l    *lab.Lab
	bin  string
	logf func(string, ...any)
	// profDir receives a CPU profile of each hotsnap run when set; runs
	// counts them for the file names.
	profDir string
	runs    int
	// other is the bench of the changed-topology lab (nil: none), and
	// otherInv its inventory with this lab's repository.
	other    *bench
	otherInv string
}

// cassandraOnDisk sums the keyspace's files on every node, snapshots excluded.
func (b *bench) cassandraOnDisk() (int64, error) {
	var total int64
	for _, n := range b.l.Nodes {
		root := filepath.Join(b.l.NodeDir(n.Name), "cassandra", "data", lab.Keyspace)
		size, err := dirSize(root, "snapshots")
		total += size
		if err != nil {
			return 0, fmt.Errorf("bench: size of %s's Cassandra data: %w", n.Name, err)
		}
	}
	return total, nil
}

// dirSize sums the sizes of the regular files under root, skipping the
// folders named skip ("" skips none).
func dirSize(root, skip string) (int64, error) {
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip != "" && d.IsDir() && d.Name() == skip {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// round runs raw bound, baseline and hotsnap once, in that order, for the
// backup, then the restore phase.
func (b *bench) round(ctx context.Context, i int, rep *benchReport) (benchRound, error) {
	var r benchRound
	var err error
	// Each backup starts with the dirty pages of the one before it (and of
	// the last round's restores) written out, as each restore does.
	settle()
	if r.Raw, r.RawBytes, err = b.raw(ctx, fmt.Sprintf("raw%d", i)); err != nil {
		return r, fmt.Errorf("raw bound: %w", err)
	}
	settle()
	if r.Baseline, r.BaselineBytes, err = b.baseline(ctx, baseline.Published); err != nil {
		return r, fmt.Errorf("baseline %s: %w", baseline.Published, err)
	}
	settle()
	if r.WaitFixed, r.WaitFixedBytes, err = b.baseline(ctx, baseline.WaitFixed); err != nil {
		return r, fmt.Errorf("baseline %s: %w", baseline.WaitFixed, err)
	}
	settle()
	every, err := b.hotsnap(ctx)
	if err != nil {
		return r, fmt.Errorf("hotsnap: %w", err)
	}
	r.Hotsnap, r.HotsnapBytes, r.RSS, r.Fixed, rep.ESSnapshot = every.D, every.Size, every.RSS, every.Fixed, every.ESSize
	settle()
	one, err := b.hotsnap(ctx, "--one-node")
	if err != nil {
		return r, fmt.Errorf("hotsnap --one-node: %w", err)
	}
	r.OneNode, r.OneNodeBytes, r.OneNodeFixed = one.D, one.Size, one.Fixed.Total
	r.RSS = max(r.RSS, one.RSS)
	if r.Restore, err = b.restorePhase(ctx, rep); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	return r, nil
}

// sshArgs are the real OpenSSH client's arguments to run remoteCmd on n.
func (b *bench) sshArgs(n lab.NodeInfo, remoteCmd string) []string {
	return []string{"-i", b.l.KeyPath(), "-o", "UserKnownHostsFile=" + b.l.KnownHostsPath(),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		lab.LoginUser + "@" + n.IP, remoteCmd}
}

// nodetool runs nodetool inside node's namespaces (not over SSH: untimed setup).
func (b *bench) nodetool(ctx context.Context, node string, args ...string) error {
	cmd := b.l.NodeCommand(ctx, node, baseline.NodeBinDir+"/nodetool", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: nodetool %s: %w: %s", node, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// raw snapshots every node (untimed), times `ssh node sudo tar cf - DIRS >
// /dev/null` on every node in parallel, and clears the snapshots.
func (b *bench) raw(ctx context.Context, tag string) (time.Duration, int64, error) {
	dirs := make([][]string, len(b.l.Nodes))
	var total int64
	for i, n := range b.l.Nodes {
		if err := b.nodetool(ctx, n.Name, "snapshot", "-t", tag, lab.Keyspace); err != nil {
			return 0, 0, err
		}
		host := filepath.Join(b.l.NodeDir(n.Name), "cassandra", "data", lab.Keyspace)
		m, err := filepath.Glob(filepath.Join(host, "*", "snapshots", tag))
		if err != nil || len(m) == 0 {
			return 0, 0, fmt.Errorf("%s: no snapshot %s under %s (%v)", n.Name, tag, host, err)
		}
		for _, p := range m {
			size, err := dirSize(p, "")
			if err != nil {
				return 0, 0, fmt.Errorf("%s: size of %s: %w", n.Name, p, err)
			}
			total += size
			rel, _ := filepath.Rel(host, p)
			dirs[i] = append(dirs[i], remote.Quote("/var/lib/cassandra/data/"+lab.Keyspace+"/"+filepath.ToSlash(rel)))
		}
	}
	defer func() {
		for _, n := range b.l.Nodes {
			if err := b.nodetool(context.Background(), n.Name, "clearsnapshot", "-t", tag); err != nil {
				b.logf("clear raw snapshot: %v", err)
			}
		}
	}()
	errs := make([]error, len(b.l.Nodes))
	var wg sync.WaitGroup
	start := time.Now()
	for i, n := range b.l.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := b.l.OpCommand(ctx, "ssh", b.sshArgs(n, "sudo tar cf - "+strings.Join(dirs[i], " "))...)
			var errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = nil, &errb // nil Stdout: os/exec opens /dev/null
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("%s: ssh tar: %w: %s", n.Name, err, bytes.TrimSpace(errb.Bytes()))
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	return d, total, errors.Join(errs...)
}

// baseline times the published procedure (variant v) on node1 over ssh,
// then removes its archives and its ES snapshot.
func (b *bench) baseline(ctx context.Context, v baseline.Variant) (time.Duration, int64, error) {
	out, d, err := baseline.Backup(ctx, b.l, v)
	size, rerr := b.removeBaselineArchives()
	if derr := b.deleteESSnapshots(ctx); derr != nil && err == nil {
		err = derr
	}
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%w\n%s", err, out)
	}
	return d, size, nil
}

// removeBaselineArchives removes what the published scripts leave under
// /mnt/backup (through the operator's mount of the share): the archives,
// the ES snapshots' .info markers, the attachments folder the files
// restore extracts and never removes; it returns the archives' size.
func (b *bench) removeBaselineArchives() (int64, error) {
	var size int64
	var errs []error
	for _, g := range []string{"cassandra/cassandra_*.tar", "storage/files_*.tar", "elasticsearch/elasticsearch_*.info", "storage/files_*", "cassandra/cassandra_*"} {
		m, _ := filepath.Glob(filepath.Join(b.l.SharedBackupPath(), g))
		for _, p := range m {
			if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(p, ".info") {
				size += fi.Size()
			}
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
			}
		}
	}
	return size, errors.Join(errs...)
}

// benchBackup is one timed hotsnap backup.
type benchBackup struct {
	D      time.Duration
	Size   int64 // the manifest's: every archive
	RSS    int64 // peak resident set, bytes
	ESSize int64 // the ES snapshot's size
	Fixed  benchFixed
}

// hotsnapCmd is `hotsnap ARGS` inside op, with the bench's state home
// (where it finds the run's journal).
func (b *bench) hotsnapCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := b.l.OpCommand(ctx, b.bin, args...)
	cmd.Env = append(cmd.Env, "XDG_STATE_HOME="+benchStateHome(b.l.StateDir))
	return cmd
}

// peakRSS is the finished command's peak resident set in bytes (0 when it
// did not run).
func peakRSS(cmd *exec.Cmd) int64 {
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	return 0
}

// hotsnap times `hotsnap backup --yes --no-tui` inside op, reads its
// manifest for the size and its journal for the fixed cost, then removes
// the backup and its ES snapshot.
func (b *bench) hotsnap(ctx context.Context, extra ...string) (r benchBackup, err error) {
	before := map[string]bool{}
	ents, _ := os.ReadDir(b.l.BackupsPath())
	for _, e := range ents {
		before[e.Name()] = true
	}
	cmd := b.hotsnapCmd(ctx, append([]string{"backup", "--yes", "--no-tui"}, extra...)...)
	if b.profDir != "" {
		b.runs++
		name := fmt.Sprintf("backup-%d%s.pprof", b.runs, strings.ReplaceAll(strings.Join(extra, ""), "--", "-"))
		cmd.Env = append(cmd.Env, cpuProfileEnv+"="+filepath.Join(b.profDir, name))
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	r.D = time.Since(start)
	r.RSS = peakRSS(cmd)
	var ids []string
	ents, _ = os.ReadDir(b.l.BackupsPath())
	for _, e := range ents {
		if !before[e.Name()] {
			ids = append(ids, e.Name())
		}
	}
	defer func() {
		for _, id := range ids {
			if rerr := os.RemoveAll(filepath.Join(b.l.BackupsPath(), id)); rerr != nil && err == nil {
				err = fmt.Errorf("remove the backup %s: %w", id, rerr)
			}
		}
		if derr := b.deleteESSnapshots(context.Background()); derr != nil && err == nil {
			err = derr
		}
	}()
	if runErr != nil {
		return r, fmt.Errorf("hotsnap backup: %w\n%s", runErr, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, " streamed from ") || strings.Contains(line, "snapshot start skew") {
			b.logf("hotsnap: %s", strings.TrimSpace(line))
		}
	}
	if len(ids) != 1 {
		return r, fmt.Errorf("hotsnap backup: want one new backup in %s, found %v\n%s", b.l.BackupsPath(), ids, out.String())
	}
	run, err := readRun(benchStateHome(b.l.StateDir), out.String())
	if err != nil {
		return r, fmt.Errorf("hotsnap backup: %w", err)
	}
	r.Fixed = fixedCost(r.D, run)
	store, err := repo.Open(ctx, b.l.BackupsPath(), repo.Options{})
	if err != nil {
		return r, fmt.Errorf("open the repository: %w", err)
	}
	m, err := repo.ReadManifest(ctx, store, ids[0])
	if err != nil {
		return r, fmt.Errorf("read the manifest of %s: %w", ids[0], err)
	}
	if m.Elasticsearch != nil {
		r.ESSize = m.Elasticsearch.SizeBytes
	}
	r.Size = m.Size()
	return r, nil
}

// deleteESSnapshots deletes every snapshot of the lab's ES repository, so
// that each round's snapshot is a full one, not an increment.
func (b *bench) deleteESSnapshots(ctx context.Context) error {
	base := "/_snapshot/" + lab.ESRepository
	body, err := b.es(ctx, http.MethodGet, base+"/_all")
	if err != nil {
		return fmt.Errorf("list the ES snapshots of %s: %w", lab.ESRepository, err)
	}
	var list struct {
		Snapshots []struct {
			Snapshot string `json:"snapshot"`
		} `json:"snapshots"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("list the ES snapshots of %s: %w", lab.ESRepository, err)
	}
	for _, s := range list.Snapshots {
		if _, err := b.es(ctx, http.MethodDelete, base+"/"+s.Snapshot); err != nil {
			return fmt.Errorf("delete the ES snapshot %s: %w", s.Snapshot, err)
		}
	}
	return nil
}

// es sends a request without a body to node1's Elasticsearch from op (with
// the lab's credentials when it has auth); an answer other than 200 is an
// error.
func (b *bench) es(ctx context.Context, method, path string) ([]byte, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: b.l.OpDial}, Timeout: 60 * time.Second}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+net.JoinHostPort(b.l.Nodes[0].IP, "9200")+path, nil)
	if err != nil {
		return nil, err
	}
	if b.l.Auth() {
		pw, err := b.l.Secret(lab.SecretES)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(lab.ESUser, pw)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, err
}
