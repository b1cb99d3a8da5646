package eclecticiq

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/hotsnap/hotsnap/lab/thehive"
)

// Paths inside node1.
const (
	// SettingsPath is platform_settings.py.
	SettingsPath = "/etc/eclecticiq/platform_settings.py"
	// BackendDir is the platform's installation directory.
	BackendDir = "/opt/eclecticiq-platform-backend"
	// PlatformBin is the eiq-platform command seed 003 runs.
	PlatformBin = BackendDir + "/bin/eiq-platform"
	// CeleryBin is the Celery command the worker and scheduler units run.
	CeleryBin = BackendDir + "/bin/celery"
	// PGMajor is the PostgreSQL major version (the lab's Debian 12 has 15;
	// seed 003's paths name 11, the lab writes them for 15).
	PGMajor = 15
	// PGUnit is PostgreSQL's unit (postgresql-<major>, as PGDG names it).
	PGUnit = "postgresql-15"
	// PGDataDir is PostgreSQL's data directory (seed 003's configuration
	// list: /media/pgsql/<major>/data).
	PGDataDir = "/media/pgsql/15/data"
	// PGConfDir holds the platform's PostgreSQL configuration, which
	// postgresql.conf includes.
	PGConfDir = "/etc/eclecticiq-postgres"
	// RedisConf is the configuration the redis unit runs with.
	RedisConf = "/etc/eclecticiq-redis/redis.conf"
	// RedisDataDir is Redis' dump directory (set by seed 003's drop-in
	// 20-eclecticiq_data_dir.conf).
	RedisDataDir = "/media/redis"
	// ESDataDir holds Elasticsearch's live data (nodes/, tmp/): listed by
	// seed 003 with the configuration, never to be copied live.
	ESDataDir = "/media/elasticsearch"
	// RunDir holds the platform's PID files (seed 003: "usually … /var/run").
	RunDir = "/var/run/eclecticiq"
	// BeatPIDFile is the scheduler's (Celery beat's) PID file.
	BeatPIDFile = RunDir + "/celerybeat.pid"
	// BrokerDB is the Redis database of the Celery broker and the pipeline
	// lists (REDIS_URL's path in platform_settings.py; CELERY_BROKER_URL =
	// REDIS_URL). The document's bare `redis-cli` looks at database 0.
	BrokerDB = 3
	// User is the platform's service account.
	User = "eclecticiq"
	// WorkerStopTimeout is the worker units' TimeoutStopSec: a worker that
	// will not stop (the stuck-workers knob) is SIGKILLed after it.
	WorkerStopTimeout = 20
)

// Unit names.
const (
	UnitServices      = "eclecticiq-platform-backend-services"
	UnitWorkers       = "eclecticiq-platform-backend-workers"
	UnitWeb           = "eclecticiq-platform-backend-web"
	UnitScheduler     = "eclecticiq-platform-backend-scheduler"
	UnitSearchIndex   = "eclecticiq-platform-backend-searchindex"
	UnitOpenTAXII     = "eclecticiq-platform-backend-opentaxii"
	UnitIngestion     = "eclecticiq-platform-backend-ingestion"
	UnitSecretsSetter = "eclecticiq-secrets-setter"
	// TemplateIngestion and TemplateWorker are the template units.
	TemplateIngestion = "eclecticiq-platform-backend-ingestion@"
	TemplateWorker    = "eclecticiq-platform-backend-worker@"
	UnitRedis         = "redis"
	UnitElasticsearch = "elasticsearch"
)

// IngestionInstances are the ingestion@ instances the platform runs (3 and
// 4, as EclecticIQ's ingestion documentation names them).
var IngestionInstances = []string{"3", "4"}

// WorkerUnit returns the worker instance unit of a worker group.
func WorkerUnit(group string) string { return TemplateWorker + group }

// UnitOptions are what the units' command lines depend on.
type UnitOptions struct {
	// PGBinDir holds the postgres server binary.
	PGBinDir string
	// RedisServer is redis-server's path.
	RedisServer string
	// ESArgv is the Elasticsearch stand-in's command line.
	ESArgv []string
	// ESEnv is its extra environment (KEY=VALUE: the password).
	ESEnv []string
}

// PlatformUnit is one systemd unit of the platform, rendered both as the
// systemctl shim's unit and as the unit file an operator finds on disk.
type PlatformUnit struct {
	thehive.Unit
}

