package output

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema/schematest"
)

// goldenDigest stands for a plan's digest: the writers show it, never
// compute it.
var goldenDigest = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("the golden plan")))

const (
	planCaller  = "arn:aws:sts::111111111111:assumed-role/Admin/alice"
	applyCaller = "arn:aws:sts::111111111111:assumed-role/Admin/bob"
)

// rootCreds builds a root-session listing: keys (id → last use), the
// certificates, the password and the MFA devices.
func rootCreds(asOf time.Time, keys []scan.AccessKeyDetail, certs []string, password bool, mfa ...string) *scan.RootCredentials {
	rc := &scan.RootCredentials{
		Source: "root-session", AsOf: asOf, AccessKeys: keys,
		SigningCertificates: []scan.CertificateDetail{},
		MFA:                 scan.MFADetail{Enabled: ptr(len(mfa) > 0), Virtual: ptr(len(mfa) > 0), Devices: []scan.MFADevice{}},
		Password:            scan.PasswordDetail{Present: ptr(password)},
	}
	if rc.AccessKeys == nil {
		rc.AccessKeys = []scan.AccessKeyDetail{}
	}
	for _, c := range certs {
		rc.SigningCertificates = append(rc.SigningCertificates, scan.CertificateDetail{ID: c, Active: true, UploadedAt: at(-500 * 24 * time.Hour)})
	}
	for _, d := range mfa {
		rc.MFA.Devices = append(rc.MFA.Devices, scan.MFADevice{Serial: d, Type: "virtual"})
	}
	return rc
}

func key(id string, lastUsed time.Duration, service, region string) scan.AccessKeyDetail {
	k := scan.AccessKeyDetail{ID: id, Active: true, CreatedAt: at(-400 * 24 * time.Hour)}
	if lastUsed != 0 {
		k.LastUsedAt, k.LastUsedService, k.LastUsedRegion = at(lastUsed), service, region
	}
	return k
}

const (
	hostileCertID = "=1+2\x1b[31mCERT\u202E"
	mfaProd       = "arn:aws:iam::222222222222:mfa/root-account-mfa-device"
)

// goldenPlan is a plan of nine accounts, one of each status a plan has,
// with hostile and wide names and an OU that could not be listed; it is
// interrupted, so it is incomplete.
func goldenPlan() *remediate.Report {
	day := 24 * time.Hour
	planned := func(kind, id string) remediate.Action {
		return remediate.Action{Kind: kind, ID: id, Decision: remediate.DecisionDelete, Outcome: remediate.OutcomePlanned}
	}
	recentHold := remediate.Action{Kind: remediate.KindAccessKey, ID: "AKIAPROD2", Decision: remediate.DecisionHold,
		Hold: remediate.HoldRecentlyUsed, Outcome: remediate.OutcomeHeld,
		HoldDetail: "last used 2026-02-26 (3 days ago) by s3 in eu-west-1; deleting it may break whatever uses it"}
	accounts := []remediate.Account{
		{AccountID: "111111111111", AccountName: "Management", OUPath: "Root", State: "ACTIVE", Status: remediate.StatusSkipped,
			Reason:  "the management account: sts:AssumeRoot cannot open a root session in it; its root credentials are managed by signing in as its root user",
			Actions: []remediate.Action{}},
		{AccountID: "222222222222", AccountName: "Prod 本番", OUPath: "Root/Workloads/Prod", State: "ACTIVE", Status: remediate.StatusPlanned,
			Before: rootCreds(t0, []scan.AccessKeyDetail{key("AKIAPROD1", -200*day, "ec2", "us-east-1"), key("AKIAPROD2", -3*day, "s3", "eu-west-1")},
				[]string{"CERTPROD1"}, true, mfaProd),
			Actions: []remediate.Action{
				planned(remediate.KindAccessKey, "AKIAPROD1"),
				recentHold,
				planned(remediate.KindSigningCertificate, "CERTPROD1"),
				planned(remediate.KindPassword, ""),
				{Kind: remediate.KindMFADevice, ID: mfaProd, Decision: remediate.DecisionHold, Hold: remediate.HoldProtectsCredentials,
					Outcome: remediate.OutcomeHeld, HoldDetail: "kept while access key AKIAPROD2 remains: a root user with a password or an access key and no MFA is worse off than before"},
			}},
		{AccountID: "333333333333", AccountName: hostileName, OUPath: "Root/Sandbox/\x1b]0;pwned\x07Evil", State: "ACTIVE", Status: remediate.StatusPlanned,
			Before: rootCreds(t0, []scan.AccessKeyDetail{key("AKIAEVIL1", 0, "", "")}, []string{hostileCertID}, false),
			Actions: []remediate.Action{
				planned(remediate.KindAccessKey, "AKIAEVIL1"),
				planned(remediate.KindSigningCertificate, hostileCertID),
			}},
		{AccountID: "444444444444", AccountName: "Data", OUPath: "Root/Workloads", State: "ACTIVE", Status: remediate.StatusNothingToDo,
			Before: rootCreds(t0, nil, nil, false), Actions: []remediate.Action{}},
		{AccountID: "555555555555", AccountName: "Denied", OUPath: "Root/Workloads", State: "ACTIVE", Status: remediate.StatusError,
			Error: &remediate.Error{Code: scan.CodeAccessDenied,
				Message:   "=HYPERLINK(\"http://evil.example\")\nnot authorized to perform sts:AssumeRoot",
				RequestID: "4b1c6a52-0000-4000-8000-000000000555"},
			Actions: []remediate.Action{}},
		{AccountID: "666666666666", AccountName: "Old project", OUPath: "Root/Suspended", State: "SUSPENDED", Status: remediate.StatusSkipped,
			Reason: "account state is SUSPENDED: a root session cannot be opened in an account that is not active", Actions: []remediate.Action{}},
		{AccountID: "777777777777", AccountName: "Cafe\u0301 ☕", OUPath: "Root/Workloads/Dev", State: "ACTIVE", Status: remediate.StatusHeld,
			Before: rootCreds(t0, []scan.AccessKeyDetail{key("AKIACAFE1", -1*day, "lambda", "us-west-2")}, nil, false),
			Actions: []remediate.Action{{Kind: remediate.KindAccessKey, ID: "AKIACAFE1", Decision: remediate.DecisionHold,
				Hold: remediate.HoldRecentlyUsed, Outcome: remediate.OutcomeHeld,
				HoldDetail: "last used 2026-02-28 (1 day ago) by lambda in us-west-2; deleting it may break whatever uses it"}}},
		{AccountID: "888888888888", AccountName: "Late", OUPath: "Root/Workloads/Dev", State: "ACTIVE", Status: remediate.StatusNotStarted,
			Reason: "the run stopped before this account was planned", Actions: []remediate.Action{}},
		{AccountID: "999999999999", AccountName: "Batch", OUPath: "Root/Workloads/Dev", State: "ACTIVE", Status: remediate.StatusPlanned,
			Before:  rootCreds(t0, []scan.AccessKeyDetail{key("AKIABATCH1", -400*day, "sts", "us-east-1")}, nil, false),
			Actions: []remediate.Action{planned(remediate.KindAccessKey, "AKIABATCH1")}},
	}
	rep := &remediate.Report{
		SchemaVersion: "1", Kind: remediate.ReportKind,
		Remediation: remediate.Meta{
			Mode: remediate.ModePlan, OrganizationID: "o-abc123def4", ManagementAccountID: "111111111111",
			CallerARN: planCaller, CallerAccountID: "111111111111", Partition: "aws",
			StartedAt: t0, FinishedAt: at(time.Minute), Version: "1.2.3-test",
			Options: remediate.Options{
				Delete:     []string{remediate.SelectAccessKeys, remediate.SelectSigningCertificates, remediate.SelectPassword, remediate.SelectMFA},
				RecentDays: 90, Region: "us-east-1", Concurrency: 20,
				OUs: []string{}, ExcludeOUs: []string{"ou-ab12-sandbox1"}, Accounts: []string{}, ExcludeAccounts: []string{},
			},
			Plan:        remediate.PlanRef{Digest: goldenDigest, CreatedAt: t0, CreatedBy: planCaller},
			Interrupted: true,
			IncompleteReasons: []string{scan.ReasonInterrupted, scan.ReasonAccountsInError, remediate.ReasonAccountsNotStarted,
				scan.ReasonOUsNotListed},
			OUsNotListed: []scan.OUFailure{{ID: "ou-ab12-cdefgh34", Path: "Root/Restricted", Listing: scan.ListingAccounts,
				ErrorCode: "AccessDenied", Error: "AccessDeniedException: \x1b[2Jnot authorized"}},
			RootAccess: scan.RootAccessState{RootCredentialsManagement: "enabled", RootSessions: "enabled"},
		},
		Accounts: accounts,
	}
	rep.Remediation.Counts = tally(rep)
	return rep
}

