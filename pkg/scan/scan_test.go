package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

func TestScanReportsEveryAccountOfANestedOrganization(t *testing.T) {
	w := newWorld(t, handWorld(), awssim.Options{})
	res := w.run(t, w.config())

	type want struct {
		path, status, access, code string
		findings                   []string
	}
	wants := map[string]want{
		mgmtID:         {"Root", scan.StatusOK, scan.AccessCaller, "", []string{scan.FindingRootPassword}},
		"222222222222": {"Root/Security", scan.StatusOK, scan.AccessAssumeRole, "", nil},
		"333333333333": {"Root/Workloads/Prod", scan.StatusOK, scan.AccessAssumeRole, "", []string{scan.FindingRootAccessKey, scan.FindingRootSigningCertificate, scan.FindingRootNoMFA}},
		"444444444444": {"Root/Workloads/Dev", scan.StatusOK, scan.AccessAssumeRole, "", []string{scan.FindingRootNoMFA, scan.FindingRootPassword}},
		"555555555555": {"Root/Workloads/Dev", scan.StatusSkipped, "", "", nil},
		"666666666666": {"Root/Sandbox", scan.StatusError, "", scan.CodeRoleNotAssumable, nil},
		"777777777777": {"Root/Sandbox", scan.StatusError, "", scan.CodeRoleNotAssumable, nil},
	}
	if len(res.Rows) != len(wants) {
		t.Fatalf("got %d rows, want %d", len(res.Rows), len(wants))
	}
	for _, r := range res.Rows {
		want, ok := wants[r.AccountID]
		if !ok {
			t.Errorf("unexpected row %s", r.AccountID)
			continue
		}
		if r.OUPath != want.path || r.Status != want.status || r.AccessMethod != want.access || r.ErrorCode != want.code {
			t.Errorf("%s: path=%q status=%q access=%q code=%q, want %+v (error %q)", r.AccountID, r.OUPath, r.Status, r.AccessMethod, r.ErrorCode, want, r.Error)
		}
		if !slices.Equal(r.Findings, want.findings) {
			t.Errorf("%s: findings %v, want %v", r.AccountID, r.Findings, want.findings)
		}
	}
	if !slices.IsSortedFunc(res.Rows, func(a, b scan.Row) int { return strings.Compare(a.AccountID, b.AccountID) }) {
		t.Error("rows are not sorted by account id")
	}
	rows := rowsByID(res.Rows)
	prod := rows["333333333333"]
	keys, _ := prod.Summary.Get("AccountAccessKeysPresent")
	if keys != 1 || prod.ScannedAt == nil || prod.Email != "prod@example.com" || prod.JoinedMethod != "CREATED" {
		t.Errorf("prod row lacks summary or metadata: %+v", prod)
	}
	if s := rows["555555555555"]; s.Error == "" || !s.Summary.IsZero() {
		t.Errorf("skipped row must give its reason and no summary: %+v", s)
	}
	if e := rows["666666666666"]; e.RootAccessKeys != nil || !e.Summary.IsZero() || e.Error == "" {
		t.Errorf("error row must leave findings unknown and explain: %+v", e)
	}
}

func TestCallerAccountIsScannedWithItsOwnCredentials(t *testing.T) {
	w := newWorld(t, handWorld(), awssim.Options{})
	res := w.run(t, w.config())
	if got := rowsByID(res.Rows)[mgmtID].AccessMethod; got != scan.AccessCaller {
		t.Fatalf("management row access = %q, want %q", got, scan.AccessCaller)
	}
	// Five member accounts are entered (one is suspended, two fail): one
	// AssumeRole each, none into the management account itself.
	st := w.Server.Stats()
	if got := st.Operations["sts:AssumeRole"].Requests; got != 5 {
		t.Errorf("AssumeRole calls = %d, want 5 (no role assumed into the caller's account)", got)
	}
	if got := st.Operations["iam:GetAccountSummary"].Requests; got != 4 {
		t.Errorf("GetAccountSummary calls = %d, want 4", got)
	}
}

