package repo

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowStore is a Store whose Open takes a while, as a session over SSH
// does; it counts the manifests opened and the most opened at once.
type slowStore struct {
	Store
	delay time.Duration

	mu        sync.Mutex
	manifests []string // backup IDs whose manifest was opened, in order
	open, max int
}

func (s *slowStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	s.mu.Lock()
	if id, ok := strings.CutSuffix(p, "/"+ManifestFile); ok {
		s.manifests = append(s.manifests, id)
	}
	s.open++
	s.max = max(s.max, s.open)
	s.mu.Unlock()
	time.Sleep(s.delay)
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	return s.Store.Open(ctx, p)
}

// backups makes n complete backups a day apart in s and returns their IDs,
// oldest first.
func backups(t *testing.T, s Store, n int) []string {
	t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var ids []string
	for i := range n {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		ids = append(ids, NewID(at))
		makeBackup(t, s, ids[i], at)
	}
	return ids
}

// TestLastThroughputReadsTheNewestManifestOnly: the estimate before every
// backup reads the newest complete backup's manifest, not every backup's
// (over SSH a session each, on the path to the snapshot); a newer backup
// without a readable manifest is passed over.
func TestLastThroughputReadsTheNewestManifestOnly(t *testing.T) {
	local, _ := localStoreT(t)
	ctx := context.Background()
	ids := backups(t, local, 12)
	newest := ids[len(ids)-1]
	// Newer than every complete one: a corrupt manifest, and no manifest.
	corrupt, unfinished := "hotsnap-20261201-020000-0000", "hotsnap-20261202-020000-0000"
	putString(t, ctx, local, corrupt+"/manifest.json", "{garbage")
	putString(t, ctx, local, TableArchivePath(unfinished, "node1", "thehive", "t", "1"), "partial")
	s := &slowStore{Store: local}
	id, rate, err := LastThroughput(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(ctx, local, newest)
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(m.Size()) / 90; id != newest || rate != want {
		t.Errorf("LastThroughput = %s, %.0f B/s; want %s, %.0f B/s", id, rate, newest, want)
	}
	if strings.Join(s.manifests, " ") != corrupt+" "+newest {
		t.Errorf("manifests read: %v; want the corrupt one, then the newest complete one's only", s.manifests)
	}
}

// TestListReadsManifestsAtOnce: List reads several manifests at a time (an
// SSH repository's sessions), at most 8, and still lists every
// backup newest first.
func TestListReadsManifestsAtOnce(t *testing.T) {
	local, _ := localStoreT(t)
	ids := backups(t, local, 20)
	s := &slowStore{Store: local, delay: 20 * time.Millisecond}
	sums, err := List(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != len(ids) {
		t.Fatalf("List: %d backups, want %d", len(sums), len(ids))
	}
	for i, sum := range sums {
		if want := ids[len(ids)-1-i]; sum.ID != want || !sum.Complete {
			t.Fatalf("List[%d] = %s (complete %v), want %s complete: newest first", i, sum.ID, sum.Complete, want)
		}
	}
	if s.max < 2 || s.max > listReaders {
		t.Errorf("at most %d manifests read at once, want 2 to %d", s.max, listReaders)
	}
}

// TestCompleteReadsManifestsAtOnce: the leftovers check's question — which
// of these are complete backups — is answered with the manifests read
// several at a time (at most 8), a corrupt or missing one not complete.
func TestCompleteReadsManifestsAtOnce(t *testing.T) {
	local, _ := localStoreT(t)
	ctx := context.Background()
	ids := backups(t, local, 12)
	corrupt, unfinished := "hotsnap-20261201-020000-0000", "hotsnap-20261202-020000-0000"
	putString(t, ctx, local, corrupt+"/manifest.json", "{garbage")
	putString(t, ctx, local, TableArchivePath(unfinished, "node1", "thehive", "t", "1"), "partial")
	s := &slowStore{Store: local, delay: 20 * time.Millisecond}
	got := Complete(ctx, s, append([]string{corrupt, unfinished, "hotsnap-20261203-020000-0000"}, ids...))
	if len(got) != len(ids) {
		t.Errorf("Complete: %d, want the %d complete backups: %v", len(got), len(ids), got)
	}
	for _, id := range ids {
		if !got[id] {
			t.Errorf("%s not complete", id)
		}
	}
	if s.max < 2 || s.max > listReaders {
		t.Errorf("at most %d manifests read at once, want 2 to %d", s.max, listReaders)
	}
}
