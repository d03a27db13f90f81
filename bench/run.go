package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1 // a target failed
	exitUsage = 2
	exitError = 3 // the harness could not measure
)

type options struct {
	// families are the families run whole, scenarios the runs chosen by
	// name (with the runs their memory is compared with).
	families, scenarios []string
	out                 string
	keep                string
	verbose             bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var which string
	o := &options{}
	fs.StringVar(&which, "scenario", "all", "`families or runs` to run, comma-separated: all, a family (sts, discovery, storm, ndjson, remediate) or one run by name (sts-sorted)")
	fs.StringVar(&o.out, "out", "", "also write each result as a JSON line to `file`")
	fs.StringVar(&o.keep, "keep", "", "keep each scenario's NDJSON report in `dir`")
	fs.BoolVar(&o.verbose, "v", false, "show orgscan's and awssim's stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench [-scenario all|FAMILY|RUN,...] [-out FILE] [-keep DIR] [-v]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	known := []string{}
	byName := map[string]scenario{}
	for _, s := range scenarios() {
		if !slices.Contains(known, s.family()) {
			known = append(known, s.family())
		}
		byName[s.name] = s
	}
	for _, f := range strings.Split(which, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "all":
			o.families = known
		case slices.Contains(known, f):
			if !slices.Contains(o.families, f) {
				o.families = append(o.families, f)
			}
		case byName[f].name != "":
			// A run compared with another needs that one measured too.
			for s := byName[f]; s.name != ""; s = byName[s.rssBaseline] {
				if !slices.Contains(o.scenarios, s.name) {
					o.scenarios = append(o.scenarios, s.name)
				}
			}
		default:
			return nil, fmt.Errorf("-scenario %q: want all, a family (%s) or a run's name", f, strings.Join(known, ", "))
		}
	}
	return o, nil
}

// selects tells whether s is one of the runs chosen.
func (o *options) selects(s scenario) bool {
	return slices.Contains(o.families, s.family()) || slices.Contains(o.scenarios, s.name)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitUsage
	}
	// -out is rewritten after every scenario, so that an interrupted run
	// keeps what it measured.
	var records bytes.Buffer
	saveRecord := func(r *result) error {
		if o.out == "" {
			return nil
		}
		if err := json.NewEncoder(&records).Encode(r.record()); err != nil {
			return err
		}
		return os.WriteFile(o.out, records.Bytes(), 0o644)
	}
	if o.keep != "" {
		if err := os.MkdirAll(o.keep, 0o755); err != nil {
			fmt.Fprintf(stderr, "bench: -keep: %v\n", err)
			return exitUsage
		}
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, nil, 0o644); err != nil {
			fmt.Fprintf(stderr, "bench: -out: %v\n", err)
			return exitUsage
		}
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitError
	}
	dir, err := os.MkdirTemp("", "orgscan-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitError
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(stderr, "bench: building orgscan and awssim")
	bins, err := build(ctx, root, dir)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitError
	}

	code := exitPass
	done := map[string]*result{}
	for _, s := range scenarios() {
		if !o.selects(s) {
			continue
		}
		fmt.Fprintf(stderr, "bench: %s: %s\n", s.name, s.what)
		reports := dir
		if o.keep != "" {
			reports = o.keep
		}
		res, err := measure(ctx, bins, s, filepath.Join(reports, s.name+".ndjson"))
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", s.name, err)
			if res == nil || ctx.Err() != nil {
				return exitError
			}
		}
		res.evaluate(done[s.rssBaseline])
		done[s.name] = res
		fmt.Fprintln(stdout, res.line())
		if o.verbose || !res.pass() {
			if res.simStderr != "" {
				fmt.Fprintf(stderr, "--- awssim stderr (%s)\n%s", s.name, res.simStderr)
			}
			if res.scan.stderr != "" {
				fmt.Fprintf(stderr, "--- orgscan stderr (%s)\n%s", s.name, res.scan.stderr)
			}
		}
		if err := saveRecord(res); err != nil {
			fmt.Fprintf(stderr, "bench: -out: %v\n", err)
			return exitError
		}
		if !res.pass() {
			code = exitFail
		}
	}
	return code
}

