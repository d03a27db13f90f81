package remediate

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// plan discovers the accounts and plans each as it arrives, Concurrency at
// a time: discovery overlaps planning, as it does in a scan.
func (r *run) plan(ctx context.Context) (*Report, error) {
	accounts := make(chan scan.Account, 256)
	type discovered struct {
		fails []scan.OUFailure
		err   error
	}
	done := make(chan discovered, 1)
	dctx, stopDiscovery := context.WithCancel(ctx)
	defer stopDiscovery()
	go func() {
		defer close(accounts)
		fails, err := scan.Discover(dctx, r.s.Clients.Organizations, r.cfg.Filter, func(a scan.Account) error {
			select {
			case accounts <- a:
				return nil
			case <-dctx.Done():
				return dctx.Err()
			}
		})
		done <- discovered{fails, err}
	}()

	workers(r.cfg.Concurrency, func() {
		for a := range accounts {
			if ctx.Err() != nil || r.c.stopped() {
				r.c.add(notPlanned(a))
				continue
			}
			r.c.add(r.planAccount(ctx, a)) // an account's failure is its row
		}
	})

	d := <-done
	r.meta.OUsNotListed = append(r.meta.OUsNotListed, d.fails...)
	if d.err != nil && ctx.Err() == nil {
		if r.c.counts.Accounts == 0 {
			// The organization's root could not be listed, or the filter
			// names an OU it does not have: nothing was planned.
			return nil, d.err
		}
		// Stopped part way: what was planned is a plan of those accounts.
		r.failed = d.err
		return r.finish(ctx), d.err
	}
	if ctx.Err() == nil && !r.c.stopped() {
		r.addMissing()
	}
	rep := r.finish(ctx)
	if r.failed != nil {
		return rep, r.failed
	}
	if r.cfg.DiscardAccounts {
		// A digest of no accounts would vouch for a plan nobody can apply.
		return rep, nil
	}
	digest, err := rep.Digest()
	if err != nil {
		return rep, err
	}
	rep.Remediation.Plan.Digest = digest
	return rep, nil
}

// addMissing records the accounts requested by id that discovery did not
// list, so that none goes missing without a row.
func (r *run) addMissing() {
	for _, id := range r.cfg.Filter.Accounts {
		if r.c.has(id) {
			continue
		}
		a := Account{AccountID: id, Status: StatusError, Actions: []Action{}}
		if n := len(r.meta.OUsNotListed); n > 0 {
			a.Error = &Error{Code: scan.CodeNotListed, Message: fmt.Sprintf(
				"account was requested but not listed; %d listings of OUs failed (see ous_not_listed), and one may hold it", n)}
		} else {
			a.Error = &Error{Code: scan.CodeNotFound, Message: "account was requested but is not in the organization (or is outside the OU selection)"}
		}
		r.c.add(a)
	}
}

func baseAccount(a scan.Account) Account {
	return Account{AccountID: a.ID, AccountName: a.Name, OUPath: a.OUPath, State: a.State, Actions: []Action{}}
}

func notPlanned(a scan.Account) Account {
	acct := baseAccount(a)
	acct.Status = StatusNotStarted
	acct.Reason = "the run stopped before this account was planned"
	return acct
}

// Why accounts are skipped, in words.
const (
	reasonManagement = "the management account: sts:AssumeRoot cannot open a root session in it; its root credentials are managed by signing in as its root user"
	reasonInactive   = "account state is %s: a root session cannot be opened in an account that is not active"
)

// planAccount lists one account's root credentials in an audit session and
// decides what to delete; it never fails (a failure is the account's row).
func (r *run) planAccount(ctx context.Context, a scan.Account) Account {
	acct := baseAccount(a)
	switch {
	case ctx.Err() != nil:
		return notPlanned(a)
	case a.ID == r.s.ManagementAccountID:
		acct.Status, acct.Reason = StatusSkipped, reasonManagement
		return acct
	case a.State != "ACTIVE":
		acct.Status, acct.Reason = StatusSkipped, fmt.Sprintf(reasonInactive, a.State)
		return acct
	}
	actx, cancel := r.accountContext(ctx)
	defer cancel()
	creds := r.root.Credentials(a.ID)
	rc, err := r.list(actx, a.ID, creds)
	if err != nil {
		if ctx.Err() != nil {
			return notPlanned(a)
		}
		acct.Status, acct.Error = StatusError, accountError(actx, err)
		return acct
	}
	acct.Before = rc
	acct.Actions = decide(rc, r.sel, r.decideOptions())
	acct.Status = planStatus(acct.Actions)
	return acct
}

// list opens the account's root session and reads its root credentials.
func (r *run) list(ctx context.Context, accountID string, creds credentialsProvider) (*scan.RootCredentials, error) {
	// Retrieving first keeps "could not get in" apart from "got in, but
	// could not read".
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, err
	}
	return r.rootCredentials(ctx, accountID, creds)
}

