package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// InitRequest is what the Init form asks before a discovery.
type InitRequest struct {
	Node       string // an address or a ~/.ssh/config alias (required)
	User       string // SSH user; "" is ~/.ssh/config, else the local user
	Identity   string // private key file; "" is the agent and ~/.ssh/config
	KnownHosts string // known_hosts file
	// SudoPassword is a reference to the sudo password (env:NAME or
	// file:PATH); "" is passwordless sudo. Nothing is asked on the screen.
	SudoPassword string
	Cluster      string // cluster name; "" is Cassandra's cluster name
	Output       string // where the inventory is written
	Overwrite    bool   // replace Output when it exists
}

// Default values of the Init form's fields.
const (
	DefaultInitKnownHosts = "~/.ssh/known_hosts"
	DefaultInitOutput     = "hotsnap.yaml"
)

// ErrInventoryExists is returned (wrapped) by an Operation's Init when the
// output file exists and the request does not say to overwrite it; the
// form then asks the operator.
var ErrInventoryExists = errors.New("the inventory file exists")

// InitResult is what a discovery found and where it wrote the inventory.
type InitResult struct {
	Path      string    // the file written
	Inventory Inventory // platform, cluster, nodes and their roles
	// Found are the components discovered, as label and value
	// ("keyspace", "thehive"), in the order shown.
	Found [][2]string
	// Missing are what the operator still has to provide or check:
	// passwords written as prompt references, values that fell back to
	// defaults, warnings.
	Missing []string
	// Log is what the discovery printed while it ran.
	Log []string
	// Home, when set, is the wizard's Home afterwards (operations and
	// inventory reloaded from the new file).
	Home *Config
}

// initPhase is where the Init screen is.
type initPhase int

const (
	initForm initPhase = iota
	initAskOverwrite
	initRunning
	initDone
	initFailed
)

// Messages of the Init screen.
type (
	initLogMsg  struct{ line string }
	initDoneMsg struct {
		res *InitResult
		err error
	}
)

// initField is one question of the form.
type initField struct {
	label, help string
	input       textinput.Model
}

// initState is the Init screen: the form, then the discovery, then its
// result.
type initState struct {
	op      *Operation
	fields  []initField
	focus   int
	phase   initPhase
	problem string // why the form was not submitted
	log     []string
	res     *InitResult
	err     error
	scroll  int
}

const (
	fNode = iota
	fUser
	fIdentity
	fKnownHosts
	fSudo
	fCluster
	fOutput
)

func newInitState(op *Operation) *initState {
	mk := func(label, help, placeholder, value string) initField {
		in := textinput.New()
		in.Prompt = ""
		in.Placeholder = placeholder
		in.SetValue(value)
		in.SetWidth(40)
		return initField{label: label, help: help, input: in}
	}
	s := &initState{op: op, fields: []initField{
		mk("Node", "an address or a ~/.ssh/config alias of one TheHive node", "(required) 10.0.0.11 or th-node-1", ""),
		mk("SSH user", "empty: ~/.ssh/config, else your local user", "(from ~/.ssh/config)", ""),
		mk("Identity file", "private key; empty: the SSH agent and ~/.ssh/config", "(agent, ~/.ssh/config)", ""),
		mk("known_hosts", "the node's host key must be in it", DefaultInitKnownHosts, DefaultInitKnownHosts),
		mk("Sudo password", "a reference, env:NAME or file:PATH; empty: passwordless sudo", "(passwordless)", ""),
		mk("Cluster name", "typed to approve a restore; empty: Cassandra's cluster name", "(from Cassandra)", ""),
		mk("Write to", "the inventory file", DefaultInitOutput, DefaultInitOutput),
	}}
	s.fields[0].input.Focus()
	return s
}

// request is the form's answers.
func (s *initState) request() InitRequest {
	v := func(i int) string { return strings.TrimSpace(s.fields[i].input.Value()) }
	r := InitRequest{Node: v(fNode), User: v(fUser), Identity: v(fIdentity), KnownHosts: v(fKnownHosts), SudoPassword: v(fSudo), Cluster: v(fCluster), Output: v(fOutput)}
	if r.KnownHosts == "" {
		r.KnownHosts = DefaultInitKnownHosts
	}
	if r.Output == "" {
		r.Output = DefaultInitOutput
	}
	return r
}

