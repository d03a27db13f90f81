package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
)

// TestBadInputIsOneLineExitTwoBeforeAnyAWSCall: every case names the input
// and the fix, on one line, and the simulator sees no request.
func TestBadInputIsOneLineExitTwoBeforeAnyAWSCall(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	binary := write("binary.txt", []byte("123456789012\n\x00\x01\x02"))
	huge := write("huge.txt", []byte(strings.Repeat("123456789012\n", 400_000)))
	badLine := write("bad.txt", []byte("# prod\n123456789012\n12345\n"))
	// Root writes through permission bits; /proc takes no new files from
	// anyone.
	unwritable := "/proc"
	tests := []struct {
		name string
		args []string
		want string // a word the message must name
	}{
		{"an account id that is not 12 digits", []string{"--accounts", "12345"}, "12345"},
		{"an excluded account id with letters", []string{"--exclude-accounts", "12345678901a"}, "12345678901a"},
		{"a malformed OU id", []string{"--ou", "ou-BAD"}, "ou-BAD"},
		{"a malformed excluded OU id", []string{"--exclude-ou", "r-"}, "r-"},
		{"an invalid role name", []string{"--role-name", "bad role!"}, "bad role!"},
		{"a role ARN template without {account_id}", []string{"--role-arn-template", "arn:aws:iam::123456789012:role/Audit"}, "{account_id}"},
		{"a role ARN template that is not a role ARN", []string{"--role-arn-template", "arn:aws:s3:::{account_id}"}, "role"},
		{"an external id too short", []string{"--external-id", "x"}, "external id"},
		{"an external id with bad characters", []string{"--external-id", "has space"}, "external id"},
		{"concurrency 0", []string{"--concurrency", "0"}, "--concurrency"},
		{"negative concurrency", []string{"--concurrency", "-3"}, "--concurrency"},
		{"concurrency over 1000", []string{"--concurrency", "1001"}, "--concurrency"},
		{"an unknown format", []string{"-f", "xml"}, "xml"},
		{"an out file with an unknown extension", []string{"--out", filepath.Join(dir, "report.xlsx")}, "report.xlsx"},
		{"an out file in a missing directory", []string{"--out", filepath.Join(dir, "nope", "r.json")}, "does not exist"},
		{"an out file in a read-only directory", []string{"--out", filepath.Join(unwritable, "r.json")}, "writable"},
		{"an out path that is a directory", []string{"--out", dir}, "directory"},
		{"an s3 URI without a key", []string{"--out", "s3://bucket"}, "no key"},
		{"an s3 URI with an empty bucket", []string{"--out", "s3:///key.json"}, "empty bucket"},
		{"an s3 URI with an invalid bucket", []string{"--out", "s3://Bad_Bucket/r.json"}, "Bad_Bucket"},
		{"an s3 key with an unknown extension", []string{"--out", "s3://bucket/report.xlsx"}, "extension"},
		{"a missing accounts file", []string{"--accounts-file", filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{"a binary accounts file", []string{"--accounts-file", binary}, "not a text file"},
		{"a huge accounts file", []string{"--accounts-file", huge}, "larger than"},
		{"an accounts file with a bad line", []string{"--accounts-file", badLine}, "line 3"},
		{"role name and template together", []string{"--role-name", "A", "--role-arn-template", "arn:aws:iam::{account_id}:role/B"}, "contradict"},
		{"role flags with assume-root", []string{"--access", "assume-root", "--external-id", "abc123"}, "assume-root"},
		{"a root session longer than 15 minutes", []string{"--access", "assume-root", "--duration", "1h"}, "15m"},
		{"an unknown access method", []string{"--access", "magic"}, "magic"},
		{"an account both requested and excluded", []string{"--accounts", "123456789012", "--exclude-accounts", "123456789012"}, "123456789012"},
		{"an OU both selected and excluded", []string{"--ou", "ou-ab12-abcdefgh", "--exclude-ou", "ou-ab12-abcdefgh"}, "ou-ab12-abcdefgh"},
		{"a KMS key without aws:kms", []string{"--out", "s3://bucket/p/", "--sse-kms-key-id", "arn:aws:kms:us-east-1:123456789012:key/x"}, "aws:kms"},
		{"S3 options without an S3 target", []string{"--sse", "aws:kms"}, "s3://"},
		{"details thresholds without --details", []string{"--recent-days", "30"}, "--details"},
		{"a duration STS refuses", []string{"--duration", "5m"}, "--duration"},
		{"an unknown flag", []string{"--frobnicate"}, "frobnicate"},
		{"a stray argument", []string{"extra"}, "extra"},
		{"a baseline that is not a prefix", []string{"--baseline", "s3://bucket/report.json"}, "prefix"},
		{"a bad expected bucket owner", []string{"--out", "s3://bucket/p/", "--expected-bucket-owner", "me"}, "me"},
	}
	s := startSim(t, awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 3}), awssim.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.requests()
			res := s.run(t, append([]string{"scan"}, tc.args...)...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr: %s", res.code, res.stderr)
			}
			msg := strings.TrimSuffix(res.stderr, "\n")
			if strings.Contains(msg, "\n") || msg == "" {
				t.Errorf("want one line on stderr, got %q", res.stderr)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not name %q", msg, tc.want)
			}
			if res.stdout != "" {
				t.Errorf("stdout must stay empty, got %q", res.stdout)
			}
			if after := s.requests(); after != before {
				t.Errorf("%d AWS requests were made before the usage error", after-before)
			}
		})
	}
}
