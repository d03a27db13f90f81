package output

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// Sinks move a rendered report to where it goes: a stream (stdout), a local
// file or an S3 object, with a local fallback file when an upload fails.
// They never render: Deliver takes the report's bytes from a render
// function, so every format goes everywhere, and the renderers never learn
// where their bytes end up. Only S3Sink reads the report itself, for its
// key, its metadata and the name of its fallback file; the others accept a
// nil one.

// Delivery says where a report landed.
type Delivery struct {
	// Location is the file's path or the object's s3:// URI, sanitized.
	Location string
	// VersionID and ChecksumSHA256 are what S3 confirmed for an upload.
	VersionID, ChecksumSHA256 string
}

// StreamSink writes a report to a stream as it is rendered.
type StreamSink struct{ W io.Writer }

// Deliver writes what render produces to the stream.
func (s StreamSink) Deliver(_ context.Context, _ *scan.Report, _ string, render func(io.Writer) error) (Delivery, error) {
	return Delivery{}, render(s.W)
}

// FileSink replaces a local file atomically, readable by its owner only:
// reports hold account emails. See writeFileAtomic.
type FileSink struct{ Path string }

// Deliver writes what render produces to the file.
func (s FileSink) Deliver(_ context.Context, _ *scan.Report, _ string, render func(io.Writer) error) (Delivery, error) {
	if err := writeFileAtomic(s.Path, 0o600, render); err != nil {
		return Delivery{}, err
	}
	return Delivery{Location: Sanitize(s.Path)}, nil
}

// S3Sink uploads a report with server-side encryption and the metadata of
// reportMetadata. A report that cannot be uploaded is kept in a local
// fallback file (see writeFallback), and the error says where.
type S3Sink struct {
	API    ObjectPutter
	Bucket string
	// Key is the object's key or, with Prefix set, the prefix under which
	// ReportKey names the report.
	Key    string
	Prefix bool
	// SSE is AES256 or aws:kms; KMSKeyID optionally names the key.
	SSE, KMSKeyID string
	// ExpectedBucketOwner makes S3 refuse a bucket of another account.
	ExpectedBucketOwner string
	// FallbackDir receives a report whose upload failed; "" is the working
	// directory.
	FallbackDir string
}

// Deliver renders the report in memory, in format, and uploads it.
func (s S3Sink) Deliver(ctx context.Context, rep *scan.Report, format string, render func(io.Writer) error) (Delivery, error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return Delivery{}, err
	}
	key := s.Key
	if s.Prefix {
		key = ReportKey{Prefix: s.Key, OrgID: rep.Scan.OrganizationID, Started: rep.Scan.StartedAt, Ext: Extension(format)}.String()
	}
	uri := "s3://" + s.Bucket + "/" + key
	res, err := upload(ctx, s.API, uploadInput{
		Bucket: s.Bucket, Key: key, Body: buf.Bytes(), ContentType: contentType(format),
		SSE: s.SSE, KMSKeyID: s.KMSKeyID, ExpectedBucketOwner: s.ExpectedBucketOwner,
		Metadata: reportMetadata(rep),
	})
	if err != nil {
		ue := &UploadError{URI: uri, Err: err}
		ue.Fallback, ue.FallbackErr = writeFallback(cmp.Or(s.FallbackDir, "."), rep.Scan.StartedAt, Extension(format), buf.Bytes())
		return Delivery{}, ue
	}
	return Delivery{Location: Sanitize(uri), VersionID: res.VersionID, ChecksumSHA256: res.ChecksumSHA256}, nil
}

// UploadError is a failed upload and what became of the report: kept in
// the local file Fallback, or lost with it when FallbackErr is set.
type UploadError struct {
	URI         string
	Err         error
	Fallback    string
	FallbackErr error
}

