package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema/schematest"
)

// hostileTag is a tag value an account's owner could use against a
// spreadsheet or a terminal, as hostileName is for names.
const hostileTag = "=HYPERLINK(\"http://evil.example\")\t\r\x1b[31mred\u202Eevil"

var tagColumnKeys = []string{"owner", "team"}

// tagColumnsReport is the golden report of a scan that read tags and security
// contacts: tags with hostile values, one account without tags, one whose
// lookups failed, one without a security contact, and rows that were not
// looked up (skipped, not scanned).
func tagColumnsReport() *scan.Report {
	rep := goldenReport(false)
	contact := &scan.Contact{Name: "Dana Whitfield", Email: "security@example.com", Title: "Head of Security", Phone: "+1-206-555-0142"}
	for i := range rep.Accounts {
		r := &rep.Accounts[i]
		switch r.AccountID {
		case "111111111111":
			r.Tags = map[string]string{"owner": "platform@example.com", "team": "platform", "cost-center": "cc-1000"}
			r.SecurityContact = contact
		case "222222222222":
			r.Tags = map[string]string{"owner": "payments@example.com", "team": "payments"}
			r.SecurityContact = contact
		case "333333333333":
			r.Tags = map[string]string{"owner": hostileTag, "team": "-1+2@evil"}
			r.Findings = append(r.Findings, scan.FindingNoSecurityContact)
		case "444444444444":
			r.TagsError = &scan.LookupError{Code: scan.CodeAccessDenied, Message: "list the account's tags: AccessDeniedException: denied"}
			r.ContactError = &scan.LookupError{Code: scan.CodeAccessDenied, Message: "read the security contact: AccessDeniedException: =denied"}
		case "777777777777":
			r.Tags = map[string]string{}
			r.SecurityContact = &scan.Contact{Name: "Cafe\u0301 team"}
		}
	}
	rep.Scan.Options.Tags, rep.Scan.Options.Contacts = true, true
	rep.Scan.Counts = scan.Count(rep.Accounts)
	return rep
}

func TestOwnerColumnsMatchTheirGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		o            Options
	}{
		{"table-tag-columns", FormatTable, Options{TagColumns: tagColumnKeys}},
		{"csv-tag-columns", FormatCSV, Options{TagColumns: tagColumnKeys}},
		{"html-tag-columns", FormatHTML, Options{TagColumns: tagColumnKeys}},
		{"json-tag-columns", FormatJSON, Options{}},
		{"ndjson-tag-columns", FormatNDJSON, Options{}},
		{"ocsf-tag-columns", FormatOCSF, Options{}},
	} {
		t.Run(tc.name+" matches its golden file", func(t *testing.T) {
			o := tc.o
			o.Now = fixedAt
			checkGolden(t, tc.name, render(t, tc.format, tagColumnsReport(), o))
		})
	}
}

// TestOwnerColumnsWithoutTheOptionsChangeNothing: a report whose scan did
// not read tags or contacts renders as it always did, tag columns or not
// asked; only its cells say "?".
func TestOwnerColumnsWithoutTheOptionsChangeNothing(t *testing.T) {
	for _, format := range []string{FormatTable, FormatCSV, FormatHTML, FormatJSON, FormatNDJSON, FormatOCSF} {
		t.Run(format, func(t *testing.T) {
			plain := render(t, format, goldenReport(false), Options{Now: fixedAt})
			// The rows of a scan that read them, rendered without asking
			// for any column, differ only in JSON, which carries them.
			read := tagColumnsReport()
			read.Scan.Options.Contacts = false
			for i := range read.Accounts {
				read.Accounts[i].SecurityContact, read.Accounts[i].ContactError = nil, nil
				read.Accounts[i].Findings = slices.DeleteFunc(read.Accounts[i].Findings, func(f string) bool { return f == scan.FindingNoSecurityContact })
			}
			read.Scan.Counts = scan.Count(read.Accounts)
			got := render(t, format, read, Options{Now: fixedAt})
			switch format {
			case FormatJSON, FormatNDJSON:
				if !bytes.Contains(got, []byte(`"tags"`)) {
					t.Errorf("%s leaves the tags out", format)
				}
			case FormatOCSF:
				if !bytes.Contains(got, []byte(`"tags"`)) {
					t.Errorf("the OCSF resources leave the tags out")
				}
			default:
				if !bytes.Equal(got, plain) {
					t.Errorf("%s changed without tag columns asked for:\n%s", format, got)
				}
			}
		})
	}
}

