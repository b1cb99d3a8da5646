package eclecticiq

import (
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
)

// TestConfigPathsAreTheDocumentsList: ConfigPaths is seed 003's list (its
// "- /" lines, the commented-out /etc/redis/redis.conf left out: 95),
// with the two entries the page mangled ("[email protected]", after the
// ingestion and before the opentaxii unit, and after the web unit) restored
// to the ingestion@ and worker@ templates, and its PostgreSQL 11 paths
// written for 15.
func TestConfigPathsAreTheDocumentsList(t *testing.T) {
	b, err := os.ReadFile("testdata/seed003-configuration-files.txt")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "- "); ok && strings.HasPrefix(p, "/") {
			doc = append(doc, p)
		}
	}
	if len(doc) != 95 || len(ConfigPaths) != 95 {
		t.Fatalf("the document lists %d paths, ConfigPaths %d: want 95", len(doc), len(ConfigPaths))
	}
	mangled := 0
	for i, p := range doc {
		want := p
		if strings.Contains(p, "[email protected]") {
			mangled++
			switch {
			case strings.HasSuffix(doc[i-1], "-ingestion.service"):
				want = "/lib/systemd/system/eclecticiq-platform-backend-ingestion@.service"
			case strings.HasSuffix(doc[i-1], "-web.service"):
				want = "/lib/systemd/system/eclecticiq-platform-backend-worker@.service"
			}
		}
		want = strings.NewReplacer("postgresql-11", "postgresql-15", "/pgsql/11/", "/pgsql/15/").Replace(want)
		if ConfigPaths[i] != want {
			t.Errorf("path %d: %q, want %q (document: %q)", i+1, ConfigPaths[i], want, p)
		}
	}
	if mangled != 2 {
		t.Errorf("%d mangled entries in the document, want 2", mangled)
	}
}

