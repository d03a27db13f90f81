// Package s3 simulates Amazon S3 over REST XML. A bucket is addressed path-style (/bucket/key, what the
// SDK and the CLI use against an IP endpoint) or virtual-host style
// (bucket.localhost:port). Buckets are versioned and belong to one account:
// only principals acting in that account may use them, a root session not at
// all (no root-task policy allows object access). PutObject keeps every
// request header it received, verifies Content-MD5 and the x-amz-checksum-*
// header against the body, and enforces x-amz-expected-bucket-owner; the
// Object and Objects accessors let tests in other packages see what was
// uploaded.
//
// Neither the Go SDK nor the AWS CLI sends an aws-chunked body to an http://
// endpoint (the SDK refuses an unseekable body without TLS instead), so a
// streaming payload is refused with NotImplemented rather than half-parsed.
package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/rng"
	"github.com/orgscan/orgscan/internal/awssim/wire"
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Service is S3: the buckets, their objects and every request it saw.
type Service struct {
	rand *rng.Rand

	// mu guards what requests change: buckets, objects and calls.
	mu      sync.RWMutex
	buckets map[string]*bucket
	calls   []Record // every authenticated S3 request
}

// New serves the fixture's buckets; version ids come from r.
func New(buckets []fixture.Bucket, r *rng.Rand) *Service {
	s := &Service{rand: r, buckets: map[string]*bucket{}}
	for _, b := range buckets {
		s.buckets[b.Name] = &bucket{Name: b.Name, OwnerID: b.OwnerID, Region: b.Region, Objects: map[string]*object{}}
	}
	return s
}

// bucket is an S3 bucket and its objects.
type bucket struct {
	Name     string
	OwnerID  string
	Region   string // "" is us-east-1
	Created  time.Time
	Objects  map[string]*object   // current version by key
	Versions map[string][]*object // every version by key, oldest first
}

// object is a stored S3 object and what the simulator recorded of its upload.
type object struct {
	Key          string
	Body         []byte
	ETag         string
	VersionID    string
	LastModified time.Time
	Headers      http.Header // every request header of the PutObject
	SSE          string      // AES256, aws:kms or aws:kms:dsse
	KMSKeyID     string      // key ARN for SSE-KMS
	ChecksumAlg  string      // crc32, crc32c, crc64nvme, sha1 or sha256
	Checksum     string      // base64, as in x-amz-checksum-*
}

// ObjectInfo is what the simulator recorded of a stored object.
type ObjectInfo struct {
	Bucket       string
	Key          string
	Body         []byte
	ETag         string      // quoted, as S3 returns it
	VersionID    string      // every bucket is versioned
	LastModified time.Time   // the simulator clock at upload
	Header       http.Header // every header of the PutObject request
}

// Object returns the current version of an object.
func (s *Service) Object(bucket, key string) (ObjectInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return ObjectInfo{}, false
	}
	o, ok := b.Objects[key]
	if !ok {
		return ObjectInfo{}, false
	}
	return ObjectInfo{
		Bucket: bucket, Key: o.Key, Body: bytes.Clone(o.Body), ETag: o.ETag, VersionID: o.VersionID,
		LastModified: o.LastModified, Header: o.Headers.Clone(),
	}, true
}

// Objects returns the keys of a bucket's current objects, sorted.
func (s *Service) Objects(bucket string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return nil
	}
	return slices.Sorted(maps.Keys(b.Objects))
}

// Record is what the simulator saw of one authenticated S3 request: enough
// for a test to tell which region a client signed for and whether it sent
// the expected bucket owner.
type Record struct {
	Operation     string
	Bucket, Key   string
	SigningRegion string
	// ExpectedBucketOwner is the x-amz-expected-bucket-owner header; "" when
	// absent.
	ExpectedBucketOwner string
}

// Calls returns the S3 requests received so far, oldest first.
func (s *Service) Calls() []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.calls)
}

// s3Target is what an S3 request addresses.
type s3Target struct {
	bucket, key string
	op          string
}

// bucketSubresources are query parameters that turn a bucket request into
// another operation, none of which the simulator models.
var bucketSubresources = []string{
	"accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering", "inventory",
	"lifecycle", "location", "logging", "metrics", "notification", "object-lock", "ownershipControls",
	"policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "tagging",
	"uploads", "versioning", "versions", "website", "metadataTable", "session",
}

