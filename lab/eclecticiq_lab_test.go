package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
)

// The test binary also plays the EclecticIQ platform's commands, as
// main.go dispatches them.
func init() {
	testStandIns["celery"] = eclecticiq.CeleryMain
	testStandIns["eiq-platform"] = eclecticiq.PlatformMain
}

// sshRun runs remote on node over SSH as the login user and returns its
// stdout, stderr and exit status (-1 when ssh itself failed to run).
func sshRun(t *testing.T, ctx context.Context, l *Lab, node, remote string) (string, string, int) {
	t.Helper()
	n, ok := l.Node(node)
	if !ok {
		t.Fatalf("no node %s", node)
	}
	cmd := l.OpCommand(ctx, "ssh", sshArgs(l, LoginUser, n.IP, remote)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		return out.String(), errb.String() + err.Error(), -1
	}
	return out.String(), errb.String(), 0
}

// eiqCmd is seed 003's way to run the platform's command.
const eiqCmd = "sudo -i -u eclecticiq EIQ_PLATFORM_SETTINGS=/etc/eclecticiq/platform_settings.py /opt/eclecticiq-platform-backend/bin/eiq-platform "

// platformUnits are the units `list-units --all 'eclecticiq-*' 'postgresql-*'
// elasticsearch.service redis.service` lists on an EclecticIQ lab.
func platformUnits() []string {
	us := []string{eclecticiq.UnitIngestion, eclecticiq.UnitOpenTAXII, eclecticiq.UnitScheduler, eclecticiq.UnitSearchIndex,
		eclecticiq.UnitServices, eclecticiq.UnitWeb, eclecticiq.UnitWorkers, eclecticiq.UnitSecretsSetter, eclecticiq.PGUnit,
		eclecticiq.UnitElasticsearch, eclecticiq.UnitRedis}
	for _, i := range eclecticiq.IngestionInstances {
		us = append(us, eclecticiq.TemplateIngestion+i)
	}
	for _, g := range eclecticiq.WorkerGroups {
		us = append(us, eclecticiq.WorkerUnit(g.Name))
	}
	for i := range us {
		us[i] += ".service"
	}
	slices.Sort(us)
	return us
}

