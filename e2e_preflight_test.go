package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/cassandra"
	cstep "github.com/hotsnap/hotsnap/steps/cassandra"
)

type checkEvent struct {
	Event string `json:"event"`
	Check *struct {
		Check    string `json:"check"`
		Node     string `json:"node"`
		Status   string `json:"status"`
		Evidence string `json:"evidence"`
		Remedy   string `json:"remedy"`
	} `json:"check"`
}

// preflightJSON runs `hotsnap preflight --json` in the lab and returns the
// exit code and the checks that did not pass, as "node/check" → remedy.
func preflightJSON(t *testing.T, l *lab.Lab, extra ...string) (int, map[string]string, string) {
	t.Helper()
	cmd := hotsnapInOp(t.Context(), l, append([]string{"preflight", "--json"}, extra...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev checkEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad JSON line %q", sc.Text())
		}
		if ev.Event == "check" && ev.Check.Status != "pass" {
			bad[ev.Check.Node+"/"+ev.Check.Check] = ev.Check.Status + ": " + ev.Check.Evidence + " → " + ev.Check.Remedy
		}
	}
	return code, bad, errb.String()
}

// nodeCmd is a command inside a lab node (as root, no SSH), with a PATH
// that finds the stand-ins (in /usr/local/bin).
func nodeCmd(ctx context.Context, l *lab.Lab, node, name string, args ...string) *exec.Cmd {
	cmd := l.NodeCommand(ctx, node, name, args...)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	return cmd
}

// nodeSh runs a shell command inside a lab node (as root, no SSH).
func nodeSh(t *testing.T, l *lab.Lab, node, script string) string {
	t.Helper()
	out, err := nodeCmd(t.Context(), l, node, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", node, script, err, out)
	}
	return string(out)
}

// cassandraFault turns on the Cassandra stand-in's fault switch file on
// node (lab/cassandra: StateFile, SchemaFile, ReleaseFile), holding value;
// the function it returns turns it off (defer it: t.Context() is done by
// the time cleanups run).
func cassandraFault(t *testing.T, l *lab.Lab, node, file, value string) (off func()) {
	t.Helper()
	f := "/var/lib/cassandra/stand-in/" + file
	nodeSh(t, l, node, "echo "+value+" > "+f)
	return func() { nodeSh(t, l, node, "rm -f "+f) }
}

const registerRepo = `curl -sf -XPUT 127.0.0.1:9200/_snapshot/thehive_repository -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}'`