// rootCredentials reads a root user's credentials in its root session:
// the listing a scan with details makes, one call after the other (see
// workers for why not at once).
func (r *run) rootCredentials(ctx context.Context, accountID string, creds credentialsProvider) (*scan.RootCredentials, error) {
	return scan.NewDetailsReader(r.api, r.now).RootCredentials(ctx, accountID, scan.AccessAssumeRoot, creds)
}

func (r *run) accountContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.cfg.AccountTimeout > 0 {
		return context.WithTimeout(ctx, r.cfg.AccountTimeout)
	}
	return context.WithCancel(ctx)
}

func planStatus(actions []Action) string {
	if len(actions) == 0 {
		return StatusNothingToDo
	}
	for _, x := range actions {
		if x.Decision == DecisionDelete {
			return StatusPlanned
		}
	}
	return StatusHeld
}

// decideOptions are the guards a plan applies.
type decideOptions struct {
	now                 time.Time
	recentDays          int
	includeRecentlyUsed bool
}

func (r *run) decideOptions() decideOptions {
	return decideOptions{now: r.now(), recentDays: r.cfg.RecentDays, includeRecentlyUsed: r.cfg.IncludeRecentlyUsed}
}

// decide turns the credentials of the selected kinds into actions: keys,
// certificates, the password, then MFA devices, which are held while a
// credential they protect remains.
func decide(rc *scan.RootCredentials, sel Selection, o decideOptions) []Action {
	actions := []Action{}
	planned := func(kind, id string) Action {
		return Action{Kind: kind, ID: id, Decision: DecisionDelete, Outcome: OutcomePlanned}
	}
	var keptKeys []string
	for _, k := range rc.AccessKeys {
		if !sel.AccessKeys {
			keptKeys = append(keptKeys, k.ID)
			continue
		}
		x := planned(KindAccessKey, k.ID)
		if recent, detail := recentlyUsed(k, o); recent {
			if o.includeRecentlyUsed {
				x.Note = detail + "; deleted all the same, as recently used keys were included"
			} else {
				x.Decision, x.Outcome, x.Hold = DecisionHold, OutcomeHeld, HoldRecentlyUsed
				x.HoldDetail = detail + "; deleting it may break whatever uses it"
				keptKeys = append(keptKeys, k.ID)
			}
		}
		actions = append(actions, x)
	}
	if sel.SigningCertificates {
		for _, c := range rc.SigningCertificates {
			actions = append(actions, planned(KindSigningCertificate, c.ID))
		}
	}
	password := rc.Password.Present != nil && *rc.Password.Present
	if sel.Password && password {
		actions = append(actions, planned(KindPassword, ""))
	}
	if sel.MFA {
		protects := protected(password && !sel.Password, keptKeys)
		for _, d := range rc.MFA.Devices {
			x := planned(KindMFADevice, d.Serial)
			if protects != "" {
				x.Decision, x.Outcome, x.Hold = DecisionHold, OutcomeHeld, HoldProtectsCredentials
				x.HoldDetail = "kept while " + protects + " remains: a root user with a password or an access key and no MFA is worse off than before"
			}
			actions = append(actions, x)
		}
	}
	return actions
}

// protected names the credentials that remain for an MFA device to
// protect, or "" when none does.
func protected(password bool, keys []string) string {
	var names []string
	if password {
		names = append(names, "the password")
	}
	switch len(keys) {
	case 0:
	case 1:
		names = append(names, "access key "+keys[0])
	default:
		names = append(names, "access keys "+strings.Join(keys, ", "))
	}
	return strings.Join(names, " and ")
}

// recentlyUsed tells whether a key was used within the window, and says
// when, where and by which service.
func recentlyUsed(k scan.AccessKeyDetail, o decideOptions) (bool, string) {
	if k.LastUsedAt == nil {
		return false, ""
	}
	age := o.now.Sub(*k.LastUsedAt)
	if age >= time.Duration(o.recentDays)*24*time.Hour {
		return false, ""
	}
	days := int(math.Floor(max(age.Hours(), 0) / 24))
	detail := fmt.Sprintf("last used %s (%d days ago)", k.LastUsedAt.UTC().Format(time.RFC3339), days)
	if k.LastUsedRegion != "" {
		detail += " in " + k.LastUsedRegion
	}
	if k.LastUsedService != "" {
		detail += " by " + k.LastUsedService
	}
	return true, fmt.Sprintf("%s, within %d days", detail, o.recentDays)
}

// accountError keeps AWS's refusal as the evidence keeps it: the scan's
// code, the message and AWS's request id.
func accountError(ctx context.Context, err error) *Error {
	code, msg := scan.ClassifyError(ctx, err)
	return &Error{Code: code, Message: msg, RequestID: requestID(err)}
}
