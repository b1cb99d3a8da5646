package alien4cloud

import (
	"fmt"
	"strconv"
	"strings"
)

// Paths of an Alien4Cloud node installed as alien4cloud-spray installs it
// (roles a4c/install-a4c and a4c/configure-a4c, inputs.yml).
const (
	// InstallDir is a4c_install_dir/alien4cloud, the unit's
	// WorkingDirectory.
	InstallDir = "/opt/a4c/alien4cloud"
	// ConfigPath is alien4cloud-config.yml.
	ConfigPath = InstallDir + "/config/alien4cloud-config.yml"
	// EmbeddedESConfigPath is the embedded node's elasticsearch.yml
	// (written only in embedded mode).
	EmbeddedESConfigPath = InstallDir + "/config/elasticsearch.yml"
	// Log4jPath is the logging configuration.
	Log4jPath = InstallDir + "/config/log4j2.xml"
	// KeystorePath is the server keystore (server.ssl.key-store).
	KeystorePath = InstallDir + "/config/ssl/server-keystore.jks"
	// KeystorePassword is spray's default keystore password (inputs.yml
	// ssl_dest_keystore_password).
	KeystorePassword = "changeit"
	// EnvPath is the environment the unit sources.
	EnvPath = InstallDir + "/a4c.env"
	// LauncherPath is the start script the unit runs.
	LauncherPath = InstallDir + "/alien4cloud.sh"
	// WarPath is the web archive the launcher checks for.
	WarPath = InstallDir + "/alien4cloud-ui-3.7.0.war"
	// UnitPath is the unit file.
	UnitPath = "/etc/systemd/system/a4c.service"
	// LogDir is a4c_log_dir.
	LogDir = "/var/log/alien4cloud"
	// ESConfigPath is each Elasticsearch node's configuration (rpm).
	ESConfigPath = "/etc/elasticsearch/elasticsearch.yml"
	// User runs the service.
	User = "a4c"
	// Unit is the systemd unit name.
	Unit = "a4c"
	// Port is server.port.
	Port = 8088
)

// ConfigOptions describe an alien4cloud-config.yml.
type ConfigOptions struct {
	// DataDir is directories.alien.
	DataDir string
	// Hosts are elasticSearch.hosts (transport addresses); Embedded writes
	// client/transportClient false (Elasticsearch inside Alien4Cloud).
	Hosts    []string
	Embedded bool
	// Shards and Replicas are elasticSearch.shard_count and replica_count.
	Shards, Replicas int
	// AdminPassword is alien_security.admin.password (user admin).
	AdminPassword string
}

// ConfigYAML renders alien4cloud-config.yml as alien4cloud-spray's
// template does (roles/a4c/configure-a4c/templates/alien4cloud-config.yml.j2),
// HTTP on Port, with the keystore configured but SSL off.
func ConfigYAML(o ConfigOptions) string {
	remote := strconv.FormatBool(!o.Embedded)
	hosts := strings.Join(o.Hosts, ",")
	return fmt.Sprintf(`# server section allows configuration of the listening port of the embedded jetty server.
server:
  port: %d
  # Should be true when running behind a proxy (H.A. setting for example).
  use-forward-headers: true
  # If you want to enable SSL comment the previous line and un-comment the following lines.
#  ssl:
#    key-store: %s
#    key-store-password: %s
#    key-password: %s

# Configuration of alien4cloud's CSAR repository, temporary folder and upload settings.
directories:
  # alien4cloud optional init directory: Alien will load archives and plugins respective subfolders at bootstrap.
  alien_init: init
  # alien4cloud runtime directory (next directories are relative path to this one)
  alien: %s
  # directory in which alien4cloud stores Cloud Service Archives
  csar_repository: csar
  # directory in which alien4cloud stores uploaded artifacts (war etc.).
  artifact_repository: artifacts
  # temporary directory for alien4cloud
  upload_temp: upload
  # directory in which alien4cloud unzip loaded plugins.
  plugins: plugins
  # directory in which alien4cloud stores images.
  images: images

paas_monitor:
  # PaaS monitoring is done by a polling mechanism. This property allow to specify the interval between pollings (in milliseconds).
  monitor_interval_ms: 1000
  # Number of threads to use to monitor Platform as a Service systems.
  threadpool_size: 5
  # Duration to keep monitoring events stored in Alien4Cloud.
  events_lifetime: "1d"

# Initial default components upload : from folder /alien4cloud-core/src/main/default-normative-types
archive:
  upload_all: false

# Configuration of the elastic search cluster.
elasticSearch:
  clusterName: escluster
  local: false
  resetData: false
  prefix_max_expansions: 10
  # Start elasticsearch in transport client mode, it will not join the cluster and will not store any data
  client: %s
  transportClient: %s
  # a comma separated list of host:port couples
  hosts: %s
  shard_count: %d
  replica_count: %d

# Configuration of default admin ensurer, if true it creates a default admin user if no admin can be found in the system.
alien_security:
  admin:
    # alien4cloud checks that an admin user is defined at the application launch.
    ensure: true
    username: admin
    password: %s
    email: admin@mycompany.com

# configuration for the upload module.
upload:
  max_archive_size: 52428800

audit:
  ttl: 1d

# TTL scanning period in seconds (default 1 day)
ttl:
  period: 86400

ha:
  ha_enabled: false
  consulAgentIp: 127.0.0.1
  consulAgentPort: 8500
  instanceIp: 127.0.0.1
  healthCheckPeriodInSecond: 5
  consulSessionTTLInSecond: 60
  consulLockDelayInSecond: 0
  lockAcquisitionDelayInSecond: 20
  consul_tls_enabled: false
  serverProtocol: "http"
  # The minimum free space to consider the system healthy (in bytes). Let's set the default to 10Mo
  health_disk_space_threshold: 10485760

logs_deployment_appender:
  enable: true
logs_audit_appender:
  enable: true
`, Port, KeystorePath, KeystorePassword, KeystorePassword, o.DataDir, remote, remote, hosts, o.Shards, o.Replicas, o.AdminPassword)
}

