package config

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// Alien4Cloud's defaults, as alien4cloud-spray installs Alien4Cloud 3.x.
const (
	// DefaultA4CURL is server.port 8088 on the Alien4Cloud node's loopback.
	DefaultA4CURL = "http://127.0.0.1:8088"
	// DefaultA4CUser is alien_security.admin.username.
	DefaultA4CUser = "admin"
	// DefaultA4CConfig is spray's alien4cloud-config.yml (a4c_install_dir
	// /opt/a4c, the unit's WorkingDirectory /opt/a4c/alien4cloud).
	DefaultA4CConfig = "/opt/a4c/alien4cloud/config/alien4cloud-config.yml"
	// DefaultA4CService is spray's systemd unit.
	DefaultA4CService = "a4c"
)

// Alien4Cloud holds the settings of platform alien4cloud: how hotsnap
// reaches its REST API (maintenance mode, health), where its configuration
// is, and what else to save with it.
type Alien4Cloud struct {
	// URL is the REST API as seen from the alien4cloud node (through its
	// SSH tunnel), default DefaultA4CURL.
	URL string
	// Username and Password log in (form login) to turn maintenance mode
	// on and off; Username defaults to admin.
	Username string
	Password Secret
	// Config is alien4cloud-config.yml on the alien4cloud node (default
	// DefaultA4CConfig): directories.alien and elasticSearch.* are read
	// from it, and its folder is saved with the backup.
	Config string
	// DataDir overrides directories.alien (a node's
	// paths.alien4cloud_data overrides both).
	DataDir string
	// Service is the systemd unit (default DefaultA4CService).
	Service string
	// ExtraFiles are more files of the alien4cloud node saved with the
	// configuration (absolute paths).
	ExtraFiles []string
}

// unitRE is what a systemd unit name may be here: no blank, quote or
// shell metacharacter.
var unitRE = boundedName(`^[A-Za-z0-9][A-Za-z0-9:_.@-]*$`, 128)

// validUnit checks a systemd unit name.
func validUnit(s string) error {
	if !unitRE.MatchString(s) {
		return fmt.Errorf("%q is not a systemd unit name: use letters, digits and : _ . @ -", s)
	}
	return nil
}

// alien4cloud decodes the alien4cloud section.
func (d *decoder) alien4cloud(path string, n ast.Node) *Alien4Cloud {
	a := &Alien4Cloud{}
	d.mapping(path, n, []field{
		{"url", func(p string, v ast.Node) { a.URL, _ = d.checked(p, v, validHTTPURL) }},
		{"username", func(p string, v ast.Node) { a.Username, _ = d.checked(p, v, validAccountName) }},
		{"password", func(p string, v ast.Node) { a.Password = d.secret(p, v) }},
		{"config", func(p string, v ast.Node) { a.Config, _ = d.checked(p, v, validRemotePath) }},
		{"data_dir", func(p string, v ast.Node) { a.DataDir, _ = d.checked(p, v, validRemotePath) }},
		{"service", func(p string, v ast.Node) { a.Service, _ = d.checked(p, v, validUnit) }},
		{"extra_files", func(p string, v ast.Node) { a.ExtraFiles, _ = d.list(p, v, validRemotePath) }},
	})
	return a
}

// validateAlien4Cloud checks what platform alien4cloud needs: a node with
// role alien4cloud, an elasticsearch section whose indices are discovered
// (no index named), and the admin password of the alien4cloud section; the
// section belongs to that platform only.
func (d *decoder) validateAlien4Cloud(inv *Inventory, at func(paths ...string) pos, keyPos func(string) pos) {
	if inv.Platform != PlatformAlien4Cloud {
		if inv.Alien4Cloud != nil && inv.Platform != "" {
			d.errorf(keyPos("alien4cloud"), "alien4cloud: is only used with platform alien4cloud (this inventory is %s): remove it", inv.Platform)
		}
		return
	}
	if len(inv.Nodes) > 0 && len(inv.NodesWithRole(RoleAlien4Cloud)) == 0 {
		d.errorf(at("nodes"), "nodes: platform alien4cloud needs a node with role alien4cloud (where the a4c service and its data directory are)")
	}
	if inv.Elasticsearch == nil {
		d.errorf(at("platform"), "platform: alien4cloud needs an elasticsearch section (url as seen from the nodes, repository, repository_path)")
	} else if d.has["elasticsearch.index"] {
		d.errorf(at("elasticsearch.index"), "elasticsearch.index: is not used for platform alien4cloud: its per-class indices are discovered on the cluster; remove it")
	}
	if inv.Alien4Cloud == nil || !d.has["alien4cloud.password"] {
		d.errorf(keyPos("alien4cloud.password"), "alien4cloud.password: is required for platform alien4cloud: the admin password hotsnap logs in with to turn maintenance mode on and off (env:NAME, file:PATH or prompt)")
	}
}

// applyDefaults fills the section's absent values.
func (a *Alien4Cloud) applyDefaults() {
	if a.URL == "" {
		a.URL = DefaultA4CURL
	}
	if a.Username == "" {
		a.Username = DefaultA4CUser
	}
	if a.Config == "" {
		a.Config = DefaultA4CConfig
	}
	if a.Service == "" {
		a.Service = DefaultA4CService
	}
}

// alien4cloud writes the alien4cloud section, when there is one.
func (w *yamlWriter) alien4cloud(a *Alien4Cloud) {
	if a == nil {
		return
	}
	w.blank()
	w.line(0, "alien4cloud:", "")
	w.str(1, "url", a.URL, "REST API as seen from the alien4cloud node")
	w.str(1, "username", a.Username, "logs in to turn maintenance mode on and off")
	w.secret(1, "password", a.Password, "")
	w.str(1, "config", a.Config, "alien4cloud-config.yml: directories.alien and elasticSearch.* are read from it")
	w.str(1, "data_dir", a.DataDir, "overrides directories.alien")
	w.str(1, "service", a.Service, "systemd unit")
	w.list(1, "extra_files", a.ExtraFiles, "saved with the configuration")
}
