package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// RunFile is the marker a backup's folder gets before any snapshot of it
// starts (RunMarker): a backup that never reaches its manifest is still
// found by List (INCOMPLETE, naming its run) and removed by prune with the
// Elasticsearch snapshot it names.
const RunFile = "run.json"

// maxRunFileSize bounds what ReadRun reads of a marker.
const maxRunFileSize = 1 << 20

// RunMarker says which run is taking a backup and which snapshots it
// starts, written before the first of them.
type RunMarker struct {
	// ID is the backup ID (also the Cassandra snapshot tag).
	ID string `json:"id"`
	// Run is the run taking it (its journal: runs/RUN.jsonl).
	Run string `json:"run"`
	// Platform and Cluster are the inventory's.
	Platform string `json:"platform"`
	Cluster  string `json:"cluster"`
	// Started is when the marker was written.
	Started time.Time `json:"started"`
	// Keyspace is the keyspace whose Cassandra snapshots are tagged ID,
	// "" when the backup takes none.
	Keyspace string `json:"keyspace,omitempty"`
	// Elasticsearch is the snapshot the run starts (Repository and
	// Snapshot only), nil when it takes none.
	Elasticsearch *ESSnapshot `json:"elasticsearch,omitempty"`
}

// WriteRun writes m as <ID>/run.json.
func WriteRun(ctx context.Context, s Store, m *RunMarker) error {
	if err := CheckID(m.ID); err != nil {
		return fmt.Errorf("write %s: %w", RunFile, err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", m.ID, RunFile, err)
	}
	if err := putFile(ctx, s, m.ID+"/"+RunFile, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s/%s in %s: %w", m.ID, RunFile, s, err)
	}
	return nil
}

// ReadRun reads backup id's marker; an absent one is an error wrapping
// fs.ErrNotExist.
func ReadRun(ctx context.Context, s Store, id string) (*RunMarker, error) {
	if err := CheckID(id); err != nil {
		return nil, fmt.Errorf("read %s: %w", RunFile, err)
	}
	r, err := s.Open(ctx, id+"/"+RunFile)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", id, RunFile, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxRunFileSize))
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", id, RunFile, err)
	}
	var m RunMarker
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", id, RunFile, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("read %s/%s: it names backup %q", id, RunFile, m.ID)
	}
	return &m, nil
}

// ESSnapshotOf is the Elasticsearch snapshot backup id made or was making:
// the manifest's when it has one, else its marker's; nil when neither
// names one.
func ESSnapshotOf(ctx context.Context, s Store, id string) *ESSnapshot {
	if m, err := ReadManifest(ctx, s, id); err == nil {
		return m.Elasticsearch
	}
	if r, err := ReadRun(ctx, s, id); err == nil {
		return r.Elasticsearch
	}
	return nil
}
