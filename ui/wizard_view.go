package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotsnap/hotsnap/steps"
)

// View draws the current screen, cut to the terminal's size.
func (m model) View() tea.View {
	var body []string
	switch m.screen {
	case screenHome:
		body = m.homeView()
	case screenPlan:
		body = m.planView()
	case screenText:
		body = m.textView()
	case screenInit:
		body = m.initView()
	case screenPick:
		body = m.pickView()
	default:
		body = m.runView()
	}
	v := tea.NewView(m.fit(body))
	v.AltScreen = !m.single
	v.WindowTitle = m.cfg.Title
	if m.screen == screenRun {
		v.ProgressBar = m.terminalProgress()
	}
	return v
}

// fit cuts every line to the width and the whole to the height.
func (m model) fit(lines []string) string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(l, "\n")...)
	}
	if len(out) > m.height {
		out = out[:m.height]
	}
	for i, l := range out {
		out[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(out, "\n")
}

func (m model) help(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, m.st.key.Render(pairs[i])+" "+m.st.faint.Render(pairs[i+1]))
	}
	return strings.Join(parts, m.st.faint.Render(" · "))
}

// bottom pads body so that footer lands on the last lines of the screen.
func (m model) bottom(body []string, footer ...string) []string {
	room := m.height - len(footer)
	n := 0
	for _, l := range body {
		n += strings.Count(l, "\n") + 1
	}
	for ; n < room; n++ {
		body = append(body, "")
	}
	var flat []string
	for _, l := range body {
		flat = append(flat, strings.Split(l, "\n")...)
	}
	if len(flat) > room {
		flat = flat[:max(0, room)]
	}
	return append(flat, footer...)
}

func (m model) homeView() []string {
	inv := m.cfg.Inventory
	lines := []string{m.st.title.Render(m.cfg.Title) + m.st.faint.Render(" — hot backup and guided restore over SSH"), ""}
	if inv.Problem != "" {
		lines = append(lines, m.st.warn.Render("! no inventory: ")+inv.Problem,
			"  Discover one from a TheHive node: "+m.st.bold.Render("hotsnap init NODE")+" (writes hotsnap.yaml)", "")
	} else {
		lines = append(lines, fmt.Sprintf("%s %s   %s %s   %s %s",
			m.st.faint.Render("cluster"), m.st.bold.Render(inv.Cluster),
			m.st.faint.Render("platform"), inv.Platform,
			m.st.faint.Render("inventory"), inv.Path))
		for _, n := range inv.Nodes {
			lines = append(lines, fmt.Sprintf("  %-10s %-16s %s", n.Name, n.Host, strings.Join(n.Roles, ", ")))
		}
		lines = append(lines, "")
	}
	lines = append(lines, m.st.header.Render("What do you want to do?"))
	for i, op := range m.cfg.Operations {
		cur := "  "
		title := fmt.Sprintf("%d %s", i+1, op.Title)
		switch {
		case op.Disabled != "":
			title = m.st.disabled.Render(title + " (not available: " + op.Disabled + ")")
		case i == m.cursor:
			title = m.st.sel.Render(title)
		}
		if i == m.cursor {
			cur = m.st.sel.Render("› ")
		}
		line := cur + title
		if op.Help != "" && op.Disabled == "" && m.width >= 100 {
			line += m.st.faint.Render(" — " + op.Help)
		}
		lines = append(lines, line)
	}
	if m.cursor < len(m.cfg.Operations) {
		if h := m.cfg.Operations[m.cursor].Help; h != "" && m.width < 100 {
			lines = append(lines, "", m.st.faint.Render("  "+h))
		}
	}
	if m.notice != "" {
		lines = append(lines, "", m.notice)
	}
	return m.bottom(lines, m.help("↑/↓", "choose", "enter", "start", "1-9", "pick", "q", "quit"))
}

