package alien4cloud

import "testing"

// TestMaintenanceLeftBy: the message a backup writes into maintenance
// mode's log is recognised by a later run, and no other message is.
func TestMaintenanceLeftBy(t *testing.T) {
	for _, c := range []struct{ message, want, run string }{
		{maintenanceMessage("hotsnap-20261205-171500-ab12", "20261205-171500-0c0ffe"), "hotsnap run 20261205-171500-0c0ffe (backup hotsnap-20261205-171500-ab12)", "20261205-171500-0c0ffe"},
		{"Maintenance mode enabled", "", ""},
		{"hotsnap backup not-an-id (run 20261205-171500-0c0ffe): copying", "", ""},
		{"hotsnap backup hotsnap-20261205-171500-ab12", "", ""},
		{"", "", ""},
	} {
		if got, run := maintenanceLeftBy(c.message); got != c.want || run != c.run {
			t.Errorf("maintenanceLeftBy(%q) = %q, %q; want %q, %q", c.message, got, run, c.want, c.run)
		}
	}
}
