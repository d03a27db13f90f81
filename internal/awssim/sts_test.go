package awssim

import (
	"context"
	"errors"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orgscan/orgscan/internal/awssim/auth"
)

const auditTaskPolicy = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

// testClock is a settable simulator clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// wantHTTPStatus fails unless err carries the HTTP status.
func wantHTTPStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("error = %v, want HTTP status %d", err, status)
	}
}

// assumeRoleConfig assumes a role with from's credentials and returns a
// config that uses the session.
func assumeRoleConfig(t *testing.T, srv *Server, from aws.Config, roleARN string) aws.Config {
	t.Helper()
	return assumeRoleSession(t, srv, from, roleARN, "test")
}

func assumeRoleSession(t *testing.T, srv *Server, from aws.Config, roleARN, session string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(from).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session),
	})
	if err != nil {
		t.Fatalf("assume %s: %v", roleARN, err)
	}
	return sessionConfig(srv, out.Credentials)
}

// assumeRootConfig opens an audit root session in target with from's
// credentials.
func assumeRootConfig(t *testing.T, srv *Server, from aws.Config, target string) aws.Config {
	t.Helper()
	return assumeRootSession(t, srv, from, target, auditTaskPolicy)
}

func assumeRootSession(t *testing.T, srv *Server, from aws.Config, target, taskPolicyARN string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(from).AssumeRoot(context.Background(), &sts.AssumeRootInput{
		TargetPrincipal: aws.String(target),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(taskPolicyARN)},
	})
	if err != nil {
		t.Fatalf("assume root in %s with %s: %v", target, taskPolicyARN, err)
	}
	return sessionConfig(srv, out.Credentials)
}

func member(id, name, state string, roles ...Role) Account {
	return Account{
		ID: id, Name: name, Email: name + "@example.com", State: state, JoinedMethod: "CREATED",
		JoinedTimestamp: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), Parent: "ou-ab12-aaaaaaaa", Roles: roles,
	}
}

func orgRole(trusted ...string) Role {
	return Role{Name: "OrganizationAccountAccessRole", TrustedAccounts: trusted}
}

// stsFixture extends the small world with the roles and states that the
// AssumeRole and AssumeRoot rules need.
func stsFixture() *Fixture {
	fx := smallFixture()
	fx.Accounts[0].Roles = []Role{{Name: "Admin", TrustedAccounts: []string{testMgmtAccount}}}
	fx.Accounts[1].Roles = append(fx.Accounts[1].Roles,
		Role{Name: "Chained", TrustedAccounts: []string{"arn:aws:iam::111111111111:role/Admin"}},
		Role{Name: "ExternalAudit", TrustedAccounts: []string{testMgmtAccount}, ExternalID: "ext-123456"},
		Role{Name: "Long", TrustedAccounts: []string{testMgmtAccount}, MaxSessionDuration: 7200},
		Role{Name: "Pathed", Path: "/ops/team/", TrustedAccounts: []string{testMgmtAccount}},
	)
	fx.Accounts = append(fx.Accounts,
		member("444444444444", "closing", "PENDING_CLOSURE", orgRole(testMgmtAccount)),
		member("555555555555", "closed", "CLOSED", orgRole(testMgmtAccount)),
		member("666666666666", "untrusting", "ACTIVE", orgRole("777777777777")),
		member("888888888888", "invited", "ACTIVE"),
		member("123412341234", "activating", "PENDING_ACTIVATION", orgRole(testMgmtAccount)),
		member("432143214321", "security", "ACTIVE", orgRole(testMgmtAccount)),
	)
	fx.Organization.DelegatedAdministrators = []string{"432143214321"}
	return fx
}

