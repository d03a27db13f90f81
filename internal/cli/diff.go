package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/orgscan/orgscan/internal/sink"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/diff"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// maxReportBytes bounds a report read from S3 or disk.
const maxReportBytes = 1 << 30

// s3Reader is what reading reports from S3 needs.
type s3Reader interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Enumerated diff flags: validation, help and completion read these.
var (
	diffFormats  = enum(diff.Formats())
	failOnValues = enum{string(diff.FailOnNewFindings), string(diff.FailOnAnyChange), string(diff.FailOnNone)}
)

// diffOptions are the flags and arguments of `orgscan diff`.
type diffOptions struct {
	Format        string
	FailOn        string
	FailSeverity  string
	Profile       string
	Region        string
	EndpointURL   string
	ExpectedOwner string
	OwnerTag      string
	Sources       []string // OLD and NEW

	failOn diff.FailOn
	failAt scan.Severity
}

// newCmdDiff is `orgscan diff`. runF, when not nil, receives the parsed and
// validated options instead of the diff running.
func newCmdDiff(env *runEnv, runF func(*diffOptions) error) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [flags] OLD NEW",
		Short: "compare two reports (local paths or s3:// URIs)",
		Long: `Compares two orgscan reports (JSON or NDJSON, detected from the content),
each a local path or an s3:// object: findings that appeared or were
resolved, accounts that joined or left, status, OU and state changes.
As markdown, findings are listed per owner, one section each.
`,
		// Reports are files: completion offers file names.
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Sources = args
			if err := o.complete(cmd.Flags()); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return exited(diffRun(cmd.Context(), *env, o))
		},
	}
	configure(cmd)
	d := newFlagDefs(cmd)
	d.stringFlag(&o.Format, "format", "f", "F", diff.OutputTable, diffFormats.String()+" (default table)").oneOf(diffFormats)
	d.stringFlag(&o.FailOn, "fail-on", "", "C", string(diff.FailOnNewFindings),
		failOnValues.String()+" (default new-findings):\nexit 4 when the condition holds").oneOf(failOnValues)
	d.stringFlag(&o.FailSeverity, "fail-severity", "", "S", string(scan.SeverityLow),
		"with new-findings, count only findings of severity S\nor more: "+severityLevels.String()+"\n(default low)").oneOf(severityLevels)
	d.stringFlag(&o.OwnerTag, "owner-tag", "", "KEY", "",
		"with markdown, an account's owner is its tag KEY\n(default: its security contact, else unowned)")
	d.stringFlag(&o.ExpectedOwner, "expected-bucket-owner", "", "ID", "", "refuse an s3:// source in a bucket of another account")
	d.stringFlag(&o.Profile, "profile", "", "NAME", "", "AWS profile, for s3:// sources")
	d.stringFlag(&o.Region, "region", "", "R", "",
		"AWS region, for s3:// sources (each bucket is read\nin its own region, whatever --region says)")
	d.stringFlag(&o.EndpointURL, "endpoint-url", "", "URL", "", "AWS endpoint, for s3:// sources")
	return cmd
}

// complete validates the parsed flags and arguments. Every error is a
// usageError naming the input and the fix.
func (o *diffOptions) complete(fs *pflag.FlagSet) error {
	if err := diff.CheckFormat(o.Format); err != nil {
		return &usageError{msg: err.Error()}
	}
	if !failOnValues.has(o.FailOn) {
		return usagef("unknown --fail-on value %q: use %s", truncate(o.FailOn, 32), failOnValues)
	}
	o.failOn = diff.FailOn(o.FailOn)
	failAt, err := parseFailSeverity(o.FailSeverity)
	if err != nil {
		return err
	}
	o.failAt = failAt
	if fs.Changed("fail-severity") && o.failOn != diff.FailOnNewFindings {
		return usagef("--fail-severity applies to --fail-on new-findings, not %s: drop one", o.failOn)
	}
	if fs.Changed("owner-tag") {
		if err := scan.CheckTagKey(o.OwnerTag); err != nil {
			return usagef("--owner-tag: %v", err)
		}
		if o.Format != diff.OutputMarkdown {
			return usagef("--owner-tag groups the markdown output by owner, not %s: add -f markdown or drop it", o.Format)
		}
	}
	if len(o.Sources) != 2 {
		return usagef("give two reports, OLD and NEW (local paths or s3:// URIs)")
	}
	if o.ExpectedOwner != "" && !accountIDPattern.MatchString(o.ExpectedOwner) {
		return usagef("--expected-bucket-owner %q is not a 12-digit account id", o.ExpectedOwner)
	}
	for _, src := range o.Sources {
		if strings.HasPrefix(src, "s3:") {
			if _, err := parseS3URI(src); err != nil {
				return &usageError{msg: err.Error()}
			}
		}
	}
	return nil
}

