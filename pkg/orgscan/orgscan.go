// Package orgscan audits the root user of every account in an AWS
// Organization, as the orgscan command does, for a Go program to embed.
//
// Run is the whole scan: it identifies the caller, describes the
// organization, reads its centralized root access features, chooses the
// ways into the member accounts, discovers the accounts, scans each one,
// derives the findings and decides whether the report is complete. The
// steps are callable on their own for programs that act on accounts
// otherwise: Connect (who, which organization, which features), Methods
// (the ways in) and scan.Discover (the accounts).
//
// Failures are *scan.Error values: the stage that failed, a code and a
// scan.Hint that names the fix as data, for the caller to word.
package orgscan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// MethodAuto chooses the access method per organization: root sessions
// where the organization manages root credentials centrally, the audit
// role otherwise, each with the other as the per-account fallback.
const MethodAuto = "auto"

// Defaults for the zero values of Config.
const (
	DefaultRoleName    = "OrganizationAccountAccessRole"
	DefaultConcurrency = 20
)

// Access says how to get into the member accounts.
type Access struct {
	// Method is assume.MethodAssumeRole, assume.MethodAssumeRoot or
	// MethodAuto; "" is MethodAuto.
	Method string
	// RoleName is the audit role in each account (DefaultRoleName when
	// empty); RoleARNTemplate, when set, replaces it with a role ARN
	// holding {partition} and {account_id}, for roles with a path.
	RoleName        string
	RoleARNTemplate string
	ExternalID      string
	// SessionName defaults to orgscan-<the caller's name>.
	SessionName string
	// Duration of each session; AWS's default when zero. Root sessions
	// last at most assume.MaxRootSessionDuration.
	Duration time.Duration
}

// Config is one scan.
type Config struct {
	// AWS is the caller's configuration: credentials, region, endpoint and
	// HTTP client. assume.LoadConfig builds one sized for Concurrency.
	AWS    aws.Config
	Access Access

	Filter          scan.Filter
	IncludeInactive bool
	// Concurrency is how many accounts are scanned at once
	// (DefaultConcurrency when zero).
	Concurrency int
	// AccountTimeout limits the time spent on one account; none when zero.
	AccountTimeout time.Duration
	// Details adds the root user's credential details to each row.
	Details    bool
	Thresholds scan.Thresholds
	// Tags adds each account's tags in Organizations to its row: one
	// ListTagsForResource call an account (more for more than a page of
	// tags), paced with the discovery's calls under the caller's
	// Organizations quota.
	Tags bool
	// Contacts adds each account's security alternate contact to its row
	// (and the finding scan.FindingNoSecurityContact when it has none): one
	// GetAlternateContact call an account, which needs trusted access for
	// AWS Account Management and a caller in the management account or
	// Account Management's delegated administrator.
	Contacts bool

	// Version is recorded in the report's provenance.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// OnStart, when set, is told what the scan is about to do: the
	// provenance so far and the access methods in the order tried.
	OnStart func(meta scan.Meta, methods []string)
	// OnAccount, when set, is told of each account discovery selects.
	OnAccount func()
	// OnRow, when set, sees each row as soon as it is final; calls are
	// serialized, and an error from it stops the scan (the report holds
	// what was gathered).
	OnRow func(*scan.Row) error
	// DiscardRows leaves the report's Accounts empty, for a caller whose
	// every output took the rows from OnRow: a scan of any size then
	// holds no row longer than OnRow does. The counts still add up.
	DiscardRows bool
	// CompactRows keeps the rows in a compact form rather than in the
	// report's Accounts, for a caller that only writes the report:
	// Report.Rows yields them, each decoded when it is reached.
	CompactRows bool
}

