package thehive

import (
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/cassandra"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/host"
)

// appNode is the node from which TheHive's API and its S3 store are reached.
func appNode(env *steps.Env) string { return env.FirstWith(config.RoleTheHive) }

// Preflight builds the preflight runbook: every check the documents ask for,
// each on every node it concerns, changing nothing.
func Preflight(env *steps.Env) steps.Runbook {
	return preflight(env, runbooks.NewLeftovers(env, env.OpenRepo), steps.NewSizes())
}

// preflight is Preflight, its leftovers check looking for what left is
// given (the backup keeps what it finds for its gate), its disk check
// handing the keyspace's size on each node to du (for the repository's
// check, or the backup's estimate, which run beside it).
func preflight(env *steps.Env, left *runbooks.Leftovers, du *steps.Sizes) steps.Runbook {
	rb := steps.Runbook{Name: "preflight", Cluster: env.Inv.Cluster}
	// The versions the checks see, for the version matrix at the end.
	found := &foundVersions{}
	// SSH first: it opens the connections, says which nodes answer and
	// reads their clocks for the clock check.
	// The checks after it only read, and none reads what another leaves,
	// so they run at once (the engine still reports them in this order);
	// the version matrix comes last, from what they saw.
	sshCheck, clockCheck := host.SSHAndClockChecks(env)
	checks := []steps.Step{clockCheck}
	if env.Inv.Cassandra != nil && len(env.NodesWith(config.RoleCassandra)) > 0 {
		cc := cassandraChecks(found)
		checks = append(checks, cassandraToolsStep(env), cassandra.DiskCheck(env, du), cassandra.RingCheck(env, cc), cassandra.ReplicationCheck(env, cc))
	}
	if env.Inv.Elasticsearch != nil {
		checks = append(checks, esStep(env, found))
	}
	if len(env.NodesWith(config.RoleTheHive)) > 0 {
		checks = append(checks, serviceStep(env))
	}
	if st := env.Inv.Storage; st != nil && st.Provider == config.StorageLocalFS {
		checks = append(checks, filesStep(env, du))
	} else if st != nil && st.Provider == config.StorageS3 && st.S3 != nil {
		checks = append(checks, s3Step(env))
	}
	if env.OpenRepo != nil {
		checks = append(checks, repositoryStep(env, du))
	}
	checks = append(checks, left.Check())
	for i := range checks {
		checks[i].Concurrent = true
	}
	rb.Steps = append(rb.Steps, sshCheck)
	rb.Steps = append(rb.Steps, checks...)
	if len(env.NodesWith(config.RoleTheHive)) > 0 {
		rb.Steps = append(rb.Steps, versionsStep(env, found))
	}
	return rb
}

// cassandraChecks is what TheHive adds to the Cassandra checks: the
// versions runbook §5 supports, where it configures its keyspace, and the
// versions seen for the matrix.
func cassandraChecks(found *foundVersions) cassandra.Checks {
	return cassandra.Checks{
		Seen: found.addCassandra,
		Supported: func(release string) (steps.CheckStatus, string) {
			if !strings.HasPrefix(release, "4.0") && !strings.HasPrefix(release, "4.1") {
				return steps.CheckWarn, "TheHive 5 supports Cassandra 4.0.x–4.1.x (runbook §5)"
			}
			return steps.CheckPass, ""
		},
		KeyspaceConf: "db.janusgraph.storage.cql.keyspace in /etc/thehive/application.conf",
	}
}

func cassandraToolsStep(env *steps.Env) steps.Step {
	s := cassandra.ToolsCheck(env)
	s.Why = "The backup streams every table with tar on every node; a restore to a changed topology runs sstableloader on the first node."
	return s
}

func serviceStep(env *steps.Env) steps.Step {
	s := theHive.StateCheck(env.NodesWith(config.RoleTheHive))
	s.Why = "A hot backup runs with TheHive up; a restore stops it on every node first."
	return s
}

func esStep(env *steps.Env, found *foundVersions) steps.Step {
	s := es.Check(env, es.CheckOptions{Seen: found.setES, Supported: esSupported})
	s.Why = "The index is backed up with the snapshot API into an fs repository on the shared folder (path.repo), registered once on the cluster."
	return s
}

func filesStep(env *steps.Env, sizes *steps.Sizes) steps.Step {
	n, p := files.Location(env)
	s := files.Check(n, p, env.Inv.Storage.Owner, "storage.localfs.location in application.conf", sizes)
	s.Why = "Attachments on local disk or NFS (storage.localfs.location) are backed up as an archive that keeps owners and modes."
	return s
}

// theHiveS3 says where TheHive configures its bucket, for the remedies.
var theHiveS3 = files.S3Conf{Keys: "storage.s3.aws.credentials in application.conf", Bucket: "storage.s3.bucket in application.conf"}

func s3Step(env *steps.Env) steps.Step {
	s := files.S3Check(env, appNode(env), theHiveS3)
	s.Why = "With storage.provider = s3 the attachments live in a bucket; the backup copies every object, so the credentials must list and read it."
	return s
}
