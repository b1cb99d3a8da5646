package lab

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/hotsnap/hotsnap/config"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestOptionsNormalize(t *testing.T) {
	old := RegistryDir
	RegistryDir = t.TempDir() // no registered labs
	t.Cleanup(func() { RegistryDir = old })
	tests := []struct {
		name    string
		in      Options
		up      bool
		wantErr string
		check   func(t *testing.T, o Options)
	}{
		{name: "defaults", in: Options{}, up: true, check: func(t *testing.T, o Options) {
			if o.Name != "hs" || o.Nodes != 3 || o.Subnet != 0 || o.StateDir != "/var/lib/hotsnap-lab/hs" || o.Log == nil {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{name: "max", in: Options{Name: "a1234567", Subnet: 255, Nodes: 12, StateDir: "/srv/lab/../lab2"}, up: true, check: func(t *testing.T, o Options) {
			if o.StateDir != "/srv/lab2" {
				t.Errorf("state dir not cleaned: %q", o.StateDir)
			}
		}},
		{name: "name too long", in: Options{Name: "a12345678"}, wantErr: "invalid lab name"},
		{name: "name uppercase", in: Options{Name: "Lab"}, wantErr: "invalid lab name"},
		{name: "name leading digit", in: Options{Name: "1lab"}, wantErr: "invalid lab name"},
		{name: "name with dash", in: Options{Name: "my-lab"}, wantErr: "invalid lab name"},
		{name: "subnet negative", in: Options{Subnet: -1}, wantErr: "invalid subnet -1"},
		{name: "subnet too big", in: Options{Subnet: 256}, wantErr: "invalid subnet 256"},
		{name: "too many nodes", in: Options{Nodes: 13}, up: true, wantErr: "invalid node count 13"},
		{name: "negative nodes", in: Options{Nodes: -2}, up: true, wantErr: "invalid node count -2"},
		{name: "nodes ignored by down", in: Options{Nodes: 13}, up: false},
		{name: "state dir with blank", in: Options{StateDir: "/tmp/a b"}, wantErr: "must not contain blanks"},
		{name: "state dir with quote", in: Options{StateDir: `/tmp/a"b`}, wantErr: "must not contain blanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.in.normalize(tt.up)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

func TestNormalizeUsesRegisteredStateDir(t *testing.T) {
	old := RegistryDir
	RegistryDir = t.TempDir()
	t.Cleanup(func() { RegistryDir = old })
	if err := register("reg", "/srv/custom-state", 9); err != nil {
		t.Fatal(err)
	}
	o, err := Options{Name: "reg"}.normalize(false)
	if err != nil {
		t.Fatal(err)
	}
	if o.StateDir != "/srv/custom-state" {
		t.Errorf("state dir = %q, want the registered /srv/custom-state", o.StateDir)
	}
	names, err := registeredLabs()
	if err != nil || len(names) != 1 || names[0] != "reg" {
		t.Errorf("registeredLabs = %v %v", names, err)
	}
	if err := unregister("reg"); err != nil {
		t.Fatal(err)
	}
	if names, _ := registeredLabs(); len(names) != 0 {
		t.Errorf("after unregister: %v", names)
	}
}

func TestInventoryGolden(t *testing.T) {
	got := inventoryYAML("hslab", "/var/lib/hotsnap-lab/hslab", 9, 3, false)
	golden := filepath.Join("testdata", "inventory.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("inventory differs from %s (run with -update to accept):\n%s", golden, got)
	}
}

// keyPaths flattens a YAML document's mapping keys to dotted paths; list
// items of mappings contribute their keys under "[]".
func keyPaths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			keyPaths(p, c, out)
		}
	case []any:
		for _, c := range x {
			keyPaths(prefix+"[]", c, out)
		}
	}
}

func TestInventoryMatchesSchema(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join("..", "testdata", "inventory", "thehive-cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var refDoc, doc map[string]any
	if err := yaml.Unmarshal(ref, &refDoc); err != nil {
		t.Fatalf("parse reference inventory: %v", err)
	}
	state := "/tmp/odd:state#x" // a path that needs YAML quoting
	if err := yaml.Unmarshal([]byte(inventoryYAML("hslab", state, 9, 4, false)), &doc); err != nil {
		t.Fatalf("parse lab inventory: %v", err)
	}
	refKeys, keys := map[string]bool{}, map[string]bool{}
	keyPaths("", refDoc, refKeys)
	keyPaths("", doc, keys)
	var unknown []string
	for k := range keys {
		if !refKeys[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("lab inventory has keys the reference schema lacks: %v", unknown)
	}

	ssh := doc["ssh"].(map[string]any)
	if ssh["user"] != "hotsnap" || ssh["known_hosts"] != state+"/known_hosts" || ssh["connect_timeout"] != "5s" || ssh["sudo"] != "auto" {
		t.Errorf("ssh section: %v", ssh)
	}
	if ids := ssh["identity_files"].([]any); len(ids) != 1 || ids[0] != state+"/id_ed25519" {
		t.Errorf("identity_files: %v", ids)
	}
	if doc["platform"] != "thehive" || doc["cluster"] != "lab" {
		t.Errorf("platform/cluster: %v %v", doc["platform"], doc["cluster"])
	}
	nodes := doc["nodes"].([]any)
	if len(nodes) != 4 {
		t.Fatalf("%d nodes, want 4", len(nodes))
	}
	for i, n := range nodes {
		m := n.(map[string]any)
		if m["name"] != nodeName(i+1) || m["host"] != nodeIP(9, i+1) {
			t.Errorf("node %d: %v", i+1, m)
		}
		roles := m["roles"].([]any)
		hasFiles := false
		for _, r := range roles {
			hasFiles = hasFiles || r == "files"
		}
		if hasFiles != (i == 0) || len(roles) < 3 {
			t.Errorf("node %d roles: %v (only node1 has files)", i+1, roles)
		}
	}
	if repo := doc["repository"].(map[string]any); repo["url"] != state+"/backups" {
		t.Errorf("repository.url: %v", repo["url"])
	}
	if st := doc["storage"].(map[string]any); st["provider"] != "localfs" || st["path"] != "/opt/thp/thehive/files" {
		t.Errorf("storage: %v", st)
	}
}

func TestSSHDConfig(t *testing.T) {
	cfg := sshdConfig("/s", "/s/nodes/node2", "10.77.9.12")
	want := []string{
		"ListenAddress 10.77.9.12:22",
		"HostKey /s/nodes/node2/ssh_host_ed25519_key",
		"PidFile /s/nodes/node2/sshd.pid",
		"AuthorizedKeysFile /s/authorized_keys",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"UsePAM no",
		"StrictModes no",
		"MaxStartups 64:64:64",
		"LogLevel VERBOSE",
		"PermitRootLogin no",
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(cfg, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("sshd_config lacks %q:\n%s", w, cfg)
		}
	}
	// OpenSSH's default MaxSessions (10), as on the nodes hotsnap meets.
	if strings.Contains(cfg, "MaxSessions") {
		t.Errorf("sshd_config sets MaxSessions:\n%s", cfg)
	}
}

func TestKnownHostsLine(t *testing.T) {
	tests := []struct {
		pub, want, err string
	}{
		{"ssh-ed25519 AAAAC3Nz comment here\n", "10.77.9.11 ssh-ed25519 AAAAC3Nz", ""},
		{"ssh-ed25519 AAAAC3Nz", "10.77.9.11 ssh-ed25519 AAAAC3Nz", ""},
		{"garbage", "", "malformed public key"},
		{"", "", "malformed public key"},
	}
	for _, tt := range tests {
		got, err := knownHostsLine("10.77.9.11", []byte(tt.pub))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("knownHostsLine(%q) err = %v, want %q", tt.pub, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("knownHostsLine(%q) = %q, %v; want %q", tt.pub, got, err, tt.want)
		}
	}
}

func TestHostsFile(t *testing.T) {
	h := hostsFile(9, 2)
	for _, w := range []string{"127.0.0.1\tlocalhost", "10.77.9.2\top", "10.77.9.11\tnode1", "10.77.9.12\tnode2"} {
		if !strings.Contains(h, w+"\n") {
			t.Errorf("hosts lacks %q:\n%s", w, h)
		}
	}
	if strings.Contains(h, "node3") {
		t.Errorf("hosts names a node that does not exist:\n%s", h)
	}
}

func TestStatusReport(t *testing.T) {
	good := NodeStatus{Name: "node1", IP: "10.77.9.11", NetnsExists: true, HolderPID: 10, HolderAlive: true, SSHDPID: 11, SSHDAlive: true, PortOpen: true}
	bad := good
	bad.Name, bad.IP, bad.SSHDAlive, bad.PortOpen = "node2", "10.77.9.12", false, false
	up := &StatusReport{Name: "hslab", Subnet: 9, StateDir: "/s", Recorded: true, Registered: true, GuardRoute: true, OpNetns: true, BridgeNetns: true, Nodes: []NodeStatus{good}}
	if !up.Healthy() {
		t.Error("healthy report not Healthy")
	}
	s := up.String()
	for _, w := range []string{"lab hslab: up", "10.77.9.0/24", "NODE", "node1", "10.77.9.11", "11"} {
		if !strings.Contains(s, w) {
			t.Errorf("table lacks %q:\n%s", w, s)
		}
	}
	deg := *up
	deg.Nodes = []NodeStatus{good, bad}
	if deg.Healthy() {
		t.Error("report with a dead sshd is Healthy")
	}
	if s := deg.String(); !strings.Contains(s, "degraded") || !strings.Contains(s, "11 (gone)") {
		t.Errorf("degraded table:\n%s", s)
	}
	noRoute := *up
	noRoute.GuardRoute = false
	if noRoute.Healthy() {
		t.Error("report without the guard route is Healthy")
	}
	down := &StatusReport{Name: "hslab", Subnet: -1, StateDir: "/s"}
	if s := down.String(); !strings.Contains(s, "lab hslab: down") || strings.Contains(s, "NODE") {
		t.Errorf("down table:\n%s", s)
	}
}

func TestPidAlive(t *testing.T) {
	if !pidAlive(os.Getpid()) {
		t.Error("own process reported dead")
	}
	if pidAlive(0) || pidAlive(-1) {
		t.Error("non-positive pid reported alive")
	}
	if pidAlive(1 << 22) { // above the kernel's pid_max limit
		t.Error("impossible pid reported alive")
	}
}

func TestInventoryLoadsWithConfig(t *testing.T) {
	inv, err := config.Parse("inventory.yaml", []byte(inventoryYAML("hslab", "/var/lib/hotsnap-lab/hslab", 9, 3, false)))
	if err != nil {
		t.Fatalf("config.Parse rejects the lab inventory: %v", err)
	}
	if len(inv.Nodes) != 3 || inv.Nodes[2].Host != "10.77.9.13" {
		t.Errorf("parsed nodes: %+v", inv.Nodes)
	}
}

// A lab's subnet is known from the moment it registers, before its record
// exists, so two labs coming up at once cannot both take one subnet.
func TestRegisteredSubnetBeforeTheRecord(t *testing.T) {
	old := RegistryDir
	RegistryDir = t.TempDir()
	t.Cleanup(func() { RegistryDir = old })
	if err := register("reg", filepath.Join(t.TempDir(), "no-record-yet"), 42); err != nil {
		t.Fatal(err)
	}
	if sub, err := registeredSubnet("reg"); err != nil || sub != 42 {
		t.Errorf("registeredSubnet = %d %v, want 42", sub, err)
	}
	if _, err := registeredSubnet("other"); err == nil {
		t.Error("registeredSubnet of an unregistered lab: no error")
	}
}
