package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

var restoreSteps = []steps.StepInfo{
	{Index: 1, Total: 11, ID: "ssh", Title: "SSH and sudo on every node", Kind: steps.KindCheck, Component: "host"},
	{Index: 2, Total: 11, ID: "verify-backup", Title: "Verify the backup before touching anything", Kind: steps.KindCheck, Component: "backup"},
	{Index: 3, Total: 11, ID: "ring", Title: "Cassandra: every node UN", Kind: steps.KindCheck, Component: "cassandra"},
	{Index: 4, Total: 11, ID: "topology", Title: "Compare the backup's topology with the cluster now", Kind: steps.KindCheck, Component: "topology"},
	{Index: 5, Total: 11, ID: "approve-stop", Title: "Stop TheHive on every node", Kind: steps.KindGate, Component: "thehive"},
	{Index: 6, Total: 11, ID: "stop-thehive", Title: "Stop TheHive and prove it stopped", Kind: steps.KindAction, Component: "thehive"},
	{Index: 7, Total: 11, ID: "approve-restore", Title: "Replace the data with the backup", Kind: steps.KindGate, Component: "backup", Destructive: true},
	{Index: 8, Total: 11, ID: "cassandra", Title: "Restore the keyspace", Kind: steps.KindAction, Component: "cassandra", Destructive: true},
	{Index: 9, Total: 11, ID: "elasticsearch", Title: "Restore the Elasticsearch indices", Kind: steps.KindAction, Component: "elasticsearch", Destructive: true},
	{Index: 10, Total: 11, ID: "files", Title: "Restore the attachments with their owners and modes", Kind: steps.KindAction, Component: "attachments", Destructive: true},
	{Index: 11, Total: 11, ID: "start-thehive", Title: "Start TheHive and wait until it is healthy", Kind: steps.KindAction, Component: "thehive"},
}

const restoreID = "hotsnap-20261122-180000-a1b2"

// testRestoreJob is a restore job whose Restore returns a copy of rf: the
// test sets rf's LoadedWith and Report as the run goes.
func testRestoreJob(rf *RestoreFacts) *Job {
	return &Job{
		Runbook: steps.Runbook{Name: "restore", Cluster: "lab-thehive", Steps: []steps.Step{
			{ID: "verify-backup", Title: "Verify the backup before touching anything", Kind: steps.KindCheck, Why: "Every archive is re-hashed; the ES snapshot must be SUCCESS.",
				Plan: func() []steps.PlannedCommand {
					return []steps.PlannedCommand{{Node: "repository", Cmd: "re-hash every file of " + restoreID + " against its manifest"}}
				}},
			{ID: "approve-restore", Title: "Replace the data with the backup", Kind: steps.KindGate, Gate: &steps.GateRequest{Destructive: true, Happens: "drop or truncate keyspace thehive, delete the indices, replace the attachments",
				Loses: "the current data of keyspace thehive, the current indices"}},
			{ID: "cassandra", Title: "Restore the keyspace", Kind: steps.KindAction, Destructive: true, Plan: func() []steps.PlannedCommand {
				return []steps.PlannedCommand{{Node: "node1", Sudo: true, Cmd: "nodetool import thehive <table> /var/lib/cassandra/hotsnap-restore/" + restoreID + "/<table>"}}
			}},
		}},
		Run:     func(context.Context, steps.Reporter, steps.Approver) error { return nil },
		Restore: func() *RestoreFacts { f := *rf; return &f },
	}
}

func restoreConfig(c *fakeClock, list *BackupList, picked *[]string, rf *RestoreFacts) Config {
	cfg := testConfig(c)
	cfg.Operations[3] = Operation{Key: "restore", Title: "Restore a backup", Review: true,
		Pick: func(context.Context) (*BackupList, error) { return list, nil },
		PickJob: func(_ context.Context, id string) (*Job, error) {
			*picked = append(*picked, id)
			return testRestoreJob(rf), nil
		}}
	return cfg
}

