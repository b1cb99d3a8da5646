// Package runbooks is the registry of the platforms hotsnap carries
// runbooks for, and what every platform's runbooks have in common. The CLI
// and the wizard ask a Registry for the inventory's platform (Lookup) and
// build its runbooks through the Platform interface; a platform without
// one is refused, never run as another.
//
// Each platform is one package under runbooks/ (runbooks/thehive: its
// preflight.go, backup.go, restore.go … read like the documented runbook,
// top to bottom) that composes the components (steps/cassandra, steps/es,
// steps/files, steps/service, steps/host) with the engine (steps). A
// platform package imports this one for the request types; it never
// imports another platform's package. Adding a platform is one package
// here and one line in the CLI's registry (registry.go in package main).
package runbooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// Platform is one platform's runbooks, as the CLI and the wizard use them.
type Platform interface {
	// Name is the inventory's platform: value ("thehive").
	Name() string
	// Options are the platform-specific options it takes; Require refuses
	// the others.
	Options() []Option
	// Preflight builds the runbook of checks; it changes nothing.
	// env.OpenRepo, when set, adds the check of the repository's space.
	Preflight(env *steps.Env) steps.Runbook
	// Backup prepares the backup req describes.
	Backup(env *steps.Env, req BackupRequest) (Backup, error)
	// Restore prepares the restore req describes.
	Restore(env *steps.Env, req RestoreRequest) (Restore, error)
}

// Option is a platform-specific command-line option.
type Option string

// The platform-specific options.
const (
	// OneNode copies one node's replica (backup --one-node).
	OneNode Option = "--one-node"
	// S3Exact makes the attachment bucket an exact copy of the backup
	// (restore --s3-exact).
	S3Exact Option = "--s3-exact"
	// SetRF sets the replication the cluster needs after a restore into
	// another topology (restore --set-rf).
	SetRF Option = "--set-rf"
	// DocumentedBackups restores a backup made by the platform's
	// documented scripts (restore PATH); the platform implements
	// Documented.
	DocumentedBackups Option = "restore PATH"
	// StopService stops the application for the backup instead of
	// keeping it running in maintenance mode (backup --stop-service).
	StopService Option = "--stop-service"
	// Hot backs up without stopping the platform (backup --hot).
	Hot Option = "--hot"
	// RedisRDB also copies Redis' RDB (backup --redis-rdb).
	RedisRDB Option = "--redis-rdb"
)

// Require refuses, as a Refusal the operator fixes, an option p does not
// take.
func Require(p Platform, o Option) error {
	if slices.Contains(p.Options(), o) {
		return nil
	}
	return &Refusal{Err: fmt.Errorf("platform %s has no %s: nothing was contacted", p.Name(), o)}
}

// BackupRequest is a backup to prepare.
type BackupRequest struct {
	Store repo.Store // where it goes; nil to plan only
	ID    string     // the backup ID (repo.NewID), or a placeholder to plan
	Tool  string     // "hotsnap VERSION", recorded in the manifest
	// OneNode copies one node's replica (option OneNode).
	OneNode bool
	// StopService stops the application while the backup is taken
	// (option StopService).
	StopService bool
	// Label is the operator's name for the backup (backup --name),
	// recorded in the manifest.
	Label string
	// Hot skips the platform's stops (option Hot); RedisRDB copies the
	// broker's RDB (option RedisRDB).
	Hot, RedisRDB bool
	// Prior is the run this one takes again under the same ID (resume).
	Prior *steps.PriorRun
}

// Backup is a prepared backup.
type Backup interface {
	// Runbook is the backup's runbook, to run once.
	Runbook() steps.Runbook
	// Manifest is the manifest as the run left it (complete once it
	// succeeded).
	Manifest() *repo.Manifest
	// Estimate measures on the nodes what the backup would copy; it
	// changes nothing.
	Estimate(ctx context.Context) (*steps.Estimate, error)
}

// RestoreRequest is a restore of a backup of the repository to prepare.
type RestoreRequest struct {
	Store repo.Store
	// Manifest is the backup's; nil plans the restore of a stand-in with
	// every component the inventory has.
	Manifest *repo.Manifest
	// S3Exact removes the objects created after the backup (option
	// S3Exact).
	S3Exact bool
	// SetRF sets the replication the cluster needs when the backup's does
	// not fit it (option SetRF).
	SetRF bool
	// Prior is the run this one continues (resume): the platform says
	// which of its finished steps are not repeated and which gates lose
	// their point.
	Prior *steps.PriorRun
}

// Restore is a prepared restore.
type Restore interface {
	// Runbook is the restore's runbook, to run once.
	Runbook() steps.Runbook
	// Manifest is the backup being restored (for a documented backup, the
	// view of it the restore works from, nil until its first step has read
	// it).
	Manifest() *repo.Manifest
	// Choices are the choice gates the request's options answer
	// (steps.GatePolicy.Choices).
	Choices() map[string]string
	// LoadedWith names what loads the data ("nodetool import") once the
	// restore knows, for the faces; "" before.
	LoadedWith() string
	// Report is the restore's report, line by line, once it ended.
	Report() []string
}

