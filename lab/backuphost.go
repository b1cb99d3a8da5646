package lab

// The backup host: a namespace of its own (NAME-bh, 10.77.S.3) on the lab
// network that serves /mnt/backup to every node, as the runbook's NFS server
// does, and to the operator's machine (STATE/shared/backup on the host).
//
// The kernel here has no NFS (or 9p, CIFS) client, so the share is
// GlusterFS from Debian's glusterfs-client package: the brick server
// glusterfsd on the backup host, and one FUSE client (glusterfs) per node,
// started from volfiles the lab writes, without glusterd. Unlike sshfs
// (which creates every file as the SFTP login user), GlusterFS creates a
// file with the uid and gid of the process that creates it and lets root
// chown, as an NFS export with no_root_squash does: `chown
// elasticsearch:elasticsearch /mnt/backup/elasticsearch` works, what
// Elasticsearch writes is elasticsearch's, and a user without the rights
// is refused. Every byte a script copies to /mnt/backup crosses the node's
// link and the backup host's, shaped like the others (Options.Link).

import (
	"github.com/hotsnap/hotsnap/lab/alien4cloud"

	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// sharePort is the brick's TCP port on the backup host.
	sharePort = 49152
	// shareVolume is the exported volume (the brick's subvolume name).
	shareVolume = "backup"
	// shareFSType is the mounts' type in /proc/PID/mountinfo.
	shareFSType = "fuse.glusterfs"
	// shareWait bounds how long Up waits for the brick and each mount.
	shareWait = 20 * time.Second
)

// shareTools are the GlusterFS programs the lab runs, from Debian's
// glusterfs-client package.
var shareTools = []string{"glusterfsd", "glusterfs"}

func bhNetns(name string) string     { return name + "-bh" }
func backupHostIP(subnet int) string { return fmt.Sprintf("10.77.%d.3", subnet) }

// backupHostDir holds the backup host's brick (export/), volfiles and log.
func backupHostDir(stateDir string) string { return filepath.Join(stateDir, "backup-host") }

// shareExportDir is the brick: the backup host's disk behind /mnt/backup.
func shareExportDir(stateDir string) string {
	return filepath.Join(backupHostDir(stateDir), "export")
}

// BackupHostIP returns the backup host's address on the lab network.
func (l *Lab) BackupHostIP() string { return backupHostIP(l.Subnet) }

