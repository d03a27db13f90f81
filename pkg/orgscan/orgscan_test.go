package orgscan_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/scan"
)

// TestRunFailuresSayTheirStage: a failure says where the pipeline broke,
// a code and what would fix it, as data a program can act on.
func TestRunFailuresSayTheirStage(t *testing.T) {
	cfg, stop := simulatedAWS(t.Context())
	defer stop()
	unknownKey := cfg.Copy()
	unknownKey.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWNKEY000000", "secret", "")

	tests := []struct {
		name      string
		cfg       orgscan.Config
		stage     scan.Stage
		code      string
		hint      scan.Hint
		hasReport bool
	}{
		{"an access method that does not exist is bad input before any call",
			orgscan.Config{AWS: cfg, Access: orgscan.Access{Method: "assume-everything"}}, scan.StageConfig, scan.ErrorCodeInvalidInput, "", false},
		{"a key the endpoint does not know fails to identify the caller",
			orgscan.Config{AWS: unknownKey}, scan.StageIdentify, "InvalidClientTokenId", scan.HintInvalidKey, false},
		{"an OU the organization does not have is bad input at discovery",
			orgscan.Config{AWS: cfg, Filter: scan.Filter{OUs: []string{"ou-zzzz-zzzzzzzz"}}}, scan.StageDiscover, scan.ErrorCodeInvalidInput, scan.HintSelection, false},
		{"an output that refuses a row stops the scan with the report of what was gathered",
			orgscan.Config{AWS: cfg, OnRow: func(*scan.Row) error { return errors.New("disk full") }}, scan.StageWrite, scan.ErrorCodeWriteFailed, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := orgscan.Run(t.Context(), tc.cfg)
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is no *scan.Error", err)
			}
			if se.Stage != tc.stage || se.Code != tc.code || se.Hint != tc.hint {
				t.Errorf("stage %s, code %s, hint %q; want %s, %s, %q (%v)", se.Stage, se.Code, se.Hint, tc.stage, tc.code, tc.hint, err)
			}
			if (rep != nil) != tc.hasReport {
				t.Fatalf("report %v, want one: %v", rep != nil, tc.hasReport)
			}
			if rep != nil && (rep.Scan.Complete || !slices.Contains(rep.Scan.IncompleteReasons, scan.ReasonScanFailed)) {
				t.Errorf("a stopped scan's report says complete %v, reasons %v", rep.Scan.Complete, rep.Scan.IncompleteReasons)
			}
		})
	}
}

// TestDiscardedRowsStillCount: without the rows, the report's counts and
// completeness are those of the same scan keeping them.
func TestDiscardedRowsStillCount(t *testing.T) {
	cfg, stop := simulatedAWS(t.Context())
	defer stop()
	run := func(discard bool) (*scan.Report, []string) {
		t.Helper()
		var ids []string
		rep, err := orgscan.Run(t.Context(), orgscan.Config{
			AWS: cfg, DiscardRows: discard, IncludeInactive: false,
			OnRow: func(r *scan.Row) error { ids = append(ids, r.AccountID); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return rep, ids
	}
	kept, keptIDs := run(false)
	discarded, streamedIDs := run(true)
	if len(discarded.Accounts) != 0 {
		t.Errorf("%d rows kept with DiscardRows", len(discarded.Accounts))
	}
	if discarded.Scan.Counts != kept.Scan.Counts || discarded.Scan.Complete != kept.Scan.Complete {
		t.Errorf("counts %+v complete %v without the rows; %+v %v with them", discarded.Scan.Counts, discarded.Scan.Complete, kept.Scan.Counts, kept.Scan.Complete)
	}
	if !slices.Equal(keptIDs, streamedIDs) || len(keptIDs) != len(kept.Accounts) {
		t.Errorf("OnRow saw %d accounts keeping rows, %d discarding them, of %d", len(keptIDs), len(streamedIDs), len(kept.Accounts))
	}
}

// TestOwnersAreReadWhenAsked: Tags and Contacts fill the rows of the demo
// world and are recorded in the report's options; without them the rows
// carry neither.
func TestOwnersAreReadWhenAsked(t *testing.T) {
	cfg, stop := simulatedAWS(t.Context())
	defer stop()
	const legacyBilling, acquired = "548201937465", "559673204818"
	for _, tc := range []struct {
		name          string
		tags, contact bool
	}{
		{"without Tags and Contacts no row has either", false, false},
		{"Tags alone reads tags", true, false},
		{"Contacts alone reads contacts", false, true},
		{"both read both", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := orgscan.Run(t.Context(), orgscan.Config{AWS: cfg, Tags: tc.tags, Contacts: tc.contact})
			if err != nil {
				t.Fatal(err)
			}
			if o := rep.Scan.Options; o.Tags != tc.tags || o.Contacts != tc.contact {
				t.Errorf("options record tags %v contacts %v", o.Tags, o.Contacts)
			}
			for r := range rep.Rows().All() {
				if r.Status == scan.StatusSkipped {
					continue
				}
				tagsRead := r.Tags != nil || r.TagsError != nil
				if tagsRead != tc.tags || r.ContactRead() != tc.contact {
					t.Errorf("%s: tags read %v, contact read %v", r.AccountName, tagsRead, r.ContactRead())
				}
				switch {
				case tc.tags && r.AccountID == legacyBilling && (r.TagsError == nil || r.TagsError.Code != scan.CodeAccessDenied):
					t.Errorf("legacy-billing's tags are denied, yet %v %+v", r.Tags, r.TagsError)
				case tc.tags && r.AccountID != legacyBilling && r.Tags["owner"] == "":
					t.Errorf("%s: no owner tag in %v (%+v)", r.AccountName, r.Tags, r.TagsError)
				}
				missing := slices.Contains(r.Findings, scan.FindingNoSecurityContact)
				if want := tc.contact && r.AccountID == acquired; missing != want {
					t.Errorf("%s: no-security-contact %v, want %v (contact %+v, error %+v)", r.AccountName, missing, want, r.SecurityContact, r.ContactError)
				}
			}
			if !rep.Scan.Complete {
				t.Errorf("incomplete: %v", rep.Scan.IncompleteReasons)
			}
		})
	}
}
