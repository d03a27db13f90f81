package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// This file generates reports the way orgscan writes them, so that the
// tests read real bytes in both formats rather than hand-built Documents.

var (
	q1 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	q2 = time.Date(2026, 4, 6, 9, 0, 0, 0, time.UTC)
)

// acct is a scanned, ACTIVE account with the given findings; its root-user
// booleans and summary agree with them.
func acct(id, name, ou string, findings ...string) scan.Row {
	joined := q1.AddDate(-2, 0, 0)
	scanned := q1
	keys := slices.Contains(findings, scan.FindingRootAccessKey)
	certs := slices.Contains(findings, scan.FindingRootSigningCertificate)
	mfa := !slices.Contains(findings, scan.FindingRootNoMFA)
	password := slices.Contains(findings, scan.FindingRootPassword)
	summary := map[string]int32{"AccountAccessKeysPresent": 0, "AccountSigningCertificatesPresent": 0, "AccountMFAEnabled": 0, "AccountPasswordPresent": 0}
	if keys {
		summary["AccountAccessKeysPresent"] = 1
	}
	if certs {
		summary["AccountSigningCertificatesPresent"] = 1
	}
	if mfa {
		summary["AccountMFAEnabled"] = 1
	}
	if password {
		summary["AccountPasswordPresent"] = 1
	}
	return scan.Row{
		AccountID:               id,
		AccountName:             name,
		Email:                   "aws+" + id + "@example.com",
		OUPath:                  ou,
		State:                   "ACTIVE",
		JoinedMethod:            "CREATED",
		JoinedAt:                &joined,
		AccessMethod:            scan.AccessAssumeRole,
		RootAccessKeys:          &keys,
		RootSigningCertificates: &certs,
		RootPassword:            &password,
		RootMFA:                 &mfa,
		Findings:                slices.Clone(findings),
		Status:                  scan.StatusOK,
		ScannedAt:               &scanned,
		Summary:                 scan.NewSummary(summary),
	}
}

// failed turns r into a row the scan could not read, its owner
// included.
func failed(r scan.Row, code, msg string) scan.Row {
	r.Tags, r.TagsError, r.SecurityContact, r.ContactError = nil, nil, nil, nil
	r.RootAccessKeys, r.RootSigningCertificates, r.RootPassword, r.RootMFA = nil, nil, nil, nil
	r.Findings, r.Summary = nil, scan.Summary{}
	r.Status, r.ErrorCode, r.Error = scan.StatusError, code, msg
	return r
}

// suspended turns r into a row the scan skipped.
func suspended(r scan.Row) scan.Row {
	r.RootAccessKeys, r.RootSigningCertificates, r.RootPassword, r.RootMFA = nil, nil, nil, nil
	r.Findings, r.Summary, r.ScannedAt, r.AccessMethod = nil, scan.Summary{}, nil, ""
	r.State, r.Status, r.Error = "SUSPENDED", scan.StatusSkipped, "account is SUSPENDED"
	return r
}

// owned gives r tags and a security contact, as a scan with both
// lookups would.
func owned(r scan.Row, tags map[string]string, contact *scan.Contact) scan.Row {
	r.Tags, r.SecurityContact = tags, contact
	return r
}

// tagsDenied is r as a scan that could not read its tags leaves it.
func tagsDenied(r scan.Row) scan.Row {
	r.Tags, r.TagsError = nil, &scan.LookupError{Code: scan.CodeAccessDenied, Message: "not authorized to perform organizations:ListTagsForResource"}
	return r
}

func inOU(r scan.Row, ou string) scan.Row {
	r.OUPath = ou
	return r
}

func meta(at time.Time, rows []scan.Row) scan.Meta {
	c := scan.Count(rows)
	return scan.Meta{
		OrganizationID:      "o-abcd1234ef",
		ManagementAccountID: "100000000001",
		CallerARN:           "arn:aws:sts::100000000001:assumed-role/Auditor/orgscan",
		CallerAccountID:     "100000000001",
		Partition:           "aws",
		StartedAt:           at,
		FinishedAt:          at.Add(42 * time.Second),
		Version:             "1.0.0",
		Complete:            c.Errors == 0 && c.NotScanned == 0,
		Options:             scan.OptionsUsed{Access: scan.AccessAssumeRole, RoleName: "OrganizationAccountAccessRole", Region: "us-east-1", Concurrency: 20},
		Counts:              c,
		RootAccess:          scan.RootAccessState{RootCredentialsManagement: "enabled", RootSessions: "disabled"},
	}
}

