package remediate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/scan"
)

// Defaults for the zero values of Config and ApplyConfig.
const (
	DefaultRecentDays = 90
	DefaultMaxPlanAge = 24 * time.Hour
)

// SchemaVersion is the remediation report's "schema_version": the one
// definition, which Plan and Apply write and ReadPlan requires.
const SchemaVersion = "1"

// Bounds of what an account already in flight still does once the run is
// interrupted or its time is up: the deletion it is making, with the SDK's
// retries, and the listing that verifies the state after.
const (
	deletionGrace = 30 * time.Second
	verifyGrace   = 30 * time.Second
)

// Config is one plan, and the settings an apply shares with it.
type Config struct {
	// Session is the caller connected to its organization (orgscan.Connect):
	// its clients, the caller, the organization and its root access
	// features.
	Session *orgscan.Session
	Filter  scan.Filter
	// Selection is the kinds of root credential to delete;
	// DefaultSelection when zero.
	Selection Selection
	// RecentDays holds an access key used within this many days
	// (DefaultRecentDays when zero), unless IncludeRecentlyUsed.
	RecentDays          int
	IncludeRecentlyUsed bool
	// Concurrency is how many accounts are worked on at once
	// (orgscan.DefaultConcurrency when zero), each making one request at a
	// time: size the HTTP connection pool (assume.ConfigOptions.Concurrency)
	// for as many. An account needs a request's round trip per credential
	// kind and per deletion, so keeping up with STS's quota takes several
	// times the accounts a scan needs.
	Concurrency int
	// AccountTimeout limits the time spent on one account; none when zero.
	// A deletion under way when it runs out is still finished.
	AccountTimeout time.Duration
	// Version is recorded in the report's provenance.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OnAccount, when set, sees each account as soon as it is final (for
	// streaming outputs); calls are serialized, and an error from it stops
	// the run: accounts not begun are not_started, and the report of what
	// was done is returned with the error.
	OnAccount func(*Account) error
	// DiscardAccounts leaves out of the report's Accounts those OnAccount
	// took (returned nil for), for a caller whose every output takes them
	// from it; the accounts OnAccount refused or never saw, once it failed,
	// are kept. The counts still add up. A plan kept without its accounts
	// carries no digest and cannot be applied.
	DiscardAccounts bool
}

// ApplyConfig is one apply. The filter and the selection are the plan's:
// Config's are not used, except to make a plan when Plan is nil.
type ApplyConfig struct {
	Config
	// Plan is the plan to carry out (from Plan or ReadPlan). When nil,
	// Apply makes one with Config first.
	Plan *Report
	// MaxPlanAge is the age beyond which a plan is refused
	// (DefaultMaxPlanAge when zero).
	MaxPlanAge time.Duration
}

// run is one plan or apply under way.
type run struct {
	cfg  Config
	now  func() time.Time
	s    *orgscan.Session
	api  iamAPI
	root *assume.RootMethod
	sel  Selection
	c    *collector
	meta Meta
	// failed stops the run part way (an output refused an account,
	// discovery broke off); the report holds what was done.
	failed error
}