// Units returns every unit of the platform (templates included), in the
// order the lab starts them: the data stores, the secrets, the workers and
// then the services.
func Units(o UnitOptions) []PlatformUnit {
	const env = "/etc/default/eclecticiq-platform"
	// The producers (web, scheduler, opentaxii) come after the ingestion
	// processes, which come after the search indexer: stopping the services
	// stops the producers first and the consumers of the pipeline lists
	// last, so the lists are empty once the services are stopped.
	ingestions := []string{UnitIngestion + ".service"}
	for _, i := range IngestionInstances {
		ingestions = append(ingestions, TemplateIngestion+i+".service")
	}
	backend := func(name, desc, role string, after ...string) PlatformUnit {
		return PlatformUnit{Unit: thehive.Unit{Name: name, Description: desc, Enabled: true, User: User,
			ExecStart: []string{PlatformBin, "standin", role}, EnvironmentFile: []string{env}, WorkingDirectory: BackendDir,
			PartOf: []string{UnitServices + ".service"}, TimeoutStopSec: 30, FragmentPath: "/lib/systemd/system/" + name + ".service",
			After: append([]string{"network.target", "redis.service", PGUnit + ".service"}, after...)}}
	}
	var wants []string
	for _, g := range WorkerGroups {
		wants = append(wants, WorkerUnit(g.Name)+".service")
	}
	ingestion := backend(TemplateIngestion, "EclecticIQ Platform Backend Ingestion (process %i)", "ingestion", UnitSearchIndex+".service")
	worker := PlatformUnit{Unit: thehive.Unit{Name: TemplateWorker, Description: "EclecticIQ Platform Backend Worker %i", Enabled: true, User: User,
		ExecStart: []string{CeleryBin, "-A", "eiq.platform", "worker", "--queues=${CELERY_QUEUES}", "--concurrency=${CELERY_CONCURRENCY}",
			"--hostname=%i@%H", "--loglevel=INFO"},
		EnvironmentFile: []string{env, "/etc/default/eclecticiq-platform-backend-worker-%i"}, WorkingDirectory: BackendDir,
		PartOf: []string{UnitWorkers + ".service"}, TimeoutStopSec: WorkerStopTimeout,
		FragmentPath: "/lib/systemd/system/" + TemplateWorker + ".service",
		After:        []string{"network.target", "redis.service", PGUnit + ".service"}}}
	services := []string{UnitSearchIndex, UnitIngestion}
	for _, i := range IngestionInstances {
		services = append(services, TemplateIngestion+i)
	}
	services = append(services, UnitOpenTAXII, UnitScheduler, UnitWeb)
	for i := range services {
		services[i] += ".service"
	}
	scheduler := backend(UnitScheduler, "EclecticIQ Platform Backend Scheduler", "", ingestions...)
	scheduler.ExecStart = []string{CeleryBin, "-A", "eiq.platform", "beat", "--pidfile=" + BeatPIDFile, "--schedule=/var/lib/eclecticiq/celerybeat-schedule"}
	return []PlatformUnit{
		{Unit: thehive.Unit{Name: PGUnit, Description: fmt.Sprintf("PostgreSQL %d database server", PGMajor), Enabled: true,
			Documentation: "https://www.postgresql.org/docs/" + strconv.Itoa(PGMajor) + "/static/", User: "postgres",
			ExecStart: []string{o.PGBinDir + "/postgres", "-D", PGDataDir}, Environment: []string{"PGDATA=" + PGDataDir},
			KillMode: "mixed", KillSignal: int(syscall.SIGINT), TimeoutStopSec: 60,
			FragmentPath: "/usr/lib/systemd/system/" + PGUnit + ".service", After: []string{"syslog.target", "network-online.target"}}},
		{Unit: thehive.Unit{Name: UnitRedis, Description: "Redis persistent key-value database", Enabled: true, User: "redis",
			ExecStart: []string{o.RedisServer, RedisConf}, TimeoutStopSec: 30, FragmentPath: "/usr/lib/systemd/system/redis.service",
			After: []string{"network.target"}}},
		{Unit: thehive.Unit{Name: UnitElasticsearch, Description: "Elasticsearch", Documentation: "https://www.elastic.co", Enabled: true,
			ExecStart: o.ESArgv, Environment: o.ESEnv, SuccessExitStatus: []int{143}, TimeoutStopSec: 75,
			FragmentPath: "/usr/lib/systemd/system/elasticsearch.service", After: []string{"network-online.target"}}},
		{Unit: thehive.Unit{Name: UnitSecretsSetter, Description: "EclecticIQ Secrets Setter", Enabled: true, Type: thehive.TypeOneshot,
			RemainAfterExit: true, User: User, ExecStart: []string{PlatformBin, "standin", "secrets-setter"}, EnvironmentFile: []string{env},
			FragmentPath: "/lib/systemd/system/" + UnitSecretsSetter + ".service", After: []string{"network.target"}}},
		{Unit: thehive.Unit{Name: UnitWorkers, Description: "EclecticIQ Platform Backend Workers", Enabled: true, Type: thehive.TypeOneshot,
			RemainAfterExit: true, ExecStart: []string{"/bin/true"}, Wants: wants,
			FragmentPath: "/lib/systemd/system/" + UnitWorkers + ".service", After: []string{UnitSecretsSetter + ".service"}}},
		worker,
		backend(UnitSearchIndex, "EclecticIQ Platform Backend Search Indexer", "searchindex"),
		backend(UnitIngestion, "EclecticIQ Platform Backend Ingestion", "ingestion", UnitSearchIndex+".service"),
		ingestion,
		backend(UnitOpenTAXII, "EclecticIQ Platform Backend OpenTAXII", "opentaxii", ingestions...),
		scheduler,
		backend(UnitWeb, "EclecticIQ Platform Backend Web", "web", ingestions...),
		{Unit: thehive.Unit{Name: UnitServices, Description: "EclecticIQ Platform Backend Services", Enabled: true, Type: thehive.TypeOneshot,
			RemainAfterExit: true, ExecStart: []string{"/bin/true"}, Wants: services,
			FragmentPath: "/lib/systemd/system/" + UnitServices + ".service", After: []string{UnitWorkers + ".service"}}},
	}
}