// result is one scenario's measurements and verdict.
type result struct {
	s         scenario
	bound     bound
	discovery int // Organizations calls the organization's shape needs
	scan      scanRun
	sim       usage
	simStderr string
	others    time.Duration // CPU the rest of the machine used meanwhile
	othersOK  bool
	stats     awssim.Stats
	failures  []string
	// rssGrowth is the peak RSS above the baseline run's, and rssAllowance
	// what the additional requests in flight may cost; both zero without a
	// baseline.
	rssGrowth, rssAllowance int64
	// remediation is what a remediate run is checked by.
	remediation remediationCheck
}

// measure runs one scenario end to end. It returns a result whenever the
// scan ran, even if something after it failed.
func measure(ctx context.Context, bins binaries, s scenario, out string) (*result, error) {
	fx := awssim.Generate(s.generate())
	r := &result{s: s, discovery: s.orgsCalls(fx)}
	r.bound = lowerBound(s, r.discovery)

	sim, err := startSimulator(ctx, bins.awssim, s.simArgs())
	if err != nil {
		return nil, err
	}
	defer sim.stop()
	busy0, ok0 := machineBusy()
	r.scan, err = runScan(ctx, bins.orgscan, s.args(sim.endpoint, out), sim, out, s.wallLimit())
	busy1, ok1 := machineBusy()
	// The simulator's CPU so far: it runs on for a remediation's check.
	simCPU, simCPUOK := processCPU(sim.cmd.Process.Pid)
	if err != nil {
		r.failures = append(r.failures, err.Error())
	}
	st, serr := sim.stats(ctx)
	r.stats = st
	if serr != nil {
		r.failures = append(r.failures, serr.Error())
	}
	if err == nil {
		rows, rerr := countRows(out)
		if rerr != nil {
			r.failures = append(r.failures, rerr.Error())
		}
		r.scan.rows = rows
	}
	if s.command == commandRemediate && err == nil && serr == nil {
		c := &r.remediation
		c.deleted = r.scan.rows.deleted
		for _, op := range []string{"iam:DeleteAccessKey", "iam:DeleteSigningCertificate"} {
			o := st.Operations[op]
			c.deletesDone += o.Requests - o.Throttled - o.Failed
		}
		c.mutations = st.Total("iam").Mutations
		// The simulator ran on during the remediation's accounting; the
		// check is a scan of its own against the same world.
		var verr error
		c.verify, c.remaining, verr = verifyRemediation(ctx, bins.orgscan, s, sim, filepath.Dir(out))
		c.ran = verr == nil
		if verr != nil {
			r.failures = append(r.failures, verr.Error())
		}
	}
	sim.stop()
	r.sim, r.simStderr = sim.usage, sim.stderr.String()
	if simCPUOK {
		r.sim.cpu = simCPU
	}
	if ok0 && ok1 {
		r.others = max(0, busy1-busy0-r.scan.usage.cpu-r.sim.cpu)
		r.othersOK = true
	}
	return r, errors.Join(err, serr)
}

