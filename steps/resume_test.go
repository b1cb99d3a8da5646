package steps

import (
	"errors"
	"testing"
)

func TestResumeCommand(t *testing.T) {
	fail := errors.New("step cassandra: node2: connection lost")
	for _, c := range []struct {
		sum  RunSummary
		want string
	}{
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "restore", Err: fail}, "hotsnap resume 20261122-230000-abcdef"},
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "backup", Err: fail}, "hotsnap resume 20261122-230000-abcdef"},
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "restore"}, ""},
		{RunSummary{RunID: "20261122-230000-abcdef", Runbook: "preflight", Err: fail}, ""},
		{RunSummary{Runbook: "restore", Err: fail}, ""},
	} {
		if got := ResumeCommand(c.sum); got != c.want {
			t.Errorf("ResumeCommand(%s, err=%v) = %q, want %q", c.sum.Runbook, c.sum.Err, got, c.want)
		}
	}
}
