package scan

import (
	"encoding/json"
	"slices"
	"time"
)

// Row statuses. Every account the organization lists ends as exactly one row
// with one of these.
const (
	StatusOK         = "ok"
	StatusError      = "error"
	StatusSkipped    = "skipped"     // not entered: the account is not ACTIVE
	StatusNotScanned = "not_scanned" // the scan was interrupted before it
)

// Access methods: how orgscan got into the account.
const (
	AccessCaller     = "caller" // the caller's own account, with its own credentials
	AccessAssumeRole = "assume-role"
	AccessAssumeRoot = "assume-root"
)

// Findings, named so that a team can filter on them.
const (
	FindingRootAccessKey          = "root-access-key"
	FindingRootSigningCertificate = "root-signing-certificate"
	FindingRootNoMFA              = "root-no-mfa"
	FindingRootPassword           = "root-password"
	// The organization manages root credentials centrally, yet this member
	// account still has a root password, keys or certificates.
	FindingCentrallyManaged = "root-credentials-while-centrally-managed"
	// From root credential details.
	FindingKeyUsedRecently = "root-access-key-used-recently"
	FindingCredentialOld   = "root-credential-old"
	FindingRootVirtualMFA  = "root-virtual-mfa"
	// From the account's security alternate contact (Config.Contacts).
	FindingNoSecurityContact = "no-security-contact"
)

// Error codes classify why an account could not be scanned (Row.ErrorCode),
// an OU could not be listed (OUFailure.ErrorCode), or the pipeline failed
// (Error.Code).
const (
	CodeAccessDenied = "AccessDenied"
	// AWS answers AccessDenied alike whether the role is missing, does not
	// trust the caller, or wants another external id.
	CodeRoleNotAssumable = "RoleNotAssumable"
	CodeNotFound         = "NotFound" // requested by id, not in the organization
	// Requested by id and not listed, while some OUs could not be
	// listed: it may exist below one of them.
	CodeNotListed      = "NotListed"
	CodeThrottled      = "Throttled"
	CodeTimeout        = "Timeout"
	CodeExpiredToken   = "ExpiredToken"
	CodeAccountBlocked = "AccountNotActive" // AWS refused: suspended or closed
	// STS is deactivated, in the region the scan signs for, in the
	// account whose credentials were asked for.
	CodeRegionDisabled = "RegionDisabled"
	CodeMalformed      = "MalformedResponse"
	CodeCanceled       = "Canceled"
	CodeUnknown        = "Unknown"
)

// Codes of the pipeline's failures (Error.Code) that are no account's: a
// failure that an account could meet too has its row's code.
const (
	// The caller's account is not in an organization.
	ErrorCodeNotInOrganization = "NotInOrganization"
	// The scan was asked for something that cannot be: an OU the
	// organization does not have.
	ErrorCodeInvalidInput = "InvalidInput"
	// An output refused a row.
	ErrorCodeWriteFailed = "WriteFailed"
)

