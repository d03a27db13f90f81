package assume

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestPartitionOf(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:iam::123456789012:user/alice", "aws"},
		{"arn:aws-cn:sts::123456789012:assumed-role/Audit/s", "aws-cn"},
		{"arn:aws-us-gov:iam::123456789012:root", "aws-us-gov"},
	}
	for _, tc := range tests {
		t.Run(tc.arn, func(t *testing.T) {
			got, err := partitionOf(tc.arn)
			if err != nil || got != tc.want {
				t.Fatalf("partitionOf = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "not-an-arn", "arn::iam::1:user/x", "arn:aws:iam"} {
		if _, err := partitionOf(bad); !errors.Is(err, errBadARN) {
			t.Errorf("partitionOf(%q) error = %v, want errBadARN", bad, err)
		}
	}
}

func TestSessionNameIdentifiesOrgscanAndTheCaller(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:iam::123456789012:user/alice", "orgscan-alice"},
		{"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/bob@example.com", "orgscan-bob@example.com"},
		{"arn:aws:iam::123456789012:user/ünïcode name", "orgscan-ncodename"},
		{"arn:aws:iam::123456789012:user/" + strings.Repeat("x", 80), "orgscan-" + strings.Repeat("x", 56)},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got := SessionName(Caller{ARN: tc.arn})
			if got != tc.want {
				t.Fatalf("SessionName = %q, want %q", got, tc.want)
			}
			if err := ValidateSessionName(got); err != nil {
				t.Fatalf("the default session name is invalid: %v", err)
			}
		})
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name  string
		check func() error
		ok    bool
	}{
		{"a plain role name", func() error { return ValidateRoleName("OrgScanAudit") }, true},
		{"a role name with a space", func() error { return ValidateRoleName("Org Scan") }, false},
		{"a role name of 65 characters", func() error { return ValidateRoleName(strings.Repeat("a", 65)) }, false},
		{"a template with a path", func() error { return ValidateRoleTemplate("arn:{partition}:iam::{account_id}:role/sec/Audit") }, true},
		{"a template without the account", func() error { return ValidateRoleTemplate("arn:aws:iam::123456789012:role/Audit") }, false},
		{"a template for a user", func() error { return ValidateRoleTemplate("arn:aws:iam::{account_id}:user/Audit") }, false},
		{"an external id", func() error { return ValidateExternalID("a1b2-c3d4:e5/f6@g7") }, true},
		{"an external id of one character", func() error { return ValidateExternalID("a") }, false},
		{"an external id of 1225 characters", func() error { return ValidateExternalID(strings.Repeat("a", 1225)) }, false},
		{"an external id with a space", func() error { return ValidateExternalID("a b") }, false},
		{"a session name", func() error { return ValidateSessionName("orgscan-audit") }, true},
		{"a session name of one character", func() error { return ValidateSessionName("o") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check(); (err == nil) != tc.ok {
				t.Fatalf("error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestExternalIDErrorDoesNotEchoTheID(t *testing.T) {
	err := ValidateExternalID("secret value")
	if err == nil || strings.Contains(err.Error(), "secret value") {
		t.Fatalf("error %v must not repeat the external id", err)
	}
}

func TestRedactSecrets(t *testing.T) {
	in := `Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=abcdef0123 and X-Amz-Security-Token=IQoJtoken&x=1 "SessionToken":"tok" SecretAccessKey=wJalr <SecretAccessKey>xmlsecret</SecretAccessKey>`
	out := RedactSecrets(in)
	for _, secret := range []string{"abcdef0123", "IQoJtoken", "wJalr", `"tok"`, "xmlsecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survives in %q", secret, out)
		}
	}
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func TestRetryerRetriesThrottlingLongAndOtherFailuresBriefly(t *testing.T) {
	r, ok := newRetryer().(*boundedRetryer)
	if !ok {
		t.Fatal("newRetryer must return the bounded retryer")
	}
	throttled := apiErr{"Throttling"}
	broken := apiErr{"InternalFailure"}
	if r.MaxAttempts() < 100 {
		t.Errorf("MaxAttempts %d: a throttled call must keep trying", r.MaxAttempts())
	}
	if _, err := r.RetryDelay(50, throttled); err != nil {
		t.Errorf("the 50th throttled attempt gave up: %v", err)
	}
	if _, err := r.RetryDelay(maxOtherAttempts, broken); !errors.Is(err, broken) {
		t.Errorf("a server error after %d attempts must end with the error itself, got %v", maxOtherAttempts, err)
	}
	for attempt := 1; attempt < 30; attempt++ {
		d, err := r.RetryDelay(attempt, throttled)
		if err != nil || d <= 0 || d > maxBackoff {
			t.Fatalf("attempt %d: delay %s, %v", attempt, d, err)
		}
	}
	// No retry token bucket: thousands of throttled retries never run out.
	for range 5000 {
		if _, err := r.GetRetryToken(t.Context(), throttled); err != nil {
			t.Fatalf("retry token refused: %v", err)
		}
	}
	if d, _ := (backoff{}).BackoffDelay(1, throttled); d < throttleBaseDelay/2 || d > throttleBaseDelay {
		t.Errorf("first throttle delay %s outside [%s, %s]", d, throttleBaseDelay/2, throttleBaseDelay)
	}
}
