package main

// End-to-end tests against the practice lab: real sshd per node, the hotsnap
// binary running inside the lab's op namespace. They need root; without it
// they skip, unless HOTSNAP_E2E_REQUIRED is set (CI), where they fail.
// HOTSNAP_NO_LAB=1 skips them as root too, for a quick unit-test run.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
)

// e2e is the lab shared by every end-to-end test of this package (its own
// name and subnet, so other packages' labs never collide with it).
var e2e struct {
	lab    *lab.Lab
	bin    string
	reason string // why e2e tests cannot run, when they cannot
}

var e2eLabOptions = lab.Options{Name: "hse2e", Subnet: 3, Nodes: 3, Data: 20 << 20}

func TestMain(m *testing.M) {
	os.Exit(runWithLab(m))
}

func runWithLab(m *testing.M) int {
	if os.Geteuid() != 0 {
		e2e.reason = "end-to-end tests need root (they build a lab of network namespaces)"
		return m.Run()
	}
	if os.Getenv("HOTSNAP_NO_LAB") != "" {
		// For a quick run of the unit tests while developing; CI sets
		// HOTSNAP_E2E_REQUIRED, which turns every skipped e2e test into a failure.
		e2e.reason = "HOTSNAP_NO_LAB is set"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hotsnap-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o711) // the lab users must reach their authorized_keys inside
	e2e.bin = filepath.Join(dir, "hotsnap")
	if out, err := exec.Command("go", "build", "-o", e2e.bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build hotsnap: %v\n%s", err, out)
		return 1
	}
	ctx := context.Background()
	unlock, err := lab.LockTestSuite(ctx, "main-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lock:", err)
		return 1
	}
	defer unlock()
	o := e2eLabOptions
	o.StateDir = filepath.Join(dir, "lab")
	o.Binary = e2e.bin
	_ = lab.Down(ctx, o) // a lab left over by an interrupted run
	l, err := lab.Up(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab up:", err)
		_ = lab.Down(ctx, o)
		return 1
	}
	e2e.lab = l
	code := m.Run()
	if err := lab.Down(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "lab down:", err)
		code = 1
	}
	return code
}

func needLab(t *testing.T) *lab.Lab {
	t.Helper()
	if e2e.lab == nil {
		if os.Getenv("HOTSNAP_E2E_REQUIRED") != "" {
			t.Fatalf("e2e required but cannot run: %s", e2e.reason)
		}
		t.Skip(e2e.reason)
	}
	return e2e.lab
}

// changedInventory writes into dir (a new temporary folder when "") the
// lab's inventory as change leaves it, as inv.yaml, and returns its path.
func changedInventory(t *testing.T, l *lab.Lab, dir string, change func(*config.Inventory)) string {
	t.Helper()
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	change(inv)
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, "inv.yaml")
	if err := config.Write(p, inv); err != nil {
		t.Fatal(err)
	}
	return p
}

