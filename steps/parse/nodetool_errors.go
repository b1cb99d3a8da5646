package parse

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrJMXDown is matched (errors.Is) by a *JMXDownError: nodetool could not
// reach the node's JMX port, so the node is down, still starting, or JMX
// listens elsewhere.
var ErrJMXDown = errors.New("nodetool cannot connect to JMX")

// ErrSnapshotExists is matched (errors.Is) by a *SnapshotExistsError.
var ErrSnapshotExists = errors.New("snapshot tag already exists")

// ErrKeyspaceNotFound is matched (errors.Is) by a *KeyspaceNotFoundError.
var ErrKeyspaceNotFound = errors.New("keyspace does not exist")

// JMXDownError is nodetool's single stderr line
// "nodetool: Failed to connect to 'HOST:PORT' - EXCEPTION: 'MESSAGE'.".
type JMXDownError struct {
	// Addr is the HOST:PORT nodetool tried, e.g. "127.0.0.1:7199".
	Addr string
	// Exception is the simple class name of the root cause, e.g. "ConnectException".
	Exception string
	// Message is the root cause's message, e.g. "Connection refused".
	Message string
}

// Error implements error.
func (e *JMXDownError) Error() string {
	return fmt.Sprintf("nodetool cannot connect to JMX at %s: %s: %s", e.Addr, e.Exception, e.Message)
}

// Unwrap makes errors.Is(err, ErrJMXDown) true.
func (e *JMXDownError) Unwrap() error { return ErrJMXDown }

// SnapshotExistsError is nodetool snapshot's "error: Snapshot TAG already exists.".
type SnapshotExistsError struct {
	// Tag is the snapshot name that is already taken.
	Tag string
}

// Error implements error.
func (e *SnapshotExistsError) Error() string {
	return fmt.Sprintf("nodetool snapshot: snapshot %q already exists", clip(e.Tag))
}

// Unwrap makes errors.Is(err, ErrSnapshotExists) true.
func (e *SnapshotExistsError) Unwrap() error { return ErrSnapshotExists }

// KeyspaceNotFoundError is `nodetool status KS`'s "Error: The keyspace KS, does not exist".
type KeyspaceNotFoundError struct {
	// Keyspace is the name nodetool could not find.
	Keyspace string
}

// Error implements error.
func (e *KeyspaceNotFoundError) Error() string {
	return fmt.Sprintf("nodetool: keyspace %q does not exist", clip(e.Keyspace))
}

// Unwrap makes errors.Is(err, ErrKeyspaceNotFound) true.
func (e *KeyspaceNotFoundError) Unwrap() error { return ErrKeyspaceNotFound }

// NodetoolError is a command failure nodetool reported as "error: MESSAGE"
// followed by "-- StackTrace --" and a Java stack trace (exit status 2), or
// a usage error "nodetool: MESSAGE" + "See 'nodetool help'..." (exit status 1).
type NodetoolError struct {
	// Message is the text after "error: " or "nodetool: ".
	Message string
	// Exception is the first line of the stack trace
	// ("java.io.IOException: ..."), empty when none was printed.
	Exception string
	// Usage is true for the "See 'nodetool help'" usage form.
	Usage bool
}

// Error implements error.
func (e *NodetoolError) Error() string {
	if e.Usage {
		return "nodetool usage error: " + e.Message
	}
	return "nodetool error: " + e.Message
}

var (
	jmxDownRE        = regexp.MustCompile(`^nodetool: Failed to connect to '([^']*)' - ([^:]+): '(.*)'\.$`)
	snapshotExistsRE = regexp.MustCompile(`^Snapshot (.+) already exists\.$`)
	keyspaceErrRE    = regexp.MustCompile(`^Error: The keyspace (.+), does not exist$`)
)

// ParseNodetoolError recognises the ways nodetool reports a failure in its
// combined stdout+stderr and returns the matching typed error:
// *JMXDownError (errors.Is ErrJMXDown), *SnapshotExistsError,
// *KeyspaceNotFoundError, or *NodetoolError for any other "error: ..." /
// usage message. It returns nil when text holds none of them.
func ParseNodetoolError(text string) error {
	ls := lines(text)
	for i, l := range ls {
		t := strings.TrimSpace(l)
		if m := jmxDownRE.FindStringSubmatch(t); m != nil {
			return &JMXDownError{Addr: m[1], Exception: m[2], Message: m[3]}
		}
		if m := keyspaceErrRE.FindStringSubmatch(t); m != nil {
			return &KeyspaceNotFoundError{Keyspace: m[1]}
		}
		if msg, ok := strings.CutPrefix(t, "error: "); ok {
			if m := snapshotExistsRE.FindStringSubmatch(msg); m != nil {
				return &SnapshotExistsError{Tag: m[1]}
			}
			e := &NodetoolError{Message: msg}
			for j := i + 1; j+1 < len(ls); j++ {
				if strings.TrimSpace(ls[j]) == "-- StackTrace --" {
					e.Exception = strings.TrimSpace(ls[j+1])
					break
				}
			}
			return e
		}
		if msg, ok := strings.CutPrefix(t, "Error: "); ok {
			return &NodetoolError{Message: msg}
		}
		if msg, ok := strings.CutPrefix(t, "nodetool: "); ok {
			for _, n := range ls[i+1:] {
				if strings.HasPrefix(strings.TrimSpace(n), "See 'nodetool help'") {
					return &NodetoolError{Message: msg, Usage: true}
				}
			}
		}
	}
	return nil
}