func (s *initState) setFocus(i int) {
	s.fields[s.focus].input.Blur()
	s.focus = (i + len(s.fields)) % len(s.fields)
	s.fields[s.focus].input.Focus()
}

// startInit opens the Init screen for op.
func (m model) startInit(op *Operation) (tea.Model, tea.Cmd) {
	m.init = newInitState(op)
	m.screen, m.notice = screenInit, ""
	return m, nil
}

// discover runs the operation's Init in a command; its progress lines come
// back as initLogMsg through the bridge.
func (m model) discover(req InitRequest) tea.Cmd {
	fn, b := m.init.op.Init, m.b
	return func() tea.Msg {
		res, err := fn(context.Background(), req, func(line string) { b.Send(initLogMsg{line: line}) })
		if err == nil && res == nil {
			err = errors.New("the discovery returned no result")
		}
		return initDoneMsg{res: res, err: err}
	}
}

func (m model) submitInit(overwrite bool) (tea.Model, tea.Cmd) {
	s := m.init
	req := s.request()
	if req.Node == "" {
		s.problem = "the node is required: an address or a ~/.ssh/config alias"
		s.setFocus(fNode)
		return m, nil
	}
	req.Overwrite = overwrite
	s.problem, s.phase, s.log, s.res, s.err, s.scroll = "", initRunning, nil, nil, nil, 0
	return m, m.discover(req)
}

// initMsg handles the discovery's messages.
func (m model) initMsg(msg tea.Msg) (tea.Model, tea.Cmd) {
	s := m.init
	if s == nil || s.phase != initRunning {
		return m, nil
	}
	switch msg := msg.(type) {
	case initLogMsg:
		s.log = append(s.log, msg.line)
		if len(s.log) > maxLogLines {
			s.log = s.log[len(s.log)-maxLogLines:]
		}
	case initDoneMsg:
		switch {
		case errors.Is(msg.err, ErrInventoryExists):
			s.phase = initAskOverwrite
		case msg.err != nil:
			s.phase, s.err = initFailed, msg.err
		default:
			s.phase, s.res = initDone, msg.res
			if len(msg.res.Log) > 0 {
				s.log = msg.res.Log
			}
			if h := msg.res.Home; h != nil {
				now, title := m.cfg.Now, m.cfg.Title
				m.cfg = *h
				if m.cfg.Now == nil {
					m.cfg.Now = now
				}
				if m.cfg.Title == "" {
					m.cfg.Title = title
				}
			} else {
				m.cfg.Inventory = msg.res.Inventory
			}
			m.cursor = 0
		}
	}
	return m, nil
}

func (m model) initKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	s := m.init
	key := k.String()
	switch s.phase {
	case initRunning:
		return m, nil // the discovery has no cancel; it ends on its own timeouts
	case initAskOverwrite:
		switch key {
		case "y", "Y":
			return m.submitInit(true)
		default:
			s.phase = initForm
			s.problem = "not overwritten: choose another file"
			s.setFocus(fOutput)
		}
		return m, nil
	case initDone, initFailed:
		switch key {
		case "up", "k":
			s.scroll = max(0, s.scroll-1)
		case "down", "j":
			s.scroll++
		case "q":
			return m, tea.Quit
		case "e":
			if s.phase == initFailed {
				s.phase = initForm
			}
		case "esc", "enter":
			m.screen, m.init = screenHome, nil
			if s.res != nil {
				m.notice = m.st.ok.Render("✓") + " inventory written to " + s.res.Path
			}
		}
		return m, nil
	}
	switch key {
	case "esc":
		m.screen, m.init = screenHome, nil
		return m, nil
	case "tab", "down":
		s.setFocus(s.focus + 1)
		return m, nil
	case "shift+tab", "up":
		s.setFocus(s.focus - 1)
		return m, nil
	case "enter":
		if s.focus < len(s.fields)-1 {
			s.setFocus(s.focus + 1)
			return m, nil
		}
		return m.submitInit(false)
	case "ctrl+s":
		return m.submitInit(false)
	}
	var cmd tea.Cmd
	s.fields[s.focus].input, cmd = s.fields[s.focus].input.Update(k)
	s.problem = ""
	return m, cmd
}

