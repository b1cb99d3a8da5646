package main

import (
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/steps"
)

func TestResumeRefusals(t *testing.T) {
	inv := &config.Inventory{Cluster: "prod"}
	failed := func(rb string) *steps.PriorRun {
		return &steps.PriorRun{RunID: "r1", Runbook: rb, Cluster: "prod", Finished: true, Err: "step cassandra: node2: connection lost",
			Params: map[string]string{paramBackup: "b1", paramNodes: "node1=10.0.0.1:22", paramRepository: "/srv/backups"}}
	}
	for _, c := range []struct {
		name string
		edit func(p *steps.PriorRun)
		want string
	}{
		{"a failed restore", func(*steps.PriorRun) {}, ""},
		{"a killed backup", func(p *steps.PriorRun) { p.Runbook, p.Finished, p.Err = "backup", false, "" }, ""},
		{"a preflight", func(p *steps.PriorRun) { p.Runbook = "preflight" }, "only restores and backups are resumed"},
		{"a success", func(p *steps.PriorRun) { p.Err = "" }, "finished successfully"},
		{"another cluster", func(p *steps.PriorRun) { p.Cluster = "staging" }, `ran on cluster "staging"`},
		{"no backup recorded", func(p *steps.PriorRun) { delete(p.Params, paramBackup) }, "recorded no backup ID"},
	} {
		p := failed("restore")
		c.edit(p)
		err := resumable(p, inv)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}

	p := failed("restore")
	now := map[string]string{paramNodes: "node1=10.0.0.1:22", paramRepository: "/srv/backups"}
	if err := sameWorld(p, now); err != nil {
		t.Errorf("same world: %v", err)
	}
	now[paramNodes] = "node1=10.0.0.9:22"
	if err := sameWorld(p, now); err == nil || !strings.Contains(err.Error(), "the inventory's nodes changed since run r1") {
		t.Errorf("moved node: %v", err)
	}
	now[paramNodes], now[paramRepository] = "node1=10.0.0.1:22", "s3://other/x"
	if err := sameWorld(p, now); err == nil || !strings.Contains(err.Error(), "the backup repository changed") {
		t.Errorf("other repository: %v", err)
	}
}
