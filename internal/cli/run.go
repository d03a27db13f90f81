package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/diff"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// Exit statuses, documented in --help and the README.
const (
	exitOK          = 0
	exitFatal       = 1
	exitUsage       = 2
	exitIncomplete  = 3
	exitFindings    = 4
	exitInterrupted = 130
)

// fatalError ends the run with exit status 1 and a message that says which
// permission or account is needed.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error {
	return &fatalError{err: fmt.Errorf(format, args...)}
}

// runEnv is what a scan run needs besides its options.
type runEnv struct {
	streams *Streams
	now     func() time.Time
	version string
	// credentials, when set, replace the default credential chain (the
	// demo uses the simulator's keys without touching the environment).
	credentials aws.CredentialsProvider
	// fallbackDir receives reports whose upload failed; "" is the working
	// directory.
	fallbackDir string
}

// scanRun is one execution of `orgscan scan`.
type scanRun struct {
	env    runEnv
	o      *scanOptions
	log    *slog.Logger
	cfg    aws.Config
	caller assume.Caller
	meta   scan.Meta
}

// runScan runs a scan end to end and returns the exit status.
func runScan(ctx context.Context, env runEnv, o *scanOptions) int {
	r := &scanRun{env: env, o: o, log: newLogger(env.streams.ErrOut, o.LogFormat, o.Quiet, o.Debug)}
	code, err := r.run(ctx)
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan: %s\n", oneLine(assume.RedactSecrets(err.Error())))
	}
	return code
}

func (r *scanRun) run(sigCtx context.Context) (int, error) {
	// Interrupts end the scan, never the writing of what it gathered.
	ctx := context.WithoutCancel(sigCtx)
	started := r.env.now().UTC()
	var debug io.Writer
	if r.o.Debug {
		debug = r.env.streams.ErrOut
	}
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Profile: r.o.Profile, Region: r.o.Region, EndpointURL: r.o.EndpointURL,
		Concurrency: r.o.Concurrency, Debug: debug, Credentials: r.env.credentials,
	})
	if err != nil {
		return exitFatal, err
	}
	cfg.Logger = r.env.streams.sdkLogger(r.o.Debug)
	r.cfg = cfg
	clients := assume.NewClients(cfg)
	stsClient, iamClient, orgClient := clients.STS, clients.IAM, clients.Organizations

	caller, err := assume.Identify(sigCtx, stsClient)
	if err != nil {
		return exitFatal, err
	}
	r.caller = caller
	org, err := describeOrganization(sigCtx, orgClient, caller)
	if err != nil {
		return exitFatal, err
	}
	r.meta = scan.Meta{
		OrganizationID:      aws.ToString(org.Id),
		ManagementAccountID: aws.ToString(org.MasterAccountId),
		CallerARN:           caller.ARN,
		CallerAccountID:     caller.AccountID,
		Partition:           caller.Partition,
		StartedAt:           started,
		Version:             r.env.version,
		Options:             r.optionsUsed(),
		// Checked whatever the access method: findings depend on it, and
		// must not change with the way into the accounts.
		RootAccess: rootAccessFeatures(sigCtx, iamClient),
	}
	methods := r.methods(stsClient)
	r.log.Info("scan starting", "organization", r.meta.OrganizationID, "caller", caller.ARN,
		"access", strings.Join(methodNames(methods), ","), "concurrency", r.o.Concurrency)

	stdout, err := r.streamingWriter()
	if err != nil {
		return exitUsage, err
	}
	prog := newProgress(r.env.streams, r.o.Quiet, r.env.now)
	defer prog.stop()
	cfgScan := scan.Config{
		Orgs:                  orgClient,
		IAM:                   iamClient,
		Methods:               methods,
		CallerAccountID:       caller.AccountID,
		Filter:                scan.Filter{OUs: r.o.OUs, ExcludeOUs: r.o.ExcludeOUs, Accounts: r.o.Accounts, ExcludeAccounts: r.o.ExcludeAccounts},
		IncludeInactive:       r.o.IncludeInactive,
		Concurrency:           r.o.Concurrency,
		AccountTimeout:        r.o.AccountTimeout,
		CentralRootManagement: r.meta.RootAccess.RootCredentialsManagement == "enabled",
		ManagementAccountID:   r.meta.ManagementAccountID,
		Partition:             caller.Partition,
		Thresholds:            scan.Thresholds{RecentDays: r.o.RecentDays, MaxAgeDays: r.o.MaxAgeDays},
		Now:                   r.env.now,
		OnAccount:             prog.discovered,
		OnRow: func(row *scan.Row) error {
			prog.done(row)
			if stdout != nil {
				return stdout.WriteRow(row)
			}
			return nil
		},
	}
	if r.o.Details {
		cfgScan.Details = scan.NewDetailsReader(iamClient, r.env.now)
	}
	res, err := scan.Run(sigCtx, cfgScan)
	prog.stop()
	if err != nil {
		var unknown *scan.UnknownOUError
		if errors.As(err, &unknown) && len(unknown.Unlisted) == 0 {
			return exitUsage, err
		}
		if sigCtx.Err() != nil {
			return exitInterrupted, errors.New("interrupted before any account was listed; no report written")
		}
		return exitFatal, fatalf("%v%s", err, organizationsHint(err))
	}

	rep := r.report(res)
	s3Client := newS3Client(cfg)
	writeErr := r.writeOutputs(ctx, rep, stdout, s3Client)
	r.summarize(rep, res)
	// The zero severity (options not validated) lets every finding fail.
	failAt := r.o.failAt
	findingsFail := rep.HasFindingsAtLeast(failAt)
	if r.o.Baseline != "" {
		d, err := r.compareBaseline(ctx, s3Client, rep)
		if err != nil {
			writeErr = errors.Join(writeErr, err)
		} else if d != nil {
			// Against a baseline, only what is new fails the run.
			findingsFail = d.HasNewFindingsAtLeast(failAt)
		}
	}

	switch {
	case res.Interrupted:
		return exitInterrupted, writeErr
	case res.Err != nil:
		return exitFatal, errors.Join(fatalf("the scan did not finish; the report holds what was gathered: %v%s", res.Err, organizationsHint(res.Err)), writeErr)
	case writeErr != nil:
		return exitFatal, writeErr
	case !rep.Scan.Complete:
		return exitIncomplete, nil
	case r.o.FailOnFindings && findingsFail:
		return exitFindings, nil
	}
	return exitOK, nil
}

