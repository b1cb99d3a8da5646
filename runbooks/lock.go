package runbooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/host"
)

// LockPath is the repository's lock object (a top-level file: no backup).
const LockPath = "hotsnap.lock"

// LockComponent is what the lock's steps work on (Step.Component).
const LockComponent = "lock"

// TakeOverLockFlag is the flag that approves taking over a lock whose holder
// is gone.
const TakeOverLockFlag = "--take-over-lock"

// LockTakeOverGate is the ID of the gate that asks to take a lock over.
const LockTakeOverGate = "lock-take-over"

// Holder is the run that holds a lock, as the lock records it.
type Holder struct {
	Run     string `json:"run"`
	Runbook string `json:"runbook"`
	Cluster string `json:"cluster"`
	// Host, User and PID are the operator's machine, login and hotsnap's
	// process; PIDStart is that process' start time in clock ticks since
	// boot (/proc/PID/stat), which tells a reused PID from the holder.
	Host     string    `json:"host"`
	User     string    `json:"user"`
	PID      int       `json:"pid"`
	PIDStart string    `json:"pid_start,omitempty"`
	Started  time.Time `json:"started"`
	// Token is random: only the run that wrote it releases the lock.
	Token string `json:"token"`
}

// String names the holder for the operator.
func (h Holder) String() string {
	if h.Run == "" {
		return "an unreadable lock"
	}
	return fmt.Sprintf("run %s (%s) of %s@%s, PID %d, started %s", h.Run, h.Runbook, h.User, h.Host, h.PID, h.Started.UTC().Format(time.RFC3339))
}

func (h Holder) match() string { return `"token":"` + h.Token + `"` }

// ThisRun is the holder a run of runbook rb (run ID run) on this machine
// is.
func ThisRun(run, rb, cluster string, now time.Time) Holder {
	h := Holder{Run: run, Runbook: rb, Cluster: cluster, PID: os.Getpid(), PIDStart: pidStart(os.Getpid()), Started: now.UTC()}
	h.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	h.Token = hex.EncodeToString(b)
	return h
}

// pidStart is process pid's start time from /proc ("" where there is none).
func pidStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start after the last ')'; starttime is field 22.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// HolderGone says whether holder h has surely ended: it ran on this machine
// and its process is gone (or the PID now names another process). On
// another machine hotsnap cannot tell; alive then says so in why.
func HolderGone(h Holder) (gone bool, why string) {
	if h.Run == "" {
		return false, "the lock cannot be read, so its holder is unknown"
	}
	if me, _ := os.Hostname(); me != h.Host {
		return false, fmt.Sprintf("it ran on another machine (%s, this is %s): hotsnap cannot tell whether it still runs", h.Host, me)
	}
	p, err := os.FindProcess(h.PID)
	if err == nil {
		err = p.Signal(syscall.Signal(0))
	}
	switch {
	case errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH):
		return true, fmt.Sprintf("its process %d is gone (killed, or the machine restarted)", h.PID)
	case err == nil || errors.Is(err, syscall.EPERM):
		if s := pidStart(h.PID); s != "" && h.PIDStart != "" && s != h.PIDStart {
			return true, fmt.Sprintf("its process %d is gone (the PID now names another process)", h.PID)
		}
		return false, fmt.Sprintf("its process %d still runs on this machine", h.PID)
	}
	return false, fmt.Sprintf("whether its process %d runs is unknown: %v", h.PID, err)
}

// LockOptions are what WithLock needs.
type LockOptions struct {
	// Holder is this run.
	Holder Holder
	// Node is the cluster's node that keeps its lock (the inventory's
	// first).
	Node string
	// OpenRepo opens the backup repository, which keeps its own lock.
	OpenRepo func(ctx context.Context) (repo.Store, func(), error)
	// Gone is HolderGone unless set (tests).
	Gone func(Holder) (bool, string)
	// Ended, when set, says whether the holder's run reached its end by
	// its journal (a run on this machine, whose cleanup could not reach
	// the node or the repository to release the lock: SSH lost, say). Such
	// a lock is taken over without asking, and the journal says so.
	Ended func(Holder) bool
}

// foundLock is a lock another run holds, found by this one.
type foundLock struct {
	where  string // "cluster X (lock file F on node N)" or "repository R"
	repo   bool
	holder Holder
	gone   bool
	ended  bool // its run ended (journal) without releasing it
	why    string
}

// lockRun is the state of the lock steps of one run.
type lockRun struct {
	o                  LockOptions
	data               []byte
	nodeHeld, repoHeld bool
	store              repo.Store
	closeStore         func()
	found              []foundLock // held by others, whose holder is gone or unknown
	choice             string
}

