package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is this module's path.
const module = "github.com/hotsnap/hotsnap"

// listedPackage is what `go list -json` says of a package that the import
// rules read.
type listedPackage struct {
	ImportPath string
	Imports    []string // direct, without tests
	Deps       []string // transitive, without tests
}

// layer says what a package of this module is for the import rules.
func layer(path string) string {
	rel, ok := strings.CutPrefix(path, module)
	switch {
	case !ok:
		return ""
	case rel == "":
		return "main"
	case rel == "/steps":
		return "engine"
	case rel == "/steps/parse":
		return "parse"
	case rel == "/steps/stepstest":
		return "testhelper"
	case strings.HasPrefix(rel, "/steps/"):
		return "component"
	case rel == "/runbooks":
		return "registry"
	case rel == "/runbooks/runbooktest":
		return "runbooktest"
	case strings.HasPrefix(rel, "/runbooks/"):
		return "runbook"
	case rel == "/ui" || strings.HasPrefix(rel, "/ui/"):
		return "ui"
	case rel == "/lab" || strings.HasPrefix(rel, "/lab/"):
		return "lab"
	}
	return "other" // config, remote, repo
}

// importViolations lists the breaches of the layout's import rules (README,
// "Layout"): steps imports no component, runbook or ui; steps/parse only
// the standard library; a component never imports another component or a
// runbook; a runbook never imports another runbook or ui; ui never imports
// runbooks or components; lab is imported only by main (and tests, which
// these lists leave out).
func importViolations(pkgs []listedPackage) []string {
	var out []string
	breach := func(p listedPackage, dep, why string) {
		out = append(out, p.ImportPath+" imports "+dep+": "+why)
	}
	for _, p := range pkgs {
		from := layer(p.ImportPath)
		if from == "" {
			continue
		}
		if from == "parse" {
			for _, imp := range p.Imports {
				if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
					breach(p, imp, "steps/parse uses the standard library only")
				}
			}
		}
		for _, dep := range p.Deps {
			to := layer(dep)
			switch {
			case to == "":
			case from == "engine" && (to == "component" || to == "registry" || to == "runbook" || to == "ui"):
				breach(p, dep, "the engine imports no component, runbook or ui")
			case from == "component" && to == "component" && !strings.HasPrefix(dep, p.ImportPath+"/"):
				breach(p, dep, "a component never imports another component")
			case from == "component" && (to == "registry" || to == "runbook"):
				breach(p, dep, "a component never imports a runbook")
			case from == "runbook" && to == "runbook" && !strings.HasPrefix(dep, p.ImportPath+"/"):
				breach(p, dep, "a runbook never imports another runbook")
			case (from == "runbook" || from == "registry") && to == "ui":
				breach(p, dep, "a runbook never imports ui")
			case from == "registry" && to == "runbook":
				breach(p, dep, "the registry's package imports no platform (main registers them)")
			case from == "ui" && (to == "registry" || to == "runbook" || to == "component"):
				breach(p, dep, "ui never imports runbooks or components")
			case to == "lab" && from != "main" && from != "lab":
				breach(p, dep, "lab is imported only by main and tests")
			}
		}
	}
	return out
}

// TestImportRules runs the rules on this module's packages, as `go list`
// sees them.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	var layers []string
	for _, p := range pkgs {
		layers = append(layers, layer(p.ImportPath))
	}
	for _, want := range []string{"main", "engine", "parse", "component", "registry", "runbook", "ui", "lab"} {
		if !slices.Contains(layers, want) {
			t.Errorf("go list found no %s package: the rules would check nothing", want)
		}
	}
	for _, v := range importViolations(pkgs) {
		t.Error(v)
	}
}

// TestImportRulesCatchWrongArrows: each wrong arrow, on a made-up import
// list, is a violation; the arrows the layout allows are not.
func TestImportRulesCatchWrongArrows(t *testing.T) {
	const m = module
	for _, c := range []struct {
		from string
		deps []string
		want string // "" for none
	}{
		{m + "/steps", []string{m + "/config", m + "/remote", m + "/repo", m + "/steps/parse"}, ""},
		{m + "/steps", []string{m + "/steps/cassandra"}, "the engine imports no component"},
		{m + "/steps", []string{m + "/runbooks/thehive"}, "the engine imports no component, runbook or ui"},
		{m + "/steps", []string{m + "/ui"}, "the engine imports no component, runbook or ui"},
		{m + "/steps/cassandra", []string{m + "/steps", m + "/steps/parse"}, ""},
		{m + "/steps/cassandra", []string{m + "/steps/es"}, "a component never imports another component"},
		{m + "/steps/cassandra", []string{m + "/runbooks"}, "a component never imports a runbook"},
		{m + "/runbooks/thehive", []string{m + "/runbooks", m + "/steps/cassandra", m + "/steps/es"}, ""},
		{m + "/runbooks/thehive", []string{m + "/runbooks/eclecticiq"}, "a runbook never imports another runbook"},
		{m + "/runbooks/thehive", []string{m + "/ui"}, "a runbook never imports ui"},
		{m + "/runbooks", []string{m + "/runbooks/thehive"}, "imports no platform"},
		{m + "/ui", []string{m + "/steps"}, ""},
		{m + "/ui", []string{m + "/runbooks/thehive"}, "ui never imports runbooks or components"},
		{m + "/ui", []string{m + "/steps/es"}, "ui never imports runbooks or components"},
		{m + "/repo", []string{m + "/lab"}, "lab is imported only by main"},
		{m, []string{m + "/lab", m + "/runbooks/thehive"}, ""},
	} {
		got := strings.Join(importViolations([]listedPackage{{ImportPath: c.from, Deps: c.deps}}), "; ")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s → %v: violations %q, want %q", c.from, c.deps, got, c.want)
		}
	}
	parse := listedPackage{ImportPath: m + "/steps/parse", Imports: []string{"encoding/json", "github.com/goccy/go-yaml"}}
	if got := strings.Join(importViolations([]listedPackage{parse}), "; "); !strings.Contains(got, "standard library only") {
		t.Errorf("steps/parse importing a module: %q", got)
	}
}
