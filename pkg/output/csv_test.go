package output

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/scan"
)

// parseCSV reads the whole output back, failing on any record whose
// field count differs from the header's (encoding/csv enforces it).
func parseCSV(t *testing.T, out []byte, details bool) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the csv does not parse back: %v\n%s", err, out)
	}
	if want := csvColumns(details); len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(want, ",") {
		t.Fatalf("header %q, want %q", recs[0], want)
	}
	return recs
}

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (OWASP's list, and the full-width and small forms of
// its signs), written out here apart from csv.go's own test of them.
const formulaStarts = "=+-@\t\r\n＝＋－＠﹦﹢﹣﹫"

// checkNoFormula fails on a cell that, past any leading whitespace,
// Unicode's included, begins with a formula start.
func checkNoFormula(t *testing.T, recs [][]string) {
	t.Helper()
	for i, rec := range recs {
		for j, c := range rec {
			if c != "" && strings.ContainsRune("\t\r\n", rune(c[0])) {
				t.Fatalf("record %d field %d begins with a tab or line break: %q", i, j, c)
			}
			if r, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(c, unicode.IsSpace)); strings.ContainsRune(formulaStarts, r) {
				t.Fatalf("record %d field %d begins with a formula character: %q", i, j, c)
			}
		}
	}
}

// checkSeparatorsQuoted fails when a comma or semicolon of the raw csv
// stands outside quotes without being one of the header's separators: a
// spreadsheet that splits on semicolons must see one cell per line, and
// one that splits on commas the columns of the header.
func checkSeparatorsQuoted(t *testing.T, out []byte, columns int) {
	t.Helper()
	quoted := false
	commas := 0
	for i, c := range out {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ';':
			t.Fatalf("a semicolon outside quotes at byte %d: %q", i, out[max(0, i-40):min(len(out), i+40)])
		case c == ',':
			commas++
		case c == '\n':
			if commas != columns-1 {
				t.Fatalf("a line with %d separators outside quotes, want %d: %q", commas, columns-1, out[max(0, i-80):i])
			}
			commas = 0
		}
	}
	if quoted {
		t.Fatal("the csv ends inside a quoted field")
	}
}

func TestCSVNeutralisesHostileCells(t *testing.T) {
	for _, details := range []bool{false, true} {
		name := "without details"
		if details {
			name = "with details"
		}
		t.Run(name+", the csv parses back with one field per column and no live formula", func(t *testing.T) {
			recs := parseCSV(t, render(t, FormatCSV, goldenReport(details), Options{Details: details}), details)
			if len(recs) != 1+len(goldenReport(details).Accounts) {
				t.Fatalf("%d records, want a header and %d rows", len(recs), len(goldenReport(details).Accounts))
			}
			checkNoFormula(t, recs)
			byID := map[string][]string{}
			for _, r := range recs[1:] {
				byID[r[0]] = r
			}
			col := func(name string) int { return indexOf(csvColumns(details), name) }
			hostile := byID["333333333333"]
			for _, tc := range []struct{ got, want string }{
				{hostile[col("account_name")], "'" + Sanitize(hostileName)},
				{hostile[col("email")], "'-2+3@evil.example"},
				{hostile[col("ou_path")], "Root/Sandbox/Evil"},
				{byID["444444444444"][col("error")][:2], "'="},
			} {
				if tc.got != tc.want {
					t.Errorf("cell %q, want %q", tc.got, tc.want)
				}
			}
			for _, c := range hostile {
				checkPrintable(t, c, false)
			}
		})
	}
}

func indexOf(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	panic("no column " + name)
}

