package remediate_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/awssim/faults"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// checkEvidence compares the evidence with the simulator's world: every
// credential the apply says it deleted (or found gone) is gone, every
// other one it names is still there, and every credential the simulator
// lost since fx is one the evidence accounts for.
func checkEvidence(t *testing.T, w *world, fx *awssim.Fixture, rep *remediate.Report) {
	t.Helper()
	gone := map[string]bool{}
	for _, a := range rep.Accounts {
		for _, x := range a.Actions {
			has := w.rootHas(a.AccountID, x.Kind, x.ID)
			switch x.Outcome {
			case remediate.OutcomeDeleted, remediate.OutcomeAlreadyAbsent:
				if has {
					t.Errorf("account %s: %s %s is %s, yet the simulator still has it", a.AccountID, x.Kind, x.ID, x.Outcome)
				}
				gone[a.AccountID+"/"+x.Kind+"/"+x.ID] = true
			default:
				if !has {
					t.Errorf("account %s: %s %s is %s, yet the simulator no longer has it", a.AccountID, x.Kind, x.ID, x.Outcome)
				}
			}
		}
	}
	for _, fa := range fx.Accounts {
		for _, k := range fa.Root.AccessKeys {
			if !w.rootHas(fa.ID, remediate.KindAccessKey, k.ID) && !gone[fa.ID+"/access-key/"+k.ID] {
				t.Errorf("account %s: the simulator lost key %s and the evidence does not say so", fa.ID, k.ID)
			}
		}
		for _, c := range fa.Root.SigningCertificates {
			if !w.rootHas(fa.ID, remediate.KindSigningCertificate, c.ID) && !gone[fa.ID+"/signing-certificate/"+c.ID] {
				t.Errorf("account %s: the simulator lost certificate %s and the evidence does not say so", fa.ID, c.ID)
			}
		}
		if fa.Root.Password != nil && !w.rootHas(fa.ID, remediate.KindPassword, "") && !gone[fa.ID+"/password/"] {
			t.Errorf("account %s: the simulator lost the password and the evidence does not say so", fa.ID)
		}
	}
}

