package output

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// demoClock is the scan's clock for the demo world's golden files.
var demoClock = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// demoReport scans the demo world (the one `orgscan demo` scans) through
// the real SDK clients against the simulator, the way `orgscan scan
// --access auto` does, with a fixed clock.
func demoReport(t testing.TB, details bool) *scan.Report {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		t.Fatalf("read the demo world: %v", err)
	}
	w := simtest.Start(t, fx, awssim.Options{}, 8)
	stsClient, iamClient, caller := w.STS, w.IAM, w.Caller
	now := func() time.Time { return demoClock }
	root := assume.NewRootMethod(stsClient, assume.RootOptions{Partition: caller.Partition})
	role := assume.NewRoleMethod(stsClient, assume.RoleOptions{
		Template: assume.RoleNameTemplate(awssim.DefaultRoleName), Partition: caller.Partition,
		SessionName: assume.SessionName(caller), Duration: 15 * time.Minute,
	})
	sc := scan.Config{
		Orgs: w.Organizations, IAM: iamClient,
		Methods:         []scan.Method{root, role},
		CallerAccountID: caller.AccountID, Concurrency: 8, AccountTimeout: 10 * time.Second,
		CentralRootManagement: fx.Organization.Features.RootCredentialsManagement,
		ManagementAccountID:   fx.Organization.ManagementAccountID,
		Thresholds:            scan.Thresholds{RecentDays: 90, MaxAgeDays: 365},
		Now:                   now,
		// The page shows the command's report, whose rows word their
		// hint with the flag that acts on it.
		OnRow: func(r *scan.Row) error {
			if r.Hint == scan.HintIncludeInactive {
				r.Error += " (use --include-inactive to try)"
			}
			return nil
		},
	}
	if details {
		sc.Details = scan.NewDetailsReader(iamClient, now)
	}
	res, err := scan.Run(ctx, sc)
	if err != nil {
		t.Fatalf("scan the demo world: %v", err)
	}
	if res.Err != nil || res.Interrupted {
		t.Fatalf("scan the demo world: err %v, interrupted %v", res.Err, res.Interrupted)
	}
	counts := scan.Count(res.Rows)
	return &scan.Report{
		Scan: scan.Meta{
			OrganizationID: fx.Organization.ID, ManagementAccountID: fx.Organization.ManagementAccountID,
			CallerARN: caller.ARN, CallerAccountID: caller.AccountID, Partition: caller.Partition,
			StartedAt: demoClock.Add(-4 * time.Second), FinishedAt: demoClock, Version: "1.0.0-test",
			Complete: counts.Errors == 0 && counts.NotScanned == 0,
			Options: scan.OptionsUsed{
				Access: "auto", RoleName: awssim.DefaultRoleName, Region: "us-east-1",
				Concurrency: 8, Details: details,
			},
			Counts:     counts,
			RootAccess: scan.RootAccessState{RootCredentialsManagement: "enabled", RootSessions: "enabled"},
		},
		Accounts: res.Rows,
	}
}

func TestHTMLGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		details bool
		report  func(t *testing.T) *scan.Report
	}{
		{"html-demo", false, func(t *testing.T) *scan.Report { return demoReport(t, false) }},
		{"html-demo-details", true, func(t *testing.T) *scan.Report { return demoReport(t, true) }},
		// Interrupted, with an error, a skipped and a not_scanned account,
		// unknown flags and a hostile name: the warnings and the escaping.
		{"html-details", true, func(*testing.T) *scan.Report { return goldenReport(true) }},
	} {
		t.Run(tc.name+" matches its golden file", func(t *testing.T) {
			checkGolden(t, tc.name, render(t, FormatHTML, tc.report(t), Options{Details: tc.details, Now: fixedAt}))
		})
	}
}

func TestHTMLDoesNotDependOnTheClock(t *testing.T) {
	rep := goldenReport(true)
	a := render(t, FormatHTML, rep, Options{Details: true, Now: fixedAt})
	b := render(t, FormatHTML, rep, Options{Details: true, Now: func() time.Time { return t0.Add(9000 * time.Hour) }})
	if !bytes.Equal(a, b) {
		t.Error("the report changed with the writer's clock: it must show only the report's own times")
	}
}

