package alien4cloud

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	a4c "github.com/hotsnap/hotsnap/steps/alien4cloud"
	"github.com/hotsnap/hotsnap/steps/service"
)

// transient are the data directory's folders that are no data: plugins
// unpacked at start (work/, "you must exclude the work directory",
// alien4cloud-data-migration-scripts), uploads in progress (upload/),
// temporary files (tmp/) and an embedded Elasticsearch's home (eshome/,
// spray's). The backup leaves them out; a restore leaves them in place
// while Alien4Cloud runs.
var transient = []string{"work", "upload", "tmp", "eshome"}

// dataComponent is what the data directory's steps work on.
const dataComponent = "data directory"

// site is what the configuration step reads on the Alien4Cloud node:
// alien4cloud-config.yml and the unit. The steps after it use it.
type site struct {
	env *steps.Env

	mu       sync.Mutex
	conf     *config.Alien4CloudConf
	dataDir  string
	user     string // the unit's User
	install  string // the unit's WorkingDirectory
	unitFile string // the unit's FragmentPath
}

func newSite(env *steps.Env) *site { return &site{env: env} }

// a4cConf is the inventory's alien4cloud section (defaults when absent).
func (s *site) a4cConf() config.Alien4Cloud {
	if a := s.env.Inv.Alien4Cloud; a != nil {
		return *a
	}
	return config.Alien4Cloud{URL: config.DefaultA4CURL, Username: config.DefaultA4CUser, Config: config.DefaultA4CConfig, Service: config.DefaultA4CService}
}

// node is the Alien4Cloud node.
func (s *site) node() string { return a4c.Node(s.env) }

// unit is the a4c service: its port is alien4cloud.url's, its health
// Spring Boot's.
func (s *site) unit() service.Unit {
	a := s.a4cConf()
	port := 8088
	if u, err := url.Parse(a.URL); err == nil {
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		} else if u.Scheme == "https" {
			port = 443
		}
	}
	return service.Unit{Name: a.Service, Label: "Alien4Cloud", Port: port, URL: a.URL, Health: a4c.HealthPath}
}

// override is the data directory the inventory names (a node's
// paths.alien4cloud_data, else alien4cloud.data_dir), "" when it is read
// from alien4cloud-config.yml.
func (s *site) override() string {
	if n, ok := s.env.Inv.Node(s.node()); ok && n.Paths[config.PathAlien4CloudData] != "" {
		return n.Paths[config.PathAlien4CloudData]
	}
	return s.a4cConf().DataDir
}

// planDataDir names the data directory in a plan, where nothing is read.
func (s *site) planDataDir() string {
	if d := s.dataDirNow(); d != "" {
		return d
	}
	return "<directories.alien>" // read from alien4cloud.config by the configuration step
}

// dataDirNow is the data directory once the configuration was read (or
// the inventory's override), else "".
func (s *site) dataDirNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dataDir != "" {
		return s.dataDir
	}
	return s.override()
}

// embedded says Elasticsearch runs inside Alien4Cloud (known once the
// configuration was read).
func (s *site) embedded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conf != nil && s.conf.Embedded
}

// configFiles are the files saved with the backup, by node: on the
// Alien4Cloud node the folder of alien4cloud-config.yml (log4j2.xml, the
// keystore, an embedded elasticsearch.yml), the env file the unit sources,
// the unit file and alien4cloud.extra_files; on each Elasticsearch node
// its elasticsearch.yml (path.repo). The documented tool saves none.
func (s *site) configFiles() map[string][]string {
	a := s.a4cConf()
	s.mu.Lock()
	install, unit := s.install, s.unitFile
	s.mu.Unlock()
	if install == "" {
		install = path.Dir(path.Dir(a.Config))
	}
	n := s.node()
	out := map[string][]string{n: {path.Dir(a.Config), path.Join(install, "a4c.env")}}
	if unit != "" {
		out[n] = append(out[n], unit)
	}
	out[n] = append(out[n], a.ExtraFiles...)
	if !s.embedded() {
		for _, es := range s.env.NodesWith(config.RoleElasticsearch) {
			out[es] = append(out[es], esYML)
		}
	}
	for k, v := range out {
		slices.Sort(v)
		out[k] = slices.Compact(v)
	}
	return out
}

// withClient logs in to Alien4Cloud's REST API once for f's calls.
func (s *site) withClient(f func(*a4c.Client) error) error {
	cl, err := a4c.Open(s.env)
	if err != nil {
		return err
	}
	defer cl.Close()
	return f(cl)
}

// enableMaintenance turns Alien4Cloud's maintenance mode on; already says
// it was on before (nothing changed then).
func (s *site) enableMaintenance(ctx context.Context) (already bool, err error) {
	err = s.withClient(func(cl *a4c.Client) (err error) { already, err = cl.EnableMaintenance(ctx); return err })
	return already, err
}

