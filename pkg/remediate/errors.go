package remediate

import "github.com/orgscan/orgscan/pkg/scan"

// StagePlan is the stage of a failure to read or accept a saved plan.
const StagePlan scan.Stage = "plan"

// Codes of remediate's failures (scan.Error.Code).
const (
	// ErrorCodeUnsafeSelection: the selection would delete MFA devices
	// while the password or access keys they protect may remain.
	ErrorCodeUnsafeSelection = "UnsafeSelection"
	// ErrorCodeRootCredentialsManagementDisabled: the organization does
	// not manage its member accounts' root credentials centrally, so no
	// root session can be opened to read or delete them.
	ErrorCodeRootCredentialsManagementDisabled = "RootCredentialsManagementDisabled"
	// ErrorCodeRootCredentialsManagementUnknown: whether it does could not
	// be read (the reason is in the message).
	ErrorCodeRootCredentialsManagementUnknown = "RootCredentialsManagementUnknown"
	// ErrorCodeMalformedPlan: the plan is not a plan orgscan wrote.
	ErrorCodeMalformedPlan = "MalformedPlan"
	// ErrorCodePlanEdited: the plan's content does not match its digest.
	ErrorCodePlanEdited = "PlanEdited"
	// ErrorCodePlanOtherOrganization: the plan was made for another
	// organization than the caller's.
	ErrorCodePlanOtherOrganization = "PlanOtherOrganization"
	// ErrorCodePlanTooOld: the plan is older than the age allowed.
	ErrorCodePlanTooOld = "PlanTooOld"
	// ErrorCodeNoPlan: an apply was given no plan it could carry out.
	ErrorCodeNoPlan = "NoPlan"
)

// Hints name what would fix a failure, as data (see scan.Hint): the
// caller words them.
const (
	// HintDelete: name the kinds of root credential to delete from
	// access-keys, signing-certificates, password, mfa and all.
	HintDelete scan.Hint = "delete"
	// HintDeleteAll: delete the password and the access keys together with
	// the MFA devices (or all of them).
	HintDeleteAll scan.Hint = "delete-all"
	// HintEnableRootCredentialsManagement: enable trusted access for IAM
	// in AWS Organizations, then in IAM > Root access management the
	// feature "Root credentials management".
	HintEnableRootCredentialsManagement scan.Hint = "enable-root-credentials-management"
	// HintNewPlan: make a new plan (and have it reviewed again).
	HintNewPlan scan.Hint = "new-plan"
	// HintMaxPlanAge: the plan is older than allowed; allow an older plan,
	// or make a new one.
	HintMaxPlanAge scan.Hint = "max-plan-age"
)

// Why a remediation report is incomplete, in Meta.IncompleteReasons, in
// addition to scan's reasons (scan.ReasonInterrupted, ReasonAccountsInError,
// ReasonOUsNotListed, ReasonScanFailed).
const (
	ReasonAccountsNotStarted = "accounts_not_started"
	// An apply left a planned credential in place, or a deletion failed.
	ReasonAccountsFailed = "accounts_failed"
)
