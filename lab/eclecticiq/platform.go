package eclecticiq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// IndexSpec is one Elasticsearch index the platform builds from
// PostgreSQL: its alias (the name seed 003 lists), the versioned index
// and the query giving one JSON document per row.
type IndexSpec struct {
	Alias, Name string
	// Docs is a SELECT of one json column, one row per document.
	Docs string
}

// PlatformIndices are the indices `eiq-platform search` builds. The
// document names their aliases; which tables feed which index is the
// lab's choice (documents from entities, extracts from observables, stix
// from the successfully ingested packages).
var PlatformIndices = []IndexSpec{
	{"audit", "audit_v2", "SELECT row_to_json(t) FROM (SELECT id, ts, actor, action, entity_id, details FROM audit ORDER BY id) t"},
	{"documents", "documents_v2", "SELECT row_to_json(t) FROM (SELECT id, uuid, type, title, data, source_id, created_at, last_updated_at FROM entity WHERE NOT is_draft ORDER BY id) t"},
	{"draft-entities", "draft-entities_v4", "SELECT row_to_json(t) FROM (SELECT id, uuid, type, title, data, source_id, created_at, last_updated_at FROM entity WHERE is_draft ORDER BY id) t"},
	{"extracts", "extracts_v2", "SELECT row_to_json(t) FROM (SELECT id, kind, value, maliciousness, created_at FROM extract ORDER BY id) t"},
	{"stix", "stix_v4", "SELECT row_to_json(t) FROM (SELECT id, source_id, mime_type, size, sha256, created_at FROM blob WHERE processing_status = 'success' ORDER BY id) t"},
}

// OtherIndices are the default platform indices seed 003 lists that hold
// logs and metrics, not PostgreSQL data (logstash*, statsite*).
var OtherIndices = []string{"logstash-2017.07.28", "statsite-2017.07.28"}

// CountSQL returns a query of the number of documents of spec and their
// JSON size in bytes.
func (spec IndexSpec) CountSQL() string {
	return "SELECT count(*), coalesce(sum(octet_length(j::text)), 0) FROM (" + spec.Docs + ") AS s(j)"
}

// PlatformMain is the lab's eiq-platform
// (/opt/eclecticiq-platform-backend/bin/eiq-platform), run as seed 003
// does: `sudo -i -u eclecticiq EIQ_PLATFORM_SETTINGS=… eiq-platform search
// upgrade` creates and builds from PostgreSQL every platform index that is
// missing (an existing one is "updated in place": left as it is) and
// prints nothing when there was nothing to do; `search reindex
// --index=NAME` (alias or index name) rebuilds one index from PostgreSQL.
// Both exit 1, with the Python exception's last line, when PostgreSQL or
// Elasticsearch cannot be reached. `standin ROLE` runs one of the units'
// processes (web, ingestion, searchindex, opentaxii, secrets-setter).
func PlatformMain(args []string) int {
	return withSignals(func(ctx context.Context, sigs <-chan os.Signal) int {
		return platform(ctx, args, sigs, os.Stdout, os.Stderr)
	})
}

const platformUsage = `Usage: eiq-platform search upgrade
       eiq-platform search reindex --index=INDEX
`

func platform(ctx context.Context, args []string, sigs <-chan os.Signal, stdout, stderr io.Writer) int {
	if len(args) >= 2 && args[0] == "standin" {
		return standin(ctx, args[1], sigs, stdout, stderr)
	}
	fs := pflag.NewFlagSet("eiq-platform", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	index := fs.String("index", "", "index to reindex")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n%s", err, platformUsage)
		return 2
	}
	a := fs.Args()
	if len(a) < 2 || a[0] != "search" || (a[1] != "upgrade" && a[1] != "reindex") {
		fmt.Fprint(stderr, platformUsage)
		return 2
	}
	if a[1] == "reindex" && *index == "" && len(a) == 3 {
		*index = a[2]
	}
	if a[1] == "reindex" && *index == "" {
		fmt.Fprintf(stderr, "Error: Missing option '--index'.\n%s", platformUsage)
		return 2
	}
	s, err := ReadSettings()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	se, err := newSearch(s)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	if a[1] == "upgrade" {
		err = se.upgrade(ctx, stderr)
	} else {
		err = se.reindexNamed(ctx, *index, stdout)
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "Traceback (most recent call last):\n  File \"/opt/eclecticiq-platform-backend/bin/eiq-platform\", line 8, in <module>\n    sys.exit(main())\n%v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// standin runs the process of one platform unit.
func standin(ctx context.Context, role string, sigs <-chan os.Signal, stdout, stderr io.Writer) int {
	s, err := ReadSettings()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", role, err)
		return 1
	}
	switch role {
	case "secrets-setter":
		return secretsSetter(s, stdout)
	case "opentaxii":
		return idle(sigs, stdout, "opentaxii")
	}
	b, err := OpenBroker(ctx, s.BrokerURL)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", role, err)
		return 1
	}
	defer b.Close()
	if role == "web" {
		return web(ctx, b, sigs, stdout)
	}
	if st, ok := stages[role]; ok {
		return st.run(ctx, b, sigs, stdout)
	}
	fmt.Fprintf(stderr, "standin: unknown role %q\n", role)
	return 2
}

// search talks to PostgreSQL (psql, the password in PGPASSWORD) and
// Elasticsearch (HTTP) for eiq-platform search.
type search struct {
	dsn, pgPassword string
	esURL           string
	esUser, esPass  string
	client          *http.Client
}

