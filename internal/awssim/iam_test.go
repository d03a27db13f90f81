package awssim

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	simiam "github.com/orgscan/orgscan/internal/awssim/service/iam"
)

// iamClock is a settable simulator clock for the IAM and S3 tests.
type iamClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *iamClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *iamClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var iamEpoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 20, 30, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// Accounts of iamFixture.
const (
	acctRich      = "222222222222" // every kind of root credential
	acctBare      = "444444444444" // no root credentials; a report 2 h old
	acctOdd       = "555555555555" // odd values; a report 5 h old
	acctSCP       = "666666666666" // an SCP denies GetAccountSummary
	acctMalformed = "777777777777" // IAM answers with a truncated body
	acctDelegated = "888888888888" // delegated administrator
	acctOutsider  = "999999999999" // not in the organization
	outsiderKey   = "AKIAOUTSIDER00000001"
	outsiderSec   = "outsidersecretoutsidersecretoutsidersecr"
)

func iamFixture() *Fixture {
	fx := smallFixture()
	role := func(extra ...Role) []Role {
		return append([]Role{{Name: "OrganizationAccountAccessRole", TrustedAccounts: []string{testMgmtAccount}}}, extra...)
	}
	acct := func(id, name string, root RootUser) Account {
		return Account{ID: id, Name: name, Email: name + "@example.com", State: "ACTIVE", JoinedMethod: "CREATED",
			JoinedTimestamp: day(2020, 1, 2), Parent: "ou-ab12-bbbbbbbb", Root: root, Roles: role()}
	}
	fx.Accounts[0].Root.CreatedAt = day(2019, 1, 1)
	rich := acct(acctRich, "rich", RootUser{
		CreatedAt: day(2019, 6, 7),
		AccessKeys: []AccessKey{
			{ID: "AKIAROOTRICHACTIVE01", Status: "Active", CreatedAt: day(2021, 2, 3),
				LastUsedAt: ptr(day(2026, 2, 1)), LastUsedService: "ec2", LastUsedRegion: "us-west-2"},
			{ID: "AKIAROOTRICHINACTIV2", Status: "Inactive", CreatedAt: day(2020, 5, 6)},
		},
		SigningCertificates: []SigningCertificate{{ID: "CERTRICH0000000000000000001", Status: "Active", UploadedAt: day(2022, 3, 4)}},
		MFA:                 "virtual",
		MFAEnabledAt:        ptr(day(2023, 1, 1)),
		Password:            &Password{CreatedAt: day(2020, 1, 1), LastUsedAt: ptr(day(2026, 2, 20))},
		PasswordReset:       true,
	})
	rich.Roles = role(Role{Name: "Auditor", TrustedAccounts: []string{testMgmtAccount}})
	rich.Summary = map[string]int32{"Users": 7, "Policies": 12, "AccountMFAEnabled": 0, "CustomCounter": 3}
	rich.CredentialReport = CredentialReportFixture{GenerationPolls: 3}

	bare := acct(acctBare, "bare", RootUser{CreatedAt: day(2021, 1, 1)})
	bare.CredentialReport = CredentialReportFixture{GeneratedAt: ptr(iamEpoch.Add(-2 * time.Hour))}

	odd := acct(acctOdd, "odd", RootUser{
		CreatedAt:           day(2018, 8, 8),
		AccessKeys:          []AccessKey{{ID: "AKIAROOTODDS3NOREGN1", Status: "Active", CreatedAt: day(2022, 2, 2), LastUsedAt: ptr(day(2025, 12, 24)), LastUsedService: "s3"}},
		SigningCertificates: []SigningCertificate{{ID: "CERTODD00000000000000000001", Status: "Inactive", UploadedAt: day(2019, 9, 9)}},
		MFA:                 "hardware",
		Password:            &Password{CreatedAt: day(2018, 8, 8)},
	})
	odd.CredentialReport = CredentialReportFixture{GeneratedAt: ptr(iamEpoch.Add(-5 * time.Hour))}

	scp := acct(acctSCP, "scp", RootUser{})
	scp.Faults.DenyGetAccountSummary = true
	malformed := acct(acctMalformed, "malformed", RootUser{})
	malformed.Faults.MalformedIAM = true
	// Only inactive root credentials: they still count as present.
	delegated := acct(acctDelegated, "security", RootUser{
		AccessKeys:          []AccessKey{{ID: "AKIAROOTSECINACTIVE1", Status: "Inactive", CreatedAt: day(2020, 2, 2)}},
		SigningCertificates: []SigningCertificate{{ID: "CERTSEC00000000000000000001", Status: "Inactive", UploadedAt: day(2020, 2, 2)}},
	})

	fx.Accounts = append(fx.Accounts, rich, bare, odd, scp, malformed, delegated)
	// The fixture's own 222222222222 is replaced by the rich one.
	fx.Accounts = append(fx.Accounts[:1], fx.Accounts[2:]...)
	fx.Organization.DelegatedAdministrators = []string{acctDelegated}
	fx.Credentials = append(fx.Credentials, StaticCredential{
		AccessKeyID: "AKIASECURITYADMIN001", SecretAccessKey: "securitysecretsecuritysecretsecuritysecr",
		AccountID: acctDelegated, UserName: "security-admin",
	})
	return fx
}

