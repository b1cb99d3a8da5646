package remote

import "strings"

// Quote returns s quoted for a POSIX shell so that the remote shell passes it
// to the command as exactly one argument, whatever it contains: spaces,
// quotes, $(...), backticks, globs, newlines, a leading dash (the caller must
// still put "--" before it where the command needs that). It is the only
// quoting function hotsnap uses for remote command lines.
//
// A NUL byte cannot be carried by a command line; Run refuses a command that
// contains one rather than letting the remote side cut it short.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !isShellSafe(r) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each argument with Quote and joins them with spaces, giving a
// command line that runs argv exactly.
func Join(argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

func isShellSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("@%_+=:,./-", r)
}
