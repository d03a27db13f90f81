package scan

import (
	"context"
	"testing"

	"github.com/aws/smithy-go"
)

// TestRoleNotAssumableComesFromTheStage: AWS says AccessDenied alike for a
// role that cannot be assumed and for a read refused once inside; the
// stage tells them apart, whatever the message's wording.
func TestRoleNotAssumableComesFromTheStage(t *testing.T) {
	denied := func(msg string) error { return &smithy.GenericAPIError{Code: "AccessDenied", Message: msg} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a refused assume-role is RoleNotAssumable, however AWS words it",
			&stageErr{stage: StageAssume, method: AccessAssumeRole, err: denied("explicit deny in a service control policy")}, CodeRoleNotAssumable},
		{"a refused read is AccessDenied even when the message names sts:AssumeRole",
			&stageErr{stage: StageRead, method: AccessAssumeRole, err: denied("not authorized to perform: sts:AssumeRole")}, CodeAccessDenied},
		{"a refused root session is AccessDenied",
			&stageErr{stage: StageAssume, method: AccessAssumeRoot, err: denied("not authorized to perform: sts:AssumeRoot")}, CodeAccessDenied},
		{"another access code at the assume stage stays AccessDenied",
			&stageErr{stage: StageAssume, method: AccessAssumeRole, err: &smithy.GenericAPIError{Code: "InvalidClientTokenId"}}, CodeAccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err, context.Background()); got != tc.want {
				t.Errorf("classify = %s, want %s", got, tc.want)
			}
		})
	}
}