func (e *UploadError) Error() string {
	// The key holds the organization id, and S3's message is the
	// endpoint's text: neither is printed raw.
	uri, cause := Sanitize(e.URI), Sanitize(e.Err.Error())
	if e.FallbackErr != nil {
		return fmt.Sprintf("upload to %s failed: %s; the local fallback failed too: %v", uri, cause, e.FallbackErr)
	}
	return fmt.Sprintf("upload to %s failed: %s; the report is saved in %s", uri, cause, e.Fallback)
}

func (e *UploadError) Unwrap() error { return e.Err }

// ReportKey is the one layout of uploaded reports under a prefix, in
// Hive-style partitions that Athena can prune:
//
//	<prefix>org=<organization id>/date=<YYYY-MM-DD>/orgscan-<YYYYMMDDTHHMMSSZ><ext>
//
// String writes a key and ParseReportKey reads one back, so that a baseline
// is found where uploads put it.
type ReportKey struct {
	Prefix string
	OrgID  string
	// Started is the scan's start; the key holds it in whole UTC seconds.
	Started time.Time
	// Ext is the format's extension, with its dot.
	Ext string
}

const (
	reportKeyName  = "orgscan-"
	reportKeyStamp = "20060102T150405Z"
)

// String is the object key.
func (k ReportKey) String() string {
	t := k.Started.UTC()
	return k.OrgPartition() + "date=" + t.Format(time.DateOnly) + "/" + reportKeyName + t.Format(reportKeyStamp) + k.Ext
}

// OrgPartition is the prefix under which every report of the organization
// lies, for listing them.
func (k ReportKey) OrgPartition() string {
	return k.Prefix + "org=" + k.OrgID + "/"
}

// ParseReportKey reads back a key that String wrote: the prefix, the
// organization, and from the object's name, which must be exactly as String
// writes it, the scan's time and the format. The date partition only serves
// Athena and is not read; the name's timestamp is the finer of the two.
func ParseReportKey(key string) (ReportKey, bool) {
	rest, name := path.Split(key)
	rest, ok := strings.CutSuffix(rest, "/")
	if !ok {
		return ReportKey{}, false
	}
	rest, date := path.Split(rest)
	if !strings.HasPrefix(date, "date=") {
		return ReportKey{}, false
	}
	prefix, org := path.Split(strings.TrimSuffix(rest, "/"))
	orgID, ok := strings.CutPrefix(org, "org=")
	if !ok || orgID == "" {
		return ReportKey{}, false
	}
	ext := path.Ext(name)
	stamp, ok := strings.CutPrefix(strings.TrimSuffix(name, ext), reportKeyName)
	if !ok {
		return ReportKey{}, false
	}
	t, err := time.Parse(reportKeyStamp, stamp)
	if err != nil {
		return ReportKey{}, false
	}
	return ReportKey{Prefix: prefix, OrgID: orgID, Started: t, Ext: ext}, true
}

// Object metadata that an upload sets and a baseline check reads back.
const (
	MetadataOrgID     = "org-id"
	MetadataStartedAt = "started-at"
)

// reportMetadata is the object metadata of an uploaded report: enough to
// tell what an object holds without downloading it.
func reportMetadata(rep *scan.Report) map[string]string {
	c := rep.Scan.Counts
	return map[string]string{
		MetadataOrgID:            rep.Scan.OrganizationID,
		"schema-version":         SchemaVersion,
		"orgscan-version":        rep.Scan.Version,
		MetadataStartedAt:        rep.Scan.StartedAt.UTC().Format(time.RFC3339),
		"complete":               strconv.FormatBool(rep.Scan.Complete),
		"accounts-listed":        strconv.Itoa(c.Listed),
		"accounts-scanned":       strconv.Itoa(c.Scanned),
		"accounts-errors":        strconv.Itoa(c.Errors),
		"accounts-with-findings": strconv.Itoa(c.WithFindings),
		// Row formats (CSV, NDJSON) carry no scan block: the object's
		// metadata says why a report is incomplete.
		"incomplete-reasons": strings.Join(rep.Scan.IncompleteReasons, ","),
		"ous-not-listed":     strconv.Itoa(c.OUsNotListed),
	}
}
