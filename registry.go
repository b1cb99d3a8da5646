package main

import (
	"github.com/hotsnap/hotsnap/runbooks"
	"github.com/hotsnap/hotsnap/runbooks/alien4cloud"
	"github.com/hotsnap/hotsnap/runbooks/eclecticiq"
	"github.com/hotsnap/hotsnap/runbooks/thehive"
)

// platforms are the platforms this hotsnap has runbooks for: adding one is
// a package under runbooks/ and one entry here.
var platforms = runbooks.NewRegistry(
	thehive.Platform{},
	alien4cloud.Platform{},
	eclecticiq.Platform{},
)
