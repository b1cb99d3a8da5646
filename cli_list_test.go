package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/repo"
)

// TestListOrdersByWhenTaken: list orders backups by when their data was
// taken (the manifest's start), shows that time, and says when a resumed
// backup's ID keeps its first run's earlier time — here the resumed one
// was taken last and is listed first, though its ID is the older.
func TestListOrdersByWhenTaken(t *testing.T) {
	dir := t.TempDir()
	backups := filepath.Join(dir, "backups")
	ctx := context.Background()
	store, err := repo.Open(ctx, backups, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, b := range []struct {
		id      string
		started time.Time
		resumes string
	}{
		{"hotsnap-20261122-213000-a1b2", at("2026-11-22 22:40:00"), "20261122-213000-000001"}, // killed at 21:30, resumed at 22:40
		{"hotsnap-20261122-220000-c3d4", at("2026-11-22 22:00:00"), ""},
		{"hotsnap-20261122-200000-e5f6", at("2026-11-22 20:05:00"), ""}, // its run waited 5 minutes at a gate: not resumed
	} {
		m := &repo.Manifest{Format: repo.ManifestFormat, ID: b.id, Platform: "thehive", Cluster: "c", Started: b.started, Finished: b.started.Add(time.Minute), Resumes: b.resumes}
		if err := repo.WriteManifest(ctx, store, m); err != nil {
			t.Fatal(err)
		}
	}
	inv := filepath.Join(dir, "inventory.yaml")
	text := "version: 1\nplatform: thehive\ncluster: c\nnodes:\n  - name: n1\n    host: 127.0.0.1\n    roles: [cassandra, elasticsearch, thehive]\ncassandra:\n  keyspace: thehive\nelasticsearch:\n  url: http://127.0.0.1:9200\nrepository:\n  url: " + backups + "\n"
	if err := os.WriteFile(inv, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runCLI(t, "list", "-i", inv)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	resumed, other := strings.Index(out, "hotsnap-20261122-213000-a1b2"), strings.Index(out, "hotsnap-20261122-220000-c3d4")
	if resumed < 0 || other < 0 || resumed > other {
		t.Errorf("the resumed backup (taken last) is not listed first:\n%s", out)
	}
	for _, want := range []string{"TAKEN (UTC)", "2026-11-22 22:40:00", "(resumed: its ID keeps the first run's time, 21:30:00)"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "resumed") != 1 {
		t.Errorf("only the resumed backup is said resumed:\n%s", out)
	}
}
