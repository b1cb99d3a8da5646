//go:build !linux

package repo

import (
	"errors"
	"os"
)

// openDirect creates the file at path for writing; O_DIRECT is Linux's, so
// direct is always false here.
func openDirect(path string, perm os.FileMode) (f *os.File, direct bool, err error) {
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	return f, false, err
}

// clearDirect is never needed where openDirect never sets O_DIRECT.
func clearDirect(f *os.File) error { return errors.New("O_DIRECT is not supported here") }

// startWriteback does nothing where sync_file_range(2) does not exist: the
// fsync in Close writes the whole file.
func startWriteback(f *os.File, off, n int64) {}