func (m model) planView() []string {
	rb := m.job.Runbook
	var gates, destr int
	more := ""
	for _, s := range rb.Steps {
		if s.Then != nil {
			more = " and those a step makes"
		}
		if s.Kind == steps.KindGate {
			gates++
		}
		if s.Destructive && s.Kind != steps.KindGate {
			destr++
		}
	}
	head := []string{m.st.title.Render("Plan review: "+rb.Name) + m.st.faint.Render(fmt.Sprintf(" — %d steps%s, gates: %d, destructive steps: %d; nothing has run yet", len(rb.Steps), more, gates, destr))}
	head = append(head, m.restoreHeader()...)
	head = append(head, m.estimateLines()...)
	head = append(head, "")
	var lines []string
	wrap := max(30, m.width-8)
	for i, s := range rb.Steps {
		mark := ""
		switch {
		case s.Kind == steps.KindGate && (s.Destructive || s.Gate != nil && s.Gate.Destructive):
			mark = " " + m.st.destr.Render("[DESTRUCTIVE GATE: type the cluster name]")
		case s.Destructive:
			mark = " " + m.st.destr.Render("[DESTRUCTIVE]")
		case s.Kind == steps.KindGate:
			mark = " " + m.st.warn.Render("[GATE: asks you first]")
		}
		lines = append(lines, m.st.bold.Render(fmt.Sprintf("%2d. %s", i+1, s.Title))+mark)
		if s.Why != "" {
			for _, l := range strings.Split(lipgloss.Wrap(s.Why, wrap, " "), "\n") {
				lines = append(lines, m.st.faint.Render("    "+l))
			}
		}
		if s.Gate != nil && s.Gate.Happens != "" {
			for _, l := range strings.Split(lipgloss.Wrap("then: "+s.Gate.Happens, wrap, " "), "\n") {
				lines = append(lines, "    "+l)
			}
		}
		if s.Gate != nil && s.Gate.Loses != "" {
			for _, l := range strings.Split(lipgloss.Wrap("lost: "+s.Gate.Loses, wrap, " "), "\n") {
				lines = append(lines, "    "+m.st.destr.Render(l))
			}
		}
		if s.Plan != nil {
			for _, c := range s.Plan() {
				sudo := ""
				if c.Sudo {
					sudo = "sudo "
				}
				node := c.Node
				if node == "" {
					node = "local"
				}
				lines = append(lines, fmt.Sprintf("    %-8s $ %s%s", node, sudo, c.Cmd))
			}
		}
		if s.Then != nil {
			lines = append(lines, "    "+m.st.warn.Render(steps.ThenNote))
		}
	}
	room := m.height - len(head) - 1
	scroll := min(m.planScroll, max(0, len(lines)-room))
	lines = lines[scroll:]
	if len(lines) > room && room > 0 {
		lines = lines[:room]
	}
	return m.bottom(append(head, lines...), m.help("enter", "run it", "↑/↓", "scroll", "esc", "back", "q", "quit"))
}

func (m model) textView() []string {
	head := []string{m.st.title.Render(m.textTitle), ""}
	lines := strings.Split(m.text, "\n")
	room := m.height - len(head) - 1
	scroll := min(m.planScroll, max(0, len(lines)-room))
	lines = lines[scroll:]
	return m.bottom(append(head, lines...), m.help("esc", "back", "↑/↓", "scroll", "q", "quit"))
}

func (m model) stateMark(st steps.StepState) string {
	switch st {
	case steps.StateDone:
		return m.st.ok.Render("✓")
	case steps.StateRunning:
		return m.st.run.Render("▶")
	case steps.StateFailed:
		return m.st.fail.Render("✗")
	case steps.StateCanceled:
		return m.st.warn.Render("⊘")
	case steps.StateSkipped:
		return m.st.faint.Render("-")
	}
	return m.st.faint.Render("·")
}

func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func (m model) runHeader() string {
	name := m.runbook
	if name == "" {
		name = m.op
	}
	h := m.st.title.Render("hotsnap " + name)
	if m.runID != "" {
		h += m.st.faint.Render(" · run " + m.runID)
	}
	if c := m.cfg.Inventory.Cluster; c != "" {
		h += m.st.faint.Render(" · cluster " + c)
	}
	return h
}