func TestAssumeRole(t *testing.T) {
	clock := newTestClock()
	srv := startServer(t, Options{Fixture: stsFixture(), Now: clock.Now})
	ctx := context.Background()
	mgmt := sts.NewFromConfig(mgmtConfig(srv))
	chained := sts.NewFromConfig(assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::111111111111:role/Admin"))
	outsider := sts.NewFromConfig(sdkConfig(srv, "AKIAOUTSIDER00000001", "outsidersecretoutsidersecretoutsidersecr", ""))

	tests := []struct {
		name       string
		client     *sts.Client
		in         sts.AssumeRoleInput
		wantCode   string
		wantStatus int
		wantExpiry time.Duration
	}{
		{"the management account assumes the organization role of a member", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")}, "", 200, time.Hour},
		{"a duration within the role's maximum sets the expiry", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Long"), DurationSeconds: aws.Int32(7200)}, "", 200, 2 * time.Hour},
		{"the shortest duration is 900 seconds", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), DurationSeconds: aws.Int32(900)}, "", 200, 15 * time.Minute},
		{"a role with a path is found by its full ARN", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/ops/team/Pathed")}, "", 200, time.Hour},
		{"a role with a path is not found without it", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Pathed")}, "AccessDenied", 403, 0},
		{"a matching external id is accepted", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/ExternalAudit"), ExternalId: aws.String("ext-123456")}, "", 200, time.Hour},
		{"a missing external id is denied", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/ExternalAudit")}, "AccessDenied", 403, 0},
		{"a wrong external id is denied", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/ExternalAudit"), ExternalId: aws.String("ext-999999")}, "AccessDenied", 403, 0},
		{"a missing role is denied like an untrusted one", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::888888888888:role/OrganizationAccountAccessRole")}, "AccessDenied", 403, 0},
		{"a role that does not trust the caller is denied", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::666666666666:role/OrganizationAccountAccessRole")}, "AccessDenied", 403, 0},
		{"an account outside the organization is not trusted", outsider,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")}, "AccessDenied", 403, 0},
		{"a suspended account refuses", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/OrganizationAccountAccessRole")}, "AccessDenied", 403, 0},
		{"a closed account refuses", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::555555555555:role/OrganizationAccountAccessRole")}, "AccessDenied", 403, 0},
		{"an account pending activation refuses", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123412341234:role/OrganizationAccountAccessRole")}, "AccessDenied", 403, 0},
		{"an account pending closure still works", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444444444444:role/OrganizationAccountAccessRole")}, "", 200, time.Hour},
		{"a duration under 900 seconds is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), DurationSeconds: aws.Int32(899)}, "ValidationError", 400, 0},
		{"a duration over the role's maximum is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), DurationSeconds: aws.Int32(3601)}, "ValidationError", 400, 0},
		{"a duration over 12 hours is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Long"), DurationSeconds: aws.Int32(43201)}, "ValidationError", 400, 0},
		{"a one-character session name is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("x")}, "ValidationError", 400, 0},
		{"a session name with a space is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("my session")}, "ValidationError", 400, 0},
		{"a 65-character session name is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String(strings.Repeat("s", 65))}, "ValidationError", 400, 0},
		{"a malformed role ARN is invalid", mgmt,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:user/someone")}, "ValidationError", 400, 0},
		{"a role session may chain into a role that trusts its role", chained,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Chained")}, "", 200, time.Hour},
		{"a chained session may not last over an hour", chained,
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/Long"), DurationSeconds: aws.Int32(7200)}, "ValidationError", 400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("orgscan@example.com")
			}
			out, err := tc.client.AssumeRole(ctx, &in)
			if tc.wantCode != "" {
				wantAPIError(t, err, tc.wantCode)
				wantHTTPStatus(t, err, tc.wantStatus)
				return
			}
			if err != nil {
				t.Fatalf("AssumeRole: %v", err)
			}
			ra, err := arn.Parse(aws.ToString(in.RoleArn))
			if err != nil {
				t.Fatalf("role ARN %s: %v", aws.ToString(in.RoleArn), err)
			}
			wantARN := "arn:aws:sts::" + ra.AccountID + ":assumed-role/" + path.Base(ra.Resource) + "/" + aws.ToString(in.RoleSessionName)
			if got := aws.ToString(out.AssumedRoleUser.Arn); got != wantARN {
				t.Fatalf("assumed role ARN = %s, want %s", got, wantARN)
			}
			if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(clock.Now().Add(tc.wantExpiry)) {
				t.Fatalf("expiration = %v, want now + %v", got, tc.wantExpiry)
			}
			c := out.Credentials
			id, err := sts.NewFromConfig(sessionConfig(srv, c)).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity with the session: %v", err)
			}
			if aws.ToString(id.Account) != ra.AccountID || aws.ToString(id.Arn) != wantARN ||
				aws.ToString(id.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) ||
				!strings.HasPrefix(aws.ToString(id.UserId), "AROA") || !strings.HasSuffix(aws.ToString(id.UserId), ":"+aws.ToString(in.RoleSessionName)) {
				t.Fatalf("caller identity = %s %s %s", aws.ToString(id.Account), aws.ToString(id.Arn), aws.ToString(id.UserId))
			}
		})
	}
}

func TestAssumedCredentialsActInTheTargetAccountOnly(t *testing.T) {
	srv := startServer(t, Options{Fixture: stsFixture()})
	ctx := context.Background()
	a := assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")
	b := assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole")

	tests := []struct {
		name     string
		run      func() error
		wantCode string
	}{
		{"each session reports its own account", func() error {
			for cfg, want := range map[*aws.Config]string{&a: "222222222222", &b: "444444444444"} {
				id, err := sts.NewFromConfig(*cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if err != nil {
					return err
				}
				if aws.ToString(id.Account) != want {
					return errors.New("session reports account " + aws.ToString(id.Account) + ", want " + want)
				}
			}
			return nil
		}, ""},
		{"a member session cannot assume into a sibling that trusts only the management account", func() error {
			_, err := sts.NewFromConfig(a).AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("hop"),
			})
			return err
		}, "AccessDenied"},
		{"a member session cannot open root sessions", func() error {
			_, err := sts.NewFromConfig(a).AssumeRoot(ctx, &sts.AssumeRootInput{
				TargetPrincipal: aws.String("444444444444"), TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(auditTaskPolicy)},
			})
			return err
		}, "AccessDenied"},
		{"one session's secret does not sign for another session's key", func() error {
			other, err := b.Credentials.Retrieve(ctx)
			if err != nil {
				return err
			}
			mine, err := a.Credentials.Retrieve(ctx)
			if err != nil {
				return err
			}
			mixed := sdkConfig(srv, mine.AccessKeyID, other.SecretAccessKey, mine.SessionToken)
			_, err = sts.NewFromConfig(mixed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "SignatureDoesNotMatch"},
		{"a session key with another session's token is refused", func() error {
			other, err := b.Credentials.Retrieve(ctx)
			if err != nil {
				return err
			}
			mine, err := a.Credentials.Retrieve(ctx)
			if err != nil {
				return err
			}
			_, err = sts.NewFromConfig(sdkConfig(srv, mine.AccessKeyID, mine.SecretAccessKey, other.SessionToken)).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "InvalidClientTokenId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tc.wantCode)
		})
	}
}

func TestSessionsExpire(t *testing.T) {
	clock := newTestClock()
	srv := startServer(t, Options{Fixture: stsFixture(), Now: clock.Now})
	ctx := context.Background()
	tests := []struct {
		name     string
		open     func(t *testing.T) aws.Config
		lifetime time.Duration
	}{
		{"a role session works until its expiry and then is an expired token", func(t *testing.T) aws.Config {
			out, err := sts.NewFromConfig(mgmtConfig(srv)).AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900),
			})
			if err != nil {
				t.Fatal(err)
			}
			c := out.Credentials
			return sessionConfig(srv, c)
		}, 900 * time.Second},
		{"a root session lasts at most 900 seconds", func(t *testing.T) aws.Config {
			return assumeRootConfig(t, srv, mgmtConfig(srv), "222222222222")
		}, 900 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.open(t)
			client := sts.NewFromConfig(cfg)
			clock.Advance(tc.lifetime - time.Second)
			if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Fatalf("a second before expiry: %v", err)
			}
			clock.Advance(time.Second)
			_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, "ExpiredToken")
			wantHTTPStatus(t, err, 403)
		})
	}
}

func TestAssumeRoot(t *testing.T) {
	clock := newTestClock()
	fx := stsFixture()
	fx.Credentials = append(fx.Credentials,
		StaticCredential{AccessKeyID: "AKIASECURITYADMIN001", SecretAccessKey: "securitysecretsecuritysecretsecuritysecr", AccountID: "432143214321", UserName: "sec"},
		StaticCredential{AccessKeyID: "AKIAMEMBERUSER000001", SecretAccessKey: "membersecretmembersecretmembersecretmemb", AccountID: "222222222222", UserName: "dev"},
	)
	srv := startServer(t, Options{Fixture: fx, Now: clock.Now})
	ctx := context.Background()
	mgmt := sts.NewFromConfig(mgmtConfig(srv))
	delegated := sts.NewFromConfig(sdkConfig(srv, "AKIASECURITYADMIN001", "securitysecretsecuritysecretsecuritysecr", ""))
	plainMember := sts.NewFromConfig(sdkConfig(srv, "AKIAMEMBERUSER000001", "membersecretmembersecretmembersecretmemb", ""))
	outsider := sts.NewFromConfig(sdkConfig(srv, "AKIAOUTSIDER00000001", "outsidersecretoutsidersecretoutsidersecr", ""))
	mgmtRole := sts.NewFromConfig(assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::111111111111:role/Admin"))
	rootSession := sts.NewFromConfig(assumeRootConfig(t, srv, mgmtConfig(srv), "444444444444"))

	const prefix = "arn:aws:iam::aws:policy/root-task/"
	tests := []struct {
		name       string
		client     *sts.Client
		target     string
		policy     string
		duration   *int32
		wantCode   string
		wantStatus int
		wantExpiry time.Duration
	}{
		{"the management account audits a member's root user", mgmt, "222222222222", auditTaskPolicy, nil, "", 200, 900 * time.Second},
		{"the target may be given as the root user's ARN", mgmt, "arn:aws:iam::222222222222:root", auditTaskPolicy, nil, "", 200, 900 * time.Second},
		{"a role session in the management account may call it", mgmtRole, "222222222222", auditTaskPolicy, nil, "", 200, 900 * time.Second},
		{"a delegated administrator may call it", delegated, "222222222222", auditTaskPolicy, nil, "", 200, 900 * time.Second},
		{"a shorter session is allowed", mgmt, "222222222222", auditTaskPolicy, aws.Int32(300), "", 200, 300 * time.Second},
		{"every AWS root task policy is accepted", mgmt, "222222222222", prefix + "S3UnlockBucketPolicy", nil, "", 200, 900 * time.Second},
		{"an account pending closure can still be audited", mgmt, "444444444444", auditTaskPolicy, nil, "", 200, 900 * time.Second},
		{"a session over 900 seconds is invalid", mgmt, "222222222222", auditTaskPolicy, aws.Int32(901), "ValidationError", 400, 0},
		{"a member that is not a delegated administrator is denied", plainMember, "444444444444", auditTaskPolicy, nil, "AccessDenied", 403, 0},
		{"an account outside the organization is denied", outsider, "222222222222", auditTaskPolicy, nil, "AccessDenied", 403, 0},
		{"a root session cannot open another", rootSession, "222222222222", auditTaskPolicy, nil, "AccessDenied", 403, 0},
		{"a policy outside root-task is denied", mgmt, "222222222222", "arn:aws:iam::aws:policy/AdministratorAccess", nil, "AccessDenied", 403, 0},
		{"an unknown policy under root-task is denied", mgmt, "222222222222", prefix + "IAMDoAnything", nil, "AccessDenied", 403, 0},
		{"the management account itself cannot be targeted", mgmt, testMgmtAccount, auditTaskPolicy, nil, "AccessDenied", 403, 0},
		{"an account outside the organization cannot be targeted", mgmt, "999999999999", auditTaskPolicy, nil, "AccessDenied", 403, 0},
		{"a suspended account cannot be targeted", mgmt, "333333333333", auditTaskPolicy, nil, "AccessDenied", 403, 0},
		{"a closed account cannot be targeted", mgmt, "555555555555", auditTaskPolicy, nil, "AccessDenied", 403, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.client.AssumeRoot(ctx, &sts.AssumeRootInput{
				TargetPrincipal: aws.String(tc.target),
				TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(tc.policy)},
				DurationSeconds: tc.duration,
			})
			if tc.wantCode != "" {
				wantAPIError(t, err, tc.wantCode)
				wantHTTPStatus(t, err, tc.wantStatus)
				return
			}
			if err != nil {
				t.Fatalf("AssumeRoot: %v", err)
			}
			if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(clock.Now().Add(tc.wantExpiry)) {
				t.Fatalf("expiration = %v, want now + %v", got, tc.wantExpiry)
			}
			c := out.Credentials
			id, err := sts.NewFromConfig(sessionConfig(srv, c)).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity in the root session: %v", err)
			}
			account := auth.AccountOfPrincipal(tc.target)
			if aws.ToString(id.Account) != account || aws.ToString(id.Arn) != "arn:aws:iam::"+account+":root" || aws.ToString(id.UserId) != account {
				t.Fatalf("root session identity = %s %s %s", aws.ToString(id.Account), aws.ToString(id.Arn), aws.ToString(id.UserId))
			}
		})
	}
	t.Run("a root session cannot assume a role", func(t *testing.T) {
		_, err := rootSession.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("x1"),
		})
		wantAPIError(t, err, "AccessDenied")
	})
}

func TestAssumeRootFollowsTheOrganizationFeatures(t *testing.T) {
	const prefix = "arn:aws:iam::aws:policy/root-task/"
	tests := []struct {
		name     string
		features Features
		policy   string
		wantCode string
	}{
		{"with every feature on, an audit session opens", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true}, auditTaskPolicy, ""},
		{"without trusted access for IAM, nothing opens", Features{IAMTrustedAccess: false, RootCredentialsManagement: true, RootSessions: true}, auditTaskPolicy, "AccessDenied"},
		{"without root credentials management, an audit is denied", Features{IAMTrustedAccess: true, RootCredentialsManagement: false, RootSessions: true}, auditTaskPolicy, "AccessDenied"},
		{"without root credentials management, deleting credentials is denied", Features{IAMTrustedAccess: true, RootCredentialsManagement: false, RootSessions: true}, prefix + "IAMDeleteRootUserCredentials", "AccessDenied"},
		{"without root sessions, an audit still opens", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: false}, auditTaskPolicy, ""},
		{"without root sessions, unlocking a bucket policy is denied", Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: false}, prefix + "S3UnlockBucketPolicy", "AccessDenied"},
		{"with root sessions only, unlocking a queue policy opens", Features{IAMTrustedAccess: true, RootCredentialsManagement: false, RootSessions: true}, prefix + "SQSUnlockQueuePolicy", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := smallFixture()
			fx.Organization.Features = tc.features
			srv := startServer(t, Options{Fixture: fx})
			_, err := sts.NewFromConfig(mgmtConfig(srv)).AssumeRoot(context.Background(), &sts.AssumeRootInput{
				TargetPrincipal: aws.String("222222222222"),
				TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(tc.policy)},
			})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("AssumeRoot: %v", err)
				}
				return
			}
			wantAPIError(t, err, tc.wantCode)
			wantHTTPStatus(t, err, 403)
		})
	}
}

// BenchmarkAssumeRoleThenGetCallerIdentity measures the simulator's cost of
// the per-account STS steps of a scan, many clients at once.
func BenchmarkAssumeRoleThenGetCallerIdentity(b *testing.B) {
	fx := Generate(GenerateOptions{Seed: 1, Accounts: 10_000, OUDepth: 3, OUWidth: 4})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Start(ctx, Options{Fixture: fx})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	admin := sts.NewFromConfig(sdkConfig(srv, DefaultAccessKeyID, DefaultSecretAccessKey, ""))
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fx.Accounts[1+int(next.Add(1))%(len(fx.Accounts)-1)].ID
			out, err := admin.AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::" + id + ":role/" + DefaultRoleName), RoleSessionName: aws.String("bench"),
			})
			if err != nil {
				b.Fatal(err)
			}
			c := out.Credentials
			if _, err := sts.NewFromConfig(sessionConfig(srv, c)).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
