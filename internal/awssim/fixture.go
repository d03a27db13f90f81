package awssim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Fixture is the JSON description of the world the simulator serves. The
// format is documented in doc.go; LoadFixture validates it so that a typo in a
// hand-written fixture fails loudly instead of producing a silently odd world.
type Fixture struct {
	Organization Organization `json:"organization"`
	Accounts     []Account    `json:"accounts"`
	// Credentials are long-lived IAM user keys that clients start from
	// (typically an administrator in the management account).
	Credentials []StaticCredential `json:"credentials"`
	Buckets     []Bucket           `json:"buckets,omitempty"`
}

// Organization is the single organization the simulator models.
type Organization struct {
	ID                  string `json:"id"`      // o-xxxxxxxxxx
	RootID              string `json:"root_id"` // r-xxxx
	ManagementAccountID string `json:"management_account_id"`
	// OUs is a flat list; Parent is the root id or another OU's id.
	OUs []OU `json:"ous"`
	// DelegatedAdministrators are the accounts registered as delegated
	// administrator for IAM (service principal iam.amazonaws.com), which
	// is what this list always meant: Organizations read access, and
	// ListOrganizationsFeatures and sts:AssumeRoot for centralized root
	// access. Fixtures written before per-service delegation keep loading
	// with that meaning.
	DelegatedAdministrators []string `json:"delegated_administrators,omitempty"`
	// DelegatedAdministratorsByService are delegated administrators by
	// service principal (securityhub.amazonaws.com, iam.amazonaws.com...).
	// Any of them may call the Organizations read APIs; only IAM's get
	// IAM's root access powers. An account listed under iam.amazonaws.com
	// here is the same as one in DelegatedAdministrators.
	DelegatedAdministratorsByService map[string][]string `json:"delegated_administrators_by_service,omitempty"`
	// FeatureSet is ALL (the default when empty) or CONSOLIDATED_BILLING,
	// an organization without all features, in which trusted access for
	// IAM, and so centralized root access, cannot be enabled.
	FeatureSet string   `json:"feature_set,omitempty"`
	Features   Features `json:"features"`
}

// Service principals and feature sets the simulator gives a meaning to.
const (
	IAMServicePrincipal = "iam.amazonaws.com"
	FeatureSetAll       = "ALL"
	// FeatureSetConsolidatedBilling is an organization without all
	// features (Organizations User Guide, "Available feature sets").
	FeatureSetConsolidatedBilling = "CONSOLIDATED_BILLING"
)

