package alien4cloud

import (
	"context"
	"fmt"
	"net"
	"path"
	"strconv"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/host"
)

// DefaultDataDir is alien4cloud.dir in the backup tool's
// documented config.yml (seed 004): init uses it when no config file names
// the directory but it exists on the node.
const DefaultDataDir = "/opt/alien4cloud/data"

// ReadConf reads an Alien4Cloud config.yml on node.
func ReadConf(ctx context.Context, ex steps.Executor, node, file string) (*config.Alien4CloudConf, error) {
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

// Section drafts the inventory's alien4cloud section for `hotsnap init`
// from the configuration file read on the node (file; c nil when none was
// found): Alien4Cloud's own alien4cloud-config.yml gives the REST port
// and scheme and becomes alien4cloud.config, and its directories.alien
// needs no override; the tool's config.yml (or nothing) leaves spray's
// defaults and makes dataDir the override. password is the reference the
// admin's password is read from.
func Section(file string, c *config.Alien4CloudConf, dataDir string, password config.Secret) *config.Alien4Cloud {
	a := &config.Alien4Cloud{URL: config.DefaultA4CURL, Username: config.DefaultA4CUser, Password: password,
		Config: config.DefaultA4CConfig, Service: config.DefaultA4CService}
	own := c != nil && c.Own
	if own {
		scheme := "http"
		if c.SSL {
			scheme = "https"
		}
		a.Config, a.URL = file, scheme+"://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	}
	if dataDir != "" && (!own || path.Clean(c.DataDir) != path.Clean(dataDir)) {
		a.DataDir = dataDir
	}
	return a
}
