package steps

// Resumable runbooks: a failed or interrupted run of these can be continued
// with `hotsnap resume RUN`.
var resumable = map[string]bool{"restore": true, "backup": true}

// ResumeCommand returns the command that continues a failed or interrupted
// run, or "" when there is nothing to resume (the run succeeded, or its
// runbook cannot be resumed).
func ResumeCommand(sum RunSummary) string {
	if sum.Err == nil || sum.RunID == "" || !resumable[sum.Runbook] {
		return ""
	}
	return "hotsnap resume " + sum.RunID
}