var objectSubresources = []string{
	"acl", "attributes", "legal-hold", "partNumber", "restore", "retention", "select", "tagging",
	"torrent", "uploadId", "uploads",
}

// s3Route reads the bucket, key and operation of a request.
func s3Route(r *http.Request) s3Target {
	path := r.URL.Path
	var t s3Target
	if host, _, err := net.SplitHostPort(r.Host); err == nil && strings.HasSuffix(host, ".localhost") {
		t.bucket = strings.TrimSuffix(host, ".localhost")
		t.key = strings.TrimPrefix(path, "/")
	} else {
		rest := strings.TrimPrefix(path, "/")
		t.bucket, t.key, _ = strings.Cut(rest, "/")
	}
	q := r.URL.Query()
	has := func(names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return q.Has(n) })
	}
	switch {
	case t.bucket == "":
		if r.Method == http.MethodGet {
			t.op = "ListBuckets"
		}
	case t.key == "":
		switch {
		case has(bucketSubresources):
		case r.Method == http.MethodPut:
			t.op = "CreateBucket"
		case r.Method == http.MethodHead:
			t.op = "HeadBucket"
		case r.Method == http.MethodGet && q.Get("list-type") == "2":
			t.op = "ListObjectsV2"
		}
	default:
		switch {
		case has(objectSubresources):
		case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "":
			t.op = "PutObject"
		case r.Method == http.MethodGet:
			t.op = "GetObject"
		case r.Method == http.MethodHead:
			t.op = "HeadObject"
		}
	}
	if t.op == "" {
		t.op = "Unsupported" + strings.ToUpper(r.Method[:1]) + strings.ToLower(r.Method[1:])
	}
	return t
}

// OperationName is the operation an S3 request asks for.
func OperationName(r *http.Request) string { return s3Route(r).op }

// Serve answers an authenticated S3 request.
func (s *Service) Serve(w http.ResponseWriter, c *op.Call, reqID string) error {
	if err := checkPayloadHash(c); err != nil {
		return err
	}
	t := s3Route(c.Request)
	s.mu.Lock()
	s.calls = append(s.calls, Record{Operation: t.op, Bucket: t.bucket, Key: t.key, SigningRegion: c.Region,
		ExpectedBucketOwner: c.Request.Header.Get("X-Amz-Expected-Bucket-Owner")})
	s.mu.Unlock()
	w.Header().Set("x-amz-request-id", reqID)
	switch t.op {
	case "ListBuckets":
		return s.listBuckets(w, c)
	case "CreateBucket":
		return s.createBucket(w, c, t)
	}
	if strings.HasPrefix(t.op, "Unsupported") {
		return wire.Errorf(http.StatusNotImplemented, "NotImplemented",
			"awssim does not simulate this S3 request (%s %s)", c.Request.Method, c.Request.URL.RequestURI())
	}
	if err := s.checkBucketRegion(w, c, t); err != nil {
		return err
	}
	if err := s.checkBucketAccess(c, t.bucket); err != nil {
		return err
	}
	switch t.op {
	case "HeadBucket":
		w.WriteHeader(http.StatusOK)
		return nil
	case "ListObjectsV2":
		return s.listObjectsV2(w, c, t)
	case "PutObject":
		return s.putObject(w, c, t)
	default: // GetObject, HeadObject
		return s.getObject(w, c, t)
	}
}

// checkPayloadHash verifies the body against the signed x-amz-content-sha256:
// the signature covers only the header, so without this check a body could
// be swapped under a valid signature.
func checkPayloadHash(c *op.Call) error {
	declared := c.Request.Header.Get("X-Amz-Content-Sha256")
	switch {
	case declared == "":
		return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	case declared == "UNSIGNED-PAYLOAD":
		return nil
	case strings.HasPrefix(declared, "STREAMING-") || strings.Contains(c.Request.Header.Get("Content-Encoding"), "aws-chunked"):
		return wire.Errorf(http.StatusNotImplemented, "NotImplemented",
			"awssim does not accept aws-chunked (%s) bodies; send the payload whole, as the Go SDK and the AWS CLI do over http", declared)
	}
	sum := sha256.Sum256(c.Body)
	if computed := hex.EncodeToString(sum[:]); !strings.EqualFold(declared, computed) {
		return &wire.APIError{Status: http.StatusBadRequest, Code: "XAmzContentSHA256Mismatch",
			Message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
			Extra:   map[string]string{"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": computed}}
	}
	return nil
}

