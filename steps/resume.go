package steps

// ResumeCommand returns the command that continues a failed or interrupted
// run, or "" when there is nothing to resume (the run succeeded, or its
// runbook cannot be resumed).
func ResumeCommand(sum RunSummary) string {
	if sum.Err == nil || sum.RunID == "" || !sum.Resumable {
		return ""
	}
	return "hotsnap resume " + sum.RunID
}