func testBackups(now time.Time) *BackupList {
	return &BackupList{Where: "/mnt/backup/hotsnap", Backups: []repo.Summary{
		{ID: "hotsnap-20261122-212500-ffff", Started: now.Add(-5 * time.Minute), Size: 12 << 20, Components: []string{"cassandra"},
			Problem: "no manifest.json: the backup did not finish"},
		{ID: restoreID, Started: now.Add(-3*time.Hour - 30*time.Minute), Size: 64 << 20, Components: []string{"cassandra", "elasticsearch", "files"}, Complete: true},
		{ID: "hotsnap-20261119-020000-0c0c", Started: now.Add(-(3*24 + 19) * time.Hour), Size: 61 << 20, Components: []string{"cassandra", "elasticsearch", "files"}, Complete: true},
		{ID: "hotsnap-20261101-020000-dead", Started: now.Add(-21 * 24 * time.Hour), Size: 3 << 20, Components: []string{"cassandra", "elasticsearch"},
			Problem: "manifest.json is corrupt: backup hotsnap-20261101-020000-dead: manifest: unexpected end of JSON input"},
	}}
}

func testEstimate() *steps.Estimate {
	return &steps.Estimate{Parts: []steps.EstimatePart{
		{Name: "Cassandra", Nodes: map[string]int64{"node1": 20 << 20, "node2": 21 << 20, "node3": 19 << 20}},
		{Name: "attachments", Bytes: 2 << 20, Where: "node1:/opt/thp/thehive/files"}},
		Elsewhere: []steps.EstimatePart{{Name: "Elasticsearch", Bytes: 3 << 20, Where: "thehive_global, thehive-audits", Into: "its own snapshot repository"}},
		Rate:      12 << 20, RateFrom: restoreID}
}

