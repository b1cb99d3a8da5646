package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps/es"
)

// argvWatch reads the command line of every process on this machine (the
// lab's nodes are PID namespaces below this one, so the host's /proc sees
// every node's processes) over and over while hotsnap runs, and records
// each command line holding a secret.
type argvWatch struct {
	secrets map[string]string // name → value
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	hits    []string // "pid NAME: argv with the secret masked"
	scans   int
	seen    map[string]bool // distinct argv[0]s seen, to show the watch sees the nodes' commands
}

func watchArgv(secrets map[string]string) *argvWatch {
	w := &argvWatch{secrets: secrets, stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]bool{}}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			w.scan()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *argvWatch) scan() {
	ents, _ := os.ReadDir("/proc")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scans++
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		argv, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(argv) == 0 {
			continue
		}
		w.seen[filepath.Base(string(bytes.SplitN(argv, []byte{0}, 2)[0]))] = true
		for name, v := range w.secrets {
			if bytes.Contains(argv, []byte(v)) {
				masked := strings.ReplaceAll(strings.ReplaceAll(string(argv), "\x00", " "), v, "***")
				w.hits = append(w.hits, fmt.Sprintf("pid %s holds the %s password: %.200s", e.Name(), name, masked))
			}
		}
	}
}

// Stop ends the watch; it returns the command lines that held a secret,
// how many times the process list was read and the programs seen.
func (w *argvWatch) Stop() ([]string, int, map[string]bool) {
	close(w.stop)
	<-w.done
	return w.hits, w.scans, w.seen
}