// TestFiles: every path of the list is written, with the owners and modes
// of an EclecticIQ host (secrets root:<service> 0640 or 0600, the
// Elasticsearch configuration directories setgid); the secrets are flagged;
// platform_settings.py reads back with hotsnap's own reader as the broker
// in database 3 and the database as eclecticiq's; the passwords of --auth
// appear where the services read them and nowhere else.
func TestFiles(t *testing.T) {
	o := FileOptions{Hostname: "node1", NodeIP: "10.77.31.11", Subnet: 31, PGPassword: "pg-Secret1", RedisPassword: "redis-Secret2",
		ESPassword: "es-Secret3", ESPathRepo: "/mnt/backup/elasticsearch", ESClusterName: "eclecticiq", HotsnapBin: "/usr/local/bin/hotsnap"}
	files, err := Files(o)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]File{}
	for i, f := range files {
		if _, dup := byPath[f.Path]; dup {
			t.Errorf("%s written twice", f.Path)
		}
		byPath[f.Path] = f
		if f.Dir {
			continue
		}
		// Parents come first.
		for _, g := range files[i+1:] {
			if g.Dir && strings.HasPrefix(f.Path, g.Path+"/") {
				t.Errorf("%s comes before its directory %s", f.Path, g.Path)
			}
		}
	}
	for _, p := range ConfigPaths {
		if _, ok := byPath[p]; !ok {
			t.Errorf("%s is not written", p)
		}
	}
	for _, d := range append(ESDataDirs, "/opt/eclecticiq-rsyslog-forwarder") {
		if !byPath[d].Dir {
			t.Errorf("%s is not a directory", d)
		}
	}
	for p, want := range map[string]struct {
		owner, group string
		mode         fs.FileMode
		secret       bool
	}{
		SettingsPath: {"root", "eclecticiq", 0o640, true},
		"/etc/elasticsearch/elasticsearch.keystore": {"root", "elasticsearch", 0o660, true},
		"/etc/elasticsearch/users":                  {"root", "elasticsearch", 0o660, true},
		"/etc/neo4j/certificates/neo4j.key":         {"root", "root", 0o600, true},
		"/etc/eclecticiq-redis/local.conf":          {"root", "redis", 0o640, true},
		"/etc/eclecticiq":                           {"root", "eclecticiq", 0o750, false},
		"/etc/elasticsearch":                        {"root", "elasticsearch", fs.ModeSetgid | 0o750, false},
		ESDataDir + "/nodes":                        {"elasticsearch", "elasticsearch", 0o750, false},
		"/etc/default/eclecticiq-platform":          {"root", "root", 0o644, false},
		PGDataDir + "/postgresql.conf":              {"postgres", "postgres", 0o600, false},
	} {
		f := byPath[p]
		if f.Owner != want.owner || f.Group != want.group || f.Mode != want.mode || f.Secret != want.secret {
			t.Errorf("%s: %s:%s %v secret %v, want %s:%s %v secret %v", p, f.Owner, f.Group, f.Mode, f.Secret, want.owner, want.group, want.mode, want.secret)
		}
	}
	if l := byPath[PlatformBin]; l.Link != "/usr/local/bin/hotsnap" {
		t.Errorf("%s links to %q", PlatformBin, l.Link)
	}
	conf, err := config.ReadEclecticIQSettings(SettingsPath, byPath[SettingsPath].Data)
	if err != nil {
		t.Fatal(err)
	}
	if conf.RedisDB != BrokerDB || conf.RedisPort != 6379 || conf.Postgres.Database != "eclecticiq" || conf.Postgres.User != "eclecticiq" ||
		!conf.Postgres.HasPassword || conf.ESURL != "http://127.0.0.1:9200" {
		t.Errorf("platform_settings.py read by hotsnap: %+v", conf)
	}
	s := byPath[SettingsPath]
	p := t.TempDir() + "/platform_settings.py"
	if err := os.WriteFile(p, s.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := ReadSettingsFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if dsn, pw, err := st.PostgresConn(); err != nil || dsn != "postgresql://eclecticiq@127.0.0.1:5432/eclecticiq" || pw != "pg-Secret1" {
		t.Errorf("PostgresConn = %q %q %v", dsn, pw, err)
	}
	if st.BrokerURL != "redis://:redis-Secret2@127.0.0.1:6379/3" || st.SearchUser != "elastic" || st.SearchPassword != "es-Secret3" {
		t.Errorf("settings: %+v", st)
	}
	where := map[string][]string{}
	for _, f := range files {
		for _, pw := range []string{"pg-Secret1", "redis-Secret2", "es-Secret3"} {
			if strings.Contains(string(f.Data), pw) {
				where[pw] = append(where[pw], f.Path)
				if !f.Secret {
					t.Errorf("%s holds a password but is not flagged secret", f.Path)
				}
				if f.Mode&0o004 != 0 {
					t.Errorf("%s holds a password and is world-readable (%v)", f.Path, f.Mode)
				}
			}
		}
	}
	for pw, want := range map[string][]string{
		"pg-Secret1":    {"/etc/eclecticiq/opentaxii.yml", SettingsPath, BackendDir + "/alembic.ini"},
		"redis-Secret2": {"/etc/eclecticiq-neo4jbatcher/neo4jbatcher.conf", SettingsPath, "/etc/eclecticiq-redis/local.conf"},
		"es-Secret3":    {SettingsPath},
	} {
		slices.Sort(where[pw])
		slices.Sort(want)
		if !slices.Equal(where[pw], want) {
			t.Errorf("%s is in %v, want %v", pw, where[pw], want)
		}
	}
	if !strings.Contains(string(byPath[PGConfDir+"/pg_hba.conf"].Data), "scram-sha-256") ||
		!strings.Contains(string(byPath["/etc/eclecticiq-redis/local.conf"].Data), "requirepass redis-Secret2") {
		t.Error("auth is not on in pg_hba.conf or local.conf")
	}
	for _, g := range WorkerGroups {
		d := string(byPath["/etc/default/eclecticiq-platform-backend-worker-"+g.Name].Data)
		if !strings.Contains(d, "CELERY_QUEUES="+strings.Join(g.Queues, ",")+"\n") || !strings.Contains(d, "CELERY_CONCURRENCY="+strconv.Itoa(g.Concurrency)) {
			t.Errorf("worker %s defaults: %q", g.Name, d)
		}
	}
	// Without auth no password is anywhere and PostgreSQL trusts.
	files, err = Files(FileOptions{Hostname: "node1", NodeIP: "10.77.31.11", Subnet: 31})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == SettingsPath && (!strings.Contains(string(f.Data), `REDIS_URL = "redis://127.0.0.1:6379/3"`) ||
			!strings.Contains(string(f.Data), `"postgresql://eclecticiq@127.0.0.1:5432/eclecticiq"`) || strings.Contains(string(f.Data), "SEARCH_PASSWORD")) {
			t.Errorf("platform_settings.py without auth:\n%s", f.Data)
		}
	}
}

