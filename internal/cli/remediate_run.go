package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// remediateRun is one execution of `orgscan remediate`: flags become a
// remediate.Config, a plan is made or read, confirmed, carried out, and the
// report goes to the targets. Planning and deleting are pkg/remediate's.
type remediateRun struct {
	env runEnv
	o   *remediateOptions
	log *slog.Logger
}

// runRemediate runs remediate end to end and returns the exit status.
// name is the command's, for the error line.
func runRemediate(ctx context.Context, env runEnv, o *remediateOptions, name string) int {
	r := &remediateRun{env: env, o: o, log: newLogger(env.streams.ErrOut, o.LogFormat, o.Quiet, o.Debug)}
	err := r.run(ctx)
	reportError(env.streams.ErrOut, name, err)
	return exitCode(err)
}

func (r *remediateRun) run(sigCtx context.Context) error {
	// Interrupts end the planning or deleting, never the writing of what
	// was done.
	ctx := context.WithoutCancel(sigCtx)
	// Deletions in flight take a while to finish and verify; say why the
	// run has not ended yet, and what a second interrupt costs.
	defer context.AfterFunc(sigCtx, func() {
		r.log.Warn("interrupted: accounts in flight finish their current deletion, then the report is written; a second Ctrl-C quits without it")
	})()
	var plan *remediate.Report
	if r.o.Plan != "" && r.o.planS3 == nil {
		p, err := readLocalPlan(r.o.Plan)
		if err != nil {
			return err
		}
		plan = p
	}
	var debug io.Writer
	if r.o.Debug {
		debug = r.env.streams.ErrOut
	}
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Profile: r.o.Profile, Region: r.o.Region, EndpointURL: r.o.EndpointURL,
		Concurrency: r.o.Concurrency, Debug: debug, Credentials: r.env.credentials,
	})
	if err != nil {
		return scan.StageError(scan.StageConfig, err, "")
	}
	cfg.Logger = r.env.streams.sdkLogger(r.o.Debug)
	s3Client := newS3Client(cfg)
	if r.o.planS3 != nil {
		p, err := readS3Plan(sigCtx, s3Client, r.o.ExpectedOwner, r.o.planS3)
		if err != nil {
			return err
		}
		plan = p
	}

	sess, err := orgscan.Connect(sigCtx, cfg)
	if err != nil {
		return err
	}
	if plan != nil {
		// Checked before asking anyone to confirm it; Apply checks again.
		if err := remediate.CheckPlan(plan, sess.ID, r.env.now(), r.o.MaxPlanAge); err != nil {
			return fmt.Errorf("--plan %s: %w", output.Sanitize(r.o.Plan), err)
		}
		r.log.Info("plan accepted", "plan", output.Sanitize(r.o.Plan), "digest", plan.Remediation.Plan.Digest,
			"created_at", plan.Remediation.Plan.CreatedAt.Format(time.RFC3339), "created_by", plan.Remediation.Plan.CreatedBy)
	}
	out := &remediationOutputs{run: r, s3: s3Client}
	base := remediate.Config{
		Session:             sess,
		Filter:              r.o.filter(),
		Selection:           r.o.selection,
		RecentDays:          r.o.RecentDays,
		IncludeRecentlyUsed: r.o.IncludeRecentlyUsed,
		Concurrency:         r.o.Concurrency,
		AccountTimeout:      r.o.AccountTimeout,
		Version:             r.env.version,
		Now:                 r.env.now,
	}

	if plan == nil {
		r.log.Info("planning", "organization", sess.ID, "caller", sess.Caller.ARN, "delete", strings.Join(r.o.selection.Names(), ","),
			"concurrency", r.o.Concurrency)
		final := !r.o.Apply
		var planErr error
		plan, planErr = r.phase(sigCtx, "planning", out, final, base, remediate.Plan)
		if plan == nil {
			return planErr
		}
		if final || planErr != nil || plan.Remediation.Interrupted {
			// An apply whose planning did not finish deletes nothing: the
			// plan it made is written instead of the evidence.
			return r.finish(ctx, out, plan, planErr)
		}
	}

	if deletions(plan) == 0 {
		r.log.Info("the plan deletes nothing; applying it only verifies the accounts")
	} else if r.o.confirm {
		if err := r.confirm(sigCtx, plan); err != nil {
			if r.o.Plan == "" {
				// Nothing gathered is lost: the plan made in this run is
				// written where the evidence would have gone.
				if werr := out.write(ctx, plan); werr != nil {
					return errors.Join(err, werr)
				}
				return fmt.Errorf("%w (the plan is written instead of the evidence)", err)
			}
			return err
		}
	}
	if !slices.ContainsFunc(r.o.targets, func(t target) bool { return !t.stdout }) {
		r.log.Warn("the evidence of this apply goes to stdout only: keep it with --out evidence.json (or an s3:// target)")
	}
	r.log.Info("applying", "organization", sess.ID, "caller", sess.Caller.ARN, "plan_digest", plan.Remediation.Plan.Digest,
		"deletions", deletions(plan), "concurrency", r.o.Concurrency)
	rep, applyErr := r.phase(sigCtx, "applying", out, true, base, func(ctx context.Context, cfg remediate.Config) (*remediate.Report, error) {
		return remediate.Apply(ctx, remediate.ApplyConfig{Config: cfg, Plan: plan, MaxPlanAge: r.o.MaxPlanAge})
	})
	if rep == nil {
		return applyErr
	}
	return r.finish(ctx, out, rep, applyErr)
}

