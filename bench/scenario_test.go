package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

func scenarioNamed(t *testing.T, name string) scenario {
	t.Helper()
	for _, s := range scenarios() {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return scenario{}
}

func TestLowerBoundOfEachScenario(t *testing.T) {
	tests := []struct {
		name      string
		scenario  string
		discovery int
		binding   string
		total     time.Duration
	}{
		// 2 setup calls; 85 parents (the root and 4+16+64 OUs) with one
		// page of child OUs each; the root's one account and 84 OUs of
		// 119 accounts (6 pages each).
		{"10,000 accounts at 600 STS calls a second take 16.67s plus one account", "sts", 2 + 85 + 1 + 84*6, "sts", 16_666_666_666 + 80*time.Millisecond},
		{"1,000 accounts in 10 OUs at 2 Organizations calls a second take 32s plus one account", "discovery", 2 + 11 + 1 + 10*5, "orgs", 32*time.Second + 80*time.Millisecond},
		{"5,000 accounts at 100 STS calls a second take 50s plus one account", "storm", 2 + 85 + 1 + 84*3, "sts", 50*time.Second + 80*time.Millisecond},
		// Two root sessions per member (4,999) and the caller's identity at
		// 600/s, plus each phase's last member: the requests that wait for
		// one another, 3 to plan and 4 to apply.
		{"remediating 5,000 accounts at 600 STS calls a second takes 16.67s plus two members", "remediate", 2 + 85 + 1 + 84*3, "sts", 16_665_000_000 + 8*40*time.Millisecond},
		// Scenario 1's discovery, and a ListTagsForResource page per
		// account, two for the first member (30 tags), at 50/s.
		{"10,000 accounts' tags at 50 Organizations calls a second take 211.86s plus one account", "sts-tags", 592 + 10_000 + 1, "orgs", 211_860*time.Millisecond + 80*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenarioNamed(t, tt.scenario)
			n := s.orgsCalls(awssim.Generate(s.generate()))
			if n != tt.discovery {
				t.Fatalf("Organizations calls %d, want %d", n, tt.discovery)
			}
			b := lowerBound(s, n)
			// A microsecond's leeway for rates that do not divide evenly.
			if b.binding != tt.binding || (b.total-tt.total).Abs() > time.Microsecond {
				t.Errorf("bound %s (%s), want %s (%s)", b.total, b.binding, tt.total, tt.binding)
			}
		})
	}
}

func TestLowerBoundIsLatencyBoundAtLowConcurrency(t *testing.T) {
	s := stsBound()
	s.concurrency = 8 // 10,000 × 80ms ÷ 8 = 100s, far above 10,000 ÷ 600/s
	b := lowerBound(s, 592)
	if b.binding != "latency" || b.total != 100*time.Second+80*time.Millisecond {
		t.Errorf("bound %s (%s), want 100.08s (latency)", b.total, b.binding)
	}
	s.stsRate, s.orgsRate = 0, 0 // unlimited quotas bound nothing
	if b := lowerBound(s, 592); b.binding != "latency" || b.terms["sts"] != 0 || b.terms["orgs"] != 0 {
		t.Errorf("unlimited quotas gave terms %v", b.terms)
	}
}

func TestDiscoveryCallsCountEmptyParentsAndPartialPages(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 42, OUDepth: 1, OUWidth: 1})
	// Root: one page of child OUs (1) and one of accounts (the management
	// account); the OU: one empty page of child OUs and ceil(41/20) = 3
	// pages of accounts.
	if got, want := discoveryCalls(fx), 2+(1+1)+(1+3); got != want {
		t.Errorf("discovery calls %d, want %d", got, want)
	}
}

