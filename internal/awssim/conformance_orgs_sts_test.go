package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
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

// TestCLIConformanceDelegationRegionsAndFeatureSets drives, with the AWS
// CLI, who may use centralized root access (only IAM's delegated
// administrator besides the management account), an organization without
// all features, and STS deactivated in a region for the target account.
func TestCLIConformanceDelegationRegionsAndFeatureSets(t *testing.T) {
	fx := Generate(GenerateOptions{Seed: 6, Accounts: 5})
	iamAdmin, hubAdmin, target := fx.Accounts[1].ID, fx.Accounts[2].ID, fx.Accounts[3].ID
	fx.Organization.DelegatedAdministratorsByService = map[string][]string{
		IAMServicePrincipal:         {iamAdmin},
		"securityhub.amazonaws.com": {hubAdmin},
	}
	fx.Credentials = append(fx.Credentials,
		StaticCredential{AccessKeyID: "AKIACLIIAMADMIN00001", SecretAccessKey: "iamadminsecretiamadminsecretiamadminsec", AccountID: iamAdmin, UserName: "iam-admin"},
		StaticCredential{AccessKeyID: "AKIACLIHUBADMIN00001", SecretAccessKey: "hubadminsecrethubadminsecrethubadminsec", AccountID: hubAdmin, UserName: "hub-admin"})
	fx.Accounts[3].STSInactiveRegions = []string{"eu-west-2"}
	fx.Accounts[0].Root.Password = &Password{CreatedAt: fx.Accounts[0].Root.CreatedAt}
	srv := startServer(t, Options{Fixture: fx})
	admin := [3]string{DefaultAccessKeyID, DefaultSecretAccessKey, ""}
	iamCreds := [3]string{"AKIACLIIAMADMIN00001", "iamadminsecretiamadminsecretiamadminsec", ""}
	hubCreds := [3]string{"AKIACLIHUBADMIN00001", "hubadminsecrethubadminsecrethubadminsec", ""}
	audit := "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

	t.Run("any service's delegated administrator may list accounts", func(t *testing.T) {
		t.Parallel()
		for _, creds := range [][3]string{iamCreds, hubCreds} {
			var out struct{ Accounts []struct{ Id string } }
			cliJSON(t, srv, creds, &out, "organizations", "list-accounts")
			if len(out.Accounts) != len(fx.Accounts) {
				t.Fatalf("%s listed %d accounts, want %d", creds[0], len(out.Accounts), len(fx.Accounts))
			}
		}
	})
	t.Run("only IAM's delegated administrator may list the root access features", func(t *testing.T) {
		t.Parallel()
		var feats struct{ EnabledFeatures []string }
		cliJSON(t, srv, iamCreds, &feats, "iam", "list-organizations-features")
		if len(feats.EnabledFeatures) != 2 {
			t.Fatalf("features for IAM's delegated administrator: %+v", feats)
		}
		out, err := awsCLI(t, srv, hubCreds, "iam", "list-organizations-features")
		if err == nil || !strings.Contains(out, "AccountNotManagementOrDelegatedAdministratorException") {
			t.Fatalf("another service's delegated administrator: err %v, output %s", err, out)
		}
	})
	t.Run("only IAM's delegated administrator may open root sessions", func(t *testing.T) {
		t.Parallel()
		var root cliCredentials
		cliJSON(t, srv, iamCreds, &root, "sts", "assume-root", "--target-principal", fx.Accounts[4].ID, "--task-policy-arn", audit)
		if root.Credentials.SessionToken == "" {
			t.Fatalf("assume-root by IAM's delegated administrator = %+v", root)
		}
		out, err := awsCLI(t, srv, hubCreds, "sts", "assume-root", "--target-principal", fx.Accounts[4].ID, "--task-policy-arn", audit)
		if err == nil || !strings.Contains(out, "AccessDenied") || !strings.Contains(out, "sts:AssumeRoot") {
			t.Fatalf("another service's delegated administrator: err %v, output %s", err, out)
		}
	})
	t.Run("STS deactivated in the region for the target account is RegionDisabledException", func(t *testing.T) {
		t.Parallel()
		roleARN := "arn:aws:iam::" + target + ":role/" + DefaultRoleName
		out, err := awsCLI(t, srv, admin, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "cli-region", "--region", "eu-west-2")
		if err == nil || !strings.Contains(out, "RegionDisabledException") || !strings.Contains(out, "account:"+target) {
			t.Fatalf("assume-role signed for eu-west-2: err %v, output %s", err, out)
		}
		out, err = awsCLI(t, srv, admin, "sts", "assume-root", "--target-principal", target, "--task-policy-arn", audit, "--region", "eu-west-2")
		if err == nil || !strings.Contains(out, "RegionDisabledException") {
			t.Fatalf("assume-root signed for eu-west-2: err %v, output %s", err, out)
		}
		var assumed cliCredentials
		cliJSON(t, srv, admin, &assumed, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "cli-region", "--region", "eu-west-1")
		if assumed.Credentials.SessionToken == "" {
			t.Fatalf("assume-role signed for an active region = %+v", assumed)
		}
	})
	t.Run("the credential report's root row says whether the root user has a password", func(t *testing.T) {
		t.Parallel()
		for range 5 {
			var gen struct{ State string }
			cliJSON(t, srv, admin, &gen, "iam", "generate-credential-report")
			if gen.State == "COMPLETE" {
				break
			}
		}
		var rep struct{ Content string }
		cliJSON(t, srv, admin, &rep, "iam", "get-credential-report")
		raw, err := base64.StdEncoding.DecodeString(rep.Content)
		if err != nil {
			t.Fatalf("content %q: %v", rep.Content, err)
		}
		records, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil || len(records) < 2 || records[0][3] != "password_enabled" || records[1][0] != "<root_account>" {
			t.Fatalf("report %q: %v", raw, err)
		}
		if got := records[1][3]; got != "true" {
			t.Errorf("root password_enabled %q, want true (the User Guide's TRUE), not not_supported", got)
		}
	})
	t.Run("an organization without all features says so", func(t *testing.T) {
		t.Parallel()
		cb := Generate(GenerateOptions{Seed: 6, Accounts: 3, NoCentralRootAccess: true})
		cb.Organization.FeatureSet = FeatureSetConsolidatedBilling
		cb.Organization.Features = Features{}
		cbSrv := startServer(t, Options{Fixture: cb})
		var org struct{ Organization struct{ FeatureSet string } }
		cliJSON(t, cbSrv, admin, &org, "organizations", "describe-organization")
		if org.Organization.FeatureSet != FeatureSetConsolidatedBilling {
			t.Fatalf("describe-organization = %+v", org)
		}
		out, err := awsCLI(t, cbSrv, admin, "iam", "list-organizations-features")
		if err == nil || !strings.Contains(out, "OrganizationNotInAllFeaturesModeException") {
			t.Fatalf("list-organizations-features: err %v, output %s", err, out)
		}
	})
}
