package scan_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/scan"
)

// verifiedControls are the control ids checked against the published
// documents (see the sources in definitions.go); a definition may name no
// other.
var verifiedControls = map[string]map[string]string{
	"AWS Security Hub": {
		"IAM.4": "IAM root user access key should not exist",
		"IAM.6": "Hardware MFA should be enabled for the root user",
		"IAM.9": "MFA should be enabled for the root user",
		// https://docs.aws.amazon.com/securityhub/latest/userguide/account-controls.html#account-1
		"Account.1": "Security contact information should be provided for an AWS account",
	},
	"CIS AWS Foundations Benchmark v3.0.0": {
		"1.4": "Ensure no 'root' user account access key exists",
		"1.5": "Ensure MFA is enabled for the 'root' user account",
		"1.6": "Ensure hardware MFA is enabled for the 'root' user account",
		"1.7": "Eliminate use of the 'root' user for administrative and daily tasks",
		// prowler-cloud/prowler prowler/compliance/aws/cis_3.0_aws.json
		"1.2": "Ensure security contact information is registered",
	},
	"CIS AWS Foundations Benchmark v5.0.0": {
		"1.3": "Ensure no 'root' user account access key exists",
		"1.4": "Ensure MFA is enabled for the 'root' user account",
		"1.5": "Ensure hardware MFA is enabled for the 'root' user account",
		"1.6": "Eliminate use of the 'root' user for administrative and daily tasks",
		// Security Hub's Account.1 names CIS v5.0.0 1.2 among its related
		// requirements.
		"1.2": "Ensure security contact information is registered",
	},
}

// findingConstants reads the Finding* string constants of the package, so
// that a finding added without a definition fails here.
func findingConstants(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Finding") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, v)
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

func TestEveryFindingHasACompleteDefinition(t *testing.T) {
	defs := scan.Definitions()
	ids := findingConstants(t)
	if len(ids) < 8 {
		t.Fatalf("found only %d finding constants: %v", len(ids), ids)
	}
	for _, id := range ids {
		t.Run(id+" has a severity, a summary, a remediation and verified controls", func(t *testing.T) {
			d, ok := defs[id]
			if !ok {
				t.Fatalf("no definition")
			}
			if d.Severity.Rank() == 0 {
				t.Errorf("severity %q is not one of %v", d.Severity, scan.Severities())
			}
			if d.Summary == "" || d.Remediation == "" || strings.Contains(d.Remediation, "\n") {
				t.Errorf("summary %q, remediation %q: want one line each", d.Summary, d.Remediation)
			}
			if d.Controls == nil {
				t.Errorf("controls is nil: an empty list says no public control corresponds")
			}
			for _, c := range d.Controls {
				if title, ok := verifiedControls[c.Standard][c.ID]; !ok || title != c.Title {
					t.Errorf("control %+v is not in the verified list", c)
				}
			}
		})
	}
	if len(defs) != len(ids) {
		t.Errorf("%d definitions for %d findings", len(defs), len(ids))
	}
}

func TestSeverities(t *testing.T) {
	for _, tc := range []struct {
		name     string
		findings []string
		min      scan.Severity
		want     bool
	}{
		{"the management account's password alone passes the default threshold", []string{scan.FindingRootPassword}, scan.SeverityLow, false},
		{"the management account's password fails at informational", []string{scan.FindingRootPassword}, scan.SeverityInformational, true},
		{"a root access key fails at critical", []string{scan.FindingRootPassword, scan.FindingRootAccessKey}, scan.SeverityCritical, true},
		{"a virtual MFA device passes at high", []string{scan.FindingRootVirtualMFA}, scan.SeverityHigh, false},
		{"a finding this version does not know fails any threshold", []string{"root-something-new"}, scan.SeverityCritical, true},
		{"no findings pass", nil, scan.SeverityInformational, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scan.AnyAtLeast(tc.findings, tc.min); got != tc.want {
				t.Errorf("AnyAtLeast(%v, %s) = %v, want %v", tc.findings, tc.min, got, tc.want)
			}
		})
	}
	if got := scan.HighestSeverity([]string{scan.FindingRootPassword, scan.FindingCredentialOld, "unknown-id"}); got != scan.SeverityMedium {
		t.Errorf("HighestSeverity = %q, want medium", got)
	}
	if _, err := scan.ParseSeverity("severe"); err == nil || !strings.Contains(err.Error(), "critical, high, medium, low, informational") {
		t.Errorf("ParseSeverity(severe) = %v, want an error naming the choices", err)
	}
	if got := scan.HighestSeverity([]string{scan.FindingRootPassword}); got != scan.SeverityInformational {
		t.Errorf("root-password is %q: the management account's root user must keep a password", got)
	}
}