// TestLabEclecticIQPlatform (hseq0): the units as systemd lists them, the
// processes under their real users, PostgreSQL stopped and started
// through its unit, psql and pg_dumpall answering as the samples, the
// database at the size asked for, every configuration path of seed 003 on
// node1 with its owner and mode and on no other node nor the host, and
// eiq-platform's search upgrade and reindex rebuilding indices from
// PostgreSQL.
func TestLabEclecticIQPlatform(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	o := Options{Name: "hseq0", Subnet: 30, Nodes: 2, Data: 60 << 20, Platform: PlatformEclecticIQ}
	l, logb := upPlatformLab(t, ctx, o)
	if !strings.Contains(logb.String(), "MB/s)") {
		t.Errorf("lab up does not say the seeding rate:\n%s", logb)
	}

	t.Run("units", func(t *testing.T) {
		out, _, code := sshRun(t, ctx, l, "node1", "systemctl list-units --all --plain --no-legend 'eclecticiq-*' 'postgresql-*' elasticsearch.service redis.service")
		var names []string
		for _, row := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(row)
			if len(f) < 4 || f[1] != "loaded" || f[2] != "active" {
				t.Errorf("row %q: want loaded active", row)
				continue
			}
			names = append(names, f[0])
		}
		if code != 0 || !slices.Equal(names, platformUnits()) {
			t.Errorf("list-units (exit %d) = %v, want %v", code, names, platformUnits())
		}
		out, _, _ = sshRun(t, ctx, l, "node1", "systemctl list-units 'eclecticiq-platform-backend-w*'")
		if !strings.HasPrefix(out, "  UNIT ") || !strings.Contains(out, fmt.Sprintf("\n%d loaded units listed. Pass --all", len(eclecticiq.WorkerGroups)+2)) ||
			!strings.Contains(out, "eclecticiq-platform-backend-workers.service ") || !regexp.MustCompile(`(?m)^  eclecticiq-platform-backend-worker@common\.service +loaded active running EclecticIQ Platform Backend Worker common$`).MatchString(out) {
			t.Errorf("list-units table:\n%s", out)
		}
		out, _, code = sshRun(t, ctx, l, "node1", "systemctl is-active 'eclecticiq-platform-backend-worker*.service'")
		if code != 0 || out != strings.Repeat("active\n", len(eclecticiq.WorkerGroups)+1) {
			t.Errorf("is-active of the document's glob = %d %q", code, out)
		}
		if out, errs, code := sshRun(t, ctx, l, "node1", "systemctl is-active 'eclecticiq-platform-backend-ingestion@*'"); code != 0 || out != "active\nactive\n" || errs != "" {
			t.Errorf("is-active ingestion@* = %d %q %q", code, out, errs)
		}
		if out, errs, code := sshRun(t, ctx, l, "node1", "systemctl is-active 'nothing-like-it@*'"); code != 4 || out != "" || errs != "" {
			t.Errorf("is-active without a match = %d %q %q, want 4 and nothing", code, out, errs)
		}
		if _, errs, code := sshRun(t, ctx, l, "node1", "systemctl is-active eclecticiq-platform-backend-worker@.service"); code != 1 ||
			errs != "Failed to retrieve unit state: Unit name eclecticiq-platform-backend-worker@.service is neither a valid invocation ID nor unit name.\n" {
			t.Errorf("is-active of the template = %d %q", code, errs)
		}
		if out, _, code := sshRun(t, ctx, l, "node2", "systemctl list-units --all --no-legend 'eclecticiq-*'"); code != 0 || out != "" {
			t.Errorf("node2 lists eclecticiq units: %q", out)
		}
	})

	t.Run("users", func(t *testing.T) {
		for unit, user := range map[string]string{eclecticiq.PGUnit: "postgres", eclecticiq.UnitRedis: "redis", eclecticiq.UnitWeb: "eclecticiq",
			eclecticiq.WorkerUnit("common"): "eclecticiq", eclecticiq.UnitScheduler: "eclecticiq"} {
			out, _, _ := sshRun(t, ctx, l, "node1", "ps -o user= -p \"$(systemctl show -p MainPID --value "+unit+")\"")
			if strings.TrimSpace(out) != user {
				t.Errorf("%s runs as %q, want %s", unit, out, user)
			}
		}
		out, _, _ := sshRun(t, ctx, l, "node1", "pgrep -af '[c]elery -A eiq.platform beat'; echo; "+nodeBeats+"; cat /var/run/eclecticiq/celerybeat.pid")
		if f := strings.Split(out, "\n\n"); len(f) != 2 || !strings.Contains(f[0], "celery -A eiq.platform beat --pidfile=/var/run/eclecticiq/celerybeat.pid") ||
			strings.Count(f[1], "\n") != 2 || strings.Split(f[1], "\n")[0] != strings.Split(f[1], "\n")[1] {
			t.Errorf("pgrep for beat, and the pid file: %q", out)
		}
	})

	t.Run("postgresql through its unit", func(t *testing.T) {
		if _, errs, code := sshRun(t, ctx, l, "node1", "sudo -n systemctl stop "+eclecticiq.PGUnit); code != 0 {
			t.Fatalf("stop: %s", errs)
		}
		if _, _, code := sshRun(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -XAtc 'select 1'"); code == 0 {
			t.Error("postgresql answers after systemctl stop")
		}
		if rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir}); err != nil || rep.Healthy() {
			t.Errorf("status with postgresql stopped: healthy %v %v", rep.Healthy(), err)
		}
		if _, errs, code := sshRun(t, ctx, l, "node1", "sudo -n systemctl start "+eclecticiq.PGUnit); code != 0 {
			t.Fatalf("start: %s", errs)
		}
		var out string
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if out, _, _ = sshRun(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -XAtc 'select 1'"); out == "1\n" {
				break
			}
		}
		if out != "1\n" {
			t.Fatal("postgresql does not answer after systemctl start")
		}
		if rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir}); err != nil || !rep.Healthy() {
			t.Errorf("status after the restart: %v\n%s", err, rep)
		}
	})

	t.Run("psql and pg_dumpall as the samples", func(t *testing.T) {
		out, _, code := sshRun(t, ctx, l, "node1", "sudo -i -u postgres psql -X -d eclecticiq -c \""+eclecticiq.FailedPackagesQuery+"\"")
		if code != 0 || !regexp.MustCompile(`^ +id +\| processing_status \n-+\+-+\n( +\d+ \| (failed|processing)\n)+\(\d+ rows\)\n\n$`).MatchString(out) {
			t.Errorf("failed-packages query:\n%s", out)
		}
		out, _, _ = sshRun(t, ctx, l, "node1", "sudo -i -u postgres psql -X -d eclecticiq -At -c \""+eclecticiq.FailedPackagesQuery+"\" | head -1")
		if !regexp.MustCompile(`^\d+\|(failed|processing)\n$`).MatchString(out) {
			t.Errorf("failed-packages query -At: %q", out)
		}
		// As the document runs it (a root shell's redirect), into node1's
		// own /media.
		out, _, code = sshRun(t, ctx, l, "node1", "sudo -n sh -c 'f=$(mktemp -p /media); sudo -i -u postgres pg_dumpall > $f; echo $?; head -3 $f; tail -3 $f; "+
			"grep -c \"^CREATE TABLE public\\.\" $f; grep -c \"CREATE ROLE eclecticiq;\" $f; rm $f'")
		if want := "0\n--\n-- PostgreSQL database cluster dump\n--\n-- PostgreSQL database cluster dump complete\n--\n\n" + strconv.Itoa(len(eclecticiq.Tables)) + "\n1\n"; code != 0 || out != want {
			t.Errorf("the document's pg_dumpall:\n%s\nwant\n%s", out, want)
		}
		out, _, _ = sshRun(t, ctx, l, "node1", "pg_dumpall --version")
		if !regexp.MustCompile(`^pg_dumpall \(PostgreSQL\) 15\.\d+ \(Debian 15\.\d+-\S+\)\n$`).MatchString(out) {
			t.Errorf("pg_dumpall --version = %q", out)
		}
		out, _, _ = sshRun(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -XAtc \"select pg_database_size('eclecticiq'), (select rolname from pg_roles r join pg_database d on d.datdba = r.oid where datname = 'eclecticiq')\"")
		f := strings.Split(strings.TrimSpace(out), "|")
		size, _ := strconv.ParseInt(f[0], 10, 64)
		if len(f) != 2 || f[1] != "eclecticiq" || size < o.Data*8/10 || size > o.Data*12/10 {
			t.Errorf("database size and owner: %q, want about %d bytes owned by eclecticiq", out, o.Data)
		}
		if out, _, _ = sshRun(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -XAtc 'show data_directory'"); out != PostgresDataDir+"\n" {
			t.Errorf("data_directory = %q", out)
		}
	})

	t.Run("configuration files", func(t *testing.T) {
		files, err := eclecticiq.Files(eclecticiq.FileOptions{Hostname: "node1", NodeIP: l.Nodes[0].IP, Subnet: o.Subnet})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, f := range files {
			kind := "regular file"
			switch {
			case f.Dir:
				kind = "directory"
			case f.Link != "":
				continue
			case len(f.Data) == 0:
				kind = "regular empty file"
			}
			perm := f.Mode.Perm()
			if f.Mode&os.ModeSetgid != 0 {
				perm |= 0o2000
			}
			want[f.Path] = fmt.Sprintf("%s:%s %o %s", f.Owner, f.Group, perm, kind)
		}
		var script strings.Builder
		for _, p := range eclecticiq.ConfigPaths {
			fmt.Fprintf(&script, "stat -c '%%U:%%G %%a %%F' %s || echo missing\n", p)
		}
		out, _, _ := sshRun(t, ctx, l, "node1", "sudo -n sh -c "+shellQuote(script.String()))
		got := strings.Split(strings.TrimSpace(out), "\n")
		if len(got) != len(eclecticiq.ConfigPaths) {
			t.Fatalf("%d answers for %d paths:\n%s", len(got), len(eclecticiq.ConfigPaths), out)
		}
		for i, p := range eclecticiq.ConfigPaths {
			w := want[p]
			if p == eclecticiq.PGDataDir+"/postgresql.conf" {
				w = "postgres:postgres 600 regular file"
			}
			if got[i] != w {
				t.Errorf("%s on node1: %q, want %q", p, got[i], w)
			}
		}
		// Private to node1: node2 and the host have none of the platform's
		// own paths (/etc/environment and the like are the host's).
		script.Reset()
		var own []string
		for _, p := range eclecticiq.ConfigPaths {
			if _, err := os.Lstat(p); err == nil {
				continue
			}
			own = append(own, p)
			fmt.Fprintf(&script, "test -e %s && echo %s\n", p, p)
		}
		if len(own) < 80 {
			t.Errorf("only %d of the paths are absent from the host", len(own))
		}
		if out, _, _ := sshRun(t, ctx, l, "node2", "sudo -n sh -c "+shellQuote(script.String()+"true")); out != "" {
			t.Errorf("node2 has node1's files:\n%s", out)
		}
		if out, _, _ := sshRun(t, ctx, l, "node1", "sudo -n du -sk /media/elasticsearch/nodes /media/elasticsearch/tmp | cut -f1"); len(strings.Fields(out)) != 2 {
			t.Errorf("elasticsearch data dirs: %q", out)
		}
	})

	t.Run("eiq-platform search", func(t *testing.T) {
		c, err := elastic.NewCluster(esStateDir(l.StateDir), elastic.Options{})
		if err != nil {
			t.Fatal(err)
		}
		docs := func(ix string) int64 {
			info, ok, err := c.Index(ix)
			if err != nil || !ok {
				return -1
			}
			return info.Docs
		}
		before := docs("stix_v4")
		if out, errs, code := sshRun(t, ctx, l, "node1", eiqCmd+"search upgrade"); code != 0 || out != "" || errs != "" {
			t.Errorf("search upgrade on a complete cluster = %d %q %q, want silence", code, out, errs)
		}
		if out, _, _ := sshRun(t, ctx, l, "node1", "curl -s -XDELETE 127.0.0.1:9200/stix_v4"); !strings.Contains(out, `"acknowledged":true`) {
			t.Fatalf("delete stix_v4: %s", out)
		}
		if out, errs, code := sshRun(t, ctx, l, "node1", eiqCmd+"search upgrade"); code != 0 || !strings.Contains(out+errs, "index stix_v4 (alias stix) is missing: creating and building it") {
			t.Errorf("search upgrade with stix_v4 missing = %d %q %q", code, out, errs)
		}
		if docs("stix_v4") != before || before <= 0 {
			t.Errorf("stix_v4 has %d documents after search upgrade, %d before", docs("stix_v4"), before)
		}
		out, _, _ := sshRun(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -d eclecticiq -XAtc 'select count(*) from entity where not is_draft'")
		want, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		out, errs, code := sshRun(t, ctx, l, "node1", eiqCmd+"search reindex --index=documents")
		if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("Reindexed %d documents into documents_v2", want)) || docs("documents_v2") != want {
			t.Errorf("search reindex --index=documents = %d %q %q; documents_v2 has %d, entities %d", code, out, errs, docs("documents_v2"), want)
		}
		if _, errs, code := sshRun(t, ctx, l, "node1", eiqCmd+"search reindex --index=nosuch"); code != 2 || !strings.Contains(errs, "is not a platform index") {
			t.Errorf("reindex of an unknown index = %d %q", code, errs)
		}
	})

	t.Run("stop services", func(t *testing.T) {
		if _, errs, code := sshRun(t, ctx, l, "node1", "sudo -n systemctl stop eclecticiq-platform-backend-services"); code != 0 {
			t.Fatalf("stop: %s", errs)
		}
		out, _, code := sshRun(t, ctx, l, "node1", "systemctl is-active eclecticiq-platform-backend-web eclecticiq-platform-backend-scheduler eclecticiq-platform-backend-ingestion@3 eclecticiq-platform-backend-searchindex eclecticiq-platform-backend-workers; test -e /var/run/eclecticiq/celerybeat.pid && echo pidfile; "+nodeBeats)
		if code != 0 || out != "inactive\ninactive\ninactive\ninactive\nactive\n" {
			t.Errorf("after stopping services: %d %q, want the parts inactive, the workers active, no beat and no pid file", code, out)
		}
		b, err := l.EclecticIQBroker(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for _, q := range eclecticiq.PipelineQueues {
			if n := b.Client().LLen(ctx, q).Val(); n != 0 {
				t.Errorf("%s holds %d after the services stopped, want 0", q, n)
			}
		}
		if _, errs, code := sshRun(t, ctx, l, "node1", "sudo -n systemctl start eclecticiq-platform-backend-services"); code != 0 {
			t.Errorf("start: %s", errs)
		}
	})

	rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir})
	if err != nil || !rep.Healthy() || len(rep.Daemons) != 2 {
		t.Errorf("status: %v\n%s", err, rep)
	}
	downAndCheck(t, ctx, l, o)
}

