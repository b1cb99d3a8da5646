package thehive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultServiceDir is where the shims keep unit files and state when
// $HOTSNAP_LAB_SERVICE_DIR is unset.
const DefaultServiceDir = "/run/hotsnap-lab-services"

// ServiceDirEnv names the environment variable that overrides DefaultServiceDir.
const ServiceDirEnv = "HOTSNAP_LAB_SERVICE_DIR"

// Unit is the stand-in's unit file: what systemctl needs to run a service.
// The lab writes it with WriteUnit; the JSON form lives in
// <dir>/<Name>.service.json.
type Unit struct {
	// Name is the unit name without ".service" (e.g. "thehive").
	Name string `json:"name"`
	// Description is shown by status and in the journal's Starting/Started lines.
	Description string `json:"description"`
	// Documentation is the Docs: line of status (optional).
	Documentation string `json:"documentation,omitempty"`
	// FragmentPath is the unit file path printed on the Loaded: line
	// (default /usr/lib/systemd/system/<name>.service).
	FragmentPath string `json:"fragment_path,omitempty"`
	// Enabled is what is-enabled reports.
	Enabled bool `json:"enabled"`
	// ExecStart is the service's command line; ExecStart[0] must be an absolute path.
	ExecStart []string `json:"exec_start"`
	// Environment holds extra KEY=VALUE pairs for the service.
	Environment []string `json:"environment,omitempty"`
	// WorkingDirectory is the service's working directory (default /).
	WorkingDirectory string `json:"working_directory,omitempty"`
	// User runs the service as this user when systemctl runs as root (optional).
	User string `json:"user,omitempty"`
	// SyslogIdentifier names the service's journal lines (default Name).
	SyslogIdentifier string `json:"syslog_identifier,omitempty"`
	// SuccessExitStatus lists exit codes counted as a clean stop besides 0
	// (TheHive's unit lists 143, the JVM's exit code on SIGTERM).
	SuccessExitStatus []int `json:"success_exit_status,omitempty"`
	// TimeoutStopSec is how long stop waits after SIGTERM before SIGKILL (default 90).
	TimeoutStopSec int `json:"timeout_stop_sec,omitempty"`
	// Type is "simple" (the default: active once ExecStart runs) or
	// "oneshot" (activating while ExecStart runs; with RemainAfterExit
	// active, sub-state exited, once it exits 0).
	Type string `json:"type,omitempty"`
	// RemainAfterExit keeps a oneshot unit active after its process exits.
	RemainAfterExit bool `json:"remain_after_exit,omitempty"`
	// Wants lists units started along with this one (systemd's Wants=).
	Wants []string `json:"wants,omitempty"`
	// PartOf lists units whose stop or restart stops or restarts this one
	// too (systemd's PartOf=).
	PartOf []string `json:"part_of,omitempty"`
	// After orders this unit after those (systemd's After=): of the units a
	// stop propagates to, those ordered after others stop first.
	After []string `json:"after,omitempty"`
	// EnvironmentFile lists files of KEY=VALUE lines read into the
	// service's environment at start; a leading "-" makes one optional.
	EnvironmentFile []string `json:"environment_file,omitempty"`
	// KillSignal is the signal stop sends first (default SIGTERM).
	KillSignal int `json:"kill_signal,omitempty"`
	// KillMode "mixed" sends KillSignal to the main process only (SIGKILL
	// still goes to the whole group); the default, "control-group", sends
	// it to the whole process group.
	KillMode string `json:"kill_mode,omitempty"`
}

// Unit types (Unit.Type).
const (
	// TypeSimple is the default service type.
	TypeSimple = "simple"
	// TypeOneshot is a service whose start runs ExecStart to completion.
	TypeOneshot = "oneshot"
)

// TheHiveUnit returns the unit TheHive's packages install, running argv.
func TheHiveUnit(argv []string) Unit {
	return Unit{
		Name:              "thehive",
		Description:       "Scalable, Open Source and Free Security Incident Response Solutions",
		Documentation:     "https://thehive-project.org",
		FragmentPath:      "/usr/lib/systemd/system/thehive.service",
		Enabled:           true,
		ExecStart:         argv,
		SuccessExitStatus: []int{143},
		TimeoutStopSec:    90,
	}
}

