package iam

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"net/http"
	"sort"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/wire"
)

// ReportLifetime is how long IAM hands out a credential report instead of
// generating a new one; an older report is expired.
const ReportLifetime = 4 * time.Hour

// credentialReportColumns are the columns of an IAM credential report, in
// the order AWS writes them.
var credentialReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

type generateCredentialReportResult struct {
	XMLName     xml.Name `xml:"GenerateCredentialReportResult"`
	State       string   `xml:"State"`
	Description string   `xml:"Description,omitempty"`
}

type getCredentialReportResult struct {
	XMLName       xml.Name `xml:"GetCredentialReportResult"`
	Content       string   `xml:"Content"`
	ReportFormat  string   `xml:"ReportFormat"`
	GeneratedTime string   `xml:"GeneratedTime"`
}

// credentialReport is one account's IAM credential report state.
type credentialReport struct {
	GeneratedAt time.Time // zero while none has been completed
	PollsLeft   int       // report calls left before a generation completes
	Generating  bool
}

// reportLocked returns the account's report state, seeding it from the
// fixture on first use. The caller holds s.reportsMu.
func (s *Service) reportLocked(a *fixture.Account) *credentialReport {
	r, ok := s.reports[a.ID]
	if !ok {
		r = &credentialReport{}
		if a.CredentialReport.GeneratedAt != nil {
			r.GeneratedAt = *a.CredentialReport.GeneratedAt
		}
		s.reports[a.ID] = r
	}
	return r
}

// advance counts one report call against a running generation and reports
// whether the generation completed with it. Generation finishes after
// CredentialReportFixture.GenerationPolls further calls (Generate or Get):
// deterministic, unlike AWS's few seconds, yet a client that polls either
// operation sees it finish.
func (r *credentialReport) advance(now time.Time) bool {
	if !r.Generating {
		return false
	}
	r.PollsLeft--
	if r.PollsLeft > 0 {
		return false
	}
	r.Generating = false
	r.GeneratedAt = now
	return true
}

func (r *credentialReport) fresh(now time.Time) bool {
	return !r.GeneratedAt.IsZero() && now.Sub(r.GeneratedAt) < ReportLifetime
}

// generateCredentialReport starts a report unless one younger than four
// hours exists, in which case AWS answers COMPLETE at once and keeps
// handing out that report.
func (s *Service) generateCredentialReport(c *op.Call) (any, error) {
	s.reportsMu.Lock()
	defer s.reportsMu.Unlock()
	a := s.world.Account(c.Caller.AccountID)
	if a.Faults.DenyCredentialReport {
		return nil, scpDenied(c)
	}
	r := s.reportLocked(a)
	switch {
	case r.Generating:
		if r.advance(c.Now) {
			return &generateCredentialReportResult{State: "COMPLETE"}, nil
		}
		return &generateCredentialReportResult{State: "INPROGRESS"}, nil
	case r.fresh(c.Now):
		return &generateCredentialReportResult{State: "COMPLETE"}, nil
	}
	r.Generating = true
	r.PollsLeft = max(1, a.CredentialReport.GenerationPolls)
	return &generateCredentialReportResult{
		State:       "STARTED",
		Description: "No report exists. Starting a new report generation task",
	}, nil
}

func (s *Service) getCredentialReport(c *op.Call) (any, error) {
	s.reportsMu.Lock()
	a := s.account(c.Caller.AccountID)
	r := s.reportLocked(&a)
	r.advance(c.Now)
	generating, generatedAt := r.Generating, r.GeneratedAt
	s.reportsMu.Unlock()
	if a.Faults.DenyCredentialReport {
		return nil, scpDenied(c)
	}

	switch {
	case generating:
		return nil, wire.Errorf(http.StatusNotFound, "ReportInProgress", "The credential report is still being generated.")
	case generatedAt.IsZero():
		return nil, wire.Errorf(http.StatusGone, "ReportNotPresent",
			"The credential report does not exist. To generate a credential report, use GenerateCredentialReport.")
	case c.Now.Sub(generatedAt) >= ReportLifetime:
		return nil, wire.Errorf(http.StatusGone, "ReportExpired",
			"The most recent credential report has expired. To generate a new credential report, use GenerateCredentialReport.")
	}
	content, err := credentialReportCSV(&a, s.iamUsers(a.ID))
	if err != nil {
		return nil, err
	}
	return &getCredentialReportResult{
		Content:       base64.StdEncoding.EncodeToString(content),
		ReportFormat:  "text/csv",
		GeneratedTime: isoTime(generatedAt),
	}, nil
}