// Row is everything the report says about one account.
type Row struct {
	AccountID    string     `json:"account_id"`
	AccountName  string     `json:"account_name"`
	Email        string     `json:"email"`
	OUPath       string     `json:"ou_path"`
	State        string     `json:"state"`
	JoinedMethod string     `json:"joined_method"`
	JoinedAt     *time.Time `json:"joined_at"`
	AccessMethod string     `json:"access_method"`

	// The root user's findings from GetAccountSummary; nil when unknown.
	RootAccessKeys          *bool `json:"root_access_keys"`
	RootSigningCertificates *bool `json:"root_signing_certificates"`
	RootPassword            *bool `json:"root_password"`
	RootMFA                 *bool `json:"root_mfa"`

	Findings  []string   `json:"findings"`
	Status    string     `json:"status"`
	ErrorCode string     `json:"error_code"`
	Error     string     `json:"error"`
	ScannedAt *time.Time `json:"scanned_at"`

	// Summary is IAM's full SummaryMap; nil when the account was not read.
	Summary Summary `json:"summary"`
	// RootCredentials is filled when details are read (Config.Details).
	RootCredentials *RootCredentials `json:"root_credentials,omitempty"`
	// DetailsError says why RootCredentials is missing from a row whose
	// summary was read: the row stays ok, with its flags and findings.
	DetailsError *DetailsError `json:"details_error,omitempty"`

	// Tags are the account's own tags (Config.Tags), as Organizations
	// ListTagsForResource lists them; accounts do not inherit their OUs'
	// tags. Empty, not nil, for an account without tags; nil when they
	// were not read (the scan did not ask, or did not enter or try the
	// account), or could not be (TagsError).
	Tags map[string]string `json:"tags,omitempty"`
	// TagsError says why Tags is missing when they were asked for; the
	// row keeps its status and findings.
	TagsError *LookupError `json:"tags_error,omitempty"`
	// SecurityContact is the account's SECURITY alternate contact
	// (Config.Contacts); nil when the account has none (the row then has
	// FindingNoSecurityContact), when it could not be read (ContactError),
	// or when it was not read.
	SecurityContact *Contact `json:"security_contact,omitempty"`
	// ContactError says why SecurityContact is unknown when it was asked
	// for; the row keeps its status and findings.
	ContactError *LookupError `json:"security_contact_error,omitempty"`

	// Hint names what in the scan's settings would fix the row's error or
	// skip; the report does not carry it (the caller words it).
	Hint Hint `json:"-"`
}

// Contact is an alternate contact of an account (AWS Account Management
// GetAlternateContact).
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Title string `json:"title"`
	// Phone is kept for JSON; the table and CSV leave it out unless asked.
	Phone string `json:"phone"`
}

// ContactRead tells whether the row's security contact was read: found,
// found missing (the finding says so), or failed (ContactError).
func (r *Row) ContactRead() bool {
	return r.SecurityContact != nil || r.ContactError != nil || slices.Contains(r.Findings, FindingNoSecurityContact)
}

// MarshalJSON writes what the account did not set as null.
func (c Contact) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
		Title *string `json:"title"`
		Phone *string `json:"phone"`
	}{nullable(c.Name), nullable(c.Email), nullable(c.Title), nullable(c.Phone)})
}

// LookupError is a failure to read something a row only adds to: its
// tags or its security contact. Code classifies it as Row.ErrorCode does.
type LookupError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// DetailsError is a failure to read root credential details.
type DetailsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// HasFindings tells whether the row reports any finding.
func (r *Row) HasFindings() bool { return len(r.Findings) > 0 }