// restoreScreens are the screens of the backup picker, Plan review with the
// estimate, and the restore from its run to its failure or summary.
func restoreScreens(c *fakeClock) map[string]func() tea.Model {
	var picked []string
	rf := &RestoreFacts{BackupID: restoreID, Taken: c.t.Add(-3*time.Hour - 30*time.Minute), Size: 64 << 20,
		Components: []string{"cassandra", "elasticsearch", "files"}}
	home := func() tea.Model { return newModel(restoreConfig(c, testBackups(c.t), &picked, rf), &bridge{}) }
	picker := func() tea.Model {
		m := update(home(), key("4"))
		return update(m, pickReadyMsg{op: "restore", list: testBackups(c.t)})
	}
	restoreRun := func(upTo int) tea.Model {
		m := update(picker(), jobReadyMsg{op: "restore", job: testRestoreJob(rf)})
		m = m.(model).startJob(m.(model).job, "restore")
		m = update(m, runStartedMsg{runID: "20261122-213000-c0ffee", runbook: "restore", steps: restoreSteps})
		for _, s := range restoreSteps[:upTo] {
			m = update(m, stepStartedMsg{info: s})
			switch s.ID {
			case "verify-backup":
				m = update(m, stepProgressMsg{step: s.ID, node: "repository", done: 64 << 20, total: 64 << 20, unit: "bytes"},
					checkMsg{r: steps.CheckResult{StepID: s.ID, Check: "backup files", Node: "repository", Status: steps.CheckPass, Evidence: "every file of " + restoreID + " matches its manifest (64.0 MiB)"}},
					checkMsg{r: steps.CheckResult{StepID: s.ID, Check: "es snapshot", Status: steps.CheckPass, Evidence: restoreID + " is SUCCESS"}},
					checkMsg{r: steps.CheckResult{StepID: s.ID, Check: "es version", Node: "node1", Status: steps.CheckPass, Evidence: "snapshot from 8.17.3 restores into 8.17.3"}})
			case "topology":
				for i, n := range []string{"node1", "node2", "node3"} {
					m = update(m, stepOutputMsg{step: s.ID, line: fmt.Sprintf("%-8s 10.77.3.1%d host %d1a2b3c4 ← backup of %s", n, i+1, i+1, n)})
				}
				m = update(m, checkMsg{r: steps.CheckResult{StepID: s.ID, Check: "topology", Status: steps.CheckPass, Evidence: "backup: 3 nodes, now: 3 nodes; loading with import"}})
				rf.LoadedWith = "nodetool import"
			}
			c.advance(time.Second)
			m = update(m, stepFinishedMsg{info: s, res: steps.StepResult{ID: s.ID, State: steps.StateDone, Duration: time.Second}})
		}
		return m
	}
	loading := func() tea.Model {
		m := restoreRun(7)
		m = update(m, stepStartedMsg{info: restoreSteps[7]})
		for _, n := range []string{"node1", "node2", "node3"} {
			m = update(m, stepProgressMsg{step: "cassandra", node: n, done: 0, total: 20 << 20, unit: "bytes"})
		}
		c.advance(2 * time.Second)
		return update(m,
			stepProgressMsg{step: "cassandra", node: "node1", done: 20 << 20, total: 20 << 20, unit: "bytes"},
			stepProgressMsg{step: "cassandra", node: "node2", done: 8 << 20, total: 20 << 20, unit: "bytes"},
			stepProgressMsg{step: "cassandra", node: "node3", done: 12 << 20, total: 20 << 20, unit: "bytes"},
			stepOutputMsg{step: "cassandra", line: "keyspace thehive does not exist: creating it from the backup's schema"},
			stepOutputMsg{step: "cassandra", node: "node2", line: "streaming edgestore-5c1e (8.0 MiB)"},
		)
	}
	return map[string]func() tea.Model{
		"pick": picker,
		"plan_estimate": func() tea.Model {
			job := testJob()
			job.Estimate = func(context.Context) (*steps.Estimate, error) { return testEstimate(), nil }
			m := update(newModel(testConfig(c), &bridge{}), jobReadyMsg{op: "backup", job: job})
			return update(m, estimateMsg{job: job, est: testEstimate()})
		},
		"plan_estimate_first": func() tea.Model {
			job := testJob()
			job.Estimate = func(context.Context) (*steps.Estimate, error) { return nil, nil }
			e := testEstimate()
			e.Rate, e.RateFrom = 0, ""
			delete(e.Part("Cassandra").Nodes, "node3")
			e.Problems = []string{"node3: cannot measure the keyspace (node3: run `du -sb /var/lib/cassandra/data/thehive`: exit 1: du: cannot access): check cassandra.data_dir / nodes[].paths.cassandra_data"}
			m := update(newModel(testConfig(c), &bridge{}), jobReadyMsg{op: "backup", job: job})
			return update(m, estimateMsg{job: job, est: e})
		},
		"plan_restore": func() tea.Model {
			return update(picker(), jobReadyMsg{op: "restore", job: testRestoreJob(rf)})
		},
		"restore_loading": loading,
		"restore_gate": func() tea.Model {
			m := restoreRun(6)
			m = update(m, stepStartedMsg{info: restoreSteps[6]})
			return update(m, gateAskMsg{reply: make(chan bool, 1), req: steps.GateRequest{StepID: "approve-restore", Title: "Replace the data with the backup",
				Happens: "keyspace thehive truncated or dropped and recreated, then loaded; the indices deleted and restored; the attachments replaced",
				Nodes:   []string{"node1", "node2", "node3"}, Loses: "the current data of keyspace thehive on every node, the current indices thehive_global, thehive-audits, and attachments added since the backup",
				Rollback: "none by hotsnap: take a backup first if the current data matters", Destructive: true, Cluster: "lab-thehive"}})
		},
		"restore_choice": func() tea.Model {
			// The S3 choice gate, asked after the checks, before TheHive stops.
			return update(restoreRun(4), gateAskMsg{pick: make(chan string, 1), req: s3Choice}, key("down"))
		},
		"failure_restore": func() tea.Model {
			m := loading()
			m = update(m, stepOutputMsg{step: "cassandra", node: "node2", line: "tar: edgestore-5c1e/nb-1-big-Data.db: Wrote only 4096 of 10240 bytes"},
				stepOutputMsg{step: "cassandra", node: "node1", line: "imported 6 tables"})
			err := fmt.Errorf("node2: table edgestore: %w", &remote.NodeError{Node: "node2", Addr: "10.77.3.12", Step: "run `tar -x`", Err: errors.New("connection lost")})
			return update(m, stepFinishedMsg{info: restoreSteps[7], res: steps.StepResult{ID: "cassandra", State: steps.StateFailed, Duration: 2 * time.Second, Err: err}},
				cleanupMsg{step: "cassandra"}, cleanupMsg{step: "stop-thehive"},
				runFinishedMsg{sum: steps.RunSummary{RunID: "20261122-213000-c0ffee", Runbook: "restore", Resumable: true, Err: fmt.Errorf("step cassandra: %w", err), Duration: 9 * time.Second}},
				workDoneMsg{err: err})
		},
		"summary_restore": func() tea.Model {
			m := restoreRun(11)
			rf.Report = []string{
				"Cassandra: keyspace thehive restored with import in 2.1s, 18204 rows in 6 tables",
				"Elasticsearch: thehive_global,thehive-audits restored in 1.4s, 5120 documents",
				"Attachments: 41 entries restored into node1:/opt/thp/thehive/files",
				"TheHive: healthy on node1, node2, node3",
			}
			return update(m, runFinishedMsg{sum: steps.RunSummary{RunID: "20261122-213000-c0ffee", Runbook: "restore", Resumable: true, Duration: 14 * time.Second}}, workDoneMsg{})
		},
	}
}