// jsonReport writes a JSON report with orgscan's own writer; compact
// re-encodes it on one line, as a pipeline through jq -c would.
func jsonReport(t testing.TB, at time.Time, rows []scan.Row, indent bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := output.New(output.FormatJSON, &buf, output.Options{})
	if err != nil {
		t.Fatalf("json writer: %v", err)
	}
	if err := w.Close(&scan.Report{Scan: meta(at, rows), Accounts: rows}); err != nil {
		t.Fatalf("write json report: %v", err)
	}
	if indent {
		return buf.Bytes()
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, buf.Bytes()); err != nil {
		t.Fatalf("compact json report: %v", err)
	}
	return append(compact.Bytes(), '\n')
}

// ndjsonReport writes one row per line with orgscan's own writer, in the
// order given, as a scan streams them.
func ndjsonReport(t testing.TB, rows []scan.Row) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := output.New(output.FormatNDJSON, &buf, output.Options{})
	if err != nil {
		t.Fatalf("ndjson writer: %v", err)
	}
	for i := range rows {
		if err := w.WriteRow(&rows[i]); err != nil {
			t.Fatalf("write ndjson row: %v", err)
		}
	}
	if err := w.Close(&scan.Report{Scan: meta(q1, rows), Accounts: rows}); err != nil {
		t.Fatalf("close ndjson report: %v", err)
	}
	return buf.Bytes()
}

func mustRead(t testing.TB, b []byte, source string) *Document {
	t.Helper()
	doc, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read %s: %v", source, err)
	}
	doc.Source = source
	return doc
}

// hostileName is an account name chosen by an attacker who controls an
// account of the organization: it tries to break tables, inject HTML and
// markdown, recolour a terminal and forge a row.
const hostileName = "Evil | <img src=x onerror=alert(1)> `code` *bold* [link](https://evil.example) @security-team \x1b[31mred\x1b[0m\u202e\n| 999999999999 | forged |"

// hostileOwner is an owner tag that tries to end its heading, open a
// list, a link or a table row, or inject HTML; hostileContact a security
// contact's e-mail that does the same.
const (
	hostileOwner   = "payments\n# pwned <script>alert(1)</script> [x](javascript:alert(1)) | cell | `code` _em_ #"
	hostileContact = "*@evil.example\x1b[2J\r\n- [ ] <img src=x onerror=alert(1)>"
)

// quarter is a pair of reports with every kind of change, and one
// unchanged account.
func quarter(t testing.TB) (oldDoc, newDoc *Document) {
	t.Helper()
	var (
		prod     = acct("100000000001", "Management", "Root")
		payments = acct("100000000002", "Payments", "Root/Workloads/Prod")
		legacy   = acct("100000000003", "Legacy", "Root/Workloads/Prod", scan.FindingRootNoMFA, scan.FindingRootSigningCertificate)
		sandbox  = acct("100000000004", "Sandbox", "Root/Sandbox", scan.FindingRootAccessKey)
		data     = acct("100000000005", "Data", "Root/Workloads/Prod")
		dev      = acct("100000000006", "Dev Tools", "Root/Workloads/Dev")
		closing  = acct("100000000007", "Closing", "Root/Workloads/Dev")
		gone     = acct("100000000008", "Divested", "Root/Workloads/Prod", scan.FindingRootPassword)
		acquired = acct("100000000009", "Acquired Co", "Root/Acquisitions", scan.FindingRootAccessKey, scan.FindingRootNoMFA)
	)
	oldRows := []scan.Row{
		prod,
		payments,
		legacy,
		sandbox,
		failed(data, scan.CodeRoleNotAssumable, "role OrganizationAccountAccessRole not found"),
		dev,
		closing,
		gone,
	}
	newRows := []scan.Row{
		// Owned by its security contact: it has tags, but no owner tag.
		owned(acquired, map[string]string{"cost-center": "7"}, &scan.Contact{Name: "IT", Email: "it@acquired.example"}),
		prod,
		owned(acct(payments.AccountID, payments.AccountName, payments.OUPath, scan.FindingRootAccessKey),
			map[string]string{"owner": "payments-team"}, &scan.Contact{Email: "security@payments.example"}),
		owned(acct(legacy.AccountID, legacy.AccountName, legacy.OUPath, scan.FindingRootNoMFA), map[string]string{"owner": "payments-team"}, nil),
		// Not read this time, owner included: the old report names it.
		failed(sandbox, scan.CodeAccessDenied,
			"User: arn:aws:sts::100000000001:assumed-role/Auditor/orgscan is not authorized to perform: sts:AssumeRole"),
		tagsDenied(acct(data.AccountID, data.AccountName, data.OUPath, scan.FindingRootPassword)),
		inOU(dev, "Root/Workloads/Prod"),
		suspended(closing),
	}
	oldRows[3] = owned(oldRows[3], map[string]string{"owner": "sandbox-team"}, nil)
	oldDoc = mustRead(t, jsonReport(t, q1, oldRows, true), "reports/2026-q1.json")
	newDoc = mustRead(t, ndjsonReport(t, newRows), "reports/2026-q2.ndjson")
	return oldDoc, newDoc
}

