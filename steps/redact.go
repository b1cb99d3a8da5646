package steps

import "strings"

// Redact masks every non-empty secret in s with "***". It is what the
// engine applies to commands, output and checks before it reports or
// records them.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// MaskError returns err with every secret masked in its text; errors.Is and
// errors.As still see the original chain (a cancelled run stays
// context.Canceled). nil stays nil.
func MaskError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := Redact(err.Error(), secrets)
	if msg == err.Error() {
		return err
	}
	return &maskedError{msg: msg, err: err}
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
