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
)

const diffHelp = `Usage: orgscan diff [flags] OLD NEW

Compares two orgscan reports (JSON or NDJSON, detected from the content),
each a local path or an s3:// object: findings that appeared or were
resolved, accounts that joined or left, status, OU and state changes.

  -f, --format F        table, json or markdown (default table)
  --fail-on C           new-findings, any-change or none (default new-findings):
                        exit 4 when the condition holds
  --profile, --region, --endpoint-url   for s3:// sources
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
		format, profile, region, endpoint string
		failOn                            = diff.FailOnNewFindings
	)
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&format, "format", diff.OutputTable, "")
	fs.StringVar(&format, "f", diff.OutputTable, "")
	fs.Var(&failOn, "fail-on", "")
	fs.StringVar(&profile, "profile", "", "")
	fs.StringVar(&region, "region", "", "")
	fs.StringVar(&endpoint, "endpoint-url", "", "")
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
	if fs.NArg() != 2 {
		fmt.Fprintln(env.streams.ErrOut, "orgscan diff: give two reports, OLD and NEW (local paths or s3:// URIs)")
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
			api = newS3Client(cfg)
		}
		doc, err := readReport(ctx, api, src)
		if err != nil {
			fmt.Fprintf(env.streams.ErrOut, "orgscan diff: %s\n", oneLine(err.Error()))
			var ue *usageError
			if errors.As(err, &ue) {
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
	if d.Fails(failOn) {
		return exitFindings
	}
	return exitOK
}

// readReport reads a report from a local path or S3. A file that is not a
// report it can read is bad input (exit 2); a failed download is not.
func readReport(ctx context.Context, api s3Reader, src string) (*diff.Document, error) {
	var r io.ReadCloser
	if strings.HasPrefix(src, "s3:") {
		loc, err := parseS3URI(src)
		if err != nil {
			return nil, &usageError{msg: err.Error()}
		}
		out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		r = out.Body
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, usagef("read %s: %v: give the path of an orgscan JSON or NDJSON report", src, unwrapPathError(err))
		}
		r = f
	}
	defer r.Close()
	doc, err := diff.Read(io.LimitReader(r, maxReportBytes))
	if err != nil {
		return nil, usagef("%s: %v", src, err)
	}
	doc.Source = src
	return doc, nil
}

// findBaseline finds the newest report under prefix, in the partition
// layout uploads use, that started before the given scan. It lists keys
// under the organization's partition only; no report is downloaded.
func findBaseline(ctx context.Context, api s3Reader, prefix *s3Location, orgID string, before time.Time) (string, error) {
	var best string
	var bestTime time.Time
	// Keys carry whole seconds: the report this very scan uploaded has the
	// scan's own second and must not be its own baseline.
	before = before.Truncate(time.Second)
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{
		Bucket: aws.String(prefix.Bucket),
		Prefix: aws.String(prefix.Key + "org=" + orgID + "/"),
	})
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