func TestEvaluate(t *testing.T) {
	pass := func() *result {
		s := stsBound()
		return &result{
			s:     s,
			bound: bound{total: 10 * time.Second, binding: "sts"},
			scan: scanRun{
				wall:  12 * time.Second,
				usage: usage{cpu: 12 * time.Second, maxRSS: 80 << 20, measured: true},
				rows:  rowCounts{total: s.accounts, ok: s.accounts},
			},
		}
	}
	tests := []struct {
		name   string
		change func(r *result)
		base   func() *result
		want   string // a failure; "" for PASS
	}{
		{"a run within every target passes", func(*result) {}, nil, ""},
		{"a ratio above the scenario's target fails", func(r *result) { r.scan.wall = 12600 * time.Millisecond }, nil, "ratio 1.26 > 1.25"},
		{"one error row fails", func(r *result) { r.scan.rows.errors, r.scan.rows.ok = 1, r.scan.rows.ok-1 }, nil, "1 error and 0 not-scanned rows"},
		{"a missing row fails", func(r *result) { r.scan.rows.total-- }, nil, "9999 rows for 10000 accounts"},
		{"a non-zero exit fails", func(r *result) { r.scan.exitCode = 3 }, nil, "orgscan exited 3"},
		{"more than 100 MiB fails", func(r *result) { r.scan.usage.maxRSS = 101 << 20 }, nil, "peak RSS 101.0MiB > 100.0MiB"},
		{"more than 2ms of CPU per account fails", func(r *result) { r.scan.usage.cpu = 21 * time.Second }, nil, "CPU 2.10ms/account > 2ms"},
		{"no rusage fails rather than passes", func(r *result) { r.scan.usage = usage{} }, nil, "not measured"},
		{
			"a higher concurrency may add what its requests in flight cost",
			func(r *result) { r.s.concurrency, r.scan.usage.maxRSS = 256, (80<<20)+192*inFlightAllowance },
			pass, "",
		},
		{
			"a sorted report may add its rows' allowance to the baseline's",
			func(r *result) {
				r.s.rowAllowance, r.scan.usage.maxRSS = sortedRowAllowance, (80<<20)+10_000*sortedRowAllowance
			},
			pass, "",
		},
		{
			"a sorted report may not add more",
			func(r *result) {
				r.s.rowAllowance, r.scan.usage.maxRSS = sortedRowAllowance, (80<<20)+10_000*sortedRowAllowance+1
			},
			pass, "keeping 10000 rows",
		},
		{
			"a higher concurrency may not add more",
			func(r *result) { r.s.concurrency, r.scan.usage.maxRSS = 256, (80<<20)+192*inFlightAllowance+1 },
			pass, "peak RSS grew",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pass()
			tt.change(r)
			var base *result
			if tt.base != nil {
				base = tt.base()
			}
			r.evaluate(base)
			line := r.line()
			if tt.want == "" {
				if !r.pass() || !strings.HasSuffix(line, " PASS") {
					t.Fatalf("failed: %s", line)
				}
				return
			}
			if r.pass() || !strings.Contains(line, "FAIL") || !strings.Contains(strings.Join(r.failures, "; "), tt.want) {
				t.Fatalf("want a failure %q, got %s", tt.want, line)
			}
		})
	}
}

func TestParseFlagsSelectsFamilies(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
		bad  bool
	}{
		{"no flag runs every family", nil, []string{"sts", "discovery", "storm", "ndjson", "remediate"}, false},
		{"the 50,000-account NDJSON run is its own family", []string{"-scenario", "ndjson"}, []string{"ndjson"}, false},
		{"a family runs alone", []string{"-scenario", "storm"}, []string{"storm"}, false},
		{"families combine", []string{"-scenario", "storm,sts,storm"}, []string{"storm", "sts"}, false},
		{"an unknown family is refused", []string{"-scenario", "fast"}, nil, true},
		{"an argument is refused", []string{"sts"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted %v", tt.args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.families, tt.want) {
				t.Errorf("families %v, want %v", o.families, tt.want)
			}
		})
	}
}

