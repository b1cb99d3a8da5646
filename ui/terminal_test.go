package ui

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

type idleModel struct{}

func (idleModel) Init() tea.Cmd                         { return nil }
func (m idleModel) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }
func (idleModel) View() tea.View                        { return tea.NewView("idle") }

// TestWithTerminalHandsTheTerminalOver: a prompt asked while a TUI runs
// gets the terminal (the program releases it, runs the prompt, takes it
// back), and its answer reaches the caller; the TUI goes on afterwards.
func TestWithTerminalHandsTheTerminalOver(t *testing.T) {
	// direct wants fn run, at once, and its nil error returned.
	direct := func(when string) {
		t.Helper()
		called := false
		if err := WithTerminal(func() error { called = true; return nil }); err != nil || !called {
			t.Fatalf("%s: WithTerminal = %v, fn called: %v", when, err, called)
		}
	}
	direct("without a TUI")
	in, inW := io.Pipe()
	defer inW.Close()
	p := tea.NewProgram(idleModel{}, tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithWindowSize(80, 24), tea.WithoutSignalHandler())
	stop := showing(p)
	ran := make(chan error, 1)
	go func() { _, err := p.Run(); ran <- err }()

	want := errors.New("the prompt's own error")
	var calls int
	got := WithTerminal(func() error { calls++; return want })
	if got != want || calls != 1 {
		t.Fatalf("WithTerminal = %v after %d calls, want the prompt's error once", got, calls)
	}
	var b bytes.Buffer
	if err := WithTerminal(func() error { b.WriteString("again"); return nil }); err != nil || b.String() != "again" {
		t.Fatalf("second hand-over: %v %q", err, b.String())
	}
	p.Quit()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("program: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the program did not take the terminal back and quit")
	}
	stop()
	// Once the TUI is gone, fn runs directly.
	direct("after the TUI")
}
