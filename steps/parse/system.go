package parse

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// UnitActiveState is a systemd unit active state as printed by
// `systemctl is-active` and on the "Active:" line of `systemctl status`.
type UnitActiveState string

// The active states systemd can print (unit_active_state_table).
const (
	UnitActive       UnitActiveState = "active"
	UnitReloading    UnitActiveState = "reloading"
	UnitInactive     UnitActiveState = "inactive"
	UnitFailed       UnitActiveState = "failed"
	UnitActivating   UnitActiveState = "activating"
	UnitDeactivating UnitActiveState = "deactivating"
	UnitMaintenance  UnitActiveState = "maintenance"
	UnitRefreshing   UnitActiveState = "refreshing"
)

var knownUnitStates = map[UnitActiveState]bool{
	UnitActive: true, UnitReloading: true, UnitInactive: true, UnitFailed: true,
	UnitActivating: true, UnitDeactivating: true, UnitMaintenance: true, UnitRefreshing: true,
}

// ErrUnitNotFound is returned when systemd does not know the unit.
var ErrUnitNotFound = errors.New("systemd unit not found")

// IsActiveResult is the parsed reply of `systemctl is-active UNIT`.
type IsActiveResult struct {
	// State is the printed state.
	State UnitActiveState
	// NotFound is true for exit status 4: systemd has no such unit (it
	// still prints "inactive").
	NotFound bool
}

// Running reports whether the unit counts as running for systemd: active,
// reloading or refreshing (the states that give exit status 0).
func (r IsActiveResult) Running() bool {
	return r.State == UnitActive || r.State == UnitReloading || r.State == UnitRefreshing
}

// ParseIsActive parses the stdout and exit status of `systemctl is-active
// UNIT` for one unit. Exit 0 must go with active/reloading/refreshing, exit
// 3 with any other state. Exit 4 (no such unit) returns the result with
// NotFound set together with an error wrapping ErrUnitNotFound. Any other
// combination is an error, as is a reply with more than one line.
func ParseIsActive(text string, exitCode int) (IsActiveResult, error) {
	const what = "systemctl is-active"
	var words []string
	for _, l := range lines(text) {
		if t := strings.TrimSpace(l); t != "" {
			words = append(words, t)
		}
	}
	if len(words) == 0 {
		return IsActiveResult{}, fmt.Errorf("%s (exit %d): %w", what, exitCode, ErrEmptyOutput)
	}
	if len(words) > 1 {
		return IsActiveResult{}, fmt.Errorf("%s: %d lines, one unit expected: %w: %q", what, len(words), ErrUnexpectedLine, clip(words[1]))
	}
	r := IsActiveResult{State: UnitActiveState(words[0])}
	if !knownUnitStates[r.State] {
		return IsActiveResult{}, fmt.Errorf("%s: unknown state: %w: %q", what, ErrUnexpectedLine, clip(words[0]))
	}
	switch {
	case exitCode == 4:
		r.NotFound = true
		return r, fmt.Errorf("%s: %w", what, ErrUnitNotFound)
	case exitCode == 0 && r.Running(), exitCode == 3 && !r.Running():
		return r, nil
	}
	return IsActiveResult{}, fmt.Errorf("%s: state %q does not match exit status %d", what, clip(words[0]), exitCode)
}

// UnitStatus is the parsed header of `systemctl status UNIT`.
type UnitStatus struct {
	// Unit is the unit name, e.g. "cassandra.service"; Description follows " - ".
	Unit, Description string
	// LoadState is the first word of "Loaded:", e.g. "loaded", "not-found".
	LoadState string
	// UnitFile is the unit file path; Enabled its enablement ("enabled",
	// "disabled"; empty for generated SysV units).
	UnitFile, Enabled string
	// ActiveState and SubState come from "Active: active (running)".
	ActiveState UnitActiveState
	SubState    string
	// Result is the "(Result: exit-code)" of a failed unit.
	Result string
	// Since is the time after "since"; zero when absent. SinceText is as printed.
	Since     time.Time
	SinceText string
	// MainPID is the main process ID, 0 when absent.
	MainPID int
	// MainExit is the main process's "code=exited, status=203/EXEC" text, empty while it runs.
	MainExit string
	// Journal holds the journal lines printed after the header.
	Journal []string
}

var (
	statusTitleRE = regexp.MustCompile(`^(?:[●○×*↻]\s+)?(\S+\.[a-z]+)(?: - (.*))?$`)
	activeRE      = regexp.MustCompile(`^([a-z]+)(?: \(([^)]*)\))?(?: since (.*?);.*)?$`)
	mainPIDRE     = regexp.MustCompile(`^(\d+) \((.*)\)$`)
	notFoundRE    = regexp.MustCompile(`^Unit (\S+) could not be found\.$`)
)

