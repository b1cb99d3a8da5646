// Package alien4cloud is Alien4Cloud 3.x's runbooks: the preflight
// (preflight.go), the backup (backup.go) and the guided restore
// (restore.go) that the documented backup/restore tool's page (seed 004)
// describes — an Elasticsearch snapshot of its indices and a copy of the
// uploaded content — done as Alien4Cloud's own source shows it should be:
// its configuration read on the node (site.go), its maintenance mode kept
// on while the data is copied, its per-class indices discovered (never
// _all), the data directory without its transient folders, the
// configuration files saved too, and what `hotsnap init` reads on an
// Alien4Cloud node (discover.go).
package alien4cloud
