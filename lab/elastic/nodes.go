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
	roles := []any{"data", "master"}
	if s.c.es6() {
		roles = []any{"master", "data", "ingest"} // 6.x order, as captured from 6.8.11
	}
	nodes := obj{}
	if err := s.c.update(func(st *state) error {
		for _, n := range s.c.liveNodes(st) {
			o := obj{{"name", n.Name}, {"transport_address", "127.0.0.1:9300"}, {"host", "127.0.0.1"}, {"ip", "127.0.0.1"},
				{"version", s.c.version()}}
			if s.c.es6() {
				o = o.add("build_flavor", "default").add("build_type", "rpm").add("build_hash", "71fcb50")
			}
			o = o.add("roles", roles)
			if s.c.es6() {
				o = o.add("attributes", obj{{"ml.machine_memory", "8254390272"}, {"xpack.installed", "true"},
					{"ml.max_open_jobs", "20"}, {"ml.enabled", "true"}})
			}
			nodes = nodes.add(n.ID, o.add("settings", obj{{"cluster", obj{{"name", s.c.opts.ClusterName}}}, {"node", obj{{"name", n.Name}}}, {"path", path}}))
		}
		return nil
	}); err != nil {
		rc.fail(err)
		return
	}
	rc.json(http.StatusOK, obj{{"_nodes", obj{{"total", len(nodes)}, {"successful", len(nodes)}, {"failed", 0}}},
		{"cluster_name", s.c.opts.ClusterName}, {"nodes", nodes}})
}