// checkBucketRegion redirects a request signed for a region other than the
// bucket's, before any access check, and gives HeadBucket the bucket's
// region on every answer. The S3 API Reference for HeadBucket: "You can make
// a HeadBucket call on any bucket name to any Region in the partition, and
// regardless of the permissions on the bucket, you will receive a response
// header with the correct bucket location"; its error list gives
// PermanentRedirect as 301 Moved Permanently. The body's elements (Code,
// Message, Endpoint, Bucket, RequestId) are those of 301 answers recorded
// from S3 in public bug reports (aws-cli#968, tinys3#18); botocore's
// S3RegionRedirectorv2 reads the region from x-amz-bucket-region, and for a
// HEAD, which has no body, from that header alone. S3 answers 400
// AuthorizationHeaderMalformed instead when the request reaches the bucket's
// own regional endpoint signed for another region; the simulator is one
// endpoint for every region, so a request is taken to reach the endpoint of
// the region it was signed for, and is redirected.
func (s *Service) checkBucketRegion(w http.ResponseWriter, c *op.Call, t s3Target) error {
	s.mu.RLock()
	b, ok := s.buckets[t.bucket]
	region := ""
	if ok {
		region = orUSEast1(b.Region)
	}
	s.mu.RUnlock()
	if !ok {
		return nil // NoSuchBucket, from checkBucketAccess
	}
	if t.op == "HeadBucket" || c.Region != region {
		w.Header().Set("x-amz-bucket-region", region)
	}
	if c.Region == region {
		return nil
	}
	// The endpoint to use is this one, signed for the bucket's region:
	// the simulator serves every region at one address.
	return &wire.APIError{Status: http.StatusMovedPermanently, Code: "PermanentRedirect",
		Message: "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
		Extra:   map[string]string{"Bucket": t.bucket, "Endpoint": c.Request.Host}}
}

// checkBucketAccess answers NoSuchBucket for a missing bucket (to anyone, as
// S3 does), then AccessDenied for a caller of another account, a root
// session, or an x-amz-expected-bucket-owner that is not the owner. The S3
// API Reference documents ExpectedBucketOwner the same way on HeadBucket,
// ListObjectsV2, GetObject, HeadObject and PutObject: "If the account ID
// that you provide does not match the actual owner of the bucket, the
// request fails with the HTTP status code 403 Forbidden (access denied)."
func (s *Service) checkBucketAccess(c *op.Call, bucket string) error {
	s.mu.RLock()
	b, ok := s.buckets[bucket]
	owner := ""
	if ok {
		owner = b.OwnerID
	}
	s.mu.RUnlock()
	if !ok {
		return &wire.APIError{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist",
			Extra: map[string]string{"BucketName": bucket}}
	}
	denied := wire.Errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	if c.Caller.AccountID != owner || c.Caller.Kind == auth.RootSession {
		return denied
	}
	if expected := c.Request.Header.Get("X-Amz-Expected-Bucket-Owner"); expected != "" && expected != owner {
		return denied
	}
	return nil
}

func (s *Service) bucketRegion(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.buckets[name]; ok && b.Region != "" {
		return b.Region
	}
	return "us-east-1"
}

// ---- buckets ----

var bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

type createBucketConfiguration struct {
	LocationConstraint string `xml:"LocationConstraint"`
}

