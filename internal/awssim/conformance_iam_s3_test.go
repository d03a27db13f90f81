package awssim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgscan/orgscan/internal/awssim/auth"
)

// cliCreds turns an SDK config's credentials into the AWS CLI's.
func cliCreds(t *testing.T, cfg aws.Config) [3]string {
	t.Helper()
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("retrieve credentials: %v", err)
	}
	return [3]string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken}
}

// runCLIJSON runs the CLI and decodes its JSON output into v.
func runCLIJSON(t *testing.T, srv *Server, creds [3]string, v any, args ...string) {
	t.Helper()
	out, err := awsCLI(t, srv, creds, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s: decode output: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The CLI takes seconds to start, so the subtests run in parallel and each
// uses its own account or session.
func TestCLIConformanceIAM(t *testing.T) {
	t.Parallel()
	srv, _ := startIAMServer(t)
	role := cliCreds(t, roleIn(t, srv, acctRich))
	// A report with the default single poll: STARTED, then COMPLETE.
	reporter := cliCreds(t, roleIn(t, srv, acctOdd))
	rootRich := cliCreds(t, rootIn(t, srv, acctRich, "IAMAuditRootUserCredentials"))

	t.Run("get-account-summary in an assumed role matches the fixture", func(t *testing.T) {
		t.Parallel()
		var out struct{ SummaryMap map[string]int32 }
		runCLIJSON(t, srv, role, &out, "iam", "get-account-summary")
		want := srv.iam.Summary(srv.world.Account(acctRich))
		if len(out.SummaryMap) != len(want) {
			t.Errorf("CLI shows %d keys, want %d", len(out.SummaryMap), len(want))
		}
		for _, e := range want {
			if got, ok := out.SummaryMap[e.Key]; !ok || got != e.Value {
				t.Errorf("%s = %d (present %v), want %d", e.Key, got, ok, e.Value)
			}
		}
		if out.SummaryMap["Users"] != 7 || out.SummaryMap["AccountAccessKeysPresent"] != 1 {
			t.Errorf("fixture values lost: %v", out.SummaryMap)
		}
	})
	t.Run("list-organizations-features from the management account", func(t *testing.T) {
		t.Parallel()
		var out struct {
			OrganizationID  string `json:"OrganizationId"`
			EnabledFeatures []string
		}
		runCLIJSON(t, srv, mgmtCLICreds, &out, "iam", "list-organizations-features")
		if out.OrganizationID != "o-abcdefghij" || strings.Join(out.EnabledFeatures, ",") != "RootCredentialsManagement,RootSessions" {
			t.Errorf("features = %+v", out)
		}
	})
	t.Run("get-credential-report before any report is ReportNotPresent", func(t *testing.T) {
		t.Parallel()
		out, err := awsCLI(t, srv, role, "iam", "get-credential-report")
		if err == nil || !strings.Contains(out, "ReportNotPresent") {
			t.Fatalf("aws iam get-credential-report = %v\n%s", err, out)
		}
	})
	t.Run("generate-credential-report then get-credential-report", func(t *testing.T) {
		t.Parallel()
		var states []string
		for range 3 {
			var gen struct{ State string }
			runCLIJSON(t, srv, reporter, &gen, "iam", "generate-credential-report")
			states = append(states, gen.State)
			if gen.State == "COMPLETE" {
				break
			}
		}
		if strings.Join(states, ",") != "STARTED,COMPLETE" {
			t.Errorf("states = %v", states)
		}
		var rep struct{ Content, ReportFormat, GeneratedTime string }
		runCLIJSON(t, srv, reporter, &rep, "iam", "get-credential-report")
		content, err := base64.StdEncoding.DecodeString(rep.Content)
		if err != nil {
			t.Fatalf("the CLI prints the blob base64: %v", err)
		}
		records, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
		if err != nil || len(records) != 2 {
			t.Fatalf("report = %q, %v", content, err)
		}
		if records[1][0] != "<root_account>" || records[1][1] != auth.RootUserARN(acctOdd) || records[1][4] != "no_information" ||
			rep.ReportFormat != "text/csv" || rep.GeneratedTime == "" {
			t.Errorf("report %+v, root row %v", rep, records[1])
		}
	})
	t.Run("list-access-keys in a root session lists the root keys", func(t *testing.T) {
		t.Parallel()
		var out struct {
			AccessKeyMetadata []struct{ AccessKeyId, Status string }
		}
		runCLIJSON(t, srv, rootRich, &out, "iam", "list-access-keys")
		if len(out.AccessKeyMetadata) != 2 || out.AccessKeyMetadata[0].AccessKeyId != "AKIAROOTRICHACTIVE01" ||
			out.AccessKeyMetadata[1].Status != "Inactive" {
			t.Errorf("keys = %+v", out.AccessKeyMetadata)
		}
	})
	t.Run("a root session's task policy denies other actions to the CLI too", func(t *testing.T) {
		t.Parallel()
		out, err := awsCLI(t, srv, rootRich, "iam", "list-users")
		if err == nil || !strings.Contains(out, "AccessDenied") || !strings.Contains(out, "explicit deny in a session policy") {
			t.Fatalf("aws iam list-users = %v\n%s", err, out)
		}
	})
	t.Run("list-virtual-mfa-devices shows the root user's virtual device as assigned", func(t *testing.T) {
		t.Parallel()
		type device struct {
			SerialNumber string
			User         struct{ Arn, UserId string }
			EnableDate   string
		}
		var assigned, unassigned struct{ VirtualMFADevices []device }
		runCLIJSON(t, srv, role, &assigned, "iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned")
		runCLIJSON(t, srv, role, &unassigned, "iam", "list-virtual-mfa-devices", "--assignment-status", "Unassigned")
		if len(assigned.VirtualMFADevices) != 1 || len(unassigned.VirtualMFADevices) != 0 {
			t.Fatalf("assigned %+v, unassigned %+v", assigned, unassigned)
		}
		d := assigned.VirtualMFADevices[0]
		if d.SerialNumber != "arn:aws:iam::"+acctRich+":mfa/root-account-mfa-device" || d.User.Arn != auth.RootUserARN(acctRich) ||
			!strings.HasPrefix(d.EnableDate, "2023-01-01T") {
			t.Errorf("device = %+v", d)
		}
	})
	t.Run("list-virtual-mfa-devices is outside the audit task policy of a root session", func(t *testing.T) {
		t.Parallel()
		out, err := awsCLI(t, srv, rootRich, "iam", "list-virtual-mfa-devices")
		if err == nil || !strings.Contains(out, "AccessDenied") {
			t.Fatalf("aws iam list-virtual-mfa-devices = %v\n%s", err, out)
		}
	})
}

func TestCLIConformanceS3(t *testing.T) {
	t.Parallel()
	srv, _ := startIAMServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "report.json")
	body := `{"accounts":12,"findings":["root-access-key"]}`
	if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	key := "audits/org=o-abcdefghij/date=2026-03-04/orgscan.json"

	t.Run("put-object with SSE, metadata, a checksum and the expected owner", func(t *testing.T) {
		var out struct{ ETag, VersionId, ServerSideEncryption, ChecksumSHA256 string }
		runCLIJSON(t, srv, mgmtCLICreds, &out, "s3api", "put-object", "--bucket", reportsBucket, "--key", key, "--body", src,
			"--server-side-encryption", "aws:kms", "--content-type", "application/json", "--metadata", "organization-id=o-abcdefghij",
			"--checksum-algorithm", "SHA256", "--expected-bucket-owner", testMgmtAccount)
		obj, ok := srv.Object(reportsBucket, key)
		if !ok || string(obj.Body) != body {
			t.Fatalf("stored %q (%v)", obj.Body, ok)
		}
		if out.VersionId != obj.VersionID || out.ETag != obj.ETag || out.ServerSideEncryption != "aws:kms" || out.ChecksumSHA256 == "" {
			t.Errorf("put-object output %+v", out)
		}
		if obj.Header.Get("X-Amz-Meta-Organization-Id") != "o-abcdefghij" || obj.Header.Get("Content-Type") != "application/json" ||
			obj.Header.Get("X-Amz-Checksum-Sha256") != out.ChecksumSHA256 {
			t.Errorf("recorded headers %v", obj.Header)
		}
	})
	t.Run("get-object returns the body and its metadata", func(t *testing.T) {
		dst := filepath.Join(dir, "copy.json")
		var out struct {
			ContentType string
			Metadata    map[string]string
			VersionId   string
		}
		runCLIJSON(t, srv, mgmtCLICreds, &out, "s3api", "get-object", "--bucket", reportsBucket, "--key", key, dst)
		got, err := os.ReadFile(dst)
		if err != nil || string(got) != body {
			t.Fatalf("downloaded %q, %v", got, err)
		}
		if out.ContentType != "application/json" || out.Metadata["organization-id"] != "o-abcdefghij" || out.VersionId == "" {
			t.Errorf("get-object output %+v", out)
		}
	})
	t.Run("a mismatched expected owner is refused", func(t *testing.T) {
		t.Parallel()
		out, err := awsCLI(t, srv, mgmtCLICreds, "s3api", "put-object", "--bucket", reportsBucket, "--key", "x", "--body", src,
			"--expected-bucket-owner", "222222222222")
		if err == nil || !strings.Contains(out, "AccessDenied") {
			t.Fatalf("aws s3api put-object = %v\n%s", err, out)
		}
	})
	t.Run("a bucket in another region is reached through the redirect the CLI follows", func(t *testing.T) {
		t.Parallel()
		const eu = "cli-eu-audits"
		runCLIJSON(t, srv, mgmtCLICreds, nil, "s3api", "create-bucket", "--bucket", eu, "--region", "eu-west-1",
			"--create-bucket-configuration", "LocationConstraint=eu-west-1")
		// botocore answers a 301 (for HEAD, its x-amz-bucket-region alone)
		// by signing again for the region S3 named: each call below is
		// signed for us-east-1 first, then for eu-west-1.
		var head struct{ BucketRegion string }
		runCLIJSON(t, srv, mgmtCLICreds, &head, "s3api", "head-bucket", "--bucket", eu, "--expected-bucket-owner", testMgmtAccount)
		if head.BucketRegion != "eu-west-1" {
			t.Errorf("head-bucket output %+v", head)
		}
		runCLIJSON(t, srv, mgmtCLICreds, nil, "s3api", "put-object", "--bucket", eu, "--key", "r.json", "--body", src)
		if obj, ok := srv.Object(eu, "r.json"); !ok || string(obj.Body) != body {
			t.Fatalf("stored %q (%v)", obj.Body, ok)
		}
		var got []string
		for _, c := range srv.S3Calls() {
			if c.Bucket == eu && c.Operation != "CreateBucket" {
				got = append(got, c.Operation+" "+c.SigningRegion)
			}
		}
		want := []string{"HeadBucket us-east-1", "HeadBucket eu-west-1", "PutObject us-east-1", "PutObject eu-west-1"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("the simulator saw %v, want %v: a redirect served for each call", got, want)
		}
	})
}
