package main

import (
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/cassandra"
	"github.com/hotsnap/hotsnap/lab/thehive"
)

// TestE2EDeadlines: the operations of a restore that can hang give up at
// their deadline (--timeout-*), naming the node and what it waited for.
func TestE2EDeadlines(t *testing.T) {
	l := needLab(t)
	if out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui").CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	id := newestBackup(t, l)
	before := readAppState(t, l)
	restore := func(extra ...string) (string, int, time.Duration) {
		t0 := time.Now()
		out, err := hotsnapInOp(t.Context(), l, append([]string{"restore", id, "--yes", "--confirm", "lab", "--no-tui"}, extra...)...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code, time.Since(t0)
	}

	t.Run("nodetool snapshot stuck behind a flush", func(t *testing.T) {
		tags := func() map[string]int {
			out := map[string]int{}
			for _, n := range l.Nodes {
				out[n.Name] = strings.Count(nodeSh(t, l, n.Name, "nodetool listsnapshots"), "hotsnap-")
			}
			return out
		}
		before, backups := tags(), backupsIn(t, l)
		nodeSh(t, l, "node2", "touch "+cassandra.SnapshotBlocksFault)
		defer nodeSh(t, l, "node2", "rm -f "+cassandra.SnapshotBlocksFault)
		t0 := time.Now()
		out, err := hotsnapInOp(t.Context(), l, "backup", "--yes", "--no-tui", "--timeout-snapshot", "2s").CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailed || time.Since(t0) > time.Minute {
			t.Fatalf("backup with node2's snapshot stuck: %v after %s, want exit %d:\n%s", err, time.Since(t0), exitFailed, out)
		}
		for _, want := range []string{"node2: deadline passed", "`nodetool snapshot -t", "MemtableFlushWriter", "still not done after 2s", "--timeout-snapshot"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the failure lacks %q:\n%s", want, out)
			}
		}
		if after := tags(); !maps.Equal(after, before) {
			t.Errorf("snapshots left on the nodes: %v before, %v after", before, after)
		}
		for id, complete := range backupsIn(t, l) {
			if _, ok := backups[id]; !ok && complete {
				t.Errorf("the failed backup wrote a manifest: %s", id)
			}
		}
	})

	t.Run("a service that ignores SIGTERM", func(t *testing.T) {
		// node1's TheHive ignores SIGTERM: `systemctl stop` waits out the
		// unit's 90 s TimeoutStopSec; the restore gives up at 2 s.
		nodeSh(t, l, "node1", "touch "+thehive.IgnoreSIGTERMFault)
		defer func() {
			// The lab's systemctl plays systemd's stop job in the client
			// hotsnap gave up on, so nothing SIGKILLs the stand-in at its
			// TimeoutStopSec: the test does, by the PID on port 9000.
			nodeSh(t, l, "node1", "rm -f "+thehive.IgnoreSIGTERMFault+"; "+
				`for p in $(ss -ltnpH 'sport = :9000' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | sort -u); do kill -9 "$p"; done; `+
				"systemctl stop thehive; systemctl start thehive")
			waitUntil(t, time.Minute, "TheHive healthy on node1 again", func() bool {
				return nodeSh(t, l, "node1", "curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:9000/api/status || true") == "200"
			})
		}()
		out, code, took := restore("--timeout-stop", "2s")
		if code != exitFailed || took > 60*time.Second {
			t.Fatalf("exit %d after %s, want %d well before the unit's 90 s stop timeout:\n%s", code, took, exitFailed, out)
		}
		for _, want := range []string{"node1: deadline passed", "`systemctl stop thehive` to return", "TimeoutStopSec", "still not done after 2s", "--timeout-stop", "nothing has been changed"} {
			if !strings.Contains(out, want) {
				t.Errorf("the failure lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "Restore the keyspace") {
			t.Errorf("a destructive step ran although TheHive did not stop:\n%s", out)
		}
	})
	before.equal(t, readAppState(t, l))

	t.Run("an Elasticsearch recovery that never finishes", func(t *testing.T) {
		state := filepath.Join(l.StateDir, "shared", "es-state")
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --recovery-rate 1KB")
		out, code, _ := restore("--timeout-recovery", "3s")
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --recovery-rate auto")
		if code != exitFailed {
			t.Fatalf("exit %d, want %d:\n%s", code, exitFailed, out)
		}
		for _, want := range []string{"node1: deadline passed", "Elasticsearch's recovery of", "thehive_global", "not DONE", "still not done after 3s", "--timeout-recovery"} {
			if !strings.Contains(out, want) {
				t.Errorf("the failure lacks %q:\n%s", want, out)
			}
		}
		// The operator's way on: resume, with the recovery back to speed.
		resumeFailedRestore(t, l, out)
	})
	before.equal(t, readAppState(t, l))

	t.Run("TheHive never healthy after the restore", func(t *testing.T) {
		// node1's TheHive starts but never gets ready (its storage backend
		// will not open): the wait for /api/status gives up at 3 s.
		nodeSh(t, l, "node1", "touch "+thehive.NeverReadyFault)
		defer nodeSh(t, l, "node1", "rm -f "+thehive.NeverReadyFault)
		out, code, took := restore("--timeout-health", "3s")
		if code != exitFailed || took > time.Minute {
			t.Fatalf("exit %d after %s, want %d:\n%s", code, took, exitFailed, out)
		}
		for _, want := range []string{"node1: deadline passed", "TheHive not healthy after 3s", "HTTP 503", "journalctl -u thehive", "--timeout-health",
			"TheHive was started again once the data was restored, and did not get healthy"} {
			if !strings.Contains(out, want) {
				t.Errorf("the failure lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "TheHive stays stopped") {
			t.Errorf("the failure says TheHive stays stopped, though it was started:\n%s", out)
		}
		// The data was restored; once TheHive can start, the resume ends it.
		nodeSh(t, l, "node1", "rm -f "+thehive.NeverReadyFault)
		resumeFailedRestore(t, l, out)
	})
	before.equal(t, readAppState(t, l))
	theHiveHealthy(t, l)
}

// resumeFailedRestore resumes the failed restore whose output is out (the run
// its "hotsnap resume RUN" names) and wants it to end the restore.
func resumeFailedRestore(t *testing.T, l *lab.Lab, out string) {
	t.Helper()
	m := regexp.MustCompile(`hotsnap resume ([0-9a-f-]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no resume command:\n%s", out)
	}
	res, err := hotsnapInOp(t.Context(), l, "resume", m[1], "--yes", "--confirm", "lab", "--no-tui").CombinedOutput()
	if err != nil || !strings.Contains(string(res), "Successful full restore") {
		t.Fatalf("resume %s: %v\n%s", m[1], err, res)
	}
}
