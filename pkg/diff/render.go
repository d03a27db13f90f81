package diff

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// Output formats of Write.
const (
	OutputTable    = "table"
	OutputJSON     = "json"
	OutputMarkdown = "markdown"
)

// Formats lists Write's formats, for flag help.
func Formats() []string { return []string{OutputTable, OutputJSON, OutputMarkdown} }

// CheckFormat refuses an output format Write does not know, so that a
// command can reject a bad flag before it reads anything.
func CheckFormat(format string) error {
	switch format {
	case OutputTable, OutputJSON, OutputMarkdown:
		return nil
	}
	return fmt.Errorf("unknown diff format %q: use %s", truncate(format, 32), strings.Join(Formats(), ", "))
}

// WriteOptions shape what Write renders.
type WriteOptions struct {
	// OwnerTag is the account tag whose value names an account's owner in
	// the markdown format, which lists findings per owner; where it is
	// empty or an account lacks the tag, the owner is the account's
	// security contact, else scan.Unowned (see scan.Row.Owner). The table
	// and json formats ignore it.
	OwnerTag string
}

// Write renders d as table, json or markdown. Every string that came from
// a report (names, OU paths, error messages, even finding names: a report
// file can be edited) is stripped of control characters in table and
// markdown, and escaped in markdown so that it cannot break the table or
// inject HTML.
func Write(w io.Writer, d *Diff, format string) error {
	return WriteWith(w, d, format, WriteOptions{})
}

// WriteWith is Write with options.
func WriteWith(w io.Writer, d *Diff, format string, o WriteOptions) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("write diff as %s: no diff", format)
	}
	var buf bytes.Buffer
	switch format {
	case OutputJSON:
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return fmt.Errorf("encode diff as json: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	case OutputTable:
		if err := writeTable(&buf, d); err != nil {
			return err
		}
	case OutputMarkdown:
		writeMarkdown(&buf, d, o)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write diff as %s: %w", format, err)
	}
	return nil
}

// style is what differs between the table and markdown renderings.
type style struct {
	esc   func(string) string
	arrow string
}

var (
	tableStyle    = style{esc: output.Sanitize, arrow: "->"}
	markdownStyle = style{esc: markdownEscape, arrow: "→"}
)

