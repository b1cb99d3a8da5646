package steps

// NopReporter drops every event: for commands run outside a run (an
// estimate before the run starts) and for tests.
type NopReporter struct{}

func (NopReporter) RunStarted(string, string, []StepInfo)             {}
func (NopReporter) StepStarted(StepInfo)                              {}
func (NopReporter) StepsAdded(string, []StepInfo)                     {}
func (NopReporter) StepOutput(string, string, string)                 {}
func (NopReporter) StepProgress(string, string, int64, int64, string) {}
func (NopReporter) CheckReported(CheckResult)                         {}
func (NopReporter) GateRequested(GateRequest)                         {}
func (NopReporter) GateDecided(GateRequest, GateDecision)             {}
func (NopReporter) StepFinished(StepInfo, StepResult)                 {}
func (NopReporter) CleanupRan(string, error)                          {}
func (NopReporter) RunFinished(RunSummary)                            {}