// hostile is a pair of reports where every string an account owner or an
// edited report file controls tries to break the output.
func hostile(t testing.TB) (oldDoc, newDoc *Document) {
	t.Helper()
	evil := owned(acct("100000000010", hostileName, "Root/<b>x</b>|y", scan.FindingRootAccessKey),
		map[string]string{"owner": hostileOwner}, &scan.Contact{Email: hostileContact})
	changed := failed(inOU(evil, "Root/`z`\x1b]0;title\x07"), "Denied|<i>", "not authorized\n| 999999999999 | forged |")
	changed.State = "SUSPENDED<script>alert(1)</script>"
	joiner := owned(acct("100000000011", "Joiner\u202egnp.exe", "Root", "root-access-key|<u>x</u>", "**bold**"),
		map[string]string{"owner": hostileOwner}, &scan.Contact{Email: hostileContact})
	// A name that would open a nested list, and one an indented code
	// block, at the start of a list item.
	dash := acct("100000000012", "- [x] done", "Root", scan.FindingRootAccessKey)
	indented := acct("100000000013", "      code", "Root", scan.FindingRootAccessKey)
	oldDoc = mustRead(t, jsonReport(t, q1, []scan.Row{evil}, true), "evil\n| forged | table |.json")
	newDoc = mustRead(t, ndjsonReport(t, []scan.Row{changed, joiner, dash, indented}), "q2 [link](javascript:alert(1)).ndjson")
	return oldDoc, newDoc
}

// findingNames are the findings random reports draw from.
var findingNames = []string{
	scan.FindingRootAccessKey, scan.FindingRootSigningCertificate, scan.FindingRootNoMFA,
	scan.FindingRootPassword, scan.FindingCentrallyManaged,
}

// randomPair draws an old report and a new one derived from it by random
// joins, departures, failures, finding changes, OU moves and suspensions.
func randomPair(rng *rand.Rand) (oldRows, newRows []scan.Row) {
	n := rng.IntN(40)
	ous := []string{"Root", "Root/A", "Root/A/B", "Root/C"}
	draw := func(id string) scan.Row {
		var fs []string
		for _, f := range findingNames {
			if rng.IntN(4) == 0 {
				fs = append(fs, f)
			}
		}
		r := acct(id, "acct-"+id[8:], ous[rng.IntN(len(ous))], fs...)
		switch rng.IntN(8) {
		case 0:
			r = failed(r, scan.CodeAccessDenied, "denied")
		case 1:
			r = suspended(r)
		}
		return r
	}
	id := func(i int) string { return fmt.Sprintf("2000%08d", i) }
	for i := range n {
		oldRows = append(oldRows, draw(id(i)))
	}
	for _, r := range oldRows {
		switch rng.IntN(6) {
		case 0: // left
			continue
		case 1:
			r = draw(r.AccountID)
			r.AccountName = "renamed"
		case 2:
			r = inOU(r, ous[rng.IntN(len(ous))])
		}
		newRows = append(newRows, r)
	}
	for i := n; i < n+rng.IntN(5); i++ {
		newRows = append(newRows, draw(id(i)))
	}
	rng.Shuffle(len(newRows), func(i, j int) { newRows[i], newRows[j] = newRows[j], newRows[i] })
	return oldRows, newRows
}
