package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
)

// denyListing gives the management credential of fx an explicit deny of
// the Organizations operation op on the parent's ARN, as a guardrail that
// allows reading some OUs and not others would.
func denyListing(t *testing.T, fx *awssim.Fixture, op, parentID string) {
	t.Helper()
	kind := "ou"
	if parentID == fx.Organization.RootID {
		kind = "root"
	}
	arn := fmt.Sprintf("arn:aws:organizations::%s:%s/%s/%s", fx.Organization.ManagementAccountID, kind, fx.Organization.ID, parentID)
	denyAction(t, fx, "organizations:"+op, arn)
}

func denyAction(t *testing.T, fx *awssim.Fixture, action, resource string) {
	t.Helper()
	for i, c := range fx.Credentials {
		if c.AccountID == fx.Organization.ManagementAccountID {
			fx.Credentials[i].Deny = append(fx.Credentials[i].Deny, awssim.DenyStatement{Actions: []string{action}, Resources: []string{resource}})
			return
		}
	}
	t.Fatal("the fixture has no management credential")
}

// hiddenAccounts are the accounts that the management credential's deny
// statements keep from discovery: those directly under a parent whose
// accounts may not be listed, and every account below a parent whose child
// OUs may not be listed.
func hiddenAccounts(fx *awssim.Fixture) map[string]bool {
	deniedAccounts, deniedChildren := map[string]bool{}, map[string]bool{}
	for _, c := range fx.Credentials {
		if c.AccountID != fx.Organization.ManagementAccountID {
			continue
		}
		for _, d := range c.Deny {
			for _, r := range d.Resources {
				id := r[strings.LastIndex(r, "/")+1:]
				if slices.Contains(d.Actions, "organizations:ListAccountsForParent") {
					deniedAccounts[id] = true
				}
				if slices.Contains(d.Actions, "organizations:ListOrganizationalUnitsForParent") {
					deniedChildren[id] = true
				}
			}
		}
	}
	parentOf := map[string]string{}
	for _, ou := range fx.Organization.OUs {
		parentOf[ou.ID] = ou.Parent
	}
	hidden := map[string]bool{}
	for _, a := range fx.Accounts {
		if deniedAccounts[a.Parent] {
			hidden[a.ID] = true
		}
		for q := parentOf[a.Parent]; q != ""; q = parentOf[q] {
			if deniedChildren[q] {
				hidden[a.ID] = true
			}
		}
	}
	return hidden
}

// Demo world OUs used below.
const (
	demoSecurityOU  = "ou-8k2q-3jd7fj2p" // two accounts, no child OUs
	demoWorkloadsOU = "ou-8k2q-w9r2k5ld" // no accounts of its own; Prod and Dev below
)

type coverageReport struct {
	Scan struct {
		Complete          bool     `json:"complete"`
		IncompleteReasons []string `json:"incomplete_reasons"`
		OUsNotListed      []struct {
			ID, Path, Listing string
			ErrorCode         string `json:"error_code"`
			Error             string `json:"error"`
		} `json:"ous_not_listed"`
		Counts map[string]int `json:"counts"`
	} `json:"scan"`
	Accounts []struct {
		ID     string `json:"account_id"`
		Status string `json:"status"`
	} `json:"accounts"`
}