func TestParseFlagsSelectsARunWithItsBaseline(t *testing.T) {
	o, err := parseFlags([]string{"-scenario", "sts-sorted,remediate"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.families, []string{"remediate"}) || !slices.Equal(o.scenarios, []string{"sts-sorted", "sts"}) {
		t.Fatalf("families %v and runs %v, want [remediate] and [sts-sorted sts]", o.families, o.scenarios)
	}
	var chosen []string
	for _, s := range scenarios() {
		if o.selects(s) {
			chosen = append(chosen, s.name)
		}
	}
	// sts first: sts-sorted is measured against it.
	if want := []string{"sts", "sts-sorted", "remediate"}; !slices.Equal(chosen, want) {
		t.Errorf("runs %v, want %v", chosen, want)
	}
}

func TestCountRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.ndjson")
	report := `{"account_id":"1","status":"ok","scanned_at":"2026-01-01T00:00:02Z"}
{"account_id":"2","status":"skipped","scanned_at":null}
{"account_id":"3","status":"error","error_code":"Throttled","error":"rate exceeded","scanned_at":null}
{"account_id":"4","status":"not_scanned","scanned_at":null}
{"account_id":"5","status":"ok","scanned_at":"2026-01-01T00:00:01Z"}
`
	if err := os.WriteFile(path, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := countRows(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.total != 5 || c.ok != 2 || c.skipped != 1 || c.errors != 1 || c.notScanned != 1 {
		t.Errorf("counts %+v", c)
	}
	if c.errorSample != "3: rate exceeded" {
		t.Errorf("error sample %q", c.errorSample)
	}
	if c.firstRow.Second() != 1 || c.lastRow.Second() != 2 {
		t.Errorf("rows from %s to %s, want :01 to :02", c.firstRow, c.lastRow)
	}
	if err := os.WriteFile(path, []byte("{\"account_id\":\"1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := countRows(path); err == nil {
		t.Error("a truncated line was not reported")
	}
}

func TestParseCPULine(t *testing.T) {
	// user nice system idle iowait irq softirq steal
	d, err := parseCPULine("cpu  100 5 50 9000 300 2 3 40 0 0")
	if err != nil {
		t.Fatal(err)
	}
	if want := 200 * time.Second / userHz; d != want {
		t.Errorf("busy %s, want %s (idle and iowait excluded)", d, want)
	}
	if _, err := parseCPULine("cpu0 1 2 3 4 5 6 7 8"); err == nil {
		t.Error("a per-CPU line was taken for the aggregate")
	}
}

func TestRemediateWorldHasOneIdleKeyAndOneCertificatePerMember(t *testing.T) {
	s := scenarioNamed(t, "remediate")
	g := s.generate()
	if !g.IdleRootKeyAndCert || !slices.Contains(s.simArgs(), "--idle-root-key-and-cert") {
		t.Fatal("the remediate scenario's world does not give every member a key and a certificate")
	}
	fx := awssim.Generate(g)
	g.IdleRootKeyAndCert = false
	plain := awssim.Generate(g)
	if len(fx.Accounts) != s.accounts {
		t.Fatalf("%d accounts, want %d", len(fx.Accounts), s.accounts)
	}
	for i, a := range fx.Accounts {
		p := plain.Accounts[i]
		if a.ID != p.ID || a.Name != p.Name || a.Parent != p.Parent || a.Root.MFA != p.Root.MFA || (a.Root.Password == nil) != (p.Root.Password == nil) {
			t.Fatalf("account %d differs beyond its root keys and certificates: %s in %s, want %s in %s", i, a.ID, a.Parent, p.ID, p.Parent)
		}
		if i == 0 {
			if len(a.Root.AccessKeys)+len(a.Root.SigningCertificates) != 0 {
				t.Error("the management account has root keys or certificates")
			}
			continue
		}
		keys, certs := a.Root.AccessKeys, a.Root.SigningCertificates
		if len(keys) != 1 || keys[0].Status != "Active" || keys[0].LastUsedAt != nil || len(certs) != 1 {
			t.Fatalf("member %s: keys %+v, certificates %+v: want one active key never used and one certificate", a.ID, keys, certs)
		}
	}
}

func TestCountRowsOfARemediation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evidence.ndjson")
	evidence := `{"account_id":"1","status":"skipped","actions":[]}
{"account_id":"2","status":"remediated","actions":[{"outcome":"deleted","at":"2026-01-01T00:00:03Z"},{"outcome":"deleted","at":"2026-01-01T00:00:01Z"}]}
{"account_id":"3","status":"failed","error":{"code":"AccessDenied","message":"no"},"actions":[{"outcome":"failed"},{"outcome":"deleted","at":"2026-01-01T00:00:02Z"}]}
`
	if err := os.WriteFile(path, []byte(evidence), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := countRows(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.total != 3 || c.ok != 1 || c.skipped != 1 || c.errors != 1 || c.deleted != 3 {
		t.Errorf("counts %+v: want 3 rows, 1 remediated, 1 skipped, 1 in error, 3 deletions", c)
	}
	if c.errorSample != "3: AccessDenied: no" {
		t.Errorf("error sample %q", c.errorSample)
	}
	if c.firstRow.Second() != 1 || c.lastRow.Second() != 3 {
		t.Errorf("deletions from %s to %s, want :01 to :03", c.firstRow, c.lastRow)
	}
}

func TestParseProcStat(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime ...; the name may hold ") (".
	d, err := parseProcStat("42 (aws sim) (x)) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 9")
	if err != nil {
		t.Fatal(err)
	}
	if want := 300 * time.Second / userHz; d != want {
		t.Errorf("cpu %s, want %s", d, want)
	}
	if _, err := parseProcStat("42 (awssim) S 1"); err == nil {
		t.Error("a short line was read")
	}
}

func TestEvaluateRemediation(t *testing.T) {
	done := func() *result {
		s := remediateScenario()
		members := int64(s.accounts - 1)
		return &result{
			s:     s,
			bound: bound{total: 17 * time.Second, binding: "sts"},
			scan: scanRun{
				wall:  20 * time.Second,
				usage: usage{cpu: 20 * time.Second, maxRSS: 90 << 20, measured: true},
				rows:  rowCounts{total: s.accounts, ok: s.accounts - 1, skipped: 1, deleted: int(2 * members)},
			},
			remediation: remediationCheck{
				deleted: int(2 * members), deletesDone: 2 * members, mutations: 2 * members, ran: true,
				verify: scanRun{rows: rowCounts{total: s.accounts, ok: s.accounts}},
			},
		}
	}
	tests := []struct {
		name   string
		change func(r *result)
		want   string
	}{
		{"every member's two credentials deleted and none found after passes", func(*result) {}, ""},
		{"a deletion missing from the evidence fails", func(r *result) { r.remediation.deleted-- }, "the evidence records"},
		{"a deletion the simulator did not answer fails", func(r *result) { r.remediation.deletesDone-- }, "the simulator answered"},
		{"a key the verifying scan still finds fails", func(r *result) { r.remediation.remaining = 1 }, "finds a root access key"},
		{"a verifying scan with an error row fails", func(r *result) { r.remediation.verify.rows.errors = 1 }, "the verifying scan has"},
		{"no verifying scan fails", func(r *result) { r.remediation.ran = false }, "no verifying scan"},
		{"an account in error fails", func(r *result) { r.scan.rows.errors, r.scan.rows.ok = 1, r.scan.rows.ok-1 }, "1 error and 0 not-scanned rows"},
		{"more than 100 MiB fails", func(r *result) { r.scan.usage.maxRSS = 101 << 20 }, "peak RSS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := done()
			tt.change(r)
			r.evaluate(nil)
			line := r.line()
			if tt.want == "" {
				if !r.pass() {
					t.Fatalf("failed: %s", line)
				}
				return
			}
			if r.pass() || !strings.Contains(strings.Join(r.failures, "; "), tt.want) {
				t.Fatalf("want a failure %q, got %s", tt.want, line)
			}
		})
	}
}
