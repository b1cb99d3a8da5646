package eclecticiq

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotsnap/hotsnap/config"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/es"
	"github.com/hotsnap/hotsnap/steps/files"
	"github.com/hotsnap/hotsnap/steps/parse"
	"github.com/hotsnap/hotsnap/steps/postgres"
	"github.com/hotsnap/hotsnap/steps/redis"
	"github.com/hotsnap/hotsnap/steps/service"
)

// dumpStep streams pg_dumpall into the repository (seed 003's SQL dump,
// without its world-readable /tmp file), hashed on the fly; a dump that
// does not end with the completion trailer fails the backup.
func (b *backupRun) dumpStep() steps.Step {
	s := b.s
	pg := s.pg()
	p := b.id + "/" + repo.PostgresDumpFile
	return steps.Step{
		ID: "dump-postgresql", Title: "Dump PostgreSQL (pg_dumpall) into the repository", Kind: steps.KindAction, Component: postgres.Component,
		Why: "Seed 003's dump, `sudo -i -u postgres pg_dumpall > /tmp/db_dump.sql`, leaves the roles' password hashes world-readable on the node and never checks that it finished: here it streams off the node, and only a dump with pg_dumpall's completion trailer and exit status 0 counts. (One pg_dumpall keeps the roles and every database in one file, as seed 003 restores it; per-database `pg_dump -Fc` would allow parallel restores but needs the globals apart.)",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.pgNode, Cmd: pg.DumpAllCmd(), Sudo: true, Note: "streamed into " + p + ", hashed on the fly"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			client, server, err := pg.Versions(ctx, rc)
			if err != nil {
				return err
			}
			dbs, err := pg.Databases(ctx, rc)
			if err != nil {
				return err
			}
			var total int64
			for _, d := range dbs {
				total += d.Size
			}
			d, err := pg.DumpAll(ctx, rc, b.store, p, func(n int64) { rc.Progress(s.pgNode, n, total, "bytes") })
			if err != nil {
				return err
			}
			b.mu.Lock()
			if b.m.PostgreSQL == nil {
				b.m.PostgreSQL = &repo.PGBackup{}
			}
			pb := b.m.PostgreSQL
			pb.Node, pb.Version, pb.Major, pb.DumpVersion = s.pgNode, server.Full, server.Major, client.Full
			pb.Dump = repo.StoredFile{Path: d.Path, Size: d.Size, SHA256: d.SHA256}
			pb.DumpDatabases = d.Databases
			mergeDatabases(pb, dbs)
			b.m.Versions["postgresql"] = server.Full
			b.mu.Unlock()
			b.timing("postgresql", time.Since(start))
			rc.Output(s.pgNode, fmt.Sprintf("pg_dumpall: %s, databases %s, complete (trailer found) in %s", steps.HumanBytes(d.Size), strings.Join(d.Databases, ", "), time.Since(start).Round(time.Millisecond)))
			return nil
		},
	}
}

// mergeDatabases records dbs' sizes in pb, keeping the tables the tables
// step found.
func mergeDatabases(pb *repo.PGBackup, dbs []parse.PGDatabase) {
	for _, d := range dbs {
		found := false
		for i := range pb.Databases {
			if pb.Databases[i].Name == d.Name {
				pb.Databases[i].Size, found = d.Size, true
			}
		}
		if !found {
			pb.Databases = append(pb.Databases, repo.PGDatabase{Name: d.Name, Size: d.Size})
		}
	}
}

