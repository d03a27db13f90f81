package output

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgscan/orgscan/pkg/scan"
)

// ObjectPutter is the S3 call an upload needs.
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// UploadInput describes one report upload.
type UploadInput struct {
	Bucket, Key string
	Body        []byte
	ContentType string
	// SSE is AES256 or aws:kms; KMSKeyID optionally names the key.
	SSE, KMSKeyID string
	// ExpectedBucketOwner makes S3 refuse a bucket of another account (a
	// deleted and re-created bucket name must not receive evidence).
	ExpectedBucketOwner string
	Metadata            map[string]string
}

// UploadResult is what S3 confirmed.
type UploadResult struct {
	VersionID      string
	ETag           string
	ChecksumSHA256 string
}

// Upload puts a report with server-side encryption and a SHA-256 checksum
// that S3 verifies before it stores the object.
func Upload(ctx context.Context, api ObjectPutter, in UploadInput) (UploadResult, error) {
	sum := sha256.Sum256(in.Body)
	checksum := base64.StdEncoding.EncodeToString(sum[:])
	put := &s3.PutObjectInput{
		Bucket:               aws.String(in.Bucket),
		Key:                  aws.String(in.Key),
		Body:                 bytes.NewReader(in.Body),
		ContentLength:        aws.Int64(int64(len(in.Body))),
		ContentType:          aws.String(in.ContentType),
		ServerSideEncryption: s3types.ServerSideEncryption(in.SSE),
		ChecksumAlgorithm:    s3types.ChecksumAlgorithmSha256,
		ChecksumSHA256:       aws.String(checksum),
		Metadata:             in.Metadata,
	}
	if in.KMSKeyID != "" {
		put.SSEKMSKeyId = aws.String(in.KMSKeyID)
	}
	if in.ExpectedBucketOwner != "" {
		put.ExpectedBucketOwner = aws.String(in.ExpectedBucketOwner)
	}
	out, err := api.PutObject(ctx, put)
	if err != nil {
		return UploadResult{}, fmt.Errorf("put s3://%s/%s: %w", in.Bucket, in.Key, err)
	}
	return UploadResult{
		VersionID:      aws.ToString(out.VersionId),
		ETag:           aws.ToString(out.ETag),
		ChecksumSHA256: checksum,
	}, nil
}

// PartitionedKey names a report under a prefix in Hive-style partitions,
// ready for Athena: <prefix>org=<id>/date=<YYYY-MM-DD>/orgscan-<timestamp><ext>.
func PartitionedKey(prefix, orgID string, started time.Time, ext string) string {
	t := started.UTC()
	return fmt.Sprintf("%sorg=%s/date=%s/orgscan-%s%s", prefix, orgID, t.Format("2006-01-02"), t.Format("20060102T150405Z"), ext)
}

// ReportMetadata is the object metadata of an uploaded report: enough to
// tell what an object holds without downloading it.
func ReportMetadata(rep *scan.Report, schemaVersion string) map[string]string {
	c := rep.Scan.Counts
	return map[string]string{
		"org-id":                 rep.Scan.OrganizationID,
		"schema-version":         schemaVersion,
		"orgscan-version":        rep.Scan.Version,
		"started-at":             rep.Scan.StartedAt.UTC().Format(time.RFC3339),
		"complete":               strconv.FormatBool(rep.Scan.Complete),
		"accounts-listed":        strconv.Itoa(c.Listed),
		"accounts-scanned":       strconv.Itoa(c.Scanned),
		"accounts-errors":        strconv.Itoa(c.Errors),
		"accounts-with-findings": strconv.Itoa(c.WithFindings),
	}
}

// WriteFallback keeps a report whose upload failed: in dir, or in the
// system's temporary directory when dir is not writable. It returns the
// file's path.
func WriteFallback(dir string, started time.Time, ext string, body []byte) (string, error) {
	name := "orgscan-fallback-" + strings.ReplaceAll(started.UTC().Format("20060102T150405.000Z"), ".", "") + ext
	var firstErr error
	for _, d := range []string{dir, os.TempDir()} {
		path := filepath.Join(d, name)
		err := WriteFileAtomic(path, 0o600, func(w io.Writer) error {
			_, err := w.Write(body)
			return err
		})
		if err == nil {
			return path, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", firstErr
}
