package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/ui"
)

func TestLineWriterSplitsLines(t *testing.T) {
	var emitted []string
	w := &lineWriter{emit: func(l string) { emitted = append(emitted, l) }}
	for _, p := range []string{"reading a", "pp.conf …\n  node1", " (10.0.0.1)\n\nlast"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if len(emitted) != 3 {
		t.Fatalf("before Flush emitted %q, want 3 lines", emitted)
	}
	w.Flush()
	want := []string{"reading app.conf …", "  node1 (10.0.0.1)", "", "last"}
	if !slices.Equal(emitted, want) || !slices.Equal(w.lines, want) {
		t.Fatalf("emitted %q, kept %q, want %q", emitted, w.lines, want)
	}
}

func TestInitResultSortsFoundAndMissing(t *testing.T) {
	inv := &config.Inventory{Platform: config.PlatformTheHive, Cluster: "lab",
		Nodes:         []config.Node{{Name: "node1", Host: "10.77.3.11", Roles: []string{"cassandra", "thehive"}}},
		Cassandra:     &config.Cassandra{Keyspace: "thehive", Username: "admin", Password: config.Secret{Kind: config.SecretPrompt}},
		Elasticsearch: &config.Elasticsearch{URL: "http://127.0.0.1:9200", Index: "thehive_global", Repository: "hotsnap", RepositoryPath: "/mnt/backup/es"},
		Storage:       &config.Storage{Provider: config.StorageLocalFS, Path: "/opt/thp/thehive/files", Owner: "thehive:thehive"},
	}
	log := []string{"reading /etc/thehive/application.conf on n1 …", "  warning: include file missing", "  could not list snapshot repositories (timeout): defaults written"}
	r := initResult(inv, "out.yaml", log)
	if r.Path != "out.yaml" || r.Inventory.Path != "out.yaml" || r.Inventory.Cluster != "lab" || len(r.Inventory.Nodes) != 1 {
		t.Fatalf("result %+v", r)
	}
	found := map[string]string{}
	for _, f := range r.Found {
		found[f[0]] = f[1]
	}
	for k, want := range map[string]string{"cassandra": "keyspace thehive, authentication on (user admin)",
		"elasticsearch": "http://127.0.0.1:9200 index thehive_global", "snapshot repository": "hotsnap at /mnt/backup/es",
		"storage": "local /opt/thp/thehive/files (thehive:thehive)"} {
		if found[k] != want {
			t.Errorf("found[%s] = %q, want %q", k, found[k], want)
		}
	}
	missing := strings.Join(r.Missing, "\n")
	for _, want := range []string{"the Cassandra password is written as prompt", "repository.url is empty", "include file missing", "defaults written"} {
		if !strings.Contains(missing, want) {
			t.Errorf("missing lacks %q:\n%s", want, missing)
		}
	}
	if strings.Contains(missing, "reading /etc/thehive") {
		t.Errorf("a plain progress line counted as missing:\n%s", missing)
	}
}

func TestInitFromWizardRefusesExistingFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hotsnap.yaml")
	if err := os.WriteFile(out, []byte("version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := initFromWizard(context.Background(), &globals{}, ui.InitRequest{Node: "127.0.0.1", Output: out}, nil)
	if !errors.Is(err, ui.ErrInventoryExists) {
		t.Fatalf("err = %v, want ErrInventoryExists", err)
	}
	if _, err := initFromWizard(context.Background(), &globals{}, ui.InitRequest{Node: " ", Output: out, Overwrite: true}, nil); err == nil || !strings.Contains(err.Error(), "no node given") {
		t.Fatalf("empty node: err = %v", err)
	}
}

// TestInitAsksWithAForm: what init cannot discover is asked with a
// one-field form (here in huh's accessible mode, which reads plain lines)
// that names the flag, and an empty answer is refused.
func TestInitAsksWithAForm(t *testing.T) {
	var v string
	var out bytes.Buffer
	err := askForm("repository", "where backups go", &v).WithInput(strings.NewReader("\n/mnt/backups\n")).WithOutput(&out).WithAccessible(true).Run()
	if err != nil || v != "/mnt/backups" {
		t.Fatalf("answer %q, err %v\n%s", v, err, out.String())
	}
	for _, want := range []string{"where backups go", "required: it could not be discovered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the form does not show %q:\n%s", want, out.String())
		}
	}
}