// TestTagColumnsInCSVAreDefusedAsNamesAre: tag values come from account
// owners; a cell that would start a formula or carries controls is
// treated exactly as an account name is (csvCell).
func TestTagColumnsInCSVAreDefusedAsNamesAre(t *testing.T) {
	out := render(t, FormatCSV, tagColumnsReport(), Options{TagColumns: []string{"owner", "team", "=evil-key"}})
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the csv does not parse: %v", err)
	}
	col := func(name string) int {
		t.Helper()
		i := slices.Index(recs[0], name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, recs[0])
		}
		return i
	}
	if n := len(recs[0]); n != len(csvColumns(false))+3+2+5 {
		t.Errorf("%d columns: %q", n, recs[0])
	}
	row := func(id string) []string {
		for _, r := range recs[1:] {
			if r[col("account_id")] == id {
				return r
			}
		}
		t.Fatalf("no row for %s", id)
		return nil
	}
	hostile := row("333333333333")
	for _, tc := range []struct {
		name, column, raw string
	}{
		{"a formula with controls in a tag is defused like a name", "tag:owner", hostileTag},
		{"a value starting with - is a formula too", "tag:team", "-1+2@evil"},
		{"the account name beside it, for comparison", "account_name", hostileName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hostile[col(tc.column)]
			if got != csvCell(tc.raw) || !strings.HasPrefix(got, "'") || strings.ContainsAny(got, "\t\r\n\x1b\u202e") {
				t.Errorf("cell %q, want %q", got, csvCell(tc.raw))
			}
		})
	}
	t.Run("a tag key given as a column is a header cell like any other", func(t *testing.T) {
		if recs[0][len(csvColumns(false))+2] != "tag:=evil-key" {
			t.Errorf("header %q", recs[0])
		}
	})
	t.Run("a failed lookup leaves the tag cells empty and says why", func(t *testing.T) {
		r := row("444444444444")
		if r[col("tag:owner")] != "" || r[col("tags_error_code")] != scan.CodeAccessDenied || r[col("security_contact_error")] != csvCell("read the security contact: AccessDeniedException: =denied") {
			t.Errorf("row %q", r)
		}
	})
	t.Run("the contact's name, e-mail and title are there, its phone number is not", func(t *testing.T) {
		r := row("222222222222")
		if r[col("security_contact_name")] != "Dana Whitfield" || r[col("security_contact_email")] != "security@example.com" || r[col("security_contact_title")] != "Head of Security" {
			t.Errorf("row %q", r)
		}
		if bytes.Contains(out, []byte("555-0142")) {
			t.Error("the csv carries the contact's phone number")
		}
	})
}

func TestTableShowsOwnersWithoutThePhoneNumber(t *testing.T) {
	out := string(render(t, FormatTable, tagColumnsReport(), Options{TagColumns: tagColumnKeys, Now: fixedAt}))
	lines := strings.Split(out, "\n")
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"the header names the tag columns and the contact", strings.Contains(lines[0], "OWNER") && strings.Contains(lines[0], "TEAM") && strings.Contains(lines[0], "SECURITY CONTACT")},
		{"a contact reads name <e-mail>", strings.Contains(out, "Dana Whitfield <security@example.com>")},
		{"the phone number is never shown", !strings.Contains(out, "555-0142")},
		{"a failed lookup shows ? and its error", lineOf(lines, "444444444444", "?") && lineOf(lines, "444444444444", "list the account's tags")},
		{"an account without the tag shows -", lineOf(lines, "777777777777", " - ")},
		{"the missing contact is its finding", lineOf(lines, "333333333333", scan.FindingNoSecurityContact)},
		{"hostile tag values lose their controls", !strings.ContainsAny(out, "\t\r\x1b\u202e")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("table:\n%s", out)
			}
		})
	}
}

