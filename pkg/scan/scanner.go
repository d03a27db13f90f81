// Package scan discovers the accounts of an organization, gets into each one
// concurrently and reads its IAM account summary, turning every listed
// account into exactly one Row, and a scan into a Report that says whether
// it is complete.
//
// It is the engine under pkg/orgscan, which wires it to AWS the way the
// orgscan command does; use orgscan.Run unless you bring your own clients
// and access methods. Discover lists the accounts alone. Failures of the
// pipeline are *Error values: the Stage that failed, a code and a Hint.
package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// SummaryGetter reads an account's IAM summary; the scanner passes each
// account's credentials per call, so one client serves every account.
type SummaryGetter interface {
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
}

// Method gets credentials into an account (assume-role, assume-root).
type Method interface {
	Name() string
	Credentials(accountID string) aws.CredentialsProvider
}

// DetailsReader reads the root user's credential details in an account
// (Config.Details); method is the access method the credentials came from.
type DetailsReader interface {
	RootCredentials(ctx context.Context, accountID, method string, creds aws.CredentialsProvider) (*RootCredentials, error)
}

// Config wires a scan.
type Config struct {
	Orgs OrganizationsAPI
	IAM  SummaryGetter
	// Methods are tried in order for each member account; the next one is
	// tried only when the previous one fails with an access error.
	Methods []Method
	// CallerAccountID is scanned with the caller's own credentials
	// (CallerCredentials, or the IAM client's when nil).
	CallerAccountID   string
	CallerCredentials aws.CredentialsProvider

	Filter          Filter
	IncludeInactive bool
	Concurrency     int
	AccountTimeout  time.Duration
	// CentralRootManagement is whether the organization manages member
	// accounts' root credentials centrally.
	CentralRootManagement bool
	ManagementAccountID   string
	// Partition is the caller's (aws, aws-cn, aws-us-gov): some findings
	// cannot be fixed in some partitions.
	Partition string

	Details    DetailsReader // nil: no root credential details
	Thresholds Thresholds

	// Tags, when set, lists the tags of each account the scan enters or
	// tries (Row.Tags), beside the account's own scan. Give it the
	// Organizations client of discovery: the tag calls then share the pace
	// its retryer keeps for the caller's Organizations quota.
	Tags TagsLister
	// Contacts, when set, reads the security contact of each account the
	// scan enters or tries (Row.SecurityContact), with the caller's own
	// credentials: from the management account or Account Management's
	// delegated administrator.
	Contacts ContactGetter

	Now func() time.Time
	// OnAccount, when set, is told of each account discovery selects.
	OnAccount func()
	// OnRow, when set, sees each row as soon as it is final (NDJSON streams
	// from here). Calls are serialized. An error from it ends the scan.
	// It may amend the row (the error's wording) before it is kept.
	OnRow func(*Row) error
	// DiscardRows leaves Result.Rows empty: each row lives only until
	// OnRow returns, for callers whose every output streams. The counts
	// still add up every row.
	DiscardRows bool
	// CompactRows keeps the rows in a compact form instead of
	// Result.Rows, for callers that only write the report: its Rows
	// decodes each row when it is reached, and its Accounts is empty.
	CompactRows bool
}

// Result is what a scan gathered. Rows hold every account discovered, even
// when Err is set (unless Config.DiscardRows or Config.CompactRows: then
// only NewReport's Report.Rows has them, or nothing does).
type Result struct {
	Rows []Row
	kept *keptRows
	// Counts tally every row, kept or not.
	Counts Counts
	// Interrupted is set when the context ended before every account was
	// scanned; the accounts not reached are rows with StatusNotScanned.
	Interrupted bool
	// OUsNotListed are the listings that failed: the accounts below them
	// are missing, and the report is incomplete.
	OUsNotListed []OUFailure
	// Err is a failure that stopped the scan part way (a row could not be
	// written); the rows gathered are still valid.
	Err error
}

