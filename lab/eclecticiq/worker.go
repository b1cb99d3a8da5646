package eclecticiq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/hotsnap/hotsnap/lab/internal/listflag"
)

// PrefetchMultiplier is Celery's worker_prefetch_multiplier default: a
// worker holds up to concurrency × 4 delivered messages.
const PrefetchMultiplier = 4

// brpopTimeout bounds each blocking pop (kombu waits 1s). A stop waits for
// the pop under way, so the stand-ins use a shorter one: a platform of 20
// processes stops in a few seconds.
const brpopTimeout = 200 * time.Millisecond

// CeleryMain is the lab's Celery (/opt/eclecticiq-platform-backend/bin/celery):
//
//	celery -A eiq.platform worker -Q q1,q2 -c N -n NAME@HOST
//	celery -A eiq.platform beat --pidfile FILE
//
// A worker consumes its queues as kombu's redis transport with
// acks_late does: BRPOP over every priority list, each delivered message
// recorded in unacked/unacked_index until its task ran (task-time knob),
// at most concurrency × PrefetchMultiplier at a time; at start it
// restores messages left unacked longer than the visibility timeout. On
// SIGTERM (a warm shutdown) it stops fetching, lets running tasks finish
// and restores the prefetched rest to their queues (restore_unacked) —
// unless the stuck-workers knob names it: then it never exits by itself.
// beat is the scheduler: it writes its pid file, sends periodic tasks and
// removes the pid file when stopped. The broker comes from
// platform_settings.py ($EIQ_PLATFORM_SETTINGS).
func CeleryMain(args []string) int {
	return withSignals(func(ctx context.Context, sigs <-chan os.Signal) int {
		return celery(ctx, args, sigs, os.Stdout, os.Stderr)
	})
}

// withSignals runs a stand-in's main with SIGTERM and SIGINT delivered on
// a channel (a stop is the stand-in's to handle, as the real process's).
func withSignals(main func(ctx context.Context, sigs <-chan os.Signal) int) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	return main(ctx, sigs)
}

func celery(ctx context.Context, args []string, sigs <-chan os.Signal, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("celery", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringP("app", "A", "", "application")
	queues := fs.StringP("queues", "Q", "", "queues to consume")
	conc := fs.IntP("concurrency", "c", 1, "worker processes")
	host := fs.StringP("hostname", "n", "", "node name")
	fs.StringP("loglevel", "l", "INFO", "log level")
	pidfile := fs.String("pidfile", "", "pid file (beat)")
	fs.StringP("schedule", "s", "", "schedule database (beat)")
	interval := fs.Duration("beat-interval", 2*time.Second, "how often beat sends its periodic tasks (lab)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintf(stderr, "Usage: celery -A APP worker -Q QUEUES -c N -n NAME | celery -A APP beat --pidfile FILE\n")
		return 2
	}
	s, err := ReadSettings()
	if err != nil {
		fmt.Fprintf(stderr, "celery: %v\n", err)
		return 1
	}
	b, err := OpenBroker(ctx, s.BrokerURL)
	if err != nil {
		fmt.Fprintf(stderr, "[ERROR/MainProcess] consumer: Cannot connect to redis: %v.\n", err)
		return 1
	}
	defer b.Close()
	switch fs.Arg(0) {
	case "worker":
		qs := listflag.Split(*queues)
		if len(qs) == 0 || *conc < 1 {
			fmt.Fprintln(stderr, "celery worker: -Q and -c >= 1 are required")
			return 2
		}
		name := *host
		if name == "" {
			h, _ := os.Hostname()
			name = "celery@" + h
		}
		w := &worker{b: b, name: name, group: strings.SplitN(name, "@", 2)[0], queues: qs, concurrency: *conc,
			prefetch: *conc * PrefetchMultiplier, out: stdout, k: &knobs{}}
		return w.run(ctx, sigs)
	case "beat":
		return beat(ctx, b, *pidfile, *interval, sigs, stdout, stderr)
	}
	fmt.Fprintf(stderr, "celery: unknown command %q\n", fs.Arg(0))
	return 2
}

// logLine prints a line in Celery's log format.
func logLine(w io.Writer, level, proc, format string, args ...any) {
	fmt.Fprintf(w, "[%s: %s/%s] %s\n", time.Now().Format("2006-01-02 15:04:05,000"), level, proc, fmt.Sprintf(format, args...))
}

// delivery is a message the worker took from the broker.
type delivery struct {
	tag, key, payload string
}

type worker struct {
	b                     *Broker
	name, group           string
	queues                []string
	concurrency, prefetch int
	out                   io.Writer
	k                     *knobs

	shutdown  atomic.Bool
	mu        sync.Mutex
	delivered map[string]delivery // tag -> not yet acked
	done      int
}

func (w *worker) run(ctx context.Context, sigs <-chan os.Signal) int {
	w.delivered = map[string]delivery{}
	if err := w.b.Declare(ctx, w.queues...); err != nil {
		logLine(w.out, "ERROR", "MainProcess", "declare queues: %v", err)
		return 1
	}
	if n, err := w.b.restoreVisible(ctx, VisibilityTimeout*time.Second); err != nil {
		logLine(w.out, "WARNING", "MainProcess", "restore_visible: %v", err)
	} else if n > 0 {
		logLine(w.out, "WARNING", "MainProcess", "Restoring %d unacknowledged message(s)", n)
	}
	logLine(w.out, "INFO", "MainProcess", "%s ready.", w.name)

	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	jobs := make(chan delivery, w.prefetch)
	slots := make(chan struct{}, w.prefetch)
	var wg sync.WaitGroup
	for range w.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				if w.shutdown.Load() { // only prefetched: restored below
					<-slots
					continue
				}
				if !sleepCtx(ctx, w.k.task()) {
					<-slots
					continue
				}
				if err := w.b.ack(ctx, d.tag); err == nil {
					w.mu.Lock()
					delete(w.delivered, d.tag)
					w.done++
					w.mu.Unlock()
				}
				<-slots
			}
		}()
	}
	fetchDone := make(chan struct{})
	go func() {
		defer close(fetchDone)
		defer close(jobs)
		w.fetch(fetchCtx, jobs, slots)
	}()

	<-sigs
	logLine(w.out, "WARNING", "MainProcess", "worker: Warm shutdown (MainProcess)")
	if w.k.stuckWorker(w.group) {
		// A task that never ends: only SIGKILL stops this worker, and what
		// it holds stays in the unacked hash.
		for {
			<-sigs
		}
	}
	// Tasks running finish; the ones still queued in jobs are skipped
	// (they were only prefetched) and restored below.
	w.shutdown.Store(true)
	stopFetch()
	<-fetchDone
	wg.Wait()
	w.mu.Lock()
	var tags []string
	for t := range w.delivered {
		tags = append(tags, t)
	}
	w.mu.Unlock()
	if len(tags) > 0 {
		logLine(w.out, "WARNING", "MainProcess", "Restoring %d unacknowledged message(s)", len(tags))
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	code := 0
	for _, t := range tags {
		if err := w.b.restore(rctx, t); err != nil {
			logLine(w.out, "ERROR", "MainProcess", "Could not restore message %s: %v", t, err)
			code = 1
		}
	}
	return code
}

