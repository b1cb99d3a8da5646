// Package service holds what hotsnap does with an application's systemd
// service: check its state, stop it and prove it stopped (state, main
// process, port), start it, and wait until it answers healthy with nothing
// logged as an error since the start. A Unit names the service, its port
// and its health URL; nothing here knows a particular application.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Unit is an application's systemd service.
type Unit struct {
	Name  string // the systemd unit ("thehive"), also its inventory role
	Label string // how messages name the application ("TheHive")
	Port  int    // the port it listens on: closed once it stopped
	// URL is the base URL of its API as seen from its node
	// ("http://127.0.0.1:9000"); Health is the path that answers 200 when
	// it is up ("/api/status").
	URL, Health string
	// Up says, from a healthy answer's body, what is up ("TheHive 5.2.16");
	// nil or "" leaves it out.
	Up func(body []byte) string
}

func (u Unit) q() string { return remote.Quote(u.Name) }

// StopCmd stops the unit and waits up to 60 s for systemd to see it
// inactive.
func (u Unit) StopCmd() string {
	return "systemctl stop " + u.q() + "; for i in $(seq 1 60); do systemctl is-active --quiet " + u.q() + " || break; sleep 1; done"
}

// StoppedProbe prints what proves the unit down: its state, whether its
// main process still runs, and whether its port still answers.
func (u Unit) StoppedProbe() string {
	return `echo "state=$(systemctl is-active ` + u.q() + `)"; ` +
		`pid=$(systemctl show -p MainPID --value ` + u.q() + ` 2>/dev/null); ` +
		`if [ -n "$pid" ] && [ "$pid" != 0 ] && kill -0 "$pid" 2>/dev/null; then echo process=yes; else echo process=no; fi; ` +
		`if (exec 3<>/dev/tcp/127.0.0.1/` + strconv.Itoa(u.Port) + `) 2>/dev/null; then echo port=open; else echo port=closed; fi`
}

// stopWhat says what a stop that passed its deadline waited for.
func stopWhat(cmd string) string {
	return "`" + cmd + "` to return (a unit that ignores SIGTERM holds it until its TimeoutStopSec, and systemd goes on stopping it " +
		"after hotsnap gives up: see `systemctl status` and `journalctl -u` on the node)"
}

// StartCmd starts the unit.
func (u Unit) StartCmd() string { return "systemctl start " + u.q() }

// StateCheck is the check of the unit's state on each of nodes: running
// passes, stopped warns, no such unit fails.
func (u Unit) StateCheck(nodes []string) steps.Step {
	cmd := "systemctl is-active " + u.q()
	check := u.Name + " service"
	return steps.Step{
		ID: u.Name, Title: u.Label + " service on each node", Kind: steps.KindCheck, Component: u.Name,
		Plan: steps.PlanEach(nodes, cmd, false),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			steps.EachNode(rc, nodes, func(rc *steps.RunContext, n string) {
				var b strings.Builder
				res, err := rc.Run(ctx, n, remote.Command{Cmd: cmd, Stdout: &b, Stderr: io.Discard})
				st, perr := parse.ParseIsActive(b.String(), res.ExitCode)
				switch {
				case perr == nil && st.NotFound:
					rc.Check(steps.CheckResult{Check: check, Node: n, Status: steps.CheckFail, Evidence: "no " + u.Name + " unit on this node",
						Remedy: "remove the " + u.Name + " role from this node in the inventory, or install " + u.Label + " here"})
				case perr == nil && st.Running():
					rc.Check(steps.CheckResult{Check: check, Node: n, Status: steps.CheckPass, Evidence: string(st.State)})
				case perr == nil:
					rc.Check(steps.CheckResult{Check: check, Node: n, Status: steps.CheckWarn, Evidence: string(st.State),
						Remedy: "`sudo systemctl start " + u.Name + "` when it should run; `journalctl -u " + u.Name + "` says why it stopped"})
				case err != nil:
					rc.Check(steps.CheckResult{Check: check, Node: n, Status: steps.CheckFail, Evidence: err.Error()})
				default:
					rc.Check(steps.CheckResult{Check: check, Node: n, Status: steps.CheckFail, Evidence: perr.Error()})
				}
			})
			return nil
		},
	}
}