// createBucket makes a bucket owned by the caller's account in the region
// the request was signed for. Like S3, us-east-1 answers 200 when the caller
// already owns the bucket (a legacy of that region) and every other region
// BucketAlreadyOwnedByYou.
func (s *Service) createBucket(w http.ResponseWriter, c *op.Call, t s3Target) error {
	if !bucketNamePattern.MatchString(t.bucket) || strings.Contains(t.bucket, "..") || net.ParseIP(t.bucket) != nil {
		return &wire.APIError{Status: http.StatusBadRequest, Code: "InvalidBucketName", Message: "The specified bucket is not valid.",
			Extra: map[string]string{"BucketName": t.bucket}}
	}
	if c.Caller.Kind == auth.RootSession {
		return wire.Errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	var conf createBucketConfiguration
	if len(bytes.TrimSpace(c.Body)) > 0 {
		if err := xml.Unmarshal(c.Body, &conf); err != nil {
			return wire.Errorf(http.StatusBadRequest, "MalformedXML",
				"The XML you provided was not well-formed or did not validate against our published schema")
		}
	}
	region := c.Region
	if (region == "us-east-1" && conf.LocationConstraint != "") || (region != "us-east-1" && conf.LocationConstraint != region) {
		return &wire.APIError{Status: http.StatusBadRequest, Code: "IllegalLocationConstraintException",
			Message: fmt.Sprintf("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", orUnspecified(conf.LocationConstraint))}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[t.bucket]; ok {
		if b.OwnerID != c.Caller.AccountID {
			return &wire.APIError{Status: http.StatusConflict, Code: "BucketAlreadyExists",
				Message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
				Extra:   map[string]string{"BucketName": t.bucket}}
		}
		if region != "us-east-1" {
			return &wire.APIError{Status: http.StatusConflict, Code: "BucketAlreadyOwnedByYou",
				Message: "Your previous request to create the named bucket succeeded and you already own it.",
				Extra:   map[string]string{"BucketName": t.bucket}}
		}
	} else {
		s.buckets[t.bucket] = &bucket{Name: t.bucket, OwnerID: c.Caller.AccountID, Region: region, Created: c.Now,
			Objects: map[string]*object{}}
	}
	w.Header().Set("Location", "/"+t.bucket)
	w.Header().Set("x-amz-bucket-arn", "arn:aws:s3:::"+t.bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func orUnspecified(s string) string {
	if s == "" {
		return "unspecified"
	}
	return s
}

type s3Owner struct {
	ID string `xml:"ID"`
}

type bucketXML struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

type listAllMyBucketsResult struct {
	XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
	Xmlns   string      `xml:"xmlns,attr"`
	Owner   s3Owner     `xml:"Owner"`
	Buckets []bucketXML `xml:"Buckets>Bucket"`
}

func (s *Service) listBuckets(w http.ResponseWriter, c *op.Call) error {
	res := listAllMyBucketsResult{Xmlns: s3Namespace, Owner: s3Owner{ID: canonicalUserID(c.Caller.AccountID)}}
	if c.Caller.Kind != auth.RootSession {
		s.mu.RLock()
		for _, b := range s.buckets {
			if b.OwnerID == c.Caller.AccountID {
				res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: s3Time(b.Created), BucketRegion: orUSEast1(b.Region)})
			}
		}
		s.mu.RUnlock()
	}
	sort.Slice(res.Buckets, func(i, j int) bool { return res.Buckets[i].Name < res.Buckets[j].Name })
	return writeS3XML(w, http.StatusOK, res)
}

func orUSEast1(region string) string {
	if region == "" {
		return "us-east-1"
	}
	return region
}

// canonicalUserID stands in for an account's S3 canonical user id (64 hex
// digits, derived here from the account id).
func canonicalUserID(accountID string) string {
	sum := sha256.Sum256([]byte("awssim canonical user " + accountID))
	return hex.EncodeToString(sum[:])
}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func writeS3XML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode s3 response: %w", err)
	}
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// ---- objects ----

// checksumAlgorithms are the flexible checksums S3 verifies, by the name
// used in x-amz-checksum-<name> and x-amz-sdk-checksum-algorithm.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVMETable) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVMETable is CRC-64/NVME (the reflected polynomial; Go's crc64
// applies the same initial and final inversion NVMe specifies).
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksumName is how S3 names an algorithm in its BadDigest message.
func checksumName(alg string) string {
	if strings.HasPrefix(alg, "crc") {
		return strings.ToUpper(alg)
	}
	return alg
}

func checksumOf(alg string, body []byte) string {
	h := checksumAlgorithms[alg]()
	h.Write(body)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// objectChecksum verifies the request's checksum headers against the body
// and returns the algorithm and value to store.
func objectChecksum(h http.Header, body []byte) (alg, value string, err error) {
	var given []string
	for name := range h {
		lower := strings.ToLower(name)
		if a, ok := strings.CutPrefix(lower, "x-amz-checksum-"); ok && a != "type" && a != "mode" && a != "algorithm" {
			given = append(given, a)
		}
	}
	sdkAlg := strings.ToLower(h.Get("X-Amz-Sdk-Checksum-Algorithm"))
	switch {
	case len(given) > 1:
		return "", "", wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	case len(given) == 1:
		alg = given[0]
	case sdkAlg != "":
		alg = sdkAlg
	}
	if alg == "" {
		// S3 gives an object uploaded without a checksum a CRC64NVME one.
		return "crc64nvme", checksumOf("crc64nvme", body), nil
	}
	if _, ok := checksumAlgorithms[alg]; !ok {
		return "", "", wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Value for x-amz-checksum-%s header is invalid: awssim verifies only CRC32, CRC32C, CRC64NVME, SHA1 and SHA256.", alg)
	}
	if sdkAlg != "" && sdkAlg != alg {
		return "", "", wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
	}
	computed := checksumOf(alg, body)
	if len(given) == 0 {
		return alg, computed, nil
	}
	value = h.Get("X-Amz-Checksum-" + alg)
	raw, decErr := base64.StdEncoding.DecodeString(value)
	if decErr != nil || len(raw) != checksumAlgorithms[alg]().Size() {
		return "", "", wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Value for x-amz-checksum-%s header is invalid.", alg)
	}
	if value != computed {
		return "", "", wire.Errorf(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", checksumName(alg))
	}
	return alg, value, nil
}

func checkContentMD5(h http.Header, body []byte) error {
	v := h.Get("Content-Md5")
	if v == "" {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != md5.Size {
		return wire.Errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
	}
	if sum := md5.Sum(body); !bytes.Equal(raw, sum[:]) {
		return &wire.APIError{Status: http.StatusBadRequest, Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received.",
			Extra: map[string]string{"ExpectedDigest": hex.EncodeToString(raw), "CalculatedDigest": hex.EncodeToString(sum[:])}}
	}
	return nil
}

// objectEncryption validates the SSE headers and returns what S3 applies:
// SSE-S3 (AES256) by default, or SSE-KMS with the given key or the
// account's AWS managed aws/s3 key.
func objectEncryption(h http.Header, region, owner string) (sse, kmsKey string, err error) {
	sse = h.Get("X-Amz-Server-Side-Encryption")
	kmsKey = h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
	switch sse {
	case "":
		sse = "AES256"
	case "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return "", "", wire.Errorf(http.StatusBadRequest, "InvalidArgument", "The encryption method specified is not supported")
	}
	if !strings.HasPrefix(sse, "aws:kms") {
		if kmsKey != "" {
			return "", "", wire.Errorf(http.StatusBadRequest, "InvalidArgument",
				"Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
		}
		return sse, "", nil
	}
	prefix := "arn:aws:kms:" + region + ":" + owner + ":"
	switch {
	case kmsKey == "":
		sum := sha256.Sum256([]byte("aws/s3 " + region + " " + owner))
		u := hex.EncodeToString(sum[:16])
		kmsKey = prefix + "key/" + u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32]
	case strings.HasPrefix(kmsKey, "arn:"):
	case strings.HasPrefix(kmsKey, "alias/"):
		kmsKey = prefix + kmsKey
	default:
		kmsKey = prefix + "key/" + kmsKey
	}
	return sse, kmsKey, nil
}

const maxUserMetadata = 2 << 10 // bytes of x-amz-meta-* names and values

func (s *Service) putObject(w http.ResponseWriter, c *op.Call, t s3Target) error {
	h := c.Request.Header
	if err := checkContentMD5(h, c.Body); err != nil {
		return err
	}
	alg, sum, err := objectChecksum(h, c.Body)
	if err != nil {
		return err
	}
	metaSize := 0
	for name, vs := range h {
		if k, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok {
			metaSize += len(k) + len(strings.Join(vs, ","))
		}
	}
	if metaSize > maxUserMetadata {
		return wire.Errorf(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
	}
	region := s.bucketRegion(t.bucket)
	sse, kmsKey, err := objectEncryption(h, region, c.Caller.AccountID)
	if err != nil {
		return err
	}
	etag := md5.Sum(c.Body)
	o := &object{
		Key:          t.key,
		Body:         bytes.Clone(c.Body),
		ETag:         `"` + hex.EncodeToString(etag[:]) + `"`,
		VersionID:    s.rand.String(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"),
		LastModified: c.Now.UTC().Truncate(time.Second),
		Headers:      h.Clone(),
		SSE:          sse,
		KMSKeyID:     kmsKey,
		ChecksumAlg:  alg,
		Checksum:     sum,
	}
	s.mu.Lock()
	b, ok := s.buckets[t.bucket]
	if ok {
		b.Objects[t.key] = o
		if b.Versions == nil {
			b.Versions = map[string][]*object{}
		}
		b.Versions[t.key] = append(b.Versions[t.key], o)
	}
	s.mu.Unlock()
	if !ok {
		// Deleted between the access check and now; only possible if a
		// future operation deletes buckets.
		return &wire.APIError{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist",
			Extra: map[string]string{"BucketName": t.bucket}}
	}

	out := w.Header()
	out.Set("ETag", o.ETag)
	out.Set("x-amz-version-id", o.VersionID)
	setEncryptionHeaders(out, o)
	if hasChecksumHeader(h) || h.Get("X-Amz-Sdk-Checksum-Algorithm") != "" {
		out.Set("x-amz-checksum-"+o.ChecksumAlg, o.Checksum)
		out.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	out.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func hasChecksumHeader(h http.Header) bool {
	for _, alg := range slices.Sorted(maps.Keys(checksumAlgorithms)) {
		if h.Get("X-Amz-Checksum-"+alg) != "" {
			return true
		}
	}
	return false
}

func setEncryptionHeaders(out http.Header, o *object) {
	out.Set("x-amz-server-side-encryption", o.SSE)
	if o.KMSKeyID != "" {
		out.Set("x-amz-server-side-encryption-aws-kms-key-id", o.KMSKeyID)
	}
}

// storedHeaders are the request headers S3 keeps with an object and returns
// on GetObject and HeadObject.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

func (s *Service) getObject(w http.ResponseWriter, c *op.Call, t s3Target) error {
	versionID := c.Request.URL.Query().Get("versionId")
	s.mu.RLock()
	b := s.buckets[t.bucket]
	o, found := b.Objects[t.key]
	if versionID != "" {
		found = false
		for _, v := range b.Versions[t.key] {
			if v.VersionID == versionID {
				o, found = v, true
			}
		}
	}
	s.mu.RUnlock()
	if !found {
		if versionID != "" {
			return &wire.APIError{Status: http.StatusNotFound, Code: "NoSuchVersion",
				Message: "The specified version does not exist.", Extra: map[string]string{"Key": t.key, "VersionId": versionID}}
		}
		return &wire.APIError{Status: http.StatusNotFound, Code: "NoSuchKey", Message: "The specified key does not exist.",
			Extra: map[string]string{"Key": t.key}}
	}

	out := w.Header()
	contentType := o.Headers.Get("Content-Type")
	if contentType == "" {
		contentType = "binary/octet-stream"
	}
	out.Set("Content-Type", contentType)
	for _, name := range storedHeaders {
		if v := o.Headers.Get(name); v != "" {
			out.Set(name, v)
		}
	}
	for name, vs := range o.Headers {
		if k, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok {
			// S3 sends metadata names in lower case, and clients take the
			// key from the header name as sent: bypass Go's canonical form.
			out["x-amz-meta-"+k] = []string{strings.Join(vs, ",")}
		}
	}
	out.Set("ETag", o.ETag)
	out.Set("Last-Modified", o.LastModified.Format(http.TimeFormat))
	out.Set("x-amz-version-id", o.VersionID)
	out.Set("Accept-Ranges", "bytes")
	setEncryptionHeaders(out, o)

	body, status := o.Body, http.StatusOK
	if rng := c.Request.Header.Get("Range"); rng != "" {
		first, last, ok := parseRange(rng, len(o.Body))
		if !ok {
			return &wire.APIError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidRange",
				Message: "The requested range is not satisfiable", Extra: map[string]string{"RangeRequested": rng, "ActualObjectSize": strconv.Itoa(len(o.Body))}}
		}
		body, status = o.Body[first:last+1], http.StatusPartialContent
		out.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(o.Body)))
	} else if strings.EqualFold(c.Request.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		// The whole-object checksum only describes a whole body.
		out.Set("x-amz-checksum-"+o.ChecksumAlg, o.Checksum)
		out.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	out.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if c.Request.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// parseRange reads a single "bytes=first-last", "bytes=first-" or
// "bytes=-suffix" range.
func parseRange(v string, size int) (first, last int, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	var err error
	switch {
	case a == "":
		n, convErr := strconv.Atoi(b)
		if convErr != nil || n <= 0 {
			return 0, 0, false
		}
		first, last = max(0, size-n), size-1
	default:
		if first, err = strconv.Atoi(a); err != nil {
			return 0, 0, false
		}
		last = size - 1
		if b != "" {
			if last, err = strconv.Atoi(b); err != nil {
				return 0, 0, false
			}
			last = min(last, size-1)
		}
	}
	return first, last, first >= 0 && first <= last && first < size
}

// ---- ListObjectsV2 ----

type s3Object struct {
	Key               string   `xml:"Key"`
	LastModified      string   `xml:"LastModified"`
	ETag              string   `xml:"ETag"`
	ChecksumAlgorithm string   `xml:"ChecksumAlgorithm"`
	ChecksumType      string   `xml:"ChecksumType"`
	Size              int      `xml:"Size"`
	StorageClass      string   `xml:"StorageClass"`
	Owner             *s3Owner `xml:"Owner,omitempty"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Xmlns                 string         `xml:"xmlns,attr"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	KeyCount              int            `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	Contents              []s3Object     `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

func (s *Service) listObjectsV2(w http.ResponseWriter, c *op.Call, t s3Target) error {
	q := c.Request.URL.Query()
	prefix, delimiter, startAfter := q.Get("prefix"), q.Get("delimiter"), q.Get("start-after")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return &wire.APIError{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: "Provided max-keys not an integer or within integer range",
				Extra: map[string]string{"ArgumentName": "max-keys", "ArgumentValue": v}}
		}
		maxKeys = min(n, 1000)
	}
	encoding := q.Get("encoding-type")
	if encoding != "" && encoding != "url" {
		return &wire.APIError{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: "Invalid Encoding Method specified in Request",
			Extra: map[string]string{"ArgumentName": "encoding-type", "ArgumentValue": encoding}}
	}
	// The continuation token is opaque to clients: here the last key or
	// common prefix already returned.
	after := startAfter
	token := q.Get("continuation-token")
	if q.Has("continuation-token") {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || !strings.HasPrefix(string(raw), "awssim:") {
			return &wire.APIError{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: "The continuation token provided is incorrect",
				Extra: map[string]string{"ArgumentName": "continuation-token"}}
		}
		after = strings.TrimPrefix(string(raw), "awssim:")
	}

	s.mu.RLock()
	b := s.buckets[t.bucket]
	owner := b.OwnerID
	keys := slices.Sorted(maps.Keys(b.Objects))
	objects := make(map[string]object, len(keys))
	for _, k := range keys {
		objects[k] = *b.Objects[k]
	}
	s.mu.RUnlock()

	enc := func(v string) string {
		if encoding == "url" {
			return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
		}
		return v
	}
	fetchOwner := q.Get("fetch-owner") == "true"
	res := listBucketResult{
		Xmlns: s3Namespace, Name: t.bucket, Prefix: enc(prefix), Delimiter: enc(delimiter), MaxKeys: maxKeys,
		EncodingType: encoding, ContinuationToken: token, StartAfter: enc(startAfter),
	}
	last := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= after {
			continue
		}
		entry := k
		isPrefix := false
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				entry, isPrefix = k[:len(prefix)+i+len(delimiter)], true
			}
		}
		if isPrefix && (entry == last || entry == after) {
			// Keys under a prefix already returned, on this page or
			// the one before, roll up into it.
			continue
		}
		if res.KeyCount == maxKeys {
			res.IsTruncated = true
			break
		}
		res.KeyCount++
		last = entry
		if isPrefix {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc(entry)})
			continue
		}
		o := objects[k]
		obj := s3Object{Key: enc(k), LastModified: s3Time(o.LastModified), ETag: o.ETag, ChecksumAlgorithm: strings.ToUpper(o.ChecksumAlg),
			ChecksumType: "FULL_OBJECT", Size: len(o.Body), StorageClass: "STANDARD"}
		if fetchOwner {
			obj.Owner = &s3Owner{ID: canonicalUserID(owner)}
		}
		res.Contents = append(res.Contents, obj)
	}
	if res.IsTruncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte("awssim:" + last))
	}
	return writeS3XML(w, http.StatusOK, res)
}
