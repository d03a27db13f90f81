package awssim

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/smithy-go"
)

func accountClient(cfg aws.Config) *account.Client { return account.NewFromConfig(cfg) }

// contactFixture is smallFixture with Account Management in use: trusted
// access, security contacts on the management account and prod-a, none on
// prod-b, an Account Management delegated administrator (security) and a
// Security Hub one (audit).
func contactFixture() *Fixture {
	fx := smallFixture()
	fx.Organization.TrustedAccess = []string{AccountServicePrincipal}
	fx.Accounts[0].AlternateContacts.Security = &Contact{Name: "Mgmt Sec", Email: "mgmt-sec@example.com", Title: "CISO", Phone: "+1-555-0100"}
	fx.Accounts[1].AlternateContacts = AlternateContacts{
		Security: &Contact{Name: "Alice", Email: "alice@example.com", Title: "Security Lead", Phone: "+1-555-0101"},
		Billing:  &Contact{Name: "Bea", Email: "bea@example.com", Title: "Finance", Phone: "+1-555-0102"},
	}
	joined := fx.Accounts[0].JoinedTimestamp
	for _, a := range []struct{ id, name string }{{"444444444444", "security"}, {"555555555555", "audit"}} {
		fx.Accounts = append(fx.Accounts, Account{ID: a.id, Name: a.name, Email: a.name + "@example.com", State: "ACTIVE",
			JoinedMethod: "CREATED", JoinedTimestamp: joined, Parent: "r-ab12",
			Roles: []Role{{Name: "OrganizationAccountAccessRole", TrustedAccounts: []string{testMgmtAccount}}}})
	}
	fx.Organization.DelegatedAdministratorsByService = map[string][]string{
		AccountServicePrincipal:     {"444444444444"},
		"securityhub.amazonaws.com": {"555555555555"},
	}
	fx.Credentials = append(fx.Credentials,
		StaticCredential{AccessKeyID: "AKIAACCTADMIN0000001", SecretAccessKey: "acctadmin-secret", AccountID: "444444444444", UserName: "account-admin"},
		StaticCredential{AccessKeyID: "AKIAHUBADMIN00000001", SecretAccessKey: "hubadmin-secret", AccountID: "555555555555", UserName: "hub-admin"},
		StaticCredential{AccessKeyID: "AKIACONTACTGUARD0001", SecretAccessKey: "contactguard-secret", AccountID: testMgmtAccount, UserName: "contact-guarded",
			Deny: []DenyStatement{{
				Actions:   []string{"account:GetAlternateContact"},
				Resources: []string{"arn:aws:account::111111111111:account/o-abcdefghij/222222222222"},
			}}},
	)
	return fx
}