func startIAMServer(t *testing.T) (*Server, *iamClock) {
	t.Helper()
	clock := &iamClock{t: iamEpoch}
	return startServer(t, Options{Fixture: iamFixture(), Now: clock.Now}), clock
}

// roleIn assumes the organization role of a member account from the
// management account.
func roleIn(t *testing.T, srv *Server, account string) aws.Config {
	t.Helper()
	return assumeRoleSession(t, srv, mgmtConfig(srv), "arn:aws:iam::"+account+":role/OrganizationAccountAccessRole", "orgscan")
}

// rootIn opens a root session in a member account with a root-task policy.
func rootIn(t *testing.T, srv *Server, account, task string) aws.Config {
	t.Helper()
	return assumeRootSession(t, srv, mgmtConfig(srv), account, auth.RootTaskPolicyPrefix+task)
}

// issuedConfig hands out credentials for a principal made directly, for
// sessions STS would not issue (an unknown task policy).
func issuedConfig(srv *Server, p auth.Principal) aws.Config {
	got := srv.creds.Issue(p)
	return sdkConfig(srv, got.AccessKeyID, got.SecretAccessKey, got.SessionToken)
}

// wantError fails unless err is the AWS error code with the HTTP status,
// and, when given, a message containing want.
// wantTaskPolicyAnswer checks a root session's call against its task
// policy: allowed when resource is "", else denied on that resource.
func wantTaskPolicyAnswer(t *testing.T, err error, resource string) {
	t.Helper()
	if resource == "" {
		if err != nil {
			t.Fatalf("allowed call failed: %v", err)
		}
		return
	}
	wantError(t, err, "AccessDenied", 403, " on resource: "+resource+" with an explicit deny in a session policy")
}

func wantError(t *testing.T, err error, code string, status int, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("error = %v, want HTTP status %d", err, status)
	}
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("message = %q, want it to contain %q", ae.ErrorMessage(), want)
	}
}

