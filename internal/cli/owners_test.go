package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema/schematest"
)

// The demo world's accounts that issue 17's acceptance names.
const (
	demoManagement      = "210987654321"
	demoLegacyBilling   = "548201937465" // its tags are denied to the demo's caller
	demoAcquired        = "559673204818" // it has no security contact
	demoSecurityTooling = "318460295731" // the organization's delegated administrator
)

// ownersDoc is what these tests read of a JSON report.
type ownersDoc struct {
	Scan struct {
		Complete bool `json:"complete"`
		Options  struct {
			Tags     bool `json:"tags"`
			Contacts bool `json:"contacts"`
		} `json:"options"`
		Counts scan.Counts `json:"counts"`
	} `json:"scan"`
	Accounts []scan.Row `json:"accounts"`
}

func parseOwnersDoc(t *testing.T, out string) (ownersDoc, map[string]scan.Row) {
	t.Helper()
	var doc ownersDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not a JSON report: %v\n%.400s", err, out)
	}
	rows := map[string]scan.Row{}
	for _, r := range doc.Accounts {
		rows[r.AccountID] = r
	}
	return doc, rows
}

// runDemo runs `orgscan demo` in process.
func runDemo(t *testing.T, args ...string) result {
	t.Helper()
	st, out, errOut := Test()
	env := runEnv{streams: st, now: func() time.Time { return fixedNow }, version: "test", fallbackDir: t.TempDir()}
	code := run(context.Background(), env, append([]string{"demo"}, args...))
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// TestDemoShowsOwners is issue 17's acceptance: the demo with --tags and
// --contacts shows every account's tags and security contact; the account
// without a contact has the finding, legacy-billing says why its tags are
// missing and keeps its findings, and no row is lost.
func TestDemoShowsOwners(t *testing.T) {
	plain := runDemo(t, "-q", "-f", "json")
	res := runDemo(t, "--tags", "--contacts", "-f", "json")
	if res.code != exitOK || plain.code != exitOK {
		t.Fatalf("exit %d (%d without owners), want %d: a failed lookup leaves the report complete\n%s", res.code, plain.code, exitOK, res.stderr)
	}
	schemas := schematest.Compile(t)
	if err := schematest.Validate(t, schemas.Report, []byte(res.stdout)); err != nil {
		t.Fatalf("the report does not validate: %v", err)
	}
	doc, rows := parseOwnersDoc(t, res.stdout)
	_, before := parseOwnersDoc(t, plain.stdout)
	if len(rows) != len(before) || !doc.Scan.Complete || !doc.Scan.Options.Tags || !doc.Scan.Options.Contacts {
		t.Fatalf("%d rows (%d without owners), complete %v, options %+v", len(rows), len(before), doc.Scan.Complete, doc.Scan.Options)
	}
	for id, r := range rows {
		plainFindings := before[id].Findings
		if id == demoAcquired {
			plainFindings = append(slices.Clone(plainFindings), scan.FindingNoSecurityContact)
		}
		t.Run(r.AccountName, func(t *testing.T) {
			if r.Status != before[id].Status || !slices.Equal(r.Findings, plainFindings) {
				t.Errorf("status %s findings %v; without owners %s %v", r.Status, r.Findings, before[id].Status, before[id].Findings)
			}
			switch {
			case r.Status == scan.StatusSkipped:
				if r.Tags != nil || r.ContactRead() {
					t.Errorf("a skipped account was looked up: %v %+v", r.Tags, r.SecurityContact)
				}
				return
			case id == demoLegacyBilling:
				if r.Tags != nil || r.TagsError == nil || r.TagsError.Code != scan.CodeAccessDenied || !strings.Contains(r.TagsError.Message, "organizations:ListTagsForResource") {
					t.Errorf("tags %v, error %+v; want AccessDenied naming the permission", r.Tags, r.TagsError)
				}
			case r.Tags["owner"] == "" || r.Tags["team"] == "" || r.TagsError != nil:
				t.Errorf("tags %v, error %+v", r.Tags, r.TagsError)
			}
			switch {
			case r.ContactError != nil:
				t.Errorf("contact error %+v", r.ContactError)
			case id == demoAcquired:
				if r.SecurityContact != nil {
					t.Errorf("contact %+v, want none", r.SecurityContact)
				}
			case r.SecurityContact == nil || r.SecurityContact.Email == "":
				t.Errorf("no contact")
			}
		})
	}
	// JSON says "none" with null, not by leaving the key out.
	if !strings.Contains(res.stdout, `"security_contact": null`) {
		t.Error(`the account without a contact has no "security_contact": null`)
	}
	if doc.Scan.Counts.TagsErrors != 1 || doc.Scan.Counts.ContactErrors != 0 {
		t.Errorf("counts %+v, want one tags error", doc.Scan.Counts)
	}
	for _, want := range []string{"tags_errors=1", "tags could not be read"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
}

// TestDemoTableShowsTagColumnsAndContacts: the table shows the tags asked
// for and the contact's name and e-mail, never its phone number.
func TestDemoTableShowsTagColumnsAndContacts(t *testing.T) {
	res := runDemo(t, "-q", "--tag-columns", "owner,team", "--contacts")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(res.stdout, "\n")
	line := func(name string) string {
		for _, l := range lines {
			if strings.Contains(l, name) {
				return l
			}
		}
		t.Fatalf("no line for %s:\n%s", name, res.stdout)
		return ""
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"the header has the tag and contact columns", strings.Contains(lines[0], "OWNER") && strings.Contains(lines[0], "TEAM") && strings.Contains(lines[0], "SECURITY CONTACT")},
		{"--tag-columns implies --tags", strings.Contains(line("payments-prod"), "payments@acme.example")},
		{"a contact shows name and e-mail", strings.Contains(line("payments-prod"), "Dana Whitfield <security-oncall@acme.example>")},
		{"denied tags show ? and why", strings.Contains(line("legacy-billing"), " ? ") && strings.Contains(line("legacy-billing"), "list the account's tags")},
		{"the missing contact is a finding", strings.Contains(line("acquired-analytics"), scan.FindingNoSecurityContact)},
		{"no phone number", !strings.Contains(res.stdout, "555-0142")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("table:\n%s", res.stdout)
			}
		})
	}
}