// Run scans the organization and returns its report. It fails before
// any account is scanned (the report is nil) when the access method is not
// one of the three, the caller cannot be identified, the organization
// cannot be described or listed, the selection names an OU the
// organization does not have, or ctx ends first. A scan that stops
// part way (OnRow failed) returns the report of what it gathered, marked
// incomplete, together with the error. An interrupted scan (ctx ended)
// returns its partial report, with Scan.Interrupted set, and no error.
func Run(ctx context.Context, cfg Config) (*scan.Report, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	switch cfg.Access.Method {
	case "", MethodAuto, assume.MethodAssumeRole, assume.MethodAssumeRoot:
	default:
		return nil, &scan.Error{Stage: scan.StageConfig, Code: scan.ErrorCodeInvalidInput, Err: fmt.Errorf(
			"access method %q is not known: use %s, %s or %s", cfg.Access.Method, assume.MethodAssumeRole, assume.MethodAssumeRoot, MethodAuto)}
	}
	started := now().UTC()
	s, err := Connect(ctx, cfg.AWS)
	if err != nil {
		return nil, err
	}
	meta := scan.Meta{
		OrganizationID:      s.Organization.ID,
		ManagementAccountID: s.Organization.ManagementAccountID,
		CallerARN:           s.Caller.ARN,
		CallerAccountID:     s.Caller.AccountID,
		Partition:           s.Caller.Partition,
		StartedAt:           started,
		Version:             cfg.Version,
		Options:             optionsUsed(cfg),
		// Checked whatever the access method: findings depend on it, and
		// must not change with the way into the accounts.
		RootAccess: s.Organization.RootAccess,
	}
	methods := s.Methods(cfg.Access, now)
	if cfg.OnStart != nil {
		names := make([]string, len(methods))
		for i, m := range methods {
			names[i] = m.Name()
		}
		cfg.OnStart(meta, names)
	}
	sc := scan.Config{
		Orgs:                  s.Clients.Organizations,
		IAM:                   s.Clients.IAM,
		Methods:               methods,
		CallerAccountID:       s.Caller.AccountID,
		Filter:                cfg.Filter,
		IncludeInactive:       cfg.IncludeInactive,
		Concurrency:           cfg.Concurrency,
		AccountTimeout:        cfg.AccountTimeout,
		CentralRootManagement: s.Organization.RootAccess.RootCredentialsManagement == "enabled",
		ManagementAccountID:   s.Organization.ManagementAccountID,
		Partition:             s.Caller.Partition,
		Thresholds:            cfg.Thresholds,
		Now:                   now,
		OnAccount:             cfg.OnAccount,
		OnRow:                 cfg.OnRow,
		DiscardRows:           cfg.DiscardRows,
		CompactRows:           cfg.CompactRows,
	}
	if cfg.Details {
		sc.Details = scan.NewDetailsReader(s.Clients.IAM, now)
	}
	if cfg.Tags {
		// The discovery's own client: one pace for the caller's quota.
		sc.Tags = s.Clients.Organizations
	}
	if cfg.Contacts {
		sc.Contacts = s.Clients.Account
	}
	res, err := scan.Run(ctx, sc)
	if err != nil {
		return nil, err
	}
	return scan.NewReport(meta, res, now().UTC()), res.Err
}

func optionsUsed(cfg Config) scan.OptionsUsed {
	a := cfg.Access
	u := scan.OptionsUsed{
		Access:          cmp.Or(a.Method, MethodAuto),
		ExternalIDSet:   a.ExternalID != "",
		Region:          cfg.AWS.Region,
		Concurrency:     cfg.Concurrency,
		OUs:             cfg.Filter.OUs,
		ExcludeOUs:      cfg.Filter.ExcludeOUs,
		Accounts:        cfg.Filter.Accounts,
		ExcludeAccounts: cfg.Filter.ExcludeAccounts,
		IncludeInactive: cfg.IncludeInactive,
		Details:         cfg.Details,
		Tags:            cfg.Tags,
		Contacts:        cfg.Contacts,
	}
	if a.Method != assume.MethodAssumeRoot {
		if a.RoleARNTemplate != "" {
			u.RoleARNTemplate = a.RoleARNTemplate
		} else {
			u.RoleName = cmp.Or(a.RoleName, DefaultRoleName)
		}
	}
	return u
}

