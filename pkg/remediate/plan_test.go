package remediate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/awssim/faults"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

func TestPlanDecidesPerCredentialAndChangesNothing(t *testing.T) {
	now := time.Now().UTC()
	w := startWorld(t, testWorld(now), awssim.Options{})
	all := remediate.Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}
	tests := []struct {
		name    string
		sel     remediate.Selection
		include bool
		want    map[string][]string // account -> outcomes
		status  map[string]string
	}{
		{
			name: "the default plan deletes keys and certificates and holds a key used last week",
			sel:  remediate.DefaultSelection(),
			want: map[string][]string{
				acctOldKey:   {"access-key/" + keyOld + "=planned", "signing-certificate/" + certOld + "=planned"},
				acctRecent:   {"access-key/" + keyRecent + "=held:recently_used", "access-key/" + keyUnused + "=planned"},
				acctClean:    {},
				acctPassword: {},
				acctTwoCerts: {"signing-certificate/" + certA + "=planned", "signing-certificate/" + certB + "=planned"},
			},
			status: map[string]string{acctOldKey: remediate.StatusPlanned, acctRecent: remediate.StatusPlanned, acctClean: remediate.StatusNothingToDo,
				acctPassword: remediate.StatusNothingToDo, acctTwoCerts: remediate.StatusPlanned},
		},
		{
			name: "deleting everything holds the MFA device of an account whose recently used key stays",
			sel:  all,
			want: map[string][]string{
				acctOldKey: {"access-key/" + keyOld + "=planned", "signing-certificate/" + certOld + "=planned", "password=planned",
					"mfa-device/" + virtualMFA(acctOldKey) + "=planned"},
				acctRecent: {"access-key/" + keyRecent + "=held:recently_used", "access-key/" + keyUnused + "=planned",
					"mfa-device/" + virtualMFA(acctRecent) + "=held:protects_credentials"},
				acctClean:    {},
				acctPassword: {"password=planned", "mfa-device/" + virtualMFA(acctPassword) + "=planned"},
				acctTwoCerts: {"signing-certificate/" + certA + "=planned", "signing-certificate/" + certB + "=planned", "mfa-device/GAHT77777777=planned"},
			},
		},
		{
			name: "including recently used keys deletes the key used last week, and says so",
			sel:  remediate.Selection{AccessKeys: true}, include: true,
			want: map[string][]string{
				acctOldKey:   {"access-key/" + keyOld + "=planned"},
				acctRecent:   {"access-key/" + keyRecent + "=planned", "access-key/" + keyUnused + "=planned"},
				acctClean:    {},
				acctPassword: {},
				acctTwoCerts: {},
			},
		},
		{
			name: "only a password whose account keeps its MFA is nothing an MFA rule stops",
			sel:  remediate.Selection{Password: true},
			want: map[string][]string{
				acctOldKey: {"password=planned"}, acctRecent: {}, acctClean: {}, acctPassword: {"password=planned"}, acctTwoCerts: {},
			},
			status: map[string]string{acctRecent: remediate.StatusNothingToDo},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, roots := w.mutations(), w.assumeRoots()
			cfg := w.config()
			cfg.Selection, cfg.IncludeRecentlyUsed = tc.sel, tc.include
			rep := plan(t, cfg)
			if got := w.mutations() - before; got != 0 {
				t.Errorf("the plan made %d mutating IAM calls", got)
			}
			if got := w.assumeRoots() - roots; got != 5 {
				t.Errorf("the plan opened %d root sessions, want one per active member (5)", got)
			}
			for id, want := range tc.want {
				if got := outcomes(account(t, rep, id)); !slices.Equal(got, want) {
					t.Errorf("account %s: %v, want %v", id, got, want)
				}
			}
			for id, want := range tc.status {
				if got := account(t, rep, id).Status; got != want {
					t.Errorf("account %s status %s, want %s", id, got, want)
				}
			}
			m := account(t, rep, mgmt)
			if m.Status != remediate.StatusSkipped || !strings.Contains(m.Reason, "management account") || len(m.Actions) != 0 {
				t.Errorf("management account: %s %q %v", m.Status, m.Reason, m.Actions)
			}
			if s := account(t, rep, acctSuspend); s.Status != remediate.StatusSkipped || !strings.Contains(s.Reason, "SUSPENDED") {
				t.Errorf("suspended account: %s %q", s.Status, s.Reason)
			}
			meta := rep.Remediation
			if meta.Mode != remediate.ModePlan || meta.OrganizationID != orgID || !meta.Complete || meta.Counts.Accounts != 7 {
				t.Errorf("meta: mode %s org %s complete %v (%v) accounts %d", meta.Mode, meta.OrganizationID, meta.Complete, meta.IncompleteReasons, meta.Counts.Accounts)
			}
			if meta.Plan.CreatedBy != w.s.Caller.ARN || !meta.Plan.CreatedAt.Equal(meta.StartedAt) {
				t.Errorf("plan ref %+v", meta.Plan)
			}
			if d, err := rep.Digest(); err != nil || d != meta.Plan.Digest {
				t.Errorf("digest %s, %v; the plan says %s", d, err, meta.Plan.Digest)
			}
			if !slices.Equal(meta.Options.Delete, tc.sel.Names()) {
				t.Errorf("options.delete %v", meta.Options.Delete)
			}
		})
	}
}

