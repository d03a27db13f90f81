package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hostileName carries everything an account owner could use against a
// spreadsheet or a terminal: a formula, tab, CR, an ANSI colour, a bidi
// override and markup.
const hostileName = "=cmd|' /C calc'!A0\tx\ry\x1b[31mred\u202Eevil<script>alert(1)</script>"

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fixedAt = func() time.Time { return t0.Add(2 * time.Hour) }
)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }
func ptr[T any](v T) *T             { return &v }

// goldenReport is the input of every golden file: rows in completion
// order (not sorted), covering each status, unknown values, hostile and
// wide names, and with details every kind of root credential.
func goldenReport(details bool) *scan.Report {
	day := 24 * time.Hour
	rows := []scan.Row{
		{
			AccountID: "222222222222", AccountName: "Prod 本番", Email: "prod@example.com",
			OUPath: "Root/Workloads/Prod", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: at(-700 * day),
			AccessMethod:   scan.AccessAssumeRole,
			RootAccessKeys: ptr(true), RootSigningCertificates: ptr(true), RootPassword: ptr(true), RootMFA: ptr(false),
			Findings: []string{scan.FindingRootAccessKey, scan.FindingRootSigningCertificate, scan.FindingRootNoMFA,
				scan.FindingRootPassword, scan.FindingKeyUsedRecently, scan.FindingCredentialOld},
			Status: scan.StatusOK, ScannedAt: at(time.Minute),
			Summary: scan.NewSummary(map[string]int32{"AccountAccessKeysPresent": 1, "AccountSigningCertificatesPresent": 1, "AccountMFAEnabled": 0, "Users": 12}),
			RootCredentials: &scan.RootCredentials{
				Source: "credential-report", AsOf: t0.Add(-3 * time.Hour),
				AccessKeys: []scan.AccessKeyDetail{
					{Active: true, CreatedAt: at(-400 * day), LastUsedAt: at(-3 * day), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
					{Active: false, CreatedAt: at(-30 * day)},
				},
				SigningCertificates: []scan.CertificateDetail{
					{Active: true, UploadedAt: at(-500 * day)},
					{Active: false, UploadedAt: at(-20 * day)},
				},
				MFA:      scan.MFADetail{Enabled: ptr(false)},
				Password: scan.PasswordDetail{Present: ptr(true), LastUsedAt: at(-5 * time.Hour)},
			},
		},
		{
			AccountID: "111111111111", AccountName: "Management", Email: "root@example.com",
			OUPath: "Root", State: "ACTIVE", JoinedMethod: "INVITED", JoinedAt: at(-900 * day),
			AccessMethod:   scan.AccessCaller,
			RootAccessKeys: ptr(false), RootSigningCertificates: ptr(false), RootPassword: ptr(true), RootMFA: ptr(true),
			Findings: []string{}, Status: scan.StatusOK, ScannedAt: at(2 * time.Minute),
			Summary: scan.NewSummary(map[string]int32{"AccountAccessKeysPresent": 0, "AccountSigningCertificatesPresent": 0, "AccountMFAEnabled": 1}),
			RootCredentials: &scan.RootCredentials{
				Source: "root-session", AsOf: t0.Add(2 * time.Minute),
				MFA: scan.MFADetail{Enabled: ptr(true), Devices: []scan.MFADevice{
					{Serial: "arn:aws:iam::111111111111:u2f/root/yubikey", Type: "hardware"},
					{Serial: "arn:aws:iam::111111111111:mfa/root-phone", Type: "virtual"},
				}},
				Password: scan.PasswordDetail{Present: ptr(true)},
			},
		},
		{
			AccountID: "333333333333", AccountName: hostileName, Email: "-2+3@evil.example",
			OUPath: "Root/Sandbox/\x1b]0;pwned\x07Evil", State: "ACTIVE", JoinedMethod: "INVITED", JoinedAt: at(-10 * day),
			AccessMethod:   scan.AccessAssumeRole,
			RootAccessKeys: ptr(false), RootSigningCertificates: ptr(false), RootPassword: ptr(false), RootMFA: ptr(false),
			Status: scan.StatusOK, ScannedAt: at(3 * time.Minute),
			Summary: scan.NewSummary(map[string]int32{"AccountAccessKeysPresent": 0}),
			RootCredentials: &scan.RootCredentials{
				Source: "credential-report", AsOf: t0.Add(-time.Hour),
				MFA:      scan.MFADetail{Enabled: ptr(false)},
				Password: scan.PasswordDetail{Present: ptr(false)},
			},
		},
		{
			AccountID: "444444444444", AccountName: "Data", Email: "data@example.com",
			OUPath: "Root/Workloads", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: at(-50 * day),
			AccessMethod: scan.AccessAssumeRole, Status: scan.StatusError,
			ErrorCode: scan.CodeRoleNotAssumable,
			Error:     "=HYPERLINK(\"http://evil.example\")\nassume role arn:aws:iam::444444444444:role/OrganizationAccountAccessRole: AccessDenied",
			ScannedAt: at(4 * time.Minute),
		},
		{
			AccountID: "555555555555", AccountName: "Old project", Email: "old@example.com",
			OUPath: "Root/Suspended", State: "SUSPENDED", JoinedMethod: "CREATED", JoinedAt: at(-1000 * day),
			Status: scan.StatusSkipped, Error: "account is SUSPENDED; --include-inactive tries it anyway",
		},
		{
			AccountID: "777777777777", AccountName: "Cafe\u0301 ☕", Email: "cafe@example.com",
			OUPath: "Root/Workloads/Dev", State: "ACTIVE", JoinedMethod: "CREATED",
			AccessMethod:   scan.AccessAssumeRole,
			RootAccessKeys: ptr(false), RootSigningCertificates: nil, RootPassword: nil, RootMFA: nil,
			Status: scan.StatusOK, ScannedAt: at(5 * time.Minute),
			Summary: scan.NewSummary(map[string]int32{"AccountAccessKeysPresent": 0}),
		},
		{
			AccountID: "666666666666", AccountName: "Late", Email: "late@example.com",
			OUPath: "Root/Workloads/Dev", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: at(-5 * day),
			Status: scan.StatusNotScanned,
		},
	}
	if !details {
		for i := range rows {
			rows[i].RootCredentials = nil
		}
	}
	return &scan.Report{
		Scan: scan.Meta{
			OrganizationID: "o-abc123def4", ManagementAccountID: "111111111111",
			CallerARN:       "arn:aws:sts::111111111111:assumed-role/Audit/alice",
			CallerAccountID: "111111111111", Partition: "aws",
			StartedAt: t0, FinishedAt: t0.Add(6 * time.Minute), Version: "1.2.3-test",
			Complete: false, Interrupted: true,
			IncompleteReasons: []string{scan.ReasonInterrupted, scan.ReasonAccountsInError, scan.ReasonAccountsNotScanned},
			Options: scan.OptionsUsed{
				Access: scan.AccessAssumeRole, RoleName: "OrganizationAccountAccessRole",
				Region: "us-east-1", Concurrency: 20, Details: details,
			},
			Counts:     scan.Count(rows),
			RootAccess: scan.RootAccessState{RootCredentialsManagement: "enabled", RootSessions: "disabled"},
		},
		Accounts: rows,
	}
}

// render runs a writer the way the scan driver does: each row through
// WriteRow (all but the not_scanned ones, which only the final report
// holds), then Close.
func render(t *testing.T, format string, rep *scan.Report, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Accounts {
		if rep.Accounts[i].Status == scan.StatusNotScanned {
			continue
		}
		if err := w.WriteRow(&rep.Accounts[i]); err != nil {
			t.Fatalf("%s: write row %s: %v", format, rep.Accounts[i].AccountID, err)
		}
	}
	if err := w.Close(rep); err != nil {
		t.Fatalf("%s: close: %v", format, err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./pkg/output -update to create it): %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs from the golden file at line %d (run go test ./pkg/output -update if the change is intended)\n got: %q\nwant: %q", path, i+1, g, w)
		}
	}
}

func TestGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		o      Options
	}{
		{"table", FormatTable, Options{}},
		{"table-terminal", FormatTable, Options{Terminal: true, Color: true}},
		{"table-terminal-no-color", FormatTable, Options{Terminal: true}},
		{"csv", FormatCSV, Options{}},
		{"json", FormatJSON, Options{}},
		{"ndjson", FormatNDJSON, Options{}},
	} {
		for _, details := range []bool{false, true} {
			name := tc.name
			if details {
				name += "-details"
			}
			t.Run(name+" matches its golden file", func(t *testing.T) {
				o := tc.o
				o.Details, o.Now = details, fixedAt
				checkGolden(t, name, render(t, tc.format, goldenReport(details), o))
			})
		}
	}
}