var (
	cspMeta    = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
	styleBody  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	scriptBody = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
)

func TestHTMLContentSecurityPolicyAllowsExactlyTheInlineStyleAndScript(t *testing.T) {
	out := string(render(t, FormatHTML, goldenReport(true), Options{Details: true}))
	m := cspMeta.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no Content-Security-Policy meta tag")
	}
	csp := html.UnescapeString(m[1])
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	styles, scripts := styleBody.FindAllStringSubmatch(out, -1), scriptBody.FindAllStringSubmatch(out, -1)
	if len(styles) != 1 || len(scripts) != 1 {
		t.Fatalf("%d style and %d script elements, want one of each", len(styles), len(scripts))
	}
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for _, tc := range []struct{ directive, want string }{
		{"default-src", "'none'"},
		{"style-src", hash(styles[0][1])},
		{"script-src", hash(scripts[0][1])},
		{"img-src", "data:"},
		{"base-uri", "'none'"},
		{"form-action", "'none'"},
	} {
		if got := directives[tc.directive]; got != tc.want {
			t.Errorf("%s is %q, want %q (policy %q)", tc.directive, got, tc.want, csp)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("the policy allows something unsafe: %q", csp)
	}
	if strings.Contains(out, " style=") {
		t.Error("an inline style attribute would be blocked by the policy")
	}
}

// The default order puts what needs action first.
func TestHTMLListsFindingsThenGapsThenSkippedThenClean(t *testing.T) {
	out := string(render(t, FormatHTML, goldenReport(true), Options{Details: true}))
	got := regexp.MustCompile(`<td class="id mono">(\d+)</td>`).FindAllStringSubmatch(out, -1)
	var ids []string
	for _, m := range got {
		ids = append(ids, m[1])
	}
	// 222 has findings; 444 errored; 666 was not reached; 555 is
	// suspended; 111, 333 and 777 are clean (by id within a group).
	want := []string{"222222222222", "444444444444", "666666666666", "555555555555", "111111111111", "333333333333", "777777777777"}
	if !slices.Equal(ids, want) {
		t.Errorf("rows in order %v, want %v", ids, want)
	}
}

func TestHTMLCoverageBanner(t *testing.T) {
	base := func() *scan.Report {
		rep := goldenReport(false)
		rep.Accounts = slices.DeleteFunc(rep.Accounts, func(r scan.Row) bool {
			return r.Status == scan.StatusError || r.Status == scan.StatusNotScanned
		})
		rep.Scan.Counts = scan.Count(rep.Accounts)
		rep.Scan.Complete, rep.Scan.Interrupted, rep.Scan.IncompleteReasons = true, false, nil
		return rep
	}
	for _, tc := range []struct {
		name   string
		report func() *scan.Report
		want   string
		alert  bool
	}{
		{"a complete scan says every active account was scanned", base,
			"Complete: every active account was scanned (4 of 4).", false},
		{"an interrupted scan warns and counts what was missed", func() *scan.Report { return goldenReport(false) },
			"Incomplete: the scan was interrupted.", true},
		{"errors warn with the number of accounts not scanned", func() *scan.Report {
			rep := goldenReport(false)
			rep.Scan.Interrupted = false
			rep.Scan.IncompleteReasons = []string{scan.ReasonAccountsInError}
			return rep
		}, "Incomplete: 1 account could not be scanned: their root credentials are unknown.", true},
		{"OUs not listed are named even when every row was read", func() *scan.Report {
			rep := base()
			rep.Scan.Complete = false
			rep.Scan.IncompleteReasons = []string{scan.ReasonOUsNotListed}
			rep.Scan.Counts.OUsNotListed = 1
			rep.Scan.OUsNotListed = []scan.OUFailure{{ID: "ou-ab12-cdefgh34", Path: "Root/Prod", Listing: scan.ListingAccounts,
				ErrorCode: "AccessDenied", Error: "AccessDeniedException: \x1b[2Jdenied"}}
			return rep
		}, "ou-ab12-cdefgh34 (Root/Prod): its accounts not listed: AccessDeniedException: ", true},
		{"a report that does not say why it is incomplete still warns", func() *scan.Report {
			rep := base()
			rep.Scan.Complete = false
			return rep
		}, "Incomplete: the report does not say why.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, FormatHTML, tc.report(), Options{}))
			if !strings.Contains(out, tc.want) {
				t.Errorf("no %q in the banner", tc.want)
			}
			if got := strings.Contains(out, `class="banner warn" role="alert"`); got != tc.alert {
				t.Errorf("warning banner shown = %v, want %v", got, tc.alert)
			}
		})
	}
}

