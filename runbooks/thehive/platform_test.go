package thehive

import (
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"
)

func TestResumeDropsTheS3ChoiceOnceTheFilesAreBack(t *testing.T) {
	inv := &config.Inventory{Cluster: "prod", Platform: "thehive",
		Nodes:   []config.Node{{Name: "node1", Host: "10.0.0.1", Roles: []string{config.RoleTheHive, config.RoleFiles}}},
		Storage: &config.Storage{Provider: "s3", S3: &config.S3{Bucket: "thehive"}}}
	env := &steps.Env{Inv: inv}
	m := &repo.Manifest{ID: "b1", Files: &repo.FileStore{Provider: repo.ProviderS3, Bucket: "thehive"}}
	has := func(rb steps.Runbook, id string) bool {
		for _, st := range rb.Steps {
			if st.ID == id {
				return true
			}
		}
		return false
	}
	build := func(prior *steps.PriorRun) steps.Runbook {
		r, err := Platform{}.Restore(env, runbooks.RestoreRequest{Manifest: m, Prior: prior})
		if err != nil {
			t.Fatal(err)
		}
		return r.Runbook()
	}
	fresh := build(nil)
	if !has(fresh, S3ChoiceGate) || !has(fresh, "s3-compare") {
		t.Fatalf("a fresh S3 restore lacks the choice: %v", fresh.Steps)
	}
	prior := &steps.PriorRun{RunID: "r1", Done: map[string]string{"files": "r1"}, Started: map[string]bool{"files": true}}
	resumed := build(prior)
	if has(resumed, S3ChoiceGate) || has(resumed, "s3-compare") || !has(resumed, "files") {
		t.Errorf("resuming after the attachments were restored still asks how to treat the bucket")
	}
}
