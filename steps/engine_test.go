package steps

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
)

type fixedApprover struct {
	ok    bool
	asked []GateRequest
}

func (a *fixedApprover) Approve(_ context.Context, g GateRequest) (bool, error) {
	a.asked = append(a.asked, g)
	return a.ok, nil
}

var nodes = []string{"node1", "node2", "node3"}

// snapshotRunbook: check, gate, fan-out action with cleanup, destructive gate, destructive action.
func snapshotRunbook(secret string) Runbook {
	return Runbook{Name: "test", Cluster: "prod", Steps: []Step{
		{ID: "check", Title: "check", Kind: KindCheck, Run: func(ctx context.Context, rc *RunContext) error {
			_, err := rc.Run(ctx, "node1", remote.Command{Cmd: "nodetool status thehive"})
			return err
		}},
		{ID: "go", Title: "Start the backup", Kind: KindGate, Gate: &GateRequest{Happens: "snapshots"}},
		{ID: "snap", Title: "snapshot", Kind: KindAction,
			Run: func(ctx context.Context, rc *RunContext) error {
				return rc.RunAll(ctx, nodes, func(n string) remote.Command {
					return remote.Command{Cmd: "nodetool snapshot -t b1 thehive -pw " + secret}
				})
			},
			Cleanup: func(ctx context.Context, rc *RunContext) error {
				return rc.RunAll(ctx, nodes, func(n string) remote.Command { return remote.Command{Cmd: "nodetool clearsnapshot -t b1"} })
			}},
		{ID: "wipe?", Title: "Drop the keyspace", Kind: KindGate, Gate: &GateRequest{Destructive: true, Loses: "the keyspace"}},
		{ID: "wipe", Title: "drop", Kind: KindAction, Destructive: true, Run: func(ctx context.Context, rc *RunContext) error {
			_, err := rc.Run(ctx, "node1", remote.Command{Cmd: "cqlsh -e 'DROP KEYSPACE thehive'"})
			return err
		}},
	}}
}

func TestEngineRunsInOrderWithFlags(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive").Stdout("UN 10.0.0.1\n")
	f.Expect("*", "nodetool snapshot -t b1 thehive -pw s3cret").Times(3).Stdout("Snapshot directory: b1\n")
	f.Expect("node1", "cqlsh -e 'DROP KEYSPACE thehive'")
	rec := &Recorder{}
	dir := t.TempDir()
	j, err := OpenJournal(dir, "run1")
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Exec: f, Reporter: rec, Gates: GatePolicy{Yes: true, Confirm: "prod"}, Journal: j, Secrets: []string{"s3cret"}}
	if err := e.Run(context.Background(), snapshotRunbook("s3cret")); err != nil {
		t.Fatal(err)
	}
	j.Close()
	want := []string{"start check", "finish check done", "gate go true --yes", "start snap", "finish snap done", "gate wipe? true --confirm", "finish wipe done", "end aborted=false err=false"}
	last := -1
	for _, w := range want {
		idx := -1
		for i, ev := range rec.Events() {
			if i > last && strings.HasPrefix(ev, w) {
				idx = i
				break
			}
		}
		if idx < 0 {
			t.Fatalf("event %q missing or out of order in %q", w, rec.Events())
		}
		last = idx
	}
	if !rec.Has("out check node1 UN 10.0.0.1") {
		t.Errorf("step output not reported: %q", rec.Events())
	}
	// Journal: 0600, JSON lines, commands with exit codes, secrets masked.
	st, _ := os.Stat(j.Path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(j.Path)
	if strings.Contains(string(raw), "s3cret") {
		t.Fatalf("secret in journal:\n%s", raw)
	}
	var cmds, gates int
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		var en entry
		if err := json.Unmarshal(sc.Bytes(), &en); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		switch en.Type {
		case "command":
			cmds++
			if en.Exit == nil || *en.Exit != 0 || en.Node == "" {
				t.Errorf("command entry %+v", en)
			}
			if strings.Contains(en.Cmd, "snapshot") && !strings.HasSuffix(en.Cmd, "-pw ***") {
				t.Errorf("secret not masked: %q", en.Cmd)
			}
		case "gate":
			gates++
		}
	}
	if cmds != 5 || gates != 2 {
		t.Fatalf("journal has %d commands and %d gates, want 5 and 2", cmds, gates)
	}
}

