package eclecticiq

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// total returns the messages waiting in every list of queues.
func total(t *testing.T, b *Broker, queues ...string) int64 {
	t.Helper()
	counts, err := b.QueueCounts(testCtx(t), queues...)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// TestPublishAsKombu: a message lands on the list of its priority
// ("q", "q\x06\x163", …), LPUSHed, in kombu's JSON layout (body base64 of
// [args, kwargs, embed], then content-encoding, content-type, headers,
// properties), and Declare adds kombu's binding.
func TestPublishAsKombu(t *testing.T) {
	rs := startRedis(t, "")
	ctx := testCtx(t)
	b := rs.broker(t, "")
	for _, pri := range []int{0, 3, 6, 9, 4} {
		if err := b.Publish(ctx, NewMessage("utilities", "e-"+strconv.Itoa(pri), pri, "gen1@node1")); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int64{"utilities": 1, "utilities\x06\x163": 2, "utilities\x06\x166": 1, "utilities\x06\x169": 1}
	for k, n := range want {
		if got := b.Client().LLen(ctx, k).Val(); got != n {
			t.Errorf("LLEN %q = %d, want %d", k, got, n)
		}
	}
	raw := b.Client().LIndex(ctx, "utilities", 0).Val()
	if !strings.HasPrefix(raw, `{"body":"`) || !strings.Contains(raw, `","content-encoding":"utf-8","content-type":"application/json","headers":{"lang":"py","task":"eiq.platform.utilities.tasks.cleanup","id":"`) ||
		!strings.Contains(raw, `"properties":{"correlation_id":"`) || !strings.Contains(raw, `"delivery_info":{"exchange":"utilities","routing_key":"utilities"},"priority":0,"body_encoding":"base64","delivery_tag":"`) {
		t.Errorf("message layout: %s", raw)
	}
	m, err := DecodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := base64.StdEncoding.DecodeString(m.Body)
	if string(body) != `[["e-0"],{},{"callbacks":null,"chain":null,"chord":null,"errbacks":null}]` {
		t.Errorf("body = %s", body)
	}
	if err := b.Declare(ctx, "utilities"); err != nil {
		t.Fatal(err)
	}
	if got := b.Client().SMembers(ctx, "_kombu.binding.utilities").Val(); len(got) != 1 || got[0] != "utilities\x06\x16\x06\x16utilities" {
		t.Errorf("binding = %q", got)
	}
}

// start runs one of the platform's commands (killed when the test ends)
// and waits for the line that says it is ready.
func start(t *testing.T, ready, name string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(command(t, name), args...)
	out := lines(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitLine(t, out, ready, 10*time.Second)
	return cmd, out
}

// startWorker runs the celery stand-in as a worker of queues.
func startWorker(t *testing.T, name string, conc int, queues ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	return start(t, name+"@node1 ready.", "celery", "-A", "eiq.platform", "worker", "--queues="+strings.Join(queues, ","),
		"--concurrency="+strconv.Itoa(conc), "--hostname="+name+"@node1")
}

// TestWorkerPrefetchesAndRequeuesAtStop: a worker holds concurrency × 4
// messages: they leave their list for the unacked hash (and
// unacked_index) as kombu delivers them; stopped (SIGTERM, a warm
// shutdown), it finishes the running task and puts the rest back,
// redelivered, at the end BRPOP takes first, leaving unacked empty.
func TestWorkerPrefetchesAndRequeuesAtStop(t *testing.T) {
	ctx, b, knobs := platformOnRedis(t, "s3cret")
	setKnob(t, knobs, KnobTaskTime, "2s")
	for i := range 10 {
		if err := b.Publish(ctx, NewMessage("utilities", "e-"+strconv.Itoa(i), 0, "gen1@node1")); err != nil {
			t.Fatal(err)
		}
	}
	cmd, out := startWorker(t, "utilities", 1, "utilities")
	eventually(t, "4 prefetched messages in unacked", 10*time.Second, func() bool {
		return b.Client().HLen(ctx, UnackedKey).Val() == 4
	})
	if n := b.Client().ZCard(ctx, UnackedIndexKey).Val(); n != 4 {
		t.Errorf("unacked_index has %d tags, want 4", n)
	}
	if n := total(t, b, "utilities"); n != 6 {
		t.Errorf("utilities holds %d, want 6 (10 - 4 delivered)", n)
	}
	for tag, v := range b.Client().HGetAll(ctx, UnackedKey).Val() {
		var entry []json.RawMessage
		if err := json.Unmarshal([]byte(v), &entry); err != nil || len(entry) != 3 || string(entry[1]) != `"utilities"` || string(entry[2]) != `"utilities"` ||
			!strings.Contains(string(entry[0]), `"delivery_tag":"`+tag+`"`) {
			t.Errorf("unacked[%s] = %s, want [message, exchange, routing_key]", tag, v)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(t, out, "worker: Warm shutdown (MainProcess)", 5*time.Second)
	waitLine(t, out, "Restoring 3 unacknowledged message(s)", 5*time.Second)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("worker exit: %v", err)
	}
	if n := b.Client().HLen(ctx, UnackedKey).Val(); n != 0 {
		t.Errorf("unacked holds %d after the stop, want 0", n)
	}
	if n := total(t, b, "utilities"); n != 9 {
		t.Errorf("utilities holds %d after the stop, want 9 (one task ran)", n)
	}
	next := b.Client().LIndex(ctx, "utilities", -1).Val()
	if !strings.Contains(next, `"redelivered":true`) || !strings.Contains(next, `"delivery_info":{"exchange":"utilities","routing_key":"utilities","redelivered":true}`) {
		t.Errorf("the next message BRPOP takes is not a redelivered one: %s", next)
	}
}

// TestStuckWorkerAndRestoreVisible: a worker the stuck-workers knob names
// ignores SIGTERM, so only SIGKILL ends it and its messages stay unacked;
// the next worker to start restores those older than the visibility
// timeout (restore_visible) and runs them.
func TestStuckWorkerAndRestoreVisible(t *testing.T) {
	ctx, b, knobs := platformOnRedis(t, "")
	setKnob(t, knobs, KnobTaskTime, "1h")
	setKnob(t, knobs, KnobStuckWorkers, "reindexing")
	for i := range 3 {
		if err := b.Publish(ctx, NewMessage("reindexing", "e-"+strconv.Itoa(i), 0, "gen1@node1")); err != nil {
			t.Fatal(err)
		}
	}
	cmd, out := startWorker(t, "reindexing", 1, "reindexing")
	eventually(t, "3 unacked", 10*time.Second, func() bool { return b.Client().HLen(ctx, UnackedKey).Val() == 3 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(t, out, "Warm shutdown", 5*time.Second)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("a stuck worker exited after SIGTERM: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	cmd.Process.Kill()
	<-done
	if n := b.Client().HLen(ctx, UnackedKey).Val(); n != 3 {
		t.Fatalf("unacked holds %d after SIGKILL, want 3", n)
	}
	// An hour passes (the visibility timeout): age the delivery times.
	old := float64(time.Now().Add(-(VisibilityTimeout + 60) * time.Second).Unix())
	for _, tag := range b.Client().ZRange(ctx, UnackedIndexKey, 0, -1).Val() {
		b.Client().ZAdd(ctx, UnackedIndexKey, redis.Z{Score: old, Member: tag})
	}
	setKnob(t, knobs, KnobTaskTime, "0s")
	setKnob(t, knobs, KnobStuckWorkers, "")
	_, out2 := startWorker(t, "reindexing2", 1, "reindexing")
	_ = out2
	eventually(t, "the restored messages to run", 10*time.Second, func() bool {
		return b.Client().HLen(ctx, UnackedKey).Val() == 0 && total(t, b, "reindexing") == 0
	})
}

// TestPipelineStages: ingestion moves an item from queue:ingestion:inbound
// to the graph and search lists and sends an enrichment task; stopped, a
// stage first empties its lists; a list the stuck-queues knob names is
// left alone.
func TestPipelineStages(t *testing.T) {
	ctx, b, knobs := platformOnRedis(t, "")
	setKnob(t, knobs, KnobStuckQueues, "queue:search:inbound")
	search, sout := start(t, "searchindex: consuming", "eiq-platform", "standin", "searchindex")
	ing, iout := start(t, "ingestion: consuming", "eiq-platform", "standin", "ingestion")
	for i := range 5 {
		b.Client().LPush(ctx, "queue:ingestion:inbound", `{"package_id":"p`+strconv.Itoa(i)+`"}`)
	}
	eventually(t, "ingestion to pass 5 items on", 10*time.Second, func() bool {
		return b.Client().LLen(ctx, "queue:ingestion:inbound").Val() == 0 && b.Client().LLen(ctx, "queue:graph:inbound").Val() == 0 &&
			b.Client().LLen(ctx, "queue:search:inbound").Val() == 5 && total(t, b, "enrichers", "priority_enrichers") == 5
	})
	ing.Process.Signal(syscall.SIGTERM)
	waitLine(t, iout, "ingestion: stopped after draining", 10*time.Second)
	if err := ing.Wait(); err != nil {
		t.Errorf("ingestion exit: %v", err)
	}
	search.Process.Signal(syscall.SIGTERM)
	waitLine(t, sout, "searchindex: stopped after draining 0 item(s)", 10*time.Second)
	search.Wait()
	if n := b.Client().LLen(ctx, "queue:search:inbound").Val(); n != 5 {
		t.Errorf("the stuck search list holds %d, want 5", n)
	}
	// Without the knob, a stop drains the list.
	setKnob(t, knobs, KnobStuckQueues, "")
	search2, _ := start(t, "searchindex: consuming", "eiq-platform", "standin", "searchindex")
	search2.Process.Signal(syscall.SIGTERM)
	search2.Wait()
	if n := b.Client().LLen(ctx, "queue:search:inbound").Val(); n != 0 {
		t.Errorf("search list holds %d after an unstuck searchindex ran and stopped, want 0", n)
	}
}

// TestProducers: web keeps sending tasks (to seed 003's queues and the
// others) and pipeline items at the rate knob's pace, and stops when told;
// beat writes its PID file, sends the periodic tasks, refuses to run twice
// and removes the file when stopped.
func TestProducers(t *testing.T) {
	ctx, b, knobs := platformOnRedis(t, "")
	setKnob(t, knobs, KnobRate, "200")
	queues := CeleryQueues()
	web := exec.Command(command(t, "eiq-platform"), "standin", "web")
	if err := web.Start(); err != nil {
		t.Fatal(err)
	}
	defer web.Process.Kill()
	eventually(t, "web to send 100 tasks and some pipeline items", 10*time.Second, func() bool {
		return total(t, b, queues...) >= 100 && b.Client().LLen(ctx, "queue:ingestion:inbound").Val() > 0
	})
	web.Process.Signal(syscall.SIGTERM)
	if err := web.Wait(); err != nil {
		t.Errorf("web exit: %v", err)
	}
	n := total(t, b, queues...)
	time.Sleep(300 * time.Millisecond)
	if m := total(t, b, queues...); m != n {
		t.Errorf("tasks went from %d to %d after web stopped", n, m)
	}
	seen := 0
	for _, q := range DocumentQueues {
		if total(t, b, q) > 0 {
			seen++
		}
	}
	if seen < 6 {
		t.Errorf("tasks reached %d of seed 003's 8 queues, want most", seen)
	}

	pidfile := filepath.Join(t.TempDir(), "run", "celerybeat.pid")
	beat := exec.Command(command(t, "celery"), "-A", "eiq.platform", "beat", "--pidfile="+pidfile, "--beat-interval=50ms")
	if err := beat.Start(); err != nil {
		t.Fatal(err)
	}
	defer beat.Process.Kill()
	eventually(t, "beat's PID file", 5*time.Second, func() bool {
		p, err := os.ReadFile(pidfile)
		return err == nil && strings.TrimSpace(string(p)) == strconv.Itoa(beat.Process.Pid)
	})
	before := total(t, b, "reindexing")
	eventually(t, "periodic tasks", 5*time.Second, func() bool { return total(t, b, "reindexing") > before })
	if out, err := exec.Command(command(t, "celery"), "-A", "eiq.platform", "beat", "--pidfile="+pidfile).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "ERROR: Pidfile ("+pidfile+") already exists.") {
		t.Errorf("second beat: %v %s", err, out)
	}
	beat.Process.Signal(syscall.SIGTERM)
	beat.Wait()
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("PID file left after a clean stop: %v", err)
	}
}
