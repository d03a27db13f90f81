package output

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/scan"
)

// maxOwnerRunes bounds an owner's label: AWS allows tag values of 256
// characters, and a report edited by hand must not fill a page with one.
const maxOwnerRunes = 256

// OwnerLabel is how every renderer names an owner (see scan.Row.Owner):
// its name sanitized like an account name, trimmed and at most
// maxOwnerRunes long. Renderers group accounts by it, so that two owners
// that would read the same are one group.
func OwnerLabel(o scan.Owner) string {
	s := strings.TrimSpace(Sanitize(o.Name))
	if s == "" {
		// A tag value of invisible characters only.
		return "(unprintable " + ownerSourceText(o.Source) + ")"
	}
	if utf8.RuneCountInString(s) > maxOwnerRunes {
		r := []rune(s)
		s = string(r[:maxOwnerRunes-1]) + "…"
	}
	return s
}

// ownerSourceText is where an owner came from, in words.
func ownerSourceText(s scan.OwnerSource) string {
	switch s {
	case scan.OwnerFromTag:
		return "tag"
	case scan.OwnerFromContact:
		return "security contact"
	case scan.OwnerNone:
		return "no owner"
	case scan.OwnerUnknown:
		return "owner not read"
	}
	return "owner"
}

// htmlOwners is the report's "Findings by owner" section: the accounts
// with findings, and those that could not be read, of each owner.
type htmlOwners struct {
	Tag string
	// NoTags tells that the report was made without reading tags, so
	// every account fell back to its contact.
	NoTags bool
	Groups []htmlOwnerGroup
	// Quiet counts the owners left out because none of their accounts has
	// findings or went unread; "" when there are none.
	Quiet string
}

// htmlOwnerGroup is one owner's accounts that need action.
type htmlOwnerGroup struct {
	Name string
	// Sources are where the owner came from, in words ("tag", "security
	// contact"): a name can come from both.
	Sources     []string
	SourceClass string // st-ok for a known owner, st-error otherwise
	Severity    string // the highest of the group's findings; "" for none
	Summary     string
	// Rows are the accounts with findings or not read, laid out as in the
	// accounts table and worked out as the template reaches them.
	Rows iter.Seq[htmlRow]
}

// ownerTally is what the grouping learns of one owner.
type ownerTally struct {
	name    string
	sources []scan.OwnerSource
	// rows are the positions, in account-id order, of the accounts with
	// findings or not read: the page renders them as it reaches them.
	rows                             []ownerPlace
	accounts, withFindings, findings int
	gaps                             int
	// severity is the highest of the findings' severities, rank its rank.
	severity string
	rank     int
}

type ownerPlace struct {
	index int32
	rank  int32 // severity rank; gaps below every finding
	n     int32 // findings
}

// newHTMLOwners groups the report's accounts by owner. Owners whose worst
// finding is the most severe come first, then those with the most
// accounts with findings, the most findings, the most accounts not read,
// and then by name: the section is a work queue, read from the top. The
// accounts of a group come in the same order: most severe first, then
// those not read.
func newHTMLOwners(rows *scan.RowList, tagKey string, m *scan.Meta) *htmlOwners {
	finished := m.FinishedAt
	v := &htmlOwners{Tag: Sanitize(tagKey), NoTags: !m.Options.Tags}
	byName := map[string]*ownerTally{}
	var tallies []*ownerTally
	vo := viewOptions{when: dateOnly}
	for i := range rows.Len() {
		r := rows.At(i)
		if r.Tags != nil || r.TagsError != nil {
			// Read, even if the scan's options do not say so (a report
			// put together by a program).
			v.NoTags = false
		}
		o := r.Owner(tagKey)
		name := OwnerLabel(o)
		t := byName[name]
		if t == nil {
			t = &ownerTally{name: name}
			byName[name] = t
			tallies = append(tallies, t)
		}
		if !slices.Contains(t.sources, o.Source) {
			t.sources = append(t.sources, o.Source)
		}
		t.accounts++
		view := newRowView(r, finished, vo)
		gap := view.StatusKind != scan.StatusOK && view.StatusKind != scan.StatusSkipped
		switch {
		case len(view.Findings) > 0:
			t.withFindings++
			t.findings += len(view.Findings)
			if view.severityRank > t.rank {
				t.severity, t.rank = view.Severity, view.severityRank
			}
			t.rows = append(t.rows, ownerPlace{index: int32(i), rank: int32(view.severityRank), n: int32(len(view.Findings))})
		case gap:
			t.gaps++
			t.rows = append(t.rows, ownerPlace{index: int32(i), rank: -1})
		}
	}
	slices.SortFunc(tallies, func(a, b *ownerTally) int {
		return cmp.Or(cmp.Compare(b.rank, a.rank), cmp.Compare(b.withFindings, a.withFindings),
			cmp.Compare(b.findings, a.findings), cmp.Compare(b.gaps, a.gaps), strings.Compare(a.name, b.name))
	})
	quietOwners, quietAccounts := 0, 0
	for _, t := range tallies {
		if len(t.rows) == 0 {
			quietOwners++
			quietAccounts += t.accounts
			continue
		}
		v.Groups = append(v.Groups, newHTMLOwnerGroup(t, rows, finished, vo))
	}
	switch quietOwners {
	case 0:
	case 1:
		v.Quiet = fmt.Sprintf("1 more owner has no findings and no account left unread (%s).", pluralize(quietAccounts, "account", "accounts"))
	default:
		v.Quiet = fmt.Sprintf("%d more owners have no findings and no account left unread (%s).", quietOwners, pluralize(quietAccounts, "account", "accounts"))
	}
	return v
}

func newHTMLOwnerGroup(t *ownerTally, rows *scan.RowList, finished time.Time, vo viewOptions) htmlOwnerGroup {
	g := htmlOwnerGroup{Name: t.name, SourceClass: "st-ok", Severity: t.severity}
	for _, s := range t.sources {
		g.Sources = append(g.Sources, ownerSourceText(s))
		if s == scan.OwnerNone || s == scan.OwnerUnknown {
			g.SourceClass = "st-error"
		}
	}
	parts := []string{pluralize(t.accounts, "account", "accounts")}
	if t.withFindings > 0 {
		parts = append(parts, fmt.Sprintf("%d with findings (%s)", t.withFindings, pluralize(t.findings, "finding", "findings")))
	}
	if t.gaps > 0 {
		parts = append(parts, fmt.Sprintf("%d not read", t.gaps))
	}
	g.Summary = strings.Join(parts, ", ")
	places := slices.Clone(t.rows)
	slices.SortStableFunc(places, func(a, b ownerPlace) int {
		return cmp.Or(cmp.Compare(b.rank, a.rank), cmp.Compare(b.n, a.n))
	})
	g.Rows = func(yield func(htmlRow) bool) {
		for _, p := range places {
			if !yield(newHTMLRow(newRowView(rows.At(int(p.index)), finished, vo))) {
				return
			}
		}
	}
	return g
}
