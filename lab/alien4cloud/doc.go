// Package alien4cloud is the practice lab's Alien4Cloud 3.x stand-in and
// what an Alien4Cloud node holds besides it: the configuration files in
// their places (alien4cloud-config.yml, the a4c.env the unit sources,
// log4j2.xml, the SSL keystore, elasticsearch.yml, the unit file) and the
// data directory (directories.alien) with CSARs, artifacts, images, plugins
// and git repositories.
//
// The stand-in ("a4c-standin", started by the lab's alien4cloud.sh under
// the systemctl shim as unit a4c, user a4c) behaves as Alien4Cloud's source
// shows (alien4cloud/alien4cloud 3.7.0):
//
//   - at start it waits for Elasticsearch, creates every missing per-class
//     index with the configured shard and replica counts
//     (ESIndexMapper.initIndices), waits for green, creates the admin user
//     from alien_security.admin when no such user exists, and loads the
//     maintenance state from index maintenancemodestate, document mms_id
//     (MaintenanceModeService.init); only then does it listen, as Spring
//     Boot starts Jetty last. While Elasticsearch does not answer it logs
//     NoNodeAvailableException and retries (the real one exits and systemd's
//     Restart=on-failure starts it again).
//   - GET /rest/admin/health is Spring Boot 1.5's actuator: {"status":"UP"},
//     no authentication, allowed during maintenance.
//   - POST /login (form username/password) answers 302 with a JSESSIONID
//     cookie (Spring Security form login); REST calls authenticate with it.
//   - /rest/{,v1/,latest/}maintenance: GET the state, POST enable (201),
//     PUT update (201), DELETE disable, with A4C's RestResponse bodies and
//     error codes (502 already enabled, 504 not enabled, 100 not logged in).
//     The state is written to Elasticsearch and kept in memory, as the real
//     service does: a restore underneath a running service is only seen at
//     its next start. While it is enabled every other /rest/ call answers
//     503 {"data":null,"error":{"code":0,"message":"Maintenance mode is enabled."}}.
//   - In embedded mode (elasticSearch.client and transportClient false) the
//     stand-in holds Elasticsearch itself, configured by elasticsearch.yml
//     (path.home, http.port, cluster.name, path.repo): stopping Alien4Cloud
//     stops Elasticsearch.
//
// Deviations: the real client speaks the transport protocol to
// elasticSearch.hosts (port 9300); the stand-in speaks HTTP to the same
// hosts on port 9200. Fault switches (a JSON file the stand-in reads when
// it needs them, see Faults): a service that ignores SIGTERM, and a
// maintenance mode that cannot be set because Elasticsearch refuses the
// write.
package alien4cloud
