package diff

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

const id = "123456789012"

func TestCompareReportsEachKindOfChange(t *testing.T) {
	base := acct(id, "Payments", "Root/Workloads/Prod", scan.FindingRootNoMFA)
	tests := []struct {
		name     string
		old, new []scan.Row
		want     *Change // nil: the account is unchanged
		// Counts that must be 1; every other per-kind count must be 0.
		counted        []string
		newFindings    bool
		failsAnyChange bool
	}{
		{
			name: "an identical account is counted as unchanged and not listed",
			old:  []scan.Row{base}, new: []scan.Row{base},
		},
		{
			name:        "a new root access key is a new finding",
			old:         []scan.Row{base},
			new:         []scan.Row{acct(id, "Payments", "Root/Workloads/Prod", scan.FindingRootNoMFA, scan.FindingRootAccessKey)},
			want:        &Change{Kinds: []Kind{KindNewFindings}, FindingsAdded: []string{scan.FindingRootAccessKey}},
			counted:     []string{"with_new_findings"},
			newFindings: true, failsAnyChange: true,
		},
		{
			name:           "a deleted signing certificate is a resolved finding",
			old:            []scan.Row{acct(id, "Payments", "Root/Workloads/Prod", scan.FindingRootSigningCertificate, scan.FindingRootNoMFA)},
			new:            []scan.Row{base},
			want:           &Change{Kinds: []Kind{KindResolvedFindings}, FindingsResolved: []string{scan.FindingRootSigningCertificate}},
			counted:        []string{"with_resolved_findings"},
			failsAnyChange: true,
		},
		{
			name: "an account in the new report only has joined, and its findings are new",
			new:  []scan.Row{acct(id, "Acquired", "Root/New", scan.FindingRootAccessKey, scan.FindingRootAccessKey)},
			want: &Change{
				AccountName: "Acquired",
				Kinds:       []Kind{KindJoined, KindNewFindings}, FindingsAdded: []string{scan.FindingRootAccessKey},
				Status: &StatusTransition{To: scan.StatusOK}, OUPath: &Transition{To: "Root/New"}, State: &Transition{To: "ACTIVE"},
			},
			counted:     []string{"joined", "with_new_findings"},
			newFindings: true, failsAnyChange: true,
		},
		{
			name: "an account in the new report only without findings has joined and is no new finding",
			new:  []scan.Row{acct(id, "Clean", "Root")},
			want: &Change{
				AccountName: "Clean", Kinds: []Kind{KindJoined},
				Status: &StatusTransition{To: scan.StatusOK}, OUPath: &Transition{To: "Root"}, State: &Transition{To: "ACTIVE"},
			},
			counted:        []string{"joined"},
			failsAnyChange: true,
		},
		{
			name: "an account in the old report only has left, and its findings are not resolved",
			old:  []scan.Row{base},
			want: &Change{
				Kinds:  []Kind{KindLeft},
				Status: &StatusTransition{From: scan.StatusOK}, OUPath: &Transition{From: "Root/Workloads/Prod"}, State: &Transition{From: "ACTIVE"},
			},
			counted:        []string{"left"},
			failsAnyChange: true,
		},
		{
			name: "an account that errored this time is a coverage loss whose findings are unverified",
			old:  []scan.Row{base},
			new:  []scan.Row{failed(base, scan.CodeAccessDenied, "not authorized")},
			want: &Change{
				Kinds:              []Kind{KindUnverifiedFindings, KindStatus},
				FindingsUnverified: []string{scan.FindingRootNoMFA},
				Status:             &StatusTransition{From: scan.StatusOK, To: scan.StatusError, ErrorCode: scan.CodeAccessDenied, Error: "not authorized"},
			},
			counted:        []string{"with_unverified_findings", "status_changes", "coverage_losses"},
			failsAnyChange: true,
		},
		{
			name: "an account that errored last time and has findings now has new findings",
			old:  []scan.Row{failed(base, scan.CodeThrottled, "rate exceeded")},
			new:  []scan.Row{base},
			want: &Change{
				Kinds: []Kind{KindNewFindings, KindStatus}, FindingsAdded: []string{scan.FindingRootNoMFA},
				Status: &StatusTransition{From: scan.StatusError, To: scan.StatusOK},
			},
			counted:     []string{"with_new_findings", "status_changes"},
			newFindings: true, failsAnyChange: true,
		},
		{
			name: "an account that errored both times with different codes is unchanged",
			old:  []scan.Row{failed(base, scan.CodeThrottled, "rate exceeded")},
			new:  []scan.Row{failed(base, scan.CodeTimeout, "timed out")},
		},
		{
			name:           "an account moved to another OU is an OU move",
			old:            []scan.Row{base},
			new:            []scan.Row{inOU(base, "Root/Workloads/Dev")},
			want:           &Change{Kinds: []Kind{KindOUMove}, OUPath: &Transition{From: "Root/Workloads/Prod", To: "Root/Workloads/Dev"}},
			counted:        []string{"ou_moves"},
			failsAnyChange: true,
		},
		{
			name: "a suspended account is a state change and a status change, not a resolution",
			old:  []scan.Row{base},
			new:  []scan.Row{suspended(base)},
			want: &Change{
				Kinds:              []Kind{KindUnverifiedFindings, KindStatus, KindState},
				FindingsUnverified: []string{scan.FindingRootNoMFA},
				Status:             &StatusTransition{From: scan.StatusOK, To: scan.StatusSkipped, Error: "account is SUSPENDED"},
				State:              &Transition{From: "ACTIVE", To: "SUSPENDED"},
			},
			counted:        []string{"with_unverified_findings", "status_changes", "coverage_losses", "state_changes"},
			failsAnyChange: true,
		},
		{
			name: "a renamed account with nothing else changed is unchanged",
			old:  []scan.Row{base},
			new: []scan.Row{func() scan.Row {
				r := base
				r.AccountName = "Payments (EU)"
				return r
			}()},
		},
		{
			name: "findings listed in another order or twice are unchanged",
			old:  []scan.Row{acct(id, "x", "Root", scan.FindingRootAccessKey, scan.FindingRootNoMFA)},
			new:  []scan.Row{acct(id, "x", "Root", scan.FindingRootNoMFA, scan.FindingRootAccessKey, scan.FindingRootNoMFA)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through real bytes: old as JSON, new as NDJSON.
			oldDoc := mustRead(t, jsonReport(t, q1, tt.old, false), "old")
			var newDoc *Document
			if len(tt.new) > 0 {
				newDoc = mustRead(t, ndjsonReport(t, tt.new), "new")
			} else {
				newDoc = mustRead(t, jsonReport(t, q2, nil, false), "new")
			}
			d := Compare(oldDoc, newDoc)
			checkCountsAddUp(t, d)

			if tt.want == nil {
				if d.hasChanges() || d.Counts.Unchanged != 1 {
					t.Fatalf("want the account unchanged, got changes %+v counts %+v", d.Changes, d.Counts)
				}
			} else {
				if len(d.Changes) != 1 {
					t.Fatalf("want one change, got %+v", d.Changes)
				}
				got := d.Changes[0]
				want := *tt.want
				want.AccountID = id
				if want.AccountName == "" {
					want.AccountName = "Payments"
				}
				got.Old, got.New = nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("change:\n got %+v\nwant %+v", describe(got), describe(want))
				}
			}

			perKind := map[string]int{
				"joined": d.Counts.Joined, "left": d.Counts.Left, "with_new_findings": d.Counts.WithNewFindings,
				"with_resolved_findings": d.Counts.WithResolvedFindings, "with_unverified_findings": d.Counts.WithUnverifiedFindings,
				"status_changes": d.Counts.StatusChanges, "coverage_losses": d.Counts.CoverageLosses,
				"ou_moves": d.Counts.OUMoves, "state_changes": d.Counts.StateChanges,
			}
			for name, n := range perKind {
				want := 0
				if slices.Contains(tt.counted, name) {
					want = 1
				}
				if n != want {
					t.Errorf("count %s = %d, want %d", name, n, want)
				}
			}
			if d.hasNewFindings() != tt.newFindings {
				t.Errorf("hasNewFindings = %v, want %v", d.hasNewFindings(), tt.newFindings)
			}
			if d.FailsAt(FailOnNewFindings, "") != tt.newFindings {
				t.Errorf("FailsAt(new-findings) = %v, want %v", d.FailsAt(FailOnNewFindings, ""), tt.newFindings)
			}
			if d.FailsAt(FailOnAnyChange, "") != tt.failsAnyChange {
				t.Errorf("FailsAt(any-change) = %v, want %v", d.FailsAt(FailOnAnyChange, ""), tt.failsAnyChange)
			}
			if d.FailsAt(FailOnNone, "") {
				t.Error("FailsAt(none) = true")
			}
		})
	}
}

