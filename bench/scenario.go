package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

// scenario is one modelled AWS, one organization and one orgscan run.
type scenario struct {
	name string
	what string

	// The organization (awssim generator flags).
	accounts, ouDepth, ouWidth int

	// The modelled AWS (awssim quota flags).
	latency, jitter time.Duration
	stsRate         float64
	orgsRate        float64
	iamRate         float64

	// The run.
	// command is what orgscan runs: "scan" (the default), or "remediate",
	// which applies (plans, then deletes) and is checked by a scan after
	// it (see remediate.go).
	command     string
	access      string // orgscan --access (remediate always uses root sessions)
	concurrency int

	// Targets.
	maxRatio float64
	// rssBaseline names the run whose peak RSS this one may exceed only by
	// the in-flight allowance (the same organization at lower concurrency)
	// and rowAllowance per account.
	rssBaseline string
	// sorted also writes a JSON report, which sorts its rows and so keeps
	// every one until the scan ends.
	sorted bool
	// rowAllowance is what keeping one account's row may cost in resident
	// memory above the baseline run, which keeps none.
	rowAllowance int64
	// tags reads every account's tags (orgscan --tags) from a world whose
	// accounts have them: one more Organizations call per account.
	tags bool
}

// Targets of issue 7 that hold for every run. The memory target is read
// as 100 MiB.
const (
	maxRSSBytes      = 100 << 20
	maxCPUPerAccount = 2 * time.Millisecond
	maxWall          = 2 * time.Minute
	// inFlightAllowance is what one more request in flight may cost in
	// resident memory, as measured in-process (bench/README.md): the
	// goroutines of a request, whose stacks grow to about 50 KiB together
	// (the scan worker and the connection's read and write loops; the SDK
	// credential cache's goroutine too when it was measured), 8 KiB of
	// connection buffers, and the request and response on a heap the GC
	// lets grow to twice its live size.
	inFlightAllowance = 128 << 10
	// sortedRowAllowance is issue 15's target for a row kept for a sorted
	// format: 2.5 KiB.
	sortedRowAllowance = 5 << 9
)

// stsBound is scenario 1 of issue 7: 10,000 accounts in nested OUs where
// the STS quota is the limit.
func stsBound() scenario {
	return scenario{
		name:     "sts",
		what:     "STS-bound: 10,000 accounts in 84 nested OUs, STS 600/s",
		accounts: 10_000, ouDepth: 3, ouWidth: 4,
		latency: 40 * time.Millisecond, jitter: 10 * time.Millisecond,
		stsRate: 600, orgsRate: 50, iamRate: 20,
		access: "auto", concurrency: 64,
		maxRatio: 1.25,
	}
}

// scenarios are every run of `-scenario all`, in order. A family (the name
// up to the first '-') is what -scenario selects.
func scenarios() []scenario {
	s1 := stsBound()

	wide := stsBound()
	wide.name = "sts-c256"
	wide.what = "scenario 1 at --concurrency 256: memory must not grow beyond the requests in flight"
	wide.concurrency = 256
	wide.rssBaseline = s1.name

	role := stsBound()
	role.name = "sts-role"
	role.what = "scenario 1 with --access assume-role instead of root sessions"
	role.access = "assume-role"

	disc := stsBound()
	disc.name = "discovery"
	disc.what = "discovery-bound: 1,000 accounts in 10 OUs, Organizations 2/s; scanning must overlap discovery"
	disc.accounts, disc.ouDepth, disc.ouWidth = 1_000, 1, 10
	disc.orgsRate = 2
	disc.maxRatio = 1.10

	storm := stsBound()
	storm.name = "storm"
	storm.what = "throttle storm: 5,000 accounts, STS 100/s; throttling must cost time, never a row"
	storm.accounts = 5_000
	storm.stsRate = 100

	// Issue 15: with NDJSON to a file as the only output, every row is
	// written as it completes and none is kept, so memory must not grow
	// with the organization.
	big := stsBound()
	big.name = "ndjson"
	big.what = "50,000 accounts, NDJSON-only output: rows are not kept once written"
	big.accounts = 50_000

	// Issue 15: a sorted format keeps every row until the end, in a
	// compact form; what that costs is the peak RSS above scenario 1's,
	// which keeps none.
	sorted := stsBound()
	sorted.name = "sts-sorted"
	sorted.what = "scenario 1 with a JSON report too: the rows kept for it may cost 2.5 KiB each"
	sorted.sorted = true
	sorted.rssBaseline = s1.name
	sorted.rowAllowance = sortedRowAllowance

	// Issue 17: reading the tags costs an Organizations call per account,
	// paced with discovery's under the same quota, so Organizations binds.
	tagged := stsBound()
	tagged.name = "sts-tags"
	tagged.what = "scenario 1 with --tags: an Organizations call per account, at 50/s"
	tagged.tags = true

	return []scenario{s1, wide, role, disc, storm, big, sorted, tagged, remediateScenario()}
}