// TestUnits: the document's units are all there, the worker and ingestion
// templates have their instances wanted by the grouping units, and the
// ordering stops the producers before the pipeline's consumers.
func TestUnits(t *testing.T) {
	us := Units(UnitOptions{PGBinDir: "/usr/lib/postgresql/15/bin", RedisServer: "/usr/bin/redis-server", ESArgv: []string{"/usr/local/bin/es-standin"}})
	byName := map[string]PlatformUnit{}
	for _, u := range us {
		byName[u.Name] = u
	}
	for _, n := range []string{UnitServices, UnitWeb, UnitIngestion, UnitOpenTAXII, UnitScheduler, UnitSearchIndex, UnitWorkers,
		TemplateWorker, TemplateIngestion, UnitSecretsSetter, PGUnit, UnitElasticsearch, UnitRedis} {
		if _, ok := byName[n]; !ok {
			t.Errorf("no unit %s", n)
		}
	}
	if len(byName[UnitServices].Wants) != 7 || !slices.Contains(byName[UnitWeb].After, TemplateIngestion+"3.service") ||
		!slices.Contains(byName[UnitScheduler].After, UnitIngestion+".service") || !slices.Contains(byName[UnitIngestion].After, UnitSearchIndex+".service") {
		t.Errorf("services: %v; web after %v: the producers after the ingestion processes, those after the search indexer", byName[UnitServices].Wants, byName[UnitWeb].After)
	}
	if len(byName[UnitWorkers].Wants) != len(WorkerGroups) || byName[TemplateWorker].TimeoutStopSec != WorkerStopTimeout ||
		byName[TemplateWorker].PartOf[0] != UnitWorkers+".service" {
		t.Errorf("workers: %+v %+v", byName[UnitWorkers], byName[TemplateWorker])
	}
	if u := byName[PGUnit]; u.User != "postgres" || u.KillMode != "mixed" || !strings.Contains(u.UnitFile(), "KillSignal=SIGINT\n") {
		t.Errorf("postgresql unit: %+v\n%s", u, u.UnitFile())
	}
	if f := byName[TemplateWorker].UnitFile(); !strings.Contains(f, "EnvironmentFile=/etc/default/eclecticiq-platform-backend-worker-%i\n") ||
		!strings.Contains(f, "PartOf=eclecticiq-platform-backend-workers.service\n") || !strings.Contains(f, "User=eclecticiq\n") {
		t.Errorf("worker@ unit file:\n%s", f)
	}
}

// TestSeedSQL: the script's shape, and the entity count by size.
func TestSeedSQL(t *testing.T) {
	if Entities(0) != 100 || Entities(1_000_000_000) != (1_000_000_000-emptyDatabaseBytes)/BytesPerEntity {
		t.Errorf("Entities: %d %d", Entities(0), Entities(1_000_000_000))
	}
	sql := SeedSQL(1234, "it's secret")
	for _, want := range []string{"CREATE ROLE eclecticiq LOGIN PASSWORD 'it''s secret';", "CREATE DATABASE eclecticiq OWNER eclecticiq;",
		"CREATE TABLE blob (", "processing_status text NOT NULL", "FROM generate_series(1, 1234) AS g", "generate_series(1, 2 * 1234)",
		"ALTER TABLE blob ALTER COLUMN content SET STORAGE EXTERNAL;", "ADD FOREIGN KEY (source_id) REFERENCES source(id)", "COMMIT;"} {
		if !strings.Contains(sql, want) {
			t.Errorf("seed SQL lacks %q", want)
		}
	}
	if strings.Contains(sql, "%!") || strings.Contains(SeedSQL(1, ""), "PASSWORD") {
		t.Errorf("seed SQL: formatting error or a password without one")
	}
	for _, tbl := range Tables {
		if !strings.Contains(sql, "CREATE TABLE "+tbl+" (") {
			t.Errorf("no table %s", tbl)
		}
	}
}
