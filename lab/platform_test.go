package lab

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/lab/eclecticiq"
	"github.com/hotsnap/hotsnap/lab/elastic"
	"github.com/hotsnap/hotsnap/lab/s3"
)

// upPlatformLab brings up a lab for a platform test and registers its
// teardown; on failure it logs the lab's log.
func upPlatformLab(t *testing.T, ctx context.Context, o Options) (*Lab, *bytes.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var logb bytes.Buffer
	o.StateDir, o.Log, o.Binary = stateDir(t), &logb, self
	_ = Down(ctx, o) // a lab left over by an interrupted run
	start := time.Now()
	l, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, logb.String())
	}
	t.Cleanup(func() {
		Down(context.Background(), o)
		if t.Failed() {
			t.Logf("log:\n%s", logb.String())
		}
	})
	t.Logf("lab %s (platform %q, storage %q) up in %s", o.Name, o.Platform, o.Storage, time.Since(start))
	return l, &logb
}

// downAndCheck takes the lab down and checks that its daemons are gone.
func downAndCheck(t *testing.T, ctx context.Context, l *Lab, o Options) {
	t.Helper()
	var pids []int
	for _, d := range l.rec.Daemons {
		pids = append(pids, d.PID)
	}
	for _, n := range l.Nodes {
		pids = append(pids, n.ESPID, n.CassandraPID)
	}
	o.StateDir = l.StateDir
	if err := Down(ctx, o); err != nil {
		t.Fatalf("Down: %v", err)
	}
	for _, p := range pids {
		if pidAlive(p) {
			t.Errorf("process %d alive after Down", p)
		}
	}
	if netnsExists(l.Nodes[0].Netns) {
		t.Errorf("namespace %s left after Down", l.Nodes[0].Netns)
	}
}

func TestLabS3(t *testing.T) {
	testLabS3(t, Options{Name: "hss3", Subnet: 11, Nodes: 2, Data: 4 << 20, Storage: StorageS3})
}

// TestLabS3MinIO: `lab up --s3 minio` builds MinIO from the Go module proxy
// (or finds it in the shared cache), runs it on node1 and seeds the bucket,
// exactly as with versitygw. The same lab runs the OpenSearch flavour.
func TestLabS3MinIO(t *testing.T) {
	testLabS3(t, Options{Name: "hsmin", Subnet: 23, Nodes: 1, Data: 4 << 20, Storage: StorageS3, S3: s3.KindMinIO, Search: SearchOpenSearch})
}

