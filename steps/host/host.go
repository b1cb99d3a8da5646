// Package host holds the checks of the nodes themselves: SSH and sudo, the
// clock, the room on a file system (a node's disks, the backup
// repository), and reading a file on a node through sudo.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Component is what the checks of this package work on (Step.Component).
const Component = "host"

// sshProbe is what the SSH check runs through sudo on every node: the
// user sudo gives, the kernel, and the node's clock (for the clock check).
const sshProbe = "id -un; uname -sr; " + dateCmd

// dateCmd reads a node's clock in nanoseconds.
const dateCmd = "date +%s%N"

// SSHCheck logs in to every node and runs a command through sudo: each node
// passes when sudo gives root, else fails with a remedy for the cause.
func SSHCheck(env *steps.Env) steps.Step { return sshCheck(env, nil) }

// SSHAndClockChecks are the SSH check and the clock check, the clock check
// rating the clocks the SSH check's probe read: one session per node fewer,
// and each reading taken before the checks that run at once load the nodes
// (a reading is late by its round trip). A node the probe did not read is
// read by the clock check itself.
func SSHAndClockChecks(env *steps.Env) (ssh, clock steps.Step) {
	c := &clocks{offsets: map[string]time.Duration{}}
	return sshCheck(env, c), clockCheck(env, c)
}

// clocks are the nodes' clocks as the SSH check read them: each node's
// offset from this machine's clock.
type clocks struct {
	mu      sync.Mutex
	offsets map[string]time.Duration
}

func (c *clocks) set(node string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offsets[node] = d
}

func (c *clocks) has(node string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.offsets[node]
	return ok
}

func (c *clocks) all() map[string]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.offsets)
}

// readClock is node's clock's offset from this machine's, given what the
// node printed for dateCmd between before and after (this machine's clock):
// the node read it, at best, halfway.
func readClock(out string, before, after time.Time) (time.Duration, error) {
	t, err := parse.ParseDateNanos(out)
	if err != nil {
		return 0, err
	}
	return t.Sub(before.Add(after.Sub(before) / 2)), nil
}

func sshCheck(env *steps.Env, c *clocks) steps.Step {
	nodes := env.AllNodes()
	return steps.Step{
		ID: "ssh", Title: "SSH and sudo on every node", Kind: steps.KindCheck, Component: Component,
		Why:  "Every later step runs commands as root on every node; the scripts are documented to run with sudo.",
		Plan: steps.PlanEach(nodes, sshProbe, true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
				before := env.Clock()
				out, err := rc.Stdout(ctx, n, sshProbe, true)
				after := env.Clock()
				if err != nil {
					rc.Check(steps.CheckResult{Check: "ssh+sudo", Node: n, Status: steps.CheckFail, Evidence: err.Error(), Remedy: sshRemedy(env, n, err)})
					return
				}
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if lines[0] != "root" {
					rc.Check(steps.CheckResult{Check: "ssh+sudo", Node: n, Status: steps.CheckFail, Evidence: fmt.Sprintf("sudo gave user %q, not root", lines[0]),
						Remedy: "give the SSH user sudo rights (or set ssh.sudo: none when logging in as root)"})
					return
				}
				kernel := ""
				if len(lines) > 1 {
					kernel = " · " + lines[1]
				}
				rc.Check(steps.CheckResult{Check: "ssh+sudo", Node: n, Status: steps.CheckPass, Evidence: "sudo to root works" + kernel})
				if c != nil && len(lines) > 2 {
					if d, err := readClock(lines[2], before, after); err == nil {
						c.set(n, d)
					}
				}
			})
			return nil
		},
	}
}

