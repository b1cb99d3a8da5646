package main

import "testing"

func TestDetectFrom(t *testing.T) {
	for _, tt := range []struct{ out, want string }{
		{"f /etc/thehive/application.conf\nd\n", "thehive"},
		{"f /etc/eclecticiq/platform_settings.py\n", "eclecticiq"},
		{"d\n", "alien4cloud"},
		{"f /opt/alien4cloud/config/config.yml\n", "alien4cloud"},
		{"", ""},
	} {
		if got := detectFrom(tt.out).Platform; got != tt.want {
			t.Errorf("detectFrom(%q) = %q, want %q", tt.out, got, tt.want)
		}
	}
	if pf := detectFrom("f /opt/alien4cloud/config/config.yml\nd\n"); pf.Alien4CloudConfig != "/opt/alien4cloud/config/config.yml" || pf.Alien4CloudDataDir == "" {
		t.Errorf("alien4cloud files: %+v", pf)
	}
}