// goldenApply is the evidence of applying goldenPlan, interrupted: every
// outcome and every status an apply has.
func goldenApply() *remediate.Report {
	plan := goldenPlan()
	rep := &remediate.Report{SchemaVersion: plan.SchemaVersion, Kind: plan.Kind, Remediation: plan.Remediation}
	m := &rep.Remediation
	m.Mode, m.CallerARN = remediate.ModeApply, applyCaller
	m.StartedAt, m.FinishedAt = t0.Add(time.Hour), at(time.Hour+2*time.Minute)
	m.OUsNotListed, m.IncompleteReasons = []scan.OUFailure{}, []string{scan.ReasonInterrupted, scan.ReasonAccountsInError,
		remediate.ReasonAccountsFailed, remediate.ReasonAccountsNotStarted}
	deletedAt := func(d time.Duration) *time.Time { return at(time.Hour + d) }
	for _, pa := range plan.Accounts {
		a := pa
		a.Actions = slices.Clone(pa.Actions)
		switch a.AccountID {
		case "222222222222":
			a.Status = remediate.StatusFailed
			x := a.Actions
			x[0].Outcome, x[0].At, x[0].RequestID = remediate.OutcomeDeleted, deletedAt(10*time.Second), "req-akiaprod1"
			x[2].Outcome, x[2].At, x[2].RequestID = remediate.OutcomeAlreadyAbsent, deletedAt(11*time.Second), "req-certprod1"
			x[2].Note = "the deletion was retried after attempt 1 of 2 got no usable answer (connection reset); IAM then answered NoSuchEntity, so an earlier attempt most likely deleted it"
			x[3].Outcome, x[3].Error = remediate.OutcomeFailed, &remediate.Error{Code: "ServiceFailure",
				Message: "The request processing has failed because of an unknown error.", RequestID: "req-password"}
			x[4].HoldDetail = "not deleted: the planned deletion of password did not succeed, and a root user with a password or an access key and no MFA is worse off than before"
			a.Actions = append(a.Actions, remediate.Action{Kind: remediate.KindAccessKey, ID: "AKIANEW3", Decision: remediate.DecisionHold,
				Hold: remediate.HoldNotInPlan, Outcome: remediate.OutcomeNewSincePlan,
				HoldDetail: "found by the apply and not named by the plan: never deleted; make a new plan to delete it"})
			a.After = rootCreds(t0.Add(time.Hour+time.Minute),
				[]scan.AccessKeyDetail{key("AKIAPROD2", -3*24*time.Hour, "s3", "eu-west-1"), key("AKIANEW3", 0, "", "")}, nil, true, mfaProd)
			a.Remaining = []string{"password"}
		case "333333333333":
			a.Status = remediate.StatusRemediated
			a.Actions[0].Outcome, a.Actions[0].At, a.Actions[0].RequestID = remediate.OutcomeDeleted, deletedAt(20*time.Second), "req-evil1"
			a.Actions[1].Outcome, a.Actions[1].At, a.Actions[1].RequestID = remediate.OutcomeDeleted, deletedAt(21*time.Second), "req-evil2"
			a.After = rootCreds(t0.Add(time.Hour+time.Minute), nil, nil, false)
		case "999999999999":
			a.Status, a.Reason = remediate.StatusNotStarted, "the run stopped before this account was begun"
			a.Actions[0].Outcome = remediate.OutcomeNotStarted
		}
		rep.Accounts = append(rep.Accounts, a)
	}
	m.Counts = tally(rep)
	return rep
}

