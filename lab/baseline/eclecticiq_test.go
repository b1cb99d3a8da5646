package baseline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
)

func init() {
	standIns["celery"] = eclecticiq.CeleryMain
	standIns["eiq-platform"] = eclecticiq.PlatformMain
}

func TestEclecticIQScriptsEmbedded(t *testing.T) {
	for name, want := range map[string][]string{
		EclecticIQBackupName: {SuccessEclecticIQBackup, "systemctl stop eclecticiq-platform-backend-services",
			"llen \"$q\"", "systemctl stop eclecticiq-platform-backend-worker*.service", "ps auxf | grep beat",
			"sudo -i -u postgres pg_dumpall >", "?wait_for_completion=true", `cp -a "$real" "$dir/config$real"`},
		EclecticIQRestoreName: {SuccessEclecticIQRestore, "sudo -i -u postgres psql -X -q <", "/_restore\"", "_recovery/",
			"eiq-platform search upgrade", "processing_status NOT IN ('success', 'pending')"},
	} {
		b, err := EclecticIQScript(name)
		checkScript(t, name, b, err, want)
	}
	if _, err := EclecticIQScript("nope.sh"); err == nil {
		t.Error("EclecticIQScript(nope.sh): no error")
	}
}

// eiqState is what the EclecticIQ restore must bring back.
type eiqState struct {
	tables string // per table: row count and a hash of its rows
	docs   map[string]int64
	config string // every configuration file's hash, owner and mode
}