func (r *scanRun) optionsUsed() scan.OptionsUsed {
	u := scan.OptionsUsed{
		Access:          r.o.Access,
		ExternalIDSet:   r.o.ExternalID != "",
		Region:          r.cfg.Region,
		Concurrency:     r.o.Concurrency,
		OUs:             r.o.OUs,
		ExcludeOUs:      r.o.ExcludeOUs,
		Accounts:        r.o.Accounts,
		ExcludeAccounts: r.o.ExcludeAccounts,
		IncludeInactive: r.o.IncludeInactive,
		Details:         r.o.Details,
	}
	if r.o.Access != assume.MethodAssumeRoot {
		if r.o.RoleARNTemplate != "" {
			u.RoleARNTemplate = r.o.RoleARNTemplate
		} else {
			u.RoleName = r.o.RoleName
		}
	}
	return u
}

// methods orders the access methods. auto prefers root sessions where the
// organization manages root credentials centrally, and keeps the other
// method as the per-account fallback.
func (r *scanRun) methods(api *sts.Client) []scan.Method {
	template := r.o.RoleARNTemplate
	if template == "" {
		template = assume.RoleNameTemplate(r.o.RoleName)
	}
	session := r.o.SessionName
	if session == "" {
		session = assume.SessionName(r.caller)
	}
	role := assume.NewRoleMethod(api, assume.RoleOptions{
		Template: template, Partition: r.caller.Partition, ExternalID: r.o.ExternalID,
		SessionName: session, Duration: r.o.Duration, Now: r.env.now,
	})
	root := assume.NewRootMethod(api, assume.RootOptions{
		Partition: r.caller.Partition, Duration: min(r.o.Duration, assume.MaxRootSessionDuration), Now: r.env.now,
	})
	switch r.o.Access {
	case assume.MethodAssumeRole:
		return []scan.Method{role}
	case assume.MethodAssumeRoot:
		return []scan.Method{root}
	}
	if r.meta.RootAccess.RootCredentialsManagement == "enabled" {
		return []scan.Method{root, role}
	}
	return []scan.Method{role, root}
}

