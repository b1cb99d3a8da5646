package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// pickState is the backup picker: the list and the selected backup.
type pickState struct {
	op     string
	list   *BackupList
	cursor int // index into list.Backups; always a complete backup when there is one
}

// pickReady opens the picker with the backups listed.
func (m model) pickReady(msg pickReadyMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.notice = fmt.Sprintf("✗ %s: %v", msg.op, msg.err)
		m.screen = screenHome
		return m, nil
	}
	m.notice = ""
	m.screen = screenPick
	m.pick = &pickState{op: msg.op, list: msg.list, cursor: -1}
	m.pick.cursor = m.pick.next(-1, 1)
	return m, nil
}

// next is the first complete backup from i (excluded) in direction dir, or
// i when there is none.
func (p *pickState) next(i, dir int) int {
	rows := p.list.rows()
	for j := i + dir; j >= 0 && j < len(rows); j += dir {
		if rows[j].Complete {
			return j
		}
	}
	return i
}

// selected is the backup under the cursor, when it can be restored.
func (p *pickState) selected() (repo.Summary, bool) {
	rows := p.list.rows()
	if p.cursor < 0 || p.cursor >= len(rows) || !rows[p.cursor].Complete {
		return repo.Summary{}, false
	}
	return rows[p.cursor], true
}

func (m model) pickKey(s string) (tea.Model, tea.Cmd) {
	p := m.pick
	switch s {
	case "q":
		return m, tea.Quit
	case "esc", "backspace":
		m.screen, m.pick, m.notice = screenHome, nil, ""
	case "up", "k":
		p.cursor = p.next(p.cursor, -1)
	case "down", "j", "tab":
		p.cursor = p.next(p.cursor, 1)
	case "enter", "space":
		op := m.findOp(p.op)
		b, ok := p.selected()
		if op == nil || op.PickJob == nil || !ok {
			m.notice = "no complete backup to restore: take one first (Home: Back up now)"
			return m, nil
		}
		if m.preparing {
			return m, nil // the first enter is being acted on
		}
		id := b.ID
		m.notice = "… reading backup " + id + " and connecting to the nodes"
		m.preparing = true
		pickJob := op.PickJob
		return m, func() tea.Msg {
			job, err := pickJob(context.Background(), id)
			return jobReadyMsg{op: p.op, job: job, err: err}
		}
	}
	return m, nil
}

// plural says n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// age says how long ago t was, in the largest unit that fits.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "age unknown"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// taken says when a backup was taken: the time in UTC and how long ago.
func (m model) taken(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 MST") + " (" + age(m.cfg.Now(), t) + ")"
}

// shortComponents names a backup's components in few letters when the
// screen is narrow.
func shortComponents(c []string, wide bool) string {
	if wide {
		return strings.Join(c, ", ")
	}
	short := map[string]string{"cassandra": "cass", "elasticsearch": "es", "files": "files"}
	out := make([]string, len(c))
	for i, x := range c {
		if s, ok := short[x]; ok {
			x = s
		}
		out[i] = x
	}
	return strings.Join(out, ",")
}

// pickView is the backup picker: every backup with its age, size,
// components and whether it is complete; incomplete ones say why and cannot
// be picked.
func (m model) pickView() []string {
	p := m.pick
	now := m.cfg.Now()
	var complete int
	for _, b := range p.list.Backups {
		if b.Complete {
			complete++
		}
	}
	head := []string{
		m.st.title.Render("Restore: pick a backup") + m.st.faint.Render(fmt.Sprintf(" — %s (%d complete) in %s, newest first", plural(len(p.list.Backups), "backup"), complete, p.list.Where)),
		m.st.faint.Render("✓ complete: can be restored · ✗ incomplete: shown, cannot be restored"), "",
	}
	wide := m.width >= 100
	var lines []string
	sel := 0 // the line of the cursor, to keep it in view
	row := func(i int, b repo.Summary) {
		mark, id := m.st.ok.Render("✓"), b.ID
		cur := "  "
		if i == p.cursor && b.Complete {
			cur, id, sel = m.st.sel.Render("› "), m.st.sel.Render(b.ID), len(lines)
		}
		if !b.Complete {
			mark, id = m.st.fail.Render("✗"), m.st.disabled.Render(b.ID)
		}
		comps := shortComponents(b.Components, wide)
		if comps == "" {
			comps = "nothing yet"
		}
		lines = append(lines, fmt.Sprintf("%s%s %s  %-11s %10s  %s", cur, mark, id, age(now, b.Started), steps.HumanBytes(b.Size), comps))
		if !b.Complete {
			for _, l := range strings.Split(lipgloss.Wrap("incomplete: "+b.Problem, max(20, m.width-8), " "), "\n") {
				lines = append(lines, m.st.faint.Render("      "+l))
			}
		}
	}
	for i, b := range p.list.Backups {
		row(i, b)
	}
	if len(p.list.Backups) == 0 {
		lines = append(lines, "  no backups in "+p.list.Where+": take one first (Home: Back up now)")
	} else if complete == 0 {
		lines = append(lines, "", m.st.warn.Render("! no complete backup to restore: take one first (Home: Back up now)"))
	}
	if len(p.list.Documented) > 0 {
		lines = append(lines, "")
		lines = append(lines, m.wrapped(m.st.bold.Render("Made by TheHive's documented scripts")+
			m.st.faint.Render(fmt.Sprintf(" — %s in %s (no hashes: verified by reading every archive whole)", plural(len(p.list.Documented), "backup"), p.list.DocumentedWhere)), "")...)
		for i, b := range p.list.Documented {
			row(len(p.list.Backups)+i, b)
		}
	} else if p.list.DocumentedNote != "" {
		lines = append(lines, "")
		for _, l := range m.wrapped(p.list.DocumentedNote, "  ") {
			lines = append(lines, m.st.faint.Render(l))
		}
	}
	if b, ok := p.selected(); ok {
		from := ""
		if p.cursor >= len(p.list.Backups) {
			from = " (documented scripts, " + p.list.DocumentedWhere + ")"
		}
		lines = append(lines, "")
		lines = append(lines, m.wrapped(fmt.Sprintf("Selected: %s%s, taken %s, %s: %s", b.ID, from, m.taken(b.Started),
			steps.HumanBytes(b.Size), strings.Join(b.Components, ", ")), "  ")...)
		for _, l := range m.wrapped("Next: enter shows the plan; the backup is verified first and nothing changes before the gates.", "  ") {
			lines = append(lines, m.st.faint.Render(l))
		}
	}
	if m.notice != "" {
		lines = append(lines, "", m.notice)
	}
	room := m.height - len(head) - 1
	start := 0
	if sel >= room {
		start = sel - room + 2
	}
	lines = lines[min(start, len(lines)):]
	return m.bottom(append(head, lines...), m.help("↑/↓", "choose", "enter", "review the restore", "esc", "back", "q", "quit"))
}

