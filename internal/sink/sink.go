// Package sink moves rendered documents (scan reports, remediation reports)
// to where the command line sends them: a stream (stdout), a local file
// replaced atomically, or an S3 object, with a local fallback file when an
// upload fails.
//
// Sinks never render: Deliver takes a document's bytes from a render
// function, so every format goes everywhere and the renderers of
// pkg/output never learn where their bytes end up. What an upload needs to
// know about the document (its organization and time for the key, its
// metadata, its media type) comes in an Object; ScanObject builds the one
// of a scan report. ReportKey is the one layout of uploaded documents'
// keys, written by S3Sink and read back to find a baseline.
package sink

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

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// ScanName is the stem of a scan report's object and fallback file names.
// Other documents use stems of their own, so that ParseReportKey never
// takes one of them for a scan report.
const ScanName = "orgscan"

// Object is what a sink needs to know about the document it delivers,
// beyond its bytes. Only S3Sink reads it; the other sinks accept the zero
// Object.
type Object struct {
	// OrgID and Started place the document under its organization and
	// time in the key (see ReportKey) and name its fallback file.
	OrgID   string
	Started time.Time
	// Name is the stem of the key's file name and of the fallback file's;
	// "" is ScanName.
	Name string
	// Ext is the format's extension, with its dot; ContentType its media
	// type.
	Ext, ContentType string
	// Metadata is the object metadata of an upload.
	Metadata map[string]string
}

// ScanObject is the Object of a scan report rendered in format.
func ScanObject(rep *scan.Report, format string) Object {
	return Object{
		OrgID:       rep.Scan.OrganizationID,
		Started:     rep.Scan.StartedAt,
		Name:        ScanName,
		Ext:         output.Extension(format),
		ContentType: output.ContentType(format),
		Metadata:    reportMetadata(rep),
	}
}

// Delivery says where a document landed.
type Delivery struct {
	// Location is the file's path or the object's s3:// URI, sanitized.
	Location string
	// VersionID and ChecksumSHA256 are what S3 confirmed for an upload.
	VersionID, ChecksumSHA256 string
}

// StreamSink writes a document to a stream as it is rendered.
type StreamSink struct{ W io.Writer }

// Deliver writes what render produces to the stream.
func (s StreamSink) Deliver(_ context.Context, _ Object, render func(io.Writer) error) (Delivery, error) {
	return Delivery{}, render(s.W)
}

// FileSink replaces a local file atomically, readable by its owner only:
// reports hold account emails. See writeFileAtomic.
type FileSink struct{ Path string }

// Deliver writes what render produces to the file.
func (s FileSink) Deliver(_ context.Context, _ Object, render func(io.Writer) error) (Delivery, error) {
	if err := writeFileAtomic(s.Path, 0o600, render); err != nil {
		return Delivery{}, err
	}
	return Delivery{Location: output.Sanitize(s.Path)}, nil
}

// S3Sink uploads a document with server-side encryption and its Object's
// metadata. A document that cannot be uploaded is kept in a local fallback
// file (see writeFallback), and the error says where.
type S3Sink struct {
	API    ObjectPutter
	Bucket string
	// Key is the object's key or, with Prefix set, the prefix under which
	// ReportKey names the document.
	Key    string
	Prefix bool
	// SSE is AES256 or aws:kms; KMSKeyID optionally names the key.
	SSE, KMSKeyID string
	// ExpectedBucketOwner makes S3 refuse a bucket of another account.
	ExpectedBucketOwner string
	// FallbackDir receives a document whose upload failed; "" is the
	// working directory.
	FallbackDir string
}

