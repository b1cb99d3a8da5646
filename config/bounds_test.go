package config

import (
	"strings"
	"testing"
)

// TestNameLengthBounds: every name whose pattern leaves its length bound to
// the code is accepted at its longest and refused one byte longer.
func TestNameLengthBounds(t *testing.T) {
	ok := func(err error) bool { return err == nil }
	for _, c := range []struct {
		name  string
		max   int
		first string // the first byte of a valid name, then "a"s
		valid func(string) bool
	}{
		{"CQL identifier", 48, "a", func(s string) bool { return ok(ValidCQLIdentifier(s)) }},
		{"node name", 63, "a", func(s string) bool { return ok(ValidNodeName(s)) }},
		{"snapshot tag", 128, "a", func(s string) bool { return ok(ValidSnapshotTag(s)) }},
		{"S3 bucket", 63, "a", func(s string) bool { return ok(ValidS3BucketName(s)) }},
		{"cluster name", 64, "a", func(s string) bool { return ok(validClusterName(s)) }},
		{"user", 64, "a", func(s string) bool { return ok(validUser(s)) }},
		{"owner", 32, "a", func(s string) bool { return ok(validOwner(s + ":" + s)) }},
		{"environment variable", 128, "A", validEnvName},
		{"region", 63, "a", func(s string) bool { return ok(validRegion(s)) }},
		{"systemd unit", 128, "a", func(s string) bool { return ok(validUnit(s)) }},
		{"index pattern", 255, "a", func(s string) bool { return ok(validIndexPattern(s)) }},
		{"unit name", 200, "a", func(s string) bool { return ok(validUnitName(s)) }},
	} {
		longest := c.first + strings.Repeat("a", c.max-1)
		if !c.valid(longest) {
			t.Errorf("%s of %d bytes refused, the longest allowed", c.name, c.max)
		}
		if c.valid(longest + "a") {
			t.Errorf("%s of %d bytes accepted, longer than %d", c.name, c.max+1, c.max)
		}
	}
	// An S3 bucket name is at least 3 bytes.
	if ok(ValidS3BucketName("ab")) || !ok(ValidS3BucketName("abc")) {
		t.Error("S3 bucket names: 3 bytes at least")
	}
}
