package es

import (
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/config"
)

// TestLoginRemedy: 401 with and without a user and 403 each get their own
// remedy; the remedy names the password's reference, never its value.
func TestLoginRemedy(t *testing.T) {
	es := &config.Elasticsearch{URL: "http://127.0.0.1:9200", Username: "elastic", Password: config.Secret{Kind: config.SecretFile, Ref: "/etc/hotsnap/es"}}
	for _, c := range []struct {
		es     *config.Elasticsearch
		status int
		want   string
	}{
		{es, 401, "Elasticsearch refused the login of elastic: the password of elasticsearch.password (file:/etc/hotsnap/es) is not elastic's"},
		{&config.Elasticsearch{}, 401, "Elasticsearch requires a login (security is on): set elasticsearch.username and elasticsearch.password"},
		{&config.Elasticsearch{Username: "elastic"}, 401, "Elasticsearch refused the login of elastic without a password: set elasticsearch.password"},
		{es, 403, "Elasticsearch's user elastic may not do this"},
		{es, 502, "check elasticsearch.url"},
	} {
		if got := loginRemedy(c.es, c.status); !strings.HasPrefix(got, c.want) {
			t.Errorf("%d: %q, want %q…", c.status, got, c.want)
		}
	}
}
