package eclecticiq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// producerQueues are the queues the web unit sends tasks to, seed 003's
// eight twice as often as the others.
func producerQueues() []string {
	qs := append([]string{}, DocumentQueues...)
	return append(qs, CeleryQueues()...)
}

// web is the platform's web/API process as far as the queues see it: it
// keeps sending Celery tasks (the rate knob, per second; priority 0
// mostly, 3, 6 and 9 now and then) and, every fourth task, an uploaded
// package to the ingestion pipeline (queue:ingestion:inbound).
func web(ctx context.Context, b *Broker, sigs <-chan os.Signal, out io.Writer) int {
	k := &knobs{}
	qs := producerQueues()
	orig := origin()
	n := 0
	logLine(out, "INFO", "MainProcess", "web: accepting API requests")
	for {
		rate := k.tasksPerSecond()
		wait := time.Second
		if rate > 0 {
			wait = time.Duration(float64(time.Second) / rate)
		}
		select {
		case <-sigs:
			logLine(out, "INFO", "MainProcess", "web: shutting down")
			return 0
		case <-time.After(wait):
		}
		if rate == 0 {
			continue
		}
		n++
		q := qs[randInt(len(qs))]
		pri := 0
		if r := randInt(10); r >= 7 {
			pri = PrioritySteps[r-6]
		}
		if err := b.Publish(ctx, NewMessage(q, "entity-"+strconv.Itoa(n), pri, orig)); err != nil {
			logLine(out, "ERROR", "MainProcess", "web: publish: %v", err)
		}
		if n%4 == 0 {
			item, _ := json.Marshal(map[string]any{"package_id": NewUUID(), "source_id": 1 + randInt(5), "received_at": time.Now().UTC().Format(time.RFC3339)})
			if err := b.rdb.LPush(ctx, PipelineQueues[0], item).Err(); err != nil {
				logLine(out, "ERROR", "MainProcess", "web: pipeline: %v", err)
			}
		}
	}
}

// pipelineStage consumes some pipeline lists and passes each item on. On
// SIGTERM it empties its lists before it exits (what it took is never
// lost), leaving alone any list the stuck-queues knob names.
type pipelineStage struct {
	name   string
	inputs []string
	handle func(ctx context.Context, b *Broker, key, item string) error
}

// stages are the pipeline processes: ingestion (entity ingestion, and the
// graph list) and searchindex (the search indexing list).
var stages = map[string]pipelineStage{
	"ingestion": {"ingestion", []string{"queue:ingestion:inbound", "queue:graph:inbound"},
		func(ctx context.Context, b *Broker, key, item string) error {
			if key != "queue:ingestion:inbound" {
				return nil // the graph is written
			}
			pipe := b.rdb.TxPipeline()
			pipe.LPush(ctx, "queue:graph:inbound", item)
			pipe.LPush(ctx, "queue:search:inbound", item)
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
			q := "enrichers"
			if randInt(4) == 0 {
				q = "priority_enrichers"
			}
			return b.Publish(ctx, NewMessage(q, "package", 0, origin()))
		}},
	"searchindex": {"searchindex", []string{"queue:search:inbound"},
		func(context.Context, *Broker, string, string) error { return nil }},
}

func (st pipelineStage) run(ctx context.Context, b *Broker, sigs <-chan os.Signal, out io.Writer) int {
	k := &knobs{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for runCtx.Err() == nil {
			keys := st.open(k)
			if len(keys) == 0 {
				sleepCtx(runCtx, time.Second)
				continue
			}
			res, err := b.rdb.BRPop(runCtx, brpopTimeout, keys...).Result()
			if err != nil {
				if !errors.Is(err, redis.Nil) && runCtx.Err() == nil {
					logLine(out, "ERROR", "MainProcess", "%s: %v", st.name, err)
					sleepCtx(runCtx, time.Second)
				}
				continue
			}
			if err := st.handle(context.WithoutCancel(runCtx), b, res[0], res[1]); err != nil {
				logLine(out, "ERROR", "MainProcess", "%s: %v", st.name, err)
			}
		}
	}()
	logLine(out, "INFO", "MainProcess", "%s: consuming %v", st.name, st.inputs)
	<-sigs
	stop()
	<-done
	// Drain what is left, without blocking.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	n := 0
	for dctx.Err() == nil {
		took := false
		for _, key := range st.open(k) {
			item, err := b.rdb.RPop(dctx, key).Result()
			if err != nil {
				continue
			}
			took = true
			n++
			if err := st.handle(dctx, b, key, item); err != nil {
				logLine(out, "ERROR", "MainProcess", "%s: %v", st.name, err)
			}
		}
		if !took {
			break
		}
	}
	logLine(out, "INFO", "MainProcess", "%s: stopped after draining %d item(s)", st.name, n)
	return 0
}

// open returns the stage's inputs that no knob keeps it from.
func (st pipelineStage) open(k *knobs) []string {
	var keys []string
	for _, key := range st.inputs {
		if !k.stuckQueue(key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// idle runs until a signal: the processes whose work the queues never see
// (opentaxii).
func idle(sigs <-chan os.Signal, out io.Writer, what string) int {
	logLine(out, "INFO", "MainProcess", "%s: ready", what)
	<-sigs
	return 0
}

// secretsSetter is the oneshot that checks the platform can read its
// settings and reach its broker before the other units start.
func secretsSetter(s *Settings, out io.Writer) int {
	if _, _, err := s.PostgresConn(); err != nil {
		fmt.Fprintf(out, "eclecticiq-secrets-setter: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "eclecticiq-secrets-setter: secrets of %s in place\n", s.Path)
	return 0
}
