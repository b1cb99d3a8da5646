package thehive

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotsnap/hotsnap/steps"
	"github.com/hotsnap/hotsnap/steps/files"
)

// The choice gate of a restore whose attachments are S3 objects: what to do
// with objects created after the backup.
const (
	S3ChoiceGate  = "choose-s3" // the gate's step ID (steps.GatePolicy.Choices key)
	S3ChoiceKeep  = "keep"      // keep them (the default, --yes)
	S3ChoiceExact = "exact"     // remove them: an exact copy (--s3-exact)
)

// s3Count is what the bucket holds compared with the backup, counted before
// TheHive is stopped.
type s3Count struct {
	counted bool
	files.BucketDiff
}

// exact says whether objects created after the backup are to be removed.
func (r *RestoreRun) exact() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.S3Exact
}

func (r *RestoreRun) setExact(v bool) {
	r.mu.Lock()
	r.S3Exact = v
	r.mu.Unlock()
}

func (r *RestoreRun) s3Counted() s3Count {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s3
}

// s3CountStep lists the bucket and compares it with the backup: how many
// objects were created after it (what an exact copy removes) and how many
// changed (what the restore overwrites). A bucket that cannot be listed is a
// failed check: the restore could not write to it either.
func s3CountStep(env *steps.Env, r *RestoreRun) steps.Step {
	s3 := env.Inv.Storage.S3
	f := r.Manifest.Files
	node := appNode(env)
	return steps.Step{
		ID: "s3-compare", Title: "Compare the bucket with the backup", Kind: steps.KindCheck, Component: files.Component,
		Why: "Objects created after the backup are not in it: the gate that follows asks whether to keep them or remove them, and says how many there are.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: node, Cmd: fmt.Sprintf("S3 via SSH tunnel: ListObjects %s/%s; compare keys, sizes and ETags with the backup's %d objects", s3.Endpoint, s3.Bucket, len(f.Objects))}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			fail := func(err error) error {
				rc.Check(steps.CheckResult{Check: "s3 bucket", Node: node, Status: steps.CheckFail, Evidence: fmt.Sprintf("%s: %v", node, err),
					Remedy: "check storage.s3 (endpoint, bucket, keys) in the inventory and that " + node + " reaches the endpoint (hotsnap preflight); nothing was changed"})
				return nil
			}
			cl, err := files.S3Client(env, node)
			if err != nil {
				return fail(err)
			}
			d, err := files.CompareBucket(ctx, cl, s3.Bucket, f.Objects)
			if err != nil {
				return fail(err)
			}
			c := s3Count{counted: true, BucketDiff: d}
			r.mu.Lock()
			r.s3 = c
			r.mu.Unlock()
			rc.Check(steps.CheckResult{Check: "s3 bucket", Node: node, Status: steps.CheckPass, Evidence: fmt.Sprintf(
				"s3://%s: %d objects; of the backup's %d, %d changed and %d missing (rewritten by the restore); %d created after the backup (%s)",
				s3.Bucket, c.Objects, len(f.Objects), c.Changed, c.Missing, c.After, steps.HumanBytes(c.AfterBytes))})
			return nil
		},
	}
}

