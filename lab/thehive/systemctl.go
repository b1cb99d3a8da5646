//lint:file-ignore ST1005 the errors print systemctl's own capitalised, punctuated messages

package thehive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// systemctl exit codes (systemd's EXIT_* values used by systemctl).
const (
	exitOK           = 0
	exitFailure      = 1
	exitProgramDead  = 3 // also "not running" for is-active/status
	exitNoPermission = 4 // also "unit not found" for status/is-active
	exitNotInstalled = 5
)

// supervisorVerb is the hidden verb the detached supervisor runs.
const supervisorVerb = "__hotsnap-supervise"

// serviceDir returns $HOTSNAP_LAB_SERVICE_DIR or DefaultServiceDir.
func serviceDir() string {
	if d := os.Getenv(ServiceDirEnv); d != "" {
		return d
	}
	return DefaultServiceDir
}

// SystemctlMain is the lab's systemctl: start, stop, restart, status,
// is-active, is-failed, is-enabled and daemon-reload for units installed with
// WriteUnit in $HOTSNAP_LAB_SERVICE_DIR. It returns systemctl's exit code.
func SystemctlMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == supervisorVerb {
		return supervise(serviceDir(), args[1], stderr)
	}
	fs := pflag.NewFlagSet("systemctl", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("no-pager", false, "do not pipe output into a pager")
	quiet := fs.BoolP("quiet", "q", false, "suppress output")
	lines := fs.IntP("lines", "n", 10, "number of journal entries to show")
	fs.BoolP("full", "l", false, "do not ellipsize")
	fs.Bool("no-block", false, "do not wait")
	fs.Bool("system", false, "connect to the system manager")
	fs.Bool("no-ask-password", false, "do not ask for a password")
	props := fs.StringSliceP("property", "p", nil, "show only these properties")
	valueOnly := fs.Bool("value", false, "show only the value of properties")
	all := fs.BoolP("all", "a", false, "show all loaded units")
	plain := fs.Bool("plain", false, "no glyph column")
	noLegend := fs.Bool("no-legend", false, "no header, legend or footer")
	types := fs.StringSliceP("type", "t", nil, "unit types to list")
	states := fs.StringSlice("state", nil, "unit states to list")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "systemctl: %v\n", err)
		return exitFailure
	}
	rest := fs.Args()
	verb, units := "list-units", []string(nil)
	if len(rest) > 0 {
		verb, units = rest[0], rest[1:]
	}
	c := &systemctl{dir: serviceDir(), stdout: stdout, stderr: stderr, quiet: *quiet, lines: *lines}
	switch verb {
	case "daemon-reload":
		if err := c.checkAccess(); err != nil {
			fmt.Fprintln(stderr, "Failed to reload daemon: Access denied")
			return exitNoPermission
		}
		return exitOK
	case "list-units":
		return c.listUnits(units, listOpts{all: *all, plain: *plain, legend: !*noLegend, types: *types, states: *states})
	case "start", "stop", "restart", "status", "is-active", "is-failed", "is-enabled", "show":
	default:
		fmt.Fprintf(stderr, "Unknown command verb %s.\n", verb)
		return exitFailure
	}
	if len(units) == 0 {
		fmt.Fprintln(stderr, "Too few arguments.")
		return exitFailure
	}
	names, globbed, err := c.expand(units)
	if err != nil {
		fmt.Fprintf(stderr, "Failed to expand names: %v\n", err)
		return exitFailure
	}
	if globbed && verb == "start" && !*quiet && !*all {
		fmt.Fprintln(stderr, "Warning: systemctl start called with a glob pattern.")
		fmt.Fprintln(stderr, "Hint: unit globs expand to loaded units, so start will usually have no effect.\n"+
			"      Passing --all will also load units which are pulled in by other units.\n"+
			"      See systemctl(1) for more details.")
	}
	switch verb {
	case "start", "stop", "restart":
		return c.control(verb, names)
	case "status":
		return c.status(names)
	case "is-enabled":
		return c.isEnabled(names)
	case "show":
		return c.show(names, *props, *valueOnly)
	default:
		return c.isActive(names, verb == "is-failed")
	}
}