// EnvFile renders a4c.env (roles/a4c/install-a4c/templates/a4c.env.j2 with
// the role's defaults): the JVM options the launcher passes to java.
func EnvFile() string {
	return "\n" + `export JAVA_OPTIONS="-server -showversion -Xmx2g -Xms2g  -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=\"` + LogDir +
		`\" -XX:+UseG1GC -XX:InitiatingHeapOccupancyPercent=75 -XX:-G1UseAdaptiveIHOP -XX:+ScavengeBeforeFullGC -XX:+DisableExplicitGC"` + "\n"
}

// UnitFile renders /etc/systemd/system/a4c.service
// (roles/a4c/install-a4c/templates/a4c-service.j2).
func UnitFile() string {
	return `[Unit]
Description=Alien4Cloud Webapp
Requires=network-online.target
After=network-online.target

[Service]
User=` + User + `
Restart=on-failure
WorkingDirectory=` + InstallDir + `
ExecStart=/bin/bash -c 'source ` + EnvPath + ` && ` + LauncherPath + ` 2>&1'
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGTERM

[Install]
WantedBy=multi-user.target
`
}

// UnitArgv is the unit's ExecStart as the service manager runs it: bash
// sources the env file and runs the launcher.
func UnitArgv() []string {
	return []string{"/bin/bash", "-c", "source " + EnvPath + " && " + LauncherPath + " 2>&1"}
}

// Launcher renders alien4cloud.sh: the distribution's launcher
// (alien4cloud-dist src/main/assembly/scripts/alien4cloud.sh, with the
// log4j line alien4cloud-spray appends) whose java command is the lab's
// stand-in at standin.
func Launcher(standin string) string {
	return `#!/usr/bin/env bash
# Alien4Cloud launcher (alien4cloud-dist), as installed by alien4cloud-spray.
# hotsnap lab: the JVM is replaced by the Alien4Cloud stand-in below.

if [[ ! ` + "`ls alien4cloud-ui-3.7.0.war 2> /dev/null`" + ` ]] ; then
  if [[ ! ` + "`ls alien4cloud-standalone/alien4cloud-ui-3.7.0.war 2> /dev/null`" + ` ]] ; then
    echo Command must be run from the directory where the WAR is installed or its parent.
    exit 4
  fi
  cd alien4cloud-standalone
fi

if [ -z "$JAVA_OPTIONS" ] ; then
    JAVA_OPTIONS="-server -showversion -Xmx2g -Xms2g -XX:+HeapDumpOnOutOfMemoryError"
fi

JAVA_EXT_OPTIONS="$JAVA_EXT_OPTIONS -Dlog4j.configurationFile=log4j2.xml"
# $JAVA $JAVA_OPTIONS $JAVA_EXT_OPTIONS -cp config/:alien4cloud-ui-3.7.0.war org.springframework.boot.loader.WarLauncher "$@"
exec ` + standin + ` --config config/alien4cloud-config.yml --es-config config/elasticsearch.yml "$@"
`
}

