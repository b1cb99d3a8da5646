// Package alien4cloud is Alien4Cloud's REST API as hotsnap uses it,
// reached through the SSH tunnel of the node it runs on: its health
// (GET /rest/admin/health, no login), the form login (POST /login, a
// JSESSIONID cookie) and the maintenance mode (GET, POST and DELETE
// /rest/latest/maintenance), with Alien4Cloud's RestResponse bodies and
// error codes. The service itself (stop, prove stopped, start) is a
// steps/service Unit.
package alien4cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
)

// Component is what the steps of this package work on (Step.Component).
const Component = "alien4cloud"

// Paths of Alien4Cloud's REST API.
const (
	HealthPath      = "/rest/admin/health"
	LoginPath       = "/login"
	MaintenancePath = "/rest/latest/maintenance"
)

// Node is the node Alien4Cloud runs on: the first with role alien4cloud.
func Node(env *steps.Env) string { return env.FirstWith(config.RoleAlien4Cloud) }

// Client is a session with Alien4Cloud's REST API through a node's tunnel.
type Client struct {
	node, base string
	user, pass string
	hc         *http.Client
	logged     bool
}

// Open returns a client of the inventory's Alien4Cloud (alien4cloud.url as
// seen from Node), logging in with the admin user and env's password when
// a call needs it.
func Open(env *steps.Env) (*Client, error) {
	a := env.Inv.Alien4Cloud
	if a == nil {
		return nil, errors.New("the inventory has no alien4cloud section")
	}
	n := Node(env)
	return New(n, a.URL, a.Username, env.Alien4CloudPassword, env.Dial(n))
}

// New returns a client of rawURL as node reaches it through dial.
func New(node, rawURL, user, pass string, dial remote.DialFunc) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alien4cloud url %q: want http(s)://host:port", rawURL)
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	tr := &http.Transport{ResponseHeaderTimeout: 60 * time.Second, DialContext: dial}
	hc := &http.Client{Transport: tr, Jar: jar,
		// The login answers 302 to where it went: the target says whether it
		// worked, so redirects are not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Client{node: node, base: strings.TrimSuffix(u.String(), "/"), user: user, pass: pass, hc: hc}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// answer is one HTTP answer.
type answer struct {
	status   int
	location string
	body     []byte
}

func (c *Client) do(ctx context.Context, method, path string, body any) (*answer, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s: alien4cloud %s %s: %w", c.node, method, path, err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: alien4cloud %s %s: %w", c.node, method, path, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: alien4cloud %s %s: %w", c.node, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: alien4cloud %s %s: %w", c.node, method, path, err)
	}
	return &answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: b}, nil
}

// Health reads GET /rest/admin/health: nil when it answers 200 (Spring
// Boot's {"status":"UP"}), else an error saying what it answered.
func (c *Client) Health(ctx context.Context) error {
	a, err := c.do(ctx, http.MethodGet, HealthPath, nil)
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("%s: alien4cloud GET %s: HTTP %d: %.200s", c.node, HealthPath, a.status, a.body)
	}
	return nil
}

// ErrLogin is wrapped by Login's error when Alien4Cloud refused the user
// or password.
var ErrLogin = errors.New("Alien4Cloud refused the login")

// Login logs in with the form login (username, password): Spring Security
// answers 302 to rest/auth/status with a session cookie, or to
// rest/auth/authenticationfailed.
func (c *Client) Login(ctx context.Context) error {
	a, err := c.do(ctx, http.MethodPost, LoginPath, url.Values{"username": {c.user}, "password": {c.pass}})
	if err != nil {
		return err
	}
	switch {
	case a.status == http.StatusFound && strings.Contains(a.location, "authenticationfailed"):
		return fmt.Errorf("%s: %w as user %q: check alien4cloud.username and alien4cloud.password", c.node, ErrLogin, c.user)
	case a.status != http.StatusFound && a.status != http.StatusOK:
		return fmt.Errorf("%s: alien4cloud POST %s: HTTP %d: %.200s", c.node, LoginPath, a.status, a.body)
	}
	c.logged = true
	return nil
}