// sshRemedy says what to do about a failed login or sudo on node: the
// remedy differs for a changed host key (never accept it blindly), an
// unknown one, a sudo that wants a password, and the rest.
func sshRemedy(env *steps.Env, node string, err error) string {
	host := node
	if n, ok := env.Inv.Node(node); ok {
		host = n.Host
	}
	kh := env.Inv.SSH.KnownHosts
	if kh == "" {
		kh = "~/.ssh/known_hosts"
	}
	var changed *remote.ChangedHostKeyError
	var unknown *remote.UnknownHostError
	switch {
	case errors.As(err, &changed):
		return fmt.Sprintf("the host key of %s changed: do not go on until you know why (a reinstalled node, or a man-in-the-middle). Compare with the key on the node (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console); if it is the node's new key, remove the old one with `ssh-keygen -R %s -f %s` and re-run with --accept-new-hosts", node, host, kh)
	case errors.As(err, &unknown):
		return fmt.Sprintf("%s is not in %s: check the fingerprint out of band (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node), then re-run with --accept-new-hosts", host, kh)
	case strings.Contains(err.Error(), "sudo"):
		return "give the SSH user sudo rights on this node, or set ssh.sudo and ssh.sudo_password (env:NAME, file:PATH or prompt) in the inventory"
	}
	return "fix SSH access for the inventory user on this node: ssh.user, ssh.identity_files, the address (see README, \"How hotsnap uses SSH\")"
}

// clockCheck reads every node's clock against this machine's and names the
// node whose clock is off (rateClocks): a warning from 500 ms away from the
// median of the clocks, a failure from 5 s. It rates the readings c holds
// (the SSH check's probe) and reads a node without one itself.
func clockCheck(env *steps.Env, c *clocks) steps.Step {
	nodes := env.AllNodes()
	return steps.Step{
		ID: "clock", Title: "Clock skew between nodes", Kind: steps.KindCheck, Component: Component,
		Why: "Cassandra orders writes by timestamp; backups started on every node \"at the same time\" are only consistent if the clocks agree.",
		// No command of its own: the SSH check's probe reads the clocks (a
		// node it could not read is read here with dateCmd).
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
				if c.has(n) {
					return
				}
				before := env.Clock()
				out, err := rc.Stdout(ctx, n, dateCmd, false)
				after := env.Clock()
				var d time.Duration
				if err == nil {
					d, err = readClock(out, before, after)
				}
				if err != nil {
					rc.Check(steps.CheckResult{Check: "clock", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
					return
				}
				c.set(n, d)
			})
			for _, r := range rateClocks(c.all()) {
				rc.Check(r)
			}
			return nil
		},
	}
}

// Clock thresholds: a clock this far from the others warns, or fails.
const (
	clockWarn = 500 * time.Millisecond
	clockFail = 5 * time.Second
)

// rateClocks rates each node's clock (its offset from this machine's) by
// its distance from the median of every clock, this machine's included, so
// that the clock that is off is named rather than a pair: one check per
// node that is off (a warning from clockWarn, a failure from clockFail), a
// warning when this machine is the one off (the backup's ID and times come
// from it), else one passing check.
func rateClocks(offsets map[string]time.Duration) []steps.CheckResult {
	if len(offsets) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(offsets))
	all := []time.Duration{0} // this machine
	var seen []string
	for _, n := range names {
		all = append(all, offsets[n])
		seen = append(seen, n+" "+signed(offsets[n]))
	}
	slices.Sort(all)
	median := all[len(all)/2]
	if len(all)%2 == 0 {
		median = all[len(all)/2-1] + (all[len(all)/2]-all[len(all)/2-1])/2
	}
	clocks := fmt.Sprintf("offsets from this machine: %s", strings.Join(seen, ", "))
	var out []steps.CheckResult
	worst, worstN := time.Duration(0), ""
	for _, n := range names {
		d := offsets[n] - median
		if d.Abs() > worst.Abs() {
			worst, worstN = d, n
		}
		if d.Abs() <= clockWarn {
			continue
		}
		r := steps.CheckResult{Check: "clock skew", Node: n, Status: steps.CheckWarn,
			Evidence: fmt.Sprintf("%s's clock is %s the median of the clocks (%s)", n, aheadBehind(d), clocks),
			Remedy:   fmt.Sprintf("check NTP on %s: `chronyc tracking` or `timedatectl`", n)}
		if d.Abs() > clockFail {
			r.Status, r.Remedy = steps.CheckFail, fmt.Sprintf("synchronise %s's clock (chrony or systemd-timesyncd; `chronyc tracking` shows the offset) before backing up: Cassandra orders writes by timestamp", n)
		}
		out = append(out, r)
	}
	if d := -median; d.Abs() > clockWarn {
		out = append(out, steps.CheckResult{Check: "clock skew", Status: steps.CheckWarn,
			Evidence: fmt.Sprintf("this machine's clock is %s the median of the clocks (%s)", aheadBehind(d), clocks),
			Remedy:   "synchronise this machine's clock: the backup's ID and the times in its manifest come from it"})
	}
	if len(out) > 0 {
		return out
	}
	ev := "every clock within " + clockWarn.String() + " of the median"
	if worstN != "" {
		ev = fmt.Sprintf("every clock within %s of the median; the farthest: %s %s (%s)", clockWarn, worstN, signed(worst), clocks)
	}
	return []steps.CheckResult{{Check: "clock skew", Status: steps.CheckPass, Evidence: ev}}
}