func TestPlanSaysWhenWhereAndByWhatAHeldKeyWasUsed(t *testing.T) {
	now := time.Now().UTC()
	w := startWorld(t, testWorld(now), awssim.Options{})
	rep := plan(t, w.config())
	x := action(t, account(t, rep, acctRecent), remediate.KindAccessKey, keyRecent)
	for _, want := range []string{"6 days ago", "eu-west-1", "ec2", "within 90 days"} {
		if !strings.Contains(x.HoldDetail, want) {
			t.Errorf("hold detail %q lacks %q", x.HoldDetail, want)
		}
	}
	cfg := w.config()
	cfg.RecentDays = 5
	rep = plan(t, cfg)
	if x := action(t, account(t, rep, acctRecent), remediate.KindAccessKey, keyRecent); x.Decision != remediate.DecisionDelete {
		t.Errorf("with a 5-day window a key used 6 days ago is %s", x.Decision)
	}
}

func TestRootCredentialsManagementIsCheckedBeforeAnySession(t *testing.T) {
	tests := []struct {
		name     string
		features awssim.Features
		code     string
	}{
		{"disabled root credentials management", awssim.Features{IAMTrustedAccess: true, RootSessions: true}, remediate.ErrorCodeRootCredentialsManagementDisabled},
		{"features that cannot be read without trusted access for IAM", awssim.Features{}, remediate.ErrorCodeRootCredentialsManagementUnknown},
	}
	for _, tc := range tests {
		for _, mode := range []string{remediate.ModePlan, remediate.ModeApply} {
			t.Run(tc.name+" stops the "+mode+" before any root session", func(t *testing.T) {
				fx := testWorld(time.Now())
				fx.Organization.Features = tc.features
				w := startWorld(t, fx, awssim.Options{})
				var err error
				if mode == remediate.ModePlan {
					_, err = remediate.Plan(t.Context(), w.config())
				} else {
					_, err = remediate.Apply(t.Context(), remediate.ApplyConfig{Config: w.config()})
				}
				var se *scan.Error
				if !errors.As(err, &se) || se.Code != tc.code || se.Stage != scan.StageFeatures || se.Hint != remediate.HintEnableRootCredentialsManagement {
					t.Fatalf("error %v (%+v), want %s at %s", err, se, tc.code, scan.StageFeatures)
				}
				if !strings.Contains(err.Error(), "Root credentials management") || !strings.Contains(err.Error(), "trusted access for IAM") {
					t.Errorf("the message does not name what to enable: %v", err)
				}
				if n := w.assumeRoots(); n != 0 {
					t.Errorf("%d AssumeRoot calls", n)
				}
				if n := w.mutations(); n != 0 {
					t.Errorf("%d mutating calls", n)
				}
			})
		}
	}
}

func TestAnAccountThatCannotBeEnteredIsAnErrorRow(t *testing.T) {
	w := startWorld(t, testWorld(time.Now()), awssim.Options{FaultRules: []faults.Rule{{
		Service: "sts", Op: "AssumeRoot", Account: acctOldKey, Kind: faults.Error,
		Status: 403, Code: "AccessDenied", Message: "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::222222222222:root with an explicit deny in a service control policy",
	}}})
	rep := plan(t, w.config())
	a := account(t, rep, acctOldKey)
	if a.Status != remediate.StatusError || a.Error == nil || a.Error.Code != scan.CodeAccessDenied || a.Error.RequestID == "" ||
		!strings.Contains(a.Error.Message, "service control policy") || len(a.Actions) != 0 {
		t.Fatalf("account %s: %s %+v %v", a.AccountID, a.Status, a.Error, a.Actions)
	}
	if got := account(t, rep, acctTwoCerts).Status; got != remediate.StatusPlanned {
		t.Errorf("another account is %s", got)
	}
	if rep.Remediation.Complete || !slices.Contains(rep.Remediation.IncompleteReasons, scan.ReasonAccountsInError) {
		t.Errorf("complete %v reasons %v", rep.Remediation.Complete, rep.Remediation.IncompleteReasons)
	}
}

