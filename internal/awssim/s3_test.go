package awssim

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const reportsBucket = "orgscan-reports" // owned by the management account

func s3Client(cfg aws.Config) *s3.Client { return s3.NewFromConfig(cfg) }

func putBody(t *testing.T, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

func TestPutObjectRecordsTheUpload(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	client := s3Client(mgmtConfig(srv))
	kmsARN := "arn:aws:kms:us-east-1:111111111111:key/0b7c54d4-1f1c-4c0a-9a57-7b3b2f1f0c11"

	tests := []struct {
		name        string
		in          s3.PutObjectInput
		wantSSE     string
		wantKMS     string // prefix of the key the object is encrypted with
		wantSumHdr  string // checksum header echoed by PutObject, "" for none
		wantStored  string // algorithm the object keeps
		wantCTStore string
	}{
		{"a plain upload is SSE-S3 with a CRC64NVME checksum S3 adds", s3.PutObjectInput{Key: aws.String("plain.json")},
			"AES256", "", "", "crc64nvme", "application/octet-stream"},
		{"SSE-KMS with a key keeps the key and a SHA-256 checksum", s3.PutObjectInput{
			Key:                  aws.String("audits/org=o-abcdefghij/date=2026-03-04/orgscan-20260304T050607Z.ndjson"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms,
			SSEKMSKeyId:          aws.String(kmsARN),
			ChecksumAlgorithm:    types.ChecksumAlgorithmSha256,
			ContentType:          aws.String("application/x-ndjson"),
			Metadata:             map[string]string{"organization-id": "o-abcdefghij", "schema-version": "1", "accounts": "12"},
		}, "aws:kms", kmsARN, "x-amz-checksum-sha256", "sha256", "application/x-ndjson"},
		{"SSE-KMS without a key uses the account's aws/s3 key", s3.PutObjectInput{
			Key: aws.String("kms-default.csv"), ServerSideEncryption: types.ServerSideEncryptionAwsKms,
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ContentType: aws.String("text/csv"),
		}, "aws:kms", "arn:aws:kms:us-east-1:111111111111:key/", "x-amz-checksum-crc32", "crc32", "text/csv"},
		{"explicit AES256 with CRC32C", s3.PutObjectInput{
			Key: aws.String("crc32c.txt"), ServerSideEncryption: types.ServerSideEncryptionAes256, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		}, "AES256", "", "x-amz-checksum-crc32c", "crc32c", "application/octet-stream"},
		{"SHA-1 is verified too", s3.PutObjectInput{Key: aws.String("sha1.txt"), ChecksumAlgorithm: types.ChecksumAlgorithmSha1},
			"AES256", "", "x-amz-checksum-sha1", "sha1", "application/octet-stream"},
		{"CRC64NVME given by the client", s3.PutObjectInput{Key: aws.String("crc64.txt"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme},
			"AES256", "", "x-amz-checksum-crc64nvme", "crc64nvme", "application/octet-stream"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"case":%d,"text":"root keys found"}`, i)
			in := tc.in
			in.Bucket, in.Body = aws.String(reportsBucket), strings.NewReader(body)
			put, err := client.PutObject(ctx, &in)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			md := md5.Sum([]byte(body))
			if got := aws.ToString(put.ETag); got != `"`+hex.EncodeToString(md[:])+`"` {
				t.Errorf("ETag = %s", got)
			}
			if aws.ToString(put.VersionId) == "" || string(put.ServerSideEncryption) != tc.wantSSE ||
				!strings.HasPrefix(aws.ToString(put.SSEKMSKeyId), tc.wantKMS) || (tc.wantKMS == "") != (put.SSEKMSKeyId == nil) {
				t.Errorf("put output: version %q sse %q kms %q", aws.ToString(put.VersionId), put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId))
			}
			echoed := map[string]*string{"x-amz-checksum-sha256": put.ChecksumSHA256, "x-amz-checksum-crc32": put.ChecksumCRC32,
				"x-amz-checksum-crc32c": put.ChecksumCRC32C, "x-amz-checksum-sha1": put.ChecksumSHA1, "x-amz-checksum-crc64nvme": put.ChecksumCRC64NVME}
			for hdr, v := range echoed {
				if (hdr == tc.wantSumHdr) != (v != nil) {
					t.Errorf("%s echoed = %v, want echoed only for %q", hdr, aws.ToString(v), tc.wantSumHdr)
				}
			}

			obj, ok := srv.Object(reportsBucket, aws.ToString(in.Key))
			if !ok {
				t.Fatalf("object %s not stored", aws.ToString(in.Key))
			}
			if string(obj.Body) != body || obj.VersionID != aws.ToString(put.VersionId) || obj.ETag != aws.ToString(put.ETag) {
				t.Errorf("stored %q version %s etag %s", obj.Body, obj.VersionID, obj.ETag)
			}
			if got := obj.Header.Get("Content-Type"); got != tc.wantCTStore {
				t.Errorf("recorded Content-Type = %q, want %q", got, tc.wantCTStore)
			}
			if got := obj.Header.Get("X-Amz-Server-Side-Encryption"); got != string(tc.in.ServerSideEncryption) {
				t.Errorf("recorded SSE header = %q, want %q", got, tc.in.ServerSideEncryption)
			}
			if got := obj.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != aws.ToString(tc.in.SSEKMSKeyId) {
				t.Errorf("recorded KMS key header = %q", got)
			}
			for k, v := range tc.in.Metadata {
				if got := obj.Header.Get("X-Amz-Meta-" + k); got != v {
					t.Errorf("recorded metadata %s = %q, want %q", k, got, v)
				}
			}
			if tc.wantSumHdr != "" && obj.Header.Get(tc.wantSumHdr) == "" {
				t.Errorf("recorded headers lack %s: %v", tc.wantSumHdr, obj.Header)
			}

			// ChecksumMode asks for the stored checksum, which the SDK then
			// validates against the body it reads.
			get, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: in.Key, ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil {
				// The SDK validates the returned checksum while reading.
				t.Fatalf("read object: %v", err)
			}
			if string(got) != body || aws.ToString(get.ContentType) != tc.wantCTStore || string(get.ServerSideEncryption) != tc.wantSSE ||
				aws.ToString(get.VersionId) != obj.VersionID || aws.ToString(get.SSEKMSKeyId) != aws.ToString(put.SSEKMSKeyId) {
				t.Errorf("get: %q type %q sse %q version %q kms %q", got, aws.ToString(get.ContentType), get.ServerSideEncryption,
					aws.ToString(get.VersionId), aws.ToString(get.SSEKMSKeyId))
			}
			for k, v := range tc.in.Metadata {
				if get.Metadata[k] != v {
					t.Errorf("get metadata %s = %q, want %q", k, get.Metadata[k], v)
				}
			}
			var sums []string
			for _, s := range []*string{get.ChecksumCRC32, get.ChecksumCRC32C, get.ChecksumCRC64NVME, get.ChecksumSHA1, get.ChecksumSHA256} {
				if s != nil {
					sums = append(sums, *s)
				}
			}
			if len(sums) != 1 || get.ChecksumType != types.ChecksumTypeFullObject {
				t.Errorf("GetObject checksums = %v (%s), want the stored %s", sums, get.ChecksumType, tc.wantStored)
			}

			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(reportsBucket), Key: in.Key})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != obj.ETag ||
				!aws.ToTime(head.LastModified).Equal(iamEpoch) || len(head.Metadata) != len(tc.in.Metadata) {
				t.Errorf("head: length %d etag %s modified %v metadata %v", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag),
					head.LastModified, head.Metadata)
			}
		})
	}
}

func TestPutObjectRejects(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	mgmt := s3Client(mgmtConfig(srv))
	body := "report body"
	goodMD5 := md5.Sum([]byte(body))
	tests := []struct {
		name     string
		client   *s3.Client
		in       s3.PutObjectInput
		wantCode string
		status   int
		inMsg    string
	}{
		{"a SHA-256 that does not match the body is BadDigest", mgmt,
			s3.PutObjectInput{ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32)))},
			"BadDigest", 400, "The sha256 you specified did not match the calculated checksum."},
		{"a CRC32 that does not match the body is BadDigest", mgmt,
			s3.PutObjectInput{ChecksumCRC32: aws.String("AAAAAA==")}, "BadDigest", 400, "The CRC32 you specified did not match"},
		{"a checksum that is not base64 of the right size is InvalidRequest", mgmt,
			s3.PutObjectInput{ChecksumCRC32C: aws.String("not-a-checksum")}, "InvalidRequest", 400, "x-amz-checksum-crc32c"},
		{"a Content-MD5 that does not match is BadDigest", mgmt,
			s3.PutObjectInput{ContentMD5: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16)))}, "BadDigest", 400, "Content-MD5"},
		{"a malformed Content-MD5 is InvalidDigest", mgmt,
			s3.PutObjectInput{ContentMD5: aws.String("xyz")}, "InvalidDigest", 400, "Content-MD5"},
		{"a mismatched expected bucket owner is AccessDenied", mgmt,
			s3.PutObjectInput{ExpectedBucketOwner: aws.String("222222222222")}, "AccessDenied", 403, "Access Denied"},
		{"a missing bucket is NoSuchBucket", mgmt,
			s3.PutObjectInput{Bucket: aws.String("no-such-bucket")}, "NoSuchBucket", 404, "does not exist"},
		{"another account may not write to the bucket", s3Client(roleIn(t, srv, acctRich)),
			s3.PutObjectInput{}, "AccessDenied", 403, "Access Denied"},
		{"even the matching expected owner does not let another account in", s3Client(roleIn(t, srv, acctRich)),
			s3.PutObjectInput{ExpectedBucketOwner: aws.String(testMgmtAccount)}, "AccessDenied", 403, "Access Denied"},
		{"a root session may not write objects", s3Client(rootIn(t, srv, acctRich, "S3UnlockBucketPolicy")),
			s3.PutObjectInput{}, "AccessDenied", 403, "Access Denied"},
		{"an unknown encryption is InvalidArgument", mgmt,
			s3.PutObjectInput{ServerSideEncryption: "rot13"}, "InvalidArgument", 400, "encryption method"},
		{"a KMS key without SSE-KMS is InvalidArgument", mgmt,
			s3.PutObjectInput{SSEKMSKeyId: aws.String("alias/audit")}, "InvalidArgument", 400, "aws:kms"},
		{"metadata over 2 KB is MetadataTooLarge", mgmt,
			s3.PutObjectInput{Metadata: map[string]string{"big": strings.Repeat("x", 2100)}}, "MetadataTooLarge", 400, "metadata"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Bucket == nil {
				in.Bucket = aws.String(reportsBucket)
			}
			key := fmt.Sprintf("rejected-%d", i)
			in.Key, in.Body = aws.String(key), strings.NewReader(body)
			_, err := tc.client.PutObject(ctx, &in)
			wantError(t, err, tc.wantCode, tc.status, tc.inMsg)
			if _, ok := srv.Object(reportsBucket, key); ok {
				t.Errorf("a rejected upload was stored")
			}
		})
	}
	t.Run("the right expected owner and Content-MD5 are accepted", func(t *testing.T) {
		_, err := mgmt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("accepted"),
			Body: strings.NewReader(body), ExpectedBucketOwner: aws.String(testMgmtAccount),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(goodMD5[:]))})
		if err != nil {
			t.Fatalf("PutObject: %v", err)
		}
	})
}

func TestGetObjectErrorsAndVersions(t *testing.T) {
	srv, clock := startIAMServer(t)
	ctx := context.Background()
	client := s3Client(mgmtConfig(srv))
	first := putBody(t, client, reportsBucket, "latest.json", "first")
	clock.Advance(time.Minute)
	second := putBody(t, client, reportsBucket, "latest.json", "second")

	read := func(in *s3.GetObjectInput) (string, error) {
		out, err := client.GetObject(ctx, in)
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}
	t.Run("each upload is a new version and the latest is current", func(t *testing.T) {
		if aws.ToString(first.VersionId) == aws.ToString(second.VersionId) {
			t.Fatalf("both versions are %s", aws.ToString(first.VersionId))
		}
		if got, err := read(&s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("latest.json")}); err != nil || got != "second" {
			t.Fatalf("current = %q, %v", got, err)
		}
	})
	t.Run("an older version is still readable by its id", func(t *testing.T) {
		got, err := read(&s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("latest.json"), VersionId: first.VersionId})
		if err != nil || got != "first" {
			t.Fatalf("version %s = %q, %v", aws.ToString(first.VersionId), got, err)
		}
	})
	t.Run("a range reads part of the object", func(t *testing.T) {
		got, err := read(&s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("latest.json"), Range: aws.String("bytes=1-3")})
		if err != nil || got != "eco" {
			t.Fatalf("range = %q, %v", got, err)
		}
	})
	tests := []struct {
		name     string
		in       s3.GetObjectInput
		wantCode string
		status   int
	}{
		{"a missing key is NoSuchKey", s3.GetObjectInput{Key: aws.String("missing")}, "NoSuchKey", 404},
		{"a missing version is NoSuchVersion", s3.GetObjectInput{Key: aws.String("latest.json"), VersionId: aws.String("nope")}, "NoSuchVersion", 404},
		{"a missing bucket is NoSuchBucket", s3.GetObjectInput{Bucket: aws.String("nowhere"), Key: aws.String("x")}, "NoSuchBucket", 404},
		{"a mismatched expected owner is AccessDenied", s3.GetObjectInput{Key: aws.String("latest.json"), ExpectedBucketOwner: aws.String("999999999999")}, "AccessDenied", 403},
		{"an unsatisfiable range is InvalidRange", s3.GetObjectInput{Key: aws.String("latest.json"), Range: aws.String("bytes=100-200")}, "InvalidRange", 416},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Bucket == nil {
				in.Bucket = aws.String(reportsBucket)
			}
			_, err := read(&in)
			wantError(t, err, tc.wantCode, tc.status, "")
		})
	}
	t.Run("HeadObject of a missing key is a bodiless 404", func(t *testing.T) {
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("missing")})
		var nf *types.NotFound
		if !errors.As(err, &nf) {
			t.Fatalf("error = %v, want NotFound", err)
		}
	})
	t.Run("another account may not read the bucket", func(t *testing.T) {
		_, err := s3Client(roleIn(t, srv, acctBare)).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("latest.json")})
		wantError(t, err, "AccessDenied", 403, "Access Denied")
	})
}

func TestListObjectsV2(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	client := s3Client(mgmtConfig(srv))
	keys := []string{
		"audits/org=o-1/date=2026-03-01/a.json", "audits/org=o-1/date=2026-03-01/b.json",
		"audits/org=o-1/date=2026-03-02/a.json", "audits/org=o-2/date=2026-03-01/a.json",
		"audits/top.json", "other/x.csv", "readme.txt", "with space+plus.txt",
	}
	for _, k := range keys {
		putBody(t, client, reportsBucket, k, "x")
	}
	// list pages through everything the input selects.
	list := func(t *testing.T, in s3.ListObjectsV2Input) (objects, prefixes []string, pages int) {
		t.Helper()
		in.Bucket = aws.String(reportsBucket)
		p := s3.NewListObjectsV2Paginator(client, &in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			pages++
			if int(aws.ToInt32(out.KeyCount)) != len(out.Contents)+len(out.CommonPrefixes) {
				t.Errorf("KeyCount %d for %d keys and %d prefixes", aws.ToInt32(out.KeyCount), len(out.Contents), len(out.CommonPrefixes))
			}
			for _, o := range out.Contents {
				objects = append(objects, aws.ToString(o.Key))
				if aws.ToInt64(o.Size) != 1 || o.StorageClass != types.ObjectStorageClassStandard || aws.ToString(o.ETag) == "" {
					t.Errorf("object %+v", o)
				}
			}
			for _, cp := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
		}
		return objects, prefixes, pages
	}
	tests := []struct {
		name         string
		in           s3.ListObjectsV2Input
		wantObjects  []string
		wantPrefixes []string
		wantPages    int
	}{
		{"everything in key order", s3.ListObjectsV2Input{}, keys, nil, 1},
		{"a prefix narrows the keys", s3.ListObjectsV2Input{Prefix: aws.String("audits/org=o-1/")}, keys[:3], nil, 1},
		{"a delimiter rolls keys up into common prefixes", s3.ListObjectsV2Input{Prefix: aws.String("audits/"), Delimiter: aws.String("/")},
			[]string{"audits/top.json"}, []string{"audits/org=o-1/", "audits/org=o-2/"}, 1},
		{"start-after skips keys up to it", s3.ListObjectsV2Input{StartAfter: aws.String("audits/top.json")}, keys[5:], nil, 1},
		{"max-keys pages with continuation tokens", s3.ListObjectsV2Input{MaxKeys: aws.Int32(3)}, keys, nil, 3},
		{"common prefixes count against max-keys and page too", s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)},
			[]string{"readme.txt", "with space+plus.txt"}, []string{"audits/", "other/"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objects, prefixes, pages := list(t, tc.in)
			if strings.Join(objects, "|") != strings.Join(tc.wantObjects, "|") || strings.Join(prefixes, "|") != strings.Join(tc.wantPrefixes, "|") || pages != tc.wantPages {
				t.Errorf("got %v %v in %d pages, want %v %v in %d", objects, prefixes, pages, tc.wantObjects, tc.wantPrefixes, tc.wantPages)
			}
		})
	}
	t.Run("encoding-type url encodes keys", func(t *testing.T) {
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBucket), Prefix: aws.String("with"), EncodingType: types.EncodingTypeUrl})
		if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "with%20space%2Bplus.txt" {
			t.Fatalf("ListObjectsV2 = %+v, %v", out, err)
		}
	})
	t.Run("a forged continuation token is InvalidArgument", func(t *testing.T) {
		_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBucket), ContinuationToken: aws.String("forged")})
		wantError(t, err, "InvalidArgument", 400, "continuation token")
	})
	t.Run("the Objects accessor lists the same keys", func(t *testing.T) {
		got := srv.Objects(reportsBucket)
		want := append([]string(nil), keys...)
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Objects = %v", got)
		}
	})
	t.Run("listing a missing bucket is NoSuchBucket", func(t *testing.T) {
		_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nowhere")})
		wantError(t, err, "NoSuchBucket", 404, "")
	})
}

func TestCreateBucket(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	mgmt := mgmtConfig(srv)
	euMgmt := mgmt.Copy()
	euMgmt.Region = "eu-west-1"
	eu := &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}
	tests := []struct {
		name     string
		cfg      aws.Config
		in       s3.CreateBucketInput
		wantCode string
		status   int
	}{
		{"a new bucket is created for the caller's account", roleIn(t, srv, acctRich), s3.CreateBucketInput{Bucket: aws.String("rich-evidence")}, "", 200},
		{"creating it again in us-east-1 succeeds, as the legacy region does", roleIn(t, srv, acctRich), s3.CreateBucketInput{Bucket: aws.String("rich-evidence")}, "", 200},
		{"another account cannot take a name in use", mgmt, s3.CreateBucketInput{Bucket: aws.String("rich-evidence")}, "BucketAlreadyExists", 409},
		{"a bucket in another region needs its location constraint", euMgmt, s3.CreateBucketInput{Bucket: aws.String("eu-audits")}, "IllegalLocationConstraintException", 400},
		{"with the constraint it is created", euMgmt, s3.CreateBucketInput{Bucket: aws.String("eu-audits"), CreateBucketConfiguration: eu}, "", 200},
		{"outside us-east-1 a bucket already owned is BucketAlreadyOwnedByYou", euMgmt, s3.CreateBucketInput{Bucket: aws.String("eu-audits"), CreateBucketConfiguration: eu}, "BucketAlreadyOwnedByYou", 409},
		{"an invalid name is InvalidBucketName", mgmt, s3.CreateBucketInput{Bucket: aws.String("Not_Valid")}, "InvalidBucketName", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s3Client(tc.cfg).CreateBucket(ctx, &tc.in)
			if tc.wantCode != "" {
				wantError(t, err, tc.wantCode, tc.status, "")
				return
			}
			if err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
		})
	}
	t.Run("the creator may use its bucket and the management account may not", func(t *testing.T) {
		rich := s3Client(roleIn(t, srv, acctRich))
		putBody(t, rich, "rich-evidence", "k", "v")
		_, err := s3Client(mgmt).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rich-evidence"), Key: aws.String("k")})
		wantError(t, err, "AccessDenied", 403, "")
		buckets, err := rich.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil || len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "rich-evidence" {
			t.Fatalf("ListBuckets = %+v, %v", buckets, err)
		}
		if _, err := rich.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("rich-evidence")}); err != nil {
			t.Fatalf("HeadBucket: %v", err)
		}
	})
}

// rawS3 signs a request for declaredBody with the management key and then
// sends sentBody, so that a test can send what no SDK would. Headers in
// extra are signed; an X-Amz-Content-Sha256 among them replaces the hash
// (or, when empty, removes the header).
func rawS3(t *testing.T, srv *Server, method, path string, extra http.Header, declaredBody, sentBody []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(sentBody))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(declaredBody)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	for k, vs := range extra {
		req.Header[k] = vs
	}
	payloadHash := req.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		// An empty value in extra means "send no such header"; the
		// signature still covers the body's real hash.
		payloadHash = hex.EncodeToString(sum[:])
		req.Header.Del("X-Amz-Content-Sha256")
	}
	creds := aws.Credentials{AccessKeyID: testMgmtKey, SecretAccessKey: testMgmtSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestS3RefusesWhatNoSDKSends(t *testing.T) {
	srv, _ := startIAMServer(t)
	sha := func(b string) string { s := sha256.Sum256([]byte(b)); return base64.StdEncoding.EncodeToString(s[:]) }
	put := "/" + reportsBucket + "/raw"
	tests := []struct {
		name     string
		method   string
		path     string
		header   http.Header
		declared string
		sent     string
		status   int
		code     string
	}{
		{"a body that matches its signed hash is stored", "PUT", put, nil, "evidence", "evidence", 200, ""},
		{"a body swapped under a valid signature is refused", "PUT", put, nil, "evidence", "tampered", 400, "XAmzContentSHA256Mismatch"},
		{"an unsigned payload is accepted", "PUT", put, http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}, "", "free", 200, ""},
		{"a request without a payload hash is refused", "PUT", put, http.Header{"X-Amz-Content-Sha256": {""}}, "x", "x", 400, "InvalidRequest"},
		{"an aws-chunked stream is refused as not simulated", "PUT", put,
			http.Header{"X-Amz-Content-Sha256": {"STREAMING-UNSIGNED-PAYLOAD-TRAILER"}}, "x", "x", 501, "NotImplemented"},
		{"two checksum headers are refused", "PUT", put,
			http.Header{"X-Amz-Checksum-Sha256": {sha("x")}, "X-Amz-Checksum-Crc32": {"jNUGHA=="}}, "x", "x", 400, "Multiple checksum Types"},
		{"a checksum header that contradicts the declared algorithm is refused", "PUT", put,
			http.Header{"X-Amz-Checksum-Sha256": {sha("x")}, "X-Amz-Sdk-Checksum-Algorithm": {"CRC32"}}, "x", "x", 400, "x-amz-sdk-checksum-algorithm"},
		{"a checksum algorithm awssim does not verify is refused", "PUT", put,
			http.Header{"X-Amz-Checksum-Sha512": {"AAAA"}}, "x", "x", 400, "verifies only"},
		{"a declared algorithm without a value is computed and stored", "PUT", put,
			http.Header{"X-Amz-Sdk-Checksum-Algorithm": {"SHA256"}}, "x", "x", 200, ""},
		{"deleting an object is not simulated", "DELETE", put, nil, "", "", 501, "NotImplemented"},
		{"a bucket subresource is not simulated", "GET", "/" + reportsBucket + "?acl", nil, "", "", 501, "NotImplemented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawS3(t, srv, tc.method, tc.path, tc.header, []byte(tc.declared), []byte(tc.sent))
			if status != tc.status || !strings.Contains(body, tc.code) {
				t.Fatalf("status %d body %s, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

// hostRecorder notes the Host of every request and sends it to the
// simulator whatever the name resolves to.
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
	rt    http.RoundTripper
}

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, r.URL.Host)
	h.mu.Unlock()
	return h.rt.RoundTrip(r)
}

func TestS3VirtualHostedStyle(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(srv.Addr())
	dialer := &net.Dialer{}
	rec := &hostRecorder{rt: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.Addr())
	}}}
	cfg := mgmtConfig(srv)
	cfg.BaseEndpoint = aws.String("http://localhost:" + port)
	cfg.HTTPClient = &http.Client{Transport: rec}
	client := s3Client(cfg)

	putBody(t, client, reportsBucket, "vhost/key.json", "virtual")
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("vhost/key.json")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	if b, _ := io.ReadAll(out.Body); string(b) != "virtual" {
		t.Fatalf("body = %q", b)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.hosts) == 0 || rec.hosts[0] != reportsBucket+".localhost:"+port {
		t.Fatalf("hosts = %v, want virtual-hosted requests", rec.hosts)
	}
	if _, ok := srv.Object(reportsBucket, "vhost/key.json"); !ok {
		t.Fatal("object not stored under its key")
	}
}

func TestS3CountsOperations(t *testing.T) {
	srv, _ := startIAMServer(t)
	client := s3Client(mgmtConfig(srv))
	putBody(t, client, reportsBucket, "k", "v")
	_, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("missing")})
	wantError(t, err, "NoSuchKey", 404, "")
	st := srv.Stats().Operations
	if st["s3:PutObject"].Requests != 1 || st["s3:GetObject"].Requests != 1 || st["s3:GetObject"].Failed != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

// regionWorld is the IAM fixture with one more bucket of the management
// account, in eu-west-1.
func regionWorld(t *testing.T) *Server {
	t.Helper()
	fx := iamFixture()
	fx.Buckets = append(fx.Buckets, Bucket{Name: euBucket, OwnerID: testMgmtAccount, Region: "eu-west-1"})
	clock := &iamClock{t: iamEpoch}
	return startServer(t, Options{Fixture: fx, Now: clock.Now})
}

const euBucket = "eu-evidence"

func TestS3RedirectsARequestSignedForAnotherRegion(t *testing.T) {
	srv := regionWorld(t)
	ctx := context.Background()
	inRegion := func(region string) *s3.Client {
		cfg := mgmtConfig(srv)
		cfg.Region = region
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	}
	us, eu := inRegion("us-east-1"), inRegion("eu-west-1")
	putBody(t, eu, euBucket, "k", "v")
	putBody(t, us, reportsBucket, "k", "v")

	calls := []struct {
		name string
		call func(c *s3.Client, bucket string) error
	}{
		{"HeadBucket", func(c *s3.Client, b string) error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
			return err
		}},
		{"ListObjectsV2", func(c *s3.Client, b string) error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			return err
		}},
		{"GetObject", func(c *s3.Client, b string) error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
			if err == nil {
				out.Body.Close()
			}
			return err
		}},
		{"PutObject", func(c *s3.Client, b string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k2"), Body: strings.NewReader("x")})
			return err
		}},
	}
	for _, tc := range []struct {
		name          string
		client        *s3.Client
		bucket, where string
	}{
		{"a eu-west-1 bucket asked from us-east-1", us, euBucket, "eu-west-1"},
		{"a us-east-1 bucket asked from eu-west-1", eu, reportsBucket, "us-east-1"},
	} {
		for _, op := range calls {
			t.Run(tc.name+" answers "+op.name+" with 301 and the bucket's region", func(t *testing.T) {
				err := op.call(tc.client, tc.bucket)
				var re *smithyhttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusMovedPermanently {
					t.Fatalf("error = %v, want HTTP 301", err)
				}
				if got := re.Response.Header.Get("X-Amz-Bucket-Region"); got != tc.where {
					t.Errorf("x-amz-bucket-region = %q, want %q", got, tc.where)
				}
				var ae smithy.APIError
				if op.name != "HeadBucket" && (!errors.As(err, &ae) || ae.ErrorCode() != "PermanentRedirect") {
					t.Errorf("error = %v, want PermanentRedirect", err)
				}
			})
		}
	}

	t.Run("the redirect's body is S3's error document", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, srv.URL()+"/"+euBucket+"/k", nil)
		if err != nil {
			t.Fatal(err)
		}
		empty := sha256.Sum256(nil)
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(empty[:]))
		creds := aws.Credentials{AccessKeyID: testMgmtKey, SecretAccessKey: testMgmtSecret}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, want := range []string{"<Code>PermanentRedirect</Code>", "<Bucket>" + euBucket + "</Bucket>", "<Endpoint>", "<RequestId>"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("body lacks %s:\n%s", want, body)
			}
		}
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("X-Amz-Bucket-Region") != "eu-west-1" {
			t.Errorf("status %d, region %q", resp.StatusCode, resp.Header.Get("X-Amz-Bucket-Region"))
		}
	})
	t.Run("signed for the bucket's region every call succeeds", func(t *testing.T) {
		for _, op := range calls {
			if err := op.call(eu, euBucket); err != nil {
				t.Errorf("%s: %v", op.name, err)
			}
		}
	})
	t.Run("HeadBucket names the region when it refuses, whatever the region asked", func(t *testing.T) {
		for _, c := range []*s3.Client{us, eu} {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(euBucket), ExpectedBucketOwner: aws.String("999999999999")})
			var re *smithyhttp.ResponseError
			if !errors.As(err, &re) || re.Response.Header.Get("X-Amz-Bucket-Region") != "eu-west-1" {
				t.Fatalf("error = %v, want one carrying x-amz-bucket-region eu-west-1", err)
			}
		}
	})
	t.Run("a missing bucket is NoSuchBucket from any region", func(t *testing.T) {
		_, err := eu.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nowhere")})
		wantError(t, err, "NoSuchBucket", 404, "")
	})
}

func TestS3EnforcesTheExpectedOwnerOnEveryCall(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	client := s3Client(mgmtConfig(srv))
	putBody(t, client, reportsBucket, "k", "v")
	for _, owner := range []struct {
		name, id string
		status   int
	}{
		{"the owner's id is accepted", testMgmtAccount, 200},
		{"another account's id is refused with 403", "222222222222", 403},
	} {
		t.Run(owner.name, func(t *testing.T) {
			errs := map[string]error{}
			_, errs["HeadBucket"] = client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(reportsBucket), ExpectedBucketOwner: aws.String(owner.id)})
			_, errs["ListObjectsV2"] = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBucket), ExpectedBucketOwner: aws.String(owner.id)})
			var get *s3.GetObjectOutput
			get, errs["GetObject"] = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("k"), ExpectedBucketOwner: aws.String(owner.id)})
			if get != nil {
				get.Body.Close()
			}
			_, errs["PutObject"] = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(reportsBucket), Key: aws.String("k"),
				Body: strings.NewReader("v"), ExpectedBucketOwner: aws.String(owner.id)})
			for op, err := range errs {
				var re *smithyhttp.ResponseError
				switch {
				case owner.status == 200 && err != nil:
					t.Errorf("%s: %v", op, err)
				case owner.status != 200 && (!errors.As(err, &re) || re.HTTPStatusCode() != owner.status):
					t.Errorf("%s: error %v, want HTTP %d", op, err, owner.status)
				}
			}
		})
	}
}

func TestFixtureBucketRegion(t *testing.T) {
	for _, tc := range []struct {
		name, region string
		ok           bool
	}{
		{"a bucket without a region loads, in us-east-1", "", true},
		{"a bucket in eu-west-1 loads", "eu-west-1", true},
		{"a region that is no region name is refused", "Mars", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := iamFixture()
			fx.Buckets = []Bucket{{Name: "regional-evidence", OwnerID: testMgmtAccount, Region: tc.region}}
			data, err := json.Marshal(fx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.region == "" && bytes.Contains(data, []byte(`"region"`)) {
				t.Fatal("an unset region must not be written: fixtures stay as they were")
			}
			_, err = ReadFixture(bytes.NewReader(data))
			if (err == nil) != tc.ok {
				t.Fatalf("ReadFixture = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
