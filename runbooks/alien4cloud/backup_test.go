package alien4cloud

import "testing"

// TestMaintenanceLeftBy: the message a backup writes into maintenance
// mode's log is recognised by a later run, and no other message is.
func TestMaintenanceLeftBy(t *testing.T) {
	for _, c := range []struct{ message, want string }{
		{maintenanceMessage("hotsnap-20261205-171500-ab12", "20261205-171500-0c0ffe"), "hotsnap run 20261205-171500-0c0ffe (backup hotsnap-20261205-171500-ab12)"},
		{"Maintenance mode enabled", ""},
		{"hotsnap backup not-an-id (run 20261205-171500-0c0ffe): copying", ""},
		{"hotsnap backup hotsnap-20261205-171500-ab12", ""},
		{"", ""},
	} {
		if got := maintenanceLeftBy(c.message); got != c.want {
			t.Errorf("maintenanceLeftBy(%q) = %q, want %q", c.message, got, c.want)
		}
	}
}
