package alien4cloud

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/runbooktest"
	"github.com/hotsnap/hotsnap/steps"
)

// TestConformance runs the conformance test on every runbook Alien4Cloud
// builds, for each Alien4Cloud inventory of testdata: preflight (with the
// repository check), the backup (maintenance mode and --stop-service) and
// the restore (new and resumed), each built and planned without
// contacting anything.
func TestConformance(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/inventory/alien4cloud*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no inventories: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			inv, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			env := runbooktest.Env(t, inv)
			p := Platform{}
			runbooktest.Conform(t, p.Preflight(env))
			for _, stop := range []bool{false, true} {
				b, err := p.Backup(env, runbooks.BackupRequest{ID: "hotsnap-20261122-100000-aaaa", StopService: stop, Label: "before the upgrade"})
				if err != nil {
					t.Fatal(err)
				}
				runbooktest.Conform(t, b.Runbook())
			}
			for _, prior := range []*steps.PriorRun{nil, {RunID: "r1", Done: map[string]string{"elasticsearch": "r1"}, Started: map[string]bool{"elasticsearch": true}},
				{RunID: "r2", Done: map[string]string{"data": "r2"}, Started: map[string]bool{"data": true}}} {
				r, err := p.Restore(env, runbooks.RestoreRequest{Prior: prior})
				if err != nil {
					t.Fatal(err)
				}
				runbooktest.Conform(t, r.Runbook())
				staged := slices.ContainsFunc(r.Runbook().Steps, func(s steps.Step) bool { return s.ID == "stage" })
				if swapped := prior != nil && prior.Done["data"] != ""; staged == swapped {
					t.Errorf("prior %v: staged %v", prior, staged)
				}
			}
		})
	}
}

// TestBackupReadsLikeThePage: the backup's steps in order — the checks,
// the verdict, the gate, maintenance mode on, the snapshot, the data
// directory and the configuration at once, maintenance mode off, the
// manifest — and with --stop-service the service stopped and started
// instead; the plan names no _all index (the snapshots of the repository
// are listed as _all: that touches no index).
func TestBackupReadsLikeThePage(t *testing.T) {
	inv, err := config.Load("../../testdata/inventory/alien4cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := runbooktest.Env(t, inv)
	ids := func(rb steps.Runbook) string {
		var out []string
		for _, s := range rb.Steps {
			id := s.ID
			if s.Concurrent {
				id += "*"
			}
			out = append(out, id)
		}
		return strings.Join(out, " ")
	}
	b := Backup(env, &BackupRun{ID: "hotsnap-20261122-100000-aaaa"})
	want := "ssh a4c-config elasticsearch* a4c-indices* a4c* a4c-api* a4c-data* measure* leftover-snapshots* preflight-verdict leftovers approve mark clear-leftovers maintenance-on es-snapshot* data* config* maintenance-off manifest"
	if got := ids(b); got != want {
		t.Errorf("backup steps:\n got  %s\n want %s", got, want)
	}
	b = Backup(env, &BackupRun{ID: "hotsnap-20261122-100000-aaaa", StopService: true})
	if got := ids(b); !strings.Contains(got, "approve mark clear-leftovers stop-service es-snapshot* data* config* start-service manifest") {
		t.Errorf("backup --stop-service steps: %s", got)
	}
	for _, s := range b.Steps {
		if s.Plan == nil {
			continue
		}
		for _, c := range s.Plan() {
			if strings.Contains(strings.ReplaceAll(c.Cmd, "/_snapshot/"+inv.Elasticsearch.Repository+"/_all", ""), "_all") {
				t.Errorf("step %s plans %q", s.ID, c.Cmd)
			}
		}
	}
}
