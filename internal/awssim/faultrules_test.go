package awssim

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/faults"
)

// TestAnswerLostAfterTheDeletion: a LoseAnswer rule lets the deletion take
// effect and drops the connection before the answer, as a network failure
// between IAM and the client does; the client's retry then meets
// NoSuchEntity.
func TestAnswerLostAfterTheDeletion(t *testing.T) {
	const key = "AKIAROOTRICHACTIVE01"
	srv := startServer(t, Options{Fixture: iamFixture(), FaultRules: []faults.Rule{
		{Service: "iam", Op: "DeleteAccessKey", Account: acctRich, Kind: faults.LoseAnswer, Times: 1},
	}})
	cfg := rootIn(t, srv, acctRich, deleteTask)
	t.Run("the client sees a dropped connection, not an answer", func(t *testing.T) {
		_, err := iam.NewFromConfig(cfg).DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(key)})
		var ae smithy.APIError
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("err %v; want a transport error", err)
		}
	})
	t.Run("the deletion took effect all the same", func(t *testing.T) {
		for _, k := range srv.RootUser(acctRich).AccessKeys {
			if k.ID == key {
				t.Fatal("the key is still there")
			}
		}
	})
	t.Run("a retry meets NoSuchEntity", func(t *testing.T) {
		retrying := cfg.Copy()
		retrying.Retryer = func() aws.Retryer { return retry.NewStandard() }
		_, err := iam.NewFromConfig(retrying).DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(key)})
		wantError(t, err, "NoSuchEntity", 404, key)
	})
	t.Run("both attempts count as mutations, the lost one as a failure", func(t *testing.T) {
		st := srv.Stats().Operations["iam:DeleteAccessKey"]
		if st.Mutations != 2 || st.Failed != 2 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestRuleRefusesOneAccount: an Error rule aimed at one account's
// AssumeRoot refuses it with the rule's answer, and no other account's.
func TestRuleRefusesOneAccount(t *testing.T) {
	srv := startServer(t, Options{Fixture: iamFixture(), FaultRules: []faults.Rule{
		{Service: "sts", Op: "AssumeRoot", Account: acctRich, Kind: faults.Error, Status: 403, Code: "AccessDenied", Message: "denied for this test"},
	}})
	client := sts.NewFromConfig(mgmtConfig(srv))
	assumeRoot := func(account string) error {
		_, err := client.AssumeRoot(context.Background(), &sts.AssumeRootInput{
			TargetPrincipal: aws.String(account),
			TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(auth.RootTaskPolicyPrefix + deleteTask)},
		})
		return err
	}
	wantError(t, assumeRoot(acctRich), "AccessDenied", 403, "denied for this test")
	if err := assumeRoot(acctBare); err != nil {
		t.Fatalf("another account: %v", err)
	}
}
