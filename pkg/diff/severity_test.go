package diff_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/orgscan/orgscan/pkg/diff"
	"github.com/orgscan/orgscan/pkg/scan"
)

// oldReport is a JSON report written before reports carried finding
// definitions and MFA types.
func oldReport(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/report-v1-before-finding-definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newReport is the old report as this version writes it, with findings
// added to the first scanned account.
func newReport(t *testing.T, add ...string) (doc []byte, accountID string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(oldReport(t), &m); err != nil {
		t.Fatal(err)
	}
	defs, err := json.Marshal(scan.Definitions())
	if err != nil {
		t.Fatal(err)
	}
	m["finding_definitions"] = json.RawMessage(defs)
	for _, a := range m["accounts"].([]any) {
		row := a.(map[string]any)
		if rc, ok := row["root_credentials"].(map[string]any); ok {
			rc["mfa"].(map[string]any)["virtual"] = true
		}
		fs, _ := row["findings"].([]any)
		if accountID == "" && row["status"] == scan.StatusOK && !hasAny(fs, add) {
			accountID = row["account_id"].(string)
			for _, f := range add {
				fs = append(fs, f)
			}
			row["findings"] = fs
		}
	}
	if accountID == "" {
		t.Fatalf("no scanned account without %v in the old report", add)
	}
	doc, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return doc, accountID
}

func hasAny(have []any, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func TestDiffReadsReportsWrittenBeforeAndAfterFindingDefinitions(t *testing.T) {
	old, err := diff.Read(bytes.NewReader(oldReport(t)))
	if err != nil {
		t.Fatalf("read the old report: %v", err)
	}
	raw, id := newReport(t, scan.FindingRootVirtualMFA)
	cur, err := diff.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read the new report: %v", err)
	}
	if len(old.Rows) == 0 || len(old.Rows) != len(cur.Rows) {
		t.Fatalf("rows: old %d, new %d", len(old.Rows), len(cur.Rows))
	}
	d := diff.Compare(old, cur)
	if len(d.Changes) != 1 || d.Changes[0].AccountID != id || len(d.Changes[0].FindingsAdded) != 1 {
		t.Fatalf("changes %+v, want %s with one new finding", d.Changes, id)
	}
}

func TestNewFindingsFailAtTheSeverityThreshold(t *testing.T) {
	old, err := diff.Read(bytes.NewReader(oldReport(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		added []string
		min   scan.Severity
		want  bool
	}{
		{"a new root access key fails at critical", []string{scan.FindingRootAccessKey}, scan.SeverityCritical, true},
		{"a new virtual MFA device (medium) fails at the default low", []string{scan.FindingRootVirtualMFA}, scan.SeverityLow, true},
		{"a new virtual MFA device passes at high", []string{scan.FindingRootVirtualMFA}, scan.SeverityHigh, false},
		{"a new root password (informational) passes at low", []string{scan.FindingRootPassword}, scan.SeverityLow, false},
		{"a new root password fails at informational", []string{scan.FindingRootPassword}, scan.SeverityInformational, true},
		{"a finding this version does not know fails", []string{"root-something-new"}, scan.SeverityCritical, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := newReport(t, tc.added...)
			cur, err := diff.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			d := diff.Compare(old, cur)
			if got := d.FailsAt(diff.FailOnNewFindings, tc.min); got != tc.want {
				t.Errorf("FailsAt(new-findings, %s) = %v, want %v", tc.min, got, tc.want)
			}
			if !d.FailsAt(diff.FailOnNewFindings, "") {
				t.Errorf("FailsAt without a threshold must count every new finding")
			}
			if d.FailsAt(diff.FailOnNone, scan.SeverityInformational) {
				t.Errorf("--fail-on none failed")
			}
		})
	}
}
