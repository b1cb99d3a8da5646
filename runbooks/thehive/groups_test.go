package thehive

import (
	"context"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// groups renders a runbook's steps as the engine schedules them: a group
// of steps run at once in brackets, "[a b] c".
func groups(rb steps.Runbook) string {
	var out []string
	for i := 0; i < len(rb.Steps); {
		first, last := rb.Group(i)
		var ids []string
		for k := first; k <= last; k++ {
			ids = append(ids, rb.Steps[k].ID)
		}
		if first == last {
			out = append(out, ids[0])
		} else {
			out = append(out, "["+strings.Join(ids, " ")+"]")
		}
		i = last + 1
	}
	return strings.Join(out, " ")
}

// TestRunbooksRunIndependentStepsAtOnce pins which steps the engine runs
// together: only steps that read nothing another of their group leaves.
func TestRunbooksRunIndependentStepsAtOnce(t *testing.T) {
	inv, err := config.Load("../../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := &steps.Env{Inv: inv}
	checks := "ssh [clock cassandra-tools disk ring cql elasticsearch thehive files"
	if got, want := groups(Preflight(env)), checks+" leftover-snapshots] versions"; got != want {
		t.Errorf("preflight:\n got %s\nwant %s", got, want)
	}
	if got, want := groups(Backup(env, &BackupRun{ID: "hotsnap-20261122-100000-aaaa"})),
		checks+" leftover-snapshots measure] versions preflight-verdict leftovers approve mark clear-leftovers [schema snapshot] stream [es-wait clearsnapshot] manifest"; got != want {
		t.Errorf("backup:\n got %s\nwant %s", got, want)
	}
	withRepo := *env
	withRepo.OpenRepo = func(context.Context) (repo.Store, func(), error) { return nil, func() {}, nil }
	if got, want := groups(Preflight(&withRepo)), checks+" repository leftover-snapshots] versions"; got != want {
		t.Errorf("preflight with the repository check:\n got %s\nwant %s", got, want)
	}
	m := diskManifest()
	m.Elasticsearch = &repo.ESSnapshot{Repository: "r", Snapshot: "b1", Indices: []string{"thehive_global"}}
	m.Files.Provider = repo.ProviderLocalFS
	got := groups(Restore(env, &RestoreRun{Manifest: m}))
	if !strings.Contains(got, "approve-restore [cassandra elasticsearch files] start-thehive") {
		t.Errorf("restore: the keyspace, the indices and the attachments should be restored at once:\n%s", got)
	}
	if strings.Count(got, "[") != 1 {
		t.Errorf("restore: only the data steps run at once:\n%s", got)
	}
}

// TestRestoreStepIDs: the restore runbook has what the faces' restore
// panel shows — a check of the backup (steps.ComponentBackup) and the
// comparison of topologies (steps.ComponentTopology) — and every step of
// the restore and the backup names its component, which labels progress.
func TestRestoreStepIDs(t *testing.T) {
	inv, err := config.Load("../../testdata/inventory/thehive-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := &steps.Env{Inv: inv}
	m := &repo.Manifest{ID: "hotsnap-20261122-180000-a1b2", Keyspace: "thehive", Elasticsearch: &repo.ESSnapshot{Indices: []string{"thehive_global"}},
		Files: &repo.FileStore{Provider: repo.ProviderLocalFS}, Cassandra: []repo.NodeArchive{{Node: "node1"}}}
	comps := map[string]bool{}
	for _, s := range Restore(env, &RestoreRun{Manifest: m}).Steps {
		if s.Kind == steps.KindCheck {
			comps[s.Component] = true
		}
	}
	for _, c := range []string{steps.ComponentBackup, steps.ComponentTopology} {
		if !comps[c] {
			t.Errorf("the restore runbook has no check of component %q any more: the restore panel shows it", c)
		}
	}
	all := append(Restore(env, &RestoreRun{Manifest: m}).Steps, Backup(env, &BackupRun{ID: m.ID}).Steps...)
	for _, s := range all {
		if s.Component == "" {
			t.Errorf("step %s names no component", s.ID)
		}
	}
}