// tally counts a report as the engine does: accounts by status, actions
// by outcome, and the deletions planned (a plan) or done (an apply) by
// kind.
func tally(rep *remediate.Report) remediate.Counts {
	c := remediate.Counts{ByStatus: map[string]int{}, ByOutcome: map[string]int{}, ByKind: map[string]int{}}
	counted := remediate.OutcomePlanned
	if rep.Remediation.Mode == remediate.ModeApply {
		counted = remediate.OutcomeDeleted
	}
	for _, a := range rep.Accounts {
		c.Accounts++
		c.ByStatus[a.Status]++
		for _, x := range a.Actions {
			c.ByOutcome[x.Outcome]++
			if x.Outcome == counted {
				c.ByKind[x.Kind]++
			}
		}
	}
	return c
}

// renderRemediation runs a writer the way the engine does: each account
// through WriteAccount (but those not started, which only the final report
// holds), then Close.
func renderRemediation(t *testing.T, format string, rep *remediate.Report, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewRemediation(format, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Accounts {
		if rep.Accounts[i].Status == remediate.StatusNotStarted {
			continue
		}
		if err := w.WriteAccount(&rep.Accounts[i]); err != nil {
			t.Fatalf("%s: write account %s: %v", format, rep.Accounts[i].AccountID, err)
		}
	}
	if err := w.Close(rep); err != nil {
		t.Fatalf("%s: close: %v", format, err)
	}
	return buf.Bytes()
}

var remediationReports = []struct {
	name   string
	report func() *remediate.Report
}{
	{"plan", goldenPlan},
	{"apply", goldenApply},
}

func TestRemediationGoldenFiles(t *testing.T) {
	for _, r := range remediationReports {
		for _, tc := range []struct {
			name   string
			format string
			o      Options
		}{
			{"table", FormatTable, Options{}},
			{"table-terminal", FormatTable, Options{Terminal: true, Color: true}},
			{"csv", FormatCSV, Options{}},
			{"json", FormatJSON, Options{}},
			{"ndjson", FormatNDJSON, Options{}},
			{"html", FormatHTML, Options{}},
		} {
			name := "remediation/" + r.name + "-" + tc.name
			t.Run(name+" matches its golden file", func(t *testing.T) {
				o := tc.o
				o.Now = fixedAt
				checkGolden(t, name, renderRemediation(t, tc.format, r.report(), o))
			})
		}
	}
}

// The fixtures must hold what the golden files are meant to show.
func TestRemediationFixturesCoverEveryStatusAndOutcome(t *testing.T) {
	statuses, outcomes := map[string]bool{}, map[string]bool{}
	for _, r := range remediationReports {
		for _, a := range r.report().Accounts {
			statuses[a.Status] = true
			for _, x := range a.Actions {
				outcomes[x.Outcome] = true
			}
		}
	}
	for _, s := range remediationStatuses {
		if !statuses[s] {
			t.Errorf("no account with status %s", s)
		}
	}
	for _, o := range remediationOutcomes {
		if !outcomes[o] {
			t.Errorf("no action with outcome %s", o)
		}
	}
}

func TestRemediationJSONAndNDJSONAreSchemaValid(t *testing.T) {
	schemas := schematest.Compile(t)
	for _, r := range remediationReports {
		t.Run("the "+r.name+" in JSON validates", func(t *testing.T) {
			out := renderRemediation(t, FormatJSON, r.report(), Options{})
			if err := schematest.Validate(t, schemas.Remediation, out); err != nil {
				t.Fatalf("does not validate: %v", err)
			}
		})
		t.Run("each line of the "+r.name+" in NDJSON validates as an account", func(t *testing.T) {
			out := renderRemediation(t, FormatNDJSON, r.report(), Options{})
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(lines) != len(r.report().Accounts) {
				t.Fatalf("%d lines, want one per account (%d)", len(lines), len(r.report().Accounts))
			}
			for i, l := range lines {
				if err := schematest.Validate(t, schemas.RemediationAccount, []byte(l)); err != nil {
					t.Errorf("line %d does not validate: %v\n%s", i+1, err, l)
				}
			}
		})
	}
}

// A saved plan is read back by pkg/remediate, whose digest covers the
// report's encoding: the writer must write exactly what encoding/json
// writes for it, accounts in the report's order.
func TestRemediationJSONIsTheReportAsItIs(t *testing.T) {
	reversed := goldenApply()
	slices.Reverse(reversed.Accounts)
	none := goldenPlan()
	none.Accounts = []remediate.Account{}
	discarded := goldenPlan()
	discarded.Accounts = nil
	for _, tc := range []struct {
		name string
		rep  *remediate.Report
	}{
		{"a plan", goldenPlan()},
		{"evidence whose accounts are not in id order", reversed},
		{"a report with an empty list of accounts", none},
		{"a report with no list of accounts", discarded},
	} {
		t.Run(tc.name+" is written as encoding/json would", func(t *testing.T) {
			want, err := json.MarshalIndent(tc.rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if got := renderRemediation(t, FormatJSON, tc.rep, Options{}); string(got) != string(want)+"\n" {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestRemediationNDJSONStreamsAccounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*recorder) io.Writer
	}{
		{"written straight", func(r *recorder) io.Writer { return r }},
		{"written through a buffer, which it flushes", func(r *recorder) io.Writer { return bufio.NewWriter(r) }},
	} {
		t.Run(tc.name+", each account arrives at WriteAccount as one line", func(t *testing.T) {
			rec := &recorder{}
			w, err := NewRemediation(FormatNDJSON, tc.wrap(rec), Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep := goldenApply()
			streamed := 0
			for i := range rep.Accounts {
				a := &rep.Accounts[i]
				if a.Status == remediate.StatusNotStarted {
					continue
				}
				if err := w.WriteAccount(a); err != nil {
					t.Fatal(err)
				}
				streamed++
				lines := rec.lines()
				if len(lines) != streamed {
					t.Fatalf("after %d accounts, %d lines have arrived", streamed, len(lines))
				}
				var got remediate.Account
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil || got.AccountID != a.AccountID {
					t.Fatalf("line %d is account %q (%v), want %s", streamed, got.AccountID, err, a.AccountID)
				}
			}
			if err := w.WriteAccount(&rep.Accounts[0]); err == nil {
				t.Error("an account written twice was accepted")
			}
			if err := w.Close(rep); err != nil {
				t.Fatal(err)
			}
			lines := rec.lines()
			if len(lines) != len(rep.Accounts) {
				t.Fatalf("%d lines after close, want every account once (%d)", len(lines), len(rep.Accounts))
			}
			for i, id := range []string{"888888888888", "999999999999"} {
				if l := lines[streamed+i]; !strings.Contains(l, `"account_id":"`+id+`"`) {
					t.Errorf("close did not add the account not started, %s, in id order: %s", id, l)
				}
			}
			if err := w.WriteAccount(&rep.Accounts[0]); err == nil {
				t.Error("an account after close was accepted")
			}
		})
	}
	t.Run("a report whose accounts were all streamed and not kept adds nothing at close", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := NewRemediation(FormatNDJSON, &buf, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep := goldenPlan()
		for i := range rep.Accounts {
			if err := w.WriteAccount(&rep.Accounts[i]); err != nil {
				t.Fatal(err)
			}
		}
		n := buf.Len()
		rep.Accounts = nil
		if err := w.Close(rep); err != nil {
			t.Fatal(err)
		}
		if buf.Len() != n {
			t.Errorf("close wrote %q", buf.String()[n:])
		}
	})
}

func TestRemediationTableRemovesControlCharacters(t *testing.T) {
	for _, r := range remediationReports {
		for _, tc := range []struct {
			name string
			o    Options
		}{
			{"piped", Options{}},
			{"on a terminal without colour", Options{Terminal: true}},
			{"on a terminal with colour, apart from its own SGR codes", Options{Terminal: true, Color: true}},
		} {
			t.Run("the "+r.name+" "+tc.name, func(t *testing.T) {
				out := string(renderRemediation(t, FormatTable, r.report(), tc.o))
				plain := ourSGR.ReplaceAllString(out, "")
				if !tc.o.Color && plain != out {
					t.Error("escape codes without colour")
				}
				if tc.o.Color && plain == out {
					t.Error("no colour on a terminal with colour on")
				}
				checkPrintable(t, plain, true)
				for _, s := range []string{"[31m", "]0;pwned", "[2J"} {
					if strings.Contains(plain, s) {
						t.Errorf("the remains of an escape sequence, %q, reached the table", s)
					}
				}
				for _, s := range []string{"=cmd|' /C calc'!A0 x yredevil<script>", "=1+2CERT", "Root/Sandbox/Evil"} {
					if !strings.Contains(plain, s) {
						t.Errorf("the hostile value's visible text, %q, is missing", s)
					}
				}
			})
		}
	}
}

func TestRemediationTableAlignsColumns(t *testing.T) {
	out := string(renderRemediation(t, FormatTable, goldenApply(), Options{}))
	_, body, _ := strings.Cut(out, "\nACCOUNT ")
	lines := strings.Split("ACCOUNT "+body, "\n")
	col := displayWidth(lines[0][:strings.Index(lines[0], "KIND")])
	checked := 0
	for _, line := range lines[1:] {
		if line == "" {
			break
		}
		if got := displayWidth(line); got < col {
			t.Fatalf("line shorter than the KIND column: %q", line)
		}
		// The KIND column starts with a kind or a dash, or is blank on a
		// line of the account's own.
		rest := []rune(line)
		w, i := 0, 0
		for ; i < len(rest) && w < col; i++ {
			w += runeWidth(rest[i])
		}
		if w != col {
			t.Errorf("no character boundary at the KIND column in %q", line)
		}
		checked++
	}
	if checked < len(goldenApply().Accounts) {
		t.Fatalf("checked %d lines, want at least one per account", checked)
	}
}

func TestRemediationTableTellsWhatItIsAndWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report func() *remediate.Report
		want   []string
		not    []string
	}{
		{"a plan says nothing changed, names the plan and says what to do next", goldenPlan, []string{
			"PLAN — nothing changed\n",
			"organization o-abc123def4, management account 111111111111, caller " + planCaller,
			"plan " + goldenDigest + ", made 2026-03-01T12:00:00Z by " + planCaller,
			"the plan deletes access-keys, signing-certificates, password, mfa; access keys used within 90 days are held",
			"Accounts: 9 (3 planned, 1 held, 1 nothing_to_do, 1 error, 2 skipped, 1 not_started)",
			"Actions: 9 (6 planned, 3 held)",
			"Credentials to delete: 6 (3 access-key, 2 signing-certificate, 1 password, 0 mfa-device)",
			"INCOMPLETE: the plan was interrupted; 1 account could not be entered or read: their root credentials are unknown; 1 account not started; 1 OU could not be listed",
			"  OU ou-ab12-cdefgh34 (Root/Restricted): its accounts not listed: AccessDeniedException: not authorized",
			"Next: review this plan, then apply it. The apply deletes only the 6 credentials it names, in 3 accounts",
			"2 access keys used recently are held: make sure nothing uses them, then plan again including recently used keys.",
			"1 MFA device is held",
			"This plan is incomplete",
		}, []string{"APPLY", "apply started"}},
		{"evidence says what was deleted, when, and what remains", goldenApply, []string{
			"APPLY — evidence of what was deleted\n",
			"caller " + applyCaller,
			"plan " + goldenDigest + ", made 2026-03-01T12:00:00Z by " + planCaller,
			"apply started 2026-03-01T13:00:00Z, finished 2026-03-01T13:02:00Z",
			"2026-03-01T13:00:10Z  request id req-akiaprod1",
			"already_absent  2026-03-01T13:00:11Z  request id req-certprod1; the deletion was retried after attempt 1 of 2",
			"failed          -                     ServiceFailure: The request processing has failed because of an unknown error. (request id req-password)",
			"new_since_plan",
			"still present after the apply: password",
			"verified after: 2 access keys, no signing certificates, password, 1 MFA device",
			"AccessDenied: =HYPERLINK(\"http://evil.example\") not authorized to perform sts:AssumeRoot (request id 4b1c6a52-0000-4000-8000-000000000555)",
			"Credentials deleted: 3 (2 access-key, 1 signing-certificate, 0 password, 0 mfa-device)",
			"INCOMPLETE: the apply was interrupted",
			"1 account failed: a deletion failed or a credential remains after verification",
			"ATTENTION: 1 credential appeared after the plan was made and was not deleted.",
			"Next: plan again to see what remains, review that plan, and apply it.",
		}, []string{"PLAN —", "Next: review this plan"}},
		{"a complete plan with nothing to delete says no apply is needed", func() *remediate.Report {
			rep := goldenPlan()
			rep.Accounts = []remediate.Account{rep.Accounts[0], rep.Accounts[3]}
			rep.Remediation.Complete, rep.Remediation.Interrupted, rep.Remediation.IncompleteReasons = true, false, []string{}
			rep.Remediation.OUsNotListed = []scan.OUFailure{}
			rep.Remediation.Counts = tally(rep)
			return rep
		}, []string{"Nothing to delete: no apply is needed."}, []string{"INCOMPLETE", "Next:", "used recently"}},
		{"complete evidence of a clean apply needs nothing more", func() *remediate.Report {
			rep := goldenApply()
			rep.Accounts = []remediate.Account{rep.Accounts[0], rep.Accounts[2]}
			rep.Remediation.Complete, rep.Remediation.Interrupted, rep.Remediation.IncompleteReasons = true, false, []string{}
			rep.Remediation.Counts = tally(rep)
			return rep
		}, []string{"Credentials deleted: 2 (1 access-key, 1 signing-certificate, 0 password, 0 mfa-device)"}, []string{"INCOMPLETE", "ATTENTION", "Next:"}},
		{"a report that does not say why it is incomplete still says so", func() *remediate.Report {
			rep := goldenApply()
			rep.Remediation.IncompleteReasons = []string{}
			return rep
		}, []string{"INCOMPLETE: the report does not say why"}, nil},
		{"counts of a newer orgscan are shown, not dropped", func() *remediate.Report {
			rep := goldenApply()
			rep.Remediation.Counts.ByOutcome["quarantined\x1b[31m"] = 2
			return rep
		}, []string{"2 quarantined"}, []string{"\x1b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(renderRemediation(t, FormatTable, tc.report(), Options{}))
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("no %q in\n%s", s, out)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out, s) {
					t.Errorf("unexpected %q", s)
				}
			}
		})
	}
}

// pkg/ knows no flags: the command line adds its own advice.
func TestRemediationOutputsNameNoFlag(t *testing.T) {
	flag := regexp.MustCompile(`(^|[\s("'\x60])--[a-z][a-z-]*`)
	for _, r := range remediationReports {
		for _, f := range RemediationFormats() {
			out := string(renderRemediation(t, f, r.report(), Options{}))
			if f == FormatHTML {
				out = styleBody.ReplaceAllString(out, "")
			}
			if m := flag.FindString(out); m != "" {
				t.Errorf("the %s in %s names the flag %q", r.name, f, m)
			}
		}
	}
}

func parseRemediationCSV(t *testing.T, out []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the csv does not parse back: %v\n%s", err, out)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], remediationCSVColumns) {
		t.Fatalf("header %q, want %q", recs[0], remediationCSVColumns)
	}
	return recs
}

