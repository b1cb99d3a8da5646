package ui

import (
	"errors"
	"io"
	"sync"

	tea "charm.land/bubbletea/v2"
)

// onScreen is the TUI program on the terminal, if any, and a channel closed
// when it ends.
var onScreen struct {
	mu   sync.Mutex
	p    *tea.Program
	done chan struct{}
}

// ErrScreenClosed is returned by WithTerminal when the TUI ended before it
// could hand the terminal over.
var ErrScreenClosed = errors.New("the wizard screen closed before the terminal was handed over")

// showing records p as the program on the terminal until the returned
// function is called.
func showing(p *tea.Program) func() {
	done := make(chan struct{})
	onScreen.mu.Lock()
	onScreen.p, onScreen.done = p, done
	onScreen.mu.Unlock()
	return func() {
		onScreen.mu.Lock()
		if onScreen.p == p {
			onScreen.p, onScreen.done = nil, nil
		}
		onScreen.mu.Unlock()
		close(done)
	}
}

// WithTerminal runs fn with the terminal to itself. While a TUI (the wizard
// or a command's run screen) is on it, the TUI hands the terminal over for
// the length of fn — its screen and keyboard reader are released, then
// restored — so that a prompt for an SSH key's passphrase or the sudo
// password, asked from a run's goroutine, reads the keys typed instead of
// the TUI. Without a TUI, fn simply runs. It is safe from any goroutine
// but the TUI's own.
func WithTerminal(fn func() error) error {
	onScreen.mu.Lock()
	p, done := onScreen.p, onScreen.done
	onScreen.mu.Unlock()
	if p == nil {
		return fn()
	}
	result := make(chan error, 1)
	go p.Send(tea.Exec(handOver(func() error { result <- fn(); return nil }), nil)())
	select {
	case err := <-result:
		return err
	case <-done:
		select {
		case err := <-result:
			return err
		default:
			return ErrScreenClosed
		}
	}
}

// handOver is a tea.ExecCommand that runs a function on the released
// terminal.
type handOver func() error

func (h handOver) Run() error          { return h() }
func (h handOver) SetStdin(io.Reader)  {}
func (h handOver) SetStdout(io.Writer) {}
func (h handOver) SetStderr(io.Writer) {}
