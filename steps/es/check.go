package es

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// CheckOptions is what a platform adds to the check of the cluster.
type CheckOptions struct {
	// Seen, when set, receives the distribution ("elasticsearch",
	// "opensearch") and version the cluster answers with.
	Seen func(dist, version string)
	// Supported rates that version for the platform: the verdict of the
	// "es version" check and its remedy when it is not a pass.
	Supported func(dist, version string) (steps.CheckStatus, string)
}

// Check is the check of the cluster a backup snapshots into: reachable,
// its version (rated by o.Supported), its health, the snapshot repository
// (elasticsearch.repository) registered, its location under every node's
// path.repo, and _verify'd.
func Check(env *steps.Env, o CheckOptions) steps.Step {
	es := env.Inv.Elasticsearch
	repo := es.Repository
	return steps.Step{
		ID: "elasticsearch", Title: "Elasticsearch: reachable, version, health, snapshot repository registered, under path.repo and verified", Kind: steps.KindCheck, Component: Component,
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: Node(env), Cmd: fmt.Sprintf("GET %s/ · GET /_cluster/health · GET /_snapshot/%s · GET /_nodes/settings · POST /_snapshot/%s/_verify (through the SSH tunnel)", es.URL, repo, repo)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			cl, n, err := Open(env)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "es", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			defer cl.Close()
			resp, err := Do(ctx, cl, esapi.InfoRequest{})
			if err != nil {
				rc.Check(steps.CheckResult{Check: "es reachable", Node: n, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "start Elasticsearch (`sudo systemctl start elasticsearch`) or fix elasticsearch.url (as seen from the node)"})
				return nil
			}
			if resp.Status != 200 {
				rc.Check(errorCheck("es reachable", n, resp, loginRemedy(es, resp.Status)))
				return nil
			}
			root, err := parse.ParseESRoot(resp.Body)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "es reachable", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			if o.Seen != nil {
				o.Seen(root.Distribution, root.Version)
			}
			vr := steps.CheckResult{Check: "es version", Node: n, Status: steps.CheckPass, Evidence: fmt.Sprintf("%s %s, cluster %q", root.Distribution, root.Version, root.ClusterName)}
			if o.Supported != nil {
				vr.Status, vr.Remedy = o.Supported(root.Distribution, root.Version)
			}
			rc.Check(vr)

			if resp, err = Do(ctx, cl, esapi.ClusterHealthRequest{}); err == nil && resp.Status == 200 {
				h, perr := parse.ParseClusterHealth(resp.Body)
				if perr != nil {
					rc.Check(steps.CheckResult{Check: "es health", Node: n, Status: steps.CheckFail, Evidence: perr.Error()})
				} else {
					r := steps.CheckResult{Check: "es health", Node: n, Status: steps.CheckPass, Evidence: fmt.Sprintf("%s, %d nodes, %d unassigned shards", h.Status, h.NumberOfNodes, h.UnassignedShards)}
					switch h.Status {
					case "yellow":
						r.Status, r.Remedy = steps.CheckWarn, "replicas are unassigned: the snapshot works, but check `GET _cluster/allocation/explain`"
					case "red":
						r.Status, r.Remedy = steps.CheckFail, "primary shards are missing: a snapshot would be PARTIAL; fix the cluster first (`GET _cluster/allocation/explain`)"
					}
					rc.Check(r)
				}
			} else if err != nil {
				rc.Check(steps.CheckResult{Check: "es health", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
			} else {
				rc.Check(errorCheck("es health", n, resp, "check that the user may read GET _cluster/health (cluster:monitor/health)"))
			}

			register := registerCmd(es.URL, repo, orDefault(es.RepositoryPath, "/mnt/backup/elasticsearch"))
			resp, err = Do(ctx, cl, esapi.SnapshotGetRepositoryRequest{Repository: []string{repo}})
			switch {
			case err != nil:
				rc.Check(steps.CheckResult{Check: "es repository", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			case resp.Status == 404:
				rc.Check(steps.CheckResult{Check: "es repository", Node: n, Status: steps.CheckFail, Evidence: fmt.Sprintf("repository %q is not registered", repo),
					Remedy: "in elasticsearch.yml on each node `path.repo: " + orDefault(es.RepositoryPath, "/mnt/backup/elasticsearch") + "`, then `sudo systemctl restart elasticsearch`, then register it once: " + register})
				return nil
			case resp.Status != 200:
				rc.Check(errorCheck("es repository", n, resp, register))
				return nil
			}
			loc, readonly := "", false
			if repos, perr := parse.ParseRepositories(resp.Body); perr == nil {
				for _, r := range repos {
					if r.Name == repo {
						loc, readonly = r.Location, r.Settings["readonly"] == "true"
					}
				}
			}
			r := steps.CheckResult{Check: "es repository", Node: n, Status: steps.CheckPass, Evidence: fmt.Sprintf("%s registered, location %s", repo, loc)}
			switch {
			case readonly:
				// It verifies (nothing is written), but every snapshot into
				// it fails: "cannot create snapshot in a readonly repository".
				r.Status, r.Evidence = steps.CheckFail, fmt.Sprintf("%s is registered read-only (settings.readonly: true), location %s: Elasticsearch refuses to create a snapshot in it", repo, loc)
				r.Remedy = "register it again without readonly: " + registerCmd(es.URL, repo, loc) + "; but if another cluster writes into that folder (only one cluster may), give this cluster a repository of its own (elasticsearch.repository)"
			case es.RepositoryPath != "" && loc != "" && path.Clean(loc) != path.Clean(es.RepositoryPath):
				r.Status, r.Remedy = steps.CheckWarn, fmt.Sprintf("the inventory says elasticsearch.repository_path %s; make them agree", es.RepositoryPath)
			}
			rc.Check(r)
			if loc != "" {
				rc.Check(pathRepoCheck(ctx, cl, n, repo, loc))
			}
			resp, err = Do(ctx, cl, esapi.SnapshotVerifyRepositoryRequest{Repository: repo})
			switch {
			case err != nil:
				rc.Check(steps.CheckResult{Check: "es repository verify", Node: n, Status: steps.CheckFail, Evidence: err.Error()})
			case resp.Status != 200:
				r := errorCheck("es repository verify", n, resp, "every ES node must mount the shared folder at the same path, writable by elasticsearch (chown elasticsearch:elasticsearch, chmod 770)")
				if e, perr := parse.ParseESError(resp.Body); perr == nil {
					if bad := parse.UnverifiedNodes(e); len(bad) > 0 {
						// Elasticsearch names the nodes that cannot write it.
						r.Evidence = fmt.Sprintf("%s cannot write the repository %s: %s", strings.Join(bad, ", "), loc, r.Evidence)
						r.Remedy = fmt.Sprintf("on %s: mount the shared folder at %s as on the other nodes (not an sshfs mount of another user), writable by the elasticsearch user (chown elasticsearch:elasticsearch, chmod 770), then verify again", strings.Join(bad, ", "), loc)
					}
				}
				rc.Check(r)
			default:
				rc.Check(steps.CheckResult{Check: "es repository verify", Node: n, Status: steps.CheckPass, Evidence: "every node can write to the repository"})
			}
			rc.Check(runningSnapshotsCheck(ctx, cl, n))
			return nil
		},
	}
}

// runningSnapshotsCheck reports the snapshots Elasticsearch is taking now
// (GET /_snapshot/_status: another tool's, a scheduled SLM policy's), by
// name: a backup started beside one is refused by a cluster that takes one
// at a time (concurrent_snapshot_execution_exception: before 7.9, or with
// snapshot.max_concurrent_operations reached), and competes for the disks
// on the others.
func runningSnapshotsCheck(ctx context.Context, cl *remote.ESClient, n string) steps.CheckResult {
	r := steps.CheckResult{Check: "es snapshots running", Node: n, Status: steps.CheckPass, Evidence: "no snapshot running (GET /_snapshot/_status)"}
	st, err := read(ctx, cl, "read the running snapshots", esapi.SnapshotStatusRequest{}, parse.ParseSnapshotStatus)
	if err != nil {
		r.Status, r.Evidence = steps.CheckWarn, err.Error()
		r.Remedy = "check by hand that no snapshot runs (GET /_snapshot/_status) before the backup"
		return r
	}
	var running []string
	for _, s := range st {
		running = append(running, fmt.Sprintf("%s in %s (%s, %d of %d shards done)", s.Snapshot, s.Repository, s.State, s.ShardsStats.Done, s.ShardsStats.Total))
	}
	if len(running) > 0 {
		r.Status, r.Evidence = steps.CheckWarn, "running now: "+strings.Join(running, "; ")
		r.Remedy = "a backup started beside it may be refused by Elasticsearch (concurrent_snapshot_execution_exception: one snapshot at a time before 7.9) and competes for the disks: " +
			"wait until GET /_snapshot/_status lists none, or pause the schedule that started it during the backup (POST /_slm/stop, then POST /_slm/start)"
	}
	return r
}

// registerCmd registers the fs repository repo at location loc on the
// cluster at url, writable.
func registerCmd(url, repo, loc string) string {
	return fmt.Sprintf(`curl -X PUT '%s/_snapshot/%s' -H 'Content-Type: application/json' -d '{"type":"fs","settings":{"location":"%s"}}'`, url, repo, loc)
}

// pathRepoRemedy is runbook §2 step 3, for the repository's folder.
func pathRepoRemedy(loc string) string {
	return fmt.Sprintf("in elasticsearch.yml on each node: `path.repo: %s`; then `sudo systemctl restart elasticsearch` (runbook, \"ES snapshot repository\"); the folder must be the same shared mount on every node", loc)
}

// pathRepoCheck reads every node's path.repo (GET _nodes/settings) and says
// whether the fs repository's location lies under it on each: a node that
// lost path.repo (a rewritten elasticsearch.yml) cannot write snapshots.
func pathRepoCheck(ctx context.Context, cl *remote.ESClient, node, repo, loc string) steps.CheckResult {
	r := steps.CheckResult{Check: "es path.repo", Node: node}
	resp, err := Do(ctx, cl, esapi.NodesInfoRequest{Metric: []string{"settings"}})
	if err != nil {
		r.Status, r.Evidence = steps.CheckFail, err.Error()
		return r
	}
	if resp.Status != http.StatusOK {
		r = errorCheck("es path.repo", node, resp, "check that the user may read GET _nodes/settings (cluster:monitor/nodes/info), or compare path.repo in elasticsearch.yml by hand")
		r.Status = steps.CheckWarn
		return r
	}
	nodes, err := parse.ParseNodesPathRepo(resp.Body)
	if err != nil {
		r.Status, r.Evidence = steps.CheckWarn, err.Error()
		return r
	}
	var bad, roots []string
	for _, n := range nodes {
		if !parse.UnderPathRepo(loc, n.Roots) {
			bad = append(bad, fmt.Sprintf("%s (path.repo %s)", n.Node, orNone(n.Roots)))
		} else if roots == nil {
			roots = n.Roots
		}
	}
	switch {
	case len(nodes) == 0:
		r.Status, r.Evidence = steps.CheckWarn, "GET _nodes/settings listed no node"
	case len(bad) > 0:
		r.Status, r.Remedy = steps.CheckFail, pathRepoRemedy(loc)
		r.Evidence = fmt.Sprintf("%s location %s is not under path.repo on %s", repo, loc, strings.Join(bad, ", "))
	default:
		r.Status = steps.CheckPass
		r.Evidence = fmt.Sprintf("%s location %s is under path.repo %v on all %d nodes", repo, loc, roots, len(nodes))
	}
	return r
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orNone(roots []string) string {
	if len(roots) == 0 {
		return "not set"
	}
	return "[" + strings.Join(roots, ", ") + "]"
}

// loginRemedy is the remedy of Elasticsearch's answer status to the first
// request: a login refused (401) with or without a user, a user without the
// rights (403), or anything else.
func loginRemedy(es *config.Elasticsearch, status int) string {
	switch {
	case status == 401 && es.Username == "":
		return "Elasticsearch requires a login (security is on): set elasticsearch.username and elasticsearch.password (env:NAME, file:PATH or prompt)"
	case status == 401 && !es.Password.IsSet():
		return fmt.Sprintf("Elasticsearch refused the login of %s without a password: set elasticsearch.password (env:NAME, file:PATH or prompt)", es.Username)
	case status == 401:
		return fmt.Sprintf("Elasticsearch refused the login of %s: the password of elasticsearch.password (%s) is not %s's; set the right one there (try it on a node: `curl -u %s %s/`)", es.Username, es.Password, es.Username, es.Username, es.URL)
	case status == 403:
		return fmt.Sprintf("Elasticsearch's user %s may not do this: give it the cluster privileges monitor and manage (snapshots) and read/write on the indices", es.Username)
	}
	return "check elasticsearch.url and elasticsearch.username/password"
}

// errorCheck is the failed check of an answer that is not a success: the
// request and what the answer says.
func errorCheck(check, node string, resp *Response, remedy string) steps.CheckResult {
	ev := resp.Request + ": " + answerError(resp).Error()
	return steps.CheckResult{Check: check, Node: node, Status: steps.CheckFail, Evidence: ev, Remedy: remedy}
}