var unitNameRE = regexp.MustCompile(`^[A-Za-z0-9:_.@-]+$`) // and at most 200 bytes

// unitName strips ".service" and validates the rest. A template
// ("name@") is a valid name; so is an instance ("name@inst").
func unitName(arg string) (string, error) {
	name := strings.TrimSuffix(arg, ".service")
	if !(len(name) <= 200 && unitNameRE.MatchString(name)) || strings.HasPrefix(name, ".") || strings.Contains(name, "..") ||
		strings.HasPrefix(name, "@") || strings.Count(name, "@") > 1 {
		return "", fmt.Errorf("unit name %q is not valid", arg)
	}
	return name, nil
}

// isTemplate reports whether a unit name (without ".service") is a
// template such as "getty@": it names no unit systemd can load.
func isTemplate(name string) bool { return strings.HasSuffix(name, "@") }

// templateOf returns the template of an instance name ("getty@tty1" ->
// "getty@", "tty1") and whether name is an instance.
func templateOf(name string) (template, instance string, ok bool) {
	i := strings.IndexByte(name, '@')
	if i < 0 || i == len(name)-1 {
		return "", "", false
	}
	return name[:i+1], name[i+1:], true
}

// errTemplate is systemd's answer to a template name where a unit is
// needed (systemd#19305).
type errTemplate struct{ name string }

func (e errTemplate) Error() string {
	return "Unit name " + e.name + ".service is neither a valid invocation ID nor unit name."
}

// WriteUnit validates u and installs it atomically in dir (created if needed).
func WriteUnit(dir string, u Unit) error {
	name, err := unitName(u.Name)
	if err != nil {
		return fmt.Errorf("write unit: %w", err)
	}
	u.Name = name
	if len(u.ExecStart) == 0 || !filepath.IsAbs(u.ExecStart[0]) {
		return fmt.Errorf("write unit %s: ExecStart must start with an absolute path, got %q", name, u.ExecStart)
	}
	if u.TimeoutStopSec < 0 {
		return fmt.Errorf("write unit %s: negative TimeoutStopSec %d", name, u.TimeoutStopSec)
	}
	switch u.Type {
	case "", TypeSimple, TypeOneshot:
	default:
		return fmt.Errorf("write unit %s: Type %q: want %s or %s", name, u.Type, TypeSimple, TypeOneshot)
	}
	switch u.KillMode {
	case "", "control-group", "mixed":
	default:
		return fmt.Errorf("write unit %s: KillMode %q: want control-group or mixed", name, u.KillMode)
	}
	if u.KillSignal < 0 || u.KillSignal > 64 {
		return fmt.Errorf("write unit %s: KillSignal %d is not a signal", name, u.KillSignal)
	}
	for _, d := range append(append([]string{}, u.Wants...), u.PartOf...) {
		if _, err := unitName(d); err != nil {
			return fmt.Errorf("write unit %s: dependency: %w", name, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write unit %s: %w", name, err)
	}
	b, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return fmt.Errorf("write unit %s: %w", name, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, name+".service.json"), append(b, '\n')); err != nil {
		return fmt.Errorf("write unit %s: %w", name, err)
	}
	return nil
}

// ReadUnit loads the unit name (with or without ".service") from dir.
// A unit that is not installed gives an error matching os.ErrNotExist.
func ReadUnit(dir, name string) (Unit, error) {
	n, err := unitName(name)
	if err != nil {
		return Unit{}, fmt.Errorf("read unit: %w", err)
	}
	if isTemplate(n) {
		return Unit{}, errTemplate{n}
	}
	b, err := os.ReadFile(filepath.Join(dir, n+".service.json"))
	tmpl, inst, isInst := templateOf(n)
	if errors.Is(err, os.ErrNotExist) && isInst {
		// An instance without a unit file of its own comes from its template.
		b, err = os.ReadFile(filepath.Join(dir, tmpl+".service.json"))
	}
	if err != nil {
		return Unit{}, fmt.Errorf("read unit %s: %w", n, err)
	}
	var u Unit
	if err := json.Unmarshal(b, &u); err != nil {
		return Unit{}, fmt.Errorf("read unit %s: %w", n, err)
	}
	if isInst && isTemplate(strings.TrimSuffix(u.Name, ".service")) {
		u = u.instantiate(tmpl, inst)
	}
	u.Name = n
	if u.FragmentPath == "" {
		u.FragmentPath = "/usr/lib/systemd/system/" + n + ".service"
	}
	if u.SyslogIdentifier == "" {
		u.SyslogIdentifier = n
	}
	if u.TimeoutStopSec == 0 {
		u.TimeoutStopSec = 90
	}
	if len(u.ExecStart) == 0 {
		return Unit{}, fmt.Errorf("read unit %s: ExecStart is empty", n)
	}
	return u, nil
}

// instantiate returns template unit u (named tmpl) as its instance inst:
// systemd's %i (and %I) replaced in the fields that hold text, and the
// fragment path kept as the template's file.
func (u Unit) instantiate(tmpl, inst string) Unit {
	sub := strings.NewReplacer("%i", inst, "%I", inst, "%n", tmpl+inst+".service", "%p", strings.TrimSuffix(tmpl, "@"), "%H", hostname())
	subAll := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = sub.Replace(s)
		}
		return out
	}
	if u.FragmentPath == "" {
		u.FragmentPath = "/usr/lib/systemd/system/" + tmpl + ".service"
	}
	u.Description = sub.Replace(u.Description)
	u.ExecStart = subAll(u.ExecStart)
	u.Environment = subAll(u.Environment)
	u.EnvironmentFile = subAll(u.EnvironmentFile)
	u.WorkingDirectory = sub.Replace(u.WorkingDirectory)
	if u.SyslogIdentifier == "" {
		u.SyslogIdentifier = strings.TrimSuffix(tmpl, "@")
	}
	return u
}