func TestPickerSkipsIncompleteBackupsAndPicksTheChosenOne(t *testing.T) {
	c := testClock()
	var picked []string
	rf := &RestoreFacts{BackupID: restoreID, Taken: c.t.Add(-3*time.Hour - 30*time.Minute), Size: 64 << 20, Components: []string{"cassandra"}}
	listed := 0
	cfg := restoreConfig(c, testBackups(c.t), &picked, rf)
	cfg.Operations[3].Pick = func(context.Context) (*BackupList, error) { listed++; return testBackups(c.t), nil }
	m, cmd := newModel(cfg, &bridge{}).Update(key("4"))
	if listed != 0 || cmd == nil {
		t.Fatalf("the list must be read in a command, not in Update (listed %d times)", listed)
	}
	m = update(m, cmd())
	pm := m.(model)
	if pm.screen != screenPick || pm.pick.cursor != 1 {
		t.Fatalf("picker on screen %v, cursor %d: want the newest complete backup (1), not the incomplete newest", pm.screen, pm.pick.cursor)
	}
	v := view(m)
	for _, want := range []string{"incomplete: no manifest.json: the backup did not finish", "incomplete: manifest.json is corrupt", "5 min ago", "3 h ago", "3 days ago", "64.0 MiB", "4 backups (2 complete)"} {
		if !strings.Contains(v, want) {
			t.Errorf("picker lacks %q:\n%s", want, v)
		}
	}
	// Down goes to the other complete backup, and no further: the last one is incomplete.
	m = update(m, key("down"), key("down"), key("down"))
	if got := m.(model).pick.cursor; got != 2 {
		t.Errorf("cursor after down ×3 = %d, want 2 (the incomplete ones cannot be selected)", got)
	}
	m = update(m, key("up"), key("up"))
	if got := m.(model).pick.cursor; got != 1 {
		t.Errorf("cursor after up ×2 = %d, want 1", got)
	}
	m, cmd = m.Update(key("enter"))
	if len(picked) != 0 || cmd == nil {
		t.Fatal("the restore job must be built in a command")
	}
	m = update(m, cmd())
	if fmt.Sprint(picked) != "["+restoreID+"]" {
		t.Errorf("picked %v", picked)
	}
	if got := m.(model).screen; got != screenPlan || !strings.Contains(view(m), "Backup "+restoreID+" · taken 2026-11-22 18:00 UTC (3 h ago)") {
		t.Errorf("after picking: screen %v\n%s", got, view(m))
	}
	// esc goes back to the picker, esc again to Home.
	m = update(m, key("esc"))
	if got := m.(model).screen; got != screenPick {
		t.Errorf("esc from the plan: screen %v, want the picker", got)
	}
	m = update(m, key("esc"))
	if got := m.(model).screen; got != screenHome {
		t.Errorf("esc from the picker: screen %v, want Home", got)
	}
}

