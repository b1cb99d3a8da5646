package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// eiqLab brings up an EclecticIQ lab of one node (names hse9q0…, subnets
// 35–39) and registers the snapshot repository as seed 003 does.
func eiqLab(t *testing.T, name string, subnet int, auth bool) *lab.Lab {
	t.Helper()
	l := ownLab(t, lab.Options{Name: name, Subnet: subnet, Nodes: 1, Data: 12 << 20, Platform: lab.PlatformEclecticIQ, Auth: auth})
	nodeSh(t, l, "node1", eiqCurl(t, l)+` -XPUT 127.0.0.1:9200/_snapshot/hotsnap_repository -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}'`)
	return l
}

// eiqCurl is curl with the lab's ES password when it has one.
func eiqCurl(t *testing.T, l *lab.Lab) string {
	t.Helper()
	pw, err := l.Secret(lab.SecretES)
	if err != nil || pw == "" {
		return "curl -sf"
	}
	return "curl -sf -u " + lab.ESUser + ":" + pw
}

// eiqRun runs hotsnap in the lab and returns its exit code and output.
// Each test keeps its journals apart (t.Setenv XDG_STATE_HOME).
func eiqRun(t *testing.T, l *lab.Lab, args ...string) (int, string) {
	t.Helper()
	out, err := hotsnapInOp(t.Context(), l, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// eiqJSON runs hotsnap with --json in the lab, calling onEvent for each
// event; it returns the exit code, the run's ID, the events and stderr.
func eiqJSON(t *testing.T, l *lab.Lab, args []string, onEvent func(ev map[string]any, cmd *exec.Cmd)) (int, string, []map[string]any, string) {
	t.Helper()
	var run string
	code, events, stderr := jsonRun(t, l, append(args, "--json"), func(ev map[string]any, cmd *exec.Cmd) {
		if ev["event"] == "run_started" {
			run, _ = ev["run"].(string)
		}
		if onEvent != nil {
			onEvent(ev, cmd)
		}
	})
	return code, run, events, stderr
}

// eiqState is what the platform holds, read beside hotsnap: every table's
// row count and an md5 of its rows, every index's document count, and the
// bytes, mode and owner of some configuration files (secrets among them).
type eiqState struct {
	tables, docs, conf map[string]string
}

var eiqConfFiles = []string{"/etc/eclecticiq/platform_settings.py", "/etc/elasticsearch/users", "/etc/default/eclecticiq-platform-backend-worker-common", "/etc/eclecticiq-redis/redis.conf"}

func readEIQ(t *testing.T, l *lab.Lab) eiqState {
	t.Helper()
	s := eiqState{tables: map[string]string{}, docs: map[string]string{}, conf: map[string]string{}}
	var q []string
	for _, tb := range eclecticiq.Tables {
		q = append(q, fmt.Sprintf("SELECT '%s', count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) FROM %s t", tb, tb))
	}
	out := nodeSh(t, l, "node1", "runuser -u postgres -- psql -XAt -F ' ' -d eclecticiq -c "+remote.Quote(strings.Join(q, " UNION ALL "))+" 2>&1 || true")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			s.tables[f[0]] = f[1] + " " + f[2]
		}
	}
	for _, line := range strings.Split(nodeSh(t, l, "node1", eiqCurl(t, l)+" '127.0.0.1:9200/_cat/indices?h=index,docs.count'"), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			s.docs[f[0]] = f[1]
		}
	}
	for _, f := range eiqConfFiles {
		s.conf[f] = strings.TrimSpace(nodeSh(t, l, "node1", "stat -c '%a %U:%G' "+f+" && sha256sum "+f))
	}
	return s
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (s eiqState) equal(t *testing.T, got eiqState) {
	t.Helper()
	for _, c := range []struct {
		what      string
		want, got map[string]string
	}{{"table", s.tables, got.tables}, {"index", s.docs, got.docs}, {"configuration file", s.conf, got.conf}} {
		for k, v := range c.want {
			if c.got[k] != v {
				t.Errorf("%s %s: %q after the restore, %q before", c.what, k, c.got[k], v)
			}
		}
		if len(c.want) == 0 {
			t.Errorf("no %s read before", c.what)
		}
	}
}