func lineOf(lines []string, id, sub string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, id) && strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// TestJSONCarriesTagsAndContactsWhenRead: tags are an object (empty for an
// account without tags), a missing contact is null, and rows not looked up
// carry neither key; the document validates.
func TestJSONCarriesTagsAndContactsWhenRead(t *testing.T) {
	out := render(t, FormatJSON, tagColumnsReport(), Options{})
	schemas := schematest.Compile(t)
	if err := schematest.Validate(t, schemas.Report, out); err != nil {
		t.Fatalf("report does not validate: %v", err)
	}
	var doc struct {
		Scan struct {
			Options map[string]any `json:"options"`
		} `json:"scan"`
		Definitions map[string]any   `json:"finding_definitions"`
		Accounts    []map[string]any `json:"accounts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	rows := map[string]map[string]any{}
	for _, a := range doc.Accounts {
		rows[a["account_id"].(string)] = a
	}
	has := func(id, key string) bool { _, ok := rows[id][key]; return ok }
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"the options record tags and contacts", doc.Scan.Options["tags"] == true && doc.Scan.Options["contacts"] == true},
		{"the definitions include no-security-contact", doc.Definitions[scan.FindingNoSecurityContact] != nil},
		{"tags are an object", rows["222222222222"]["tags"].(map[string]any)["owner"] == "payments@example.com"},
		{"an account without tags has {}", len(rows["777777777777"]["tags"].(map[string]any)) == 0},
		{"a missing contact is null", has("333333333333", "security_contact") && rows["333333333333"]["security_contact"] == nil},
		{"a contact carries its phone in JSON", rows["222222222222"]["security_contact"].(map[string]any)["phone"] == "+1-206-555-0142"},
		{"a failed lookup has its error and no tags", !has("444444444444", "tags") && has("444444444444", "tags_error") && has("444444444444", "security_contact_error")},
		{"a skipped row carries neither", !has("555555555555", "tags") && !has("555555555555", "security_contact")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("%s", out)
			}
		})
	}
}

// TestOCSFResourcesCarryTheAccountsTags: resources[0].tags holds the
// account's tags as OCSF key_value_objects, by key.
func TestOCSFResourcesCarryTheAccountsTags(t *testing.T) {
	events := ocsfParse(t, FormatOCSF, render(t, FormatOCSF, tagColumnsReport(), Options{}))
	seen := 0
	for _, e := range events {
		res := get(e, "resources").([]any)[0].(map[string]any)
		switch id := res["uid"]; id {
		case "222222222222":
			seen++
			tags, _ := res["tags"].([]any)
			want := []any{map[string]any{"name": "owner", "value": "payments@example.com"}, map[string]any{"name": "team", "value": "payments"}}
			if b1, b2 := mustJSON(t, tags), mustJSON(t, want); b1 != b2 {
				t.Errorf("tags %s, want %s", b1, b2)
			}
		case "444444444444", "555555555555":
			if _, ok := res["tags"]; ok {
				t.Errorf("%s has tags it could not have read", id)
			}
		}
		if get(e, "finding_info.title") == nil {
			t.Errorf("event without a title")
		}
	}
	if seen == 0 {
		t.Fatal("no event of 222222222222")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzCSVTagColumns puts outside text in tag values and the security
// contact: every cell must come out exactly as the same text does as an
// account name, with no formula start and no control character.
func FuzzCSVTagColumns(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, name, email string) {
		rep := tagColumnsReport()
		r := &rep.Accounts[0]
		r.AccountName = name
		r.Tags = map[string]string{"owner": name, "team": email}
		r.SecurityContact = &scan.Contact{Name: name, Email: email, Title: email}
		r.ContactError = nil
		out := render(t, FormatCSV, rep, Options{TagColumns: tagColumnKeys})
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("the csv does not parse back: %v\n%s", err, out)
		}
		checkNoFormula(t, recs)
		checkSeparatorsQuoted(t, out, len(recs[0]))
		row := slices.IndexFunc(recs, func(rec []string) bool { return rec[0] == r.AccountID })
		if row < 1 {
			t.Fatalf("no record of %s", r.AccountID)
		}
		col := func(c string) string { return recs[row][slices.Index(recs[0], c)] }
		asName := col("account_name")
		for _, c := range []string{"tag:owner", "security_contact_name"} {
			if col(c) != asName {
				t.Fatalf("%s is written %q, the same text as a name %q", c, col(c), asName)
			}
		}
		for _, c := range []string{"tag:team", "security_contact_email", "security_contact_title"} {
			if col(c) != csvCell(email) {
				t.Fatalf("%s is written %q, want %q", c, col(c), csvCell(email))
			}
		}
		for _, rec := range recs {
			for _, c := range rec {
				checkPrintable(t, c, false)
			}
		}
	})
}
