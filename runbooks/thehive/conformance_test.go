package thehive

import (
	"path/filepath"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/runbooktest"
	"github.com/hotsnap/hotsnap/steps"
)

// TestConformance runs the conformance test on every runbook TheHive
// builds, for each TheHive inventory of testdata: preflight (with the
// repository check), the backup (every node, and --one-node), the restore
// (a backup of every component the inventory has — both load paths are in
// its plan — a resumed one, and a documented scripts' backup, as made
// and as it starts: its step that reads it), each built
// and planned without contacting anything.
func TestConformance(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/inventory/thehive-*.yaml")
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
			for _, one := range []bool{false, true} {
				b, err := p.Backup(env, runbooks.BackupRequest{ID: "hotsnap-20261122-100000-aaaa", OneNode: one})
				if err != nil {
					t.Fatal(err)
				}
				runbooktest.Conform(t, b.Runbook())
			}
			for _, prior := range []*steps.PriorRun{nil, {RunID: "r1", Done: map[string]string{"cassandra": "r1", "files": "r1"}, Started: map[string]bool{"cassandra": true, "files": true}}} {
				r, err := p.Restore(env, runbooks.RestoreRequest{S3Exact: prior != nil, Prior: prior})
				if err != nil {
					t.Fatal(err)
				}
				runbooktest.Conform(t, r.Runbook())
			}
			m := planManifest(env)
			legacy := &RestoreRun{Manifest: m, Legacy: &LegacyRestore{Backup: &repo.Legacy{Set: &repo.LegacySet{Stamp: "20261122_02h00m00s"}, ESSnapshot: "thehive_20261122"}}}
			runbooktest.Conform(t, newRestore(env, legacy, nil).Runbook())
			found := &repo.LegacyFound{Root: "PATH", Items: []repo.LegacyItem{{Kind: repo.LegacyCassandra, Stamp: "20261122_02h00m00s", Path: "cassandra/cassandra_20261122_02h00m00s.tar"},
				{Kind: repo.LegacyElasticsearch, Stamp: "20261122_02h00m00s", Path: "elasticsearch/elasticsearch_20261122_02h00m00s.info"}}}
			d, _, err := p.RestoreDocumented(env, runbooks.DocumentedRequest{Path: "node1:/mnt/backup", Found: found})
			if err != nil {
				t.Fatal(err)
			}
			runbooktest.Conform(t, d.Runbook())
		})
	}
}
