package eclecticiq

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/config"
)

// SettingsEnv names the environment variable every platform process reads
// platform_settings.py's path from (seed 003: "Specify the platform
// settings environment variable by exporting it").
const SettingsEnv = "EIQ_PLATFORM_SETTINGS"

// Settings are the values of platform_settings.py the stand-ins use. The
// file is read as Python literals, never executed (config.ParsePythonSettings).
type Settings struct {
	// Path is the file read.
	Path string
	// DatabaseURI is SQLALCHEMY_DATABASE_URI.
	DatabaseURI string
	// BrokerURL is CELERY_BROKER_URL (else REDIS_URL): the Celery broker
	// and pipeline queues, redis://[:password@]host:port/db.
	BrokerURL string
	// SearchURL is SEARCH_URL; SearchUser and SearchPassword its basic
	// authentication (SEARCH_USERNAME, SEARCH_PASSWORD), when set.
	SearchURL, SearchUser, SearchPassword string
}

// ReadSettings reads the settings file named by $EIQ_PLATFORM_SETTINGS.
func ReadSettings() (*Settings, error) {
	p := os.Getenv(SettingsEnv)
	if p == "" {
		return nil, fmt.Errorf("%s is not set: export %s=%s", SettingsEnv, SettingsEnv, SettingsPath)
	}
	return ReadSettingsFile(p)
}

// ReadSettingsFile reads a platform_settings.py.
func ReadSettingsFile(path string) (*Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("platform settings: %w", err)
	}
	ps, err := config.ParsePythonSettings(path, b)
	if err != nil {
		return nil, fmt.Errorf("platform settings: %w", err)
	}
	s := &Settings{Path: path}
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := ps.Get(k); ok {
				return v
			}
		}
		return ""
	}
	s.DatabaseURI = get("SQLALCHEMY_DATABASE_URI")
	s.BrokerURL = get("CELERY_BROKER_URL", "REDIS_URL")
	s.SearchURL = strings.TrimRight(get("SEARCH_URL"), "/")
	s.SearchUser, s.SearchPassword = get("SEARCH_USERNAME"), get("SEARCH_PASSWORD")
	var missing []string
	for k, v := range map[string]string{"SQLALCHEMY_DATABASE_URI": s.DatabaseURI, "CELERY_BROKER_URL": s.BrokerURL, "SEARCH_URL": s.SearchURL} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("platform settings %s: no %s", path, strings.Join(missing, ", "))
	}
	return s, nil
}

// PostgresConn returns psql's connection URL (without the password) and
// the password, which goes to psql through PGPASSWORD, never its argv.
func (s *Settings) PostgresConn() (dsn, password string, err error) {
	u, err := url.Parse(strings.Replace(s.DatabaseURI, "postgresql+psycopg2://", "postgresql://", 1))
	if err != nil || (u.Scheme != "postgresql" && u.Scheme != "postgres") {
		return "", "", errors.New("SQLALCHEMY_DATABASE_URI is not a postgresql:// URL")
	}
	if u.User != nil {
		password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	return u.String(), password, nil
}

// KnobDirEnv overrides KnobDir (the lab's unit tests run without root).
const KnobDirEnv = "HOTSNAP_LAB_EIQ_KNOBS"

// KnobDir is the directory, private to node1, whose files steer the lab's
// EclecticIQ stand-ins (each is read about once a second):
//
//	stuck-workers  worker instance names, one per line ("*" for all), that
//	               ignore SIGTERM as a worker stuck in a task does, until
//	               the stop times out and SIGKILLs them (their unacked
//	               messages stay in the unacked hash)
//	stuck-queues   queue or list names, one per line, that no consumer
//	               takes from: they never drain
//	task-time      how long each Celery task runs (Go duration, default
//	               50ms; read as each task starts)
//	rate           tasks per second the web unit produces (default 10; 0
//	               pauses it)
const KnobDir = "/run/hotsnap-lab-eclecticiq"

// Knob file names in KnobDir.
const (
	KnobStuckWorkers = "stuck-workers"
	KnobStuckQueues  = "stuck-queues"
	KnobTaskTime     = "task-time"
	KnobRate         = "rate"
)

// Default knob values.
const (
	DefaultTaskTime = 50 * time.Millisecond
	DefaultRate     = 10.0
)

func knobDir() string {
	if d := os.Getenv(KnobDirEnv); d != "" {
		return d
	}
	return KnobDir
}

// knobs caches the knob files for a second.
type knobs struct {
	mu       sync.Mutex
	read     time.Time
	stuckW   []string
	stuckQ   []string
	taskTime time.Duration
	rate     float64
}

func (k *knobs) refresh() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Since(k.read) < time.Second {
		return
	}
	k.read = time.Now()
	lines := func(name string) []string {
		b, err := os.ReadFile(knobDir() + "/" + name)
		if err != nil {
			return nil
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	k.stuckW, k.stuckQ = lines(KnobStuckWorkers), lines(KnobStuckQueues)
	k.taskTime = DefaultTaskTime
	if l := lines(KnobTaskTime); len(l) > 0 {
		if d, err := time.ParseDuration(l[0]); err == nil && d >= 0 {
			k.taskTime = d
		}
	}
	k.rate = DefaultRate
	if l := lines(KnobRate); len(l) > 0 {
		if r, err := strconv.ParseFloat(l[0], 64); err == nil && r >= 0 {
			k.rate = r
		}
	}
}

// stuckQueue reports whether no consumer may take from key (a list or
// its queue).
func (k *knobs) stuckQueue(key string) bool {
	k.refresh()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, q := range k.stuckQ {
		if q == key || q == QueueOfKey(key) {
			return true
		}
	}
	return false
}

// stuckWorker reports whether worker instance name refuses to stop.
func (k *knobs) stuckWorker(name string) bool {
	k.mu.Lock()
	k.read = time.Time{} // read afresh: the switch is usually set just before the stop
	k.mu.Unlock()
	k.refresh()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, w := range k.stuckW {
		if w == name || w == "*" {
			return true
		}
	}
	return false
}

// task returns the task-time knob, read afresh for every task.
func (k *knobs) task() time.Duration {
	k.mu.Lock()
	k.read = time.Time{}
	k.mu.Unlock()
	k.refresh()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.taskTime
}

func (k *knobs) tasksPerSecond() float64 {
	k.refresh()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rate
}
