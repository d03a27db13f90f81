package remediate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/orgscan/orgscan/pkg/scan"
)

// apply carries out the plan's accounts, Concurrency at a time.
func (r *run) apply(ctx context.Context, plan *Report) (*Report, error) {
	planned := make(chan *Account)
	go func() {
		defer close(planned)
		for i := range plan.Accounts {
			pa := &plan.Accounts[i]
			switch {
			case pa.Status != StatusPlanned:
				r.c.add(carried(pa))
			case ctx.Err() != nil || r.c.stopped():
				r.c.add(notApplied(pa))
			default:
				planned <- pa
			}
		}
	}()
	workers(r.cfg.Concurrency, func() {
		for pa := range planned {
			r.c.add(r.applyAccount(ctx, pa)) // an account's failure is its row
		}
	})
	rep := r.finish(ctx)
	return rep, r.failed
}

// fromPlan copies a plan's account for the evidence: its own slices, so
// that the evidence never shares memory with the plan.
func fromPlan(pa *Account) Account {
	a := *pa
	a.Actions = slices.Clone(pa.Actions)
	if a.Actions == nil {
		a.Actions = []Action{}
	}
	a.Remaining = nil
	a.After = nil
	return a
}

// carried is an account the plan deletes nothing in, as the plan left it;
// one the plan could not read or did not reach says the apply did not
// enter it either.
func carried(pa *Account) Account {
	a := fromPlan(pa)
	if (a.Status == StatusError || a.Status == StatusNotStarted) && a.Reason == "" {
		a.Reason = "the plan could not read this account, so the apply did not enter it: make a new plan to remediate it"
	}
	if a.Status == StatusNotStarted {
		a.Reason = "the plan stopped before this account, so the apply did not enter it: make a new plan to remediate it"
	}
	return a
}

// notApplied is a planned account the run stopped before.
func notApplied(pa *Account) Account {
	a := fromPlan(pa)
	a.Status = StatusNotStarted
	a.Reason = "the run stopped before this account was begun"
	markNotStarted(a.Actions)
	return a
}

func markNotStarted(actions []Action) {
	for i := range actions {
		if actions[i].Outcome == OutcomePlanned {
			actions[i].Outcome = OutcomeNotStarted
		}
	}
}

// applyAccount deletes what the plan names in one account and verifies the
// state after; it never fails (a failure is the account's row).
func (r *run) applyAccount(ctx context.Context, pa *Account) Account {
	a := fromPlan(pa)
	actx, cancel := r.accountContext(ctx)
	defer cancel()
	creds, opts := r.credentials(a.AccountID)
	if _, err := creds.Retrieve(actx); err != nil {
		return r.notEntered(ctx, actx, pa, err)
	}
	now, err := listPresent(actx, r.api, r.sel, opts)
	if err != nil {
		return r.notEntered(ctx, actx, pa, err)
	}

	r.holdKeysUsedSincePlan(ctx, actx, &a, now, opts)
	// Keys, certificates and the password, begun together; then MFA devices,
	// only if nothing they protect remains.
	r.deletePhase(ctx, actx, &a, now, opts, func(x *Action) bool { return x.Kind != KindMFADevice })
	r.deletePhase(ctx, actx, &a, now, opts, func(x *Action) bool { return x.Kind == KindMFADevice })
	a.Actions = append(a.Actions, newSincePlan(&a, now, r.sel)...)

	// Verified even when interrupted: the evidence must say what is left.
	vctx, vcancel := context.WithTimeout(context.WithoutCancel(actx), verifyGrace)
	defer vcancel()
	after, err := r.verify(vctx, &a, opts)
	if err != nil {
		a.Status = StatusFailed
		e := accountError(vctx, err)
		e.Message = "verify the credentials after the deletions: " + e.Message
		a.Error = e
		return a
	}
	a.After = after
	a.Remaining = remaining(a.Actions, after)
	a.Status = StatusRemediated
	if len(a.Remaining) > 0 || slices.ContainsFunc(a.Actions, func(x Action) bool { return x.Outcome == OutcomeFailed }) {
		a.Status = StatusFailed
	}
	return a
}