func TestGetAccountSummary(t *testing.T) {
	srv, _ := startIAMServer(t)
	defaults := map[string]int32{}
	for _, e := range simiam.DefaultSummary {
		defaults[e.Key] = e.Value
	}
	with := func(over map[string]int32) map[string]int32 {
		m := map[string]int32{}
		for k, v := range defaults {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		cfg  aws.Config
		want map[string]int32
	}{
		{"the management account counts its administrator and shows root MFA and password", mgmtConfig(srv),
			with(map[string]int32{"Users": 1, "MFADevices": 1, "MFADevicesInUse": 1, "AccountMFAEnabled": 1, "AccountPasswordPresent": 1})},
		{"a member with every root credential shows them all, inactive keys included, and keeps its overrides", roleIn(t, srv, acctRich),
			with(map[string]int32{"Users": 7, "Policies": 12, "CustomCounter": 3, "Roles": 2, "MFADevices": 1, "MFADevicesInUse": 1,
				"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1, "AccountPasswordPresent": 1, "AccountSigningCertificatesPresent": 1})},
		{"a member without root credentials shows none", roleIn(t, srv, acctBare), with(map[string]int32{"Roles": 1})},
		{"inactive root keys and certificates still count as present", sdkConfig(srv, "AKIASECURITYADMIN001", "securitysecretsecuritysecretsecuritysecr", ""),
			with(map[string]int32{"Users": 1, "Roles": 1, "AccountAccessKeysPresent": 1, "AccountSigningCertificatesPresent": 1})},
		{"a root session may read the summary of its account", rootIn(t, srv, acctOdd, "IAMAuditRootUserCredentials"),
			with(map[string]int32{"Roles": 1, "MFADevices": 1, "MFADevicesInUse": 1, "AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1,
				"AccountPasswordPresent": 1, "AccountSigningCertificatesPresent": 1})},
		{"an account outside the organization has a summary of its own", sdkConfig(srv, outsiderKey, outsiderSec, ""),
			with(map[string]int32{"Users": 1})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := iam.NewFromConfig(tc.cfg).GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
			if err != nil {
				t.Fatalf("GetAccountSummary: %v", err)
			}
			if len(out.SummaryMap) != len(tc.want) {
				t.Errorf("summary has %d keys, want %d: %v", len(out.SummaryMap), len(tc.want), out.SummaryMap)
			}
			for k, v := range tc.want {
				if got, ok := out.SummaryMap[k]; !ok || got != v {
					t.Errorf("%s = %d (present %v), want %d", k, got, ok, v)
				}
			}
		})
	}
}

func TestGetAccountSummaryHasEveryDocumentedKey(t *testing.T) {
	srv, _ := startIAMServer(t)
	// The valid keys of SummaryMap in the IAM API reference.
	documented := strings.Fields(`Users UsersQuota Groups GroupsQuota ServerCertificates ServerCertificatesQuota
		UserPolicySizeQuota GroupPolicySizeQuota GroupsPerUserQuota SigningCertificatesPerUserQuota AccessKeysPerUserQuota
		MFADevices MFADevicesInUse AccountMFAEnabled AccountAccessKeysPresent AccountPasswordPresent
		AccountSigningCertificatesPresent AttachedPoliciesPerGroupQuota AttachedPoliciesPerRoleQuota
		AttachedPoliciesPerUserQuota Policies PoliciesQuota PolicySizeQuota PolicyVersionsInUse PolicyVersionsInUseQuota
		VersionsPerPolicyQuota GlobalEndpointTokenVersion AssumeRolePolicySizeQuota InstanceProfiles InstanceProfilesQuota
		Providers RolePolicySizeQuota Roles RolesQuota`)
	out, err := iam.NewFromConfig(mgmtConfig(srv)).GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatalf("GetAccountSummary: %v", err)
	}
	for _, k := range documented {
		if _, ok := out.SummaryMap[k]; !ok {
			t.Errorf("SummaryMap lacks %s", k)
		}
	}
	if len(out.SummaryMap) != len(documented) || out.SummaryMap["UsersQuota"] != 5000 || out.SummaryMap["AccessKeysPerUserQuota"] != 2 {
		t.Errorf("SummaryMap = %v", out.SummaryMap)
	}
}

func TestGetAccountSummaryFaults(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()

	t.Run("a service control policy denies the summary with AccessDenied", func(t *testing.T) {
		_, err := iam.NewFromConfig(roleIn(t, srv, acctSCP)).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		wantError(t, err, "AccessDenied", 403,
			"User: arn:aws:sts::666666666666:assumed-role/OrganizationAccountAccessRole/orgscan is not authorized to perform: iam:GetAccountSummary on resource: * with an explicit deny in a service control policy")
	})
	t.Run("a truncated answer is a deserialization error, not a result", func(t *testing.T) {
		_, err := iam.NewFromConfig(roleIn(t, srv, acctMalformed)).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		// Older SDKs wrap the XML error in a DeserializationError; the
		// schema-based serde returns it inside the 200 response error.
		var de *smithy.DeserializationError
		var se *xml.SyntaxError
		var ae smithy.APIError
		if (!errors.As(err, &de) && !errors.As(err, &se)) || errors.As(err, &ae) {
			t.Fatalf("error = %v (%T), want an XML decoding error, not an API error", err, err)
		}
	})
	t.Run("other accounts are unaffected by those faults", func(t *testing.T) {
		if _, err := iam.NewFromConfig(roleIn(t, srv, acctBare)).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
			t.Fatalf("GetAccountSummary: %v", err)
		}
	})
}

func TestListOrganizationsFeatures(t *testing.T) {
	ctx := context.Background()
	delegatedCfg := func(srv *Server) aws.Config {
		return sdkConfig(srv, "AKIASECURITYADMIN001", "securitysecretsecuritysecretsecuritysecr", "")
	}
	tests := []struct {
		name      string
		features  Features
		cfg       func(t *testing.T, srv *Server) aws.Config
		want      []string
		wantCode  string
		wantInMsg string
	}{
		{"the management account sees both features", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true},
			func(t *testing.T, srv *Server) aws.Config { return mgmtConfig(srv) }, []string{"RootCredentialsManagement", "RootSessions"}, "", ""},
		{"a delegated administrator sees the features too", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: false},
			func(t *testing.T, srv *Server) aws.Config { return delegatedCfg(srv) }, []string{"RootCredentialsManagement"}, "", ""},
		{"no feature enabled is an empty list", Features{IAMTrustedAccess: true, RootCredentialsManagement: false, RootSessions: false},
			func(t *testing.T, srv *Server) aws.Config { return mgmtConfig(srv) }, nil, "", ""},
		{"a plain member account is refused", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true},
			func(t *testing.T, srv *Server) aws.Config { return roleIn(t, srv, acctBare) }, nil,
			"AccountNotManagementOrDelegatedAdministratorException", "444444444444"},
		{"an account outside the organization has no organization", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true},
			func(t *testing.T, srv *Server) aws.Config { return sdkConfig(srv, outsiderKey, outsiderSec, "") }, nil,
			"OrganizationNotFoundException", "no organization"},
		{"without trusted access for IAM the call fails", Features{IAMTrustedAccess: false, RootCredentialsManagement: false, RootSessions: false},
			func(t *testing.T, srv *Server) aws.Config { return mgmtConfig(srv) }, nil,
			"ServiceAccessNotEnabledException", "trusted access"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := iamFixture()
			fx.Organization.Features = tc.features
			srv := startServer(t, Options{Fixture: fx})
			out, err := iam.NewFromConfig(tc.cfg(t, srv)).ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
			if tc.wantCode != "" {
				wantError(t, err, tc.wantCode, 400, tc.wantInMsg)
				return
			}
			if err != nil {
				t.Fatalf("ListOrganizationsFeatures: %v", err)
			}
			if got := aws.ToString(out.OrganizationId); got != "o-abcdefghij" {
				t.Errorf("OrganizationId = %q", got)
			}
			var got []string
			for _, f := range out.EnabledFeatures {
				got = append(got, string(f))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("EnabledFeatures = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRootSessionReadsTheRootUser(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	rich := iam.NewFromConfig(rootIn(t, srv, acctRich, "IAMAuditRootUserCredentials"))
	bare := iam.NewFromConfig(rootIn(t, srv, acctBare, "IAMAuditRootUserCredentials"))
	odd := iam.NewFromConfig(rootIn(t, srv, acctOdd, "IAMAuditRootUserCredentials"))

	t.Run("ListAccessKeys lists active and inactive root keys without a user name", func(t *testing.T) {
		out, err := rich.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		if err != nil {
			t.Fatalf("ListAccessKeys: %v", err)
		}
		var got []string
		for _, k := range out.AccessKeyMetadata {
			got = append(got, aws.ToString(k.AccessKeyId)+"/"+string(k.Status)+"/"+aws.ToTime(k.CreateDate).Format(time.DateOnly)+"/"+aws.ToString(k.UserName))
		}
		want := "AKIAROOTRICHACTIVE01/Active/2021-02-03/,AKIAROOTRICHINACTIV2/Inactive/2020-05-06/"
		if strings.Join(got, ",") != want || out.IsTruncated {
			t.Errorf("keys = %v (truncated %v), want %s", got, out.IsTruncated, want)
		}
	})
	t.Run("ListAccessKeys pages with MaxItems and Marker", func(t *testing.T) {
		var ids []string
		p := iam.NewListAccessKeysPaginator(rich, &iam.ListAccessKeysInput{MaxItems: aws.Int32(1)})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			pages++
			for _, k := range out.AccessKeyMetadata {
				ids = append(ids, aws.ToString(k.AccessKeyId))
			}
		}
		if pages != 2 || len(ids) != 2 {
			t.Errorf("got %d pages with keys %v, want 2 pages of one key", pages, ids)
		}
	})
	t.Run("a root user without keys has an empty list", func(t *testing.T) {
		out, err := bare.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		if err != nil || len(out.AccessKeyMetadata) != 0 {
			t.Fatalf("ListAccessKeys = %v, %v; want no keys", out, err)
		}
	})
	t.Run("GetAccessKeyLastUsed reports date, service and region of a used key", func(t *testing.T) {
		out, err := rich.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAROOTRICHACTIVE01")})
		if err != nil {
			t.Fatalf("GetAccessKeyLastUsed: %v", err)
		}
		u := out.AccessKeyLastUsed
		if !aws.ToTime(u.LastUsedDate).Equal(day(2026, 2, 1)) || aws.ToString(u.ServiceName) != "ec2" || aws.ToString(u.Region) != "us-west-2" {
			t.Errorf("last used = %v %q %q", u.LastUsedDate, aws.ToString(u.ServiceName), aws.ToString(u.Region))
		}
	})
	t.Run("GetAccessKeyLastUsed reports N/A and no date for a key never used", func(t *testing.T) {
		out, err := rich.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAROOTRICHINACTIV2")})
		if err != nil {
			t.Fatalf("GetAccessKeyLastUsed: %v", err)
		}
		u := out.AccessKeyLastUsed
		if u.LastUsedDate != nil || aws.ToString(u.ServiceName) != "N/A" || aws.ToString(u.Region) != "N/A" {
			t.Errorf("last used = %v %q %q, want nil N/A N/A", u.LastUsedDate, aws.ToString(u.ServiceName), aws.ToString(u.Region))
		}
	})
	t.Run("GetAccessKeyLastUsed reports N/A region for a key last used with a global service", func(t *testing.T) {
		out, err := odd.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAROOTODDS3NOREGN1")})
		if err != nil {
			t.Fatalf("GetAccessKeyLastUsed: %v", err)
		}
		if u := out.AccessKeyLastUsed; aws.ToString(u.ServiceName) != "s3" || aws.ToString(u.Region) != "N/A" || u.LastUsedDate == nil {
			t.Errorf("last used = %v %q %q", u.LastUsedDate, aws.ToString(u.ServiceName), aws.ToString(u.Region))
		}
	})
	t.Run("a key of another account is not a resource the session may read", func(t *testing.T) {
		_, err := rich.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAROOTODDS3NOREGN1")})
		wantError(t, err, "AccessDenied", 403, "access key AKIAROOTODDS3NOREGN1")
	})
	t.Run("ListSigningCertificates lists root certificates with their status", func(t *testing.T) {
		out, err := odd.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
		if err != nil {
			t.Fatalf("ListSigningCertificates: %v", err)
		}
		if len(out.Certificates) != 1 {
			t.Fatalf("certificates = %d, want 1", len(out.Certificates))
		}
		c := out.Certificates[0]
		if aws.ToString(c.CertificateId) != "CERTODD00000000000000000001" || c.Status != "Inactive" ||
			!aws.ToTime(c.UploadDate).Equal(day(2019, 9, 9)) || !strings.Contains(aws.ToString(c.CertificateBody), "BEGIN CERTIFICATE") {
			t.Errorf("certificate = %+v", c)
		}
	})
	t.Run("ListMFADevices names a virtual device by ARN and a hardware one by serial", func(t *testing.T) {
		for client, want := range map[*iam.Client]string{
			rich: "arn:aws:iam::222222222222:mfa/root-account-mfa-device",
			odd:  "GAHT55555555",
		} {
			out, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
			if err != nil {
				t.Fatalf("ListMFADevices: %v", err)
			}
			if len(out.MFADevices) != 1 || aws.ToString(out.MFADevices[0].SerialNumber) != want {
				t.Errorf("devices = %+v, want serial %s", out.MFADevices, want)
			}
		}
		out, err := rich.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
		if err != nil || !aws.ToTime(out.MFADevices[0].EnableDate).Equal(day(2023, 1, 1)) {
			t.Errorf("enable date = %v, %v", out, err)
		}
	})
	t.Run("a root user without MFA has no devices", func(t *testing.T) {
		out, err := bare.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
		if err != nil || len(out.MFADevices) != 0 {
			t.Fatalf("ListMFADevices = %v, %v; want none", out, err)
		}
	})
	t.Run("GetLoginProfile shows a root password", func(t *testing.T) {
		out, err := rich.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
		if err != nil {
			t.Fatalf("GetLoginProfile: %v", err)
		}
		if !aws.ToTime(out.LoginProfile.CreateDate).Equal(day(2020, 1, 1)) || !out.LoginProfile.PasswordResetRequired {
			t.Errorf("login profile = %+v", out.LoginProfile)
		}
	})
	t.Run("GetLoginProfile is NoSuchEntity without a root password", func(t *testing.T) {
		_, err := bare.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
		wantError(t, err, "NoSuchEntity", 404, "Login Profile")
	})
	t.Run("GetUser without a user name describes the root user", func(t *testing.T) {
		out, err := rich.GetUser(ctx, &iam.GetUserInput{})
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		u := out.User
		if aws.ToString(u.Arn) != "arn:aws:iam::222222222222:root" || aws.ToString(u.UserId) != acctRich || u.UserName != nil ||
			!aws.ToTime(u.CreateDate).Equal(day(2019, 6, 7)) || !aws.ToTime(u.PasswordLastUsed).Equal(day(2026, 2, 20)) {
			t.Errorf("user = %+v", u)
		}
	})
	t.Run("GetUser of a root user whose password was never used has no PasswordLastUsed", func(t *testing.T) {
		out, err := odd.GetUser(ctx, &iam.GetUserInput{})
		if err != nil || out.User.PasswordLastUsed != nil {
			t.Fatalf("GetUser = %+v, %v", out, err)
		}
	})
}

func TestRootSessionTaskPolicies(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	audit := iam.NewFromConfig(rootIn(t, srv, acctRich, "IAMAuditRootUserCredentials"))
	create := iam.NewFromConfig(rootIn(t, srv, acctRich, "IAMCreateRootUserPassword"))
	unlock := iam.NewFromConfig(rootIn(t, srv, acctRich, "S3UnlockBucketPolicy"))
	unknown := iam.NewFromConfig(issuedConfig(srv, auth.Principal{AccountID: acctRich, Kind: auth.RootSession,
		ARN: "arn:aws:iam::222222222222:root", UserID: acctRich, TaskPolicyARN: "arn:aws:iam::111111111111:policy/Mine",
		Expires: iamEpoch.Add(15 * time.Minute)}))

	listKeys := func(c *iam.Client) error {
		_, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		return err
	}
	tests := []struct {
		name     string
		call     func() error
		resource string // "" when the call is allowed
	}{
		{"the audit policy allows ListAccessKeys", func() error { return listKeys(audit) }, ""},
		{"the audit policy allows GetAccountSummary", func() error {
			_, err := audit.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
			return err
		}, ""},
		{"the audit policy denies ListAccessKeys for an IAM user", func() error {
			_, err := audit.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
			return err
		}, "arn:aws:iam::222222222222:user/alice"},
		{"the audit policy denies GenerateCredentialReport", func() error {
			_, err := audit.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			return err
		}, "*"},
		{"the audit policy denies ListOrganizationsFeatures", func() error {
			_, err := audit.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
			return err
		}, "*"},
		{"the audit policy denies an action awssim does not otherwise simulate", func() error {
			_, err := audit.ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}, "*"},
		{"the audit policy denies deleting a root key", func() error {
			_, err := audit.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String("AKIAROOTRICHACTIVE01")})
			return err
		}, "arn:aws:iam::222222222222:root"},
		{"the password policy allows GetLoginProfile", func() error {
			_, err := create.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
			return err
		}, ""},
		{"the password policy denies ListAccessKeys", func() error { return listKeys(create) }, "arn:aws:iam::222222222222:root"},
		{"an S3 unlock session may not read IAM", func() error { return listKeys(unlock) }, "arn:aws:iam::222222222222:root"},
		{"a session with an unknown task policy may not read IAM", func() error {
			_, err := unknown.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
			return err
		}, "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantTaskPolicyAnswer(t, err, tc.resource)
			if tc.resource != "" {
				wantError(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: iam:")
			}
		})
	}
}