func TestRemediationCSV(t *testing.T) {
	for _, r := range remediationReports {
		rep := r.report()
		out := renderRemediation(t, FormatCSV, rep, Options{})
		recs := parseRemediationCSV(t, out)
		col := func(rec []string, name string) string { return rec[slices.Index(remediationCSVColumns, name)] }
		t.Run("the "+r.name+" has a record per action and one per account without any", func(t *testing.T) {
			want := 0
			for _, a := range rep.Accounts {
				want += max(1, len(a.Actions))
			}
			if len(recs)-1 != want {
				t.Errorf("%d records, want %d", len(recs)-1, want)
			}
			var ids []string
			for _, rec := range recs[1:] {
				ids = append(ids, rec[0])
			}
			if !slices.IsSorted(ids) {
				t.Errorf("records not in account id order: %v", ids)
			}
		})
		t.Run("the "+r.name+" defuses and quotes every hostile cell", func(t *testing.T) {
			checkNoFormula(t, recs)
			checkSeparatorsQuoted(t, out, len(remediationCSVColumns))
			for _, rec := range recs {
				for _, c := range rec {
					checkPrintable(t, c, false)
				}
			}
			for _, rec := range recs[1:] {
				switch {
				case rec[0] == "333333333333" && col(rec, "kind") == remediate.KindSigningCertificate:
					for _, tc := range []struct{ got, want string }{
						{col(rec, "account_name"), "'" + Sanitize(hostileName)},
						{col(rec, "ou_path"), "Root/Sandbox/Evil"},
						{col(rec, "credential_id"), "'=1+2CERT"},
					} {
						if tc.got != tc.want {
							t.Errorf("cell %q, want %q", tc.got, tc.want)
						}
					}
				case rec[0] == "555555555555":
					if got := col(rec, "account_error"); !strings.HasPrefix(got, "'=HYPERLINK") {
						t.Errorf("account_error %q is not defused", got)
					}
				}
			}
		})
	}
	t.Run("evidence keeps values as values", func(t *testing.T) {
		recs := parseRemediationCSV(t, renderRemediation(t, FormatCSV, goldenApply(), Options{}))
		col := func(rec []string, name string) string { return rec[slices.Index(remediationCSVColumns, name)] }
		var pwd, deleted, skipped []string
		for _, rec := range recs[1:] {
			switch {
			case rec[0] == "222222222222" && col(rec, "kind") == remediate.KindPassword:
				pwd = rec
			case rec[0] == "222222222222" && col(rec, "credential_id") == "AKIAPROD1":
				deleted = rec
			case rec[0] == "111111111111":
				skipped = rec
			}
		}
		for _, tc := range []struct{ name, got, want string }{
			{"a deletion's time is RFC 3339 in UTC", col(deleted, "at"), "2026-03-01T13:00:10Z"},
			{"a deletion's request id is kept", col(deleted, "request_id"), "req-akiaprod1"},
			{"a failure's code, message and request id are kept", col(pwd, "error_code") + "|" + col(pwd, "error") + "|" + col(pwd, "error_request_id"),
				"ServiceFailure|The request processing has failed because of an unknown error.|req-password"},
			{"the password has no id", col(pwd, "credential_id"), ""},
			{"what remains is listed", col(pwd, "remaining"), "password"},
			{"the verified state after is counted", col(pwd, "after_access_keys") + "," + col(pwd, "after_signing_certificates") + "," +
				col(pwd, "after_password") + "," + col(pwd, "after_mfa_devices"), "2,0,true,1"},
			{"an account not verified has empty after cells", col(skipped, "after_access_keys") + col(skipped, "after_password"), ""},
			{"an account without actions has empty action cells", col(skipped, "kind") + col(skipped, "outcome"), ""},
			{"the mode and the plan's digest are on every record", col(skipped, "mode") + " " + col(skipped, "plan_digest"), "apply " + goldenDigest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.got != tc.want {
					t.Errorf("got %q, want %q", tc.got, tc.want)
				}
			})
		}
	})
}

