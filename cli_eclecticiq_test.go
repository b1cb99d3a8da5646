package main

import (
	"strings"
	"testing"
)

// TestEclecticIQPlans: plan shows EclecticIQ's runbooks (seed 003's order,
// the quoted workers' glob, pg_dumpall as postgres, the restore's psql)
// and contacts nothing; --hot is EclecticIQ's, refused for TheHive.
func TestEclecticIQPlans(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	inv, accepted := listeningInventory(t, "eclecticiq")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"plan", "preflight"}, []string{`systemctl list-units --all --plain --no-legend --no-pager '\''eclecticiq-*'\''`, "pg_dumpall --version", "REDISCLI_AUTH"}},
		{[]string{"plan", "backup"}, []string{"systemctl stop eclecticiq-platform-backend-services", `systemctl stop '\''eclecticiq-platform-backend-worker*.service'\''`,
			"runuser -u postgres -- pg_dumpall -p 5432", "eclecticiq-platform-backend-workers"}},
		{[]string{"plan", "restore"}, []string{"DROP DATABASE IF EXISTS", "psql -p 5432 -X -q -o /dev/null -d postgres -f -", "search upgrade", "systemctl daemon-reload"}},
	} {
		out, code := runCLI(t, append(c.args, "-i", inv)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", c.args, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: the plan lacks %q:\n%s", c.args, w, out)
			}
		}
	}
	if n := accepted(); n != 0 {
		t.Errorf("planning contacted the node %d times", n)
	}
	out, code := runCLI(t, "backup", "--one-node", "--yes", "--no-tui", "-i", inv)
	if code != exitUsage || !strings.Contains(out, "platform eclecticiq has no --one-node") {
		t.Errorf("backup --one-node on EclecticIQ: exit %d\n%s", code, out)
	}
}