func TestNonRootCallersOfUserScopedReads(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(mgmtConfig(srv))
	role := iam.NewFromConfig(roleIn(t, srv, acctRich))

	t.Run("an assumed role must name the user", func(t *testing.T) {
		_, err := role.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		wantError(t, err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")
		_, err = role.GetUser(ctx, &iam.GetUserInput{})
		wantError(t, err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")
	})
	t.Run("an unknown user name is NoSuchEntity", func(t *testing.T) {
		_, err := role.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
		wantError(t, err, "NoSuchEntity", 404, "The user with name alice cannot be found.")
	})
	t.Run("an IAM user without a user name acts on itself", func(t *testing.T) {
		keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		if err != nil {
			t.Fatalf("ListAccessKeys: %v", err)
		}
		if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != testMgmtKey ||
			aws.ToString(keys.AccessKeyMetadata[0].UserName) != "admin" {
			t.Errorf("keys = %+v", keys.AccessKeyMetadata)
		}
		user, err := admin.GetUser(ctx, &iam.GetUserInput{})
		if err != nil || aws.ToString(user.User.UserName) != "admin" || aws.ToString(user.User.Arn) != "arn:aws:iam::111111111111:user/admin" {
			t.Errorf("GetUser = %+v, %v", user, err)
		}
		_, err = admin.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
		wantError(t, err, "NoSuchEntity", 404, "Login Profile for User admin cannot be found.")
		mfa, err := admin.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("admin")})
		if err != nil || len(mfa.MFADevices) != 0 {
			t.Errorf("ListMFADevices = %+v, %v", mfa, err)
		}
	})
	t.Run("an administrator of the account may read when a root key was last used", func(t *testing.T) {
		out, err := role.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAROOTRICHACTIVE01")})
		if err != nil || aws.ToString(out.AccessKeyLastUsed.ServiceName) != "ec2" {
			t.Fatalf("GetAccessKeyLastUsed = %+v, %v", out, err)
		}
	})
	t.Run("an action awssim does not simulate says so", func(t *testing.T) {
		_, err := admin.ListUsers(ctx, &iam.ListUsersInput{})
		wantError(t, err, "InvalidAction", 400, "does not simulate")
	})
	t.Run("bad paging parameters are validation errors", func(t *testing.T) {
		_, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{Marker: aws.String("bm90IGEgbWFya2Vy")})
		wantError(t, err, "ValidationError", 400, "Marker")
	})
}