func TestScanPagesPastTwentyAccountsInOneOU(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 7, Accounts: 47})
	w := newWorld(t, fx, awssim.Options{})
	res := w.run(t, w.config())
	if len(res.Rows) != 47 {
		t.Fatalf("got %d rows, want 47", len(res.Rows))
	}
	if got := w.Server.Stats().Operations["organizations:ListAccountsForParent"].Requests; got < 3 {
		t.Errorf("ListAccountsForParent calls = %d, want at least 3 pages of 20", got)
	}
	if got := w.Server.Stats().Operations["organizations:ListParents"].Requests; got != 0 {
		t.Errorf("ListParents calls = %d: OU paths must come from the tree walk", got)
	}
}

func TestFiltersSelectAccounts(t *testing.T) {
	w := newWorld(t, handWorld(), awssim.Options{})
	tests := []struct {
		name   string
		filter scan.Filter
		want   []string
	}{
		{"an OU selects its whole subtree", scan.Filter{OUs: []string{"ou-hw01-workload"}}, []string{"333333333333", "444444444444", "555555555555"}},
		{"the root id selects everything", scan.Filter{OUs: []string{"r-hw01"}}, []string{mgmtID, "222222222222", "333333333333", "444444444444", "555555555555", "666666666666", "777777777777"}},
		{"an excluded OU drops its subtree", scan.Filter{ExcludeOUs: []string{"ou-hw01-workload", "ou-hw01-sandboxx"}}, []string{mgmtID, "222222222222"}},
		{"an excluded OU inside a selected one", scan.Filter{OUs: []string{"ou-hw01-workload"}, ExcludeOUs: []string{"ou-hw01-devdevde"}}, []string{"333333333333"}},
		{"listed accounts only", scan.Filter{Accounts: []string{"222222222222", "444444444444"}}, []string{"222222222222", "444444444444"}},
		{"excluded accounts are dropped", scan.Filter{ExcludeAccounts: []string{mgmtID, "666666666666", "777777777777", "555555555555"}}, []string{"222222222222", "333333333333", "444444444444"}},
		{"a requested account outside the organization is an error row", scan.Filter{Accounts: []string{"222222222222", "123456789012"}}, []string{"123456789012", "222222222222"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.config()
			cfg.Filter = tc.filter
			res := w.run(t, cfg)
			var got []string
			for _, r := range res.Rows {
				got = append(got, r.AccountID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("accounts %v, want %v", got, tc.want)
			}
			if r, ok := rowsByID(res.Rows)["123456789012"]; ok && (r.Status != scan.StatusError || r.ErrorCode != scan.CodeNotFound) {
				t.Errorf("missing account row = %+v, want a NotFound error", r)
			}
		})
	}
}

func TestUnknownOUIsAUsageErrorBeforeAnyAccountIsScanned(t *testing.T) {
	w := newWorld(t, handWorld(), awssim.Options{})
	cfg := w.config()
	cfg.Filter = scan.Filter{OUs: []string{"ou-hw01-nosuchou"}}
	_, err := scan.Run(context.Background(), cfg)
	var unknown *scan.UnknownOUError
	if !errors.As(err, &unknown) || !slices.Equal(unknown.IDs, []string{"ou-hw01-nosuchou"}) {
		t.Fatalf("err = %v, want UnknownOUError naming the OU", err)
	}
	if got := w.Server.Stats().Operations["sts:AssumeRole"].Requests; got != 0 {
		t.Errorf("%d AssumeRole calls before the usage error", got)
	}
}

func TestInactiveAccounts(t *testing.T) {
	states := []string{"SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION"}
	fx := handWorld()
	for i, st := range states {
		a := member(fmt.Sprintf("88888888888%d", i), "inactive-"+st, "r-hw01", awssim.RootUser{})
		a.State = st
		fx.Accounts = append(fx.Accounts, a)
	}
	w := newWorld(t, fx, awssim.Options{})

	t.Run("are skipped with the state as the reason", func(t *testing.T) {
		rows := rowsByID(w.run(t, w.config()).Rows)
		for i, st := range states {
			r := rows[fmt.Sprintf("88888888888%d", i)]
			if r.Status != scan.StatusSkipped || r.State != st || !strings.Contains(r.Error, st) {
				t.Errorf("%s account: %+v, want skipped naming its state", st, r)
			}
		}
	})
	t.Run("are tried with --include-inactive", func(t *testing.T) {
		cfg := w.config()
		cfg.IncludeInactive = true
		rows := rowsByID(w.run(t, cfg).Rows)
		r := rows["555555555555"]
		if r.Status == scan.StatusSkipped {
			t.Fatalf("suspended account still skipped: %+v", r)
		}
		if r.Status != scan.StatusError || r.Error == "" {
			t.Errorf("AWS refuses to enter a suspended account; want an error row, got %+v", r)
		}
	})
}

func TestExternalIDIsSentAndChecked(t *testing.T) {
	fx := handWorld()
	for i := range fx.Accounts {
		for j := range fx.Accounts[i].Roles {
			fx.Accounts[i].Roles[j].ExternalID = "audit-2026"
		}
	}
	w := newWorld(t, fx, awssim.Options{})
	for _, tc := range []struct {
		name, externalID string
		wantOK           bool
	}{
		{"the right external id gets in", "audit-2026", true},
		{"a wrong external id is refused", "wrong-id", false},
		{"no external id is refused", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.config()
			cfg.Methods = []scan.Method{w.roleMethod(roleName, tc.externalID)}
			cfg.Filter = scan.Filter{Accounts: []string{"222222222222"}}
			r := w.run(t, cfg).Rows[0]
			if (r.Status == scan.StatusOK) != tc.wantOK {
				t.Fatalf("row %+v, want ok=%v", r, tc.wantOK)
			}
		})
	}
}