// diffRun compares the two reports and returns the exit status.
func diffRun(ctx context.Context, env runEnv, o *diffOptions) int {
	err := diffReports(ctx, env, o)
	reportError(env.streams.ErrOut, "orgscan diff", err)
	return exitCode(err)
}

// diffReports compares the two reports: a report that cannot be fetched is
// fatal (readError), one that is not a report orgscan reads is bad input.
func diffReports(ctx context.Context, env runEnv, o *diffOptions) error {
	var api s3Reader
	docs := make([]*diff.Document, 2)
	for i, src := range o.Sources {
		if strings.HasPrefix(src, "s3:") && api == nil {
			cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{Profile: o.Profile, Region: o.Region, EndpointURL: o.EndpointURL, Credentials: env.credentials})
			if err != nil {
				return scan.StageError(scan.StageConfig, err, "")
			}
			cfg.Logger = env.streams.sdkLogger(false)
			api = newS3Client(cfg)
		}
		doc, err := readReport(ctx, api, o.ExpectedOwner, src)
		if err != nil {
			return err
		}
		docs[i] = doc
	}
	d := diff.Compare(docs[0], docs[1])
	if err := diff.WriteWith(env.streams.Out, d, o.Format, diff.WriteOptions{OwnerTag: o.OwnerTag}); err != nil {
		return &fatalError{err: fmt.Errorf("write: %w", err)}
	}
	if d.FailsAt(o.failOn, o.failAt) {
		return errFindings
	}
	return nil
}

// readReport reads a report from a local path or S3; an S3 object only from
// a bucket of expectedOwner when that is set. A file that is not a report it
// can read is bad input (exit 2); a failed download is not.
func readReport(ctx context.Context, api s3Reader, expectedOwner, src string) (*diff.Document, error) {
	if strings.HasPrefix(src, "s3:") {
		loc, err := parseS3URI(src)
		if err != nil {
			return nil, &usageError{msg: err.Error()}
		}
		doc, _, err := readS3Report(ctx, api, expectedOwner, loc)
		return doc, err
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, usagef("read %s: %v: give the path of an orgscan JSON or NDJSON report", src, unwrapPathError(err))
	}
	defer f.Close()
	doc, err := diff.Read(io.LimitReader(f, maxReportBytes))
	if err != nil {
		return nil, usagef("%s: %v", src, err)
	}
	doc.Source = src
	return doc, nil
}

// readS3Report reads a report object and the metadata of its upload. A
// failed download is a read failure (exit 1), whatever S3 said.
func readS3Report(ctx context.Context, api s3Reader, expectedOwner string, loc *s3Location) (*diff.Document, map[string]string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)}
	if expectedOwner != "" {
		in.ExpectedBucketOwner = aws.String(expectedOwner)
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		return nil, nil, &readError{err: fmt.Errorf("read %s: %w", output.Sanitize(loc.String()), err)}
	}
	defer out.Body.Close()
	body := &downloadReader{r: out.Body}
	doc, err := diff.Read(io.LimitReader(body, maxReportBytes))
	switch {
	case body.err != nil:
		// The download broke off: that is no verdict on the report.
		return nil, nil, &readError{err: fmt.Errorf("read %s: %w", output.Sanitize(loc.String()), body.err)}
	case err != nil:
		return nil, nil, usagef("%s: %v", output.Sanitize(loc.String()), err)
	}
	doc.Source = loc.String()
	return doc, out.Metadata, nil
}

// downloadReader remembers the first error of the connection under it, so
// that a download cut short is not taken for a malformed report.
type downloadReader struct {
	r   io.Reader
	err error
}

func (d *downloadReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF && d.err == nil {
		d.err = err
	}
	return n, err
}