func TestApplyDeletesWhatThePlanNamesAndVerifies(t *testing.T) {
	fx := testWorld(time.Now().UTC())
	w := startWorld(t, fx, awssim.Options{})
	p := plan(t, w.config())
	mutations, roots := w.mutations(), w.assumeRoots()
	rep := apply(t, remediate.ApplyConfig{Config: w.config(), Plan: p})

	if got := w.mutations() - mutations; got != 5 {
		t.Errorf("the apply made %d mutating calls, want the 5 deletions", got)
	}
	if got := w.assumeRoots() - roots; got != 3 {
		t.Errorf("the apply opened %d root sessions, want one per account with deletions (3)", got)
	}
	checkEvidence(t, w, fx, rep)
	want := map[string][]string{
		acctOldKey:   {"access-key/" + keyOld + "=deleted", "signing-certificate/" + certOld + "=deleted"},
		acctRecent:   {"access-key/" + keyRecent + "=held:recently_used", "access-key/" + keyUnused + "=deleted"},
		acctTwoCerts: {"signing-certificate/" + certA + "=deleted", "signing-certificate/" + certB + "=deleted"},
		acctClean:    {},
	}
	for id, outs := range want {
		a := account(t, rep, id)
		if got := outcomes(a); !slices.Equal(got, outs) {
			t.Errorf("account %s: %v, want %v", id, got, outs)
		}
		for _, x := range a.Actions {
			if x.Outcome == remediate.OutcomeDeleted && (x.At == nil || x.RequestID == "") {
				t.Errorf("account %s: deletion of %s has no time or request id", id, x.ID)
			}
		}
	}
	for _, id := range []string{acctOldKey, acctRecent, acctTwoCerts} {
		a := account(t, rep, id)
		if a.Status != remediate.StatusRemediated || a.After == nil || len(a.Remaining) != 0 || a.Before == nil {
			t.Errorf("account %s: %s, after %v, remaining %v", id, a.Status, a.After != nil, a.Remaining)
		}
	}
	if after := account(t, rep, acctRecent).After; len(after.AccessKeys) != 1 || after.AccessKeys[0].ID != keyRecent ||
		after.AccessKeys[0].LastUsedAt == nil || after.AccessKeys[0].LastUsedService != "ec2" {
		t.Errorf("after the apply the held key's account lists %+v", after.AccessKeys)
	}
	if after := account(t, rep, acctOldKey).After; after.AccessKeys == nil || len(after.AccessKeys) != 0 || after.SigningCertificates == nil ||
		len(after.SigningCertificates) != 0 || after.Password.Present != nil || after.MFA.Enabled != nil {
		t.Errorf("after deleting keys and certificates: %+v; want none of those, and the password and MFA unread", after)
	}
	if got := account(t, rep, acctClean).Status; got != remediate.StatusNothingToDo {
		t.Errorf("an account with nothing to do is %s", got)
	}
	if got := account(t, rep, mgmt).Status; got != remediate.StatusSkipped {
		t.Errorf("the management account is %s", got)
	}
	if !w.rootHas(acctOldKey, remediate.KindPassword, "") || !w.rootHas(acctSuspend, remediate.KindAccessKey, keySuspend) ||
		!w.rootHas(mgmt, remediate.KindAccessKey, "AKIAMANAGEMENTROOT01") {
		t.Error("the apply deleted a credential outside its selection")
	}
	m := rep.Remediation
	if m.Mode != remediate.ModeApply || m.Plan != p.Remediation.Plan || !m.Complete || m.Interrupted {
		t.Errorf("meta: mode %s, plan %+v (want %+v), complete %v %v", m.Mode, m.Plan, p.Remediation.Plan, m.Complete, m.IncompleteReasons)
	}
	if m.Counts.ByKind[remediate.KindAccessKey] != 2 || m.Counts.ByKind[remediate.KindSigningCertificate] != 3 || m.Counts.ByOutcome[remediate.OutcomeDeleted] != 5 {
		t.Errorf("counts %+v", m.Counts)
	}

	t.Run("the same plan applied again finds every credential already absent and deletes nothing", func(t *testing.T) {
		before := w.mutations()
		again := apply(t, remediate.ApplyConfig{Config: w.config(), Plan: p})
		if n := w.mutations() - before; n != 0 {
			t.Errorf("%d mutating calls", n)
		}
		if got := outcomes(account(t, again, acctOldKey)); !slices.Equal(got, []string{
			"access-key/" + keyOld + "=already_absent", "signing-certificate/" + certOld + "=already_absent"}) {
			t.Errorf("outcomes %v", got)
		}
		if got := account(t, again, acctOldKey).Status; got != remediate.StatusRemediated {
			t.Errorf("status %s", got)
		}
	})
}

