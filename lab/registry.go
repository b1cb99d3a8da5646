package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// RegistryDir holds one directory per lab that is (or was being) brought
// up; the guard route and the host-wide users' sudo setup stay while it is
// not empty. It lives on /run so a reboot clears it along with the
// namespaces.
var RegistryDir = "/run/hotsnap-lab"

const (
	globalLock     = ".lock"
	sharedPassword = ".sudo-password"
	stateDirFile   = "state_dir"
	subnetFile     = "subnet"
)

// flock takes an exclusive lock on path, polling so ctx can cancel the wait.
// The returned function releases it.
func flock(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lockLab serializes Up/Down of one lab name.
func lockLab(ctx context.Context, name string) (func(), error) {
	return flock(ctx, filepath.Join(RegistryDir, ".lock-"+name))
}

// LockTestSuite takes a machine-wide lock named suite, waiting for it, so
// that two runs of the same end-to-end suite (two `go test` runs on one
// machine) take turns instead of tearing down each other's labs.
func LockTestSuite(ctx context.Context, suite string) (func(), error) {
	if err := os.MkdirAll(RegistryDir, 0o755); err != nil {
		return nil, err
	}
	return flock(ctx, filepath.Join(RegistryDir, ".test-"+suite))
}

// lockGlobal serializes changes to the registry, the guard route, users
// and sudoers.
func lockGlobal(ctx context.Context) (func(), error) {
	return flock(ctx, filepath.Join(RegistryDir, globalLock))
}

func registeredStateDir(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(RegistryDir, name, stateDirFile))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// registeredLabs lists the names of labs in the registry.
func registeredLabs() ([]string, error) {
	ents, err := os.ReadDir(RegistryDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lab registry: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && nameRE.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// registeredSubnet returns the subnet lab name registered with; for a lab
// registered without one (an older hotsnap), the one its record holds.
func registeredSubnet(name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(RegistryDir, name, subnetFile))
	if err == nil {
		return strconv.Atoi(strings.TrimSpace(string(b)))
	}
	dir, err := registeredStateDir(name)
	if err != nil {
		return 0, err
	}
	rec, err := readRecord(dir)
	if err != nil {
		return 0, err
	}
	return rec.Subnet, nil
}

// register records lab name, its state directory and its subnet. Up calls
// it under the global lock, so a lab coming up at the same time sees the
// subnet taken before either has written its record.
func register(name, stateDir string, subnet int) error {
	dir := filepath.Join(RegistryDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("register lab: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, stateDirFile), []byte(stateDir+"\n"), 0o644); err != nil {
		return fmt.Errorf("register lab: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, subnetFile), []byte(strconv.Itoa(subnet)+"\n"), 0o644); err != nil {
		return fmt.Errorf("register lab: %w", err)
	}
	return nil
}

func unregister(name string) error {
	if err := os.RemoveAll(filepath.Join(RegistryDir, name)); err != nil {
		return fmt.Errorf("unregister lab: %w", err)
	}
	return nil
}

// run runs a short command and returns its trimmed stdout; the error
// carries the command line and its stderr.
func run(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		if msg != "" {
			return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
		}
		return out.String(), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(out.String()), nil
}

// installGuardRoute adds the unreachable route for the lab range.
func installGuardRoute(ctx context.Context) error {
	if _, err := run(ctx, "", "ip", "route", "replace", "unreachable", GuardRoute); err != nil {
		return fmt.Errorf("install guard route: %w", err)
	}
	return nil
}

// removeGuardRoute removes the unreachable route; a missing route is fine.
func removeGuardRoute(ctx context.Context) error {
	out, err := run(ctx, "", "ip", "route", "show", "type", "unreachable", GuardRoute)
	if err != nil {
		return fmt.Errorf("remove guard route: %w", err)
	}
	if out == "" {
		return nil
	}
	if _, err := run(ctx, "", "ip", "route", "del", "unreachable", GuardRoute); err != nil {
		return fmt.Errorf("remove guard route: %w", err)
	}
	return nil
}

// guardRoutePresent reports whether the unreachable guard route exists.
func guardRoutePresent(ctx context.Context) bool {
	out, err := run(ctx, "", "ip", "route", "show", "type", "unreachable", GuardRoute)
	return err == nil && out != ""
}

const sudoersContent = `# Installed by hotsnap's practice lab ("hotsnap lab up"); removed by "hotsnap lab down".
hotsnap ALL=(ALL:ALL) NOPASSWD: ALL
Defaults:hotsnap-pw lecture=never, timestamp_timeout=0, passwd_tries=1
hotsnap-pw ALL=(ALL:ALL) ALL
`

// ServiceUsers are the accounts the stand-ins run as, as the real
// packages create them: Cassandra, Elasticsearch and TheHive.
var ServiceUsers = []string{"cassandra", "elasticsearch", "thehive"}

// ensureUsers creates the lab's login users (and the service accounts the
// stand-ins run as) and the sudoers drop-in. It returns the sudo password
// of PasswordUser: a fresh one when no other lab is running, else the one
// those labs already use (the user is shared).
func ensureUsers(ctx context.Context, othersRunning bool) (string, error) {
	for _, u := range []string{LoginUser, PasswordUser} {
		if _, err := user.Lookup(u); err != nil {
			if _, err := run(ctx, "", "useradd", "--create-home", "--home-dir", "/home/"+u, "--shell", "/bin/bash", "--user-group", u); err != nil {
				return "", fmt.Errorf("create user %s: %w", u, err)
			}
		}
	}
	for _, u := range ServiceUsers {
		if _, err := user.Lookup(u); err != nil {
			if _, err := run(ctx, "", "useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", u); err != nil {
				return "", fmt.Errorf("create service user %s: %w", u, err)
			}
		}
	}
	// sshd (UsePAM no) refuses accounts whose password starts with "!";
	// "*" means "no password" without being locked.
	if locked, err := passwordLocked(LoginUser); err != nil {
		return "", err
	} else if locked {
		if _, err := run(ctx, "", "usermod", "-p", "*", LoginUser); err != nil {
			return "", fmt.Errorf("unlock user %s: %w", LoginUser, err)
		}
	}
	if err := installSudoers(ctx); err != nil {
		return "", err
	}
	pwFile := filepath.Join(RegistryDir, sharedPassword)
	if othersRunning {
		if b, err := os.ReadFile(pwFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
	}
	pw, err := newPassword()
	if err != nil {
		return "", err
	}
	if _, err := run(ctx, PasswordUser+":"+pw+"\n", "chpasswd"); err != nil {
		return "", fmt.Errorf("set password of %s: %w", PasswordUser, err)
	}
	if err := writeFileAtomic(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("store sudo password: %w", err)
	}
	return pw, nil
}

func newPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate sudo password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// passwordLocked reports whether user's shadow entry starts with "!".
func passwordLocked(name string) (bool, error) {
	b, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return false, fmt.Errorf("read /etc/shadow: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) >= 2 && f[0] == name {
			return strings.HasPrefix(f[1], "!"), nil
		}
	}
	return false, fmt.Errorf("user %s: not in /etc/shadow", name)
}

// installSudoers writes SudoersFile after validating it with visudo.
func installSudoers(ctx context.Context) error {
	if cur, err := os.ReadFile(SudoersFile); err == nil && string(cur) == sudoersContent {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(SudoersFile), 0o750); err != nil {
		return fmt.Errorf("install sudoers: %w", err)
	}
	// visudo checks the candidate before it is moved into place; the
	// temporary name starts with "." so sudo never includes it.
	tmp, err := os.CreateTemp(filepath.Dir(SudoersFile), ".hotsnap-lab.*")
	if err != nil {
		return fmt.Errorf("install sudoers: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(sudoersContent); err != nil {
		tmp.Close()
		return fmt.Errorf("install sudoers: %w", err)
	}
	if err := tmp.Chmod(0o440); err != nil {
		tmp.Close()
		return fmt.Errorf("install sudoers: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install sudoers: %w", err)
	}
	if _, err := run(ctx, "", "visudo", "-c", "-q", "-f", tmp.Name()); err != nil {
		return fmt.Errorf("install sudoers: validate: %w", err)
	}
	if err := os.Rename(tmp.Name(), SudoersFile); err != nil {
		return fmt.Errorf("install sudoers: %w", err)
	}
	return nil
}

// releaseHost undoes the host-wide setup once no lab remains: the sudoers
// drop-in, PasswordUser's password (locked again) and the guard route.
func releaseHost(ctx context.Context) error {
	var errs []error
	if err := os.Remove(SudoersFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", SudoersFile, err))
	}
	if _, err := os.Stat(filepath.Join(RegistryDir, sharedPassword)); err == nil {
		if _, err := user.Lookup(PasswordUser); err == nil {
			if _, err := run(ctx, "", "usermod", "--lock", PasswordUser); err != nil {
				errs = append(errs, fmt.Errorf("lock user %s: %w", PasswordUser, err))
			}
		}
		if err := os.Remove(filepath.Join(RegistryDir, sharedPassword)); err != nil {
			errs = append(errs, fmt.Errorf("remove shared sudo password: %w", err))
		}
	}
	if err := removeGuardRoute(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
