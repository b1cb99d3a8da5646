// Package eclecticiq holds EclecticIQ Intelligence Center's runbooks, as
// its backup guidelines (seed 003) and reference/eclecticiq-alien4cloud.md
// describe them: preflight.go, backup.go (with backup_data.go: the dump,
// the snapshot, the configuration) and restore.go read top to bottom like
// the document, composing steps/postgres, steps/redis, steps/service,
// steps/es and steps/files; discover.go is what `hotsnap init` reads on an
// EclecticIQ node (platform_settings.py, read and never executed, and
// elasticsearch.yml, PostgreSQL's and Redis' own answers).
package eclecticiq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/host"
)

// ReadConf reads platform_settings.py on node (through sudo) and
// the first elasticsearch.yml of config.EclecticIQElasticsearchYMLPaths
// that exists. Errors name the node and file:line:col.
func ReadConf(ctx context.Context, ex steps.Executor, node string) (*config.EclecticIQConf, error) {
	data, err := host.ReadFile(ctx, ex, node, config.EclecticIQSettingsPath)
	if err != nil {
		return nil, fmt.Errorf("read EclecticIQ settings: %w", err)
	}
	c, err := config.ReadEclecticIQSettings(config.EclecticIQSettingsPath, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	for _, p := range config.EclecticIQElasticsearchYMLPaths {
		data, err := host.ReadFile(ctx, ex, node, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		es, err := config.ReadElasticsearchYML(p, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", node, err)
		}
		c.MergeElasticsearchYML(es)
		break
	}
	return c, nil
}

// PostgresDataDir asks the PostgreSQL server listening on port on node for
// its data_directory (as the postgres OS user, over the local socket), and
// falls back to the -D argument of the running postmaster.
func PostgresDataDir(ctx context.Context, ex steps.Executor, node string, port int) (string, error) {
	var b strings.Builder
	cmd := "runuser -u postgres -- psql -p " + strconv.Itoa(port) + " -d postgres -Atqc 'SHOW data_directory'"
	_, err := ex.Run(ctx, node, remote.Command{Cmd: cmd, Sudo: true, Stdout: &b, Stderr: io.Discard})
	if dir := strings.TrimSpace(b.String()); err == nil && path.IsAbs(dir) && !strings.Contains(dir, "\n") {
		return dir, nil
	}
	b.Reset()
	if _, perr := ex.Run(ctx, node, remote.Command{Cmd: "ps -eo args=", Stdout: &b, Stderr: io.Discard}); perr != nil {
		return "", fmt.Errorf("%s: PostgreSQL data directory: psql: %v; ps: %w", node, err, perr)
	}
	if dir := postmasterDataDir(b.String(), port); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("%s: PostgreSQL data directory: neither psql (SHOW data_directory) nor a running postgres -D … on port %d told it", node, port)
}

// postmasterDataDir finds "-D DIR" on a postgres command line of ps
// output, preferring one that also says "-p port".
func postmasterDataDir(ps string, port int) string {
	var any string
	for line := range strings.Lines(ps) {
		f := strings.Fields(line)
		if len(f) == 0 || (path.Base(f[0]) != "postgres" && path.Base(f[0]) != "postmaster") {
			continue
		}
		dir, p := "", ""
		for i := 1; i < len(f); i++ {
			switch {
			case f[i] == "-D" && i+1 < len(f):
				dir = f[i+1]
			case strings.HasPrefix(f[i], "-D") && len(f[i]) > 2:
				dir = f[i][2:]
			case f[i] == "-p" && i+1 < len(f):
				p = f[i+1]
			}
		}
		if dir == "" {
			continue
		}
		if p == strconv.Itoa(port) {
			return dir
		}
		if any == "" && p == "" {
			any = dir
		}
	}
	return any
}

// RedisDataDir asks the Redis server at host:port, from node, for its
// dump directory (CONFIG GET dir).
func RedisDataDir(ctx context.Context, ex steps.Executor, node, host string, port int) (string, error) {
	var b strings.Builder
	cmd := "redis-cli -h " + remote.Quote(host) + " -p " + strconv.Itoa(port) + " --raw config get dir"
	if _, err := ex.Run(ctx, node, remote.Command{Cmd: cmd, Stdout: &b, Stderr: io.Discard}); err != nil {
		return "", fmt.Errorf("%s: redis-cli config get dir: %w", node, err)
	}
	lines := strings.Fields(b.String())
	if len(lines) != 2 || lines[0] != "dir" || !path.IsAbs(lines[1]) {
		return "", fmt.Errorf("%s: redis-cli config get dir: unexpected reply %q (authentication needed, or CONFIG renamed?)", node, strings.TrimSpace(b.String()))
	}
	return lines[1], nil
}
