package scan_test

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/awssim/faults"
	"github.com/orgscan/orgscan/pkg/scan"
)

// ownersWorld is handWorld with tags and security contacts: prod has more
// tags than one ListTagsForResource page holds, dev has none, and prod and
// untrusting have no security contact.
func ownersWorld() *awssim.Fixture {
	fx := handWorld()
	fx.Organization.TrustedAccess = []string{awssim.AccountServicePrincipal}
	fx.Organization.OUs[0].Tags = map[string]string{"owner": "the-ou-not-its-accounts"}
	contact := &awssim.Contact{Name: "Sec Ops", Email: "secops@example.com", Title: "Security", Phone: "+1-206-555-0100"}
	for i := range fx.Accounts {
		a := &fx.Accounts[i]
		switch a.Name {
		case "prod":
			a.Tags = manyTags(25)
		case "dev":
		default:
			a.Tags = map[string]string{"owner": a.Name + "@example.com", "team": a.Name}
		}
		if a.Name != "prod" && a.Name != "untrusting" {
			a.AlternateContacts.Security = contact
		}
	}
	return fx
}

func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("key-%02d", i)] = fmt.Sprintf("value-%02d", i)
	}
	return tags
}

func TestTagsAreReadBesideTheScan(t *testing.T) {
	tests := []struct {
		name string
		opts awssim.Options
		deny []awssim.DenyStatement
		// timeout is the account time limit; the default when zero.
		timeout time.Duration
		// denied are the accounts whose tags cannot be read, with the code
		// their row gives; every other scanned account has its tags.
		denied map[string]string
		// fix is in the message of every failed lookup.
		fix string
	}{
		{name: "every account entered or tried has its own tags, a second page included"},
		{
			name: "a throttled ListTagsForResource is retried until it answers",
			opts: awssim.Options{FaultRules: []faults.Rule{{Service: "organizations", Op: "ListTagsForResource", Kind: faults.Error,
				Status: http.StatusBadRequest, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request", Times: 4}}},
		},
		{
			name: "tags paced under the Organizations quota that discovery shares are all read",
			opts: awssim.Options{OrgsRate: 15, OrgsBurst: 2},
		},
		{
			name: "a ListTagsForResource throttled past the account's time limit is a TagsError, never a lost row",
			opts: awssim.Options{FaultRules: []faults.Rule{{Service: "organizations", Op: "ListTagsForResource", Kind: faults.Error,
				Status: http.StatusBadRequest, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request"}}},
			timeout: 1500 * time.Millisecond,
			denied:  map[string]string{mgmtID: scan.CodeTimeout, "222222222222": scan.CodeTimeout, "333333333333": scan.CodeTimeout, "444444444444": scan.CodeTimeout, "666666666666": scan.CodeTimeout, "777777777777": scan.CodeTimeout},
		},
		{
			name:   "a Deny on one account's tags is that row's TagsError, naming the permission",
			deny:   []awssim.DenyStatement{{Actions: []string{"organizations:ListTagsForResource"}, Resources: []string{"arn:aws:organizations::" + mgmtID + ":account/o-handworld1/333333333333"}}},
			denied: map[string]string{"333333333333": scan.CodeAccessDenied},
			fix:    "allow organizations:ListTagsForResource on the account",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := ownersWorld()
			fx.Credentials[0].Deny = tc.deny
			w := newWorld(t, fx, tc.opts)
			cfg := w.config()
			cfg.Tags = w.Organizations
			if tc.timeout > 0 {
				cfg.AccountTimeout = tc.timeout
			}
			res := w.run(t, cfg)
			plain := rowsByID(newWorld(t, ownersWorld(), awssim.Options{}).run(t, w.config()).Rows)
			rows := rowsByID(res.Rows)
			if len(rows) != len(fx.Accounts) {
				t.Fatalf("%d rows for %d accounts", len(rows), len(fx.Accounts))
			}
			for _, a := range fx.Accounts {
				r := rows[a.ID]
				// The lookup leaves the row's own scan alone.
				if want := plain[a.ID]; r.Status != want.Status || fmt.Sprint(r.Findings) != fmt.Sprint(want.Findings) {
					t.Errorf("%s: status %s findings %v, want %s %v as without tags", a.Name, r.Status, r.Findings, want.Status, want.Findings)
				}
				code, failed := tc.denied[a.ID]
				switch {
				case r.Status == scan.StatusSkipped:
					if r.Tags != nil || r.TagsError != nil {
						t.Errorf("%s is not entered, yet its tags were read: %v %v", a.Name, r.Tags, r.TagsError)
					}
				case failed:
					if r.Tags != nil || r.TagsError == nil || r.TagsError.Code != code || !strings.Contains(r.TagsError.Message, tc.fix) {
						t.Errorf("%s: tags %v, error %+v; want a %s error naming %q", a.Name, r.Tags, r.TagsError, code, tc.fix)
					}
				default:
					want := a.Tags
					if want == nil {
						want = map[string]string{}
					}
					if r.Tags == nil || !maps.Equal(r.Tags, want) || r.TagsError != nil {
						t.Errorf("%s: tags %v (error %v), want %v", a.Name, r.Tags, r.TagsError, want)
					}
				}
			}
			rep := scan.NewReport(scan.Meta{}, res, time.Now())
			if rep.Scan.Counts.TagsErrors != len(tc.denied) {
				t.Errorf("counts.tags_errors = %d, want %d", rep.Scan.Counts.TagsErrors, len(tc.denied))
			}
			// Failed lookups are said in their rows; the root credentials
			// of every account are there all the same.
			if want := plainComplete(plain); rep.Scan.Complete != want {
				t.Errorf("complete = %v (%v), want %v as without tags", rep.Scan.Complete, rep.Scan.IncompleteReasons, want)
			}
		})
	}
}

// plainComplete tells whether a scan with these rows is complete.
func plainComplete(rows map[string]scan.Row) bool {
	var res scan.Result
	for _, r := range rows {
		res.Rows = append(res.Rows, r)
	}
	return scan.NewReport(scan.Meta{}, &res, time.Now()).Scan.Complete
}

func TestAnAccountWithMoreTagsThanAPageIsListedInPages(t *testing.T) {
	w := newWorld(t, ownersWorld(), awssim.Options{})
	cfg := w.config()
	cfg.Tags = w.Organizations
	cfg.Filter.Accounts = []string{"333333333333"}
	rows := w.run(t, cfg).Rows
	if len(rows) != 1 || len(rows[0].Tags) != 25 {
		t.Fatalf("rows %+v, want one with 25 tags", rows)
	}
	// The simulator's page holds 20 tags (a guess: AWS documents none), so
	// 25 tags take two calls.
	if n := w.Server.Stats().Operations["organizations:ListTagsForResource"].Requests; n != 2 {
		t.Errorf("%d ListTagsForResource calls for 25 tags, want 2", n)
	}
}

func TestSecurityContacts(t *testing.T) {
	contact := &scan.Contact{Name: "Sec Ops", Email: "secops@example.com", Title: "Security", Phone: "+1-206-555-0100"}
	tests := []struct {
		name    string
		edit    func(fx *awssim.Fixture)
		methods bool // the role alone: invited (no role) is an error row
		// want is each account's contact; nil with no error is "none".
		want map[string]*scan.Contact
		// failed are the accounts whose contact could not be read, with
		// what the error must name.
		failed map[string]string
	}{
		{
			name: "contacts are read, a missing one is the finding, the management account's without AccountId",
			want: map[string]*scan.Contact{mgmtID: contact, "222222222222": contact, "333333333333": nil, "444444444444": contact, "666666666666": contact, "777777777777": nil},
		},
		{
			name: "without trusted access every member's contact is a ContactError naming what to enable; the management account reads its own",
			edit: func(fx *awssim.Fixture) { fx.Organization.TrustedAccess = nil },
			want: map[string]*scan.Contact{mgmtID: contact},
			failed: map[string]string{
				"222222222222": "enable trusted access for AWS Account Management", "333333333333": "account.amazonaws.com",
				"444444444444": "Account Management's delegated administrator", "666666666666": "enable trusted access", "777777777777": "enable trusted access",
			},
		},
		{
			name: "a Deny on account:GetAlternateContact for one account is that row's ContactError",
			edit: func(fx *awssim.Fixture) {
				fx.Credentials[0].Deny = []awssim.DenyStatement{{Actions: []string{"account:GetAlternateContact"}, Resources: []string{"arn:aws:account::" + mgmtID + ":account/o-handworld1/222222222222"}}}
			},
			want:   map[string]*scan.Contact{mgmtID: contact, "333333333333": nil, "444444444444": contact},
			failed: map[string]string{"222222222222": "allow account:GetAlternateContact"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := ownersWorld()
			if tc.edit != nil {
				tc.edit(fx)
			}
			w := newWorld(t, fx, awssim.Options{})
			cfg := w.config()
			cfg.Contacts = w.Account
			res := w.run(t, cfg)
			rows := rowsByID(res.Rows)
			if len(rows) != len(fx.Accounts) {
				t.Fatalf("%d rows for %d accounts: a lookup lost a row", len(rows), len(fx.Accounts))
			}
			for id, want := range tc.want {
				r := rows[id]
				hasFinding := strings.Contains(fmt.Sprint(r.Findings), scan.FindingNoSecurityContact)
				switch {
				case r.ContactError != nil:
					t.Errorf("%s: contact error %+v", id, r.ContactError)
				case want == nil && (r.SecurityContact != nil || !hasFinding):
					t.Errorf("%s: contact %+v, findings %v; want none and the finding", id, r.SecurityContact, r.Findings)
				case want != nil && (r.SecurityContact == nil || *r.SecurityContact != *want || hasFinding):
					t.Errorf("%s: contact %+v, findings %v; want %+v", id, r.SecurityContact, r.Findings, want)
				}
				if !r.ContactRead() {
					t.Errorf("%s: the row does not say its contact was read", id)
				}
			}
			for id, fix := range tc.failed {
				r := rows[id]
				if r.SecurityContact != nil || r.ContactError == nil || r.ContactError.Code != scan.CodeAccessDenied || !strings.Contains(r.ContactError.Message, fix) {
					t.Errorf("%s: contact %+v, error %+v; want AccessDenied naming %q", id, r.SecurityContact, r.ContactError, fix)
				}
				if strings.Contains(fmt.Sprint(r.Findings), scan.FindingNoSecurityContact) {
					t.Errorf("%s: a contact that could not be read is reported missing", id)
				}
			}
			suspended := rows["555555555555"]
			if suspended.Status != scan.StatusSkipped || suspended.ContactRead() {
				t.Errorf("the suspended account is %s, contact read %v: a skipped account is not looked up", suspended.Status, suspended.ContactRead())
			}
			rep := scan.NewReport(scan.Meta{}, res, time.Now())
			if rep.Scan.Counts.ContactErrors != len(tc.failed) {
				t.Errorf("counts.security_contact_errors = %d, want %d", rep.Scan.Counts.ContactErrors, len(tc.failed))
			}
		})
	}
}

// TestAContactIsReadForAnAccountThatCouldNotBeEntered: the contact comes
// from the caller's own account, so an account whose role is missing still
// has it, and the finding when it has none.
func TestAContactIsReadForAnAccountThatCouldNotBeEntered(t *testing.T) {
	fx := ownersWorld()
	for i := range fx.Accounts {
		if fx.Accounts[i].Name == "invited" {
			fx.Accounts[i].AlternateContacts.Security = nil
		}
	}
	w := newWorld(t, fx, awssim.Options{})
	cfg := w.config()
	cfg.Contacts, cfg.Tags = w.Account, w.Organizations
	r := rowsByID(w.run(t, cfg).Rows)["666666666666"]
	if r.Status != scan.StatusError {
		t.Fatalf("invited is %s, want error (no role)", r.Status)
	}
	if r.SecurityContact != nil || r.ContactError != nil || fmt.Sprint(r.Findings) != "["+scan.FindingNoSecurityContact+"]" {
		t.Errorf("contact %+v (%v), findings %v; want none and the finding alone", r.SecurityContact, r.ContactError, r.Findings)
	}
	if r.Tags["owner"] != "invited@example.com" {
		t.Errorf("tags %v", r.Tags)
	}
}

// TestTagsOfALargeOrganizationUnderASmallQuotaAreAllRead: the tag calls of
// a whole organization take far longer than an account's time limit under
// a small Organizations quota. The time an account waits for its turn is
// the quota's, not the account's: every account has its tags.
func TestTagsOfALargeOrganizationUnderASmallQuotaAreAllRead(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 17, Accounts: 150})
	for i := range fx.Accounts {
		fx.Accounts[i].Tags = map[string]string{"owner": fmt.Sprintf("team-%d", i%7)}
	}
	// The tag calls at 25/s outlast the time limit more than twice over,
	// while one call's wait for its turn in the pace stays well inside it
	// on a loaded machine.
	w := newWorld(t, fx, awssim.Options{OrgsRate: 25, OrgsBurst: 1})
	cfg := w.config()
	cfg.Methods = []scan.Method{w.rootMethod()}
	cfg.Tags = w.Organizations
	cfg.Concurrency = 48
	cfg.AccountTimeout = 5 * time.Second / 2
	start := time.Now()
	res := w.run(t, cfg)
	if elapsed := time.Since(start); elapsed < 2*cfg.AccountTimeout {
		t.Fatalf("the scan took %v: the quota did not make the tag calls outlast an account's time limit, so this proves nothing", elapsed)
	}
	for _, r := range res.Rows {
		if r.Status == scan.StatusSkipped {
			continue
		}
		if r.TagsError != nil || r.Tags["owner"] == "" {
			t.Errorf("%s (%s): tags %v, error %+v", r.AccountID, r.Status, r.Tags, r.TagsError)
		}
	}
}