func (m model) runView() []string {
	lines := []string{m.runHeader()}
	footer := []string{m.runFooter()}
	if m.confirmAbt {
		footer = []string{m.st.warn.Render("! Abort the run? Running commands are stopped and the snapshots cleaned up. ") + m.help("y", "abort", "n", "go on")}
	} else if m.aborting {
		footer = append([]string{m.st.warn.Render("! aborting: stopping the remote commands, then cleaning up…")}, footer...)
	}
	room := m.height - len(lines) - len(footer)
	switch {
	case m.gate != nil && !m.workDone:
		lines = append(lines, m.gateView(room)...)
	case m.workDone && !m.showChecks:
		lines = append(lines, m.endView(room)...)
	case m.showChecks:
		lines = append(lines, m.checksView(room)...)
	default:
		lines = append(lines, m.stepsView(room)...)
	}
	return m.bottom(lines, footer...)
}

func (m model) runFooter() string {
	switch {
	case m.gate != nil && m.gate.pick != nil:
		return m.help(fmt.Sprintf("↑/↓ 1-%d", len(m.gate.req.Choices)), "choose", "enter", "take it", "esc", "decline")
	case m.gate != nil && m.gate.req.Destructive:
		return m.help("type the name + enter", "approve", "esc", "decline")
	case m.gate != nil:
		return m.help("y/enter", "approve", "n/esc", "decline")
	case m.workDone && m.single:
		return m.help("tab", "steps/checks", "enter/q", "quit")
	case m.workDone:
		return m.help("tab", "steps/checks", "enter", "home", "q", "quit")
	case m.showChecks:
		return m.help("↑/↓", "select check", "tab", "steps", "ctrl+c", "abort")
	}
	return m.help("↑/↓ pgup/pgdn", "scroll log", "tab", "checks", "ctrl+c", "abort")
}

// stepsView is the Run screen: the step list around the current step,
// progress bars per component and per node of the step moving bytes, what
// a restore has proven (verification, topology), and the tail of the log.
func (m model) stepsView(room int) []string {
	prog := m.progressView()
	panel := m.restorePanel(min(2+len(m.topoMap)+3, max(0, room/3)))
	stepsH := min(len(m.rows), max(3, (room-len(prog)-len(panel))/2))
	var lines []string
	cur := 0
	for i, r := range m.rows {
		if r.state != steps.StatePending {
			cur = i
		}
	}
	start := max(0, min(cur-stepsH/2, len(m.rows)-stepsH))
	now := m.cfg.Now()
	for _, r := range m.rows[start:min(len(m.rows), start+stepsH)] {
		d := r.dur
		if r.state == steps.StateRunning {
			d = now.Sub(r.started)
		}
		title := r.info.Title
		if r.info.Destructive {
			title += " " + m.st.destr.Render("[DESTRUCTIVE]")
		}
		state := string(r.state)
		if r.state == steps.StateFailed {
			state = "FAILED"
		}
		left := fmt.Sprintf("%s %2d/%d %s", m.stateMark(r.state), r.info.Index, r.info.Total, title)
		right := m.st.faint.Render(fmt.Sprintf("%s %7s", state, dur(d)))
		lines = append(lines, padBetween(left, right, m.width))
	}
	lines = append(lines, panel...)
	lines = append(lines, prog...)
	logH := room - len(lines) - 1
	if logH > 0 {
		title := "Log"
		if m.logOff > 0 {
			title += fmt.Sprintf(" (scrolled up %d lines; end to follow)", m.logOff)
		}
		lines = append(lines, m.st.header.Render(title))
		end := len(m.logLines) - m.logOff
		for _, l := range m.logLines[max(0, end-logH):max(0, end)] {
			lines = append(lines, m.st.faint.Render("  ")+l)
		}
	}
	return lines
}

