package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

// faultReport is the part of a JSON report the invariants need.
type faultReport struct {
	Scan struct {
		Complete bool           `json:"complete"`
		Counts   map[string]int `json:"counts"`
	} `json:"scan"`
	Accounts []struct {
		ID        string `json:"account_id"`
		Status    string `json:"status"`
		ErrorCode string `json:"error_code"`
		Error     string `json:"error"`
	} `json:"accounts"`
}

// checkInvariants holds for every run, whatever the faults: every listed
// account appears exactly once, the counts add up, and the exit status
// tells the truth about coverage.
func checkInvariants(t *testing.T, fx *awssim.Fixture, res result) *faultReport {
	t.Helper()
	var rep faultReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("the report is not one JSON document (exit %d): %v\nstderr: %s", res.code, err, res.stderr)
	}
	ids := make([]string, len(rep.Accounts))
	for i, a := range rep.Accounts {
		ids[i] = a.ID
	}
	hidden := checkEveryAccountOnce(t, fx, ids)
	if len(rep.Accounts) != len(fx.Accounts)-len(hidden) {
		t.Errorf("%d rows for %d accounts, %d of them hidden", len(rep.Accounts), len(fx.Accounts), len(hidden))
	}
	c := rep.Scan.Counts
	if c["scanned"]+c["skipped"]+c["errors"]+c["not_scanned"] != c["listed"] || c["listed"] != len(rep.Accounts) {
		t.Errorf("counts do not add up: %v", c)
	}
	if len(hidden) > 0 && c["ous_not_listed"] == 0 {
		t.Errorf("%d accounts hidden by denied listings, but counts.ous_not_listed = %d", len(hidden), c["ous_not_listed"])
	}
	wantCode := exitOK
	if c["errors"] > 0 || c["ous_not_listed"] > 0 {
		wantCode = exitIncomplete
	}
	if res.code != wantCode || rep.Scan.Complete != (wantCode == exitOK) {
		t.Errorf("exit %d and complete=%v for counts %v, want exit %d", res.code, rep.Scan.Complete, c, wantCode)
	}
	return &rep
}

// checkEveryAccountOnce checks that every account of fx is among ids
// exactly once, but those that a denied OU listing hides, which appear
// never (and make the report incomplete); it returns the hidden ones.
func checkEveryAccountOnce(t *testing.T, fx *awssim.Fixture, ids []string) map[string]bool {
	t.Helper()
	hidden := hiddenAccounts(fx)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for _, a := range fx.Accounts {
		want := 1
		if hidden[a.ID] {
			want = 0
		}
		if seen[a.ID] != want {
			t.Errorf("account %s (%s) appears %d times, want %d", a.ID, a.Name, seen[a.ID], want)
		}
	}
	return hidden
}

func codes(rep *faultReport) map[string]string {
	m := map[string]string{}
	for _, a := range rep.Accounts {
		if a.ErrorCode != "" {
			m[a.ID] = a.ErrorCode
		}
	}
	return m
}

