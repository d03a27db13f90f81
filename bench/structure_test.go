package main

import (
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// These tests check the structure behind the benchmark's figures, without
// timing anything: a slow machine makes them slower, never wrong.

func TestOneAssumeAndOneSummaryPerAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, assumeOp string
	}{
		{"assume-role calls sts:AssumeRole once per member account", assume.MethodAssumeRole, "sts:AssumeRole"},
		{"assume-root calls sts:AssumeRoot once per member account", assume.MethodAssumeRoot, "sts:AssumeRoot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := organization(300, 2, 3)
			g.Inactive = 0.05 // skipped accounts must cost no call at all
			w := newWorld(t, g, awssim.Options{}, 16)
			res := w.run(t, w.config(tt.method, 16))

			var ok, members, skipped int
			for _, r := range res.Rows {
				switch r.Status {
				case scan.StatusOK:
					ok++
					if r.AccessMethod == tt.method {
						members++
					}
				case scan.StatusSkipped:
					skipped++
				default:
					t.Errorf("account %s: status %s (%s): want ok or skipped", r.AccountID, r.Status, r.Error)
				}
			}
			if want := int(0.05*float64(len(w.Fixture.Accounts)-1) + 0.5); skipped != want {
				t.Errorf("%d accounts skipped, want the %d inactive ones", skipped, want)
			}
			if ok+skipped != len(w.Fixture.Accounts) {
				t.Fatalf("%d rows ok and %d skipped for %d accounts", ok, skipped, len(w.Fixture.Accounts))
			}

			st := w.Server.Stats()
			want := map[string]int64{
				tt.assumeOp: int64(members),
				// The management account is read with the caller's own
				// credentials: one summary, no assume.
				"iam:GetAccountSummary": int64(ok),
			}
			for op, n := range want {
				if got := st.Operations[op].Requests; got != n {
					t.Errorf("%s: %d requests, want %d (one per scanned account)", op, got, n)
				}
			}
			for op, s := range st.Operations {
				if (strings.HasPrefix(op, "sts:") || strings.HasPrefix(op, "iam:")) && want[op] == 0 {
					t.Errorf("unexpected %s: %d requests", op, s.Requests)
				}
			}
			// The harness's model of discovery is what discovery does;
			// DescribeOrganization is the CLI's call, not the scan's.
			if got, want := st.Total("organizations").Requests, int64(discoveryCalls(w.Fixture)-1); got != want {
				t.Errorf("%d Organizations calls, the harness models %d", got, want)
			}
		})
	}
}

func TestNoErrorRowUnderThrottleStorm(t *testing.T) {
	t.Parallel()
	// 32 accounts in flight against 100 STS calls a second, with no latency
	// to slow them: nearly every first attempt is throttled.
	const accounts = 61
	w := newWorld(t, organization(accounts, 1, 3), awssim.Options{STSRate: 100, STSBurst: 1}, 32)
	res := w.run(t, w.config(assume.MethodAssumeRoot, 32))

	if len(res.Rows) != accounts {
		t.Fatalf("got %d rows, want %d", len(res.Rows), accounts)
	}
	for _, r := range res.Rows {
		if r.Status != scan.StatusOK {
			t.Errorf("account %s: status %s, error %s %q: throttling must cost time, never a row", r.AccountID, r.Status, r.ErrorCode, r.Error)
		}
	}
	root := w.Server.Stats().Operations["sts:AssumeRoot"]
	if root.Throttled < 10 {
		t.Errorf("only %d AssumeRoot calls were throttled: the test did not make a storm", root.Throttled)
	}
	if got := root.Requests - root.Throttled; got != accounts-1 {
		t.Errorf("%d AssumeRoot calls succeeded, want one per member account (%d)", got, accounts-1)
	}
	t.Logf("%d AssumeRoot requests, %d throttled", root.Requests, root.Throttled)
}
