package thehive

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/rs/zerolog"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// standinBinary links the test binary as "thehive-standin" so TestMain runs Main.
func standinBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "thehive-standin")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return link
}

type backends struct {
	cqlAddr string
	node    *cassandra.Node
	es      *elastic.Cluster
	esURL   string
}

func startBackends(t *testing.T) *backends {
	t.Helper()
	zerolog.SetGlobalLevel(zerolog.ErrorLevel)
	cqlPort := freePort(t)
	node, err := cassandra.NewNode(cassandra.Config{DataDir: filepath.Join(t.TempDir(), "data"), ListenAddress: "127.0.0.1",
		CQLPort: cqlPort, ControlPort: freePort(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Stop)
	es, err := elastic.NewCluster(t.TempDir(), elastic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(elastic.NewHandler(es, "es1"))
	t.Cleanup(srv.Close)
	return &backends{cqlAddr: "127.0.0.1:" + strconv.Itoa(cqlPort), node: node, es: es, esURL: srv.URL}
}

func getStatus(url string) (int, string) {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileContains(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}

func TestServiceLifecycle(t *testing.T) {
	be := startBackends(t)
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	httpPort := freePort(t)
	logFile := filepath.Join(t.TempDir(), "log", "application.log")
	u := TheHiveUnit([]string{standinBinary(t), "--listen", "127.0.0.1:" + strconv.Itoa(httpPort), "--cql", be.cqlAddr,
		"--es", be.esURL, "--log", logFile, "--name", "node1", "--check-interval", "150ms"})
	u.TimeoutStopSec = 10
	if err := WriteUnit(dir, u); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysctl(t, "stop", "thehive") })
	statusURL := fmt.Sprintf("http://127.0.0.1:%d/api/status", httpPort)

	if code, out, _ := sysctl(t, "is-active", "thehive"); code != 3 || out != "inactive\n" {
		t.Errorf("is-active before start = %d %q, want 3 inactive", code, out)
	}
	if code, _, errs := sysctl(t, "start", "thehive"); code != 0 {
		t.Fatalf("start = %d: %s", code, errs)
	}
	if code, out, _ := sysctl(t, "is-active", "thehive.service"); code != 0 || out != "active\n" {
		t.Errorf("is-active = %d %q, want 0 active", code, out)
	}
	if code, out, _ := sysctl(t, "is-active", "-q", "thehive"); code != 0 || out != "" {
		t.Errorf("is-active -q = %d %q, want 0 and no output", code, out)
	}
	s, err := readState(paths{dir, "thehive"})
	if err != nil || s.MainPID == 0 {
		t.Fatalf("state after start: %+v, %v", s, err)
	}
	pid := s.MainPID

	// Neither the keyspace nor the index exists: unhealthy, with the driver's error in the log.
	eventually(t, "missing-keyspace error in the log", func() bool {
		return fileContains(logFile, "[WARN] from org.thp.scalligraph.utils.Retry in main [|] An error occurs (com.datastax.oss.driver.api.core.servererrors.InvalidQueryException: Keyspace 'thehive' does not exist), retrying (")
	})
	if code, body := getStatus(statusURL); code != http.StatusServiceUnavailable || !strings.Contains(body, "Keyspace 'thehive' does not exist") {
		t.Errorf("/api/status without keyspace = %d %s", code, body)
	}
	if !fileContains(logFile, "[INFO] from play.core.server.AkkaHttpServer in main [|] Listening for HTTP on /127.0.0.1:"+strconv.Itoa(httpPort)) {
		t.Error("log lacks the Listening for HTTP line")
	}

	if _, err := be.node.Store().CreateKeyspace(cassandra.JanusGraphKeyspace("thehive", 1, 1), true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "missing-index error in the log", func() bool {
		return fileContains(logFile, "index_not_found_exception: no such index [thehive_global]), retrying (")
	})
	if code, body := getStatus(statusURL); code != http.StatusServiceUnavailable || !strings.Contains(body, "no such index [thehive_global]") {
		t.Errorf("/api/status without index = %d %s", code, body)
	}

	if err := be.es.Seed("thehive_global", 10, 4096); err != nil {
		t.Fatal(err)
	}
	var body string
	eventually(t, "healthy /api/status", func() bool {
		var code int
		code, body = getStatus(statusURL)
		return code == http.StatusOK
	})
	if body != string(StatusJSON()) {
		t.Errorf("/api/status body = %s", body)
	}

	code, out, _ := sysctl(t, "status", "--no-pager", "thehive")
	t.Logf("systemctl status thehive:\n%s", out)
	if code != 0 {
		t.Errorf("status exit = %d, want 0", code)
	}
	for _, want := range []string{
		"● thehive.service - Scalable, Open Source and Free Security Incident Response Solutions\n",
		"     Loaded: loaded (/usr/lib/systemd/system/thehive.service; enabled; vendor preset: enabled)\n",
		"     Active: active (running) since ",
		"       Docs: https://thehive-project.org\n",
		fmt.Sprintf("   Main PID: %d (", pid),
		"     CGroup: /system.slice/thehive.service\n",
		fmt.Sprintf("             └─%d ", pid),
		"systemd[1]: Started Scalable, Open Source and Free Security Incident Response Solutions.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}

	// The journal holds systemd's lines and the console log of the service.
	code, out, _ = journal(t, "-u", "thehive", "--no-pager")
	if code != 0 || !strings.HasPrefix(out, "-- Logs begin at ") ||
		!strings.Contains(out, fmt.Sprintf("thehive[%d]: [warn] o.t.s.u.Retry [|] An error occurs (", pid)) ||
		!strings.Contains(out, "systemd[1]: Starting Scalable, Open Source and Free Security Incident Response Solutions...") {
		t.Errorf("journalctl -u thehive = %d:\n%s", code, out)
	}
	_, out, _ = journal(t, "-u", "thehive", "-n", "3")
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("journalctl -n 3 printed %d lines, want header + 3:\n%s", n, out)
	}

	if code, _, errs := sysctl(t, "stop", "thehive"); code != 0 {
		t.Fatalf("stop = %d: %s", code, errs)
	}
	if alive(pid, 0) {
		t.Errorf("pid %d still running after stop", pid)
	}
	if code, out, _ := sysctl(t, "is-active", "thehive"); code != 3 || out != "inactive\n" {
		t.Errorf("is-active after stop = %d %q, want 3 inactive", code, out)
	}
	code, out, _ = sysctl(t, "status", "thehive")
	t.Logf("systemctl status thehive after stop:\n%s", out)
	if code != 3 || !strings.HasPrefix(out, "○ thehive.service") || !strings.Contains(out, "Active: inactive (dead) since ") ||
		!strings.Contains(out, fmt.Sprintf("Main PID: %d (code=exited, status=143)", pid)) ||
		!strings.Contains(out, "systemd[1]: Stopped Scalable, Open Source and Free Security Incident Response Solutions.") {
		t.Errorf("status after stop = %d:\n%s", code, out)
	}
	if code, _ := getStatus(statusURL); code != 0 { // 0: connection refused
		t.Errorf("/api/status still answers after stop (%d)", code)
	}
	if code, _, _ := sysctl(t, "stop", "thehive"); code != 0 {
		t.Errorf("second stop = %d, want 0", code)
	}
}

func TestServiceFailures(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	closed := freePort(t) // nothing listens here
	logFile := filepath.Join(t.TempDir(), "application.log")
	u := TheHiveUnit([]string{standinBinary(t), "--listen", "127.0.0.1:" + strconv.Itoa(freePort(t)), "--cql", "127.0.0.1:" + strconv.Itoa(closed),
		"--es", "http://127.0.0.1:" + strconv.Itoa(closed), "--log", logFile, "--check-interval", "100ms", "--startup-timeout", "400ms"})
	if err := WriteUnit(dir, u); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysctl(t, "stop", "thehive") })
	if code, _, errs := sysctl(t, "start", "thehive"); code != 0 {
		t.Fatalf("start = %d: %s", code, errs)
	}
	eventually(t, "the service to give up", func() bool {
		_, out, _ := sysctl(t, "is-active", "thehive")
		return out == "failed\n"
	})
	if code, _, _ := sysctl(t, "is-active", "thehive"); code != 3 {
		t.Errorf("is-active failed exit = %d, want 3", code)
	}
	// The journal's "Main process exited" line follows the state by a
	// moment (systemd too writes it after the unit's state changed).
	var code int
	var out string
	eventually(t, "the journal to say the main process exited", func() bool {
		code, out, _ = sysctl(t, "status", "thehive")
		return strings.Contains(out, "thehive.service: Main process exited")
	})
	if code != 3 || !strings.HasPrefix(out, "× thehive.service") || !strings.Contains(out, "Active: failed (Result: exit-code) since ") ||
		!strings.Contains(out, "(code=exited, status=255)") ||
		!strings.Contains(out, "thehive.service: Main process exited, code=exited, status=255/n/a") {
		t.Errorf("status of a failed start = %d:\n%s", code, out)
	}
	if !fileContains(logFile, "com.datastax.oss.driver.api.core.AllNodesFailedException: Could not reach any contact point, make sure you've provided valid addresses (showing first 1 nodes, use getAllErrors() for more): Node(endPoint=/127.0.0.1:"+strconv.Itoa(closed)+", hostId=null") {
		b, _ := os.ReadFile(logFile)
		t.Errorf("log lacks AllNodesFailedException:\n%s", b)
	}

	// A missing executable fails the start like a Type=exec unit (203/EXEC).
	bad := TheHiveUnit([]string{"/nonexistent/thehive"})
	bad.Name = "broken"
	if err := WriteUnit(dir, bad); err != nil {
		t.Fatal(err)
	}
	code, _, errs := sysctl(t, "start", "broken.service")
	if code != 1 || !strings.HasPrefix(errs, "Job for broken.service failed because the control process exited with error code.\n") {
		t.Errorf("start of a missing binary = %d %q", code, errs)
	}
	_, out, _ = sysctl(t, "status", "broken")
	if !strings.Contains(out, "(code=exited, status=203/EXEC)") || !strings.Contains(out, "broken.service: Failed at step EXEC spawning /nonexistent/thehive: No such file or directory") {
		t.Errorf("status of broken unit:\n%s", out)
	}
}