// deletePhase makes the account's planned deletions that in selects: they
// are begun together only while the run goes on, and each begun is then
// finished (see delete). A credential the listing did not find is already
// absent.
func (r *run) deletePhase(ctx, actx context.Context, a *Account, now *present, opts []func(*iam.Options), in func(*Action) bool) {
	var begun []*Action
	for i := range a.Actions {
		x := &a.Actions[i]
		if x.Decision != DecisionDelete || x.Outcome != OutcomePlanned || !in(x) {
			continue
		}
		switch {
		case ctx.Err() != nil:
			// Interrupted: what was begun is done; nothing more is begun.
			x.Outcome = OutcomeNotStarted
			continue
		case actx.Err() != nil:
			x.Outcome = OutcomeFailed
			x.Error = &Error{Code: scan.CodeTimeout, Message: "the account's time limit ran out before this deletion was begun"}
			continue
		case !now.has(x.Kind, x.ID):
			at := r.now().UTC()
			x.Outcome, x.At = OutcomeAlreadyAbsent, &at
			x.Note = "not found when the apply listed the credentials: removed since the plan was made"
			continue
		}
		if x.Kind == KindMFADevice {
			if why := mfaBlocked(a, now); why != "" {
				x.Outcome, x.Hold, x.HoldDetail = OutcomeHeld, HoldProtectsCredentials, why
				continue
			}
		}
		begun = append(begun, x)
	}
	// Begun together, so that an interrupt finds the phase begun or not:
	// each is made, one after the other, whatever happens meanwhile.
	for _, x := range begun {
		r.delete(actx, x, opts)
	}
	for _, x := range begun {
		if x.Outcome == OutcomeDeleted || x.Outcome == OutcomeAlreadyAbsent {
			now.remove(x.Kind, x.ID)
		}
	}
}

// holdKeysUsedSincePlan reads again, before any deletion, the last use of
// each access key the plan deletes and the apply found, and holds a key
// that the plan's own recent-use rule would now hold: a reviewed plan may
// be a day old, and a key used since is one something depends on. A key
// whose last use cannot be read is not deleted either. A plan that
// included recently used keys deleted them knowingly; its keys are not
// read again.
func (r *run) holdKeysUsedSincePlan(ctx, actx context.Context, a *Account, now *present, opts []func(*iam.Options)) {
	o := r.meta.Options
	if o.IncludeRecentlyUsed {
		return
	}
	for i := range a.Actions {
		x := &a.Actions[i]
		if x.Kind != KindAccessKey || x.Decision != DecisionDelete || x.Outcome != OutcomePlanned ||
			!now.has(x.Kind, x.ID) || ctx.Err() != nil || actx.Err() != nil {
			continue
		}
		k := scan.AccessKeyDetail{ID: x.ID}
		err := r.readLastUse(actx, &k, opts)
		if err != nil && actx.Err() != nil {
			continue // interrupted or out of time: deletePhase records which
		}
		if err != nil {
			x.Outcome, x.Error = OutcomeFailed, accountError(actx, err)
			x.Error.Message = "read the key's last use again before deleting it: " + x.Error.Message
			x.Note = "not deleted: whether it was used since the plan was made could not be read"
			continue
		}
		if recent, detail := recentlyUsed(k, decideOptions{now: r.now(), recentDays: o.RecentDays}); recent {
			x.Outcome, x.Hold = OutcomeHeld, HoldRecentlyUsed
			x.HoldDetail = "used since the plan was made: " + detail + "; deleting it may break whatever uses it; make a new plan to review it"
		}
	}
}

