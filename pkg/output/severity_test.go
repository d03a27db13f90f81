package output

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

// severityReport has one row per severity level present, in an order that
// is neither by id nor by severity.
func severityReport() *scan.Report {
	row := func(id string, findings ...string) scan.Row {
		return scan.Row{AccountID: id, AccountName: "a" + id, OUPath: "Root", State: "ACTIVE", Status: scan.StatusOK, Findings: findings}
	}
	return &scan.Report{Accounts: []scan.Row{
		row("111111111111", scan.FindingRootPassword),
		row("222222222222", scan.FindingRootVirtualMFA, scan.FindingRootPassword),
		row("333333333333", scan.FindingRootPassword, scan.FindingRootAccessKey),
		row("444444444444"),
		row("555555555555", "root-from-a-newer-version"),
	}}
}

var wantSeverity = map[string]string{
	"111111111111": "informational",
	"222222222222": "medium",
	"333333333333": "critical",
	"444444444444": "",
	"555555555555": "unknown",
}

func TestTableAndCSVShowEachRowsHighestSeverity(t *testing.T) {
	t.Run("the CSV has a severity column", func(t *testing.T) {
		recs, err := csv.NewReader(strings.NewReader(string(render(t, FormatCSV, severityReport(), Options{})))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := -1
		for i, h := range recs[0] {
			if h == "severity" {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("no severity column in %v", recs[0])
		}
		for _, r := range recs[1:] {
			if r[col] != wantSeverity[r[0]] {
				t.Errorf("%s: severity %q, want %q", r[0], r[col], wantSeverity[r[0]])
			}
		}
	})
	t.Run("the table has a SEVERITY column", func(t *testing.T) {
		lines := strings.Split(string(render(t, FormatTable, severityReport(), Options{})), "\n")
		start := strings.Index(lines[0], "SEVERITY")
		if start < 0 {
			t.Fatalf("no SEVERITY column: %q", lines[0])
		}
		for _, l := range lines[1:6] {
			id := l[:12]
			got := strings.Fields(l[start:])[0]
			want := wantSeverity[id]
			if want == "" {
				want = "-"
			}
			if got != want {
				t.Errorf("%s: SEVERITY %q, want %q", id, got, want)
			}
		}
	})
}

func TestJSONPublishesTheFindingDefinitionsOnce(t *testing.T) {
	for _, contacts := range []bool{false, true} {
		t.Run(fmt.Sprintf("with contacts read %v", contacts), func(t *testing.T) {
			rep := severityReport()
			rep.Scan.Options.Contacts = contacts
			out := render(t, FormatJSON, rep, Options{})
			var doc struct {
				Definitions map[string]scan.Definition `json:"finding_definitions"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			// A scan without contacts cannot raise their finding, and its
			// report leaves the definition out, as reports always did.
			want := scan.Definitions()
			if !contacts {
				delete(want, scan.FindingNoSecurityContact)
			}
			if !reflect.DeepEqual(doc.Definitions, want) {
				t.Errorf("finding_definitions differ from scan.Definitions():\n%+v", doc.Definitions)
			}
			if n := strings.Count(string(out), `"finding_definitions"`); n != 1 {
				t.Errorf("finding_definitions appears %d times", n)
			}
		})
	}
	// NDJSON stays one account per line: a definitions line would break
	// every consumer that reads lines as rows.
	for _, line := range strings.Split(strings.TrimSpace(string(render(t, FormatNDJSON, severityReport(), Options{}))), "\n") {
		if !strings.HasPrefix(line, `{"account_id":`) {
			t.Errorf("NDJSON line is not an account row: %.60s", line)
		}
	}
}

func TestHTMLGroupsFindingsBySeverity(t *testing.T) {
	page := string(render(t, FormatHTML, severityReport(), Options{}))
	// The summary: one group per severity, most severe first.
	var order []string
	for _, part := range strings.Split(page, `<tbody class="sev-`)[1:] {
		order = append(order, part[:strings.IndexByte(part, '"')])
	}
	if want := []string{"critical", "high", "medium", "informational", "unknown"}; !reflect.DeepEqual(order, want) {
		t.Errorf("summary groups %v, want %v", order, want)
	}
	// The accounts: rows with findings, most severe first.
	var rows []string
	for _, part := range strings.Split(page, `<td class="id mono">`)[1:] {
		rows = append(rows, part[:12])
	}
	if want := []string{"555555555555", "333333333333", "222222222222", "111111111111", "444444444444"}; !reflect.DeepEqual(rows, want) {
		t.Errorf("account order %v, want %v", rows, want)
	}
}
