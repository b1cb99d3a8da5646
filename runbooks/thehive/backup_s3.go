package thehive

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

func s3BackupStep(env *steps.Env, b *BackupRun) steps.Step {
	s3 := env.Inv.Storage.S3
	node := appNode(env)
	return steps.Step{
		ID: "files", Title: "Copy every attachment object from S3", Kind: steps.KindAction,
		Why: "With storage.provider = s3 the attachments are objects in a bucket: each is copied into the repository with its hash, through the SSH tunnel when only the nodes reach the endpoint.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: node, Cmd: fmt.Sprintf("S3 via SSH tunnel: ListObjects %s/%s, GetObject each into %s/%s/<key>", s3.Endpoint, s3.Bucket, b.ID, repo.FilesS3Dir)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			start := time.Now()
			cl, err := s3Client(env, node)
			if err != nil {
				return err
			}
			var objs []minio.ObjectInfo
			var total int64
			for o := range cl.ListObjects(ctx, s3.Bucket, minio.ListObjectsOptions{Recursive: true}) {
				if o.Err != nil {
					return fmt.Errorf("list s3://%s: %w", s3.Bucket, o.Err)
				}
				objs = append(objs, o)
				total += o.Size
			}
			var done int64
			var entries []repo.ObjectEntry
			for _, o := range objs {
				if err := ctx.Err(); err != nil {
					return err
				}
				e, err := copyObject(ctx, cl, s3.Bucket, o, b.Store, repo.ObjectPath(b.ID, o.Key))
				if err != nil {
					return fmt.Errorf("s3://%s/%s: %w", s3.Bucket, o.Key, err)
				}
				entries = append(entries, e)
				done += o.Size
				rc.Progress("s3", done, total, "bytes")
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

func copyObject(ctx context.Context, cl *minio.Client, bucket string, o minio.ObjectInfo, store repo.Store, p string) (repo.ObjectEntry, error) {
	r, err := cl.GetObject(ctx, bucket, o.Key, minio.GetObjectOptions{})
	if err != nil {
		return repo.ObjectEntry{}, err
	}
	defer r.Close()
	w, err := store.Create(ctx, p)
	if err != nil {
		return repo.ObjectEntry{}, err
	}
	hw := repo.NewHashingWriter(w)
	if _, err := io.Copy(hw, r); err != nil {
		repo.Abort(w)
		return repo.ObjectEntry{}, err
	}
	if err := w.Close(); err != nil {
		return repo.ObjectEntry{}, err
	}
	if hw.N() != o.Size {
		return repo.ObjectEntry{}, fmt.Errorf("read %d bytes, the listing said %d", hw.N(), o.Size)
	}
	return repo.ObjectEntry{Key: o.Key, Size: hw.N(), SHA256: hw.Sum(), ETag: o.ETag}, nil
}