func TestApplyMeetsAWorldThatChangedSincePlanning(t *testing.T) {
	fx := testWorld(time.Now().UTC())
	// The password of one account cannot be deleted: its MFA device must stay.
	w := startWorld(t, fx, awssim.Options{FaultRules: []faults.Rule{
		{Service: "iam", Op: "DeleteLoginProfile", Account: acctPassword, Kind: faults.Error, Status: 409,
			Code: "EntityTemporarilyUnmodifiable", Message: "Login Profile for User 555555555555 cannot be modified while the login profile is being created."},
	}})
	cfg := w.config()
	cfg.Selection = remediate.Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}
	cfg.Filter = scan.Filter{Accounts: []string{acctOldKey, acctPassword}}
	p := plan(t, cfg)

	const newKey = "AKIANEWSINCEPLAN0001"
	w.srv.ChangeRootUser(acctOldKey, func(root *awssim.RootUser) {
		root.AccessKeys = append(root.AccessKeys, awssim.AccessKey{ID: newKey, Status: "Active", CreatedAt: time.Now().UTC()})
		root.SigningCertificates = nil
	})
	rep := apply(t, remediate.ApplyConfig{Config: cfg, Plan: p})
	checkEvidence(t, w, fx, rep)

	old := account(t, rep, acctOldKey)
	if got, want := outcomes(old), []string{
		"access-key/" + keyOld + "=deleted",
		"signing-certificate/" + certOld + "=already_absent",
		"password=deleted",
		"mfa-device/" + virtualMFA(acctOldKey) + "=held:protects_credentials",
		"access-key/" + newKey + "=new_since_plan:not_in_plan",
	}; !slices.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if !w.rootHas(acctOldKey, remediate.KindAccessKey, newKey) {
		t.Error("the key created after planning was deleted")
	}
	if x := action(t, old, remediate.KindMFADevice, virtualMFA(acctOldKey)); !strings.Contains(x.HoldDetail, newKey) {
		t.Errorf("the MFA device's hold does not name the key it protects: %q", x.HoldDetail)
	}
	if old.Status != remediate.StatusFailed || !slices.Equal(old.Remaining, []string{"mfa-device " + virtualMFA(acctOldKey)}) {
		t.Errorf("status %s, remaining %v", old.Status, old.Remaining)
	}

	pw := account(t, rep, acctPassword)
	if got, want := outcomes(pw), []string{"password=failed", "mfa-device/" + virtualMFA(acctPassword) + "=held:protects_credentials"}; !slices.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if x := action(t, pw, remediate.KindPassword, ""); x.Error == nil || x.Error.Code != "EntityTemporarilyUnmodifiable" || x.Error.RequestID == "" {
		t.Errorf("the failed deletion's error %+v", x.Error)
	}
	if pw.Status != remediate.StatusFailed || len(pw.Remaining) != 2 || !w.rootHas(acctPassword, remediate.KindMFADevice, virtualMFA(acctPassword)) {
		t.Errorf("status %s remaining %v", pw.Status, pw.Remaining)
	}
	if rep.Remediation.Complete || !slices.Contains(rep.Remediation.IncompleteReasons, remediate.ReasonAccountsFailed) {
		t.Errorf("complete %v %v", rep.Remediation.Complete, rep.Remediation.IncompleteReasons)
	}
}