// Plan decides, for each selected active member account, what to delete
// of its root user's credentials, and changes nothing. It fails before any
// session is opened when the selection is refused or the organization does
// not manage root credentials centrally, and before any account when the
// organization cannot be listed or the filter names an OU it does not
// have. An interrupted plan (ctx ended) returns what it gathered, with
// Meta.Interrupted set and no error.
func Plan(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Selection.Empty() {
		cfg.Selection = DefaultSelection()
	}
	if err := cfg.Selection.check(); err != nil {
		return nil, err
	}
	if cfg.RecentDays < 0 {
		return nil, &scan.Error{Stage: scan.StageConfig, Code: scan.ErrorCodeInvalidInput,
			Err: fmt.Errorf("recent-use window of %d days is not valid: use a positive number of days", cfg.RecentDays)}
	}
	if cfg.RecentDays == 0 {
		cfg.RecentDays = DefaultRecentDays
	}
	r, err := newRun(cfg, ModePlan, assume.TaskAuditRootUserCredentials)
	if err != nil {
		return nil, err
	}
	r.sel = cfg.Selection
	r.meta.Options = Options{
		Delete:              cfg.Selection.Names(),
		RecentDays:          cfg.RecentDays,
		IncludeRecentlyUsed: cfg.IncludeRecentlyUsed,
		Region:              r.meta.Options.Region,
		Concurrency:         cfg.Concurrency,
		OUs:                 emptyIfNil(cfg.Filter.OUs),
		ExcludeOUs:          emptyIfNil(cfg.Filter.ExcludeOUs),
		Accounts:            emptyIfNil(cfg.Filter.Accounts),
		ExcludeAccounts:     emptyIfNil(cfg.Filter.ExcludeAccounts),
	}
	r.meta.Plan.CreatedAt = r.meta.StartedAt
	r.meta.Plan.CreatedBy = r.meta.CallerARN
	return r.plan(ctx)
}

// Apply carries out a plan and returns the evidence. It checks first,
// before any session is opened, that the organization manages root
// credentials centrally and that the plan is intact, the organization's
// and young enough (CheckPlan). Accounts the plan deletes nothing in are
// carried into the evidence as the plan left them. An interrupted apply
// returns the evidence of what was done, with Meta.Interrupted set and no
// error.
func Apply(ctx context.Context, ac ApplyConfig) (*Report, error) {
	r, err := newRun(ac.Config, ModeApply, assume.TaskDeleteRootUserCredentials)
	if err != nil {
		return nil, err
	}
	plan := ac.Plan
	if plan == nil {
		inner := ac.Config
		inner.OnAccount, inner.DiscardAccounts = nil, false
		if plan, err = Plan(ctx, inner); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, scan.StageError(StagePlan, fmt.Errorf("make the plan to apply: %w", ctx.Err()), "")
		}
	}
	maxAge := ac.MaxPlanAge
	if maxAge <= 0 {
		maxAge = DefaultMaxPlanAge
	}
	if err := CheckPlan(plan, r.s.ID, r.now(), maxAge); err != nil {
		return nil, err
	}
	// CheckPlan has parsed the selection already.
	r.sel, _ = ParseSelection(plan.Remediation.Options.Delete)
	opts := plan.Remediation.Options
	opts.Region, opts.Concurrency = r.meta.Options.Region, r.cfg.Concurrency
	r.meta.Options = opts
	r.meta.Plan = plan.Remediation.Plan
	r.meta.OUsNotListed = append(r.meta.OUsNotListed, plan.Remediation.OUsNotListed...)
	return r.apply(ctx, plan)
}

// newRun checks what every run needs, before any session is opened.
func newRun(cfg Config, mode, task string) (*run, error) {
	s := cfg.Session
	if s == nil || s.Clients.STS == nil || s.Clients.IAM == nil || s.Clients.Organizations == nil {
		return nil, &scan.Error{Stage: scan.StageConfig, Code: scan.ErrorCodeInvalidInput,
			Err: errors.New("no connected session: connect to the organization first (orgscan.Connect)")}
	}
	if err := checkFeatures(s); err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = orgscan.DefaultConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &run{
		cfg: cfg,
		now: cfg.Now,
		s:   s,
		api: s.Clients.IAM,
		root: assume.NewRootMethod(s.Clients.STS, assume.RootOptions{
			Partition: s.Caller.Partition, TaskPolicy: task, Now: cfg.Now,
		}),
		c: newCollector(mode, cfg.OnAccount, cfg.DiscardAccounts),
	}
	r.meta = Meta{
		Mode:                mode,
		OrganizationID:      s.ID,
		ManagementAccountID: s.ManagementAccountID,
		CallerARN:           s.Caller.ARN,
		CallerAccountID:     s.Caller.AccountID,
		Partition:           s.Caller.Partition,
		StartedAt:           cfg.Now().UTC(),
		Version:             cfg.Version,
		Options:             Options{Region: s.Clients.STS.Options().Region},
		IncompleteReasons:   []string{},
		OUsNotListed:        []scan.OUFailure{},
		RootAccess:          s.RootAccess,
	}
	return r, nil
}