type systemctl struct {
	dir            string
	stdout, stderr io.Writer
	quiet          bool
	lines          int
}

// checkAccess allows root and the owner of the service directory.
func (c *systemctl) checkAccess() error {
	euid := os.Geteuid()
	if euid == 0 {
		return nil
	}
	fi, err := os.Stat(c.dir)
	if err != nil {
		return fmt.Errorf("stat service directory %s: %w", c.dir, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == euid {
		return nil
	}
	return errors.New("access denied")
}

// loadUnit reads a unit; notFound is true when it is not installed. A
// template name is an errTemplate, not "not found".
func (c *systemctl) loadUnit(arg string) (u Unit, notFound bool, err error) {
	u, err = ReadUnit(c.dir, arg)
	if err != nil {
		var te errTemplate
		if errors.As(err, &te) {
			return Unit{}, false, err
		}
		return Unit{}, errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "not valid"), err
	}
	return u, false, nil
}

func fullName(arg string) string {
	if strings.HasSuffix(arg, ".service") {
		return arg
	}
	return arg + ".service"
}

func (c *systemctl) control(verb string, units []string) int {
	if err := c.checkAccess(); err != nil {
		for _, arg := range units {
			fmt.Fprintf(c.stderr, "Failed to %s %s: Access denied\n", verb, fullName(arg))
			fmt.Fprintf(c.stderr, "See system logs and 'systemctl status %s' for details.\n", fullName(arg))
		}
		return exitNoPermission
	}
	code := exitOK
	done := &doneSet{m: map[string]bool{}}
	var todo []Unit
	for _, arg := range units {
		u, notFound, err := c.loadUnit(arg)
		var te errTemplate
		switch {
		case errors.As(err, &te):
			fmt.Fprintf(c.stderr, "Failed to %s %s: Unit name %s is not valid.\n", verb, fullName(arg), fullName(arg))
			fmt.Fprintf(c.stderr, "See system logs and 'systemctl status %s' for details.\n", fullName(arg))
			code = exitFailure
			continue
		case notFound:
			what := "not found"
			if verb == "stop" {
				what = "not loaded"
			}
			fmt.Fprintf(c.stderr, "Failed to %s %s: Unit %s %s.\n", verb, fullName(arg), fullName(arg), what)
			code = exitNotInstalled
			continue
		case err != nil:
			fmt.Fprintf(c.stderr, "Failed to %s %s: %v\n", verb, fullName(arg), err)
			code = exitFailure
			continue
		}
		todo = append(todo, u)
	}
	// One transaction, as systemctl sends it: every unit at once, stops in
	// the reverse of their After= order.
	var err error
	if verb == "stop" {
		err = c.stopParts(todo, done)
	} else {
		errs := make([]error, len(todo))
		var wg sync.WaitGroup
		for i, u := range todo {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.controlTree(verb, u, done)
			}()
		}
		wg.Wait()
		err = errors.Join(errs...)
	}
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		code = exitFailure
	}
	return code
}

// doneSet keeps one command line from acting on a unit twice.
type doneSet struct {
	mu sync.Mutex
	m  map[string]bool
}

// claim marks name done and reports whether it was not yet.
func (d *doneSet) claim(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m[name] {
		return false
	}
	d.m[name] = true
	return true
}

func (d *doneSet) forget(names ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range names {
		delete(d.m, n)
	}
}

