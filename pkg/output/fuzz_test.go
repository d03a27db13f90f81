package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema/schematest"
)

// fuzzReport puts outside text everywhere AWS could: names, emails, OU
// paths, error messages and the details' last-used service.
func fuzzReport(name, email string) *scan.Report {
	rep := goldenReport(true)
	rep.Accounts = append(rep.Accounts[:0],
		scan.Row{
			AccountID: "999999999999", AccountName: name, Email: email, OUPath: "Root/" + name,
			State: "ACTIVE", AccessMethod: scan.AccessAssumeRole, Status: scan.StatusOK,
			RootAccessKeys: ptr(true), Findings: []string{scan.FindingRootAccessKey},
			RootCredentials: &scan.RootCredentials{
				Source: scan.SourceCredentialReport, AsOf: t0,
				AccessKeys: []scan.AccessKeyDetail{{ID: email, Active: true, CreatedAt: at(0), LastUsedAt: at(0),
					LastUsedService: name, LastUsedRegion: email}},
				MFA: scan.MFADetail{Devices: []scan.MFADevice{{Serial: name}}},
			},
		},
		scan.Row{
			AccountID: "888888888888", AccountName: email, Email: name, State: name,
			Status: scan.StatusError, ErrorCode: scan.CodeUnknown, Error: name + email,
		},
	)
	rep.Scan.Counts = scan.Count(rep.Accounts)
	rep.Scan.OrganizationID, rep.Scan.CallerARN = name, email
	return rep
}

func addSeeds(f *testing.F) {
	f.Add(hostileName, "-2+3@evil.example")
	f.Add("Prod 本番", "=HYPERLINK(\"x\")@example.com")
	f.Add("\t=1+1", "\r@SUM(A1)")
	f.Add("a\"b,c\nd", "\xff\xfe")
	f.Add("\x1b]8;;http://evil\x1b\\click", "\u202Emoc.elpmaxe@toor")
	f.Add("\u3000=cmd|' /C calc'!A0", "\u00a0=1+1@example.com")
	f.Add("＝HYPERLINK(\"http://evil.example\")", "﹦1+1@example.com")
	f.Add("＋1＋1", "﹢1@example.com")
	f.Add("－1", "﹣1@example.com")
	f.Add("＠SUM(A1)", "﹫SUM(A1)@example.com")
	f.Add("a;=cmd|' /C calc'!A0", "b;@SUM(A1)@example.com")
	f.Add("\tname", "\rmail@example.com")
}

func FuzzCSVWriter(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, name, email string) {
		rep := fuzzReport(name, email)
		for _, details := range []bool{false, true} {
			var buf bytes.Buffer
			w, err := New(FormatCSV, &buf, Options{Details: details})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(rep); err != nil {
				t.Fatal(err)
			}
			recs := parseCSV(t, buf.Bytes(), details)
			if len(recs) != 1+len(rep.Accounts) {
				t.Fatalf("%d records, want %d", len(recs), 1+len(rep.Accounts))
			}
			checkNoFormula(t, recs)
			checkSeparatorsQuoted(t, buf.Bytes(), len(csvColumns(details)))
			// A cell that led with a tab or line break, or with a formula
			// sign behind whitespace, keeps its text behind the apostrophe.
			var name string // the email, in the name column of the second row
			for _, rec := range recs[1:] {
				if rec[0] == "888888888888" {
					name = rec[indexOf(csvColumns(details), "account_name")]
				}
			}
			clean := Sanitize(email)
			if r, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(clean, unicode.IsSpace)); (email != "" && strings.ContainsRune("\t\r\n", rune(email[0]))) || strings.ContainsRune(formulaStarts, r) {
				if name != "'"+clean {
					t.Fatalf("email %q as a name is written %q, want it behind an apostrophe", email, name)
				}
			}
			for _, rec := range recs {
				for _, c := range rec {
					checkPrintable(t, c, false)
				}
			}
		}
	})
}

func FuzzTableWriter(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, name, email string) {
		rep := fuzzReport(name, email)
		for _, terminal := range []bool{false, true} {
			var buf bytes.Buffer
			w, err := New(FormatTable, &buf, Options{Details: true, Terminal: terminal, Now: fixedAt})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(rep); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			checkPrintable(t, out, true)
			// header, rows, blank line, counts, provenance, INCOMPLETE
			if got, want := strings.Count(out, "\n"), 1+len(rep.Accounts)+4; got != want {
				t.Fatalf("%d lines, want %d:\n%s", got, want, out)
			}
		}
	})
}

func FuzzJSONWriter(f *testing.F) {
	addSeeds(f)
	schemas := schematest.Compile(f)
	f.Fuzz(func(t *testing.T, name, email string) {
		rep := fuzzReport(name, email)

		out := render(t, FormatJSON, rep, Options{})
		if err := schematest.Validate(t, schemas.Report, out); err != nil {
			t.Fatalf("report does not validate: %v", err)
		}
		var doc struct{ Accounts []scan.Row }
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(name) && doc.Accounts[1].AccountName != name {
			t.Fatalf("name %q came back as %q", name, doc.Accounts[1].AccountName)
		}

		lines := strings.Split(strings.TrimSuffix(string(render(t, FormatNDJSON, rep, Options{})), "\n"), "\n")
		if len(lines) != len(rep.Accounts) {
			t.Fatalf("%d ndjson lines, want %d", len(lines), len(rep.Accounts))
		}
		for _, l := range lines {
			if err := schematest.Validate(t, schemas.Row, []byte(l)); err != nil {
				t.Fatalf("ndjson line does not validate: %v\n%s", err, l)
			}
		}
	})
}