// TestFaultInjection runs the whole command through the simulator's fault
// modes, one case per fault the reliability issue names.
func TestFaultInjection(t *testing.T) {
	base := func() *awssim.Fixture {
		return awssim.Generate(awssim.GenerateOptions{Seed: 42, Accounts: 40, OUDepth: 2, OUWidth: 2, RootKeys: 0.2})
	}
	// A clock that jumps 16 minutes every 25th request: a session issued
	// before a jump is expired after it, and is renewed. The spacing is
	// more than discovery's requests (about 20 here, interleaved with the
	// scan) plus an account's own four, so a renewed session never meets a
	// second jump before its first use, which no real clock would do.
	var ticks atomic.Int64
	jumpingClock := func() time.Time {
		n := ticks.Add(1)
		return time.Now().Add(time.Duration(n/25) * 16 * time.Minute)
	}
	// Bursts are capped below the client's five attempts (MaxFaultBurst),
	// as AWS's transient failures are: then any error row is orgscan's.
	tests := []struct {
		name    string
		fx      func() *awssim.Fixture
		opts    awssim.Options
		args    []string
		check   func(t *testing.T, rep *faultReport)
		maxTime time.Duration
		// expiring: sessions must have expired (and been renewed).
		expiring bool
	}{
		{
			name: "bursts of 5xx on Organizations cost time, not accounts",
			fx:   base, opts: awssim.Options{Seed: 1, ErrorRate: 0.25, MaxFaultBurst: 3, FaultServices: []string{"organizations"}},
			check: wantNoErrors,
		},
		{
			name: "bursts of 5xx on STS cost time, not accounts",
			fx:   base, opts: awssim.Options{Seed: 2, ErrorRate: 0.25, MaxFaultBurst: 3, FaultServices: []string{"sts"}},
			check: wantNoErrors,
		},
		{
			name: "bursts of 5xx on IAM cost time, not accounts",
			fx:   base, opts: awssim.Options{Seed: 3, ErrorRate: 0.25, MaxFaultBurst: 3, FaultServices: []string{"iam"}},
			check: wantNoErrors,
		},
		{
			name: "dropped connections on Organizations are retried",
			fx:   base, opts: awssim.Options{Seed: 4, DropRate: 0.2, MaxFaultBurst: 3, FaultServices: []string{"organizations"}},
			check: wantNoErrors,
		},
		{
			name: "dropped connections on STS are retried",
			fx:   base, opts: awssim.Options{Seed: 5, DropRate: 0.2, MaxFaultBurst: 3, FaultServices: []string{"sts"}},
			check: wantNoErrors,
		},
		{
			name: "dropped connections on IAM are retried",
			fx:   base, opts: awssim.Options{Seed: 6, DropRate: 0.2, MaxFaultBurst: 3, FaultServices: []string{"iam"}},
			check: wantNoErrors,
		},
		{
			name: "a throttling storm on Organizations slows discovery but does not fail it",
			fx:   base, opts: awssim.Options{OrgsRate: 5, OrgsBurst: 1},
			check: wantNoErrors,
		},
		{
			name: "a hanging account times out alone and the scan finishes on time",
			fx: func() *awssim.Fixture {
				fx := base()
				fx.Accounts[5].Faults.Hang = true
				return fx
			},
			args: []string{"--account-timeout", "2s"},
			check: func(t *testing.T, rep *faultReport) {
				got := codes(rep)
				if len(got) != 1 {
					t.Fatalf("error rows %v, want exactly the hanging account", got)
				}
				for _, code := range got {
					if code != "Timeout" {
						t.Errorf("hanging account code %q, want Timeout", code)
					}
				}
			},
			maxTime: 10 * time.Second,
		},
		{
			name: "credentials that expire mid-scan are renewed, not failed",
			fx: func() *awssim.Fixture {
				// Enough accounts for several jumps.
				return awssim.Generate(awssim.GenerateOptions{Seed: 42, Accounts: 80, OUDepth: 2, OUWidth: 2, RootKeys: 0.2})
			},
			opts:     awssim.Options{Now: jumpingClock},
			args:     []string{"--concurrency", "1", "--duration", "15m"},
			check:    wantNoErrors,
			expiring: true,
		},
		{
			name: "access denied for a subset of accounts is an error row for each",
			fx: func() *awssim.Fixture {
				return awssim.Generate(awssim.GenerateOptions{Seed: 42, Accounts: 40, MissingRole: 0.25, NoCentralRootAccess: true})
			},
			args: []string{"--access", "assume-role"},
			check: func(t *testing.T, rep *faultReport) {
				got := codes(rep)
				if len(got) != 10 {
					t.Errorf("%d error rows, want the 10 accounts without the role: %v", len(got), got)
				}
				for id, code := range got {
					if code != "RoleNotAssumable" {
						t.Errorf("%s: code %q, want RoleNotAssumable", id, code)
					}
				}
			},
		},
		{
			name: "a service control policy denying GetAccountSummary after a successful assume",
			fx: func() *awssim.Fixture {
				fx := base()
				fx.Accounts[3].Faults.DenyGetAccountSummary = true
				return fx
			},
			check: func(t *testing.T, rep *faultReport) {
				got := codes(rep)
				if len(got) != 1 || got[rep.find(t, "deny")] != "AccessDenied" {
					t.Errorf("error rows %v, want one AccessDenied", got)
				}
			},
		},
		{
			name: "an OU whose accounts may not be listed, amid 5xx bursts on Organizations, loses only its accounts",
			fx: func() *awssim.Fixture {
				fx := base()
				denyListing(t, fx, "ListAccountsForParent", fx.Accounts[len(fx.Accounts)-1].Parent)
				return fx
			},
			opts:  awssim.Options{Seed: 7, ErrorRate: 0.25, MaxFaultBurst: 3, FaultServices: []string{"organizations"}},
			check: wantOUsNotListed(1),
		},
		{
			name: "an OU whose child OUs may not be listed loses only its subtree",
			fx: func() *awssim.Fixture {
				fx := base()
				denyListing(t, fx, "ListOrganizationalUnitsForParent", fx.Organization.OUs[0].ID)
				return fx
			},
			check: wantOUsNotListed(1),
		},
		{
			name: "a malformed IAM response is a clear error for that account, no panic",
			fx: func() *awssim.Fixture {
				fx := base()
				fx.Accounts[7].Faults.MalformedIAM = true
				return fx
			},
			check: func(t *testing.T, rep *faultReport) {
				got := codes(rep)
				if len(got) != 1 {
					t.Fatalf("error rows %v, want one", got)
				}
				for _, code := range got {
					if code != "MalformedResponse" {
						t.Errorf("code %q, want MalformedResponse (%+v)", code, rep.Accounts)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := tc.fx()
			s := startSim(t, fx, tc.opts)
			start := time.Now()
			res := s.run(t, append([]string{"scan", "-q", "-f", "json"}, tc.args...)...)
			elapsed := time.Since(start)
			rep := checkInvariants(t, fx, res)
			if tc.check != nil {
				tc.check(t, rep)
			}
			if tc.expiring && s.srv.Stats().Operations["iam:GetAccountSummary"].Failed == 0 {
				t.Error("no session expired: the case tested nothing")
			}
			for _, svc := range tc.opts.FaultServices {
				if s.srv.Stats().Total(svc).Failed == 0 {
					t.Errorf("no fault was injected into %s: the case tested nothing", svc)
				}
			}
			if tc.maxTime > 0 && elapsed > tc.maxTime {
				t.Errorf("scan took %s, want under %s", elapsed, tc.maxTime)
			}
		})
	}
}

// wantOUsNotListed checks that exactly n OU listings failed and that no
// account row was lost to it.
func wantOUsNotListed(n int) func(t *testing.T, rep *faultReport) {
	return func(t *testing.T, rep *faultReport) {
		t.Helper()
		wantNoErrors(t, rep)
		if got := rep.Scan.Counts["ous_not_listed"]; got != n {
			t.Errorf("counts.ous_not_listed = %d, want %d", got, n)
		}
	}
}

func wantNoErrors(t *testing.T, rep *faultReport) {
	t.Helper()
	if got := codes(rep); len(got) != 0 {
		t.Errorf("error rows %v: retryable faults must cost time, never a row", got)
	}
}

// find returns the id of the only errored account whose message contains
// sub, for a readable assertion.
func (r *faultReport) find(t *testing.T, sub string) string {
	t.Helper()
	for _, a := range r.Accounts {
		if a.ErrorCode != "" && strings.Contains(strings.ToLower(a.Error), sub) {
			return a.ID
		}
	}
	return ""
}

// TestKillDuringWriteNeverLeavesATornReport kills the binary with SIGKILL
// at many points of a scan that ends in a large --out write: the file is
// always the previous report or the complete new one.
func TestKillDuringWriteNeverLeavesATornReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildOrgscan(t)
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 9, Accounts: 1500, OUDepth: 1, OUWidth: 5})
	s := startSim(t, fx, awssim.Options{Now: time.Now})
	out := filepath.Join(t.TempDir(), "report.json")
	previous := []byte(`{"previous": true}`)
	if err := os.WriteFile(out, previous, 0o600); err != nil {
		t.Fatal(err)
	}
	// How long a full run takes, to spread the kills over it.
	start := time.Now()
	full := exec.Command(bin, "scan", "-q", "--concurrency", "64", "--out", out+".full.json")
	full.Env = binaryEnv(t, s)
	if msg, err := full.CombinedOutput(); err != nil {
		t.Fatalf("full run: %v %s", err, msg)
	}
	total := time.Since(start)
	// Most kills land near the end, where the report is written.
	for i := range 4 {
		delay := total * time.Duration(64+12*i) / 100
		t.Run(fmt.Sprintf("killed after %s", delay.Round(time.Millisecond)), func(t *testing.T) {
			cmd := exec.Command(bin, "scan", "-q", "--concurrency", "64", "--out", out)
			cmd.Env = binaryEnv(t, s)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the report vanished: %v", err)
			}
			if string(data) == string(previous) {
				return
			}
			var rep faultReport
			if err := json.Unmarshal(data, &rep); err != nil || len(rep.Accounts) != len(fx.Accounts) {
				t.Fatalf("torn report: %d bytes, %d accounts, err %v", len(data), len(rep.Accounts), err)
			}
			previous = data
		})
	}
}
