package thehive

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeUnits installs units in a fresh service directory and stops them
// all when the test ends.
func writeUnits(t *testing.T, units ...Unit) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(ServiceDirEnv, dir)
	for _, u := range units {
		if err := WriteUnit(dir, u); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		names, _ := InstalledUnits(dir)
		for _, n := range names {
			sysctl(t, "stop", n)
		}
	})
	return dir
}

func sleeper(name, desc string) Unit {
	return Unit{Name: name, Description: desc, ExecStart: []string{"/bin/sleep", "600"}, TimeoutStopSec: 5, Enabled: true}
}

// TestListUnitsLayout: the table, legend and footer of systemd 252 as the
// samples show them (reference/real-outputs/eclecticiq
// systemctl-list-units-*): "  UNIT" header over a glyph column, columns one
// space apart, the failed row marked ●, the instances of a template as
// rows of their own, no trailing blanks; --plain drops the glyph column,
// --no-legend the header and footer, and inactive units show only with
// --all.
func TestListUnitsLayout(t *testing.T) {
	t.Setenv("LANG", "C.UTF-8")
	tmpl := Unit{Name: "getty@", Description: "Getty on %I", ExecStart: []string{"/bin/sleep", "600"}, TimeoutStopSec: 5}
	writeUnits(t, tmpl, sleeper("nut-driver@apc", "NUT device 'apc'"),
		Unit{Name: "boom", Description: "Fails at once", ExecStart: []string{"/bin/false"}},
		sleeper("idle", "Never started"))
	for _, u := range []string{"getty@tty1", "nut-driver@apc"} {
		if code, _, errs := sysctl(t, "start", u); code != 0 {
			t.Fatalf("start %s: %d %s", u, code, errs)
		}
	}
	sysctl(t, "start", "boom")
	eventually(t, "boom failed", func() bool {
		code, out, _ := sysctl(t, "is-failed", "boom")
		return code == 0 && out == "failed\n"
	})

	code, out, errs := sysctl(t, "list-units")
	want := "  UNIT                   LOAD   ACTIVE SUB     DESCRIPTION\n" +
		"● boom.service           loaded failed failed  Fails at once\n" +
		"  getty@tty1.service     loaded active running Getty on tty1\n" +
		"  nut-driver@apc.service loaded active running NUT device 'apc'\n" +
		"\n" +
		"LOAD   = Reflects whether the unit definition was properly loaded.\n" +
		"ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n" +
		"SUB    = The low-level unit activation state, values depend on unit type.\n" +
		"\n" +
		"3 loaded units listed. Pass --all to see loaded but inactive units, too.\n" +
		"To show all installed unit files use 'systemctl list-unit-files'.\n"
	if code != 0 || out != want || errs != "" {
		t.Errorf("list-units = %d\n%s\nwant\n%s(stderr %q)", code, out, want, errs)
	}
	// The mondoohq sample's rows: the same cells, one space apart.
	if !regexp.MustCompile(`(?m)^  getty@tty1\.service +loaded active running Getty on tty1$`).MatchString(out) {
		t.Errorf("instance row unlike the sample:\n%s", out)
	}

	_, out, _ = sysctl(t, "list-units", "--all", "--plain", "--no-legend", "*.service")
	want = "boom.service           loaded failed   failed  Fails at once\n" +
		"getty@tty1.service     loaded active   running Getty on tty1\n" +
		"idle.service           loaded inactive dead    Never started\n" +
		"nut-driver@apc.service loaded active   running NUT device 'apc'\n"
	if out != want {
		t.Errorf("list-units --all --plain --no-legend =\n%s\nwant\n%s", out, want)
	}
	_, out, _ = sysctl(t, "--all", "list-units", "idle*", "nomatch")
	if !strings.HasSuffix(out, "\n1 loaded units listed.\nTo show all installed unit files use 'systemctl list-unit-files'.\n") {
		t.Errorf("list-units --all footer:\n%s", out)
	}
	_, out, _ = sysctl(t, "list-units", "nomatch*")
	// The glyph column is as wide as its widest cell: empty here.
	if out != " UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed. Pass --all to see loaded but inactive units, too.\n"+
		"To show all installed unit files use 'systemctl list-unit-files'.\n" {
		t.Errorf("list-units without a match:\n%q", out)
	}
	// A pattern is matched against the full name: no ".service" is added.
	if _, out, _ = sysctl(t, "list-units", "--no-legend", "idle", "boom"); out != "" {
		t.Errorf("list-units idle boom = %q, want nothing (the names lack .service)", out)
	}
	// Outside a UTF-8 locale systemd draws "*" for the failed mark.
	t.Setenv("LANG", "C")
	t.Setenv("LC_ALL", "")
	if _, out, _ = sysctl(t, "list-units", "--no-legend", "boom.service"); out != "* boom.service loaded failed failed Fails at once\n" {
		t.Errorf("failed row in the C locale = %q", out)
	}
}

