package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// fakeDiscovery records the requests it is given and answers like a
// TheHive discovery of the lab, or with err.
type fakeDiscovery struct {
	reqs   []InitRequest
	exists bool // the output exists
	err    error
	lines  []string // progress lines sent
}

func (f *fakeDiscovery) init(_ context.Context, req InitRequest, progress func(string)) (*InitResult, error) {
	f.reqs = append(f.reqs, req)
	if f.exists && !req.Overwrite {
		return nil, fmt.Errorf("%s: %w", req.Output, ErrInventoryExists)
	}
	for _, l := range f.lines {
		progress(l)
	}
	if f.err != nil {
		return nil, f.err
	}
	cluster := req.Cluster
	if cluster == "" {
		cluster = "Test-Cluster"
	}
	inv := Inventory{Path: req.Output, Platform: "thehive", Cluster: cluster, Nodes: []Node{
		{Name: "node1", Host: "10.77.3.11", Roles: []string{"cassandra", "elasticsearch", "thehive", "files"}},
		{Name: "node2", Host: "10.77.3.12", Roles: []string{"cassandra"}},
		{Name: "node3", Host: "10.77.3.13", Roles: []string{"cassandra"}},
	}}
	home := &Config{Inventory: inv, Operations: []Operation{{Key: "backup", Title: "Back up now"}}}
	return &InitResult{Path: req.Output, Inventory: inv, Home: home,
		Found: [][2]string{{"keyspace", "thehive"}, {"elasticsearch", "http://127.0.0.1:9200 index thehive_global"},
			{"snapshot repository", "hotsnap at /mnt/backup/elasticsearch"}, {"storage", "local /opt/thp/thehive/files (thehive:thehive)"}},
		Missing: []string{"the Cassandra password is a prompt reference: asked at each run (or write env:NAME / file:PATH)",
			"the backup repository is not set: edit repository.url"},
		Log: []string{"reading /etc/thehive/application.conf on 10.77.3.11 …", "  node1 (10.77.3.11): cassandra, elasticsearch, thehive"},
	}, nil
}

var ctrlS = tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}

func initConfig(c *fakeClock, f *fakeDiscovery) Config {
	cfg := testConfig(c)
	cfg.Inventory = Inventory{Problem: "no inventory found: ./hotsnap.yaml"}
	cfg.Operations = append(cfg.Operations, Operation{Key: "init", Title: "Discover an inventory (init)", Init: f.init})
	return cfg
}

// openInit is the wizard with the Init screen open (picked on Home).
func openInit(c *fakeClock, f *fakeDiscovery) tea.Model {
	return update(newModel(initConfig(c, f), &bridge{}), key("5"))
}

// fill types the node and the user, and moves to the cluster name.
func fill(m tea.Model) tea.Model {
	m = typeText(m, "10.77.3.11")
	m = typeText(update(m, key("tab")), "hotsnap")
	return update(m, key("tab"), key("tab"), key("tab"), key("tab"))
}

// submit presses enter until the form submits, runs the discovery command
// and feeds its message back.
func submit(t *testing.T, m tea.Model) tea.Model {
	t.Helper()
	for range 8 {
		var cmd tea.Cmd
		m, cmd = m.Update(key("enter"))
		if cmd != nil {
			return update(m, cmd())
		}
	}
	t.Fatal("the form never submitted")
	return m
}

func initScreens(t *testing.T, c *fakeClock) map[string]func() tea.Model {
	return map[string]func() tea.Model{
		"form": func() tea.Model { return fill(openInit(c, &fakeDiscovery{})) },
		"form_node_missing": func() tea.Model {
			return update(openInit(c, &fakeDiscovery{}), ctrlS)
		},
		"ask_overwrite": func() tea.Model { return submit(t, fill(openInit(c, &fakeDiscovery{exists: true}))) },
		"running": func() tea.Model {
			m, _ := fill(openInit(c, &fakeDiscovery{})).Update(ctrlS)
			return update(m, initLogMsg{line: "thehive.example runs thehive"}, initLogMsg{line: "reading /etc/thehive/application.conf on 10.77.3.11 …"})
		},
		"result": func() tea.Model { return submit(t, fill(openInit(c, &fakeDiscovery{}))) },
		"failed": func() tea.Model {
			f := &fakeDiscovery{err: errors.New("ssh 10.77.3.11: host key not in ~/.ssh/known_hosts"), lines: []string{"connecting …"}}
			return submit(t, fill(openInit(c, f)))
		},
		"home_after": func() tea.Model { return update(submit(t, fill(openInit(c, &fakeDiscovery{}))), key("esc")) },
	}
}