// Parameters a documented backup's restore records in its runbook's
// Params, for resume: the PATH as typed and the stamp of the backup
// restored. The caller adds its own.
const (
	ParamDocumentedPath = "legacy_path"
	ParamDocumentedAt   = "legacy_at"
)

// Parameters every restore records for resume: the backup's ID and its
// manifest's digest (ManifestDigest). The CLI records them for a backup of
// the repository; a documented backup's restore records them itself, the
// digest once it has read the backup.
const (
	ParamBackup   = "backup"
	ParamManifest = "manifest_sha256"
)

// Documented is a Platform that restores the backups of its documented
// scripts (option DocumentedBackups).
type Documented interface {
	// DocumentedRoot is where the scripts write by default; the wizard
	// looks there.
	DocumentedRoot() string
	// DocumentedBackups lists the backups found (repo.FindLegacy) as the
	// wizard's picker shows them, newest first.
	DocumentedBackups(found *repo.LegacyFound) []repo.Summary
	// RestoreDocumented prepares the restore of one of them; it contacts
	// nothing: the backup is read by the restore's first step, which makes
	// the steps after it from what it read (steps.Step.Then), so the
	// restore's Manifest is nil until then. what names it ("STAMP in
	// WHERE").
	RestoreDocumented(env *steps.Env, req DocumentedRequest) (r Restore, what string, err error)
}

// DocumentedRequest is the restore of a documented scripts' backup.
type DocumentedRequest struct {
	Path    string            // the PATH the operator gave (recorded for resume)
	Source  repo.Store        // the folder PATH names, opened
	NodeDir string            // its absolute path on the node it is on ("" when local)
	Found   *repo.LegacyFound // what the folder holds
	At      string            // the stamp to restore ("" for the newest)
	S3Exact bool
	SetRF   bool
	Prior   *steps.PriorRun
}

// Discoverer is a Platform that drafts an inventory from one of its nodes
// (hotsnap init).
type Discoverer interface {
	// ConfigPath is the configuration file that tells a node runs the
	// platform.
	ConfigPath() string
	// Discover logs in to req.Seed and drafts the inventory; SSH settings
	// and the repository are the caller's.
	Discover(ctx context.Context, req DiscoverRequest) (*config.Inventory, error)
}

// DiscoverRequest is what Discover gets from `hotsnap init`.
type DiscoverRequest struct {
	Seed string
	// SeedPool reaches the seed; Connect opens a pool on the addresses
	// found, with the same SSH settings.
	SeedPool *remote.Pool
	Connect  func(addrs []string) *remote.Pool
	// CassandraUser, CassandraPassword, ESPassword: the references the
	// inventory gets where the platform uses authentication.
	CassandraUser                 string
	CassandraPassword, ESPassword config.Secret
	// Cluster is --cluster ("" to discover it).
	Cluster string
	// Prompt asks for a secret on the terminal (nil without one).
	Prompt func(label string) (string, error)
	// Out receives what is found, line by line.
	Out io.Writer
}

// Refusal is a platform's refusal of a request before anything changed:
// the operator's input (a flag, a PATH: exit 2), or, Unfit, what was found
// cannot be used (exit 3).
type Refusal struct {
	Err   error
	Unfit bool
}

func (r *Refusal) Error() string { return r.Err.Error() }

// Unwrap returns the cause.
func (r *Refusal) Unwrap() error { return r.Err }

// ErrPreflightFailed is wrapped by the error of a run stopped by its
// preflight verdict: checks failed, nothing was changed.
var ErrPreflightFailed = errors.New("preflight checks failed")

// PreflightVerdict is the step after the checks that stops the run when
// one failed, before anything is copied or changed.
func PreflightVerdict() steps.Step {
	return steps.Step{
		ID: "preflight-verdict", Title: "Preflight verdict", Kind: steps.KindCheck, Component: "preflight",
		Why: "With a node down, a repository missing or a damaged backup the result would not be usable: stop before anything is copied or changed.",
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			if failed := rc.FailedChecks(); len(failed) > 0 {
				var names []string
				for _, c := range failed {
					names = append(names, strings.TrimPrefix(c.Node+": ", ": ")+c.Check)
				}
				return fmt.Errorf("%d %w (%s): fix them (each says how) and run again", len(failed), ErrPreflightFailed, strings.Join(names, "; "))
			}
			return nil
		},
	}
}

// Registry holds the platforms hotsnap has runbooks for.
type Registry struct {
	platforms []Platform
}

// NewRegistry returns a registry of platforms.
func NewRegistry(platforms ...Platform) *Registry {
	return &Registry{platforms: platforms}
}

// ErrNoRunbook is wrapped by Lookup's error for a platform without one.
var ErrNoRunbook = errors.New("has no runbook in this hotsnap yet")

// Lookup returns the platform named name, or an error wrapping
// ErrNoRunbook that says which are supported.
func (r *Registry) Lookup(name string) (Platform, error) {
	for _, p := range r.platforms {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("platform %q %w; supported today: %s", name, ErrNoRunbook, strings.Join(r.Names(), ", "))
}

// Names lists the platforms, in the order they were registered.
func (r *Registry) Names() []string {
	out := make([]string, len(r.platforms))
	for i, p := range r.platforms {
		out[i] = p.Name()
	}
	return out
}
