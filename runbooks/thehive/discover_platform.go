package thehive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps"

	"github.com/hotsnap/hotsnap/steps/host"
)

// Alien4CloudDefaultDataDir is alien4cloud.dir in the backup tool's
// documented config.yml (seed 004): init uses it when no config file names
// the directory but it exists on the node.
const Alien4CloudDefaultDataDir = "/opt/alien4cloud/data"

// PlatformFiles is what DetectPlatform found on a node.
type PlatformFiles struct {
	// Platform is config.PlatformTheHive, PlatformEclecticIQ,
	// PlatformAlien4Cloud, or "" when none was recognised.
	Platform string
	// Alien4CloudConfig is the first Alien4Cloud config file found, if any.
	Alien4CloudConfig string
	// Alien4CloudDataDir is set when Alien4CloudDefaultDataDir exists.
	Alien4CloudDataDir string
}

// DetectPlatform looks for each platform's configuration on node, in
// order: TheHive's application.conf, EclecticIQ's platform_settings.py,
// an Alien4Cloud config.yml (or its default data directory).
func DetectPlatform(ctx context.Context, ex steps.Executor, node string) (PlatformFiles, error) {
	paths := append([]string{TheHiveConfPath, config.EclecticIQSettingsPath}, config.Alien4CloudConfigPaths...)
	var b strings.Builder
	b.WriteString("for f in")
	for _, p := range paths {
		b.WriteString(" " + remote.Quote(p))
	}
	b.WriteString("; do if [ -f \"$f\" ]; then echo \"f $f\"; fi; done; if [ -d " + remote.Quote(Alien4CloudDefaultDataDir) + " ]; then echo d; fi")
	var out strings.Builder
	if _, err := ex.Run(ctx, node, remote.Command{Cmd: b.String(), Sudo: true, Stdout: &out, Stderr: io.Discard}); err != nil {
		return PlatformFiles{}, fmt.Errorf("%s: look for platform configuration: %w", node, err)
	}
	return detectFrom(out.String()), nil
}

// detectFrom interprets DetectPlatform's remote output.
func detectFrom(out string) PlatformFiles {
	var pf PlatformFiles
	found := map[string]bool{}
	var a4c []string
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "d":
			pf.Alien4CloudDataDir = Alien4CloudDefaultDataDir
		case strings.HasPrefix(line, "f "):
			p := line[2:]
			found[p] = true
			if slices.Contains(config.Alien4CloudConfigPaths, p) {
				a4c = append(a4c, p)
			}
		}
	}
	if len(a4c) > 0 {
		pf.Alien4CloudConfig = a4c[0]
	}
	switch {
	case found[TheHiveConfPath]:
		pf.Platform = config.PlatformTheHive
	case found[config.EclecticIQSettingsPath]:
		pf.Platform = config.PlatformEclecticIQ
	case pf.Alien4CloudConfig != "" || pf.Alien4CloudDataDir != "":
		pf.Platform = config.PlatformAlien4Cloud
	}
	return pf
}

// ReadEclecticIQConf reads platform_settings.py on node (through sudo) and
// the first elasticsearch.yml of config.EclecticIQElasticsearchYMLPaths
// that exists. Errors name the node and file:line:col.
func ReadEclecticIQConf(ctx context.Context, ex steps.Executor, node string) (*config.EclecticIQConf, error) {
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

// ReadAlien4CloudConf reads an Alien4Cloud config.yml on node.
func ReadAlien4CloudConf(ctx context.Context, ex steps.Executor, node, file string) (*config.Alien4CloudConf, error) {
	data, err := host.ReadFile(ctx, ex, node, file)
	if err != nil {
		return nil, fmt.Errorf("read Alien4Cloud configuration: %w", err)
	}
	c, err := config.ReadAlien4CloudConf(file, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
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