// controlTree runs verb on u and propagates it as systemd does: a stop or
// restart of u also stops or restarts the units that are PartOf= it, after
// u itself, all at once but for their After= ordering (see stopParts); a
// start or restart also starts the units u Wants=, all at once as
// systemd's jobs run.
func (c *systemctl) controlTree(verb string, u Unit, done *doneSet) error {
	if !done.claim(u.Name) {
		return nil
	}
	var errs []error
	if verb == "stop" || verb == "restart" {
		if err := c.controlOne("stop", u, paths{c.dir, u.Name}); err != nil {
			errs = append(errs, err)
		}
		parts := c.partsOf(u)
		if err := c.stopParts(parts, done); err != nil {
			errs = append(errs, err)
		}
		if verb == "stop" {
			return errors.Join(errs...)
		}
		done.forget(u.Name)
		for _, part := range parts {
			done.forget(part.Name)
		}
		done.claim(u.Name)
	}
	if err := c.controlOne("start", u, paths{c.dir, u.Name}); err != nil {
		return errors.Join(append(errs, err)...)
	}
	werrs := make([]error, len(u.Wants))
	var wg sync.WaitGroup
	for i, w := range u.Wants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wu, _, err := c.loadUnit(w)
			if err == nil {
				err = c.controlTree("start", wu, done)
			}
			werrs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, werrs...)...)
}