// Run discovers the organization's accounts and scans them, Concurrency at
// a time, starting as soon as the first page of accounts arrives. It is
// the engine of the whole pipeline (see pkg/orgscan), for a caller that has
// its clients and access methods already. It returns an error without rows
// only when nothing could be listed (the organization's root), or when the
// selection names an OU the organization does not have; an OU whose
// listing fails is recorded in Result.OUsNotListed, and the rest of the
// tree is scanned.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	d, err := newDiscovery(ctx, cfg.Orgs, cfg.Filter)
	if err != nil {
		return nil, err
	}

	c := &collector{onRow: cfg.OnRow, discard: cfg.DiscardRows}
	if cfg.CompactRows && !cfg.DiscardRows {
		c.kept = &keptRows{}
	}
	if len(cfg.Filter.Accounts) > 0 {
		c.seen = map[string]bool{}
	}
	accounts := make(chan Account, 256)
	discoveryErr := make(chan error, 1)
	dctx, stopDiscovery := context.WithCancel(ctx)
	defer stopDiscovery()
	go func() {
		defer close(accounts)
		discoveryErr <- d.list(dctx, sendTo(newAccountFilter(cfg.Filter), accounts, dctx.Done()))
	}()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	s := &scanner{cfg: cfg, tagSlots: newLookupSlots(), contactSlots: newLookupSlots()}
	for a := range accounts {
		if cfg.OnAccount != nil {
			cfg.OnAccount()
		}
		if ctx.Err() != nil || c.failed() {
			c.add(s.notScanned(a))
			continue
		}
		g.Go(func() error {
			row := s.scanAccount(gctx, a)
			c.add(row)
			return nil
		})
	}
	// The group's goroutines never fail: an account's failure is its row.
	_ = g.Wait()

	res := &Result{Interrupted: ctx.Err() != nil, OUsNotListed: d.fails.sorted()}
	if err := <-discoveryErr; err != nil && ctx.Err() == nil {
		res.Err = StageError(StageDiscover, err, "")
	}
	if c.err != nil {
		res.Err = &Error{Stage: StageWrite, Code: ErrorCodeWriteFailed, Err: fmt.Errorf("write a row: %w", c.err)}
	}
	for _, id := range c.missing(cfg.Filter.Accounts) {
		if res.Err != nil || res.Interrupted {
			break // not found could just mean not reached
		}
		if len(res.OUsNotListed) > 0 {
			// It may be below an OU that could not be listed: say so
			// rather than that it does not exist.
			c.add(Row{AccountID: id, Status: StatusError, ErrorCode: CodeNotListed,
				Error: fmt.Sprintf("account was requested but not listed; %d listings of OUs failed (see the scan's ous_not_listed), and one may hold it", len(res.OUsNotListed))})
			continue
		}
		c.add(Row{AccountID: id, Status: StatusError, ErrorCode: CodeNotFound,
			Error: "account was requested but is not in the organization (or is outside the OU selection)"})
	}
	res.Rows, res.kept, res.Counts = c.rows, c.kept, c.counts
	sort.Slice(res.Rows, func(i, j int) bool { return res.Rows[i].AccountID < res.Rows[j].AccountID })
	return res, nil
}

// newAccountFilter returns a test that drops accounts the filter excludes
// and duplicates (an account listed twice, by a retried page).
func newAccountFilter(f Filter) func(Account) bool {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(a Account) bool {
		if len(f.Accounts) > 0 && !slices.Contains(f.Accounts, a.ID) || slices.Contains(f.ExcludeAccounts, a.ID) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[a.ID] {
			return false
		}
		seen[a.ID] = true
		return true
	}
}

// sendTo returns the emit function that feeds the scan: it keeps what
// filter keeps, and stops when done closes.
func sendTo(filter func(Account) bool, out chan<- Account, done <-chan struct{}) func(Account) error {
	return func(a Account) error {
		if !filter(a) {
			return nil
		}
		select {
		case out <- a:
			return nil
		case <-done:
			return context.Canceled
		}
	}
}

