package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgscan/orgscan/internal/awssim"
)

const (
	euReportBucket = "orgscan-reports-eu"
	demoOrg        = "o-7fk2mq9x4a"
	demoMgmt       = "210987654321"
)

// regionalSim is the demo world with a second report bucket, in eu-west-1;
// the demo's own bucket is in us-east-1.
func regionalSim(t *testing.T) *sim {
	t.Helper()
	fx := demoWorld(t)
	fx.Buckets = append(fx.Buckets, awssim.Bucket{Name: euReportBucket, OwnerID: demoMgmt, Region: "eu-west-1"})
	return startSim(t, fx, awssim.Options{})
}

func at(day int) time.Time { return time.Date(2026, 11, day, 6, 0, 0, 0, time.UTC) }

// reportKey is where a scan started at t uploads under prefix.
func reportKey(prefix string, t time.Time) string {
	return prefix + "org=" + demoOrg + "/date=" + t.Format("2006-01-02") + "/orgscan-" + t.Format("20060102T150405Z") + ".json"
}

func (s *sim) headBuckets() int64 { return s.srv.Stats().Operations["s3:HeadBucket"].Requests }

func TestS3InAnyRegion(t *testing.T) {
	for _, tc := range []struct {
		name, bucket, region string
	}{
		{"a bucket in eu-west-1 with --region us-east-1", euReportBucket, "us-east-1"},
		{"a bucket in us-east-1 with --region eu-west-1", reportBucket, "eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := regionalSim(t)
			prefix := "s3://" + tc.bucket + "/history/"
			regionArgs := []string{"--region", tc.region}

			t.Run("the upload lands in the bucket", func(t *testing.T) {
				s.now = func() time.Time { return at(10) }
				heads := s.headBuckets()
				res := s.run(t, append([]string{"scan", "-q", "--out", prefix}, regionArgs...)...)
				if res.code != exitOK {
					t.Fatalf("exit %d: %s", res.code, res.stderr)
				}
				if _, ok := s.srv.Object(tc.bucket, reportKey("history/", at(10))); !ok {
					t.Fatalf("no report in %s; it holds %v", tc.bucket, s.srv.Objects(tc.bucket))
				}
				if n := s.headBuckets() - heads; n != 1 {
					t.Errorf("%d HeadBucket requests; the region is found once per bucket", n)
				}
			})
			t.Run("--baseline reads the earlier report and uploads the new one", func(t *testing.T) {
				s.now = func() time.Time { return at(20) }
				heads := s.headBuckets()
				res := s.run(t, append([]string{"scan", "--log-format", "json", "--out", prefix, "--baseline", prefix, "--fail-on-findings"}, regionArgs...)...)
				if res.code != exitOK {
					t.Fatalf("exit %d, want 0 with nothing new against the baseline: %s", res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, "compared with baseline") || !strings.Contains(res.stderr, "orgscan-20261110T060000Z.json") {
					t.Errorf("the run must compare with the Nov 10 report:\n%s", res.stderr)
				}
				if _, ok := s.srv.Object(tc.bucket, reportKey("history/", at(20))); !ok {
					t.Fatalf("no report in %s; it holds %v", tc.bucket, s.srv.Objects(tc.bucket))
				}
				if n := s.headBuckets() - heads; n != 1 {
					t.Errorf("%d HeadBucket requests for upload, list and read; the region is kept for the run", n)
				}
			})
			t.Run("orgscan diff reads both reports from the bucket", func(t *testing.T) {
				old := "s3://" + tc.bucket + "/" + reportKey("history/", at(10))
				cur := "s3://" + tc.bucket + "/" + reportKey("history/", at(20))
				res := s.run(t, append([]string{"diff", "-f", "json"}, append(regionArgs, old, cur)...)...)
				if res.code != exitOK || !strings.Contains(res.stdout, `"schema_version"`) {
					t.Fatalf("exit %d: %s\n%s", res.code, res.stderr, res.stdout)
				}
			})
			t.Run("every call after the lookup is signed for the bucket's region", func(t *testing.T) {
				want := map[string]string{euReportBucket: "eu-west-1", reportBucket: "us-east-1"}[tc.bucket]
				for _, c := range s.srv.S3Calls() {
					if c.Operation != "HeadBucket" && c.SigningRegion != want {
						t.Errorf("%s %s/%s signed for %s, want %s", c.Operation, c.Bucket, c.Key, c.SigningRegion, want)
					}
				}
			})
		})
	}
}

