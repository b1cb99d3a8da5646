package eclecticiq

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Sep is kombu's separator between a queue name and its priority
// (Channel.sep, kombu/transport/redis.py): priority 3 of "utilities" is the
// list "utilities\x06\x163".
const Sep = "\x06\x16"

// PrioritySteps are kombu's redis priority steps (PRIORITY_STEPS): 0 is
// the queue's own list and is consumed first, then 3, 6 and 9.
var PrioritySteps = []int{0, 3, 6, 9}

// Kombu's redis transport keys (Channel.unacked_key and friends).
const (
	// UnackedKey is the hash of delivered, not yet acknowledged messages:
	// delivery tag -> JSON [message, exchange, routing_key].
	UnackedKey = "unacked"
	// UnackedIndexKey is the sorted set of delivery tags by delivery time.
	UnackedIndexKey = "unacked_index"
	// UnackedMutexKey guards restore_visible.
	UnackedMutexKey = "unacked_mutex"
	// BindingPrefix prefixes kombu's binding sets (keyprefix_queue).
	BindingPrefix = "_kombu.binding."
	// VisibilityTimeout is kombu's default visibility_timeout in seconds: an
	// unacked message older than this is restored by the next worker.
	VisibilityTimeout = 3600
)

// DocumentQueues are the Celery queues seed 003 checks with `llen`.
var DocumentQueues = []string{"enrichers", "integrations", "priority_enrichers", "priority_providers",
	"priority_utilities", "providers", "reindexing", "utilities"}

// PipelineQueues are the EclecticIQ ingestion pipeline lists seed 003
// deletes ("del queue:ingestion:inbound" …): not Celery queues.
var PipelineQueues = []string{"queue:ingestion:inbound", "queue:graph:inbound", "queue:search:inbound"}

// WorkerGroup is one Celery worker instance of the platform:
// eclecticiq-platform-backend-worker@<Name>.service, configured by
// /etc/default/eclecticiq-platform-backend-worker-<Name>.
type WorkerGroup struct {
	// Name is the instance name (seed 003's /etc/default file suffix).
	Name string
	// Queues are the Celery queues it consumes (CELERY_QUEUES).
	Queues []string
	// Concurrency is CELERY_CONCURRENCY.
	Concurrency int
}

// WorkerGroups are the platform's worker instances, one per /etc/default
// file of seed 003. Which queues each consumes is the lab's choice (the
// document does not say): together they consume seed 003's eight queues
// and ten more named after the worker groups, so a check of the eight
// names alone misses work (reference/eclecticiq-alien4cloud.md: the queue
// names "don't match the worker names").
var WorkerGroups = []WorkerGroup{
	{"common", []string{"enrichers", "integrations", "providers"}, 2},
	{"discovery", []string{"discovery"}, 1},
	{"discovery-priority", []string{"priority_discovery"}, 1},
	{"entity-rules-priority", []string{"priority_entity_rules"}, 1},
	{"extract-rules-priority", []string{"priority_extract_rules"}, 1},
	{"incoming-transports", []string{"incoming_transports"}, 1},
	{"incoming-transports-priority", []string{"priority_incoming_transports"}, 1},
	{"outgoing-transports", []string{"outgoing_transports"}, 1},
	{"outgoing-transports-priority", []string{"priority_outgoing_transports"}, 1},
	{"reindexing", []string{"reindexing"}, 1},
	{"retention-policies", []string{"retention_policies"}, 1},
	{"retention-policies-priority", []string{"priority_retention_policies"}, 1},
	{"utilities", []string{"utilities"}, 2},
	{"utilities-priority", []string{"priority_utilities", "priority_enrichers", "priority_providers"}, 2},
}

// CeleryQueues returns every Celery queue the workers consume, sorted.
func CeleryQueues() []string {
	var qs []string
	for _, g := range WorkerGroups {
		qs = append(qs, g.Queues...)
	}
	slices.Sort(qs)
	return slices.Compact(qs)
}

// PriorityKey returns the list holding queue's messages of priority pri
// (kombu's _q_for_pri: the queue itself for 0).
func PriorityKey(queue string, pri int) string {
	p := 0
	for _, s := range PrioritySteps {
		if pri >= s {
			p = s
		}
	}
	if p == 0 {
		return queue
	}
	return queue + Sep + strconv.Itoa(p)
}

// QueueKeys returns every list of a queue, in kombu's BRPOP order.
func QueueKeys(queue string) []string {
	keys := make([]string, len(PrioritySteps))
	for i, p := range PrioritySteps {
		keys[i] = PriorityKey(queue, p)
	}
	return keys
}

// QueueOfKey returns the queue a list belongs to (the key up to kombu's
// separator).
func QueueOfKey(key string) string {
	q, _, _ := strings.Cut(key, Sep)
	return q
}

// Binding returns kombu's binding set of queue (its direct exchange, named
// like the queue) and the member kombu adds: routing key, pattern and
// queue joined by Sep.
func Binding(queue string) (key, member string) {
	return BindingPrefix + queue, queue + Sep + Sep + queue
}