func TestSystemctlUnknownUnitsAndUsage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"status", "nosuch"}, 4, "", "Unit nosuch.service could not be found.\n"},
		{[]string{"is-active", "nosuch"}, 4, "inactive\n", ""},
		{[]string{"is-enabled", "nosuch"}, 1, "", "Failed to get unit file state for nosuch.service: No such file or directory\n"},
		{[]string{"start", "nosuch"}, 5, "", "Failed to start nosuch.service: Unit nosuch.service not found.\n"},
		{[]string{"stop", "nosuch.service"}, 5, "", "Failed to stop nosuch.service: Unit nosuch.service not loaded.\n"},
		{[]string{"frobnicate", "thehive"}, 1, "", "Unknown command verb frobnicate.\n"},
		{[]string{"start"}, 1, "", "Too few arguments.\n"},
	} {
		code, out, errs := sysctl(t, tc.args...)
		if code != tc.code || out != tc.stdout || errs != tc.stderr {
			t.Errorf("systemctl %v = %d %q %q, want %d %q %q", tc.args, code, out, errs, tc.code, tc.stdout, tc.stderr)
		}
	}
	if err := WriteUnit(dir, TheHiveUnit([]string{"/bin/true"})); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := sysctl(t, "is-enabled", "thehive"); code != 0 || out != "enabled\n" {
		t.Errorf("is-enabled = %d %q", code, out)
	}
	code, out, _ := sysctl(t, "status", "thehive")
	want := "○ thehive.service - Scalable, Open Source and Free Security Incident Response Solutions\n" +
		"     Loaded: loaded (/usr/lib/systemd/system/thehive.service; enabled; vendor preset: enabled)\n" +
		"     Active: inactive (dead)\n" +
		"       Docs: https://thehive-project.org\n"
	if code != 3 || out != want {
		t.Errorf("status of a never-started unit = %d\n%s\nwant\n%s", code, out, want)
	}
	for _, bad := range []Unit{{Name: "../x", ExecStart: []string{"/bin/true"}}, {Name: "x", ExecStart: []string{"relative"}}, {Name: "x"}} {
		if err := WriteUnit(dir, bad); err == nil {
			t.Errorf("WriteUnit(%+v) succeeded, want an error", bad)
		}
	}
}

func TestDaemonUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--listen", "127.0.0.1:0", "--cql", "nohostport", "--es", "http://127.0.0.1:1"},
		{"--listen", "127.0.0.1:0", "--cql", "127.0.0.1:1", "--es", "ftp://x"},
		{"--listen", "127.0.0.1:0", "--cql", "127.0.0.1:1", "--es", "http://127.0.0.1:1", "--cql-password-file", "/nonexistent/pw"},
	} {
		var errb bytes.Buffer
		if code := runDaemon(context.Background(), args, io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "usage:") {
			t.Errorf("runDaemon(%q) = %d, %q; want 2 with usage", args, code, errb.String())
		}
	}
}

func TestSystemctlShowMainPID(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	var out, errb bytes.Buffer
	if code := SystemctlMain([]string{"show", "-p", "MainPID", "--value", "thehive"}, &out, &errb); code != 0 || out.String() != "0\n" {
		t.Fatalf("unknown unit: exit %d, %q %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := SystemctlMain([]string{"show", "-p", "ActiveState", "thehive"}, &out, &errb); code != 0 || out.String() != "ActiveState=inactive\n" {
		t.Fatalf("ActiveState: exit %d, %q", code, out.String())
	}
	// An installed unit's user, working directory and unit file.
	if err := WriteUnit(dir, Unit{Name: "a4c", ExecStart: []string{"/bin/true"}, User: "a4c", WorkingDirectory: "/opt/a4c/alien4cloud",
		FragmentPath: "/etc/systemd/system/a4c.service"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := SystemctlMain([]string{"show", "-p", "User", "-p", "WorkingDirectory", "-p", "FragmentPath", "a4c"}, &out, &errb); code != 0 ||
		out.String() != "User=a4c\nWorkingDirectory=/opt/a4c/alien4cloud\nFragmentPath=/etc/systemd/system/a4c.service\n" {
		t.Fatalf("User, WorkingDirectory, FragmentPath: exit %d, %q %q", code, out.String(), errb.String())
	}
}

// A stop whose supervisor was killed from outside is recorded as the
// supervisor would have: SIGTERM on a requested stop is a clean end, with
// the main process, signal and systemd's journal lines.
func TestStopAfterTheSupervisorDied(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	if err := WriteUnit(dir, Unit{Name: "sleeper", Description: "A sleeper", ExecStart: []string{"/bin/sleep", "300"}}); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := sysctl(t, "start", "sleeper"); code != 0 {
		t.Fatalf("start: %d %s %s", code, out, errs)
	}
	s, err := readState(paths{dir, "sleeper"})
	if err != nil || s.SupervisorPID == 0 || s.MainPID == 0 {
		t.Fatalf("state after start: %+v %v", s, err)
	}
	main := s.MainPID
	syscall.Kill(s.SupervisorPID, syscall.SIGKILL)
	waitGone(s.SupervisorPID, 5*time.Second)
	if code, out, errs := sysctl(t, "stop", "sleeper"); code != 0 {
		t.Fatalf("stop: %d %s %s", code, out, errs)
	}
	us, err := ReadStatus("/proc", dir, "sleeper")
	if err != nil || us.Active != stateInactive || us.Sub != "dead" || us.Result != "success" ||
		us.ExecMainPID != main || us.ExecMainCode != "killed" || us.ExecMainStatus != int(syscall.SIGTERM) {
		t.Errorf("status after stop: %+v %v", us, err)
	}
	_, out, _ := journal(t, "-u", "sleeper", "--no-pager")
	for _, want := range []string{"sleeper.service: Deactivated successfully.", "Stopped A sleeper."} {
		if !strings.Contains(out, want) {
			t.Errorf("journal lacks %q:\n%s", want, out)
		}
	}
}

// TestStateNamesProcessesByPIDAndStart: a unit's state names its main
// process and supervisor by PID and start time; a live process that has
// another start time (one that took the PID since, as in a lab node's
// PID namespace made anew) is not the unit's, and the unit reads failed.
func TestStateNamesProcessesByPIDAndStart(t *testing.T) {
	dir := t.TempDir()
	self := os.Getpid()
	start, err := procStart(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		s      unitState
		active string
	}{
		{"supervisor, same start", unitState{SupervisorPID: self, SupervisorStart: start}, stateActive},
		{"supervisor, other start", unitState{SupervisorPID: self, SupervisorStart: start + 1}, stateFailed},
		{"main, same start", unitState{MainPID: self, MainStart: start}, stateActive},
		{"main and supervisor, other starts", unitState{MainPID: self, MainStart: start + 1, SupervisorPID: self, SupervisorStart: start + 1}, stateFailed},
	} {
		c.s.Active, c.s.Sub = stateActive, "running"
		if err := writeState(paths{dir, "u"}, c.s); err != nil {
			t.Fatal(err)
		}
		if us, err := ReadStatus("/proc", dir, "u"); err != nil || us.Active != c.active {
			t.Errorf("%s: ReadStatus = %+v %v, want %s", c.name, us, err, c.active)
		}
	}
}

// TestStopWaitsForTheWholeGroup: as systemd empties the unit's cgroup, a
// stop is not done while a child that ignores SIGTERM outlives the main
// process (a JVM under "bash -c", as Alien4Cloud's unit runs it); after
// TimeoutStopSec the group is killed and the unit failed with timeout.
func TestStopWaitsForTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	u := Unit{Name: "stubborn", Description: "A stubborn child", TimeoutStopSec: 1,
		ExecStart: []string{"/bin/bash", "-c", `(trap "" TERM; exec /bin/sleep 300) & echo $! > ` + filepath.Join(dir, "child.pid") + `; wait`}}
	if err := WriteUnit(dir, u); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := sysctl(t, "start", "stubborn"); code != 0 {
		t.Fatalf("start: %d %s %s", code, out, errs)
	}
	var child int
	eventually(t, "the child's pid file", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && child > 0
	})
	t0 := time.Now()
	if code, out, errs := sysctl(t, "stop", "stubborn"); code != 0 {
		t.Fatalf("stop: %d %s %s", code, out, errs)
	}
	if d := time.Since(t0); d < time.Second {
		t.Errorf("stop returned after %s, before TimeoutStopSec, with the child alive", d)
	}
	if alive(child, 0) {
		t.Errorf("child %d survived the stop", child)
	}
	us, err := ReadStatus("/proc", dir, "stubborn")
	if err != nil || us.Active != stateFailed || us.Result != "timeout" {
		t.Errorf("status after a timed-out stop: %+v %v", us, err)
	}
	if _, out, _ := journal(t, "-u", "stubborn", "--no-pager"); !strings.Contains(out, "stubborn.service: State 'stop-sigterm' timed out. Killing.") {
		t.Errorf("journal:\n%s", out)
	}
}
