package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/hotsnap/hotsnap/steps"
)

// s3Choice is the restore's S3 choice gate as the engine asks it.
var s3Choice = steps.GateRequest{StepID: "choose-s3", Title: "Keep or remove objects created after the backup",
	Happens: "every object of the backup is written back into s3://thehive; objects created after the backup (counted before TheHive stopped): 3 objects (1.2 MiB); keep them, or remove them for an exact copy",
	Loses:   "nothing yet: the choice is acted on only after the destructive gate", Rollback: "decline (esc) to stop here: nothing has been changed",
	Default: "keep", Cluster: "lab-thehive", Choices: []steps.GateChoice{
		{Key: "keep", Label: "keep the objects created after the backup"},
		{Key: "exact", Label: "remove them: an exact copy of the backup", Flag: "--s3-exact", Destructive: true}}}

func TestChoiceGateKeys(t *testing.T) {
	for _, tc := range []struct {
		name     string
		def      string
		keys     []tea.Msg
		want     string
		answered bool
	}{
		{"enter takes the default", "keep", []tea.Msg{key("enter")}, "keep", true},
		{"the cursor starts on the default", "exact", []tea.Msg{key("enter")}, "exact", true},
		{"down, enter", "keep", []tea.Msg{key("down"), key("enter")}, "exact", true},
		{"j, k, enter", "keep", []tea.Msg{key("j"), key("k"), key("enter")}, "keep", true},
		{"down stops at the last", "keep", []tea.Msg{key("down"), key("down"), key("enter")}, "exact", true},
		{"up stops at the first", "keep", []tea.Msg{key("up"), key("enter")}, "keep", true},
		{"2 selects, enter takes", "keep", append(keysOf("2"), key("enter")), "exact", true},
		{"1 selects", "exact", append(keysOf("1"), key("enter")), "keep", true},
		{"a number alone does not answer", "keep", keysOf("2"), "", false},
		{"y does not answer", "keep", keysOf("y3"), "", false},
		{"esc declines", "keep", []tea.Msg{key("down"), key("esc")}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pick := make(chan string, 1)
			req := s3Choice
			req.Default = tc.def
			m := update(running(&fakeClock{}, "restore"), gateAskMsg{pick: pick, req: req})
			m = update(m, tc.keys...)
			checkAnswer(t, m, pick, tc.answered, tc.want)
		})
	}
}

func TestChoiceGateAbortDeclines(t *testing.T) {
	pick := make(chan string, 1)
	m := update(running(&fakeClock{}, "restore"), gateAskMsg{pick: pick, req: s3Choice})
	m = update(m, abortMsg{})
	if got := <-pick; got != "" || m.(model).gate != nil {
		t.Fatalf("abort answered %q, want a decline", got)
	}
}

func TestTUIChoose(t *testing.T) {
	tui := NewTUI()
	if _, err := tui.Choose(context.Background(), s3Choice); err == nil {
		t.Fatal("Choose with no program must refuse")
	}
	tui.b.attach(func(msg tea.Msg) {
		if a, ok := msg.(gateAskMsg); ok && a.pick != nil && len(a.req.Choices) == 2 {
			a.pick <- a.req.Choices[1].Key
		}
	})
	if k, err := tui.Choose(context.Background(), s3Choice); err != nil || k != "exact" {
		t.Fatalf("Choose = %q %v, want exact", k, err)
	}
}

func TestLineApproverChoose(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2\n", "exact"}, {"1\n", "keep"}, {"\n", "keep"}, {"exact\n", "exact"}, {"3\n", ""}, {"yes\n", ""}, {"", "keep"},
	} {
		var out bytes.Buffer
		k, err := LineApprover{In: strings.NewReader(c.in), Out: &out}.Choose(context.Background(), s3Choice)
		if err != nil || k != c.want {
			t.Errorf("answer %q: got %q %v, want %q", c.in, k, err, c.want)
		}
		for _, want := range []string{"1) keep the objects created after the backup (default)", "2) remove them: an exact copy of the backup (--s3-exact; removes data",
			"Choose 1-2 (enter: 1)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("prompt lacks %q:\n%s", want, out.String())
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, w := io.Pipe()
	defer w.Close()
	if _, err := (LineApprover{In: r, Out: &bytes.Buffer{}}).Choose(ctx, s3Choice); err == nil {
		t.Error("a cancelled ctx must end the question")
	}
}

func TestPlainAndJSONCarryTheChoice(t *testing.T) {
	var p, j bytes.Buffer
	d := steps.GateDecision{Approved: true, By: "--s3-exact", Choice: "exact"}
	for _, r := range []steps.Reporter{NewPlain(&p), NewJSON(&j)} {
		r.GateRequested(s3Choice)
		r.GateDecided(s3Choice, d)
	}
	for _, want := range []string{"choice keep: keep the objects created after the backup (the default, --yes)", "choice exact: remove them: an exact copy of the backup (--s3-exact)",
		"chose exact: remove them: an exact copy of the backup (--s3-exact)"} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("plain output lacks %q:\n%s", want, p.String())
		}
	}
	lines := strings.Split(strings.TrimSpace(j.String()), "\n")
	var req, dec struct {
		Event  string             `json:"event"`
		Gate   *steps.GateRequest `json:"gate"`
		Choice string             `json:"choice"`
		By     string             `json:"by"`
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &req) != nil || json.Unmarshal([]byte(lines[1]), &dec) != nil {
		t.Fatalf("json events: %s", j.String())
	}
	if req.Gate == nil || len(req.Gate.Choices) != 2 || req.Gate.Default != "keep" || req.Gate.Choices[1].Flag != "--s3-exact" || !req.Gate.Choices[1].Destructive {
		t.Errorf("gate_requested: %s", lines[0])
	}
	if dec.Event != "gate_decided" || dec.Choice != "exact" || dec.By != "--s3-exact" {
		t.Errorf("gate_decided: %s", lines[1])
	}
}