// ownLab brings up a lab of its own for the test (o without StateDir and
// Binary: they are filled in) and takes it down when the test ends.
func ownLab(t *testing.T, o lab.Options) *lab.Lab {
	t.Helper()
	if e2e.bin == "" {
		if os.Getenv("HOTSNAP_E2E_REQUIRED") != "" {
			t.Fatalf("e2e required but cannot run: %s", e2e.reason)
		}
		t.Skip(e2e.reason)
	}
	dir, err := os.MkdirTemp("", "hotsnap-e2e-"+o.Name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil { // the lab users reach their authorized_keys inside
		t.Fatal(err)
	}
	o.StateDir, o.Binary = filepath.Join(dir, "lab"), e2e.bin
	ctx := context.Background()
	_ = lab.Down(ctx, o) // left over by an interrupted run
	l, err := lab.Up(ctx, o)
	t.Cleanup(func() {
		if err := lab.Down(context.Background(), o); err != nil {
			t.Errorf("lab down %s: %v", o.Name, err)
		}
	})
	if err != nil {
		t.Fatalf("lab up %s: %v", o.Name, err)
	}
	return l
}

// hotsnapInOp runs the hotsnap binary inside the lab's op namespace.
func hotsnapInOp(ctx context.Context, l *lab.Lab, args ...string) *exec.Cmd {
	return l.OpCommand(ctx, e2e.bin, args...)
}

// hotsnapOK runs hotsnap in the lab's op namespace and returns its
// output; its failing fails t, with the output.
func hotsnapOK(t *testing.T, l *lab.Lab, args ...string) string {
	t.Helper()
	out, err := hotsnapInOp(t.Context(), l, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("hotsnap %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type execRecord struct {
	Node     string `json:"node"`
	Addr     string `json:"addr"`
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	Error    string `json:"error"`
}

func runJSON(t *testing.T, cmd *exec.Cmd) (map[string]execRecord, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	recs := map[string]execRecord{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r execRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v (stderr: %s)", sc.Text(), err, errb.String())
		}
		recs[r.Node] = r
	}
	return recs, code
}

func TestE2EExecHostnameOnEveryNode(t *testing.T) {
	l := needLab(t)
	recs, code := runJSON(t, hotsnapInOp(t.Context(), l, "exec", "--json", "--", "hostname"))
	if code != 0 {
		t.Fatalf("exit %d: %+v", code, recs)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		if got := strings.TrimSpace(recs[n].Stdout); got != n {
			t.Errorf("%s: hostname = %q (record %+v)", n, got, recs[n])
		}
	}
	// The human format groups output per node.
	out, err := hotsnapInOp(t.Context(), l, "exec", "--", "hostname").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		if !strings.Contains(string(out), "── "+n+" (") || !strings.Contains(string(out), "\n   "+n+"\n") {
			t.Errorf("grouped output lacks %s:\n%s", n, out)
		}
	}
}

func TestE2EChangedHostKeyRefusesNodeAndRunsNothingThere(t *testing.T) {
	l := needLab(t)
	ctx := t.Context()
	if _, err := l.RotateHostKey(ctx, "node2"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.WriteKnownHosts(); err != nil {
			t.Errorf("restore known_hosts: %v", err)
		}
	})
	marker := fmt.Sprintf("hostkey-marker-%d", time.Now().UnixNano())
	recs, code := runJSON(t, hotsnapInOp(ctx, l, "exec", "--json", "--accept-new-hosts", "--sudo", "--", "touch /var/lib/cassandra/"+marker))
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	if e := recs["node2"].Error; !strings.Contains(e, "HOST KEY CHANGED") || !strings.Contains(e, "node2 ("+l.Nodes[1].IP+":22)") {
		t.Fatalf("node2 error = %q", e)
	}
	for _, n := range []string{"node1", "node3"} {
		if recs[n].ExitCode != 0 {
			t.Errorf("%s should have run: %+v", n, recs[n])
		}
	}
	for n, want := range map[string]bool{"node1": true, "node2": false, "node3": true} {
		err := l.NodeCommand(ctx, n, "test", "-e", "/var/lib/cassandra/"+marker).Run()
		if (err == nil) != want {
			t.Errorf("%s: marker present=%v, want %v", n, err == nil, want)
		}
	}
}

func TestE2ECancelStopsRemoteSleep(t *testing.T) {
	l := needLab(t)
	for _, sudo := range []bool{false, true} {
		t.Run(fmt.Sprintf("sudo=%v", sudo), func(t *testing.T) {
			ctx := t.Context()
			sleepArg := fmt.Sprintf("%d", 300+time.Now().Nanosecond()%600)
			args := []string{"exec", "--", "sleep " + sleepArg}
			if sudo {
				args = []string{"exec", "--sudo", "--", "sleep " + sleepArg}
			}
			cmd := hotsnapInOp(ctx, l, args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, 10*time.Second, "sleep running on every node", func() bool { return countSleeps(t, l, sleepArg) == 3 })
			cmd.Process.Signal(syscall.SIGINT)
			start := time.Now()
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitAborted {
				t.Fatalf("want exit %d after SIGINT, got %v\n%s", exitAborted, err, out.String())
			}
			waitUntil(t, 5*time.Second-time.Since(start), "no sleep left on the nodes", func() bool { return countSleeps(t, l, sleepArg) == 0 })
		})
	}
}