// fetch takes messages while there is room in the prefetch window,
// rotating the queues as kombu's round_robin cycle does.
func (w *worker) fetch(ctx context.Context, jobs chan<- delivery, slots chan struct{}) {
	order := append([]string(nil), w.queues...)
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		var keys []string
		for _, p := range PrioritySteps {
			for _, q := range order {
				if k := PriorityKey(q, p); !w.k.stuckQueue(k) {
					keys = append(keys, k)
				}
			}
		}
		if len(keys) == 0 {
			<-slots
			sleepCtx(ctx, time.Second)
			continue
		}
		key, payload, ok, err := w.b.receive(ctx, keys, brpopTimeout)
		if err != nil || !ok {
			<-slots
			if err != nil && ctx.Err() == nil {
				sleepCtx(ctx, time.Second)
			}
			continue
		}
		m, derr := DecodeMessage(payload)
		tag := m.Properties.DeliveryTag
		if derr != nil {
			tag = NewUUID()
		}
		if err := w.b.markUnacked(context.WithoutCancel(ctx), tag, payload, m.Properties.DeliveryInfo.Exchange, m.Properties.DeliveryInfo.RoutingKey); err != nil {
			logLine(w.out, "ERROR", "MainProcess", "unacked %s: %v", tag, err)
		}
		w.mu.Lock()
		w.delivered[tag] = delivery{tag: tag, key: key, payload: payload}
		w.mu.Unlock()
		// Rotate the queue that delivered to the end (kombu's _queue_cycle.rotate).
		q := QueueOfKey(key)
		for i, o := range order {
			if o == q {
				order = append(append(order[:i:i], order[i+1:]...), q)
				break
			}
		}
		jobs <- delivery{tag: tag, key: key, payload: payload}
	}
}

// sleepCtx sleeps d unless ctx ends first; it reports whether it slept
// fully.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// beatSchedule is what the lab's scheduler sends every interval.
var beatSchedule = []string{"utilities", "reindexing", "retention_policies", "discovery"}

// beat is the Celery beat scheduler: pid file, periodic tasks, clean stop.
func beat(ctx context.Context, b *Broker, pidfile string, interval time.Duration, sigs <-chan os.Signal, stdout, stderr io.Writer) int {
	if pidfile != "" {
		if old, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(old))); err == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
				fmt.Fprintf(stderr, "ERROR: Pidfile (%s) already exists.\nSeems we're already running? (pid: %d)\n", pidfile, pid)
				return 1
			}
		}
		if err := os.MkdirAll(filepath.Dir(pidfile), 0o755); err != nil {
			fmt.Fprintf(stderr, "celery beat: %v\n", err)
			return 1
		}
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			fmt.Fprintf(stderr, "celery beat: %v\n", err)
			return 1
		}
		defer os.Remove(pidfile)
	}
	logLine(stdout, "INFO", "MainProcess", "beat: Starting...")
	t := time.NewTicker(interval)
	defer t.Stop()
	orig := origin()
	for {
		select {
		case <-sigs:
			logLine(stdout, "INFO", "MainProcess", "beat: Shutting down...")
			return 0
		case <-ctx.Done():
			return 0
		case <-t.C:
			for _, q := range beatSchedule {
				m := NewMessage(q, "periodic", 0, orig)
				if err := b.Publish(ctx, m); err != nil && !errors.Is(err, context.Canceled) {
					logLine(stdout, "ERROR", "MainProcess", "beat: Connection error: %v", err)
				}
			}
		}
	}
}