// stopParts stops units (the parts of a unit, or the units of one command
// line) in the reverse of their After= order among themselves, as systemd
// orders stop jobs: a unit ordered after another stops before it; the
// units of one level stop at the same time.
func (c *systemctl) stopParts(parts []Unit, done *doneSet) error {
	// level(x): how many stop rounds must pass before x stops — one more
	// than the latest of the units ordered after it; 0 when none is.
	after := map[string][]string{} // x -> the parts ordered after x
	isPart := map[string]bool{}
	for _, p := range parts {
		isPart[p.Name] = true
	}
	for _, p := range parts {
		for _, a := range p.After {
			if x := strings.TrimSuffix(a, ".service"); isPart[x] {
				after[x] = append(after[x], p.Name)
			}
		}
	}
	level := map[string]int{}
	var depth func(name string, seen map[string]bool) int
	depth = func(name string, seen map[string]bool) int {
		if l, ok := level[name]; ok {
			return l
		}
		if seen[name] {
			return 0 // an ordering cycle: systemd breaks it too
		}
		seen[name] = true
		l := 0
		for _, y := range after[name] {
			l = max(l, depth(y, seen)+1)
		}
		level[name] = l
		return l
	}
	top := 0
	for _, p := range parts {
		top = max(top, depth(p.Name, map[string]bool{}))
	}
	var errs []error
	for l := 0; l <= top; l++ {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, p := range parts {
			if level[p.Name] != l {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.controlTree("stop", p, done); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// partsOf returns the loaded units that are PartOf= parent.
func (c *systemctl) partsOf(parent Unit) []Unit {
	names, err := InstalledUnits(c.dir)
	if err != nil {
		return nil
	}
	var parts []Unit
	for _, n := range names {
		u, err := ReadUnit(c.dir, n)
		if err != nil {
			continue
		}
		for _, p := range u.PartOf {
			if strings.TrimSuffix(p, ".service") == parent.Name {
				parts = append(parts, u)
				break
			}
		}
	}
	return parts
}

func (c *systemctl) controlOne(verb string, u Unit, p paths) error {
	unlock, err := lockUnit(p)
	if err != nil {
		return fmt.Errorf("Failed to %s %s.service: %w", verb, u.Name, err)
	}
	defer unlock()
	if verb == "stop" || verb == "restart" {
		if err := stopUnit(u, p); err != nil {
			return fmt.Errorf("Failed to %s %s.service: %w", verb, u.Name, err)
		}
	}
	if verb == "start" || verb == "restart" {
		return startUnit(u, p)
	}
	return nil
}

// currentState reads the unit's state and repairs it when the processes it
// names are gone (a supervisor killed from outside).
func currentState(p paths) (unitState, error) {
	s, err := readState(p)
	if err != nil {
		return s, err
	}
	if s, orphaned := repaired(ownProc, s); orphaned {
		return s, writeState(p, s)
	}
	return s, nil
}

// repaired returns s as it stands once its processes are checked in the
// PID namespace whose /proc is proc: an active (or activating,
// deactivating) unit whose main process and supervisor are both gone has
// failed, killed. orphaned reports that s changed.
func repaired(proc string, s unitState) (_ unitState, orphaned bool) {
	switch s.Active {
	case stateActive, stateActivating, stateDeactivating:
	default:
		return s, false
	}
	if s.Active == stateActive && s.Sub == "exited" {
		return s, false // a oneshot unit that remains after its exit
	}
	if s.MainPID != 0 && aliveIn(proc, s.MainPID, s.MainStart) {
		return s, false
	}
	if s.SupervisorPID != 0 && aliveIn(proc, s.SupervisorPID, s.SupervisorStart) {
		return s, false // the supervisor is about to record the exit
	}
	s.Active, s.Sub, s.Result = stateFailed, "failed", "signal"
	s.ExecMainPID, s.ExecMainCode, s.ExecMainStatus = s.MainPID, "killed", int(syscall.SIGKILL)
	s.MainPID, s.SupervisorPID, s.SupervisorStart = 0, 0, 0
	s.Since = time.Now()
	return s, true
}

func startUnit(u Unit, p paths) error {
	s, err := currentState(p)
	if err != nil {
		return fmt.Errorf("Failed to start %s.service: %w", u.Name, err)
	}
	if s.Active == stateActive || s.Active == stateActivating {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("Failed to start %s.service: find own executable: %w", u.Name, err)
	}
	s = unitState{Active: stateActivating, Sub: "start", Since: time.Now(), ExecMainPID: s.ExecMainPID,
		ExecMainCode: s.ExecMainCode, ExecMainStatus: s.ExecMainStatus}
	if err := writeState(p, s); err != nil {
		return fmt.Errorf("Failed to start %s.service: %w", u.Name, err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("Failed to start %s.service: %w", u.Name, err)
	}
	defer devnull.Close()
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        []string{"systemctl", supervisorVerb, u.Name},
		Env:         append(os.Environ(), ServiceDirEnv+"="+p.dir),
		Dir:         "/",
		Stdin:       devnull,
		Stdout:      devnull,
		Stderr:      devnull,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		s.Active, s.Sub, s.Result = stateFailed, "failed", "resources"
		writeState(p, s) //nolint:errcheck // already failing
		return fmt.Errorf("Failed to start %s.service: spawn supervisor: %w", u.Name, err)
	}
	go cmd.Wait() //nolint:errcheck // reaped here only if we outlive it
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s, err = readState(p)
		if err == nil && s.Active != stateActivating {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.Active == stateActive || u.Type == TypeOneshot && s.Active == stateInactive && s.Result == "success" {
		return nil
	}
	return fmt.Errorf("Job for %s.service failed because the control process exited with error code.\n"+
		"See \"systemctl status %s.service\" and \"journalctl -xeu %s.service\" for details.", u.Name, u.Name, u.Name)
}

func signalGroup(pid int, sig syscall.Signal) {
	if pid <= 0 {
		return
	}
	if err := syscall.Kill(-pid, sig); err != nil {
		syscall.Kill(pid, sig) //nolint:errcheck // the process may be gone
	}
}

func stopUnit(u Unit, p paths) error {
	s, err := currentState(p)
	if err != nil {
		return err
	}
	if s.Active != stateActive && s.Active != stateActivating && s.Active != stateDeactivating {
		return nil
	}
	if s.Active == stateActive && s.Sub == "exited" { // oneshot, RemainAfterExit: nothing runs
		s.Active, s.Sub, s.Since, s.Result = stateInactive, "dead", time.Now(), "success"
		if err := writeState(p, s); err != nil {
			return err
		}
		appendJournal(p, systemdLine(u.Name+".service: Deactivated successfully."), //nolint:errcheck // journal is best effort
			systemdLine("Stopped "+u.Description+"."))
		return nil
	}
	pid, start, sup := s.MainPID, s.MainStart, s.SupervisorPID
	defer waitGone(sup, 2*time.Second) // its last journal lines follow the state
	s.StopRequested = true
	s.Active, s.Sub, s.Since = stateDeactivating, "stop-sigterm", time.Now()
	if err := writeState(p, s); err != nil {
		return err
	}
	appendJournal(p, systemdLine("Stopping "+u.Description+"...")) //nolint:errcheck // journal is best effort
	sig := syscall.SIGTERM
	if u.KillSignal > 0 {
		sig = syscall.Signal(u.KillSignal)
	}
	if u.KillMode == "mixed" {
		syscall.Kill(pid, sig) //nolint:errcheck // the process may be gone
	} else {
		signalGroup(pid, sig)
	}
	if waitStopped(u, p, pid, start, sup, sig, time.Duration(u.TimeoutStopSec)*time.Second) {
		return nil
	}
	ident := u.SyslogIdentifier
	appendJournal(p, //nolint:errcheck // journal is best effort
		systemdLine(u.Name+".service: State 'stop-sigterm' timed out. Killing."),
		systemdLine(fmt.Sprintf("%s.service: Killing process %d (%s) with signal SIGKILL.", u.Name, pid, ident)))
	if cur, err := readState(p); err == nil {
		cur.Result = "timeout"
		if cur.Active == stateInactive {
			// The main process ended but others of its group lingered.
			cur.Active, cur.Sub = stateFailed, "failed"
		}
		writeState(p, cur) //nolint:errcheck // the supervisor keeps Result timeout if it sees it
	}
	signalGroup(pid, syscall.SIGKILL)
	if waitStopped(u, p, pid, start, sup, syscall.SIGKILL, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("process %d did not exit after SIGKILL", pid)
}

// waitGone waits up to timeout for pid to exit.
func waitGone(pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for pid > 0 && alive(pid, 0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// groupAlive reports whether any process is left in process group pgid (the
// unit's main process leads its own group: the shim's stand-in for the
// unit's cgroup, which systemd empties before a stop completes).
func groupAlive(pgid int) bool {
	return pgid > 0 && syscall.Kill(-pgid, 0) == nil
}

// waitStopped waits until pid, sent sig, is gone with every process of its
// group and the supervisor sup has recorded the end (or is gone too). When the supervisor died without
// recording it, it records the end itself as the supervisor would have
// (ended: killed by sig). The state is read after the liveness checks: a
// supervisor seen gone has already written its final state, so a stale read
// can never overwrite it.
func waitStopped(u Unit, p paths, pid int, start uint64, sup int, sig syscall.Signal, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		gone := (pid == 0 || !alive(pid, start)) && !groupAlive(pid)
		supGone := sup == 0 || !alive(sup, 0)
		if s, err := readState(p); err == nil && gone {
			if s.Active == stateInactive || s.Active == stateFailed {
				return true
			}
			if supGone {
				var lines []JournalEntry
				if pid != 0 {
					s, lines = ended(u, s, pid, "killed", int(sig))
				} else {
					s.Active, s.Sub, s.Result, s.Since = stateInactive, "dead", "success", time.Now()
					s.MainPID, s.SupervisorPID, s.SupervisorStart, s.StopRequested = 0, 0, 0, false
				}
				writeState(p, s)           //nolint:errcheck // best effort
				appendJournal(p, lines...) //nolint:errcheck // journal is best effort
				os.Remove(p.pid())         //nolint:errcheck // may not exist
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// show prints unit properties as `systemctl show -p NAME [--value]` does;
// MainPID, ActiveState, SubState, User, WorkingDirectory and FragmentPath
// are supported. An unknown unit shows MainPID=0, ActiveState=inactive and
// empty strings, like systemd.
func (c *systemctl) show(units, props []string, valueOnly bool) int {
	for _, arg := range units {
		var st unitState
		var unit Unit
		if u, notFound, err := c.loadUnit(arg); !notFound {
			unit = u
			if err != nil {
				fmt.Fprintf(c.stderr, "Failed to get properties: %v\n", err)
				return exitFailure
			}
			if st, err = currentState(paths{c.dir, u.Name}); err != nil {
				fmt.Fprintf(c.stderr, "Failed to get properties: %v\n", err)
				return exitFailure
			}
		} else {
			st.Active, st.Sub = stateInactive, "dead"
		}
		values := map[string]string{"MainPID": strconv.Itoa(st.MainPID), "ActiveState": st.Active, "SubState": st.Sub,
			"User": unit.User, "WorkingDirectory": unit.WorkingDirectory, "FragmentPath": unit.FragmentPath}
		if unit.Name != "" && unit.FragmentPath == "" {
			values["FragmentPath"] = "/usr/lib/systemd/system/" + unit.Name + ".service"
		}
		if len(props) == 0 {
			props = []string{"MainPID", "ActiveState", "SubState"}
		}
		for _, p := range props {
			v := values[p]
			if valueOnly {
				fmt.Fprintln(c.stdout, v)
			} else {
				fmt.Fprintf(c.stdout, "%s=%s\n", p, v)
			}
		}
	}
	return exitOK
}

// isActive is is-active and is-failed (systemctl-is-active.c): one state
// word per unit; exit 0 when any is in a good state, 4 when every unit is
// unknown (or a glob matched none), else 3 (is-active) or 1 (is-failed). A
// template name stops it with systemd's error, exit 1.
func (c *systemctl) isActive(units []string, failedMode bool) int {
	ok, notFound := false, true
	for _, arg := range units {
		u, unknown, err := c.loadUnit(arg)
		word := stateInactive
		if !unknown {
			var te errTemplate
			if errors.As(err, &te) {
				fmt.Fprintf(c.stderr, "Failed to retrieve unit state: %v\n", te)
				return exitFailure
			}
			notFound = false
			if err != nil {
				fmt.Fprintf(c.stderr, "Failed to get unit %s: %v\n", fullName(arg), err)
				continue
			}
			s, err := currentState(paths{c.dir, u.Name})
			if err != nil {
				fmt.Fprintf(c.stderr, "Failed to get unit %s: %v\n", fullName(arg), err)
				continue
			}
			word = s.Active
		}
		if !c.quiet {
			fmt.Fprintln(c.stdout, word)
		}
		if failedMode && word == stateFailed || !failedMode && word == stateActive {
			ok = true
		}
	}
	switch {
	case ok:
		return exitOK
	case notFound:
		return exitNoPermission
	case failedMode:
		return exitFailure
	default:
		return exitProgramDead
	}
}

func (c *systemctl) isEnabled(units []string) int {
	code := exitFailure
	for _, arg := range units {
		u, notFound, err := c.loadUnit(arg)
		if notFound || err != nil {
			fmt.Fprintf(c.stderr, "Failed to get unit file state for %s: No such file or directory\n", fullName(arg))
			continue
		}
		word := "disabled"
		if u.Enabled {
			word, code = "enabled", exitOK
		}
		if !c.quiet {
			fmt.Fprintln(c.stdout, word)
		}
	}
	return code
}

func (c *systemctl) status(units []string) int {
	code := -1
	for i, arg := range units {
		u, notFound, err := c.loadUnit(arg)
		var te errTemplate
		if errors.As(err, &te) {
			fmt.Fprintf(c.stderr, "Failed to get properties: %v\n", te)
			return exitFailure
		}
		if notFound {
			fmt.Fprintf(c.stderr, "Unit %s could not be found.\n", fullName(arg))
			if code == -1 {
				code = exitNoPermission
			}
			continue
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "Failed to get unit %s: %v\n", fullName(arg), err)
			code = exitFailure
			continue
		}
		p := paths{c.dir, u.Name}
		s, err := currentState(p)
		if err != nil {
			fmt.Fprintf(c.stderr, "Failed to get properties: %v\n", err)
			code = exitFailure
			continue
		}
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		var journal []JournalEntry
		if c.lines > 0 {
			all, err := readJournal(p)
			if err == nil {
				journal = lastN(all, c.lines)
			}
		}
		fmt.Fprint(c.stdout, FormatStatus(u, statusView(s), journal, time.Now()))
		switch {
		case s.Active == stateActive || s.Active == stateActivating || s.Active == stateDeactivating:
			if code == -1 || code == exitNoPermission {
				code = exitOK
			}
		default:
			if code == -1 || code == exitNoPermission {
				code = exitProgramDead
			}
		}
	}
	if code == -1 {
		code = exitOK
	}
	return code
}

// UnitStatus is what FormatStatus needs to know about a unit's runtime state.
type UnitStatus struct {
	// Active is active, inactive, failed, activating or deactivating.
	Active string
	// Sub is the sub-state (running, dead, failed, start, stop-sigterm).
	Sub string
	// Result is success, exit-code, signal or timeout.
	Result string
	// Since is when the unit entered Active (zero when it never ran).
	Since time.Time
	// MainPID is the running main process (0 when none).
	MainPID int
	// ExecMainPID, ExecMainCode ("exited" or "killed") and ExecMainStatus
	// describe the last finished main process.
	ExecMainPID    int
	ExecMainCode   string
	ExecMainStatus int
}

// ReadStatus returns the runtime state of unit name in service directory
// dir, as `systemctl is-active` would report it, without changing anything:
// an active unit whose processes are gone reads as failed. The state's
// PIDs (MainPID...) are those of the PID namespace the units run in, and
// proc is that namespace's /proc as the caller sees it: "/proc" on the
// node itself, /proc/PID/root/proc from outside (PID a process in the
// node's mount namespace).
func ReadStatus(proc, dir, name string) (UnitStatus, error) {
	s, err := readState(paths{dir: dir, name: name})
	if err != nil {
		return UnitStatus{}, err
	}
	s, _ = repaired(proc, s)
	return statusView(s), nil
}

func statusView(s unitState) UnitStatus {
	return UnitStatus{Active: s.Active, Sub: s.Sub, Result: s.Result, Since: s.Since, MainPID: s.MainPID,
		ExecMainPID: s.ExecMainPID, ExecMainCode: s.ExecMainCode, ExecMainStatus: s.ExecMainStatus}
}

// FormatStatus renders `systemctl status` for one unit in systemd 249's
// layout, followed by the journal lines (if any) after a blank line.
func FormatStatus(u Unit, s UnitStatus, journal []JournalEntry, now time.Time) string {
	var b strings.Builder
	glyph := "○"
	switch s.Active {
	case stateActive, stateActivating, stateDeactivating, "reloading":
		glyph = "●"
	case stateFailed:
		glyph = "×"
	}
	fmt.Fprintf(&b, "%s %s.service - %s\n", glyph, u.Name, u.Description)
	enabled := "disabled"
	if u.Enabled {
		enabled = "enabled"
	}
	line := func(label, value string) { fmt.Fprintf(&b, "%12s %s\n", label+":", value) }
	line("Loaded", fmt.Sprintf("loaded (%s; %s; vendor preset: enabled)", u.FragmentPath, enabled))
	active := s.Active
	switch s.Active {
	case stateActive:
		active += " (running)"
	case stateFailed:
		result := s.Result
		if result == "" {
			result = "exit-code"
		}
		active += " (Result: " + result + ")"
	case "":
		active = "inactive (dead)"
	default:
		sub := s.Sub
		if sub == "" {
			sub = "dead"
		}
		active += " (" + sub + ")"
	}
	if !s.Since.IsZero() {
		active += " since " + s.Since.Format("Mon 2006-01-02 15:04:05 MST") + "; " + relativeAgo(now.Sub(s.Since))
	}
	line("Active", active)
	if u.Documentation != "" {
		line("Docs", u.Documentation)
	}
	if s.MainPID != 0 {
		line("Main PID", fmt.Sprintf("%d (%s)", s.MainPID, procComm(s.MainPID, u.ExecStart[0])))
		line("CGroup", "/system.slice/"+u.Name+".service")
		fmt.Fprintf(&b, "%12s └─%d %s\n", "", s.MainPID, procCmdline(s.MainPID, u.ExecStart))
	} else if s.ExecMainPID != 0 {
		how := exitDescription(s.ExecMainCode, s.ExecMainStatus)
		line("Process", fmt.Sprintf("%d ExecStart=%s (%s)", s.ExecMainPID, strings.Join(u.ExecStart, " "), how))
		line("Main PID", fmt.Sprintf("%d (%s)", s.ExecMainPID, how))
	}
	if len(journal) > 0 {
		b.WriteString("\n")
		for _, e := range journal {
			b.WriteString(formatShort(e))
			b.WriteString("\n")
		}
	}
	return b.String()
}

var exitStatusNames = map[int]string{
	0: "SUCCESS", 1: "FAILURE", 2: "INVALIDARGUMENT", 3: "NOTIMPLEMENTED", 4: "NOPERMISSION",
	5: "NOTINSTALLED", 6: "NOTCONFIGURED", 7: "NOTRUNNING", 200: "CHDIR", 203: "EXEC", 217: "USER",
}

// exitDescription renders "code=exited, status=203/EXEC" or "code=killed, signal=TERM".
func exitDescription(code string, status int) string {
	if code == "killed" || code == "dumped" {
		return fmt.Sprintf("code=%s, signal=%s", code, signalName(status))
	}
	if n, ok := exitStatusNames[status]; ok {
		return fmt.Sprintf("code=exited, status=%d/%s", status, n)
	}
	return fmt.Sprintf("code=exited, status=%d", status)
}

func signalName(sig int) string {
	names := map[int]string{1: "HUP", 2: "INT", 3: "QUIT", 6: "ABRT", 9: "KILL", 11: "SEGV", 13: "PIPE", 15: "TERM"}
	if n, ok := names[sig]; ok {
		return n
	}
	return strconv.Itoa(sig)
}

// relativeAgo is systemd's format_timestamp_relative.
func relativeAgo(d time.Duration) string {
	const (
		day   = 24 * time.Hour
		week  = 7 * day
		month = 2629800 * time.Second
		year  = 31557600 * time.Second
	)
	switch {
	case d >= year:
		return fmt.Sprintf("%d years %d months ago", d/year, (d%year)/month)
	case d >= month:
		return fmt.Sprintf("%d months %d days ago", d/month, (d%month)/day)
	case d >= week:
		return fmt.Sprintf("%d weeks %d days ago", d/week, (d%week)/day)
	case d >= 2*day:
		return fmt.Sprintf("%d days ago", d/day)
	case d >= 25*time.Hour:
		return fmt.Sprintf("1 day %dh ago", (d-day)/time.Hour)
	case d >= 6*time.Hour:
		return fmt.Sprintf("%dh ago", d/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dmin ago", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= 5*time.Minute:
		return fmt.Sprintf("%dmin ago", d/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dmin %ds ago", d/time.Minute, (d%time.Minute)/time.Second)
	case d >= time.Second:
		return fmt.Sprintf("%ds ago", d/time.Second)
	case d >= time.Millisecond:
		return fmt.Sprintf("%dms ago", d/time.Millisecond)
	case d > 0:
		return fmt.Sprintf("%dus ago", d/time.Microsecond)
	default:
		return "now"
	}
}

func procComm(pid int, fallback string) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		name := fallback
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		return name
	}
	return strings.TrimSpace(string(b))
}

func procCmdline(pid int, fallback []string) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return strings.Join(fallback, " ")
	}
	return strings.Join(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), " ")
}

// successfulExit reports whether a main process end counts as a clean stop.
func successfulExit(u Unit, code string, status int, stopRequested bool) bool {
	if code == "exited" {
		return status == 0 || slices.Contains(u.SuccessExitStatus, status)
	}
	// systemd counts SIGHUP, SIGINT, SIGTERM and SIGPIPE as clean.
	return code == "killed" && slices.Contains([]int{1, 2, 13, 15}, status) && stopRequested
}