// signed is d rounded to the millisecond with its sign ("+1.2s", "-3ms").
func signed(d time.Duration) string {
	d = d.Round(time.Millisecond)
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}

// aheadBehind says "10s ahead of" or "2s behind" for a node's distance d
// from the median.
func aheadBehind(d time.Duration) string {
	if d >= 0 {
		return d.Round(time.Millisecond).String() + " ahead of"
	}
	return (-d).Round(time.Millisecond).String() + " behind"
}

// SpaceCheck reads the room left in the repository at where and judges it
// (SpaceVerdict); a repository that cannot say fails the check.
func SpaceCheck(ctx context.Context, sp repo.Spacer, where string, need int64, parts string, problems []string) steps.CheckResult {
	space, err := sp.Space(ctx)
	if err != nil {
		return steps.CheckResult{Check: "repository space", Node: "repository", Status: steps.CheckFail, Evidence: err.Error(),
			Remedy: "check repository.url in the inventory: the directory (or its parent) must exist and be reachable"}
	}
	return SpaceVerdict(space, where, need, parts, problems)
}

// SpaceVerdict judges the room left in the repository at where against
// need, the bytes the backup copies (parts says of what; problems names
// what could not be measured).
func SpaceVerdict(space repo.Space, where string, need int64, parts string, problems []string) steps.CheckResult {
	r := steps.CheckResult{Check: "repository space", Node: "repository", Status: steps.CheckPass,
		Evidence: fmt.Sprintf("%s free at %s; the backup copies about %s (%s)", steps.HumanBytes(space.Free), space.At, steps.HumanBytes(need), parts)}
	switch {
	case space.Free < need:
		r.Status = steps.CheckFail
		r.Remedy = fmt.Sprintf("free at least %s in %s, or point repository.url at a larger file system; `hotsnap prune` removes old backups", steps.HumanBytes(need-space.Free), where)
	case len(problems) > 0:
		r.Status = steps.CheckWarn
		r.Evidence += "; not measured: " + strings.Join(problems, "; ")
		r.Remedy = "the estimate is partial: the disk, attachment or S3 checks above say why"
	case space.Free < need+need/10:
		r.Status = steps.CheckWarn
		r.Remedy = "less than 10% would be left after the backup: free some space (`hotsnap prune`) before it grows"
	}
	return r
}

// maxConfBytes bounds a configuration file read from a node.
const maxConfBytes = 1 << 20