func TestCredentialReportLifecycle(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance   time.Duration
		generate  bool   // GenerateCredentialReport, else GetCredentialReport
		wantState string // for generate
		wantCode  string // for get; "" is a report
		wantAt    time.Time
	}
	gen := func(state string) step { return step{generate: true, wantState: state} }
	get := func(code string) step { return step{wantCode: code} }
	report := func(at time.Time) step { return step{wantAt: at} }
	later := func(d time.Duration, s step) step { s.advance = d; return s }

	tests := []struct {
		name    string
		account string
		steps   []step
	}{
		{"a new report goes from not present through in progress to complete, is reused, then expires", acctRich, []step{
			get("ReportNotPresent"),
			gen("STARTED"),
			get("ReportInProgress"), // polls count Generate and Get alike
			gen("INPROGRESS"),
			gen("COMPLETE"),
			report(iamEpoch),
			later(time.Hour, gen("COMPLETE")), // younger than four hours: reused
			report(iamEpoch),
			later(3*time.Hour, get("ReportExpired")),
			gen("STARTED"),
			gen("INPROGRESS"),
			later(time.Minute, get("ReportInProgress")),
			get(""), // the third poll completes it
		}},
		{"a report two hours old is handed out with its real time instead of a new one", acctBare, []step{
			gen("COMPLETE"),
			report(iamEpoch.Add(-2 * time.Hour)),
		}},
		{"a report five hours old is expired until a new one is generated", acctOdd, []step{
			get("ReportExpired"),
			gen("STARTED"),
			later(time.Second, gen("COMPLETE")),
			report(iamEpoch.Add(time.Second)),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, clock := startIAMServer(t)
			for i, st := range tc.steps {
				clock.Advance(st.advance)
				// A fresh session per step: the clock outruns a role's hour.
				client := iam.NewFromConfig(roleIn(t, srv, tc.account))
				if st.generate {
					out, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
					if err != nil {
						t.Fatalf("step %d: GenerateCredentialReport: %v", i, err)
					}
					if string(out.State) != st.wantState {
						t.Fatalf("step %d: state = %s, want %s", i, out.State, st.wantState)
					}
					if st.wantState == "STARTED" && aws.ToString(out.Description) == "" {
						t.Errorf("step %d: a started report has no description", i)
					}
					continue
				}
				out, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
				switch st.wantCode {
				case "":
					if err != nil {
						t.Fatalf("step %d: GetCredentialReport: %v", i, err)
					}
					if out.ReportFormat != "text/csv" || len(out.Content) == 0 {
						t.Fatalf("step %d: format %q, %d bytes", i, out.ReportFormat, len(out.Content))
					}
					if !st.wantAt.IsZero() && !aws.ToTime(out.GeneratedTime).Equal(st.wantAt) {
						t.Fatalf("step %d: generated %v, want %v", i, out.GeneratedTime, st.wantAt)
					}
				case "ReportInProgress":
					wantError(t, err, st.wantCode, 404, "")
				default:
					wantError(t, err, st.wantCode, 410, "")
				}
			}
		})
	}
}

