package remote

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// passphraseAttempts is how many times a wrong passphrase is asked again,
// as ssh(1) does.
const passphraseAttempts = 3

// hopAuth is the authentication offered to one host: the agent's keys, then
// the identity files. Close releases the agent connection.
type hopAuth struct {
	methods []ssh.AuthMethod
	agent   net.Conn
	// locked are encrypted identity files left out because there is no
	// terminal to ask for their passphrase on (Options.Passphrase is nil).
	locked []string
}

// Close releases the agent connection, once the handshake is over.
func (a *hopAuth) Close() {
	if a != nil && a.agent != nil {
		a.agent.Close()
	}
}

// authMethods builds agent and key-file authentication for one host. Files
// that do not exist are skipped (the defaults rarely all exist); unreadable
// or undecryptable ones are reported. An encrypted key whose public half is
// known (in the key file itself, or in FILE.pub) is unlocked only when the
// server accepts that public key — so no passphrase is asked for a key the
// agent already holds or the node does not know — and clock stops while the
// operator types. A decrypted key is kept for the rest of the process: its
// passphrase is asked once, not once per node.
func authMethods(o Options, files []string, clock *connectClock) (*hopAuth, error) {
	a := &hopAuth{}
	sock := o.Agent
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" && sock != "none" {
		if conn, err := net.Dial("unix", sock); err == nil {
			a.agent = conn
			a.methods = append(a.methods, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	var signers []ssh.Signer
	seen := map[string]bool{}
	for _, f := range files {
		f = expandHome(f)
		if seen[f] {
			continue
		}
		seen[f] = true
		pem, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("identity file %s: %w", f, err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			if o.Passphrase == nil {
				a.locked = append(a.locked, f) // the agent may still hold it
				continue
			}
			pub := missing.PublicKey
			if pub == nil {
				pub = readPublicKey(f + ".pub")
			}
			if pub != nil {
				signers = append(signers, &lockedKey{file: f, pem: pem, pub: pub, ask: o.Passphrase, clock: clock})
				continue
			}
			// No public half to offer first: unlock it now, before connecting.
			s, err = unlockKey(f, pem, o.Passphrase)
		}
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("identity file %s: %w", f, err)
		}
		signers = append(signers, s)
	}
	if len(signers) > 0 {
		a.methods = append(a.methods, ssh.PublicKeys(signers...))
	}
	if len(a.methods) == 0 {
		msg := "no ssh-agent (SSH_AUTH_SOCK) and no usable identity file: set ssh.identity_files in the inventory or start an agent"
		if len(a.locked) > 0 {
			msg += "; " + lockedHint(a.locked)
		}
		return nil, errors.New(msg)
	}
	return a, nil
}

// lockedHint says why encrypted identity files were not used.
func lockedHint(files []string) string {
	return fmt.Sprintf("%s is passphrase-protected and there is no terminal to ask for the passphrase on: load it into ssh-agent (ssh-add %s) or run hotsnap on a terminal",
		strings.Join(files, ", "), files[0])
}

func readPublicKey(path string) ssh.PublicKey {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pub
}

// unlocked holds the keys decrypted in this process, by file and content,
// so that a run over many nodes asks each passphrase once.
var unlocked = struct {
	mu   sync.Mutex
	keys map[string]*unlockedKey
}{keys: map[string]*unlockedKey{}}

type unlockedKey struct {
	mu       sync.Mutex
	signer   ssh.Signer
	err      error
	failures atomic.Int64
}

// unlockKey decrypts an encrypted key file with a passphrase from ask,
// asking again after a wrong one (passphraseAttempts in all). Concurrent
// callers for one key wait for the first: one prompt, one answer for all;
// those that waited on an attempt that failed get its error rather than
// prompting again, and a later call asks anew.
func unlockKey(file string, pem []byte, ask func(file string) ([]byte, error)) (ssh.Signer, error) {
	sum := sha256.Sum256(pem)
	id := file + "\x00" + string(sum[:])
	unlocked.mu.Lock()
	k := unlocked.keys[id]
	if k == nil {
		k = &unlockedKey{}
		unlocked.keys[id] = k
	}
	unlocked.mu.Unlock()

	failures := k.failures.Load()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.signer != nil {
		return k.signer, nil
	}
	if k.failures.Load() != failures {
		return nil, k.err
	}
	for attempt := 1; ; attempt++ {
		pass, err := ask(file)
		if err != nil {
			k.err = fmt.Errorf("passphrase for %s: %w", file, err)
			break
		}
		s, err := ssh.ParsePrivateKeyWithPassphrase(pem, pass)
		clear(pass)
		if err == nil {
			k.signer = s
			return s, nil
		}
		if !errors.Is(err, x509.IncorrectPasswordError) {
			k.err = fmt.Errorf("identity file %s: %w", file, err)
			break
		}
		if attempt == passphraseAttempts {
			k.err = fmt.Errorf("identity file %s: wrong passphrase (%d attempts)", file, attempt)
			break
		}
	}
	k.failures.Add(1)
	return nil, k.err
}

// lockedKey is an encrypted identity file offered by its public key; it is
// decrypted (asking for the passphrase) the first time a server accepts
// that key and a signature is needed.
type lockedKey struct {
	file  string
	pem   []byte
	pub   ssh.PublicKey
	ask   func(file string) ([]byte, error)
	clock *connectClock
}

// PublicKey is the key's public half, offered before anything is decrypted.
func (k *lockedKey) PublicKey() ssh.PublicKey { return k.pub }

func (k *lockedKey) signer() (ssh.AlgorithmSigner, error) {
	k.clock.pause()
	defer k.clock.resume()
	s, err := unlockKey(k.file, k.pem, k.ask)
	if err != nil {
		return nil, err
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return nil, fmt.Errorf("identity file %s: key type %s cannot sign", k.file, s.PublicKey().Type())
	}
	return as, nil
}

// Sign unlocks the key (asking for its passphrase once) and signs.
func (k *lockedKey) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := k.signer()
	if err != nil {
		return nil, err
	}
	return s.Sign(rand, data)
}

