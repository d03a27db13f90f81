package output

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/scan"
)

// The report is one file that must open offline and in locked-down
// viewers, so its only style and script are these, inlined, and its
// Content-Security-Policy allows exactly them by hash: markup that a
// hostile account name somehow slipped past the escaping still could not
// run a script, load a resource or send data anywhere.
var (
	//go:embed html_head.html
	htmlHeadText string
	//go:embed html_template.html
	htmlTemplateText string
	//go:embed html_style.css
	htmlStyle string
	//go:embed html_script.js
	htmlScript string

	htmlTemplate = template.Must(template.Must(template.New("report").Parse(htmlHeadText)).Parse(htmlTemplateText))
	htmlCSP      = contentSecurityPolicy(htmlStyle, htmlScript)
)

// contentSecurityPolicy allows the inline style and script whose exact
// text is given, and nothing else: no fetch, no frame, no form target, no
// <base> rewrite. img-src data: is for the empty favicon that keeps a
// browser from asking a server for one.
func contentSecurityPolicy(style, script string) string {
	return "default-src 'none'; style-src '" + cspHash(style) + "'; script-src '" + cspHash(script) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// htmlWriter renders the audit report as a self-contained HTML page with
// html/template, which escapes every value for its context (text,
// attribute, SVG). Strings from AWS also go through Sanitize, so bidi
// overrides and control characters cannot reorder or hide text.
type htmlWriter struct {
	w io.Writer
	o Options
	closer
}

func (*htmlWriter) WriteRow(*scan.Row) error { return nil }

func (h *htmlWriter) Close(rep *scan.Report) error {
	if err := h.begin(FormatHTML, rep); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(h.w, 64<<10)
	if err := htmlTemplate.Execute(bw, newHTMLView(rep, h.o)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// htmlPage is what every page's head and script need (html_head.html):
// the scan report's and the remediation's.
type htmlPage struct {
	CSP     string
	Style   template.CSS
	Script  template.JS
	Title   string
	Version string
}

// htmlView is everything the template shows, already sanitized and
// ordered: the template only lays it out.
type htmlView struct {
	htmlPage

	Provenance htmlProvenance
	Coverage   htmlCoverage
	Findings   []htmlFindingCount
	// FindingGroups are Findings grouped by severity.
	FindingGroups []htmlSeverityGroup
	Chart         htmlChart
	Details       bool
	// Rows yields the accounts in the default order, each worked out as
	// the template reaches it, so that the page never holds them all.
	Rows iter.Seq[htmlRow]
	// FilterTypes are the finding types the filter offers: those present.
	FilterTypes []string
	// OwnerColumns head the accounts table's owner columns: the tag keys
	// of Options.TagColumns, then the security contact when the scan read
	// contacts (see rowView.Tags and rowView.Contact).
	OwnerColumns []string
	// Owners groups the findings by owner; nil unless asked for
	// (Options.OwnerTag).
	Owners *htmlOwners
}

type htmlProvenance struct {
	Organization, ManagementAccount, Caller, CallerAccount, Partition, Version string
	Started, Finished                                                          htmlTime
	Duration                                                                   string
	Options                                                                    []htmlPair
	RootAccess                                                                 []htmlPair
}

type htmlTime struct {
	Text     string // "2026-11-30 12:00:00 UTC" or "unknown"
	DateTime string // RFC 3339 for <time datetime>; "" when unknown
}

type htmlPair struct{ Key, Value string }

type htmlCoverage struct {
	scan.Counts
	// Eligible are the accounts the scan should have read: the listed ones
	// less those skipped as not active.
	Eligible int
	Percent  string
	Complete bool
	// Warning says why coverage is not complete; empty when it is.
	Warning string
	Detail  string
	// OUsNotListedLines name each OU listing that failed.
	OUsNotListedLines []string
}

type htmlFindingCount struct {
	Name, Meaning string
	Accounts      int
	Severity      string
	Controls      []string // "Security Hub IAM.4", …
	Remediation   string
}

// htmlSeverityGroup is the findings of one severity, most severe first.
type htmlSeverityGroup struct {
	Severity string
	Findings []htmlFindingCount
}

// htmlChart is an SVG bar chart of the accounts in each OU by outcome,
// laid out here so that the template holds no arithmetic.
type htmlChart struct {
	Width, Height int
	Bars          []htmlBar
	// More tells of the OUs left out of a chart that would be too long.
	More string
}

type htmlBar struct {
	Y, TextY, LabelX, NoteX int
	Label                   string // the OU path, shortened to fit
	Path                    string // the full OU path, for the tooltip
	Note                    string
	Segments                []htmlSegment
}

type htmlSegment struct {
	X, Width int
	Class    string
	Title    string
}

// htmlRow is a row's view with what only the HTML report lays out: its
// group in the default order, its sort keys and its filter attributes.
// The view is a named field: the template would find an embedded one's
// fields by a reflective search that allocates on every lookup.
type htmlRow struct {
	View         rowView
	FindingsAttr string // space-separated, for the filter
	StatusClass  string
	Group        int    // the default order: findings, gaps, skipped, clean
	SeverityKey  string // sorts the findings column: severity, then how many
	Gap          bool
}

// Row groups, in display order.
const (
	groupFindings = iota
	groupError
	groupNotScanned
	groupSkipped
	groupClean
)

func newHTMLView(rep *scan.Report, o Options) *htmlView {
	details := o.Details
	m := &rep.Scan
	v := &htmlView{
		htmlPage: htmlPage{
			CSP: htmlCSP,
			// Trusted by construction: the package's own embedded files,
			// whose hashes the policy carries.
			Style:   template.CSS(htmlStyle),
			Script:  template.JS(htmlScript),
			Title:   "orgscan root credentials report: " + orUnknown(m.OrganizationID),
			Version: orUnknown(m.Version),
		},
		Provenance: newHTMLProvenance(m),
		Coverage:   newHTMLCoverage(m),
		Details:    details,
	}
	// Detail cells show dates, never "3d ago": the report must not depend
	// on when it was written.
	vo := o.viewOptions(rep)
	vo.when = dateOnly
	v.OwnerColumns = vo.ownerHeaders()
	rows := rep.Rows()
	htmlRowAt := func(i int) htmlRow { return newHTMLRow(newRowView(rows.At(i), rep.Scan.FinishedAt, vo)) }
	// The default order needs every row's group and severity first; the
	// rows themselves are worked out again as they are written.
	order := make([]htmlPlace, rows.Len())
	for i := range order {
		h := htmlRowAt(i)
		order[i] = htmlPlace{index: int32(i), group: int32(h.Group), rank: int32(h.View.severityRank)}
	}
	slices.SortStableFunc(order, func(a, b htmlPlace) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(b.rank, a.rank))
	})
	v.Rows = func(yield func(htmlRow) bool) {
		for _, p := range order {
			if !yield(htmlRowAt(int(p.index))) {
				return
			}
		}
	}
	v.Findings, v.FilterTypes = findingCounts(rows.All(), details, m.Options.Contacts)
	v.FindingGroups = groupBySeverity(v.Findings)
	v.Chart = newHTMLChart(v.Rows)
	if o.OwnerTag != "" {
		v.Owners = newHTMLOwners(rows, o.OwnerTag, &rep.Scan)
	}
	return v
}

// htmlPlace is where a row goes in the default order: its position in
// account-id order and what it sorts by.
type htmlPlace struct{ index, group, rank int32 }

func newHTMLProvenance(m *scan.Meta) htmlProvenance {
	p := htmlProvenance{
		Organization:      orUnknown(m.OrganizationID),
		ManagementAccount: orUnknown(m.ManagementAccountID),
		Caller:            orUnknown(m.CallerARN),
		CallerAccount:     orUnknown(m.CallerAccountID),
		Partition:         orUnknown(m.Partition),
		Version:           orUnknown(m.Version),
		Started:           newHTMLTime(m.StartedAt),
		Finished:          newHTMLTime(m.FinishedAt),
		Duration:          "unknown",
	}
	if !m.StartedAt.IsZero() && !m.FinishedAt.IsZero() {
		p.Duration = m.FinishedAt.Sub(m.StartedAt).Round(time.Second).String()
	}
	o := &m.Options
	add := func(k, v string) { p.Options = append(p.Options, htmlPair{k, v}) }
	add("access", orUnknown(o.Access))
	if o.RoleName != "" {
		add("role name", Sanitize(o.RoleName))
	}
	if o.RoleARNTemplate != "" {
		add("role ARN template", Sanitize(o.RoleARNTemplate))
	}
	add("external id", map[bool]string{true: "set", false: "not set"}[o.ExternalIDSet])
	add("region", orUnknown(o.Region))
	add("concurrency", strconv.Itoa(o.Concurrency))
	for _, f := range []struct {
		name string
		list []string
	}{{"OUs", o.OUs}, {"excluded OUs", o.ExcludeOUs}, {"accounts", o.Accounts}, {"excluded accounts", o.ExcludeAccounts}} {
		if len(f.list) > 0 {
			add(f.name, Sanitize(strings.Join(f.list, ", ")))
		}
	}
	add("include inactive", yesNoText(o.IncludeInactive))
	add("details", yesNoText(o.Details))

	ra := &m.RootAccess
	p.RootAccess = []htmlPair{
		{"root credentials management", orUnknown(ra.RootCredentialsManagement)},
		{"root sessions", orUnknown(ra.RootSessions)},
	}
	if ra.Reason != "" {
		p.RootAccess = append(p.RootAccess, htmlPair{"why unknown", Sanitize(ra.Reason)})
	}
	return p
}

func newHTMLTime(t time.Time) htmlTime {
	if t.IsZero() {
		return htmlTime{Text: "unknown"}
	}
	t = t.UTC()
	return htmlTime{Text: t.Format("2006-01-02 15:04:05 UTC"), DateTime: t.Format(time.RFC3339)}
}

func yesNoText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// newHTMLCoverage judges coverage from the report's own counts and flags:
// skipped accounts (not active) are out of scope, every other account
// that was not read is a gap the reader must see.
func newHTMLCoverage(m *scan.Meta) htmlCoverage {
	c := htmlCoverage{Counts: m.Counts, Eligible: m.Counts.Listed - m.Counts.Skipped}
	c.Percent = "n/a"
	if c.Eligible > 0 {
		// Round down, so that 999 of 1000 never reads as 100%.
		c.Percent = strconv.Itoa(c.Scanned*100/c.Eligible) + "%"
	}
	if m.Complete {
		c.Complete = true
		return c
	}
	gaps := gapLines(m)
	c.Warning = "Incomplete: " + gaps[0] + "."
	for _, g := range gaps[1:] {
		c.Detail += capitalize(g) + ". "
	}
	c.Detail += fmt.Sprintf("Findings below cover only the %d accounts scanned.", c.Scanned)
	for _, f := range m.OUsNotListed {
		c.OUsNotListedLines = append(c.OUsNotListedLines, ouFailureLine(f))
	}
	return c
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func newHTMLRow(v rowView) htmlRow {
	h := htmlRow{View: v, StatusClass: "st-" + v.StatusKind, Gap: v.StatusKind != scan.StatusOK && v.StatusKind != scan.StatusSkipped}
	// The table's status column says not_scanned; the report, read by
	// people who need not know the statuses, says why.
	if v.StatusKind == scan.StatusNotScanned && (v.Error == nil || *v.Error == problemView{}) {
		h.View.Error = &problemView{Message: "not reached: the scan was interrupted first"}
	}
	h.FindingsAttr = strings.Join(v.Findings, " ")
	h.SeverityKey = strconv.Itoa(v.severityRank*1000 + min(len(v.Findings), 999))
	switch {
	case len(v.Findings) > 0:
		h.Group = groupFindings
	case v.StatusKind == scan.StatusError:
		h.Group = groupError
	case v.StatusKind == scan.StatusNotScanned:
		h.Group = groupNotScanned
	case v.StatusKind == scan.StatusSkipped:
		h.Group = groupSkipped
	case v.StatusKind == scan.StatusOK:
		h.Group = groupClean
	default:
		h.Group = groupError
	}
	return h
}

// findingCounts counts the accounts with each finding: every known type,
// zero included, since "no root access keys anywhere" is a result too
// (the --details and --contacts types only when those were read), then any type this
// version does not know. filter holds the types present.
func findingCounts(rows iter.Seq[*scan.Row], details, contacts bool) (counts []htmlFindingCount, filter []string) {
	n := map[string]int{}
	for r := range rows {
		for _, f := range slices.Compact(slices.Sorted(slices.Values(r.Findings))) {
			n[f]++
		}
	}
	known := map[string]bool{}
	for _, id := range scan.FindingIDs() {
		known[id] = true
		def, _ := scan.DefinitionOf(id)
		if (def.RequiresDetails && !details || def.RequiresContacts && !contacts) && n[id] == 0 {
			continue
		}
		c := htmlFindingCount{Name: id, Meaning: def.Summary, Accounts: n[id], Severity: string(def.Severity), Remediation: def.Remediation}
		for _, ctl := range def.Controls {
			c.Controls = append(c.Controls, controlName(ctl))
		}
		counts = append(counts, c)
	}
	var other []string
	for f := range n {
		if !known[f] {
			other = append(other, f)
		}
	}
	slices.Sort(other)
	for _, f := range other {
		counts = append(counts, htmlFindingCount{Name: Sanitize(f), Meaning: "A finding this version of the report does not describe.", Accounts: n[f], Severity: "unknown"})
	}
	for _, c := range counts {
		if c.Accounts > 0 {
			filter = append(filter, c.Name)
		}
	}
	return counts, filter
}

// groupBySeverity groups the finding counts by severity, keeping their
// order (FindingIDs lists the most severe first; unknown ones come last).
func groupBySeverity(counts []htmlFindingCount) []htmlSeverityGroup {
	var groups []htmlSeverityGroup
	for _, c := range counts {
		if len(groups) == 0 || groups[len(groups)-1].Severity != c.Severity {
			groups = append(groups, htmlSeverityGroup{Severity: c.Severity})
		}
		g := &groups[len(groups)-1]
		g.Findings = append(g.Findings, c)
	}
	return groups
}

// controlName is how the report names a control: "Security Hub IAM.4",
// "CIS v3.0.0 1.4".
func controlName(c scan.Control) string {
	std := strings.TrimPrefix(c.Standard, "AWS ")
	std = strings.Replace(std, "CIS AWS Foundations Benchmark", "CIS", 1)
	return std + " " + c.ID
}

// Chart geometry, in SVG user units.
const (
	chartWidth      = 880
	chartLabelWidth = 250
	chartBarMax     = 400
	chartBarHeight  = 18
	chartRowHeight  = 26
	chartLabelRunes = 38
	// A chart of hundreds of OUs would bury the page: it shows those with
	// the most accounts with findings, and the table has the rest.
	chartMaxBars = 25
)

// newHTMLChart draws one bar per OU path: its accounts split into those
// with findings, those that could not be read, the clean ones and the
// skipped ones. OUs with the most accounts with findings come first.
func newHTMLChart(rows iter.Seq[htmlRow]) htmlChart {
	type ou struct {
		path                          string
		findings, gap, clean, skipped int
		total, findingCount           int
	}
	byPath := map[string]*ou{}
	for r := range rows {
		o := byPath[r.View.OU]
		if o == nil {
			o = &ou{path: r.View.OU}
			byPath[r.View.OU] = o
		}
		o.total++
		o.findingCount += len(r.View.Findings)
		switch {
		case len(r.View.Findings) > 0:
			o.findings++
		case r.Gap:
			o.gap++
		case r.Group == groupSkipped:
			o.skipped++
		default:
			o.clean++
		}
	}
	ous := make([]*ou, 0, len(byPath))
	for _, o := range byPath {
		ous = append(ous, o)
	}
	slices.SortFunc(ous, func(a, b *ou) int {
		return cmp.Or(cmp.Compare(b.findings, a.findings), cmp.Compare(a.path, b.path))
	})
	var c htmlChart
	if len(ous) > chartMaxBars {
		accounts, withFindings := 0, 0
		for _, o := range ous[chartMaxBars:] {
			accounts += o.total
			withFindings += o.findings
		}
		more := "OUs"
		if len(ous)-chartMaxBars == 1 {
			more = "OU"
		}
		c.More = fmt.Sprintf("%d more %s (%s, %d with findings) not drawn: the table lists every account.",
			len(ous)-chartMaxBars, more, pluralize(accounts, "account", "accounts"), withFindings)
		ous = ous[:chartMaxBars]
	}
	widest := 1
	for _, o := range ous {
		widest = max(widest, o.total)
	}

	c.Width, c.Height = chartWidth, max(1, len(ous))*chartRowHeight+6
	for i, o := range ous {
		y := 4 + i*chartRowHeight
		b := htmlBar{
			Y: y, TextY: y + chartBarHeight - 5, LabelX: chartLabelWidth - 8,
			Label: shortenLeft(o.path, chartLabelRunes), Path: o.path,
			Note: fmt.Sprintf("%d of %d with findings · %s", o.findings, o.total, pluralize(o.findingCount, "finding", "findings")),
		}
		// Segments end at the rounded running total, so that a bar's
		// length is its OU's share of the widest however it is split.
		x, done := chartLabelWidth, 0
		for _, s := range []struct {
			n            int
			class, title string
		}{
			{o.findings, "b-findings", "with findings"},
			{o.gap, "b-gap", "not scanned (error or interrupted)"},
			{o.clean, "b-clean", "without findings"},
			{o.skipped, "b-skipped", "skipped (not active)"},
		} {
			if s.n == 0 {
				continue
			}
			done += s.n
			end := max(x+2, chartLabelWidth+done*chartBarMax/widest)
			b.Segments = append(b.Segments, htmlSegment{X: x, Width: end - x, Class: s.class,
				Title: fmt.Sprintf("%s: %s %s", o.path, pluralize(s.n, "account", "accounts"), s.title)})
			x = end
		}
		b.NoteX = x + 8
		c.Bars = append(c.Bars, b)
	}
	return c
}

// shortenLeft keeps the end of a long OU path, the part that names the OU,
// behind an ellipsis; the full path is in the bar's tooltip and the table.
func shortenLeft(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-(n-1):])
}