// countSleeps counts `sleep ARG` processes (the lab has no PID namespaces,
// so one look from here sees every node's processes; ARG is unique to the test).
func countSleeps(t *testing.T, _ *lab.Lab, arg string) int {
	out, _ := exec.CommandContext(t.Context(), "pgrep", "-x", "-f", "sleep "+arg).Output()
	return len(strings.Fields(string(out)))
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestE2ESudoNoPasswordAndPassword(t *testing.T) {
	l := needLab(t)
	ctx := t.Context()
	recs, code := runJSON(t, hotsnapInOp(ctx, l, "exec", "--json", "--sudo", "--", "id -u"))
	if code != 0 {
		t.Fatalf("nopasswd sudo: exit %d %+v", code, recs)
	}
	for n, r := range recs {
		if strings.TrimSpace(r.Stdout) != "0" {
			t.Errorf("%s: id -u under sudo = %q", n, r.Stdout)
		}
	}
	// The password user: sudo needs the password, which goes over stdin.
	pwInv := changedInventory(t, l, "", func(inv *config.Inventory) {
		inv.SSH.User = lab.PasswordUser
		inv.SSH.SudoPassword = config.Secret{Kind: config.SecretFile, Ref: filepath.Join(l.StateDir, "sudo-password")}
	})
	recs, code = runJSON(t, hotsnapInOp(ctx, l, "exec", "--json", "--inventory", pwInv, "--sudo", "--", "id -un; cat"))
	if code != 0 {
		t.Fatalf("password sudo: exit %d %+v", code, recs)
	}
	pw, _ := l.SudoPassword()
	for n, r := range recs {
		if r.Stdout != "root\n" {
			t.Errorf("%s: stdout %q: want only \"root\" (the password must not reach the command's stdin)", n, r.Stdout)
		}
		if pw != "" && (strings.Contains(r.Stdout+r.Stderr+r.Error, pw)) {
			t.Errorf("%s: the sudo password leaked into the output", n)
		}
	}
	// Without the password, the error says what to set.
	noPw := changedInventory(t, l, "", func(inv *config.Inventory) {
		inv.SSH.User, inv.SSH.SudoPassword = lab.PasswordUser, config.Secret{}
	})
	recs, code = runJSON(t, hotsnapInOp(ctx, l, "exec", "--json", "--inventory", noPw, "--nodes", "node1", "--sudo", "--", "true"))
	if code != exitFailed || !strings.Contains(recs["node1"].Error, "ssh.sudo_password") {
		t.Fatalf("want a failure naming ssh.sudo_password, got exit %d %+v", code, recs)
	}
}

// TestE2EStream200MBFlatMemory streams 200 MB from node1 into a file through
// `exec --out` and checks the hash and hotsnap's peak RSS.
func TestE2EStream200MBFlatMemory(t *testing.T) {
	l := needLab(t)
	const size = 200 << 20
	gen := fmt.Sprintf("yes hotsnap-lab-stream-200 | head -c %d", size)
	want := sha256.New()
	src := exec.Command("sh", "-c", gen)
	pipe, _ := src.StdoutPipe()
	if err := src.Start(); err != nil {
		t.Fatal(err)
	}
	io.Copy(want, pipe)
	src.Wait()

	dir := t.TempDir()
	cmd := hotsnapInOp(t.Context(), l, "exec", "--nodes", "node1", "--out", dir, "--", gen)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "node1.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := sha256.New()
	n, _ := io.Copy(got, f)
	if n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("received %d bytes, sha256 %s; want %d bytes, %s", n, hex.EncodeToString(got.Sum(nil)), size, hex.EncodeToString(want.Sum(nil)))
	}
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	t.Logf("streamed %d MB; hotsnap peak RSS %.1f MB", size>>20, float64(maxRSS)/(1<<20))
	if maxRSS > 64<<20 {
		t.Fatalf("peak RSS %d MB, want < 64 MB", maxRSS>>20)
	}
}