// phase runs the plan or the apply with a progress line; the final phase
// streams its accounts to the outputs that take them as they come.
func (r *remediateRun) phase(ctx context.Context, verb string, out *remediationOutputs, final bool, cfg remediate.Config,
	do func(context.Context, remediate.Config) (*remediate.Report, error)) (*remediate.Report, error) {
	prog := newProgressOf(r.env.streams, r.o.Quiet, r.env.now, verb)
	defer prog.stop()
	if final {
		if err := out.start(ctx); err != nil {
			return nil, err
		}
		// Every output has each account as it completes: the report keeps
		// none, so that memory does not grow with the organization.
		cfg.DiscardAccounts = out.all
	}
	cfg.OnAccount = func(a *remediate.Account) error {
		prog.completed.Add(1)
		if a.Status == remediate.StatusError || a.Status == remediate.StatusFailed {
			prog.errors.Add(1)
		}
		if final {
			return out.account(a)
		}
		return nil
	}
	rep, err := do(ctx, cfg)
	prog.stop()
	if rep == nil && final {
		out.abort()
	}
	if rep == nil && ctx.Err() != nil {
		return nil, &interruptedError{err: fmt.Errorf("interrupted while %s, before any account was done; nothing was deleted", verb)}
	}
	return rep, err
}

// finish writes the report and decides the exit status.
func (r *remediateRun) finish(ctx context.Context, out *remediationOutputs, rep *remediate.Report, runErr error) error {
	writeErr := out.write(ctx, rep)
	r.summarize(rep)
	m := rep.Remediation
	switch {
	case m.Interrupted && writeErr != nil:
		return &interruptedError{err: writeErr}
	case m.Interrupted:
		return errInterrupted
	case runErr != nil:
		return errors.Join(&fatalError{err: fmt.Errorf("the %s did not finish; the report holds what was done: %w", m.Mode, runErr)}, writeErr)
	case writeErr != nil:
		return &fatalError{err: writeErr}
	case !m.Complete:
		return errIncomplete
	}
	return nil
}