func methodNames(ms []scan.Method) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name()
	}
	return names
}

// newS3Client sends each call to its bucket's own region, whatever
// --region says. It addresses buckets virtual-host style on AWS, as AWS
// recommends, and path style against a custom endpoint (the simulator, or
// an S3-compatible store) whose host names cannot carry bucket names.
func newS3Client(cfg aws.Config) *output.RegionalS3 {
	return output.NewRegionalS3(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
}

// OrganizationDescriber is the Organizations call that identifies the org.
type OrganizationDescriber interface {
	DescribeOrganization(ctx context.Context, in *organizations.DescribeOrganizationInput, optFns ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

func describeOrganization(ctx context.Context, api OrganizationDescriber, caller assume.Caller) (*orgtypes.Organization, error) {
	out, err := api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		switch apiCode(err) {
		case "AWSOrganizationsNotInUseException":
			return nil, fatalf("account %s is not in an AWS Organization: run orgscan from the management account or a delegated administrator of the organization to scan", caller.AccountID)
		case "AccessDeniedException", "AccessDenied":
			return nil, fatalf("%s may not describe the organization: grant organizations:DescribeOrganization, ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent (examples/iam/), and run from the management account or a delegated administrator", caller.ARN)
		}
		return nil, fatalf("describe the organization: %w", err)
	}
	if out.Organization == nil {
		return nil, fatalf("describe the organization: the answer holds no organization")
	}
	// The id goes into S3 keys and the report's provenance: an answer that
	// is not an organization id is not used (see scan.ValidOrganizationID).
	if id := aws.ToString(out.Organization.Id); !scan.ValidOrganizationID(id) {
		return nil, fatalf("describe the organization: the answer's organization id %s is not an organization id (o- and 10-32 lowercase letters or digits); check --endpoint-url", strconv.QuoteToASCII(truncate(id, 40)))
	}
	if id := aws.ToString(out.Organization.MasterAccountId); !scan.ValidAccountID(id) {
		return nil, fatalf("describe the organization: the answer's management account id %s is not a 12-digit account id; check --endpoint-url", strconv.QuoteToASCII(truncate(id, 40)))
	}
	return out.Organization, nil
}

// organizationsHint says what to do about a failed Organizations call.
func organizationsHint(err error) string {
	switch apiCode(err) {
	case "AccessDeniedException", "AccessDenied":
		return " (the caller needs organizations:ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent, in the management account or a delegated administrator)"
	case "TooManyRequestsException":
		return " (AWS Organizations kept throttling; retry later)"
	}
	return ""
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// FeaturesLister reads the organization's centralized root access features.
type FeaturesLister interface {
	ListOrganizationsFeatures(ctx context.Context, in *iam.ListOrganizationsFeaturesInput, optFns ...func(*iam.Options)) (*iam.ListOrganizationsFeaturesOutput, error)
}

// rootAccessFeatures reports enabled/disabled, or unknown with the reason.
func rootAccessFeatures(ctx context.Context, api FeaturesLister) scan.RootAccessState {
	out, err := api.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if err != nil {
		// The operation's error shapes in the IAM service model (botocore
		// iam/2010-05-08/service-2.json), each also accepted without the
		// Exception suffix, the way the IAM API Reference names them.
		reason := err.Error()
		switch strings.TrimSuffix(apiCode(err), "Exception") {
		case "ServiceAccessNotEnabled":
			reason = "trusted access for IAM is not enabled in AWS Organizations"
		case "AccessDenied":
			reason = "the caller may not call iam:ListOrganizationsFeatures"
		case "AccountNotManagementOrDelegatedAdministrator":
			reason = "the caller is neither the management account nor the delegated administrator for IAM"
		case "OrganizationNotFound":
			reason = "the caller is not in an organization"
		case "OrganizationNotInAllFeaturesMode":
			reason = "the organization does not have all features enabled, which centralized root access needs"
		}
		return scan.RootAccessState{RootCredentialsManagement: "unknown", RootSessions: "unknown", Reason: reason}
	}
	state := func(f iamtypes.FeatureType) string {
		if slices.Contains(out.EnabledFeatures, f) {
			return "enabled"
		}
		return "disabled"
	}
	return scan.RootAccessState{
		RootCredentialsManagement: state(iamtypes.FeatureTypeRootCredentialsManagement),
		RootSessions:              state(iamtypes.FeatureTypeRootSessions),
	}
}

// report assembles the final report from the scan's result.
func (r *scanRun) report(res *scan.Result) *scan.Report {
	return scan.NewReport(r.meta, res, r.env.now().UTC())
}

// streamingWriter returns the writer that sees rows as they complete: only
// an NDJSON report on stdout streams; files and uploads are written whole
// at the end, atomically.
func (r *scanRun) streamingWriter() (output.Writer, error) {
	for _, t := range r.o.targets {
		if t.stdout && t.format == output.FormatNDJSON {
			return output.New(t.format, r.env.streams.Out, output.Options{})
		}
	}
	return nil, nil
}

func (r *scanRun) outputOptions(t target) output.Options {
	o := output.Options{Details: r.o.Details, Now: r.env.now}
	if t.stdout {
		o.Terminal = r.env.streams.IsStdoutTerminal()
		o.Color = r.env.streams.ColorEnabled()
	}
	return o
}

// render writes the whole report in t's format.
func (r *scanRun) render(t target, w io.Writer, rep *scan.Report) error {
	wr, err := output.New(t.format, w, r.outputOptions(t))
	if err != nil {
		return err
	}
	return wr.Close(rep)
}

// writeOutputs writes every target. A failure of one never stops the
// others, and a failed upload leaves the report in a local fallback file.
func (r *scanRun) writeOutputs(ctx context.Context, rep *scan.Report, stdout output.Writer, uploader output.ObjectPutter) error {
	var errs []error
	for _, t := range r.o.targets {
		var err error
		switch {
		case t.stdout && stdout != nil:
			err = stdout.Close(rep)
		case t.stdout:
			err = r.render(t, r.env.streams.Out, rep)
		case t.path != "":
			err = output.WriteFileAtomic(t.path, 0o600, func(w io.Writer) error { return r.render(t, w, rep) })
			if err == nil {
				r.log.Info("report written", "path", t.path, "format", t.format)
			}
		case t.s3 != nil:
			err = r.upload(ctx, t, rep, uploader)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *scanRun) upload(ctx context.Context, t target, rep *scan.Report, api output.ObjectPutter) error {
	var buf bytes.Buffer
	if err := r.render(t, &buf, rep); err != nil {
		return err
	}
	key := t.s3.Key
	if t.s3.Prefix {
		key = output.PartitionedKey(t.s3.Key, rep.Scan.OrganizationID, rep.Scan.StartedAt, output.Extension(t.format))
	}
	res, err := output.Upload(ctx, api, output.UploadInput{
		Bucket: t.s3.Bucket, Key: key, Body: buf.Bytes(), ContentType: output.ContentType(t.format),
		SSE: r.o.SSE, KMSKeyID: r.o.SSEKMSKeyID, ExpectedBucketOwner: r.o.ExpectedOwner,
		Metadata: output.ReportMetadata(rep, output.SchemaVersion),
	})
	if err != nil {
		fallback, ferr := output.WriteFallback(cmp.Or(r.env.fallbackDir, "."), rep.Scan.StartedAt, output.Extension(t.format), buf.Bytes())
		// The key holds the organization id, and S3's message is the
		// endpoint's text: neither reaches the terminal raw.
		uri, cause := output.Sanitize("s3://"+t.s3.Bucket+"/"+key), output.Sanitize(err.Error())
		if ferr != nil {
			return fatalf("upload to %s failed: %s; the local fallback failed too: %v", uri, cause, ferr)
		}
		return fatalf("upload to %s failed: %s; the report is saved in %s", uri, cause, fallback)
	}
	r.log.Info("report uploaded", "uri", output.Sanitize("s3://"+t.s3.Bucket+"/"+key), "version_id", output.Sanitize(res.VersionID),
		"checksum_sha256", res.ChecksumSHA256, "format", t.format)
	return nil
}

// compareBaseline diffs the report against the newest earlier one under
// --baseline and writes the diff to stderr (stdout carries the report). It
// returns nil when there is no earlier report. The baseline decides which
// findings fail the run, so one that is not an earlier report of this
// organization by its own account is refused, never skipped.
func (r *scanRun) compareBaseline(ctx context.Context, api s3Reader, rep *scan.Report) (*diff.Diff, error) {
	loc, err := parseS3URI(r.o.Baseline)
	if err != nil {
		return nil, err
	}
	key, err := findBaseline(ctx, api, r.o.ExpectedOwner, loc, rep.Scan.OrganizationID, rep.Scan.StartedAt)
	if err != nil {
		return nil, fatalf("baseline: %w", err)
	}
	if key == "" {
		r.log.Warn("no earlier report under the baseline prefix; nothing to compare", "baseline", output.Sanitize(r.o.Baseline))
		return nil, nil
	}
	obj := &s3Location{Bucket: loc.Bucket, Key: key}
	uri := obj.String()
	old, metadata, err := readS3Report(ctx, api, r.o.ExpectedOwner, obj)
	if err != nil {
		return nil, fatalf("baseline: %w", err)
	}
	if err := checkBaseline(uri, key, old, metadata, rep.Scan); err != nil {
		return nil, &fatalError{err: err}
	}
	d := diff.Compare(old, diff.FromReport(rep))
	r.log.Info("compared with baseline", "baseline", output.Sanitize(uri), "changed", d.Counts.Changed, "with_new_findings", d.Counts.WithNewFindings)
	if err := diff.Write(r.env.streams.ErrOut, d, diff.OutputTable); err != nil {
		return nil, fmt.Errorf("write the baseline diff: %w", err)
	}
	return d, nil
}

// summarize tells on stderr how the scan went: the NDJSON stream carries no
// scan block, and a table reader wants the counts at a glance.
func (r *scanRun) summarize(rep *scan.Report, res *scan.Result) {
	c := rep.Scan.Counts
	attrs := []any{"organization", rep.Scan.OrganizationID, "listed", c.Listed, "scanned", c.Scanned, "skipped", c.Skipped,
		"errors", c.Errors, "not_scanned", c.NotScanned, "with_findings", c.WithFindings,
		"complete", rep.Scan.Complete, "elapsed", rep.Scan.FinishedAt.Sub(rep.Scan.StartedAt).Round(time.Millisecond).String()}
	if c.OUsNotListed > 0 {
		attrs = append(attrs, "ous_not_listed", c.OUsNotListed)
	}
	if c.DetailsErrors > 0 {
		attrs = append(attrs, "details_errors", c.DetailsErrors)
	}
	switch {
	case res.Interrupted:
		r.log.Warn("scan interrupted: the report is partial", attrs...)
	case !rep.Scan.Complete:
		attrs = append(attrs, "incomplete", strings.Join(rep.Scan.IncompleteReasons, ","))
		r.log.Warn("scan incomplete: the report says which accounts or OUs are missing and why", attrs...)
		for _, f := range rep.Scan.OUsNotListed {
			r.log.Warn("an OU could not be listed; the accounts below it are missing", "ou", f.ID, "path", f.Path,
				"listing", f.Listing, "error_code", f.ErrorCode, "error", f.Error)
		}
	default:
		r.log.Info("scan complete", attrs...)
	}
}

func newLogger(w io.Writer, format string, quiet, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: sanitizeAttr}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// sanitizeAttr cleans the text a log record carries, errors included. The
// stream under the logger cleans every byte already (see Streams); this
// keeps a JSON log clean once decoded too (jq -r), where an escaped ESC
// would come back to life.
func sanitizeAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(output.Sanitize(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(output.Sanitize(err.Error()))
		}
	}
	return a
}

// oneLine folds an error onto one line for the terminal.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