// readReport generates and fetches an account's credential report and
// parses it, keyed by user.
func readReport(t *testing.T, cfg aws.Config) (header []string, rows map[string]map[string]string) {
	t.Helper()
	ctx := context.Background()
	client := iam.NewFromConfig(cfg)
	for range 10 {
		out, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			t.Fatalf("GenerateCredentialReport: %v", err)
		}
		if out.State == "COMPLETE" {
			break
		}
	}
	out, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatalf("GetCredentialReport: %v", err)
	}
	records, err := csv.NewReader(bytes.NewReader(out.Content)).ReadAll()
	if err != nil {
		t.Fatalf("parse report: %v\n%s", err, out.Content)
	}
	header, rows = records[0], map[string]map[string]string{}
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, col := range header {
			row[col] = rec[i]
		}
		rows[rec[0]] = row
	}
	return header, rows
}

func TestCredentialReportContent(t *testing.T) {
	srv, _ := startIAMServer(t)
	tests := []struct {
		name string
		cfg  aws.Config
		user string
		want map[string]string
	}{
		{"every root credential shows, an inactive key keeps its rotation date", roleIn(t, srv, acctRich), "<root_account>", map[string]string{
			"arn":                            "arn:aws:iam::222222222222:root",
			"user_creation_time":             "2019-06-07T10:20:30+00:00",
			"password_enabled":               "true",
			"password_last_used":             "2026-02-20T10:20:30+00:00",
			"password_last_changed":          "not_supported",
			"password_next_rotation":         "not_supported",
			"mfa_active":                     "true",
			"access_key_1_active":            "true",
			"access_key_1_last_rotated":      "2021-02-03T10:20:30+00:00",
			"access_key_1_last_used_date":    "2026-02-01T10:20:30+00:00",
			"access_key_1_last_used_region":  "us-west-2",
			"access_key_1_last_used_service": "ec2",
			"access_key_2_active":            "false",
			"access_key_2_last_rotated":      "2020-05-06T10:20:30+00:00",
			"access_key_2_last_used_date":    "N/A",
			"access_key_2_last_used_region":  "N/A",
			"access_key_2_last_used_service": "N/A",
			"cert_1_active":                  "true",
			"cert_1_last_rotated":            "2022-03-04T10:20:30+00:00",
			"cert_2_active":                  "false",
			"cert_2_last_rotated":            "N/A",
		}},
		{"no root credentials are false and N/A throughout", roleIn(t, srv, acctSCP), "<root_account>", map[string]string{
			"password_enabled": "false", "password_last_used": "N/A", "mfa_active": "false",
			"access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_1_last_used_date": "N/A",
			"access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "cert_1_active": "false", "cert_1_last_rotated": "N/A",
		}},
		{"a password never used is no_information and a global service has no region", roleIn(t, srv, acctOdd), "<root_account>", map[string]string{
			"password_last_used": "no_information", "mfa_active": "true",
			"access_key_1_last_used_date": "2025-12-24T10:20:30+00:00", "access_key_1_last_used_region": "N/A",
			"access_key_1_last_used_service": "s3", "cert_1_active": "false", "cert_1_last_rotated": "2019-09-09T10:20:30+00:00",
		}},
		{"IAM users have rows of their own", mgmtConfig(srv), "admin", map[string]string{
			"arn": "arn:aws:iam::111111111111:user/admin", "password_enabled": "false", "password_last_used": "N/A",
			"password_last_changed": "N/A", "access_key_1_active": "true", "access_key_1_last_rotated": "2019-01-01T10:20:30+00:00",
			"access_key_1_last_used_date": "N/A", "access_key_2_active": "false",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header, rows := readReport(t, tc.cfg)
			// The columns as the IAM User Guide lists them.
			const documented = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed," +
				"password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date," +
				"access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated," +
				"access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
				"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
			if strings.Join(header, ",") != documented {
				t.Fatalf("header = %v", header)
			}
			row, ok := rows[tc.user]
			if !ok {
				t.Fatalf("no row for %s in %v", tc.user, rows)
			}
			for col, want := range tc.want {
				if row[col] != want {
					t.Errorf("%s = %q, want %q", col, row[col], want)
				}
			}
		})
	}

	t.Run("a report holds only its own account", func(t *testing.T) {
		_, rows := readReport(t, roleIn(t, srv, acctRich))
		if len(rows) != 1 || rows["<root_account>"]["arn"] != "arn:aws:iam::222222222222:root" {
			t.Fatalf("rows = %v", rows)
		}
	})
}