// sinceLayouts are the timestamp layouts systemd prints after "since";
// numeric offsets ("+04") first, since Go also accepts them as abbreviations.
var sinceLayouts = []string{"Mon 2006-01-02 15:04:05 -0700", "Mon 2006-01-02 15:04:05 -07", "Mon 2006-01-02 15:04:05 MST", "Mon 2006-01-02 15:04:05"}

// ParseSystemctlStatus parses `systemctl status UNIT` (systemd 219 to
// 25x): the title line, Loaded, Active (state, sub-state, result, since)
// and Main PID, and collects the journal tail. "Unit X could not be
// found." yields ErrUnitNotFound. Zone abbreviations other than UTC/GMT
// parse with a zero offset (Go's time.Parse rule); SinceText keeps the text.
func ParseSystemctlStatus(text string) (*UnitStatus, error) {
	const what = "systemctl status"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	us := &UnitStatus{}
	inJournal := false
	for i, raw := range lines(text) {
		n := i + 1
		l := strings.TrimSpace(raw)
		switch {
		case inJournal:
			if l != "" {
				us.Journal = append(us.Journal, l)
			}
			continue
		case l == "":
			if us.Unit != "" {
				inJournal = true
			}
			continue
		case us.Unit == "":
			if m := notFoundRE.FindStringSubmatch(l); m != nil {
				return nil, fmt.Errorf("%s: %s: %w", what, m[1], ErrUnitNotFound)
			}
			m := statusTitleRE.FindStringSubmatch(l)
			if m == nil {
				return nil, unexpected(what, n, raw)
			}
			us.Unit, us.Description = m[1], m[2]
			continue
		}
		k, v, ok := strings.Cut(l, ": ")
		if !ok || strings.Contains(k, " ") && k != "Main PID" {
			continue // CGroup tree and other continuation lines
		}
		switch k {
		case "Loaded":
			state, rest, _ := strings.Cut(v, " ")
			us.LoadState = state
			rest = strings.TrimSuffix(strings.TrimPrefix(rest, "("), ")")
			parts := strings.Split(rest, "; ")
			us.UnitFile = parts[0]
			if len(parts) > 1 {
				us.Enabled = parts[1]
			}
		case "Active":
			m := activeRE.FindStringSubmatch(v)
			if m == nil || !knownUnitStates[UnitActiveState(m[1])] {
				return nil, fmt.Errorf("%s: line %d: Active state not understood: %w: %q", what, n, ErrUnexpectedLine, clip(raw))
			}
			us.ActiveState = UnitActiveState(m[1])
			if r, ok := strings.CutPrefix(m[2], "Result: "); ok {
				us.Result = r
			} else {
				us.SubState = m[2]
			}
			us.SinceText = m[3]
			if m[3] != "" {
				t, err := parseSince(m[3])
				if err != nil {
					return nil, fmt.Errorf("%s: line %d: %w: %q", what, n, err, clip(raw))
				}
				us.Since = t
			}
		case "Main PID":
			m := mainPIDRE.FindStringSubmatch(v)
			if m == nil {
				return nil, fmt.Errorf("%s: line %d: Main PID not understood: %w: %q", what, n, ErrUnexpectedLine, clip(raw))
			}
			us.MainPID, _ = strconv.Atoi(m[1])
			if strings.HasPrefix(m[2], "code=") {
				us.MainExit = m[2]
			}
		}
	}
	if us.Unit == "" {
		return nil, fmt.Errorf("%s: no unit title line: %w", what, ErrUnexpectedLine)
	}
	if us.ActiveState == "" {
		return nil, fmt.Errorf("%s: no \"Active:\" line: %w", what, ErrTruncated)
	}
	return us, nil
}

func parseSince(s string) (time.Time, error) {
	var first error
	for _, layout := range sinceLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t, nil
		}
		if first == nil {
			first = err
		}
	}
	return time.Time{}, fmt.Errorf("since time: %w", first)
}

// TheHiveStatus is the reply of TheHive's GET /api/status (4.x/5.x:
// "versions" object) or GET /api/v1/status (5.x: "version" string).
type TheHiveStatus struct {
	// Version is TheHive's version, e.g. "5.1.4-1".
	Version string
	// Versions holds the "versions" object (TheHive, Scalligraph, Play...).
	Versions map[string]string
	// GitDescription is set by /api/v1/status.
	GitDescription string
	// ConnectorStatus maps each connector (cortex, misp...) to its
	// "status" field when the reply has one ("OK", "WARNING", "ERROR").
	ConnectorStatus map[string]string
	// Health is the top-level "health" or "status" text when present.
	Health string
}