// collector gathers rows from concurrent scans, tallies them, and keeps
// them (compactly when kept is set) unless every output has had them
// already (discard).
type collector struct {
	mu      sync.Mutex
	rows    []Row
	kept    *keptRows
	counts  Counts
	seen    map[string]bool // account ids, when some were requested by id
	discard bool
	onRow   func(*Row) error
	err     error
}

func (c *collector) add(r Row) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.add(&r)
	if c.seen != nil {
		c.seen[r.AccountID] = true
	}
	// OnRow may amend the row: it sees it before it is kept.
	if c.onRow != nil && c.err == nil {
		c.err = c.onRow(&r)
	}
	switch {
	case c.discard:
	case c.kept != nil:
		c.kept.add(&r)
	default:
		c.rows = append(c.rows, r)
	}
}

func (c *collector) failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

// missing returns the requested accounts that no row holds.
func (c *collector) missing(requested []string) []string {
	var missing []string
	for _, id := range requested {
		if !c.seen[id] {
			missing = append(missing, id)
			c.seen[id] = true
		}
	}
	return missing
}

type scanner struct {
	cfg Config
	// tagSlots and contactSlots are the turns of the lookups in flight.
	tagSlots, contactSlots lookupSlots
}

func baseRow(a Account) Row {
	return Row{
		AccountID:    a.ID,
		AccountName:  a.Name,
		Email:        a.Email,
		OUPath:       a.OUPath,
		State:        a.State,
		JoinedMethod: a.JoinedMethod,
		JoinedAt:     a.JoinedAt,
	}
}

func (s *scanner) notScanned(a Account) Row {
	r := baseRow(a)
	r.Status = StatusNotScanned
	r.Error = "the scan was interrupted before this account was scanned"
	return r
}

// scanAccount turns one account into its row; it never fails.
func (s *scanner) scanAccount(ctx context.Context, a Account) Row {
	row := baseRow(a)
	if a.State != "ACTIVE" && !s.cfg.IncludeInactive {
		row.Status = StatusSkipped
		row.Error = fmt.Sprintf("account state is %s; inactive accounts are not entered", a.State)
		row.Hint = HintIncludeInactive
		return row
	}
	actx := ctx
	if s.cfg.AccountTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, s.cfg.AccountTimeout)
		defer cancel()
	}
	// The lookups overlap the account's own scan rather than follow it.
	owners := s.lookUpOwners(ctx, a.ID)
	s.enter(ctx, actx, &row)
	owners.fill(&row)
	return row
}

// enter gets into the account and reads it into the row, trying each
// access method in turn; the row ends ok, error or not_scanned.
func (s *scanner) enter(ctx, actx context.Context, row *Row) {
	attempts := s.attempts(row.AccountID)
	var failures []error
	for i, at := range attempts {
		err := s.read(actx, row, at)
		if err == nil {
			row.Status = StatusOK
			now := s.cfg.Now().UTC()
			row.ScannedAt = &now
			row.AccessMethod = at.name
			row.Findings = findings(row, s.findingContext(row.AccountID))
			return
		}
		failures = append(failures, fmt.Errorf("%s: %w", at.name, err))
		if i == len(attempts)-1 || !isAccessError(err) || actx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		// Interrupted, not failed: the account was not scanned.
		row.Status = StatusNotScanned
		row.Error = "the scan was interrupted while this account was being scanned"
		return
	}
	row.Status = StatusError
	row.Summary = Summary{}
	row.RootAccessKeys, row.RootSigningCertificates, row.RootPassword, row.RootMFA = nil, nil, nil, nil
	row.RootCredentials = nil
	row.ErrorCode = classify(failures[len(failures)-1], actx)
	row.Error = joinFailures(failures, len(attempts) > 1) + hintText(row.ErrorCode)
	row.Hint = hintOf(row.ErrorCode)
}

