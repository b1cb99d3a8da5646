//go:build linux

package repo

import (
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// openDirect creates the file at path for writing with O_DIRECT, so that
// what a backup streams goes from hotsnap's buffer to the disk without
// passing through (and evicting) the page cache. Only on local disk file
// systems (directFS): on NFS, for one, each direct write would wait for
// the server. Elsewhere, or where O_DIRECT is refused, it opens the file
// normally; direct reports which.
func openDirect(path string, perm os.FileMode) (f *os.File, direct bool, err error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	var st unix.Statfs_t
	if unix.Statfs(filepath.Dir(path), &st) == nil && directFS[int64(st.Type)] {
		if f, err = os.OpenFile(path, flags|syscall.O_DIRECT, perm); err == nil {
			return f, true, nil
		}
	}
	f, err = os.OpenFile(path, flags, perm)
	return f, false, err
}

// directFS are the file systems (statfs f_type) written with O_DIRECT:
// ext4 (and ext2/3), XFS, Btrfs and F2FS.
var directFS = map[int64]bool{
	unix.EXT4_SUPER_MAGIC:  true,
	unix.XFS_SUPER_MAGIC:   true,
	unix.BTRFS_SUPER_MAGIC: true,
	unix.F2FS_SUPER_MAGIC:  true,
}

// clearDirect turns O_DIRECT off, so that the unaligned end of a file can
// be written.
func clearDirect(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		var fl int
		if fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0); ferr == nil {
			_, ferr = unix.FcntlInt(fd, unix.F_SETFL, fl&^unix.O_DIRECT)
		}
	}); err != nil {
		return err
	}
	return ferr
}

// startWriteback asks the kernel to start writing bytes [off, off+n) of f
// to disk now, without waiting for them (for files written through the page
// cache): the file is then mostly on disk when Close syncs it, instead of
// the whole file being flushed at that moment. Errors are ignored: the
// fsync in Close reports any that matter.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