// TestApplyHoldsAKeyUsedSincePlanning: a reviewed plan deletes an old
// key; the key is used before the plan is applied. The apply reads its
// last use again and holds it, and its MFA device with it; a key whose
// last use cannot be read is not deleted; a plan that included recently
// used keys deletes without reading again.
func TestApplyHoldsAKeyUsedSincePlanning(t *testing.T) {
	use := func(w *world) time.Time {
		at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		w.srv.ChangeRootUser(acctOldKey, func(root *awssim.RootUser) {
			root.AccessKeys[0].LastUsedAt, root.AccessKeys[0].LastUsedService, root.AccessKeys[0].LastUsedRegion = &at, "lambda", "eu-central-1"
		})
		return at
	}
	lastUseReads := func(w *world) int64 { return w.srv.Stats().Operations["iam:GetAccessKeyLastUsed"].Requests }
	selected := func(w *world) remediate.Config {
		cfg := w.config()
		cfg.Selection = remediate.Selection{AccessKeys: true, Password: true, MFA: true}
		cfg.Filter = scan.Filter{Accounts: []string{acctOldKey}}
		return cfg
	}

	t.Run("used since the plan: held", func(t *testing.T) {
		fx := testWorld(time.Now().UTC())
		w := startWorld(t, fx, awssim.Options{})
		p := plan(t, selected(w))
		if x := action(t, account(t, p, acctOldKey), remediate.KindAccessKey, keyOld); x.Outcome != remediate.OutcomePlanned {
			t.Fatalf("the plan does not delete the old key: %s", x.Outcome)
		}
		at := use(w)
		rep := apply(t, remediate.ApplyConfig{Config: selected(w), Plan: p})
		checkEvidence(t, w, fx, rep)
		a := account(t, rep, acctOldKey)
		if got, want := outcomes(a), []string{
			"access-key/" + keyOld + "=held:recently_used",
			"password=deleted",
			"mfa-device/" + virtualMFA(acctOldKey) + "=held:protects_credentials",
		}; !slices.Equal(got, want) {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
		x := action(t, a, remediate.KindAccessKey, keyOld)
		for _, want := range []string{"used since the plan was made", at.Format(time.RFC3339), "eu-central-1", "lambda", "make a new plan"} {
			if !strings.Contains(x.HoldDetail, want) {
				t.Errorf("the hold %q does not say %q", x.HoldDetail, want)
			}
		}
		if x.Decision != remediate.DecisionDelete || x.At != nil || x.RequestID != "" {
			t.Errorf("the held key's action: %+v", x)
		}
		if m := action(t, a, remediate.KindMFADevice, virtualMFA(acctOldKey)); !strings.Contains(m.HoldDetail, "access key "+keyOld+" remains") {
			t.Errorf("the MFA device's hold does not name the key that remains: %q", m.HoldDetail)
		}
		if a.Status != remediate.StatusFailed || w.mutations() != 1 {
			t.Errorf("status %s after %d IAM mutations; want failed (a reviewed deletion did not happen) and one, the password's", a.Status, w.mutations())
		}
	})

	t.Run("last use unreadable: not deleted", func(t *testing.T) {
		fx := testWorld(time.Now().UTC())
		planned := startWorld(t, fx, awssim.Options{})
		p := plan(t, selected(planned))
		// The same organization, where the apply's session may not read a
		// key's last use.
		w := startWorld(t, fx, awssim.Options{FaultRules: []faults.Rule{{Service: "iam", Op: "GetAccessKeyLastUsed", Account: acctOldKey,
			Kind: faults.Error, Status: 403, Code: "AccessDenied", Message: "User is not authorized to perform: iam:GetAccessKeyLastUsed"}}})
		rep := apply(t, remediate.ApplyConfig{Config: selected(w), Plan: p})
		a := account(t, rep, acctOldKey)
		x := action(t, a, remediate.KindAccessKey, keyOld)
		if x.Outcome != remediate.OutcomeFailed || x.Error == nil || x.Error.Code != "AccessDenied" || !strings.Contains(x.Note, "could not be read") {
			t.Errorf("the key whose last use cannot be read: %s %+v %q", x.Outcome, x.Error, x.Note)
		}
		if !w.rootHas(acctOldKey, remediate.KindAccessKey, keyOld) || !w.rootHas(acctOldKey, remediate.KindMFADevice, virtualMFA(acctOldKey)) {
			t.Error("the key or the MFA device protecting it was deleted")
		}
	})

	t.Run("interrupted while reading: nothing begun", func(t *testing.T) {
		fx := testWorld(time.Now().UTC())
		w := startWorld(t, fx, awssim.Options{})
		cfg := selected(w)
		p := plan(t, cfg)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w.cfg.HTTPClient = &cancelOnDelete{next: w.cfg.HTTPClient, op: "GetAccessKeyLastUsed", cancel: cancel}
		w.connect(t)
		cfg.Session = w.s
		rep, err := remediate.Apply(ctx, remediate.ApplyConfig{Config: cfg, Plan: p})
		if err != nil {
			t.Fatal(err)
		}
		checkEvidence(t, w, fx, rep)
		if got, want := outcomes(account(t, rep, acctOldKey)), []string{
			"access-key/" + keyOld + "=not_started",
			"password=not_started",
			"mfa-device/" + virtualMFA(acctOldKey) + "=not_started",
		}; !slices.Equal(got, want) || w.mutations() != 0 {
			t.Errorf("outcomes %v after %d IAM mutations, want %v and none", got, w.mutations(), want)
		}
	})

	t.Run("recently used keys included: not read again", func(t *testing.T) {
		fx := testWorld(time.Now().UTC())
		w := startWorld(t, fx, awssim.Options{})
		cfg := selected(w)
		cfg.IncludeRecentlyUsed = true
		p := plan(t, cfg)
		use(w)
		reads := lastUseReads(w)
		rep := apply(t, remediate.ApplyConfig{Config: selected(w), Plan: p})
		checkEvidence(t, w, fx, rep)
		if x := action(t, account(t, rep, acctOldKey), remediate.KindAccessKey, keyOld); x.Outcome != remediate.OutcomeDeleted {
			t.Errorf("the key is %s, want deleted", x.Outcome)
		}
		if n := lastUseReads(w) - reads; n != 0 {
			t.Errorf("the apply read a key's last use %d times; the plan included recently used keys, so none", n)
		}
	})
}

func TestRecentlyUsedKeyIsHeldThenDeletedWhenIncluded(t *testing.T) {
	w := startWorld(t, testWorld(time.Now().UTC()), awssim.Options{})
	cfg := w.config()
	cfg.Filter = scan.Filter{Accounts: []string{acctRecent}}
	rep := apply(t, remediate.ApplyConfig{Config: cfg})
	if x := action(t, account(t, rep, acctRecent), remediate.KindAccessKey, keyRecent); x.Outcome != remediate.OutcomeHeld || !w.rootHas(acctRecent, remediate.KindAccessKey, keyRecent) {
		t.Fatalf("the recently used key is %s", x.Outcome)
	}
	cfg.IncludeRecentlyUsed = true
	rep = apply(t, remediate.ApplyConfig{Config: cfg})
	x := action(t, account(t, rep, acctRecent), remediate.KindAccessKey, keyRecent)
	if x.Outcome != remediate.OutcomeDeleted || w.rootHas(acctRecent, remediate.KindAccessKey, keyRecent) || !strings.Contains(x.Note, "recently used keys were included") {
		t.Fatalf("with recently used keys included the key is %s (%q)", x.Outcome, x.Note)
	}
}

func TestDeletionsSurviveServerErrorsAndLostAnswers(t *testing.T) {
	fx := testWorld(time.Now().UTC())
	w := startWorld(t, fx, awssim.Options{FaultRules: []faults.Rule{
		// Two 5xx answers, then the deletion goes through.
		{Service: "iam", Op: "DeleteAccessKey", Account: acctOldKey, Kind: faults.Error, Times: 2},
		// The deletion takes effect and its answer is lost: the retry
		// meets NoSuchEntity.
		{Service: "iam", Op: "DeleteSigningCertificate", Account: acctOldKey, Kind: faults.LoseAnswer, Times: 1},
		// A connection dropped before IAM saw the request.
		{Service: "iam", Op: "DeleteSigningCertificate", Account: acctTwoCerts, Kind: faults.Drop, Times: 1},
		// A deletion IAM keeps failing.
		{Service: "iam", Op: "DeleteAccessKey", Account: acctRecent, Kind: faults.Error},
	}})
	p := plan(t, w.config())
	rep := apply(t, remediate.ApplyConfig{Config: w.config(), Plan: p})
	checkEvidence(t, w, fx, rep)

	old := account(t, rep, acctOldKey)
	if got, want := outcomes(old), []string{"access-key/" + keyOld + "=deleted", "signing-certificate/" + certOld + "=already_absent"}; !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	lost := action(t, old, remediate.KindSigningCertificate, certOld)
	for _, want := range []string{"retried", "NoSuchEntity", "earlier attempt most likely deleted it"} {
		if !strings.Contains(lost.Note, want) {
			t.Errorf("the note %q lacks %q", lost.Note, want)
		}
	}
	if lost.At == nil || lost.RequestID == "" {
		t.Errorf("the lost answer's evidence has no time or request id: %+v", lost)
	}
	if old.Status != remediate.StatusRemediated {
		t.Errorf("status %s", old.Status)
	}
	if got, want := outcomes(account(t, rep, acctTwoCerts)), []string{"signing-certificate/" + certA + "=deleted", "signing-certificate/" + certB + "=deleted"}; !slices.Equal(got, want) {
		t.Errorf("after a dropped connection: %v", got)
	}
	recent := account(t, rep, acctRecent)
	x := action(t, recent, remediate.KindAccessKey, keyUnused)
	if x.Outcome != remediate.OutcomeFailed || x.Error == nil || x.Error.Code != "ServiceFailure" || x.Error.RequestID == "" {
		t.Errorf("a deletion IAM keeps failing: %s %+v", x.Outcome, x.Error)
	}
	if recent.Status != remediate.StatusFailed || !slices.Equal(recent.Remaining, []string{"access-key " + keyUnused}) {
		t.Errorf("status %s remaining %v", recent.Status, recent.Remaining)
	}
	ops := w.srv.Stats().Operations
	if n := ops["iam:DeleteSigningCertificate"].Mutations; n != 5 {
		t.Errorf("%d DeleteSigningCertificate attempts, want 5 (three certificates, two of them retried once)", n)
	}
}

// cancelOnDelete is the caller's HTTP client, which cancels the apply as
// the first request of an operation leaves, the way Ctrl-C lands in the
// middle of a deletion.
type cancelOnDelete struct {
	next   aws.HTTPClient
	op     string
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOnDelete) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), "Action="+c.op+"&") {
			c.once.Do(c.cancel)
		}
	}
	return c.next.Do(req)
}

