package diff

import (
	"encoding/json"
	"slices"

	"github.com/orgscan/orgscan/pkg/scan"
)

// SchemaVersion is the version of the diff document that Write's json
// format produces.
const SchemaVersion = "1"

// Kind names one way an account changed between two reports.
type Kind string

// Change kinds, in the order they are listed within one account.
const (
	KindJoined             Kind = "joined"              // in the new report only
	KindLeft               Kind = "left"                // in the old report only
	KindNewFindings        Kind = "new-findings"        // findings not in the old report
	KindResolvedFindings   Kind = "resolved-findings"   // gone, and the new scan read the account
	KindUnverifiedFindings Kind = "unverified-findings" // gone, but the new scan could not read the account
	KindStatus             Kind = "status-change"       // for example ok → error: coverage lost
	KindOUMove             Kind = "ou-move"
	KindState              Kind = "state-change" // for example ACTIVE → SUSPENDED
)

// Diff is what changed between two reports.
type Diff struct {
	Old, New Side
	Counts   Counts
	// Changes lists every account with at least one change, ordered by
	// account id. Unchanged accounts are only counted.
	Changes []Change
}

// Side is one report's provenance.
type Side struct {
	Source        string     // as set on the Document; may be empty
	Format        string     // FormatJSON, FormatNDJSON or FormatScan
	SchemaVersion string     // empty for NDJSON
	Scan          *scan.Meta // nil for NDJSON
}

// Counts summarise a diff. They add up:
// OldAccounts = Compared + Left, NewAccounts = Compared + Joined,
// Compared = Unchanged + (Changed - Joined - Left).
type Counts struct {
	OldAccounts            int `json:"old_accounts"`
	NewAccounts            int `json:"new_accounts"`
	Compared               int `json:"compared"` // in both reports
	Unchanged              int `json:"unchanged"`
	Changed                int `json:"changed"` // listed in changes, joined and left included
	Joined                 int `json:"joined"`
	Left                   int `json:"left"`
	WithNewFindings        int `json:"with_new_findings"` // joined accounts with findings included
	WithResolvedFindings   int `json:"with_resolved_findings"`
	WithUnverifiedFindings int `json:"with_unverified_findings"`
	StatusChanges          int `json:"status_changes"`
	CoverageLosses         int `json:"coverage_losses"` // status changes away from ok
	OUMoves                int `json:"ou_moves"`
	StateChanges           int `json:"state_changes"`
}

// Change is everything that changed for one account.
type Change struct {
	AccountID string
	// AccountName is the new report's name, or the old one's for an
	// account that left.
	AccountName string
	Kinds       []Kind
	// Findings, sorted. Resolved findings need the new scan to have read
	// the account (status ok); findings that vanished because the account
	// could not be read are unverified instead, since they may still exist.
	FindingsAdded      []string
	FindingsResolved   []string
	FindingsUnverified []string
	// Status, OUPath and State are set when the value changed, and for a
	// joined or left account show the one side there is (From or To empty).
	Status *StatusTransition
	OUPath *Transition
	State  *Transition
	// Old and New are the rows compared; one is nil for a joined or left
	// account.
	Old, New *scan.Row
}

// Transition is a value before and after; empty means absent.
type Transition struct {
	From, To string
}

// StatusTransition is a status change, with the new row's error when it
// has one.
type StatusTransition struct {
	From, To  string
	ErrorCode string
	Error     string
}

// hasNewFindings tells whether any account has a finding the old report did
// not have, including accounts that joined with findings.
func (d *Diff) hasNewFindings() bool { return d.Counts.WithNewFindings > 0 }

// hasChanges tells whether any account changed, joined or left.
func (d *Diff) hasChanges() bool { return len(d.Changes) > 0 }