// TestScanningStartsBeforeDiscoveryEnds holds back each page of accounts
// until every account of the pages before it has its row. A scan that
// streams passes at any machine speed; one that waits for discovery to end
// can never satisfy the gate, and the test fails when the gate gives up.
func TestScanningStartsBeforeDiscoveryEnds(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 3, Accounts: 101, OUDepth: 1, OUWidth: 1})
	w := newWorld(t, fx, awssim.Options{})
	cfg := w.config()
	gate := &pageGate{OrganizationsAPI: w.Organizations, patience: 20 * time.Second}
	cfg.Orgs = gate
	cfg.OnRow = func(*scan.Row) error {
		gate.rows.Add(1)
		return nil
	}
	res := w.run(t, cfg)
	if len(res.Rows) != 101 {
		t.Fatalf("got %d rows, want 101", len(res.Rows))
	}
	if gate.gaveUp.Load() {
		t.Fatal("a page of accounts was held back and no earlier account got its row: scanning waited for discovery")
	}
	// The root's page (the management account) and five of the OU's: the
	// gate was really in the way of a streaming scan several times.
	if n := gate.pages.Load(); n != 6 {
		t.Errorf("%d pages of accounts, want 6", n)
	}
}

// pageGate passes discovery's calls to the real client, but answers a
// ListAccountsForParent call only once every account already delivered has
// its row, or after patience has run out.
type pageGate struct {
	scan.OrganizationsAPI
	patience  time.Duration
	rows      atomic.Int64
	delivered atomic.Int64
	pages     atomic.Int64
	gaveUp    atomic.Bool
}

func (g *pageGate) ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error) {
	deadline := time.Now().Add(g.patience)
	for g.rows.Load() < g.delivered.Load() && !g.gaveUp.Load() {
		if time.Now().After(deadline) {
			g.gaveUp.Store(true)
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	out, err := g.OrganizationsAPI.ListAccountsForParent(ctx, in, optFns...)
	if err == nil {
		g.pages.Add(1)
		g.delivered.Add(int64(len(out.Accounts)))
	}
	return out, err
}

func TestInterruptedScanMarksUnreachedAccounts(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 5, Accounts: 60})
	w := newWorld(t, fx, awssim.Options{Latency: 20 * time.Millisecond})
	cfg := w.config()
	cfg.Concurrency = 2
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int64
	cfg.OnRow = func(*scan.Row) error {
		if done.Add(1) == 5 {
			cancel()
		}
		return nil
	}
	start := time.Now()
	res, err := scan.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if !res.Interrupted {
		t.Fatal("result not marked interrupted")
	}
	c := scan.Count(res.Rows)
	if c.NotScanned == 0 || c.Scanned < 5 {
		t.Fatalf("counts %+v: want some scanned and the rest not_scanned", c)
	}
	if c.Scanned+c.Skipped+c.Errors+c.NotScanned != c.Listed || c.Errors != 0 {
		t.Fatalf("counts %+v do not add up, or an interrupted account became an error", c)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("interrupted scan took %s to stop", elapsed)
	}
}

