package output

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// TestReportsKeptCompactlyRenderAlike: the command keeps a scan's rows
// compactly (scan.Config.CompactRows) and the writers decode them one at a
// time; every format must come out byte for byte as from the same rows
// held as Accounts.
func TestReportsKeptCompactlyRenderAlike(t *testing.T) {
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		t.Fatalf("read the demo world: %v", err)
	}
	w := simtest.Start(t, fx, awssim.Options{}, 8)
	now := func() time.Time { return demoClock }
	report := func(compact, details bool) *scan.Report {
		t.Helper()
		cfg := scan.Config{
			Orgs: w.Organizations, IAM: w.IAM,
			Methods: []scan.Method{
				assume.NewRootMethod(w.STS, assume.RootOptions{Partition: w.Caller.Partition}),
				assume.NewRoleMethod(w.STS, assume.RoleOptions{
					Template: assume.RoleNameTemplate(awssim.DefaultRoleName), Partition: w.Caller.Partition,
					SessionName: assume.SessionName(w.Caller), Duration: 15 * time.Minute,
				}),
			},
			CallerAccountID: w.Caller.AccountID, Concurrency: 8, AccountTimeout: 10 * time.Second,
			CentralRootManagement: fx.Organization.Features.RootCredentialsManagement,
			ManagementAccountID:   fx.Organization.ManagementAccountID,
			Thresholds:            scan.Thresholds{RecentDays: 90, MaxAgeDays: 365},
			Now:                   now,
			CompactRows:           compact,
		}
		if details {
			cfg.Details = scan.NewDetailsReader(w.IAM, now)
		}
		res, err := scan.Run(context.Background(), cfg)
		if err != nil || res.Err != nil {
			t.Fatalf("scan the demo world: %v %v", err, res.Err)
		}
		return scan.NewReport(scan.Meta{OrganizationID: fx.Organization.ID, StartedAt: demoClock, Version: "test"}, res, demoClock)
	}
	for _, details := range []bool{false, true} {
		held, kept := report(false, details), report(true, details)
		if len(kept.Accounts) != 0 || kept.Rows().Len() != len(held.Accounts) || len(held.Accounts) == 0 {
			t.Fatalf("kept report has %d Accounts and %d Rows, want 0 and %d", len(kept.Accounts), kept.Rows().Len(), len(held.Accounts))
		}
		for _, format := range Formats() {
			name := format
			if details {
				name += " with details"
			}
			t.Run("the "+name+" report is the same from rows kept compactly", func(t *testing.T) {
				o := Options{Details: details, Now: now}
				if got, want := closeOnly(t, format, kept, o), closeOnly(t, format, held, o); !bytes.Equal(got, want) {
					t.Errorf("from compact rows:\n%s\nfrom Accounts:\n%s", got, want)
				}
			})
		}
	}
}

// closeOnly renders a report through Close alone, as a sorted format is.
func closeOnly(t *testing.T, format string, rep *scan.Report, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(rep); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}
