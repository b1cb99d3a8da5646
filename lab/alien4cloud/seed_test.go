package alien4cloud

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSeedLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const total = 4 << 20
	st, err := Seed(context.Background(), dir, total, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < total*9/10 || st.Bytes > total*11/10 {
		t.Errorf("seeded %d bytes, want about %d", st.Bytes, total)
	}
	for _, d := range append(append([]string{}, DataDirs...), "work", "upload", "tmp") {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	csar := filepath.Join(dir, "csar", "petclinic", "2.1.0")
	zr, err := zip.OpenReader(filepath.Join(csar, "petclinic-2.1.0.csar"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !strings.Contains(strings.Join(names, "|"), "TOSCA-Metadata/TOSCA.meta|types.yml|scripts/configure é.sh|scripts/start 'quoted' name.sh") {
		t.Errorf("csar entries: %v", names)
	}
	for _, f := range []string{"content.json", "expanded/types.yml", "expanded/scripts/start 'quoted' name.sh"} {
		if _, err := os.Stat(filepath.Join(csar, f)); err != nil {
			t.Errorf("csar %s: %v", f, err)
		}
	}
	arts, _ := os.ReadDir(filepath.Join(dir, "artifacts"))
	imgs, _ := filepath.Glob(filepath.Join(dir, "images", "*-*-4*-*-*.png"))
	plugs, _ := filepath.Glob(filepath.Join(dir, "plugins", "alien4cloud-*-3.7.0.zip"))
	if len(arts) != 12 || len(imgs) != 8 || len(plugs) != 3 {
		t.Errorf("artifacts %d, images %d, plugins %d", len(arts), len(imgs), len(plugs))
	}
	if st.GitRepos != 4 {
		t.Errorf("%d git repositories", st.GitRepos)
	}
	if git, err := exec.LookPath("git"); err == nil {
		if !st.RealGit {
			t.Error("git is installed but the repositories were not made with it")
		}
		checkGitRepo(t, git, filepath.Join(dir, "git", "petclinic", "vars"))
	}
	// A directory holding only an embedded Elasticsearch home is seeded.
	other := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(filepath.Join(other, "eshome", "data"), 0o755)
	if st, err := Seed(context.Background(), other, 1<<20, 1); err != nil || st.Files == 0 {
		t.Errorf("seed next to eshome/: %+v %v", st, err)
	}
	// A second seed keeps what is there.
	if st2, err := Seed(context.Background(), dir, 8<<20, 2); err != nil || st2.Files != 0 {
		t.Errorf("second seed: %+v %v", st2, err)
	}
}

// TestFakeGitIsARepository: without git, the repositories are written as
// git would; git (when here) reads them back.
func TestFakeGitIsARepository(t *testing.T) {
	dir := t.TempDir()
	s := &seeder{dir: dir, now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
	files := map[string]string{"a.yml": "a: 1\n", "var values é.yml": "b: 2\n"}
	if err := s.fakeGit("repo", files); err != nil {
		t.Fatal(err)
	}
	head, err := os.ReadFile(filepath.Join(dir, "repo", ".git", "refs", "heads", "master"))
	if err != nil || len(bytes.TrimSpace(head)) != 40 {
		t.Fatalf("refs/heads/master: %q %v", head, err)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return // the structure was checked above; git is the stronger check
	}
	checkGitRepo(t, git, filepath.Join(dir, "repo"))
}

func checkGitRepo(t *testing.T, git, repo string) {
	t.Helper()
	for _, args := range [][]string{{"fsck", "--strict"}, {"log", "--format=%an %s"}, {"status", "--porcelain"}} {
		cmd := exec.Command(git, append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("git %v in %s: %v\n%s", args, repo, err, out)
		}
		if args[0] == "log" && strings.TrimSpace(string(out)) != "admin Initial commit" {
			t.Errorf("git log: %q", out)
		}
		if args[0] == "status" && len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("git status not clean: %q", out)
		}
	}
}

// TestKeystoreIsJKS checks the keystore's framing and integrity digest as
// keytool does before it reads an entry.
func TestKeystoreIsJKS(t *testing.T) {
	ks, err := Keystore("alien4cloud", "node1", KeystorePassword, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(ks[0:]) != 0xFEEDFEED || binary.BigEndian.Uint32(ks[4:]) != 2 || binary.BigEndian.Uint32(ks[8:]) != 1 ||
		binary.BigEndian.Uint32(ks[12:]) != 1 || string(ks[18:29]) != "alien4cloud" {
		t.Fatalf("header % x", ks[:32])
	}
	body, sum := ks[:len(ks)-sha1.Size], ks[len(ks)-sha1.Size:]
	h := sha1.New()
	h.Write(jksPassword(KeystorePassword))
	h.Write([]byte("Mighty Aphrodite"))
	h.Write(body)
	if !bytes.Equal(h.Sum(nil), sum) {
		t.Error("keystore digest does not verify with the password")
	}
	if kt, err := exec.LookPath("keytool"); err == nil {
		p := filepath.Join(t.TempDir(), "ks.jks")
		os.WriteFile(p, ks, 0o600)
		out, err := exec.Command(kt, "-list", "-keystore", p, "-storepass", KeystorePassword).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "alien4cloud,") || !strings.Contains(string(out), "PrivateKeyEntry") {
			t.Errorf("keytool -list: %v\n%s", err, out)
		}
	}
}

// TestEmbeddedElasticsearch: with client and transportClient false, the
// stand-in holds Elasticsearch; stopping it stops Elasticsearch.
func TestEmbeddedElasticsearch(t *testing.T) {
	b := newBed(t)
	esPort := freePort(t)
	home := filepath.Join(b.dir, "data", "eshome")
	esYML := filepath.Join(b.dir, "elasticsearch.yml")
	text := strings.Replace(EmbeddedESYAML(home, []string{b.dir}), "port: 9200", "port: "+itoa(esPort), 1)
	if err := os.WriteFile(esYML, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(ConfigYAML(ConfigOptions{DataDir: filepath.Join(b.dir, "data"), Hosts: []string{"localhost"}, Embedded: true,
		Shards: 1, Replicas: 0, AdminPassword: "s3cret"}), "port: 8088", "port: "+itoa(b.port), 1)
	if err := os.WriteFile(b.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--config", b.config, "--es-config", esYML, "--faults", b.faults}, b.log, b.log)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, _ := b.get(nil, "/rest/admin/health"); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy:\n%s", b.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	es := "http://127.0.0.1:" + itoa(esPort)
	if st, body := httpGet(t, es+"/"); st != 200 || !strings.Contains(body, `"number":"6.8.22"`) || !strings.Contains(body, `"cluster_name":"escluster"`) {
		t.Errorf("embedded GET /: %d %s", st, body)
	}
	if _, err := os.Stat(filepath.Join(home, "data", "state.json")); err != nil {
		t.Errorf("embedded state not under path.home: %v", err)
	}
	if !strings.Contains(b.log.String(), "This embedded mode is not suitable for production") {
		t.Errorf("log:\n%s", b.log.String())
	}
	cancel()
	<-done
	done <- 0
	if st, _ := httpGet(t, es+"/"); st != 0 {
		t.Errorf("Elasticsearch still answers %d after Alien4Cloud stopped", st)
	}
	var dirs []string
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if len(dirs) == 0 {
		t.Error("no eshome")
	}
}