// component is the component of step (StepInfo.Component), "" for a step
// the run did not announce.
func (m model) component(step string) string {
	if r := m.row(step); r != nil {
		return r.info.Component
	}
	return ""
}

// progressLabel names the progress bar of step by its component: a check
// that moves bytes verifies them ("verify backup"); a step that moves a
// component's bytes before that component's destructive step stages them
// ("cassandra (staging)"). A step without a component keeps its ID.
func (m model) progressLabel(step string) string {
	at := -1
	for i, r := range m.rows {
		if r.info.ID == step {
			at = i
		}
	}
	if at < 0 || m.rows[at].info.Component == "" {
		return step
	}
	info := m.rows[at].info
	switch {
	case info.Kind == steps.KindCheck:
		return "verify " + info.Component
	case !info.Destructive:
		for _, r := range m.rows[at+1:] {
			if r.info.Component == info.Component && r.info.Destructive && r.info.Kind != steps.KindGate {
				return info.Component + " (staging)"
			}
		}
	}
	return info.Component
}

// progressView is one bar per component (every step that reported bytes,
// in order, summed over its nodes) and, under the component moving now,
// one bar per node when it runs on several.
func (m model) progressView() []string {
	if len(m.progress) == 0 {
		return nil
	}
	var order []string
	byStep := map[string][]*progressRow{}
	for _, p := range m.progress {
		if byStep[p.step] == nil {
			order = append(order, p.step)
		}
		byStep[p.step] = append(byStep[p.step], p)
	}
	active := m.progress[len(m.progress)-1].step
	out := []string{m.st.header.Render("Progress")}
	for _, step := range order {
		rows := byStep[step]
		agg := &progressRow{step: step, node: m.progressLabel(step), unit: rows[0].unit, first: rows[0].first, last: rows[0].last}
		for _, p := range rows {
			agg.done += p.done
			agg.total += p.total
			agg.firstDone += p.firstDone
			if p.first.Before(agg.first) {
				agg.first = p.first
			}
			if p.last.After(agg.last) {
				agg.last = p.last
			}
		}
		out = append(out, m.progressLine(agg, "  "))
		if step == active && len(rows) > 1 {
			for _, p := range rows {
				out = append(out, m.progressLine(p, "    "))
			}
		}
	}
	return out
}

// activeProgress is the progress of the step that reported last.
func (m model) activeProgress() []*progressRow {
	if len(m.progress) == 0 {
		return nil
	}
	step := m.progress[len(m.progress)-1].step
	var out []*progressRow
	for _, p := range m.progress {
		if p.step == step {
			out = append(out, p)
		}
	}
	return out
}

func (m model) progressLine(p *progressRow, indent string) string {
	pct := 0.0
	if p.total > 0 {
		pct = float64(p.done) / float64(p.total)
	}
	barW := max(10, min(40, m.width-62))
	bar := progress.New(progress.WithWidth(barW), progress.WithoutPercentage(), progress.WithColors(m.st.run.GetForeground()))
	rate, eta := "", ""
	if el := p.last.Sub(p.first).Seconds(); el > 0 && p.done > p.firstDone {
		r := float64(p.done-p.firstDone) / el
		rate = amount(int64(r), p.unit) + "/s"
		if p.total > p.done {
			eta = "ETA " + dur(time.Duration(float64(p.total-p.done)/r*float64(time.Second)).Round(time.Second))
		}
	}
	if p.done >= p.total && p.total > 0 {
		eta = "done"
	}
	node := p.node
	if node == "" {
		node = "-"
	}
	return fmt.Sprintf("%s%-*s %s %3.0f%% %s / %s %s %s", indent, 15-len(indent), node, bar.ViewAs(pct), pct*100, amount(p.done, p.unit), amount(p.total, p.unit), rate, eta)
}