// nodeBeats lists the Celery beat processes of the node it runs on (each
// node has its own PID namespace: pgrep sees no other node's or lab's).
const nodeBeats = `pgrep -f '[c]elery -A eiq.platform beat'; true`

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// queueTotal returns the tasks waiting in every Celery queue and the
// unacked ones.
func queueTotal(t *testing.T, ctx context.Context, b *eclecticiq.Broker) (waiting, unacked int64) {
	t.Helper()
	counts, err := b.QueueCounts(ctx, eclecticiq.CeleryQueues()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range counts {
		waiting += n
	}
	return waiting, b.Client().HLen(ctx, eclecticiq.UnackedKey).Val()
}

// TestLabEclecticIQQueues (hseq1): the dynamics the documented order relies
// on. Workers hold tasks in unacked while they run and requeue them when
// stopped; with the workers stopped the queues keep growing while the
// services run and stop growing once they are stopped; started again, the
// workers drain them. The faults: a queue no one takes from never drains;
// a worker that will not stop is killed after its stop timeout, its tasks
// left unacked.
func TestLabEclecticIQQueues(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	o := Options{Name: "hseq1", Subnet: 31, Nodes: 1, Data: 4 << 20, Platform: PlatformEclecticIQ}
	l, _ := upPlatformLab(t, ctx, o)
	b, err := l.EclecticIQBroker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sh := func(cmd string) string {
		t.Helper()
		out, errs, code := sshRun(t, ctx, l, "node1", cmd)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s%s", cmd, code, out, errs)
		}
		return out
	}
	knob := func(name, value string) {
		t.Helper()
		if err := l.EclecticIQKnob(name, value); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, timeout time.Duration, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				w, u := queueTotal(t, ctx, b)
				t.Fatalf("timed out waiting for %s (%d waiting, %d unacked)", what, w, u)
			}
		}
	}

	// Slow tasks: the workers hold some in unacked.
	knob(eclecticiq.KnobTaskTime, "1s")
	waitFor("tasks in unacked", 30*time.Second, func() bool { _, u := queueTotal(t, ctx, b); return u >= 5 })
	sh("sudo -n systemctl stop 'eclecticiq-platform-backend-worker*.service'")
	if out, _, code := sshRun(t, ctx, l, "node1", "systemctl is-active 'eclecticiq-platform-backend-worker*'"); code != 3 ||
		out != strings.Repeat("inactive\n", len(eclecticiq.WorkerGroups)+1) {
		t.Errorf("workers after the stop: %d %q", code, out)
	}
	if _, u := queueTotal(t, ctx, b); u != 0 {
		t.Errorf("%d tasks unacked after the workers stopped, want 0 (requeued)", u)
	}
	redelivered := 0
	for _, q := range eclecticiq.CeleryQueues() {
		for _, k := range eclecticiq.QueueKeys(q) {
			for _, m := range b.Client().LRange(ctx, k, 0, -1).Val() {
				if strings.Contains(m, `"redelivered":true`) {
					redelivered++
				}
			}
		}
	}
	if redelivered == 0 {
		t.Error("no requeued (redelivered) task in the queues after the workers stopped")
	}

	// Workers stopped, services running: the queues grow.
	w0, _ := queueTotal(t, ctx, b)
	waitFor("the queues to grow", 10*time.Second, func() bool { w, _ := queueTotal(t, ctx, b); return w > w0 })
	w1, _ := queueTotal(t, ctx, b)
	waitFor("the queues to grow again", 10*time.Second, func() bool { w, _ := queueTotal(t, ctx, b); return w > w1 })
	sh("sudo -n systemctl stop eclecticiq-platform-backend-services")
	w2, _ := queueTotal(t, ctx, b)
	time.Sleep(2 * time.Second) // nothing may happen here: the producers are gone
	if w3, _ := queueTotal(t, ctx, b); w3 != w2 {
		t.Errorf("the queues went from %d to %d with the services stopped", w2, w3)
	}
	for _, q := range eclecticiq.PipelineQueues {
		if n := b.Client().LLen(ctx, q).Val(); n != 0 {
			t.Errorf("%s holds %d after the services stopped", q, n)
		}
	}

	// Workers back: they drain everything.
	knob(eclecticiq.KnobTaskTime, "0s")
	sh("sudo -n systemctl start eclecticiq-platform-backend-workers")
	waitFor("the queues to drain", 60*time.Second, func() bool { w, u := queueTotal(t, ctx, b); return w == 0 && u == 0 })

	// A queue no one takes from never drains.
	knob(eclecticiq.KnobStuckQueues, "utilities")
	sh("sudo -n systemctl start eclecticiq-platform-backend-services")
	waitFor("tasks on utilities", 30*time.Second, func() bool {
		c, _ := b.QueueCounts(ctx, "utilities")
		return c["utilities"] > 0
	})
	sh("sudo -n systemctl stop eclecticiq-platform-backend-services")
	waitFor("the other queues to drain", 60*time.Second, func() bool {
		w, u := queueTotal(t, ctx, b)
		c, _ := b.QueueCounts(ctx, "utilities")
		return u == 0 && w == c["utilities"]
	})
	stuck, _ := b.QueueCounts(ctx, "utilities")
	time.Sleep(3 * time.Second) // the workers run: utilities still does not drain
	if c, _ := b.QueueCounts(ctx, "utilities"); c["utilities"] != stuck["utilities"] || c["utilities"] == 0 {
		t.Errorf("utilities went from %d to %d, want it held", stuck["utilities"], c["utilities"])
	}
	knob(eclecticiq.KnobStuckQueues, "")
	waitFor("utilities to drain once released", 30*time.Second, func() bool { w, u := queueTotal(t, ctx, b); return w == 0 && u == 0 })

	// A worker that will not stop: SIGKILLed after TimeoutStopSec, its
	// tasks left unacked.
	knob(eclecticiq.KnobTaskTime, "1h")
	knob(eclecticiq.KnobStuckWorkers, "common")
	for i := range 3 {
		if err := b.Publish(ctx, eclecticiq.NewMessage("enrichers", "e-"+strconv.Itoa(i), 0, "test@op")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("common to take the tasks", 30*time.Second, func() bool { _, u := queueTotal(t, ctx, b); return u == 3 })
	start := time.Now()
	sh("sudo -n systemctl stop " + eclecticiq.WorkerUnit("common"))
	if d := time.Since(start); d < eclecticiq.WorkerStopTimeout*time.Second {
		t.Errorf("the stuck worker stopped after %s, before its %ds timeout", d, eclecticiq.WorkerStopTimeout)
	}
	out, _, code := sshRun(t, ctx, l, "node1", "systemctl is-active "+eclecticiq.WorkerUnit("common")+"; systemctl status "+eclecticiq.WorkerUnit("common"))
	if code != 3 || !strings.HasPrefix(out, "failed\n") || !strings.Contains(out, "Result: timeout") || !strings.Contains(out, "State 'stop-sigterm' timed out. Killing.") {
		t.Errorf("the killed worker: %d\n%s", code, out)
	}
	if _, u := queueTotal(t, ctx, b); u != 3 {
		t.Errorf("%d tasks unacked after the kill, want the 3 it held", u)
	}
	knob(eclecticiq.KnobStuckWorkers, "")
	knob(eclecticiq.KnobTaskTime, "")
	downAndCheck(t, ctx, l, o)
}

// TestLabEclecticIQAuth (hseq2): with --auth, Redis asks for the password
// of local.conf (NOAUTH without it, REDISCLI_AUTH works), the platform's
// role logs in with its password over TCP while postgres logs in by peer,
// platform_settings.py carries what the platform needs and the lab's
// secrets stay 0600 and off the nodes' command lines; eiq-platform fails
// with exit 1 and the driver's error when PostgreSQL or Elasticsearch is
// stopped.
func TestLabEclecticIQAuth(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := Options{Name: "hseq2", Subnet: 32, Nodes: 1, Data: 4 << 20, Platform: PlatformEclecticIQ, Auth: true}
	l, _ := upPlatformLab(t, ctx, o)
	secret := map[string]string{}
	for _, name := range []string{SecretPostgres, SecretRedis, SecretES} {
		pw, err := l.Secret(name)
		if err != nil {
			t.Fatal(err)
		}
		secret[name] = pw
		if st, err := os.Stat(l.SecretPath(name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("secret %s: %v %v", name, st, err)
		}
	}
	if out, _, code := sshRun(t, ctx, l, "node1", "redis-cli -n 3 llen enrichers"); code != 0 || out != "NOAUTH Authentication required.\n\n" {
		t.Errorf("redis-cli without the password = %d %q", code, out)
	}
	if out, _, code := sshRun(t, ctx, l, "node1", "REDISCLI_AUTH="+shellQuote(secret[SecretRedis])+" redis-cli -n 3 type _kombu.binding.enrichers"); code != 0 || out != "set\n" {
		t.Errorf("redis-cli with REDISCLI_AUTH = %d %q", code, out)
	}
	if _, errs, code := sshRun(t, ctx, l, "node1", "psql -h 127.0.0.1 -U eclecticiq -d eclecticiq -w -XAtc 'select 1'"); code == 0 || !strings.Contains(errs, "password") {
		t.Errorf("psql as eclecticiq without a password = %d %q", code, errs)
	}
	if out, errs, code := sshRun(t, ctx, l, "node1", "PGPASSWORD="+shellQuote(secret[SecretPostgres])+" psql -h 127.0.0.1 -U eclecticiq -d eclecticiq -XAtc 'select count(*) > 0 from entity'"); code != 0 || out != "t\n" {
		t.Errorf("psql as eclecticiq with its password = %d %q %q", code, out, errs)
	}
	if out, errs, code := sshRun(t, ctx, l, "node1", "sudo -i -u postgres psql -XAtc 'select 1'"); code != 0 || out != "1\n" {
		t.Errorf("psql as the postgres OS user (peer) = %d %q %q", code, out, errs)
	}
	if out, _, code := sshRun(t, ctx, l, "node1", "systemctl is-active 'eclecticiq-*'"); code != 0 || strings.Contains(out, "failed") || strings.Contains(out, "inactive") {
		t.Errorf("platform units with auth: %q", out)
	}
	if out, errs, code := sshRun(t, ctx, l, "node1", eiqCmd+"search reindex --index=extracts"); code != 0 || !strings.HasPrefix(out, "Reindexed ") {
		t.Errorf("reindex with Elasticsearch's password = %d %q %q", code, out, errs)
	}
	settings, _, _ := sshRun(t, ctx, l, "node1", "sudo -n cat "+eclecticiq.SettingsPath)
	conf, err := config.ReadEclecticIQSettings(eclecticiq.SettingsPath, []byte(settings))
	if err != nil || conf.RedisDB != RedisBrokerDB || !conf.Postgres.HasPassword || !strings.Contains(settings, secret[SecretRedis]) {
		t.Errorf("platform_settings.py with auth: %+v %v", conf, err)
	}
	if raw, err := os.ReadFile(l.InventoryPath()); err != nil || strings.Contains(string(raw), secret[SecretPostgres]) || strings.Contains(string(raw), secret[SecretRedis]) {
		t.Errorf("the inventory holds a password (or cannot be read: %v)", err)
	}
	if _, err := config.Load(l.InventoryPath()); err != nil {
		t.Errorf("inventory: %v", err)
	}
	args, _, _ := sshRun(t, ctx, l, "node1", "ps -eo args")
	for _, name := range []string{SecretPostgres, SecretRedis} {
		if strings.Contains(args, secret[name]) {
			t.Errorf("the %s password is on a command line on node1", name)
		}
	}

	for _, tc := range []struct{ unit, want string }{
		{eclecticiq.PGUnit, "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"127.0.0.1\", port 5432 failed: Connection refused"},
		{eclecticiq.UnitElasticsearch, "elasticsearch.exceptions.ConnectionError: ConnectionError("},
	} {
		if _, errs, code := sshRun(t, ctx, l, "node1", "sudo -n systemctl stop "+tc.unit); code != 0 {
			t.Fatalf("stop %s: %s", tc.unit, errs)
		}
		if _, errs, code := sshRun(t, ctx, l, "node1", eiqCmd+"search upgrade"); code != 1 || !strings.Contains(errs, tc.want) || !strings.HasPrefix(errs, "Traceback (most recent call last):") {
			t.Errorf("search upgrade with %s stopped = %d %q, want 1 and %q", tc.unit, code, errs, tc.want)
		}
		if _, errs, code := sshRun(t, ctx, l, "node1", "sudo -n systemctl start "+tc.unit); code != 0 {
			t.Fatalf("start %s: %s", tc.unit, errs)
		}
	}
	downAndCheck(t, ctx, l, o)
}

// TestLabEclecticIQUpAgainAndDown (hseq4): a lab brought down without
// --purge and up again keeps its database, its configuration files as
// changed and its queues, and comes up faster; the host never sees node1's
// files; Down leaves no process of the platform behind.
func TestLabEclecticIQUpAgainAndDown(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := Options{Name: "hseq4", Subnet: 34, Nodes: 1, Data: 4 << 20, Platform: PlatformEclecticIQ}
	l, logb := upPlatformLab(t, ctx, o)
	if _, errs, code := sshRun(t, ctx, l, "node1", "echo 'http://proxy.lab:3128' | sudo -n tee /etc/eclecticiq/proxy_url >/dev/null && "+
		"psql -h 127.0.0.1 -U postgres -d eclecticiq -Xqc \"insert into source (name, source_type, reliability) values ('kept', 'manual', 'A')\""); code != 0 {
		t.Fatal(errs)
	}
	o.StateDir, o.Log = l.StateDir, logb
	pids := eiqUnitPIDs(t, l)
	if err := Down(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if pidAlive(p) {
			t.Errorf("unit process %d alive after Down", p)
		}
	}
	for _, p := range []string{"/etc/eclecticiq/proxy_url", "/etc/eclecticiq-elasticsearch", eclecticiq.PGDataDir, "/opt/eclecticiq-platform-backend"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists on the host", p)
		}
	}
	// A pid file left in node1's /run (a lab killed, say) names a process
	// of a PID namespace that is gone: up again starts /run empty.
	var stale []string
	for _, d := range []string{"pg-run", "eiq-run"} {
		p := filepath.Join(l.NodeDir("node1"), d, "stale.pid")
		if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, p)
	}
	logb.Reset()
	self, _ := os.Executable()
	o.Binary = self
	start := time.Now()
	l, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("up again: %v\n%s", err, logb)
	}
	t.Logf("up again in %s", time.Since(start))
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s survived up again", p)
		}
	}
	if strings.Contains(logb.String(), "seeded database") {
		t.Errorf("the database was seeded again:\n%s", logb)
	}
	if out, _, _ := sshRun(t, ctx, l, "node1", "cat /etc/eclecticiq/proxy_url 2>&1; sudo -n cat /etc/eclecticiq/proxy_url; psql -h 127.0.0.1 -U postgres -d eclecticiq -XAtc \"select count(*) from source where name = 'kept'\"; systemctl is-active eclecticiq-platform-backend-services"); !strings.HasSuffix(out, "http://proxy.lab:3128\n1\nactive\n") ||
		!strings.Contains(out, "Permission denied") {
		t.Errorf("after up again: %q", out)
	}
	downAndCheck(t, ctx, l, o)
}

// eiqUnitPIDs returns the main PIDs (the host's) of node1's running units.
func eiqUnitPIDs(t *testing.T, l *Lab) []int {
	t.Helper()
	n, _ := l.Node(eiqNode)
	var pids []int
	for _, u := range platformUnits() {
		if p := unitMainPID(l.StateDir, n, strings.TrimSuffix(u, ".service")); p > 0 {
			pids = append(pids, p)
		}
	}
	if len(pids) < 20 {
		t.Errorf("%d running units, want more than 20", len(pids))
	}
	return pids
}
