// Package realoutput reads the real-output samples the lab's tests keep in
// their testdata (copies of ../shared/reference/real-outputs/…): a sample
// is the tool's output verbatim under a few provenance lines.
package realoutput

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// provenance matches a provenance line: "# source…", "# kind…",
// "# command…", "# use…" and their indented continuations ("#   …").
var provenance = regexp.MustCompile(`^# (source|kind|command|use)\b|^#  `)

// Read returns the sample at path without its leading provenance lines,
// and those lines. A sample without them is an error.
func Read(path string) (body, header string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("sample: %w", err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	i := 0
	for i < len(lines) && provenance.MatchString(lines[i]) {
		i++
	}
	if i == 0 {
		return "", "", fmt.Errorf("sample %s: no provenance header", path)
	}
	return strings.Join(lines[i:], ""), strings.Join(lines[:i], ""), nil
}
