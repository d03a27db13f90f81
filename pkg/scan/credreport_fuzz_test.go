package scan_test

import (
	"testing"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// FuzzParseCredentialReport: a credential report is outside input; the
// parser must never panic, and what it returns must be well formed.
func FuzzParseCredentialReport(f *testing.F) {
	f.Add([]byte("user,arn,mfa_active,access_key_1_active,access_key_1_last_rotated\n<root_account>,arn:aws:iam::1:root,true,true,2020-01-01T00:00:00+00:00\n"))
	f.Add([]byte("user\n<root_account>\n"))
	f.Add([]byte("\"unterminated"))
	gen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, err := scan.ParseCredentialReport(data, gen)
		if err != nil {
			return
		}
		if rc.Source != scan.SourceCredentialReport || !rc.AsOf.Equal(gen) {
			t.Fatalf("source %q as_of %s", rc.Source, rc.AsOf)
		}
		if len(rc.AccessKeys) > 2 || len(rc.SigningCertificates) > 2 {
			t.Fatalf("a root user has at most two keys and two certificates: %+v", rc)
		}
		if rc.AccessKeys == nil || rc.SigningCertificates == nil {
			t.Fatal("lists must not be nil")
		}
	})
}