// initView draws the form, the discovery's progress or its result.
func (m model) initView() []string {
	s := m.init
	head := []string{m.st.title.Render("Discover an inventory") + m.st.faint.Render(" — log in to one node and draft the inventory"), ""}
	switch s.phase {
	case initRunning:
		req := s.request()
		lines := append(head, m.st.run.Render("…")+" discovering from "+m.st.bold.Render(req.Node)+
			": configuration, ring members, storage", "")
		lines = append(lines, m.tail(s.log, m.height-len(lines)-2)...)
		return m.bottom(lines, m.help("ctrl+c", "quit"))
	case initDone:
		return m.scrolled(head, m.initResultLines(), "esc", "home")
	case initFailed:
		lines := []string{m.st.fail.Render("✗ discovery failed: ") + s.err.Error(), "",
			"  Check the node answers SSH (ssh " + s.request().Node + "), that its host key is in",
			"  known_hosts, and that sudo works there; then press e to edit the form.", ""}
		if len(s.log) > 0 {
			lines = append(lines, m.st.header.Render("What it printed"))
			lines = append(lines, indent(s.log)...)
		}
		return m.scrolled(head, lines, "e", "edit", "esc", "home")
	}
	lines := head
	for i, f := range s.fields {
		cur := "  "
		label := fmt.Sprintf("%-14s", f.label)
		if i == s.focus {
			cur, label = m.st.sel.Render("› "), m.st.sel.Render(label)
		}
		lines = append(lines, cur+label+" "+f.input.View())
		if i == s.focus && f.help != "" {
			lines = append(lines, m.st.faint.Render("                 "+f.help))
		}
	}
	lines = append(lines, "")
	if s.phase == initAskOverwrite {
		lines = append(lines, m.st.warn.Render("! "+s.request().Output+" exists.")+" Overwrite it? "+m.help("y", "overwrite", "n", "choose another file"))
	} else if s.problem != "" {
		lines = append(lines, m.st.warn.Render("! "+s.problem))
	} else {
		lines = append(lines, m.st.faint.Render("Passwords are never typed here: database passwords are written as prompt references."))
	}
	return m.bottom(lines, m.help("tab/↓", "next", "enter", "next/discover", "ctrl+s", "discover", "esc", "back"))
}

// initResultLines is the result screen's body: found, missing, written.
func (m model) initResultLines() []string {
	r := m.init.res
	inv := r.Inventory
	lines := []string{m.st.ok.Render("✓") + " wrote " + m.st.bold.Render(r.Path) +
		fmt.Sprintf(" (%s, cluster %s, %d nodes)", inv.Platform, inv.Cluster, len(inv.Nodes)), "",
		m.st.header.Render("Found")}
	for _, n := range inv.Nodes {
		lines = append(lines, fmt.Sprintf("  %-10s %-16s %s", n.Name, n.Host, strings.Join(n.Roles, ", ")))
	}
	for _, f := range r.Found {
		lines = append(lines, fmt.Sprintf("  %-20s %s", f[0], f[1]))
	}
	lines = append(lines, "", m.st.header.Render("Missing or to check"))
	if len(r.Missing) == 0 {
		lines = append(lines, "  nothing")
	}
	for _, w := range r.Missing {
		for i, l := range strings.Split(ansi.Wrap(w, max(20, m.width-4), " "), "\n") {
			if i == 0 {
				lines = append(lines, m.st.warn.Render("  ! ")+l)
			} else {
				lines = append(lines, "    "+l)
			}
		}
	}
	next := "Next: review " + r.Path + ", then run preflight"
	if r.Home == nil {
		next = "Next: review " + r.Path + ", then restart with hotsnap --inventory " + r.Path
	}
	return append(lines, "", next+".")
}

// scrolled is head, then body scrolled by the Init screen's offset, then
// the help line with keys.
func (m model) scrolled(head, body []string, keys ...string) []string {
	room := max(1, m.height-len(head)-1)
	scroll := min(m.init.scroll, max(0, len(body)-room))
	keys = append(keys, "↑/↓", "scroll", "q", "quit")
	return m.bottom(append(head, body[scroll:]...), m.help(keys...))
}

// tail is the last n lines of lines.
func (m model) tail(lines []string, n int) []string {
	if n <= 0 {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return indent(lines)
}

func indent(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + l
	}
	return out
}
