package output

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

func TestRowViewDetailCells(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name           string
		rc             *scan.RootCredentials
		age, used, pwd detailView
	}{
		{"without details every cell is unknown", nil,
			detailView{Text: "?", Key: "-1"}, detailView{Text: "?", Key: "0"}, detailView{Text: "?", Key: "0"}},
		{"without keys or password the cells say there is none",
			&scan.RootCredentials{AsOf: t0, Password: scan.PasswordDetail{Present: ptr(false)}},
			detailView{Text: "-", Key: "-2"}, detailView{Text: "-", Key: "0"}, detailView{Text: "-", Key: "0"}},
		{"the oldest key gives the age, the latest use the date and place",
			&scan.RootCredentials{AsOf: t0, AccessKeys: []scan.AccessKeyDetail{
				{CreatedAt: at(-30 * day), LastUsedAt: at(-2 * day), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
				{CreatedAt: at(-400 * day), LastUsedAt: at(-9 * day), LastUsedService: "ec2"},
			}, Password: scan.PasswordDetail{Present: ptr(true), LastUsedAt: at(-day)}},
			detailView{Text: "400d", Key: "400"}, detailView{Text: "2026-02-27", Where: "s3/eu-west-1", Key: "2026-02-27"},
			detailView{Text: "2026-02-28", Key: "2026-02-28"}},
		{"a key of unknown age makes the age unknown; keys never used say never",
			&scan.RootCredentials{AsOf: t0, AccessKeys: []scan.AccessKeyDetail{{CreatedAt: at(-30 * day)}, {}},
				Password: scan.PasswordDetail{Present: ptr(true)}},
			detailView{Text: "?", Key: "-1"}, detailView{Text: "never", Key: "1"}, detailView{Text: "never", Key: "1"}},
		{"a place from AWS is sanitized",
			&scan.RootCredentials{AsOf: t0, AccessKeys: []scan.AccessKeyDetail{
				{CreatedAt: at(0), LastUsedAt: at(0), LastUsedService: "s3\x1b[2J", LastUsedRegion: "\u202eus-east-1"},
			}},
			detailView{Text: "0d", Key: "0"}, detailView{Text: "2026-03-01", Where: "s3/us-east-1", Key: "2026-03-01"},
			detailView{Text: "?", Key: "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			age, used, pwd := detailViews(tc.rc, t0, dateOnly)
			if age != tc.age || used != tc.used || pwd != tc.pwd {
				t.Errorf("got\n  %+v\n  %+v\n  %+v\nwant\n  %+v\n  %+v\n  %+v", age, used, pwd, tc.age, tc.used, tc.pwd)
			}
		})
	}
}

// The view is the only place a row's display text comes from, so the
// renderers agree on it, hostile text included.
func TestRenderersShowTheRowsView(t *testing.T) {
	row := scan.Row{
		AccountID: "999999999999", AccountName: "Ops\x1b[31m", OUPath: "Root/\u202eOps", State: "ACTIVE",
		AccessMethod: scan.AccessAssumeRole, Status: scan.StatusOK, RootAccessKeys: ptr(true),
		// A finding that ends in an escape introducer must not swallow the
		// separator and the start of the next one.
		Findings:     []string{scan.FindingRootAccessKey, "from-a-newer-orgscan\x1b", ",=next"},
		DetailsError: &scan.DetailsError{Code: "AccessDenied\x07", Message: "no\tdetails"},
	}
	rep := &scan.Report{Accounts: []scan.Row{row}, Scan: scan.Meta{Complete: true}}
	v := newRowView(&rep.Accounts[0], time.Time{}, viewOptions{})
	for _, tc := range []struct {
		name, got, want string
	}{
		{"the name is sanitized", v.Name, "Ops"},
		{"the OU path loses its bidi override", v.OU, "Root/Ops"},
		{"each finding is sanitized on its own", strings.Join(v.Findings, "|"), "root-access-key|from-a-newer-orgscan|,=next"},
		{"the severity is the highest defined one", v.Severity, "critical"},
		{"the details error reads code: message", v.DetailsError.Text(), "AccessDenied: no details"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	table := string(render(t, FormatTable, rep, Options{}))
	csv := parseCSV(t, render(t, FormatCSV, rep, Options{}), false)
	page := html.UnescapeString(string(render(t, FormatHTML, rep, Options{})))
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"the table shows every finding, comma-separated, then the details error",
			strings.Contains(table, "root-access-key,from-a-newer-orgscan,,=next; AccessDenied: no details")},
		{"the CSV shows the view's severity", csv[1][indexOf(csvColumns(false), "severity")] == v.Severity},
		{"the HTML report shows the same findings and details error",
			strings.Contains(page, `<span class="tag">from-a-newer-orgscan</span> <span class="tag">,=next</span>`) &&
				strings.Contains(page, `<span class="code">AccessDenied</span>: no details`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("table:\n%s\ncsv: %q\nhtml rows:\n%s", table, csv, htmlRows(page))
			}
		})
	}
}

// htmlRows is the account table of an HTML report, for failure messages.
func htmlRows(page string) string {
	_, rest, _ := strings.Cut(page, `<table id="accounts">`)
	rows, _, _ := strings.Cut(rest, "</table>")
	return rows
}