// Stop stops the unit on every node at once and proves it stopped: state
// inactive (or failed), no main process, the port closed. A node where it
// did not stop fails, saying that nothing has been changed.
func (u Unit) Stop(ctx context.Context, rc *steps.RunContext, nodes []string) error {
	return steps.Parallel(nodes, func(i int, n string) error {
		var out string
		err := rc.WithDeadline(ctx, steps.DeadlineStop, n, stopWhat("systemctl stop "+u.Name)+"; nothing has been changed", func(ctx context.Context) error {
			if _, err := rc.Stdout(ctx, n, u.StopCmd(), true); err != nil {
				return fmt.Errorf("%s: stop %s: %w", n, u.Name, err)
			}
			var err error
			if out, err = rc.Stdout(ctx, n, "bash -c "+remote.Quote(u.StoppedProbe()), true); err != nil {
				return fmt.Errorf("%s: check %s stopped: %w", n, u.Name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !strings.Contains(out, "state=inactive") && !strings.Contains(out, "state=failed") || !strings.Contains(out, "process=no") || !strings.Contains(out, "port=closed") {
			return fmt.Errorf("%s: %s did not stop (%s): find out why (`journalctl -u %s`) before restoring; nothing has been changed",
				n, u.Label, strings.Join(strings.Fields(out), ", "), u.Name)
		}
		rc.Output(n, u.Label+" stopped: "+strings.Join(strings.Fields(out), ", "))
		return nil
	})
}

// Start starts the unit on every node at once.
func (u Unit) Start(ctx context.Context, rc *steps.RunContext, nodes []string) error {
	return rc.RunAll(ctx, nodes, func(string) remote.Command { return remote.Command{Cmd: u.StartCmd(), Sudo: true} })
}

// WaitHealthy polls the health URL on every node (through its tunnel)
// until it answers 200, at most timeout on each (--timeout-health, when
// given, instead).
func (u Unit) WaitHealthy(ctx context.Context, rc *steps.RunContext, env *steps.Env, nodes []string, poll, timeout time.Duration) error {
	timeout = rc.TimeoutOr(steps.DeadlineHealth, timeout)
	return steps.Parallel(nodes, func(i int, n string) error {
		cl, err := u.client(n, env.Dial(n))
		if err != nil {
			return err
		}
		defer cl.Close()
		var last string
		err = steps.Poll(ctx, poll, timeout, func() (bool, error) {
			status, body, err := cl.Get(ctx, u.Health)
			if err == nil && status == http.StatusOK {
				if u.Up != nil {
					if what := u.Up(body); what != "" {
						rc.Output(n, what+" is up")
					}
				}
				return true, nil
			}
			last = statusOf(status, err)
			return false, nil
		})
		if errors.Is(err, steps.ErrPollTimeout) {
			return fmt.Errorf("%s: %w: %s not healthy after %s (last: %v): see `journalctl -u %s` on the node; lengthen the wait with --%s DURATION",
				n, steps.ErrDeadline, u.Label, timeout, last, u.Name, steps.DeadlineHealth.Flag)
		}
		return err
	})
}

// statusOf says what a health poll got: the error, or the HTTP status.
func statusOf(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("HTTP %d", status)
}

// client is the HTTP client of the unit's URL on node.
func (u Unit) client(node string, dial remote.DialFunc) (*remote.HTTPClient, error) {
	return remote.NewHTTPClient(node, u.Name, u.URL, "", "", dial)
}

// LogErrorsSince reads the unit's journal since since on each node and
// fails on the first line logged as an error.
func (u Unit) LogErrorsSince(ctx context.Context, rc *steps.RunContext, nodes []string, since time.Time) error {
	journal := "journalctl -u " + u.q() + " --no-pager --since " + remote.Quote("@"+strconv.FormatInt(since.Unix(), 10))
	for _, n := range nodes {
		out, err := rc.Stdout(ctx, n, journal, true)
		if err != nil {
			return fmt.Errorf("%s: read the log: %w", n, err)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "[ERROR]") || strings.Contains(l, " ERROR ") {
				return fmt.Errorf("%s: %s logged an error since it started: %s", n, u.Label, strings.TrimSpace(l))
			}
		}
	}
	return nil
}

// Get reads the health URL on node through dial and returns the body of a
// 200 answer.
func (u Unit) Get(ctx context.Context, dial remote.DialFunc, node string) ([]byte, error) {
	cl, err := u.client(node, dial)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	status, body, err := cl.Get(ctx, u.Health)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: GET %s%s: HTTP %d", node, u.URL, u.Health, status)
	}
	return body, nil
}