// TestEveryListedAccountAppearsExactlyOnce is a property test over random
// organizations: sizes, OU shapes, states, missing roles and faults.
func TestEveryListedAccountAppearsExactlyOnce(t *testing.T) {
	rng := rand.New(rand.NewSource(20261130))
	for i := 0; i < 12; i++ {
		o := awssim.GenerateOptions{
			Seed:        rng.Int63(),
			Accounts:    1 + rng.Intn(80),
			OUDepth:     rng.Intn(4),
			OUWidth:     1 + rng.Intn(3),
			RootKeys:    rng.Float64() * 0.5,
			RootCerts:   rng.Float64() * 0.3,
			NoMFA:       rng.Float64() * 0.5,
			Passwords:   rng.Float64() * 0.5,
			MissingRole: rng.Float64() * 0.3,
			Inactive:    rng.Float64() * 0.3,
		}
		t.Run(fmt.Sprintf("%d accounts, depth %d, width %d", o.Accounts, o.OUDepth, o.OUWidth), func(t *testing.T) {
			fx := awssim.Generate(o)
			w := newWorld(t, fx, awssim.Options{Seed: o.Seed, ErrorRate: 0.05})
			cfg := w.config()
			cfg.Concurrency = 1 + rng.Intn(16)
			res := w.run(t, cfg)
			seen := map[string]int{}
			for _, r := range res.Rows {
				seen[r.AccountID]++
			}
			for _, a := range fx.Accounts {
				if seen[a.ID] != 1 {
					t.Errorf("account %s appears %d times", a.ID, seen[a.ID])
				}
			}
			if len(res.Rows) != len(fx.Accounts) {
				t.Errorf("%d rows for %d accounts", len(res.Rows), len(fx.Accounts))
			}
			c := scan.Count(res.Rows)
			if c.Scanned+c.Skipped+c.Errors+c.NotScanned != c.Listed {
				t.Errorf("counts do not add up: %+v", c)
			}
			checkEveryFormat(t, fx, &scan.Report{Scan: scan.Meta{Counts: c}, Accounts: res.Rows})
		})
	}
}

// checkEveryFormat renders the report in each line-per-account format and
// checks that every account is on exactly one line, and that the JSON
// document's counts add up.
func checkEveryFormat(t *testing.T, fx *awssim.Fixture, rep *scan.Report) {
	t.Helper()
	for _, format := range []string{output.FormatTable, output.FormatCSV, output.FormatJSON, output.FormatNDJSON} {
		var buf bytes.Buffer
		w, err := output.New(format, &buf, output.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rep.Accounts {
			if err := w.WriteRow(&rep.Accounts[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(rep); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		ids := map[string]int{}
		if format == output.FormatJSON {
			var doc struct {
				Scan struct {
					Counts scan.Counts `json:"counts"`
				} `json:"scan"`
				Accounts []struct {
					ID string `json:"account_id"`
				} `json:"accounts"`
			}
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("json: %v", err)
			}
			for _, a := range doc.Accounts {
				ids[a.ID]++
			}
			k := doc.Scan.Counts
			if k.Scanned+k.Skipped+k.Errors+k.NotScanned != k.Listed || k.Listed != len(doc.Accounts) {
				t.Errorf("json counts %+v do not add up to %d accounts", k, len(doc.Accounts))
			}
		} else {
			// The account id leads every line: before the first space in
			// the table, the first comma in CSV, as the first field in NDJSON.
			sep := map[string]string{output.FormatTable: " ", output.FormatCSV: ",", output.FormatNDJSON: `"`}[format]
			for _, line := range strings.Split(buf.String(), "\n") {
				id, _, _ := strings.Cut(strings.TrimPrefix(line, `{"account_id":"`), sep)
				ids[id]++
			}
		}
		for _, a := range fx.Accounts {
			if ids[a.ID] != 1 {
				t.Errorf("%s: account %s appears %d times", format, a.ID, ids[a.ID])
			}
		}
	}
}
