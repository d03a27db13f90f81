package cli

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

// TestExpiredSSOSessionSaysToLogIn runs the default credential chain with an
// SSO profile whose cached token has expired: the SDK cannot refresh it
// offline, and the message must say what to do.
func TestExpiredSSOSessionSaysToLogIn(t *testing.T) {
	s := startSim(t, awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 2}), awssim.Options{})
	home := t.TempDir()
	config := filepath.Join(home, "config")
	if err := os.WriteFile(config, []byte(`[profile audit]
sso_session = corp
sso_account_id = 100000000000
sso_role_name = Audit
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.invalid/start
sso_region = us-east-1
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	expired := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	// The SDK names the cache file after the SHA-1 of the session name.
	sum := sha1.Sum([]byte("corp"))
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), []byte(`{"accessToken":"x","expiresAt":"`+expired+`","region":"us-east-1","startUrl":"https://corp.awsapps.invalid/start"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	st, _, errOut := Test()
	env := runEnv{streams: st, now: time.Now, version: "test"}
	code := run(context.Background(), env, []string{"scan", "-q", "--profile", "audit", "--endpoint-url", s.srv.URL()})
	if code != exitFatal {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "aws sso login") {
		t.Errorf("message %q does not say to run aws sso login", errOut.String())
	}
	if s.requests() != 0 {
		t.Errorf("%d requests reached the endpoint with no usable credentials", s.requests())
	}
}

// TestMissingCredentialsSayWhereToSetThem: no keys, no profile, no
// instance role; the message names the ways to provide credentials.
func TestMissingCredentialsSayWhereToSetThem(t *testing.T) {
	s := startSim(t, awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 2}), awssim.Options{})
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
	st, _, errOut := Test()
	env := runEnv{streams: st, now: time.Now, version: "test"}
	code := run(context.Background(), env, []string{"scan", "-q", "--endpoint-url", s.srv.URL()})
	if code != exitFatal {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	msg := errOut.String()
	if !strings.Contains(msg, "no AWS credentials were found") || !strings.Contains(msg, "AWS_ACCESS_KEY_ID") {
		t.Errorf("message %q does not say how to provide credentials", msg)
	}
	if strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Errorf("message is not one line: %q", msg)
	}
	if s.requests() != 0 {
		t.Errorf("%d requests reached the endpoint with no credentials", s.requests())
	}
}
