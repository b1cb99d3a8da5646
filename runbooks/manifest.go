package runbooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// ManifestStep is every backup's last step: it completes *m under mu (the
// finish time, the start time when nothing set it, the run this one
// resumes, then complete, which
// may be nil, adds the platform's last facts) and writes a copy into store
// atomically — a backup without it is incomplete by definition.
func ManifestStep(store repo.Store, id string, mu sync.Locker, m *repo.Manifest, complete func(*repo.Manifest)) steps.Step {
	where := Where(store)
	return steps.Step{
		ID: "manifest", Title: "Write the manifest", Kind: steps.KindAction, Component: "repository",
		Why: "The manifest is written last and atomically: a backup without one is incomplete by definition.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "repository", Cmd: "write " + id + "/manifest.json in " + where}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			mu.Lock()
			m.Finished = time.Now().UTC()
			if m.Started.IsZero() {
				m.Started = m.Finished
			}
			m.Started = m.Started.UTC()
			m.Resumes = rc.Resumes()
			if complete != nil {
				complete(m)
			}
			c := *m
			mu.Unlock()
			if err := repo.WriteManifest(ctx, store, &c); err != nil {
				return fmt.Errorf("write the manifest: %w", err)
			}
			rc.Output("", fmt.Sprintf("backup %s complete: %s in %s", id, steps.HumanBytes(c.Size()), where))
			return nil
		},
	}
}

// Where names store in plans and messages: its URL, or "the repository"
// while planning without one.
func Where(store repo.Store) string {
	if store == nil {
		return "the repository"
	}
	return store.String()
}

// ManifestDigest fingerprints a manifest, to notice a backup rewritten or
// replaced under the same ID between a run and its resume.
func ManifestDigest(m *repo.Manifest) string {
	b, _ := json.Marshal(m) //nolint:errchkjson // a Manifest always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
