package alien4cloud

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// DataDirs are the directories of directories.alien that hold what users
// uploaded or created: the backup's content.
var DataDirs = []string{"csar", "artifacts", "images", "plugins", "git"}

// TransientDirs are the directories of directories.alien Alien4Cloud
// rebuilds or only uses while it works ("you must exclude the work
// directory", alien4cloud-data-migration-scripts), plus the embedded
// Elasticsearch home of spray's embedded mode.
var TransientDirs = []string{"work", "upload", "tmp", "eshome"}

// SeedStats tells what Seed wrote.
type SeedStats struct {
	// Files and Bytes count the regular files Seed wrote (not those the git
	// program writes in .git).
	Files int
	Bytes int64
	// GitRepos is the number of git repositories; RealGit reports whether
	// they were made by the git program.
	GitRepos int
	RealGit  bool
}

// seeder writes the data directory.
type seeder struct {
	dir   string
	rng   *rand.Rand
	stats SeedStats
	now   time.Time
}

// Seed fills dir (directories.alien) with about total bytes as Alien4Cloud
// lays them out: csar/<name>/<version>/<name>-<version>.csar with its
// expanded/ copy and content.json (CsarFileRepository),
// artifacts/<uuid> (ArtifactLocalRepository), images/<uuid>.png (ImageDAO),
// plugin archives in plugins/, application git repositories in
// git/<application>/vars and git/<application>/env_setup/<environment>
// (LocalGitRepositoryPathResolver; made with git when it is installed),
// and the transient work/ (unzipped plugins), upload/ and tmp/. File names
// inside the archives are awkward on purpose (blanks, quotes, accents).
// A directory that already holds one of DataDirs is left as it is (an
// embedded Elasticsearch's eshome/ may be there first).
func Seed(ctx context.Context, dir string, total int64, seed uint64) (SeedStats, error) {
	for _, d := range DataDirs {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			return SeedStats{}, nil
		}
	}
	s := &seeder{dir: dir, rng: rand.New(rand.NewPCG(seed, 0xa4c)), now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
	err := errors.Join(
		s.csars(total*20/100),
		s.artifacts(total*58/100),
		s.images(total*2/100),
		s.plugins(total*17/100),
		s.transient(total*3/100),
		s.gitRepos(ctx),
	)
	if err != nil {
		return s.stats, fmt.Errorf("seed %s: %w", dir, err)
	}
	return s.stats, nil
}

// uuid returns a random (version 4 formatted) UUID from the seeded source.
func (s *seeder) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// payload returns n pseudo-random (incompressible) bytes' reader.
func (s *seeder) payload(n int64) io.Reader {
	var key [32]byte
	for i := range key {
		key[i] = byte(s.rng.Uint32())
	}
	return io.LimitReader(rand.NewChaCha8(key), n)
}

func (s *seeder) create(rel string) (*os.File, error) {
	p := filepath.Join(s.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
}

func (s *seeder) writeFile(rel string, r io.Reader) error {
	f, err := s.create(rel)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	n, err := io.Copy(bw, r)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	s.stats.Files++
	s.stats.Bytes += n
	return nil
}

// zipEntry is one file of a generated archive: text, or size random bytes.
type zipEntry struct {
	name string
	text string
	size int64
}

// writeZip writes entries as a zip at rel (random payloads stored, text
// deflated).
func (s *seeder) writeZip(rel string, entries []zipEntry) error {
	f, err := s.create(rel)
	if err != nil {
		return err
	}
	cw := &countWriter{w: bufio.NewWriterSize(f, 256<<10)}
	zw := zip.NewWriter(cw)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: s.now}
		var r io.Reader = strings.NewReader(e.text)
		if e.size > 0 {
			hdr.Method = zip.Store
			r = s.payload(e.size)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			f.Close()
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			f.Close()
			return err
		}
	}
	err = zw.Close()
	if err == nil {
		err = cw.w.(*bufio.Writer).Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	s.stats.Files++
	s.stats.Bytes += cw.n
	return nil
}

