package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/hotsnap/hotsnap/steps"
)

// fakeClock is the wizard's clock in tests: it moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// testClock is the clock of the golden screens: 2026-11-22 21:30 UTC.
func testClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 22, 21, 30, 0, 0, time.UTC)} }

func testConfig(c *fakeClock) Config {
	return Config{
		Title: "hotsnap test",
		Now:   c.now,
		Inventory: Inventory{Path: "/etc/hotsnap/lab.yaml", Platform: "thehive", Cluster: "lab-thehive", Nodes: []Node{
			{Name: "node1", Host: "10.77.3.11", Roles: []string{"cassandra", "elasticsearch", "thehive", "files"}},
			{Name: "node2", Host: "10.77.3.12", Roles: []string{"cassandra", "elasticsearch"}},
			{Name: "node3", Host: "10.77.3.13", Roles: []string{"cassandra", "elasticsearch"}},
		}},
		Operations: []Operation{
			{Key: "backup", Title: "Back up now", Review: true, Help: "preflight, review the plan, one gate, a summary",
				Job: func(context.Context) (*Job, error) { return testJob(), nil }},
			{Key: "preflight", Title: "Preflight only", Help: "every check on every node, live; changes nothing",
				Job: func(context.Context) (*Job, error) { return testJob(), nil }},
			{Key: "list", Title: "List the backups", Text: func(context.Context) (string, error) { return "ID  SIZE\nb1  20 MiB", nil }},
			{Key: "restore", Title: "Restore", Disabled: "not built yet"},
		},
	}
}

func testJob() *Job {
	plan := func(cmd string, sudo bool) func() []steps.PlannedCommand {
		return func() []steps.PlannedCommand {
			var out []steps.PlannedCommand
			for _, n := range []string{"node1", "node2", "node3"} {
				out = append(out, steps.PlannedCommand{Node: n, Cmd: cmd, Sudo: sudo})
			}
			return out
		}
	}
	return &Job{
		Runbook: steps.Runbook{Name: "backup", Cluster: "lab-thehive", Steps: []steps.Step{
			{ID: "ring", Title: "Cassandra ring", Kind: steps.KindCheck, Why: "Every node must be UN before a snapshot, or the backup misses data.", Plan: plan("nodetool status thehive", true)},
			{ID: "approve", Title: "Start the backup", Kind: steps.KindGate, Gate: &steps.GateRequest{Happens: "snapshot every node under tag b1"}},
			{ID: "snapshot", Title: "Snapshot Cassandra and Elasticsearch", Kind: steps.KindAction, Why: "One tag everywhere, started together.", Plan: plan("nodetool snapshot -t b1 thehive", true)},
			{ID: "stream", Title: "Stream every table into the repository", Kind: steps.KindAction, Plan: plan("tar -C /var/lib/cassandra/data/thehive -cf - .", true)},
		}},
		Run: func(ctx context.Context, rep steps.Reporter, ap steps.Approver) error { return nil },
	}
}

var backupSteps = []steps.StepInfo{
	{Index: 1, Total: 5, ID: "ssh", Title: "SSH and sudo on every node", Kind: steps.KindCheck, Component: "host"},
	{Index: 2, Total: 5, ID: "ring", Title: "Cassandra ring", Kind: steps.KindCheck, Component: "cassandra"},
	{Index: 3, Total: 5, ID: "approve", Title: "Start the backup", Kind: steps.KindGate, Component: "backup"},
	{Index: 4, Total: 5, ID: "stream", Title: "Stream every table into the repository", Kind: steps.KindAction, Component: "cassandra"},
	{Index: 5, Total: 5, ID: "manifest", Title: "Write manifest.json", Kind: steps.KindAction, Component: "repository"},
}

// update feeds msgs to m in order.
func update(m tea.Model, msgs ...tea.Msg) tea.Model {
	for _, msg := range msgs {
		m, _ = m.Update(msg)
	}
	return m
}

