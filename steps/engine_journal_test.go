package steps

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
)

// Every kind of secret a run knows: the Cassandra and Elasticsearch
// passwords, the attachment store's S3 keys, the S3 repository's keys, the
// sudo password.
var secretKinds = map[string]string{
	"cassandra password": "Cass-pw-1",
	"elasticsearch pw":   "Es-pw-2",
	"s3 access key":      "AKIAATTACHMENTS3",
	"s3 secret key":      "s3-secret-4/xyz",
	"repo s3 access key": "AKIAREPOSITORY05",
	"repo s3 secret key": "repo-secret-6",
	"sudo password":      "sudo-pw-7",
}

func secretValues() []string {
	var out []string
	for _, v := range secretKinds {
		out = append(out, v)
	}
	return append(out, "") // an empty secret (one not configured) masks nothing
}

// readJournal returns the journal's entries.
func readJournal(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// TestJournalRecordsAFailedRunAndRedactsEverySecret runs a runbook whose
// commands, output, checks and errors carry every kind of secret, fails it
// on one node, and reads the journal back: file and folder modes, the run's
// entries in order (steps, commands per node with exit codes and durations,
// checks, gate decisions, the error, the cleanup, the end), and no secret
// anywhere in it nor in what the reporter saw.
func TestJournalRecordsAFailedRunAndRedactsEverySecret(t *testing.T) {
	var vals []string
	for _, v := range secretKinds {
		vals = append(vals, v)
	}
	all := strings.Join(vals, " ")
	f := remotetest.New(t)
	f.Expect("node1", "check "+all).Stdout("seen " + all + "\n")
	f.Expect("node1", "snap "+all).Delay(20 * time.Millisecond)
	f.Expect("node2", "snap "+all).Delay(20 * time.Millisecond)
	f.Expect("node3", "snap "+all).Exit(2).Stderr("refused: " + all + "\n")
	f.Expect("*", "clear").Times(3)
	rb := Runbook{Name: "backup", Cluster: "prod", Params: map[string]string{"id": "b1"}, Steps: []Step{
		{ID: "check", Title: "check", Kind: KindCheck, Run: func(ctx context.Context, rc *RunContext) error {
			if _, err := rc.Run(ctx, "node1", remote.Command{Cmd: "check " + all}); err != nil {
				return err
			}
			rc.Check(CheckResult{Check: "auth", Node: "node1", Status: CheckWarn, Evidence: "login with " + all, Remedy: "rotate " + all})
			return nil
		}},
		{ID: "go", Title: "Start", Kind: KindGate, Gate: &GateRequest{Happens: "snapshots"}},
		{ID: "snap", Title: "snapshot", Kind: KindAction,
			Run: func(ctx context.Context, rc *RunContext) error {
				return rc.RunAll(ctx, nodes, func(string) remote.Command { return remote.Command{Cmd: "snap " + all} })
			},
			Cleanup: func(ctx context.Context, rc *RunContext) error {
				return rc.RunAll(ctx, nodes, func(string) remote.Command { return remote.Command{Cmd: "clear"} })
			}},
	}}
	dir := t.TempDir()
	j, err := OpenJournal(dir, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	e := &Engine{Exec: f, Reporter: rec, Gates: GatePolicy{Yes: true}, Journal: j, Secrets: secretValues()}
	runErr := e.Run(context.Background(), rb)
	j.Close()
	if runErr == nil || !strings.Contains(runErr.Error(), "node3") {
		t.Fatalf("run error %v, want node3's failure", runErr)
	}

	for p, want := range map[string]os.FileMode{j.Path: 0o600, filepath.Dir(j.Path): 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, st.Mode().Perm(), err, want)
		}
	}
	raw, _ := os.ReadFile(j.Path)
	masked := MaskError(runErr, secretValues()).Error()
	for kind, v := range secretKinds {
		if v == "" {
			continue
		}
		if strings.Contains(string(raw), v) {
			t.Errorf("the %s is in the journal:\n%s", kind, raw)
		}
		for _, ev := range rec.Events() {
			if strings.Contains(ev, v) {
				t.Errorf("the %s reached the reporter: %q", kind, ev)
			}
		}
		if strings.Contains(masked, v) {
			t.Errorf("the %s is in the masked run error %q", kind, masked)
		}
	}
	if !errors.Is(MaskError(runErr, secretValues()), runErr) {
		t.Error("the masked error no longer wraps the run's error")
	}

	// The entries, in order (the three snap commands in any order).
	var got []string
	for _, en := range readJournal(t, j.Path) {
		if en.Run != "run-1" || en.Time.IsZero() {
			t.Errorf("entry without run or time: %+v", en)
		}
		s := en.Type + " " + en.Step
		switch en.Type {
		case "run_started":
			s += en.Runbook + " " + en.Cluster + " id=" + en.Params["id"]
		case "command":
			if en.Exit == nil || en.Node == "" || (en.Cmd != "clear" && !strings.Contains(en.Cmd, "***")) {
				t.Errorf("command entry %+v", en)
			}
			if en.Cmd != "clear" && en.Step == "snap" && en.Node != "node3" && en.DurationMS < 20 {
				t.Errorf("command on %s took %d ms, want its duration (>= 20)", en.Node, en.DurationMS)
			}
			s += " " + en.Node
			if *en.Exit != 0 {
				s += " exit=2 " + en.Error
			}
			if en.Step == "snap" {
				s = "command snap" // the fan-out's order is the nodes'
			}
		case "check":
			s += " " + en.Node + " " + en.Check + " " + en.State + " " + en.Evidence
			if !strings.HasPrefix(en.Remedy, "rotate ") {
				t.Errorf("check entry without its (masked) remedy: %+v", en)
			}
		case "gate":
			s += " approved=" + map[bool]string{true: "yes", false: "no"}[*en.Approved] + " by " + en.By
		case "step_finished":
			s += " " + en.State
			if en.Error != "" {
				s += " " + en.Error
			}
		case "run_finished", "cleanup":
			s += " " + en.Error
		}
		got = append(got, strings.TrimSpace(s))
	}
	stars := strings.TrimSpace(strings.Repeat("*** ", len(secretKinds)))
	fixed := []string{
		"run_started backup prod id=b1",
		"step_started check",
		"command check node1",
		"check check node1 auth warn login with " + stars,
		"step_finished check done",
		"step_started go",
		"gate go approved=yes by --yes",
		"step_finished go done",
		"step_started snap",
		"command snap", "command snap", "command snap",
	}
	if len(got) < len(fixed)+6 {
		t.Fatalf("journal too short:\n%s", strings.Join(got, "\n"))
	}
	for i, w := range fixed {
		if !strings.HasPrefix(got[i], w) {
			t.Fatalf("entry %d = %q, want %q\nall:\n%s", i, got[i], w, strings.Join(got, "\n"))
		}
	}
	tail := got[len(fixed):]
	for i, w := range []string{"step_finished snap failed node3", "command snap", "command snap", "command snap", "cleanup snap", "run_finished  step snap: "} {
		if !strings.HasPrefix(tail[i], w) {
			t.Fatalf("entry %d = %q, want it to start with %q\nall:\n%s", len(fixed)+i, tail[i], w, strings.Join(got, "\n"))
		}
	}
	for _, l := range got {
		if strings.HasPrefix(l, "step_finished snap failed") && !strings.Contains(l, "exit status 2: refused: ***") {
			t.Errorf("the failure is not recorded with its cause: %q", l)
		}
	}
	if len(tail) != 6 {
		t.Errorf("entries after the cleanup: %q", tail[6:])
	}
}

