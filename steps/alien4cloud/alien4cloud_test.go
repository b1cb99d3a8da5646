package alien4cloud

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	a4clab "github.com/hotsnap/hotsnap/lab/alien4cloud"
	"github.com/hotsnap/hotsnap/lab/elastic"
)

// standIn runs the lab's Alien4Cloud stand-in in-process on an
// Elasticsearch 6.8 stand-in and returns its URL and its fault file.
func standIn(t *testing.T) (string, string) {
	t.Helper()
	c, err := elastic.NewCluster(t.TempDir(), elastic.Options{ClusterName: "escluster", Flavour: elastic.FlavourElasticsearch6})
	if err != nil {
		t.Fatal(err)
	}
	es := httptest.NewServer(elastic.NewHandler(c, "node1"))
	t.Cleanup(es.Close)
	_, esPort, _ := net.SplitHostPort(strings.TrimPrefix(es.URL, "http://"))
	n, _ := strconv.Atoi(esPort)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	conf := strings.Replace(a4clab.ConfigYAML(a4clab.ConfigOptions{DataDir: filepath.Join(dir, "data"), Hosts: []string{"127.0.0.1:" + strconv.Itoa(n+100)},
		Shards: 1, AdminPassword: "s3cret"}), "port: 8088", "port: "+strconv.Itoa(port), 1)
	if err := os.WriteFile(filepath.Join(dir, "a4c.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	faults := filepath.Join(dir, "faults.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- a4clab.Run(ctx, []string{"--config", filepath.Join(dir, "a4c.yml"), "--faults", faults}, io.Discard, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	cl, _ := New("node1", url, "admin", "", nil)
	for deadline := time.Now().Add(10 * time.Second); cl.Health(context.Background()) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stand-in is not healthy after 10 s")
		}
	}
	return url, faults
}

// TestMaintenance: login, maintenance on (and already on), its state,
// off (and already off), a wrong password, and the 500 of a maintenance
// state Elasticsearch refuses to store.
func TestMaintenance(t *testing.T) {
	url, faults := standIn(t)
	ctx := context.Background()
	bad, _ := New("node1", url, "admin", "wrong", nil)
	if _, err := bad.GetMaintenance(ctx); !errors.Is(err, ErrLogin) || !strings.Contains(err.Error(), "alien4cloud.password") {
		t.Errorf("wrong password: %v", err)
	}
	cl, _ := New("node1", url, "admin", "s3cret", nil)
	if m, err := cl.GetMaintenance(ctx); err != nil || m.On {
		t.Fatalf("GetMaintenance = %+v, %v; want off", m, err)
	}
	if already, err := cl.EnableMaintenance(ctx); err != nil || already {
		t.Fatalf("EnableMaintenance = %v, %v", already, err)
	}
	if already, err := cl.EnableMaintenance(ctx); err != nil || !already {
		t.Errorf("EnableMaintenance again = %v, %v; want already on", already, err)
	}
	if m, err := cl.GetMaintenance(ctx); err != nil || !m.On || m.User != "admin" {
		t.Errorf("GetMaintenance = %+v, %v; want on by admin", m, err)
	}
	if err := cl.Health(ctx); err != nil {
		t.Errorf("health during maintenance: %v", err)
	}
	if was, err := cl.DisableMaintenance(ctx); err != nil || !was {
		t.Errorf("DisableMaintenance = %v, %v", was, err)
	}
	if was, err := cl.DisableMaintenance(ctx); err != nil || was {
		t.Errorf("DisableMaintenance again = %v, %v; want not on", was, err)
	}
	if err := a4clab.WriteFaults(faults, a4clab.Faults{MaintenanceFails: true}); err != nil {
		t.Fatal(err)
	}
	_, err := cl.EnableMaintenance(ctx)
	var re *RESTError
	if !errors.As(err, &re) || re.Status != 500 || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("EnableMaintenance with a read-only index = %v", err)
	}
	// The service keeps it on in memory: off again.
	if was, err := cl.DisableMaintenance(ctx); err != nil || !was {
		t.Errorf("DisableMaintenance after the refused write = %v, %v", was, err)
	}
}
