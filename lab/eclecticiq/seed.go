package eclecticiq

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// BytesPerEntity is how much PostgreSQL data one seeded entity brings
// with it (its extracts, relations, audit rows and a quarter of a
// package), measured with pg_database_size on PostgreSQL 15: 100000
// entities make 515 MB.
const BytesPerEntity = 5150

// emptyDatabaseBytes is pg_database_size of an empty database.
const emptyDatabaseBytes = 7_600_000

// Entities returns how many entities make about bytes of PostgreSQL data
// (at least 100).
func Entities(bytes int64) int64 {
	return max((bytes-emptyDatabaseBytes)/BytesPerEntity, 100)
}

// Tables are the platform database's tables, in dependency order.
var Tables = []string{"source", "taxonomy", "platform_user", "entity", "extract", "entity_extract", "relation", "blob", "audit"}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SeedSQL returns the psql script (run as the postgres superuser) that
// creates the platform's role (with password, when not empty) and
// database, owned by that role, and fills it with entities entities and
// what hangs off them: two extracts (observables) and a relation each, an
// audit row each, a package (blob, its STIX content stored uncompressed)
// per four entities — a tenth of which did not ingest (processing_status
// failed or processing: seed 003's failed-packages query returns them) —
// five sources, four taxonomies and two platform users. Foreign keys and
// indexes come after the data, which is how it loads at about 55 MB/s.
func SeedSQL(entities int64, password string) string {
	role := "CREATE ROLE " + User + " LOGIN;"
	if password != "" {
		role = "CREATE ROLE " + User + " LOGIN PASSWORD " + sqlString(password) + ";"
	}
	e := strconv.FormatInt(entities, 10)
	return fmt.Sprintf(`\set ON_ERROR_STOP 1
%[1]s
CREATE DATABASE %[2]s OWNER %[3]s;
\connect %[2]s
SET ROLE %[3]s;
SET synchronous_commit = off;
BEGIN;
CREATE TABLE source (id serial PRIMARY KEY, name text NOT NULL UNIQUE, source_type text NOT NULL, reliability text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE taxonomy (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE platform_user (id serial PRIMARY KEY, username text NOT NULL UNIQUE, email text NOT NULL, password_hash text NOT NULL, is_admin boolean NOT NULL DEFAULT false);
CREATE TABLE entity (id bigserial PRIMARY KEY, uuid uuid NOT NULL, type text NOT NULL, title text NOT NULL, data jsonb NOT NULL, source_id integer NOT NULL, is_draft boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL, last_updated_at timestamptz NOT NULL);
CREATE TABLE extract (id bigserial PRIMARY KEY, kind text NOT NULL, value text NOT NULL, maliciousness text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE entity_extract (entity_id bigint NOT NULL, extract_id bigint NOT NULL, PRIMARY KEY (entity_id, extract_id));
CREATE TABLE relation (id bigserial PRIMARY KEY, source_entity_id bigint NOT NULL, target_entity_id bigint NOT NULL, type text NOT NULL);
CREATE TABLE blob (id bigserial PRIMARY KEY, source_id integer NOT NULL, processing_status text NOT NULL, mime_type text NOT NULL, size bigint NOT NULL, sha256 text NOT NULL, content bytea NOT NULL, created_at timestamptz NOT NULL);
ALTER TABLE blob ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE TABLE audit (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL, entity_id bigint, details jsonb NOT NULL);
INSERT INTO source (name, source_type, reliability) SELECT s, t, r FROM (VALUES ('Internal','manual','A'),('CIRCL OSINT feed','taxii','B'),('abuse.ch URLhaus','feed','B'),('MISP community','misp','C'),('Analyst uploads','upload','A')) v(s,t,r);
INSERT INTO taxonomy (name) SELECT 'tlp:' || c FROM unnest(ARRAY['white','green','amber','red']) AS c;
INSERT INTO platform_user (username, email, password_hash, is_admin) VALUES ('admin','admin@example.org','pbkdf2:sha256:260000$lab$' || md5(random()::text), true), ('analyst','analyst@example.org','pbkdf2:sha256:260000$lab$' || md5(random()::text), false);
INSERT INTO entity (uuid, type, title, data, source_id, is_draft, created_at, last_updated_at)
  SELECT md5('entity' || g)::uuid, (ARRAY['indicator','report','threat-actor','campaign','ttp','incident','exploit-target','course-of-action'])[1 + g %% 8],
         'Entity ' || g || ' – ünïcødé ''quoted''',
         jsonb_build_object('description', repeat('Observed activity linked to infrastructure cluster ' || (g %% 97) || '. ', 6 + g %% 8),
                            'confidence', (ARRAY['low','medium','high'])[1 + g %% 3], 'tlp', (ARRAY['white','green','amber','red'])[1 + g %% 4],
                            'tags', jsonb_build_array('lab', 'cluster-' || (g %% 97))),
         1 + g %% 5, g %% 20 = 0, timestamptz '2024-01-01' + g * interval '1 minute', timestamptz '2024-01-01' + g * interval '1 minute'
  FROM generate_series(1, %[4]s) AS g;
INSERT INTO extract (kind, value, maliciousness, created_at)
  SELECT (ARRAY['ipv4','domain','hash-sha256','uri','email'])[1 + g %% 5], md5(g::text) || '.example', (ARRAY['unknown','safe','low','medium','high'])[1 + g %% 5], timestamptz '2024-01-01' + g * interval '30 seconds'
  FROM generate_series(1, 2 * %[4]s) AS g;
INSERT INTO entity_extract SELECT e, 2 * e - k FROM generate_series(1, %[4]s) AS e, generate_series(0, 1) AS k;
INSERT INTO relation (source_entity_id, target_entity_id, type) SELECT g, 1 + (g * 7919) %% %[4]s, (ARRAY['indicates','related-to','attributed-to'])[1 + g %% 3] FROM generate_series(1, %[4]s) AS g;
INSERT INTO blob (source_id, processing_status, mime_type, size, sha256, content, created_at)
  SELECT 1 + g %% 5, (ARRAY['success','success','success','success','success','success','success','pending','failed','processing'])[1 + g %% 10], 'application/xml',
         octet_length(c), encode(sha256(c), 'hex'), c, timestamptz '2024-01-01' + g * interval '4 minutes'
  FROM (SELECT g, convert_to(repeat('<stix:Indicator id="eiq:indicator-' || md5(g::text) || '"><indicator:Title>' || g || '</indicator:Title></stix:Indicator>', 100), 'UTF8') AS c
        FROM generate_series(1, greatest(%[4]s / 4, 10)) AS g) AS b;
INSERT INTO audit (ts, actor, action, entity_id, details)
  SELECT timestamptz '2024-01-01' + g * interval '1 minute', (ARRAY['admin','analyst','system'])[1 + g %% 3], (ARRAY['create','update','publish','delete'])[1 + g %% 4], g,
         jsonb_build_object('ip', '10.0.' || (g %% 250) || '.' || (g %% 200), 'via', 'api')
  FROM generate_series(1, %[4]s) AS g;
ALTER TABLE entity ADD FOREIGN KEY (source_id) REFERENCES source(id);
ALTER TABLE entity_extract ADD FOREIGN KEY (entity_id) REFERENCES entity(id), ADD FOREIGN KEY (extract_id) REFERENCES extract(id);
ALTER TABLE relation ADD FOREIGN KEY (source_entity_id) REFERENCES entity(id), ADD FOREIGN KEY (target_entity_id) REFERENCES entity(id);
ALTER TABLE blob ADD FOREIGN KEY (source_id) REFERENCES source(id);
CREATE INDEX entity_type_idx ON entity (type);
CREATE INDEX entity_source_idx ON entity (source_id);
CREATE INDEX extract_kind_value_idx ON extract (kind, value);
CREATE INDEX blob_status_idx ON blob (processing_status);
CREATE INDEX audit_ts_idx ON audit (ts);
COMMIT;
ANALYZE;
`, role, Database, User, e)
}

