// Package redis holds what hotsnap does with a Redis server over SSH:
// redis-cli on its node, the password (requirepass) handed over through
// REDISCLI_AUTH read from the command's stdin — never in argv, on the
// command line or in the environment of the SSH session. It pings, finds
// the queue keys of a database (SCAN, then TYPE before LLEN or HLEN:
// LLEN on a key of another type answers WRONGTYPE with exit status 0),
// deletes keys, and saves the RDB with BGSAVE/LASTSAVE and streams it
// into the repository.
package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Component is what the steps of this package work on (Step.Component).
const Component = "redis"

// Server is a Redis database as reached on its node (127.0.0.1:Port).
type Server struct {
	Node     string
	Port     int
	DB       int
	Password string // "" when the server has none
}

// authPrelude reads the password from the first line of stdin into
// REDISCLI_AUTH (exported only when there is one), so that it reaches
// redis-cli through its environment, never argv.
const authPrelude = `IFS= read -r REDISCLI_AUTH; if [ -n "$REDISCLI_AUTH" ]; then export REDISCLI_AUTH; else unset REDISCLI_AUTH; fi; exec `

// CLI returns the command running redis-cli with args against the
// database; its stdin must start with the password line (Stdin).
func (s Server) CLI(args ...string) string {
	q := []string{"redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-n", strconv.Itoa(s.DB)}
	return authPrelude + remote.Join(append(q, args...)...)
}

// Stdin is what a redis-cli command reads: the password line, then the
// commands (one a line, arguments quoted with parse.RedisArg).
func (s Server) Stdin(commands ...string) io.Reader {
	var b strings.Builder
	b.WriteString(s.Password + "\n")
	for _, c := range commands {
		b.WriteString(c + "\n")
	}
	return strings.NewReader(b.String())
}

// run sends commands to redis-cli --no-raw (one reply line each) and
// returns the replies.
func (s Server) run(ctx context.Context, rc *steps.RunContext, commands ...string) ([]string, error) {
	var out strings.Builder
	_, err := rc.Run(ctx, s.Node, remote.Command{Cmd: s.CLI("--no-raw"), Stdin: s.Stdin(commands...), Stdout: &out, Stderr: io.Discard})
	if err != nil {
		return nil, fmt.Errorf("%s: redis-cli: %w", s.Node, err)
	}
	r, err := parse.RedisReplies(out.String(), len(commands))
	if err != nil {
		return nil, fmt.Errorf("%s: redis-cli %s: %w", s.Node, firstWord(commands), err)
	}
	return r, nil
}

func firstWord(cmds []string) string {
	if len(cmds) == 0 {
		return ""
	}
	w, _, _ := strings.Cut(cmds[0], " ")
	return w
}

// Ping checks that the server answers and takes the password.
func (s Server) Ping(ctx context.Context, rc *steps.RunContext) error {
	r, err := s.run(ctx, rc, "PING")
	if err != nil {
		return err
	}
	if err := parse.ParseRedisPing(r[0]); err != nil {
		return fmt.Errorf("%s: %w", s.Node, err)
	}
	return nil
}