// remediationTemplateTags are every element the remediation template
// writes.
var remediationTemplateTags = []string{
	"html", "head", "meta", "title", "link", "style", "body", "header", "h1", "h2", "h3", "p", "b", "time", "div",
	"strong", "section", "dl", "dt", "dd", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "span",
	"label", "input", "select", "option", "output", "footer", "script",
}

func remediationHTMLProblems(out string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !utf8.ValidString(out) {
		add("the page is not valid UTF-8")
	}
	for _, el := range []string{"<script", "<style"} {
		if n := strings.Count(strings.ToLower(out), el); n != 1 {
			add("%d %s elements, want only the page's own", n, el)
		}
	}
	problems = append(problems, markupProblems(out, remediationTemplateTags)...)
	for i, r := range out {
		if (unicode.Is(unicode.Cc, r) && r != '\n') || unicode.Is(unicode.Cf, r) {
			add("control or format character %U at byte %d", r, i)
		}
	}
	return problems
}

// hostileRemediation puts outside text everywhere AWS, an account owner
// or an OU admin could.
func hostileRemediation() *remediate.Report {
	all := strings.Join(hostileStrings, " ")
	rep := goldenApply()
	for i := range rep.Accounts {
		a := &rep.Accounts[i]
		h := hostileStrings[i%len(hostileStrings)]
		a.AccountName, a.OUPath, a.State = h+" name", "Root/"+h, h
		if a.Reason != "" {
			a.Reason = all
		}
		if a.Error != nil {
			a.Error = &remediate.Error{Code: h, Message: all, RequestID: h}
		}
		for j := range a.Actions {
			x := &a.Actions[j]
			x.ID = h + " id"
			if x.HoldDetail != "" {
				x.HoldDetail = all
			}
			if x.Note != "" {
				x.Note = all
			}
			if x.Error != nil {
				x.Error = &remediate.Error{Code: h, Message: all, RequestID: h}
			}
		}
		a.Remaining = append(a.Remaining, h)
	}
	m := &rep.Remediation
	m.OrganizationID, m.CallerARN, m.Version, m.Partition, m.CallerAccountID, m.ManagementAccountID = all, all, all, all, all, all
	m.Plan.CreatedBy, m.Options.Region = all, all
	m.Options.OUs, m.Options.Accounts, m.Options.Delete = hostileStrings, hostileStrings, hostileStrings
	m.RootAccess = scan.RootAccessState{RootCredentialsManagement: all, RootSessions: all, Reason: all}
	m.OUsNotListed = []scan.OUFailure{{ID: all, Path: all, Listing: all, ErrorCode: all, Error: all}}
	m.IncompleteReasons = append(m.IncompleteReasons, all)
	m.Counts.ByOutcome[all] = 1
	return rep
}

