package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Error is one problem found in an inventory file, with its position.
// Line and Col are 1-based; Error() renders "file:line:col: msg".
// Msg never contains a secret value.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error implements the error interface as "file:line:col: msg".
func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors flattens err into the *Error values it holds: err itself, or the
// members of an errors.Join list (recursively). Errors that are not *Error
// (an unreadable file, for instance) are left out; use it after Load or Parse
// to print or inspect each problem.
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if ce, ok := e.(*Error); ok {
			out = append(out, ce)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, m := range j.Unwrap() {
				walk(m)
			}
			return
		}
		var ce *Error
		if errors.As(e, &ce) {
			out = append(out, ce)
		}
	}
	walk(err)
	return out
}

// joinErrors sorts errs by position, drops exact duplicates and returns nil,
// the single *Error, or an errors.Join of them.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), cmp.Compare(a.Msg, b.Msg))
	})
	errs = slices.CompactFunc(errs, func(a, b *Error) bool { return *a == *b })
	if len(errs) == 1 {
		return errs[0]
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}