func getContact(ctx context.Context, cfg aws.Config, accountID, contactType string) (*accounttypes.AlternateContact, error) {
	in := &account.GetAlternateContactInput{AlternateContactType: accounttypes.AlternateContactType(contactType)}
	if accountID != "" {
		in.AccountId = aws.String(accountID)
	}
	out, err := accountClient(cfg).GetAlternateContact(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.AlternateContact, nil
}

func TestGetAlternateContact(t *testing.T) {
	srv := startServer(t, Options{Fixture: contactFixture()})
	ctx := context.Background()
	mgmt := mgmtConfig(srv)
	accountAdmin := sdkConfig(srv, "AKIAACCTADMIN0000001", "acctadmin-secret", "")
	hubAdmin := sdkConfig(srv, "AKIAHUBADMIN00000001", "hubadmin-secret", "")
	guarded := sdkConfig(srv, "AKIACONTACTGUARD0001", "contactguard-secret", "")

	tests := []struct {
		name        string
		cfg         func(t *testing.T) aws.Config
		accountID   string // "" leaves AccountId out
		contactType string
		wantName    string
		wantCode    string
		wantStatus  int
	}{
		{"the management account reads a member's security contact", func(*testing.T) aws.Config { return mgmt }, "222222222222", "SECURITY", "Alice", "", 0},
		{"the management account reads a member's billing contact", func(*testing.T) aws.Config { return mgmt }, "222222222222", "BILLING", "Bea", "", 0},
		{"a member without an operations contact is ResourceNotFoundException", func(*testing.T) aws.Config { return mgmt }, "222222222222", "OPERATIONS", "", "ResourceNotFoundException", 404},
		{"a member without any contact is ResourceNotFoundException", func(*testing.T) aws.Config { return mgmt }, "333333333333", "SECURITY", "", "ResourceNotFoundException", 404},
		{"the management account reads its own contact without AccountId", func(*testing.T) aws.Config { return mgmt }, "", "SECURITY", "Mgmt Sec", "", 0},
		{"the management account cannot name itself in AccountId", func(*testing.T) aws.Config { return mgmt }, testMgmtAccount, "SECURITY", "", "AccessDeniedException", 403},
		{"an account outside the organization cannot be named", func(*testing.T) aws.Config { return mgmt }, "999999999999", "SECURITY", "", "AccessDeniedException", 403},
		{"Account Management's delegated administrator reads a member's contact", func(*testing.T) aws.Config { return accountAdmin }, "222222222222", "SECURITY", "Alice", "", 0},
		{"another service's delegated administrator is refused", func(*testing.T) aws.Config { return hubAdmin }, "222222222222", "SECURITY", "", "AccessDeniedException", 403},
		{"a member account's role is refused for another member", func(t *testing.T) aws.Config { return roleIn(t, srv, "222222222222") }, "333333333333", "SECURITY", "", "AccessDeniedException", 403},
		{"a member account's role reads its own contact without AccountId", func(t *testing.T) aws.Config { return roleIn(t, srv, "222222222222") }, "", "SECURITY", "Alice", "", 0},
		{"a deny statement on one member refuses its contact", func(*testing.T) aws.Config { return guarded }, "222222222222", "SECURITY", "", "AccessDeniedException", 403},
		{"an unknown contact type is ValidationException", func(*testing.T) aws.Config { return mgmt }, "222222222222", "ADMIN", "", "ValidationException", 400},
		{"a malformed AccountId is ValidationException", func(*testing.T) aws.Config { return mgmt }, "2222", "SECURITY", "", "ValidationException", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := getContact(ctx, tc.cfg(t), tc.accountID, tc.contactType)
			if tc.wantCode != "" {
				wantError(t, err, tc.wantCode, tc.wantStatus, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.Name) != tc.wantName || string(got.AlternateContactType) != tc.contactType ||
				aws.ToString(got.EmailAddress) == "" || aws.ToString(got.Title) == "" || aws.ToString(got.PhoneNumber) == "" {
				t.Fatalf("contact = %+v, want %s's %s contact with every field", got, tc.wantName, tc.contactType)
			}
		})
	}
	t.Run("an explicit deny names the member's accountInOrganization ARN", func(t *testing.T) {
		_, err := getContact(ctx, guarded, "222222222222", "SECURITY")
		wantError(t, err, "AccessDeniedException", 403, "on resource: arn:aws:account::111111111111:account/o-abcdefghij/222222222222 with an explicit deny")
		if _, err := getContact(ctx, guarded, "", "SECURITY"); err != nil {
			t.Fatalf("the deny statement names one member only, yet the caller's own contact failed: %v", err)
		}
	})
	t.Run("the SDK reads the not-found answer as its modelled type", func(t *testing.T) {
		_, err := getContact(ctx, mgmt, "333333333333", "SECURITY")
		var nf *accounttypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("error = %v, want *types.ResourceNotFoundException", err)
		}
	})
	t.Run("a root session is refused, as its task policy grants no Account Management action", func(t *testing.T) {
		_, err := getContact(ctx, rootIn(t, srv, "222222222222", "IAMAuditRootUserCredentials"), "", "SECURITY")
		wantError(t, err, "AccessDeniedException", 403, "")
	})
}

