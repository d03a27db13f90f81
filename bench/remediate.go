package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// commandRemediate is scenario.command for `orgscan remediate --apply`.
const commandRemediate = "remediate"

// remediateScenario is issue 16's benchmark: 5,000 accounts whose member
// root users each have an access key and a signing certificate, removed by
// `orgscan remediate --apply --yes`, which plans first (an audit root
// session per member) and then deletes (a delete root session per member).
// Root sessions are the only way in, so STS carries two calls per member.
func remediateScenario() scenario {
	s := stsBound()
	s.name = "remediate"
	s.what = "remediate --apply: 5,000 accounts, a root key and a certificate each, STS 600/s"
	s.command = commandRemediate
	s.accounts = 5_000
	s.access = "assume-root"
	// Each member costs about seven requests a phase (see the calls
	// below) at 40 ms each: at 256 in flight, the phases are STS-bound.
	s.concurrency = 256
	return s
}

// remediateArgs are the orgscan flags of a remediation: an unattended
// apply, its evidence as NDJSON to out.
func (s scenario) remediateArgs(endpoint, out string) []string {
	return []string{
		"remediate", "--apply", "--yes", "-q", "-f", "ndjson", "--out", out,
		"--concurrency", strconv.Itoa(s.concurrency),
		"--endpoint-url", endpoint,
	}
}

// verifyArgs are the flags of the scan that checks a remediation: root
// sessions into every member, NDJSON to out.
func (s scenario) verifyArgs(endpoint, out string) []string {
	return []string{
		"scan", "-q", "-f", "ndjson", "--out", out,
		"--access", "assume-root",
		"--concurrency", strconv.Itoa(s.concurrency),
		"--endpoint-url", endpoint,
	}
}

// The IAM calls of one member account in each phase, at the least issue
// 16 allows: the plan reads the root user's credentials as a scan with
// details does (ListAccessKeys, GetAccessKeyLastUsed for its one key,
// ListSigningCertificates, ListMFADevices, GetLoginProfile; GetUser too
// when there is a password), and the apply lists the keys and
// certificates, reads the key's last use again (a key used since the
// plan is held), deletes both, and lists them again to verify. (The
// result line's requests show what orgscan made.)
const (
	remediatePlanIAMCalls  = 5
	remediateApplyIAMCalls = 7
	// remediateDeletions are the credentials each member has and a
	// remediation deletes: its access key and its certificate.
	remediateDeletions = 2
	// remediateRequests are a member's requests in all: two root
	// sessions and the IAM calls of both phases.
	remediateRequests = 2 + remediatePlanIAMCalls + remediateApplyIAMCalls
	// The longest chain of requests of a member that each wait for the
	// one before, in each phase: nothing of the last member's phase ends
	// sooner after its assume. The plan assumes, lists the keys, then
	// reads the last use of each key listed; the apply assumes, lists what
	// is there, reads the key's last use again, deletes, and lists again
	// to verify (issue 16).
	remediatePlanChain  = 3
	remediateApplyChain = 5
)

// remediateBound is the quota-imposed minimum of a remediation. The apply
// begins once the plan is complete, so the two phases add up:
//
//	plan  = max(discovery calls ÷ Organizations rate,
//	            (members + 1) ÷ STS rate,
//	            members × (1 + plan IAM calls) × latency ÷ concurrency)
//	apply = max(members ÷ STS rate,
//	            members × (1 + apply IAM calls) × latency ÷ concurrency)
//	bound = plan + apply + each phase's last member (the chain of
//	        requests that wait for one another: 3 to plan, 4 to apply)
//	        × latency
//
// The plan's STS calls are an AssumeRoot per member and the caller's
// GetCallerIdentity; the apply's an AssumeRoot per member. The simulator
// keeps a token bucket per service and calling account for STS, and per
// target account for IAM (internal/awssim/quota, keyed by the caller's
// account, which a root session's is: internal/awssim/service/sts), each
// holding a second's requests. IAM's 20/s is a member's own: its five or
// six calls a phase fit in its burst, so IAM adds nothing. The latency
// terms are of an account's calls made one after the other, as orgscan
// makes them.
func remediateBound(s scenario, discovery int) bound {
	members := s.accounts - 1
	inFlight := func(iamCalls int) time.Duration {
		return time.Duration(float64(members) * float64(time.Duration(1+iamCalls)*s.latency) / float64(max(s.concurrency, 1)))
	}
	terms := map[string]time.Duration{
		"orgs":          perRate(discovery, s.orgsRate),
		"sts-plan":      perRate(members+1, s.stsRate),
		"latency-plan":  inFlight(remediatePlanIAMCalls),
		"sts-apply":     perRate(members, s.stsRate),
		"latency-apply": inFlight(remediateApplyIAMCalls),
	}
	largest := func(names ...string) string {
		best := names[0]
		for _, n := range names[1:] {
			if terms[n] > terms[best] {
				best = n
			}
		}
		return best
	}
	plan, apply := largest("sts-plan", "orgs", "latency-plan"), largest("sts-apply", "latency-apply")
	b := bound{terms: terms, binding: plan + "+" + apply}
	if short := strings.TrimSuffix(plan, "-plan"); short == strings.TrimSuffix(apply, "-apply") {
		b.binding = short
	}
	b.total = terms[plan] + terms[apply] + (remediatePlanChain+remediateApplyChain)*s.latency
	return b
}

