package remediate_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

var planTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// samplePlan is a plan as Plan writes one, made by hand so that the plan
// reader can be tested without a simulator.
func samplePlan() *remediate.Report {
	yes, no := true, false
	used := planTime.Add(-3 * 24 * time.Hour)
	finished := planTime.Add(2 * time.Second)
	p := &remediate.Report{
		SchemaVersion: remediate.SchemaVersion, Kind: remediate.ReportKind,
		Remediation: remediate.Meta{
			Mode: remediate.ModePlan, OrganizationID: orgID, ManagementAccountID: mgmt,
			CallerARN: "arn:aws:iam::111111111111:user/admin", CallerAccountID: mgmt, Partition: "aws",
			StartedAt: planTime, FinishedAt: &finished, Version: "test",
			Options: remediate.Options{Delete: []string{remediate.SelectAccessKeys, remediate.SelectSigningCertificates}, RecentDays: 90,
				Region: "us-east-1", Concurrency: 4, OUs: []string{}, ExcludeOUs: []string{}, Accounts: []string{}, ExcludeAccounts: []string{}},
			Plan:     remediate.PlanRef{CreatedAt: planTime, CreatedBy: "arn:aws:iam::111111111111:user/admin"},
			Complete: true, IncompleteReasons: []string{}, OUsNotListed: []scan.OUFailure{},
			RootAccess: scan.RootAccessState{RootCredentialsManagement: "enabled", RootSessions: "enabled"},
			Counts: remediate.Counts{Accounts: 3, ByStatus: map[string]int{"planned": 1, "skipped": 1, "held": 1},
				ByOutcome: map[string]int{"planned": 2, "held": 1}, ByKind: map[string]int{"access-key": 1, "signing-certificate": 1}},
		},
		Accounts: []remediate.Account{
			{AccountID: mgmt, AccountName: "management", State: "ACTIVE", Status: remediate.StatusSkipped, Reason: "the management account", Actions: []remediate.Action{}},
			{AccountID: acctOldKey, AccountName: "old-key", OUPath: "/Workloads", State: "ACTIVE", Status: remediate.StatusPlanned,
				Before: &scan.RootCredentials{Source: scan.SourceRootSession, AsOf: planTime,
					AccessKeys:          []scan.AccessKeyDetail{{ID: keyOld, Active: true, CreatedAt: &planTime}},
					SigningCertificates: []scan.CertificateDetail{{ID: certOld, Active: true, UploadedAt: &planTime}},
					MFA:                 scan.MFADetail{Enabled: &no, Devices: []scan.MFADevice{}}, Password: scan.PasswordDetail{Present: &yes}},
				Actions: []remediate.Action{
					{Kind: remediate.KindAccessKey, ID: keyOld, Decision: remediate.DecisionDelete, Outcome: remediate.OutcomePlanned},
					{Kind: remediate.KindSigningCertificate, ID: certOld, Decision: remediate.DecisionDelete, Outcome: remediate.OutcomePlanned},
				}},
			{AccountID: acctRecent, AccountName: "recent", OUPath: "/Workloads", State: "ACTIVE", Status: remediate.StatusHeld,
				Before: &scan.RootCredentials{Source: scan.SourceRootSession, AsOf: planTime,
					AccessKeys:          []scan.AccessKeyDetail{{ID: keyRecent, Active: true, CreatedAt: &planTime, LastUsedAt: &used, LastUsedService: "ec2", LastUsedRegion: "eu-west-1"}},
					SigningCertificates: []scan.CertificateDetail{}, MFA: scan.MFADetail{Enabled: &yes, Devices: []scan.MFADevice{{Serial: virtualMFA(acctRecent), Type: "virtual"}}},
					Password: scan.PasswordDetail{Present: &no}},
				Actions: []remediate.Action{{Kind: remediate.KindAccessKey, ID: keyRecent, Decision: remediate.DecisionHold, Hold: remediate.HoldRecentlyUsed,
					HoldDetail: "last used 3 days ago", Outcome: remediate.OutcomeHeld}}},
		},
	}
	seal(p)
	return p
}

// seal gives a plan the digest of its content, as Plan does.
func seal(p *remediate.Report) {
	d, err := p.Digest()
	if err != nil {
		panic(err)
	}
	p.Remediation.Plan.Digest = d
}

func encode(t testing.TB, p *remediate.Report) []byte {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var se *scan.Error
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("a library message names a flag: %v", err)
	}
}