// TestGlobsAndTemplates: is-active with a glob prints one word per loaded
// match (exit 0 if any is active, 3 if none, 4 and no output if nothing
// matches, as systemctl-is-active.c); stop with a glob acts on every
// loaded match and one that matches nothing is a silent success; a
// template name gives systemd's errors (reference: systemctl-template-
// name-errors.txt); instances come from their template with %i set.
func TestGlobsAndTemplates(t *testing.T) {
	tmpl := Unit{Name: "eiq-worker@", Description: "Worker %i", ExecStart: []string{"/bin/sleep", "600"}, TimeoutStopSec: 5,
		Environment: []string{"QUEUE=%i"}}
	dir := writeUnits(t, tmpl, sleeper("eiq-workers", "All workers"))
	for _, u := range []string{"eiq-worker@a", "eiq-worker@b", "eiq-worker@c"} {
		if code, _, errs := sysctl(t, "start", u); code != 0 {
			t.Fatalf("start %s: %d %s", u, code, errs)
		}
	}
	if code, _, _ := sysctl(t, "stop", "eiq-worker@c"); code != 0 {
		t.Fatal("stop eiq-worker@c")
	}
	u, err := ReadUnit(dir, "eiq-worker@b")
	if err != nil || u.Description != "Worker b" || u.Environment[0] != "QUEUE=b" || u.FragmentPath != "/usr/lib/systemd/system/eiq-worker@.service" {
		t.Errorf("instance from template: %+v %v", u, err)
	}
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"is-active", "eiq-worker@*"}, 0, "active\nactive\ninactive\n", ""},
		{[]string{"is-active", "eiq-worker@c*"}, 3, "inactive\n", ""},
		{[]string{"is-active", "nothing-like-it@*"}, 4, "", ""},
		{[]string{"is-active", "eiq-worker@.service"}, 1, "",
			"Failed to retrieve unit state: Unit name eiq-worker@.service is neither a valid invocation ID nor unit name.\n"},
		{[]string{"status", "eiq-worker@"}, 1, "",
			"Failed to get properties: Unit name eiq-worker@.service is neither a valid invocation ID nor unit name.\n"},
		{[]string{"start", "eiq-worker@.service"}, 1, "",
			"Failed to start eiq-worker@.service: Unit name eiq-worker@.service is not valid.\n" +
				"See system logs and 'systemctl status eiq-worker@.service' for details.\n"},
		{[]string{"stop", "nothing-like-it*"}, 0, "", ""},
	} {
		code, out, errs := sysctl(t, tc.args...)
		if code != tc.code || out != tc.stdout || errs != tc.errs {
			t.Errorf("systemctl %v = %d %q %q, want %d %q %q", tc.args, code, out, errs, tc.code, tc.stdout, tc.errs)
		}
	}
	// The document's quoted glob stops the workers unit and every instance.
	if code, _, errs := sysctl(t, "stop", "eiq-worker*.service"); code != 0 {
		t.Fatalf("stop glob: %d %s", code, errs)
	}
	if code, out, _ := sysctl(t, "is-active", "eiq-worker*"); code != 3 || out != "inactive\ninactive\ninactive\ninactive\n" {
		t.Errorf("after the glob stop: %d %q", code, out)
	}
	code, _, errs := sysctl(t, "start", "eiq-worker@*")
	if code != 0 || !strings.HasPrefix(errs, "Warning: systemctl start called with a glob pattern.\n") {
		t.Errorf("start with a glob = %d %q", code, errs)
	}
}