func TestExpectedBucketOwnerGoesWithEveryS3Call(t *testing.T) {
	s := regionalSim(t)
	prefix := "s3://" + euReportBucket + "/owned/"
	owner := []string{"--expected-bucket-owner", demoMgmt}
	s.now = func() time.Time { return at(10) }
	if res := s.run(t, append([]string{"scan", "-q", "--out", prefix}, owner...)...); res.code != exitOK {
		t.Fatalf("earlier scan: exit %d: %s", res.code, res.stderr)
	}
	s.now = func() time.Time { return at(20) }
	if res := s.run(t, append([]string{"scan", "-q", "--out", prefix, "--baseline", prefix}, owner...)...); res.code != exitOK {
		t.Fatalf("scan with a baseline: exit %d: %s", res.code, res.stderr)
	}
	old := "s3://" + euReportBucket + "/" + reportKey("owned/", at(10))
	if res := s.run(t, append([]string{"diff"}, append(owner, old, old)...)...); res.code != exitOK {
		t.Fatalf("diff: exit %d: %s", res.code, res.stderr)
	}

	t.Run("the simulator received the owner on HeadBucket, ListObjectsV2, GetObject and PutObject", func(t *testing.T) {
		seen := map[string]int{}
		for _, c := range s.srv.S3Calls() {
			seen[c.Operation]++
			if c.ExpectedBucketOwner != demoMgmt {
				t.Errorf("%s %s/%s without the expected owner (got %q)", c.Operation, c.Bucket, c.Key, c.ExpectedBucketOwner)
			}
		}
		for _, op := range []string{"HeadBucket", "ListObjectsV2", "GetObject", "PutObject"} {
			if seen[op] == 0 {
				t.Errorf("no %s request; saw %v", op, seen)
			}
		}
	})
	t.Run("orgscan diff refuses a bucket of another owner with exit 1", func(t *testing.T) {
		res := s.run(t, "diff", "--expected-bucket-owner", "123456789012", old, old)
		if res.code != exitFatal || !strings.Contains(res.stderr, "AccessDenied") {
			t.Fatalf("exit %d, want 1 with AccessDenied: %s", res.code, res.stderr)
		}
	})
	t.Run("orgscan diff refuses an owner that is not an account id as bad usage", func(t *testing.T) {
		if res := s.run(t, "diff", "--expected-bucket-owner", "me", old, old); res.code != exitUsage {
			t.Fatalf("exit %d, want 2: %s", res.code, res.stderr)
		}
	})
}

// plant writes body under key in the demo's report bucket with the
// management account's credentials, as anyone who can write the prefix can.
func plant(t *testing.T, s *sim, key string, body []byte) {
	t.Helper()
	cred, err := s.fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(s.srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
	}, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(reportBucket), Key: aws.String(key), Body: bytes.NewReader(body),
	}); err != nil {
		t.Fatalf("plant %s: %v", key, err)
	}
}