func eiqSnapshot(t *testing.T, ctx context.Context, l *lab.Lab) eiqState {
	t.Helper()
	var q []string
	for _, tbl := range eclecticiq.Tables {
		q = append(q, "SELECT '"+tbl+"', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "+tbl+" t")
	}
	out, err := sshNode(ctx, l, "node1", "sudo -i -u postgres psql -d eclecticiq -XAt -c \"SELECT * FROM ("+strings.Join(q, " UNION ALL ")+") AS u ORDER BY 1\" 2>&1")
	if err != nil {
		out = "error: " + err.Error() + ": " + out
	}
	s := eiqState{tables: out, docs: map[string]int64{}}
	c, err := elastic.NewCluster(filepath.Join(l.StateDir, "shared", "es-state"), elastic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range lab.EclecticIQIndices {
		s.docs[ix] = -1
		if info, ok, err := c.Index(ix); err == nil && ok {
			s.docs[ix] = info.Docs
		}
	}
	paths := strings.Join(eclecticiq.ConfigPaths, " ")
	out, err = sshNode(ctx, l, "node1", "sudo -n sh -c 'for p in "+paths+"; do if [ -e $p ]; then find $p -printf \"%p %u:%g %m \" -type f -exec sha256sum {} \\;; else echo \"$p missing\"; fi; done'")
	if err != nil {
		t.Fatalf("hash the configuration: %v\n%s", err, out)
	}
	s.config = out
	return s
}

// TestEclecticIQBaselineBackupRestore (hseq3) runs the documented
// EclecticIQ procedure on a lab with authentication: the backup (ordered
// stops, the llen wait, pg_dumpall to a file, the ES snapshot, the
// configuration copy), then the platform wrecked (database dropped,
// indices deleted, configuration files changed, removed and re-moded),
// then the restore; the tables (row counts and content), the indices'
// document counts and the configuration (content, owners, modes) are back.
// HOTSNAP_BASELINE_DATA sets the PostgreSQL data (default 20MB).
func TestEclecticIQBaselineBackupRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l, data := baselineLab(t, ctx, lab.Options{Name: "hseq3", Subnet: 33, Nodes: 2, Auth: true, Platform: lab.PlatformEclecticIQ})
	if err := InstallEclecticIQ(l); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(l.BinPath(), EclecticIQConfName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode: %v %v, want 0600", st, err)
	}

	before := eiqSnapshot(t, ctx, l)
	if strings.HasPrefix(before.tables, "error") || strings.Count(strings.TrimSpace(before.tables), "\n") != len(eclecticiq.Tables)-1 {
		t.Fatalf("tables before: %s", before.tables)
	}
	for ix, n := range before.docs {
		if n <= 0 {
			t.Fatalf("index %s has %d documents before the backup", ix, n)
		}
	}

	out, backupTime := runScript(t, ctx, l, EclecticIQBackupPath, SuccessEclecticIQBackup)
	t.Logf("backup of %d MB of PostgreSQL data took %s", data/1_000_000, backupTime.Round(time.Millisecond))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	backupDir := lines[len(lines)-1]
	host := filepath.Join(l.SharedBackupPath(), strings.TrimPrefix(backupDir, "/mnt/backup/"))
	dump, err := os.ReadFile(filepath.Join(host, "db_dump.sql"))
	if err != nil || !bytes.HasSuffix(dump, []byte("-- PostgreSQL database cluster dump complete\n--\n\n")) {
		t.Errorf("the dump in %s: %v (%d bytes)", host, err, len(dump))
	}
	if _, err := os.Stat(filepath.Join(host, "config", "etc", "eclecticiq", "platform_settings.py")); err != nil {
		t.Errorf("configuration copy: %v", err)
	}
	if out, err := sshNode(ctx, l, "node1", "systemctl is-active eclecticiq-platform-backend-services 'eclecticiq-platform-backend-worker@*' | sort -u"); err != nil || out != "active\n" {
		t.Errorf("the platform after the backup: %q %v", out, err)
	}

	// Wreck it.
	es := "curl -s -u " + shQuote(lab.ESUser+":"+mustSecret(t, l, lab.SecretES))
	for _, c := range []string{
		"sudo -i -u postgres psql -Xqc 'DROP DATABASE eclecticiq WITH (FORCE)'",
		es + " -X DELETE 127.0.0.1:9200/documents_v2",
		es + " -X DELETE 127.0.0.1:9200/extracts_v2",
		"echo http://proxy.invalid:3128 | sudo tee /etc/eclecticiq/proxy_url",
		"sudo chmod 0644 /etc/eclecticiq/opentaxii.yml",
		"sudo rm /etc/logrotate.d/eclecticiq",
	} {
		if out, err := sshNode(ctx, l, "node1", c); err != nil {
			t.Fatalf("wreck: %s: %v\n%s", c, err, out)
		}
	}
	wrecked := eiqSnapshot(t, ctx, l)
	if wrecked.tables == before.tables || wrecked.docs["documents_v2"] == before.docs["documents_v2"] || wrecked.config == before.config {
		t.Fatalf("the wreck did not take")
	}

	_, restoreTime := runScript(t, ctx, l, EclecticIQRestorePath, SuccessEclecticIQRestore)
	t.Logf("restore of %d MB of PostgreSQL data took %s", data/1_000_000, restoreTime.Round(time.Millisecond))
	after := eiqSnapshot(t, ctx, l)
	if after.tables != before.tables {
		t.Errorf("tables after the restore:\n%s\nwant\n%s", after.tables, before.tables)
	}
	for ix, n := range before.docs {
		if after.docs[ix] != n {
			t.Errorf("%s: %d documents after the restore, want %d", ix, after.docs[ix], n)
		}
	}
	if after.config != before.config {
		t.Errorf("configuration after the restore:\n%s\nwant\n%s", after.config, before.config)
	}
	if out, err := sshNode(ctx, l, "node1", "systemctl is-active eclecticiq-platform-backend-services 'eclecticiq-platform-backend-worker@*' | sort -u"); err != nil || out != "active\n" {
		t.Errorf("the platform after the restore: %q %v", out, err)
	}
}

func mustSecret(t *testing.T, l *lab.Lab, name string) string {
	t.Helper()
	s, err := l.Secret(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
