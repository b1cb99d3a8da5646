package parse

import (
	"fmt"
	"strings"
)

// ListedUnit is one row of `systemctl list-units`.
type ListedUnit struct {
	Unit        string // "eclecticiq-platform-backend-worker@common.service"
	Load        string // loaded, not-found, masked …
	Active      UnitActiveState
	Sub         string // running, exited, dead …
	Description string
}

// ParseListUnits reads `systemctl list-units [--all] [--plain]
// [--no-legend] PATTERN…`: a header line ("UNIT LOAD ACTIVE SUB
// DESCRIPTION"), the "●" that marks a failed or not-found unit, the legend
// and the "N loaded units listed." footer are skipped wherever they come.
func ParseListUnits(text string) ([]ListedUnit, error) {
	var out []ListedUnit
	for i, l := range lines(text) {
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "●"))
		if t == "" {
			continue
		}
		f := strings.Fields(t)
		switch {
		case f[0] == "UNIT" && len(f) > 1 && f[1] == "LOAD":
			continue
		case strings.Contains(f[0], "=") || strings.HasSuffix(t, "units listed.") || strings.Contains(t, "units listed. ") ||
			strings.HasPrefix(t, "To show all") || strings.HasPrefix(t, "Pass --all"):
			continue
		case f[0] == "LOAD" || f[0] == "ACTIVE" || f[0] == "SUB":
			continue
		}
		if len(f) < 4 || !strings.Contains(f[0], ".") {
			return nil, unexpected("systemctl list-units", i+1, l)
		}
		st := UnitActiveState(f[2])
		if !knownUnitStates[st] {
			return nil, fmt.Errorf("systemctl list-units: line %d: unknown state %q: %w", i+1, clip(f[2]), ErrUnexpectedLine)
		}
		out = append(out, ListedUnit{Unit: f[0], Load: f[1], Active: st, Sub: f[3], Description: strings.Join(f[4:], " ")})
	}
	return out, nil
}

// ParseIsActiveMany reads `systemctl is-active UNIT|GLOB…`: one state
// word per unit (per loaded instance, for a glob); a glob that matches
// nothing prints nothing and exits 4 (sample
// systemctl-is-active-multi-and-glob-DERIVED).
func ParseIsActiveMany(text string) ([]UnitActiveState, error) {
	var out []UnitActiveState
	for i, l := range lines(text) {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		st := UnitActiveState(t)
		if !knownUnitStates[st] {
			return nil, unexpected("systemctl is-active", i+1, l)
		}
		out = append(out, st)
	}
	return out, nil
}