func TestE2EPreflight(t *testing.T) {
	l := needLab(t)

	code, bad, stderr := preflightJSON(t, l)
	if code != 0 || len(bad) > 0 {
		t.Fatalf("healthy lab: exit %d, not passing: %v\n%s", code, bad, stderr)
	}

	t.Run("node down", func(t *testing.T) {
		if err := l.StopNode(t.Context(), "node3", false); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := l.StartNode(t.Context(), "node3"); err != nil {
				t.Fatal(err)
			}
		}()
		expectPreflightFailure(t, l, "node3/ring state", "DN "+l.Nodes[2].IP, "bring the node back (`sudo systemctl start cassandra` on it)")
	})
	t.Run("elasticsearch red", func(t *testing.T) {
		state := filepath.Join(l.StateDir, "shared", "es-state")
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --health red")
		defer nodeSh(t, l, "node1", "es-standin fault --state "+state+" --health auto")
		expectPreflightFailure(t, l, "node1/es health", "red, 3 nodes", "primary shards are missing: a snapshot would be PARTIAL; fix the cluster first (`GET _cluster/allocation/explain`)")
	})
	t.Run("repository missing", func(t *testing.T) {
		nodeSh(t, l, "node1", "curl -sf -XDELETE 127.0.0.1:9200/_snapshot/thehive_repository")
		defer nodeSh(t, l, "node1", registerRepo)
		expectPreflightFailure(t, l, "node1/es repository", `repository "thehive_repository" is not registered`,
			"`path.repo: /mnt/backup/elasticsearch`, then `sudo systemctl restart elasticsearch`, then register it once: curl -X PUT 'http://127.0.0.1:9200/_snapshot/thehive_repository'")
	})
	t.Run("repository read-only", func(t *testing.T) {
		// Registered read-only (as a second cluster reading another's
		// repository would): it verifies, but takes no snapshot.
		nodeSh(t, l, "node1", `curl -sf -XPUT 127.0.0.1:9200/_snapshot/thehive_repository -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch","readonly":true}}'`)
		defer nodeSh(t, l, "node1", registerRepo)
		expectPreflightFailure(t, l, "node1/es repository", "thehive_repository is registered read-only (settings.readonly: true)",
			`register it again without readonly: curl -X PUT 'http://127.0.0.1:9200/_snapshot/thehive_repository' -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}'`)
	})
	t.Run("RF 1 on 3 nodes", func(t *testing.T) {
		nodeSh(t, l, "node1", `cqlsh `+l.Nodes[0].IP+` -e "ALTER KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"`)
		defer nodeSh(t, l, "node1", `cqlsh `+l.Nodes[0].IP+` -e "ALTER KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}"`)
		expectPreflightFailure(t, l, "/replication", "thehive: SimpleStrategy, RF 1 on 3 nodes",
			"`ALTER KEYSPACE thehive WITH REPLICATION = { 'class' : 'NetworkTopologyStrategy', 'datacenter1' : 3 };`, then `nodetool repair -full thehive` on every node")
	})
	t.Run("changed host key", func(t *testing.T) {
		if _, err := l.RotateHostKey(t.Context(), "node2"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := l.WriteKnownHosts(); err != nil {
				t.Fatal(err)
			}
		}()
		expectPreflightFailure(t, l, "node2/ssh+sudo", "HOST KEY CHANGED",
			"the host key of node2 changed: do not go on until you know why (a reinstalled node, or a man-in-the-middle)")
		expectPreflightFailure(t, l, "node2/ssh+sudo", "HOST KEY CHANGED",
			"remove the old one with `ssh-keygen -R "+l.Nodes[1].IP+" -f "+l.KnownHostsPath()+"` and re-run with --accept-new-hosts")
	})
	t.Run("keyspace missing", func(t *testing.T) {
		p := changedInventory(t, l, "", func(inv *config.Inventory) { inv.Cassandra.Keyspace = "nothere" })
		os.Chmod(filepath.Dir(p), 0o755)
		expectPreflightFailure(t, l, "node1/keyspace", "The keyspace nothere, does not exist", "keyspace nothere is missing: check cassandra.keyspace", "--inventory", p)
	})
	t.Run("repository too small", func(t *testing.T) {
		dir, p := tmpfsRepo(t, l, 1<<20, "backups")
		expectPreflightFailure(t, l, "repository/repository space", "free at "+dir+"; the backup copies about", "free at least", "--inventory", p)
	})
	t.Run("cassandra data disk full", func(t *testing.T) {
		mount := cassandraDataOnTmpfs(t, l, "node2", 1<<20)
		nodeSh(t, l, "node2", "dd if=/dev/zero of="+mount+"/.fill bs=64k 2>/dev/null; df -B1 "+mount) // 0 bytes free
		expectPreflightFailure(t, l, "node2/disk", "0 B free on "+mount+" (tmpfs), below the 512.0 MiB a snapshot needs",
			"make room on "+mount+": `nodetool listsnapshots`")
		// The backup stops at its preflight: no snapshot on any node, none in ES.
		before := esSnapshots(t, l)
		if code, _, stderr := backupRun(t, l, nil); code != exitPreflight || !strings.Contains(stderr, "node2: disk") {
			t.Fatalf("backup on a full data disk: exit %d, want %d naming node2's disk:\n%s", code, exitPreflight, stderr)
		}
		for _, n := range l.Nodes {
			if left := snapshotsLeft(t, l, n.Name); left != "" {
				t.Errorf("%s: snapshot taken by a backup refused at preflight:\n%s", n.Name, left)
			}
		}
		if after := esSnapshots(t, l); !maps.Equal(after, before) {
			t.Errorf("ES snapshots changed by a backup refused at preflight:\n%v\n→\n%v", before, after)
		}
	})
	t.Run("cassandra data disk tight", func(t *testing.T) {
		ks := duBytes(t, l, "node2", "/var/lib/cassandra/data/thehive")
		mount := cassandraDataOnTmpfs(t, l, "node2", cstep.SnapshotFloor+ks/2)
		code, bad, stderr := preflightJSON(t, l)
		got := bad["node2/disk"]
		if code != 0 || !strings.HasPrefix(got, "warn: ") || !strings.Contains(got, "free on "+mount+" (tmpfs), less than") ||
			!strings.Contains(got, "hard links keep every SSTable compaction replaces") {
			t.Fatalf("exit %d, want 0 with a warning on node2/disk saying what fills it; not passing: %v\n%s", code, bad, stderr)
		}
	})
	for st, what := range map[string]string{"J": "joining (bootstrapping)", "L": "leaving (decommissioning)", "M": "moving to new tokens"} {
		t.Run("node3 U"+st, func(t *testing.T) {
			defer cassandraFault(t, l, "node3", cassandra.StateFile, st)()
			expectPreflightFailure(t, l, "node3/ring state", "U"+st+" "+l.Nodes[2].IP+" in `nodetool status`", "the node is "+what+": its ranges are being streamed")
		})
	}
	t.Run("node3's schema behind", func(t *testing.T) {
		// The stand-in's fault switch (lab/cassandra SchemaFile): node3
		// reports a schema version the others do not.
		defer cassandraFault(t, l, "node3", cassandra.SchemaFile, "59adb24e-f3cd-3e02-97f0-5b395827453f")()
		expectPreflightFailure(t, l, "node1/schema agreement", "2 schema versions in `nodetool describecluster` seen from node1", "has not reached node3")
	})
	t.Run("node3 on another Cassandra version", func(t *testing.T) {
		// The stand-in's fault switch (lab/cassandra ReleaseFile): node3
		// reports 4.0.13 (in every node's describecluster), a node a
		// rolling upgrade has not reached; the preflight runs no
		// `nodetool version` and still names it.
		defer cassandraFault(t, l, "node3", cassandra.ReleaseFile, "4.0.13")()
		expectPreflightFailure(t, l, "/one cassandra version", "nodes run different versions: map[4.0.13:[node3] 4.1.12:[node1 node2]]", "finish the rolling upgrade before taking a backup")
	})
	t.Run("node2's clock 10 s ahead", func(t *testing.T) {
		clockAhead(t, l, "node2", 10)
		// The offset is measured through SSH, each node's reading late by
		// its round trip (up to a few hundred ms on a loaded machine).
		ev := expectPreflightFailure(t, l, "node2/clock skew", "node2's clock is ", "synchronise node2's clock")
		m := regexp.MustCompile(`node2's clock is (\S+) ahead of the median`).FindStringSubmatch(ev)
		if m == nil {
			t.Fatalf("node2 is 10 s ahead; the check says: %s", ev)
		}
		if d, err := time.ParseDuration(m[1]); err != nil || d < 9*time.Second || d > 11*time.Second {
			t.Errorf("node2 is 10 s ahead; the check says %s (%v)", m[1], err)
		}
	})
	// And healthy again after every fault was undone.
	if code, bad, stderr := preflightJSON(t, l); code != 0 {
		t.Fatalf("after the faults: exit %d, not passing: %v\n%s", code, bad, stderr)
	}
}