// verify lists, once the deletions are done, the credentials of the kinds
// the apply lists (see listPresent), with each remaining key's last use and
// a remaining password's: the evidence of the state after. The kinds it
// does not list stay unread (null, where an empty list is none): every
// credential the plan acts on is of a kind it lists, and an apply that
// reads no more than it needs keeps pace with STS.
func (r *run) verify(ctx context.Context, a *Account, opts []func(*iam.Options)) (*scan.RootCredentials, error) {
	p, err := listPresent(ctx, r.api, r.sel, opts)
	if err != nil {
		return nil, err
	}
	rc := &scan.RootCredentials{Source: scan.SourceRootSession, AsOf: r.now().UTC()}
	if p.keys != nil {
		rc.AccessKeys = make([]scan.AccessKeyDetail, len(p.keys))
		for i, k := range p.keys {
			key := &rc.AccessKeys[i]
			*key = scan.AccessKeyDetail{ID: aws.ToString(k.AccessKeyId), Active: k.Status == iamtypes.StatusTypeActive, CreatedAt: utc(k.CreateDate)}
			if err := r.readLastUse(ctx, key, opts); err != nil {
				return nil, fmt.Errorf("read last use of root access key %s: %w", key.ID, err)
			}
		}
	}
	if p.certs != nil {
		rc.SigningCertificates = make([]scan.CertificateDetail, 0, len(p.certs))
		for _, c := range p.certs {
			rc.SigningCertificates = append(rc.SigningCertificates, scan.CertificateDetail{
				ID: aws.ToString(c.CertificateId), Active: c.Status == iamtypes.StatusTypeActive, UploadedAt: utc(c.UploadDate)})
		}
	}
	if p.password != nil {
		rc.Password.Present = p.password
		if *p.password {
			out, err := r.api.GetUser(ctx, &iam.GetUserInput{}, opts...)
			if err != nil {
				return nil, fmt.Errorf("read the root user: %w", err)
			}
			if out.User != nil {
				rc.Password.LastUsedAt = utc(out.User.PasswordLastUsed)
			}
		}
	}
	if p.mfa != nil {
		enabled := len(p.mfa) > 0
		rc.MFA.Enabled = &enabled
		rc.MFA.Devices = []scan.MFADevice{}
		for _, serial := range p.mfaSerials() {
			// The type is the plan's reading of the same serial.
			d := scan.MFADevice{Serial: serial}
			if a.Before != nil {
				if i := slices.IndexFunc(a.Before.MFA.Devices, func(b scan.MFADevice) bool { return b.Serial == serial }); i >= 0 {
					d.Type = a.Before.MFA.Devices[i].Type
				}
			}
			rc.MFA.Devices = append(rc.MFA.Devices, d)
		}
	}
	return rc, nil
}

// readLastUse reads when, where and by which service key k was last used.
func (r *run) readLastUse(ctx context.Context, k *scan.AccessKeyDetail, opts []func(*iam.Options)) error {
	out, err := r.api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)}, opts...)
	if err != nil {
		return err
	}
	if u := out.AccessKeyLastUsed; u != nil {
		k.LastUsedAt = utc(u.LastUsedDate)
		k.LastUsedService, k.LastUsedRegion = known(aws.ToString(u.ServiceName)), known(aws.ToString(u.Region))
	}
	return nil
}

// known is IAM's value, or "" for its "N/A" (a key never used).
func known(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// notEntered is a planned account whose delete session could not be
// opened or read: nothing was deleted.
func (r *run) notEntered(ctx, actx context.Context, pa *Account, err error) Account {
	if ctx.Err() != nil {
		return notApplied(pa)
	}
	a := fromPlan(pa)
	a.Status, a.Error = StatusError, accountError(actx, err)
	markNotStarted(a.Actions)
	return a
}

// delete makes one deletion. It is finished even when the run is
// interrupted or the account's time runs out meanwhile: a deletion whose
// outcome is not known would leave the evidence wrong.
func (r *run) delete(actx context.Context, x *Action, opts []func(*iam.Options)) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(actx), deletionGrace)
	defer cancel()
	d := deleteCredential(dctx, r.api, x.Kind, x.ID, opts)
	at := r.now().UTC()
	switch {
	case d.err == nil:
		x.Outcome, x.At, x.RequestID = OutcomeDeleted, &at, d.requestID
	case isNoSuchEntity(d.err) && d.attempts.n > 1:
		// An earlier attempt reached IAM but its answer was lost: the
		// retry finds the credential gone because that attempt deleted it.
		x.Outcome, x.At, x.RequestID = OutcomeAlreadyAbsent, &at, d.requestID
		_, first := scan.ClassifyError(dctx, d.attempts.first)
		x.Note = fmt.Sprintf("the deletion was retried after attempt 1 of %d got no usable answer (%s); IAM then answered NoSuchEntity, so an earlier attempt most likely deleted it", d.attempts.n, first)
	case isNoSuchEntity(d.err):
		x.Outcome, x.At, x.RequestID = OutcomeAlreadyAbsent, &at, d.requestID
		x.Note = "listed at the start of the apply, gone when deleted: removed meanwhile by someone else"
	default:
		x.Outcome, x.Error = OutcomeFailed, accountError(dctx, d.err)
	}
}