func TestReadPlanReadsBackWhatPlanWrote(t *testing.T) {
	w := startWorld(t, testWorld(time.Now().UTC()), awssim.Options{})
	cfg := w.config()
	cfg.Selection = remediate.Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}
	p := plan(t, cfg)
	for _, layout := range []struct {
		name string
		data []byte
	}{{"indented", encode(t, p)}, {"compact", func() []byte { b, _ := json.Marshal(p); return b }()}} {
		t.Run("a plan written "+layout.name+" reads back with the same digest", func(t *testing.T) {
			got, err := remediate.ReadPlan(bytes.NewReader(layout.data))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(encode(t, got), encode(t, p)) {
				t.Error("the plan read back differs from the plan written")
			}
			if err := remediate.CheckPlan(got, orgID, time.Now(), 0); err != nil {
				t.Errorf("CheckPlan: %v", err)
			}
		})
	}
}

// TestDigestIsOfTheReportsJSON holds Digest, which hashes a plan an
// account at a time, to its definition: the SHA-256 of json.Marshal's
// encoding of the whole report with the digest empty.
func TestDigestIsOfTheReportsJSON(t *testing.T) {
	tricky := samplePlan()
	// What json.Marshal escapes: HTML, U+2028, invalid UTF-8.
	tricky.Accounts[1].AccountName = "<ops & \"dev\">\u2028\xff"
	tricky.Remediation.CallerARN = "arn:aws:iam::111111111111:user/a<b>&c"
	for _, c := range []struct {
		name string
		p    func() *remediate.Report
	}{
		{"a plan", samplePlan},
		{"characters json.Marshal escapes", func() *remediate.Report { return tricky }},
		{"no accounts", func() *remediate.Report { p := samplePlan(); p.Accounts = []remediate.Account{}; return p }},
		{"accounts null", func() *remediate.Report { p := samplePlan(); p.Accounts = nil; return p }},
		{"one account", func() *remediate.Report { p := samplePlan(); p.Accounts = p.Accounts[:1]; return p }},
		{"an empty report", func() *remediate.Report { return &remediate.Report{} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.p()
			whole := *p
			whole.Remediation.Plan.Digest = ""
			b, err := json.Marshal(&whole)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			got, err := p.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if want := "sha256:" + hex.EncodeToString(sum[:]); got != want {
				t.Errorf("digest %s, want %s", got, want)
			}
		})
	}
}