// checkShareTools reports a missing GlusterFS program with the package
// that brings it.
func checkShareTools() error {
	var errs []error
	for _, p := range shareTools {
		if _, err := findTool(p); err != nil {
			errs = append(errs, fmt.Errorf("the lab's /mnt/backup share needs %s from the Debian package glusterfs-client (apt-get install glusterfs-client, or make deps): %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// serverVolfile is the brick's volfile: POSIX storage with locks and I/O
// threads, served over TCP on the backup host's address only.
func serverVolfile(export, ip string) string {
	return fmt.Sprintf(`# hotsnap lab: the backup host's brick (written by lab up)
volume %[1]s-posix
  type storage/posix
  option directory %[2]s
end-volume
volume %[1]s-locks
  type features/locks
  subvolumes %[1]s-posix
end-volume
volume %[1]s
  type performance/io-threads
  subvolumes %[1]s-locks
end-volume
volume server
  type protocol/server
  option transport-type tcp
  option transport.socket.bind-address %[3]s
  option transport.socket.listen-port %[4]d
  option auth.addr.%[1]s.allow *
  subvolumes %[1]s
end-volume
`, shareVolume, export, ip, sharePort)
}

// clientVolfile is the mounts' volfile: the brick over TCP, behind
// write-behind that flushes on close (close-to-open consistency, as NFS
// clients keep it).
func clientVolfile(ip string) string {
	return fmt.Sprintf(`# hotsnap lab: a client of the backup host's share (written by lab up)
volume remote
  type protocol/client
  option transport-type tcp
  option remote-host %[1]s
  option remote-port %[2]d
  option remote-subvolume %[3]s
end-volume
volume write-behind
  type performance/write-behind
  option flush-behind off
  subvolumes remote
end-volume
`, ip, sharePort, shareVolume)
}

// prepareShare writes the volfiles and creates the brick.
func prepareShare(stateDir string, subnet int) error {
	dir := backupHostDir(stateDir)
	if err := os.MkdirAll(shareExportDir(stateDir), 0o755); err != nil {
		return fmt.Errorf("backup host: %w", err)
	}
	ip := backupHostIP(subnet)
	if err := writeFileAtomic(filepath.Join(dir, "server.vol"), []byte(serverVolfile(shareExportDir(stateDir), ip)), 0o644); err != nil {
		return fmt.Errorf("backup host: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "client.vol"), []byte(clientVolfile(ip)), 0o644); err != nil {
		return fmt.Errorf("backup host: %w", err)
	}
	return nil
}

// startShare starts the brick on the backup host, mounts the share at
// STATE/shared/backup on the operator's machine and at /mnt/backup on
// every node, and sets up the Elasticsearch repository folder as the
// runbook's step 2 does on the NFS server (mkdir, chown
// elasticsearch:elasticsearch, chmod 770).
func (l *Lab) startShare(ctx context.Context) error {
	fail := func(err error) error { return fmt.Errorf("backup host %s: %w", backupHostIP(l.Subnet), err) }
	dir := backupHostDir(l.StateDir)
	glusterfsd, err := findTool("glusterfsd")
	if err != nil {
		return fail(err)
	}
	logPath := filepath.Join(dir, "glusterfsd.log")
	logStart(logPath, "glusterfsd")
	srv := exec.Command("nsenter", "--net="+filepath.Join(netnsDir, l.rec.BhNetns), "--",
		glusterfsd, "-N", "-f", filepath.Join(dir, "server.vol"), "-l", logPath, "--pid-file", filepath.Join(dir, "glusterfsd.pid"))
	srv.Dir = "/"
	srv.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pid, err := startDetached(srv)
	if err != nil {
		return fail(fmt.Errorf("start glusterfsd: %w", err))
	}
	l.mu.Lock()
	l.rec.ShareServerPID = pid
	l.rec.PIDs = append(l.rec.PIDs, pid)
	serr := l.saveLocked()
	l.mu.Unlock()
	if serr != nil {
		return fail(serr)
	}
	addr := backupHostIP(l.Subnet) + ":" + strconv.Itoa(sharePort)
	if err := waitTCP(ctx, l.rec.OpNetns, []string{addr}, shareWait, func(string) error {
		if !pidAlive(pid) {
			return fmt.Errorf("glusterfsd (pid %d) exited: %s", pid, logTail(logPath, 5))
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	if err := l.mountShareOp(ctx); err != nil {
		return fail(err)
	}
	repo := filepath.Join(l.SharedBackupPath(), "elasticsearch")
	if err := os.MkdirAll(repo, 0o770); err != nil {
		return fail(fmt.Errorf("mkdir %s: %w", repo, err))
	}
	// Elasticsearch writes it: the elasticsearch user, or a4c when it runs
	// inside Alien4Cloud.
	owner := esUser
	if sv := l.rec.Services; sv != nil && sv.Embedded {
		owner = alien4cloud.User
	}
	uid, gid, err := lookupIDs(owner)
	if err != nil {
		return fail(err)
	}
	if err := os.Chown(repo, uid, gid); err != nil {
		return fail(fmt.Errorf("chown %s: %w", repo, err))
	}
	if err := os.Chmod(repo, 0o770); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", repo, err))
	}
	errs := make([]error, len(l.Nodes))
	done := make(chan struct{})
	for i := range l.Nodes {
		go func() {
			defer func() { done <- struct{}{} }()
			errs[i] = l.mountShareNode(ctx, i)
		}()
	}
	for range l.Nodes {
		<-done
	}
	l.mu.Lock()
	serr = l.saveLocked()
	l.mu.Unlock()
	return errors.Join(append(errs, serr)...)
}

// glusterfsMount returns the argv of a FUSE client mounting the share at
// target, logging to logPath; -N keeps it in the foreground (its PID is
// the one started).
func (l *Lab) glusterfsMount(logPath, target string) ([]string, error) {
	glusterfs, err := findTool("glusterfs")
	if err != nil {
		return nil, err
	}
	return []string{glusterfs, "-N", "-f", filepath.Join(backupHostDir(l.StateDir), "client.vol"), "-l", logPath, target}, nil
}

// mountShareOp mounts the share at SharedBackupPath in the host's mount
// namespace, from the op network namespace: the operator's machine has
// the NFS share mounted too.
func (l *Lab) mountShareOp(ctx context.Context) error {
	target := l.SharedBackupPath()
	if st, err := shareMountedIn(os.Getpid(), target); err != nil {
		return err
	} else if st {
		return nil
	}
	logPath := filepath.Join(backupHostDir(l.StateDir), "op-mount.log")
	logStart(logPath, "glusterfs (op)")
	argv, err := l.glusterfsMount(logPath, target)
	if err != nil {
		return err
	}
	c := exec.Command("nsenter", append([]string{"--net=" + filepath.Join(netnsDir, l.rec.OpNetns), "--"}, argv...)...)
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pid, err := startDetached(c)
	if err != nil {
		return fmt.Errorf("mount the share on the operator's machine: %w", err)
	}
	l.mu.Lock()
	l.rec.ShareOpPID = pid
	l.rec.PIDs = append(l.rec.PIDs, pid)
	l.mu.Unlock()
	if err := waitShare(ctx, os.Getpid(), pid, target, logPath); err != nil {
		return fmt.Errorf("mount the share at %s: %w", target, err)
	}
	return nil
}

// mountShareNode mounts the share at /mnt/backup inside node i.
func (l *Lab) mountShareNode(ctx context.Context, i int) error {
	l.mu.Lock()
	n := l.Nodes[i]
	l.mu.Unlock()
	fail := func(err error) error { return fmt.Errorf("%s: mount %s: %w", n.Name, sharedBackupTarget, err) }
	if ok, err := shareMountedIn(n.HolderPID, sharedBackupTarget); err != nil {
		return fail(err)
	} else if ok {
		return nil
	}
	logPath := filepath.Join(l.NodeDir(n.Name), "backup-mount.log")
	logStart(logPath, "glusterfs")
	argv, err := l.glusterfsMount(logPath, sharedBackupTarget)
	if err != nil {
		return fail(err)
	}
	c := l.NodeCommand(context.Background(), n.Name, argv[0], argv[1:]...)
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pid, err := startDetached(c)
	if err != nil {
		return fail(err)
	}
	l.mu.Lock()
	l.Nodes[i].SharePID = pid
	l.rec.PIDs = append(l.rec.PIDs, pid)
	l.rec.Mounts = append(l.rec.Mounts, Mount{Node: n.Name, Source: shareSource(l.Subnet), Target: sharedBackupTarget})
	l.mu.Unlock()
	if err := waitShare(ctx, n.HolderPID, pid, sharedBackupTarget, logPath); err != nil {
		return fail(err)
	}
	return nil
}

// shareSource names the share as lab.json records it.
func shareSource(subnet int) string { return backupHostIP(subnet) + ":/" + shareVolume }

// waitShare waits until target is a GlusterFS mount in the mount
// namespace of process ns and answers a stat (the root of a volume is
// inode 1), failing early when the client (pid) exits.
func waitShare(ctx context.Context, ns, pid int, target, logPath string) error {
	end := time.Now().Add(shareWait)
	root := target
	if ns != os.Getpid() {
		root = fmt.Sprintf("/proc/%d/root%s", ns, target)
	}
	for {
		if ok, _ := shareMountedIn(ns, target); ok {
			var st syscall.Stat_t
			if err := syscall.Stat(root, &st); err == nil && st.Ino == 1 {
				return nil
			}
		}
		if !pidAlive(pid) {
			return fmt.Errorf("glusterfs (pid %d) exited: %s", pid, logTail(logPath, 5))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(end) {
			return fmt.Errorf("not mounted after %s: %s", shareWait, logTail(logPath, 5))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shareMountedIn reports whether target is a GlusterFS mount in the mount
// namespace of process pid.
func shareMountedIn(pid int, target string) (bool, error) {
	ms, err := mountsOf(pid)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.target == target && m.fstype == shareFSType {
			return true, nil
		}
	}
	return false, nil
}

// mountEntry is one line of /proc/PID/mountinfo.
type mountEntry struct{ target, fstype string }

// mountsOf reads the mount table of process pid's mount namespace.
func mountsOf(pid int) ([]mountEntry, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table of process %d: %w", pid, err)
	}
	var ms []mountEntry
	for _, line := range strings.Split(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT TARGET OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 {
			continue
		}
		ms = append(ms, mountEntry{target: unescapeMount(f[4]), fstype: g[0]})
	}
	return ms, nil
}

// unescapeMount decodes mountinfo's octal escapes (\040 for a blank...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder lazily unmounts every mount of this (the host's) mount
// namespace at or under dir, deepest first: the operator's share mount,
// also one left by a lab that died. The FUSE client exits when its mount
// goes.
func unmountUnder(ctx context.Context, dir string) ([]string, error) {
	ms, err := mountsOf(os.Getpid())
	if err != nil {
		return nil, err
	}
	var targets []string
	for _, m := range ms {
		if m.target == dir || strings.HasPrefix(m.target, dir+"/") {
			targets = append(targets, m.target)
		}
	}
	var errs []error
	for i := len(targets) - 1; i >= 0; i-- {
		if _, err := run(ctx, "", "umount", "-l", targets[i]); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", targets[i], err))
		}
	}
	return targets, errors.Join(errs...)
}