func TestInterruptedApplyRecordsExactlyWhatWasDeleted(t *testing.T) {
	for _, concurrency := range []int{1, 3} {
		t.Run(fmt.Sprintf("with %d accounts at a time", concurrency), func(t *testing.T) {
			fx := testWorld(time.Now().UTC())
			w := startWorld(t, fx, awssim.Options{})
			cfg := w.config()
			cfg.Selection = remediate.Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}
			p := plan(t, cfg)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			w.cfg.HTTPClient = &cancelOnDelete{next: w.cfg.HTTPClient, op: "DeleteAccessKey", cancel: cancel}
			w.connect(t)
			before := w.mutations()
			cfg.Session = w.s
			cfg.Concurrency = concurrency
			rep, err := remediate.Apply(ctx, remediate.ApplyConfig{Config: cfg, Plan: p})
			if err != nil {
				t.Fatal(err)
			}
			checkEvidence(t, w, fx, rep)
			m := rep.Remediation
			if !m.Interrupted || m.Complete || !slices.Contains(m.IncompleteReasons, scan.ReasonInterrupted) {
				t.Errorf("interrupted %v complete %v %v", m.Interrupted, m.Complete, m.IncompleteReasons)
			}
			deleted := int64(m.Counts.ByOutcome[remediate.OutcomeDeleted])
			if n := w.mutations() - before; n != deleted || deleted == 0 {
				t.Errorf("the simulator counts %d mutating calls, the evidence %d deletions", n, deleted)
			}
			for _, a := range rep.Accounts {
				if slices.ContainsFunc(a.Actions, func(x remediate.Action) bool { return x.Outcome == remediate.OutcomeDeleted }) && a.After == nil {
					t.Errorf("account %s, in flight, was not verified", a.AccountID)
				}
			}
			if concurrency == 1 {
				// The accounts go in order: the first deletes its key,
				// certificate and password, which are begun together,
				// and does not begin on its MFA device.
				first := account(t, rep, acctOldKey)
				if got := outcomes(first); !slices.Equal(got, []string{"access-key/" + keyOld + "=deleted", "signing-certificate/" + certOld + "=deleted",
					"password=deleted", "mfa-device/" + virtualMFA(acctOldKey) + "=not_started"}) {
					t.Errorf("the account in flight: %v", got)
				}
				for _, id := range []string{acctRecent, acctTwoCerts} {
					if a := account(t, rep, id); a.Status != remediate.StatusNotStarted {
						t.Errorf("account %s is %s", id, a.Status)
					}
				}
			}
		})
	}
}

