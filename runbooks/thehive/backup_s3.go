package thehive

import (
	"context"
	"fmt"
	"time"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/files"
)

func s3BackupStep(env *steps.Env, b *BackupRun) steps.Step {
	s3 := env.Inv.Storage.S3
	node := appNode(env)
	return steps.Step{
		ID: "files", Title: "Copy every attachment object from S3", Kind: steps.KindAction, Component: files.Component,
		Why: "With storage.provider = s3 the attachments are objects in a bucket: each is copied into the repository with its hash, through the SSH tunnel when only the nodes reach the endpoint.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: node, Cmd: fmt.Sprintf("S3 via SSH tunnel: ListObjects %s/%s, GetObject each into %s/%s/<key>", s3.Endpoint, s3.Bucket, b.ID, repo.FilesS3Dir)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, err := files.S3Client(env, node)
			if err != nil {
				return err
			}
			entries, total, err := files.CopyBucket(ctx, rc, cl, s3.Bucket, b.Store, b.ID)
			if err != nil {
				return err
			}
			b.mu.Lock()
			b.manifest.Files = &repo.FileStore{Provider: repo.ProviderS3, Bucket: s3.Bucket, Objects: entries}
			b.mu.Unlock()
			b.timing("files", time.Since(start))
			rc.Output("s3", fmt.Sprintf("%d objects, %s", len(entries), steps.HumanBytes(total)))
			return nil
		},
	}
}