func TestGetAlternateContactNeedsTrustedAccess(t *testing.T) {
	fx := contactFixture()
	fx.Organization.TrustedAccess = nil
	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  aws.Config
	}{
		{"the management account", mgmtConfig(srv)},
		{"the delegated administrator", sdkConfig(srv, "AKIAACCTADMIN0000001", "acctadmin-secret", "")},
	} {
		t.Run(tc.name+" is refused a member's contact without trusted access", func(t *testing.T) {
			_, err := getContact(ctx, tc.cfg, "222222222222", "SECURITY")
			wantError(t, err, "AccessDeniedException", 403, "is not authorized to perform: account:GetAlternateContact")
		})
	}
	t.Run("an account still reads its own contact without trusted access", func(t *testing.T) {
		got, err := getContact(ctx, roleIn(t, srv, "222222222222"), "", "SECURITY")
		if err != nil || aws.ToString(got.Name) != "Alice" {
			t.Fatalf("contact = %+v, %v", got, err)
		}
	})
	t.Run("an organization without all features has no trusted access to enable", func(t *testing.T) {
		fx := contactFixture()
		fx.Organization.FeatureSet = FeatureSetConsolidatedBilling
		fx.Organization.Features = Features{}
		if err := fx.Validate(); err == nil {
			t.Fatal("a consolidated-billing organization with trusted access loaded")
		}
	})
}

func TestGetAlternateContactThrottlesAndFails(t *testing.T) {
	t.Run("the third call in a burst of two is TooManyRequestsException, a throttle the SDK retries", func(t *testing.T) {
		srv := startServer(t, Options{Fixture: contactFixture(), AccountRate: 1, AccountBurst: 2})
		ctx := context.Background()
		for range 2 {
			if _, err := getContact(ctx, mgmtConfig(srv), "222222222222", "SECURITY"); err != nil {
				t.Fatal(err)
			}
		}
		_, err := getContact(ctx, mgmtConfig(srv), "222222222222", "SECURITY")
		wantError(t, err, "TooManyRequestsException", 429, "")
		if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
			t.Fatalf("the SDK does not see %v as a throttle", err)
		}
		if got := srv.Stats().Operations["account:GetAlternateContact"]; got.Requests != 3 || got.Throttled != 1 {
			t.Fatalf("stats = %+v", got)
		}
	})
	t.Run("Account Management has its own bucket beside Organizations'", func(t *testing.T) {
		srv := startServer(t, Options{Fixture: contactFixture(), OrgsRate: 1, OrgsBurst: 1, AccountRate: 1, AccountBurst: 1})
		ctx := context.Background()
		if err := listRoots(ctx, mgmtConfig(srv)); err != nil {
			t.Fatal(err)
		}
		if _, err := getContact(ctx, mgmtConfig(srv), "222222222222", "SECURITY"); err != nil {
			t.Fatalf("an empty Organizations bucket throttled Account Management: %v", err)
		}
	})
	t.Run("an injected server error is InternalServerException", func(t *testing.T) {
		srv := startServer(t, Options{Fixture: contactFixture(), ErrorRate: 1, FaultServices: []string{"account"}})
		_, err := getContact(context.Background(), mgmtConfig(srv), "222222222222", "SECURITY")
		wantError(t, err, "InternalServerException", 500, "")
	})
	t.Run("an unknown access key is UnrecognizedClientException", func(t *testing.T) {
		srv := startServer(t, Options{Fixture: contactFixture()})
		_, err := getContact(context.Background(), sdkConfig(srv, "AKIANOBODY0000000001", "nobody-secret", ""), "", "SECURITY")
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
			t.Fatalf("error = %v", err)
		}
		wantHTTPStatus(t, err, 403)
	})
}