// s3AnswersStep checks, once the destructive gate is passed and before
// anything changes, that the bucket still answers: staging and the gates
// can take long, and an endpoint gone since the bucket was compared would
// fail the attachments only after the keyspace and the indices were
// replaced.
func s3AnswersStep(env *steps.Env) steps.Step {
	s3 := env.Inv.Storage.S3
	node := appNode(env)
	return steps.Step{
		ID: "s3-answers", Title: "Check the bucket still answers, before changing anything", Kind: steps.KindAction, Component: files.Component,
		Why: "The attachments are written back at the same time as the keyspace and the indices are replaced: an S3 endpoint that went away since the bucket was compared must stop the restore before the first change, not after it.",
		Plan: func() []steps.PlannedCommand {
			return []steps.PlannedCommand{{Node: node, Cmd: fmt.Sprintf("S3 via SSH tunnel: HeadBucket %s/%s", s3.Endpoint, s3.Bucket)}}
		},
		Run: func(ctx context.Context, rc *steps.RunContext) error {
			cl, err := files.S3Client(env, node)
			if err == nil {
				err = files.Answers(ctx, cl, s3.Bucket)
			}
			if err != nil {
				return fmt.Errorf("%s: the attachments' S3 endpoint stopped answering since the bucket was compared: %w; nothing has been changed: bring the endpoint back (hotsnap preflight checks it), then restore again", node, err)
			}
			rc.Output("s3", fmt.Sprintf("s3://%s at %s answers", s3.Bucket, s3.Endpoint))
			return nil
		},
	}
}

// s3ChoiceGate asks what to do with objects created after the backup. It
// changes nothing itself: the choice is acted on by the attachments step,
// after the destructive gate.
func s3ChoiceGate(env *steps.Env, r *RestoreRun) steps.Step {
	bucket := env.Inv.Storage.S3.Bucket // where the objects are written back
	return steps.Step{
		ID: S3ChoiceGate, Title: "Keep or remove objects created after the backup", Kind: steps.KindGate, Component: files.Component,
		Why: "Objects created after the backup are not in it: keeping them leaves attachments the restored database does not know; removing them makes the bucket an exact copy of the backup.",
		Gate: &steps.GateRequest{
			Happens:  fmt.Sprintf("every object of the backup is written back into s3://%s; objects created after the backup are not in it: keep them, or remove them for an exact copy", bucket),
			Loses:    "nothing yet: the choice is acted on only after the destructive gate",
			Rollback: "decline (esc) to stop here: nothing has been changed",
			Default:  S3ChoiceKeep,
			Choices: []steps.GateChoice{
				{Key: S3ChoiceKeep, Label: "keep the objects created after the backup"},
				{Key: S3ChoiceExact, Label: "remove them: an exact copy of the backup", Flag: "--s3-exact", Destructive: true},
			},
		},
		Refine: func(g *steps.GateRequest) {
			c := r.s3Counted()
			if !c.counted {
				return
			}
			if c.After == 0 {
				g.Happens = fmt.Sprintf("every object of the backup is written back into s3://%s; no object was created after the backup (counted before TheHive stopped): both choices give the same bucket", bucket)
				return
			}
			g.Happens = fmt.Sprintf("every object of the backup is written back into s3://%s; objects created after the backup (counted before TheHive stopped): %s (%s); keep them, or remove them for an exact copy",
				bucket, objects(c.After), steps.HumanBytes(c.AfterBytes))
		},
		Chose: func(k string) { r.setExact(k == S3ChoiceExact) },
	}
}

// s3Loses is what the destructive gate says the attachments step loses.
func (r *RestoreRun) s3Loses() string {
	c, exact := r.s3Counted(), r.exact()
	var parts []string
	if c.counted {
		parts = append(parts, fmt.Sprintf("attachment objects changed since the backup: %s (overwritten)", objects(c.Changed)))
	} else {
		parts = append(parts, "attachment objects that differ from the backup (overwritten)")
	}
	switch {
	case exact && c.counted:
		parts = append(parts, fmt.Sprintf("objects created after the backup: %s (%s), removed for an exact copy", objects(c.After), steps.HumanBytes(c.AfterBytes)))
	case exact:
		parts = append(parts, "the objects created after the backup, removed for an exact copy")
	case c.counted && c.After > 0:
		return parts[0] + fmt.Sprintf(" (objects created after the backup are kept: %s)", objects(c.After))
	}
	return strings.Join(parts, "; ")
}

// objects says "1 object" or "n objects".
func objects(n int) string {
	if n == 1 {
		return "1 object"
	}
	return fmt.Sprintf("%d objects", n)
}