// testLabS3 brings up a lab with o's S3 server and checks it: the server runs
// on node1 in its namespace, without its secret on the command line; the
// bucket seen from op holds the seeded attachments and refuses a wrong key;
// the inventory points at it; status shows it; Down removes it.
func testLabS3(t *testing.T, o Options) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a first MinIO build takes minutes (3 on an idle 2-core machine)
	defer cancel()
	kind := o.S3
	if kind == "" {
		kind = s3.KindVersityGW
	}
	l, logb := upPlatformLab(t, ctx, o)

	addr := nodeIP(o.Subnet, 1) + ":8333"
	d, ok := l.Daemon(DaemonS3)
	if !ok || !pidAlive(d.PID) || d.Node != "node1" || d.Addr != addr {
		t.Fatalf("s3 daemon: %+v %v", d, ok)
	}
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(d.PID) + "/exe"); err != nil || filepath.Base(exe) != kind {
		t.Errorf("s3 daemon pid %d runs %q (%v), want %s", d.PID, exe, err, kind)
	}
	if same, err := sameNetns(d.PID, l.Nodes[0].Netns); err != nil || !same {
		t.Errorf("s3 server (pid %d) not in node1's namespace: %v", d.PID, err)
	}
	ak, err := l.Secret(SecretS3AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := l.Secret(SecretS3SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{SecretS3AccessKey, SecretS3SecretKey} {
		if st, err := os.Stat(l.SecretPath(name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("secret %s: %v %v, want 0600", name, st, err)
		}
	}
	if cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(d.PID) + "/cmdline"); bytes.Contains(cmdline, []byte(sk)) {
		t.Error("the S3 secret key is on the server's command line")
	}

	t.Run("bucket seen from op", func(t *testing.T) {
		cl, err := s3.NewClient(l.S3Endpoint(), ak, sk, l.OpDial)
		if err != nil {
			t.Fatal(err)
		}
		if err := s3.Verify(ctx, cl, S3Bucket, S3Objects(o.Data)); err != nil {
			t.Errorf("bucket %s: %v", S3Bucket, err)
		}
		var n int
		var awkward bool
		for oi := range cl.ListObjects(ctx, S3Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if oi.Err != nil {
				t.Fatal(oi.Err)
			}
			n++
			awkward = awkward || strings.Contains(oi.Key, "日本語")
		}
		if n != s3SeedObjects || !awkward {
			t.Errorf("listed %d objects (want %d), unicode key seen: %v", n, s3SeedObjects, awkward)
		}
		bad, err := s3.NewClient(l.S3Endpoint(), ak, "wrong-secret", l.OpDial)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.ListBuckets(ctx); err == nil {
			t.Error("a wrong S3 secret key was accepted")
		}
	})

	t.Run("inventory", func(t *testing.T) {
		inv, err := config.Load(l.InventoryPath())
		if err != nil {
			t.Fatalf("config.Load: %v", err)
		}
		st := inv.Storage
		if st == nil || st.Provider != config.StorageS3 || st.S3 == nil {
			t.Fatalf("storage: %+v", st)
		}
		if st.S3.Endpoint != "http://"+addr || st.S3.Bucket != "thehive" || st.S3.Region != "us-east-1" || !st.S3.PathStyle {
			t.Errorf("storage.s3: %+v", st.S3)
		}
		raw, _ := os.ReadFile(l.InventoryPath())
		if !strings.Contains(string(raw), "file:"+l.SecretPath(SecretS3SecretKey)) || strings.Contains(string(raw), sk) {
			t.Errorf("inventory does not reference the secret file (or holds the key):\n%s", raw)
		}
		if n := inv.NodesWithRole(config.RoleFiles); len(n) != 0 {
			t.Errorf("nodes with role files in an S3 lab: %v", n)
		}
	})

	if o.Search == SearchOpenSearch {
		t.Run("opensearch flavour", func(t *testing.T) {
			// On the node, as the documented scripts reach it: OpenSearch's
			// root document, without Elasticsearch's product header.
			out, err := ssh(t, ctx, l, "node1", "curl -s -D - 127.0.0.1:9200/")
			if err != nil || !strings.Contains(out, `"distribution":"opensearch"`) || strings.Contains(strings.ToLower(out), "x-elastic-product") {
				t.Errorf("GET / on node1: %v\n%s", err, out)
			}
			if rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir}); err != nil {
				t.Error(err)
			} else if rep.Search != SearchOpenSearch {
				t.Errorf("lab status search = %q, want %s", rep.Search, SearchOpenSearch)
			}
		})
	}

	t.Run("no local attachments", func(t *testing.T) {
		if ents, _ := os.ReadDir(filepath.Join(l.NodeDir("node1"), "thehive-files")); len(ents) != 0 {
			t.Errorf("node1's thehive-files has %d entries with storage s3", len(ents))
		}
	})

	t.Run("status and up again", func(t *testing.T) {
		rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir})
		if err != nil || !rep.Healthy() || len(rep.Daemons) != 1 || !strings.Contains(rep.String(), "s3") {
			t.Errorf("status: %v\n%s", err, rep)
		}
		logb.Reset()
		o2 := o
		o2.StateDir, o2.Log = l.StateDir, logb
		o2.Binary = l.BinPath() + "/hotsnap"
		if self, err := os.Executable(); err == nil {
			o2.Binary = self
		}
		if _, err := Up(ctx, o2); err != nil || !strings.Contains(logb.String(), "already up") {
			t.Errorf("second Up: %v %q", err, logb.String())
		}
	})

	downAndCheck(t, ctx, l, o)
}