func writeTable(buf *bytes.Buffer, d *Diff) error {
	st := tableStyle
	buf.WriteString("orgscan diff\n")
	fmt.Fprintf(buf, "old: %s\n", st.side(d.Old))
	fmt.Fprintf(buf, "new: %s\n\n", st.side(d.New))

	if len(d.Changes) == 0 {
		fmt.Fprintf(buf, "no changes: %d accounts in both reports, all unchanged\n\n", d.Counts.Compared)
	} else {
		tw := tabwriter.NewWriter(buf, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tNAME\tCHANGE\tDETAIL")
		for i := range d.Changes {
			c := &d.Changes[i]
			for _, k := range c.Kinds {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", st.esc(c.AccountID), st.esc(c.AccountName), k, st.detail(c, k))
			}
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write diff table: %w", err)
		}
		buf.WriteByte('\n')
	}

	tw := tabwriter.NewWriter(buf, 0, 8, 2, ' ', 0)
	for _, c := range countLines(d.Counts) {
		fmt.Fprintf(tw, "%s\t%d\n", c.label, c.n)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write diff table: %w", err)
	}
	return nil
}

// writeMarkdown writes the document a team pastes into tickets: the two
// reports' provenance, then per owner the findings that are new, resolved
// or unverified (one section each, to paste into one ticket per owner),
// then the counts and every change.
func writeMarkdown(buf *bytes.Buffer, d *Diff, o WriteOptions) {
	st := markdownStyle
	buf.WriteString("## " + markdownTitle(d) + "\n\n")
	fmt.Fprintf(buf, "- **Old:** %s\n", st.side(d.Old))
	fmt.Fprintf(buf, "- **New:** %s\n\n", st.side(d.New))

	shares, tagged := byOwner(d, o.OwnerTag)
	if o.OwnerTag != "" {
		fmt.Fprintf(buf, "An account's owner is the value of its tag %s; without that tag, its security contact; without either, %s.\n",
			markdownEmphasis(o.OwnerTag), scan.Unowned)
		if len(shares) > 0 && !tagged {
			buf.WriteString("No account below has tags in these reports, so none is grouped by its tag: were their tags read?\n")
		}
	} else {
		fmt.Fprintf(buf, "An account's owner is its security contact; without one, %s.\n", scan.Unowned)
	}
	if slices.ContainsFunc(shares, func(s *ownerShare) bool { return s.unknown }) {
		buf.WriteString("An owner that reads \"unknown\" could not be read: the account may have one.\n")
	}
	buf.WriteByte('\n')

	if len(shares) == 0 {
		buf.WriteString("No new, resolved or unverified findings.\n\n")
	} else {
		buf.WriteString("| Owner | New findings | Resolved | Unverified |\n| --- | ---: | ---: | ---: |\n")
		for _, s := range shares {
			fmt.Fprintf(buf, "| %s | %d | %d | %d |\n", markdownEscape(s.label), s.added, s.resolved, s.unverified)
		}
		buf.WriteByte('\n')
		for _, s := range shares {
			writeOwnerSection(buf, s)
		}
	}

	// A thematic break, which no owner's section can hold, ends them: a
	// script splits the sections off there whatever the owners are named.
	buf.WriteString("---\n\n### Counts\n\n| Accounts | Count |\n| --- | ---: |\n")
	for _, c := range countLines(d.Counts) {
		fmt.Fprintf(buf, "| %s | %d |\n", c.label, c.n)
	}

	buf.WriteString("\n### Changes\n\n")
	if len(d.Changes) == 0 {
		fmt.Fprintf(buf, "No changes: %d accounts in both reports, all unchanged.\n", d.Counts.Compared)
		return
	}
	buf.WriteString("| Account | Name | Change | Detail |\n| --- | --- | --- | --- |\n")
	for i := range d.Changes {
		c := &d.Changes[i]
		for _, k := range c.Kinds {
			fmt.Fprintf(buf, "| %s | %s | %s | %s |\n", st.esc(c.AccountID), st.esc(c.AccountName), k, st.detail(c, k))
		}
	}
}

// writeOwnerSection writes one owner's findings: a heading and a list per
// kind, each item an account.
func writeOwnerSection(buf *bytes.Buffer, s *ownerShare) {
	fmt.Fprintf(buf, "### %s\n\n", markdownEscape(s.label))
	var added, resolved, unverified []*Change
	for _, c := range s.changes {
		if len(c.FindingsAdded) > 0 {
			added = append(added, c)
		}
		if len(c.FindingsResolved) > 0 {
			resolved = append(resolved, c)
		}
		if len(c.FindingsUnverified) > 0 {
			unverified = append(unverified, c)
		}
	}
	if len(added) > 0 {
		fmt.Fprintf(buf, "New findings (%d):\n\n", s.added)
		for _, c := range added {
			buf.WriteString("- " + markdownAccount(c))
			if slices.Contains(c.Kinds, KindJoined) {
				buf.WriteString(", joined the organization")
			}
			buf.WriteByte('\n')
			for _, f := range bySeverity(c.FindingsAdded) {
				buf.WriteString("  - " + markdownFinding(f) + "\n")
			}
		}
		buf.WriteByte('\n')
	}
	if len(resolved) > 0 {
		fmt.Fprintf(buf, "Resolved (%d):\n\n", s.resolved)
		for _, c := range resolved {
			fmt.Fprintf(buf, "- %s: %s\n", markdownAccount(c), markdownStyle.list(bySeverity(c.FindingsResolved)))
		}
		buf.WriteByte('\n')
	}
	if len(unverified) > 0 {
		fmt.Fprintf(buf, "Unverified (%d), not read this time, so these may still be there:\n\n", s.unverified)
		for _, c := range unverified {
			fmt.Fprintf(buf, "- %s: %s", markdownAccount(c), markdownStyle.list(bySeverity(c.FindingsUnverified)))
			if c.New != nil {
				why := markdownStyle.value(c.New.Status)
				if c.New.ErrorCode != "" {
					why += " (" + markdownEscape(c.New.ErrorCode) + ")"
				}
				buf.WriteString("; now " + why)
			}
			buf.WriteByte('\n')
		}
		buf.WriteByte('\n')
	}
}

// markdownTitle names the organization and the dates of the two scans,
// as far as the reports say.
func markdownTitle(d *Diff) string {
	var oldOrg, newOrg, oldDate, newDate string
	if m := d.Old.Scan; m != nil {
		oldOrg, oldDate = m.OrganizationID, day(m.StartedAt)
	}
	if m := d.New.Scan; m != nil {
		newOrg, newDate = m.OrganizationID, day(m.StartedAt)
	}
	title := "orgscan diff"
	switch {
	case oldOrg != "" && newOrg != "" && oldOrg != newOrg:
		title += " of " + markdownEscape(oldOrg) + " → " + markdownEscape(newOrg)
	case oldOrg != "" || newOrg != "":
		title += " of " + markdownEscape(cmp.Or(newOrg, oldOrg))
	}
	if oldDate != "" || newDate != "" {
		title += ", " + cmp.Or(oldDate, "undated") + " → " + cmp.Or(newDate, "undated")
	}
	return title
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// markdownAccount names a change's account at the start of a list item:
// "**Name** (id)", or the id alone when it has no name. Inside strong
// emphasis a name cannot start a nested list or a heading, and trimmed it
// cannot make the emphasis fail.
func markdownAccount(c *Change) string {
	name := strings.TrimSpace(markdownEscape(c.AccountName))
	if name == "" {
		return markdownEscape(c.AccountID)
	}
	return "**" + name + "** (" + markdownEscape(c.AccountID) + ")"
}

// markdownFinding is a finding with its severity and what it means, from
// this version's definitions, whichever version wrote the reports.
func markdownFinding(id string) string {
	def, ok := scan.DefinitionOf(id)
	if !ok {
		return "**unknown severity** " + markdownEscape(id) + ": a finding this version of orgscan does not describe."
	}
	return "**" + string(def.Severity) + "** " + markdownEscape(id) + ": " + def.Summary
}

// markdownEmphasis is report or command-line text in strong emphasis.
func markdownEmphasis(s string) string {
	s = strings.TrimSpace(markdownEscape(s))
	if s == "" {
		return "(blank)"
	}
	return "**" + s + "**"
}

type countLine struct {
	label string
	n     int
}

func countLines(c Counts) []countLine {
	return []countLine{
		{"in old report", c.OldAccounts},
		{"in new report", c.NewAccounts},
		{"compared (in both)", c.Compared},
		{"unchanged", c.Unchanged},
		{"changed", c.Changed},
		{"joined", c.Joined},
		{"left", c.Left},
		{"with new findings", c.WithNewFindings},
		{"with resolved findings", c.WithResolvedFindings},
		{"with unverified findings", c.WithUnverifiedFindings},
		{"status changes", c.StatusChanges},
		{"coverage losses", c.CoverageLosses},
		{"OU moves", c.OUMoves},
		{"state changes", c.StateChanges},
	}
}

// side describes one report's provenance on one line.
func (st style) side(s Side) string {
	var what string
	switch s.Format {
	case FormatJSON:
		what = "JSON report, schema_version " + st.esc(s.SchemaVersion)
	case FormatNDJSON:
		what = "NDJSON rows, no scan block"
	case FormatScan:
		what = "this scan"
	case "":
		what = "no report"
	default:
		what = st.esc(s.Format)
	}
	parts := []string{what}
	if m := s.Scan; m != nil {
		add := func(label, v string) {
			if v != "" {
				parts = append(parts, label+" "+st.esc(v))
			}
		}
		add("organization", m.OrganizationID)
		add("management account", m.ManagementAccountID)
		add("caller", m.CallerARN)
		if !m.StartedAt.IsZero() || !m.FinishedAt.IsZero() {
			parts = append(parts, "scanned "+stamp(m.StartedAt)+" to "+stamp(m.FinishedAt))
		}
		add("orgscan", m.Version)
		switch {
		case m.Interrupted:
			parts = append(parts, "interrupted")
		case m.Complete:
			parts = append(parts, "complete")
		default:
			parts = append(parts, "incomplete")
		}
	}
	desc := strings.Join(parts, "; ")
	if s.Source == "" {
		return desc
	}
	return st.esc(s.Source) + " (" + desc + ")"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format(time.RFC3339)
}

// detail explains one kind of change of one account.
func (st style) detail(c *Change, k Kind) string {
	switch k {
	case KindJoined:
		return st.snapshot(c.New)
	case KindLeft:
		return "last seen: " + st.snapshot(c.Old)
	case KindNewFindings:
		return st.list(c.FindingsAdded)
	case KindResolvedFindings:
		return st.list(c.FindingsResolved)
	case KindUnverifiedFindings:
		return st.list(c.FindingsUnverified) + " (account not read this time; they may still exist)"
	case KindStatus:
		s := st.value(c.Status.From) + " " + st.arrow + " " + st.value(c.Status.To)
		if c.Status.ErrorCode != "" {
			s += " (" + st.esc(c.Status.ErrorCode) + ")"
		}
		return s
	case KindOUMove:
		return st.value(c.OUPath.From) + " " + st.arrow + " " + st.value(c.OUPath.To)
	case KindState:
		return st.value(c.State.From) + " " + st.arrow + " " + st.value(c.State.To)
	}
	return ""
}

// snapshot describes a joined or left account's one row.
func (st style) snapshot(r *scan.Row) string {
	if r == nil {
		return ""
	}
	s := "status " + st.value(r.Status)
	if r.ErrorCode != "" {
		s += " (" + st.esc(r.ErrorCode) + ")"
	}
	s += ", state " + st.value(r.State) + ", OU " + st.value(r.OUPath)
	if len(r.Findings) > 0 {
		s += ", findings " + st.list(minus(r.Findings, nil))
	}
	return s
}

func (st style) value(s string) string {
	if s == "" {
		return "(none)"
	}
	return st.esc(s)
}

func (st style) list(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = st.esc(s)
	}
	return strings.Join(out, ", ")
}

// markdownSpecial are the ASCII punctuation characters that can start or end
// an inline construct in CommonMark or GitHub markdown: code spans,
// emphasis, links and images, raw HTML and entities, table cell borders,
// strikethrough, autolinks (scheme colons, www dots, e-mail and @mention
// ats), issue references, math and footnotes. CommonMark lets any ASCII
// punctuation be backslash-escaped, so escaping a few too many is harmless.
const markdownSpecial = "\\`*_{}[]()<>#+.!|~&:@$^"

// markdownEscape makes s plain text inside a markdown table cell.
func markdownEscape(s string) string {
	s = output.Sanitize(s)
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
