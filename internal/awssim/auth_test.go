package awssim

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func TestAuthentication(t *testing.T) {
	srv := startServer(t, Options{})
	tests := []struct {
		name     string
		cfg      aws.Config
		wantCode string
	}{
		{"a known key with the right secret is accepted", mgmtConfig(srv), ""},
		{"a wrong secret is a signature mismatch", sdkConfig(srv, testMgmtKey, "wrong", ""), "SignatureDoesNotMatch"},
		{"an unknown key is an invalid client token", sdkConfig(srv, "AKIANOSUCHKEY0000000", "x", ""), "InvalidClientTokenId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sts.NewFromConfig(tc.cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("GetCallerIdentity: %v", err)
				}
				if got := aws.ToString(out.Account); got != testMgmtAccount {
					t.Fatalf("account = %q, want %q", got, testMgmtAccount)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
				t.Fatalf("error = %v, want code %s", err, tc.wantCode)
			}
		})
	}
}

func TestCLIGetCallerIdentity(t *testing.T) {
	srv := startServer(t, Options{})
	out, err := awsCLI(t, srv, mgmtCLICreds, "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
	}
	t.Log(out)
}