// remediationCheck is what the scan after a remediation found, and what
// the simulator counted.
type remediationCheck struct {
	// deleted are the evidence's actions with outcome deleted.
	deleted int
	// deletesDone are the simulator's successful DeleteAccessKey and
	// DeleteSigningCertificate answers; mutations every mutating IAM
	// request it saw, answered or not.
	deletesDone, mutations int64
	verify                 scanRun
	// remaining are the verifying scan's rows that still report a root
	// access key or signing certificate.
	remaining int
	ran       bool
}

// verifyRemediation scans the organization again once the remediation
// ended: the simulator's own answers (GetAccountSummary) must show no root
// access key and no signing certificate in any account.
func verifyRemediation(ctx context.Context, bin string, s scenario, sim *simulator, dir string) (scanRun, int, error) {
	out := filepath.Join(dir, s.name+"-verify.ndjson")
	run, err := runScan(ctx, bin, s.verifyArgs(sim.endpoint, out), sim, out, maxWall)
	if err != nil {
		return run, 0, fmt.Errorf("verifying scan: %w", err)
	}
	rows, err := countRows(out)
	if err != nil {
		return run, 0, fmt.Errorf("verifying scan: %w", err)
	}
	run.rows = rows
	return run, rows.keyOrCert, nil
}

// evaluateRemediation checks what only a remediation has to show: every
// member's two credentials deleted, as the evidence and the simulator tell,
// and none left for a scan to find.
func (r *result) evaluateRemediation() {
	c, members := &r.remediation, int64(r.s.accounts-1)
	want := members * remediateDeletions
	if int64(c.deleted) != want {
		r.failures = append(r.failures, fmt.Sprintf("the evidence records %d deletions, want %d", c.deleted, want))
	}
	if c.deletesDone != want {
		r.failures = append(r.failures, fmt.Sprintf("the simulator answered %d deletions, want %d", c.deletesDone, want))
	}
	if !c.ran {
		r.failures = append(r.failures, "no verifying scan")
		return
	}
	v := c.verify
	switch {
	case v.exitCode != 0:
		r.failures = append(r.failures, fmt.Sprintf("the verifying scan exited %d", v.exitCode))
	case v.rows.total != r.s.accounts || v.rows.errors+v.rows.notScanned > 0:
		r.failures = append(r.failures, fmt.Sprintf("the verifying scan has %d rows, %d in error, for %d accounts", v.rows.total, v.rows.errors+v.rows.notScanned, r.s.accounts))
	case c.remaining > 0:
		r.failures = append(r.failures, fmt.Sprintf("the verifying scan finds a root access key or signing certificate in %d accounts", c.remaining))
	}
}

// remediationLine is what a remediation adds to the result line.
func (r *result) remediationLine() string {
	c := &r.remediation
	s := fmt.Sprintf(" deleted=%d/%d iam-deletes-done=%d iam-mutations=%d", c.deleted, (r.s.accounts-1)*remediateDeletions, c.deletesDone, c.mutations)
	if c.ran {
		s += fmt.Sprintf(" verify[rows=%d errors=%d with-key-or-cert=%d wall=%.1fs]",
			c.verify.rows.total, c.verify.rows.errors+c.verify.rows.notScanned, c.remaining, c.verify.wall.Seconds())
	}
	return s
}
