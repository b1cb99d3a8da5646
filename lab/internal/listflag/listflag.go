// Package listflag parses the comma-separated list flags of the lab's
// stand-in daemons (--listen, --path-repo, --cql, --es...).
package listflag

import "strings"

// Split returns the non-empty, trimmed items of the comma-separated list s.
func Split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
