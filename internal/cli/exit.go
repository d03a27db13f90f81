package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// Exit statuses, documented in --help and the README; exitCode is the one
// place that chooses them.
const (
	exitOK          = 0
	exitFatal       = 1
	exitUsage       = 2
	exitIncomplete  = 3
	exitFindings    = 4
	exitInterrupted = 130
)

// outcome is a run that ended as asked but is not a success: the report
// says the rest, so it prints nothing.
type outcome int

const (
	// errIncomplete: some accounts or OUs are missing from the report.
	errIncomplete outcome = exitIncomplete
	// errFindings: findings at or above the failing severity (or new ones
	// against a baseline, or a diff's condition) were asked to fail.
	errFindings outcome = exitFindings
	// errInterrupted: the scan was interrupted; the partial report was
	// written, marked so.
	errInterrupted outcome = exitInterrupted
)

func (o outcome) Error() string {
	switch o {
	case errIncomplete:
		return "the scan is incomplete"
	case errInterrupted:
		return "the scan was interrupted"
	}
	return "findings fail the run"
}

// interruptedError is a run the user interrupted; err says what it leaves.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

// fatalError ends the run with exit status 1 whatever it wraps.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// badInputCodes are the library's failures that refuse what the user gave:
// a flag's value, or a saved plan that must not be applied (edited, of
// another organization, too old). Like a report that is not one, they are
// bad input, and nothing has been changed.
var badInputCodes = map[string]bool{
	scan.ErrorCodeInvalidInput:               true,
	remediate.ErrorCodeUnsafeSelection:       true,
	remediate.ErrorCodeMalformedPlan:         true,
	remediate.ErrorCodePlanEdited:            true,
	remediate.ErrorCodePlanOtherOrganization: true,
	remediate.ErrorCodePlanTooOld:            true,
}

// exitCode maps what a command returned to its exit status. An
// interruption wins over everything, since it explains what else went
// wrong; bad input is 2 only when nothing fatal came with it.
func exitCode(err error) int {
	var (
		o  outcome
		ie *interruptedError
		fe *fatalError
		re *readError
		ue *usageError
		se *scan.Error
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ie), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &fe), errors.As(err, &re):
		return exitFatal
	case errors.As(err, &se):
		if badInputCodes[se.Code] {
			return exitUsage
		}
		return exitFatal
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &o):
		return int(o)
	}
	return exitFatal
}

// reportError writes a failed command's error on one line of w, with the
// advice its hint calls for; outcomes have nothing to say.
func reportError(w io.Writer, prefix string, err error) {
	if _, ok := err.(outcome); ok || err == nil {
		return
	}
	fmt.Fprintf(w, "%s: %s\n", prefix, oneLine(assume.RedactSecrets(err.Error()+advice(err))))
}

// advice words, for the command line, what a failure's hint says would
// fix it.
func advice(err error) string {
	var se *scan.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch se.Hint {
	case scan.HintSSOLogin:
		return "; the SSO session has expired or was never started: run `aws sso login` (with --profile if you use one)"
	case scan.HintCredentials:
		return "; no AWS credentials were found: set AWS_PROFILE or --profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	case scan.HintRefreshCredentials:
		return "; the caller's session has expired: refresh your credentials (for SSO, run `aws sso login`)"
	case scan.HintInvalidKey:
		return "; the access key is not valid for this endpoint: check the credentials and --endpoint-url"
	case scan.HintEndpoint:
		return "; check --endpoint-url"
	case scan.HintOrganizationsAccess:
		return " (the caller needs organizations:ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent, in the management account or a delegated administrator)"
	case scan.HintRetryLater:
		return " (AWS Organizations kept throttling; retry later)"
	}
	return remediateAdvice(se)
}

// rowAdvice words a row's hint, appended to its error as the report shows
// it.
func rowAdvice(h scan.Hint) string {
	switch h {
	case scan.HintIncludeInactive:
		return " (use --include-inactive to try)"
	case scan.HintAccountTimeout:
		return " (raise --account-timeout if the account is just slow)"
	case scan.HintConcurrency:
		return " (AWS kept throttling; lower --concurrency)"
	}
	return ""
}