func TestHTMLReadsWithoutScript(t *testing.T) {
	rep := goldenReport(true)
	out := string(render(t, FormatHTML, rep, Options{Details: true}))
	_, body, _ := strings.Cut(out, "<body>")
	body = scriptBody.ReplaceAllString(body, "")
	for _, r := range rep.Accounts {
		if !strings.Contains(body, ">"+r.AccountID+"<") {
			t.Errorf("account %s is not in the markup", r.AccountID)
		}
	}
	if !strings.Contains(body, `<div class="controls" id="controls" hidden>`) {
		t.Error("the sort and filter controls are not hidden until the script shows them")
	}
}

// hostile strings an account owner, an OU admin or an error message could
// carry.
var hostileStrings = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	`</style><script>alert(2)</script>`,
	`</title></text></svg><script>alert(3)</script>`,
	"\u202Egnp.exe\u2066isolated\u2069\u200B",
	"{{.CSP}} ]]> <!-- -->",
}

func hostileReport() *scan.Report {
	all := strings.Join(hostileStrings, " ")
	rep := goldenReport(true)
	for i := range rep.Accounts {
		r := &rep.Accounts[i]
		h := hostileStrings[i%len(hostileStrings)]
		r.AccountName, r.Email, r.OUPath = h+" name", h+"@evil.example", "Root/"+h
		r.State = h
		r.AccessMethod = h
		r.Findings = append(r.Findings, h)
		if r.Status == scan.StatusError {
			r.ErrorCode, r.Error = h, all
		}
		if r.RootCredentials != nil {
			for k := range r.RootCredentials.AccessKeys {
				r.RootCredentials.AccessKeys[k].LastUsedService = h
				r.RootCredentials.AccessKeys[k].LastUsedRegion = h
			}
		}
	}
	rep.Accounts[0].Status = all
	m := &rep.Scan
	m.OrganizationID, m.CallerARN, m.Version, m.Partition = all, all, all, all
	m.ManagementAccountID, m.CallerAccountID = all, all
	m.Options.Access, m.Options.RoleName, m.Options.RoleARNTemplate, m.Options.Region = all, all, all, all
	m.Options.OUs, m.Options.Accounts = hostileStrings, hostileStrings
	m.RootAccess = scan.RootAccessState{RootCredentialsManagement: all, RootSessions: all, Reason: all}
	return rep
}

var (
	// html/template escapes < and > in text and in attribute values, so a
	// raw < starts a tag and the next > ends it.
	tag       = regexp.MustCompile(`<(/?[a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>`)
	attribute = regexp.MustCompile(`\s([a-zA-Z:-]+)(?:=("[^"]*"|[^\s"]*))?`)
)

// templateTags are every element the template itself writes.
var templateTags = []string{
	"html", "head", "meta", "title", "link", "style", "body", "header", "h1", "h2", "h3", "p", "b",
	"time", "div", "strong", "section", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td",
	"svg", "g", "text", "rect", "span", "i", "label", "input", "select", "option", "output", "footer", "script",
}

// checkHTMLSafe fails when out holds anything that did not come from the
// template.
func checkHTMLSafe(t *testing.T, out string) {
	t.Helper()
	for _, p := range htmlProblems(out) {
		t.Error(p)
	}
}

// htmlProblems lists what in out did not come from the template: an
// element it does not write, an event handler, style or unquoted
// attribute, a URL other than its own, or a character that could reorder
// or hide text.
func htmlProblems(out string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !utf8.ValidString(out) {
		add("the report is not valid UTF-8")
	}
	if n := strings.Count(strings.ToLower(out), "<script"); n != 1 {
		add("%d <script elements, want only the report's own", n)
	}
	if n := strings.Count(strings.ToLower(out), "<style"); n != 1 {
		add("%d <style elements, want only the report's own", n)
	}
	// The inline style and script are the constants the policy hashes;
	// everything else must be the template's markup around escaped text.
	problems = append(problems, markupProblems(out, templateTags)...)
	for i, r := range out {
		if (unicode.Is(unicode.Cc, r) && r != '\n') || unicode.Is(unicode.Cf, r) {
			add("control or format character %U at byte %d", r, i)
		}
	}
	return problems
}