func newSearch(s *Settings) (*search, error) {
	dsn, pw, err := s.PostgresConn()
	if err != nil {
		return nil, err
	}
	return &search{dsn: dsn, pgPassword: pw, esURL: s.SearchURL, esUser: s.SearchUser, esPass: s.SearchPassword,
		client: &http.Client{Timeout: 60 * time.Second}}, nil
}

// psql runs query and streams its unaligned rows to each.
func (se *search) psql(ctx context.Context, query string, each func(line string) error) error {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-v", "FETCH_COUNT=2000", "-d", se.dsn, "-c", query)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+se.pgPassword, "PGCONNECT_TIMEOUT=5", "PGAPPNAME=eiq-platform")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) %v", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var cbErr error
	for sc.Scan() {
		if cbErr == nil {
			cbErr = each(sc.Text())
		}
	}
	werr := cmd.Wait()
	if werr != nil {
		msg := strings.TrimSpace(errb.String())
		msg = strings.TrimPrefix(msg, "psql: error: ")
		return fmt.Errorf("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) %s", firstLine(msg))
	}
	return cbErr
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// es sends one request; a transport error is the Python client's
// ConnectionError.
func (se *search) es(ctx context.Context, method, path, ctype string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, se.esURL+path, body)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if se.esUser != "" {
		req.SetBasicAuth(se.esUser, se.esPass)
	}
	resp, err := se.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("elasticsearch.exceptions.ConnectionError: ConnectionError(<urllib3.connection.HTTPConnection object at 0x7f3c2a1b5e50>: Failed to establish a new connection: [Errno 111] Connection refused) caused by: NewConnectionError(%s)", se.esURL)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// check makes sure both stores answer before anything changes.
func (se *search) check(ctx context.Context) error {
	code, body, err := se.es(ctx, http.MethodGet, "/", "", nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("elasticsearch.exceptions.TransportError: TransportError(%d, %s)", code, firstLine(string(body)))
	}
	return se.psql(ctx, "SELECT 1", func(string) error { return nil })
}

// upgrade builds every platform index that does not exist.
func (se *search) upgrade(ctx context.Context, log io.Writer) error {
	if err := se.check(ctx); err != nil {
		return err
	}
	for _, spec := range PlatformIndices {
		code, _, err := se.es(ctx, http.MethodHead, "/"+spec.Name, "", nil)
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			continue // mappings updated in place: nothing to do for the stand-in
		}
		fmt.Fprintf(log, "%s INFO eiq.platform.search.migrate: index %s (alias %s) is missing: creating and building it\n",
			time.Now().UTC().Format("2006-01-02 15:04:05,000"), spec.Name, spec.Alias)
		if _, err := se.reindex(ctx, spec); err != nil {
			return err
		}
	}
	return nil
}

// reindexNamed rebuilds the index named by an alias or index name.
func (se *search) reindexNamed(ctx context.Context, name string, out io.Writer) error {
	var names []string
	for _, spec := range PlatformIndices {
		names = append(names, spec.Alias)
		if name == spec.Alias || name == spec.Name || strings.TrimSuffix(name, "*") == spec.Alias {
			if err := se.check(ctx); err != nil {
				return err
			}
			t := time.Now()
			n, err := se.reindex(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Reindexed %d documents into %s in %.1fs\n", n, spec.Name, time.Since(t).Seconds())
			return nil
		}
	}
	return usageError{fmt.Sprintf("search reindex: %q is not a platform index: want one of %s", name, strings.Join(names, ", "))}
}

// reindex drops spec's index, creates it and loads every document from
// PostgreSQL through the bulk API; it returns the document count.
func (se *search) reindex(ctx context.Context, spec IndexSpec) (int64, error) {
	if code, body, err := se.es(ctx, http.MethodDelete, "/"+spec.Name, "", nil); err != nil {
		return 0, err
	} else if code != http.StatusOK && code != http.StatusNotFound {
		return 0, fmt.Errorf("elasticsearch.exceptions.TransportError: TransportError(%d, %s)", code, firstLine(string(body)))
	}
	settings := `{"settings":{"index":{"number_of_shards":1,"number_of_replicas":0}}}`
	if code, body, err := se.es(ctx, http.MethodPut, "/"+spec.Name, "application/json", strings.NewReader(settings)); err != nil {
		return 0, err
	} else if code != http.StatusOK {
		return 0, fmt.Errorf("elasticsearch.exceptions.RequestError: RequestError(%d, %s)", code, firstLine(string(body)))
	}
	var batch bytes.Buffer
	var n, inBatch int64
	flush := func() error {
		if inBatch == 0 {
			return nil
		}
		code, body, err := se.es(ctx, http.MethodPost, "/_bulk", "application/x-ndjson", bytes.NewReader(batch.Bytes()))
		if err != nil {
			return err
		}
		var r struct {
			Errors bool `json:"errors"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &r) != nil || r.Errors {
			return fmt.Errorf("elasticsearch.helpers.BulkIndexError: bulk into %s failed (%d): %s", spec.Name, code, firstLine(string(body)))
		}
		batch.Reset()
		inBatch = 0
		return nil
	}
	err := se.psql(ctx, spec.Docs, func(doc string) error {
		var id struct {
			ID json.Number `json:"id"`
		}
		_ = json.Unmarshal([]byte(doc), &id)
		fmt.Fprintf(&batch, `{"index":{"_index":%q,"_id":%q}}`+"\n%s\n", spec.Name, id.ID.String(), doc)
		n++
		inBatch++
		if batch.Len() > 4<<20 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return n, err
}