// Organization is who runs the scan and what they scan.
type Organization struct {
	Caller              assume.Caller
	ID                  string
	ManagementAccountID string
	// RootAccess is the organization's centralized root access features,
	// or "unknown" with the reason.
	RootAccess scan.RootAccessState
}

// Session is a caller connected to its organization: the clients every
// step uses, and what Connect learnt.
type Session struct {
	Clients assume.Clients
	Organization
}

// Connect identifies the caller, describes its organization and reads the
// organization's root access features. Features that cannot be read are
// no failure: they are "unknown", with the reason.
func Connect(ctx context.Context, cfg aws.Config) (*Session, error) {
	clients := assume.NewClients(cfg)
	caller, err := assume.Identify(ctx, clients.STS)
	if err != nil {
		return nil, scan.StageError(scan.StageIdentify, err, credentialHint(err))
	}
	s := &Session{Clients: clients, Organization: Organization{Caller: caller}}
	if err := s.describe(ctx, clients.Organizations); err != nil {
		return nil, err
	}
	s.RootAccess = rootAccessFeatures(ctx, clients.IAM)
	return s, nil
}

// credentialHint names what would fix the SDK's failures to find or use
// the caller's credentials. The SDK gives these no code or type, so its
// words are all there is to go by.
func credentialHint(err error) scan.Hint {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SSO token"), strings.Contains(msg, "SSO session"):
		return scan.HintSSOLogin
	case strings.Contains(msg, "failed to refresh cached credentials, no EC2 IMDS role found"),
		strings.Contains(msg, "no valid credential sources"),
		strings.Contains(msg, "failed to retrieve credentials"):
		return scan.HintCredentials
	}
	switch apiCode(err) {
	case "ExpiredToken", "ExpiredTokenException":
		return scan.HintRefreshCredentials
	case "InvalidClientTokenId", "SignatureDoesNotMatch":
		return scan.HintInvalidKey
	}
	return ""
}

