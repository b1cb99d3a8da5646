package eclecticiq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/postgres"
	"github.com/hotsnap/hotsnap/steps/redis"
	"github.com/hotsnap/hotsnap/steps/service"
)

// The platform's units, as seed 003 names them.
const (
	// UnitServices groups the producers (web, ingestion, opentaxii,
	// scheduler, searchindex): stopped first.
	UnitServices = "eclecticiq-platform-backend-services"
	// UnitWorkers groups the Celery workers (worker@<group>).
	UnitWorkers = "eclecticiq-platform-backend-workers"
	// WorkersGlob is seed 003's `worker*.service`, quoted: it matches the
	// worker@ instances and the workers unit.
	WorkersGlob = "eclecticiq-platform-backend-worker*.service"
)

// PipelineQueues are the lists seed 003 deletes when a queue will not
// drain ("del queue:ingestion:inbound" …): the platform's ingestion
// pipeline, not Celery queues; deleting them loses that work.
var PipelineQueues = []string{"queue:ingestion:inbound", "queue:graph:inbound", "queue:search:inbound"}

// unitPatterns are the units the preflight lists (seed 003's units and
// their data stores).
var unitPatterns = []string{"eclecticiq-*", "postgresql*", "elasticsearch.service", "redis.service"}

// site is what the steps of one EclecticIQ runbook share: where each part
// runs, and what an earlier step found (the broker's database).
type site struct {
	env       *steps.Env
	eiq       *config.EclecticIQ
	platform  string // the node with role platform: units, configuration, eiq-platform
	pgNode    string
	redisNode string

	mu sync.Mutex
	db int // the broker's database once known, -1 before
}

func newSite(env *steps.Env) *site {
	e := env.Inv.EclecticIQ
	if e == nil {
		e = &config.EclecticIQ{Redis: config.EIQRedis{DB: -1}}
	}
	return &site{env: env, eiq: e, db: e.Redis.DB,
		platform:  env.FirstWith(config.RolePlatform),
		pgNode:    env.FirstWith(config.RolePostgreSQL),
		redisNode: env.FirstWith(config.RoleRedis)}
}

// pg is the PostgreSQL cluster.
func (s *site) pg() postgres.Cluster {
	p := s.eiq.Postgres
	return postgres.Cluster{Node: s.pgNode, OSUser: p.OSUser, Port: p.Port, BinDir: p.BinDir}
}

// services and workers are the platform's units, in seed 003's order.
func (s *site) services() service.Units {
	return service.Units{Node: s.platform, Patterns: []string{UnitServices}}
}

func (s *site) workers() service.Units {
	return service.Units{Node: s.platform, Patterns: []string{WorkersGlob}}
}

// workersUnit is the workers unit, which starts every worker@ instance
// (Wants=).
func (s *site) workersUnit() service.Units {
	return service.Units{Node: s.platform, Patterns: []string{UnitWorkers}}
}

// conf is the configuration to archive.
func (s *site) conf() files.Paths {
	return files.Paths{Node: s.platform, Paths: s.eiq.ConfigPaths, Exclude: s.eiq.Exclude}
}

// dbText is the broker's database for a plan.
func (s *site) dbText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db >= 0 {
		return strconv.Itoa(s.db)
	}
	return "<REDIS_URL's database>"
}

// broker returns the broker: the inventory's database, else REDIS_URL's
// in platform_settings.py on the platform node (read, never executed;
// seed 003's bare redis-cli would read database 0).
func (s *site) broker(ctx context.Context, rc *steps.RunContext) (redis.Server, error) {
	s.mu.Lock()
	db := s.db
	s.mu.Unlock()
	if db < 0 {
		c, err := ReadConf(ctx, rc, s.platform)
		if err != nil {
			return redis.Server{}, fmt.Errorf("the broker's Redis database: %w", err)
		}
		if c.RedisURL == "" {
			return redis.Server{}, errors.New("the broker's Redis database: no REDIS_URL in " + s.eiq.Settings + ": set eclecticiq.redis.db in the inventory")
		}
		db = c.RedisDB
		s.mu.Lock()
		s.db = db
		s.mu.Unlock()
	}
	return redis.Server{Node: s.redisNode, Port: s.eiq.Redis.Port, DB: db, Password: s.env.RedisPassword}, nil
}

// indexDocs returns the document count of each index names matches.
func (s *site) indexDocs(ctx context.Context, names []string) (map[string]int64, error) {
	cl, _, err := es.Open(s.env)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ix, err := es.Indices(ctx, cl, names)
	if err != nil {
		return nil, err
	}
	docs := map[string]int64{}
	for _, x := range ix {
		docs[x.Index] = x.DocsCount
	}
	return docs, nil
}
