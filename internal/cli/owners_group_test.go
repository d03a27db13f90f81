package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// runLocal runs orgscan on local files only: no simulator, no credentials.
func runLocal(t *testing.T, args ...string) result {
	t.Helper()
	st, out, errOut := Test()
	env := runEnv{streams: st, now: func() time.Time { return fixedNow }, version: "test"}
	code := run(context.Background(), env, args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ownersRow is a scanned account with the given owner lookups and findings.
func ownersRow(id, name string, tags map[string]string, contact *scan.Contact, findings ...string) scan.Row {
	at := time.Date(2026, 9, 30, 6, 0, 0, 0, time.UTC)
	yes, no := true, false
	return scan.Row{
		AccountID: id, AccountName: name, Email: "aws+" + id + "@example.com", OUPath: "Root/Workloads",
		State: "ACTIVE", JoinedMethod: "CREATED", AccessMethod: scan.AccessAssumeRole,
		RootAccessKeys: &no, RootSigningCertificates: &no, RootPassword: &yes, RootMFA: &yes,
		Findings: findings, Status: scan.StatusOK, ScannedAt: &at,
		Tags: tags, SecurityContact: contact,
	}
}

// writeOwnersReport writes a JSON report with orgscan's own writer, as
// `orgscan scan --tags --contacts --out path` would.
func writeOwnersReport(t *testing.T, path string, started time.Time, rows []scan.Row) {
	t.Helper()
	var buf bytes.Buffer
	w, err := output.New(output.FormatJSON, &buf, output.Options{})
	if err != nil {
		t.Fatal(err)
	}
	meta := scan.Meta{
		OrganizationID: "o-abcd1234ef", ManagementAccountID: "100000000001", CallerAccountID: "100000000001",
		CallerARN: "arn:aws:sts::100000000001:assumed-role/Auditor/orgscan", Partition: "aws",
		StartedAt: started, FinishedAt: started.Add(40 * time.Second), Version: "test", Complete: true,
		Options: scan.OptionsUsed{Access: scan.AccessAssumeRole, Region: "us-east-1", Concurrency: 20, Tags: true, Contacts: true},
		Counts:  scan.Count(rows),
	}
	if err := w.Close(&scan.Report{Scan: meta, Accounts: rows}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ownersReports writes a quarter's two reports with owner tags: an owner
// with new findings, one with a resolved finding, one known by its
// security contact, one whose tags could not be read this time, and an
// account that joined with neither.
func ownersReports(t *testing.T) (oldPath, newPath string) {
	t.Helper()
	payments := map[string]string{"owner": "payments", "cost-center": "42"}
	data := map[string]string{"owner": "data-platform"}
	contact := &scan.Contact{Name: "Sec Team", Email: "security@example.com", Title: "SecOps", Phone: "+1 555 0100"}
	hostile := "Sandbox | <b>x</b> *y* `z`\n- [ ] forged"
	oldRows := []scan.Row{
		ownersRow("111111111111", "Payments Prod", payments, nil),
		ownersRow("222222222222", "Data Lake", data, nil, scan.FindingRootSigningCertificate),
		ownersRow("333333333333", hostile, map[string]string{}, contact),
		ownersRow("444444444444", "Legacy", payments, nil, scan.FindingRootAccessKey),
	}
	legacy := ownersRow("444444444444", "Legacy", nil, nil)
	legacy.TagsError = &scan.LookupError{Code: scan.CodeAccessDenied, Message: "not authorized to perform organizations:ListTagsForResource"}
	legacy.Findings = []string{scan.FindingRootAccessKey, scan.FindingRootNoMFA}
	newRows := []scan.Row{
		ownersRow("111111111111", "Payments Prod", payments, nil, scan.FindingRootNoMFA, scan.FindingRootAccessKey),
		ownersRow("222222222222", "Data Lake", data, nil),
		ownersRow("333333333333", hostile, map[string]string{}, contact, scan.FindingRootPassword),
		legacy,
		ownersRow("555555555555", "Acquired", map[string]string{}, nil, scan.FindingRootAccessKey),
	}
	dir := t.TempDir()
	oldPath, newPath = filepath.Join(dir, "2026-q2.json"), filepath.Join(dir, "2026-q3.json")
	writeOwnersReport(t, oldPath, time.Date(2026, 6, 30, 6, 0, 0, 0, time.UTC), oldRows)
	writeOwnersReport(t, newPath, time.Date(2026, 9, 30, 6, 0, 0, 0, time.UTC), newRows)
	return oldPath, newPath
}

func TestDiffMarkdownByOwner(t *testing.T) {
	oldPath, newPath := ownersReports(t)
	// The document names the reports as the command line did: run from
	// their directory, so that the golden file does not hold a temporary
	// path, and come back for the golden file.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(oldPath)
	t.Chdir(dir)
	oldPath, newPath = filepath.Base(oldPath), filepath.Base(newPath)
	res := runLocal(t, "diff", oldPath, newPath, "-f", "markdown", "--owner-tag", "owner")
	if res.code != exitFindings {
		t.Fatalf("exit %d, want %d (new findings, as diff exits without --owner-tag); stderr %s", res.code, exitFindings, res.stderr)
	}
	t.Chdir(wd)
	golden(t, filepath.Join("owners", "diff-owner-tag.md"), []byte(res.stdout))
	t.Chdir(dir)

	sections := map[string]string{}
	for _, part := range strings.Split(res.stdout, "\n### ")[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		sections[heading] = body
	}
	for _, tc := range []struct{ owner, want string }{
		{"payments", "**critical** root-access-key"},
		{"data-platform", "Resolved (1)"},
		{`security\@example\.com`, "**informational** root-password"},
		{`unknown \(tags not read\: AccessDenied\)`, "**critical** root-no-mfa"},
		{"unowned", "**Acquired** (555555555555), joined the organization"},
	} {
		t.Run("the section of "+tc.owner+" lists its findings", func(t *testing.T) {
			body, ok := sections[tc.owner]
			if !ok {
				t.Fatalf("no section for %q in:\n%s", tc.owner, res.stdout)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("the section of %q lacks %q:\n%s", tc.owner, tc.want, body)
			}
		})
	}
	t.Run("a hostile account name cannot forge a list item", func(t *testing.T) {
		if strings.Contains(res.stdout, "\n- [ ] forged") || strings.Contains(res.stdout, "<b>") {
			t.Errorf("the hostile name broke out:\n%s", res.stdout)
		}
		if !strings.Contains(res.stdout, "- **Sandbox \\| \\<b\\>x\\</b\\> \\*y\\* \\`z\\` - \\[ \\] forged** (333333333333)") {
			t.Errorf("the hostile name is not shown escaped:\n%s", res.stdout)
		}
	})
	t.Run("--fail-on none exits 0 with the same document", func(t *testing.T) {
		again := runLocal(t, "diff", "--fail-on", "none", "--owner-tag", "owner", "-f", "markdown", oldPath, newPath)
		if again.code != exitOK || again.stdout != res.stdout {
			t.Errorf("exit %d, same output %v; stderr %s", again.code, again.stdout == res.stdout, again.stderr)
		}
	})
	t.Run("without --owner-tag the owners are the security contacts", func(t *testing.T) {
		plain := runLocal(t, "diff", "-f", "markdown", oldPath, newPath)
		if plain.code != exitFindings {
			t.Fatalf("exit %d; stderr %s", plain.code, plain.stderr)
		}
		for _, want := range []string{"\n### security\\@example\\.com\n", "\n### unowned\n", "its security contact; without one, unowned."} {
			if !strings.Contains(plain.stdout, want) {
				t.Errorf("the markdown lacks %q:\n%s", want, plain.stdout)
			}
		}
		if strings.Contains(plain.stdout, "\n### payments\n") {
			t.Error("the owner tag was used without --owner-tag")
		}
	})
}

func TestOwnerTagIsRefusedWhereItDoesNothing(t *testing.T) {
	oldPath, newPath := ownersReports(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"diff as a table", []string{"diff", "--owner-tag", "owner", oldPath, newPath}, "add -f markdown"},
		{"diff as json", []string{"diff", "-f", "json", "--owner-tag", "owner", oldPath, newPath}, "add -f markdown"},
		{"diff with a key no account can have", []string{"diff", "-f", "markdown", "--owner-tag", "owner*", oldPath, newPath}, "--owner-tag: tag key"},
		{"diff with an empty key", []string{"diff", "-f", "markdown", "--owner-tag", "", oldPath, newPath}, "--owner-tag: tag key is empty"},
		{"scan without an HTML report", []string{"scan", "--owner-tag", "owner", "-f", "json"}, "add -f html or --out FILE.html"},
		{"scan with a key of 129 characters", []string{"scan", "--owner-tag", strings.Repeat("k", 129), "-f", "html"}, "at most 128"},
		{"demo without an HTML report", []string{"demo", "--owner-tag", "owner", "--out", "report.csv"}, "add -f html or --out FILE.html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runLocal(t, tc.args...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
				t.Errorf("stderr %q, want one line containing %q", res.stderr, tc.want)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
		})
	}
}

func TestOwnerTagImpliesTags(t *testing.T) {
	for _, cmd := range []struct {
		name string
		new  func(*runEnv, func(*scanOptions) error) *cobra.Command
	}{{"scan", newCmdScan}, {"demo", newCmdDemo}} {
		t.Run(cmd.name+" reads the tags it groups by", func(t *testing.T) {
			o, err := parseArgs(t, cmd.new, "--owner-tag", "team", "-f", "html")
			if err != nil {
				t.Fatal(err)
			}
			if !o.Tags || o.OwnerTag != "team" {
				t.Errorf("Tags %v, OwnerTag %q; want true, team", o.Tags, o.OwnerTag)
			}
		})
	}
	t.Run("without it, tags stay unread", func(t *testing.T) {
		o, err := parseArgs(t, newCmdScan, "-f", "html")
		if err != nil {
			t.Fatal(err)
		}
		if o.Tags {
			t.Error("Tags is set without --tags or --owner-tag")
		}
	})
}

func TestScanHTMLGroupsByOwner(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	dir := t.TempDir()
	page := filepath.Join(dir, "audit.html")
	res := s.run(t, "scan", "-q", "--out", page, "--out", filepath.Join(dir, "audit.json"), "--owner-tag", "owner")
	if res.code != exitOK && res.code != exitIncomplete {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`<section id="owners">`)) || !bytes.Contains(b, []byte(`<b class="mono">owner</b>`)) {
		t.Error("the HTML report has no owner section")
	}
	// --owner-tag read the tags without --tags: some owner comes from one.
	if !bytes.Contains(b, []byte(`<span class="st st-ok">tag</span></h3>`)) {
		t.Error("no owner in the HTML report comes from a tag")
	}
	t.Run("without --owner-tag the report has none", func(t *testing.T) {
		res := s.run(t, "scan", "-q", "-f", "html")
		if res.code != exitOK && res.code != exitIncomplete {
			t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
		}
		if strings.Contains(res.stdout, `id="owners"`) {
			t.Error("an owner section without --owner-tag")
		}
	})
}
