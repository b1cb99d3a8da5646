package files

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// S3Client returns a client of the attachment bucket's endpoint
// (storage.s3) through node's tunnel.
func S3Client(env *steps.Env, node string) (*minio.Client, error) {
	s3 := env.Inv.Storage.S3
	return remote.NewS3Client(s3.Endpoint, env.S3AccessKey, env.S3SecretKey, s3.Region, s3.PathStyle, env.Dial(node))
}

// S3Conf says where the application configures its bucket, for remedies:
// Keys ("storage.s3.aws.credentials in application.conf") and Bucket
// ("storage.s3.bucket in application.conf").
type S3Conf struct{ Keys, Bucket string }

// S3Check is the check that the bucket (storage.s3) exists and can be
// listed with the keys, from node.
func S3Check(env *steps.Env, node string, conf S3Conf) steps.Step {
	s3 := env.Inv.Storage.S3
	return steps.Step{
		ID: "s3", Title: "Attachment storage in S3: bucket reachable with the credentials", Kind: steps.KindCheck, Component: Component,
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: node, Cmd: fmt.Sprintf("S3 via SSH tunnel: ListObjects %s/%s (max 1)", s3.Endpoint, s3.Bucket)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			cl, err := S3Client(env, node)
			if err != nil {
				rc.Check(steps.CheckResult{Check: "s3", Node: node, Status: steps.CheckFail, Evidence: err.Error()})
				return nil
			}
			ok, err := cl.BucketExists(ctx, s3.Bucket)
			switch {
			case err != nil:
				rc.Check(steps.CheckResult{Check: "s3 bucket", Node: node, Status: steps.CheckFail, Evidence: fmt.Sprintf("%s: %v", s3.Endpoint, err),
					Remedy: "check storage.s3.access_key/secret_key against " + conf.Keys + ", and the endpoint as seen from " + node})
			case !ok:
				rc.Check(steps.CheckResult{Check: "s3 bucket", Node: node, Status: steps.CheckFail, Evidence: fmt.Sprintf("bucket %q does not exist at %s", s3.Bucket, s3.Endpoint),
					Remedy: "check storage.s3.bucket against " + conf.Bucket})
			default:
				lctx, cancel := context.WithCancel(ctx)
				defer cancel()
				n := 0
				// The first object listed (or error) is enough.
				if obj, any := <-cl.ListObjects(lctx, s3.Bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 1}); any {
					if obj.Err != nil {
						rc.Check(steps.CheckResult{Check: "s3 bucket", Node: node, Status: steps.CheckFail, Evidence: obj.Err.Error(),
							Remedy: "the credentials must be allowed to list and read the bucket"})
						return nil
					}
					n++
				}
				rc.Check(steps.CheckResult{Check: "s3 bucket", Node: node, Status: steps.CheckPass, Evidence: fmt.Sprintf("bucket %s at %s is readable (%d object seen)", s3.Bucket, s3.Endpoint, n)})
			}
			return nil
		},
	}
}

// BucketSize lists the bucket (storage.s3) through node's tunnel and sums
// its objects.
func BucketSize(ctx context.Context, env *steps.Env, node string) (int64, error) {
	s3 := env.Inv.Storage.S3
	cl, err := S3Client(env, node)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", node, err)
	}
	var total int64
	for o := range cl.ListObjects(ctx, s3.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return 0, fmt.Errorf("%s: list %s: %w", node, s3Name(cl, s3.Bucket, ""), o.Err)
		}
		total += o.Size
	}
	return total, nil
}

// CopyBucket copies every object of bucket into store under backup id
// (repo.ObjectPath), each hashed as it passes, reporting progress as "s3".
func CopyBucket(ctx context.Context, rc *steps.RunContext, cl *minio.Client, bucket string, store repo.Store, id string) ([]repo.ObjectEntry, int64, error) {
	var objs []minio.ObjectInfo
	var total int64
	for o := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", s3Name(cl, bucket, ""), o.Err)
		}
		objs = append(objs, o)
		total += o.Size
	}
	var done int64
	var entries []repo.ObjectEntry
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		e, err := copyObject(ctx, cl, bucket, o, store, repo.ObjectPath(id, o.Key))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", s3Name(cl, bucket, o.Key), err)
		}
		entries = append(entries, e)
		done += o.Size
		rc.Progress("s3", done, total, "bytes")
	}
	return entries, total, nil
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

// BucketDiff is what a bucket holds compared with a backup's objects.
type BucketDiff struct {
	Objects    int   // objects in the bucket
	After      int   // objects not in the backup: created after it
	AfterBytes int64 // their size
	Changed    int   // objects of the backup whose size or ETag differ now
	Missing    int   // objects of the backup no longer in the bucket
}

// CompareBucket lists bucket and compares it with the backup's objects.
func CompareBucket(ctx context.Context, cl *minio.Client, bucket string, backup []repo.ObjectEntry) (BucketDiff, error) {
	inBackup := make(map[string]int, len(backup))
	for i, o := range backup {
		inBackup[o.Key] = i
	}
	var d BucketDiff
	seen := map[string]bool{}
	for o := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return d, fmt.Errorf("list %s: %w", s3Name(cl, bucket, ""), o.Err)
		}
		d.Objects++
		i, ok := inBackup[o.Key]
		if !ok {
			d.After++
			d.AfterBytes += o.Size
			continue
		}
		seen[o.Key] = true
		b := backup[i]
		if b.Size != o.Size || b.ETag != "" && strings.Trim(b.ETag, `"`) != strings.Trim(o.ETag, `"`) {
			d.Changed++
		}
	}
	d.Missing = len(backup) - len(seen)
	return d, nil
}

// PutBack writes every object of backup id (store) back into bucket,
// reporting progress as "s3"; with exact it then removes the objects that
// are not in the backup, and says how many.
func PutBack(ctx context.Context, rc *steps.RunContext, cl *minio.Client, bucket string, store repo.Store, id string, objs []repo.ObjectEntry, exact bool) (removed int, err error) {
	keep := map[string]bool{}
	var total, done int64
	for _, o := range objs {
		keep[o.Key] = true
		total += o.Size
	}
	for _, o := range objs {
		rd, err := store.Open(ctx, repo.ObjectPath(id, o.Key))
		if err != nil {
			return 0, err
		}
		_, err = cl.PutObject(ctx, bucket, o.Key, rd, o.Size, minio.PutObjectOptions{})
		rd.Close()
		if err != nil {
			return 0, fmt.Errorf("put %s: %w", s3Name(cl, bucket, o.Key), err)
		}
		done += o.Size
		rc.Progress("s3", done, total, "bytes")
	}
	if !exact {
		return 0, nil
	}
	for obj := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return removed, obj.Err
		}
		if !keep[obj.Key] {
			if err := cl.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}

// s3Name names an object (or, with key "", a bucket) and the endpoint it is
// read from, for errors: "s3://bucket/key at http://host:port".
func s3Name(cl *minio.Client, bucket, key string) string {
	name := "s3://" + bucket
	if key != "" {
		name += "/" + key
	}
	if u := cl.EndpointURL(); u != nil {
		name += " at " + u.Scheme + "://" + u.Host
	}
	return name
}

// Answers checks that bucket still answers at its endpoint (a bucket that
// is gone is an error too), naming both.
func Answers(ctx context.Context, cl *minio.Client, bucket string) error {
	ok, err := cl.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("%s: %w", s3Name(cl, bucket, ""), err)
	}
	if !ok {
		return fmt.Errorf("%s: the bucket does not exist", s3Name(cl, bucket, ""))
	}
	return nil
}
