package sink

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orgscan/orgscan/pkg/output"
)

// ObjectPutter is the S3 call an upload needs.
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// uploadInput describes one report upload.
type uploadInput struct {
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

// uploadResult is what S3 confirmed.
type uploadResult struct {
	VersionID      string
	ETag           string
	ChecksumSHA256 string
}

// upload puts a report with server-side encryption and a SHA-256 checksum
// that S3 verifies before it stores the object.
func upload(ctx context.Context, api ObjectPutter, in uploadInput) (uploadResult, error) {
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
		return uploadResult{}, fmt.Errorf("put s3://%s/%s: %w", in.Bucket, in.Key, err)
	}
	return uploadResult{
		VersionID:      aws.ToString(out.VersionId),
		ETag:           aws.ToString(out.ETag),
		ChecksumSHA256: checksum,
	}, nil
}

// RegionalS3 sends each S3 call to the region of the bucket it names. S3
// answers a request signed for another region with a redirect that the SDK
// does not follow, and evidence buckets often live elsewhere than the scan's
// region. A bucket's region is found once, before its first call, with
// HeadBucket: S3 names the region in x-amz-bucket-region on any HeadBucket
// answer, success or refusal, from any region of the partition. It is kept
// for the life of the RegionalS3, which is safe for concurrent use.
type RegionalS3 struct {
	cfg    aws.Config
	optFns []func(*s3.Options)

	mu      sync.Mutex
	regions map[string]string     // by bucket
	clients map[string]*s3.Client // by region
}

// NewRegionalS3 makes clients from cfg with optFns, one per region in use;
// cfg's region is where each bucket's region is asked.
func NewRegionalS3(cfg aws.Config, optFns ...func(*s3.Options)) *RegionalS3 {
	return &RegionalS3{cfg: cfg, optFns: optFns, regions: map[string]string{}, clients: map[string]*s3.Client{}}
}

// regionPattern is the shape of a region name; anything else in
// x-amz-bucket-region is refused, since the region becomes part of a host
// name and of the signature.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+){1,3}-[0-9]{1,2}$`)

// InvalidBucketRegionError is an x-amz-bucket-region that is not a region
// name: the endpoint is not S3 as documented, or not S3 at all.
type InvalidBucketRegionError struct {
	Bucket, Region string
}

func (e *InvalidBucketRegionError) Error() string {
	return fmt.Sprintf("bucket %s: S3 gave its region as %q, which is not a region name", output.Sanitize(e.Bucket), output.Sanitize(e.Region))
}

// Client returns a client for the bucket's region. expectedOwner, when set,
// goes with the HeadBucket as with every other call. A HeadBucket answered
// without a region (an S3-compatible store, a network failure) leaves the
// bucket in cfg's region, not remembered: the call that follows then reports
// what is wrong, in more words than a HEAD answer can carry.
func (c *RegionalS3) Client(ctx context.Context, bucket, expectedOwner string) (*s3.Client, error) {
	c.mu.Lock()
	region, known := c.regions[bucket]
	c.mu.Unlock()
	if !known {
		found, err := c.lookup(ctx, bucket, expectedOwner)
		if err != nil {
			return nil, err
		}
		region = cmp.Or(found, c.cfg.Region)
		if found != "" {
			c.mu.Lock()
			c.regions[bucket] = found
			c.mu.Unlock()
		}
	}
	return c.clientFor(region), nil
}

func (c *RegionalS3) lookup(ctx context.Context, bucket, expectedOwner string) (string, error) {
	in := &s3.HeadBucketInput{Bucket: aws.String(bucket)}
	if expectedOwner != "" {
		in.ExpectedBucketOwner = aws.String(expectedOwner)
	}
	var region string
	out, err := c.clientFor(c.cfg.Region).HeadBucket(ctx, in)
	var re *smithyhttp.ResponseError
	switch {
	case err == nil:
		region = aws.ToString(out.BucketRegion)
	case errors.As(err, &re) && re.Response != nil:
		region = re.Response.Header.Get("X-Amz-Bucket-Region")
	case ctx.Err() != nil:
		return "", fmt.Errorf("find the region of bucket %s: %w", bucket, ctx.Err())
	}
	if region != "" && !regionPattern.MatchString(region) {
		return "", &InvalidBucketRegionError{Bucket: bucket, Region: region}
	}
	return region, nil
}

func (c *RegionalS3) clientFor(region string) *s3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[region]; ok {
		return cl
	}
	cl := s3.NewFromConfig(c.cfg, append(slices.Clone(c.optFns), func(o *s3.Options) { o.Region = region })...)
	c.clients[region] = cl
	return cl
}

// PutObject puts an object through a client for its bucket's region.
func (c *RegionalS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	api, err := c.Client(ctx, aws.ToString(in.Bucket), aws.ToString(in.ExpectedBucketOwner))
	if err != nil {
		return nil, err
	}
	return api.PutObject(ctx, in, optFns...)
}

// GetObject reads an object through a client for its bucket's region.
func (c *RegionalS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	api, err := c.Client(ctx, aws.ToString(in.Bucket), aws.ToString(in.ExpectedBucketOwner))
	if err != nil {
		return nil, err
	}
	return api.GetObject(ctx, in, optFns...)
}

// ListObjectsV2 lists a bucket through a client for its region.
func (c *RegionalS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	api, err := c.Client(ctx, aws.ToString(in.Bucket), aws.ToString(in.ExpectedBucketOwner))
	if err != nil {
		return nil, err
	}
	return api.ListObjectsV2(ctx, in, optFns...)
}