// TestContactsByWhoRunsTheScan: Account Management answers the management
// account and its delegated administrator, with trusted access; a refusal
// is each row's ContactError naming what to enable, never a lost row or
// an incomplete report.
func TestContactsByWhoRunsTheScan(t *testing.T) {
	daCred := awssim.StaticCredential{AccessKeyID: "AKIACLIDELEGATEDSEC1", SecretAccessKey: "delegatedsecretdelegatedsecretdelegated1", AccountID: demoSecurityTooling, UserName: "security-admin"}
	tests := []struct {
		name    string
		edit    func(fx *awssim.Fixture)
		asDA    bool
		failed  map[string]string // account -> what its error names; "*": every other but the caller
		missing []string          // accounts read as having no contact
	}{
		{
			name:    "the management account reads every contact, its own without AccountId",
			missing: []string{demoAcquired},
		},
		{
			name:    "without trusted access every member's contact is an error naming what to enable",
			edit:    func(fx *awssim.Fixture) { fx.Organization.TrustedAccess = nil },
			failed:  map[string]string{"*": "enable trusted access for AWS Account Management (account.amazonaws.com)"},
			missing: []string{},
		},
		{
			name: "Account Management's delegated administrator reads the members', not the management account's",
			edit: func(fx *awssim.Fixture) {
				fx.Organization.DelegatedAdministratorsByService = map[string][]string{awssim.AccountServicePrincipal: {demoSecurityTooling}}
			},
			asDA:    true,
			failed:  map[string]string{demoManagement: "only the management account can read its own"},
			missing: []string{demoAcquired},
		},
		{
			name: "another service's delegated administrator is refused, the error naming who may read",
			asDA: true,
			failed: map[string]string{
				"*":            "run from the management account or Account Management's delegated administrator",
				demoManagement: "only the management account can read its own",
			},
			missing: []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := demoWorld(t)
			fx.Credentials = append(fx.Credentials, daCred)
			if tc.edit != nil {
				tc.edit(fx)
			}
			s := startSim(t, fx, awssim.Options{})
			args := []string{"scan", "-q", "-f", "json", "--contacts", "--access", "assume-role"}
			var res result
			if tc.asDA {
				res = s.runAs(t, daCred, args...)
			} else {
				res = s.run(t, args...)
			}
			doc, rows := parseOwnersDoc(t, res.stdout)
			if len(rows) != len(fx.Accounts) {
				t.Fatalf("exit %d, %d rows for %d accounts: %s", res.code, len(rows), len(fx.Accounts), res.stderr)
			}
			caller := demoManagement
			if tc.asDA {
				caller = demoSecurityTooling
			}
			failures := 0
			for id, r := range rows {
				if r.Status == scan.StatusSkipped {
					continue
				}
				fix, failed := tc.failed[id]
				if all, ok := tc.failed["*"]; ok && !failed && id != caller {
					fix, failed = all, true
				}
				missing := slices.Contains(tc.missing, id) || tc.missing == nil
				switch {
				case failed:
					failures++
					if r.ContactError == nil || r.ContactError.Code != scan.CodeAccessDenied || !strings.Contains(r.ContactError.Message, fix) {
						t.Errorf("%s: contact %+v, error %+v; want AccessDenied naming %q", r.AccountName, r.SecurityContact, r.ContactError, fix)
					}
					if slices.Contains(r.Findings, scan.FindingNoSecurityContact) {
						t.Errorf("%s: a contact that could not be read is reported missing", r.AccountName)
					}
				case slices.Contains(tc.missing, id):
					if r.SecurityContact != nil || r.ContactError != nil || !slices.Contains(r.Findings, scan.FindingNoSecurityContact) {
						t.Errorf("%s: contact %+v (%+v), findings %v; want none, and the finding", r.AccountName, r.SecurityContact, r.ContactError, r.Findings)
					}
				case !missing && (r.SecurityContact == nil || r.ContactError != nil):
					t.Errorf("%s: contact %+v, error %+v", r.AccountName, r.SecurityContact, r.ContactError)
				}
			}
			if doc.Scan.Counts.ContactErrors != failures {
				t.Errorf("counts.security_contact_errors = %d, want %d", doc.Scan.Counts.ContactErrors, failures)
			}
			// Contacts that could not be read do not make the report
			// incomplete; whatever else does is the scan's own business.
			if failures > 0 && !strings.Contains(res.stderr, "security contacts could not be read") {
				t.Errorf("stderr does not say contacts could not be read:\n%s", res.stderr)
			}
		})
	}
}