func TestReadPlanRefuses(t *testing.T) {
	edit := func(fn func(p *remediate.Report), reseal bool) []byte {
		p := samplePlan()
		fn(p)
		if reseal {
			seal(p)
		}
		return encode(t, p)
	}
	text := func(fn func(s string) string) []byte { return []byte(fn(string(encode(t, samplePlan())))) }
	tests := []struct {
		name string
		data []byte
		code string
	}{
		{"a key id changed after the digest was taken", edit(func(p *remediate.Report) { p.Accounts[1].Actions[0].ID = "AKIAOTHERROOTKEY0001" }, false), remediate.ErrorCodePlanEdited},
		{"a held key turned into a deletion", edit(func(p *remediate.Report) {
			x := &p.Accounts[2].Actions[0]
			x.Decision, x.Outcome, x.Hold, x.HoldDetail = remediate.DecisionDelete, remediate.OutcomePlanned, "", ""
		}, false), remediate.ErrorCodePlanEdited},
		{"an unknown field", text(func(s string) string { return strings.Replace(s, `"kind":`, `"force": true, "kind":`, 1) }), remediate.ErrorCodeMalformedPlan},
		{"a second document after the plan", text(func(s string) string { return s + "\n{}" }), remediate.ErrorCodeMalformedPlan},
		{"text that is not JSON", []byte("plan: yes"), remediate.ErrorCodeMalformedPlan},
		{"bytes that are not UTF-8", text(func(s string) string { return strings.Replace(s, "old-key", "old-\xffkey", 1) }), remediate.ErrorCodeMalformedPlan},
		{"a scan report", []byte(`{"scan": {}, "accounts": []}`), remediate.ErrorCodeMalformedPlan},
		{"the evidence of an apply", edit(func(p *remediate.Report) { p.Remediation.Mode = remediate.ModeApply }, true), remediate.ErrorCodeMalformedPlan},
		{"another schema version", edit(func(p *remediate.Report) { p.SchemaVersion = "2" }, true), remediate.ErrorCodeMalformedPlan},
		{"no digest", edit(func(p *remediate.Report) { p.Remediation.Plan.Digest = "" }, false), remediate.ErrorCodeMalformedPlan},
		{"nothing in it", []byte{}, remediate.ErrorCodeMalformedPlan},
		{"a digest of another form", edit(func(p *remediate.Report) { p.Remediation.Plan.Digest = "md5:abc" }, false), remediate.ErrorCodeMalformedPlan},
		{"an id IAM never issues", edit(func(p *remediate.Report) { p.Accounts[1].Actions[0].ID = "AKIA&Action=DeleteUser" }, true), remediate.ErrorCodeMalformedPlan},
		{"a password with an id", edit(func(p *remediate.Report) {
			p.Remediation.Options.Delete = []string{"access-keys", "signing-certificates", "password"}
			p.Accounts[1].Actions = append(p.Accounts[1].Actions, remediate.Action{Kind: remediate.KindPassword, ID: "x", Decision: remediate.DecisionDelete, Outcome: remediate.OutcomePlanned})
		}, true), remediate.ErrorCodeMalformedPlan},
		{"an action of a kind the plan does not select", edit(func(p *remediate.Report) {
			p.Accounts[1].Actions = append(p.Accounts[1].Actions, remediate.Action{Kind: remediate.KindPassword, Decision: remediate.DecisionDelete, Outcome: remediate.OutcomePlanned})
		}, true), remediate.ErrorCodeMalformedPlan},
		{"an action an apply made", edit(func(p *remediate.Report) { p.Accounts[1].Actions[0].Outcome = remediate.OutcomeDeleted }, true), remediate.ErrorCodeMalformedPlan},
		{"a credential named twice", edit(func(p *remediate.Report) { p.Accounts[1].Actions[1] = p.Accounts[1].Actions[0] }, true), remediate.ErrorCodeMalformedPlan},
		{"an account listed twice", edit(func(p *remediate.Report) { p.Accounts[2] = p.Accounts[1] }, true), remediate.ErrorCodeMalformedPlan},
		{"an account planned without a deletion", edit(func(p *remediate.Report) { p.Accounts[2].Status = remediate.StatusPlanned }, true), remediate.ErrorCodeMalformedPlan},
		{"a status no plan gives", edit(func(p *remediate.Report) { p.Accounts[1].Status = remediate.StatusRemediated }, true), remediate.ErrorCodeMalformedPlan},
		{"a selection that deletes MFA devices alone", edit(func(p *remediate.Report) { p.Remediation.Options.Delete = []string{"mfa"} }, true), remediate.ErrorCodeMalformedPlan},
		{"an organization id that is not one", edit(func(p *remediate.Report) { p.Remediation.OrganizationID = "o-../../etc" }, true), remediate.ErrorCodeMalformedPlan},
		{"no accounts at all", edit(func(p *remediate.Report) { p.Accounts = nil }, true), remediate.ErrorCodeMalformedPlan},
	}
	for _, tc := range tests {
		t.Run("a plan file with "+tc.name+" is refused", func(t *testing.T) {
			p, err := remediate.ReadPlan(bytes.NewReader(tc.data))
			if p != nil {
				t.Fatal("a plan was returned")
			}
			wantCode(t, err, tc.code)
		})
	}
	t.Run("a plan file larger than the limit is refused before it is parsed", func(t *testing.T) {
		data := encode(t, samplePlan())
		_, err := remediate.ReadPlanLimited(bytes.NewReader(data), int64(len(data)-1))
		wantCode(t, err, remediate.ErrorCodeMalformedPlan)
		if _, err := remediate.ReadPlanLimited(bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("a plan of exactly the limit: %v", err)
		}
	})
}

func TestCheckPlan(t *testing.T) {
	tests := []struct {
		name   string
		plan   *remediate.Report
		org    string
		now    time.Time
		maxAge time.Duration
		code   string
	}{
		{"a fresh plan of the caller's organization is accepted", samplePlan(), orgID, planTime.Add(time.Hour), 0, ""},
		{"a plan of another organization is refused", samplePlan(), "o-otherorg123", planTime.Add(time.Hour), 0, remediate.ErrorCodePlanOtherOrganization},
		{"a plan older than the default 24 hours is refused", samplePlan(), orgID, planTime.Add(25 * time.Hour), 0, remediate.ErrorCodePlanTooOld},
		{"a plan older than a day is accepted when two days are allowed", samplePlan(), orgID, planTime.Add(25 * time.Hour), 48 * time.Hour, ""},
		{"a plan made in the future is refused", samplePlan(), orgID, planTime.Add(-time.Hour), 0, remediate.ErrorCodeMalformedPlan},
		{"a plan edited in memory after it was sealed is refused", func() *remediate.Report {
			p := samplePlan()
			p.Accounts[1].Actions[0].ID = "AKIAOTHERROOTKEY0001"
			return p
		}(), orgID, planTime, 0, remediate.ErrorCodePlanEdited},
		{"no plan is refused", nil, orgID, planTime, 0, remediate.ErrorCodeNoPlan},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := remediate.CheckPlan(tc.plan, tc.org, tc.now, tc.maxAge)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}
}