func key(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func typeText(m tea.Model, s string) tea.Model {
	for _, r := range s {
		m = update(m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

func view(m tea.Model) string { return ansi.Strip(m.View().Content) }

// running returns the model on the Run screen of a job, as the wizard is
// right after the operator picked it (the work itself is not started).
func running(c *fakeClock, op string) model {
	m := newModel(testConfig(c), &bridge{})
	return m.startJob(testJob(), op)
}

func checks(status map[string]steps.CheckStatus) []tea.Msg {
	var out []tea.Msg
	for _, name := range []string{"ssh", "sudo", "clock skew", "ring state", "free disk"} {
		for _, n := range []string{"node1", "node2", "node3"} {
			st := steps.CheckPass
			if s, ok := status[name+"/"+n]; ok {
				st = s
			}
			r := steps.CheckResult{StepID: "pre", Check: name, Node: n, Status: st, Evidence: name + " ok on " + n}
			if st != steps.CheckPass {
				r.Evidence, r.Remedy = "DN 10.77.3.13", "start cassandra on "+n+": systemctl start cassandra"
			}
			out = append(out, checkMsg{r: r})
		}
	}
	return append(out, checkMsg{r: steps.CheckResult{StepID: "pre", Check: "replication factor", Status: steps.CheckPass, Evidence: "RF 3 = 3 nodes"}})
}

// screens builds every screen the golden files hold.
func screens(c *fakeClock) map[string]func() tea.Model {
	started := func(m tea.Model) tea.Model {
		return update(m, runStartedMsg{runID: "20261122-213000-a1b2c3", runbook: "backup", steps: backupSteps})
	}
	done := func(m tea.Model, n int) tea.Model {
		for _, s := range backupSteps[:n] {
			m = update(m, stepStartedMsg{info: s})
			c.advance(300 * time.Millisecond)
			m = update(m, stepFinishedMsg{info: s, res: steps.StepResult{ID: s.ID, State: steps.StateDone, Duration: 300 * time.Millisecond}})
		}
		return m
	}
	streaming := func() tea.Model {
		m := done(started(running(c, "backup")), 3)
		m = update(m, stepStartedMsg{info: backupSteps[3]})
		for _, n := range []string{"node1", "node2", "node3"} {
			m = update(m, stepProgressMsg{step: "stream", node: n, done: 0, total: 20 << 20, unit: "bytes"})
		}
		c.advance(2 * time.Second)
		m = update(m,
			stepProgressMsg{step: "stream", node: "node1", done: 10 << 20, total: 20 << 20, unit: "bytes"},
			stepProgressMsg{step: "stream", node: "node2", done: 20 << 20, total: 20 << 20, unit: "bytes"},
			stepProgressMsg{step: "stream", node: "node3", done: 4 << 20, total: 20 << 20, unit: "bytes"},
			stepOutputMsg{step: "stream", node: "node1", line: "thehive/table1-1234: 3 files"},
			stepOutputMsg{step: "stream", node: "node2", line: "thehive/table1-1234: 3 files"},
		)
		return m
	}
	return map[string]func() tea.Model{
		"home": func() tea.Model { return newModel(testConfig(c), &bridge{}) },
		"home_no_inventory": func() tea.Model {
			cfg := testConfig(c)
			cfg.Inventory = Inventory{Problem: "no inventory found: ./hotsnap.yaml, ~/.config/hotsnap/inventory.yaml"}
			return update(newModel(cfg, &bridge{}), key("down"))
		},
		"plan": func() tea.Model {
			m := newModel(testConfig(c), &bridge{})
			return update(m, jobReadyMsg{op: "backup", job: testJob()})
		},
		"preflight_live": func() tea.Model {
			m := update(running(c, "preflight"), runStartedMsg{runID: "r1", runbook: "preflight", steps: backupSteps[:2]})
			msgs := checks(map[string]steps.CheckStatus{"ring state/node3": steps.CheckFail, "clock skew/node2": steps.CheckWarn})
			m = update(m, msgs[:10]...)
			return update(m, key("down"), key("down"))
		},
		"run_progress": streaming,
		"gate": func() tea.Model {
			m := done(started(running(c, "backup")), 2)
			m = update(m, stepStartedMsg{info: backupSteps[2]})
			return update(m, gateAskMsg{reply: make(chan bool, 1), req: steps.GateRequest{StepID: "approve", Title: "Start the backup",
				Happens: "snapshot keyspace and index on every node under tag b1, stream every table into /mnt/backup, then clear the snapshots",
				Nodes:   []string{"node1", "node2", "node3"}, Rollback: "nothing to roll back: a backup only reads", Cluster: "lab-thehive"}})
		},
		"gate_destructive": func() tea.Model {
			m := done(started(running(c, "backup")), 2)
			m = update(m, gateAskMsg{reply: make(chan bool, 1), req: steps.GateRequest{StepID: "approve", Title: "Remove 2 old backups",
				Happens: "delete b1 and b2 and their Elasticsearch snapshots", Nodes: []string{"node1"}, Loses: "2 backups (40 MiB)",
				Rollback: "none: removed backups are gone", Destructive: true, Cluster: "lab-thehive"}})
			return update(typeText(m, "lab-th"), key("enter"))
		},
		"abort_confirm": func() tea.Model { return update(streaming(), key("ctrl+c")) },
		"failure": func() tea.Model {
			m := done(started(running(c, "backup")), 3)
			m = update(m, stepStartedMsg{info: backupSteps[3]},
				stepOutputMsg{step: "stream", node: "node3", line: "tar: thehive/table1-1234: Cannot open: Permission denied"},
				stepOutputMsg{step: "stream", node: "node3", line: "tar: Exiting with failure status due to previous errors"})
			err := errors.New("node3: tar exited 2: Permission denied")
			m = update(m, stepFinishedMsg{info: backupSteps[3], res: steps.StepResult{ID: "stream", State: steps.StateFailed, Duration: 1500 * time.Millisecond, Err: err}},
				cleanupMsg{step: "snapshot"},
				runFinishedMsg{sum: steps.RunSummary{RunID: "r", Runbook: "backup", Resumable: true, Err: fmt.Errorf("step stream: %w", err), Duration: 2400 * time.Millisecond}},
				workDoneMsg{err: err})
			return m
		},
		"summary_backup": func() tea.Model {
			m := running(c, "backup")
			m.job.Facts = func() *BackupFacts {
				return &BackupFacts{ID: "hotsnap-20261122-213000-a1b2", Total: 64 << 20, Duration: 5200 * time.Millisecond, SkewMS: 3.4,
					Location: "/mnt/backup/hotsnap/hotsnap-20261122-213000-a1b2",
					Components: []Component{{Name: "cassandra", Size: 60 << 20, Duration: 3100 * time.Millisecond, Detail: "3 nodes, 36 SSTable files"},
						{Name: "elasticsearch", Size: 3 << 20, Duration: 2 * time.Second, Detail: "snapshot SUCCESS, thehive_global, thehive-audits"},
						{Name: "attachments", Size: 1 << 20, Duration: 400 * time.Millisecond, Detail: "12 entries from node1:/opt/thp/thehive/files"}}}
			}
			mm := done(started(m), 5)
			return update(mm, runFinishedMsg{sum: steps.RunSummary{RunID: "r", Runbook: "backup", Resumable: true, Duration: 5300 * time.Millisecond,
				Checks: []steps.CheckResult{{Check: "ssh", Node: "node1", Status: steps.CheckPass}, {Check: "clock skew", Node: "node2", Status: steps.CheckWarn, Evidence: "skew 600 ms", Remedy: "enable chrony"}}}},
				workDoneMsg{})
		},
		"summary_preflight": func() tea.Model {
			m := update(running(c, "preflight"), runStartedMsg{runID: "r1", runbook: "preflight", steps: backupSteps[:2]})
			m = update(m, checks(nil)...)
			m = done(m, 2)
			return update(m, runFinishedMsg{sum: steps.RunSummary{Runbook: "preflight", Duration: 400 * time.Millisecond}}, workDoneMsg{}, key("tab"))
		},
		"text": func() tea.Model {
			return update(newModel(testConfig(c), &bridge{}), textReadyMsg{title: "List the backups", text: "ID  SIZE\nb1  20 MiB"})
		},
	}
}

// TestScreens compares every screen at 80×24 and 120×40 with its golden file
// (go test ./ui -run TestScreens -update rewrites them).
func TestScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		all := screens(testClock())
		for name, build := range restoreScreens(testClock()) {
			all[name] = build
		}
		for name, build := range all {
			t.Run(fmt.Sprintf("%s_%dx%d", name, size[0], size[1]), func(t *testing.T) {
				m := update(build(), tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				out := view(m)
				lines := strings.Split(out, "\n")
				if len(lines) > size[1] {
					t.Errorf("%d lines, more than the terminal's %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d wide, more than %d: %q", i+1, w, size[0], l)
					}
				}
				golden.RequireEqual(t, []byte(out))
			})
		}
	}
}