// disableMaintenance turns it off; wasOn says it was on.
func (s *site) disableMaintenance(ctx context.Context) (wasOn bool, err error) {
	err = s.withClient(func(cl *a4c.Client) (err error) { wasOn, err = cl.DisableMaintenance(ctx); return err })
	return wasOn, err
}

// esYML is each Elasticsearch node's configuration (the rpm's).
const esYML = "/etc/elasticsearch/elasticsearch.yml"

// unitShowCmd reads the unit's user, working directory and unit file.
func unitShowCmd(unit string) string {
	return "systemctl show -p User -p WorkingDirectory -p FragmentPath -- " + remote.Quote(unit)
}

// read reads alien4cloud-config.yml and the unit on the Alien4Cloud node
// and settles the data directory.
func (s *site) read(ctx context.Context, rc *steps.RunContext) (*config.Alien4CloudConf, error) {
	a := s.a4cConf()
	n := s.node()
	c, err := ReadConf(ctx, rc, n, a.Config)
	if err != nil {
		return nil, err
	}
	out, err := rc.Stdout(ctx, n, unitShowCmd(a.Service), true)
	if err != nil {
		return nil, fmt.Errorf("%s: read unit %s: %w", n, a.Service, err)
	}
	props := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			props[k] = v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conf, s.user, s.install, s.unitFile = c, props["User"], props["WorkingDirectory"], props["FragmentPath"]
	s.dataDir = s.override()
	if s.dataDir == "" {
		s.dataDir = c.DataDir
	}
	return c, nil
}

// configStep reads Alien4Cloud's configuration: where its data directory
// is, whether Elasticsearch runs inside it (and then what hotsnap does
// instead of stopping it), its port. stopService refuses --stop-service
// with an embedded Elasticsearch.
func configStep(s *site, stopService bool) steps.Step {
	a := s.a4cConf()
	return steps.Step{
		ID: "a4c-config", Title: "Alien4Cloud's configuration: data directory, Elasticsearch embedded or remote", Kind: steps.KindCheck, Component: a4c.Component,
		Why:  "The documented tool is told alien4cloud.dir and the cluster by hand (its sample names the transport port 9300 and cluster alien4cloud, A4C's default is escluster): hotsnap reads alien4cloud-config.yml itself (directories.alien, elasticSearch.*) and the unit it runs under.",
		Plan: steps.PlanEach([]string{s.node()}, "cat "+a.Config+"; "+unitShowCmd(a.Service), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			n := s.node()
			c, err := s.read(ctx, rc)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "alien4cloud config", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "set alien4cloud.config in the inventory to the path of alien4cloud-config.yml on " + n + " (spray: " + config.DefaultA4CConfig + "), and alien4cloud.service to its systemd unit"})
				return nil
			}
			dir := s.dataDirNow()
			r := steps.CheckResult{Check: "alien4cloud config", Node: n, Status: steps.CheckPass,
				Evidence: fmt.Sprintf("%s: data directory %s, server.port %d", a.Config, orUnset(dir), c.Port)}
			switch {
			case dir == "":
				r.Status, r.Remedy = steps.CheckFail, "directories.alien is not set there: set alien4cloud.data_dir in the inventory"
			case c.DataDir != "" && path.Clean(c.DataDir) != path.Clean(dir):
				r.Status = steps.CheckWarn
				r.Evidence += fmt.Sprintf(" (the inventory's; directories.alien says %s)", c.DataDir)
				r.Remedy = "make alien4cloud.data_dir (or paths.alien4cloud_data) agree with directories.alien, or remove it"
			}
			if p := s.unit().Port; p != c.Port && c.Own {
				r.Status = steps.CheckWarn
				r.Remedy = strings.TrimPrefix(r.Remedy+"; ", "; ") + fmt.Sprintf("alien4cloud.url uses port %d, server.port is %d: fix alien4cloud.url", p, c.Port)
			}
			rc.Check(r)
			es := steps.CheckResult{Check: "elasticsearch mode", Node: n, Status: steps.CheckPass,
				Evidence: fmt.Sprintf("remote cluster %q at %s (transport; hotsnap uses HTTP %s)", c.ESClusterName, strings.Join(c.ESAddresses, ", "), s.env.Inv.Elasticsearch.URL)}
			if c.Embedded {
				es.Status = steps.CheckWarn
				es.Evidence = "Elasticsearch runs inside Alien4Cloud's JVM (elasticSearch.client/transportClient not both true: \"This embedded mode is not suitable for production\")"
				es.Remedy = "stopping Alien4Cloud stops Elasticsearch, so hotsnap keeps Alien4Cloud running in maintenance mode for the backup and the restore (restarting it at the end of a restore); for production, run Elasticsearch as its own cluster (client: true, transportClient: true, hosts)"
				if stopService {
					es.Status = steps.CheckFail
					es.Remedy = "--stop-service would stop Elasticsearch with Alien4Cloud: back up without it (in maintenance mode)"
				}
			}
			rc.Check(es)
			return nil
		},
	}
}

func orUnset(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