// mfaWorld is handWorld with the management account's root MFA virtual,
// so the caller's own account has one too.
func mfaWorld(deny bool) *awssim.Fixture {
	fx := detailsWorld()
	fx.Accounts[0].Root.MFA = "virtual"
	if deny {
		fx.Credentials[0].Deny = []awssim.DenyStatement{{Actions: []string{"iam:ListVirtualMFADevices"}, Resources: []string{"*"}}}
	}
	return fx
}

func mfaScan(t *testing.T, fx *awssim.Fixture, useRoot bool) map[string]scan.Row {
	t.Helper()
	w := newWorld(t, fx, awssim.Options{Now: func() time.Time { return simNow }})
	cfg := w.config()
	cfg.Now = func() time.Time { return simNow }
	cfg.Methods = []scan.Method{w.roleMethod(roleName, "")}
	if useRoot {
		cfg.Methods = []scan.Method{w.rootMethod()}
	}
	cfg.Details = scan.NewDetailsReader(w.IAM, cfg.Now)
	return rowsByID(w.run(t, cfg).Rows)
}

func TestRootVirtualMFA(t *testing.T) {
	const virtual, hardware = "222222222222", "100000000002"
	type want struct {
		virtual *bool
		finding bool
	}
	for _, tc := range []struct {
		name    string
		fx      *awssim.Fixture
		useRoot bool
		want    map[string]want
	}{
		{"a root session lists the devices with their types", mfaWorld(false), true, map[string]want{
			virtual: {ptr(true), true}, hardware: {ptr(false), false}}},
		{"an assumed role lists the account's virtual devices assigned to root", mfaWorld(false), false, map[string]want{
			virtual: {ptr(true), true}, hardware: {ptr(false), false}}},
		{"the caller's own account lists its virtual devices assigned to root", mfaWorld(false), false, map[string]want{
			mgmtID: {ptr(true), true}}},
		{"the credential report alone cannot tell the type", mfaWorld(true), false, map[string]want{
			mgmtID: {nil, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := mfaScan(t, tc.fx, tc.useRoot)
			for id, w := range tc.want {
				r := rows[id]
				if r.RootCredentials == nil {
					t.Fatalf("%s: no details (status %s, %s)", id, r.Status, r.Error)
				}
				mfa := r.RootCredentials.MFA
				if !isTrue(mfa.Enabled) {
					t.Errorf("%s: MFA enabled = %v", id, mfa.Enabled)
				}
				if (mfa.Virtual == nil) != (w.virtual == nil) || mfa.Virtual != nil && *mfa.Virtual != *w.virtual {
					t.Errorf("%s: virtual = %v, want %v (devices %+v)", id, fmtBool(mfa.Virtual), fmtBool(w.virtual), mfa.Devices)
				}
				if got := slices.Contains(r.Findings, scan.FindingRootVirtualMFA); got != w.finding {
					t.Errorf("%s: %s raised = %v, want %v (findings %v)", id, scan.FindingRootVirtualMFA, got, w.finding, r.Findings)
				}
				if w.virtual != nil && *w.virtual && !slices.ContainsFunc(mfa.Devices, func(d scan.MFADevice) bool {
					return d.Type == "virtual" && strings.HasSuffix(d.Serial, ":mfa/root-account-mfa-device")
				}) {
					t.Errorf("%s: the virtual device is not listed: %+v", id, mfa.Devices)
				}
			}
		})
	}
}

func TestGovCloudRaisesNoRootNoMFA(t *testing.T) {
	for _, tc := range []struct {
		name      string
		partition string
		want      bool
	}{
		{"the commercial partition raises root-no-mfa", "aws", true},
		{"GovCloud, where root MFA cannot be enabled, does not", scan.PartitionGovCloud, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, handWorld(), awssim.Options{})
			cfg := w.config()
			cfg.Partition = tc.partition
			rows := rowsByID(w.run(t, cfg).Rows)
			for _, id := range []string{"333333333333", "444444444444"} {
				if got := slices.Contains(rows[id].Findings, scan.FindingRootNoMFA); got != tc.want {
					t.Errorf("%s: root-no-mfa = %v, want %v (findings %v)", id, got, tc.want, rows[id].Findings)
				}
			}
			// The other findings stay: a GovCloud root key is still a key.
			if !slices.Contains(rows["333333333333"].Findings, scan.FindingRootAccessKey) {
				t.Errorf("root-access-key lost: %v", rows["333333333333"].Findings)
			}
		})
	}
}