// TestE2EAuth: on a lab with Cassandra's PasswordAuthenticator and
// Elasticsearch's security on (`lab up --auth`, generated passwords), a
// backup and a restore log in with the inventory's passwords and bring the
// data back; preflight (and backup) with a wrong Cassandra or Elasticsearch
// password fails naming which login was refused and what to set. No secret
// — the right passwords or the wrong ones — is in the runs' journals, their
// events, their errors, or any process's command line while they run.
func TestE2EAuth(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hsr40", Subnet: 70, Nodes: 2, Data: 4 << 20, Auth: true})
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	secrets := map[string]string{}
	for _, name := range []string{lab.SecretCassandraAdmin, lab.SecretCassandraApp, lab.SecretES} {
		pw, err := l.Secret(name)
		if err != nil || len(pw) < 8 {
			t.Fatalf("secret %s: %q %v", name, pw, err)
		}
		secrets[name] = pw
	}
	ctx := context.Background()
	cql, err := remote.NewCQLSession(remote.CQLOptions{Hosts: []string{l.Nodes[0].IP}, Username: lab.CassandraAdminUser, Password: secrets[lab.SecretCassandraAdmin], Dial: l.OpDial, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cql.Close()
	esc, err := remote.NewESClient("node1", "http://"+l.Nodes[0].IP+":9200", lab.ESUser, secrets[lab.SecretES], l.OpDial)
	if err != nil {
		t.Fatal(err)
	}
	defer esc.Close()
	rows := func() int64 {
		var n int64
		if err := cql.Query("SELECT count(*) FROM thehive.edgestore").ScanContext(ctx, &n); err != nil {
			return -1
		}
		return n
	}
	rowsBefore := rows()
	docsBefore, err := es.Count(ctx, esc, lab.ESIndex)
	if rowsBefore <= 0 || err != nil || docsBefore == 0 {
		t.Fatalf("the lab has no data: %d rows, %d documents (%v)", rowsBefore, docsBefore, err)
	}

	// Wrong passwords, one at a time: files holding them, as the lab's
	// inventory holds its own.
	wrong := map[string]string{"wrong cassandra": "Wr0ng-cass-" + l.Name, "wrong elasticsearch": "Wr0ng-es-" + l.Name}
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	wrongInv := func(which string) string {
		pwFile := filepath.Join(dir, strings.ReplaceAll(which, " ", "-"))
		if err := os.WriteFile(pwFile, []byte(wrong[which]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := *inv
		cas, e := *inv.Cassandra, *inv.Elasticsearch
		if which == "wrong cassandra" {
			cas.Password = config.Secret{Kind: config.SecretFile, Ref: pwFile}
		} else {
			e.Password = config.Secret{Kind: config.SecretFile, Ref: pwFile}
		}
		c.Cassandra, c.Elasticsearch = &cas, &e
		p := filepath.Join(dir, strings.ReplaceAll(which, " ", "-")+".yaml")
		if err := config.Write(p, &c); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for k, v := range wrong {
		secrets[k] = v
	}

	watch := watchArgv(secrets)
	var output strings.Builder // every event, error and line the runs printed
	record := func(events []map[string]any, stderr string) {
		for _, ev := range events {
			b, _ := json.Marshal(ev)
			output.Write(b)
			output.WriteByte('\n')
		}
		output.WriteString(stderr)
	}

	// Backup and restore with the right passwords.
	code, events, stderr := backupRun(t, l, nil)
	record(events, stderr)
	if code != 0 {
		t.Fatalf("backup with authentication: exit %d\n%s", code, stderr)
	}
	id := newestBackup(t, l)
	if err := cql.Query("DROP KEYSPACE thehive").ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := es.DeleteIndices(ctx, esc, []string{lab.ESIndex}); err != nil {
		t.Fatal(err)
	}
	code, _, events, stderr = restoreJSON(t, l, id, nil)
	record(events, stderr)
	if code != 0 || !hasEvent(events, func(ev map[string]any) bool { return ev["event"] == "run_finished" }) {
		t.Fatalf("restore with authentication: exit %d\n%s", code, stderr)
	}
	if got := rows(); got != rowsBefore {
		t.Errorf("%d edgestore rows after the restore, %d in the backup", got, rowsBefore)
	}
	if got, err := es.Count(ctx, esc, lab.ESIndex); err != nil || got != docsBefore {
		t.Errorf("%d documents after the restore (%v), %d in the backup", got, err, docsBefore)
	}

	// Preflight and backup with a wrong password: the refused login, named,
	// with what to set.
	for _, c := range []struct{ which, key, evidence, remedy string }{
		{"wrong cassandra", "node1/cql login", "Provided username admin and/or password are incorrect",
			"Cassandra refused the login of admin: the password of cassandra.password (file:" + filepath.Join(dir, "wrong-cassandra") + ") is not admin's"},
		{"wrong elasticsearch", "node1/es reachable", "401",
			"Elasticsearch refused the login of elastic: the password of elasticsearch.password (file:" + filepath.Join(dir, "wrong-elasticsearch") + ") is not elastic's"},
	} {
		p := wrongInv(c.which)
		expectPreflightFailure(t, l, c.key, c.evidence, c.remedy, "--inventory", p)
		_, _, stderr := preflightJSON(t, l, "--inventory", p)
		output.WriteString(stderr)
		code, events, stderr := jsonRun(t, l, []string{"backup", "--yes", "--json", "--inventory", p}, nil)
		record(events, stderr)
		if code != exitPreflight || !strings.Contains(output.String(), c.remedy) {
			t.Errorf("backup with a %s password: exit %d, want %d with the remedy %q\n%s", c.which, code, exitPreflight, c.remedy, stderr)
		}
	}
	hits, scans, seen := watch.Stop()

	// The process list: no secret in any command line, on any node or here.
	for _, h := range hits {
		t.Error(h)
	}
	if !seen["sshd"] || !seen["nodetool"] && !seen["tar"] {
		t.Errorf("the process watch (%d scans) saw neither nodetool nor tar running on a node: it did not watch the runs", scans)
	}
	// The journals, events and errors of those runs.
	journals, _ := filepath.Glob(filepath.Join(state, "hotsnap", "runs", "*.jsonl"))
	if len(journals) < 4 {
		t.Fatalf("journals of the runs: %v", journals)
	}
	all := output.String()
	for _, j := range journals {
		data, err := os.ReadFile(j)
		if err != nil {
			t.Fatal(err)
		}
		all += string(data)
	}
	for name, v := range secrets {
		if strings.Contains(all, v) {
			t.Errorf("the %s password is in a journal, an event or an error", name)
		}
	}
}