// markupProblems checks every tag outside the inline style and script:
// its element must be one of allowed, and it may carry no event handler,
// no style attribute, no unquoted value and no URL but the empty icon.
func markupProblems(markup string, allowed []string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	rest := scriptBody.ReplaceAllString(styleBody.ReplaceAllString(markup, "<style></style>"), "<script></script>")
	for _, m := range tag.FindAllStringSubmatch(rest, -1) {
		if !slices.Contains(allowed, strings.ToLower(strings.TrimPrefix(m[1], "/"))) {
			add("element <%s> is not one the template writes", m[1])
		}
		for _, a := range attribute.FindAllStringSubmatch(m[2], -1) {
			name, value := strings.ToLower(a[1]), strings.ToLower(html.UnescapeString(strings.Trim(a[2], `"`)))
			switch {
			case strings.HasPrefix(name, "on"):
				add("event handler attribute %s=%s", a[1], a[2])
			case name == "style":
				add("style attribute %s", a[2])
			case name == "href" || name == "src" || name == "action" || name == "formaction" || name == "xlink:href":
				if value != "data:," {
					add("URL attribute %s=%s", a[1], a[2])
				}
			case !strings.HasPrefix(a[2], `"`) && a[2] != "":
				add("unquoted attribute %s=%s", a[1], a[2])
			}
		}
	}
	return problems
}

// The checker itself must catch what it guards against, or the injection
// tests prove nothing.
func TestHTMLProblemsCatchesInjectedMarkup(t *testing.T) {
	clean := string(render(t, FormatHTML, goldenReport(true), Options{Details: true}))
	if p := htmlProblems(clean); len(p) > 0 {
		t.Fatalf("the report itself has problems: %v", p)
	}
	cell := `<td class="id mono">222222222222</td>`
	for _, tc := range []struct{ name, inject, want string }{
		{"a second script element", `<script>alert(1)</script>`, "2 <script elements"},
		{"an image with an event handler", `<img src=x onerror=alert(1)>`, "element <img>"},
		{"an event handler on a template element", `<span onmouseover="alert(1)">x</span>`, "event handler attribute onmouseover"},
		{"a javascript: link", `<a href="javascript:alert(1)">x</a>`, `URL attribute href="javascript:alert(1)"`},
		{"a style attribute", `<span style="display:none">x</span>`, "style attribute"},
		{"an unquoted attribute", `<span class=x>x</span>`, "unquoted attribute class=x"},
		{"a bidi override", "\u202E", "format character U+202E"},
		{"an escape character", "\x1b[31m", "control or format character U+001B"},
	} {
		t.Run("it catches "+tc.name, func(t *testing.T) {
			bad := strings.Replace(clean, cell, cell+"<td>"+tc.inject+"</td>", 1)
			if !slices.ContainsFunc(htmlProblems(bad), func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem containing %q in %q", tc.want, htmlProblems(bad))
			}
		})
	}
}

func TestHTMLEscapesEverythingFromAWS(t *testing.T) {
	rep := hostileReport()
	out := string(render(t, FormatHTML, rep, Options{Details: true}))
	checkHTMLSafe(t, out)

	t.Run("hostile strings are shown as text, not dropped", func(t *testing.T) {
		for _, want := range []string{
			"&lt;script&gt;alert(1)&lt;/script&gt; name",              // table cell
			"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;@evil",        // email
			"javascript:alert(1) name",                                // harmless as text
			"&lt;/style&gt;&lt;script&gt;alert(2)&lt;/script&gt;",     // anywhere
			"gnp.exeisolated",                                         // bidi controls removed
			`data-v="&lt;script&gt;alert(1)&lt;/script&gt; name"`,     // sort key attribute
			`data-findings="root-access-key root-signing`,             // filter attribute kept
			">Root/&lt;/title&gt;&lt;/text&gt;&lt;/svg&gt;&lt;script", // SVG label
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the report does not contain %q", want)
			}
		}
	})
	t.Run("every row is intact", func(t *testing.T) {
		if got := strings.Count(out, `<td class="id mono">`); got != len(rep.Accounts) {
			t.Errorf("%d account rows, want %d", got, len(rep.Accounts))
		}
	})
}