// SignWithAlgorithm unlocks the key and signs with the given algorithm.
func (k *lockedKey) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s, err := k.signer()
	if err != nil {
		return nil, err
	}
	return s.SignWithAlgorithm(rand, data, algorithm)
}

// Algorithms lists the signature algorithms the key can make, as the
// decrypted key would.
func (k *lockedKey) Algorithms() []string { return algorithmsFor(k.pub.Type()) }

// connectClock is the connect timeout of one handshake: when it runs out,
// or the run is cancelled, it closes the connection (an SSH channel to a
// jump host has no deadlines, so closing is what works for every kind). A
// passphrase prompt stops it: the operator's typing is not the node being
// slow.
type connectClock struct {
	mu        sync.Mutex
	conn      net.Conn
	timer     *time.Timer
	gen       int
	deadline  time.Time
	left      time.Duration
	paused    int
	timedOut  bool
	cancelled bool
	done      bool
}

// start arms the clock on conn for d.
func (c *connectClock) start(conn net.Conn, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn, c.left = conn, d
	if c.cancelled {
		conn.Close()
		return
	}
	c.armLocked()
}

func (c *connectClock) armLocked() {
	c.gen++
	gen := c.gen
	c.deadline = time.Now().Add(c.left)
	c.timer = time.AfterFunc(max(c.left, 0), func() { c.fire(gen) })
}

func (c *connectClock) fire(gen int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.paused > 0 || c.done {
		return
	}
	c.timedOut = true
	c.conn.Close()
}

// pause stops the clock; resume starts it again with the time that was left.
func (c *connectClock) pause() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused++
	if c.paused == 1 && c.timer != nil && !c.done {
		c.timer.Stop()
		c.gen++
		c.left = time.Until(c.deadline)
	}
}

func (c *connectClock) resume() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused--
	if c.paused == 0 && c.timer != nil && !c.done {
		c.armLocked()
	}
}

// cancel ends the handshake now (the run was cancelled).
func (c *connectClock) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelled = true
	if c.conn != nil && !c.done {
		c.conn.Close()
	}
}

// stop disarms the clock once the handshake is over and reports whether it
// had run out.
func (c *connectClock) stop() (timedOut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	if c.timer != nil {
		c.timer.Stop()
	}
	return c.timedOut
}