// organizationDescriber is the Organizations call that identifies the org.
type organizationDescriber interface {
	DescribeOrganization(ctx context.Context, in *organizations.DescribeOrganizationInput, optFns ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

func (s *Session) describe(ctx context.Context, api organizationDescriber) error {
	fail := func(code string, hint scan.Hint, err error) error {
		return &scan.Error{Stage: scan.StageDescribe, Code: code, Hint: hint, Err: err}
	}
	out, err := api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		switch apiCode(err) {
		case "AWSOrganizationsNotInUseException":
			return fail(scan.ErrorCodeNotInOrganization, "", &said{fmt.Sprintf("account %s is not in an AWS Organization: run orgscan from the management account or a delegated administrator of the organization to scan", s.Caller.AccountID), err})
		case "AccessDeniedException", "AccessDenied":
			return fail(scan.CodeAccessDenied, "", &said{fmt.Sprintf("%s may not describe the organization: grant organizations:DescribeOrganization, ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent (examples/iam/), and run from the management account or a delegated administrator", s.Caller.ARN), err})
		}
		return scan.StageError(scan.StageDescribe, fmt.Errorf("describe the organization: %w", err), "")
	}
	org := out.Organization
	if org == nil {
		return fail(scan.CodeMalformed, scan.HintEndpoint, errors.New("describe the organization: the answer holds no organization"))
	}
	// The id goes into S3 keys and the report's provenance: an answer that
	// is not an organization id is not used.
	if id := aws.ToString(org.Id); !scan.ValidOrganizationID(id) {
		return fail(scan.CodeMalformed, scan.HintEndpoint, fmt.Errorf("describe the organization: the answer's organization id %s is not an organization id (o- and 10-32 lowercase letters or digits)", strconv.QuoteToASCII(truncate(id, 40))))
	}
	if id := aws.ToString(org.MasterAccountId); !scan.ValidAccountID(id) {
		return fail(scan.CodeMalformed, scan.HintEndpoint, fmt.Errorf("describe the organization: the answer's management account id %s is not a 12-digit account id", strconv.QuoteToASCII(truncate(id, 40))))
	}
	s.ID, s.ManagementAccountID = aws.ToString(org.Id), aws.ToString(org.MasterAccountId)
	return nil
}

// said is AWS's error told in other words: the message replaces AWS's,
// which the chain keeps for errors.As.
type said struct {
	msg string
	err error
}

func (e *said) Error() string { return e.msg }
func (e *said) Unwrap() error { return e.err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// featuresLister reads the organization's centralized root access features.
type featuresLister interface {
	ListOrganizationsFeatures(ctx context.Context, in *iam.ListOrganizationsFeaturesInput, optFns ...func(*iam.Options)) (*iam.ListOrganizationsFeaturesOutput, error)
}

// rootAccessFeatures reports enabled/disabled, or unknown with the reason.
func rootAccessFeatures(ctx context.Context, api featuresLister) scan.RootAccessState {
	out, err := api.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if err != nil {
		// The operation's error shapes in the IAM service model (botocore
		// iam/2010-05-08/service-2.json), each also accepted without the
		// Exception suffix, the way the IAM API Reference names them.
		reason := err.Error()
		switch strings.TrimSuffix(apiCode(err), "Exception") {
		case "ServiceAccessNotEnabled":
			reason = "trusted access for IAM is not enabled in AWS Organizations"
		case "AccessDenied":
			reason = "the caller may not call iam:ListOrganizationsFeatures"
		case "AccountNotManagementOrDelegatedAdministrator":
			reason = "the caller is neither the management account nor the delegated administrator for IAM"
		case "OrganizationNotFound":
			reason = "the caller is not in an organization"
		case "OrganizationNotInAllFeaturesMode":
			reason = "the organization does not have all features enabled, which centralized root access needs"
		}
		return scan.RootAccessState{RootCredentialsManagement: "unknown", RootSessions: "unknown", Reason: reason}
	}
	state := func(f iamtypes.FeatureType) string {
		if slices.Contains(out.EnabledFeatures, f) {
			return "enabled"
		}
		return "disabled"
	}
	return scan.RootAccessState{
		RootCredentialsManagement: state(iamtypes.FeatureTypeRootCredentialsManagement),
		RootSessions:              state(iamtypes.FeatureTypeRootSessions),
	}
}

// Methods returns the ways into the member accounts in the order they are
// tried. MethodAuto prefers root sessions where the organization manages
// root credentials centrally, and keeps the other method as the
// per-account fallback. now is the clock sessions expire by.
func (s *Session) Methods(a Access, now func() time.Time) []scan.Method {
	template := a.RoleARNTemplate
	if template == "" {
		template = assume.RoleNameTemplate(cmp.Or(a.RoleName, DefaultRoleName))
	}
	session := a.SessionName
	if session == "" {
		session = assume.SessionName(s.Caller)
	}
	role := assume.NewRoleMethod(s.Clients.STS, assume.RoleOptions{
		Template: template, Partition: s.Caller.Partition, ExternalID: a.ExternalID,
		SessionName: session, Duration: a.Duration, Now: now,
	})
	root := assume.NewRootMethod(s.Clients.STS, assume.RootOptions{
		Partition: s.Caller.Partition, Duration: min(a.Duration, assume.MaxRootSessionDuration), Now: now,
	})
	switch a.Method {
	case assume.MethodAssumeRole:
		return []scan.Method{role}
	case assume.MethodAssumeRoot:
		return []scan.Method{root}
	}
	if s.RootAccess.RootCredentialsManagement == "enabled" {
		return []scan.Method{root, role}
	}
	return []scan.Method{role, root}
}