// restResponse is Alien4Cloud's RestResponse.
type restResponse struct {
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// RESTError is an answer of Alien4Cloud's REST API that is not a success:
// the HTTP status and, from its RestResponse, the error code and message.
type RESTError struct {
	Node, Call string
	Status     int
	Code       int
	Message    string
}

func (e *RESTError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: alien4cloud %s: HTTP %d", e.Node, e.Call, e.Status)
	}
	return fmt.Sprintf("%s: alien4cloud %s: HTTP %d, code %d: %s", e.Node, e.Call, e.Status, e.Code, firstLine(e.Message))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Alien4Cloud's RestErrorCode values hotsnap tells apart.
const (
	codeNotLogged     = 100 // AUTHENTICATION_REQUIRED_ERROR
	codeAlreadyExists = 502 // ALREADY_EXIST_ERROR: maintenance already on
	codeNotFound      = 504 // NOT_FOUND_ERROR: maintenance not on
)

// rest calls the maintenance API, logging in first (and again once when
// the session is gone).
func (c *Client) rest(ctx context.Context, method string, body any) (*answer, *restResponse, error) {
	for try := 0; ; try++ {
		if !c.logged {
			if err := c.Login(ctx); err != nil {
				return nil, nil, err
			}
		}
		a, err := c.do(ctx, method, MaintenancePath, body)
		if err != nil {
			return nil, nil, err
		}
		var r restResponse
		_ = json.Unmarshal(a.body, &r) // an answer that is no RestResponse is judged by its status
		if try == 0 && (a.status == http.StatusUnauthorized || a.status == http.StatusForbidden && r.Error != nil && r.Error.Code == codeNotLogged) {
			c.logged = false
			continue
		}
		return a, &r, nil
	}
}

func (c *Client) restErr(method string, a *answer, r *restResponse) error {
	e := &RESTError{Node: c.node, Call: method + " " + MaintenancePath, Status: a.status}
	if r.Error != nil {
		e.Code, e.Message = r.Error.Code, r.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(a.body))
	}
	return e
}

// Maintenance is the maintenance mode's state as Alien4Cloud reports it.
type Maintenance struct {
	On bool
	// User is who turned it on; Message its latest log line.
	User, Message string
}

// GetMaintenance reads the maintenance mode's state.
func (c *Client) GetMaintenance(ctx context.Context) (Maintenance, error) {
	a, r, err := c.rest(ctx, http.MethodGet, nil)
	if err != nil {
		return Maintenance{}, err
	}
	if a.status != http.StatusOK {
		return Maintenance{}, c.restErr(http.MethodGet, a, r)
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return Maintenance{}, nil
	}
	var st struct {
		User string `json:"user"`
		Log  []struct {
			Message string `json:"message"`
		} `json:"log"`
	}
	if err := json.Unmarshal(r.Data, &st); err != nil {
		return Maintenance{}, fmt.Errorf("%s: alien4cloud GET %s: %w", c.node, MaintenancePath, err)
	}
	m := Maintenance{On: true, User: st.User}
	if len(st.Log) > 0 {
		m.Message = st.Log[len(st.Log)-1].Message
	}
	return m, nil
}

// EnableMaintenance turns maintenance mode on (POST, 201); already says it
// was on before (409, code 502), and then nothing changed.
func (c *Client) EnableMaintenance(ctx context.Context) (already bool, err error) {
	a, r, err := c.rest(ctx, http.MethodPost, nil)
	if err != nil {
		return false, err
	}
	switch {
	case a.status == http.StatusCreated || a.status == http.StatusOK:
		return false, nil
	case a.status == http.StatusConflict && r.Error != nil && r.Error.Code == codeAlreadyExists:
		return true, nil
	}
	return false, c.restErr(http.MethodPost, a, r)
}

// SayMaintenance adds message to the maintenance mode's log (PUT with
// MaintenanceUpdateDTO, 201): whoever meets the 503 reads it in the UI, and
// a later run reads it back (Maintenance.Message).
func (c *Client) SayMaintenance(ctx context.Context, message string) error {
	a, r, err := c.rest(ctx, http.MethodPut, map[string]string{"message": message})
	if err != nil {
		return err
	}
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		return c.restErr(http.MethodPut, a, r)
	}
	return nil
}

// DisableMaintenance turns maintenance mode off (DELETE, 200); wasOn is
// false when it was not on (404, code 504).
func (c *Client) DisableMaintenance(ctx context.Context) (wasOn bool, err error) {
	a, r, err := c.rest(ctx, http.MethodDelete, nil)
	if err != nil {
		return false, err
	}
	switch {
	case a.status == http.StatusOK:
		return true, nil
	case a.status == http.StatusNotFound && r.Error != nil && r.Error.Code == codeNotFound:
		return false, nil
	}
	return false, c.restErr(http.MethodDelete, a, r)
}
