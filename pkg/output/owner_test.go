package output

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

// ownersReport is goldenReport with owners: tags, security contacts, and
// the failures to read them, on accounts with findings, errors and none.
func ownersReport() *scan.Report {
	rep := goldenReport(false)
	denied := &scan.LookupError{Code: "AccessDenied", Message: "not authorized to perform organizations:ListTagsForResource"}
	byID := map[string]*scan.Row{}
	for i := range rep.Accounts {
		byID[rep.Accounts[i].AccountID] = &rep.Accounts[i]
	}
	// Prod: tagged, critical findings.
	byID["222222222222"].Tags = map[string]string{"owner": "payments-team", "cost-center": "42"}
	// Management: tagged, an informational finding only.
	byID["111111111111"].Tags = map[string]string{"owner": "platform"}
	byID["111111111111"].Findings = []string{scan.FindingRootPassword}
	// The hostile account: a hostile owner tag, and a finding.
	byID["333333333333"].Tags = map[string]string{"owner": "<script>alert(1)</script>\x1b[31m\u202Eevil\n# heading"}
	byID["333333333333"].Findings = []string{scan.FindingRootNoMFA}
	// Data: an error, and its tags could not be read.
	byID["444444444444"].TagsError = denied
	// Old project: skipped, with a security contact and no owner tag.
	byID["555555555555"].Tags = map[string]string{"team": "legacy"}
	byID["555555555555"].SecurityContact = &scan.Contact{Name: "Ana Lima", Email: "ana@example.com", Title: "CISO", Phone: "+1 555 0100"}
	// Café: the same contact, clean.
	byID["777777777777"].SecurityContact = &scan.Contact{Name: "Ana Lima", Email: "ana@example.com"}
	// Late: not reached, same contact.
	byID["666666666666"].SecurityContact = &scan.Contact{Email: "ana@example.com"}
	// An unowned account with a critical finding.
	rep.Accounts = append(rep.Accounts, scan.Row{
		AccountID: "888888888888", AccountName: "Sandbox", Email: "sandbox@example.com",
		OUPath: "Root/Sandbox", State: "ACTIVE", JoinedMethod: "CREATED", AccessMethod: scan.AccessAssumeRole,
		RootAccessKeys: ptr(true), RootSigningCertificates: ptr(false), RootPassword: ptr(false), RootMFA: ptr(true),
		Findings: []string{scan.FindingRootAccessKey}, Status: scan.StatusOK, ScannedAt: at(5 * 60e9),
	})
	rep.Scan.Counts = scan.Count(rep.Accounts)
	return rep
}

// The golden file holds the owner section only: the rest of the page has
// goldens of its own, and is the same with or without the section.
func TestHTMLOwnersMatchesItsGoldenFile(t *testing.T) {
	out := string(render(t, FormatHTML, ownersReport(), Options{OwnerTag: "owner", Now: fixedAt}))
	start, end := strings.Index(out, "\n\n<section id=\"owners\">\n"), strings.Index(out, "\n\n<section>\n<h2>Accounts</h2>")
	if start < 0 || end < start || !strings.Contains(out[:start], `<section id="summary">`) {
		t.Fatal("the owner section is not between the findings and the accounts")
	}
	checkGolden(t, "html-owners", []byte(out[start+2:end+1]))
	without := string(render(t, FormatHTML, ownersReport(), Options{Now: fixedAt}))
	if without != out[:start]+out[end:] {
		t.Error("the page around the owner section differs from the page without it")
	}
}

func TestHTMLWithoutOwnerTagHasNoOwnerSection(t *testing.T) {
	out := string(render(t, FormatHTML, ownersReport(), Options{Now: fixedAt}))
	if strings.Contains(out, `id="owners"`) || strings.Contains(out, "Findings by owner") {
		t.Error("the owner section is shown without an owner tag")
	}
}

