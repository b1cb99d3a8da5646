package ui

import (
	"charm.land/lipgloss/v2"
)

// styles are the wizard's looks. Colour only ever repeats what a word or a
// symbol already says (✓ PASS, ✗ FAIL), so NO_COLOR and monochrome
// terminals lose nothing; Bubble Tea drops the colours itself when the
// terminal or NO_COLOR asks for it.
type styles struct {
	title, faint, bold, sel, key   lipgloss.Style
	ok, warn, fail, run, destr     lipgloss.Style
	box, gateBox, failBox, okBox   lipgloss.Style
	header                         lipgloss.Style
	disabled                       lipgloss.Style
	barFull, barEmpty, barFullFail lipgloss.Style
}

func newStyles(dark bool) styles {
	c := lipgloss.LightDark(dark)
	green := c(lipgloss.Color("#1a7f37"), lipgloss.Color("#3fb950"))
	yellow := c(lipgloss.Color("#9a6700"), lipgloss.Color("#d29922"))
	red := c(lipgloss.Color("#cf222e"), lipgloss.Color("#f85149"))
	blue := c(lipgloss.Color("#0969da"), lipgloss.Color("#58a6ff"))
	grey := c(lipgloss.Color("#6e7781"), lipgloss.Color("#8b949e"))
	border := lipgloss.RoundedBorder()
	return styles{
		title:       lipgloss.NewStyle().Bold(true).Foreground(blue),
		header:      lipgloss.NewStyle().Bold(true),
		faint:       lipgloss.NewStyle().Foreground(grey),
		bold:        lipgloss.NewStyle().Bold(true),
		sel:         lipgloss.NewStyle().Bold(true).Foreground(blue),
		key:         lipgloss.NewStyle().Bold(true),
		ok:          lipgloss.NewStyle().Foreground(green),
		warn:        lipgloss.NewStyle().Foreground(yellow),
		fail:        lipgloss.NewStyle().Foreground(red).Bold(true),
		run:         lipgloss.NewStyle().Foreground(blue).Bold(true),
		destr:       lipgloss.NewStyle().Foreground(red).Bold(true),
		disabled:    lipgloss.NewStyle().Foreground(grey).Strikethrough(false),
		box:         lipgloss.NewStyle().Border(border).BorderForeground(grey).Padding(0, 1),
		gateBox:     lipgloss.NewStyle().Border(lipgloss.ThickBorder()).BorderForeground(yellow).Padding(0, 1),
		failBox:     lipgloss.NewStyle().Border(lipgloss.ThickBorder()).BorderForeground(red).Padding(0, 1),
		okBox:       lipgloss.NewStyle().Border(border).BorderForeground(green).Padding(0, 1),
		barFull:     lipgloss.NewStyle().Foreground(blue),
		barEmpty:    lipgloss.NewStyle().Foreground(grey),
		barFullFail: lipgloss.NewStyle().Foreground(red),
	}
}
