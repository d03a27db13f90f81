package assume_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
	"github.com/orgscan/orgscan/pkg/assume"
)

// TestRootSessionsAreScopedByTheTaskPolicyAsked: a root session is the
// audit policy's unless another is asked for, and the delete policy's can
// delete what the audit policy's may only read.
func TestRootSessionsAreScopedByTheTaskPolicyAsked(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 3, Accounts: 3, RootKeys: 1})
	member := fx.Accounts[1]
	if len(member.Root.AccessKeys) == 0 {
		t.Fatal("the generated member has no root key")
	}
	key := member.Root.AccessKeys[0].ID
	w := simtest.Start(t, fx, awssim.Options{}, 2)
	tests := []struct {
		name      string
		task      string
		mayDelete bool
	}{
		{"no task policy is the audit policy, which cannot delete", "", false},
		{"the audit policy asked by name cannot delete", assume.TaskAuditRootUserCredentials, false},
		{"the delete policy asked by name can delete", assume.TaskDeleteRootUserCredentials, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := assume.NewRootMethod(w.STS, assume.RootOptions{Partition: w.Caller.Partition, TaskPolicy: tc.task, Now: time.Now})
			creds := m.Credentials(member.ID)
			_, err := w.IAM.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(key)},
				func(o *iam.Options) { o.Credentials = creds })
			var ae smithy.APIError
			switch {
			case tc.mayDelete && err != nil:
				t.Fatalf("the delete session could not delete: %v", err)
			case !tc.mayDelete && (!errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied"):
				t.Fatalf("the audit session's delete: %v, want AccessDenied", err)
			}
		})
	}
}
