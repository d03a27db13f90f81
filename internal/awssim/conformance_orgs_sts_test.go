package awssim

import (
	"encoding/json"
	"strings"
	"testing"
)

// cliJSON runs the AWS CLI and decodes its JSON output into v.
func cliJSON(t *testing.T, srv *Server, creds [3]string, v any, args ...string) {
	t.Helper()
	out, err := awsCLI(t, srv, creds, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s printed something that is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type cliCredentials struct {
	Credentials struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
		SessionToken    string `json:"SessionToken"`
		Expiration      string `json:"Expiration"`
	} `json:"Credentials"`
	AssumedRoleUser struct {
		Arn string `json:"Arn"`
	} `json:"AssumedRoleUser"`
}

func (c cliCredentials) creds() [3]string {
	return [3]string{c.Credentials.AccessKeyID, c.Credentials.SecretAccessKey, c.Credentials.SessionToken}
}

type cliIdentity struct {
	Account, Arn, UserID string
}

func (id *cliIdentity) UnmarshalJSON(b []byte) error {
	var raw struct{ Account, Arn, UserId string }
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*id = cliIdentity{raw.Account, raw.Arn, raw.UserId}
	return nil
}

// TestCLIConformanceOrganizationsAndSTS drives Organizations and STS with
// the AWS CLI, an independent implementation of the protocols.
func TestCLIConformanceOrganizationsAndSTS(t *testing.T) {
	fx := Generate(GenerateOptions{Seed: 5, Accounts: 46, OUDepth: 1, OUWidth: 1})
	srv := startServer(t, Options{Fixture: fx})
	admin := [3]string{DefaultAccessKeyID, DefaultSecretAccessKey, ""}
	member := fx.Accounts[1].ID
	ou := fx.Organization.OUs[0].ID

	t.Run("organizations list-accounts pages past 20 accounts", func(t *testing.T) {
		t.Parallel()
		var out struct {
			Accounts []struct{ Id, Arn, Status, State string }
		}
		cliJSON(t, srv, admin, &out, "organizations", "list-accounts")
		if len(out.Accounts) != 46 {
			t.Fatalf("listed %d accounts, want 46", len(out.Accounts))
		}
		if a := out.Accounts[0]; a.Id != DefaultManagementAccountID || a.State != "ACTIVE" || a.Status != "ACTIVE" ||
			a.Arn != "arn:aws:organizations::"+DefaultManagementAccountID+":account/"+fx.Organization.ID+"/"+a.Id {
			t.Fatalf("first account = %+v", a)
		}
		if n := srv.Stats().Operations["organizations:ListAccounts"].Requests; n < 3 {
			t.Fatalf("the CLI made %d ListAccounts requests; 46 accounts need 3 pages", n)
		}
	})
	t.Run("organizations list-roots", func(t *testing.T) {
		t.Parallel()
		var out struct{ Roots []struct{ Id, Name string } }
		cliJSON(t, srv, admin, &out, "organizations", "list-roots")
		if len(out.Roots) != 1 || out.Roots[0].Id != fx.Organization.RootID {
			t.Fatalf("roots = %+v", out.Roots)
		}
	})
	t.Run("organizations list-organizational-units-for-parent", func(t *testing.T) {
		t.Parallel()
		var out struct{ OrganizationalUnits []struct{ Id, Name string } }
		cliJSON(t, srv, admin, &out, "organizations", "list-organizational-units-for-parent", "--parent-id", fx.Organization.RootID)
		if len(out.OrganizationalUnits) != 1 || out.OrganizationalUnits[0].Id != ou {
			t.Fatalf("OUs = %+v", out.OrganizationalUnits)
		}
	})
	t.Run("organizations list-accounts-for-parent", func(t *testing.T) {
		t.Parallel()
		var out struct{ Accounts []struct{ Id string } }
		cliJSON(t, srv, admin, &out, "organizations", "list-accounts-for-parent", "--parent-id", ou)
		if len(out.Accounts) != 45 {
			t.Fatalf("listed %d accounts in %s, want 45", len(out.Accounts), ou)
		}
	})
	t.Run("sts get-caller-identity", func(t *testing.T) {
		t.Parallel()
		var id cliIdentity
		cliJSON(t, srv, admin, &id, "sts", "get-caller-identity")
		if id.Account != DefaultManagementAccountID || id.Arn != "arn:aws:iam::"+DefaultManagementAccountID+":user/"+DefaultAdminUserName {
			t.Fatalf("identity = %+v", id)
		}
	})
	t.Run("sts assume-role gives credentials that act in the member account", func(t *testing.T) {
		t.Parallel()
		var assumed cliCredentials
		roleARN := "arn:aws:iam::" + member + ":role/" + DefaultRoleName
		cliJSON(t, srv, admin, &assumed, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "cli-conformance")
		wantARN := "arn:aws:sts::" + member + ":assumed-role/" + DefaultRoleName + "/cli-conformance"
		if assumed.AssumedRoleUser.Arn != wantARN || assumed.Credentials.Expiration == "" {
			t.Fatalf("assume-role = %+v", assumed)
		}
		var id cliIdentity
		cliJSON(t, srv, assumed.creds(), &id, "sts", "get-caller-identity")
		if id.Account != member || id.Arn != wantARN {
			t.Fatalf("identity with assumed credentials = %+v", id)
		}
		out, err := awsCLI(t, srv, assumed.creds(), "organizations", "list-accounts")
		if err == nil || !strings.Contains(out, "AccessDeniedException") {
			t.Fatalf("a member listing accounts: err %v, output %s; want AccessDeniedException", err, out)
		}
	})
	t.Run("sts assume-root opens a root session in the member account", func(t *testing.T) {
		t.Parallel()
		var root cliCredentials
		cliJSON(t, srv, admin, &root, "sts", "assume-root", "--target-principal", member,
			"--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
		if root.Credentials.AccessKeyID == "" || root.Credentials.SessionToken == "" {
			t.Fatalf("assume-root = %+v", root)
		}
		var id cliIdentity
		cliJSON(t, srv, root.creds(), &id, "sts", "get-caller-identity")
		if id.Account != member || id.Arn != "arn:aws:iam::"+member+":root" {
			t.Fatalf("identity in the root session = %+v", id)
		}
	})
	t.Run("sts assume-role into a missing role is AccessDenied", func(t *testing.T) {
		t.Parallel()
		out, err := awsCLI(t, srv, admin, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+member+":role/NoSuchRole", "--role-session-name", "x1")
		if err == nil || !strings.Contains(out, "AccessDenied") || !strings.Contains(out, "is not authorized to perform: sts:AssumeRole") {
			t.Fatalf("err %v, output %s; want AccessDenied", err, out)
		}
	})
}