func describe(c Change) map[string]any {
	return map[string]any{
		"id": c.AccountID, "name": c.AccountName, "kinds": c.Kinds,
		"added": c.FindingsAdded, "resolved": c.FindingsResolved, "unverified": c.FindingsUnverified,
		"status": c.Status, "ou": c.OUPath, "state": c.State,
	}
}

func TestCompareIdenticalReportsIsAnEmptyDiff(t *testing.T) {
	oldDoc, _ := quarter(t)
	again := mustRead(t, jsonReport(t, q1, oldDoc.Rows, true), "again")
	d := Compare(oldDoc, again)
	if d.hasChanges() || len(d.Changes) != 0 {
		t.Fatalf("identical reports differ: %+v", d.Changes)
	}
	if d.hasNewFindings() || d.FailsAt(FailOnNewFindings, "") || d.FailsAt(FailOnAnyChange, "") {
		t.Error("an empty diff fails")
	}
	if d.Counts.Unchanged != len(oldDoc.Rows) || d.Counts.Compared != len(oldDoc.Rows) {
		t.Errorf("counts = %+v, want all %d unchanged", d.Counts, len(oldDoc.Rows))
	}
}

func TestCompareTheQuarterListsEveryChangeInAccountOrder(t *testing.T) {
	oldDoc, newDoc := quarter(t)
	d := Compare(oldDoc, newDoc)
	checkCountsAddUp(t, d)
	want := map[string][]Kind{
		"100000000002": {KindNewFindings},
		"100000000003": {KindResolvedFindings},
		"100000000004": {KindUnverifiedFindings, KindStatus},
		"100000000005": {KindNewFindings, KindStatus},
		"100000000006": {KindOUMove},
		"100000000007": {KindStatus, KindState},
		"100000000008": {KindLeft},
		"100000000009": {KindJoined, KindNewFindings},
	}
	got := map[string][]Kind{}
	var order []string
	for _, c := range d.Changes {
		got[c.AccountID] = c.Kinds
		order = append(order, c.AccountID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %v\nwant %v", got, want)
	}
	if !slices.IsSorted(order) {
		t.Errorf("changes not ordered by account id: %v", order)
	}
	if d.Counts.Unchanged != 1 || d.Counts.CoverageLosses != 2 {
		t.Errorf("counts = %+v, want 1 unchanged and 2 coverage losses", d.Counts)
	}
	if d.Old.Scan == nil || d.New.Scan != nil || d.Old.Source != "reports/2026-q1.json" || d.New.Format != FormatNDJSON {
		t.Errorf("provenance = %+v / %+v", d.Old, d.New)
	}
}

func TestCompareTreatsAMissingDocumentAsEmpty(t *testing.T) {
	oldDoc, _ := quarter(t)
	d := Compare(nil, oldDoc)
	if d.Counts.Joined != len(oldDoc.Rows) || d.Old.Scan != nil {
		t.Errorf("against nothing every account should join: %+v", d.Counts)
	}
	d = Compare(oldDoc, nil)
	if d.Counts.Left != len(oldDoc.Rows) {
		t.Errorf("to nothing every account should leave: %+v", d.Counts)
	}
}

func TestCompareOfAReportInMemoryMatchesItsFile(t *testing.T) {
	rows := sampleRows()
	rep := &scan.Report{Scan: meta(q1, rows), Accounts: rows}
	fromFile := mustRead(t, jsonReport(t, q1, rows, true), "file")
	d := Compare(fromFile, FromReport(rep))
	if d.hasChanges() {
		t.Fatalf("in-memory report differs from its file: %+v", d.Changes)
	}
	if d.New.Format != FormatScan || d.New.Scan == nil || d.New.Scan.OrganizationID != rep.Scan.OrganizationID {
		t.Errorf("provenance of the in-memory side = %+v", d.New)
	}
}

// TestCompareRandomPairs checks, over random report pairs, that the counts
// add up, that every account of either report is accounted for exactly
// once, and that each listed kind matches the rows it came from.
func TestCompareRandomPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2026))
	for i := range 60 {
		oldRows, newRows := randomPair(rng)
		oldDoc := mustRead(t, jsonReport(t, q1, oldRows, i%2 == 0), "old")
		newDoc := mustRead(t, ndjsonReport(t, newRows), "new")
		d := Compare(oldDoc, newDoc)
		checkCountsAddUp(t, d)

		olds, news := index(oldDoc), index(newDoc)
		listed := map[string]bool{}
		for _, c := range d.Changes {
			if listed[c.AccountID] {
				t.Fatalf("pair %d: account %s listed twice", i, c.AccountID)
			}
			listed[c.AccountID] = true
			o, n := olds[c.AccountID], news[c.AccountID]
			if slices.Contains(c.Kinds, KindJoined) != (o == nil) || slices.Contains(c.Kinds, KindLeft) != (n == nil) {
				t.Fatalf("pair %d: account %s joined/left wrong: %v", i, c.AccountID, c.Kinds)
			}
			if o == nil || n == nil {
				continue
			}
			if slices.Contains(c.Kinds, KindStatus) != (o.Status != n.Status) || slices.Contains(c.Kinds, KindOUMove) != (o.OUPath != n.OUPath) || slices.Contains(c.Kinds, KindState) != (o.State != n.State) {
				t.Fatalf("pair %d: account %s kinds %v do not match rows %+v / %+v", i, c.AccountID, c.Kinds, o, n)
			}
			for _, f := range c.FindingsAdded {
				if slices.Contains(o.Findings, f) || !slices.Contains(n.Findings, f) {
					t.Fatalf("pair %d: account %s: %s is not new", i, c.AccountID, f)
				}
			}
			for _, f := range slices.Concat(c.FindingsResolved, c.FindingsUnverified) {
				if !slices.Contains(o.Findings, f) || slices.Contains(n.Findings, f) {
					t.Fatalf("pair %d: account %s: %s did not go away", i, c.AccountID, f)
				}
			}
			if len(c.FindingsResolved) > 0 && n.Status != scan.StatusOK {
				t.Fatalf("pair %d: account %s: resolved without being read", i, c.AccountID)
			}
		}
		for accountID, o := range olds {
			if n := news[accountID]; n != nil && !listed[accountID] {
				if o.Status != n.Status || o.OUPath != n.OUPath || o.State != n.State || len(minus(n.Findings, o.Findings)) > 0 || len(minus(o.Findings, n.Findings)) > 0 {
					t.Fatalf("pair %d: account %s changed but is not listed", i, accountID)
				}
			}
		}
		for _, format := range Formats() {
			if err := Write(discard{}, d, format); err != nil {
				t.Fatalf("pair %d: write %s: %v", i, format, err)
			}
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func checkCountsAddUp(t *testing.T, d *Diff) {
	t.Helper()
	c := d.Counts
	if c.OldAccounts != c.Compared+c.Left || c.NewAccounts != c.Compared+c.Joined ||
		c.Compared != c.Unchanged+c.Changed-c.Joined-c.Left || c.Changed != len(d.Changes) {
		t.Errorf("counts do not add up: %+v", c)
	}
	if c.CoverageLosses > c.StatusChanges {
		t.Errorf("more coverage losses than status changes: %+v", c)
	}
}

func TestFailsAtTreatsAnUnknownConditionAsNewFindings(t *testing.T) {
	withNew := &Diff{Counts: Counts{WithNewFindings: 1}, Changes: []Change{{}}}
	onlyMoved := &Diff{Counts: Counts{OUMoves: 1}, Changes: []Change{{}}}
	for _, tc := range []struct {
		name string
		f    FailOn
	}{
		{"the zero value means new-findings", ""},
		{"a value in another case means new-findings", "New-Findings"},
		{"an unknown value means new-findings", "always"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !withNew.FailsAt(tc.f, "") || onlyMoved.FailsAt(tc.f, "") {
				t.Errorf("FailOn %q does not behave as new-findings", tc.f)
			}
		})
	}
}

// BenchmarkReadAndCompare reads two 10,000-account reports (the default
// organization quota), one per format, and diffs them.
func BenchmarkReadAndCompare(b *testing.B) {
	oldRows := make([]scan.Row, 10000)
	for i := range oldRows {
		oldRows[i] = acct(idOf(i), "account", "Root/Workloads", scan.FindingRootNoMFA)
	}
	newRows := slices.Clone(oldRows)
	for i := 0; i < len(newRows); i += 100 {
		newRows[i] = acct(idOf(i), "account", "Root/Workloads", scan.FindingRootAccessKey)
	}
	oldJSON, newNDJSON := jsonReport(b, q1, oldRows, true), ndjsonReport(b, newRows)
	b.SetBytes(int64(len(oldJSON) + len(newNDJSON)))
	b.ResetTimer()
	for b.Loop() {
		oldDoc, err := Read(bytes.NewReader(oldJSON))
		if err != nil {
			b.Fatal(err)
		}
		newDoc, err := Read(bytes.NewReader(newNDJSON))
		if err != nil {
			b.Fatal(err)
		}
		if d := Compare(oldDoc, newDoc); d.Counts.WithNewFindings != 100 {
			b.Fatalf("counts = %+v", d.Counts)
		}
	}
}