// unzip expands the archive at rel into dir, streaming each entry, and
// returns the entry names.
func (s *seeder) unzip(rel, dir string) ([]string, error) {
	zr, err := zip.OpenReader(filepath.Join(s.dir, rel))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		err = s.writeFile(filepath.Join(dir, f.Name), rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		names = append(names, f.Name)
	}
	return names, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// csarArchives are the archives a user typically has: the normative types
// and applications' topologies.
var csarArchives = []struct{ name, version string }{
	{"tosca-normative-types", "1.0.0-ALIEN20"},
	{"alien-base-types", "3.0.0"},
	{"docker-types", "3.0.0"},
	{"org.alien4cloud.lang.java.jdk.linux", "3.0.0-SNAPSHOT"},
	{"welcome-topology", "1.0.0-SNAPSHOT"},
	{"petclinic", "2.1.0"},
}

func (s *seeder) csars(budget int64) error {
	per := budget / int64(len(csarArchives))
	for _, a := range csarArchives {
		defs := fmt.Sprintf("tosca_definitions_version: alien_dsl_3_0_0\n\nmetadata:\n  template_name: %s\n  template_version: %s\n  template_author: alien4cloud\n\ndescription: %s, uploaded to the practice lab\n\nimports:\n  - tosca-normative-types:1.0.0-ALIEN20\n", a.name, a.version, a.name)
		entries := []zipEntry{
			{name: "TOSCA-Metadata/TOSCA.meta", text: "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: alien4cloud\nEntry-Definitions: types.yml\n"},
			{name: "types.yml", text: defs},
			{name: "scripts/configure é.sh", text: "#!/bin/bash\necho configure\n"},
			{name: "scripts/start 'quoted' name.sh", text: "#!/bin/bash\necho start\n"},
			{name: "images/icon.png", size: 2048},
			// The archive and its expanded copy share the budget.
			{name: "artifacts/binaries/payload.bin", size: max(per/2-8192, 1)},
		}
		dir := filepath.Join("csar", a.name, a.version)
		zipRel := filepath.Join(dir, a.name+"-"+a.version+".csar")
		if err := s.writeZip(zipRel, entries); err != nil {
			return err
		}
		names, err := s.unzip(zipRel, filepath.Join(dir, "expanded"))
		if err != nil {
			return err
		}
		tree, _ := json.Marshal(map[string]any{"name": "expanded", "fullPath": "", "leaf": false, "children": names})
		if err := s.writeFile(filepath.Join(dir, "content.json"), bytes.NewReader(tree)); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) artifacts(budget int64) error {
	const n = 12
	for i := 0; i < n; i++ {
		size := budget / n
		if i == 0 {
			size += budget % n
		}
		if err := s.writeFile(filepath.Join("artifacts", s.uuid()), s.payload(size)); err != nil {
			return err
		}
	}
	return nil
}

// pngHeader is a PNG signature and IHDR chunk (64x64 RGBA).
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00@\x00\x00\x00@\x08\x06\x00\x00\x00\xaaiq\xde")

func (s *seeder) images(budget int64) error {
	const n = 8
	for i := 0; i < n; i++ {
		r := io.MultiReader(bytes.NewReader(pngHeader), s.payload(max(budget/n-int64(len(pngHeader)), 0)))
		if err := s.writeFile(filepath.Join("images", s.uuid()+".png"), r); err != nil {
			return err
		}
	}
	return nil
}

var pluginArchives = []struct{ id, version string }{
	{"alien4cloud-yorc-provider", "3.7.0"},
	{"alien4cloud-kubernetes-plugin", "3.7.0"},
	{"alien4cloud-ui-plugin-logs", "3.7.0"},
}

func (s *seeder) plugins(budget int64) error {
	per := budget / int64(len(pluginArchives))
	for _, p := range pluginArchives {
		desc := fmt.Sprintf("id: %s\nname: %s\nversion: %s\ndescription: Alien4Cloud plugin\nconfiguration_class: org.alien4cloud.plugin.Configuration\n", p.id, p.id, p.version)
		err := s.writeZip(filepath.Join("plugins", p.id+"-"+p.version+".zip"), []zipEntry{
			{name: "META-INF/plugin.yml", text: desc},
			{name: "lib/" + p.id + "-" + p.version + ".jar", size: max(per-4096, 1)},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// transient writes what a running Alien4Cloud leaves in work/, upload/ and
// tmp/: the unzipped plugins and their UI, an unfinished upload.
func (s *seeder) transient(budget int64) error {
	for _, p := range pluginArchives {
		id := s.uuid()
		if err := s.writeFile(filepath.Join("work", "plugins", "content", id, "META-INF", "plugin.yml"),
			strings.NewReader("id: "+p.id+"\nversion: "+p.version+"\n")); err != nil {
			return err
		}
		if err := s.writeFile(filepath.Join("work", "plugins", "ui", id, "plugin.js"), strings.NewReader("// ui\n")); err != nil {
			return err
		}
	}
	if err := s.writeFile(filepath.Join("upload", s.uuid()+".csar.part"), s.payload(budget*2/3)); err != nil {
		return err
	}
	return s.writeFile(filepath.Join("tmp", "alien-"+s.uuid()+".tmp"), s.payload(budget/3))
}

// gitApps are the applications whose variables and environment setups
// Alien4Cloud keeps in git.
var gitApps = []struct{ app, env string }{
	{"petclinic", "petclinic-Environment"},
	{"welcome", "welcome-Environment"},
}

func (s *seeder) gitRepos(ctx context.Context) error {
	git, lookErr := exec.LookPath("git")
	for _, a := range gitApps {
		repos := []struct {
			rel   string
			files map[string]string
		}{
			{filepath.Join("git", a.app, "vars"), map[string]string{
				"app_variables.yml":   "db_user: petclinic\nreplicas: 2\n",
				"var values é.yml":    "# environment type defaults\nlog_level: INFO\n",
				"README for 'ops'.md": "Application variables of " + a.app + "\n"}},
			{filepath.Join("git", a.app, "env_setup", a.env), map[string]string{
				"deployment_inputs.yml":              "inputs:\n  port: 8080\n",
				"deployment_matched_node_config.yml": "matchedNodes: {}\n",
				"location_policies.yml":              "groupsToLocations:\n  _A4C_ALL: [yorc]\n"}},
		}
		for _, r := range repos {
			var err error
			if lookErr == nil {
				err = s.realGit(ctx, git, r.rel, r.files)
				s.stats.RealGit = true
			} else {
				err = s.fakeGit(r.rel, r.files)
			}
			if err != nil {
				return fmt.Errorf("git repository %s: %w", r.rel, err)
			}
			s.stats.GitRepos++
		}
	}
	return nil
}

// gitEnv is the identity and clock every commit is made with.
func (s *seeder) gitEnv() []string {
	date := s.now.Format(time.RFC3339)
	return []string{"GIT_AUTHOR_NAME=admin", "GIT_AUTHOR_EMAIL=admin@mycompany.com", "GIT_COMMITTER_NAME=admin",
		"GIT_COMMITTER_EMAIL=admin@mycompany.com", "GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date,
		"HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1", "LANG=C", "PATH=/usr/bin:/bin"}
}

// realGit makes a repository with git: init, the files, one commit.
func (s *seeder) realGit(ctx context.Context, git, rel string, files map[string]string) error {
	dir := filepath.Join(s.dir, rel)
	for name, text := range files {
		if err := s.writeFile(filepath.Join(rel, name), strings.NewReader(text)); err != nil {
			return err
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "master"}, {"add", "-A"}, {"commit", "-q", "-m", "Initial commit"}} {
		cmd := exec.CommandContext(ctx, git, append([]string{"-C", dir}, args...)...)
		cmd.Env = s.gitEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// fakeGit writes the repository git would: loose objects for the blobs,
// the tree and one commit, refs/heads/master, HEAD, config and the index.
func (s *seeder) fakeGit(rel string, files map[string]string) error {
	gitDir := filepath.Join(rel, ".git")
	put := func(kind string, body []byte) (string, error) {
		obj := append([]byte(fmt.Sprintf("%s %d\x00", kind, len(body))), body...)
		sum := sha1.Sum(obj)
		id := hex.EncodeToString(sum[:])
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(obj) //nolint:errcheck // bytes.Buffer does not fail
		zw.Close()
		return id, s.writeFile(filepath.Join(gitDir, "objects", id[:2], id[2:]), &z)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var tree bytes.Buffer
	blobs := map[string][]byte{}
	for _, name := range names {
		if err := s.writeFile(filepath.Join(rel, name), strings.NewReader(files[name])); err != nil {
			return err
		}
		id, err := put("blob", []byte(files[name]))
		if err != nil {
			return err
		}
		raw, _ := hex.DecodeString(id)
		blobs[name] = raw
		tree.WriteString("100644 " + name + "\x00")
		tree.Write(raw)
	}
	treeID, err := put("tree", tree.Bytes())
	if err != nil {
		return err
	}
	when := fmt.Sprintf("%d +0000", s.now.Unix())
	commit := fmt.Sprintf("tree %s\nauthor admin <admin@mycompany.com> %s\ncommitter admin <admin@mycompany.com> %s\n\nInitial commit\n", treeID, when, when)
	commitID, err := put("commit", []byte(commit))
	if err != nil {
		return err
	}
	index, err := gitIndex(filepath.Join(s.dir, rel), names, blobs)
	if err != nil {
		return err
	}
	if err := s.writeFile(filepath.Join(gitDir, "index"), bytes.NewReader(index)); err != nil {
		return err
	}
	for name, text := range map[string]string{
		"HEAD":              "ref: refs/heads/master\n",
		"config":            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n",
		"description":       "Unnamed repository; edit this file 'description' to name the repository.\n",
		"refs/heads/master": commitID + "\n",
	} {
		if err := s.writeFile(filepath.Join(gitDir, name), strings.NewReader(text)); err != nil {
			return err
		}
	}
	return os.MkdirAll(filepath.Join(s.dir, gitDir, "refs", "tags"), 0o755)
}

// gitIndex builds a version 2 index (DIRC) for the files of a flat work
// tree, with their stat data, so that git status finds it clean.
func gitIndex(workTree string, names []string, blobs map[string][]byte) ([]byte, error) {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.BigEndian, v) } //nolint:errcheck // bytes.Buffer does not fail
	b.WriteString("DIRC")
	w(uint32(2))
	w(uint32(len(names)))
	for _, name := range names {
		fi, err := os.Lstat(filepath.Join(workTree, name))
		if err != nil {
			return nil, err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil, fmt.Errorf("stat %s: no stat data", name)
		}
		start := b.Len()
		w(uint32(st.Ctim.Sec))
		w(uint32(st.Ctim.Nsec))
		w(uint32(st.Mtim.Sec))
		w(uint32(st.Mtim.Nsec))
		w(uint32(st.Dev))
		w(uint32(st.Ino))
		w(uint32(0o100644))
		w(st.Uid)
		w(st.Gid)
		w(uint32(st.Size))
		b.Write(blobs[name])
		w(uint16(min(len(name), 0xfff)))
		b.WriteString(name)
		// NUL-terminated and padded to a multiple of 8 bytes.
		for pad := 8 - (b.Len()-start)%8; pad > 0; pad-- {
			b.WriteByte(0)
		}
	}
	sum := sha1.Sum(b.Bytes())
	b.Write(sum[:])
	return b.Bytes(), nil
}
