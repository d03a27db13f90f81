package sink

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Endpoint answers HeadBucket as head says and every other request with
// an empty listing, and notes each request's method and signing region.
type s3Endpoint struct {
	head func(w http.ResponseWriter)

	mu   sync.Mutex
	seen []string
}

var scopeRegion = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/s3/`)

func (e *s3Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	region := ""
	if m := scopeRegion.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	e.mu.Lock()
	e.seen = append(e.seen, r.Method+" "+region)
	e.mu.Unlock()
	if r.Method == http.MethodHead {
		e.head(w)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(`<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`))
}

func (e *s3Endpoint) requests() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.seen, ", ")
}

func regional(t *testing.T, e *s3Endpoint) *RegionalS3 {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEREGIONAL1", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return NewRegionalS3(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func TestRegionalS3(t *testing.T) {
	list := func(c *RegionalS3) error {
		_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("reports")})
		return err
	}
	tests := []struct {
		name string
		head func(w http.ResponseWriter)
		// want is what the endpoint sees over two listings.
		want    string
		wantErr bool
	}{
		{"a redirect's region is used and kept for the next call",
			func(w http.ResponseWriter) {
				w.Header().Set("x-amz-bucket-region", "eu-west-1")
				w.WriteHeader(http.StatusMovedPermanently)
			},
			"HEAD us-east-1, GET eu-west-1, GET eu-west-1", false},
		{"a refusal that names the region is enough",
			func(w http.ResponseWriter) {
				w.Header().Set("x-amz-bucket-region", "ap-southeast-2")
				w.WriteHeader(http.StatusForbidden)
			},
			"HEAD us-east-1, GET ap-southeast-2, GET ap-southeast-2", false},
		{"an answer without a region leaves the configured one and asks again",
			func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) },
			"HEAD us-east-1, GET us-east-1, HEAD us-east-1, GET us-east-1", false},
		{"a region that is no region name is refused before any other call",
			func(w http.ResponseWriter) {
				w.Header().Set("x-amz-bucket-region", "evil.example/x")
				w.WriteHeader(http.StatusMovedPermanently)
			},
			"HEAD us-east-1, HEAD us-east-1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &s3Endpoint{head: tc.head}
			c := regional(t, e)
			for range 2 {
				err := list(c)
				var bad *InvalidBucketRegionError
				if tc.wantErr != errors.As(err, &bad) {
					t.Fatalf("error = %v, want an InvalidBucketRegionError: %v", err, tc.wantErr)
				}
				if !tc.wantErr && err != nil {
					t.Fatal(err)
				}
			}
			if got := e.requests(); got != tc.want {
				t.Errorf("requests %s, want %s", got, tc.want)
			}
		})
	}
}