// StartOrder are the units the lab starts, in order; Wants= brings up the
// instances and the services' parts.
var StartOrder = []string{PGUnit, UnitRedis, UnitElasticsearch, UnitSecretsSetter, UnitWorkers, UnitServices}

// UnitFile renders u as the unit file on disk (INI), the way the shim's
// unit reads it. Elasticsearch's is the one its package installs (the lab
// runs the stand-in in its place, as root).
func (u PlatformUnit) UnitFile() string {
	if u.Name == UnitElasticsearch {
		u.Environment = []string{"ES_HOME=/usr/share/elasticsearch", "ES_PATH_CONF=/etc/elasticsearch", "PID_DIR=/var/run/elasticsearch"}
		u.EnvironmentFile = []string{"-/etc/sysconfig/elasticsearch"}
		u.User, u.WorkingDirectory = "elasticsearch", "/usr/share/elasticsearch"
		u.ExecStart = []string{"/usr/share/elasticsearch/bin/systemd-entrypoint", "-p", "${PID_DIR}/elasticsearch.pid", "--quiet"}
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("[Unit]")
	p("Description=%s", u.Description)
	if u.Documentation != "" {
		p("Documentation=%s", u.Documentation)
	}
	if len(u.After) > 0 {
		p("After=%s", strings.Join(u.After, " "))
	}
	if len(u.Wants) > 0 {
		p("Wants=%s", strings.Join(u.Wants, " "))
	}
	if len(u.PartOf) > 0 {
		p("PartOf=%s", strings.Join(u.PartOf, " "))
	}
	p("")
	p("[Service]")
	t := u.Type
	if t == "" {
		t = thehive.TypeSimple
	}
	p("Type=%s", t)
	if u.RemainAfterExit {
		p("RemainAfterExit=yes")
	}
	if u.User != "" {
		p("User=%s", u.User)
		p("Group=%s", u.User)
	}
	for _, e := range u.Environment {
		p("Environment=%s", e)
	}
	for _, f := range u.EnvironmentFile {
		p("EnvironmentFile=%s", f)
	}
	if u.WorkingDirectory != "" {
		p("WorkingDirectory=%s", u.WorkingDirectory)
	}
	p("ExecStart=%s", strings.Join(u.ExecStart, " "))
	if u.KillMode != "" {
		p("KillMode=%s", u.KillMode)
	}
	if u.KillSignal == int(syscall.SIGINT) {
		p("KillSignal=SIGINT")
	}
	if len(u.SuccessExitStatus) > 0 {
		p("SuccessExitStatus=%d", u.SuccessExitStatus[0])
	}
	if u.TimeoutStopSec > 0 {
		p("TimeoutStopSec=%d", u.TimeoutStopSec)
	}
	p("")
	p("[Install]")
	p("WantedBy=multi-user.target")
	return b.String()
}