// mfaBlocked says why the account's MFA devices must stay, or "": every
// planned deletion of the password and the keys must have succeeded, and
// neither a password nor an access key may remain.
func mfaBlocked(a *Account, now *present) string {
	for _, x := range a.Actions {
		// A key held at apply remains, and says so below.
		if (x.Kind == KindAccessKey || x.Kind == KindPassword) && x.Decision == DecisionDelete &&
			x.Outcome != OutcomeDeleted && x.Outcome != OutcomeAlreadyAbsent && x.Outcome != OutcomeHeld {
			return fmt.Sprintf("not deleted: the planned deletion of %s did not succeed, and a root user with a password or an access key and no MFA is worse off than before", credentialName(x.Kind, x.ID))
		}
	}
	if what := protected(now.hasPassword(), now.keyIDs()); what != "" {
		return "not deleted: " + what + " remains, and a root user with a password or an access key and no MFA is worse off than before"
	}
	return ""
}

// newSincePlan reports the credentials of the plan's kinds that the apply
// found and the plan does not name: they are never deleted.
func newSincePlan(a *Account, now *present, sel Selection) []Action {
	named := func(kind, id string) bool {
		return slices.ContainsFunc(a.Actions, func(x Action) bool { return x.Kind == kind && x.ID == id })
	}
	var found []Action
	add := func(kind string, ids []string) {
		for _, id := range ids {
			if !named(kind, id) {
				found = append(found, Action{Kind: kind, ID: id, Decision: DecisionHold, Hold: HoldNotInPlan,
					HoldDetail: "found by the apply and not named by the plan: never deleted; make a new plan to delete it",
					Outcome:    OutcomeNewSincePlan})
			}
		}
	}
	if sel.AccessKeys {
		add(KindAccessKey, now.keyIDs())
	}
	if sel.SigningCertificates {
		add(KindSigningCertificate, now.certIDs())
	}
	if sel.Password && now.hasPassword() {
		add(KindPassword, []string{""})
	}
	if sel.MFA {
		add(KindMFADevice, now.mfaSerials())
	}
	return found
}

// remaining lists the credentials the plan deletes that the verifying
// listing still finds.
func remaining(actions []Action, after *scan.RootCredentials) []string {
	var left []string
	for _, x := range actions {
		if x.Decision != DecisionDelete || x.Outcome == OutcomeNewSincePlan {
			continue
		}
		if stillThere(after, x.Kind, x.ID) {
			left = append(left, credentialName(x.Kind, x.ID))
		}
	}
	return left
}

func stillThere(rc *scan.RootCredentials, kind, id string) bool {
	switch kind {
	case KindAccessKey:
		return slices.ContainsFunc(rc.AccessKeys, func(k scan.AccessKeyDetail) bool { return k.ID == id })
	case KindSigningCertificate:
		return slices.ContainsFunc(rc.SigningCertificates, func(c scan.CertificateDetail) bool { return c.ID == id })
	case KindPassword:
		return rc.Password.Present != nil && *rc.Password.Present
	case KindMFADevice:
		return slices.ContainsFunc(rc.MFA.Devices, func(d scan.MFADevice) bool { return d.Serial == id })
	}
	return false
}

// credentialName names a credential in words: its kind, and its id when
// it has one.
func credentialName(kind, id string) string {
	if id == "" {
		return kind
	}
	return kind + " " + id
}