// expectPreflightFailure runs preflight --json in l and wants exit 3, the
// check key ("node/check") failed with evidence and remedy containing the
// given texts, and the failure summed up on stderr.
func expectPreflightFailure(t *testing.T, l *lab.Lab, key, evidence, remedy string, extra ...string) (got string) {
	t.Helper()
	code, bad, stderr := preflightJSON(t, l, extra...)
	if code != exitPreflight {
		t.Fatalf("exit %d, want %d; not passing: %v\n%s", code, exitPreflight, bad, stderr)
	}
	got, ok := bad[key]
	ev, rem, _ := strings.Cut(got, " → ")
	if !ok || !strings.HasPrefix(got, "fail") || !strings.Contains(ev, evidence) || !strings.Contains(rem, remedy) {
		t.Fatalf("want %s to fail with evidence containing %q and remedy containing %q; got %q; all: %v", key, evidence, remedy, got, bad)
	}
	if !strings.Contains(stderr, "preflight failed") || !strings.Contains(stderr, strings.TrimPrefix(strings.Replace(key, "/", ": ", 1), ": ")) {
		t.Errorf("stderr does not sum up the failure of %s: %q", key, stderr)
	}
	return ev
}

// TestE2EPreflightS3 checks the S3 attachment store on a lab of its own:
// healthy with the right keys, a failure with a remedy with wrong ones.
func TestE2EPreflightS3(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse2s", Subnet: 4, Nodes: 1, Data: 4 << 20, Storage: lab.StorageS3})
	code, bad, stderr := preflightJSON(t, l)
	if code != 0 {
		t.Fatalf("healthy S3 lab: exit %d: %v\n%s", code, bad, stderr)
	}
	dir := filepath.Dir(l.StateDir) // the folder ownLab made for this lab
	wrong := filepath.Join(dir, "wrong-secret")
	os.WriteFile(wrong, []byte("not-the-secret\n"), 0o600)
	p := changedInventory(t, l, dir, func(inv *config.Inventory) {
		inv.Storage.S3.SecretKey = config.Secret{Kind: config.SecretFile, Ref: wrong}
	})
	expectPreflightFailure(t, l, "node1/s3 bucket", ":8333: Access Denied",
		"check storage.s3.access_key/secret_key against storage.s3.aws.credentials in application.conf", "--inventory", p)

	// This lab is the test's own: its thehive keyspace can really go.
	nodeSh(t, l, "node1", `cqlsh `+l.Nodes[0].IP+` -e "DROP KEYSPACE thehive"`)
	expectPreflightFailure(t, l, "node1/keyspace", "The keyspace thehive, does not exist",
		"keyspace thehive is missing: check cassandra.keyspace against db.janusgraph.storage.cql.keyspace in /etc/thehive/application.conf; if it was dropped, restore it from a backup")
}