// checkFeatures refuses an organization whose root credentials are not
// managed centrally: sts:AssumeRoot with either task policy needs that
// feature, and every account would fail the same way.
func checkFeatures(s *orgscan.Session) error {
	ra := s.RootAccess
	const enable = "enable trusted access for IAM in AWS Organizations, then in the IAM console under Root access management the feature Root credentials management (iam:EnableOrganizationsRootCredentialsManagement)"
	switch ra.RootCredentialsManagement {
	case "enabled":
		return nil
	case "disabled":
		return &scan.Error{Stage: scan.StageFeatures, Code: ErrorCodeRootCredentialsManagementDisabled, Hint: HintEnableRootCredentialsManagement,
			Err: fmt.Errorf("organization %s does not manage its member accounts' root credentials centrally, so no root session can read or delete them: %s", s.ID, enable)}
	}
	reason := ra.Reason
	if reason == "" {
		reason = "no reason given"
	}
	return &scan.Error{Stage: scan.StageFeatures, Code: ErrorCodeRootCredentialsManagementUnknown, Hint: HintEnableRootCredentialsManagement,
		Err: fmt.Errorf("whether organization %s manages root credentials centrally could not be read (%s): run from the management account or IAM's delegated administrator, and %s", s.ID, reason, enable)}
}

// credentials returns the root session provider for an account and the
// IAM option that signs a call with it.
func (r *run) credentials(accountID string) (aws.CredentialsProvider, []func(*iamOptions)) {
	creds := r.root.Credentials(accountID)
	return creds, []func(*iamOptions){func(o *iamOptions) { o.Credentials = creds }}
}

// finish completes the report's provenance, counts and completeness. The
// run was interrupted when ctx ended with work left undone: an account or
// a deletion not begun, or, in a plan, accounts discovery never listed.
func (r *run) finish(ctx context.Context) *Report {
	c := r.c
	m := r.meta
	finished := r.now().UTC()
	m.FinishedAt = &finished
	m.Counts = c.counts
	m.Interrupted = ctx.Err() != nil && (c.notStarted || m.Mode == ModePlan)
	if c.err != nil && r.failed == nil {
		r.failed = &scan.Error{Stage: scan.StageWrite, Code: scan.ErrorCodeWriteFailed, Err: fmt.Errorf("write an account: %w", c.err)}
	}
	reasons := []string{}
	add := func(cond bool, reason string) {
		if cond {
			reasons = append(reasons, reason)
		}
	}
	add(m.Interrupted, scan.ReasonInterrupted)
	add(r.failed != nil, scan.ReasonScanFailed)
	add(c.counts.ByStatus[StatusError] > 0, scan.ReasonAccountsInError)
	add(c.counts.ByStatus[StatusFailed] > 0, ReasonAccountsFailed)
	add(c.counts.ByStatus[StatusNotStarted] > 0, ReasonAccountsNotStarted)
	add(len(m.OUsNotListed) > 0, scan.ReasonOUsNotListed)
	m.IncompleteReasons = reasons
	m.Complete = len(reasons) == 0
	return &Report{SchemaVersion: SchemaVersion, Kind: ReportKind, Remediation: m, Accounts: c.sorted()}
}

// workers runs n copies of work, each taking accounts until there are
// none, and waits for them. An account's calls are made on its worker, one
// after the other: a goroutine per call (or per account) starts on a small
// stack and copies it as the SDK's deep call chain grows it, and every call
// in flight holds a connection with two goroutines of its own. Orgscan runs
// on one core, and that CPU, not AWS's quotas, set the pace of an apply
// made the other way (bench/README.md, the bound of a remediation). An
// account takes longer one call at a time, so keeping up with STS takes
// more accounts in flight (Config.Concurrency).
func workers(n int, work func()) {
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Go(work)
	}
	wg.Wait()
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
