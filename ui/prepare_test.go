package ui

import (
	"context"
	"testing"
)

// TestSecondEnterPreparesNothing: enter twice on Home before the job is
// ready builds one job, and a job that arrives when nobody waits for it any
// more is closed (its SSH pool released).
func TestSecondEnterPreparesNothing(t *testing.T) {
	c := testClock()
	cfg := testConfig(c)
	built := 0
	cfg.Operations[0].Job = func(context.Context) (*Job, error) { built++; return testJob(), nil }
	var m = newModel(cfg, NewTUI().b)
	m.width, m.height = 80, 24
	next, cmd1 := m.Update(key("enter"))
	next, cmd2 := next.Update(key("enter"))
	if cmd1 == nil || cmd2 != nil {
		t.Fatalf("first enter cmd=%v, second enter cmd=%v: want one command only", cmd1 != nil, cmd2 != nil)
	}
	msg := cmd1()
	if built != 1 {
		t.Fatalf("built %d jobs", built)
	}
	next, _ = next.Update(msg)
	if got := next.(model).screen; got != screenPlan {
		t.Fatalf("screen after the job is ready = %v, want the plan", got)
	}

	// A late job (prepared before the operator went on) is released.
	closed := false
	late := testJob()
	late.Close = func() { closed = true }
	next, _ = next.Update(jobReadyMsg{op: "backup", job: late})
	if !closed || next.(model).job == late {
		t.Errorf("a job nobody waits for: closed=%v, taken=%v", closed, next.(model).job == late)
	}
	// Back home, enter works again.
	next, _ = next.Update(key("esc"))
	if _, cmd := next.Update(key("enter")); cmd == nil {
		t.Error("enter on Home after going back prepares nothing")
	}
}