// tablesStep counts the rows of every table of the platform's databases
// and hashes their content, for the restore's report.
func (b *backupRun) tablesStep() steps.Step {
	s := b.s
	pg := s.pg()
	return steps.Step{
		ID: "tables", Title: "Count the rows of every table", Kind: steps.KindCheck, Component: postgres.Component,
		Why: "The restore ends by comparing every table's row count and content with what the backup saw.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.pgNode, Cmd: pg.TableStatsCmd("<each database but postgres>"), Sudo: true, Note: "count(*) and a hash of the rows per table"}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			dbs, err := pg.Databases(ctx, rc)
			if err != nil {
				return err
			}
			var tables []repo.PGDatabase
			for _, d := range dbs {
				if d.Name == "postgres" {
					continue
				}
				st, err := pg.TableStats(ctx, rc, d.Name)
				if err != nil {
					return err
				}
				pd := repo.PGDatabase{Name: d.Name, Size: d.Size}
				for _, t := range st {
					pd.Tables = append(pd.Tables, repo.PGTable{Name: t.Table, Rows: t.Rows, Hash: t.Hash})
				}
				tables = append(tables, pd)
				rc.Output(s.pgNode, fmt.Sprintf("%s: %d tables", d.Name, len(st)))
			}
			b.mu.Lock()
			if b.m.PostgreSQL == nil {
				b.m.PostgreSQL = &repo.PGBackup{}
			}
			pb := b.m.PostgreSQL
			for _, t := range tables {
				found := false
				for i := range pb.Databases {
					if pb.Databases[i].Name == t.Name {
						pb.Databases[i].Tables, found = t.Tables, true
					}
				}
				if !found {
					pb.Databases = append(pb.Databases, t)
				}
			}
			b.mu.Unlock()
			return nil
		},
	}
}

// configStep archives the configuration files with owners and modes,
// Elasticsearch's live data left out.
func (b *backupRun) configStep() steps.Step {
	s := b.s
	c := s.conf()
	p := repo.ConfigArchivePath(b.id, s.platform)
	return steps.Step{
		ID: "archive-configuration", Title: "Archive the configuration files", Kind: steps.KindAction, Component: files.ConfigComponent,
		Why: "Seed 003 lists the configuration files (its 95 paths) with Elasticsearch's live data directories among them: those are left out (only a snapshot copies them safely); the rest is one tar with owners and modes, every file hashed.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.platform, Cmd: fmt.Sprintf("tar -C / -cf - <the %d configuration paths, real paths> --exclude %s", len(c.Listed()), strings.Join(c.Exclude, " ")), Sudo: true, Note: "streamed into " + p}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			ix, missing, err := c.Archive(ctx, rc, b.store, p, nil)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.m.Configs = []repo.FileStore{{Provider: repo.ProviderLocalFS, Path: "/", Node: s.platform, Archive: p, Size: ix.Size, Digest: ix.Digest, Entries: ix.Files}}
			if len(missing) > 0 {
				b.m.Warnings = append(b.m.Warnings, "configuration paths not found on "+s.platform+": "+strings.Join(missing, ", "))
			}
			b.mu.Unlock()
			b.timing("configuration", time.Since(start))
			rc.Output(s.platform, fmt.Sprintf("configuration: %d entries, %s; %d paths not found", len(ix.Files), steps.HumanBytes(ix.Size), len(missing)))
			return nil
		},
	}
}

