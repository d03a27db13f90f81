package awssim

import (
	"strings"
	"testing"
)

// TestCLIConformanceExplicitDenies drives the explicit denies that model
// guardrails (an identity policy scoped to OU ARNs, a service control
// policy on the credential report) with the AWS CLI.
func TestCLIConformanceExplicitDenies(t *testing.T) {
	fx := Generate(GenerateOptions{Seed: 6, Accounts: 12, OUDepth: 1, OUWidth: 2})
	denied, allowed := fx.Organization.OUs[0].ID, fx.Organization.OUs[1].ID
	member := fx.Accounts[1]
	fx.Accounts[1].Faults.DenyCredentialReport = true
	fx.Credentials = append(fx.Credentials, StaticCredential{
		AccessKeyID: "AKIAGUARDED000000001", SecretAccessKey: "guarded-secret", AccountID: fx.Organization.ManagementAccountID, UserName: "guarded",
		Deny: []DenyStatement{{
			Actions:   []string{"organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"},
			Resources: []string{"arn:aws:organizations::" + fx.Organization.ManagementAccountID + ":ou/" + fx.Organization.ID + "/" + denied},
		}},
	})
	srv := startServer(t, Options{Fixture: fx})
	guarded := [3]string{"AKIAGUARDED000000001", "guarded-secret", ""}
	admin := [3]string{DefaultAccessKeyID, DefaultSecretAccessKey, ""}

	for _, op := range []string{"list-accounts-for-parent", "list-organizational-units-for-parent"} {
		t.Run("organizations "+op+" on the denied OU is refused with an explicit deny", func(t *testing.T) {
			t.Parallel()
			out, err := awsCLI(t, srv, guarded, "organizations", op, "--parent-id", denied)
			if err == nil || !strings.Contains(out, "AccessDeniedException") || !strings.Contains(out, "explicit deny") || !strings.Contains(out, "ou/"+fx.Organization.ID+"/"+denied) {
				t.Fatalf("err %v, output %s; want AccessDeniedException naming the OU's ARN", err, out)
			}
		})
		t.Run("organizations "+op+" on another OU is allowed", func(t *testing.T) {
			t.Parallel()
			if out, err := awsCLI(t, srv, guarded, "organizations", op, "--parent-id", allowed); err != nil {
				t.Fatalf("err %v, output %s", err, out)
			}
		})
	}
	t.Run("a service control policy refuses the credential report in the member account", func(t *testing.T) {
		t.Parallel()
		var assumed cliCredentials
		cliJSON(t, srv, admin, &assumed, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+member.ID+":role/"+DefaultRoleName, "--role-session-name", "deny")
		out, err := awsCLI(t, srv, assumed.creds(), "iam", "generate-credential-report")
		if err == nil || !strings.Contains(out, "AccessDenied") || !strings.Contains(out, "service control policy") {
			t.Fatalf("err %v, output %s; want AccessDenied from a service control policy", err, out)
		}
	})
}
