package lab

import (
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
)

// The test binary also plays the EclecticIQ platform's commands, as
// main.go dispatches them.
func init() {
	testStandIns["celery"] = eclecticiq.CeleryMain
	testStandIns["eiq-platform"] = eclecticiq.PlatformMain
}