// restoreHeader is the line Plan review shows for a restore: the backup.
func (m model) restoreHeader() []string {
	r := m.restore
	if r == nil {
		return nil
	}
	line := fmt.Sprintf("Backup %s · taken %s · %s · %s", r.BackupID, m.taken(r.Taken), steps.HumanBytes(r.Size), strings.Join(r.Components, ", "))
	return m.wrapped(line, "")
}

// wrapped wraps text to the screen at spaces (never inside a backup ID or
// a path, never between a number and its unit), the lines after the first
// indented.
func (m model) wrapped(text, indent string) []string {
	w := max(20, m.width-1)
	lead := text[:len(text)-len(strings.TrimLeft(text, " "))]
	var words []string
	for _, word := range strings.Fields(text) {
		if n := len(words); n > 0 && byteUnits[strings.TrimRight(ansi.Strip(word), "),;.")] {
			words[n-1] += " " + word
			continue
		}
		words = append(words, word)
	}
	var out []string
	line, empty := lead, true
	for _, word := range words {
		if !empty && ansi.StringWidth(line)+1+ansi.StringWidth(word) > w {
			out = append(out, line)
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	return append(out, line)
}

// hang puts prefix, kept as it is, before text wrapped to the rest of the
// screen, the following lines indented under the text.
func (m model) hang(prefix, text string) []string {
	pw := ansi.StringWidth(prefix)
	in := m
	in.width = m.width - pw
	lines := in.wrapped(text, "")
	for i := range lines {
		if i == 0 {
			lines[i] = prefix + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", pw) + lines[i]
		}
	}
	return lines
}

// byteUnits are the units of steps.HumanBytes, kept with their number.
var byteUnits = map[string]bool{"B": true, "KiB": true, "MiB": true, "GiB": true, "TiB": true, "PiB": true}

// restorePanel is what the restore has proven so far: the backup verified
// (the checks of the verify step) and the topologies compared (the check's
// verdict with the load path, and the map current node ← backup node), cut
// to room lines.
func (m model) restorePanel(room int) []string {
	if m.restore == nil || room < 2 {
		return nil
	}
	var verify []string
	var bad []steps.CheckResult
	var topo *steps.CheckResult
	for i, c := range m.checks {
		switch m.component(c.StepID) {
		case steps.ComponentBackup:
			verify = append(verify, m.checkMark(c, true)+" "+c.Check)
			if c.Status != steps.CheckPass {
				bad = append(bad, c)
			}
		case steps.ComponentTopology:
			if c.Check == "topology" || topo == nil {
				topo = &m.checks[i]
			}
		}
	}
	if len(verify) == 0 && topo == nil {
		return nil
	}
	out := []string{m.st.header.Render("Restore of " + m.restore.BackupID)}
	if len(verify) > 0 {
		out = append(out, "  verified: "+strings.Join(verify, " · "))
		for _, c := range bad {
			out = append(out, fmt.Sprintf("    %s %s: %s", m.checkMark(c, true), c.Check, c.Evidence))
		}
	}
	if topo != nil {
		out = append(out, fmt.Sprintf("  topology: %s %s", m.checkMark(*topo, true), topo.Evidence))
		for _, l := range m.topoMap {
			out = append(out, "    "+l)
		}
	}
	if len(out) > room {
		hidden := len(out) - room + 1
		out = append(out[:room-1], m.st.faint.Render(fmt.Sprintf("    … %d more lines in the log", hidden)))
	}
	return out
}

// restoreSummary is the Summary of a finished restore: the success line,
// the report, the map and what to do next.
func (m model) restoreSummary() []string {
	r := m.restore
	var b []string
	b = append(b, m.st.ok.Render(steps.SuccessLine))
	b = append(b, fmt.Sprintf("Backup %s, taken %s, %s", r.BackupID, m.taken(r.Taken), steps.HumanBytes(r.Size)))
	for _, l := range r.Report {
		b = append(b, m.wrapped("  "+l, "    ")...)
	}
	if r.LoadedWith != "" || len(m.topoMap) > 0 {
		head := "Topology"
		if r.LoadedWith != "" {
			head += ": keyspace loaded with " + r.LoadedWith
		}
		if len(m.topoMap) > 0 {
			head += " (current node ← backup node)"
		}
		b = append(b, m.wrapped(head, "  ")...)
		for _, l := range m.topoMap {
			b = append(b, "  "+l)
		}
	}
	b = append(b, "", "Next: open TheHive and check recent cases and attachments · take a fresh backup (Home: Back up now)")
	return b
}
