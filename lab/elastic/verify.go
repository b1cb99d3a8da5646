package elastic

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// verifyReq is a repository verification the master asked the other
// nodes for: each node's daemon writes into the location from its own
// mounts (Tick) and records what failed, as every data node does for
// POST _snapshot/REPO/_verify.
type verifyReq struct {
	ID       string            `json:"id"`
	Repo     string            `json:"repo"`
	Location string            `json:"location"`
	Pending  []string          `json:"pending"`
	Failed   map[string]string `json:"failed,omitempty"` // node → the file it could not write
}

// verifyWait bounds how long the master waits for the other nodes.
const verifyWait = 5 * time.Second

// recentMs is how recently a node must have ticked to be asked: a node
// whose daemon does not tick (an in-process test's) cannot answer.
const recentMs = 2000

// verifyOnNodes asks every other live node that ticks to verify the
// location and waits for their answers; it returns each failure by node
// ID and name.
func (c *Cluster) verifyOnNodes(master, repo, loc string) ([]*nodeInfo, map[string]string, error) {
	req := &verifyReq{ID: newUUID(), Repo: repo, Location: loc}
	var nodes []*nodeInfo
	err := c.update(func(st *state) error {
		for _, n := range c.liveNodes(st) {
			if n.Name != master && st.nowMs-n.LastSeen <= recentMs {
				req.Pending = append(req.Pending, n.Name)
				nodes = append(nodes, n)
			}
		}
		if len(req.Pending) > 0 {
			st.Verify = append(st.Verify, req)
		}
		return nil
	})
	if err != nil || len(req.Pending) == 0 {
		return nil, nil, err
	}
	var failed map[string]string
	deadline := time.Now().Add(verifyWait)
	for {
		done := false
		err := c.update(func(st *state) error {
			i := slices.IndexFunc(st.Verify, func(r *verifyReq) bool { return r.ID == req.ID })
			if i < 0 {
				done = true
				return nil
			}
			r := st.Verify[i]
			if len(r.Pending) == 0 || time.Now().After(deadline) {
				failed, done = r.Failed, true
				st.Verify = slices.Delete(st.Verify, i, i+1)
			}
			return nil
		})
		if err != nil || done {
			return nodes, failed, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answerVerifications verifies, from this node's own mounts, the
// locations the master asked node to, and records the failures.
func (c *Cluster) answerVerifications(node string) error {
	var todo []verifyReq
	var id string
	err := c.update(func(st *state) error {
		for _, n := range st.Nodes {
			if n.Name == node {
				id = n.ID
			}
		}
		for _, r := range st.Verify {
			if slices.Contains(r.Pending, node) {
				todo = append(todo, *r)
			}
		}
		return nil
	})
	if err != nil || len(todo) == 0 {
		return err
	}
	results := map[string]string{}
	for _, r := range todo {
		results[r.ID] = ""
		if e := verifyLocation(r.Repo, r.Location); e != nil {
			// The file a data node writes next to the master's.
			results[r.ID] = r.Location + "/tests-" + r.ID + "/data-" + id + ".dat"
		}
	}
	return c.update(func(st *state) error {
		for _, r := range st.Verify {
			res, ok := results[r.ID]
			if !ok {
				continue
			}
			r.Pending = slices.DeleteFunc(r.Pending, func(n string) bool { return n == node })
			if res != "" {
				if r.Failed == nil {
					r.Failed = map[string]string{}
				}
				r.Failed[node] = res
			}
		}
		return nil
	})
}

// errVerifyNodes is the repository_verification_exception of a location
// some nodes cannot write, in Elasticsearch's words (sample:
// es-repository-verification-exception-not-accessible-500.json): one
// [nodeId, 'RemoteTransportException…'] pair per failing node.
func errVerifyNodes(repo, loc string, nodes []*nodeInfo, failed map[string]string) *apiError {
	var parts []string
	for _, n := range nodes {
		why, ok := failed[n.Name]
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s, 'RemoteTransportException[[%s][127.0.0.1:9300][internal:admin/repository/verify]]; nested: RepositoryVerificationException[[%s] store location [%s] is not accessible on the node [{%s}{%s}{127.0.0.1}{127.0.0.1:9300}]]; nested: NotSerializableExceptionWrapper[access_denied_exception: %s];'",
			n.ID, n.Name, repo, loc, n.Name, n.ID, why))
	}
	return newErr(http.StatusInternalServerError, "repository_verification_exception", "["+repo+"] ["+strings.Join(parts, ", ")+"]]")
}
