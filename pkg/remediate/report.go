package remediate

import (
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// Modes of a remediation report: a plan changes nothing; an apply carries
// out a plan and records what it did.
const (
	ModePlan  = "plan"
	ModeApply = "apply"
)

// ReportKind tells a remediation report (or plan) from a scan report.
const ReportKind = "orgscan-remediation"

// Kinds of root credential an action acts on.
const (
	KindAccessKey          = "access-key"
	KindSigningCertificate = "signing-certificate"
	KindPassword           = "password"
	KindMFADevice          = "mfa-device"
)

// Decisions a plan makes for each credential of a selected kind.
const (
	DecisionDelete = "delete"
	DecisionHold   = "hold"
)

// Reasons a credential is held instead of deleted.
const (
	// HoldRecentlyUsed: an access key used within the recent-use window;
	// deleting it may break whatever uses it.
	HoldRecentlyUsed = "recently_used"
	// HoldProtectsCredentials: an MFA device kept because a password or an
	// access key remains that it protects; a root user with a password and
	// no MFA is worse off than before.
	HoldProtectsCredentials = "protects_credentials"
	// HoldNotInPlan: a credential an apply found that its plan does not
	// name (Outcome new_since_plan); only a new plan deletes it.
	HoldNotInPlan = "not_in_plan"
)

// Outcomes of an action.
const (
	OutcomePlanned       = "planned"        // a plan: to be deleted
	OutcomeHeld          = "held"           // not deleted, for the action's hold reason
	OutcomeDeleted       = "deleted"        // deleted by this apply
	OutcomeAlreadyAbsent = "already_absent" // gone when the apply came to it
	OutcomeNewSincePlan  = "new_since_plan" // found at apply, not named by the plan: never deleted
	OutcomeFailed        = "failed"         // the deletion failed; Error says why
	OutcomeNotStarted    = "not_started"    // the apply stopped before it
)

// Account statuses.
const (
	StatusPlanned     = "planned"       // a plan with at least one deletion
	StatusHeld        = "held"          // every action held
	StatusNothingToDo = "nothing_to_do" // no credential of a selected kind
	StatusRemediated  = "remediated"    // every planned deletion done and verified
	StatusFailed      = "failed"        // a deletion failed, or a credential remains after verification
	StatusError       = "error"         // the account could not be entered or read
	StatusSkipped     = "skipped"       // management account, or not active
	StatusNotStarted  = "not_started"   // the run stopped before the account
)

// Report is a remediation plan (Mode plan) or the evidence of an apply
// (Mode apply): one document type, so that a saved plan is read back by
// the code that wrote it, and an apply's evidence names the plan it
// carried out by digest.
type Report struct {
	SchemaVersion string    `json:"schema_version"`
	Kind          string    `json:"kind"`
	Remediation   Meta      `json:"remediation"`
	Accounts      []Account `json:"accounts"`
}

// Meta is the provenance of a plan or an apply.
type Meta struct {
	Mode                string     `json:"mode"`
	OrganizationID      string     `json:"organization_id"`
	ManagementAccountID string     `json:"management_account_id"`
	CallerARN           string     `json:"caller_arn"`
	CallerAccountID     string     `json:"caller_account_id"`
	Partition           string     `json:"partition"`
	StartedAt           time.Time  `json:"started_at"`
	FinishedAt          *time.Time `json:"finished_at"`
	Version             string     `json:"orgscan_version"`
	Options             Options    `json:"options"`
	// Plan identifies the plan: in a plan, its own digest (of the document
	// with this field empty); in an apply, the plan carried out.
	Plan PlanRef `json:"plan"`
	// Complete is false when an account was not entered, a listing of the
	// organization failed, or the run stopped part way; Reasons say which.
	Complete          bool                 `json:"complete"`
	IncompleteReasons []string             `json:"incomplete_reasons"`
	Interrupted       bool                 `json:"interrupted"`
	OUsNotListed      []scan.OUFailure     `json:"ous_not_listed"`
	RootAccess        scan.RootAccessState `json:"root_access"`
	Counts            Counts               `json:"counts"`
}

// PlanRef names a plan: its digest, when it was made and by whom.
type PlanRef struct {
	Digest    string    `json:"digest"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Options are the settings a plan was made with.
type Options struct {
	Delete              []string `json:"delete"`
	RecentDays          int      `json:"recent_days"`
	IncludeRecentlyUsed bool     `json:"include_recently_used"`
	Region              string   `json:"region"`
	Concurrency         int      `json:"concurrency"`
	OUs                 []string `json:"ous"`
	ExcludeOUs          []string `json:"exclude_ous"`
	Accounts            []string `json:"accounts"`
	ExcludeAccounts     []string `json:"exclude_accounts"`
}

// Counts tally a report: accounts by status and actions by outcome.
type Counts struct {
	Accounts int            `json:"accounts"`
	ByStatus map[string]int `json:"by_status"`
	// ByOutcome counts actions; ByKind counts the deletions planned (a
	// plan) or done (an apply) per credential kind.
	ByOutcome map[string]int `json:"by_outcome"`
	ByKind    map[string]int `json:"by_kind"`
}

// Account is one member account's part of the plan, and of the apply.
type Account struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	OUPath      string `json:"ou_path"`
	State       string `json:"state"`
	Status      string `json:"status"`
	// Reason says why the account is skipped, in words.
	Reason string `json:"reason,omitempty"`
	// Error is why the account could not be entered or read.
	Error *Error `json:"error,omitempty"`
	// Before is the root user's credentials as the plan found them (every
	// kind). After is what a listing in the delete session found once the
	// apply was done (nil in a plan, or when it could not be listed): the
	// kinds the plan selects, and access keys and the password too when it
	// selects MFA devices. A kind not listed is unread: its list is null
	// (an empty list is none), the password's presence and MFA's enabled
	// are null.
	Before  *scan.RootCredentials `json:"before"`
	Actions []Action              `json:"actions"`
	After   *scan.RootCredentials `json:"after"`
	// Remaining lists, after an apply, the credentials the plan deleted
	// that a verifying listing still found.
	Remaining []string `json:"remaining,omitempty"`
}

// Action is what becomes of one root credential of a selected kind.
type Action struct {
	Kind string `json:"kind"`
	// ID is the access key id, certificate id or MFA serial; empty for
	// the password, which is one per user.
	ID       string `json:"id"`
	Decision string `json:"decision"`
	// Hold is the hold reason code; HoldDetail says it in words, with the
	// facts (when, where and by which service a key was last used).
	Hold       string `json:"hold,omitempty"`
	HoldDetail string `json:"hold_detail,omitempty"`
	Outcome    string `json:"outcome"`
	// At is when the deletion succeeded (or was found already done).
	At *time.Time `json:"at,omitempty"`
	// RequestID is AWS's id of the deletion's request, for CloudTrail.
	RequestID string `json:"request_id,omitempty"`
	// Note records what the evidence must say beyond the outcome, such as
	// a retry after a lost answer.
	Note  string `json:"note,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// Error is AWS's refusal or failure, as the evidence keeps it.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}
