package diff

import (
	"cmp"
	"slices"
	"strings"

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// ownerShare is one owner's part of a diff: the accounts whose findings
// changed, each once, in the order the owner should read them.
type ownerShare struct {
	label   string // output.OwnerLabel of the owner
	changes []*Change
	// Findings, counted one per account and finding.
	added, resolved, unverified int
	rank                        int // the rank of the most severe new finding; 0 for none
	// unknown tells that the owner could not be read (scan.OwnerUnknown).
	unknown bool
}

// ownerOf is the owner of a change's account: by the new report's row, or
// the old one's when the account left. A row that carries nothing about
// its owner (no tags, no contact, no failure to read them: the new scan did
// not read them, as for an account it could not reach) defers to the old
// row, which may know.
func ownerOf(c *Change, tagKey string) scan.Owner {
	r := c.New
	if r == nil || (c.Old != nil && !knowsOwner(r)) {
		r = c.Old
	}
	return r.Owner(tagKey)
}

func knowsOwner(r *scan.Row) bool {
	return tagsRead(r) || r.ContactRead()
}

// tagsRead tells whether the scan read the row's tags, or tried: an
// account without tags has an empty map, not none.
func tagsRead(r *scan.Row) bool { return r.Tags != nil || r.TagsError != nil }

// byOwner splits the changes with new, resolved or unverified findings by
// owner. Owners whose most severe new finding is the most severe come
// first, then those with the most new findings, the most unverified ones,
// and then by name; within an owner, accounts come by their most severe
// new finding, then by id. tagged tells whether either report read tags.
func byOwner(d *Diff, tagKey string) (shares []*ownerShare, tagged bool) {
	for _, m := range []*scan.Meta{d.Old.Scan, d.New.Scan} {
		tagged = tagged || (m != nil && m.Options.Tags)
	}
	byLabel := map[string]*ownerShare{}
	for i := range d.Changes {
		c := &d.Changes[i]
		if len(c.FindingsAdded)+len(c.FindingsResolved)+len(c.FindingsUnverified) == 0 {
			continue
		}
		for _, r := range []*scan.Row{c.Old, c.New} {
			if r != nil && tagsRead(r) {
				tagged = true
			}
		}
		owner := ownerOf(c, tagKey)
		label := output.OwnerLabel(owner)
		s := byLabel[label]
		if s == nil {
			s = &ownerShare{label: label}
			byLabel[label] = s
			shares = append(shares, s)
		}
		s.unknown = s.unknown || owner.Source == scan.OwnerUnknown
		s.changes = append(s.changes, c)
		s.added += len(c.FindingsAdded)
		s.resolved += len(c.FindingsResolved)
		s.unverified += len(c.FindingsUnverified)
		s.rank = max(s.rank, topRank(c.FindingsAdded))
	}
	slices.SortFunc(shares, func(a, b *ownerShare) int {
		return cmp.Or(cmp.Compare(b.rank, a.rank), cmp.Compare(b.added, a.added),
			cmp.Compare(b.unverified, a.unverified), strings.Compare(a.label, b.label))
	})
	for _, s := range shares {
		// Changes are in account-id order: a stable sort keeps it among
		// equals.
		slices.SortStableFunc(s.changes, func(a, b *Change) int {
			return cmp.Compare(topRank(b.FindingsAdded), topRank(a.FindingsAdded))
		})
	}
	return shares, tagged
}

// unknownRank ranks a finding this version does not define above every
// defined one: it could be anything, and a newer orgscan raised it.
var unknownRank = len(scan.Severities()) + 1

// findingRank is a finding's severity rank.
func findingRank(id string) int {
	if def, ok := scan.DefinitionOf(id); ok {
		return def.Severity.Rank()
	}
	return unknownRank
}

func topRank(findings []string) int {
	top := 0
	for _, f := range findings {
		top = max(top, findingRank(f))
	}
	return top
}

// bySeverity orders findings most severe first, then by id.
func bySeverity(findings []string) []string {
	out := slices.Clone(findings)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(findingRank(b), findingRank(a)), strings.Compare(a, b))
	})
	return out
}