// attempt is one way into an account.
type attempt struct {
	name  string
	creds aws.CredentialsProvider // nil: the IAM client's own credentials
}

func (s *scanner) attempts(accountID string) []attempt {
	if accountID == s.cfg.CallerAccountID {
		return []attempt{{name: AccessCaller, creds: s.cfg.CallerCredentials}}
	}
	out := make([]attempt, 0, len(s.cfg.Methods))
	for _, m := range s.cfg.Methods {
		out = append(out, attempt{name: m.Name(), creds: m.Credentials(accountID)})
	}
	return out
}

// read gets into the account and fills the row's summary (and details).
func (s *scanner) read(ctx context.Context, row *Row, at attempt) error {
	if at.creds != nil {
		// Retrieving first keeps "could not get in" apart from "got in,
		// but could not read".
		if _, err := at.creds.Retrieve(ctx); err != nil {
			return &stageErr{stage: StageAssume, method: at.name, err: err}
		}
	}
	out, err := s.getSummary(ctx, at.creds)
	if err != nil {
		return &stageErr{stage: StageRead, method: at.name, err: fmt.Errorf("read the account summary: %w", err)}
	}
	fillSummary(row, out.SummaryMap)
	if s.cfg.Details != nil {
		details, err := s.cfg.Details.RootCredentials(ctx, row.AccountID, at.name, at.creds)
		if err != nil {
			// The summary is the evidence; details are an extra. A failed
			// extra is said in the row, never paid for with the summary.
			row.DetailsError = &DetailsError{Code: classify(err, ctx), Message: "read root credential details: " + describe(err)}
			return nil
		}
		// The credential report cannot tell whether the root user has a
		// password (AWS writes not_supported); the summary can.
		if details.Password.Present == nil {
			details.Password.Present = row.RootPassword
		}
		if details.MFA.Enabled == nil {
			details.MFA.Enabled = row.RootMFA
		}
		row.RootCredentials = details
	}
	return nil
}

// getSummary calls GetAccountSummary; an expired session (the cache thought
// it fresh, the service's clock disagrees) is renewed once, not failed.
func (s *scanner) getSummary(ctx context.Context, creds aws.CredentialsProvider) (*iam.GetAccountSummaryOutput, error) {
	opts := []func(*iam.Options){withSummaryProtocol}
	if creds != nil {
		opts = append(opts, func(o *iam.Options) { o.Credentials = creds })
	}
	out, err := s.cfg.IAM.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}, opts...)
	if err != nil && errorCode(err) == "ExpiredToken" {
		if inv, ok := creds.(interface{ Invalidate() }); ok {
			inv.Invalidate()
			out, err = s.cfg.IAM.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}, opts...)
		}
	}
	return out, err
}

func fillSummary(row *Row, m map[string]int32) {
	row.Summary = NewSummary(m)
	flag := func(key string) *bool {
		v, ok := m[key]
		if !ok {
			return nil
		}
		b := v > 0
		return &b
	}
	row.RootAccessKeys = flag("AccountAccessKeysPresent")
	row.RootSigningCertificates = flag("AccountSigningCertificatesPresent")
	row.RootPassword = flag("AccountPasswordPresent")
	row.RootMFA = flag("AccountMFAEnabled")
}

func (s *scanner) findingContext(accountID string) findingContext {
	return findingContext{
		partition:        s.cfg.Partition,
		member:           accountID != s.cfg.ManagementAccountID,
		centrallyManaged: s.cfg.CentralRootManagement,
		now:              s.cfg.Now(),
		thresholds:       s.cfg.Thresholds,
	}
}

func joinFailures(failures []error, named bool) string {
	msgs := make([]string, len(failures))
	for i, f := range failures {
		name, _, _ := strings.Cut(f.Error(), ": ")
		msg := describe(errors.Unwrap(f))
		if named {
			// Method names only help when several methods were tried.
			msg = name + ": " + msg
		}
		msgs[i] = msg
	}
	return strings.Join(msgs, "; ")
}