// terminalProgress is the terminal's own progress indicator: the share of
// bytes moved by the current step, else of steps finished.
func (m model) terminalProgress() *tea.ProgressBar {
	if m.workDone || len(m.rows) == 0 {
		return nil
	}
	var done, total int64
	for _, p := range m.activeProgress() {
		done += p.done
		total += p.total
	}
	state := tea.ProgressBarDefault
	for _, r := range m.rows {
		if r.state == steps.StateFailed {
			state = tea.ProgressBarError
		}
	}
	if m.gate != nil {
		state = tea.ProgressBarWarning
	}
	if total > 0 {
		return tea.NewProgressBar(state, int(100*done/total))
	}
	n := 0
	for _, r := range m.rows {
		if r.state == steps.StateDone || r.state == steps.StateSkipped {
			n++
		}
	}
	return tea.NewProgressBar(state, 100*n/len(m.rows))
}

func padBetween(left, right string, width int) string {
	gap := width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		left = ansi.Truncate(left, max(0, width-lipgloss.Width(right)-2), "…")
		gap = max(1, width-lipgloss.Width(left)-lipgloss.Width(right))
	}
	return left + strings.Repeat(" ", gap) + right
}

// checkGrid orders the checks (rows, in order of arrival) and the places
// (columns: nodes by name, then "cluster").
func (m model) checkGrid() (names, places []string, cell map[[2]string]steps.CheckResult) {
	cell = map[[2]string]steps.CheckResult{}
	seenN, seenP := map[string]bool{}, map[string]bool{}
	cluster := false
	for _, c := range m.checks {
		if !seenN[c.Check] {
			seenN[c.Check] = true
			names = append(names, c.Check)
		}
		place := c.Node
		if place == "" {
			place, cluster = "cluster", true
		} else if !seenP[place] {
			seenP[place] = true
			places = append(places, place)
		}
		cell[[2]string{c.Check, place}] = c
	}
	sort.Strings(places)
	if cluster {
		places = append(places, "cluster")
	}
	return names, places, cell
}

func (m model) checkMark(c steps.CheckResult, ok bool) string {
	if !ok {
		return m.st.faint.Render("·")
	}
	switch c.Status {
	case steps.CheckPass:
		return m.st.ok.Render("✓")
	case steps.CheckWarn:
		return m.st.warn.Render("!")
	}
	return m.st.fail.Render("✗")
}

// checksView is the Preflight checklist: checks × nodes, filling in as
// results arrive, with the selected check's evidence and remedy below.
func (m model) checksView(room int) []string {
	names, places, cell := m.checkGrid()
	pass, warn, fail := countChecks(m.checks)
	state := "running"
	if m.workDone {
		state = "finished"
	}
	lines := []string{fmt.Sprintf("Checks (%s): %s  %s  %s", state,
		m.st.ok.Render(fmt.Sprintf("✓ %d pass", pass)), m.st.warn.Render(fmt.Sprintf("! %d warn", warn)), m.st.fail.Render(fmt.Sprintf("✗ %d fail", fail)))}
	nameW := max(16, min(30, m.width-4-9*len(places)))
	hdr := fmt.Sprintf("  %-*s", nameW, "check")
	for _, p := range places {
		hdr += fmt.Sprintf(" %-8s", ansi.Truncate(p, 8, ""))
	}
	lines = append(lines, m.st.faint.Render(hdr))
	detailH := 5
	gridH := max(3, room-len(lines)-detailH)
	sel := min(max(0, m.checkSel), max(0, len(names)-1))
	start := max(0, min(sel-gridH/2, len(names)-gridH))
	for i := start; i < len(names) && i < start+gridH; i++ {
		n := names[i]
		cur := "  "
		label := fmt.Sprintf("%-*s", nameW, ansi.Truncate(n, nameW, "…"))
		if i == sel {
			cur, label = m.st.sel.Render("› "), m.st.sel.Render(label)
		}
		row := cur + label
		for _, p := range places {
			c, ok := cell[[2]string{n, p}]
			word := ""
			if ok {
				word = strings.ToUpper(string(c.Status))
			}
			row += " " + m.checkMark(c, ok) + " " + fmt.Sprintf("%-6s", word)
		}
		lines = append(lines, row)
	}
	if len(names) == 0 {
		lines = append(lines, m.st.faint.Render("  waiting for the first results…"))
		return lines
	}
	lines = append(lines, m.st.header.Render("Evidence · "+names[sel]))
	var det []steps.CheckResult
	for _, p := range places {
		if c, ok := cell[[2]string{names[sel], p}]; ok {
			det = append(det, c)
		}
	}
	sort.SliceStable(det, func(i, j int) bool { return rank(det[i].Status) > rank(det[j].Status) })
	for _, c := range det {
		where := c.Node
		if where == "" {
			where = "cluster"
		}
		lines = append(lines, fmt.Sprintf("  %s %-4s %-8s %s", m.checkMark(c, true), strings.ToUpper(string(c.Status)), where, c.Evidence))
		if c.Remedy != "" && c.Status != steps.CheckPass {
			lines = append(lines, "       → "+c.Remedy)
		}
	}
	return lines
}

