package elastic

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lab is an in-process stand-in with a manual clock.
type lab struct {
	t     *testing.T
	c     *Cluster
	clock *ManualClock
	srv   *httptest.Server
	repo  string // path.repo root
	state string
}

func newLab(t *testing.T, mod func(*Options)) *lab {
	t.Helper()
	root := t.TempDir()
	l := &lab{t: t, clock: NewManualClock(time.Date(2026, 8, 24, 10, 0, 0, 0, time.UTC)),
		repo: filepath.Join(root, "backup"), state: filepath.Join(root, "state")}
	if err := os.MkdirAll(l.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := Options{ClusterName: "thehive", PathRepo: []string{l.repo}, Clock: l.clock,
		SnapshotRate: 1 << 20, RecoveryRate: 1 << 20, RecoveryInitDelay: 100 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	c, err := NewCluster(l.state, opts)
	if err != nil {
		t.Fatalf("NewCluster: %v", err)
	}
	l.c = c
	l.srv = httptest.NewServer(NewHandler(c, "node1"))
	t.Cleanup(l.srv.Close)
	return l
}

type resp struct {
	status int
	header http.Header
	raw    string
	body   any
}

// do sends a request; body, when not empty, is sent as application/json.
func (l *lab) do(method, path, body string) resp {
	l.t.Helper()
	return l.doReq(method, path, body, nil)
}

func (l *lab) doReq(method, path, body string, mod func(*http.Request)) resp {
	l.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.srv.URL+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if mod != nil {
		mod(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			l.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// must asserts the status and returns the response.
func (l *lab) must(status int, method, path, body string) resp {
	l.t.Helper()
	r := l.do(method, path, body)
	if r.status != status {
		l.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, status, r.raw)
	}
	return r
}

// get walks a decoded JSON value by keys and array indexes ("snapshots.0.state").
func get(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func (l *lab) registerRepo() {
	l.t.Helper()
	l.must(200, "PUT", "/_snapshot/thehive_repository", `{"type":"fs","settings":{"location":"`+l.repo+`"}}`)
}

// pollSnapshot polls GET _snapshot/.../*?verbose=false the way the runbook
// does, advancing the clock, until the snapshot leaves IN_PROGRESS.
func (l *lab) pollSnapshot(name string, step time.Duration, max int) (string, int) {
	l.t.Helper()
	for i := 0; i < max; i++ {
		r := l.must(200, "GET", "/_snapshot/thehive_repository/*?verbose=false", "")
		for _, s := range get(r.body, "snapshots").([]any) {
			if get(s, "snapshot") == name && get(s, "state") != "IN_PROGRESS" {
				return get(s, "state").(string), i
			}
		}
		l.clock.Advance(step)
	}
	l.t.Fatalf("snapshot %s still IN_PROGRESS after %d polls", name, max)
	return "", max
}