// TestInitScreens compares every Init screen at 80×24 and 120×40 with its
// golden file (go test ./ui -run TestInitScreens -update rewrites them).
func TestInitScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for name, build := range initScreens(t, testClock()) {
			t.Run(fmt.Sprintf("%s_%dx%d", name, size[0], size[1]), func(t *testing.T) {
				m := update(build(), tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				out := view(m)
				lines := strings.Split(out, "\n")
				if len(lines) > size[1] {
					t.Errorf("%d lines, more than the terminal's %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d wide, more than %d: %q", i+1, w, size[0], l)
					}
				}
				golden.RequireEqual(t, []byte(out))
			})
		}
	}
}

// TestInitFormSubmits fills the form with keys, submits it, and checks the
// request, the overwrite question and the Home afterwards.
func TestInitFormSubmits(t *testing.T) {
	c := testClock()
	f := &fakeDiscovery{exists: true}
	m := openInit(c, f)
	if got := m.(model).screen; got != screenInit {
		t.Fatalf("picking init opened screen %d, want the Init screen", got)
	}
	m = fill(m)
	m = typeText(m, "lab") // cluster name
	m = update(m, key("tab"))
	for range len(DefaultInitOutput) {
		m = update(m, tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	m = typeText(m, "/tmp/lab.yaml")
	m = submit(t, m)
	want := InitRequest{Node: "10.77.3.11", User: "hotsnap", KnownHosts: DefaultInitKnownHosts, Cluster: "lab", Output: "/tmp/lab.yaml"}
	if len(f.reqs) != 1 || f.reqs[0] != want {
		t.Fatalf("requests %+v, want one %+v", f.reqs, want)
	}
	if !strings.Contains(view(m), "/tmp/lab.yaml exists") {
		t.Fatalf("no overwrite question:\n%s", view(m))
	}
	m, cmd := m.Update(key("y"))
	if cmd == nil {
		t.Fatal("y did not start the discovery again")
	}
	m = update(m, cmd())
	want.Overwrite = true
	if len(f.reqs) != 2 || f.reqs[1] != want {
		t.Fatalf("second request %+v, want %+v", f.reqs, want)
	}
	mm := m.(model)
	if mm.init.phase != initDone || mm.cfg.Inventory.Cluster != "lab" || mm.cfg.Inventory.Path != "/tmp/lab.yaml" {
		t.Fatalf("phase %d, inventory %+v: want done with the new inventory", mm.init.phase, mm.cfg.Inventory)
	}
	if mm.cfg.Title != "hotsnap test" || mm.cfg.Now == nil {
		t.Fatalf("the new Home lost the title or clock: %q", mm.cfg.Title)
	}
	m = update(m, key("esc"))
	if v := view(m); !strings.Contains(v, "cluster lab") || !strings.Contains(v, "inventory written to /tmp/lab.yaml") {
		t.Fatalf("Home does not show the new inventory:\n%s", v)
	}
}

func TestInitFormRefusesEmptyNode(t *testing.T) {
	c := testClock()
	f := &fakeDiscovery{}
	m, cmd := openInit(c, f).Update(ctrlS)
	if cmd != nil || len(f.reqs) != 0 {
		t.Fatal("submitted without a node")
	}
	if !strings.Contains(view(m), "the node is required") {
		t.Fatalf("no reason shown:\n%s", view(m))
	}
}

func TestInitOverwriteDeclined(t *testing.T) {
	c := testClock()
	f := &fakeDiscovery{exists: true}
	m := update(submit(t, fill(openInit(c, f))), key("n"))
	mm := m.(model)
	if mm.init.phase != initForm || mm.init.focus != fOutput || len(f.reqs) != 1 {
		t.Fatalf("phase %d focus %d requests %d: want the form, on the output field, one request", mm.init.phase, mm.init.focus, len(f.reqs))
	}
}

func TestInitFailureThenEdit(t *testing.T) {
	c := testClock()
	f := &fakeDiscovery{err: errors.New("connection refused")}
	m := submit(t, fill(openInit(c, f)))
	if v := view(m); !strings.Contains(v, "discovery failed: connection refused") {
		t.Fatalf("failure not shown:\n%s", v)
	}
	if m.(model).cfg.Inventory.Problem == "" {
		t.Fatal("a failed discovery replaced the inventory")
	}
	m = update(m, key("e"))
	if mm := m.(model); mm.init.phase != initForm || mm.init.request().Node != "10.77.3.11" {
		t.Fatalf("e did not return to the filled form: phase %d", mm.init.phase)
	}
}
