package thehive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const servicePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// supervise plays systemd's part for one run of unit name: it runs ExecStart,
// journals its output and records how it ended. It runs detached, started by
// startUnit, which holds the unit lock until the state leaves "activating".
func supervise(dir, name string, stderr io.Writer) int {
	u, err := ReadUnit(dir, name)
	if err != nil {
		fmt.Fprintf(stderr, "supervise: %v\n", err)
		return exitFailure
	}
	p := paths{dir, u.Name}
	s, err := readState(p)
	if err != nil {
		fmt.Fprintf(stderr, "supervise: %v\n", err)
		return exitFailure
	}
	supStart, _ := procStart(os.Getpid())
	s.SupervisorPID, s.SupervisorStart = os.Getpid(), supStart
	appendJournal(p, systemdLine("Starting "+u.Description+"...")) //nolint:errcheck // journal is best effort

	fileEnv, err := environmentFiles(u.EnvironmentFile)
	if err != nil {
		return s.execFailed(u, p, 1, err)
	}
	env := append(append([]string{servicePath, "LANG=C.UTF-8", "INVOCATION_ID=" + strconv.FormatInt(time.Now().UnixNano(), 16)}, u.Environment...), fileEnv...)
	argv := expandEnv(u.ExecStart, env)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = u.WorkingDirectory
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if u.User != "" && os.Geteuid() == 0 {
		cred, err := credential(u.User)
		if err != nil {
			return s.execFailed(u, p, 217, err)
		}
		cmd.SysProcAttr.Credential = cred
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return s.execFailed(u, p, 203, err)
	}
	cmd.Stdout, cmd.Stderr = outW, outW
	if err := cmd.Start(); err != nil {
		outW.Close()
		outR.Close()
		return s.execFailed(u, p, 203, err)
	}
	outW.Close()
	pid := cmd.Process.Pid
	start, _ := procStart(pid)
	os.WriteFile(p.pid(), []byte(strconv.Itoa(pid)+"\n"), 0o644) //nolint:errcheck // status reads the state file
	now := time.Now()
	oneshot := u.Type == TypeOneshot
	s = unitState{Active: stateActive, Sub: "running", Since: now, MainPID: pid, MainStart: start,
		SupervisorPID: os.Getpid(), SupervisorStart: supStart, StartedAt: now}
	if oneshot { // activating until ExecStart is done
		s.Active, s.Sub = stateActivating, "start"
	}
	if err := writeState(p, s); err != nil {
		fmt.Fprintf(stderr, "supervise: %v\n", err)
	}
	if !oneshot {
		appendJournal(p, systemdLine("Started "+u.Description+".")) //nolint:errcheck // journal is best effort
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		journalLines(p, outR, u.SyslogIdentifier, pid)
	}()
	waitErr := cmd.Wait()
	wg.Wait()
	outR.Close()

	code, status := "exited", 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code, status = "killed", int(ws.Signal())
			if ws.CoreDump() {
				code = "dumped"
			}
		} else {
			status = ee.ExitCode()
		}
	}
	final, err := readState(p)
	if err != nil {
		final = s
	}
	var lines []JournalEntry
	if oneshot && code == "exited" && (status == 0 || slices.Contains(u.SuccessExitStatus, status)) && !final.StopRequested {
		final, lines = oneshotDone(u, final, pid, status)
	} else {
		final, lines = ended(u, final, pid, code, status)
	}
	os.Remove(p.pid()) //nolint:errcheck // may already be gone
	if err := writeState(p, final); err != nil {
		fmt.Fprintf(stderr, "supervise: %v\n", err)
	}
	appendJournal(p, lines...) //nolint:errcheck // journal is best effort
	return exitOK
}

// oneshotDone records a oneshot unit whose ExecStart succeeded: active
// (exited) with RemainAfterExit, else inactive (dead); systemd logs
// "Finished".
func oneshotDone(u Unit, final unitState, pid, status int) (unitState, []JournalEntry) {
	final.MainPID, final.MainStart, final.SupervisorPID, final.SupervisorStart = 0, 0, 0, 0
	final.ExecMainPID, final.ExecMainCode, final.ExecMainStatus = pid, "exited", status
	final.ExitedAt, final.Since, final.Result = time.Now(), time.Now(), "success"
	final.Active, final.Sub = stateActive, "exited"
	var lines []JournalEntry
	if !u.RemainAfterExit {
		final.Active, final.Sub = stateInactive, "dead"
		lines = append(lines, systemdLine(u.Name+".service: Deactivated successfully."))
	}
	return final, append(lines, systemdLine("Finished "+u.Description+"."))
}