func TestAnOUThatCannotBeListedLeavesTheRestOfTheTreeInTheReport(t *testing.T) {
	fx := demoWorld(t)
	denyListing(t, fx, "ListAccountsForParent", demoSecurityOU)
	denyListing(t, fx, "ListOrganizationalUnitsForParent", demoWorkloadsOU)
	hidden := hiddenAccounts(fx)
	if len(hidden) != 9 {
		t.Fatalf("the demo world changed: %d accounts hidden, want 9 (Security's 2, Prod's 4, Dev's 3)", len(hidden))
	}
	s := startSim(t, fx, awssim.Options{})

	res := s.run(t, "scan", "-q", "-f", "json")
	if res.code != exitIncomplete {
		t.Fatalf("exit %d, want %d (incomplete); stderr:\n%s", res.code, exitIncomplete, res.stderr)
	}
	var rep coverageReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("report: %v", err)
	}
	ids := make([]string, len(rep.Accounts))
	for i, a := range rep.Accounts {
		ids[i] = a.ID
	}
	checkEveryAccountOnce(t, fx, ids)
	if rep.Scan.Complete || !slices.Contains(rep.Scan.IncompleteReasons, "ous_not_listed") {
		t.Errorf("complete=%v reasons=%v, want incomplete for ous_not_listed", rep.Scan.Complete, rep.Scan.IncompleteReasons)
	}
	if got := rep.Scan.Counts["ous_not_listed"]; got != 2 {
		t.Errorf("counts.ous_not_listed = %d, want 2", got)
	}
	wantFailures := map[string]string{demoSecurityOU: "accounts", demoWorkloadsOU: "child_ous"}
	wantPaths := map[string]string{demoSecurityOU: "Root/Security", demoWorkloadsOU: "Root/Workloads"}
	if len(rep.Scan.OUsNotListed) != len(wantFailures) {
		t.Fatalf("ous_not_listed = %+v, want the two denied listings", rep.Scan.OUsNotListed)
	}
	for _, f := range rep.Scan.OUsNotListed {
		if wantFailures[f.ID] != f.Listing || wantPaths[f.ID] != f.Path || f.ErrorCode != "AccessDenied" ||
			!strings.Contains(f.Error, "explicit deny") {
			t.Errorf("failure %+v: want listing %q, path %q, AccessDenied with AWS's message", f, wantFailures[f.ID], wantPaths[f.ID])
		}
	}

	t.Run("every format names the OUs", func(t *testing.T) {
		dir := t.TempDir()
		html := filepath.Join(dir, "r.html")
		res := s.run(t, "scan", "-f", "table", "--out", "-", "--out", html, "--out", filepath.Join(dir, "r.csv"), "--out", filepath.Join(dir, "r.ndjson"))
		if res.code != exitIncomplete {
			t.Fatalf("exit %d, want %d", res.code, exitIncomplete)
		}
		page, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"the table": res.stdout, "the HTML report": string(page), "stderr (for CSV and NDJSON)": res.stderr} {
			for id := range wantFailures {
				if !strings.Contains(text, id) {
					t.Errorf("%s does not name OU %s:\n%s", name, id, text)
				}
			}
		}
		if !strings.Contains(res.stdout, "INCOMPLETE: 2 OUs could not be listed") {
			t.Errorf("table footer does not say why the report is incomplete:\n%s", res.stdout)
		}
	})
}

func TestListingFailuresBeforeAnyAccountIsKnownAreFatal(t *testing.T) {
	tests := []struct {
		name   string
		action string
		want   string
	}{
		{"a denied root listing", "organizations:ListRoots", "list the organization's root"},
		{"a denied DescribeOrganization", "organizations:DescribeOrganization", "may not describe the organization"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := demoWorld(t)
			denyAction(t, fx, tc.action, "*")
			s := startSim(t, fx, awssim.Options{})
			res := s.run(t, "scan", "-q", "-f", "json")
			if res.code != exitFatal || !strings.Contains(res.stderr, tc.want) || res.stdout != "" {
				t.Errorf("exit %d, stdout %d bytes, stderr %q; want exit 1 naming %q and no report", res.code, len(res.stdout), res.stderr, tc.want)
			}
		})
	}
}