// Keys returns every key of the database (SCAN, which never blocks the
// server as KEYS would).
func (s Server) Keys(ctx context.Context, rc *steps.RunContext) ([]string, error) {
	var out strings.Builder
	if _, err := rc.Run(ctx, s.Node, remote.Command{Cmd: s.CLI("--scan"), Stdin: s.Stdin(), Stdout: &out, Stderr: io.Discard}); err != nil {
		return nil, fmt.Errorf("%s: redis-cli --scan: %w", s.Node, err)
	}
	var keys []string
	for l := range strings.Lines(out.String()) {
		k := strings.TrimSuffix(l, "\n")
		if k == "" {
			continue
		}
		if _, err := parse.RedisReplies(k, 1); err != nil {
			// --scan prints an error reply (NOAUTH …) as a key.
			return nil, fmt.Errorf("%s: redis-cli --scan: %w", s.Node, err)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// Queue is one key that holds queued work, and how many items it holds.
type Queue struct {
	Key   string // as stored (kombu's priority lists hold \x06\x16)
	Type  string // list, or hash for kombu's unacked
	Count int64
}

// Counts are the database's queued work: every list (Celery queues with
// their priority lists, the pipeline lists) and the hashes of delivered,
// unacknowledged messages (kombu's "unacked").
type Counts struct {
	Queues []Queue
	Total  int64
	// Bound is how many Celery queues kombu declared (its
	// _kombu.binding.<queue> sets): none suggests another database.
	Bound int
}

// NonEmpty lists the keys that hold work, for people, with their counts.
func (c Counts) NonEmpty() []string {
	var out []string
	for _, q := range c.Queues {
		if q.Count > 0 {
			out = append(out, fmt.Sprintf("%s=%d", parse.RedisKeyText(q.Key), q.Count))
		}
	}
	return out
}

// Map returns the counts by key, for the manifest.
func (c Counts) Map() map[string]int64 {
	m := map[string]int64{}
	for _, q := range c.Queues {
		m[parse.RedisKeyText(q.Key)] = q.Count
	}
	return m
}

// CountsCmds are the commands Count sends: SCAN, then TYPE of each key,
// then LLEN or HLEN of the lists and hashes.
const CountsCmds = "redis-cli --scan; TYPE <key>…; LLEN <list>… HLEN unacked"

// Count discovers the keys that hold queued work and counts them: TYPE
// first (LLEN on another type answers WRONGTYPE with exit status 0), then
// LLEN of every list and HLEN of every hash named unacked (kombu's
// delivered but unacknowledged messages; unacked_index only indexes it).
func (s Server) Count(ctx context.Context, rc *steps.RunContext) (Counts, error) {
	keys, err := s.Keys(ctx, rc)
	if err != nil || len(keys) == 0 {
		return Counts{}, err
	}
	bound := 0
	for _, k := range keys {
		if strings.HasPrefix(k, "_kombu.binding.") {
			bound++
		}
	}
	cmds := make([]string, len(keys))
	for i, k := range keys {
		cmds[i] = "TYPE " + parse.RedisArg(k)
	}
	types, err := s.run(ctx, rc, cmds...)
	if err != nil {
		return Counts{}, err
	}
	var qs []Queue
	cmds = cmds[:0]
	for i, k := range keys {
		t, err := parse.ParseRedisType(types[i])
		if err != nil {
			return Counts{}, fmt.Errorf("%s: TYPE %s: %w", s.Node, parse.RedisKeyText(k), err)
		}
		switch {
		case t == "list":
			cmds = append(cmds, "LLEN "+parse.RedisArg(k))
		case t == "hash" && isUnacked(k):
			cmds = append(cmds, "HLEN "+parse.RedisArg(k))
		default:
			continue
		}
		qs = append(qs, Queue{Key: k, Type: t})
	}
	if len(qs) == 0 {
		return Counts{Bound: bound}, nil
	}
	ns, err := s.run(ctx, rc, cmds...)
	if err != nil {
		// A key that changed type or vanished between TYPE and LLEN: the
		// caller polls again.
		return Counts{}, err
	}
	c := Counts{Bound: bound}
	for i := range qs {
		n, err := parse.ParseRedisInteger(ns[i])
		if err != nil {
			return Counts{}, fmt.Errorf("%s: %s %s: %w", s.Node, cmds[i][:4], parse.RedisKeyText(qs[i].Key), err)
		}
		qs[i].Count = n
		c.Total += n
	}
	c.Queues = qs
	return c, nil
}

// isUnacked says whether a hash is kombu's unacked messages (unacked, or
// with a key prefix).
func isUnacked(k string) bool { return k == "unacked" || strings.HasSuffix(k, "unacked") }

// Delete deletes keys and returns how many existed.
func (s Server) Delete(ctx context.Context, rc *steps.RunContext, keys []string) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	args := make([]string, len(keys))
	for i, k := range keys {
		args[i] = parse.RedisArg(k)
	}
	r, err := s.run(ctx, rc, "DEL "+strings.Join(args, " "))
	if err != nil {
		return 0, err
	}
	return parse.ParseRedisInteger(r[0])
}

// RDB is a Redis dump file copied into the repository.
type RDB struct {
	Path     string
	Size     int64
	SHA256   string
	LastSave int64 // LASTSAVE of the save it holds
}

// SaveCmds describes what Save runs, for the plan.
const SaveCmds = "LASTSAVE; BGSAVE; LASTSAVE and INFO persistence until a new save ended ok; CONFIG GET dir, dbfilename; cat the RDB"

// Save makes Redis write a new RDB (BGSAVE), waits until LASTSAVE moves
// and INFO persistence says it ended ok (the RDB is written to a temporary
// file and renamed: a copy of it is consistent), then streams it into
// store at p, hashed on the way. dataDir is used when CONFIG is renamed.
func (s Server) Save(ctx context.Context, rc *steps.RunContext, store repo.Store, p, dataDir string, timeout time.Duration) (*RDB, error) {
	r, err := s.run(ctx, rc, "LASTSAVE")
	if err != nil {
		return nil, err
	}
	before, err := parse.ParseRedisInteger(r[0])
	if err != nil {
		return nil, fmt.Errorf("%s: LASTSAVE: %w", s.Node, err)
	}
	// LASTSAVE has a one-second resolution: a save in the same second as
	// the last one would not show.
	if now := time.Now().Unix(); now <= before {
		time.Sleep(time.Until(time.Unix(before+1, 0)))
	}
	if _, err := s.run(ctx, rc, "BGSAVE"); err != nil {
		return nil, err
	}
	var last int64
	err = steps.Poll(ctx, time.Second, timeout, func() (bool, error) {
		r, err := s.run(ctx, rc, "LASTSAVE")
		if err != nil {
			return false, err
		}
		if last, err = parse.ParseRedisInteger(r[0]); err != nil || last <= before {
			return false, err
		}
		var out strings.Builder
		if _, err := rc.Run(ctx, s.Node, remote.Command{Cmd: s.CLI("INFO", "persistence"), Stdin: s.Stdin(), Stdout: &out, Stderr: io.Discard}); err != nil {
			return false, err
		}
		info, err := parse.ParseRedisInfo(out.String())
		if err != nil {
			return false, err
		}
		if info["rdb_bgsave_in_progress"] != "0" {
			return false, nil
		}
		if st := info["rdb_last_bgsave_status"]; st != "ok" {
			return false, fmt.Errorf("BGSAVE ended %s: see the Redis log", st)
		}
		return true, nil
	})
	if errors.Is(err, steps.ErrPollTimeout) {
		return nil, fmt.Errorf("%s: BGSAVE did not finish within %s", s.Node, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: BGSAVE: %w", s.Node, err)
	}
	file := path.Join(dataDir, "dump.rdb")
	if dir, name, err := s.rdbFile(ctx, rc); err == nil {
		file = path.Join(dir, name)
	}
	ix, err := repo.WriteFile(ctx, store, p, func(w io.Writer) error {
		_, err := rc.Run(ctx, s.Node, remote.Command{Cmd: "cat " + remote.Quote(file), Sudo: true, Stdout: w})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: copy %s: %w", s.Node, file, err)
	}
	return &RDB{Path: p, Size: ix.Size, SHA256: ix.SHA256, LastSave: last}, nil
}

// rdbFile asks the server where it writes its RDB (CONFIG GET dir and
// dbfilename, raw: name and value on two lines each).
func (s Server) rdbFile(ctx context.Context, rc *steps.RunContext) (dir, name string, err error) {
	var out strings.Builder
	if _, err := rc.Run(ctx, s.Node, remote.Command{Cmd: s.CLI("--raw"), Stdin: s.Stdin("CONFIG GET dir", "CONFIG GET dbfilename"), Stdout: &out, Stderr: io.Discard}); err != nil {
		return "", "", err
	}
	f := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(f) != 4 || f[0] != "dir" || f[2] != "dbfilename" || !path.IsAbs(f[1]) || f[3] == "" || strings.Contains(f[3], "/") {
		return "", "", fmt.Errorf("unexpected CONFIG GET reply %q", out.String())
	}
	return f[1], f[3], nil
}
