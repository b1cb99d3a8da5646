package thehive

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// appLog writes TheHive's two logback outputs: the application.log pattern
// "%date [%level] from %logger in %thread [%X{request}] %message" to file and
// the console pattern "%coloredLevel %logger{15} [%X{request}] %message"
// (uncoloured, as under systemd) to console.
type appLog struct {
	mu      sync.Mutex
	file    io.Writer
	console io.Writer
	now     func() time.Time
}

// Log levels as logback prints them.
const (
	levelInfo  = "INFO"
	levelWarn  = "WARN"
	levelError = "ERROR"
)

func (l *appLog) log(level, logger, thread, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		fmt.Fprintf(l.file, "%s [%s] from %s in %s [|] %s\n", l.now().Format("2006-01-02 15:04:05,000"), level, logger, thread, msg)
	}
	if l.console != nil {
		fmt.Fprintf(l.console, "[%s] %s [|] %s\n", strings.ToLower(level), abbreviateLogger(logger, 15), msg)
	}
}

// abbreviateLogger is logback's %logger{n}: package segments are cut to
// their first letter, left to right, until the name fits n (the class name
// is never cut).
func abbreviateLogger(name string, n int) string {
	if len(name) <= n {
		return name
	}
	parts := strings.Split(name, ".")
	length := len(name)
	for i := 0; i < len(parts)-1 && length > n; i++ {
		if len(parts[i]) > 1 {
			length -= len(parts[i]) - 1
			parts[i] = parts[i][:1]
		}
	}
	return strings.Join(parts, ".")
}
