package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgscan/orgscan/internal/sink"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/diff"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

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

// scanRun is one execution of `orgscan scan`: flags become an
// orgscan.Config, and the report goes to the targets. The pipeline itself
// is pkg/orgscan's.
type scanRun struct {
	env runEnv
	o   *scanOptions
	log *slog.Logger
	// resolved are the baseline's findings this scan no longer sees.
	resolved []output.ResolvedFinding
}

// runScan runs a scan end to end and returns the exit status.
func runScan(ctx context.Context, env runEnv, o *scanOptions) int {
	r := &scanRun{env: env, o: o, log: newLogger(env.streams.ErrOut, o.LogFormat, o.Quiet, o.Debug)}
	err := r.run(ctx)
	reportError(env.streams.ErrOut, "orgscan", err)
	return exitCode(err)
}

func (r *scanRun) run(sigCtx context.Context) error {
	// Interrupts end the scan, never the writing of what it gathered.
	ctx := context.WithoutCancel(sigCtx)
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

	streams, err := r.openStreams(ctx)
	if err != nil {
		return err
	}
	prog := newProgress(r.env.streams, r.o.Quiet, r.env.now)
	defer prog.stop()
	// The zero severity (options not validated) lets every finding fail.
	failAt := r.o.failAt
	findingsFail := false
	rep, scanErr := orgscan.Run(sigCtx, orgscan.Config{
		AWS: cfg,
		Access: orgscan.Access{
			Method: r.o.Access, RoleName: r.o.RoleName, RoleARNTemplate: r.o.RoleARNTemplate,
			ExternalID: r.o.ExternalID, SessionName: r.o.SessionName, Duration: r.o.Duration,
		},
		Filter:          scan.Filter{OUs: r.o.OUs, ExcludeOUs: r.o.ExcludeOUs, Accounts: r.o.Accounts, ExcludeAccounts: r.o.ExcludeAccounts},
		IncludeInactive: r.o.IncludeInactive,
		Concurrency:     r.o.Concurrency,
		AccountTimeout:  r.o.AccountTimeout,
		Details:         r.o.Details,
		Thresholds:      scan.Thresholds{RecentDays: r.o.RecentDays, MaxAgeDays: r.o.MaxAgeDays},
		Tags:            r.o.Tags,
		Contacts:        r.o.Contacts,
		Version:         r.env.version,
		Now:             r.env.now,
		OnStart: func(meta scan.Meta, methods []string) {
			r.log.Info("scan starting", "organization", meta.OrganizationID, "caller", meta.CallerARN,
				"access", strings.Join(methods, ","), "concurrency", r.o.Concurrency)
			streams.start(meta)
		},
		OnAccount: prog.discovered,
		OnRow: func(row *scan.Row) error {
			// The library names the fix as data; the command line words
			// it with its flags.
			row.Error += rowAdvice(row.Hint)
			findingsFail = findingsFail || scan.AnyAtLeast(row.Findings, failAt)
			prog.done(row)
			return streams.writeRow(row)
		},
		DiscardRows: streams.all && r.o.Baseline == "",
		// The command only writes the report (and diffs it): no output
		// needs the rows as a slice.
		CompactRows: true,
	})
	prog.stop()
	if rep == nil {
		streams.abort()
		if sigCtx.Err() != nil {
			return &interruptedError{err: errors.New("interrupted before any account was listed; no report written")}
		}
		return scanErr
	}

	s3Client := newS3Client(cfg)
	// The baseline comes first: the ocsf formats close the findings it had
	// that this scan no longer sees. A baseline that fails is reported
	// after the outputs are written; it never costs them.
	var baselineErr error
	if r.o.Baseline != "" {
		d, err := r.compareBaseline(ctx, s3Client, rep)
		if err != nil {
			baselineErr = err
		} else if d != nil {
			// Against a baseline, only what is new fails the run.
			findingsFail = d.HasNewFindingsAtLeast(failAt)
			r.resolved = resolvedFindings(d)
		}
	}
	writeErr := errors.Join(r.writeOutputs(ctx, rep, streams, s3Client), baselineErr)
	r.summarize(rep)

	switch {
	case rep.Scan.Interrupted && writeErr != nil:
		return &interruptedError{err: writeErr}
	case rep.Scan.Interrupted:
		return errInterrupted
	case scanErr != nil:
		return errors.Join(&fatalError{err: fmt.Errorf("the scan did not finish; the report holds what was gathered: %w", scanErr)}, writeErr)
	case writeErr != nil:
		return &fatalError{err: writeErr}
	case !rep.Scan.Complete:
		return errIncomplete
	case r.o.FailOnFindings && findingsFail:
		return errFindings
	}
	return nil
}

