package eclecticiq

import (
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/runbooktest"
	"github.com/hotsnap/hotsnap/steps"
)

// TestConformance runs the conformance test on every runbook the platform
// builds for the testdata inventory and the lab's: hot and cold backups,
// with and without the RDB, and the restore.
func TestConformance(t *testing.T) {
	for _, file := range []string{"../../testdata/inventory/eclecticiq.yaml", "../../testdata/inventory/eclecticiq-one-node.yaml"} {
		inv, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		env := runbooktest.Env(t, inv)
		p := Platform{}
		runbooktest.Conform(t, p.Preflight(env))
		for _, req := range []runbooks.BackupRequest{{ID: "b"}, {ID: "b", Hot: true}, {ID: "b", RedisRDB: true}} {
			b, err := p.Backup(env, req)
			if err != nil {
				t.Fatal(err)
			}
			runbooktest.Conform(t, b.Runbook())
		}
		r, err := p.Restore(env, runbooks.RestoreRequest{})
		if err != nil {
			t.Fatal(err)
		}
		runbooktest.Conform(t, r.Runbook())
	}
}

// TestBackupOrder: seed 003's order, and hot skips every stop.
func TestBackupOrder(t *testing.T) {
	inv, err := config.Load("../../testdata/inventory/eclecticiq.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := runbooktest.Env(t, inv)
	ids := func(req runbooks.BackupRequest) string {
		b, _ := Platform{}.Backup(env, req)
		var out []string
		for _, s := range b.Runbook().Steps {
			if s.Kind != steps.KindCheck || s.ID == "beat-leftovers" {
				out = append(out, s.ID)
			}
		}
		return strings.Join(out, " ")
	}
	const cold = "leftovers approve mark clear-leftovers stop-services drain drain-choice drain-decision approve-delete-queues delete-queues stop-workers beat-leftovers approve-pidfiles remove-pidfiles dump-postgresql archive-configuration snapshot-elasticsearch start-workers start-services manifest"
	if got := ids(runbooks.BackupRequest{ID: "b"}); got != cold {
		t.Errorf("cold backup:\n%s\nwant\n%s", got, cold)
	}
	if got := ids(runbooks.BackupRequest{ID: "b", Hot: true}); got != "leftovers approve mark clear-leftovers dump-postgresql archive-configuration snapshot-elasticsearch manifest" {
		t.Errorf("hot backup: %s", got)
	}
	b, _ := Platform{}.Backup(env, runbooks.BackupRequest{ID: "b"})
	for _, s := range b.Runbook().Steps {
		if s.ID == "stop-workers" && !strings.Contains(s.Plan()[0].Cmd, "systemctl stop 'eclecticiq-platform-backend-worker*.service'") {
			t.Errorf("the workers' glob is not quoted: %s", s.Plan()[0].Cmd)
		}
	}
}