// snapshotStep snapshots the platform's indices (found with seed 003's
// patterns, never _all) as the dump starts, and polls it to SUCCESS.
func (b *backupRun) snapshotStep() steps.Step {
	s := b.s
	ec := s.env.Inv.Elasticsearch
	return steps.Step{
		ID: "snapshot-elasticsearch", Title: "Snapshot the platform's Elasticsearch indices", Kind: steps.KindAction, Component: es.Component,
		Why: "Seed 003's example waits with wait_for_completion=true and checks the repository with ls (the ES ≤2 layout); here the indices its patterns find are snapshotted, started with the dump, and followed to SUCCESS (FAILED or PARTIAL fails the backup).",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: "elasticsearch", Cmd: fmt.Sprintf("GET /_cat/indices/%s; PUT /_snapshot/%s/%s?wait_for_completion=false; GET /_snapshot/%s/%s until SUCCESS",
				strings.Join(s.eiq.IndexPatterns, ","), ec.Repository, b.id, ec.Repository, b.id)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, _, err := es.Open(s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			if info, err := es.Info(ctx, cl); err == nil {
				b.mu.Lock()
				b.m.Versions[info.Distribution] = info.Version
				b.mu.Unlock()
			}
			if b.resume {
				if _, err := es.DeleteSnapshot(ctx, cl, ec.Repository, b.id, "delete the snapshot the earlier run left"); err != nil {
					return err
				}
			}
			ix, err := es.Indices(ctx, cl, s.eiq.IndexPatterns)
			if err != nil {
				return err
			}
			if len(ix) == 0 {
				return fmt.Errorf("no index matches %s: nothing to snapshot (check eclecticiq.index_patterns)", strings.Join(s.eiq.IndexPatterns, ","))
			}
			names := make([]string, len(ix))
			docs := map[string]int64{}
			for i, x := range ix {
				names[i] = x.Index
				docs[x.Index] = x.DocsCount
			}
			if err := es.StartSnapshot(ctx, cl, ec.Repository, b.id, names); err != nil {
				return err
			}
			b.mu.Lock()
			b.m.Started = start.UTC()
			b.m.Elasticsearch = &repo.ESSnapshot{Repository: ec.Repository, Snapshot: b.id, Indices: names, Location: ec.RepositoryPath, Docs: docs}
			b.mu.Unlock()
			snap, err := es.FollowSnapshot(ctx, cl, ec.Repository, b.id, pollMax, func(done, total int64) { rc.Progress("elasticsearch", done, total, "bytes") }, nil)
			if err != nil {
				return err
			}
			rec := es.Record(*snap, ec.Repository, ec.RepositoryPath)
			rec.Docs = docs
			b.mu.Lock()
			if v := b.m.Versions["elasticsearch"]; v != "" && rec.Version == "" {
				rec.Version = v
			}
			b.m.Elasticsearch = rec
			b.mu.Unlock()
			b.timing("elasticsearch", time.Since(start))
			rc.Output("elasticsearch", fmt.Sprintf("snapshot %s SUCCESS: %d shards, %s", b.id, snap.Shards.Successful, strings.Join(snap.Indices, ", ")))
			return nil
		},
		Cleanup: func(ctx context.Context, rc *steps.RunContext) error {
			cl, _, err := es.Open(s.env)
			if err != nil {
				return err
			}
			defer cl.Close()
			_, err = es.DeleteSnapshot(ctx, cl, ec.Repository, b.id, "delete the unfinished snapshot")
			return err
		},
	}
}

// rdbStep saves the broker's RDB (--redis-rdb).
func (b *backupRun) rdbStep() steps.Step {
	s := b.s
	p := b.id + "/" + repo.RedisRDBFile
	dataDir := ""
	if n, ok := s.env.Inv.Node(s.redisNode); ok {
		dataDir = n.Paths[config.PathRedisData]
	}
	return steps.Step{
		ID: "redis-rdb", Title: "Save Redis' RDB into the repository", Kind: steps.KindAction, Component: redis.Component,
		Why: "The RDB is written to a temporary file and renamed once complete (redis.io/topics/persistence): a copy taken after LASTSAVE moved is consistent.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: s.redisNode, Cmd: redis.SaveCmds, Note: "streamed into " + p}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			srv, err := s.broker(ctx, rc)
			if err != nil {
				return err
			}
			r, err := srv.Save(ctx, rc, b.store, p, dataDir, 5*time.Minute)
			if err != nil {
				return err
			}
			b.mu.Lock()
			if b.m.Redis == nil {
				b.m.Redis = &repo.RedisBackup{Node: srv.Node, DB: srv.DB}
			}
			b.m.Redis.RDB = &repo.StoredFile{Path: r.Path, Size: r.Size, SHA256: r.SHA256}
			b.mu.Unlock()
			rc.Output(s.redisNode, "RDB: "+steps.HumanBytes(r.Size))
			return nil
		},
	}
}

// startStep starts units and proves them active.
func startStep(id, title string, u service.Units) steps.Step {
	return steps.Step{
		ID: id, Title: title, Kind: steps.KindAction, Component: "platform",
		Why:  "Seed 003 only shuts the platform down; it is started again in the reverse order (workers, then services) and proven active.",
		Plan: steps.PlanEach([]string{u.Node}, u.StartCmd()+"; "+u.ListCmd(), true),
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			return u.Start(ctx, rc, startTimeout)
		},
	}
}
