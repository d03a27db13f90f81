package output

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/remediate"
)

// The remediation page has the scan report's look and safety: its
// stylesheet is the report's (html_style.css) followed by a few rules of
// its own, its script is the report's sorting and filtering, and its
// Content-Security-Policy allows exactly those two by hash.
var (
	//go:embed remediation_template.html
	remediationTemplateText string
	//go:embed remediation_style.css
	remediationStyleExtra string

	remediationStyle        = htmlStyle + "\n" + remediationStyleExtra
	remediationHTMLTemplate = template.Must(template.Must(template.New("remediation").Parse(htmlHeadText)).Parse(remediationTemplateText))
	remediationCSP          = contentSecurityPolicy(remediationStyle, htmlScript)
)

// remediationHTMLWriter renders a plan or an apply's evidence as one
// self-contained page, for review before an apply and for the audit file
// after it.
type remediationHTMLWriter struct {
	w io.Writer
	remediationCloser
}

func (*remediationHTMLWriter) WriteAccount(*remediate.Account) error { return nil }

func (h *remediationHTMLWriter) Close(rep *remediate.Report) error {
	if err := h.begin(FormatHTML, rep); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(h.w, 64<<10)
	if err := remediationHTMLTemplate.Execute(bw, newRemediationHTMLView(rep)); err != nil {
		return fmt.Errorf("write html remediation report: %w", err)
	}
	return flushRemediation(bw, "html")
}

// remediationHTMLView is what the page shows: the report's view, with
// what only the page lays out.
type remediationHTMLView struct {
	htmlPage
	// Heading names the document: a plan, or the evidence of an apply.
	Heading string

	V                              *remediationView
	Started, Finished, PlanCreated htmlTime
	Duration                       string
	Banner                         htmlBanner
	// Tiles are the totals: accounts by status, actions by outcome and
	// credentials by kind.
	StatusTiles, OutcomeTiles, KindTiles []htmlTile
	Rows                                 []remediationHTMLRow
	// Filters are the statuses and outcomes the filter offers: those present.
	Filters []htmlPair
}

type htmlBanner struct {
	Class, Role, Headline, Detail string
}

type htmlTile struct {
	Count int
	Label string
	Class string
}

// remediationHTMLRow is an account as the page lays it out. Tokens and
// Gap are what the shared script filters on (data-findings, data-gap).
type remediationHTMLRow struct {
	A       *accountView
	Actions []remediationHTMLAction
	Tokens  string
	Gap     bool
}

type remediationHTMLAction struct {
	X  *actionView
	At htmlTime
}