// WithLock returns rb with the lock around it: first the lock taken on the
// cluster's first node (host.LockFile) and in the repository (LockPath),
// each created atomically, naming this run; a lock held by a running run
// refuses this one, naming it; a lock whose holder is gone or unknown is
// taken over only behind a gate (TakeOverLockFlag, or the operator on a
// terminal), which the journal records. The lock is released as the last
// step, and by the first step's cleanup when the run fails or is cancelled;
// a killed run's lock stays, for the next run to find.
func WithLock(rb steps.Runbook, o LockOptions) steps.Runbook {
	if o.Gone == nil {
		o.Gone = HolderGone
	}
	l := &lockRun{o: o}
	l.data, _ = json.Marshal(o.Holder)
	l.data = append(l.data, '\n')
	where := fmt.Sprintf("the cluster's lock %s on %s and the repository's %s", host.LockFile, o.Node, LockPath)
	take := steps.Step{
		ID: "lock", Title: "Take the lock", Kind: steps.KindAction, Component: LockComponent,
		Why: "One run at a time per cluster and per repository: a restore, a prune or a second backup running beside this run could destroy its work.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: o.Node, Cmd: "ln TMP " + host.LockFile, Sudo: true, Note: where}}
		},
		Run: l.take,
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			return l.release(ctx, rc)
		},
	}
	gate := steps.Step{
		ID: LockTakeOverGate, Title: "Take over the lock", Kind: steps.KindGate, Component: LockComponent,
		Why: "A lock whose holder is gone (killed, or its machine lost) is taken over only when the operator says so.",
		Gate: &steps.GateRequest{Happens: "the lock is taken from a run that no longer runs", Loses: "nothing, if that run is really gone; if it still runs, both runs change the cluster at once",
			Choices: []steps.GateChoice{{Key: "take-over", Label: "take the lock over", Flag: TakeOverLockFlag}, {Key: "stop", Label: "leave the lock and stop"}}},
		Skip:   l.skipGate,
		Refine: l.refine,
		Chose:  func(c string) { l.choice = c },
	}
	over := steps.Step{
		ID: "lock-take", Title: "Take the lock over", Kind: steps.KindAction, Component: LockComponent,
		Why:  "The gate said so: the lock now names this run; the journal keeps whose it was.",
		Plan: func() []steps.PlannedCommand { return nil },
		Skip: l.skip,
		Run:  l.takeOver,
	}
	release := steps.Step{
		ID: "unlock", Title: "Release the lock", Kind: steps.KindAction, Component: LockComponent,
		Why: "The run is over: the next one may start.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: o.Node, Cmd: "rm " + host.LockFile, Sudo: true, Note: where}}
		},
		Run: l.release,
	}
	out := rb
	head := []steps.Step{take}
	rest := rb.Steps
	// A check that leads the runbook and runs alone (the SSH check) only
	// reads: it runs beside the lock, which waits on the first node's
	// connection as it does, and the lock's gate follows both.
	if len(rest) > 0 && rest[0].Kind == steps.KindCheck && !rest[0].Concurrent && rest[0].Then == nil {
		first := rest[0]
		first.Concurrent, head[0].Concurrent = true, true
		head = append(head, first)
		rest = rest[1:]
	}
	out.Steps = append(append(append(head, gate, over), rest...), release)
	if p := rb.Resume; p != nil && p.Chose[LockTakeOverGate] != "" {
		// A takeover is decided anew: what a killed run chose is no default.
		q := *p
		q.Chose = map[string]string{}
		for k, v := range p.Chose {
			if k != LockTakeOverGate {
				q.Chose[k] = v
			}
		}
		out.Resume = &q
	}
	return out
}

func (l *lockRun) skip() string {
	if len(l.found) == 0 {
		return "no lock to take over"
	}
	return ""
}

// skipGate skips the gate when every lock found belongs to a run that
// ended.
func (l *lockRun) skipGate() string {
	for _, f := range l.found {
		if !f.ended {
			return ""
		}
	}
	if len(l.found) == 0 {
		return "no lock to take over"
	}
	return "the lock's run has ended (its journal says so): nothing to ask"
}

// classify says what to do with a lock held by h, found at where: an error
// refuses this run (the holder runs on this machine).
func (l *lockRun) classify(where string, isRepo bool, h Holder) error {
	f := foundLock{where: where, repo: isRepo, holder: h}
	f.gone, f.why = l.o.Gone(h)
	if h.Run != "" && h.Host == l.o.Holder.Host && l.o.Ended != nil && l.o.Ended(h) {
		f.ended, f.why = true, "its run ended (its journal says so) without releasing the lock: the node or the repository could not be reached"
	} else if !f.gone && h.Run != "" && h.Host == l.o.Holder.Host {
		return l.refuse(f)
	}
	l.found = append(l.found, f)
	return nil
}

// refine names the holders at the gate.
func (l *lockRun) refine(g *steps.GateRequest) {
	var names, whys []string
	sure := true // every holder ran here and its process is gone
	for _, f := range l.found {
		if f.ended {
			continue
		}
		names = append(names, f.holder.String())
		whys = append(whys, f.where+": "+f.why)
		sure = sure && f.gone && f.holder.Host == l.o.Holder.Host
	}
	g.Title = "Take over the lock of " + strings.Join(uniq(names), "; ")
	g.Happens = "the lock is taken from that run — " + strings.Join(whys, "; ")
	if !sure {
		g.Loses = "if that run still runs, both change the cluster at once: take it over only if you know it has ended"
	}
}