// MarshalJSON keeps the document honest and in reading order: optional
// strings that are empty are null, and findings are always a list. Tags
// and the security contact appear only when they were read (or failed):
// tags as an object, empty when the account has none, and the contact as
// null when the account has none.
func (r Row) MarshalJSON() ([]byte, error) {
	findings := r.Findings
	if findings == nil {
		findings = []string{}
	}
	var tags *map[string]string
	if r.Tags != nil {
		tags = &r.Tags
	}
	var contact **Contact
	if r.ContactRead() {
		contact = &r.SecurityContact
	}
	return json.Marshal(struct {
		AccountID               string             `json:"account_id"`
		AccountName             string             `json:"account_name"`
		Email                   string             `json:"email"`
		OUPath                  string             `json:"ou_path"`
		State                   string             `json:"state"`
		JoinedMethod            string             `json:"joined_method"`
		JoinedAt                *time.Time         `json:"joined_at"`
		AccessMethod            *string            `json:"access_method"`
		Status                  string             `json:"status"`
		RootAccessKeys          *bool              `json:"root_access_keys"`
		RootSigningCertificates *bool              `json:"root_signing_certificates"`
		RootPassword            *bool              `json:"root_password"`
		RootMFA                 *bool              `json:"root_mfa"`
		Findings                []string           `json:"findings"`
		ErrorCode               *string            `json:"error_code"`
		Error                   *string            `json:"error"`
		ScannedAt               *time.Time         `json:"scanned_at"`
		Summary                 Summary            `json:"summary"`
		RootCredentials         *RootCredentials   `json:"root_credentials,omitempty"`
		DetailsError            *DetailsError      `json:"details_error,omitempty"`
		Tags                    *map[string]string `json:"tags,omitempty"`
		TagsError               *LookupError       `json:"tags_error,omitempty"`
		SecurityContact         **Contact          `json:"security_contact,omitempty"`
		ContactError            *LookupError       `json:"security_contact_error,omitempty"`
	}{
		r.AccountID, r.AccountName, r.Email, r.OUPath, r.State, r.JoinedMethod, r.JoinedAt,
		nullable(r.AccessMethod), r.Status,
		r.RootAccessKeys, r.RootSigningCertificates, r.RootPassword, r.RootMFA,
		findings, nullable(r.ErrorCode), nullable(r.Error), r.ScannedAt, r.Summary, r.RootCredentials, r.DetailsError,
		tags, r.TagsError, contact, r.ContactError,
	})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RootCredentials details every root credential.
type RootCredentials struct {
	// Source is "credential-report" or "root-session".
	Source string `json:"source"`
	// AsOf is the credential report's generation time, or the scan time.
	AsOf                time.Time           `json:"as_of"`
	AccessKeys          []AccessKeyDetail   `json:"access_keys"`
	SigningCertificates []CertificateDetail `json:"signing_certificates"`
	MFA                 MFADetail           `json:"mfa"`
	Password            PasswordDetail      `json:"password"`
}

// AccessKeyDetail is one root access key. ID is empty when the access
// method cannot see it (the credential report does not list key ids).
type AccessKeyDetail struct {
	ID              string     `json:"id"`
	Active          bool       `json:"active"`
	CreatedAt       *time.Time `json:"created_at"`
	LastUsedAt      *time.Time `json:"last_used_at"`
	LastUsedService string     `json:"last_used_service"`
	LastUsedRegion  string     `json:"last_used_region"`
}

// CertificateDetail is one root X.509 signing certificate.
type CertificateDetail struct {
	ID         string     `json:"id"`
	Active     bool       `json:"active"`
	UploadedAt *time.Time `json:"uploaded_at"`
}

// MFADetail is the root user's MFA.
type MFADetail struct {
	Enabled *bool       `json:"enabled"`
	Devices []MFADevice `json:"devices"`
	// Virtual tells whether a virtual MFA device is assigned to the root
	// user; nil when the access method cannot tell.
	Virtual *bool `json:"virtual"`
}

// MFADevice is one MFA device; Type is "virtual", "hardware" or "" when it
// cannot be told.
type MFADevice struct {
	Serial string `json:"serial"`
	Type   string `json:"type"`
}

// PasswordDetail is the root user's console password.
type PasswordDetail struct {
	Present    *bool      `json:"present"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Report is one scan: its provenance and one row per listed account.
// Rows lists them all in account-id order: those in Accounts, and those a
// scan kept compactly instead (Config.CompactRows), which Accounts does
// not hold.
type Report struct {
	Scan     Meta  `json:"scan"`
	Accounts []Row `json:"accounts"`
	kept     *keptRows
}

// Meta is the provenance an auditor needs: who ran the scan, when, against
// which organization, with which options, and whether every account was
// accounted for.
type Meta struct {
	OrganizationID      string    `json:"organization_id"`
	ManagementAccountID string    `json:"management_account_id"`
	CallerARN           string    `json:"caller_arn"`
	CallerAccountID     string    `json:"caller_account_id"`
	Partition           string    `json:"partition"`
	StartedAt           time.Time `json:"started_at"`
	FinishedAt          time.Time `json:"finished_at"`
	Version             string    `json:"orgscan_version"`
	// Complete is true when every account is accounted for with what was
	// asked of it; IncompleteReasons says why not.
	Complete          bool     `json:"complete"`
	Interrupted       bool     `json:"interrupted"`
	IncompleteReasons []string `json:"incomplete_reasons"`
	// OUsNotListed are the OU listings that failed; the accounts below
	// them are missing from the report.
	OUsNotListed []OUFailure     `json:"ous_not_listed"`
	Options      OptionsUsed     `json:"options"`
	Counts       Counts          `json:"counts"`
	RootAccess   RootAccessState `json:"root_access"`
}

// MarshalJSON writes the lists of an incomplete scan as lists, empty when
// there is nothing in them, never null.
func (m Meta) MarshalJSON() ([]byte, error) {
	type plain Meta
	p := plain(m)
	if p.IncompleteReasons == nil {
		p.IncompleteReasons = []string{}
	}
	if p.OUsNotListed == nil {
		p.OUsNotListed = []OUFailure{}
	}
	return json.Marshal(p)
}

// Why a report is incomplete, in Meta.IncompleteReasons.
const (
	ReasonInterrupted        = "interrupted"
	ReasonAccountsInError    = "accounts_in_error"
	ReasonAccountsNotScanned = "accounts_not_scanned"
	ReasonOUsNotListed       = "ous_not_listed"
	ReasonDetailsMissing     = "details_missing"
	// The scan stopped part way (a row could not be written).
	ReasonScanFailed = "scan_failed"
)

// NewReport completes meta with what the scan gathered — counts, the OUs
// not listed, whether it is complete and why not — and pairs it with the
// rows. It is the one place that decides completeness.
func NewReport(meta Meta, res *Result, finishedAt time.Time) *Report {
	meta.FinishedAt = finishedAt
	meta.Counts = res.Counts
	if len(res.Rows) > 0 || res.Counts.Listed == 0 {
		// A result put together by hand has rows and no tally.
		meta.Counts = Count(res.Rows)
	}
	meta.OUsNotListed = slices.Clone(res.OUsNotListed)
	if meta.OUsNotListed == nil {
		meta.OUsNotListed = []OUFailure{}
	}
	ous := map[string]bool{}
	for _, f := range meta.OUsNotListed {
		ous[f.ID] = true
	}
	meta.Counts.OUsNotListed = len(ous)
	meta.Interrupted = res.Interrupted
	reasons := []string{}
	add := func(cond bool, reason string) {
		if cond {
			reasons = append(reasons, reason)
		}
	}
	add(res.Interrupted, ReasonInterrupted)
	add(res.Err != nil, ReasonScanFailed)
	add(meta.Counts.Errors > 0, ReasonAccountsInError)
	add(meta.Counts.NotScanned > 0, ReasonAccountsNotScanned)
	add(meta.Counts.OUsNotListed > 0, ReasonOUsNotListed)
	add(meta.Counts.DetailsErrors > 0, ReasonDetailsMissing)
	// Tags and contacts that could not be read leave the report complete:
	// completeness is about the root credentials of every account, which
	// a failed lookup does not touch (the row keeps its status and
	// findings). A refusal to read contacts, most often trusted access for
	// Account Management not enabled, hits every account alike and would
	// otherwise turn every such scan incomplete; each row says why its
	// lookup failed, and the counts tally them.
	meta.IncompleteReasons = reasons
	meta.Complete = len(reasons) == 0
	return &Report{Scan: meta, Accounts: res.Rows, kept: res.kept}
}

// OptionsUsed records the options that shaped the scan.
type OptionsUsed struct {
	Access          string   `json:"access"`
	RoleName        string   `json:"role_name,omitempty"`
	RoleARNTemplate string   `json:"role_arn_template,omitempty"`
	ExternalIDSet   bool     `json:"external_id_set"`
	Region          string   `json:"region"`
	Concurrency     int      `json:"concurrency"`
	OUs             []string `json:"ous,omitempty"`
	ExcludeOUs      []string `json:"exclude_ous,omitempty"`
	Accounts        []string `json:"accounts,omitempty"`
	ExcludeAccounts []string `json:"exclude_accounts,omitempty"`
	IncludeInactive bool     `json:"include_inactive"`
	Details         bool     `json:"details"`
	// Tags and Contacts are whether the accounts' tags and security
	// contacts were read; left out when not, as reports of scans without
	// them always were.
	Tags     bool `json:"tags,omitempty"`
	Contacts bool `json:"contacts,omitempty"`
}

// Counts add up: Listed = Scanned + Skipped + Errors + NotScanned.
type Counts struct {
	Listed       int `json:"listed"`
	Scanned      int `json:"scanned"`
	Skipped      int `json:"skipped"`
	Errors       int `json:"errors"`
	NotScanned   int `json:"not_scanned"`
	WithFindings int `json:"with_findings"`
	// DetailsErrors counts scanned accounts whose root credential details
	// could not be read.
	DetailsErrors int `json:"details_errors"`
	// OUsNotListed counts the OUs (and root) with a failed listing.
	OUsNotListed int `json:"ous_not_listed"`
	// TagsErrors and ContactErrors count the accounts whose tags or
	// security contact could not be read (Row.TagsError,
	// Row.ContactError); left out when none.
	TagsErrors    int `json:"tags_errors,omitempty"`
	ContactErrors int `json:"security_contact_errors,omitempty"`
}

// RootAccessState is the organization's centralized root access features.
type RootAccessState struct {
	// Each is "enabled", "disabled" or "unknown".
	RootCredentialsManagement string `json:"root_credentials_management"`
	RootSessions              string `json:"root_sessions"`
	// Reason explains an "unknown".
	Reason string `json:"reason,omitempty"`
}

// Count tallies rows into Counts.
func Count(rows []Row) Counts {
	var c Counts
	for i := range rows {
		c.add(&rows[i])
	}
	return c
}

func (c *Counts) add(r *Row) {
	c.Listed++
	switch r.Status {
	case StatusOK:
		c.Scanned++
	case StatusSkipped:
		c.Skipped++
	case StatusError:
		c.Errors++
	case StatusNotScanned:
		c.NotScanned++
	}
	if r.HasFindings() {
		c.WithFindings++
	}
	if r.DetailsError != nil {
		c.DetailsErrors++
	}
	if r.TagsError != nil {
		c.TagsErrors++
	}
	if r.ContactError != nil {
		c.ContactErrors++
	}
}

// MarshalJSON writes what the access method could not see as null.
func (k AccessKeyDetail) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID              *string    `json:"id"`
		Active          bool       `json:"active"`
		CreatedAt       *time.Time `json:"created_at"`
		LastUsedAt      *time.Time `json:"last_used_at"`
		LastUsedService *string    `json:"last_used_service"`
		LastUsedRegion  *string    `json:"last_used_region"`
	}{nullable(k.ID), k.Active, k.CreatedAt, k.LastUsedAt, nullable(k.LastUsedService), nullable(k.LastUsedRegion)})
}

// MarshalJSON writes an id the access method could not see as null.
func (c CertificateDetail) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID         *string    `json:"id"`
		Active     bool       `json:"active"`
		UploadedAt *time.Time `json:"uploaded_at"`
	}{nullable(c.ID), c.Active, c.UploadedAt})
}

// MarshalJSON writes the device list as a list even when empty.
func (m MFADetail) MarshalJSON() ([]byte, error) {
	devices := m.Devices
	if devices == nil {
		devices = []MFADevice{}
	}
	return json.Marshal(struct {
		Enabled *bool       `json:"enabled"`
		Devices []MFADevice `json:"devices"`
		Virtual *bool       `json:"virtual"`
	}{m.Enabled, devices, m.Virtual})
}

// MarshalJSON writes a device type that cannot be told as null.
func (d MFADevice) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Serial string  `json:"serial"`
		Type   *string `json:"type"`
	}{d.Serial, nullable(d.Type)})
}
