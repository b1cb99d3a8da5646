package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/steps"
)

func TestUnitsStopQuotesGlobsAndProvesStopped(t *testing.T) {
	u := Units{Node: "eiq1", Patterns: []string{"eclecticiq-platform-backend-worker*.service"}}
	if u.StopCmd() != "systemctl stop 'eclecticiq-platform-backend-worker*.service'" {
		t.Fatalf("stop %q", u.StopCmd())
	}
	f := remotetest.New(t)
	f.Expect("eiq1", u.StopCmd())
	f.Expect("eiq1", u.ListCmd()).Stdout("eclecticiq-platform-backend-worker@common.service loaded failed failed Worker common\neclecticiq-platform-backend-workers.service loaded inactive dead Workers\n")
	if err := u.Stop(context.Background(), steps.Detached(f, "stop")); err != nil {
		t.Fatal(err)
	}
}

func TestUnitsStartNamesWhatIsNotActive(t *testing.T) {
	u := Units{Node: "eiq1", Patterns: []string{"eclecticiq-platform-backend-workers", "eclecticiq-platform-backend-services"}}
	f := remotetest.New(t)
	f.Expect("eiq1", u.StartCmd())
	f.Expect("eiq1", u.ListCmd()).Always().Stdout("eclecticiq-platform-backend-workers.service loaded active exited Workers\n")
	err := u.Start(context.Background(), steps.Detached(f, "start"), 300e6)
	if err == nil || !strings.Contains(err.Error(), "eclecticiq-platform-backend-services.service not loaded") {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, ErrNotStopped) {
		t.Fatal("wrong error")
	}
}