func TestPickerWithNothingToRestore(t *testing.T) {
	c := testClock()
	var picked []string
	all := testBackups(c.t)
	list := &BackupList{Where: all.Where, Backups: []repo.Summary{all.Backups[0], all.Backups[3]}}
	m := update(newModel(restoreConfig(c, list, &picked, &RestoreFacts{}), &bridge{}), pickReadyMsg{op: "restore", list: list})
	m, cmd := m.Update(key("enter"))
	if cmd != nil || len(picked) != 0 {
		t.Fatal("an incomplete backup must not be restorable")
	}
	if v := view(m); !strings.Contains(v, "no complete backup to restore: take one first") {
		t.Errorf("no reason given:\n%s", v)
	}
	m = update(m, pickReadyMsg{op: "restore", list: &BackupList{Where: "/mnt/backup/hotsnap"}})
	if v := view(m); !strings.Contains(v, "no backups in /mnt/backup/hotsnap") {
		t.Errorf("empty repository:\n%s", v)
	}
	m = update(m, key("esc"), pickReadyMsg{op: "restore", err: errors.New("backup repository /mnt/backup/hotsnap: permission denied")})
	if v := view(m); m.(model).screen != screenHome || !strings.Contains(v, "✗ restore: backup repository /mnt/backup/hotsnap: permission denied") {
		t.Errorf("a listing error belongs on Home:\n%s", v)
	}
}

func TestPlanEstimateRunsInACommand(t *testing.T) {
	c := testClock()
	calls := 0
	job := testJob()
	job.Estimate = func(context.Context) (*steps.Estimate, error) { calls++; return testEstimate(), nil }
	m, cmd := newModel(testConfig(c), &bridge{}).Update(jobReadyMsg{op: "backup", job: job})
	if calls != 0 || cmd == nil {
		t.Fatalf("Update measured (%d calls) or gave no command", calls)
	}
	if v := view(m); !strings.Contains(v, "measuring the data on the nodes…") {
		t.Errorf("no measuring line:\n%s", v)
	}
	msg := cmd()
	if calls != 1 {
		t.Fatalf("the command did not measure")
	}
	m = update(m, msg)
	v := view(update(m, tea.WindowSizeMsg{Width: 120, Height: 40}))
	for _, want := range []string{"62.0 MiB to copy", "node2 21.0 MiB", "attachments 2.0 MiB", "(node1:/opt/thp/thehive/files)", "Elasticsearch 3.0 MiB", "about 5s at 12.0 MiB/s", "the throughput of backup " + restoreID} {
		if !strings.Contains(v, want) {
			t.Errorf("plan lacks %q:\n%s", want, v)
		}
	}
	// An estimate that arrives after the operator left the plan is dropped.
	m = update(m, key("esc"), estimateMsg{job: job, err: errors.New("late")})
	if m.(model).estimateErr != nil {
		t.Error("a stale estimate was kept")
	}
	// A failed estimate says so and the plan stays usable.
	job2 := testJob()
	job2.Estimate = func(context.Context) (*steps.Estimate, error) {
		return nil, errors.New("estimate the backup: context canceled")
	}
	m = update(m, jobReadyMsg{op: "backup", job: job2})
	m = update(m, estimateMsg{job: job2, err: errors.New("estimate the backup: context canceled")})
	if v := view(m); !strings.Contains(v, "! Estimate could not be made: estimate the backup: context canceled") || !strings.Contains(v, "enter run it") {
		t.Errorf("failed estimate:\n%s", v)
	}
}

