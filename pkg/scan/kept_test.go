package scan

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

// fullRow is a row with every field set, each to a value no other field
// has, so that a kept row that dropped or swapped one would not compare
// equal.
func fullRow() Row {
	joined := time.Date(2019, 3, 4, 5, 6, 7, 8, time.FixedZone("east", 3600))
	scanned := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	yes, no := true, false
	return Row{
		AccountID: "111122223333", AccountName: "name", Email: "e@example.com", OUPath: "Root/Prod",
		State: "ACTIVE", JoinedMethod: "INVITED", JoinedAt: &joined, AccessMethod: AccessAssumeRoot,
		RootAccessKeys: &yes, RootSigningCertificates: &no, RootPassword: &yes, RootMFA: &no,
		Findings: []string{FindingRootAccessKey, "a finding\x00with odd bytes"},
		Status:   StatusError, ErrorCode: CodeThrottled, Error: "rate exceeded", ScannedAt: &scanned,
		Summary:         NewSummary(map[string]int32{"AccountMFAEnabled": 0, "Users": math.MaxInt32, "Odd": math.MinInt32}),
		RootCredentials: &RootCredentials{Source: "root-session", AccessKeys: []AccessKeyDetail{{ID: "AKIA"}}},
		DetailsError:    &DetailsError{Code: "AccessDenied", Message: "no"},
		Tags:            map[string]string{"owner": "team@example.com", "": "an empty key", "cost-center": ""},
		TagsError:       &LookupError{Code: CodeThrottled, Message: "tags: rate exceeded"},
		SecurityContact: &Contact{Name: "Dana", Email: "sec@example.com", Title: "CISO", Phone: "+1-206-555-0100"},
		ContactError:    &LookupError{Code: CodeAccessDenied, Message: "contact: denied"},
		Hint:            HintIncludeInactive,
	}
}

func TestAKeptRowDecodesToTheRowKept(t *testing.T) {
	// Every field of the sample is set: a field added to Row must be kept
	// too, and this fails until the sample (and keep) have it.
	full := fullRow()
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("the sample row leaves %s zero: set it, and keep it in keptRow", v.Type().Field(i).Name)
		}
	}
	tests := []struct {
		name   string
		change func(r *Row)
	}{
		{"a row with every field set comes back whole", func(*Row) {}},
		{"unknown flags, times and findings stay nil", func(r *Row) {
			r.RootAccessKeys, r.RootSigningCertificates, r.RootPassword, r.RootMFA = nil, nil, nil, nil
			r.JoinedAt, r.ScannedAt, r.Findings = nil, nil, nil
		}},
		{"an empty list of findings stays an empty list", func(r *Row) { r.Findings = []string{} }},
		{"times in UTC, before 1970 or with a monotonic reading come back exactly", func(r *Row) {
			joined, scanned := time.Date(1960, 1, 2, 3, 4, 5, 999_999_999, time.UTC), time.Now()
			r.JoinedAt, r.ScannedAt = &joined, &scanned
		}},
		{"tags read as none stay an empty map, not nil", func(r *Row) { r.Tags = map[string]string{} }},
		{"tags and contact not read stay nil", func(r *Row) {
			r.Tags, r.TagsError, r.SecurityContact, r.ContactError = nil, nil, nil, nil
		}},
		{"a contact with fields left empty comes back as it was", func(r *Row) {
			r.SecurityContact = &Contact{Email: "sec@example.com"}
		}},
		{"tags and a contact come back with no findings after them", func(r *Row) { r.Findings = nil }},
		{"an account not read has no summary, details or text", func(r *Row) {
			r.Summary, r.RootCredentials, r.DetailsError = Summary{}, nil, nil
			r.AccountName, r.Email, r.OUPath, r.Error, r.ErrorCode, r.Hint = "", "", "", "", "", ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRow()
			tt.change(&r)
			k := keep(&r)
			got := k.row()
			if !reflect.DeepEqual(*got, r) {
				t.Errorf("kept row decodes to\n%+v\nwant\n%+v", *got, r)
			}
			if got.JoinedAt != nil && got.JoinedAt == r.JoinedAt {
				t.Error("the decoded row shares the kept row's time: a caller changing it would change the report")
			}
		})
	}
}