// summarize tells on stderr how the run went: NDJSON and CSV carry no
// provenance block, and a table reader wants the counts at a glance.
func (r *remediateRun) summarize(rep *remediate.Report) {
	m := rep.Remediation
	attrs := []any{"organization", m.OrganizationID, "mode", m.Mode, "accounts", m.Counts.Accounts}
	for _, k := range []string{remediate.KindAccessKey, remediate.KindSigningCertificate, remediate.KindPassword, remediate.KindMFADevice} {
		if n := m.Counts.ByKind[k]; n > 0 {
			attrs = append(attrs, strings.ReplaceAll(k, "-", "_")+"s", n)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(m.Counts.ByStatus)) {
		attrs = append(attrs, "status_"+s, m.Counts.ByStatus[s])
	}
	if n := m.Counts.ByOutcome[remediate.OutcomeHeld]; n > 0 {
		attrs = append(attrs, "held", n)
	}
	if m.FinishedAt != nil {
		attrs = append(attrs, "elapsed", m.FinishedAt.Sub(m.StartedAt).Round(time.Millisecond).String())
	}
	if m.Mode == remediate.ModeApply {
		attrs = append(attrs, "plan_digest", m.Plan.Digest)
	}
	switch {
	case m.Interrupted && m.Mode == remediate.ModePlan && r.o.Apply:
		r.log.Warn("interrupted while planning: nothing was deleted; the partial plan is written", attrs...)
	case m.Interrupted:
		r.log.Warn("interrupted: accounts in flight finished their current deletion; the report lists what was deleted and what was not started", attrs...)
	case !m.Complete:
		attrs = append(attrs, "incomplete", strings.Join(m.IncompleteReasons, ","))
		r.log.Warn("remediation incomplete: the report says which accounts failed and why", attrs...)
		for _, f := range m.OUsNotListed {
			r.log.Warn("an OU could not be listed; the accounts below it are missing", "ou", f.ID, "path", f.Path,
				"listing", f.Listing, "error_code", f.ErrorCode, "error", f.Error)
		}
	case m.Mode == remediate.ModePlan:
		r.log.Info("plan complete: nothing was changed", attrs...)
	default:
		r.log.Info("remediation complete: every planned deletion done and verified", attrs...)
	}
}

// deletions counts the deletions a plan makes.
func deletions(plan *remediate.Report) int { return plan.Totals().Deletions }

// confirm shows on the terminal what the apply deletes and asks for the
// organization id: typing it is the decision, and a wrong or missing
// answer deletes nothing.
func (r *remediateRun) confirm(ctx context.Context, plan *remediate.Report) error {
	t := plan.Totals()
	w := r.env.streams.ErrOut
	fmt.Fprintf(w, "\nThis deletes root credentials of member accounts in organization %s:\n", t.OrganizationID)
	for _, k := range []struct{ kind, one, many string }{
		{remediate.KindAccessKey, "access key", "access keys"},
		{remediate.KindSigningCertificate, "signing certificate", "signing certificates"},
		{remediate.KindPassword, "console password", "console passwords"},
		{remediate.KindMFADevice, "MFA device", "MFA devices"},
	} {
		if n := t.ByKind[k.kind]; n > 0 {
			fmt.Fprintf(w, "  %6d %s\n", n, plural(n, k.one, k.many))
		}
	}
	fmt.Fprintf(w, "in %d member %s", t.Accounts, plural(t.Accounts, "account", "accounts"))
	if t.Held > 0 {
		fmt.Fprintf(w, " (%d %s held, see the plan)", t.Held, plural(t.Held, "credential", "credentials"))
	}
	fmt.Fprintf(w, ".\nType the organization id to delete them, anything else to stop: ")
	answer, err := readAnswer(ctx, r.env.streams.In)
	fmt.Fprintln(w)
	switch {
	case ctx.Err() != nil:
		return &interruptedError{err: errors.New("interrupted at the confirmation: nothing was deleted")}
	case errors.Is(err, io.EOF) && answer == "":
		return usagef("no organization id was typed (end of input): nothing was deleted; type %s to confirm, or use --yes", t.OrganizationID)
	case err != nil && !errors.Is(err, io.EOF):
		return usagef("the confirmation could not be read (%v): nothing was deleted; use --yes", err)
	case answer != t.OrganizationID:
		return usagef("%q is not the organization id %s: nothing was deleted; run again and type it to confirm", truncate(answer, 40), t.OrganizationID)
	}
	return nil
}

// readAnswer reads one line from in, or gives up when ctx ends. The read
// itself cannot be cancelled: it is left blocked on a terminal the process
// is about to stop reading from.
func readAnswer(ctx context.Context, in io.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(in).ReadString('\n')
		got <- line{strings.TrimSpace(s), err}
	}()
	select {
	case l := <-got:
		return l.s, l.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxPlanBytes bounds a plan read from S3 before ReadPlan's own bound.
const maxPlanBytes = maxReportBytes

// readLocalPlan reads a plan file; what cannot be read as a plan is bad
// input naming the file.
func readLocalPlan(path string) (*remediate.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--plan %s: %v: give the file that `orgscan remediate --out plan.json` wrote", output.Sanitize(path), unwrapPathError(err))
	}
	defer f.Close()
	p, err := remediate.ReadPlan(f)
	if err != nil {
		return nil, fmt.Errorf("--plan %s: %w", output.Sanitize(path), err)
	}
	return p, nil
}

// readS3Plan reads a plan object. A failed download is a read failure
// (exit 1); an object that is not an intact plan is bad input (exit 2).
func readS3Plan(ctx context.Context, api s3Reader, expectedOwner string, loc *s3Location) (*remediate.Report, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)}
	if expectedOwner != "" {
		in.ExpectedBucketOwner = aws.String(expectedOwner)
	}
	uri := output.Sanitize(loc.String())
	obj, err := api.GetObject(ctx, in)
	if err != nil {
		return nil, &readError{err: fmt.Errorf("read the plan %s: %w", uri, err)}
	}
	defer obj.Body.Close()
	body := &downloadReader{r: obj.Body}
	p, err := remediate.ReadPlan(io.LimitReader(body, maxPlanBytes))
	switch {
	case body.err != nil:
		return nil, &readError{err: fmt.Errorf("read the plan %s: %w", uri, body.err)}
	case err != nil:
		return nil, fmt.Errorf("--plan %s: %w", uri, err)
	}
	return p, nil
}

// remediateAdvice words, with remediate's flags, what a remediation
// failure's hint says would fix it; the library's message has said it in
// its own words already.
func remediateAdvice(se *scan.Error) string {
	switch se.Hint {
	case remediate.HintDeleteAll:
		return " (--delete access-keys,password,mfa, or --delete all)"
	case remediate.HintEnableRootCredentialsManagement:
		return "; from the management account: aws organizations enable-aws-service-access --service-principal iam.amazonaws.com," +
			" then aws iam enable-organizations-root-credentials-management (or IAM console > Root access management)"
	case remediate.HintNewPlan:
		return " (orgscan remediate --out plan.json makes one)"
	case remediate.HintMaxPlanAge:
		return " (orgscan remediate --out plan.json makes a new one; --max-plan-age allows an older one)"
	}
	return ""
}