func TestApplyCarriesAccountsThatCannotBeEntered(t *testing.T) {
	fx := testWorld(time.Now().UTC())
	planned := startWorld(t, fx, awssim.Options{})
	p := plan(t, planned.config())
	// The same organization, where AssumeRoot into one account is now denied.
	w := startWorld(t, fx, awssim.Options{FaultRules: []faults.Rule{{
		Service: "sts", Op: "AssumeRoot", Account: acctOldKey, Kind: faults.Error, Status: 403, Code: "AccessDenied", Message: "denied by a service control policy",
	}}})
	rep := apply(t, remediate.ApplyConfig{Config: w.config(), Plan: p})
	checkEvidence(t, w, fx, rep)
	a := account(t, rep, acctOldKey)
	if a.Status != remediate.StatusError || a.Error == nil || a.Error.Code != scan.CodeAccessDenied || a.Error.RequestID == "" {
		t.Fatalf("status %s error %+v", a.Status, a.Error)
	}
	if got := outcomes(a); !slices.Equal(got, []string{"access-key/" + keyOld + "=not_started", "signing-certificate/" + certOld + "=not_started"}) {
		t.Errorf("outcomes %v", got)
	}
	for _, id := range []string{acctRecent, acctTwoCerts} {
		if s := account(t, rep, id).Status; s != remediate.StatusRemediated {
			t.Errorf("account %s is %s", id, s)
		}
	}
}
