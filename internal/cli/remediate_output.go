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
// on stdout line by line as the accounts complete, every other target
// whole at the end through its sink (local files atomic and 0600, uploads
// with a local fallback).
type remediationOutputs struct {
	run *remediateRun
	s3  sink.ObjectPutter
	// stream is NDJSON on stdout, fed as accounts complete.
	stream output.RemediationWriter
}

// start opens the stream for the accounts to come.
func (o *remediationOutputs) start() error {
	for _, t := range o.run.o.targets {
		if t.stdout && t.format == output.FormatNDJSON {
			w, err := output.NewRemediation(t.format, o.run.env.streams.Out, o.options(t))
			if err != nil {
				return &usageError{msg: err.Error()}
			}
			o.stream = w
		}
	}
	return nil
}

// account streams one finished account.
func (o *remediationOutputs) account(a *remediate.Account) error {
	if o.stream == nil {
		return nil
	}
	return o.stream.WriteAccount(a)
}

// abort drops the stream of a run that ended without a report.
func (o *remediationOutputs) abort() { o.stream = nil }

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
