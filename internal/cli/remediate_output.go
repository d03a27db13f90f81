package cli

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/orgscan/orgscan/internal/sink"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/remediate"
)

// Stems of an uploaded remediation document's name under an S3 prefix (see
// sink.ReportKey): a plan and an apply's evidence apart, and neither one
// taken for a scan report when a baseline is looked for.
const (
	planName     = "remediation-plan"
	evidenceName = "remediation"
)

// remediationOutputs deliver a remediation report to the targets: NDJSON
// on stdout and in local files line by line as the accounts complete,
// every other target whole at the end through its sink (local files atomic
// and 0600, uploads with a local fallback).
type remediationOutputs struct {
	run *remediateRun
	s3  sink.ObjectPutter
	// stream is NDJSON on stdout, fed as accounts complete.
	stream output.RemediationWriter
	// files are the NDJSON files, by path, fed the same way.
	files map[string]*evidenceFile
	// all is set once start found every target streaming: the report
	// need not keep its accounts.
	all bool
}

// start opens the streams for the accounts to come.
func (o *remediationOutputs) start(ctx context.Context) error {
	o.files, o.all = map[string]*evidenceFile{}, true
	for _, t := range o.run.o.targets {
		switch {
		case t.format != output.FormatNDJSON, t.s3 != nil:
			o.all = false
		case t.stdout:
			w, err := output.NewRemediation(t.format, o.run.env.streams.Out, o.options(t))
			if err != nil {
				o.abort()
				return &usageError{msg: err.Error()}
			}
			o.stream = w
		case t.path != "":
			// An interrupt ends the run, never the writing of its evidence.
			o.files[t.path] = startEvidenceFile(context.WithoutCancel(ctx), t, o.options(t))
		}
	}
	return nil
}

// account streams one finished account; the first failure stops the run.
func (o *remediationOutputs) account(a *remediate.Account) error {
	if o.stream != nil {
		if err := o.stream.WriteAccount(a); err != nil {
			return err
		}
	}
	for _, f := range o.files {
		if err := f.send(a); err != nil {
			return err
		}
	}
	return nil
}

// abort drops the streams of a run that ended without a report: their
// files are left as they were.
func (o *remediationOutputs) abort() {
	o.stream = nil
	for _, f := range o.files {
		_ = f.finish(nil) // nothing is put in place, so nothing failed to be
	}
	o.files = nil
}

// evidenceFile writes one NDJSON file as the accounts complete, as a
// scan's NDJSON files are written. Each account is flushed to the
// temporary file as it is written: should the process die, what was
// deleted is on disk.
type evidenceFile = streamFile[*remediate.Account, remediate.Report]

func startEvidenceFile(ctx context.Context, t target, opts output.Options) *evidenceFile {
	return startStreamFile(ctx, t.path, func(w io.Writer) (streamWriter[*remediate.Account, remediate.Report], error) {
		wr, err := output.NewRemediation(t.format, w, opts)
		if err != nil {
			return streamWriter[*remediate.Account, remediate.Report]{}, err
		}
		return streamWriter[*remediate.Account, remediate.Report]{write: wr.WriteAccount, close: wr.Close}, nil
	})
}

func (o *remediationOutputs) options(t target) output.Options {
	opts := output.Options{Now: o.run.env.now}
	if t.stdout {
		opts.Terminal = o.run.env.streams.IsStdoutTerminal()
		opts.Color = o.run.env.streams.ColorEnabled()
	}
	return opts
}

// write delivers the report to every target. A failure of one never stops
// the others: the evidence of deletions that were made must land wherever
// it can.
func (o *remediationOutputs) write(ctx context.Context, rep *remediate.Report) error {
	var errs []error
	what := "plan"
	if rep.Remediation.Mode == remediate.ModeApply {
		what = "evidence"
	}
	for _, t := range o.run.o.targets {
		render := func(w io.Writer) error {
			wr, err := output.NewRemediation(t.format, w, o.options(t))
			if err != nil {
				return err
			}
			return wr.Close(rep)
		}
		obj := remediationObject(rep, t.format)
		var (
			d   sink.Delivery
			err error
		)
		switch {
		case t.stdout && o.stream != nil:
			err = o.stream.Close(rep)
			o.stream = nil
		case o.files[t.path] != nil:
			err = o.files[t.path].finish(rep)
			delete(o.files, t.path)
			if err == nil {
				o.run.log.Info(what+" written", "path", output.Sanitize(t.path), "format", t.format)
			}
		case t.stdout:
			_, err = sink.StreamSink{W: o.run.env.streams.Out}.Deliver(ctx, obj, render)
		case t.path != "":
			d, err = sink.FileSink{Path: t.path}.Deliver(ctx, obj, render)
			if err == nil {
				o.run.log.Info(what+" written", "path", d.Location, "format", t.format)
			}
		case t.s3 != nil:
			d, err = sink.S3Sink{
				API: o.s3, Bucket: t.s3.Bucket, Key: t.s3.Key, Prefix: t.s3.Prefix,
				SSE: o.run.o.SSE, KMSKeyID: o.run.o.SSEKMSKeyID, ExpectedBucketOwner: o.run.o.ExpectedOwner,
				FallbackDir: o.run.env.fallbackDir,
			}.Deliver(ctx, obj, render)
			if ue := (*sink.UploadError)(nil); errors.As(err, &ue) {
				err = &fatalError{err: err}
			}
			if err == nil {
				o.run.log.Info(what+" uploaded", "uri", d.Location, "version_id", output.Sanitize(d.VersionID),
					"checksum_sha256", d.ChecksumSHA256, "format", t.format)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// remediationObject is what an upload needs to know about a remediation
// report: where it goes under a prefix, and metadata that tells what it
// holds without downloading it.
func remediationObject(rep *remediate.Report, format string) sink.Object {
	m := rep.Remediation
	name := evidenceName
	if m.Mode == remediate.ModePlan {
		name = planName
	}
	return sink.Object{
		OrgID:       m.OrganizationID,
		Started:     m.StartedAt,
		Name:        name,
		Ext:         output.Extension(format),
		ContentType: output.ContentType(format),
		Metadata: map[string]string{
			sink.MetadataOrgID:     m.OrganizationID,
			sink.MetadataStartedAt: m.StartedAt.UTC().Format(time.RFC3339),
			"kind":                 remediate.ReportKind,
			"mode":                 m.Mode,
			"schema-version":       rep.SchemaVersion,
			"orgscan-version":      m.Version,
			"plan-digest":          m.Plan.Digest,
			"complete":             strconv.FormatBool(m.Complete),
			"accounts":             strconv.Itoa(m.Counts.Accounts),
		},
	}
}