// EmbeddedESYAML renders the embedded node's elasticsearch.yml
// (roles/a4c/configure-a4c/templates/elasticsearch.yml.j2), with the
// path.repo an operator adds for snapshots.
func EmbeddedESYAML(home string, pathRepo []string) string {
	return `# This file will be parsed in case of ES embedded mode when you launch a4c from your IDE
path:
  # You can put an absolute path here
  home: ` + home + `
  repo: ["` + strings.Join(pathRepo, `", "`) + `"]

transport:
  type: mock-socket-network
  tcp:
    port: 9300

cluster:
  name: escluster

http:
  enabled: true
  port: 9200

node:
  name: alien
network:
  host: 0.0.0.0
`
}

// ESYAML renders an Elasticsearch 6.8 node's /etc/elasticsearch/elasticsearch.yml
// as the rpm ships it with alien4cloud-spray's edits (cluster.name
// escluster, network.host, the unicast hosts and minimum master nodes) and
// the path.repo the backup page asks for.
func ESYAML(node string, hosts []string, pathRepo []string) string {
	var b strings.Builder
	b.WriteString(`# ======================== Elasticsearch Configuration =========================
#
# NOTE: Elasticsearch comes with reasonable defaults for most settings.
#       Before you set out to tweak and tune the configuration, make sure you
#       understand what are you trying to accomplish and the consequences.
#
# ---------------------------------- Cluster -----------------------------------
cluster.name: escluster
# ------------------------------------ Node ------------------------------------
node.name: ` + node + `
# ----------------------------------- Paths ------------------------------------
path.data: /var/lib/elasticsearch
path.logs: /var/log/elasticsearch
path.repo: ["` + strings.Join(pathRepo, `", "`) + `"]
# ---------------------------------- Network -----------------------------------
network.host: 0.0.0.0
#http.port: 9200
# --------------------------------- Discovery ----------------------------------
`)
	if len(hosts) > 1 {
		b.WriteString(`discovery.zen.ping.unicast.hosts: ["` + strings.Join(hosts, `","`) + `"]` + "\n")
		fmt.Fprintf(&b, "discovery.zen.minimum_master_nodes: %d\n", len(hosts)/2+1)
	}
	b.WriteString("xpack.security.transport.ssl.enabled: false\n")
	return b.String()
}

// Log4j2XML renders config/log4j2.xml
// (roles/a4c/configure-a4c/templates/log4j2.xml.j2).
func Log4j2XML() string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN" monitorInterval="15">
    <Properties>
        <Property name="deployment_path">` + LogDir + `/deployment_logs</Property>
        <Property name="audit_path">` + LogDir + `/audit_logs</Property>
    </Properties>
    <Appenders>
        <Console name="STDOUT">
            <PatternLayout pattern="%d{yyyy-MM-dd HH:mm:ss} %-5p [%t] %c{1}:%L - %m%n" />
        </Console>
        <RollingFile name="DEPLOYMENT_LOGS_APPENDER" fileName="${deployment_path}/deployments.log"
                     filePattern="${deployment_path}/deployments-%d{yyyy-MM-dd}.log.gz">
            <PatternLayout pattern="%d{yyyy-MM-dd'T'HH:mm:ss.SSSZ} %-5p %.-4096m%n" />
            <TimeBasedTriggeringPolicy />
        </RollingFile>
        <RollingFile name="AUDIT_LOGS_APPENDER" fileName="${audit_path}/audit.log"
                     filePattern="${audit_path}/audit-%d{yyyy-MM-dd}.log.gz">
            <PatternLayout pattern="%d{yyyy-MM-dd'T'HH:mm:ss.SSSZ} %-5p %.-4096m%n" />
            <TimeBasedTriggeringPolicy />
        </RollingFile>
    </Appenders>
    <Loggers>
        <root level="info">
            <AppenderRef ref="STDOUT" />
        </root>
        <logger name="DEPLOYMENT_LOGS_LOGGER" level="info" additivity="false">
            <AppenderRef ref="DEPLOYMENT_LOGS_APPENDER" />
        </logger>
        <logger name="AUDIT_LOGS_LOGGER" level="info" additivity="false">
            <AppenderRef ref="AUDIT_LOGS_APPENDER" />
        </logger>
    </Loggers>
</Configuration>
`
}
