package remotetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote"
)

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }
func (r *recorder) Cleanup(func())                    {}

func TestFakeRepliesAndRecords(t *testing.T) {
	f := New(t)
	f.Expect("node1", "nodetool status thehive").Stdout("UN  10.0.0.1\nUN  10.0.0.2\n")
	f.Expect("*", `^nodetool snapshot -t \S+ thehive$`).Regexp().Times(2).Exit(2).Stderr("error: Snapshot x already exists\n")

	var lines []string
	res, err := f.Run(context.Background(), "node1", remote.Command{Cmd: "nodetool status thehive", OnLine: func(l remote.Line) { lines = append(lines, l.Text) }})
	if err != nil || res.ExitCode != 0 || len(lines) != 2 || lines[1] != "UN  10.0.0.2" {
		t.Fatalf("status: res=%+v err=%v lines=%q", res, err, lines)
	}
	for _, n := range []string{"node2", "node3"} {
		_, err = f.Run(context.Background(), n, remote.Command{Cmd: "nodetool snapshot -t b1 thehive"})
		var ee *remote.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), n) {
			t.Fatalf("snapshot on %s: want ExitError 2 naming the node, got %v", n, err)
		}
	}
	if got := len(f.Calls()); got != 3 {
		t.Fatalf("calls = %d, want 3", got)
	}
}

func TestFakeFlagsUnexpectedAndUnused(t *testing.T) {
	rec := &recorder{TB: t}
	f := &Fake{t: rec}
	f.Expect("node1", "true")
	if _, err := f.Run(context.Background(), "node1", remote.Command{Cmd: "rm -rf /"}); err == nil {
		t.Fatal("unexpected command must return an error")
	}
	f.checkUsed()
	if len(rec.errs) != 2 {
		t.Fatalf("want 2 reported problems (unexpected, unused), got %d: %q", len(rec.errs), rec.errs)
	}
}