// TestTagColumnsInCSVThroughTheWire: a tag value an account's owner set to
// a formula, with controls, is defused in the CSV exactly as an account
// name is, and one whose tags span two pages has them all.
func TestTagColumnsInCSVThroughTheWire(t *testing.T) {
	const hostile = "=cmd|' /C calc'!A0\x1b[31mred\u202Eevil"
	fx := demoWorld(t)
	for i := range fx.Accounts {
		a := &fx.Accounts[i]
		switch a.ID {
		case "402947163850":
			a.Name = hostile
			a.Tags["owner"] = hostile
			a.Tags["team"] = "@SUM(1+1)\tx"
		case "520384716293":
			for k := range 24 {
				a.Tags["extra-"+string(rune('a'+k))] = "v"
			}
		}
	}
	s := startSim(t, fx, awssim.Options{})
	res := s.run(t, "scan", "-q", "-f", "csv", "--tag-columns", "owner,team,extra-x")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("the csv does not parse: %v", err)
	}
	col := func(name string) int {
		i := slices.Index(recs[0], name)
		if i < 0 {
			t.Fatalf("no column %s in %q", name, recs[0])
		}
		return i
	}
	byID := map[string][]string{}
	for _, r := range recs[1:] {
		byID[r[col("account_id")]] = r
	}
	network := byID["402947163850"]
	if got, name := network[col("tag:owner")], network[col("account_name")]; got != name || !strings.HasPrefix(got, "'=") || strings.ContainsAny(got, "\x1b\u202e") {
		t.Errorf("owner cell %q, account name cell %q: want both defused alike", got, name)
	}
	if got := network[col("tag:team")]; !strings.HasPrefix(got, "'@") || strings.Contains(got, "\t") {
		t.Errorf("team cell %q", got)
	}
	if got := byID["520384716293"][col("tag:extra-x")]; got != "v" {
		t.Errorf("a tag from the second page: %q", got)
	}
	if got := byID[demoLegacyBilling][col("tags_error_code")]; got != scan.CodeAccessDenied {
		t.Errorf("legacy-billing's tags_error_code %q", got)
	}
}

func TestOwnerFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		tags     bool
		contacts bool
		columns  []string
	}{
		{"--tags alone reads tags", []string{"--tags"}, "", true, false, nil},
		{"--tag-columns implies --tags", []string{"--tag-columns", "owner, team", "--tag-columns", "cost-center"}, "", true, false, []string{"owner", "team", "cost-center"}},
		{"--contacts alone reads contacts", []string{"--contacts"}, "", false, true, nil},
		{"a tag key AWS would refuse is bad input", []string{"--tag-columns", "owner*"}, "--tag-columns: tag key", false, false, nil},
		{"a key given twice is bad input", []string{"--tag-columns", "owner,team,owner"}, `--tag-columns names "owner" twice`, false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *scanOptions
			cmd := newCmdScan(&runEnv{}, func(o *scanOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(new(bytes.Buffer))
			cmd.SetErr(new(bytes.Buffer))
			err := cmd.Execute()
			if tc.wantErr != "" {
				var ue *usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ue) {
					t.Fatalf("error %v, want a usage error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Tags != tc.tags || got.Contacts != tc.contacts || !slices.Equal(got.TagColumns, tc.columns) {
				t.Errorf("tags %v contacts %v columns %q", got.Tags, got.Contacts, got.TagColumns)
			}
		})
	}
}

// TestREADMEJQRecipeGroupsFindingsByOwner runs the README's recipe, with
// the jq found on the PATH, on the demo's report: one group per owner tag,
// and legacy-billing, whose tags are denied, in a group that says so.
func TestREADMEJQRecipeGroupsFindingsByOwner(t *testing.T) {
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const lead = "orgscan scan --tags -f json | jq '"
	i := bytes.Index(readme, []byte(lead))
	if i < 0 {
		t.Fatalf("README has no recipe starting %q", lead)
	}
	program, _, ok := strings.Cut(string(readme[i+len(lead):]), "'")
	if !ok {
		t.Fatal("the recipe's program does not end")
	}
	res := runDemo(t, "-q", "--tags", "-f", "json")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	cmd := exec.Command(jq, program)
	cmd.Stdin = strings.NewReader(res.stdout)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq %s: %v", program, err)
	}
	var groups []struct {
		Owner    string `json:"owner"`
		Accounts []struct {
			AccountID string   `json:"account_id"`
			Findings  []string `json:"findings"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(out, &groups); err != nil {
		t.Fatalf("the recipe's output is not the groups: %v\n%s", err, out)
	}
	byOwner := map[string][]string{}
	for _, g := range groups {
		for _, a := range g.Accounts {
			if len(a.Findings) == 0 {
				t.Errorf("%s has no findings, yet is listed", a.AccountID)
			}
			byOwner[g.Owner] = append(byOwner[g.Owner], a.AccountID)
		}
	}
	if got := byOwner["payments@acme.example"]; len(got) != 2 {
		t.Errorf("payments owns %v, want payments-prod and payments-dev", got)
	}
	if got := byOwner["(tags not read)"]; !slices.Equal(got, []string{demoLegacyBilling}) {
		t.Errorf("owners %v: legacy-billing is not in a group that says its tags were not read", byOwner)
	}
}