// InstalledUnits returns the names (without ".service") of the units
// systemd would hold loaded: every installed unit but the templates, and
// every instance of an installed template that has run (it has a state).
func InstalledUnits(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list units in %s: %w", dir, err)
	}
	seen := map[string]bool{}
	templates := map[string]bool{}
	var states []string
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".service.json"):
			n := strings.TrimSuffix(name, ".service.json")
			if isTemplate(n) {
				templates[n] = true
			} else {
				seen[n] = true
			}
		case strings.HasSuffix(name, ".state.json"):
			states = append(states, strings.TrimSuffix(name, ".state.json"))
		}
	}
	for _, n := range states {
		if t, _, ok := templateOf(n); ok && templates[t] {
			seen[n] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Unit states and results as systemd names them.
const (
	stateActive       = "active"
	stateInactive     = "inactive"
	stateFailed       = "failed"
	stateActivating   = "activating"
	stateDeactivating = "deactivating"
)

// unitState is the runtime state the shims share, in <dir>/<name>.state.json.
type unitState struct {
	Active string `json:"active"` // active, inactive, failed, activating, deactivating
	Sub    string `json:"sub"`    // running, dead, failed, stop-sigterm
	// Result is success, exit-code, signal or timeout.
	Result string `json:"result"`
	// Since is when the unit entered its current state.
	Since time.Time `json:"since"`
	// MainPID is the running service's PID (0 when none).
	MainPID int `json:"main_pid"`
	// MainStart is the main PID's start time in clock ticks (/proc/PID/stat field 22).
	MainStart uint64 `json:"main_start,omitempty"`
	// SupervisorPID is the supervising process; SupervisorStart its start
	// time, as MainStart (so that a process that took the PID since, in a
	// node's PID namespace made anew, say, is not taken for it).
	SupervisorPID   int    `json:"supervisor_pid,omitempty"`
	SupervisorStart uint64 `json:"supervisor_start,omitempty"`
	// ExecMainPID, ExecMainCode ("exited"/"killed"), ExecMainStatus describe the last run.
	ExecMainPID    int    `json:"exec_main_pid,omitempty"`
	ExecMainCode   string `json:"exec_main_code,omitempty"`
	ExecMainStatus int    `json:"exec_main_status,omitempty"`
	// StartedAt and ExitedAt bound the last run (CPU-less stand-in for the Process: line).
	StartedAt time.Time `json:"started_at,omitzero"`
	ExitedAt  time.Time `json:"exited_at,omitzero"`
	// StopRequested is set by stop before it signals the service.
	StopRequested bool `json:"stop_requested,omitempty"`
}

type paths struct{ dir, name string }

func (p paths) state() string   { return filepath.Join(p.dir, p.name+".state.json") }
func (p paths) pid() string     { return filepath.Join(p.dir, p.name+".pid") }
func (p paths) journal() string { return filepath.Join(p.dir, p.name+".journal") }
func (p paths) lock() string    { return filepath.Join(p.dir, p.name+".lock") }

// ForgetRuns removes what the units of service directory dir recorded of
// their runs (state, pid and lock files), as a boot leaves systemd nothing
// of the last one's: the units and their journals stay. Call it only while
// none of them runs.
func ForgetRuns(dir string) error {
	for _, pat := range []string{"*.state.json", "*.pid", "*.lock"} {
		old, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return err
		}
		for _, f := range old {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("forget the units' runs: %w", err)
			}
		}
	}
	return nil
}