func TestApplyRefusesAPlanBeforeAnySession(t *testing.T) {
	w := startWorld(t, testWorld(time.Now().UTC()), awssim.Options{})
	p := plan(t, w.config())
	other := samplePlan()
	other.Remediation.OrganizationID = "o-otherorg123"
	other.Remediation.Plan.CreatedAt = time.Now().UTC()
	seal(other)
	old := plan(t, w.config())
	tests := []struct {
		name string
		ac   remediate.ApplyConfig
		code string
	}{
		{"a plan of another organization", remediate.ApplyConfig{Config: w.config(), Plan: other}, remediate.ErrorCodePlanOtherOrganization},
		{"a plan older than allowed", remediate.ApplyConfig{Config: w.config(), Plan: old, MaxPlanAge: time.Nanosecond}, remediate.ErrorCodePlanTooOld},
		{"a plan edited after it was made", remediate.ApplyConfig{Config: w.config(), Plan: func() *remediate.Report {
			c := *p
			c.Accounts = append([]remediate.Account(nil), p.Accounts...)
			c.Accounts = c.Accounts[1:]
			return &c
		}()}, remediate.ErrorCodePlanEdited},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is refused with no root session opened", func(t *testing.T) {
			roots, mutations := w.assumeRoots(), w.mutations()
			rep, err := remediate.Apply(t.Context(), tc.ac)
			if rep != nil {
				t.Error("a report was returned")
			}
			wantCode(t, err, tc.code)
			if w.assumeRoots() != roots || w.mutations() != mutations {
				t.Error("the refused apply called AWS")
			}
		})
	}
}

func TestParseSelection(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  remediate.Selection
		code  string
		hint  scan.Hint
	}{
		{"access keys and certificates are the default", []string{"access-keys", "signing-certificates"}, remediate.DefaultSelection(), "", ""},
		{"all is every kind", []string{"all"}, remediate.Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}, "", ""},
		{"MFA with the password and the keys is accepted", []string{"mfa", "password", "access-keys"}, remediate.Selection{AccessKeys: true, Password: true, MFA: true}, "", ""},
		{"names are read without regard to case or spaces", []string{" Password "}, remediate.Selection{Password: true}, "", ""},
		{"MFA alone is refused", []string{"mfa"}, remediate.Selection{}, remediate.ErrorCodeUnsafeSelection, remediate.HintDeleteAll},
		{"MFA with the password but not the keys is refused", []string{"mfa", "password"}, remediate.Selection{}, remediate.ErrorCodeUnsafeSelection, remediate.HintDeleteAll},
		{"MFA with the keys but not the password is refused", []string{"access-keys", "mfa"}, remediate.Selection{}, remediate.ErrorCodeUnsafeSelection, remediate.HintDeleteAll},
		{"an unknown kind is invalid input", []string{"access-keys", "roles"}, remediate.Selection{}, scan.ErrorCodeInvalidInput, remediate.HintDelete},
		{"no kind at all is invalid input", nil, remediate.Selection{}, scan.ErrorCodeInvalidInput, remediate.HintDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := remediate.ParseSelection(tc.names)
			if tc.code == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				if back, err := remediate.ParseSelection(got.Names()); err != nil || back != got {
					t.Errorf("Names %v reads back as %+v, %v", got.Names(), back, err)
				}
				return
			}
			var se *scan.Error
			if !errors.As(err, &se) || se.Code != tc.code || se.Hint != tc.hint || se.Stage != scan.StageConfig {
				t.Fatalf("error %v (%+v), want %s with hint %s", err, se, tc.code, tc.hint)
			}
			if tc.code == remediate.ErrorCodeUnsafeSelection && !strings.Contains(err.Error(), "a password and no MFA") {
				t.Errorf("the refusal does not say why: %v", err)
			}
			if strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "\n") {
				t.Errorf("the message names a flag or spans lines: %q", err)
			}
		})
	}
	t.Run("a plan refuses an unsafe selection before any call", func(t *testing.T) {
		_, err := remediate.Plan(t.Context(), remediate.Config{Selection: remediate.Selection{MFA: true, Password: true}})
		wantCode(t, err, remediate.ErrorCodeUnsafeSelection)
	})
}

func TestTotals(t *testing.T) {
	got := samplePlan().Totals()
	if got.OrganizationID != orgID || got.Accounts != 1 || got.Deletions != 2 || got.Held != 1 ||
		got.ByKind[remediate.KindAccessKey] != 1 || got.ByKind[remediate.KindSigningCertificate] != 1 {
		t.Errorf("totals %+v", got)
	}
}
