package steps

import "strings"

// Redact masks every non-empty secret in s with "***". It is what the
// engine applies to commands, output and checks before it reports or
// records them.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// MaskError returns err with every secret masked in its text; errors.Is and
// errors.As still see the original chain (a cancelled run stays
// context.Canceled). nil stays nil.
func MaskError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := Redact(err.Error(), secrets)
	if msg == err.Error() {
		return err
	}
	return &maskedError{msg: msg, err: err}
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// MaskingReporter wraps rep so that the errors it is handed (a step's, a
// cleanup's, the run's) and gate decisions reach it with every secret
// masked: error texts carry the command line that failed, and a command
// line may carry a password (sstableloader takes it only as an argument).
// The engine already masks all of these with its Secrets; the wrapper is
// only needed for a reporter fed by something other than the engine.
func MaskingReporter(rep Reporter, secrets []string) Reporter {
	if len(secrets) == 0 {
		return rep
	}
	return &maskingReporter{Reporter: rep, secrets: secrets}
}

type maskingReporter struct {
	Reporter
	secrets []string
}

func (m *maskingReporter) GateDecided(g GateRequest, d GateDecision) {
	d.By = Redact(d.By, m.secrets)
	m.Reporter.GateDecided(g, d)
}

func (m *maskingReporter) StepFinished(s StepInfo, res StepResult) {
	res.Err = MaskError(res.Err, m.secrets)
	m.Reporter.StepFinished(s, res)
}

func (m *maskingReporter) CleanupRan(stepID string, err error) {
	m.Reporter.CleanupRan(stepID, MaskError(err, m.secrets))
}

func (m *maskingReporter) RunFinished(sum RunSummary) {
	sum.Err = MaskError(sum.Err, m.secrets)
	if len(sum.Steps) > 0 {
		steps := make([]StepResult, len(sum.Steps))
		for i, r := range sum.Steps {
			r.Err = MaskError(r.Err, m.secrets)
			steps[i] = r
		}
		sum.Steps = steps
	}
	m.Reporter.RunFinished(sum)
}