// readError is a report that could not be fetched (exit 1), unlike one that
// was fetched and is not a report orgscan can read (bad input, exit 2).
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// findBaseline finds the newest report under prefix, in the partition
// layout uploads use, that started before the given scan. It lists keys
// under the organization's partition only, in a bucket of expectedOwner
// when that is set; no report is downloaded.
func findBaseline(ctx context.Context, api s3Reader, expectedOwner string, prefix *s3Location, orgID string, before time.Time) (string, error) {
	var best string
	var bestTime time.Time
	// Keys carry whole seconds: the report this very scan uploaded has the
	// scan's own second and must not be its own baseline.
	before = before.Truncate(time.Second)
	in := &s3.ListObjectsV2Input{
		Bucket: aws.String(prefix.Bucket),
		Prefix: aws.String(sink.ReportKey{Prefix: prefix.Key, OrgID: orgID}.OrgPartition()),
	}
	if expectedOwner != "" {
		in.ExpectedBucketOwner = aws.String(expectedOwner)
	}
	p := s3.NewListObjectsV2Paginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list earlier reports under %s: %w", prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			k, ok := baselineKey(key)
			if !ok || k.Prefix != prefix.Key || k.OrgID != orgID || !k.Started.Before(before) {
				continue
			}
			if best == "" || k.Started.After(bestTime) {
				best, bestTime = key, k.Started
			}
		}
	}
	return best, nil
}

// baselineKey reads an uploaded report's key (see sink.ReportKey); only
// JSON and NDJSON reports, which diff reads, qualify as a baseline.
func baselineKey(key string) (sink.ReportKey, bool) {
	k, ok := sink.ParseReportKey(key)
	switch {
	case !ok:
		return sink.ReportKey{}, false
	case k.Ext == output.Extension(output.FormatJSON), k.Ext == output.Extension(output.FormatNDJSON), k.Ext == ".jsonl":
		return k, true
	}
	return sink.ReportKey{}, false
}

// baselineTrustError refuses a baseline whose own provenance contradicts
// where it was found: a report of another organization, or of a scan that
// did not run before this one, planted or copied under the prefix. Using it
// could hide findings that are new.
type baselineTrustError struct {
	uri    string
	reason string
}

func (e *baselineTrustError) Error() string {
	return fmt.Sprintf("baseline %s refused: %s; remove it from the baseline prefix, or check who can write there",
		output.Sanitize(e.uri), e.reason)
}

// checkBaseline makes sure the report at uri is what its key says and an
// earlier scan of the same organization: by its scan block, or for NDJSON,
// which has none, by the metadata its upload set.
func checkBaseline(uri, key string, doc *diff.Document, metadata map[string]string, cur scan.Meta) error {
	orgID, started := "", time.Time{}
	switch {
	case doc.Scan != nil:
		orgID, started = doc.Scan.OrganizationID, doc.Scan.StartedAt
	case metadata[sink.MetadataOrgID] != "" && metadata[sink.MetadataStartedAt] != "":
		orgID = metadata[sink.MetadataOrgID]
		t, err := time.Parse(time.RFC3339, metadata[sink.MetadataStartedAt])
		if err != nil {
			return &baselineTrustError{uri: uri, reason: fmt.Sprintf("its started-at metadata %q is not a time", output.Sanitize(metadata[sink.MetadataStartedAt]))}
		}
		started = t
	default:
		return &baselineTrustError{uri: uri, reason: "it has neither a scan block nor upload metadata, so its organization and time cannot be checked"}
	}
	k, _ := baselineKey(key)
	named := k.Started
	switch {
	case orgID != cur.OrganizationID:
		return &baselineTrustError{uri: uri, reason: fmt.Sprintf("it is a report of organization %q, not of %s", output.Sanitize(orgID), cur.OrganizationID)}
	case !started.Before(cur.StartedAt):
		return &baselineTrustError{uri: uri, reason: fmt.Sprintf("its scan started at %s, not before this scan (%s)",
			started.UTC().Format(time.RFC3339), cur.StartedAt.UTC().Format(time.RFC3339))}
	case !started.UTC().Truncate(time.Second).Equal(named):
		return &baselineTrustError{uri: uri, reason: fmt.Sprintf("its scan started at %s, but its name says %s",
			started.UTC().Format(time.RFC3339), named.Format(time.RFC3339))}
	}
	return nil
}