func TestReportRowsAreInAccountOrder(t *testing.T) {
	kept := &keptRows{}
	// More rows than a chunk holds, added out of order.
	const n = keptChunk*2 + 7
	for i := range n {
		r := Row{AccountID: fmt.Sprintf("%012d", (i*7919)%n), Status: StatusOK}
		kept.add(&r)
	}
	tests := []struct {
		name string
		rep  *Report
		want []string
	}{
		{"rows held as Accounts are sorted without reordering them", &Report{Accounts: []Row{{AccountID: "2"}, {AccountID: "1"}, {AccountID: "3"}}}, []string{"1", "2", "3"}},
		{"an account listed twice keeps its order", &Report{Accounts: []Row{{AccountID: "2", Error: "first"}, {AccountID: "1"}, {AccountID: "2", Error: "second"}}}, []string{"1", "2", "2"}},
		{"kept rows beyond a chunk come back sorted", &Report{kept: kept}, nil},
		{"Accounts and kept rows merge", &Report{Accounts: []Row{{AccountID: "000000000003x"}}, kept: kept}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.rep.Rows()
			var ids []string
			for r := range l.All() {
				ids = append(ids, r.AccountID)
			}
			total := len(tt.rep.Accounts)
			if tt.rep.kept != nil {
				total += tt.rep.kept.n
			}
			if l.Len() != total || len(ids) != total {
				t.Fatalf("Len %d and %d rows yielded, want %d", l.Len(), len(ids), total)
			}
			if !slices.IsSorted(ids) {
				t.Errorf("rows not in account-id order: %v", ids[:min(len(ids), 10)])
			}
			if tt.want != nil && !slices.Equal(ids, tt.want) {
				t.Errorf("rows %v, want %v", ids, tt.want)
			}
		})
	}
	dup := (&Report{Accounts: []Row{{AccountID: "2", Error: "first"}, {AccountID: "1"}, {AccountID: "2", Error: "second"}}}).Rows()
	if dup.At(1).Error != "first" || dup.At(2).Error != "second" {
		t.Error("an account listed twice changed order")
	}
}

func TestCollectorKeepsCompactRowsAfterOnRowAmendsThem(t *testing.T) {
	c := &collector{kept: &keptRows{}, onRow: func(r *Row) error {
		r.Error += " (amended)"
		return nil
	}}
	c.add(Row{AccountID: "2", Status: StatusError, Error: "failed"})
	c.add(Row{AccountID: "1", Status: StatusOK})
	if len(c.rows) != 0 {
		t.Errorf("%d rows kept whole besides the compact ones", len(c.rows))
	}
	rep := NewReport(Meta{}, &Result{kept: c.kept, Counts: c.counts}, time.Time{})
	if len(rep.Accounts) != 0 || rep.Rows().Len() != 2 {
		t.Fatalf("report has %d Accounts and %d Rows, want 0 and 2", len(rep.Accounts), rep.Rows().Len())
	}
	if got := rep.Rows().At(1).Error; got != "failed (amended)" {
		t.Errorf("kept error %q: OnRow's amendment is lost", got)
	}
	if rep.Scan.Counts.Listed != 2 || rep.Scan.Counts.Errors != 1 || rep.Scan.Complete {
		t.Errorf("counts %+v, complete %v: want 2 listed, 1 error, incomplete", rep.Scan.Counts, rep.Scan.Complete)
	}
}

func TestSummaryKeepsExtremeCounters(t *testing.T) {
	m := map[string]int32{"Min": math.MinInt32, "Max": math.MaxInt32, "Zero": 0, "MinusOne": -1, "Big": 1 << 20}
	s := NewSummary(m)
	if s.Len() != len(m) {
		t.Fatalf("Len %d, want %d", s.Len(), len(m))
	}
	for k, want := range m {
		if got, ok := s.Get(k); !ok || got != want {
			t.Errorf("%s = %d (%v), want %d", k, got, ok, want)
		}
	}
	if empty := NewSummary(map[string]int32{}); empty.IsZero() || empty.Len() != 0 {
		t.Error("an empty summary reads as no summary")
	}
	if !(Summary{}).IsZero() {
		t.Error("the zero Summary reads as a summary")
	}
}
