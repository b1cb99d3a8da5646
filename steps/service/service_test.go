package service

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/steps"
)

var unit = Unit{Name: "thehive", Label: "TheHive", Port: 9000, URL: "http://127.0.0.1:9000", Health: "/api/status"}

// TestCommands: the commands are those the restore has always run on a
// TheHive node.
func TestCommands(t *testing.T) {
	if got, want := unit.StopCmd(), `systemctl stop thehive; for i in $(seq 1 60); do systemctl is-active --quiet thehive || break; sleep 1; done`; got != want {
		t.Errorf("StopCmd = %q", got)
	}
	want := `echo "state=$(systemctl is-active thehive)"; ` +
		`pid=$(systemctl show -p MainPID --value thehive 2>/dev/null); ` +
		`if [ -n "$pid" ] && [ "$pid" != 0 ] && kill -0 "$pid" 2>/dev/null; then echo process=yes; else echo process=no; fi; ` +
		`if (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null; then echo port=open; else echo port=closed; fi`
	if got := unit.StoppedProbe(); got != want {
		t.Errorf("StoppedProbe = %q", got)
	}
}

// TestStopProvesItStopped: a node whose port still answers after the stop
// fails the step, naming the node and saying nothing was changed.
func TestStopProvesItStopped(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("*", unit.StopCmd()).WithSudo(true).Times(2)
	probe := "bash -c " + remote.Quote(unit.StoppedProbe())
	f.Expect("node1", probe).WithSudo(true).Stdout("state=inactive\nprocess=no\nport=closed\n")
	f.Expect("node2", probe).WithSudo(true).Stdout("state=inactive\nprocess=no\nport=open\n")
	rec := &steps.Recorder{}
	err := (&steps.Engine{Exec: f, Reporter: rec}).Run(context.Background(), steps.Runbook{Name: "t", Steps: []steps.Step{{ID: "stop", Kind: steps.KindAction,
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			return unit.Stop(ctx, rc, []string{"node1", "node2"})
		}}}})
	if err == nil || !strings.Contains(err.Error(), "node2: TheHive did not stop (state=inactive, process=no, port=open)") || !strings.Contains(err.Error(), "nothing has been changed") {
		t.Fatalf("error %v", err)
	}
	if !rec.Has("out stop node1 TheHive stopped: state=inactive, process=no, port=closed") {
		t.Errorf("events %q", rec.Events())
	}
}

// TestStopHasADeadline: a `systemctl stop` that does not return (a unit
// ignoring SIGTERM, in its stop timeout) fails at --timeout-stop, naming
// the node, what it waited for and the flag; the other node stops.
func TestStopHasADeadline(t *testing.T) {
	f := remotetest.New(t)
	f.Expect("node1", unit.StopCmd()).WithSudo(true).Delay(time.Hour)
	f.Expect("node2", unit.StopCmd()).WithSudo(true)
	f.Expect("node2", "bash -c "+remote.Quote(unit.StoppedProbe())).WithSudo(true).Stdout("state=inactive\nprocess=no\nport=closed\n")
	t0 := time.Now()
	err := (&steps.Engine{Exec: f, Reporter: &steps.Recorder{}, Timeouts: map[string]time.Duration{steps.DeadlineStop.Flag: 200 * time.Millisecond}}).Run(context.Background(),
		steps.Runbook{Name: "t", Steps: []steps.Step{{ID: "stop", Kind: steps.KindAction,
			Run: func(ctx context.Context, rc *steps.RunContext) error {
				return unit.Stop(ctx, rc, []string{"node1", "node2"})
			}}}})
	if !errors.Is(err, steps.ErrDeadline) || time.Since(t0) > 5*time.Second {
		t.Fatalf("Stop = %v after %s, want the deadline at 200ms", err, time.Since(t0))
	}
	for _, want := range []string{"node1: deadline passed", "`systemctl stop thehive` to return", "TimeoutStopSec", "200ms", "--timeout-stop", "nothing has been changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}

// TestWaitHealthyFlagOverridesTheRunbooksDefault: --timeout-health, when
// given, replaces the runbook's own wait, and the error names the node,
// the last answer and the flag.
func TestWaitHealthyFlagOverridesTheRunbooksDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer srv.Close()
	u := unit
	u.URL = srv.URL
	env := &steps.Env{Dial: func(string) remote.DialFunc { return nil }}
	t0 := time.Now()
	err := (&steps.Engine{Exec: remotetest.New(t), Reporter: &steps.Recorder{}, Timeouts: map[string]time.Duration{steps.DeadlineHealth.Flag: 300 * time.Millisecond}}).Run(context.Background(),
		steps.Runbook{Name: "t", Steps: []steps.Step{{ID: "health", Kind: steps.KindAction,
			Run: func(ctx context.Context, rc *steps.RunContext) error {
				return u.WaitHealthy(ctx, rc, env, []string{"node1"}, 50*time.Millisecond, time.Hour)
			}}}})
	if !errors.Is(err, steps.ErrDeadline) || time.Since(t0) > 5*time.Second {
		t.Fatalf("WaitHealthy = %v after %s, want the flag's 300ms, not the runbook's hour", err, time.Since(t0))
	}
	for _, want := range []string{"node1: deadline passed: TheHive not healthy after 300ms", "503", "--timeout-health"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}
