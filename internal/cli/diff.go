package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/diff"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

const diffHelp = `Usage: orgscan diff [flags] OLD NEW

Compares two orgscan reports (JSON or NDJSON, detected from the content),
each a local path or an s3:// object: findings that appeared or were
resolved, accounts that joined or left, status, OU and state changes.

  -f, --format F        table, json or markdown (default table)
  --fail-on C           new-findings, any-change or none (default new-findings):
                        exit 4 when the condition holds
  --fail-severity S     with new-findings, count only findings of severity S
                        or more: critical, high, medium, low or informational
                        (default low)
  --expected-bucket-owner ID   refuse an s3:// source in a bucket of another
                        account
  --profile, --region, --endpoint-url   for s3:// sources (each bucket is
                        read in its own region, whatever --region says)
`

// maxReportBytes bounds a report read from S3 or disk.
const maxReportBytes = 1 << 30

// s3Reader is what reading reports from S3 needs.
type s3Reader interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

func diffCommand(ctx context.Context, env runEnv, args []string) int {
	var (
		format, profile, region, endpoint, owner string
		failSeverity                             = string(scan.SeverityLow)
		failOn                                   = diff.FailOnNewFindings
	)
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&format, "format", diff.OutputTable, "")
	fs.StringVar(&format, "f", diff.OutputTable, "")
	fs.Var(&failOn, "fail-on", "")
	fs.StringVar(&failSeverity, "fail-severity", failSeverity, "")
	fs.StringVar(&profile, "profile", "", "")
	fs.StringVar(&region, "region", "", "")
	fs.StringVar(&endpoint, "endpoint-url", "", "")
	fs.StringVar(&owner, "expected-bucket-owner", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.streams.Out, diffHelp)
			return exitOK
		}
		fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %v (see `orgscan diff --help`)\n", err)
		return exitUsage
	}
	if err := diff.CheckFormat(format); err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %v\n", err)
		return exitUsage
	}
	failAt, err := parseFailSeverity(failSeverity)
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %v\n", output.Sanitize(err.Error()))
		return exitUsage
	}
	severitySet := false
	fs.Visit(func(f *flag.Flag) { severitySet = severitySet || f.Name == "fail-severity" })
	if severitySet && failOn != diff.FailOnNewFindings {
		fmt.Fprintf(env.streams.ErrOut, "orgscan diff: --fail-severity applies to --fail-on new-findings, not %s: drop one\n", failOn)
		return exitUsage
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(env.streams.ErrOut, "orgscan diff: give two reports, OLD and NEW (local paths or s3:// URIs)")
		return exitUsage
	}
	if owner != "" && !accountIDPattern.MatchString(owner) {
		fmt.Fprintf(env.streams.ErrOut, "orgscan diff: --expected-bucket-owner %q is not a 12-digit account id\n", output.Sanitize(owner))
		return exitUsage
	}
	sources := fs.Args()
	for _, src := range sources {
		if strings.HasPrefix(src, "s3:") {
			if _, err := parseS3URI(src); err != nil {
				fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %v\n", err)
				return exitUsage
			}
		}
	}

	var api s3Reader
	docs := make([]*diff.Document, 2)
	for i, src := range sources {
		if strings.HasPrefix(src, "s3:") && api == nil {
			cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{Profile: profile, Region: region, EndpointURL: endpoint, Credentials: env.credentials})
			if err != nil {
				fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %v\n", err)
				return exitFatal
			}
			cfg.Logger = env.streams.sdkLogger(false)
			api = newS3Client(cfg)
		}
		doc, err := readReport(ctx, api, owner, src)
		if err != nil {
			fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %s\n", oneLine(err.Error()))
			var ue *usageError
			var re *readError
			if !errors.As(err, &re) && errors.As(err, &ue) {
				return exitUsage
			}
			return exitFatal
		}
		docs[i] = doc
	}
	d := diff.Compare(docs[0], docs[1])
	if err := diff.Write(env.streams.Out, d, format); err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan diff: write: %v\n", err)
		return exitFatal
	}
	if d.FailsAt(failOn, failAt) {
		return exitFindings
	}
	return exitOK
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
		Prefix: aws.String(prefix.Key + "org=" + orgID + "/"),
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
			t, ok := reportTime(key)
			if !ok || !t.Before(before) {
				continue
			}
			if best == "" || t.After(bestTime) {
				best, bestTime = key, t
			}
		}
	}
	return best, nil
}

// reportTime reads the scan time from an uploaded report's name,
// orgscan-20261130T210405Z.json; only JSON and NDJSON reports qualify.
func reportTime(key string) (time.Time, bool) {
	name := path.Base(key)
	ext := path.Ext(name)
	switch ext {
	case ".json", ".ndjson", ".jsonl":
	default:
		return time.Time{}, false
	}
	stamp, ok := strings.CutPrefix(strings.TrimSuffix(name, ext), "orgscan-")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", stamp)
	return t, err == nil
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
	case metadata["org-id"] != "" && metadata["started-at"] != "":
		orgID = metadata["org-id"]
		t, err := time.Parse(time.RFC3339, metadata["started-at"])
		if err != nil {
			return &baselineTrustError{uri: uri, reason: fmt.Sprintf("its started-at metadata %q is not a time", output.Sanitize(metadata["started-at"]))}
		}
		started = t
	default:
		return &baselineTrustError{uri: uri, reason: "it has neither a scan block nor upload metadata, so its organization and time cannot be checked"}
	}
	named, _ := reportTime(key)
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