func rank(s steps.CheckStatus) int {
	switch s {
	case steps.CheckFail:
		return 2
	case steps.CheckWarn:
		return 1
	}
	return 0
}

func (m model) gateView(room int) []string {
	g := m.gate.req
	w := min(m.width-2, 76)
	inner := w - 4
	var b []string
	title := "GATE: " + g.Title
	if g.Destructive {
		title = "DESTRUCTIVE GATE: " + g.Title
	}
	b = append(b, m.st.bold.Render(title), "")
	field := func(label, text string) {
		if text == "" {
			return
		}
		for i, l := range strings.Split(lipgloss.Wrap(text, inner-14, " "), "\n") {
			if i == 0 {
				b = append(b, fmt.Sprintf("%-13s %s", label, l))
			} else {
				b = append(b, fmt.Sprintf("%-13s %s", "", l))
			}
		}
	}
	field("What happens", g.Happens)
	field("On nodes", strings.Join(g.Nodes, ", "))
	loses := g.Loses
	if loses == "" {
		loses = "nothing"
	}
	field("What is lost", loses)
	field("Roll back", g.Rollback)
	b = append(b, "")
	if m.gate.pick != nil {
		b = append(b, m.choicesView(inner)...)
	} else if g.Destructive {
		b = append(b, fmt.Sprintf("Type the cluster name (%s) and press enter to go on; esc stops.", g.Cluster), m.gate.input.View())
		if m.gate.wrong {
			b = append(b, m.st.fail.Render("✗ that is not the cluster name"))
		}
	} else {
		b = append(b, "Go on? "+m.help("y", "yes", "n", "no"))
	}
	box := m.st.gateBox
	if g.Destructive {
		box = m.st.failBox
	}
	out := []string{""}
	out = append(out, strings.Split(box.Width(w).Render(strings.Join(b, "\n")), "\n")...)
	if panel := m.restorePanel(room - len(out) - 1); len(panel) > 0 {
		out = append(append(out, ""), panel...)
	}
	if len(out) > room {
		out = out[:room]
	}
	return out
}

// choicesView lists a choice gate's choices, the selected one marked.
func (m model) choicesView(width int) []string {
	g := m.gate
	out := []string{"Choose (↑/↓ or the number), then press enter; esc stops the run:"}
	for i, c := range g.req.Choices {
		label := fmt.Sprintf("%d. %s", i+1, c.Label)
		if notes := choiceNotes(g.req, c); len(notes) > 0 {
			label += " (" + strings.Join(notes, ", ") + ")"
		}
		mark, style := "  ", lipgloss.NewStyle()
		if i == g.choice {
			mark, style = "› ", m.st.sel
		}
		for j, l := range strings.Split(lipgloss.Wrap(label, width-2, " "), "\n") {
			if j > 0 {
				mark = "  "
			}
			out = append(out, mark+style.Render(l))
		}
		if c.Destructive {
			out = append(out, "  "+m.st.destr.Render("  ! removes data, after the destructive gate"))
		}
	}
	return out
}
