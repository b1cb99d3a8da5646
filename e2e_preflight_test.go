package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
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

// nodeSh runs a shell command inside a lab node (as root, no SSH).
func nodeSh(t *testing.T, l *lab.Lab, node, script string) string {
	t.Helper()
	cmd := l.NodeCommand(t.Context(), node, "sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") // the stand-ins live in /usr/local/bin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", node, script, err, out)
	}
	return string(out)
}

const registerRepo = `curl -sf -XPUT 127.0.0.1:9200/_snapshot/thehive_repository -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"/mnt/backup/elasticsearch"}}'`

func TestE2EPreflight(t *testing.T) {
	l := needLab(t)

	code, bad, stderr := preflightJSON(t, l)
	if code != 0 || len(bad) > 0 {
		t.Fatalf("healthy lab: exit %d, not passing: %v\n%s", code, bad, stderr)
	}

	expectFailure := func(t *testing.T, key, remedy string, extra ...string) {
		t.Helper()
		code, bad, stderr := preflightJSON(t, l, extra...)
		if code != exitPreflight {
			t.Fatalf("exit %d, want %d; not passing: %v\n%s", code, exitPreflight, bad, stderr)
		}
		got, ok := bad[key]
		if !ok || !strings.HasPrefix(got, "fail") || !strings.Contains(got, remedy) {
			t.Fatalf("want %s to fail with remedy containing %q; got %q; all: %v", key, remedy, got, bad)
		}
		if !strings.Contains(stderr, "preflight failed") {
			t.Errorf("stderr does not summarise the failure: %q", stderr)
		}
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
		expectFailure(t, "node3/ring state", "systemctl start cassandra")
	})
	t.Run("elasticsearch red", func(t *testing.T) {
		state := filepath.Join(l.StateDir, "shared", "es-state")
		nodeSh(t, l, "node1", "es-standin fault --state "+state+" --health red")
		defer nodeSh(t, l, "node1", "es-standin fault --state "+state+" --health auto")
		expectFailure(t, "node1/es health", "allocation/explain")
	})
	t.Run("repository missing", func(t *testing.T) {
		nodeSh(t, l, "node1", "curl -sf -XDELETE 127.0.0.1:9200/_snapshot/thehive_repository")
		defer nodeSh(t, l, "node1", registerRepo)
		expectFailure(t, "node1/es repository", "_snapshot/thehive_repository")
	})
	t.Run("RF 1 on 3 nodes", func(t *testing.T) {
		nodeSh(t, l, "node1", `cqlsh `+l.Nodes[0].IP+` -e "ALTER KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"`)
		defer nodeSh(t, l, "node1", `cqlsh `+l.Nodes[0].IP+` -e "ALTER KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}"`)
		expectFailure(t, "/replication", "ALTER KEYSPACE thehive")
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
		expectFailure(t, "node2/ssh+sudo", "SSH access")
	})
	t.Run("keyspace missing", func(t *testing.T) {
		inv, err := config.Load(l.InventoryPath())
		if err != nil {
			t.Fatal(err)
		}
		inv.Cassandra.Keyspace = "nothere"
		p := filepath.Join(t.TempDir(), "inv.yaml")
		if err := config.Write(p, inv); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Dir(p), 0o755)
		expectFailure(t, "node1/keyspace", "keyspace nothere is missing", "--inventory", p)
	})
	// And healthy again after every fault was undone.
	if code, bad, stderr := preflightJSON(t, l); code != 0 {
		t.Fatalf("after the faults: exit %d, not passing: %v\n%s", code, bad, stderr)
	}
}

// TestE2EPreflightS3 checks the S3 attachment store on a lab of its own:
// healthy with the right keys, a failure with a remedy with wrong ones.
func TestE2EPreflightS3(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hse2s", Subnet: 4, Nodes: 1, Data: 4 << 20, Storage: lab.StorageS3})
	code, bad, stderr := preflightJSON(t, l)
	if code != 0 {
		t.Fatalf("healthy S3 lab: exit %d: %v\n%s", code, bad, stderr)
	}
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(l.StateDir) // the folder ownLab made for this lab
	wrong := filepath.Join(dir, "wrong-secret")
	os.WriteFile(wrong, []byte("not-the-secret\n"), 0o600)
	inv.Storage.S3.SecretKey = config.Secret{Kind: config.SecretFile, Ref: wrong}
	p := filepath.Join(dir, "inv.yaml")
	if err := config.Write(p, inv); err != nil {
		t.Fatal(err)
	}
	code, bad, _ = preflightJSON(t, l, "--inventory", p)
	got := bad["node1/s3 bucket"]
	if code != exitPreflight || !strings.HasPrefix(got, "fail") || !strings.Contains(got, "access_key/secret_key") {
		t.Fatalf("wrong S3 secret: exit %d, s3 check %q, all %v", code, got, bad)
	}
}
