package service

import (
	"context"
	"strings"
	"testing"

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