// eiqUnitsActive fails unless the services and workers units are active.
func eiqUnitsActive(t *testing.T, l *lab.Lab) {
	t.Helper()
	out := nodeSh(t, l, "node1", "systemctl is-active "+eclecticiq.UnitServices+" "+eclecticiq.UnitWorkers+" 'eclecticiq-platform-backend-worker@*' || true")
	if strings.Contains(out, "inactive") || strings.Contains(out, "failed") || !strings.Contains(out, "active") {
		t.Errorf("the platform is not running again:\n%s", out)
	}
}

// newestEIQ returns the newest backup of the lab's repository and whether
// it is complete.
func newestEIQ(t *testing.T, l *lab.Lab) (string, bool) {
	t.Helper()
	ents, _ := os.ReadDir(l.BackupsPath())
	var ids []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "hotsnap-") {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) == 0 {
		return "", false
	}
	slices.Sort(ids)
	id := ids[len(ids)-1]
	_, err := os.Stat(filepath.Join(l.BackupsPath(), id, repo.ManifestFile))
	return id, err == nil
}

func readManifest(t *testing.T, l *lab.Lab, id string) *repo.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.BackupsPath(), id, repo.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m repo.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestE2EEclecticIQRoundTrip (hse9q0, with passwords): back up, damage
// (drop the database, delete an index, change a configuration file,
// enqueue tasks), restore, and find everything as it was; restore again
// into the non-empty cluster; no password in any journal or output.
func TestE2EEclecticIQRoundTrip(t *testing.T) {
	l := eiqLab(t, "hse9q0", 35, true)
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	before := readEIQ(t, l)
	if len(before.tables) != len(eclecticiq.Tables) || before.tables["entity"] == "" || before.docs["documents_v2"] == "" {
		t.Fatalf("the lab has no data to back up: %+v", before)
	}
	code, backupOut := eiqRun(t, l, "backup", "--yes", "--no-tui", "--name", "before the upgrade")
	id, complete := newestEIQ(t, l)
	if code != 0 || !complete {
		t.Fatalf("backup: exit %d\n%s", code, backupOut)
	}
	m := readManifest(t, l, id)
	if m.PostgreSQL == nil || m.PostgreSQL.Major != 15 || !slices.Contains(m.PostgreSQL.DumpDatabases, "eclecticiq") || len(m.Configs) != 1 || len(m.Configs[0].Entries) < 90 ||
		m.Redis == nil || m.Elasticsearch == nil || m.Elasticsearch.State != "SUCCESS" || m.Elasticsearch.Docs["documents_v2"] == 0 || m.Label != "before the upgrade" {
		t.Fatalf("manifest: %+v", m)
	}
	for _, e := range m.Configs[0].Entries {
		if strings.HasPrefix(e.Name, "media/elasticsearch/") {
			t.Errorf("the configuration archive holds Elasticsearch's live data: %s", e.Name)
		}
	}

	// Damage.
	nodeSh(t, l, "node1", "runuser -u postgres -- psql -XAtqc 'DROP DATABASE eclecticiq WITH (FORCE)' && "+eiqCurl(t, l)+" -XDELETE 127.0.0.1:9200/documents_v2 >/dev/null && "+
		"echo '# changed after the backup' >> /etc/eclecticiq/platform_settings.py && chmod 0644 /etc/eclecticiq/platform_settings.py")
	if err := l.EclecticIQKnob(eclecticiq.KnobStuckQueues, "reindexing"); err != nil {
		t.Fatal(err)
	}
	defer l.EclecticIQKnob(eclecticiq.KnobStuckQueues, "") //nolint:errcheck // best effort
	b, err := l.EclecticIQBroker(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 7 {
		if err := b.Publish(t.Context(), eclecticiq.NewMessage("reindexing", fmt.Sprintf("enqueued-after-the-backup-%d", i), 0, "gen1@e2e")); err != nil {
			t.Fatal(err)
		}
	}
	if damaged := readEIQ(t, l); damaged.tables["entity"] == before.tables["entity"] || damaged.conf[eiqConfFiles[0]] == before.conf[eiqConfFiles[0]] {
		t.Fatalf("the damage did not take: %+v", damaged)
	}

	code, out := eiqRun(t, l, "restore", id, "--yes", "--confirm", "lab", "--no-tui")
	if code != 0 || !strings.Contains(out, steps.SuccessLine) {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	for _, want := range []string{"tables: 9 of 9 equal to the backup", "indices: 7 of 7 with the backup's document counts", "search upgrade: exit 0",
		"/etc/eclecticiq/platform_settings.py: content differs", "/etc/eclecticiq/platform_settings.py: mode 644, the backup has 640"} {
		if !strings.Contains(out, want) {
			t.Errorf("the restore's output lacks %q:\n%s", want, out)
		}
	}
	if m := regexp.MustCompile(`deleted \d+ keys holding (\d+) tasks`).FindStringSubmatch(out); m == nil || atoi(m[1]) < 7 {
		t.Errorf("the restore did not empty the 7 tasks enqueued after the backup:\n%s", out)
	}
	before.equal(t, readEIQ(t, l))
	eiqUnitsActive(t, l)
	for _, k := range eclecticiq.QueueKeys("reindexing") {
		items, err := b.Client().LRange(t.Context(), k, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if strings.Contains(it, "enqueued-after-the-backup") {
				t.Errorf("a task enqueued after the backup survived the restore in %q", k)
			}
		}
	}

	// Again, into the restored (non-empty) cluster: the databases are
	// dropped first, the indices deleted, psql sees only the role errors.
	code, out2 := eiqRun(t, l, "restore", id, "--yes", "--confirm", "lab", "--no-tui")
	if code != 0 || !strings.Contains(out2, steps.SuccessLine) || !strings.Contains(out2, `psql: role "eclecticiq" already exists (expected`) {
		t.Fatalf("restore into the non-empty cluster: exit %d\n%s", code, out2)
	}
	before.equal(t, readEIQ(t, l))

	// No secret in any journal of these runs, nor in their output.
	journals, _ := filepath.Glob(filepath.Join(state, "hotsnap", "runs", "*.jsonl"))
	if len(journals) < 3 {
		t.Fatalf("journals: %v", journals)
	}
	all := backupOut + out + out2
	for _, j := range journals {
		data, err := os.ReadFile(j)
		if err != nil {
			t.Fatal(err)
		}
		all += string(data)
	}
	if !strings.Contains(all, "REDISCLI_AUTH") {
		t.Errorf("the journals record no redis-cli command")
	}
	for _, name := range []string{lab.SecretRedis, lab.SecretES, lab.SecretPostgres} {
		pw, err := l.Secret(name)
		if err != nil || len(pw) < 8 {
			t.Fatalf("secret %s: %q %v", name, pw, err)
		}
		if strings.Contains(all, pw) {
			t.Errorf("the %s password is in a journal or the output", name)
		}
	}
}

func stepEvent(ev map[string]any, event, step string) bool {
	return ev["event"] == event && ev["step"] == step
}

// TestE2EEclecticIQBackupFaults (hse9q1): a queue that never drains stops
// at the choice gate and loses nothing; a worker that will not stop is
// waited for until systemd kills it; PostgreSQL killed mid-dump, the
// snapshot FAILED and SSH lost leave no manifest; Ctrl-C during the dump
// starts the platform again and resume takes the backup again; the
// snapshot a killed backup left is found and cleared (killedESBackup).
func TestE2EEclecticIQBackupFaults(t *testing.T) {
	l := eiqLab(t, "hse9q1", 36, false)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	knob := func(name, value string) {
		t.Helper()
		if err := l.EclecticIQKnob(name, value); err != nil {
			t.Fatal(err)
		}
	}
	noManifest := func(t *testing.T) {
		t.Helper()
		if id, complete := newestEIQ(t, l); complete {
			t.Errorf("a failed backup left a manifest: %s", id)
		}
		os.RemoveAll(l.BackupsPath())
	}

	t.Run("a queue that never drains", func(t *testing.T) {
		knob(eclecticiq.KnobStuckQueues, "utilities")
		defer knob(eclecticiq.KnobStuckQueues, "")
		// The workers re-read their switches at most once a second, and a
		// BRPOP already waiting on utilities lasts 200 ms: tasks published
		// sooner can still be taken (the run that failed: LLEN 0).
		time.Sleep(1500 * time.Millisecond)
		b, err := l.EclecticIQBroker(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for i := range 3 {
			if err := b.Publish(t.Context(), eclecticiq.NewMessage("utilities", fmt.Sprint("stuck-", i), 0, "gen1@e2e")); err != nil {
				t.Fatal(err)
			}
		}
		code, _, events, stderr := eiqJSON(t, l, []string{"backup", "--yes", "-i", changedInventory(t, l, "", func(inv *config.Inventory) { inv.EclecticIQ.DrainTimeout = 2 * time.Second })}, nil)
		if code != exitFailed || !strings.Contains(stderr, "stopped at the operator's choice") {
			t.Fatalf("exit %d, want %d stopping at the drain gate:\n%s", code, exitFailed, stderr)
		}
		if !hasEvent(events, func(ev map[string]any) bool {
			return stepEvent(ev, "gate_decided", "drain-choice") && ev["choice"] == "stop"
		}) {
			t.Errorf("the drain gate did not ask (or --yes did not take stop)")
		}
		noManifest(t)
		if n, err := b.Client().LLen(t.Context(), "utilities").Result(); err != nil || n < 3 {
			t.Errorf("queued tasks lost without the destructive choice: LLEN utilities = %d, %v", n, err)
		}
		eiqUnitsActive(t, l)
	})

	t.Run("a worker that will not stop", func(t *testing.T) {
		knob(eclecticiq.KnobStuckWorkers, "common")
		defer knob(eclecticiq.KnobStuckWorkers, "")
		code, out := eiqRun(t, l, "backup", "--yes", "--no-tui")
		if code != 0 || !strings.Contains(out, "waiting for systemd to stop: eclecticiq-platform-backend-worker@common.service") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if _, complete := newestEIQ(t, l); !complete {
			t.Fatal("no manifest")
		}
		os.RemoveAll(l.BackupsPath())
		eiqUnitsActive(t, l)
	})

	t.Run("PostgreSQL killed during the dump", func(t *testing.T) {
		killed := false
		code, _, _, stderr := eiqJSON(t, l, []string{"backup", "--yes"}, func(ev map[string]any, _ *exec.Cmd) {
			if !killed && stepEvent(ev, "progress", "dump-postgresql") {
				killed = true
				nodeSh(t, l, "node1", "kill -9 $(systemctl show -p MainPID --value "+eclecticiq.PGUnit+")")
			}
		})
		// Started again once its orphaned backends are gone (they notice
		// the postmaster's death); the poll ends as soon as it answers.
		defer nodeSh(t, l, "node1", "for i in $(seq 100); do systemctl start "+eclecticiq.PGUnit+" 2>/dev/null && runuser -u postgres -- psql -XAtqc 'select 1' >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1")
		if code != exitFailed || !killed || !strings.Contains(stderr, "pg_dumpall") || !strings.Contains(stderr, "no dump was kept") {
			t.Fatalf("exit %d (killed %v):\n%s", code, killed, stderr)
		}
		noManifest(t)
		eiqUnitsActive(t, l)
	})

	t.Run("elasticsearch snapshot FAILED", func(t *testing.T) {
		nodeSh(t, l, "node1", "es-standin fault --state "+filepath.Join(l.StateDir, "shared", "es-state")+" --fail-next-snapshot FAILED --reason 'disk of node-1 is full'")
		code, _, _, stderr := eiqJSON(t, l, []string{"backup", "--yes"}, nil)
		if code != exitFailed || !strings.Contains(stderr, "FAILED") || !strings.Contains(stderr, "disk of node-1 is full") {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		noManifest(t)
		eiqUnitsActive(t, l)
	})

	t.Run("Ctrl-C during the dump, then resume", func(t *testing.T) {
		sent := false
		code, run, events, stderr := eiqJSON(t, l, []string{"backup", "--yes"}, func(ev map[string]any, cmd *exec.Cmd) {
			if !sent && stepEvent(ev, "progress", "dump-postgresql") {
				sent = true
				cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // the exit code tells
			}
		})
		if code != exitAborted || !sent {
			t.Fatalf("exit %d, want %d:\n%s", code, exitAborted, stderr)
		}
		for _, step := range []string{"stop-workers", "stop-services"} {
			if !hasEvent(events, func(ev map[string]any) bool { return stepEvent(ev, "cleanup", step) && ev["error"] == nil }) {
				t.Errorf("no cleanup of %s", step)
			}
		}
		eiqUnitsActive(t, l)
		code, out := eiqRun(t, l, "resume", run, "--yes", "--no-tui")
		if _, complete := newestEIQ(t, l); code != 0 || !complete {
			t.Fatalf("resume: exit %d\n%s", code, out)
		}
		os.RemoveAll(l.BackupsPath())
	})

	t.Run("SSH lost during the dump", func(t *testing.T) {
		lost := false
		code, run, _, stderr := eiqJSON(t, l, []string{"backup", "--yes"}, func(ev map[string]any, _ *exec.Cmd) {
			if !lost && stepEvent(ev, "progress", "dump-postgresql") {
				lost = true
				killNodeSSHD(t, l, "node1")
			}
		})
		if err := l.RestartSSHD(context.Background(), "node1"); err != nil {
			t.Fatal(err)
		}
		if code != exitFailed || !strings.Contains(stderr, "node1") {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		noManifest(t)
		// The platform could not be started over the lost connection:
		// resume takes the backup again and starts it.
		code, out := eiqRun(t, l, "resume", run, "--yes", "--no-tui")
		if _, complete := newestEIQ(t, l); code != 0 || !complete {
			t.Fatalf("resume: exit %d\n%s", code, out)
		}
		eiqUnitsActive(t, l)
	})

	t.Run("killed once the snapshot started", func(t *testing.T) {
		// Hot, so that the kill leaves the platform running. The snapshot
		// starts with the dump, which a transaction holding a lock on a
		// table keeps waiting: the run is killed once its snapshot has
		// ended and before it can write the manifest, however fast it is
		// (killed as the manifest step started, it once wrote it first).
		const esRepo = "hotsnap_repository"
		release := holdTableLock(t, l, "audit")
		before := esSnapshotsIn(t, l, esRepo)
		killedESBackup(t, l, esRepo, func(ev map[string]any, cmd *exec.Cmd) bool {
			if !stepEvent(ev, "step_started", "dump-postgresql") {
				return false
			}
			// The group's later events wait for the dump's: ask ES.
			waitUntil(t, 30*time.Second, "the backup's Elasticsearch snapshot to succeed", func() bool {
				for id, st := range esSnapshotsIn(t, l, esRepo) {
					if _, seen := before[id]; !seen && st == "SUCCESS" {
						return true
					}
				}
				return false
			})
			cmd.Process.Kill()
			release()
			return true
		}, nil, "--hot")
		eiqUnitsActive(t, l)
	})
}

// holdTableLock takes an ACCESS EXCLUSIVE lock on table in node1's
// eclecticiq database, in a transaction left open until release (or the
// test's end): pg_dump waits for it.
func holdTableLock(t *testing.T, l *lab.Lab, table string) (release func()) {
	t.Helper()
	const marker = "hotsnap-e2e-hold"
	psql := "runuser -u postgres -- psql -XAtq -d eclecticiq -c "
	cmd := nodeCmd(context.Background(), l, "node1", "sh", "-c", psql+remote.Quote("BEGIN; LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300) /* "+marker+" */"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	release = sync.OnceFunc(func() {
		nodeSh(t, l, "node1", psql+remote.Quote("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%"+marker+"%' AND pid <> pg_backend_pid()")+" >/dev/null")
		cmd.Wait() //nolint:errcheck // psql ends with the connection terminated
	})
	t.Cleanup(release)
	waitUntil(t, 10*time.Second, "the lock on "+table, func() bool {
		out := nodeSh(t, l, "node1", psql+remote.Quote("SELECT count(*) FROM pg_locks k JOIN pg_class c ON c.oid = k.relation WHERE c.relname = '"+table+"' AND k.mode = 'AccessExclusiveLock' AND k.granted"))
		return strings.TrimSpace(out) == "1"
	})
	return release
}

// TestE2EEclecticIQRestoreFaults (hse9q2): a psql error other than the
// role one fails the restore naming the dump's line; Ctrl-C during the
// load leaves the platform stopped and resume finishes the restore.
func TestE2EEclecticIQRestoreFaults(t *testing.T) {
	l := eiqLab(t, "hse9q2", 37, false)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	before := readEIQ(t, l)
	backup := func() string {
		code, out := eiqRun(t, l, "backup", "--yes", "--no-tui")
		m := regexp.MustCompile(`=== ✓ Backup (\S+) complete ===`).FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("backup: exit %d\n%s", code, out)
		}
		return m[1]
	}
	good, bad := backup(), backup()

	t.Run("a psql error other than the role one", func(t *testing.T) {
		// A statement that fails, put before the trailer, with the
		// manifest's hash and size made to match.
		p := filepath.Join(l.BackupsPath(), bad, repo.PostgresDumpFile)
		dump, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		at := strings.LastIndex(string(dump), "--\n-- PostgreSQL database cluster dump complete")
		bogus := "SELECT hotsnap_no_such_function();\n"
		line := strings.Count(string(dump[:at]), "\n") + 1
		dump = []byte(string(dump[:at]) + bogus + string(dump[at:]))
		if err := os.WriteFile(p, dump, 0o600); err != nil {
			t.Fatal(err)
		}
		m := readManifest(t, l, bad)
		f, err := repo.WriteFile(t.Context(), mustLocal(t, filepath.Join(l.BackupsPath(), bad)), "x", func(w io.Writer) error { _, err := w.Write(dump); return err })
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(l.BackupsPath(), bad, "x"))
		m.PostgreSQL.Dump.Size, m.PostgreSQL.Dump.SHA256 = f.Size, f.SHA256
		st := mustLocal(t, l.BackupsPath())
		if err := repo.WriteManifest(t.Context(), st, m); err != nil {
			t.Fatal(err)
		}
		code, out := eiqRun(t, l, "restore", bad, "--yes", "--confirm", "lab", "--no-tui")
		want := fmt.Sprintf("psql failed at line %d of the dump: ERROR:  function hotsnap_no_such_function() does not exist", line)
		if code != exitFailed || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want %d with %q:\n%s", code, exitFailed, want, out)
		}
		if st := strings.TrimSpace(nodeSh(t, l, "node1", "systemctl is-active "+eclecticiq.UnitServices+" || true")); st != "inactive" {
			t.Errorf("the services are %q after a failed load, want inactive (the data is half restored)", st)
		}
	})

	t.Run("Ctrl-C during the load, then resume", func(t *testing.T) {
		sent := false
		code, run, _, stderr := eiqJSON(t, l, []string{"restore", good, "--yes", "--confirm", "lab"}, func(ev map[string]any, cmd *exec.Cmd) {
			if !sent && stepEvent(ev, "progress", "load-postgresql") {
				sent = true
				cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // the exit code tells
			}
		})
		if code != exitAborted || !sent {
			t.Fatalf("exit %d (sent %v), want %d:\n%s", code, sent, exitAborted, stderr)
		}
		if st := strings.TrimSpace(nodeSh(t, l, "node1", "systemctl is-active "+eclecticiq.UnitServices+" || true")); st != "inactive" {
			t.Errorf("the services are %q after a cancelled load, want inactive", st)
		}
		code, out := eiqRun(t, l, "resume", run, "--yes", "--confirm", "lab", "--no-tui")
		if code != 0 || !strings.Contains(out, steps.SuccessLine) || !strings.Contains(out, "not repeated") {
			t.Fatalf("resume: exit %d\n%s", code, out)
		}
		before.equal(t, readEIQ(t, l))
		eiqUnitsActive(t, l)
	})
}

func mustLocal(t *testing.T, dir string) repo.Store {
	t.Helper()
	s, err := repo.Open(t.Context(), dir, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