// TestOneshotPartOfWants: a oneshot RemainAfterExit unit is "active
// exited" after its command; starting it starts what it Wants=, stopping
// it stops what is PartOf= it (and nothing else), all at once but in the
// reverse of their After= order; EnvironmentFile= is read
// at start (and ${NAME} in ExecStart= expanded), a missing one fails the
// start.
func TestOneshotPartOfWants(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "worker-env")
	if err := os.WriteFile(envFile, []byte("# settings\nGREETING=\"hello there\"\nEMPTY=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "env-out")
	group := Unit{Name: "grp", Description: "Group", ExecStart: []string{"/bin/true"}, Type: TypeOneshot, RemainAfterExit: true,
		Wants: []string{"part-a", "part-b@1", "part-c"}}
	order := filepath.Join(t.TempDir(), "stop-order")
	// part-a is ordered after part-b@1: it stops first. Each takes 0.6s to
	// stop; part-c, ordered after neither, stops at the same time as part-a.
	stopper := func(name string) []string {
		return []string{"/bin/sh", "-c", `trap 'sleep 0.6; echo ` + name + ` >>` + order + `; exit 0' TERM; touch ` + order + `.` + name +
			`; while :; do sleep 0.05; done`}
	}
	a := Unit{Name: "part-a", Description: "Part A", PartOf: []string{"grp.service"}, TimeoutStopSec: 5,
		After: []string{"part-b@1.service", "network.target"}, ExecStart: stopper("a")}
	part3 := Unit{Name: "part-c", Description: "Part C", PartOf: []string{"grp.service"}, TimeoutStopSec: 5, ExecStart: stopper("c")}
	b := Unit{Name: "part-b@", Description: "Part B %i", ExecStart: []string{"/bin/sh", "-c", "trap 'sleep 0.6; echo b >>" + order +
		"; exit 0' TERM; echo \"$0|$GREETING\" >" + out + "; while :; do sleep 0.05; done", "${GREETING}"},
		PartOf: []string{"grp"}, EnvironmentFile: []string{envFile, "-/nonexistent/optional"}, TimeoutStopSec: 5}
	other := sleeper("other", "Not a part")
	bad := sleeper("bad-env", "Missing environment file")
	bad.EnvironmentFile = []string{"/nonexistent/required"}
	writeUnits(t, group, a, b, part3, other, bad)

	if code, _, errs := sysctl(t, "start", "grp", "other"); code != 0 {
		t.Fatalf("start grp: %d %s", code, errs)
	}
	if code, outp, _ := sysctl(t, "is-active", "grp", "part-a", "part-b@1", "part-c", "other"); code != 0 || outp != "active\nactive\nactive\nactive\nactive\n" {
		t.Errorf("after start: %d %q", code, outp)
	}
	if _, outp, _ := sysctl(t, "list-units", "--plain", "--no-legend", "grp.service"); outp != "grp.service loaded active exited Group\n" {
		t.Errorf("oneshot row = %q", outp)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if string(b) == "hello there|hello there\n" { // ${GREETING} in ExecStart, $GREETING in the environment
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("part-b@1 saw %q, want %q", b, "hello there|hello there\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range []string{"a", "c"} { // their TERM traps are set
		eventually(t, "part-"+n+" ready", func() bool { _, err := os.Stat(order + "." + n); return err == nil })
	}
	start := time.Now()
	if code, _, errs := sysctl(t, "stop", "grp"); code != 0 {
		t.Fatalf("stop grp: %d %s", code, errs)
	}
	if d := time.Since(start); d > 1800*time.Millisecond {
		t.Errorf("stopping the parts took %s: part-a and part-c should stop together", d)
	}
	if code, outp, _ := sysctl(t, "is-active", "grp", "part-a", "part-b@1", "other"); code != 0 || outp != "inactive\ninactive\ninactive\nactive\n" {
		t.Errorf("after stop: %d %q, want the parts stopped and other running", code, outp)
	}
	// part-a (ordered after part-b@1) and part-c first, part-b@1 last.
	if b, err := os.ReadFile(order); err != nil || (string(b) != "a\nc\nb\n" && string(b) != "c\na\nb\n") {
		t.Errorf("stop order %q %v, want part-a and part-c, then part-b@1", b, err)
	}
	if code, _, errs := sysctl(t, "restart", "grp"); code != 0 {
		t.Fatalf("restart grp: %d %s", code, errs)
	}
	if code, outp, _ := sysctl(t, "is-active", "part-a", "part-b@1"); code != 0 || outp != "active\nactive\n" {
		t.Errorf("after restart: %d %q", code, outp)
	}
	if code, _, errs := sysctl(t, "start", "bad-env"); code != 1 || !strings.Contains(errs, "Job for bad-env.service failed") {
		t.Errorf("start with a missing EnvironmentFile = %d %q", code, errs)
	}
}