// reportTime is the credential report's timestamp format
// (2006-01-02T15:04:05+00:00).
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// credentialReportCSV renders the report: the <root_account> row, then one
// row per IAM user, with the N/A, not_supported and no_information values
// the IAM User Guide documents.
func credentialReportCSV(a *fixture.Account, users map[string]*iamUser) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{credentialReportColumns, rootReportRow(a)}
	if a.Faults.CredentialReportWithoutRoot {
		rows = rows[:1]
	}
	names := make([]string, 0, len(users))
	for name := range users {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rows = append(rows, userReportRow(users[name]))
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rootReportRow follows the IAM User Guide's "Generate credential reports
// for your AWS account" as it reads today: password_enabled is TRUE or FALSE
// for every user, the root user included (FALSE for member accounts created
// without root credentials); it used to say not_supported for the root user,
// as reports written before that change and parsers of them still do.
// password_last_used is N/A without a password and no_information for one
// never used. password_last_changed and password_next_rotation stay
// not_supported for the root user: that is what the archived guide
// (awsdocs/iam-user-guide) documents, and no newer wording was found.
func rootReportRow(a *fixture.Account) []string {
	root := a.Root
	lastUsed := "N/A"
	if root.Password != nil {
		lastUsed = "no_information"
		if root.Password.LastUsedAt != nil {
			lastUsed = reportTime(*root.Password.LastUsedAt)
		}
	}
	row := []string{
		"<root_account>", auth.RootUserARN(a.ID), reportTime(rootCreated(a)),
		reportBool(root.Password != nil), lastUsed, "not_supported", "not_supported", reportBool(root.MFA != ""),
	}
	naInactive := a.CredentialReport.InactiveRotationNA
	for i := range 2 {
		row = append(row, keyColumns(root.AccessKeys, i, naInactive)...)
	}
	for i := range 2 {
		row = append(row, certColumns(root.SigningCertificates, i, naInactive)...)
	}
	return row
}

// keyColumns are the five columns of the i-th access key. The User Guide
// documents access_key_N_last_rotated as N/A "if the user does not have an
// active access key"; reports quoted in public code
// (guardian/security-hq's CredentialsReportTest, a "with-disabled-key"
// row) give an inactive key its date. AWS has not settled it in writing, so
// the simulator writes the date unless the fixture asks for the documented
// N/A (naInactive), and orgscan reads both: with N/A, an inactive key shows
// only through its last use.
func keyColumns(keys []fixture.AccessKey, i int, naInactive bool) []string {
	if i >= len(keys) {
		return []string{"false", "N/A", "N/A", "N/A", "N/A"}
	}
	k := keys[i]
	rotated := reportTime(k.CreatedAt)
	if naInactive && k.Status != "Active" {
		rotated = "N/A"
	}
	cols := []string{reportBool(k.Status == "Active"), rotated, "N/A", "N/A", "N/A"}
	if k.LastUsedAt != nil {
		// The region is N/A for a service that is not regional (S3).
		cols[2], cols[3], cols[4] = reportTime(*k.LastUsedAt), orNA(k.LastUsedRegion), orNA(k.LastUsedService)
	}
	return cols
}

// certColumns are the two columns of the i-th signing certificate, with
// cert_N_last_rotated as keyColumns treats a key's.
func certColumns(certs []fixture.SigningCertificate, i int, naInactive bool) []string {
	if i >= len(certs) {
		return []string{"false", "N/A"}
	}
	c := certs[i]
	if naInactive && c.Status != "Active" {
		return []string{"false", "N/A"}
	}
	return []string{reportBool(c.Status == "Active"), reportTime(c.UploadedAt)}
}

// userReportRow is an IAM user made from a fixture credential: no password,
// no MFA, its active access keys, never seen used.
func userReportRow(u *iamUser) []string {
	row := []string{u.Name, u.ARN, reportTime(u.Created), "false", "N/A", "N/A", "N/A", "false"}
	keys := make([]fixture.AccessKey, 0, len(u.Keys))
	for _, id := range u.Keys {
		keys = append(keys, fixture.AccessKey{ID: id, Status: "Active", CreatedAt: u.Created})
	}
	for i := range 2 {
		row = append(row, keyColumns(keys, i, false)...)
	}
	return append(row, "false", "N/A", "false", "N/A")
}

// reportBool writes booleans as real reports do: lower case, although the
// User Guide prints them as TRUE and FALSE.
func reportBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// scpDenied is IAM's answer to an action that a service control policy
// denies: 403 AccessDenied, the wording as in the IAM User Guide's
// "Troubleshoot access denied error messages".
func scpDenied(c *op.Call) error {
	return wire.Errorf(http.StatusForbidden, "AccessDenied",
		"User: %s is not authorized to perform: iam:%s on resource: * with an explicit deny in a service control policy",
		c.Caller.ARN, c.Op)
}