func TestCSVCell(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a plain value is unchanged", "Prod", "Prod"},
		{"an empty value stays empty", "", ""},
		{"an equals sign is defused", "=1+1", "'=1+1"},
		{"a plus sign is defused", "+1", "'+1"},
		{"a minus sign is defused", "-1", "'-1"},
		{"an at sign is defused", "@SUM(A1)", "'@SUM(A1)"},
		{"a formula behind a tab is defused", "\t=1", "' =1"},
		{"a formula behind a carriage return is defused", "\r=1", "' =1"},
		{"a formula behind spaces is defused", "  =1", "'  =1"},
		{"a formula sign inside the value is left alone", "a=b", "a=b"},
		{"an escape sequence is removed", "a\x1b[31mb", "ab"},
		{"a formula behind an ideographic space is defused", "\u3000=1", "'\u3000=1"},
		{"a formula behind a no-break space is defused", "\u00a0=1", "'\u00a0=1"},
		{"a formula behind other Unicode spaces is defused", "\u2003\u202f\u205f@SUM(A1)", "'\u2003\u202f\u205f@SUM(A1)"},
		{"a formula behind a zero-width space is defused", "\u200b=1", "'=1"},
		{"a full-width equals sign is defused", "＝cmd|' /C calc'!A0", "'＝cmd|' /C calc'!A0"},
		{"a small equals sign is defused", "﹦1+1", "'﹦1+1"},
		{"a full-width plus sign is defused", "＋1", "'＋1"},
		{"a small plus sign is defused", "﹢1", "'﹢1"},
		{"a full-width minus sign is defused", "－1", "'－1"},
		{"a small minus sign is defused", "﹣1", "'﹣1"},
		{"a full-width at sign is defused", "＠SUM(A1)", "'＠SUM(A1)"},
		{"a small at sign is defused", "﹫SUM(A1)", "'﹫SUM(A1)"},
		{"a full-width sign behind an ideographic space is defused", "\u3000＝1", "'\u3000＝1"},
		{"a leading tab is defused even before plain text", "\tabc", "' abc"},
		{"a leading carriage return is defused even before plain text", "\rabc", "' abc"},
		{"a leading line feed is defused even before plain text", "\nabc", "' abc"},
		{"a full-width sign inside the value is left alone", "a＝b", "a＝b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := csvCell(tc.in); got != tc.want {
				t.Errorf("csvCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSVQuotesEveryCellThatHoldsASeparator(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"a semicolon, which splits cells where the decimal mark is a comma", "a;=cmd|' /C calc'!A0", `"a;=cmd|' /C calc'!A0"`},
		{"a comma", "Acme, Inc", `"Acme, Inc"`},
		{"a double quote, doubled", `say "hi"`, `"say ""hi"""`},
		{"an apostrophe, which some imports take for a quote", "O'Brien", `"O'Brien"`},
		{"a defused formula, as OWASP's own examples are", "=1+2", `"'=1+2"`},
		{"a leading space", " x", `" x"`},
		{"nothing to guard", "Prod 本番", "Prod 本番"},
	} {
		t.Run("a cell with "+tc.name+" is written "+tc.want, func(t *testing.T) {
			row := scan.Row{AccountID: "123456789012", AccountName: tc.value, Status: scan.StatusOK}
			out := render(t, FormatCSV, &scan.Report{Accounts: []scan.Row{row}}, Options{})
			line := strings.Split(string(out), "\r\n")[1]
			if got := strings.Split(strings.TrimPrefix(line, "123456789012,"), ",")[0]; !strings.HasPrefix(strings.TrimPrefix(line, "123456789012,"), tc.want+",") {
				t.Errorf("account_name written as %s..., want %s", got, tc.want)
			}
			checkSeparatorsQuoted(t, out, len(csvColumns(false)))
			recs := parseCSV(t, out, false)
			if got, want := recs[1][1], csvCell(tc.value); got != want {
				t.Errorf("the cell reads back as %q, want %q", got, want)
			}
		})
	}
}

func TestCSVValues(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	local := time.Date(2026, 1, 2, 4, 5, 6, 0, paris)
	row := scan.Row{
		AccountID: "123456789012", Status: scan.StatusOK,
		RootAccessKeys: ptr(true), RootSigningCertificates: ptr(false), RootPassword: nil, RootMFA: nil,
		Findings: []string{scan.FindingRootAccessKey, scan.FindingRootNoMFA}, ScannedAt: &local,
	}
	recs := parseCSV(t, render(t, FormatCSV, &scan.Report{Accounts: []scan.Row{row}}, Options{}), false)
	rec := recs[1]
	col := func(name string) string { return rec[indexOf(csvColumns(false), name)] }
	for _, tc := range []struct{ name, got, want string }{
		{"true is written as true", col("root_access_keys"), "true"},
		{"false is written as false", col("root_signing_certificates"), "false"},
		{"unknown is written as an empty cell", col("root_password") + col("root_mfa"), ""},
		{"findings are joined with semicolons", col("findings"), "root-access-key;root-no-mfa"},
		{"timestamps are RFC 3339 in UTC", col("scanned_at"), "2026-01-02T03:05:06Z"},
		{"a missing timestamp is an empty cell", col("joined_at"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestCSVRefusesMoreKeysThanItHasColumnsFor(t *testing.T) {
	row := scan.Row{AccountID: "123456789012", Status: scan.StatusOK, RootCredentials: &scan.RootCredentials{
		AccessKeys: make([]scan.AccessKeyDetail, 3),
	}}
	w, err := New(FormatCSV, &bytes.Buffer{}, Options{Details: true})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Close(&scan.Report{Accounts: []scan.Row{row}})
	if err == nil || !strings.Contains(err.Error(), "123456789012") {
		t.Errorf("Close error = %v, want one naming the account", err)
	}
}