func TestLabEclecticIQ(t *testing.T) {
	needRoot(t)
	if err := checkPlatformTools(PlatformEclecticIQ); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := Options{Name: "hseiq", Subnet: 12, Nodes: 2, Data: 4 << 20, Platform: PlatformEclecticIQ}
	l, _ := upPlatformLab(t, ctx, o)

	for _, name := range []string{DaemonPostgres, DaemonRedis} {
		if d, ok := l.Daemon(name); !ok || !pidAlive(d.PID) || d.Node != "node1" {
			t.Errorf("daemon %s: %+v %v", name, d, ok)
		}
	}
	if l.Nodes[0].CassandraPID != 0 || l.Nodes[1].CassandraPID != 0 || l.Nodes[0].ESPID == 0 {
		t.Errorf("eclecticiq nodes: %+v, want ES and no Cassandra", l.Nodes)
	}

	t.Run("postgresql over ssh", func(t *testing.T) {
		out, err := ssh(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -d eclecticiq -Atc 'select count(*) from entity'")
		if n, _ := strconv.Atoi(out); err != nil || int64(n) != eclecticiq.Entities(o.Data) {
			t.Errorf("count(*) from entity: %q %v, want %d", out, err, eclecticiq.Entities(o.Data))
		}
		out, err = ssh(t, ctx, l, "node1", "psql -h 127.0.0.1 -U postgres -d eclecticiq -Atc \"SELECT count(*) FROM blob WHERE processing_status NOT IN ('success', 'pending')\"")
		if n, _ := strconv.Atoi(out); err != nil || n == 0 {
			t.Errorf("failed blobs (seed 003's query): %q %v, want > 0", out, err)
		}
		// The default socket directory works too (sudo -u postgres pg_dumpall).
		out, err = ssh(t, ctx, l, "node1", "sudo -n -u postgres pg_dumpall --schema-only | grep -c 'CREATE TABLE'")
		if n, _ := strconv.Atoi(out); err != nil || n < 5 {
			t.Errorf("pg_dumpall over the default socket: %q %v", out, err)
		}
		if _, err := ssh(t, ctx, l, "node2", "psql -h 127.0.0.1 -U postgres -Atc 'select 1'"); err == nil {
			t.Error("postgresql answers on node2")
		}
	})

	t.Run("redis over ssh", func(t *testing.T) {
		// The broker is database 3 (REDIS_URL): the document's bare
		// redis-cli (database 0) finds nothing there.
		if out, err := ssh(t, ctx, l, "node1", "redis-cli -h 127.0.0.1 dbsize"); err != nil || out != "0" {
			t.Errorf("dbsize of database 0: %q %v, want 0", out, err)
		}
		if out, err := ssh(t, ctx, l, "node1", "redis-cli -h 127.0.0.1 -n 3 type _kombu.binding.enrichers"); err != nil || out != "set" {
			t.Errorf("kombu binding of enrichers: %q %v, want a set", out, err)
		}
		// With the queue held (no worker takes from it), what the producers
		// send stays there, in kombu's shape.
		if err := l.EclecticIQKnob(eclecticiq.KnobStuckQueues, "enrichers"); err != nil {
			t.Fatal(err)
		}
		defer l.EclecticIQKnob(eclecticiq.KnobStuckQueues, "")
		var out string
		var err error
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			out, err = ssh(t, ctx, l, "node1", "redis-cli -h 127.0.0.1 -n 3 lindex enrichers -1")
			if err == nil && out != "" {
				break
			}
		}
		if !strings.Contains(out, `"task":"eiq.platform.enrichers.tasks.run_enricher"`) || !strings.Contains(out, `"body_encoding":"base64"`) {
			t.Errorf("a message on enrichers: %q %v", out, err)
		}
	})

	t.Run("config files only on node1", func(t *testing.T) {
		files := []string{"/etc/eclecticiq/platform_settings.py", "/etc/eclecticiq/opentaxii.yml", "/etc/default/eclecticiq-platform",
			"/etc/default/eclecticiq-platform-backend-worker-common"}
		cmd := "sudo -n cat " + strings.Join(files, " ") + " >/dev/null && echo ok" // platform_settings.py is root:eclecticiq 0640
		if out, err := ssh(t, ctx, l, "node1", cmd); err != nil || out != "ok" {
			t.Errorf("node1: %q %v", out, err)
		}
		if out, err := ssh(t, ctx, l, "node2", "ls -A /etc/eclecticiq | wc -l; ls /etc/default | grep -c eclecticiq"); err == nil || !strings.HasPrefix(out, "0\n0") {
			t.Errorf("node2 has eclecticiq files: %q %v", out, err)
		}
		if _, err := os.Stat("/etc/default/eclecticiq-platform"); err == nil {
			t.Error("/etc/default/eclecticiq-platform appeared on the host")
		}
	})

	t.Run("systemd units", func(t *testing.T) {
		const unit = "eclecticiq-platform-backend-services"
		if out, err := ssh(t, ctx, l, "node1", "systemctl is-active "+unit); err != nil || out != "active" {
			t.Fatalf("is-active %s: %q %v", unit, out, err)
		}
		if out, err := ssh(t, ctx, l, "node1", "sudo -n systemctl stop "+unit+"; systemctl is-active "+unit); err == nil || strings.TrimSpace(out) != "inactive" {
			t.Errorf("after stop, is-active %s: %q %v, want inactive and exit 3", unit, out, err)
		}
		if out, err := ssh(t, ctx, l, "node1", "systemctl is-active eclecticiq-platform-backend-workers"); err != nil || out != "active" {
			t.Errorf("is-active of another unit after the stop: %q %v", out, err)
		}
	})

	t.Run("elasticsearch indices", func(t *testing.T) {
		c, err := elastic.NewCluster(esStateDir(l.StateDir), elastic.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range EclecticIQIndices {
			if _, ok, err := c.Index(ix); err != nil || !ok {
				t.Errorf("index %s: %v %v", ix, ok, err)
			}
		}
		if _, ok, _ := c.Index(ESIndex); ok {
			t.Errorf("eclecticiq lab has TheHive's index %s", ESIndex)
		}
	})

	t.Run("inventory", func(t *testing.T) {
		inv, err := config.Load(l.InventoryPath())
		if err != nil {
			t.Fatalf("config.Load: %v", err)
		}
		if inv.Platform != config.PlatformEclecticIQ || inv.Cassandra != nil || inv.Storage != nil {
			t.Errorf("inventory: platform %s, cassandra %v, storage %v", inv.Platform, inv.Cassandra, inv.Storage)
		}
		for _, role := range []string{config.RolePostgreSQL, config.RoleRedis, config.RolePlatform} {
			if ns := inv.NodesWithRole(role); len(ns) != 1 || ns[0].Name != "node1" {
				t.Errorf("role %s: %v", role, ns)
			}
		}
		if ns := inv.NodesWithRole(config.RoleElasticsearch); len(ns) != 2 {
			t.Errorf("elasticsearch nodes: %v", ns)
		}
	})

	rep, err := Status(ctx, Options{Name: o.Name, StateDir: l.StateDir})
	if err != nil || !rep.Healthy() || len(rep.Daemons) != 2 {
		t.Errorf("status: %v\n%s", err, rep)
	}
	downAndCheck(t, ctx, l, o)
	if m, _ := filepath.Glob("/dev/shm/PostgreSQL.*"); len(m) > 0 {
		t.Logf("note: /dev/shm has %v (possibly another PostgreSQL)", m)
	}
}

func TestLabAlien4Cloud(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := Options{Name: "hsa4c", Subnet: 13, Nodes: 2, Data: 4 << 20, Platform: PlatformAlien4Cloud}
	l, _ := upPlatformLab(t, ctx, o)

	out, err := ssh(t, ctx, l, "node2", "curl -s 127.0.0.1:9200/_cat/indices?h=index")
	if err != nil {
		t.Fatalf("_cat/indices: %v", err)
	}
	got := strings.Fields(out)
	for _, ix := range Alien4CloudIndices {
		if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+ix+" ") {
			t.Errorf("index %s missing from _cat/indices: %v", ix, got)
		}
	}
	// Alien4Cloud 3.x runs Elasticsearch 6.8, cluster escluster (spray).
	if out, err := ssh(t, ctx, l, "node1", "curl -s 127.0.0.1:9200/"); err != nil || !strings.Contains(out, `"cluster_name":"escluster"`) || !strings.Contains(out, `"number":"6.8.22"`) {
		t.Errorf("GET / on node1: %q %v, want cluster escluster, 6.8.22", out, err)
	}
	out, err = ssh(t, ctx, l, "node1", "cd /opt/alien4cloud/data && find csar plugins -name '*.csar' -o -name '*.zip' | wc -l && unzip -l 'csar/petclinic/2.1.0/petclinic-2.1.0.csar' | grep -c TOSCA.meta")
	if err != nil || !strings.HasPrefix(out, "9\n1") {
		t.Errorf("uploaded files on node1: %q %v", out, err)
	}
	if out, err := ssh(t, ctx, l, "node1", "curl -s 127.0.0.1:8088/rest/admin/health"); err != nil || out != `{"status":"UP"}` {
		t.Errorf("alien4cloud health on node1: %q %v", out, err)
	}
	if out, err := ssh(t, ctx, l, "node2", "ls -A /opt/alien4cloud/data 2>/dev/null | wc -l"); err != nil || out != "0" {
		t.Errorf("node2 has uploaded files: %q %v", out, err)
	}
	inv, err := config.Load(l.InventoryPath())
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if inv.Platform != config.PlatformAlien4Cloud || inv.Cassandra != nil || inv.Alien4Cloud == nil || inv.Alien4Cloud.Config != Alien4CloudConfPath {
		t.Errorf("inventory: %+v", inv)
	}
	downAndCheck(t, ctx, l, o)
}