func readState(p paths) (unitState, error) {
	b, err := os.ReadFile(p.state())
	if errors.Is(err, os.ErrNotExist) {
		return unitState{Active: stateInactive, Sub: "dead"}, nil
	}
	if err != nil {
		return unitState{}, fmt.Errorf("read state of %s: %w", p.name, err)
	}
	var s unitState
	if err := json.Unmarshal(b, &s); err != nil {
		return unitState{}, fmt.Errorf("read state of %s: %w", p.name, err)
	}
	return s, nil
}

func writeState(p paths, s unitState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("write state of %s: %w", p.name, err)
	}
	if err := writeFileAtomic(p.state(), b); err != nil {
		return fmt.Errorf("write state of %s: %w", p.name, err)
	}
	return nil
}

// lockUnit takes an exclusive flock on the unit; call the returned func to release it.
func lockUnit(p paths) (func(), error) {
	f, err := os.OpenFile(p.lock(), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock unit %s: %w", p.name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock unit %s: %w", p.name, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway
		f.Close()
	}, nil
}

// ownProc is the /proc of the PID namespace the shim runs in, the one
// whose PIDs the units' state holds when the shim runs on the node.
const ownProc = "/proc"

// procStart returns the start time (clock ticks since boot) of pid, or an
// error when the process does not exist (or is a zombie).
func procStart(pid int) (uint64, error) { return procStartIn(ownProc, pid) }

// procStartIn is procStart for a pid of the PID namespace whose /proc is
// proc.
func procStartIn(proc string, pid int) (uint64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("pid %d is not valid", pid)
	}
	path := proc + "/" + strconv.Itoa(pid) + "/stat"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse %s: no command field", path)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field 22 (starttime) is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("parse %s: %d fields", path, len(f))
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("pid %d is a zombie", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive reports whether pid still runs and is the process started at start
// (start 0 skips the identity check).
func alive(pid int, start uint64) bool { return aliveIn(ownProc, pid, start) }

// aliveIn is alive for a pid of the PID namespace whose /proc is proc.
func aliveIn(proc string, pid int, start uint64) bool {
	st, err := procStartIn(proc, pid)
	if err != nil {
		return false
	}
	return start == 0 || st == start
}

// JournalEntry is one line of a unit's journal, stored as JSON lines in
// <dir>/<name>.journal.
type JournalEntry struct {
	// Time is when the line was logged.
	Time time.Time `json:"t"`
	// Host is the node's short hostname.
	Host string `json:"h"`
	// Ident is the syslog identifier ("systemd", "thehive").
	Ident string `json:"i"`
	// PID is the logging process.
	PID int `json:"p"`
	// Msg is the line without its newline.
	Msg string `json:"m"`
}

// appendJournal adds entries to the unit's journal.
func appendJournal(p paths, entries ...JournalEntry) error {
	f, err := os.OpenFile(p.journal(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("append journal of %s: %w", p.name, err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("append journal of %s: %w", p.name, err)
		}
		w.Write(b) //nolint:errcheck // checked by Flush
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("append journal of %s: %w", p.name, err)
	}
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	if i := strings.IndexByte(h, '.'); i > 0 {
		h = h[:i]
	}
	return h
}

// systemdLine is a journal entry written by "systemd[1]".
func systemdLine(msg string) JournalEntry {
	return JournalEntry{Time: time.Now(), Host: hostname(), Ident: "systemd", PID: 1, Msg: msg}
}