// TestJournalRecordsTheCleanupOfACancelledRun: a cancelled run (Ctrl-C or
// SIGTERM cancel the context) records the step as canceled, runs the
// cleanup of the started step, records it, and ends with the cancellation.
func TestJournalRecordsTheCleanupOfACancelledRun(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive")
	f.Expect("*", "nodetool snapshot -t b1 thehive -pw x").Times(3).Delay(10 * time.Second)
	f.Expect("*", "nodetool clearsnapshot -t b1").Times(3)
	j, err := OpenJournal(t.TempDir(), "run-2")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = (&Engine{Exec: f, Reporter: &Recorder{}, Gates: GatePolicy{Yes: true, Confirm: "prod"}, Journal: j}).Run(ctx, snapshotRunbook("x"))
	j.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	var types []string
	for _, en := range readJournal(t, j.Path) {
		switch {
		case en.Type == "step_finished" && en.Step == "snap":
			types = append(types, "snap "+en.State)
		case en.Type == "cleanup":
			types = append(types, "cleanup "+en.Step+" "+en.Error)
		case en.Type == "command" && strings.Contains(en.Cmd, "clearsnapshot"):
			types = append(types, "clear "+en.Node)
		case en.Type == "run_finished":
			types = append(types, "end "+en.Error)
		}
	}
	got := strings.Join(types, "|")
	for _, w := range []string{"snap canceled|", "clear node1", "clear node2", "clear node3", "|cleanup snap |end step snap: "} {
		if !strings.Contains(got, w) {
			t.Fatalf("journal of the cancelled run lacks %q: %s", w, got)
		}
	}
	if !strings.HasSuffix(got, "context canceled") {
		t.Errorf("the run's end does not say it was cancelled: %s", got)
	}
	for _, c := range f.Calls() {
		if strings.Contains(c.Cmd, "DROP") {
			t.Fatal("a step after the cancelled one ran")
		}
	}
}