func FuzzHTMLWriter(f *testing.F) {
	addSeeds(f)
	for _, h := range hostileStrings {
		f.Add(h, h+"@example.com")
	}
	f.Fuzz(func(t *testing.T, name, email string) {
		rep := fuzzReport(name, email)
		out := string(render(t, FormatHTML, rep, Options{Details: true}))
		checkHTMLSafe(t, out)
		if got := strings.Count(out, `<td class="id mono">`); got != len(rep.Accounts) {
			t.Fatalf("%d account rows, want %d", got, len(rep.Accounts))
		}
	})
}

func TestShortenLeftKeepsTheEndOfALongPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Root/Prod", 9, "Root/Prod"},
		{"Root/Workloads/Prod", 10, "…oads/Prod"},
		{"Root/本番/本番環境/開発", 7, "…番環境/開発"},
	} {
		t.Run(tc.in+" becomes "+tc.want, func(t *testing.T) {
			if got := shortenLeft(tc.in, tc.n); got != tc.want {
				t.Errorf("shortenLeft(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestHTMLChart(t *testing.T) {
	row := func(id, ou string, findings ...string) scan.Row {
		return scan.Row{AccountID: id, OUPath: ou, Status: scan.StatusOK, Findings: findings}
	}
	t.Run("OUs with the most accounts with findings come first, split by outcome", func(t *testing.T) {
		c := newHTMLChart(newHTMLView(&scan.Report{Accounts: []scan.Row{
			row("111111111111", "Root/A"),
			row("222222222222", "Root/B", scan.FindingRootPassword),
			row("333333333333", "Root/B", scan.FindingRootPassword, scan.FindingRootNoMFA),
			row("444444444444", "Root/B"),
			{AccountID: "555555555555", OUPath: "Root/A", Status: scan.StatusError},
			{AccountID: "666666666666", OUPath: "Root/A", Status: scan.StatusSkipped},
		}}, Options{}).Rows)
		if len(c.Bars) != 2 || c.Bars[0].Path != "Root/B" || c.Bars[1].Path != "Root/A" {
			t.Fatalf("bars %+v, want Root/B then Root/A", c.Bars)
		}
		if got, want := c.Bars[0].Note, "2 of 3 with findings · 3 findings"; got != want {
			t.Errorf("note %q, want %q", got, want)
		}
		var classes []string
		for _, s := range c.Bars[1].Segments {
			classes = append(classes, s.Class)
		}
		if want := []string{"b-gap", "b-clean", "b-skipped"}; !slices.Equal(classes, want) {
			t.Errorf("Root/A segments %v, want %v", classes, want)
		}
		if c.Bars[0].Segments[0].Width+c.Bars[0].Segments[1].Width != chartBarMax {
			t.Errorf("the widest OU's bar is not %d units long: %+v", chartBarMax, c.Bars[0].Segments)
		}
	})
	t.Run("a chart of many OUs draws the worst and says how many it left out", func(t *testing.T) {
		var rows []scan.Row
		for i := range chartMaxBars + 15 {
			var findings []string
			if i%10 == 0 {
				findings = []string{scan.FindingRootAccessKey}
			}
			rows = append(rows, row(fmt.Sprintf("%012d", i), fmt.Sprintf("Root/OU-%02d", i), findings...))
		}
		c := newHTMLChart(newHTMLView(&scan.Report{Accounts: rows}, Options{}).Rows)
		if len(c.Bars) != chartMaxBars {
			t.Fatalf("%d bars, want %d", len(c.Bars), chartMaxBars)
		}
		for _, want := range []string{"Root/OU-00", "Root/OU-10", "Root/OU-20", "Root/OU-30"} {
			if !slices.ContainsFunc(c.Bars, func(b htmlBar) bool { return b.Path == want }) {
				t.Errorf("%s, which has findings, is not drawn", want)
			}
		}
		if want := "15 more OUs (15 accounts, 0 with findings) not drawn: the table lists every account."; c.More != want {
			t.Errorf("More = %q, want %q", c.More, want)
		}
	})
}