func TestBaselineMustBeAnEarlierReportOfTheSameOrganization(t *testing.T) {
	const prefix = "s3://orgscan-reports/history/"
	for _, tc := range []struct {
		name   string
		edit   func(scanBlock map[string]any)
		reason string
	}{
		{"a report of another organization is refused", func(b map[string]any) { b["organization_id"] = "o-otherorg000" }, `organization "o-otherorg000"`},
		{"a report of a later scan is refused", func(b map[string]any) { b["started_at"] = at(29).Format(time.RFC3339) }, "not before this scan"},
		{"a report whose scan block contradicts its name is refused", func(b map[string]any) { b["started_at"] = at(15).Format(time.RFC3339) }, "its name says"},
		{"a report with escapes in its organization is named safely", func(b map[string]any) { b["organization_id"] = "o-x\x1b[2J" }, `organization "o-x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			// A genuine report from Nov 10, whose content the planted one
			// takes with its scan block changed.
			s.now = func() time.Time { return at(10) }
			genuine := filepath.Join(t.TempDir(), "r.json")
			if res := s.run(t, "scan", "-q", "--out", prefix, "--out", genuine); res.code != exitOK {
				t.Fatalf("earlier scan: exit %d: %s", res.code, res.stderr)
			}
			data, err := os.ReadFile(genuine)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc["scan"].(map[string]any))
			planted, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			key := reportKey("history/", at(20))
			plant(t, s, key, planted)

			s.now = func() time.Time { return at(28) }
			res := s.run(t, "scan", "-q", "--out", prefix, "--baseline", prefix, "--fail-on-findings")
			if res.code != exitFatal {
				t.Fatalf("exit %d, want 1: the run must not pass on a planted baseline: %s", res.code, res.stderr)
			}
			for _, want := range []string{"s3://orgscan-reports/" + key, "refused", tc.reason} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if strings.Contains(res.stderr, "\x1b") {
				t.Errorf("stderr carries an escape: %q", res.stderr)
			}
		})
	}

	t.Run("an NDJSON baseline is checked by its upload metadata", func(t *testing.T) {
		s := startSim(t, demoWorld(t), awssim.Options{})
		s.now = func() time.Time { return at(10) }
		if res := s.run(t, "scan", "-q", "-f", "ndjson", "--out", prefix); res.code != exitOK {
			t.Fatalf("earlier scan: exit %d: %s", res.code, res.stderr)
		}
		s.now = func() time.Time { return at(28) }
		if res := s.run(t, "scan", "-q", "-f", "ndjson", "--baseline", prefix, "--fail-on-findings"); res.code != exitOK {
			t.Fatalf("exit %d, want 0 against a genuine NDJSON baseline: %s", res.code, res.stderr)
		}
		obj, ok := s.srv.Object(reportBucket, strings.TrimSuffix(reportKey("history/", at(10)), ".json")+".ndjson")
		if !ok {
			t.Fatal("no NDJSON report uploaded")
		}
		// The same rows without the metadata of an upload cannot be checked.
		key := strings.TrimSuffix(reportKey("history/", at(20)), ".json") + ".ndjson"
		plant(t, s, key, obj.Body)
		res := s.run(t, "scan", "-q", "-f", "ndjson", "--baseline", prefix)
		if res.code != exitFatal || !strings.Contains(res.stderr, key) || !strings.Contains(res.stderr, "cannot be checked") {
			t.Fatalf("exit %d, want 1 naming %s: %s", res.code, key, res.stderr)
		}
	})
}

func TestDiffOfAnUnreadableS3ReportIsAReadFailure(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	local := filepath.Join(t.TempDir(), "b.json")
	if res := s.run(t, "scan", "-q", "--out", local); res.code != exitOK {
		t.Fatalf("scan: exit %d: %s", res.code, res.stderr)
	}
	for _, tc := range []struct {
		name, src, cause string
	}{
		{"a missing bucket", "s3://missing-bucket/x.json", "NoSuchBucket"},
		{"a missing key", "s3://orgscan-reports/x.json", "NoSuchKey"},
	} {
		t.Run(tc.name+" exits 1, not 2", func(t *testing.T) {
			res := s.run(t, "diff", tc.src, local)
			if res.code != exitFatal || !strings.Contains(res.stderr, tc.cause) {
				t.Fatalf("exit %d, want 1 with %s: %s", res.code, tc.cause, res.stderr)
			}
		})
	}
	t.Run("a download cut short exits 1, not 2 as a malformed report would", func(t *testing.T) {
		report, err := os.ReadFile(local)
		if err != nil {
			t.Fatal(err)
		}
		// An endpoint that promises the whole report and hangs up half way.
		cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-amz-bucket-region", "us-east-1")
			if r.Method == http.MethodHead {
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(report)))
			_, _ = w.Write(report[:len(report)/2])
		}))
		t.Cleanup(cut.Close)
		st, _, errOut := Test()
		env := runEnv{streams: st, now: func() time.Time { return fixedNow }, version: "test",
			credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLECUTSHORT1", "secret", "")}
		code := run(context.Background(), env, []string{"diff", "--endpoint-url", cut.URL, "--region", "us-east-1", "s3://orgscan-reports/r.json", local})
		if code != exitFatal {
			t.Fatalf("exit %d, want 1: %s", code, errOut)
		}
	})
}
