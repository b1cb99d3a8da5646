package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hotsnap/hotsnap/steps"
)

// LineApprover asks at a gate on a terminal, line by line (the plain and
// JSON modes; the wizard has its own modal). An ordinary gate takes "yes";
// a destructive gate takes the cluster name typed exactly.
type LineApprover struct {
	In  io.Reader
	Out io.Writer
}

// Approve asks the question and reads one answer.
func (a LineApprover) Approve(ctx context.Context, g steps.GateRequest) (bool, error) {
	if g.Destructive {
		fmt.Fprintf(a.Out, "  This is destructive. Type the cluster name (%s) to go on, anything else to stop: ", g.Cluster)
	} else {
		fmt.Fprintf(a.Out, "  Go on? [yes/no]: ")
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(a.In).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case s := <-line:
		if g.Destructive {
			return s == g.Cluster, nil
		}
		s = strings.ToLower(s)
		return s == "y" || s == "yes", nil
	}
}