// evaluate checks the targets; baseline is the run whose memory this one is
// compared with (nil when there is none or it was not run).
func (r *result) evaluate(baseline *result) {
	s, sc := r.s, r.scan
	if sc.exitCode != 0 {
		r.failures = append(r.failures, fmt.Sprintf("orgscan exited %d", sc.exitCode))
	}
	if sc.wall >= r.s.wallLimit() {
		r.failures = append(r.failures, fmt.Sprintf("wall %s ≥ %s", sc.wall.Round(time.Second), r.s.wallLimit()))
	}
	if s.tags && (sc.rows.tagsErrors > 0 || sc.rows.tagged != sc.rows.total-sc.rows.skipped) {
		r.failures = append(r.failures, fmt.Sprintf("tags read for %d of %d rows, %d failed", sc.rows.tagged, sc.rows.total, sc.rows.tagsErrors))
	}
	if ratio := r.ratio(); ratio > s.maxRatio {
		r.failures = append(r.failures, fmt.Sprintf("ratio %.2f > %.2f", ratio, s.maxRatio))
	}
	rows := sc.rows
	if rows.errors > 0 || rows.notScanned > 0 {
		r.failures = append(r.failures, fmt.Sprintf("%d error and %d not-scanned rows", rows.errors, rows.notScanned))
	}
	if rows.total != s.accounts {
		r.failures = append(r.failures, fmt.Sprintf("%d rows for %d accounts", rows.total, s.accounts))
	}
	if s.command == commandRemediate {
		r.evaluateRemediation()
	}
	if !sc.usage.measured {
		r.failures = append(r.failures, "memory and CPU not measured (no rusage on this platform)")
		return
	}
	if per, budget := r.cpuPerAccount(), s.cpuBudget(); per > budget {
		r.failures = append(r.failures, fmt.Sprintf("CPU %.2fms/account > %s", ms(per), budget))
	}
	// The memory target is 100 MiB at scenario 1's concurrency, plus what
	// the additional requests in flight cost at a higher one.
	if baseline == nil || !baseline.scan.usage.measured {
		if sc.usage.maxRSS > maxRSSBytes {
			r.failures = append(r.failures, fmt.Sprintf("peak RSS %s > %s", mb(sc.usage.maxRSS), mb(maxRSSBytes)))
		}
		return
	}
	more := s.concurrency - baseline.s.concurrency
	r.rssGrowth = sc.usage.maxRSS - baseline.scan.usage.maxRSS
	r.rssAllowance = int64(more)*inFlightAllowance + int64(s.accounts)*s.rowAllowance
	switch {
	case r.rssGrowth <= r.rssAllowance:
	case s.rowAllowance > 0:
		r.failures = append(r.failures, fmt.Sprintf("peak RSS grew %s over %s's keeping %d rows, more than %s (%.2f KiB a row)",
			mb(r.rssGrowth), baseline.s.name, s.accounts, mb(r.rssAllowance), float64(s.rowAllowance)/(1<<10)))
	default:
		r.failures = append(r.failures, fmt.Sprintf("peak RSS grew %s from --concurrency %d to %d, more than %s for %d more requests in flight",
			mb(r.rssGrowth), baseline.s.concurrency, s.concurrency, mb(r.rssAllowance), more))
	}
}

func (r *result) pass() bool { return len(r.failures) == 0 }

func (r *result) ratio() float64 {
	if r.bound.total <= 0 {
		return 0
	}
	return r.scan.wall.Seconds() / r.bound.total.Seconds()
}

func (r *result) cpuPerAccount() time.Duration {
	return r.scan.usage.cpu / time.Duration(max(r.s.accounts, 1))
}

// line is the one result line of a scenario.
func (r *result) line() string {
	sc := r.scan
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s accounts=%d conc=%d access=%s wall=%.2fs bound=%s ratio=%.2f/%.2f rss=%s",
		r.s.name, r.s.accounts, r.s.concurrency, r.s.access, sc.wall.Seconds(), r.bound, r.ratio(), r.s.maxRatio, mb(sc.usage.maxRSS))
	if r.rssAllowance > 0 {
		fmt.Fprintf(&b, "(%+.1fMiB/%.1fMiB-allowed)", float64(r.rssGrowth)/(1<<20), float64(r.rssAllowance)/(1<<20))
	}
	fmt.Fprintf(&b, " cpu=%.2fs(%.2fms/acct)", sc.usage.cpu.Seconds(), ms(r.cpuPerAccount()))
	fmt.Fprintf(&b, " requests[%s] throttled=%d errors=%d", r.requests(), r.stats.Total("").Throttled, sc.rows.errors+sc.rows.notScanned)
	if !sc.rows.firstRow.IsZero() {
		fmt.Fprintf(&b, " rows@%.1f-%.1fs", sc.rows.firstRow.Sub(sc.started).Seconds(), sc.rows.lastRow.Sub(sc.started).Seconds())
	}
	fmt.Fprintf(&b, " orgs-calls=%d/%d sim-cpu=%.1fs", r.stats.Total("organizations").Requests, r.discovery, r.sim.cpu.Seconds())
	if r.othersOK {
		fmt.Fprintf(&b, " others-cpu=%.1fs", r.others.Seconds())
	}
	if r.s.command == commandRemediate {
		b.WriteString(r.remediationLine())
	}
	if r.pass() {
		b.WriteString(" PASS")
	} else {
		b.WriteString(" FAIL: " + strings.Join(r.failures, "; "))
	}
	return b.String()
}