func newRemediationHTMLView(rep *remediate.Report) *remediationHTMLView {
	v := newRemediationView(rep)
	h := &remediationHTMLView{
		htmlPage: htmlPage{
			CSP: remediationCSP,
			// Trusted by construction: the package's own embedded files,
			// whose hashes the policy carries.
			Style:   template.CSS(remediationStyle),
			Script:  template.JS(htmlScript),
			Version: v.Version,
		},
		V:           v,
		Started:     newHTMLTime(v.Started),
		Finished:    newHTMLTime(v.Finished),
		PlanCreated: newHTMLTime(v.PlanCreated),
		Duration:    "unknown",
	}
	if v.Plan {
		h.Heading = "Root credentials remediation plan"
	} else {
		h.Heading = "Root credentials remediation evidence"
	}
	h.Title = "orgscan " + strings.ToLower(h.Heading) + ": " + v.Organization
	if !v.Started.IsZero() && !v.Finished.IsZero() {
		h.Duration = v.Finished.Sub(v.Started).Round(time.Second).String()
	}
	h.Banner = remediationBanner(v)
	for _, c := range v.ByStatus {
		h.StatusTiles = append(h.StatusTiles, htmlTile{Count: c.Count, Label: strings.ReplaceAll(c.Name, "_", " "), Class: tileClass(c.Tone)})
	}
	for _, c := range v.ByOutcome {
		h.OutcomeTiles = append(h.OutcomeTiles, htmlTile{Count: c.Count, Label: strings.ReplaceAll(c.Name, "_", " "), Class: tileClass(c.Tone)})
	}
	for _, c := range v.ByKind {
		h.KindTiles = append(h.KindTiles, htmlTile{Count: c.Count, Label: c.Name})
	}

	var statuses, outcomes []string
	h.Rows = make([]remediationHTMLRow, len(v.Accounts))
	for i := range v.Accounts {
		a := &v.Accounts[i]
		r := remediationHTMLRow{A: a, Gap: a.Tone == toneBad || a.Tone == toneWarn}
		tokens := []string{"status-" + a.Status}
		statuses = append(statuses, a.Status)
		for j := range a.Actions {
			x := &a.Actions[j]
			r.Actions = append(r.Actions, remediationHTMLAction{X: x, At: newHTMLTime(x.At)})
			tokens = append(tokens, "outcome-"+x.Outcome)
			outcomes = append(outcomes, x.Outcome)
			if x.Tone == toneBad || x.Tone == toneWarn {
				r.Gap = true
			}
		}
		r.Tokens = strings.Join(slices.Compact(slices.Sorted(slices.Values(tokens))), " ")
		h.Rows[i] = r
	}
	for _, s := range ordered(statuses, remediationStatuses) {
		h.Filters = append(h.Filters, htmlPair{Key: "status-" + s, Value: "status: " + s})
	}
	for _, o := range ordered(outcomes, remediationOutcomes) {
		h.Filters = append(h.Filters, htmlPair{Key: "outcome-" + o, Value: "action: " + o})
	}
	return h
}

// ordered is the distinct values of present, in order, then the others
// sorted.
func ordered(present, order []string) []string {
	present = slices.Compact(slices.Sorted(slices.Values(present)))
	var out []string
	for _, o := range order {
		if slices.Contains(present, o) {
			out = append(out, o)
		}
	}
	for _, p := range present {
		if !slices.Contains(order, p) {
			out = append(out, p)
		}
	}
	return out
}

func tileClass(tone string) string {
	switch tone {
	case toneGood:
		return "good"
	case toneTodo:
		return "todo"
	case toneWarn:
		return "warn"
	case toneBad:
		return "bad"
	}
	return ""
}

// remediationBanner is the page's first word: what the document is and
// whether it needs a second look.
func remediationBanner(v *remediationView) htmlBanner {
	deletions := 0
	for _, c := range v.ByKind {
		deletions += c.Count
	}
	var b htmlBanner
	switch {
	case !v.Complete:
		b = htmlBanner{Class: "warn", Role: "alert", Headline: "Incomplete: " + v.Gaps[0] + "."}
		for _, g := range v.Gaps[1:] {
			b.Detail += capitalize(g) + ". "
		}
	case len(v.Attention) > 0:
		b = htmlBanner{Class: "warn", Role: "alert", Headline: v.Attention[0]}
		b.Detail = strings.Join(v.Attention[1:], " ")
	case v.Plan:
		b = htmlBanner{Class: "info", Role: "status",
			Headline: "Plan: nothing was changed. " + capitalize(pluralize(deletions, "credential", "credentials")) + " to delete in " +
				pluralize(countOf(v.ByStatus, remediate.StatusPlanned), "account", "accounts") + "."}
	default:
		b = htmlBanner{Class: "ok", Role: "status",
			Headline: "Applied: " + pluralize(deletions, "credential", "credentials") + " deleted; every planned deletion done and verified."}
	}
	if v.Plan && !v.Complete {
		b.Detail += "Nothing was changed."
	}
	b.Detail = strings.TrimSpace(b.Detail)
	return b
}

func countOf(counts []countView, name string) int {
	for _, c := range counts {
		if c.Name == name {
			return c.Count
		}
	}
	return 0
}

// actionCount is an account's sort key in the actions column.
func (r remediationHTMLRow) ActionCount() string { return strconv.Itoa(len(r.Actions)) }