func TestRemediationHTML(t *testing.T) {
	t.Run("the checker catches what it guards against", func(t *testing.T) {
		clean := string(renderRemediation(t, FormatHTML, goldenApply(), Options{}))
		if p := remediationHTMLProblems(clean); len(p) > 0 {
			t.Fatalf("the page itself has problems: %v", p)
		}
		cell := `<td class="id mono">222222222222</td>`
		for _, inject := range []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, "\u202E", `<a href="javascript:x">x</a>`} {
			bad := strings.Replace(clean, cell, cell+"<td>"+inject+"</td>", 1)
			if len(remediationHTMLProblems(bad)) == 0 {
				t.Errorf("%q is not caught", inject)
			}
		}
	})
	t.Run("every value from outside is escaped and sanitized, and still shown", func(t *testing.T) {
		rep := hostileRemediation()
		out := string(renderRemediation(t, FormatHTML, rep, Options{}))
		for _, p := range remediationHTMLProblems(out) {
			t.Error(p)
		}
		for _, want := range []string{
			"&lt;script&gt;alert(1)&lt;/script&gt; name",
			"&lt;/style&gt;&lt;script&gt;alert(2)&lt;/script&gt;",
			"gnp.exeisolated",
			`data-v="&lt;script&gt;alert(1)&lt;/script&gt; name"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the page does not contain %q", want)
			}
		}
		if got := strings.Count(out, `<td class="id mono">`); got != len(rep.Accounts) {
			t.Errorf("%d account rows, want %d", got, len(rep.Accounts))
		}
	})
	for _, r := range remediationReports {
		out := string(renderRemediation(t, FormatHTML, r.report(), Options{}))
		t.Run("the "+r.name+"'s policy allows exactly its inline style and script", func(t *testing.T) {
			m := cspMeta.FindStringSubmatch(out)
			if m == nil {
				t.Fatal("no Content-Security-Policy meta tag")
			}
			csp := html.UnescapeString(m[1])
			hash := func(s string) string {
				sum := sha256.Sum256([]byte(s))
				return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
			}
			styles, scripts := styleBody.FindAllStringSubmatch(out, -1), scriptBody.FindAllStringSubmatch(out, -1)
			if len(styles) != 1 || len(scripts) != 1 {
				t.Fatalf("%d style and %d script elements, want one of each", len(styles), len(scripts))
			}
			if want := "default-src 'none'; style-src " + hash(styles[0][1]) + "; script-src " + hash(scripts[0][1]) +
				"; img-src data:; base-uri 'none'; form-action 'none'"; csp != want {
				t.Errorf("policy %q, want %q", csp, want)
			}
			if !strings.HasPrefix(styles[0][1], htmlStyle) || scripts[0][1] != htmlScript {
				t.Error("the page does not reuse the report's stylesheet and script")
			}
			if strings.Contains(out, " style=") {
				t.Error("an inline style attribute would be blocked by the policy")
			}
		})
		t.Run("the "+r.name+" reads without script and does not depend on the clock", func(t *testing.T) {
			_, body, _ := strings.Cut(out, "<body>")
			body = scriptBody.ReplaceAllString(body, "")
			for _, a := range r.report().Accounts {
				if !strings.Contains(body, ">"+a.AccountID+"<") {
					t.Errorf("account %s is not in the markup", a.AccountID)
				}
			}
			later := string(renderRemediation(t, FormatHTML, r.report(), Options{Now: func() time.Time { return t0.Add(9000 * time.Hour) }}))
			if later != out {
				t.Error("the page changed with the writer's clock")
			}
		})
	}
	t.Run("the banner says what the document is and whether it needs a second look", func(t *testing.T) {
		complete := func(rep *remediate.Report, keep ...int) *remediate.Report {
			var accounts []remediate.Account
			for _, i := range keep {
				accounts = append(accounts, rep.Accounts[i])
			}
			rep.Accounts = accounts
			rep.Remediation.Complete, rep.Remediation.Interrupted, rep.Remediation.IncompleteReasons = true, false, []string{}
			rep.Remediation.OUsNotListed = []scan.OUFailure{}
			rep.Remediation.Counts = tally(rep)
			return rep
		}
		for _, tc := range []struct {
			name string
			rep  *remediate.Report
			want string
		}{
			{"an incomplete plan warns", goldenPlan(), `<div class="banner warn" role="alert"><strong>Incomplete: the plan was interrupted.</strong>`},
			{"a complete plan informs", complete(goldenPlan(), 0, 2, 3),
				`<div class="banner info" role="status"><strong>Plan: nothing was changed. 2 credentials to delete in 1 account.</strong>`},
			{"incomplete evidence warns", goldenApply(), `<div class="banner warn" role="alert"><strong>Incomplete: the apply was interrupted`},
			{"complete evidence of a clean apply reassures", complete(goldenApply(), 0, 2),
				`<div class="banner ok" role="status"><strong>Applied: 2 credentials deleted; every planned deletion done and verified.</strong>`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if out := string(renderRemediation(t, FormatHTML, tc.rep, Options{})); !strings.Contains(out, tc.want) {
					t.Errorf("no %q", tc.want)
				}
			})
		}
	})
}

func TestNewRemediation(t *testing.T) {
	t.Run("every format has a writer", func(t *testing.T) {
		for _, f := range RemediationFormats() {
			if _, err := NewRemediation(f, &bytes.Buffer{}, Options{}); err != nil {
				t.Errorf("NewRemediation(%q): %v", f, err)
			}
		}
	})
	t.Run("an unknown format is refused with the list of formats", func(t *testing.T) {
		_, err := NewRemediation("xml", &bytes.Buffer{}, Options{})
		if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "table, csv, json, ndjson, html") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("no destination is refused", func(t *testing.T) {
		if _, err := NewRemediation(FormatJSON, nil, Options{}); err == nil {
			t.Error("accepted")
		}
	})
	for _, f := range RemediationFormats() {
		t.Run("the "+f+" writer closes once and wants a report", func(t *testing.T) {
			w, err := NewRemediation(f, &bytes.Buffer{}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(nil); err == nil {
				t.Error("a nil report was accepted")
			}
			if err := w.Close(goldenPlan()); err == nil {
				t.Error("a second close was accepted")
			}
		})
	}
}

// remediationHarness filters by status and by text, then sorts by the
// first column, recording the account ids shown after each step.
const remediationHarness = `(function () {
  var shown = function () {
    return Array.prototype.filter.call(document.querySelectorAll("#accounts tbody tr"), function (r) { return !r.hidden; })
      .map(function (r) { return r.cells[0].textContent; }).join(",");
  };
  var text = document.getElementById("filter-text"), type = document.getElementById("filter-type");
  var out = [];
  type.value = "status-failed";
  type.dispatchEvent(new Event("change"));
  out.push("failed=" + shown());
  type.value = "*gap";
  type.dispatchEvent(new Event("change"));
  out.push("gap=" + shown());
  type.value = "";
  type.dispatchEvent(new Event("change"));
  text.value = "AKIANEW3";
  text.dispatchEvent(new Event("input"));
  out.push("text=" + shown() + ";" + document.getElementById("filter-count").textContent);
  text.value = "";
  text.dispatchEvent(new Event("input"));
  var first = document.querySelector("#accounts thead th button");
  first.click();
  first.click();
  out.push("desc=" + shown());
  var pre = document.createElement("pre");
  pre.id = "harness";
  pre.textContent = out.join("\n");
  document.body.appendChild(pre);
})();`

func TestRemediationHTMLInARealBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	rep := goldenApply()
	page := string(renderRemediation(t, FormatHTML, rep, Options{}))

	t.Run("the evidence renders, runs the report's script and logs nothing", func(t *testing.T) {
		t.Parallel()
		run := openInBrowser(t, chromium, page, 1400, 1700)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		count := fmt.Sprintf("%d of %d accounts shown", len(rep.Accounts), len(rep.Accounts))
		for _, want := range []string{`<html lang="en" class="js">`, count, `<th><button type="button"`} {
			if !strings.Contains(run.dom, want) {
				t.Errorf("the page after scripts does not contain %q", want)
			}
		}
		if _, _, red := inkStats(run.screen); !red {
			t.Error("the screenshot has no red: the stylesheet was not applied")
		}
	})

	t.Run("a hostile report stays text in the browser", func(t *testing.T) {
		t.Parallel()
		run := openInBrowser(t, chromium, string(renderRemediation(t, FormatHTML, hostileRemediation(), Options{})), 0, 0)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		for _, p := range markupProblems(run.dom, append(slices.Clone(remediationTemplateTags), "button")) {
			t.Error(p)
		}
		if n := strings.Count(strings.ToLower(run.dom), "<script"); n != 1 {
			t.Errorf("%d script elements in the page, want 1", n)
		}
	})

	t.Run("filtering by status, by attention and by text, and sorting, work", func(t *testing.T) {
		t.Parallel()
		harnessCSP := strings.Replace(remediationCSP, "script-src '"+cspHash(htmlScript)+"'",
			"script-src '"+cspHash(htmlScript)+"' '"+cspHash(remediationHarness)+"'", 1)
		withHarness := cspMeta.ReplaceAllLiteralString(page,
			`<meta http-equiv="Content-Security-Policy" content="`+html.EscapeString(harnessCSP)+`">`)
		withHarness = strings.Replace(withHarness, "</body>", "<script>"+remediationHarness+"</script></body>", 1)
		run := openInBrowser(t, chromium, withHarness, 0, 0)
		if errs := pageErrors(run.log); len(errs) > 0 {
			t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
		}
		_, got, ok := strings.Cut(run.dom, `<pre id="harness">`)
		if !ok {
			t.Fatalf("the harness wrote nothing; log:\n%s", run.log)
		}
		got, _, _ = strings.Cut(got, "</pre>")
		want := strings.Join([]string{
			"failed=222222222222",
			"gap=222222222222,555555555555,777777777777,888888888888,999999999999",
			"text=222222222222;1 of 9 accounts shown",
			"desc=999999999999,888888888888,777777777777,666666666666,555555555555,444444444444,333333333333,222222222222,111111111111",
		}, "\n")
		if got != want {
			t.Errorf("the table showed:\n%s\nwant:\n%s", got, want)
		}
	})
}

// FuzzRemediationWriters puts outside text where AWS, an account owner or
// an OU admin could, and checks each format's promise: the table prints
// no control, the CSV parses back with no live formula, the page is the
// template's markup around text, and the JSON validates.
func FuzzRemediationWriters(f *testing.F) {
	addSeeds(f)
	schemas := schematest.Compile(f)
	f.Fuzz(func(t *testing.T, name, detail string) {
		rep := goldenApply()
		a := &rep.Accounts[1]
		a.AccountName, a.OUPath, a.Reason = name, "Root/"+detail, detail
		a.Actions[1].HoldDetail = detail
		a.Actions[3].Error = &remediate.Error{Code: "Code" + name, Message: detail, RequestID: "req" + name}
		a.Remaining = []string{name}
		rep.Remediation.CallerARN = name

		table := ourSGR.ReplaceAllString(string(renderRemediation(t, FormatTable, rep, Options{Terminal: true, Color: true})), "")
		checkPrintable(t, table, true)

		out := renderRemediation(t, FormatCSV, rep, Options{})
		recs := parseRemediationCSV(t, out)
		checkNoFormula(t, recs)
		checkSeparatorsQuoted(t, out, len(remediationCSVColumns))

		page := string(renderRemediation(t, FormatHTML, rep, Options{}))
		if p := remediationHTMLProblems(page); len(p) > 0 {
			t.Fatalf("%v", p)
		}
		if utf8.ValidString(name) && utf8.ValidString(detail) {
			// encoding/json writes invalid UTF-8 as U+FFFD, which is valid.
			if err := schematest.Validate(t, schemas.Remediation, renderRemediation(t, FormatJSON, rep, Options{})); err != nil {
				t.Fatalf("the json does not validate: %v", err)
			}
		}
	})
}