// Compare diffs two documents, old first. A nil document counts as an empty
// report without provenance, so that a first run against no baseline shows
// every account as joined. Rows are matched by account id; should a document
// built by hand repeat an id, the first row wins (Read never returns one
// that does).
func Compare(oldDoc, newDoc *Document) *Diff {
	d := &Diff{Old: sideOf(oldDoc), New: sideOf(newDoc)}
	olds, newRows := index(oldDoc), index(newDoc)
	d.Counts.OldAccounts, d.Counts.NewAccounts = len(olds), len(newRows)

	ids := make([]string, 0, len(olds)+len(newRows))
	for id := range olds {
		ids = append(ids, id)
	}
	for id := range newRows {
		if olds[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)

	for _, id := range ids {
		o, n := olds[id], newRows[id]
		var c Change
		switch {
		case o == nil:
			c = joined(n)
		case n == nil:
			c = left(o)
		default:
			d.Counts.Compared++
			c = compareRows(o, n)
			if len(c.Kinds) == 0 {
				d.Counts.Unchanged++
				continue
			}
		}
		d.count(&c)
		d.Changes = append(d.Changes, c)
	}
	d.Counts.Changed = len(d.Changes)
	return d
}

func (d *Diff) count(c *Change) {
	for _, k := range c.Kinds {
		switch k {
		case KindJoined:
			d.Counts.Joined++
		case KindLeft:
			d.Counts.Left++
		case KindNewFindings:
			d.Counts.WithNewFindings++
		case KindResolvedFindings:
			d.Counts.WithResolvedFindings++
		case KindUnverifiedFindings:
			d.Counts.WithUnverifiedFindings++
		case KindStatus:
			d.Counts.StatusChanges++
			if c.Status.From == scan.StatusOK {
				d.Counts.CoverageLosses++
			}
		case KindOUMove:
			d.Counts.OUMoves++
		case KindState:
			d.Counts.StateChanges++
		}
	}
}

func joined(n *scan.Row) Change {
	c := Change{
		AccountID:     n.AccountID,
		AccountName:   n.AccountName,
		Kinds:         []Kind{KindJoined},
		FindingsAdded: minus(n.Findings, nil),
		Status:        statusTo("", n),
		OUPath:        &Transition{To: n.OUPath},
		State:         &Transition{To: n.State},
		New:           n,
	}
	if len(c.FindingsAdded) > 0 {
		c.Kinds = append(c.Kinds, KindNewFindings)
	}
	return c
}

func left(o *scan.Row) Change {
	return Change{
		AccountID:   o.AccountID,
		AccountName: o.AccountName,
		Kinds:       []Kind{KindLeft},
		Status:      &StatusTransition{From: o.Status},
		OUPath:      &Transition{From: o.OUPath},
		State:       &Transition{From: o.State},
		Old:         o,
	}
}

func compareRows(o, n *scan.Row) Change {
	c := Change{AccountID: n.AccountID, AccountName: n.AccountName, Old: o, New: n}
	if c.AccountName == "" {
		c.AccountName = o.AccountName
	}
	c.FindingsAdded = minus(n.Findings, o.Findings)
	gone := minus(o.Findings, n.Findings)
	if n.Status == scan.StatusOK {
		c.FindingsResolved = gone
	} else {
		c.FindingsUnverified = gone
	}
	if len(c.FindingsAdded) > 0 {
		c.Kinds = append(c.Kinds, KindNewFindings)
	}
	if len(c.FindingsResolved) > 0 {
		c.Kinds = append(c.Kinds, KindResolvedFindings)
	}
	if len(c.FindingsUnverified) > 0 {
		c.Kinds = append(c.Kinds, KindUnverifiedFindings)
	}
	if o.Status != n.Status {
		c.Kinds = append(c.Kinds, KindStatus)
		c.Status = statusTo(o.Status, n)
	}
	if o.OUPath != n.OUPath {
		c.Kinds = append(c.Kinds, KindOUMove)
		c.OUPath = &Transition{From: o.OUPath, To: n.OUPath}
	}
	if o.State != n.State {
		c.Kinds = append(c.Kinds, KindState)
		c.State = &Transition{From: o.State, To: n.State}
	}
	return c
}

func statusTo(from string, n *scan.Row) *StatusTransition {
	return &StatusTransition{From: from, To: n.Status, ErrorCode: n.ErrorCode, Error: n.Error}
}

// minus returns the sorted, distinct elements of a that are not in b. Sets
// rather than nested loops: a report file can hold any number of findings.
func minus(a, b []string) []string {
	drop := make(map[string]bool, len(b)+len(a))
	for _, s := range b {
		drop[s] = true
	}
	var out []string
	for _, s := range a {
		if !drop[s] {
			drop[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func sideOf(doc *Document) Side {
	if doc == nil {
		return Side{}
	}
	return Side{Source: doc.Source, Format: doc.Format, SchemaVersion: doc.SchemaVersion, Scan: doc.Scan}
}

func index(doc *Document) map[string]*scan.Row {
	m := map[string]*scan.Row{}
	if doc == nil {
		return m
	}
	for i := range doc.Rows {
		r := &doc.Rows[i]
		if m[r.AccountID] == nil {
			m[r.AccountID] = r
		}
	}
	return m
}

// FailOn says which diffs make a run fail (the CLI exits 4).
type FailOn string

// FailOn values.
const (
	FailOnNewFindings FailOn = "new-findings" // the default: alert only on what is new
	FailOnAnyChange   FailOn = "any-change"
	FailOnNone        FailOn = "none"
)

// FailsAt tells whether d meets condition f, where new findings count only
// from severity min up (see scan.AnyAtLeast: a finding this version does
// not know always counts); the zero severity counts every finding. The zero
// FailOn means new-findings, and so does any value other than the three
// above: a security check that cannot tell what it was asked fails on what
// is new.
func (d *Diff) FailsAt(f FailOn, min scan.Severity) bool {
	switch f {
	case FailOnNone:
		return false
	case FailOnAnyChange:
		return d.hasChanges()
	default:
		return d.HasNewFindingsAtLeast(min)
	}
}

// HasNewFindingsAtLeast tells whether any account has a new finding as
// severe as min or more; the findings are judged by this version's
// definitions, whichever version wrote the reports.
func (d *Diff) HasNewFindingsAtLeast(min scan.Severity) bool {
	if min.Rank() == 0 {
		return d.hasNewFindings()
	}
	for i := range d.Changes {
		if scan.AnyAtLeast(d.Changes[i].FindingsAdded, min) {
			return true
		}
	}
	return false
}

// MarshalJSON writes the documented diff document (see the package
// documentation): lists are never null, absent values are.
func (d *Diff) MarshalJSON() ([]byte, error) {
	changes := d.Changes
	if changes == nil {
		changes = []Change{}
	}
	return json.Marshal(struct {
		SchemaVersion string   `json:"schema_version"`
		Old           Side     `json:"old"`
		New           Side     `json:"new"`
		Counts        Counts   `json:"counts"`
		Changes       []Change `json:"changes"`
	}{SchemaVersion, d.Old, d.New, d.Counts, changes})
}

// MarshalJSON writes a side with null for what it does not have.
func (s Side) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Source        *string    `json:"source"`
		Format        *string    `json:"format"`
		SchemaVersion *string    `json:"schema_version"`
		Scan          *scan.Meta `json:"scan"`
	}{nullable(s.Source), nullable(s.Format), nullable(s.SchemaVersion), s.Scan})
}

// MarshalJSON writes one entry of changes.
func (c Change) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccountID          string            `json:"account_id"`
		AccountName        string            `json:"account_name"`
		Kinds              []Kind            `json:"kinds"`
		FindingsAdded      []string          `json:"findings_added"`
		FindingsResolved   []string          `json:"findings_resolved"`
		FindingsUnverified []string          `json:"findings_unverified"`
		Status             *StatusTransition `json:"status"`
		OUPath             *Transition       `json:"ou_path"`
		State              *Transition       `json:"state"`
	}{c.AccountID, c.AccountName, nonNil(c.Kinds), nonNil(c.FindingsAdded), nonNil(c.FindingsResolved),
		nonNil(c.FindingsUnverified), c.Status, c.OUPath, c.State})
}

// MarshalJSON writes {"from", "to"} with null for an absent side.
func (t Transition) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		From *string `json:"from"`
		To   *string `json:"to"`
	}{nullable(t.From), nullable(t.To)})
}

// MarshalJSON writes {"from", "to", "error_code", "error"} with null for
// what is absent.
func (t StatusTransition) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		From      *string `json:"from"`
		To        *string `json:"to"`
		ErrorCode *string `json:"error_code"`
		Error     *string `json:"error"`
	}{nullable(t.From), nullable(t.To), nullable(t.ErrorCode), nullable(t.Error)})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
