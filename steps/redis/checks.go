package redis

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotsnap/hotsnap/steps"
)

// Check is the preflight check of the broker: PING with the password
// (through REDISCLI_AUTH), then the queued work found by type (TYPE before
// LLEN). server is asked for when the step runs: the database may come
// from the platform's settings, read by an earlier step.
func Check(node string, server func(ctx context.Context, rc *steps.RunContext) (Server, error)) steps.Step {
	return steps.Step{
		ID: "redis", Title: "Redis: the Celery broker and its queues", Kind: steps.KindCheck, Component: Component,
		Why: "The backup drains the Celery queues before it stops the workers; the queues are lists (with kombu's priority lists) and an unacked hash, found by type, in the broker's database (REDIS_URL), not redis-cli's default 0.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: node, Cmd: "redis-cli PING (password through REDISCLI_AUTH on stdin); " + CountsCmds}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			s, err := server(ctx, rc)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "redis", Node: node, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: "set eclecticiq.redis.db in the inventory, or fix REDIS_URL in platform_settings.py"})
				return nil
			}
			if err := s.Ping(ctx, rc); err != nil {
				rc.Check(steps.CheckResult{Check: "redis", Node: node, Status: steps.CheckFail, Evidence: err.Error(),
					Remedy: fmt.Sprintf("check that Redis answers on 127.0.0.1:%d of %s and that eclecticiq.redis.password names its requirepass", s.Port, node)})
				return nil
			}
			c, err := s.Count(ctx, rc)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "redis queues", Node: node, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			ev := fmt.Sprintf("PONG; database %d: %d Celery queues bound, %d keys hold %d tasks queued or unacknowledged", s.DB, c.Bound, len(c.Queues), c.Total)
			if ne := c.NonEmpty(); len(ne) > 0 {
				ev += " (" + strings.Join(ne, ", ") + ")"
			}
			r := steps.CheckResult{Check: "redis queues", Node: node, Status: steps.CheckPass, Evidence: ev}
			if c.Bound == 0 && len(c.Queues) == 0 {
				r.Status, r.Remedy = steps.CheckWarn, fmt.Sprintf("no queue key in database %d: is it the broker's (REDIS_URL in platform_settings.py)? A wrong database reads every queue as empty", s.DB)
			}
			rc.Check(r)
			return nil
		},
	}
}
