package thehive

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// isGlob reports whether a unit argument is a glob (systemd's
// string_is_glob: it holds *, ? or [).
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// expand turns unit arguments into unit names (without ".service") the
// way systemctl's expand_unit_names does: plain names are kept (in order),
// then each glob is matched against the loaded units' full names
// ("x.service"), which systemd does in the manager, so only loaded units
// match. globbed reports whether any argument was a glob.
func (c *systemctl) expand(args []string) (names []string, globbed bool, err error) {
	var globs []string
	for _, a := range args {
		if isGlob(a) {
			globs = append(globs, a)
			continue
		}
		names = append(names, strings.TrimSuffix(a, ".service"))
	}
	if len(globs) == 0 {
		return names, false, nil
	}
	loaded, err := InstalledUnits(c.dir)
	if err != nil {
		return nil, true, err
	}
	for _, n := range loaded {
		if matchAny(globs, n+".service") {
			names = append(names, n)
		}
	}
	return names, true, nil
}

// matchAny reports whether id matches one of the fnmatch patterns.
func matchAny(patterns []string, id string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, id); err == nil && ok {
			return true
		}
	}
	return false
}

// listOpts are list-units' options.
type listOpts struct {
	all, plain, legend bool
	types, states      []string
}

// unitRow is one row of list-units.
type unitRow struct {
	id, load, active, sub, description string
}

// listUnits prints `systemctl list-units [PATTERN...]` as systemd 252
// does (systemctl-list-units.c, format-table.c, output not a terminal):
// the units in memory matching the patterns (fnmatch on the full name, no
// ".service" added), inactive ones only with --all or --state; sorted by
// type then name, case-insensitively; a glyph column (● for failed units,
// "*" outside a UTF-8 locale) unless --plain; columns one space apart, the
// last one not padded; header, legend and footer unless --no-legend.
func (c *systemctl) listUnits(patterns []string, o listOpts) int {
	var rows []unitRow
	if len(o.types) == 0 || slices.Contains(o.types, "service") {
		names, err := InstalledUnits(c.dir)
		if err != nil && !os.IsNotExist(err) {
			fmt.Fprintf(c.stderr, "Failed to list units: %v\n", err)
			return exitFailure
		}
		for _, n := range names {
			id := n + ".service"
			if len(patterns) > 0 && !matchAny(patterns, id) {
				continue
			}
			u, err := ReadUnit(c.dir, n)
			if err != nil {
				continue
			}
			st, err := currentState(paths{c.dir, u.Name})
			if err != nil {
				continue
			}
			r := unitRow{id: id, load: "loaded", active: st.Active, sub: st.Sub, description: u.Description}
			if r.sub == "" {
				r.sub = "dead"
			}
			if len(o.states) > 0 {
				if !slices.Contains(o.states, r.active) && !slices.Contains(o.states, r.sub) && !slices.Contains(o.states, r.load) {
					continue
				}
			} else if !o.all && r.active == stateInactive {
				continue
			}
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b unitRow) int {
		return strings.Compare(strings.ToLower(a.id), strings.ToLower(b.id))
	})
	fmt.Fprint(c.stdout, formatUnitTable(rows, o, utf8Locale()))
	return exitOK
}

// formatUnitTable renders list-units' table, legend and footer.
func formatUnitTable(rows []unitRow, o listOpts, utf8Glyphs bool) string {
	circle := "●"
	if !utf8Glyphs {
		circle = "*"
	}
	table := [][]string{}
	if o.legend {
		table = append(table, []string{"", "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION"})
	}
	for _, r := range rows {
		g := " "
		if r.active == stateFailed && !o.plain {
			g = circle
		}
		table = append(table, []string{g, r.id, r.load, r.active, r.sub, r.description})
	}
	first := 0
	if o.plain {
		first = 1
	}
	widths := make([]int, 6)
	for _, line := range table {
		for i, cell := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, line := range table {
		var l strings.Builder
		for i := first; i < len(line); i++ {
			if i > first {
				l.WriteByte(' ')
			}
			l.WriteString(line[i])
			if pad := widths[i] - utf8.RuneCountInString(line[i]); i < len(line)-1 && pad > 0 {
				l.WriteString(strings.Repeat(" ", pad))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	if !o.legend {
		return b.String()
	}
	if len(rows) > 0 {
		b.WriteString("\nLOAD   = Reflects whether the unit definition was properly loaded.\n" +
			"ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n" +
			"SUB    = The low-level unit activation state, values depend on unit type.\n\n")
	}
	switch {
	case o.all || slices.Contains(o.states, stateInactive):
		fmt.Fprintf(&b, "%d loaded units listed.\nTo show all installed unit files use 'systemctl list-unit-files'.\n", len(rows))
	case len(o.states) == 0:
		fmt.Fprintf(&b, "%d loaded units listed. Pass --all to see loaded but inactive units, too.\n"+
			"To show all installed unit files use 'systemctl list-unit-files'.\n", len(rows))
	default:
		fmt.Fprintf(&b, "%d loaded units listed.\n", len(rows))
	}
	return b.String()
}

// utf8Locale reports whether the locale (LC_ALL, LC_CTYPE, LANG, first
// set wins) is UTF-8, which is when systemd draws "●" rather than "*".
func utf8Locale() bool {
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := os.Getenv(k); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}
