package cli

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
)

// TestDemoSimulatorRefusesTheExamplesPublishedKeys plays another local
// user: they read the demo's port from /proc/net/tcp and sign with the keys
// published in examples/demo-world.json. The demo's simulator must refuse
// them and accept only the keys of its own run.
func TestDemoSimulatorRefusesTheExamplesPublishedKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, admin, err := startDemoSimulator(ctx, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		t.Fatal(err)
	}
	published, err := fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	identify := func(c awssim.StaticCredential) error {
		cfg := aws.Config{
			Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
			Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		}
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}

	t.Run("the published keys are refused", func(t *testing.T) {
		err := identify(published)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
			t.Fatalf("GetCallerIdentity with the published keys: %v, want InvalidClientTokenId", err)
		}
	})
	t.Run("the run's own keys are accepted", func(t *testing.T) {
		if err := identify(admin); err != nil {
			t.Fatalf("GetCallerIdentity with the run's keys: %v", err)
		}
	})
	t.Run("the run's keys are not the published ones and differ between runs", func(t *testing.T) {
		srv2, admin2, err := startDemoSimulator(ctx, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		srv2.Close()
		for _, c := range []awssim.StaticCredential{admin, admin2} {
			if c.AccessKeyID == published.AccessKeyID || c.SecretAccessKey == published.SecretAccessKey {
				t.Fatalf("a run uses a published key: %s", c.AccessKeyID)
			}
		}
		if admin.AccessKeyID == admin2.AccessKeyID || admin.SecretAccessKey == admin2.SecretAccessKey {
			t.Fatal("two runs share their credentials")
		}
		if len(admin.AccessKeyID) != 20 || len(admin.SecretAccessKey) != 40 {
			t.Errorf("key %q (secret of %d characters) is not in IAM's shape", admin.AccessKeyID, len(admin.SecretAccessKey))
		}
	})
}
