package eclecticiq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func init() {
	// go-redis logs dial failures of its pool on stderr; the stand-ins
	// report errors in their own words.
	redis.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Broker speaks to the Celery broker the way kombu's redis transport does
// (kombu/transport/redis.py): LPUSH to publish, BRPOP over every priority
// list to consume, the unacked hash and unacked_index sorted set for
// messages delivered but not acknowledged, and restore by RPUSH (so a
// restored message is the next one taken).
type Broker struct {
	rdb *redis.Client
}

// OpenBroker connects to a redis:// URL (password and database from the
// URL) and checks it answers.
func OpenBroker(ctx context.Context, rawURL string) (*Broker, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("broker URL: %w", redactURL(err, rawURL))
	}
	return NewBroker(ctx, opt)
}

// redactURL keeps a password out of an error about a URL.
func redactURL(err error, rawURL string) error {
	msg := err.Error()
	if i := strings.Index(rawURL, "@"); i > 0 {
		msg = strings.ReplaceAll(msg, rawURL[:i], "redis://…")
	}
	return errors.New(msg)
}

// Close closes the connection pool.
func (b *Broker) Close() error { return b.rdb.Close() }

// Client returns the underlying client (tests and the lab's seeding).
func (b *Broker) Client() *redis.Client { return b.rdb }

// Declare adds each queue's binding to its direct exchange, as kombu does
// when a queue is declared (_queue_bind).
func (b *Broker) Declare(ctx context.Context, queues ...string) error {
	pipe := b.rdb.Pipeline()
	for _, q := range queues {
		k, m := Binding(q)
		pipe.SAdd(ctx, k, m)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// Publish sends a task message to its queue's list for its priority
// (kombu's _put: LPUSH).
func (b *Broker) Publish(ctx context.Context, m Message) error {
	return b.rdb.LPush(ctx, PriorityKey(m.Properties.DeliveryInfo.RoutingKey, m.Properties.Priority), m.Encode()).Err()
}

// receive waits up to timeout for a message on keys (in order, as BRPOP
// checks them) and returns the list it came from and the payload. ok is
// false when nothing came.
func (b *Broker) receive(ctx context.Context, keys []string, timeout time.Duration) (key, payload string, ok bool, err error) {
	res, err := b.rdb.BRPop(ctx, timeout, keys...).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	return res[0], res[1], true, nil
}

// markUnacked records a delivered message (QoS.append): its tag in
// unacked_index scored by the time, [message, exchange, routing_key] in
// the unacked hash.
func (b *Broker) markUnacked(ctx context.Context, tag, payload, exchange, routingKey string) error {
	v, err := json.Marshal([]any{json.RawMessage(payload), exchange, routingKey})
	if err != nil {
		return fmt.Errorf("unacked %s: %w", tag, err)
	}
	pipe := b.rdb.TxPipeline()
	pipe.ZAdd(ctx, UnackedIndexKey, redis.Z{Score: float64(time.Now().UnixNano()) / 1e9, Member: tag})
	pipe.HSet(ctx, UnackedKey, tag, v)
	_, err = pipe.Exec(ctx)
	return err
}

// ack removes a message from the unacked indices (QoS.ack).
func (b *Broker) ack(ctx context.Context, tag string) error {
	pipe := b.rdb.TxPipeline()
	pipe.ZRem(ctx, UnackedIndexKey, tag)
	pipe.HDel(ctx, UnackedKey, tag)
	_, err := pipe.Exec(ctx)
	return err
}

// restore puts an unacked message back on its queue (QoS.restore_by_tag):
// in one transaction watched on the unacked hash it leaves the indices and
// is RPUSHed, marked redelivered, to the list of its priority, so it is the
// next message taken. A tag no longer in the hash is a no-op.
func (b *Broker) restore(ctx context.Context, tag string) error {
	// Another client changing the hash fails the transaction: try again,
	// as redis-py's transaction() does on a WatchError.
	for {
		err := b.restoreOnce(ctx, tag)
		if !errors.Is(err, redis.TxFailedErr) || ctx.Err() != nil {
			return err
		}
	}
}

func (b *Broker) restoreOnce(ctx context.Context, tag string) error {
	return b.rdb.Watch(ctx, func(tx *redis.Tx) error {
		raw, err := tx.HGet(ctx, UnackedKey, tag).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		var entry []json.RawMessage
		var body []byte
		var pri int
		var exchange, rk string
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &entry); err != nil || len(entry) != 3 {
				return fmt.Errorf("unacked %s: not [message, exchange, routing_key]", tag)
			}
			if body, pri, err = redelivered(entry[0]); err != nil {
				return fmt.Errorf("unacked %s: %w", tag, err)
			}
			_ = json.Unmarshal(entry[1], &exchange)
			_ = json.Unmarshal(entry[2], &rk)
		}
		queues := []string{rk}
		if exchange != "" {
			if qs, err := b.lookup(ctx, tx, exchange, rk); err == nil && len(qs) > 0 {
				queues = qs
			}
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.ZRem(ctx, UnackedIndexKey, tag)
			pipe.HDel(ctx, UnackedKey, tag)
			if body == nil {
				return nil
			}
			for _, q := range queues {
				pipe.RPush(ctx, PriorityKey(q, pri), body)
			}
			return nil
		})
		return err
	}, UnackedKey)
}