// cassandraDataOnTmpfs puts node's Cassandra data directory on a tmpfs with
// free bytes free after a copy of its data (the original is mounted back
// when the test ends) and returns the data directory.
func cassandraDataOnTmpfs(t *testing.T, l *lab.Lab, node string, free int64) string {
	t.Helper()
	const d, orig = "/var/lib/cassandra/data", "/var/lib/cassandra/.hs-orig"
	used := strings.Fields(nodeSh(t, l, node, "du -sB1 "+d))[0]
	var size int64
	fmt.Sscan(used, &size)
	t.Cleanup(func() {
		cmd := l.NodeCommand(context.Background(), node, "sh", "-c", "umount -l "+d+"; umount -l "+orig+"; rmdir "+orig)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: put the data directory back: %v %s", node, err, out)
		}
	})
	nodeSh(t, l, node, fmt.Sprintf("mkdir -p %[2]s && mount --bind %[1]s %[2]s && mount -t tmpfs -o size=%[3]d tmpfs %[1]s && cp -a %[2]s/. %[1]s/ && chown --reference=%[2]s %[1]s && chmod --reference=%[2]s %[1]s",
		d, orig, size+free))
	return d
}

// clockAhead makes node's `date +%s%N` answer secs seconds ahead (a script
// bound over date in the node's mount namespace, removed when the test
// ends): one node's clock off, the others and this machine's in sync.
func clockAhead(t *testing.T, l *lab.Lab, node string, secs int) {
	t.Helper()
	script := filepath.Join(l.StateDir, "date-ahead-"+node)
	body := fmt.Sprintf("#!/bin/sh\n[ \"$1\" = +%%s%%N ] || { echo \"date: this test's date answers +%%s%%N only\" >&2; exit 1; }\nexec perl -MTime::HiRes=time -e 'printf \"%%.0f\\n\", (time() + %d) * 1e9'\n", secs)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	nodeSh(t, l, node, "mount --bind "+script+" /usr/bin/date")
	t.Cleanup(func() {
		if out, err := l.NodeCommand(context.Background(), node, "umount", "/usr/bin/date").CombinedOutput(); err != nil {
			t.Errorf("%s: put date back: %v %s", node, err, out)
		}
		os.Remove(script)
	})
}