func TestNormalizePlatform(t *testing.T) {
	tests := []struct {
		in                    Options
		platform, storage, s3 string
		wantErr               string
	}{
		{Options{}, PlatformTheHive, StorageLocalFS, s3.KindVersityGW, ""},
		{Options{Storage: StorageS3}, PlatformTheHive, StorageS3, s3.KindVersityGW, ""},
		{Options{Storage: StorageS3, S3: s3.KindMinIO}, PlatformTheHive, StorageS3, s3.KindMinIO, ""},
		{Options{Platform: PlatformEclecticIQ}, PlatformEclecticIQ, StorageLocalFS, s3.KindVersityGW, ""},
		{Options{Platform: PlatformAlien4Cloud}, PlatformAlien4Cloud, StorageLocalFS, s3.KindVersityGW, ""},
		{Options{Platform: "splunk"}, "", "", "", `invalid platform "splunk"`},
		{Options{Platform: PlatformAlien4Cloud, Search: SearchOpenSearch}, "", "", "", "runs Elasticsearch 6.8"},
		{Options{Platform: PlatformAlien4Cloud, A4CEmbedded: true, Nodes: 3}, "", "", "", "one node"},
		{Options{A4CEmbedded: true, Nodes: 1}, "", "", "", "needs platform alien4cloud"},
		{Options{Platform: PlatformAlien4Cloud, A4CEmbedded: true, Nodes: 1}, PlatformAlien4Cloud, StorageLocalFS, s3.KindVersityGW, ""},
		{Options{Storage: "nfs"}, "", "", "", `invalid storage "nfs"`},
		{Options{Storage: StorageS3, S3: "seaweedfs"}, "", "", "", `s3 server kind "seaweedfs": unknown`},
		{Options{Platform: PlatformEclecticIQ, Storage: StorageS3}, "", "", "", "platform eclecticiq has none"},
	}
	for _, tt := range tests {
		o := tt.in
		err := o.normalizePlatform()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || o.Platform != tt.platform || o.Storage != tt.storage || o.S3 != tt.s3 {
			t.Errorf("%+v: got %q %q %q %v", tt.in, o.Platform, o.Storage, o.S3, err)
		}
	}
}