// ReadFile returns a file's content read on node through sudo (at most
// 1 MiB), or
// fs.ErrNotExist (wrapped) when it is absent.
func ReadFile(ctx context.Context, ex steps.Executor, node, file string) ([]byte, error) {
	var b strings.Builder
	q := remote.Quote(file)
	cmd := "if [ -e " + q + " ]; then head -c " + strconv.Itoa(maxConfBytes+1) + " " + q + "; else exit 66; fi"
	res, err := ex.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdout: &b, Stderr: io.Discard})
	if res.ExitCode == 66 {
		return nil, fmt.Errorf("%s: %s: %w", node, file, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if b.Len() > maxConfBytes {
		return nil, fmt.Errorf("%s: %s is larger than %d bytes", node, file, maxConfBytes)
	}
	return []byte(b.String()), nil
}

// Need is the room one node needs on the file system of a folder.
type Need struct {
	Node, Dir string
	What      string // what goes there, as the evidence says it
	Bytes     int64
}

// RoomCheck reports check (one result per node and file system) whether
// every node has room for what needs says it will write there: needs on
// the same file system add up; a folder that does not exist yet is
// measured at its parent. freeing says what can be freed on a full one.
func RoomCheck(ctx context.Context, rc *steps.RunContext, check string, needs []Need, freeing string) {
	byNode := map[string][]Need{}
	var nodes []string
	for _, d := range needs {
		if byNode[d.Node] == nil {
			nodes = append(nodes, d.Node)
		}
		byNode[d.Node] = append(byNode[d.Node], d)
	}
	steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
		type fsNeed struct {
			mount string
			avail int64
			need  int64
			what  []string
		}
		var fss []*fsNeed
		for _, d := range byNode[n] {
			dir := d.Dir
			out, err := rc.Stdout(ctx, n, "df -PB1 "+remote.Quote(dir)+" 2>/dev/null || df -PB1 "+remote.Quote(path.Dir(dir)), true)
			var dfs []parse.DiskUsage
			if err == nil {
				dfs, err = parse.ParseDF(out)
			}
			if err != nil || len(dfs) == 0 {
				rc.Check(steps.CheckResult{Check: check, Node: n, Status: steps.CheckFail, Evidence: fmt.Sprintf("df %s: %v", dir, err),
					Remedy: "check that " + dir + " (or its parent) exists on " + n})
				return
			}
			var f *fsNeed
			for _, x := range fss {
				if x.mount == dfs[0].MountPoint {
					f = x
				}
			}
			if f == nil {
				f = &fsNeed{mount: dfs[0].MountPoint, avail: dfs[0].AvailBytes}
				fss = append(fss, f)
			}
			f.need += d.Bytes
			f.what = append(f.what, fmt.Sprintf("%s for %s (%s)", steps.HumanBytes(d.Bytes), d.What, dir))
		}
		for _, f := range fss {
			res := steps.CheckResult{Check: check, Node: n, Status: steps.CheckPass,
				Evidence: fmt.Sprintf("%s free on %s; needs %s: %s", steps.HumanBytes(f.avail), f.mount, steps.HumanBytes(f.need), strings.Join(f.what, ", "))}
			if f.avail < f.need {
				res.Status = steps.CheckFail
				res.Remedy = fmt.Sprintf("free %s on %s of %s first (%s), or restore onto bigger disks", steps.HumanBytes(f.need-f.avail), f.mount, n, freeing)
			}
			rc.Check(res)
		}
	})
}

// Hostname returns node's short host name (hostname -s, through sudo).
func Hostname(ctx context.Context, ex steps.Executor, node string) (string, error) {
	var b strings.Builder
	if _, err := ex.Run(ctx, node, remote.Command{Cmd: "hostname -s", Sudo: true, Stdout: &b, Stderr: io.Discard}); err != nil {
		return "", err
	}
	f := strings.Fields(b.String())
	if len(f) == 0 {
		return "", fmt.Errorf("%s: hostname printed nothing", node)
	}
	return f[0], nil
}

// RepositoryUnreachable is the check of a backup repository that could not
// be opened.
func RepositoryUnreachable(err error) steps.CheckResult {
	return steps.CheckResult{Check: "repository space", Node: "repository", Status: steps.CheckFail, Evidence: err.Error(),
		Remedy: "set repository.url in the inventory to a directory, ssh://host/path or s3://bucket/prefix that this machine can reach"}
}