func TestGatePolicy(t *testing.T) {
	cases := []struct {
		name     string
		policy   GatePolicy
		approver *fixedApprover
		wantErr  string // "" = completes
	}{
		{"no tty no flags", GatePolicy{}, nil, "pass --yes"},
		{"yes but destructive without confirm", GatePolicy{Yes: true}, nil, "pass --confirm prod"},
		{"wrong confirm", GatePolicy{Yes: true, Confirm: "staging"}, nil, `does not match the cluster name "prod"`},
		{"tty approves", GatePolicy{}, &fixedApprover{ok: true}, ""},
		{"tty declines", GatePolicy{}, &fixedApprover{ok: false}, "declined by the operator"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := remotetest.New(t)
			f.Expect("node1", "nodetool status thehive").Always()
			f.Expect("*", "nodetool snapshot -t b1 thehive -pw x").Always()
			f.Expect("*", "nodetool clearsnapshot -t b1").Always()
			f.Expect("node1", "cqlsh -e 'DROP KEYSPACE thehive'").Always()
			p := c.policy
			if c.approver != nil {
				p.Approver = c.approver
			}
			rec := &Recorder{}
			err := (&Engine{Exec: f, Reporter: rec, Gates: p}).Run(context.Background(), snapshotRunbook("x"))
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrGateDeclined) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want ErrGateDeclined containing %q", err, c.wantErr)
			}
			for _, call := range f.Calls() {
				if strings.Contains(call.Cmd, "DROP") {
					t.Fatal("the destructive step ran after a refused gate")
				}
			}
		})
	}
}

func TestFailureRunsCleanupOfStartedSteps(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive")
	f.Expect("node1", "nodetool snapshot -t b1 thehive -pw x")
	f.Expect("node2", "nodetool snapshot -t b1 thehive -pw x").Exit(2).Stderr("error: Snapshot b1 already exists\n")
	f.Expect("node3", "nodetool snapshot -t b1 thehive -pw x")
	f.Expect("*", "nodetool clearsnapshot -t b1").Times(3)
	rec := &Recorder{}
	err := (&Engine{Exec: f, Reporter: rec, Gates: GatePolicy{Yes: true, Confirm: "prod"}}).Run(context.Background(), snapshotRunbook("x"))
	if err == nil || !strings.Contains(err.Error(), "step snap") || !strings.Contains(err.Error(), "node2") || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("error should name step, node and cause: %v", err)
	}
	if !rec.Has("cleanup snap <nil>") || !rec.Has("finish snap failed") {
		t.Fatalf("events: %q", rec.Events())
	}
}

func TestCancelRunsCleanupAndStops(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", "nodetool status thehive")
	f.Expect("*", "nodetool snapshot -t b1 thehive -pw x").Times(3).Delay(10 * time.Second)
	f.Expect("*", "nodetool clearsnapshot -t b1").Times(3)
	rec := &Recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := (&Engine{Exec: f, Reporter: rec, Gates: GatePolicy{Yes: true, Confirm: "prod"}}).Run(ctx, snapshotRunbook("x"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("cancel did not stop the run promptly")
	}
	if !rec.Has("finish snap canceled") || !rec.Has("cleanup snap <nil>") || !rec.Has("end aborted=true") {
		t.Fatalf("events: %q", rec.Events())
	}
}

func TestDestructiveStepNeedsADestructiveGate(t *testing.T) {
	rb := Runbook{Name: "bad", Cluster: "prod", Steps: []Step{
		{ID: "g", Kind: KindGate, Gate: &GateRequest{}},
		{ID: "drop", Kind: KindAction, Destructive: true, Run: func(context.Context, *RunContext) error { return nil }},
	}}
	err := (&Engine{Exec: remotetest.New(t), Reporter: &Recorder{}, Gates: GatePolicy{Yes: true, Confirm: "prod"}}).Run(context.Background(), rb)
	if err == nil || !strings.Contains(err.Error(), "no destructive gate comes before it") {
		t.Fatalf("got %v", err)
	}
}

func TestSkipSkipsAGateOrAStep(t *testing.T) {
	ran := false
	rec := &Recorder{}
	e := &Engine{Exec: remotetest.New(t), Reporter: rec}
	rb := Runbook{Name: "t", Cluster: "prod", Steps: []Step{
		{ID: "ask", Kind: KindGate, Gate: &GateRequest{Happens: "x"}, Skip: func() string { return "the queues drained" }},
		{ID: "do", Kind: KindAction, Run: func(context.Context, *RunContext) error { ran = true; return nil }, Skip: func() string { return "" }},
	}}
	if err := e.Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	if !ran || !rec.Has("out ask  skipped: the queues drained") || !rec.Has("finish ask skipped") {
		t.Fatalf("ran %v, events %v", ran, rec.Events())
	}
}