// expandEnv replaces ${NAME} in command-line words with the value of
// NAME in env, as systemd does in ExecStart= (a word that is exactly
// ${NAME} stays one word, even when empty).
func expandEnv(argv, env []string) []string {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[k] = v
		}
	}
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = envRefRE.ReplaceAllStringFunc(a, func(ref string) string { return vals[ref[2:len(ref)-1]] })
	}
	return out
}

var envRefRE = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// environmentFiles reads EnvironmentFile= files: KEY=VALUE lines, blank
// lines and # or ; comments skipped, one level of quotes removed. A
// missing file is an error unless its name starts with "-".
func environmentFiles(files []string) ([]string, error) {
	var env []string
	for _, f := range files {
		optional := strings.HasPrefix(f, "-")
		f = strings.TrimPrefix(f, "-")
		b, err := os.ReadFile(f)
		if err != nil {
			if optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("failed to load environment files: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			env = append(env, k+"="+v)
		}
	}
	return env, nil
}

// execFailed records a spawn failure the way systemd does (status 203/EXEC, 217/USER).
func (s unitState) execFailed(u Unit, p paths, status int, err error) int {
	step := "EXEC"
	if status == 217 {
		step = "USER"
	}
	msg := err.Error()
	var pe *os.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	if len(msg) > 0 && msg[0] >= 'a' && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	appendJournal(p, //nolint:errcheck // journal is best effort
		systemdLine(fmt.Sprintf("%s.service: Failed at step %s spawning %s: %s", u.Name, step, u.ExecStart[0], msg)),
		systemdLine(fmt.Sprintf("%s.service: Main process exited, code=exited, status=%d/%s", u.Name, status, step)),
		systemdLine(fmt.Sprintf("%s.service: Failed with result 'exit-code'.", u.Name)),
		systemdLine("Failed to start "+u.Description+"."))
	now := time.Now()
	s.Active, s.Sub, s.Result, s.Since = stateFailed, "failed", "exit-code", now
	s.MainPID, s.SupervisorPID, s.SupervisorStart = 0, 0, 0
	s.ExecMainPID, s.ExecMainCode, s.ExecMainStatus = os.Getpid(), "exited", status
	writeState(p, s) //nolint:errcheck // nothing more to do
	return exitFailure
}

// journalLines turns the service's output into journal entries.
func journalLines(p paths, r io.Reader, ident string, pid int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	host := hostname()
	for sc.Scan() {
		appendJournal(p, JournalEntry{Time: time.Now(), Host: host, Ident: ident, PID: pid, Msg: sc.Text()}) //nolint:errcheck // best effort
	}
}

func credential(name string) (*syscall.Credential, error) {
	usr, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %s: %w", name, err)
	}
	uid, err := strconv.ParseUint(usr.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", name, usr.Uid, err)
	}
	gid, err := strconv.ParseUint(usr.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", name, usr.Gid, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := usr.GroupIds(); err == nil { // initgroups, as systemd does for User=
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return cred, nil
}

// ended returns unit u's state final once its main process pid has ended (code
// "exited", "killed" or "dumped" with status), and the journal lines
// systemd writes for that end: inactive after a clean exit or a requested
// stop by a clean signal, failed otherwise (Result timeout kept when the
// stop timed out).
func ended(u Unit, final unitState, pid int, code string, status int) (unitState, []JournalEntry) {
	final.MainPID, final.MainStart, final.SupervisorPID, final.SupervisorStart = 0, 0, 0, 0
	final.ExecMainPID, final.ExecMainCode, final.ExecMainStatus = pid, code, status
	final.ExitedAt, final.Since = time.Now(), time.Now()
	var lines []JournalEntry
	if successfulExit(u, code, status, final.StopRequested) && final.Result != "timeout" {
		final.Active, final.Sub, final.Result = stateInactive, "dead", "success"
		lines = append(lines, systemdLine(u.Name+".service: Deactivated successfully."))
	} else {
		statusText := strconv.Itoa(status) + "/n/a"
		if n, ok := exitStatusNames[status]; ok && code == "exited" {
			statusText = strconv.Itoa(status) + "/" + n
		}
		if code != "exited" {
			statusText = strconv.Itoa(status) + "/" + signalName(status)
		}
		result := "exit-code"
		if code != "exited" {
			result = "signal"
		}
		if final.Result == "timeout" {
			result = "timeout"
		}
		final.Active, final.Sub, final.Result = stateFailed, "failed", result
		lines = append(lines,
			systemdLine(fmt.Sprintf("%s.service: Main process exited, code=%s, status=%s", u.Name, code, statusText)),
			systemdLine(fmt.Sprintf("%s.service: Failed with result '%s'.", u.Name, result)))
	}
	if final.StopRequested {
		lines = append(lines, systemdLine("Stopped "+u.Description+"."))
	}
	final.StopRequested = false
	return final, lines
}
