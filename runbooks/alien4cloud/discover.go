package alien4cloud

import (
	"context"
	"fmt"

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
