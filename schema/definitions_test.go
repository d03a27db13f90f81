package schema_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema/schematest"
)

// A report written before orgscan published finding definitions and MFA
// types must still validate, and so must one written after.
func TestReportSchemaAcceptsReportsBeforeAndAfterFindingDefinitions(t *testing.T) {
	s := schematest.Compile(t)
	old, err := os.ReadFile("testdata/report-v1-before-finding-definitions.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(doc map[string]any)) []byte {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal(old, &doc); err != nil {
			t.Fatal(err)
		}
		f(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	defs := func() map[string]any {
		b, err := json.Marshal(scan.Definitions())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	withDetails := func(doc map[string]any, f func(row, mfa map[string]any)) {
		for _, a := range doc["accounts"].([]any) {
			row := a.(map[string]any)
			if rc, ok := row["root_credentials"].(map[string]any); ok {
				f(row, rc["mfa"].(map[string]any))
				return
			}
		}
		t.Fatal("the old report has no row with root_credentials")
	}
	for _, tc := range []struct {
		name  string
		doc   []byte
		valid bool
	}{
		{"a report written before the change is valid", old, true},
		{"a report with finding definitions and MFA types is valid", edit(func(doc map[string]any) {
			doc["finding_definitions"] = defs()
			withDetails(doc, func(row, mfa map[string]any) {
				mfa["virtual"] = true
				row["findings"] = []any{scan.FindingRootVirtualMFA}
			})
		}), true},
		{"an MFA type that cannot be told is null", edit(func(doc map[string]any) {
			withDetails(doc, func(_, mfa map[string]any) { mfa["virtual"] = nil })
		}), true},
		{"an MFA type written as a string is rejected", edit(func(doc map[string]any) {
			withDetails(doc, func(_, mfa map[string]any) { mfa["virtual"] = "yes" })
		}), false},
		{"an unknown severity is rejected", edit(func(doc map[string]any) {
			d := defs()
			d[scan.FindingRootPassword].(map[string]any)["severity"] = "severe"
			doc["finding_definitions"] = d
		}), false},
		{"a definition without a remediation is rejected", edit(func(doc map[string]any) {
			d := defs()
			delete(d[scan.FindingRootAccessKey].(map[string]any), "remediation")
			doc["finding_definitions"] = d
		}), false},
		{"a control without an id is rejected", edit(func(doc map[string]any) {
			d := defs()
			ctl := d[scan.FindingRootAccessKey].(map[string]any)["controls"].([]any)[0].(map[string]any)
			delete(ctl, "id")
			doc["finding_definitions"] = d
		}), false},
		{"a report of a scan that read tags and contacts is valid", edit(func(doc map[string]any) {
			doc["finding_definitions"] = defs()
			meta := doc["scan"].(map[string]any)
			meta["options"].(map[string]any)["tags"] = true
			meta["options"].(map[string]any)["contacts"] = true
			meta["counts"].(map[string]any)["tags_errors"] = 1
			meta["counts"].(map[string]any)["security_contact_errors"] = 2
		}), true},
		{"a count of failed lookups of zero is left out, not written", edit(func(doc map[string]any) {
			doc["scan"].(map[string]any)["counts"].(map[string]any)["tags_errors"] = 0
		}), false},
		{"tags recorded as a string are rejected", edit(func(doc map[string]any) {
			doc["scan"].(map[string]any)["options"].(map[string]any)["tags"] = "owner"
		}), false},
		{"controls written as null are rejected in favour of an empty list", edit(func(doc map[string]any) {
			d := defs()
			d[scan.FindingRootPassword].(map[string]any)["controls"] = nil
			doc["finding_definitions"] = d
		}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schematest.Validate(t, s.Report, tc.doc)
			if tc.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tc.valid && err == nil {
				t.Errorf("want invalid, schema accepted it")
			}
		})
	}
}