func TestIAMIsolatesAccounts(t *testing.T) {
	srv, _ := startIAMServer(t)
	ctx := context.Background()
	// Each account's summary, report and root keys are its own, whichever
	// account's credentials ask first.
	for _, acct := range []string{acctRich, acctBare, acctOdd} {
		t.Run("credentials acting in "+acct+" see only "+acct, func(t *testing.T) {
			cfg := roleIn(t, srv, acct)
			_, rows := readReport(t, cfg)
			if got := rows["<root_account>"]["arn"]; got != auth.RootUserARN(acct) {
				t.Errorf("report root = %s", got)
			}
			out, err := iam.NewFromConfig(rootIn(t, srv, acct, "IAMAuditRootUserCredentials")).ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
			if err != nil {
				t.Fatalf("ListAccessKeys: %v", err)
			}
			a := srv.world.Account(acct)
			if len(out.AccessKeyMetadata) != len(a.Root.AccessKeys) {
				t.Errorf("keys = %d, want %d", len(out.AccessKeyMetadata), len(a.Root.AccessKeys))
			}
			for i, k := range out.AccessKeyMetadata {
				if aws.ToString(k.AccessKeyId) != a.Root.AccessKeys[i].ID {
					t.Errorf("key %d = %s, not the account's own", i, aws.ToString(k.AccessKeyId))
				}
			}
		})
	}
}