// cpuBudget is the orgscan CPU an account may cost: issue 7's, for a
// scan's two requests an account; a remediation makes more requests, and
// reading tags one more, and may spend as much on each (see remediate.go).
func (s scenario) cpuBudget() time.Duration {
	switch {
	case s.command == commandRemediate:
		return remediateRequests * maxCPUPerAccount / 2
	case s.tags:
		return 3 * maxCPUPerAccount / 2
	}
	return maxCPUPerAccount
}

// family is the group -scenario selects a run by.
func (s scenario) family() string {
	for i := range len(s.name) {
		if s.name[i] == '-' {
			return s.name[:i]
		}
	}
	return s.name
}

// generate is the organization awssim serves for the scenario: the harness
// builds the same one (same options, same seed) to count its shape.
func (s scenario) generate() awssim.GenerateOptions {
	return awssim.GenerateOptions{
		Seed:     1,
		Accounts: s.accounts,
		OUDepth:  s.ouDepth,
		OUWidth:  s.ouWidth,
		// Every account is active and has the role, so that every account
		// is scanned with either access method and any error row is
		// orgscan's fault, not the organization's.
		MissingRole: 0,
		Inactive:    0,
		RootKeys:    0.1, RootCerts: 0.05, NoMFA: 0.2, Passwords: 0.3,
		RoleName: awssim.DefaultRoleName,
		// A remediation deletes two credentials per member and holds none.
		IdleRootKeyAndCert: s.command == commandRemediate,
		AccountTags:        s.tags,
	}
}

// simArgs are the awssim flags of the scenario.
func (s scenario) simArgs() []string {
	g := s.generate()
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	args := []string{
		"--listen", "127.0.0.1:0",
		"--seed", strconv.FormatInt(g.Seed, 10),
		"--accounts", strconv.Itoa(g.Accounts),
		"--ou-depth", strconv.Itoa(g.OUDepth),
		"--ou-width", strconv.Itoa(g.OUWidth),
		"--missing-role", f(g.MissingRole),
		"--inactive", f(g.Inactive),
		"--root-keys", f(g.RootKeys),
		"--root-certs", f(g.RootCerts),
		"--no-mfa", f(g.NoMFA),
		"--passwords", f(g.Passwords),
		"--latency", s.latency.String(),
		"--jitter", s.jitter.String(),
		"--sts-rate", f(s.stsRate),
		"--orgs-rate", f(s.orgsRate),
		"--iam-rate", f(s.iamRate),
	}
	if g.IdleRootKeyAndCert {
		args = append(args, "--idle-root-key-and-cert")
	}
	if g.AccountTags {
		args = append(args, "--account-tags")
	}
	return args
}

// args are the orgscan arguments of the scenario.
func (s scenario) args(endpoint, out string) []string {
	if s.command == commandRemediate {
		return s.remediateArgs(endpoint, out)
	}
	return s.scanArgs(endpoint, out)
}

