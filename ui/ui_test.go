package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/steps"
)

func TestLineApprover(t *testing.T) {
	for _, c := range []struct {
		in          string
		destructive bool
		want        bool
	}{
		{"yes\n", false, true}, {"Y\n", false, true}, {"no\n", false, false}, {"\n", false, false},
		{"prod\n", true, true}, {"yes\n", true, false}, {"Prod\n", true, false},
	} {
		var out bytes.Buffer
		ok, err := LineApprover{In: strings.NewReader(c.in), Out: &out}.Approve(context.Background(), steps.GateRequest{Destructive: c.destructive, Cluster: "prod"})
		if err != nil || ok != c.want {
			t.Errorf("answer %q destructive=%v: got %v %v, want %v", c.in, c.destructive, ok, err, c.want)
		}
		if c.destructive && !strings.Contains(out.String(), "Type the cluster name (prod)") {
			t.Errorf("prompt %q does not ask for the cluster name", out.String())
		}
	}
}

func TestPlainAndJSONCarryTheSameFacts(t *testing.T) {
	var p, j bytes.Buffer
	for _, r := range []steps.Reporter{NewPlain(&p), NewJSON(&j)} {
		info := steps.StepInfo{Index: 2, Total: 5, ID: "ring", Title: "Cassandra ring"}
		r.RunStarted("run1", "preflight", []steps.StepInfo{info})
		r.StepStarted(info)
		r.CheckReported(steps.CheckResult{StepID: "ring", Check: "ring state", Node: "node3", Status: steps.CheckFail, Evidence: "DN 10.0.0.13", Remedy: "start cassandra"})
		r.StepFinished(info, steps.StepResult{ID: "ring", State: steps.StateDone, Duration: time.Second})
		r.RunFinished(steps.RunSummary{RunID: "run1", Err: errors.New("preflight failed"), Checks: []steps.CheckResult{{Status: steps.CheckFail}}})
	}
	for _, want := range []string{"[2/5] Cassandra ring", "✗ FAIL node3", "DN 10.0.0.13", "→ start cassandra", "FAILED", "1 fail"} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("plain output lacks %q:\n%s", want, p.String())
		}
	}
	var events []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(j.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		events = append(events, m)
	}
	if len(events) != 5 || events[2]["event"] != "check" || events[4]["error"] != "preflight failed" {
		t.Fatalf("json events: %v", events)
	}
	chk := events[2]["check"].(map[string]any)
	if chk["status"] != "fail" || chk["remedy"] != "start cassandra" || chk["node"] != "node3" || chk["evidence"] != "DN 10.0.0.13" ||
		chk["check"] != "ring state" || chk["step"] != "ring" {
		t.Fatalf("check event: %v", chk)
	}
}

// TestPlainChecksAreATable: the plain printer lays the checks out as a
// table (verdict, node, check, evidence in columns; the remedy under the
// evidence) and ends with the checks that did not pass; the JSON printer
// carries the same facts, one check event each.
func TestPlainChecksAreATable(t *testing.T) {
	checks := []steps.CheckResult{
		{StepID: "ssh", Check: "ssh+sudo", Node: "node1", Status: steps.CheckPass, Evidence: "sudo to root works"},
		{StepID: "ssh", Check: "ssh+sudo", Node: "node2", Status: steps.CheckFail, Evidence: "HOST KEY CHANGED", Remedy: "ssh-keygen -R 10.0.0.12"},
		{StepID: "cql", Check: "replication", Status: steps.CheckWarn, Evidence: "RF 2 on 3 nodes", Remedy: "ALTER KEYSPACE"},
		{StepID: "repository", Check: "repository space", Node: "repository", Status: steps.CheckPass, Evidence: "60 GiB free"},
	}
	var p, j bytes.Buffer
	for _, r := range []steps.Reporter{NewPlain(&p), NewJSON(&j)} {
		for _, c := range checks {
			r.CheckReported(c)
		}
		r.RunFinished(steps.RunSummary{Checks: checks})
	}
	lines := strings.Split(p.String(), "\n")
	want := []string{
		"  ✓ PASS node1      ssh+sudo              sudo to root works",
		"  ✗ FAIL node2      ssh+sudo              HOST KEY CHANGED",
		"                                          → ssh-keygen -R 10.0.0.12",
		"  ! WARN cluster    replication           RF 2 on 3 nodes",
		"                                          → ALTER KEYSPACE",
		"  ✓ PASS repository repository space      60 GiB free",
		"",
		"not passing (2 of 4 checks):",
		"  ✗ FAIL node2      ssh+sudo              HOST KEY CHANGED",
		"                                          → ssh-keygen -R 10.0.0.12",
		"  ! WARN cluster    replication           RF 2 on 3 nodes",
		"                                          → ALTER KEYSPACE",
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("plain line %d:\n got %q\nwant %q\nall:\n%s", i, lines[min(i, len(lines)-1)], w, p.String())
		}
	}
	// Every evidence and remedy of the table is in the JSON, with its node.
	var got []steps.CheckResult
	for _, l := range strings.Split(strings.TrimSpace(j.String()), "\n") {
		var ev struct {
			Event string             `json:"event"`
			Check *steps.CheckResult `json:"check"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event == "check" {
			got = append(got, *ev.Check)
		}
	}
	if len(got) != len(checks) {
		t.Fatalf("json checks %v", got)
	}
	for i := range checks {
		if got[i] != checks[i] {
			t.Errorf("json check %d = %+v, want %+v", i, got[i], checks[i])
		}
	}
}

// TestPlainAndJSONTellTheStepsAStepMakes: plain says how many steps a step
// made and the new total; JSON emits steps_added with them.
func TestPlainAndJSONTellTheStepsAStepMakes(t *testing.T) {
	var p, j bytes.Buffer
	added := []steps.StepInfo{{Index: 3, Total: 5, ID: "verify-backup", Title: "Verify"}, {Index: 4, Total: 5, ID: "cassandra", Title: "Restore the keyspace"}}
	NewPlain(&p).StepsAdded("read-backup", added)
	NewJSON(&j).StepsAdded("read-backup", added)
	if !strings.Contains(p.String(), "→ 2 steps made from what it found: 5 in all") {
		t.Errorf("plain: %q", p.String())
	}
	var e struct {
		Event string           `json:"event"`
		Step  string           `json:"step"`
		Steps []steps.StepInfo `json:"steps"`
	}
	if err := json.Unmarshal(j.Bytes(), &e); err != nil || e.Event != "steps_added" || e.Step != "read-backup" || len(e.Steps) != 2 || e.Steps[1].ID != "cassandra" || e.Steps[1].Total != 5 {
		t.Errorf("json: %v %+v", err, e)
	}
}