func TestFailureNamesNodeAndResume(t *testing.T) {
	c := testClock()
	m := update(restoreScreens(c)["failure_restore"](), tea.WindowSizeMsg{Width: 120, Height: 40})
	v := view(m)
	for _, want := range []string{"✗ FAILED", "step 8/11 Restore the keyspace · on node2", "connection lost",
		"node2 │ tar: edgestore-5c1e/nb-1-big-Data.db: Wrote only 4096 of 10240 bytes",
		"TheHive stays stopped", "Resume: hotsnap resume 20261122-213000-c0ffee"} {
		if !strings.Contains(v, want) {
			t.Errorf("failure lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "node1 │ imported 6 tables") {
		t.Errorf("the last output should be the failed node's:\n%s", v)
	}
	// A preflight failure has no resume command and says to run it again.
	pre := update(running(c, "preflight"), runStartedMsg{runID: "r1", runbook: "preflight", steps: backupSteps[:2]},
		stepStartedMsg{info: backupSteps[1]},
		stepFinishedMsg{info: backupSteps[1], res: steps.StepResult{ID: "ring", State: steps.StateFailed, Err: errors.New("nodetool status on node3: exit 1")}},
		runFinishedMsg{sum: steps.RunSummary{RunID: "r1", Runbook: "preflight", Err: errors.New("step ring: failed")}}, workDoneMsg{err: errors.New("x")}, key("tab"))
	v = view(pre)
	if strings.Contains(v, "hotsnap resume") || !strings.Contains(v, "run it again: hotsnap preflight") || !strings.Contains(v, "· on node3") {
		t.Errorf("preflight failure:\n%s", v)
	}
}

func TestRestoreSummaryShowsReport(t *testing.T) {
	c := testClock()
	v := view(update(restoreScreens(c)["summary_restore"](), tea.WindowSizeMsg{Width: 120, Height: 40}))
	for _, want := range []string{steps.SuccessLine, "Topology: keyspace loaded with nodetool import (current node ← backup node)", "18204 rows in 6 tables", "5120 documents",
		"TheHive: healthy on node1, node2, node3", "node2    10.77.3.12 host 21a2b3c4 ← backup of node2"} {
		if !strings.Contains(v, want) {
			t.Errorf("summary lacks %q:\n%s", want, v)
		}
	}
}

func TestPickerListsTheDocumentedScriptsBackups(t *testing.T) {
	c := testClock()
	var picked []string
	all := testBackups(c.t)
	list := &BackupList{Where: all.Where, Backups: []repo.Summary{all.Backups[0]}, // incomplete only
		DocumentedWhere: "ssh://node1/mnt/backup",
		Documented: []repo.Summary{
			{ID: "legacy-20261122_20h00m00s", Started: c.t.Add(-90 * time.Minute), Size: 300 << 20, Components: []string{"cassandra", "elasticsearch", "files"}, Complete: true},
			{ID: "legacy-20261121_20h00m00s", Started: c.t.Add(-25*time.Hour - 30*time.Minute), Size: 290 << 20, Components: []string{"cassandra"}, Complete: true},
		}}
	m := update(newModel(restoreConfig(c, list, &picked, &RestoreFacts{}), &bridge{}), pickReadyMsg{op: "restore", list: list})
	if got := m.(model).pick.cursor; got != 1 {
		t.Fatalf("cursor %d: want the newest documented backup (1), the repository's only one is incomplete", got)
	}
	v := strings.Join(strings.Fields(view(m)), " ") // wrapped lines compared word by word
	for _, want := range []string{"Made by TheHive's documented scripts", "2 backups in ssh://node1/mnt/backup", "› ✓ legacy-20261122_20h00m00s", "✓ legacy-20261121_20h00m00s",
		"Selected: legacy-20261122_20h00m00s (documented scripts, ssh://node1/mnt/backup)", "300.0 MiB"} {
		if !strings.Contains(v, want) {
			t.Errorf("picker lacks %q:\n%s", want, v)
		}
	}
	m = update(m, key("down"))
	m, cmd := m.Update(key("enter"))
	if cmd == nil {
		t.Fatal("enter on a documented backup built no job")
	}
	update(m, cmd())
	if fmt.Sprint(picked) != "[legacy-20261121_20h00m00s]" {
		t.Errorf("picked %v, want the older documented backup", picked)
	}

	// None found: the picker says where it looked.
	list = &BackupList{Where: all.Where, Backups: all.Backups, DocumentedNote: "no backup of TheHive's documented scripts in /mnt/backup on this machine or the nodes"}
	m = update(newModel(restoreConfig(c, list, &picked, &RestoreFacts{}), &bridge{}), pickReadyMsg{op: "restore", list: list})
	if v := view(m); !strings.Contains(v, "no backup of TheHive's documented scripts in /mnt/backup") || strings.Contains(v, "Made by") {
		t.Errorf("the note on documented backups is missing:\n%s", v)
	}
}

// TestProgressLabels: a progress bar is named by its step's component, a
// check's as verifying it, a step before the component's destructive one
// as staging it; a step the run did not announce keeps its ID.
func TestProgressLabels(t *testing.T) {
	var m model
	for _, s := range []steps.StepInfo{
		{ID: "verify-backup", Kind: steps.KindCheck, Component: steps.ComponentBackup},
		{ID: "stage", Kind: steps.KindAction, Component: "cassandra"},
		{ID: "approve-restore", Kind: steps.KindGate, Component: steps.ComponentBackup, Destructive: true},
		{ID: "cassandra", Kind: steps.KindAction, Component: "cassandra", Destructive: true},
		{ID: "es-wait", Kind: steps.KindAction, Component: "elasticsearch"},
	} {
		m.rows = append(m.rows, stepRow{info: s})
	}
	for step, want := range map[string]string{"verify-backup": "verify backup", "stage": "cassandra (staging)", "cassandra": "cassandra",
		"es-wait": "elasticsearch", "unknown": "unknown"} {
		if got := m.progressLabel(step); got != want {
			t.Errorf("progressLabel(%s) = %q, want %q", step, got, want)
		}
	}
}

// TestRunScreenShowsTheStepsAStepMakes: the steps a step makes (a
// documented backup's restore, once its archives are read) join the Run
// screen's list right after it, pending, and every row counts them.
func TestRunScreenShowsTheStepsAStepMakes(t *testing.T) {
	c := testClock()
	read := steps.StepInfo{Index: 2, Total: 3, ID: "read-backup", Title: "Read the documented backup's archives", Kind: steps.KindCheck, Component: steps.ComponentBackup}
	first := []steps.StepInfo{{Index: 1, Total: 3, ID: "lock", Title: "Take the lock", Kind: steps.KindAction, Component: "lock"}, read,
		{Index: 3, Total: 3, ID: "unlock", Title: "Release the lock", Kind: steps.KindAction, Component: "lock"}}
	added := []steps.StepInfo{{Index: 3, Total: 5, ID: "verify-backup", Title: "Verify the backup before touching anything", Kind: steps.KindCheck, Component: steps.ComponentBackup},
		{Index: 4, Total: 5, ID: "cassandra", Title: "Restore the keyspace", Kind: steps.KindAction, Component: "cassandra", Destructive: true}}
	m := update(running(c, "restore"), tea.WindowSizeMsg{Width: 120, Height: 40}, runStartedMsg{runID: "r1", runbook: "restore", steps: first},
		stepStartedMsg{info: read}, stepProgressMsg{step: "read-backup", node: "repository", done: 300 << 20, total: 600 << 20, unit: "bytes"})
	if v := view(m); !strings.Contains(v, "2/3 Read the documented backup's archives") {
		t.Errorf("before the steps are made:\n%s", v)
	}
	m = update(m, stepFinishedMsg{info: read, res: steps.StepResult{ID: read.ID, State: steps.StateDone}}, stepsAddedMsg{after: read.ID, added: added})
	v := view(m)
	last := -1
	for _, want := range []string{"1/5 Take the lock", "2/5 Read the documented backup's archives", "3/5 Verify the backup", "4/5 Restore the keyspace", "5/5 Release the lock"} {
		i := strings.Index(v, want)
		if i < 0 || i < last {
			t.Errorf("the step list lacks %q, or has it out of order:\n%s", want, v)
		}
		last = i
	}
}
