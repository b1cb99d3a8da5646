package elastic

import "net/http"

// nodesSettings answers GET /_nodes/settings: every live node with its
// settings, nested as Elasticsearch renders them without flat_settings
// (path.repo as a list). Each node reports the path.repo of the daemon
// answering: the lab starts every node with the same one.
func (s *server) nodesSettings(rc *reqCtx) {
	path := obj{{"logs", "/var/log/elasticsearch"}, {"home", "/usr/share/elasticsearch"}}
	if len(s.c.opts.PathRepo) > 0 {
		repo := make([]any, len(s.c.opts.PathRepo))
		for i, p := range s.c.opts.PathRepo {
			repo[i] = p
		}
		path = path.add("repo", repo)
	}
	nodes := obj{}
	if err := s.c.update(func(st *state) error {
		for _, n := range s.c.liveNodes(st) {
			nodes = nodes.add(n.ID, obj{{"name", n.Name}, {"transport_address", "127.0.0.1:9300"}, {"host", "127.0.0.1"}, {"ip", "127.0.0.1"},
				{"version", s.c.version()}, {"roles", []any{"data", "master"}},
				{"settings", obj{{"cluster", obj{{"name", s.c.opts.ClusterName}}}, {"node", obj{{"name", n.Name}}}, {"path", path}}}})
		}
		return nil
	}); err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"_nodes", obj{{"total", len(nodes)}, {"successful", len(nodes)}, {"failed", 0}}},
		{"cluster_name", s.c.opts.ClusterName}, {"nodes", nodes}})
}
