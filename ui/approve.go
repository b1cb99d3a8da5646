package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hotsnap/hotsnap/steps"
)

// LineApprover asks at a gate on a terminal, line by line (the plain and
// JSON modes; the wizard has its own modal). An ordinary gate takes "yes";
// a destructive gate takes the cluster name typed exactly; a choice gate
// takes a number from its list (enter: the default).
type LineApprover struct {
	In  io.Reader
	Out io.Writer
}

var _ steps.Chooser = LineApprover{}

// Choose lists a choice gate's choices, numbered, and reads one answer: a
// number, a choice's key, or an empty line for the default. Anything else
// declines ("").
func (a LineApprover) Choose(ctx context.Context, g steps.GateRequest) (string, error) {
	def := 0
	for i, c := range g.Choices {
		notes := choiceNotes(g, c)
		if c.Key == g.Default {
			def = i + 1
		}
		if c.Destructive {
			notes = append(notes, "removes data, after the destructive gate")
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, "; ") + ")"
		}
		fmt.Fprintf(a.Out, "    %d) %s%s\n", i+1, c.Label, note)
	}
	if def > 0 {
		fmt.Fprintf(a.Out, "  Choose 1-%d (enter: %d), anything else stops: ", len(g.Choices), def)
	} else {
		fmt.Fprintf(a.Out, "  Choose 1-%d, anything else stops: ", len(g.Choices))
	}
	s, err := a.readLine(ctx)
	if err != nil {
		return "", err
	}
	if s == "" && def > 0 {
		return g.Choices[def-1].Key, nil
	}
	for i, c := range g.Choices {
		if s == strconv.Itoa(i+1) || strings.EqualFold(s, c.Key) {
			return c.Key, nil
		}
	}
	return "", nil
}

// choiceNotes are the notes after a choice's label: "default" for the
// gate's default, then the choice's flag.
func choiceNotes(g steps.GateRequest, c steps.GateChoice) []string {
	var notes []string
	if c.Key == g.Default {
		notes = append(notes, "default")
	}
	if c.Flag != "" {
		notes = append(notes, c.Flag)
	}
	return notes
}

// readLine reads one line, or returns ctx's error when it ends first.
func (a LineApprover) readLine(ctx context.Context) (string, error) {
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(a.In).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case s := <-line:
		return s, nil
	}
}

// Approve asks the question and reads one answer.
func (a LineApprover) Approve(ctx context.Context, g steps.GateRequest) (bool, error) {
	if g.Destructive {
		fmt.Fprintf(a.Out, "  This is destructive. Type the cluster name (%s) to go on, anything else to stop: ", g.Cluster)
	} else {
		fmt.Fprintf(a.Out, "  Go on? [yes/no]: ")
	}
	s, err := a.readLine(ctx)
	if err != nil {
		return false, err
	}
	if g.Destructive {
		return s == g.Cluster, nil
	}
	s = strings.ToLower(s)
	return s == "y" || s == "yes", nil
}