// ParseTheHiveStatus parses TheHive's status JSON.
func ParseTheHiveStatus(body []byte) (*TheHiveStatus, error) {
	const what = "thehive status"
	if isBlank(string(body)) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	var r struct {
		Versions       map[string]string                     `json:"versions"`
		Version        string                                `json:"version"`
		GitDescription string                                `json:"gitDescription"`
		Connectors     map[string]map[string]json.RawMessage `json:"connectors"`
		Health         json.RawMessage                       `json:"health"`
		Status         json.RawMessage                       `json:"status"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	st := &TheHiveStatus{Versions: r.Versions, Version: r.Version, GitDescription: r.GitDescription, ConnectorStatus: map[string]string{}}
	if st.Version == "" {
		st.Version = r.Versions["TheHive"]
	}
	if st.Version == "" {
		return nil, fmt.Errorf("%s: neither \"version\" nor \"versions.TheHive\" field", what)
	}
	for name, c := range r.Connectors {
		var s string
		if raw, ok := c["status"]; ok && json.Unmarshal(raw, &s) == nil {
			st.ConnectorStatus[name] = s
		}
	}
	for _, raw := range []json.RawMessage{r.Health, r.Status} {
		var s string
		if len(raw) > 0 && json.Unmarshal(raw, &s) == nil && s != "" {
			st.Health = s
			break
		}
	}
	return st, nil
}

// DiskUsage is one file system of `df -PB1 PATH`.
type DiskUsage struct {
	// Filesystem is the device or source ("/dev/sda1", "overlay").
	Filesystem string
	// SizeBytes, UsedBytes and AvailBytes are the 1-byte block counts.
	SizeBytes, UsedBytes, AvailBytes int64
	// MountPoint is where the file system is mounted (may contain spaces).
	MountPoint string
}

// ParseDF parses `df -PB1 PATH` (POSIX format, 1-byte blocks) and returns
// one entry per file system line. A header whose block size is not 1
// (e.g. "1024-blocks": -B1 was not honoured) is an error.
func ParseDF(text string) ([]DiskUsage, error) {
	const what = "df -PB1"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	var out []DiskUsage
	header := false
	for i, l := range lines(text) {
		n := i + 1
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if !header {
			if len(f) < 6 || f[0] != "Filesystem" {
				return nil, unexpected(what, n, l)
			}
			if f[1] != "1-blocks" && f[1] != "1B-blocks" {
				return nil, fmt.Errorf("%s: line %d: block size is not 1 byte: %q", what, n, clip(l))
			}
			header = true
			continue
		}
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			return nil, unexpected(what, n, l)
		}
		du := DiskUsage{Filesystem: f[0]}
		for j, dst := range []*int64{&du.SizeBytes, &du.UsedBytes, &du.AvailBytes} {
			v, err := strconv.ParseInt(f[1+j], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %w: %q", what, n, numErr(err), clip(l))
			}
			*dst = v
		}
		// The mount point is everything after the capacity column.
		idx := strings.Index(l, " "+f[4]+" ")
		du.MountPoint = strings.TrimSpace(l[idx+len(f[4])+2:])
		out = append(out, du)
	}
	if !header {
		return nil, fmt.Errorf("%s: no header line: %w", what, ErrUnexpectedLine)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no file system line: %w", what, ErrTruncated)
	}
	return out, nil
}

// ParseDateNanos parses `date +%s%N` (seconds and nanoseconds since the
// epoch, 19 digits) into a UTC time. A date without %N support prints a
// literal "N" or "%N", which is reported as such.
func ParseDateNanos(text string) (time.Time, error) {
	const what = "date +%s%N"
	t := strings.TrimSpace(text)
	if t == "" {
		return time.Time{}, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if strings.HasSuffix(t, "N") {
		return time.Time{}, fmt.Errorf("%s: this date does not support %%N: %q", what, clip(t))
	}
	if len(t) < 10 || strings.Trim(t, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%s: not a nanosecond timestamp: %w: %q", what, ErrUnexpectedLine, clip(t))
	}
	if len(t) != 19 {
		return time.Time{}, fmt.Errorf("%s: %d digits, want 19 (seconds + 9 nanosecond digits): %q", what, len(t), clip(t))
	}
	sec, err := strconv.ParseInt(t[:10], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", what, err)
	}
	ns, err := strconv.ParseInt(t[10:], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", what, err)
	}
	return time.Unix(sec, ns).UTC(), nil
}

// ParseDU reads the byte count of `du -sb` (the last line of the output).
func ParseDU(out string) int64 {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}
