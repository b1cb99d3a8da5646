package es

import "testing"

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"8.17.3", "8.17.3", false}, {"8.9.0", "8.17.3", true}, {"9.0.0", "8.17.3", false}, {"7.17.1", "8.0.0", true}, {"2.19.1", "2.9.0", false}} {
		if got := versionLess(c.a, c.b); got != c.less {
			t.Errorf("versionLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
}
