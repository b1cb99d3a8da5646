package lab

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// AwkwardNames are attachment paths (relative to the files directory) that
// the lab seeds to catch quoting and archiving bugs: blanks, unicode, a
// newline, a tab, quotes, glob characters, a leading dash, deep folders.
var AwkwardNames = []string{
	"Case 0001/report final (v2).pdf",
	"Case 0002/évidence-ünïcødé-日本語.bin",
	"Case 0003/line one\nline two.txt",
	"Case 0003/tab\there.txt",
	"Case 0003/it's \"quoted\".txt",
	"Case 0003/glob *?[x].txt",
	"Case 0003/back\\slash.txt",
	"-rf --leading-dash.txt",
	"deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/attachment.dat",
}

// EmptyAttachments are the seeded zero-byte files.
var EmptyAttachments = []string{"empty.txt", "Case 0001/empty file"}

// AttachmentLink is a seeded symlink (relative, to the first awkward name).
const AttachmentLink = "latest report.pdf"

// seedAttachments fills dir (node1's /opt/thp/thehive/files) with about
// total bytes unless it already holds something, and gives it all to
// thehive:thehive.
func seedAttachments(dir string, total int64) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seedValue, 7))
	// TheHive-like content-addressed files carry most of the bytes; the
	// awkward names get a share each.
	const hashed = 40
	names := append([]string(nil), AwkwardNames...)
	for i := 0; i < hashed; i++ {
		h := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		names = append(names, filepath.Join(h[:2], h[2:4], h))
	}
	per := total / int64(len(names))
	for i, name := range names {
		size := per/2 + rng.Int64N(per+1)
		if i == len(names)-1 {
			size = max(total-int64(i)*per, 0)
		}
		if err := writeRandomFile(filepath.Join(dir, name), size, rng); err != nil {
			return err
		}
	}
	for _, name := range EmptyAttachments {
		if err := writeRandomFile(filepath.Join(dir, name), 0, rng); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty dir"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(AwkwardNames[0], filepath.Join(dir, AttachmentLink)); err != nil {
		return err
	}
	return chownTree(dir, "thehive")
}

// writeRandomFile creates path (and its parents) with size pseudo-random bytes.
func writeRandomFile(path string, size int64, rng *rand.Rand) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rng.Uint32())
	}
	if _, err := io.CopyN(f, rand.NewChaCha8(seed), size); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