// lookup returns the queues bound to exchange with routing key rk
// (kombu's direct exchange lookup over _kombu.binding.<exchange>).
func (b *Broker) lookup(ctx context.Context, c redis.Cmdable, exchange, rk string) ([]string, error) {
	members, err := c.SMembers(ctx, BindingPrefix+exchange).Result()
	if err != nil {
		return nil, err
	}
	var qs []string
	for _, m := range members {
		f := strings.Split(m, Sep)
		if len(f) == 3 && f[0] == rk {
			qs = append(qs, f[2])
		}
	}
	return qs, nil
}

// redelivered returns a stored message marked redelivered (kombu's
// _do_restore_message sets headers.redelivered and
// properties.delivery_info.redelivered) and its priority. A message of the
// lab's shape keeps its key order (Python's dicts keep theirs; the new
// keys come last); any other is re-encoded from a map.
func redelivered(raw json.RawMessage) ([]byte, int, error) {
	if m, err := DecodeMessage(string(raw)); err == nil && m.Encode() == string(raw) {
		m.Headers.Redelivered, m.Properties.DeliveryInfo.Redelivered = true, true
		return []byte(m.Encode()), m.Properties.Priority, nil
	}
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		return nil, 0, err
	}
	setPath(payload, true, "headers", "redelivered")
	setPath(payload, true, "properties", "delivery_info", "redelivered")
	pri := 0
	if props, ok := payload["properties"].(map[string]any); ok {
		if p, ok := props["priority"].(float64); ok {
			pri = int(p)
		}
	}
	b, err := json.Marshal(payload)
	return b, pri, err
}

// setPath sets v at a path of nested JSON objects that already exist.
func setPath(m map[string]any, v any, path ...string) {
	for i, k := range path {
		if i == len(path)-1 {
			m[k] = v
			return
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
}

// restoreVisible restores the messages delivered longer than visibility
// ago (QoS.restore_visible), under the unacked_mutex like kombu; another
// worker holding the mutex makes it a no-op.
func (b *Broker) restoreVisible(ctx context.Context, visibility time.Duration) (int, error) {
	token := NewUUID()
	got, err := b.rdb.SetNX(ctx, UnackedMutexKey, token, 300*time.Second).Result()
	if err != nil || !got {
		return 0, err
	}
	defer func() {
		if v, err := b.rdb.Get(ctx, UnackedMutexKey).Result(); err == nil && v == token {
			b.rdb.Del(ctx, UnackedMutexKey)
		}
	}()
	ceil := float64(time.Now().Add(-visibility).UnixNano()) / 1e9
	tags, err := b.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: UnackedIndexKey, ByScore: true, Rev: true,
		Start: strconv.FormatFloat(ceil, 'f', 6, 64), Stop: "0"}).Result()
	if err != nil {
		return 0, err
	}
	for _, t := range tags {
		if err := b.restore(ctx, t); err != nil {
			return 0, err
		}
	}
	return len(tags), nil
}

// QueueCounts returns, per queue, the messages waiting in all its
// priority lists.
func (b *Broker) QueueCounts(ctx context.Context, queues ...string) (map[string]int64, error) {
	pipe := b.rdb.Pipeline()
	cmds := map[string][]*redis.IntCmd{}
	for _, q := range queues {
		for _, k := range QueueKeys(q) {
			cmds[q] = append(cmds[q], pipe.LLen(ctx, k))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := map[string]int64{}
	for q, cs := range cmds {
		for _, c := range cs {
			out[q] += c.Val()
		}
	}
	return out, nil
}

// NewBroker connects with client options of its own (the lab dials
// through its op namespace) and checks the server answers.
func NewBroker(ctx context.Context, opt *redis.Options) (*Broker, error) {
	opt.MaxRetries = 0
	b := &Broker{rdb: redis.NewClient(opt)}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.rdb.Ping(pctx).Err(); err != nil {
		b.rdb.Close()
		return nil, fmt.Errorf("broker %s db %d: %w", opt.Addr, opt.DB, err)
	}
	return b, nil
}