func TestHTMLOwnersGroupsAndOrders(t *testing.T) {
	rep := ownersReport()
	v := newHTMLView(rep, Options{OwnerTag: "owner"})
	if v.Owners == nil {
		t.Fatal("no owner section")
	}
	type group struct {
		name, sources, severity, summary string
		ids                              []string
	}
	var got []group
	for _, g := range v.Owners.Groups {
		gr := group{name: g.Name, sources: strings.Join(g.Sources, ","), severity: g.Severity, summary: g.Summary}
		for r := range g.Rows {
			gr.ids = append(gr.ids, r.View.ID)
		}
		got = append(got, gr)
	}
	hostileOwner := "<script>alert(1)</script>evil # heading"
	// The most severe first, more findings first among equals, then by
	// name; owners with unread accounts only come last, by name.
	want := []group{
		{"payments-team", "tag", "critical", "1 account, 1 with findings (6 findings)", []string{"222222222222"}},
		{hostileOwner, "tag", "critical", "1 account, 1 with findings (1 finding)", []string{"333333333333"}},
		{"unowned", "no owner", "critical", "1 account, 1 with findings (1 finding)", []string{"888888888888"}},
		{"platform", "tag", "informational", "1 account, 1 with findings (1 finding)", []string{"111111111111"}},
		{"ana@example.com", "security contact", "", "3 accounts, 1 not read", []string{"666666666666"}},
		{"unknown (tags not read: AccessDenied)", "owner not read", "", "1 account, 1 not read", []string{"444444444444"}},
	}
	if len(got) != len(want) {
		t.Fatalf("groups %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].name != want[i].name || got[i].sources != want[i].sources || got[i].severity != want[i].severity ||
			got[i].summary != want[i].summary || !slices.Equal(got[i].ids, want[i].ids) {
			t.Errorf("group %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if v.Owners.NoTags {
		t.Error("NoTags is set although accounts have tags")
	}
	if v.Owners.Quiet != "" {
		t.Errorf("Quiet = %q, want none: every owner has something to act on", v.Owners.Quiet)
	}

	t.Run("a report without tags says so, and groups by contact", func(t *testing.T) {
		rep := ownersReport()
		for i := range rep.Accounts {
			rep.Accounts[i].Tags, rep.Accounts[i].TagsError = nil, nil
		}
		out := string(render(t, FormatHTML, rep, Options{OwnerTag: "owner"}))
		if !strings.Contains(out, "No account in this report has tags") {
			t.Error("no note that the report has no tags")
		}
		if !strings.Contains(out, "<h3>ana@example.com <span") || !strings.Contains(out, "<h3>unowned <span") {
			t.Error("the accounts are not grouped by contact, then unowned")
		}
	})
	t.Run("owners with nothing to act on are only counted", func(t *testing.T) {
		rep := ownersReport()
		rep.Accounts = slices.DeleteFunc(rep.Accounts, func(r scan.Row) bool { return r.AccountID == "666666666666" })
		v := newHTMLView(rep, Options{OwnerTag: "owner"})
		if want := "1 more owner has no findings and no account left unread (2 accounts)."; v.Owners.Quiet != want {
			t.Errorf("Quiet = %q, want %q", v.Owners.Quiet, want)
		}
	})
	t.Run("a row with findings is both in its owner's group and in the accounts table", func(t *testing.T) {
		out := string(render(t, FormatHTML, rep, Options{OwnerTag: "owner"}))
		_, owners, _ := strings.Cut(out, `<section id="owners">`)
		owners, _, _ = strings.Cut(owners, "</section>")
		ids := regexp.MustCompile(`<td class="mono">(\d+)</td>`).FindAllStringSubmatch(owners, -1)
		if len(ids) != 6 {
			t.Errorf("%d accounts in the owner section, want 6", len(ids))
		}
		if n := strings.Count(out, `<td class="id mono">`); n != len(rep.Accounts) {
			t.Errorf("%d accounts in the table, want %d", n, len(rep.Accounts))
		}
	})
}

func TestHTMLOwnersEscapesHostileOwners(t *testing.T) {
	rep := hostileReport()
	for i := range rep.Accounts {
		h := hostileStrings[i%len(hostileStrings)]
		rep.Accounts[i].Tags = map[string]string{"owner": h}
		rep.Accounts[i].SecurityContact = &scan.Contact{Email: h + "@evil.example", Name: h}
	}
	rep.Accounts[0].Tags = nil
	rep.Accounts[1].Tags, rep.Accounts[1].TagsError = nil, &scan.LookupError{Code: hostileStrings[0], Message: hostileStrings[1]}
	out := string(render(t, FormatHTML, rep, Options{Details: true, OwnerTag: "owner"}))
	checkHTMLSafe(t, out)
	for _, want := range []string{
		"<h3>&lt;script&gt;alert(1)&lt;/script&gt;@evil.example <span",         // a hostile contact
		"<h3>&#39;&gt;&lt;svg onload=alert(1)&gt; <span",                       // a hostile tag
		"<h3>unknown (tags not read: &lt;script&gt;alert(1)&lt;/script&gt;) <", // a hostile error code
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not contain %q", want)
		}
	}

	t.Run("a hostile tag key is shown as text", func(t *testing.T) {
		out := string(render(t, FormatHTML, rep, Options{OwnerTag: "own</b><script>er\x1b[2J"}))
		checkHTMLSafe(t, out)
		if !strings.Contains(out, `<b class="mono">own&lt;/b&gt;&lt;script&gt;er`) {
			t.Error("the tag key is not shown escaped")
		}
	})
}

func TestOwnerLabel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		owner scan.Owner
		want  string
	}{
		{"a plain owner is kept", scan.Owner{Name: "payments", Source: scan.OwnerFromTag}, "payments"},
		{"control characters and escapes go", scan.Owner{Name: "pay\x1b[31mments\u202E\t", Source: scan.OwnerFromTag}, "payments"},
		{"newlines become spaces", scan.Owner{Name: "pay\nments", Source: scan.OwnerFromTag}, "pay ments"},
		{"an invisible owner is named as such", scan.Owner{Name: "\u200b\u202e", Source: scan.OwnerFromTag}, "(unprintable tag)"},
		{"an over-long owner is cut", scan.Owner{Name: strings.Repeat("é", 300), Source: scan.OwnerFromContact}, strings.Repeat("é", 255) + "…"},
		{"unowned stays unowned", scan.Owner{Name: scan.Unowned, Source: scan.OwnerNone}, "unowned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OwnerLabel(tc.owner); got != tc.want {
				t.Errorf("OwnerLabel(%q) = %q, want %q", tc.owner.Name, got, tc.want)
			}
		})
	}
}