// FailedPackagesQuery is seed 003's query for packages that did not
// ingest.
const FailedPackagesQuery = "SELECT id, processing_status FROM blob WHERE processing_status NOT IN ('success', 'pending');"

// SeedQueues fills every Celery queue with a backlog of n messages
// (priorities mixed, as producers send them), declares the queues'
// bindings and puts n items on each pipeline list: the work a running
// platform has queued when the lab comes up.
func SeedQueues(ctx context.Context, b *Broker, n int) error {
	queues := CeleryQueues()
	if err := b.Declare(ctx, queues...); err != nil {
		return fmt.Errorf("seed queues: %w", err)
	}
	orig := origin()
	pipe := b.rdb.Pipeline()
	for _, q := range queues {
		for i := range n {
			pipe.LPush(ctx, PriorityKey(q, PrioritySteps[i%len(PrioritySteps)]), NewMessage(q, "entity-"+strconv.Itoa(i), PrioritySteps[i%len(PrioritySteps)], orig).Encode())
		}
	}
	for _, l := range PipelineQueues {
		for i := range n {
			pipe.LPush(ctx, l, fmt.Sprintf(`{"package_id":%q,"source_id":%d}`, NewUUID(), 1+i%5))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("seed queues: %w", err)
	}
	return nil
}
