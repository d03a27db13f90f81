package scan

import (
	"context"
	"errors"
)

// Stage is the step of the scan pipeline that failed.
type Stage string

// The stages, in the order a scan meets them.
const (
	StageConfig   Stage = "config"   // loading the AWS configuration
	StageIdentify Stage = "identify" // sts:GetCallerIdentity
	StageDescribe Stage = "describe" // organizations:DescribeOrganization
	StageFeatures Stage = "features" // iam:ListOrganizationsFeatures
	StageDiscover Stage = "discover" // listing the root, OUs and accounts
	StageAssume   Stage = "assume"   // getting credentials into an account
	StageRead     Stage = "read"     // reading an account, or a report
	StageWrite    Stage = "write"    // handing a row or a report to an output
	StageBaseline Stage = "baseline" // reading the report to compare with
)

// Hint names what would fix a failure, as data: the library says what is
// wrong in AWS's terms, and its caller, which knows its own settings, words
// the advice (a command line names its flag, a program its field).
type Hint string

const (
	// HintCredentials: no credentials were found for the caller.
	HintCredentials Hint = "credentials"
	// HintSSOLogin: the SSO session has expired or was never started.
	HintSSOLogin Hint = "sso-login"
	// HintRefreshCredentials: the caller's session has expired.
	HintRefreshCredentials Hint = "refresh-credentials"
	// HintEndpoint: the endpoint answered something AWS would not: check
	// that it is the AWS endpoint meant.
	HintEndpoint Hint = "endpoint"
	// HintInvalidKey: the endpoint does not know the caller's access key:
	// check the credentials and the endpoint.
	HintInvalidKey Hint = "invalid-key"
	// HintOrganizationsAccess: the caller needs read access to AWS
	// Organizations, from the management account or a delegated
	// administrator.
	HintOrganizationsAccess Hint = "organizations-access"
	// HintRetryLater: AWS kept throttling.
	HintRetryLater Hint = "retry-later"
	// HintAccountTimeout: an account took longer than the per-account time
	// limit; raise it if the account is just slow.
	HintAccountTimeout Hint = "account-timeout"
	// HintConcurrency: AWS kept throttling; scan fewer accounts at once.
	HintConcurrency Hint = "concurrency"
	// HintIncludeInactive: the account is not active and was not entered;
	// asking to include inactive accounts tries it.
	HintIncludeInactive Hint = "include-inactive"
	// HintSelection: an OU or account in the selection is not in the
	// organization.
	HintSelection Hint = "selection"
)

// Error is a failure of the scan pipeline: the stage that failed, a code
// that classifies it (an AWS error code, a Code or an ErrorCode constant),
// and what would fix it as a Hint. Its message is Err's.
type Error struct {
	Stage Stage
	Code  string
	Hint  Hint
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// StageError wraps err as a failure at stage, classified by its AWS error
// code (or Unknown), unless err already is an *Error.
func StageError(stage Stage, err error, hint Hint) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	code := errorCode(err)
	switch {
	case errors.Is(err, context.Canceled):
		code = CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = CodeTimeout
	case code == "":
		code = CodeUnknown
	}
	return &Error{Stage: stage, Code: code, Hint: hint, Err: err}
}

// stageErr marks where inside an account's scan an error happened, so that
// classification reads the stage instead of the text of AWS's message.
type stageErr struct {
	stage  Stage
	method string
	err    error
}

func (e *stageErr) Error() string { return e.err.Error() }
func (e *stageErr) Unwrap() error { return e.err }