// IAMDelegatedAdministrators are the accounts registered as delegated
// administrator for IAM, from both forms of the fixture.
func (o *Organization) IAMDelegatedAdministrators() []string {
	out := append([]string(nil), o.DelegatedAdministrators...)
	for _, id := range o.DelegatedAdministratorsByService[IAMServicePrincipal] {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// allDelegatedAdministrators are the accounts registered as delegated
// administrator for any service.
func (o *Organization) allDelegatedAdministrators() []string {
	out := o.IAMDelegatedAdministrators()
	for _, ids := range o.DelegatedAdministratorsByService {
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// Features are the IAM centralized root access features of the organization.
type Features struct {
	// IAMTrustedAccess is whether trusted access for IAM is enabled in
	// Organizations; without it ListOrganizationsFeatures fails.
	IAMTrustedAccess          bool `json:"iam_trusted_access"`
	RootCredentialsManagement bool `json:"root_credentials_management"`
	RootSessions              bool `json:"root_sessions"`
}

// OU is an organizational unit.
type OU struct {
	ID     string `json:"id"` // ou-xxxx-xxxxxxxx
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

// Account is a member (or the management) account and everything the
// simulator knows about it.
type Account struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// State is ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED or PENDING_ACTIVATION.
	State string `json:"state"`
	// OmitState makes the simulator answer like AWS did before the State
	// field existed: only the legacy Status.
	OmitState       bool              `json:"omit_state,omitempty"`
	JoinedMethod    string            `json:"joined_method"` // INVITED or CREATED
	JoinedTimestamp time.Time         `json:"joined_timestamp"`
	Parent          string            `json:"parent"` // root or OU id
	Tags            map[string]string `json:"tags,omitempty"`
	Root            RootUser          `json:"root"`
	// Summary overrides or adds IAM account summary counts (Users, Roles,
	// Policies, ...). The four root-user flags are always computed from Root.
	Summary map[string]int32 `json:"summary,omitempty"`
	Roles   []Role           `json:"roles,omitempty"`
	Faults  AccountFaults    `json:"faults,omitempty"`
	// CredentialReport controls the state of the IAM credential report.
	CredentialReport CredentialReportFixture `json:"credential_report,omitempty"`
	// STSInactiveRegions are the regions in which STS is deactivated for
	// this account: AssumeRole and AssumeRoot for credentials in it,
	// signed for one of them, answer RegionDisabledException.
	STSInactiveRegions []string `json:"sts_inactive_regions,omitempty"`
}

// AccountFaults make a single account misbehave.
type AccountFaults struct {
	// Hang makes every request that acts in this account (AssumeRole into
	// it, IAM calls with its credentials) block until the client gives up.
	Hang bool `json:"hang,omitempty"`
	// DenyGetAccountSummary models a service control policy that denies
	// iam:GetAccountSummary after a successful assume.
	DenyGetAccountSummary bool `json:"deny_get_account_summary,omitempty"`
	// MalformedIAM makes IAM answer this account with a truncated body.
	MalformedIAM bool `json:"malformed_iam,omitempty"`
	// DenyCredentialReport models a service control policy that denies
	// iam:GenerateCredentialReport and iam:GetCredentialReport.
	DenyCredentialReport bool `json:"deny_credential_report,omitempty"`
	// CredentialReportWithoutRoot leaves the <root_account> row out of the
	// credential report, as an emulator of AWS was seen to do; AWS always
	// writes it.
	CredentialReportWithoutRoot bool `json:"credential_report_without_root,omitempty"`
}

// CredentialReportFixture seeds the IAM credential report state.
type CredentialReportFixture struct {
	// GeneratedAt, when set, is an existing report generated at that time
	// (AWS hands out a report up to four hours old instead of a new one).
	GeneratedAt *time.Time `json:"generated_at,omitempty"`
	// GenerationPolls is how many GenerateCredentialReport calls answer
	// STARTED/INPROGRESS before the report is COMPLETE (default 1). A
	// GetCredentialReport call in between counts as a poll too and answers
	// ReportInProgress until the generation completes.
	GenerationPolls int `json:"generation_polls,omitempty"`
	// InactiveRotationNA writes N/A as the last_rotated of an inactive
	// root access key or signing certificate, as the IAM User Guide
	// documents the column, instead of its date.
	InactiveRotationNA bool `json:"inactive_rotation_na,omitempty"`
}

// RootUser is the account's root user and its credentials.
type RootUser struct {
	AccessKeys          []AccessKey          `json:"access_keys,omitempty"`
	SigningCertificates []SigningCertificate `json:"signing_certificates,omitempty"`
	// MFA is "", "virtual" or "hardware".
	MFA           string     `json:"mfa,omitempty"`
	MFAEnabledAt  *time.Time `json:"mfa_enabled_at,omitempty"`
	Password      *Password  `json:"password,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	PasswordReset bool       `json:"password_reset_required,omitempty"`
}

// AccessKey is a root access key.
type AccessKey struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"` // Active or Inactive
	CreatedAt       time.Time  `json:"created_at"`
	LastUsedAt      *time.Time `json:"last_used_at,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
}

// SigningCertificate is a root X.509 signing certificate.
type SigningCertificate struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"` // Active or Inactive
	UploadedAt time.Time `json:"uploaded_at"`
}

// Password is the root user's console password.
type Password struct {
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Role is an IAM role that exists in an account.
type Role struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"` // default "/"
	// TrustedAccounts are the account ids (or principal ARNs) whose
	// principals may assume the role.
	TrustedAccounts []string `json:"trusted_accounts"`
	ExternalID      string   `json:"external_id,omitempty"`
	// MaxSessionDuration in seconds (default 3600).
	MaxSessionDuration int32 `json:"max_session_duration,omitempty"`
}

// StaticCredential is a long-lived IAM user access key.
type StaticCredential struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	AccountID       string `json:"account_id"`
	UserName        string `json:"user_name"`
	// Deny is the user's explicit denies, as Deny statements of an
	// identity-based policy state them; they model guardrails that allow
	// reading some OUs and not others.
	Deny []DenyStatement `json:"deny,omitempty"`
}

// DenyStatement denies actions ("organizations:ListAccountsForParent") on
// resources (ARNs). A * in a resource matches any run of characters, as in
// a policy's Resource element; an action without a resource (ListRoots,
// DescribeOrganization) is matched as the resource "*".
type DenyStatement struct {
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
}

// Bucket is an S3 bucket.
type Bucket struct {
	Name    string `json:"name"`
	OwnerID string `json:"owner_account_id"`
	// Region is where the bucket lives; omitted, us-east-1. Requests
	// signed for another region are redirected, as S3 does.
	Region string `json:"region,omitempty"`
}

// LoadFixture reads and validates a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open fixture: %w", err)
	}
	defer f.Close()
	fx, err := ReadFixture(f)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return fx, nil
}

// ReadFixture decodes and validates a fixture. Unknown fields are errors.
func ReadFixture(r io.Reader) (*Fixture, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var fx Fixture
	if err := dec.Decode(&fx); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := fx.Validate(); err != nil {
		return nil, err
	}
	return &fx, nil
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	orgIDPattern     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	rootIDPattern    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDPattern      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
)

var validStates = map[string]bool{
	"ACTIVE": true, "SUSPENDED": true, "PENDING_CLOSURE": true, "CLOSED": true, "PENDING_ACTIVATION": true,
}

// Validate checks the fixture's internal consistency.
func (fx *Fixture) Validate() error {
	org := fx.Organization
	if !orgIDPattern.MatchString(org.ID) {
		return fmt.Errorf("organization id %q: want o- followed by 10-32 lowercase letters or digits", org.ID)
	}
	if !rootIDPattern.MatchString(org.RootID) {
		return fmt.Errorf("root id %q: want r- followed by 4-32 lowercase letters or digits", org.RootID)
	}
	parents := map[string]bool{org.RootID: true}
	for _, ou := range org.OUs {
		if !ouIDPattern.MatchString(ou.ID) {
			return fmt.Errorf("ou id %q: want ou-xxxx-xxxxxxxx", ou.ID)
		}
		if parents[ou.ID] {
			return fmt.Errorf("ou id %q appears twice", ou.ID)
		}
		parents[ou.ID] = true
	}
	parentOf := make(map[string]string, len(org.OUs))
	for _, ou := range org.OUs {
		if !parents[ou.Parent] || ou.Parent == ou.ID {
			return fmt.Errorf("ou %s: parent %q is not the root or another OU", ou.ID, ou.Parent)
		}
		parentOf[ou.ID] = ou.Parent
	}
	if err := checkOUTree(org.RootID, parentOf); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, a := range fx.Accounts {
		if !accountIDPattern.MatchString(a.ID) {
			return fmt.Errorf("account %d: id %q is not 12 digits", i, a.ID)
		}
		if seen[a.ID] {
			return fmt.Errorf("account %s appears twice", a.ID)
		}
		seen[a.ID] = true
		if !validStates[a.State] {
			return fmt.Errorf("account %s: state %q is not one of ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION", a.ID, a.State)
		}
		if !parents[a.Parent] {
			return fmt.Errorf("account %s: parent %q is not the root or an OU", a.ID, a.Parent)
		}
		if len(a.Root.AccessKeys) > 2 || len(a.Root.SigningCertificates) > 2 {
			return fmt.Errorf("account %s: a root user has at most 2 access keys and 2 signing certificates", a.ID)
		}
		switch a.Root.MFA {
		case "", "virtual", "hardware":
		default:
			return fmt.Errorf("account %s: root mfa %q is not \"\", \"virtual\" or \"hardware\"", a.ID, a.Root.MFA)
		}
	}
	if !seen[org.ManagementAccountID] {
		return fmt.Errorf("management account %q is not among the accounts", org.ManagementAccountID)
	}
	for _, id := range org.DelegatedAdministrators {
		if !seen[id] {
			return fmt.Errorf("delegated administrator %q is not among the accounts", id)
		}
	}
	for service, ids := range org.DelegatedAdministratorsByService {
		if service == "" || strings.TrimSpace(service) != service {
			return fmt.Errorf("delegated administrators by service: service principal %q: want a name like %s", service, IAMServicePrincipal)
		}
		for _, id := range ids {
			if !seen[id] {
				return fmt.Errorf("delegated administrator %q for %s is not among the accounts", id, service)
			}
		}
	}
	switch org.FeatureSet {
	case "", FeatureSetAll:
	case FeatureSetConsolidatedBilling:
		// Trusted access needs all features (Organizations User Guide,
		// "Available feature sets"), and centralized root access needs
		// trusted access for IAM.
		if org.Features != (Features{}) {
			return fmt.Errorf("feature set %s: an organization without all features cannot have trusted access for IAM or centralized root access; set features to false", org.FeatureSet)
		}
	default:
		return fmt.Errorf("feature set %q: want %s or %s", org.FeatureSet, FeatureSetAll, FeatureSetConsolidatedBilling)
	}
	for _, a := range fx.Accounts {
		for _, region := range a.STSInactiveRegions {
			// The IAM User Guide's STS region table marks us-east-1 as
			// always active.
			if region == "" || region == "us-east-1" {
				return fmt.Errorf("account %s: sts_inactive_regions %q: STS cannot be deactivated there; name another region", a.ID, region)
			}
		}
	}
	for _, c := range fx.Credentials {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return fmt.Errorf("credential for %q: access key id and secret are required", c.UserName)
		}
		if !seen[c.AccountID] && !accountIDPattern.MatchString(c.AccountID) {
			return fmt.Errorf("credential %s: account id %q is not 12 digits", c.AccessKeyID, c.AccountID)
		}
		for _, d := range c.Deny {
			if len(d.Actions) == 0 || len(d.Resources) == 0 {
				return fmt.Errorf("credential %s: a deny statement needs actions and resources", c.AccessKeyID)
			}
			for _, a := range d.Actions {
				if service, op, ok := strings.Cut(a, ":"); !ok || service == "" || op == "" {
					return fmt.Errorf("credential %s: deny action %q: want service:Operation", c.AccessKeyID, a)
				}
			}
		}
	}
	for _, b := range fx.Buckets {
		if b.Name == "" || !accountIDPattern.MatchString(b.OwnerID) {
			return fmt.Errorf("bucket %q: name and a 12-digit owner_account_id are required", b.Name)
		}
		if b.Region != "" && !bucketRegionPattern.MatchString(b.Region) {
			return fmt.Errorf("bucket %q: region %q is not a region name such as eu-west-1", b.Name, b.Region)
		}
	}
	return nil
}

// checkOUTree makes sure every OU leads up to the root: OUs that are each
// other's parents would send paths and listings round in circles.
func checkOUTree(root string, parentOf map[string]string) error {
	reaches := map[string]bool{root: true}
	for id := range parentOf {
		var walked []string
		cur := id
		for !reaches[cur] {
			if len(walked) > len(parentOf) {
				return fmt.Errorf("ou %s: its parents form a cycle that never reaches the root", id)
			}
			walked = append(walked, cur)
			cur = parentOf[cur]
		}
		for _, w := range walked {
			reaches[w] = true
		}
	}
	return nil
}