// requests lists the simulator's counters as op=requests, with /thrN when
// N of them were throttled.
func (r *result) requests() string {
	keys := make([]string, 0, len(r.stats.Operations))
	for k := range r.stats.Operations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		op := r.stats.Operations[k]
		p := fmt.Sprintf("%s=%d", k, op.Requests)
		if op.Throttled > 0 {
			p += fmt.Sprintf("/thr%d", op.Throttled)
		}
		if op.Failed > 0 {
			p += fmt.Sprintf("/fail%d", op.Failed)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// record is a result as -out writes it, for scripts.
type record struct {
	Scenario        string                    `json:"scenario"`
	Accounts        int                       `json:"accounts"`
	Concurrency     int                       `json:"concurrency"`
	Access          string                    `json:"access"`
	WallSeconds     float64                   `json:"wall_seconds"`
	BoundSeconds    float64                   `json:"bound_seconds"`
	BoundBinding    string                    `json:"bound_binding"`
	BoundTerms      map[string]float64        `json:"bound_terms_seconds"`
	Ratio           float64                   `json:"ratio"`
	MaxRatio        float64                   `json:"max_ratio"`
	PeakRSSBytes    int64                     `json:"peak_rss_bytes"`
	RSSGrowthBytes  *int64                    `json:"peak_rss_growth_bytes"`
	RSSAllowedBytes *int64                    `json:"peak_rss_growth_allowed_bytes"`
	CPUSeconds      float64                   `json:"cpu_seconds"`
	CPUMsPerAccount float64                   `json:"cpu_ms_per_account"`
	SimCPUSeconds   float64                   `json:"awssim_cpu_seconds"`
	OthersCPU       *float64                  `json:"other_processes_cpu_seconds"`
	DiscoveryCalls  int                       `json:"discovery_calls_modelled"`
	Operations      map[string]awssim.OpStats `json:"operations"`
	Rows            int                       `json:"rows"`
	ErrorRows       int                       `json:"error_rows"`
	NotScannedRows  int                       `json:"not_scanned_rows"`
	ErrorSample     string                    `json:"error_sample,omitempty"`
	ExitCode        int                       `json:"orgscan_exit_code"`
	Pass            bool                      `json:"pass"`
	Failures        []string                  `json:"failures"`
	Remediation     *remediationRecord        `json:"remediation,omitempty"`
}

// remediationRecord is a remediation's check in a record.
type remediationRecord struct {
	Deleted        int   `json:"deleted"`
	DeletesDone    int64 `json:"iam_deletes_done"`
	IAMMutations   int64 `json:"iam_mutations"`
	VerifyRows     int   `json:"verify_rows"`
	VerifyErrors   int   `json:"verify_error_rows"`
	VerifyKeyCerts int   `json:"verify_rows_with_key_or_certificate"`
}

func (r *result) record() record {
	terms := map[string]float64{}
	for k, v := range r.bound.terms {
		terms[k] = v.Seconds()
	}
	rec := record{
		Scenario: r.s.name, Accounts: r.s.accounts, Concurrency: r.s.concurrency, Access: r.s.access,
		WallSeconds: r.scan.wall.Seconds(), BoundSeconds: r.bound.total.Seconds(), BoundBinding: r.bound.binding, BoundTerms: terms,
		Ratio: r.ratio(), MaxRatio: r.s.maxRatio,
		PeakRSSBytes: r.scan.usage.maxRSS, CPUSeconds: r.scan.usage.cpu.Seconds(), CPUMsPerAccount: ms(r.cpuPerAccount()),
		SimCPUSeconds: r.sim.cpu.Seconds(), DiscoveryCalls: r.discovery, Operations: r.stats.Operations,
		Rows: r.scan.rows.total, ErrorRows: r.scan.rows.errors, NotScannedRows: r.scan.rows.notScanned, ErrorSample: r.scan.rows.errorSample,
		ExitCode: r.scan.exitCode, Pass: r.pass(), Failures: r.failures,
	}
	if rec.Failures == nil {
		rec.Failures = []string{}
	}
	if r.othersOK {
		v := r.others.Seconds()
		rec.OthersCPU = &v
	}
	if r.rssAllowance > 0 {
		rec.RSSGrowthBytes, rec.RSSAllowedBytes = &r.rssGrowth, &r.rssAllowance
	}
	if c := &r.remediation; r.s.command == commandRemediate {
		v := c.verify.rows
		rec.Remediation = &remediationRecord{
			Deleted: c.deleted, DeletesDone: c.deletesDone, IAMMutations: c.mutations,
			VerifyRows: v.total, VerifyErrors: v.errors + v.notScanned, VerifyKeyCerts: c.remaining,
		}
	}
	return rec
}

func mb(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