func TestSelectionsThatMayLieBelowAnUnlistedOU(t *testing.T) {
	fx := demoWorld(t)
	denyListing(t, fx, "ListOrganizationalUnitsForParent", demoWorkloadsOU)
	s := startSim(t, fx, awssim.Options{})

	t.Run("an account requested below it is not called missing from the organization", func(t *testing.T) {
		res := s.run(t, "scan", "-q", "-f", "json", "--accounts", "520384716293,402947163850")
		if res.code != exitIncomplete {
			t.Fatalf("exit %d, want %d; stderr %s", res.code, exitIncomplete, res.stderr)
		}
		var rep struct {
			Accounts []struct {
				ID        string `json:"account_id"`
				Status    string `json:"status"`
				ErrorCode string `json:"error_code"`
			} `json:"accounts"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range rep.Accounts {
			got[a.ID] = a.Status + "/" + a.ErrorCode
		}
		want := map[string]string{"520384716293": "error/NotListed", "402947163850": "ok/"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows %v, want %v", got, want)
		}
	})
	t.Run("an OU selected below it is not a usage error", func(t *testing.T) {
		res := s.run(t, "scan", "-q", "-f", "json", "--ou", "ou-8k2q-p7q1z0vd")
		if res.code != exitFatal || !strings.Contains(res.stderr, demoWorkloadsOU) {
			t.Errorf("exit %d, stderr %q; want exit 1 naming %s, whose child OUs could not be listed", res.code, res.stderr, demoWorkloadsOU)
		}
	})
}

// rewritingProxy stands between orgscan and the simulator and rewrites
// Organizations' answers, as a hostile or broken endpoint would.
func rewritingProxy(t *testing.T, s *sim, from, to string) string {
	t.Helper()
	target, err := url.Parse(s.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		// The request was signed for the proxy's host.
		r.Out.Host = r.In.Host
	}}
	p.ModifyResponse = func(r *http.Response) error {
		if !strings.HasPrefix(r.Request.Header.Get("X-Amz-Target"), "AWSOrganizationsV20161128.") {
			return nil
		}
		raw, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		body := strings.ReplaceAll(string(raw), from, to)
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Del("Content-Length")
		r.Header.Del("X-Amz-Crc32")
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestIdentifiersFromAWSAreCheckedBeforeUse(t *testing.T) {
	fx := demoWorld(t)
	tests := []struct {
		name     string
		from, to string
		code     int
		want     string
	}{
		{
			name: "an organization id rewritten into a path is fatal before any key is built",
			from: `"Id":"` + fx.Organization.ID + `"`, to: `"Id":"o-victimorg00/date=2000-01-01/../../../../outside"`,
			code: exitFatal, want: "is not an organization id",
		},
		{
			name: "an account id that is not 12 digits is a failed listing, never a role ARN",
			from: `"Id":"402947163850"`, to: `"Id":"402947163850:role/x"`,
			code: exitIncomplete, want: "not a valid account id",
		},
		{
			name: "an OU id that breaks its pattern is not walked",
			from: `"Id":"ou-8k2q-m4n8x1ce"`, to: `"Id":"ou-8k2q-m4n8x1ce/../r-8k2q"`,
			code: exitIncomplete, want: "not a valid OU id",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			proxy := rewritingProxy(t, s, tc.from, tc.to)
			out := filepath.Join(t.TempDir(), "r.json")
			cred, err := s.fx.ManagementCredential()
			if err != nil {
				t.Fatal(err)
			}
			res := s.runAt(t, cred, proxy, "scan", "-q", "-f", "json", "--out", out)
			text := res.stdout + res.stderr
			if data, err := os.ReadFile(out); err == nil {
				text += string(data)
			}
			if res.code != tc.code || !strings.Contains(text, tc.want) {
				t.Errorf("exit %d, want %d; want %q in the output:\nstdout %s\nstderr %s", res.code, tc.code, tc.want, res.stdout, res.stderr)
			}
			if strings.Contains(res.stderr, "/../") && !strings.Contains(res.stderr, `\"`) && !strings.Contains(res.stderr, `"o-victim`) {
				t.Errorf("the hostile id reached stderr unquoted: %s", res.stderr)
			}
		})
	}
}

func TestDetailsThatCannotBeReadKeepTheSummaryAndItsFindings(t *testing.T) {
	const (
		noRootRow = "402947163850" // network: its credential report lacks the root row
		denied    = "417395028461" // shared-services: an SCP denies the credential report
	)
	fx := demoWorld(t)
	for i := range fx.Accounts {
		switch fx.Accounts[i].ID {
		case noRootRow:
			fx.Accounts[i].Faults.CredentialReportWithoutRoot = true
		case denied:
			fx.Accounts[i].Faults.DenyCredentialReport = true
		}
	}
	s := startSim(t, fx, awssim.Options{})
	// The credential report is the details source of assume-role sessions.
	args := []string{"scan", "-q", "--access", "assume-role", "--accounts", noRootRow + "," + denied}
	plain := s.run(t, append(args, "-f", "json")...)
	if plain.code != exitOK {
		t.Fatalf("without --details: exit %d; stderr %s", plain.code, plain.stderr)
	}
	res := s.run(t, append(args, "-f", "json", "--details")...)
	if res.code != exitIncomplete {
		t.Fatalf("exit %d, want %d (details missing); stderr %s", res.code, exitIncomplete, res.stderr)
	}
	type row struct {
		ID       string   `json:"account_id"`
		Status   string   `json:"status"`
		Keys     *bool    `json:"root_access_keys"`
		Certs    *bool    `json:"root_signing_certificates"`
		Password *bool    `json:"root_password"`
		MFA      *bool    `json:"root_mfa"`
		Findings []string `json:"findings"`
		Details  *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"details_error"`
	}
	var before, after struct {
		Scan struct {
			Complete bool           `json:"complete"`
			Reasons  []string       `json:"incomplete_reasons"`
			Counts   map[string]int `json:"counts"`
		} `json:"scan"`
		Accounts []row `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(plain.stdout), &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(res.stdout), &after); err != nil {
		t.Fatal(err)
	}
	wantCode := map[string]string{noRootRow: "MalformedResponse", denied: "AccessDenied"}
	for i, r := range after.Accounts {
		b := before.Accounts[i]
		if r.Status != "ok" || r.Keys == nil || r.Certs == nil || r.Password == nil || r.MFA == nil {
			t.Errorf("%s: status %s, flags %v %v %v %v: want ok with the summary's four flags", r.ID, r.Status, r.Keys, r.Certs, r.Password, r.MFA)
		}
		if fmt.Sprint(r.Findings) != fmt.Sprint(b.Findings) {
			t.Errorf("%s: findings %v, want the summary's %v", r.ID, r.Findings, b.Findings)
		}
		if r.Details == nil || r.Details.Code != wantCode[r.ID] || r.Details.Message == "" {
			t.Errorf("%s: details_error %+v, want code %s with AWS's message", r.ID, r.Details, wantCode[r.ID])
		}
	}
	if after.Scan.Complete || fmt.Sprint(after.Scan.Reasons) != "[details_missing]" || after.Scan.Counts["details_errors"] != 2 {
		t.Errorf("scan: complete=%v reasons=%v counts=%v; want incomplete for details_missing, details_errors 2",
			after.Scan.Complete, after.Scan.Reasons, after.Scan.Counts)
	}

	t.Run("every format names the details error", func(t *testing.T) {
		dir := t.TempDir()
		files := map[string]string{"csv": filepath.Join(dir, "r.csv"), "html": filepath.Join(dir, "r.html"), "ndjson": filepath.Join(dir, "r.ndjson")}
		res := s.run(t, append(args, "-f", "table", "--details", "--out", "-", "--out", files["csv"], "--out", files["html"], "--out", files["ndjson"])...)
		texts := map[string]string{"table": res.stdout}
		for name, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			texts[name] = string(data)
		}
		for name, text := range texts {
			if !strings.Contains(text, "MalformedResponse") || !strings.Contains(text, "AccessDenied") || !strings.Contains(text, "root_account") {
				t.Errorf("%s does not carry both details errors with their messages:\n%s", name, text)
			}
		}
		if !strings.Contains(res.stdout, "2 accounts without root credential details") {
			t.Errorf("the table footer does not count the accounts without details:\n%s", res.stdout)
		}
	})
}
