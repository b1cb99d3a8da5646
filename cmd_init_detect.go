package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/alien4cloud"
	"github.com/hotsnap/hotsnap/steps"
)

// platformFiles is what detectPlatform found on a node.
type platformFiles struct {
	// Platform is a registered platform that discovers, PlatformEclecticIQ,
	// PlatformAlien4Cloud, or "" when none was recognised.
	Platform string
	// Alien4CloudConfig is the first Alien4Cloud config file found, if any.
	Alien4CloudConfig string
	// Alien4CloudDataDir is set when alien4cloud.DefaultDataDir exists.
	Alien4CloudDataDir string
}

// discoverers are the registered platforms that draft an inventory (init),
// in registry order.
func discoverers() []runbooks.Discoverer {
	var out []runbooks.Discoverer
	for _, name := range platforms.Names() {
		if p, err := platforms.Lookup(name); err == nil {
			if d, ok := p.(runbooks.Discoverer); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

// detectPlatform looks for each platform's configuration on node, in
// order: the registered platforms' (TheHive's application.conf), then
// EclecticIQ's platform_settings.py, an Alien4Cloud config.yml (or its
// default data directory).
func detectPlatform(ctx context.Context, ex steps.Executor, node string) (platformFiles, error) {
	var paths []string
	for _, d := range discoverers() {
		paths = append(paths, d.ConfigPath())
	}
	paths = append(paths, config.EclecticIQSettingsPath)
	paths = append(paths, config.Alien4CloudConfigPaths...)
	var b strings.Builder
	b.WriteString("for f in")
	for _, p := range paths {
		b.WriteString(" " + remote.Quote(p))
	}
	b.WriteString("; do if [ -f \"$f\" ]; then echo \"f $f\"; fi; done; if [ -d " + remote.Quote(alien4cloud.DefaultDataDir) + " ]; then echo d; fi")
	var out strings.Builder
	if _, err := ex.Run(ctx, node, remote.Command{Cmd: b.String(), Sudo: true, Stdout: &out, Stderr: io.Discard}); err != nil {
		return platformFiles{}, fmt.Errorf("%s: look for platform configuration: %w", node, err)
	}
	return detectFrom(out.String()), nil
}

// detectFrom interprets detectPlatform's remote output.
func detectFrom(out string) platformFiles {
	var pf platformFiles
	found := map[string]bool{}
	var a4c []string
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "d":
			pf.Alien4CloudDataDir = alien4cloud.DefaultDataDir
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
	for _, d := range discoverers() {
		if found[d.ConfigPath()] {
			pf.Platform = d.(runbooks.Platform).Name()
			return pf
		}
	}
	switch {
	case found[config.EclecticIQSettingsPath]:
		pf.Platform = config.PlatformEclecticIQ
	case pf.Alien4CloudConfig != "" || pf.Alien4CloudDataDir != "":
		pf.Platform = config.PlatformAlien4Cloud
	}
	return pf
}