// newS3Client sends each call to its bucket's own region, whatever
// --region says. It addresses buckets virtual-host style on AWS, as AWS
// recommends, and path style against a custom endpoint (the simulator, or
// an S3-compatible store) whose host names cannot carry bucket names.
func newS3Client(cfg aws.Config) *sink.RegionalS3 {
	return sink.NewRegionalS3(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
}

// rowStreams are the outputs that take rows as they complete: the
// streaming formats on stdout and in files, written to their temporary
// file as the scan goes and put in place when it ends. Other formats sort
// their rows, and uploads are written whole at the end.
type rowStreams struct {
	stdout output.Writer
	files  map[string]*fileStream // by path
	// all is set when every target streams: the rows need not be kept.
	all bool
	// startErr is the first failure to start a stream, returned at the
	// next row.
	startErr error
}

// openStreams starts the streaming outputs.
func (r *scanRun) openStreams(ctx context.Context) (*rowStreams, error) {
	s := &rowStreams{files: map[string]*fileStream{}, all: true}
	for _, t := range r.o.targets {
		switch {
		case !output.Streams(t.format), t.s3 != nil:
			s.all = false
		case t.format != output.FormatNDJSON && r.o.Baseline != "":
			// OCSF closes the baseline's resolved findings, which are
			// known only once the scan has ended.
			s.all = false
		case t.stdout:
			w, err := output.New(t.format, r.env.streams.Out, output.Options{})
			if err != nil {
				s.abort()
				return nil, &usageError{msg: err.Error()}
			}
			s.stdout = w
		case t.path != "":
			s.files[t.path] = startFileStream(ctx, t, r.outputOptions(t))
		}
	}
	return s, nil
}

// start gives the streams that want it the scan's provenance before the
// first row (see output.Starter).
func (s *rowStreams) start(meta scan.Meta) {
	if st, ok := s.stdout.(output.Starter); ok {
		s.startErr = st.Start(meta)
	}
	for _, f := range s.files {
		if err := f.send(streamItem{meta: &meta}); err != nil && s.startErr == nil {
			s.startErr = err
		}
	}
}

// writeRow hands a row to every stream; the first failure stops the scan.
func (s *rowStreams) writeRow(row *scan.Row) error {
	if s.startErr != nil {
		return s.startErr
	}
	if s.stdout != nil {
		if err := s.stdout.WriteRow(row); err != nil {
			return err
		}
	}
	for _, f := range s.files {
		if err := f.send(streamItem{row: row}); err != nil {
			return err
		}
	}
	return nil
}

// abort ends the file streams without a report: their files are left as
// they were.
func (s *rowStreams) abort() {
	for _, f := range s.files {
		_ = f.finish(nil) // nothing was written, so nothing failed to be
	}
}

// fileStream is a streaming format's file of a scan's rows.
type fileStream = streamFile[streamItem, scan.Report]

// streamItem is a row for a file stream, or the provenance that starts it.
type streamItem struct {
	row  *scan.Row
	meta *scan.Meta
}

func startFileStream(ctx context.Context, t target, opts output.Options) *fileStream {
	return startStreamFile(ctx, t.path, func(w io.Writer) (streamWriter[streamItem, scan.Report], error) {
		wr, err := output.New(t.format, w, opts)
		if err != nil {
			return streamWriter[streamItem, scan.Report]{}, err
		}
		write := func(item streamItem) error {
			if item.meta == nil {
				return wr.WriteRow(item.row)
			}
			if st, ok := wr.(output.Starter); ok {
				return st.Start(*item.meta)
			}
			return nil
		}
		return streamWriter[streamItem, scan.Report]{write: write, close: wr.Close}, nil
	})
}

func (r *scanRun) outputOptions(t target) output.Options {
	o := output.Options{Details: r.o.Details, Now: r.env.now, Resolved: r.resolved, OwnerTag: r.o.OwnerTag, TagColumns: r.o.TagColumns}
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

// writeOutputs writes every target through its output sink. A failure of
// one never stops the others, and a failed upload leaves the report in a
// local fallback file.
func (r *scanRun) writeOutputs(ctx context.Context, rep *scan.Report, streams *rowStreams, uploader sink.ObjectPutter) error {
	var errs []error
	for _, t := range r.o.targets {
		render := func(w io.Writer) error { return r.render(t, w, rep) }
		var err error
		switch {
		case t.stdout && streams.stdout != nil:
			err = streams.stdout.Close(rep)
		case streams.files[t.path] != nil:
			err = streams.files[t.path].finish(rep)
			if err == nil {
				r.log.Info("report written", "path", t.path, "format", t.format)
			}
		case t.stdout:
			_, err = sink.StreamSink{W: r.env.streams.Out}.Deliver(ctx, sink.Object{}, render)
		case t.path != "":
			_, err = sink.FileSink{Path: t.path}.Deliver(ctx, sink.Object{}, render)
			if err == nil {
				r.log.Info("report written", "path", t.path, "format", t.format)
			}
		case t.s3 != nil:
			err = r.upload(ctx, t, rep, uploader, render)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *scanRun) upload(ctx context.Context, t target, rep *scan.Report, api sink.ObjectPutter, render func(io.Writer) error) error {
	d, err := sink.S3Sink{
		API: api, Bucket: t.s3.Bucket, Key: t.s3.Key, Prefix: t.s3.Prefix,
		SSE: r.o.SSE, KMSKeyID: r.o.SSEKMSKeyID, ExpectedBucketOwner: r.o.ExpectedOwner,
		FallbackDir: r.env.fallbackDir,
	}.Deliver(ctx, sink.ScanObject(rep, t.format), render)
	if ue := (*sink.UploadError)(nil); errors.As(err, &ue) {
		return &fatalError{err: err}
	}
	if err != nil {
		return err
	}
	r.log.Info("report uploaded", "uri", d.Location, "version_id", output.Sanitize(d.VersionID),
		"checksum_sha256", d.ChecksumSHA256, "format", t.format)
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
		return nil, &fatalError{err: fmt.Errorf("baseline: %w", err)}
	}
	if key == "" {
		r.log.Warn("no earlier report under the baseline prefix; nothing to compare", "baseline", output.Sanitize(r.o.Baseline))
		return nil, nil
	}
	obj := &s3Location{Bucket: loc.Bucket, Key: key}
	uri := obj.String()
	old, metadata, err := readS3Report(ctx, api, r.o.ExpectedOwner, obj)
	if err != nil {
		return nil, &fatalError{err: fmt.Errorf("baseline: %w", err)}
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

// resolvedFindings are the findings of the diff's accounts that the new
// scan read and no longer sees, dated by the baseline's observation.
func resolvedFindings(d *diff.Diff) []output.ResolvedFinding {
	var out []output.ResolvedFinding
	for _, c := range d.Changes {
		var seen time.Time
		switch {
		case c.Old != nil && c.Old.ScannedAt != nil:
			seen = *c.Old.ScannedAt
		case d.Old.Scan != nil:
			seen = d.Old.Scan.FinishedAt
		}
		for _, f := range c.FindingsResolved {
			out = append(out, output.ResolvedFinding{AccountID: c.AccountID, Finding: f, LastSeen: seen})
		}
	}
	return out
}

// summarize tells on stderr how the scan went: the NDJSON stream carries no
// scan block, and a table reader wants the counts at a glance.
func (r *scanRun) summarize(rep *scan.Report) {
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
	if c.TagsErrors > 0 {
		attrs = append(attrs, "tags_errors", c.TagsErrors)
	}
	if c.ContactErrors > 0 {
		attrs = append(attrs, "security_contact_errors", c.ContactErrors)
	}
	// Failed lookups leave the report complete, so they are said here.
	if c.TagsErrors > 0 {
		r.log.Warn("some accounts' tags could not be read; their rows say why (tags_error)", "accounts", c.TagsErrors)
	}
	if c.ContactErrors > 0 {
		r.log.Warn("some accounts' security contacts could not be read; their rows say why (security_contact_error)", "accounts", c.ContactErrors)
	}
	switch {
	case rep.Scan.Interrupted:
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