// scanArgs are the orgscan flags of a scan.
func (s scenario) scanArgs(endpoint, out string) []string {
	args := []string{
		"scan", "-q", "-f", "ndjson", "--out", out,
		"--access", s.access,
		"--concurrency", strconv.Itoa(s.concurrency),
		"--endpoint-url", endpoint,
	}
	if s.sorted {
		args = append(args, "--out", strings.TrimSuffix(out, ".ndjson")+".json")
	}
	if s.tags {
		args = append(args, "--tags")
	}
	return args
}

// orgsCalls are the Organizations calls of the scenario's run: discovery's,
// and with tags one ListTagsForResource page per 20 tags of every account
// (at least one). Organizations documents no page size for it; 20 is the
// simulator's guess (internal/awssim/service/organizations).
func (s scenario) orgsCalls(fx *awssim.Fixture) int {
	n := discoveryCalls(fx)
	if s.tags {
		for _, a := range fx.Accounts {
			n += max(1, (len(a.Tags)+orgsPageSize-1)/orgsPageSize)
		}
	}
	return n
}

// wallLimit is how long a run may take before it counts as hung: a run
// bound by the Organizations quota at 50/s takes minutes.
func (s scenario) wallLimit() time.Duration {
	if s.tags {
		return 3 * maxWall
	}
	return maxWall
}

// orgsPageSize is what ListOrganizationalUnitsForParent and
// ListAccountsForParent return per page at most (MaxResults ≤ 20).
const orgsPageSize = 20

// orgsSetupCalls are the Organizations calls besides the tree walk and
// the account pages: DescribeOrganization (who is the management account)
// and ListRoots.
const orgsSetupCalls = 2

// discoveryCalls counts the Organizations calls needed to list every
// account of fx: the setup calls, one ListOrganizationalUnitsForParent page
// per 20 child OUs of every parent (at least one), and one
// ListAccountsForParent page per 20 accounts of every parent (at least one).
func discoveryCalls(fx *awssim.Fixture) int {
	parents := []string{fx.Organization.RootID}
	childOUs := map[string]int{}
	for _, ou := range fx.Organization.OUs {
		parents = append(parents, ou.ID)
		childOUs[ou.Parent]++
	}
	accounts := map[string]int{}
	for _, a := range fx.Accounts {
		accounts[a.Parent]++
	}
	pages := func(n int) int { return max(1, (n+orgsPageSize-1)/orgsPageSize) }
	calls := orgsSetupCalls
	for _, p := range parents {
		calls += pages(childOUs[p]) + pages(accounts[p])
	}
	return calls
}

// bound is the quota-imposed minimum of a scan (issue 7):
//
//	max(discovery calls ÷ Organizations rate,
//	    STS calls ÷ STS rate,
//	    accounts × (STS latency + IAM latency) ÷ concurrency)
//	+ one account's latency (STS + IAM).
//
// STS calls are one per account: an assume for each member, and the
// caller's GetCallerIdentity for the management account, which is scanned
// with the caller's own credentials. A zero rate is unlimited.
type bound struct {
	total   time.Duration
	binding string // which term is the maximum
	terms   map[string]time.Duration
}

func lowerBound(s scenario, discovery int) bound {
	if s.command == commandRemediate {
		return remediateBound(s, discovery)
	}
	perAccount := 2 * s.latency
	terms := map[string]time.Duration{
		"orgs":    perRate(discovery, s.orgsRate),
		"sts":     perRate(s.accounts, s.stsRate),
		"latency": time.Duration(float64(s.accounts) * float64(perAccount) / float64(max(s.concurrency, 1))),
	}
	b := bound{binding: "latency", terms: terms}
	for _, name := range []string{"orgs", "sts", "latency"} {
		if terms[name] > terms[b.binding] {
			b.binding = name
		}
	}
	b.total = terms[b.binding] + perAccount
	return b
}

func perRate(n int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(n) / rate * float64(time.Second))
}

func (b bound) String() string {
	return fmt.Sprintf("%.2fs(%s)", b.total.Seconds(), b.binding)
}