// TestFanOutRunsNodesAtOnce: RunAll and the preflight's per-node checks
// start every node's command together, not one after the other.
func TestFanOutRunsNodesAtOnce(t *testing.T) {
	const d = 300 * time.Millisecond
	f := remotetest.New(t)
	f.Expect("*", "sleep").Times(6).Delay(d)
	steps := []Step{
		{ID: "all", Title: "RunAll", Kind: KindAction, Run: func(ctx context.Context, rc *RunContext) error {
			return rc.RunAll(ctx, nodes, func(string) remote.Command { return remote.Command{Cmd: "sleep"} })
		}},
		{ID: "each", Title: "eachNode", Kind: KindCheck, Run: func(ctx context.Context, rc *RunContext) error {
			EachNode(rc, nodes, func(rc *RunContext, n string) {
				_, err := rc.Run(ctx, n, remote.Command{Cmd: "sleep"})
				rc.Check(CheckResult{Check: "slept", Node: n, Status: map[bool]CheckStatus{true: CheckPass, false: CheckFail}[err == nil]})
			})
			return nil
		}},
	}
	rec := &Recorder{}
	for _, s := range steps {
		start := time.Now()
		if err := (&Engine{Exec: f, Reporter: rec}).Run(context.Background(), Runbook{Name: "t", Steps: []Step{s}}); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 2*d {
			t.Errorf("%s: 3 nodes × %s took %s: not in parallel", s.ID, d, took)
		}
	}
	// eachNode reports in node order whatever the finishing order.
	var order []string
	for _, ev := range rec.Events() {
		if strings.HasPrefix(ev, "check each ") {
			order = append(order, ev)
		}
	}
	if strings.Join(order, ",") != "check each node1 slept pass,check each node2 slept pass,check each node3 slept pass" {
		t.Errorf("checks out of node order: %q", order)
	}
}

// TestGatePolicyWithoutATerminalNamesTheFlag: with no terminal and no flag,
// each kind of gate fails at once with the flag that would approve it, and
// the refusal is journaled.
func TestGatePolicyWithoutATerminalNamesTheFlag(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy GatePolicy
		gate   string
		want   string
	}{
		{"ordinary gate, no flag", GatePolicy{}, "go", `refused: no terminal to ask on; pass --yes to approve "Start the backup"`},
		{"ordinary gate, only --confirm", GatePolicy{Confirm: "prod"}, "go", "pass --yes"},
		{"destructive gate, only --yes", GatePolicy{Yes: true}, "wipe?", `refused: no terminal to ask on; pass --confirm prod to approve "Drop the keyspace"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := remotetest.New(t)
			f.Expect("node1", "nodetool status thehive").Always()
			f.Expect("*", "nodetool snapshot -t b1 thehive -pw x").Always()
			f.Expect("*", "nodetool clearsnapshot -t b1").Always()
			j, err := OpenJournal(t.TempDir(), "r")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- (&Engine{Exec: f, Reporter: &Recorder{}, Gates: c.policy, Journal: j}).Run(context.Background(), snapshotRunbook("x"))
			}()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the gate waited instead of failing")
			}
			j.Close()
			if !errors.Is(err, ErrGateDeclined) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			var gate *entry
			for _, en := range readJournal(t, j.Path) {
				if en.Type == "gate" && en.Step == c.gate {
					gate = &en
				}
			}
			if gate == nil || *gate.Approved || !strings.Contains(gate.By, c.want) {
				t.Fatalf("journal gate entry %+v, want a refusal naming %q", gate, c.want)
			}
		})
	}
}

// TestEngineMasksErrorsItself: with Secrets set, the errors and gate
// decisions the engine hands a plain reporter, the summary and the run's
// error carry no secret, and the run's error still wraps the cause.
func TestEngineMasksErrorsItself(t *testing.T) {
	const secret = "s3cret-pw"
	cause := errors.New("sstableloader -pw " + secret + " failed")
	var sum RunSummary
	rec := &summaryRecorder{Recorder: &Recorder{}, sum: &sum}
	rb := Runbook{Name: "t", Cluster: "prod", Steps: []Step{
		{ID: "go", Kind: KindGate, Gate: &GateRequest{Happens: "x"}},
		{ID: "load", Kind: KindAction,
			Run:     func(context.Context, *RunContext) error { return cause },
			Cleanup: func(context.Context, *RunContext) error { return errors.New("rm " + secret) }},
	}}
	e := &Engine{Exec: remotetest.New(t), Reporter: rec, Gates: GatePolicy{Yes: true}, Secrets: []string{secret}}
	runErr := e.Run(context.Background(), rb)
	if !errors.Is(runErr, cause) {
		t.Fatalf("run error %v does not wrap the cause", runErr)
	}
	texts := append([]string{runErr.Error(), sum.Err.Error()}, rec.Events()...)
	for _, r := range sum.Steps {
		if r.Err != nil {
			texts = append(texts, r.Err.Error())
		}
	}
	if !rec.Has("cleanup load rm ***") {
		t.Errorf("cleanup not reported masked: %q", rec.Events())
	}
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("the secret reached the reporter or the run's error: %q", s)
		}
	}
}

// summaryRecorder is a recorder that also keeps the run summary.
type summaryRecorder struct {
	*Recorder
	sum *RunSummary
}

func (r *summaryRecorder) RunFinished(s RunSummary) {
	*r.sum = s
	r.Recorder.RunFinished(s)
}