// Deliver renders the document in memory and uploads it.
func (s S3Sink) Deliver(ctx context.Context, obj Object, render func(io.Writer) error) (Delivery, error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return Delivery{}, err
	}
	key := s.Key
	if s.Prefix {
		key = ReportKey{Prefix: s.Key, OrgID: obj.OrgID, Started: obj.Started, Name: obj.Name, Ext: obj.Ext}.String()
	}
	uri := "s3://" + s.Bucket + "/" + key
	res, err := upload(ctx, s.API, uploadInput{
		Bucket: s.Bucket, Key: key, Body: buf.Bytes(), ContentType: obj.ContentType,
		SSE: s.SSE, KMSKeyID: s.KMSKeyID, ExpectedBucketOwner: s.ExpectedBucketOwner,
		Metadata: obj.Metadata,
	})
	if err != nil {
		ue := &UploadError{URI: uri, Err: err}
		ue.Fallback, ue.FallbackErr = writeFallback(cmp.Or(s.FallbackDir, "."), cmp.Or(obj.Name, ScanName), obj.Started, obj.Ext, buf.Bytes())
		return Delivery{}, ue
	}
	return Delivery{Location: output.Sanitize(uri), VersionID: res.VersionID, ChecksumSHA256: res.ChecksumSHA256}, nil
}

// UploadError is a failed upload and what became of the document: kept in
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
	uri, cause := output.Sanitize(e.URI), output.Sanitize(e.Err.Error())
	if e.FallbackErr != nil {
		return fmt.Sprintf("upload to %s failed: %s; the local fallback failed too: %v", uri, cause, e.FallbackErr)
	}
	return fmt.Sprintf("upload to %s failed: %s; the report is saved in %s", uri, cause, e.Fallback)
}

func (e *UploadError) Unwrap() error { return e.Err }

// ReportKey is the one layout of uploaded documents under a prefix, in
// Hive-style partitions that Athena can prune:
//
//	<prefix>org=<organization id>/date=<YYYY-MM-DD>/<name>-<YYYYMMDDTHHMMSSZ><ext>
//
// String writes a key and ParseReportKey reads a scan report's back, so
// that a baseline is found where uploads put it.
type ReportKey struct {
	Prefix string
	OrgID  string
	// Started is the document's time; the key holds it in whole UTC
	// seconds.
	Started time.Time
	// Name is the stem of the object's name; "" is ScanName.
	Name string
	// Ext is the format's extension, with its dot.
	Ext string
}

const reportKeyStamp = "20060102T150405Z"

// String is the object key.
func (k ReportKey) String() string {
	t := k.Started.UTC()
	return k.OrgPartition() + "date=" + t.Format(time.DateOnly) + "/" + cmp.Or(k.Name, ScanName) + "-" + t.Format(reportKeyStamp) + k.Ext
}

// OrgPartition is the prefix under which every document of the
// organization lies, for listing them.
func (k ReportKey) OrgPartition() string {
	return k.Prefix + "org=" + k.OrgID + "/"
}

// ParseReportKey reads back the key of a scan report that String wrote:
// the prefix, the organization, and from the object's name, which must be
// exactly as String writes it with the stem ScanName, the scan's time and
// the format. Name is left empty, which is ScanName; other documents' keys
// are refused. The date partition only serves Athena and is not read; the
// name's timestamp is the finer of the two.
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
	// The stamp has no dot, so the extension is everything from the first
	// one: ".ocsf.json" stays whole.
	stem, ok := strings.CutPrefix(name, ScanName+"-")
	if !ok {
		return ReportKey{}, false
	}
	stamp, ext, _ := strings.Cut(stem, ".")
	if ext != "" {
		ext = "." + ext
	}
	t, err := time.Parse(reportKeyStamp, stamp)
	if err != nil {
		return ReportKey{}, false
	}
	return ReportKey{Prefix: prefix, OrgID: orgID, Started: t, Ext: ext}, true
}

// Object metadata that a scan report's upload sets and a baseline check
// reads back.
const (
	MetadataOrgID     = "org-id"
	MetadataStartedAt = "started-at"
)

// reportMetadata is the object metadata of an uploaded scan report: enough
// to tell what an object holds without downloading it.
func reportMetadata(rep *scan.Report) map[string]string {
	c := rep.Scan.Counts
	return map[string]string{
		MetadataOrgID:            rep.Scan.OrganizationID,
		"schema-version":         output.SchemaVersion,
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