func TestPlanSelection(t *testing.T) {
	now := time.Now().UTC()
	w := startWorld(t, testWorld(now), awssim.Options{})
	tests := []struct {
		name   string
		filter scan.Filter
		want   []string
		errors map[string]string
	}{
		{"an account list plans those accounts only", scan.Filter{Accounts: []string{acctOldKey, acctClean}}, []string{acctOldKey, acctClean}, nil},
		{"an excluded account is left out", scan.Filter{ExcludeAccounts: []string{acctOldKey, mgmt, acctSuspend}}, []string{acctRecent, acctClean, acctPassword, acctTwoCerts}, nil},
		{"an account the organization does not have is an error row", scan.Filter{Accounts: []string{acctClean, "999999999999"}}, []string{acctClean, "999999999999"},
			map[string]string{"999999999999": scan.CodeNotFound}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.config()
			cfg.Filter = tc.filter
			rep := plan(t, cfg)
			var ids []string
			for _, a := range rep.Accounts {
				ids = append(ids, a.AccountID)
				if code, ok := tc.errors[a.AccountID]; ok && (a.Error == nil || a.Error.Code != code) {
					t.Errorf("account %s error %+v, want %s", a.AccountID, a.Error, code)
				}
			}
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(ids, want) {
				t.Errorf("accounts %v, want %v", ids, want)
			}
		})
	}
	t.Run("an OU the organization does not have fails the plan before any account", func(t *testing.T) {
		cfg := w.config()
		cfg.Filter = scan.Filter{OUs: []string{"ou-zzzz-zzzzzzzz"}}
		roots := w.assumeRoots()
		rep, err := remediate.Plan(t.Context(), cfg)
		var se *scan.Error
		if rep != nil || !errors.As(err, &se) || se.Code != scan.ErrorCodeInvalidInput {
			t.Fatalf("report %v, error %v", rep != nil, err)
		}
		if w.assumeRoots() != roots {
			t.Error("root sessions were opened")
		}
	})
}

func TestStreamedAccountsAddUp(t *testing.T) {
	w := startWorld(t, testWorld(time.Now()), awssim.Options{})
	var seen []string
	cfg := w.config()
	cfg.DiscardAccounts = true
	cfg.OnAccount = func(a *remediate.Account) error { seen = append(seen, a.AccountID); return nil }
	rep := plan(t, cfg)
	if len(rep.Accounts) != 0 || len(seen) != 7 || rep.Remediation.Counts.Accounts != 7 {
		t.Errorf("kept %d, streamed %d, counted %d", len(rep.Accounts), len(seen), rep.Remediation.Counts.Accounts)
	}
	if rep.Remediation.Plan.Digest != "" {
		t.Errorf("a plan without its accounts has the digest %s", rep.Remediation.Plan.Digest)
	}

	t.Run("an output that fails stops the run with what was gathered", func(t *testing.T) {
		cfg := w.config()
		cfg.Concurrency = 1
		cfg.OnAccount = func(*remediate.Account) error { return errors.New("disk full") }
		rep, err := remediate.Plan(t.Context(), cfg)
		var se *scan.Error
		if !errors.As(err, &se) || se.Code != scan.ErrorCodeWriteFailed || rep == nil || rep.Remediation.Complete {
			t.Fatalf("error %v, report %v", err, rep != nil)
		}
	})

	t.Run("accounts a failed output never took are kept, even when discarding", func(t *testing.T) {
		cfg := w.config()
		cfg.Concurrency = 1
		cfg.DiscardAccounts = true
		var took []string
		cfg.OnAccount = func(a *remediate.Account) error {
			if len(took) == 2 {
				return errors.New("disk full")
			}
			took = append(took, a.AccountID)
			return nil
		}
		rep, err := remediate.Plan(t.Context(), cfg)
		if err == nil || rep == nil {
			t.Fatalf("error %v, report %v", err, rep != nil)
		}
		kept := map[string]bool{}
		for _, a := range rep.Accounts {
			kept[a.AccountID] = true
		}
		for _, id := range took {
			if kept[id] {
				t.Errorf("account %s was taken by the output and kept too", id)
			}
		}
		if n := rep.Remediation.Counts.Accounts; len(took) != 2 || len(took)+len(kept) != n || len(rep.Accounts) != len(kept) {
			t.Errorf("took %d, kept %d (%d distinct), counted %d", len(took), len(rep.Accounts), len(kept), n)
		}
	})
}

func TestInterruptedPlanSaysSo(t *testing.T) {
	w := startWorld(t, testWorld(time.Now()), awssim.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cfg := w.config()
	cfg.Concurrency = 1
	n := 0
	cfg.OnAccount = func(*remediate.Account) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	}
	rep, err := remediate.Plan(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Remediation
	if !m.Interrupted || m.Complete || !slices.Contains(m.IncompleteReasons, scan.ReasonInterrupted) {
		t.Errorf("interrupted %v, complete %v, reasons %v", m.Interrupted, m.Complete, m.IncompleteReasons)
	}
	done := 0
	for _, a := range rep.Accounts {
		if a.Status != remediate.StatusNotStarted {
			done++
		}
	}
	if done != 2 || len(rep.Accounts) < 3 {
		t.Errorf("%d of %d accounts were planned, want the 2 before the interrupt", done, len(rep.Accounts))
	}
}