// taskNames are the task names the lab's producers send to each queue
// (the platform's real names are not public; these follow its module
// layout eiq.platform.*).
var taskNames = map[string]string{
	"enrichers":           "eiq.platform.enrichers.tasks.run_enricher",
	"integrations":        "eiq.platform.integrations.tasks.run_integration",
	"providers":           "eiq.platform.providers.tasks.fetch_provider",
	"reindexing":          "eiq.platform.search.tasks.reindex_entities",
	"utilities":           "eiq.platform.utilities.tasks.cleanup",
	"discovery":           "eiq.platform.discovery.tasks.discover_entities",
	"entity_rules":        "eiq.platform.rules.tasks.apply_entity_rule",
	"extract_rules":       "eiq.platform.rules.tasks.apply_extract_rule",
	"incoming_transports": "eiq.platform.transports.tasks.run_incoming_feed",
	"outgoing_transports": "eiq.platform.transports.tasks.run_outgoing_feed",
	"retention_policies":  "eiq.platform.retention.tasks.apply_policy",
}

// TaskName returns the task name for a queue ("priority_x" sends x's task).
func TaskName(queue string) string {
	if n, ok := taskNames[strings.TrimPrefix(queue, "priority_")]; ok {
		return n
	}
	return "eiq.platform.tasks." + queue
}

// Message is a Celery (protocol 2) task message as kombu's redis transport
// stores it in a list: JSON, with the body base64-encoded.
type Message struct {
	Body            string         `json:"body"`
	ContentEncoding string         `json:"content-encoding"`
	ContentType     string         `json:"content-type"`
	Headers         MessageHeaders `json:"headers"`
	Properties      MessageProps   `json:"properties"`
}

// MessageHeaders are Celery's task headers.
type MessageHeaders struct {
	Lang        string  `json:"lang"`
	Task        string  `json:"task"`
	ID          string  `json:"id"`
	Shadow      *string `json:"shadow"`
	ETA         *string `json:"eta"`
	Expires     *string `json:"expires"`
	Group       *string `json:"group"`
	GroupIndex  *int    `json:"group_index"`
	Retries     int     `json:"retries"`
	Timelimit   [2]*int `json:"timelimit"`
	RootID      string  `json:"root_id"`
	ParentID    *string `json:"parent_id"`
	ArgsRepr    string  `json:"argsrepr"`
	KwargsRepr  string  `json:"kwargsrepr"`
	Origin      string  `json:"origin"`
	IgnoreRes   bool    `json:"ignore_result"`
	Redelivered bool    `json:"redelivered,omitempty"`
}

// MessageProps are kombu's message properties.
type MessageProps struct {
	CorrelationID string       `json:"correlation_id"`
	ReplyTo       string       `json:"reply_to"`
	DeliveryMode  int          `json:"delivery_mode"`
	DeliveryInfo  DeliveryInfo `json:"delivery_info"`
	Priority      int          `json:"priority"`
	BodyEncoding  string       `json:"body_encoding"`
	DeliveryTag   string       `json:"delivery_tag"`
}

// DeliveryInfo is where a message was published to.
type DeliveryInfo struct {
	Exchange    string `json:"exchange"`
	RoutingKey  string `json:"routing_key"`
	Redelivered bool   `json:"redelivered,omitempty"`
}

// NewMessage returns a task message for queue with one positional
// argument, as a producer on origin ("gen<pid>@<host>") sends it.
func NewMessage(queue, arg string, priority int, origin string) Message {
	id, tag, reply := NewUUID(), NewUUID(), NewUUID()
	args := []any{[]any{arg}, map[string]any{}, map[string]any{"callbacks": nil, "errbacks": nil, "chain": nil, "chord": nil}}
	body, _ := json.Marshal(args) // plain values always marshal
	return Message{
		Body:            base64.StdEncoding.EncodeToString(body),
		ContentEncoding: "utf-8",
		ContentType:     "application/json",
		Headers: MessageHeaders{Lang: "py", Task: TaskName(queue), ID: id, RootID: id,
			ArgsRepr: fmt.Sprintf("(%q,)", arg), KwargsRepr: "{}", Origin: origin},
		Properties: MessageProps{CorrelationID: id, ReplyTo: reply, DeliveryMode: 2,
			DeliveryInfo: DeliveryInfo{Exchange: queue, RoutingKey: queue},
			Priority:     priority, BodyEncoding: "base64", DeliveryTag: tag},
	}
}

// Encode returns the message as kombu stores it.
func (m Message) Encode() string {
	b, _ := json.Marshal(m) // a fixed struct always marshals
	return string(b)
}

// DecodeMessage parses a stored message.
func DecodeMessage(s string) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("not a kombu message: %w", err)
	}
	if m.Properties.DeliveryTag == "" || m.Headers.Task == "" {
		return m, fmt.Errorf("not a kombu message: no delivery tag or task")
	}
	return m, nil
}

// NewUUID returns a random RFC 4122 version 4 UUID, as Celery's task ids.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// randInt returns a uniform random number in [0, n).
func randInt(n int) int {
	if n <= 1 {
		return 0
	}
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// origin is Celery's producer origin header for this process.
func origin() string {
	h, _ := os.Hostname()
	return "gen" + strconv.Itoa(os.Getpid()) + "@" + h
}
