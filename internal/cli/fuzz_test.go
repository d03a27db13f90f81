package cli

import (
	"strings"
	"testing"
)

// FuzzParseAccountIDs: an accounts file is outside input. Every id the
// parser returns is 12 digits; it never panics.
func FuzzParseAccountIDs(f *testing.F) {
	f.Add([]byte("123456789012\n# comment\n  210987654321  # prod\n\n"))
	f.Add([]byte("12345\n"))
	f.Add([]byte("\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := parseAccountIDs(data)
		if err != nil {
			return
		}
		for _, id := range ids {
			if !accountIDPattern.MatchString(id) {
				t.Fatalf("parser returned %q", id)
			}
		}
	})
}

// FuzzParseS3URI: what parses names a valid bucket and a key without
// control characters, and a prefix ends in a slash.
func FuzzParseS3URI(f *testing.F) {
	for _, s := range []string{"s3://bucket/key.json", "s3://bucket/prefix/", "s3://bucket", "s3:///k", "s3://b/\x01", "s3://my.bucket/a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		loc, err := parseS3URI(uri)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") && !strings.ContainsAny(uri, "\n\r") {
				t.Fatalf("multi-line error for %q: %v", uri, err)
			}
			return
		}
		if !bucketPattern.MatchString(loc.Bucket) {
			t.Fatalf("invalid bucket %q accepted", loc.Bucket)
		}
		if loc.Prefix != (loc.Key == "" || strings.HasSuffix(loc.Key, "/")) {
			t.Fatalf("prefix flag wrong for %q", uri)
		}
		if loc.String() != uri {
			t.Fatalf("round trip %q -> %q", uri, loc.String())
		}
	})
}