func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// parseHolder reads a lock's content (a zero Holder when unreadable).
func parseHolder(b []byte) Holder {
	var h Holder
	if json.Unmarshal(b, &h) != nil {
		return Holder{}
	}
	return h
}

// ErrLocked is returned when another run holds the lock.
var ErrLocked = errors.New("locked by another run")

// refuse is the error for a lock held by a running run.
func (l *lockRun) refuse(f foundLock) error {
	return fmt.Errorf("%w: %s is held by %s — %s. Wait for it to finish (or stop it on %s), then run this again",
		ErrLocked, f.where, f.holder, f.why, f.holder.Host)
}

// take takes both locks, or finds who holds them.
func (l *lockRun) take(ctx context.Context, rc *steps.RunContext) error {
	for try := 0; ; try++ {
		taken, held, err := host.TakeLock(ctx, rc, l.o.Node, l.data)
		if err != nil {
			return err
		}
		if taken {
			l.nodeHeld = true
			rc.Output(l.o.Node, "took "+host.LockFile)
			break
		}
		if len(strings.TrimSpace(string(held))) == 0 && try < 3 {
			continue // released as it was read
		}
		if err := l.classify(fmt.Sprintf("cluster %s (lock %s on %s)", l.o.Holder.Cluster, host.LockFile, l.o.Node), false, parseHolder(held)); err != nil {
			return err
		}
		break
	}
	if l.o.OpenRepo == nil {
		return nil
	}
	st, done, err := l.o.OpenRepo(ctx)
	if err != nil {
		return fmt.Errorf("lock the repository: %w", err)
	}
	l.store, l.closeStore = st, done
	for try := 0; ; try++ {
		err := repo.CreateOnce(ctx, st, LockPath, l.data)
		if err == nil {
			l.repoHeld = true
			rc.Output("", "took "+LockPath+" in "+st.String())
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("lock the repository: %w", err)
		}
		b, rerr := readAll(ctx, st, LockPath)
		if errors.Is(rerr, fs.ErrNotExist) && try < 3 {
			continue // released as it was read
		}
		return l.classify(fmt.Sprintf("repository %s (%s)", st, LockPath), true, parseHolder(b))
	}
}

func readAll(ctx context.Context, st repo.Store, p string) ([]byte, error) {
	r, err := st.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, 64<<10))
}

// takeOver replaces the locks found, behind the gate's yes.
func (l *lockRun) takeOver(ctx context.Context, rc *steps.RunContext) error {
	for _, f := range l.found {
		if !f.ended && l.choice != "take-over" {
			return l.refuse(f)
		}
	}
	for _, f := range l.found {
		changed := fmt.Errorf("%w: %s changed while the gate was open; run again to see who holds it now", ErrLocked, f.where)
		if !f.repo {
			ok, err := host.ReplaceLock(ctx, rc, l.o.Node, f.holder.match(), l.data)
			if err != nil {
				return err
			}
			if !ok {
				return changed
			}
			l.nodeHeld = true
		} else {
			b, err := readAll(ctx, l.store, LockPath)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("take over the repository's lock: %w", err)
			}
			if err == nil && parseHolder(b).Token != f.holder.Token {
				return changed
			}
			if err := l.store.RemoveAll(ctx, LockPath); err != nil {
				return fmt.Errorf("take over the repository's lock: %w", err)
			}
			if err := repo.CreateOnce(ctx, l.store, LockPath, l.data); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return changed
				}
				return fmt.Errorf("take over the repository's lock: %w", err)
			}
			l.repoHeld = true
		}
		// Recorded as a check, so that the journal keeps whose lock it was.
		rc.Check(steps.CheckResult{Check: "lock taken over", Status: steps.CheckWarn,
			Evidence: fmt.Sprintf("%s: was held by %s (%s)", f.where, f.holder, f.why)})
	}
	return nil
}

// release removes the locks this run holds (never another run's).
func (l *lockRun) release(ctx context.Context, rc *steps.RunContext) error {
	var errs []error
	if l.nodeHeld {
		if _, err := host.ReleaseLock(ctx, rc, l.o.Node, l.o.Holder.match()); err != nil {
			errs = append(errs, err)
		} else {
			l.nodeHeld = false
		}
	}
	if l.repoHeld {
		b, err := readAll(ctx, l.store, LockPath)
		switch {
		case err == nil && parseHolder(b).Token == l.o.Holder.Token:
			if err := l.store.RemoveAll(ctx, LockPath); err != nil {
				errs = append(errs, fmt.Errorf("release the repository's lock: %w", err))
			} else {
				l.repoHeld = false
			}
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("release the repository's lock: %w", err))
		default:
			l.repoHeld = false
		}
	}
	if len(errs) == 0 && l.closeStore != nil {
		l.closeStore()
		l.closeStore = nil
	}
	return errors.Join(errs...)
}