func TestRenderInventoryPlatforms(t *testing.T) {
	tests := []struct {
		spec  invSpec
		check func(t *testing.T, inv *config.Inventory)
	}{
		{invSpec{Name: "a", StateDir: "/s", Subnet: 11, Nodes: 2, Platform: PlatformTheHive, Storage: StorageS3, Auth: true},
			func(t *testing.T, inv *config.Inventory) {
				s := inv.Storage
				if s == nil || s.Provider != "s3" || s.S3 == nil || s.S3.Endpoint != "http://10.77.11.11:8333" || s.S3.Bucket != "thehive" || !s.S3.PathStyle || s.S3.Region != "us-east-1" {
					t.Errorf("storage: %+v", s)
				}
				if len(inv.NodesWithRole(config.RoleFiles)) != 0 || len(inv.NodesWithRole(config.RoleCassandra)) != 2 {
					t.Errorf("roles: %+v", inv.Nodes)
				}
			}},
		{invSpec{Name: "b", StateDir: "/s", Subnet: 12, Nodes: 3, Platform: PlatformEclecticIQ},
			func(t *testing.T, inv *config.Inventory) {
				if inv.Cassandra != nil || inv.Storage != nil || inv.Elasticsearch.Index != EclecticIQIndex {
					t.Errorf("sections: cassandra %v storage %v es %+v", inv.Cassandra, inv.Storage, inv.Elasticsearch)
				}
				n1 := inv.Nodes[0]
				if !n1.HasRole(config.RolePostgreSQL) || !n1.HasRole(config.RoleRedis) || n1.Paths[config.PathPostgreSQLData] != PostgresDataDir {
					t.Errorf("node1: %+v", n1)
				}
				if inv.Nodes[2].HasRole(config.RolePostgreSQL) || !inv.Nodes[2].HasRole(config.RoleElasticsearch) {
					t.Errorf("node3: %+v", inv.Nodes[2])
				}
				if e := inv.EclecticIQ; e == nil || e.Redis.DB != RedisBrokerDB || e.Postgres.Unit != "postgresql-15" || len(e.ConfigPaths) != 95 ||
					!slices.Equal(e.ConfigPaths, eclecticiq.ConfigPaths) {
					t.Errorf("eclecticiq: %+v", e)
				}
			}},
		{invSpec{Name: "c", StateDir: "/s", Subnet: 13, Nodes: 1, Platform: PlatformAlien4Cloud, Auth: true},
			func(t *testing.T, inv *config.Inventory) {
				if inv.Platform != "alien4cloud" || inv.Elasticsearch.Index != "" || inv.Elasticsearch.Username != ESUser {
					t.Errorf("es: %+v", inv.Elasticsearch)
				}
				a := inv.Alien4Cloud
				if a == nil || a.Password.String() != "file:/s/secrets/"+SecretA4CAdmin || a.URL != "http://127.0.0.1:8088" || a.Service != Alien4CloudUnit || !inv.Nodes[0].HasRole(config.RoleAlien4Cloud) {
					t.Errorf("alien4cloud: %+v, node1 %+v", a, inv.Nodes[0])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.spec.Platform, func(t *testing.T) {
			text := renderInventory(tt.spec)
			inv, err := config.Parse("inventory.yaml", []byte(text))
			if err != nil {
				t.Fatalf("config.Parse: %v\n%s", err, text)
			}
			if inv.Platform != tt.spec.Platform {
				t.Errorf("platform %q", inv.Platform)
			}
			tt.check(t, inv)
		})
	}
}
