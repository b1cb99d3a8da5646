package alien4cloud

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Indices are the per-class indices of Alien4Cloud 3.x: every concrete
// @ESObject class, named by its lowercase simple name
// (MappingBuilder.indexTypeFromClass, ESIndexMapper.initIndices), as derived
// from alien4cloud/alien4cloud 3.7.0 in
// reference/real-outputs/alien4cloud/a4c-3.x-index-names-DERIVED.txt.
var Indices = []string{"application", "applicationenvironment", "applicationversion", "artifacttype",
	"auditconfiguration", "audittrace", "capabilitytype", "csar", "csargitrepository", "dataobjectversion",
	"datatype", "deployment", "deploymentinputs", "deploymentmatchingconfiguration", "deploymenttopology",
	"deploymentunprocessedtopology", "execution", "executioninputs", "gitlocation", "group", "imagedata",
	"location", "locationresourcetemplate", "maintenancemodestate", "metapropconfiguration", "nodetype",
	"orchestrator", "orchestratorconfiguration", "orchestratordeploymentproperties", "paasdeploymentlog",
	"paasdeploymentstatusmonitorevent", "paasinstancepersistentresourcemonitorevent",
	"paasinstancestatemonitorevent", "paasmessagemonitorevent", "paasworkflowcancelledevent",
	"paasworkflowfailedevent", "paasworkflowmonitorevent", "paasworkflowstartedevent",
	"paasworkflowstepmonitorevent", "paasworkflowsucceededevent", "plugin", "pluginconfiguration",
	"policylocationresourcetemplate", "policytype", "primitivedatatype", "relationshiptype", "repository",
	"serviceresource", "simplesuggestionentry", "suggestioncontextdata", "suggestionentry", "task",
	"taskcancelledevent", "taskfailedevent", "tasksentevent", "taskstartedevent", "tasksucceededevent",
	"topology", "user", "workflowstepcompletedevent", "workflowstepinstance", "workflowstepstartedevent"}

const (
	// MaintenanceIndex and MaintenanceID locate the maintenance state
	// (MaintenanceModeState, MMS_ID).
	MaintenanceIndex = "maintenancemodestate"
	MaintenanceID    = "mms_id"
	// UserIndex holds Alien4Cloud's users, the admin among them.
	UserIndex = "user"
	// docType is the single mapping type of every index
	// (ESIndexMapper.TYPE_NAME).
	docType = "_doc"
)

// Config is what the stand-in reads from alien4cloud-config.yml.
type Config struct {
	// Port is server.port.
	Port int
	// DataDir is directories.alien.
	DataDir string
	// ClusterName is elasticSearch.clusterName.
	ClusterName string
	// Client and TransportClient are elasticSearch.client and
	// elasticSearch.transportClient: both true for a remote cluster,
	// otherwise Elasticsearch runs inside Alien4Cloud.
	Client, TransportClient bool
	// Hosts are elasticSearch.hosts (host:port of the transport protocol).
	Hosts []string
	// Shards and Replicas are elasticSearch.shard_count and replica_count
	// (-1 when unset: Elasticsearch's defaults).
	Shards, Replicas int
	// AdminUser and AdminPassword are alien_security.admin.username and
	// password, the user created when none exists.
	AdminUser, AdminPassword string
}

// Embedded reports whether Elasticsearch runs inside Alien4Cloud.
func (c Config) Embedded() bool { return !(c.Client && c.TransportClient) }

// ESURLs are the HTTP URLs of the configured hosts: each transport address
// becomes the same host on the HTTP port of its pair (Elasticsearch's
// defaults bind transport 9300 and HTTP 9200: port-100; no port means 9300).
func (c Config) ESURLs() []string {
	var out []string
	for _, h := range c.Hosts {
		host, port := h, 9300
		if hh, pp, err := net.SplitHostPort(h); err == nil {
			host = hh
			if n, err := strconv.Atoi(pp); err == nil && n > 100 {
				port = n
			}
		}
		out = append(out, "http://"+net.JoinHostPort(host, strconv.Itoa(port-100)))
	}
	return out
}

// flatYAML reads a YAML file into dotted keys ("elasticSearch.hosts").
func flatYAML(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			if sub, ok := v.(map[string]any); ok {
				walk(key, sub)
				continue
			}
			out[key] = v
		}
	}
	walk("", doc)
	return out, nil
}

func str(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func boolean(m map[string]any, key string) bool {
	b, _ := strconv.ParseBool(str(m, key))
	return b
}

func integer(m map[string]any, key string, def int) (int, error) {
	s := str(m, key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", key, s)
	}
	return n, nil
}

// ReadConfig reads alien4cloud-config.yml.
func ReadConfig(path string) (Config, error) {
	m, err := flatYAML(path)
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	c := Config{DataDir: str(m, "directories.alien"), ClusterName: str(m, "elasticSearch.clusterName"),
		Client: boolean(m, "elasticSearch.client"), TransportClient: boolean(m, "elasticSearch.transportClient"),
		AdminUser: str(m, "alien_security.admin.username"), AdminPassword: str(m, "alien_security.admin.password")}
	var errs []error
	var e1, e2, e3 error
	c.Port, e1 = integer(m, "server.port", 8088)
	c.Shards, e2 = integer(m, "elasticSearch.shard_count", -1)
	c.Replicas, e3 = integer(m, "elasticSearch.replica_count", -1)
	errs = append(errs, e1, e2, e3)
	for _, h := range strings.Split(str(m, "elasticSearch.hosts"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Hosts = append(c.Hosts, h)
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("directories.alien is not set"))
	}
	if c.ClusterName == "" {
		c.ClusterName = "escluster"
	}
	if c.AdminUser == "" {
		c.AdminUser = "admin"
	}
	if len(c.Hosts) == 0 {
		c.Hosts = []string{"localhost"}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// EmbeddedES is what the stand-in reads from the embedded node's
// elasticsearch.yml.
type EmbeddedES struct {
	// Home is path.home (the node's data lives in Home/data).
	Home string
	// ClusterName is cluster.name.
	ClusterName string
	// Host and Port are network.host and http.port.
	Host string
	Port int
	// PathRepo is path.repo.
	PathRepo []string
}

// ReadEmbeddedES reads the embedded node's elasticsearch.yml.
func ReadEmbeddedES(path string) (EmbeddedES, error) {
	m, err := flatYAML(path)
	if err != nil {
		return EmbeddedES{}, fmt.Errorf("read %s: %w", path, err)
	}
	e := EmbeddedES{Home: str(m, "path.home"), ClusterName: str(m, "cluster.name"), Host: str(m, "network.host")}
	if e.Port, err = integer(m, "http.port", 9200); err != nil {
		return EmbeddedES{}, fmt.Errorf("%s: %w", path, err)
	}
	switch v := m["path.repo"].(type) {
	case []any:
		for _, p := range v {
			e.PathRepo = append(e.PathRepo, fmt.Sprint(p))
		}
	case string:
		e.PathRepo = strings.Split(v, ",")
	}
	sort.Strings(e.PathRepo)
	if e.Home == "" {
		return EmbeddedES{}, fmt.Errorf("%s: path.home is not set", path)
	}
	if e.ClusterName == "" {
		e.ClusterName = "escluster"
	}
	return e, nil
}
